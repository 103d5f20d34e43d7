/* bench_eval.c - `inas bench eval`: throughput of all SOD metrics together
 * (MAE, F/E curves and adaptive values, S-measure, weighted F) on one core,
 * over deterministic synthetic prediction/mask pairs held in memory, or the
 * whole of `inas eval` (decoding included) on --pred/--gt directories. Prints
 * the median images/s of several runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inas/image.h"
#include "inas/metrics.h"
#include "tools/commands.h"

static void bench_eval_usage(FILE *f) {
    fprintf(f, "Usage: inas bench eval [options]\n"
               "\n"
               "Times all metrics together (inas eval's work after decoding) on one core.\n"
               "\n"
               "Options:\n"
               "  --pairs N      synthetic pairs (default 300)\n"
               "  --size WxH     synthetic image size (default 400x300)\n"
               "  --runs N       timed runs; the median is reported (default 5)\n"
               "  --pred DIR --gt DIR  time inas eval on these directories instead\n"
               "                 (image decoding included)\n"
               "  --json         print one JSON object instead of text\n"
               "  -h, --help     show this help\n");
}

typedef struct pair {
    int w, h;
    unsigned char *pred, *gt;
} pair;

static unsigned long long lcg(unsigned long long *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}
static double urand(unsigned long long *s) { return (double)lcg(s) / 2147483648.0; }

/* A mask of one or two ellipses and a prediction: a soft version of it with
 * a displaced boundary, blotches and noise. */
static int synth(pair *p, int w, int h, unsigned long long seed) {
    p->w = w;
    p->h = h;
    p->pred = malloc((size_t)w * h);
    p->gt = malloc((size_t)w * h);
    if (!p->pred || !p->gt) return -1;
    unsigned long long s = seed * 2654435761ULL + 12345;
    int ne = 1 + (int)(lcg(&s) % 2);
    double cx[2], cy[2], rx[2], ry[2];
    for (int k = 0; k < ne; k++) {
        cx[k] = w * (0.25 + 0.5 * urand(&s));
        cy[k] = h * (0.25 + 0.5 * urand(&s));
        rx[k] = w * (0.08 + 0.2 * urand(&s));
        ry[k] = h * (0.08 + 0.2 * urand(&s));
    }
    double shift = 0.15 * (urand(&s) - 0.5), soft = 0.05 + 0.2 * urand(&s);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            double best = 1e9;
            for (int k = 0; k < ne; k++) {
                double dx = (x - cx[k]) / rx[k], dy = (y - cy[k]) / ry[k];
                double d = sqrt(dx * dx + dy * dy);
                if (d < best) best = d;
            }
            size_t i = (size_t)y * w + x;
            p->gt[i] = best <= 1.0 ? 255 : 0;
            double v = 1.0 / (1.0 + exp((best - 1.0 - shift) / soft));
            v += 0.08 * (urand(&s) - 0.5) + 0.1 * sin(x * 0.05 + seed) * sin(y * 0.07);
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            p->pred[i] = (unsigned char)lrint(v * 255);
        }
    }
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int bench_eval(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        bench_eval_usage(stdout);
        return INAS_EXIT_OK;
    }
    int npairs = 300, w = 400, h = 300, runs = 5, json = 0;
    const char *pd = NULL, *gd = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--json") == 0) json = 1;
        else if (strcmp(a, "--pairs") == 0 && has) npairs = atoi(argv[++i]);
        else if (strcmp(a, "--runs") == 0 && has) runs = atoi(argv[++i]);
        else if (strcmp(a, "--size") == 0 && has) {
            if (sscanf(argv[++i], "%dx%d", &w, &h) != 2) return cli_usage_error("bench eval", "bad --size '%s'", argv[i]);
        } else if (strcmp(a, "--pred") == 0 && has) pd = argv[++i];
        else if (strcmp(a, "--gt") == 0 && has) gd = argv[++i];
        else return cli_usage_error("bench eval", "unknown or incomplete argument '%s'", a);
    }
    if (npairs < 1 || npairs > 100000 || runs < 1 || runs > 1000 || w < 8 || h < 8 || w > 8192 || h > 8192)
        return cli_usage_error("bench eval", "--pairs, --runs or --size out of range");
    if (!pd != !gd) return cli_usage_error("bench eval", "--pred and --gt go together");

    pair *ps = NULL;
    if (!pd) {
        ps = calloc((size_t)npairs, sizeof *ps);
        if (!ps) return cli_fail("bench eval", "out of memory");
        for (int i = 0; i < npairs; i++)
            if (synth(&ps[i], w, h, (unsigned long long)i + 1) != 0) return cli_fail("bench eval", "out of memory");
    }
    inas_error err;
    inas_error_clear(&err);
    inas_metrics *m = NULL;
    if (inas_metrics_create(&m, &err) != INAS_OK) return cli_fail("bench eval", "%s", err.message);
    double *rate = calloc((size_t)runs, sizeof *rate);
    if (!rate) return cli_fail("bench eval", "out of memory");
    inas_metrics_result res;
    size_t images = 0;
    int rc = INAS_EXIT_OK;
    for (int r = 0; r < runs && rc == INAS_EXIT_OK; r++) {
        inas_metrics_reset(m);
        double t0 = now_s();
        if (pd) {
            inas_eval_summary sum;
            if (inas_metrics_eval_dirs(m, pd, gd, NULL, &sum, &err) != INAS_OK) rc = cli_fail("bench eval", "%s", err.message);
        } else {
            for (int i = 0; i < npairs && rc == INAS_EXIT_OK; i++)
                if (inas_metrics_add_u8(m, ps[i].pred, ps[i].gt, ps[i].w, ps[i].h, NULL, &err) != INAS_OK)
                    rc = cli_fail("bench eval", "%s", err.message);
        }
        if (rc == INAS_EXIT_OK && inas_metrics_get(m, &res, &err) != INAS_OK) rc = cli_fail("bench eval", "%s", err.message);
        double dt = now_s() - t0;
        images = res.n;
        rate[r] = dt > 0 ? (double)res.n / dt : 0;
    }
    if (rc == INAS_EXIT_OK) {
        qsort(rate, (size_t)runs, sizeof *rate, cmp_double);
        double med = runs % 2 ? rate[runs / 2] : 0.5 * (rate[runs / 2 - 1] + rate[runs / 2]);
        if (json) {
            printf("{\"suite\": \"eval\", \"source\": \"%s\", \"images\": %zu, \"width\": %d, \"height\": %d, "
                   "\"runs\": %d, \"images_per_s_median\": %.1f, \"images_per_s_min\": %.1f, "
                   "\"images_per_s_max\": %.1f, \"threads\": 1, \"Sm\": %.6f, \"wFm\": %.6f}\n",
                   pd ? "directories" : "synthetic", images, pd ? 0 : w, pd ? 0 : h, runs, med, rate[0],
                   rate[runs - 1], res.sm, res.wfm);
        } else {
            if (pd) printf("inas bench eval: %zu pairs from %s and %s (decoding included), 1 thread\n", images, pd, gd);
            else printf("inas bench eval: %zu synthetic pairs of %dx%d, all metrics, 1 thread\n", images, w, h);
            printf("  runs: %d  images/s median %.1f (min %.1f, max %.1f)  ms/image %.3f\n", runs, med, rate[0],
                   rate[runs - 1], med > 0 ? 1000.0 / med : 0.0);
        }
    }
    if (ps)
        for (int i = 0; i < npairs; i++) {
            free(ps[i].pred);
            free(ps[i].gt);
        }
    free(ps);
    free(rate);
    inas_metrics_destroy(m);
    return rc;
}
