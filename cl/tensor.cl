/* tensor.cl - basic vector kernels on flat arrays: axpy and scale (float),
 * used by the runtime self-test and as building blocks by the ops, and the
 * float <-> half conversion behind inas_tensor_copy. */
#include "common.cl"

/* y[i] = a * x[i] + y[i] for i < n. */
__kernel void inas_axpy(const int n, const float a, __global const float *x, const int x_off,
                        __global float *y, const int y_off) {
    int i = get_global_id(0);
    if (i < n) y[y_off + i] = fma(a, x[x_off + i], y[y_off + i]);
}

/* y[i] = a * x[i] for i < n (x and y may be the same buffer). */
__kernel void inas_scale(const int n, const float a, __global const float *x, const int x_off,
                         __global float *y, const int y_off) {
    int i = get_global_id(0);
    if (i < n) y[y_off + i] = a * x[x_off + i];
}

/* Conversion, -DSRC_HALF / -DDST_HALF: y[y_off + i] = x[x_off + i] for i < n,
 * four elements per work-item (half stores round to nearest even). */
#ifdef SRC_HALF
#if SRC_HALF
#define SRC_T half
#define SRC_LD(p, i) vload_half((i), (p))
#else
#define SRC_T float
#define SRC_LD(p, i) ((p)[i])
#endif
#if DST_HALF
#define DST_T half
#define DST_ST(v, p, i) vstore_half((v), (i), (p))
#else
#define DST_T float
#define DST_ST(v, p, i) ((p)[i] = (v))
#endif
__kernel void inas_convert(const int n, __global const SRC_T *x, const int x_off, __global DST_T *y, const int y_off) {
    const int i0 = get_global_id(0) * 4;
    __global const SRC_T *xp = x + x_off;
    __global DST_T *yp = y + y_off;
    for (int i = i0; i < min(i0 + 4, n); i++) DST_ST(SRC_LD(xp, i), yp, i);
}
#endif
