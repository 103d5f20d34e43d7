/* arch.c - architecture validity, identity (canonical form, equality, hash),
 * channel helpers and the compact one-line form. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "inas/arch.h"

/* ---- validity ------------------------------------------------------------------------------------ */

static int width_ok(int w, int mn, int mx, int step) { return w >= mn && w <= mx && (w - mn) % step == 0; }

static inas_status bad(inas_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static inas_status bad(inas_error *err, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return inas_error_set(err, INAS_ERR_INVALID_ARG, "architecture: %s", msg);
}

static inas_status check_kset(inas_kset k, inas_kset allowed, const char *what, inas_error *err) {
    char a[128], b[128];
    if (k == 0) return bad(err, "%s: the kernel subset is empty", what);
    if (k & ~allowed)
        return bad(err, "%s: kernels {%s} are not a subset of {%s}", what, inas_kset_format(k, a, sizeof a),
                   inas_kset_format(allowed, b, sizeof b));
    return INAS_OK;
}

inas_status inas_arch_validate(const inas_arch *a, const inas_space *sp, inas_error *err) {
    if (!a || !sp) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_arch_validate: NULL argument");
    int res_ok = a->resolution == sp->eval_res;
    for (int i = 0; i < sp->num_train_res; i++) res_ok |= a->resolution == sp->train_res[i];
    if (!res_ok) return bad(err, "resolution %d is neither a training resolution nor the eval resolution %d",
                            a->resolution, sp->eval_res);
    const inas_space_stem *st = &sp->stem;
    if (!width_ok(a->stem_width, st->width_min, st->width_max, st->width_step))
        return bad(err, "stem: width %d is not one of %d..%d step %d", a->stem_width, st->width_min, st->width_max,
                   st->width_step);
    char what[64];
    inas_status s;
    for (int si = 0; si < INAS_SPACE_STAGES; si++) {
        const inas_space_stage *g = &sp->stages[si];
        const inas_arch_stage *as = &a->stages[si];
        if (as->depth < g->depth_min || as->depth > g->depth_max)
            return bad(err, "stage %d: depth %d is not in %d..%d", si + 1, as->depth, g->depth_min, g->depth_max);
        for (int l = 0; l < as->depth; l++) {
            const inas_arch_layer *ly = &as->layers[l];
            if (!width_ok(ly->width, g->width_min, g->width_max, g->width_step))
                return bad(err, "stage %d layer %d: width %d is not one of %d..%d step %d", si + 1, l + 1, ly->width,
                           g->width_min, g->width_max, g->width_step);
            snprintf(what, sizeof what, "stage %d layer %d", si + 1, l + 1);
            if ((s = check_kset(ly->kernels, g->kernels, what, err))) return s;
        }
    }
    int L = sp->num_levels;
    if (a->num_levels != L) return bad(err, "%d head levels; the space has %d", a->num_levels, L);
    uint32_t all = (1u << L) - 1;
    for (int i = 0; i < L; i++) {
        uint32_t t = a->transport_levels[i];
        if (!(t & (1u << i))) return bad(err, "transport level %d: the fused levels must include %d itself", i, i);
        if (t & ~all) return bad(err, "transport level %d: fuses a level beyond %d", i, L - 1);
        snprintf(what, sizeof what, "transport level %d", i);
        if ((s = check_kset(a->transport_kernels[i], sp->head_kernels, what, err))) return s;
        uint32_t allowed_extra = i + 2 < L ? all & ~((1u << (i + 2)) - 1) : 0;
        if (a->decoder_extra[i] & ~allowed_extra)
            return bad(err, "decoder level %d: extra levels must be deeper than %d (and below %d)", i, i + 1, L);
        snprintf(what, sizeof what, "decoder level %d", i);
        if ((s = check_kset(a->decoder_kernels[i], sp->head_kernels, what, err))) return s;
    }
    return INAS_OK;
}

/* ---- identity -------------------------------------------------------------------------------------- */

void inas_arch_canonicalize(inas_arch *a) {
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        inas_arch_stage *st = &a->stages[s];
        int d = st->depth < 0 ? 0 : st->depth > INAS_MAX_DEPTH ? INAS_MAX_DEPTH : st->depth;
        memset(&st->layers[d], 0, sizeof(inas_arch_layer) * (size_t)(INAS_MAX_DEPTH - d));
    }
    int L = a->num_levels < 0 ? 0 : a->num_levels > INAS_MAX_LEVELS ? INAS_MAX_LEVELS : a->num_levels;
    for (int i = L; i < INAS_MAX_LEVELS; i++) {
        a->transport_levels[i] = a->transport_kernels[i] = 0;
        a->decoder_extra[i] = a->decoder_kernels[i] = 0;
    }
}

int inas_arch_equal(const inas_arch *a, const inas_arch *b) {
    if (a->resolution != b->resolution || a->stem_width != b->stem_width || a->num_levels != b->num_levels) return 0;
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        const inas_arch_stage *x = &a->stages[s], *y = &b->stages[s];
        if (x->depth != y->depth) return 0;
        for (int l = 0; l < x->depth && l < INAS_MAX_DEPTH; l++)
            if (x->layers[l].width != y->layers[l].width || x->layers[l].kernels != y->layers[l].kernels) return 0;
    }
    for (int i = 0; i < a->num_levels && i < INAS_MAX_LEVELS; i++)
        if (a->transport_levels[i] != b->transport_levels[i] || a->transport_kernels[i] != b->transport_kernels[i] ||
            a->decoder_extra[i] != b->decoder_extra[i] || a->decoder_kernels[i] != b->decoder_kernels[i])
            return 0;
    return 1;
}

static uint64_t fnv(uint64_t h, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        h ^= (v >> (8 * i)) & 0xffu;
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t inas_arch_hash(const inas_arch *a) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, (uint32_t)a->resolution);
    h = fnv(h, (uint32_t)a->stem_width);
    h = fnv(h, (uint32_t)a->num_levels);
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        const inas_arch_stage *x = &a->stages[s];
        h = fnv(h, (uint32_t)x->depth);
        for (int l = 0; l < x->depth && l < INAS_MAX_DEPTH; l++) {
            h = fnv(h, (uint32_t)x->layers[l].width);
            h = fnv(h, x->layers[l].kernels);
        }
    }
    for (int i = 0; i < a->num_levels && i < INAS_MAX_LEVELS; i++) {
        h = fnv(h, a->transport_levels[i]);
        h = fnv(h, a->transport_kernels[i]);
        h = fnv(h, a->decoder_extra[i]);
        h = fnv(h, a->decoder_kernels[i]);
    }
    return h;
}

/* ---- channels --------------------------------------------------------------------------------------- */

int inas_arch_layer_out(const inas_arch *a, int stage, int layer) { return a->stages[stage].layers[layer].width; }

int inas_arch_stage_width(const inas_arch *a, int stage) {
    const inas_arch_stage *s = &a->stages[stage];
    return s->depth > 0 ? s->layers[s->depth - 1].width : 0;
}

int inas_arch_layer_in(const inas_arch *a, int stage, int layer) {
    if (layer > 0) return a->stages[stage].layers[layer - 1].width;
    return stage == 0 ? a->stem_width : inas_arch_stage_width(a, stage - 1);
}

int inas_arch_layer_mid(const inas_arch *a, const inas_space *sp, int stage, int layer) {
    return sp->stages[stage].expand * inas_arch_layer_in(a, stage, layer);
}

int inas_arch_level_width(const inas_arch *a, const inas_space *sp, int level) {
    return inas_arch_stage_width(a, sp->level_stage[level]);
}

uint32_t inas_arch_decoder_levels(const inas_arch *a, int level) {
    uint32_t m = (1u << level) | a->decoder_extra[level];
    if (level + 1 < a->num_levels) m |= 1u << (level + 1);
    return m;
}

/* ---- compact form ---------------------------------------------------------------------------------- */

typedef struct sbuf {
    char *buf;
    size_t len, at;
} sbuf;

static void put(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void put(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->buf && b->at < b->len ? b->buf + b->at : NULL, b->at < b->len ? b->len - b->at : 0, fmt,
                      ap);
    va_end(ap);
    if (w > 0) b->at += (size_t)w;
}

static void put_levels(sbuf *b, uint32_t m, int plus_first) {
    int first = 1;
    for (int j = 0; j < 32; j++) {
        if (!(m & (1u << j))) continue;
        put(b, "%s%d", (first && !plus_first) ? "" : "+", j);
        first = 0;
    }
}

size_t inas_arch_format_compact(const inas_arch *a, char *buf, size_t len) {
    sbuf b = {buf, len, 0};
    if (buf && len) buf[0] = '\0';
    char k[128];
    put(&b, "r%d s%d", a->resolution, a->stem_width);
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        put(&b, " | %d:", s + 1);
        for (int l = 0; l < a->stages[s].depth && l < INAS_MAX_DEPTH; l++)
            put(&b, "%s%dk%s", l ? " " : "", a->stages[s].layers[l].width,
                inas_kset_format(a->stages[s].layers[l].kernels, k, sizeof k));
    }
    for (int i = 0; i < a->num_levels && i < INAS_MAX_LEVELS; i++) {
        put(&b, " | t%d:", i);
        put_levels(&b, a->transport_levels[i], 0);
        put(&b, " k%s", inas_kset_format(a->transport_kernels[i], k, sizeof k));
    }
    for (int i = 0; i < a->num_levels && i < INAS_MAX_LEVELS; i++) {
        put(&b, " | d%d:", i);
        if (a->decoder_extra[i]) {
            put_levels(&b, a->decoder_extra[i], 1);
            put(&b, " ");
        }
        put(&b, "k%s", inas_kset_format(a->decoder_kernels[i], k, sizeof k));
    }
    if (buf && len && b.at >= len) buf[len - 1] = '\0';
    return b.at;
}

/* A cursor over the compact text; errors name the character position. */
typedef struct cur {
    const char *text, *p;
    inas_error *err;
} cur;

static inas_status cfail(cur *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static inas_status cfail(cur *c, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char near[24];
    snprintf(near, sizeof near, "%s", c->p);
    return inas_error_set(c->err, INAS_ERR_FORMAT, "compact architecture, column %d (near '%s'): %s",
                          (int)(c->p - c->text) + 1, near, msg);
}

static void skip_ws(cur *c) {
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r') c->p++;
}

static int eat(cur *c, char ch) {
    if (*c->p != ch) return 0;
    c->p++;
    return 1;
}

static inas_status num(cur *c, long lo, long hi, int *out, const char *what) {
    if (!isdigit((unsigned char)*c->p)) return cfail(c, "expected %s (a number)", what);
    errno = 0;
    char *end;
    long v = strtol(c->p, &end, 10);
    if (errno || v < lo || v > hi) return cfail(c, "%s %ld out of range [%ld, %ld]", what, v, lo, hi);
    c->p = end;
    *out = (int)v;
    return INAS_OK;
}

static inas_status klist(cur *c, inas_kset *out) {
    inas_kset m = 0;
    int prev = 0;
    inas_status st;
    do {
        int k;
        if ((st = num(c, 1, INAS_MAX_KERNEL, &k, "a kernel size"))) return st;
        if (k % 2 == 0) return cfail(c, "kernel size %d is even", k);
        if (k <= prev) return cfail(c, "kernel sizes must increase");
        prev = k;
        m |= 1u << k;
    } while (eat(c, ','));
    *out = m;
    return INAS_OK;
}

static inas_status sep(cur *c, int last) {
    skip_ws(c);
    if (last) {
        if (*c->p) return cfail(c, "unexpected text after the last decoder level");
        return INAS_OK;
    }
    if (!eat(c, '|')) return cfail(c, "expected '|'");
    skip_ws(c);
    return INAS_OK;
}

inas_status inas_arch_parse_compact(const char *text, inas_arch *out, inas_error *err) {
    if (!text || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_arch_parse_compact: NULL argument");
    cur c = {text, text, err};
    inas_arch a;
    memset(&a, 0, sizeof a);
    inas_status st;
    skip_ws(&c);
    if (!eat(&c, 'r')) return cfail(&c, "expected 'r<resolution>'");
    if ((st = num(&c, 1, 8192, &a.resolution, "the resolution"))) return st;
    skip_ws(&c);
    if (!eat(&c, 's')) return cfail(&c, "expected 's<stem width>'");
    if ((st = num(&c, 1, 4096, &a.stem_width, "the stem width"))) return st;
    if ((st = sep(&c, 0))) return st;
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        int n;
        if ((st = num(&c, 1, INAS_SPACE_STAGES, &n, "a stage number"))) return st;
        if (n != s + 1) return cfail(&c, "expected stage %d, got %d (stages 1..7 in order)", s + 1, n);
        if (!eat(&c, ':')) return cfail(&c, "expected ':' after the stage number");
        skip_ws(&c);
        inas_arch_stage *as = &a.stages[s];
        while (isdigit((unsigned char)*c.p)) {
            if (as->depth == INAS_MAX_DEPTH) return cfail(&c, "more than %d layers", INAS_MAX_DEPTH);
            inas_arch_layer *ly = &as->layers[as->depth++];
            if ((st = num(&c, 1, 4096, &ly->width, "a layer width"))) return st;
            if (!eat(&c, 'k')) return cfail(&c, "expected 'k' and the kernel sizes after the width");
            if ((st = klist(&c, &ly->kernels))) return st;
            skip_ws(&c);
        }
        if (as->depth == 0) return cfail(&c, "stage %d has no layers", s + 1);
        if ((st = sep(&c, 0))) return st;
    }
    int L = 0;
    while (*c.p == 't') {
        c.p++;
        int i;
        if ((st = num(&c, 0, INAS_MAX_LEVELS - 1, &i, "a level number"))) return st;
        if (i != L) return cfail(&c, "expected transport level %d, got %d", L, i);
        if (!eat(&c, ':')) return cfail(&c, "expected ':' after the level number");
        uint32_t m = 0;
        int prev = -1;
        do {
            int j;
            if ((st = num(&c, 0, INAS_MAX_LEVELS - 1, &j, "a level"))) return st;
            if (j <= prev) return cfail(&c, "levels must increase");
            prev = j;
            m |= 1u << j;
        } while (eat(&c, '+'));
        a.transport_levels[i] = m;
        skip_ws(&c);
        if (!eat(&c, 'k')) return cfail(&c, "expected 'k' and the kernel sizes");
        if ((st = klist(&c, &a.transport_kernels[i]))) return st;
        L++;
        if ((st = sep(&c, 0))) return st;
    }
    if (L == 0) return cfail(&c, "expected transport levels 't0:...'");
    a.num_levels = L;
    for (int i = 0; i < L; i++) {
        int n;
        if (!eat(&c, 'd')) return cfail(&c, "expected decoder level 'd%d:...'", i);
        if ((st = num(&c, 0, INAS_MAX_LEVELS - 1, &n, "a level number"))) return st;
        if (n != i) return cfail(&c, "expected decoder level %d, got %d", i, n);
        if (!eat(&c, ':')) return cfail(&c, "expected ':' after the level number");
        uint32_t m = 0;
        int prev = -1;
        while (eat(&c, '+')) {
            int j;
            if ((st = num(&c, 0, INAS_MAX_LEVELS - 1, &j, "a level"))) return st;
            if (j <= prev) return cfail(&c, "levels must increase");
            prev = j;
            m |= 1u << j;
        }
        a.decoder_extra[i] = m;
        skip_ws(&c);
        if (!eat(&c, 'k')) return cfail(&c, "expected 'k' and the kernel sizes");
        if ((st = klist(&c, &a.decoder_kernels[i]))) return st;
        if ((st = sep(&c, i == L - 1))) return st;
    }
    *out = a;
    return INAS_OK;
}
