/* engine.c - the inference engine of exported models: the network of an
 * architecture is planned once per input size (a list of forward-only steps
 * with fused bias + activation, every intermediate value assigned to a
 * preallocated device buffer that is reused as soon as the value is dead),
 * then run step by step. The plan mirrors src/nn/supernet.c in eval mode with
 * BN folded; only the level-0 output is computed. In the fp16 precisions
 * every planned value and weight is a half tensor: the caller's float input
 * is converted by the first step and the last step converts the output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/model_internal.h"
#include "ops/activation.h"
#include "ops/conv.h"
#include "ops/dwconv.h"
#include "ops/elementwise.h"
#include "ops/pool.h"
#include "ops/resize.h"
#include "runtime/internal.h"

enum step_kind { S_CONV, S_DW, S_GAP, S_SEMUL, S_AVGPOOL, S_MAXPOOL, S_RESIZE, S_MEAN, S_ADD, S_ACT };

typedef struct step {
    int kind;
    int in[INAS_OP_MEAN_MAX];
    int nin;
    int out;
    int w, b;               /* weight indices or -1 */
    int k, stride, pad, act;
    int layer;
} step;

typedef struct pval {
    int shape[4];
    inas_dtype dtype;       /* the plan's type; the caller's input and output are F32 */
    int slot;               /* -1: bound by the caller (input, output) */
    int last;               /* last step reading it */
    inas_tensor t;
} pval;

typedef struct pslot {
    size_t bytes;
    int busy;
    cl_mem mem;
    void *block;
} pslot;

typedef struct player {
    char name[32];
    double macs;   /* of the convolutions in this block */
    size_t params; /* of the weights first used in this block */
} player;

struct model_plan {
    int N, R, unmerged, dry;
    inas_precision precision;
    inas_dtype dtype; /* of planned values and weights: F16 in the fp16 precisions */
    step *steps;
    int nsteps, caps;
    pval *vals;
    int nvals, capv;
    player *layers;
    int nlayers, capl, cur_layer;
    pslot *slots;
    int nslots, capsl;
    double macs;
    int convs;
    unsigned char *used; /* per model weight: referenced by the plan */
    int x, y;
    int failed;
    inas_model *m;
};

#define GROW(arr, n, cap, init)                                                   \
    do {                                                                          \
        if ((n) == (cap)) {                                                       \
            int nc_ = (cap) ? (cap) * 2 : (init);                                 \
            void *na_ = realloc((arr), (size_t)nc_ * sizeof *(arr));              \
            if (!na_) {                                                           \
                inas_ctx_fail(p->m->ctx, INAS_ERR_NO_MEMORY, "out of memory (plan)"); \
                p->failed = 1;                                                    \
                return -1;                                                        \
            }                                                                     \
            (arr) = na_;                                                          \
            (cap) = nc_;                                                          \
        }                                                                         \
    } while (0)

static void plan_destroy(inas_ctx *ctx, model_plan *p) {
    if (!p) return;
    for (int i = 0; i < p->nslots; i++)
        if (p->slots[i].block) inas_pool_release(ctx, p->slots[i].block);
    free(p->steps);
    free(p->vals);
    free(p->layers);
    free(p->slots);
    free(p->used);
    free(p);
}

void model_plan_free(inas_model *m) {
    plan_destroy(m->ctx, m->plan);
    m->plan = NULL;
}

static int new_val(model_plan *p, int n, int c, int h, int w) {
    if (p->failed) return -1;
    GROW(p->vals, p->nvals, p->capv, 256);
    pval *v = &p->vals[p->nvals];
    memset(v, 0, sizeof *v);
    v->shape[0] = n;
    v->shape[1] = c;
    v->shape[2] = h;
    v->shape[3] = w;
    v->dtype = p->dtype;
    v->slot = -2; /* not assigned yet */
    v->last = -1;
    return p->nvals++;
}

static int layer(model_plan *p, const char *fmt, int a, int b) {
    if (p->failed) return -1;
    GROW(p->layers, p->nlayers, p->capl, 64);
    char name[32];
    if (b >= 0) snprintf(name, sizeof name, fmt, a, b);
    else snprintf(name, sizeof name, fmt, a);
    memset(&p->layers[p->nlayers], 0, sizeof p->layers[0]);
    memcpy(p->layers[p->nlayers].name, name, sizeof name);
    p->cur_layer = p->nlayers;
    return p->nlayers++;
}

static int emit(model_plan *p, int kind, const int *in, int nin, int out, int w, int b, int k, int stride, int pad,
                int act) {
    if (p->failed || out < 0) return -1;
    for (int i = 0; i < nin; i++)
        if (in[i] < 0) return -1;
    GROW(p->steps, p->nsteps, p->caps, 256);
    step *s = &p->steps[p->nsteps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    for (int i = 0; i < nin; i++) s->in[i] = in[i];
    s->nin = nin;
    s->out = out;
    s->w = w;
    s->b = b;
    s->k = k;
    s->stride = stride;
    s->pad = pad;
    s->act = act;
    s->layer = p->cur_layer;
    return out;
}

/* A weight by name with its expected shape; a missing or mis-shaped one fails
 * the plan with a message naming the file and the tensor. */
static int weight(model_plan *p, const char *name, int ndim, int d0, int d1, int d2, int d3) {
    if (p->failed) return -1;
    inas_model *m = p->m;
    int want[4] = {d0, d1, d2, d3};
    int i = model_find_weight(m, name);
    if (i < 0 && m->has_block) {
        size_t n = (size_t)d0 * (ndim > 1 ? d1 : 1) * (ndim > 2 ? d2 : 1) * (ndim > 3 ? d3 : 1);
        float *h = malloc((n ? n : 1) * sizeof *h);
        if (!h) {
            inas_ctx_fail(m->ctx, INAS_ERR_NO_MEMORY, "out of memory (block weights)");
            p->failed = 1;
            return -1;
        }
        uint32_t r = 2463534242u;
        for (size_t e = 0; e < n; e++) {
            r ^= r << 13, r ^= r >> 17, r ^= r << 5;
            h[e] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 0.1f;
        }
        i = model_add_weight(m, name, ndim, want, h);
        free(h);
        if (i < 0) {
            p->failed = 1;
            return -1;
        }
        return i; /* not in `used` (sized before the block's weights existed) */
    }
    if (i < 0) {
        inas_ctx_fail(m->ctx, INAS_ERR_FORMAT, "%s: missing tensor %s", m->source, name);
        p->failed = 1;
        return -1;
    }
    const model_weight *w = &m->w[i];
    int ok = w->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = w->shape[d] == want[d];
    if (!ok) {
        char got[64] = "", exp[64] = "";
        for (int d = 0; d < w->ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", d ? "x" : "", w->shape[d]);
        for (int d = 0; d < ndim; d++)
            snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%s%d", d ? "x" : "", want[d]);
        inas_ctx_fail(m->ctx, INAS_ERR_FORMAT, "%s: tensor %s has shape %s, expected %s", m->source, name, got, exp);
        p->failed = 1;
        return -1;
    }
    if (!p->used[i] && p->cur_layer >= 0 && p->cur_layer < p->nlayers) p->layers[p->cur_layer].params += w->numel;
    p->used[i] = 1;
    return i;
}

#define V(i) (&p->vals[i])

static int conv(model_plan *p, int x, const char *prefix, int cout, int k, int stride, int pad, int bias, int act) {
    if (x < 0 || p->failed) return -1;
    char name[256];
    int cin = V(x)->shape[1];
    snprintf(name, sizeof name, "%s.weight", prefix);
    int w = weight(p, name, 4, cout, cin, k, k);
    int b = -1;
    if (bias) {
        snprintf(name, sizeof name, "%s.bias", prefix);
        b = weight(p, name, 1, cout, 0, 0, 0);
    }
    int ho = (V(x)->shape[2] + 2 * pad - k) / stride + 1, wo = (V(x)->shape[3] + 2 * pad - k) / stride + 1;
    int y = new_val(p, V(x)->shape[0], cout, ho, wo);
    double macs = (double)V(x)->shape[0] * cout * cin * k * k * ho * wo;
    p->macs += macs;
    if (p->cur_layer >= 0 && p->cur_layer < p->nlayers) p->layers[p->cur_layer].macs += macs;
    p->convs++;
    return emit(p, S_CONV, &x, 1, y, w, b, k, stride, pad, act);
}

static int dw(model_plan *p, int x, int w, int b, int k, int stride, int act) {
    if (x < 0 || p->failed) return -1;
    int ho = inas_dwconv_out_size(V(x)->shape[2], k, stride, 1), wo = inas_dwconv_out_size(V(x)->shape[3], k, stride, 1);
    int y = new_val(p, V(x)->shape[0], V(x)->shape[1], ho, wo);
    double macs = (double)V(x)->shape[0] * V(x)->shape[1] * k * k * ho * wo;
    p->macs += macs;
    if (p->cur_layer >= 0 && p->cur_layer < p->nlayers) p->layers[p->cur_layer].macs += macs;
    p->convs++;
    return emit(p, S_DW, &x, 1, y, w, b, k, stride, 0, act);
}

static int unary(model_plan *p, int kind, int x, int n, int c, int h, int w, int k, int act) {
    if (x < 0 || p->failed) return -1;
    int y = new_val(p, n, c, h, w);
    return emit(p, kind, &x, 1, y, -1, -1, k, 0, 0, act);
}

static int binary(model_plan *p, int kind, int a, int b) {
    if (a < 0 || b < 0 || p->failed) return -1;
    int y = new_val(p, V(a)->shape[0], V(a)->shape[1], V(a)->shape[2], V(a)->shape[3]);
    int in[2] = {a, b};
    return emit(p, kind, in, 2, y, -1, -1, 0, 0, 0, 0);
}

static int mean(model_plan *p, const int *xs, int n) {
    if (n < 1 || p->failed) return -1;
    for (int i = 0; i < n; i++)
        if (xs[i] < 0) return -1;
    if (n == 1) return xs[0];
    int y = new_val(p, V(xs[0])->shape[0], V(xs[0])->shape[1], V(xs[0])->shape[2], V(xs[0])->shape[3]);
    return emit(p, S_MEAN, xs, n, y, -1, -1, 0, 0, 0, 0);
}

static int resize(model_plan *p, int x, int size) {
    if (x < 0 || p->failed) return -1;
    if (V(x)->shape[2] == size && V(x)->shape[3] == size) return x;
    return unary(p, S_RESIZE, x, V(x)->shape[0], V(x)->shape[1], size, size, 0, 0);
}

/* SMSU (+ act): merged, one depthwise conv with bias; unmerged, its folded
 * branches, their mean, then the activation. */
static int smsu(model_plan *p, int x, const char *prefix, inas_kset kernels, int stride, int act) {
    if (x < 0 || p->failed) return -1;
    int C = V(x)->shape[1];
    char name[256];
    if (!p->unmerged) {
        int K = inas_kset_max(kernels);
        snprintf(name, sizeof name, "%s.weight", prefix);
        int w = weight(p, name, 4, C, 1, K, K);
        snprintf(name, sizeof name, "%s.bias", prefix);
        int b = weight(p, name, 1, C, 0, 0, 0);
        return dw(p, x, w, b, K, stride, act);
    }
    int ys[INAS_OP_MEAN_MAX], n = 0;
    for (int k = 1; k <= INAS_MAX_KERNEL && n < INAS_OP_MEAN_MAX; k += 2) {
        if (!(kernels & INAS_KSET(k))) continue;
        snprintf(name, sizeof name, "%s.branch%d.weight", prefix, k);
        int w = weight(p, name, 4, C, 1, k, k);
        snprintf(name, sizeof name, "%s.branch%d.bias", prefix, k);
        int b = weight(p, name, 1, C, 0, 0, 0);
        ys[n++] = dw(p, x, w, b, k, stride, INAS_ACT_NONE);
    }
    int y = mean(p, ys, n);
    if (act == INAS_ACT_NONE || y < 0) return y;
    return unary(p, S_ACT, y, V(y)->shape[0], V(y)->shape[1], V(y)->shape[2], V(y)->shape[3], 0, act);
}

static int mbconv(model_plan *p, int x, const char *base, int expand, int out, int stride, inas_kset kernels) {
    if (x < 0) return -1;
    char pre[192];
    int N = V(x)->shape[0], in = V(x)->shape[1], mid = expand * in;
    int h = x;
    if (expand != 1) {
        snprintf(pre, sizeof pre, "%s.expand.conv", base);
        h = conv(p, x, pre, mid, 1, 1, 0, 1, INAS_ACT_SILU);
    }
    snprintf(pre, sizeof pre, "%s.smsu", base);
    h = smsu(p, h, pre, kernels, stride, INAS_ACT_SILU);
    if (h < 0) return -1;
    int s = unary(p, S_GAP, h, N, mid, 1, 1, 0, 0);
    snprintf(pre, sizeof pre, "%s.se.reduce", base);
    s = conv(p, s, pre, mid / 4, 1, 1, 0, 1, INAS_ACT_RELU);
    snprintf(pre, sizeof pre, "%s.se.expand", base);
    s = conv(p, s, pre, mid, 1, 1, 0, 1, INAS_ACT_HARDSIGMOID);
    h = binary(p, S_SEMUL, h, s);
    snprintf(pre, sizeof pre, "%s.project.conv", base);
    h = conv(p, h, pre, out, 1, 1, 0, 1, INAS_ACT_NONE);
    int sc = x;
    if (stride == 2)
        sc = unary(p, S_AVGPOOL, sc, N, in, inas_avgpool2_out_size(V(x)->shape[2], 1),
                   inas_avgpool2_out_size(V(x)->shape[3], 1), 0, 0);
    if (in != out) {
        snprintf(pre, sizeof pre, "%s.shortcut.conv", base);
        sc = conv(p, sc, pre, out, 1, 1, 0, 0, INAS_ACT_NONE);
    }
    return binary(p, S_ADD, h, sc);
}

/* ---- head blocks, shared by the full network and the one-block networks ---------------------- */

/* Transport branch from level j (value x, width of x) into level i (width
 * wi, spatial size `size`): a deeper level is projected then upsampled, a
 * shallower one max-pooled then projected. */
static int tbranch(model_plan *p, int x, int i, int j, int wi, int size) {
    char pre[96];
    snprintf(pre, sizeof pre, "head.transport%d.branch%d.conv", i, j);
    if (j > i) return resize(p, conv(p, x, pre, wi, 1, 1, 0, 1, INAS_ACT_NONE), size);
    int f = 1 << (i - j);
    int b = x < 0 ? -1
                  : unary(p, S_MAXPOOL, x, V(x)->shape[0], V(x)->shape[1], inas_maxpool_out_size(V(x)->shape[2], f),
                          inas_maxpool_out_size(V(x)->shape[3], f), f, 0);
    return conv(p, b, pre, wi, 1, 1, 0, 1, INAS_ACT_NONE);
}

/* Transport fusion of level i: mean of the branches, SMSU, conv, SMSU, conv,
 * residual add, SiLU. */
static int tfuse(model_plan *p, const int *br, int nb, int i, inas_kset ks, int wi) {
    char pre[96];
    int xm = mean(p, br, nb);
    snprintf(pre, sizeof pre, "head.transport%d.smsu1", i);
    int t = smsu(p, xm, pre, ks, 1, INAS_ACT_NONE);
    snprintf(pre, sizeof pre, "head.transport%d.conv1", i);
    t = conv(p, t, pre, wi, 1, 1, 0, 1, INAS_ACT_SILU);
    snprintf(pre, sizeof pre, "head.transport%d.smsu2", i);
    t = smsu(p, t, pre, ks, 1, INAS_ACT_NONE);
    snprintf(pre, sizeof pre, "head.transport%d.conv2", i);
    t = conv(p, t, pre, wi, 1, 1, 0, 1, INAS_ACT_NONE);
    t = binary(p, S_ADD, t, xm);
    return t < 0 ? -1 : unary(p, S_ACT, t, V(t)->shape[0], V(t)->shape[1], V(t)->shape[2], V(t)->shape[3], 0,
                              INAS_ACT_SILU);
}

/* Decoder branch from deeper level j into level i: conv + SiLU, upsampling. */
static int dbranch(model_plan *p, int x, int i, int j, int wi, int size) {
    char pre[96];
    snprintf(pre, sizeof pre, "head.decoder%d.branch%d.conv", i, j);
    return resize(p, conv(p, x, pre, wi, 1, 1, 0, 1, INAS_ACT_SILU), size);
}

/* Decoder fusion of level i: mean, SMSU, conv + SiLU. */
static int dfuse(model_plan *p, const int *br, int nb, int i, inas_kset ks, int wi) {
    char pre[96];
    int d = mean(p, br, nb);
    snprintf(pre, sizeof pre, "head.decoder%d.smsu", i);
    d = smsu(p, d, pre, ks, 1, INAS_ACT_NONE);
    snprintf(pre, sizeof pre, "head.decoder%d.conv", i);
    return conv(p, d, pre, wi, 1, 1, 0, 1, INAS_ACT_SILU);
}

/* Output head: 1x1 conv + sigmoid, then upsampling to R. The result is a
 * step's own value: a copy is added when the sizes agree, and in the half
 * precisions a conversion to the caller's float output. */
static int out_head(model_plan *p, int x, int R) {
    int o = conv(p, x, "head.output0", 1, 1, 1, 0, 0, INAS_ACT_SIGMOID);
    if (o < 0) return -1;
    if (V(o)->shape[2] != R) {
        o = resize(p, o, R);
        if (p->dtype == INAS_DTYPE_F32 || o < 0) return o;
    }
    return unary(p, S_ACT, o, V(o)->shape[0], 1, R, R, 0, INAS_ACT_NONE);
}

static void build(model_plan *p) {
    inas_model *m = p->m;
    const inas_space *sp = &m->space;
    const inas_arch *arch = &m->arch;
    int R = p->R;
    p->x = new_val(p, p->N, 3, R, R);
    if (p->x >= 0) {
        p->vals[p->x].slot = -1;
        p->vals[p->x].dtype = INAS_DTYPE_F32;
    }
    layer(p, "stem", 0, -1);
    int x = p->x;
    if (p->dtype != INAS_DTYPE_F32) x = unary(p, S_ACT, x, p->N, 3, R, R, 0, INAS_ACT_NONE); /* to half */
    int h = conv(p, x, "stem.conv", arch->stem_width, sp->stem.kernel, sp->stem.stride, sp->stem.kernel / 2, 1,
                 INAS_ACT_SILU);
    int feat[INAS_MAX_LEVELS];
    for (int i = 0; i < INAS_MAX_LEVELS; i++) feat[i] = -1;
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        const inas_arch_stage *as = &arch->stages[s];
        for (int l = 0; l < as->depth; l++) {
            layer(p, "stage%d.%d", s + 1, l);
            char base[96];
            snprintf(base, sizeof base, "backbone.stage%d.%d", s + 1, l);
            h = mbconv(p, h, base, sp->stages[s].expand, as->layers[l].width, inas_space_layer_stride(sp, s, l),
                       as->layers[l].kernels);
        }
        int lv = inas_space_stage_level(sp, s);
        if (lv >= 0) feat[lv] = h;
    }
    int nl = sp->num_levels;
    int tr[INAS_MAX_LEVELS], dec[INAS_MAX_LEVELS];
    for (int i = 0; i < nl; i++) {
        layer(p, "transport%d", i, -1);
        int wi = inas_arch_level_width(arch, sp, i);
        if (feat[i] < 0) {
            p->failed = 1;
            return;
        }
        int size = V(feat[i])->shape[2];
        int br[INAS_OP_MEAN_MAX], nb = 0;
        for (int j = 0; j < nl; j++) {
            if (!(arch->transport_levels[i] & (1u << j))) continue;
            br[nb++] = j == i ? feat[i] : tbranch(p, feat[j], i, j, wi, size);
        }
        tr[i] = tfuse(p, br, nb, i, arch->transport_kernels[i], wi);
    }
    for (int i = nl - 1; i >= 0; i--) {
        layer(p, "decoder%d", i, -1);
        int wi = inas_arch_level_width(arch, sp, i);
        if (tr[i] < 0) {
            p->failed = 1;
            return;
        }
        int size = V(tr[i])->shape[2];
        uint32_t levels = inas_arch_decoder_levels(arch, i);
        int br[INAS_OP_MEAN_MAX], nb = 0;
        br[nb++] = tr[i];
        for (int j = i + 1; j < nl; j++)
            if (levels & (1u << j)) br[nb++] = dbranch(p, dec[j], i, j, wi, size);
        dec[i] = dfuse(p, br, nb, i, arch->decoder_kernels[i], wi);
    }
    layer(p, "output", 0, -1);
    int o = out_head(p, dec[0], R);
    if (o < 0) {
        p->failed = 1;
        return;
    }
    p->y = o;
    p->vals[o].slot = -1;
    p->vals[o].dtype = INAS_DTYPE_F32;
}

/* A one-block network (m->block): its inputs are values no step produces
 * (assign gives them their own buffers); p->y is the block's output. */
static void build_block(model_plan *p) {
    const inas_block_key *k = &p->m->block;
    const inas_space *sp = &p->m->space;
    int N = p->N, in[INAS_OP_MEAN_MAX], n = k->branches < 1 ? 1 : k->branches;
    if (n > INAS_OP_MEAN_MAX) {
        p->failed = 1;
        inas_ctx_fail(p->m->ctx, INAS_ERR_INVALID_ARG, "block: %d branches (at most %d)", n, INAS_OP_MEAN_MAX);
        return;
    }
    for (int i = 0; i < n; i++) in[i] = new_val(p, N, k->cin, k->rin, k->rin);
    layer(p, "block", 0, -1);
    int y = -1;
    switch (k->kind) {
    case INAS_BLOCK_STEM: y = conv(p, in[0], "stem.conv", k->cout, k->k, k->stride, k->k / 2, 1, INAS_ACT_SILU); break;
    case INAS_BLOCK_MBCONV:
        y = mbconv(p, in[0], "block", k->cin ? k->mid / k->cin : 1, k->cout, k->stride, INAS_KSET(k->k));
        break;
    case INAS_BLOCK_TBRANCH: y = tbranch(p, in[0], k->dst, k->src, k->cout, k->rout); break;
    case INAS_BLOCK_TFUSE: y = tfuse(p, in, n, 0, INAS_KSET(k->k), k->cout); break;
    case INAS_BLOCK_DBRANCH: y = dbranch(p, in[0], k->dst, k->src, k->cout, k->rout); break;
    case INAS_BLOCK_DFUSE: y = dfuse(p, in, n, 0, INAS_KSET(k->k), k->cout); break;
    case INAS_BLOCK_OUTPUT: y = out_head(p, in[0], k->rout); break;
    default: y = -1; break;
    }
    (void)sp;
    if (y < 0 || y == in[0]) {
        /* an empty block (identity) still needs an output value: copy */
        if (y == in[0] && y >= 0) y = unary(p, S_ACT, y, N, k->cin, k->rin, k->rin, 0, INAS_ACT_NONE);
        if (y < 0) {
            p->failed = 1;
            if (inas_ctx_last_status(p->m->ctx) == INAS_OK)
                inas_ctx_fail(p->m->ctx, INAS_ERR_INVALID_ARG, "block: cannot build kind %d", (int)k->kind);
            return;
        }
    }
    p->y = y;
}

/* Bytes of a planned value at its element type. */
static size_t val_bytes(const pval *v) {
    return (size_t)v->shape[0] * v->shape[1] * v->shape[2] * v->shape[3] * inas_dtype_size(v->dtype);
}

/* A new buffer slot of `bytes`; its index, or -1 on out of memory (message on the context). */
static int new_slot(model_plan *p, size_t bytes) {
    if (p->nslots == p->capsl) {
        int nc = p->capsl ? p->capsl * 2 : 16;
        pslot *ns = realloc(p->slots, (size_t)nc * sizeof *ns);
        if (!ns) {
            inas_ctx_fail(p->m->ctx, INAS_ERR_NO_MEMORY, "out of memory (plan)");
            return -1;
        }
        p->slots = ns;
        p->capsl = nc;
    }
    memset(&p->slots[p->nslots], 0, sizeof p->slots[p->nslots]);
    p->slots[p->nslots].bytes = bytes;
    return p->nslots++;
}

/* Liveness and buffer assignment: each step's output takes a free buffer
 * (best fit, else the largest free one grown, else a new one); inputs whose
 * last reader is this step are freed after it. */
static inas_status assign(model_plan *p) {
    inas_ctx *ctx = p->m->ctx;
    for (int s = 0; s < p->nsteps; s++)
        for (int i = 0; i < p->steps[s].nin; i++) p->vals[p->steps[s].in[i]].last = s;
    for (int s = 0; s < p->nsteps; s++) {
        pval *o = V(p->steps[s].out);
        if (o->slot == -2) {
            size_t bytes = val_bytes(o);
            int best = -1, largest = -1;
            for (int j = 0; j < p->nslots; j++) {
                if (p->slots[j].busy) continue;
                if (p->slots[j].bytes >= bytes && (best < 0 || p->slots[j].bytes < p->slots[best].bytes)) best = j;
                if (largest < 0 || p->slots[j].bytes > p->slots[largest].bytes) largest = j;
            }
            if (best < 0 && largest >= 0) {
                best = largest;
                p->slots[best].bytes = bytes;
            }
            if (best < 0 && (best = new_slot(p, bytes)) < 0) return INAS_ERR_NO_MEMORY;
            p->slots[best].busy = 1;
            o->slot = best;
            if (o->last < 0) p->slots[best].busy = 0; /* never read */
        }
        for (int i = 0; i < p->steps[s].nin; i++) {
            pval *v = V(p->steps[s].in[i]);
            if (v->last == s && v->slot >= 0) p->slots[v->slot].busy = 0;
        }
    }
    for (int i = 0; i < p->nvals; i++) {
        if (p->vals[i].slot != -2 || p->vals[i].last < 0) continue; /* block inputs: own buffers */
        if ((p->vals[i].slot = new_slot(p, val_bytes(&p->vals[i]))) < 0) return INAS_ERR_NO_MEMORY;
    }
    if (p->dry) return INAS_OK;
    for (int j = 0; j < p->nslots; j++) {
        inas_status st = inas_pool_acquire(ctx, p->slots[j].bytes, &p->slots[j].mem, &p->slots[j].block);
        if (st != INAS_OK) return st;
    }
    for (int i = 0; i < p->nvals; i++) {
        pval *v = V(i);
        if (v->slot < 0) continue;
        inas_status st = inas_tensor_wrap(ctx, &v->t, p->slots[v->slot].mem, 0, v->shape[0], v->shape[1],
                                          v->shape[2], v->shape[3]);
        if (st != INAS_OK) return st;
        v->t.dtype = v->dtype;
    }
    return INAS_OK;
}

/* The half copies of the weights the steps use (made once per model). */
static inas_status half_weights(model_plan *p) {
    inas_model *m = p->m;
    for (int s = 0; s < p->nsteps; s++) {
        int idx[2] = {p->steps[s].w, p->steps[s].b};
        for (int j = 0; j < 2; j++) {
            if (idx[j] < 0 || m->w[idx[j]].dev16.buf) continue;
            model_weight *w = &m->w[idx[j]];
            int dims[4];
            for (int d = 0; d < w->ndim; d++) dims[d] = w->shape[d];
            inas_status st = inas_tensor_alloc_as(m->ctx, &w->dev16, INAS_DTYPE_F16, w->ndim, dims);
            if (st == INAS_OK) st = inas_tensor_copy(m->ctx, &w->dev, &w->dev16);
            if (st != INAS_OK) {
                inas_tensor_free(m->ctx, &w->dev16);
                return st;
            }
        }
    }
    return INAS_OK;
}

static inas_status plan_make(inas_model *m, int N, int R, int dry, model_plan **out) {
    *out = NULL;
    model_plan *p = calloc(1, sizeof *p);
    if (p) p->used = calloc(m->nw ? m->nw : 1, 1);
    if (!p || !p->used) {
        free(p);
        return inas_ctx_fail(m->ctx, INAS_ERR_NO_MEMORY, "out of memory (plan)");
    }
    p->m = m;
    p->N = N;
    p->R = R;
    p->dry = dry;
    p->unmerged = m->unmerged;
    p->precision = m->precision;
    p->dtype = m->precision == INAS_PRECISION_FP32 ? INAS_DTYPE_F32 : INAS_DTYPE_F16;
    p->x = p->y = -1;
    if (m->has_block) build_block(p);
    else build(p);
    inas_status st = INAS_OK;
    if (p->failed || p->y < 0) {
        st = inas_ctx_last_status(m->ctx);
        if (st == INAS_OK) st = inas_ctx_fail(m->ctx, INAS_ERR_INTERNAL, "model plan failed");
    }
    if (st == INAS_OK) st = assign(p);
    if (st == INAS_OK && !dry && p->dtype != INAS_DTYPE_F32) st = half_weights(p);
    if (st != INAS_OK) {
        plan_destroy(m->ctx, p);
        return st;
    }
    *out = p;
    return INAS_OK;
}

inas_status model_validate(inas_model *m);
inas_status model_validate(inas_model *m) {
    model_plan *p;
    int R = m->arch.resolution;
    inas_status st = plan_make(m, 1, R, 1, &p);
    if (st == INAS_OK && m->unmerged == 0) {
        /* the unmerged form is optional in a model directory: checked on use */
    }
    plan_destroy(m->ctx, p);
    return st;
}

/* A step's weight in the plan's type. */
#define WT(i) (p->dtype == INAS_DTYPE_F32 ? &m->w[i].dev : &m->w[i].dev16)

static inas_status run_step(inas_model *m, model_plan *p, const step *s) {
    inas_ctx *ctx = m->ctx;
    const inas_tensor *y = &V(s->out)->t;
    const inas_tensor *x = &V(s->in[0])->t;
    switch (s->kind) {
    case S_CONV:
        return inas_op_conv2d_fwd(ctx, x, WT(s->w), s->b >= 0 ? WT(s->b) : NULL, y, s->stride, s->pad, s->act,
                                  INAS_GEMM_AUTO);
    case S_DW: return inas_op_dwconv_fwd(ctx, x, WT(s->w), s->k, s->stride, 1, WT(s->b), s->act, y);
    case S_GAP: return inas_op_gap_fwd(ctx, x, y);
    case S_SEMUL: return inas_op_se_mul_fwd(ctx, x, &V(s->in[1])->t, y);
    case S_AVGPOOL: {
        inas_avgpool_opts o = {1, 0};
        return inas_op_avgpool2_fwd(ctx, &o, x, y);
    }
    case S_MAXPOOL: return inas_op_maxpool_fwd(ctx, s->k, x, y);
    case S_RESIZE: return inas_op_resize_fwd(ctx, INAS_RESIZE_BILINEAR, 1, x, y);
    case S_MEAN: {
        const inas_tensor *xs[INAS_OP_MEAN_MAX];
        for (int i = 0; i < s->nin; i++) xs[i] = &V(s->in[i])->t;
        return inas_op_mean(ctx, xs, s->nin, y);
    }
    case S_ADD: return inas_op_add(ctx, x, &V(s->in[1])->t, y);
    case S_ACT:
        if (s->act == INAS_ACT_NONE) return inas_tensor_copy(ctx, x, y);
        return inas_op_act_fwd(ctx, (inas_act)s->act, x, y);
    default: return inas_ctx_fail(ctx, INAS_ERR_INTERNAL, "model: unknown step kind %d", s->kind);
    }
}

static inas_status prepare(inas_model *m, const inas_tensor *x, const inas_tensor *y) {
    if (!m || !x || !y) return inas_ctx_fail(m ? m->ctx : NULL, INAS_ERR_INVALID_ARG, "model forward: null argument");
    int N = x->shape[0], R = x->shape[2];
    int smax = inas_space_level_stride(&m->space, m->space.num_levels - 1);
    if (x->shape[1] != 3 || x->shape[3] != R || R % smax || R < smax)
        return inas_ctx_fail(m->ctx, INAS_ERR_INVALID_ARG,
                             "model forward: input %dx%dx%dx%d must be N x 3 x R x R with R a multiple of %d", N,
                             x->shape[1], R, x->shape[3], smax);
    if (y->shape[0] != N || y->shape[1] != 1 || y->shape[2] != R || y->shape[3] != R)
        return inas_ctx_fail(m->ctx, INAS_ERR_INVALID_ARG, "model forward: output must be %dx1x%dx%d", N, R, R);
    if (x->dtype != INAS_DTYPE_F32 || y->dtype != INAS_DTYPE_F32)
        return inas_ctx_fail(m->ctx, INAS_ERR_INVALID_ARG,
                             "model forward: input and output are f32 tensors in every precision");
    if (m->plan && (m->plan->N != N || m->plan->R != R || m->plan->unmerged != m->unmerged ||
                    m->plan->precision != m->precision))
        model_plan_free(m);
    if (!m->plan) {
        inas_status st = plan_make(m, N, R, 0, &m->plan);
        if (st != INAS_OK) return st;
    }
    m->plan->vals[m->plan->x].t = *x;
    m->plan->vals[m->plan->y].t = *y;
    return INAS_OK;
}

/* Runs every step of the plan with the context's half math set for the
 * plan's precision (restored after). With ms (profiling), each step is
 * followed by a queue finish and its time is added to ms[its layer] for
 * layers < nms. */
static inas_status run_steps(inas_model *m, model_plan *p, double *ms, int nms) {
    int prev = 0;
    inas_status st = inas_ctx_set_half_math(m->ctx, p->precision == INAS_PRECISION_FP16, &prev);
    if (st == INAS_OK && ms) st = inas_ctx_finish(m->ctx);
    for (int s = 0; st == INAS_OK && s < p->nsteps; s++) {
        double t0 = ms ? inas_wall_ms() : 0;
        st = run_step(m, p, &p->steps[s]);
        if (!ms) continue;
        if (st == INAS_OK) st = inas_ctx_finish(m->ctx);
        if (p->steps[s].layer >= 0 && p->steps[s].layer < nms) ms[p->steps[s].layer] += inas_wall_ms() - t0;
    }
    inas_ctx_set_half_math(m->ctx, prev, NULL);
    return st;
}

inas_status inas_model_forward(inas_model *m, const inas_tensor *x, const inas_tensor *y) {
    inas_status st = prepare(m, x, y);
    if (st != INAS_OK) return st;
    return run_steps(m, m->plan, NULL, 0);
}

inas_status inas_model_profile(inas_model *m, const inas_tensor *x, const inas_tensor *y, char (*names)[32],
                               double *ms, int cap, int *count) {
    inas_status st = prepare(m, x, y);
    if (st != INAS_OK) return st;
    model_plan *p = m->plan;
    int n = p->nlayers < cap ? p->nlayers : cap;
    for (int i = 0; i < n; i++) {
        memcpy(names[i], p->layers[i].name, 32);
        ms[i] = 0;
    }
    st = run_steps(m, p, ms, n);
    *count = n;
    return st;
}

inas_status inas_model_get_info(inas_model *m, int resolution, inas_model_info *out) {
    if (!m || !out) return inas_ctx_fail(m ? m->ctx : NULL, INAS_ERR_INVALID_ARG, "inas_model_get_info: null argument");
    int R = resolution > 0 ? resolution : m->arch.resolution;
    model_plan *p;
    int saved = m->unmerged;
    m->unmerged = 0;
    inas_status st = plan_make(m, 1, R, 1, &p);
    m->unmerged = saved;
    if (st != INAS_OK) return st;
    memset(out, 0, sizeof *out);
    out->layers = p->convs;
    out->macs = p->macs;
    out->resolution = R;
    out->buffers = p->nslots;
    for (int j = 0; j < p->nslots; j++) out->buffer_bytes += p->slots[j].bytes;
    for (int i = 0; i < p->nvals; i++)
        if (p->vals[i].slot >= 0)
            out->unplanned_bytes += val_bytes(&p->vals[i]);
    for (size_t i = 0; i < m->nw; i++)
        if (p->used[i]) out->params += m->w[i].numel;
    plan_destroy(m->ctx, p);
    return INAS_OK;
}

inas_status inas_model_get_blocks(inas_model *m, int resolution, inas_model_block *blocks, int cap, int *count) {
    if (!m || !count || (cap > 0 && !blocks))
        return inas_ctx_fail(m ? m->ctx : NULL, INAS_ERR_INVALID_ARG, "inas_model_get_blocks: null argument");
    int R = resolution > 0 ? resolution : m->arch.resolution;
    model_plan *p;
    int saved = m->unmerged;
    m->unmerged = 0;
    inas_status st = plan_make(m, 1, R, 1, &p);
    m->unmerged = saved;
    if (st != INAS_OK) return st;
    int n = p->nlayers < cap ? p->nlayers : cap;
    for (int i = 0; i < n; i++) {
        memcpy(blocks[i].name, p->layers[i].name, sizeof blocks[i].name);
        blocks[i].macs = p->layers[i].macs;
        blocks[i].params = p->layers[i].params;
    }
    *count = p->nlayers;
    plan_destroy(m->ctx, p);
    return INAS_OK;
}

inas_model *model_block_new(inas_ctx *ctx, const inas_space *space, const inas_block_key *key) {
    inas_arch a;
    inas_arch_sample_min(space, &a);
    inas_model *m = model_new(ctx, space, &a);
    if (!m) return NULL;
    m->has_block = 1;
    m->block = *key;
    snprintf(m->source, sizeof m->source, "probe block");
    return m;
}

inas_status model_block_run(inas_model *m, int N) {
    if (!m || !m->has_block) return inas_ctx_fail(m ? m->ctx : NULL, INAS_ERR_INVALID_ARG, "not a block model");
    if (m->plan && m->plan->N != N) model_plan_free(m);
    if (!m->plan) {
        inas_status st = plan_make(m, N, m->block.rin, 0, &m->plan);
        if (st != INAS_OK) return st;
    }
    return run_steps(m, m->plan, NULL, 0);
}
