/* elem_common.h - host helpers shared by the elem kernel family (activation,
 * elementwise, pool, resize): the tensor layouts these ops accept and how they
 * are passed to the kernels.
 *
 * Layout accepted: NCHW (F32, or F16 for the forward ops that take it, see
 * ops/op_util.h) whose H x W planes are dense (stride[3] == 1,
 * stride[2] == W); stride[0] (batch) and stride[1] (channel) are free, so
 * channel views (stride[0] = C_total*H*W) and batch views work. Each tensor goes
 * to a kernel as (buffer, offset, batch stride, channel stride) in elements; the
 * largest element index must fit in an int. */
#ifndef INAS_OPS_ELEM_COMMON_H
#define INAS_OPS_ELEM_COMMON_H

#include <limits.h>
#include <stdlib.h>

#include "ops/op_util.h"

typedef struct elem_arg {
    cl_mem buf;
    cl_int off, sn, sc;
} elem_arg;

/* Checks that t is a usable tensor with dense planes and int-sized indices;
 * fills its kernel arguments. */
static inline inas_status elem_arg_of(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *t,
                                      elem_arg *a) {
    inas_status st = op_check_tensor(ctx, op, name, t);
    if (st != INAS_OK) return st;
    char s[64];
    if (t->shape[2] > 1 && t->stride[2] != (size_t)t->shape[3])
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s (%s) has strided rows (stride %zu, width %d)", name,
                       inas_tensor_shape_str(t, s, sizeof s), t->stride[2], t->shape[3]);
    for (int d = 0; d < 4; d++)
        if (t->shape[d] <= 0)
            return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has an empty shape %s", name,
                           inas_tensor_shape_str(t, s, sizeof s));
    size_t last = t->offset + (size_t)(t->shape[0] - 1) * t->stride[0] + (size_t)(t->shape[1] - 1) * t->stride[1] +
                  (size_t)t->shape[2] * t->shape[3];
    if (last > (size_t)INT_MAX)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s (%s) is too large for 32-bit indexing", name,
                       inas_tensor_shape_str(t, s, sizeof s));
    a->buf = t->buf;
    a->off = (cl_int)t->offset;
    a->sn = t->shape[0] > 1 ? (cl_int)t->stride[0] : 0;
    a->sc = t->shape[1] > 1 ? (cl_int)t->stride[1] : 0;
    return INAS_OK;
}

/* Geometry of a pointwise op over same-shaped tensors: rows of L contiguous
 * elements on a grid of nc x nn rows (row (c, n) starts at off + n*sn + c*sc).
 * Planes are merged into longer rows when every tensor allows it. */
typedef struct elem_geom {
    cl_int L, nc, nn;
} elem_geom;

static inline elem_geom elem_geom_of(const inas_tensor *const *ts, int nt, elem_arg *args) {
    const inas_tensor *t0 = ts[0];
    int N = t0->shape[0], C = t0->shape[1];
    size_t hw = (size_t)t0->shape[2] * t0->shape[3];
    int merge_c = 1, merge_n = 1;
    for (int i = 0; i < nt; i++) {
        if (C > 1 && ts[i]->stride[1] != hw) merge_c = 0;
        if (N > 1 && ts[i]->stride[0] != hw * C) merge_n = 0;
    }
    merge_n = merge_n && merge_c;
    elem_geom g;
    g.L = (cl_int)(hw * (merge_c ? C : 1) * (merge_n ? N : 1));
    g.nc = merge_c ? 1 : C;
    g.nn = merge_n ? 1 : N;
    for (int i = 0; i < nt; i++) {
        if (merge_c) args[i].sc = 0;
        if (merge_n) args[i].sn = 0;
    }
    return g;
}

/* Whether the kernels should use CPU-friendly patterns (whole rows or
 * contiguous chunks per work-item, wide vectors) rather than the generic
 * GPU-friendly ones (many small interleaved work-items). The environment
 * variable INAS_ELEM_GENERIC=1 forces the generic kernels on any device: the
 * tests use it to check those paths on a CPU. */
static inline int elem_is_cpu(inas_ctx *ctx) {
    const char *g = getenv("INAS_ELEM_GENERIC");
    if (g && g[0] == '1') return 0;
    return inas_ctx_device(ctx)->type == INAS_DEVICE_CPU;
}

/* Floats per vector in pointwise kernels: wide on CPUs (AVX-512 lanes), float4
 * elsewhere (coalesced loads on GPUs). */
static inline int elem_vec(inas_ctx *ctx) { return elem_is_cpu(ctx) ? 16 : 4; }

/* Launches a pointwise kernel over geometry g with vec floats per work-item. */
static inline inas_status elem_launch(inas_ctx *ctx, cl_kernel k, elem_geom g, int vec, const char *label) {
    size_t global[3] = {(size_t)(g.L + vec - 1) / (size_t)vec, (size_t)g.nc, (size_t)g.nn};
    size_t local[3] = {elem_is_cpu(ctx) ? 16 : 64, 1, 1};
    if (global[0] <= 8) local[0] = 8;
    return op_run(ctx, k, 3, global, local, label);
}

/* 3-D launch over (cols, rows, planes) with work-groups of about 64
 * work-items spread over columns and rows (PoCL runs a work-group per task:
 * tiny groups cost more than the work in them). */
static inline inas_status elem_launch2(inas_ctx *ctx, cl_kernel k, size_t cols, size_t rows, size_t planes,
                                       const char *label) {
    size_t lx = 1, ly = 1;
    while (lx < cols && lx < 16) lx *= 2;
    while (ly < rows && lx * ly < 64) ly *= 2;
    size_t global[3] = {cols, rows, planes}, local[3] = {lx, ly, 1};
    return op_run(ctx, k, 3, global, local, label);
}

#endif
