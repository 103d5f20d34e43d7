/* pool.c - the context's device-buffer pool: size classes, free list, stats.
 *
 * Requests are rounded up to a size class (4 KiB granularity; above that four
 * classes per power of two, so at most 25 % is wasted). Released buffers wait
 * on a free list and serve later requests of the same class, or of a class up
 * to half their size (best fit), so a training or inference loop in steady
 * state creates no buffers even when the sub-network changes every step. */
#include <stdlib.h>

#include "runtime/internal.h"

static size_t size_class(size_t bytes) {
    const size_t page = 4096;
    if (bytes <= page) return page;
    size_t p = page;
    while (p * 2 < bytes) p *= 2; /* p < bytes <= 2p */
    size_t step = p / 4;
    size_t c = p + ((bytes - p + step - 1) / step) * step;
    return (c + page - 1) / page * page;
}

inas_status inas_pool_acquire(inas_ctx *ctx, size_t bytes, cl_mem *mem, void **block) {
    if (!ctx || !mem || !block) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_pool_acquire: null argument");
    size_t cls = size_class(bytes ? bytes : 1);
    ctx->pool.acquires++;
    /* best fit among the released buffers: the same class, else the smallest
     * one up to twice as large (varying sub-network widths then reuse the
     * largest network's buffers instead of creating new classes) */
    inas_pool_block **best = NULL;
    for (inas_pool_block **pp = &ctx->free_blocks; *pp; pp = &(*pp)->next) {
        size_t b = (*pp)->bytes;
        if (b >= cls && b <= 2 * cls && (!best || b < (*best)->bytes)) {
            best = pp;
            if (b == cls) break;
        }
    }
    if (best) {
        inas_pool_block *b = *best;
        *best = b->next;
        b->next = NULL;
        ctx->pool.reuses++;
        ctx->pool.in_use++;
        *mem = b->mem;
        *block = b;
        return INAS_OK;
    }
    if (ctx->device.max_alloc && cls > ctx->device.max_alloc)
        return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "buffer of %zu bytes exceeds the device's largest allocation (%llu bytes)",
                             cls, (unsigned long long)ctx->device.max_alloc);
    inas_pool_block *b = calloc(1, sizeof *b);
    if (!b) return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory");
    cl_int rc;
    b->mem = CL(clCreateBuffer)(ctx->context, CL_MEM_READ_WRITE, cls, NULL, &rc);
    if (rc != CL_SUCCESS && ctx->free_blocks) {
        /* device memory may be held by free buffers of other classes: trim and retry */
        inas_pool_trim(ctx);
        b->mem = CL(clCreateBuffer)(ctx->context, CL_MEM_READ_WRITE, cls, NULL, &rc);
    }
    if (rc != CL_SUCCESS) {
        free(b);
        return inas_cl_fail(ctx, rc, "clCreateBuffer(%zu bytes)", cls);
    }
    b->bytes = cls;
    ctx->pool.buffers_created++;
    ctx->pool.buffers_live++;
    ctx->pool.bytes_live += cls;
    ctx->pool.in_use++;
    *mem = b->mem;
    *block = b;
    return INAS_OK;
}

void inas_pool_release(inas_ctx *ctx, void *block) {
    if (!ctx || !block) return;
    inas_pool_block *b = block;
    b->next = ctx->free_blocks;
    ctx->free_blocks = b;
    if (ctx->pool.in_use) ctx->pool.in_use--;
}

void inas_pool_get_stats(const inas_ctx *ctx, inas_pool_stats *out) {
    if (ctx && out) *out = ctx->pool;
}

void inas_pool_trim(inas_ctx *ctx) {
    if (!ctx) return;
    inas_pool_block *b = ctx->free_blocks;
    while (b) {
        inas_pool_block *next = b->next;
        CL(clReleaseMemObject)(b->mem);
        ctx->pool.buffers_live--;
        ctx->pool.bytes_live -= b->bytes;
        free(b);
        b = next;
    }
    ctx->free_blocks = NULL;
}

void inas_pool_release_all(inas_ctx *ctx) {
    /* blocks still in use belong to tensors the caller did not free; their
     * cl_mem objects are released with the context */
    inas_pool_trim(ctx);
}
