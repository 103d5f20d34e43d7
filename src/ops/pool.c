/* pool.c - see pool.h. */
#include "ops/pool.h"

#include "ops/elem_common.h"

#define ARG4(a) OP_ARG((a).buf), OP_ARG((a).off), OP_ARG((a).sn), OP_ARG((a).sc)

int inas_maxpool_out_size(int in, int k) { return k > 0 ? in / k : 0; }
int inas_avgpool2_out_size(int in, int ceil_mode) { return ceil_mode ? (in + 1) / 2 : in / 2; }

static inas_status check_k(inas_ctx *ctx, const char *op, int k, const inas_tensor *x) {
    if (k != 2 && k != 4 && k != 8 && k != 16)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "kernel size %d is not supported (2, 4, 8 or 16)", k);
    char s[64];
    if (x->shape[2] < k || x->shape[3] < k)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "input %s is smaller than the %dx%d window", inas_tensor_shape_str(x, s, sizeof s), k, k);
    return INAS_OK;
}

/* Rows per work-item (the kernels' -DRB). */
#define POOL_RB 8

/* cols: blocks of columns; on CPUs one work-item walks all of a row's blocks
 * (long sequential streams), on GPUs each block is a work-item. */
static inas_status run_pool(inas_ctx *ctx, cl_kernel k, size_t cols, size_t rows, size_t planes, const char *label) {
    return elem_launch2(ctx, k, elem_is_cpu(ctx) ? 1 : cols, (rows + POOL_RB - 1) / POOL_RB, planes, label);
}

inas_status inas_op_maxpool_fwd(inas_ctx *ctx, int k, const inas_tensor *x, const inas_tensor *y) {
    const char *op = "inas_op_maxpool_fwd";
    elem_arg ax, ay;
    inas_status st = elem_arg_of(ctx, op, "x", x, &ax);
    if (st == INAS_OK) st = check_k(ctx, op, k, x);
    if (st == INAS_OK) st = elem_arg_of(ctx, op, "y", y, &ay);
    if (st != INAS_OK) return st;
    int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int Ho = H / k, Wo = W / k, owv = 16 / k;
    st = op_check_shape(ctx, op, "y", y, N, C, Ho, Wo);
    const inas_tensor *ts[2] = {x, y};
    char dt[64];
    if (st == INAS_OK) st = op_dtype_opts(ctx, op, ts, 2, dt, sizeof dt);
    if (st != INAS_OK) return st;
    cl_kernel kern;
    st = op_kernel(ctx, "pool.cl", "maxpool_fwd", &kern, "-DKS=%d -DOWV=%d -DRB=%d %s", k, owv, POOL_RB, dt);
    if (st == INAS_OK)
        st = op_args(ctx, kern, 13, OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(C), ARG4(ax), ARG4(ay));
    if (st == INAS_OK) st = run_pool(ctx, kern, (size_t)(Wo + owv - 1) / owv, (size_t)Ho, (size_t)N * C, op);
    return st;
}

inas_status inas_op_maxpool_bwd(inas_ctx *ctx, int k, const inas_tensor *x, const inas_tensor *dy,
                                const inas_tensor *dx) {
    const char *op = "inas_op_maxpool_bwd";
    elem_arg ax, ag, ad;
    inas_status st = elem_arg_of(ctx, op, "x", x, &ax);
    if (st == INAS_OK) st = check_k(ctx, op, k, x);
    if (st == INAS_OK) st = elem_arg_of(ctx, op, "dy", dy, &ag);
    if (st == INAS_OK) st = elem_arg_of(ctx, op, "dx", dx, &ad);
    if (st == INAS_OK) st = op_check_same(ctx, op, "x", x, "dx", dx);
    if (st != INAS_OK) return st;
    int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int Ho = H / k, Wo = W / k, owv = 16 / k;
    st = op_check_shape(ctx, op, "dy", dy, N, C, Ho, Wo);
    if (st != INAS_OK) return st;
    cl_kernel kern;
    st = op_kernel(ctx, "pool.cl", "maxpool_bwd", &kern, "-DKS=%d -DOWV=%d -DRB=%d", k, owv, POOL_RB);
    if (st == INAS_OK)
        st = op_args(ctx, kern, 17, OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(C), ARG4(ax), ARG4(ag),
                     ARG4(ad));
    if (st == INAS_OK)
        st = run_pool(ctx, kern, (size_t)(Wo + owv - 1) / owv, (size_t)Ho + (H % k ? 1 : 0), (size_t)N * C, op);
    return st;
}

static inas_status avg_check(inas_ctx *ctx, const char *op, const inas_avgpool_opts *opts, const char *bn,
                             const inas_tensor *big, const char *sn, const inas_tensor *small, elem_arg *ab,
                             elem_arg *as) {
    inas_status st = elem_arg_of(ctx, op, bn, big, ab);
    if (st == INAS_OK) st = elem_arg_of(ctx, op, sn, small, as);
    if (st != INAS_OK) return st;
    int cm = opts ? opts->ceil_mode : 0;
    int Ho = inas_avgpool2_out_size(big->shape[2], cm), Wo = inas_avgpool2_out_size(big->shape[3], cm);
    if (Ho < 1 || Wo < 1) {
        char s[64];
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s %s is too small for a 2x2 window in floor mode", bn,
                       inas_tensor_shape_str(big, s, sizeof s));
    }
    return op_check_shape(ctx, op, sn, small, big->shape[0], big->shape[1], Ho, Wo);
}

inas_status inas_op_avgpool2_fwd(inas_ctx *ctx, const inas_avgpool_opts *opts, const inas_tensor *x,
                                 const inas_tensor *y) {
    const char *op = "inas_op_avgpool2_fwd";
    elem_arg ax, ay;
    inas_status st = avg_check(ctx, op, opts, "x", x, "y", y, &ax, &ay);
    const inas_tensor *ts[2] = {x, y};
    char dt[64];
    if (st == INAS_OK) st = op_dtype_opts(ctx, op, ts, 2, dt, sizeof dt);
    if (st != INAS_OK) return st;
    int C = x->shape[1], H = x->shape[2], W = x->shape[3], Ho = y->shape[2], Wo = y->shape[3];
    cl_kernel kern;
    st = op_kernel(ctx, "pool.cl", "avgpool2_fwd", &kern, "-DRB=%d %s", POOL_RB, dt);
    if (st == INAS_OK)
        st = op_args(ctx, kern, 13, OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(C), ARG4(ax), ARG4(ay));
    if (st == INAS_OK) st = run_pool(ctx, kern, (size_t)(Wo + 7) / 8, (size_t)Ho, (size_t)x->shape[0] * C, op);
    return st;
}

inas_status inas_op_avgpool2_bwd(inas_ctx *ctx, const inas_avgpool_opts *opts, const inas_tensor *dy,
                                 const inas_tensor *dx) {
    const char *op = "inas_op_avgpool2_bwd";
    elem_arg ad, ag;
    inas_status st = avg_check(ctx, op, opts, "dx", dx, "dy", dy, &ad, &ag);
    if (st != INAS_OK) return st;
    int C = dx->shape[1], H = dx->shape[2], W = dx->shape[3], Ho = dy->shape[2], Wo = dy->shape[3];
    cl_kernel kern;
    st = op_kernel(ctx, "pool.cl", "avgpool2_bwd", &kern, "-DRB=%d", POOL_RB);
    if (st == INAS_OK)
        st = op_args(ctx, kern, 13, OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(C), ARG4(ag), ARG4(ad));
    if (st == INAS_OK) st = run_pool(ctx, kern, (size_t)(W + 15) / 16, (size_t)H, (size_t)dx->shape[0] * C, op);
    return st;
}
