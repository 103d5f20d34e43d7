/* sample.c - one training sample: load an image and its mask, resize both,
 * normalise the image (ImageNet mean/std, planar CHW) and binarise the mask. */
#include <stdlib.h>

#include "inas/dataset.h"
#include "inas/image.h"

void inas_normalize_rgb(const unsigned char *rgb, int size, int flip, float *chw) {
    static const float mean[3] = {INAS_IMAGENET_MEAN_R, INAS_IMAGENET_MEAN_G, INAS_IMAGENET_MEAN_B};
    static const float stdv[3] = {INAS_IMAGENET_STD_R, INAS_IMAGENET_STD_G, INAS_IMAGENET_STD_B};
    size_t plane = (size_t)size * (size_t)size;
    for (int c = 0; c < 3; c++) {
        float scale = 1.0f / (255.0f * stdv[c]), shift = mean[c] / stdv[c];
        float *dst = chw + (size_t)c * plane;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                int sx = flip ? size - 1 - x : x;
                dst[(size_t)y * size + x] = (float)rgb[((size_t)y * size + sx) * 3 + c] * scale - shift;
            }
    }
}

inas_status inas_load_sample(const char *image_path, const char *mask_path, int size, int flip, float *image_chw,
                             float *mask, inas_error *err) {
    if (!image_path || !mask_path || size <= 0 || !image_chw || !mask)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_load_sample: bad arguments");
    inas_image img = {0}, msk = {0}, ri = {0}, rm = {0};
    inas_status st = inas_image_load(image_path, INAS_IMAGE_RGB, &img, err);
    if (st == INAS_OK) st = inas_image_load(mask_path, INAS_IMAGE_GRAY, &msk, err);
    if (st == INAS_OK && (img.width != msk.width || img.height != msk.height))
        st = inas_error_set(err, INAS_ERR_FORMAT, "%s: mask is %dx%d but its image %s is %dx%d", mask_path, msk.width,
                            msk.height, image_path, img.width, img.height);
    if (st == INAS_OK) st = inas_image_resize(&img, size, size, &ri, err);
    if (st == INAS_OK) st = inas_image_resize(&msk, size, size, &rm, err);
    if (st == INAS_OK) {
        inas_normalize_rgb(ri.data, size, flip, image_chw);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                int sx = flip ? size - 1 - x : x;
                /* binarise at 0.5 after resizing: v/255 > 0.5 */
                mask[(size_t)y * size + x] = rm.data[(size_t)y * size + sx] > 127 ? 1.0f : 0.0f;
            }
    }
    inas_image_free(&img);
    inas_image_free(&msk);
    inas_image_free(&ri);
    inas_image_free(&rm);
    return st;
}
