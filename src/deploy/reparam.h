/* reparam.h - host side of the export-time reparameterisation kernels
 * (cl/reparam.cl): BN folding and SMSU branch merging (internal). */
#ifndef INAS_DEPLOY_REPARAM_H
#define INAS_DEPLOY_REPARAM_H

#include "ops/op_util.h"

/* Folds an eval-mode BN (gamma, beta, running mean/var: vectors with at least
 * C_out elements from their offsets) into a conv weight w [C_out, C_in, K, K]
 * (a leading-block view of a larger weight is fine: inner dims dense):
 *   wo = w * s (per output channel), bo = beta - mean * s, s = gamma/sqrt(var+eps).
 * wo: contiguous, C_out*C_in*K*K floats; bo: contiguous, C_out floats. */
inas_status inas_op_bn_fold(inas_ctx *ctx, const inas_tensor *w, const inas_tensor *gamma, const inas_tensor *beta,
                            const inas_tensor *mean, const inas_tensor *var, float eps, const inas_tensor *wo,
                            const inas_tensor *bo);

/* Accumulates one folded SMSU branch into the merged kernel:
 *   W[c] += scale * pad_K(wk[c]),  B[c] += scale * bk[c]
 * wk [C, 1, k, k] and bk [C] contiguous, W [C, 1, K, K] and B [C] contiguous,
 * k <= K, K - k even. */
inas_status inas_op_smsu_merge_acc(inas_ctx *ctx, const inas_tensor *wk, const inas_tensor *bk, int k, float scale,
                                   const inas_tensor *W, const inas_tensor *B);

#endif
