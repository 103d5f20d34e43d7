/* loss.c - see loss.h. */
#include "ops/loss.h"

#include "ops/reduce.h"

enum { LOSS_BCE = 1, LOSS_MSE = 2, LOSS_BCE_LOGITS = 3 };

static inas_status run_loss(inas_ctx *ctx, const char *op, int kind, const inas_tensor *p, const inas_tensor *t,
                            float weight, const inas_tensor *loss, float *host_loss, const inas_tensor *grad) {
    inas_status st = nr_check_planes(ctx, op, "p", p);
    if (st == INAS_OK) st = nr_check_planes(ctx, op, "t", t);
    if (st == INAS_OK) st = op_check_same(ctx, op, "p", p, "t", t);
    if (st == INAS_OK && grad) st = nr_check_planes(ctx, op, "grad", grad);
    if (st == INAS_OK && grad) st = op_check_same(ctx, op, "p", p, "grad", grad);
    if (st == INAS_OK && loss) st = nr_check_vec(ctx, op, "loss", loss, 1, NULL);
    if (st != INAS_OK) return st;
    if (!loss && !host_loss && !grad)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "nothing to compute: loss, host_loss and grad are all NULL");
    nr_geom g;
    nr_geom_get(ctx, &g);
    char o[96];
    nr_geom_opts(&g, o, sizeof o);
    cl_kernel k;
    if ((st = op_kernel(ctx, "loss.cl", "loss_part", &k, "%s -DLOSS=%d -DGRAD=%d", o, kind, grad != NULL)) != INAS_OK)
        return st;
    const int N = p->shape[0], C = p->shape[1], HW = p->shape[2] * p->shape[3];
    const long T = (long)N * C * HW;
    int groups, chunk;
    nr_split_flat(&g, T, &groups, &chunk);
    cl_mem part, lmem;
    void *pblock, *lblock = NULL;
    if ((st = inas_pool_acquire(ctx, (size_t)groups * sizeof(float), &part, &pblock)) != INAS_OK) return st;
    size_t loff = 0;
    if (loss) {
        lmem = loss->buf;
        loff = loss->offset;
    } else if ((st = inas_pool_acquire(ctx, sizeof(float), &lmem, &lblock)) != INAS_OK) {
        inas_pool_release(ctx, pblock);
        return st;
    }
    const inas_tensor *gg = grad ? grad : p; /* unused without GRAD */
    int po = (int)p->offset, psN = (int)p->stride[0], psC = (int)p->stride[1];
    int to = (int)t->offset, tsN = (int)t->stride[0], tsC = (int)t->stride[1];
    int go = (int)gg->offset, gsN = (int)gg->stride[0], gsC = (int)gg->stride[1];
    float gscale = (float)((double)weight / (double)T), lscale = gscale;
    st = op_args(ctx, k, 18, OP_ARG(p->buf), OP_ARG(po), OP_ARG(psN), OP_ARG(psC), OP_ARG(t->buf), OP_ARG(to),
                 OP_ARG(tsN), OP_ARG(tsC), OP_ARG(gg->buf), OP_ARG(go), OP_ARG(gsN), OP_ARG(gsC), OP_ARG(N), OP_ARG(C),
                 OP_ARG(HW), OP_ARG(chunk), OP_ARG(gscale), OP_ARG(part));
    size_t gl = (size_t)groups * g.lws, lo = (size_t)g.lws;
    if (st == INAS_OK) st = op_run(ctx, k, 1, &gl, &lo, op);
    if (st == INAS_OK) st = nr_sum_final(ctx, &g, part, groups, lscale, lmem, loff);
    if (st == INAS_OK && host_loss) {
        cl_int rc = CL(clEnqueueReadBuffer)(inas_ctx_queue(ctx), lmem, CL_TRUE, loff * sizeof(float), sizeof(float),
                                        host_loss, 0, NULL, NULL);
        if (rc != CL_SUCCESS) st = inas_cl_fail(ctx, rc, "%s: reading the loss back", op);
    }
    inas_pool_release(ctx, pblock);
    if (lblock) inas_pool_release(ctx, lblock);
    return st;
}

inas_status inas_op_bce_loss(inas_ctx *ctx, const inas_tensor *p, const inas_tensor *t, float weight,
                             const inas_tensor *loss, float *host_loss, const inas_tensor *grad) {
    return run_loss(ctx, "inas_op_bce_loss", LOSS_BCE, p, t, weight, loss, host_loss, grad);
}

inas_status inas_op_bce_logits_loss(inas_ctx *ctx, const inas_tensor *z, const inas_tensor *t, float weight,
                                    const inas_tensor *loss, float *host_loss, const inas_tensor *grad) {
    return run_loss(ctx, "inas_op_bce_logits_loss", LOSS_BCE_LOGITS, z, t, weight, loss, host_loss, grad);
}

inas_status inas_op_mse_loss(inas_ctx *ctx, const inas_tensor *p, const inas_tensor *t, float weight,
                             const inas_tensor *loss, float *host_loss, const inas_tensor *grad) {
    return run_loss(ctx, "inas_op_mse_loss", LOSS_MSE, p, t, weight, loss, host_loss, grad);
}
