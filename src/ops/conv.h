/* conv.h - dense (groups=1) 2-D convolution, NCHW: the 3x3 stride-2 stem and
 * the 1x1 convolutions (expand/project, head, SE with bias, shortcut).
 *
 * Shapes: x [N, C_in, H, W], weight [C_out, C_in, K, K], y [N, C_out, Ho, Wo]
 * with Ho = (H + 2*pad - K) / stride + 1 (same for Wo). K is taken from the
 * weight. Supported: K = 1 with stride 1 and pad 0 (computed as a GEMM, by the
 * library's own kernels or by CLBlast), and any K in 1..7 with stride 1..4 and
 * 0 <= pad < K (direct kernels; the stem is K=3, stride 2, pad 1).
 *
 * Views: every tensor is a descriptor with offset and strides, so
 *  - the weight may be the first C_out x C_in block of a larger [C_out_max,
 *    C_in_max, K, K] tensor: shape [C_out, C_in, K, K] with stride[0] =
 *    C_in_max*K*K, stride[1] = K*K, stride[2] = K, stride[3] = 1 (a view made
 *    by the caller; the same holds for the weight-gradient tensor);
 *  - activations and their gradients may be channel views of larger tensors
 *    (any stride[0] and stride[1]); rows must be dense: stride[2] = W,
 *    stride[3] = 1;
 *  - bias / bias gradient: C_out consecutive floats from the tensor's offset
 *    (a contiguous tensor or a view of the first C_out entries of a vector).
 * Inputs and outputs must not overlap.
 *
 * Element types: the backward ops take F32 tensors only. The forward also
 * takes F16 tensors (x, weight, bias and y all F16; a mix of types is
 * INAS_ERR_INVALID_ARG): half storage with float arithmetic, or half
 * arithmetic (sums accumulated in half) while the context's half_math is set
 * (devices with cl_khr_fp16). F16 1x1 convolutions always run the own
 * kernels, whatever the GEMM path asked for (CLBlast SGEMM is float).
 *
 * GEMM path (1x1 convolutions only): INAS_GEMM_OWN runs the library's
 * register-blocked OpenCL kernels, INAS_GEMM_CLBLAST runs CLBlast SGEMM (only
 * in builds with INAS_USE_CLBLAST), INAS_GEMM_AUTO resolves through the
 * environment variable INAS_GEMM=own|clblast|auto, then the device rule:
 * CPU devices (PoCL: own kernels are 4-8x faster there) -> own, other
 * devices -> CLBlast when built in, else own. KxK convolutions always use the
 * direct kernels. */
#ifndef INAS_OPS_CONV_H
#define INAS_OPS_CONV_H

#include "inas/runtime.h"
#include "inas/tensor.h"

typedef enum inas_gemm_path {
    INAS_GEMM_AUTO = 0,   /* env INAS_GEMM, then the device rule */
    INAS_GEMM_OWN = 1,    /* the library's OpenCL kernels */
    INAS_GEMM_CLBLAST = 2 /* CLBlast SGEMM (INAS_USE_CLBLAST builds) */
} inas_gemm_path;

/* 1 when this build links CLBlast (INAS_USE_CLBLAST), else 0. */
int inas_op_conv_have_clblast(void);

/* The path a 1x1 convolution on ctx takes for `requested` (never AUTO in the
 * result): OWN/CLBLAST as given (CLBLAST without CLBlast in the build is
 * reported by the ops as INAS_ERR_UNSUPPORTED), AUTO as described above. An
 * unknown INAS_GEMM value is ignored with a warning. */
inas_gemm_path inas_op_conv_gemm_resolve(inas_ctx *ctx, inas_gemm_path requested);

/* Forward: y = act(conv(x, w) + bias). bias may be NULL (no bias); act is an
 * ACT_* code of cl/common.cl (0 none, 1 relu, 2 relu6, 3 silu,
 * 4 sigmoid, 5 hardsigmoid), applied after the bias. Writes (overwrites) y, which the
 * caller allocates with the output shape. */
inas_status inas_op_conv2d_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *w, const inas_tensor *bias,
                               const inas_tensor *y, int stride, int pad, int act, inas_gemm_path path);

/* Backward-data: dx = conv_transpose(dy, w), the gradient of sum(y * dy) for a
 * forward WITHOUT activation with respect to x. OVERWRITES dx [N, C_in, H, W]. */
inas_status inas_op_conv2d_bwd_data(inas_ctx *ctx, const inas_tensor *dy, const inas_tensor *w, const inas_tensor *dx,
                                    int stride, int pad, inas_gemm_path path);

/* Backward-weight: dw[co, ci, ky, kx] += sum_{n, oy, ox} dy[n, co, oy, ox] *
 * x[n, ci, oy*stride - pad + ky, ox*stride - pad + kx]. ACCUMULATES into dw
 * (shape [C_out, C_in, K, K], possibly a sub-block view of a larger gradient). */
inas_status inas_op_conv2d_bwd_weight(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *dy, const inas_tensor *dw,
                                      int stride, int pad, inas_gemm_path path);

/* Bias gradient: db[c] += sum_{n, y, x} dy[n, c, y, x]. ACCUMULATES into db
 * (C_out floats). */
inas_status inas_op_conv2d_bwd_bias(inas_ctx *ctx, const inas_tensor *dy, const inas_tensor *db);

#endif
