/* test_train.c - sandwich-rule training: exact resume (k steps, save, resume,
 * k more == 2k uninterrupted), NaN losses stop without touching the last
 * checkpoint, checkpoint round trips and rejection of bad checkpoints, BN
 * recalibration, and a learning check on real DUTS-TR images: every sandwich
 * member's loss on the masks falls, and the largest network beats a centred
 * Gaussian prior in max F-measure on held-out images. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inas/dataset.h"
#include "inas/metrics.h"
#include "inas/train.h"
#include "inas/util.h"
#include "ops/loss.h"
#include "testutil.h"

static inas_ctx *ctx;
static char *tmp;
static inas_space space;

static void setup(void) {
    ctx = tu_ctx();
    tmp = tu_mkdtemp("train");
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/space-small.yaml", getenv("INAS_SOURCE_DIR"));
    inas_error err;
    cr_assert_eq(inas_space_load(path, &space, &err), INAS_OK, "%s", err.message);
}
static void teardown(void) {
    inas_ctx_destroy(ctx);
    tu_rmrf(tmp);
    free(tmp);
}
TestSuite(train, .init = setup, .fini = teardown, .timeout = 400);

/* A directory of symlinks to images [from, to) of DUTS-TR (and their masks). */
static void subset(const char *img_src, const char *gt_src, int from, int to, char *img_dir, char *gt_dir, size_t len) {
    static int counter;
    snprintf(img_dir, len, "%s/img%d", tmp, counter);
    snprintf(gt_dir, len, "%s/gt%d", tmp, counter++);
    cr_assert_eq(mkdir(img_dir, 0755), 0);
    cr_assert_eq(mkdir(gt_dir, 0755), 0);
    inas_pair_list pl;
    inas_error err;
    cr_assert_eq(inas_pair_dirs(img_src, gt_src, &pl, &err), INAS_OK, "%s", err.message);
    for (int i = from; i < to && (size_t)i < pl.n; i++) {
        char l[2048];
        snprintf(l, sizeof l, "%s/%s.jpg", img_dir, pl.pairs[i].stem);
        cr_assert_eq(symlink(pl.pairs[i].a_path, l), 0);
        snprintf(l, sizeof l, "%s/%s.png", gt_dir, pl.pairs[i].stem);
        cr_assert_eq(symlink(pl.pairs[i].b_path, l), 0);
    }
    inas_pair_list_free(&pl);
}

static void small_config(inas_train_config *cfg, const char *img, const char *gt, long steps) {
    inas_train_config_defaults(cfg);
    cfg->images = img;
    cfg->masks = gt;
    cfg->steps = steps;
    cfg->batch = 4;
    cfg->nsizes = 2;
    cfg->sizes[0] = 32;
    cfg->sizes[1] = 64;
    cfg->seed = 9;
    cfg->warmup = 2;
}

Test(train, resume_continues_exactly) {
    char img[1024], gt[1024], si[1024], sg[1024], ck[1100];
    TU_REQUIRE_DATA(img, "duts-tr-499/img");
    TU_REQUIRE_DATA(gt, "duts-tr-499/gt");
    subset(img, gt, 0, 24, si, sg, sizeof si);
    const long k = 3;
    inas_train_config cfg;
    small_config(&cfg, si, sg, 2 * k);
    inas_error err;
    inas_trainer *a, *b;
    inas_step_losses la[8], lb[8];
    cr_assert_eq(inas_trainer_create(ctx, &space, &cfg, NULL, NULL, &a, &err), INAS_OK, "%s", err.message);
    for (long s = 0; s < 2 * k; s++) cr_assert_eq(inas_trainer_step(a, &la[s], &err), INAS_OK, "%s", err.message);
    inas_trainer_destroy(a);

    cr_assert_eq(inas_trainer_create(ctx, &space, &cfg, NULL, NULL, &b, &err), INAS_OK, "%s", err.message);
    for (long s = 0; s < k; s++) cr_assert_eq(inas_trainer_step(b, &lb[s], &err), INAS_OK, "%s", err.message);
    snprintf(ck, sizeof ck, "%s/run.ckpt", tmp);
    cr_assert_eq(inas_trainer_save(b, ck, &err), INAS_OK, "%s", err.message);
    inas_trainer_destroy(b);
    cr_assert_eq(inas_trainer_resume(ctx, ck, &cfg, NULL, NULL, &b, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(inas_trainer_step_count(b), k);
    for (long s = k; s < 2 * k; s++) cr_assert_eq(inas_trainer_step(b, &lb[s], &err), INAS_OK, "%s", err.message);
    inas_trainer_destroy(b);
    for (long s = 0; s < 2 * k; s++) {
        cr_assert_eq(la[s].size, lb[s].size, "step %ld: same batch size drawn", s + 1);
        cr_assert_float_eq(la[s].lr, lb[s].lr, 1e-15);
        for (int m = 0; m < 4; m++)
            cr_assert(fabs(la[s].loss[m] - lb[s].loss[m]) <= 1e-6 * fmax(1, fabs(la[s].loss[m])),
                      "step %ld member %d: uninterrupted %.9g, resumed %.9g", s + 1, m, la[s].loss[m], lb[s].loss[m]);
    }
}

Test(train, nan_loss_stops_and_keeps_the_checkpoint) {
    char img[1024], gt[1024], si[1024], sg[1024], ck[1100];
    TU_REQUIRE_DATA(img, "duts-tr-499/img");
    TU_REQUIRE_DATA(gt, "duts-tr-499/gt");
    subset(img, gt, 0, 8, si, sg, sizeof si);
    inas_train_config cfg;
    small_config(&cfg, si, sg, 10);
    inas_error err;
    inas_trainer *t;
    cr_assert_eq(inas_trainer_create(ctx, &space, &cfg, NULL, NULL, &t, &err), INAS_OK, "%s", err.message);
    inas_step_losses l;
    cr_assert_eq(inas_trainer_step(t, &l, &err), INAS_OK, "%s", err.message);
    snprintf(ck, sizeof ck, "%s/good.ckpt", tmp);
    cr_assert_eq(inas_trainer_save(t, ck, &err), INAS_OK, "%s", err.message);
    size_t len0;
    char *before;
    cr_assert_eq(inas_read_file(ck, &before, &len0, NULL), INAS_OK);
    /* poison one weight of the output head */
    inas_supernet *net = inas_trainer_supernet(t);
    size_t n;
    cr_assert_eq(inas_supernet_read_param(net, "head.output0.weight", 0, NULL, &n), INAS_OK);
    float *w = malloc(n * sizeof *w);
    cr_assert_eq(inas_supernet_read_param(net, "head.output0.weight", 0, w, NULL), INAS_OK);
    w[0] = NAN;
    cr_assert_eq(inas_supernet_write_param(net, "head.output0.weight", w), INAS_OK);
    cr_assert_eq(inas_trainer_step(t, &l, &err), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "step 2") && strstr(err.message, "nan"), "%s", err.message);
    cr_assert_eq(inas_trainer_step_count(t), 1, "the failed step is not counted");
    char *after;
    size_t len1;
    cr_assert_eq(inas_read_file(ck, &after, &len1, NULL), INAS_OK);
    cr_assert(len0 == len1 && memcmp(before, after, len0) == 0, "the checkpoint is untouched");
    free(before);
    free(after);
    free(w);
    inas_trainer_destroy(t);
}

Test(train, checkpoints_round_trip_and_bad_ones_are_rejected) {
    inas_supernet *net, *back;
    cr_assert_eq(inas_supernet_create(ctx, &space, 3, &net), INAS_OK, "%s", inas_ctx_last_error(ctx));
    char ck[1100], bad[1100];
    snprintf(ck, sizeof ck, "%s/w.safetensors", tmp);
    inas_error err;
    const char *k[] = {"note"}, *v[] = {"hello"};
    cr_assert_eq(inas_checkpoint_save(net, ck, k, v, 1, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(inas_checkpoint_load(ctx, ck, &back, &err), INAS_OK, "%s", err.message);
    cr_assert(inas_space_equal(inas_supernet_space(net), inas_supernet_space(back)), "the space travels in the metadata");
    cr_assert_eq(inas_supernet_num_tensors(back), inas_supernet_num_tensors(net));
    for (size_t i = 0; i < inas_supernet_num_tensors(net); i += 37) {
        const char *name = inas_supernet_tensor_name(net, i);
        size_t n;
        inas_supernet_read_param(net, name, 0, NULL, &n);
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        cr_assert_eq(inas_supernet_read_param(net, name, 0, a, NULL), INAS_OK);
        cr_assert_eq(inas_supernet_read_param(back, name, 0, b, NULL), INAS_OK);
        cr_assert_eq(memcmp(a, b, n * sizeof *a), 0, "%s", name);
        free(a);
        free(b);
    }
    inas_supernet_destroy(back);
    /* truncated */
    char *bytes;
    size_t len;
    cr_assert_eq(inas_read_file(ck, &bytes, &len, NULL), INAS_OK);
    snprintf(bad, sizeof bad, "%s/trunc.safetensors", tmp);
    cr_assert_eq(tu_write_file(bad, bytes, len / 2), 0);
    cr_assert_eq(inas_checkpoint_load(ctx, bad, &back, &err), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "trunc.safetensors") != NULL, "%s", err.message);
    /* a flipped byte in the data */
    bytes[len - 5] ^= 1;
    cr_assert_eq(tu_write_file(bad, bytes, len), 0);
    cr_assert_eq(inas_checkpoint_load(ctx, bad, &back, &err), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "corrupted") != NULL, "%s", err.message);
    free(bytes);
    /* a checkpoint of another space: tensors missing or of other shapes */
    inas_space other = space;
    other.stages[6].width_max = 56;
    inas_supernet *o;
    cr_assert_eq(inas_supernet_create(ctx, &other, 3, &o), INAS_OK);
    cr_assert_eq(inas_checkpoint_save(o, bad, NULL, NULL, 0, &err), INAS_OK);
    inas_supernet_destroy(o);
    cr_assert_eq(inas_checkpoint_load(ctx, bad, &back, &err), INAS_OK, "a checkpoint carries its own space");
    inas_supernet_destroy(back);
    /* not a checkpoint */
    cr_assert_eq(tu_write_file(bad, "{}", 2), 0);
    cr_assert_neq(inas_checkpoint_load(ctx, bad, &back, &err), INAS_OK);
    inas_supernet_destroy(net);
}

/* Mean BCE of output 0 against the masks of a fixed batch (training-mode BN). */
static double task_loss(inas_supernet *net, const inas_arch *a, const inas_tensor *x, const inas_tensor *m) {
    inas_tensor outs[INAS_MAX_LEVELS];
    cr_assert_eq(inas_supernet_forward(net, a, x, INAS_PASS_TRAIN, 0, outs), INAS_OK, "%s", inas_ctx_last_error(ctx));
    float l;
    cr_assert_eq(inas_op_bce_loss(ctx, &outs[0], m, 1.0f, NULL, &l, NULL), INAS_OK);
    return l;
}

/* max F-measure of the net's output 0 (or of a centred Gaussian when net is NULL)
 * over the held-out pairs at size S. */
static double max_f(inas_supernet *net, const inas_arch *a, const inas_pair_list *pl, int S) {
    inas_metrics *mt;
    cr_assert_eq(inas_metrics_create(&mt, NULL), INAS_OK);
    float *img = malloc((size_t)3 * S * S * sizeof *img), *mask = malloc((size_t)S * S * sizeof *mask);
    float *pred = malloc((size_t)S * S * sizeof *pred);
    double *pd = malloc((size_t)S * S * sizeof *pd);
    unsigned char *gt = malloc((size_t)S * S);
    inas_tensor x;
    cr_assert_eq(inas_tensor_alloc(ctx, &x, 1, 3, S, S), INAS_OK);
    for (size_t i = 0; i < pl->n; i++) {
        inas_error err;
        cr_assert_eq(inas_load_sample(pl->pairs[i].a_path, pl->pairs[i].b_path, S, 0, img, mask, &err), INAS_OK);
        for (int p = 0; p < S * S; p++) gt[p] = mask[p] > 0.5f ? 255 : 0;
        if (net) {
            inas_tensor outs[INAS_MAX_LEVELS];
            cr_assert_eq(inas_tensor_write(ctx, &x, img), INAS_OK);
            cr_assert_eq(inas_supernet_forward(net, a, &x, INAS_PASS_EVAL, 0, outs), INAS_OK, "%s", inas_ctx_last_error(ctx));
            cr_assert_eq(inas_tensor_read(ctx, &outs[0], pred), INAS_OK);
        } else {
            double sg = 0.25 * S;
            for (int y = 0; y < S; y++)
                for (int xx = 0; xx < S; xx++) {
                    double dy = y - (S - 1) / 2.0, dx = xx - (S - 1) / 2.0;
                    pred[y * S + xx] = (float)exp(-(dx * dx + dy * dy) / (2 * sg * sg));
                }
        }
        inas_metrics_normalize_f32(pred, (size_t)S * S, pd);
        cr_assert_eq(inas_metrics_add(mt, pd, gt, S, S, NULL, NULL), INAS_OK);
    }
    inas_metrics_result r;
    cr_assert_eq(inas_metrics_get(mt, &r, NULL), INAS_OK);
    inas_metrics_destroy(mt);
    inas_tensor_free(ctx, &x);
    free(img);
    free(mask);
    free(pred);
    free(pd);
    free(gt);
    return r.max_fm;
}

Test(train, learns_on_duts) {
    char img[1024], gt[1024], ti[1024], tg[1024], hi[1024], hg[1024];
    TU_REQUIRE_DATA(img, "duts-tr-499/img");
    TU_REQUIRE_DATA(gt, "duts-tr-499/gt");
    subset(img, gt, 0, 400, ti, tg, sizeof ti);
    subset(img, gt, 400, 499, hi, hg, sizeof hi);
    const int S = 64;
    inas_train_config cfg;
    inas_train_config_defaults(&cfg);
    cfg.images = ti;
    cfg.masks = tg;
    cfg.steps = 250;
    cfg.batch = 8;
    cfg.nsizes = 1;
    cfg.sizes[0] = S;
    cfg.lr = 1e-3;
    cfg.warmup = 10;
    cfg.seed = 1;
    inas_error err;
    inas_trainer *t;
    cr_assert_eq(inas_trainer_create(ctx, &space, &cfg, NULL, NULL, &t, &err), INAS_OK, "%s", err.message);
    inas_supernet *net = inas_trainer_supernet(t);
    /* a fixed batch of held-out images and the four kinds of sandwich member */
    inas_pair_list hold;
    cr_assert_eq(inas_pair_dirs(hi, hg, &hold, &err), INAS_OK);
    const int B = 8;
    float *bi = malloc((size_t)B * 3 * S * S * sizeof *bi), *bm = malloc((size_t)B * S * S * sizeof *bm);
    for (int i = 0; i < B; i++)
        cr_assert_eq(inas_load_sample(hold.pairs[i].a_path, hold.pairs[i].b_path, S, 0, bi + (size_t)i * 3 * S * S,
                                      bm + (size_t)i * S * S, &err),
                     INAS_OK);
    inas_tensor x, m;
    cr_assert_eq(inas_tensor_alloc(ctx, &x, B, 3, S, S), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &m, B, 1, S, S), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &x, bi), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &m, bm), INAS_OK);
    inas_arch members[4];
    inas_rng r;
    inas_rng_seed(&r, 77);
    inas_arch_sample_max(&space, &members[0]);
    inas_arch_sample_min(&space, &members[1]);
    inas_arch_sample_random(&space, &r, &members[2]);
    inas_arch_sample_random(&space, &r, &members[3]);
    double before[4], after[4];
    for (int k = 0; k < 4; k++) {
        members[k].resolution = S;
        before[k] = task_loss(net, &members[k], &x, &m);
    }
    double t0 = inas_wall_ms();
    inas_step_losses sl;
    for (long s = 0; s < cfg.steps; s++) cr_assert_eq(inas_trainer_step(t, &sl, &err), INAS_OK, "%s", err.message);
    double secs = (inas_wall_ms() - t0) / 1000;
    for (int k = 0; k < 4; k++) after[k] = task_loss(net, &members[k], &x, &m);
    for (int k = 0; k < 4; k++)
        cr_assert_lt(after[k], before[k] * 0.9, "member %d: BCE on held-out masks %.4f -> %.4f", k, before[k], after[k]);
    /* recalibrate the largest network's BN, then max F on the held-out images */
    inas_pair_list train_pairs;
    cr_assert_eq(inas_pair_dirs(ti, tg, &train_pairs, &err), INAS_OK);
    cr_assert_eq(inas_recalibrate(net, &members[0], &train_pairs, 8, 20, 5, &err), INAS_OK, "%s", err.message);
    double f_net = max_f(net, &members[0], &hold, S), f_prior = max_f(NULL, NULL, &hold, S);
    fprintf(stderr, "learns_on_duts: %ld steps in %.1f s; BCE %.3f/%.3f/%.3f/%.3f -> %.3f/%.3f/%.3f/%.3f; "
                    "held-out maxF %.4f vs centred Gaussian %.4f\n",
            cfg.steps, secs, before[0], before[1], before[2], before[3], after[0], after[1], after[2], after[3], f_net,
            f_prior);
    cr_assert_gt(f_net, f_prior, "largest network maxF %.4f must beat the centred Gaussian prior %.4f", f_net, f_prior);
    inas_pair_list_free(&train_pairs);
    inas_pair_list_free(&hold);
    inas_tensor_free(ctx, &x);
    inas_tensor_free(ctx, &m);
    free(bi);
    free(bm);
    inas_trainer_destroy(t);
}

/* The training loop does not create device buffers in steady state: after the
 * first steps every tensor comes from the context's pool. */
Test(train, steady_state_steps_create_no_buffers) {
    char img[1024], gt[1024], si[1024], sg[1024];
    TU_REQUIRE_DATA(img, "duts-tr-499/img");
    TU_REQUIRE_DATA(gt, "duts-tr-499/gt");
    subset(img, gt, 0, 16, si, sg, sizeof si);
    inas_train_config cfg;
    small_config(&cfg, si, sg, 10);
    cfg.nsizes = 1;
    cfg.sizes[0] = 64;
    inas_error err;
    inas_trainer *t;
    cr_assert_eq(inas_trainer_create(ctx, &space, &cfg, NULL, NULL, &t, &err), INAS_OK, "%s", err.message);
    inas_step_losses l;
    for (int s = 0; s < 3; s++) cr_assert_eq(inas_trainer_step(t, &l, &err), INAS_OK, "%s", err.message);
    inas_pool_stats before, after;
    inas_pool_get_stats(ctx, &before);
    for (int s = 0; s < 4; s++) cr_assert_eq(inas_trainer_step(t, &l, &err), INAS_OK, "%s", err.message);
    inas_pool_get_stats(ctx, &after);
    cr_assert_eq(after.buffers_created, before.buffers_created,
                 "steps 4-7 created %llu buffers", (unsigned long long)(after.buffers_created - before.buffers_created));
    cr_assert_gt(after.reuses, before.reuses);
    inas_trainer_destroy(t);
}
