/* resize.h - bilinear and nearest resizing to any output size, forward and
 * backward, with PyTorch F.interpolate semantics (kernels in cl/resize.cl).
 *
 * Along each axis with input size `in` and output size `out`:
 *  bilinear, align_corners=1: scale = out > 1 ? (in-1)/(out-1) : 0,
 *      src = scale * o;
 *  bilinear, align_corners=0: scale = in/out, src = max(scale*(o+0.5) - 0.5, 0);
 *      then i0 = (int)src, i1 = i0 + (i0 < in-1), l1 = src - i0, and
 *      out = (1-l1) x[i0] + l1 x[i1] (separably in H and W); in == out copies;
 *  nearest ('nearest', not 'nearest-exact'): i = min(floor(o * scale), in-1)
 *      with scale = in/out in float (out == in and out == 2*in exactly as
 *      PyTorch's special cases).
 * Scales are computed from the sizes in float, as PyTorch does for size=...
 * (and for scale_factor=f when out = in*f, f a power of two or any f with
 * recompute_scale_factor=True).
 * Tensors are NCHW with dense H x W planes; batch and channel strides are free
 * (channel views work). The forward also takes F16 tensors (x and y of one
 * type, see ops/op_util.h: half storage, with float or half interpolation;
 * indices and weights are computed in float either way); the backward is F32
 * only. The backward is separable and
 * deterministic (no atomics; OpenCL 1.2 has no float atomics): first the
 * output rows are summed into each input row with their row weights, then the
 * columns are distributed over input columns inside one work-item (CPUs: a
 * work-item owns whole rows of dx; elsewhere two gather kernels through a
 * pooled N*C x H x Wo scratch). It OVERWRITES dx. */
#ifndef INAS_OPS_RESIZE_H
#define INAS_OPS_RESIZE_H

#include "inas/tensor.h"

typedef enum inas_resize_mode { INAS_RESIZE_BILINEAR = 0, INAS_RESIZE_NEAREST = 1 } inas_resize_mode;

/* y (N x C x Ho x Wo, any Ho, Wo >= 1) = resize of x (N x C x H x W).
 * align_corners only matters for bilinear. Overwrites y. */
inas_status inas_op_resize_fwd(inas_ctx *ctx, inas_resize_mode mode, int align_corners, const inas_tensor *x,
                               const inas_tensor *y);

/* Backward: dx (N x C x H x W) from dy (N x C x Ho x Wo). Overwrites dx. */
inas_status inas_op_resize_bwd(inas_ctx *ctx, inas_resize_mode mode, int align_corners, const inas_tensor *dy,
                               const inas_tensor *dx);

/* The float scale used along an axis (exposed for references and tests). */
float inas_resize_scale(inas_resize_mode mode, int align_corners, int in, int out);

#endif
