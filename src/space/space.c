/* space.c - the default integral search space, its checks, YAML loading and
 * printing, and the size of the space. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/space.h"
#include "inas/util.h"
#include "space/yaml_util.h"

/* ---- kernel sets ---------------------------------------------------------------------------- */

int inas_kset_count(inas_kset s) {
    int n = 0;
    for (; s; s &= s - 1) n++;
    return n;
}

int inas_kset_min(inas_kset s) {
    for (int k = 0; k < 32; k++)
        if (s & (1u << k)) return k;
    return 0;
}

int inas_kset_max(inas_kset s) {
    for (int k = 31; k >= 0; k--)
        if (s & (1u << k)) return k;
    return 0;
}

char *inas_kset_format(inas_kset s, char *buf, size_t len) {
    size_t at = 0;
    if (len) buf[0] = '\0';
    for (int k = 0; k < 32; k++) {
        if (!(s & (1u << k))) continue;
        int w = snprintf(buf + at, at < len ? len - at : 0, "%s%d", at ? "," : "", k);
        if (w < 0) break;
        at += (size_t)w;
        if (at >= len) break;
    }
    return buf;
}

/* ---- default --------------------------------------------------------------------------------- */

void inas_space_default(inas_space *sp) {
    memset(sp, 0, sizeof *sp);
    sp->stem = (inas_space_stem){32, 40, 4, 3, 2};
    const inas_kset k3 = INAS_KSET(3), k3579 = INAS_KSET(3) | INAS_KSET(5) | INAS_KSET(7) | INAS_KSET(9);
    static const int tab[INAS_SPACE_STAGES][6] = {
        /* expand, wmin, wmax, dmin, dmax, stride */
        {1, 16, 24, 1, 2, 1},   {6, 24, 32, 2, 3, 2},   {6, 40, 48, 2, 3, 2},   {6, 80, 88, 2, 4, 2},
        {6, 112, 128, 2, 6, 1}, {6, 192, 216, 2, 6, 2}, {6, 320, 352, 1, 2, 1},
    };
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        inas_space_stage *st = &sp->stages[s];
        st->expand = tab[s][0];
        st->width_min = tab[s][1];
        st->width_max = tab[s][2];
        st->width_step = 4;
        st->depth_min = tab[s][3];
        st->depth_max = tab[s][4];
        st->kernels = s < 2 ? k3 : k3579;
        st->stride = tab[s][5];
    }
    sp->num_levels = 5;
    static const int lv[5] = {0, 1, 2, 4, 6};
    memcpy(sp->level_stage, lv, sizeof lv);
    sp->head_kernels = k3579;
    sp->num_train_res = 4;
    static const int tr[4] = {288, 320, 352, 384};
    memcpy(sp->train_res, tr, sizeof tr);
    sp->eval_res = 320;
}

/* ---- helpers ---------------------------------------------------------------------------------- */

int inas_space_stage_out_stride(const inas_space *sp, int stage) {
    int s = sp->stem.stride;
    for (int i = 0; i <= stage && i < INAS_SPACE_STAGES; i++) s *= sp->stages[i].stride;
    return s;
}

int inas_space_level_stride(const inas_space *sp, int level) {
    return inas_space_stage_out_stride(sp, sp->level_stage[level]);
}

/* Guarded so that an invalid space (step 0, min > max) never divides by zero. */
static int n_widths(int mn, int mx, int step) { return step < 1 || mx < mn ? 1 : (mx - mn) / step + 1; }

int inas_space_stage_widths(const inas_space *sp, int stage) {
    const inas_space_stage *s = &sp->stages[stage];
    return n_widths(s->width_min, s->width_max, s->width_step);
}

int inas_space_stem_widths(const inas_space *sp) {
    return n_widths(sp->stem.width_min, sp->stem.width_max, sp->stem.width_step);
}

int inas_space_stage_level(const inas_space *sp, int stage) {
    for (int i = 0; i < sp->num_levels; i++)
        if (sp->level_stage[i] == stage) return i;
    return -1;
}

int inas_space_layer_stride(const inas_space *sp, int stage, int layer) {
    return layer == 0 ? sp->stages[stage].stride : 1;
}

int inas_space_equal(const inas_space *a, const inas_space *b) {
    if (memcmp(&a->stem, &b->stem, sizeof a->stem) || memcmp(a->stages, b->stages, sizeof a->stages)) return 0;
    if (a->num_levels != b->num_levels || a->head_kernels != b->head_kernels || a->eval_res != b->eval_res ||
        a->num_train_res != b->num_train_res)
        return 0;
    for (int i = 0; i < a->num_levels; i++)
        if (a->level_stage[i] != b->level_stage[i]) return 0;
    for (int i = 0; i < a->num_train_res; i++)
        if (a->train_res[i] != b->train_res[i]) return 0;
    return 1;
}

/* ---- checks -----------------------------------------------------------------------------------
 * One checker for both the API and the YAML loader: it reports which part
 * failed (where: 0 stem, 1..7 stage, 8 head, 9 resolution), the key inside it
 * and the message, so the loader can point at the line of that key. */

enum { W_STEM = 0, W_HEAD = 1 + INAS_SPACE_STAGES, W_RES };

typedef struct check_out {
    int where;
    const char *key;
    char msg[512];
} check_out;

#define FAIL(w, k, ...)                                         \
    do {                                                        \
        o->where = (w);                                         \
        o->key = (k);                                           \
        snprintf(o->msg, sizeof o->msg, __VA_ARGS__);           \
        return 1;                                               \
    } while (0)

static int kset_ok(inas_kset k) { return k != 0 && (k & 0x55555555u) == 0; /* only odd bits */ }

static int check_widths(int w, int mn, int mx, int step, check_out *o) {
    if (step < 1) FAIL(w, "step", "step %d must be >= 1", step);
    if (mn < 1 || mx > 4096) FAIL(w, "width", "widths %d..%d must lie in 1..4096", mn, mx);
    if (mn > mx) FAIL(w, "width", "min %d > max %d", mn, mx);
    if (mn % step || mx % step)
        FAIL(w, "width", "widths %d..%d are not multiples of the step %d", mn, mx, step);
    return 0;
}

static int check_space(const inas_space *sp, check_out *o) {
    const inas_space_stem *st = &sp->stem;
    if (check_widths(W_STEM, st->width_min, st->width_max, st->width_step, o)) return 1;
    if (st->kernel < 1 || st->kernel > INAS_MAX_KERNEL || st->kernel % 2 == 0)
        FAIL(W_STEM, "kernel", "kernel %d must be odd, 1..%d", st->kernel, INAS_MAX_KERNEL);
    if (st->stride != 1 && st->stride != 2) FAIL(W_STEM, "stride", "stride %d must be 1 or 2", st->stride);
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        const inas_space_stage *g = &sp->stages[s];
        int w = 1 + s;
        if (g->expand < 1 || g->expand > 16) FAIL(w, "type", "expand ratio %d must be 1..16", g->expand);
        if (check_widths(w, g->width_min, g->width_max, g->width_step, o)) return 1;
        if (g->depth_min < 1 || g->depth_max > INAS_MAX_DEPTH || g->depth_min > g->depth_max)
            FAIL(w, "depth", "depth %d..%d must satisfy 1 <= min <= max <= %d", g->depth_min, g->depth_max,
                 INAS_MAX_DEPTH);
        if (g->kernels == 0) FAIL(w, "kernels", "the kernel set is empty");
        if (!kset_ok(g->kernels)) FAIL(w, "kernels", "kernel sizes must be odd");
        if (g->stride != 1 && g->stride != 2) FAIL(w, "stride", "stride %d must be 1 or 2", g->stride);
    }
    if (sp->num_levels < 1 || sp->num_levels > INAS_MAX_LEVELS)
        FAIL(W_HEAD, "levels", "%d levels: must be 1..%d", sp->num_levels, INAS_MAX_LEVELS);
    for (int i = 0; i < sp->num_levels; i++) {
        int s = sp->level_stage[i];
        if (s < 0 || s >= INAS_SPACE_STAGES) FAIL(W_HEAD, "levels", "stage %d does not exist (1..7)", s + 1);
        if (i && s <= sp->level_stage[i - 1]) FAIL(W_HEAD, "levels", "stages must be strictly increasing");
        int want = 2 << i, got = inas_space_level_stride(sp, i);
        if (got != want)
            FAIL(W_HEAD, "levels", "level %d (stage %d) has stride %d; level i needs stride 2^(i+1) = %d", i, s + 1,
                 got, want);
    }
    if (sp->head_kernels == 0) FAIL(W_HEAD, "kernels", "the kernel set is empty");
    if (!kset_ok(sp->head_kernels)) FAIL(W_HEAD, "kernels", "kernel sizes must be odd");
    int deep = inas_space_level_stride(sp, sp->num_levels - 1);
    if (sp->num_train_res < 1 || sp->num_train_res > INAS_MAX_RESOLUTIONS)
        FAIL(W_RES, "train", "%d training resolutions: must be 1..%d", sp->num_train_res, INAS_MAX_RESOLUTIONS);
    for (int i = 0; i < sp->num_train_res; i++) {
        int r = sp->train_res[i];
        if (r < 1 || r > 8192 || r % deep)
            FAIL(W_RES, "train", "resolution %d must be a positive multiple of %d (the deepest level's stride)", r,
                 deep);
        for (int j = 0; j < i; j++)
            if (sp->train_res[j] == r) FAIL(W_RES, "train", "resolution %d repeated", r);
    }
    if (sp->eval_res < 1 || sp->eval_res > 8192 || sp->eval_res % deep)
        FAIL(W_RES, "eval", "resolution %d must be a positive multiple of %d (the deepest level's stride)",
             sp->eval_res, deep);
    return 0;
}

static void where_name(int where, const char *key, char *buf, size_t len) {
    if (where == W_STEM) snprintf(buf, len, "stem.%s", key);
    else if (where == W_HEAD) snprintf(buf, len, "head.%s", key);
    else if (where == W_RES) snprintf(buf, len, "resolution.%s", key);
    else snprintf(buf, len, "stages.%d.%s", where, key);
}

inas_status inas_space_validate(const inas_space *sp, inas_error *err) {
    if (!sp) return inas_error_set(err, INAS_ERR_INVALID_ARG, "space is NULL");
    check_out o;
    if (check_space(sp, &o)) {
        char f[64];
        where_name(o.where, o.key, f, sizeof f);
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "space: %s: %s", f, o.msg);
    }
    return INAS_OK;
}

/* ---- YAML -------------------------------------------------------------------------------------- */

static inas_status parse_widths(ydoc *d, yaml_node_t *m, const char *base, int *mn, int *mx, int *step,
                                inas_error *err) {
    char f[64];
    inas_status st;
    yaml_node_t *n;
    if ((n = ydoc_get(d, m, "width"))) {
        snprintf(f, sizeof f, "%s.width", base);
        if ((st = ydoc_range(d, n, f, 1, 4096, mn, mx, err))) return st;
    }
    if ((n = ydoc_get(d, m, "step"))) {
        snprintf(f, sizeof f, "%s.step", base);
        if ((st = ydoc_int(d, n, f, 1, 4096, step, err))) return st;
    }
    return INAS_OK;
}

static inas_status parse_stage(ydoc *d, yaml_node_t *m, int s, inas_space_stage *g, inas_error *err) {
    char base[32], f[64];
    snprintf(base, sizeof base, "stages.%d", s + 1);
    static const char *const keys[] = {"type", "expand", "width", "step", "depth", "kernels", "stride", NULL};
    inas_status st;
    if ((st = ydoc_expect_map(d, m, base, err))) return st;
    if ((st = ydoc_check_keys(d, m, base, keys, err))) return st;
    yaml_node_t *n;
    if ((n = ydoc_get(d, m, "type"))) {
        char t[64];
        snprintf(f, sizeof f, "%s.type", base);
        if ((st = ydoc_str(d, n, f, t, sizeof t, err))) return st;
        int e;
        char tail;
        if (sscanf(t, "mbconv%d%c", &e, &tail) != 1 || e < 1 || e > 16)
            return ydoc_fail(d, n, f, err, "unknown block type '%s' (expected mbconv1 .. mbconv16)", t);
        g->expand = e;
    }
    if ((n = ydoc_get(d, m, "expand"))) {
        snprintf(f, sizeof f, "%s.expand", base);
        if ((st = ydoc_int(d, n, f, 1, 16, &g->expand, err))) return st;
    }
    if ((st = parse_widths(d, m, base, &g->width_min, &g->width_max, &g->width_step, err))) return st;
    if ((n = ydoc_get(d, m, "depth"))) {
        snprintf(f, sizeof f, "%s.depth", base);
        if ((st = ydoc_range(d, n, f, 1, INAS_MAX_DEPTH, &g->depth_min, &g->depth_max, err))) return st;
    }
    if ((n = ydoc_get(d, m, "kernels"))) {
        snprintf(f, sizeof f, "%s.kernels", base);
        if ((st = ydoc_kset(d, n, f, &g->kernels, err))) return st;
    }
    if ((n = ydoc_get(d, m, "stride"))) {
        snprintf(f, sizeof f, "%s.stride", base);
        if ((st = ydoc_int(d, n, f, 1, 2, &g->stride, err))) return st;
    }
    return INAS_OK;
}

static inas_status parse_space(ydoc *d, inas_space *sp, yaml_node_t **part, inas_error *err) {
    yaml_node_t *root = ydoc_root(d);
    if (!root) return INAS_OK;                                       /* empty document: the defaults */
    if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0) return INAS_OK; /* "---" only */
    inas_status st;
    if ((st = ydoc_expect_map(d, root, "", err))) return st;
    static const char *const top[] = {"stem", "stages", "head", "resolution", NULL};
    if ((st = ydoc_check_keys(d, root, "", top, err))) return st;
    yaml_node_t *n, *v;
    if ((n = ydoc_get(d, root, "stem"))) {
        part[W_STEM] = n;
        static const char *const keys[] = {"width", "step", "kernel", "stride", NULL};
        if ((st = ydoc_expect_map(d, n, "stem", err)) || (st = ydoc_check_keys(d, n, "stem", keys, err))) return st;
        if ((st = parse_widths(d, n, "stem", &sp->stem.width_min, &sp->stem.width_max, &sp->stem.width_step, err)))
            return st;
        if ((v = ydoc_get(d, n, "kernel"))) {
            if ((st = ydoc_int(d, v, "stem.kernel", 1, INAS_MAX_KERNEL, &sp->stem.kernel, err))) return st;
            if (sp->stem.kernel % 2 == 0)
                return ydoc_fail(d, v, "stem.kernel", err, "kernel size %d is even (must be odd)", sp->stem.kernel);
        }
        if ((v = ydoc_get(d, n, "stride")) && (st = ydoc_int(d, v, "stem.stride", 1, 2, &sp->stem.stride, err)))
            return st;
    }
    if ((n = ydoc_get(d, root, "stages"))) {
        if (n->type == YAML_SEQUENCE_NODE) {
            int len = ydoc_seq_len(n);
            if (len > INAS_SPACE_STAGES)
                return ydoc_fail(d, n, "stages", err, "%d entries; the space has %d stages", len, INAS_SPACE_STAGES);
            for (int s = 0; s < len; s++) {
                part[1 + s] = ydoc_seq_at(d, n, s);
                if ((st = parse_stage(d, part[1 + s], s, &sp->stages[s], err))) return st;
            }
        } else if (n->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                yaml_node_t *k = ydoc_node(d, p->key);
                int s;
                if ((st = ydoc_int(d, k, "stages", 1, INAS_SPACE_STAGES, &s, err))) return st;
                if (part[s])
                    return ydoc_fail(d, k, "stages", err, "stage %d given twice", s);
                part[s] = ydoc_node(d, p->value);
                if ((st = parse_stage(d, part[s], s - 1, &sp->stages[s - 1], err))) return st;
            }
        } else {
            return ydoc_fail(d, n, "stages", err, "expected a list of stages or a mapping keyed by stage number");
        }
    }
    if ((n = ydoc_get(d, root, "head"))) {
        part[W_HEAD] = n;
        static const char *const keys[] = {"levels", "kernels", NULL};
        if ((st = ydoc_expect_map(d, n, "head", err)) || (st = ydoc_check_keys(d, n, "head", keys, err))) return st;
        if ((v = ydoc_get(d, n, "levels"))) {
            if ((st = ydoc_expect_seq(d, v, "head.levels", err))) return st;
            int len = ydoc_seq_len(v);
            if (len < 1 || len > INAS_MAX_LEVELS)
                return ydoc_fail(d, v, "head.levels", err, "%d levels: must be 1..%d", len, INAS_MAX_LEVELS);
            for (int i = 0; i < len; i++) {
                int s;
                if ((st = ydoc_int(d, ydoc_seq_at(d, v, i), "head.levels", 1, INAS_SPACE_STAGES, &s, err))) return st;
                sp->level_stage[i] = s - 1;
            }
            sp->num_levels = len;
        }
        if ((v = ydoc_get(d, n, "kernels")) && (st = ydoc_kset(d, v, "head.kernels", &sp->head_kernels, err)))
            return st;
    }
    if ((n = ydoc_get(d, root, "resolution"))) {
        part[W_RES] = n;
        static const char *const keys[] = {"train", "eval", NULL};
        if ((st = ydoc_expect_map(d, n, "resolution", err)) || (st = ydoc_check_keys(d, n, "resolution", keys, err)))
            return st;
        if ((v = ydoc_get(d, n, "train"))) {
            if (v->type == YAML_SCALAR_NODE) {
                if ((st = ydoc_int(d, v, "resolution.train", 1, 8192, &sp->train_res[0], err))) return st;
                sp->num_train_res = 1;
            } else {
                if ((st = ydoc_expect_seq(d, v, "resolution.train", err))) return st;
                int len = ydoc_seq_len(v);
                if (len < 1 || len > INAS_MAX_RESOLUTIONS)
                    return ydoc_fail(d, v, "resolution.train", err, "%d resolutions: must be 1..%d", len,
                                     INAS_MAX_RESOLUTIONS);
                for (int i = 0; i < len; i++)
                    if ((st = ydoc_int(d, ydoc_seq_at(d, v, i), "resolution.train", 1, 8192, &sp->train_res[i], err)))
                        return st;
                sp->num_train_res = len;
            }
        }
        if ((v = ydoc_get(d, n, "eval")) && (st = ydoc_int(d, v, "resolution.eval", 1, 8192, &sp->eval_res, err)))
            return st;
    }
    return INAS_OK;
}

inas_status inas_space_parse(const char *text, size_t len, const char *name, inas_space *sp, inas_error *err) {
    if (!text || !sp) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_space_parse: NULL argument");
    ydoc d;
    inas_status st = ydoc_load(&d, text, len, name, err);
    if (st) return st;
    inas_space tmp;
    inas_space_default(&tmp);
    yaml_node_t *part[W_RES + 1] = {0};
    st = parse_space(&d, &tmp, part, err);
    if (!st) {
        check_out o;
        if (check_space(&tmp, &o)) {
            yaml_node_t *at = part[o.where], *kn = at ? ydoc_get(&d, at, o.key) : NULL;
            if (o.where >= 1 && o.where <= INAS_SPACE_STAGES && !kn && (!strcmp(o.key, "type")))
                kn = ydoc_get(&d, at, "expand");
            if (!at) at = ydoc_root(&d);
            char f[64];
            where_name(o.where, o.key, f, sizeof f);
            st = ydoc_fail(&d, kn ? kn : at, f, err, "%s", o.msg);
        }
    }
    ydoc_free(&d);
    if (!st) *sp = tmp;
    return st;
}

inas_status inas_space_load(const char *path, inas_space *sp, inas_error *err) {
    char *text;
    size_t len;
    inas_status st = inas_read_file(path, &text, &len, err);
    if (st) return st;
    st = inas_space_parse(text, len, path, sp, err);
    free(text);
    return st;
}

static void write_kset(FILE *f, inas_kset k) {
    fputc('[', f);
    for (int j = 0, first = 1; j < 32; j++)
        if (k & (1u << j)) {
            fprintf(f, "%s%d", first ? "" : ", ", j);
            first = 0;
        }
    fputc(']', f);
}

void inas_space_write_yaml(const inas_space *sp, FILE *f) {
    const inas_space_stem *st = &sp->stem;
    fprintf(f, "stem: {width: [%d, %d], step: %d, kernel: %d, stride: %d}\n", st->width_min, st->width_max,
            st->width_step, st->kernel, st->stride);
    fprintf(f, "stages:\n");
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        const inas_space_stage *g = &sp->stages[s];
        fprintf(f, "  - {type: mbconv%d, width: [%d, %d], step: %d, depth: [%d, %d], kernels: ", g->expand,
                g->width_min, g->width_max, g->width_step, g->depth_min, g->depth_max);
        write_kset(f, g->kernels);
        fprintf(f, ", stride: %d}  # stage %d\n", g->stride, s + 1);
    }
    fprintf(f, "head:\n  levels: [");
    for (int i = 0; i < sp->num_levels; i++) fprintf(f, "%s%d", i ? ", " : "", sp->level_stage[i] + 1);
    fprintf(f, "]\n  kernels: ");
    write_kset(f, sp->head_kernels);
    fprintf(f, "\nresolution:\n  train: [");
    for (int i = 0; i < sp->num_train_res; i++) fprintf(f, "%s%d", i ? ", " : "", sp->train_res[i]);
    fprintf(f, "]\n  eval: %d\n", sp->eval_res);
}

/* ---- size ------------------------------------------------------------------------------------------ */

static double layer_choices(const inas_space *sp, int s) {
    return (double)inas_space_stage_widths(sp, s) * (ldexp(1.0, inas_kset_count(sp->stages[s].kernels)) - 1.0);
}

double inas_space_stage_size(const inas_space *sp, int s) {
    double c = layer_choices(sp, s), sum = 0;
    for (int d = sp->stages[s].depth_min; d <= sp->stages[s].depth_max; d++) sum += pow(c, d);
    return sum;
}

static double stage_log10(const inas_space *sp, int s) {
    /* log10(sum_d c^d) = dmax*log10(c) + log10(sum_d c^(d-dmax)) */
    double lc = log10(layer_choices(sp, s)), acc = 0;
    int dmax = sp->stages[s].depth_max;
    for (int d = sp->stages[s].depth_min; d <= dmax; d++) acc += pow(10.0, (d - dmax) * lc);
    return dmax * lc + log10(acc);
}

static double head_log10(const inas_space *sp) {
    int L = sp->num_levels;
    double lk = log10(ldexp(1.0, inas_kset_count(sp->head_kernels)) - 1.0), l2 = log10(2.0), t = 0;
    for (int i = 0; i < L; i++) {
        int extra = L - i - 2 > 0 ? L - i - 2 : 0;
        t += (L - 1) * l2 + lk + extra * l2 + lk;
    }
    return t;
}

double inas_space_log10_size(const inas_space *sp) {
    double t = log10((double)inas_space_stem_widths(sp));
    for (int s = 0; s < INAS_SPACE_STAGES; s++) t += stage_log10(sp, s);
    return t + head_log10(sp);
}

double inas_space_size(const inas_space *sp) {
    double n = (double)inas_space_stem_widths(sp);
    for (int s = 0; s < INAS_SPACE_STAGES; s++) n *= inas_space_stage_size(sp, s);
    int L = sp->num_levels;
    double kh = ldexp(1.0, inas_kset_count(sp->head_kernels)) - 1.0;
    for (int i = 0; i < L; i++) {
        int extra = L - i - 2 > 0 ? L - i - 2 : 0;
        n *= ldexp(kh, L - 1) * ldexp(kh, extra);
    }
    return n;
}
