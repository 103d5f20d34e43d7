/* loss.h - losses with their gradients on the device (kernels in cl/loss.cl).
 *
 * Every loss takes a prediction p and a target t of the same NCHW shape
 * (dense H*W planes; views work), uses the mean reduction over all elements,
 * and in one pass over the data:
 *   - writes the weighted mean loss  weight * mean(l)  into loss[0] (a tensor
 *     of >= 1 element, e.g. a 1-element view into a vector of per-level
 *     losses; OVERWRITE), left on the device; when host_loss is not NULL it is
 *     also read back (blocking);
 *   - when grad is not NULL, writes  grad = weight * dl/dp / numel  (the
 *     gradient of the weighted mean; OVERWRITE; grad may alias p or t).
 * `weight` is the loss term's weight (the training uses 1 for level 0 and 0.4
 * for the other levels). The loss tensor may be NULL when host_loss is given.
 *
 * BCE on probabilities follows torch.nn.BCELoss: each log term is clamped to
 * >= -100, so p = 0 and p = 1 give finite losses (at most 100 per element);
 * its gradient is torch's (p - t) / max(p*(1-p), 1e-12), finite at p = 0, 1.
 * Inputs outside [0, 1] give NaN as in torch (which raises instead). */
#ifndef INAS_OPS_LOSS_H
#define INAS_OPS_LOSS_H

#include "ops/op_util.h"

/* Binary cross-entropy on probabilities p in [0, 1], targets t in [0, 1]. */
inas_status inas_op_bce_loss(inas_ctx *ctx, const inas_tensor *p, const inas_tensor *t, float weight,
                             const inas_tensor *loss, float *host_loss, const inas_tensor *grad);

/* Binary cross-entropy on logits z (sigmoid fused, torch BCEWithLogitsLoss):
 * l = max(z,0) - z*t + log(1 + exp(-|z|)) (stable for any z);
 * grad = weight * (sigmoid(z) - t) / numel with respect to z. */
inas_status inas_op_bce_logits_loss(inas_ctx *ctx, const inas_tensor *z, const inas_tensor *t, float weight,
                                    const inas_tensor *loss, float *host_loss, const inas_tensor *grad);

/* Mean squared error: l = (p - t)^2; grad = weight * 2 (p - t) / numel. */
inas_status inas_op_mse_loss(inas_ctx *ctx, const inas_tensor *p, const inas_tensor *t, float weight,
                             const inas_tensor *loss, float *host_loss, const inas_tensor *grad);

#endif
