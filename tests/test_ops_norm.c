/* test_ops_norm.c - the norm family's reductions and BatchNorm2d against the
 * double-precision references of support/ref_norm.c:
 *  - channel sum / dot / stats and the global sum on odd shapes and channel
 *    views (rtol 1e-5), and on an 8x40x160x160 tensor whose mean is far from
 *    zero (mean and variance to 1e-5 relative);
 *  - BN training forward (y, saved mean and inverse std, running-statistics
 *    update against the PyTorch formula) with and without fused SiLU, on odd
 *    shapes, channel views, and parameters that are views into larger vectors;
 *  - BN backward (dx overwrite, dgamma/dbeta accumulate) against central finite
 *    differences of sum(act(bn(x)) * R) through the batch statistics, and on
 *    larger shapes (channels split over work-groups) against the analytic
 *    double backward;
 *  - recalibration over 3 batches = arithmetic average; eval mode;
 *  - bad inputs: status and messages naming the op and shapes.
 * INAS_NORM_GEOM=gpu runs the same tests with the GPU launch geometry (256
 * work-items per group, local-memory reductions). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "inas/runtime.h"
#include "inas/tensor.h"
#include "ops/norm.h"
#include "ops/reduce.h"
#include "ref_norm.h"
#include "testutil.h"

static inas_ctx *ctx;
static void setup(void) { ctx = tu_ctx(); }
static void teardown(void) { inas_ctx_destroy(ctx); }
TestSuite(ops_reduce, .init = setup, .fini = teardown);
TestSuite(ops_bn, .init = setup, .fini = teardown);

/* A device tensor of shape n x c x h x w holding `host`; with view != 0 it is
 * channels [2, 2+c) of a larger n x (c+3) x h x w tensor (*base keeps it). */
static inas_tensor make_t(int n, int c, int h, int w, const float *host, int view, inas_tensor *base) {
    inas_tensor t;
    if (view) {
        cr_assert_eq(inas_tensor_alloc(ctx, base, n, c + 3, h, w), INAS_OK);
        cr_assert_eq(inas_tensor_fill(ctx, base, 1234.5f), INAS_OK);
        cr_assert_eq(inas_tensor_slice_channels(ctx, base, 2, c, &t), INAS_OK);
    } else {
        cr_assert_eq(inas_tensor_alloc(ctx, &t, n, c, h, w), INAS_OK);
        *base = t;
    }
    if (host) cr_assert_eq(inas_tensor_write(ctx, &t, host), INAS_OK);
    return t;
}

/* A dense vector of c elements at element offset `off` of a buffer of
 * off + c + 5 elements (the rest filled with 777). */
typedef struct vec_t {
    inas_tensor all, v;
    int off, c;
} vec_t;
static void make_vec(vec_t *r, int c, int off, const float *host) {
    r->off = off;
    r->c = c;
    cr_assert_eq(inas_tensor_alloc(ctx, &r->all, 1, 1, 1, off + c + 5), INAS_OK);
    cr_assert_eq(inas_tensor_fill(ctx, &r->all, 777.0f), INAS_OK);
    cr_assert_eq(inas_tensor_wrap(ctx, &r->v, r->all.buf, r->all.offset + (size_t)off, 1, 1, 1, c), INAS_OK);
    if (host) cr_assert_eq(inas_tensor_write(ctx, &r->v, host), INAS_OK);
}
static void read_vec(vec_t *r, float *out) {
    cr_assert_eq(inas_tensor_read(ctx, &r->v, out), INAS_OK);
    /* the elements around the used range are untouched */
    size_t n = inas_tensor_numel(&r->all);
    float *all = malloc(n * sizeof *all);
    cr_assert_eq(inas_tensor_read(ctx, &r->all, all), INAS_OK);
    for (size_t i = 0; i < n; i++)
        if (i < (size_t)r->off || i >= (size_t)(r->off + r->c)) cr_assert_eq(all[i], 777.0f, "vector element %zu", i);
    free(all);
}
static void free_vec(vec_t *r) { inas_tensor_free(ctx, &r->all); }

static float *read_t(const inas_tensor *t) {
    float *h = malloc(inas_tensor_numel(t) * sizeof *h);
    cr_assert_eq(inas_tensor_read(ctx, t, h), INAS_OK);
    return h;
}
static double *to_d(const float *f, size_t n) {
    double *d = malloc(n * sizeof *d);
    tu_to_double(f, d, n);
    return d;
}

/* the last two split each channel over several work-groups */
static const int shapes[][4] = {{1, 7, 13, 11}, {3, 5, 9, 17}, {2, 3, 1, 1}, {4, 70, 3, 5}, {4, 2, 96, 97}, {8, 3, 160, 160}};
#define NSHAPES (sizeof shapes / sizeof *shapes)

/* ---- reductions -------------------------------------------------------------------- */

Test(ops_reduce, channel_sum_dot_stats_sum) {
    for (size_t s = 0; s < NSHAPES; s++)
        for (int view = 0; view < 2; view++) {
            const int N = shapes[s][0], C = shapes[s][1], H = shapes[s][2], W = shapes[s][3], HW = H * W;
            size_t n = (size_t)N * C * HW;
            float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
            tu_rand_floats(x, n, 10 + s, 2.0f, 4.0f);
            tu_rand_floats(y, n, 20 + s, -1.0f, 1.0f);
            inas_tensor bx, by, tx = make_t(N, C, H, W, x, view, &bx), ty = make_t(N, C, H, W, y, !view, &by);
            vec_t o1, o2, o3, o4, o5;
            float init[128];
            for (int c = 0; c < C; c++) init[c] = 0.5f * c;
            make_vec(&o1, C, 3, init);
            make_vec(&o2, C, 0, init);
            make_vec(&o3, C, 1, NULL);
            make_vec(&o4, C, 2, NULL);
            make_vec(&o5, 1, 4, NULL);
            cr_assert_eq(inas_op_channel_sum(ctx, &tx, &o1.v, 1), INAS_OK, "%s", inas_ctx_last_error(ctx));
            cr_assert_eq(inas_op_channel_dot(ctx, &tx, &ty, &o2.v, 0), INAS_OK, "%s", inas_ctx_last_error(ctx));
            cr_assert_eq(inas_op_channel_stats(ctx, &tx, &o3.v, &o4.v), INAS_OK, "%s", inas_ctx_last_error(ctx));
            cr_assert_eq(inas_op_sum(ctx, &tx, &o5.v, 0.25f), INAS_OK, "%s", inas_ctx_last_error(ctx));
            double want_s[128], want_d[128], want_m[128], want_v[128], total = 0;
            double *xd = to_d(x, n);
            ref_channel_stats(xd, N, C, HW, want_m, want_v);
            for (int c = 0; c < C; c++) {
                want_s[c] = 0.5 * c;
                want_d[c] = 0;
                for (int i = 0; i < N; i++)
                    for (int p = 0; p < HW; p++) {
                        size_t k = ((size_t)i * C + c) * HW + p;
                        want_s[c] += x[k];
                        want_d[c] += (double)x[k] * y[k];
                        total += x[k];
                    }
            }
            total *= 0.25;
            float got[128];
            read_vec(&o1, got);
            tu_assert_close(got, want_s, C, 1e-4, 1e-5, "channel_sum (accumulate)");
            read_vec(&o2, got);
            tu_assert_close(got, want_d, C, 1e-4, 1e-5, "channel_dot");
            read_vec(&o3, got);
            tu_assert_close(got, want_m, C, 1e-6, 1e-6, "channel_stats mean");
            read_vec(&o4, got);
            tu_assert_close(got, want_v, C, 1e-6, 1e-5, "channel_stats var");
            read_vec(&o5, got);
            tu_assert_close(got, &total, 1, 1e-4, 1e-5, "sum");
            free_vec(&o1), free_vec(&o2), free_vec(&o3), free_vec(&o4), free_vec(&o5);
            inas_tensor_free(ctx, &bx);
            inas_tensor_free(ctx, &by);
            free(x), free(y), free(xd);
        }
}

/* 8x40x160x160 (819200... here 204800 values per channel, 8.2 M in all) with
 * a per-channel mean of 10..50 and unit-order spread: stats to 1e-5 relative. */
Test(ops_reduce, large_tensor_accuracy) {
    const int N = 8, C = 40, H = 160, W = 160, HW = H * W;
    size_t n = (size_t)N * C * HW;
    float *x = malloc(n * sizeof *x);
    tu_rand_floats(x, n, 99, -1.0f, 1.0f);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) {
                float *e = &x[((size_t)i * C + c) * HW + p];
                *e = 10.0f + c + (0.1f + 0.05f * c) * (*e) + 0.001f * (p % 97);
            }
    inas_tensor b, t = make_t(N, C, H, W, x, 0, &b);
    vec_t vm, vv, vs;
    make_vec(&vm, C, 0, NULL);
    make_vec(&vv, C, 0, NULL);
    make_vec(&vs, C, 0, NULL);
    cr_assert_eq(inas_op_channel_stats(ctx, &t, &vm.v, &vv.v), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_channel_sum(ctx, &t, &vs.v, 0), INAS_OK, "%s", inas_ctx_last_error(ctx));
    double *xd = to_d(x, n), m[40], v[40], s[40];
    ref_channel_stats(xd, N, C, HW, m, v);
    for (int c = 0; c < C; c++) s[c] = m[c] * N * HW;
    float got[40];
    read_vec(&vm, got);
    tu_assert_close(got, m, C, 0, 1e-6, "large mean");
    read_vec(&vv, got);
    tu_assert_close(got, v, C, 0, 1e-5, "large var");
    read_vec(&vs, got);
    tu_assert_close(got, s, C, 0, 1e-5, "large channel sum");
    /* BN on the same data: the normalised output has mean 0 and var 1 per channel */
    vec_t ga, be;
    float ones[40], zeros[40];
    for (int c = 0; c < C; c++) ones[c] = 1.0f, zeros[c] = 0.0f;
    make_vec(&ga, C, 0, ones);
    make_vec(&be, C, 0, zeros);
    cr_assert_eq(inas_op_bn_train_fwd(ctx, &t, &ga.v, &be.v, NULL, NULL, 0.1f, 1e-5f, INAS_BN_ACT_NONE, &t, &vm.v, &vv.v),
                 INAS_OK, "%s", inas_ctx_last_error(ctx));
    float *y = read_t(&t);
    double *yd = to_d(y, n), ym[40], yv[40], one[40], zero[40];
    ref_channel_stats(yd, N, C, HW, ym, yv);
    for (int c = 0; c < C; c++) one[c] = v[c] / (v[c] + 1e-5), zero[c] = 0;
    float fm[40], fv[40];
    for (int c = 0; c < C; c++) fm[c] = (float)ym[c], fv[c] = (float)yv[c];
    tu_assert_close(fm, zero, C, 1e-5, 0, "normalised mean");
    tu_assert_close(fv, one, C, 0, 1e-4, "normalised var");
    free_vec(&vm), free_vec(&vv), free_vec(&vs), free_vec(&ga), free_vec(&be);
    inas_tensor_free(ctx, &b);
    free(x), free(xd), free(y), free(yd);
}

/* ---- BatchNorm forward ---------------------------------------------------------------- */

typedef struct bn_case {
    int N, C, H, W, act, view;
} bn_case;

Test(ops_bn, train_fwd_running_stats) {
    const bn_case cases[] = {{1, 7, 13, 11, 0, 0}, {3, 5, 9, 17, 3, 1}, {2, 3, 1, 1, 0, 1}, {4, 70, 3, 5, 3, 0},
                             {3, 4, 2, 3, 1, 0}, {4, 2, 96, 97, 3, 1}};
    const float eps = 1e-5f, mom = 0.1f;
    for (size_t s = 0; s < sizeof cases / sizeof *cases; s++) {
        const bn_case *k = &cases[s];
        const int HW = k->H * k->W, C = k->C, Cmax = C + 6;
        size_t n = (size_t)k->N * C * HW;
        float *x = malloc(n * sizeof *x), g[128], bt[128], rm[128], rv[128];
        tu_rand_floats(x, n, 30 + s, -3.0f, 5.0f);
        tu_rand_floats(g, Cmax, 40 + s, 0.5f, 1.5f);
        tu_rand_floats(bt, Cmax, 50 + s, -0.5f, 0.5f);
        tu_rand_floats(rm, Cmax, 60 + s, -1.0f, 1.0f);
        tu_rand_floats(rv, Cmax, 70 + s, 0.5f, 2.0f);
        inas_tensor bx, by, tx = make_t(k->N, C, k->H, k->W, x, k->view, &bx);
        inas_tensor ty = make_t(k->N, C, k->H, k->W, NULL, !k->view, &by);
        vec_t vg, vb, vrm, vrv, vsm, vsi;
        /* parameters sized for Cmax; the op uses the first C */
        make_vec(&vg, C, 2, g), make_vec(&vb, C, 0, bt), make_vec(&vrm, C, 1, rm), make_vec(&vrv, C, 3, rv);
        make_vec(&vsm, C, 0, NULL), make_vec(&vsi, C, 5, NULL);
        cr_assert_eq(inas_op_bn_train_fwd(ctx, &tx, &vg.v, &vb.v, &vrm.v, &vrv.v, mom, eps, k->act, &ty, &vsm.v, &vsi.v),
                     INAS_OK, "%s", inas_ctx_last_error(ctx));
        double *xd = to_d(x, n), *yd = malloc(n * sizeof *yd), gd[128], bd[128], mean[128], var[128];
        tu_to_double(g, gd, C);
        tu_to_double(bt, bd, C);
        ref_bn_train(xd, k->N, C, HW, gd, bd, eps, k->act, yd, mean, var);
        float *y = read_t(&ty);
        tu_assert_close(y, yd, n, 2e-5, 1e-4, "bn_train_fwd y");
        float sm[128], si[128], nrm[128], nrv[128];
        double want_si[128], want_rm[128], want_rv[128], want_rm_f[128];
        read_vec(&vsm, sm), read_vec(&vsi, si), read_vec(&vrm, nrm), read_vec(&vrv, nrv);
        double M = (double)k->N * HW;
        for (int c = 0; c < C; c++) {
            want_si[c] = 1 / sqrt(var[c] + eps);
            want_rm[c] = (1 - (double)mom) * rm[c] + (double)mom * mean[c];
            want_rv[c] = (1 - (double)mom) * rv[c] + (double)mom * var[c] * M / (M - 1);
            /* the formula evaluated on the device's own batch mean */
            want_rm_f[c] = (1.0f - mom) * rm[c] + mom * sm[c];
        }
        tu_assert_close(sm, mean, C, 1e-6, 1e-6, "save_mean");
        tu_assert_close(si, want_si, C, 0, 1e-5, "save_invstd");
        tu_assert_close(nrm, want_rm, C, 1e-6, 1e-6, "running_mean");
        tu_assert_close(nrm, want_rm_f, C, 2e-7, 2.5e-7, "running_mean (formula on the batch mean)");
        tu_assert_close(nrv, want_rv, C, 1e-6, 1e-5, "running_var (unbiased)");
        /* the view's neighbouring channels are untouched */
        if (!k->view) {
            float *all = read_t(&by);
            for (size_t i = 0; i < inas_tensor_numel(&by); i++) {
                int c = (int)((i / HW) % (C + 3));
                if (c < 2 || c >= 2 + C) cr_assert_eq(all[i], 1234.5f, "y view neighbour %zu", i);
            }
            free(all);
        }
        free_vec(&vg), free_vec(&vb), free_vec(&vrm), free_vec(&vrv), free_vec(&vsm), free_vec(&vsi);
        inas_tensor_free(ctx, &bx), inas_tensor_free(ctx, &by);
        free(x), free(xd), free(yd), free(y);
    }
}

Test(ops_bn, eval_fwd) {
    const bn_case cases[] = {{1, 7, 13, 11, 3, 1}, {3, 5, 9, 17, 0, 0}, {1, 2, 1, 1, 1, 0}};
    for (size_t s = 0; s < sizeof cases / sizeof *cases; s++) {
        const bn_case *k = &cases[s];
        const int HW = k->H * k->W, C = k->C;
        size_t n = (size_t)k->N * C * HW;
        float *x = malloc(n * sizeof *x), g[16], bt[16], rm[16], rv[16];
        tu_rand_floats(x, n, 80 + s, -3.0f, 3.0f);
        tu_rand_floats(g, C, 81 + s, 0.5f, 1.5f);
        tu_rand_floats(bt, C, 82 + s, -0.5f, 0.5f);
        tu_rand_floats(rm, C, 83 + s, -1.0f, 1.0f);
        tu_rand_floats(rv, C, 84 + s, 0.5f, 2.0f);
        inas_tensor bx, tx = make_t(k->N, C, k->H, k->W, x, k->view, &bx);
        vec_t vg, vb, vrm, vrv;
        make_vec(&vg, C, 1, g), make_vec(&vb, C, 0, bt), make_vec(&vrm, C, 2, rm), make_vec(&vrv, C, 3, rv);
        /* in place */
        cr_assert_eq(inas_op_bn_eval_fwd(ctx, &tx, &vg.v, &vb.v, &vrm.v, &vrv.v, 1e-5f, k->act, &tx), INAS_OK, "%s",
                     inas_ctx_last_error(ctx));
        double *xd = to_d(x, n), *yd = malloc(n * sizeof *yd), gd[16], bd[16], rmd[16], rvd[16];
        tu_to_double(g, gd, C), tu_to_double(bt, bd, C), tu_to_double(rm, rmd, C), tu_to_double(rv, rvd, C);
        ref_bn_eval(xd, k->N, C, HW, gd, bd, rmd, rvd, 1e-5, k->act, yd);
        float *y = read_t(&tx);
        tu_assert_close(y, yd, n, 1e-5, 1e-5, "bn_eval_fwd");
        free_vec(&vg), free_vec(&vb), free_vec(&vrm), free_vec(&vrv);
        inas_tensor_free(ctx, &bx);
        free(x), free(xd), free(yd), free(y);
    }
}

Test(ops_bn, recalibration_averages_batches) {
    const int N = 2, C = 5, H = 7, W = 9, HW = H * W, B = 3;
    size_t n = (size_t)N * C * HW;
    float g[5] = {1, 0.5f, 2, 1, 1}, bt[5] = {0, 0.1f, -0.2f, 0, 0.3f}, nan5[5];
    for (int c = 0; c < C; c++) nan5[c] = NAN;
    vec_t vg, vb, vrm, vrv;
    make_vec(&vg, C, 0, g), make_vec(&vb, C, 0, bt), make_vec(&vrm, C, 2, nan5), make_vec(&vrv, C, 1, nan5);
    double want_m[5] = {0}, want_v[5] = {0};
    float *x = malloc(n * sizeof *x);
    double *xd = malloc(n * sizeof *xd), *yd = malloc(n * sizeof *yd), gd[5], bd[5];
    tu_to_double(g, gd, C), tu_to_double(bt, bd, C);
    for (int b = 0; b < B; b++) {
        tu_rand_floats(x, n, 200 + b, -1.0f + b, 2.0f + 2 * b);
        inas_tensor bx, tx = make_t(N, C, H, W, x, b == 1, &bx), by, ty = make_t(N, C, H, W, NULL, b == 2, &by);
        cr_assert_eq(inas_op_bn_recal_fwd(ctx, &tx, &vg.v, &vb.v, &vrm.v, &vrv.v, b, 1e-5f, INAS_BN_ACT_SILU, &ty),
                     INAS_OK, "%s", inas_ctx_last_error(ctx));
        tu_to_double(x, xd, n);
        double mean[5], var[5];
        ref_bn_train(xd, N, C, HW, gd, bd, 1e-5, 3, yd, mean, var);
        float *y = read_t(&ty);
        tu_assert_close(y, yd, n, 2e-5, 1e-4, "recal y (training-mode output)");
        for (int c = 0; c < C; c++) {
            want_m[c] += mean[c] / B;
            want_v[c] += var[c] * (N * HW) / (N * HW - 1.0) / B;
        }
        free(y);
        inas_tensor_free(ctx, &bx), inas_tensor_free(ctx, &by);
    }
    cr_assert_float_eq(inas_bn_recal_momentum(0), 1.0f, 0);
    cr_assert_float_eq(inas_bn_recal_momentum(3), 0.25f, 0);
    float rm[5], rv[5];
    read_vec(&vrm, rm), read_vec(&vrv, rv);
    tu_assert_close(rm, want_m, C, 1e-6, 1e-5, "recalibrated running_mean = mean of batch means");
    tu_assert_close(rv, want_v, C, 1e-6, 1e-5, "recalibrated running_var = mean of unbiased batch vars");
    free_vec(&vg), free_vec(&vb), free_vec(&vrm), free_vec(&vrv);
    free(x), free(xd), free(yd);
}

/* ---- BatchNorm backward -------------------------------------------------------------- */

typedef struct fd_user {
    int N, C, HW, act;
    const double *R;
    double *y;
} fd_user;

/* v = [x (N*C*HW), gamma (C), beta (C)]: sum(act(bn_train(x)) * R). */
static double bn_loss(const double *v, size_t n, void *user) {
    (void)n;
    fd_user *u = user;
    size_t nx = (size_t)u->N * u->C * u->HW;
    ref_bn_train(v, u->N, u->C, u->HW, v + nx, v + nx + u->C, 1e-5, u->act, u->y, NULL, NULL);
    double s = 0;
    for (size_t i = 0; i < nx; i++) s += u->y[i] * u->R[i];
    return s;
}

Test(ops_bn, bwd_finite_differences) {
    const bn_case cases[] = {{2, 3, 5, 7, 0, 0}, {3, 2, 3, 5, 3, 1}, {1, 4, 3, 3, 3, 0}, {2, 2, 1, 3, 0, 1}};
    for (size_t s = 0; s < sizeof cases / sizeof *cases; s++) {
        const bn_case *k = &cases[s];
        const int N = k->N, C = k->C, HW = k->H * k->W;
        size_t nx = (size_t)N * C * HW, nv = nx + 2 * C;
        float *x = malloc(nx * sizeof *x), *r = malloc(nx * sizeof *r), g[8], bt[8];
        tu_rand_floats(x, nx, 300 + s, -2.0f, 3.0f);
        tu_rand_floats(r, nx, 310 + s, -1.0f, 1.0f);
        tu_rand_floats(g, C, 320 + s, 0.5f, 1.5f);
        tu_rand_floats(bt, C, 330 + s, -0.5f, 0.5f);
        /* device: forward (for the saved statistics), then backward with dy = R */
        inas_tensor bx, tx = make_t(N, C, k->H, k->W, x, k->view, &bx);
        inas_tensor by, ty = make_t(N, C, k->H, k->W, NULL, 0, &by);
        inas_tensor bd, td = make_t(N, C, k->H, k->W, r, !k->view, &bd);
        inas_tensor bo, to = make_t(N, C, k->H, k->W, NULL, k->view, &bo);
        vec_t vg, vb, vsm, vsi, vdg, vdb;
        float dg0[8], db0[8];
        for (int c = 0; c < C; c++) dg0[c] = 0.25f * c, db0[c] = -0.5f;
        make_vec(&vg, C, 1, g), make_vec(&vb, C, 0, bt), make_vec(&vsm, C, 2, NULL), make_vec(&vsi, C, 0, NULL);
        make_vec(&vdg, C, 3, dg0), make_vec(&vdb, C, 1, db0);
        cr_assert_eq(inas_op_bn_train_fwd(ctx, &tx, &vg.v, &vb.v, NULL, NULL, 0.1f, 1e-5f, k->act, &ty, &vsm.v, &vsi.v),
                     INAS_OK, "%s", inas_ctx_last_error(ctx));
        cr_assert_eq(inas_op_bn_bwd(ctx, &tx, &td, &vg.v, &vb.v, &vsm.v, &vsi.v, k->act, &to, &vdg.v, &vdb.v), INAS_OK,
                     "%s", inas_ctx_last_error(ctx));
        /* reference: central differences of sum(y * R) in double */
        double *v = malloc(nv * sizeof *v), *grad = malloc(nv * sizeof *grad), *R = to_d(r, nx);
        tu_to_double(x, v, nx), tu_to_double(g, v + nx, C), tu_to_double(bt, v + nx + C, C);
        fd_user u = {N, C, HW, k->act, R, malloc(nx * sizeof(double))};
        tu_fd_grad(bn_loss, &u, v, nv, 1e-4, grad);
        for (int c = 0; c < C; c++) grad[nx + c] += dg0[c], grad[nx + C + c] += db0[c];
        float *dx = read_t(&to), dgam[8], dbet[8];
        read_vec(&vdg, dgam), read_vec(&vdb, dbet);
        tu_assert_close(dx, grad, nx, 1e-4, 1e-3, "bn_bwd dx");
        tu_assert_close(dgam, grad + nx, C, 1e-4, 1e-4, "bn_bwd dgamma (accumulated)");
        tu_assert_close(dbet, grad + nx + C, C, 1e-4, 1e-4, "bn_bwd dbeta (accumulated)");
        /* parameter gradients only, accumulated a second time; dx aliasing dy */
        cr_assert_eq(inas_op_bn_bwd(ctx, &tx, &td, &vg.v, &vb.v, &vsm.v, &vsi.v, k->act, NULL, &vdg.v, &vdb.v), INAS_OK);
        for (int c = 0; c < C; c++) grad[nx + c] += grad[nx + c] - dg0[c], grad[nx + C + c] += grad[nx + C + c] - db0[c];
        read_vec(&vdg, dgam), read_vec(&vdb, dbet);
        tu_assert_close(dgam, grad + nx, C, 2e-4, 1e-4, "bn_bwd dgamma (accumulated twice)");
        tu_assert_close(dbet, grad + nx + C, C, 2e-4, 1e-4, "bn_bwd dbeta (accumulated twice)");
        cr_assert_eq(inas_op_bn_bwd(ctx, &tx, &td, &vg.v, &vb.v, &vsm.v, &vsi.v, k->act, &td, NULL, NULL), INAS_OK);
        free(dx);
        dx = read_t(&td);
        tu_assert_close(dx, grad, nx, 1e-4, 1e-3, "bn_bwd dx in place of dy");
        free_vec(&vg), free_vec(&vb), free_vec(&vsm), free_vec(&vsi), free_vec(&vdg), free_vec(&vdb);
        inas_tensor_free(ctx, &bx), inas_tensor_free(ctx, &by), inas_tensor_free(ctx, &bd), inas_tensor_free(ctx, &bo);
        free(x), free(r), free(v), free(grad), free(R), free(u.y), free(dx);
    }
}

/* Larger shapes (channels split over several work-groups, many channels per
 * group) against the analytic double backward; FD above validates it. */
Test(ops_bn, bwd_larger_shapes_vs_analytic) {
    const bn_case cases[] = {{4, 2, 96, 97, 3, 1}, {8, 3, 64, 64, 0, 0}, {2, 300, 5, 5, 1, 1}};
    for (size_t s = 0; s < sizeof cases / sizeof *cases; s++) {
        const bn_case *k = &cases[s];
        const int N = k->N, C = k->C, HW = k->H * k->W;
        size_t nx = (size_t)N * C * HW;
        float *x = malloc(nx * sizeof *x), *r = malloc(nx * sizeof *r), g[300], bt[300], z[300];
        tu_rand_floats(x, nx, 400 + s, 1.0f, 3.0f);
        tu_rand_floats(r, nx, 410 + s, -1.0f, 1.0f);
        tu_rand_floats(g, C, 420 + s, 0.5f, 1.5f);
        tu_rand_floats(bt, C, 430 + s, -0.5f, 0.5f);
        memset(z, 0, sizeof z);
        inas_tensor bx, tx = make_t(N, C, k->H, k->W, x, k->view, &bx);
        inas_tensor bd, td = make_t(N, C, k->H, k->W, r, !k->view, &bd);
        vec_t vg, vb, vsm, vsi, vdg, vdb;
        make_vec(&vg, C, 0, g), make_vec(&vb, C, 1, bt), make_vec(&vsm, C, 0, NULL), make_vec(&vsi, C, 0, NULL);
        make_vec(&vdg, C, 0, z), make_vec(&vdb, C, 2, z);
        /* statistics only (y NULL is not allowed: write y into dx's place, then overwrite) */
        cr_assert_eq(inas_op_bn_train_fwd(ctx, &tx, &vg.v, &vb.v, NULL, NULL, 0.1f, 1e-5f, k->act, &td, &vsm.v, &vsi.v),
                     INAS_OK, "%s", inas_ctx_last_error(ctx));
        cr_assert_eq(inas_tensor_write(ctx, &td, r), INAS_OK);
        cr_assert_eq(inas_op_bn_bwd(ctx, &tx, &td, &vg.v, &vb.v, &vsm.v, &vsi.v, k->act, &td, &vdg.v, &vdb.v), INAS_OK,
                     "%s", inas_ctx_last_error(ctx));
        double *xd = to_d(x, nx), *rd = to_d(r, nx), *dx = malloc(nx * sizeof *dx), gd[300], bd2[300], dg[300], db[300];
        tu_to_double(g, gd, C), tu_to_double(bt, bd2, C);
        ref_bn_bwd(xd, rd, N, C, HW, gd, bd2, 1e-5, k->act, dx, dg, db);
        float *got = read_t(&td), gg[300], gb[300];
        read_vec(&vdg, gg), read_vec(&vdb, gb);
        tu_assert_close(got, dx, nx, 1e-5, 1e-3, "bn_bwd dx (larger shape)");
        tu_assert_close(gg, dg, C, 1e-3, 1e-4, "bn_bwd dgamma (larger shape)");
        tu_assert_close(gb, db, C, 1e-3, 1e-4, "bn_bwd dbeta (larger shape)");
        free_vec(&vg), free_vec(&vb), free_vec(&vsm), free_vec(&vsi), free_vec(&vdg), free_vec(&vdb);
        inas_tensor_free(ctx, &bx), inas_tensor_free(ctx, &bd);
        free(x), free(r), free(xd), free(rd), free(dx), free(got);
    }
}

/* ---- bad input ------------------------------------------------------------------------ */

static void expect_fail(inas_status st, inas_status code, const char *op, const char *needle) {
    cr_assert_eq(st, code, "%s: status %d, expected %d (%s)", op, st, code, inas_ctx_last_error(ctx));
    const char *msg = inas_ctx_last_error(ctx);
    cr_assert(strstr(msg, op) != NULL, "message '%s' names %s", msg, op);
    if (needle) cr_assert(strstr(msg, needle) != NULL, "message '%s' contains '%s'", msg, needle);
}

Test(ops_bn, bad_input) {
    inas_tensor x, y, one;
    cr_assert_eq(inas_tensor_alloc(ctx, &x, 2, 4, 3, 5), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &y, 2, 4, 3, 6), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &one, 1, 4, 1, 1), INAS_OK);
    vec_t v4, v3;
    make_vec(&v4, 4, 0, NULL);
    make_vec(&v3, 3, 0, NULL);
    expect_fail(inas_op_bn_train_fwd(ctx, &x, &v4.v, &v4.v, NULL, NULL, 0.1f, 1e-5f, 0, &y, NULL, NULL),
                INAS_ERR_INVALID_ARG, "inas_op_bn_train_fwd", "2x4x3x6");
    expect_fail(inas_op_bn_train_fwd(ctx, &x, &v3.v, &v4.v, NULL, NULL, 0.1f, 1e-5f, 0, &x, NULL, NULL),
                INAS_ERR_INVALID_ARG, "inas_op_bn_train_fwd", "gamma");
    expect_fail(inas_op_bn_train_fwd(ctx, &one, &v4.v, &v4.v, NULL, NULL, 0.1f, 1e-5f, 0, &one, NULL, NULL),
                INAS_ERR_INVALID_ARG, "inas_op_bn_train_fwd", "1x4x1x1");
    expect_fail(inas_op_bn_train_fwd(ctx, &x, &v4.v, &v4.v, NULL, NULL, 1.5f, 1e-5f, 0, &x, NULL, NULL),
                INAS_ERR_INVALID_ARG, "inas_op_bn_train_fwd", "momentum");
    expect_fail(inas_op_bn_train_fwd(ctx, &x, &v4.v, &v4.v, NULL, NULL, 0.1f, 1e-5f, 7, &x, NULL, NULL),
                INAS_ERR_UNSUPPORTED, "inas_op_bn_train_fwd", "activation");
    expect_fail(inas_op_bn_train_fwd(ctx, NULL, &v4.v, &v4.v, NULL, NULL, 0.1f, 1e-5f, 0, &x, NULL, NULL),
                INAS_ERR_INVALID_ARG, "inas_op_bn_train_fwd", "null");
    expect_fail(inas_op_bn_eval_fwd(ctx, &x, &v4.v, &v4.v, &v3.v, &v4.v, 1e-5f, 0, &x), INAS_ERR_INVALID_ARG,
                "inas_op_bn_eval_fwd", "running_mean");
    expect_fail(inas_op_bn_bwd(ctx, &x, &y, &v4.v, &v4.v, &v4.v, &v4.v, 0, &x, NULL, NULL), INAS_ERR_INVALID_ARG,
                "inas_op_bn_bwd", "2x4x3x5");
    expect_fail(inas_op_bn_recal_fwd(ctx, &x, &v4.v, &v4.v, NULL, NULL, 0, 1e-5f, 0, &x), INAS_ERR_INVALID_ARG,
                "inas_op_bn_recal_fwd", "running");
    expect_fail(inas_op_channel_sum(ctx, &x, &v3.v, 0), INAS_ERR_INVALID_ARG, "inas_op_channel_sum", "2x4x3x5");
    expect_fail(inas_op_channel_dot(ctx, &x, &y, &v4.v, 0), INAS_ERR_INVALID_ARG, "inas_op_channel_dot", "2x4x3x6");
    expect_fail(inas_op_channel_stats(ctx, &x, &v4.v, NULL), INAS_ERR_INVALID_ARG, "inas_op_channel_stats", "var");
    expect_fail(inas_op_sum(ctx, NULL, &v4.v, 1.0f), INAS_ERR_INVALID_ARG, "inas_op_sum", "x");
    inas_tensor_free(ctx, &x), inas_tensor_free(ctx, &y), inas_tensor_free(ctx, &one);
    free_vec(&v4), free_vec(&v3);
}
