/* elementwise.h - pointwise arithmetic, channel-wise (SE) multiply and global
 * average pooling (kernels in cl/elementwise.cl).
 *
 * Tensors are NCHW with dense H x W planes; batch and channel strides are
 * free, so channel views (stride[0] = C_total*H*W) work for every tensor
 * argument. Per-(n, c) tensors (SE scales, pooled maps) have shape N x C x 1 x 1
 * (any strides). Outputs are allocated by the caller.
 * Element types: F32; the forward ops of the inference engine (add, mean,
 * se_mul_fwd, gap_fwd) also take F16 tensors, every operand of a call of one
 * type (see ops/op_util.h); the global average pool sums in float even with
 * half arithmetic. */
#ifndef INAS_OPS_ELEMENTWISE_H
#define INAS_OPS_ELEMENTWISE_H

#include "inas/tensor.h"

/* How many tensors one kernel launch sums or writes; inas_op_mean and
 * inas_op_mean_bwd take any k, in launches of up to this many. */
#define INAS_OP_MEAN_MAX 8

/* out = a + b (same shapes). out may be a or b. Overwrites out. */
inas_status inas_op_add(inas_ctx *ctx, const inas_tensor *a, const inas_tensor *b, const inas_tensor *out);

/* dst += src (same shapes): accumulating gradients. */
inas_status inas_op_accumulate(inas_ctx *ctx, const inas_tensor *src, const inas_tensor *dst);

/* out = s * x. out may be x. Overwrites out. */
inas_status inas_op_scale(inas_ctx *ctx, float s, const inas_tensor *x, const inas_tensor *out);

/* out = (xs[0] + ... + xs[k-1]) / k, k >= 1, all the same shape. Overwrites
 * out; out may be one of xs when k <= INAS_OP_MEAN_MAX (one launch). With
 * F16 tensors and k > INAS_OP_MEAN_MAX the partial mean of each launch is
 * stored (rounded to half) in out. */
inas_status inas_op_mean(inas_ctx *ctx, const inas_tensor *const *xs, int k, const inas_tensor *out);

/* Backward of inas_op_mean over k inputs: dxs[j] = dy / k for j < k, or
 * dxs[j] += dy / k when accumulate is non-zero. The dxs must be distinct and
 * must not alias dy (dxs[0] may be dy when k <= INAS_OP_MEAN_MAX and
 * accumulate is 0). */
inas_status inas_op_mean_bwd(inas_ctx *ctx, const inas_tensor *dy, int k, const inas_tensor *const *dxs,
                             int accumulate);

/* SE channel-wise multiply: y[n,c,h,w] = x[n,c,h,w] * s[n,c] with s of shape
 * N x C x 1 x 1. y may be x. Overwrites y. */
inas_status inas_op_se_mul_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *s, const inas_tensor *y);

/* Backward of inas_op_se_mul_fwd: dx = dy * s[n,c] and ds[n,c] = sum_hw dy * x,
 * in one pass over dy and x. Both are overwritten (activation gradients);
 * either may be NULL to skip it. dx may be dy; dx must not be x. */
inas_status inas_op_se_mul_bwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *s, const inas_tensor *dy,
                               const inas_tensor *dx, const inas_tensor *ds);

/* Global average pool: y[n,c] = mean over h,w of x[n,c,h,w]; y is N x C x 1 x 1.
 * Overwrites y. */
inas_status inas_op_gap_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *y);

/* Backward of the global average pool: dx[n,c,h,w] = dy[n,c] / (H*W).
 * Overwrites dx (N x C x H x W); dy is N x C x 1 x 1. */
inas_status inas_op_gap_bwd(inas_ctx *ctx, const inas_tensor *dy, const inas_tensor *dx);

#endif
