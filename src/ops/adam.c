/* adam.c - see adam.h. */
#include "ops/adam.h"

#include <math.h>

#include "ops/reduce.h"

void inas_adam_defaults(inas_adam_params *p, double lr) {
    p->lr = lr;
    p->beta1 = INAS_ADAM_BETA1;
    p->beta2 = INAS_ADAM_BETA2;
    p->eps = INAS_ADAM_EPS;
    p->weight_decay = 0.0;
    p->step = 1;
    p->zero_grad = 0;
}

static inas_status check_flat(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *t, size_t n) {
    inas_status st = op_check_tensor(ctx, op, name, t);
    if (st != INAS_OK) return st;
    char s[64];
    if (!inas_tensor_is_contiguous(t))
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s (%s) is not dense", name, inas_tensor_shape_str(t, s, sizeof s));
    if (inas_tensor_numel(t) != n)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has %zu elements (shape %s), param has %zu", name,
                       inas_tensor_numel(t), inas_tensor_shape_str(t, s, sizeof s), n);
    if (t->offset + n > 0x7fffffffu)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s is too large (more than 2^31 elements)", name);
    return INAS_OK;
}

inas_status inas_op_adam_step(inas_ctx *ctx, const inas_tensor *param, const inas_tensor *grad, const inas_tensor *m,
                              const inas_tensor *v, const inas_adam_params *hp) {
    const char *op = "inas_op_adam_step";
    inas_status st = op_check_tensor(ctx, op, "param", param);
    if (st != INAS_OK) return st;
    size_t n = inas_tensor_numel(param);
    if ((st = check_flat(ctx, op, "param", param, n)) != INAS_OK || (st = check_flat(ctx, op, "grad", grad, n)) != INAS_OK ||
        (st = check_flat(ctx, op, "m", m, n)) != INAS_OK || (st = check_flat(ctx, op, "v", v, n)) != INAS_OK)
        return st;
    if (!hp) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "no hyper-parameters");
    if (hp->step < 1 || !(hp->beta1 >= 0.0 && hp->beta1 < 1.0) || !(hp->beta2 >= 0.0 && hp->beta2 < 1.0) ||
        !(hp->eps >= 0.0) || !(hp->lr >= 0.0) || !(hp->weight_decay >= 0.0))
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op,
                       "bad hyper-parameters (lr %g, betas %g %g, eps %g, weight_decay %g, step %d)", (double)hp->lr,
                       (double)hp->beta1, (double)hp->beta2, (double)hp->eps, (double)hp->weight_decay, hp->step);
    nr_geom g;
    nr_geom_get(ctx, &g);
    char o[96];
    cl_kernel k;
    if ((st = op_kernel(ctx, "adam.cl", "adam_step", &k, "%s -DWD=%d -DZERO_GRAD=%d", nr_geom_opts(&g, o, sizeof o),
                        hp->weight_decay != 0.0, hp->zero_grad != 0)) != INAS_OK)
        return st;
    int groups, chunk;
    nr_split_flat(&g, (long)n, &groups, &chunk);
    double bc1 = 1.0 - pow(hp->beta1, hp->step), bc2 = 1.0 - pow(hp->beta2, hp->step);
    float step_size = (float)(hp->lr / bc1), inv_bc2 = (float)(1.0 / sqrt(bc2));
    float b1 = (float)hp->beta1, b2 = (float)hp->beta2, c1 = (float)(1.0 - hp->beta1), c2 = (float)(1.0 - hp->beta2);
    float eps = (float)hp->eps, wd = (float)hp->weight_decay;
    int po = (int)param->offset, go = (int)grad->offset, mo = (int)m->offset, vo = (int)v->offset, nn = (int)n;
    st = op_args(ctx, k, 18, OP_ARG(param->buf), OP_ARG(po), OP_ARG(grad->buf), OP_ARG(go), OP_ARG(m->buf), OP_ARG(mo),
                 OP_ARG(v->buf), OP_ARG(vo), OP_ARG(nn), OP_ARG(chunk), OP_ARG(step_size), OP_ARG(b1), OP_ARG(c1),
                 OP_ARG(b2), OP_ARG(c2), OP_ARG(inv_bc2), OP_ARG(eps), OP_ARG(wd));
    size_t gl = (size_t)groups * g.lws, lo = (size_t)g.lws;
    if (st == INAS_OK) st = op_run(ctx, k, 1, &gl, &lo, "adam_step");
    return st;
}
