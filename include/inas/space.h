/* inas/space.h - the integral search space (DESIGN.md §3).
 *
 * A space describes which architectures exist: a stem, INAS_SPACE_STAGES MBConv
 * stages with per-layer width and SMSU kernel-subset choices and a per-stage
 * depth choice, and a head of `num_levels` levels (each the output of one stage)
 * whose transport and decoder fusions choose which levels they connect and their
 * own SMSU kernel subsets. The default space (inas_space_default) is the iNAS
 * reference space; a YAML file can narrow or widen it (inas_space_load).
 *
 * inas_space is a plain value (no heap memory): copy it, put it on the stack.
 *
 * Kernel sets (inas_kset) are bit masks over kernel SIZES: bit k set means the
 * k x k kernel is in the set, e.g. {3,5,7,9} = (1<<3)|(1<<5)|(1<<7)|(1<<9).
 * Sizes are odd, 1..31.
 *
 * Space YAML (every field optional; an absent field keeps the default, so a
 * narrowed space lists only what changes; unknown keys are errors):
 *
 *   stem: {width: [32, 40], step: 4, kernel: 3, stride: 2}
 *   stages:                   # a sequence: entry i overrides stage i+1 ...
 *     - {type: mbconv1, width: [16, 24], step: 4, depth: [1, 2], kernels: [3], stride: 1}
 *     - {}                    # ... ({} keeps the default), at most 7 entries;
 *   # or a mapping keyed by stage number:  stages: {3: {depth: [2, 2]}}
 *   head:
 *     levels: [1, 2, 3, 5, 7] # stage number of each level (level i must have stride 2^(i+1))
 *     kernels: [3, 5, 7, 9]
 *   resolution: {train: [288, 320, 352, 384], eval: 320}
 *
 * `width` and `depth` are [min, max] or a single number (min = max); `type` is
 * mbconvN (expand ratio N), or give `expand: N`. Widths must be multiples of
 * their step; kernel sizes odd; resolutions multiples of the deepest level's
 * stride. Errors name the file, line, column and field. */
#ifndef INAS_SPACE_H
#define INAS_SPACE_H

#include <stdint.h>
#include <stdio.h>

#include "inas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INAS_SPACE_STAGES 7   /* backbone stages (fixed) */
#define INAS_MAX_LEVELS 7     /* head levels, at most one per stage */
#define INAS_MAX_DEPTH 16     /* layers per stage */
#define INAS_MAX_RESOLUTIONS 16
#define INAS_MAX_KERNEL 31    /* largest kernel size a kset can hold */

/* ---- kernel sets ---------------------------------------------------------------------- */

typedef uint32_t inas_kset;

#define INAS_KSET(k) ((inas_kset)1u << (k))
/* Number of kernels in the set. */
int inas_kset_count(inas_kset s);
/* Smallest / largest kernel size in the set (0 for the empty set). */
int inas_kset_min(inas_kset s);
int inas_kset_max(inas_kset s);
/* "3,5,7" into buf (always NUL-terminated); returns buf. */
char *inas_kset_format(inas_kset s, char *buf, size_t len);

/* ---- the space --------------------------------------------------------------------------- */

typedef struct inas_space_stem {
    int width_min, width_max, width_step;
    int kernel; /* conv kernel size (3) */
    int stride; /* 2 */
} inas_space_stem;

typedef struct inas_space_stage {
    int expand;                          /* MBConv expand ratio: 1 (mbconv1) or 6 (mbconv6) */
    int width_min, width_max, width_step; /* per-layer output width choices */
    int depth_min, depth_max;            /* 1 <= min <= max <= INAS_MAX_DEPTH */
    inas_kset kernels;                   /* a layer's SMSU kernels: any non-empty subset */
    int stride;                          /* of the stage's first layer: 1 or 2 */
} inas_space_stage;

typedef struct inas_space {
    inas_space_stem stem;
    inas_space_stage stages[INAS_SPACE_STAGES];
    int num_levels;                   /* head levels (5) */
    int level_stage[INAS_MAX_LEVELS]; /* 0-based stage index of each level ({0,1,2,4,6}) */
    inas_kset head_kernels;           /* each fusion's SMSU kernels: any non-empty subset */
    int num_train_res;
    int train_res[INAS_MAX_RESOLUTIONS]; /* {288,320,352,384} */
    int eval_res;                        /* 320 */
} inas_space;

/* The built-in iNAS reference space (DESIGN.md §3). */
void inas_space_default(inas_space *space);

/* Checks every constraint (ranges, steps, odd kernels, strides of the head
 * levels, resolutions); the message names the field. */
inas_status inas_space_validate(const inas_space *space, inas_error *err);

/* Parses a space YAML document over the defaults. `name` (e.g. the file path)
 * prefixes error messages: "NAME:LINE:COL: stages[3].width: ...". */
inas_status inas_space_parse(const char *text, size_t len, const char *name, inas_space *space,
                             inas_error *err);
/* Reads and parses a space file. */
inas_status inas_space_load(const char *path, inas_space *space, inas_error *err);
/* Writes the space as YAML (every field, loadable by inas_space_parse). */
void inas_space_write_yaml(const inas_space *space, FILE *f);
/* Field-by-field equality. */
int inas_space_equal(const inas_space *a, const inas_space *b);

/* Total stride of a stage's output (stem stride times the strides up to it). */
int inas_space_stage_out_stride(const inas_space *space, int stage);
/* Total stride of a head level: 2^(level+1) in a valid space. */
int inas_space_level_stride(const inas_space *space, int level);
/* Number of width choices of a stage / of the stem. */
int inas_space_stage_widths(const inas_space *space, int stage);
int inas_space_stem_widths(const inas_space *space);
/* Stride of a layer: the stage's stride for layer 0 (the first layer), else 1. */
int inas_space_layer_stride(const inas_space *space, int stage, int layer);
/* Head level whose stage is `stage`, or -1. */
int inas_space_stage_level(const inas_space *space, int stage);

/* ---- size of the space ----------------------------------------------------------------------
 *
 * Independent choices multiply. With W = number of width values, K = number of
 * kernels of a set (2^K - 1 non-empty subsets), L = number of head levels:
 *   stem:        W_stem
 *   stage s:     sum over d in [depth_min, depth_max] of (W_s * (2^K_s - 1))^d
 *   transport i: 2^(L-1) * (2^K_head - 1)          (any subset of the other levels)
 *   decoder i:   2^max(0, L-i-2) * (2^K_head - 1)   (any subset of levels deeper than i+1)
 *   size = W_stem * prod_s stage_s * prod_i transport_i * decoder_i
 * The resolution is not a searched choice (architectures are evaluated at
 * eval_res) and does not count. */

/* Exact count as a double (INFINITY past DBL_MAX). */
double inas_space_size(const inas_space *space);
/* log10 of the count, computed without overflow. */
double inas_space_log10_size(const inas_space *space);
/* Number of distinct configurations of one stage (the sum above). */
double inas_space_stage_size(const inas_space *space, int stage);

#ifdef __cplusplus
}
#endif

#endif
