/* resize.cl - bilinear (align_corners true or false) and nearest resizing of
 * NCHW tensors with dense H x W planes (channel views allowed) to any output
 * size, forward and backward, with PyTorch's F.interpolate index formulas.
 * The backward is a gather (each input pixel sums the output gradients that
 * read it): deterministic, no atomics.
 *
 * Options: -DMODE=0 (bilinear) | 1 (nearest), -DALIGN=0|1 (align_corners).
 * Scales (input/output, or (in-1)/(out-1) with align_corners) are computed in
 * float on the host, as PyTorch does, and passed as arguments.
 * Grid: dim 0 blocks of 8 columns, dim 1 rows, dim 2 planes p = n*C + c.
 * The forward kernels take the element types of common.cl (-DDT_HALF,
 * -DHALF_MATH: STYPE tensors, `real` interpolation; indices and weights are
 * always computed in float); the backward ones (training) are float. */
#include "common.cl"

#ifndef MODE
#define MODE 0
#endif
#ifndef ALIGN
#define ALIGN 0
#endif
#pragma OPENCL FP_CONTRACT OFF

#define TARG(t) __global const float *t, const int t##o, const int t##sn, const int t##sc
#define TARGW(t) __global float *t, const int t##o, const int t##sn, const int t##sc
/* the same for tensors of the storage type (forward kernels) */
#define SARG(t) __global const STYPE *t, const int t##o, const int t##sn, const int t##sc
#define SARGW(t) __global STYPE *t, const int t##o, const int t##sn, const int t##sc
#define real16 realN(16)
#define PLANE(t) (t + t##o + n * t##sn + c * t##sc)

/* Source of output index o along one axis: first input index i0, second i1,
 * weight l1 of i1 (weight of i0 is 1 - l1). Nearest: i0 = i1, l1 = 0. */
inline int src_index(int o, int in, int out, float scale, int *i1, float *l1) {
#if MODE == 0
    if (in == out) {
        *i1 = o;
        *l1 = 0.0f;
        return o;
    }
#if ALIGN
    float s = scale * (float)o;
#else
    float s = scale * ((float)o + 0.5f) - 0.5f;
    s = s < 0.0f ? 0.0f : s;
#endif
    int i0 = (int)s;
    *i1 = i0 + (i0 < in - 1 ? 1 : 0);
    *l1 = clamp(s - (float)i0, 0.0f, 1.0f);
    return i0;
#else
    int i0;
    if (in == out) i0 = o;
    else if (out == 2 * in) i0 = o >> 1;
    else i0 = min((int)floor((float)o * scale), in - 1);
    *i1 = i0;
    *l1 = 0.0f;
    return i0;
#endif
}

inline int src_i0(int o, int in, int out, float scale) {
    int i1;
    float l1;
    return src_index(o, in, out, scale, &i1, &l1);
}

/* First output index o in [0, out] with i0(o) >= t (i0 is non-decreasing in o):
 * an estimate from the inverse formula, corrected against src_index itself. */
inline int first_out_reaching(int t, int in, int out, float scale) {
    if (t <= 0) return 0;
    float e;
    if (in == out) e = (float)t;
    else if (scale <= 0.0f) return out; /* every output reads input 0 */
#if MODE == 0 && !ALIGN
    else e = ((float)t + 0.5f) / scale - 0.5f;
#else
    else e = (float)t / scale;
#endif
    int o = (int)clamp(ceil(e), 0.0f, (float)out);
    while (o > 0 && src_i0(o - 1, in, out, scale) >= t) o--;
    while (o < out && src_i0(o, in, out, scale) < t) o++;
    return o;
}

/* Weight with which output o reads input i along one axis. */
inline float weight_of(int o, int i, int in, int out, float scale) {
    int i1;
    float l1;
    int i0 = src_index(o, in, out, scale, &i1, &l1);
    return (i0 == i ? 1.0f - l1 : 0.0f) + (i1 == i ? l1 : 0.0f);
}

#ifndef RB
#define RB 8
#endif

/* The 16 elements of row r at the columns of w. */
#define G16(r, w)                                                                                                 \
    (real16)(LD(r, w.s0), LD(r, w.s1), LD(r, w.s2), LD(r, w.s3), LD(r, w.s4), LD(r, w.s5), LD(r, w.s6), LD(r, w.s7), \
             LD(r, w.s8), LD(r, w.s9), LD(r, w.sa), LD(r, w.sb), LD(r, w.sc), LD(r, w.sd), LD(r, w.se), LD(r, w.sf))
/* Horizontal interpolation of input row `row` at 16 columns (w0, w1, lw):
 * gathers (the row segment is in L1 after the first one). */
inline real16 hlerp(__global const STYPE *row, int16 w0, int16 w1, float16 lw) {
    real16 a = G16(row, w0);
#if MODE == 0
    real16 b = G16(row, w1);
    return a + INAS_CAT(convert_, real16)(lw) * (b - a);
#else
    return a;
#endif
}

/* src_index for 16 consecutive output indices o..o+15 (same arithmetic). */
inline int16 src_index16(int16 o, int in, int out, float scale, int16 *i1, float16 *l1) {
#if MODE == 0
    if (in == out) {
        *i1 = o;
        *l1 = (float16)0.0f;
        return o;
    }
#if ALIGN
    float16 s = scale * convert_float16(o);
#else
    float16 s = scale * (convert_float16(o) + 0.5f) - 0.5f;
    s = select(s, (float16)0.0f, s < 0.0f);
#endif
    int16 i0 = convert_int16_rtz(s);
    *i1 = i0 + select((int16)0, (int16)1, i0 < in - 1);
    *l1 = clamp(s - convert_float16(i0), 0.0f, 1.0f);
    return i0;
#else
    int16 i0;
    if (in == out) i0 = o;
    else if (out == 2 * in) i0 = o >> 1;
    else i0 = min(convert_int16_rtz(floor(convert_float16(o) * scale)), in - 1);
    *i1 = i0;
    *l1 = (float16)0.0f;
    return i0;
#endif
}

#ifndef RB
#define RB 8
#endif

/* y[n,c,oh,ow] = interpolation of x at the source point of (oh, ow). One
 * work-item makes 16 consecutive columns (one cache line) of RB rows; the
 * column indices and weights are computed once, and a horizontally
 * interpolated input row is reused while consecutive output rows read it. */
__kernel void resize_fwd(const int H, const int W, const int Ho, const int Wo, const int C, const float sh,
                         const float sw, SARG(x), SARGW(y)) {
    const int ow0 = get_global_id(0) * 16, oh0 = get_global_id(1) * RB, p = get_global_id(2);
    if (ow0 >= Wo || oh0 >= Ho) return;
    const int n = p / C, c = p - n * C;
    int16 w1;
    float16 lw;
    const int16 ow = min((int16)ow0 + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Wo - 1);
    const int16 w0 = src_index16(ow, W, Wo, sw, &w1, &lw);
    __global const STYPE *xp = PLANE(x);
    __global STYPE *yp = PLANE(y) + ow0;
    int ra = -1, rb = -1;
    real16 va = (real16)RL(0.0f), vb = (real16)RL(0.0f);
    const int full = ow0 + 16 <= Wo, oh1 = min(oh0 + RB, Ho);
    for (int oh = oh0; oh < oh1; oh++) {
        int h1;
        float lh;
        const int h0 = src_index(oh, H, Ho, sh, &h1, &lh);
        if (h0 != ra) {
            if (h0 == rb) va = vb;
            else va = hlerp(xp + h0 * W, w0, w1, lw);
            ra = h0;
        }
#if MODE == 0
        if (h1 != rb) {
            if (h1 == ra) vb = va;
            else vb = hlerp(xp + h1 * W, w0, w1, lw);
            rb = h1;
        }
        const real16 out = va + RL(lh) * (vb - va);
#else
        const real16 out = va;
#endif
        if (full) {
            STN(16, out, 0, yp + oh * Wo);
        } else {
            real o16[16];
            vstore16(out, 0, o16);
            for (int j = 0; j < Wo - ow0; j++) ST(o16[j], yp, oh * Wo + j);
        }
    }
}

/* Backward, in two separable passes (both gathers, deterministic):
 *   resize_bwd_h: t[p, ih, q] = sum over output rows o of wh(o, ih) * dy[p, o, q]
 *   resize_bwd_w: dx[p, ih, iw] = sum over output columns q of ww(q, iw) * t[p, ih, q]
 * t is a dense (N*C) x H x Wo scratch tensor. */

/* One work-item: 16 columns q of one input row ih (vectorised along q). */
__kernel void resize_bwd_h(const int H, const int W, const int Ho, const int Wo, const int C, const float sh,
                           const float sw, TARG(dy), __global float *t) {
    const int q0 = get_global_id(0) * 16, ih = get_global_id(1), p = get_global_id(2);
    if (q0 >= Wo || ih >= H) return;
    const int n = p / C, c = p - n * C;
#if MODE == 0
    const int ob = first_out_reaching(ih - 1, H, Ho, sh);
#else
    const int ob = first_out_reaching(ih, H, Ho, sh);
#endif
    const int oe = first_out_reaching(ih + 1, H, Ho, sh);
    __global const float *gp = PLANE(dy) + q0;
    __global float *tp = t + ((size_t)p * H + ih) * Wo + q0;
    if (q0 + 16 <= Wo) {
        float16 acc = (float16)0.0f;
        for (int o = ob; o < oe; o++) {
            const float w = weight_of(o, ih, H, Ho, sh);
            acc += w * vload16(0, gp + o * Wo);
        }
        vstore16(acc, 0, tp);
    } else {
        for (int j = 0; j < Wo - q0; j++) {
            float acc = 0.0f;
            for (int o = ob; o < oe; o++) acc += weight_of(o, ih, H, Ho, sh) * gp[o * Wo + j];
            tp[j] = acc;
        }
    }
}

/* One work-item: 16 input columns iw0.. of one row ih; each output column q
 * of the range that reads them scatters into a private accumulator. */
__kernel void resize_bwd_w(const int H, const int W, const int Ho, const int Wo, const int C, const float sh,
                           const float sw, __global const float *t, TARGW(dx)) {
    const int iw0 = get_global_id(0) * 16, ih = get_global_id(1), p = get_global_id(2);
    if (iw0 >= W || ih >= H) return;
    const int n = p / C, c = p - n * C;
#if MODE == 0
    const int qb = first_out_reaching(iw0 - 1, W, Wo, sw);
#else
    const int qb = first_out_reaching(iw0, W, Wo, sw);
#endif
    const int qe = first_out_reaching(iw0 + 16, W, Wo, sw);
    __global const float *tp = t + ((size_t)p * H + ih) * Wo;
    float acc[17];
    for (int j = 0; j < 17; j++) acc[j] = 0.0f;
    for (int q = qb; q < qe; q++) {
        int i1;
        float l1;
        const int i0 = src_index(q, W, Wo, sw, &i1, &l1);
        const float v = tp[q];
        /* slot 16 collects contributions outside this block */
        const int a = (uint)(i0 - iw0) < 16u ? i0 - iw0 : 16, b = (uint)(i1 - iw0) < 16u ? i1 - iw0 : 16;
        acc[a] += (1.0f - l1) * v;
        acc[b] += l1 * v;
    }
    __global float *dp = PLANE(dx) + ih * W + iw0;
    if (iw0 + 16 <= W) {
        vstore16(vload16(0, acc), 0, dp);
    } else {
        for (int j = 0; j < W - iw0; j++) dp[j] = acc[j];
    }
}

/* Column tables of one output row of Wo columns (Wp = Wo rounded up to 16,
 * nb = Wp / 16): first and second source column (ci0, ci1) and the weight
 * of the second (clw); columns past Wo repeat the last one. */
inline void column_tables(int nb, int W, int Wo, float sw, __local int *ci0, __local int *ci1, __local float *clw) {
    for (int b = 0; b < nb; b++) {
        int16 w1;
        float16 lw;
        const int16 o =
            min((int16)(b * 16) + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Wo - 1);
        vstore16(src_index16(o, W, Wo, sw, &w1, &lw), 0, ci0 + b * 16);
        vstore16(w1, 0, ci1 + b * 16);
        vstore16(lw, 0, clw + b * 16);
    }
}

/* dst = input row `row` interpolated horizontally at the tabled columns. */
inline void cache_row(__global const STYPE *row, int nb, __local const int *ci0, __local const int *ci1,
                      __local const float *clw, __local real *dst) {
    for (int b = 0; b < nb; b++) vstore16(hlerp(row, vload16(b, ci0), vload16(b, ci1), vload16(b, clw)), b, dst);
}

/* Forward for CPUs: one work-item (work-group of 1) makes RB whole output rows
 * of one plane. Column indices and weights (cidx: 2 x Wp ints, cbuf: lw) are
 * computed once into local memory, horizontally interpolated input rows are
 * cached in two local rows of `real` (at cbuf + Wp, cbuf + 2*Wp) and reused
 * while output rows read the same input rows, so each output row is one vector
 * lerp of two cached rows written as a sequential stream. Wp = Wo rounded up
 * to 16. */
__kernel void resize_fwd_rows(const int H, const int W, const int Ho, const int Wo, const int C, const float sh,
                              const float sw, SARG(x), SARGW(y), __local int *cidx, __local float *cbuf) {
    const int oh0 = get_global_id(1) * RB, p = get_global_id(2);
    if (oh0 >= Ho) return;
    const int n = p / C, c = p - n * C, Wp = (Wo + 15) & ~15, nb = Wp / 16;
    __local int *ci0 = cidx, *ci1 = cidx + Wp;
    __local float *clw = cbuf;
    __local real *ra = (__local real *)(cbuf + Wp), *rb = (__local real *)(cbuf + 2 * Wp);
    column_tables(nb, W, Wo, sw, ci0, ci1, clw);
    __global const STYPE *xp = PLANE(x);
    __global STYPE *yp = PLANE(y);
    int ia = -1, ib = -1;
    for (int oh = oh0; oh < min(oh0 + RB, Ho); oh++) {
        int h1;
        float lh;
        const int h0 = src_index(oh, H, Ho, sh, &h1, &lh);
#if MODE == 0
        const int need_b = lh != 0.0f;
#else
        const int need_b = 0;
#endif
        if (h0 != ia) {
            if (h0 == ib) { /* swap the cached rows */
                __local real *t = ra;
                ra = rb;
                rb = t;
                ib = ia;
            } else {
                cache_row(xp + h0 * W, nb, ci0, ci1, clw, ra);
            }
            ia = h0;
        }
        if (need_b && h1 != ib) {
            cache_row(xp + h1 * W, nb, ci0, ci1, clw, rb);
            ib = h1;
        }
        __global STYPE *yr = yp + oh * Wo;
        const int full = Wo / 16;
        const real l = RL(lh);
        for (int b = 0; b < full; b++) {
            real16 a = vload16(b, ra);
            STN(16, need_b ? a + l * (vload16(b, rb) - a) : a, b, yr);
        }
        for (int j = full * 16; j < Wo; j++) ST(need_b ? ra[j] + l * (rb[j] - ra[j]) : ra[j], yr, j);
    }
}

/* Backward for CPUs: one work-item (work-group of 1) makes RB whole rows of
 * dx of one plane: t = sum over output rows o of wh(o, ih) * dy[o, :] (vector
 * row sums into local memory), then each output column q adds its two
 * weighted contributions into a local accumulator row (column tables ci0,
 * ci1, clw computed once per work-item), which is stored as a stream.
 * Local: cidx 2 x Wp ints, cbuf: clw (Wp) + t (Wp) + acc (W + 16) floats. */
__kernel void resize_bwd_rows(const int H, const int W, const int Ho, const int Wo, const int C, const float sh,
                              const float sw, TARG(dy), TARGW(dx), __local int *cidx, __local float *cbuf) {
    const int ih0 = get_global_id(1) * RB, p = get_global_id(2);
    if (ih0 >= H) return;
    const int n = p / C, c = p - n * C, Wp = (Wo + 15) & ~15, nb = Wp / 16;
    __local int *ci0 = cidx, *ci1 = cidx + Wp;
    __local float *clw = cbuf, *t = cbuf + Wp, *acc = cbuf + 2 * Wp;
    column_tables(nb, W, Wo, sw, ci0, ci1, clw);
    __global const float *gp = PLANE(dy);
    __global float *dp = PLANE(dx);
    const int fullq = Wo / 16;
    for (int ih = ih0; ih < min(ih0 + RB, H); ih++) {
#if MODE == 0
        const int ob = first_out_reaching(ih - 1, H, Ho, sh);
#else
        const int ob = first_out_reaching(ih, H, Ho, sh);
#endif
        const int oe = first_out_reaching(ih + 1, H, Ho, sh);
        for (int b = 0; b < nb; b++) vstore16((float16)0.0f, b, t);
        for (int o = ob; o < oe; o++) {
            const float w = weight_of(o, ih, H, Ho, sh);
            if (w == 0.0f) continue;
            __global const float *row = gp + o * Wo;
            for (int b = 0; b < fullq; b++) vstore16(vload16(b, t) + w * vload16(b, row), b, t);
            for (int j = fullq * 16; j < Wo; j++) t[j] += w * row[j];
        }
        for (int j = 0; j < W; j++) acc[j] = 0.0f;
        for (int q = 0; q < Wo; q++) {
            const float v = t[q], l1 = clw[q];
            acc[ci0[q]] += v - l1 * v;
            acc[ci1[q]] += l1 * v;
        }
        __global float *dr = dp + ih * W;
        const int fullw = W / 16;
        for (int b = 0; b < fullw; b++) vstore16(vload16(b, acc), b, dr);
        for (int j = fullw * 16; j < W; j++) dr[j] = acc[j];
    }
}
