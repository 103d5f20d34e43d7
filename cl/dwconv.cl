/* dwconv.cl - depthwise convolution on NCHW tensors (and channel views):
 * forward with optional bias and fused activation, backward-data (stride 1:
 * the forward with the flipped kernel; stride 2: dw_bwd_data_s2, a phase-split
 * gather), backward-weight (per-tap reductions over N*H*W, optionally split
 * into chunks reduced by a second kernel). The weight is a KxK window of a
 * larger [Cmax,1,Kmax,Kmax] tensor: the host passes its offset (centre crop)
 * and strides, and gradients go to the same positions.
 *
 * Build options (compile-time constants):
 *   K   kernel size (odd)          S   stride (1 or 2)
 *   D   dilation                   VW  outputs per vector along W (4, 8, 16; <= 8 when S == 2)
 *   R   output rows computed together (input rows are loaded once per row block)
 *   DT_HALF, HALF_MATH (common.cl): dw_fwd on half tensors, with float or half
 *       arithmetic. The backward kernels are float only (training); they are
 *       left out of the half builds.
 * 'same' padding PAD = (K-1)/2*D on all sides; output size floor((H+2PAD-(K-1)D-1)/S)+1.
 *
 * CPU strategy (PoCL): one work-item walks a band of output rows of one
 * (n, c) plane in row blocks of R rows and segments of VW columns. Interior
 * segments use plain unaligned vector loads with the taps fully unrolled;
 * border segments use masked loads (lanes outside the image read as 0), which
 * fall back to per-lane loads only where a vector would leave the buffer. */
#include "common.cl"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define VEC realN(VW) /* arithmetic vector (float in the backward kernels) */
#define IVEC CAT(int, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define PAD (((K) - 1) / 2 * (D))

/* select() between VEC values by an IVEC condition: half vectors take a
 * short mask. */
#if HALF_MATH
#define LANES(m) CAT(convert_short, VW)(m)
#else
#define LANES(m) (m)
#endif

#if VW == 4
#define IOTA ((int4)(0, 1, 2, 3))
#define VW2 8
#define ILV_MASK ((uint8)(0, 4, 1, 5, 2, 6, 3, 7))
#elif VW == 8
#define IOTA ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#define VW2 16
#define ILV_MASK ((uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15))
#elif VW == 16
#define IOTA ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#else
#error "VW must be 4, 8 or 16"
#endif

/* VEC of the VW inputs at p[0], p[S], ..., p[(VW-1)S] of a tensor of
 * STYPE; LOADW elements are read. */
#if S == 1
#define LOADX(p) LDN(VW, 0, (p))
#define LOADW (VW)
#elif S == 2
#if VW == 16
#error "VW must be <= 8 when S == 2"
#endif
#define LOADX(p) (LDN(VW2, 0, (p))).even
#define LOADW (2 * (VW))
#else
#error "S must be 1 or 2"
#endif

/* a*b + c in the arithmetic precision: fma for float; mad for half, where
 * a correctly rounded fma is emulated in software on devices without
 * native half arithmetic (measured ~20x slower on the Intel CPU runtime). */
#if HALF_MATH
#define MADD(a, b, c) mad((a), (b), (c))
#else
#define MADD(a, b, c) fma((a), (b), (c))
#endif

/* The activation ACT_* of cl/common.cl on a value of type T (real or VEC),
 * in the arithmetic precision: every constant is an RL so that half math
 * never mixes float and half operands. */
#define DEFINE_ACT(name, T)                                                                  \
    inline T name(T v, int act) {                                                            \
        switch (act) {                                                                       \
        case ACT_RELU: return fmax(v, (T)(RL(0.0f)));                                        \
        case ACT_RELU6: return fmin(fmax(v, (T)(RL(0.0f))), (T)(RL(6.0f)));                  \
        case ACT_SILU: return v * ((T)(RL(1.0f)) / ((T)(RL(1.0f)) + exp(-v)));               \
        case ACT_SIGMOID: return (T)(RL(1.0f)) / ((T)(RL(1.0f)) + exp(-v));                  \
        case ACT_HARDSIGMOID:                                                                \
            return fmin(fmax(v / RL(6.0f) + RL(0.5f), (T)(RL(0.0f))), (T)(RL(1.0f)));        \
        default: return v;                                                                   \
        }                                                                                    \
    }
DEFINE_ACT(act_vec, VEC)
DEFINE_ACT(act_one, real)

/* Stores the first n (<= VW) lanes of v at p (rounded to half for half tensors). */
inline void store_part(VEC v, global STYPE *p, int n) {
    if (n >= VW) {
        STN(VW, v, 0, p);
    } else {
        real t[VW];
        VSTORE(v, 0, t);
        for (int l = 0; l < n; l++) ST(t[l], p, l);
    }
}

/* ---- forward ------------------------------------------------------------------------ */

/* Input rows touched by a block of R output rows. */
#define NIR (((R) - 1) * (S) + ((K) - 1) * (D) + 1)

/* One block of R output rows x VW columns starting at (oh0, ow0); xp and yp
 * point at the (n, c) plane. masked: border segment (columns outside the
 * image read as 0, partial stores). */
inline __attribute__((always_inline)) void dw_fwd_seg(const global STYPE *xp, int x_sh, int H, int W, const real *wk, real bv, int act,
                                                      global STYPE *yp, int y_sh, int oh0, int oh_end, int ow0,
                                                      int Wo, const int masked) {
    VEC acc[R];
#pragma unroll
    for (int r = 0; r < R; r++) acc[r] = (VEC)(bv);
    const int xs = ow0 * S - PAD;
#pragma unroll
    for (int ir = 0; ir < NIR; ir++) {
        const int ih = oh0 * S - PAD + ir;
        if (ih < 0 || ih >= H) continue;
        const global STYPE *rp = xp + ih * x_sh + xs;
#pragma unroll
        for (int kw = 0; kw < K; kw++) {
            VEC v = LOADX(rp + kw * D);
            if (masked) {
                const IVEC xi = IOTA * S + (xs + kw * D);
                v = select((VEC)(RL(0.0f)), v, LANES((xi >= 0) & (xi < W)));
            }
#pragma unroll
            for (int r = 0; r < R; r++) {
                const int dd = ir - r * S;
                if (dd >= 0 && dd % D == 0 && dd / D < K) acc[r] = MADD((VEC)(wk[(dd / D) * K + kw]), v, acc[r]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < R; r++) {
        if (oh0 + r < oh_end) {
            global STYPE *op = yp + (oh0 + r) * y_sh + ow0;
            if (masked) store_part(act_vec(acc[r], act), op, Wo - ow0);
            else STN(VW, act_vec(acc[r], act), 0, op);
        }
    }
}

/* Scalar version of one block. */
inline void dw_fwd_scalar(const global STYPE *xp, int x_sh, int H, int W, const real *wk, real bv, int act,
                          global STYPE *yp, int y_sh, int oh0, int oh_end, int ow0, int Wo) {
    for (int oh = oh0; oh < min(oh0 + R, oh_end); oh++)
        for (int ow = ow0; ow < min(ow0 + VW, Wo); ow++) {
            real s = bv;
            for (int kh = 0; kh < K; kh++) {
                const int ih = oh * S - PAD + kh * D;
                if (ih < 0 || ih >= H) continue;
                for (int kw = 0; kw < K; kw++) {
                    const int iw = ow * S - PAD + kw * D;
                    if (iw >= 0 && iw < W) s = MADD(wk[kh * K + kw], LD(xp, ih * x_sh + iw), s);
                }
            }
            ST(act_one(s, act), yp, oh * y_sh + ow);
        }
}

/* y = act(conv(x, w) + bias) for one band of rows_per_wi output rows
 * (dimension 0) of one plane p = n*C + c (dimension 1). flip != 0 uses the
 * kernel rotated by 180 degrees (backward-data for stride 1). x_elems is the
 * span of x in elements from x_off (last element + 1): vector loads never
 * leave [x_off, x_off + x_elems). All offsets and strides are in elements
 * (of STYPE: x, wt, bias and y share the element type). */
kernel void dw_fwd(const global STYPE *x, int x_off, int x_sn, int x_sc, int x_sh, int x_elems,
                   const global STYPE *wt, int w_off, int w_sc, int w_sh, int flip,
                   const global STYPE *bias, int b_off, int has_bias, int act,
                   global STYPE *y, int y_off, int y_sn, int y_sc, int y_sh,
                   int C, int H, int W, int Ho, int Wo, int nplanes, int rows_per_wi) {
    const int p = get_global_id(1);
    const int oh_begin = get_global_id(0) * rows_per_wi;
    if (p >= nplanes || oh_begin >= Ho) return;
    const int oh_end = min(Ho, oh_begin + rows_per_wi);
    const int n = p / C, c = p - n * C;
    real wk[K * K];
    const global STYPE *wp = wt + w_off + c * w_sc;
    for (int kh = 0; kh < K; kh++)
        for (int kw = 0; kw < K; kw++)
            wk[kh * K + kw] = flip ? LD(wp, (K - 1 - kh) * w_sh + (K - 1 - kw)) : LD(wp, kh * w_sh + kw);
    const real bv = has_bias ? LD(bias, b_off + c) : RL(0.0f);
    const int xidx = n * x_sn + c * x_sc;
    const global STYPE *xp = x + x_off + xidx;
    global STYPE *yp = y + y_off + n * y_sn + c * y_sc;
    for (int oh0 = oh_begin; oh0 < oh_end; oh0 += R) {
        for (int ow0 = 0; ow0 < Wo; ow0 += VW) {
            const int xs = ow0 * S - PAD;
            if (xs >= 0 && xs + (K - 1) * D + LOADW <= W && ow0 + VW <= Wo) {
                dw_fwd_seg(xp, x_sh, H, W, wk, bv, act, yp, y_sh, oh0, oh_end, ow0, Wo, 0);
            } else {
                /* masked vectors if they stay inside x's span, else scalar */
                const int lo = xidx + max(oh0 * S - PAD, 0) * x_sh + xs;
                const int hi = xidx + min((oh0 + R - 1) * S - PAD + (K - 1) * D, H - 1) * x_sh + xs + (K - 1) * D + LOADW;
                if (lo >= 0 && hi <= x_elems)
                    dw_fwd_seg(xp, x_sh, H, W, wk, bv, act, yp, y_sh, oh0, oh_end, ow0, Wo, 1);
                else
                    dw_fwd_scalar(xp, x_sh, H, W, wk, bv, act, yp, y_sh, oh0, oh_end, ow0, Wo);
            }
        }
    }
}

/* ---- backward-data, stride 2 ---------------------------------------------------------- */

#if !DT_HALF /* the backward kernels: float tensors only */

#if S == 2
/* dX[2q+ph][2j+pj] = sum over taps with (ph+PAD-kh*D) and (pj+PAD-kw*D) even of
 * w[kh][kw] * dY[q + (ph+PAD-kh*D)/2][j + (pj+PAD-kw*D)/2]: for each of the
 * four phases a stride-1 correlation of dY with a subset of the taps. One
 * block: input rows 2q, 2q+1 and columns 2*j0 .. 2*(j0+VW)-1. */
/* range of the dY column (and row) offsets (ph + PAD - k*D)/2 */
#define OFF_MIN (-((PAD) + 1) / 2)
#define OFF_MAX (((PAD) + 1) / 2)

inline __attribute__((always_inline)) void dw_bwd_s2_seg(const global float *dyp, int dy_sh, int Ho, int Wo,
                                                         const float *wk, global float *dxp, int dx_sh, int W, int q,
                                                         int ih_end, int j0, const int masked) {
    VEC acc[2][2];
#pragma unroll
    for (int ph = 0; ph < 2; ph++)
#pragma unroll
        for (int pj = 0; pj < 2; pj++) acc[ph][pj] = (VEC)(0.0f);
    /* identical loads of different phases are merged by the compiler */
#pragma unroll
    for (int ph = 0; ph < 2; ph++)
#pragma unroll
        for (int kh = 0; kh < K; kh++) {
            const int th = ph + PAD - kh * D;
            if (th % 2 != 0) continue;
            const int oh = q + th / 2;
            if (oh < 0 || oh >= Ho) continue;
            const global float *rp = dyp + oh * dy_sh + j0;
#pragma unroll
            for (int pj = 0; pj < 2; pj++)
#pragma unroll
                for (int kw = 0; kw < K; kw++) {
                    const int tw = pj + PAD - kw * D;
                    if (tw % 2 != 0) continue;
                    const int co = tw / 2;
                    VEC v;
                    if (masked) {
                        IVEC xi = IOTA + (j0 + co);
                        v = select((VEC)(0.0f), VLOAD(0, rp + co), (xi >= 0) & (xi < Wo));
                    } else {
                        v = VLOAD(0, rp + co);
                    }
                    acc[ph][pj] = fma((VEC)(wk[kh * K + kw]), v, acc[ph][pj]);
                }
        }
#pragma unroll
    for (int ph = 0; ph < 2; ph++) {
        const int ih = 2 * q + ph;
        if (ih >= ih_end) continue;
        global float *op = dxp + ih * dx_sh + 2 * j0;
        CAT(float, VW2) o = shuffle2(acc[ph][0], acc[ph][1], ILV_MASK);
        if (!masked) {
            CAT(vstore, VW2)(o, 0, op);
        } else {
            float t[2 * VW];
            CAT(vstore, VW2)(o, 0, t);
            const int nn = min(2 * VW, W - 2 * j0);
            for (int l = 0; l < nn; l++) op[l] = t[l];
        }
    }
}

/* Generic scalar version of one block (segments whose vectors would leave the
 * tensor's span). */
inline void dw_bwd_s2_scalar(const global float *dyp, int dy_sh, int Ho, int Wo, const float *wk, global float *dxp,
                             int dx_sh, int W, int q, int ih_end, int j0) {
    for (int ph = 0; ph < 2; ph++) {
        const int ih = 2 * q + ph;
        if (ih >= ih_end) continue;
        for (int iw = 2 * j0; iw < min(W, 2 * (j0 + VW)); iw++) {
            float s = 0.0f;
            for (int kh = 0; kh < K; kh++) {
                const int th = ih + PAD - kh * D;
                if (th < 0 || th % 2 != 0 || th / 2 >= Ho) continue;
                for (int kw = 0; kw < K; kw++) {
                    const int tw = iw + PAD - kw * D;
                    if (tw < 0 || tw % 2 != 0 || tw / 2 >= Wo) continue;
                    s = fma(wk[kh * K + kw], dyp[(th / 2) * dy_sh + tw / 2], s);
                }
            }
            dxp[ih * dx_sh + iw] = s;
        }
    }
}

/* dX (H x W, overwritten) from dY (Ho x Wo) for stride 2: dimension 0 is a
 * band of rows_per_wi input rows (even), dimension 1 the plane n*C + c. */
kernel void dw_bwd_data_s2(const global float *dy, int dy_off, int dy_sn, int dy_sc, int dy_sh, int dy_elems,
                           const global float *wt, int w_off, int w_sc, int w_sh,
                           global float *dx, int dx_off, int dx_sn, int dx_sc, int dx_sh,
                           int C, int H, int W, int Ho, int Wo, int nplanes, int rows_per_wi) {
    const int p = get_global_id(1);
    const int ih_begin = get_global_id(0) * rows_per_wi;
    if (p >= nplanes || ih_begin >= H) return;
    const int ih_end = min(H, ih_begin + rows_per_wi);
    const int n = p / C, c = p - n * C;
    float wk[K * K];
    const global float *wp = wt + w_off + c * w_sc;
    for (int kh = 0; kh < K; kh++)
        for (int kw = 0; kw < K; kw++) wk[kh * K + kw] = wp[kh * w_sh + kw];
    const int dyidx = n * dy_sn + c * dy_sc;
    const global float *dyp = dy + dy_off + dyidx;
    global float *dxp = dx + dx_off + n * dx_sn + c * dx_sc;
    const int Wh = (W + 1) / 2;
    for (int q = ih_begin / 2; 2 * q < ih_end; q++) {
        for (int j0 = 0; j0 < Wh; j0 += VW) {
            if (j0 + OFF_MIN >= 0 && j0 + OFF_MAX + VW <= Wo && 2 * (j0 + VW) <= W) {
                dw_bwd_s2_seg(dyp, dy_sh, Ho, Wo, wk, dxp, dx_sh, W, q, ih_end, j0, 0);
            } else {
                /* vectors of the rows q+OFF_MIN .. q+OFF_MAX (clamped) inside the span? */
                const int lo = dyidx + max(q + OFF_MIN, 0) * dy_sh + j0 + OFF_MIN;
                const int hi = dyidx + min(q + OFF_MAX, Ho - 1) * dy_sh + j0 + OFF_MAX + VW;
                if (lo >= 0 && hi <= dy_elems)
                    dw_bwd_s2_seg(dyp, dy_sh, Ho, Wo, wk, dxp, dx_sh, W, q, ih_end, j0, 1);
                else
                    dw_bwd_s2_scalar(dyp, dy_sh, Ho, Wo, wk, dxp, dx_sh, W, q, ih_end, j0);
            }
        }
    }
}
#endif

/* ---- backward-weight ------------------------------------------------------------------ */

/* Kernel rows per backward-weight work-item: KB*K vector accumulators, at
 * most ~24 (registers), the K rows split into blocks of balanced sizes (5:
 * 3+2 rather than 4+1). The host computes the same. */
#define KBMAX ((24 / (K)) < 1 ? 1 : (24 / (K)) > (K) ? (K) : (24 / (K)))
#define KB (((K) + ((K) + KBMAX - 1) / KBMAX - 1) / (((K) + KBMAX - 1) / KBMAX))
#define NKB (((K) + (KB) - 1) / (KB))

/* One column segment of one plane for kernel rows kh0 .. kh0+KB-1: walks the
 * input rows, loading the K taps of a row once and using them for every
 * kernel row (and its output row) of the block. */
inline __attribute__((always_inline)) void dw_wgrad_seg(const global float *xp, int x_sh, int H, int W,
                                                        const global float *dyp, int dy_sh, int Ho, int Wo, int ow0,
                                                        int kh0, VEC acc[KB][K], const int masked) {
    const int xs = ow0 * S - PAD;
    IVEC xm[K];
#pragma unroll
    for (int kw = 0; kw < K; kw++) {
        const IVEC xi = IOTA * S + (xs + kw * D);
        xm[kw] = (xi >= 0) & (xi < W);
    }
    const IVEC gm = IOTA + ow0 < Wo;
    /* input rows used by kernel rows kh0 .. kh0+KB-1 */
    const int ih_lo = max(0, kh0 * D - PAD);
    const int ih_hi = min(H - 1, (Ho - 1) * S - PAD + min(kh0 + KB - 1, K - 1) * D);
    for (int ih = ih_lo; ih <= ih_hi; ih++) {
        const global float *rp = xp + ih * x_sh + xs;
        VEC xt[K];
#pragma unroll
        for (int kw = 0; kw < K; kw++) {
            xt[kw] = LOADX(rp + kw * D);
            if (masked) xt[kw] = select((VEC)(0.0f), xt[kw], xm[kw]);
        }
#pragma unroll
        for (int j = 0; j < KB; j++) {
            const int t = ih + PAD - (kh0 + j) * D;
            if (kh0 + j >= K || t < 0 || t % S != 0 || t / S >= Ho) continue;
            VEC g = VLOAD(0, dyp + (t / S) * dy_sh + ow0);
            if (masked) g = select((VEC)(0.0f), g, gm);
#pragma unroll
            for (int kw = 0; kw < K; kw++) acc[j][kw] = fma(g, xt[kw], acc[j][kw]);
        }
    }
}

/* dW[c][kh][kw] (+)= sum over n in the chunk, oh, ow of
 * dY[n,c,oh,ow] * X[n,c,oh*S-PAD+kh*D, ow*S-PAD+kw*D]. Dimension 0: block of
 * KB kernel rows, dimension 1: c, dimension 2: chunk of batch items
 * [chunk*n_per, ...). nchunk == 1: accumulates into the weight-gradient
 * window (dw, w_off, w_sc, w_sh); otherwise writes
 * part[(chunk*C + c)*K*K + kh*K + kw]. x_elems, dy_elems: spans (see dw_fwd). */
kernel void dw_bwd_weight(const global float *x, int x_off, int x_sn, int x_sc, int x_sh, int x_elems,
                          const global float *dy, int dy_off, int dy_sn, int dy_sc, int dy_sh, int dy_elems,
                          global float *dw, int w_off, int w_sc, int w_sh, global float *part,
                          int N, int C, int H, int W, int Ho, int Wo, int nchunk, int n_per) {
    const int kb = get_global_id(0), c = get_global_id(1), chunk = get_global_id(2);
    if (kb >= NKB || c >= C || chunk >= nchunk) return;
    const int kh0 = kb * KB;
    VEC acc[KB][K];
#pragma unroll
    for (int j = 0; j < KB; j++)
#pragma unroll
        for (int kw = 0; kw < K; kw++) acc[j][kw] = (VEC)(0.0f);
    const int n_end = min(N, (chunk + 1) * n_per);
    for (int n = chunk * n_per; n < n_end; n++) {
        const int xidx = n * x_sn + c * x_sc;
        const int dyidx = n * dy_sn + c * dy_sc;
        const global float *xp = x + x_off + xidx;
        const global float *dyp = dy + dy_off + dyidx;
        for (int ow0 = 0; ow0 < Wo; ow0 += VW) {
            const int xs = ow0 * S - PAD;
            if (xs >= 0 && xs + (K - 1) * D + LOADW <= W && ow0 + VW <= Wo) {
                dw_wgrad_seg(xp, x_sh, H, W, dyp, dy_sh, Ho, Wo, ow0, kh0, acc, 0);
            } else if (xidx + xs >= 0 && xidx + (H - 1) * x_sh + xs + (K - 1) * D + LOADW <= x_elems &&
                       dyidx + (Ho - 1) * dy_sh + ow0 + VW <= dy_elems) {
                dw_wgrad_seg(xp, x_sh, H, W, dyp, dy_sh, Ho, Wo, ow0, kh0, acc, 1);
            } else {
                /* scalar, at the ends of the spans: into lane 0 */
                for (int oh = 0; oh < Ho; oh++)
                    for (int ow = ow0; ow < min(ow0 + VW, Wo); ow++) {
                        const float g = dyp[oh * dy_sh + ow];
#pragma unroll
                        for (int j = 0; j < KB; j++) {
                            const int ih = oh * S - PAD + (kh0 + j) * D;
                            if (kh0 + j >= K || ih < 0 || ih >= H) continue;
#pragma unroll
                            for (int kw = 0; kw < K; kw++) {
                                const int iw = ow * S - PAD + kw * D;
                                if (iw >= 0 && iw < W) acc[j][kw].s0 = fma(g, xp[ih * x_sh + iw], acc[j][kw].s0);
                            }
                        }
                    }
            }
        }
    }
#pragma unroll
    for (int j = 0; j < KB; j++) {
        const int kh = kh0 + j;
        if (kh >= K) continue;
#pragma unroll
        for (int kw = 0; kw < K; kw++) {
            float t[VW];
            VSTORE(acc[j][kw], 0, t);
            float s = 0.0f;
            for (int l = 0; l < VW; l++) s += t[l];
            if (nchunk == 1) dw[w_off + c * w_sc + kh * w_sh + kw] += s;
            else part[((size_t)chunk * C + c) * K * K + kh * K + kw] = s;
        }
    }
}

/* Second stage: dW[c][kh][kw] += sum over chunks of part. One work-item per
 * (tap, c): dimension 0 is kh*K + kw, dimension 1 is c. */
kernel void dw_bwd_weight_reduce(const global float *part, int nchunk, int C, global float *dw, int w_off,
                                 int w_sc, int w_sh) {
    const int tap = get_global_id(0), c = get_global_id(1);
    if (tap >= K * K || c >= C) return;
    float s = 0.0f;
    for (int i = 0; i < nchunk; i++) s += part[((size_t)i * C + c) * K * K + tap];
    dw[w_off + c * w_sc + (tap / K) * w_sh + tap % K] += s;
}

#endif /* !DT_HALF */
