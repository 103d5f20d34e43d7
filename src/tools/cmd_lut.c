/* cmd_lut.c - `inas lut keys|probe|predict|validate`: latency lookup tables
 * (include/inas/lut.h) for a device target (include/inas/target.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/lut.h"
#include "inas/model.h"
#include "inas/util.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas lut keys --target TARGET.yaml [--space FILE]\n"
            "       inas lut probe --target TARGET.yaml [--space FILE] [--lut FILE] [--resume]\n"
            "       inas lut predict --lut FILE --arch ARCH [--target TARGET.yaml | --space FILE --resolution R]\n"
            "       inas lut validate --target TARGET.yaml [--space FILE] [--lut FILE] [--samples N] [--seed S]\n"
            "                         [--svg FILE] [--calibrate]\n\n"
            "keys      prints every distinct deployable block key of the space at the target's\n"
            "          resolution, one a line, then the count.\n"
            "probe     times each key on the target's device with the inference kernels (warm-up,\n"
            "          timed runs, statistic of the target's probe section) and writes the LUT\n"
            "          (default: the target's lut path, lut/NAME.lut) atomically as entries finish.\n"
            "          --resume keeps the entries already in the file and measures the rest.\n"
            "          With transport adb the target's inas-probe binary runs on the phone through\n"
            "          the adb client ($INAS_ADB, else adb on PATH): push, shell, pull per chunk.\n"
            "          INAS_PROBE_STOP_AFTER=N stops after N measured keys (simulated interruption).\n"
            "predict   prints the predicted latency of ARCH (YAML file or compact line): the sum of\n"
            "          its blocks' entries plus the overhead entry.\n"
            "validate  exports N architectures spread over the predicted latency range (random\n"
            "          weights), measures each end to end with the same protocol and prints YAML:\n"
            "          n, pearson_r, mape, within_5pct, within_10pct (raw LUT), the calibrated\n"
            "          per-network overhead and the same figures with it (leave-one-out). --svg\n"
            "          writes a scatter plot (predicted vs measured, y=x line); --calibrate stores\n"
            "          the calibrated overhead in the LUT.\n"
            "The space is --space, else the target's space, else the built-in default space.\n");
}

typedef struct lut_args {
    const char *target, *space, *lut, *arch, *svg;
    int resume, samples, resolution, calibrate;
    unsigned long long seed;
} lut_args;

static int parse_args(int argc, char **argv, lut_args *a) {
    memset(a, 0, sizeof *a);
    a->samples = 20;
    a->seed = 1;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--resume")) {
            a->resume = 1;
            continue;
        }
        if (!strcmp(s, "--calibrate")) {
            a->calibrate = 1;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error("lut", "option '%s' needs a value", s);
        const char *v = argv[++i];
        if (!strcmp(s, "--target")) a->target = v;
        else if (!strcmp(s, "--space")) a->space = v;
        else if (!strcmp(s, "--lut")) a->lut = v;
        else if (!strcmp(s, "--arch")) a->arch = v;
        else if (!strcmp(s, "--svg")) a->svg = v;
        else if (!strcmp(s, "--samples")) a->samples = atoi(v);
        else if (!strcmp(s, "--seed")) a->seed = strtoull(v, NULL, 10);
        else if (!strcmp(s, "--resolution")) a->resolution = atoi(v);
        else return cli_usage_error("lut", "unknown option '%s'", s);
    }
    return 0;
}

/* Loads the target (when given) and the space; *has_target tells which. */
static int load_common(const lut_args *a, inas_target *t, int *has_target, inas_space *sp) {
    inas_error err;
    *has_target = 0;
    if (a->target) {
        if (inas_target_load(a->target, t, &err)) return cli_fail("lut", "%s", err.message);
        *has_target = 1;
    }
    const char *spf = a->space ? a->space : (*has_target && t->space[0] ? t->space : NULL);
    if (spf) {
        if (inas_space_load(spf, sp, &err)) return cli_fail("lut", "%s", err.message);
    } else inas_space_default(sp);
    return 0;
}

static int open_ctx(const inas_target *t, inas_ctx **ctx) {
    char sel[512];
    inas_error err;
    inas_target_selector(t, sel, sizeof sel);
    if (inas_ctx_create(ctx, sel, &err)) return cli_fail("lut", "target %s: %s", t->name, err.message);
    return 0;
}

static int do_keys(const lut_args *a) {
    inas_target t;
    inas_space sp;
    int ht, rc;
    if (!a->target && !a->resolution) return cli_usage_error("lut", "keys needs --target (or --resolution)");
    if ((rc = load_common(a, &t, &ht, &sp))) return rc;
    int R = a->resolution ? a->resolution : t.probe.resolution;
    inas_block_key *keys;
    size_t n;
    inas_error err;
    if (inas_lut_enumerate(&sp, R, &keys, &n, &err)) return cli_fail("lut", "%s", err.message);
    char txt[INAS_BLOCK_KEY_MAX];
    for (size_t i = 0; i < n; i++) printf("%s\n", inas_block_key_format(&keys[i], txt, sizeof txt));
    printf("# %zu keys at resolution %d (+ overhead)\n", n, R);
    free(keys);
    return INAS_EXIT_OK;
}

static int do_probe(const lut_args *a) {
    if (!a->target) return cli_usage_error("lut", "probe needs --target");
    inas_target t;
    inas_space sp;
    int ht, rc;
    if ((rc = load_common(a, &t, &ht, &sp))) return rc;
    inas_probe_opts o = {0};
    if (t.transport == INAS_TRANSPORT_ADB) {
        o.resume = a->resume;
        o.progress = stderr;
        const char *stop = getenv("INAS_PROBE_STOP_AFTER");
        if (stop && *stop) o.stop_after = atoi(stop);
        const char *path = a->lut ? a->lut : t.lut;
        inas_probe_result r;
        inas_error err;
        double t0 = inas_wall_ms();
        inas_status st = inas_lut_probe_adb(&t, &sp, path, &o, &r, &err);
        printf("lut: %s\ntarget: %s\ntransport: adb\nserial: %s\nkeys: %zu\nmeasured: %zu\nkept: %zu\nseconds: %.1f\n",
               path, t.name, t.adb.serial[0] ? t.adb.serial : "(default)", r.keys, r.measured, r.kept,
               (inas_wall_ms() - t0) / 1000.0);
        if (st) return cli_fail("lut", "%s (finished entries are kept in %s; rerun with --resume)", err.message, path);
        return INAS_EXIT_OK;
    }
    inas_ctx *ctx;
    if ((rc = open_ctx(&t, &ctx))) return rc;
    o.resume = a->resume;
    o.save_every_ms = 2000;
    o.progress = stderr;
    const char *stop = getenv("INAS_PROBE_STOP_AFTER");
    if (stop && *stop) o.stop_after = atoi(stop);
    const char *path = a->lut ? a->lut : t.lut;
    inas_probe_result r;
    double t0 = inas_wall_ms();
    inas_status st = inas_lut_probe(ctx, &t, &sp, path, &o, &r);
    printf("lut: %s\ntarget: %s\ndevice: %s\nkeys: %zu\nmeasured: %zu\nkept: %zu\nseconds: %.1f\n", path, t.name,
           inas_ctx_device(ctx)->name, r.keys, r.measured, r.kept, (inas_wall_ms() - t0) / 1000.0);
    rc = INAS_EXIT_OK;
    if (st) rc = cli_fail("lut", "%s (finished entries are kept in %s; rerun with --resume)", inas_ctx_last_error(ctx),
                          path);
    inas_ctx_destroy(ctx);
    return rc;
}

static int do_predict(const lut_args *a) {
    if (!a->lut || !a->arch) return cli_usage_error("lut", "predict needs --lut and --arch");
    inas_target t;
    inas_space sp;
    int ht, rc;
    if ((rc = load_common(a, &t, &ht, &sp))) return rc;
    inas_error err;
    inas_lut lut;
    inas_lut_init(&lut);
    if (inas_lut_load(a->lut, &lut, &err)) return cli_fail("lut", "%s", err.message);
    if (lut.space_hash != inas_lut_space_hash(&sp)) {
        inas_lut_free(&lut);
        return cli_fail("lut", "%s was probed on another space (hash %016llx, this space %016llx): pass its --space",
                        a->lut, (unsigned long long)lut.space_hash, (unsigned long long)inas_lut_space_hash(&sp));
    }
    int R = a->resolution;
    if (!R && ht) R = t.probe.resolution;
    if (!R) {
        const char *r = strstr(lut.settings, "resolution=");
        R = r ? atoi(r + 11) : sp.eval_res;
    }
    inas_arch arch;
    double ms;
    if (inas_arch_load(a->arch, &sp, &arch, &err) || inas_lut_predict(&lut, &arch, &sp, R, &ms, &err)) {
        inas_lut_free(&lut);
        return cli_fail("lut", "%s", err.message);
    }
    const inas_lut_entry *o = inas_lut_find(&lut, "overhead");
    printf("lut: %s\nresolution: %d\npredicted_ms: %.3f\noverhead_ms: %.3f\n", a->lut, R, ms, o ? o->ms : 0.0);
    inas_lut_free(&lut);
    return INAS_EXIT_OK;
}


static int do_validate(const lut_args *a) {
    if (!a->target) return cli_usage_error("lut", "validate needs --target");
    if (a->samples < 3) return cli_usage_error("lut", "--samples must be at least 3");
    inas_target t;
    inas_space sp;
    int ht, rc;
    if ((rc = load_common(a, &t, &ht, &sp))) return rc;
    if (t.transport != INAS_TRANSPORT_LOCAL)
        return cli_fail("lut", "%s: transport adb is not implemented yet in this build (use a local target)",
                        a->target);
    const char *path = a->lut ? a->lut : t.lut;
    inas_error err;
    inas_lut lut;
    inas_lut_init(&lut);
    if (inas_lut_load(path, &lut, &err)) return cli_fail("lut", "%s", err.message);
    if (lut.space_hash != inas_lut_space_hash(&sp)) {
        inas_lut_free(&lut);
        return cli_fail("lut", "%s was probed on another space than this one: pass its --space", path);
    }
    inas_ctx *ctx;
    if ((rc = open_ctx(&t, &ctx))) {
        inas_lut_free(&lut);
        return rc;
    }
    inas_validate_opts o = {a->samples, a->seed, stderr};
    inas_validate_result r;
    double t0 = inas_wall_ms();
    if (inas_lut_validate(ctx, &t, &sp, &lut, &o, &r)) {
        rc = cli_fail("lut", "%s", inas_ctx_last_error(ctx));
        goto done;
    }
    printf("target: %s\nlut: %s\ndevice: %s\nresolution: %d\nn: %d\npearson_r: %.4f\nmape: %.4f\n"
           "within_5pct: %.3f\nwithin_10pct: %.3f\n",
           t.name, path, inas_ctx_device(ctx)->name, t.probe.resolution, r.n, r.pearson_r, r.mape, r.within_5pct,
           r.within_10pct);
    const inas_lut_entry *oe = inas_lut_find(&lut, "overhead");
    printf("lut_overhead_ms: %.4f\ncalibrated:  # per-network overhead = median(measured - block sum); figures "
           "leave-one-out\n  overhead_ms: %.4f\n  pearson_r: %.4f\n  mape: %.4f\n  within_5pct: %.3f\n"
           "  within_10pct: %.3f\nseconds: %.1f\nsamples:  # predicted, calibrated, measured (ms)\n",
           oe ? oe->ms : 0.0, r.overhead_ms, r.cal_pearson_r, r.cal_mape, r.cal_within_5pct, r.cal_within_10pct,
           (inas_wall_ms() - t0) / 1000.0);
    for (int i = 0; i < r.n; i++)
        printf("  - [%.3f, %.3f, %.3f]\n", r.predicted[i], r.calibrated[i], r.measured[i]);
    rc = INAS_EXIT_OK;
    if (a->svg) {
        char title[256];
        snprintf(title, sizeof title, "%s: LUT predicted vs measured (n=%d, %dpx)", t.name, r.n, t.probe.resolution);
        if (inas_validate_write_svg(&r, a->svg, title, &err)) rc = cli_fail("lut", "%s", err.message);
    }
    if (rc == INAS_EXIT_OK && a->calibrate) {
        double sp_o = oe ? oe->spread : 0.0;
        if (inas_lut_set(&lut, "overhead", r.overhead_ms, sp_o) || inas_lut_save(&lut, path, &err))
            rc = cli_fail("lut", "%s: cannot store the calibrated overhead: %s", path, err.message);
        else fprintf(stderr, "inas lut: stored overhead %.4f ms in %s\n", r.overhead_ms, path);
    }
    inas_validate_result_free(&r);
done:
    inas_lut_free(&lut);
    inas_ctx_destroy(ctx);
    return rc;
}

int cmd_lut(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    if (argc < 2) return cli_usage_error("lut", "missing sub-command (keys, probe, predict, validate)");
    lut_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    if (!strcmp(argv[1], "keys")) return do_keys(&a);
    if (!strcmp(argv[1], "probe")) return do_probe(&a);
    if (!strcmp(argv[1], "predict")) return do_predict(&a);
    if (!strcmp(argv[1], "validate")) return do_validate(&a);
    return cli_usage_error("lut", "unknown sub-command '%s'", argv[1]);
}
