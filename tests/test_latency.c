/* test_latency.c - device targets and latency LUTs (include/inas/target.h,
 * include/inas/lut.h): every shipped target parses; bad fields, types,
 * unknown keys and missing fields fail with file:line:col; block key
 * enumeration counts on hand-countable spaces; key text round trip; LUT file
 * round trip and corruption detection (CRC, malformed lines, truncation);
 * predict = sum of entries + overhead; a probe on PoCL end to end and resume
 * after a simulated interruption re-measuring nothing finished; the CLI. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "inas/lut.h"
#include "inas/target.h"
#include "inas/util.h"
#include "testutil.h"

/* ---- targets ----------------------------------------------------------------------------- */

Test(target, shipped_targets_parse) {
    const char *src = getenv("INAS_SOURCE_DIR");
    cr_assert_not_null(src);
    const char *names[] = {"host-cpu", "desktop-gpu", "android-adreno", "android-mali", "dsp-accelerator"};
    for (int i = 0; i < 5; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/targets/%s.yaml", src, names[i]);
        inas_target t;
        inas_error err;
        cr_assert_eq(inas_target_load(path, &t, &err), INAS_OK, "%s", err.message);
        cr_assert_str_eq(t.name, names[i]);
        cr_assert(t.probe.resolution == 320 && t.probe.runs >= 1, "%s", path);
        cr_assert(t.description[0], "%s has no description", path);
        char want[128];
        snprintf(want, sizeof want, "lut/%s.lut", names[i]);
        cr_assert_str_eq(t.lut, want);
    }
    inas_target t;
    char path[1024];
    snprintf(path, sizeof path, "%s/targets/host-cpu.yaml", src);
    cr_assert_eq(inas_target_load(path, &t, NULL), INAS_OK);
    cr_assert_eq(t.transport, INAS_TRANSPORT_LOCAL);
    cr_assert_eq(t.probe.statistic, INAS_STAT_MEDIAN);
    char sel[256];
    inas_target_selector(&t, sel, sizeof sel);
    cr_assert_str_eq(sel, "platform=Portable Computing Language,type=cpu");
    snprintf(path, sizeof path, "%s/targets/android-adreno.yaml", src);
    cr_assert_eq(inas_target_load(path, &t, NULL), INAS_OK);
    cr_assert_eq(t.transport, INAS_TRANSPORT_ADB);
    cr_assert_str_eq(t.adb.taskset, "f0");
    cr_assert_str_eq(t.adb.remote_dir, "/data/local/tmp/inas");
}

Test(lut_cli, probe_binary_help) {
    const char *bin = getenv("INAS_BINARY_DIR");
    cr_assert_not_null(bin);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s/inas-probe' --help > /dev/null", bin);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "'%s/inas-probe' --keys x 2> /dev/null", bin);
    cr_assert_eq(WEXITSTATUS(system(cmd)), 2);
}

static const char *GOOD = "name: t1\n"
                          "opencl: {platform: pocl, type: cpu, index: 1, precision: fp32}\n"
                          "probe:\n"
                          "  resolution: 64\n"
                          "  runs: 5\n"
                          "space: spaces/s.yaml\n";

Test(target, defaults_and_relative_space) {
    inas_target t;
    inas_error err;
    cr_assert_eq(inas_target_parse(GOOD, strlen(GOOD), "dir/t1.yaml", &t, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(t.probe.batch, 1);
    cr_assert_eq(t.probe.warmup, 3);
    cr_assert_eq(t.probe.runs, 5);
    cr_assert_str_eq(t.lut, "lut/t1.lut");
    cr_assert_str_eq(t.space, "dir/spaces/s.yaml");
    char sel[256];
    inas_target_selector(&t, sel, sizeof sel);
    cr_assert_str_eq(sel, "platform=pocl,type=cpu,index=1");
}

/* Each bad document fails with "bad.yaml:LINE:COL: FIELD" in the message. */
static void expect_bad(const char *doc, const char *want) {
    inas_target t;
    inas_error err;
    inas_error_clear(&err);
    cr_assert_neq(inas_target_parse(doc, strlen(doc), "bad.yaml", &t, &err), INAS_OK, "accepted: %s", doc);
    cr_assert(strstr(err.message, want) != NULL, "for:\n%s\nwant '%s' in: %s", doc, want, err.message);
}

Test(target, bad_fields_name_line_and_column) {
    expect_bad("name: a\nprobe: {resolution: 64}\ncolour: red\n", "bad.yaml:3:1: (document)"); /* unknown key */
    expect_bad("name: a\nprobe: {resolution: 64, speed: 3}\n", "bad.yaml:2:25: probe: unknown key 'speed'");
    expect_bad("name: a\nprobe: {resolution: 64, runs: many}\n", "bad.yaml:2:31: probe.runs: expected an integer");
    expect_bad("name: a\nprobe: {resolution: 64, runs: 0}\n", "bad.yaml:2:31: probe.runs");
    expect_bad("name: a\nprobe:\n  resolution: [64]\n", "bad.yaml:3:15: probe.resolution");
    expect_bad("name: a\nprobe: {resolution: 70}\n", "bad.yaml:2:21: probe.resolution: 70 is not a multiple of 32");
    expect_bad("name: a\nprobe: {resolution: 64, statistic: mode}\n",
               "bad.yaml:2:36: probe.statistic: 'mode' is not one of median, mean, min");
    expect_bad("name: a\n", "bad.yaml:1:1: probe: missing");                   /* missing section */
    expect_bad("probe: {resolution: 64}\n", "bad.yaml:1:1: name: missing");      /* missing field */
    expect_bad("name: a\nprobe: {batch: 2}\n", "bad.yaml:2:8: probe.resolution: missing");
    expect_bad("name: [a]\nprobe: {resolution: 64}\n", "bad.yaml:1:7: name: expected a string");
    expect_bad("name: a b\nprobe: {resolution: 64}\n", "bad.yaml:1:7: name");
    expect_bad("name: a\nprobe: {resolution: 64}\nopencl: gpu\n", "bad.yaml:3:9: opencl: expected a mapping");
    expect_bad("name: a\nprobe: {resolution: 64}\nopencl: {precision: fp64}\n", "bad.yaml:3:21: opencl.precision");
    expect_bad("name: a\nprobe: {resolution: 64}\nopencl: {type: tpu}\n", "bad.yaml:3:16: opencl.type");
    expect_bad("name: a\nprobe: {resolution: 64}\ntransport: usb\n", "bad.yaml:3:12: transport");
    expect_bad("name: a\nprobe: {resolution: 64}\ntransport: adb\n", "bad.yaml:1:1: adb: missing");
    expect_bad("name: a\nprobe: {resolution: 64}\nadb: {remote_dir: /x}\n", "bad.yaml:3:6: adb: only allowed");
    expect_bad("name: a\nprobe: {resolution: 64}\ntransport: adb\nadb: {remote_dir: /x, probe_binary: p}\n",
               "bad.yaml:4:6: adb.opencl_library: missing");
    expect_bad("name: a\nprobe: {resolution: 64}\ntransport: adb\n"
               "adb: {remote_dir: /x, probe_binary: p, opencl_library: l, taskset: zz}\n",
               "bad.yaml:4:68: adb.taskset");
    expect_bad("name: a\nprobe: {resolution: 64}\nsearch: {budget_ms: fast}\n", "bad.yaml:3:21: search.budget_ms");
    expect_bad("name: a\nprobe: {resolution: 64}\nlut: {path: x}\n", "bad.yaml:3:6: lut: expected a string");
    expect_bad("name: a\nprobe: {resolution: 64\n", "bad.yaml:"); /* YAML syntax error */
}

Test(target, adb_serial_from_environment) {
    const char *doc = "name: phone\nprobe: {resolution: 320}\ntransport: adb\n"
                      "adb: {remote_dir: /data/local/tmp/x, probe_binary: p, opencl_library: /l.so}\n";
    inas_target t;
    setenv("ANDROID_SERIAL", "emulator-5554", 1);
    cr_assert_eq(inas_target_parse(doc, strlen(doc), "p.yaml", &t, NULL), INAS_OK);
    cr_assert_str_eq(t.adb.serial, "emulator-5554");
    unsetenv("ANDROID_SERIAL");
    cr_assert_eq(inas_target_parse(doc, strlen(doc), "p.yaml", &t, NULL), INAS_OK);
    cr_assert_str_eq(t.adb.serial, "");
}

/* ---- block keys ----------------------------------------------------------------------------- */

/* Every choice fixed: widths one value, depth 1, kernels {3}. */
static const char *TINY = "stem: {width: 8}\n"
                          "stages:\n"
                          "  - {width: 8, depth: 1, kernels: [3]}\n"
                          "  - {width: 12, depth: 1, kernels: [3]}\n"
                          "  - {width: 16, depth: 1, kernels: [3]}\n"
                          "  - {width: 20, depth: 1, kernels: [3]}\n"
                          "  - {width: 24, depth: 1, kernels: [3]}\n"
                          "  - {width: 28, depth: 1, kernels: [3]}\n"
                          "  - {width: 32, depth: 1, kernels: [3]}\n"
                          "head: {kernels: [3]}\n"
                          "resolution: {train: [64], eval: 64}\n";

static void tiny_space(inas_space *sp, const char *extra_stage4) {
    char doc[2048];
    snprintf(doc, sizeof doc, "%s", TINY);
    if (extra_stage4) {
        char *p = strstr(doc, "  - {width: 20, depth: 1, kernels: [3]}");
        cr_assert_not_null(p);
        char rest[2048];
        snprintf(rest, sizeof rest, "%s", p + strlen("  - {width: 20, depth: 1, kernels: [3]}"));
        snprintf(p, sizeof doc - (size_t)(p - doc), "%s%s", extra_stage4, rest);
    }
    inas_error err;
    cr_assert_eq(inas_space_parse(doc, strlen(doc), "tiny", sp, &err), INAS_OK, "%s", err.message);
}

static size_t count_kind(const inas_block_key *k, size_t n, inas_block_kind kind) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += k[i].kind == kind;
    return c;
}

Test(lut, key_enumeration_counts) {
    inas_space sp;
    tiny_space(&sp, NULL);
    inas_block_key *k;
    size_t n;
    inas_error err;
    cr_assert_eq(inas_lut_enumerate(&sp, 64, &k, &n, &err), INAS_OK, "%s", err.message);
    /* stem 1; one MBConv key per stage (7); transport branches: 5 x 4 level pairs (20);
     * decoder branches: pairs j > i (10); transport fusions: 1..5 branches x 5 levels (25);
     * decoder fusions: level 4: 1, level 3: 1 (n=2), level 2: 2, level 1: 3, level 0: 4 (11);
     * output 1. */
    cr_assert_eq(count_kind(k, n, INAS_BLOCK_STEM), 1);
    cr_assert_eq(count_kind(k, n, INAS_BLOCK_MBCONV), 7);
    cr_assert_eq(count_kind(k, n, INAS_BLOCK_TBRANCH), 20);
    cr_assert_eq(count_kind(k, n, INAS_BLOCK_DBRANCH), 10);
    cr_assert_eq(count_kind(k, n, INAS_BLOCK_TFUSE), 25);
    cr_assert_eq(count_kind(k, n, INAS_BLOCK_DFUSE), 11);
    cr_assert_eq(count_kind(k, n, INAS_BLOCK_OUTPUT), 1);
    cr_assert_eq(n, 75);
    char a[INAS_BLOCK_KEY_MAX], b[INAS_BLOCK_KEY_MAX];
    for (size_t i = 0; i < n; i++) { /* sorted, distinct, text round trip */
        inas_block_key back;
        inas_block_key_format(&k[i], a, sizeof a);
        cr_assert_eq(inas_block_key_parse(a, &back, &err), INAS_OK, "%s", err.message);
        cr_assert_str_eq(inas_block_key_format(&back, b, sizeof b), a);
        if (i) cr_assert_lt(strcmp(inas_block_key_format(&k[i - 1], b, sizeof b), a), 0);
    }
    free(k);
    /* stage 4 (not a head level) with widths {16,20}, depth 1..2, kernels {3,5}: its first
     * layer 1 x 2 x 2 = 4 keys, its later layers 2 x 2 x 2 = 8 (12 instead of 1), and
     * stage 5's first layer sees 2 input widths (+1): 75 + 11 + 1 = 87. */
    tiny_space(&sp, "  - {width: [16, 20], depth: [1, 2], kernels: [3, 5]}");
    cr_assert_eq(inas_lut_enumerate(&sp, 64, &k, &n, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(count_kind(k, n, INAS_BLOCK_MBCONV), 7 + 11 + 1);
    cr_assert_eq(n, 87);
    free(k);
    cr_assert_neq(inas_lut_enumerate(&sp, 48, &k, &n, &err), INAS_OK); /* not a multiple of 32 */
}

Test(lut, key_parse_rejects_malformed) {
    inas_block_key k;
    const char *bad[] = {"", "conv c1-2", "stem c3-8 k3 s2 r64", "mbconv c8-8 m8 k3 s1 r32-32 extra",
                         "tfuse n2 c8 k3 r16 ", "output c8 r32-x", "stem  c3-8 k3 s2 r64-32"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_neq(inas_block_key_parse(bad[i], &k, NULL), INAS_OK, "accepted '%s'", bad[i]);
    cr_assert_eq(inas_block_key_parse("overhead", &k, NULL), INAS_OK);
    cr_assert_eq(k.kind, INAS_BLOCK_OVERHEAD);
}

Test(lut, arch_blocks_of_the_smallest_arch) {
    inas_space sp;
    tiny_space(&sp, NULL);
    inas_arch a;
    inas_arch_sample_min(&sp, &a);
    inas_block_key k[256];
    int n;
    inas_error err;
    cr_assert_eq(inas_arch_blocks(&a, &sp, 64, k, 256, &n, &err), INAS_OK, "%s", err.message);
    /* stem + 7 layers + 5 transport fusions (no branches) + 4 decoder branches (i+1 -> i)
     * + 5 decoder fusions + output */
    cr_assert_eq(n, 1 + 7 + 5 + 4 + 5 + 1);
}

/* ---- the LUT file ------------------------------------------------------------------------------ */

static void fill_lut(inas_lut *lut, const inas_space *sp, int R) {
    inas_block_key *k;
    size_t n;
    cr_assert_eq(inas_lut_enumerate(sp, R, &k, &n, NULL), INAS_OK);
    inas_lut_init(lut);
    snprintf(lut->target, sizeof lut->target, "tiny");
    snprintf(lut->device, sizeof lut->device, "test device");
    snprintf(lut->driver, sizeof lut->driver, "1.0");
    snprintf(lut->date, sizeof lut->date, "2026-01-01T00:00:00Z");
    snprintf(lut->settings, sizeof lut->settings, "resolution=%d", R);
    lut->space_hash = inas_lut_space_hash(sp);
    char txt[INAS_BLOCK_KEY_MAX];
    for (size_t i = n; i-- > 0;) /* reverse order: set keeps the table sorted */
        cr_assert_eq(inas_lut_set(lut, inas_block_key_format(&k[i], txt, sizeof txt), 0.125 + 0.01 * (double)i,
                                  0.001 * (double)i),
                     INAS_OK);
    cr_assert_eq(inas_lut_set(lut, "overhead", 0.5, 0.01), INAS_OK);
    free(k);
}

Test(lut, file_round_trip_and_predict) {
    inas_space sp;
    tiny_space(&sp, "  - {width: [16, 20], depth: [1, 2], kernels: [3, 5]}");
    inas_lut lut, back;
    fill_lut(&lut, &sp, 64);
    char *dir = tu_mkdtemp("lut");
    char path[1024];
    snprintf(path, sizeof path, "%s/t.lut", dir);
    inas_error err;
    cr_assert_eq(inas_lut_save(&lut, path, &err), INAS_OK, "%s", err.message);
    inas_lut_init(&back);
    cr_assert_eq(inas_lut_load(path, &back, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(back.n, lut.n);
    cr_assert_str_eq(back.device, "test device");
    cr_assert_eq(back.space_hash, lut.space_hash);
    for (size_t i = 0; i < lut.n; i++) {
        cr_assert_str_eq(back.e[i].key, lut.e[i].key);
        cr_assert_float_eq(back.e[i].ms, lut.e[i].ms, 1e-6);
        cr_assert_float_eq(back.e[i].spread, lut.e[i].spread, 1e-6);
    }
    /* predict = sum of the arch's block entries + overhead */
    inas_rng rng;
    inas_rng_seed(&rng, 7);
    for (int s = 0; s < 10; s++) {
        inas_arch a;
        inas_arch_sample_random(&sp, &rng, &a);
        inas_block_key k[256];
        int n;
        cr_assert_eq(inas_arch_blocks(&a, &sp, 64, k, 256, &n, NULL), INAS_OK);
        double want = 0.5, got;
        char txt[INAS_BLOCK_KEY_MAX];
        for (int i = 0; i < n; i++) {
            const inas_lut_entry *e = inas_lut_find(&back, inas_block_key_format(&k[i], txt, sizeof txt));
            cr_assert_not_null(e, "missing %s", txt);
            want += e->ms;
        }
        cr_assert_eq(inas_lut_predict(&back, &a, &sp, 64, &got, &err), INAS_OK, "%s", err.message);
        cr_assert_float_eq(got, want, 1e-9);
    }
    /* a missing block names the key */
    inas_arch a;
    inas_arch_sample_max(&sp, &a);
    double ms;
    back.n = 3;
    cr_assert_eq(inas_lut_predict(&back, &a, &sp, 64, &ms, &err), INAS_ERR_NOT_FOUND);
    cr_assert(strstr(err.message, "is not in the LUT"), "%s", err.message);
    back.n = lut.n;
    inas_lut_free(&lut);
    inas_lut_free(&back);
    tu_rmrf(dir);
    free(dir);
}

static void expect_corrupt(const char *text, const char *want) {
    inas_lut lut;
    inas_lut_init(&lut);
    inas_error err;
    cr_assert_eq(inas_lut_parse(text, strlen(text), "c.lut", &lut, &err), INAS_ERR_FORMAT, "accepted:\n%s", text);
    cr_assert(strstr(err.message, want) != NULL, "want '%s' in: %s", want, err.message);
}

static char *replace(const char *s, const char *from, const char *to) {
    const char *p = strstr(s, from);
    cr_assert_not_null(p, "'%s' not in the file", from);
    size_t n = strlen(s) + strlen(to) + 1;
    char *r = malloc(n);
    snprintf(r, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
    return r;
}

Test(lut, corruption_is_detected_with_line_numbers) {
    inas_space sp;
    tiny_space(&sp, NULL);
    inas_lut lut;
    fill_lut(&lut, &sp, 64);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    inas_lut_write(&lut, f);
    fclose(f);
    inas_lut back;
    inas_lut_init(&back);
    cr_assert_eq(inas_lut_parse(text, len, "c.lut", &back, NULL), INAS_OK);
    inas_lut_free(&back);
    /* line 10 is the first entry (8 header lines, '---') */
    char *t1 = replace(text, "\t0.125000\t", "\t0.135000\t"); /* a changed digit */
    expect_corrupt(t1, "checksum mismatch");
    free(t1);
    t1 = replace(text, "\t0.125000\t", " 0.125000\t"); /* a malformed line */
    expect_corrupt(t1, "c.lut:10: malformed entry");
    free(t1);
    t1 = replace(text, "dbranch", "dbrunch");
    expect_corrupt(t1, "c.lut:10: ");
    free(t1);
    t1 = replace(text, "entries: 76", "entries: 77");
    expect_corrupt(t1, "header says 77 entries");
    free(t1);
    t1 = replace(text, "# inas latency LUT v1", "# something else");
    expect_corrupt(t1, "c.lut:1: not an inas latency LUT");
    free(t1);
    char *crc = strstr(text, "crc32: ");
    cr_assert_not_null(crc);
    char *trunc = strndup(text, (size_t)(crc - text)); /* lost tail */
    expect_corrupt(trunc, "truncated");
    free(trunc);
    trunc = strndup(text, (size_t)(crc - text) - 5); /* cut mid-line */
    expect_corrupt(trunc, "truncated");
    free(trunc);
    free(text);
    inas_lut_free(&lut);
}

/* ---- probing on the device ---------------------------------------------------------------------- */

static inas_target tiny_target(const char *lut_path) {
    char doc[2048];
    snprintf(doc, sizeof doc, "name: tiny\nprobe: {resolution: 64, warmup: 1, runs: 3}\nlut: %s\n", lut_path);
    inas_target t;
    inas_error err;
    cr_assert_eq(inas_target_parse(doc, strlen(doc), "tiny.yaml", &t, &err), INAS_OK, "%s", err.message);
    return t;
}

Test(lut, probe_end_to_end_and_resume, .timeout = 600) {
    inas_ctx *ctx = tu_ctx();
    inas_space sp;
    tiny_space(&sp, NULL);
    char *dir = tu_mkdtemp("probe");
    char path[1024];
    snprintf(path, sizeof path, "%s/lut/tiny.lut", dir); /* lut/ is created */
    inas_target t = tiny_target(path);
    inas_probe_opts o = {0};
    o.stop_after = 20; /* simulated interruption */
    inas_probe_result r;
    cr_assert_eq(inas_lut_probe(ctx, &t, &sp, path, &o, &r), INAS_ERR_EXTERNAL);
    cr_assert(strstr(inas_ctx_last_error(ctx), "interrupted"), "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(r.measured, 20);
    inas_lut first;
    inas_lut_init(&first);
    inas_error err;
    cr_assert_eq(inas_lut_load(path, &first, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(first.n, 20); /* finished entries were written */
    cr_assert_str_eq(first.target, "tiny");
    cr_assert_str_eq(first.device, inas_ctx_device(ctx)->name);
    o.stop_after = 0;
    o.resume = 1;
    cr_assert_eq(inas_lut_probe(ctx, &t, &sp, path, &o, &r), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(r.keys, 76);
    cr_assert_eq(r.kept, 20);
    cr_assert_eq(r.measured, 56); /* nothing finished is measured again */
    inas_lut all;
    inas_lut_init(&all);
    cr_assert_eq(inas_lut_load(path, &all, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(all.n, 76);
    for (size_t i = 0; i < first.n; i++) { /* the first run's entries are untouched */
        const inas_lut_entry *e = inas_lut_find(&all, first.e[i].key);
        cr_assert_not_null(e);
        cr_assert_float_eq(e->ms, first.e[i].ms, 1e-9);
    }
    for (size_t i = 0; i < all.n; i++) cr_assert(all.e[i].ms >= 0 && isfinite(all.e[i].ms));
    /* every arch of the space can be predicted */
    inas_arch a;
    inas_arch_sample_max(&sp, &a);
    double ms;
    cr_assert_eq(inas_lut_predict(&all, &a, &sp, 64, &ms, &err), INAS_OK, "%s", err.message);
    cr_assert_gt(ms, 0);
    /* resuming with another protocol or precision is refused */
    t.probe.runs = 4;
    cr_assert_eq(inas_lut_probe(ctx, &t, &sp, path, &o, &r), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "cannot resume"), "%s", inas_ctx_last_error(ctx));
    t.probe.runs = tiny_target(path).probe.runs;
    t.opencl.precision = INAS_PRECISION_FP16_STORAGE;
    cr_assert_eq(inas_lut_probe(ctx, &t, &sp, path, &o, &r), INAS_ERR_INVALID_ARG);
    cr_assert(strstr(inas_ctx_last_error(ctx), "precision=fp16-storage"), "%s", inas_ctx_last_error(ctx));
    /* an fp16-storage table: the same keys, timed with the half kernels */
    char path16[1100];
    snprintf(path16, sizeof path16, "%s/lut/tiny16.lut", dir);
    o.resume = 0;
    cr_assert_eq(inas_lut_probe(ctx, &t, &sp, path16, &o, &r), INAS_OK, "%s", inas_ctx_last_error(ctx));
    inas_lut half;
    inas_lut_init(&half);
    cr_assert_eq(inas_lut_load(path16, &half, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(half.n, 76);
    cr_assert(strstr(half.settings, "precision=fp16-storage"), "%s", half.settings);
    for (size_t i = 0; i < half.n; i++) cr_assert(half.e[i].ms > 0 && isfinite(half.e[i].ms), "%s", half.e[i].key);
    inas_lut_free(&half);
    /* fp16 arithmetic needs cl_khr_fp16: the error names the target and the device */
    t.opencl.precision = INAS_PRECISION_FP16;
    if (!inas_ctx_device(ctx)->fp16) {
        cr_assert_eq(inas_lut_probe(ctx, &t, &sp, path16, &o, &r), INAS_ERR_UNSUPPORTED);
        cr_assert(strstr(inas_ctx_last_error(ctx), "opencl.precision") &&
                      strstr(inas_ctx_last_error(ctx), "cl_khr_fp16"),
                  "%s", inas_ctx_last_error(ctx));
    }
    inas_lut_free(&first);
    inas_lut_free(&all);
    inas_ctx_destroy(ctx);
    tu_rmrf(dir);
    free(dir);
}

/* ---- the CLI --------------------------------------------------------------------------------------- */

Test(lut_cli, target_check_and_probe_resume_predict, .timeout = 600) {
    char *dir = tu_mkdtemp("lutcli");
    char tpath[1024], spath[1024], lpath[1024], apath[1024], args[4096];
    snprintf(spath, sizeof spath, "%s/tiny-space.yaml", dir);
    cr_assert_eq(tu_write_file(spath, TINY, strlen(TINY)), 0);
    snprintf(lpath, sizeof lpath, "%s/tiny.lut", dir);
    snprintf(tpath, sizeof tpath, "%s/tiny.yaml", dir);
    char doc[2048];
    snprintf(doc, sizeof doc,
             "name: tiny\nprobe: {resolution: 64, warmup: 1, runs: 3}\nlut: %s\nspace: tiny-space.yaml\n", lpath);
    cr_assert_eq(tu_write_file(tpath, doc, strlen(doc)), 0);
    char *out = NULL;
    snprintf(args, sizeof args, "target check '%s'", tpath);
    cr_assert_eq(tu_run_cli(args, &out), 0, "%s", out);
    cr_assert(strstr(out, "resolution: 64"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "target check '%s/bad.yaml'", dir);
    char bpath[1024];
    snprintf(bpath, sizeof bpath, "%s/bad.yaml", dir);
    cr_assert_eq(tu_write_file(bpath, "name: x\nprobe: {resolution: 64, runs: -1}\n", 41), 0);
    cr_assert_eq(tu_run_cli(args, &out), 1);
    cr_assert(strstr(out, "bad.yaml:2:31: probe.runs"), "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("target", NULL), 2);
    snprintf(args, sizeof args, "lut keys --target '%s'", tpath);
    cr_assert_eq(tu_run_cli(args, &out), 0, "%s", out);
    cr_assert(strstr(out, "# 75 keys at resolution 64"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "lut probe --target '%s'", tpath);
    char envargs[4200];
    snprintf(envargs, sizeof envargs, "%s", args);
    setenv("INAS_PROBE_STOP_AFTER", "10", 1);
    cr_assert_eq(tu_run_cli(envargs, &out), 1, "%s", out);
    unsetenv("INAS_PROBE_STOP_AFTER");
    cr_assert(strstr(out, "measured: 10"), "%s", out);
    cr_assert(strstr(out, "--resume"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "lut probe --target '%s' --resume", tpath);
    cr_assert_eq(tu_run_cli(args, &out), 0, "%s", out);
    cr_assert(strstr(out, "kept: 10"), "%s", out);
    cr_assert(strstr(out, "measured: 66"), "%s", out);
    free(out);
    /* predict: the smallest arch, written in compact form */
    inas_space sp;
    tiny_space(&sp, NULL);
    inas_arch a;
    inas_arch_sample_min(&sp, &a);
    snprintf(apath, sizeof apath, "%s/arch.yaml", dir);
    cr_assert_eq(inas_arch_save(apath, &a, NULL), INAS_OK);
    snprintf(args, sizeof args, "lut predict --lut '%s' --arch '%s' --space '%s'", lpath, apath, spath);
    cr_assert_eq(tu_run_cli(args, &out), 0, "%s", out);
    double got = -1;
    char *p = strstr(out, "predicted_ms: ");
    cr_assert_not_null(p, "%s", out);
    got = atof(p + 14);
    inas_lut lut;
    inas_lut_init(&lut);
    cr_assert_eq(inas_lut_load(lpath, &lut, NULL), INAS_OK);
    double want;
    cr_assert_eq(inas_lut_predict(&lut, &a, &sp, 64, &want, NULL), INAS_OK);
    cr_assert_float_eq(got, want, 2e-3);
    free(out);
    /* validate: a few architectures end to end; the YAML keys and the SVG */
    char svg[1024];
    snprintf(svg, sizeof svg, "%s/v.svg", dir);
    snprintf(args, sizeof args, "lut validate --target '%s' --samples 4 --svg '%s' --calibrate", tpath, svg);
    cr_assert_eq(tu_run_cli(args, &out), 0, "%s", out);
    const char *keys[] = {"\nn: 4\n", "\npearson_r: ", "\nmape: ", "\nwithin_5pct: ", "\nwithin_10pct: ",
                          "\n  overhead_ms: "};
    for (int i = 0; i < 6; i++) cr_assert(strstr(out, keys[i]), "no '%s' in: %s", keys[i], out);
    double w10 = atof(strstr(out, "\nwithin_10pct: ") + 15);
    cr_assert(w10 >= 0 && w10 <= 1, "%s", out);
    free(out);
    char *sv = tu_read_file(svg, NULL);
    cr_assert_not_null(sv);
    cr_assert(strstr(sv, "<svg") && strstr(sv, "y = x") && strstr(sv, "</svg>"), "%s", sv);
    free(sv);
    /* --calibrate stored the overhead: the LUT still loads and predicts */
    cr_assert_eq(tu_run_cli(args, &out), 0, "%s", out);
    free(out);
    snprintf(args, sizeof args, "lut predict --lut '%s' --arch '%s' --space '%s'", lpath, apath, spath);
    /* a corrupted LUT is refused with the line */
    char *text = tu_read_file(lpath, NULL);
    char *q = strstr(text, "\n---\n");
    cr_assert_not_null(q);
    q[6] = q[6] == 'd' ? 'x' : 'd'; /* first character of the first entry */
    cr_assert_eq(tu_write_file(lpath, text, strlen(text)), 0);
    free(text);
    cr_assert_eq(tu_run_cli(args, &out), 1);
    cr_assert(strstr(out, "tiny.lut:10:"), "%s", out);
    free(out);
    inas_lut_free(&lut);
    tu_rmrf(dir);
    free(dir);
}

Test(lut, metrics_and_svg) {
    double p[4] = {1, 2, 3, 4}, m[4] = {1, 2.1, 3.5, 4};
    double r, mape, w5, w10;
    inas_latency_metrics(p, m, 4, &r, &mape, &w5, &w10);
    cr_assert_gt(r, 0.95);
    cr_assert_float_eq(w5, 0.75, 1e-12);   /* 0, 4.8 %, 14.3 %, 0 */
    cr_assert_float_eq(w10, 0.75, 1e-12);
    cr_assert_float_eq(mape, (0.1 / 2.1 + 0.5 / 3.5) / 4, 1e-12);
    inas_validate_result res = {0};
    res.n = 4;
    res.predicted = p;
    res.measured = m;
    res.calibrated = p;
    char *dir = tu_mkdtemp("svg");
    char path[1024];
    snprintf(path, sizeof path, "%s/s.svg", dir);
    cr_assert_eq(inas_validate_write_svg(&res, path, "a <title> & more", NULL), INAS_OK);
    char *t = tu_read_file(path, NULL);
    cr_assert(strstr(t, "a &lt;title> &amp; more"), "%s", t);
    cr_assert(strstr(t, "stroke-dasharray"), "no y = x line");
    free(t);
    tu_rmrf(dir);
    free(dir);
}

/* ---- the adb transport, with the stand-in tests/fake-adb ----------------------------------------------- */

Test(lut_adb, push_shell_pull_lost_device_and_resume, .timeout = 600) {
    const char *src = getenv("INAS_SOURCE_DIR"), *bin = getenv("INAS_BINARY_DIR");
    cr_assert(src && bin);
    char *dir = tu_mkdtemp("adb");
    char spath[1024], tpath[1024], lpath[1024], root[1024], adbp[1024], doc[4096], args[2048];
    snprintf(spath, sizeof spath, "%s/tiny-space.yaml", dir);
    cr_assert_eq(tu_write_file(spath, TINY, strlen(TINY)), 0);
    snprintf(lpath, sizeof lpath, "%s/phone.lut", dir);
    snprintf(root, sizeof root, "%s/device", dir);
    snprintf(adbp, sizeof adbp, "%s/tests/fake-adb", src);
    snprintf(tpath, sizeof tpath, "%s/phone.yaml", dir);
    snprintf(doc, sizeof doc,
             "name: phone\nprobe: {resolution: 64, warmup: 1, runs: 2}\ntransport: adb\n"
             "adb: {serial: emu-7, remote_dir: /data/local/tmp/inas, probe_binary: %s/inas-probe,\n"
             "      opencl_library: /vendor/lib64/libOpenCL.so, taskset: \"1\"}\nlut: %s\nspace: tiny-space.yaml\n",
             bin, lpath);
    cr_assert_eq(tu_write_file(tpath, doc, strlen(doc)), 0);
    setenv("INAS_ADB", adbp, 1);
    setenv("FAKE_ADB_ROOT", root, 1);
    setenv("FAKE_ADB_SERIAL", "emu-7", 1);
    /* the "device's" vendor OpenCL library is the host's ICD loader: dlopen
     * builds of inas-probe load it through INAS_OPENCL_LIBRARY */
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/vendor/lib64' && lib=$(ldconfig -p | awk '/libOpenCL\\.so\\.1 /{print $NF; exit}') && "
             "[ -n \"$lib\" ] && ln -sf \"$lib\" '%s/vendor/lib64/libOpenCL.so'",
             root, root);
    cr_assert_eq(system(cmd), 0, "could not link the host's libOpenCL.so.1 into the fake device");
    char *out = NULL;
    snprintf(args, sizeof args, "lut probe --target '%s'", tpath);
    /* no device attached */
    setenv("FAKE_ADB_NO_DEVICE", "1", 1);
    cr_assert_eq(tu_run_cli(args, &out), 1, "%s", out);
    cr_assert(strstr(out, "no devices/emulators found"), "%s", out);
    free(out);
    unsetenv("FAKE_ADB_NO_DEVICE");
    /* another serial */
    setenv("FAKE_ADB_SERIAL", "emu-8", 1);
    cr_assert_eq(tu_run_cli(args, &out), 1, "%s", out);
    cr_assert(strstr(out, "device 'emu-7' not found"), "%s", out);
    free(out);
    setenv("FAKE_ADB_SERIAL", "emu-7", 1);
    /* the device is lost during the second chunk of 32 keys: the first chunk is kept */
    setenv("FAKE_ADB_LOSE_AFTER", "1", 1);
    cr_assert_eq(tu_run_cli(args, &out), 1, "%s", out);
    cr_assert(strstr(out, "device offline"), "%s", out);
    cr_assert(strstr(out, "measured: 32\n"), "%s", out);
    free(out);
    unsetenv("FAKE_ADB_LOSE_AFTER");
    inas_lut lut;
    inas_lut_init(&lut);
    inas_error err;
    cr_assert_eq(inas_lut_load(lpath, &lut, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(lut.n, 32);
    cr_assert_not_null(inas_lut_find(&lut, "overhead"));
    inas_lut first = lut;
    inas_lut_init(&lut);
    /* the device comes back: resume measures only the rest */
    char lost[1100];
    snprintf(lost, sizeof lost, "%s/.lost", root);
    cr_assert_eq(remove(lost), 0);
    snprintf(args, sizeof args, "lut probe --target '%s' --resume", tpath);
    cr_assert_eq(tu_run_cli(args, &out), 0, "%s", out);
    cr_assert(strstr(out, "kept: 32\n") && strstr(out, "measured: 44\n"), "%s", out);
    free(out);
    cr_assert_eq(inas_lut_load(lpath, &lut, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(lut.n, 76);
    cr_assert_neq(lut.device[0], '\0');
    for (size_t i = 0; i < first.n; i++) {
        const inas_lut_entry *e = inas_lut_find(&lut, first.e[i].key);
        cr_assert(e && e->ms == first.e[i].ms, "%s changed", first.e[i].key);
    }
    /* a failing adb command (the probe binary is missing on the host) */
    char doc2[4096], tpath2[1100];
    snprintf(doc2, sizeof doc2,
             "name: phone\nprobe: {resolution: 64, warmup: 1, runs: 2}\ntransport: adb\n"
             "adb: {serial: emu-7, remote_dir: /data/local/tmp/inas, probe_binary: %s/no-such-probe,\n"
             "      opencl_library: /vendor/lib64/libOpenCL.so}\nlut: %s.2\nspace: tiny-space.yaml\n",
             dir, lpath);
    snprintf(tpath2, sizeof tpath2, "%s/phone2.yaml", dir);
    cr_assert_eq(tu_write_file(tpath2, doc2, strlen(doc2)), 0);
    snprintf(args, sizeof args, "lut probe --target '%s'", tpath2);
    cr_assert_eq(tu_run_cli(args, &out), 1, "%s", out);
    cr_assert(strstr(out, "adb push of the probe binary on emu-7 failed"), "%s", out);
    free(out);
    /* the probe binary was pushed to the remote directory */
    char pushed[1100];
    snprintf(pushed, sizeof pushed, "%s/data/local/tmp/inas/inas-probe", root);
    FILE *pf = fopen(pushed, "r");
    cr_assert_not_null(pf);
    fclose(pf);
    inas_lut_free(&first);
    inas_lut_free(&lut);
    tu_rmrf(dir);
    free(dir);
}
