/* reparam.c - see reparam.h. */
#include "deploy/reparam.h"

inas_status inas_op_bn_fold(inas_ctx *ctx, const inas_tensor *w, const inas_tensor *gamma, const inas_tensor *beta,
                            const inas_tensor *mean, const inas_tensor *var, float eps, const inas_tensor *wo,
                            const inas_tensor *bo) {
    const char *op = "inas_op_bn_fold";
    if (!w || !gamma || !beta || !mean || !var || !wo || !bo || !w->buf || !wo->buf || !bo->buf)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "null tensor");
    int cout = w->shape[0];
    int n = w->shape[1] * w->shape[2] * w->shape[3];
    if (w->stride[3] != 1 || w->stride[2] != (size_t)w->shape[3] || w->stride[1] != (size_t)(w->shape[2] * w->shape[3]))
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "weight inner dims must be dense");
    if (inas_tensor_numel(wo) != (size_t)cout * (size_t)n || !inas_tensor_is_contiguous(wo))
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "wo must be contiguous with %d x %d elements", cout, n);
    if (inas_tensor_numel(bo) != (size_t)cout || !inas_tensor_is_contiguous(bo))
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "bo must be contiguous with %d elements", cout);
    const inas_tensor *vs[4] = {gamma, beta, mean, var};
    for (int i = 0; i < 4; i++)
        if (inas_tensor_numel(vs[i]) < (size_t)cout)
            return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "BN vectors need at least %d elements", cout);
    cl_kernel k;
    inas_status st = op_kernel(ctx, "reparam.cl", "bn_fold", &k, "-DREPARAM=%d", 1);
    if (st != INAS_OK) return st;
    cl_ulong woff = w->offset, ws0 = w->stride[0], goff = gamma->offset, boff = beta->offset, moff = mean->offset,
             voff = var->offset;
    cl_mem wob = wo->buf, bob = bo->buf;
    if (wo->offset || bo->offset) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "outputs must start at offset 0");
    st = op_args(ctx, k, 16, OP_ARG(w->buf), OP_ARG(woff), OP_ARG(ws0), OP_ARG(n), OP_ARG(cout), OP_ARG(gamma->buf),
                 OP_ARG(goff), OP_ARG(beta->buf), OP_ARG(boff), OP_ARG(mean->buf), OP_ARG(moff), OP_ARG(var->buf),
                 OP_ARG(voff), OP_ARG(eps), OP_ARG(wob), OP_ARG(bob));
    size_t g = op_round_up((size_t)cout * (size_t)n, 64), l = 64;
    if (st == INAS_OK) st = op_run(ctx, k, 1, &g, &l, "bn_fold");
    return st;
}

inas_status inas_op_smsu_merge_acc(inas_ctx *ctx, const inas_tensor *wk, const inas_tensor *bk, int k, float scale,
                                   const inas_tensor *W, const inas_tensor *B) {
    const char *op = "inas_op_smsu_merge_acc";
    if (!wk || !bk || !W || !B || !wk->buf || !bk->buf || !W->buf || !B->buf)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "null tensor");
    int C = W->shape[0], K = W->shape[2];
    if (k < 1 || k > K || (K - k) % 2 || W->shape[3] != K || wk->shape[0] != C || wk->shape[2] != k ||
        wk->shape[3] != k || inas_tensor_numel(bk) < (size_t)C || inas_tensor_numel(B) < (size_t)C)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "shapes: branch %dx%dx%d into %dx%dx%d", wk->shape[0],
                       wk->shape[2], wk->shape[3], C, K, W->shape[3]);
    if (wk->offset || bk->offset || W->offset || B->offset || !inas_tensor_is_contiguous(wk) ||
        !inas_tensor_is_contiguous(W))
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "tensors must be contiguous at offset 0");
    cl_kernel kern;
    inas_status st = op_kernel(ctx, "reparam.cl", "smsu_merge_acc", &kern, "-DREPARAM=%d", 1);
    if (st != INAS_OK) return st;
    st = op_args(ctx, kern, 8, OP_ARG(wk->buf), OP_ARG(bk->buf), OP_ARG(k), OP_ARG(K), OP_ARG(C), OP_ARG(scale),
                 OP_ARG(W->buf), OP_ARG(B->buf));
    size_t g = op_round_up((size_t)C * (size_t)(K * K), 64), l = 64;
    if (st == INAS_OK) st = op_run(ctx, kern, 1, &g, &l, "smsu_merge_acc");
    return st;
}
