/* test_ops_dwconv.c - the dwconv family against the double references of
 * support/ref_dwconv.c: depthwise forward (bias, activations), backward-data
 * (overwrite), backward-weight (accumulate into the crop only), on odd shapes,
 * strides 1 and 2, dilations 1 and 2, kernels 3/5/7/9, with channel views of
 * the activations and centre crops of a larger weight; finite-difference
 * gradient checks of every backward; the SMSU transform forward and backward;
 * the forward on F16 tensors (half storage, and half arithmetic on a device
 * with cl_khr_fp16; their tolerances are explained at check_f16); bad-input
 * errors naming the op and the shapes, mixed element types and F16 tensors
 * given to the float-only ops.
 *
 * Tolerances: float32 sums of at most 81 products of values in [-1, 1] against
 * double: atol 2e-5 + rtol 1e-4 for convolutions; backward-weight sums up to
 * N*H*W*... products: atol 1e-4 + rtol 1e-4 (relative to the magnitude of
 * the sums, which stay below ~30 in these tests). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "inas/runtime.h"
#include "inas/tensor.h"
#include "ops/dwconv.h"
#include "ref_dwconv.h"
#include "runtime/internal.h" /* inas_ctx_set_half_math */
#include "testutil.h"

static inas_ctx *ctx;
static void setup(void) { ctx = tu_ctx(); }
static void teardown(void) { inas_ctx_destroy(ctx); }
TestSuite(ops_dwconv, .init = setup, .fini = teardown);

/* A tensor of n x ctot x h x w filled with random values, and a view of
 * channels [c0, c0 + c). */
typedef struct vt {
    inas_tensor base, view;
    float *host; /* dense copy of base (the values it holds: rounded to half for F16) */
} vt;

static void vt_make_as(vt *t, inas_dtype dtype, int n, int c, int h, int w, int c0, int extra, uint64_t seed) {
    int ctot = c0 + c + extra;
    const int dims[4] = {n, ctot, h, w};
    cr_assert_eq(inas_tensor_alloc_as(ctx, &t->base, dtype, 4, dims), INAS_OK);
    size_t numel = (size_t)n * ctot * h * w;
    t->host = malloc(numel * sizeof(float));
    tu_rand_floats(t->host, numel, seed, -1, 1);
    if (dtype == INAS_DTYPE_F16)
        for (size_t i = 0; i < numel; i++) t->host[i] = inas_float_from_half(inas_half_from_float(t->host[i]));
    cr_assert_eq(inas_tensor_write(ctx, &t->base, t->host), INAS_OK);
    if (c0 == 0 && extra == 0) t->view = t->base;
    else cr_assert_eq(inas_tensor_slice_channels(ctx, &t->base, c0, c, &t->view), INAS_OK);
}
static void vt_make(vt *t, int n, int c, int h, int w, int c0, int extra, uint64_t seed) {
    vt_make_as(t, INAS_DTYPE_F32, n, c, h, w, c0, extra, seed);
}
static void vt_free(vt *t) {
    inas_tensor_free(ctx, &t->base);
    free(t->host);
}
/* The view's values (dense) as doubles. */
static double *vt_view_double(const vt *t) {
    int n = t->view.shape[0], c = t->view.shape[1], hw = t->view.shape[2] * t->view.shape[3];
    int ctot = t->base.shape[1], c0 = (int)((t->view.offset - t->base.offset) / (size_t)hw);
    double *d = malloc((size_t)n * c * hw * sizeof *d);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < c; j++)
            for (int p = 0; p < hw; p++) d[((size_t)i * c + j) * hw + p] = t->host[((size_t)i * ctot + c0 + j) * hw + p];
    return d;
}
/* Reads the base back; checks the channels outside the view are unchanged and
 * returns the view's values (dense floats). */
static float *vt_read_view(const vt *t, const char *what) {
    size_t numel = inas_tensor_numel(&t->base);
    float *all = malloc(numel * sizeof *all);
    cr_assert_eq(inas_tensor_read(ctx, &t->base, all), INAS_OK);
    int n = t->view.shape[0], c = t->view.shape[1], hw = t->view.shape[2] * t->view.shape[3];
    int ctot = t->base.shape[1], c0 = (int)((t->view.offset - t->base.offset) / (size_t)hw);
    float *v = malloc((size_t)n * c * hw * sizeof *v);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ctot; j++)
            for (int p = 0; p < hw; p++) {
                size_t a = ((size_t)i * ctot + j) * hw + p;
                if (j >= c0 && j < c0 + c) v[((size_t)i * c + j - c0) * hw + p] = all[a];
                else cr_assert_eq(all[a], t->host[a], "%s: channel %d outside the view changed", what, j);
            }
    free(all);
    return v;
}

/* Weight [cw, 1, kw, kw] random; dense crop [c][k][k] of the first c channels. */
static double *crop_of(const float *wfull, int kw, int c, int k) {
    int o = (kw - k) / 2;
    double *d = malloc((size_t)c * k * k * sizeof *d);
    for (int j = 0; j < c; j++)
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) d[((size_t)j * k + a) * k + b] = wfull[((size_t)j * kw + o + a) * kw + o + b];
    return d;
}

typedef struct dw_case {
    int n, c, h, w, k, s, d;
    int view;   /* activations as channel views */
    int kextra; /* weight is a centre crop of a (k + kextra) kernel with more channels */
} dw_case;

static void check_case(const dw_case *cs) {
    int N = cs->n, C = cs->c, H = cs->h, W = cs->w, k = cs->k, s = cs->s, d = cs->d;
    int Ho = inas_dwconv_out_size(H, k, s, d), Wo = inas_dwconv_out_size(W, k, s, d);
    cr_assert_eq(Ho, ref_dw_out(H, k, s, d));
    char what[160];
    snprintf(what, sizeof what, "%dx%dx%dx%d k%d s%d d%d view %d crop %d", N, C, H, W, k, s, d, cs->view,
             cs->kextra);
    int c0 = cs->view ? 2 : 0, ex = cs->view ? 1 : 0;
    int kw = k + cs->kextra, cw = C + (cs->kextra ? 3 : 0);
    vt x, y, dy, dx, w, dwt;
    vt_make(&x, N, C, H, W, c0, ex, 11);
    vt_make(&y, N, C, Ho, Wo, c0 + 1, ex, 12);
    vt_make(&dy, N, C, Ho, Wo, c0, ex + 1, 13);
    vt_make(&dx, N, C, H, W, c0, ex, 14);
    vt_make(&w, cw, 1, kw, kw, 0, 0, 15);
    vt_make(&dwt, cw, 1, kw, kw, 0, 0, 16);
    double *xd = vt_view_double(&x), *dyd = vt_view_double(&dy), *wc = crop_of(w.host, kw, C, k);
    size_t ny = (size_t)N * C * Ho * Wo, nx = (size_t)N * C * H * W;
    double *want = malloc((nx > ny ? nx : ny) * sizeof *want);

    /* forward */
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x.view, &w.view, k, s, d, NULL, 0, &y.view), INAS_OK, "%s: %s", what,
                 inas_ctx_last_error(ctx));
    ref_dwconv_fwd(xd, N, C, H, W, wc, k, s, d, NULL, 0, want);
    float *got = vt_read_view(&y, what);
    char w2[200];
    snprintf(w2, sizeof w2, "dwconv_fwd %s", what);
    tu_assert_close(got, want, ny, 2e-5, 1e-4, w2);
    free(got);

    /* backward-data (overwrites: dx starts random) */
    cr_assert_eq(inas_op_dwconv_bwd_data(ctx, &dy.view, &w.view, k, s, d, &dx.view), INAS_OK, "%s: %s", what,
                 inas_ctx_last_error(ctx));
    ref_dwconv_bwd_data(dyd, N, C, H, W, wc, k, s, d, want);
    got = vt_read_view(&dx, what);
    snprintf(w2, sizeof w2, "dwconv_bwd_data %s", what);
    tu_assert_close(got, want, nx, 2e-5, 1e-4, w2);
    free(got);

    /* backward-weight accumulates into the crop only */
    cr_assert_eq(inas_op_dwconv_bwd_weight(ctx, &x.view, &dy.view, k, s, d, &dwt.view), INAS_OK, "%s: %s", what,
                 inas_ctx_last_error(ctx));
    size_t nw = (size_t)cw * kw * kw;
    float *gw = malloc(nw * sizeof *gw);
    cr_assert_eq(inas_tensor_read(ctx, &dwt.view, gw), INAS_OK);
    double *ww = malloc(nw * sizeof *ww);
    tu_to_double(dwt.host, ww, nw);
    double *g = calloc((size_t)C * k * k, sizeof *g);
    ref_dwconv_bwd_weight(xd, dyd, N, C, H, W, k, s, d, g);
    int o = (kw - k) / 2;
    for (int j = 0; j < C; j++)
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) ww[((size_t)j * kw + o + a) * kw + o + b] += g[((size_t)j * k + a) * k + b];
    snprintf(w2, sizeof w2, "dwconv_bwd_weight %s", what);
    tu_assert_close(gw, ww, nw, 1e-4, 1e-4, w2);
    for (size_t i = 0; i < nw; i++)
        if (ww[i] == (double)dwt.host[i]) cr_assert_eq(gw[i], dwt.host[i], "%s: outside the crop changed", w2);

    free(g);
    free(ww);
    free(gw);
    free(want);
    free(xd);
    free(dyd);
    free(wc);
    vt_free(&x);
    vt_free(&y);
    vt_free(&dy);
    vt_free(&dx);
    vt_free(&w);
    vt_free(&dwt);
}

/* Kernel k with the (stride, dilation) pairs whose bit (s-1)*2 + (d-1) is in
 * `combos` (each pair is one kernel build: k3 and k9 take all four, k5 and k7
 * two each, so that every pair is still tested at two kernel sizes). */
static void check_kernel(int k, int combos) {
    /* odd shapes; views and crops alternate; all widths >= 8 so one program per (k, s, d) */
    static const int shapes[][4] = {{1, 7, 13, 15}, {3, 5, 9, 17}, {2, 3, 21, 40}};
    for (int s = 1; s <= 2; s++)
        for (int d = 1; d <= 2; d++)
            for (int i = 0; i < 3; i++) {
                if (!(combos >> ((s - 1) * 2 + d - 1) & 1)) continue;
                dw_case cs = {shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], k, s, d, (i + s) % 2,
                              ((i + d) % 2) * 2};
                check_case(&cs);
            }
}

Test(ops_dwconv, k3_strides_1_2_dilations_1_2) { check_kernel(3, 0xf); }
Test(ops_dwconv, k5_s1d1_s2d2) { check_kernel(5, 0x9); }
Test(ops_dwconv, k7_s1d2_s2d1) { check_kernel(7, 0x6); }
Test(ops_dwconv, k9_stride1_dilations_1_2) { check_kernel(9, 0x3); }
Test(ops_dwconv, k9_stride2_dilations_1_2) { check_kernel(9, 0xc); }

Test(ops_dwconv, small_and_degenerate_shapes) {
    /* planes smaller than the kernel, single rows/columns, many planes */
    /* (three kernel builds: 4-wide vectors for k3 s1 d1, k9 s1 d1, k9 s2 d1) */
    static const dw_case cases[] = {{2, 3, 1, 1, 3, 1, 1, 0, 0}, {1, 2, 2, 5, 9, 2, 1, 1, 0}, {1, 4, 5, 1, 3, 1, 1, 0, 2},
                                    {2, 33, 4, 4, 9, 1, 1, 1, 0}, {1, 2, 3, 2, 9, 2, 1, 0, 0}, {1, 3, 7, 3, 3, 1, 1, 1, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_case(&cases[i]);
}

Test(ops_dwconv, forward_bias_and_activations) {
    const int N = 2, C = 5, H = 9, W = 19, k = 3;
    vt x, y, w, b;
    vt_make(&x, N, C, H, W, 1, 1, 21);
    vt_make(&y, N, C, H, W, 0, 0, 22);
    vt_make(&w, C, 1, k, k, 0, 0, 23);
    vt_make(&b, 1, 1, 1, C + 2, 0, 0, 24);
    double *xd = vt_view_double(&x), *wc = crop_of(w.host, k, C, k), bd[7];
    tu_to_double(b.host, bd, (size_t)C);
    size_t ny = (size_t)N * C * H * W;
    double *want = malloc(ny * sizeof *want);
    float *got = malloc(ny * sizeof *got);
    for (int act = 0; act <= 5; act++)
        for (int s = 1; s <= 2; s++) {
            int Ho = inas_dwconv_out_size(H, k, s, 1), Wo = inas_dwconv_out_size(W, k, s, 1);
            inas_tensor yv = y.base;
            yv.shape[2] = Ho;
            yv.shape[3] = Wo;
            yv.stride[2] = (size_t)Wo;
            yv.stride[1] = (size_t)Ho * Wo;
            yv.stride[0] = (size_t)C * Ho * Wo;
            cr_assert_eq(inas_op_dwconv_fwd(ctx, &x.view, &w.view, k, s, 1, &b.view, act, &yv), INAS_OK, "%s",
                         inas_ctx_last_error(ctx));
            cr_assert_eq(inas_tensor_read(ctx, &yv, got), INAS_OK);
            ref_dwconv_fwd(xd, N, C, H, W, wc, k, s, 1, bd, act, want);
            char what[64];
            snprintf(what, sizeof what, "dwconv_fwd bias act %d stride %d", act, s);
            tu_assert_close(got, want, (size_t)N * C * Ho * Wo, 2e-5, 1e-4, what);
        }
    free(want);
    free(got);
    free(xd);
    free(wc);
    vt_free(&x);
    vt_free(&y);
    vt_free(&w);
    vt_free(&b);
}

/* ---- finite-difference gradient checks ---------------------------------------------- */

typedef struct fd_ctx {
    int n, c, h, w, k, s, d;
    const double *x, *wt, *r; /* the fixed operands and the loss weights R */
    double *y;
} fd_ctx;

/* sum(conv(x, w) * R) as a function of x. */
static double loss_of_x(const double *x, size_t n, void *u) {
    (void)n;
    fd_ctx *f = u;
    ref_dwconv_fwd(x, f->n, f->c, f->h, f->w, f->wt, f->k, f->s, f->d, NULL, 0, f->y);
    size_t ny = (size_t)f->n * f->c * ref_dw_out(f->h, f->k, f->s, f->d) * ref_dw_out(f->w, f->k, f->s, f->d);
    double l = 0;
    for (size_t i = 0; i < ny; i++) l += f->y[i] * f->r[i];
    return l;
}
/* The same as a function of the weight. */
static double loss_of_w(const double *w, size_t n, void *u) {
    (void)n;
    fd_ctx *f = u;
    ref_dwconv_fwd(f->x, f->n, f->c, f->h, f->w, w, f->k, f->s, f->d, NULL, 0, f->y);
    size_t ny = (size_t)f->n * f->c * ref_dw_out(f->h, f->k, f->s, f->d) * ref_dw_out(f->w, f->k, f->s, f->d);
    double l = 0;
    for (size_t i = 0; i < ny; i++) l += f->y[i] * f->r[i];
    return l;
}

static void gradcheck(int N, int C, int H, int W, int k, int s, int d) {
    int Ho = inas_dwconv_out_size(H, k, s, d), Wo = inas_dwconv_out_size(W, k, s, d);
    vt x, r, dx, w, dw;
    vt_make(&x, N, C, H, W, 0, 0, 31);
    vt_make(&r, N, C, Ho, Wo, 1, 0, 32);
    vt_make(&dx, N, C, H, W, 0, 1, 33);
    vt_make(&w, C, 1, k, k, 0, 0, 34);
    vt_make(&dw, C, 1, k, k, 0, 0, 35);
    cr_assert_eq(inas_tensor_fill(ctx, &dw.view, 0.0f), INAS_OK);
    double *xd = vt_view_double(&x), *rd = vt_view_double(&r), *wd = crop_of(w.host, k, C, k);
    size_t nx = (size_t)N * C * H * W, nw = (size_t)C * k * k;
    double *y = malloc((size_t)N * C * Ho * Wo * sizeof *y), *gx = malloc(nx * sizeof *gx), *gw = malloc(nw * sizeof *gw);
    fd_ctx f = {N, C, H, W, k, s, d, xd, wd, rd, y};
    tu_fd_grad(loss_of_x, &f, xd, nx, 1e-3, gx);
    tu_fd_grad(loss_of_w, &f, wd, nw, 1e-3, gw);
    cr_assert_eq(inas_op_dwconv_bwd_data(ctx, &r.view, &w.view, k, s, d, &dx.view), INAS_OK, "%s",
                 inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_dwconv_bwd_weight(ctx, &x.view, &r.view, k, s, d, &dw.view), INAS_OK, "%s",
                 inas_ctx_last_error(ctx));
    float *got = vt_read_view(&dx, "gradcheck dx");
    char what[96];
    snprintf(what, sizeof what, "fd dx %dx%dx%dx%d k%d s%d d%d", N, C, H, W, k, s, d);
    tu_assert_close(got, gx, nx, 1e-4, 1e-4, what);
    free(got);
    got = malloc(nw * sizeof *got);
    cr_assert_eq(inas_tensor_read(ctx, &dw.view, got), INAS_OK);
    snprintf(what, sizeof what, "fd dw %dx%dx%dx%d k%d s%d d%d", N, C, H, W, k, s, d);
    tu_assert_close(got, gw, nw, 1e-4, 1e-4, what);
    free(got);
    free(y);
    free(gx);
    free(gw);
    free(xd);
    free(rd);
    free(wd);
    vt_free(&x);
    vt_free(&r);
    vt_free(&dx);
    vt_free(&w);
    vt_free(&dw);
}

Test(ops_dwconv, gradcheck_stride1) {
    gradcheck(2, 3, 7, 9, 3, 1, 1);
    gradcheck(1, 2, 9, 11, 5, 1, 1);
}
Test(ops_dwconv, gradcheck_stride2) {
    gradcheck(2, 3, 7, 9, 3, 2, 1);
    gradcheck(1, 2, 11, 10, 7, 2, 1);
    gradcheck(1, 2, 9, 9, 3, 2, 2);
}

/* ---- SMSU transform -------------------------------------------------------------------- */

typedef struct smsu_fd {
    int c, k;
    const double *w, *m, *r;
    double *wt;
} smsu_fd;
static double smsu_loss(const smsu_fd *f, const double *w, const double *m) {
    ref_smsu_fwd(w, m, f->c, f->k, f->wt);
    double l = 0;
    for (size_t i = 0; i < (size_t)f->c * f->k * f->k; i++) l += f->wt[i] * f->r[i];
    return l;
}
static double smsu_loss_w(const double *w, size_t n, void *u) {
    (void)n;
    smsu_fd *f = u;
    return smsu_loss(f, w, f->m);
}
static double smsu_loss_m(const double *m, size_t n, void *u) {
    (void)n;
    smsu_fd *f = u;
    return smsu_loss(f, f->w, m);
}

static void check_smsu(int C, int k, int kmax, int cmax) {
    int k2 = k * k;
    vt w, m, wt, dwt, dm, dw;
    vt_make(&w, cmax, 1, kmax, kmax, 0, 0, 41);
    vt_make(&m, 1, 1, k2, k2, 0, 0, 42);
    vt_make(&wt, C, 1, k, k, 0, 0, 43);
    vt_make(&dwt, C, 1, k, k, 0, 0, 44);
    vt_make(&dm, 1, 1, k2, k2, 0, 0, 45);
    vt_make(&dw, cmax, 1, kmax, kmax, 0, 0, 46);
    double *wc = crop_of(w.host, kmax, C, k), *md = malloc((size_t)k2 * k2 * sizeof *md);
    tu_to_double(m.host, md, (size_t)k2 * k2);
    double *want = malloc((size_t)C * k2 * sizeof *want), *rd = malloc((size_t)C * k2 * sizeof *rd);
    tu_to_double(dwt.host, rd, (size_t)C * k2);
    char what[96];
    snprintf(what, sizeof what, "smsu C %d k %d of %dx1x%dx%d", C, k, cmax, kmax, kmax);

    cr_assert_eq(inas_op_smsu_fwd(ctx, &w.view, k, &m.view, &wt.view), INAS_OK, "%s", inas_ctx_last_error(ctx));
    float *got = malloc((size_t)(k2 * k2 > cmax * kmax * kmax ? k2 * k2 : cmax * kmax * kmax) * sizeof *got);
    cr_assert_eq(inas_tensor_read(ctx, &wt.view, got), INAS_OK);
    ref_smsu_fwd(wc, md, C, k, want);
    tu_assert_close(got, want, (size_t)C * k2, 2e-5, 1e-4, what);

    /* backward against finite differences of sum(wt * R), accumulated onto the initial values */
    cr_assert_eq(inas_op_smsu_bwd(ctx, &w.view, k, &m.view, &dwt.view, &dm.view, &dw.view), INAS_OK, "%s",
                 inas_ctx_last_error(ctx));
    smsu_fd f = {C, k, wc, md, rd, want};
    double *gm = malloc((size_t)k2 * k2 * sizeof *gm), *gw = malloc((size_t)C * k2 * sizeof *gw);
    tu_fd_grad(smsu_loss_m, &f, md, (size_t)k2 * k2, 1e-3, gm);
    tu_fd_grad(smsu_loss_w, &f, wc, (size_t)C * k2, 1e-3, gw);
    for (int i = 0; i < k2 * k2; i++) gm[i] += dm.host[i];
    cr_assert_eq(inas_tensor_read(ctx, &dm.view, got), INAS_OK);
    tu_assert_close(got, gm, (size_t)k2 * k2, 1e-4, 1e-4, "smsu dm");
    size_t nw = (size_t)cmax * kmax * kmax;
    double *ww = malloc(nw * sizeof *ww);
    tu_to_double(dw.host, ww, nw);
    int o = (kmax - k) / 2;
    for (int c = 0; c < C; c++)
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) ww[((size_t)c * kmax + o + a) * kmax + o + b] += gw[((size_t)c * k + a) * k + b];
    cr_assert_eq(inas_tensor_read(ctx, &dw.view, got), INAS_OK);
    tu_assert_close(got, ww, nw, 1e-4, 1e-4, "smsu dw (crop accumulated, rest unchanged)");

    /* identity M gives the plain crop */
    float *eye = calloc((size_t)k2 * k2, sizeof *eye);
    for (int i = 0; i < k2; i++) eye[i * k2 + i] = 1;
    cr_assert_eq(inas_tensor_write(ctx, &m.view, eye), INAS_OK);
    cr_assert_eq(inas_op_smsu_fwd(ctx, &w.view, k, &m.view, &wt.view), INAS_OK);
    cr_assert_eq(inas_tensor_read(ctx, &wt.view, got), INAS_OK);
    for (int i = 0; i < C * k2; i++) cr_assert_eq((double)got[i], wc[i], "identity M: element %d", i);

    free(eye);
    free(ww);
    free(gm);
    free(gw);
    free(got);
    free(want);
    free(rd);
    free(md);
    free(wc);
    vt_free(&w);
    vt_free(&m);
    vt_free(&wt);
    vt_free(&dwt);
    vt_free(&dm);
    vt_free(&dw);
}

Test(ops_dwconv, smsu_transform) {
    check_smsu(5, 3, 9, 7);
    check_smsu(3, 7, 9, 3);
    check_smsu(2, 9, 9, 4);
}

/* ---- F16 tensors ----------------------------------------------------------------------- */

/* Tolerances of the F16 forward, per output y, against the double reference
 * on the half-rounded inputs. B is ref_dwconv_fwd_bound: |bias| + sum |w x| +
 * sum |partial sums|, at most (K*K + 1) * (|bias| + sum |w x|), such that the
 * sum computed with unit roundoff u (one rounding per product and per
 * addition, in the reference's order, which is the kernel's) is within u * B
 * of the exact one; through the activation (slope at most 1.1: SiLU) that is
 * 1.1 u B.
 *  - half storage, float arithmetic: the float sums (u = 2^-24), a few float
 *    ulps of the activation, and the rounding of y to half: 2^-11 |y| for
 *    normal values, at most 2^-25 absolute for subnormal ones;
 *  - half arithmetic: the sums in half (u = 2^-11; the kernel's mad may round
 *    the product and the sum separately, both counted; B holds K*K terms and
 *    K*K partial sums, so the tolerance grows with K*K), and the half
 *    activation (exp, 1 + e, the division and the product: within 8 half ulps
 *    of y; no separate output rounding).
 * B is a first-order worst case: the tests print the largest error seen and
 * its share of the tolerance. */
typedef struct f16_tol {
    const char *name;
    double u, rel, abs; /* tolerance 1.1 u B + rel |y| + abs */
} f16_tol;
static const f16_tol tol_storage = {"fp16-storage", 0x1p-24, 0x1p-11 + 0x1p-20, 0x1p-24};
static const f16_tol tol_half_math = {"fp16", 0x1p-11, 8 * 0x1p-11, 0x1p-23};

typedef struct f16_case {
    int n, c, h, w, k, s;
    int view; /* x and y channel views, w a centre crop of a [C+3, 1, k+2, k+2] weight */
    int bias; /* bias (at offset 1 of its buffer) */
    int act;
} f16_case;

/* Odd sizes, kernels 3..9, strides 1 and 2; views with bias and SiLU (every
 * activation for k3), plain tensors without (their last segments take the
 * scalar path at the end of the buffer); one plane narrower than 8 outputs
 * (4-wide vectors). */
static const f16_case f16_cases[] = {
    /* n, c, h, w, k, s, view, bias, act (3: SiLU) */
    {1, 7, 13, 15, 3, 1, 1, 1, 3}, {2, 5, 11, 17, 3, 1, 0, 0, 0}, {1, 7, 13, 15, 3, 1, 1, 1, 1},
    {1, 7, 13, 15, 3, 1, 1, 1, 2}, {1, 7, 13, 15, 3, 1, 1, 1, 4}, {1, 7, 13, 15, 3, 1, 1, 1, 5},
    {2, 5, 11, 17, 3, 2, 1, 1, 3}, {1, 3, 21, 41, 3, 2, 0, 0, 0}, {1, 4, 5, 7, 3, 2, 1, 1, 3},
    {2, 5, 11, 17, 5, 1, 1, 1, 3}, {1, 3, 21, 41, 5, 1, 0, 0, 0},
    {1, 3, 21, 41, 5, 2, 1, 1, 3}, {1, 7, 13, 15, 5, 2, 0, 0, 0},
    {1, 3, 21, 41, 7, 1, 1, 1, 3}, {1, 7, 13, 15, 7, 1, 0, 0, 0},
    {1, 7, 13, 15, 7, 2, 1, 1, 3}, {2, 5, 11, 17, 7, 2, 0, 0, 0},
    {1, 7, 13, 15, 9, 1, 1, 1, 3}, {2, 5, 11, 17, 9, 1, 0, 0, 0},
    {2, 5, 11, 17, 9, 2, 1, 1, 3}, {1, 3, 21, 41, 9, 2, 0, 0, 0},
};

/* Runs one case on F16 tensors; raises *max_err and *max_share (error /
 * tolerance). */
static void check_f16_case(const f16_case *cs, const f16_tol *tol, double *max_err, double *max_share) {
    int N = cs->n, C = cs->c, H = cs->h, W = cs->w, k = cs->k, s = cs->s;
    int Ho = inas_dwconv_out_size(H, k, s, 1), Wo = inas_dwconv_out_size(W, k, s, 1);
    int c0 = cs->view ? 2 : 0, ex = cs->view ? 1 : 0, kw = k + (cs->view ? 2 : 0), cw = C + (cs->view ? 3 : 0);
    char what[160];
    snprintf(what, sizeof what, "dwconv_fwd %s %dx%dx%dx%d k%d s%d view %d bias %d act %d", tol->name, N, C, H, W, k,
             s, cs->view, cs->bias, cs->act);
    vt x, y, w, b;
    vt_make_as(&x, INAS_DTYPE_F16, N, C, H, W, c0, ex, 51);
    vt_make_as(&y, INAS_DTYPE_F16, N, C, Ho, Wo, c0 + 1, ex, 52);
    vt_make_as(&w, INAS_DTYPE_F16, cw, 1, kw, kw, 0, 0, 53);
    vt_make_as(&b, INAS_DTYPE_F16, 1, C, 1, 1, 1, 1, 54);
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x.view, &w.view, k, s, 1, cs->bias ? &b.view : NULL, cs->act, &y.view),
                 INAS_OK, "%s: %s", what, inas_ctx_last_error(ctx));
    float *got = vt_read_view(&y, what);
    double *xd = vt_view_double(&x), *wc = crop_of(w.host, kw, C, k), *bd = vt_view_double(&b);
    size_t ny = (size_t)N * C * Ho * Wo;
    double *want = malloc(ny * sizeof *want), *bound = malloc(ny * sizeof *bound);
    ref_dwconv_fwd(xd, N, C, H, W, wc, k, s, 1, cs->bias ? bd : NULL, cs->act, want);
    ref_dwconv_fwd_bound(xd, N, C, H, W, wc, k, s, 1, cs->bias ? bd : NULL, bound);
    for (size_t i = 0; i < ny; i++) {
        double err = fabs(got[i] - want[i]), t = 1.1 * tol->u * bound[i] + tol->rel * fabs(want[i]) + tol->abs;
        cr_assert(err <= t, "%s: element %zu is %.8g, expected %.8g (error %.3g > tolerance %.3g)", what, i,
                  (double)got[i], want[i], err, t);
        if (err > *max_err) *max_err = err;
        if (err / t > *max_share) *max_share = err / t;
    }
    free(want);
    free(bound);
    free(got);
    free(xd);
    free(wc);
    free(bd);
    vt_free(&x);
    vt_free(&y);
    vt_free(&w);
    vt_free(&b);
}

/* The cases with kernel sizes in [k_lo, k_hi]; logs the largest error. */
static void check_f16(const f16_tol *tol, int k_lo, int k_hi) {
    double max_err = 0, max_share = 0;
    for (size_t i = 0; i < sizeof f16_cases / sizeof *f16_cases; i++)
        if (f16_cases[i].k >= k_lo && f16_cases[i].k <= k_hi) check_f16_case(&f16_cases[i], tol, &max_err, &max_share);
    cr_log_info("dwconv_fwd %s k%d..k%d: max |error| %.3g (%.0f%% of its tolerance)", tol->name, k_lo, k_hi, max_err,
                100 * max_share);
}

Test(ops_dwconv, f16_storage_k3_k5) { check_f16(&tol_storage, 3, 5); }
Test(ops_dwconv, f16_storage_k7_k9) { check_f16(&tol_storage, 7, 9); }

/* Half arithmetic runs on a device with cl_khr_fp16, which the suite's
 * device may not be: the test swaps the suite's context for one there (fini
 * destroys it). */
static void check_f16_half_math(int k_lo, int k_hi) {
    inas_ctx *h = tu_ctx_fp16();
    if (!h) cr_skip_test("no OpenCL device with cl_khr_fp16: dwconv_fwd in half arithmetic (k%d..k%d) not tested", k_lo,
                         k_hi);
    inas_ctx_destroy(ctx);
    ctx = h;
    cr_assert_eq(inas_ctx_set_half_math(ctx, 1, NULL), INAS_OK, "%s", inas_ctx_last_error(ctx));
    check_f16(&tol_half_math, k_lo, k_hi);
}
Test(ops_dwconv, f16_half_math_k3_k5) { check_f16_half_math(3, 5); }
Test(ops_dwconv, f16_half_math_k7_k9) { check_f16_half_math(7, 9); }

/* Operands of one call share a type; the backward ops and SMSU take f32 only,
 * and say which tensor is not. */
Test(ops_dwconv, f16_type_errors) {
    inas_tensor x16, y16, w16, b16, x32, y32, w32, b32;
    const int dx[4] = {1, 4, 9, 9}, dw[4] = {4, 1, 3, 3}, db[1] = {4};
    cr_assert_eq(inas_tensor_alloc_as(ctx, &x16, INAS_DTYPE_F16, 4, dx), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &y16, INAS_DTYPE_F16, 4, dx), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &w16, INAS_DTYPE_F16, 4, dw), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &b16, INAS_DTYPE_F16, 1, db), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &x32, INAS_DTYPE_F32, 4, dx), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &y32, INAS_DTYPE_F32, 4, dx), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &w32, INAS_DTYPE_F32, 4, dw), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &b32, INAS_DTYPE_F32, 1, db), INAS_OK);
    const char *e;
    /* mixed types in the forward: each operand in turn */
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x16, &w32, 3, 1, 1, NULL, 0, &y16), INAS_ERR_INVALID_ARG);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "dwconv_fwd") && strstr(e, "F16") && strstr(e, "F32"), "message: %s", e);
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x16, &w16, 3, 1, 1, &b32, 3, &y16), INAS_ERR_INVALID_ARG, "%s",
                 inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x16, &w16, 3, 1, 1, &b16, 3, &y32), INAS_ERR_INVALID_ARG, "%s",
                 inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x32, &w16, 3, 1, 1, NULL, 0, &y32), INAS_ERR_INVALID_ARG, "%s",
                 inas_ctx_last_error(ctx));
    /* all F16 is fine */
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x16, &w16, 3, 1, 1, &b16, 3, &y16), INAS_OK, "%s", inas_ctx_last_error(ctx));
    /* the float-only ops name the F16 tensor */
    cr_assert_eq(inas_op_dwconv_bwd_data(ctx, &y16, &w32, 3, 1, 1, &x32), INAS_ERR_UNSUPPORTED);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "dwconv_bwd_data") && strstr(e, "dy is F16"), "message: %s", e);
    cr_assert_eq(inas_op_dwconv_bwd_data(ctx, &y32, &w16, 3, 1, 1, &x32), INAS_ERR_UNSUPPORTED);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "dwconv_bwd_data") && strstr(e, "w is F16"), "message: %s", e);
    cr_assert_eq(inas_op_dwconv_bwd_data(ctx, &y32, &w32, 3, 1, 1, &x16), INAS_ERR_UNSUPPORTED);
    cr_assert(strstr(inas_ctx_last_error(ctx), "dx is F16"), "message: %s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_dwconv_bwd_weight(ctx, &x16, &y32, 3, 1, 1, &w32), INAS_ERR_UNSUPPORTED);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "dwconv_bwd_weight") && strstr(e, "x is F16"), "message: %s", e);
    cr_assert_eq(inas_op_dwconv_bwd_weight(ctx, &x32, &y32, 3, 1, 1, &w16), INAS_ERR_UNSUPPORTED);
    cr_assert(strstr(inas_ctx_last_error(ctx), "dw is F16"), "message: %s", inas_ctx_last_error(ctx));
    inas_tensor m32, wt32;
    const int dm[2] = {9, 9};
    cr_assert_eq(inas_tensor_alloc_as(ctx, &m32, INAS_DTYPE_F32, 2, dm), INAS_OK);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &wt32, INAS_DTYPE_F32, 4, dw), INAS_OK);
    cr_assert_eq(inas_op_smsu_fwd(ctx, &w16, 3, &m32, &wt32), INAS_ERR_UNSUPPORTED);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "smsu_fwd") && strstr(e, "w is F16"), "message: %s", e);
    inas_tensor *all[] = {&x16, &y16, &w16, &b16, &x32, &y32, &w32, &b32, &m32, &wt32};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) inas_tensor_free(ctx, all[i]);
}

/* ---- bad input ------------------------------------------------------------------------- */

Test(ops_dwconv, bad_input) {
    inas_tensor x, y, w, ysmall, w4;
    cr_assert_eq(inas_tensor_alloc(ctx, &x, 1, 4, 9, 9), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &y, 1, 4, 9, 9), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &ysmall, 1, 4, 5, 5), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &w, 4, 1, 5, 5), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &w4, 4, 1, 4, 4), INAS_OK);
    const char *e;
    /* wrong output shape for stride 1 */
    cr_assert_neq(inas_op_dwconv_fwd(ctx, &x, &w, 3, 1, 1, NULL, 0, &ysmall), INAS_OK);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "dwconv_fwd") && strstr(e, "1x4x5x5"), "message: %s", e);
    /* even kernel */
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x, &w, 4, 1, 1, NULL, 0, &y), INAS_ERR_UNSUPPORTED);
    cr_assert(strstr(inas_ctx_last_error(ctx), "dwconv_fwd"), "%s", inas_ctx_last_error(ctx));
    /* stride 3 */
    cr_assert_eq(inas_op_dwconv_bwd_data(ctx, &y, &w, 3, 3, 1, &x), INAS_ERR_UNSUPPORTED);
    cr_assert(strstr(inas_ctx_last_error(ctx), "dwconv_bwd_data"));
    /* weight smaller than the kernel, and a crop that is not centred */
    cr_assert_neq(inas_op_dwconv_fwd(ctx, &x, &w, 7, 1, 1, NULL, 0, &y), INAS_OK);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "dwconv_fwd") && strstr(e, "4x1x5x5") && strstr(e, "1x4x9x9"), "message: %s", e);
    cr_assert_neq(inas_op_dwconv_bwd_weight(ctx, &x, &y, 3, 1, 1, &w4), INAS_OK);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "dwconv_bwd_weight") && strstr(e, "4x1x4x4"), "message: %s", e);
    /* dy not matching dx for stride 2 */
    cr_assert_neq(inas_op_dwconv_bwd_data(ctx, &y, &w, 3, 2, 1, &x), INAS_OK);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "dwconv_bwd_data") && strstr(e, "1x4x9x9") && strstr(e, "1x4x5x5"), "message: %s", e);
    /* null tensor / buffer */
    cr_assert_eq(inas_op_dwconv_fwd(ctx, NULL, &w, 3, 1, 1, NULL, 0, &y), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "dwconv_fwd"));
    inas_tensor nb = y;
    nb.buf = NULL;
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x, &w, 3, 1, 1, NULL, 0, &nb), INAS_ERR_INVALID_ARG);
    /* bad activation, short bias */
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x, &w, 3, 1, 1, NULL, 9, &y), INAS_ERR_INVALID_ARG);
    inas_tensor b2;
    cr_assert_eq(inas_tensor_alloc(ctx, &b2, 1, 1, 1, 2), INAS_OK);
    cr_assert_eq(inas_op_dwconv_fwd(ctx, &x, &w, 3, 1, 1, &b2, 0, &y), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "bias"));
    /* SMSU: wrong matrix size, weight with too few channels */
    inas_tensor m, wt;
    cr_assert_eq(inas_tensor_alloc(ctx, &m, 1, 1, 9, 8), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &wt, 6, 1, 3, 3), INAS_OK);
    cr_assert_neq(inas_op_smsu_fwd(ctx, &w, 3, &m, &wt), INAS_OK);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "smsu_fwd") && strstr(e, "4x1x5x5") && strstr(e, "6x1x3x3"), "message: %s", e);
    inas_tensor_free(ctx, &wt);
    cr_assert_eq(inas_tensor_alloc(ctx, &wt, 4, 1, 3, 3), INAS_OK);
    cr_assert_neq(inas_op_smsu_bwd(ctx, &w, 3, &m, &wt, &m, NULL), INAS_OK);
    e = inas_ctx_last_error(ctx);
    cr_assert(strstr(e, "smsu_bwd") && strstr(e, "1x1x9x8"), "message: %s", e);
    inas_tensor_free(ctx, &m);
    inas_tensor_free(ctx, &wt);
    inas_tensor_free(ctx, &b2);
    inas_tensor_free(ctx, &x);
    inas_tensor_free(ctx, &y);
    inas_tensor_free(ctx, &ysmall);
    inas_tensor_free(ctx, &w);
    inas_tensor_free(ctx, &w4);
}
