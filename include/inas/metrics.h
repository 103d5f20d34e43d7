/* inas/metrics.h - salient object detection metrics computed exactly as the
 * PySODMetrics toolkit computes them: MAE, F-measure (beta^2 = 0.3; max, mean,
 * adaptive; 256-threshold precision/recall/F curves), S-measure (alpha = 0.5),
 * E-measure (max, mean, adaptive) and weighted F-measure (beta = 1).
 *
 * Conventions (DESIGN.md section 7):
 *  - a mask is an 8-bit gray image, foreground where the value is > 128;
 *  - a prediction p = u8 / 255 is min-max rescaled to [0, 1] unless constant;
 *  - threshold bins use q = (uint8)(p * 255) in double; the curve value at
 *    threshold t counts pixels with q >= t, the precision of an empty
 *    prediction is 0;
 *  - dataset curves (precision, recall, F, E) are the means of the per-image
 *    curves; maxFm/meanFm/maxEm/meanEm are the max/mean of those mean curves;
 *    MAE, Sm, wFm, adpFm and adpEm are means of per-image values.
 * The accumulator keeps running sums only: its memory is constant in the
 * number of images (workspace grows to the largest image). */
#ifndef INAS_METRICS_H
#define INAS_METRICS_H

#include <stddef.h>

#include "inas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INAS_METRICS_THRESHOLDS 256

/* Values for one prediction/mask pair. Curves are indexed by threshold t. */
typedef struct inas_metrics_image {
    double mae, sm, wfm;
    double adp_fm, max_fm, mean_fm; /* max/mean of this image's F curve */
    double adp_em, max_em, mean_em;
    double precision[INAS_METRICS_THRESHOLDS], recall[INAS_METRICS_THRESHOLDS];
    double fm[INAS_METRICS_THRESHOLDS], em[INAS_METRICS_THRESHOLDS];
} inas_metrics_image;

/* Dataset-level values. */
typedef struct inas_metrics_result {
    size_t n; /* images accumulated */
    double mae, sm, wfm;
    double max_fm, mean_fm, adp_fm;
    double max_em, mean_em, adp_em;
    double precision[INAS_METRICS_THRESHOLDS], recall[INAS_METRICS_THRESHOLDS];
    double fm[INAS_METRICS_THRESHOLDS], em[INAS_METRICS_THRESHOLDS];
} inas_metrics_result;

/* ---- accumulator ----------------------------------------------------------- */

typedef struct inas_metrics inas_metrics; /* opaque */

inas_status inas_metrics_create(inas_metrics **out, inas_error *err);
void inas_metrics_destroy(inas_metrics *m); /* accepts NULL */
void inas_metrics_reset(inas_metrics *m);   /* forget all images, keep the workspace */

/* Adds one pair: an 8-bit gray prediction and mask of width x height pixels.
 * When `image` is not NULL it receives this pair's values. */
inas_status inas_metrics_add_u8(inas_metrics *m, const unsigned char *pred, const unsigned char *gt,
                                int width, int height, inas_metrics_image *image, inas_error *err);
/* Same with a prediction already normalised to [0, 1] (see
 * inas_metrics_normalize_*); values outside [0, 1] are an error. */
inas_status inas_metrics_add(inas_metrics *m, const double *pred, const unsigned char *gt, int width,
                             int height, inas_metrics_image *image, inas_error *err);
/* Dataset-level values; INAS_ERR_INVALID_ARG when no image was added. */
inas_status inas_metrics_get(const inas_metrics *m, inas_metrics_result *out, inas_error *err);

/* ---- per-image building blocks ---------------------------------------------- */

/* p = u8 / 255, then (p - min) / (max - min) unless max == min. */
void inas_metrics_normalize_u8(const unsigned char *pred, size_t n, double *out);
/* A float map: min-max rescaled to [0, 1] unless constant (then clamped). */
void inas_metrics_normalize_f32(const float *pred, size_t n, double *out);

/* All metrics of one pair (pred normalised, gt an 8-bit mask). */
inas_status inas_metrics_image_compute(const double *pred, const unsigned char *gt, int width,
                                       int height, inas_metrics_image *out, inas_error *err);

double inas_metric_mae(const double *pred, const unsigned char *gt, size_t n);
/* S-measure with alpha = 0.5. */
double inas_metric_smeasure(const double *pred, const unsigned char *gt, int width, int height);
/* Adaptive F (threshold min(2 mean(p), 1)) and the 256-point curves; any of
 * the curve pointers may be NULL. */
void inas_metric_fmeasure(const double *pred, const unsigned char *gt, size_t n, double *adaptive,
                          double *precision, double *recall, double *fm);
/* Adaptive E-measure and the 256-point curve (may be NULL). */
void inas_metric_emeasure(const double *pred, const unsigned char *gt, size_t n, double *adaptive,
                          double *em);
/* Weighted F-measure (beta = 1); 0 for a mask without foreground. */
inas_status inas_metric_wfmeasure(const double *pred, const unsigned char *gt, int width, int height,
                                  double *out, inas_error *err);

/* ---- directories ------------------------------------------------------------ */

typedef struct inas_eval_callbacks {
    /* A file without a counterpart (skipped): `path` lacks a file with the
     * same stem in `other_dir`. */
    void (*on_missing)(void *user, const char *path, const char *other_dir);
    /* After each pair (stem = file name without extension). */
    void (*on_image)(void *user, const char *stem, const inas_metrics_image *values);
    void *user;
} inas_eval_callbacks;

typedef struct inas_eval_summary {
    size_t pairs;        /* evaluated */
    size_t missing_pred; /* masks without a prediction */
    size_t missing_gt;   /* predictions without a mask */
    size_t resized;      /* predictions resized (bilinear) to their mask's size */
} inas_eval_summary;

/* Pairs the images (.png/.jpg/.jpeg/.bmp) of pred_dir and gt_dir by file stem,
 * loads both as gray, resizes a prediction to its mask's size when they
 * differ, and adds every pair to `m` in file-name order. Files without a
 * counterpart are reported and skipped. An unreadable directory, a directory
 * without images, no matching pair, or an unreadable image (named in the
 * message) is an error. cb and summary may be NULL. */
inas_status inas_metrics_eval_dirs(inas_metrics *m, const char *pred_dir, const char *gt_dir,
                                   const inas_eval_callbacks *cb, inas_eval_summary *summary,
                                   inas_error *err);

#ifdef __cplusplus
}
#endif

#endif /* INAS_METRICS_H */
