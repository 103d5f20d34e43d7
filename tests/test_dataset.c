/* test_dataset.c - pairing directories by stem, sample loading (resize,
 * ImageNet normalisation, mask binarisation, flips), and the batch loader:
 * determinism, exact resume from a saved state, multi-scale sizes, skipping
 * unreadable pairs, and the real DUTS-TR images. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inas/dataset.h"
#include "inas/image.h"
#include "testutil.h"

static char *dir;
static void mk(void) { dir = tu_mkdtemp("ds"); }
static void rm(void) {
    tu_rmrf(dir);
    free(dir);
}
TestSuite(dataset, .init = mk, .fini = rm);
TestSuite(loader, .init = mk, .fini = rm);

/* Writes a w x h image with channels c filled by fn(x, y, ch). */
static void write_png(const char *path, int w, int h, int c, int (*fn)(int, int, int)) {
    inas_image img;
    cr_assert_eq(inas_image_create(&img, w, h, c, NULL), INAS_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) img.data[((size_t)y * w + x) * c + k] = (unsigned char)fn(x, y, k);
    inas_error err;
    cr_assert_eq(inas_image_write_png(path, &img, &err), INAS_OK, "%s", err.message);
    inas_image_free(&img);
}

static int solid_rgb(int x, int y, int k) {
    (void)x;
    (void)y;
    return k == 0 ? 200 : k == 1 ? 100 : 50;
}
static int left_half(int x, int y, int k) {
    (void)y;
    (void)k;
    return x < 20 ? 255 : 0;
}
static int gradient(int x, int y, int k) { return (x * 7 + y * 3 + k * 50) % 256; }

static void make_dataset(int n, int corrupt_index) {
    char sub[600], path[700];
    snprintf(sub, sizeof sub, "%s/img", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof sub, "%s/gt", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/img/s%02d.png", dir, i);
        write_png(path, 40, 30, 3, gradient);
        snprintf(path, sizeof path, "%s/gt/s%02d.png", dir, i);
        if (i == corrupt_index) cr_assert_eq(tu_write_file(path, "\x89PNG garbage", 12), 0);
        else write_png(path, 40, 30, 1, left_half);
    }
}

Test(dataset, pair_dirs_by_stem) {
    char a[600], b[600], p[700];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    mkdir(a, 0755);
    mkdir(b, 0755);
    const char *fa[] = {"x1.jpg", "x1.png", "x2.png", "only_a.png", "notes.txt"};
    const char *fb[] = {"x1.png", "x2.bmp", "only_b.jpg"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", a, fa[i]);
        tu_write_file(p, "x", 1);
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", b, fb[i]);
        tu_write_file(p, "x", 1);
    }
    inas_pair_list pl;
    inas_error err;
    cr_assert_eq(inas_pair_dirs(a, b, &pl, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(pl.n, 2);
    cr_assert_str_eq(pl.pairs[0].stem, "x1");
    cr_assert(strstr(pl.pairs[0].a_path, "/a/x1.png") != NULL, ".png preferred: %s", pl.pairs[0].a_path);
    cr_assert(strstr(pl.pairs[1].b_path, "/b/x2.bmp") != NULL);
    cr_assert_eq(pl.n_only_a, 1);
    cr_assert(strstr(pl.only_a[0], "only_a.png") != NULL);
    cr_assert_eq(pl.n_only_b, 1);
    inas_pair_list_free(&pl);
    cr_assert_eq(inas_pair_dirs(a, "/nonexistent/dir", &pl, &err), INAS_ERR_NOT_FOUND);
    cr_assert(strstr(err.message, "/nonexistent/dir") != NULL);
    snprintf(p, sizeof p, "%s/empty", dir);
    mkdir(p, 0755);
    cr_assert_eq(inas_pair_dirs(a, p, &pl, &err), INAS_ERR_NOT_FOUND);
    cr_assert(strstr(err.message, "no images") != NULL, "%s", err.message);
}

Test(dataset, sample_is_resized_normalised_and_binarised) {
    char ip[600], mp[600];
    snprintf(ip, sizeof ip, "%s/i.png", dir);
    snprintf(mp, sizeof mp, "%s/m.png", dir);
    write_png(ip, 40, 30, 3, solid_rgb);
    write_png(mp, 40, 30, 1, left_half);
    const int S = 16;
    float img[3 * 16 * 16], mask[16 * 16];
    inas_error err;
    cr_assert_eq(inas_load_sample(ip, mp, S, 0, img, mask, &err), INAS_OK, "%s", err.message);
    const double mean[3] = {0.485, 0.456, 0.406}, sd[3] = {0.229, 0.224, 0.225}, v[3] = {200, 100, 50};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S * S; i++) cr_assert_float_eq(img[c * S * S + i], (v[c] / 255.0 - mean[c]) / sd[c], 1e-5);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            cr_assert(mask[y * S + x] == 0.0f || mask[y * S + x] == 1.0f);
            if (x < S / 2 - 1) cr_assert_eq(mask[y * S + x], 1.0f, "left half is foreground");
            if (x > S / 2) cr_assert_eq(mask[y * S + x], 0.0f);
        }
    float fimg[3 * 16 * 16], fmask[16 * 16];
    cr_assert_eq(inas_load_sample(ip, mp, S, 1, fimg, fmask, &err), INAS_OK);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) cr_assert_eq(fmask[y * S + x], mask[y * S + (S - 1 - x)], "flip mirrors");
    /* mismatched sizes and unreadable files name the file */
    write_png(mp, 20, 30, 1, left_half);
    cr_assert_eq(inas_load_sample(ip, mp, S, 0, img, mask, &err), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "m.png") != NULL, "%s", err.message);
    tu_write_file(mp, "junk", 4);
    cr_assert_neq(inas_load_sample(ip, mp, S, 0, img, mask, &err), INAS_OK);
    cr_assert(strstr(err.message, "m.png") != NULL, "%s", err.message);
}

static int batches_equal(const inas_batch *a, const inas_batch *b) {
    if (a->n != b->n || a->size != b->size || a->first_index != b->first_index) return 0;
    size_t px = (size_t)a->n * a->size * a->size;
    return memcmp(a->images, b->images, px * 3 * sizeof(float)) == 0 &&
           memcmp(a->masks, b->masks, px * sizeof(float)) == 0;
}

static void copy_batch(const inas_batch *src, inas_batch *dst) {
    size_t px = (size_t)src->n * src->size * src->size;
    *dst = *src;
    dst->images = malloc(px * 3 * sizeof(float));
    dst->masks = malloc(px * sizeof(float));
    memcpy(dst->images, src->images, px * 3 * sizeof(float));
    memcpy(dst->masks, src->masks, px * sizeof(float));
}

static int skips;
static void on_skip(void *user, const char *path, const char *msg) {
    (void)user;
    (void)msg;
    (void)path;
    skips++;
}

Test(loader, deterministic_resumable_multiscale_and_skips_bad_pairs) {
    make_dataset(7, 3);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/img", dir);
    snprintf(b, sizeof b, "%s/gt", dir);
    inas_pair_list pl;
    inas_error err;
    cr_assert_eq(inas_pair_dirs(a, b, &pl, &err), INAS_OK);
    cr_assert_eq(pl.n, 7);
    int sizes[3] = {8, 12, 16};
    inas_loader_config cfg = {.batch = 3, .sizes = sizes, .nsizes = 3, .flip = 1, .shuffle = 1, .seed = 77};
    inas_loader *l1, *l2;
    skips = 0;
    cr_assert_eq(inas_loader_create(&pl, &cfg, on_skip, NULL, &l1, &err), INAS_OK, "%s", err.message);
    inas_batch ref[8];
    inas_loader_state saved;
    int seen_size[17] = {0};
    for (int k = 0; k < 8; k++) {
        if (k == 4) inas_loader_get_state(l1, &saved);
        const inas_batch *bt;
        cr_assert_eq(inas_loader_next(l1, &bt, &err), INAS_OK, "%s", err.message);
        cr_assert_eq(bt->n, 3, "batches stay full when a pair is skipped");
        seen_size[bt->size]++;
        copy_batch(bt, &ref[k]);
    }
    cr_assert_eq(inas_loader_skipped(l1), 1, "the corrupt pair is counted once");
    cr_assert_eq(skips, 1, "and reported once");
    cr_assert_gt(seen_size[8] + seen_size[12] + seen_size[16], 0);
    cr_assert_eq(seen_size[8] + seen_size[12] + seen_size[16], 8);
    cr_assert(seen_size[8] < 8 && seen_size[12] < 8 && seen_size[16] < 8, "sizes vary between batches");
    /* the same seed gives the same stream */
    cr_assert_eq(inas_loader_create(&pl, &cfg, NULL, NULL, &l2, &err), INAS_OK);
    for (int k = 0; k < 8; k++) {
        const inas_batch *bt;
        cr_assert_eq(inas_loader_next(l2, &bt, &err), INAS_OK);
        cr_assert(batches_equal(bt, &ref[k]), "batch %d differs between two loaders with one seed", k);
    }
    /* resuming from the state saved before batch 4 replays batches 4.. exactly */
    cr_assert_eq(inas_loader_set_state(l2, &saved, &err), INAS_OK);
    for (int k = 4; k < 8; k++) {
        const inas_batch *bt;
        cr_assert_eq(inas_loader_next(l2, &bt, &err), INAS_OK);
        cr_assert(batches_equal(bt, &ref[k]), "resumed batch %d differs", k);
    }
    /* another seed, another stream */
    inas_loader_destroy(l2);
    cfg.seed = 78;
    cr_assert_eq(inas_loader_create(&pl, &cfg, NULL, NULL, &l2, &err), INAS_OK);
    int same = 0;
    for (int k = 0; k < 8; k++) {
        const inas_batch *bt;
        cr_assert_eq(inas_loader_next(l2, &bt, &err), INAS_OK);
        same += batches_equal(bt, &ref[k]);
    }
    cr_assert_lt(same, 8);
    inas_loader_destroy(l1);
    inas_loader_destroy(l2);
    for (int k = 0; k < 8; k++) {
        free(ref[k].images);
        free(ref[k].masks);
    }
    /* every pair unreadable: a clear error, no hang */
    inas_pair_list bad = pl;
    bad.n = 1;
    bad.pairs = &pl.pairs[3];
    cfg.nsizes = 1;
    cr_assert_eq(inas_loader_create(&bad, &cfg, NULL, NULL, &l1, &err), INAS_OK);
    const inas_batch *bt;
    cr_assert_eq(inas_loader_next(l1, &bt, &err), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "no readable") != NULL, "%s", err.message);
    inas_loader_destroy(l1);
    inas_pair_list_free(&pl);
}

Test(loader, real_duts_images) {
    char img[1024], gt[1024];
    TU_REQUIRE_DATA(img, "duts-tr-499/img");
    TU_REQUIRE_DATA(gt, "duts-tr-499/gt");
    inas_pair_list pl;
    inas_error err;
    cr_assert_eq(inas_pair_dirs(img, gt, &pl, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(pl.n, 499);
    int sizes[1] = {64};
    inas_loader_config cfg = {.batch = 8, .sizes = sizes, .nsizes = 1, .flip = 1, .shuffle = 1, .seed = 1};
    inas_loader *l;
    cr_assert_eq(inas_loader_create(&pl, &cfg, NULL, NULL, &l, &err), INAS_OK);
    for (int k = 0; k < 3; k++) {
        const inas_batch *bt;
        cr_assert_eq(inas_loader_next(l, &bt, &err), INAS_OK, "%s", err.message);
        cr_assert_eq(bt->n, 8);
        double fg = 0, lo = 1e9, hi = -1e9;
        for (int i = 0; i < 8 * 64 * 64; i++) fg += bt->masks[i];
        for (int i = 0; i < 8 * 3 * 64 * 64; i++) {
            lo = fmin(lo, bt->images[i]);
            hi = fmax(hi, bt->images[i]);
        }
        fg /= 8 * 64 * 64;
        cr_assert(fg > 0.02 && fg < 0.9, "salient objects cover part of the images: %f", fg);
        cr_assert(lo >= -2.12 && hi <= 2.65 && hi - lo > 2, "ImageNet-normalised range: %f..%f", lo, hi);
    }
    cr_assert_eq(inas_loader_skipped(l), 0);
    inas_loader_destroy(l);
    inas_pair_list_free(&pl);
}
