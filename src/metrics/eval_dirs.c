/* eval_dirs.c - directory-level evaluation: pair prediction and mask files by
 * stem, report files without a counterpart, load both as gray (resizing a
 * prediction to its mask's size, bilinear) and feed the accumulator. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inas/image.h"
#include "metrics/metrics_internal.h"

typedef struct entry {
    char *name; /* file name */
    size_t stem_len;
    int prio;   /* preferred extension first when two files share a stem */
} entry;

typedef struct listing {
    entry *e;
    size_t n;
} listing;

static void listing_free(listing *l) {
    for (size_t i = 0; i < l->n; i++) free(l->e[i].name);
    free(l->e);
    l->e = NULL;
    l->n = 0;
}

static int ext_prio(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 9;
    if (strcasecmp(dot, ".png") == 0) return 0;
    if (strcasecmp(dot, ".jpg") == 0) return 1;
    if (strcasecmp(dot, ".jpeg") == 0) return 2;
    return 3;
}

static int stem_cmp(const entry *a, const entry *b) {
    size_t n = a->stem_len < b->stem_len ? a->stem_len : b->stem_len;
    int c = memcmp(a->name, b->name, n);
    if (c) return c;
    if (a->stem_len != b->stem_len) return a->stem_len < b->stem_len ? -1 : 1;
    return 0;
}

static int entry_cmp(const void *pa, const void *pb) {
    const entry *a = pa, *b = pb;
    int c = stem_cmp(a, b);
    if (c) return c;
    return a->prio - b->prio;
}

static inas_status list_images(const char *dir, listing *out, inas_error *err) {
    out->e = NULL;
    out->n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return inas_error_set(err, errno == ENOENT ? INAS_ERR_NOT_FOUND : INAS_ERR_IO,
                              "%s: cannot open directory: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !inas_image_has_supported_ext(de->d_name)) continue;
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            entry *ne = realloc(out->e, nc * sizeof *ne);
            if (!ne) goto oom;
            out->e = ne;
            cap = nc;
        }
        char *nm = strdup(de->d_name);
        if (!nm) goto oom;
        out->e[out->n].name = nm;
        out->e[out->n].stem_len = (size_t)(strrchr(nm, '.') - nm);
        out->e[out->n].prio = ext_prio(nm);
        out->n++;
    }
    closedir(d);
    if (out->n == 0) return inas_error_set(err, INAS_ERR_NOT_FOUND, "%s: no images (.png, .jpg, .jpeg, .bmp)", dir);
    qsort(out->e, out->n, sizeof *out->e, entry_cmp);
    /* Keep one file per stem (the preferred extension). */
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (k > 0 && stem_cmp(&out->e[k - 1], &out->e[i]) == 0) {
            free(out->e[i].name);
            continue;
        }
        out->e[k++] = out->e[i];
    }
    out->n = k;
    return INAS_OK;
oom:
    closedir(d);
    listing_free(out);
    return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s: out of memory listing the directory", dir);
}

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static void report_missing(const inas_eval_callbacks *cb, const char *dir, const char *name,
                           const char *other) {
    if (!cb || !cb->on_missing) return;
    char *p = join(dir, name);
    cb->on_missing(cb->user, p ? p : name, other);
    free(p);
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
    listing lp, lg;
    inas_status st = list_images(pred_dir, &lp, err);
    if (st != INAS_OK) return st;
    st = list_images(gt_dir, &lg, err);
    if (st != INAS_OK) {
        listing_free(&lp);
        return st;
    }
    inas_metrics_image *vals = malloc(sizeof *vals);
    if (!vals) {
        listing_free(&lp);
        listing_free(&lg);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    }
    size_t i = 0, j = 0;
    while (st == INAS_OK && (i < lp.n || j < lg.n)) {
        int c = i >= lp.n ? 1 : j >= lg.n ? -1 : stem_cmp(&lp.e[i], &lg.e[j]);
        if (c < 0) {
            report_missing(cb, pred_dir, lp.e[i].name, gt_dir);
            s.missing_gt++;
            i++;
        } else if (c > 0) {
            report_missing(cb, gt_dir, lg.e[j].name, pred_dir);
            s.missing_pred++;
            j++;
        } else {
            char *pp = join(pred_dir, lp.e[i].name), *gp = join(gt_dir, lg.e[j].name);
            char *stem = strndup(lg.e[j].name, lg.e[j].stem_len);
            if (!pp || !gp || !stem) st = inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
            else st = eval_pair(m, pp, gp, stem, cb, &s, vals, err);
            free(pp);
            free(gp);
            free(stem);
            i++;
            j++;
        }
    }
    free(vals);
    listing_free(&lp);
    listing_free(&lg);
    if (summary) *summary = s;
    if (st == INAS_OK && s.pairs == 0)
        st = inas_error_set(err, INAS_ERR_NOT_FOUND,
                            "no prediction in %s has a mask with the same file stem in %s", pred_dir, gt_dir);
    return st;
}
