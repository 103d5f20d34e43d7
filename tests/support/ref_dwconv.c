/* ref_dwconv.c - see ref_dwconv.h. */
#include "ref_dwconv.h"

#include <math.h>

#include "ref_elem.h"
#include <stddef.h>

int ref_dw_out(int h, int k, int s, int d) { return (h + 2 * (k / 2) * d - (k - 1) * d - 1) / s + 1; }

/* The forward sums; y (when not NULL) gets act(sum), bound (when not NULL)
 * the sum of |bias|, of every |term| and of every |partial sum|. */
static void dw_fwd_sums(const double *x, int N, int C, int H, int W, const double *w, int k, int s, int d,
                        const double *bias, int act, double *y, double *bound) {
    int p = k / 2 * d, Ho = ref_dw_out(H, k, s, d), Wo = ref_dw_out(W, k, s, d);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const double *xp = x + ((size_t)n * C + c) * H * W;
            size_t o = ((size_t)n * C + c) * Ho * Wo;
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++) {
                    double acc = bias ? bias[c] : 0, e = fabs(acc);
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = 0; kw < k; kw++) {
                            int ih = oh * s - p + kh * d, iw = ow * s - p + kw * d;
                            if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
                                double t = w[((size_t)c * k + kh) * k + kw] * xp[(size_t)ih * W + iw];
                                acc += t;
                                e += fabs(t) + fabs(acc);
                            }
                        }
                    if (y) y[o + (size_t)oh * Wo + ow] = ref_act(act, acc);
                    if (bound) bound[o + (size_t)oh * Wo + ow] = e;
                }
        }
}

void ref_dwconv_fwd(const double *x, int N, int C, int H, int W, const double *w, int k, int s, int d,
                    const double *bias, int act, double *y) {
    dw_fwd_sums(x, N, C, H, W, w, k, s, d, bias, act, y, NULL);
}

void ref_dwconv_fwd_bound(const double *x, int N, int C, int H, int W, const double *w, int k, int s, int d,
                          const double *bias, double *bound) {
    dw_fwd_sums(x, N, C, H, W, w, k, s, d, bias, 0, NULL, bound);
}

void ref_dwconv_bwd_data(const double *dy, int N, int C, int H, int W, const double *w, int k, int s, int d,
                         double *dx) {
    int p = k / 2 * d, Ho = ref_dw_out(H, k, s, d), Wo = ref_dw_out(W, k, s, d);
    for (size_t i = 0; i < (size_t)N * C * H * W; i++) dx[i] = 0;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double *xp = dx + ((size_t)n * C + c) * H * W;
            const double *yp = dy + ((size_t)n * C + c) * Ho * Wo;
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++)
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = 0; kw < k; kw++) {
                            int ih = oh * s - p + kh * d, iw = ow * s - p + kw * d;
                            if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                xp[(size_t)ih * W + iw] += w[((size_t)c * k + kh) * k + kw] * yp[(size_t)oh * Wo + ow];
                        }
        }
}

void ref_dwconv_bwd_weight(const double *x, const double *dy, int N, int C, int H, int W, int k, int s, int d,
                           double *dw) {
    int p = k / 2 * d, Ho = ref_dw_out(H, k, s, d), Wo = ref_dw_out(W, k, s, d);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const double *xp = x + ((size_t)n * C + c) * H * W;
            const double *yp = dy + ((size_t)n * C + c) * Ho * Wo;
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++)
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = 0; kw < k; kw++) {
                            int ih = oh * s - p + kh * d, iw = ow * s - p + kw * d;
                            if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                dw[((size_t)c * k + kh) * k + kw] += xp[(size_t)ih * W + iw] * yp[(size_t)oh * Wo + ow];
                        }
        }
}

void ref_smsu_fwd(const double *w, const double *m, int C, int k, double *wt) {
    int k2 = k * k;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k2; i++) {
            double acc = 0;
            for (int j = 0; j < k2; j++) acc += m[(size_t)i * k2 + j] * w[(size_t)c * k2 + j];
            wt[(size_t)c * k2 + i] = acc;
        }
}

void ref_smsu_bwd(const double *w, const double *m, const double *dwt, int C, int k, double *dm, double *dw) {
    int k2 = k * k;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k2; i++)
            for (int j = 0; j < k2; j++) {
                if (dm) dm[(size_t)i * k2 + j] += dwt[(size_t)c * k2 + i] * w[(size_t)c * k2 + j];
                if (dw) dw[(size_t)c * k2 + j] += m[(size_t)i * k2 + j] * dwt[(size_t)c * k2 + i];
            }
}
