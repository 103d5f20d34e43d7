/* bench_ops_dwconv.c - `inas bench ops` cases of the dwconv kernel family:
 * depthwise forward (dwconv_kK_fwd), backward-data + backward-weight together
 * (dwconv_kK_bwd; also dwconv_kK_bwd_data and dwconv_kK_bwd_weight at the
 * issue's shapes), at batch 8, C 96/144/192, 64x64, strides 1 and 2, and at
 * the default space's stage shapes (hidden channels at the stage's input
 * size and stride, every kernel of the stage); plus the SMSU transform
 * (smsu_transform_fwd/bwd). Shapes are "NxCxHxW sS" of the input. */
#include <stdio.h>
#include <string.h>

#include "ops/dwconv.h"
#include "tools/bench_ops.h"

typedef enum { DW_FWD, DW_BWD, DW_BWD_DATA, DW_BWD_WEIGHT } dw_mode;

typedef struct dw_job {
    inas_ctx *ctx;
    inas_tensor x, y, w, dx, dw;
    int k, s;
    dw_mode mode;
} dw_job;

static int run_dw(void *u) {
    dw_job *j = u;
    inas_status st = INAS_OK;
    if (j->mode == DW_FWD) return inas_op_dwconv_fwd(j->ctx, &j->x, &j->w, j->k, j->s, 1, NULL, 0, &j->y) != INAS_OK;
    if (j->mode == DW_BWD || j->mode == DW_BWD_DATA) st = inas_op_dwconv_bwd_data(j->ctx, &j->y, &j->w, j->k, j->s, 1, &j->dx);
    if (st == INAS_OK && (j->mode == DW_BWD || j->mode == DW_BWD_WEIGHT))
        st = inas_op_dwconv_bwd_weight(j->ctx, &j->x, &j->y, j->k, j->s, 1, &j->dw);
    return st != INAS_OK;
}

/* Times the selected modes of one shape; the weight is a centre crop of a 9x9 one. */
static void bench_shape(bench_ops *b, int n, int c, int h, int k, int s, int detail) {
    static const char *suffix[4] = {"fwd", "bwd", "bwd_data", "bwd_weight"};
    int nmodes = detail ? 4 : 2, any = 0;
    char names[4][48];
    for (int m = 0; m < nmodes; m++) {
        snprintf(names[m], sizeof names[m], "dwconv_k%d_%s", k, suffix[m]);
        /* the bwd rows are selected by "dwconv_kK_bwd" too */
        if (bench_ops_selected(b, names[m])) any = 1;
    }
    if (!any) return;
    inas_ctx *ctx = bench_ops_ctx(b);
    dw_job j = {.ctx = ctx, .k = k, .s = s};
    int ho = inas_dwconv_out_size(h, k, s, 1);
    if (inas_tensor_alloc(ctx, &j.x, n, c, h, h) != INAS_OK || inas_tensor_alloc(ctx, &j.dx, n, c, h, h) != INAS_OK ||
        inas_tensor_alloc(ctx, &j.y, n, c, ho, ho) != INAS_OK || inas_tensor_alloc(ctx, &j.w, c, 1, 9, 9) != INAS_OK ||
        inas_tensor_alloc(ctx, &j.dw, c, 1, 9, 9) != INAS_OK) {
        fprintf(stderr, "inas bench ops: dwconv: %s\n", inas_ctx_last_error(ctx));
        return;
    }
    inas_tensor_fill(ctx, &j.x, 0.5f);
    inas_tensor_fill(ctx, &j.y, 0.25f);
    inas_tensor_fill(ctx, &j.w, 0.01f);
    inas_tensor_fill(ctx, &j.dw, 0.0f);
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d s%d", n, c, h, h, s);
    double macs = (double)n * c * ho * ho * k * k;
    double in = 4.0 * n * c * h * h, out = 4.0 * n * c * ho * ho, wb = 4.0 * c * k * k;
    double flops[4] = {2 * macs, 4 * macs, 2 * macs, 2 * macs};
    double bytes[4] = {in + out + wb, (out + in + wb) + (in + out + 2 * wb), out + in + wb, in + out + 2 * wb};
    for (int m = 0; m < nmodes; m++) {
        if (!bench_ops_selected(b, names[m])) continue;
        j.mode = (dw_mode)m;
        bench_ops_time(b, names[m], shape, flops[m], bytes[m], run_dw, &j);
    }
    inas_tensor_free(ctx, &j.x);
    inas_tensor_free(ctx, &j.dx);
    inas_tensor_free(ctx, &j.y);
    inas_tensor_free(ctx, &j.w);
    inas_tensor_free(ctx, &j.dw);
}

typedef struct smsu_job {
    inas_ctx *ctx;
    inas_tensor w, m, wt, dm, dw;
    int k, bwd;
} smsu_job;

static int run_smsu(void *u) {
    smsu_job *j = u;
    if (!j->bwd) return inas_op_smsu_fwd(j->ctx, &j->w, j->k, &j->m, &j->wt) != INAS_OK;
    return inas_op_smsu_bwd(j->ctx, &j->w, j->k, &j->m, &j->wt, &j->dm, &j->dw) != INAS_OK;
}

static void bench_smsu(bench_ops *b, int c, int k) {
    inas_ctx *ctx = bench_ops_ctx(b);
    smsu_job j = {.ctx = ctx, .k = k};
    int k2 = k * k;
    if (inas_tensor_alloc(ctx, &j.w, c, 1, 9, 9) != INAS_OK || inas_tensor_alloc(ctx, &j.dw, c, 1, 9, 9) != INAS_OK ||
        inas_tensor_alloc(ctx, &j.m, 1, 1, k2, k2) != INAS_OK || inas_tensor_alloc(ctx, &j.dm, 1, 1, k2, k2) != INAS_OK ||
        inas_tensor_alloc(ctx, &j.wt, c, 1, k, k) != INAS_OK)
        return;
    inas_tensor_fill(ctx, &j.w, 0.1f);
    inas_tensor_fill(ctx, &j.dw, 0.0f);
    inas_tensor_fill(ctx, &j.m, 0.01f);
    inas_tensor_fill(ctx, &j.dm, 0.0f);
    inas_tensor_fill(ctx, &j.wt, 0.1f);
    char shape[64];
    snprintf(shape, sizeof shape, "C%d k%d of 9x9", c, k);
    double macs = (double)c * k2 * k2;
    for (int bwd = 0; bwd <= 1; bwd++) {
        const char *name = bwd ? "smsu_transform_bwd" : "smsu_transform_fwd";
        if (!bench_ops_selected(b, name)) continue;
        j.bwd = bwd;
        double bytes = bwd ? 4.0 * (3.0 * c * k2 + 2.0 * k2 * k2 + c * k2) : 4.0 * (2.0 * c * k2 + k2 * k2);
        bench_ops_time(b, name, shape, (bwd ? 4 : 2) * macs, bytes, run_smsu, &j);
    }
    inas_tensor_free(ctx, &j.w);
    inas_tensor_free(ctx, &j.dw);
    inas_tensor_free(ctx, &j.m);
    inas_tensor_free(ctx, &j.dm);
    inas_tensor_free(ctx, &j.wt);
}

void bench_ops_family_dwconv(bench_ops *b) {
    int quick = bench_ops_quick(b);
    static const int ks[4] = {3, 5, 7, 9};
    /* the shapes: batch 8, C 96/144/192, 64x64 */
    static const int cs[3] = {96, 144, 192};
    for (int ki = 0; ki < 4; ki++)
        for (int s = 1; s <= 2; s++)
            for (int ci = 0; ci < (quick ? 1 : 3); ci++) bench_shape(b, 8, cs[ci], 64, ks[ki], s, ci == 0);

    /* stage shapes of the default space */
    const int *res, *batches;
    int nres = bench_ops_resolutions(b, &res), nb = bench_ops_batches(b, &batches);
    for (int ri = 0; ri < nres; ri++) {
        bench_stage st[7];
        bench_stage_shapes(res[ri], st);
        for (int bi = 0; bi < nb; bi++)
            for (int si = 0; si < 7; si++)
                for (int ki = 0; ki < 4; ki++) {
                    if (ks[ki] > st[si].kmax) continue;
                    if (quick && ks[ki] != 3 && ks[ki] != st[si].kmax) continue;
                    bench_shape(b, batches[bi], st[si].hidden, st[si].h_in, ks[ki], st[si].stride, 0);
                }
    }

    /* SMSU transform at the widest hidden layer of the space (stage 7) */
    bench_stage st[7];
    bench_stage_shapes(64, st);
    for (int ki = 0; ki < 4; ki++) {
        if (quick && ks[ki] != 9) continue;
        bench_smsu(b, st[6].hidden, ks[ki]);
    }
}
