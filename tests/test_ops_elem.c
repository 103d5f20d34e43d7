/* test_ops_elem.c - the elem kernel family against double references:
 * activations, add/accumulate/scale/mean (+ backward), SE channel multiply
 * (+ backward), global average pool, max pool (k = 2, 4, 8, 16), 2x2 average
 * pool (floor and ceil mode), bilinear (align_corners 0/1) and nearest resize,
 * each on odd shapes, with channel views as inputs and outputs (writes outside
 * a view are checked not to happen), finite-difference gradient checks of
 * every backward, and bad-input errors naming the op and the shapes.
 * Tolerances: pointwise ops atol 1e-6 / rtol 1e-5 (exp-based ones 2e-6 /
 * 2e-5); reductions and resizes atol 1e-5 / rtol 1e-4; gradient checks compare
 * the device backward with central differences (eps 1e-3) of the double
 * reference of sum(out * R) at atol 1e-4 / rtol 1e-3. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/pool.h"
#include "ops/resize.h"
#include "ref_elem.h"
#include "testutil.h"

static inas_ctx *ctx;
static void setup(void) { ctx = tu_ctx(); }
static void teardown(void) { inas_ctx_destroy(ctx); }
TestSuite(elem, .init = setup, .fini = teardown);

/* ---- device tensors, optionally channel views of a larger sentinel-filled one ---- */

#define SENTINEL 7.25f

typedef struct dt {
    inas_tensor base, t;
    int view;
} dt;

static void dt_make(dt *d, int n, int c, int h, int w, int view) {
    d->view = view;
    cr_assert_eq(inas_tensor_alloc(ctx, &d->base, n, c + (view ? 3 : 0), h, w), INAS_OK);
    if (view) {
        cr_assert_eq(inas_tensor_fill(ctx, &d->base, SENTINEL), INAS_OK);
        cr_assert_eq(inas_tensor_slice_channels(ctx, &d->base, 2, c, &d->t), INAS_OK);
    } else
        d->t = d->base;
}
static size_t dt_numel(const dt *d) { return inas_tensor_numel(&d->t); }
static void dt_put(dt *d, const float *v) { cr_assert_eq(inas_tensor_write(ctx, &d->t, v), INAS_OK); }
static float *dt_get(dt *d) {
    float *v = malloc(dt_numel(d) * sizeof *v);
    cr_assert_eq(inas_ctx_finish(ctx), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_tensor_read(ctx, &d->t, v), INAS_OK);
    return v;
}
/* Channels outside a view must keep the sentinel. */
static void dt_check_outside(dt *d, const char *what) {
    if (!d->view) return;
    size_t n = inas_tensor_numel(&d->base);
    float *v = malloc(n * sizeof *v);
    cr_assert_eq(inas_tensor_read(ctx, &d->base, v), INAS_OK);
    int N = d->base.shape[0], C = d->base.shape[1];
    size_t hw = (size_t)d->base.shape[2] * d->base.shape[3];
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) {
            if (c >= 2 && c < C - 1) continue;
            for (size_t p = 0; p < hw; p++)
                cr_assert_eq(v[((size_t)i * C + c) * hw + p], SENTINEL, "%s: write outside the view (n %d c %d)", what,
                             i, c);
        }
    free(v);
}
static void dt_free(dt *d) { inas_tensor_free(ctx, &d->base); }

static float *rnd(size_t n, uint64_t seed, float lo, float hi) {
    float *v = malloc(n * sizeof *v);
    tu_rand_floats(v, n, seed, lo, hi);
    return v;
}
static double *dbl(const float *v, size_t n) {
    double *d = malloc(n * sizeof *d);
    tu_to_double(v, d, n);
    return d;
}

static const int shapes[][4] = {{1, 7, 13, 11}, {3, 5, 9, 17}, {2, 3, 1, 1}, {1, 2, 33, 40}};
#define NSHAPES (int)(sizeof shapes / sizeof *shapes)

/* ---- activations ---------------------------------------------------------------- */

static const inas_act acts[] = {INAS_ACT_RELU, INAS_ACT_RELU6, INAS_ACT_SILU, INAS_ACT_SIGMOID, INAS_ACT_HARDSIGMOID};

/* Values kept 0.02 away from every kink (0, 6, -3, 3) so differences are clean. */
static float *act_inputs(size_t n, uint64_t seed) {
    float *v = rnd(n, seed, -8, 8);
    static const float kinks[] = {0, 6, -3, 3};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            if (fabsf(v[i] - kinks[k]) < 0.02f) v[i] = kinks[k] + 0.05f;
    return v;
}

Test(elem, activation_forward_views_and_in_place) {
    for (int a = 0; a < 5; a++)
        for (int s = 0; s < NSHAPES; s++) {
            const int *sh = shapes[s];
            int view = s % 2;
            dt x, y;
            dt_make(&x, sh[0], sh[1], sh[2], sh[3], view);
            dt_make(&y, sh[0], sh[1], sh[2], sh[3], !view);
            size_t n = dt_numel(&x);
            float *hx = act_inputs(n, 10 + s);
            double *want = malloc(n * sizeof *want);
            for (size_t i = 0; i < n; i++) want[i] = ref_act(acts[a], hx[i]);
            dt_put(&x, hx);
            cr_assert_eq(inas_op_act_fwd(ctx, acts[a], &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
            float *got = dt_get(&y);
            char what[64];
            snprintf(what, sizeof what, "%s fwd shape %d", inas_act_name(acts[a]), s);
            tu_assert_close(got, want, n, 2e-6, 2e-5, what);
            dt_check_outside(&y, what);
            free(got);
            /* in place */
            cr_assert_eq(inas_op_act_fwd(ctx, acts[a], &x.t, &x.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
            got = dt_get(&x);
            tu_assert_close(got, want, n, 2e-6, 2e-5, what);
            dt_check_outside(&x, what);
            free(got);
            free(hx);
            free(want);
            dt_free(&x);
            dt_free(&y);
        }
}

typedef struct act_fd {
    int act;
    const double *r;
} act_fd;
static double act_loss(const double *x, size_t n, void *u) {
    act_fd *f = u;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += ref_act(f->act, x[i]) * f->r[i];
    return s;
}

Test(elem, activation_backward_and_gradcheck) {
    for (int a = 0; a < 5; a++)
        for (int s = 0; s < NSHAPES; s++) {
            const int *sh = shapes[s];
            int view = s % 2;
            dt x, y, dy, dx;
            dt_make(&x, sh[0], sh[1], sh[2], sh[3], view);
            dt_make(&y, sh[0], sh[1], sh[2], sh[3], 0);
            dt_make(&dy, sh[0], sh[1], sh[2], sh[3], 0);
            dt_make(&dx, sh[0], sh[1], sh[2], sh[3], !view);
            size_t n = dt_numel(&x);
            float *hx = act_inputs(n, 20 + s), *hr = rnd(n, 30 + s, -1, 1);
            double *dxv = dbl(hx, n), *r = dbl(hr, n), *want = malloc(n * sizeof *want);
            for (size_t i = 0; i < n; i++) want[i] = ref_act_grad(acts[a], hx[i]) * hr[i];
            dt_put(&x, hx);
            dt_put(&dy, hr);
            cr_assert_eq(inas_op_act_fwd(ctx, acts[a], &x.t, &y.t), INAS_OK);
            /* from x */
            cr_assert_eq(inas_op_act_bwd(ctx, acts[a], &x.t, NULL, &dy.t, &dx.t), INAS_OK, "%s",
                         inas_ctx_last_error(ctx));
            float *got = dt_get(&dx);
            char what[64];
            snprintf(what, sizeof what, "%s bwd shape %d", inas_act_name(acts[a]), s);
            tu_assert_close(got, want, n, 2e-6, 2e-5, what);
            dt_check_outside(&dx, what);
            /* the device backward against finite differences of the reference loss */
            if (n <= 400) {
                double *fd = malloc(n * sizeof *fd);
                act_fd f = {acts[a], r};
                tu_fd_grad(act_loss, &f, dxv, n, 1e-3, fd);
                tu_assert_close(got, fd, n, 1e-4, 1e-3, what);
                free(fd);
            }
            free(got);
            /* relu and sigmoid from y, in place on dy */
            if (acts[a] == INAS_ACT_RELU || acts[a] == INAS_ACT_SIGMOID) {
                cr_assert_eq(inas_op_act_bwd(ctx, acts[a], NULL, &y.t, &dy.t, &dy.t), INAS_OK, "%s",
                             inas_ctx_last_error(ctx));
                got = dt_get(&dy);
                tu_assert_close(got, want, n, 2e-6, 2e-5, what);
                free(got);
            } else {
                cr_assert_eq(inas_op_act_bwd(ctx, acts[a], NULL, &y.t, &dy.t, &dx.t), INAS_ERR_INVALID_ARG);
                cr_assert(strstr(inas_ctx_last_error(ctx), "inas_op_act_bwd") != NULL);
            }
            free(hx);
            free(hr);
            free(dxv);
            free(r);
            free(want);
            dt_free(&x);
            dt_free(&y);
            dt_free(&dy);
            dt_free(&dx);
        }
}

/* ---- add, accumulate, scale, mean --------------------------------------------------- */

Test(elem, add_accumulate_scale) {
    for (int s = 0; s < NSHAPES; s++) {
        const int *sh = shapes[s];
        dt a, b, o;
        dt_make(&a, sh[0], sh[1], sh[2], sh[3], s % 2);
        dt_make(&b, sh[0], sh[1], sh[2], sh[3], 0);
        dt_make(&o, sh[0], sh[1], sh[2], sh[3], (s + 1) % 2);
        size_t n = dt_numel(&a);
        float *ha = rnd(n, 40 + s, -2, 2), *hb = rnd(n, 50 + s, -2, 2);
        double *want = malloc(n * sizeof *want);
        dt_put(&a, ha);
        dt_put(&b, hb);
        for (size_t i = 0; i < n; i++) want[i] = (double)ha[i] + hb[i];
        cr_assert_eq(inas_op_add(ctx, &a.t, &b.t, &o.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        float *got = dt_get(&o);
        tu_assert_close(got, want, n, 1e-6, 1e-6, "add");
        dt_check_outside(&o, "add");
        free(got);
        /* o += a: o = 2a + b */
        for (size_t i = 0; i < n; i++) want[i] = 2.0 * ha[i] + hb[i];
        cr_assert_eq(inas_op_accumulate(ctx, &a.t, &o.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        got = dt_get(&o);
        tu_assert_close(got, want, n, 1e-6, 1e-6, "accumulate");
        free(got);
        /* a = a + b in place, then a *= -0.5 in place */
        cr_assert_eq(inas_op_add(ctx, &a.t, &b.t, &a.t), INAS_OK);
        cr_assert_eq(inas_op_scale(ctx, -0.5f, &a.t, &a.t), INAS_OK);
        for (size_t i = 0; i < n; i++) want[i] = -0.5 * ((double)ha[i] + hb[i]);
        got = dt_get(&a);
        tu_assert_close(got, want, n, 1e-6, 1e-6, "scale in place");
        dt_check_outside(&a, "scale");
        free(got);
        free(ha);
        free(hb);
        free(want);
        dt_free(&a);
        dt_free(&b);
        dt_free(&o);
    }
}

typedef struct mean_fd {
    int k, j;
    size_t n;
    const double *const *xs;
    const double *r;
} mean_fd;
/* sum(mean(x_0..x_{k-1}) * R) as a function of x_j */
static double mean_loss(const double *xj, size_t len, void *u) {
    mean_fd *f = u;
    double acc = 0;
    for (size_t i = 0; i < f->n; i++) {
        double m = 0;
        for (int t = 0; t < f->k; t++) m += t == f->j ? xj[i] : f->xs[t][i];
        acc += m / f->k * f->r[i];
    }
    return acc;
}

Test(elem, mean_and_backward_any_k) {
    static const int ks[] = {1, 2, 3, 5, 8, 11};
    const int *sh = shapes[1];
    for (int t = 0; t < 6; t++) {
        int k = ks[t];
        dt xs[11], dxs[11], out, dy;
        const inas_tensor *xp[11], *dxp[11];
        float *hx[11];
        size_t n = 0;
        for (int j = 0; j < k; j++) {
            dt_make(&xs[j], sh[0], sh[1], sh[2], sh[3], j % 2);
            dt_make(&dxs[j], sh[0], sh[1], sh[2], sh[3], (j + 1) % 2);
            n = dt_numel(&xs[j]);
            hx[j] = rnd(n, 60 + j, -1, 1);
            dt_put(&xs[j], hx[j]);
            xp[j] = &xs[j].t;
            dxp[j] = &dxs[j].t;
        }
        dt_make(&out, sh[0], sh[1], sh[2], sh[3], 1);
        dt_make(&dy, sh[0], sh[1], sh[2], sh[3], 0);
        double *want = calloc(n, sizeof *want);
        for (int j = 0; j < k; j++)
            for (size_t i = 0; i < n; i++) want[i] += hx[j][i] / (double)k;
        cr_assert_eq(inas_op_mean(ctx, xp, k, &out.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        float *got = dt_get(&out);
        char what[64];
        snprintf(what, sizeof what, "mean of %d", k);
        tu_assert_close(got, want, n, 1e-6, 1e-5, what);
        dt_check_outside(&out, what);
        free(got);
        /* backward: written, then accumulated */
        float *hg = rnd(n, 99, -1, 1);
        dt_put(&dy, hg);
        cr_assert_eq(inas_op_mean_bwd(ctx, &dy.t, k, dxp, 0), INAS_OK, "%s", inas_ctx_last_error(ctx));
        cr_assert_eq(inas_op_mean_bwd(ctx, &dy.t, k, dxp, 1), INAS_OK, "%s", inas_ctx_last_error(ctx));
        for (size_t i = 0; i < n; i++) want[i] = 2.0 * hg[i] / k;
        for (int j = 0; j < k; j++) {
            got = dt_get(&dxs[j]);
            snprintf(what, sizeof what, "mean_bwd of %d, grad %d", k, j);
            tu_assert_close(got, want, n, 1e-6, 1e-5, what);
            dt_check_outside(&dxs[j], what);
            free(got);
        }
        if (k == 3) { /* finite differences of the reference loss against the (written) device gradient */
            cr_assert_eq(inas_op_mean_bwd(ctx, &dy.t, k, dxp, 0), INAS_OK);
            double *xd[3], *r = dbl(hg, n), *fd = malloc(n * sizeof *fd);
            for (int j = 0; j < 3; j++) xd[j] = dbl(hx[j], n);
            for (int j = 0; j < 3; j++) {
                mean_fd f = {3, j, n, (const double *const *)xd, r};
                tu_fd_grad(mean_loss, &f, xd[j], n, 1e-3, fd);
                got = dt_get(&dxs[j]);
                tu_assert_close(got, fd, n, 1e-5, 1e-3, "mean_bwd gradcheck");
                free(got);
            }
            for (int j = 0; j < 3; j++) free(xd[j]);
            free(r);
            free(fd);
        }
        free(hg);
        free(want);
        for (int j = 0; j < k; j++) {
            free(hx[j]);
            dt_free(&xs[j]);
            dt_free(&dxs[j]);
        }
        dt_free(&out);
        dt_free(&dy);
    }
}

/* ---- SE multiply and global average pool --------------------------------------------- */

typedef struct se_fd {
    int n, c, hw, wrt_s;
    const double *x, *s, *r;
} se_fd;
static double se_loss(const double *v, size_t len, void *u) {
    se_fd *f = u;
    const double *x = f->wrt_s ? f->x : v, *s = f->wrt_s ? v : f->s;
    double acc = 0;
    for (int p = 0; p < f->n * f->c; p++)
        for (int i = 0; i < f->hw; i++) acc += x[(size_t)p * f->hw + i] * s[p] * f->r[(size_t)p * f->hw + i];
    return acc;
}

Test(elem, se_mul_forward_backward_gradcheck) {
    for (int t = 0; t < NSHAPES; t++) {
        const int *sh = shapes[t];
        int N = sh[0], C = sh[1], hw = sh[2] * sh[3];
        dt x, y, s, dy, dx, ds;
        dt_make(&x, N, C, sh[2], sh[3], t % 2);
        dt_make(&y, N, C, sh[2], sh[3], (t + 1) % 2);
        dt_make(&s, N, C, 1, 1, t % 2);
        dt_make(&dy, N, C, sh[2], sh[3], 0);
        dt_make(&dx, N, C, sh[2], sh[3], t % 2);
        dt_make(&ds, N, C, 1, 1, (t + 1) % 2);
        size_t n = dt_numel(&x), nc = (size_t)N * C;
        float *hx = rnd(n, 70 + t, -1, 1), *hs = rnd(nc, 80 + t, 0, 1), *hr = rnd(n, 90 + t, -1, 1);
        dt_put(&x, hx);
        dt_put(&s, hs);
        dt_put(&dy, hr);
        double *want = malloc(n * sizeof *want), *wds = calloc(nc, sizeof *wds);
        for (size_t p = 0; p < nc; p++)
            for (int i = 0; i < hw; i++) {
                size_t at = p * hw + i;
                want[at] = (double)hx[at] * hs[p];
                wds[p] += (double)hr[at] * hx[at];
            }
        cr_assert_eq(inas_op_se_mul_fwd(ctx, &x.t, &s.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        float *got = dt_get(&y);
        tu_assert_close(got, want, n, 1e-6, 1e-6, "se_mul fwd");
        dt_check_outside(&y, "se_mul fwd");
        free(got);
        cr_assert_eq(inas_op_se_mul_bwd(ctx, &x.t, &s.t, &dy.t, &dx.t, &ds.t), INAS_OK, "%s",
                     inas_ctx_last_error(ctx));
        float *gdx = dt_get(&dx), *gds = dt_get(&ds);
        for (size_t p = 0; p < nc; p++)
            for (int i = 0; i < hw; i++) want[p * hw + i] = (double)hr[p * hw + i] * hs[p];
        tu_assert_close(gdx, want, n, 1e-6, 1e-6, "se_mul bwd dx");
        tu_assert_close(gds, wds, nc, 1e-5, 1e-4, "se_mul bwd ds");
        dt_check_outside(&dx, "se_mul bwd dx");
        dt_check_outside(&ds, "se_mul bwd ds");
        if (n <= 1000) {
            double *dxv = dbl(hx, n), *dsv = dbl(hs, nc), *r = dbl(hr, n);
            double *fd = malloc(n * sizeof *fd);
            se_fd f = {N, C, hw, 0, dxv, dsv, r};
            tu_fd_grad(se_loss, &f, dxv, n, 1e-3, fd);
            tu_assert_close(gdx, fd, n, 1e-4, 1e-3, "se_mul gradcheck x");
            f.wrt_s = 1;
            tu_fd_grad(se_loss, &f, dsv, nc, 1e-3, fd);
            tu_assert_close(gds, fd, nc, 1e-4, 1e-3, "se_mul gradcheck s");
            free(dxv);
            free(dsv);
            free(r);
            free(fd);
        }
        free(gdx);
        free(gds);
        /* only ds; only dx (in place on dy) */
        cr_assert_eq(inas_tensor_fill(ctx, &ds.t, 0.0f), INAS_OK);
        cr_assert_eq(inas_op_se_mul_bwd(ctx, &x.t, &s.t, &dy.t, NULL, &ds.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        gds = dt_get(&ds);
        tu_assert_close(gds, wds, nc, 1e-5, 1e-4, "se_mul bwd ds only");
        free(gds);
        cr_assert_eq(inas_op_se_mul_bwd(ctx, NULL, &s.t, &dy.t, &dy.t, NULL), INAS_OK, "%s", inas_ctx_last_error(ctx));
        gdx = dt_get(&dy);
        tu_assert_close(gdx, want, n, 1e-6, 1e-6, "se_mul bwd dx only, in place");
        free(gdx);
        free(hx);
        free(hs);
        free(hr);
        free(want);
        free(wds);
        dt_free(&x);
        dt_free(&y);
        dt_free(&s);
        dt_free(&dy);
        dt_free(&dx);
        dt_free(&ds);
    }
}

typedef struct gap_fd {
    int nc, hw;
    const double *r;
} gap_fd;
static double gap_loss(const double *x, size_t len, void *u) {
    gap_fd *f = u;
    double acc = 0;
    for (int p = 0; p < f->nc; p++) {
        double m = 0;
        for (int i = 0; i < f->hw; i++) m += x[(size_t)p * f->hw + i];
        acc += m / f->hw * f->r[p];
    }
    return acc;
}

Test(elem, global_average_pool_gradcheck) {
    for (int t = 0; t < NSHAPES; t++) {
        const int *sh = shapes[t];
        int N = sh[0], C = sh[1], hw = sh[2] * sh[3];
        dt x, y, dy, dx;
        dt_make(&x, N, C, sh[2], sh[3], t % 2);
        dt_make(&y, N, C, 1, 1, (t + 1) % 2);
        dt_make(&dy, N, C, 1, 1, t % 2);
        dt_make(&dx, N, C, sh[2], sh[3], (t + 1) % 2);
        size_t n = dt_numel(&x), nc = (size_t)N * C;
        float *hx = rnd(n, 100 + t, -1, 1), *hr = rnd(nc, 110 + t, -1, 1);
        dt_put(&x, hx);
        dt_put(&dy, hr);
        double *want = calloc(n, sizeof *want), *wy = calloc(nc, sizeof *wy);
        for (size_t p = 0; p < nc; p++) {
            for (int i = 0; i < hw; i++) wy[p] += hx[p * hw + i];
            wy[p] /= hw;
            for (int i = 0; i < hw; i++) want[p * hw + i] = (double)hr[p] / hw;
        }
        cr_assert_eq(inas_op_gap_fwd(ctx, &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        cr_assert_eq(inas_op_gap_bwd(ctx, &dy.t, &dx.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        float *gy = dt_get(&y), *gdx = dt_get(&dx);
        tu_assert_close(gy, wy, nc, 1e-6, 1e-5, "gap fwd");
        tu_assert_close(gdx, want, n, 1e-7, 1e-6, "gap bwd");
        dt_check_outside(&y, "gap fwd");
        dt_check_outside(&dx, "gap bwd");
        if (n <= 1000) {
            double *xv = dbl(hx, n), *r = dbl(hr, nc), *fd = malloc(n * sizeof *fd);
            gap_fd f = {(int)nc, hw, r};
            tu_fd_grad(gap_loss, &f, xv, n, 1e-3, fd);
            tu_assert_close(gdx, fd, n, 1e-5, 1e-3, "gap gradcheck");
            free(xv);
            free(r);
            free(fd);
        }
        free(gy);
        free(gdx);
        free(hx);
        free(hr);
        free(want);
        free(wy);
        dt_free(&x);
        dt_free(&y);
        dt_free(&dy);
        dt_free(&dx);
    }
}

/* ---- max pool and average pool -------------------------------------------------------- */

typedef struct pool_fd {
    int kind; /* 0 max (k), 1 avg (ceil = k) */
    int k, n, c, h, w;
    size_t nout;
    const double *r;
} pool_fd;
static double pool_loss(const double *x, size_t len, void *u) {
    pool_fd *f = u;
    double *y = malloc(f->nout * sizeof *y), acc = 0;
    if (f->kind == 0) ref_maxpool_fwd(f->k, f->n, f->c, f->h, f->w, x, y);
    else ref_avgpool2_fwd(f->k, f->n, f->c, f->h, f->w, x, y);
    for (size_t i = 0; i < f->nout; i++) acc += y[i] * f->r[i];
    free(y);
    return acc;
}

static void pool_case(int kind, int k, int N, int C, int H, int W, int view, int gradcheck) {
    int Ho = kind == 0 ? H / k : inas_avgpool2_out_size(H, k);
    int Wo = kind == 0 ? W / k : inas_avgpool2_out_size(W, k);
    inas_avgpool_opts opts = {k, k};
    dt x, y, dy, dx;
    dt_make(&x, N, C, H, W, view);
    dt_make(&y, N, C, Ho, Wo, !view);
    dt_make(&dy, N, C, Ho, Wo, view);
    dt_make(&dx, N, C, H, W, !view);
    size_t n = dt_numel(&x), no = dt_numel(&y);
    float *hx = rnd(n, 120 + H + W + k, -1, 1), *hr = rnd(no, 130 + H, -1, 1);
    dt_put(&x, hx);
    dt_put(&dy, hr);
    /* dx starts as garbage: the backward must overwrite every element */
    cr_assert_eq(inas_tensor_fill(ctx, &dx.t, 123.0f), INAS_OK);
    double *xv = dbl(hx, n), *r = dbl(hr, no), *wy = malloc(no * sizeof *wy), *wdx = malloc(n * sizeof *wdx);
    char what[96];
    snprintf(what, sizeof what, "%s k=%d %dx%dx%dx%d view=%d", kind == 0 ? "maxpool" : "avgpool2", k, N, C, H, W,
             view);
    if (kind == 0) {
        ref_maxpool_fwd(k, N, C, H, W, xv, wy);
        ref_maxpool_bwd(k, N, C, H, W, xv, r, wdx);
        cr_assert_eq(inas_op_maxpool_fwd(ctx, k, &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        cr_assert_eq(inas_op_maxpool_bwd(ctx, k, &x.t, &dy.t, &dx.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    } else {
        ref_avgpool2_fwd(k, N, C, H, W, xv, wy);
        ref_avgpool2_bwd(k, N, C, H, W, r, wdx);
        cr_assert_eq(inas_op_avgpool2_fwd(ctx, &opts, &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        cr_assert_eq(inas_op_avgpool2_bwd(ctx, &opts, &dy.t, &dx.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    }
    float *gy = dt_get(&y), *gdx = dt_get(&dx);
    tu_assert_close(gy, wy, no, 1e-6, 1e-5, what);
    tu_assert_close(gdx, wdx, n, 1e-6, 1e-5, what);
    dt_check_outside(&y, what);
    dt_check_outside(&dx, what);
    if (gradcheck) {
        double *fd = malloc(n * sizeof *fd);
        pool_fd f = {kind, k, N, C, H, W, no, r};
        tu_fd_grad(pool_loss, &f, xv, n, 1e-4, fd);
        tu_assert_close(gdx, fd, n, 1e-4, 1e-3, what);
        free(fd);
    }
    free(gy);
    free(gdx);
    free(hx);
    free(hr);
    free(xv);
    free(r);
    free(wy);
    free(wdx);
    dt_free(&x);
    dt_free(&y);
    dt_free(&dy);
    dt_free(&dx);
}

Test(elem, maxpool_all_kernels_odd_shapes_gradcheck) {
    static const int ks[] = {2, 4, 8, 16};
    for (int i = 0; i < 4; i++) {
        int k = ks[i];
        pool_case(0, k, 1, 3, 2 * k + k / 2 + 1, 9 * k + 3, 1, 0);  /* remainders; several vector blocks */
        pool_case(0, k, 2, 2, 3 * k, 2 * k, 0, 0);                  /* exact */
        pool_case(0, k, 3, 5, k + 1, 17 * k + k - 1, 0, 0);         /* 3x5xHxW odd */
    }
    pool_case(0, 2, 2, 3, 7, 9, 1, 1);
    pool_case(0, 4, 1, 2, 9, 11, 0, 1);
}

Test(elem, avgpool2_floor_and_ceil_gradcheck) {
    for (int cm = 0; cm <= 1; cm++) {
        pool_case(1, cm, 1, 7, 13, 11, 1, 0);
        pool_case(1, cm, 3, 5, 9, 17, 0, 0);
        pool_case(1, cm, 2, 3, 16, 40, 1, 0);
        pool_case(1, cm, 1, 2, cm ? 1 : 2, 35, 0, 0);
        pool_case(1, cm, 2, 2, 5, 7, 1, 1);
    }
}

Test(elem, maxpool_nan_propagates_and_first_max_wins) {
    dt x, y, dy, dx;
    dt_make(&x, 1, 1, 2, 4, 0);
    dt_make(&y, 1, 1, 1, 2, 0);
    dt_make(&dy, 1, 1, 1, 2, 0);
    dt_make(&dx, 1, 1, 2, 4, 0);
    float hx[8] = {1, 5, NAN, 0, 5, 2, 3, 1}, g[2] = {10, 20};
    dt_put(&x, hx);
    dt_put(&dy, g);
    cr_assert_eq(inas_op_maxpool_fwd(ctx, 2, &x.t, &y.t), INAS_OK);
    cr_assert_eq(inas_op_maxpool_bwd(ctx, 2, &x.t, &dy.t, &dx.t), INAS_OK);
    float *gy = dt_get(&y), *gdx = dt_get(&dx);
    cr_assert_eq(gy[0], 5.0f);
    cr_assert(isnan(gy[1]));
    float want[8] = {0, 10, 20, 0, 0, 0, 0, 0}; /* the first 5 wins the tie; the NaN takes the gradient */
    for (int i = 0; i < 8; i++) cr_assert_eq(gdx[i], want[i], "dx[%d] = %g", i, gdx[i]);
    free(gy);
    free(gdx);
    dt_free(&x);
    dt_free(&y);
    dt_free(&dy);
    dt_free(&dx);
}

/* ---- resize ------------------------------------------------------------------------------ */

typedef struct rs_fd {
    int mode, align, n, c, h, w, ho, wo;
    const double *r;
} rs_fd;
static double rs_loss(const double *x, size_t len, void *u) {
    rs_fd *f = u;
    size_t no = (size_t)f->n * f->c * f->ho * f->wo;
    double *y = malloc(no * sizeof *y), acc = 0;
    ref_resize_fwd(f->mode, f->align, f->n, f->c, f->h, f->w, f->ho, f->wo, x, y);
    for (size_t i = 0; i < no; i++) acc += y[i] * f->r[i];
    free(y);
    return acc;
}

static void resize_case(int mode, int align, int N, int C, int H, int W, int Ho, int Wo, int view, int gradcheck) {
    dt x, y, dy, dx;
    dt_make(&x, N, C, H, W, view);
    dt_make(&y, N, C, Ho, Wo, !view);
    dt_make(&dy, N, C, Ho, Wo, view);
    dt_make(&dx, N, C, H, W, !view);
    size_t n = dt_numel(&x), no = dt_numel(&y);
    float *hx = rnd(n, 140 + H * W, -1, 1), *hr = rnd(no, 150 + Ho, -1, 1);
    dt_put(&x, hx);
    dt_put(&dy, hr);
    cr_assert_eq(inas_tensor_fill(ctx, &dx.t, 123.0f), INAS_OK);
    double *xv = dbl(hx, n), *r = dbl(hr, no), *wy = malloc(no * sizeof *wy), *wdx = malloc(n * sizeof *wdx);
    ref_resize_fwd(mode, align, N, C, H, W, Ho, Wo, xv, wy);
    ref_resize_bwd(mode, align, N, C, H, W, Ho, Wo, r, wdx);
    cr_assert_eq(inas_op_resize_fwd(ctx, mode, align, &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_resize_bwd(ctx, mode, align, &dy.t, &dx.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    float *gy = dt_get(&y), *gdx = dt_get(&dx);
    char what[96];
    snprintf(what, sizeof what, "%s align=%d %dx%dx%dx%d -> %dx%d view=%d", mode ? "nearest" : "bilinear", align, N,
             C, H, W, Ho, Wo, view);
    tu_assert_close(gy, wy, no, 1e-5, 1e-4, what);
    tu_assert_close(gdx, wdx, n, 1e-5, 1e-4, what);
    dt_check_outside(&y, what);
    dt_check_outside(&dx, what);
    if (gradcheck) {
        double *fd = malloc(n * sizeof *fd);
        rs_fd f = {mode, align, N, C, H, W, Ho, Wo, r};
        tu_fd_grad(rs_loss, &f, xv, n, 1e-3, fd);
        tu_assert_close(gdx, fd, n, 1e-4, 1e-3, what);
        free(fd);
    }
    free(gy);
    free(gdx);
    free(hx);
    free(hr);
    free(xv);
    free(r);
    free(wy);
    free(wdx);
    dt_free(&x);
    dt_free(&y);
    dt_free(&dy);
    dt_free(&dx);
}

Test(elem, resize_bilinear_and_nearest_any_size_gradcheck) {
    static const int sizes[][4] = {{7, 5, 14, 10},  {7, 5, 10, 13}, {13, 11, 5, 4}, {5, 6, 5, 6},
                                   {4, 3, 64, 48},  {9, 17, 1, 1},  {1, 1, 3, 5},   {20, 20, 320, 320}};
    for (int mode = 0; mode <= 1; mode++)
        for (int align = 0; align <= (mode == 0 ? 1 : 0); align++)
            for (int s = 0; s < 8; s++) {
                const int *z = sizes[s];
                int N = s == 7 ? 1 : 1 + s % 3, C = s == 7 ? 1 : 2 + s % 2;
                resize_case(mode, align, N, C, z[0], z[1], z[2], z[3], s % 2, s < 3);
            }
}

/* The generic (GPU-oriented) kernels, forced on this device: plane
 * reductions with work-group trees, pools with one column block per
 * work-item, resize forward over 16-column tiles and the two-pass backward. */
Test(elem, generic_kernels_on_any_device) {
    cr_assert_eq(setenv("INAS_ELEM_GENERIC", "1", 1), 0);
    resize_case(0, 1, 2, 3, 7, 5, 14, 10, 1, 1);
    resize_case(0, 0, 1, 2, 13, 11, 5, 4, 0, 0);
    resize_case(1, 0, 1, 2, 7, 5, 10, 13, 0, 0);
    resize_case(0, 1, 1, 1, 20, 20, 320, 320, 0, 0);
    pool_case(0, 2, 1, 3, 37, 35, 1, 0);
    pool_case(0, 4, 1, 2, 9, 11, 0, 1);
    pool_case(1, 1, 2, 2, 5, 7, 1, 1);
    pool_case(1, 0, 3, 5, 9, 17, 0, 0);
    /* se_mul backward and the global average pool with LS=64 work-group sums */
    const int N = 2, C = 3, H = 13, W = 11, hw = H * W;
    dt x, s, dy, dx, ds, y;
    dt_make(&x, N, C, H, W, 1);
    dt_make(&s, N, C, 1, 1, 0);
    dt_make(&dy, N, C, H, W, 0);
    dt_make(&dx, N, C, H, W, 1);
    dt_make(&ds, N, C, 1, 1, 1);
    dt_make(&y, N, C, 1, 1, 0);
    size_t n = dt_numel(&x), nc = (size_t)N * C;
    float *hx = rnd(n, 5, -1, 1), *hs = rnd(nc, 6, 0, 1), *hr = rnd(n, 7, -1, 1);
    dt_put(&x, hx);
    dt_put(&s, hs);
    dt_put(&dy, hr);
    double *wdx = malloc(n * sizeof *wdx), *wds = calloc(nc, sizeof *wds), *wy = calloc(nc, sizeof *wy);
    for (size_t p = 0; p < nc; p++)
        for (int i = 0; i < hw; i++) {
            wdx[p * hw + i] = (double)hr[p * hw + i] * hs[p];
            wds[p] += (double)hr[p * hw + i] * hx[p * hw + i];
            wy[p] += hx[p * hw + i] / (double)hw;
        }
    cr_assert_eq(inas_op_se_mul_bwd(ctx, &x.t, &s.t, &dy.t, &dx.t, &ds.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_gap_fwd(ctx, &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    float *gdx = dt_get(&dx), *gds = dt_get(&ds), *gy = dt_get(&y);
    tu_assert_close(gdx, wdx, n, 1e-6, 1e-6, "generic se_mul bwd dx");
    tu_assert_close(gds, wds, nc, 1e-5, 1e-4, "generic se_mul bwd ds");
    tu_assert_close(gy, wy, nc, 1e-6, 1e-5, "generic gap fwd");
    dt_check_outside(&dx, "generic se_mul bwd dx");
    dt_check_outside(&ds, "generic se_mul bwd ds");
    free(gdx);
    free(gds);
    free(gy);
    free(hx);
    free(hs);
    free(hr);
    free(wdx);
    free(wds);
    free(wy);
    dt_free(&x);
    dt_free(&s);
    dt_free(&dy);
    dt_free(&dx);
    dt_free(&ds);
    dt_free(&y);
}

/* Pointwise kernels with the generic float4 vectors: silu and a 3-way mean on views. */
Test(elem, generic_pointwise_kernels) {
    cr_assert_eq(setenv("INAS_ELEM_GENERIC", "1", 1), 0);
    const int *sh = shapes[1];
    dt a, b, c, o;
    dt_make(&a, sh[0], sh[1], sh[2], sh[3], 1);
    dt_make(&b, sh[0], sh[1], sh[2], sh[3], 0);
    dt_make(&c, sh[0], sh[1], sh[2], sh[3], 1);
    dt_make(&o, sh[0], sh[1], sh[2], sh[3], 1);
    size_t n = dt_numel(&a);
    float *ha = rnd(n, 1, -4, 4), *hb = rnd(n, 2, -4, 4), *hc = rnd(n, 3, -4, 4);
    dt_put(&a, ha);
    dt_put(&b, hb);
    dt_put(&c, hc);
    double *want = malloc(n * sizeof *want);
    const inas_tensor *xs[3] = {&a.t, &b.t, &c.t};
    cr_assert_eq(inas_op_mean(ctx, xs, 3, &o.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    for (size_t i = 0; i < n; i++) want[i] = ((double)ha[i] + hb[i] + hc[i]) / 3;
    float *got = dt_get(&o);
    tu_assert_close(got, want, n, 1e-6, 1e-5, "generic mean3");
    dt_check_outside(&o, "generic mean3");
    free(got);
    cr_assert_eq(inas_op_act_fwd(ctx, INAS_ACT_SILU, &a.t, &o.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    for (size_t i = 0; i < n; i++) want[i] = ref_act(INAS_ACT_SILU, ha[i]);
    got = dt_get(&o);
    tu_assert_close(got, want, n, 2e-6, 2e-5, "generic silu");
    free(got);
    free(ha);
    free(hb);
    free(hc);
    free(want);
    dt_free(&a);
    dt_free(&b);
    dt_free(&c);
    dt_free(&o);
}

/* ---- bad input ------------------------------------------------------------------------ */

static void assert_msg(inas_status got, inas_status want, const char *op, const char *shape) {
    cr_assert_eq(got, want, "status %d, expected %d: %s", got, want, inas_ctx_last_error(ctx));
    const char *m = inas_ctx_last_error(ctx);
    cr_assert(strstr(m, op) != NULL, "message names the op: %s", m);
    if (shape) cr_assert(strstr(m, shape) != NULL, "message names %s: %s", shape, m);
}

Test(elem, bad_inputs_name_op_and_shapes) {
    dt a, b, s;
    dt_make(&a, 2, 3, 5, 7, 0);
    dt_make(&b, 2, 3, 5, 6, 0);
    dt_make(&s, 2, 4, 1, 1, 0);
    assert_msg(inas_op_add(ctx, &a.t, &b.t, &a.t), INAS_ERR_INVALID_ARG, "inas_op_add", "2x3x5x6");
    assert_msg(inas_op_act_fwd(ctx, INAS_ACT_SILU, &a.t, &b.t), INAS_ERR_INVALID_ARG, "inas_op_act_fwd", "2x3x5x7");
    assert_msg(inas_op_act_fwd(ctx, (inas_act)42, &a.t, &a.t), INAS_ERR_INVALID_ARG, "inas_op_act_fwd", "42");
    assert_msg(inas_op_act_bwd(ctx, INAS_ACT_SILU, NULL, NULL, &a.t, &a.t), INAS_ERR_INVALID_ARG, "inas_op_act_bwd",
               "silu");
    assert_msg(inas_op_se_mul_fwd(ctx, &a.t, &s.t, &a.t), INAS_ERR_INVALID_ARG, "inas_op_se_mul_fwd", "2x4x1x1");
    assert_msg(inas_op_gap_fwd(ctx, &a.t, &s.t), INAS_ERR_INVALID_ARG, "inas_op_gap_fwd", "2x3x5x7");
    assert_msg(inas_op_maxpool_fwd(ctx, 3, &a.t, &b.t), INAS_ERR_UNSUPPORTED, "inas_op_maxpool_fwd", "3");
    assert_msg(inas_op_maxpool_fwd(ctx, 8, &a.t, &b.t), INAS_ERR_INVALID_ARG, "inas_op_maxpool_fwd", "2x3x5x7");
    assert_msg(inas_op_maxpool_fwd(ctx, 2, &a.t, &b.t), INAS_ERR_INVALID_ARG, "inas_op_maxpool_fwd", "2x3x5x6");
    inas_avgpool_opts ceil = {1, 0};
    assert_msg(inas_op_avgpool2_fwd(ctx, &ceil, &a.t, &b.t), INAS_ERR_INVALID_ARG, "inas_op_avgpool2_fwd",
               "2x3x3x4");
    assert_msg(inas_op_resize_fwd(ctx, INAS_RESIZE_BILINEAR, 1, &a.t, &s.t), INAS_ERR_INVALID_ARG,
               "inas_op_resize_fwd", "2x4x1x1");
    assert_msg(inas_op_resize_fwd(ctx, (inas_resize_mode)7, 1, &a.t, &b.t), INAS_ERR_INVALID_ARG,
               "inas_op_resize_fwd", NULL);
    assert_msg(inas_op_mean(ctx, NULL, 0, &a.t), INAS_ERR_INVALID_ARG, "inas_op_mean", NULL);
    inas_tensor empty = {0};
    assert_msg(inas_op_scale(ctx, 2.0f, &empty, &a.t), INAS_ERR_INVALID_ARG, "inas_op_scale", NULL);
    assert_msg(inas_op_accumulate(ctx, NULL, &a.t), INAS_ERR_INVALID_ARG, "inas_op_accumulate", NULL);
    dt_free(&a);
    dt_free(&b);
    dt_free(&s);
}
