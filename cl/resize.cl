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

/* y[n,c,oh,ow] = interpolation of x at the source point of (oh, ow). */
__kernel void resize_fwd(const int H, const int W, const int Ho, const int Wo, const int C, const float sh,
                         const float sw, TARG(x), TARGW(y)) {
    const int ow0 = get_global_id(0) * 8, oh = get_global_id(1), p = get_global_id(2);
    if (ow0 >= Wo || oh >= Ho) return;
    const int n = p / C, c = p - n * C;
    int h1;
    float lh;
    const int h0 = src_index(oh, H, Ho, sh, &h1, &lh);
    __global const float *r0 = PLANE(x) + h0 * W, *r1 = PLANE(x) + h1 * W;
    __global float *yp = PLANE(y) + oh * Wo;
    float out[8];
    for (int j = 0; j < 8; j++) {
        int ow = min(ow0 + j, Wo - 1), w1;
        float lw;
        int w0 = src_index(ow, W, Wo, sw, &w1, &lw);
#if MODE == 0
        float lw0 = 1.0f - lw, lh0 = 1.0f - lh;
        out[j] = lh0 * (lw0 * r0[w0] + lw * r0[w1]) + lh * (lw0 * r1[w0] + lw * r1[w1]);
#else
        out[j] = r0[w0];
#endif
    }
    if (ow0 + 8 <= Wo) {
        vstore8(vload8(0, out), 0, yp + ow0);
    } else {
        for (int j = 0; j < Wo - ow0; j++) yp[ow0 + j] = out[j];
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
