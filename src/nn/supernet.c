/* supernet.c - building the supernet's parameters from a space, and the
 * forward pass of any architecture on them (backward through the tape). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/supernet_internal.h"
#include "ops/activation.h"

/* ---- parameter registration --------------------------------------------------------- */

typedef struct builder {
    inas_supernet *net;
    int failed;
} builder;

static int reg(builder *b, inas_param_class cls, inas_param_init init, int fan_in, int ndim, const int *shape,
               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

static int reg(builder *b, inas_param_class cls, inas_param_init init, int fan_in, int ndim, const int *shape,
               const char *fmt, ...) {
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int idx = inas_params_add(&b->net->ps, name, cls, init, fan_in, ndim, shape);
    if (idx < 0) b->failed = 1;
    return idx;
}

static int reg_conv(builder *b, inas_param_class cls, int cout, int cin, int k, const char *prefix) {
    int shape[4] = {cout, cin, k, k};
    return reg(b, cls, INAS_INIT_CONV, cin * k * k, 4, shape, "%s.weight", prefix);
}

static inas_bn_ref reg_bn(builder *b, inas_param_class cls, int c, int gamma_zero, const char *prefix) {
    inas_bn_ref r;
    r.gamma = reg(b, cls, gamma_zero ? INAS_INIT_ZEROS : INAS_INIT_ONES, 0, 1, &c, "%s.weight", prefix);
    r.beta = reg(b, cls, INAS_INIT_ZEROS, 0, 1, &c, "%s.bias", prefix);
    r.mean = reg(b, INAS_PARAM_BUFFER, INAS_INIT_ZEROS, 0, 1, &c, "%s.running_mean", prefix);
    r.var = reg(b, INAS_PARAM_BUFFER, INAS_INIT_ONES, 0, 1, &c, "%s.running_var", prefix);
    return r;
}

static void reg_smsu(builder *b, inas_param_class cls, int c, inas_kset kernels, const char *prefix, smsu_params *s) {
    char p[160];
    s->kmax = inas_kset_max(kernels);
    int shape[4] = {c, 1, s->kmax, s->kmax};
    s->w = reg(b, cls, INAS_INIT_CONV, s->kmax * s->kmax, 4, shape, "%s.weight", prefix);
    for (int k = 0; k <= INAS_MAX_KERNEL; k++) {
        s->m[k] = -1;
        if (!(kernels & INAS_KSET(k))) continue;
        int ms[2] = {k * k, k * k};
        s->m[k] = reg(b, cls, INAS_INIT_IDENTITY, 0, 2, ms, "%s.transform%d", prefix, k);
        snprintf(p, sizeof p, "%s.bn%d", prefix, k);
        s->bn[k] = reg_bn(b, cls, c, 0, p);
    }
}

static int level_width_max(const inas_space *sp, int level) { return sp->stages[sp->level_stage[level]].width_max; }

static void build(builder *b) {
    inas_supernet *net = b->net;
    const inas_space *sp = &net->space;
    char p[160];
    const inas_param_class B = INAS_PARAM_BACKBONE, H = INAS_PARAM_HEAD;
    net->stem_w = reg_conv(b, B, sp->stem.width_max, 3, sp->stem.kernel, "stem.conv");
    net->stem_bn = reg_bn(b, B, sp->stem.width_max, 0, "stem.bn");
    int in_min = sp->stem.width_min, in_max = sp->stem.width_max;
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        const inas_space_stage *st = &sp->stages[s];
        for (int l = 0; l < st->depth_max; l++) {
            layer_params *L = &net->layers[s][l];
            int lin_min = l == 0 ? in_min : st->width_min, lin_max = l == 0 ? in_max : st->width_max;
            int mid = st->expand * lin_max;
            char base[96];
            snprintf(base, sizeof base, "backbone.stage%d.%d", s + 1, l);
            L->expand_w = -1;
            if (st->expand != 1) {
                snprintf(p, sizeof p, "%s.expand.conv", base);
                L->expand_w = reg_conv(b, B, mid, lin_max, 1, p);
                snprintf(p, sizeof p, "%s.expand.bn", base);
                L->expand_bn = reg_bn(b, B, mid, 0, p);
            }
            snprintf(p, sizeof p, "%s.smsu", base);
            reg_smsu(b, B, mid, st->kernels, p, &L->smsu);
            int red = mid / 4;
            snprintf(p, sizeof p, "%s.se.reduce", base);
            L->se_rw = reg_conv(b, B, red, mid, 1, p);
            L->se_rb = reg(b, B, INAS_INIT_BIAS, mid, 1, &red, "%s.se.reduce.bias", base);
            snprintf(p, sizeof p, "%s.se.expand", base);
            L->se_ew = reg_conv(b, B, mid, red, 1, p);
            L->se_eb = reg(b, B, INAS_INIT_BIAS, red, 1, &mid, "%s.se.expand.bias", base);
            snprintf(p, sizeof p, "%s.project.conv", base);
            L->proj_w = reg_conv(b, B, st->width_max, mid, 1, p);
            snprintf(p, sizeof p, "%s.project.bn", base);
            L->proj_bn = reg_bn(b, B, st->width_max, 1, p);
            int always_equal = lin_min == lin_max && st->width_min == st->width_max && lin_max == st->width_max;
            L->short_w = -1;
            if (!always_equal) {
                snprintf(p, sizeof p, "%s.shortcut.conv", base);
                L->short_w = reg_conv(b, B, st->width_max, lin_max, 1, p);
            }
        }
        in_min = st->width_min;
        in_max = st->width_max;
    }
    head_params *hp = &net->head;
    int nl = sp->num_levels;
    for (int i = 0; i < nl; i++) {
        int wi = level_width_max(sp, i);
        for (int j = 0; j < nl; j++) {
            if (j == i) continue;
            snprintf(p, sizeof p, "head.transport%d.branch%d.conv", i, j);
            hp->tb_w[i][j] = reg_conv(b, H, wi, level_width_max(sp, j), 1, p);
            snprintf(p, sizeof p, "head.transport%d.branch%d.bn", i, j);
            hp->tb_bn[i][j] = reg_bn(b, H, wi, 0, p);
        }
        snprintf(p, sizeof p, "head.transport%d.smsu1", i);
        reg_smsu(b, H, wi, sp->head_kernels, p, &hp->t_smsu1[i]);
        snprintf(p, sizeof p, "head.transport%d.conv1", i);
        hp->t_c1[i] = reg_conv(b, H, wi, wi, 1, p);
        snprintf(p, sizeof p, "head.transport%d.bn1", i);
        hp->t_bn1[i] = reg_bn(b, H, wi, 0, p);
        snprintf(p, sizeof p, "head.transport%d.smsu2", i);
        reg_smsu(b, H, wi, sp->head_kernels, p, &hp->t_smsu2[i]);
        snprintf(p, sizeof p, "head.transport%d.conv2", i);
        hp->t_c2[i] = reg_conv(b, H, wi, wi, 1, p);
        snprintf(p, sizeof p, "head.transport%d.bn2", i);
        hp->t_bn2[i] = reg_bn(b, H, wi, 0, p);
    }
    for (int i = 0; i < nl; i++) {
        int wi = level_width_max(sp, i);
        for (int j = i + 1; j < nl; j++) {
            snprintf(p, sizeof p, "head.decoder%d.branch%d.conv", i, j);
            hp->db_w[i][j] = reg_conv(b, H, wi, level_width_max(sp, j), 1, p);
            snprintf(p, sizeof p, "head.decoder%d.branch%d.bn", i, j);
            hp->db_bn[i][j] = reg_bn(b, H, wi, 0, p);
        }
        snprintf(p, sizeof p, "head.decoder%d.smsu", i);
        reg_smsu(b, H, wi, sp->head_kernels, p, &hp->d_smsu[i]);
        snprintf(p, sizeof p, "head.decoder%d.conv", i);
        hp->d_c[i] = reg_conv(b, H, wi, wi, 1, p);
        snprintf(p, sizeof p, "head.decoder%d.bn", i);
        hp->d_bn[i] = reg_bn(b, H, wi, 0, p);
        snprintf(p, sizeof p, "head.output%d", i);
        hp->out_w[i] = reg_conv(b, H, 1, wi, 1, p);
    }
}

inas_status inas_supernet_create(inas_ctx *ctx, const inas_space *space, uint64_t seed, inas_supernet **out) {
    if (!ctx || !space || !out) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_supernet_create: null argument");
    *out = NULL;
    inas_error err;
    if (inas_space_validate(space, &err) != INAS_OK) return inas_ctx_fail(ctx, err.code, "space: %s", err.message);
    inas_supernet *net = calloc(1, sizeof *net);
    if (!net) return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory");
    net->ctx = ctx;
    net->space = *space;
    inas_params_init(&net->ps, ctx);
    builder b = {net, 0};
    build(&b);
    inas_status st = b.failed ? inas_ctx_last_status(ctx) : inas_params_materialize(&net->ps, seed);
    if (st != INAS_OK) {
        inas_params_free(&net->ps);
        free(net);
        return st;
    }
    inas_tape_init(&net->tape, ctx, &net->ps);
    *out = net;
    return INAS_OK;
}

void inas_supernet_destroy(inas_supernet *net) {
    if (!net) return;
    inas_tape_free(&net->tape);
    inas_params_free(&net->ps);
    free(net);
}

const inas_space *inas_supernet_space(const inas_supernet *net) { return &net->space; }
inas_ctx *inas_supernet_ctx(const inas_supernet *net) { return net->ctx; }
size_t inas_supernet_num_tensors(const inas_supernet *net) { return net->ps.n; }
const char *inas_supernet_tensor_name(const inas_supernet *net, size_t i) {
    return i < net->ps.n ? net->ps.p[i].name : NULL;
}

size_t inas_supernet_num_params(const inas_supernet *net) {
    size_t n = 0;
    for (size_t i = 0; i < net->ps.n; i++)
        if (net->ps.p[i].cls != INAS_PARAM_BUFFER) n += net->ps.p[i].numel;
    return n;
}

int inas_supernet_param_shape(const inas_supernet *net, const char *name, int shape[4]) {
    int i = inas_params_find(&net->ps, name);
    if (i < 0) return 0;
    for (int d = 0; d < 4; d++) shape[d] = net->ps.p[i].shape[d];
    return net->ps.p[i].ndim;
}

inas_status inas_supernet_read_param(inas_supernet *net, const char *name, int grad, float *host, size_t *n) {
    int i = inas_params_find(&net->ps, name);
    if (i < 0) return inas_ctx_fail(net->ctx, INAS_ERR_NOT_FOUND, "no parameter named %s", name);
    if (grad && net->ps.p[i].cls == INAS_PARAM_BUFFER)
        return inas_ctx_fail(net->ctx, INAS_ERR_INVALID_ARG, "%s is a buffer: it has no gradient", name);
    if (n) *n = net->ps.p[i].numel;
    if (!host) return INAS_OK;
    inas_tensor t = grad ? inas_param_grad(&net->ps, i) : inas_param_value(&net->ps, i);
    return inas_tensor_read(net->ctx, &t, host);
}

inas_status inas_supernet_write_param(inas_supernet *net, const char *name, const float *host) {
    int i = inas_params_find(&net->ps, name);
    if (i < 0) return inas_ctx_fail(net->ctx, INAS_ERR_NOT_FOUND, "no parameter named %s", name);
    inas_tensor t = inas_param_value(&net->ps, i);
    return inas_tensor_write(net->ctx, &t, host);
}

inas_status inas_supernet_zero_grad(inas_supernet *net) { return inas_params_zero_grad(&net->ps); }

inas_status inas_supernet_adam_step(inas_supernet *net, double lr_backbone, double lr_head, double beta1,
                                    double beta2) {
    double lr[2] = {lr_backbone, lr_head};
    return inas_params_adam(&net->ps, lr, beta1, beta2, 1e-8);
}

/* ---- forward ------------------------------------------------------------------------- */

/* SMSU unit: mean over the chosen kernels of BN_k(dwconv(x, M_k crop_k(W))). */
static int smsu(inas_tape *tp, int x, const smsu_params *s, inas_kset kernels, int stride) {
    int ys[INAS_OP_MEAN_MAX], n = 0;
    for (int k = 1; k <= INAS_MAX_KERNEL && n < INAS_OP_MEAN_MAX; k += 2) {
        if (!(kernels & INAS_KSET(k))) continue;
        if (s->m[k] < 0) {
            inas_ctx_fail(tp->ctx, INAS_ERR_INVALID_ARG, "SMSU: kernel %d is not in this unit's set", k);
            return -1;
        }
        int y = tp_smsu_dwconv(tp, x, s->w, s->m[k], k, stride);
        ys[n++] = tp_bn(tp, y, s->bn[k], INAS_ACT_NONE);
    }
    return n ? tp_mean(tp, ys, n) : -1;
}

static int mbconv(inas_supernet *net, int x, const layer_params *L, const inas_space_stage *st, int out, int stride,
                  inas_kset kernels) {
    inas_tape *tp = &net->tape;
    if (x < 0) return -1;
    int in = tp_value(tp, x)->shape[1], mid = st->expand * in;
    int h = x;
    if (L->expand_w >= 0) {
        h = tp_conv(tp, x, L->expand_w, -1, mid, 1, 0);
        h = tp_bn(tp, h, L->expand_bn, INAS_ACT_SILU);
    }
    h = smsu(tp, h, &L->smsu, kernels, stride);
    h = tp_act(tp, h, INAS_ACT_SILU);
    int s = tp_gap(tp, h);
    s = tp_conv(tp, s, L->se_rw, L->se_rb, mid / 4, 1, 0);
    s = tp_act(tp, s, INAS_ACT_RELU);
    s = tp_conv(tp, s, L->se_ew, L->se_eb, mid, 1, 0);
    s = tp_act(tp, s, INAS_ACT_HARDSIGMOID);
    h = tp_se_mul(tp, h, s);
    h = tp_conv(tp, h, L->proj_w, -1, out, 1, 0);
    h = tp_bn(tp, h, L->proj_bn, INAS_ACT_NONE);
    int sc = x;
    if (stride == 2) sc = tp_avgpool2(tp, sc);
    if (in != out) {
        if (L->short_w < 0) {
            inas_ctx_fail(net->ctx, INAS_ERR_INTERNAL, "MBConv: channels %d -> %d without a shortcut conv", in, out);
            return -1;
        }
        sc = tp_conv(tp, sc, L->short_w, -1, out, 1, 0);
    }
    return tp_add(tp, h, sc);
}

inas_status inas_supernet_forward(inas_supernet *net, const inas_arch *arch, const inas_tensor *x, inas_pass pass,
                                  int recal_batch, inas_tensor *outputs) {
    if (!net || !arch || !x || !outputs)
        return inas_ctx_fail(net ? net->ctx : NULL, INAS_ERR_INVALID_ARG, "inas_supernet_forward: null argument");
    inas_ctx *ctx = net->ctx;
    const inas_space *sp = &net->space;
    inas_error err;
    /* the input defines the resolution: any multiple of the deepest stride runs */
    inas_arch structure = *arch;
    structure.resolution = sp->eval_res;
    if (inas_arch_validate(&structure, sp, &err) != INAS_OK)
        return inas_ctx_fail(ctx, err.code, "architecture: %s", err.message);
    int stride_max = inas_space_level_stride(sp, sp->num_levels - 1);
    if (x->shape[1] != 3 || x->shape[2] != x->shape[3] || x->shape[2] % stride_max)
        return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG,
                             "supernet forward: input %dx%dx%dx%d must be N x 3 x R x R with R a multiple of %d",
                             x->shape[0], x->shape[1], x->shape[2], x->shape[3], stride_max);
    inas_tape *tp = &net->tape;
    inas_tape_reset(tp);
    tp->recording = pass == INAS_PASS_TRAIN;
    tp->bn_mode = pass == INAS_PASS_TRAIN ? INAS_BN_TRAIN : pass == INAS_PASS_EVAL ? INAS_BN_EVAL : INAS_BN_RECAL;
    tp->recal_batch = recal_batch;
    int R = x->shape[2];

    int h = tp_input(tp, x);
    h = tp_conv(tp, h, net->stem_w, -1, arch->stem_width, sp->stem.stride, sp->stem.kernel / 2);
    h = tp_bn(tp, h, net->stem_bn, INAS_ACT_SILU);
    int feat[INAS_MAX_LEVELS];
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        const inas_arch_stage *as = &arch->stages[s];
        for (int l = 0; l < as->depth; l++)
            h = mbconv(net, h, &net->layers[s][l], &sp->stages[s], as->layers[l].width,
                       inas_space_layer_stride(sp, s, l), as->layers[l].kernels);
        int lv = inas_space_stage_level(sp, s);
        if (lv >= 0) feat[lv] = h;
    }
    const head_params *hp = &net->head;
    int nl = sp->num_levels;
    int tr[INAS_MAX_LEVELS], dec[INAS_MAX_LEVELS];
    for (int i = 0; i < nl; i++) {
        int wi = inas_arch_level_width(arch, sp, i);
        int size = feat[i] >= 0 ? tp_value(tp, feat[i])->shape[2] : 0;
        int br[INAS_OP_MEAN_MAX], nb = 0;
        for (int j = 0; j < nl; j++) {
            if (!(arch->transport_levels[i] & (1u << j))) continue;
            int b;
            if (j == i) b = feat[i];
            else if (j > i) {
                b = tp_conv(tp, feat[j], hp->tb_w[i][j], -1, wi, 1, 0);
                b = tp_bn(tp, b, hp->tb_bn[i][j], INAS_ACT_NONE);
                b = tp_resize(tp, b, size, size, 1);
            } else {
                b = tp_maxpool(tp, feat[j], 1 << (i - j));
                b = tp_conv(tp, b, hp->tb_w[i][j], -1, wi, 1, 0);
                b = tp_bn(tp, b, hp->tb_bn[i][j], INAS_ACT_NONE);
            }
            br[nb++] = b;
        }
        int xm = tp_mean(tp, br, nb);
        int t = smsu(tp, xm, &hp->t_smsu1[i], arch->transport_kernels[i], 1);
        t = tp_conv(tp, t, hp->t_c1[i], -1, wi, 1, 0);
        t = tp_bn(tp, t, hp->t_bn1[i], INAS_ACT_SILU);
        t = smsu(tp, t, &hp->t_smsu2[i], arch->transport_kernels[i], 1);
        t = tp_conv(tp, t, hp->t_c2[i], -1, wi, 1, 0);
        t = tp_bn(tp, t, hp->t_bn2[i], INAS_ACT_NONE);
        t = tp_add(tp, t, xm);
        tr[i] = tp_act(tp, t, INAS_ACT_SILU);
    }
    for (int i = nl - 1; i >= 0; i--) {
        int wi = inas_arch_level_width(arch, sp, i);
        int size = tr[i] >= 0 ? tp_value(tp, tr[i])->shape[2] : 0;
        uint32_t levels = inas_arch_decoder_levels(arch, i);
        int br[INAS_OP_MEAN_MAX], nb = 0;
        br[nb++] = tr[i];
        for (int j = i + 1; j < nl; j++) {
            if (!(levels & (1u << j))) continue;
            int b = tp_conv(tp, dec[j], hp->db_w[i][j], -1, wi, 1, 0);
            b = tp_bn(tp, b, hp->db_bn[i][j], INAS_ACT_SILU);
            br[nb++] = tp_resize(tp, b, size, size, 1);
        }
        int d = tp_mean(tp, br, nb);
        d = smsu(tp, d, &hp->d_smsu[i], arch->decoder_kernels[i], 1);
        d = tp_conv(tp, d, hp->d_c[i], -1, wi, 1, 0);
        dec[i] = tp_bn(tp, d, hp->d_bn[i], INAS_ACT_SILU);
    }
    for (int i = 0; i < nl; i++) {
        int o = tp_conv(tp, dec[i], hp->out_w[i], -1, 1, 1, 0);
        o = tp_act(tp, o, INAS_ACT_SIGMOID);
        o = tp_resize(tp, o, R, R, 1);
        net->out_vars[i] = o;
        if (o < 0) {
            inas_status st = inas_ctx_last_status(ctx);
            return st != INAS_OK ? st : inas_ctx_fail(ctx, INAS_ERR_INTERNAL, "supernet forward failed");
        }
        outputs[i] = *tp_value(tp, o);
        outputs[i].block = NULL; /* owned by the tape */
    }
    return INAS_OK;
}

inas_status inas_supernet_backward(inas_supernet *net, const inas_tensor *const *doutputs) {
    inas_tape *tp = &net->tape;
    if (!tp->recording) return inas_ctx_fail(net->ctx, INAS_ERR_INVALID_ARG, "supernet backward: the last forward was not a training pass");
    for (int i = 0; i < net->space.num_levels; i++) {
        if (!doutputs[i]) continue;
        inas_status st = tp_set_grad(tp, net->out_vars[i], doutputs[i]);
        if (st != INAS_OK) return st;
    }
    return inas_tape_backward(tp);
}
