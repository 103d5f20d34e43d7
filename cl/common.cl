/* common.cl - definitions shared by the kernel files: activations, index
 * helpers. Included with #include "common.cl" (resolved by inas at build time). */
#ifndef INAS_COMMON_CL
#define INAS_COMMON_CL

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
