/* op_util.c - see op_util.h. */
#include "ops/op_util.h"

#include <stdio.h>
#include <string.h>

inas_status op_kernel(inas_ctx *ctx, const char *file, const char *kernel, cl_kernel *out, const char *opts_fmt, ...) {
    char opts[1024];
    va_list ap;
    va_start(ap, opts_fmt);
    vsnprintf(opts, sizeof opts, opts_fmt ? opts_fmt : "", ap);
    va_end(ap);
    inas_program *p;
    inas_status st = inas_program_get(ctx, file, opts, &p);
    if (st != INAS_OK) return st;
    return inas_kernel_get(ctx, p, kernel, out);
}

inas_status op_args(inas_ctx *ctx, cl_kernel k, unsigned n, ...) {
    va_list ap;
    va_start(ap, n);
    inas_status st = INAS_OK;
    for (unsigned i = 0; i < n && st == INAS_OK; i++) {
        size_t size = va_arg(ap, size_t);
        const void *v = va_arg(ap, const void *);
        st = inas_kernel_arg(ctx, k, i, size, v);
    }
    va_end(ap);
    return st;
}

inas_status op_run(inas_ctx *ctx, cl_kernel k, unsigned dims, const size_t *global, const size_t *local,
                   const char *label) {
    size_t g[3];
    for (unsigned d = 0; d < dims && d < 3; d++) g[d] = local ? op_round_up(global[d], local[d]) : global[d];
    return inas_kernel_run(ctx, k, dims, g, local, label);
}

inas_status op_fail(inas_ctx *ctx, inas_status code, const char *op, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return inas_ctx_fail(ctx, code, "%s: %s", op, msg);
}

/* The ops that take F16 tensors: the forward ops of the inference engine. */
static const char *const f16_ops[] = {"inas_op_conv2d_fwd", "inas_op_dwconv_fwd", "inas_op_gap_fwd",
                                      "inas_op_se_mul_fwd", "inas_op_avgpool2_fwd", "inas_op_maxpool_fwd",
                                      "inas_op_resize_fwd", "inas_op_mean",        "inas_op_add",
                                      "inas_op_act_fwd",    NULL};

static int takes_f16(const char *op) {
    for (int i = 0; op && f16_ops[i]; i++)
        if (strcmp(op, f16_ops[i]) == 0) return 1;
    return 0;
}

inas_status op_check_tensor(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *t) {
    if (!t) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s is a null tensor", name);
    if (!t->buf) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has no buffer", name);
    if (t->dtype != INAS_DTYPE_F32 && (t->dtype != INAS_DTYPE_F16 || !takes_f16(op)))
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s is %s; this op takes f32 tensors only", name,
                       inas_dtype_name(t->dtype));
    if (t->shape[3] > 1 && t->stride[3] != 1)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s has strided rows", name);
    return INAS_OK;
}

inas_status op_check_shape(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *t, int n, int c, int h,
                           int w) {
    inas_status st = op_check_tensor(ctx, op, name, t);
    if (st != INAS_OK) return st;
    int want[4] = {n, c, h, w};
    for (int d = 0; d < 4; d++)
        if (want[d] >= 0 && t->shape[d] != want[d]) {
            char got[64];
            return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has shape %s, expected %dx%dx%dx%d (-1: any)", name,
                           inas_tensor_shape_str(t, got, sizeof got), n, c, h, w);
        }
    return INAS_OK;
}

inas_status op_check_same(inas_ctx *ctx, const char *op, const char *na, const inas_tensor *a, const char *nb,
                          const inas_tensor *b) {
    inas_status st = op_check_tensor(ctx, op, na, a);
    if (st == INAS_OK) st = op_check_tensor(ctx, op, nb, b);
    if (st != INAS_OK) return st;
    for (int d = 0; d < 4; d++)
        if (a->shape[d] != b->shape[d]) {
            char sa[64], sb[64];
            return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s (%s) and %s (%s) differ in shape", na,
                           inas_tensor_shape_str(a, sa, sizeof sa), nb, inas_tensor_shape_str(b, sb, sizeof sb));
        }
    return INAS_OK;
}

inas_status op_dtype_opts(inas_ctx *ctx, const char *op, const inas_tensor *const *ts, int n, char *opts, size_t len) {
    if (len) opts[0] = '\0';
    if (n < 1 || !ts[0]) return INAS_OK;
    inas_dtype d = ts[0]->dtype;
    for (int i = 1; i < n; i++)
        if (ts[i] && ts[i]->dtype != d)
            return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "operands mix %s and %s tensors", inas_dtype_name(d),
                           inas_dtype_name(ts[i]->dtype));
    if (d == INAS_DTYPE_F32) return INAS_OK;
    if (d != INAS_DTYPE_F16 || !takes_f16(op))
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s tensors are not supported", inas_dtype_name(d));
    if (ctx->half_math) {
        inas_status st = inas_precision_check(ctx, INAS_PRECISION_FP16);
        if (st != INAS_OK) return st;
    }
    snprintf(opts, len, ctx->half_math ? "-DDT_HALF=1 -DHALF_MATH=1" : "-DDT_HALF=1");
    return INAS_OK;
}
