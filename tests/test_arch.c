/* test_arch.c - architectures: YAML and compact round trips, validation
 * errors, canonical form and hashing, largest/smallest/uniform sampling,
 * unit-wise sampling, crossover, mutation, channel helpers and the
 * `inas arch` commands. */
#include <stdlib.h>
#include <string.h>

#include "inas/arch.h"
#include "testutil.h"

static inas_space def_space(void) {
    inas_space sp;
    inas_space_default(&sp);
    return sp;
}

static inas_space small_space(void) {
    const char *y = "stem: {width: [8, 12]}\n"
                    "stages:\n  - {width: [8, 12], depth: [1, 1]}\n  - {width: [8, 12], depth: [1, 2]}\n"
                    "  - {width: [16, 20], depth: [1, 2], kernels: [3, 5]}\n"
                    "head: {kernels: [3, 5]}\nresolution: {train: [64], eval: 64}\n";
    inas_space sp;
    inas_error e;
    cr_assert_eq(inas_space_parse(y, strlen(y), "small", &sp, &e), INAS_OK, "%s", e.message);
    return sp;
}

static void assert_valid(const inas_arch *a, const inas_space *sp) {
    inas_error e;
    inas_error_clear(&e);
    char line[4096];
    inas_arch_format_compact(a, line, sizeof line);
    cr_assert_eq(inas_arch_validate(a, sp, &e), INAS_OK, "%s\n%s", e.message, line);
}

__attribute__((noinline)) static char *to_yaml(const inas_arch *a, int indent) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    inas_arch_write_yaml(a, f, indent, 1);
    fclose(f);
    return buf;
}

/* ---- round trips ----------------------------------------------------------------------------------- */

Test(arch, yaml_and_compact_roundtrips_for_many_random_archs) {
    inas_space spaces[2] = {def_space(), small_space()};
    for (int si = 0; si < 2; si++) {
        inas_rng rng;
        inas_rng_seed(&rng, 1234 + (uint64_t)si);
        for (int n = 0; n < 400; n++) {
            inas_arch a, b, c;
            if (n == 0) inas_arch_sample_max(&spaces[si], &a);
            else if (n == 1) inas_arch_sample_min(&spaces[si], &a);
            else inas_arch_sample_random(&spaces[si], &rng, &a);
            assert_valid(&a, &spaces[si]);
            /* YAML */
            char *y = to_yaml(&a, 0);
            inas_error e;
            inas_error_clear(&e);
            cr_assert_eq(inas_arch_parse_yaml(y, strlen(y), "rt.yaml", &b, &e), INAS_OK, "%s\n%s", e.message, y);
            cr_assert(inas_arch_equal(&a, &b), "%s", y);
            cr_assert_eq(inas_arch_hash(&a), inas_arch_hash(&b));
            free(y);
            /* compact */
            char line[4096], again[4096];
            size_t need = inas_arch_format_compact(&a, line, sizeof line);
            cr_assert_eq(need, strlen(line));
            cr_assert_eq(inas_arch_parse_compact(line, &c, &e), INAS_OK, "%s\n%s", e.message, line);
            cr_assert(inas_arch_equal(&a, &c), "%s", line);
            inas_arch_format_compact(&c, again, sizeof again);
            cr_assert_str_eq(line, again);
            cr_assert(strchr(line, '\n') == NULL);
        }
    }
}

Test(arch, yaml_embedded_with_indent_and_compact_root) {
    inas_space sp = def_space();
    inas_rng rng;
    inas_rng_seed(&rng, 5);
    inas_arch a, b;
    inas_arch_sample_random(&sp, &rng, &a);
    /* embedded under a key of another document */
    char *y = to_yaml(&a, 2);
    size_t n = strlen(y) + 16;
    char *doc = malloc(n);
    snprintf(doc, n, "arch:\n%s", y);
    cr_assert(strstr(doc, "\n  resolution: 320\n"), "%s", doc);
    free(doc);
    free(y);
    /* a document that is just the compact string */
    char line[4096], quoted[4200];
    inas_arch_format_compact(&a, line, sizeof line);
    snprintf(quoted, sizeof quoted, "\"%s\"\n", line);
    inas_error e;
    cr_assert_eq(inas_arch_parse_yaml(quoted, strlen(quoted), "c.yaml", &b, &e), INAS_OK, "%s", e.message);
    cr_assert(inas_arch_equal(&a, &b));
    /* bit masks are accepted for level sets */
    inas_arch_sample_max(&sp, &a);
    y = to_yaml(&a, 0);
    char *p = strstr(y, "levels: [0, 1, 2, 3, 4]");
    cr_assert(p);
    const char *mask = "levels: 31";
    size_t m = strlen(y) + 1;
    char *z = malloc(m);
    size_t pre = (size_t)(p - y);
    memcpy(z, y, pre);
    strcpy(z + pre, mask);
    strcat(z, p + strlen("levels: [0, 1, 2, 3, 4]"));
    cr_assert_eq(inas_arch_parse_yaml(z, strlen(z), "m.yaml", &b, &e), INAS_OK, "%s", e.message);
    cr_assert(inas_arch_equal(&a, &b));
    free(z);
    free(y);
}

Test(arch, compact_form_example) {
    inas_space sp = def_space();
    inas_arch a;
    inas_arch_sample_min(&sp, &a);
    char line[4096];
    inas_arch_format_compact(&a, line, sizeof line);
    cr_assert_str_eq(line, "r320 s32 | 1:16k3 | 2:24k3 24k3 | 3:40k3 40k3 | 4:80k3 80k3 | 5:112k3 112k3 | "
                           "6:192k3 192k3 | 7:320k3 | t0:0 k3 | t1:1 k3 | t2:2 k3 | t3:3 k3 | t4:4 k3 | "
                           "d0:k3 | d1:k3 | d2:k3 | d3:k3 | d4:k3");
    /* blanks are tolerated */
    inas_arch b;
    inas_error e;
    const char *loose = "  r320   s32|1:16k3|2:24k3   24k3 |3:40k3 40k3|4:80k3 80k3|5:112k3 112k3|"
                        "6:192k3 192k3|7:320k3|t0:0  k3|t1:1 k3|t2:2 k3|t3:3 k3|t4:4 k3|"
                        "d0:k3|d1:k3|d2:k3|d3:k3|d4:k3\n";
    cr_assert_eq(inas_arch_parse_compact(loose, &b, &e), INAS_OK, "%s", e.message);
    cr_assert(inas_arch_equal(&a, &b));
    /* truncation: snprintf semantics */
    char small[10];
    size_t need = inas_arch_format_compact(&a, small, sizeof small);
    cr_assert_eq(need, strlen(line));
    cr_assert_eq(strlen(small), sizeof small - 1);
}

Test(arch, compact_parse_errors) {
    static const char *bad[] = {
        "",
        "x320",
        "r320 s32",
        "r320 s32 | 2:16k3",
        "r320 s32 | 1:16",
        "r320 s32 | 1:16k4",
        "r320 s32 | 1:16k5,3",
        "r320 s32 | 1: | 2:24k3",
        "r99999 s32",
        "r320 s32 | 1:16k3 | 2:24k3 | 3:40k3 | 4:80k3 | 5:112k3 | 6:192k3 | 7:320k3 | d0:k3",
        "r320 s32 | 1:16k3 | 2:24k3 | 3:40k3 | 4:80k3 | 5:112k3 | 6:192k3 | 7:320k3 | t0:0 k3 | t2:2 k3",
        "r320 s32 | 1:16k3 | 2:24k3 | 3:40k3 | 4:80k3 | 5:112k3 | 6:192k3 | 7:320k3 | t0:1+0 k3 | d0:k3",
        "r320 s32 | 1:16k3 | 2:24k3 | 3:40k3 | 4:80k3 | 5:112k3 | 6:192k3 | 7:320k3 | t0:0 k3 | d0:k3 | extra",
        "r320 s32 | 1:16k3 | 2:24k3 | 3:40k3 | 4:80k3 | 5:112k3 | 6:192k3 | 7:320k3 | t0:0 k3 | t1:1 k3 | d0:k3",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        inas_arch a;
        inas_error e;
        inas_error_clear(&e);
        cr_assert_eq(inas_arch_parse_compact(bad[i], &a, &e), INAS_ERR_FORMAT, "accepted '%s'", bad[i]);
        cr_assert(strstr(e.message, "column"), "%s", e.message);
    }
    /* every strict prefix of a valid line is rejected, the line itself accepted */
    inas_space sp = def_space();
    inas_arch a, b;
    inas_rng rng;
    inas_rng_seed(&rng, 9);
    inas_arch_sample_random(&sp, &rng, &a);
    char line[4096], cut[4096];
    inas_arch_format_compact(&a, line, sizeof line);
    for (size_t n = 0; n < strlen(line); n++) {
        memcpy(cut, line, n);
        cut[n] = '\0';
        /* a prefix ending inside the last kernel list can still be valid ("k3,5" -> "k3") */
        inas_status st = inas_arch_parse_compact(cut, &b, NULL);
        if (st == INAS_OK) cr_assert_gt(n, strlen(line) - 8, "prefix %zu accepted: '%s'", n, cut);
    }
}

Test(arch, yaml_parse_errors_name_field_and_line) {
    inas_space sp = def_space();
    inas_arch a;
    inas_arch_sample_min(&sp, &a);
    char *good = to_yaml(&a, 0);
    typedef struct {
        const char *from, *to, *want;
    } edit;
    static const edit edits[] = {
        {"resolution: 320", "resolution: big", "resolution: expected an integer"},
        {"stem: 32", "stem: 32\nbogus: 1", "unknown key 'bogus'"},
        {"  - depth: 1  # stage 1", "  - depth: 2  # stage 1", "stages[0].depth: depth 2 but 1 layers listed"},
        {"{width: 16, kernels: [3]}", "{width: 16, kernels: [4]}", "stages[0].layers[0].kernels: kernel size 4 is even"},
        {"{width: 16, kernels: [3]}", "{width: 16}", "stages[0].layers[0]: needs 'width' and 'kernels'"},
        {"{width: 16, kernels: [3]}", "{width: 16, kernels: []}", "the kernel set is empty"},
        {"{levels: [0], kernels: [3]}", "{levels: [0, 9], kernels: [3]}", "transport[0].levels"},
        {"{levels: [0], kernels: [3]}", "{kernels: [3]}", "transport[0]: missing 'levels'"},
        {"{extra: [], kernels: [3]}  # level 4", "{extra: [], kernels: 3}  # level 4", "decoder[4].kernels: expected a list"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *p = strstr(good, edits[i].from);
        cr_assert(p, "edit %zu: '%s' not in the YAML", i, edits[i].from);
        size_t n = strlen(good) + strlen(edits[i].to) + 1;
        char *doc = malloc(n);
        size_t pre = (size_t)(p - good);
        memcpy(doc, good, pre);
        strcpy(doc + pre, edits[i].to);
        strcat(doc, p + strlen(edits[i].from));
        /* the line of the edit */
        int line = 1;
        for (size_t k = 0; k < pre; k++) line += good[k] == '\n';
        inas_arch b;
        inas_error e;
        inas_error_clear(&e);
        cr_assert_eq(inas_arch_parse_yaml(doc, strlen(doc), "a.yaml", &b, &e), INAS_ERR_FORMAT, "edit %zu accepted", i);
        cr_assert(strstr(e.message, edits[i].want), "edit %zu: '%s' lacks '%s'", i, e.message, edits[i].want);
        char at[32];
        snprintf(at, sizeof at, "a.yaml:%d:", line);
        cr_assert(strncmp(e.message, at, strlen(at)) == 0 || strncmp(e.message, "a.yaml:", 7) == 0,
                  "edit %zu: '%s'", i, e.message);
        free(doc);
    }
    /* missing sections and an empty document */
    inas_arch b;
    inas_error e;
    cr_assert_eq(inas_arch_parse_yaml("resolution: 320\n", 16, "x.yaml", &b, &e), INAS_ERR_FORMAT);
    cr_assert(strstr(e.message, "x.yaml:1:1: stem: missing"), "%s", e.message);
    cr_assert_eq(inas_arch_parse_yaml("", 0, "x.yaml", &b, &e), INAS_ERR_FORMAT);
    cr_assert_eq(inas_arch_parse_yaml("r320 oops", 9, "x.yaml", &b, &e), INAS_ERR_FORMAT);
    cr_assert(strstr(e.message, "x.yaml:1:1: compact architecture"), "%s", e.message);
    free(good);
}

/* ---- validation --------------------------------------------------------------------------------- */

Test(arch, validation_errors_are_clear) {
    inas_space sp = def_space();
    inas_arch base;
    inas_arch_sample_max(&sp, &base);
    assert_valid(&base, &sp);
    typedef struct {
        int what;
        const char *want;
    } vcase;
    static const vcase cases[] = {
        {0, "stage 3 layer 2: width 42 is not one of 40..48 step 4"},
        {1, "stage 3 layer 2: width 52 is not one of 40..48 step 4"},
        {2, "stage 5: depth 7 is not in 2..6"},
        {3, "stage 2 layer 1: kernels {3,5} are not a subset of {3}"},
        {4, "stage 4 layer 1: the kernel subset is empty"},
        {5, "transport level 2: the fused levels must include 2 itself"},
        {6, "decoder level 1: extra levels must be deeper than 2"},
        {7, "4 head levels; the space has 5"},
        {8, "resolution 300"},
        {9, "stem: width 30"},
        {10, "transport level 0: kernels {3,11} are not a subset of {3,5,7,9}"},
        {11, "transport level 4: fuses a level beyond 4"},
        {12, "stage 1: depth 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        inas_arch a = base;
        switch (cases[i].what) {
        case 0: a.stages[2].layers[1].width = 42; break;
        case 1: a.stages[2].layers[1].width = 52; break;
        case 2: a.stages[4].depth = 7; a.stages[4].layers[6] = a.stages[4].layers[5]; break;
        case 3: a.stages[1].layers[0].kernels |= INAS_KSET(5); break;
        case 4: a.stages[3].layers[0].kernels = 0; break;
        case 5: a.transport_levels[2] &= ~(1u << 2); break;
        case 6: a.decoder_extra[1] |= 1u << 2; break;
        case 7: a.num_levels = 4; break;
        case 8: a.resolution = 300; break;
        case 9: a.stem_width = 30; break;
        case 10: a.transport_kernels[0] = INAS_KSET(3) | INAS_KSET(11); break;
        case 11: a.transport_levels[4] |= 1u << 5; break;
        case 12: a.stages[0].depth = 0; break;
        }
        inas_error e;
        inas_error_clear(&e);
        cr_assert_eq(inas_arch_validate(&a, &sp, &e), INAS_ERR_INVALID_ARG, "case %zu accepted", i);
        cr_assert(strstr(e.message, cases[i].want), "case %zu: '%s' lacks '%s'", i, e.message, cases[i].want);
    }
    /* every training resolution and the eval one are fine */
    inas_arch a = base;
    a.resolution = 384;
    assert_valid(&a, &sp);
    /* an arch of the default space is invalid in the small one */
    inas_space sm = small_space();
    inas_error e;
    cr_assert_neq(inas_arch_validate(&base, &sm, &e), INAS_OK);
}

Test(arch, canonical_form_equality_and_hash) {
    inas_space sp = def_space();
    inas_rng rng;
    inas_rng_seed(&rng, 77);
    inas_arch a, b;
    inas_arch_sample_random(&sp, &rng, &a);
    b = a;
    /* junk beyond the depth does not matter */
    b.stages[0].layers[INAS_MAX_DEPTH - 1].width = 999;
    b.stages[6].layers[a.stages[6].depth].kernels = 0x1234;
    b.transport_levels[6] = 0x7f;
    cr_assert(inas_arch_equal(&a, &b));
    cr_assert_eq(inas_arch_hash(&a), inas_arch_hash(&b));
    inas_arch_canonicalize(&b);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "canonical form is byte-identical to a sampled arch");
    /* any real change changes equality and (practically always) the hash */
    b.stages[3].layers[0].kernels ^= INAS_KSET(9);
    cr_assert_not(inas_arch_equal(&a, &b));
    cr_assert_neq(inas_arch_hash(&a), inas_arch_hash(&b));
    /* distinct random archs, distinct hashes */
    uint64_t h[300];
    for (int i = 0; i < 300; i++) {
        inas_arch_sample_random(&sp, &rng, &a);
        h[i] = inas_arch_hash(&a);
        for (int j = 0; j < i; j++) cr_assert_neq(h[i], h[j]);
    }
}

/* ---- sampling ------------------------------------------------------------------------------------- */

Test(arch, largest_and_smallest) {
    inas_space spaces[2] = {def_space(), small_space()};
    for (int si = 0; si < 2; si++) {
        const inas_space *sp = &spaces[si];
        inas_arch mx, mn;
        inas_arch_sample_max(sp, &mx);
        inas_arch_sample_min(sp, &mn);
        assert_valid(&mx, sp);
        assert_valid(&mn, sp);
        cr_assert_eq(mx.resolution, sp->eval_res);
        cr_assert_eq(mx.stem_width, sp->stem.width_max);
        cr_assert_eq(mn.stem_width, sp->stem.width_min);
        for (int s = 0; s < INAS_SPACE_STAGES; s++) {
            const inas_space_stage *g = &sp->stages[s];
            cr_assert_eq(mx.stages[s].depth, g->depth_max);
            cr_assert_eq(mn.stages[s].depth, g->depth_min);
            for (int l = 0; l < mx.stages[s].depth; l++) {
                cr_assert_eq(mx.stages[s].layers[l].width, g->width_max);
                cr_assert_eq(mx.stages[s].layers[l].kernels, g->kernels);
            }
            for (int l = 0; l < mn.stages[s].depth; l++) {
                cr_assert_eq(mn.stages[s].layers[l].width, g->width_min);
                cr_assert_eq(mn.stages[s].layers[l].kernels, INAS_KSET(inas_kset_min(g->kernels)));
            }
        }
        int L = sp->num_levels;
        for (int i = 0; i < L; i++) {
            cr_assert_eq(mx.transport_levels[i], (1u << L) - 1);
            cr_assert_eq(mn.transport_levels[i], 1u << i);
            cr_assert_eq(mx.transport_kernels[i], sp->head_kernels);
            cr_assert_eq(mn.transport_kernels[i], INAS_KSET(3));
            cr_assert_eq(mn.decoder_extra[i], 0u);
            uint32_t deeper = i + 2 < L ? ((1u << L) - 1) & ~((1u << (i + 2)) - 1) : 0;
            cr_assert_eq(mx.decoder_extra[i], deeper);
            cr_assert_eq(inas_arch_decoder_levels(&mn, i), i + 1 < L ? 3u << i : 1u << i);
            cr_assert_eq(inas_arch_decoder_levels(&mx, i), ((1u << L) - 1) & ~((1u << i) - 1));
        }
    }
}

Test(arch, random_sampling_covers_every_choice_and_is_deterministic) {
    inas_space sp = def_space();
    inas_rng rng;
    inas_rng_seed(&rng, 2024);
    int width_seen[7][16] = {{0}}, depth_seen[7][8] = {{0}}, ksub_seen[7][128] = {{0}};
    int tmask_seen[5][32] = {{0}}, dmask_seen[5][32] = {{0}}, tk_seen[128] = {0}, stem_seen[3] = {0};
    for (int n = 0; n < 4000; n++) {
        inas_arch a;
        inas_arch_sample_random(&sp, &rng, &a);
        assert_valid(&a, &sp);
        stem_seen[(a.stem_width - 32) / 4]++;
        for (int s = 0; s < 7; s++) {
            const inas_space_stage *g = &sp.stages[s];
            depth_seen[s][a.stages[s].depth]++;
            for (int l = 0; l < a.stages[s].depth; l++) {
                width_seen[s][(a.stages[s].layers[l].width - g->width_min) / 4]++;
                ksub_seen[s][a.stages[s].layers[l].kernels >> 3]++; /* kernel 3 -> bit 0 .. 9 -> bit 6 */
            }
        }
        for (int i = 0; i < 5; i++) {
            tmask_seen[i][a.transport_levels[i]]++;
            dmask_seen[i][a.decoder_extra[i]]++;
        }
        tk_seen[a.transport_kernels[0] >> 3]++;
        tk_seen[a.decoder_kernels[4] >> 3]++;
    }
    for (int w = 0; w < 3; w++) cr_assert_gt(stem_seen[w], 1000, "stem width %d", 32 + 4 * w);
    for (int s = 0; s < 7; s++) {
        const inas_space_stage *g = &sp.stages[s];
        for (int w = 0; w < inas_space_stage_widths(&sp, s); w++)
            cr_assert_gt(width_seen[s][w], 0, "stage %d width %d never sampled", s + 1, g->width_min + 4 * w);
        for (int d = g->depth_min; d <= g->depth_max; d++) {
            double share = depth_seen[s][d] / 4000.0, want = 1.0 / (g->depth_max - g->depth_min + 1);
            cr_assert_float_eq(share, want, 0.04, "stage %d depth %d: %.3f vs %.3f", s + 1, d, share, want);
        }
    }
    int tk = 0;
    for (int m = 0; m < 128; m++) tk += tk_seen[m] > 0;
    cr_assert_eq(tk, 15, "head kernel subsets");
    for (int s = 0; s < 7; s++) { /* every non-empty kernel subset of every stage */
        int distinct = 0;
        for (int m = 0; m < 128; m++) distinct += ksub_seen[s][m] > 0;
        cr_assert_eq(distinct, (1 << inas_kset_count(sp.stages[s].kernels)) - 1, "stage %d kernel subsets", s + 1);
    }
    for (int i = 0; i < 5; i++) {
        int distinct = 0;
        for (int m = 0; m < 32; m++) distinct += tmask_seen[i][m] > 0;
        cr_assert_eq(distinct, 16, "transport level %d: every subset containing %d", i, i);
        distinct = 0;
        for (int m = 0; m < 32; m++) distinct += dmask_seen[i][m] > 0;
        cr_assert_eq(distinct, 1 << (i + 2 < 5 ? 3 - i : 0), "decoder level %d extras", i);
    }
    /* deterministic per seed, different across seeds */
    inas_rng r1, r2, r3;
    inas_rng_seed(&r1, 42);
    inas_rng_seed(&r2, 42);
    inas_rng_seed(&r3, 43);
    inas_arch a, b, c;
    for (int n = 0; n < 20; n++) {
        inas_arch_sample_random(&sp, &r1, &a);
        inas_arch_sample_random(&sp, &r2, &b);
        inas_arch_sample_random(&sp, &r3, &c);
        cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
        cr_assert_not(inas_arch_equal(&a, &c));
    }
}

Test(arch, every_kernel_subset_is_sampled_uniformly) {
    inas_space sp = def_space();
    inas_rng rng;
    inas_rng_seed(&rng, 11);
    int seen[1024] = {0}, total = 0;
    for (int n = 0; n < 3000; n++) {
        inas_arch a;
        inas_arch_sample_random(&sp, &rng, &a);
        inas_kset k = a.stages[2].layers[0].kernels;
        seen[k >> 3]++; /* kernels 3..9 -> bits 0..6 */
        total++;
    }
    int distinct = 0;
    for (int m = 0; m < 1024; m++)
        if (seen[m]) {
            distinct++;
            cr_assert_float_eq(seen[m] / (double)total, 1.0 / 15, 0.025, "subset %#x", m << 3);
        }
    cr_assert_eq(distinct, 15, "all 2^4 - 1 non-empty subsets of {3,5,7,9}");
}

Test(arch, unit_sampling_sets_one_unit_only) {
    inas_space sp = def_space();
    cr_assert_eq(inas_arch_num_units(&sp), 13);
    char name[32];
    cr_assert_str_eq(inas_arch_unit_name(&sp, 0, name, sizeof name), "stem");
    cr_assert_str_eq(inas_arch_unit_name(&sp, 3, name, sizeof name), "stage 3");
    cr_assert_str_eq(inas_arch_unit_name(&sp, 8, name, sizeof name), "level 0");
    inas_rng rng;
    inas_rng_seed(&rng, 3);
    inas_arch mn, mx, a;
    inas_arch_sample_min(&sp, &mn);
    inas_arch_sample_max(&sp, &mx);
    /* rejection sampling stage by stage: start smallest, draw unit by unit */
    a = mn;
    for (int u = 0; u < inas_arch_num_units(&sp); u++) {
        inas_arch before = a;
        inas_arch_sample_unit(&sp, u, INAS_SAMPLE_RANDOM, &rng, &a);
        assert_valid(&a, &sp);
        for (int v = 0; v < inas_arch_num_units(&sp); v++) {
            if (v == u) continue;
            inas_arch x = before, y = a;
            inas_arch_copy_unit(&sp, u, &mn, &x);
            inas_arch_copy_unit(&sp, u, &mn, &y);
            cr_assert(inas_arch_equal(&x, &y), "unit %d changed another unit", u);
        }
    }
    /* max and min per unit reproduce the largest and smallest */
    a = mn;
    for (int u = 0; u < inas_arch_num_units(&sp); u++) inas_arch_sample_unit(&sp, u, INAS_SAMPLE_MAX, NULL, &a);
    cr_assert(inas_arch_equal(&a, &mx));
    for (int s = 0; s < 7; s++) inas_arch_sample_stage(&sp, s, INAS_SAMPLE_MIN, NULL, &a);
    cr_assert_eq(a.stem_width, mx.stem_width);
    cr_assert_eq(memcmp(a.stages, mn.stages, sizeof a.stages), 0);
}

/* ---- crossover and mutation ---------------------------------------------------------------------- */

Test(arch, crossover) {
    inas_space sp = def_space();
    inas_rng rng;
    inas_rng_seed(&rng, 99);
    inas_arch a, b, ca, cb;
    inas_arch_sample_random(&sp, &rng, &a);
    inas_arch_sample_random(&sp, &rng, &b);
    inas_arch_crossover(&sp, &a, &b, 0.0, &rng, &ca, &cb);
    cr_assert(inas_arch_equal(&ca, &a));
    cr_assert(inas_arch_equal(&cb, &b));
    inas_arch_crossover(&sp, &a, &b, 1.0, &rng, &ca, &cb);
    cr_assert(inas_arch_equal(&ca, &b));
    cr_assert(inas_arch_equal(&cb, &a));
    int swapped_any = 0;
    for (int n = 0; n < 200; n++) {
        inas_arch_sample_random(&sp, &rng, &a);
        inas_arch_sample_random(&sp, &rng, &b);
        inas_arch_crossover(&sp, &a, &b, 0.3, &rng, &ca, (n & 1) ? NULL : &cb);
        assert_valid(&ca, &sp);
        for (int u = 0; u < inas_arch_num_units(&sp); u++) {
            /* unit u of the child is parent a's or parent b's, and child b has the other */
            inas_arch from_a = ca, from_b = ca;
            inas_arch_copy_unit(&sp, u, &a, &from_a);
            inas_arch_copy_unit(&sp, u, &b, &from_b);
            int is_a = inas_arch_equal(&ca, &from_a), is_b = inas_arch_equal(&ca, &from_b);
            cr_assert(is_a || is_b, "unit %d is from neither parent", u);
            if (!is_a) swapped_any = 1;
            if (!(n & 1)) {
                inas_arch other = cb;
                inas_arch_copy_unit(&sp, u, is_a ? &b : &a, &other);
                cr_assert(inas_arch_equal(&other, &cb), "child b is the complement (unit %d)", u);
            }
        }
    }
    cr_assert(swapped_any);
}

Test(arch, mutation) {
    inas_space spaces[2] = {def_space(), small_space()};
    for (int si = 0; si < 2; si++) {
        const inas_space *sp = &spaces[si];
        inas_rng rng;
        inas_rng_seed(&rng, 100 + (uint64_t)si);
        int changed = 0;
        for (int n = 0; n < 300; n++) {
            inas_arch p, c;
            inas_arch_sample_random(sp, &rng, &p);
            inas_arch_mutate(sp, &p, 0.0, &rng, &c);
            cr_assert(inas_arch_equal(&p, &c), "p_m = 0 keeps the parent");
            inas_arch_mutate(sp, &p, 0.2, &rng, &c);
            assert_valid(&c, sp);
            changed += !inas_arch_equal(&p, &c);
            inas_arch_mutate(sp, &p, 1.0, &rng, &c);
            assert_valid(&c, sp);
            inas_arch q = p;
            inas_arch_mutate(sp, &q, 0.5, &rng, &q); /* in place */
            assert_valid(&q, sp);
        }
        cr_assert_gt(changed, 250, "p_m = 0.2 changes nearly every architecture (%d/300)", changed);
    }
    /* mutation reaches every depth from the smallest network */
    inas_space sp = def_space();
    inas_rng rng;
    inas_rng_seed(&rng, 5);
    inas_arch mn, c;
    inas_arch_sample_min(&sp, &mn);
    int depths[8] = {0};
    for (int n = 0; n < 500; n++) {
        inas_arch_mutate(&sp, &mn, 0.5, &rng, &c);
        depths[c.stages[4].depth]++;
    }
    for (int d = 2; d <= 6; d++) cr_assert_gt(depths[d], 0, "depth %d", d);
}

/* ---- helpers for the supernet --------------------------------------------------------------------- */

Test(arch, channels_and_strides) {
    inas_space sp = def_space();
    inas_rng rng;
    inas_rng_seed(&rng, 8);
    inas_arch a;
    inas_arch_sample_random(&sp, &rng, &a);
    cr_assert_eq(inas_arch_layer_in(&a, 0, 0), a.stem_width);
    for (int s = 0; s < 7; s++) {
        int d = a.stages[s].depth;
        cr_assert_eq(inas_arch_stage_width(&a, s), a.stages[s].layers[d - 1].width);
        if (s) cr_assert_eq(inas_arch_layer_in(&a, s, 0), inas_arch_stage_width(&a, s - 1));
        for (int l = 1; l < d; l++) {
            cr_assert_eq(inas_arch_layer_in(&a, s, l), a.stages[s].layers[l - 1].width);
            cr_assert_eq(inas_space_layer_stride(&sp, s, l), 1);
        }
        cr_assert_eq(inas_arch_layer_out(&a, s, 0), a.stages[s].layers[0].width);
        cr_assert_eq(inas_space_layer_stride(&sp, s, 0), sp.stages[s].stride);
        cr_assert_eq(inas_arch_layer_mid(&a, &sp, s, 0), sp.stages[s].expand * inas_arch_layer_in(&a, s, 0));
    }
    static const int lv[5] = {0, 1, 2, 4, 6};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(inas_arch_level_width(&a, &sp, i), inas_arch_stage_width(&a, lv[i]));
        cr_assert_eq(inas_space_stage_level(&sp, lv[i]), i);
    }
    cr_assert_eq(inas_space_stage_level(&sp, 3), -1);
    cr_assert_eq(inas_space_stage_out_stride(&sp, 6), 32);
}

Test(arch, load_and_save_files) {
    char *dir = tu_mkdtemp("arch");
    char path[512];
    snprintf(path, sizeof path, "%s/a.yaml", dir);
    inas_space sp = def_space();
    inas_rng rng;
    inas_rng_seed(&rng, 4);
    inas_arch a, b;
    inas_arch_sample_random(&sp, &rng, &a);
    inas_error e;
    cr_assert_eq(inas_arch_save(path, &a, &e), INAS_OK, "%s", e.message);
    cr_assert_eq(inas_arch_load(path, &sp, &b, &e), INAS_OK, "%s", e.message);
    cr_assert(inas_arch_equal(&a, &b));
    /* valid structure, invalid for the space: the message names the file */
    inas_space sm = small_space();
    cr_assert_eq(inas_arch_load(path, &sm, &b, &e), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(e.message, "a.yaml: architecture: resolution 320"), "%s", e.message);
    /* the example files */
    const char *src = getenv("INAS_SOURCE_DIR");
    cr_assert(src);
    snprintf(path, sizeof path, "%s/examples/arch-example.yaml", src);
    cr_assert_eq(inas_arch_load(path, &sp, &b, &e), INAS_OK, "%s", e.message);
    inas_space small;
    char sp_path[512];
    snprintf(sp_path, sizeof sp_path, "%s/examples/space-small.yaml", src);
    cr_assert_eq(inas_space_load(sp_path, &small, &e), INAS_OK, "%s", e.message);
    snprintf(path, sizeof path, "%s/examples/arch-small-example.yaml", src);
    cr_assert_eq(inas_arch_load(path, &small, &b, &e), INAS_OK, "%s", e.message);
    tu_rmrf(dir);
    free(dir);
}

/* ---- CLI ------------------------------------------------------------------------------------------- */

Test(arch_cli, sample_and_check) {
    inas_space sp = def_space();
    inas_arch mx, mn, got;
    inas_arch_sample_max(&sp, &mx);
    inas_arch_sample_min(&sp, &mn);
    char *out = NULL;
    inas_error e;
    cr_assert_eq(tu_run_cli("arch sample --max --compact", &out), 0, "%s", out);
    cr_assert_eq(inas_arch_parse_compact(out, &got, &e), INAS_OK, "%s", e.message);
    cr_assert(inas_arch_equal(&got, &mx));
    free(out);
    cr_assert_eq(tu_run_cli("arch sample --min", &out), 0, "%s", out);
    cr_assert_eq(inas_arch_parse_yaml(out, strlen(out), "stdout", &got, &e), INAS_OK, "%s", e.message);
    cr_assert(inas_arch_equal(&got, &mn));
    free(out);
    char *o1 = NULL, *o2 = NULL, *o3 = NULL;
    cr_assert_eq(tu_run_cli("arch sample --random --seed 5 --compact --count 3", &o1), 0);
    cr_assert_eq(tu_run_cli("arch sample --random --seed 5 --compact --count 3", &o2), 0);
    cr_assert_eq(tu_run_cli("arch sample --random --seed 6 --compact --count 3", &o3), 0);
    cr_assert_str_eq(o1, o2, "same seed, same output");
    cr_assert_str_neq(o1, o3);
    int lines = 0;
    for (char *p = o1; *p; p++) lines += *p == '\n';
    cr_assert_eq(lines, 3);
    free(o1);
    free(o2);
    free(o3);
    cr_assert_eq(tu_run_cli("arch sample --random --space \"$INAS_SOURCE_DIR/examples/space-small.yaml\" --compact",
                            &out), 0, "%s", out);
    cr_assert(strncmp(out, "r64 s", 5) == 0, "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("arch check \"$INAS_SOURCE_DIR/examples/arch-example.yaml\"", &out), 0, "%s", out);
    cr_assert(strncmp(out, "r320 s", 6) == 0, "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("arch check \"$INAS_SOURCE_DIR/examples/arch-small-example.yaml\"", &out), 1, "%s", out);
    cr_assert(strstr(out, "resolution 64"), "%s", out);
    free(out);
    /* a file holding just the compact line, checked against the space */
    char *dir = tu_mkdtemp("archcli");
    char path[512], args[800];
    snprintf(path, sizeof path, "%s/c.txt", dir);
    char line[4096];
    inas_arch_format_compact(&mx, line, sizeof line);
    cr_assert_eq(tu_write_file(path, line, strlen(line)), 0);
    snprintf(args, sizeof args, "arch check '%s' --yaml", path);
    cr_assert_eq(tu_run_cli(args, &out), 0, "%s", out);
    cr_assert(strstr(out, "transport:"), "%s", out);
    free(out);
    mx.stages[2].layers[0].width = 44 + 1;
    inas_arch_format_compact(&mx, line, sizeof line);
    cr_assert_eq(tu_write_file(path, line, strlen(line)), 0);
    snprintf(args, sizeof args, "arch check '%s'", path);
    cr_assert_eq(tu_run_cli(args, &out), 1, "%s", out);
    cr_assert(strstr(out, "stage 3 layer 1: width 45"), "%s", out);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

Test(arch_cli, usage_errors_and_help) {
    char *out = NULL;
    cr_assert_eq(tu_run_cli("arch --help", &out), 0);
    cr_assert(strncmp(out, "Usage: inas arch", 16) == 0, "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("arch sample --help", &out), 0);
    cr_assert(strncmp(out, "Usage: inas arch", 16) == 0, "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("arch", NULL), 2);
    cr_assert_eq(tu_run_cli("arch frobnicate", NULL), 2);
    cr_assert_eq(tu_run_cli("arch sample", NULL), 2);
    cr_assert_eq(tu_run_cli("arch sample --max --min", NULL), 2);
    cr_assert_eq(tu_run_cli("arch sample --random --seed nope", NULL), 2);
    cr_assert_eq(tu_run_cli("arch check", NULL), 2);
    cr_assert_eq(tu_run_cli("arch check /nonexistent/arch.yaml", NULL), 1);
    cr_assert_eq(tu_run_cli("arch sample --max --space /nonexistent/space.yaml", NULL), 1);
    cr_assert_eq(tu_run_cli("help arch", &out), 0);
    cr_assert(strncmp(out, "Usage: inas arch", 16) == 0, "%s", out);
    free(out);
}

/* ---- garbage in: errors, never crashes ------------------------------------------------------------------ */

Test(arch, fuzzed_documents_never_crash) {
    inas_space sp = def_space();
    inas_rng rng;
    inas_rng_seed(&rng, 31337);
    inas_arch a;
    inas_arch_sample_random(&sp, &rng, &a);
    char *y = to_yaml(&a, 0);
    char line[4096];
    inas_arch_format_compact(&a, line, sizeof line);
    FILE *f;
    char *sy = NULL;
    size_t sylen = 0;
    f = open_memstream(&sy, &sylen);
    inas_space_write_yaml(&sp, f);
    fclose(f);
    static const char junk[] = "{}[]:,-#|+k 0123456789\n\"'&*!?";
    const char *docs[3] = {y, line, sy};
    int accepted = 0;
    for (int n = 0; n < 3000; n++) {
        const char *src = docs[n % 3];
        size_t len = strlen(src);
        char *m = malloc(len + 1);
        memcpy(m, src, len + 1);
        int edits = 1 + (int)inas_rng_below(&rng, 4);
        for (int k = 0; k < edits; k++) {
            size_t at = (size_t)inas_rng_below(&rng, len);
            m[at] = junk[inas_rng_below(&rng, sizeof junk - 1)];
        }
        if (inas_rng_below(&rng, 4) == 0) m[inas_rng_below(&rng, len)] = '\0'; /* truncate */
        inas_arch b;
        inas_space s2;
        inas_error e;
        inas_status st;
        if (n % 3 == 0) st = inas_arch_parse_yaml(m, strlen(m), "fuzz", &b, &e);
        else if (n % 3 == 1) st = inas_arch_parse_compact(m, &b, &e);
        else st = inas_space_parse(m, strlen(m), "fuzz", &s2, &e);
        if (st == INAS_OK) {
            accepted++;
            if (n % 3 != 2) {
                inas_arch_validate(&b, &sp, &e); /* may fail, must not crash */
                char again[8192];
                inas_arch_format_compact(&b, again, sizeof again);
            } else {
                cr_assert_eq(inas_space_validate(&s2, &e), INAS_OK, "a parsed space is valid: %s", e.message);
                inas_arch c;
                inas_arch_sample_random(&s2, &rng, &c);
                cr_assert_eq(inas_arch_validate(&c, &s2, &e), INAS_OK, "%s", e.message);
            }
        } else {
            cr_assert_neq(e.message[0], '\0');
        }
        free(m);
    }
    cr_assert_gt(accepted, 0);
    free(y);
    free(sy);
}
