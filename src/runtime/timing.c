/* timing.c - wall clock, per-kernel profiling through OpenCL events, and the
 * repeat-and-take-the-median helper used by the benchmarks. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/internal.h"

double inas_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

inas_status inas_profile_begin(inas_ctx *ctx) {
    if (!ctx) return INAS_ERR_INVALID_ARG;
    for (size_t i = 0; i < ctx->prof_n; i++) CL(clReleaseEvent)(ctx->prof[i].event);
    ctx->prof_n = 0;
    ctx->profiling = 1;
    return INAS_OK;
}

inas_status inas_profile_end(inas_ctx *ctx, inas_profile_record **out, size_t *count) {
    if (!ctx || !out || !count) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_profile_end: null argument");
    *out = NULL;
    *count = 0;
    ctx->profiling = 0;
    CL_CHECK(ctx, CL(clFinish)(ctx->queue), "clFinish");
    inas_profile_record *rec = calloc(ctx->prof_n ? ctx->prof_n : 1, sizeof *rec);
    if (!rec) return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory");
    size_t n = 0;
    inas_status st = INAS_OK;
    for (size_t i = 0; i < ctx->prof_n; i++) {
        cl_ulong t0 = 0, t1 = 0;
        cl_int rc = CL(clGetEventProfilingInfo)(ctx->prof[i].event, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
        if (rc == CL_SUCCESS)
            rc = CL(clGetEventProfilingInfo)(ctx->prof[i].event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
        if (rc != CL_SUCCESS && st == INAS_OK) st = inas_cl_fail(ctx, rc, "clGetEventProfilingInfo");
        double ms = rc == CL_SUCCESS ? (double)(t1 - t0) * 1e-6 : 0.0;
        size_t j = 0;
        while (j < n && strcmp(rec[j].label, ctx->prof[i].label) != 0) j++;
        if (j == n) {
            memcpy(rec[n].label, ctx->prof[i].label, sizeof rec[n].label);
            n++;
        }
        rec[j].ms += ms;
        rec[j].count++;
        CL(clReleaseEvent)(ctx->prof[i].event);
    }
    ctx->prof_n = 0;
    if (st != INAS_OK) {
        free(rec);
        return st;
    }
    *out = rec;
    *count = n;
    return INAS_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

inas_status inas_time_runs(int (*fn)(void *user), void *user, int warmup, int runs, inas_timing *out) {
    if (!fn || !out || runs < 1) return INAS_ERR_INVALID_ARG;
    for (int i = 0; i < warmup; i++)
        if (fn(user) != 0) return INAS_ERR_INTERNAL;
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t) return INAS_ERR_NO_MEMORY;
    double sum = 0;
    for (int i = 0; i < runs; i++) {
        double t0 = inas_wall_ms();
        if (fn(user) != 0) {
            free(t);
            return INAS_ERR_INTERNAL;
        }
        t[i] = inas_wall_ms() - t0;
        sum += t[i];
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    out->runs = runs;
    out->min_ms = t[0];
    out->max_ms = t[runs - 1];
    out->mean_ms = sum / runs;
    out->median_ms = runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
    free(t);
    return INAS_OK;
}
