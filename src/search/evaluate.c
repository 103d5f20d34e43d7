/* evaluate.c - the search's quality function on a trained supernet: BN
 * recalibration for the candidate, then SOD metrics of its output 0 on the
 * validation set (decoded once and kept on the device). */
#include <stdlib.h>
#include <string.h>

#include "inas/dataset.h"
#include "inas/metrics.h"
#include "inas/search.h"
#include "inas/supernet.h"
#include "inas/train.h"

struct inas_evaluator {
    inas_supernet *net;
    const inas_pair_list *calib;
    int R, calib_batches, batch;
    uint64_t seed;
    size_t nval;
    inas_tensor images;   /* nval x 3 x R x R */
    unsigned char *masks; /* nval x R x R, 0/255 */
    float *pred;
    double *pd;
    inas_metrics *metrics;
};

void inas_evaluator_destroy(inas_evaluator *e) {
    if (!e) return;
    inas_tensor_free(inas_supernet_ctx(e->net), &e->images);
    free(e->masks);
    free(e->pred);
    free(e->pd);
    inas_metrics_destroy(e->metrics);
    free(e);
}

inas_status inas_evaluator_create(struct inas_supernet *net, const struct inas_pair_list *calib,
                                  const struct inas_pair_list *val, int R, int calib_batches, int batch, uint64_t seed,
                                  inas_evaluator **out, inas_error *err) {
    if (!net || !calib || !val || !out || R <= 0 || calib_batches < 1 || batch < 2 || val->n == 0)
        return inas_error_set(err, INAS_ERR_INVALID_ARG,
                              "evaluator: needs validation pairs, R > 0, calib_batches >= 1, batch >= 2");
    *out = NULL;
    inas_ctx *ctx = inas_supernet_ctx(net);
    inas_evaluator *e = calloc(1, sizeof *e);
    if (!e) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    e->net = net;
    e->calib = calib;
    e->R = R;
    e->calib_batches = calib_batches;
    e->batch = batch;
    e->seed = seed;
    e->nval = val->n;
    size_t px = (size_t)R * R;
    float *img = malloc(px * 3 * val->n * sizeof *img), *mask = malloc(px * sizeof *mask);
    e->masks = malloc(px * val->n);
    e->pred = malloc(px * sizeof *e->pred);
    e->pd = malloc(px * sizeof *e->pd);
    inas_status st = (img && mask && e->masks && e->pred && e->pd) ? INAS_OK
                                                                    : inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < val->n && st == INAS_OK; i++) {
        st = inas_load_sample(val->pairs[i].a_path, val->pairs[i].b_path, R, 0, img + i * 3 * px, mask, err);
        for (size_t p = 0; st == INAS_OK && p < px; p++) e->masks[i * px + p] = mask[p] > 0.5f ? 255 : 0;
    }
    if (st == INAS_OK && (inas_tensor_alloc(ctx, &e->images, (int)val->n, 3, R, R) != INAS_OK ||
                          inas_tensor_write(ctx, &e->images, img) != INAS_OK))
        st = inas_error_set(err, inas_ctx_last_status(ctx), "%s", inas_ctx_last_error(ctx));
    if (st == INAS_OK) st = inas_metrics_create(&e->metrics, err);
    free(img);
    free(mask);
    if (st != INAS_OK) {
        inas_evaluator_destroy(e);
        return st;
    }
    *out = e;
    return INAS_OK;
}

inas_status inas_evaluator_quality(void *user, const inas_arch *arch, inas_quality *out, inas_error *err) {
    inas_evaluator *e = user;
    inas_ctx *ctx = inas_supernet_ctx(e->net);
    inas_arch a = *arch;
    a.resolution = e->R;
    inas_status st = inas_recalibrate(e->net, &a, e->calib, e->batch, e->calib_batches, e->seed, err);
    if (st != INAS_OK) return st;
    inas_metrics_reset(e->metrics);
    size_t px = (size_t)e->R * e->R;
    for (size_t i = 0; i < e->nval && st == INAS_OK; i++) {
        inas_tensor x, outs[INAS_MAX_LEVELS];
        inas_tensor_slice_batch(ctx, &e->images, (int)i, 1, &x);
        if (inas_supernet_forward(e->net, &a, &x, INAS_PASS_EVAL, 0, outs) != INAS_OK ||
            inas_tensor_read(ctx, &outs[0], e->pred) != INAS_OK)
            return inas_error_set(err, inas_ctx_last_status(ctx), "%s", inas_ctx_last_error(ctx));
        inas_metrics_normalize_f32(e->pred, px, e->pd);
        st = inas_metrics_add(e->metrics, e->pd, e->masks + i * px, e->R, e->R, NULL, err);
    }
    if (st != INAS_OK) return st;
    inas_metrics_result r;
    st = inas_metrics_get(e->metrics, &r, err);
    if (st != INAS_OK) return st;
    out->max_f = r.max_fm;
    out->mae = r.mae;
    out->s_measure = r.sm;
    return INAS_OK;
}
