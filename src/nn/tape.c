/* tape.c - forward op constructors of the supernet and, in one switch, the
 * backward of each (see tape.h). */
#include "nn/tape.h"

#include <stdlib.h>
#include <string.h>

#include "ops/conv.h"
#include "ops/dwconv.h"
#include "ops/elementwise.h"
#include "ops/norm.h"
#include "ops/pool.h"
#include "ops/resize.h"

enum node_kind { N_CONV, N_BN, N_ACT, N_SMSU, N_MEAN, N_ADD, N_GAP, N_SE_MUL, N_MAXPOOL, N_AVGPOOL, N_RESIZE };

struct inas_tape_node {
    int kind;
    int in[INAS_OP_MEAN_MAX];
    int nin;
    int out;
    int p[4];          /* parameter indices */
    int a[4];          /* integer arguments */
    inas_tensor s0, s1;/* saved tensors (pool-owned) */
};

#define BN_EPS 1e-5f

void inas_tape_init(inas_tape *tp, inas_ctx *ctx, inas_params *ps) {
    memset(tp, 0, sizeof *tp);
    tp->ctx = ctx;
    tp->ps = ps;
    tp->bn_momentum = 0.1f;
}

void inas_tape_reset(inas_tape *tp) {
    for (size_t i = 0; i < tp->nvars; i++) {
        if (tp->vars[i].owned) inas_tensor_free(tp->ctx, &tp->vars[i].t);
        if (tp->vars[i].has_g) inas_tensor_free(tp->ctx, &tp->vars[i].g);
    }
    for (size_t i = 0; i < tp->nnodes; i++) {
        inas_tensor_free(tp->ctx, &tp->nodes[i].s0);
        inas_tensor_free(tp->ctx, &tp->nodes[i].s1);
    }
    tp->nvars = 0;
    tp->nnodes = 0;
}

void inas_tape_free(inas_tape *tp) {
    inas_tape_reset(tp);
    free(tp->vars);
    free(tp->nodes);
    tp->vars = NULL;
    tp->nodes = NULL;
    tp->capv = tp->capn = 0;
}

static int add_var(inas_tape *tp, const inas_tensor *t, int owned) {
    if (tp->nvars == tp->capv) {
        size_t cap = tp->capv ? tp->capv * 2 : 512;
        inas_var *nv = realloc(tp->vars, cap * sizeof *nv);
        if (!nv) {
            inas_ctx_fail(tp->ctx, INAS_ERR_NO_MEMORY, "out of memory (tape)");
            return -1;
        }
        tp->vars = nv;
        tp->capv = cap;
    }
    inas_var *v = &tp->vars[tp->nvars];
    memset(v, 0, sizeof *v);
    v->t = *t;
    v->owned = owned;
    return (int)tp->nvars++;
}

static int new_var(inas_tape *tp, int n, int c, int h, int w) {
    inas_tensor t;
    if (inas_tensor_alloc(tp->ctx, &t, n, c, h, w) != INAS_OK) return -1;
    int id = add_var(tp, &t, 1);
    if (id < 0) inas_tensor_free(tp->ctx, &t);
    return id;
}

int tp_input(inas_tape *tp, const inas_tensor *t) { return add_var(tp, t, 0); }

inas_tensor *tp_value(inas_tape *tp, int v) { return &tp->vars[v].t; }

static inas_tape_node *add_node(inas_tape *tp, int kind, int out) {
    if (!tp->recording) return NULL;
    if (tp->nnodes == tp->capn) {
        size_t cap = tp->capn ? tp->capn * 2 : 512;
        inas_tape_node *nn = realloc(tp->nodes, cap * sizeof *nn);
        if (!nn) {
            inas_ctx_fail(tp->ctx, INAS_ERR_NO_MEMORY, "out of memory (tape)");
            return NULL;
        }
        tp->nodes = nn;
        tp->capn = cap;
    }
    inas_tape_node *n = &tp->nodes[tp->nnodes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->out = out;
    for (int i = 0; i < 4; i++) n->p[i] = -1;
    return n;
}

/* Records a node when recording; a failed record makes the op fail. */
#define RECORD(node, kind, out)                                             \
    inas_tape_node *node = NULL;                                            \
    if (tp->recording && !(node = add_node(tp, (kind), (out)))) return -1

#define T(v) (&tp->vars[v].t)

int tp_conv(inas_tape *tp, int x, int w, int b, int cout, int stride, int pad) {
    if (x < 0 || w < 0) return -1;
    const inas_param *pw = &tp->ps->p[w];
    int k = pw->shape[2], cin = T(x)->shape[1];
    int ho = (T(x)->shape[2] + 2 * pad - k) / stride + 1, wo = (T(x)->shape[3] + 2 * pad - k) / stride + 1;
    int y = new_var(tp, T(x)->shape[0], cout, ho, wo);
    if (y < 0) return -1;
    inas_tensor wv = inas_param_value(tp->ps, w);
    inas_tensor wb = inas_param_block(tp->ps, w, &wv, cout, cin, k, k);
    inas_tensor bv, bb;
    if (b >= 0) {
        bv = inas_param_value(tp->ps, b);
        bb = inas_param_block(tp->ps, b, &bv, cout, 1, 1, 1);
    }
    if (inas_op_conv2d_fwd(tp->ctx, T(x), &wb, b >= 0 ? &bb : NULL, T(y), stride, pad, 0, INAS_GEMM_AUTO) != INAS_OK)
        return -1;
    RECORD(n, N_CONV, y);
    if (n) {
        n->in[0] = x;
        n->nin = 1;
        n->p[0] = w;
        n->p[1] = b;
        n->a[0] = cout;
        n->a[1] = stride;
        n->a[2] = pad;
        n->a[3] = k;
    }
    return y;
}

int tp_bn(inas_tape *tp, int x, inas_bn_ref bn, int act) {
    if (x < 0) return -1;
    const inas_tensor *xt = T(x);
    int y = new_var(tp, xt->shape[0], xt->shape[1], xt->shape[2], xt->shape[3]);
    if (y < 0) return -1;
    inas_tensor g = inas_param_value(tp->ps, bn.gamma), be = inas_param_value(tp->ps, bn.beta);
    inas_tensor rm = inas_param_value(tp->ps, bn.mean), rv = inas_param_value(tp->ps, bn.var);
    inas_status st;
    if (tp->bn_mode == INAS_BN_EVAL) {
        st = inas_op_bn_eval_fwd(tp->ctx, xt, &g, &be, &rm, &rv, BN_EPS, act, T(y));
    } else if (tp->bn_mode == INAS_BN_RECAL) {
        st = inas_op_bn_recal_fwd(tp->ctx, xt, &g, &be, &rm, &rv, tp->recal_batch, BN_EPS, act, T(y));
    } else {
        inas_tensor sm, si;
        int c = xt->shape[1];
        if (inas_tensor_alloc(tp->ctx, &sm, 1, 1, 1, c) != INAS_OK) return -1;
        if (inas_tensor_alloc(tp->ctx, &si, 1, 1, 1, c) != INAS_OK) {
            inas_tensor_free(tp->ctx, &sm);
            return -1;
        }
        st = inas_op_bn_train_fwd(tp->ctx, xt, &g, &be, &rm, &rv, tp->bn_momentum, BN_EPS, act, T(y), &sm, &si);
        inas_tape_node *n = NULL;
        if (st == INAS_OK && tp->recording) n = add_node(tp, N_BN, y);
        if (!n) {
            inas_tensor_free(tp->ctx, &sm);
            inas_tensor_free(tp->ctx, &si);
            return (st == INAS_OK && !tp->recording) ? y : -1;
        }
        n->in[0] = x;
        n->nin = 1;
        n->p[0] = bn.gamma;
        n->p[1] = bn.beta;
        n->a[0] = act;
        n->s0 = sm;
        n->s1 = si;
        return y;
    }
    return st == INAS_OK ? y : -1;
}

int tp_act(inas_tape *tp, int x, inas_act act) {
    if (x < 0) return -1;
    const inas_tensor *xt = T(x);
    int y = new_var(tp, xt->shape[0], xt->shape[1], xt->shape[2], xt->shape[3]);
    if (y < 0 || inas_op_act_fwd(tp->ctx, act, T(x), T(y)) != INAS_OK) return -1;
    RECORD(n, N_ACT, y);
    if (n) {
        n->in[0] = x;
        n->nin = 1;
        n->a[0] = act;
    }
    return y;
}

int tp_smsu_dwconv(inas_tape *tp, int x, int w, int m, int k, int stride) {
    if (x < 0) return -1;
    const inas_tensor *xt = T(x);
    int c = xt->shape[1];
    int ho = inas_dwconv_out_size(xt->shape[2], k, stride, 1), wo = inas_dwconv_out_size(xt->shape[3], k, stride, 1);
    inas_tensor wt;
    if (inas_tensor_alloc(tp->ctx, &wt, c, 1, k, k) != INAS_OK) return -1;
    inas_tensor wv = inas_param_value(tp->ps, w), mv = inas_param_value(tp->ps, m);
    int y = new_var(tp, xt->shape[0], c, ho, wo);
    if (y < 0 || inas_op_smsu_fwd(tp->ctx, &wv, k, &mv, &wt) != INAS_OK ||
        inas_op_dwconv_fwd(tp->ctx, T(x), &wt, k, stride, 1, NULL, 0, T(y)) != INAS_OK) {
        inas_tensor_free(tp->ctx, &wt);
        return -1;
    }
    inas_tape_node *n = tp->recording ? add_node(tp, N_SMSU, y) : NULL;
    if (!n) {
        inas_tensor_free(tp->ctx, &wt);
        return tp->recording ? -1 : y;
    }
    n->in[0] = x;
    n->nin = 1;
    n->p[0] = w;
    n->p[1] = m;
    n->a[0] = k;
    n->a[1] = stride;
    n->s0 = wt;
    return y;
}

int tp_mean(inas_tape *tp, const int *xs, int k) {
    if (k < 1 || k > INAS_OP_MEAN_MAX) {
        inas_ctx_fail(tp->ctx, INAS_ERR_INVALID_ARG, "tape mean: %d inputs (1..%d)", k, INAS_OP_MEAN_MAX);
        return -1;
    }
    for (int i = 0; i < k; i++)
        if (xs[i] < 0) return -1;
    if (k == 1) return xs[0];
    const inas_tensor *x0 = T(xs[0]);
    int y = new_var(tp, x0->shape[0], x0->shape[1], x0->shape[2], x0->shape[3]);
    if (y < 0) return -1;
    const inas_tensor *ts[INAS_OP_MEAN_MAX];
    for (int i = 0; i < k; i++) ts[i] = T(xs[i]);
    if (inas_op_mean(tp->ctx, ts, k, T(y)) != INAS_OK) return -1;
    RECORD(n, N_MEAN, y);
    if (n) {
        for (int i = 0; i < k; i++) n->in[i] = xs[i];
        n->nin = k;
    }
    return y;
}

int tp_add(inas_tape *tp, int a, int b) {
    if (a < 0 || b < 0) return -1;
    const inas_tensor *at = T(a);
    int y = new_var(tp, at->shape[0], at->shape[1], at->shape[2], at->shape[3]);
    if (y < 0 || inas_op_add(tp->ctx, T(a), T(b), T(y)) != INAS_OK) return -1;
    RECORD(n, N_ADD, y);
    if (n) {
        n->in[0] = a;
        n->in[1] = b;
        n->nin = 2;
    }
    return y;
}

int tp_gap(inas_tape *tp, int x) {
    if (x < 0) return -1;
    int y = new_var(tp, T(x)->shape[0], T(x)->shape[1], 1, 1);
    if (y < 0 || inas_op_gap_fwd(tp->ctx, T(x), T(y)) != INAS_OK) return -1;
    RECORD(n, N_GAP, y);
    if (n) {
        n->in[0] = x;
        n->nin = 1;
    }
    return y;
}

int tp_se_mul(inas_tape *tp, int x, int s) {
    if (x < 0 || s < 0) return -1;
    const inas_tensor *xt = T(x);
    int y = new_var(tp, xt->shape[0], xt->shape[1], xt->shape[2], xt->shape[3]);
    if (y < 0 || inas_op_se_mul_fwd(tp->ctx, T(x), T(s), T(y)) != INAS_OK) return -1;
    RECORD(n, N_SE_MUL, y);
    if (n) {
        n->in[0] = x;
        n->in[1] = s;
        n->nin = 2;
    }
    return y;
}

int tp_maxpool(inas_tape *tp, int x, int k) {
    if (x < 0) return -1;
    const inas_tensor *xt = T(x);
    int y = new_var(tp, xt->shape[0], xt->shape[1], inas_maxpool_out_size(xt->shape[2], k),
                    inas_maxpool_out_size(xt->shape[3], k));
    if (y < 0 || inas_op_maxpool_fwd(tp->ctx, k, T(x), T(y)) != INAS_OK) return -1;
    RECORD(n, N_MAXPOOL, y);
    if (n) {
        n->in[0] = x;
        n->nin = 1;
        n->a[0] = k;
    }
    return y;
}

int tp_avgpool2(inas_tape *tp, int x) {
    if (x < 0) return -1;
    const inas_tensor *xt = T(x);
    inas_avgpool_opts o = {1, 0};
    int y = new_var(tp, xt->shape[0], xt->shape[1], inas_avgpool2_out_size(xt->shape[2], 1),
                    inas_avgpool2_out_size(xt->shape[3], 1));
    if (y < 0 || inas_op_avgpool2_fwd(tp->ctx, &o, T(x), T(y)) != INAS_OK) return -1;
    RECORD(n, N_AVGPOOL, y);
    if (n) {
        n->in[0] = x;
        n->nin = 1;
    }
    return y;
}

int tp_resize(inas_tape *tp, int x, int h, int w, int align_corners) {
    if (x < 0) return -1;
    const inas_tensor *xt = T(x);
    if (xt->shape[2] == h && xt->shape[3] == w) return x;
    int y = new_var(tp, xt->shape[0], xt->shape[1], h, w);
    if (y < 0 || inas_op_resize_fwd(tp->ctx, INAS_RESIZE_BILINEAR, align_corners, T(x), T(y)) != INAS_OK) return -1;
    RECORD(n, N_RESIZE, y);
    if (n) {
        n->in[0] = x;
        n->nin = 1;
        n->a[0] = align_corners;
    }
    return y;
}

/* ---- backward ---------------------------------------------------------------------- */

/* A gradient buffer for input var v: its own gradient when it has none yet
 * (*fresh = 1: write into it), else a temporary to add afterwards. */
static inas_status grad_target(inas_tape *tp, int v, inas_tensor *out, int *fresh) {
    inas_var *var = &tp->vars[v];
    const inas_tensor *t = &var->t;
    inas_status st = inas_tensor_alloc(tp->ctx, out, t->shape[0], t->shape[1], t->shape[2], t->shape[3]);
    if (st != INAS_OK) return st;
    *fresh = !var->has_g;
    return INAS_OK;
}

/* Hands a computed gradient to var v (adopting it or adding it in). */
static inas_status grad_commit(inas_tape *tp, int v, inas_tensor *g, int fresh) {
    inas_var *var = &tp->vars[v];
    if (fresh) {
        var->g = *g;
        var->has_g = 1;
        return INAS_OK;
    }
    inas_status st = inas_op_accumulate(tp->ctx, g, &var->g);
    inas_tensor_free(tp->ctx, g);
    return st;
}

inas_status tp_set_grad(inas_tape *tp, int v, const inas_tensor *g) {
    inas_tensor t;
    int fresh;
    inas_status st = grad_target(tp, v, &t, &fresh);
    if (st != INAS_OK) return st;
    st = inas_tensor_copy(tp->ctx, g, &t);
    if (st != INAS_OK) {
        inas_tensor_free(tp->ctx, &t);
        return st;
    }
    return grad_commit(tp, v, &t, fresh);
}

/* Inputs that are parameters-free graph inputs (not produced by a node and
 * not owned) take no gradient: the network input image. */
static int wants_grad(inas_tape *tp, int v) { return tp->vars[v].owned; }

static inas_status backward_node(inas_tape *tp, inas_tape_node *n) {
    inas_ctx *ctx = tp->ctx;
    inas_params *ps = tp->ps;
    inas_var *out = &tp->vars[n->out];
    const inas_tensor *dy = &out->g;
    int x = n->in[0];
    inas_tensor g;
    int fresh = 0;
    inas_status st = INAS_OK;
    switch (n->kind) {
    case N_CONV: {
        int cout = n->a[0], stride = n->a[1], pad = n->a[2], k = n->a[3], cin = T(x)->shape[1];
        inas_tensor wv = inas_param_value(ps, n->p[0]), wg = inas_param_grad(ps, n->p[0]);
        inas_tensor wb = inas_param_block(ps, n->p[0], &wv, cout, cin, k, k);
        inas_tensor gb = inas_param_block(ps, n->p[0], &wg, cout, cin, k, k);
        st = inas_op_conv2d_bwd_weight(ctx, T(x), dy, &gb, stride, pad, INAS_GEMM_AUTO);
        if (st == INAS_OK && n->p[1] >= 0) {
            inas_tensor bg = inas_param_grad(ps, n->p[1]);
            inas_tensor bb = inas_param_block(ps, n->p[1], &bg, cout, 1, 1, 1);
            st = inas_op_conv2d_bwd_bias(ctx, dy, &bb);
        }
        if (st == INAS_OK && wants_grad(tp, x) && (st = grad_target(tp, x, &g, &fresh)) == INAS_OK) {
            st = inas_op_conv2d_bwd_data(ctx, dy, &wb, &g, stride, pad, INAS_GEMM_AUTO);
            st = st == INAS_OK ? grad_commit(tp, x, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        }
        break;
    }
    case N_BN: {
        inas_tensor gam = inas_param_value(ps, n->p[0]), bet = inas_param_value(ps, n->p[1]);
        inas_tensor dgam = inas_param_grad(ps, n->p[0]), dbet = inas_param_grad(ps, n->p[1]);
        int need_dx = wants_grad(tp, x);
        if (need_dx && (st = grad_target(tp, x, &g, &fresh)) != INAS_OK) break;
        st = inas_op_bn_bwd(ctx, T(x), dy, &gam, &bet, &n->s0, &n->s1, n->a[0], need_dx ? &g : NULL, &dgam, &dbet);
        if (need_dx) st = st == INAS_OK ? grad_commit(tp, x, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        break;
    }
    case N_ACT:
        if (!wants_grad(tp, x)) break;
        if ((st = grad_target(tp, x, &g, &fresh)) != INAS_OK) break;
        st = inas_op_act_bwd(ctx, (inas_act)n->a[0], T(x), &out->t, dy, &g);
        st = st == INAS_OK ? grad_commit(tp, x, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        break;
    case N_SMSU: {
        int k = n->a[0], stride = n->a[1], c = T(x)->shape[1];
        inas_tensor dwt;
        if ((st = inas_tensor_alloc(ctx, &dwt, c, 1, k, k)) != INAS_OK) break;
        st = inas_tensor_fill(ctx, &dwt, 0.0f);
        if (st == INAS_OK) st = inas_op_dwconv_bwd_weight(ctx, T(x), dy, k, stride, 1, &dwt);
        if (st == INAS_OK) {
            inas_tensor wv = inas_param_value(ps, n->p[0]), mv = inas_param_value(ps, n->p[1]);
            inas_tensor wg = inas_param_grad(ps, n->p[0]), mg = inas_param_grad(ps, n->p[1]);
            st = inas_op_smsu_bwd(ctx, &wv, k, &mv, &dwt, &mg, &wg);
        }
        inas_tensor_free(ctx, &dwt);
        if (st == INAS_OK && wants_grad(tp, x) && (st = grad_target(tp, x, &g, &fresh)) == INAS_OK) {
            st = inas_op_dwconv_bwd_data(ctx, dy, &n->s0, k, stride, 1, &g);
            st = st == INAS_OK ? grad_commit(tp, x, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        }
        break;
    }
    case N_MEAN: {
        float s = 1.0f / (float)n->nin;
        for (int i = 0; i < n->nin && st == INAS_OK; i++) {
            int v = n->in[i];
            if (!wants_grad(tp, v)) continue;
            if ((st = grad_target(tp, v, &g, &fresh)) != INAS_OK) break;
            st = inas_op_scale(ctx, s, dy, &g);
            st = st == INAS_OK ? grad_commit(tp, v, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        }
        break;
    }
    case N_ADD:
        for (int i = 0; i < 2 && st == INAS_OK; i++) {
            int v = n->in[i];
            if (!wants_grad(tp, v)) continue;
            if ((st = grad_target(tp, v, &g, &fresh)) != INAS_OK) break;
            st = inas_tensor_copy(ctx, dy, &g);
            st = st == INAS_OK ? grad_commit(tp, v, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        }
        break;
    case N_GAP:
        if (!wants_grad(tp, x)) break;
        if ((st = grad_target(tp, x, &g, &fresh)) != INAS_OK) break;
        st = inas_op_gap_bwd(ctx, dy, &g);
        st = st == INAS_OK ? grad_commit(tp, x, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        break;
    case N_SE_MUL: {
        int s = n->in[1];
        inas_tensor gs;
        int fresh_s = 0, need_x = wants_grad(tp, x), need_s = wants_grad(tp, s);
        if (need_x && (st = grad_target(tp, x, &g, &fresh)) != INAS_OK) break;
        if (need_s && (st = grad_target(tp, s, &gs, &fresh_s)) != INAS_OK) {
            if (need_x) inas_tensor_free(ctx, &g);
            break;
        }
        st = inas_op_se_mul_bwd(ctx, T(x), T(s), dy, need_x ? &g : NULL, need_s ? &gs : NULL);
        if (need_x) st = st == INAS_OK ? grad_commit(tp, x, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        if (need_s) st = st == INAS_OK ? grad_commit(tp, s, &gs, fresh_s) : (inas_tensor_free(ctx, &gs), st);
        break;
    }
    case N_MAXPOOL:
        if (!wants_grad(tp, x)) break;
        if ((st = grad_target(tp, x, &g, &fresh)) != INAS_OK) break;
        st = inas_op_maxpool_bwd(ctx, n->a[0], T(x), dy, &g);
        st = st == INAS_OK ? grad_commit(tp, x, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        break;
    case N_AVGPOOL: {
        if (!wants_grad(tp, x)) break;
        inas_avgpool_opts o = {1, 0};
        if ((st = grad_target(tp, x, &g, &fresh)) != INAS_OK) break;
        st = inas_op_avgpool2_bwd(ctx, &o, dy, &g);
        st = st == INAS_OK ? grad_commit(tp, x, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        break;
    }
    case N_RESIZE:
        if (!wants_grad(tp, x)) break;
        if ((st = grad_target(tp, x, &g, &fresh)) != INAS_OK) break;
        st = inas_op_resize_bwd(ctx, INAS_RESIZE_BILINEAR, n->a[0], dy, &g);
        st = st == INAS_OK ? grad_commit(tp, x, &g, fresh) : (inas_tensor_free(ctx, &g), st);
        break;
    default: st = inas_ctx_fail(ctx, INAS_ERR_INTERNAL, "tape: unknown node kind %d", n->kind);
    }
    return st;
}

inas_status inas_tape_backward(inas_tape *tp) {
    for (size_t i = tp->nnodes; i-- > 0;) {
        inas_tape_node *n = &tp->nodes[i];
        inas_var *out = &tp->vars[n->out];
        if (!out->has_g) continue; /* does not reach any output */
        inas_status st = backward_node(tp, n);
        if (st != INAS_OK) return st;
        /* this gradient is consumed: give its buffer back */
        inas_tensor_free(tp->ctx, &out->g);
        out->has_g = 0;
    }
    return INAS_OK;
}
