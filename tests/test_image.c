/* test_image.c - image loading: PNG bit depths 1/8/16, gray/RGB/RGBA/palette
 * conversion to gray as cv2.imread(IMREAD_GRAYSCALE) does, JPEG, PNG writing,
 * bilinear resize against OpenCV values, and bad input (truncated, garbage,
 * bit-flipped files) that must give an error naming the file, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inas/image.h"
#include "testutil.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

/* ---- a minimal PNG encoder (stored deflate blocks) for any bit depth ---------- */

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put32(buf *b, uint32_t v) {
    unsigned char c[4] = {v >> 24, v >> 16, v >> 8, v};
    put(b, c, 4);
}
static uint32_t crc(const unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}
static void chunk(buf *b, const char *type, const unsigned char *d, size_t n) {
    put32(b, (uint32_t)n);
    size_t at = b->n;
    put(b, type, 4);
    if (n) put(b, d, n);
    put32(b, crc(b->p + at, n + 4));
}

/* rows: raw scanlines without filter bytes (h rows of rowbytes). */
static buf make_png(int w, int h, int depth, int ctype, const unsigned char *rows, size_t rowbytes,
                    const unsigned char *plte, size_t nplte) {
    buf raw = {0}, z = {0}, out = {0};
    for (int y = 0; y < h; y++) {
        unsigned char f = 0;
        put(&raw, &f, 1);
        put(&raw, rows + (size_t)y * rowbytes, rowbytes);
    }
    unsigned char zh[2] = {0x78, 0x01};
    put(&z, zh, 2);
    size_t off = 0;
    do {
        size_t n = raw.n - off > 65535 ? 65535 : raw.n - off;
        unsigned char hdr[5] = {off + n == raw.n, n & 255, n >> 8, ~n & 255, (~n >> 8) & 255};
        put(&z, hdr, 5);
        put(&z, raw.p + off, n);
        off += n;
    } while (off < raw.n);
    uint32_t a = 1, bsum = 0;
    for (size_t i = 0; i < raw.n; i++) {
        a = (a + raw.p[i]) % 65521;
        bsum = (bsum + a) % 65521;
    }
    put32(&z, (bsum << 16) | a);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    put(&out, sig, 8);
    unsigned char ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, depth, ctype, 0, 0, 0};
    ihdr[2] = w >> 8; ihdr[3] = w & 255; ihdr[6] = h >> 8; ihdr[7] = h & 255;
    chunk(&out, "IHDR", ihdr, 13);
    if (plte) chunk(&out, "PLTE", plte, nplte);
    chunk(&out, "IDAT", z.p, z.n);
    chunk(&out, "IEND", NULL, 0);
    free(raw.p);
    free(z.p);
    return out;
}

static inas_image decode_ok(const buf *b, int channels) {
    inas_image img;
    inas_error err;
    inas_status st = inas_image_decode(b->p, b->n, channels, "mem.png", &img, &err);
    cr_assert_eq(st, INAS_OK, "%s", err.message);
    return img;
}

Test(image, png_1bit_gray_scales_to_255) {
    unsigned char rows[2] = {0xA5, 0x0F}; /* 8x2: 10100101 / 00001111 */
    buf b = make_png(8, 2, 1, 0, rows, 1, NULL, 0);
    inas_image img = decode_ok(&b, INAS_IMAGE_GRAY);
    cr_assert_eq(img.width, 8);
    cr_assert_eq(img.height, 2);
    const unsigned char want[16] = {255, 0, 255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255};
    cr_expect_arr_eq(img.data, want, 16);
    inas_image_free(&img);
    free(b.p);
}

Test(image, png_8bit_gray_and_rgb_request) {
    unsigned char rows[6] = {0, 1, 127, 128, 200, 255};
    buf b = make_png(3, 2, 8, 0, rows, 3, NULL, 0);
    inas_image img = decode_ok(&b, INAS_IMAGE_AS_STORED);
    cr_expect_eq(img.channels, 1);
    cr_expect_arr_eq(img.data, rows, 6);
    inas_image_free(&img);
    img = decode_ok(&b, INAS_IMAGE_RGB);
    cr_expect_eq(img.channels, 3);
    cr_expect_eq(img.data[3 * 4 + 0], 200);
    cr_expect_eq(img.data[3 * 4 + 2], 200);
    inas_image_free(&img);
    free(b.p);
}

/* 16-bit samples keep their high byte (OpenCV strips the low byte). */
Test(image, png_16bit_gray_keeps_high_byte) {
    const uint16_t v[4] = {0x0000, 0x12FF, 0x80FF, 0xFFFF};
    unsigned char rows[8];
    for (int i = 0; i < 4; i++) {
        rows[2 * i] = v[i] >> 8;
        rows[2 * i + 1] = v[i] & 255;
    }
    buf b = make_png(2, 2, 16, 0, rows, 4, NULL, 0);
    inas_image img = decode_ok(&b, INAS_IMAGE_GRAY);
    const unsigned char want[4] = {0x00, 0x12, 0x80, 0xFF};
    cr_expect_arr_eq(img.data, want, 4);
    inas_image_free(&img);
    free(b.p);
}

/* Colour to gray: values read back from cv2.imread(..., IMREAD_GRAYSCALE). */
Test(image, png_rgb_to_gray_like_opencv) {
    const unsigned char px[5][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 200, 30}, {123, 45, 67}};
    const unsigned char want[5] = {76, 149, 29, 123, 70};
    unsigned char rows[15], rgba[20];
    memcpy(rows, px, 15);
    for (int i = 0; i < 5; i++) {
        memcpy(rgba + 4 * i, px[i], 3);
        rgba[4 * i + 3] = (unsigned char)(i * 50); /* alpha is dropped */
    }
    buf b = make_png(5, 1, 8, 2, rows, 15, NULL, 0);
    inas_image img = decode_ok(&b, INAS_IMAGE_GRAY);
    cr_expect_arr_eq(img.data, want, 5);
    inas_image_free(&img);
    img = decode_ok(&b, INAS_IMAGE_AS_STORED);
    cr_expect_eq(img.channels, 3);
    cr_expect_arr_eq(img.data, rows, 15);
    inas_image_free(&img);
    free(b.p);
    b = make_png(5, 1, 8, 6, rgba, 20, NULL, 0);
    img = decode_ok(&b, INAS_IMAGE_GRAY);
    cr_expect_arr_eq(img.data, want, 5);
    inas_image_free(&img);
    free(b.p);
    /* palette: expanded to RGB, then the same conversion */
    unsigned char idx[5] = {0, 1, 2, 3, 4};
    b = make_png(5, 1, 8, 3, idx, 5, rows, 15);
    img = decode_ok(&b, INAS_IMAGE_GRAY);
    cr_expect_arr_eq(img.data, want, 5);
    inas_image_free(&img);
    free(b.p);
    /* 16-bit RGB: rounded 16-bit gray, then the high byte */
    unsigned char r16[6] = {0x12, 0x34, 0xAB, 0xCD, 0x00, 0xFF};
    b = make_png(1, 1, 16, 2, r16, 6, NULL, 0);
    img = decode_ok(&b, INAS_IMAGE_GRAY);
    unsigned g16 = ((9797u * 0x1234 + 19234u * 0xABCD + 3737u * 0x00FF + 16384u) >> 15) >> 8;
    cr_expect_eq(img.data[0], g16);
    inas_image_free(&img);
    free(b.p);
}

static void mem_write(void *ctx, void *data, int size) {
    buf *b = ctx;
    put(b, data, (size_t)size);
}

static buf make_jpeg(int w, int h, int comp) {
    unsigned char *px = malloc((size_t)w * h * comp);
    for (int i = 0; i < w * h * comp; i++) px[i] = (unsigned char)((i / comp % w) * 255 / (w - 1));
    buf b = {0};
    cr_assert(stbi_write_jpg_to_func(mem_write, &b, w, h, comp, px, 95));
    free(px);
    return b;
}

Test(image, jpeg_gray_and_colour) {
    buf b = make_jpeg(64, 16, 1);
    inas_image img = decode_ok(&b, INAS_IMAGE_GRAY);
    cr_expect_eq(img.width, 64);
    for (int x = 0; x < 64; x += 9) {
        int want = x * 255 / 63, got = img.data[5 * 64 + x];
        cr_expect(abs(got - want) <= 8, "x=%d got %d want ~%d", x, got, want);
    }
    inas_image_free(&img);
    free(b.p);
    b = make_jpeg(32, 8, 3);
    img = decode_ok(&b, INAS_IMAGE_AS_STORED);
    cr_expect_eq(img.channels, 3);
    inas_image_free(&img);
    img = decode_ok(&b, INAS_IMAGE_GRAY);
    cr_expect_eq(img.channels, 1);
    inas_image_free(&img);
    free(b.p);
}

Test(image, write_png_roundtrip_and_errors) {
    char *dir = tu_mkdtemp("image-write");
    char path[4096];
    snprintf(path, sizeof path, "%s/x.png", dir);
    unsigned char px[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    inas_image img = {2, 2, 3, px}, back;
    inas_error err;
    cr_assert_eq(inas_image_write_png(path, &img, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(inas_image_load(path, INAS_IMAGE_RGB, &back, &err), INAS_OK, "%s", err.message);
    cr_expect_arr_eq(back.data, px, 12);
    inas_image_free(&back);
    snprintf(path, sizeof path, "%s/no/such/dir/x.png", dir);
    cr_expect_eq(inas_image_write_png(path, &img, &err), INAS_ERR_IO);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    cr_expect_eq(inas_image_load(path, INAS_IMAGE_GRAY, &back, &err), INAS_ERR_NOT_FOUND);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    cr_expect_eq(inas_image_load(dir, INAS_IMAGE_GRAY, &back, &err) != INAS_OK, 1, "a directory is not an image");
    tu_rmrf(dir);
    free(dir);
}

/* Values from cv2.resize(src, (5, 4)) and (2, 1) with INTER_LINEAR. */
Test(image, bilinear_resize_matches_opencv) {
    unsigned char src[6] = {0, 50, 100, 200, 255, 30};
    inas_image s = {3, 2, 1, src}, d;
    inas_error err;
    cr_assert_eq(inas_image_resize(&s, 5, 4, &d, &err), INAS_OK);
    const unsigned char want[20] = {0,   20,  50,  80,  100, 50,  70,  101, 90,  83,
                                    150, 171, 204, 110, 48,  200, 222, 255, 120, 30};
    cr_expect_arr_eq(d.data, want, 20);
    inas_image_free(&d);
    cr_assert_eq(inas_image_resize(&s, 2, 1, &d, &err), INAS_OK);
    cr_expect_eq(d.data[0], 113);
    cr_expect_eq(d.data[1], 87);
    inas_image_free(&d);
    float fs[4] = {0, 1, 2, 3}, fd[16];
    cr_assert_eq(inas_resize_bilinear_f32(fs, 2, 2, 1, fd, 4, 4, &err), INAS_OK);
    cr_expect_float_eq(fd[0], 0.f, 1e-6);
    cr_expect_float_eq(fd[1], 0.25f, 1e-6);
    cr_expect_float_eq(fd[15], 3.f, 1e-6);
}

/* ---- bad input ---------------------------------------------------------------- */

static void expect_error(const unsigned char *p, size_t n, const char *what) {
    inas_image img;
    inas_error err;
    inas_error_clear(&err);
    inas_status st = inas_image_decode(p, n, INAS_IMAGE_GRAY, "bad-file.png", &img, &err);
    cr_expect_neq(st, INAS_OK, "%s (%zu bytes) decoded", what, n);
    if (st == INAS_OK) inas_image_free(&img);
    else cr_expect(strstr(err.message, "bad-file.png") != NULL, "message: %s", err.message);
}

Test(image, truncated_png_and_jpeg_are_errors) {
    unsigned char rows[64 * 8];
    for (int i = 0; i < 64 * 8; i++) rows[i] = (unsigned char)(i * 7);
    buf b = make_png(64, 8, 8, 0, rows, 64, NULL, 0);
    for (size_t n = 0; n < b.n; n++) expect_error(b.p, n, "truncated PNG");
    free(b.p);
    buf j = make_jpeg(40, 24, 3);
    for (size_t n = 0; n < j.n; n++) expect_error(j.p, n, "truncated JPEG");
    free(j.p);
}

Test(image, garbage_is_an_error) {
    unsigned char g[4096];
    uint32_t s = 12345;
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)(round * 37 % 4096);
        for (size_t i = 0; i < n; i++) {
            s = s * 1664525u + 1013904223u;
            g[i] = (unsigned char)(s >> 24);
        }
        expect_error(g, n, "random bytes");
        /* random bytes behind a valid signature */
        static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        if (n > 8) {
            memcpy(g, sig, 8);
            expect_error(g, n, "PNG signature + garbage");
        }
        if (n > 3) {
            g[0] = 0xFF; g[1] = 0xD8; g[2] = 0xFF;
            expect_error(g, n, "JPEG SOI + garbage");
        }
    }
}

/* Bit flips and byte changes in valid files: any outcome but a crash. */
Test(image, fuzz_mutations_do_not_crash) {
    unsigned char rows[32 * 16 * 3];
    for (size_t i = 0; i < sizeof rows; i++) rows[i] = (unsigned char)(i * 13 + (i >> 5));
    buf files[3] = {make_png(32, 16, 8, 2, rows, 96, NULL, 0), make_jpeg(32, 16, 3),
                    make_png(16, 16, 16, 0, rows, 32, NULL, 0)};
    uint32_t s = 777;
    for (int f = 0; f < 3; f++) {
        unsigned char *m = malloc(files[f].n);
        for (int it = 0; it < 600; it++) {
            memcpy(m, files[f].p, files[f].n);
            int flips = 1 + it % 4;
            for (int k = 0; k < flips; k++) {
                s = s * 1664525u + 1013904223u;
                size_t at = 8 + (s >> 8) % (files[f].n - 8);
                m[at] ^= (unsigned char)(1u << ((s >> 3) & 7));
                if (it % 5 == 0) m[at] = (unsigned char)(s >> 16);
            }
            size_t n = it % 7 == 0 ? files[f].n * (size_t)(it % 97) / 97 : files[f].n;
            inas_image img;
            inas_error err;
            if (inas_image_decode(m, n, INAS_IMAGE_GRAY, "fuzz.bin", &img, &err) == INAS_OK) {
                cr_expect(img.width > 0 && img.height > 0);
                inas_image_free(&img);
            } else {
                cr_expect(strstr(err.message, "fuzz.bin") != NULL, "%s", err.message);
            }
        }
        free(m);
        free(files[f].p);
    }
}
