/* bench_ops.h - the harness behind `inas bench ops`: device peak and bandwidth,
 * timing with medians, result rows (table or JSON), and the stage shapes of the
 * default search space. Each kernel family adds its cases in its own
 * bench_ops_FAMILY.c through a bench_ops_family_* function listed below. */
#ifndef INAS_TOOLS_BENCH_OPS_H
#define INAS_TOOLS_BENCH_OPS_H

#include "inas/runtime.h"
#include "inas/tensor.h"

typedef struct bench_ops bench_ops;

inas_ctx *bench_ops_ctx(bench_ops *b);
/* True when the op name passes --filter (substring; no filter: all). */
int bench_ops_selected(const bench_ops *b, const char *op);
/* The batch sizes and input resolutions asked for (--batch, --res). */
int bench_ops_batches(const bench_ops *b, const int **v);
int bench_ops_resolutions(const bench_ops *b, const int **v);
/* True with --quick: families should time fewer shapes. */
int bench_ops_quick(const bench_ops *b);

/* Times fn: warm-up runs, then timed runs (each followed by clFinish), and
 * records op/shape with the median ms and the GFLOP/s and GB/s that flops and
 * bytes give. fn returns 0 on success; on failure the row is skipped with a
 * message and 1 is returned. */
int bench_ops_time(bench_ops *b, const char *op, const char *shape, double flops, double bytes,
                   int (*fn)(void *user), void *user);

/* One MBConv stage of the default space at its largest widths. */
typedef struct bench_stage {
    int stage;       /* 1..7 */
    int cin, cout;   /* input and output channels of the stage's first layer */
    int hidden;      /* expanded channels (expand ratio x cin) */
    int stride;
    int kmax;        /* largest depthwise kernel */
    int h_in, h_out; /* spatial size (square) for the given input resolution */
} bench_stage;
/* Fills the seven stages for input resolution res; returns 7. */
int bench_stage_shapes(int res, bench_stage out[7]);

/* Families. */
void bench_ops_family_conv(bench_ops *b);
void bench_ops_family_dwconv(bench_ops *b);
void bench_ops_family_norm(bench_ops *b);
void bench_ops_family_elem(bench_ops *b);

#endif
