/* tensor.cl - basic vector kernels on flat float arrays: axpy and scale.
 * Used by the runtime self-test and as building blocks by the ops. */
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
