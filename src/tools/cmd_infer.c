/* cmd_infer.c - `inas infer`: an exported model run on images, one 8-bit PNG
 * saliency map per image at the image's original size. A bad image is
 * reported (naming the file) and skipped; the others still run. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>

#include "inas/image.h"
#include "inas/model.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: inas infer --model MODEL_DIR [--device SEL] [--unmerged] [--precision P] IMAGES... -o OUT_DIR\n\n"
               "Runs the exported model on each image (files, or directories of .png/.jpg/.bmp files)\n"
               "at the model's resolution and writes OUT_DIR/NAME.png, the saliency map resized to\n"
               "the image's size (8-bit gray). --unmerged runs the multi-branch SMSU form.\n"
               "--precision fp32 (default) | fp16-storage (half weights and activations, float\n"
               "arithmetic: any device) | fp16 (half arithmetic too: devices with cl_khr_fp16).\n"
               "Exit status 1 when any image failed (the others are still written).\n");
}

static int run_one(inas_model *m, const char *path, const char *outdir) {
    inas_error err;
    inas_image img = {0}, map = {0};
    if (inas_image_load(path, INAS_IMAGE_RGB, &img, &err) != INAS_OK) {
        fprintf(stderr, "inas infer: error: %s\n", err.message);
        return 1;
    }
    int rc = 1;
    float *p = malloc((size_t)img.width * img.height * sizeof *p);
    if (!p) {
        fprintf(stderr, "inas infer: error: %s: out of memory\n", path);
    } else if (inas_model_predict_rgb(m, img.data, img.width, img.height, p) != INAS_OK) {
        fprintf(stderr, "inas infer: error: %s: %s\n", path, inas_ctx_last_error(inas_model_ctx(m)));
    } else if (inas_image_create(&map, img.width, img.height, 1, &err) != INAS_OK) {
        fprintf(stderr, "inas infer: error: %s\n", err.message);
    } else {
        for (size_t i = 0; i < (size_t)img.width * img.height; i++) {
            float v = p[i] < 0 ? 0 : p[i] > 1 ? 1 : p[i];
            map.data[i] = (unsigned char)lrintf(v * 255.0f);
        }
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        char name[1024], out[2048];
        snprintf(name, sizeof name, "%s", base);
        char *dot = strrchr(name, '.');
        if (dot && dot != name) *dot = 0;
        snprintf(out, sizeof out, "%s/%s.png", outdir, name);
        if (inas_image_write_png(out, &map, &err) != INAS_OK) fprintf(stderr, "inas infer: error: %s\n", err.message);
        else rc = 0;
    }
    free(p);
    inas_image_free(&map);
    inas_image_free(&img);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs every supported image of a directory (sorted); returns the failures. */
static int run_dir(inas_model *m, const char *dir, const char *outdir, int *done) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "inas infer: error: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !inas_image_has_supported_ext(de->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) break;
            names = nn;
        }
        names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
        if (!names[n]) break;
        sprintf(names[n], "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        failed += run_one(m, names[i], outdir);
        (*done)++;
        free(names[i]);
    }
    free(names);
    return failed;
}

int cmd_infer(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    const char *model = NULL, *out = NULL, *device = NULL;
    int unmerged = 0, nimg = 0, precision = INAS_PRECISION_FP32;
    char **imgs = calloc((size_t)argc, sizeof *imgs);
    if (!imgs) return cli_fail("infer", "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--unmerged") == 0) unmerged = 1;
        else if (strcmp(a, "--model") == 0 || strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
                 strcmp(a, "--device") == 0 || strcmp(a, "--precision") == 0) {
            if (i + 1 >= argc) {
                free(imgs);
                return cli_usage_error("infer", "option '%s' needs a value", a);
            }
            const char *v = argv[++i];
            if (strcmp(a, "--model") == 0) model = v;
            else if (strcmp(a, "--device") == 0) device = v;
            else if (strcmp(a, "--precision") == 0) {
                if ((precision = inas_precision_parse(v)) < 0) {
                    free(imgs);
                    return cli_usage_error("infer", "--precision '%s': expected fp32, fp16 or fp16-storage", v);
                }
            } else out = v;
        } else if (a[0] == '-' && a[1]) {
            free(imgs);
            return cli_usage_error("infer", "unknown option '%s'", a);
        } else imgs[nimg++] = argv[i];
    }
    if (!model || !out || !nimg) {
        free(imgs);
        return cli_usage_error("infer", "--model, -o and at least one image are required");
    }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        free(imgs);
        return cli_fail("infer", "%s: cannot create directory: %s", out, strerror(errno));
    }
    inas_error err;
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, device, &err) != INAS_OK) {
        free(imgs);
        return cli_fail("infer", "%s", err.message);
    }
    inas_model *m = NULL;
    int failed = 0, done = 0;
    if (inas_model_load(ctx, model, &m, &err) != INAS_OK) {
        cli_fail("infer", "%s", err.message);
        failed = 1;
    } else if (inas_model_set_precision(m, (inas_precision)precision) != INAS_OK) {
        cli_fail("infer", "%s", inas_ctx_last_error(ctx));
        failed = 1;
    } else {
        inas_model_set_unmerged(m, unmerged);
        double t0 = inas_wall_ms();
        for (int i = 0; i < nimg; i++) {
            struct stat sb;
            if (stat(imgs[i], &sb) == 0 && S_ISDIR(sb.st_mode)) failed += run_dir(m, imgs[i], out, &done);
            else {
                failed += run_one(m, imgs[i], out);
                done++;
            }
        }
        printf("images: %d\nfailed: %d\nseconds: %.2f\noutput: %s\n", done, failed, (inas_wall_ms() - t0) / 1000,
               out);
    }
    inas_model_destroy(m);
    inas_ctx_destroy(ctx);
    free(imgs);
    return failed ? INAS_EXIT_FAILURE : INAS_EXIT_OK;
}
