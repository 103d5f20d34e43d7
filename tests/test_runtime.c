/* test_runtime.c - device selection, program build/cache/failure, -D
 * specialisation, the binary cache, kernel launches and profiling. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inas/runtime.h"
#include "inas/tensor.h"
#include "inas/util.h"
#include "testutil.h"

static inas_ctx *make_ctx(void) {
    inas_error err;
    inas_ctx *ctx = NULL;
    cr_assert_eq(inas_ctx_create(&ctx, NULL, &err), INAS_OK, "context: %s", err.message);
    return ctx;
}

Test(select, good_selectors_pick_a_device) {
    inas_device_info all0, d;
    inas_error err;
    cr_assert_eq(inas_device_select("0", &all0, &err), INAS_OK, "%s", err.message);
    const char *type = inas_device_type_name(all0.type);
    char buf[512];
    const char *good[] = {"0", "index=0", type, NULL, ""};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        cr_assert_eq(inas_device_select(good[i], &d, &err), INAS_OK, "selector '%s': %s", good[i] ? good[i] : "(null)", err.message);
    }
    /* a fragment of the device's own name, its platform, combined terms */
    snprintf(buf, sizeof buf, "device=%.8s,index=0", all0.name);
    cr_assert_eq(inas_device_select(buf, &d, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(d.index, all0.index);
    snprintf(buf, sizeof buf, "platform=%.10s,type=%s", all0.platform, type);
    cr_assert_eq(inas_device_select(buf, &d, &err), INAS_OK, "%s", err.message);
    snprintf(buf, sizeof buf, "%.6s:0", all0.name);
    cr_assert_eq(inas_device_select(buf, &d, &err), INAS_OK, "%s", err.message);
    cr_assert_str_eq(d.name, all0.name);
    /* case-insensitive */
    for (char *p = buf; *p; p++) *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
    cr_assert_eq(inas_device_select(buf, &d, &err), INAS_OK, "upper-case '%s': %s", buf, err.message);
}

Test(select, no_match_lists_devices) {
    inas_device_info d;
    inas_error err;
    cr_assert_eq(inas_device_select("device=no-such-device-xyzzy", &d, &err), INAS_ERR_NOT_FOUND);
    cr_assert(strstr(err.message, "no-such-device-xyzzy") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "[0]") != NULL, "message should list the devices: %s", err.message);
    cr_assert_eq(inas_device_select("index=999", &d, &err), INAS_ERR_NOT_FOUND);
    cr_assert_eq(inas_device_select("type=fpga", &d, &err), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "fpga") != NULL, "%s", err.message);
    cr_assert_eq(inas_device_select("colour=blue", &d, &err), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "colour") != NULL, "%s", err.message);
    cr_assert_eq(inas_device_select("index=-1", &d, &err), INAS_ERR_INVALID_ARG);
    inas_ctx *ctx = NULL;
    cr_assert_eq(inas_ctx_create(&ctx, "device=no-such-device-xyzzy", &err), INAS_ERR_NOT_FOUND);
    cr_assert_null(ctx);
}

Test(select, env_inas_device) {
    setenv("INAS_DEVICE", "device=no-such-device-xyzzy", 1);
    inas_error err;
    inas_ctx *ctx = NULL;
    cr_assert_eq(inas_ctx_create(&ctx, NULL, &err), INAS_ERR_NOT_FOUND);
    setenv("INAS_DEVICE", "0", 1);
    cr_assert_eq(inas_ctx_create(&ctx, NULL, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(inas_ctx_device(ctx)->index, 0);
    inas_ctx_destroy(ctx);
    unsetenv("INAS_DEVICE");
}

Test(program, embedded_file_builds_and_is_cached) {
    inas_ctx *ctx = make_ctx();
    const char *const *files = inas_cl_files();
    int found = 0;
    for (; *files; files++) found |= strcmp(*files, "tensor.cl") == 0;
    cr_assert(found, "tensor.cl is embedded");
    cr_assert_not_null(inas_cl_file_text("common.cl"));
    cr_assert_null(inas_cl_file_text("no-such.cl"));
    inas_program *a, *b, *c;
    cr_assert_eq(inas_program_get(ctx, "tensor.cl", "", &a), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_program_get(ctx, "tensor.cl", "", &b), INAS_OK);
    cr_assert_eq(a, b, "same source and options: the cached program");
    cr_assert_eq(inas_program_get(ctx, "tensor.cl", "-DUNUSED=1", &c), INAS_OK);
    cr_assert_neq(a, c, "other options: another program");
    inas_cache_stats st;
    inas_program_cache_stats(ctx, &st);
    cr_assert_eq(st.programs, 2);
    cr_assert_eq(st.hits, 1);
    cl_kernel k1, k2;
    cr_assert_eq(inas_kernel_get(ctx, a, "inas_axpy", &k1), INAS_OK);
    cr_assert_eq(inas_kernel_get(ctx, a, "inas_axpy", &k2), INAS_OK);
    cr_assert_eq(k1, k2);
    cr_assert_neq(inas_kernel_get(ctx, a, "no_such_kernel", &k2), INAS_OK);
    cr_assert(strstr(inas_ctx_last_error(ctx), "no_such_kernel") != NULL, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_program_get(ctx, "no-such.cl", "", &a), INAS_ERR_NOT_FOUND);
    inas_ctx_destroy(ctx);
}

Test(program, build_failure_reports_the_build_log) {
    inas_ctx *ctx = make_ctx();
    inas_program *p;
    const char *bad = "__kernel void broken(__global float *x) { x[0] = no_such_symbol_xyz; }\n";
    cr_assert_eq(inas_program_from_source(ctx, "broken.cl", bad, "", &p), INAS_ERR_BUILD);
    const char *msg = inas_ctx_last_error(ctx);
    cr_assert(strstr(msg, "broken.cl") != NULL, "names the program: %s", msg);
    cr_assert(strstr(msg, "build log") != NULL, "%s", msg);
    cr_assert(strstr(msg, "no_such_symbol_xyz") != NULL, "the log names the undeclared identifier: %s", msg);
    cr_assert_eq(inas_ctx_last_status(ctx), INAS_ERR_BUILD);
    /* a missing #include names the file and line */
    cr_assert_eq(inas_program_from_source(ctx, "inc.cl", "// x\n#include \"missing_file.cl\"\n", "", &p), INAS_ERR_BUILD);
    cr_assert(strstr(inas_ctx_last_error(ctx), "inc.cl:2") != NULL, "%s", inas_ctx_last_error(ctx));
    cr_assert(strstr(inas_ctx_last_error(ctx), "missing_file.cl") != NULL, "%s", inas_ctx_last_error(ctx));
    /* the context still works after a failure */
    cr_assert_eq(inas_program_get(ctx, "tensor.cl", "", &p), INAS_OK);
    inas_ctx_destroy(ctx);
}

/* Runs `__kernel void value(__global float *o)` from src with options; returns o[0]. */
static float run_value_kernel(inas_ctx *ctx, const char *src, const char *options) {
    inas_program *p;
    cl_kernel k;
    cr_assert_eq(inas_program_from_source(ctx, "value.cl", src, options, &p), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_kernel_get(ctx, p, "value", &k), INAS_OK);
    inas_tensor t;
    cr_assert_eq(inas_tensor_alloc(ctx, &t, 1, 1, 1, 1), INAS_OK);
    cr_assert_eq(inas_kernel_arg(ctx, k, 0, sizeof t.buf, &t.buf), INAS_OK);
    size_t g = 1;
    cr_assert_eq(inas_kernel_run(ctx, k, 1, &g, NULL, NULL), INAS_OK);
    float v = -1;
    cr_assert_eq(inas_tensor_read(ctx, &t, &v), INAS_OK);
    inas_tensor_free(ctx, &t);
    return v;
}

Test(program, define_specialisation_and_includes) {
    inas_ctx *ctx = make_ctx();
    const char *src = "#include \"common.cl\"\n#ifndef KSIZE\n#error KSIZE must be defined\n#endif\n"
                      "__kernel void value(__global float *o) { o[0] = KSIZE + inas_activate(-2.0f, ACT); }\n";
    cr_assert_float_eq(run_value_kernel(ctx, src, "-DKSIZE=3 -DACT=ACT_RELU"), 3.0f, 1e-6);
    cr_assert_float_eq(run_value_kernel(ctx, src, "-DKSIZE=7 -DACT=ACT_NONE"), 5.0f, 1e-6);
    inas_program *p;
    cr_assert_eq(inas_program_from_source(ctx, "value.cl", src, "-DACT=0", &p), INAS_ERR_BUILD);
    cr_assert(strstr(inas_ctx_last_error(ctx), "KSIZE must be defined") != NULL, "%s", inas_ctx_last_error(ctx));
    inas_ctx_destroy(ctx);
}

Test(program, inas_cl_dir_overrides_sources) {
    char *dir = tu_mkdtemp("cldir");
    char path[512];
    snprintf(path, sizeof path, "%s/extra.cl", dir);
    const char *extra = "#define EXTRA_VALUE 42.0f\n";
    cr_assert_eq(tu_write_file(path, extra, strlen(extra)), 0);
    setenv("INAS_CL_DIR", dir, 1);
    inas_ctx *ctx = make_ctx();
    float v = run_value_kernel(ctx, "#include \"extra.cl\"\n__kernel void value(__global float *o) { o[0] = EXTRA_VALUE; }\n", "");
    cr_assert_float_eq(v, 42.0f, 1e-6);
    inas_ctx_destroy(ctx);
    unsetenv("INAS_CL_DIR");
    tu_rmrf(dir);
    free(dir);
}

Test(program, binary_cache_dir_round_trip) {
    char *dir = tu_mkdtemp("bincache");
    setenv("INAS_CACHE_DIR", dir, 1);
    char opts[64];
    snprintf(opts, sizeof opts, "-DKSIZE=%d -DACT=0", (int)getpid() % 1000 + 11);
    const char *src = "#include \"common.cl\"\n__kernel void value(__global float *o) { o[0] = KSIZE; }\n";
    inas_ctx *ctx = make_ctx();
    float v1 = run_value_kernel(ctx, src, opts);
    inas_cache_stats st;
    inas_program_cache_stats(ctx, &st);
    cr_assert_eq(st.builds, 1);
    cr_assert_eq(st.binary_saves, 1, "the built program is saved in INAS_CACHE_DIR");
    inas_ctx_destroy(ctx);
    ctx = make_ctx();
    float v2 = run_value_kernel(ctx, src, opts);
    inas_program_cache_stats(ctx, &st);
    cr_assert_eq(st.binary_loads, 1, "a new context loads the saved binary");
    cr_assert_eq(st.builds, 0);
    cr_assert_float_eq(v1, v2, 0);
    inas_ctx_destroy(ctx);
    /* a corrupt cached binary is ignored and the program rebuilt from source */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "for f in '%s'/*.clbin; do echo garbage > \"$f\"; done", dir);
    cr_assert_eq(system(cmd), 0);
    ctx = make_ctx();
    float v3 = run_value_kernel(ctx, src, opts);
    inas_program_cache_stats(ctx, &st);
    cr_assert_eq(st.binary_loads, 0);
    cr_assert_eq(st.builds, 1);
    cr_assert_float_eq(v1, v3, 0);
    inas_ctx_destroy(ctx);
    unsetenv("INAS_CACHE_DIR");
    tu_rmrf(dir);
    free(dir);
}

Test(timing, profile_records_kernel_time) {
    inas_ctx *ctx = make_ctx();
    inas_program *p;
    cl_kernel k;
    cr_assert_eq(inas_program_get(ctx, "tensor.cl", "", &p), INAS_OK);
    cr_assert_eq(inas_kernel_get(ctx, p, "inas_scale", &k), INAS_OK);
    inas_tensor t;
    int n = 1 << 16, off = 0;
    float a = 2.0f;
    cr_assert_eq(inas_tensor_alloc(ctx, &t, 1, 1, 1, n), INAS_OK);
    cr_assert_eq(inas_tensor_fill(ctx, &t, 1.5f), INAS_OK);
    inas_kernel_arg(ctx, k, 0, sizeof n, &n);
    inas_kernel_arg(ctx, k, 1, sizeof a, &a);
    inas_kernel_arg(ctx, k, 2, sizeof t.buf, &t.buf);
    inas_kernel_arg(ctx, k, 3, sizeof off, &off);
    inas_kernel_arg(ctx, k, 4, sizeof t.buf, &t.buf);
    inas_kernel_arg(ctx, k, 5, sizeof off, &off);
    size_t g = (size_t)n;
    cr_assert_eq(inas_profile_begin(ctx), INAS_OK);
    cr_assert_eq(inas_kernel_run(ctx, k, 1, &g, NULL, "scale"), INAS_OK);
    cr_assert_eq(inas_kernel_run(ctx, k, 1, &g, NULL, "scale"), INAS_OK);
    cr_assert_eq(inas_kernel_run(ctx, k, 1, &g, NULL, NULL), INAS_OK);
    inas_profile_record *rec;
    size_t nrec;
    cr_assert_eq(inas_profile_end(ctx, &rec, &nrec), INAS_OK);
    cr_assert_eq(nrec, 2);
    cr_assert_str_eq(rec[0].label, "scale");
    cr_assert_eq(rec[0].count, 2);
    cr_assert_str_eq(rec[1].label, "inas_scale", "unlabelled launches use the kernel name");
    cr_assert_gt(rec[0].ms, 0.0);
    free(rec);
    float v;
    inas_tensor sl;
    cr_assert_eq(inas_tensor_slice_channels(ctx, &t, 0, 1, &sl), INAS_OK);
    float *all = malloc((size_t)n * sizeof *all);
    cr_assert_eq(inas_tensor_read(ctx, &t, all), INAS_OK);
    v = all[n - 1];
    cr_assert_float_eq(v, 12.0f, 0, "1.5 * 2^3");
    free(all);
    inas_tensor_free(ctx, &t);
    inas_ctx_destroy(ctx);
}

static int count_calls(void *user) {
    (*(int *)user)++;
    return 0;
}

Test(timing, time_runs_calls_warmup_plus_runs) {
    int calls = 0;
    inas_timing t;
    cr_assert_eq(inas_time_runs(count_calls, &calls, 2, 5, &t), INAS_OK);
    cr_assert_eq(calls, 7);
    cr_assert_eq(t.runs, 5);
    cr_assert(t.min_ms <= t.median_ms && t.median_ms <= t.max_ms);
    double a = inas_wall_ms();
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    cr_assert_geq(inas_wall_ms() - a, 1.9);
}

static char log_got[256];
static int log_count;
static void log_sink(void *user, inas_log_level level, const char *msg) {
    (void)user;
    log_count++;
    snprintf(log_got, sizeof log_got, "%d:%s", (int)level, msg);
}

Test(logging, logger_receives_messages_at_level) {
    inas_ctx *ctx = make_ctx();
    inas_ctx_set_logger(ctx, INAS_LOG_INFO, log_sink, NULL);
    inas_log(ctx, INAS_LOG_DEBUG, "hidden %d", 1);
    cr_assert_eq(log_count, 0, "debug is below info");
    inas_log(ctx, INAS_LOG_WARN, "shown %d", 2);
    cr_assert_eq(log_count, 1);
    cr_assert_str_eq(log_got, "1:shown 2");
    cr_assert_eq(inas_log_level_parse("debug"), INAS_LOG_DEBUG);
    cr_assert_eq(inas_log_level_parse("WARN"), INAS_LOG_WARN);
    cr_assert_eq(inas_log_level_parse("loud"), -1);
    inas_ctx_destroy(ctx);
}
