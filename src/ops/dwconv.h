/* dwconv.h - depthwise convolution and the SMSU kernel transform (internal).
 *
 * Tensors are NCHW float32 inas_tensor descriptors; activations may be channel
 * views (stride[0] != C*H*W). Rows must have unit stride. The forward also
 * takes F16 tensors (all of x, w, bias, y; half storage with float
 * arithmetic, or half arithmetic while the context's half_math is set).
 *
 * The weight of a depthwise convolution of kernel size k is given as a tensor
 * `w` of shape [Cw, 1, Kw, Kw] with Cw >= C and Kw >= k, Kw - k even: the op
 * uses the first C channels and the centre k x k crop, i.e. tap (kh, kw) of
 * channel c is w[c, 0, o + kh, o + kw] with o = (Kw - k) / 2. This is the
 * supernet's shared largest weight [C_max, 1, Kmax, Kmax] (or a channel view
 * of it) used without copying; a plain [C, 1, k, k] weight is the case
 * Cw = C, Kw = k. Weight gradients are accumulated into the same positions of
 * a tensor of the same kind (typically the gradient of the full weight).
 *
 * Convolution: 'same' padding p = (k / 2) * dilation on every side, stride 1
 * or 2, output size inas_dwconv_out_size(H) = floor((H + 2p - (k-1)*dilation
 * - 1) / stride) + 1, which is H for stride 1 and ceil(H / 2) for stride 2
 * (as PyTorch's Conv2d(groups=C, padding=k//2*dilation)). Supported: odd k in
 * 1..INAS_DWCONV_KMAX, stride 1 or 2, dilation 1..4. */
#ifndef INAS_OPS_DWCONV_H
#define INAS_OPS_DWCONV_H

#include "inas/runtime.h"
#include "inas/tensor.h"

#define INAS_DWCONV_KMAX 15

/* Output height (or width) of a depthwise conv over size h; -1 when the
 * parameters are unsupported. */
int inas_dwconv_out_size(int h, int k, int stride, int dilation);

/* Forward: y = act(dwconv(x, crop_k(w)) + bias), written (overwrites y).
 *   x     [N, C, H, W]          (channel views allowed)
 *   w     [Cw, 1, Kw, Kw]       first C channels, centre k x k crop used
 *   bias  NULL or a contiguous tensor of at least C values (bias[c] at
 *         offset + c); for reparameterised inference
 *   act   ACT_* code of cl/common.cl (0 none, 1 relu, 2 relu6, 3 silu,
 *         4 sigmoid, 5 hardsigmoid), applied after the bias
 *   y     [N, C, Ho, Wo] with Ho = inas_dwconv_out_size(H), Wo likewise. */
inas_status inas_op_dwconv_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *w, int k, int stride,
                               int dilation, const inas_tensor *bias, int act, const inas_tensor *y);

/* Backward-data: dx = d(sum(dy * conv(x)))/dx, OVERWRITES dx.
 *   dy [N, C, Ho, Wo]: gradient of the convolution's output before any bias
 *      and activation (the caller applies the activation's derivative);
 *   w  as in the forward (first C channels, centre crop);
 *   dx [N, C, H, W] with inas_dwconv_out_size(H) == Ho (H is taken from dx:
 *      for stride 2 both 2*Ho and 2*Ho - 1 are valid input heights). */
inas_status inas_op_dwconv_bwd_data(inas_ctx *ctx, const inas_tensor *dy, const inas_tensor *w, int k, int stride,
                                    int dilation, const inas_tensor *dx);

/* Backward-weight: dw[c, 0, o+kh, o+kw] += sum_{n, oh, ow} dy[n, c, oh, ow] *
 * x[n, c, oh*stride - p + kh*dilation, ow*stride - p + kw*dilation] (zero
 * outside the image), ACCUMULATES into the centre k x k crop of the first C
 * channels of dw; other positions are left untouched.
 *   x  [N, C, H, W], dy [N, C, Ho, Wo], dw [Cw, 1, Kw, Kw] (Cw >= C, Kw >= k,
 *      Kw - k even). May use a pooled scratch buffer of chunks*C*k*k floats
 *      for a two-stage reduction. */
inas_status inas_op_dwconv_bwd_weight(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *dy, int k, int stride,
                                      int dilation, const inas_tensor *dw);

/* SMSU kernel transform of branch k (DESIGN section 3). With w[c] the centre
 * k x k crop of channel c of the shared weight flattened row-major into a
 * column vector of k2 = k*k values, and M a k2 x k2 matrix stored row-major:
 *     wt[c] = M w[c]        (wt[c][i] = sum_j M[i*k2 + j] * w[c][j])
 * for the first C channels. Identity M gives the plain crop.
 *   w   [Cw, 1, Kw, Kw] (Cw >= C, Kw >= k, Kw - k even; channel views allowed)
 *   m   contiguous tensor of k2*k2 floats (any shape with that many elements)
 *   wt  [C, 1, k, k] (written; C is taken from wt). */
inas_status inas_op_smsu_fwd(inas_ctx *ctx, const inas_tensor *w, int k, const inas_tensor *m,
                             const inas_tensor *wt);

/* SMSU backward, given dwt = dL/dwt of shape [C, 1, k, k]:
 *   dm  += sum_c dwt[c] w[c]^T   (dm[i*k2 + j] += sum_c dwt[c][i] * w[c][j])
 *   dw  crop of the first C channels += M^T dwt[c]
 * Both ACCUMULATE. dm (contiguous, k2*k2 floats) or dw ([Cw', 1, Kw', Kw']
 * with the same crop rule as w) may be NULL to skip that gradient. */
inas_status inas_op_smsu_bwd(inas_ctx *ctx, const inas_tensor *w, int k, const inas_tensor *m,
                             const inas_tensor *dwt, const inas_tensor *dm, const inas_tensor *dw);

#endif
