/* test_space.c - the search space: defaults (DESIGN.md §3), YAML narrowing and
 * widening, errors naming file, line and field, YAML round trips, the size
 * formula against a brute-force enumeration, and `inas space show`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inas/arch.h"
#include "inas/space.h"
#include "testutil.h"

static const inas_kset K3 = INAS_KSET(3), K3579 = INAS_KSET(3) | INAS_KSET(5) | INAS_KSET(7) | INAS_KSET(9);

Test(space, defaults_match_design_table) {
    inas_space sp;
    inas_space_default(&sp);
    cr_assert_eq(sp.stem.width_min, 32);
    cr_assert_eq(sp.stem.width_max, 40);
    cr_assert_eq(sp.stem.width_step, 4);
    cr_assert_eq(sp.stem.kernel, 3);
    cr_assert_eq(sp.stem.stride, 2);
    /* expand, wmin, wmax, dmin, dmax, stride */
    static const int t[7][6] = {{1, 16, 24, 1, 2, 1},   {6, 24, 32, 2, 3, 2},   {6, 40, 48, 2, 3, 2},
                                {6, 80, 88, 2, 4, 2},   {6, 112, 128, 2, 6, 1}, {6, 192, 216, 2, 6, 2},
                                {6, 320, 352, 1, 2, 1}};
    for (int s = 0; s < 7; s++) {
        const inas_space_stage *g = &sp.stages[s];
        cr_assert_eq(g->expand, t[s][0], "stage %d", s + 1);
        cr_assert_eq(g->width_min, t[s][1], "stage %d", s + 1);
        cr_assert_eq(g->width_max, t[s][2], "stage %d", s + 1);
        cr_assert_eq(g->width_step, 4);
        cr_assert_eq(g->depth_min, t[s][3], "stage %d", s + 1);
        cr_assert_eq(g->depth_max, t[s][4], "stage %d", s + 1);
        cr_assert_eq(g->stride, t[s][5], "stage %d", s + 1);
        cr_assert_eq(g->kernels, s < 2 ? K3 : K3579, "stage %d", s + 1);
    }
    cr_assert_eq(sp.num_levels, 5);
    static const int lv[5] = {0, 1, 2, 4, 6};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(sp.level_stage[i], lv[i]);
        cr_assert_eq(inas_space_level_stride(&sp, i), 2 << i, "level %d stride", i);
    }
    cr_assert_eq(sp.head_kernels, K3579);
    cr_assert_eq(sp.num_train_res, 4);
    cr_assert_eq(sp.train_res[0], 288);
    cr_assert_eq(sp.train_res[3], 384);
    cr_assert_eq(sp.eval_res, 320);
    inas_error e;
    cr_assert_eq(inas_space_validate(&sp, &e), INAS_OK, "%s", e.message);
}

Test(space, kset_helpers) {
    char b[64];
    cr_assert_eq(inas_kset_count(K3579), 4);
    cr_assert_eq(inas_kset_min(K3579), 3);
    cr_assert_eq(inas_kset_max(K3579), 9);
    cr_assert_eq(inas_kset_max(0), 0);
    cr_assert_str_eq(inas_kset_format(K3579, b, sizeof b), "3,5,7,9");
    cr_assert_str_eq(inas_kset_format(0, b, sizeof b), "");
    inas_kset_format(K3579, b, 4); /* truncation stays terminated */
    cr_assert_lt(strlen(b), 4);
}

Test(space, default_size_follows_the_formula) {
    inas_space sp;
    inas_space_default(&sp);
    /* by hand: stem 3; stage s: sum_d (W*(2^K-1))^d; head 240^5 * (120*60*30*15*15) */
    double st[7] = {3 + 9, 9 + 27, 0, 0, 0, 0, 135 + 135.0 * 135};
    st[2] = pow(45, 2) + pow(45, 3);
    st[3] = pow(45, 2) + pow(45, 3) + pow(45, 4);
    for (int d = 2; d <= 6; d++) st[4] += pow(75, d), st[5] += pow(105, d);
    double want = 3;
    for (int s = 0; s < 7; s++) {
        cr_assert_float_eq(inas_space_stage_size(&sp, s), st[s], st[s] * 1e-12, "stage %d", s + 1);
        want *= st[s];
    }
    want *= pow(240, 5) * 120.0 * 60 * 30 * 15 * 15;
    double got = inas_space_size(&sp);
    cr_assert_float_eq(got, want, want * 1e-12);
    cr_assert_float_eq(inas_space_log10_size(&sp), log10(want), 1e-9);
    cr_assert_float_eq(got, 8.7790398397544491e+61, 1e50);
}

static void parse_ok(const char *yaml, inas_space *sp) {
    inas_error e;
    inas_error_clear(&e);
    cr_assert_eq(inas_space_parse(yaml, strlen(yaml), "t.yaml", sp, &e), INAS_OK, "%s\n%s", e.message, yaml);
}

Test(space, yaml_narrows_over_defaults) {
    inas_space def, sp;
    inas_space_default(&def);
    parse_ok("", &sp);
    cr_assert(inas_space_equal(&sp, &def), "an empty document is the default space");
    parse_ok("# only a comment\n", &sp);
    cr_assert(inas_space_equal(&sp, &def));
    parse_ok("stages:\n  - {}\n  - {}\n  - {depth: [2, 2], kernels: [3, 5]}\n", &sp);
    cr_assert_eq(sp.stages[2].depth_min, 2);
    cr_assert_eq(sp.stages[2].depth_max, 2);
    cr_assert_eq(sp.stages[2].kernels, INAS_KSET(3) | INAS_KSET(5));
    inas_space want = def;
    want.stages[2].depth_max = 2;
    want.stages[2].kernels = INAS_KSET(3) | INAS_KSET(5);
    cr_assert(inas_space_equal(&sp, &want), "only stage 3 changed");
    /* the same through the mapping form, plus other fields */
    parse_ok("stages:\n  3: {depth: [2, 2], kernels: [3, 5]}\n  7: {width: 320, type: mbconv4}\n"
             "stem: {width: [32, 32]}\nhead: {kernels: [3, 5, 7, 9, 11]}\n"
             "resolution: {train: 256, eval: 256}\n",
             &sp);
    cr_assert_eq(sp.stages[2].depth_max, 2);
    cr_assert_eq(sp.stages[6].width_min, 320);
    cr_assert_eq(sp.stages[6].width_max, 320);
    cr_assert_eq(sp.stages[6].expand, 4);
    cr_assert_eq(sp.stem.width_max, 32);
    cr_assert_eq(sp.head_kernels, K3579 | INAS_KSET(11), "widening the kernel set");
    cr_assert_eq(sp.num_train_res, 1);
    cr_assert_eq(sp.eval_res, 256);
    /* fewer head levels, deeper widening */
    parse_ok("head: {levels: [1, 2, 3]}\nstages: {5: {depth: [1, 8]}}\nresolution: {train: [64, 96], eval: 64}\n",
             &sp);
    cr_assert_eq(sp.num_levels, 3);
    cr_assert_eq(sp.stages[4].depth_max, 8);
    cr_assert_gt(inas_space_size(&sp), 0);
}

Test(space, example_small_space_loads) {
    const char *src = getenv("INAS_SOURCE_DIR");
    cr_assert(src, "INAS_SOURCE_DIR is set by ctest");
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/space-small.yaml", src);
    inas_space sp;
    inas_error e;
    cr_assert_eq(inas_space_load(path, &sp, &e), INAS_OK, "%s", e.message);
    cr_assert_eq(sp.eval_res, 64);
    cr_assert_eq(sp.train_res[0], 64);
    cr_assert_leq(sp.stages[6].width_max, 64, "narrow widths");
    cr_assert_eq(sp.num_levels, 5);
    inas_arch mx;
    inas_arch_sample_max(&sp, &mx);
    cr_assert_eq(inas_arch_validate(&mx, &sp, &e), INAS_OK, "%s", e.message);
}

static void roundtrip(const inas_space *sp) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    inas_space_write_yaml(sp, f);
    fclose(f);
    inas_space back;
    inas_error e;
    cr_assert_eq(inas_space_parse(buf, len, "rt", &back, &e), INAS_OK, "%s\n%s", e.message, buf);
    cr_assert(inas_space_equal(sp, &back), "%s", buf);
    free(buf);
}

Test(space, yaml_write_parse_roundtrip) {
    inas_space sp;
    inas_space_default(&sp);
    roundtrip(&sp);
    parse_ok("head: {levels: [1, 2, 3], kernels: [1, 3]}\nstages: [{type: mbconv3, width: [12, 36], step: 12}]\n"
             "resolution: {train: [64, 128, 8], eval: 32}\n",
             &sp);
    roundtrip(&sp);
}

typedef struct bad_case {
    const char *yaml;
    const char *field; /* must appear in the message */
    int line;          /* "t.yaml:LINE:" */
} bad_case;

Test(space, invalid_spaces_name_field_and_line) {
    static const bad_case cases[] = {
        {"stem: {width: [32, 40]}\nbogus: 1\n", "unknown key 'bogus'", 2},
        {"stages:\n  - {widht: [16, 24]}\n", "stages.1: unknown key 'widht'", 2},
        {"stages:\n  - {}\n  - {width: abc}\n", "stages.2.width", 3},
        {"stages:\n  - {}\n  - {width: [32, 24]}\n", "min 32 > max 24", 3},
        {"stages:\n  - {}\n  - {width: [26, 32]}\n", "stages.2.width: widths 26..32 are not multiples of the step 4", 3},
        {"stages:\n  - {}\n  - {step: 3}\n", "stages.2.width", 3},
        {"stages:\n  - {}\n  - {}\n  - {kernels: []}\n", "stages.3.kernels: the kernel set is empty", 4},
        {"stages:\n  - {}\n  - {}\n  - {kernels: [3, 4]}\n", "kernel size 4 is even", 4},
        {"stages:\n  - {stride: 3}\n", "stages.1.stride", 2},
        {"stages:\n  - {depth: [0, 2]}\n", "stages.1.depth", 2},
        {"stages:\n  - {type: resnet}\n", "stages.1.type: unknown block type 'resnet'", 2},
        {"stages: [{}, {}, {}, {}, {}, {}, {}, {}]\n", "8 entries", 1},
        {"stages: {9: {}}\n", "stages", 1},
        {"stages: {2: {}, 2: {}}\n", "stage 2 given twice", 1},
        {"head:\n  levels: [1, 2, 4, 5, 7]\n", "head.levels: level 2 (stage 4) has stride 16", 2},
        {"head:\n  levels: [2, 1]\n", "head.levels", 2},
        {"head:\n  kernels: [3, 3]\n", "head.kernels: kernel size 3 repeated", 2},
        {"head: {levels: []}\n", "head.levels: 0 levels", 1},
        {"resolution:\n  train: [288, 300]\n", "resolution.train: resolution 300 must be a positive multiple of 32", 2},
        {"resolution:\n  eval: 100\n", "resolution.eval", 2},
        {"stem: {kernel: 4}\n", "stem.kernel", 1},
        {"stem: [1, 2]\n", "stem: expected a mapping", 1},
        {"- 1\n- 2\n", "expected a mapping", 1},
        {"stem: {width: [32, 40]\n", "YAML syntax error", 2},
        {"stem:\n  width: [32, 40]\n width: 3\n", "YAML syntax error", 3},
        {"stem: {width: [32, 40], width: [8, 8]}\n", "duplicate key 'width'", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        inas_space sp;
        inas_space_default(&sp);
        inas_space before = sp;
        inas_error e;
        inas_error_clear(&e);
        inas_status st = inas_space_parse(cases[i].yaml, strlen(cases[i].yaml), "t.yaml", &sp, &e);
        cr_assert_eq(st, INAS_ERR_FORMAT, "case %zu accepted: %s", i, cases[i].yaml);
        cr_assert(strstr(e.message, cases[i].field), "case %zu: '%s' lacks '%s'", i, e.message, cases[i].field);
        char line[32];
        snprintf(line, sizeof line, "t.yaml:%d:", cases[i].line);
        cr_assert(strncmp(e.message, line, strlen(line)) == 0, "case %zu: '%s' should start with '%s'", i, e.message,
                  line);
        cr_assert(inas_space_equal(&sp, &before), "a failed parse leaves the output alone");
    }
}

Test(space, validate_names_the_field) {
    inas_space sp;
    inas_error e;
    inas_space_default(&sp);
    sp.stages[3].kernels = INAS_KSET(4);
    cr_assert_eq(inas_space_validate(&sp, &e), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(e.message, "stages.4.kernels"), "%s", e.message);
    inas_space_default(&sp);
    sp.stem.width_step = 0;
    cr_assert_eq(inas_space_validate(&sp, &e), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(e.message, "stem.step"), "%s", e.message);
    cr_assert_eq(inas_space_validate(NULL, &e), INAS_ERR_INVALID_ARG);
}

Test(space, load_missing_file_names_it) {
    inas_space sp;
    inas_error e;
    cr_assert_neq(inas_space_load("/nonexistent/space.yaml", &sp, &e), INAS_OK);
    cr_assert(strstr(e.message, "/nonexistent/space.yaml"), "%s", e.message);
}

/* ---- size against brute force -------------------------------------------------------------- */

/* Open-addressing set of 64-bit hashes. */
typedef struct hset {
    uint64_t *slot;
    size_t cap, n;
} hset;

static void hset_add(hset *h, uint64_t v) {
    if (v == 0) v = 1;
    size_t i = (size_t)(v * 0x9E3779B97F4A7C15ULL) & (h->cap - 1);
    while (h->slot[i] && h->slot[i] != v) i = (i + 1) & (h->cap - 1);
    if (!h->slot[i]) {
        h->slot[i] = v;
        h->n++;
    }
}

/* Enumerates every assignment of every slot (layers beyond the depth
 * included, which must collapse), checks each is valid and counts the distinct
 * architectures. */
static double brute_force(const inas_space *sp) {
    int nw[7], nk[7], L = sp->num_levels;
    for (int s = 0; s < 7; s++) {
        nw[s] = inas_space_stage_widths(sp, s);
        nk[s] = (1 << inas_kset_count(sp->stages[s].kernels)) - 1;
    }
    int nh = (1 << inas_kset_count(sp->head_kernels)) - 1;
    /* mixed radix digits */
    int radix[256], nd = 0;
    radix[nd++] = inas_space_stem_widths(sp);
    for (int s = 0; s < 7; s++) {
        radix[nd++] = sp->stages[s].depth_max - sp->stages[s].depth_min + 1;
        for (int l = 0; l < sp->stages[s].depth_max; l++) radix[nd++] = nw[s], radix[nd++] = nk[s];
    }
    for (int i = 0; i < L; i++) {
        radix[nd++] = 1 << (L - 1);
        radix[nd++] = nh;
        radix[nd++] = 1 << (i + 2 < L ? L - i - 2 : 0);
        radix[nd++] = nh;
    }
    double total = 1;
    for (int d = 0; d < nd; d++) total *= radix[d];
    cr_assert_lt(total, 5e6, "brute force too large");
    hset h = {calloc(1u << 23, sizeof(uint64_t)), 1u << 23, 0};
    int digit[256] = {0};
    for (long it = 0; it < (long)total; it++) {
        inas_arch a;
        memset(&a, 0, sizeof a);
        a.resolution = sp->eval_res;
        a.num_levels = L;
        int d = 0;
        a.stem_width = sp->stem.width_min + digit[d++] * sp->stem.width_step;
        for (int s = 0; s < 7; s++) {
            const inas_space_stage *g = &sp->stages[s];
            a.stages[s].depth = g->depth_min + digit[d++];
            for (int l = 0; l < g->depth_max; l++) {
                a.stages[s].layers[l].width = g->width_min + digit[d++] * g->width_step;
                int sub = digit[d++] + 1, n = 0;
                for (int k = 0; k < 32; k++)
                    if (g->kernels & (1u << k)) {
                        if (sub & (1 << n)) a.stages[s].layers[l].kernels |= 1u << k;
                        n++;
                    }
            }
        }
        for (int i = 0; i < L; i++) {
            int others = digit[d++], n = 0;
            a.transport_levels[i] = 1u << i;
            for (int j = 0; j < L; j++)
                if (j != i) {
                    if (others & (1 << n)) a.transport_levels[i] |= 1u << j;
                    n++;
                }
            int ks[2];
            ks[0] = digit[d++] + 1;
            int extra = digit[d++];
            a.decoder_extra[i] = (uint32_t)extra << (i + 2);
            ks[1] = digit[d++] + 1;
            for (int t = 0; t < 2; t++) {
                inas_kset m = 0;
                int c = 0;
                for (int k = 0; k < 32; k++)
                    if (sp->head_kernels & (1u << k)) {
                        if (ks[t] & (1 << c)) m |= 1u << k;
                        c++;
                    }
                if (t) a.decoder_kernels[i] = m;
                else a.transport_kernels[i] = m;
            }
        }
        inas_error e;
        cr_assert_eq(inas_arch_validate(&a, sp, &e), INAS_OK, "%s", e.message);
        inas_arch c = a;
        inas_arch_canonicalize(&c);
        cr_assert(inas_arch_equal(&a, &c));
        cr_assert_eq(inas_arch_hash(&a), inas_arch_hash(&c));
        hset_add(&h, inas_arch_hash(&c));
        for (int k = 0; k < nd; k++) { /* next assignment */
            if (++digit[k] < radix[k]) break;
            digit[k] = 0;
        }
    }
    double n = (double)h.n;
    free(h.slot);
    return n;
}

Test(space, size_matches_brute_force_on_tiny_spaces) {
    static const char *tiny[] = {
        /* 2 stem widths; stage 3: 2 widths x 3 kernel subsets, depth 1..2; two head levels */
        "stem: {width: [8, 12]}\n"
        "stages: {1: {width: 8, depth: 1}, 2: {width: 8, depth: 1}, 3: {width: [16, 20], depth: [1, 2], kernels: [3, 5]},\n"
        "  4: {width: 8, depth: 1, kernels: [3]}, 5: {width: 8, depth: 1, kernels: [3]},\n"
        "  6: {width: 8, depth: 1, kernels: [3]}, 7: {width: 8, depth: 1, kernels: [3]}}\n"
        "head: {levels: [1, 2], kernels: [3, 5]}\nresolution: {train: [64], eval: 64}\n",
        /* three head levels (decoder extras), a depth range 1..3 with one width */
        "stem: {width: 8}\n"
        "stages: {1: {width: 8, depth: 1}, 2: {width: 8, depth: [1, 3]}, 3: {width: 16, depth: 1, kernels: [3]},\n"
        "  4: {width: 8, depth: 1, kernels: [3]}, 5: {width: 8, depth: 1, kernels: [3]},\n"
        "  6: {width: 8, depth: 1, kernels: [3]}, 7: {width: 8, depth: 1, kernels: [3]}}\n"
        "head: {levels: [1, 2, 3], kernels: [3, 5]}\nresolution: {train: [64], eval: 64}\n",
    };
    static const double by_hand[] = {2.0 * (6 + 36) * (6 * 6) * (3 * 3), (1 + 1 + 1) * 12.0 * 12 * 12 * 6 * 3 * 3};
    for (int t = 0; t < 2; t++) {
        inas_space sp;
        parse_ok(tiny[t], &sp);
        double formula = inas_space_size(&sp);
        cr_assert_float_eq(formula, by_hand[t], 0.5, "space %d: formula %.0f, by hand %.0f", t, formula, by_hand[t]);
        double brute = brute_force(&sp);
        cr_assert_float_eq(formula, brute, 0.5, "space %d: formula %.0f, brute force %.0f", t, formula, brute);
        cr_assert_float_eq(inas_space_log10_size(&sp), log10(brute), 1e-9);
    }
}

/* ---- CLI ---------------------------------------------------------------------------------------- */

Test(space_cli, show_default_and_file) {
    char *out = NULL;
    cr_assert_eq(tu_run_cli("space show", &out), 0, "%s", out);
    cr_assert(strstr(out, "size: 8.7790398397544491e+61"), "%s", out);
    cr_assert(strstr(out, "log10_size: 61.9434"), "%s", out);
    cr_assert(strstr(out, "levels: [1, 2, 3, 5, 7]"), "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("space show --space \"$INAS_SOURCE_DIR/examples/space-small.yaml\"", &out), 0, "%s", out);
    cr_assert(strstr(out, "eval: 64"), "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("space --help", &out), 0);
    cr_assert(strncmp(out, "Usage: inas space", 17) == 0, "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("space", NULL), 2);
    cr_assert_eq(tu_run_cli("space list", NULL), 2);
    cr_assert_eq(tu_run_cli("space show --bogus", NULL), 2);
    cr_assert_eq(tu_run_cli("space show --space /nonexistent.yaml", NULL), 1);
}

Test(space_cli, invalid_space_file_fails_with_line) {
    char *dir = tu_mkdtemp("space");
    char path[512], args[700];
    snprintf(path, sizeof path, "%s/bad.yaml", dir);
    const char *y = "stages:\n  - {}\n  - {width: [24, 30]}\n";
    cr_assert_eq(tu_write_file(path, y, strlen(y)), 0);
    snprintf(args, sizeof args, "space show --space '%s'", path);
    char *out = NULL;
    cr_assert_eq(tu_run_cli(args, &out), 1, "%s", out);
    cr_assert(strstr(out, "bad.yaml:3:"), "%s", out);
    cr_assert(strstr(out, "stages.2.width"), "%s", out);
    free(out);
    tu_rmrf(dir);
    free(dir);
}
