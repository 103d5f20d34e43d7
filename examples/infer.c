/* infer.c - runs an exported model on one image: loads the model directory
 * (arch.yaml + weights.safetensors, as written by `inas export` or
 * inas_model_save), loads the image as 8-bit RGB, predicts the saliency map at
 * the model's resolution (resized back to the image's size) and writes it as
 * a gray PNG.
 *
 *   infer MODEL_DIR IMAGE OUT.png
 *
 * The OpenCL device is the default one, or the one INAS_DEVICE selects. */
#include <stdio.h>
#include <stdlib.h>

#include <inas/image.h>
#include <inas/model.h>
#include <inas/runtime.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL_DIR IMAGE OUT.png\n", argv[0]);
        return 2;
    }
    const char *model_dir = argv[1], *image_path = argv[2], *out_path = argv[3];
    inas_error err;
    inas_ctx *ctx = NULL;
    inas_model *model = NULL;
    inas_image rgb = {0}, map8 = {0};
    float *map = NULL;
    int rc = 1;

    /* 1. An OpenCL context (NULL: $INAS_DEVICE, else the default device). */
    if (inas_ctx_create(&ctx, NULL, &err) != INAS_OK) {
        fprintf(stderr, "infer: %s\n", err.message);
        return 1;
    }
    /* 2. The model and the image. */
    if (inas_model_load(ctx, model_dir, &model, &err) != INAS_OK ||
        inas_image_load(image_path, INAS_IMAGE_RGB, &rgb, &err) != INAS_OK) {
        fprintf(stderr, "infer: %s\n", err.message);
        goto done;
    }
    /* 3. One forward: map gets width*height probabilities in [0, 1]. */
    map = malloc((size_t)rgb.width * (size_t)rgb.height * sizeof *map);
    if (!map) {
        fprintf(stderr, "infer: out of memory\n");
        goto done;
    }
    if (inas_model_predict_rgb(model, rgb.data, rgb.width, rgb.height, map) != INAS_OK) {
        fprintf(stderr, "infer: %s\n", inas_ctx_last_error(ctx));
        goto done;
    }
    /* 4. The map as an 8-bit gray PNG. */
    if (inas_image_create(&map8, rgb.width, rgb.height, 1, &err) != INAS_OK) {
        fprintf(stderr, "infer: %s\n", err.message);
        goto done;
    }
    for (size_t i = 0; i < (size_t)rgb.width * (size_t)rgb.height; i++)
        map8.data[i] = (unsigned char)(map[i] * 255.0f + 0.5f);
    if (inas_image_write_png(out_path, &map8, &err) != INAS_OK) {
        fprintf(stderr, "infer: %s\n", err.message);
        goto done;
    }
    printf("%s: %dx%d saliency map of %s (model resolution %d)\n", out_path, rgb.width, rgb.height, image_path,
           inas_model_arch(model)->resolution);
    rc = 0;
done:
    inas_image_free(&map8);
    inas_image_free(&rgb);
    free(map);
    inas_model_destroy(model);
    inas_ctx_destroy(ctx);
    return rc;
}
