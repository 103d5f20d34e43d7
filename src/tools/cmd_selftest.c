/* cmd_selftest.c - `inas selftest`: build the axpy kernel on a device, run it
 * on random data and compare with the host result. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/runtime.h"
#include "inas/tensor.h"
#include "inas/util.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas selftest [--device SELECTOR] [--n N]\n\n"
            "Builds cl/tensor.cl on the device, runs y = a*x + y on N random floats\n"
            "(default 1048576), compares with the host and prints the device, the\n"
            "build time, the kernel time and the largest error. Exit 1 on a mismatch.\n");
}

int cmd_selftest(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    const char *device = NULL;
    long n = 1 << 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            char *end;
            n = strtol(argv[++i], &end, 10);
            if (*end || n <= 0 || n > (1L << 28)) return cli_usage_error("selftest", "--n must be in 1..268435456");
        } else
            return cli_usage_error("selftest", "unexpected argument '%s'", argv[i]);
    }
    inas_error err;
    inas_ctx *ctx = NULL;
    if (inas_ctx_create(&ctx, device, &err) != INAS_OK) return cli_fail("selftest", "%s", err.message);
    const inas_device_info *d = inas_ctx_device(ctx);
    printf("device: \"%s\" (%s, platform \"%s\", %u compute units)\n", d->name, inas_device_type_name(d->type),
           d->platform, d->compute_units);

    int rc = INAS_EXIT_FAILURE;
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y), *out = malloc((size_t)n * sizeof *out);
    inas_tensor tx = {0}, ty = {0};
    inas_program *prog;
    cl_kernel k;
    double t0 = inas_wall_ms();
    if (!x || !y || !out) {
        fprintf(stderr, "inas selftest: out of memory\n");
        goto done;
    }
    if (inas_program_get(ctx, "tensor.cl", "", &prog) != INAS_OK || inas_kernel_get(ctx, prog, "inas_axpy", &k) != INAS_OK)
        goto cl_error;
    double build_ms = inas_wall_ms() - t0;
    inas_rng r;
    inas_rng_seed(&r, 42);
    for (long i = 0; i < n; i++) {
        x[i] = inas_rng_float(&r) * 2 - 1;
        y[i] = inas_rng_float(&r) * 2 - 1;
    }
    if (inas_tensor_alloc(ctx, &tx, 1, 1, 1, (int)n) != INAS_OK || inas_tensor_alloc(ctx, &ty, 1, 1, 1, (int)n) != INAS_OK ||
        inas_tensor_write(ctx, &tx, x) != INAS_OK || inas_tensor_write(ctx, &ty, y) != INAS_OK)
        goto cl_error;
    int ni = (int)n, off = 0;
    float a = 0.75f;
    if (inas_kernel_arg(ctx, k, 0, sizeof ni, &ni) != INAS_OK || inas_kernel_arg(ctx, k, 1, sizeof a, &a) != INAS_OK ||
        inas_kernel_arg(ctx, k, 2, sizeof tx.buf, &tx.buf) != INAS_OK ||
        inas_kernel_arg(ctx, k, 3, sizeof off, &off) != INAS_OK ||
        inas_kernel_arg(ctx, k, 4, sizeof ty.buf, &ty.buf) != INAS_OK ||
        inas_kernel_arg(ctx, k, 5, sizeof off, &off) != INAS_OK)
        goto cl_error;
    size_t global = ((size_t)n + 63) / 64 * 64;
    inas_profile_begin(ctx);
    if (inas_kernel_run(ctx, k, 1, &global, NULL, "axpy") != INAS_OK) goto cl_error;
    inas_profile_record *rec = NULL;
    size_t nrec = 0;
    if (inas_profile_end(ctx, &rec, &nrec) != INAS_OK) goto cl_error;
    if (inas_tensor_read(ctx, &ty, out) != INAS_OK) goto cl_error;
    double max_err = 0;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)out[i] - ((double)a * x[i] + y[i]));
        if (e > max_err) max_err = e;
    }
    printf("kernel: inas_axpy on %ld floats, build %.1f ms, run %.3f ms\n", n, build_ms, nrec ? rec[0].ms : 0.0);
    printf("max abs error vs host: %.3g\n", max_err);
    free(rec);
    if (max_err <= 1e-6) {
        printf("selftest: ok\n");
        rc = INAS_EXIT_OK;
    } else
        printf("selftest: FAILED (error above 1e-6)\n");
    goto done;
cl_error:
    fprintf(stderr, "inas selftest: error: %s\n", inas_ctx_last_error(ctx));
done:
    inas_tensor_free(ctx, &tx);
    inas_tensor_free(ctx, &ty);
    free(x);
    free(y);
    free(out);
    inas_ctx_destroy(ctx);
    return rc;
}
