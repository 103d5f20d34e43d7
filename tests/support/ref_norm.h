/* ref_norm.h - plain-C double-precision references for the norm family:
 * BatchNorm2d (training, eval, fused activation), losses and Adam. Arrays are
 * dense NCHW. */
#ifndef INAS_TEST_REF_NORM_H
#define INAS_TEST_REF_NORM_H

#include <stddef.h>

/* Activation codes as in cl/common.cl: 0 none, 1 relu, 3 silu. */

/* Per-channel mean and biased variance over N*H*W. */
void ref_channel_stats(const double *x, int N, int C, int HW, double *mean, double *var);

/* Training-mode BN + activation: y = act(gamma*(x-mean)/sqrt(var+eps)+beta).
 * mean/var (biased) may be NULL. */
void ref_bn_train(const double *x, int N, int C, int HW, const double *gamma, const double *beta, double eps, int act,
                  double *y, double *mean, double *var);
/* Eval-mode BN + activation with running statistics. */
void ref_bn_eval(const double *x, int N, int C, int HW, const double *gamma, const double *beta, const double *rmean,
                 const double *rvar, double eps, int act, double *y);

/* Training-mode backward of act(bn(x)) for upstream gradient dy (analytic):
 * dx, and dgamma/dbeta (overwritten). */
void ref_bn_bwd(const double *x, const double *dy, int N, int C, int HW, const double *gamma, const double *beta,
                double eps, int act, double *dx, double *dgamma, double *dbeta);

/* Losses: mean over n elements; the gradient of the mean (times weight) into
 * grad when not NULL. kind: 1 BCE (torch clamps), 2 MSE, 3 BCE with logits. */
double ref_loss(int kind, const double *p, const double *t, size_t n, double weight, double *grad);

/* One torch.optim.Adam step (step >= 1) in double. */
void ref_adam_step(double *p, const double *g, double *m, double *v, size_t n, double lr, double b1, double b2,
                   double eps, double wd, int step);

#endif
