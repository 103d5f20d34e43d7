/* inas_probe.c - `inas-probe`, the standalone latency probe that runs on the
 * device side of the adb transport (DESIGN.md §5): it times the block keys
 * listed in a file with the inference kernels (inas_block_time, the same code
 * `inas lut probe` uses locally) and appends one "KEY<TAB>MS<TAB>SPREAD" line
 * per key to the results file, flushed and synced as each key finishes, so a
 * lost connection keeps every finished entry. Built for the host by default;
 * for a phone, configure with the Android NDK toolchain file and
 * -DINAS_DLOPEN_OPENCL=ON (the OpenCL library is then found through
 * INAS_OPENCL_LIBRARY). Exit 0 done, 1 failure, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inas/lut.h"
#include "inas/runtime.h"

static int usage(FILE *f, int rc) {
    fprintf(f, "Usage: inas-probe --keys FILE --out FILE --resolution R [--space FILE] [--batch B] [--warmup W]\n"
               "                  [--runs N] [--statistic median|mean|min] [--cooldown-ms MS] [--device SEL]\n"
               "                  [--precision fp32|fp16|fp16-storage]\n\n"
               "Times each block key of FILE (one a line) and appends KEY<TAB>MS<TAB>SPREAD lines to the\n"
               "output (after '# device:' and '# driver:' lines), synced after every key.\n");
    return rc;
}

int main(int argc, char **argv) {
    const char *keys = NULL, *out = NULL, *space_file = NULL, *device = NULL;
    inas_precision precision = INAS_PRECISION_FP32;
    inas_target_probe pr = {0, 1, 3, 10, INAS_STAT_MEDIAN, 0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout, 0);
        if (i + 1 >= argc) return usage(stderr, 2);
        const char *a = argv[i], *v = argv[++i];
        if (!strcmp(a, "--keys")) keys = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--space")) space_file = v;
        else if (!strcmp(a, "--device")) device = v;
        else if (!strcmp(a, "--resolution")) pr.resolution = atoi(v);
        else if (!strcmp(a, "--batch")) pr.batch = atoi(v);
        else if (!strcmp(a, "--warmup")) pr.warmup = atoi(v);
        else if (!strcmp(a, "--runs")) pr.runs = atoi(v);
        else if (!strcmp(a, "--cooldown-ms")) pr.cooldown_ms = atoi(v);
        else if (!strcmp(a, "--precision")) {
            int p = inas_precision_parse(v);
            if (p < 0) return usage(stderr, 2);
            precision = (inas_precision)p;
        }
        else if (!strcmp(a, "--statistic")) {
            if (!strcmp(v, "median")) pr.statistic = INAS_STAT_MEDIAN;
            else if (!strcmp(v, "mean")) pr.statistic = INAS_STAT_MEAN;
            else if (!strcmp(v, "min")) pr.statistic = INAS_STAT_MIN;
            else return usage(stderr, 2);
        } else return usage(stderr, 2);
    }
    if (!keys || !out || pr.resolution <= 0 || pr.runs < 1 || pr.batch < 1) return usage(stderr, 2);
    inas_error err;
    inas_space sp;
    if (space_file) {
        if (inas_space_load(space_file, &sp, &err)) {
            fprintf(stderr, "inas-probe: %s\n", err.message);
            return 1;
        }
    } else inas_space_default(&sp);
    FILE *kf = fopen(keys, "r");
    if (!kf) {
        fprintf(stderr, "inas-probe: cannot open %s\n", keys);
        return 1;
    }
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, device && *device ? device : NULL, &err)) {
        fprintf(stderr, "inas-probe: %s\n", err.message);
        fclose(kf);
        return 1;
    }
    FILE *of = fopen(out, "a");
    if (!of) {
        fprintf(stderr, "inas-probe: cannot write %s\n", out);
        fclose(kf);
        inas_ctx_destroy(ctx);
        return 1;
    }
    fprintf(of, "# device: %s\n# driver: %s\n", inas_ctx_device(ctx)->name, inas_ctx_device(ctx)->driver);
    char line[256];
    int rc = 0, n = 0;
    while (fgets(line, sizeof line, kf)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) continue;
        inas_block_key k;
        double ms, spread;
        if (inas_block_key_parse(line, &k, &err)) {
            fprintf(stderr, "inas-probe: %s:%d: %s\n", keys, n + 1, err.message);
            rc = 1;
            break;
        }
        if (inas_block_time(ctx, &sp, &k, &pr, precision, &ms, &spread)) {
            fprintf(stderr, "inas-probe: %s\n", inas_ctx_last_error(ctx));
            rc = 1;
            break;
        }
        fprintf(of, "%s\t%.6f\t%.6f\n", line, ms, spread);
        fflush(of);
        fsync(fileno(of));
        n++;
        if (pr.cooldown_ms > 0) {
            struct timespec ts = {pr.cooldown_ms / 1000, (long)(pr.cooldown_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    fclose(kf);
    if (fclose(of) != 0) rc = 1;
    inas_ctx_destroy(ctx);
    fprintf(stderr, "inas-probe: %d keys timed\n", n);
    return rc;
}
