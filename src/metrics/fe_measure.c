/* fe_measure.c - normalisation, MAE, F-measure and E-measure (PySODMetrics
 * conventions: bins of (uint8)(p*255), cumulative sums from the top bin,
 * precision 0 for an empty prediction, E-measure in closed form from the four
 * prediction/mask part sizes). */
#include <string.h>

#include "metrics/metrics_internal.h"

static const double BETA2 = 0.3;

void inas_metrics_normalize_u8(const unsigned char *pred, size_t n, double *out) {
    unsigned char lo = 255, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (pred[i] < lo) lo = pred[i];
        if (pred[i] > hi) hi = pred[i];
    }
    double lut[256];
    double vmin = lo / 255.0, vmax = hi / 255.0;
    for (int k = 0; k < 256; k++) {
        double v = k / 255.0;
        lut[k] = vmax != vmin ? (v - vmin) / (vmax - vmin) : v;
    }
    for (size_t i = 0; i < n; i++) out[i] = lut[pred[i]];
}

void inas_metrics_normalize_f32(const float *pred, size_t n, double *out) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = pred[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    for (size_t i = 0; i < n; i++) {
        double v = pred[i];
        if (hi != lo) v = (v - lo) / (hi - lo);
        else v = v < 0 ? 0 : v > 1 ? 1 : v;
        out[i] = v != v ? 0.0 : v;
    }
}

void inas__metrics_pass1(const double *pred, const unsigned char *gt, size_t n, inas__pass1 *out) {
    memset(out, 0, sizeof *out);
    /* Plain sums over blocks of pixels, compensated across blocks. */
    inas__ksum sp = {0, 0}, se = {0, 0};
    size_t nfg = 0;
    for (size_t i0 = 0; i0 < n; i0 += 1024) {
        size_t i1 = i0 + 1024 < n ? i0 + 1024 : n;
        double bp = 0, be = 0;
        for (size_t i = i0; i < i1; i++) {
            double p = pred[i];
            int b = inas__bin(p);
            bp += p;
            if (gt[i] > 128) {
                out->fg_hist[b]++;
                nfg++;
                be += fabs(p - 1.0);
            } else {
                out->bg_hist[b]++;
                be += fabs(p);
            }
        }
        inas__ksum_add(&sp, bp);
        inas__ksum_add(&se, be);
    }
    out->n = n;
    out->nfg = nfg;
    out->mean_pred = inas__ksum_get(&sp) / (double)n;
    out->mae = inas__ksum_get(&se) / (double)n;
}

/* E-measure from the part sizes of a binarised prediction (fg_fg: predicted
 * foreground on mask foreground; fg_bg: predicted foreground on background). */
static double emeasure_parts(double fg_fg, double fg_bg, size_t n, size_t nfg) {
    double size = (double)n, gfg = (double)nfg;
    double pred_fg = fg_fg + fg_bg;
    double pred_bg = size - pred_fg;
    double sum;
    if (nfg == 0) {
        sum = pred_bg;
    } else if (nfg == n) {
        sum = pred_fg;
    } else {
        double bg_fg = gfg - fg_fg;
        double bg_bg = pred_bg - bg_fg;
        double numel[4] = {fg_fg, fg_bg, bg_fg, bg_bg};
        double mp = pred_fg / size, mg = gfg / size;
        double dp_fg = 1 - mp, dp_bg = 0 - mp, dg_fg = 1 - mg, dg_bg = 0 - mg;
        double c0[4] = {dp_fg, dp_fg, dp_bg, dp_bg};
        double c1[4] = {dg_fg, dg_bg, dg_fg, dg_bg};
        sum = 0.0;
        for (int k = 0; k < 4; k++) {
            double align = 2 * (c0[k] * c1[k]) / (c0[k] * c0[k] + c1[k] * c1[k] + INAS_METRICS_EPS);
            double enhanced = (align + 1) * (align + 1) / 4;
            sum += enhanced * numel[k];
        }
    }
    return sum / ((double)(n - 1) + INAS_METRICS_EPS);
}

void inas__metrics_adaptive(const double *pred, const unsigned char *gt, const inas__pass1 *p1,
                            double *adp_fm, double *adp_em) {
    double thr = 2 * p1->mean_pred;
    if (thr > 1) thr = 1;
    size_t fg_fg = 0, fg_bg = 0;
    for (size_t i = 0; i < p1->n; i++) {
        if (pred[i] >= thr) {
            if (gt[i] > 128) fg_fg++;
            else fg_bg++;
        }
    }
    if (adp_fm) {
        if (fg_fg == 0) {
            *adp_fm = 0.0;
        } else {
            double pre = (double)fg_fg / (double)(fg_fg + fg_bg);
            double rec = (double)fg_fg / (double)p1->nfg;
            *adp_fm = (1 + BETA2) * pre * rec / (BETA2 * pre + rec);
        }
    }
    if (adp_em) *adp_em = emeasure_parts((double)fg_fg, (double)fg_bg, p1->n, p1->nfg);
}

void inas__metrics_curves(const inas__pass1 *p1, double *precision, double *recall, double *fm,
                          double *em) {
    size_t tp = 0, fp = 0;
    double t = (double)(p1->nfg > 0 ? p1->nfg : 1);
    for (int k = INAS_METRICS_THRESHOLDS - 1; k >= 0; k--) {
        tp += p1->fg_hist[k];
        fp += p1->bg_hist[k];
        size_t ps = tp + fp;
        double p = (double)tp / (double)(ps ? ps : 1);
        double r = (double)tp / t;
        if (precision) precision[k] = p;
        if (recall) recall[k] = r;
        if (fm) {
            double num = (1 + BETA2) * p * r;
            double den = num == 0 ? 1 : BETA2 * p + r;
            fm[k] = num / den;
        }
        if (em) em[k] = emeasure_parts((double)tp, (double)fp, p1->n, p1->nfg);
    }
}

double inas_metric_mae(const double *pred, const unsigned char *gt, size_t n) {
    if (!pred || !gt || n == 0) return NAN;
    inas__ksum s = {0, 0};
    for (size_t i = 0; i < n; i++) inas__ksum_add(&s, fabs(pred[i] - (gt[i] > 128 ? 1.0 : 0.0)));
    return inas__ksum_get(&s) / (double)n;
}

void inas_metric_fmeasure(const double *pred, const unsigned char *gt, size_t n, double *adaptive,
                          double *precision, double *recall, double *fm) {
    if (!pred || !gt || n == 0) return;
    inas__pass1 p1;
    inas__metrics_pass1(pred, gt, n, &p1);
    if (adaptive) inas__metrics_adaptive(pred, gt, &p1, adaptive, NULL);
    inas__metrics_curves(&p1, precision, recall, fm, NULL);
}

void inas_metric_emeasure(const double *pred, const unsigned char *gt, size_t n, double *adaptive,
                          double *em) {
    if (!pred || !gt || n == 0) return;
    inas__pass1 p1;
    inas__metrics_pass1(pred, gt, n, &p1);
    if (adaptive) inas__metrics_adaptive(pred, gt, &p1, NULL, adaptive);
    inas__metrics_curves(&p1, NULL, NULL, NULL, em);
}
