/* reduce.cl - two-stage reductions over NCHW tensors (per-channel statistics,
 * sums and dot products over N*H*W, a global sum), plus the helpers that the
 * norm, loss and adam kernels share: vector types, the "range over planes"
 * walk and the Chan/Welford merge of (count, mean, M2) triples.
 *
 * Layout: element (n, c, p) of a tensor, p = h*W + w, lives at
 *   off + n*sN + c*sC + p      (each H*W plane is dense; channel views work).
 * Stage 1 kernels give each work-group a range of a flattened index and write
 * one partial per work-group; stage 2 kernels combine the partials. Work-items
 * of a group interleave VEC-wide blocks of each contiguous run, so LWS = 1
 * (CPU: one long contiguous stream per group) and LWS = 256 (GPU: coalesced
 * loads) use the same code.
 *
 * Options: -DLWS=n (work-group size, a power of two), -DVEC=2|4|8|16 (vector
 * width), -DBLK=n (vector iterations accumulated in float before a merge).
 * Defining INAS_REDUCE_NO_KERNELS before including this file keeps only the
 * helpers. */
#ifndef INAS_REDUCE_CL
#define INAS_REDUCE_CL
#include "common.cl"

#ifndef LWS
#define LWS 1
#endif
#ifndef VEC
#define VEC 16
#endif
#ifndef BLK
#define BLK 64
#endif

#if LWS == 1
#define LID 0
#else
#define LID ((int)get_local_id(0))
#endif

#define RCAT_(a, b) a##b
#define RCAT(a, b) RCAT_(a, b)
#define VT RCAT(float, VEC)
#define VLOAD RCAT(vload, VEC)
#define VSTORE RCAT(vstore, VEC)

/* Sum of the lanes of a VT, pairwise. */
inline float vsum(VT v) {
#if VEC == 16
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
#elif VEC == 8
    float4 b = v.lo + v.hi;
#elif VEC == 4
    float4 b = v;
#endif
#if VEC >= 4
    float2 c = b.lo + b.hi;
#else
    float2 c = v;
#endif
    return c.x + c.y;
}

/* Merges the statistics (nb, mb, qb) (count, mean, sum of squared deviations)
 * into (*n, *m, *q): Chan et al.'s parallel combine. */
inline void chan_merge(float *n, float *m, float *q, float nb, float mb, float qb) {
    float nn = *n + nb;
    if (nb <= 0.0f) return;
    float d = mb - *m, f = nb / nn;
    *m += d * f;
    *q += qb + d * d * (*n) * f;
    *n = nn;
}

/* Work-group reductions (sum; Chan triples). Every work-item gets the result. */
#if LWS > 1
inline float wg_sum(float v, __local float *s) {
    int l = LID;
    s[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = LWS / 2; k > 0; k >>= 1) {
        if (l < k) s[l] += s[l + k];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
inline void wg_chan(float *n, float *m, float *q, __local float *sn, __local float *sm, __local float *sq) {
    int l = LID;
    sn[l] = *n;
    sm[l] = *m;
    sq[l] = *q;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = LWS / 2; k > 0; k >>= 1) {
        if (l < k) {
            float a = sn[l], b = sm[l], c = sq[l];
            chan_merge(&a, &b, &c, sn[l + k], sm[l + k], sq[l + k]);
            sn[l] = a;
            sm[l] = b;
            sq[l] = c;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    *n = sn[0];
    *m = sm[0];
    *q = sq[0];
    barrier(CLK_LOCAL_MEM_FENCE);
}
#define WG_SUM_DECL __local float wg_s_[LWS];
#define WG_SUM(v) wg_sum((v), wg_s_)
#define WG_CHAN_DECL __local float wg_n_[LWS], wg_m_[LWS], wg_q_[LWS];
#define WG_CHAN(n, m, q) wg_chan(n, m, q, wg_n_, wg_m_, wg_q_)
#else
#define WG_SUM_DECL
#define WG_SUM(v) (v)
#define WG_CHAN_DECL
#define WG_CHAN(n, m, q)
#endif

/* Adds the deviations from k of px[0..len) to this work-item's shifted sums
 * *s1 (of x - k) and *s2 (of (x - k)^2) and count *n, in blocks of BLK
 * vectors summed in float lanes. With k a sample of the same channel, |x - k|
 * is of the order of the spread, so neither the mean's magnitude nor the
 * number of elements costs precision. */
inline void stats_run(__global const float *px, int len, float k, float *n, float *s1, float *s2) {
    const int nv = len / VEC;
    for (int j0 = LID; j0 < nv; j0 += LWS * BLK) {
        VT a = 0.0f, b = 0.0f;
        int jend = min(nv, j0 + LWS * BLK), cnt = 0;
        for (int j = j0; j < jend; j += LWS) {
            VT d = VLOAD(j, px) - k;
            a += d;
            b = fma(d, d, b);
            cnt++;
        }
        *n += (float)(cnt * VEC);
        *s1 += vsum(a);
        *s2 += vsum(b);
    }
    for (int i = nv * VEC + LID; i < len; i += LWS) {
        float d = px[i] - k;
        *n += 1.0f;
        *s1 += d;
        *s2 = fma(d, d, *s2);
    }
}

/* Sum (DOT: of x*y) over px[0..len) for this work-item. */
inline float sum_run(__global const float *px, __global const float *py, int len) {
    const int nv = len / VEC;
    float total = 0.0f;
    for (int j0 = LID; j0 < nv; j0 += LWS * BLK) {
        VT s = 0.0f;
        int jend = min(nv, j0 + LWS * BLK);
        for (int j = j0; j < jend; j += LWS)
#ifdef DOT
            s = fma(VLOAD(j, px), VLOAD(j, py), s);
#else
            s += VLOAD(j, px);
#endif
        total += vsum(s);
    }
    for (int i = nv * VEC + LID; i < len; i += LWS)
#ifdef DOT
        total = fma(px[i], py[i], total);
#else
        total += px[i];
#endif
    return total;
}

/* Walks the per-channel index e = n*HW + p over [e0, e1) as contiguous runs
 * within one plane: sets n, p and len for each. */
#define FOR_CHANNEL_RUNS(e0, e1, HW)                                                \
    for (long e_ = (e0), n_, p_, len_; e_ < (e1); e_ += len_)                       \
        if ((n_ = e_ / (HW)), (p_ = e_ - n_ * (HW)), (len_ = min((long)(HW) - p_, (long)(e1) - e_)), 1)

/* The same over the index e = (n*C + c)*HW + p of all planes: sets n, c, p, len. */
#define FOR_PLANE_RUNS(e0, e1, HW, C)                                               \
    for (long e_ = (e0), pl_, n_, c_, p_, len_; e_ < (e1); e_ += len_)              \
        if ((pl_ = e_ / (HW)), (n_ = pl_ / (C)), (c_ = pl_ - n_ * (C)), (p_ = e_ - pl_ * (HW)), \
            (len_ = min((long)(HW) - p_, (long)(e1) - e_)), 1)

#ifndef INAS_REDUCE_NO_KERNELS

/* Stage 1 of per-channel statistics. Work-group (g, cg) handles channels
 * [cg*CPG, cg*CPG + CPG) (CPG > 1 only when G == 1) and the range
 * [g*chunk, (g+1)*chunk) of each channel's n*HW + p index; it writes
 * part[(c*G + g)*3 + {0,1,2}] = (count, mean, M2). */
__kernel void chan_stats_part(__global const float *x, const int x_off, const int sN, const int sC, const int N,
                              const int C, const int HW, const int CPG, const int chunk, __global float *part) {
    WG_CHAN_DECL
    const int g = get_group_id(0), G = get_num_groups(0);
    const long M = (long)N * HW, e0 = (long)g * chunk, e1 = min(M, e0 + chunk);
    const int c0 = get_group_id(1) * CPG, c1 = min(C, c0 + CPG);
    for (int c = c0; c < c1; c++) {
        float n = 0.0f, s1 = 0.0f, s2 = 0.0f;
        __global const float *xc = x + x_off + (long)c * sC;
        const long nk = e0 / HW;
        const float k = xc[nk * sN + (e0 - nk * HW)]; /* the shift: the range's first element */
        FOR_CHANNEL_RUNS(e0, e1, HW) stats_run(xc + n_ * sN + p_, (int)len_, k, &n, &s1, &s2);
        float m = n > 0.0f ? k + s1 / n : 0.0f, q = n > 0.0f ? fmax(s2 - s1 * (s1 / n), 0.0f) : 0.0f;
        WG_CHAN(&n, &m, &q);
        if (LID == 0) {
            __global float *o = part + ((long)c * G + g) * 3;
            o[0] = n;
            o[1] = m;
            o[2] = q;
        }
    }
}

/* Stage 2: mean[c] and the biased (population) variance var[c] from G
 * partial triples per channel. One work-item per channel. */
__kernel void chan_stats_final(__global const float *part, const int G, const int C, __global float *mean,
                               const int mean_off, __global float *var, const int var_off) {
    const int c = get_global_id(0);
    if (c >= C) return;
    float n = 0.0f, m = 0.0f, q = 0.0f;
    for (int g = 0; g < G; g++) {
        __global const float *o = part + ((long)c * G + g) * 3;
        chan_merge(&n, &m, &q, o[0], o[1], o[2]);
    }
    mean[mean_off + c] = m;
    var[var_off + c] = n > 0.0f ? q / n : 0.0f;
}

/* Stage 1 of per-channel sums (with -DDOT: of x*y; y has the same shape and
 * its own offset and strides). part[c*G + g]. */
__kernel void chan_sum_part(__global const float *x, const int x_off, const int sN, const int sC,
                            __global const float *y, const int y_off, const int ysN, const int ysC, const int N,
                            const int C, const int HW, const int CPG, const int chunk, __global float *part) {
    WG_SUM_DECL
    const int g = get_group_id(0), G = get_num_groups(0);
    const long M = (long)N * HW, e0 = (long)g * chunk, e1 = min(M, e0 + chunk);
    const int c0 = get_group_id(1) * CPG, c1 = min(C, c0 + CPG);
    for (int c = c0; c < c1; c++) {
        float s = 0.0f;
        __global const float *xc = x + x_off + (long)c * sC;
        __global const float *yc = y + y_off + (long)c * ysC;
        FOR_CHANNEL_RUNS(e0, e1, HW) s += sum_run(xc + n_ * sN + p_, yc + n_ * ysN + p_, (int)len_);
        s = WG_SUM(s);
        if (LID == 0) part[(long)c * G + g] = s;
    }
}

/* Stage 2: out[c] = sum of its G partials (ACC: out[c] += ...). */
__kernel void chan_sum_final(__global const float *part, const int G, const int C, __global float *out,
                             const int out_off, const int acc) {
    const int c = get_global_id(0);
    if (c >= C) return;
    float s = 0.0f;
    for (int g = 0; g < G; g++) s += part[(long)c * G + g];
    out[out_off + c] = acc ? out[out_off + c] + s : s;
}

/* Stage 1 of a global sum over all planes. part[g]. */
__kernel void sum_part(__global const float *x, const int x_off, const int sN, const int sC, const int N,
                       const int C, const int HW, const int chunk, __global float *part) {
    WG_SUM_DECL
    const int g = get_group_id(0);
    const long T = (long)N * C * HW, e0 = (long)g * chunk, e1 = min(T, e0 + chunk);
    float s = 0.0f;
    FOR_PLANE_RUNS(e0, e1, HW, C) s += sum_run(x + x_off + n_ * sN + c_ * sC + p_, x, (int)len_);
    s = WG_SUM(s);
    if (LID == 0) part[g] = s;
}

/* Stage 2 of a global sum: out[out_off] = scale * sum(part[0..G)), Kahan
 * compensated. Launch with LWS work-items in one group. */
__kernel void sum_final(__global const float *part, const int G, const float scale, __global float *out,
                        const int out_off) {
    WG_SUM_DECL
    float s = 0.0f, comp = 0.0f;
    for (int g = LID; g < G; g += LWS) {
        float y = part[g] - comp, t = s + y;
        comp = (t - s) - y;
        s = t;
    }
    s = WG_SUM(s);
    if (LID == 0) out[out_off] = scale * s;
}

#endif /* INAS_REDUCE_NO_KERNELS */
#endif /* INAS_REDUCE_CL */
