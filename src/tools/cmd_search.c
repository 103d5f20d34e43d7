/* cmd_search.c - `inas search`: LGS evolutionary search on a device's latency
 * table with supernet (or proxy) quality, writing candidates.yaml,
 * pareto.yaml, pareto.svg and a log; and `inas search coverage`, the share of
 * the latency range LGS and uniform sampling reach. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inas/dataset.h"
#include "inas/lut.h"
#include "inas/search.h"
#include "inas/target.h"
#include "inas/train.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas search --target FILE --supernet CKPT --val-images DIR --val-masks DIR -o OUT_DIR [options]\n"
            "       inas search --target FILE --quality proxy -o OUT_DIR [options]\n"
            "       inas search coverage --target FILE [--samples 1000] [--space FILE] [--lut FILE] [--seed S]\n\n"
            "Latency-group-sampling evolutionary search (iNAS Algorithm 1): latency from the\n"
            "target's LUT, quality = max F-measure after BN recalibration (or the documented\n"
            "proxy). Writes OUT_DIR/candidates.yaml (every evaluated architecture),\n"
            "pareto.yaml (the front), pareto.svg (latency vs max-F) and search.log.\n\n"
            "Options:\n"
            "  --population N (1000)  --groups G (10)  --parents K (100)  --iterations I (20)\n"
            "  --pc P (0.2)  --pm P (0.2)  --seed S (0)\n"
            "  --sampler lgs|uniform   initial population and group sampling (default lgs)\n"
            "  --strategy evolution|random   random search with the same evaluation budget\n"
            "  --quality supernet|proxy      (default supernet)\n"
            "  --calib-images DIR --calib-masks DIR   BN recalibration data (default: the validation set)\n"
            "  --calib-batches N (100)  --batch B (8)\n"
            "  --budget-ms X          print the best architecture under X ms (default: the target's)\n"
            "                         and write it to OUT_DIR/best-arch.yaml\n"
            "  --lut FILE             the latency table (default: the target's lut path)\n"
            "  --resume               reuse OUT_DIR/candidates.yaml: evaluated candidates are not re-run\n"
            "  --device SEL           OpenCL device (default: the target's selectors)\n"
            "`inas search coverage` samples with LGS and with layer-wise uniform sampling and\n"
            "prints lgs_coverage and uniform_coverage (share of 100 equal latency bins reached)\n"
            "as YAML, with text histograms on stderr.\n");
}

typedef struct lut_latency {
    const inas_lut *lut;
    const inas_space *space;
    int resolution;
    int failed;
    inas_error err;
} lut_latency;

static double lat_fn(void *user, const inas_arch *a) {
    lut_latency *l = user;
    double ms = 0;
    if (inas_lut_predict(l->lut, a, l->space, l->resolution, &ms, l->failed ? NULL : &l->err) != INAS_OK) {
        l->failed = 1;
        return INFINITY;
    }
    return ms;
}

static int load_target_lut(const char *target_path, const char *space_path, const char *lut_path, inas_target *t,
                           inas_space *space, inas_lut *lut) {
    inas_error err;
    if (inas_target_load(target_path, t, &err) != INAS_OK) return cli_fail("search", "%s", err.message);
    const char *sp = space_path ? space_path : (t->space[0] ? t->space : NULL);
    if (sp ? inas_space_load(sp, space, &err) != INAS_OK : (inas_space_default(space), 0))
        return cli_fail("search", "%s", err.message);
    if (lut_path) snprintf(t->lut, sizeof t->lut, "%s", lut_path);
    inas_lut_init(lut);
    if (inas_lut_load(t->lut, lut, &err) != INAS_OK)
        return cli_fail("search", "%s (probe it with: inas lut probe --target %s)", err.message, target_path);
    return 0;
}

static void histogram(const char *name, const int *hist, int bins) {
    int mx = 1;
    for (int b = 0; b < bins; b++) mx = hist[b] > mx ? hist[b] : mx;
    fprintf(stderr, "%s (100 latency bins, 10 per row, # ~ count):\n", name);
    for (int b = 0; b < bins; b += 10) {
        fprintf(stderr, "  %3d-%3d%% |", b, b + 9);
        for (int j = b; j < b + 10 && j < bins; j++) fputc(hist[j] == 0 ? '.' : hist[j] * 8 < mx ? ':' : '#', stderr);
        fprintf(stderr, "|\n");
    }
}

static int coverage(int argc, char **argv) {
    const char *target = NULL, *space_path = NULL, *lut_path = NULL;
    long samples = 1000, seed = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) return cli_usage_error("search", "option '%s' needs a value", argv[i]);
        const char *a = argv[i], *v = argv[++i];
        if (strcmp(a, "--target") == 0) target = v;
        else if (strcmp(a, "--space") == 0) space_path = v;
        else if (strcmp(a, "--lut") == 0) lut_path = v;
        else if (strcmp(a, "--samples") == 0) samples = atol(v);
        else if (strcmp(a, "--seed") == 0) seed = atol(v);
        else return cli_usage_error("search", "unknown option '%s'", a);
    }
    if (!target || samples < 10 || seed < 0) return cli_usage_error("search", "coverage needs --target and --samples >= 10");
    inas_target t;
    inas_space space;
    inas_lut lut;
    int rc = load_target_lut(target, space_path, lut_path, &t, &space, &lut);
    if (rc) return rc;
    lut_latency ll = {&lut, &space, t.probe.resolution, 0, {0}};
    inas_search_config cfg;
    inas_search_config_defaults(&cfg);
    cfg.groups = 100;
    inas_search *s;
    inas_error err;
    if (inas_search_create(&space, &cfg, lat_fn, &ll, inas_quality_proxy, &space, &s, &err) != INAS_OK || ll.failed) {
        inas_lut_free(&lut);
        return cli_fail("search", "%s", ll.failed ? ll.err.message : err.message);
    }
    double lo, hi;
    inas_search_range(s, &lo, &hi);
    double *lgs = malloc((size_t)samples * sizeof *lgs), *uni = malloc((size_t)samples * sizeof *uni);
    inas_rng r;
    inas_rng_seed(&r, (uint64_t)seed);
    double w = (hi - lo) / 100;
    for (long i = 0; i < samples; i++) {
        inas_arch a;
        int bin = (int)(i % 100);
        inas_search_sample_in(s, lo + bin * w, lo + (bin + 1) * w, &r, &a);
        lgs[i] = lat_fn(&ll, &a);
        inas_arch_sample_random(&space, &r, &a);
        uni[i] = lat_fn(&ll, &a);
    }
    if (ll.failed) rc = cli_fail("search", "%s", ll.err.message);
    else {
        int hl[100], hu[100];
        double cl = inas_latency_coverage(lgs, (size_t)samples, lo, hi, 100, hl);
        double cu = inas_latency_coverage(uni, (size_t)samples, lo, hi, 100, hu);
        histogram("LGS", hl, 100);
        histogram("uniform", hu, 100);
        printf("target: %s\nsamples: %ld\nlat_min_ms: %.6g\nlat_max_ms: %.6g\nlgs_coverage: %.4f\nuniform_coverage: %.4f\n",
               t.name, samples, lo, hi, cl, cu);
    }
    free(lgs);
    free(uni);
    inas_search_destroy(s);
    inas_lut_free(&lut);
    return rc;
}

typedef struct run_state {
    inas_search *s;
    const char *dir;
    FILE *log;
    inas_progress prog;
    double budget;
    size_t last_saved;
} run_state;

static void save_candidates(run_state *rs) {
    size_t n;
    const inas_candidate *c = inas_search_candidates(rs->s, &n);
    char path[4096];
    snprintf(path, sizeof path, "%s/candidates.yaml", rs->dir);
    inas_error err;
    if (inas_candidates_write(path, c, n, &err) != INAS_OK) fprintf(stderr, "\ninas search: %s\n", err.message);
    rs->last_saved = n;
}

static void on_progress(void *user, size_t evals, int iteration) {
    run_state *rs = user;
    const inas_candidate *best = rs->budget > 0 ? inas_search_best_under(rs->s, rs->budget) : NULL;
    if (best) snprintf(rs->prog.label, sizeof rs->prog.label, "it %d best@%.3gms %.4f", iteration, rs->budget, best->q.max_f);
    else snprintf(rs->prog.label, sizeof rs->prog.label, "iteration %d", iteration);
    inas_progress_update(&rs->prog, evals);
    if (rs->log) {
        size_t n;
        const inas_candidate *c = inas_search_candidates(rs->s, &n);
        fprintf(rs->log, "iteration %d evaluation %zu latency_ms %.4f max_f %.5f\n", iteration, evals,
                c[n - 1].latency, c[n - 1].q.max_f);
        fflush(rs->log);
    }
    if (evals - rs->last_saved >= 25) save_candidates(rs); /* nothing finished is lost */
}

int cmd_search(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "coverage") == 0) return coverage(argc - 1, argv + 1);
    const char *target = NULL, *ckpt = NULL, *vi = NULL, *vm = NULL, *ci = NULL, *cm = NULL, *out = NULL, *device = NULL;
    const char *lut_path = NULL;
    int resume = 0, proxy = 0, calib_batches = 100, batch = 8;
    double budget = -1;
    inas_search_config cfg;
    inas_search_config_defaults(&cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--resume") == 0) {
            resume = 1;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error("search", "option '%s' needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--target") == 0) target = v;
        else if (strcmp(a, "--supernet") == 0) ckpt = v;
        else if (strcmp(a, "--val-images") == 0) vi = v;
        else if (strcmp(a, "--val-masks") == 0) vm = v;
        else if (strcmp(a, "--calib-images") == 0) ci = v;
        else if (strcmp(a, "--calib-masks") == 0) cm = v;
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) out = v;
        else if (strcmp(a, "--device") == 0) device = v;
        else if (strcmp(a, "--lut") == 0) lut_path = v;
        else if (strcmp(a, "--population") == 0) cfg.population = atoi(v);
        else if (strcmp(a, "--groups") == 0) cfg.groups = atoi(v);
        else if (strcmp(a, "--parents") == 0) cfg.parents = atoi(v);
        else if (strcmp(a, "--iterations") == 0) cfg.iterations = atoi(v);
        else if (strcmp(a, "--pc") == 0) cfg.p_crossover = atof(v);
        else if (strcmp(a, "--pm") == 0) cfg.p_mutation = atof(v);
        else if (strcmp(a, "--seed") == 0) cfg.seed = (uint64_t)atoll(v);
        else if (strcmp(a, "--calib-batches") == 0) calib_batches = atoi(v);
        else if (strcmp(a, "--batch") == 0) batch = atoi(v);
        else if (strcmp(a, "--budget-ms") == 0) budget = atof(v);
        else if (strcmp(a, "--sampler") == 0) {
            if (strcmp(v, "lgs") == 0) cfg.sampler = INAS_SAMPLER_LGS;
            else if (strcmp(v, "uniform") == 0) cfg.sampler = INAS_SAMPLER_UNIFORM;
            else return cli_usage_error("search", "--sampler is lgs or uniform");
        } else if (strcmp(a, "--strategy") == 0) {
            if (strcmp(v, "evolution") == 0) cfg.strategy = INAS_STRATEGY_EVOLUTION;
            else if (strcmp(v, "random") == 0) cfg.strategy = INAS_STRATEGY_RANDOM;
            else return cli_usage_error("search", "--strategy is evolution or random");
        } else if (strcmp(a, "--quality") == 0) {
            if (strcmp(v, "proxy") == 0) proxy = 1;
            else if (strcmp(v, "supernet") == 0) proxy = 0;
            else return cli_usage_error("search", "--quality is supernet or proxy");
        } else
            return cli_usage_error("search", "unknown option '%s'", a);
    }
    if (!target || !out) return cli_usage_error("search", "--target and -o are required");
    if (!proxy && (!ckpt || !vi || !vm))
        return cli_usage_error("search", "supernet quality needs --supernet, --val-images and --val-masks (or --quality proxy)");
    if ((ci == NULL) != (cm == NULL)) return cli_usage_error("search", "give both --calib-images and --calib-masks");

    inas_target t;
    inas_space space;
    inas_lut lut;
    int rc = load_target_lut(target, NULL, lut_path, &t, &space, &lut);
    if (rc) return rc;
    if (budget < 0) budget = t.search_budget_ms;
    inas_error err;
    inas_ctx *ctx = NULL;
    inas_supernet *net = NULL;
    inas_evaluator *ev = NULL;
    inas_pair_list val = {0}, calib = {0};
    inas_search *s = NULL;
    inas_candidate *pre = NULL;
    size_t npre = 0;
    run_state rs = {0};
    rc = INAS_EXIT_FAILURE;
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        cli_fail("search", "%s: cannot create the output directory: %s", out, strerror(errno));
        goto done;
    }
    if (!proxy) {
        char sel[512];
        inas_target_selector(&t, sel, sizeof sel);
        if (inas_ctx_create(&ctx, device ? device : sel, &err) != INAS_OK ||
            inas_checkpoint_load(ctx, ckpt, &net, &err) != INAS_OK || inas_pair_dirs(vi, vm, &val, &err) != INAS_OK ||
            inas_pair_dirs(ci ? ci : vi, cm ? cm : vm, &calib, &err) != INAS_OK) {
            cli_fail("search", "%s", err.message);
            goto done;
        }
        space = *inas_supernet_space(net);
        if (inas_evaluator_create(net, &calib, &val, t.probe.resolution, calib_batches, batch, cfg.seed, &ev, &err) !=
            INAS_OK) {
            cli_fail("search", "%s", err.message);
            goto done;
        }
    }
    lut_latency ll = {&lut, &space, t.probe.resolution, 0, {0}};
    if (inas_search_create(&space, &cfg, lat_fn, &ll, proxy ? inas_quality_proxy : inas_evaluator_quality,
                           proxy ? (void *)&space : (void *)ev, &s, &err) != INAS_OK ||
        ll.failed) {
        cli_fail("search", "%s", ll.failed ? ll.err.message : err.message);
        goto done;
    }
    char path[4096];
    if (resume) {
        snprintf(path, sizeof path, "%s/candidates.yaml", out);
        if (inas_candidates_read(path, &space, &pre, &npre, &err) != INAS_OK ||
            inas_search_preload(s, pre, npre, &err) != INAS_OK) {
            cli_fail("search", "--resume: %s", err.message);
            goto done;
        }
        fprintf(stderr, "inas search: resuming with %zu evaluated candidates\n", npre);
    }
    snprintf(path, sizeof path, "%s/search.log", out);
    rs.s = s;
    rs.dir = out;
    rs.budget = budget;
    rs.log = fopen(path, resume ? "a" : "w");
    size_t total = (size_t)cfg.population + (size_t)cfg.iterations * (size_t)cfg.parents;
    inas_progress_begin(&rs.prog, stderr, "search", total);
    double lo, hi;
    inas_search_range(s, &lo, &hi);
    double t0 = inas_wall_ms();
    inas_status st = inas_search_run(s, on_progress, &rs, &err);
    inas_progress_end(&rs.prog);
    save_candidates(&rs);
    if (st != INAS_OK || ll.failed) {
        cli_fail("search", "%s (the candidates so far are in %s/candidates.yaml)", ll.failed ? ll.err.message : err.message, out);
        goto done;
    }
    size_t n;
    inas_search_candidates(s, &n);
    const inas_candidate **front = malloc((n ? n : 1) * sizeof *front);
    size_t nf = front ? inas_search_front(s, front, n) : 0;
    inas_candidate *fc = malloc((nf ? nf : 1) * sizeof *fc);
    for (size_t i = 0; fc && i < nf; i++) fc[i] = *front[i];
    snprintf(path, sizeof path, "%s/pareto.yaml", out);
    if (!fc || inas_candidates_write(path, fc, nf, &err) != INAS_OK) {
        cli_fail("search", "%s", fc ? err.message : "out of memory");
        free(front);
        free(fc);
        goto done;
    }
    snprintf(path, sizeof path, "%s/pareto.svg", out);
    if (inas_search_write_svg(path, s, &err) != INAS_OK) cli_fail("search", "%s", err.message);
    printf("target: %s\nquality: %s\ncandidates: %zu\nevaluations: %zu\nfront: %zu\nlat_min_ms: %.6g\nlat_max_ms: %.6g\n"
           "seconds: %.1f\noutput: %s\n",
           t.name, proxy ? "proxy" : "supernet max-F", n, inas_search_evaluations(s), nf, lo, hi,
           (inas_wall_ms() - t0) / 1000, out);
    printf("pareto:\n");
    for (size_t i = 0; i < nf; i++) printf("  - {latency_ms: %.4f, max_f: %.5f}\n", fc[i].latency, fc[i].q.max_f);
    if (budget > 0) {
        const inas_candidate *b = inas_search_best_under(s, budget);
        char compact[4096] = "";
        if (b) inas_arch_format_compact(&b->arch, compact, sizeof compact);
        if (b) {
            printf("best_under_budget: {budget_ms: %g, latency_ms: %.4f, max_f: %.5f, arch: \"%s\"}\n", budget, b->latency,
                   b->q.max_f, compact);
            snprintf(path, sizeof path, "%s/best-arch.yaml", out);
            if (inas_arch_save(path, &b->arch, &err) != INAS_OK) cli_fail("search", "%s", err.message);
            else printf("best_arch: %s\n", path);
        } else
            printf("best_under_budget: null  # nothing under %g ms\n", budget);
    }
    free(front);
    free(fc);
    rc = INAS_EXIT_OK;
done:
    if (rs.log) fclose(rs.log);
    free(pre);
    inas_search_destroy(s);
    inas_evaluator_destroy(ev);
    inas_pair_list_free(&val);
    inas_pair_list_free(&calib);
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
    inas_lut_free(&lut);
    return rc;
}
