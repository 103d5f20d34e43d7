/* trainer.c - the sandwich-rule training step with in-place distillation,
 * the learning-rate schedule, resumable checkpoints, and BN recalibration. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/loss.h"
#include "train/checkpoint.h"

#define MEMBERS 4 /* largest, smallest, two random */

struct inas_trainer {
    inas_ctx *ctx;
    inas_supernet *net;
    inas_train_config cfg;
    inas_pair_list pairs;
    inas_loader *loader;
    inas_rng rng;      /* architecture sampling */
    long step;         /* steps done */
    inas_tensor losses;/* MEMBERS x levels weighted losses of the current step */
};

void inas_train_config_defaults(inas_train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->steps = 1000;
    cfg->batch = 8;
    cfg->lr = 2e-4;
    cfg->head_lr_mult = 10;
    cfg->warmup = -1; /* steps / 20 */
    cfg->power = 0.9;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.99;
    cfg->flip = 1;
}

static inas_status check_config(inas_train_config *c, const inas_space *space, inas_error *err) {
    if (!c->images || !c->masks) return inas_error_set(err, INAS_ERR_INVALID_ARG, "training needs an image and a mask directory");
    if (c->steps < 1 || c->batch < 1 || c->lr <= 0 || c->head_lr_mult <= 0 || c->power < 0)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "training: steps, batch and lr must be positive");
    if (c->batch == 1)
        return inas_error_set(err, INAS_ERR_INVALID_ARG,
                              "training: batch 1 leaves BatchNorm a single value per channel at the deepest level; use 2 or more");
    if (c->nsizes == 0) {
        c->nsizes = space->num_train_res;
        for (int i = 0; i < c->nsizes; i++) c->sizes[i] = space->train_res[i];
    }
    int stride = inas_space_level_stride(space, space->num_levels - 1);
    for (int i = 0; i < c->nsizes; i++)
        if (c->sizes[i] <= 0 || c->sizes[i] % stride)
            return inas_error_set(err, INAS_ERR_INVALID_ARG, "training: size %d is not a positive multiple of %d",
                                  c->sizes[i], stride);
    if (c->warmup < 0) c->warmup = c->steps / 20;
    return INAS_OK;
}

static double lr_at(const inas_train_config *c, long t) {
    if (t < c->warmup) return c->lr * (double)(t + 1) / (double)c->warmup;
    double span = (double)(c->steps - c->warmup);
    double frac = span > 0 ? (double)(t - c->warmup) / span : 1.0;
    if (frac > 1) frac = 1;
    return c->lr * pow(1.0 - frac, c->power);
}

static inas_status open_data(inas_trainer *tr, void (*on_skip)(void *, const char *, const char *), void *user,
                             inas_error *err) {
    inas_status st = inas_pair_dirs(tr->cfg.images, tr->cfg.masks, &tr->pairs, err);
    if (st != INAS_OK) return st;
    if (tr->pairs.n == 0)
        return inas_error_set(err, INAS_ERR_NOT_FOUND, "no image in %s has a mask with the same stem in %s",
                              tr->cfg.images, tr->cfg.masks);
    inas_loader_config lc = {.batch = tr->cfg.batch, .sizes = tr->cfg.sizes, .nsizes = tr->cfg.nsizes,
                             .flip = tr->cfg.flip, .shuffle = 1, .seed = tr->cfg.seed};
    return inas_loader_create(&tr->pairs, &lc, on_skip, user, &tr->loader, err);
}

static inas_status alloc_common(inas_trainer *tr, inas_error *err) {
    int n = MEMBERS * tr->net->space.num_levels;
    if (inas_tensor_alloc(tr->ctx, &tr->losses, 1, 1, 1, n) != INAS_OK)
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s", inas_ctx_last_error(tr->ctx));
    return INAS_OK;
}

void inas_trainer_destroy(inas_trainer *tr) {
    if (!tr) return;
    inas_loader_destroy(tr->loader);
    inas_pair_list_free(&tr->pairs);
    inas_tensor_free(tr->ctx, &tr->losses);
    inas_supernet_destroy(tr->net);
    free(tr);
}

inas_status inas_trainer_create(inas_ctx *ctx, const inas_space *space, const inas_train_config *cfg,
                                void (*on_skip)(void *, const char *, const char *), void *user, inas_trainer **out,
                                inas_error *err) {
    if (!ctx || !space || !cfg || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_trainer_create: null argument");
    *out = NULL;
    inas_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    tr->ctx = ctx;
    tr->cfg = *cfg;
    inas_status st = check_config(&tr->cfg, space, err);
    if (st == INAS_OK && inas_supernet_create(ctx, space, tr->cfg.seed, &tr->net) != INAS_OK)
        st = inas_error_set(err, inas_ctx_last_status(ctx), "%s", inas_ctx_last_error(ctx));
    if (st == INAS_OK) st = open_data(tr, on_skip, user, err);
    if (st == INAS_OK) st = alloc_common(tr, err);
    if (st != INAS_OK) {
        inas_trainer_destroy(tr);
        return st;
    }
    inas_rng base;
    inas_rng_seed(&base, tr->cfg.seed);
    tr->rng = inas_rng_split(&base, 0x73616e64ULL); /* "sand" */
    *out = tr;
    return INAS_OK;
}

long inas_trainer_step_count(const inas_trainer *tr) { return tr->step; }
const inas_train_config *inas_trainer_config(const inas_trainer *tr) { return &tr->cfg; }
inas_supernet *inas_trainer_supernet(inas_trainer *tr) { return tr->net; }
size_t inas_trainer_skipped(const inas_trainer *tr) { return tr->loader ? inas_loader_skipped(tr->loader) : 0; }

static inas_status ctx_err(inas_trainer *tr, inas_error *err) {
    return inas_error_set(err, inas_ctx_last_status(tr->ctx), "%s", inas_ctx_last_error(tr->ctx));
}

inas_status inas_trainer_step(inas_trainer *tr, inas_step_losses *out, inas_error *err) {
    inas_ctx *ctx = tr->ctx;
    inas_supernet *net = tr->net;
    const inas_space *sp = &net->space;
    int nl = sp->num_levels;
    const inas_batch *b;
    inas_status st = inas_loader_next(tr->loader, &b, err);
    if (st != INAS_OK) return st;
    inas_arch archs[MEMBERS];
    inas_arch_sample_max(sp, &archs[0]);
    inas_arch_sample_min(sp, &archs[1]);
    inas_arch_sample_random(sp, &tr->rng, &archs[2]);
    inas_arch_sample_random(sp, &tr->rng, &archs[3]);
    for (int m = 0; m < MEMBERS; m++) archs[m].resolution = b->size;

    inas_tensor x = {0}, mask = {0}, teacher = {0}, grads[INAS_MAX_LEVELS] = {{0}};
    const inas_tensor *gptr[INAS_MAX_LEVELS];
    int S = b->size, n = b->n;
    if (inas_tensor_alloc(ctx, &x, n, 3, S, S) != INAS_OK || inas_tensor_alloc(ctx, &mask, n, 1, S, S) != INAS_OK ||
        inas_tensor_alloc(ctx, &teacher, n, 1, S, S) != INAS_OK || inas_tensor_write(ctx, &x, b->images) != INAS_OK ||
        inas_tensor_write(ctx, &mask, b->masks) != INAS_OK)
        goto cl_fail;
    for (int i = 0; i < nl; i++) {
        if (inas_tensor_alloc(ctx, &grads[i], n, 1, S, S) != INAS_OK) goto cl_fail;
        gptr[i] = &grads[i];
    }
    if (inas_supernet_zero_grad(net) != INAS_OK) goto cl_fail;
    for (int m = 0; m < MEMBERS; m++) {
        inas_tensor outs[INAS_MAX_LEVELS];
        if (inas_supernet_forward(net, &archs[m], &x, INAS_PASS_TRAIN, 0, outs) != INAS_OK) goto cl_fail;
        for (int i = 0; i < nl; i++) {
            float w = i == 0 ? 1.0f : 0.4f;
            inas_tensor lv;
            inas_tensor_slice_batch(ctx, &tr->losses, 0, 1, &lv);
            lv.offset = tr->losses.offset + (size_t)(m * nl + i);
            lv.shape[3] = 1;
            st = m == 0 ? inas_op_bce_loss(ctx, &outs[i], &mask, w, &lv, NULL, &grads[i])
                        : inas_op_mse_loss(ctx, &outs[i], &teacher, w, &lv, NULL, &grads[i]);
            if (st != INAS_OK) goto cl_fail;
        }
        /* the largest network's output 0, detached, teaches the others */
        if (m == 0 && inas_tensor_copy(ctx, &outs[0], &teacher) != INAS_OK) goto cl_fail;
        if (inas_supernet_backward(net, gptr) != INAS_OK) goto cl_fail;
    }
    float lh[MEMBERS * INAS_MAX_LEVELS];
    if (inas_tensor_read(ctx, &tr->losses, lh) != INAS_OK) goto cl_fail;
    inas_step_losses res = {.step = tr->step + 1, .lr = lr_at(&tr->cfg, tr->step), .size = S};
    for (int m = 0; m < MEMBERS; m++) {
        double s = 0;
        for (int i = 0; i < nl; i++) s += lh[m * nl + i];
        res.loss[m] = s;
        if (!isfinite(s)) {
            static const char *who[MEMBERS] = {"largest", "smallest", "random 1", "random 2"};
            st = inas_error_set(err, INAS_ERR_FORMAT,
                                "step %ld: the %s network's loss is %g: training stopped before the update (lower the "
                                "learning rate?)",
                                tr->step + 1, who[m], s);
            goto done;
        }
    }
    if (inas_supernet_adam_step(net, res.lr, res.lr * tr->cfg.head_lr_mult, tr->cfg.beta1, tr->cfg.beta2) != INAS_OK)
        goto cl_fail;
    tr->step++;
    if (out) *out = res;
    st = INAS_OK;
    goto done;
cl_fail:
    st = ctx_err(tr, err);
done:
    for (int i = 0; i < nl; i++) inas_tensor_free(ctx, &grads[i]);
    inas_tensor_free(ctx, &x);
    inas_tensor_free(ctx, &mask);
    inas_tensor_free(ctx, &teacher);
    return st;
}

/* ---- checkpoints ------------------------------------------------------------------- */

inas_status inas_trainer_save(inas_trainer *tr, const char *path, inas_error *err) {
    char step[32], rng[160], loader[256], config[512];
    inas_loader_state ls;
    inas_loader_get_state(tr->loader, &ls);
    snprintf(step, sizeof step, "%ld", tr->step);
    snprintf(rng, sizeof rng, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64, tr->rng.s[0], tr->rng.s[1],
             tr->rng.s[2], tr->rng.s[3]);
    snprintf(loader, sizeof loader, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64
             " %016" PRIx64, ls.epoch, ls.position, ls.seed, ls.rng.s[0], ls.rng.s[1], ls.rng.s[2], ls.rng.s[3]);
    int used = snprintf(config, sizeof config,
                        "steps=%ld batch=%d lr=%.17g head_lr_mult=%.17g warmup=%ld power=%.17g beta1=%.17g "
                        "beta2=%.17g flip=%d seed=%" PRIu64 " sizes=",
                        tr->cfg.steps, tr->cfg.batch, tr->cfg.lr, tr->cfg.head_lr_mult, tr->cfg.warmup, tr->cfg.power,
                        tr->cfg.beta1, tr->cfg.beta2, tr->cfg.flip, tr->cfg.seed);
    for (int i = 0; i < tr->cfg.nsizes && used > 0 && (size_t)used < sizeof config; i++)
        used += snprintf(config + used, sizeof config - (size_t)used, i ? ",%d" : "%d", tr->cfg.sizes[i]);
    const char *keys[] = {"inas.kind", "inas.step", "inas.rng", "inas.loader", "inas.config"};
    const char *vals[] = {"supernet-training", step, rng, loader, config};
    return ckpt_write(tr->net, path, 1, keys, vals, 5, err);
}

static int parse_config(const char *s, inas_train_config *c) {
    char sizes[128] = "";
    unsigned long long seed;
    int n = sscanf(s,
                   "steps=%ld batch=%d lr=%lg head_lr_mult=%lg warmup=%ld power=%lg beta1=%lg beta2=%lg flip=%d "
                   "seed=%llu sizes=%127s",
                   &c->steps, &c->batch, &c->lr, &c->head_lr_mult, &c->warmup, &c->power, &c->beta1, &c->beta2,
                   &c->flip, &seed, sizes);
    if (n != 11) return 0;
    c->seed = seed;
    c->nsizes = 0;
    for (char *p = sizes; *p && c->nsizes < 16;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v <= 0) return 0;
        c->sizes[c->nsizes++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    return c->nsizes > 0;
}

inas_status inas_trainer_resume(inas_ctx *ctx, const char *checkpoint, const inas_train_config *cfg,
                                void (*on_skip)(void *, const char *, const char *), void *user, inas_trainer **out,
                                inas_error *err) {
    if (!ctx || !checkpoint || !cfg || !out)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_trainer_resume: null argument");
    *out = NULL;
    inas_st_file *f;
    inas_space space;
    inas_status st = ckpt_open(checkpoint, &f, &space, err);
    if (st != INAS_OK) return st;
    inas_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) {
        inas_st_close(f);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    }
    tr->ctx = ctx;
    const char *kind = inas_st_meta(f, "inas.kind"), *cs = inas_st_meta(f, "inas.config");
    const char *rs = inas_st_meta(f, "inas.rng"), *ls = inas_st_meta(f, "inas.loader");
    inas_train_config c;
    inas_train_config_defaults(&c);
    long step = 0, adam = 0;
    inas_loader_state lst;
    unsigned long long e, p, sd;
    if (!kind || strcmp(kind, "supernet-training") != 0 || !cs || !rs || !ls)
        st = inas_error_set(err, INAS_ERR_FORMAT,
                            "%s: not a training checkpoint (inas.kind, inas.config, inas.rng or inas.loader missing)",
                            checkpoint);
    else if (!parse_config(cs, &c))
        st = inas_error_set(err, INAS_ERR_FORMAT, "%s: malformed metadata inas.config: \"%.80s\"", checkpoint, cs);
    else if (sscanf(rs, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64, &tr->rng.s[0], &tr->rng.s[1], &tr->rng.s[2],
                    &tr->rng.s[3]) != 4)
        st = inas_error_set(err, INAS_ERR_FORMAT, "%s: malformed metadata inas.rng", checkpoint);
    else if (sscanf(ls, "%llu %llu %llu %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64, &e, &p, &sd, &lst.rng.s[0],
                    &lst.rng.s[1], &lst.rng.s[2], &lst.rng.s[3]) != 7)
        st = inas_error_set(err, INAS_ERR_FORMAT, "%s: malformed metadata inas.loader", checkpoint);
    if (st == INAS_OK) st = ckpt_meta_long(f, checkpoint, "inas.step", &step, err);
    if (st == INAS_OK) st = ckpt_meta_long(f, checkpoint, "inas.adam_step", &adam, err);
    if (st == INAS_OK) {
        lst.epoch = e;
        lst.position = p;
        lst.seed = sd;
        c.images = cfg->images;
        c.masks = cfg->masks;
        if (cfg->steps > c.steps) c.steps = cfg->steps; /* lengthening the schedule */
        tr->cfg = c;
        tr->step = step;
        st = check_config(&tr->cfg, &space, err);
    }
    if (st == INAS_OK && inas_supernet_create(ctx, &space, 0, &tr->net) != INAS_OK) st = ctx_err(tr, err);
    if (st == INAS_OK) st = inas_params_from_file(&tr->net->ps, f, checkpoint, 1, err);
    if (st == INAS_OK) {
        tr->net->ps.adam_step = adam;
        st = open_data(tr, on_skip, user, err);
    }
    if (st == INAS_OK) st = inas_loader_set_state(tr->loader, &lst, err);
    if (st == INAS_OK) st = alloc_common(tr, err);
    inas_st_close(f);
    if (st != INAS_OK) {
        inas_trainer_destroy(tr);
        return st;
    }
    *out = tr;
    return INAS_OK;
}

/* ---- recalibration -------------------------------------------------------------------- */

inas_status inas_recalibrate(inas_supernet *net, const inas_arch *arch, const inas_pair_list *pairs, int batch,
                             int batches, uint64_t seed, inas_error *err) {
    if (!net || !arch || !pairs || batch < 2 || batches < 1)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_recalibrate: bad arguments (batch >= 2, batches >= 1)");
    inas_ctx *ctx = net->ctx;
    int size = arch->resolution;
    inas_loader_config lc = {.batch = batch, .sizes = &size, .nsizes = 1, .flip = 0, .shuffle = 1, .seed = seed};
    inas_loader *l;
    inas_status st = inas_loader_create(pairs, &lc, NULL, NULL, &l, err);
    if (st != INAS_OK) return st;
    inas_tensor x = {0};
    for (int bi = 0; bi < batches && st == INAS_OK; bi++) {
        const inas_batch *b;
        st = inas_loader_next(l, &b, err);
        if (st != INAS_OK) break;
        inas_tensor outs[INAS_MAX_LEVELS];
        if (inas_tensor_alloc(ctx, &x, b->n, 3, b->size, b->size) != INAS_OK ||
            inas_tensor_write(ctx, &x, b->images) != INAS_OK ||
            inas_supernet_forward(net, arch, &x, INAS_PASS_RECAL, bi, outs) != INAS_OK)
            st = inas_error_set(err, inas_ctx_last_status(ctx), "%s", inas_ctx_last_error(ctx));
        inas_tensor_free(ctx, &x);
    }
    inas_loader_destroy(l);
    return st;
}
