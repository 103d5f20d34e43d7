/* inas/model.h - exported models: an architecture of the search space with
 * the supernet's weights, BatchNorm folded and every SMSU merged into one
 * depthwise kernel with bias (DESIGN.md sections 1 and 3), and a forward-only
 * inference engine for it.
 *
 * Export (no retraining): inas_model_export slices the architecture's weights
 * out of a supernet (first channels, first layers, centre crops times each
 * branch's transform), folds every BN into the conv before it (weight*g/s,
 * bias b - m*g/s with s = sqrt(var + 1e-5)) and merges each SMSU's folded
 * branches (zero-padded centred to the largest active kernel, averaged). The
 * folding and merging run as OpenCL kernels (cl/reparam.cl). Recalibrate the
 * BN statistics for the architecture first (inas_recalibrate) when the
 * supernet's running statistics are not the architecture's own.
 *
 * Model directory: `arch.yaml` (inas_arch_save form) and
 * `weights.safetensors` (F32, PyTorch-style names mirroring the module tree,
 * e.g. "stem.conv.weight", "stem.conv.bias", "backbone.stage3.0.smsu.weight"
 * [C,1,K,K] and ".smsu.bias" (merged), ".smsu.branch5.weight"/".bias" (the
 * folded single branches, for the unmerged form), "head.output0.weight"). The
 * search space is stored in the weights' metadata ("inas.space", YAML). Both
 * files are written atomically.
 *
 * Inference: the network is planned once per input size (a list of layers
 * with preallocated device buffers, reused from layer to layer as soon as a
 * value is dead) and runs forward-only kernels with fused bias and activation.
 * Only the level-0 output is computed: 1x1 conv -> sigmoid -> bilinear
 * upsampling (align_corners) to the input size. Precision (inas_precision,
 * inas_model_set_precision): fp32 by default; fp16-storage keeps weights and
 * activations as half (float arithmetic, any device); fp16 also computes in
 * half (devices with cl_khr_fp16). The caller's input and output tensors are
 * float in every precision (converted on the device). */
#ifndef INAS_MODEL_H
#define INAS_MODEL_H

#include "inas/arch.h"
#include "inas/runtime.h"
#include "inas/space.h"
#include "inas/supernet.h"
#include "inas/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct inas_model inas_model;

/* Exports `arch` from the supernet (its current BN statistics) into a new
 * model on the supernet's context. */
inas_status inas_model_export(inas_supernet *net, const inas_arch *arch, inas_model **out);
/* Writes MODEL_DIR/arch.yaml and MODEL_DIR/weights.safetensors (the directory
 * is created when missing). */
inas_status inas_model_save(const inas_model *m, const char *dir, inas_error *err);
/* Loads a model directory onto ctx. Every weight the architecture needs must
 * be present with its exact shape; errors name the file and the tensor. */
inas_status inas_model_load(inas_ctx *ctx, const char *dir, inas_model **out, inas_error *err);
void inas_model_destroy(inas_model *m);

const inas_arch *inas_model_arch(const inas_model *m);
const inas_space *inas_model_space(const inas_model *m);
inas_ctx *inas_model_ctx(const inas_model *m);

/* Sets the precision of the inference kernels (default INAS_PRECISION_FP32).
 * INAS_PRECISION_FP16 on a device without cl_khr_fp16 fails with
 * INAS_ERR_UNSUPPORTED and a message naming the device; the model keeps its
 * precision. Takes effect at the next forward (re-plans; the half copies of
 * the weights are made once, on the device, rounding to nearest even). */
inas_status inas_model_set_precision(inas_model *m, inas_precision precision);
inas_precision inas_model_precision(const inas_model *m);

/* Runs the SMSUs as their separate folded branches (dwconv + bias each, then
 * the mean) instead of the merged kernel: the multi-branch form, for
 * comparison. Takes effect at the next forward (re-plans). */
void inas_model_set_unmerged(inas_model *m, int unmerged);

/* Forward on the device: x [N, 3, R, R] normalised input (R a multiple of the
 * deepest stride), y [N, 1, R, R] saliency probabilities (caller-allocated).
 * Plans (and allocates) on the first call for an (N, R) and reuses the plan. */
inas_status inas_model_forward(inas_model *m, const inas_tensor *x, const inas_tensor *y);

/* One image: an interleaved 8-bit RGB buffer of width x height is resized
 * (bilinear) to the model's resolution, normalised (ImageNet mean/std), run,
 * and the map is resized back: map receives width*height floats in [0, 1].
 * The device tensors and host buffers at the model's resolution are made on
 * the first call and reused (only the 8-bit resize's per-size temporaries
 * are allocated per call). */
inas_status inas_model_predict_rgb(inas_model *m, const unsigned char *rgb, int width, int height, float *map);

typedef struct inas_model_info {
    int layers;          /* convolutions (dense and depthwise) of the inference network */
    size_t params;       /* scalars of the weights the merged network uses */
    double macs;         /* multiply-accumulates of one forward at the resolution below */
    int resolution;
    int buffers;             /* device buffers the plan allocates for activations (batch 1) */
    size_t buffer_bytes;     /* their total size (at the model's precision) */
    size_t unplanned_bytes;  /* the size of all intermediate values without reuse, for comparison */
} inas_model_info;
/* Counts for a forward at `resolution` (0: the architecture's resolution). */
inas_status inas_model_get_info(inas_model *m, int resolution, inas_model_info *out);

/* One block of the inference network ("stem", "stage3.1", "transport0",
 * "decoder2", "output"): multiply-accumulates of its convolutions (batch 1)
 * and the scalars of the weights it uses. */
typedef struct inas_model_block {
    char name[32];
    double macs;
    size_t params;
} inas_model_block;
/* Fills up to cap blocks in network order; *count gets the number of blocks. */
inas_status inas_model_get_blocks(inas_model *m, int resolution, inas_model_block *blocks, int cap, int *count);

/* Per-layer timing of one forward (each layer followed by a queue finish):
 * names[i] ("stem", "stage3.1", "transport0", "decoder2", "output") and ms[i]
 * for i < *count (at most `cap`); the x/y arguments are as for forward. */
inas_status inas_model_profile(inas_model *m, const inas_tensor *x, const inas_tensor *y, char (*names)[32],
                               double *ms, int cap, int *count);

#ifdef __cplusplus
}
#endif

#endif
