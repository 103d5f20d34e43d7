/* cmd_ckpt.c - `inas ckpt info FILE`: what a checkpoint holds (metadata,
 * every tensor with dtype and shape, parameter counts), validated. */
#include <stdio.h>
#include <string.h>

#include "inas/safetensors.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas ckpt info FILE [--names-only]\n\n"
            "Validates a safetensors checkpoint (header, byte ranges, CRC32 of files\n"
            "written by inas) and prints its metadata (without the space YAML, whose\n"
            "size is shown) and every tensor's name, dtype and shape as YAML.\n");
}

int cmd_ckpt(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    if (argc < 3 || strcmp(argv[1], "info") != 0) return cli_usage_error("ckpt", "expected 'info FILE'");
    int names_only = argc > 3 && strcmp(argv[3], "--names-only") == 0;
    if (argc > 4 || (argc == 4 && !names_only)) return cli_usage_error("ckpt", "unexpected argument '%s'", argv[3]);
    inas_error err;
    inas_st_file *f;
    if (inas_st_open(argv[2], &f, &err) != INAS_OK) return cli_fail("ckpt", "%s", err.message);
    size_t n = inas_st_count(f);
    if (names_only) {
        for (size_t i = 0; i < n; i++) printf("%s\n", inas_st_at(f, i)->name);
        inas_st_close(f);
        return INAS_EXIT_OK;
    }
    printf("file: %s\nmetadata:\n", argv[2]);
    for (size_t i = 0; i < inas_st_meta_count(f); i++) {
        const char *k, *v;
        inas_st_meta_at(f, i, &k, &v);
        if (strcmp(k, "inas.space") == 0 || strcmp(k, "inas.crc32") == 0)
            printf("  %s: <%zu bytes>\n", k, strlen(v));
        else
            printf("  %s: \"%s\"\n", k, v);
    }
    size_t params = 0, optim = 0, bytes = 0;
    printf("tensors:\n");
    for (size_t i = 0; i < n; i++) {
        const inas_st_tensor *t = inas_st_at(f, i);
        size_t numel = 1;
        printf("  %s: {dtype: %s, shape: [", t->name, inas_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) {
            printf(d ? ", %lld" : "%lld", (long long)t->shape[d]);
            numel *= (size_t)t->shape[d];
        }
        printf("]}\n");
        if (strncmp(t->name, "optimizer.", 10) == 0) optim += numel;
        else params += numel;
        bytes += t->nbytes;
    }
    printf("count: %zu\nparameters: %zu\noptimizer_values: %zu\ndata_bytes: %zu\n", n, params, optim, bytes);
    inas_st_close(f);
    return INAS_EXIT_OK;
}
