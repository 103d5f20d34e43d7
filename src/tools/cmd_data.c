/* cmd_data.c - `inas data synth`: write a deterministic synthetic salient
 * object dataset (images and exact masks) for quick runs without real data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inas/dataset.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas data synth --out DIR [--count N] [--size S] [--seed S]\n\n"
            "Writes N (default 200) synthetic images of S x S pixels (default 96) with\n"
            "textured backgrounds and one to three textured objects of several shapes,\n"
            "as DIR/images/synth_NNNNN.png and their exact masks as DIR/masks/synth_NNNNN.png.\n"
            "The same seed gives the same files.\n");
}

/* mkdir -p */
static void make_dirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

int cmd_data(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "synth") != 0) return cli_usage_error("data", "expected 'synth'");
    const char *out = NULL;
    long count = 200, size = 96, seed = 0;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc) return cli_usage_error("data", "option '%s' needs a value", argv[i]);
        const char *a = argv[i], *v = argv[++i];
        char *end;
        long x = strtol(v, &end, 10);
        if (strcmp(a, "--out") == 0) out = v;
        else if (*end || x < 0) return cli_usage_error("data", "%s needs a non-negative integer", a);
        else if (strcmp(a, "--count") == 0) count = x;
        else if (strcmp(a, "--size") == 0) size = x;
        else if (strcmp(a, "--seed") == 0) seed = x;
        else return cli_usage_error("data", "unknown option '%s'", a);
    }
    if (!out || count < 1 || size < 8 || size > 4096) return cli_usage_error("data", "--out DIR, --count >= 1, --size in 8..4096");
    make_dirs(out);
    char img[4096], msk[4096];
    snprintf(img, sizeof img, "%s/images", out);
    snprintf(msk, sizeof msk, "%s/masks", out);
    inas_error err;
    if (inas_synth_dataset(img, msk, (int)count, (int)size, (uint64_t)seed, &err) != INAS_OK)
        return cli_fail("data", "%s", err.message);
    printf("images: %s\nmasks: %s\ncount: %ld\nsize: %ld\nseed: %ld\n", img, msk, count, size, seed);
    return INAS_EXIT_OK;
}
