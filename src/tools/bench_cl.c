/* bench_cl.c - `inas bench cl`: what program building and kernel launches
 * cost on a device: a cold build (unique options defeat every cache), a build
 * in a fresh context served by the driver's own disk cache (PoCL has one), a
 * build served by the inas binary cache (INAS_CACHE_DIR), an in-process cache
 * hit, and the enqueue+finish round trip of a tiny kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inas/runtime.h"
#include "inas/tensor.h"
#include "inas/util.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas bench cl [--device SELECTOR] [--file KERNEL.cl] [--runs N] [--json]\n\n"
            "Times program builds (cold, driver disk cache, inas binary cache, in-process\n"
            "cache) of one embedded kernel file (default tensor.cl; for it the first\n"
            "launch is included, since some drivers finish compiling then) and the launch\n"
            "round trip of a one-element kernel. Prints medians in milliseconds.\n");
}

typedef struct build_job {
    const char *device, *file;
    char options[128];
} build_job;

/* Builds job->file in a fresh context; returns the build time in ms (<0 on error). */
static double build_fresh(const build_job *job, int *binary_loads) {
    inas_error err;
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, job->device, &err) != INAS_OK) {
        fprintf(stderr, "inas bench cl: %s\n", err.message);
        return -1;
    }
    inas_program *p;
    double t0 = inas_wall_ms();
    inas_status st = inas_program_get(ctx, job->file, job->options, &p);
    if (st == INAS_OK && strcmp(job->file, "tensor.cl") == 0) {
        /* drivers such as PoCL finish compiling at the first launch: include it */
        cl_kernel k;
        inas_tensor t;
        int one = 1, zero = 0;
        float a = 1.0f;
        size_t g = 1;
        st = inas_kernel_get(ctx, p, "inas_axpy", &k);
        if (st == INAS_OK) st = inas_tensor_alloc(ctx, &t, 1, 1, 1, 1);
        if (st == INAS_OK) {
            inas_kernel_arg(ctx, k, 0, sizeof one, &one);
            inas_kernel_arg(ctx, k, 1, sizeof a, &a);
            inas_kernel_arg(ctx, k, 2, sizeof t.buf, &t.buf);
            inas_kernel_arg(ctx, k, 3, sizeof zero, &zero);
            inas_kernel_arg(ctx, k, 4, sizeof t.buf, &t.buf);
            inas_kernel_arg(ctx, k, 5, sizeof zero, &zero);
            st = inas_kernel_run(ctx, k, 1, &g, NULL, NULL);
            if (st == INAS_OK) st = inas_ctx_finish(ctx);
            inas_tensor_free(ctx, &t);
        }
    }
    double ms = inas_wall_ms() - t0;
    if (st != INAS_OK) fprintf(stderr, "inas bench cl: %s\n", inas_ctx_last_error(ctx));
    inas_cache_stats cs;
    inas_program_cache_stats(ctx, &cs);
    if (binary_loads) *binary_loads = (int)cs.binary_loads;
    inas_ctx_destroy(ctx);
    return st == INAS_OK ? ms : -1;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct launch_job {
    inas_ctx *ctx;
    cl_kernel k;
} launch_job;

static int launch_once(void *user) {
    launch_job *j = user;
    size_t g = 1;
    if (inas_kernel_run(j->ctx, j->k, 1, &g, NULL, NULL) != INAS_OK) return 1;
    return inas_ctx_finish(j->ctx) == INAS_OK ? 0 : 1;
}

int bench_cl(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    build_job job = {.device = NULL, .file = "tensor.cl"};
    int runs = 3, json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) job.device = argv[++i];
        else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) job.file = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0) json = 1;
        else return cli_usage_error("bench cl", "unexpected argument '%s'", argv[i]);
    }
    if (runs < 1 || runs > 100) return cli_usage_error("bench cl", "--runs must be in 1..100");
    if (!inas_cl_file_text(job.file)) return cli_fail("bench cl", "no embedded kernel file '%s'", job.file);

    double cold[100], driver[100], binary[100];
    inas_rng r;
    inas_rng_seed(&r, (uint64_t)getpid() ^ (uint64_t)(inas_wall_ms() * 1000));
    unsetenv("INAS_CACHE_DIR");
    for (int i = 0; i < runs; i++) { /* a fresh nonce: no cache can know these options */
        snprintf(job.options, sizeof job.options, "-DINAS_BENCH_NONCE=%llu", (unsigned long long)inas_rng_u64(&r));
        if ((cold[i] = build_fresh(&job, NULL)) < 0) return INAS_EXIT_FAILURE;
        if ((driver[i] = build_fresh(&job, NULL)) < 0) return INAS_EXIT_FAILURE; /* same options again */
    }
    char dir[] = "/tmp/inas-bench-cache-XXXXXX";
    if (!mkdtemp(dir)) return cli_fail("bench cl", "cannot make a temporary directory");
    setenv("INAS_CACHE_DIR", dir, 1);
    int loads_ok = 1;
    for (int i = 0; i < runs; i++) {
        snprintf(job.options, sizeof job.options, "-DINAS_BENCH_NONCE=%llu", (unsigned long long)inas_rng_u64(&r));
        if (build_fresh(&job, NULL) < 0) return INAS_EXIT_FAILURE; /* fills the binary cache */
        int loads = 0;
        if ((binary[i] = build_fresh(&job, &loads)) < 0) return INAS_EXIT_FAILURE;
        if (loads != 1) loads_ok = 0;
    }
    unsetenv("INAS_CACHE_DIR");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "inas bench cl: could not remove %s\n", dir);

    inas_error err;
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, job.device, &err) != INAS_OK) return cli_fail("bench cl", "%s", err.message);
    inas_program *p;
    launch_job lj = {.ctx = ctx};
    if (inas_program_get(ctx, "tensor.cl", "", &p) != INAS_OK || inas_kernel_get(ctx, p, "inas_axpy", &lj.k) != INAS_OK)
        return cli_fail("bench cl", "%s", inas_ctx_last_error(ctx));
    double t0 = inas_wall_ms();
    for (int i = 0; i < 1000; i++) inas_program_get(ctx, "tensor.cl", "", &p);
    double hit_us = (inas_wall_ms() - t0); /* ms per 1000 = us each */
    inas_tensor t;
    int one = 1, zero = 0;
    float a = 1.0f;
    if (inas_tensor_alloc(ctx, &t, 1, 1, 1, 1) != INAS_OK) return cli_fail("bench cl", "%s", inas_ctx_last_error(ctx));
    inas_kernel_arg(ctx, lj.k, 0, sizeof one, &one);
    inas_kernel_arg(ctx, lj.k, 1, sizeof a, &a);
    inas_kernel_arg(ctx, lj.k, 2, sizeof t.buf, &t.buf);
    inas_kernel_arg(ctx, lj.k, 3, sizeof zero, &zero);
    inas_kernel_arg(ctx, lj.k, 4, sizeof t.buf, &t.buf);
    inas_kernel_arg(ctx, lj.k, 5, sizeof zero, &zero);
    inas_timing tl;
    if (inas_time_runs(launch_once, &lj, 20, 200, &tl) != INAS_OK)
        return cli_fail("bench cl", "%s", inas_ctx_last_error(ctx));
    const inas_device_info *d = inas_ctx_device(ctx);
    double mc = median(cold, runs), md = median(driver, runs), mb = median(binary, runs);
    if (json) {
        printf("{\"device\": \"%s\", \"file\": \"%s\", \"runs\": %d, \"cold_build_ms\": %.3f, "
               "\"driver_cache_build_ms\": %.3f, \"binary_cache_build_ms\": %.3f, \"binary_cache_used\": %s, "
               "\"in_process_hit_us\": %.3f, \"launch_roundtrip_us\": %.2f}\n",
               d->name, job.file, runs, mc, md, mb, loads_ok ? "true" : "false", hit_us, tl.median_ms * 1000);
    } else {
        printf("device: %s (%s)\nkernel file: %s, %d runs each, medians\n", d->name, d->driver, job.file, runs);
        printf("  %-44s %10.2f ms\n", "cold build (new options, new context)", mc);
        printf("  %-44s %10.2f ms\n", "rebuild in a new context (driver cache)", md);
        printf("  %-44s %10.2f ms%s\n", "load from INAS_CACHE_DIR (new context)", mb,
               loads_ok ? "" : "  (binary cache NOT used)");
        printf("  %-44s %10.3f us\n", "in-process cache hit", hit_us);
        printf("  %-44s %10.2f us\n", "launch + clFinish of a 1-item kernel", tl.median_ms * 1000);
    }
    inas_tensor_free(ctx, &t);
    inas_ctx_destroy(ctx);
    return INAS_EXIT_OK;
}
