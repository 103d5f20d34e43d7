/* image.c - image loading (stb_image: PNG/JPEG/BMP) into 8-bit gray or RGB with
 * OpenCV-compatible gray conversion, atomic PNG writing (stb_image_write), and
 * bilinear resizing. stb is compiled here with static linkage so that its
 * symbols never clash with another copy in the application. */
#include "inas/image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if defined(__GNUC__)
/* stb's static declarations of functions this file does not use are reported
 * at the end of the translation unit, so this one stays off for the file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wvla"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#endif
#define STBI_NO_STDIO
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* Encoded files larger than this are refused before reading them. */
#define MAX_FILE_BYTES ((size_t)1 << 30)

enum { FMT_UNKNOWN = 0, FMT_PNG, FMT_JPEG, FMT_BMP };

inas_status inas_image_create(inas_image *img, int width, int height, int channels,
                              inas_error *err) {
    if (!img) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_image_create: img is NULL");
    if (width <= 0 || height <= 0 || channels < 1 || channels > 4 ||
        (size_t)width * (size_t)height > INAS_IMAGE_MAX_PIXELS)
        return inas_error_set(err, INAS_ERR_INVALID_ARG,
                              "inas_image_create: bad size %dx%dx%d", width, height, channels);
    unsigned char *d = calloc((size_t)width * (size_t)height * (size_t)channels, 1);
    if (!d)
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory for a %dx%dx%d image",
                              width, height, channels);
    img->width = width;
    img->height = height;
    img->channels = channels;
    img->data = d;
    return INAS_OK;
}

void inas_image_free(inas_image *img) {
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

int inas_image_has_supported_ext(const char *name) {
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (!dot) return 0;
    return strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
           strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".bmp") == 0;
}

static int detect_format(const unsigned char *p, size_t n) {
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && memcmp(p, png_sig, 8) == 0) return FMT_PNG;
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return FMT_JPEG;
    if (n >= 2 && p[0] == 'B' && p[1] == 'M') return FMT_BMP;
    return FMT_UNKNOWN;
}

/* stb_image accepts truncated JPEG data (it pads with zeros), so walk the
 * marker segments and the entropy-coded scans and require the end-of-image
 * marker. Returns 1 when the stream is complete. */
static int jpeg_complete(const unsigned char *p, size_t n) {
    size_t i = 2;
    for (;;) {
        if (i >= n || p[i] != 0xFF) return 0;
        while (i < n && p[i] == 0xFF) i++;
        if (i >= n) return 0;
        unsigned m = p[i++];
        if (m == 0xD9) return 1;
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) continue;
        if (i + 2 > n) return 0;
        size_t len = ((size_t)p[i] << 8) | p[i + 1];
        if (len < 2) return 0;
        i += len;
        if (i > n) return 0;
        if (m == 0xDA) {
            for (;;) {
                if (i + 1 >= n) return 0;
                if (p[i] == 0xFF) {
                    unsigned b = p[i + 1];
                    if (b != 0x00 && b != 0xFF && !(b >= 0xD0 && b <= 0xD7)) break;
                }
                i++;
            }
        }
    }
}

/* stb_image stops at the IEND chunk type without reading its CRC; require
 * the chunk sequence to run complete up to the end of IEND. */
static int png_complete(const unsigned char *p, size_t n) {
    size_t i = 8;
    while (i + 12 <= n) {
        size_t len = ((size_t)p[i] << 24) | ((size_t)p[i + 1] << 16) | ((size_t)p[i + 2] << 8) | p[i + 3];
        if (len > n - i - 12) return 0;
        if (memcmp(p + i + 4, "IEND", 4) == 0) return 1;
        i += 12 + len;
    }
    return 0;
}

/* libpng rgb_to_gray(0.299, 0.587) as used by OpenCV's PNG reader. */
static inline unsigned char gray_png8(unsigned r, unsigned g, unsigned b) {
    return (unsigned char)((9797u * r + 19234u * g + 3737u * b) >> 15);
}
static inline unsigned char gray_png16(unsigned r, unsigned g, unsigned b) {
    return (unsigned char)(((9797u * r + 19234u * g + 3737u * b + 16384u) >> 15) >> 8);
}
/* OpenCV's own BGR->gray (14-bit fixed point, rounded), used for BMP. */
static inline unsigned char gray_cv8(unsigned r, unsigned g, unsigned b) {
    return (unsigned char)((4899u * r + 9617u * g + 1868u * b + 8192u) >> 14);
}

static void convert8(const unsigned char *s, int n, size_t npix, int want, int fmt,
                     unsigned char *d) {
    for (size_t i = 0; i < npix; i++, s += n) {
        if (want == 1) {
            if (n <= 2) d[i] = s[0];
            else if (fmt == FMT_PNG) d[i] = gray_png8(s[0], s[1], s[2]);
            else d[i] = gray_cv8(s[0], s[1], s[2]);
        } else {
            unsigned char *o = d + 3 * i;
            if (n <= 2) o[0] = o[1] = o[2] = s[0];
            else { o[0] = s[0]; o[1] = s[1]; o[2] = s[2]; }
        }
    }
}

static void convert16(const unsigned short *s, int n, size_t npix, int want, unsigned char *d) {
    for (size_t i = 0; i < npix; i++, s += n) {
        if (want == 1) {
            d[i] = n <= 2 ? (unsigned char)(s[0] >> 8) : gray_png16(s[0], s[1], s[2]);
        } else {
            unsigned char *o = d + 3 * i;
            if (n <= 2) o[0] = o[1] = o[2] = (unsigned char)(s[0] >> 8);
            else { o[0] = (unsigned char)(s[0] >> 8); o[1] = (unsigned char)(s[1] >> 8); o[2] = (unsigned char)(s[2] >> 8); }
        }
    }
}

inas_status inas_image_decode(const void *data, size_t size, int channels, const char *name,
                              inas_image *out, inas_error *err) {
    if (!name) name = "(memory)";
    if (!out || (!data && size))
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "%s: inas_image_decode: NULL argument", name);
    if (channels != INAS_IMAGE_AS_STORED && channels != INAS_IMAGE_GRAY && channels != INAS_IMAGE_RGB)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "%s: unsupported channel request %d", name, channels);
    const unsigned char *p = data;
    if (size == 0) return inas_error_set(err, INAS_ERR_FORMAT, "%s: empty file", name);
    if (size > INT_MAX) return inas_error_set(err, INAS_ERR_FORMAT, "%s: file too large", name);
    int fmt = detect_format(p, size);
    if (fmt == FMT_UNKNOWN)
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: not a PNG, JPEG or BMP image", name);
    if (fmt == FMT_PNG && !png_complete(p, size))
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: truncated or corrupt PNG (no complete IEND chunk)", name);
    if (fmt == FMT_JPEG && !jpeg_complete(p, size))
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: truncated or corrupt JPEG (no end-of-image marker)", name);
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(p, (int)size, &w, &h, &comp))
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: corrupt or unsupported image header (%s)",
                              name, stbi_failure_reason());
    if (w <= 0 || h <= 0 || (size_t)w * (size_t)h > INAS_IMAGE_MAX_PIXELS)
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: image size %dx%d out of range", name, w, h);
    int want = channels == INAS_IMAGE_AS_STORED ? (comp <= 2 ? 1 : 3) : channels;
    int is16 = fmt == FMT_PNG && stbi_is_16_bit_from_memory(p, (int)size);

    inas_image img;
    inas_status st = inas_image_create(&img, w, h, want, err);
    if (st != INAS_OK) return inas_error_prefix(err, "%s", name);
    int w2 = 0, h2 = 0, n = 0;
    void *pix;
    if (fmt == FMT_JPEG) /* req 1 gives the decoded luma, as libjpeg's grayscale output */
        pix = stbi_load_from_memory(p, (int)size, &w2, &h2, &n, want);
    else if (is16)
        pix = stbi_load_16_from_memory(p, (int)size, &w2, &h2, &n, 0);
    else
        pix = stbi_load_from_memory(p, (int)size, &w2, &h2, &n, 0);
    if (!pix) {
        inas_image_free(&img);
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: cannot decode image (%s)", name,
                              stbi_failure_reason());
    }
    if (w2 != w || h2 != h) {
        stbi_image_free(pix);
        inas_image_free(&img);
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: inconsistent image size", name);
    }
    size_t npix = (size_t)w * (size_t)h;
    if (fmt == FMT_JPEG) memcpy(img.data, pix, npix * (size_t)want);
    else if (is16) convert16(pix, n, npix, want, img.data);
    else convert8(pix, n, npix, want, fmt, img.data);
    stbi_image_free(pix);
    *out = img;
    return INAS_OK;
}

inas_status inas_image_load(const char *path, int channels, inas_image *out, inas_error *err) {
    if (!path || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_image_load: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f)
        return inas_error_set(err, errno == ENOENT ? INAS_ERR_NOT_FOUND : INAS_ERR_IO,
                              "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_FILE_BYTES) {
                free(buf);
                fclose(f);
                return inas_error_set(err, INAS_ERR_FORMAT, "%s: file too large", path);
            }
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return inas_error_set(err, INAS_ERR_IO, "%s: read error: %s", path, strerror(e));
    }
    inas_status st = inas_image_decode(buf, len, channels, path, out, err);
    free(buf);
    return st;
}

inas_status inas_image_to_gray(const inas_image *src, inas_image *dst, inas_error *err) {
    if (!src || !dst || !src->data)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_image_to_gray: NULL argument");
    inas_image g;
    inas_status st = inas_image_create(&g, src->width, src->height, 1, err);
    if (st != INAS_OK) return st;
    convert8(src->data, src->channels, (size_t)src->width * (size_t)src->height, 1, FMT_PNG, g.data);
    *dst = g;
    return INAS_OK;
}

typedef struct membuf {
    unsigned char *p;
    size_t len, cap;
    int failed;
} membuf;

static void membuf_write(void *ctx, void *data, int size) {
    membuf *m = ctx;
    if (m->failed || size <= 0) return;
    if (m->len + (size_t)size > m->cap) {
        size_t nc = m->cap ? m->cap : 4096;
        while (nc < m->len + (size_t)size) nc *= 2;
        unsigned char *np = realloc(m->p, nc);
        if (!np) {
            m->failed = 1;
            return;
        }
        m->p = np;
        m->cap = nc;
    }
    memcpy(m->p + m->len, data, (size_t)size);
    m->len += (size_t)size;
}

inas_status inas_image_write_png(const char *path, const inas_image *img, inas_error *err) {
    if (!path || !img || !img->data || img->width <= 0 || img->height <= 0 || img->channels < 1 ||
        img->channels > 4)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "%s: inas_image_write_png: bad image",
                              path ? path : "(null)");
    membuf m = {0};
    if (!stbi_write_png_to_func(membuf_write, &m, img->width, img->height, img->channels, img->data,
                                img->width * img->channels) ||
        m.failed) {
        free(m.p);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s: cannot encode PNG", path);
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        free(m.p);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        free(m.p);
        return inas_error_set(err, INAS_ERR_IO, "%s: cannot create temporary file: %s", path, strerror(e));
    }
    size_t off = 0;
    int e = 0;
    while (off < m.len) {
        ssize_t k = write(fd, m.p + off, m.len - off);
        if (k < 0) {
            if (errno == EINTR) continue;
            e = errno;
            break;
        }
        off += (size_t)k;
    }
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) unlink(tmp);
    free(tmp);
    free(m.p);
    if (e) return inas_error_set(err, INAS_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    return INAS_OK;
}

/* OpenCV INTER_LINEAR source positions and weights along one axis. */
static void linear_coeffs(int ssize, int dsize, int *idx, float *fw) {
    double scale = 1.0 / ((double)dsize / ssize);
    for (int d = 0; d < dsize; d++) {
        float f = (float)((d + 0.5) * scale - 0.5);
        int s = (int)floorf(f);
        f -= (float)s;
        if (s < 0) {
            f = 0.f;
            s = 0;
        }
        if (s >= ssize - 1) {
            f = 0.f;
            s = ssize - 1;
        }
        idx[d] = s;
        fw[d] = f;
    }
}

inas_status inas_image_resize(const inas_image *src, int width, int height, inas_image *dst,
                              inas_error *err) {
    if (!src || !dst || !src->data)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_image_resize: NULL argument");
    inas_image o;
    inas_status st = inas_image_create(&o, width, height, src->channels, err);
    if (st != INAS_OK) return st;
    const int sw = src->width, sh = src->height, c = src->channels;
    if (sw == width && sh == height) {
        memcpy(o.data, src->data, (size_t)sw * sh * c);
        *dst = o;
        return INAS_OK;
    }
    int *xi = malloc(sizeof(int) * (size_t)width), *yi = malloc(sizeof(int) * (size_t)height);
    float *xf = malloc(sizeof(float) * (size_t)width), *yf = malloc(sizeof(float) * (size_t)height);
    int *rows = malloc(sizeof(int) * 2 * (size_t)width * c);
    if (!xi || !yi || !xf || !yf || !rows) {
        free(xi); free(yi); free(xf); free(yf); free(rows);
        inas_image_free(&o);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory resizing an image");
    }
    linear_coeffs(sw, width, xi, xf);
    linear_coeffs(sh, height, yi, yf);
    for (int y = 0; y < height; y++) {
        int sy[2] = {yi[y], yi[y] + 1 < sh ? yi[y] + 1 : yi[y]};
        int b0 = (int)lrintf((1.f - yf[y]) * 2048.f), b1 = (int)lrintf(yf[y] * 2048.f);
        for (int r = 0; r < 2; r++) {
            const unsigned char *srow = src->data + (size_t)sy[r] * sw * c;
            int *drow = rows + (size_t)r * width * c;
            for (int x = 0; x < width; x++) {
                int sx0 = xi[x], sx1 = sx0 + 1 < sw ? sx0 + 1 : sx0;
                int a0 = (int)lrintf((1.f - xf[x]) * 2048.f), a1 = (int)lrintf(xf[x] * 2048.f);
                for (int k = 0; k < c; k++)
                    drow[x * c + k] = srow[sx0 * c + k] * a0 + srow[sx1 * c + k] * a1;
            }
        }
        unsigned char *orow = o.data + (size_t)y * width * c;
        for (int i = 0; i < width * c; i++) {
            /* OpenCV's vectorised rounding: 16-bit high products of the row
             * values / 16 with the weights, then (+2) >> 2. */
            long v = ((((long)(rows[i] >> 4) * b0) >> 16) +
                      (((long)(rows[width * c + i] >> 4) * b1) >> 16) + 2) >> 2;
            orow[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    free(xi); free(yi); free(xf); free(yf); free(rows);
    *dst = o;
    return INAS_OK;
}

inas_status inas_resize_bilinear_f32(const float *src, int sw, int sh, int channels, float *dst,
                                     int dw, int dh, inas_error *err) {
    if (!src || !dst || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || channels <= 0)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_resize_bilinear_f32: bad arguments");
    int *xi = malloc(sizeof(int) * (size_t)dw), *yi = malloc(sizeof(int) * (size_t)dh);
    float *xf = malloc(sizeof(float) * (size_t)dw), *yf = malloc(sizeof(float) * (size_t)dh);
    if (!xi || !yi || !xf || !yf) {
        free(xi); free(yi); free(xf); free(yf);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory resizing an image");
    }
    linear_coeffs(sw, dw, xi, xf);
    linear_coeffs(sh, dh, yi, yf);
    const int c = channels;
    for (int y = 0; y < dh; y++) {
        const float *r0 = src + (size_t)yi[y] * sw * c;
        const float *r1 = src + (size_t)(yi[y] + 1 < sh ? yi[y] + 1 : yi[y]) * sw * c;
        float fy = yf[y];
        float *o = dst + (size_t)y * dw * c;
        for (int x = 0; x < dw; x++) {
            int x0 = xi[x], x1 = x0 + 1 < sw ? x0 + 1 : x0;
            float fx = xf[x];
            for (int k = 0; k < c; k++) {
                float top = r0[x0 * c + k] * (1.f - fx) + r0[x1 * c + k] * fx;
                float bot = r1[x0 * c + k] * (1.f - fx) + r1[x1 * c + k] * fx;
                o[x * c + k] = top * (1.f - fy) + bot * fy;
            }
        }
    }
    free(xi); free(yi); free(xf); free(yf);
    return INAS_OK;
}
