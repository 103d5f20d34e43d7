/* conv.cl - dense (groups=1) 2-D convolution kernels, NCHW:
 *  - 1x1 convolution as a register-blocked GEMM (forward, backward-data) and a
 *    GEMM-like reduction over the pixels (backward-weight), bias gradient;
 *  - direct KxK convolution with stride and padding (the 3x3 stride-2 stem):
 *    forward, backward-data, two-stage backward-weight.
 * Weights may be sub-blocks of larger tensors (row stride ldw = C_in_max*K*K);
 * activations may be channel views (channel stride and batch stride given).
 * Specialised with -D: ACT (activation code), HAS_BIAS, TM/NV (GEMM tile: TM
 * rows x NV 16-lane pixel vectors), TRANS_A, WM/WC (wgrad tile), K/STRIDE/PAD.
 * Element type (common.cl): the forward kernels (conv1x1_gemm,
 * conv1x1_gemm_small, conv_direct_fwd, conv_bias_act) are written with
 * STYPE/real and also build with DT_HALF (half storage) and HALF_MATH (half
 * arithmetic: the sums accumulate in half). The backward kernels are float
 * only and are left out of DT_HALF builds. */
#include "common.cl"

#ifndef ACT
#define ACT ACT_NONE
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif

/* activations on `real` scalars and vectors (constants in the arithmetic type:
 * builtins reject mixed float/half operands) */
#if ACT == ACT_RELU
#define ACTV(x) fmax((x), RL(0.0f))
#elif ACT == ACT_RELU6
#define ACTV(x) fmin(fmax((x), RL(0.0f)), RL(6.0f))
#elif ACT == ACT_SILU
#define ACTV(x) ((x) / (RL(1.0f) + exp(-(x))))
#elif ACT == ACT_SIGMOID
#define ACTV(x) (RL(1.0f) / (RL(1.0f) + exp(-(x))))
#elif ACT == ACT_HARDSIGMOID
#define ACTV(x) fmin(fmax((x) * RL(1.0f / 6.0f) + RL(0.5f), RL(0.0f)), RL(1.0f))
#else
#define ACTV(x) (x)
#endif

/* ---- 1x1 convolution as GEMM --------------------------------------------------------- */
#if defined(TM) && !defined(SMALLP)
/* Per batch item n (get_global_id(2)):
 *   C[m, p] = ACT(sum_k A(m, k) * B[k, p] + bias[m])   m < M, p < P, k < K
 * A(m, k) = A[a_off + m*lda + k] (forward: the weight), or with TRANS_A
 * A[a_off + k*lda + m] (backward-data: the weight transposed). B rows (channels)
 * are ldb apart, batch items b_bs apart; pixels contiguous. One work-item
 * computes TM rows x (16*NV) pixels with the K loop inside; the last pixel tile
 * is shifted back to end at P (it recomputes identical values), and when
 * P < 16*NV a guarded scalar path runs. Rows past M are clamped on load and
 * not stored. Global size: (ceil(M/TM), ceil(P/(16*NV)), N). */
#define TN (16 * NV)
__kernel void conv1x1_gemm(const int M, const int P, const int K, __global const STYPE *A, const int a_off,
                           const int lda, __global const STYPE *B, const int b_off, const int ldb, const int b_bs,
                           __global STYPE *C, const int c_off, const int ldc, const int c_bs,
                           __global const STYPE *bias, const int bias_off) {
    const int mt = get_global_id(0), pt = get_global_id(1), n = get_global_id(2);
    const int m0 = mt * TM;
    if (m0 >= M) return;
    int p0 = pt * TN;
    if (p0 >= P) return;
    const __global STYPE *b = B + b_off + (size_t)n * b_bs;
    __global STYPE *c = C + c_off + (size_t)n * c_bs;
    const __global STYPE *arow[TM];
#pragma unroll
    for (int i = 0; i < TM; i++) {
        int m = min(m0 + i, M - 1);
#ifdef TRANS_A
        arow[i] = A + a_off + m;
#else
        arow[i] = A + a_off + (size_t)m * lda;
#endif
    }
    if (P >= TN) {
        p0 = min(p0, P - TN);
        realN(16) acc[TM][NV];
#pragma unroll
        for (int i = 0; i < TM; i++)
#pragma unroll
            for (int j = 0; j < NV; j++) acc[i][j] = (realN(16))(RL(0.0f));
        const __global STYPE *bp = b + p0;
        int k = 0;
#if DT_HALF && !HALF_MATH && !defined(TRANS_A)
        /* vload_half of a single element converts in software on some CPUs
         * (PoCL): the weights are taken 8 k at a time with vload_half8 */
        for (; k + 8 <= K; k += 8) {
            float a8[TM][8];
#pragma unroll
            for (int i = 0; i < TM; i++) vstore8(vload_half8(0, arow[i] + k), 0, a8[i]);
#pragma unroll
            for (int kk = 0; kk < 8; kk++) {
                float16 bv[NV];
#pragma unroll
                for (int j = 0; j < NV; j++) bv[j] = vload_half16(j, bp);
                bp += ldb;
#pragma unroll
                for (int i = 0; i < TM; i++)
#pragma unroll
                    for (int j = 0; j < NV; j++) acc[i][j] = fma((float16)(a8[i][kk]), bv[j], acc[i][j]);
            }
        }
#endif
        for (; k < K; k++) {
            realN(16) bv[NV];
#pragma unroll
            for (int j = 0; j < NV; j++) bv[j] = LDN(16, j, bp);
            bp += ldb;
#pragma unroll
            for (int i = 0; i < TM; i++) {
#ifdef TRANS_A
                real a = LD(arow[i], (size_t)k * lda);
#else
                real a = LD(arow[i], k);
#endif
#pragma unroll
                for (int j = 0; j < NV; j++) acc[i][j] = fma((realN(16))(a), bv[j], acc[i][j]);
            }
        }
#pragma unroll
        for (int i = 0; i < TM; i++) {
            if (m0 + i < M) {
#if HAS_BIAS
                real bi = LD(bias, bias_off + m0 + i);
#else
                real bi = RL(0.0f);
#endif
                __global STYPE *cp = c + (size_t)(m0 + i) * ldc + p0;
#pragma unroll
                for (int j = 0; j < NV; j++) {
                    realN(16) v = acc[i][j] + bi;
                    STN(16, ACTV(v), j, cp);
                }
            }
        }
    } else {
        /* narrow images: one pixel at a time */
        for (int p = 0; p < P; p++) {
            real acc[TM];
#pragma unroll
            for (int i = 0; i < TM; i++) acc[i] = RL(0.0f);
            for (int k = 0; k < K; k++) {
                real bv = LD(b, (size_t)k * ldb + p);
#pragma unroll
                for (int i = 0; i < TM; i++) {
#ifdef TRANS_A
                    acc[i] = fma(LD(arow[i], (size_t)k * lda), bv, acc[i]);
#else
                    acc[i] = fma(LD(arow[i], k), bv, acc[i]);
#endif
                }
            }
#pragma unroll
            for (int i = 0; i < TM; i++)
                if (m0 + i < M) {
#if HAS_BIAS
                    real v = acc[i] + LD(bias, bias_off + m0 + i);
#else
                    real v = acc[i];
#endif
                    ST(ACTV(v), c, (size_t)(m0 + i) * ldc + p);
                }
        }
    }
}
#endif

#ifdef SMALLP
/* The same product for images of fewer than 16 pixels, one work-item per
 * pixel. Without TRANS_A: TM rows, 16 lanes along K (the B column is
 * gathered once for TM rows), then a horizontal sum. With TRANS_A: 16 rows in
 * the lanes (A(m, k) is contiguous along m); the last row block is shifted
 * back to end at M (identical values) or, when M < 16, done lane by lane.
 * Global size: (ceil(M/TM) or ceil(M/16), P, N). */
inline real hsum16s(realN(16) v) {
    realN(8) a = v.lo + v.hi;
    realN(4) b = a.lo + a.hi;
    realN(2) c = b.lo + b.hi;
    return c.x + c.y;
}
__kernel void conv1x1_gemm_small(const int M, const int P, const int K, __global const STYPE *A, const int a_off,
                                 const int lda, __global const STYPE *B, const int b_off, const int ldb,
                                 const int b_bs, __global STYPE *C, const int c_off, const int ldc, const int c_bs,
                                 __global const STYPE *bias, const int bias_off) {
    const int mt = get_global_id(0), p = get_global_id(1), n = get_global_id(2);
    if (p >= P) return;
    const __global STYPE *b = B + b_off + (size_t)n * b_bs + p;
    __global STYPE *c = C + c_off + (size_t)n * c_bs + p;
#ifdef TRANS_A
    int m0 = mt * 16;
    if (m0 >= M) return;
    if (M >= 16) {
        m0 = min(m0, M - 16);
        realN(16) acc = (realN(16))(RL(0.0f));
        const __global STYPE *a = A + a_off + m0;
        for (int k = 0; k < K; k++)
            acc = fma(LDN(16, 0, a + (size_t)k * lda), (realN(16))(LD(b, (size_t)k * ldb)), acc);
#if HAS_BIAS
        acc += LDN(16, 0, bias + bias_off + m0);
#endif
        acc = ACTV(acc);
        real t[16];
        vstore16(acc, 0, t);
#pragma unroll
        for (int i = 0; i < 16; i++) ST(t[i], c, (size_t)(m0 + i) * ldc);
    } else {
        for (int m = 0; m < M; m++) {
            real acc = RL(0.0f);
            for (int k = 0; k < K; k++) acc = fma(LD(A, a_off + (size_t)k * lda + m), LD(b, (size_t)k * ldb), acc);
#if HAS_BIAS
            acc += LD(bias, bias_off + m);
#endif
            ST(ACTV(acc), c, (size_t)m * ldc);
        }
    }
#else
    const int m0 = mt * TM;
    if (m0 >= M) return;
    const __global STYPE *arow[TM];
#pragma unroll
    for (int i = 0; i < TM; i++) arow[i] = A + a_off + (size_t)min(m0 + i, M - 1) * lda;
    realN(16) acc[TM];
#pragma unroll
    for (int i = 0; i < TM; i++) acc[i] = (realN(16))(RL(0.0f));
    const int K16 = K & ~15;
    for (int k = 0; k < K16; k += 16) {
        real t[16];
#pragma unroll
        for (int l = 0; l < 16; l++) t[l] = LD(b, (size_t)(k + l) * ldb);
        realN(16) bv = vload16(0, t);
#pragma unroll
        for (int i = 0; i < TM; i++) acc[i] = fma(LDN(16, 0, arow[i] + k), bv, acc[i]);
    }
    real s[TM];
#pragma unroll
    for (int i = 0; i < TM; i++) s[i] = hsum16s(acc[i]);
    for (int k = K16; k < K; k++) {
        real bv = LD(b, (size_t)k * ldb);
#pragma unroll
        for (int i = 0; i < TM; i++) s[i] = fma(LD(arow[i], k), bv, s[i]);
    }
#pragma unroll
    for (int i = 0; i < TM; i++)
        if (m0 + i < M) {
#if HAS_BIAS
            real v = s[i] + LD(bias, bias_off + m0 + i);
#else
            real v = s[i];
#endif
            ST(ACTV(v), c, (size_t)(m0 + i) * ldc);
        }
#endif
}
#endif

#ifdef WM
/* 1x1 backward-weight: dW[m*ldw + j] += sum_n sum_p G[n, m, p] * X[n, j, p]
 * for m < M (C_out), j < J (C_in). G (dY) rows are ldg apart, X rows ldx apart,
 * batch items g_bs / x_bs apart. One work-item owns a WM x WC tile of dW and
 * reduces over every pixel of every batch item with float16 partial sums.
 * Global size: (ceil(J/WC), ceil(M/WM)). */
inline float hsum16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}
__kernel void conv1x1_wgrad(const int M, const int J, const int P, const int N, __global const float *G,
                            const int g_off, const int ldg, const int g_bs, __global const float *X, const int x_off,
                            const int ldx, const int x_bs, __global float *DW, const int dw_off, const int ldw) {
    const int j0 = get_global_id(0) * WC, m0 = get_global_id(1) * WM;
    if (j0 >= J || m0 >= M) return;
    int mi[WM], ji[WC];
#pragma unroll
    for (int i = 0; i < WM; i++) mi[i] = min(m0 + i, M - 1);
#pragma unroll
    for (int j = 0; j < WC; j++) ji[j] = min(j0 + j, J - 1);
    float16 acc[WM][WC];
#pragma unroll
    for (int i = 0; i < WM; i++)
#pragma unroll
        for (int j = 0; j < WC; j++) acc[i][j] = (float16)(0.0f);
    float sacc[WM][WC];
#pragma unroll
    for (int i = 0; i < WM; i++)
#pragma unroll
        for (int j = 0; j < WC; j++) sacc[i][j] = 0.0f;
    const int P16 = P & ~15;
    for (int n = 0; n < N; n++) {
        const __global float *gr[WM], *xr[WC];
#pragma unroll
        for (int i = 0; i < WM; i++) gr[i] = G + g_off + (size_t)n * g_bs + (size_t)mi[i] * ldg;
#pragma unroll
        for (int j = 0; j < WC; j++) xr[j] = X + x_off + (size_t)n * x_bs + (size_t)ji[j] * ldx;
        for (int p = 0; p < P16; p += 16) {
            float16 gv[WM], xv[WC];
#pragma unroll
            for (int i = 0; i < WM; i++) gv[i] = vload16(0, gr[i] + p);
#pragma unroll
            for (int j = 0; j < WC; j++) xv[j] = vload16(0, xr[j] + p);
#pragma unroll
            for (int i = 0; i < WM; i++)
#pragma unroll
                for (int j = 0; j < WC; j++) acc[i][j] = fma(gv[i], xv[j], acc[i][j]);
        }
        for (int p = P16; p < P; p++) {
#pragma unroll
            for (int i = 0; i < WM; i++)
#pragma unroll
                for (int j = 0; j < WC; j++) sacc[i][j] = fma(gr[i][p], xr[j][p], sacc[i][j]);
        }
    }
#pragma unroll
    for (int i = 0; i < WM; i++)
#pragma unroll
        for (int j = 0; j < WC; j++)
            if (m0 + i < M && j0 + j < J) DW[dw_off + (size_t)(m0 + i) * ldw + j0 + j] += hsum16(acc[i][j]) + sacc[i][j];
}
#endif

#ifdef WSMALL
/* 1x1 backward-weight for images of fewer than 16 pixels: the same sum with
 * 16 consecutive columns j in the float16 lanes (X gathered across channels)
 * and WSMALL rows per work-item. Global size: (ceil(J/16), ceil(M/WSMALL)). */
__kernel void conv1x1_wgrad_small(const int M, const int J, const int P, const int N, __global const float *G,
                                  const int g_off, const int ldg, const int g_bs, __global const float *X,
                                  const int x_off, const int ldx, const int x_bs, __global float *DW,
                                  const int dw_off, const int ldw) {
    const int j0 = get_global_id(0) * 16, m0 = get_global_id(1) * WSMALL;
    if (j0 >= J || m0 >= M) return;
    int xoff[16];
#pragma unroll
    for (int l = 0; l < 16; l++) xoff[l] = min(j0 + l, J - 1) * ldx;
    float16 acc[WSMALL];
#pragma unroll
    for (int i = 0; i < WSMALL; i++) acc[i] = (float16)(0.0f);
    for (int n = 0; n < N; n++) {
        const __global float *g = G + g_off + (size_t)n * g_bs;
        const __global float *x = X + x_off + (size_t)n * x_bs;
        for (int p = 0; p < P; p++) {
            float t[16];
#pragma unroll
            for (int l = 0; l < 16; l++) t[l] = x[xoff[l] + p];
            float16 xv = vload16(0, t);
#pragma unroll
            for (int i = 0; i < WSMALL; i++) acc[i] = fma((float16)(g[(size_t)min(m0 + i, M - 1) * ldg + p]), xv, acc[i]);
        }
    }
#pragma unroll
    for (int i = 0; i < WSMALL; i++) {
        if (m0 + i >= M) break;
        float t[16];
        vstore16(acc[i], 0, t);
        __global float *d = DW + dw_off + (size_t)(m0 + i) * ldw + j0;
        for (int l = 0; l < 16 && j0 + l < J; l++) d[l] += t[l];
    }
}
#endif

#if !DT_HALF
/* Bias gradient: db[c] += sum_n sum_p G[n, c, p]; one work-item per channel. */
__kernel void conv_bias_grad(const int C, const int P, const int N, __global const float *G, const int g_off,
                             const int ldg, const int g_bs, __global float *DB, const int db_off) {
    const int ch = get_global_id(0);
    if (ch >= C) return;
    float16 acc = (float16)(0.0f);
    float s = 0.0f;
    const int P16 = P & ~15;
    for (int n = 0; n < N; n++) {
        const __global float *g = G + g_off + (size_t)n * g_bs + (size_t)ch * ldg;
        for (int p = 0; p < P16; p += 16) acc += vload16(0, g + p);
        for (int p = P16; p < P; p++) s += g[p];
    }
    float8 a = acc.lo + acc.hi;
    float4 b = a.lo + a.hi;
    DB[db_off + ch] += b.x + b.y + b.z + b.w + s;
}
#endif

/* In-place bias + activation on a GEMM result (the CLBlast path):
 * Y[n, c, p] = ACT(Y[n, c, p] + bias[c]). Global size: (P, C, N). */
__kernel void conv_bias_act(const int C, const int P, __global STYPE *Y, const int y_off, const int ldy,
                            const int y_bs, __global const STYPE *bias, const int bias_off) {
    const int p = get_global_id(0), ch = get_global_id(1), n = get_global_id(2);
    if (p >= P || ch >= C) return;
    __global STYPE *y = Y + y_off + (size_t)n * y_bs + (size_t)ch * ldy + p;
#if HAS_BIAS
    real v = LD(y, 0) + LD(bias, bias_off + ch);
#else
    real v = LD(y, 0);
#endif
    ST(ACTV(v), y, 0);
}

/* ---- direct KxK convolution (stride STRIDE, zero padding PAD) ------------------------- */
#ifdef KSIZE
#define KK (KSIZE * KSIZE)
#ifndef TCO
#define TCO 8
#endif
#ifndef TCI
#define TCI 4
#endif
/* 8 outputs along a row: input columns ix0, ix0+S, ..., zero outside [0, W). */
inline realN(8) conv_row8(const __global STYPE *row, int ix0, int W) {
    if (ix0 >= 0 && ix0 + 8 * STRIDE <= W) {
#if STRIDE == 1
        return LDN(8, 0, row + ix0);
#elif STRIDE == 2
        return LDN(16, 0, row + ix0).even;
#else
        realN(8) v;
        v.s0 = LD(row, ix0); v.s1 = LD(row, ix0 + STRIDE); v.s2 = LD(row, ix0 + 2 * STRIDE);
        v.s3 = LD(row, ix0 + 3 * STRIDE); v.s4 = LD(row, ix0 + 4 * STRIDE); v.s5 = LD(row, ix0 + 5 * STRIDE);
        v.s6 = LD(row, ix0 + 6 * STRIDE); v.s7 = LD(row, ix0 + 7 * STRIDE);
        return v;
#endif
    }
    real t[8];
#pragma unroll
    for (int l = 0; l < 8; l++) {
        int ix = ix0 + l * STRIDE;
        t[l] = (ix >= 0 && ix < W) ? LD(row, ix) : RL(0.0f);
    }
    return vload8(0, t);
}

/* Forward: Y[n, co, oy, ox] = ACT(bias[co] + sum_{ci,ky,kx} W[co, ci, ky, kx] *
 * X[n, ci, oy*S - PAD + ky, ox*S - PAD + kx]). W[co, ci, ky, kx] is at
 * w_off + co*ldw + ci*KK + ky*KSIZE + kx. One work-item: TCO output channels x 8
 * output columns of one row; the last column chunk is shifted back to end at Wo
 * (or, when Wo < 8, stored lane by lane). Global: (ceil(Wo/8), Ho, N*ceil(Co/TCO)). */
__kernel void conv_direct_fwd(const int Ci, const int H, const int W, const int Co, const int Ho, const int Wo,
                              __global const STYPE *X, const int x_off, const int x_cs, const int x_bs,
                              __global const STYPE *Wt, const int w_off, const int ldw, __global STYPE *Y,
                              const int y_off, const int y_cs, const int y_bs, __global const STYPE *bias,
                              const int bias_off) {
    const int oxc = get_global_id(0), oy = get_global_id(1), z = get_global_id(2);
    const int ntc = (Co + TCO - 1) / TCO;
    const int n = z / ntc, co0 = (z % ntc) * TCO;
    if (oy >= Ho || oxc * 8 >= Wo) return;
    const int ox0 = Wo >= 8 ? min(oxc * 8, Wo - 8) : 0;
    realN(8) acc[TCO];
#pragma unroll
    for (int t = 0; t < TCO; t++) acc[t] = (realN(8))(RL(0.0f));
    const int ix0 = ox0 * STRIDE - PAD;
    for (int ci = 0; ci < Ci; ci++) {
        const __global STYPE *xc = X + x_off + (size_t)n * x_bs + (size_t)ci * x_cs;
        const __global STYPE *wc = Wt + w_off + ci * KK;
#if DT_HALF && !HALF_MATH
        /* as in conv1x1_gemm: each output channel's taps converted 8 at a time */
        float wk[TCO][KK];
#pragma unroll
        for (int t = 0; t < TCO; t++) {
            const __global half *wp = wc + (size_t)min(co0 + t, Co - 1) * ldw;
#pragma unroll
            for (int e = 0; e + 8 <= KK; e += 8) vstore8(vload_half8(0, wp + e), 0, &wk[t][e]);
#pragma unroll
            for (int e = KK & ~7; e < KK; e++) wk[t][e] = vload_half(e, wp);
        }
#define CONV_TAP(t, tap) wk[t][tap]
#else
#define CONV_TAP(t, tap) LD(wc, (size_t)min(co0 + (t), Co - 1) * ldw + (tap))
#endif
#pragma unroll
        for (int ky = 0; ky < KSIZE; ky++) {
            const int iy = oy * STRIDE - PAD + ky;
            if (iy < 0 || iy >= H) continue;
            const __global STYPE *row = xc + (size_t)iy * W;
#pragma unroll
            for (int kx = 0; kx < KSIZE; kx++) {
                realN(8) xv = conv_row8(row, ix0 + kx, W);
#pragma unroll
                for (int t = 0; t < TCO; t++) acc[t] = fma((realN(8))(CONV_TAP(t, ky * KSIZE + kx)), xv, acc[t]);
            }
        }
#undef CONV_TAP
    }
    __global STYPE *yb = Y + y_off + (size_t)n * y_bs + (size_t)oy * Wo + ox0;
#pragma unroll
    for (int t = 0; t < TCO; t++) {
        if (co0 + t >= Co) break;
#if HAS_BIAS
        realN(8) v = acc[t] + LD(bias, bias_off + co0 + t);
#else
        realN(8) v = acc[t];
#endif
        v = ACTV(v);
        __global STYPE *yp = yb + (size_t)(co0 + t) * y_cs;
        if (Wo >= 8) {
            STN(8, v, 0, yp);
        } else {
            real tmp[8];
            vstore8(v, 0, tmp);
            for (int l = 0; l < Wo; l++) ST(tmp[l], yp, l);
        }
    }
}

#if !DT_HALF /* the backward kernels are float only */

/* 8 values of a dY row from column ox0 on, zero outside [0, Wo). */
inline float8 conv_dyrow8(const __global float *row, int ox0, int Wo) {
    if (ox0 >= 0 && ox0 + 8 <= Wo) return vload8(0, row + ox0);
    float t[8];
#pragma unroll
    for (int l = 0; l < 8; l++) {
        int ox = ox0 + l;
        t[l] = (ox >= 0 && ox < Wo) ? row[ox] : 0.0f;
    }
    return vload8(0, t);
}

/* Backward-data (overwrites): dX[n, ci, iy, ix] = sum_{co,ky,kx} W[co, ci, ky, kx] *
 * dY[n, co, oy, ox] over the (oy, ox) with oy*S - PAD + ky = iy, ox*S - PAD + kx = ix.
 * One work-item: TCI input channels x 8*S consecutive input columns of one row.
 * The columns are split by phase r = ix mod S: within a phase the valid kx are
 * the same for all 8 lanes and their ox are consecutive (one vector load of dY).
 * Global: (ceil(W/(8*S)), H, N*ceil(Ci/TCI)). */
__kernel void conv_direct_bwd_data(const int Ci, const int H, const int W, const int Co, const int Ho, const int Wo,
                                   __global const float *G, const int g_off, const int g_cs, const int g_bs,
                                   __global const float *Wt, const int w_off, const int ldw, __global float *DX,
                                   const int dx_off, const int dx_cs, const int dx_bs) {
    const int xc = get_global_id(0), iy = get_global_id(1), z = get_global_id(2);
    const int ntc = (Ci + TCI - 1) / TCI;
    const int n = z / ntc, ci0 = (z % ntc) * TCI;
    const int ix0 = xc * 8 * STRIDE;
    if (ix0 >= W || iy >= H) return;
    float8 acc[TCI][STRIDE];
#pragma unroll
    for (int t = 0; t < TCI; t++)
#pragma unroll
        for (int r = 0; r < STRIDE; r++) acc[t][r] = (float8)(0.0f);
    const __global float *g = G + g_off + (size_t)n * g_bs;
    int wci[TCI];
#pragma unroll
    for (int t = 0; t < TCI; t++) wci[t] = w_off + min(ci0 + t, Ci - 1) * KK;
#pragma unroll
    for (int ky = 0; ky < KSIZE; ky++) {
        const int ty = iy + PAD - ky;
        if (ty < 0 || ty % STRIDE != 0 || ty / STRIDE >= Ho) continue;
        const int oy = ty / STRIDE;
#pragma unroll
        for (int r = 0; r < STRIDE; r++) {
#pragma unroll
            for (int kx = 0; kx < KSIZE; kx++) {
                const int tx = ix0 + r + PAD - kx;
                if (((tx % STRIDE) + STRIDE) % STRIDE != 0) continue;
                const int ox0 = tx / STRIDE;
                const __global float *grow = g + (size_t)oy * Wo;
                for (int co = 0; co < Co; co++) {
                    const float8 dv = conv_dyrow8(grow + (size_t)co * g_cs, ox0, Wo);
                    const size_t wo = (size_t)co * ldw + ky * KSIZE + kx;
#pragma unroll
                    for (int t = 0; t < TCI; t++) acc[t][r] = fma((float8)(Wt[wci[t] + wo]), dv, acc[t][r]);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < TCI; t++) {
        if (ci0 + t >= Ci) break;
        float tmp[8 * STRIDE];
#pragma unroll
        for (int r = 0; r < STRIDE; r++) {
            float lanes[8];
            vstore8(acc[t][r], 0, lanes);
#pragma unroll
            for (int l = 0; l < 8; l++) tmp[l * STRIDE + r] = lanes[l];
        }
        __global float *d = DX + dx_off + (size_t)n * dx_bs + (size_t)(ci0 + t) * dx_cs + (size_t)iy * W + ix0;
        const int cnt = min(8 * STRIDE, W - ix0);
        for (int l = 0; l < cnt; l++) d[l] = tmp[l];
    }
}

/* Backward-weight, stage 1: partial sums over a chunk of the N*Ho output rows.
 * PART[chunk, co, ci, tap] = sum over rows r in the chunk (n = r / Ho,
 * oy = r % Ho) and all ox of dY[n, co, oy, ox] * X[n, ci, oy*S-PAD+ky, ox*S-PAD+kx].
 * Global: (Ci, Co, nchunk). */
__kernel void conv_direct_wgrad_part(const int Ci, const int H, const int W, const int Co, const int Ho,
                                     const int Wo, const int N, const int rows_per_chunk, __global const float *X,
                                     const int x_off, const int x_cs, const int x_bs, __global const float *G,
                                     const int g_off, const int g_cs, const int g_bs, __global float *PART) {
    const int ci = get_global_id(0), co = get_global_id(1), chunk = get_global_id(2);
    if (ci >= Ci || co >= Co) return;
    const int r0 = chunk * rows_per_chunk, r1 = min(r0 + rows_per_chunk, N * Ho);
    float8 acc[KK];
#pragma unroll
    for (int t = 0; t < KK; t++) acc[t] = (float8)(0.0f);
    float sacc[KK];
#pragma unroll
    for (int t = 0; t < KK; t++) sacc[t] = 0.0f;
    const int Wo8 = Wo & ~7;
    for (int r = r0; r < r1; r++) {
        const int n = r / Ho, oy = r % Ho;
        const __global float *g = G + g_off + (size_t)n * g_bs + (size_t)co * g_cs + (size_t)oy * Wo;
        const __global float *xc = X + x_off + (size_t)n * x_bs + (size_t)ci * x_cs;
        for (int ox0 = 0; ox0 < Wo8; ox0 += 8) {
            const float8 gv = vload8(0, g + ox0);
            const int ix0 = ox0 * STRIDE - PAD;
#pragma unroll
            for (int ky = 0; ky < KSIZE; ky++) {
                const int iy = oy * STRIDE - PAD + ky;
                if (iy < 0 || iy >= H) continue;
                const __global float *row = xc + (size_t)iy * W;
#pragma unroll
                for (int kx = 0; kx < KSIZE; kx++) acc[ky * KSIZE + kx] = fma(gv, conv_row8(row, ix0 + kx, W), acc[ky * KSIZE + kx]);
            }
        }
        for (int ox = Wo8; ox < Wo; ox++) {
            const float gs = g[ox];
#pragma unroll
            for (int ky = 0; ky < KSIZE; ky++) {
                const int iy = oy * STRIDE - PAD + ky;
                if (iy < 0 || iy >= H) continue;
#pragma unroll
                for (int kx = 0; kx < KSIZE; kx++) {
                    const int ix = ox * STRIDE - PAD + kx;
                    if (ix >= 0 && ix < W) sacc[ky * KSIZE + kx] = fma(gs, xc[(size_t)iy * W + ix], sacc[ky * KSIZE + kx]);
                }
            }
        }
    }
    __global float *out = PART + (((size_t)chunk * Co + co) * Ci + ci) * KK;
#pragma unroll
    for (int t = 0; t < KK; t++) {
        float8 a = acc[t];
        float4 b = a.lo + a.hi;
        out[t] = b.x + b.y + b.z + b.w + sacc[t];
    }
}

/* Backward-weight, stage 2 (accumulates): dW[co, ci, tap] += sum_chunk PART[chunk, co, ci, tap].
 * Global: (Ci*KK, Co). */
__kernel void conv_direct_wgrad_reduce(const int Ci, const int Co, const int nchunk, __global const float *PART,
                                       __global float *DW, const int dw_off, const int ldw) {
    const int e = get_global_id(0), co = get_global_id(1);
    if (e >= Ci * KK || co >= Co) return;
    float s = 0.0f;
    for (int c = 0; c < nchunk; c++) s += PART[((size_t)c * Co + co) * Ci * KK + e];
    DW[dw_off + (size_t)co * ldw + e] += s;
}
#endif /* !DT_HALF */
#endif
