/* test_deploy.c - export and inference of architectures (include/inas/model.h):
 * BN folding and SMSU merging kernels against the plain-C reference
 * (tests/support/ref_deploy.c); exactness of the reparameterisation (merged
 * single-branch SMSU == multi-branch eval-mode SMSU for every kernel subset of
 * {3,5,7,9} and both strides); export equivalence (exported model == supernet
 * eval forward, merged and unmerged, in memory and after a save/load round
 * trip); the half precisions (fp16-storage everywhere, fp16 arithmetic on a
 * device with cl_khr_fp16) against fp32; bad model directories and images
 * giving errors that name the file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deploy/reparam.h"
#include "gradcheck.h"
#include "inas/dataset.h"
#include "inas/image.h"
#include "inas/model.h"
#include "inas/train.h"
#include "inas/safetensors.h"
#include "inas/supernet.h"
#include "inas/util.h"
#include "ops/dwconv.h"
#include "ops/elementwise.h"
#include "ops/norm.h"
#include "ref_deploy.h"
#include "ref_net.h"
#include "testutil.h"

static double max_abs(const float *v, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}
static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static inas_tensor dev(inas_ctx *ctx, int n, int c, int h, int w, const float *host) {
    inas_tensor t;
    cr_assert_eq(inas_tensor_alloc(ctx, &t, n, c, h, w), INAS_OK, "%s", inas_ctx_last_error(ctx));
    if (host) cr_assert_eq(inas_tensor_write(ctx, &t, host), INAS_OK, "%s", inas_ctx_last_error(ctx));
    return t;
}

Test(deploy, smsu_reparameterisation_is_exact, .timeout = 300) {
    inas_ctx *ctx = tu_ctx();
    enum { C = 6, H = 11, KM = 9 };
    float w9[C * KM * KM], x[C * H * H];
    tu_rand_floats(w9, sizeof w9 / sizeof *w9, 1, -0.5f, 0.5f);
    tu_rand_floats(x, sizeof x / sizeof *x, 2, -2.0f, 2.0f);
    inas_tensor W9 = dev(ctx, C, 1, KM, KM, w9), X = dev(ctx, 1, C, H, H, x);
    /* per kernel: transform, BN statistics, transformed crop, folded branch */
    float *mk[10], g[10][C], b[10][C], mu[10][C], var[10][C], *wt[10], *wk[10], bk[10][C];
    inas_tensor M[10], G[10], Bt[10], MU[10], VAR[10], WT[10], WK[10], BK[10];
    for (int k = 3; k <= 9; k += 2) {
        int k2 = k * k;
        mk[k] = malloc(sizeof(float) * k2 * k2);
        tu_rand_floats(mk[k], (size_t)k2 * k2, 10 + k, -0.05f, 0.05f);
        for (int i = 0; i < k2; i++) mk[k][i * k2 + i] += 1.0f;
        tu_rand_floats(g[k], C, 20 + k, 0.5f, 1.5f);
        tu_rand_floats(b[k], C, 30 + k, -0.3f, 0.3f);
        tu_rand_floats(mu[k], C, 40 + k, -0.3f, 0.3f);
        tu_rand_floats(var[k], C, 50 + k, 0.3f, 1.5f);
        M[k] = dev(ctx, 1, 1, k2, k2, mk[k]);
        G[k] = dev(ctx, 1, 1, 1, C, g[k]);
        Bt[k] = dev(ctx, 1, 1, 1, C, b[k]);
        MU[k] = dev(ctx, 1, 1, 1, C, mu[k]);
        VAR[k] = dev(ctx, 1, 1, 1, C, var[k]);
        WT[k] = dev(ctx, C, 1, k, k, NULL);
        WK[k] = dev(ctx, C, 1, k, k, NULL);
        BK[k] = dev(ctx, 1, 1, 1, C, NULL);
        cr_assert_eq(inas_op_smsu_fwd(ctx, &W9, k, &M[k], &WT[k]), INAS_OK, "%s", inas_ctx_last_error(ctx));
        cr_assert_eq(inas_op_bn_fold(ctx, &WT[k], &G[k], &Bt[k], &MU[k], &VAR[k], 1e-5f, &WK[k], &BK[k]), INAS_OK,
                     "%s", inas_ctx_last_error(ctx));
        wt[k] = malloc(sizeof(float) * C * k2);
        wk[k] = malloc(sizeof(float) * C * k2);
        float ref_w[C * 81], ref_b[C];
        cr_assert_eq(inas_tensor_read(ctx, &WT[k], wt[k]), INAS_OK);
        cr_assert_eq(inas_tensor_read(ctx, &WK[k], wk[k]), INAS_OK);
        cr_assert_eq(inas_tensor_read(ctx, &BK[k], bk[k]), INAS_OK);
        ref_bn_fold(wt[k], C, k2, g[k], b[k], mu[k], var[k], 1e-5, ref_w, ref_b);
        cr_assert_leq(max_diff(wk[k], ref_w, (size_t)C * k2), 1e-6 * (1 + max_abs(ref_w, (size_t)C * k2)),
                      "bn_fold k=%d weight differs from the reference", k);
        cr_assert_leq(max_diff(bk[k], ref_b, C), 1e-6, "bn_fold k=%d bias differs from the reference", k);
    }
    for (int mask = 1; mask < 16; mask++) {
        int ks[4], nb = 0;
        for (int i = 0; i < 4; i++)
            if (mask & (1 << i)) ks[nb++] = 3 + 2 * i;
        int K = ks[nb - 1];
        inas_tensor Wm = dev(ctx, C, 1, K, K, NULL), Bm = dev(ctx, 1, 1, 1, C, NULL);
        cr_assert_eq(inas_tensor_fill(ctx, &Wm, 0), INAS_OK);
        cr_assert_eq(inas_tensor_fill(ctx, &Bm, 0), INAS_OK);
        const float *wks[4], *bks[4];
        for (int i = 0; i < nb; i++) {
            cr_assert_eq(inas_op_smsu_merge_acc(ctx, &WK[ks[i]], &BK[ks[i]], ks[i], 1.0f / nb, &Wm, &Bm), INAS_OK,
                         "%s", inas_ctx_last_error(ctx));
            wks[i] = wk[ks[i]];
            bks[i] = bk[ks[i]];
        }
        float wm[C * 81], bm[C], rw[C * 81], rb[C];
        cr_assert_eq(inas_tensor_read(ctx, &Wm, wm), INAS_OK);
        cr_assert_eq(inas_tensor_read(ctx, &Bm, bm), INAS_OK);
        ref_smsu_merge(wks, bks, ks, nb, C, K, rw, rb);
        cr_assert_leq(max_diff(wm, rw, (size_t)C * K * K), 1e-6, "merge mask %d differs from the reference", mask);
        cr_assert_leq(max_diff(bm, rb, C), 1e-6, "merge mask %d bias differs from the reference", mask);
        for (int stride = 1; stride <= 2; stride++) {
            int Ho = inas_dwconv_out_size(H, 3, stride, 1);
            size_t n = (size_t)C * Ho * Ho;
            inas_tensor ys[4], Y = dev(ctx, 1, C, Ho, Ho, NULL), Z = dev(ctx, 1, C, Ho, Ho, NULL);
            const inas_tensor *yp[4];
            for (int i = 0; i < nb; i++) {
                int k = ks[i];
                ys[i] = dev(ctx, 1, C, Ho, Ho, NULL);
                cr_assert_eq(inas_op_dwconv_fwd(ctx, &X, &WT[k], k, stride, 1, NULL, 0, &ys[i]), INAS_OK);
                cr_assert_eq(inas_op_bn_eval_fwd(ctx, &ys[i], &G[k], &Bt[k], &MU[k], &VAR[k], 1e-5f, 0, &ys[i]),
                             INAS_OK, "%s", inas_ctx_last_error(ctx));
                yp[i] = &ys[i];
            }
            cr_assert_eq(inas_op_mean(ctx, yp, nb, &Y), INAS_OK);
            cr_assert_eq(inas_op_dwconv_fwd(ctx, &X, &Wm, K, stride, 1, &Bm, 0, &Z), INAS_OK, "%s",
                         inas_ctx_last_error(ctx));
            float *a = malloc(n * sizeof *a), *bb = malloc(n * sizeof *bb);
            cr_assert_eq(inas_tensor_read(ctx, &Y, a), INAS_OK);
            cr_assert_eq(inas_tensor_read(ctx, &Z, bb), INAS_OK);
            double d = max_diff(a, bb, n), s = max_abs(a, n);
            cr_assert_leq(d, 1e-4 * s, "kernels mask %d stride %d: merged vs multi-branch max diff %g (scale %g)", mask,
                          stride, d, s);
            free(a);
            free(bb);
            for (int i = 0; i < nb; i++) inas_tensor_free(ctx, &ys[i]);
            inas_tensor_free(ctx, &Y);
            inas_tensor_free(ctx, &Z);
        }
        inas_tensor_free(ctx, &Wm);
        inas_tensor_free(ctx, &Bm);
    }
    for (int k = 3; k <= 9; k += 2) {
        free(mk[k]);
        free(wt[k]);
        free(wk[k]);
    }
    inas_ctx_destroy(ctx);
}

/* ---- export equivalence --------------------------------------------------------------- */

static void randomize(inas_supernet *net, uint64_t seed) { ref_net_randomize(net, seed); }

static void small_space(inas_space *space) {
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/space-small.yaml", getenv("INAS_SOURCE_DIR"));
    inas_error err;
    cr_assert_eq(inas_space_load(path, space, &err), INAS_OK, "%s", err.message);
}

static void model_out(inas_model *m, const inas_tensor *x, int N, int R, float *out) {
    inas_ctx *ctx = inas_model_ctx(m);
    inas_tensor y = dev(ctx, N, 1, R, R, NULL);
    cr_assert_eq(inas_model_forward(m, x, &y), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_tensor_read(ctx, &y, out), INAS_OK);
    inas_tensor_free(ctx, &y);
}

static void write_png(const char *path, int w, int h, int ch, unsigned seed) {
    inas_image img;
    inas_error err;
    cr_assert_eq(inas_image_create(&img, w, h, ch, &err), INAS_OK);
    for (size_t i = 0; i < (size_t)w * h * ch; i++) img.data[i] = (unsigned char)((i * 7 + seed * 31) % 251);
    cr_assert_eq(inas_image_write_png(path, &img, &err), INAS_OK, "%s", err.message);
    inas_image_free(&img);
}

Test(deploy, exported_model_matches_supernet_eval, .timeout = 300) {
    inas_ctx *ctx = tu_ctx();
    inas_space space;
    small_space(&space);
    inas_supernet *net;
    cr_assert_eq(inas_supernet_create(ctx, &space, 7, &net), INAS_OK, "%s", inas_ctx_last_error(ctx));
    randomize(net, 11);
    enum { N = 2, R = 64 };
    size_t n = (size_t)N * R * R;
    float *xin = malloc(sizeof(float) * N * 3 * R * R), *ref = malloc(n * sizeof(float)),
          *got = malloc(n * sizeof(float)), *got2 = malloc(n * sizeof(float));
    tu_rand_floats(xin, (size_t)N * 3 * R * R, 5, -2.0f, 2.0f);
    inas_tensor x = dev(ctx, N, 3, R, R, xin);
    inas_rng rng;
    inas_rng_seed(&rng, 3);
    char *dir = tu_mkdtemp("deploy");
    for (int which = 0; which < 4; which++) {
        inas_arch a;
        if (which == 0) inas_arch_sample_max(&space, &a);
        else if (which == 1) inas_arch_sample_min(&space, &a);
        else inas_arch_sample_random(&space, &rng, &a);
        if (which == 3) {
            /* BN recalibrated for the architecture on a few synthetic images first */
            char idir[1100], mdir[1100], p[1200];
            snprintf(idir, sizeof idir, "%s/img", dir);
            snprintf(mdir, sizeof mdir, "%s/mask", dir);
            cr_assert_eq(mkdir(idir, 0777), 0);
            cr_assert_eq(mkdir(mdir, 0777), 0);
            for (int i = 0; i < 4; i++) {
                snprintf(p, sizeof p, "%s/s%d.png", idir, i);
                write_png(p, 64 + 8 * i, 64, 3, (unsigned)i);
                snprintf(p, sizeof p, "%s/s%d.png", mdir, i);
                write_png(p, 64 + 8 * i, 64, 1, (unsigned)i + 5);
            }
            inas_pair_list pairs = {0};
            inas_error err;
            cr_assert_eq(inas_pair_dirs(idir, mdir, &pairs, &err), INAS_OK, "%s", err.message);
            cr_assert_eq(inas_recalibrate(net, &a, &pairs, 2, 2, 1, &err), INAS_OK, "%s", err.message);
            inas_pair_list_free(&pairs);
        }
        inas_tensor outs[INAS_MAX_LEVELS];
        cr_assert_eq(inas_supernet_forward(net, &a, &x, INAS_PASS_EVAL, 0, outs), INAS_OK, "%s",
                     inas_ctx_last_error(ctx));
        cr_assert_eq(inas_tensor_read(ctx, &outs[0], ref), INAS_OK);
        inas_model *m;
        cr_assert_eq(inas_model_export(net, &a, &m), INAS_OK, "%s", inas_ctx_last_error(ctx));
        model_out(m, &x, N, R, got);
        double d = max_diff(ref, got, n);
        cr_assert_leq(d, 1e-4, "arch %d: exported (merged) vs supernet eval: max abs diff %g", which, d);
        inas_model_set_unmerged(m, 1);
        model_out(m, &x, N, R, got2);
        d = max_diff(ref, got2, n);
        cr_assert_leq(d, 1e-4, "arch %d: exported (unmerged) vs supernet eval: max abs diff %g", which, d);
        inas_error err;
        cr_assert_eq(inas_model_save(m, dir, &err), INAS_OK, "%s", err.message);
        inas_model *m2;
        cr_assert_eq(inas_model_load(ctx, dir, &m2, &err), INAS_OK, "%s", err.message);
        model_out(m2, &x, N, R, got2);
        cr_assert_eq(max_diff(got, got2, n), 0.0, "arch %d: saved and loaded model differs", which);
        inas_model_info info;
        cr_assert_eq(inas_model_get_info(m2, 0, &info), INAS_OK);
        cr_assert_gt(info.params, 0);
        cr_assert_gt(info.macs, 0);
        cr_assert_gt(info.buffers, 0);
        cr_assert_lt(info.buffer_bytes, info.unplanned_bytes, "buffers are reused from layer to layer");
        /* the per-block table adds up to the totals */
        inas_model_block blocks[128];
        int nb = 0;
        cr_assert_eq(inas_model_get_blocks(m2, 0, blocks, 128, &nb), INAS_OK);
        cr_assert(nb > 5 && nb <= 128);
        cr_assert_str_eq(blocks[0].name, "stem");
        double macs = 0;
        size_t params = 0;
        for (int b = 0; b < nb; b++) {
            macs += blocks[b].macs;
            params += blocks[b].params;
        }
        cr_assert_float_eq(macs, info.macs, 0.5);
        cr_assert_eq(params, info.params);
        inas_model_destroy(m2);
        inas_model_destroy(m);
    }
    inas_tensor_free(ctx, &x);
    tu_rmrf(dir);
    free(dir);
    free(xin);
    free(ref);
    free(got);
    free(got2);
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
}

/* ---- half precision -------------------------------------------------------------------- */

#ifndef OUT_GAIN
#define OUT_GAIN 40
#endif
/* Output of a model exported on ctx, in fp32 and in precision `prec`, on the
 * same input; returns the max abs difference and fills *mean_diff. */
static double precision_gap(inas_ctx *ctx, inas_precision prec, int largest, int unmerged, double *mean_diff,
                            inas_model_info *i32, inas_model_info *i16) {
    inas_space space;
    small_space(&space);
    inas_supernet *net;
    cr_assert_eq(inas_supernet_create(ctx, &space, 7, &net), INAS_OK, "%s", inas_ctx_last_error(ctx));
    randomize(net, 21);
    /* a stronger output head, as after training: with the random weights every
     * probability is ~0.53 and p(1-p) ~ 0.25 damps the body's errors; zero-mean
     * weights x40 spread the logits (outputs ~0.89..0.95 here) so that errors
     * of the body reach the output ~3x amplified */
    float ow[64];
    size_t no = 0;
    cr_assert_eq(inas_supernet_read_param(net, "head.output0.weight", 0, NULL, &no), INAS_OK);
    cr_assert_leq(no, 64);
    cr_assert_eq(inas_supernet_read_param(net, "head.output0.weight", 0, ow, NULL), INAS_OK);
    double owm = 0;
    for (size_t i = 0; i < no; i++) owm += ow[i] / no;
    for (size_t i = 0; i < no; i++) ow[i] = (float)((ow[i] - owm) * OUT_GAIN);
    cr_assert_eq(inas_supernet_write_param(net, "head.output0.weight", ow), INAS_OK);
    inas_arch a;
    if (largest) inas_arch_sample_max(&space, &a);
    else inas_arch_sample_min(&space, &a);
    inas_model *m;
    cr_assert_eq(inas_model_export(net, &a, &m), INAS_OK, "%s", inas_ctx_last_error(ctx));
    inas_supernet_destroy(net);
    enum { N = 2, R = 64 };
    size_t n = (size_t)N * R * R;
    float *xin = malloc(sizeof(float) * N * 3 * R * R), *ref = malloc(n * sizeof(float)),
          *got = malloc(n * sizeof(float));
    tu_rand_floats(xin, (size_t)N * 3 * R * R, 5, -2.0f, 2.0f);
    inas_tensor x = dev(ctx, N, 3, R, R, xin);
    inas_model_set_unmerged(m, unmerged);
    model_out(m, &x, N, R, ref);
    cr_assert_eq(inas_model_get_info(m, R, i32), INAS_OK);
    cr_assert_eq(inas_model_set_precision(m, prec), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_model_precision(m), prec);
    model_out(m, &x, N, R, got);
    cr_assert_eq(inas_model_get_info(m, R, i16), INAS_OK);
    double sum = 0, lo = 1, hi = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert(isfinite(got[i]) && got[i] >= 0 && got[i] <= 1, "output %zu is %g", i, got[i]);
        sum += fabs(got[i] - ref[i]);
        lo = fmin(lo, ref[i]);
        hi = fmax(hi, ref[i]);
    }
    cr_log_info("fp32 output range %.3f..%.3f", lo, hi);
    cr_assert(hi - lo > 0.03 && lo < 0.99 && hi > 0.01, "the fp32 output must vary and not saturate (range %g..%g)", lo,
              hi);
    *mean_diff = sum / n;
    double d = max_diff(ref, got, n);
    /* back to fp32: the same output as before, bit for bit */
    cr_assert_eq(inas_model_set_precision(m, INAS_PRECISION_FP32), INAS_OK);
    model_out(m, &x, N, R, got);
    cr_assert_eq(max_diff(ref, got, n), 0.0, "fp32 after a half run differs");
    inas_tensor_free(ctx, &x);
    free(xin);
    free(ref);
    free(got);
    inas_model_destroy(m);
    return d;
}

/* Half storage rounds every weight and activation to 11 significant bits
 * (relative error 2^-12 per rounding) with float arithmetic in between; over
 * the ~40 layers of these networks with random weights the saliency
 * probabilities move by less than 3e-3 (measured: max 6.9e-4, mean 1.5e-4,
 * a few roundings of the output itself, 2^-12 near 1).
 * The kernels themselves are checked op by op against plain-C references on
 * half-rounded inputs (test_ops_*); this checks the engine's wiring: half
 * weights, half buffers, the conversions at both ends, re-planning. */
/* precision_gap for the largest architecture (merged) and the smallest
 * (multi-branch form), within max_tol / mean_tol of fp32. */
static void precision_cases(inas_ctx *ctx, inas_precision prec, double max_tol, double mean_tol) {
    for (int c = 0; c < 2; c++) {
        double mean, d;
        inas_model_info i32, i16;
        d = precision_gap(ctx, prec, c == 0, c == 1, &mean, &i32, &i16);
        cr_log_info("%s %s: max |diff| %.3g, mean %.3g", inas_precision_name(prec),
                    c == 0 ? "largest" : "smallest unmerged", d, mean);
        cr_assert_leq(d, max_tol, "%s vs fp32: max abs diff %g", inas_precision_name(prec), d);
        cr_assert_leq(mean, mean_tol, "%s vs fp32: mean abs diff %g", inas_precision_name(prec), mean);
        cr_assert_gt(d, 0.0, "half tensors must change the output somewhat (else they did not run)");
        cr_assert_leq(i16.buffer_bytes, i32.buffer_bytes * 0.6, "half buffers: %zu vs %zu bytes", i16.buffer_bytes,
                      i32.buffer_bytes);
    }
}

Test(deploy, fp16_storage_tracks_fp32, .timeout = 300) {
    inas_ctx *ctx = tu_ctx();
    precision_cases(ctx, INAS_PRECISION_FP16_STORAGE, 3e-3, 5e-4);
    /* fp16 arithmetic: refused without cl_khr_fp16, the model keeps its precision */
    inas_space space;
    small_space(&space);
    inas_supernet *net;
    cr_assert_eq(inas_supernet_create(ctx, &space, 7, &net), INAS_OK);
    inas_arch a;
    inas_arch_sample_min(&space, &a);
    inas_model *m;
    cr_assert_eq(inas_model_export(net, &a, &m), INAS_OK);
    if (!inas_ctx_device(ctx)->fp16) {
        cr_assert_eq(inas_model_set_precision(m, INAS_PRECISION_FP16), INAS_ERR_UNSUPPORTED);
        cr_assert(strstr(inas_ctx_last_error(ctx), "cl_khr_fp16") &&
                      strstr(inas_ctx_last_error(ctx), inas_ctx_device(ctx)->name),
                  "%s", inas_ctx_last_error(ctx));
        cr_assert_eq(inas_model_precision(m), INAS_PRECISION_FP32);
    }
    /* the caller's tensors stay float */
    cr_assert_eq(inas_model_set_precision(m, INAS_PRECISION_FP16_STORAGE), INAS_OK);
    int dims[4] = {1, 3, 64, 64};
    inas_tensor xh, y = dev(ctx, 1, 1, 64, 64, NULL);
    cr_assert_eq(inas_tensor_alloc_as(ctx, &xh, INAS_DTYPE_F16, 4, dims), INAS_OK);
    cr_assert_eq(inas_model_forward(m, &xh, &y), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "f32"), "%s", inas_ctx_last_error(ctx));
    inas_tensor_free(ctx, &xh);
    inas_tensor_free(ctx, &y);
    inas_model_destroy(m);
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
}

/* Half arithmetic (accumulations in half too, except global average pooling)
 * on a device with cl_khr_fp16: a coarser approximation than half storage. */
Test(deploy, fp16_math_tracks_fp32, .timeout = 300) {
    inas_ctx *ctx = tu_ctx_fp16();
    if (!ctx) cr_skip_test("no OpenCL device with cl_khr_fp16: fp16 arithmetic not tested");
    cr_log_info("fp16 device: %s (%s)", inas_ctx_device(ctx)->name, inas_ctx_device(ctx)->platform);
    precision_cases(ctx, INAS_PRECISION_FP16, 5e-3, 1e-3); /* measured: max 1.5e-3, mean 2.5e-4 (Intel CPU runtime) */
    inas_ctx_destroy(ctx);
}

/* ---- bad input ----------------------------------------------------------------------- */

static void expect_load_error(inas_ctx *ctx, const char *dir, const char *needle1, const char *needle2) {
    inas_model *m = NULL;
    inas_error err;
    cr_assert_neq(inas_model_load(ctx, dir, &m, &err), INAS_OK, "loading %s should fail", dir);
    cr_assert_null(m);
    cr_assert(strstr(err.message, needle1), "message '%s' should name '%s'", err.message, needle1);
    if (needle2) cr_assert(strstr(err.message, needle2), "message '%s' should name '%s'", err.message, needle2);
}

Test(deploy, bad_model_directories_name_the_file, .timeout = 300) {
    inas_ctx *ctx = tu_ctx();
    inas_space space;
    small_space(&space);
    inas_supernet *net;
    cr_assert_eq(inas_supernet_create(ctx, &space, 7, &net), INAS_OK, "%s", inas_ctx_last_error(ctx));
    inas_arch a;
    inas_arch_sample_min(&space, &a);
    inas_model *m;
    cr_assert_eq(inas_model_export(net, &a, &m), INAS_OK, "%s", inas_ctx_last_error(ctx));
    char *dir = tu_mkdtemp("deploy-bad");
    inas_error err;
    cr_assert_eq(inas_model_save(m, dir, &err), INAS_OK, "%s", err.message);
    char apath[1024], wpath[1024], tmp[1100];
    snprintf(apath, sizeof apath, "%s/arch.yaml", dir);
    snprintf(wpath, sizeof wpath, "%s/weights.safetensors", dir);
    snprintf(tmp, sizeof tmp, "%s/keep", dir);
    /* missing arch.yaml */
    cr_assert_eq(rename(apath, tmp), 0);
    expect_load_error(ctx, dir, "arch.yaml", NULL);
    /* malformed arch.yaml */
    cr_assert_eq(tu_write_file(apath, "stages: [ {depth: oops\n", 23), 0);
    expect_load_error(ctx, dir, "arch.yaml", NULL);
    cr_assert_eq(rename(tmp, apath), 0);
    /* a weight with the wrong shape */
    inas_st_file *f;
    cr_assert_eq(inas_st_open(wpath, &f, &err), INAS_OK, "%s", err.message);
    inas_st_writer *w;
    cr_assert_eq(inas_st_writer_create(&w, &err), INAS_OK);
    cr_assert_eq(inas_st_writer_meta(w, "inas.space", inas_st_meta(f, "inas.space"), &err), INAS_OK);
    for (size_t i = 0; i < inas_st_count(f); i++) {
        const inas_st_tensor *t = inas_st_at(f, i);
        int64_t shape[INAS_ST_MAX_DIMS];
        for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
        const void *data = t->data;
        float *bigger = NULL;
        if (strcmp(t->name, "stem.conv.bias") == 0) {
            shape[0] += 1;
            bigger = calloc((size_t)shape[0], sizeof(float));
            data = bigger;
        }
        cr_assert_eq(inas_st_writer_add(w, t->name, t->dtype, t->ndim, shape, data, &err), INAS_OK, "%s", err.message);
        free(bigger);
    }
    inas_st_close(f);
    cr_assert_eq(inas_st_writer_save(w, wpath, &err), INAS_OK, "%s", err.message);
    inas_st_writer_destroy(w);
    expect_load_error(ctx, dir, "weights.safetensors", "stem.conv.bias");
    /* malformed and missing weights */
    cr_assert_eq(tu_write_file(wpath, "garbage", 7), 0);
    expect_load_error(ctx, dir, "weights.safetensors", NULL);
    cr_assert_eq(remove(wpath), 0);
    expect_load_error(ctx, dir, "weights.safetensors", NULL);
    tu_rmrf(dir);
    free(dir);
    inas_model_destroy(m);
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
}

/* ---- the CLI ----------------------------------------------------------------------------- */

Test(deploy, cli_export_info_infer, .timeout = 300) {
    const char *cmds[] = {"export --help", "infer --help", "model --help", "bench model --help"};
    for (int i = 0; i < 4; i++) {
        char *out = NULL;
        cr_assert_eq(tu_run_cli(cmds[i], &out), 0, "inas %s", cmds[i]);
        cr_assert(out && strstr(out, "Usage: inas "), "inas %s: %s", cmds[i], out ? out : "");
        free(out);
    }
    inas_ctx *ctx = tu_ctx();
    inas_space space;
    small_space(&space);
    inas_supernet *net;
    cr_assert_eq(inas_supernet_create(ctx, &space, 7, &net), INAS_OK, "%s", inas_ctx_last_error(ctx));
    randomize(net, 13);
    char *dir = tu_mkdtemp("deploy-cli");
    char ckpt[1024], arch[1024], model[1024], imgs[1024], outd[1024], cmd[8192], p[1200];
    snprintf(ckpt, sizeof ckpt, "%s/net.safetensors", dir);
    snprintf(arch, sizeof arch, "%s/arch.yaml", dir);
    snprintf(model, sizeof model, "%s/model", dir);
    snprintf(imgs, sizeof imgs, "%s/img", dir);
    snprintf(outd, sizeof outd, "%s/out", dir);
    inas_error err;
    cr_assert_eq(inas_checkpoint_save(net, ckpt, NULL, NULL, 0, &err), INAS_OK, "%s", err.message);
    inas_arch a;
    inas_rng rng;
    inas_rng_seed(&rng, 9);
    inas_arch_sample_random(&space, &rng, &a);
    cr_assert_eq(inas_arch_save(arch, &a, &err), INAS_OK, "%s", err.message);
    char *out = NULL;
    snprintf(cmd, sizeof cmd, "export --supernet %s --arch %s -o %s", ckpt, arch, model);
    int rc = tu_run_cli(cmd, &out);
    cr_assert_eq(rc, 0, "inas %s: %s", cmd, out ? out : "");
    free(out);
    snprintf(cmd, sizeof cmd, "model info %s", model);
    rc = tu_run_cli(cmd, &out);
    cr_assert_eq(rc, 0, "inas %s: %s", cmd, out ? out : "");
    cr_assert(strstr(out, "params:") && strstr(out, "macs:") && strstr(out, "layers:"), "%s", out);
    free(out);
    cr_assert_eq(mkdir(imgs, 0777), 0);
    snprintf(p, sizeof p, "%s/a.png", imgs);
    write_png(p, 50, 37, 3, 1);
    snprintf(p, sizeof p, "%s/b.png", imgs);
    write_png(p, 64, 80, 1, 2);
    snprintf(p, sizeof p, "%s/broken.png", imgs);
    cr_assert_eq(tu_write_file(p, "\x89PNG not really", 15), 0);
    snprintf(cmd, sizeof cmd, "infer --model %s %s -o %s", model, imgs, outd);
    rc = tu_run_cli(cmd, &out);
    cr_assert_eq(rc, 1, "inas %s should report the broken image: %s", cmd, out ? out : "");
    cr_assert(out && strstr(out, "broken.png"), "the error names the file: %s", out ? out : "");
    free(out);
    const int sizes[2][2] = {{50, 37}, {64, 80}};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%c.png", outd, 'a' + i);
        inas_image img;
        cr_assert_eq(inas_image_load(p, INAS_IMAGE_AS_STORED, &img, &err), INAS_OK, "%s", err.message);
        cr_assert_eq(img.width, sizes[i][0]);
        cr_assert_eq(img.height, sizes[i][1]);
        cr_assert_eq(img.channels, 1);
        inas_image_free(&img);
    }
    /* the CLI's map equals the C API's on the same image */
    inas_model *m;
    cr_assert_eq(inas_model_load(ctx, model, &m, &err), INAS_OK, "%s", err.message);
    inas_image src, got;
    snprintf(p, sizeof p, "%s/a.png", imgs);
    cr_assert_eq(inas_image_load(p, INAS_IMAGE_RGB, &src, &err), INAS_OK);
    snprintf(p, sizeof p, "%s/a.png", outd);
    cr_assert_eq(inas_image_load(p, INAS_IMAGE_GRAY, &got, &err), INAS_OK);
    float *map = malloc(sizeof(float) * 50 * 37);
    cr_assert_eq(inas_model_predict_rgb(m, src.data, src.width, src.height, map), INAS_OK, "%s",
                 inas_ctx_last_error(ctx));
    for (int i = 0; i < 50 * 37; i++) cr_assert_leq(fabs(map[i] * 255.0f - got.data[i]), 0.51, "pixel %d", i);
    free(map);
    inas_image_free(&src);
    inas_image_free(&got);
    inas_model_destroy(m);
    /* --precision fp16-storage: the same maps within a few gray levels; a bad name is a usage error */
    char outh[1100];
    snprintf(outh, sizeof outh, "%s/out16", dir);
    snprintf(cmd, sizeof cmd, "infer --model %s --precision fp16-storage %s/a.png -o %s", model, imgs, outh);
    rc = tu_run_cli(cmd, &out);
    cr_assert_eq(rc, 0, "inas %s: %s", cmd, out ? out : "");
    free(out);
    inas_image g32, g16;
    snprintf(p, sizeof p, "%s/a.png", outd);
    cr_assert_eq(inas_image_load(p, INAS_IMAGE_GRAY, &g32, &err), INAS_OK);
    snprintf(p, sizeof p, "%s/a.png", outh);
    cr_assert_eq(inas_image_load(p, INAS_IMAGE_GRAY, &g16, &err), INAS_OK, "%s", err.message);
    for (int i = 0; i < 50 * 37; i++) cr_assert_leq(abs(g32.data[i] - g16.data[i]), 3, "pixel %d", i);
    inas_image_free(&g32);
    inas_image_free(&g16);
    snprintf(cmd, sizeof cmd, "infer --model %s --precision fp64 %s/a.png -o %s", model, imgs, outh);
    rc = tu_run_cli(cmd, &out);
    cr_assert_eq(rc, 2, "inas %s: %s", cmd, out ? out : "");
    cr_assert(out && strstr(out, "fp64"), "%s", out ? out : "");
    free(out);
    /* export with BN recalibration on images == recalibrate + export through the C API */
    char cimg[1100], cmask[1100], model2[1100];
    snprintf(cimg, sizeof cimg, "%s/cimg", dir);
    snprintf(cmask, sizeof cmask, "%s/cmask", dir);
    snprintf(model2, sizeof model2, "%s/model2", dir);
    cr_assert_eq(mkdir(cimg, 0777), 0);
    cr_assert_eq(mkdir(cmask, 0777), 0);
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/c%d.png", cimg, i);
        write_png(p, 70, 60, 3, (unsigned)i + 3);
        snprintf(p, sizeof p, "%s/c%d.png", cmask, i);
        write_png(p, 70, 60, 1, (unsigned)i + 9);
    }
    snprintf(cmd, sizeof cmd, "export --supernet %s --arch %s --calib-images %s --calib-masks %s --batches 1 --batch 2 -o %s",
             ckpt, arch, cimg, cmask, model2);
    rc = tu_run_cli(cmd, &out);
    cr_assert_eq(rc, 0, "inas %s: %s", cmd, out ? out : "");
    cr_assert(strstr(out, "recalibrated: true"), "%s", out);
    free(out);
    inas_pair_list pairs = {0};
    cr_assert_eq(inas_pair_dirs(cimg, cmask, &pairs, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(inas_recalibrate(net, &a, &pairs, 2, 1, 0, &err), INAS_OK, "%s", err.message);
    inas_pair_list_free(&pairs);
    inas_model *mem, *disk;
    cr_assert_eq(inas_model_export(net, &a, &mem), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_model_load(ctx, model2, &disk, &err), INAS_OK, "%s", err.message);
    enum { R = 64 };
    float *xin = malloc(sizeof(float) * 3 * R * R), *o1 = malloc(sizeof(float) * R * R), *o2 = malloc(sizeof(float) * R * R);
    tu_rand_floats(xin, (size_t)3 * R * R, 17, -2.0f, 2.0f);
    inas_tensor x = dev(ctx, 1, 3, R, R, xin);
    model_out(mem, &x, 1, R, o1);
    model_out(disk, &x, 1, R, o2);
    cr_assert_leq(max_diff(o1, o2, (size_t)R * R), 1e-6, "CLI-recalibrated export differs from the C API's");
    inas_tensor_free(ctx, &x);
    free(xin);
    free(o1);
    free(o2);
    inas_model_destroy(mem);
    inas_model_destroy(disk);
    tu_rmrf(dir);
    free(dir);
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
}
