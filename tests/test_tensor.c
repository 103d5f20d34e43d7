/* test_tensor.c - tensor round trips, views (channel and batch slices), fill,
 * copy, shape errors, and buffer-pool reuse. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inas/runtime.h"
#include "inas/tensor.h"
#include "inas/util.h"
#include "testutil.h"

static inas_ctx *ctx;

static void setup(void) {
    inas_error err;
    cr_assert_eq(inas_ctx_create(&ctx, NULL, &err), INAS_OK, "%s", err.message);
}
static void teardown(void) { inas_ctx_destroy(ctx); }

static float *random_floats(size_t n, uint64_t seed) {
    inas_rng r;
    inas_rng_seed(&r, seed);
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = inas_rng_float(&r) * 2 - 1;
    return v;
}

TestSuite(tensor, .init = setup, .fini = teardown);
TestSuite(pool, .init = setup, .fini = teardown);
TestSuite(half, .init = setup, .fini = teardown);

Test(tensor, round_trip_odd_shapes) {
    int shapes[][4] = {{1, 7, 13, 11}, {3, 5, 9, 17}, {2, 1, 1, 1}, {1, 1, 1, 1000003}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        inas_tensor t;
        cr_assert_eq(inas_tensor_alloc(ctx, &t, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3]), INAS_OK);
        size_t n = inas_tensor_numel(&t);
        cr_assert_eq(n, (size_t)shapes[s][0] * shapes[s][1] * shapes[s][2] * shapes[s][3]);
        cr_assert(inas_tensor_is_contiguous(&t));
        float *in = random_floats(n, s + 1), *out = calloc(n, sizeof *out);
        cr_assert_eq(inas_tensor_write(ctx, &t, in), INAS_OK);
        cr_assert_eq(inas_tensor_read(ctx, &t, out), INAS_OK);
        cr_assert_eq(memcmp(in, out, n * sizeof *in), 0, "shape %zu round trip", s);
        free(in);
        free(out);
        inas_tensor_free(ctx, &t);
        cr_assert_null(t.buf, "free zeroes the descriptor");
    }
    char buf[64];
    inas_tensor t;
    int dims[2] = {3, 4};
    cr_assert_eq(inas_tensor_alloc_nd(ctx, &t, 2, dims), INAS_OK);
    cr_assert_str_eq(inas_tensor_shape_str(&t, buf, sizeof buf), "3x4");
    inas_tensor_free(ctx, &t);
}

Test(tensor, channel_and_batch_views) {
    const int N = 3, C = 5, H = 4, W = 6;
    inas_tensor t, v, b;
    cr_assert_eq(inas_tensor_alloc(ctx, &t, N, C, H, W), INAS_OK);
    size_t n = inas_tensor_numel(&t);
    float *base = random_floats(n, 7);
    cr_assert_eq(inas_tensor_write(ctx, &t, base), INAS_OK);
    /* channels [1, 4) */
    cr_assert_eq(inas_tensor_slice_channels(ctx, &t, 1, 3, &v), INAS_OK);
    cr_assert(!inas_tensor_is_contiguous(&v));
    cr_assert_null(v.block, "views do not own the buffer");
    size_t vn = inas_tensor_numel(&v);
    cr_assert_eq(vn, (size_t)N * 3 * H * W);
    float *got = malloc(vn * sizeof *got);
    cr_assert_eq(inas_tensor_read(ctx, &v, got), INAS_OK);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < H * W; p++)
                cr_assert_eq(got[((size_t)i * 3 + c) * H * W + p], base[((size_t)i * C + c + 1) * H * W + p]);
    /* writing the view changes only those channels */
    float *nv = random_floats(vn, 8);
    cr_assert_eq(inas_tensor_write(ctx, &v, nv), INAS_OK);
    float *all = malloc(n * sizeof *all);
    cr_assert_eq(inas_tensor_read(ctx, &t, all), INAS_OK);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < H * W; p++) {
                size_t at = ((size_t)i * C + c) * H * W + p;
                float want = (c >= 1 && c < 4) ? nv[((size_t)i * 3 + c - 1) * H * W + p] : base[at];
                cr_assert_eq(all[at], want, "n=%d c=%d p=%d", i, c, p);
            }
    /* fill a view */
    cr_assert_eq(inas_tensor_fill(ctx, &v, 0.5f), INAS_OK);
    cr_assert_eq(inas_tensor_read(ctx, &t, all), INAS_OK);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) {
            size_t at = ((size_t)i * C + c) * H * W;
            if (c >= 1 && c < 4) cr_assert_eq(all[at], 0.5f);
            else cr_assert_eq(all[at], base[at]);
        }
    /* batch view of a channel view */
    cr_assert_eq(inas_tensor_slice_batch(ctx, &v, 2, 1, &b), INAS_OK);
    cr_assert_eq(b.shape[0], 1);
    cr_assert_eq(b.offset, t.offset + (size_t)2 * C * H * W + (size_t)H * W);
    /* bad slices name the shape */
    cr_assert_eq(inas_tensor_slice_channels(ctx, &t, 4, 2, &v), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "3x5x4x6") != NULL, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_tensor_slice_batch(ctx, &t, -1, 1, &v), INAS_ERR_INVALID_ARG);
    free(base);
    free(got);
    free(nv);
    free(all);
    inas_tensor_free(ctx, &t);
}

Test(tensor, copy_between_views_and_shape_mismatch) {
    inas_tensor a, b, va, vb;
    cr_assert_eq(inas_tensor_alloc(ctx, &a, 2, 4, 3, 3), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &b, 2, 6, 3, 3), INAS_OK);
    float *pa = random_floats(72, 3);
    cr_assert_eq(inas_tensor_write(ctx, &a, pa), INAS_OK);
    cr_assert_eq(inas_tensor_fill(ctx, &b, -1.0f), INAS_OK);
    cr_assert_eq(inas_tensor_slice_channels(ctx, &b, 2, 4, &vb), INAS_OK);
    cr_assert_eq(inas_tensor_copy(ctx, &a, &vb), INAS_OK);
    float pb[108];
    cr_assert_eq(inas_tensor_read(ctx, &b, pb), INAS_OK);
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 6; c++)
            for (int p = 0; p < 9; p++) {
                float want = c < 2 ? -1.0f : pa[(n * 4 + c - 2) * 9 + p];
                cr_assert_eq(pb[(n * 6 + c) * 9 + p], want);
            }
    cr_assert_eq(inas_tensor_slice_channels(ctx, &a, 0, 3, &va), INAS_OK);
    cr_assert_eq(inas_tensor_copy(ctx, &va, &vb), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "2x3x3x3") != NULL, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_tensor_write(ctx, &a, NULL), INAS_ERR_INVALID_ARG);
    inas_tensor empty = {0};
    cr_assert_eq(inas_tensor_read(ctx, &empty, pb), INAS_ERR_INVALID_ARG);
    cr_assert_eq(inas_tensor_alloc(ctx, &empty, 1, 0, 3, 3), INAS_ERR_INVALID_ARG);
    free(pa);
    inas_tensor_free(ctx, &a);
    inas_tensor_free(ctx, &b);
}

Test(pool, steady_state_loop_creates_no_buffers) {
    inas_pool_stats s0, s1;
    /* one "iteration": a few tensors of different sizes, then all freed */
    for (int iter = 0; iter < 5; iter++) {
        inas_tensor t[4];
        cr_assert_eq(inas_tensor_alloc(ctx, &t[0], 8, 32, 16, 16), INAS_OK);
        cr_assert_eq(inas_tensor_alloc(ctx, &t[1], 8, 96, 16, 16), INAS_OK);
        cr_assert_eq(inas_tensor_alloc(ctx, &t[2], 1, 1, 1, 10), INAS_OK);
        cr_assert_eq(inas_tensor_alloc(ctx, &t[3], 8, 32, 16, 16), INAS_OK);
        for (int i = 0; i < 4; i++) inas_tensor_free(ctx, &t[i]);
        if (iter == 0) inas_pool_get_stats(ctx, &s0);
    }
    inas_pool_get_stats(ctx, &s1);
    cr_assert_eq(s0.buffers_created, 4);
    cr_assert_eq(s1.buffers_created, s0.buffers_created, "later iterations reuse the pooled buffers");
    cr_assert_eq(s1.acquires, 20);
    cr_assert_eq(s1.reuses, 16);
    cr_assert_eq(s1.in_use, 0);
    /* sizes within one class share buffers: 100000 and 101000 floats */
    cl_mem m1, m2;
    void *b1, *b2;
    cr_assert_eq(inas_pool_acquire(ctx, 400000, &m1, &b1), INAS_OK);
    inas_pool_release(ctx, b1);
    cr_assert_eq(inas_pool_acquire(ctx, 404000, &m2, &b2), INAS_OK);
    cr_assert_eq(m1, m2, "same size class: same buffer");
    inas_pool_release(ctx, b2);
    inas_pool_trim(ctx);
    inas_pool_get_stats(ctx, &s1);
    cr_assert_eq(s1.buffers_live, 0);
    cr_assert_eq(s1.bytes_live, 0);
}

Test(pool, oversized_request_fails_cleanly) {
    inas_tensor t;
    const inas_device_info *d = inas_ctx_device(ctx);
    size_t too_big = (size_t)(d->max_alloc / sizeof(float)) + 1024;
    int dims[1] = {(int)(too_big > 2000000000 ? 2000000000 : too_big)};
    if ((size_t)dims[0] * sizeof(float) <= d->max_alloc) cr_skip_test("device allows allocations over 8 GB");
    cr_assert_neq(inas_tensor_alloc_nd(ctx, &t, 1, dims), INAS_OK);
    cr_assert(strstr(inas_ctx_last_error(ctx), "bytes") != NULL, "%s", inas_ctx_last_error(ctx));
}

Test(pool, best_fit_reuses_up_to_twice_the_size) {
    cl_mem big, m;
    void *bb, *b;
    inas_pool_stats s0, s1;
    cr_assert_eq(inas_pool_acquire(ctx, 1 << 20, &big, &bb), INAS_OK);
    inas_pool_release(ctx, bb);
    inas_pool_get_stats(ctx, &s0);
    cr_assert_eq(inas_pool_acquire(ctx, 600 << 10, &m, &b), INAS_OK);
    cr_assert_eq(m, big, "a 600 KiB request reuses the released 1 MiB buffer");
    inas_pool_release(ctx, b);
    cr_assert_eq(inas_pool_acquire(ctx, 400 << 10, &m, &b), INAS_OK);
    cr_assert_neq(m, big, "a request below half the size gets its own buffer");
    inas_pool_release(ctx, b);
    inas_pool_get_stats(ctx, &s1);
    cr_assert_eq(s1.buffers_created, s0.buffers_created + 1);
    cr_assert_eq(inas_pool_acquire(ctx, 1 << 20, &m, &b), INAS_OK);
    cr_assert_eq(m, big, "an exact class match is preferred");
    inas_pool_release(ctx, b);
}

/* ---- half-precision tensors ---------------------------------------------------- */

/* The value of a binary16 bit pattern from its definition (double arithmetic). */
static double half_value(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e ? ldexp(1.0 + m / 1024.0, e - 15) : ldexp(m, -24);
    return s ? -v : v;
}

Test(half, conversion_matches_the_definition_for_every_pattern) {
    for (uint32_t h = 0; h < 65536; h++) {
        int e = (h >> 10) & 31, m = h & 1023;
        float f = inas_float_from_half((uint16_t)h);
        if (e == 31) {
            cr_assert(m ? isnan(f) : isinf(f), "pattern %04x", h);
            if (m) continue;
        } else {
            cr_assert_eq((double)f, half_value((uint16_t)h), "pattern %04x", h);
        }
        cr_assert_eq(inas_half_from_float(f), h, "round trip of %04x", h);
    }
}

Test(half, rounding_is_to_nearest_even) {
    inas_rng r;
    inas_rng_seed(&r, 11);
    for (int i = 0; i < 200000; i++) {
        /* magnitudes from 2^-27 (below the subnormals) to 2^17 (past the largest half) */
        float f = ldexpf(inas_rng_float(&r) + 0.5f, (int)(inas_rng_float(&r) * 44) - 27);
        if (i & 1) f = -f;
        uint16_t h = inas_half_from_float(f);
        double got = (h & 0x7c00) == 0x7c00 ? INFINITY : fabs(half_value(h));
        double a = fabs((double)f);
        /* the nearest half: neighbours of h are no closer; ties go to the even mantissa */
        if (isinf(got)) {
            cr_assert_geq(a, 65520.0, "%.9g became infinity", f);
            continue;
        }
        uint16_t mag = h & 0x7fff;
        double lo = mag ? half_value((uint16_t)(mag - 1)) : -1.0, hi = half_value((uint16_t)(mag + 1));
        if (mag == 0x7bff) hi = 65536.0; /* the rounding boundary above 65504 */
        cr_assert_leq(fabs(a - got), fabs(a - hi), "%.9g -> %04x", f, h);
        if (mag) cr_assert_leq(fabs(a - got), fabs(a - lo), "%.9g -> %04x", f, h);
        if (fabs(a - got) == fabs(a - hi) || (mag && fabs(a - got) == fabs(a - lo)))
            cr_assert_eq(mag & 1, 0, "tie %.9g -> %04x is not even", f, h);
        cr_assert_eq(h >> 15, (uint16_t)(f < 0), "sign of %.9g", f);
    }
    cr_assert_eq(inas_half_from_float(65519.0f), 0x7bff);
    cr_assert_eq(inas_half_from_float(65520.0f), 0x7c00);
    cr_assert_eq(inas_half_from_float(ldexpf(1.0f, -25)), 0x0000, "2^-25 ties to even zero");
    cr_assert_eq(inas_half_from_float(ldexpf(1.5f, -25)), 0x0001);
    cr_assert(isnan(inas_float_from_half(inas_half_from_float(NAN))));
}

/* Values that exercise rounding: subnormals, ties, overflow. */
static float *awkward_floats(size_t n, uint64_t seed) {
    float *v = random_floats(n, seed);
    for (size_t i = 0; i < n; i++) {
        switch (i % 5) {
        case 0: v[i] = ldexpf(v[i], -16); break;                       /* half subnormals */
        case 1: v[i] = (float)(1 + (int)(i % 1024)) / 1024.0f + ldexpf(1.0f, -11); break; /* ties */
        case 2: v[i] *= 70000.0f; break;                               /* overflow to infinity */
        default: v[i] *= 100.0f; break;
        }
    }
    return v;
}

Test(half, device_tensors_convert_like_the_host) {
    int dims[4] = {2, 3, 7, 13};
    size_t n = 2 * 3 * 7 * 13;
    float *in = awkward_floats(n, 5), *got = malloc(n * sizeof *got), *back = malloc(n * sizeof *back);
    inas_tensor h, f, f2;
    cr_assert_eq(inas_tensor_alloc_as(ctx, &h, INAS_DTYPE_F16, 4, dims), INAS_OK);
    cr_assert_eq(h.dtype, INAS_DTYPE_F16);
    cr_assert_eq(inas_tensor_alloc(ctx, &f, 2, 3, 7, 13), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &f2, 2, 3, 7, 13), INAS_OK);
    /* host conversion in write/read */
    cr_assert_eq(inas_tensor_write(ctx, &h, in), INAS_OK);
    cr_assert_eq(inas_tensor_read(ctx, &h, got), INAS_OK);
    for (size_t i = 0; i < n; i++) {
        float want = inas_float_from_half(inas_half_from_float(in[i]));
        cr_assert(got[i] == want || (isnan(got[i]) && isnan(want)), "element %zu: %g -> %g, want %g", i, in[i],
                  got[i], want);
    }
    /* device conversion (copy between types): float -> half -> float */
    cr_assert_eq(inas_tensor_write(ctx, &f, in), INAS_OK);
    cr_assert_eq(inas_tensor_fill(ctx, &h, 0.0f), INAS_OK);
    cr_assert_eq(inas_tensor_copy(ctx, &f, &h), INAS_OK);
    cr_assert_eq(inas_tensor_copy(ctx, &h, &f2), INAS_OK);
    cr_assert_eq(inas_tensor_read(ctx, &f2, back), INAS_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(back[i], got[i], "device conversion of element %zu (%.9g): %.9g, host %.9g", i, in[i], back[i],
                     got[i]);
    /* half -> half copy into a channel view, fill */
    inas_tensor big, view;
    int bd[4] = {2, 5, 7, 13};
    cr_assert_eq(inas_tensor_alloc_as(ctx, &big, INAS_DTYPE_F16, 4, bd), INAS_OK);
    cr_assert_eq(inas_tensor_fill(ctx, &big, 0.1f), INAS_OK);
    cr_assert_eq(inas_tensor_slice_channels(ctx, &big, 1, 3, &view), INAS_OK);
    cr_assert_eq(view.dtype, INAS_DTYPE_F16, "views keep the type");
    cr_assert_eq(inas_tensor_copy(ctx, &h, &view), INAS_OK);
    float *all = malloc(2 * 5 * 91 * sizeof *all);
    cr_assert_eq(inas_tensor_read(ctx, &big, all), INAS_OK);
    for (int b = 0; b < 2; b++)
        for (int c = 0; c < 5; c++)
            for (int p = 0; p < 91; p++) {
                float v = all[(b * 5 + c) * 91 + p];
                if (c == 0 || c == 4) cr_assert_eq(v, inas_float_from_half(inas_half_from_float(0.1f)));
                else cr_assert_eq(v, got[(b * 3 + c - 1) * 91 + p]);
            }
    free(all);
    free(in);
    free(got);
    free(back);
    inas_tensor_free(ctx, &big);
    inas_tensor_free(ctx, &h);
    inas_tensor_free(ctx, &f);
    inas_tensor_free(ctx, &f2);
}

Test(half, precision_names_and_device_check) {
    cr_assert_eq(inas_precision_parse("fp32"), INAS_PRECISION_FP32);
    cr_assert_eq(inas_precision_parse("fp16"), INAS_PRECISION_FP16);
    cr_assert_eq(inas_precision_parse("fp16-storage"), INAS_PRECISION_FP16_STORAGE);
    cr_assert_eq(inas_precision_parse("half"), -1);
    cr_assert_str_eq(inas_precision_name(INAS_PRECISION_FP16_STORAGE), "fp16-storage");
    cr_assert_eq(inas_precision_check(ctx, INAS_PRECISION_FP16_STORAGE), INAS_OK, "storage runs everywhere");
    inas_status st = inas_precision_check(ctx, INAS_PRECISION_FP16);
    if (inas_ctx_device(ctx)->fp16) {
        cr_assert_eq(st, INAS_OK);
    } else {
        cr_assert_eq(st, INAS_ERR_UNSUPPORTED);
        cr_assert(strstr(inas_ctx_last_error(ctx), "cl_khr_fp16") &&
                      strstr(inas_ctx_last_error(ctx), inas_ctx_device(ctx)->name),
                  "%s", inas_ctx_last_error(ctx));
    }
    int bad[1] = {4};
    inas_tensor t;
    cr_assert_eq(inas_tensor_alloc_as(ctx, &t, INAS_DTYPE_BF16, 1, bad), INAS_ERR_INVALID_ARG);
}
