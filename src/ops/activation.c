/* activation.c - see activation.h. */
#include "ops/activation.h"

#include "ops/elem_common.h"

const char *inas_act_name(inas_act act) {
    switch (act) {
    case INAS_ACT_NONE: return "none";
    case INAS_ACT_RELU: return "relu";
    case INAS_ACT_RELU6: return "relu6";
    case INAS_ACT_SILU: return "silu";
    case INAS_ACT_SIGMOID: return "sigmoid";
    case INAS_ACT_HARDSIGMOID: return "hardsigmoid";
    }
    return NULL;
}

inas_status inas_op_act_fwd(inas_ctx *ctx, inas_act act, const inas_tensor *x, const inas_tensor *y) {
    const char *op = "inas_op_act_fwd";
    if (!inas_act_name(act)) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "unknown activation code %d", (int)act);
    elem_arg a[2];
    inas_status st = elem_arg_of(ctx, op, "x", x, &a[0]);
    if (st == INAS_OK) st = elem_arg_of(ctx, op, "y", y, &a[1]);
    if (st == INAS_OK) st = op_check_same(ctx, op, "x", x, "y", y);
    const inas_tensor *ts[2] = {x, y};
    char dt[64];
    if (st == INAS_OK) st = op_dtype_opts(ctx, op, ts, 2, dt, sizeof dt);
    if (st != INAS_OK) return st;
    elem_geom g = elem_geom_of(ts, 2, a);
    cl_kernel k;
    int vec = elem_vec(ctx);
    st = op_kernel(ctx, "activation.cl", "act_fwd", &k, "-DACT=%d -DVEC=%d %s", (int)act, vec, dt);
    if (st == INAS_OK)
        st = op_args(ctx, k, 9, OP_ARG(g.L), OP_ARG(a[0].buf), OP_ARG(a[0].off), OP_ARG(a[0].sn), OP_ARG(a[0].sc),
                     OP_ARG(a[1].buf), OP_ARG(a[1].off), OP_ARG(a[1].sn), OP_ARG(a[1].sc));
    if (st == INAS_OK) st = elem_launch(ctx, k, g, vec, "act_fwd");
    return st;
}

inas_status inas_op_act_bwd(inas_ctx *ctx, inas_act act, const inas_tensor *x, const inas_tensor *y,
                            const inas_tensor *dy, const inas_tensor *dx) {
    const char *op = "inas_op_act_bwd";
    const char *name = inas_act_name(act);
    if (!name) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "unknown activation code %d", (int)act);
    /* which forward tensor the derivative needs */
    const inas_tensor *v = x;
    int from_y = 0;
    if ((act == INAS_ACT_RELU || act == INAS_ACT_SIGMOID) && y) {
        v = y;
        from_y = act == INAS_ACT_SIGMOID;
    }
    if (act == INAS_ACT_NONE) v = dy;
    if (!v)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s backward needs the forward input x%s", name,
                       (act == INAS_ACT_RELU || act == INAS_ACT_SIGMOID) ? " or output y" : "");
    elem_arg a[3];
    inas_status st = elem_arg_of(ctx, op, v == y ? "y" : "x", v, &a[0]);
    if (st == INAS_OK) st = elem_arg_of(ctx, op, "dy", dy, &a[1]);
    if (st == INAS_OK) st = elem_arg_of(ctx, op, "dx", dx, &a[2]);
    if (st == INAS_OK) st = op_check_same(ctx, op, v == y ? "y" : "x", v, "dy", dy);
    if (st == INAS_OK) st = op_check_same(ctx, op, "dy", dy, "dx", dx);
    if (st != INAS_OK) return st;
    const inas_tensor *ts[3] = {v, dy, dx};
    elem_geom g = elem_geom_of(ts, 3, a);
    cl_kernel k;
    int vec = elem_vec(ctx);
    st = op_kernel(ctx, "activation.cl", "act_bwd", &k, "-DACT=%d -DVEC=%d -DBWD_FROM_Y=%d", (int)act, vec, from_y);
    if (st == INAS_OK)
        st = op_args(ctx, k, 13, OP_ARG(g.L), OP_ARG(a[0].buf), OP_ARG(a[0].off), OP_ARG(a[0].sn), OP_ARG(a[0].sc),
                     OP_ARG(a[1].buf), OP_ARG(a[1].off), OP_ARG(a[1].sn), OP_ARG(a[1].sc), OP_ARG(a[2].buf),
                     OP_ARG(a[2].off), OP_ARG(a[2].sn), OP_ARG(a[2].sc));
    if (st == INAS_OK) st = elem_launch(ctx, k, g, vec, "act_bwd");
    return st;
}
