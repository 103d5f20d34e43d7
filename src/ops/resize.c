/* resize.c - see resize.h. */
#include "ops/resize.h"

#include "ops/elem_common.h"

/* output rows per work-item of the forward */
#define RESIZE_RB 8

#define ARG4(a) OP_ARG((a).buf), OP_ARG((a).off), OP_ARG((a).sn), OP_ARG((a).sc)

float inas_resize_scale(inas_resize_mode mode, int align_corners, int in, int out) {
    if (mode == INAS_RESIZE_BILINEAR && align_corners)
        return out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
    return (float)in / (float)out;
}

static inas_status resize_run(inas_ctx *ctx, const char *op, int bwd, inas_resize_mode mode, int align_corners,
                              const inas_tensor *in_t, const char *in_name, const inas_tensor *out_t,
                              const char *out_name) {
    if (mode != INAS_RESIZE_BILINEAR && mode != INAS_RESIZE_NEAREST)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "unknown resize mode %d", (int)mode);
    elem_arg ai, ao;
    inas_status st = elem_arg_of(ctx, op, in_name, in_t, &ai);
    if (st == INAS_OK) st = elem_arg_of(ctx, op, out_name, out_t, &ao);
    const inas_tensor *ts[2] = {in_t, out_t};
    char dt[64];
    if (st == INAS_OK) st = op_dtype_opts(ctx, op, ts, 2, dt, sizeof dt);
    if (st != INAS_OK) return st;
    /* x is the small-or-large forward input, y the forward output */
    const inas_tensor *x = bwd ? out_t : in_t, *y = bwd ? in_t : out_t;
    if (x->shape[0] != y->shape[0] || x->shape[1] != y->shape[1]) {
        char a[64], b[64];
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s (%s) and %s (%s) differ in batch or channels", in_name,
                       inas_tensor_shape_str(in_t, a, sizeof a), out_name, inas_tensor_shape_str(out_t, b, sizeof b));
    }
    int C = x->shape[1], H = x->shape[2], W = x->shape[3], Ho = y->shape[2], Wo = y->shape[3];
    int align = mode == INAS_RESIZE_BILINEAR && align_corners ? 1 : 0;
    float sh = inas_resize_scale(mode, align, H, Ho), sw = inas_resize_scale(mode, align, W, Wo);
    const char *opts = "-DMODE=%d -DALIGN=%d -DRB=%d %s";
    cl_kernel k;
    /* CPU kernels keep column tables and rows in local memory: 5 rows of Wp
     * floats forward, 4 rows + W backward (Wp = Wo rounded up to 16) */
    size_t wp = (size_t)(Wo + 15) / 16 * 16;
    size_t local_need = (bwd ? 4 * wp + (size_t)W + 16 : 5 * wp) * sizeof(float);
    int rows_kernel = elem_is_cpu(ctx) && local_need <= inas_ctx_device(ctx)->local_mem;
    if (!bwd && rows_kernel) { /* whole rows per work-item, local row caches */
        st = op_kernel(ctx, "resize.cl", "resize_fwd_rows", &k, opts, (int)mode, align, RESIZE_RB, dt);
        if (st == INAS_OK)
            st = op_args(ctx, k, 15, OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(C), OP_ARG(sh), OP_ARG(sw),
                         ARG4(ai), ARG4(ao));
        if (st == INAS_OK) st = inas_kernel_arg(ctx, k, 15, 2 * wp * sizeof(cl_int), NULL);
        if (st == INAS_OK) st = inas_kernel_arg(ctx, k, 16, 3 * wp * sizeof(cl_float), NULL);
        size_t global[3] = {1, (size_t)(Ho + RESIZE_RB - 1) / RESIZE_RB, (size_t)x->shape[0] * C};
        size_t local[3] = {1, 1, 1};
        if (st == INAS_OK) st = op_run(ctx, k, 3, global, local, op);
        return st;
    }
    if (!bwd) { /* over output pixels: 16 columns x RESIZE_RB rows per work-item */
        st = op_kernel(ctx, "resize.cl", "resize_fwd", &k, opts, (int)mode, align, RESIZE_RB, dt);
        if (st == INAS_OK)
            st = op_args(ctx, k, 15, OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(C), OP_ARG(sh), OP_ARG(sw),
                         ARG4(ai), ARG4(ao));
        if (st == INAS_OK)
            st = elem_launch2(ctx, k, (size_t)(Wo + 15) / 16, (size_t)(Ho + RESIZE_RB - 1) / RESIZE_RB,
                              (size_t)x->shape[0] * C, op);
        return st;
    }
    if (rows_kernel) { /* whole dx rows per work-item, local row buffers */
        st = op_kernel(ctx, "resize.cl", "resize_bwd_rows", &k, opts, (int)mode, align, RESIZE_RB, dt);
        if (st == INAS_OK)
            st = op_args(ctx, k, 15, OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(C), OP_ARG(sh), OP_ARG(sw),
                         ARG4(ai), ARG4(ao));
        if (st == INAS_OK) st = inas_kernel_arg(ctx, k, 15, 2 * wp * sizeof(cl_int), NULL);
        if (st == INAS_OK) st = inas_kernel_arg(ctx, k, 16, (2 * wp + (size_t)W + 16) * sizeof(cl_float), NULL);
        size_t global[3] = {1, (size_t)(H + RESIZE_RB - 1) / RESIZE_RB, (size_t)x->shape[0] * C};
        size_t local[3] = {1, 1, 1};
        if (st == INAS_OK) st = op_run(ctx, k, 3, global, local, op);
        return st;
    }
    /* backward elsewhere: two separable gathers through a pooled (N*C) x H x Wo scratch */
    size_t planes = (size_t)x->shape[0] * C;
    if (planes * (size_t)H * (size_t)Wo > (size_t)INT_MAX)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "scratch of %zux%dx%d is too large", planes, H, Wo);
    int dims[3] = {(int)planes, H, Wo};
    inas_tensor tmp;
    st = inas_tensor_alloc_nd(ctx, &tmp, 3, dims);
    if (st != INAS_OK) return st;
    cl_kernel kh, kw;
    st = op_kernel(ctx, "resize.cl", "resize_bwd_h", &kh, opts, (int)mode, align, RESIZE_RB, dt);
    if (st == INAS_OK) st = op_kernel(ctx, "resize.cl", "resize_bwd_w", &kw, opts, (int)mode, align, RESIZE_RB, dt);
    if (st == INAS_OK)
        st = op_args(ctx, kh, 12, OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(C), OP_ARG(sh), OP_ARG(sw),
                     ARG4(ai), OP_ARG(tmp.buf));
    if (st == INAS_OK)
        st = op_args(ctx, kw, 12, OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(C), OP_ARG(sh), OP_ARG(sw),
                     OP_ARG(tmp.buf), ARG4(ao));
    if (st == INAS_OK) st = elem_launch2(ctx, kh, (size_t)(Wo + 15) / 16, (size_t)H, planes, op);
    if (st == INAS_OK) st = elem_launch2(ctx, kw, (size_t)(W + 15) / 16, (size_t)H, planes, op);
    /* the queue is in order: later users of the pooled buffer run after these kernels */
    inas_tensor_free(ctx, &tmp);
    return st;
}

inas_status inas_op_resize_fwd(inas_ctx *ctx, inas_resize_mode mode, int align_corners, const inas_tensor *x,
                               const inas_tensor *y) {
    return resize_run(ctx, "inas_op_resize_fwd", 0, mode, align_corners, x, "x", y, "y");
}

inas_status inas_op_resize_bwd(inas_ctx *ctx, inas_resize_mode mode, int align_corners, const inas_tensor *dy,
                               const inas_tensor *dx) {
    return resize_run(ctx, "inas_op_resize_bwd", 1, mode, align_corners, dy, "dy", dx, "dx");
}
