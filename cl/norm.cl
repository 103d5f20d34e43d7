/* norm.cl - BatchNorm2d kernels (PyTorch semantics) on the first C channels of
 * [C_max] parameter vectors: training statistics (stage 2 on top of
 * reduce.cl's chan_stats_part), running-statistics update, the normalisation
 * y = act(x*scale + shift) (training and eval), and the backward.
 *
 * Options: those of reduce.cl (LWS, VEC, BLK) and -DACT=n (ACT_NONE, ACT_RELU,
 * ACT_SILU from common.cl) for the fused activation. Parameter vectors are
 * passed as (buffer, element offset). */
#define INAS_REDUCE_NO_KERNELS
#include "reduce.cl"

#ifndef ACT
#define ACT ACT_NONE
#endif

/* act(z), and g * act'(z), on vectors (V) and scalars (S). */
#if ACT == ACT_NONE
#define ACTV(z) (z)
#define DACTV(z, g) (g)
#define DACTS(z, g) (g)
#elif ACT == ACT_RELU
#define ACTV(z) fmax((z), 0.0f)
#define DACTV(z, g) select((VT)0.0f, (g), (z) > 0.0f)
#define DACTS(z, g) ((z) > 0.0f ? (g) : 0.0f)
#elif ACT == ACT_SILU
#define ACTV(z) ((z) / (1.0f + exp(-(z))))
/* d/dz z*s(z) = s(z) * (1 + z*(1 - s(z))) */
#define DACTV(z, g) silu_grad_v((z), (g))
#define DACTS(z, g) silu_grad_s((z), (g))
inline VT silu_grad_v(VT z, VT g) {
    VT s = 1.0f / (1.0f + exp(-z));
    return g * s * (1.0f + z * (1.0f - s));
}
inline float silu_grad_s(float z, float g) {
    float s = 1.0f / (1.0f + exp(-z));
    return g * s * (1.0f + z * (1.0f - s));
}
#else
#error "norm.cl: ACT must be ACT_NONE, ACT_RELU or ACT_SILU"
#endif

/* Training-mode stage 2. From chan_stats_part's G partials per channel:
 * save_mean[c] = mean, save_invstd[c] = 1/sqrt(var + eps) (biased var);
 * running_mean = (1-mom)*running_mean + mom*mean, running_var likewise with
 * the unbiased var*M/(M-1) (mom == 1: plain overwrite, so stale NaNs go);
 * coef[3c..3c+2] = (mean, scale, beta) of y = (x - mean)*scale + beta. */
__kernel void bn_train_final(__global const float *part, const int G, const int C, const float mom, const float eps,
                             __global const float *gamma, const int g_off, __global const float *beta, const int b_off,
                             __global float *rmean, const int rm_off, __global float *rvar, const int rv_off,
                             __global float *smean, const int sm_off, __global float *sinv, const int si_off,
                             __global float *coef) {
    const int c = get_global_id(0);
    if (c >= C) return;
    float n = 0.0f, m = 0.0f, q = 0.0f;
    for (int g = 0; g < G; g++) {
        __global const float *o = part + ((long)c * G + g) * 3;
        chan_merge(&n, &m, &q, o[0], o[1], o[2]);
    }
    float var = q / n, uvar = q / (n - 1.0f);
    float inv = 1.0f / sqrt(var + eps);
    if (rmean) {
        if (mom == 1.0f) {
            rmean[rm_off + c] = m;
            rvar[rv_off + c] = uvar;
        } else {
            rmean[rm_off + c] = (1.0f - mom) * rmean[rm_off + c] + mom * m;
            rvar[rv_off + c] = (1.0f - mom) * rvar[rv_off + c] + mom * uvar;
        }
    }
    if (smean) {
        smean[sm_off + c] = m;
        sinv[si_off + c] = inv;
    }
    coef[3 * c] = m;
    coef[3 * c + 1] = gamma[g_off + c] * inv;
    coef[3 * c + 2] = beta[b_off + c];
}

/* Eval mode: coef from the running statistics. */
__kernel void bn_eval_coef(const int C, const float eps, __global const float *gamma, const int g_off,
                           __global const float *beta, const int b_off, __global const float *rmean, const int rm_off,
                           __global const float *rvar, const int rv_off, __global float *coef) {
    const int c = get_global_id(0);
    if (c >= C) return;
    coef[3 * c] = rmean[rm_off + c];
    coef[3 * c + 1] = gamma[g_off + c] / sqrt(rvar[rv_off + c] + eps);
    coef[3 * c + 2] = beta[b_off + c];
}

/* y = act((x - coef[3c])*coef[3c+1] + coef[3c+2]) over all planes; work-group g handles the
 * flattened range [g*chunk, (g+1)*chunk). y may alias x. */
__kernel void bn_apply(__global const float *x, const int x_off, const int sN, const int sC, __global float *y,
                       const int y_off, const int ysN, const int ysC, const int N, const int C, const int HW,
                       const int chunk, __global const float *coef) {
    const long T = (long)N * C * HW, e0 = (long)get_group_id(0) * chunk, e1 = min(T, e0 + chunk);
    FOR_PLANE_RUNS(e0, e1, HW, C) {
        __global const float *px = x + x_off + n_ * sN + c_ * sC + p_;
        __global float *py = y + y_off + n_ * ysN + c_ * ysC + p_;
        const float m = coef[3 * c_], a = coef[3 * c_ + 1], b = coef[3 * c_ + 2];
        const int len = (int)len_, nv = len / VEC;
        for (int j = LID; j < nv; j += LWS) {
            VT z = fma(VLOAD(j, px) - m, a, b);
            VSTORE(ACTV(z), j, py);
        }
        for (int i = nv * VEC + LID; i < len; i += LWS) {
            float z = fma(px[i] - m, a, b);
            py[i] = ACTV(z);
        }
    }
}

/* Backward stage 1. With dz = dy * act'(z) (z = (x-mean)*scale + beta recomputed
 * from gamma, beta, save_mean, save_invstd), work-group (g, cg) writes
 * part[(c*G + g)*2 + {0,1}] = (sum dz, sum dz*(x - mean)). */
__kernel void bn_bwd_part(__global const float *x, const int x_off, const int sN, const int sC,
                          __global const float *dy, const int d_off, const int dsN, const int dsC, const int N,
                          const int C, const int HW, const int CPG, const int chunk, __global const float *gamma,
                          const int g_off, __global const float *beta, const int b_off, __global const float *smean,
                          const int sm_off, __global const float *sinv, const int si_off, __global float *part) {
    WG_SUM_DECL
    const int g = get_group_id(0), G = get_num_groups(0);
    const long M = (long)N * HW, e0 = (long)g * chunk, e1 = min(M, e0 + chunk);
    const int c0 = get_group_id(1) * CPG, c1 = min(C, c0 + CPG);
    for (int c = c0; c < c1; c++) {
        const float mean = smean[sm_off + c];
        const float sc = gamma[g_off + c] * sinv[si_off + c], bt = beta[b_off + c];
        (void)sc;
        (void)bt;
        __global const float *xc = x + x_off + (long)c * sC;
        __global const float *dc = dy + d_off + (long)c * dsC;
        float t1 = 0.0f, t2 = 0.0f;
        FOR_CHANNEL_RUNS(e0, e1, HW) {
            __global const float *px = xc + n_ * sN + p_;
            __global const float *pd = dc + n_ * dsN + p_;
            const int len = (int)len_, nv = len / VEC;
            for (int j0 = LID; j0 < nv; j0 += LWS * BLK) {
                VT s1 = 0.0f, s2 = 0.0f;
                int jend = min(nv, j0 + LWS * BLK);
                for (int j = j0; j < jend; j += LWS) {
                    VT xv = VLOAD(j, px);
                    VT xm = xv - mean;
                    VT d = DACTV(fma(xm, sc, bt), VLOAD(j, pd));
                    s1 += d;
                    s2 = fma(d, xm, s2);
                }
                t1 += vsum(s1);
                t2 += vsum(s2);
            }
            for (int i = nv * VEC + LID; i < len; i += LWS) {
                float d = DACTS(fma(px[i] - mean, sc, bt), pd[i]);
                t1 += d;
                t2 = fma(d, px[i] - mean, t2);
            }
        }
        t1 = WG_SUM(t1);
        t2 = WG_SUM(t2);
        if (LID == 0) {
            __global float *o = part + ((long)c * G + g) * 2;
            o[0] = t1;
            o[1] = t2;
        }
    }
}

/* Backward stage 2: dbeta[c] += sum dz; dgamma[c] += invstd * sum dz*(x-mean);
 * coef[5c..5c+4] = (k, a, mean, b, beta) such that
 * dx = k*dz + a*(x - mean) + b, with k = gamma*invstd,
 * a = -k*invstd^2*S2/M, b = -k*S1/M, and z = (x - mean)*k + beta. */
__kernel void bn_bwd_final(__global const float *part, const int G, const int C, const float M,
                           __global const float *gamma, const int g_off, __global const float *beta, const int b_off,
                           __global const float *smean, const int sm_off, __global const float *sinv,
                           const int si_off, __global float *dgamma, const int dg_off, __global float *dbeta,
                           const int db_off, __global float *coef) {
    const int c = get_global_id(0);
    if (c >= C) return;
    float s1 = 0.0f, s2 = 0.0f;
    for (int g = 0; g < G; g++) {
        s1 += part[((long)c * G + g) * 2];
        s2 += part[((long)c * G + g) * 2 + 1];
    }
    const float inv = sinv[si_off + c], mean = smean[sm_off + c], gm = gamma[g_off + c];
    if (dgamma) dgamma[dg_off + c] += inv * s2;
    if (dbeta) dbeta[db_off + c] += s1;
    const float k = gm * inv;
    __global float *o = coef + 5 * c;
    o[0] = k;
    o[1] = -k * inv * inv * s2 / M;
    o[2] = mean;
    o[3] = -k * s1 / M;
    o[4] = beta[b_off + c];
}

/* Backward stage 3: dx = k*dz + a*(x - mean) + b over all planes (overwrite). */
__kernel void bn_bwd_apply(__global const float *x, const int x_off, const int sN, const int sC,
                           __global const float *dy, const int d_off, const int dsN, const int dsC,
                           __global float *dx, const int o_off, const int osN, const int osC, const int N, const int C,
                           const int HW, const int chunk, __global const float *coef) {
    const long T = (long)N * C * HW, e0 = (long)get_group_id(0) * chunk, e1 = min(T, e0 + chunk);
    FOR_PLANE_RUNS(e0, e1, HW, C) {
        __global const float *px = x + x_off + n_ * sN + c_ * sC + p_;
        __global const float *pd = dy + d_off + n_ * dsN + c_ * dsC + p_;
        __global float *po = dx + o_off + n_ * osN + c_ * osC + p_;
        __global const float *o = coef + 5 * c_;
        const float k = o[0], a = o[1], mean = o[2], b = o[3], bt = o[4];
        (void)bt;
        const int len = (int)len_, nv = len / VEC;
        for (int j = LID; j < nv; j += LWS) {
            VT xm = VLOAD(j, px) - mean;
            VT d = DACTV(fma(xm, k, bt), VLOAD(j, pd));
            VSTORE(fma(d, k, fma(xm, a, b)), j, po);
        }
        for (int i = nv * VEC + LID; i < len; i += LWS) {
            float xm = px[i] - mean;
            float d = DACTS(fma(xm, k, bt), pd[i]);
            po[i] = fma(d, k, fma(xm, a, b));
        }
    }
}
