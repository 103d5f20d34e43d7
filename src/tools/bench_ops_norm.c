/* bench_ops_norm.c - `inas bench ops` cases of the norm kernel family:
 * BatchNorm (training forward, eval forward, backward; plain and with fused
 * SiLU), per-channel sum, the BCE and MSE losses with their gradients, and
 * the Adam step.
 *
 * Bytes are the minimal traffic of each algorithm (4 bytes per float):
 *   bn_train_fwd  3 x numel  (x read for the statistics, read again, y written)
 *   bn_eval_fwd   2 x numel  (x read, y written)
 *   bn_bwd        5 x numel  (x and dy read for the sums, read again, dx written)
 *   channel_sum   1 x numel
 *   bce/mse_fwd_bwd 3 x numel (p and t read, grad written)
 *   adam_step     7 x numel  (param, grad, m, v read; param, m, v written)
 * Shapes: 8x96x160x160 (larger than L3), the expand-BN input of every stage of
 * the default space (N x hidden x h_in x h_in) for the batches and resolutions
 * asked for (with --quick only the largest batch and resolution), losses at
 * 8x1xRxR and 32x1x320x320, Adam on 20 M parameters (the largest network). */
#include <stdio.h>
#include <string.h>

#include "ops/adam.h"
#include "ops/loss.h"
#include "ops/norm.h"
#include "ops/reduce.h"
#include "tools/bench_ops.h"

typedef struct bn_job {
    inas_ctx *ctx;
    inas_tensor x, y, dy, gamma, beta, rm, rv, sm, si, dg, db;
    int act;
} bn_job;

static int run_train(void *u) {
    bn_job *j = u;
    return inas_op_bn_train_fwd(j->ctx, &j->x, &j->gamma, &j->beta, &j->rm, &j->rv, 0.1f, 1e-5f, j->act, &j->y, &j->sm,
                                &j->si) != INAS_OK;
}
static int run_eval(void *u) {
    bn_job *j = u;
    return inas_op_bn_eval_fwd(j->ctx, &j->x, &j->gamma, &j->beta, &j->rm, &j->rv, 1e-5f, j->act, &j->y) != INAS_OK;
}
static int run_bwd(void *u) {
    bn_job *j = u;
    return inas_op_bn_bwd(j->ctx, &j->x, &j->dy, &j->gamma, &j->beta, &j->sm, &j->si, j->act, &j->y, &j->dg,
                          &j->db) != INAS_OK;
}
static int run_csum(void *u) {
    bn_job *j = u;
    return inas_op_channel_sum(j->ctx, &j->x, &j->dg, 0) != INAS_OK;
}

static int vec(inas_ctx *ctx, inas_tensor *t, int c, float v) {
    return inas_tensor_alloc(ctx, t, 1, 1, 1, c) != INAS_OK || inas_tensor_fill(ctx, t, v) != INAS_OK;
}

static void bn_cases(bench_ops *b, int n, int c, int h, int w, int with_silu) {
    static const char *const ops[] = {"bn_train_fwd", "bn_eval_fwd", "bn_bwd", "channel_sum"};
    int any = 0;
    for (int i = 0; i < 4; i++) any |= bench_ops_selected(b, ops[i]);
    if (!any) return;
    inas_ctx *ctx = bench_ops_ctx(b);
    bn_job j;
    memset(&j, 0, sizeof j);
    j.ctx = ctx;
    if (inas_tensor_alloc(ctx, &j.x, n, c, h, w) != INAS_OK || inas_tensor_alloc(ctx, &j.y, n, c, h, w) != INAS_OK ||
        inas_tensor_alloc(ctx, &j.dy, n, c, h, w) != INAS_OK || vec(ctx, &j.gamma, c, 1.0f) || vec(ctx, &j.beta, c, 0.0f) ||
        vec(ctx, &j.rm, c, 0.0f) || vec(ctx, &j.rv, c, 1.0f) || vec(ctx, &j.sm, c, 0.0f) || vec(ctx, &j.si, c, 1.0f) ||
        vec(ctx, &j.dg, c, 0.0f) || vec(ctx, &j.db, c, 0.0f) || inas_tensor_fill(ctx, &j.x, 0.5f) != INAS_OK ||
        inas_tensor_fill(ctx, &j.dy, 0.25f) != INAS_OK) {
        fprintf(stderr, "inas bench ops: norm: allocation failed: %s\n", inas_ctx_last_error(ctx));
        goto done;
    }
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d", n, c, h, w);
    double e = (double)n * c * h * w, B = 4.0 * e;
    for (int a = 0; a <= with_silu; a++) {
        j.act = a ? INAS_BN_ACT_SILU : INAS_BN_ACT_NONE;
        char op[48];
        snprintf(op, sizeof op, "bn_train_fwd%s", a ? "_silu" : "");
        if (bench_ops_selected(b, op)) bench_ops_time(b, op, shape, (a ? 10.0 : 5.0) * e, 3 * B, run_train, &j);
        snprintf(op, sizeof op, "bn_eval_fwd%s", a ? "_silu" : "");
        if (bench_ops_selected(b, op)) bench_ops_time(b, op, shape, (a ? 7.0 : 2.0) * e, 2 * B, run_eval, &j);
        snprintf(op, sizeof op, "bn_bwd%s", a ? "_silu" : "");
        if (bench_ops_selected(b, op)) {
            run_train(&j); /* saved statistics */
            bench_ops_time(b, op, shape, (a ? 20.0 : 8.0) * e, 5 * B, run_bwd, &j);
        }
    }
    if (bench_ops_selected(b, "channel_sum")) bench_ops_time(b, "channel_sum", shape, e, B, run_csum, &j);
done:
    inas_tensor *all[] = {&j.x, &j.y, &j.dy, &j.gamma, &j.beta, &j.rm, &j.rv, &j.sm, &j.si, &j.dg, &j.db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->buf) inas_tensor_free(ctx, all[i]);
}

typedef struct loss_job {
    inas_ctx *ctx;
    inas_tensor p, t, g, l;
    int mse;
} loss_job;

static int run_loss(void *u) {
    loss_job *j = u;
    if (j->mse) return inas_op_mse_loss(j->ctx, &j->p, &j->t, 0.4f, &j->l, NULL, &j->g) != INAS_OK;
    return inas_op_bce_loss(j->ctx, &j->p, &j->t, 0.4f, &j->l, NULL, &j->g) != INAS_OK;
}

static void loss_cases(bench_ops *b, int n, int r) {
    if (!bench_ops_selected(b, "bce_fwd_bwd") && !bench_ops_selected(b, "mse_fwd_bwd")) return;
    inas_ctx *ctx = bench_ops_ctx(b);
    loss_job j;
    memset(&j, 0, sizeof j);
    j.ctx = ctx;
    if (inas_tensor_alloc(ctx, &j.p, n, 1, r, r) != INAS_OK || inas_tensor_alloc(ctx, &j.t, n, 1, r, r) != INAS_OK ||
        inas_tensor_alloc(ctx, &j.g, n, 1, r, r) != INAS_OK || vec(ctx, &j.l, 1, 0.0f) ||
        inas_tensor_fill(ctx, &j.p, 0.3f) != INAS_OK || inas_tensor_fill(ctx, &j.t, 1.0f) != INAS_OK) {
        fprintf(stderr, "inas bench ops: losses: allocation failed: %s\n", inas_ctx_last_error(ctx));
    } else {
        char shape[64];
        snprintf(shape, sizeof shape, "%dx1x%dx%d", n, r, r);
        double e = (double)n * r * r;
        if (bench_ops_selected(b, "bce_fwd_bwd")) bench_ops_time(b, "bce_fwd_bwd", shape, 12 * e, 12 * e, run_loss, &j);
        j.mse = 1;
        if (bench_ops_selected(b, "mse_fwd_bwd")) bench_ops_time(b, "mse_fwd_bwd", shape, 4 * e, 12 * e, run_loss, &j);
    }
    inas_tensor *all[] = {&j.p, &j.t, &j.g, &j.l};
    for (size_t i = 0; i < 4; i++)
        if (all[i]->buf) inas_tensor_free(ctx, all[i]);
}

typedef struct adam_job {
    inas_ctx *ctx;
    inas_tensor p, g, m, v;
    inas_adam_params hp;
} adam_job;

static int run_adam(void *u) {
    adam_job *j = u;
    return inas_op_adam_step(j->ctx, &j->p, &j->g, &j->m, &j->v, &j->hp) != INAS_OK;
}

static void adam_case(bench_ops *b, int n) {
    if (!bench_ops_selected(b, "adam_step")) return;
    inas_ctx *ctx = bench_ops_ctx(b);
    adam_job j;
    memset(&j, 0, sizeof j);
    j.ctx = ctx;
    inas_adam_defaults(&j.hp, 2e-4);
    if (vec(ctx, &j.p, n, 0.1f) || vec(ctx, &j.g, n, 0.01f) || vec(ctx, &j.m, n, 0.0f) || vec(ctx, &j.v, n, 0.0f)) {
        fprintf(stderr, "inas bench ops: adam: allocation failed: %s\n", inas_ctx_last_error(ctx));
    } else {
        char shape[64];
        snprintf(shape, sizeof shape, "%d", n);
        bench_ops_time(b, "adam_step", shape, 12.0 * n, 28.0 * n, run_adam, &j);
    }
    inas_tensor *all[] = {&j.p, &j.g, &j.m, &j.v};
    for (size_t i = 0; i < 4; i++)
        if (all[i]->buf) inas_tensor_free(ctx, all[i]);
}

void bench_ops_family_norm(bench_ops *b) {
    const int *batches, *res;
    int nb = bench_ops_batches(b, &batches), nr = bench_ops_resolutions(b, &res);
    int quick = bench_ops_quick(b);
    bn_cases(b, 8, 96, 160, 160, 1);
    int bmax = 0, rmax = 0;
    for (int i = 0; i < nb; i++) bmax = batches[i] > bmax ? batches[i] : bmax;
    for (int i = 0; i < nr; i++) rmax = res[i] > rmax ? res[i] : rmax;
    for (int bi = 0; bi < nb; bi++)
        for (int ri = 0; ri < nr; ri++) {
            if (quick && (batches[bi] != bmax || res[ri] != rmax)) continue;
            bench_stage st[7];
            int ns = bench_stage_shapes(res[ri], st);
            for (int s = 0; s < ns; s++) bn_cases(b, batches[bi], st[s].hidden, st[s].h_in, st[s].h_in, 0);
        }
    for (int bi = 0; bi < nb; bi++)
        for (int ri = 0; ri < nr; ri++)
            if (!quick || (batches[bi] == bmax && res[ri] == rmax)) loss_cases(b, batches[bi], res[ri]);
    loss_cases(b, 32, 320);
    adam_case(b, 20000000);
}
