/* reduce.c - see reduce.h. */
#include "ops/reduce.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nr_geom_get(inas_ctx *ctx, nr_geom *g) {
    const inas_device_info *d = inas_ctx_device(ctx);
    unsigned cu = d->compute_units ? d->compute_units : 1;
    const char *force = getenv("INAS_NORM_GEOM");
    int cpu = d->type == INAS_DEVICE_CPU;
    if (force && strcmp(force, "gpu") == 0) cpu = 0;
    if (force && strcmp(force, "cpu") == 0) cpu = 1;
    if (cpu) {
        /* one contiguous stream per work-group, wide vectors; groups large
         * enough that PoCL's per-group cost is small */
        g->lws = 1;
        g->vec = 16;
        g->blk = 32;
        g->min_chunk = 16384;
        g->flat_chunk = 65536;
        g->min_groups = (int)(8 * cu);
    } else {
        g->lws = d->max_work_group >= 256 ? 256 : d->max_work_group >= 64 ? 64 : 1;
        g->vec = 4;
        g->blk = 16;
        g->min_chunk = (long)g->lws * g->vec * 8;
        g->flat_chunk = (long)g->lws * g->vec * 16;
        g->min_groups = (int)(4 * cu);
    }
}

const char *nr_geom_opts(const nr_geom *g, char *buf, size_t len) {
    snprintf(buf, len, "-DLWS=%d -DVEC=%d -DBLK=%d", g->lws, g->vec, g->blk);
    return buf;
}

static long ceil_div(long a, long b) { return (a + b - 1) / b; }

void nr_split_channels(const nr_geom *g, long M, int C, nr_split *s) {
    /* enough groups overall; a channel is split only when it has more than
     * min_chunk elements, and small channels are packed several per group */
    long want = g->min_groups;
    long G = 1;
    if (C < want) G = ceil_div(want, C);
    long gmax = ceil_div(M, g->min_chunk);
    if (G > gmax) G = gmax;
    if (G < 1) G = 1;
    long chunk = ceil_div(M, G);
    chunk = ceil_div(chunk, g->vec) * g->vec;
    G = ceil_div(M, chunk);
    long cpg = 1;
    if (G == 1 && M < g->min_chunk) {
        cpg = g->min_chunk / (M > 0 ? M : 1);
        long cap = C / want; /* keep min_groups groups of channels */
        if (cpg > cap) cpg = cap;
        if (cpg < 1) cpg = 1;
    }
    s->G = (int)G;
    s->chunk = (int)chunk;
    s->cpg = (int)cpg;
    s->cgroups = (int)ceil_div(C, cpg);
}

void nr_split_flat(const nr_geom *g, long T, int *groups, int *chunk) {
    long c = g->flat_chunk;
    long per = ceil_div(T, g->min_groups);
    if (per < c) c = per;
    long lo = (long)g->lws * g->vec;
    if (c < lo) c = lo;
    c = ceil_div(c, lo) * lo;
    *chunk = (int)c;
    *groups = (int)ceil_div(T, c);
    if (*groups < 1) *groups = 1;
}

static int fits_int(size_t v) { return v <= (size_t)INT_MAX; }

inas_status nr_check_planes(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *x) {
    inas_status st = op_check_tensor(ctx, op, name, x);
    if (st != INAS_OK) return st;
    char s[64];
    if (x->shape[2] > 1 && x->stride[2] != (size_t)x->shape[3])
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s (%s) has non-dense H*W planes", name,
                       inas_tensor_shape_str(x, s, sizeof s));
    for (int d = 0; d < 4; d++)
        if (x->shape[d] < 1)
            return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has an empty shape %s", name,
                           inas_tensor_shape_str(x, s, sizeof s));
    size_t last = x->offset;
    for (int d = 0; d < 4; d++) last += (size_t)(x->shape[d] - 1) * x->stride[d];
    if (!fits_int(last + 1) || !fits_int(x->stride[0]) || !fits_int(x->stride[1]) ||
        !fits_int((size_t)x->shape[0] * x->shape[2] * x->shape[3]))
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s (%s) is too large (more than 2^31 elements)", name,
                       inas_tensor_shape_str(x, s, sizeof s));
    return INAS_OK;
}

inas_status nr_check_vec(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *v, int c,
                         const inas_tensor *x) {
    if (!v) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s is a null tensor", name);
    if (!v->buf) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has no buffer", name);
    char s[64];
    if (!inas_tensor_is_contiguous(v))
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s (%s) is not a dense vector", name,
                       inas_tensor_shape_str(v, s, sizeof s));
    if (inas_tensor_numel(v) < (size_t)c) {
        char xs[64] = "";
        if (x) inas_tensor_shape_str(x, xs, sizeof xs);
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has %zu elements (shape %s), needs at least %d%s%s%s", name,
                       inas_tensor_numel(v), inas_tensor_shape_str(v, s, sizeof s), c, x ? " (the channels of " : "",
                       xs, x ? ")" : "");
    }
    if (!fits_int(v->offset + (size_t)c))
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s offset too large", name);
    return INAS_OK;
}

static inas_status scratch(inas_ctx *ctx, size_t floats, cl_mem *mem, void **block) {
    return inas_pool_acquire(ctx, (floats ? floats : 1) * sizeof(float), mem, block);
}

inas_status nr_stats_partials(inas_ctx *ctx, const nr_geom *g, const inas_tensor *x, cl_mem *part, void **block,
                              int *G) {
    char o[96];
    const int N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
    nr_split s;
    nr_split_channels(g, (long)N * HW, C, &s);
    cl_kernel k;
    inas_status st = op_kernel(ctx, "reduce.cl", "chan_stats_part", &k, "%s", nr_geom_opts(g, o, sizeof o));
    if (st != INAS_OK) return st;
    if ((st = scratch(ctx, (size_t)C * s.G * 3, part, block)) != INAS_OK) return st;
    int xo = (int)x->offset, sN = (int)x->stride[0], sC = (int)x->stride[1];
    st = op_args(ctx, k, 10, OP_ARG(x->buf), OP_ARG(xo), OP_ARG(sN), OP_ARG(sC), OP_ARG(N), OP_ARG(C), OP_ARG(HW),
                 OP_ARG(s.cpg), OP_ARG(s.chunk), OP_ARG(*part));
    size_t gl[2] = {(size_t)s.G * g->lws, (size_t)s.cgroups}, lo[2] = {(size_t)g->lws, 1};
    if (st == INAS_OK) st = op_run(ctx, k, 2, gl, lo, "chan_stats_part");
    if (st != INAS_OK) {
        inas_pool_release(ctx, *block);
        return st;
    }
    *G = s.G;
    return INAS_OK;
}

inas_status nr_sum_final(inas_ctx *ctx, const nr_geom *g, cl_mem part, int G, float scale, cl_mem out, size_t off) {
    char o[96];
    cl_kernel k;
    inas_status st = op_kernel(ctx, "reduce.cl", "sum_final", &k, "%s", nr_geom_opts(g, o, sizeof o));
    int oo = (int)off;
    if (st == INAS_OK) st = op_args(ctx, k, 5, OP_ARG(part), OP_ARG(G), OP_ARG(scale), OP_ARG(out), OP_ARG(oo));
    size_t gl = (size_t)g->lws, lo = (size_t)g->lws;
    if (st == INAS_OK) st = op_run(ctx, k, 1, &gl, &lo, "sum_final");
    return st;
}

/* C work-items for a stage-2 kernel. */
static inas_status run_per_channel(inas_ctx *ctx, cl_kernel k, int C, const char *label) {
    size_t gl = (size_t)C, lo = 64;
    return op_run(ctx, k, 1, &gl, &lo, label);
}

static inas_status channel_sum(inas_ctx *ctx, const char *op, const inas_tensor *x, const inas_tensor *y,
                               const inas_tensor *out, int accumulate) {
    inas_status st = nr_check_planes(ctx, op, "x", x);
    if (st == INAS_OK && y) st = nr_check_planes(ctx, op, "y", y);
    if (st == INAS_OK && y) st = op_check_same(ctx, op, "x", x, "y", y);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "out", out, x->shape[1], x);
    if (st != INAS_OK) return st;
    nr_geom g;
    nr_geom_get(ctx, &g);
    char o[96];
    const int N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
    nr_split s;
    nr_split_channels(&g, (long)N * HW, C, &s);
    cl_kernel k1, k2;
    if ((st = op_kernel(ctx, "reduce.cl", "chan_sum_part", &k1, "%s%s", nr_geom_opts(&g, o, sizeof o),
                        y ? " -DDOT" : "")) != INAS_OK ||
        (st = op_kernel(ctx, "reduce.cl", "chan_sum_final", &k2, "%s", o)) != INAS_OK)
        return st;
    cl_mem part;
    void *block;
    if ((st = scratch(ctx, (size_t)C * s.G, &part, &block)) != INAS_OK) return st;
    const inas_tensor *yy = y ? y : x;
    int xo = (int)x->offset, sN = (int)x->stride[0], sC = (int)x->stride[1];
    int yo = (int)yy->offset, ysN = (int)yy->stride[0], ysC = (int)yy->stride[1];
    int oo = (int)out->offset, acc = accumulate != 0;
    st = op_args(ctx, k1, 14, OP_ARG(x->buf), OP_ARG(xo), OP_ARG(sN), OP_ARG(sC), OP_ARG(yy->buf), OP_ARG(yo),
                 OP_ARG(ysN), OP_ARG(ysC), OP_ARG(N), OP_ARG(C), OP_ARG(HW), OP_ARG(s.cpg), OP_ARG(s.chunk),
                 OP_ARG(part));
    size_t gl[2] = {(size_t)s.G * g.lws, (size_t)s.cgroups}, lo[2] = {(size_t)g.lws, 1};
    if (st == INAS_OK) st = op_run(ctx, k1, 2, gl, lo, y ? "chan_dot_part" : "chan_sum_part");
    if (st == INAS_OK)
        st = op_args(ctx, k2, 6, OP_ARG(part), OP_ARG(s.G), OP_ARG(C), OP_ARG(out->buf), OP_ARG(oo), OP_ARG(acc));
    if (st == INAS_OK) st = run_per_channel(ctx, k2, C, "chan_sum_final");
    inas_pool_release(ctx, block);
    return st;
}

inas_status inas_op_channel_sum(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *out, int accumulate) {
    return channel_sum(ctx, "inas_op_channel_sum", x, NULL, out, accumulate);
}

inas_status inas_op_channel_dot(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *y, const inas_tensor *out,
                                int accumulate) {
    if (!y) return op_fail(ctx, INAS_ERR_INVALID_ARG, "inas_op_channel_dot", "y is a null tensor");
    return channel_sum(ctx, "inas_op_channel_dot", x, y, out, accumulate);
}

inas_status inas_op_channel_stats(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *mean,
                                  const inas_tensor *var) {
    const char *op = "inas_op_channel_stats";
    inas_status st = nr_check_planes(ctx, op, "x", x);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "mean", mean, x->shape[1], x);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "var", var, x->shape[1], x);
    if (st != INAS_OK) return st;
    nr_geom g;
    nr_geom_get(ctx, &g);
    char o[96];
    cl_kernel k;
    if ((st = op_kernel(ctx, "reduce.cl", "chan_stats_final", &k, "%s", nr_geom_opts(&g, o, sizeof o))) != INAS_OK)
        return st;
    cl_mem part;
    void *block;
    int G, C = x->shape[1];
    if ((st = nr_stats_partials(ctx, &g, x, &part, &block, &G)) != INAS_OK) return st;
    int mo = (int)mean->offset, vo = (int)var->offset;
    st = op_args(ctx, k, 7, OP_ARG(part), OP_ARG(G), OP_ARG(C), OP_ARG(mean->buf), OP_ARG(mo), OP_ARG(var->buf),
                 OP_ARG(vo));
    if (st == INAS_OK) st = run_per_channel(ctx, k, C, "chan_stats_final");
    inas_pool_release(ctx, block);
    return st;
}

inas_status inas_op_sum(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *out, float scale) {
    const char *op = "inas_op_sum";
    inas_status st = nr_check_planes(ctx, op, "x", x);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "out", out, 1, NULL);
    if (st != INAS_OK) return st;
    nr_geom g;
    nr_geom_get(ctx, &g);
    char o[96];
    cl_kernel k;
    if ((st = op_kernel(ctx, "reduce.cl", "sum_part", &k, "%s", nr_geom_opts(&g, o, sizeof o))) != INAS_OK) return st;
    const int N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
    int groups, chunk;
    nr_split_flat(&g, (long)N * C * HW, &groups, &chunk);
    cl_mem part;
    void *block;
    if ((st = scratch(ctx, (size_t)groups, &part, &block)) != INAS_OK) return st;
    int xo = (int)x->offset, sN = (int)x->stride[0], sC = (int)x->stride[1];
    st = op_args(ctx, k, 9, OP_ARG(x->buf), OP_ARG(xo), OP_ARG(sN), OP_ARG(sC), OP_ARG(N), OP_ARG(C), OP_ARG(HW),
                 OP_ARG(chunk), OP_ARG(part));
    size_t gl = (size_t)groups * g.lws, lo = (size_t)g.lws;
    if (st == INAS_OK) st = op_run(ctx, k, 1, &gl, &lo, "sum_part");
    if (st == INAS_OK) st = nr_sum_final(ctx, &g, part, groups, scale, out->buf, out->offset);
    inas_pool_release(ctx, block);
    return st;
}
