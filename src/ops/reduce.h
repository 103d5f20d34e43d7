/* reduce.h - reductions over NCHW tensors (kernels in cl/reduce.cl), and the
 * launch geometry they share with the norm, loss and adam families.
 *
 * All reductions are two-stage: stage 1 gives each work-group a contiguous
 * range of the reduced index and writes one partial per group into a pooled
 * scratch buffer; stage 2 combines the partials on the device. Per-channel
 * statistics use shifted sums within blocks of at most BLK*VEC elements per
 * work-item, merged with Chan's parallel (count, mean, M2) combine, so the
 * variance of 8x320x320 = 819200 values per channel keeps ~1e-6 relative
 * accuracy even when |mean| >> std.
 *
 * Tensors: NCHW with dense H*W planes (stride[3] == 1, stride[2] == W); any
 * stride[0]/stride[1], so channel and batch views work. Output vectors
 * (`out`, `mean`, `var`) are tensors with at least C elements, dense; the op
 * uses elements 0..C-1 (from the tensor's offset). */
#ifndef INAS_OPS_REDUCE_H
#define INAS_OPS_REDUCE_H

#include "ops/op_util.h"

/* out[c] = sum over n,h,w of x[n,c,h,w] (accumulate != 0: out[c] += ...). */
inas_status inas_op_channel_sum(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *out, int accumulate);

/* out[c] = sum over n,h,w of x*y (same shapes; accumulate != 0: +=). Useful
 * for per-channel scale gradients. */
inas_status inas_op_channel_dot(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *y, const inas_tensor *out,
                                int accumulate);

/* mean[c] and biased (population) variance var[c] over n,h,w (overwrite). */
inas_status inas_op_channel_stats(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *mean,
                                  const inas_tensor *var);

/* out[0] = scale * sum of every element of x (out: a tensor of >= 1 element,
 * e.g. a 1-element view into a vector of losses; overwrite). */
inas_status inas_op_sum(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *out, float scale);

/* ---- shared by the norm, loss and adam families (internal) ------------------ */

/* Launch geometry for the device: work-group size, vector width, and the
 * element range a work-group handles. CPUs get one work-item per group
 * streaming float16 vectors; other devices 256 work-items interleaving float4
 * vectors. Env INAS_NORM_GEOM=cpu|gpu forces either (for testing both code
 * paths on one device). */
typedef struct nr_geom {
    int lws;          /* work-group size (power of two) */
    int vec;          /* vector width in the kernels */
    int blk;          /* vector iterations accumulated in float before a merge */
    long min_chunk;   /* smallest range per work-group */
    long flat_chunk;  /* range per work-group of element-wise passes */
    int min_groups;   /* work-groups wanted at least (parallelism) */
} nr_geom;
void nr_geom_get(inas_ctx *ctx, nr_geom *g);
/* "-DLWS=.. -DVEC=.. -DBLK=.." for the geometry. */
const char *nr_geom_opts(const nr_geom *g, char *buf, size_t len);

/* Per-channel split of a reduction over M = N*HW elements per channel for C
 * channels: G groups per channel, `chunk` elements each, or (G == 1) cpg
 * channels per group. */
typedef struct nr_split {
    int G, cpg, chunk, cgroups;
} nr_split;
void nr_split_channels(const nr_geom *g, long M, int C, nr_split *s);
/* Range split of T elements for an element-wise pass: groups and chunk. */
void nr_split_flat(const nr_geom *g, long T, int *groups, int *chunk);

/* Checks that x is a 4-D tensor with dense planes; message names op/name. */
inas_status nr_check_planes(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *x);
/* Checks that v is a dense vector tensor with at least c elements (x, when
 * not NULL, is the tensor whose channels they are: named in the message). */
inas_status nr_check_vec(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *v, int c,
                         const inas_tensor *x);

/* Enqueues chan_stats_part over x; *part (pool scratch, release with
 * inas_pool_release(ctx, *block)) gets C*G (count, mean, M2) triples. */
inas_status nr_stats_partials(inas_ctx *ctx, const nr_geom *g, const inas_tensor *x, cl_mem *part, void **block,
                              int *G);
/* Enqueues reduce.cl's sum_final: out[off] = scale * sum(part[0..G)). */
inas_status nr_sum_final(inas_ctx *ctx, const nr_geom *g, cl_mem part, int G, float scale, cl_mem out, size_t off);

#endif
