/* adam.cl - the Adam optimiser step (PyTorch semantics, bias correction folded
 * into step_size and inv_bc2 by the host) on flat parameter / gradient /
 * first-moment / second-moment arrays, with optional L2 weight decay and an
 * optional zeroing of the gradient in the same pass.
 *
 * Options: those of reduce.cl (LWS, VEC), -DWD=0|1 (weight decay term),
 * -DZERO_GRAD=0|1. */
#define INAS_REDUCE_NO_KERNELS
#include "reduce.cl"

#ifndef WD
#define WD 0
#endif
#ifndef ZERO_GRAD
#define ZERO_GRAD 0
#endif

/* For each i < n:
 *   g = grad[i] (+ wd * p[i])
 *   m = b1*m + c1*g;  v = b2*v + c2*g*g
 *   p -= step_size * m / (sqrt(v) * inv_bc2 + eps)
 * step_size = lr / (1 - b1^t), inv_bc2 = 1/sqrt(1 - b2^t), c1 = 1 - b1 and
 * c2 = 1 - b2 (computed on the host in double). Work-group k
 * handles [k*chunk, (k+1)*chunk). */
__kernel void adam_step(__global float *p, const int p_off, __global float *gr, const int g_off, __global float *m,
                        const int m_off, __global float *v, const int v_off, const int n, const int chunk,
                        const float step_size, const float b1, const float c1, const float b2, const float c2,
                        const float inv_bc2, const float eps, const float wd) {
    const int e0 = get_group_id(0) * chunk, e1 = min(n, e0 + chunk), len = max(e1 - e0, 0);
    __global float *pp = p + p_off + e0, *pg = gr + g_off + e0, *pm = m + m_off + e0, *pv = v + v_off + e0;
    (void)wd;
    const int nv = len / VEC;
    for (int j = LID; j < nv; j += LWS) {
        VT pj = VLOAD(j, pp), gj = VLOAD(j, pg);
#if WD
        gj = fma(pj, wd, gj);
#endif
        VT mj = fma(VLOAD(j, pm), b1, c1 * gj);
        VT vj = fma(VLOAD(j, pv), b2, c2 * gj * gj);
        VSTORE(mj, j, pm);
        VSTORE(vj, j, pv);
        VSTORE(pj - step_size * mj / fma(sqrt(vj), inv_bc2, eps), j, pp);
#if ZERO_GRAD
        VSTORE((VT)0.0f, j, pg);
#endif
    }
    for (int i = nv * VEC + LID; i < len; i += LWS) {
        float pj = pp[i], gj = pg[i];
#if WD
        gj = fma(pj, wd, gj);
#endif
        float mj = fma(pm[i], b1, c1 * gj);
        float vj = fma(pv[i], b2, c2 * gj * gj);
        pm[i] = mj;
        pv[i] = vj;
        pp[i] = pj - step_size * mj / fma(sqrt(vj), inv_bc2, eps);
#if ZERO_GRAD
        pg[i] = 0.0f;
#endif
    }
}
