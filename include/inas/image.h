/* inas/image.h - host images: loading PNG/JPEG/BMP into 8-bit gray or RGB,
 * writing PNG, and bilinear resizing of 8-bit and float images.
 *
 * Gray conversion follows OpenCV's cv2.imread(path, IMREAD_GRAYSCALE) so that
 * metrics computed on loaded images agree with the Python toolkits:
 *   - 16-bit samples keep their high byte (v >> 8);
 *   - 1/2/4-bit gray is scaled to 0..255, palettes are expanded to RGB;
 *   - colour PNG: gray = (9797 R + 19234 G + 3737 B) >> 15 (libpng's
 *     rgb_to_gray with 0.299/0.587; 16-bit: rounded in 16 bits, then >> 8);
 *   - colour JPEG: the luma (Y) channel as decoded;
 *   - alpha channels are dropped (not composited).
 * All functions take an `inas_error *` (may be NULL) and never abort; errors
 * name the file. */
#ifndef INAS_IMAGE_H
#define INAS_IMAGE_H

#include <stddef.h>

#include "inas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Interleaved 8-bit image, rows top to bottom, no padding:
 * pixel (x, y) channel c is data[(y * width + x) * channels + c]. */
typedef struct inas_image {
    int width, height, channels;
    unsigned char *data;
} inas_image;

/* Channel requests for loading. */
enum {
    INAS_IMAGE_AS_STORED = 0, /* 1 for gray (or gray+alpha) files, 3 otherwise */
    INAS_IMAGE_GRAY = 1,
    INAS_IMAGE_RGB = 3
};

/* Largest width * height accepted by the loaders and inas_image_create. */
#define INAS_IMAGE_MAX_PIXELS ((size_t)1 << 28)

/* Allocates a zero-filled image (channels 1..4). *img is overwritten. */
inas_status inas_image_create(inas_image *img, int width, int height, int channels,
                              inas_error *err);
/* Frees the pixels and zeroes the struct. Accepts NULL and empty images. */
void inas_image_free(inas_image *img);

/* Loads a PNG (1/2/4/8/16-bit, gray, gray+alpha, RGB, RGBA, palette), JPEG or
 * BMP file. `channels` is one of INAS_IMAGE_AS_STORED/GRAY/RGB. Unreadable,
 * truncated or malformed files give INAS_ERR_IO / INAS_ERR_FORMAT with a
 * message starting with the path. *out is only written on success. */
inas_status inas_image_load(const char *path, int channels, inas_image *out, inas_error *err);
/* Same on an encoded image in memory; `name` is used in error messages. */
inas_status inas_image_decode(const void *data, size_t size, int channels, const char *name,
                              inas_image *out, inas_error *err);

/* True when the file name has an extension the loaders read (.png, .jpg,
 * .jpeg, .bmp; case-insensitive). */
int inas_image_has_supported_ext(const char *name);

/* Converts to one channel with the conversions listed above (colour input is
 * treated as PNG-style RGB). dst must not alias src. */
inas_status inas_image_to_gray(const inas_image *src, inas_image *dst, inas_error *err);

/* Writes an 8-bit PNG (1 to 4 channels) atomically: a temporary file in the
 * same directory, fsync, rename. */
inas_status inas_image_write_png(const char *path, const inas_image *img, inas_error *err);

/* Bilinear resize with pixel-centre alignment (OpenCV INTER_LINEAR geometry:
 * source x = (dx + 0.5) * sw / dw - 0.5, clamped at the borders). The 8-bit
 * version uses OpenCV's 11-bit fixed-point weights and rounding. *dst is
 * allocated. */
inas_status inas_image_resize(const inas_image *src, int width, int height, inas_image *dst,
                              inas_error *err);
/* Float version on caller buffers (interleaved, `channels` per pixel); dst
 * must not alias src. */
inas_status inas_resize_bilinear_f32(const float *src, int sw, int sh, int channels, float *dst,
                                     int dw, int dh, inas_error *err);

#ifdef __cplusplus
}
#endif

#endif /* INAS_IMAGE_H */
