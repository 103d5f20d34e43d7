/* ref_elem.h - plain-C double-precision references of the elem kernel family
 * (activations, pooling, resizing) used by tests/test_ops_elem.c. Arrays are
 * dense NCHW. Index decisions (nearest source index, resize scales) are made
 * in float exactly as PyTorch does; values are computed in double. */
#ifndef INAS_REF_ELEM_H
#define INAS_REF_ELEM_H

#include <stddef.h>

/* act: 0 none, 1 relu, 2 relu6, 3 silu, 4 sigmoid, 5 hardsigmoid. */
double ref_act(int act, double x);
/* d act / dx at x (PyTorch's choice at the kinks: 0). */
double ref_act_grad(int act, double x);

/* Max pool k x k stride k, floor mode: y is n x c x (h/k) x (w/k). */
void ref_maxpool_fwd(int k, int n, int c, int h, int w, const double *x, double *y);
/* Its gradient for dy: dx (n x c x h x w, overwritten). */
void ref_maxpool_bwd(int k, int n, int c, int h, int w, const double *x, const double *dy, double *dx);

/* 2x2 stride-2 average pool (ceil_mode 0/1, padding 0, partial windows
 * divided by their valid count). */
void ref_avgpool2_fwd(int ceil_mode, int n, int c, int h, int w, const double *x, double *y);
void ref_avgpool2_bwd(int ceil_mode, int n, int c, int h, int w, const double *dy, double *dx);

/* Resize (mode 0 bilinear, 1 nearest) of n x c x h x w to n x c x ho x wo,
 * and its adjoint (dx overwritten). */
void ref_resize_fwd(int mode, int align, int n, int c, int h, int w, int ho, int wo, const double *x, double *y);
void ref_resize_bwd(int mode, int align, int n, int c, int h, int w, int ho, int wo, const double *dy, double *dx);

#endif
