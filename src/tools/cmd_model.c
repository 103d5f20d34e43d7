/* cmd_model.c - `inas model info MODEL_DIR`: an exported model's architecture,
 * layers, parameters and MACs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/model_internal.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: inas model info MODEL_DIR [--size R] [--device SEL]\n\n"
               "Prints the exported model's architecture, its convolution layers (dense and\n"
               "depthwise, after reparameterisation), parameters and multiply-accumulates of one\n"
               "forward at its resolution (or R), and its weight tensors.\n");
}

int cmd_model(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    if (argc < 3 || strcmp(argv[1], "info") != 0) return cli_usage_error("model", "expected 'info MODEL_DIR'");
    const char *dir = argv[2], *device = NULL;
    int size = 0;
    for (int i = 3; i < argc; i++) {
        if (i + 1 >= argc) return cli_usage_error("model", "option '%s' needs a value", argv[i]);
        if (strcmp(argv[i], "--device") == 0) device = argv[++i];
        else if (strcmp(argv[i], "--size") == 0) size = atoi(argv[++i]);
        else return cli_usage_error("model", "unknown option '%s'", argv[i]);
    }
    inas_error err;
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, device, &err) != INAS_OK) return cli_fail("model", "%s", err.message);
    inas_model *m = NULL;
    int rc = INAS_EXIT_FAILURE;
    inas_model_info info;
    if (inas_model_load(ctx, dir, &m, &err) != INAS_OK) {
        cli_fail("model", "%s", err.message);
    } else if (inas_model_get_info(m, size, &info) != INAS_OK) {
        cli_fail("model", "%s", inas_ctx_last_error(ctx));
    } else {
        char compact[4096];
        inas_arch_format_compact(inas_model_arch(m), compact, sizeof compact);
        printf("model: %s\narch: \"%s\"\nresolution: %d\nlayers: %d\nparams: %zu\nmacs: %.0f\ngmacs: %.3f\n",
               dir, compact, info.resolution, info.layers, info.params, info.macs, info.macs / 1e9);
        inas_model_block blocks[128];
        int nb = 0;
        if (inas_model_get_blocks(m, size, blocks, 128, &nb) == INAS_OK) {
            printf("blocks:  # name, parameters, MACs (batch 1)\n");
            for (int i = 0; i < nb && i < 128; i++)
                printf("  - {name: %s, params: %zu, macs: %.0f}\n", blocks[i].name, blocks[i].params, blocks[i].macs);
        }
        printf("tensors:\n");
        for (size_t i = 0; i < m->nw; i++) {
            printf("  - {name: %s, shape: [", m->w[i].name);
            for (int d = 0; d < m->w[i].ndim; d++) printf("%s%d", d ? ", " : "", m->w[i].shape[d]);
            printf("]}\n");
        }
        rc = INAS_EXIT_OK;
    }
    inas_model_destroy(m);
    inas_ctx_destroy(ctx);
    return rc;
}
