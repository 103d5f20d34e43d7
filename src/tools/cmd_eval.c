/* cmd_eval.c - `inas eval`: SOD metrics of a directory of predictions against
 * a directory of masks (paired by file stem), printed as YAML; optional CSV
 * curves, per-image CSV and an SVG plot of the PR and F curves. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inas/metrics.h"
#include "tools/commands.h"

static void eval_usage(FILE *f) {
    fprintf(f,
            "Usage: inas eval --pred DIR --gt DIR [options]\n"
            "\n"
            "Salient object detection metrics as PySODMetrics computes them. Files are\n"
            "paired by stem (name without extension; .png .jpg .jpeg .bmp); a prediction\n"
            "whose size differs from its mask is resized to it (bilinear). Files without a\n"
            "counterpart are listed on stderr and skipped. Prints YAML to stdout with MAE,\n"
            "Sm, wFm, maxFm, meanFm, adpFm, maxEm, meanEm, adpEm, n and skipped.\n"
            "\n"
            "Options:\n"
            "  --pred DIR          predictions (8/16-bit gray or colour PNG, JPEG)\n"
            "  --gt DIR            ground-truth masks (foreground > 128)\n"
            "  --curves FILE.csv   dataset curves: threshold,precision,recall,fmeasure,emeasure\n"
            "  --per-image FILE.csv  one row of per-image values per pair\n"
            "  --plot FILE.svg     precision-recall and F-measure/threshold curves\n"
            "  -q, --quiet         do not list skipped files\n"
            "  -h, --help          show this help\n");
}

typedef struct eval_state {
    FILE *per_image;
    int quiet;
} eval_state;

static void on_missing(void *user, const char *path, const char *other_dir) {
    eval_state *s = user;
    if (!s->quiet)
        fprintf(stderr, "inas eval: warning: %s has no counterpart in %s (skipped)\n", path, other_dir);
}

static void csv_name(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void on_image(void *user, const char *stem, const inas_metrics_image *v) {
    eval_state *s = user;
    if (!s->per_image) return;
    csv_name(s->per_image, stem);
    fprintf(s->per_image, ",%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", v->mae, v->sm,
            v->wfm, v->adp_fm, v->mean_fm, v->max_fm, v->adp_em, v->mean_em, v->max_em);
}

/* Atomic file output: write into PATH.tmp.XXXXXX, then fsync and rename. */
typedef struct out_file {
    FILE *f;
    char *path, *tmp;
} out_file;

static int out_open(out_file *o, const char *path) {
    memset(o, 0, sizeof *o);
    size_t n = strlen(path);
    o->tmp = malloc(n + 12);
    if (!o->tmp) return -1;
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        free(o->tmp);
        o->tmp = NULL;
        return -1;
    }
    o->f = fdopen(fd, "w");
    if (!o->f) {
        close(fd);
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        return -1;
    }
    o->path = strdup(path);
    return o->path ? 0 : -1;
}

/* Commits (ok != 0) or discards the file; returns 0 on success. */
static int out_close(out_file *o, int ok) {
    if (!o->f) return ok ? -1 : 0;
    int bad = !ok || fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0;
    if (fclose(o->f) != 0) bad = 1;
    if (!bad && rename(o->tmp, o->path) != 0) bad = 1;
    if (bad) unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
    return bad && ok ? -1 : 0;
}

static void write_curves(FILE *f, const inas_metrics_result *r) {
    fprintf(f, "threshold,precision,recall,fmeasure,emeasure\n");
    for (int t = 0; t < INAS_METRICS_THRESHOLDS; t++)
        fprintf(f, "%d,%.17g,%.17g,%.17g,%.17g\n", t, r->precision[t], r->recall[t], r->fm[t], r->em[t]);
}

static void svg_panel(FILE *f, int ox, const char *title, const char *xl, const char *yl) {
    fprintf(f, "<g transform=\"translate(%d,0)\">\n", ox);
    fprintf(f, "<rect x=\"60\" y=\"30\" width=\"300\" height=\"300\" fill=\"none\" stroke=\"#000\"/>\n");
    for (int i = 0; i <= 10; i += 2) {
        double v = i / 10.0;
        fprintf(f, "<line x1=\"%g\" y1=\"330\" x2=\"%g\" y2=\"335\" stroke=\"#000\"/>"
                   "<text x=\"%g\" y=\"350\" font-size=\"11\" text-anchor=\"middle\">%.1f</text>\n",
                60 + 300 * v, 60 + 300 * v, 60 + 300 * v, v);
        fprintf(f, "<line x1=\"55\" y1=\"%g\" x2=\"60\" y2=\"%g\" stroke=\"#000\"/>"
                   "<text x=\"50\" y=\"%g\" font-size=\"11\" text-anchor=\"end\">%.1f</text>\n",
                330 - 300 * v, 330 - 300 * v, 334 - 300 * v, v);
    }
    fprintf(f, "<text x=\"210\" y=\"20\" font-size=\"14\" text-anchor=\"middle\">%s</text>\n", title);
    fprintf(f, "<text x=\"210\" y=\"372\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n", xl);
    fprintf(f, "<text x=\"15\" y=\"180\" font-size=\"12\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 15 180)\">%s</text>\n", yl);
}

static void write_svg(FILE *f, const inas_metrics_result *r) {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"780\" height=\"390\" "
               "font-family=\"sans-serif\">\n<rect width=\"780\" height=\"390\" fill=\"#fff\"/>\n");
    svg_panel(f, 0, "Precision-recall", "recall", "precision");
    fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"");
    for (int t = 0; t < INAS_METRICS_THRESHOLDS; t++)
        fprintf(f, "%.2f,%.2f ", 60 + 300 * r->recall[t], 330 - 300 * r->precision[t]);
    fprintf(f, "\"/>\n</g>\n");
    char title[96];
    snprintf(title, sizeof title, "F-measure (max %.4f, mean %.4f)", r->max_fm, r->mean_fm);
    svg_panel(f, 390, title, "threshold / 255", "F-measure");
    fprintf(f, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" points=\"");
    for (int t = 0; t < INAS_METRICS_THRESHOLDS; t++)
        fprintf(f, "%.2f,%.2f ", 60 + 300 * t / 255.0, 330 - 300 * r->fm[t]);
    fprintf(f, "\"/>\n</g>\n</svg>\n");
}

int cmd_eval(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        eval_usage(stdout);
        return INAS_EXIT_OK;
    }
    const char *pred = NULL, *gt = NULL, *curves = NULL, *per_image = NULL, *plot = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--pred") == 0) dst = &pred;
        else if (strcmp(a, "--gt") == 0) dst = &gt;
        else if (strcmp(a, "--curves") == 0) dst = &curves;
        else if (strcmp(a, "--per-image") == 0) dst = &per_image;
        else if (strcmp(a, "--plot") == 0) dst = &plot;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = 1;
            continue;
        } else return cli_usage_error("eval", "unknown argument '%s'", a);
        if (i + 1 >= argc) return cli_usage_error("eval", "%s needs a value", a);
        *dst = argv[++i];
    }
    if (!pred || !gt) return cli_usage_error("eval", "--pred and --gt are required");

    eval_state st = {NULL, quiet};
    out_file pf = {0};
    if (per_image) {
        if (out_open(&pf, per_image) != 0)
            return cli_fail("eval", "%s: cannot create: %s", per_image, strerror(errno));
        st.per_image = pf.f;
        fprintf(pf.f, "name,MAE,Sm,wFm,adpFm,meanFm,maxFm,adpEm,meanEm,maxEm\n");
    }
    inas_error err;
    inas_error_clear(&err);
    inas_metrics *m = NULL;
    inas_metrics_result *r = malloc(sizeof *r);
    if (!r || inas_metrics_create(&m, &err) != INAS_OK) {
        free(r);
        out_close(&pf, 0);
        return cli_fail("eval", "out of memory");
    }
    inas_eval_callbacks cb = {on_missing, on_image, &st};
    inas_eval_summary sum = {0};
    int rc = INAS_EXIT_OK;
    if (inas_metrics_eval_dirs(m, pred, gt, &cb, &sum, &err) != INAS_OK ||
        inas_metrics_get(m, r, &err) != INAS_OK) {
        rc = cli_fail("eval", "%s", err.message);
    }
    if (pf.f && out_close(&pf, rc == INAS_EXIT_OK) != 0)
        rc = cli_fail("eval", "%s: cannot write: %s", per_image, strerror(errno));
    if (rc == INAS_EXIT_OK && curves) {
        out_file cf;
        if (out_open(&cf, curves) != 0) rc = cli_fail("eval", "%s: cannot create: %s", curves, strerror(errno));
        else {
            write_curves(cf.f, r);
            if (out_close(&cf, 1) != 0) rc = cli_fail("eval", "%s: cannot write: %s", curves, strerror(errno));
        }
    }
    if (rc == INAS_EXIT_OK && plot) {
        out_file sf;
        if (out_open(&sf, plot) != 0) rc = cli_fail("eval", "%s: cannot create: %s", plot, strerror(errno));
        else {
            write_svg(sf.f, r);
            if (out_close(&sf, 1) != 0) rc = cli_fail("eval", "%s: cannot write: %s", plot, strerror(errno));
        }
    }
    if (rc == INAS_EXIT_OK) {
        size_t skipped = sum.missing_pred + sum.missing_gt;
        printf("MAE: %.17g\nSm: %.17g\nwFm: %.17g\nmaxFm: %.17g\nmeanFm: %.17g\nadpFm: %.17g\n"
               "maxEm: %.17g\nmeanEm: %.17g\nadpEm: %.17g\nn: %zu\nskipped: %zu\n",
               r->mae, r->sm, r->wfm, r->max_fm, r->mean_fm, r->adp_fm, r->max_em, r->mean_em,
               r->adp_em, r->n, skipped);
        if (skipped && !quiet)
            fprintf(stderr, "inas eval: %zu file(s) without a counterpart skipped (%zu masks without "
                            "a prediction, %zu predictions without a mask)\n",
                    skipped, sum.missing_pred, sum.missing_gt);
        if (fflush(stdout) != 0) rc = INAS_EXIT_FAILURE;
    }
    inas_metrics_destroy(m);
    free(r);
    return rc;
}
