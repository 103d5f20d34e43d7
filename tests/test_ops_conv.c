/* test_ops_conv.c - the dense convolution ops (src/ops/conv.h) against the
 * double-precision references of tests/support/ref_conv.c: 1x1 (GEMM path,
 * own kernels and, when built in, CLBlast) and KxK direct (3x3 stride 2 stem,
 * 3x3 stride 1, 5x5 stride 2) on odd shapes, with channel views of larger
 * activations and sub-block views of larger weights; backward-weight and bias
 * gradient accumulate; finite-difference gradient checks; bad input. The
 * forward on F16 tensors: half storage on the test device, half arithmetic on
 * a device with cl_khr_fp16 (skipped without one); mixed types and F16 in the
 * backward ops are refused.
 * Tolerances: forward/backward |got - ref| <= 2e-4 + 2e-4 |ref| (float sums of
 * up to ~1500 products of values in [-1, 1]); gradient checks 1e-3 + 1e-3 |fd|;
 * F16: see fwd_f16_storage and fwd_f16 below. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "inas/runtime.h"
#include "inas/tensor.h"
#include "ops/conv.h"
#include "ref_conv.h"
#include "runtime/internal.h" /* inas_ctx_set_half_math */
#include "testutil.h"

static inas_ctx *ctx;
static void setup(void) { ctx = tu_ctx(); }
static void teardown(void) { inas_ctx_destroy(ctx); }
TestSuite(conv, .init = setup, .fini = teardown);

#define ATOL 2e-4
#define RTOL 2e-4

/* A tensor that is a view inside a larger allocation `big` (or big itself). */
typedef struct dt {
    inas_tensor big, v;
} dt;

/* n x c x h x w of type dtype; with view: channels [2, 2+c) of an
 * n x (c+3) x h x w tensor. */
static void act_alloc(dt *d, inas_dtype dtype, int n, int c, int h, int w, int view) {
    const int dims[4] = {n, c + (view ? 3 : 0), h, w};
    cr_assert_eq(inas_tensor_alloc_as(ctx, &d->big, dtype, 4, dims), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_tensor_fill(ctx, &d->big, 7.0f), INAS_OK);
    if (view)
        cr_assert_eq(inas_tensor_slice_channels(ctx, &d->big, 2, c, &d->v), INAS_OK);
    else
        d->v = d->big;
}

/* co x ci x k x k of type dtype; with view: the first block of a
 * (co+2) x (ci+3) x k x k tensor. */
static void weight_alloc(dt *d, inas_dtype dtype, int co, int ci, int k, int view) {
    const int dims[4] = {co + (view ? 2 : 0), ci + (view ? 3 : 0), k, k};
    cr_assert_eq(inas_tensor_alloc_as(ctx, &d->big, dtype, 4, dims), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_tensor_fill(ctx, &d->big, 7.0f), INAS_OK);
    d->v = d->big;
    d->v.block = NULL;
    d->v.shape[0] = co;
    d->v.shape[1] = ci;
}

static void dt_free(dt *d) { inas_tensor_free(ctx, &d->big); }

static float *rnd(size_t n, uint64_t seed) {
    float *v = malloc(n * sizeof *v);
    tu_rand_floats(v, n, seed, -1.0f, 1.0f);
    return v;
}

static double *dbl(const float *f, size_t n) {
    double *d = malloc(n * sizeof *d);
    tu_to_double(f, d, n);
    return d;
}

/* Every element of d->big outside the view is still 7. */
static void check_outside(dt *d, const char *what) {
    if (d->v.buf == d->big.buf && d->v.offset == d->big.offset && memcmp(d->v.shape, d->big.shape, sizeof d->v.shape) == 0)
        return;
    size_t n = inas_tensor_numel(&d->big);
    float *all = malloc(n * sizeof *all);
    cr_assert_eq(inas_tensor_read(ctx, &d->big, all), INAS_OK);
    char *mark = calloc(n, 1);
    for (int a = 0; a < d->v.shape[0]; a++)
        for (int b = 0; b < d->v.shape[1]; b++)
            for (int c = 0; c < d->v.shape[2]; c++)
                for (int e = 0; e < d->v.shape[3]; e++)
                    mark[d->v.offset - d->big.offset + a * d->v.stride[0] + b * d->v.stride[1] + c * d->v.stride[2] +
                         e * d->v.stride[3]] = 1;
    for (size_t i = 0; i < n; i++)
        if (!mark[i]) cr_assert_eq(all[i], 7.0f, "%s: element %zu outside the view was changed", what, i);
    free(mark);
    free(all);
}

/* Runs forward (bias, act), backward-data, backward-weight (accumulating) and
 * the bias gradient on one shape and compares with the references. */
static void run_case(ref_conv_shape s, int view, inas_gemm_path path, int with_bias, int act, uint64_t seed) {
    const int ho = ref_conv_ho(&s), wo = ref_conv_wo(&s);
    const size_t nx = (size_t)s.n * s.ci * s.h * s.w, nw = (size_t)s.co * s.ci * s.k * s.k,
                 ny = (size_t)s.n * s.co * ho * wo;
    char what[256];
    snprintf(what, sizeof what, "%dx%dx%dx%d -> %d, k%d s%d p%d, view %d, path %d, bias %d, act %d", s.n, s.ci, s.h,
             s.w, s.co, s.k, s.stride, s.pad, view, (int)path, with_bias, act);
    float *hx = rnd(nx, seed), *hw = rnd(nw, seed + 1), *hb = rnd((size_t)s.co, seed + 2), *hdy = rnd(ny, seed + 3);
    float *hdw0 = rnd(nw, seed + 4);
    double *x = dbl(hx, nx), *w = dbl(hw, nw), *b = dbl(hb, (size_t)s.co), *dy = dbl(hdy, ny);
    double *ry = malloc(ny * sizeof *ry), *rdx = malloc(nx * sizeof *rdx), *rdw = malloc(nw * sizeof *rdw);
    dt X, W, Y, DX, DY, DW;
    act_alloc(&X, INAS_DTYPE_F32, s.n, s.ci, s.h, s.w, view);
    act_alloc(&DX, INAS_DTYPE_F32, s.n, s.ci, s.h, s.w, view);
    act_alloc(&Y, INAS_DTYPE_F32, s.n, s.co, ho, wo, view);
    act_alloc(&DY, INAS_DTYPE_F32, s.n, s.co, ho, wo, view);
    weight_alloc(&W, INAS_DTYPE_F32, s.co, s.ci, s.k, view);
    weight_alloc(&DW, INAS_DTYPE_F32, s.co, s.ci, s.k, view);
    inas_tensor B, DB;
    cr_assert_eq(inas_tensor_alloc(ctx, &B, 1, 1, 1, s.co), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &DB, 1, 1, 1, s.co), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &X.v, hx), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &W.v, hw), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &B, hb), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &DY.v, hdy), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &DW.v, hdw0), INAS_OK);
    cr_assert_eq(inas_tensor_fill(ctx, &DB, 0.5f), INAS_OK);

    float *got = malloc((nx > ny ? (nx > nw ? nx : nw) : (ny > nw ? ny : nw)) * sizeof *got);
    char msg[320];
    /* forward */
    cr_assert_eq(inas_op_conv2d_fwd(ctx, &X.v, &W.v, with_bias ? &B : NULL, &Y.v, s.stride, s.pad, act, path), INAS_OK,
                 "%s: %s", what, inas_ctx_last_error(ctx));
    ref_conv_fwd(&s, x, w, with_bias ? b : NULL, act, ry);
    cr_assert_eq(inas_tensor_read(ctx, &Y.v, got), INAS_OK);
    snprintf(msg, sizeof msg, "forward %s", what);
    tu_assert_close(got, ry, ny, ATOL, RTOL, msg);
    check_outside(&Y, msg);
    /* backward-data (overwrites the 7s) */
    cr_assert_eq(inas_op_conv2d_bwd_data(ctx, &DY.v, &W.v, &DX.v, s.stride, s.pad, path), INAS_OK, "%s: %s", what,
                 inas_ctx_last_error(ctx));
    ref_conv_bwd_data(&s, dy, w, rdx);
    cr_assert_eq(inas_tensor_read(ctx, &DX.v, got), INAS_OK);
    snprintf(msg, sizeof msg, "backward-data %s", what);
    tu_assert_close(got, rdx, nx, ATOL, RTOL, msg);
    check_outside(&DX, msg);
    /* backward-weight accumulates onto hdw0 */
    cr_assert_eq(inas_op_conv2d_bwd_weight(ctx, &X.v, &DY.v, &DW.v, s.stride, s.pad, path), INAS_OK, "%s: %s", what,
                 inas_ctx_last_error(ctx));
    ref_conv_bwd_weight(&s, x, dy, rdw);
    for (size_t i = 0; i < nw; i++) rdw[i] += hdw0[i];
    cr_assert_eq(inas_tensor_read(ctx, &DW.v, got), INAS_OK);
    snprintf(msg, sizeof msg, "backward-weight %s", what);
    tu_assert_close(got, rdw, nw, ATOL, RTOL, msg);
    check_outside(&DW, msg);
    /* bias gradient accumulates onto 0.5 */
    cr_assert_eq(inas_op_conv2d_bwd_bias(ctx, &DY.v, &DB), INAS_OK, "%s", inas_ctx_last_error(ctx));
    double *rdb = calloc((size_t)s.co, sizeof *rdb);
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.co; c++)
            for (int p = 0; p < ho * wo; p++) rdb[c] += dy[((size_t)n * s.co + c) * ho * wo + p];
    for (int c = 0; c < s.co; c++) rdb[c] += 0.5;
    cr_assert_eq(inas_tensor_read(ctx, &DB, got), INAS_OK);
    snprintf(msg, sizeof msg, "bias gradient %s", what);
    tu_assert_close(got, rdb, (size_t)s.co, ATOL, RTOL, msg);

    dt_free(&X), dt_free(&W), dt_free(&Y), dt_free(&DX), dt_free(&DY), dt_free(&DW);
    inas_tensor_free(ctx, &B);
    inas_tensor_free(ctx, &DB);
    free(hx), free(hw), free(hb), free(hdy), free(hdw0), free(x), free(w), free(b), free(dy), free(ry), free(rdx);
    free(rdw), free(rdb), free(got);
}

static const ref_conv_shape shapes_1x1[] = {
    {1, 7, 13, 11, 5, 1, 1, 0},   /* odd, P = 143: vector tiles + shifted tail */
    {3, 5, 9, 17, 12, 1, 1, 0},   /* odd */
    {2, 40, 32, 33, 70, 1, 1, 0}, /* row tails (70 = 8*8 + 6), pixel tail */
    {3, 19, 2, 3, 21, 1, 1, 0},   /* < 16 pixels: small-image kernels, M >= 16 */
    {2, 5, 3, 3, 20, 1, 1, 0},    /* small images, C_in < 16 */
    {1, 150, 8, 9, 33, 1, 1, 0},  /* long K */
    {2, 9, 4, 5, 18, 1, 1, 0},    /* 20 pixels: 16-pixel tiles */
};

static void run_1x1(inas_gemm_path path) {
    for (size_t i = 0; i < sizeof shapes_1x1 / sizeof *shapes_1x1; i++)
        run_case(shapes_1x1[i], (int)(i % 2 == 0), path, (int)(i % 2), (int)(i % 3 == 0 ? 3 : i % 3 == 1 ? 0 : 1),
                 100 + i);
    /* the same with the other view setting */
    run_case(shapes_1x1[1], 1, path, 1, 3, 200);
    run_case(shapes_1x1[3], 1, path, 0, 0, 201);
}

Test(conv, conv1x1_own_kernels) { run_1x1(INAS_GEMM_OWN); }

Test(conv, conv1x1_clblast) {
    if (!inas_op_conv_have_clblast()) cr_skip_test("this build has no CLBlast");
    run_1x1(INAS_GEMM_CLBLAST);
}

Test(conv, conv_kxk_direct) {
    const ref_conv_shape s[] = {
        {1, 7, 13, 11, 5, 3, 2, 1},  /* odd, stride 2 */
        {3, 5, 9, 17, 12, 3, 2, 1},  /* odd, stride 2 */
        {2, 3, 33, 32, 40, 3, 2, 1}, /* the stem, 3 -> 40 */
        {2, 4, 7, 9, 6, 3, 1, 1},    /* stride 1 */
        {1, 2, 11, 10, 3, 5, 2, 2},  /* 5x5 stride 2 */
        {2, 3, 5, 4, 9, 1, 2, 0},    /* 1x1 stride 2: direct kernels */
    };
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        run_case(s[i], (int)(i % 2), INAS_GEMM_AUTO, (int)(i % 2 == 0), i == 2 ? 3 : 0, 300 + i);
    run_case(s[2], 1, INAS_GEMM_AUTO, 0, 1, 320);
}

/* ---- finite-difference gradient checks --------------------------------------------------- */

typedef struct fd_user {
    ref_conv_shape s;
    const double *r; /* dL/dy */
} fd_user;

/* L(x, w, b) = sum(conv(x, w) + b) * R), all parameters in one vector. */
static double loss(const double *v, size_t n, void *u) {
    fd_user *f = u;
    const ref_conv_shape *s = &f->s;
    const size_t nx = (size_t)s->n * s->ci * s->h * s->w, nw = (size_t)s->co * s->ci * s->k * s->k;
    const size_t ny = (size_t)s->n * s->co * ref_conv_ho(s) * ref_conv_wo(s);
    (void)n;
    double *y = malloc(ny * sizeof *y);
    ref_conv_fwd(s, v, v + nx, v + nx + nw, 0, y);
    double l = 0;
    for (size_t i = 0; i < ny; i++) l += y[i] * f->r[i];
    free(y);
    return l;
}

static void gradcheck(ref_conv_shape s, inas_gemm_path path) {
    const int ho = ref_conv_ho(&s), wo = ref_conv_wo(&s);
    const size_t nx = (size_t)s.n * s.ci * s.h * s.w, nw = (size_t)s.co * s.ci * s.k * s.k, nb = (size_t)s.co,
                 ny = (size_t)s.n * s.co * ho * wo, nv = nx + nw + nb;
    float *hv = rnd(nv, 11), *hr = rnd(ny, 12);
    double *v = dbl(hv, nv), *r = dbl(hr, ny), *fd = malloc(nv * sizeof *fd);
    fd_user u = {s, r};
    tu_fd_grad(loss, &u, v, nv, 1e-3, fd);
    inas_tensor X, W, DY, DX, DW, DB;
    cr_assert_eq(inas_tensor_alloc(ctx, &X, s.n, s.ci, s.h, s.w), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &DX, s.n, s.ci, s.h, s.w), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &W, s.co, s.ci, s.k, s.k), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &DW, s.co, s.ci, s.k, s.k), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &DY, s.n, s.co, ho, wo), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &DB, 1, 1, 1, s.co), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &X, hv), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &W, hv + nx), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &DY, hr), INAS_OK);
    cr_assert_eq(inas_tensor_fill(ctx, &DW, 0.0f), INAS_OK);
    cr_assert_eq(inas_tensor_fill(ctx, &DB, 0.0f), INAS_OK);
    cr_assert_eq(inas_op_conv2d_bwd_data(ctx, &DY, &W, &DX, s.stride, s.pad, path), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_conv2d_bwd_weight(ctx, &X, &DY, &DW, s.stride, s.pad, path), INAS_OK, "%s",
                 inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_conv2d_bwd_bias(ctx, &DY, &DB), INAS_OK, "%s", inas_ctx_last_error(ctx));
    float *got = malloc(nv * sizeof *got);
    cr_assert_eq(inas_tensor_read(ctx, &DX, got), INAS_OK);
    cr_assert_eq(inas_tensor_read(ctx, &DW, got + nx), INAS_OK);
    cr_assert_eq(inas_tensor_read(ctx, &DB, got + nx + nw), INAS_OK);
    char what[128];
    snprintf(what, sizeof what, "gradient check k%d s%d (x, w, b)", s.k, s.stride);
    tu_assert_close(got, fd, nv, 1e-3, 1e-3, what);
    inas_tensor_free(ctx, &X), inas_tensor_free(ctx, &DX), inas_tensor_free(ctx, &W), inas_tensor_free(ctx, &DW);
    inas_tensor_free(ctx, &DY), inas_tensor_free(ctx, &DB);
    free(hv), free(hr), free(v), free(r), free(fd), free(got);
}

Test(conv, gradcheck_1x1) {
    gradcheck((ref_conv_shape){2, 5, 5, 7, 6, 1, 1, 0}, INAS_GEMM_OWN);
    if (inas_op_conv_have_clblast()) gradcheck((ref_conv_shape){2, 5, 5, 7, 6, 1, 1, 0}, INAS_GEMM_CLBLAST);
}

Test(conv, gradcheck_3x3_stride2) { gradcheck((ref_conv_shape){2, 3, 7, 9, 4, 3, 2, 1}, INAS_GEMM_AUTO); }

/* ---- path selection and bad input -------------------------------------------------------- */

Test(conv, gemm_path_selection) {
    cr_assert_eq(inas_op_conv_gemm_resolve(ctx, INAS_GEMM_OWN), INAS_GEMM_OWN);
    cr_assert_eq(inas_op_conv_gemm_resolve(ctx, INAS_GEMM_CLBLAST), INAS_GEMM_CLBLAST);
    setenv("INAS_GEMM", "own", 1);
    cr_assert_eq(inas_op_conv_gemm_resolve(ctx, INAS_GEMM_AUTO), INAS_GEMM_OWN);
    setenv("INAS_GEMM", "clblast", 1);
    cr_assert_eq(inas_op_conv_gemm_resolve(ctx, INAS_GEMM_AUTO), INAS_GEMM_CLBLAST);
    setenv("INAS_GEMM", "auto", 1);
    inas_gemm_path p = inas_op_conv_gemm_resolve(ctx, INAS_GEMM_AUTO);
    if (inas_ctx_device(ctx)->type == INAS_DEVICE_CPU)
        cr_assert_eq(p, INAS_GEMM_OWN, "CPU devices use the own kernels");
    else
        cr_assert_eq(p, inas_op_conv_have_clblast() ? INAS_GEMM_CLBLAST : INAS_GEMM_OWN);
    unsetenv("INAS_GEMM");
}

static void expect_fail(inas_status got, inas_status want, const char *const *needles) {
    const char *m = inas_ctx_last_error(ctx);
    cr_assert_eq(got, want, "status %d, expected %d: %s", (int)got, (int)want, m);
    for (; *needles; needles++) cr_assert(strstr(m, *needles) != NULL, "message '%s' lacks '%s'", m, *needles);
}

Test(conv, bad_input) {
    inas_tensor x, w, y, w3, b, y2;
    cr_assert_eq(inas_tensor_alloc(ctx, &x, 1, 4, 5, 5), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &w, 8, 3, 1, 1), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &w3, 8, 4, 2, 3), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &y, 1, 8, 5, 5), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &y2, 1, 8, 4, 5), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &b, 1, 1, 1, 7), INAS_OK);
    /* channel mismatch */
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w, NULL, &y, 1, 0, 0, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_fwd", "1x4x5x5", "8x3x1x1", NULL});
    expect_fail(inas_op_conv2d_bwd_data(ctx, &y, &w, &x, 1, 0, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_bwd_data", "1x4x5x5", "8x3x1x1", NULL});
    expect_fail(inas_op_conv2d_bwd_weight(ctx, &x, &y, &w, 1, 0, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_bwd_weight", "1x4x5x5", "8x3x1x1", NULL});
    /* non-square kernel */
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w3, NULL, &y, 1, 0, 0, INAS_GEMM_OWN), INAS_ERR_UNSUPPORTED,
                (const char *[]){"conv2d_fwd", "8x4x2x3", NULL});
    /* wrong output shape */
    inas_tensor w4;
    cr_assert_eq(inas_tensor_alloc(ctx, &w4, 8, 4, 1, 1), INAS_OK);
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w4, NULL, &y2, 1, 0, 0, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_fwd", "1x8x4x5", "1x8x5x5", NULL});
    /* bad stride / pad */
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w4, NULL, &y, 0, 0, 0, INAS_GEMM_OWN), INAS_ERR_UNSUPPORTED,
                (const char *[]){"conv2d_fwd", "stride 0", NULL});
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w4, NULL, &y, 1, 1, 0, INAS_GEMM_OWN), INAS_ERR_UNSUPPORTED,
                (const char *[]){"conv2d_fwd", "pad 1", NULL});
    /* bias of the wrong length */
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w4, &b, &y, 1, 0, 0, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_fwd", "bias", "7", NULL});
    expect_fail(inas_op_conv2d_bwd_bias(ctx, &y, &b), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_bwd_bias", "dbias", NULL});
    /* unknown activation */
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w4, NULL, &y, 1, 0, 9, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_fwd", "activation", NULL});
    /* null tensors and buffers */
    expect_fail(inas_op_conv2d_fwd(ctx, NULL, &w4, NULL, &y, 1, 0, 0, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_fwd", "x", NULL});
    inas_tensor nb = y;
    nb.buf = NULL;
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w4, NULL, &nb, 1, 0, 0, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_fwd", "y", "buffer", NULL});
    /* kernel larger than the padded input */
    inas_tensor xs, w7, ys;
    cr_assert_eq(inas_tensor_alloc(ctx, &xs, 1, 2, 2, 2), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &w7, 3, 2, 7, 7), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &ys, 1, 3, 1, 1), INAS_OK);
    expect_fail(inas_op_conv2d_fwd(ctx, &xs, &w7, NULL, &ys, 1, 1, 0, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_fwd", "1x2x2x2", "7x7", NULL});
    /* the CLBlast path in a build without it */
    if (!inas_op_conv_have_clblast())
        expect_fail(inas_op_conv2d_fwd(ctx, &x, &w4, NULL, &y, 1, 0, 0, INAS_GEMM_CLBLAST), INAS_ERR_UNSUPPORTED,
                    (const char *[]){"conv2d_fwd", "CLBlast", NULL});
    inas_tensor ts[] = {x, w, w3, w4, y, y2, b, xs, w7, ys};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) inas_tensor_free(ctx, &ts[i]);
}

/* ---- F16 forward ------------------------------------------------------------------------- */

/* Unit roundoff of IEEE half: 2^-11 (round to nearest, 11-bit significand). */
#define HALF_U (1.0 / 2048.0)

/* What a forward on F16 tensors is compared with, per output i:
 *   |got - ref| <= atol + rtol |ref| + sums * HALF_U * r_i
 * with r_i = ref_conv_fwd_partial_rms: the size of the products and running
 * sums whose roundings make up the error of a half accumulation. */
typedef struct f16_tol {
    double atol, rtol, sums;
} f16_tol;

typedef struct f16_case {
    ref_conv_shape s;
    int view, bias, act;
} f16_case;

/* Largest |got - ref|, largest fraction of the tolerance used, largest
 * |got - ref| / (HALF_U r_i). */
typedef struct f16_err {
    double abs, of_tol, of_sums;
} f16_err;

/* The values an F16 tensor holds after inas_tensor_write: v rounded to half. */
static void round_to_half(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = inas_float_from_half(inas_half_from_float(v[i]));
}

/* Forward of one case on F16 tensors (inputs, weight, bias rounded to half on
 * the host; the reference in double on those rounded values). */
static f16_err run_fwd_f16(f16_case c, inas_gemm_path path, f16_tol tol, uint64_t seed) {
    const ref_conv_shape s = c.s;
    const int ho = ref_conv_ho(&s), wo = ref_conv_wo(&s);
    const size_t nx = (size_t)s.n * s.ci * s.h * s.w, nw = (size_t)s.co * s.ci * s.k * s.k,
                 ny = (size_t)s.n * s.co * ho * wo;
    char what[256];
    snprintf(what, sizeof what, "F16 forward %dx%dx%dx%d -> %d, k%d s%d p%d, view %d, path %d, bias %d, act %d", s.n,
             s.ci, s.h, s.w, s.co, s.k, s.stride, s.pad, c.view, (int)path, c.bias, c.act);
    float *hx = rnd(nx, seed), *hw = rnd(nw, seed + 1), *hb = rnd((size_t)s.co, seed + 2);
    round_to_half(hx, nx), round_to_half(hw, nw), round_to_half(hb, (size_t)s.co);
    double *x = dbl(hx, nx), *w = dbl(hw, nw), *b = dbl(hb, (size_t)s.co);
    double *ry = malloc(ny * sizeof *ry), *rms = malloc(ny * sizeof *rms);
    dt X, W, Y;
    act_alloc(&X, INAS_DTYPE_F16, s.n, s.ci, s.h, s.w, c.view);
    act_alloc(&Y, INAS_DTYPE_F16, s.n, s.co, ho, wo, c.view);
    weight_alloc(&W, INAS_DTYPE_F16, s.co, s.ci, s.k, c.view);
    inas_tensor B;
    const int bdims[1] = {s.co};
    cr_assert_eq(inas_tensor_alloc_as(ctx, &B, INAS_DTYPE_F16, 1, bdims), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &X.v, hx), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &W.v, hw), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &B, hb), INAS_OK);
    cr_assert_eq(inas_op_conv2d_fwd(ctx, &X.v, &W.v, c.bias ? &B : NULL, &Y.v, s.stride, s.pad, c.act, path), INAS_OK,
                 "%s: %s", what, inas_ctx_last_error(ctx));
    ref_conv_fwd(&s, x, w, c.bias ? b : NULL, c.act, ry);
    ref_conv_fwd_partial_rms(&s, x, w, rms);
    float *got = malloc(ny * sizeof *got);
    cr_assert_eq(inas_tensor_read(ctx, &Y.v, got), INAS_OK);
    f16_err e = {0, 0, 0};
    for (size_t i = 0; i < ny; i++) {
        const double d = fabs((double)got[i] - ry[i]);
        const double t = tol.atol + tol.rtol * fabs(ry[i]) + tol.sums * HALF_U * rms[i];
        cr_assert(d <= t, "%s: element %zu is %.7g, expected %.7g (tolerance %.3g)", what, i, (double)got[i], ry[i], t);
        e.abs = fmax(e.abs, d);
        e.of_tol = fmax(e.of_tol, d / t);
        e.of_sums = fmax(e.of_sums, d / (HALF_U * rms[i] + 1e-30));
    }
    check_outside(&Y, what);
    dt_free(&X), dt_free(&W), dt_free(&Y);
    inas_tensor_free(ctx, &B);
    free(hx), free(hw), free(hb), free(x), free(w), free(b), free(ry), free(rms), free(got);
    return e;
}

/* The forward shapes of the network on F16: the 1x1 GEMM kernel (long K as
 * in the head, row and pixel tails, 16-pixel tiles), the small-image kernel
 * (the SE block's 1x1 convolutions on the pooled vector, a K tail), the
 * direct kernel (the 3x3 stride-2 stem, 3x3 stride 1 with column tails, 5x5
 * stride 2 with Wo < 8). The two main 1x1 shapes run with bias and every
 * activation the network uses (none, ReLU, SiLU, sigmoid, hardsigmoid). */
static const f16_case f16_cases[] = {
    {{2, 40, 12, 13, 70, 1, 1, 0}, 1, 1, 0},   {{2, 40, 12, 13, 70, 1, 1, 0}, 1, 1, 1},
    {{2, 40, 12, 13, 70, 1, 1, 0}, 0, 1, 3},   {{2, 40, 12, 13, 70, 1, 1, 0}, 1, 1, 4},
    {{2, 40, 12, 13, 70, 1, 1, 0}, 0, 1, 5},   {{1, 576, 5, 7, 24, 1, 1, 0}, 1, 0, 3},
    {{2, 9, 4, 5, 18, 1, 1, 0}, 1, 0, 0},      {{3, 19, 2, 3, 21, 1, 1, 0}, 1, 1, 0},
    {{3, 19, 2, 3, 21, 1, 1, 0}, 0, 1, 1},     {{3, 19, 2, 3, 21, 1, 1, 0}, 1, 1, 3},
    {{3, 19, 2, 3, 21, 1, 1, 0}, 0, 1, 4},     {{3, 19, 2, 3, 21, 1, 1, 0}, 1, 1, 5},
    {{2, 96, 1, 1, 24, 1, 1, 0}, 0, 1, 1},     {{2, 24, 1, 1, 96, 1, 1, 0}, 0, 1, 5},
    {{2, 3, 33, 32, 40, 3, 2, 1}, 1, 1, 3},    {{2, 3, 33, 32, 40, 3, 2, 1}, 0, 0, 0},
    {{3, 5, 9, 17, 12, 3, 1, 1}, 1, 1, 1},     {{1, 2, 11, 10, 3, 5, 2, 2}, 1, 1, 4},
};

/* Runs every F16 case and logs the errors. */
static void run_f16_cases(const char *mode, f16_tol tol) {
    f16_err worst = {0, 0, 0};
    for (size_t i = 0; i < sizeof f16_cases / sizeof *f16_cases; i++) {
        const f16_case *c = &f16_cases[i];
        const f16_err e = run_fwd_f16(*c, INAS_GEMM_AUTO, tol, 500 + 10 * i);
        cr_log_info("%s: %dx%dx%dx%d -> %d k%d s%d act %d: max |err| %.3g (%.2f of the tolerance, %.2f u*r)", mode,
                    c->s.n, c->s.ci, c->s.h, c->s.w, c->s.co, c->s.k, c->s.stride, c->act, e.abs, e.of_tol, e.of_sums);
        worst.abs = fmax(worst.abs, e.abs);
        worst.of_tol = fmax(worst.of_tol, e.of_tol);
        worst.of_sums = fmax(worst.of_sums, e.of_sums);
    }
    cr_log_info("%s: largest |err| %.3g, %.2f of the tolerance, %.2f u*r (u = 2^-11)", mode, worst.abs, worst.of_tol,
                worst.of_sums);
}

/* Half storage, float arithmetic: the float result (the float tolerance
 * ATOL/RTOL above) rounded to half once on the store, which adds at most
 * HALF_U |y| (round to nearest; results below 2^-14 are subnormal halves,
 * absolute error <= 2^-25, inside ATOL). */
Test(conv, fwd_f16_storage) {
    const f16_tol tol = {ATOL, RTOL + HALF_U, 0.0};
    run_f16_cases("fp16 storage", tol);
    /* CLBlast SGEMM is float: an F16 1x1 asked to run on it runs the own kernels */
    run_fwd_f16(f16_cases[0], INAS_GEMM_CLBLAST, tol, 700);
    run_fwd_f16(f16_cases[7], INAS_GEMM_CLBLAST, tol, 701);
}

static void setup_fp16(void) { ctx = tu_ctx_fp16(); }
TestSuite(conv_half_math, .init = setup_fp16, .fini = teardown);

/* Half arithmetic: each step of a dot product rounds the product p_k (unless
 * fused) and the running sum s_k to half, errors of at most HALF_U |p_k| and
 * HALF_U |s_k|, zero-mean and independent to first order (each uniform within
 * half an ulp: rms <= HALF_U |v| / sqrt(3)). The accumulated error has rms at
 * most HALF_U r / sqrt(3) with r = sqrt(sum_k s_k^2 + p_k^2) (r_i of
 * ref_conv_fwd_partial_rms, in the kernels' order; the small-image kernel sums
 * 16 shorter partial sums, which r overestimates). For K products of values
 * uniform in [-1, 1], r grows like K / (3 sqrt(2)): the error grows with K
 * times the half unit roundoff. Allowed: 5 HALF_U r (8.7 rms), plus
 * 4 HALF_U |y| + HALF_U for the bias add, the activation in half and the
 * rounding of the stored result. */
Test(conv_half_math, fwd_f16) {
    if (!ctx) cr_skip_test("no OpenCL device with cl_khr_fp16: the F16 forward with half arithmetic was not tested");
    cr_log_info("half math on %s", inas_ctx_device(ctx)->name);
    cr_assert_eq(inas_ctx_set_half_math(ctx, 1, NULL), INAS_OK, "%s", inas_ctx_last_error(ctx));
    run_f16_cases("fp16 math", (f16_tol){HALF_U, 4 * HALF_U, 5.0});
    /* F32 tensors keep float arithmetic while half math is on */
    run_case(shapes_1x1[0], 1, INAS_GEMM_OWN, 1, 3, 702);
}

Test(conv, f16_bad_input) {
    inas_tensor x, w, w32, y, b32, dy;
    const int xd[4] = {1, 4, 5, 5}, wd[4] = {8, 4, 1, 1}, yd[4] = {1, 8, 5, 5}, bd[1] = {8};
    cr_assert_eq(inas_tensor_alloc_as(ctx, &x, INAS_DTYPE_F16, 4, xd), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &w, INAS_DTYPE_F16, 4, wd), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &w32, INAS_DTYPE_F32, 4, wd), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &y, INAS_DTYPE_F16, 4, yd), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &dy, INAS_DTYPE_F16, 4, yd), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &b32, INAS_DTYPE_F32, 1, bd), INAS_OK);
    /* mixed element types */
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w32, NULL, &y, 1, 0, 0, INAS_GEMM_OWN), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_fwd", "mix", "F16", "F32", NULL});
    expect_fail(inas_op_conv2d_fwd(ctx, &x, &w, &b32, &y, 1, 0, 0, INAS_GEMM_AUTO), INAS_ERR_INVALID_ARG,
                (const char *[]){"conv2d_fwd", "mix", NULL});
    /* the backward ops are float only */
    expect_fail(inas_op_conv2d_bwd_data(ctx, &dy, &w, &x, 1, 0, INAS_GEMM_OWN), INAS_ERR_UNSUPPORTED,
                (const char *[]){"conv2d_bwd_data", "F16", "f32 tensors only", NULL});
    expect_fail(inas_op_conv2d_bwd_weight(ctx, &x, &dy, &w, 1, 0, INAS_GEMM_OWN), INAS_ERR_UNSUPPORTED,
                (const char *[]){"conv2d_bwd_weight", "F16", "f32 tensors only", NULL});
    expect_fail(inas_op_conv2d_bwd_bias(ctx, &dy, &b32), INAS_ERR_UNSUPPORTED,
                (const char *[]){"conv2d_bwd_bias", "F16", "f32 tensors only", NULL});
    inas_tensor ts[] = {x, w, w32, y, b32, dy};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) inas_tensor_free(ctx, &ts[i]);
}
