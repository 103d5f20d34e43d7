/* pairs.c - pair the image files of two directories by file stem (used by
 * `inas eval` for predictions/masks and by the training data loader). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inas/dataset.h"
#include "inas/image.h"

typedef struct entry {
    char *name; /* file name */
    size_t stem_len;
    int prio;   /* preferred extension first when two files share a stem */
} entry;

typedef struct listing {
    entry *e;
    size_t n;
} listing;

static void listing_free(listing *l) {
    for (size_t i = 0; i < l->n; i++) free(l->e[i].name);
    free(l->e);
    l->e = NULL;
    l->n = 0;
}

static int ext_prio(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 9;
    if (strcasecmp(dot, ".png") == 0) return 0;
    if (strcasecmp(dot, ".jpg") == 0) return 1;
    if (strcasecmp(dot, ".jpeg") == 0) return 2;
    return 3;
}

static int stem_cmp(const entry *a, const entry *b) {
    size_t n = a->stem_len < b->stem_len ? a->stem_len : b->stem_len;
    int c = memcmp(a->name, b->name, n);
    if (c) return c;
    if (a->stem_len != b->stem_len) return a->stem_len < b->stem_len ? -1 : 1;
    return 0;
}

static int entry_cmp(const void *pa, const void *pb) {
    const entry *a = pa, *b = pb;
    int c = stem_cmp(a, b);
    if (c) return c;
    return a->prio - b->prio;
}

static inas_status list_images(const char *dir, listing *out, inas_error *err) {
    out->e = NULL;
    out->n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return inas_error_set(err, errno == ENOENT ? INAS_ERR_NOT_FOUND : INAS_ERR_IO, "%s: cannot open directory: %s",
                              dir, strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !inas_image_has_supported_ext(de->d_name)) continue;
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            entry *ne = realloc(out->e, nc * sizeof *ne);
            if (!ne) goto oom;
            out->e = ne;
            cap = nc;
        }
        char *nm = strdup(de->d_name);
        if (!nm) goto oom;
        out->e[out->n].name = nm;
        out->e[out->n].stem_len = (size_t)(strrchr(nm, '.') - nm);
        out->e[out->n].prio = ext_prio(nm);
        out->n++;
    }
    closedir(d);
    if (out->n == 0) return inas_error_set(err, INAS_ERR_NOT_FOUND, "%s: no images (.png, .jpg, .jpeg, .bmp)", dir);
    qsort(out->e, out->n, sizeof *out->e, entry_cmp);
    /* keep one file per stem (the preferred extension) */
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (k > 0 && stem_cmp(&out->e[k - 1], &out->e[i]) == 0) {
            free(out->e[i].name);
            continue;
        }
        out->e[k++] = out->e[i];
    }
    out->n = k;
    return INAS_OK;
oom:
    closedir(d);
    listing_free(out);
    return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s: out of memory listing the directory", dir);
}

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

void inas_pair_list_free(inas_pair_list *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->pairs[i].stem);
        free(l->pairs[i].a_path);
        free(l->pairs[i].b_path);
    }
    for (size_t i = 0; i < l->n_only_a; i++) free(l->only_a[i]);
    for (size_t i = 0; i < l->n_only_b; i++) free(l->only_b[i]);
    free(l->pairs);
    free(l->only_a);
    free(l->only_b);
    memset(l, 0, sizeof *l);
}

inas_status inas_pair_dirs(const char *dir_a, const char *dir_b, inas_pair_list *out, inas_error *err) {
    if (!dir_a || !dir_b || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_pair_dirs: null argument");
    memset(out, 0, sizeof *out);
    listing la, lb;
    inas_status st = list_images(dir_a, &la, err);
    if (st != INAS_OK) return st;
    st = list_images(dir_b, &lb, err);
    if (st != INAS_OK) {
        listing_free(&la);
        return st;
    }
    /* worst-case sizes: every file unmatched, or every file paired */
    out->pairs = calloc(la.n < lb.n ? la.n : lb.n, sizeof *out->pairs);
    out->only_a = calloc(la.n, sizeof *out->only_a);
    out->only_b = calloc(lb.n, sizeof *out->only_b);
    if (!out->pairs || !out->only_a || !out->only_b) goto oom;
    size_t i = 0, j = 0;
    while (i < la.n || j < lb.n) {
        int c = i >= la.n ? 1 : j >= lb.n ? -1 : stem_cmp(&la.e[i], &lb.e[j]);
        if (c < 0) {
            if (!(out->only_a[out->n_only_a] = join(dir_a, la.e[i].name))) goto oom;
            out->n_only_a++;
            i++;
        } else if (c > 0) {
            if (!(out->only_b[out->n_only_b] = join(dir_b, lb.e[j].name))) goto oom;
            out->n_only_b++;
            j++;
        } else {
            inas_pair *p = &out->pairs[out->n];
            p->a_path = join(dir_a, la.e[i].name);
            p->b_path = join(dir_b, lb.e[j].name);
            p->stem = strndup(la.e[i].name, la.e[i].stem_len);
            out->n++;
            if (!p->a_path || !p->b_path || !p->stem) goto oom;
            i++;
            j++;
        }
    }
    listing_free(&la);
    listing_free(&lb);
    return INAS_OK;
oom:
    listing_free(&la);
    listing_free(&lb);
    inas_pair_list_free(out);
    return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory pairing %s and %s", dir_a, dir_b);
}
