/* common.cl - definitions shared by the kernel files: element types and
 * precision, activations. Included with #include "common.cl" (resolved by
 * inas at build time). */
#ifndef INAS_COMMON_CL
#define INAS_COMMON_CL

#define INAS_CAT_(a, b) a##b
#define INAS_CAT(a, b) INAS_CAT_(a, b)

/* ---- element type and arithmetic precision ------------------------------------------
 * -DDT_HALF=1: tensors hold IEEE half values (2 bytes). Loads convert to the
 *   arithmetic type, stores round to nearest even. Core OpenCL C (vload_half,
 *   vstore_half): no extension needed.
 * -DHALF_MATH=1 (with DT_HALF): the arithmetic is half too; needs cl_khr_fp16.
 * Kernels that support both write
 *   STYPE           the element type of tensor pointers (float or half);
 *   real, realN(n)  the arithmetic type, scalar and n-vector;
 *   RL(x)           a float literal or argument in the arithmetic type;
 *   LD(p, i), ST(v, p, i)           one element p[i];
 *   LDN(n, i, p), STN(n, v, i, p)   n elements at p + i*n (like vloadn).
 * Without either option they are plain float code. */
#ifndef DT_HALF
#define DT_HALF 0
#endif
#ifndef HALF_MATH
#define HALF_MATH 0
#endif
#if HALF_MATH && !DT_HALF
#error "HALF_MATH needs DT_HALF"
#endif
#if HALF_MATH
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#define STYPE half
#define REAL_BASE half
#define LD(p, i) ((p)[i])
#define ST(v, p, i) ((p)[i] = (v))
#define LDN(n, i, p) INAS_CAT(vload, n)((i), (p))
#define STN(n, v, i, p) INAS_CAT(vstore, n)((v), (i), (p))
#elif DT_HALF
#define STYPE half
#define REAL_BASE float
#define LD(p, i) vload_half((i), (p))
#define ST(v, p, i) vstore_half((v), (i), (p))
#define LDN(n, i, p) INAS_CAT(vload_half, n)((i), (p))
#define STN(n, v, i, p) INAS_CAT(vstore_half, n)((v), (i), (p))
#else
#define STYPE float
#define REAL_BASE float
#define LD(p, i) ((p)[i])
#define ST(v, p, i) ((p)[i] = (v))
#define LDN(n, i, p) INAS_CAT(vload, n)((i), (p))
#define STN(n, v, i, p) INAS_CAT(vstore, n)((v), (i), (p))
#endif
#define real REAL_BASE
#define realN(n) INAS_CAT(REAL_BASE, n)
#define RL(x) ((real)(x))

/* Activation codes, selected at compile time with -DACT=n. */
#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_RELU6 2
#define ACT_SILU 3
#define ACT_SIGMOID 4
#define ACT_HARDSIGMOID 5

inline float inas_sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

inline float inas_activate(float x, int act) {
    switch (act) {
    case ACT_RELU: return fmax(x, 0.0f);
    case ACT_RELU6: return fmin(fmax(x, 0.0f), 6.0f);
    case ACT_SILU: return x * inas_sigmoid(x);
    case ACT_SIGMOID: return inas_sigmoid(x);
    case ACT_HARDSIGMOID: return fmin(fmax(x / 6.0f + 0.5f, 0.0f), 1.0f);
    default: return x;
    }
}

#endif
