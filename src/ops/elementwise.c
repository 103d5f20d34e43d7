/* elementwise.c - see elementwise.h. */
#include "ops/elementwise.h"

#include <stdio.h>

#include "ops/elem_common.h"

#define ARG4(a) OP_ARG((a).buf), OP_ARG((a).off), OP_ARG((a).sn), OP_ARG((a).sc)

/* out = (acc ? out : 0) + alpha * sum of xs[0..k) with k <= INAS_OP_MEAN_MAX. */
static inas_status sum_launch(inas_ctx *ctx, const char *op, float alpha, const inas_tensor *const *xs, int k,
                              const inas_tensor *out, int acc) {
    elem_arg a[INAS_OP_MEAN_MAX + 1];
    const inas_tensor *ts[INAS_OP_MEAN_MAX + 1];
    inas_status st = elem_arg_of(ctx, op, "out", out, &a[0]);
    ts[0] = out;
    for (int j = 0; j < k && st == INAS_OK; j++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", j);
        st = elem_arg_of(ctx, op, name, xs[j], &a[j + 1]);
        if (st == INAS_OK) st = op_check_same(ctx, op, name, xs[j], "out", out);
        ts[j + 1] = xs[j];
    }
    char dt[64];
    if (st == INAS_OK) st = op_dtype_opts(ctx, op, ts, k + 1, dt, sizeof dt);
    if (st != INAS_OK) return st;
    elem_geom g = elem_geom_of(ts, k + 1, a);
    for (int j = k + 1; j <= INAS_OP_MEAN_MAX; j++) a[j] = a[0]; /* unused slots */
    int vec = elem_vec(ctx);
    cl_kernel kern;
    st = op_kernel(ctx, "elementwise.cl", "ew_sum", &kern, "-DK=%d -DACC=%d -DVEC=%d %s", k, acc, vec, dt);
    if (st == INAS_OK)
        st = op_args(ctx, kern, 38, OP_ARG(g.L), OP_ARG(alpha), ARG4(a[0]), ARG4(a[1]), ARG4(a[2]), ARG4(a[3]),
                     ARG4(a[4]), ARG4(a[5]), ARG4(a[6]), ARG4(a[7]), ARG4(a[8]));
    if (st == INAS_OK) st = elem_launch(ctx, kern, g, vec, op);
    return st;
}

inas_status inas_op_add(inas_ctx *ctx, const inas_tensor *a, const inas_tensor *b, const inas_tensor *out) {
    const inas_tensor *xs[2] = {a, b};
    return sum_launch(ctx, "inas_op_add", 1.0f, xs, 2, out, 0);
}

inas_status inas_op_accumulate(inas_ctx *ctx, const inas_tensor *src, const inas_tensor *dst) {
    const inas_tensor *xs[1] = {src};
    return sum_launch(ctx, "inas_op_accumulate", 1.0f, xs, 1, dst, 1);
}

inas_status inas_op_scale(inas_ctx *ctx, float s, const inas_tensor *x, const inas_tensor *out) {
    const inas_tensor *xs[1] = {x};
    return sum_launch(ctx, "inas_op_scale", s, xs, 1, out, 0);
}

inas_status inas_op_mean(inas_ctx *ctx, const inas_tensor *const *xs, int k, const inas_tensor *out) {
    const char *op = "inas_op_mean";
    if (k < 1 || !xs) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "needs k >= 1 input tensors (got %d)", k);
    inas_status st = INAS_OK;
    for (int j0 = 0; j0 < k && st == INAS_OK; j0 += INAS_OP_MEAN_MAX) {
        int kk = k - j0 < INAS_OP_MEAN_MAX ? k - j0 : INAS_OP_MEAN_MAX;
        st = sum_launch(ctx, op, 1.0f / (float)k, xs + j0, kk, out, j0 > 0);
    }
    return st;
}

inas_status inas_op_mean_bwd(inas_ctx *ctx, const inas_tensor *dy, int k, const inas_tensor *const *dxs,
                             int accumulate) {
    const char *op = "inas_op_mean_bwd";
    if (k < 1 || !dxs) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "needs k >= 1 gradient tensors (got %d)", k);
    elem_arg a[INAS_OP_MEAN_MAX + 1];
    const inas_tensor *ts[INAS_OP_MEAN_MAX + 1];
    inas_status st = INAS_OK;
    float alpha = 1.0f / (float)k;
    int vec = elem_vec(ctx);
    for (int j0 = 0; j0 < k && st == INAS_OK; j0 += INAS_OP_MEAN_MAX) {
        int kk = k - j0 < INAS_OP_MEAN_MAX ? k - j0 : INAS_OP_MEAN_MAX;
        st = elem_arg_of(ctx, op, "dy", dy, &a[0]);
        ts[0] = dy;
        for (int j = 0; j < kk && st == INAS_OK; j++) {
            char name[16];
            snprintf(name, sizeof name, "dx%d", j0 + j);
            st = elem_arg_of(ctx, op, name, dxs[j0 + j], &a[j + 1]);
            if (st == INAS_OK) st = op_check_same(ctx, op, "dy", dy, name, dxs[j0 + j]);
            ts[j + 1] = dxs[j0 + j];
        }
        if (st != INAS_OK) return st;
        elem_geom g = elem_geom_of(ts, kk + 1, a);
        for (int j = kk + 1; j <= INAS_OP_MEAN_MAX; j++) a[j] = a[1];
        cl_kernel kern;
        st = op_kernel(ctx, "elementwise.cl", "ew_bcast", &kern, "-DK=%d -DACC=%d -DVEC=%d", kk, accumulate ? 1 : 0,
                       vec);
        if (st == INAS_OK)
            st = op_args(ctx, kern, 38, OP_ARG(g.L), OP_ARG(alpha), ARG4(a[0]), ARG4(a[1]), ARG4(a[2]), ARG4(a[3]),
                         ARG4(a[4]), ARG4(a[5]), ARG4(a[6]), ARG4(a[7]), ARG4(a[8]));
        if (st == INAS_OK) st = elem_launch(ctx, kern, g, vec, op);
    }
    return st;
}

/* Checks that s is N x C x 1 x 1 for x of shape N x C x H x W. */
static inas_status check_nc(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *s,
                            const inas_tensor *x, const char *xname, elem_arg *a) {
    inas_status st = elem_arg_of(ctx, op, name, s, a);
    if (st != INAS_OK) return st;
    if (s->shape[0] != x->shape[0] || s->shape[1] != x->shape[1] || s->shape[2] != 1 || s->shape[3] != 1) {
        char ss[64], sx[64];
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has shape %s, expected %dx%dx1x1 for %s of shape %s", name,
                       inas_tensor_shape_str(s, ss, sizeof ss), x->shape[0], x->shape[1], xname,
                       inas_tensor_shape_str(x, sx, sizeof sx));
    }
    /* per-(n, c) scalars use the true strides */
    a->sn = (cl_int)s->stride[0];
    a->sc = (cl_int)s->stride[1];
    return INAS_OK;
}

/* y = alpha * s[n,c] * (x ? x : 1). */
static inas_status chan_mul(inas_ctx *ctx, const char *op, float alpha, const inas_tensor *x, const inas_tensor *s,
                            const inas_tensor *y) {
    elem_arg ax, as, ay;
    inas_status st = elem_arg_of(ctx, op, "y", y, &ay);
    if (st == INAS_OK && x) st = elem_arg_of(ctx, op, "x", x, &ax);
    if (st == INAS_OK && x) st = op_check_same(ctx, op, "x", x, "y", y);
    if (st == INAS_OK) st = check_nc(ctx, op, x ? "s" : "dy", s, y, x ? "x" : "dx", &as);
    const inas_tensor *ts[3] = {y, s, x};
    char dt[64];
    if (st == INAS_OK) st = op_dtype_opts(ctx, op, ts, 3, dt, sizeof dt); /* x NULL: skipped */
    if (st != INAS_OK) return st;
    if (!x) ax = ay;
    elem_geom g = {(cl_int)y->shape[2] * y->shape[3], y->shape[1], y->shape[0]};
    int vec = elem_vec(ctx);
    cl_kernel k;
    st = op_kernel(ctx, "elementwise.cl", "chan_mul", &k, "-DHAVE_X=%d -DVEC=%d %s", x ? 1 : 0, vec, dt);
    if (st == INAS_OK)
        st = op_args(ctx, k, 14, OP_ARG(g.L), OP_ARG(alpha), ARG4(ax), ARG4(as), ARG4(ay));
    if (st == INAS_OK) st = elem_launch(ctx, k, g, vec, op);
    return st;
}

inas_status inas_op_se_mul_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *s, const inas_tensor *y) {
    const char *op = "inas_op_se_mul_fwd";
    inas_status st = op_check_tensor(ctx, op, "x", x);
    if (st != INAS_OK) return st;
    return chan_mul(ctx, op, 1.0f, x, s, y);
}

inas_status inas_op_gap_bwd(inas_ctx *ctx, const inas_tensor *dy, const inas_tensor *dx) {
    const char *op = "inas_op_gap_bwd";
    inas_status st = op_check_tensor(ctx, op, "dx", dx);
    if (st != INAS_OK) return st;
    return chan_mul(ctx, op, 1.0f / ((float)dx->shape[2] * (float)dx->shape[3]), NULL, dy, dx);
}

/* out[n,c] = alpha * sum_hw a * (b ? b : 1); with dx: dx = a * s[n,c]. */
static inas_status plane_reduce(inas_ctx *ctx, const char *op, float alpha, const inas_tensor *a, const char *aname,
                                const inas_tensor *b, const char *bname, const inas_tensor *out, const char *oname,
                                const inas_tensor *s, const inas_tensor *dx) {
    elem_arg aa, ab, ao, as, ad;
    inas_status st = elem_arg_of(ctx, op, aname, a, &aa);
    if (st == INAS_OK && b) st = elem_arg_of(ctx, op, bname, b, &ab);
    if (st == INAS_OK && b) st = op_check_same(ctx, op, aname, a, bname, b);
    if (st == INAS_OK && out) st = check_nc(ctx, op, oname, out, a, aname, &ao);
    if (st == INAS_OK && s) st = check_nc(ctx, op, "s", s, a, aname, &as);
    if (st == INAS_OK && dx) st = elem_arg_of(ctx, op, "dx", dx, &ad);
    if (st == INAS_OK && dx) st = op_check_same(ctx, op, aname, a, "dx", dx);
    const inas_tensor *ts[5] = {a, b, out, s, dx}; /* NULLs are skipped */
    char dt[64];
    if (st == INAS_OK) st = op_dtype_opts(ctx, op, ts, 5, dt, sizeof dt);
    if (st != INAS_OK) return st;
    if (!b) ab = aa;
    if (!s) as = aa;
    if (!dx) ad = aa;
    int cpu = elem_is_cpu(ctx), vec = elem_vec(ctx), ls = cpu ? 1 : 64;
    cl_int L = (cl_int)a->shape[2] * a->shape[3];
    int have_out = out != NULL;
    if (!have_out) { /* dx only: no reduction needed, but the kernel writes out; point it at a dummy */
        return chan_mul(ctx, op, 1.0f, a, s, dx);
    }
    cl_kernel k;
    st = op_kernel(ctx, "elementwise.cl", "plane_reduce", &k,
                   "-DHAVE_B=%d -DWRITE_DX=%d -DVEC=%d -DLS=%d -DCHUNKED=%d %s", b ? 1 : 0, dx ? 1 : 0, vec, ls, cpu,
                   dt);
    if (st == INAS_OK)
        st = op_args(ctx, k, 22, OP_ARG(L), OP_ARG(alpha), ARG4(aa), ARG4(ab), ARG4(ao), ARG4(as), ARG4(ad));
    size_t global[3] = {(size_t)ls, (size_t)a->shape[1], (size_t)a->shape[0]}, local[3] = {(size_t)ls, 1, 1};
    if (st == INAS_OK) st = op_run(ctx, k, 3, global, local, op);
    return st;
}

inas_status inas_op_gap_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *y) {
    const char *op = "inas_op_gap_fwd";
    inas_status st = op_check_tensor(ctx, op, "x", x);
    if (st == INAS_OK) st = op_check_tensor(ctx, op, "y", y);
    if (st != INAS_OK) return st;
    return plane_reduce(ctx, op, 1.0f / ((float)x->shape[2] * (float)x->shape[3]), x, "x", NULL, NULL, y, "y", NULL,
                        NULL);
}

inas_status inas_op_se_mul_bwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *s, const inas_tensor *dy,
                               const inas_tensor *dx, const inas_tensor *ds) {
    const char *op = "inas_op_se_mul_bwd";
    inas_status st = op_check_tensor(ctx, op, "dy", dy);
    if (st == INAS_OK && ds) st = op_check_tensor(ctx, op, "x", x);
    if (st == INAS_OK && dx) st = op_check_tensor(ctx, op, "s", s);
    if (st != INAS_OK) return st;
    if (!dx && !ds) return INAS_OK;
    return plane_reduce(ctx, op, 1.0f, dy, "dy", ds ? x : NULL, "x", ds, "ds", dx ? s : NULL, dx);
}
