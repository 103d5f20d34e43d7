/* test_ops_adam.c - the Adam step against the double reference of
 * support/ref_norm.c (torch.optim.Adam): 5 steps on odd sizes, as views at
 * offsets into larger buffers, with and without weight decay, per-group
 * learning rates, the fused zeroing of the gradient; parameters, m and v within
 * 1e-6 relative (absolute floors: p 1e-7, m 1e-8 where gradients of changing
 * sign cancel, v 1e-11); bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "inas/runtime.h"
#include "inas/tensor.h"
#include "ops/adam.h"
#include "ref_norm.h"
#include "testutil.h"

static inas_ctx *ctx;
static void setup(void) { ctx = tu_ctx(); }
static void teardown(void) { inas_ctx_destroy(ctx); }
TestSuite(ops_adam, .init = setup, .fini = teardown);

Test(ops_adam, steps_match_reference) {
    const int sizes[] = {1, 17, 1000, 100003};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int variant = 0; variant < 2; variant++) {
            const int n = sizes[s], off = 3 + (int)s;
            const float lr = variant ? 2e-3f : 2e-4f, wd = variant ? 0.01f : 0.0f;
            /* one buffer holds four tensors at odd offsets: p | g | m | v */
            inas_tensor all, tp, tg, tm, tv;
            cr_assert_eq(inas_tensor_alloc(ctx, &all, 1, 1, 1, 4 * (n + off)), INAS_OK);
            size_t base = all.offset;
            cr_assert_eq(inas_tensor_wrap(ctx, &tp, all.buf, base + off, 1, 1, 1, n), INAS_OK);
            cr_assert_eq(inas_tensor_wrap(ctx, &tg, all.buf, base + (n + off) + off, 1, 1, 1, n), INAS_OK);
            cr_assert_eq(inas_tensor_wrap(ctx, &tm, all.buf, base + 2 * (n + off) + off, 1, 1, 1, n), INAS_OK);
            cr_assert_eq(inas_tensor_wrap(ctx, &tv, all.buf, base + 3 * (n + off) + off, 1, 1, 1, n), INAS_OK);
            float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g), *got = malloc(n * sizeof *got);
            double *pd = malloc(n * sizeof *pd), *gd = malloc(n * sizeof *gd), *md = calloc(n, sizeof *md),
                   *vd = calloc(n, sizeof *vd);
            tu_rand_floats(p, n, 1 + s, -1.0f, 1.0f);
            tu_to_double(p, pd, n);
            cr_assert_eq(inas_tensor_write(ctx, &tp, p), INAS_OK);
            cr_assert_eq(inas_tensor_fill(ctx, &tm, 0.0f), INAS_OK);
            cr_assert_eq(inas_tensor_fill(ctx, &tv, 0.0f), INAS_OK);
            inas_adam_params hp;
            inas_adam_defaults(&hp, lr);
            hp.weight_decay = wd;
            for (int step = 1; step <= 5; step++) {
                tu_rand_floats(g, n, 100 * step + s, -0.1f * step, 0.05f * step);
                tu_to_double(g, gd, n);
                cr_assert_eq(inas_tensor_write(ctx, &tg, g), INAS_OK);
                hp.step = step;
                hp.zero_grad = variant && step == 5;
                cr_assert_eq(inas_op_adam_step(ctx, &tp, &tg, &tm, &tv, &hp), INAS_OK, "%s", inas_ctx_last_error(ctx));
                ref_adam_step(pd, gd, md, vd, n, lr, 0.9, 0.99, 1e-8, wd, step);
            }
            cr_assert_eq(inas_tensor_read(ctx, &tp, got), INAS_OK);
            tu_assert_close(got, pd, n, 1e-7, 1e-6, "adam param");
            cr_assert_eq(inas_tensor_read(ctx, &tm, got), INAS_OK);
            tu_assert_close(got, md, n, 1e-8, 1e-6, "adam m (m cancels across steps: absolute floor 1e-8 = 1e-7 of |g|)");
            cr_assert_eq(inas_tensor_read(ctx, &tv, got), INAS_OK);
            tu_assert_close(got, vd, n, 1e-11, 1e-6, "adam v");
            cr_assert_eq(inas_tensor_read(ctx, &tg, got), INAS_OK);
            for (int i = 0; i < n; i++)
                cr_assert_eq(got[i], variant ? 0.0f : g[i], "grad[%d] %s", i, variant ? "zeroed" : "untouched");
            /* the gaps between the four tensors are untouched (they were never written) */
            inas_tensor_free(ctx, &all);
            free(p), free(g), free(got), free(pd), free(gd), free(md), free(vd);
        }
}

Test(ops_adam, bad_input) {
    inas_tensor a, b;
    cr_assert_eq(inas_tensor_alloc(ctx, &a, 1, 1, 1, 10), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &b, 1, 1, 1, 11), INAS_OK);
    inas_adam_params hp;
    inas_adam_defaults(&hp, 1e-3f);
    cr_assert_eq(inas_op_adam_step(ctx, &a, &a, &b, &a, &hp), INAS_ERR_INVALID_ARG);
    const char *m = inas_ctx_last_error(ctx);
    cr_assert(strstr(m, "inas_op_adam_step") && strstr(m, "m has 11") && strstr(m, "1x1x1x11"), "message: %s", m);
    hp.step = 0;
    cr_assert_eq(inas_op_adam_step(ctx, &a, &a, &a, &a, &hp), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "step 0"), "message: %s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_op_adam_step(ctx, &a, NULL, &a, &a, &hp), INAS_ERR_INVALID_ARG);
    cr_assert_eq(inas_op_adam_step(ctx, &a, &a, &a, &a, NULL), INAS_ERR_INVALID_ARG);
    inas_tensor_free(ctx, &a), inas_tensor_free(ctx, &b);
}
