/* resize.cl - bilinear (align_corners true or false) and nearest resizing of
 * NCHW tensors with dense H x W planes (channel views allowed) to any output
 * size, forward and backward, with PyTorch's F.interpolate index formulas.
 * The backward is a gather (each input pixel sums the output gradients that
 * read it): deterministic, no atomics.
 *
 * Options: -DMODE=0 (bilinear) | 1 (nearest), -DALIGN=0|1 (align_corners).
 * Scales (input/output, or (in-1)/(out-1) with align_corners) are computed in
 * float on the host, as PyTorch does, and passed as arguments.
 * Grid: dim 0 blocks of 8 columns, dim 1 rows, dim 2 planes p = n*C + c. */
#ifndef MODE
#define MODE 0
#endif
#ifndef ALIGN
#define ALIGN 0
#endif
#pragma OPENCL FP_CONTRACT OFF

#define TARG(t) __global const float *t, const int t##o, const int t##sn, const int t##sc
#define TARGW(t) __global float *t, const int t##o, const int t##sn, const int t##sc
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

/* Horizontal interpolation of input row `row` at the 16 columns (w0, w1, lw). */
#define G16(r, w) (float16)(r[w.s0], r[w.s1], r[w.s2], r[w.s3], r[w.s4], r[w.s5], r[w.s6], r[w.s7], r[w.s8], r[w.s9], \
                            r[w.sa], r[w.sb], r[w.sc], r[w.sd], r[w.se], r[w.sf])
/* With `fast`, the 16 columns read input columns [base, base + 16): one
 * contiguous vector load and register shuffles (upsampling); else gathers. */
inline float16 hlerp(__global const float *row, int16 w0, int16 w1, float16 lw, int fast, int base, uint16 m0,
                     uint16 m1) {
    float16 a, b;
    if (fast) {
        float16 seg = vload16(0, row + base);
        a = shuffle(seg, m0);
        b = shuffle(seg, m1);
    } else {
        a = G16(row, w0);
        b = G16(row, w1);
    }
#if MODE == 0
    return a + lw * (b - a);
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

/* y[n,c,oh,ow] = interpolation of x at the source point of (oh, ow). One
 * work-item makes 16 consecutive outputs of a row (one cache line). */
__kernel void resize_fwd(const int H, const int W, const int Ho, const int Wo, const int C, const float sh,
                         const float sw, TARG(x), TARGW(y)) {
    const int ow0 = get_global_id(0) * 16, oh = get_global_id(1), p = get_global_id(2);
    if (ow0 >= Wo || oh >= Ho) return;
    const int n = p / C, c = p - n * C;
    int16 w1;
    float16 lw;
    const int16 ow = min((int16)ow0 + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Wo - 1);
    const int16 w0 = src_index16(ow, W, Wo, sw, &w1, &lw);
    const int base = max(0, min(w0.s0, W - 16));
    const int fast = W >= 16 && w1.sf - base < 16;
    const uint16 m0 = convert_uint16(max(w0 - base, 0)) & 15u, m1 = convert_uint16(max(w1 - base, 0)) & 15u;
    int h1;
    float lh;
    const int h0 = src_index(oh, H, Ho, sh, &h1, &lh);
    __global const float *xp = PLANE(x);
    float16 out = hlerp(xp + h0 * W, w0, w1, lw, fast, base, m0, m1);
#if MODE == 0
    if (lh != 0.0f) {
        float16 vb = hlerp(xp + h1 * W, w0, w1, lw, fast, base, m0, m1);
        out = out + lh * (vb - out);
    }
#endif
    __global float *yp = PLANE(y) + oh * Wo + ow0;
    if (ow0 + 16 <= Wo) {
        vstore16(out, 0, yp);
    } else {
        float o16[16];
        vstore16(out, 0, o16);
        for (int j = 0; j < Wo - ow0; j++) yp[j] = o16[j];
    }
}

/* dx[n,c,ih,iw] = sum over outputs (oh, ow) of weight_h(oh, ih) *
 * weight_w(ow, iw) * dy[n,c,oh,ow]. Overwrites dx. Each work-item gathers 8
 * input columns of one input row. */
__kernel void resize_bwd(const int H, const int W, const int Ho, const int Wo, const int C, const float sh,
                         const float sw, TARG(dy), TARGW(dx)) {
    const int iw0 = get_global_id(0) * 8, ih = get_global_id(1), p = get_global_id(2);
    if (iw0 >= W || ih >= H) return;
    const int n = p / C, c = p - n * C;
    /* outputs whose i0 is ih - 1 or ih (bilinear) or ih (nearest) */
#if MODE == 0
    const int ob = first_out_reaching(ih - 1, H, Ho, sh);
#else
    const int ob = first_out_reaching(ih, H, Ho, sh);
#endif
    const int oe = first_out_reaching(ih + 1, H, Ho, sh);
    __global const float *gp = PLANE(dy);
    __global float *dp = PLANE(dx) + ih * W;
    const int nw = min(8, W - iw0);
#if MODE == 0
    int qb = first_out_reaching(iw0 - 1, W, Wo, sw);
#else
    int qb = first_out_reaching(iw0, W, Wo, sw);
#endif
    for (int j = 0; j < nw; j++) {
        const int iw = iw0 + j;
        const int qe = first_out_reaching(iw + 1, W, Wo, sw);
        float acc = 0.0f;
        for (int q = qb; q < qe; q++) {
            const float wc = weight_of(q, iw, W, Wo, sw);
            if (wc == 0.0f) continue;
            float col = 0.0f;
            for (int o = ob; o < oe; o++) col += weight_of(o, ih, H, Ho, sh) * gp[o * Wo + q];
            acc += wc * col;
        }
        dp[iw] = acc;
        /* the next column's range starts at the first output with i0 >= iw */
#if MODE == 0
        qb = first_out_reaching(iw, W, Wo, sw);
#else
        qb = qe;
#endif
    }
}

