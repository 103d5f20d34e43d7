/* blocks.c - the deployable blocks of a search space (include/inas/lut.h):
 * key text forms, the enumeration of every distinct key of a space at an
 * input size, the blocks of one architecture, and the space hash. Mirrors the
 * network that src/deploy/engine.c plans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/lut.h"

static const char *const kind_names[INAS_BLOCK_KINDS] = {"stem",    "mbconv", "tbranch", "tfuse",
                                                          "dbranch", "dfuse",  "output",  "overhead"};

char *inas_block_key_format(const inas_block_key *k, char *buf, size_t len) {
    switch (k->kind) {
    case INAS_BLOCK_STEM:
        snprintf(buf, len, "stem c%d-%d k%d s%d r%d-%d", k->cin, k->cout, k->k, k->stride, k->rin, k->rout);
        break;
    case INAS_BLOCK_MBCONV:
        snprintf(buf, len, "mbconv c%d-%d m%d k%d s%d r%d-%d", k->cin, k->cout, k->mid, k->k, k->stride, k->rin,
                 k->rout);
        break;
    case INAS_BLOCK_TBRANCH:
    case INAS_BLOCK_DBRANCH:
        snprintf(buf, len, "%s l%d-%d c%d-%d r%d-%d", kind_names[k->kind], k->src, k->dst, k->cin, k->cout, k->rin,
                 k->rout);
        break;
    case INAS_BLOCK_TFUSE:
    case INAS_BLOCK_DFUSE:
        snprintf(buf, len, "%s n%d c%d k%d r%d", kind_names[k->kind], k->branches, k->cout, k->k, k->rin);
        break;
    case INAS_BLOCK_OUTPUT: snprintf(buf, len, "output c%d r%d-%d", k->cin, k->rin, k->rout); break;
    default: snprintf(buf, len, "overhead"); break;
    }
    return buf;
}

inas_status inas_block_key_parse(const char *text, inas_block_key *out, inas_error *err) {
    inas_block_key k;
    memset(&k, 0, sizeof k);
    char kind[16];
    int used = 0, n = -1;
    if (sscanf(text, "%15s%n", kind, &used) != 1) return inas_error_set(err, INAS_ERR_FORMAT, "empty block key");
    const char *r = text + used;
    int ki = -1;
    for (int i = 0; i < INAS_BLOCK_KINDS; i++)
        if (strcmp(kind, kind_names[i]) == 0) ki = i;
    if (ki < 0) return inas_error_set(err, INAS_ERR_FORMAT, "block key '%s': unknown kind '%s'", text, kind);
    k.kind = (inas_block_kind)ki;
    int ok = 0;
    switch (k.kind) {
    case INAS_BLOCK_STEM:
        ok = sscanf(r, " c%d-%d k%d s%d r%d-%d%n", &k.cin, &k.cout, &k.k, &k.stride, &k.rin, &k.rout, &n) == 6;
        break;
    case INAS_BLOCK_MBCONV:
        ok = sscanf(r, " c%d-%d m%d k%d s%d r%d-%d%n", &k.cin, &k.cout, &k.mid, &k.k, &k.stride, &k.rin, &k.rout,
                    &n) == 7;
        break;
    case INAS_BLOCK_TBRANCH:
    case INAS_BLOCK_DBRANCH:
        ok = sscanf(r, " l%d-%d c%d-%d r%d-%d%n", &k.src, &k.dst, &k.cin, &k.cout, &k.rin, &k.rout, &n) == 6;
        break;
    case INAS_BLOCK_TFUSE:
    case INAS_BLOCK_DFUSE:
        ok = sscanf(r, " n%d c%d k%d r%d%n", &k.branches, &k.cout, &k.k, &k.rin, &n) == 4;
        k.cin = k.cout;
        k.rout = k.rin;
        break;
    case INAS_BLOCK_OUTPUT:
        ok = sscanf(r, " c%d r%d-%d%n", &k.cin, &k.rin, &k.rout, &n) == 3;
        k.cout = 1;
        break;
    default:
        n = 0;
        ok = 1;
        break;
    }
    char back[INAS_BLOCK_KEY_MAX];
    if (!ok || n < 0 || r[n] != '\0' || strcmp(inas_block_key_format(&k, back, sizeof back), text) != 0)
        return inas_error_set(err, INAS_ERR_FORMAT, "malformed block key '%s'", text);
    *out = k;
    return INAS_OK;
}

/* ---- geometry shared by the enumeration and the blocks of an arch ------------------------- */

static int stem_out(const inas_space *sp, int R) {
    return (R + 2 * (sp->stem.kernel / 2) - sp->stem.kernel) / sp->stem.stride + 1;
}
/* Input size of stage s. */
static int stage_in_res(const inas_space *sp, int R, int s) {
    int r = stem_out(sp, R);
    for (int i = 0; i < s; i++) r /= sp->stages[i].stride;
    return r;
}
static int level_res(const inas_space *sp, int R, int level) { return R / inas_space_level_stride(sp, level); }

static inas_block_key mb_key(const inas_space *sp, int R, int s, int l, int cin, int cout, int k) {
    inas_block_key b;
    memset(&b, 0, sizeof b);
    b.kind = INAS_BLOCK_MBCONV;
    b.cin = cin;
    b.cout = cout;
    b.mid = sp->stages[s].expand * cin;
    b.k = k;
    b.stride = inas_space_layer_stride(sp, s, l);
    b.rin = stage_in_res(sp, R, s) ;
    if (l > 0) b.rin /= sp->stages[s].stride;
    b.rout = (b.rin + b.stride - 1) / b.stride;
    return b;
}
static inas_block_key br_key(inas_block_kind kind, const inas_space *sp, int R, int src, int dst, int cin, int cout) {
    inas_block_key b;
    memset(&b, 0, sizeof b);
    b.kind = kind;
    b.src = src;
    b.dst = dst;
    b.cin = cin;
    b.cout = cout;
    b.rin = level_res(sp, R, src);
    b.rout = level_res(sp, R, dst);
    return b;
}
static inas_block_key fuse_key(inas_block_kind kind, const inas_space *sp, int R, int level, int n, int c, int k) {
    inas_block_key b;
    memset(&b, 0, sizeof b);
    b.kind = kind;
    b.branches = n;
    b.cin = b.cout = c;
    b.k = k;
    b.rin = b.rout = level_res(sp, R, level);
    return b;
}
static inas_block_key stem_key(const inas_space *sp, int R, int w) {
    inas_block_key b;
    memset(&b, 0, sizeof b);
    b.kind = INAS_BLOCK_STEM;
    b.cin = 3;
    b.cout = w;
    b.k = sp->stem.kernel;
    b.stride = sp->stem.stride;
    b.rin = R;
    b.rout = stem_out(sp, R);
    return b;
}
static inas_block_key out_key(const inas_space *sp, int R, int w0) {
    inas_block_key b;
    memset(&b, 0, sizeof b);
    b.kind = INAS_BLOCK_OUTPUT;
    b.cin = w0;
    b.cout = 1;
    b.rin = level_res(sp, R, 0);
    b.rout = R;
    return b;
}

static inas_status check_res(const inas_space *sp, int R, inas_error *err) {
    inas_status st = inas_space_validate(sp, err);
    if (st) return st;
    int smax = inas_space_level_stride(sp, sp->num_levels - 1);
    if (R < smax || R % smax)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "resolution %d is not a positive multiple of %d", R, smax);
    return INAS_OK;
}

/* ---- enumeration --------------------------------------------------------------------------- */

typedef struct kent {
    char txt[INAS_BLOCK_KEY_MAX];
    inas_block_key k;
} kent;

typedef struct keyset {
    kent *e;
    size_t n, cap;
    int oom;
} keyset;

static void ks_add(keyset *s, inas_block_key k) {
    if (s->oom) return;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        kent *a = realloc(s->e, nc * sizeof *a);
        if (!a) {
            s->oom = 1;
            return;
        }
        s->e = a;
        s->cap = nc;
    }
    inas_block_key_format(&k, s->e[s->n].txt, INAS_BLOCK_KEY_MAX);
    s->e[s->n++].k = k;
}

static int cmp_kent(const void *a, const void *b) { return strcmp(((const kent *)a)->txt, ((const kent *)b)->txt); }

/* Widths a stage's layers can have. */
#define FOR_W(var, lo, hi, step) for (int var = (lo); var <= (hi); var += (step))

inas_status inas_lut_enumerate(const inas_space *sp, int R, inas_block_key **keys, size_t *count, inas_error *err) {
    *keys = NULL;
    *count = 0;
    inas_status st = check_res(sp, R, err);
    if (st) return st;
    keyset s = {0};
    FOR_W(w, sp->stem.width_min, sp->stem.width_max, sp->stem.width_step) ks_add(&s, stem_key(sp, R, w));
    for (int st_i = 0; st_i < INAS_SPACE_STAGES; st_i++) {
        const inas_space_stage *g = &sp->stages[st_i];
        int plo, phi, pstep;
        if (st_i == 0) plo = sp->stem.width_min, phi = sp->stem.width_max, pstep = sp->stem.width_step;
        else plo = sp->stages[st_i - 1].width_min, phi = sp->stages[st_i - 1].width_max,
             pstep = sp->stages[st_i - 1].width_step;
        for (int k = 1; k <= INAS_MAX_KERNEL; k += 2) {
            if (!(g->kernels & INAS_KSET(k))) continue;
            FOR_W(ci, plo, phi, pstep)
            FOR_W(co, g->width_min, g->width_max, g->width_step) ks_add(&s, mb_key(sp, R, st_i, 0, ci, co, k));
            if (g->depth_max > 1)
                FOR_W(ci, g->width_min, g->width_max, g->width_step)
            FOR_W(co, g->width_min, g->width_max, g->width_step) ks_add(&s, mb_key(sp, R, st_i, 1, ci, co, k));
        }
    }
    int L = sp->num_levels;
    for (int i = 0; i < L; i++) {
        const inas_space_stage *gi = &sp->stages[sp->level_stage[i]];
        for (int j = 0; j < L; j++) {
            if (j == i) continue;
            const inas_space_stage *gj = &sp->stages[sp->level_stage[j]];
            FOR_W(cj, gj->width_min, gj->width_max, gj->width_step)
            FOR_W(ci, gi->width_min, gi->width_max, gi->width_step) {
                ks_add(&s, br_key(INAS_BLOCK_TBRANCH, sp, R, j, i, cj, ci));
                if (j > i) ks_add(&s, br_key(INAS_BLOCK_DBRANCH, sp, R, j, i, cj, ci));
            }
        }
        for (int k = 1; k <= INAS_MAX_KERNEL; k += 2) {
            if (!(sp->head_kernels & INAS_KSET(k))) continue;
            FOR_W(ci, gi->width_min, gi->width_max, gi->width_step) {
                for (int n = 1; n <= L; n++) ks_add(&s, fuse_key(INAS_BLOCK_TFUSE, sp, R, i, n, ci, k));
                int nlo = i == L - 1 ? 1 : 2, nhi = L - i;
                for (int n = nlo; n <= nhi; n++) ks_add(&s, fuse_key(INAS_BLOCK_DFUSE, sp, R, i, n, ci, k));
            }
        }
    }
    const inas_space_stage *g0 = &sp->stages[sp->level_stage[0]];
    FOR_W(c, g0->width_min, g0->width_max, g0->width_step) ks_add(&s, out_key(sp, R, c));
    if (s.oom) {
        free(s.e);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory (block keys)");
    }
    inas_block_key *outk = malloc((s.n ? s.n : 1) * sizeof *outk);
    if (!outk) {
        free(s.e);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory (block keys)");
    }
    if (s.n) qsort(s.e, s.n, sizeof *s.e, cmp_kent);
    size_t m = 0;
    for (size_t i = 0; i < s.n; i++)
        if (i == 0 || strcmp(s.e[i].txt, s.e[i - 1].txt) != 0) outk[m++] = s.e[i].k;
    free(s.e);
    *keys = outk;
    *count = m;
    return INAS_OK;
}

/* ---- blocks of one architecture ---------------------------------------------------------- */

inas_status inas_arch_blocks(const inas_arch *a, const inas_space *sp, int R, inas_block_key *keys, int cap,
                             int *count, inas_error *err) {
    *count = 0;
    inas_status st = check_res(sp, R, err);
    if (st) return st;
    if ((st = inas_arch_validate(a, sp, err))) return st;
    int n = 0;
#define PUT(x)                                                                                   \
    do {                                                                                         \
        if (n >= cap) return inas_error_set(err, INAS_ERR_INVALID_ARG, "more than %d blocks", cap); \
        keys[n++] = (x);                                                                         \
    } while (0)
    PUT(stem_key(sp, R, a->stem_width));
    for (int s = 0; s < INAS_SPACE_STAGES; s++)
        for (int l = 0; l < a->stages[s].depth; l++)
            PUT(mb_key(sp, R, s, l, inas_arch_layer_in(a, s, l), a->stages[s].layers[l].width,
                       inas_kset_max(a->stages[s].layers[l].kernels)));
    int L = sp->num_levels;
    for (int i = 0; i < L; i++) {
        int wi = inas_arch_level_width(a, sp, i), nb = 0;
        for (int j = 0; j < L; j++) {
            if (!(a->transport_levels[i] & (1u << j))) continue;
            nb++;
            if (j != i)
                PUT(br_key(INAS_BLOCK_TBRANCH, sp, R, j, i, inas_arch_level_width(a, sp, j), wi));
        }
        PUT(fuse_key(INAS_BLOCK_TFUSE, sp, R, i, nb, wi, inas_kset_max(a->transport_kernels[i])));
    }
    for (int i = L - 1; i >= 0; i--) {
        int wi = inas_arch_level_width(a, sp, i), nb = 1;
        uint32_t lv = inas_arch_decoder_levels(a, i);
        for (int j = i + 1; j < L; j++) {
            if (!(lv & (1u << j))) continue;
            nb++;
            PUT(br_key(INAS_BLOCK_DBRANCH, sp, R, j, i, inas_arch_level_width(a, sp, j), wi));
        }
        PUT(fuse_key(INAS_BLOCK_DFUSE, sp, R, i, nb, wi, inas_kset_max(a->decoder_kernels[i])));
    }
    PUT(out_key(sp, R, inas_arch_level_width(a, sp, 0)));
#undef PUT
    *count = n;
    return INAS_OK;
}

uint64_t inas_lut_space_hash(const inas_space *sp) {
    char *buf = NULL;
    size_t len = 0;
    uint64_t h = 1469598103934665603ull;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return 0;
    inas_space_write_yaml(sp, f);
    fclose(f);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)buf[i];
        h *= 1099511628211ull;
    }
    free(buf);
    return h;
}
