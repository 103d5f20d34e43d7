/* test_ops_loss.c - BCE (probabilities), BCE with logits and MSE against the
 * double references of support/ref_norm.c: mean loss values (rtol 1e-5) and
 * gradients (rtol 1e-5) on odd shapes and views, the loss left in a 1-element
 * view of a vector and read back, gradients against central finite
 * differences of the reference loss, finite values and gradients at p = 0 and
 * p = 1 (torch's clamping), and bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "inas/runtime.h"
#include "inas/tensor.h"
#include "ops/loss.h"
#include "ref_norm.h"
#include "testutil.h"

static inas_ctx *ctx;
static void setup(void) { ctx = tu_ctx(); }
static void teardown(void) { inas_ctx_destroy(ctx); }
TestSuite(ops_loss, .init = setup, .fini = teardown);

typedef inas_status (*loss_fn)(inas_ctx *, const inas_tensor *, const inas_tensor *, float, const inas_tensor *,
                               float *, const inas_tensor *);
static const loss_fn fns[4] = {NULL, inas_op_bce_loss, inas_op_mse_loss, inas_op_bce_logits_loss};
static const char *names[4] = {"", "bce", "mse", "bce_logits"};

/* Prediction values for loss kind: probabilities in (0,1) or logits. */
static void make_pred(int kind, float *p, size_t n, uint64_t seed) {
    if (kind == 3) tu_rand_floats(p, n, seed, -8.0f, 8.0f);
    else tu_rand_floats(p, n, seed, 0.02f, 0.98f);
}

static inas_tensor make_t(int n, int c, int h, int w, const float *host, int view, inas_tensor *base) {
    inas_tensor t;
    if (view) {
        cr_assert_eq(inas_tensor_alloc(ctx, base, n, c + 2, h, w), INAS_OK);
        cr_assert_eq(inas_tensor_fill(ctx, base, 0.5f), INAS_OK);
        cr_assert_eq(inas_tensor_slice_channels(ctx, base, 1, c, &t), INAS_OK);
    } else {
        cr_assert_eq(inas_tensor_alloc(ctx, &t, n, c, h, w), INAS_OK);
        *base = t;
    }
    if (host) cr_assert_eq(inas_tensor_write(ctx, &t, host), INAS_OK);
    return t;
}

Test(ops_loss, values_and_gradients) {
    const int shapes[][5] = {{1, 1, 13, 11, 0}, {3, 2, 9, 17, 1}, {8, 1, 40, 40, 0}, {2, 3, 1, 1, 1}, {1, 1, 1, 1, 0}};
    for (int kind = 1; kind <= 3; kind++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            const int N = shapes[s][0], C = shapes[s][1], H = shapes[s][2], W = shapes[s][3], view = shapes[s][4];
            size_t n = (size_t)N * C * H * W;
            float *p = malloc(n * sizeof *p), *t = malloc(n * sizeof *t);
            make_pred(kind, p, n, 10 * kind + s);
            tu_rand_floats(t, n, 100 + s, 0.0f, 1.0f);
            if (kind != 2)
                for (size_t i = 0; i < n; i += 3) t[i] = t[i] > 0.5f ? 1.0f : 0.0f; /* binary masks too */
            inas_tensor bp, bt, bg, tp = make_t(N, C, H, W, p, view, &bp), tt = make_t(N, C, H, W, t, !view, &bt);
            inas_tensor tg = make_t(N, C, H, W, NULL, view, &bg), losses;
            cr_assert_eq(inas_tensor_alloc(ctx, &losses, 1, 1, 1, 5), INAS_OK);
            cr_assert_eq(inas_tensor_fill(ctx, &losses, -1.0f), INAS_OK);
            inas_tensor lv;
            cr_assert_eq(inas_tensor_wrap(ctx, &lv, losses.buf, losses.offset + 3, 1, 1, 1, 1), INAS_OK);
            float host = 0, weight = 0.4f;
            cr_assert_eq(fns[kind](ctx, &tp, &tt, weight, &lv, &host, &tg), INAS_OK, "%s", inas_ctx_last_error(ctx));
            double *pd = malloc(n * sizeof *pd), *td = malloc(n * sizeof *td), *gd = malloc(n * sizeof *gd);
            tu_to_double(p, pd, n), tu_to_double(t, td, n);
            double want = ref_loss(kind, pd, td, n, weight, gd);
            char what[64];
            snprintf(what, sizeof what, "%s loss (shape %zu)", names[kind], s);
            tu_assert_close(&host, &want, 1, 1e-7, 1e-5, what);
            float lall[5];
            cr_assert_eq(inas_tensor_read(ctx, &losses, lall), INAS_OK);
            cr_assert_eq(lall[3], host, "%s: device loss %g, host %g", what, lall[3], host);
            cr_assert(lall[0] == -1.0f && lall[2] == -1.0f && lall[4] == -1.0f, "%s: other elements untouched", what);
            float *g = malloc(n * sizeof *g);
            cr_assert_eq(inas_tensor_read(ctx, &tg, g), INAS_OK);
            snprintf(what, sizeof what, "%s grad (shape %zu)", names[kind], s);
            tu_assert_close(g, gd, n, 1e-9, 1e-5, what);
            /* loss only (no gradient, no loss tensor) */
            float host2 = 0;
            cr_assert_eq(fns[kind](ctx, &tp, &tt, weight, NULL, &host2, NULL), INAS_OK, "%s", inas_ctx_last_error(ctx));
            cr_assert_float_eq(host2, host, 1e-7 + 1e-6 * fabsf(host));
            inas_tensor_free(ctx, &bp), inas_tensor_free(ctx, &bt), inas_tensor_free(ctx, &bg),
                inas_tensor_free(ctx, &losses);
            free(p), free(t), free(pd), free(td), free(gd), free(g);
        }
}

typedef struct fd_user {
    int kind;
    const double *t;
} fd_user;
static double loss_of(const double *x, size_t n, void *u) {
    fd_user *f = u;
    return ref_loss(f->kind, x, f->t, n, 0.4, NULL);
}

Test(ops_loss, gradients_vs_finite_differences) {
    const size_t n = 3 * 5 * 7;
    for (int kind = 1; kind <= 3; kind++) {
        float p[105], t[105], g[105];
        make_pred(kind, p, n, 7 + kind);
        tu_rand_floats(t, n, 17, 0.0f, 1.0f);
        inas_tensor bp, bt, bg, tp = make_t(3, 1, 5, 7, p, 0, &bp), tt = make_t(3, 1, 5, 7, t, 0, &bt);
        inas_tensor tg = make_t(3, 1, 5, 7, NULL, 1, &bg);
        cr_assert_eq(fns[kind](ctx, &tp, &tt, 0.4f, NULL, NULL, &tg), INAS_OK, "%s", inas_ctx_last_error(ctx));
        cr_assert_eq(inas_tensor_read(ctx, &tg, g), INAS_OK);
        double x[105], td[105], fd[105];
        tu_to_double(p, x, n), tu_to_double(t, td, n);
        fd_user u = {kind, td};
        tu_fd_grad(loss_of, &u, x, n, 1e-6, fd);
        char what[64];
        snprintf(what, sizeof what, "%s grad vs finite differences", names[kind]);
        tu_assert_close(g, fd, n, 1e-8, 1e-4, what);
        inas_tensor_free(ctx, &bp), inas_tensor_free(ctx, &bt), inas_tensor_free(ctx, &bg);
    }
}

Test(ops_loss, bce_clamps_at_0_and_1) {
    /* p = 0, 1 with either target, plus an interior value, repeated 10 times
     * (50 elements: the vector path and the scalar tail) */
    float p[50], t[50], g[50], host = 0;
    const float p5[5] = {0, 0, 1, 1, 0.5f}, t5[5] = {0, 1, 0, 1, 1};
    for (int i = 0; i < 50; i++) p[i] = p5[i % 5], t[i] = t5[i % 5];
    inas_tensor bp, bt, bg, tp = make_t(1, 1, 5, 10, p, 0, &bp), tt = make_t(1, 1, 5, 10, t, 0, &bt);
    inas_tensor tg = make_t(1, 1, 5, 10, NULL, 0, &bg);
    cr_assert_eq(inas_op_bce_loss(ctx, &tp, &tt, 1.0f, NULL, &host, &tg), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_tensor_read(ctx, &tg, g), INAS_OK);
    /* torch: per element 0, 100, 100, 0, log 2 -> mean */
    double want = (200.0 + log(2.0)) / 5;
    cr_assert(isfinite(host) && fabs(host - want) < 1e-4, "bce at 0/1: %g, expected %g", host, want);
    for (int i = 0; i < 50; i++) {
        cr_assert(isfinite(g[i]), "bce grad %d finite (%g)", i, g[i]);
        if (i % 5 == 0 || i % 5 == 3) cr_assert_float_eq(g[i], 0.0f, 0);
        if (i % 5 == 1) cr_assert(g[i] < -1e9f, "grad at p=0, t=1 is large and finite: %g", g[i]);
        if (i % 5 == 2) cr_assert(g[i] > 1e9f, "grad at p=1, t=0 is large and finite: %g", g[i]);
        if (i % 5 == 4) cr_assert_float_eq(g[i], -0.04f, 1e-7); /* (0.5 - 1) / 0.25 / 50 */
    }
    /* subnormal probability: log(1e-40) = -92.1 is above the clamp (a device
     * that flushes subnormals to zero gives the clamped 100) */
    for (int i = 0; i < 50; i++) p[i] = 1e-40f, t[i] = 1.0f;
    cr_assert_eq(inas_tensor_write(ctx, &tp, p), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &tt, t), INAS_OK);
    cr_assert_eq(inas_op_bce_loss(ctx, &tp, &tt, 1.0f, NULL, &host, NULL), INAS_OK);
    cr_assert(fabs(host + log((double)1e-40f)) < 1e-3 || fabs(host - 100.0) < 1e-3, "bce at p=1e-40: %g", host);
    /* logits: huge |z| stays finite */
    float z[4] = {-200, 200, -200, 200}, tz[4] = {1, 0, 0, 1}, gz[4];
    inas_tensor bz, btz, bgz, tzz = make_t(1, 1, 2, 2, z, 0, &bz), ttz = make_t(1, 1, 2, 2, tz, 0, &btz);
    inas_tensor tgz = make_t(1, 1, 2, 2, NULL, 0, &bgz);
    cr_assert_eq(inas_op_bce_logits_loss(ctx, &tzz, &ttz, 1.0f, NULL, &host, &tgz), INAS_OK);
    cr_assert_eq(inas_tensor_read(ctx, &tgz, gz), INAS_OK);
    cr_assert(fabs(host - 100.0) < 1e-3, "logits loss %g, expected 100", host);
    cr_assert(fabsf(gz[0] + 0.25f) < 1e-6f && fabsf(gz[1] - 0.25f) < 1e-6f && gz[2] == 0 && gz[3] == 0,
              "logits grads %g %g %g %g", gz[0], gz[1], gz[2], gz[3]);
    inas_tensor_free(ctx, &bp), inas_tensor_free(ctx, &bt), inas_tensor_free(ctx, &bg);
    inas_tensor_free(ctx, &bz), inas_tensor_free(ctx, &btz), inas_tensor_free(ctx, &bgz);
}

Test(ops_loss, bad_input) {
    inas_tensor a, b;
    cr_assert_eq(inas_tensor_alloc(ctx, &a, 2, 1, 8, 8), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &b, 2, 1, 8, 9), INAS_OK);
    float host;
    inas_status st = inas_op_bce_loss(ctx, &a, &b, 1.0f, NULL, &host, NULL);
    cr_assert_eq(st, INAS_ERR_INVALID_ARG);
    const char *m = inas_ctx_last_error(ctx);
    cr_assert(strstr(m, "inas_op_bce_loss") && strstr(m, "2x1x8x8") && strstr(m, "2x1x8x9"), "message: %s", m);
    st = inas_op_mse_loss(ctx, &a, &a, 1.0f, NULL, &host, &b);
    cr_assert_eq(st, INAS_ERR_INVALID_ARG);
    m = inas_ctx_last_error(ctx);
    cr_assert(strstr(m, "inas_op_mse_loss") && strstr(m, "grad") && strstr(m, "2x1x8x9"), "message: %s", m);
    st = inas_op_bce_logits_loss(ctx, &a, &a, 1.0f, NULL, NULL, NULL);
    cr_assert_eq(st, INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "inas_op_bce_logits_loss"), "message: %s", inas_ctx_last_error(ctx));
    st = inas_op_mse_loss(ctx, NULL, &a, 1.0f, NULL, &host, NULL);
    cr_assert_eq(st, INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "inas_op_mse_loss"), "message: %s", inas_ctx_last_error(ctx));
    inas_tensor_free(ctx, &a), inas_tensor_free(ctx, &b);
}
