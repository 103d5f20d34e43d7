/* ref_deploy.h - plain-C (double) references of the export-time
 * reparameterisation: BN folding and SMSU branch merging (cl/reparam.cl). */
#ifndef INAS_REF_DEPLOY_H
#define INAS_REF_DEPLOY_H

/* wo[co*n + j] = w[co*n + j] * s, bo[co] = beta - mean * s, s = gamma / sqrt(var + eps). */
void ref_bn_fold(const float *w, int cout, int n, const float *gamma, const float *beta, const float *mean,
                 const float *var, double eps, float *wo, float *bo);
/* W [C, K, K] = mean over the nb branches of wks[b] [C, ks[b], ks[b]] zero-padded
 * centred to K x K; B [C] = mean of bks[b]. */
void ref_smsu_merge(const float *const *wks, const float *const *bks, const int *ks, int nb, int C, int K, float *W,
                    float *B);

#endif
