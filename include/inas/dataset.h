/* inas/dataset.h - image/mask datasets for training and evaluation: pairing
 * two directories by file stem, loading a pair resized and normalised, and a
 * batch loader that decodes on a worker thread while the device computes.
 *
 * A dataset is an image directory and a mask directory whose files share
 * stems ("0001.jpg" pairs with "0001.png"); .png, .jpg, .jpeg and .bmp are
 * read. Files without a counterpart are listed and left out. */
#ifndef INAS_DATASET_H
#define INAS_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "inas/status.h"
#include "inas/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pairing directories by stem -------------------------------------------------- */

typedef struct inas_pair {
    char *stem;   /* file name without extension */
    char *a_path; /* dir_a/NAME */
    char *b_path; /* dir_b/NAME */
} inas_pair;

typedef struct inas_pair_list {
    inas_pair *pairs; /* sorted by stem */
    size_t n;
    char **only_a;    /* paths in dir_a without a counterpart in dir_b */
    size_t n_only_a;
    char **only_b;    /* paths in dir_b without a counterpart in dir_a */
    size_t n_only_b;
} inas_pair_list;

/* Lists both directories (image extensions only; when two files share a stem
 * .png wins over .jpg over .jpeg over .bmp) and pairs them by stem. An
 * unreadable directory or one without images is an error; no pair at all is
 * not (out->n == 0): callers decide. */
inas_status inas_pair_dirs(const char *dir_a, const char *dir_b, inas_pair_list *out, inas_error *err);
void inas_pair_list_free(inas_pair_list *l);

/* ---- one sample ---------------------------------------------------------------------- */

/* ImageNet normalisation used for every network input. */
#define INAS_IMAGENET_MEAN_R 0.485f
#define INAS_IMAGENET_MEAN_G 0.456f
#define INAS_IMAGENET_MEAN_B 0.406f
#define INAS_IMAGENET_STD_R 0.229f
#define INAS_IMAGENET_STD_G 0.224f
#define INAS_IMAGENET_STD_B 0.225f

/* Converts an interleaved RGB 8-bit image of size x size pixels to planar CHW
 * floats, (v/255 - mean) / std per channel, mirrored left-right when flip. */
void inas_normalize_rgb(const unsigned char *rgb, int size, int flip, float *chw);

/* Loads image and mask, resizes both to size x size (bilinear), writes the
 * normalised image as 3 x size x size floats and the mask, binarised at 0.5
 * after resizing, as size x size floats in {0, 1}; mirrored when flip. Errors
 * name the file. */
inas_status inas_load_sample(const char *image_path, const char *mask_path, int size, int flip, float *image_chw,
                             float *mask, inas_error *err);

/* ---- the batch loader ------------------------------------------------------------------- */

typedef struct inas_loader inas_loader;

typedef struct inas_loader_config {
    int batch;          /* samples per batch */
    const int *sizes;   /* square input sizes to draw from per batch (multi-scale) */
    int nsizes;
    int flip;           /* random horizontal flip with probability 1/2 */
    int shuffle;        /* reshuffle every epoch */
    uint64_t seed;
} inas_loader_config;

/* Where the loader is in its stream: saved in checkpoints so that a resumed
 * run sees exactly the batches an uninterrupted one would. */
typedef struct inas_loader_state {
    uint64_t epoch;
    uint64_t position;  /* next index into this epoch's order */
    inas_rng rng;       /* draws sizes and flips */
    uint64_t seed;      /* the epoch orders derive from it */
} inas_loader_state;

typedef struct inas_batch {
    int n, size;         /* samples, and their square size */
    float *images;       /* n x 3 x size x size, normalised */
    float *masks;        /* n x 1 x size x size, {0, 1} */
    uint64_t first_index;/* stream position of the first sample (for logs) */
} inas_batch;

/* A loader over the pairs (images in a_path, masks in b_path). A worker
 * thread prepares the next batch while the caller uses the current one.
 * Unreadable pairs are reported through `on_skip` (may be NULL) with the
 * path and message, counted, and replaced by the next sample. */
inas_status inas_loader_create(const inas_pair_list *pairs, const inas_loader_config *cfg,
                               void (*on_skip)(void *user, const char *path, const char *message), void *user,
                               inas_loader **out, inas_error *err);
/* Blocks until the next batch is ready; the batch stays valid until the next
 * call. Fails only when every pair is unreadable. */
inas_status inas_loader_next(inas_loader *l, const inas_batch **out, inas_error *err);
/* The state before the batch the next inas_loader_next call returns. */
void inas_loader_get_state(inas_loader *l, inas_loader_state *out);
/* Continues from a saved state (discards the prefetched batch). */
inas_status inas_loader_set_state(inas_loader *l, const inas_loader_state *s, inas_error *err);
size_t inas_loader_skipped(const inas_loader *l);
void inas_loader_destroy(inas_loader *l);

/* ---- synthetic data ---------------------------------------------------------------- */

/* One synthetic salient-object sample of size x size: an interleaved RGB
 * image (textured background, one to three textured objects: ellipses,
 * rectangles, triangles, stars) and its exact 0/255 mask. Deterministic in rng. */
inas_status inas_synth_sample(int size, inas_rng *rng, unsigned char *rgb, unsigned char *mask);
/* Writes `count` samples as images_dir/synth_NNNNN.png and masks_dir/synth_NNNNN.png
 * (directories created when missing); sample i depends only on (seed, i). */
inas_status inas_synth_dataset(const char *images_dir, const char *masks_dir, int count, int size, uint64_t seed,
                               inas_error *err);

#ifdef __cplusplus
}
#endif

#endif
