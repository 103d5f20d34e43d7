/* test_search.c - Pareto ranking (hand-made cases, ties, a brute-force
 * reference), latency groups, LGS sampling into every group and its coverage
 * against uniform sampling, evolution with the proxy quality (validity,
 * determinism, resume without re-evaluation), random search, and the
 * candidates file. Latency comes from an analytic MAC-count model here, so
 * the search is tested on its own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inas/dataset.h"
#include "inas/lut.h"
#include "inas/search.h"
#include "inas/supernet.h"
#include "testutil.h"

/* MAC-like cost in "ms": each layer's expand, depthwise (largest kernel) and
 * project convs at its resolution, plus the head's fusions. */
static double mac_latency(void *user, const inas_arch *a) {
    const inas_space *sp = user;
    double res = a->resolution / 2.0, total = 3.0 * 9 * a->stem_width * res * res;
    for (int s = 0; s < INAS_SPACE_STAGES; s++)
        for (int l = 0; l < a->stages[s].depth; l++) {
            int in = inas_arch_layer_in(a, s, l), out = a->stages[s].layers[l].width;
            int mid = inas_arch_layer_mid(a, sp, s, l), k = inas_kset_max(a->stages[s].layers[l].kernels);
            if (inas_space_layer_stride(sp, s, l) == 2) res /= 2;
            total += ((sp->stages[s].expand > 1 ? in * mid : 0) + mid * k * k + mid * out) * res * res;
        }
    for (int i = 0; i < a->num_levels; i++) {
        double r = a->resolution / (double)inas_space_level_stride(sp, i);
        int w = inas_arch_level_width(a, sp, i), links = 0;
        for (int j = 0; j < a->num_levels; j++) links += (a->transport_levels[i] >> j) & 1;
        total += (links + 2.0) * w * w * r * r + w * inas_kset_max(a->transport_kernels[i]) * 9 * r * r;
    }
    return total * 1e-7;
}

static inas_space space;
static void setup(void) { inas_space_default(&space); }
TestSuite(search, .init = setup, .timeout = 300);

static int brute_rank(const double *l, const double *q, size_t n, size_t i, const int *known) {
    /* rank = 0 when nothing dominates i, else 1 + max rank of its dominators */
    int r = 0;
    for (size_t j = 0; j < n; j++)
        if (j != i && l[j] <= l[i] && q[j] >= q[i] && (l[j] < l[i] || q[j] > q[i]) && known[j] + 1 > r) r = known[j] + 1;
    return r;
}

Test(search, pareto_ranks) {
    double l[] = {1, 2, 2, 3, 1.5, 1};
    double q[] = {0.5, 0.6, 0.55, 0.6, 0.4, 0.5};
    int r[6];
    inas_pareto_rank(l, q, 6, r);
    int want[] = {0, 0, 1, 1, 1, 0};
    for (int i = 0; i < 6; i++) cr_assert_eq(r[i], want[i], "point %d: rank %d, expected %d", i, r[i], want[i]);
    /* random points, including many ties, against the definition */
    inas_rng g;
    inas_rng_seed(&g, 4);
    enum { N = 400 };
    double L[N], Q[N];
    int R[N], B[N];
    for (int i = 0; i < N; i++) {
        L[i] = (double)inas_rng_below(&g, 40);
        Q[i] = (double)inas_rng_below(&g, 40);
    }
    inas_pareto_rank(L, Q, N, R);
    /* the definition, by increasing latency then decreasing quality (dominators first) */
    for (int i = 0; i < N; i++) B[i] = -1;
    for (int pass = 0; pass < N; pass++)
        for (int i = 0; i < N; i++) B[i] = brute_rank(L, Q, N, (size_t)i, B);
    for (int i = 0; i < N; i++) cr_assert_eq(R[i], B[i], "point %d (%g, %g): %d vs %d", i, L[i], Q[i], R[i], B[i]);
}

Test(search, groups_and_lgs_reach_every_group) {
    inas_search_config cfg;
    inas_search_config_defaults(&cfg);
    inas_search *s;
    inas_error err;
    cr_assert_eq(inas_search_create(&space, &cfg, mac_latency, &space, inas_quality_proxy, &space, &s, &err), INAS_OK,
                 "%s", err.message);
    double lo, hi;
    inas_search_range(s, &lo, &hi);
    cr_assert_lt(lo, hi);
    cr_assert_eq(inas_search_group_of(s, lo), 0);
    cr_assert_eq(inas_search_group_of(s, hi), 9);
    cr_assert_eq(inas_search_group_of(s, lo + (hi - lo) * 0.35), 3);
    inas_rng r;
    inas_rng_seed(&r, 8);
    double w = (hi - lo) / 10;
    for (int g = 0; g < 10; g++) {
        int hit = 0;
        for (int i = 0; i < 5; i++) {
            inas_arch a;
            hit += inas_search_sample_in(s, lo + g * w, lo + (g + 1) * w, &r, &a);
            cr_assert_eq(inas_arch_validate(&a, &space, &err), INAS_OK, "%s", err.message);
            if (hit) cr_assert_eq(inas_search_group_of(s, mac_latency(&space, &a)), g);
        }
        cr_assert_gt(hit, 0, "group %d is reached", g);
    }
    inas_search_destroy(s);
}

Test(search, lgs_covers_the_latency_range_uniform_does_not) {
    inas_search_config cfg;
    inas_search_config_defaults(&cfg);
    inas_search *s;
    cr_assert_eq(inas_search_create(&space, &cfg, mac_latency, &space, inas_quality_proxy, &space, &s, NULL), INAS_OK);
    double lo, hi;
    inas_search_range(s, &lo, &hi);
    enum { M = 1000 };
    double *lgs = malloc(M * sizeof *lgs), *uni = malloc(M * sizeof *uni);
    inas_rng r;
    inas_rng_seed(&r, 1);
    double w = (hi - lo) / 100;
    for (int i = 0; i < M; i++) {
        inas_arch a;
        int bin = i % 100; /* LGS with 100 groups: one sample per group in turn */
        inas_search_sample_in(s, lo + bin * w, lo + (bin + 1) * w, &r, &a);
        lgs[i] = mac_latency(&space, &a);
        inas_arch_sample_random(&space, &r, &a);
        uni[i] = mac_latency(&space, &a);
    }
    double cl = inas_latency_coverage(lgs, M, lo, hi, 100, NULL), cu = inas_latency_coverage(uni, M, lo, hi, 100, NULL);
    fprintf(stderr, "coverage over 100 bins, 1000 samples (MAC latency model, default space): LGS %.2f, uniform %.2f\n", cl, cu);
    cr_assert_geq(cl, 0.99, "LGS coverage %.2f", cl);
    cr_assert_lt(cu, cl);
    free(lgs);
    free(uni);
    inas_search_destroy(s);
}

static void small_cfg(inas_search_config *cfg, int iterations) {
    inas_search_config_defaults(cfg);
    cfg->population = 60;
    cfg->groups = 6;
    cfg->parents = 20;
    cfg->iterations = iterations;
    cfg->max_rejects = 20;
    cfg->seed = 11;
}

static inas_search *run_search(const inas_search_config *cfg, const inas_candidate *pre, size_t npre) {
    inas_search *s;
    inas_error err;
    cr_assert_eq(inas_search_create(&space, cfg, mac_latency, &space, inas_quality_proxy, &space, &s, &err), INAS_OK);
    if (npre) cr_assert_eq(inas_search_preload(s, pre, npre, &err), INAS_OK);
    cr_assert_eq(inas_search_run(s, NULL, NULL, &err), INAS_OK, "%s", err.message);
    return s;
}

Test(search, evolution_is_valid_deterministic_and_resumable) {
    inas_search_config cfg;
    small_cfg(&cfg, 3);
    inas_search *a = run_search(&cfg, NULL, 0), *b = run_search(&cfg, NULL, 0);
    size_t na, nb;
    const inas_candidate *ca = inas_search_candidates(a, &na), *cb = inas_search_candidates(b, &nb);
    cr_assert_eq(na, 60 + 3 * 20, "population plus k new children per iteration");
    cr_assert_eq(inas_search_evaluations(a), na);
    cr_assert_eq(na, nb);
    inas_error err;
    int groups_seen[6] = {0};
    for (size_t i = 0; i < na; i++) {
        cr_assert(inas_arch_equal(&ca[i].arch, &cb[i].arch), "candidate %zu differs between runs with one seed", i);
        cr_assert_eq(inas_arch_validate(&ca[i].arch, &space, &err), INAS_OK, "candidate %zu: %s", i, err.message);
        for (size_t j = 0; j < i; j++) cr_assert(!inas_arch_equal(&ca[i].arch, &ca[j].arch), "duplicate %zu/%zu", i, j);
        if (ca[i].iteration == 0) groups_seen[ca[i].group]++;
    }
    for (int g = 0; g < 6; g++) cr_assert_eq(groups_seen[g], 10, "initial population: N/G = 10 in group %d", g);
    /* the front: rank 0, not dominated by anything */
    const inas_candidate *front[512];
    size_t nf = inas_search_front(a, front, 512);
    cr_assert_gt(nf, 2);
    for (size_t i = 0; i < nf; i++)
        for (size_t j = 0; j < na; j++)
            cr_assert(!(ca[j].latency <= front[i]->latency && ca[j].q.max_f >= front[i]->q.max_f &&
                        (ca[j].latency < front[i]->latency || ca[j].q.max_f > front[i]->q.max_f)),
                      "front member %zu is dominated", i);
    for (size_t i = 1; i < nf; i++) cr_assert_leq(front[i - 1]->latency, front[i]->latency);
    const inas_candidate *best = inas_search_best_under(a, front[nf / 2]->latency);
    cr_assert_not_null(best);
    cr_assert_eq(best->q.max_f, front[nf / 2]->q.max_f, "the best under a front member's latency is that member");
    /* resume: a run stopped after iteration 1, written and read back, continued to 3 */
    inas_search_config c1;
    small_cfg(&c1, 1);
    inas_search *part = run_search(&c1, NULL, 0);
    size_t np;
    const inas_candidate *cp = inas_search_candidates(part, &np);
    char *dir = tu_mkdtemp("search"), path[1024];
    snprintf(path, sizeof path, "%s/candidates.yaml", dir);
    cr_assert_eq(inas_candidates_write(path, cp, np, &err), INAS_OK, "%s", err.message);
    inas_candidate *back;
    size_t nback;
    cr_assert_eq(inas_candidates_read(path, &space, &back, &nback, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(nback, np);
    for (size_t i = 0; i < np; i++) {
        cr_assert(inas_arch_equal(&back[i].arch, &cp[i].arch));
        cr_assert_eq(back[i].latency, cp[i].latency, "latency round trips exactly");
        cr_assert_eq(back[i].q.max_f, cp[i].q.max_f);
    }
    inas_search *res = run_search(&cfg, back, nback);
    size_t nr;
    const inas_candidate *cr = inas_search_candidates(res, &nr);
    cr_assert_eq(nr, na);
    for (size_t i = 0; i < nr; i++) cr_assert(inas_arch_equal(&cr[i].arch, &ca[i].arch), "resumed candidate %zu", i);
    cr_assert_eq(inas_search_evaluations(res), na - np, "finished evaluations are not repeated");
    snprintf(path, sizeof path, "%s/pareto.svg", dir);
    cr_assert_eq(inas_search_write_svg(path, a, &err), INAS_OK);
    char *svg = tu_read_file(path, NULL);
    cr_assert(svg && strstr(svg, "<polyline") && strstr(svg, "max F-measure"));
    free(svg);
    /* a malformed line names the file and line */
    snprintf(path, sizeof path, "%s/bad.yaml", dir);
    const char *bad = "# header\n- {arch: \"r320 s40\", latency_ms: 1, max_f: 0.5, mae: 0, s_measure: 0, group: 0, iteration: 0}\n";
    cr_assert_eq(tu_write_file(path, bad, strlen(bad)), 0);
    cr_assert_eq(inas_candidates_read(path, &space, &back, &nback, &err), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "bad.yaml:2") != NULL, "%s", err.message);
    tu_rmrf(dir);
    free(dir);
    inas_search_destroy(a);
    inas_search_destroy(b);
    inas_search_destroy(part);
    inas_search_destroy(res);
}

Test(search, random_strategy_and_uniform_sampler) {
    inas_search_config cfg;
    small_cfg(&cfg, 2);
    cfg.strategy = INAS_STRATEGY_RANDOM;
    inas_search *s = run_search(&cfg, NULL, 0);
    size_t n;
    inas_search_candidates(s, &n);
    cr_assert_eq(n, 60 + 2 * 20, "the same evaluation budget as the evolution");
    inas_search_destroy(s);
    small_cfg(&cfg, 2);
    cfg.sampler = INAS_SAMPLER_UNIFORM;
    s = run_search(&cfg, NULL, 0);
    const inas_candidate *c = inas_search_candidates(s, &n);
    cr_assert_eq(n, 100);
    inas_error err;
    for (size_t i = 0; i < n; i++) cr_assert_eq(inas_arch_validate(&c[i].arch, &space, &err), INAS_OK);
    inas_search_destroy(s);
}

/* End to end: a tiny supernet on the narrow space evaluated on real images
 * (BN recalibration + max-F per candidate) drives a small search. */
Test(search, small_search_on_a_supernet) {
    char img[1024], gt[1024], path[1024];
    TU_REQUIRE_DATA(img, "duts-tr-499/img");
    TU_REQUIRE_DATA(gt, "duts-tr-499/gt");
    inas_space small;
    inas_error err;
    snprintf(path, sizeof path, "%s/examples/space-small.yaml", getenv("INAS_SOURCE_DIR"));
    cr_assert_eq(inas_space_load(path, &small, &err), INAS_OK, "%s", err.message);
    inas_ctx *ctx = tu_ctx();
    inas_supernet *net;
    cr_assert_eq(inas_supernet_create(ctx, &small, 5, &net), INAS_OK, "%s", inas_ctx_last_error(ctx));
    inas_pair_list all, val;
    cr_assert_eq(inas_pair_dirs(img, gt, &all, &err), INAS_OK);
    val = all;
    val.n = 8;
    inas_evaluator *ev;
    cr_assert_eq(inas_evaluator_create(net, &all, &val, 64, 2, 4, 3, &ev, &err), INAS_OK, "%s", err.message);
    /* the same architecture twice: the same quality (recalibration starts afresh) */
    inas_arch a;
    inas_arch_sample_max(&small, &a);
    inas_quality q1, q2;
    cr_assert_eq(inas_evaluator_quality(ev, &a, &q1, &err), INAS_OK, "%s", err.message);
    inas_arch b;
    inas_arch_sample_min(&small, &b);
    cr_assert_eq(inas_evaluator_quality(ev, &b, &q2, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(inas_evaluator_quality(ev, &a, &q2, &err), INAS_OK, "%s", err.message);
    cr_assert_float_eq(q1.max_f, q2.max_f, 1e-6);
    cr_assert(q1.max_f > 0 && q1.max_f <= 1 && q1.mae >= 0 && q1.mae <= 1, "maxF %g MAE %g", q1.max_f, q1.mae);
    inas_search_config cfg;
    inas_search_config_defaults(&cfg);
    cfg.population = 6;
    cfg.groups = 3;
    cfg.parents = 4;
    cfg.iterations = 1;
    cfg.seed = 2;
    inas_search *s;
    cr_assert_eq(inas_search_create(&small, &cfg, mac_latency, &small, inas_evaluator_quality, ev, &s, &err), INAS_OK,
                 "%s", err.message);
    cr_assert_eq(inas_search_run(s, NULL, NULL, &err), INAS_OK, "%s", err.message);
    size_t n;
    const inas_candidate *c = inas_search_candidates(s, &n);
    cr_assert_eq(n, 10);
    for (size_t i = 0; i < n; i++) cr_assert(c[i].q.max_f > 0 && c[i].q.max_f <= 1);
    const inas_candidate *front[16];
    cr_assert_gt(inas_search_front(s, front, 16), 0);
    inas_search_destroy(s);
    inas_evaluator_destroy(ev);
    inas_pair_list_free(&all);
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
}

/* The CLI on a synthetic LUT of the narrow space (entries from the MAC model
 * of each block's key hash, no probing): search with the proxy quality writes
 * candidates, front and plot; --resume re-evaluates nothing; coverage prints
 * its YAML keys. */
Test(search, cli_search_and_coverage_on_a_lut) {
    char path[2048];
    snprintf(path, sizeof path, "%s/examples/space-small.yaml", getenv("INAS_SOURCE_DIR"));
    inas_space small;
    inas_error err;
    cr_assert_eq(inas_space_load(path, &small, &err), INAS_OK, "%s", err.message);
    char *dir = tu_mkdtemp("search-cli");
    inas_block_key *keys;
    size_t nk;
    cr_assert_eq(inas_lut_enumerate(&small, 64, &keys, &nk, &err), INAS_OK, "%s", err.message);
    inas_lut lut;
    inas_lut_init(&lut);
    snprintf(lut.target, sizeof lut.target, "synthetic");
    lut.space_hash = inas_lut_space_hash(&small);
    for (size_t i = 0; i < nk; i++) {
        char k[INAS_BLOCK_KEY_MAX];
        inas_block_key_format(&keys[i], k, sizeof k);
        cr_assert_eq(inas_lut_set(&lut, k, 0.01 + (double)(inas_crc32(0, k, strlen(k)) % 1000) / 1e4, 0), INAS_OK);
    }
    free(keys);
    char lp[1100], tp[1100], out[1100], args[4096], *o = NULL;
    snprintf(lp, sizeof lp, "%s/small.lut", dir);
    cr_assert_eq(inas_lut_save(&lut, lp, &err), INAS_OK, "%s", err.message);
    inas_lut_free(&lut);
    snprintf(tp, sizeof tp, "%s/t.yaml", dir);
    char target[6000];
    snprintf(target, sizeof target,
             "name: synthetic\nopencl: {type: cpu}\ntransport: local\nprobe: {resolution: 64, batch: 1, warmup: 1, runs: 1}\n"
             "lut: %s\nspace: %s\n",
             lp, path);
    cr_assert_eq(tu_write_file(tp, target, strlen(target)), 0);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(args, sizeof args, "search --target %s --quality proxy --population 40 --groups 4 --parents 10 --iterations 2 -o %s",
             tp, out);
    cr_assert_eq(tu_run_cli(args, &o), 0, "%s", o);
    cr_assert(strstr(o, "candidates: 60") && strstr(o, "evaluations: 60") && strstr(o, "pareto:"), "%s", o);
    free(o);
    inas_candidate *c;
    size_t n;
    snprintf(path, sizeof path, "%s/candidates.yaml", out);
    cr_assert_eq(inas_candidates_read(path, &small, &c, &n, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(n, 60);
    free(c);
    snprintf(path, sizeof path, "%s/pareto.yaml", out);
    cr_assert_eq(inas_candidates_read(path, &small, &c, &n, &err), INAS_OK, "%s", err.message);
    cr_assert_gt(n, 0);
    free(c);
    snprintf(path, sizeof path, "%s/pareto.svg", out);
    char *svg = tu_read_file(path, NULL);
    cr_assert(svg && strstr(svg, "</svg>"));
    free(svg);
    strncat(args, " --resume", sizeof args - strlen(args) - 1);
    cr_assert_eq(tu_run_cli(args, &o), 0, "%s", o);
    cr_assert(strstr(o, "candidates: 60") && strstr(o, "evaluations: 0"), "resume re-evaluates nothing: %s", o);
    free(o);
    snprintf(args, sizeof args, "search coverage --target %s --samples 200", tp);
    cr_assert_eq(tu_run_cli(args, &o), 0, "%s", o);
    cr_assert(strstr(o, "lgs_coverage: ") && strstr(o, "uniform_coverage: "), "%s", o);
    free(o);
    cr_assert_eq(tu_run_cli("search --quality proxy", NULL), 2, "missing --target is a usage error");
    tu_rmrf(dir);
    free(dir);
}

typedef struct lut_lat {
    const inas_lut *lut;
    const inas_space *space;
    int failed;
} lut_lat;

static double lut_latency(void *user, const inas_arch *a) {
    lut_lat *l = user;
    double ms;
    if (inas_lut_predict(l->lut, a, l->space, 320, &ms, NULL) != INAS_OK) {
        l->failed = 1;
        return INFINITY;
    }
    return ms;
}

/* LGS on the built-in space with the committed host LUT (lut/host-cpu.lut,
 * probed on the development machine): every one of 10 groups is reached and
 * 1000 samples cover >= 99 % of 100 latency bins (uniform sampling: less). */
Test(search, lgs_coverage_with_the_host_lut) {
    char path[1024];
    snprintf(path, sizeof path, "%s/lut/host-cpu.lut", getenv("INAS_SOURCE_DIR"));
    inas_lut lut;
    inas_lut_init(&lut);
    inas_error err;
    cr_assert_eq(inas_lut_load(path, &lut, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(lut.space_hash, inas_lut_space_hash(&space), "the host LUT was probed on the built-in space");
    lut_lat ll = {&lut, &space, 0};
    inas_search_config cfg;
    inas_search_config_defaults(&cfg);
    inas_search *s;
    cr_assert_eq(inas_search_create(&space, &cfg, lut_latency, &ll, inas_quality_proxy, &space, &s, &err), INAS_OK);
    double lo, hi;
    inas_search_range(s, &lo, &hi);
    inas_rng r;
    inas_rng_seed(&r, 2);
    enum { M = 1000 };
    double *lgs = malloc(M * sizeof *lgs), *uni = malloc(M * sizeof *uni);
    int reached[10] = {0};
    double w = (hi - lo) / 100;
    for (int i = 0; i < M; i++) {
        inas_arch a;
        inas_search_sample_in(s, lo + (i % 100) * w, lo + (i % 100 + 1) * w, &r, &a);
        lgs[i] = lut_latency(&ll, &a);
        reached[inas_search_group_of(s, lgs[i])] = 1;
        inas_arch_sample_random(&space, &r, &a);
        uni[i] = lut_latency(&ll, &a);
    }
    cr_assert(!ll.failed, "every sampled architecture's blocks are in the LUT");
    for (int g = 0; g < 10; g++) cr_assert(reached[g], "group %d reached", g);
    double cl = inas_latency_coverage(lgs, M, lo, hi, 100, NULL), cu = inas_latency_coverage(uni, M, lo, hi, 100, NULL);
    fprintf(stderr, "host LUT, default space: latency %.2f..%.2f ms, coverage LGS %.2f, uniform %.2f\n", lo, hi, cl, cu);
    cr_assert_geq(cl, 0.99);
    cr_assert_lt(cu, cl);
    free(lgs);
    free(uni);
    inas_search_destroy(s);
    inas_lut_free(&lut);
}
