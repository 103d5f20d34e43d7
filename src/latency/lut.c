/* lut.c - the latency lookup table (include/inas/lut.h): entries, the text
 * file (header, one line per key, CRC32 line over the body) written
 * atomically, a parser that reports malformed lines and corruption with the
 * line number, and prediction as a sum of block entries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inas/lut.h"
#include "inas/util.h"

void inas_lut_init(inas_lut *lut) { memset(lut, 0, sizeof *lut); }

void inas_lut_free(inas_lut *lut) {
    if (!lut) return;
    free(lut->e);
    lut->e = NULL;
    lut->n = lut->cap = 0;
}

/* Index of the first entry >= key. */
static size_t lower(const inas_lut *lut, const char *key) {
    size_t lo = 0, hi = lut->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(lut->e[mid].key, key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const inas_lut_entry *inas_lut_find(const inas_lut *lut, const char *key) {
    size_t i = lower(lut, key);
    return i < lut->n && strcmp(lut->e[i].key, key) == 0 ? &lut->e[i] : NULL;
}

inas_status inas_lut_set(inas_lut *lut, const char *key, double ms, double spread) {
    if (strlen(key) >= INAS_BLOCK_KEY_MAX) return INAS_ERR_INVALID_ARG;
    size_t i = lower(lut, key);
    if (i < lut->n && strcmp(lut->e[i].key, key) == 0) {
        lut->e[i].ms = ms;
        lut->e[i].spread = spread;
        return INAS_OK;
    }
    if (lut->n == lut->cap) {
        size_t nc = lut->cap ? lut->cap * 2 : 128;
        inas_lut_entry *ne = realloc(lut->e, nc * sizeof *ne);
        if (!ne) return INAS_ERR_NO_MEMORY;
        lut->e = ne;
        lut->cap = nc;
    }
    memmove(&lut->e[i + 1], &lut->e[i], (lut->n - i) * sizeof *lut->e);
    snprintf(lut->e[i].key, sizeof lut->e[i].key, "%s", key);
    lut->e[i].ms = ms;
    lut->e[i].spread = spread;
    lut->n++;
    return INAS_OK;
}

static int body_line(const inas_lut_entry *e, char *buf, size_t len) {
    return snprintf(buf, len, "%s\t%.6f\t%.6f\n", e->key, e->ms, e->spread);
}

void inas_lut_write(const inas_lut *lut, FILE *f) {
    fprintf(f, "# inas latency LUT v1\ntarget: %s\ndevice: %s\ndriver: %s\ndate: %s\nsettings: %s\nspace: %016llx\n"
               "entries: %zu\n---\n",
            lut->target, lut->device, lut->driver, lut->date, lut->settings, (unsigned long long)lut->space_hash,
            lut->n);
    uint32_t crc = 0;
    char line[256];
    for (size_t i = 0; i < lut->n; i++) {
        int n = body_line(&lut->e[i], line, sizeof line);
        crc = inas_crc32(crc, line, (size_t)n);
        fputs(line, f);
    }
    fprintf(f, "crc32: %08x\n", crc);
}

inas_status inas_lut_save(const inas_lut *lut, const char *path, inas_error *err) {
    inas_atomic_file *af;
    inas_status st = inas_atomic_open(path, &af, err);
    if (st) return st;
    inas_lut_write(lut, inas_atomic_stream(af));
    return inas_atomic_commit(af, err);
}

/* Copies a header value ("key: value") into buf when the line has that key. */
static int header(const char *line, const char *key, char *buf, size_t len) {
    size_t kl = strlen(key);
    if (strncmp(line, key, kl) || line[kl] != ':' || line[kl + 1] != ' ') return 0;
    snprintf(buf, len, "%s", line + kl + 2);
    return 1;
}

inas_status inas_lut_parse(const char *text, size_t len, const char *name, inas_lut *out, inas_error *err) {
    inas_lut lut;
    inas_lut_init(&lut);
    const char *p = text, *end = text + len;
    int lineno = 0, in_body = 0, have_crc = 0, have_space = 0;
    long entries = -1;
    uint32_t crc = 0, want = 0;
    char line[1024];
    inas_status st = INAS_OK;
    while (p < end && st == INAS_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (!nl) {
            st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: truncated (no newline at the end of the file)", name,
                                lineno);
            break;
        }
        if (ll >= sizeof line) {
            st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: line too long", name, lineno);
            break;
        }
        memcpy(line, p, ll);
        line[ll] = '\0';
        if (have_crc) {
            st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: text after the crc32 line", name, lineno);
            break;
        }
        if (!in_body) {
            if (lineno == 1) {
                if (strcmp(line, "# inas latency LUT v1") != 0)
                    st = inas_error_set(err, INAS_ERR_FORMAT, "%s:1: not an inas latency LUT (expected '# inas latency LUT v1')",
                                        name);
            } else if (strcmp(line, "---") == 0) {
                in_body = 1;
            } else if (header(line, "target", lut.target, sizeof lut.target) ||
                       header(line, "device", lut.device, sizeof lut.device) ||
                       header(line, "driver", lut.driver, sizeof lut.driver) ||
                       header(line, "date", lut.date, sizeof lut.date) ||
                       header(line, "settings", lut.settings, sizeof lut.settings)) {
            } else if (strncmp(line, "space: ", 7) == 0) {
                char *e;
                lut.space_hash = strtoull(line + 7, &e, 16);
                if (e == line + 7 || *e)
                    st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: space: expected a hexadecimal hash", name, lineno);
                have_space = 1;
            } else if (strncmp(line, "entries: ", 9) == 0) {
                char *e;
                entries = strtol(line + 9, &e, 10);
                if (e == line + 9 || *e || entries < 0)
                    st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: entries: expected a count", name, lineno);
            } else {
                st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: unknown header line '%s'", name, lineno, line);
            }
        } else if (strncmp(line, "crc32: ", 7) == 0) {
            char *e;
            want = (uint32_t)strtoul(line + 7, &e, 16);
            if (e == line + 7 || *e)
                st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: crc32: expected 8 hexadecimal digits", name, lineno);
            have_crc = 1;
            if (st == INAS_OK && want != crc)
                st = inas_error_set(err, INAS_ERR_FORMAT,
                                    "%s:%d: checksum mismatch (crc32 %08x in the file, %08x computed): the LUT is "
                                    "corrupted; re-probe or restore it",
                                    name, lineno, want, crc);
        } else {
            crc = inas_crc32(crc, p, ll + 1);
            char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
            inas_block_key k;
            char *e1, *e2;
            double ms = 0, sp = 0;
            int ok = t1 && t2;
            if (ok) {
                *t1 = *t2 = '\0';
                errno = 0;
                ms = strtod(t1 + 1, &e1);
                sp = strtod(t2 + 1, &e2);
                /* only the overhead may be negative (a calibrated correction) */
                ok = e1 != t1 + 1 && !*e1 && e2 != t2 + 1 && !*e2 && !errno && (ms >= 0 || !strcmp(line, "overhead")) &&
                     sp >= 0;
            }
            if (!ok) {
                st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: malformed entry (expected KEY<TAB>MS<TAB>SPREAD)", name,
                                    lineno);
            } else if (inas_block_key_parse(line, &k, err) != INAS_OK) {
                st = inas_error_prefix(err, "%s:%d", name, lineno);
            } else if (lut.n && strcmp(lut.e[lut.n - 1].key, line) >= 0) {
                st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: entry '%s' out of order or repeated", name, lineno,
                                    line);
            } else if (inas_lut_set(&lut, line, ms, sp) != INAS_OK) {
                st = inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory (LUT)");
            }
        }
        p = nl + 1;
    }
    if (st == INAS_OK && (!in_body || !have_crc))
        st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: truncated: missing the %s line", name, lineno,
                            in_body ? "crc32" : "'---'");
    if (st == INAS_OK && (!lut.target[0] || !have_space || entries < 0))
        st = inas_error_set(err, INAS_ERR_FORMAT, "%s: header lacks target, space or entries", name);
    if (st == INAS_OK && (size_t)entries != lut.n)
        st = inas_error_set(err, INAS_ERR_FORMAT, "%s: header says %ld entries, the body has %zu", name, entries,
                            lut.n);
    if (st != INAS_OK) {
        inas_lut_free(&lut);
        return st;
    }
    inas_lut_free(out);
    *out = lut;
    return INAS_OK;
}

inas_status inas_lut_load(const char *path, inas_lut *lut, inas_error *err) {
    char *text;
    size_t len;
    inas_status st = inas_read_file(path, &text, &len, err);
    if (st) return st;
    st = inas_lut_parse(text, len, path, lut, err);
    free(text);
    return st;
}

inas_status inas_lut_predict(const inas_lut *lut, const inas_arch *arch, const inas_space *space, int resolution,
                             double *ms, inas_error *err) {
    enum { CAP = 512 };
    inas_block_key *keys = malloc(CAP * sizeof *keys);
    if (!keys) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    int n;
    inas_status st = inas_arch_blocks(arch, space, resolution, keys, CAP, &n, err);
    double sum = 0;
    char txt[INAS_BLOCK_KEY_MAX];
    for (int i = 0; st == INAS_OK && i < n; i++) {
        const inas_lut_entry *e = inas_lut_find(lut, inas_block_key_format(&keys[i], txt, sizeof txt));
        if (!e)
            st = inas_error_set(err, INAS_ERR_NOT_FOUND,
                                "block '%s' is not in the LUT (probed for another space or resolution?)", txt);
        else sum += e->ms;
    }
    free(keys);
    if (st) return st;
    const inas_lut_entry *o = inas_lut_find(lut, "overhead");
    *ms = sum + (o ? o->ms : 0.0);
    return INAS_OK;
}
