/* checkpoint.c - supernet checkpoints in safetensors: parameters under their
 * PyTorch-style names, optional Adam moments, and "inas.*" metadata. */
#include "train/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *space_yaml(const inas_space *space) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    inas_space_write_yaml(space, f);
    fclose(f);
    return buf;
}

inas_status ckpt_write(inas_supernet *net, const char *path, int with_optimizer, const char *const *keys,
                       const char *const *values, size_t n, inas_error *err) {
    inas_st_writer *w;
    inas_status st = inas_st_writer_create(&w, err);
    if (st != INAS_OK) return st;
    char num[32];
    char *yaml = space_yaml(&net->space);
    st = yaml ? INAS_OK : inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    if (st == INAS_OK) st = inas_st_writer_meta(w, "format", "pt", err);
    snprintf(num, sizeof num, "%d", INAS_CKPT_FORMAT_VERSION);
    if (st == INAS_OK) st = inas_st_writer_meta(w, "inas.format_version", num, err);
    if (st == INAS_OK) st = inas_st_writer_meta(w, "inas.space", yaml, err);
    snprintf(num, sizeof num, "%ld", net->ps.adam_step);
    if (st == INAS_OK) st = inas_st_writer_meta(w, "inas.adam_step", num, err);
    for (size_t i = 0; i < n && st == INAS_OK; i++) st = inas_st_writer_meta(w, keys[i], values[i], err);
    if (st == INAS_OK) st = inas_params_to_writer(&net->ps, w, with_optimizer, err);
    if (st == INAS_OK) st = inas_st_writer_save(w, path, err);
    free(yaml);
    inas_st_writer_destroy(w);
    return st;
}

inas_status ckpt_meta_long(const inas_st_file *f, const char *path, const char *key, long *out, inas_error *err) {
    const char *v = inas_st_meta(f, key);
    if (!v) return inas_error_set(err, INAS_ERR_FORMAT, "%s: metadata \"%s\" is missing", path, key);
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end)
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: metadata \"%s\" is not a number: \"%.40s\"", path, key, v);
    *out = x;
    return INAS_OK;
}

inas_status ckpt_open(const char *path, inas_st_file **f, inas_space *space, inas_error *err) {
    inas_status st = inas_st_open(path, f, err);
    if (st != INAS_OK) return st;
    long version;
    st = ckpt_meta_long(*f, path, "inas.format_version", &version, err);
    if (st == INAS_OK && version != INAS_CKPT_FORMAT_VERSION)
        st = inas_error_set(err, INAS_ERR_UNSUPPORTED, "%s: checkpoint format version %ld (this inas reads %d)", path,
                            version, INAS_CKPT_FORMAT_VERSION);
    const char *yaml = st == INAS_OK ? inas_st_meta(*f, "inas.space") : NULL;
    if (st == INAS_OK && !yaml) st = inas_error_set(err, INAS_ERR_FORMAT, "%s: metadata \"inas.space\" is missing", path);
    if (st == INAS_OK) {
        char name[1100];
        snprintf(name, sizeof name, "%s [inas.space]", path);
        st = inas_space_parse(yaml, strlen(yaml), name, space, err);
    }
    if (st != INAS_OK) {
        inas_st_close(*f);
        *f = NULL;
    }
    return st;
}

inas_status inas_checkpoint_save(inas_supernet *net, const char *path, const char *const *keys,
                                 const char *const *values, size_t n, inas_error *err) {
    if (!net || !path) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_checkpoint_save: null argument");
    return ckpt_write(net, path, 0, keys, values, n, err);
}

inas_status inas_checkpoint_load(inas_ctx *ctx, const char *path, inas_supernet **out, inas_error *err) {
    if (!ctx || !path || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_checkpoint_load: null argument");
    *out = NULL;
    inas_st_file *f;
    inas_space space;
    inas_status st = ckpt_open(path, &f, &space, err);
    if (st != INAS_OK) return st;
    inas_supernet *net;
    st = inas_supernet_create(ctx, &space, 0, &net);
    if (st != INAS_OK) {
        inas_error_set(err, st, "%s: %s", path, inas_ctx_last_error(ctx));
        inas_st_close(f);
        return st;
    }
    st = inas_params_from_file(&net->ps, f, path, 0, err);
    long adam = 0;
    if (st == INAS_OK && ckpt_meta_long(f, path, "inas.adam_step", &adam, NULL) == INAS_OK) net->ps.adam_step = adam;
    inas_st_close(f);
    if (st != INAS_OK) {
        inas_supernet_destroy(net);
        return st;
    }
    *out = net;
    return INAS_OK;
}
