/* accumulator.c - the dataset-level metrics accumulator: per-image values
 * (all families on one pair) and running compensated sums of the per-image
 * values and curves, so memory does not grow with the number of images. */
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_internal.h"

#define NT INAS_METRICS_THRESHOLDS

struct inas_metrics {
    size_t n;
    inas__ksum mae, sm, wfm, adp_fm, adp_em;
    inas__ksum p[NT], r[NT], f[NT], e[NT];
    double *pred;
    size_t pred_cap;
    inas__wfm_ws ws;
    inas_metrics_image scratch;
};

static void curve_stats(const double *c, double *mx, double *mean) {
    inas__ksum s = {0, 0};
    double m = c[0];
    for (int k = 0; k < NT; k++) {
        if (c[k] > m) m = c[k];
        inas__ksum_add(&s, c[k]);
    }
    *mx = m;
    *mean = inas__ksum_get(&s) / NT;
}

static inas_status compute_image(const double *pred, const unsigned char *gt, int w, int h,
                                 inas__wfm_ws *ws, inas_metrics_image *o, inas_error *err) {
    size_t n = (size_t)w * (size_t)h;
    inas__pass1 p1;
    inas__metrics_pass1(pred, gt, n, &p1);
    o->mae = p1.mae;
    inas__metrics_adaptive(pred, gt, &p1, &o->adp_fm, &o->adp_em);
    inas__metrics_curves(&p1, o->precision, o->recall, o->fm, o->em);
    curve_stats(o->fm, &o->max_fm, &o->mean_fm);
    curve_stats(o->em, &o->max_em, &o->mean_em);
    o->sm = inas_metric_smeasure(pred, gt, w, h);
    return inas__wfmeasure(pred, gt, w, h, ws, &o->wfm, err);
}

static inas_status check_args(const void *pred, const unsigned char *gt, int w, int h,
                              inas_error *err) {
    if (!pred || !gt)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "metrics: NULL prediction or mask");
    if (w <= 0 || h <= 0 || (size_t)w * (size_t)h > ((size_t)1 << 30) || w > (1 << 24) || h > (1 << 24))
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "metrics: bad image size %dx%d", w, h);
    return INAS_OK;
}

inas_status inas_metrics_image_compute(const double *pred, const unsigned char *gt, int width,
                                       int height, inas_metrics_image *out, inas_error *err) {
    inas_status st = check_args(pred, gt, width, height, err);
    if (st != INAS_OK) return st;
    if (!out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "metrics: NULL output");
    inas__wfm_ws ws = {0};
    st = compute_image(pred, gt, width, height, &ws, out, err);
    inas__wfm_ws_free(&ws);
    return st;
}

inas_status inas_metrics_create(inas_metrics **out, inas_error *err) {
    if (!out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_metrics_create: out is NULL");
    inas_metrics *m = calloc(1, sizeof *m);
    if (!m) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory for a metrics accumulator");
    *out = m;
    return INAS_OK;
}

void inas_metrics_destroy(inas_metrics *m) {
    if (!m) return;
    free(m->pred);
    inas__wfm_ws_free(&m->ws);
    free(m);
}

void inas_metrics_reset(inas_metrics *m) {
    if (!m) return;
    m->n = 0;
    memset(&m->mae, 0, sizeof m->mae);
    memset(&m->sm, 0, sizeof m->sm);
    memset(&m->wfm, 0, sizeof m->wfm);
    memset(&m->adp_fm, 0, sizeof m->adp_fm);
    memset(&m->adp_em, 0, sizeof m->adp_em);
    memset(m->p, 0, sizeof m->p);
    memset(m->r, 0, sizeof m->r);
    memset(m->f, 0, sizeof m->f);
    memset(m->e, 0, sizeof m->e);
}

static inas_status add_normalized(inas_metrics *m, const double *pred, const unsigned char *gt, int w,
                                  int h, inas_metrics_image *image, inas_error *err) {
    inas_metrics_image *o = image ? image : &m->scratch;
    inas_status st = compute_image(pred, gt, w, h, &m->ws, o, err);
    if (st != INAS_OK) return st;
    m->n++;
    inas__ksum_add(&m->mae, o->mae);
    inas__ksum_add(&m->sm, o->sm);
    inas__ksum_add(&m->wfm, o->wfm);
    inas__ksum_add(&m->adp_fm, o->adp_fm);
    inas__ksum_add(&m->adp_em, o->adp_em);
    for (int k = 0; k < NT; k++) {
        inas__ksum_add(&m->p[k], o->precision[k]);
        inas__ksum_add(&m->r[k], o->recall[k]);
        inas__ksum_add(&m->f[k], o->fm[k]);
        inas__ksum_add(&m->e[k], o->em[k]);
    }
    return INAS_OK;
}

static int reserve_pred(inas_metrics *m, size_t n) {
    if (n <= m->pred_cap) return 1;
    double *p = realloc(m->pred, n * sizeof *p);
    if (!p) return 0;
    m->pred = p;
    m->pred_cap = n;
    return 1;
}

inas_status inas_metrics_add_u8(inas_metrics *m, const unsigned char *pred, const unsigned char *gt,
                                int width, int height, inas_metrics_image *image, inas_error *err) {
    if (!m) return inas_error_set(err, INAS_ERR_INVALID_ARG, "metrics: NULL accumulator");
    inas_status st = check_args(pred, gt, width, height, err);
    if (st != INAS_OK) return st;
    size_t n = (size_t)width * (size_t)height;
    if (!reserve_pred(m, n))
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory for a %dx%d prediction", width, height);
    inas_metrics_normalize_u8(pred, n, m->pred);
    return add_normalized(m, m->pred, gt, width, height, image, err);
}

inas_status inas_metrics_add(inas_metrics *m, const double *pred, const unsigned char *gt, int width,
                             int height, inas_metrics_image *image, inas_error *err) {
    if (!m) return inas_error_set(err, INAS_ERR_INVALID_ARG, "metrics: NULL accumulator");
    inas_status st = check_args(pred, gt, width, height, err);
    if (st != INAS_OK) return st;
    size_t n = (size_t)width * (size_t)height;
    for (size_t i = 0; i < n; i++)
        if (!(pred[i] >= 0.0 && pred[i] <= 1.0))
            return inas_error_set(err, INAS_ERR_INVALID_ARG,
                                  "metrics: prediction value %g at pixel %zu is outside [0, 1]", pred[i], i);
    return add_normalized(m, pred, gt, width, height, image, err);
}

inas_status inas_metrics_get(const inas_metrics *m, inas_metrics_result *out, inas_error *err) {
    if (!m || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_metrics_get: NULL argument");
    if (m->n == 0) return inas_error_set(err, INAS_ERR_INVALID_ARG, "metrics: no image was added");
    double n = (double)m->n;
    out->n = m->n;
    out->mae = inas__ksum_get(&m->mae) / n;
    out->sm = inas__ksum_get(&m->sm) / n;
    out->wfm = inas__ksum_get(&m->wfm) / n;
    out->adp_fm = inas__ksum_get(&m->adp_fm) / n;
    out->adp_em = inas__ksum_get(&m->adp_em) / n;
    for (int k = 0; k < NT; k++) {
        out->precision[k] = inas__ksum_get(&m->p[k]) / n;
        out->recall[k] = inas__ksum_get(&m->r[k]) / n;
        out->fm[k] = inas__ksum_get(&m->f[k]) / n;
        out->em[k] = inas__ksum_get(&m->e[k]) / n;
    }
    curve_stats(out->fm, &out->max_fm, &out->mean_fm);
    curve_stats(out->em, &out->max_em, &out->mean_em);
    return INAS_OK;
}
