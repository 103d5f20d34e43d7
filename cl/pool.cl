/* pool.cl - spatial pooling over NCHW tensors with dense H x W planes (channel
 * views allowed): max pool with kernel = stride = KS (no padding, the
 * remainder rows/columns are ignored as in PyTorch's floor mode) forward and
 * backward (the argmax is recomputed from x), and 2x2 stride-2 average pool
 * (floor or ceil mode; partial windows average their valid elements) forward
 * and backward.
 *
 * Options: -DKS=2|4|8|16 (max pool window), -DOWV (output columns per
 * work-item), -DRB (rows per work-item).
 * Grid: dim 0 strides over blocks of output (or input) columns (its size is
 * 1 on CPUs: a work-item streams whole rows), dim 1 blocks of RB rows, dim 2 planes
 * p = n*C + c; plane (n, c) of tensor t starts at t_off + n*t_sn + c*t_sc.
 * The forward kernels take the element types of common.cl (-DDT_HALF,
 * -DHALF_MATH: STYPE tensors, `real` arithmetic); the backward ones (training)
 * are float. */
#include "common.cl"

#ifndef KS
#define KS 2
#endif
#ifndef OWV
#define OWV 8
#endif
#ifndef CEIL
#define CEIL 0
#endif
#ifndef RB
#define RB 4
#endif

#define TARG(t) __global const float *t, const int t##o, const int t##sn, const int t##sc
#define TARGW(t) __global float *t, const int t##o, const int t##sn, const int t##sc
/* the same for tensors of the storage type (forward kernels) */
#define SARG(t) __global const STYPE *t, const int t##o, const int t##sn, const int t##sc
#define SARGW(t) __global STYPE *t, const int t##o, const int t##sn, const int t##sc
#define PLANE(t) (t + t##o + n * t##sn + c * t##sc)

/* PyTorch's max: a later element wins when greater or NaN. */
#define TAKES(v, best) ((v) > (best) || isnan(v))

/* y[n,c,oh,ow] = max over the KS x KS window at (oh*KS, ow*KS); Ho = H/KS, Wo = W/KS. */
inline void maxpool_fwd_row(const int row_, const int cb_, const int H, const int W, const int Ho, const int Wo, const int C, SARG(x), SARGW(y)) {
    const int ow0 = cb_ * OWV, oh = row_, p = get_global_id(2);
    if (ow0 >= Wo || oh >= Ho) return;
    const int n = p / C, c = p - n * C;
    __global const STYPE *xp = PLANE(x) + oh * KS * W + ow0 * KS;
    __global STYPE *yp = PLANE(y) + oh * Wo + ow0;
    const int nwin = min(OWV, Wo - ow0);
#if KS * OWV == 16
    if (nwin == OWV) {
        /* one 16-vector per input row: log2(KS) halvings give the window maxima */
        realN(16) m = LDN(16, 0, xp);
        for (int r = 1; r < KS; r++) {
            realN(16) v = LDN(16, 0, xp + r * W);
            m = select(m, v, isgreater(v, m) | isnan(v));
        }
#if KS == 2
        realN(8) a = select(m.even, m.odd, isgreater(m.odd, m.even) | isnan(m.odd));
        STN(8, a, 0, yp);
#elif KS == 4
        realN(8) a = select(m.even, m.odd, isgreater(m.odd, m.even) | isnan(m.odd));
        realN(4) b = select(a.even, a.odd, isgreater(a.odd, a.even) | isnan(a.odd));
        STN(4, b, 0, yp);
#elif KS == 8
        realN(8) a = select(m.even, m.odd, isgreater(m.odd, m.even) | isnan(m.odd));
        realN(4) b = select(a.even, a.odd, isgreater(a.odd, a.even) | isnan(a.odd));
        realN(2) d = select(b.even, b.odd, isgreater(b.odd, b.even) | isnan(b.odd));
        STN(2, d, 0, yp);
#else
        realN(8) a = select(m.even, m.odd, isgreater(m.odd, m.even) | isnan(m.odd));
        realN(4) b = select(a.even, a.odd, isgreater(a.odd, a.even) | isnan(a.odd));
        realN(2) d = select(b.even, b.odd, isgreater(b.odd, b.even) | isnan(b.odd));
        ST(TAKES(d.y, d.x) ? d.y : d.x, yp, 0);
#endif
        return;
    }
#endif
    for (int j = 0; j < nwin; j++) {
        real best = LD(xp, j * KS);
        for (int r = 0; r < KS; r++)
            for (int q = 0; q < KS; q++) {
                real v = LD(xp, r * W + j * KS + q);
                if (TAKES(v, best)) best = v;
            }
        ST(best, yp, j);
    }
}

__kernel void maxpool_fwd(const int H, const int W, const int Ho, const int Wo, const int C, SARG(x), SARGW(y)) {
    const int r0 = get_global_id(1) * RB, ncb = (Wo + OWV - 1) / OWV;
    for (int r = r0; r < min(r0 + RB, Ho); r++)
        for (int cb = get_global_id(0); cb < ncb; cb += get_global_size(0)) maxpool_fwd_row(r, cb, H, W, Ho, Wo, C, x, xo, xsn, xsc, y, yo, ysn, ysc);
}

/* dx = dy at each window's argmax (first maximum in row-major order, or the
 * last NaN, as PyTorch), 0 elsewhere, including the ignored remainder rows and
 * columns. Overwrites dx. Rows: oh in [0, Ho] where oh == Ho zeroes the
 * remainder rows (H - Ho*KS of them). */
inline void maxpool_bwd_row(const int row_, const int cb_, const int H, const int W, const int Ho, const int Wo, const int C, TARG(x), TARG(dy),
                          TARGW(dx)) {
    const int ow0 = cb_ * OWV, oh = row_, p = get_global_id(2);
    if (ow0 >= Wo || oh > Ho) return;
    const int n = p / C, c = p - n * C;
    const int nwin = min(OWV, Wo - ow0);
    const int col0 = ow0 * KS, col1 = (ow0 + nwin == Wo) ? W : (ow0 + nwin) * KS;
    __global float *dp = PLANE(dx);
    if (oh == Ho) {
        for (int h = Ho * KS; h < H; h++)
            for (int w = col0; w < col1; w++) dp[h * W + w] = 0.0f;
        return;
    }
    __global const float *xp = PLANE(x) + oh * KS * W + col0;
    __global const float *gp = PLANE(dy) + oh * Wo + ow0;
#if KS == 2 && OWV == 8
    if (nwin == 8) {
        /* 8 windows from two float16 rows; candidates in PyTorch's scan order */
        float16 r0 = vload16(0, xp), r1 = vload16(0, xp + W);
        float8 best = r0.even, g = vload8(0, gp);
        int8 idx = (int8)0, m;
        m = isgreater(r0.odd, best) | isnan(r0.odd);
        best = select(best, r0.odd, m);
        idx = select(idx, (int8)1, m);
        m = isgreater(r1.even, best) | isnan(r1.even);
        best = select(best, r1.even, m);
        idx = select(idx, (int8)2, m);
        m = isgreater(r1.odd, best) | isnan(r1.odd);
        idx = select(idx, (int8)3, m);
        const float8 z = (float8)0.0f;
        float8 e0 = select(z, g, idx == 0), o0 = select(z, g, idx == 1);
        float8 e1 = select(z, g, idx == 2), o1 = select(z, g, idx == 3);
        const uint16 mix = (uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
        dp += oh * 2 * W + col0;
        vstore16(shuffle2(e0, o0, mix), 0, dp);
        vstore16(shuffle2(e1, o1, mix), 0, dp + W);
        for (int w = col0 + 16; w < col1; w++) {
            dp[w - col0] = 0.0f;
            dp[W + w - col0] = 0.0f;
        }
        return;
    }
#endif
    float best[OWV], g[OWV];
    int idx[OWV];
    for (int j = 0; j < OWV; j++) {
        best[j] = j < nwin ? xp[j * KS] : 0.0f;
        idx[j] = 0;
        g[j] = j < nwin ? gp[j] : 0.0f;
    }
    for (int r = 0; r < KS; r++)
        for (int j = 0; j < OWV; j++)
            for (int q = 0; q < KS; q++) {
                if (j < nwin) {
                    float v = xp[r * W + j * KS + q];
                    if (TAKES(v, best[j])) {
                        best[j] = v;
                        idx[j] = r * KS + q;
                    }
                }
            }
    dp += oh * KS * W;
    for (int r = 0; r < KS; r++) {
        for (int j = 0; j < OWV; j++)
            for (int q = 0; q < KS; q++)
                if (j < nwin) dp[r * W + col0 + j * KS + q] = idx[j] == r * KS + q ? g[j] : 0.0f;
        for (int w = (ow0 + nwin) * KS; w < col1; w++) dp[r * W + w] = 0.0f;
    }
}

__kernel void maxpool_bwd(const int H, const int W, const int Ho, const int Wo, const int C, TARG(x), TARG(dy),
                          TARGW(dx)) {
    const int r0 = get_global_id(1) * RB, ncb = (Wo + OWV - 1) / OWV;
    for (int r = r0; r < min(r0 + RB, Ho + 1); r++)
        for (int cb = get_global_id(0); cb < ncb; cb += get_global_size(0)) maxpool_bwd_row(r, cb, H, W, Ho, Wo, C, x, xo, xsn, xsc, dy, dyo, dysn, dysc, dx, dxo, dxsn, dxsc);
}

/* Average pool 2x2 stride 2: Ho = CEIL ? (H+1)/2 : H/2 (same for W); a window
 * averages its elements inside the input (partial windows in ceil mode divide
 * by their valid count, PyTorch with padding 0). Dim 0: blocks of 8 outputs. */
inline void avgpool2_fwd_row(const int row_, const int cb_, const int H, const int W, const int Ho, const int Wo, const int C, SARG(x), SARGW(y)) {
    const int ow0 = cb_ * 8, oh = row_, p = get_global_id(2);
    if (ow0 >= Wo || oh >= Ho) return;
    const int n = p / C, c = p - n * C;
    __global const STYPE *xp = PLANE(x) + 2 * oh * W;
    __global STYPE *yp = PLANE(y) + oh * Wo;
    const int two_rows = 2 * oh + 1 < H;
    if (ow0 + 8 <= Wo && 2 * (ow0 + 8) <= W && two_rows) {
        realN(16) a = LDN(16, 0, xp + 2 * ow0), b = LDN(16, 0, xp + W + 2 * ow0);
        STN(8, ((a.even + a.odd) + (b.even + b.odd)) * RL(0.25f), 0, yp + ow0);
        return;
    }
    const int nr = two_rows ? 2 : 1;
    for (int ow = ow0; ow < min(ow0 + 8, Wo); ow++) {
        const int w = 2 * ow, nc = w + 1 < W ? 2 : 1;
        real s = RL(0.0f);
        for (int r = 0; r < nr; r++)
            for (int q = 0; q < nc; q++) s += LD(xp, r * W + w + q);
        ST(s / (real)(nr * nc), yp, ow);
    }
}

__kernel void avgpool2_fwd(const int H, const int W, const int Ho, const int Wo, const int C, SARG(x), SARGW(y)) {
    const int r0 = get_global_id(1) * RB, ncb = (Wo + 7) / 8;
    for (int r = r0; r < min(r0 + RB, Ho); r++)
        for (int cb = get_global_id(0); cb < ncb; cb += get_global_size(0)) avgpool2_fwd_row(r, cb, H, W, Ho, Wo, C, x, xo, xsn, xsc, y, yo, ysn, ysc);
}

/* dx[h,w] = dy[h/2, w/2] / count(window) inside the pooled area, 0 for the
 * remainder row/column of floor mode. Overwrites dx. Dim 0: blocks of 16
 * input columns, dim 1: input rows. */
inline void avgpool2_bwd_row(const int row_, const int cb_, const int H, const int W, const int Ho, const int Wo, const int C, TARG(dy), TARGW(dx)) {
    const int w0 = cb_ * 16, h = row_, p = get_global_id(2);
    if (w0 >= W || h >= H) return;
    const int n = p / C, c = p - n * C;
    __global float *dp = PLANE(dx) + h * W;
    const int oh = h / 2;
    if (oh >= Ho) {
        for (int w = w0; w < min(w0 + 16, W); w++) dp[w] = 0.0f;
        return;
    }
    __global const float *gp = PLANE(dy) + oh * Wo;
    const int nr = 2 * oh + 1 < H ? 2 : 1;
    if (w0 + 16 <= W && w0 / 2 + 8 <= Wo) {
        /* full windows (column-wise) in this block */
        float8 g = vload8(0, gp + w0 / 2) * (nr == 2 ? 0.25f : 0.5f);
        vstore16(g.s0011223344556677, 0, dp + w0);
        return;
    }
    for (int w = w0; w < min(w0 + 16, W); w++) {
        const int ow = w / 2;
        if (ow >= Wo) {
            dp[w] = 0.0f;
            continue;
        }
        const int nc = 2 * ow + 1 < W ? 2 : 1;
        dp[w] = gp[ow] / (float)(nr * nc);
    }
}

__kernel void avgpool2_bwd(const int H, const int W, const int Ho, const int Wo, const int C, TARG(dy), TARGW(dx)) {
    const int r0 = get_global_id(1) * RB, ncb = (W + 15) / 16;
    for (int r = r0; r < min(r0 + RB, H); r++)
        for (int cb = get_global_id(0); cb < ncb; cb += get_global_size(0)) avgpool2_bwd_row(r, cb, H, W, Ho, Wo, C, dy, dyo, dysn, dysc, dx, dxo, dxsn, dxsc);
}
