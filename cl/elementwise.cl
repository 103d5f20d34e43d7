/* elementwise.cl - pointwise arithmetic over NCHW tensors with dense H x W
 * planes (channel views allowed): scaled sums of up to 8 tensors (add, scale,
 * accumulate, mean of k), broadcasting one tensor into up to 8 (mean
 * backward), channel-wise multiply by a per-(n, c) scalar (SE, global average
 * pool backward) and per-plane reductions (global average pool, SE backward).
 *
 * Options: -DK=1..8 (tensors summed / written), -DACC=0|1 (add into the
 * output instead of overwriting), -DVEC=4|8|16, -DHAVE_X / -DHAVE_B (second
 * factor present), -DWRITE_DX (plane_reduce also writes dx = a * s),
 * -DLS (work-group size of plane_reduce), -DCHUNKED (contiguous chunk per
 * work-item: CPU; else interleaved: GPU).
 * Pointwise grid: dim 0 VEC-chunks of a row of L elements, dim 1 channel rows,
 * dim 2 batch rows; a row (c, n) of tensor t starts at t_off + n*t_sn + c*t_sc.
 * Element type and precision: common.cl (-DDT_HALF, -DHALF_MATH); tensors are
 * STYPE, pointwise arithmetic is `real`, plane_reduce always sums in float. */
#include "common.cl"

#ifndef K
#define K 1
#endif
#ifndef ACC
#define ACC 0
#endif
#ifndef VEC
#define VEC 8
#endif
#ifndef HAVE_X
#define HAVE_X 1
#endif
#ifndef HAVE_B
#define HAVE_B 1
#endif
#ifndef WRITE_DX
#define WRITE_DX 0
#endif
#ifndef LS
#define LS 64
#endif
#ifndef CHUNKED
#define CHUNKED 0
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define floatV CAT(float, VEC)
#define realV realN(VEC)
#define VLOAD(p) LDN(VEC, 0, (p))
#define VSTORE(v, p) STN(VEC, (v), 0, (p))
/* to float and back to the arithmetic type (no-ops in float kernels) */
#define TO_FLOAT(x) ((float)(x))
#define TO_FLOATV(x) CAT(convert_float, VEC)(x)
#define TO_REALV(x) CAT(convert_, realV)(x)

#define TARG(t) __global const STYPE *t, const int t##o, const int t##sn, const int t##sc
#define TARGW(t) __global STYPE *t, const int t##o, const int t##sn, const int t##sc
#define ROW(t) (t + t##o + n * t##sn + c * t##sc + i)

/* out = (ACC ? out : 0) + alpha * (x0 + ... + x{K-1}); out may be any x_j. */
__kernel void ew_sum(const int L, const float alpha, TARGW(out), TARG(x0), TARG(x1), TARG(x2), TARG(x3), TARG(x4),
                     TARG(x5), TARG(x6), TARG(x7)) {
    const int i = get_global_id(0) * VEC, c = get_global_id(1), n = get_global_id(2);
    if (i >= L) return;
    __global STYPE *op = ROW(out);
    __global const STYPE *p0 = ROW(x0), *p1 = ROW(x1), *p2 = ROW(x2), *p3 = ROW(x3);
    __global const STYPE *p4 = ROW(x4), *p5 = ROW(x5), *p6 = ROW(x6), *p7 = ROW(x7);
#define SUM_TERMS(GET, j)                                                                                  \
    GET(p0, j) K1(+GET(p1, j)) K2(+GET(p2, j)) K3(+GET(p3, j)) K4(+GET(p4, j)) K5(+GET(p5, j)) K6(+GET(p6, j)) \
        K7(+GET(p7, j))
#if K > 1
#define K1(e) e
#else
#define K1(e)
#endif
#if K > 2
#define K2(e) e
#else
#define K2(e)
#endif
#if K > 3
#define K3(e) e
#else
#define K3(e)
#endif
#if K > 4
#define K4(e) e
#else
#define K4(e)
#endif
#if K > 5
#define K5(e) e
#else
#define K5(e)
#endif
#if K > 6
#define K6(e) e
#else
#define K6(e)
#endif
#if K > 7
#define K7(e) e
#else
#define K7(e)
#endif
#define LDV(p, j) VLOAD(p)
    if (i + VEC <= L) {
        realV s = (SUM_TERMS(LDV, 0)) * RL(alpha);
#if ACC
        s += VLOAD(op);
#endif
        VSTORE(s, op);
    } else {
        for (int j = 0; j < L - i; j++) {
            real s = (SUM_TERMS(LD, j)) * RL(alpha);
#if ACC
            s += LD(op, j);
#endif
            ST(s, op, j);
        }
    }
}

/* d_j = (ACC ? d_j : 0) + alpha * dy for j < K (outputs must not alias). */
__kernel void ew_bcast(const int L, const float alpha, TARG(g), TARGW(d0), TARGW(d1), TARGW(d2), TARGW(d3), TARGW(d4),
                       TARGW(d5), TARGW(d6), TARGW(d7)) {
    const int i = get_global_id(0) * VEC, c = get_global_id(1), n = get_global_id(2);
    if (i >= L) return;
    __global const STYPE *gp = ROW(g);
    __global STYPE *q[8] = {ROW(d0), ROW(d1), ROW(d2), ROW(d3), ROW(d4), ROW(d5), ROW(d6), ROW(d7)};
    if (i + VEC <= L) {
        realV v = VLOAD(gp) * RL(alpha);
#pragma unroll
        for (int j = 0; j < K; j++) {
#if ACC
            VSTORE(v + VLOAD(q[j]), q[j]);
#else
            VSTORE(v, q[j]);
#endif
        }
    } else {
        for (int e = 0; e < L - i; e++) {
            real v = LD(gp, e) * RL(alpha);
            for (int j = 0; j < K; j++) ST(ACC ? LD(q[j], e) + v : v, q[j], e);
        }
    }
}

/* y[n,c,:,:] = alpha * s[n,c] * (HAVE_X ? x[n,c,:,:] : 1); y may be x.
 * Row length L = H*W; s is read at so + n*ssn + c*ssc. */
__kernel void chan_mul(const int L, const float alpha, TARG(x), TARG(s), TARGW(y)) {
    const int i = get_global_id(0) * VEC, c = get_global_id(1), n = get_global_id(2);
    if (i >= L) return;
    const real f = RL(alpha) * LD(s, so + n * ssn + c * ssc);
    __global STYPE *yp = ROW(y);
#if HAVE_X
    __global const STYPE *xp = ROW(x);
#endif
    if (i + VEC <= L) {
#if HAVE_X
        VSTORE(VLOAD(xp) * f, yp);
#else
        VSTORE((realV)f, yp);
#endif
    } else {
#if HAVE_X
        for (int j = 0; j < L - i; j++) ST(LD(xp, j) * f, yp, j);
#else
        for (int j = 0; j < L - i; j++) ST(f, yp, j);
#endif
    }
}

/* out[n,c] = alpha * sum over the plane of a * (HAVE_B ? b : 1); with WRITE_DX
 * also dx = a * s[n,c] over the plane. One work-group of LS work-items per
 * plane (dim 0), channels on dim 1, batch on dim 2; out/s at o + n*sn + c*sc.
 * Computes in float whatever the precision (a half sum of a large plane would
 * lose the small terms); results are rounded to STYPE when stored. */
__kernel void plane_reduce(const int L, const float alpha, TARG(a), TARG(b), TARGW(out), TARG(s), TARGW(dx)) {
    const int lid = get_local_id(0), c = get_global_id(1), n = get_global_id(2);
    const int i = 0;
    __global const STYPE *ap = ROW(a);
#if HAVE_B
    __global const STYPE *bp = ROW(b);
#endif
#if WRITE_DX
    __global STYPE *dp = ROW(dx);
    const float f = TO_FLOAT(LD(s, so + n * ssn + c * ssc));
#endif
    floatV acc = (floatV)0.0f;
    float acc1 = 0.0f;
    const int nv = L / VEC;
#if CHUNKED
    const int per = (nv + LS - 1) / LS, v0 = lid * per, v1 = min(nv, v0 + per);
    for (int v = v0; v < v1; v++) {
#else
    for (int v = lid; v < nv; v += LS) {
#endif
        floatV av = TO_FLOATV(VLOAD(ap + v * VEC));
#if HAVE_B
        acc = fma(av, TO_FLOATV(VLOAD(bp + v * VEC)), acc);
#else
        acc += av;
#endif
#if WRITE_DX
        VSTORE(TO_REALV(av * f), dp + v * VEC);
#endif
    }
    for (int e = nv * VEC + lid; e < L; e += LS) {
        float av = TO_FLOAT(LD(ap, e));
#if HAVE_B
        acc1 = fma(av, TO_FLOAT(LD(bp, e)), acc1);
#else
        acc1 += av;
#endif
#if WRITE_DX
        ST(RL(av * f), dp, e);
#endif
    }
#if VEC == 16
    float8 h8 = acc.lo + acc.hi;
    float4 h4 = h8.lo + h8.hi;
#elif VEC == 8
    float4 h4 = acc.lo + acc.hi;
#else
    float4 h4 = acc;
#endif
    float t = (h4.x + h4.y) + (h4.z + h4.w) + acc1;
#if LS > 1
    __local float red[LS];
    red[lid] = t;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = LS / 2; w > 0; w >>= 1) {
        if (lid < w) red[lid] += red[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    t = red[0];
#endif
    if (lid == 0) ST(RL(alpha * t), out, outo + n * outsn + c * outsc);
}
