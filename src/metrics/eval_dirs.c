/* eval_dirs.c - directory-level evaluation: pair prediction and mask files by
 * stem (inas_pair_dirs), report files without a counterpart, load both as gray (resizing a
 * prediction to its mask's size, bilinear) and feed the accumulator. */
#include <stdlib.h>
#include <string.h>

#include "inas/dataset.h"
#include "inas/image.h"
#include "metrics/metrics_internal.h"

static void report_missing(const inas_eval_callbacks *cb, const char *path, const char *other) {
    if (cb && cb->on_missing) cb->on_missing(cb->user, path, other);
}

static inas_status eval_pair(inas_metrics *m, const char *pred_path, const char *gt_path,
                             const char *stem, const inas_eval_callbacks *cb, inas_eval_summary *s,
                             inas_metrics_image *vals, inas_error *err) {
    inas_image gt = {0}, pr = {0};
    inas_status st = inas_image_load(gt_path, INAS_IMAGE_GRAY, &gt, err);
    if (st != INAS_OK) return st;
    st = inas_image_load(pred_path, INAS_IMAGE_GRAY, &pr, err);
    if (st != INAS_OK) {
        inas_image_free(&gt);
        return st;
    }
    if (pr.width != gt.width || pr.height != gt.height) {
        inas_image rs;
        st = inas_image_resize(&pr, gt.width, gt.height, &rs, err);
        inas_image_free(&pr);
        if (st != INAS_OK) {
            inas_image_free(&gt);
            return inas_error_prefix(err, "%s", pred_path);
        }
        pr = rs;
        s->resized++;
    }
    st = inas_metrics_add_u8(m, pr.data, gt.data, gt.width, gt.height, vals, err);
    inas_image_free(&gt);
    inas_image_free(&pr);
    if (st != INAS_OK) return inas_error_prefix(err, "%s", pred_path);
    s->pairs++;
    if (cb && cb->on_image) cb->on_image(cb->user, stem, vals);
    return INAS_OK;
}

inas_status inas_metrics_eval_dirs(inas_metrics *m, const char *pred_dir, const char *gt_dir,
                                   const inas_eval_callbacks *cb, inas_eval_summary *summary,
                                   inas_error *err) {
    if (!m || !pred_dir || !gt_dir)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_metrics_eval_dirs: NULL argument");
    inas_eval_summary s = {0};
    inas_pair_list pl;
    inas_status st = inas_pair_dirs(pred_dir, gt_dir, &pl, err);
    if (st != INAS_OK) return st;
    inas_metrics_image *vals = malloc(sizeof *vals);
    if (!vals) {
        inas_pair_list_free(&pl);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < pl.n_only_a; i++) report_missing(cb, pl.only_a[i], gt_dir);
    for (size_t i = 0; i < pl.n_only_b; i++) report_missing(cb, pl.only_b[i], pred_dir);
    s.missing_gt = pl.n_only_a;
    s.missing_pred = pl.n_only_b;
    for (size_t i = 0; i < pl.n && st == INAS_OK; i++)
        st = eval_pair(m, pl.pairs[i].a_path, pl.pairs[i].b_path, pl.pairs[i].stem, cb, &s, vals, err);
    free(vals);
    inas_pair_list_free(&pl);
    if (summary) *summary = s;
    if (st == INAS_OK && s.pairs == 0)
        st = inas_error_set(err, INAS_ERR_NOT_FOUND,
                            "no prediction in %s has a mask with the same file stem in %s", pred_dir, gt_dir);
    return st;
}
