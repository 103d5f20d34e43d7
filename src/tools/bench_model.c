/* bench_model.c - `inas bench model`: median batch-1 latency of an exported
 * model (or of the default space's largest/smallest architecture exported
 * from a freshly initialised supernet, so no training is needed), merged or
 * in the unmerged multi-branch SMSU form, with a per-layer breakdown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/model.h"
#include "inas/util.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas bench model [--model MODEL_DIR | --arch largest|smallest|ARCH.yaml [--space FILE]]\n"
            "                        [--size 320] [--unmerged] [--runs N] [--warmup N] [--json] [--save DIR]\n"
            "                        [--precision fp32|fp16-storage|fp16] [--device SEL]\n\n"
            "Times the forward of one image (batch 1, default fp32) at SIZE x SIZE: median of N runs (default\n"
            "10, after 2 warm-up runs), then one run layer by layer (a queue finish after each step).\n"
            "Without --model the architecture (default: largest) of the space (default: built-in) is\n"
            "exported from a supernet with random initial weights. --unmerged runs every SMSU as its\n"
            "separate folded branches (the multi-branch form). --json prints\n"
            "{\"ms\": median, \"layers\": [{\"name\": ..., \"ms\": ...}, ...]}. --save writes the\n"
            "benchmarked model as a model directory (to compare with other tools). --precision\n"
            "fp16-storage keeps weights and activations as half (float arithmetic, any device); fp16\n"
            "computes in half too (devices with cl_khr_fp16).\n");
}

typedef struct job {
    inas_model *m;
    inas_tensor x, y;
} job;

static int run(void *u) {
    job *j = u;
    if (inas_model_forward(j->m, &j->x, &j->y) != INAS_OK) return 1;
    return inas_ctx_finish(inas_model_ctx(j->m)) == INAS_OK ? 0 : 1;
}

int bench_model(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    const char *model = NULL, *arch_s = "largest", *space_file = NULL, *device = NULL, *save = NULL;
    int size = 320, unmerged = 0, runs = 10, warmup = 2, json = 0, precision = INAS_PRECISION_FP32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--unmerged") == 0) {
            unmerged = 1;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            json = 1;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error("bench", "model: option '%s' needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--model") == 0) model = v;
        else if (strcmp(a, "--arch") == 0) arch_s = v;
        else if (strcmp(a, "--space") == 0) space_file = v;
        else if (strcmp(a, "--save") == 0) save = v;
        else if (strcmp(a, "--device") == 0) device = v;
        else if (strcmp(a, "--size") == 0) size = atoi(v);
        else if (strcmp(a, "--runs") == 0) runs = atoi(v);
        else if (strcmp(a, "--warmup") == 0) warmup = atoi(v);
        else if (strcmp(a, "--precision") == 0) {
            if ((precision = inas_precision_parse(v)) < 0)
                return cli_usage_error("bench", "model: --precision '%s': expected fp32, fp16 or fp16-storage", v);
        }
        else return cli_usage_error("bench", "model: unknown option '%s'", a);
    }
    if (size < 32 || runs < 1 || warmup < 0) return cli_usage_error("bench", "model: --size >= 32, --runs >= 1");
    inas_error err;
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, device, &err) != INAS_OK) return cli_fail("bench", "%s", err.message);
    int rc = INAS_EXIT_FAILURE;
    inas_model *m = NULL;
    inas_supernet *net = NULL;
    job j = {0};
    if (model) {
        if (inas_model_load(ctx, model, &m, &err) != INAS_OK) {
            cli_fail("bench", "%s", err.message);
            goto done;
        }
    } else {
        inas_space space;
        inas_arch arch;
        if (space_file) {
            if (inas_space_load(space_file, &space, &err) != INAS_OK) {
                cli_fail("bench", "%s", err.message);
                goto done;
            }
        } else inas_space_default(&space);
        if (strcmp(arch_s, "largest") == 0) inas_arch_sample_max(&space, &arch);
        else if (strcmp(arch_s, "smallest") == 0) inas_arch_sample_min(&space, &arch);
        else if (inas_arch_load(arch_s, &space, &arch, &err) != INAS_OK) {
            cli_fail("bench", "%s", err.message);
            goto done;
        }
        if (inas_supernet_create(ctx, &space, 1, &net) != INAS_OK || inas_model_export(net, &arch, &m) != INAS_OK) {
            cli_fail("bench", "%s", inas_ctx_last_error(ctx));
            goto done;
        }
        inas_supernet_destroy(net); /* frees the supernet's device memory before timing */
        net = NULL;
    }
    if (save && inas_model_save(m, save, &err) != INAS_OK) {
        cli_fail("bench", "%s", err.message);
        goto done;
    }
    inas_model_set_unmerged(m, unmerged);
    if (inas_model_set_precision(m, (inas_precision)precision) != INAS_OK) {
        cli_fail("bench", "%s", inas_ctx_last_error(ctx));
        goto done;
    }
    j.m = m;
    if (inas_tensor_alloc(ctx, &j.x, 1, 3, size, size) != INAS_OK ||
        inas_tensor_alloc(ctx, &j.y, 1, 1, size, size) != INAS_OK || inas_tensor_fill(ctx, &j.x, 0.5f) != INAS_OK) {
        cli_fail("bench", "%s", inas_ctx_last_error(ctx));
        goto done;
    }
    inas_timing t;
    if (inas_time_runs(run, &j, warmup, runs, &t) != INAS_OK) {
        cli_fail("bench", "model forward failed: %s", inas_ctx_last_error(ctx));
        goto done;
    }
    enum { CAP = 128 };
    char names[CAP][32];
    double ms[CAP];
    int nl = 0;
    if (inas_model_profile(m, &j.x, &j.y, names, ms, CAP, &nl) != INAS_OK) {
        cli_fail("bench", "%s", inas_ctx_last_error(ctx));
        goto done;
    }
    inas_model_info info;
    if (inas_model_get_info(m, size, &info) != INAS_OK) {
        cli_fail("bench", "%s", inas_ctx_last_error(ctx));
        goto done;
    }
    if (json) {
        printf("{\"ms\": %.3f, \"min_ms\": %.3f, \"size\": %d, \"unmerged\": %s, \"precision\": \"%s\", "
               "\"params\": %zu, \"macs\": %.0f, \"layers\": [",
               t.median_ms, t.min_ms, size, unmerged ? "true" : "false", inas_precision_name((inas_precision)precision),
               info.params, info.macs);
        for (int i = 0; i < nl; i++) printf("%s{\"name\": \"%s\", \"ms\": %.3f}", i ? ", " : "", names[i], ms[i]);
        printf("]}\n");
    } else {
        char compact[4096];
        inas_arch_format_compact(inas_model_arch(m), compact, sizeof compact);
        printf("model: %s\narch: \"%s\"\nform: %s\nprecision: %s\nsize: %d\nbatch: 1\nparams: %zu\ngmacs: %.3f\n"
               "activation_buffers: %d\nactivation_mb: %.1f  # %.1f without reuse\n"
               "median_ms: %.2f\nmin_ms: %.2f\nmax_ms: %.2f\nruns: %d\ndevice: %s\nlayers_ms:  # one run, finish after each step\n",
               model ? model : arch_s, compact, unmerged ? "unmerged (multi-branch SMSU)" : "merged",
               inas_precision_name((inas_precision)precision), size,
               info.params, info.macs / 1e9, info.buffers, info.buffer_bytes / 1048576.0,
               info.unplanned_bytes / 1048576.0, t.median_ms, t.min_ms, t.max_ms, t.runs, inas_ctx_device(ctx)->name);
        for (int i = 0; i < nl; i++) printf("  %-12s %8.2f\n", names[i], ms[i]);
    }
    rc = INAS_EXIT_OK;
done:
    inas_tensor_free(ctx, &j.x);
    inas_tensor_free(ctx, &j.y);
    inas_model_destroy(m);
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
    return rc;
}
