/* inas/supernet.h - the weight-sharing supernet of a search space (DESIGN.md
 * section 3): one set of parameters sized for the largest network, on which
 * any architecture of the space runs forward and backward.
 *
 * Sharing: an architecture uses the first `width` channels of every tensor,
 * the first `depth` layers of every stage, the centre k x k crop of each
 * SMSU's largest depthwise weight times that branch's own k^2 x k^2 transform,
 * and only the fusion branches it connects. Only the parameters it touches
 * receive gradients.
 *
 * Modules (SiLU unless said, BN eps 1e-5, momentum 0.1 in training):
 *   stem       conv3x3 s2 p1 -> BN -> SiLU
 *   MBConv     [1x1 conv to e*in -> BN -> SiLU, skipped when e = 1] -> SMSU(stride)
 *              -> SiLU -> SE -> 1x1 conv to out -> BN (gamma 0 at init) -> + shortcut
 *              SE: global mean -> 1x1 conv+bias to mid/4 -> ReLU -> 1x1 conv+bias ->
 *              hardsigmoid -> channel-wise multiply. Shortcut: identity, or 2x2
 *              average pool (ceil mode) when stride 2, then a 1x1 conv (no BN)
 *              when the channel counts differ.
 *   SMSU       mean over the chosen kernels k of BN_k(dwconv(x, M_k crop_k(W)))
 *   transport  level i: mean of branches (j = i identity; j > i: 1x1 -> BN ->
 *              bilinear up; j < i: max pool -> 1x1 -> BN) = x; SMSU -> 1x1 -> BN
 *              -> SiLU -> SMSU -> 1x1 -> BN; + x; SiLU
 *   decoder    level i from the deepest down: mean of (i: the transport output;
 *              j > i: the decoder output of j -> 1x1 -> BN -> SiLU -> bilinear up)
 *              -> SMSU -> 1x1 -> BN -> SiLU
 *   output i   1x1 conv (no bias) to 1 channel -> sigmoid -> bilinear up to the input
 * All bilinear resizes use align_corners = true.
 * Parameter names mirror this tree, PyTorch style: "stem.conv.weight",
 * "backbone.stage3.1.smsu.transform5", "head.decoder0.bn.running_var", ... */
#ifndef INAS_SUPERNET_H
#define INAS_SUPERNET_H

#include "inas/arch.h"
#include "inas/runtime.h"
#include "inas/space.h"
#include "inas/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct inas_supernet inas_supernet;

/* Creates the parameters of `space` on ctx, initialised from `seed` (PyTorch's
 * default conv init, BN gamma 1 / beta 0, transforms identity, the last BN of
 * each MBConv gamma 0). */
inas_status inas_supernet_create(inas_ctx *ctx, const inas_space *space, uint64_t seed, inas_supernet **out);
void inas_supernet_destroy(inas_supernet *net);
const inas_space *inas_supernet_space(const inas_supernet *net);
inas_ctx *inas_supernet_ctx(const inas_supernet *net);

/* Number of named parameter tensors, their names and shapes. */
size_t inas_supernet_num_tensors(const inas_supernet *net);
const char *inas_supernet_tensor_name(const inas_supernet *net, size_t i);
/* Trainable scalars (all parameters except BN running statistics). */
size_t inas_supernet_num_params(const inas_supernet *net);

typedef enum inas_pass {
    INAS_PASS_TRAIN = 0, /* BN batch statistics (running stats updated), recorded for backward */
    INAS_PASS_EVAL,      /* BN running statistics, nothing recorded */
    INAS_PASS_RECAL      /* BN batch statistics averaged into the running stats (momentum 1 schedule) */
} inas_pass;

/* Runs `arch` on x [N, 3, R, R] (R = any multiple of the deepest level's stride).
 * outputs[i], i < the space's num_levels, receive N x 1 x R x R saliency
 * probabilities (views of tensors owned by the supernet, valid until the next
 * forward). recal_batch is the batch index in a recalibration sequence (0
 * starts a new average). */
inas_status inas_supernet_forward(inas_supernet *net, const inas_arch *arch, const inas_tensor *x, inas_pass pass,
                                  int recal_batch, inas_tensor *outputs);
/* After a training forward: given dL/d output_i (NULL for outputs without a
 * loss), ACCUMULATES the parameter gradients. */
inas_status inas_supernet_backward(inas_supernet *net, const inas_tensor *const *doutputs);
inas_status inas_supernet_zero_grad(inas_supernet *net);
/* One Adam step with learning rates for the backbone and the head. */
inas_status inas_supernet_adam_step(inas_supernet *net, double lr_backbone, double lr_head, double beta1, double beta2);

/* Host access to a parameter (value or gradient) by name, for tests and
 * tools: copies all its elements (count in *n when not NULL). */
inas_status inas_supernet_read_param(inas_supernet *net, const char *name, int grad, float *host, size_t *n);
inas_status inas_supernet_write_param(inas_supernet *net, const char *name, const float *host);
/* Shape of a parameter: returns ndim (0 when there is no such parameter). */
int inas_supernet_param_shape(const inas_supernet *net, const char *name, int shape[4]);

#ifdef __cplusplus
}
#endif

#endif
