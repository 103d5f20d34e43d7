/* norm.h - BatchNorm2d on the device (kernels in cl/norm.cl, reductions from
 * cl/reduce.cl), with PyTorch semantics.
 *
 * x, y, dy, dx: NCHW tensors with dense H*W planes; channel views
 * (stride[0] = C_total*H*W) and batch views work. C = x->shape[1].
 * gamma, beta, running_mean, running_var, save_mean, save_invstd, dgamma,
 * dbeta: dense vectors with at least C elements (e.g. [C_max] parameters of a
 * weight-sharing supernet, or views into a flat parameter buffer); the ops use
 * elements 0..C-1 from each tensor's offset and leave the rest alone.
 *
 * Training mode normalises with the biased batch variance over N*H*W and
 * updates the running variance with the unbiased one (var * M/(M-1), M =
 * N*H*W), as torch.nn.BatchNorm2d does; M must be > 1.
 *
 * The fused activation `act` is one of INAS_BN_ACT_* (the ACT_* codes of
 * cl/common.cl): y = act(bn(x)). The backward of a fused op takes dy = dL/dy
 * of the activation's output and recomputes bn(x) from x and the saved
 * statistics, so the pre-activation never has to be stored.
 *
 * Cost (minimal traffic, elements of x): training forward reads x twice
 * (statistics, then normalisation) and writes y once; eval forward reads x and
 * writes y; backward reads x and dy twice and writes dx once. */
#ifndef INAS_OPS_NORM_H
#define INAS_OPS_NORM_H

#include "ops/op_util.h"

#define INAS_BN_ACT_NONE 0 /* ACT_NONE */
#define INAS_BN_ACT_RELU 1 /* ACT_RELU */
#define INAS_BN_ACT_SILU 3 /* ACT_SILU */

#define INAS_BN_EPS 1e-5f
#define INAS_BN_MOMENTUM 0.1f

/* Training-mode forward: y = act(gamma * (x - mean) / sqrt(var + eps) + beta)
 * with the batch mean and biased variance of each channel. Writes y
 * (overwrite; y may be x itself), save_mean[c] = mean and save_invstd[c] =
 * 1/sqrt(var + eps) (both may be NULL when no backward follows). When
 * running_mean and running_var are given (both or neither):
 *   running_mean = (1 - momentum) * running_mean + momentum * mean
 *   running_var  = (1 - momentum) * running_var  + momentum * var_unbiased
 * with momentum in [0, 1]; momentum == 1 overwrites (stale values, even NaN,
 * are dropped). */
inas_status inas_op_bn_train_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *gamma,
                                 const inas_tensor *beta, const inas_tensor *running_mean,
                                 const inas_tensor *running_var, float momentum, float eps, int act,
                                 const inas_tensor *y, const inas_tensor *save_mean, const inas_tensor *save_invstd);

/* Eval-mode forward: y = act(gamma * (x - running_mean) / sqrt(running_var +
 * eps) + beta) (overwrite; y may be x). */
inas_status inas_op_bn_eval_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *gamma, const inas_tensor *beta,
                                const inas_tensor *running_mean, const inas_tensor *running_var, float eps, int act,
                                const inas_tensor *y);

/* Training-mode backward, given save_mean/save_invstd from the forward on the
 * same x: with dz = dy * act'(z) (z = bn(x)),
 *   dx = gamma*invstd * (dz - mean(dz) - xhat * mean(dz * xhat))   (OVERWRITE)
 *   dgamma[c] += sum dz * xhat,  dbeta[c] += sum dz                 (ACCUMULATE)
 * xhat = (x - mean) * invstd, means and sums over N*H*W. dx may be NULL (only
 * parameter gradients), dgamma/dbeta may be NULL; dx may alias dy. beta is
 * needed only for a fused activation (may be NULL when act is NONE). */
inas_status inas_op_bn_bwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *dy, const inas_tensor *gamma,
                           const inas_tensor *beta, const inas_tensor *save_mean, const inas_tensor *save_invstd,
                           int act, const inas_tensor *dx, const inas_tensor *dgamma, const inas_tensor *dbeta);

/* BN recalibration (DESIGN.md section 4: momentum 1, batch statistics
 * averaged over batches): for batch number `batch_index` (0, 1, 2, ...) the
 * training forward with momentum 1/(batch_index + 1), i.e. PyTorch's
 * momentum=None cumulative average. After B batches running_mean is the
 * arithmetic mean of the B batch means and running_var the mean of the B
 * unbiased batch variances; batch 0 overwrites whatever was there, so no
 * separate reset is needed. y is written as in training mode (the following
 * layers see batch-normalised activations); y may be NULL to only update
 * the statistics. */
inas_status inas_op_bn_recal_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *gamma,
                                 const inas_tensor *beta, const inas_tensor *running_mean,
                                 const inas_tensor *running_var, int batch_index, float eps, int act,
                                 const inas_tensor *y);

/* The momentum inas_op_bn_recal_fwd uses for batch `batch_index`. */
float inas_bn_recal_momentum(int batch_index);

#endif
