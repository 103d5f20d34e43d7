/* activation.h - pointwise activations forward and backward (kernels in
 * cl/activation.cl). PyTorch definitions:
 *   relu(x) = max(x, 0)              relu'   = 1 for x > 0 else 0
 *   relu6(x) = min(max(x, 0), 6)     relu6'  = 1 for 0 < x < 6 else 0
 *   silu(x) = x * sigmoid(x)         silu'   = s * (1 + x * (1 - s)), s = sigmoid(x)
 *   sigmoid(x) = 1 / (1 + e^-x)      sigmoid' = y * (1 - y)
 *   hardsigmoid(x) = relu6(x + 3) / 6  hardsigmoid' = 1/6 for -3 < x < 3 else 0
 * Tensors are NCHW with dense H x W planes; batch and channel strides are free
 * (channel views work for every argument). The forward also takes F16 tensors
 * (x and y of one type, see ops/op_util.h); the backward is F32 only. */
#ifndef INAS_OPS_ACTIVATION_H
#define INAS_OPS_ACTIVATION_H

#include "inas/tensor.h"

/* Activation codes; equal to the ACT_* codes of cl/common.cl (-DACT=n). */
typedef enum inas_act {
    INAS_ACT_NONE = 0,
    INAS_ACT_RELU = 1,
    INAS_ACT_RELU6 = 2,
    INAS_ACT_SILU = 3,
    INAS_ACT_SIGMOID = 4,
    INAS_ACT_HARDSIGMOID = 5
} inas_act;

/* "relu", "silu", ... ("none" for INAS_ACT_NONE, NULL for an unknown code). */
const char *inas_act_name(inas_act act);

/* y = act(x), y the same shape as x; y may be x (in place). Overwrites y. */
inas_status inas_op_act_fwd(inas_ctx *ctx, inas_act act, const inas_tensor *x, const inas_tensor *y);

/* dx = dy * act'(.) elementwise; overwrites dx (dx may be dy, in place).
 * Give x (the forward input) or y (the forward output), whichever you kept:
 * relu accepts either (y > 0 iff x > 0); sigmoid accepts either (uses y when
 * given); relu6, silu and hardsigmoid need x. The other may be NULL. */
inas_status inas_op_act_bwd(inas_ctx *ctx, inas_act act, const inas_tensor *x, const inas_tensor *y,
                            const inas_tensor *dy, const inas_tensor *dx);

#endif
