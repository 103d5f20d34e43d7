/* conv.c - host side of the dense convolution ops (see conv.h); kernels in
 * cl/conv.cl, CLBlast SGEMM for float 1x1 convolutions when chosen. The
 * forward also takes F16 tensors (own kernels built with op_dtype_opts'
 * options); the backward ops are float only. */
#include "ops/conv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op_util.h"

#ifdef INAS_USE_CLBLAST
#include <clblast_c.h>
#endif

/* GEMM tile of the own 1x1 kernels: TM rows x 16*NV pixels per work-item;
 * backward-weight: WM x WC outputs per work-item. */
#define CONV_TM 8
#define CONV_NV 2
#define CONV_WM 4
#define CONV_WC 4
#define CONV_WSMALL 8 /* rows per work-item of the small-image backward-weight */
#define CONV_TCO 8 /* output channels per work-item of the direct kernel */
#define CONV_TCI 4 /* input channels per work-item of the direct backward-data kernel */

int inas_op_conv_have_clblast(void) {
#ifdef INAS_USE_CLBLAST
    return 1;
#else
    return 0;
#endif
}

inas_gemm_path inas_op_conv_gemm_resolve(inas_ctx *ctx, inas_gemm_path requested) {
    if (requested == INAS_GEMM_OWN || requested == INAS_GEMM_CLBLAST) return requested;
    const char *e = getenv("INAS_GEMM");
    if (e && *e) {
        if (strcmp(e, "own") == 0) return INAS_GEMM_OWN;
        if (strcmp(e, "clblast") == 0) return INAS_GEMM_CLBLAST;
        if (strcmp(e, "auto") != 0 && ctx) inas_log(ctx, INAS_LOG_WARN, "INAS_GEMM=%s ignored (own|clblast|auto)", e);
    }
    if (!ctx || inas_ctx_device(ctx)->type == INAS_DEVICE_CPU) return INAS_GEMM_OWN;
    return inas_op_conv_have_clblast() ? INAS_GEMM_CLBLAST : INAS_GEMM_OWN;
}

/* ---- shape checks ------------------------------------------------------------------ */

typedef struct conv_geom {
    int n, ci, h, w, co, k, ho, wo;
} conv_geom;

static int fits_int(const inas_tensor *t) {
    size_t end = t->offset;
    for (int d = 0; d < 4; d++) end += (size_t)(t->shape[d] > 0 ? t->shape[d] - 1 : 0) * t->stride[d];
    return end < (size_t)INT_MAX;
}

/* Activation-like tensor: dense rows (stride[2] == W, stride[3] == 1). */
static inas_status check_act(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *t) {
    inas_status st = op_check_tensor(ctx, op, name, t);
    if (st != INAS_OK) return st;
    char s[64];
    if (t->shape[2] > 1 && t->stride[2] != (size_t)t->shape[3])
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s (%s) has rows that are not dense (stride[2] %zu != W %d)",
                       name, inas_tensor_shape_str(t, s, sizeof s), t->stride[2], t->shape[3]);
    if (!fits_int(t))
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s (%s) spans more than 2^31 elements", name,
                       inas_tensor_shape_str(t, s, sizeof s));
    return INAS_OK;
}

/* x: [N, Ci, H, W]; w: [Co, Ci, K, K]; y: [N, Co, Ho, Wo]. */
static inas_status conv_check(inas_ctx *ctx, const char *op, const char *xn, const inas_tensor *x, const char *wn,
                              const inas_tensor *w, const char *yn, const inas_tensor *y, int stride, int pad,
                              conv_geom *g) {
    if (!ctx) return INAS_ERR_INVALID_ARG;
    inas_status st = check_act(ctx, op, xn, x);
    if (st == INAS_OK) st = op_check_tensor(ctx, op, wn, w);
    if (st == INAS_OK) st = check_act(ctx, op, yn, y);
    if (st != INAS_OK) return st;
    char sx[64], sw[64], sy[64];
    inas_tensor_shape_str(x, sx, sizeof sx);
    inas_tensor_shape_str(w, sw, sizeof sw);
    inas_tensor_shape_str(y, sy, sizeof sy);
    const int k = w->shape[2];
    if (w->shape[3] != k || k < 1 || k > 7)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s %s: kernel must be square KxK with K in 1..7", wn, sw);
    if (stride < 1 || stride > 4 || pad < 0 || pad >= k)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "stride %d pad %d with %s %s: need stride 1..4, 0 <= pad < K",
                       stride, pad, wn, sw);
    if ((w->shape[1] > 1 && w->stride[1] != (size_t)(k * k)) || (k > 1 && w->stride[2] != (size_t)k) ||
        (w->shape[0] > 1 && w->stride[0] < (size_t)w->shape[1] * k * k) || !fits_int(w))
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op,
                       "%s %s: needs strides [ldw >= C_in*K*K, K*K, K, 1] (a sub-block of a dense weight)", wn, sw);
    if (x->shape[1] != w->shape[1])
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s %s has %d channels but %s %s expects %d", xn, sx,
                       x->shape[1], wn, sw, w->shape[1]);
    const int ho = (x->shape[2] + 2 * pad - k) / stride + 1, wo = (x->shape[3] + 2 * pad - k) / stride + 1;
    if (x->shape[2] + 2 * pad < k || x->shape[3] + 2 * pad < k || ho < 1 || wo < 1)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s %s is smaller than the %dx%d kernel (pad %d)", xn, sx, k, k,
                       pad);
    if (y->shape[0] != x->shape[0] || y->shape[1] != w->shape[0] || y->shape[2] != ho || y->shape[3] != wo)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op,
                       "%s has shape %s, expected %dx%dx%dx%d for %s %s, %s %s, stride %d, pad %d", yn, sy,
                       x->shape[0], w->shape[0], ho, wo, xn, sx, wn, sw, stride, pad);
    if (x->shape[0] < 1 || w->shape[0] < 1 || w->shape[1] < 1)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "empty tensors: %s %s, %s %s", xn, sx, wn, sw);
    *g = (conv_geom){x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[0], k, ho, wo};
    return INAS_OK;
}

static inas_status check_vec(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *t, int c) {
    inas_status st = op_check_tensor(ctx, op, name, t);
    if (st != INAS_OK) return st;
    char s[64];
    if (inas_tensor_numel(t) != (size_t)c || !(inas_tensor_is_contiguous(t) || t->shape[3] == c))
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has shape %s, expected %d consecutive floats", name,
                       inas_tensor_shape_str(t, s, sizeof s), c);
    return INAS_OK;
}

static int is_gemm(const conv_geom *g, int stride, int pad) { return g->k == 1 && stride == 1 && pad == 0; }

static inas_status check_path(inas_ctx *ctx, const char *op, inas_gemm_path *path) {
    *path = inas_op_conv_gemm_resolve(ctx, *path);
    if (*path == INAS_GEMM_CLBLAST && !inas_op_conv_have_clblast())
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "the CLBlast path was asked for but this build has no CLBlast");
    return INAS_OK;
}

#ifdef INAS_USE_CLBLAST
static inas_status clblast_check(inas_ctx *ctx, const char *op, CLBlastStatusCode rc) {
    if (rc == CLBlastSuccess) return INAS_OK;
    return op_fail(ctx, INAS_ERR_OPENCL, op, "CLBlastSgemm failed with status %d", (int)rc);
}
#endif

/* ---- forward ----------------------------------------------------------------------- */

#ifdef INAS_USE_CLBLAST
/* Bias and activation after a CLBlast GEMM, in place. */
static inas_status bias_act(inas_ctx *ctx, const conv_geom *g, const inas_tensor *y, const inas_tensor *bias,
                            int act) {
    cl_kernel k;
    inas_status st = op_kernel(ctx, "conv.cl", "conv_bias_act", &k, "-DACT=%d -DHAS_BIAS=%d", act, bias ? 1 : 0);
    if (st != INAS_OK) return st;
    int P = g->ho * g->wo, yo = (int)y->offset, ldy = (int)y->stride[1], ybs = (int)y->stride[0];
    cl_mem bbuf = bias ? bias->buf : y->buf;
    int bo = bias ? (int)bias->offset : 0;
    st = op_args(ctx, k, 8, OP_ARG(g->co), OP_ARG(P), OP_ARG(y->buf), OP_ARG(yo), OP_ARG(ldy), OP_ARG(ybs),
                 OP_ARG(bbuf), OP_ARG(bo));
    if (st != INAS_OK) return st;
    size_t gl[3] = {(size_t)P, (size_t)g->co, (size_t)g->n};
    return op_run(ctx, k, 3, gl, NULL, "conv_bias_act");
}
#endif

/* C[n] = A(M x K) * B[n](K x P) (+ bias, act) with the own GEMM kernel;
 * dtype_opts: op_dtype_opts' options ("" for float). */
static inas_status own_gemm(inas_ctx *ctx, int trans_a, int M, int P, int K, int N, const inas_tensor *a, int lda,
                            const inas_tensor *b, const inas_tensor *c, const inas_tensor *bias, int act,
                            const char *dtype_opts, const char *label) {
    cl_kernel k;
    /* 16*CONV_NV pixels per work-item; 16 for images of 16..31 pixels; below that the small-image kernel */
    const int nv = P >= 16 * CONV_NV ? CONV_NV : 1, tn = 16 * nv, small = P < 16;
    inas_status st;
    if (small)
        st = op_kernel(ctx, "conv.cl", "conv1x1_gemm_small", &k, "-DSMALLP -DTM=%d -DACT=%d -DHAS_BIAS=%d%s%s%s",
                       CONV_TM, act, bias ? 1 : 0, trans_a ? " -DTRANS_A" : "", *dtype_opts ? " " : "", dtype_opts);
    else
        st = op_kernel(ctx, "conv.cl", "conv1x1_gemm", &k, "-DTM=%d -DNV=%d -DACT=%d -DHAS_BIAS=%d%s%s%s", CONV_TM,
                       nv, act, bias ? 1 : 0, trans_a ? " -DTRANS_A" : "", *dtype_opts ? " " : "", dtype_opts);
    if (st != INAS_OK) return st;
    int ao = (int)a->offset, bo = (int)b->offset, ldb = (int)b->stride[1], bbs = (int)b->stride[0];
    int co = (int)c->offset, ldc = (int)c->stride[1], cbs = (int)c->stride[0];
    cl_mem biasb = bias ? bias->buf : c->buf;
    int biaso = bias ? (int)bias->offset : 0;
    st = op_args(ctx, k, 16, OP_ARG(M), OP_ARG(P), OP_ARG(K), OP_ARG(a->buf), OP_ARG(ao), OP_ARG(lda), OP_ARG(b->buf),
                 OP_ARG(bo), OP_ARG(ldb), OP_ARG(bbs), OP_ARG(c->buf), OP_ARG(co), OP_ARG(ldc), OP_ARG(cbs),
                 OP_ARG(biasb), OP_ARG(biaso));
    if (st != INAS_OK) return st;
    size_t gl[3] = {(size_t)((M + CONV_TM - 1) / CONV_TM), (size_t)((P + tn - 1) / tn), (size_t)N};
    if (small) {
        gl[0] = trans_a ? (size_t)((M + 15) / 16) : gl[0];
        gl[1] = (size_t)P;
    }
    return op_run(ctx, k, 3, gl, NULL, label);
}

static inas_status direct_fwd(inas_ctx *ctx, const conv_geom *g, const inas_tensor *x, const inas_tensor *w,
                              const inas_tensor *bias, const inas_tensor *y, int stride, int pad, int act,
                              const char *dtype_opts) {
    cl_kernel k;
    inas_status st = op_kernel(ctx, "conv.cl", "conv_direct_fwd", &k,
                               "-DKSIZE=%d -DSTRIDE=%d -DPAD=%d -DTCO=%d -DACT=%d -DHAS_BIAS=%d%s%s", g->k, stride,
                               pad, CONV_TCO, act, bias ? 1 : 0, *dtype_opts ? " " : "", dtype_opts);
    if (st != INAS_OK) return st;
    int xo = (int)x->offset, xcs = (int)x->stride[1], xbs = (int)x->stride[0];
    int wo = (int)w->offset, ldw = (int)w->stride[0];
    int yo = (int)y->offset, ycs = (int)y->stride[1], ybs = (int)y->stride[0];
    cl_mem bb = bias ? bias->buf : y->buf;
    int bo = bias ? (int)bias->offset : 0;
    st = op_args(ctx, k, 19, OP_ARG(g->ci), OP_ARG(g->h), OP_ARG(g->w), OP_ARG(g->co), OP_ARG(g->ho), OP_ARG(g->wo),
                 OP_ARG(x->buf), OP_ARG(xo), OP_ARG(xcs), OP_ARG(xbs), OP_ARG(w->buf), OP_ARG(wo), OP_ARG(ldw),
                 OP_ARG(y->buf), OP_ARG(yo), OP_ARG(ycs), OP_ARG(ybs), OP_ARG(bb), OP_ARG(bo));
    if (st != INAS_OK) return st;
    size_t ntc = (size_t)((g->co + CONV_TCO - 1) / CONV_TCO);
    size_t gl[3] = {(size_t)((g->wo + 7) / 8), (size_t)g->ho, (size_t)g->n * ntc};
    return op_run(ctx, k, 3, gl, NULL, "conv_direct_fwd");
}

inas_status inas_op_conv2d_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *w, const inas_tensor *bias,
                               const inas_tensor *y, int stride, int pad, int act, inas_gemm_path path) {
    const char *op = "inas_op_conv2d_fwd";
    conv_geom g;
    inas_status st = conv_check(ctx, op, "x", x, "weight", w, "y", y, stride, pad, &g);
    if (st != INAS_OK) return st;
    if (act < 0 || act > 5) return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "unknown activation code %d", act);
    if (bias && (st = check_vec(ctx, op, "bias", bias, g.co)) != INAS_OK) return st;
    char dt[64];
    const inas_tensor *const operands[] = {x, w, y, bias};
    if ((st = op_dtype_opts(ctx, op, operands, bias ? 4 : 3, dt, sizeof dt)) != INAS_OK) return st;
    if (!is_gemm(&g, stride, pad)) return direct_fwd(ctx, &g, x, w, bias, y, stride, pad, act, dt);
    /* CLBlast SGEMM is float only: F16 runs the own kernels whatever the path */
    if (x->dtype != INAS_DTYPE_F32) path = INAS_GEMM_OWN;
    if ((st = check_path(ctx, op, &path)) != INAS_OK) return st;
    const int P = g.h * g.w;
    if (path == INAS_GEMM_OWN)
        return own_gemm(ctx, 0, g.co, P, g.ci, g.n, w, (int)w->stride[0], x, y, bias, act, dt, "conv1x1_fwd");
#ifdef INAS_USE_CLBLAST
    cl_command_queue q = inas_ctx_queue(ctx);
    for (int n = 0; n < g.n; n++) {
        CLBlastStatusCode rc = CLBlastSgemm(
            CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, (size_t)g.co, (size_t)P, (size_t)g.ci, 1.0f,
            w->buf, w->offset, w->stride[0], x->buf, x->offset + (size_t)n * x->stride[0], x->stride[1], 0.0f, y->buf,
            y->offset + (size_t)n * y->stride[0], y->stride[1], &q, NULL);
        if ((st = clblast_check(ctx, op, rc)) != INAS_OK) return st;
    }
    if (bias || act) return bias_act(ctx, &g, y, bias, act);
    return INAS_OK;
#else
    return INAS_ERR_INTERNAL;
#endif
}

/* ---- backward-data ------------------------------------------------------------------- */

inas_status inas_op_conv2d_bwd_data(inas_ctx *ctx, const inas_tensor *dy, const inas_tensor *w, const inas_tensor *dx,
                                    int stride, int pad, inas_gemm_path path) {
    const char *op = "inas_op_conv2d_bwd_data";
    conv_geom g;
    inas_status st = conv_check(ctx, op, "dx", dx, "weight", w, "dy", dy, stride, pad, &g);
    if (st != INAS_OK) return st;
    if (is_gemm(&g, stride, pad)) {
        if ((st = check_path(ctx, op, &path)) != INAS_OK) return st;
        const int P = g.h * g.w;
        if (path == INAS_GEMM_OWN)
            return own_gemm(ctx, 1, g.ci, P, g.co, g.n, w, (int)w->stride[0], dy, dx, NULL, 0, "", "conv1x1_bwd_data");
#ifdef INAS_USE_CLBLAST
        cl_command_queue q = inas_ctx_queue(ctx);
        for (int n = 0; n < g.n; n++) {
            CLBlastStatusCode rc =
                CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo, (size_t)g.ci, (size_t)P,
                             (size_t)g.co, 1.0f, w->buf, w->offset, w->stride[0], dy->buf,
                             dy->offset + (size_t)n * dy->stride[0], dy->stride[1], 0.0f, dx->buf,
                             dx->offset + (size_t)n * dx->stride[0], dx->stride[1], &q, NULL);
            if ((st = clblast_check(ctx, op, rc)) != INAS_OK) return st;
        }
        return INAS_OK;
#else
        return INAS_ERR_INTERNAL;
#endif
    }
    cl_kernel k;
    st = op_kernel(ctx, "conv.cl", "conv_direct_bwd_data", &k, "-DKSIZE=%d -DSTRIDE=%d -DPAD=%d -DTCO=%d -DTCI=%d", g.k,
                   stride, pad, CONV_TCO, CONV_TCI);
    if (st != INAS_OK) return st;
    int go = (int)dy->offset, gcs = (int)dy->stride[1], gbs = (int)dy->stride[0];
    int wo = (int)w->offset, ldw = (int)w->stride[0];
    int xo = (int)dx->offset, xcs = (int)dx->stride[1], xbs = (int)dx->stride[0];
    st = op_args(ctx, k, 17, OP_ARG(g.ci), OP_ARG(g.h), OP_ARG(g.w), OP_ARG(g.co), OP_ARG(g.ho), OP_ARG(g.wo),
                 OP_ARG(dy->buf), OP_ARG(go), OP_ARG(gcs), OP_ARG(gbs), OP_ARG(w->buf), OP_ARG(wo), OP_ARG(ldw),
                 OP_ARG(dx->buf), OP_ARG(xo), OP_ARG(xcs), OP_ARG(xbs));
    if (st != INAS_OK) return st;
    size_t gl[3] = {(size_t)((g.w + 8 * stride - 1) / (8 * stride)), (size_t)g.h,
                    (size_t)g.n * (size_t)((g.ci + CONV_TCI - 1) / CONV_TCI)};
    return op_run(ctx, k, 3, gl, NULL, "conv_direct_bwd_data");
}

/* ---- backward-weight ----------------------------------------------------------------- */

static inas_status direct_wgrad(inas_ctx *ctx, const conv_geom *g, const inas_tensor *x, const inas_tensor *dy,
                                const inas_tensor *dw, int stride, int pad) {
    cl_kernel kp, kr;
    inas_status st = op_kernel(ctx, "conv.cl", "conv_direct_wgrad_part", &kp, "-DKSIZE=%d -DSTRIDE=%d -DPAD=%d -DTCO=%d",
                               g->k, stride, pad, CONV_TCO);
    if (st == INAS_OK)
        st = op_kernel(ctx, "conv.cl", "conv_direct_wgrad_reduce", &kr, "-DKSIZE=%d -DSTRIDE=%d -DPAD=%d -DTCO=%d", g->k,
                       stride, pad, CONV_TCO);
    if (st != INAS_OK) return st;
    /* enough chunks of output rows for ~2048 work-items, rows of >= ~4096 outputs each */
    const int rows = g->n * g->ho, kk = g->k * g->k;
    int nchunk = (2048 + g->co * g->ci - 1) / (g->co * g->ci);
    int min_rows = (4096 + g->wo - 1) / g->wo;
    if (nchunk > rows / min_rows) nchunk = rows / min_rows;
    if (nchunk < 1) nchunk = 1;
    int rpc = (rows + nchunk - 1) / nchunk;
    nchunk = (rows + rpc - 1) / rpc;
    inas_tensor part;
    st = inas_tensor_alloc(ctx, &part, 1, 1, 1, nchunk * g->co * g->ci * kk);
    if (st != INAS_OK) return st;
    int xo = (int)x->offset, xcs = (int)x->stride[1], xbs = (int)x->stride[0];
    int go = (int)dy->offset, gcs = (int)dy->stride[1], gbs = (int)dy->stride[0];
    st = op_args(ctx, kp, 17, OP_ARG(g->ci), OP_ARG(g->h), OP_ARG(g->w), OP_ARG(g->co), OP_ARG(g->ho), OP_ARG(g->wo),
                 OP_ARG(g->n), OP_ARG(rpc), OP_ARG(x->buf), OP_ARG(xo), OP_ARG(xcs), OP_ARG(xbs), OP_ARG(dy->buf),
                 OP_ARG(go), OP_ARG(gcs), OP_ARG(gbs), OP_ARG(part.buf));
    size_t gl[3] = {(size_t)g->ci, (size_t)g->co, (size_t)nchunk};
    if (st == INAS_OK) st = op_run(ctx, kp, 3, gl, NULL, "conv_direct_wgrad");
    int dwo = (int)dw->offset, ldw = (int)dw->stride[0];
    if (st == INAS_OK)
        st = op_args(ctx, kr, 7, OP_ARG(g->ci), OP_ARG(g->co), OP_ARG(nchunk), OP_ARG(part.buf), OP_ARG(dw->buf),
                     OP_ARG(dwo), OP_ARG(ldw));
    size_t gr[2] = {(size_t)(g->ci * kk), (size_t)g->co};
    if (st == INAS_OK) st = op_run(ctx, kr, 2, gr, NULL, "conv_direct_wgrad_reduce");
    /* the in-order queue runs any later user of this buffer after the kernels above */
    inas_tensor_free(ctx, &part);
    return st;
}

inas_status inas_op_conv2d_bwd_weight(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *dy, const inas_tensor *dw,
                                      int stride, int pad, inas_gemm_path path) {
    const char *op = "inas_op_conv2d_bwd_weight";
    conv_geom g;
    inas_status st = conv_check(ctx, op, "x", x, "dweight", dw, "dy", dy, stride, pad, &g);
    if (st != INAS_OK) return st;
    if (!is_gemm(&g, stride, pad)) return direct_wgrad(ctx, &g, x, dy, dw, stride, pad);
    if ((st = check_path(ctx, op, &path)) != INAS_OK) return st;
    const int P = g.h * g.w;
    if (path == INAS_GEMM_OWN) {
        cl_kernel k;
        const int small = P < 16;
        if (small)
            st = op_kernel(ctx, "conv.cl", "conv1x1_wgrad_small", &k, "-DWSMALL=%d", CONV_WSMALL);
        else
            st = op_kernel(ctx, "conv.cl", "conv1x1_wgrad", &k, "-DWM=%d -DWC=%d", CONV_WM, CONV_WC);
        if (st != INAS_OK) return st;
        int go = (int)dy->offset, ldg = (int)dy->stride[1], gbs = (int)dy->stride[0];
        int xo = (int)x->offset, ldx = (int)x->stride[1], xbs = (int)x->stride[0];
        int dwo = (int)dw->offset, ldw = (int)dw->stride[0];
        st = op_args(ctx, k, 15, OP_ARG(g.co), OP_ARG(g.ci), OP_ARG(P), OP_ARG(g.n), OP_ARG(dy->buf), OP_ARG(go),
                     OP_ARG(ldg), OP_ARG(gbs), OP_ARG(x->buf), OP_ARG(xo), OP_ARG(ldx), OP_ARG(xbs), OP_ARG(dw->buf),
                     OP_ARG(dwo), OP_ARG(ldw));
        if (st != INAS_OK) return st;
        size_t gl[2] = {(size_t)((g.ci + CONV_WC - 1) / CONV_WC), (size_t)((g.co + CONV_WM - 1) / CONV_WM)};
        if (small) {
            gl[0] = (size_t)((g.ci + 15) / 16);
            gl[1] = (size_t)((g.co + CONV_WSMALL - 1) / CONV_WSMALL);
        }
        return op_run(ctx, k, 2, gl, NULL, "conv1x1_bwd_weight");
    }
#ifdef INAS_USE_CLBLAST
    cl_command_queue q = inas_ctx_queue(ctx);
    for (int n = 0; n < g.n; n++) {
        CLBlastStatusCode rc = CLBlastSgemm(
            CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, (size_t)g.co, (size_t)g.ci, (size_t)P, 1.0f,
            dy->buf, dy->offset + (size_t)n * dy->stride[0], dy->stride[1], x->buf,
            x->offset + (size_t)n * x->stride[0], x->stride[1], 1.0f, dw->buf, dw->offset, dw->stride[0], &q, NULL);
        if ((st = clblast_check(ctx, op, rc)) != INAS_OK) return st;
    }
    return INAS_OK;
#else
    return INAS_ERR_INTERNAL;
#endif
}

inas_status inas_op_conv2d_bwd_bias(inas_ctx *ctx, const inas_tensor *dy, const inas_tensor *db) {
    const char *op = "inas_op_conv2d_bwd_bias";
    if (!ctx) return INAS_ERR_INVALID_ARG;
    inas_status st = check_act(ctx, op, "dy", dy);
    if (st != INAS_OK) return st;
    if ((st = check_vec(ctx, op, "dbias", db, dy->shape[1])) != INAS_OK) return st;
    cl_kernel k;
    if ((st = op_kernel(ctx, "conv.cl", "conv_bias_grad", &k, "%s", "")) != INAS_OK) return st;
    int C = dy->shape[1], P = dy->shape[2] * dy->shape[3], N = dy->shape[0];
    int go = (int)dy->offset, ldg = (int)dy->stride[1], gbs = (int)dy->stride[0], dbo = (int)db->offset;
    st = op_args(ctx, k, 9, OP_ARG(C), OP_ARG(P), OP_ARG(N), OP_ARG(dy->buf), OP_ARG(go), OP_ARG(ldg), OP_ARG(gbs),
                 OP_ARG(db->buf), OP_ARG(dbo));
    if (st != INAS_OK) return st;
    size_t gl[1] = {(size_t)C};
    return op_run(ctx, k, 1, gl, NULL, "conv_bias_grad");
}
