/* ref_net.c - see ref_net.h. Every tensor is a dense double NCHW array; weights
 * are sliced (first channels, centre crops) by explicit copies here. */
#include "ref_net.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/util.h"
#include "ref_conv.h"
#include "ref_dwconv.h"
#include "ref_elem.h"
#include "ref_norm.h"
#include "testutil.h"

typedef struct rparam {
    char name[128];
    int shape[4];
    size_t numel;
    double *v;
} rparam;

struct ref_net {
    inas_space space;
    rparam *p;
    size_t n;
    int train;
};

typedef struct rt {
    int n, c, h, w;
    double *d;
} rt;

static rt rt_new(int n, int c, int h, int w) {
    rt t = {n, c, h, w, calloc((size_t)n * c * h * w, sizeof(double))};
    cr_assert_not_null(t.d);
    return t;
}
static size_t rt_numel(const rt *t) { return (size_t)t->n * t->c * t->h * t->w; }
static void rt_free(rt *t) {
    free(t->d);
    t->d = NULL;
}

ref_net *ref_net_load(inas_supernet *net) {
    ref_net *r = calloc(1, sizeof *r);
    r->space = *inas_supernet_space(net);
    r->n = inas_supernet_num_tensors(net);
    r->p = calloc(r->n, sizeof *r->p);
    for (size_t i = 0; i < r->n; i++) {
        rparam *p = &r->p[i];
        snprintf(p->name, sizeof p->name, "%s", inas_supernet_tensor_name(net, i));
        int nd = inas_supernet_param_shape(net, p->name, p->shape);
        for (int d = nd; d < 4; d++) p->shape[d] = 1;
        cr_assert_eq(inas_supernet_read_param(net, p->name, 0, NULL, &p->numel), INAS_OK);
        float *f = malloc(p->numel * sizeof *f);
        cr_assert_eq(inas_supernet_read_param(net, p->name, 0, f, NULL), INAS_OK);
        p->v = malloc(p->numel * sizeof *p->v);
        for (size_t k = 0; k < p->numel; k++) p->v[k] = f[k];
        free(f);
    }
    return r;
}

void ref_net_free(ref_net *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) free(r->p[i].v);
    free(r->p);
    free(r);
}

static rparam *find(ref_net *r, const char *name) {
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->p[i].name, name) == 0) return &r->p[i];
    return NULL;
}

double *ref_net_param(ref_net *r, const char *name, size_t *numel) {
    rparam *p = find(r, name);
    if (p && numel) *numel = p->numel;
    return p ? p->v : NULL;
}

static rparam *P(ref_net *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static rparam *P(ref_net *r, const char *fmt, ...) {
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    rparam *p = find(r, name);
    cr_assert_not_null(p, "reference: no parameter %s", name);
    return p;
}

/* ---- modules --------------------------------------------------------------------- */

/* 1x1 or kxk conv with the leading [cout, x.c] block of weight `w`. */
static rt conv(ref_net *r, const rt *x, const char *prefix, int has_bias, int cout, int stride, int pad) {
    rparam *w = P(r, "%s.weight", prefix);
    int k = w->shape[2], cin = x->c;
    cr_assert(cout <= w->shape[0] && cin <= w->shape[1], "%s: block %dx%d of %dx%d", prefix, cout, cin, w->shape[0],
              w->shape[1]);
    double *wb = malloc((size_t)cout * cin * k * k * sizeof *wb);
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < cin; i++)
            memcpy(wb + ((size_t)o * cin + i) * k * k, w->v + ((size_t)o * w->shape[1] + i) * k * k,
                   (size_t)k * k * sizeof *wb);
    ref_conv_shape s = {x->n, cin, x->h, x->w, cout, k, stride, pad};
    rt y = rt_new(x->n, cout, ref_conv_ho(&s), ref_conv_wo(&s));
    ref_conv_fwd(&s, x->d, wb, has_bias ? P(r, "%s.bias", prefix)->v : NULL, 0, y.d);
    free(wb);
    return y;
}

static rt bn(ref_net *r, const rt *x, const char *prefix, int act) {
    rt y = rt_new(x->n, x->c, x->h, x->w);
    const double *g = P(r, "%s.weight", prefix)->v, *b = P(r, "%s.bias", prefix)->v;
    if (r->train) ref_bn_train(x->d, x->n, x->c, x->h * x->w, g, b, 1e-5, act, y.d, NULL, NULL);
    else
        ref_bn_eval(x->d, x->n, x->c, x->h * x->w, g, b, P(r, "%s.running_mean", prefix)->v,
                    P(r, "%s.running_var", prefix)->v, 1e-5, act, y.d);
    return y;
}

static void act_inplace(rt *x, int act) {
    for (size_t i = 0; i < rt_numel(x); i++) x->d[i] = ref_act(act, x->d[i]);
}

static rt mean_of(rt *xs, int k) {
    rt y = rt_new(xs[0].n, xs[0].c, xs[0].h, xs[0].w);
    for (size_t i = 0; i < rt_numel(&y); i++) {
        double s = 0;
        for (int j = 0; j < k; j++) s += xs[j].d[i];
        y.d[i] = s / k;
    }
    return y;
}

static void add_inplace(rt *a, const rt *b) {
    cr_assert_eq(rt_numel(a), rt_numel(b));
    for (size_t i = 0; i < rt_numel(a); i++) a->d[i] += b->d[i];
}

static rt resize(const rt *x, int h, int w) {
    rt y = rt_new(x->n, x->c, h, w);
    ref_resize_fwd(0, 1, x->n, x->c, x->h, x->w, h, w, x->d, y.d);
    return y;
}

/* SMSU: mean over the chosen kernels k of BN_k(dwconv(x, M_k crop_k(W[:C]))). */
static rt smsu(ref_net *r, const rt *x, const char *prefix, inas_kset kernels, int stride) {
    rparam *w = P(r, "%s.weight", prefix);
    int C = x->c, Kw = w->shape[2];
    rt ys[8];
    int n = 0;
    for (int k = 1; k <= INAS_MAX_KERNEL; k += 2) {
        if (!(kernels & INAS_KSET(k))) continue;
        int o = (Kw - k) / 2;
        double *crop = malloc((size_t)C * k * k * sizeof *crop), *wt = malloc((size_t)C * k * k * sizeof *wt);
        for (int c = 0; c < C; c++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    crop[((size_t)c * k + i) * k + j] = w->v[((size_t)c * Kw + o + i) * Kw + o + j];
        ref_smsu_fwd(crop, P(r, "%s.transform%d", prefix, k)->v, C, k, wt);
        rt d = rt_new(x->n, C, ref_dw_out(x->h, k, stride, 1), ref_dw_out(x->w, k, stride, 1));
        ref_dwconv_fwd(x->d, x->n, C, x->h, x->w, wt, k, stride, 1, NULL, 0, d.d);
        char bp[192];
        snprintf(bp, sizeof bp, "%s.bn%d", prefix, k);
        ys[n++] = bn(r, &d, bp, 0);
        rt_free(&d);
        free(crop);
        free(wt);
    }
    rt y = mean_of(ys, n);
    for (int i = 0; i < n; i++) rt_free(&ys[i]);
    return y;
}

static rt mbconv(ref_net *r, const rt *x, int s, int l, int out, int stride, inas_kset kernels) {
    const inas_space_stage *st = &r->space.stages[s];
    char base[96], p[160];
    snprintf(base, sizeof base, "backbone.stage%d.%d", s + 1, l);
    int mid = st->expand * x->c;
    rt h;
    if (st->expand != 1) {
        snprintf(p, sizeof p, "%s.expand.conv", base);
        rt e = conv(r, x, p, 0, mid, 1, 0);
        snprintf(p, sizeof p, "%s.expand.bn", base);
        h = bn(r, &e, p, 3);
        rt_free(&e);
    } else {
        h = rt_new(x->n, x->c, x->h, x->w);
        memcpy(h.d, x->d, rt_numel(x) * sizeof(double));
    }
    snprintf(p, sizeof p, "%s.smsu", base);
    rt m = smsu(r, &h, p, kernels, stride);
    rt_free(&h);
    act_inplace(&m, 3);
    /* SE */
    rt g = rt_new(m.n, m.c, 1, 1);
    for (int n = 0; n < m.n; n++)
        for (int c = 0; c < m.c; c++) {
            double sum = 0;
            for (int i = 0; i < m.h * m.w; i++) sum += m.d[((size_t)n * m.c + c) * m.h * m.w + i];
            g.d[n * m.c + c] = sum / (m.h * m.w);
        }
    snprintf(p, sizeof p, "%s.se.reduce", base);
    rt s1 = conv(r, &g, p, 1, mid / 4, 1, 0);
    act_inplace(&s1, 1);
    snprintf(p, sizeof p, "%s.se.expand", base);
    rt s2 = conv(r, &s1, p, 1, mid, 1, 0);
    act_inplace(&s2, 5);
    for (int n = 0; n < m.n; n++)
        for (int c = 0; c < m.c; c++)
            for (int i = 0; i < m.h * m.w; i++) m.d[((size_t)n * m.c + c) * m.h * m.w + i] *= s2.d[n * m.c + c];
    snprintf(p, sizeof p, "%s.project.conv", base);
    rt pr = conv(r, &m, p, 0, out, 1, 0);
    snprintf(p, sizeof p, "%s.project.bn", base);
    rt y = bn(r, &pr, p, 0);
    /* shortcut */
    rt sc = rt_new(x->n, x->c, x->h, x->w);
    memcpy(sc.d, x->d, rt_numel(x) * sizeof(double));
    if (stride == 2) {
        rt a = rt_new(x->n, x->c, (x->h + 1) / 2, (x->w + 1) / 2);
        ref_avgpool2_fwd(1, x->n, x->c, x->h, x->w, sc.d, a.d);
        rt_free(&sc);
        sc = a;
    }
    if (x->c != out) {
        snprintf(p, sizeof p, "%s.shortcut.conv", base);
        rt c = conv(r, &sc, p, 0, out, 1, 0);
        rt_free(&sc);
        sc = c;
    }
    add_inplace(&y, &sc);
    rt_free(&sc);
    rt_free(&pr);
    rt_free(&m);
    rt_free(&g);
    rt_free(&s1);
    rt_free(&s2);
    return y;
}

void ref_net_forward(ref_net *r, const inas_arch *arch, const double *xin, int n, int R, int train, double *out) {
    const inas_space *sp = &r->space;
    r->train = train;
    rt x = rt_new(n, 3, R, R);
    memcpy(x.d, xin, rt_numel(&x) * sizeof(double));
    rt c = conv(r, &x, "stem.conv", 0, arch->stem_width, sp->stem.stride, sp->stem.kernel / 2);
    rt h = bn(r, &c, "stem.bn", 3);
    rt_free(&c);
    rt_free(&x);
    rt feat[INAS_MAX_LEVELS];
    int nl = sp->num_levels;
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        for (int l = 0; l < arch->stages[s].depth; l++) {
            int stride = l == 0 ? sp->stages[s].stride : 1;
            rt y = mbconv(r, &h, s, l, arch->stages[s].layers[l].width, stride, arch->stages[s].layers[l].kernels);
            rt_free(&h);
            h = y;
        }
        for (int i = 0; i < nl; i++)
            if (sp->level_stage[i] == s) {
                feat[i] = rt_new(h.n, h.c, h.h, h.w);
                memcpy(feat[i].d, h.d, rt_numel(&h) * sizeof(double));
            }
    }
    rt_free(&h);
    char p[160];
    rt tr[INAS_MAX_LEVELS], dec[INAS_MAX_LEVELS];
    for (int i = 0; i < nl; i++) {
        int wi = feat[i].c;
        rt br[8];
        int nb = 0;
        for (int j = 0; j < nl; j++) {
            if (!(arch->transport_levels[i] & (1u << j))) continue;
            if (j == i) {
                br[nb] = rt_new(feat[i].n, wi, feat[i].h, feat[i].w);
                memcpy(br[nb].d, feat[i].d, rt_numel(&feat[i]) * sizeof(double));
            } else if (j > i) {
                snprintf(p, sizeof p, "head.transport%d.branch%d.conv", i, j);
                rt a = conv(r, &feat[j], p, 0, wi, 1, 0);
                snprintf(p, sizeof p, "head.transport%d.branch%d.bn", i, j);
                rt b = bn(r, &a, p, 0);
                br[nb] = resize(&b, feat[i].h, feat[i].w);
                rt_free(&a);
                rt_free(&b);
            } else {
                int k = 1 << (i - j);
                rt m = rt_new(feat[j].n, feat[j].c, feat[j].h / k, feat[j].w / k);
                ref_maxpool_fwd(k, feat[j].n, feat[j].c, feat[j].h, feat[j].w, feat[j].d, m.d);
                snprintf(p, sizeof p, "head.transport%d.branch%d.conv", i, j);
                rt a = conv(r, &m, p, 0, wi, 1, 0);
                snprintf(p, sizeof p, "head.transport%d.branch%d.bn", i, j);
                br[nb] = bn(r, &a, p, 0);
                rt_free(&a);
                rt_free(&m);
            }
            nb++;
        }
        rt xm = mean_of(br, nb);
        for (int b = 0; b < nb; b++) rt_free(&br[b]);
        snprintf(p, sizeof p, "head.transport%d.smsu1", i);
        rt t1 = smsu(r, &xm, p, arch->transport_kernels[i], 1);
        snprintf(p, sizeof p, "head.transport%d.conv1", i);
        rt t2 = conv(r, &t1, p, 0, wi, 1, 0);
        snprintf(p, sizeof p, "head.transport%d.bn1", i);
        rt t3 = bn(r, &t2, p, 3);
        snprintf(p, sizeof p, "head.transport%d.smsu2", i);
        rt t4 = smsu(r, &t3, p, arch->transport_kernels[i], 1);
        snprintf(p, sizeof p, "head.transport%d.conv2", i);
        rt t5 = conv(r, &t4, p, 0, wi, 1, 0);
        snprintf(p, sizeof p, "head.transport%d.bn2", i);
        tr[i] = bn(r, &t5, p, 0);
        add_inplace(&tr[i], &xm);
        act_inplace(&tr[i], 3);
        rt_free(&xm);
        rt_free(&t1);
        rt_free(&t2);
        rt_free(&t3);
        rt_free(&t4);
        rt_free(&t5);
    }
    for (int i = nl - 1; i >= 0; i--) {
        int wi = tr[i].c;
        rt br[8];
        int nb = 0;
        br[nb] = rt_new(tr[i].n, wi, tr[i].h, tr[i].w);
        memcpy(br[nb++].d, tr[i].d, rt_numel(&tr[i]) * sizeof(double));
        for (int j = i + 1; j < nl; j++) {
            int used = j == i + 1 || (arch->decoder_extra[i] & (1u << j));
            if (!used) continue;
            snprintf(p, sizeof p, "head.decoder%d.branch%d.conv", i, j);
            rt a = conv(r, &dec[j], p, 0, wi, 1, 0);
            snprintf(p, sizeof p, "head.decoder%d.branch%d.bn", i, j);
            rt b = bn(r, &a, p, 3);
            br[nb++] = resize(&b, tr[i].h, tr[i].w);
            rt_free(&a);
            rt_free(&b);
        }
        rt m = mean_of(br, nb);
        for (int b = 0; b < nb; b++) rt_free(&br[b]);
        snprintf(p, sizeof p, "head.decoder%d.smsu", i);
        rt d1 = smsu(r, &m, p, arch->decoder_kernels[i], 1);
        snprintf(p, sizeof p, "head.decoder%d.conv", i);
        rt d2 = conv(r, &d1, p, 0, wi, 1, 0);
        snprintf(p, sizeof p, "head.decoder%d.bn", i);
        dec[i] = bn(r, &d2, p, 3);
        rt_free(&m);
        rt_free(&d1);
        rt_free(&d2);
    }
    for (int i = 0; i < nl; i++) {
        snprintf(p, sizeof p, "head.output%d", i);
        rt o = conv(r, &dec[i], p, 0, 1, 1, 0);
        act_inplace(&o, 4);
        rt u = resize(&o, R, R);
        memcpy(out + (size_t)i * n * R * R, u.d, (size_t)n * R * R * sizeof(double));
        rt_free(&o);
        rt_free(&u);
    }
    for (int i = 0; i < nl; i++) {
        rt_free(&feat[i]);
        rt_free(&tr[i]);
        rt_free(&dec[i]);
    }
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

void ref_net_randomize(inas_supernet *net, uint64_t seed) {
    inas_rng r;
    inas_rng_seed(&r, seed);
    for (size_t i = 0; i < inas_supernet_num_tensors(net); i++) {
        const char *name = inas_supernet_tensor_name(net, i);
        int shape[4];
        int nd = inas_supernet_param_shape(net, name, shape);
        size_t n;
        cr_assert_eq(inas_supernet_read_param(net, name, 0, NULL, &n), INAS_OK);
        float *v = malloc(n * sizeof *v);
        cr_assert_eq(inas_supernet_read_param(net, name, 0, v, NULL), INAS_OK);
        for (size_t k = 0; k < n; k++) {
            float u = inas_rng_float(&r);
            if (ends_with(name, "running_var")) v[k] = 0.5f + u;
            else if (ends_with(name, "running_mean")) v[k] = 0.4f * u - 0.2f;
            else if (strstr(name, ".transform")) v[k] += 0.2f * u - 0.1f;
            else if (nd == 1 && ends_with(name, ".weight")) v[k] = 0.6f + 0.8f * u;
            else if (nd == 1) v[k] = 0.4f * u - 0.2f;
            else v[k] = v[k] * 1.5f + 0.02f * (u - 0.5f);
        }
        cr_assert_eq(inas_supernet_write_param(net, name, v), INAS_OK);
        free(v);
    }
}
