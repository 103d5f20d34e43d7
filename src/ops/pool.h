/* pool.h - max pooling (kernel = stride = 2, 4, 8 or 16) and 2x2 stride-2
 * average pooling, forward and backward (kernels in cl/pool.cl). The global
 * average pool is in elementwise.h (inas_op_gap_fwd / _bwd).
 *
 * Tensors are NCHW with dense H x W planes; batch and channel strides are free
 * (channel views work for every argument). Outputs are allocated by the
 * caller; the backward ops OVERWRITE dx (activation gradients). The forward
 * ops also take F16 tensors (x and y of one type, see ops/op_util.h; the max
 * pool is exact in half too); the backward ops are F32 only. */
#ifndef INAS_OPS_POOL_H
#define INAS_OPS_POOL_H

#include "inas/tensor.h"

/* Output size of a k x k, stride-k max pool with no padding: floor(H / k) x
 * floor(W / k) as PyTorch's MaxPool2d(k): the last H % k rows and W % k
 * columns are ignored. */
int inas_maxpool_out_size(int in, int k);

/* Max pool, k in {2, 4, 8, 16}, stride k, no padding: y is N x C x H/k x W/k
 * (floored; H and W must be >= k). NaN propagates as in PyTorch. */
inas_status inas_op_maxpool_fwd(inas_ctx *ctx, int k, const inas_tensor *x, const inas_tensor *y);

/* Backward of inas_op_maxpool_fwd: dx = dy at each window's argmax (the first
 * maximum in row-major window order, as PyTorch's CPU kernel picks it;
 * recomputed from x, so nothing is saved by the forward), 0 elsewhere,
 * including the ignored remainder rows/columns. Overwrites dx (shape of x). */
inas_status inas_op_maxpool_bwd(inas_ctx *ctx, int k, const inas_tensor *x, const inas_tensor *dy,
                                const inas_tensor *dx);

/* Options of the 2x2 stride-2 average pool.
 * ceil_mode 0: Ho = floor(H/2) (PyTorch AvgPool2d(2)): an odd last row/column
 *   is ignored.
 * ceil_mode 1: Ho = ceil(H/2), matching a stride-2 'same' convolution (the
 *   MBConv main branch): the partial last window averages only the elements
 *   inside the input.
 * count_include_pad: accepted for PyTorch parity; with padding 0 PyTorch's
 *   divisor is the number of window elements inside the input whatever this
 *   flag says (its pool_size is clipped to H + pad = H), so the results are
 *   the same for 0 and 1: AvgPool2d(2, ceil_mode=True, count_include_pad=X)
 *   for either X. */
typedef struct inas_avgpool_opts {
    int ceil_mode;
    int count_include_pad;
} inas_avgpool_opts;

/* Output size of the 2x2 stride-2 average pool along one axis. */
int inas_avgpool2_out_size(int in, int ceil_mode);

/* 2x2 stride-2 average pool: y is N x C x Ho x Wo (see inas_avgpool_opts;
 * opts NULL means floor mode). Overwrites y. */
inas_status inas_op_avgpool2_fwd(inas_ctx *ctx, const inas_avgpool_opts *opts, const inas_tensor *x,
                                 const inas_tensor *y);

/* Backward: dx[h,w] = dy[h/2, w/2] / (valid elements of that window); 0 for
 * the ignored row/column in floor mode. Overwrites dx. */
inas_status inas_op_avgpool2_bwd(inas_ctx *ctx, const inas_avgpool_opts *opts, const inas_tensor *dy,
                                 const inas_tensor *dx);

#endif
