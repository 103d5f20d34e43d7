/* cmd_bench.c - `inas bench SUITE ...`: dispatch to the benchmark suites.
 * Benchmarks are programs, never timed assertions in tests; each suite prints
 * medians and answers --help. Add a suite with a row in bench_suites[]. */
#include "tools/commands.h"

#include <string.h>

typedef struct bench_suite {
    const char *name;
    inas_cmd_fn fn;
    const char *summary;
} bench_suite;

static const bench_suite bench_suites[] = {
    {"ops", bench_ops_main, "every op at the search space's stage shapes: ms, GFLOP/s, GB/s, % of peak"},
    {"cl", bench_cl, "OpenCL runtime: program build (cold/cached) and kernel launch overhead"},
    {"eval", bench_eval, "SOD metrics throughput (images/s, one core)"},
    {"train", bench_train, "supernet training: ms per sub-network forward/backward and per sandwich step"},
    {"model", bench_model, "exported model inference: median batch-1 latency, merged or multi-branch, per layer"},
    {NULL, NULL, NULL},
};

static void bench_usage(FILE *f) {
    fprintf(f, "Usage: inas bench SUITE [options]\n\nRun a benchmark suite and print medians.\n\nSuites:\n");
    for (const bench_suite *s = bench_suites; s->name; s++)
        fprintf(f, "  %-8s %s\n", s->name, s->summary);
    fprintf(f, "\n'inas bench SUITE --help' shows a suite's options.\n");
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2) {
        bench_usage(stderr);
        return INAS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        bench_usage(stdout);
        return INAS_EXIT_OK;
    }
    for (const bench_suite *s = bench_suites; s->name; s++)
        if (strcmp(s->name, argv[1]) == 0) return s->fn(argc - 1, argv + 1);
    return cli_usage_error("bench", "unknown suite '%s'", argv[1]);
}
