/* bench_ops_elem.c - `inas bench ops` cases of the elem kernel family:
 * activations, elementwise (add, mean of 3, SE multiply), global average
 * pool, max pool (k = 2, 4, 8, 16), 2x2 average pool and bilinear / nearest
 * upsampling. Shapes: the expanded (hidden) tensors of stages 2 and 3 of the
 * default space for pointwise ops (8x144x160x160 and 8x192x80x80 at batch 8,
 * input 320), level-0 features (24 channels at input/2) for pooling, and
 * upsampling of 1- and 32-channel maps to input x input outputs. Bytes are the
 * minimal traffic: every input read once, every output written once. */
#include <stdio.h>
#include <string.h>

#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/pool.h"
#include "ops/resize.h"
#include "tools/bench_ops.h"

enum {
    OP_SILU_FWD, OP_SILU_BWD, OP_RELU_FWD, OP_HSIG_FWD, OP_ADD, OP_MEAN3, OP_SE_FWD, OP_SE_BWD, OP_GAP_FWD,
    OP_MAXPOOL_FWD, OP_MAXPOOL_BWD, OP_AVGPOOL_FWD, OP_AVGPOOL_BWD, OP_RESIZE_FWD, OP_RESIZE_BWD
};

typedef struct job {
    inas_ctx *ctx;
    int op, k, mode;
    inas_tensor t[5];
} job;

static int run(void *u) {
    job *j = u;
    inas_ctx *ctx = j->ctx;
    inas_tensor *t = j->t;
    inas_avgpool_opts ceil = {1, 0};
    inas_status st = INAS_ERR_INVALID_ARG;
    switch (j->op) {
    case OP_SILU_FWD: st = inas_op_act_fwd(ctx, INAS_ACT_SILU, &t[0], &t[1]); break;
    case OP_SILU_BWD: st = inas_op_act_bwd(ctx, INAS_ACT_SILU, &t[0], NULL, &t[1], &t[2]); break;
    case OP_RELU_FWD: st = inas_op_act_fwd(ctx, INAS_ACT_RELU, &t[0], &t[1]); break;
    case OP_HSIG_FWD: st = inas_op_act_fwd(ctx, INAS_ACT_HARDSIGMOID, &t[0], &t[1]); break;
    case OP_ADD: st = inas_op_add(ctx, &t[0], &t[1], &t[2]); break;
    case OP_MEAN3: {
        const inas_tensor *xs[3] = {&t[0], &t[1], &t[2]};
        st = inas_op_mean(ctx, xs, 3, &t[3]);
        break;
    }
    case OP_SE_FWD: st = inas_op_se_mul_fwd(ctx, &t[0], &t[1], &t[2]); break;
    case OP_SE_BWD: st = inas_op_se_mul_bwd(ctx, &t[0], &t[1], &t[2], &t[3], &t[4]); break;
    case OP_GAP_FWD: st = inas_op_gap_fwd(ctx, &t[0], &t[1]); break;
    case OP_MAXPOOL_FWD: st = inas_op_maxpool_fwd(ctx, j->k, &t[0], &t[1]); break;
    case OP_MAXPOOL_BWD: st = inas_op_maxpool_bwd(ctx, j->k, &t[0], &t[1], &t[2]); break;
    case OP_AVGPOOL_FWD: st = inas_op_avgpool2_fwd(ctx, &ceil, &t[0], &t[1]); break;
    case OP_AVGPOOL_BWD: st = inas_op_avgpool2_bwd(ctx, &ceil, &t[0], &t[1]); break;
    case OP_RESIZE_FWD: st = inas_op_resize_fwd(ctx, (inas_resize_mode)j->mode, 1, &t[0], &t[1]); break;
    case OP_RESIZE_BWD: st = inas_op_resize_bwd(ctx, (inas_resize_mode)j->mode, 1, &t[0], &t[1]); break;
    }
    return st == INAS_OK ? 0 : 1;
}

/* Allocates tensors of the given shapes (filled with a small value), times the
 * job and frees them. shape: "NxCxHxW" of the first tensor. */
static void bench_case(bench_ops *b, const char *name, job *j, int nt, const int shp[][4], double bytes) {
    if (!bench_ops_selected(b, name)) return;
    inas_ctx *ctx = bench_ops_ctx(b);
    j->ctx = ctx;
    int ok = 1, made = 0;
    for (int i = 0; i < nt && ok; i++, made++) {
        ok = inas_tensor_alloc(ctx, &j->t[i], shp[i][0], shp[i][1], shp[i][2], shp[i][3]) == INAS_OK &&
             inas_tensor_fill(ctx, &j->t[i], 0.25f * (float)(i + 1)) == INAS_OK;
    }
    if (!ok) {
        fprintf(stderr, "inas bench ops: %s: %s\n", name, inas_ctx_last_error(ctx));
    } else {
        char shape[96];
        snprintf(shape, sizeof shape, "%dx%dx%dx%d", shp[0][0], shp[0][1], shp[0][2], shp[0][3]);
        if (j->op == OP_RESIZE_FWD || j->op == OP_RESIZE_BWD || j->op == OP_MAXPOOL_FWD || j->op == OP_AVGPOOL_FWD)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "->%dx%d", shp[1][2], shp[1][3]);
        bench_ops_time(b, name, shape, 0, bytes, run, j);
    }
    for (int i = 0; i < made; i++) inas_tensor_free(ctx, &j->t[i]);
    inas_pool_trim(ctx);
}

#define SHP(n, c, h, w) {n, c, h, w}

static void pointwise(bench_ops *b, int n, int c, int h) {
    double e = (double)n * c * h * h * 4.0; /* bytes of one tensor */
    const int x[4] = SHP(n, c, h, h);
    int s1[5][4], s3[5][4];
    for (int i = 0; i < 5; i++)
        for (int d = 0; d < 4; d++) s1[i][d] = x[d];
    job j = {0};
    j.op = OP_SILU_FWD;
    bench_case(b, "silu_fwd", &j, 2, s1, 2 * e);
    j.op = OP_SILU_BWD;
    bench_case(b, "silu_bwd", &j, 3, s1, 3 * e);
    j.op = OP_RELU_FWD;
    bench_case(b, "relu_fwd", &j, 2, s1, 2 * e);
    j.op = OP_HSIG_FWD;
    bench_case(b, "hardsigmoid_fwd", &j, 2, s1, 2 * e);
    j.op = OP_ADD;
    bench_case(b, "add_fwd", &j, 3, s1, 3 * e);
    j.op = OP_MEAN3;
    bench_case(b, "mean3_fwd", &j, 4, s1, 4 * e);
    /* SE: x, s (n x c x 1 x 1), y;  bwd: x, s, dy, dx, ds */
    for (int i = 0; i < 5; i++)
        for (int d = 0; d < 4; d++) s3[i][d] = x[d];
    s3[1][2] = s3[1][3] = 1;
    s3[4][2] = s3[4][3] = 1;
    double se = (double)n * c * 4.0;
    j.op = OP_SE_FWD;
    bench_case(b, "se_mul_fwd", &j, 3, s3, 2 * e + se);
    j.op = OP_SE_BWD;
    bench_case(b, "se_mul_bwd", &j, 5, s3, 3 * e + 2 * se);
    j.op = OP_GAP_FWD;
    int g[2][4] = {SHP(n, c, h, h), SHP(n, c, 1, 1)};
    bench_case(b, "gap_fwd", &j, 2, g, e + se);
}

static void pooling(bench_ops *b, int n, int c, int h) {
    double e = (double)n * c * h * h * 4.0;
    job j = {0};
    static const int ks[4] = {2, 4, 8, 16};
    for (int i = 0; i < 4; i++) {
        int k = ks[i], ho = h / k;
        if (ho < 1) continue;
        char name[48];
        int s[3][4] = {SHP(n, c, h, h), SHP(n, c, ho, ho), SHP(n, c, h, h)};
        double eo = (double)n * c * ho * ho * 4.0;
        j.op = OP_MAXPOOL_FWD;
        j.k = k;
        snprintf(name, sizeof name, "maxpool_k%d_fwd", k);
        bench_case(b, name, &j, 2, s, e + eo);
        if (k == 2) {
            j.op = OP_MAXPOOL_BWD;
            snprintf(name, sizeof name, "maxpool_k%d_bwd", k);
            bench_case(b, name, &j, 3, s, 2 * e + eo); /* x, dy read; dx written */
        }
    }
    int ho = (h + 1) / 2;
    double eo = (double)n * c * ho * ho * 4.0;
    int s[2][4] = {SHP(n, c, h, h), SHP(n, c, ho, ho)};
    j.op = OP_AVGPOOL_FWD;
    bench_case(b, "avgpool2_fwd", &j, 2, s, e + eo);
    int sb[2][4] = {SHP(n, c, ho, ho), SHP(n, c, h, h)};
    j.op = OP_AVGPOOL_BWD;
    bench_case(b, "avgpool2_bwd", &j, 2, sb, e + eo);
}

static void upsampling(bench_ops *b, int n, int c, int res, int quick) {
    static const int fs[4] = {2, 4, 8, 16};
    job j = {0};
    for (int i = 0; i < 4; i++) {
        int f = fs[i], hi = res / f;
        if (hi < 1) continue;
        double ei = (double)n * c * hi * hi * 4.0, eo = (double)n * c * res * res * 4.0;
        char name[48];
        int s[2][4] = {SHP(n, c, hi, hi), SHP(n, c, res, res)};
        j.op = OP_RESIZE_FWD;
        j.mode = INAS_RESIZE_BILINEAR;
        snprintf(name, sizeof name, "bilinear_up%d_fwd", f);
        bench_case(b, name, &j, 2, s, ei + eo);
        if (f == 2) {
            int sb[2][4] = {SHP(n, c, res, res), SHP(n, c, hi, hi)};
            j.op = OP_RESIZE_BWD;
            bench_case(b, "bilinear_up2_bwd", &j, 2, sb, ei + eo);
            j.op = OP_RESIZE_FWD;
            j.mode = INAS_RESIZE_NEAREST;
            bench_case(b, "nearest_up2_fwd", &j, 2, s, ei + eo);
        }
        if (quick) break;
    }
}

void bench_ops_family_elem(bench_ops *b) {
    const int *batches, *res;
    int nb = bench_ops_batches(b, &batches), nr = bench_ops_resolutions(b, &res);
    int quick = bench_ops_quick(b);
    for (int bi = 0; bi < nb; bi++)
        for (int ri = 0; ri < nr; ri++) {
            int n = batches[bi], r = res[ri];
            bench_stage st[7];
            bench_stage_shapes(r, st);
            /* expanded tensors of stages 2 and 3 (stage 3 skipped with --quick) */
            pointwise(b, n, st[1].hidden, st[1].h_in);
            if (!quick) pointwise(b, n, st[2].hidden, st[2].h_in);
            /* level-0 features: 24 channels at input/2; and a wider map */
            pooling(b, n, st[0].cout, st[0].h_in);
            if (!quick) pooling(b, n, st[1].hidden, st[1].h_in);
            upsampling(b, n, 1, r, quick);
            upsampling(b, n, 32, r, quick);
        }
}
