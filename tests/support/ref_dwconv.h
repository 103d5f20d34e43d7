/* ref_dwconv.h - plain-C double-precision references for the dwconv family
 * (depthwise convolution forward / backward-data / backward-weight, SMSU
 * transform), used by tests/test_ops_dwconv.c. Dense NCHW arrays; weights
 * are dense [C][k][k]. Padding (k/2)*d on every side ('same'). */
#ifndef INAS_REF_DWCONV_H
#define INAS_REF_DWCONV_H

/* floor((h + 2p - (k-1)d - 1)/s) + 1 with p = (k/2)*d. */
int ref_dw_out(int h, int k, int s, int d);
/* Activation codes of cl/common.cl (0 none .. 5 hardsigmoid). */
/* y[n][c][oh][ow] = act(bias[c] + sum w[c][kh][kw] x[n][c][oh*s-p+kh*d][ow*s-p+kw*d]); bias may be NULL. */
void ref_dwconv_fwd(const double *x, int N, int C, int H, int W, const double *w, int k, int s, int d,
                    const double *bias, int act, double *y);
/* Rounding bound of the forward sums evaluated in a floating-point type as
 * the kernel does (bias first, then the taps in kh, kw order, at most one
 * rounding per product and one per addition): bound = |bias| + sum |term| +
 * sum |partial sum|, so that the computed sum is within u * bound of the
 * exact one to first order (u: the type's unit roundoff). */
void ref_dwconv_fwd_bound(const double *x, int N, int C, int H, int W, const double *w, int k, int s, int d,
                          const double *bias, double *bound);
/* dx = transpose of the convolution applied to dy (overwrites dx). */
void ref_dwconv_bwd_data(const double *dy, int N, int C, int H, int W, const double *w, int k, int s, int d,
                         double *dx);
/* dw[c][kh][kw] += sum dy * x (accumulates). */
void ref_dwconv_bwd_weight(const double *x, const double *dy, int N, int C, int H, int W, int k, int s, int d,
                           double *dw);
/* wt[c][i] = sum_j m[i*k2+j] w[c][j]. */
void ref_smsu_fwd(const double *w, const double *m, int C, int k, double *wt);
/* dm[i*k2+j] += sum_c dwt[c][i] w[c][j]; dw[c][j] += sum_i m[i*k2+j] dwt[c][i]. */
void ref_smsu_bwd(const double *w, const double *m, const double *dwt, int C, int k, double *dm, double *dw);

#endif
