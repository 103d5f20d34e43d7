/* metrics_internal.h - helpers shared by the metric families inside the
 * library (compensated sums, histogram curves, the weighted-F workspace). Not
 * installed. */
#ifndef INAS_METRICS_INTERNAL_H
#define INAS_METRICS_INTERNAL_H

#include <float.h>
#include <math.h>
#include <stddef.h>

#include "inas/metrics.h"

/* numpy.spacing(1), the epsilon PySODMetrics adds to denominators. */
#define INAS_METRICS_EPS DBL_EPSILON

/* Neumaier compensated sum: accumulating per-image values and pixel sums
 * without drift (numpy uses pairwise summation, which is about as exact). */
typedef struct inas__ksum {
    double s, c;
} inas__ksum;

static inline void inas__ksum_add(inas__ksum *k, double x) {
    double t = k->s + x;
    if (fabs(k->s) >= fabs(x)) k->c += (k->s - t) + x;
    else k->c += (x - t) + k->s;
    k->s = t;
}
static inline double inas__ksum_get(const inas__ksum *k) { return k->s + k->c; }

/* Threshold bin of a normalised prediction value: (uint8)(p * 255). */
static inline int inas__bin(double p) {
    double v = p * 255.0;
    if (!(v >= 0.0)) return 0;
    if (v >= 255.0) return 255;
    return (int)v;
}

/* First pass over a pair: histograms of bins over mask foreground/background,
 * foreground count, and compensated sums of p and |p - gt|. */
typedef struct inas__pass1 {
    size_t fg_hist[INAS_METRICS_THRESHOLDS], bg_hist[INAS_METRICS_THRESHOLDS];
    size_t n, nfg;
    double mean_pred, mae;
} inas__pass1;

void inas__metrics_pass1(const double *pred, const unsigned char *gt, size_t n, inas__pass1 *out);
/* Adaptive F and E from the first pass (one more pass over the pixels). */
void inas__metrics_adaptive(const double *pred, const unsigned char *gt, const inas__pass1 *p1,
                            double *adp_fm, double *adp_em);
/* The 256-point curves from the histograms; any output may be NULL. */
void inas__metrics_curves(const inas__pass1 *p1, double *precision, double *recall, double *fm,
                          double *em);

/* Weighted-F workspace, grown to the largest image seen. */
typedef struct inas__wfm_ws {
    size_t cap;    /* pixels */
    size_t lcap;   /* line length */
    int *fr, *fc;  /* nearest-foreground row/col per pixel */
    double *e, *et, *tmp;
    int *lr, *lc, *g; /* one line of candidate rows/cols and the envelope */
    double *lut;      /* cached pixel importance by squared distance */
} inas__wfm_ws;

void inas__wfm_ws_free(inas__wfm_ws *ws);
inas_status inas__wfmeasure(const double *pred, const unsigned char *gt, int width, int height,
                            inas__wfm_ws *ws, double *out, inas_error *err);

#endif
