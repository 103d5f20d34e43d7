/* inas/tensor.h - NCHW device tensors (float32, or IEEE half for inference),
 * views, host transfers and the context's device-buffer pool.
 *
 * An inas_tensor is a plain descriptor (copy it freely): a cl_mem, an offset
 * and strides in elements, and a 4-D shape {N, C, H, W}. Lower-rank tensors
 * (vectors of parameters, matrices) use leading dimensions of 1 and record
 * their rank in ndim. Tensors made by inas_tensor_alloc draw their buffer
 * from the context's pool; inas_tensor_free gives it back for reuse, so a
 * steady-state loop creates no OpenCL buffers. Views share the buffer.
 *
 * Element types (inas_dtype): INAS_DTYPE_F32 (the default: a zeroed
 * descriptor is float32) and INAS_DTYPE_F16 (IEEE 754 binary16, 2 bytes;
 * host transfers convert from and to float, rounding to nearest even). Offsets and strides count elements of
 * the tensor's type. Training ops take F32 only; the inference ops also take
 * F16 tensors (all operands of one op share a type), see inas_precision. */
#ifndef INAS_TENSOR_H
#define INAS_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "inas/runtime.h"
#include "inas/safetensors.h" /* inas_dtype, inas_dtype_size */

#ifdef __cplusplus
extern "C" {
#endif

/* Arithmetic precision of the inference kernels (exported models, latency
 * tables):
 *  - INAS_PRECISION_FP32: float tensors, float arithmetic;
 *  - INAS_PRECISION_FP16: half tensors and half arithmetic (accumulations of
 *    reductions such as global average pooling stay float); needs a device
 *    with cl_khr_fp16;
 *  - INAS_PRECISION_FP16_STORAGE: half tensors (weights and activations:
 *    half the memory traffic), float arithmetic; runs on every device
 *    (vload_half / vstore_half are core OpenCL C). */
typedef enum inas_precision {
    INAS_PRECISION_FP32 = 0,
    INAS_PRECISION_FP16 = 1,
    INAS_PRECISION_FP16_STORAGE = 2
} inas_precision;
/* "fp32" / "fp16" / "fp16-storage". */
const char *inas_precision_name(inas_precision p);
/* Parses those names; -1 for anything else. */
int inas_precision_parse(const char *name);
/* INAS_OK when ctx's device can run kernels of precision p; else
 * INAS_ERR_UNSUPPORTED with a message naming the device. */
inas_status inas_precision_check(inas_ctx *ctx, inas_precision p);

/* IEEE half <-> float conversion on the host (round to nearest even;
 * overflow gives infinity, NaN stays NaN). */
uint16_t inas_half_from_float(float f);
float inas_float_from_half(uint16_t h);

typedef struct inas_tensor {
    cl_mem buf;         /* the OpenCL buffer (shared by views) */
    size_t offset;      /* first element, in elements from the start of buf */
    int ndim;           /* 1..4: how many trailing dims of shape are meaningful */
    int shape[4];       /* N, C, H, W (leading 1s for lower ranks) */
    size_t stride[4];   /* in elements */
    void *block;        /* pool block that owns buf; NULL for views and wrapped buffers */
    inas_dtype dtype;   /* INAS_DTYPE_F32 (0, when zeroed) or INAS_DTYPE_F16 */
} inas_tensor;

/* Number of elements (product of shape). */
size_t inas_tensor_numel(const inas_tensor *t);
/* True when the elements are dense in NCHW order. */
int inas_tensor_is_contiguous(const inas_tensor *t);
/* "1x7x13x11" style text into buf; returns buf. */
const char *inas_tensor_shape_str(const inas_tensor *t, char *buf, size_t len);

/* Allocates a contiguous tensor of shape n x c x h x w from the pool (contents
 * undefined). ndim is 4; use inas_tensor_alloc_nd for other ranks. */
inas_status inas_tensor_alloc(inas_ctx *ctx, inas_tensor *t, int n, int c, int h, int w);
/* Same with a shape of rank 1..4 (dims[0] outermost). */
inas_status inas_tensor_alloc_nd(inas_ctx *ctx, inas_tensor *t, int ndim, const int *dims);
/* Same with an element type. */
inas_status inas_tensor_alloc_as(inas_ctx *ctx, inas_tensor *t, inas_dtype dtype, int ndim, const int *dims);
/* Returns the buffer to the pool and zeroes the descriptor. Views: only zeroed. */
void inas_tensor_free(inas_ctx *ctx, inas_tensor *t);
/* Wraps a caller's buffer (not owned, not pooled) as a contiguous tensor. */
inas_status inas_tensor_wrap(inas_ctx *ctx, inas_tensor *t, cl_mem buf, size_t offset, int n, int c,
                             int h, int w);

/* A view of channels [c0, c0+c) of t (no copy). */
inas_status inas_tensor_slice_channels(inas_ctx *ctx, const inas_tensor *t, int c0, int c, inas_tensor *view);
/* A view of batch items [n0, n0+n) of t (no copy). */
inas_status inas_tensor_slice_batch(inas_ctx *ctx, const inas_tensor *t, int n0, int n, inas_tensor *view);

/* Copies numel floats from host (dense NCHW) into t, blocking (converted to
 * half for F16 tensors). Views with strides are handled. */
inas_status inas_tensor_write(inas_ctx *ctx, const inas_tensor *t, const float *host);
/* Copies t into host (dense NCHW), blocking. */
inas_status inas_tensor_read(inas_ctx *ctx, const inas_tensor *t, float *host);
/* Sets every element of t to v (contiguous tensors and channel views). */
inas_status inas_tensor_fill(inas_ctx *ctx, const inas_tensor *t, float v);
/* Copies src into dst (same shape; contiguous or channel views). When the
 * element types differ the values are converted on the device (a kernel). */
inas_status inas_tensor_copy(inas_ctx *ctx, const inas_tensor *src, const inas_tensor *dst);

/* ---- the buffer pool ----------------------------------------------------------- */

typedef struct inas_pool_stats {
    uint64_t buffers_created;  /* clCreateBuffer calls */
    uint64_t buffers_live;     /* buffers currently held by the pool (free or in use) */
    uint64_t bytes_live;       /* their total size */
    uint64_t acquires;         /* allocation requests */
    uint64_t reuses;           /* requests served by a released buffer */
    uint64_t in_use;           /* buffers handed out and not yet released */
} inas_pool_stats;

/* Raw pool access: a buffer of at least `bytes` bytes. Sizes are rounded up
 * to a size class (4 KiB granularity, four classes per power of two); a
 * released buffer serves later requests of its class or of classes down to
 * half its size (the smallest fitting buffer is taken). */
inas_status inas_pool_acquire(inas_ctx *ctx, size_t bytes, cl_mem *mem, void **block);
void inas_pool_release(inas_ctx *ctx, void *block);
void inas_pool_get_stats(const inas_ctx *ctx, inas_pool_stats *out);
/* Frees the released (unused) buffers. */
void inas_pool_trim(inas_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
