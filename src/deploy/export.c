/* export.c - exporting an architecture from the supernet (no retraining):
 * slicing its weights (first channels, first layers, centre crops times each
 * branch's transform through inas_op_smsu_fwd), folding every BN into the
 * conv before it and merging each SMSU's folded branches into one depthwise
 * kernel with bias, on the device (cl/reparam.cl). The result is an
 * in-memory inas_model whose weight names mirror the module tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/model_internal.h"
#include "deploy/reparam.h"
#include "nn/supernet_internal.h"
#include "ops/dwconv.h"

#define EX_BN_EPS 1e-5f

typedef struct exporter {
    inas_supernet *net;
    inas_model *m;
    inas_ctx *ctx;
    inas_status st;
} exporter;

/* Reads a device tensor to the host and adds it to the model. */
static void put(exporter *ex, const char *name, const inas_tensor *t, int ndim, const int *shape) {
    if (ex->st != INAS_OK) return;
    size_t n = inas_tensor_numel(t);
    float *h = malloc(n * sizeof *h);
    if (!h) {
        ex->st = inas_ctx_fail(ex->ctx, INAS_ERR_NO_MEMORY, "out of memory (export)");
        return;
    }
    ex->st = inas_tensor_read(ex->ctx, t, h);
    if (ex->st == INAS_OK && model_add_weight(ex->m, name, ndim, shape, h) < 0) ex->st = inas_ctx_last_status(ex->ctx);
    free(h);
}

static inas_tensor pval(exporter *ex, int idx) { return inas_param_value(&ex->net->ps, idx); }

/* conv [cout, cin, k, k] followed by BN: PREFIX.weight and PREFIX.bias, folded. */
static void conv_bn(exporter *ex, int w, inas_bn_ref bn, int cout, int cin, const char *prefix) {
    if (ex->st != INAS_OK) return;
    if (w < 0) {
        ex->st = inas_ctx_fail(ex->ctx, INAS_ERR_INTERNAL, "export: %s has no weight", prefix);
        return;
    }
    int k = ex->net->ps.p[w].shape[2];
    inas_tensor wv = pval(ex, w), wb = inas_param_block(&ex->net->ps, w, &wv, cout, cin, k, k);
    inas_tensor g = pval(ex, bn.gamma), b = pval(ex, bn.beta), mu = pval(ex, bn.mean), var = pval(ex, bn.var);
    inas_tensor wo = {0}, bo = {0};
    int shape[4] = {cout, cin, k, k};
    ex->st = inas_tensor_alloc(ex->ctx, &wo, cout, cin, k, k);
    if (ex->st == INAS_OK) ex->st = inas_tensor_alloc_nd(ex->ctx, &bo, 1, &cout);
    if (ex->st == INAS_OK) ex->st = inas_op_bn_fold(ex->ctx, &wb, &g, &b, &mu, &var, EX_BN_EPS, &wo, &bo);
    char name[192];
    snprintf(name, sizeof name, "%s.weight", prefix);
    put(ex, name, &wo, 4, shape);
    snprintf(name, sizeof name, "%s.bias", prefix);
    put(ex, name, &bo, 1, &cout);
    inas_tensor_free(ex->ctx, &wo);
    inas_tensor_free(ex->ctx, &bo);
}

/* conv without BN: PREFIX.weight sliced, PREFIX.bias when bias >= 0. */
static void conv_plain(exporter *ex, int w, int bias, int cout, int cin, const char *prefix) {
    if (ex->st != INAS_OK) return;
    int k = ex->net->ps.p[w].shape[2];
    inas_tensor wv = pval(ex, w), wb = inas_param_block(&ex->net->ps, w, &wv, cout, cin, k, k);
    int shape[4] = {cout, cin, k, k};
    char name[192];
    snprintf(name, sizeof name, "%s.weight", prefix);
    put(ex, name, &wb, 4, shape);
    if (bias >= 0) {
        inas_tensor bv = pval(ex, bias), bb = inas_param_block(&ex->net->ps, bias, &bv, cout, 1, 1, 1);
        snprintf(name, sizeof name, "%s.bias", prefix);
        put(ex, name, &bb, 1, &cout);
    }
}

/* SMSU on C channels with kernels: each branch k's transformed crop folded
 * with its BN (PREFIX.branchK.weight/bias), and their merge (PREFIX.weight
 * [C,1,K,K], PREFIX.bias). */
static void smsu(exporter *ex, const smsu_params *s, int C, inas_kset kernels, const char *prefix) {
    if (ex->st != INAS_OK) return;
    int K = inas_kset_max(kernels), n = inas_kset_count(kernels);
    inas_tensor W = {0}, B = {0};
    ex->st = inas_tensor_alloc(ex->ctx, &W, C, 1, K, K);
    if (ex->st == INAS_OK) ex->st = inas_tensor_alloc_nd(ex->ctx, &B, 1, &C);
    if (ex->st == INAS_OK) ex->st = inas_tensor_fill(ex->ctx, &W, 0.0f);
    if (ex->st == INAS_OK) ex->st = inas_tensor_fill(ex->ctx, &B, 0.0f);
    char name[192];
    for (int k = 1; k <= INAS_MAX_KERNEL && ex->st == INAS_OK; k += 2) {
        if (!(kernels & INAS_KSET(k))) continue;
        if (s->m[k] < 0) {
            ex->st = inas_ctx_fail(ex->ctx, INAS_ERR_INVALID_ARG, "export: %s has no kernel %d", prefix, k);
            break;
        }
        inas_tensor wt = {0}, wk = {0}, bk = {0};
        inas_tensor wv = pval(ex, s->w), mv = pval(ex, s->m[k]);
        inas_tensor g = pval(ex, s->bn[k].gamma), b = pval(ex, s->bn[k].beta), mu = pval(ex, s->bn[k].mean),
                    var = pval(ex, s->bn[k].var);
        ex->st = inas_tensor_alloc(ex->ctx, &wt, C, 1, k, k);
        if (ex->st == INAS_OK) ex->st = inas_tensor_alloc(ex->ctx, &wk, C, 1, k, k);
        if (ex->st == INAS_OK) ex->st = inas_tensor_alloc_nd(ex->ctx, &bk, 1, &C);
        if (ex->st == INAS_OK) ex->st = inas_op_smsu_fwd(ex->ctx, &wv, k, &mv, &wt);
        if (ex->st == INAS_OK) ex->st = inas_op_bn_fold(ex->ctx, &wt, &g, &b, &mu, &var, EX_BN_EPS, &wk, &bk);
        if (ex->st == INAS_OK) ex->st = inas_op_smsu_merge_acc(ex->ctx, &wk, &bk, k, 1.0f / (float)n, &W, &B);
        int shape[4] = {C, 1, k, k};
        snprintf(name, sizeof name, "%s.branch%d.weight", prefix, k);
        put(ex, name, &wk, 4, shape);
        snprintf(name, sizeof name, "%s.branch%d.bias", prefix, k);
        put(ex, name, &bk, 1, &C);
        inas_tensor_free(ex->ctx, &wt);
        inas_tensor_free(ex->ctx, &wk);
        inas_tensor_free(ex->ctx, &bk);
    }
    int shape[4] = {C, 1, K, K};
    snprintf(name, sizeof name, "%s.weight", prefix);
    put(ex, name, &W, 4, shape);
    snprintf(name, sizeof name, "%s.bias", prefix);
    put(ex, name, &B, 1, &C);
    inas_tensor_free(ex->ctx, &W);
    inas_tensor_free(ex->ctx, &B);
}

inas_status inas_model_export(inas_supernet *net, const inas_arch *arch, inas_model **out) {
    if (!net || !arch || !out)
        return inas_ctx_fail(net ? net->ctx : NULL, INAS_ERR_INVALID_ARG, "inas_model_export: null argument");
    *out = NULL;
    const inas_space *sp = &net->space;
    inas_error err;
    if (inas_arch_validate(arch, sp, &err) != INAS_OK)
        return inas_ctx_fail(net->ctx, err.code, "architecture: %s", err.message);
    exporter ex = {net, model_new(net->ctx, sp, arch), net->ctx, INAS_OK};
    if (!ex.m) return inas_ctx_fail(net->ctx, INAS_ERR_NO_MEMORY, "out of memory");
    char pre[160];
    conv_bn(&ex, net->stem_w, net->stem_bn, arch->stem_width, 3, "stem.conv");
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        for (int l = 0; l < arch->stages[s].depth; l++) {
            const layer_params *L = &net->layers[s][l];
            int in = inas_arch_layer_in(arch, s, l), o = arch->stages[s].layers[l].width;
            int mid = sp->stages[s].expand * in;
            inas_kset ks = arch->stages[s].layers[l].kernels;
            char base[96];
            snprintf(base, sizeof base, "backbone.stage%d.%d", s + 1, l);
            if (L->expand_w >= 0) {
                snprintf(pre, sizeof pre, "%s.expand.conv", base);
                conv_bn(&ex, L->expand_w, L->expand_bn, mid, in, pre);
            }
            snprintf(pre, sizeof pre, "%s.smsu", base);
            smsu(&ex, &L->smsu, mid, ks, pre);
            snprintf(pre, sizeof pre, "%s.se.reduce", base);
            conv_plain(&ex, L->se_rw, L->se_rb, mid / 4, mid, pre);
            snprintf(pre, sizeof pre, "%s.se.expand", base);
            conv_plain(&ex, L->se_ew, L->se_eb, mid, mid / 4, pre);
            snprintf(pre, sizeof pre, "%s.project.conv", base);
            conv_bn(&ex, L->proj_w, L->proj_bn, o, mid, pre);
            if (in != o) {
                if (L->short_w < 0) {
                    ex.st = inas_ctx_fail(net->ctx, INAS_ERR_INTERNAL, "export: %s has no shortcut conv", base);
                    break;
                }
                snprintf(pre, sizeof pre, "%s.shortcut.conv", base);
                conv_plain(&ex, L->short_w, -1, o, in, pre);
            }
        }
    }
    const head_params *hp = &net->head;
    int nl = sp->num_levels;
    for (int i = 0; i < nl; i++) {
        int wi = inas_arch_level_width(arch, sp, i);
        for (int j = 0; j < nl; j++) {
            if (j == i || !(arch->transport_levels[i] & (1u << j))) continue;
            snprintf(pre, sizeof pre, "head.transport%d.branch%d.conv", i, j);
            conv_bn(&ex, hp->tb_w[i][j], hp->tb_bn[i][j], wi, inas_arch_level_width(arch, sp, j), pre);
        }
        snprintf(pre, sizeof pre, "head.transport%d.smsu1", i);
        smsu(&ex, &hp->t_smsu1[i], wi, arch->transport_kernels[i], pre);
        snprintf(pre, sizeof pre, "head.transport%d.conv1", i);
        conv_bn(&ex, hp->t_c1[i], hp->t_bn1[i], wi, wi, pre);
        snprintf(pre, sizeof pre, "head.transport%d.smsu2", i);
        smsu(&ex, &hp->t_smsu2[i], wi, arch->transport_kernels[i], pre);
        snprintf(pre, sizeof pre, "head.transport%d.conv2", i);
        conv_bn(&ex, hp->t_c2[i], hp->t_bn2[i], wi, wi, pre);
    }
    for (int i = 0; i < nl; i++) {
        int wi = inas_arch_level_width(arch, sp, i);
        uint32_t levels = inas_arch_decoder_levels(arch, i);
        for (int j = i + 1; j < nl; j++) {
            if (!(levels & (1u << j))) continue;
            snprintf(pre, sizeof pre, "head.decoder%d.branch%d.conv", i, j);
            conv_bn(&ex, hp->db_w[i][j], hp->db_bn[i][j], wi, inas_arch_level_width(arch, sp, j), pre);
        }
        snprintf(pre, sizeof pre, "head.decoder%d.smsu", i);
        smsu(&ex, &hp->d_smsu[i], wi, arch->decoder_kernels[i], pre);
        snprintf(pre, sizeof pre, "head.decoder%d.conv", i);
        conv_bn(&ex, hp->d_c[i], hp->d_bn[i], wi, wi, pre);
    }
    conv_plain(&ex, hp->out_w[0], -1, 1, inas_arch_level_width(arch, sp, 0), "head.output0");
    if (ex.st != INAS_OK) {
        inas_model_destroy(ex.m);
        return ex.st;
    }
    *out = ex.m;
    return INAS_OK;
}
