/* probe.c - measuring a LUT on a device (include/inas/lut.h): every block key
 * of the space is built as a one-block network by the inference engine
 * (src/deploy/engine.c, the same kernels and fusion as exported models) and
 * timed with the target's protocol; the file is written atomically as
 * entries finish, and --resume keeps finished entries. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "deploy/model_internal.h"
#include "inas/lut.h"
#include "inas/util.h"
#include "latency/latency_internal.h"
#include "runtime/internal.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Summary of n samples (sorted in place): the statistic and the median
 * absolute deviation. */
void lat_summarise(double *v, int n, inas_statistic stat, double *value, double *spread) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    if (stat == INAS_STAT_MIN) *value = v[0];
    else if (stat == INAS_STAT_MEAN) {
        double s = 0;
        for (int i = 0; i < n; i++) s += v[i];
        *value = s / n;
    } else *value = med;
    double *d = malloc((size_t)n * sizeof *d);
    if (!d) {
        *spread = 0;
        return;
    }
    for (int i = 0; i < n; i++) d[i] = fabs(v[i] - med);
    qsort(d, (size_t)n, sizeof *d, cmp_d);
    *spread = n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
    free(d);
}

inas_status inas_lut_time_fn(inas_ctx *ctx, inas_status (*fn)(void *), void *user, const inas_target_probe *pr,
                             int inner, double *ms, double *spread) {
    double *v = malloc((size_t)pr->runs * sizeof *v);
    if (!v) return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory");
    inas_status st = inas_ctx_finish(ctx);
    int warm = pr->warmup > 0 ? pr->warmup : 1;
    double one = 0;
    for (int i = 0; st == INAS_OK && i < warm; i++) { /* warm-up: one call + finish each */
        double t0 = inas_wall_ms();
        st = fn ? fn(user) : INAS_OK;
        if (st == INAS_OK) st = inas_ctx_finish(ctx);
        one = inas_wall_ms() - t0;
    }
    if (inner <= 0) { /* adaptive: enough calls per timed run to last about 2 ms, at most 64 */
        inner = one > 0 ? (int)(2.0 / one) + 1 : 64;
        if (inner > 64) inner = 64;
        if (inner < 1) inner = 1;
    }
    for (int i = 0; st == INAS_OK && i < pr->runs; i++) {
        double t0 = inas_wall_ms();
        for (int r = 0; st == INAS_OK && r < inner; r++) st = fn ? fn(user) : INAS_OK;
        if (st == INAS_OK) st = inas_ctx_finish(ctx);
        v[i] = (inas_wall_ms() - t0) / inner;
    }
    if (st == INAS_OK) lat_summarise(v, pr->runs, pr->statistic, ms, spread);
    free(v);
    return st;
}

typedef struct block_job {
    inas_model *m;
    int N;
} block_job;
static inas_status run_block(void *u) {
    block_job *j = u;
    return model_block_run(j->m, j->N);
}

typedef struct fill_job {
    inas_ctx *ctx;
    inas_tensor t;
} fill_job;
static inas_status run_fill(void *u) {
    fill_job *j = u;
    return inas_tensor_fill(j->ctx, &j->t, 0.0f);
}

inas_status inas_block_time(inas_ctx *ctx, const inas_space *space, const inas_block_key *key,
                            const inas_target_probe *pr, inas_precision precision, double *ms, double *spread) {
    if (key->kind == INAS_BLOCK_OVERHEAD) { /* one tiny kernel and a finish: launch + synchronisation */
        fill_job j = {ctx, {0}};
        inas_status st = inas_tensor_alloc(ctx, &j.t, 1, 1, 1, 1);
        if (st == INAS_OK) st = inas_lut_time_fn(ctx, run_fill, &j, pr, 1, ms, spread);
        inas_tensor_free(ctx, &j.t);
        return st;
    }
    block_job j = {model_block_new(ctx, space, key), pr->batch};
    if (!j.m) return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory (block)");
    inas_status st = inas_model_set_precision(j.m, precision);
    if (st == INAS_OK) st = inas_lut_time_fn(ctx, run_block, &j, pr, 0, ms, spread);
    if (st != INAS_OK) {
        char txt[INAS_BLOCK_KEY_MAX];
        inas_block_key_format(key, txt, sizeof txt);
        char msg[INAS_ERROR_MESSAGE_MAX - 128];
        snprintf(msg, sizeof msg, "%s", inas_ctx_last_error(ctx));
        st = inas_ctx_fail(ctx, st, "block '%s': %s", txt, msg);
    }
    inas_model_destroy(j.m);
    return st;
}

void lat_settings_text(const inas_target_probe *pr, inas_precision precision, char *buf, size_t len) {
    snprintf(buf, len, "resolution=%d batch=%d warmup=%d runs=%d statistic=%s%s%s", pr->resolution, pr->batch,
             pr->warmup, pr->runs, inas_statistic_name(pr->statistic),
             precision == INAS_PRECISION_FP32 ? "" : " precision=",
             precision == INAS_PRECISION_FP32 ? "" : inas_precision_name(precision));
}

inas_status lat_lut_start(const char *path, const inas_space *space, const inas_target *t, int resume, inas_lut *lut,
                          inas_error *err) {
    char settings[256];
    lat_settings_text(&t->probe, t->opencl.precision, settings, sizeof settings);
    uint64_t hash = inas_lut_space_hash(space);
    FILE *f = resume ? fopen(path, "r") : NULL;
    if (f) {
        fclose(f);
        inas_status st = inas_lut_load(path, lut, err);
        if (st) return st;
        if (lut->space_hash != hash || strcmp(lut->settings, settings) != 0)
            return inas_error_set(err, INAS_ERR_INVALID_ARG,
                                  "%s: cannot resume: probed for another %s (file: space %016llx, %s; now: space "
                                  "%016llx, %s); probe without --resume to start over",
                                  path, lut->space_hash != hash ? "space" : "protocol",
                                  (unsigned long long)lut->space_hash, lut->settings, (unsigned long long)hash,
                                  settings);
    }
    snprintf(lut->target, sizeof lut->target, "%s", t->name);
    snprintf(lut->settings, sizeof lut->settings, "%s", settings);
    lut->space_hash = hash;
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(lut->date, sizeof lut->date, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    return INAS_OK;
}

void lat_make_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return;
    char dir[1024];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    mkdir(dir, 0777); /* EEXIST is fine; other failures show when the file is written */
}

static void sleep_ms(int ms) {
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

inas_status inas_lut_probe(inas_ctx *ctx, const inas_target *t, const inas_space *space, const char *path,
                           const inas_probe_opts *opts, inas_probe_result *res) {
    inas_probe_opts o = {0};
    if (opts) o = *opts;
    inas_probe_result r = {0};
    inas_error *err = inas_ctx_error(ctx);
    if (inas_precision_check(ctx, t->opencl.precision) != INAS_OK) {
        char msg[INAS_ERROR_MESSAGE_MAX - 128];
        snprintf(msg, sizeof msg, "%s", inas_ctx_last_error(ctx));
        return inas_ctx_fail(ctx, INAS_ERR_UNSUPPORTED, "%s: opencl.precision: %s", t->path[0] ? t->path : t->name,
                             msg);
    }
    const inas_target_probe *pr = &t->probe;
    inas_block_key *keys = NULL;
    size_t nk = 0;
    inas_status st = inas_lut_enumerate(space, pr->resolution, &keys, &nk, err);
    if (st) return st;
    inas_lut lut;
    inas_lut_init(&lut);
    if ((st = lat_lut_start(path, space, t, o.resume, &lut, err))) goto done;
    const inas_device_info *dev = inas_ctx_device(ctx);
    snprintf(lut.device, sizeof lut.device, "%s", dev->name);
    snprintf(lut.driver, sizeof lut.driver, "%s", dev->driver);

    lat_make_parent(path);
    r.keys = nk + 1;
    inas_progress bar;
    if (o.progress) inas_progress_begin(&bar, o.progress, "probe", r.keys);
    double last_save = inas_wall_ms();
    int dirty = 0;
    /* the overhead: one tiny kernel and a queue finish (a network pays its
     * synchronisation once); block entries are amortised over back-to-back
     * calls (no finish in between), as inside a network */
    const inas_lut_entry *oe = inas_lut_find(&lut, "overhead");
    if (oe) r.kept++;
    else {
        inas_block_key ok = {.kind = INAS_BLOCK_OVERHEAD};
        double ms, sp;
        if ((st = inas_block_time(ctx, space, &ok, pr, t->opencl.precision, &ms, &sp))) goto done;
        if (inas_lut_set(&lut, "overhead", ms, sp)) {
            st = inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory (LUT)");
            goto done;
        }
        r.measured++;
        dirty = 1;
    }
    for (size_t i = 0; i < nk; i++) {
        char txt[INAS_BLOCK_KEY_MAX];
        inas_block_key_format(&keys[i], txt, sizeof txt);
        if (o.progress) inas_progress_update(&bar, r.measured + r.kept);
        if (inas_lut_find(&lut, txt)) {
            r.kept++;
            continue;
        }
        if (o.stop_after > 0 && (int)r.measured >= o.stop_after) {
            st = inas_ctx_fail(ctx, INAS_ERR_EXTERNAL, "probe interrupted after %zu measured keys (stop_after)",
                               r.measured);
            break;
        }
        double ms, sp;
        if ((st = inas_block_time(ctx, space, &keys[i], pr, t->opencl.precision, &ms, &sp))) break;
        if (inas_lut_set(&lut, txt, ms, sp)) {
            st = inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory (LUT)");
            break;
        }
        r.measured++;
        dirty = 1;
        if (inas_wall_ms() - last_save >= o.save_every_ms) {
            inas_error e2;
            if (inas_lut_save(&lut, path, &e2)) {
                st = inas_ctx_fail(ctx, e2.code, "%s", e2.message);
                break;
            }
            last_save = inas_wall_ms();
            dirty = 0;
        }
        sleep_ms(pr->cooldown_ms);
    }
    if (o.progress) {
        inas_progress_update(&bar, r.measured + r.kept);
        inas_progress_end(&bar);
    }
    /* finished entries are never lost: write them even when a key failed */
    if (dirty || st == INAS_OK) {
        inas_error e2;
        inas_status s2 = inas_lut_save(&lut, path, &e2);
        if (s2 && st == INAS_OK) st = inas_ctx_fail(ctx, e2.code, "%s", e2.message);
    }
done:
    if (res) *res = r;
    inas_lut_free(&lut);
    free(keys);
    return st;
}
