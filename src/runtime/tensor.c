/* tensor.c - tensor descriptors, views, host transfers, fill and copy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

static const char *const precision_names[] = {"fp32", "fp16", "fp16-storage"};

const char *inas_precision_name(inas_precision p) {
    return (unsigned)p < 3 ? precision_names[p] : "unknown";
}

int inas_precision_parse(const char *name) {
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, precision_names[i]) == 0) return i;
    return -1;
}

inas_status inas_precision_check(inas_ctx *ctx, inas_precision p) {
    if (!ctx) return INAS_ERR_INVALID_ARG;
    if ((unsigned)p > INAS_PRECISION_FP16_STORAGE)
        return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "precision %d: expected fp32, fp16 or fp16-storage", (int)p);
    if (p == INAS_PRECISION_FP16 && !ctx->device.fp16)
        return inas_ctx_fail(ctx, INAS_ERR_UNSUPPORTED,
                             "precision fp16: device \"%s\" (%s) has no cl_khr_fp16; use fp16-storage (half tensors, "
                             "float arithmetic) or fp32",
                             ctx->device.name, ctx->device.platform);
    return INAS_OK;
}

/* binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
uint16_t inas_half_from_float(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | (ax >> 13 & 0x3ffu) : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to >= 65520: infinity */
    if (ax < 0x38800000u) {                                   /* below the smallest normal half: subnormal or 0 */
        if (ax < 0x33000000u) return (uint16_t)sign;         /* < 2^-25: rounds to 0 */
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* value = m * 2^(e-150); half subnormal unit 2^-24 */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t h = ((ax >> 13) - (112u << 10)); /* rebias 127 -> 15, keep 10 mantissa bits */
    uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++; /* a carry into the exponent is right */
    return (uint16_t)(sign | h);
}

float inas_float_from_half(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0x1f) x = sign | 0x7f800000u | (m << 13);
    else if (e) x = sign | ((e + 112u) << 23) | (m << 13);
    else if (!m) x = sign;
    else {
        float v = ldexpf((float)m, -24);
        return sign ? -v : v;
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

size_t inas_tensor_numel(const inas_tensor *t) {
    return (size_t)t->shape[0] * (size_t)t->shape[1] * (size_t)t->shape[2] * (size_t)t->shape[3];
}

static void dense_strides(inas_tensor *t) {
    t->stride[3] = 1;
    t->stride[2] = (size_t)t->shape[3];
    t->stride[1] = t->stride[2] * (size_t)t->shape[2];
    t->stride[0] = t->stride[1] * (size_t)t->shape[1];
}

int inas_tensor_is_contiguous(const inas_tensor *t) {
    size_t want = 1;
    for (int d = 3; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != want) return 0;
        want *= (size_t)t->shape[d];
    }
    return 1;
}

const char *inas_tensor_shape_str(const inas_tensor *t, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 4 - t->ndim; d < 4 && used < len; d++) {
        int w = snprintf(buf + used, len - used, d == 4 - t->ndim ? "%d" : "x%d", t->shape[d]);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

inas_status inas_tensor_alloc_nd(inas_ctx *ctx, inas_tensor *t, int ndim, const int *dims) {
    return inas_tensor_alloc_as(ctx, t, INAS_DTYPE_F32, ndim, dims);
}

inas_status inas_tensor_alloc_as(inas_ctx *ctx, inas_tensor *t, inas_dtype dtype, int ndim, const int *dims) {
    if (dtype != INAS_DTYPE_F32 && dtype != INAS_DTYPE_F16)
        return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_tensor_alloc: bad element type %d", (int)dtype);
    if (!ctx || !t || !dims || ndim < 1 || ndim > 4)
        return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_tensor_alloc: bad rank %d", ndim);
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    for (int d = 0; d < 4; d++) t->shape[d] = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] <= 0)
            return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_tensor_alloc: dimension %d is %d", i, dims[i]);
        t->shape[4 - ndim + i] = dims[i];
    }
    dense_strides(t);
    t->dtype = dtype;
    size_t bytes = inas_tensor_numel(t) * inas_dtype_size(dtype);
    inas_status st = inas_pool_acquire(ctx, bytes, &t->buf, &t->block);
    if (st != INAS_OK) memset(t, 0, sizeof *t);
    return st;
}

inas_status inas_tensor_alloc(inas_ctx *ctx, inas_tensor *t, int n, int c, int h, int w) {
    int dims[4] = {n, c, h, w};
    return inas_tensor_alloc_nd(ctx, t, 4, dims);
}

void inas_tensor_free(inas_ctx *ctx, inas_tensor *t) {
    if (!t) return;
    if (t->block) inas_pool_release(ctx, t->block);
    memset(t, 0, sizeof *t);
}

inas_status inas_tensor_wrap(inas_ctx *ctx, inas_tensor *t, cl_mem buf, size_t offset, int n, int c, int h, int w) {
    if (!t || !buf || n <= 0 || c <= 0 || h <= 0 || w <= 0)
        return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_tensor_wrap: bad arguments");
    memset(t, 0, sizeof *t);
    t->buf = buf;
    t->offset = offset;
    t->ndim = 4;
    t->shape[0] = n;
    t->shape[1] = c;
    t->shape[2] = h;
    t->shape[3] = w;
    dense_strides(t);
    return INAS_OK;
}

/* A view of [start, start+count) along dimension dim (0 batch, 1 channels). */
static inas_status slice(inas_ctx *ctx, const inas_tensor *t, int dim, int start, int count, inas_tensor *view) {
    if (!t || !view || start < 0 || count <= 0 || start + count > t->shape[dim]) {
        char s[64];
        return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "%s slice [%d, %d) of a %s tensor", dim ? "channel" : "batch",
                             start, start + count, t ? inas_tensor_shape_str(t, s, sizeof s) : "null");
    }
    *view = *t;
    view->offset = t->offset + (size_t)start * t->stride[dim];
    view->shape[dim] = count;
    view->block = NULL;
    return INAS_OK;
}

inas_status inas_tensor_slice_channels(inas_ctx *ctx, const inas_tensor *t, int c0, int c, inas_tensor *view) {
    return slice(ctx, t, 1, c0, c, view);
}

inas_status inas_tensor_slice_batch(inas_ctx *ctx, const inas_tensor *t, int n0, int n, inas_tensor *view) {
    return slice(ctx, t, 0, n0, n, view);
}

/* A tensor as a list of equally long dense chunks: `count` chunks of `len`
 * elements; chunk i starts at element start(i). Handles dense tensors, channel
 * and batch views, and (fallback) any view whose rows are dense. */
typedef struct chunks {
    size_t len, count;
    int level; /* 0: one chunk; 1: per n; 2: per (n,c); 3: per (n,c,h) */
} chunks;

static int make_chunks(const inas_tensor *t, chunks *ch) {
    if (t->stride[3] != 1 && t->shape[3] != 1) return 0;
    size_t hw = (size_t)t->shape[2] * (size_t)t->shape[3];
    if (inas_tensor_is_contiguous(t)) {
        *ch = (chunks){inas_tensor_numel(t), 1, 0};
    } else if ((t->shape[2] == 1 || t->stride[2] == (size_t)t->shape[3]) &&
               (t->shape[1] == 1 || t->stride[1] == hw)) {
        *ch = (chunks){hw * (size_t)t->shape[1], (size_t)t->shape[0], 1};
    } else if (t->shape[2] == 1 || t->stride[2] == (size_t)t->shape[3]) {
        *ch = (chunks){hw, (size_t)t->shape[0] * (size_t)t->shape[1], 2};
    } else {
        *ch = (chunks){(size_t)t->shape[3], (size_t)t->shape[0] * (size_t)t->shape[1] * (size_t)t->shape[2], 3};
    }
    return 1;
}

static size_t chunk_start(const inas_tensor *t, const chunks *ch, size_t i) {
    switch (ch->level) {
    case 0: return t->offset;
    case 1: return t->offset + i * t->stride[0];
    case 2: return t->offset + (i / (size_t)t->shape[1]) * t->stride[0] + (i % (size_t)t->shape[1]) * t->stride[1];
    default: {
        size_t h = i % (size_t)t->shape[2], nc = i / (size_t)t->shape[2];
        return t->offset + (nc / (size_t)t->shape[1]) * t->stride[0] + (nc % (size_t)t->shape[1]) * t->stride[1] +
               h * t->stride[2];
    }
    }
}

static inas_status check_tensor(inas_ctx *ctx, const inas_tensor *t, const char *op, chunks *ch) {
    if (!ctx) return INAS_ERR_INVALID_ARG;
    if (!t || !t->buf) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "%s: null tensor", op);
    if (!make_chunks(t, ch)) return inas_ctx_fail(ctx, INAS_ERR_UNSUPPORTED, "%s: tensor with strided rows", op);
    return INAS_OK;
}

/* Host staging for F16 transfers: the whole tensor as half values. */
static uint16_t *half_stage(inas_ctx *ctx, const inas_tensor *t, const char *op) {
    uint16_t *h = malloc(inas_tensor_numel(t) * 2 + 2);
    if (!h) inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "%s: out of memory (half staging)", op);
    return h;
}

inas_status inas_tensor_write(inas_ctx *ctx, const inas_tensor *t, const float *host) {
    chunks ch;
    inas_status st = check_tensor(ctx, t, "inas_tensor_write", &ch);
    if (st != INAS_OK) return st;
    if (!host) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_tensor_write: null host pointer");
    size_t es = inas_dtype_size(t->dtype), n = inas_tensor_numel(t);
    const void *src = host;
    uint16_t *h = NULL;
    if (t->dtype == INAS_DTYPE_F16) {
        if (!(h = half_stage(ctx, t, "inas_tensor_write"))) return INAS_ERR_NO_MEMORY;
        for (size_t i = 0; i < n; i++) h[i] = inas_half_from_float(host[i]);
        src = h;
    }
    cl_int rc = CL_SUCCESS;
    for (size_t i = 0; i < ch.count && rc == CL_SUCCESS; i++)
        rc = CL(clEnqueueWriteBuffer)(ctx->queue, t->buf, CL_FALSE, chunk_start(t, &ch, i) * es, ch.len * es,
                                      (const char *)src + i * ch.len * es, 0, NULL, NULL);
    cl_int rc2 = CL(clFinish)(ctx->queue);
    free(h);
    if (rc != CL_SUCCESS) return inas_cl_fail(ctx, rc, "clEnqueueWriteBuffer");
    if (rc2 != CL_SUCCESS) return inas_cl_fail(ctx, rc2, "clFinish after tensor write");
    return INAS_OK;
}

inas_status inas_tensor_read(inas_ctx *ctx, const inas_tensor *t, float *host) {
    chunks ch;
    inas_status st = check_tensor(ctx, t, "inas_tensor_read", &ch);
    if (st != INAS_OK) return st;
    if (!host) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_tensor_read: null host pointer");
    size_t es = inas_dtype_size(t->dtype), n = inas_tensor_numel(t);
    void *dst = host;
    uint16_t *h = NULL;
    if (t->dtype == INAS_DTYPE_F16) {
        if (!(h = half_stage(ctx, t, "inas_tensor_read"))) return INAS_ERR_NO_MEMORY;
        dst = h;
    }
    cl_int rc = CL_SUCCESS;
    for (size_t i = 0; i < ch.count && rc == CL_SUCCESS; i++)
        rc = CL(clEnqueueReadBuffer)(ctx->queue, t->buf, CL_FALSE, chunk_start(t, &ch, i) * es, ch.len * es,
                                     (char *)dst + i * ch.len * es, 0, NULL, NULL);
    cl_int rc2 = CL(clFinish)(ctx->queue);
    if (h && rc == CL_SUCCESS && rc2 == CL_SUCCESS)
        for (size_t i = 0; i < n; i++) host[i] = inas_float_from_half(h[i]);
    free(h);
    if (rc != CL_SUCCESS) return inas_cl_fail(ctx, rc, "clEnqueueReadBuffer");
    if (rc2 != CL_SUCCESS) return inas_cl_fail(ctx, rc2, "clFinish after tensor read");
    return INAS_OK;
}

inas_status inas_tensor_fill(inas_ctx *ctx, const inas_tensor *t, float v) {
    chunks ch;
    inas_status st = check_tensor(ctx, t, "inas_tensor_fill", &ch);
    if (st != INAS_OK) return st;
    size_t es = inas_dtype_size(t->dtype);
    uint16_t hv = inas_half_from_float(v);
    const void *pattern = t->dtype == INAS_DTYPE_F16 ? (const void *)&hv : (const void *)&v;
    for (size_t i = 0; i < ch.count; i++)
        CL_CHECK(ctx,
                 CL(clEnqueueFillBuffer)(ctx->queue, t->buf, pattern, es, chunk_start(t, &ch, i) * es, ch.len * es, 0,
                                         NULL, NULL),
                 "clEnqueueFillBuffer");
    return INAS_OK;
}

/* n elements from src (element offset so) into dst (offset doff) with a type
 * conversion: kernel inas_convert of tensor.cl. */
static inas_status convert_chunk(inas_ctx *ctx, const inas_tensor *src, size_t so, const inas_tensor *dst,
                                 size_t doff, size_t n) {
    char opts[64];
    snprintf(opts, sizeof opts, "-DSRC_HALF=%d -DDST_HALF=%d", src->dtype == INAS_DTYPE_F16, dst->dtype == INAS_DTYPE_F16);
    inas_program *p;
    cl_kernel k;
    inas_status st = inas_program_get(ctx, "tensor.cl", opts, &p);
    if (st == INAS_OK) st = inas_kernel_get(ctx, p, "inas_convert", &k);
    if (st != INAS_OK) return st;
    if (n > 0x7fffffffu || so > 0x7fffffffu || doff > 0x7fffffffu)
        return inas_ctx_fail(ctx, INAS_ERR_UNSUPPORTED, "inas_tensor_copy: conversion of more than 2^31 elements");
    int ni = (int)n, si = (int)so, di = (int)doff;
    if ((st = inas_kernel_arg(ctx, k, 0, sizeof ni, &ni)) || (st = inas_kernel_arg(ctx, k, 1, sizeof(cl_mem), &src->buf)) ||
        (st = inas_kernel_arg(ctx, k, 2, sizeof si, &si)) || (st = inas_kernel_arg(ctx, k, 3, sizeof(cl_mem), &dst->buf)) ||
        (st = inas_kernel_arg(ctx, k, 4, sizeof di, &di)))
        return st;
    size_t g = (n + 3) / 4;
    return inas_kernel_run(ctx, k, 1, &g, NULL, "inas_convert");
}

inas_status inas_tensor_copy(inas_ctx *ctx, const inas_tensor *src, const inas_tensor *dst) {
    chunks cs, cd;
    inas_status st = check_tensor(ctx, src, "inas_tensor_copy (source)", &cs);
    if (st == INAS_OK) st = check_tensor(ctx, dst, "inas_tensor_copy (destination)", &cd);
    if (st != INAS_OK) return st;
    for (int d = 0; d < 4; d++)
        if (src->shape[d] != dst->shape[d]) {
            char a[64], b[64];
            return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_tensor_copy: shapes %s and %s differ",
                                 inas_tensor_shape_str(src, a, sizeof a), inas_tensor_shape_str(dst, b, sizeof b));
        }
    /* walk the finer of the two chunkings */
    const chunks *c = cs.len <= cd.len ? &cs : &cd;
    chunks fine = *c;
    for (size_t i = 0; i < fine.count; i++) {
        size_t elem = i * fine.len; /* dense index of the chunk's first element */
        /* map the dense index to each tensor's offset with its own chunking */
        size_t so = chunk_start(src, &cs, elem / cs.len) + elem % cs.len;
        size_t doff = chunk_start(dst, &cd, elem / cd.len) + elem % cd.len;
        if (src->dtype != dst->dtype) {
            st = convert_chunk(ctx, src, so, dst, doff, fine.len);
            if (st != INAS_OK) return st;
            continue;
        }
        size_t es = inas_dtype_size(src->dtype);
        CL_CHECK(ctx,
                 CL(clEnqueueCopyBuffer)(ctx->queue, src->buf, dst->buf, so * es, doff * es, fine.len * es, 0, NULL,
                                         NULL),
                 "clEnqueueCopyBuffer");
    }
    return INAS_OK;
}
