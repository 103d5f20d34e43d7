/* dwconv.c - host side of the depthwise convolution and SMSU transform
 * kernels (cl/dwconv.cl, cl/smsu.cl); see dwconv.h. The forward also takes
 * F16 tensors (op_dtype_opts); the backward ops and SMSU are float only. */
#include "ops/dwconv.h"

#include <limits.h>
#include <stdio.h>

#include "ops/op_util.h"

int inas_dwconv_out_size(int h, int k, int stride, int dilation) {
    if (h < 1 || k < 1 || k % 2 == 0 || k > INAS_DWCONV_KMAX || stride < 1 || stride > 2 || dilation < 1 ||
        dilation > 4)
        return -1;
    int p = k / 2 * dilation;
    return (h + 2 * p - (k - 1) * dilation - 1) / stride + 1;
}

/* ---- checks ------------------------------------------------------------------------- */

static inas_status check_params(inas_ctx *ctx, const char *op, int k, int stride, int dilation) {
    if (k < 1 || k % 2 == 0 || k > INAS_DWCONV_KMAX)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "kernel size %d is not supported (odd, 1..%d)", k,
                       INAS_DWCONV_KMAX);
    if (stride != 1 && stride != 2)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "stride %d is not supported (1 or 2)", stride);
    if (dilation < 1 || dilation > 4)
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "dilation %d is not supported (1..4)", dilation);
    return INAS_OK;
}

/* Elements from t's first element to its last, inclusive. */
static size_t span_of(const inas_tensor *t) {
    size_t s = 1;
    for (int d = 0; d < 4; d++)
        if (t->shape[d] > 1) s += (size_t)(t->shape[d] - 1) * t->stride[d];
    return s;
}

/* Offsets and strides are passed to the kernels as int. */
static inas_status check_int_range(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *t) {
    if (t->offset + span_of(t) > (size_t)INT_MAX) {
        char s[64];
        return op_fail(ctx, INAS_ERR_UNSUPPORTED, op, "%s (%s) spans more than 2^31 elements", name,
                       inas_tensor_shape_str(t, s, sizeof s));
    }
    return INAS_OK;
}

static inas_status check_act(inas_ctx *ctx, const char *op, const inas_tensor *x, int act) {
    if (act < 0 || act > 5) {
        char s[64];
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "x %s: unknown activation code %d (0..5)", inas_tensor_shape_str(x, s, sizeof s), act);
    }
    return INAS_OK;
}

/* w: [Cw, 1, Kw, Kw] with Cw >= C, Kw >= k, Kw - k even. */
static inas_status check_weight(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *w, int C, int k,
                                const inas_tensor *act, const char *act_name) {
    inas_status st = op_check_tensor(ctx, op, name, w);
    if (st != INAS_OK) return st;
    char sw[64], sx[64];
    inas_tensor_shape_str(w, sw, sizeof sw);
    inas_tensor_shape_str(act, sx, sizeof sx);
    if (w->shape[1] != 1 || w->shape[2] != w->shape[3] || w->shape[0] < C || w->shape[2] < k ||
        (w->shape[2] - k) % 2 != 0)
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op,
                       "%s has shape %s; for %s %s and kernel %d it must be [Cw,1,Kw,Kw] with Cw >= %d, Kw >= %d "
                       "and Kw - %d even (centre crop)",
                       name, sw, act_name, sx, k, C, k, k);
    return check_int_range(ctx, op, name, w);
}

/* The crop window of w: offset of tap (0, 0) of channel 0, channel and row strides. */
static void weight_window(const inas_tensor *w, int k, int *off, int *sc, int *sh) {
    int o = (w->shape[2] - k) / 2;
    *off = (int)(w->offset + (size_t)o * w->stride[2] + (size_t)o);
    *sc = (int)w->stride[0];
    *sh = (int)w->stride[2];
}

/* x-like tensor: the usual 5 ints (offset, n, c, h strides, span). */
typedef struct dw_view {
    int off, sn, sc, sh, span;
} dw_view;
static dw_view view_of(const inas_tensor *t) {
    dw_view v = {(int)t->offset, (int)t->stride[0], (int)t->stride[1], (int)t->stride[2], (int)span_of(t)};
    return v;
}

/* ---- launch geometry ------------------------------------------------------------------ */

static int is_cpu(inas_ctx *ctx) { return inas_ctx_device(ctx)->type == INAS_DEVICE_CPU; }
static int compute_units(inas_ctx *ctx) {
    unsigned cu = inas_ctx_device(ctx)->compute_units;
    return cu ? (int)cu : 1;
}

/* Vector width and row block. 8-wide vectors keep border segments few at the
 * space's widths (64, 32, 20, ...); 4 output rows per block share their input
 * rows (measured on PoCL/Zen 4: R 4 beats 2 by ~1.5x at stride 1). */
static int pick_vw(int k, int stride, int wo) {
    (void)k;
    (void)stride;
    return wo >= 8 ? 8 : 4;
}
static int pick_r(int k, int stride) {
    (void)k;
    return stride == 2 ? 2 : 4;
}

/* Work split for kernels whose dimension 0 is a band of `rows` rows (in
 * multiples of `step`) and dimension 1 the N*C planes. */
static void plane_geom(inas_ctx *ctx, int nplanes, int rows, int step, size_t global[2], size_t local[2],
                       int *rows_per_wi, int *use_local) {
    int bands;
    if (is_cpu(ctx)) {
        /* a work-item walks a whole plane unless there are too few planes */
        int want = 8 * compute_units(ctx);
        int maxb = (rows + step - 1) / step;
        bands = nplanes >= want ? 1 : (want + nplanes - 1) / nplanes;
        if (bands > maxb) bands = maxb;
        int rpw = (rows + bands - 1) / bands;
        rpw = (rpw + step - 1) / step * step;
        *rows_per_wi = rpw;
        bands = (rows + rpw - 1) / rpw;
        int lp = nplanes * bands / (4 * compute_units(ctx));
        if (lp < 1) lp = 1;
        if (lp > 16) lp = 16;
        local[0] = 1;
        local[1] = (size_t)lp;
        *use_local = 1;
    } else {
        *rows_per_wi = step;
        bands = (rows + step - 1) / step;
        *use_local = 0;
    }
    global[0] = (size_t)bands;
    global[1] = (size_t)nplanes;
}

/* ---- forward and backward-data -------------------------------------------------------- */

/* y = act(conv(x, w (flipped when flip)) + bias) with the forward kernel,
 * built for the operands' element type (op: the name for op_dtype_opts). */
static inas_status run_fwd(inas_ctx *ctx, const char *op, const inas_tensor *x, const inas_tensor *w, int k,
                           int stride, int dilation, int flip, const inas_tensor *bias, int act,
                           const inas_tensor *y, const char *label) {
    int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3], Ho = y->shape[2], Wo = y->shape[3];
    int vw = pick_vw(k, stride, Wo), r = pick_r(k, stride);
    const inas_tensor *operands[] = {x, w, bias, y};
    char dt[64];
    inas_status st = op_dtype_opts(ctx, op, operands, 4, dt, sizeof dt);
    if (st != INAS_OK) return st;
    cl_kernel kern;
    st = op_kernel(ctx, "dwconv.cl", "dw_fwd", &kern, "-DK=%d -DS=%d -DD=%d -DVW=%d -DR=%d%s%s", k, stride, dilation,
                   vw, r, dt[0] ? " " : "", dt);
    if (st != INAS_OK) return st;
    dw_view xv = view_of(x), yv = view_of(y);
    int w_off, w_sc, w_sh;
    weight_window(w, k, &w_off, &w_sc, &w_sh);
    int has_bias = bias != NULL, b_off = bias ? (int)bias->offset : 0;
    cl_mem bbuf = bias ? bias->buf : x->buf;
    int nplanes = N * C, rows_per_wi, use_local;
    size_t global[2], local[2];
    plane_geom(ctx, nplanes, Ho, r, global, local, &rows_per_wi, &use_local);
    st = op_args(ctx, kern, 27, OP_ARG(x->buf), OP_ARG(xv.off), OP_ARG(xv.sn), OP_ARG(xv.sc), OP_ARG(xv.sh),
                 OP_ARG(xv.span), OP_ARG(w->buf), OP_ARG(w_off), OP_ARG(w_sc), OP_ARG(w_sh), OP_ARG(flip),
                 OP_ARG(bbuf), OP_ARG(b_off), OP_ARG(has_bias), OP_ARG(act), OP_ARG(y->buf), OP_ARG(yv.off),
                 OP_ARG(yv.sn), OP_ARG(yv.sc), OP_ARG(yv.sh), OP_ARG(C), OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo),
                 OP_ARG(nplanes), OP_ARG(rows_per_wi));
    if (st != INAS_OK) return st;
    return op_run(ctx, kern, 2, global, use_local ? local : NULL, label);
}

inas_status inas_op_dwconv_fwd(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *w, int k, int stride,
                               int dilation, const inas_tensor *bias, int act, const inas_tensor *y) {
    const char *op = "inas_op_dwconv_fwd";
    inas_status st = check_params(ctx, op, k, stride, dilation);
    if (st == INAS_OK) st = op_check_tensor(ctx, op, "x", x);
    if (st != INAS_OK) return st;
    int N = x->shape[0], C = x->shape[1];
    int Ho = inas_dwconv_out_size(x->shape[2], k, stride, dilation);
    int Wo = inas_dwconv_out_size(x->shape[3], k, stride, dilation);
    if (Ho < 1 || Wo < 1) {
        char s[64];
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "x has shape %s: empty input", inas_tensor_shape_str(x, s, sizeof s));
    }
    st = op_check_shape(ctx, op, "y", y, N, C, Ho, Wo);
    if (st == INAS_OK) st = check_weight(ctx, op, "w", w, C, k, x, "x");
    if (st == INAS_OK) st = check_act(ctx, op, x, act);
    if (st == INAS_OK) st = check_int_range(ctx, op, "x", x);
    if (st == INAS_OK) st = check_int_range(ctx, op, "y", y);
    if (st == INAS_OK && bias) {
        st = op_check_tensor(ctx, op, "bias", bias);
        if (st == INAS_OK && (!inas_tensor_is_contiguous(bias) || inas_tensor_numel(bias) < (size_t)C)) {
            char sb[64], sx[64];
            return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "bias %s must be contiguous with at least %d values for x %s",
                           inas_tensor_shape_str(bias, sb, sizeof sb), C, inas_tensor_shape_str(x, sx, sizeof sx));
        }
    }
    if (st != INAS_OK) return st;
    return run_fwd(ctx, op, x, w, k, stride, dilation, 0, bias, act, y, "dwconv_fwd");
}

inas_status inas_op_dwconv_bwd_data(inas_ctx *ctx, const inas_tensor *dy, const inas_tensor *w, int k, int stride,
                                    int dilation, const inas_tensor *dx) {
    const char *op = "inas_op_dwconv_bwd_data";
    inas_status st = check_params(ctx, op, k, stride, dilation);
    if (st == INAS_OK) st = op_check_tensor(ctx, op, "dy", dy);
    if (st == INAS_OK) st = op_check_tensor(ctx, op, "dx", dx);
    if (st != INAS_OK) return st;
    int N = dx->shape[0], C = dx->shape[1], H = dx->shape[2], W = dx->shape[3];
    int Ho = inas_dwconv_out_size(H, k, stride, dilation), Wo = inas_dwconv_out_size(W, k, stride, dilation);
    if (Ho < 1 || Wo < 1 || dy->shape[0] != N || dy->shape[1] != C || dy->shape[2] != Ho || dy->shape[3] != Wo) {
        char sy[64], sx[64];
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op,
                       "dy %s does not match dx %s for kernel %d, stride %d, dilation %d (expected dy %dx%dx%dx%d)",
                       inas_tensor_shape_str(dy, sy, sizeof sy), inas_tensor_shape_str(dx, sx, sizeof sx), k, stride,
                       dilation, N, C, Ho, Wo);
    }
    st = check_weight(ctx, op, "w", w, C, k, dx, "dx");
    if (st == INAS_OK) st = check_int_range(ctx, op, "dy", dy);
    if (st == INAS_OK) st = check_int_range(ctx, op, "dx", dx);
    if (st != INAS_OK) return st;
    if (stride == 1) return run_fwd(ctx, op, dy, w, k, 1, dilation, 1, NULL, 0, dx, "dwconv_bwd_data");

    /* stride 2: phase-split gather over pairs of dx rows */
    int vw = pick_vw(k, 2, Wo), r = pick_r(k, 2);
    cl_kernel kern;
    st = op_kernel(ctx, "dwconv.cl", "dw_bwd_data_s2", &kern, "-DK=%d -DS=%d -DD=%d -DVW=%d -DR=%d", k, 2, dilation,
                   vw, r);
    if (st != INAS_OK) return st;
    dw_view yv = view_of(dy), xv = view_of(dx);
    int w_off, w_sc, w_sh;
    weight_window(w, k, &w_off, &w_sc, &w_sh);
    int nplanes = N * C, rows_per_wi, use_local;
    size_t global[2], local[2];
    plane_geom(ctx, nplanes, H, 2, global, local, &rows_per_wi, &use_local);
    st = op_args(ctx, kern, 22, OP_ARG(dy->buf), OP_ARG(yv.off), OP_ARG(yv.sn), OP_ARG(yv.sc), OP_ARG(yv.sh),
                 OP_ARG(yv.span), OP_ARG(w->buf), OP_ARG(w_off), OP_ARG(w_sc), OP_ARG(w_sh), OP_ARG(dx->buf),
                 OP_ARG(xv.off), OP_ARG(xv.sn), OP_ARG(xv.sc), OP_ARG(xv.sh), OP_ARG(C), OP_ARG(H), OP_ARG(W),
                 OP_ARG(Ho), OP_ARG(Wo), OP_ARG(nplanes), OP_ARG(rows_per_wi));
    if (st != INAS_OK) return st;
    return op_run(ctx, kern, 2, global, use_local ? local : NULL, "dwconv_bwd_data");
}

/* ---- backward-weight ------------------------------------------------------------------ */

inas_status inas_op_dwconv_bwd_weight(inas_ctx *ctx, const inas_tensor *x, const inas_tensor *dy, int k, int stride,
                                      int dilation, const inas_tensor *dw) {
    const char *op = "inas_op_dwconv_bwd_weight";
    inas_status st = check_params(ctx, op, k, stride, dilation);
    if (st == INAS_OK) st = op_check_tensor(ctx, op, "x", x);
    if (st != INAS_OK) return st;
    int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int Ho = inas_dwconv_out_size(H, k, stride, dilation), Wo = inas_dwconv_out_size(W, k, stride, dilation);
    st = op_check_shape(ctx, op, "dy", dy, N, C, Ho, Wo);
    if (st == INAS_OK) st = check_weight(ctx, op, "dw", dw, C, k, x, "x");
    if (st == INAS_OK) st = check_int_range(ctx, op, "x", x);
    if (st == INAS_OK) st = check_int_range(ctx, op, "dy", dy);
    if (st != INAS_OK) return st;

    int vw = pick_vw(k, stride, Wo);
    cl_kernel kern;
    st = op_kernel(ctx, "dwconv.cl", "dw_bwd_weight", &kern, "-DK=%d -DS=%d -DD=%d -DVW=%d -DR=%d", k, stride,
                   dilation, vw, pick_r(k, stride));
    if (st != INAS_OK) return st;
    /* chunks of the batch: enough work-items for the device */
    int want = is_cpu(ctx) ? 8 * compute_units(ctx) : 64 * compute_units(ctx);
    /* KB of dwconv.cl: at most ~24 accumulators, blocks of balanced sizes */
    int kbmax = 24 / k < 1 ? 1 : 24 / k > k ? k : 24 / k;
    int kb = (k + (k + kbmax - 1) / kbmax - 1) / ((k + kbmax - 1) / kbmax);
    int nkb = (k + kb - 1) / kb;
    int nchunk = nkb * C >= want ? 1 : (want + nkb * C - 1) / (nkb * C);
    if (nchunk > N) nchunk = N;
    int n_per = (N + nchunk - 1) / nchunk;
    nchunk = (N + n_per - 1) / n_per;
    inas_tensor part = {0};
    if (nchunk > 1) {
        st = inas_tensor_alloc(ctx, &part, 1, 1, 1, nchunk * C * k * k);
        if (st != INAS_OK) return st;
    }
    cl_mem pbuf = nchunk > 1 ? part.buf : dw->buf;
    dw_view xv = view_of(x), yv = view_of(dy);
    int w_off, w_sc, w_sh;
    weight_window(dw, k, &w_off, &w_sc, &w_sh);
    st = op_args(ctx, kern, 25, OP_ARG(x->buf), OP_ARG(xv.off), OP_ARG(xv.sn), OP_ARG(xv.sc), OP_ARG(xv.sh),
                 OP_ARG(xv.span), OP_ARG(dy->buf), OP_ARG(yv.off), OP_ARG(yv.sn), OP_ARG(yv.sc), OP_ARG(yv.sh),
                 OP_ARG(yv.span), OP_ARG(dw->buf), OP_ARG(w_off), OP_ARG(w_sc), OP_ARG(w_sh), OP_ARG(pbuf), OP_ARG(N),
                 OP_ARG(C), OP_ARG(H), OP_ARG(W), OP_ARG(Ho), OP_ARG(Wo), OP_ARG(nchunk), OP_ARG(n_per));
    size_t global[3] = {(size_t)nkb, (size_t)C, (size_t)nchunk};
    size_t local[3] = {1, 1, 1};
    if (is_cpu(ctx)) {
        int lc = C * nchunk / (4 * compute_units(ctx));
        local[1] = lc < 1 ? 1 : lc > 8 ? 8 : (size_t)lc;
    }
    if (st == INAS_OK) st = op_run(ctx, kern, 3, global, is_cpu(ctx) ? local : NULL, "dwconv_bwd_weight");
    if (st == INAS_OK && nchunk > 1) {
        cl_kernel red;
        st = op_kernel(ctx, "dwconv.cl", "dw_bwd_weight_reduce", &red, "-DK=%d -DS=%d -DD=%d -DVW=%d -DR=%d", k,
                       stride, dilation, vw, pick_r(k, stride));
        if (st == INAS_OK)
            st = op_args(ctx, red, 7, OP_ARG(part.buf), OP_ARG(nchunk), OP_ARG(C), OP_ARG(dw->buf), OP_ARG(w_off),
                         OP_ARG(w_sc), OP_ARG(w_sh));
        size_t g2[2] = {(size_t)(k * k), (size_t)C};
        if (st == INAS_OK) st = op_run(ctx, red, 2, g2, NULL, "dwconv_bwd_weight_reduce");
    }
    if (nchunk > 1) inas_tensor_free(ctx, &part); /* in-order queue: later users run after the kernels */
    return st;
}

/* ---- SMSU transform ---------------------------------------------------------------------- */

static inas_status check_m(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *m, int k) {
    inas_status st = op_check_tensor(ctx, op, name, m);
    if (st != INAS_OK) return st;
    size_t k2 = (size_t)k * k;
    if (!inas_tensor_is_contiguous(m) || inas_tensor_numel(m) != k2 * k2) {
        char s[64];
        return op_fail(ctx, INAS_ERR_INVALID_ARG, op, "%s has shape %s; kernel %d needs a contiguous %zux%zu matrix",
                       name, inas_tensor_shape_str(m, s, sizeof s), k, k2, k2);
    }
    return check_int_range(ctx, op, name, m);
}

/* wt-like [C, 1, k, k] (C from the tensor). */
static inas_status check_wt(inas_ctx *ctx, const char *op, const char *name, const inas_tensor *wt, int k) {
    inas_status st = op_check_shape(ctx, op, name, wt, -1, 1, k, k);
    if (st == INAS_OK) st = check_int_range(ctx, op, name, wt);
    return st;
}

inas_status inas_op_smsu_fwd(inas_ctx *ctx, const inas_tensor *w, int k, const inas_tensor *m,
                             const inas_tensor *wt) {
    const char *op = "inas_op_smsu_fwd";
    inas_status st = check_params(ctx, op, k, 1, 1);
    if (st == INAS_OK) st = check_wt(ctx, op, "wt", wt, k);
    if (st == INAS_OK) st = check_weight(ctx, op, "w", w, wt->shape[0], k, wt, "wt");
    if (st == INAS_OK) st = check_m(ctx, op, "m", m, k);
    if (st != INAS_OK) return st;
    int C = wt->shape[0], w_off, w_sc, w_sh, p_off, p_sc, p_sh, m_off = (int)m->offset;
    weight_window(w, k, &w_off, &w_sc, &w_sh);
    weight_window(wt, k, &p_off, &p_sc, &p_sh);
    cl_kernel kern;
    st = op_kernel(ctx, "smsu.cl", "smsu_fwd", &kern, "-DK=%d", k);
    if (st == INAS_OK)
        st = op_args(ctx, kern, 11, OP_ARG(w->buf), OP_ARG(w_off), OP_ARG(w_sc), OP_ARG(w_sh), OP_ARG(m->buf),
                     OP_ARG(m_off), OP_ARG(wt->buf), OP_ARG(p_off), OP_ARG(p_sc), OP_ARG(p_sh), OP_ARG(C));
    size_t global[1] = {(size_t)(C + 7) / 8};
    if (st == INAS_OK) st = op_run(ctx, kern, 1, global, NULL, "smsu_fwd");
    return st;
}

inas_status inas_op_smsu_bwd(inas_ctx *ctx, const inas_tensor *w, int k, const inas_tensor *m,
                             const inas_tensor *dwt, const inas_tensor *dm, const inas_tensor *dw) {
    const char *op = "inas_op_smsu_bwd";
    inas_status st = check_params(ctx, op, k, 1, 1);
    if (st == INAS_OK) st = check_wt(ctx, op, "dwt", dwt, k);
    if (st == INAS_OK) st = check_weight(ctx, op, "w", w, dwt->shape[0], k, dwt, "dwt");
    if (st == INAS_OK) st = check_m(ctx, op, "m", m, k);
    if (st == INAS_OK && dm) st = check_m(ctx, op, "dm", dm, k);
    if (st == INAS_OK && dw) st = check_weight(ctx, op, "dw", dw, dwt->shape[0], k, dwt, "dwt");
    if (st != INAS_OK) return st;
    int C = dwt->shape[0], k2 = k * k, w_off, w_sc, w_sh, p_off, p_sc, p_sh, m_off = (int)m->offset;
    weight_window(w, k, &w_off, &w_sc, &w_sh);
    weight_window(dwt, k, &p_off, &p_sc, &p_sh);
    cl_kernel kern;
    if (dm) {
        int dm_off = (int)dm->offset;
        st = op_kernel(ctx, "smsu.cl", "smsu_bwd_m", &kern, "-DK=%d", k);
        if (st == INAS_OK)
            st = op_args(ctx, kern, 11, OP_ARG(w->buf), OP_ARG(w_off), OP_ARG(w_sc), OP_ARG(w_sh), OP_ARG(dwt->buf),
                         OP_ARG(p_off), OP_ARG(p_sc), OP_ARG(p_sh), OP_ARG(dm->buf), OP_ARG(dm_off), OP_ARG(C));
        size_t global[2] = {(size_t)(k2 + 7) / 8, (size_t)k};
        if (st == INAS_OK) st = op_run(ctx, kern, 2, global, NULL, "smsu_bwd_m");
        if (st != INAS_OK) return st;
    }
    if (dw) {
        int d_off, d_sc, d_sh;
        weight_window(dw, k, &d_off, &d_sc, &d_sh);
        st = op_kernel(ctx, "smsu.cl", "smsu_bwd_w", &kern, "-DK=%d", k);
        if (st == INAS_OK)
            st = op_args(ctx, kern, 11, OP_ARG(m->buf), OP_ARG(m_off), OP_ARG(dwt->buf), OP_ARG(p_off), OP_ARG(p_sc),
                         OP_ARG(p_sh), OP_ARG(dw->buf), OP_ARG(d_off), OP_ARG(d_sc), OP_ARG(d_sh), OP_ARG(C));
        size_t global[1] = {(size_t)(C + 7) / 8};
        if (st == INAS_OK) st = op_run(ctx, kern, 1, global, NULL, "smsu_bwd_w");
    }
    return st;
}
