/* search.c - a latency-aware architecture search on one target: loads the
 * target file (its LUT and search space), runs latency-group-sampling (LGS)
 * evolution with the LUT's predicted latency and the cheap quality proxy
 * (inas_quality_proxy; a real search evaluates a trained supernet, see
 * inas_evaluator_quality) and prints the Pareto front, fastest first.
 *
 *   search TARGET.yaml [SPACE.yaml]
 *
 * SPACE.yaml overrides the target's space. Needs no OpenCL device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <inas/arch.h>
#include <inas/lut.h>
#include <inas/search.h>
#include <inas/space.h>
#include <inas/target.h>

/* The search's latency function: the LUT prediction at the probe resolution.
 * A block missing from the LUT is remembered (the first error) and reported
 * after the run. */
typedef struct lut_latency {
    const inas_lut *lut;
    const inas_space *space;
    int resolution;
    int failed;
    inas_error err;
} lut_latency;

static double lut_ms(void *user, const inas_arch *arch) {
    lut_latency *l = user;
    double ms;
    if (inas_lut_predict(l->lut, arch, l->space, l->resolution, &ms, l->failed ? NULL : &l->err) != INAS_OK) {
        l->failed = 1;
        return INFINITY;
    }
    return ms;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s TARGET.yaml [SPACE.yaml]\n", argv[0]);
        return 2;
    }
    inas_error err;
    inas_target target;
    inas_space space;
    inas_lut lut;
    inas_search *search = NULL;
    inas_lut_init(&lut);

    /* 1. The target, its space (or the one given) and its LUT. */
    if (inas_target_load(argv[1], &target, &err) != INAS_OK) goto fail;
    const char *space_path = argc == 3 ? argv[2] : target.space;
    if (space_path[0]) {
        if (inas_space_load(space_path, &space, &err) != INAS_OK) goto fail;
    } else {
        inas_space_default(&space);
    }
    if (inas_lut_load(target.lut, &lut, &err) != INAS_OK) {
        fprintf(stderr, "search: %s (probe it with: inas lut probe --target %s)\n", err.message, argv[1]);
        goto fail_quiet;
    }
    if (lut.space_hash != inas_lut_space_hash(&space)) {
        fprintf(stderr, "search: %s was probed on another search space\n", target.lut);
        inas_lut_free(&lut);
        return 1;
    }

    /* 2. A small LGS run: 100 architectures in 5 latency groups, 5 iterations. */
    inas_search_config cfg;
    inas_search_config_defaults(&cfg);
    cfg.population = 100;
    cfg.groups = 5;
    cfg.parents = 20;
    cfg.iterations = 5;
    lut_latency lat = {.lut = &lut, .space = &space, .resolution = target.probe.resolution};
    if (inas_search_create(&space, &cfg, lut_ms, &lat, inas_quality_proxy, &space, &search, &err) != INAS_OK ||
        inas_search_run(search, NULL, NULL, &err) != INAS_OK)
        goto fail;
    if (lat.failed) {
        err = lat.err;
        goto fail;
    }

    /* 3. The front as YAML, fastest first (each is the best quality for its latency). */
    size_t total;
    inas_search_candidates(search, &total);
    const inas_candidate **front = malloc(total * sizeof *front);
    if (!front) {
        fprintf(stderr, "search: out of memory\n");
        goto fail_quiet;
    }
    size_t n = inas_search_front(search, front, total);
    double lo, hi;
    inas_search_range(search, &lo, &hi);
    printf("target: %s\nlatency_range_ms: [%.3f, %.3f]\nevaluations: %zu\nfront:\n", target.name, lo, hi,
           inas_search_evaluations(search));
    for (size_t i = 0; i < n; i++) {
        char compact[4096];
        inas_arch_format_compact(&front[i]->arch, compact, sizeof compact);
        printf("  - {latency_ms: %.3f, max_f: %.4f, arch: \"%s\"}\n", front[i]->latency, front[i]->q.max_f, compact);
    }
    free(front);
    inas_search_destroy(search);
    inas_lut_free(&lut);
    return 0;
fail:
    fprintf(stderr, "search: %s\n", err.message);
fail_quiet:
    inas_search_destroy(search);
    inas_lut_free(&lut);
    return 1;
}
