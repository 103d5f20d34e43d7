/* cmd_recalibrate.c - `inas recalibrate`: BN statistics of one architecture
 * re-estimated on training batches (momentum 1 averaging), saved as a new
 * checkpoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/runtime.h"
#include "inas/train.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas recalibrate --supernet CKPT --arch ARCH --images DIR --masks DIR -o CKPT_OUT\n"
            "                        [--batches N] [--batch B] [--size R] [--seed S] [--device SEL]\n\n"
            "Re-estimates the BatchNorm statistics that the architecture ARCH (YAML or compact\n"
            "form) uses: N training-mode forwards (default 100) of B images (default 8) at its\n"
            "resolution (or --size), averaged with momentum 1 (DESIGN.md section 4). Writes a\n"
            "weights-only checkpoint; the other parameters are copied unchanged.\n");
}

int cmd_recalibrate(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    const char *ckpt = NULL, *arch_path = NULL, *images = NULL, *masks = NULL, *out = NULL, *device = NULL;
    int batches = 100, batch = 8, size = 0;
    long seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) return cli_usage_error("recalibrate", "option '%s' needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--supernet") == 0) ckpt = v;
        else if (strcmp(a, "--arch") == 0) arch_path = v;
        else if (strcmp(a, "--images") == 0) images = v;
        else if (strcmp(a, "--masks") == 0) masks = v;
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) out = v;
        else if (strcmp(a, "--device") == 0) device = v;
        else if (strcmp(a, "--batches") == 0) batches = atoi(v);
        else if (strcmp(a, "--batch") == 0) batch = atoi(v);
        else if (strcmp(a, "--size") == 0) size = atoi(v);
        else if (strcmp(a, "--seed") == 0) seed = atol(v);
        else return cli_usage_error("recalibrate", "unknown option '%s'", a);
    }
    if (!ckpt || !arch_path || !images || !masks || !out)
        return cli_usage_error("recalibrate", "--supernet, --arch, --images, --masks and -o are required");
    if (batches < 1 || batch < 2 || size < 0 || seed < 0)
        return cli_usage_error("recalibrate", "--batches >= 1, --batch >= 2, --size >= 0, --seed >= 0");
    inas_error err;
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, device, &err) != INAS_OK) return cli_fail("recalibrate", "%s", err.message);
    int rc = INAS_EXIT_FAILURE;
    inas_supernet *net = NULL;
    inas_pair_list pairs = {0};
    inas_arch arch;
    if (inas_checkpoint_load(ctx, ckpt, &net, &err) != INAS_OK ||
        inas_arch_load(arch_path, inas_supernet_space(net), &arch, &err) != INAS_OK ||
        inas_pair_dirs(images, masks, &pairs, &err) != INAS_OK) {
        cli_fail("recalibrate", "%s", err.message);
        goto done;
    }
    if (size) arch.resolution = size;
    double t0 = inas_wall_ms();
    if (inas_recalibrate(net, &arch, &pairs, batch, batches, (uint64_t)seed, &err) != INAS_OK) {
        cli_fail("recalibrate", "%s", err.message);
        goto done;
    }
    char compact[2048];
    inas_arch_format_compact(&arch, compact, sizeof compact);
    const char *keys[] = {"inas.kind", "inas.recalibrated_arch"};
    const char *vals[] = {"supernet-recalibrated", compact};
    if (inas_checkpoint_save(net, out, keys, vals, 2, &err) != INAS_OK) {
        cli_fail("recalibrate", "%s", err.message);
        goto done;
    }
    printf("arch: \"%s\"\nbatches: %d\nbatch: %d\nresolution: %d\nseconds: %.2f\ncheckpoint: %s\n", compact, batches,
           batch, arch.resolution, (inas_wall_ms() - t0) / 1000, out);
    rc = INAS_EXIT_OK;
done:
    inas_pair_list_free(&pairs);
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
    return rc;
}
