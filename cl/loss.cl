/* loss.cl - element-wise losses with their gradients, fused: one pass writes
 * the gradient of the mean loss (times a weight) and a per-work-group partial
 * sum of the loss; reduce.cl's sum_final turns the partials into the mean.
 *
 * Options: those of reduce.cl (LWS, VEC, BLK), -DLOSS=n:
 *   LOSS_BCE (1)        p probabilities; l = -(t*max(log p, -100) +
 *                       (1-t)*max(log(1-p), -100)) (torch BCELoss);
 *                       dl/dp = (p - t) / max(p*(1-p), 1e-12) (torch's backward)
 *   LOSS_MSE (2)        l = (p - t)^2, dl/dp = 2(p - t)
 *   LOSS_BCE_LOGITS (3) p logits z; l = max(z,0) - z*t + log(1 + exp(-|z|)),
 *                       dl/dz = sigmoid(z) - t (torch BCEWithLogitsLoss)
 * and -DGRAD=0|1 (write the gradient or not). */
#define INAS_REDUCE_NO_KERNELS
#include "reduce.cl"

#define LOSS_BCE 1
#define LOSS_MSE 2
#define LOSS_BCE_LOGITS 3
#ifndef LOSS
#define LOSS LOSS_BCE
#endif
#ifndef GRAD
#define GRAD 1
#endif

/* loss value and dl/dp of one element, for vectors (T = VT) and scalars. */
#if LOSS == LOSS_BCE
#define LOSS_EL(T, p, t, l, d)                                                         \
    do {                                                                               \
        T lp_ = fmax(log(p), -100.0f), lq_ = fmax(log(1.0f - (p)), -100.0f);           \
        l = -((t) * lp_ + (1.0f - (t)) * lq_);                                         \
        d = ((p) - (t)) / fmax((1.0f - (p)) * (p), 1e-12f);                            \
    } while (0)
/* Vector form: when every target of the vector is 0 or 1 (binary masks) only
 * the selected log is evaluated; the result is identical. */
#define LOSS_ELV(p, t, l, d)                                                           \
    do {                                                                               \
        if (all(((t) == 0.0f) | ((t) == 1.0f)))                                        \
            l = -fmax(log(select(1.0f - (p), (p), (t) != 0.0f)), -100.0f);             \
        else                                                                           \
            LOSS_EL(VT, p, t, l, d);                                                   \
        d = ((p) - (t)) / fmax((1.0f - (p)) * (p), 1e-12f);                            \
    } while (0)
#elif LOSS == LOSS_MSE
#define LOSS_EL(T, p, t, l, d)                                                         \
    do {                                                                               \
        T e_ = (p) - (t);                                                              \
        l = e_ * e_;                                                                   \
        d = 2.0f * e_;                                                                 \
    } while (0)
#elif LOSS == LOSS_BCE_LOGITS
#define LOSS_EL(T, p, t, l, d)                                                         \
    do {                                                                               \
        T e_ = exp(-fabs(p));                                                          \
        l = fmax((p), 0.0f) - (p) * (t) + log1p(e_);                                   \
        d = 1.0f / (1.0f + exp(-(p))) - (t);                                           \
    } while (0)
#else
#error "loss.cl: unknown LOSS"
#endif
#ifndef LOSS_ELV
#define LOSS_ELV(p, t, l, d) LOSS_EL(VT, p, t, l, d)
#endif

/* Stage 1 over all planes of p (N, C, HW): grad = gscale * dl/dp (overwrite,
 * GRAD only; may alias p or t), part[g] = sum of l over the group's range. */
__kernel void loss_part(__global const float *p, const int p_off, const int psN, const int psC,
                        __global const float *t, const int t_off, const int tsN, const int tsC, __global float *grad,
                        const int g_off, const int gsN, const int gsC, const int N, const int C, const int HW,
                        const int chunk, const float gscale, __global float *part) {
    WG_SUM_DECL
    const long T = (long)N * C * HW, e0 = (long)get_group_id(0) * chunk, e1 = min(T, e0 + chunk);
    float total = 0.0f;
    FOR_PLANE_RUNS(e0, e1, HW, C) {
        __global const float *pp = p + p_off + n_ * psN + c_ * psC + p_;
        __global const float *pt = t + t_off + n_ * tsN + c_ * tsC + p_;
        __global float *pg = grad + g_off + n_ * gsN + c_ * gsC + p_;
        (void)pg;
        const int len = (int)len_, nv = len / VEC;
        for (int j0 = LID; j0 < nv; j0 += LWS * BLK) {
            VT s = 0.0f;
            int jend = min(nv, j0 + LWS * BLK);
            for (int j = j0; j < jend; j += LWS) {
                VT pv = VLOAD(j, pp), tv = VLOAD(j, pt), l, d;
                LOSS_ELV(pv, tv, l, d);
                s += l;
#if GRAD
                VSTORE(d * gscale, j, pg);
#endif
            }
            total += vsum(s);
        }
        for (int i = nv * VEC + LID; i < len; i += LWS) {
            float pv = pp[i], tv = pt[i], l, d;
            LOSS_EL(float, pv, tv, l, d);
            total += l;
#if GRAD
            pg[i] = d * gscale;
#endif
        }
    }
    total = WG_SUM(total);
    if (LID == 0) part[get_group_id(0)] = total;
}
