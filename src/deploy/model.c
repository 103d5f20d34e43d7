/* model.c - exported models: the weight store, the model directory
 * (arch.yaml + weights.safetensors with the space in the metadata) and the
 * one-image C API (RGB buffer in, float map out). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deploy/model_internal.h"
#include "inas/dataset.h"
#include "inas/image.h"
#include "inas/safetensors.h"
#include "runtime/internal.h"

inas_model *model_new(inas_ctx *ctx, const inas_space *space, const inas_arch *arch) {
    inas_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->ctx = ctx;
    m->space = *space;
    m->arch = *arch;
    snprintf(m->source, sizeof m->source, "exported model");
    return m;
}

int model_find_weight(const inas_model *m, const char *name) {
    for (size_t i = 0; i < m->nw; i++)
        if (strcmp(m->w[i].name, name) == 0) return (int)i;
    return -1;
}

int model_add_weight(inas_model *m, const char *name, int ndim, const int *shape, const float *host) {
    if (ndim < 1 || ndim > 4 || strlen(name) >= sizeof m->w[0].name) {
        inas_ctx_fail(m->ctx, INAS_ERR_INVALID_ARG, "%s: tensor %s: rank %d (1..4) or name too long", m->source, name,
                      ndim);
        return -1;
    }
    if (model_find_weight(m, name) >= 0) {
        inas_ctx_fail(m->ctx, INAS_ERR_FORMAT, "%s: tensor %s appears twice", m->source, name);
        return -1;
    }
    if (m->nw == m->capw) {
        size_t cap = m->capw ? m->capw * 2 : 256;
        model_weight *nw = realloc(m->w, cap * sizeof *nw);
        if (!nw) {
            inas_ctx_fail(m->ctx, INAS_ERR_NO_MEMORY, "out of memory (model weights)");
            return -1;
        }
        m->w = nw;
        m->capw = cap;
    }
    model_weight *w = &m->w[m->nw];
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", name);
    w->ndim = ndim;
    w->numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1) {
            inas_ctx_fail(m->ctx, INAS_ERR_FORMAT, "%s: tensor %s: dimension %d is %d", m->source, name, d, shape[d]);
            return -1;
        }
        w->shape[d] = shape[d];
        w->numel *= (size_t)shape[d];
    }
    w->host = malloc(w->numel * sizeof(float));
    if (!w->host) {
        inas_ctx_fail(m->ctx, INAS_ERR_NO_MEMORY, "out of memory (model weights)");
        return -1;
    }
    memcpy(w->host, host, w->numel * sizeof(float));
    if (inas_tensor_alloc_nd(m->ctx, &w->dev, ndim, shape) != INAS_OK ||
        inas_tensor_write(m->ctx, &w->dev, w->host) != INAS_OK) {
        inas_tensor_free(m->ctx, &w->dev);
        free(w->host);
        return -1;
    }
    return (int)m->nw++;
}

void inas_model_destroy(inas_model *m) {
    if (!m) return;
    model_plan_free(m);
    inas_tensor_free(m->ctx, &m->pred_x);
    inas_tensor_free(m->ctx, &m->pred_y);
    free(m->pred_chw);
    free(m->pred_map);
    for (size_t i = 0; i < m->nw; i++) {
        inas_tensor_free(m->ctx, &m->w[i].dev);
        inas_tensor_free(m->ctx, &m->w[i].dev16);
        free(m->w[i].host);
    }
    free(m->w);
    free(m);
}

const inas_arch *inas_model_arch(const inas_model *m) { return &m->arch; }
const inas_space *inas_model_space(const inas_model *m) { return &m->space; }
inas_ctx *inas_model_ctx(const inas_model *m) { return m->ctx; }

inas_status inas_model_set_precision(inas_model *m, inas_precision precision) {
    if (!m) return INAS_ERR_INVALID_ARG;
    inas_status st = inas_precision_check(m->ctx, precision);
    if (st != INAS_OK) return st;
    if (precision != m->precision) model_plan_free(m);
    m->precision = precision;
    return INAS_OK;
}

inas_precision inas_model_precision(const inas_model *m) { return m->precision; }

void inas_model_set_unmerged(inas_model *m, int unmerged) {
    if (!!unmerged != m->unmerged) model_plan_free(m);
    m->unmerged = !!unmerged;
}

/* ---- model directory ---------------------------------------------------------------- */

inas_status inas_model_save(const inas_model *m, const char *dir, inas_error *err) {
    if (!m || !dir) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_model_save: null argument");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return inas_error_set(err, INAS_ERR_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    char path[2048];
    snprintf(path, sizeof path, "%s/arch.yaml", dir);
    inas_status st = inas_arch_save(path, &m->arch, err);
    if (st != INAS_OK) return st;
    char *yaml = NULL;
    size_t ylen = 0;
    FILE *f = open_memstream(&yaml, &ylen);
    if (!f) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory (space YAML)");
    inas_space_write_yaml(&m->space, f);
    fclose(f);
    inas_st_writer *w = NULL;
    st = inas_st_writer_create(&w, err);
    if (st == INAS_OK) st = inas_st_writer_meta(w, "inas.kind", "model", err);
    if (st == INAS_OK) st = inas_st_writer_meta(w, "inas.space", yaml, err);
    for (size_t i = 0; i < m->nw && st == INAS_OK; i++) {
        int64_t shape[4];
        for (int d = 0; d < m->w[i].ndim; d++) shape[d] = m->w[i].shape[d];
        st = inas_st_writer_add(w, m->w[i].name, INAS_DTYPE_F32, m->w[i].ndim, shape, m->w[i].host, err);
    }
    snprintf(path, sizeof path, "%s/weights.safetensors", dir);
    if (st == INAS_OK) st = inas_st_writer_save(w, path, err);
    inas_st_writer_destroy(w);
    free(yaml);
    return st;
}

/* Checks the plan once (every weight present with its shape) after loading. */
inas_status model_validate(inas_model *m);

inas_status inas_model_load(inas_ctx *ctx, const char *dir, inas_model **out, inas_error *err) {
    if (!ctx || !dir || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_model_load: null argument");
    *out = NULL;
    char apath[2048], wpath[2048];
    snprintf(apath, sizeof apath, "%s/arch.yaml", dir);
    snprintf(wpath, sizeof wpath, "%s/weights.safetensors", dir);
    inas_arch arch;
    inas_status st = inas_arch_load(apath, NULL, &arch, err);
    if (st != INAS_OK) return st;
    inas_st_file *f = NULL;
    st = inas_st_open(wpath, &f, err);
    if (st != INAS_OK) return st;
    inas_space space;
    const char *yaml = inas_st_meta(f, "inas.space");
    if (!yaml) {
        inas_st_close(f);
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: no \"inas.space\" metadata (not an inas model)", wpath);
    }
    char sname[2200];
    snprintf(sname, sizeof sname, "%s:inas.space", wpath);
    st = inas_space_parse(yaml, strlen(yaml), sname, &space, err);
    if (st == INAS_OK && inas_arch_validate(&arch, &space, err) != INAS_OK)
        st = inas_error_prefix(err, "%s: ", apath);
    if (st != INAS_OK) {
        inas_st_close(f);
        return st;
    }
    inas_model *m = model_new(ctx, &space, &arch);
    if (!m) {
        inas_st_close(f);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    }
    snprintf(m->source, sizeof m->source, "%s", wpath);
    for (size_t i = 0; i < inas_st_count(f) && st == INAS_OK; i++) {
        const inas_st_tensor *t = inas_st_at(f, i);
        if (t->dtype != INAS_DTYPE_F32 || t->ndim < 1 || t->ndim > 4) {
            st = inas_error_set(err, INAS_ERR_FORMAT, "%s: tensor %s: expected F32 with 1..4 dims, got %s with %d",
                                wpath, t->name, inas_dtype_name(t->dtype), t->ndim);
            break;
        }
        int shape[4];
        for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d] > 1 << 30 ? -1 : (int)t->shape[d];
        float *tmp = malloc(t->nbytes ? t->nbytes : 1);
        if (!tmp) {
            st = inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
            break;
        }
        memcpy(tmp, t->data, t->nbytes); /* the data may be unaligned */
        if (model_add_weight(m, t->name, t->ndim, shape, tmp) < 0)
            st = inas_error_set(err, inas_ctx_last_status(ctx), "%s", inas_ctx_last_error(ctx));
        free(tmp);
    }
    inas_st_close(f);
    if (st == INAS_OK && model_validate(m) != INAS_OK)
        st = inas_error_set(err, inas_ctx_last_status(ctx), "%s", inas_ctx_last_error(ctx));
    if (st != INAS_OK) {
        inas_model_destroy(m);
        return st;
    }
    *out = m;
    return INAS_OK;
}

/* ---- one image ------------------------------------------------------------------------ */

inas_status inas_model_predict_rgb(inas_model *m, const unsigned char *rgb, int width, int height, float *map) {
    if (!m || !rgb || !map || width < 1 || height < 1)
        return inas_ctx_fail(m ? m->ctx : NULL, INAS_ERR_INVALID_ARG, "inas_model_predict_rgb: bad argument");
    int R = m->arch.resolution;
    inas_image src = {width, height, 3, (unsigned char *)rgb}, rs = {0};
    inas_error err;
    inas_status st = INAS_OK;
    if (!m->pred_chw) { /* first call: the workspace, kept until the model is destroyed */
        m->pred_chw = malloc((size_t)3 * R * R * sizeof(float));
        m->pred_map = malloc((size_t)R * R * sizeof(float));
        if (!m->pred_chw || !m->pred_map) st = inas_ctx_fail(m->ctx, INAS_ERR_NO_MEMORY, "out of memory");
        if (st == INAS_OK) st = inas_tensor_alloc(m->ctx, &m->pred_x, 1, 3, R, R);
        if (st == INAS_OK) st = inas_tensor_alloc(m->ctx, &m->pred_y, 1, 1, R, R);
        if (st != INAS_OK) {
            free(m->pred_chw);
            free(m->pred_map);
            m->pred_chw = m->pred_map = NULL;
            inas_tensor_free(m->ctx, &m->pred_x);
            inas_tensor_free(m->ctx, &m->pred_y);
            return st;
        }
    }
    if (inas_image_resize(&src, R, R, &rs, &err) != INAS_OK) return inas_ctx_fail(m->ctx, err.code, "%s", err.message);
    inas_normalize_rgb(rs.data, R, 0, m->pred_chw);
    inas_image_free(&rs);
    st = inas_tensor_write(m->ctx, &m->pred_x, m->pred_chw);
    if (st == INAS_OK) st = inas_model_forward(m, &m->pred_x, &m->pred_y);
    if (st == INAS_OK) st = inas_tensor_read(m->ctx, &m->pred_y, m->pred_map);
    if (st == INAS_OK && inas_resize_bilinear_f32(m->pred_map, R, R, 1, map, width, height, &err) != INAS_OK)
        st = inas_ctx_fail(m->ctx, err.code, "%s", err.message);
    return st;
}
