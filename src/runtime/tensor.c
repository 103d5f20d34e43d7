/* tensor.c - tensor descriptors, views, host transfers, fill and copy. */
#include <stdio.h>
#include <string.h>

#include "runtime/internal.h"

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
    size_t bytes = inas_tensor_numel(t) * sizeof(float);
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

inas_status inas_tensor_write(inas_ctx *ctx, const inas_tensor *t, const float *host) {
    chunks ch;
    inas_status st = check_tensor(ctx, t, "inas_tensor_write", &ch);
    if (st != INAS_OK) return st;
    if (!host) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_tensor_write: null host pointer");
    for (size_t i = 0; i < ch.count; i++)
        CL_CHECK(ctx,
                 CL(clEnqueueWriteBuffer)(ctx->queue, t->buf, CL_FALSE, chunk_start(t, &ch, i) * sizeof(float),
                                          ch.len * sizeof(float), host + i * ch.len, 0, NULL, NULL),
                 "clEnqueueWriteBuffer");
    CL_CHECK(ctx, CL(clFinish)(ctx->queue), "clFinish after tensor write");
    return INAS_OK;
}

inas_status inas_tensor_read(inas_ctx *ctx, const inas_tensor *t, float *host) {
    chunks ch;
    inas_status st = check_tensor(ctx, t, "inas_tensor_read", &ch);
    if (st != INAS_OK) return st;
    if (!host) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_tensor_read: null host pointer");
    for (size_t i = 0; i < ch.count; i++)
        CL_CHECK(ctx,
                 CL(clEnqueueReadBuffer)(ctx->queue, t->buf, CL_FALSE, chunk_start(t, &ch, i) * sizeof(float),
                                         ch.len * sizeof(float), host + i * ch.len, 0, NULL, NULL),
                 "clEnqueueReadBuffer");
    CL_CHECK(ctx, CL(clFinish)(ctx->queue), "clFinish after tensor read");
    return INAS_OK;
}

inas_status inas_tensor_fill(inas_ctx *ctx, const inas_tensor *t, float v) {
    chunks ch;
    inas_status st = check_tensor(ctx, t, "inas_tensor_fill", &ch);
    if (st != INAS_OK) return st;
    for (size_t i = 0; i < ch.count; i++)
        CL_CHECK(ctx,
                 CL(clEnqueueFillBuffer)(ctx->queue, t->buf, &v, sizeof v, chunk_start(t, &ch, i) * sizeof(float),
                                         ch.len * sizeof(float), 0, NULL, NULL),
                 "clEnqueueFillBuffer");
    return INAS_OK;
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
        CL_CHECK(ctx,
                 CL(clEnqueueCopyBuffer)(ctx->queue, src->buf, dst->buf, so * sizeof(float), doff * sizeof(float),
                                         fine.len * sizeof(float), 0, NULL, NULL),
                 "clEnqueueCopyBuffer");
    }
    return INAS_OK;
}
