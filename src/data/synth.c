/* synth.c - a deterministic synthetic salient-object dataset for the
 * quickstart and tests: textured backgrounds (gradients, value noise,
 * stripes) with one to three objects (ellipses, rectangles, triangles,
 * stars) whose colours and textures stand out, and exact masks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inas/dataset.h"
#include "inas/image.h"

typedef struct rgbf {
    float r, g, b;
} rgbf;

static rgbf random_colour(inas_rng *r) { return (rgbf){inas_rng_float(r), inas_rng_float(r), inas_rng_float(r)}; }

/* value noise: a coarse random grid, bilinearly interpolated */
static float noise_at(const float *grid, int gn, float u, float v) {
    float x = u * (gn - 1), y = v * (gn - 1);
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < gn ? x0 + 1 : x0, y1 = y0 + 1 < gn ? y0 + 1 : y0;
    float fx = x - x0, fy = y - y0;
    return (grid[y0 * gn + x0] * (1 - fx) + grid[y0 * gn + x1] * fx) * (1 - fy) +
           (grid[y1 * gn + x0] * (1 - fx) + grid[y1 * gn + x1] * fx) * fy;
}

typedef struct shape {
    int kind; /* 0 ellipse, 1 rectangle, 2 triangle, 3 star */
    float cx, cy, rx, ry, angle;
    rgbf colour;
    int texture; /* 0 flat, 1 stripes, 2 checker, 3 noise */
    float freq;
} shape;

static int inside(const shape *s, float x, float y) {
    float dx = x - s->cx, dy = y - s->cy, c = cosf(s->angle), sn = sinf(s->angle);
    float u = (dx * c + dy * sn) / s->rx, v = (-dx * sn + dy * c) / s->ry;
    switch (s->kind) {
    case 0: return u * u + v * v <= 1;
    case 1: return fabsf(u) <= 0.85f && fabsf(v) <= 0.85f;
    case 2: return v >= -0.8f && v <= 0.9f && fabsf(u) <= (0.9f - v) * 0.6f;
    default: {
        float r = sqrtf(u * u + v * v), a = atan2f(v, u);
        return r <= 0.55f + 0.4f * cosf(5 * a);
    }
    }
}

inas_status inas_synth_sample(int size, inas_rng *r, unsigned char *rgb, unsigned char *mask) {
    if (size < 8 || !r || !rgb || !mask) return INAS_ERR_INVALID_ARG;
    enum { GN = 6 };
    float grid[GN * GN];
    for (int i = 0; i < GN * GN; i++) grid[i] = inas_rng_float(r);
    rgbf b0 = random_colour(r), b1 = random_colour(r);
    int stripes = inas_rng_below(r, 3) == 0;
    float sfreq = 4 + 10 * inas_rng_float(r), gdir = 6.2831853f * inas_rng_float(r);
    shape sh[3];
    int ns = 1 + (int)inas_rng_below(r, 3);
    for (int i = 0; i < ns; i++) {
        shape *s = &sh[i];
        s->kind = (int)inas_rng_below(r, 4);
        /* salient objects sit near the centre more often than not */
        s->cx = 0.5f + (inas_rng_float(r) - 0.5f) * (i == 0 ? 0.4f : 0.8f);
        s->cy = 0.5f + (inas_rng_float(r) - 0.5f) * (i == 0 ? 0.4f : 0.8f);
        s->rx = 0.08f + 0.22f * inas_rng_float(r);
        s->ry = s->rx * (0.6f + 0.8f * inas_rng_float(r));
        s->angle = 3.14159265f * inas_rng_float(r);
        /* a colour far from the background's mean */
        rgbf c;
        do c = random_colour(r);
        while (fabsf(c.r - b0.r) + fabsf(c.g - b0.g) + fabsf(c.b - b0.b) < 0.8f);
        s->colour = c;
        s->texture = (int)inas_rng_below(r, 4);
        s->freq = 8 + 24 * inas_rng_float(r);
    }
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            float u = (x + 0.5f) / size, v = (y + 0.5f) / size;
            float t = 0.5f + 0.5f * (cosf(gdir) * (u - 0.5f) + sinf(gdir) * (v - 0.5f));
            float n = noise_at(grid, GN, u, v);
            float w = stripes ? 0.5f + 0.5f * sinf(sfreq * 6.283f * (u + 0.3f * v)) : t;
            rgbf px = {b0.r * (1 - w) + b1.r * w, b0.g * (1 - w) + b1.g * w, b0.b * (1 - w) + b1.b * w};
            px.r = 0.75f * px.r + 0.25f * n;
            px.g = 0.75f * px.g + 0.25f * n;
            px.b = 0.75f * px.b + 0.25f * (1 - n);
            int fg = 0;
            for (int i = 0; i < ns; i++) {
                if (!inside(&sh[i], u, v)) continue;
                fg = 1;
                float k = 1.0f;
                switch (sh[i].texture) {
                case 1: k = 0.75f + 0.25f * sinf(sh[i].freq * 6.283f * u); break;
                case 2: k = (((int)(u * sh[i].freq) + (int)(v * sh[i].freq)) & 1) ? 1.0f : 0.7f; break;
                case 3: k = 0.7f + 0.3f * noise_at(grid, GN, 1 - u, 1 - v); break;
                default: break;
                }
                px = (rgbf){sh[i].colour.r * k, sh[i].colour.g * k, sh[i].colour.b * k};
            }
            size_t p = (size_t)y * size + x;
            rgb[p * 3 + 0] = (unsigned char)fminf(255.0f, fmaxf(0.0f, px.r * 255.0f + 0.5f));
            rgb[p * 3 + 1] = (unsigned char)fminf(255.0f, fmaxf(0.0f, px.g * 255.0f + 0.5f));
            rgb[p * 3 + 2] = (unsigned char)fminf(255.0f, fmaxf(0.0f, px.b * 255.0f + 0.5f));
            mask[p] = fg ? 255 : 0;
        }
    return INAS_OK;
}

inas_status inas_synth_dataset(const char *images_dir, const char *masks_dir, int count, int size, uint64_t seed,
                               inas_error *err) {
    if (!images_dir || !masks_dir || count < 1 || size < 8 || size > 4096)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "synthetic dataset: count >= 1 and size in 8..4096");
    mkdir(images_dir, 0755);
    mkdir(masks_dir, 0755);
    inas_image img = {0}, msk = {0};
    inas_status st = inas_image_create(&img, size, size, 3, err);
    if (st == INAS_OK) st = inas_image_create(&msk, size, size, 1, err);
    inas_rng root;
    inas_rng_seed(&root, seed);
    for (int i = 0; i < count && st == INAS_OK; i++) {
        inas_rng r = inas_rng_split(&root, (uint64_t)i); /* sample i does not depend on the count */
        inas_synth_sample(size, &r, img.data, msk.data);
        char path[4096];
        snprintf(path, sizeof path, "%s/synth_%05d.png", images_dir, i);
        st = inas_image_write_png(path, &img, err);
        snprintf(path, sizeof path, "%s/synth_%05d.png", masks_dir, i);
        if (st == INAS_OK) st = inas_image_write_png(path, &msk, err);
    }
    inas_image_free(&img);
    inas_image_free(&msk);
    return st;
}
