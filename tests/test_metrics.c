/* test_metrics.c - the SOD metrics against the PySODMetrics oracle values in
 * ../shared/data/sod-metrics-oracle (1e-9, wFm 1e-5), hand-computed small
 * cases (constant predictions, empty and all-foreground masks, S-measure
 * special cases, curves), the accumulator, the directory helper and the
 * `inas eval` command. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inas/image.h"
#include "inas/metrics.h"
#include "testutil.h"

#define EPS DBL_EPSILON


/* ---- oracle ------------------------------------------------------------------ */

typedef struct oracle_image {
    char name[128];
    double mae, sm, wfm, adp_fm, adp_em;
    int seen;
} oracle_image;

typedef struct oracle {
    double mae, sm, wfm, max_fm, mean_fm, adp_fm, max_em, mean_em, adp_em;
    oracle_image img[16];
    int n;
} oracle;

static double field(const char *line, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "%s:", key);
    const char *p = line;
    size_t kl = strlen(pat);
    while ((p = strstr(p, pat)) != NULL) {
        /* whole key: preceded by a space, '{' or line start */
        if (p == line || p[-1] == ' ' || p[-1] == '{') return strtod(p + kl, NULL);
        p += kl;
    }
    cr_assert_fail("key %s missing in line: %s", key, line);
    return NAN;
}

/* A small reader for expected.yaml's fixed layout (dataset: / per_image:). */
static void load_oracle(const char *path, oracle *o) {
    memset(o, 0, sizeof *o);
    size_t len;
    char *text = tu_read_file(path, &len);
    cr_assert_not_null(text, "cannot read %s", path);
    int section = 0, got = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        if (strncmp(line, "dataset:", 8) == 0) { section = 1; continue; }
        if (strncmp(line, "per_image:", 10) == 0) { section = 2; continue; }
        if (section == 1) {
            char key[32];
            double v;
            if (sscanf(line, " %31[A-Za-z]: %lf", key, &v) != 2) continue;
            got++;
            if (!strcmp(key, "MAE")) o->mae = v;
            else if (!strcmp(key, "Sm")) o->sm = v;
            else if (!strcmp(key, "wFm")) o->wfm = v;
            else if (!strcmp(key, "maxFm")) o->max_fm = v;
            else if (!strcmp(key, "meanFm")) o->mean_fm = v;
            else if (!strcmp(key, "adpFm")) o->adp_fm = v;
            else if (!strcmp(key, "maxEm")) o->max_em = v;
            else if (!strcmp(key, "meanEm")) o->mean_em = v;
            else if (!strcmp(key, "adpEm")) o->adp_em = v;
            else got--;
        } else if (section == 2) {
            char *q1 = strchr(line, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
            if (!q2) continue;
            cr_assert_lt(o->n, 16);
            oracle_image *im = &o->img[o->n++];
            snprintf(im->name, sizeof im->name, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
            char *dot = strrchr(im->name, '.');
            if (dot) *dot = '\0'; /* compare by stem */
            im->mae = field(q2, "MAE");
            im->sm = field(q2, "Sm");
            im->wfm = field(q2, "wFm");
            im->adp_fm = field(q2, "adpFm");
            im->adp_em = field(q2, "adpEm");
        }
    }
    cr_assert_eq(got, 9, "expected 9 dataset values in %s, got %d", path, got);
    cr_assert_eq(o->n, 3, "expected 3 per-image rows, got %d", o->n);
    free(text);
}

static void on_oracle_image(void *user, const char *stem, const inas_metrics_image *v) {
    oracle *o = user;
    for (int i = 0; i < o->n; i++) {
        oracle_image *im = &o->img[i];
        if (strcmp(im->name, stem) != 0) continue;
        im->seen = 1;
        cr_expect_float_eq(v->mae, im->mae, 1e-9, "%s MAE %.17g vs %.17g", stem, v->mae, im->mae);
        cr_expect_float_eq(v->sm, im->sm, 1e-9, "%s Sm %.17g vs %.17g", stem, v->sm, im->sm);
        cr_expect_float_eq(v->wfm, im->wfm, 1e-5, "%s wFm %.17g vs %.17g", stem, v->wfm, im->wfm);
        cr_expect_float_eq(v->adp_fm, im->adp_fm, 1e-9, "%s adpFm %.17g vs %.17g", stem, v->adp_fm, im->adp_fm);
        cr_expect_float_eq(v->adp_em, im->adp_em, 1e-9, "%s adpEm %.17g vs %.17g", stem, v->adp_em, im->adp_em);
        return;
    }
    cr_expect_fail("unexpected image %s", stem);
}

#define CHECK(name, got, want, tol) \
    cr_expect_float_eq((got), (want), (tol), "%s: got %.17g, want %.17g", name, (double)(got), (double)(want))

Test(oracle, dataset_and_per_image_values) {
    char dir[4096], pred[4200], gt[4200], yaml[4200];
    TU_REQUIRE_DATA(dir, "sod-metrics-oracle");
    snprintf(pred, sizeof pred, "%s/preds", dir);
    snprintf(gt, sizeof gt, "%s/masks", dir);
    snprintf(yaml, sizeof yaml, "%s/expected.yaml", dir);
    oracle o;
    load_oracle(yaml, &o);
    inas_metrics *m = NULL;
    inas_error err;
    cr_assert_eq(inas_metrics_create(&m, &err), INAS_OK);
    inas_eval_callbacks cb = {NULL, on_oracle_image, &o};
    inas_eval_summary sum;
    cr_assert_eq(inas_metrics_eval_dirs(m, pred, gt, &cb, &sum, &err), INAS_OK, "%s", err.message);
    cr_expect_eq(sum.pairs, 3);
    cr_expect_eq(sum.missing_pred + sum.missing_gt, 0);
    for (int i = 0; i < o.n; i++) cr_expect(o.img[i].seen, "%s not evaluated", o.img[i].name);
    inas_metrics_result r;
    cr_assert_eq(inas_metrics_get(m, &r, &err), INAS_OK);
    cr_expect_eq(r.n, 3);
    CHECK("MAE", r.mae, o.mae, 1e-9);
    CHECK("Sm", r.sm, o.sm, 1e-9);
    CHECK("wFm", r.wfm, o.wfm, 1e-5);
    CHECK("maxFm", r.max_fm, o.max_fm, 1e-9);
    CHECK("meanFm", r.mean_fm, o.mean_fm, 1e-9);
    CHECK("adpFm", r.adp_fm, o.adp_fm, 1e-9);
    CHECK("maxEm", r.max_em, o.max_em, 1e-9);
    CHECK("meanEm", r.mean_em, o.mean_em, 1e-9);
    CHECK("adpEm", r.adp_em, o.adp_em, 1e-9);
    inas_metrics_destroy(m);
}

/* ---- hand-computed cases ------------------------------------------------------ */

static void compute_u8(const unsigned char *pred, const unsigned char *gt, int w, int h,
                       inas_metrics_image *v) {
    double *p = malloc(sizeof(double) * (size_t)w * h);
    cr_assert_not_null(p);
    inas_metrics_normalize_u8(pred, (size_t)w * h, p);
    inas_error err;
    cr_assert_eq(inas_metrics_image_compute(p, gt, w, h, v, &err), INAS_OK, "%s", err.message);
    free(p);
}

/* 2x2: p = {0, 1, 128/255, 1}, mask = {bg, fg, fg, bg}; bins {0, 255, 128, 255}. */
Test(hand, fmeasure_curve_on_2x2) {
    const unsigned char pred[4] = {0, 255, 128, 255}, gt[4] = {0, 255, 255, 0};
    inas_metrics_image *v = malloc(sizeof *v);
    compute_u8(pred, gt, 2, 2, v);
    CHECK("MAE", v->mae, (0 + 0 + (1 - 128 / 255.0) + 1) / 4, 1e-15);
    CHECK("P[0]", v->precision[0], 0.5, 1e-15);
    CHECK("R[0]", v->recall[0], 1.0, 1e-15);
    CHECK("F[0]", v->fm[0], 1.3 * 0.5 / (0.3 * 0.5 + 1), 1e-15);
    for (int t = 1; t <= 128; t++) {
        CHECK("P[1..128]", v->precision[t], 2.0 / 3, 1e-15);
        CHECK("F[1..128]", v->fm[t], 1.3 * (2.0 / 3) / (0.3 * (2.0 / 3) + 1), 1e-15);
    }
    for (int t = 129; t <= 255; t++) {
        CHECK("P[129..255]", v->precision[t], 0.5, 1e-15);
        CHECK("R[129..255]", v->recall[t], 0.5, 1e-15);
        CHECK("F[129..255]", v->fm[t], 0.5, 1e-15);
    }
    /* adaptive threshold min(2 * mean, 1) = 1: only the two p = 1 pixels */
    CHECK("adpFm", v->adp_fm, 0.5, 1e-15);
    free(v);
}

/* A perfect binary prediction: MAE 0, Sm 1, wFm 1, F 1, E = N / (N - 1). */
Test(hand, perfect_prediction) {
    enum { W = 20, H = 10 };
    unsigned char gt[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) gt[y * W + x] = (x >= 4 && x < 9 && y >= 2 && y < 7) ? 255 : 0;
    inas_metrics_image *v = malloc(sizeof *v);
    compute_u8(gt, gt, W, H, v);
    CHECK("MAE", v->mae, 0, 0);
    CHECK("Sm", v->sm, 1, 1e-12);
    CHECK("wFm", v->wfm, 1, 1e-12);
    CHECK("adpFm", v->adp_fm, 1, 1e-15);
    CHECK("maxFm", v->max_fm, 1, 1e-15);
    CHECK("adpEm", v->adp_em, (double)(W * H) / (W * H - 1), 1e-12);
    CHECK("maxEm", v->max_em, (double)(W * H) / (W * H - 1), 1e-12);
    free(v);
}

/* An empty mask: Sm = 1 - mean(p), wFm = 0, adaptive F = 0, precision curve 0;
 * E counts predicted background: with p == 0 everywhere the adaptive threshold
 * is 0, so every pixel is predicted foreground and adpEm = 0. */
Test(hand, empty_mask) {
    enum { N = 12 };
    unsigned char gt[N] = {0}, zero[N] = {0}, pred[N];
    for (int i = 0; i < N; i++) pred[i] = (unsigned char)(i * 20);
    inas_metrics_image *v = malloc(sizeof *v);
    compute_u8(pred, gt, 4, 3, v);
    double mean = 0;
    for (int i = 0; i < N; i++) mean += (i * 20 / 255.0 - 0) / (220 / 255.0);
    mean /= N;
    CHECK("Sm", v->sm, 1 - mean, 1e-12);
    CHECK("MAE", v->mae, mean, 1e-12);
    CHECK("wFm", v->wfm, 0, 0);
    CHECK("adpFm", v->adp_fm, 0, 0);
    for (int t = 0; t < 256; t++) CHECK("P", v->precision[t], 0, 0);
    compute_u8(zero, gt, 4, 3, v);
    CHECK("Sm(p=0)", v->sm, 1, 0);
    CHECK("adpEm(p=0)", v->adp_em, 0, 0);
    CHECK("Em[0](p=0)", v->em[0], 0, 0);
    CHECK("Em[1](p=0)", v->em[1], (double)N / (N - 1 + EPS), 1e-15);
    free(v);
}

/* An all-foreground mask: Sm = mean(p); E counts predicted foreground. */
Test(hand, all_foreground_mask) {
    enum { N = 6 };
    unsigned char gt[N], pred[N] = {10, 20, 30, 40, 50, 60};
    memset(gt, 255, sizeof gt);
    inas_metrics_image *v = malloc(sizeof *v);
    compute_u8(pred, gt, 3, 2, v);
    double mean = (0 + 0.2 + 0.4 + 0.6 + 0.8 + 1.0) / 6;
    CHECK("Sm", v->sm, mean, 1e-12);
    CHECK("MAE", v->mae, 1 - mean, 1e-12);
    CHECK("R[0]", v->recall[0], 1, 0);
    CHECK("Em[0]", v->em[0], (double)N / (N - 1), 1e-12);
    free(v);
}

/* A constant prediction is not rescaled: p = c / 255. */
Test(hand, constant_prediction) {
    enum { N = 8 };
    unsigned char gt[N] = {255, 255, 0, 0, 0, 0, 0, 0}, pred[N];
    memset(pred, 51, sizeof pred);
    inas_metrics_image *v = malloc(sizeof *v);
    compute_u8(pred, gt, 4, 2, v);
    double p = 51 / 255.0;
    CHECK("MAE", v->mae, (2 * (1 - p) + 6 * p) / 8, 1e-15);
    /* bin (uint8)(0.2 * 255) = 51: everything predicted at t <= 51 */
    CHECK("P[51]", v->precision[51], 0.25, 0);
    CHECK("P[52]", v->precision[52], 0, 0);
    CHECK("R[51]", v->recall[51], 1, 0);
    /* adaptive threshold 2p = 0.4 > p: nothing predicted */
    CHECK("adpFm", v->adp_fm, 0, 0);
    /* constant prediction, all-background mask: Sm = 1 - p; all-fg: Sm = p */
    unsigned char bg[N] = {0}, fg[N];
    memset(fg, 255, sizeof fg);
    compute_u8(pred, bg, 4, 2, v);
    CHECK("Sm bg", v->sm, 1 - p, 1e-15);
    compute_u8(pred, fg, 4, 2, v);
    CHECK("Sm fg", v->sm, p, 1e-15);
    free(v);
}

/* Min-max rescaling: predictions {100, 200} and {0, 255} are the same map. */
Test(hand, minmax_rescaling) {
    enum { W = 9, H = 7 };
    unsigned char gt[W * H], a[W * H], b[W * H];
    for (int i = 0; i < W * H; i++) {
        gt[i] = (i % 5 == 0 || i % 7 == 1) ? 200 : 30;
        int on = (i * 37) % 11 < 5;
        a[i] = on ? 200 : 100;
        b[i] = on ? 255 : 0;
    }
    inas_metrics_image *va = malloc(sizeof *va), *vb = malloc(sizeof *vb);
    compute_u8(a, gt, W, H, va);
    compute_u8(b, gt, W, H, vb);
    CHECK("MAE", va->mae, vb->mae, 0);
    CHECK("Sm", va->sm, vb->sm, 0);
    CHECK("wFm", va->wfm, vb->wfm, 0);
    CHECK("maxFm", va->max_fm, vb->max_fm, 0);
    CHECK("adpEm", va->adp_em, vb->adp_em, 0);
    free(va);
    free(vb);
}

/* Mask binarisation is > 128: 128 is background, 129 foreground. */
Test(hand, mask_threshold_is_above_128) {
    unsigned char pred[2] = {0, 255}, g1[2] = {128, 129}, g2[2] = {0, 255};
    inas_metrics_image *v1 = malloc(sizeof *v1), *v2 = malloc(sizeof *v2);
    compute_u8(pred, g1, 2, 1, v1);
    compute_u8(pred, g2, 2, 1, v2);
    CHECK("MAE", v1->mae, 0, 0);
    CHECK("Sm", v1->sm, v2->sm, 0);
    free(v1);
    free(v2);
}

/* S-measure on a hand-checkable split: a 2x4 map, foreground the left half.
 * Object term: fg x = p, bg x = 1 - p; region term from the centroid split. */
Test(hand, smeasure_matches_formula) {
    /* mask: columns 0-1 foreground; pred exact except one wrong bg pixel */
    unsigned char gt[8] = {255, 255, 0, 0, 255, 255, 0, 0};
    unsigned char pr[8] = {255, 255, 0, 255, 255, 255, 0, 0};
    inas_metrics_image *v = malloc(sizeof *v);
    compute_u8(pr, gt, 4, 2, v);
    /* object: fg all 1 -> 2/(1+1+0+eps); bg x = {1, 0, 1, 1}: mean .75, sd .5 */
    double fg = 2.0 / (2 + EPS), bgm = 0.75, bgs = 0.5;
    double bg = 2 * bgm / (bgm * bgm + 1 + bgs + EPS);
    double object = fg * 0.5 + bg * 0.5;
    /* centroid: rows mean 0.5 -> round half even 0 -> cy 1; cols mean 0.5 -> 0 -> cx 1 */
    /* blocks: LT rows[0,1) cols[0,1): p {1}, g {1}: N=1 -> sigmas 0 -> alpha 0, beta 0 -> 1 */
    double w_lt = 1.0 / 8, w_rt = 3.0 / 8, w_lb = 1.0 / 8, w_rb = 1 - w_lt - w_rt - w_lb;
    /* RT: row 0 cols 1..3: p {1,0,1}, g {1,0,0} */
    double px = 2.0 / 3, gy = 1.0 / 3, n1 = 2 + EPS;
    double sx = ((1 - px) * (1 - px) * 2 + px * px) / n1;
    double sy = ((1 - gy) * (1 - gy) + gy * gy * 2) / n1;
    double sxy = ((1 - px) * (1 - gy) + (0 - px) * (0 - gy) + (1 - px) * (0 - gy)) / n1;
    double rt = (4 * px * gy * sxy) / ((px * px + gy * gy) * (sx + sy) + EPS);
    /* LB: row 1 col 0: p {1}, g {1} -> 1; RB: row 1 cols 1..3: p {1,0,0}, g {1,0,0} */
    double x2 = 1.0 / 3, s2 = ((1 - x2) * (1 - x2) + 2 * x2 * x2) / n1;
    double rb = (4 * x2 * x2 * s2) / ((2 * x2 * x2) * (2 * s2) + EPS);
    double region = 1 * w_lt + rt * w_rt + 1 * w_lb + rb * w_rb;
    CHECK("Sm", v->sm, object * 0.5 + region * 0.5, 1e-12);
    free(v);
}

/* The centroid on the last column leaves empty blocks: they contribute
 * nothing (numpy would give NaN); the value stays finite and in [0, 1]. */
Test(hand, smeasure_centroid_on_border_is_finite) {
    enum { W = 6, H = 5 };
    unsigned char gt[W * H] = {0}, pr[W * H];
    for (int y = 0; y < H; y++) gt[y * W + W - 1] = 255;
    for (int i = 0; i < W * H; i++) pr[i] = (unsigned char)(i * 7);
    inas_metrics_image *v = malloc(sizeof *v);
    compute_u8(pr, gt, W, H, v);
    cr_expect(isfinite(v->sm) && v->sm >= 0 && v->sm <= 1, "Sm = %g", v->sm);
    free(v);
}

/* ---- accumulator -------------------------------------------------------------- */

Test(accumulator, means_of_images_and_curves) {
    enum { W = 16, H = 12, N = W * H };
    unsigned char gt1[N], gt2[N], p1[N], p2[N];
    for (int i = 0; i < N; i++) {
        int x = i % W, y = i / W;
        gt1[i] = (x > 3 && x < 10 && y > 2 && y < 9) ? 255 : 0;
        gt2[i] = (x + y) % 9 < 3 ? 255 : 0;
        p1[i] = (unsigned char)((x * 13 + y * 7) % 256);
        p2[i] = gt2[i] ? 200 : (unsigned char)(y * 10);
    }
    inas_metrics *m;
    inas_error err;
    cr_assert_eq(inas_metrics_create(&m, &err), INAS_OK);
    inas_metrics_result *r = malloc(sizeof *r);
    cr_expect_eq(inas_metrics_get(m, r, &err), INAS_ERR_INVALID_ARG, "no image yet must be an error");
    inas_metrics_image *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    cr_assert_eq(inas_metrics_add_u8(m, p1, gt1, W, H, a, &err), INAS_OK);
    cr_assert_eq(inas_metrics_add_u8(m, p2, gt2, W, H, b, &err), INAS_OK);
    cr_assert_eq(inas_metrics_get(m, r, &err), INAS_OK);
    cr_expect_eq(r->n, 2);
    CHECK("MAE", r->mae, (a->mae + b->mae) / 2, 1e-15);
    CHECK("Sm", r->sm, (a->sm + b->sm) / 2, 1e-15);
    CHECK("wFm", r->wfm, (a->wfm + b->wfm) / 2, 1e-15);
    CHECK("adpEm", r->adp_em, (a->adp_em + b->adp_em) / 2, 1e-15);
    double mx = 0, mean = 0;
    for (int t = 0; t < 256; t++) {
        double f = (a->fm[t] + b->fm[t]) / 2;
        CHECK("F curve", r->fm[t], f, 1e-15);
        CHECK("P curve", r->precision[t], (a->precision[t] + b->precision[t]) / 2, 1e-15);
        if (f > mx) mx = f;
        mean += f;
    }
    CHECK("maxFm", r->max_fm, mx, 1e-15);
    CHECK("meanFm", r->mean_fm, mean / 256, 1e-13);
    /* the double-input path gives the same values */
    double *pd = malloc(sizeof(double) * N);
    inas_metrics_normalize_u8(p1, N, pd);
    inas_metrics_reset(m);
    cr_assert_eq(inas_metrics_add(m, pd, gt1, W, H, NULL, &err), INAS_OK);
    cr_assert_eq(inas_metrics_get(m, r, &err), INAS_OK);
    CHECK("MAE (double input)", r->mae, a->mae, 0);
    CHECK("wFm (double input)", r->wfm, a->wfm, 0);
    pd[5] = 1.5;
    cr_expect_eq(inas_metrics_add(m, pd, gt1, W, H, NULL, &err), INAS_ERR_INVALID_ARG);
    cr_expect_eq(inas_metrics_add_u8(m, p1, gt1, 0, H, NULL, &err), INAS_ERR_INVALID_ARG);
    cr_expect_eq(inas_metrics_add_u8(m, NULL, gt1, W, H, NULL, &err), INAS_ERR_INVALID_ARG);
    /* per-family functions agree with the combined computation */
    inas_metrics_normalize_u8(p1, N, pd);
    CHECK("inas_metric_mae", inas_metric_mae(pd, gt1, N), a->mae, 0);
    CHECK("inas_metric_smeasure", inas_metric_smeasure(pd, gt1, W, H), a->sm, 0);
    double adp, wfm, fm[256], em[256];
    inas_metric_fmeasure(pd, gt1, N, &adp, NULL, NULL, fm);
    CHECK("inas_metric_fmeasure", adp, a->adp_fm, 0);
    CHECK("inas_metric_fmeasure curve", fm[100], a->fm[100], 0);
    inas_metric_emeasure(pd, gt1, N, &adp, em);
    CHECK("inas_metric_emeasure", adp, a->adp_em, 0);
    CHECK("inas_metric_emeasure curve", em[77], a->em[77], 0);
    cr_assert_eq(inas_metric_wfmeasure(pd, gt1, W, H, &wfm, &err), INAS_OK);
    CHECK("inas_metric_wfmeasure", wfm, a->wfm, 0);
    free(pd);
    free(a);
    free(b);
    free(r);
    inas_metrics_destroy(m);
}

/* ---- directories and the CLI -------------------------------------------------- */

static void write_png(const char *dir, const char *name, int w, int h, const unsigned char *px) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    inas_image img = {w, h, 1, (unsigned char *)px};
    inas_error err;
    cr_assert_eq(inas_image_write_png(path, &img, &err), INAS_OK, "%s", err.message);
}

static int n_missing;
static void count_missing(void *user, const char *path, const char *other) {
    (void)user;
    (void)path;
    (void)other;
    n_missing++;
}

Test(dirs, missing_counterparts_resize_and_errors) {
    char *root = tu_mkdtemp("metrics-dirs");
    char pd[4096], gd[4096], ed[4096];
    snprintf(pd, sizeof pd, "%s/pred", root);
    snprintf(gd, sizeof gd, "%s/gt", root);
    snprintf(ed, sizeof ed, "%s/empty", root);
    cr_assert_eq(mkdir(pd, 0755), 0);
    cr_assert_eq(mkdir(gd, 0755), 0);
    cr_assert_eq(mkdir(ed, 0755), 0);
    unsigned char g[8 * 6], p[8 * 6], psmall[4 * 3];
    for (int i = 0; i < 48; i++) {
        g[i] = (i % 8 > 2 && i / 8 > 1) ? 255 : 0;
        p[i] = 77;
    }
    memset(psmall, 77, sizeof psmall);
    write_png(gd, "a.png", 8, 6, g);
    write_png(pd, "a.png", 8, 6, p);
    write_png(gd, "b.png", 8, 6, g);
    write_png(pd, "b.png", 4, 3, psmall); /* resized to 8x6 */
    write_png(gd, "only_gt.png", 8, 6, g);
    write_png(pd, "only_pred.png", 8, 6, p);
    inas_metrics *m;
    inas_error err;
    cr_assert_eq(inas_metrics_create(&m, &err), INAS_OK);
    inas_eval_callbacks cb = {count_missing, NULL, NULL};
    inas_eval_summary s;
    n_missing = 0;
    cr_assert_eq(inas_metrics_eval_dirs(m, pd, gd, &cb, &s, &err), INAS_OK, "%s", err.message);
    cr_expect_eq(s.pairs, 2);
    cr_expect_eq(s.missing_pred, 1);
    cr_expect_eq(s.missing_gt, 1);
    cr_expect_eq(s.resized, 1);
    cr_expect_eq(n_missing, 2);
    inas_metrics_result r;
    cr_assert_eq(inas_metrics_get(m, &r, &err), INAS_OK);
    /* the constant prediction resized stays constant: both pairs are equal */
    double p77 = 77 / 255.0, mae = (20 * (1 - p77) + 28 * p77) / 48; /* 5x4 foreground */
    CHECK("MAE", r.mae, mae, 1e-12);

    /* empty directory, missing directory, no common stem */
    inas_metrics_reset(m);
    cr_expect_neq(inas_metrics_eval_dirs(m, ed, gd, NULL, NULL, &err), INAS_OK);
    cr_expect(strstr(err.message, ed) != NULL, "message: %s", err.message);
    char nodir[4200];
    snprintf(nodir, sizeof nodir, "%s/nope", root);
    cr_expect_neq(inas_metrics_eval_dirs(m, nodir, gd, NULL, NULL, &err), INAS_OK);
    cr_expect(strstr(err.message, nodir) != NULL, "message: %s", err.message);

    /* a truncated prediction is an error naming the file */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/a.png", pd);
    size_t len;
    char *bytes = tu_read_file(bad, &len);
    cr_assert_not_null(bytes);
    cr_assert_eq(tu_write_file(bad, bytes, len / 2), 0);
    free(bytes);
    cr_expect_neq(inas_metrics_eval_dirs(m, pd, gd, NULL, NULL, &err), INAS_OK);
    cr_expect(strstr(err.message, "a.png") != NULL, "message: %s", err.message);

    /* CLI on these directories */
    char args[9000], *out = NULL;
    snprintf(args, sizeof args, "eval --pred %s --gt %s", pd, gd);
    cr_expect_eq(tu_run_cli(args, &out), 1, "truncated file must fail: %s", out);
    cr_expect(out && strstr(out, "a.png") != NULL, "output: %s", out);
    free(out);
    cr_assert_eq(tu_write_file(bad, "garbage!", 8), 0);
    cr_expect_eq(tu_run_cli(args, &out), 1, "garbage file must fail: %s", out);
    free(out);
    cr_assert_eq(unlink(bad), 0);
    snprintf(args, sizeof args, "eval --pred %s --gt %s", pd, gd);
    cr_expect_eq(tu_run_cli(args, &out), 0, "%s", out);
    cr_expect(out && strstr(out, "n: 1\n") && strstr(out, "skipped: 3\n"), "output: %s", out);
    cr_expect(out && strstr(out, "only_gt.png") && strstr(out, "only_pred.png"), "output: %s", out);
    free(out);
    snprintf(args, sizeof args, "eval --pred %s --gt %s", ed, gd);
    cr_expect_eq(tu_run_cli(args, NULL), 1, "empty directory must fail");
    snprintf(args, sizeof args, "eval --pred %s", pd);
    cr_expect_eq(tu_run_cli(args, NULL), 2, "missing --gt is a usage error");
    cr_expect_eq(tu_run_cli("eval --bogus", NULL), 2);
    inas_metrics_destroy(m);
    tu_rmrf(root);
    free(root);
}

static double yaml_value(const char *out, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "\n%s: ", key);
    const char *p = strncmp(out, pat + 1, strlen(pat + 1)) == 0 ? out - 1 : strstr(out, pat);
    cr_assert_not_null(p, "key %s missing in: %s", key, out);
    return strtod(p + strlen(pat), NULL);
}

Test(cli, eval_on_oracle_prints_yaml_and_files) {
    char dir[4096], yaml[4200];
    TU_REQUIRE_DATA(dir, "sod-metrics-oracle");
    snprintf(yaml, sizeof yaml, "%s/expected.yaml", dir);
    oracle o;
    load_oracle(yaml, &o);
    char *tmp = tu_mkdtemp("eval-cli");
    char args[16384], *out = NULL;
    snprintf(args, sizeof args,
             "eval --pred %s/preds --gt %s/masks --curves %s/c.csv --per-image %s/p.csv --plot %s/p.svg "
             "2>/dev/null",
             dir, dir, tmp, tmp, tmp);
    cr_assert_eq(tu_run_cli(args, &out), 0, "%s", out);
    CHECK("MAE", yaml_value(out, "MAE"), o.mae, 1e-9);
    CHECK("Sm", yaml_value(out, "Sm"), o.sm, 1e-9);
    CHECK("wFm", yaml_value(out, "wFm"), o.wfm, 1e-5);
    CHECK("maxFm", yaml_value(out, "maxFm"), o.max_fm, 1e-9);
    CHECK("meanFm", yaml_value(out, "meanFm"), o.mean_fm, 1e-9);
    CHECK("adpFm", yaml_value(out, "adpFm"), o.adp_fm, 1e-9);
    CHECK("maxEm", yaml_value(out, "maxEm"), o.max_em, 1e-9);
    CHECK("meanEm", yaml_value(out, "meanEm"), o.mean_em, 1e-9);
    CHECK("adpEm", yaml_value(out, "adpEm"), o.adp_em, 1e-9);
    CHECK("n", yaml_value(out, "n"), 3, 0);
    free(out);
    char path[4300];
    size_t len;
    snprintf(path, sizeof path, "%s/c.csv", tmp);
    char *csv = tu_read_file(path, &len);
    cr_assert_not_null(csv);
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += csv[i] == '\n';
    cr_expect_eq(lines, 257, "curves CSV: header + 256 rows");
    cr_expect(strncmp(csv, "threshold,precision,recall,fmeasure,emeasure\n", 45) == 0);
    free(csv);
    snprintf(path, sizeof path, "%s/p.csv", tmp);
    csv = tu_read_file(path, &len);
    cr_assert_not_null(csv);
    cr_expect(strstr(csv, "\n19,") && strstr(csv, "\n0001,") && strstr(csv, "\naerial-1867541__340,"), "%s", csv);
    free(csv);
    snprintf(path, sizeof path, "%s/p.svg", tmp);
    char *svg = tu_read_file(path, &len);
    cr_assert_not_null(svg);
    cr_expect(strstr(svg, "<svg") && strstr(svg, "<polyline"), "svg");
    free(svg);
    tu_rmrf(tmp);
    free(tmp);
}
