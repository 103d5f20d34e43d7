/* norm.c - see norm.h. */
#include "ops/norm.h"

#include <math.h>
#include <stdio.h>

#include "ops/reduce.h"

static inas_status check_act(inas_ctx *ctx, const char *op, int act) {
    if (act == INAS_BN_ACT_NONE || act == INAS_BN_ACT_RELU || act == INAS_BN_ACT_SILU) return INAS_OK;
    return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "activation code %d is not supported (NONE 0, RELU 1, SILU 3)", act);
}

static int off(const inas_tensor *t) { return t ? (int)t->offset : 0; }
static cl_mem mem(const inas_tensor *t) { return t ? t->buf : NULL; }

/* Enqueues bn_apply: y = act((x - coef[3c])*coef[3c+1] + coef[3c+2]). */
static inas_status apply(inas_ctx *ctx, const nr_geom *g, const char *opts, const inas_tensor *x,
                         const inas_tensor *y, cl_mem coef, const char *label) {
    cl_kernel k;
    inas_status st = op_kernel(ctx, "norm.cl", "bn_apply", &k, "%s", opts);
    if (st != INAS_OK) return st;
    const int N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
    int groups, chunk;
    nr_split_flat(g, (long)N * C * HW, &groups, &chunk);
    int xo = (int)x->offset, sN = (int)x->stride[0], sC = (int)x->stride[1];
    int yo = (int)y->offset, ysN = (int)y->stride[0], ysC = (int)y->stride[1];
    st = op_args(ctx, k, 13, OP_ARG(x->buf), OP_ARG(xo), OP_ARG(sN), OP_ARG(sC), OP_ARG(y->buf), OP_ARG(yo),
                 OP_ARG(ysN), OP_ARG(ysC), OP_ARG(N), OP_ARG(C), OP_ARG(HW), OP_ARG(chunk), OP_ARG(coef));
    size_t gl = (size_t)groups * g->lws, lo = (size_t)g->lws;
    if (st == INAS_OK) st = op_run(ctx, k, 1, &gl, &lo, label);
    return st;
}

static inas_status run_c(inas_ctx *ctx, cl_kernel k, int C, const char *label) {
    size_t gl = (size_t)C, lo = 64;
    return op_run(ctx, k, 1, &gl, &lo, label);
}

static inas_status train_fwd(inas_ctx *ctx, const char *op, const inas_tensor *x, const inas_tensor *gamma,
                             const inas_tensor *beta, const inas_tensor *rmean, const inas_tensor *rvar,
                             float momentum, float eps, int act, const inas_tensor *y, const inas_tensor *smean,
                             const inas_tensor *sinv) {
    inas_status st = nr_check_planes(ctx, op, "x", x);
    if (st != INAS_OK) return st;
    const int C = x->shape[1];
    if (st == INAS_OK && y) st = nr_check_planes(ctx, op, "y", y);
    if (st == INAS_OK && y) st = op_check_same(ctx, op, "x", x, "y", y);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "gamma", gamma, C, x);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "beta", beta, C, x);
    if (st == INAS_OK && (rmean || rvar)) st = nr_check_vec(ctx, op, "running_mean", rmean, C, x);
    if (st == INAS_OK && (rmean || rvar)) st = nr_check_vec(ctx, op, "running_var", rvar, C, x);
    if (st == INAS_OK && (smean || sinv)) st = nr_check_vec(ctx, op, "save_mean", smean, C, x);
    if (st == INAS_OK && (smean || sinv)) st = nr_check_vec(ctx, op, "save_invstd", sinv, C, x);
    if (st == INAS_OK) st = check_act(ctx, op, act);
    if (st != INAS_OK) return st;
    long M = (long)x->shape[0] * x->shape[2] * x->shape[3];
    char s[64];
    if (M < 2)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op,
                       "x (%s) has a single value per channel; training mode needs more than one",
                       inas_tensor_shape_str(x, s, sizeof s));
    if (!(momentum >= 0.0f && momentum <= 1.0f) || !(eps >= 0.0f))
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "momentum %g must be in [0, 1] and eps %g >= 0",
                       (double)momentum, (double)eps);

    nr_geom g;
    nr_geom_get(ctx, &g);
    char o[96], opts[128];
    nr_geom_opts(&g, o, sizeof o);
    snprintf(opts, sizeof opts, "%s -DACT=%d", o, act);
    cl_kernel kf;
    if ((st = op_kernel(ctx, "norm.cl", "bn_train_final", &kf, "%s", opts)) != INAS_OK) return st;
    cl_mem part, coef;
    void *pblock, *cblock;
    int G;
    if ((st = inas_pool_acquire(ctx, (size_t)C * 3 * sizeof(float), &coef, &cblock)) != INAS_OK) return st;
    if ((st = nr_stats_partials(ctx, &g, x, &part, &pblock, &G)) != INAS_OK) {
        inas_pool_release(ctx, cblock);
        return st;
    }
    if (!rmean || !rvar) rmean = rvar = NULL;
    if (!smean || !sinv) smean = sinv = NULL;
    cl_mem rm = mem(rmean), rv = mem(rvar), sm = mem(smean), si = mem(sinv);
    int go = off(gamma), bo = off(beta), rmo = off(rmean), rvo = off(rvar), smo = off(smean), sio = off(sinv);
    st = op_args(ctx, kf, 17, OP_ARG(part), OP_ARG(G), OP_ARG(C), OP_ARG(momentum), OP_ARG(eps), OP_ARG(gamma->buf),
                 OP_ARG(go), OP_ARG(beta->buf), OP_ARG(bo), OP_ARG(rm), OP_ARG(rmo), OP_ARG(rv), OP_ARG(rvo),
                 OP_ARG(sm), OP_ARG(smo), OP_ARG(si), OP_ARG(sio));
    if (st == INAS_OK) st = inas_kernel_arg(ctx, kf, 17, sizeof coef, &coef);
    if (st == INAS_OK) st = run_c(ctx, kf, C, "bn_train_final");
    if (st == INAS_OK && y) st = apply(ctx, &g, opts, x, y, coef, "bn_train_apply");
    inas_pool_release(ctx, pblock);
    inas_pool_release(ctx, cblock);
    return st;
}

inas_status inas_op_bn_train_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *gamma,
                                 const inas_tensor *beta, const inas_tensor *running_mean,
                                 const inas_tensor *running_var, float momentum, float eps, int act,
                                 const inas_tensor *y, const inas_tensor *save_mean, const inas_tensor *save_invstd) {
    const char *op = "inas_op_bn_train_fwd";
    if (!y) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "y is a null tensor");
    return train_fwd(ctx, op, x, gamma, beta, running_mean, running_var, momentum, eps, act, y, save_mean,
                     save_invstd);
}

float inas_bn_recal_momentum(int batch_index) { return 1.0f / (float)(batch_index + 1); }

inas_status inas_op_bn_recal_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *gamma,
                                 const inas_tensor *beta, const inas_tensor *running_mean,
                                 const inas_tensor *running_var, int batch_index, float eps, int act,
                                 const inas_tensor *y) {
    const char *op = "inas_op_bn_recal_fwd";
    if (batch_index < 0) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "batch_index %d < 0", batch_index);
    if (!running_mean || !running_var)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "running_mean and running_var are required");
    return train_fwd(ctx, op, x, gamma, beta, running_mean, running_var, inas_bn_recal_momentum(batch_index), eps,
                     act, y, NULL, NULL);
}

inas_status inas_op_bn_eval_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *gamma, const inas_tensor *beta,
                                const inas_tensor *rmean, const inas_tensor *rvar, float eps, int act,
                                const inas_tensor *y) {
    const char *op = "inas_op_bn_eval_fwd";
    inas_status st = nr_check_planes(ctx, op, "x", x);
    if (st == INAS_OK) st = nr_check_planes(ctx, op, "y", y);
    if (st == INAS_OK) st = op_check_same(ctx, op, "x", x, "y", y);
    if (st != INAS_OK) return st;
    const int C = x->shape[1];
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "gamma", gamma, C, x);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "beta", beta, C, x);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "running_mean", rmean, C, x);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "running_var", rvar, C, x);
    if (st == INAS_OK) st = check_act(ctx, op, act);
    if (st != INAS_OK) return st;
    nr_geom g;
    nr_geom_get(ctx, &g);
    char o[96], opts[128];
    nr_geom_opts(&g, o, sizeof o);
    snprintf(opts, sizeof opts, "%s -DACT=%d", o, act);
    cl_kernel k;
    if ((st = op_kernel(ctx, "norm.cl", "bn_eval_coef", &k, "%s", opts)) != INAS_OK) return st;
    cl_mem coef;
    void *cblock;
    if ((st = inas_pool_acquire(ctx, (size_t)C * 3 * sizeof(float), &coef, &cblock)) != INAS_OK) return st;
    int go = off(gamma), bo = off(beta), rmo = off(rmean), rvo = off(rvar);
    st = op_args(ctx, k, 11, OP_ARG(C), OP_ARG(eps), OP_ARG(gamma->buf), OP_ARG(go), OP_ARG(beta->buf), OP_ARG(bo),
                 OP_ARG(rmean->buf), OP_ARG(rmo), OP_ARG(rvar->buf), OP_ARG(rvo), OP_ARG(coef));
    if (st == INAS_OK) st = run_c(ctx, k, C, "bn_eval_coef");
    if (st == INAS_OK) st = apply(ctx, &g, opts, x, y, coef, "bn_eval_apply");
    inas_pool_release(ctx, cblock);
    return st;
}

inas_status inas_op_bn_bwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *dy, const inas_tensor *gamma,
                           const inas_tensor *beta, const inas_tensor *smean, const inas_tensor *sinv, int act,
                           const inas_tensor *dx, const inas_tensor *dgamma, const inas_tensor *dbeta) {
    const char *op = "inas_op_bn_bwd";
    inas_status st = nr_check_planes(ctx, op, "x", x);
    if (st == INAS_OK) st = nr_check_planes(ctx, op, "dy", dy);
    if (st == INAS_OK) st = op_check_same(ctx, op, "x", x, "dy", dy);
    if (st == INAS_OK && dx) st = nr_check_planes(ctx, op, "dx", dx);
    if (st == INAS_OK && dx) st = op_check_same(ctx, op, "x", x, "dx", dx);
    if (st != INAS_OK) return st;
    const int N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
    st = nr_check_vec(ctx, op, "gamma", gamma, C, x);
    if (st == INAS_OK && (beta || act != INAS_BN_ACT_NONE)) st = nr_check_vec(ctx, op, "beta", beta, C, x);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "save_mean", smean, C, x);
    if (st == INAS_OK) st = nr_check_vec(ctx, op, "save_invstd", sinv, C, x);
    if (st == INAS_OK && dgamma) st = nr_check_vec(ctx, op, "dgamma", dgamma, C, x);
    if (st == INAS_OK && dbeta) st = nr_check_vec(ctx, op, "dbeta", dbeta, C, x);
    if (st == INAS_OK) st = check_act(ctx, op, act);
    if (st != INAS_OK) return st;
    if (!beta) beta = gamma; /* unused without an activation */

    nr_geom g;
    nr_geom_get(ctx, &g);
    char o[96], opts[128];
    nr_geom_opts(&g, o, sizeof o);
    snprintf(opts, sizeof opts, "%s -DACT=%d", o, act);
    cl_kernel k1, k2, k3;
    if ((st = op_kernel(ctx, "norm.cl", "bn_bwd_part", &k1, "%s", opts)) != INAS_OK ||
        (st = op_kernel(ctx, "norm.cl", "bn_bwd_final", &k2, "%s", opts)) != INAS_OK ||
        (st = op_kernel(ctx, "norm.cl", "bn_bwd_apply", &k3, "%s", opts)) != INAS_OK)
        return st;
    long M = (long)N * HW;
    nr_split s;
    nr_split_channels(&g, M, C, &s);
    cl_mem part, coef;
    void *pblock, *cblock;
    if ((st = inas_pool_acquire(ctx, (size_t)C * s.G * 2 * sizeof(float), &part, &pblock)) != INAS_OK) return st;
    if ((st = inas_pool_acquire(ctx, (size_t)C * 5 * sizeof(float), &coef, &cblock)) != INAS_OK) {
        inas_pool_release(ctx, pblock);
        return st;
    }
    int xo = (int)x->offset, sN = (int)x->stride[0], sC = (int)x->stride[1];
    int dyo = (int)dy->offset, dsN = (int)dy->stride[0], dsC = (int)dy->stride[1];
    int go = off(gamma), bo = off(beta), smo = off(smean), sio = off(sinv), dgo = off(dgamma), dbo = off(dbeta);
    st = op_args(ctx, k1, 20, OP_ARG(x->buf), OP_ARG(xo), OP_ARG(sN), OP_ARG(sC), OP_ARG(dy->buf), OP_ARG(dyo),
                 OP_ARG(dsN), OP_ARG(dsC), OP_ARG(N), OP_ARG(C), OP_ARG(HW), OP_ARG(s.cpg), OP_ARG(s.chunk),
                 OP_ARG(gamma->buf), OP_ARG(go), OP_ARG(beta->buf), OP_ARG(bo), OP_ARG(smean->buf), OP_ARG(smo),
                 OP_ARG(sinv->buf));
    if (st == INAS_OK) st = inas_kernel_arg(ctx, k1, 20, sizeof sio, &sio);
    if (st == INAS_OK) st = inas_kernel_arg(ctx, k1, 21, sizeof part, &part);
    size_t gl[2] = {(size_t)s.G * g.lws, (size_t)s.cgroups}, lo[2] = {(size_t)g.lws, 1};
    if (st == INAS_OK) st = op_run(ctx, k1, 2, gl, lo, "bn_bwd_part");
    float Mf = (float)M;
    cl_mem dgm = mem(dgamma), dbm = mem(dbeta);
    if (st == INAS_OK)
        st = op_args(ctx, k2, 17, OP_ARG(part), OP_ARG(s.G), OP_ARG(C), OP_ARG(Mf), OP_ARG(gamma->buf), OP_ARG(go),
                     OP_ARG(beta->buf), OP_ARG(bo), OP_ARG(smean->buf), OP_ARG(smo), OP_ARG(sinv->buf), OP_ARG(sio),
                     OP_ARG(dgm), OP_ARG(dgo), OP_ARG(dbm), OP_ARG(dbo), OP_ARG(coef));
    if (st == INAS_OK) st = run_c(ctx, k2, C, "bn_bwd_final");
    if (st == INAS_OK && dx) {
        int groups, chunk;
        nr_split_flat(&g, M * C, &groups, &chunk);
        int oo = (int)dx->offset, osN = (int)dx->stride[0], osC = (int)dx->stride[1];
        st = op_args(ctx, k3, 17, OP_ARG(x->buf), OP_ARG(xo), OP_ARG(sN), OP_ARG(sC), OP_ARG(dy->buf), OP_ARG(dyo),
                     OP_ARG(dsN), OP_ARG(dsC), OP_ARG(dx->buf), OP_ARG(oo), OP_ARG(osN), OP_ARG(osC), OP_ARG(N),
                     OP_ARG(C), OP_ARG(HW), OP_ARG(chunk), OP_ARG(coef));
        size_t gl1 = (size_t)groups * g.lws, lo1 = (size_t)g.lws;
        if (st == INAS_OK) st = op_run(ctx, k3, 1, &gl1, &lo1, "bn_bwd_apply");
    }
    inas_pool_release(ctx, pblock);
    inas_pool_release(ctx, cblock);
    return st;
}
