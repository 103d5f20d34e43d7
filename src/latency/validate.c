/* validate.c - validation of a LUT (include/inas/lut.h): architectures spread
 * over the predicted latency range are exported and timed end to end with
 * the target's protocol; Pearson r, MAPE and the shares within 5 % / 10 %,
 * a leave-one-out calibrated per-network overhead, and an SVG scatter plot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inas/lut.h"
#include "inas/model.h"
#include "inas/supernet.h"
#include "inas/util.h"
#include "latency/latency_internal.h"
#include "runtime/internal.h"

void inas_latency_metrics(const double *p, const double *m, int n, double *r, double *mape, double *w5, double *w10) {
    double mp = 0, mm = 0;
    for (int i = 0; i < n; i++) mp += p[i], mm += m[i];
    mp /= n;
    mm /= n;
    double sxy = 0, sxx = 0, syy = 0, ape = 0;
    int c5 = 0, c10 = 0;
    for (int i = 0; i < n; i++) {
        sxy += (p[i] - mp) * (m[i] - mm);
        sxx += (p[i] - mp) * (p[i] - mp);
        syy += (m[i] - mm) * (m[i] - mm);
        double e = fabs(p[i] - m[i]) / m[i];
        ape += e;
        c5 += e <= 0.05;
        c10 += e <= 0.10;
    }
    *r = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
    *mape = ape / n;
    *w5 = (double)c5 / n;
    *w10 = (double)c10 / n;
}

void inas_validate_result_free(inas_validate_result *r) {
    if (!r) return;
    free(r->predicted);
    free(r->measured);
    free(r->calibrated);
    r->predicted = r->measured = r->calibrated = NULL;
}

typedef struct cand {
    inas_arch a;
    double pred;
} cand;

static int cmp_cand(const void *x, const void *y) {
    double a = ((const cand *)x)->pred, b = ((const cand *)y)->pred;
    return a < b ? -1 : a > b;
}
static int cmp_d(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct fwd_job {
    inas_model *m;
    inas_tensor x, y;
} fwd_job;
static inas_status run_fwd(void *u) {
    fwd_job *j = u;
    return inas_model_forward(j->m, &j->x, &j->y);
}

inas_status inas_lut_validate(inas_ctx *ctx, const inas_target *t, const inas_space *sp, const inas_lut *lut,
                              const inas_validate_opts *opts, inas_validate_result *res) {
    memset(res, 0, sizeof *res);
    int n = opts && opts->samples ? opts->samples : 20;
    if (n < 3) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "validate: at least 3 samples");
    int R = t->probe.resolution, pool = n * 20 < 200 ? 200 : n * 20;
    /* the target's resolution need not be one the space trains at: evaluate there */
    inas_space vs = *sp;
    vs.eval_res = R;
    sp = &vs;
    inas_error *err = inas_ctx_error(ctx);
    cand *c = malloc((size_t)pool * sizeof *c);
    res->predicted = calloc((size_t)n, sizeof(double));
    res->measured = calloc((size_t)n, sizeof(double));
    res->calibrated = calloc((size_t)n, sizeof(double));
    double *blocks = calloc((size_t)n, sizeof(double)), *tmp = calloc((size_t)n, sizeof(double));
    if (!c || !res->predicted || !res->measured || !res->calibrated || !blocks || !tmp) {
        free(c);
        free(blocks);
        free(tmp);
        inas_validate_result_free(res);
        return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory (validate)");
    }
    inas_rng rng;
    inas_rng_seed(&rng, opts ? opts->seed : 1);
    inas_status st = INAS_OK;
    for (int i = 0; i < pool && st == INAS_OK; i++) {
        if (i == 0) inas_arch_sample_min(sp, &c[i].a);
        else if (i == 1) inas_arch_sample_max(sp, &c[i].a);
        else inas_arch_sample_random(sp, &rng, &c[i].a);
        c[i].a.resolution = R;
        st = inas_lut_predict(lut, &c[i].a, sp, R, &c[i].pred, err);
    }
    if (st == INAS_OK) qsort(c, (size_t)pool, sizeof *c, cmp_cand);
    const inas_lut_entry *oe = inas_lut_find(lut, "overhead");
    double lut_over = oe ? oe->ms : 0;
    inas_supernet *net = NULL;
    if (st == INAS_OK) st = inas_supernet_create(ctx, sp, opts ? opts->seed : 1, &net);
    fwd_job j = {0};
    if (st == INAS_OK) st = inas_tensor_alloc(ctx, &j.x, t->probe.batch, 3, R, R);
    if (st == INAS_OK) st = inas_tensor_alloc(ctx, &j.y, t->probe.batch, 1, R, R);
    if (st == INAS_OK) st = inas_tensor_fill(ctx, &j.x, 0.5f);
    inas_progress bar;
    if (opts && opts->progress) inas_progress_begin(&bar, opts->progress, "validate", (uint64_t)n);
    /* Groups of up to GROUP models are measured interleaved: warm-up of each,
     * then `runs` rounds timing one forward (+ finish) of every model of the
     * group, so that load changes on a shared device spread over all of them
     * instead of biasing the few measured while they last. */
    enum { GROUP = 8 };
    const inas_target_probe *pr = &t->probe;
    double *v = malloc((size_t)GROUP * (size_t)pr->runs * sizeof *v);
    if (!v && st == INAS_OK) st = inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory (validate)");
    for (int g0 = 0; g0 < n && st == INAS_OK; g0 += GROUP) {
        int gn = n - g0 < GROUP ? n - g0 : GROUP;
        inas_model *ms[GROUP] = {0};
        for (int q = 0; q < gn && st == INAS_OK; q++) {
            int i = g0 + q;
            /* evenly spaced in the sorted predictions: the smallest and the largest included */
            int k = (int)llround((double)i * (pool - 1) / (n - 1));
            st = inas_model_export(net, &c[k].a, &ms[q]);
            res->predicted[i] = c[k].pred;
            blocks[i] = c[k].pred - lut_over;
        }
        for (int q = 0; q < gn && st == INAS_OK; q++)
            for (int w = 0; w < (pr->warmup > 0 ? pr->warmup : 1) && st == INAS_OK; w++) {
                j.m = ms[q];
                st = run_fwd(&j);
                if (st == INAS_OK) st = inas_ctx_finish(ctx);
            }
        for (int r = 0; r < pr->runs && st == INAS_OK; r++)
            for (int q = 0; q < gn && st == INAS_OK; q++) {
                j.m = ms[q];
                double t0 = inas_wall_ms();
                st = run_fwd(&j);
                if (st == INAS_OK) st = inas_ctx_finish(ctx);
                v[q * pr->runs + r] = inas_wall_ms() - t0;
            }
        for (int q = 0; q < gn && st == INAS_OK; q++) {
            double spread;
            lat_summarise(v + q * pr->runs, pr->runs, pr->statistic, &res->measured[g0 + q], &spread);
        }
        for (int q = 0; q < gn; q++) inas_model_destroy(ms[q]);
        j.m = NULL;
        if (opts && opts->progress) inas_progress_update(&bar, (uint64_t)(g0 + gn));
    }
    free(v);
    if (opts && opts->progress) inas_progress_end(&bar);
    inas_tensor_free(ctx, &j.x);
    inas_tensor_free(ctx, &j.y);
    inas_supernet_destroy(net);
    free(c);
    if (st == INAS_OK) {
        res->n = n;
        inas_latency_metrics(res->predicted, res->measured, n, &res->pearson_r, &res->mape, &res->within_5pct,
                             &res->within_10pct);
        for (int i = 0; i < n; i++) tmp[i] = res->measured[i] - blocks[i];
        res->overhead_ms = median(tmp, n);
        for (int i = 0; i < n; i++) { /* leave-one-out: the overhead from the other samples */
            int m = 0;
            for (int q = 0; q < n; q++)
                if (q != i) tmp[m++] = res->measured[q] - blocks[q];
            res->calibrated[i] = blocks[i] + median(tmp, m);
        }
        inas_latency_metrics(res->calibrated, res->measured, n, &res->cal_pearson_r, &res->cal_mape,
                             &res->cal_within_5pct, &res->cal_within_10pct);
    } else {
        inas_validate_result_free(res);
    }
    free(blocks);
    free(tmp);
    return st;
}

inas_status inas_validate_write_svg(const inas_validate_result *r, const char *path, const char *title,
                                    inas_error *err) {
    inas_atomic_file *af;
    inas_status st = inas_atomic_open(path, &af, err);
    if (st) return st;
    FILE *f = inas_atomic_stream(af);
    double hi = 0;
    for (int i = 0; i < r->n; i++) {
        hi = fmax(hi, fmax(r->measured[i], fmax(r->predicted[i], r->calibrated[i])));
    }
    hi = hi > 0 ? hi * 1.05 : 1;
    const int W = 520, H = 540, L = 70, B = 60, P = 440; /* plot square of P pixels */
#define X(v) (L + (v) / hi * P)
#define Y(v) (H - B - (v) / hi * P)
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H);
    fprintf(f, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">", W / 2);
    for (const char *s = title ? title : ""; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
    fprintf(f, "</text>\n");
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", L, H - B - P, P,
            P);
    for (int k = 0; k <= 5; k++) {
        double v = hi * k / 5;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.1f</text>\n", X(v), H - B + 16, v);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", L - 6, Y(v) + 4, v);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">measured (ms)</text>\n", L + P / 2, H - 15);
    fprintf(f, "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 18 %d)\">predicted (ms)</text>\n",
            H - B - P / 2, H - B - P / 2);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"gray\" stroke-dasharray=\"4 3\"/>\n", X(0.0),
            Y(0.0), X(hi), Y(hi));
    for (int i = 0; i < r->n; i++) {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\"/>\n", X(r->measured[i]),
                Y(r->predicted[i]));
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"none\" stroke=\"#ff7f0e\"/>\n", X(r->measured[i]),
                Y(r->calibrated[i]));
    }
    fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"3\" fill=\"#1f77b4\"/><text x=\"%d\" y=\"%d\">LUT (r=%.3f, %.0f%% within 10%%)</text>\n",
            L + 12, H - B - P + 14, L + 20, H - B - P + 18, r->pearson_r, 100 * r->within_10pct);
    fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"3\" fill=\"none\" stroke=\"#ff7f0e\"/><text x=\"%d\" y=\"%d\">calibrated overhead (r=%.3f, %.0f%% within 10%%)</text>\n",
            L + 12, H - B - P + 32, L + 20, H - B - P + 36, r->cal_pearson_r, 100 * r->cal_within_10pct);
    fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"gray\">y = x</text>\n", L + P - 40, H - B - P + 54);
#undef X
#undef Y
    fprintf(f, "</svg>\n");
    return inas_atomic_commit(af, err);
}
