/* ref_deploy.c - see ref_deploy.h. */
#include "ref_deploy.h"

#include <math.h>
#include <stdlib.h>

void ref_bn_fold(const float *w, int cout, int n, const float *gamma, const float *beta, const float *mean,
                 const float *var, double eps, float *wo, float *bo) {
    for (int co = 0; co < cout; co++) {
        double s = (double)gamma[co] / sqrt((double)var[co] + eps);
        for (int j = 0; j < n; j++) wo[(size_t)co * n + j] = (float)((double)w[(size_t)co * n + j] * s);
        bo[co] = (float)((double)beta[co] - (double)mean[co] * s);
    }
}

void ref_smsu_merge(const float *const *wks, const float *const *bks, const int *ks, int nb, int C, int K, float *W,
                    float *B) {
    for (int c = 0; c < C; c++) {
        double b = 0;
        for (int i = 0; i < nb; i++) b += bks[i][c];
        B[c] = (float)(b / nb);
        for (int y = 0; y < K; y++)
            for (int x = 0; x < K; x++) {
                double v = 0;
                for (int i = 0; i < nb; i++) {
                    int k = ks[i], o = (K - k) / 2, yy = y - o, xx = x - o;
                    if (yy >= 0 && yy < k && xx >= 0 && xx < k) v += wks[i][((size_t)c * k + yy) * k + xx];
                }
                W[((size_t)c * K + y) * K + x] = (float)(v / nb);
            }
    }
}
