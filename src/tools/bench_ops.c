/* bench_ops.c - `inas bench ops`: measures the device's FP32 FMA peak and
 * triad bandwidth, then every op family's cases, printing median time,
 * GFLOP/s, GB/s and % of peak as a table or one JSON object. */
#include "tools/bench_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op_util.h"
#include "tools/commands.h"

typedef struct bench_row {
    char op[48], shape[96];
    double ms, gflops, gbps;
} bench_row;

struct bench_ops {
    inas_ctx *ctx;
    const char *filter;
    int json, quick, warmup, runs;
    int batches[8], nbatch, res[8], nres;
    double peak_gflops, triad_gbps;
    bench_row *rows;
    size_t nrows, cap;
};

inas_ctx *bench_ops_ctx(bench_ops *b) { return b->ctx; }
int bench_ops_selected(const bench_ops *b, const char *op) { return !b->filter || strstr(op, b->filter) != NULL; }
int bench_ops_batches(const bench_ops *b, const int **v) {
    *v = b->batches;
    return b->nbatch;
}
int bench_ops_resolutions(const bench_ops *b, const int **v) {
    *v = b->res;
    return b->nres;
}
int bench_ops_quick(const bench_ops *b) { return b->quick; }

typedef struct timed {
    inas_ctx *ctx;
    int (*fn)(void *);
    void *user;
} timed;

static int timed_call(void *u) {
    timed *t = u;
    if (t->fn(t->user) != 0) return 1;
    return inas_ctx_finish(t->ctx) == INAS_OK ? 0 : 1;
}

int bench_ops_time(bench_ops *b, const char *op, const char *shape, double flops, double bytes, int (*fn)(void *user),
                   void *user) {
    timed t = {b->ctx, fn, user};
    inas_timing tm;
    if (inas_time_runs(timed_call, &t, b->warmup, b->runs, &tm) != INAS_OK) {
        fprintf(stderr, "inas bench ops: %s %s failed: %s\n", op, shape, inas_ctx_last_error(b->ctx));
        return 1;
    }
    if (b->nrows == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        bench_row *nr = realloc(b->rows, b->cap * sizeof *nr);
        if (!nr) return 1;
        b->rows = nr;
    }
    bench_row *r = &b->rows[b->nrows++];
    snprintf(r->op, sizeof r->op, "%s", op);
    snprintf(r->shape, sizeof r->shape, "%s", shape);
    r->ms = tm.median_ms;
    r->gflops = flops > 0 ? flops / (tm.median_ms * 1e6) : 0;
    r->gbps = bytes > 0 ? bytes / (tm.median_ms * 1e6) : 0;
    if (!b->json) {
        printf("%-22s %-34s %10.3f %9.2f %9.2f %7.1f%%\n", r->op, r->shape, r->ms, r->gflops, r->gbps,
               b->peak_gflops > 0 ? 100.0 * r->gflops / b->peak_gflops : 0.0);
        fflush(stdout);
    }
    return 0;
}

int bench_stage_shapes(int res, bench_stage out[7]) {
    /* DESIGN.md section 3 at the largest widths: stem 40 channels, stride 2 */
    static const int cout[7] = {24, 32, 48, 88, 128, 216, 352};
    static const int expand[7] = {1, 6, 6, 6, 6, 6, 6};
    static const int stride[7] = {1, 2, 2, 2, 1, 2, 1};
    static const int kmax[7] = {3, 3, 9, 9, 9, 9, 9};
    int cin = 40, h = (res + 1) / 2;
    for (int s = 0; s < 7; s++) {
        out[s].stage = s + 1;
        out[s].cin = cin;
        out[s].cout = cout[s];
        out[s].hidden = cin * expand[s];
        out[s].stride = stride[s];
        out[s].kmax = kmax[s];
        out[s].h_in = h;
        out[s].h_out = stride[s] == 2 ? (h + 1) / 2 : h;
        h = out[s].h_out;
        cin = cout[s];
    }
    return 7;
}

/* ---- device peak and bandwidth ------------------------------------------------------ */

typedef struct peak_job {
    inas_ctx *ctx;
    cl_kernel k;
    size_t global;
} peak_job;

static int run_peak(void *u) {
    peak_job *j = u;
    size_t local = 64;
    return op_run(j->ctx, j->k, 1, &j->global, &local, "bench_fma_peak") == INAS_OK ? 0 : 1;
}

static int measure_device(bench_ops *b) {
    inas_ctx *ctx = b->ctx;
    const int iters = 512;
    peak_job pj = {ctx, NULL, (size_t)(inas_ctx_device(ctx)->compute_units ? inas_ctx_device(ctx)->compute_units : 1) * 4096};
    if (op_kernel(ctx, "bench.cl", "bench_fma_peak", &pj.k, "-DITERS=%d", iters) != INAS_OK) return 1;
    inas_tensor out;
    if (inas_tensor_alloc(ctx, &out, 1, 1, 1, (int)pj.global) != INAS_OK) return 1;
    float a = 0.999f, bb = 0.001f;
    if (op_args(ctx, pj.k, 3, OP_ARG(out.buf), OP_ARG(a), OP_ARG(bb)) != INAS_OK) return 1;
    timed t = {ctx, run_peak, &pj};
    inas_timing tm;
    if (inas_time_runs(timed_call, &t, 2, 7, &tm) != INAS_OK) return 1;
    b->peak_gflops = 2.0 * 16 * 8 * iters * (double)pj.global / (tm.median_ms * 1e6);
    inas_tensor_free(ctx, &out);

    /* triad over 3 x 64 MiB: far larger than any L3 */
    int n4 = 4 << 20;
    inas_tensor ta, tb, tc;
    cl_kernel k;
    if (inas_tensor_alloc(ctx, &ta, 1, 1, 1, n4 * 4) != INAS_OK || inas_tensor_alloc(ctx, &tb, 1, 1, 1, n4 * 4) != INAS_OK ||
        inas_tensor_alloc(ctx, &tc, 1, 1, 1, n4 * 4) != INAS_OK)
        return 1;
    inas_tensor_fill(ctx, &ta, 1.0f);
    inas_tensor_fill(ctx, &tb, 2.0f);
    float s = 3.0f;
    if (op_kernel(ctx, "bench.cl", "bench_triad", &k, "-DITERS=%d", iters) != INAS_OK ||
        op_args(ctx, k, 5, OP_ARG(ta.buf), OP_ARG(tb.buf), OP_ARG(tc.buf), OP_ARG(s), OP_ARG(n4)) != INAS_OK)
        return 1;
    peak_job tj = {ctx, k, (size_t)n4};
    t.fn = run_peak;
    t.user = &tj;
    if (inas_time_runs(timed_call, &t, 2, 7, &tm) != INAS_OK) return 1;
    b->triad_gbps = (3.0 * 16.0 * (double)n4) / (tm.median_ms * 1e6); /* 3 float4 streams */
    inas_tensor_free(ctx, &ta);
    inas_tensor_free(ctx, &tb);
    inas_tensor_free(ctx, &tc);
    inas_pool_trim(ctx);
    return 0;
}

/* ---- command --------------------------------------------------------------------- */

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas bench ops [--device SEL] [--filter TEXT] [--batch 1,8] [--res 64,320]\n"
            "                      [--runs N] [--warmup N] [--quick] [--json]\n\n"
            "Measures the device's FP32 FMA peak (its own FMA kernel) and triad bandwidth,\n"
            "then times every op at the stage shapes of the default search space and prints\n"
            "median ms, GFLOP/s, GB/s and %% of peak. --filter keeps ops whose name contains\n"
            "TEXT (e.g. conv1x1, dwconv_k7); --json prints one object:\n"
            "{\"device\", \"peak_gflops\", \"triad_gbps\", \"results\": [{\"op\", \"shape\", \"ms\",\n"
            "\"gflops\", \"gbps\"}, ...]}.\n");
}

static int parse_list(const char *s, int *v, int max) {
    int n = 0;
    while (*s && n < max) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s || x <= 0 || x > 4096) return -1;
        v[n++] = (int)x;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

int bench_ops_main(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    bench_ops b = {.warmup = 2, .runs = 7, .nbatch = 2, .batches = {1, 8}, .nres = 2, .res = {64, 320}};
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) b.json = 1;
        else if (strcmp(a, "--quick") == 0) b.quick = 1;
        else if (!v) return cli_usage_error("bench ops", "unexpected argument '%s'", a);
        else if (strcmp(a, "--device") == 0) device = argv[++i];
        else if (strcmp(a, "--filter") == 0) b.filter = argv[++i];
        else if (strcmp(a, "--runs") == 0) b.runs = atoi(argv[++i]);
        else if (strcmp(a, "--warmup") == 0) b.warmup = atoi(argv[++i]);
        else if (strcmp(a, "--batch") == 0) {
            if ((b.nbatch = parse_list(argv[++i], b.batches, 8)) <= 0) return cli_usage_error("bench ops", "bad --batch list");
        } else if (strcmp(a, "--res") == 0) {
            if ((b.nres = parse_list(argv[++i], b.res, 8)) <= 0) return cli_usage_error("bench ops", "bad --res list");
        } else
            return cli_usage_error("bench ops", "unexpected argument '%s'", a);
    }
    if (b.runs < 1 || b.runs > 1000 || b.warmup < 0) return cli_usage_error("bench ops", "bad --runs/--warmup");
    inas_error err;
    if (inas_ctx_create(&b.ctx, device, &err) != INAS_OK) return cli_fail("bench ops", "%s", err.message);
    if (measure_device(&b) != 0) {
        int rc = cli_fail("bench ops", "measuring the device: %s", inas_ctx_last_error(b.ctx));
        inas_ctx_destroy(b.ctx);
        return rc;
    }
    const inas_device_info *d = inas_ctx_device(b.ctx);
    if (!b.json) {
        printf("device: %s\nFP32 FMA peak: %.1f GFLOP/s   triad bandwidth: %.1f GB/s   (medians of %d runs)\n\n", d->name,
               b.peak_gflops, b.triad_gbps, b.runs);
        printf("%-22s %-34s %10s %9s %9s %8s\n", "op", "shape", "ms", "GFLOP/s", "GB/s", "%peak");
    }
    bench_ops_family_conv(&b);
    bench_ops_family_dwconv(&b);
    bench_ops_family_norm(&b);
    bench_ops_family_elem(&b);
    if (b.json) {
        printf("{\"device\": ");
        json_str(d->name);
        printf(", \"peak_gflops\": %.3f, \"triad_gbps\": %.3f, \"results\": [", b.peak_gflops, b.triad_gbps);
        for (size_t i = 0; i < b.nrows; i++) {
            printf("%s{\"op\": ", i ? ", " : "");
            json_str(b.rows[i].op);
            printf(", \"shape\": ");
            json_str(b.rows[i].shape);
            printf(", \"ms\": %.6f, \"gflops\": %.4f, \"gbps\": %.4f}", b.rows[i].ms, b.rows[i].gflops, b.rows[i].gbps);
        }
        printf("]}\n");
    }
    free(b.rows);
    inas_ctx_destroy(b.ctx);
    return INAS_EXIT_OK;
}
