/* activation.cl - pointwise activations (ReLU, ReLU6, SiLU, sigmoid,
 * hardsigmoid; PyTorch definitions) forward and backward over NCHW tensors
 * whose H x W planes are dense (channel views allowed).
 *
 * Options: -DACT=n (ACT_* code of common.cl), -DVEC=4|8|16 (floats per
 * vector), -DBWD_FROM_Y=0|1 (sigmoid backward from y instead of x).
 * Grid: dim 0 over VEC-chunks of a row of L elements, dim 1 channel rows,
 * dim 2 batch rows; a row (c, n) starts at off + n*sn + c*sc.
 * The forward takes the element types of common.cl (-DDT_HALF, -DHALF_MATH:
 * STYPE tensors, `real` arithmetic); the backward (training) is float. */
#include "common.cl"

#ifndef ACT
#define ACT ACT_NONE
#endif
#ifndef VEC
#define VEC 8
#endif
#ifndef BWD_FROM_Y
#define BWD_FROM_Y 0
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define floatV CAT(float, VEC)
#define VLOAD(p) CAT(vload, VEC)(0, (p))
#define VSTORE(v, p) CAT(vstore, VEC)((v), 0, (p))

/* Forward: works for real and realN (T is the type; constants are cast to it). */
#if ACT == ACT_RELU
#define FWD(T, x) fmax((x), (T)0.0f)
#elif ACT == ACT_RELU6
#define FWD(T, x) fmin(fmax((x), (T)0.0f), (T)6.0f)
#elif ACT == ACT_SILU
#define FWD(T, x) ((x) / ((T)1.0f + exp(-(x))))
#elif ACT == ACT_SIGMOID
#define FWD(T, x) ((T)1.0f / ((T)1.0f + exp(-(x))))
#elif ACT == ACT_HARDSIGMOID
#define FWD(T, x) (fmin(fmax((x) + (T)3.0f, (T)0.0f), (T)6.0f) * (T)(1.0f / 6.0f))
#else
#define FWD(T, x) (x)
#endif

/* Backward: dx from dy and v (x, or y for sigmoid with BWD_FROM_Y). */
#if ACT == ACT_RELU
#define BWD(T, v, dy) select((T)0.0f, (dy), isgreater((v), (T)0.0f))
#elif ACT == ACT_RELU6
#define BWD(T, v, dy) select((T)0.0f, (dy), isgreater((v), (T)0.0f) & isless((v), (T)6.0f))
#elif ACT == ACT_SILU
#define BWD(T, v, dy) silu_bwd_##T((v), (dy))
#elif ACT == ACT_SIGMOID && BWD_FROM_Y
#define BWD(T, v, dy) ((dy) * (v) * ((T)1.0f - (v)))
#elif ACT == ACT_SIGMOID
#define BWD(T, v, dy) sigmoid_bwd_##T((v), (dy))
#elif ACT == ACT_HARDSIGMOID
#define BWD(T, v, dy) select((T)0.0f, (dy) * (T)(1.0f / 6.0f), isgreater((v), (T)-3.0f) & isless((v), (T)3.0f))
#else
#define BWD(T, v, dy) (dy)
#endif

#define DEF_HELPERS(T)                                                                  \
    inline T silu_bwd_##T(T x, T dy) {                                                  \
        T s = (T)1.0f / ((T)1.0f + exp(-x));                                            \
        return dy * s * ((T)1.0f + x * ((T)1.0f - s));                                  \
    }                                                                                   \
    inline T sigmoid_bwd_##T(T x, T dy) {                                               \
        T s = (T)1.0f / ((T)1.0f + exp(-x));                                            \
        return dy * s * ((T)1.0f - s);                                                  \
    }
DEF_HELPERS(float)
DEF_HELPERS(floatV)

/* y = act(x); y may be x (in place). */
__kernel void act_fwd(const int L, __global const STYPE *x, const int xo, const int xsn, const int xsc,
                      __global STYPE *y, const int yo, const int ysn, const int ysc) {
    const int i = get_global_id(0) * VEC, c = get_global_id(1), n = get_global_id(2);
    if (i >= L) return;
    __global const STYPE *xp = x + xo + n * xsn + c * xsc + i;
    __global STYPE *yp = y + yo + n * ysn + c * ysc + i;
    if (i + VEC <= L) {
        realN(VEC) v = LDN(VEC, 0, xp);
        STN(VEC, FWD(realN(VEC), v), 0, yp);
    } else {
        for (int j = 0; j < L - i; j++) {
            real v = LD(xp, j);
            ST(FWD(real, v), yp, j);
        }
    }
}

/* dx = dy * act'(v) (v is x, or y for sigmoid with BWD_FROM_Y); dx may be dy. */
__kernel void act_bwd(const int L, __global const float *v, const int vo, const int vsn, const int vsc,
                      __global const float *dy, const int go, const int gsn, const int gsc, __global float *dx,
                      const int dxo, const int dxsn, const int dxsc) {
    const int i = get_global_id(0) * VEC, c = get_global_id(1), n = get_global_id(2);
    if (i >= L) return;
    __global const float *vp = v + vo + n * vsn + c * vsc + i;
    __global const float *gp = dy + go + n * gsn + c * gsc + i;
    __global float *dp = dx + dxo + n * dxsn + c * dxsc + i;
    if (i + VEC <= L) {
        floatV a = VLOAD(vp), g = VLOAD(gp);
        VSTORE(BWD(floatV, a, g), dp);
    } else {
        for (int j = 0; j < L - i; j++) dp[j] = BWD(float, vp[j], gp[j]);
    }
}
