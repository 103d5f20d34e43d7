/* op_util.h - helpers shared by the host side of every kernel family in
 * src/ops/: fetching a specialised kernel, setting arguments, launching, and
 * shape checks whose messages name the op and the shapes.
 *
 * Conventions for an op `inas_op_NAME(ctx, ...)`:
 *  - tensors are inas_tensor descriptors (NCHW float32, offset + strides in
 *    elements, so channel views work); outputs are allocated by the caller;
 *  - the forward ops of the inference engine (listed in op_util.c, the one
 *    place that knows) also take F16 tensors: every operand of a call shares
 *    one type, and the kernels are built with op_dtype_opts' options (half
 *    storage; half arithmetic too while the context's half_math is set, see
 *    inas_precision). Every other op rejects F16 tensors in op_check_tensor;
 *  - bad shapes, unsupported parameters and null buffers return a status with
 *    "NAME: ..." naming the shapes, through op_fail / op_check_*;
 *  - kernels live in cl/FAMILY.cl, are specialised with -D options (kernel
 *    size, stride, activation, tile sizes) and launched through op_run. */
#ifndef INAS_OPS_OP_UTIL_H
#define INAS_OPS_OP_UTIL_H

#include <stdarg.h>

#include "runtime/internal.h"


/* Kernel `kernel` of embedded file `file` built with printf-style options. */
inas_status op_kernel(inas_ctx *ctx, const char *file, const char *kernel, cl_kernel *out, const char *opts_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Sets `n` arguments from (size_t size, const void *value) pairs. */
inas_status op_args(inas_ctx *ctx, cl_kernel k, unsigned n, ...);
#define OP_ARG(v) sizeof(v), (const void *)&(v)

/* Enqueues k on 1..3 dims; global sizes are rounded up to `local` multiples
 * when local is given. */
inas_status op_run(inas_ctx *ctx, cl_kernel k, unsigned dims, const size_t *global, const size_t *local,
                   const char *label);

static inline size_t op_round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* "NAME: message" on the context, returning code. */
inas_status op_fail(inas_ctx *ctx, inas_status code, const char *op, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Checks that t is non-null, has a buffer and rows with unit stride, and is
 * F32 unless `op` is one of the F16-capable ops. */
inas_status op_check_tensor(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *t);
/* Checks that t has exactly shape n,c,h,w (any of them < 0 is not checked). */
inas_status op_check_shape(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *t, int n, int c, int h,
                           int w);
/* Checks that a and b have the same shape. */
inas_status op_check_same(inas_ctx *ctx, const char *op, const char *na, const inas_tensor *a, const char *nb,
                          const inas_tensor *b);

/* Checks that the n tensors ts[] share one element type and writes the kernel
 * options for it into opts: "" (F32), "-DDT_HALF=1" (F16) or "-DDT_HALF=1
 * -DHALF_MATH=1" (F16 while ctx->half_math is set; the device must have
 * cl_khr_fp16). */
inas_status op_dtype_opts(inas_ctx *ctx, const char *op, const inas_tensor *const *ts, int n, char *opts, size_t len);

#endif
