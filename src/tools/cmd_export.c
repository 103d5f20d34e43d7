/* cmd_export.c - `inas export`: an architecture out of a supernet checkpoint
 * (optionally after BN recalibration on images), BN folded and SMSUs merged,
 * written as a model directory (arch.yaml + weights.safetensors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/dataset.h"
#include "inas/model.h"
#include "inas/train.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas export --supernet CKPT --arch ARCH.yaml [--calib-images DIR --calib-masks DIR]\n"
            "                   [--batches N] [--batch B] [--seed S] [--device SEL] -o MODEL_DIR\n\n"
            "Exports the architecture ARCH (YAML or compact form) with the supernet's weights and\n"
            "no retraining: BN statistics recalibrated for it on the calibration images when given\n"
            "(N batches of B, default 20 x 8; DESIGN.md section 4), weights sliced, every BN folded\n"
            "into its conv and every SMSU merged into one depthwise kernel with bias. MODEL_DIR\n"
            "receives arch.yaml and weights.safetensors (written atomically).\n");
}

int cmd_export(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    const char *ckpt = NULL, *arch_path = NULL, *images = NULL, *masks = NULL, *out = NULL, *device = NULL;
    int batches = 20, batch = 8;
    long seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) return cli_usage_error("export", "option '%s' needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--supernet") == 0) ckpt = v;
        else if (strcmp(a, "--arch") == 0) arch_path = v;
        else if (strcmp(a, "--calib-images") == 0) images = v;
        else if (strcmp(a, "--calib-masks") == 0) masks = v;
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) out = v;
        else if (strcmp(a, "--device") == 0) device = v;
        else if (strcmp(a, "--batches") == 0) batches = atoi(v);
        else if (strcmp(a, "--batch") == 0) batch = atoi(v);
        else if (strcmp(a, "--seed") == 0) seed = atol(v);
        else return cli_usage_error("export", "unknown option '%s'", a);
    }
    if (!ckpt || !arch_path || !out) return cli_usage_error("export", "--supernet, --arch and -o are required");
    if (!images != !masks) return cli_usage_error("export", "--calib-images and --calib-masks go together");
    if (batches < 1 || batch < 2 || seed < 0) return cli_usage_error("export", "--batches >= 1, --batch >= 2, --seed >= 0");
    inas_error err;
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, device, &err) != INAS_OK) return cli_fail("export", "%s", err.message);
    int rc = INAS_EXIT_FAILURE;
    inas_supernet *net = NULL;
    inas_model *m = NULL;
    inas_pair_list pairs = {0};
    inas_arch arch;
    if (inas_checkpoint_load(ctx, ckpt, &net, &err) != INAS_OK ||
        inas_arch_load(arch_path, inas_supernet_space(net), &arch, &err) != INAS_OK ||
        (images && inas_pair_dirs(images, masks, &pairs, &err) != INAS_OK) ||
        (images && inas_recalibrate(net, &arch, &pairs, batch, batches, (uint64_t)seed, &err) != INAS_OK)) {
        cli_fail("export", "%s", err.message);
        goto done;
    }
    if (inas_model_export(net, &arch, &m) != INAS_OK) {
        cli_fail("export", "%s", inas_ctx_last_error(ctx));
        goto done;
    }
    inas_model_info info;
    if (inas_model_save(m, out, &err) != INAS_OK) {
        cli_fail("export", "%s", err.message);
        goto done;
    }
    if (inas_model_get_info(m, 0, &info) != INAS_OK) {
        cli_fail("export", "%s", inas_ctx_last_error(ctx));
        goto done;
    }
    char compact[4096];
    inas_arch_format_compact(&arch, compact, sizeof compact);
    printf("arch: \"%s\"\nrecalibrated: %s\nlayers: %d\nparams: %zu\nmacs: %.0f\nmodel: %s\n", compact,
           images ? "true" : "false", info.layers, info.params, info.macs, out);
    rc = INAS_EXIT_OK;
done:
    inas_model_destroy(m);
    inas_pair_list_free(&pairs);
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
    return rc;
}
