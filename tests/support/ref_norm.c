/* ref_norm.c - see ref_norm.h. */
#include "ref_norm.h"

#include <math.h>

#include "ref_elem.h"
#include <stdlib.h>

void ref_channel_stats(const double *x, int N, int C, int HW, double *mean, double *var) {
    for (int c = 0; c < C; c++) {
        double s = 0, q = 0, M = (double)N * HW;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) s += x[((size_t)n * C + c) * HW + p];
        double m = s / M;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) {
                double d = x[((size_t)n * C + c) * HW + p] - m;
                q += d * d;
            }
        mean[c] = m;
        var[c] = q / M;
    }
}

void ref_bn_train(const double *x, int N, int C, int HW, const double *gamma, const double *beta, double eps, int act,
                  double *y, double *mean, double *var) {
    double *m = malloc(sizeof(double) * C), *v = malloc(sizeof(double) * C);
    ref_channel_stats(x, N, C, HW, m, v);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double inv = 1 / sqrt(v[c] + eps);
            for (int p = 0; p < HW; p++) {
                size_t i = ((size_t)n * C + c) * HW + p;
                y[i] = ref_act(act, gamma[c] * (x[i] - m[c]) * inv + beta[c]);
            }
        }
    for (int c = 0; c < C; c++) {
        if (mean) mean[c] = m[c];
        if (var) var[c] = v[c];
    }
    free(m);
    free(v);
}

void ref_bn_eval(const double *x, int N, int C, int HW, const double *gamma, const double *beta, const double *rmean,
                 const double *rvar, double eps, int act, double *y) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) {
                size_t i = ((size_t)n * C + c) * HW + p;
                y[i] = ref_act(act, gamma[c] * (x[i] - rmean[c]) / sqrt(rvar[c] + eps) + beta[c]);
            }
}

double ref_loss(int kind, const double *p, const double *t, size_t n, double weight, double *grad) {
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double l, d;
        if (kind == 1) {
            double lp = fmax(log(p[i]), -100), lq = fmax(log(1 - p[i]), -100);
            l = -(t[i] * lp + (1 - t[i]) * lq);
            d = (p[i] - t[i]) / fmax(p[i] * (1 - p[i]), 1e-12);
        } else if (kind == 2) {
            l = (p[i] - t[i]) * (p[i] - t[i]);
            d = 2 * (p[i] - t[i]);
        } else {
            double z = p[i];
            l = fmax(z, 0) - z * t[i] + log1p(exp(-fabs(z)));
            d = 1 / (1 + exp(-z)) - t[i];
        }
        s += l;
        if (grad) grad[i] = weight * d / (double)n;
    }
    return weight * s / (double)n;
}

void ref_adam_step(double *p, const double *g, double *m, double *v, size_t n, double lr, double b1, double b2,
                   double eps, double wd, int step) {
    double bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step);
    for (size_t i = 0; i < n; i++) {
        double gi = g[i] + wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= lr / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps);
    }
}

void ref_bn_bwd(const double *x, const double *dy, int N, int C, int HW, const double *gamma, const double *beta,
                double eps, int act, double *dx, double *dgamma, double *dbeta) {
    double *m = malloc(sizeof(double) * C), *v = malloc(sizeof(double) * C);
    ref_channel_stats(x, N, C, HW, m, v);
    double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double inv = 1 / sqrt(v[c] + eps), s1 = 0, s2 = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int n = 0; n < N; n++)
                for (int p = 0; p < HW; p++) {
                    size_t i = ((size_t)n * C + c) * HW + p;
                    double xh = (x[i] - m[c]) * inv, z = gamma[c] * xh + beta[c], d = dy[i];
                    if (act == 1) d = z > 0 ? d : 0;
                    if (act == 3) {
                        double s = 1 / (1 + exp(-z));
                        d *= s * (1 + z * (1 - s));
                    }
                    if (pass == 0) s1 += d, s2 += d * xh;
                    else dx[i] = gamma[c] * inv * (d - s1 / M - xh * s2 / M);
                }
        dgamma[c] = s2;
        dbeta[c] = s1;
    }
    free(m);
    free(v);
}
