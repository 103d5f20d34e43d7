/* params.c - named supernet parameters in per-class flat device buffers:
 * registration, deterministic initialisation, views, zeroing, Adam, and
 * safetensors import/export. */
#include "nn/params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/adam.h"
#include "runtime/internal.h"

#define ALIGN_FLOATS 16

void inas_params_init(inas_params *ps, inas_ctx *ctx) {
    memset(ps, 0, sizeof *ps);
    ps->ctx = ctx;
}

void inas_params_free(inas_params *ps) {
    if (!ps) return;
    for (int c = 0; c < INAS_PARAM_CLASSES; c++) {
        inas_tensor_free(ps->ctx, &ps->value[c]);
        inas_tensor_free(ps->ctx, &ps->grad[c]);
        inas_tensor_free(ps->ctx, &ps->m[c]);
        inas_tensor_free(ps->ctx, &ps->v[c]);
    }
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

int inas_params_add(inas_params *ps, const char *name, inas_param_class cls, inas_param_init init, int fan_in, int ndim,
                    const int *shape) {
    if (ps->materialized || ndim < 1 || ndim > 4 || strlen(name) >= sizeof ps->p[0].name) {
        inas_ctx_fail(ps->ctx, INAS_ERR_INVALID_ARG, "parameter %s: bad registration", name);
        return -1;
    }
    if (inas_params_find(ps, name) >= 0) {
        inas_ctx_fail(ps->ctx, INAS_ERR_INTERNAL, "parameter %s registered twice", name);
        return -1;
    }
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 256;
        inas_param *np = realloc(ps->p, cap * sizeof *np);
        if (!np) {
            inas_ctx_fail(ps->ctx, INAS_ERR_NO_MEMORY, "out of memory");
            return -1;
        }
        ps->p = np;
        ps->cap = cap;
    }
    inas_param *p = &ps->p[ps->n];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < 4; i++) p->shape[i] = i < ndim ? shape[i] : 1;
    for (int i = 0; i < ndim; i++) p->numel *= (size_t)shape[i];
    p->cls = cls;
    p->init = init;
    p->fan_in = fan_in;
    p->offset = ps->class_numel[cls];
    ps->class_numel[cls] += (p->numel + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    return (int)ps->n++;
}

int inas_params_find(const inas_params *ps, const char *name) {
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].name, name) == 0) return (int)i;
    return -1;
}

static void init_values(const inas_param *p, inas_rng *r, float *dst) {
    switch (p->init) {
    case INAS_INIT_ZEROS: memset(dst, 0, p->numel * sizeof *dst); break;
    case INAS_INIT_ONES:
        for (size_t i = 0; i < p->numel; i++) dst[i] = 1.0f;
        break;
    case INAS_INIT_IDENTITY:
        memset(dst, 0, p->numel * sizeof *dst);
        for (int i = 0; i < p->shape[0] && i < p->shape[1]; i++) dst[(size_t)i * p->shape[1] + i] = 1.0f;
        break;
    case INAS_INIT_CONV:
    case INAS_INIT_BIAS: {
        float bound = 1.0f / sqrtf((float)(p->fan_in > 0 ? p->fan_in : 1));
        for (size_t i = 0; i < p->numel; i++) dst[i] = (2.0f * inas_rng_float(r) - 1.0f) * bound;
        break;
    }
    }
}

inas_status inas_params_materialize(inas_params *ps, uint64_t seed) {
    inas_ctx *ctx = ps->ctx;
    inas_status st = INAS_OK;
    for (int c = 0; c < INAS_PARAM_CLASSES && st == INAS_OK; c++) {
        int n = (int)(ps->class_numel[c] ? ps->class_numel[c] : ALIGN_FLOATS);
        st = inas_tensor_alloc(ctx, &ps->value[c], 1, 1, 1, n);
        if (st == INAS_OK && c != INAS_PARAM_BUFFER) {
            st = inas_tensor_alloc(ctx, &ps->grad[c], 1, 1, 1, n);
            if (st == INAS_OK) st = inas_tensor_alloc(ctx, &ps->m[c], 1, 1, 1, n);
            if (st == INAS_OK) st = inas_tensor_alloc(ctx, &ps->v[c], 1, 1, 1, n);
            if (st == INAS_OK) st = inas_tensor_fill(ctx, &ps->grad[c], 0.0f);
            if (st == INAS_OK) st = inas_tensor_fill(ctx, &ps->m[c], 0.0f);
            if (st == INAS_OK) st = inas_tensor_fill(ctx, &ps->v[c], 0.0f);
        }
    }
    if (st != INAS_OK) return st;
    inas_rng root;
    inas_rng_seed(&root, seed);
    for (int c = 0; c < INAS_PARAM_CLASSES; c++) {
        size_t n = ps->class_numel[c];
        if (!n) continue;
        float *host = calloc(n, sizeof *host);
        if (!host) return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory initialising parameters");
        for (size_t i = 0; i < ps->n; i++) {
            if (ps->p[i].cls != (inas_param_class)c) continue;
            /* each parameter has its own stream: adding a parameter does not change the others */
            inas_rng r = inas_rng_split(&root, inas_crc32(0, ps->p[i].name, strlen(ps->p[i].name)));
            init_values(&ps->p[i], &r, host + ps->p[i].offset);
        }
        st = inas_tensor_write(ctx, &ps->value[c], host);
        free(host);
        if (st != INAS_OK) return st;
    }
    ps->materialized = 1;
    ps->adam_step = 0;
    return INAS_OK;
}

static inas_tensor view_of(const inas_param *p, const inas_tensor *base) {
    inas_tensor t = *base;
    t.block = NULL;
    t.offset = base->offset + p->offset;
    t.ndim = p->ndim;
    int dims[4] = {1, 1, 1, 1};
    for (int i = 0; i < p->ndim; i++) dims[4 - p->ndim + i] = p->shape[i];
    for (int i = 0; i < 4; i++) t.shape[i] = dims[i];
    t.stride[3] = 1;
    t.stride[2] = (size_t)dims[3];
    t.stride[1] = t.stride[2] * (size_t)dims[2];
    t.stride[0] = t.stride[1] * (size_t)dims[1];
    return t;
}

inas_tensor inas_param_value(const inas_params *ps, int idx) { return view_of(&ps->p[idx], &ps->value[ps->p[idx].cls]); }

inas_tensor inas_param_grad(const inas_params *ps, int idx) { return view_of(&ps->p[idx], &ps->grad[ps->p[idx].cls]); }

inas_tensor inas_param_block(const inas_params *ps, int idx, const inas_tensor *t, int d0, int d1, int d2, int d3) {
    const inas_param *p = &ps->p[idx];
    inas_tensor v = *t;
    int want[4] = {d0, d1, d2, d3};
    /* the parameter's dims sit in the trailing positions of the 4-D shape */
    for (int i = 0; i < p->ndim; i++) v.shape[4 - p->ndim + i] = want[i];
    return v;
}

inas_status inas_params_zero_grad(inas_params *ps) {
    for (int c = 0; c < 2; c++) {
        inas_status st = inas_tensor_fill(ps->ctx, &ps->grad[c], 0.0f);
        if (st != INAS_OK) return st;
    }
    return INAS_OK;
}

inas_status inas_params_adam(inas_params *ps, const double lr[2], double beta1, double beta2, double eps) {
    ps->adam_step++;
    for (int c = 0; c < 2; c++) {
        if (!ps->class_numel[c]) continue;
        inas_adam_params hp;
        inas_adam_defaults(&hp, lr[c]);
        hp.beta1 = beta1;
        hp.beta2 = beta2;
        hp.eps = eps;
        hp.step = (int)ps->adam_step;
        inas_status st = inas_op_adam_step(ps->ctx, &ps->value[c], &ps->grad[c], &ps->m[c], &ps->v[c], &hp);
        if (st != INAS_OK) return st;
    }
    return INAS_OK;
}

inas_status inas_params_read_class(inas_params *ps, inas_param_class cls, float *host) {
    if (!ps->class_numel[cls]) return INAS_OK;
    inas_tensor t;
    inas_tensor_slice_batch(ps->ctx, &ps->value[cls], 0, 1, &t);
    t.shape[3] = (int)ps->class_numel[cls];
    return inas_tensor_read(ps->ctx, &t, host);
}

static inas_status read_flat(inas_params *ps, const inas_tensor *base, size_t n, float **out) {
    *out = malloc((n ? n : 1) * sizeof **out);
    if (!*out) return inas_ctx_fail(ps->ctx, INAS_ERR_NO_MEMORY, "out of memory");
    if (!n) return INAS_OK;
    inas_tensor t = *base;
    t.shape[3] = (int)n;
    return inas_tensor_read(ps->ctx, &t, *out);
}

inas_status inas_params_to_writer(inas_params *ps, inas_st_writer *w, int with_optimizer, inas_error *err) {
    float *host[INAS_PARAM_CLASSES][3] = {{0}};
    inas_status st = INAS_OK;
    for (int c = 0; c < INAS_PARAM_CLASSES && st == INAS_OK; c++) {
        st = read_flat(ps, &ps->value[c], ps->class_numel[c], &host[c][0]);
        if (st == INAS_OK && with_optimizer && c != INAS_PARAM_BUFFER) {
            st = read_flat(ps, &ps->m[c], ps->class_numel[c], &host[c][1]);
            if (st == INAS_OK) st = read_flat(ps, &ps->v[c], ps->class_numel[c], &host[c][2]);
        }
    }
    if (st != INAS_OK) inas_error_set(err, st, "%s", inas_ctx_last_error(ps->ctx));
    for (size_t i = 0; i < ps->n && st == INAS_OK; i++) {
        const inas_param *p = &ps->p[i];
        int64_t shape[4];
        for (int d = 0; d < p->ndim; d++) shape[d] = p->shape[d];
        st = inas_st_writer_add(w, p->name, INAS_DTYPE_F32, p->ndim, shape, host[p->cls][0] + p->offset, err);
        if (st == INAS_OK && with_optimizer && p->cls != INAS_PARAM_BUFFER) {
            char name[192];
            snprintf(name, sizeof name, "optimizer.exp_avg.%s", p->name);
            st = inas_st_writer_add(w, name, INAS_DTYPE_F32, p->ndim, shape, host[p->cls][1] + p->offset, err);
            snprintf(name, sizeof name, "optimizer.exp_avg_sq.%s", p->name);
            if (st == INAS_OK)
                st = inas_st_writer_add(w, name, INAS_DTYPE_F32, p->ndim, shape, host[p->cls][2] + p->offset, err);
        }
    }
    for (int c = 0; c < INAS_PARAM_CLASSES; c++)
        for (int k = 0; k < 3; k++) free(host[c][k]);
    return st;
}

static int shape_matches(const inas_param *p, const inas_st_tensor *t) {
    if (t->dtype != INAS_DTYPE_F32 || t->ndim != p->ndim) return 0;
    for (int d = 0; d < p->ndim; d++)
        if (t->shape[d] != p->shape[d]) return 0;
    return 1;
}

inas_status inas_params_from_file(inas_params *ps, const inas_st_file *f, const char *path, int with_optimizer,
                                  inas_error *err) {
    float *host[INAS_PARAM_CLASSES][3] = {{0}};
    inas_status st = INAS_OK;
    for (int c = 0; c < INAS_PARAM_CLASSES && st == INAS_OK; c++)
        for (int k = 0; k < 3 && st == INAS_OK; k++)
            if (k == 0 || (with_optimizer && c != INAS_PARAM_BUFFER))
                st = read_flat(ps, k == 0 ? &ps->value[c] : k == 1 ? &ps->m[c] : &ps->v[c], ps->class_numel[c],
                               &host[c][k]);
    if (st != INAS_OK) inas_error_set(err, st, "%s", inas_ctx_last_error(ps->ctx));
    for (size_t i = 0; i < ps->n && st == INAS_OK; i++) {
        const inas_param *p = &ps->p[i];
        for (int k = 0; k < 3 && st == INAS_OK; k++) {
            if (k > 0 && (!with_optimizer || p->cls == INAS_PARAM_BUFFER)) continue;
            char name[192];
            snprintf(name, sizeof name, "%s%s", k == 0 ? "" : k == 1 ? "optimizer.exp_avg." : "optimizer.exp_avg_sq.",
                     p->name);
            const inas_st_tensor *t = inas_st_find(f, name);
            if (!t) {
                st = inas_error_set(err, INAS_ERR_FORMAT, "%s: tensor \"%s\" is missing (a checkpoint of another space?)",
                                    path, name);
                break;
            }
            if (!shape_matches(p, t)) {
                char want[64];
                snprintf(want, sizeof want, "%d %d %d %d", p->shape[0], p->shape[1], p->shape[2], p->shape[3]);
                st = inas_error_set(err, INAS_ERR_FORMAT,
                                    "%s: tensor \"%s\" has dtype %s and %d dims; expected F32 of shape [%s] (first %d)",
                                    path, name, inas_dtype_name(t->dtype), t->ndim, want, p->ndim);
                break;
            }
            memcpy(host[p->cls][k] + p->offset, t->data, p->numel * sizeof(float));
        }
    }
    for (int c = 0; c < INAS_PARAM_CLASSES && st == INAS_OK; c++)
        for (int k = 0; k < 3 && st == INAS_OK; k++) {
            if (!host[c][k] || !ps->class_numel[c]) continue;
            inas_tensor t = k == 0 ? ps->value[c] : k == 1 ? ps->m[c] : ps->v[c];
            t.shape[3] = (int)ps->class_numel[c];
            if (inas_tensor_write(ps->ctx, &t, host[c][k]) != INAS_OK)
                st = inas_error_set(err, INAS_ERR_OPENCL, "%s", inas_ctx_last_error(ps->ctx));
        }
    for (int c = 0; c < INAS_PARAM_CLASSES; c++)
        for (int k = 0; k < 3; k++) free(host[c][k]);
    return st;
}
