/* ref_conv.h - plain-C double-precision references of the dense convolution
 * ops (src/ops/conv.h), used by tests/test_ops_conv.c. All arrays are dense
 * NCHW; the weight is dense [co, ci, k, k]. */
#ifndef INAS_TEST_REF_CONV_H
#define INAS_TEST_REF_CONV_H

typedef struct ref_conv_shape {
    int n, ci, h, w, co, k, stride, pad;
} ref_conv_shape;

/* Output height / width. */
int ref_conv_ho(const ref_conv_shape *s);
int ref_conv_wo(const ref_conv_shape *s);

/* The activation (act: codes of cl/common.cl) is ref_act of ref_elem.h. */

/* y = act(conv(x, w) + bias); bias may be NULL. */
void ref_conv_fwd(const ref_conv_shape *s, const double *x, const double *w, const double *bias, int act, double *y);
/* The size of the partial sums of the forward's dot products (no bias, no
 * activation), for error bounds of low-precision accumulation: r[i] =
 * sqrt(sum_k s_k^2 + p_k^2) over the products p_k = w * x of output i in the
 * order ci, ky, kx (taps outside x skipped) and their running sums s_k. */
void ref_conv_fwd_partial_rms(const ref_conv_shape *s, const double *x, const double *w, double *r);
/* dx = gradient of sum(conv(x, w) * dy) w.r.t. x (overwrites dx). */
void ref_conv_bwd_data(const ref_conv_shape *s, const double *dy, const double *w, double *dx);
/* dw = gradient w.r.t. w (overwrites dw). */
void ref_conv_bwd_weight(const ref_conv_shape *s, const double *x, const double *dy, double *dw);

#endif
