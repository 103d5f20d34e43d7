/* bench_ops_conv.c - `inas bench ops` cases of the conv kernel family: the 1x1
 * convolutions of every MBConv stage of the default space (expand cin->hidden at
 * h_in, project hidden->cout at h_out) forward, backward-data and
 * backward-weight with the library's own kernels, CLBlast SGEMM at the same
 * GEMM shapes (clblast_sgemm: M=C_out, N=H*W, K=C_in, one call per image),
 * and the 3x3 stride-2 stem forward and backward (data + weight). */
#include <stdio.h>
#include <string.h>

#include "ops/conv.h"
#include "tools/bench_ops.h"

typedef struct conv_job {
    inas_ctx *ctx;
    inas_tensor x, w, y, b;
    int stride, pad, which; /* 0 fwd, 1 bwd data, 2 bwd weight, 3 bwd data + weight */
    inas_gemm_path path;
} conv_job;

static int run_job(void *u) {
    conv_job *j = u;
    inas_status st = INAS_OK;
    switch (j->which) {
    case 0: st = inas_op_conv2d_fwd(j->ctx, &j->x, &j->w, NULL, &j->y, j->stride, j->pad, 0, j->path); break;
    case 1: st = inas_op_conv2d_bwd_data(j->ctx, &j->y, &j->w, &j->x, j->stride, j->pad, j->path); break;
    case 2: st = inas_op_conv2d_bwd_weight(j->ctx, &j->x, &j->y, &j->w, j->stride, j->pad, j->path); break;
    default:
        st = inas_op_conv2d_bwd_data(j->ctx, &j->y, &j->w, &j->x, j->stride, j->pad, j->path);
        if (st == INAS_OK) st = inas_op_conv2d_bwd_weight(j->ctx, &j->x, &j->y, &j->w, j->stride, j->pad, j->path);
        break;
    }
    return st == INAS_OK ? 0 : 1;
}

/* One conv shape: n x ci x h x h -> co, kernel k, stride s, pad k/2. */
static void bench_shape(bench_ops *b, int n, int ci, int co, int h, int k, int s) {
    inas_ctx *ctx = bench_ops_ctx(b);
    const int pad = k / 2, ho = (h + 2 * pad - k) / s + 1;
    conv_job j = {.ctx = ctx, .stride = s, .pad = pad, .path = INAS_GEMM_OWN};
    if (inas_tensor_alloc(ctx, &j.x, n, ci, h, h) != INAS_OK || inas_tensor_alloc(ctx, &j.w, co, ci, k, k) != INAS_OK ||
        inas_tensor_alloc(ctx, &j.y, n, co, ho, ho) != INAS_OK) {
        fprintf(stderr, "inas bench ops: conv: %s\n", inas_ctx_last_error(ctx));
        return;
    }
    inas_tensor_fill(ctx, &j.x, 0.01f);
    inas_tensor_fill(ctx, &j.w, 0.01f);
    inas_tensor_fill(ctx, &j.y, 0.01f);
    const double macs = (double)n * co * ci * k * k * ho * ho;
    const double xb = 4.0 * n * ci * h * h, wb = 4.0 * co * ci * k * k, yb = 4.0 * n * co * ho * ho;
    char shape[96];
    if (k == 1) {
        snprintf(shape, sizeof shape, "%dx%dx%dx%d->%d", n, ci, h, h, co);
        const char *names[3] = {"conv1x1_fwd", "conv1x1_bwd_data", "conv1x1_bwd_weight"};
        const double bytes[3] = {xb + wb + yb, yb + wb + xb, xb + yb + 2 * wb};
        for (int w = 0; w < 3; w++) {
            if (!bench_ops_selected(b, names[w])) continue;
            j.which = w;
            bench_ops_time(b, names[w], shape, 2 * macs, bytes[w], run_job, &j);
        }
        if (inas_op_conv_have_clblast() && bench_ops_selected(b, "clblast_sgemm")) {
            char gs[96];
            snprintf(gs, sizeof gs, "%dx(M%d,N%d,K%d)", n, co, h * h, ci);
            j.which = 0;
            j.path = INAS_GEMM_CLBLAST;
            bench_ops_time(b, "clblast_sgemm", gs, 2 * macs, xb + wb + yb, run_job, &j);
        }
    } else {
        snprintf(shape, sizeof shape, "%dx%dx%dx%d->%d", n, ci, h, h, co);
        if (bench_ops_selected(b, "conv3x3s2_fwd")) {
            j.which = 0;
            bench_ops_time(b, "conv3x3s2_fwd", shape, 2 * macs, xb + wb + yb, run_job, &j);
        }
        if (bench_ops_selected(b, "conv3x3s2_bwd")) {
            j.which = 3; /* data + weight: twice the forward's work */
            bench_ops_time(b, "conv3x3s2_bwd", shape, 4 * macs, 2 * (xb + yb) + 2 * wb, run_job, &j);
        }
        if (bench_ops_selected(b, "conv3x3s2_bwd_data")) {
            j.which = 1;
            bench_ops_time(b, "conv3x3s2_bwd_data", shape, 2 * macs, xb + yb + wb, run_job, &j);
        }
        if (bench_ops_selected(b, "conv3x3s2_bwd_weight")) {
            j.which = 2; /* the part training needs: the stem's input has no gradient */
            bench_ops_time(b, "conv3x3s2_bwd_weight", shape, 2 * macs, xb + yb + 2 * wb, run_job, &j);
        }
    }
    inas_tensor_free(ctx, &j.x);
    inas_tensor_free(ctx, &j.w);
    inas_tensor_free(ctx, &j.y);
}

void bench_ops_family_conv(bench_ops *b) {
    static const char *ops[] = {"conv1x1_fwd",   "conv1x1_bwd_data", "conv1x1_bwd_weight",
                                "clblast_sgemm", "conv3x3s2_fwd",    "conv3x3s2_bwd", "conv3x3s2_bwd_data", "conv3x3s2_bwd_weight"};
    int any = 0;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) any |= bench_ops_selected(b, ops[i]);
    if (!any) return;
    const int *batches, *res;
    int nb = bench_ops_batches(b, &batches), nr = bench_ops_resolutions(b, &res);
    const int quick = bench_ops_quick(b);
    for (int r = 0; r < nr; r++) {
        for (int bi = 0; bi < nb; bi++) {
            const int n = batches[bi];
            /* the stem: 3 -> 40 channels, 3x3 stride 2 */
            bench_shape(b, n, 3, 40, res[r], 3, 2);
            bench_stage st[7];
            int ns = bench_stage_shapes(res[r], st);
            for (int s = 0; s < ns; s++) {
                /* --quick: stages 2, 4 and 6 only */
                if (quick && (s % 2) == 0) continue;
                if (st[s].hidden != st[s].cin) bench_shape(b, n, st[s].cin, st[s].hidden, st[s].h_in, 1, 1);
                bench_shape(b, n, st[s].hidden, st[s].cout, st[s].h_out, 1, 1);
            }
        }
    }
}
