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
 * reference of sum(out * R) at atol 1e-4 / rtol 1e-3. The forward ops of the
 * inference engine are also checked on F16 tensors, with half storage on any
 * device and half arithmetic on a device with cl_khr_fp16 (tolerances derived
 * in that section), and F16 is refused by the backward ops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/pool.h"
#include "ops/resize.h"
#include "ref_elem.h"
#include "runtime/internal.h" /* inas_ctx_set_half_math */
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

static void dt_make_as(dt *d, inas_dtype type, int n, int c, int h, int w, int view) {
    d->view = view;
    int dims[4] = {n, c + (view ? 3 : 0), h, w};
    cr_assert_eq(inas_tensor_alloc_as(ctx, &d->base, type, 4, dims), INAS_OK);
    if (view) {
        cr_assert_eq(inas_tensor_fill(ctx, &d->base, SENTINEL), INAS_OK);
        cr_assert_eq(inas_tensor_slice_channels(ctx, &d->base, 2, c, &d->t), INAS_OK);
    } else
        d->t = d->base;
}
static void dt_make(dt *d, int n, int c, int h, int w, int view) { dt_make_as(d, INAS_DTYPE_F32, n, c, h, w, view); }
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

/* H, W -> Ho, Wo: up, down, mixed, identity, to and from 1x1, a large upsample */
static const int resize_sizes[][4] = {{7, 5, 14, 10}, {7, 5, 10, 13}, {13, 11, 5, 4}, {5, 6, 5, 6},
                                      {4, 3, 64, 48}, {9, 17, 1, 1},  {1, 1, 3, 5},   {20, 20, 320, 320}};

Test(elem, resize_bilinear_and_nearest_any_size_gradcheck) {
    for (int mode = 0; mode <= 1; mode++)
        for (int align = 0; align <= (mode == 0 ? 1 : 0); align++)
            for (int s = 0; s < 8; s++) {
                const int *z = resize_sizes[s];
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

/* ---- F16 tensors: half storage and half arithmetic -------------------------------------
 * The forward ops of the inference engine on F16 tensors, in two precisions:
 *  - fp16-storage (suite elem, any device): the kernels load half, compute in
 *    float as the F32 kernels do and round once when storing;
 *  - fp16 (suite elem_fp16: a device with cl_khr_fp16, half_math on): every
 *    operation rounds to half (reductions of the global average pool excepted:
 *    they accumulate in float).
 * Inputs are rounded to half on the host and the double references use the
 * rounded values, so only the kernels' own error is measured. U = 2^-11 is the
 * unit roundoff of half: rounding v to half moves it by at most U|v| in the
 * normal range and by 2^-25 (HSUB, half the subnormal spacing) below 2^-14.
 * The tolerance of each op is derived next to it: for fp16-storage the F32
 * error of the same arithmetic plus one rounding, U|want| + HSUB; for fp16 the
 * roundings of every half operation (OpenCL C half limits: + - * / correctly
 * rounded, exp within 2 ulp, i.e. 4U relative). Ops without arithmetic
 * (relu, relu6, max pool, nearest resize) must be exact. The largest errors
 * seen are printed per op. */

#define U (1.0 / 2048)
#define HSUB (1.0 / 33554432)
#define F32U (1.0 / 16777216) /* unit roundoff of float, 2^-24 */

static int half_math; /* which precision the running test checks */
static const char *prec_name(void) { return half_math ? "fp16" : "fp16-storage"; }

static void dt_make16(dt *d, int n, int c, int h, int w, int view) { dt_make_as(d, INAS_DTYPE_F16, n, c, h, w, view); }

/* Random values rounded to half. */
static float *rnd16(size_t n, uint64_t seed, float lo, float hi) {
    float *v = rnd(n, seed, lo, hi);
    for (size_t i = 0; i < n; i++) v[i] = inas_float_from_half(inas_half_from_float(v[i]));
    return v;
}
static void round16(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = inas_float_from_half(inas_half_from_float(v[i]));
}

/* Largest error of one op over its checks: absolute, and as a fraction of the tolerance. */
typedef struct err16 {
    double abs, ratio;
} err16;

/* Asserts |got - want| <= atol + rtol * |want| element-wise (NaN only where
 * want is NaN) and records the largest error in e. */
static void check16(err16 *e, const float *got, const double *want, size_t n, double atol, double rtol,
                    const char *what) {
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i])) {
            cr_assert(isnan(got[i]), "%s %s: element %zu is %.9g, expected NaN", prec_name(), what, i, got[i]);
            continue;
        }
        double err = fabs((double)got[i] - want[i]), tol = atol + rtol * fabs(want[i]);
        cr_assert(err <= tol, "%s %s: element %zu is %.9g, expected %.9g (error %.3g > atol %.3g + rtol %.3g)",
                  prec_name(), what, i, got[i], want[i], err, atol, rtol);
        e->abs = fmax(e->abs, err);
        if (tol > 0) e->ratio = fmax(e->ratio, err / tol);
    }
}
/* Reads d, checks it with check16 and checks that nothing outside its view changed. */
static void expect16(err16 *e, dt *d, const double *want, size_t n, double atol, double rtol, const char *what) {
    float *got = dt_get(d);
    check16(e, got, want, n, atol, rtol, what);
    dt_check_outside(d, what);
    free(got);
}
static void report16(const char *op, const err16 *e) {
    fprintf(stderr, "%-12s %-28s max |err| %.3g (%.2f of the tolerance)%s\n", prec_name(), op, e->abs, e->ratio,
            getenv("INAS_ELEM_GENERIC") ? ", generic kernels" : "");
}

/* Activations, on views, odd sizes and in place, inputs in [-8, 8].
 * fp16-storage: the F32 tolerance (2e-6, 2e-5) plus one rounding.
 * fp16: relu and relu6 are exact (max/min of halves with 0 and 6);
 * sigmoid 1 / (1 + e), e = exp(-x): e within 4U relative, the sum and the
 * quotient one rounding each, so 4U + U + U = 6U relative; silu x / (1 + e)
 * likewise 6U; hardsigmoid (x + 3) * 1/6: the sum, the constant 1/6 and the
 * product one rounding each, 3U relative. HSUB covers results below 2^-14. */
static void act_tol16(inas_act act, double *atol, double *rtol) {
    if (!half_math) {
        *atol = 2e-6 + HSUB;
        *rtol = 2e-5 + U;
    } else if (act == INAS_ACT_RELU || act == INAS_ACT_RELU6) {
        *atol = *rtol = 0;
    } else {
        *atol = HSUB;
        *rtol = act == INAS_ACT_HARDSIGMOID ? 3 * U : 6 * U;
    }
}

static void f16_activations(void) {
    for (int a = 0; a < 5; a++) {
        err16 e = {0, 0};
        double atol, rtol;
        act_tol16(acts[a], &atol, &rtol);
        for (int s = 0; s < NSHAPES; s++) {
            const int *sh = shapes[s];
            int view = s % 2;
            dt x, y;
            dt_make16(&x, sh[0], sh[1], sh[2], sh[3], view);
            dt_make16(&y, sh[0], sh[1], sh[2], sh[3], !view);
            size_t n = dt_numel(&x);
            float *hx = act_inputs(n, 210 + s);
            round16(hx, n);
            double *want = malloc(n * sizeof *want);
            for (size_t i = 0; i < n; i++) want[i] = ref_act(acts[a], hx[i]);
            dt_put(&x, hx);
            cr_assert_eq(inas_op_act_fwd(ctx, acts[a], &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
            char what[64];
            snprintf(what, sizeof what, "%s shape %d", inas_act_name(acts[a]), s);
            expect16(&e, &y, want, n, atol, rtol, what);
            cr_assert_eq(inas_op_act_fwd(ctx, acts[a], &x.t, &x.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
            expect16(&e, &x, want, n, atol, rtol, what);
            free(hx);
            free(want);
            dt_free(&x);
            dt_free(&y);
        }
        char op[48];
        snprintf(op, sizeof op, "inas_op_act_fwd %s", inas_act_name(acts[a]));
        report16(op, &e);
    }
}

/* add: a + b of two halves; in float the sum rounds once relative to the
 * result (F32U), then once to half; in half it is one correctly rounded
 * addition. Both within (U + F32U)|want| + HSUB. Inputs in [-2, 2]. */
static void f16_add(void) {
    err16 e = {0, 0};
    const double atol = HSUB, rtol = U + F32U;
    for (int s = 0; s < NSHAPES; s++) {
        const int *sh = shapes[s];
        dt a, b, o;
        dt_make16(&a, sh[0], sh[1], sh[2], sh[3], s % 2);
        dt_make16(&b, sh[0], sh[1], sh[2], sh[3], 0);
        dt_make16(&o, sh[0], sh[1], sh[2], sh[3], (s + 1) % 2);
        size_t n = dt_numel(&a);
        float *ha = rnd16(n, 240 + s, -2, 2), *hb = rnd16(n, 250 + s, -2, 2);
        double *want = malloc(n * sizeof *want);
        for (size_t i = 0; i < n; i++) want[i] = (double)ha[i] + hb[i];
        dt_put(&a, ha);
        dt_put(&b, hb);
        cr_assert_eq(inas_op_add(ctx, &a.t, &b.t, &o.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        expect16(&e, &o, want, n, atol, rtol, "add");
        /* in place into a view */
        cr_assert_eq(inas_op_add(ctx, &a.t, &b.t, &a.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        expect16(&e, &a, want, n, atol, rtol, "add in place");
        free(ha);
        free(hb);
        free(want);
        dt_free(&a);
        dt_free(&b);
        dt_free(&o);
    }
    report16("inas_op_add", &e);
}

/* mean of k inputs in [-1, 1] (|x| <= 1).
 * fp16-storage: the float sum and the scale by 1/k err by at most k F32U;
 * for k > INAS_OP_MEAN_MAX the partial mean of the first launch is stored in
 * the half output (one more rounding, at most U * 8/k < U); then the final
 * rounding U|want| + HSUB.
 * fp16: the k - 1 half additions err by U times the partial sums (at most
 * j + 1 for the j-th), which scaled by 1/k is at most U (k + 1) / 2; 1/k and
 * the product add 2U relative. The atol U (k + 1) doubles that first-order
 * bound for the second launch when k > INAS_OP_MEAN_MAX. */
static void f16_mean(void) {
    static const int ks[] = {1, 2, 3, 8, 11};
    const int *sh = shapes[1];
    err16 e = {0, 0};
    for (int t = 0; t < 5; t++) {
        int k = ks[t];
        dt xs[11], out;
        const inas_tensor *xp[11];
        float *hx[11];
        size_t n = 0;
        for (int j = 0; j < k; j++) {
            dt_make16(&xs[j], sh[0], sh[1], sh[2], sh[3], j % 2);
            n = dt_numel(&xs[j]);
            hx[j] = rnd16(n, 260 + j, -1, 1);
            dt_put(&xs[j], hx[j]);
            xp[j] = &xs[j].t;
        }
        dt_make16(&out, sh[0], sh[1], sh[2], sh[3], 1);
        double *want = calloc(n, sizeof *want);
        for (int j = 0; j < k; j++)
            for (size_t i = 0; i < n; i++) want[i] += hx[j][i] / (double)k;
        double atol = half_math ? U * (k + 1) + HSUB : k * F32U + (k > INAS_OP_MEAN_MAX ? U : 0) + HSUB;
        double rtol = half_math ? 2 * U : U;
        cr_assert_eq(inas_op_mean(ctx, xp, k, &out.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        char what[32];
        snprintf(what, sizeof what, "mean of %d", k);
        expect16(&e, &out, want, n, atol, rtol, what);
        free(want);
        for (int j = 0; j < k; j++) {
            free(hx[j]);
            dt_free(&xs[j]);
        }
        dt_free(&out);
    }
    report16("inas_op_mean", &e);
}

/* SE multiply x * s, x in [-1, 1], s in [0, 1): the float product of two
 * halves is exact (22 significant bits) and half multiplication is correctly
 * rounded, so both precisions give RN(x * s): U|want| + HSUB. */
static void f16_se_mul(void) {
    err16 e = {0, 0};
    for (int t = 0; t < NSHAPES; t++) {
        const int *sh = shapes[t];
        int N = sh[0], C = sh[1], hw = sh[2] * sh[3];
        dt x, y, s;
        dt_make16(&x, N, C, sh[2], sh[3], t % 2);
        dt_make16(&y, N, C, sh[2], sh[3], (t + 1) % 2);
        dt_make16(&s, N, C, 1, 1, t % 2);
        size_t n = dt_numel(&x), nc = (size_t)N * C;
        float *hx = rnd16(n, 270 + t, -1, 1), *hs = rnd16(nc, 280 + t, 0, 1);
        dt_put(&x, hx);
        dt_put(&s, hs);
        double *want = malloc(n * sizeof *want);
        for (size_t p = 0; p < nc; p++)
            for (int i = 0; i < hw; i++) want[p * hw + i] = (double)hx[p * hw + i] * hs[p];
        cr_assert_eq(inas_op_se_mul_fwd(ctx, &x.t, &s.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        expect16(&e, &y, want, n, HSUB, U, "se_mul");
        /* in place on x */
        cr_assert_eq(inas_op_se_mul_fwd(ctx, &x.t, &s.t, &x.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        expect16(&e, &x, want, n, HSUB, U, "se_mul in place");
        free(hx);
        free(hs);
        free(want);
        dt_free(&x);
        dt_free(&y);
        dt_free(&s);
    }
    report16("inas_op_se_mul_fwd", &e);
}

/* Global average pool: the sum is float in both precisions, so the F32
 * tolerance (1e-6, 1e-5) plus the final rounding U|want| + HSUB. The last
 * case is a 160x160 plane of values in [0.5, 1.5]: a half sum would stop
 * growing at 2048 (spacing 2 there) and give a mean near 0.08; the float sum
 * errs by at most (25600 / 16 lanes) F32U < 1e-4 relative. */
static void f16_gap(void) {
    err16 e = {0, 0};
    for (int t = 0; t <= NSHAPES; t++) {
        const int big[4] = {1, 2, 160, 160}, *sh = t < NSHAPES ? shapes[t] : big;
        int N = sh[0], C = sh[1], hw = sh[2] * sh[3];
        dt x, y;
        dt_make16(&x, N, C, sh[2], sh[3], t % 2);
        dt_make16(&y, N, C, 1, 1, (t + 1) % 2);
        size_t n = dt_numel(&x), nc = (size_t)N * C;
        float *hx = t < NSHAPES ? rnd16(n, 290 + t, -1, 1) : rnd16(n, 299, 0.5f, 1.5f);
        dt_put(&x, hx);
        double *want = calloc(nc, sizeof *want);
        for (size_t p = 0; p < nc; p++) {
            for (int i = 0; i < hw; i++) want[p] += hx[p * hw + i];
            want[p] /= hw;
        }
        cr_assert_eq(inas_op_gap_fwd(ctx, &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        char what[48];
        snprintf(what, sizeof what, "gap %dx%dx%dx%d", N, C, sh[2], sh[3]);
        expect16(&e, &y, want, nc, 1e-6 + HSUB, (t < NSHAPES ? 1e-5 : 1e-4) + U, what);
        free(hx);
        free(want);
        dt_free(&x);
        dt_free(&y);
    }
    report16("inas_op_gap_fwd", &e);
}

/* Max pool (exact in both precisions: it only compares and copies) and the
 * 2x2 average pool, inputs in [-1, 1].
 * avgpool2 fp16-storage: the float sum of up to 4 values and the scale err
 * by at most 4 F32U, then U|want| + HSUB.
 * avgpool2 fp16: (a + b) + (c + d) rounds three times, by at most
 * U (|a + b| + |c + d| + |sum|) <= 8U, a quarter of it after the exact
 * scale by 0.25: 2U; a partial window sums 2 or 3 values (<= 5U / 3) and its
 * division by 3 rounds once more (U|want|). */
static void f16_pool_case(err16 *e, int kind, int k, int N, int C, int H, int W, int view) {
    int Ho = kind == 0 ? H / k : inas_avgpool2_out_size(H, k);
    int Wo = kind == 0 ? W / k : inas_avgpool2_out_size(W, k);
    inas_avgpool_opts opts = {k, k};
    dt x, y;
    dt_make16(&x, N, C, H, W, view);
    dt_make16(&y, N, C, Ho, Wo, !view);
    size_t n = dt_numel(&x), no = dt_numel(&y);
    float *hx = rnd16(n, 320 + H + W + k, -1, 1);
    dt_put(&x, hx);
    double *xv = dbl(hx, n), *want = malloc(no * sizeof *want), atol, rtol;
    if (kind == 0) {
        ref_maxpool_fwd(k, N, C, H, W, xv, want);
        cr_assert_eq(inas_op_maxpool_fwd(ctx, k, &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        atol = rtol = 0;
    } else {
        ref_avgpool2_fwd(k, N, C, H, W, xv, want);
        cr_assert_eq(inas_op_avgpool2_fwd(ctx, &opts, &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
        atol = (half_math ? 2 * U : 4 * F32U) + HSUB;
        rtol = U;
    }
    float *got = dt_get(&y);
    char what[96];
    snprintf(what, sizeof what, "%s k=%d %dx%dx%dx%d view=%d", kind == 0 ? "maxpool" : "avgpool2", k, N, C, H, W,
             view);
    check16(e, got, want, no, atol, rtol, what);
    dt_check_outside(&y, what);
    free(got);
    free(hx);
    free(xv);
    free(want);
    dt_free(&x);
    dt_free(&y);
}

/* NaN propagates and wins over numbers, in the vector path (16 columns per
 * k = 2 block) and the scalar tail. */
static void f16_maxpool_nan(err16 *e) {
    enum { H = 2, W = 38 };
    dt x, y;
    dt_make16(&x, 1, 1, H, W, 0);
    dt_make16(&y, 1, 1, H / 2, W / 2, 0);
    float *hx = rnd16(H * W, 330, -1, 1);
    hx[3] = NAN;      /* vector path, first row */
    hx[W + 12] = NAN; /* vector path, second row */
    hx[W + 36] = NAN; /* tail */
    dt_put(&x, hx);
    double *xv = dbl(hx, H * W);
    double want[W / 2];
    ref_maxpool_fwd(2, 1, 1, H, W, xv, want);
    cr_assert_eq(inas_op_maxpool_fwd(ctx, 2, &x.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    float *got = dt_get(&y);
    check16(e, got, want, W / 2, 0, 0, "maxpool NaN");
    cr_assert(isnan(got[1]) && isnan(got[6]) && isnan(got[18]));
    free(got);
    free(hx);
    free(xv);
    dt_free(&x);
    dt_free(&y);
}

static void f16_pools(void) {
    static const int ks[] = {2, 4, 8, 16};
    err16 e = {0, 0};
    for (int i = 0; i < 4; i++) {
        int k = ks[i];
        f16_pool_case(&e, 0, k, 1, 3, 2 * k + k / 2 + 1, 9 * k + 3, 1);
        f16_pool_case(&e, 0, k, 2, 2, 3 * k, 2 * k, 0);
        f16_pool_case(&e, 0, k, 3, 5, k + 1, 17 * k + k - 1, 0);
    }
    f16_maxpool_nan(&e);
    report16("inas_op_maxpool_fwd", &e);
    e = (err16){0, 0};
    for (int cm = 0; cm <= 1; cm++) {
        f16_pool_case(&e, 1, cm, 1, 7, 13, 11, 1);
        f16_pool_case(&e, 1, cm, 3, 5, 9, 17, 0);
        f16_pool_case(&e, 1, cm, 2, 3, 16, 40, 1);
        f16_pool_case(&e, 1, cm, 1, 2, cm ? 1 : 2, 35, 0);
        f16_pool_case(&e, 1, cm, 2, 2, 5, 7, 1);
    }
    report16("inas_op_avgpool2_fwd", &e);
}

/* Resize, inputs in [-1, 1]. Nearest only copies: exact.
 * Bilinear a + l (b - a), horizontally then vertically. In half: b - a
 * (U |b - a| <= 2U, times l <= 1), the weight l rounded to half (U l |b - a|
 * <= 2U), the product (<= 2U) and the sum (<= U) give 7U per lerp; the
 * vertical lerp carries the horizontal errors (a convex combination: <= 7U)
 * and adds its own 7U: 14U absolute. In float the same count with F32U,
 * 14 F32U, then the rounding to half, U|want| + HSUB. */
static void f16_resize(void) {
    for (int mode = 0; mode <= 1; mode++)
        for (int align = 0; align <= (mode == 0 ? 1 : 0); align++) {
            err16 e = {0, 0};
            double atol = mode == 1 ? 0 : (half_math ? 14 * U : 14 * F32U + HSUB);
            double rtol = mode == 1 || half_math ? 0 : U;
            for (int s = 0; s < 8; s++) {
                const int *z = resize_sizes[s];
                int N = s == 7 ? 1 : 1 + s % 3, C = s == 7 ? 1 : 2 + s % 2, view = s % 2;
                int H = z[0], W = z[1], Ho = z[2], Wo = z[3];
                dt x, y;
                dt_make16(&x, N, C, H, W, view);
                dt_make16(&y, N, C, Ho, Wo, !view);
                size_t n = dt_numel(&x), no = dt_numel(&y);
                float *hx = rnd16(n, 340 + H * W, -1, 1);
                dt_put(&x, hx);
                double *xv = dbl(hx, n), *want = malloc(no * sizeof *want);
                ref_resize_fwd(mode, align, N, C, H, W, Ho, Wo, xv, want);
                cr_assert_eq(inas_op_resize_fwd(ctx, mode, align, &x.t, &y.t), INAS_OK, "%s",
                             inas_ctx_last_error(ctx));
                float *got = dt_get(&y);
                char what[96];
                snprintf(what, sizeof what, "%s align=%d %dx%dx%dx%d -> %dx%d view=%d", mode ? "nearest" : "bilinear",
                         align, N, C, H, W, Ho, Wo, view);
                check16(&e, got, want, no, atol, rtol, what);
                dt_check_outside(&y, what);
                free(got);
                free(hx);
                free(xv);
                free(want);
                dt_free(&x);
                dt_free(&y);
            }
            char op[64];
            snprintf(op, sizeof op, "inas_op_resize_fwd %s%s", mode ? "nearest" : "bilinear",
                     mode ? "" : align ? " align=1" : " align=0");
            report16(op, &e);
        }
}

static void f16_all(void) {
    f16_activations();
    f16_add();
    f16_mean();
    f16_se_mul();
    f16_gap();
    f16_pools();
    f16_resize();
}

Test(elem, f16_storage_forward_ops) { f16_all(); }

/* The generic (GPU-oriented) kernels on F16: float4 vectors, LS=64 plane
 * sums, one column block per work-item, resize over 16-column tiles. */
Test(elem, f16_storage_forward_ops_generic_kernels) {
    cr_assert_eq(setenv("INAS_ELEM_GENERIC", "1", 1), 0);
    f16_all();
}

/* Mixed element types are refused by every F16-capable op; backward and
 * training ops refuse F16 tensors. */
Test(elem, f16_mixed_types_and_backward_ops_refused) {
    dt a16, b16, s16, a32, s32, y16, y32;
    dt_make16(&a16, 2, 3, 8, 8, 0);
    dt_make16(&b16, 2, 3, 8, 8, 1);
    dt_make16(&s16, 2, 3, 1, 1, 0);
    dt_make16(&y16, 2, 3, 4, 4, 0);
    dt_make(&a32, 2, 3, 8, 8, 0);
    dt_make(&s32, 2, 3, 1, 1, 0);
    dt_make(&y32, 2, 3, 4, 4, 0);
    const inas_tensor *mix[2] = {&a16.t, &a32.t};
    inas_avgpool_opts floor_mode = {0, 0};
    assert_msg(inas_op_add(ctx, &a16.t, &a32.t, &b16.t), INAS_ERR_INVALID_ARG, "inas_op_add", "F32");
    assert_msg(inas_op_mean(ctx, mix, 2, &b16.t), INAS_ERR_INVALID_ARG, "inas_op_mean", "F16");
    assert_msg(inas_op_act_fwd(ctx, INAS_ACT_RELU, &a16.t, &a32.t), INAS_ERR_INVALID_ARG, "inas_op_act_fwd", NULL);
    assert_msg(inas_op_se_mul_fwd(ctx, &a16.t, &s32.t, &b16.t), INAS_ERR_INVALID_ARG, "inas_op_se_mul_fwd", NULL);
    assert_msg(inas_op_gap_fwd(ctx, &a16.t, &s32.t), INAS_ERR_INVALID_ARG, "inas_op_gap_fwd", NULL);
    assert_msg(inas_op_maxpool_fwd(ctx, 2, &a32.t, &y16.t), INAS_ERR_INVALID_ARG, "inas_op_maxpool_fwd", NULL);
    assert_msg(inas_op_avgpool2_fwd(ctx, &floor_mode, &a16.t, &y32.t), INAS_ERR_INVALID_ARG, "inas_op_avgpool2_fwd",
               NULL);
    assert_msg(inas_op_resize_fwd(ctx, INAS_RESIZE_BILINEAR, 1, &a16.t, &y32.t), INAS_ERR_INVALID_ARG,
               "inas_op_resize_fwd", NULL);
    /* backward and training ops: F16 is not supported */
    const inas_tensor *one16[1] = {&b16.t};
    assert_msg(inas_op_act_bwd(ctx, INAS_ACT_RELU, &a16.t, NULL, &b16.t, &b16.t), INAS_ERR_UNSUPPORTED,
               "inas_op_act_bwd", "F16");
    assert_msg(inas_op_mean_bwd(ctx, &a16.t, 1, one16, 0), INAS_ERR_UNSUPPORTED, "inas_op_mean_bwd", NULL);
    assert_msg(inas_op_se_mul_bwd(ctx, &a16.t, &s16.t, &b16.t, &b16.t, &s16.t), INAS_ERR_UNSUPPORTED,
               "inas_op_se_mul_bwd", NULL);
    assert_msg(inas_op_gap_bwd(ctx, &s16.t, &a16.t), INAS_ERR_UNSUPPORTED, "inas_op_gap_bwd", NULL);
    assert_msg(inas_op_maxpool_bwd(ctx, 2, &a16.t, &y16.t, &b16.t), INAS_ERR_UNSUPPORTED, "inas_op_maxpool_bwd",
               NULL);
    assert_msg(inas_op_avgpool2_bwd(ctx, &floor_mode, &y16.t, &a16.t), INAS_ERR_UNSUPPORTED, "inas_op_avgpool2_bwd",
               NULL);
    assert_msg(inas_op_resize_bwd(ctx, INAS_RESIZE_BILINEAR, 1, &y16.t, &a16.t), INAS_ERR_UNSUPPORTED,
               "inas_op_resize_bwd", NULL);
    assert_msg(inas_op_scale(ctx, 2.0f, &a16.t, &b16.t), INAS_ERR_UNSUPPORTED, "inas_op_scale", NULL);
    assert_msg(inas_op_accumulate(ctx, &a16.t, &b16.t), INAS_ERR_UNSUPPORTED, "inas_op_accumulate", NULL);
    dt_free(&a16);
    dt_free(&b16);
    dt_free(&s16);
    dt_free(&y16);
    dt_free(&a32);
    dt_free(&s32);
    dt_free(&y32);
}

/* ---- half arithmetic: a device with cl_khr_fp16, the context's half_math on ---- */

static void setup_fp16(void) {
    ctx = tu_ctx_fp16();
    half_math = 1;
    if (ctx) cr_assert_eq(inas_ctx_set_half_math(ctx, 1, NULL), INAS_OK, "%s", inas_ctx_last_error(ctx));
}
static void teardown_fp16(void) {
    if (ctx) inas_ctx_destroy(ctx);
}
TestSuite(elem_fp16, .init = setup_fp16, .fini = teardown_fp16);

#define REQUIRE_FP16()                                                                                           \
    do {                                                                                                         \
        if (!ctx)                                                                                                \
            cr_skip_test("no OpenCL device with cl_khr_fp16: the half-arithmetic (fp16) forward kernels of the " \
                         "elem ops were not tested");                                                           \
    } while (0)

Test(elem_fp16, half_math_forward_ops) {
    REQUIRE_FP16();
    f16_all();
}

Test(elem_fp16, half_math_forward_ops_generic_kernels) {
    REQUIRE_FP16();
    cr_assert_eq(setenv("INAS_ELEM_GENERIC", "1", 1), 0);
    f16_all();
}

/* F32 tensors on a half-math context still take the float kernels. */
Test(elem_fp16, f32_tensors_unaffected_by_half_math) {
    REQUIRE_FP16();
    const int *sh = shapes[3];
    dt a, b, y;
    dt_make(&a, sh[0], sh[1], sh[2], sh[3], 1);
    dt_make(&b, sh[0], sh[1], sh[2], sh[3], 0);
    dt_make(&y, sh[0], sh[1], 1, 1, 0);
    size_t n = dt_numel(&a), nc = (size_t)sh[0] * sh[1], hw = (size_t)sh[2] * sh[3];
    float *ha = rnd(n, 400, -2, 2), *hb = rnd(n, 401, -2, 2);
    dt_put(&a, ha);
    dt_put(&b, hb);
    double *want = malloc(n * sizeof *want), *wy = calloc(nc, sizeof *wy);
    for (size_t i = 0; i < n; i++) want[i] = (double)ha[i] + hb[i];
    for (size_t i = 0; i < n; i++) wy[i / hw] += want[i] / (double)hw;
    cr_assert_eq(inas_op_add(ctx, &a.t, &b.t, &a.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_gap_fwd(ctx, &a.t, &y.t), INAS_OK, "%s", inas_ctx_last_error(ctx));
    float *got = dt_get(&a), *gy = dt_get(&y);
    tu_assert_close(got, want, n, 1e-6, 1e-6, "f32 add on a half-math context");
    tu_assert_close(gy, wy, nc, 1e-6, 1e-5, "f32 gap on a half-math context");
    free(got);
    free(gy);
    free(ha);
    free(hb);
    free(want);
    free(wy);
    dt_free(&a);
    dt_free(&b);
    dt_free(&y);
}
