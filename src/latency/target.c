/* target.c - device target files (include/inas/target.h): libyaml parsing
 * with FILE:LINE:COL errors, defaults, the device selector and the resolved
 * YAML form printed by `inas target check`. */
#include <stdlib.h>
#include <string.h>

#include "inas/target.h"
#include "inas/util.h"
#include "space/yaml_util.h"

const char *inas_statistic_name(inas_statistic s) {
    switch (s) {
    case INAS_STAT_MEAN: return "mean";
    case INAS_STAT_MIN: return "min";
    default: return "median";
    }
}

/* A required-or-optional string field of a mapping. */
static inas_status str_field(ydoc *d, yaml_node_t *map, const char *key, const char *field, int required, char *buf,
                             size_t len, inas_error *err) {
    yaml_node_t *n = ydoc_get(d, map, key);
    if (!n) return required ? ydoc_fail(d, map, field, err, "missing (required)") : INAS_OK;
    if (n->type != YAML_SCALAR_NODE) return ydoc_fail(d, n, field, err, "expected a string");
    if (n->data.scalar.length >= len) return ydoc_fail(d, n, field, err, "too long (at most %zu characters)", len - 1);
    return ydoc_str(d, n, field, buf, len, err);
}

static inas_status int_field(ydoc *d, yaml_node_t *map, const char *key, const char *field, int required, long lo,
                             long hi, int *out, inas_error *err) {
    yaml_node_t *n = ydoc_get(d, map, key);
    if (!n) return required ? ydoc_fail(d, map, field, err, "missing (required)") : INAS_OK;
    return ydoc_int(d, n, field, lo, hi, out, err);
}

/* One of `names` (NULL-terminated); *out gets its index. */
static inas_status enum_field(ydoc *d, yaml_node_t *map, const char *key, const char *field, const char *const *names,
                              int *out, inas_error *err) {
    yaml_node_t *n = ydoc_get(d, map, key);
    if (!n) return INAS_OK;
    char v[64];
    inas_status st;
    if (n->type != YAML_SCALAR_NODE) return ydoc_fail(d, n, field, err, "expected a string");
    if ((st = ydoc_str(d, n, field, v, sizeof v, err))) return st;
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return INAS_OK;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    }
    return ydoc_fail(d, n, field, err, "'%s' is not one of %s", v, list);
}

static inas_status section(ydoc *d, yaml_node_t *root, const char *key, const char *const *keys, int required,
                           yaml_node_t **out, inas_error *err) {
    *out = ydoc_get(d, root, key);
    inas_status st;
    if (!*out) return required ? ydoc_fail(d, root, key, err, "missing (required)") : INAS_OK;
    if ((st = ydoc_expect_map(d, *out, key, err))) return st;
    return ydoc_check_keys(d, *out, key, keys, err);
}

static void resolve_rel(const char *base, const char *rel, char *out, size_t len) {
    if (!rel[0] || rel[0] == '/' || !base || !strchr(base, '/')) {
        snprintf(out, len, "%s", rel);
        return;
    }
    int dl = (int)(strrchr(base, '/') - base);
    snprintf(out, len, "%.*s/%s", dl, base, rel);
}

static inas_status parse(ydoc *d, inas_target *t, inas_error *err) {
    inas_status st;
    yaml_node_t *root = ydoc_root(d), *n;
    if (!root) return ydoc_fail(d, NULL, "", err, "empty document");
    static const char *const top[] = {"name", "description", "opencl", "transport", "adb",
                                      "probe", "lut", "space", "search", NULL};
    if ((st = ydoc_expect_map(d, root, "", err)) || (st = ydoc_check_keys(d, root, "", top, err))) return st;
    if ((st = str_field(d, root, "name", "name", 1, t->name, sizeof t->name, err))) return st;
    n = ydoc_get(d, root, "name");
    if (!t->name[0]) return ydoc_fail(d, n, "name", err, "empty");
    for (const char *c = t->name; *c; c++)
        if (!(('a' <= *c && *c <= 'z') || ('A' <= *c && *c <= 'Z') || ('0' <= *c && *c <= '9') || strchr("._-", *c)))
            return ydoc_fail(d, n, "name", err, "'%s': only letters, digits, '.', '_' and '-' are allowed", t->name);
    if ((st = str_field(d, root, "description", "description", 0, t->description, sizeof t->description, err)))
        return st;

    yaml_node_t *oc;
    static const char *const ock[] = {"platform", "device", "type", "index", "precision", NULL};
    if ((st = section(d, root, "opencl", ock, 0, &oc, err))) return st;
    if (oc) {
        if ((st = str_field(d, oc, "platform", "opencl.platform", 0, t->opencl.platform, sizeof t->opencl.platform,
                            err)) ||
            (st = str_field(d, oc, "device", "opencl.device", 0, t->opencl.device, sizeof t->opencl.device, err)) ||
            (st = int_field(d, oc, "index", "opencl.index", 0, 0, 1000, &t->opencl.index, err)))
            return st;
        static const char *const types[] = {"any", "cpu", "gpu", "accelerator", NULL};
        int ty = 0, pr = 0;
        if ((st = enum_field(d, oc, "type", "opencl.type", types, &ty, err))) return st;
        snprintf(t->opencl.type, sizeof t->opencl.type, "%s", ty ? types[ty] : "");
        static const char *const precs[] = {"fp32", "fp16", "fp16-storage", NULL}; /* inas_precision order */
        if ((st = enum_field(d, oc, "precision", "opencl.precision", precs, &pr, err))) return st;
        t->opencl.precision = (inas_precision)pr;
    }

    static const char *const tr[] = {"local", "adb", NULL};
    int tv = 0;
    if ((st = enum_field(d, root, "transport", "transport", tr, &tv, err))) return st;
    t->transport = (inas_transport)tv;
    yaml_node_t *ab;
    static const char *const abk[] = {"serial", "remote_dir", "probe_binary", "opencl_library", "taskset", NULL};
    if ((st = section(d, root, "adb", abk, t->transport == INAS_TRANSPORT_ADB, &ab, err))) return st;
    if (ab && t->transport != INAS_TRANSPORT_ADB)
        return ydoc_fail(d, ab, "adb", err, "only allowed with 'transport: adb'");
    if (ab) {
        inas_target_adb *a = &t->adb;
        if ((st = str_field(d, ab, "serial", "adb.serial", 0, a->serial, sizeof a->serial, err)) ||
            (st = str_field(d, ab, "remote_dir", "adb.remote_dir", 1, a->remote_dir, sizeof a->remote_dir, err)) ||
            (st = str_field(d, ab, "probe_binary", "adb.probe_binary", 1, a->probe_binary, sizeof a->probe_binary,
                            err)) ||
            (st = str_field(d, ab, "opencl_library", "adb.opencl_library", 1, a->opencl_library,
                            sizeof a->opencl_library, err)) ||
            (st = str_field(d, ab, "taskset", "adb.taskset", 0, a->taskset, sizeof a->taskset, err)))
            return st;
        for (const char *c = a->taskset; *c; c++)
            if (!strchr("0123456789abcdefABCDEF", *c))
                return ydoc_fail(d, ydoc_get(d, ab, "taskset"), "adb.taskset", err,
                                 "'%s' is not a hexadecimal CPU mask", a->taskset);
        if (!a->serial[0]) {
            const char *env = getenv("ANDROID_SERIAL");
            if (env) snprintf(a->serial, sizeof a->serial, "%s", env);
        }
    }

    yaml_node_t *pb;
    static const char *const pbk[] = {"resolution", "batch", "warmup", "runs", "statistic", "cooldown_ms", NULL};
    if ((st = section(d, root, "probe", pbk, 1, &pb, err))) return st;
    inas_target_probe *p = &t->probe;
    p->batch = 1;
    p->warmup = 3;
    p->runs = 10;
    int sv = 0;
    static const char *const stats[] = {"median", "mean", "min", NULL};
    if ((st = int_field(d, pb, "resolution", "probe.resolution", 1, 32, 4096, &p->resolution, err)) ||
        (st = int_field(d, pb, "batch", "probe.batch", 0, 1, 256, &p->batch, err)) ||
        (st = int_field(d, pb, "warmup", "probe.warmup", 0, 0, 1000, &p->warmup, err)) ||
        (st = int_field(d, pb, "runs", "probe.runs", 0, 1, 100000, &p->runs, err)) ||
        (st = enum_field(d, pb, "statistic", "probe.statistic", stats, &sv, err)) ||
        (st = int_field(d, pb, "cooldown_ms", "probe.cooldown_ms", 0, 0, 600000, &p->cooldown_ms, err)))
        return st;
    p->statistic = (inas_statistic)sv;
    if (p->resolution % 32)
        return ydoc_fail(d, ydoc_get(d, pb, "resolution"), "probe.resolution", err,
                         "%d is not a multiple of 32 (the deepest stride)", p->resolution);

    if ((st = str_field(d, root, "lut", "lut", 0, t->lut, sizeof t->lut, err))) return st;
    if (!t->lut[0]) snprintf(t->lut, sizeof t->lut, "lut/%s.lut", t->name);
    char sp[INAS_TARGET_STR] = "";
    if ((st = str_field(d, root, "space", "space", 0, sp, sizeof sp, err))) return st;
    resolve_rel(d->name, sp, t->space, sizeof t->space);

    yaml_node_t *se;
    static const char *const sek[] = {"budget_ms", NULL};
    if ((st = section(d, root, "search", sek, 0, &se, err))) return st;
    if (se && (n = ydoc_get(d, se, "budget_ms"))) {
        char v[64], *end;
        if (n->type != YAML_SCALAR_NODE) return ydoc_fail(d, n, "search.budget_ms", err, "expected a number");
        if ((st = ydoc_str(d, n, "search.budget_ms", v, sizeof v, err))) return st;
        t->search_budget_ms = strtod(v, &end);
        if (end == v || *end || !(t->search_budget_ms > 0))
            return ydoc_fail(d, n, "search.budget_ms", err, "expected a positive number, got '%s'", v);
    }
    return INAS_OK;
}

inas_status inas_target_parse(const char *text, size_t len, const char *name, inas_target *t, inas_error *err) {
    if (!text || !t) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_target_parse: null argument");
    inas_target tmp;
    memset(&tmp, 0, sizeof tmp);
    ydoc d;
    const char *nm = name ? name : "<target>";
    inas_status st = ydoc_load(&d, text, len, nm, err);
    if (st) return st;
    st = parse(&d, &tmp, err);
    ydoc_free(&d);
    if (st) return st;
    if (name) snprintf(tmp.path, sizeof tmp.path, "%s", name);
    *t = tmp;
    return INAS_OK;
}

inas_status inas_target_load(const char *path, inas_target *t, inas_error *err) {
    char *text;
    size_t len;
    inas_status st = inas_read_file(path, &text, &len, err);
    if (st) return st;
    st = inas_target_parse(text, len, path, t, err);
    free(text);
    return st;
}

void inas_target_selector(const inas_target *t, char *buf, size_t len) {
    buf[0] = '\0';
    const inas_target_opencl *o = &t->opencl;
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(buf + (n < len ? n : len - 1), n < len ? len - n : 1, __VA_ARGS__)
    if (o->platform[0]) ADD("%splatform=%s", n ? "," : "", o->platform);
    if (o->device[0]) ADD("%sdevice=%s", n ? "," : "", o->device);
    if (o->type[0]) ADD("%stype=%s", n ? "," : "", o->type);
    if (o->index) ADD("%sindex=%d", n ? "," : "", o->index);
#undef ADD
}

static void qstr(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void inas_target_write_yaml(const inas_target *t, FILE *f) {
    char sel[512];
    inas_target_selector(t, sel, sizeof sel);
    fprintf(f, "name: %s\ndescription: ", t->name);
    qstr(f, t->description);
    fprintf(f, "\nopencl:\n  platform: ");
    qstr(f, t->opencl.platform);
    fprintf(f, "\n  device: ");
    qstr(f, t->opencl.device);
    fprintf(f, "\n  type: %s\n  index: %d\n  precision: %s\n  selector: ", t->opencl.type[0] ? t->opencl.type : "any",
            t->opencl.index, inas_precision_name(t->opencl.precision));
    qstr(f, sel);
    fprintf(f, "  # derived\ntransport: %s\n", t->transport == INAS_TRANSPORT_ADB ? "adb" : "local");
    if (t->transport == INAS_TRANSPORT_ADB) {
        fprintf(f, "adb:\n  serial: ");
        qstr(f, t->adb.serial);
        fprintf(f, "\n  remote_dir: ");
        qstr(f, t->adb.remote_dir);
        fprintf(f, "\n  probe_binary: ");
        qstr(f, t->adb.probe_binary);
        fprintf(f, "\n  opencl_library: ");
        qstr(f, t->adb.opencl_library);
        fprintf(f, "\n  taskset: ");
        qstr(f, t->adb.taskset);
        fputc('\n', f);
    }
    fprintf(f, "probe:\n  resolution: %d\n  batch: %d\n  warmup: %d\n  runs: %d\n  statistic: %s\n  cooldown_ms: %d\n",
            t->probe.resolution, t->probe.batch, t->probe.warmup, t->probe.runs,
            inas_statistic_name(t->probe.statistic), t->probe.cooldown_ms);
    fprintf(f, "lut: ");
    qstr(f, t->lut);
    fprintf(f, "\nspace: ");
    qstr(f, t->space[0] ? t->space : "");
    fprintf(f, "%s\n", t->space[0] ? "" : "  # the built-in default space");
    if (t->search_budget_ms > 0) fprintf(f, "search:\n  budget_ms: %g\n", t->search_budget_ms);
}
