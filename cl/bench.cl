/* bench.cl - kernels that measure the device itself for `inas bench ops`:
 * FP32 FMA peak (independent vector FMA chains) and memory bandwidth (triad). */

#ifndef ITERS
#define ITERS 512
#endif

/* 8 independent float16 FMA chains per work-item: 2*16*8*ITERS flops each. */
__kernel void bench_fma_peak(__global float *out, const float a, const float b) {
    float16 x0 = (float16)(get_global_id(0) * 1e-7f), x1 = x0 + 1.0f, x2 = x0 + 2.0f, x3 = x0 + 3.0f;
    float16 x4 = x0 + 4.0f, x5 = x0 + 5.0f, x6 = x0 + 6.0f, x7 = x0 + 7.0f;
    for (int i = 0; i < ITERS; i++) {
        x0 = fma(x0, a, b); x1 = fma(x1, a, b); x2 = fma(x2, a, b); x3 = fma(x3, a, b);
        x4 = fma(x4, a, b); x5 = fma(x5, a, b); x6 = fma(x6, a, b); x7 = fma(x7, a, b);
    }
    float16 s = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
    out[get_global_id(0)] = s.s0 + s.s1 + s.s2 + s.s3 + s.s4 + s.s5 + s.s6 + s.s7 + s.s8 + s.s9 + s.sa + s.sb +
                            s.sc + s.sd + s.se + s.sf;
}

/* c = a + s * b over n float4 (STREAM triad): 12 floats moved per element. */
__kernel void bench_triad(__global const float4 *a, __global const float4 *b, __global float4 *c, const float s,
                          const int n) {
    int i = get_global_id(0);
    if (i < n) c[i] = a[i] + s * b[i];
}
