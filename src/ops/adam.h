/* adam.h - the Adam optimiser step on the device (kernel in cl/adam.cl), with
 * torch.optim.Adam semantics (amsgrad off):
 *   g = grad + weight_decay * param            (L2 term only when wd != 0)
 *   m = beta1*m + (1 - beta1)*g
 *   v = beta2*v + (1 - beta2)*g^2
 *   param -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
 * on flat tensors: param, grad, m, v are dense with the same number of
 * elements (any shapes; e.g. views into one flat buffer of a parameter
 * group). m and v start at zero (inas_tensor_fill). The learning rate is a
 * launch parameter, so per-group rates are one call per group. */
#ifndef INAS_OPS_ADAM_H
#define INAS_OPS_ADAM_H

#include "ops/op_util.h"

#define INAS_ADAM_BETA1 0.9
#define INAS_ADAM_BETA2 0.99 /* the iNAS training's betas (torch default 0.999) */
#define INAS_ADAM_EPS 1e-8

/* Host-side hyper-parameters in double, like torch's Python floats: the
 * kernel gets beta and 1 - beta each rounded once to float (as torch's
 * mul_(beta2).addcmul_(g, g, value=1 - beta2) does). */
typedef struct inas_adam_params {
    double lr;           /* learning rate of this group */
    double beta1, beta2; /* 0.9, 0.99 in the iNAS training */
    double eps;          /* 1e-8 */
    double weight_decay; /* 0: none */
    int step;           /* 1 for the first step (bias correction 1 - beta^step) */
    int zero_grad;      /* nonzero: also set grad to 0 in the same pass */
} inas_adam_params;

/* Fills *p with lr and the defaults above (step 1, no decay, no zeroing). */
void inas_adam_defaults(inas_adam_params *p, double lr);

/* One Adam step: updates param, m and v in place (and zeroes grad when
 * hp->zero_grad). grad is read (not accumulated into) otherwise. */
inas_status inas_op_adam_step(inas_ctx *ctx, const inas_tensor *param, const inas_tensor *grad, const inas_tensor *m,
                              const inas_tensor *v, const inas_adam_params *hp);

#endif
