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
