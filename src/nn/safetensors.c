/* safetensors.c - safetensors reader (strict validation, CRC32 check of files
 * written by inas) and atomic writer. The JSON header is parsed by a small
 * recursive-descent parser that accepts exactly what the format needs. */
#include "inas/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/util.h"

static const struct {
    const char *name;
    size_t size;
} dtypes[INAS_DTYPE_COUNT] = {
    {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I64", 8},
    {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U8", 1},  {"BOOL", 1},
};

const char *inas_dtype_name(inas_dtype t) { return (unsigned)t < INAS_DTYPE_COUNT ? dtypes[t].name : "?"; }
size_t inas_dtype_size(inas_dtype t) { return (unsigned)t < INAS_DTYPE_COUNT ? dtypes[t].size : 0; }

#define CRC_KEY "inas.crc32"
#define MAX_HEADER (100u << 20) /* the format's own limit */

/* ---- JSON ------------------------------------------------------------------------ */

typedef struct json {
    const char *s;
    size_t n, i;
    const char *path;
    inas_error *err;
} json;

static inas_status jfail(json *j, const char *what) {
    return inas_error_set(j->err, INAS_ERR_FORMAT, "%s: safetensors header: %s at header byte %zu", j->path, what, j->i);
}

static void jws(json *j) {
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r')) j->i++;
}

static int jpeek(json *j) {
    jws(j);
    return j->i < j->n ? (unsigned char)j->s[j->i] : -1;
}

static inas_status jexpect(json *j, char c) {
    if (jpeek(j) != c) {
        char m[32];
        snprintf(m, sizeof m, "expected '%c'", c);
        return jfail(j, m);
    }
    j->i++;
    return INAS_OK;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses a string into a malloc'd UTF-8 buffer. */
static inas_status jstring(json *j, char **out) {
    if (jpeek(j) != '"') return jfail(j, "expected a string");
    j->i++;
    size_t cap = 32, len = 0;
    char *b = malloc(cap);
    if (!b) return inas_error_set(j->err, INAS_ERR_NO_MEMORY, "out of memory");
    for (;;) {
        if (j->i >= j->n) {
            free(b);
            return jfail(j, "unterminated string");
        }
        unsigned char c = (unsigned char)j->s[j->i++];
        unsigned cp;
        int raw = 0;
        if (c == '"') break;
        if (c < 0x20) {
            free(b);
            return jfail(j, "control character in string");
        }
        if (c == '\\') {
            if (j->i >= j->n) {
                free(b);
                return jfail(j, "unterminated escape");
            }
            char e = j->s[j->i++];
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': {
                if (j->i + 4 > j->n) {
                    free(b);
                    return jfail(j, "short \\u escape");
                }
                cp = 0;
                for (int k = 0; k < 4; k++) {
                    int h = hexval(j->s[j->i++]);
                    if (h < 0) {
                        free(b);
                        return jfail(j, "bad \\u escape");
                    }
                    cp = cp * 16 + (unsigned)h;
                }
                break;
            }
            default: free(b); return jfail(j, "bad escape");
            }
        } else {
            cp = c; /* a raw byte of UTF-8 text, copied as is */
            raw = 1;
        }
        unsigned char enc[4];
        int ne;
        if (raw || cp < 0x80) {
            enc[0] = (unsigned char)cp;
            ne = 1;
        } else if (cp < 0x800) {
            enc[0] = (unsigned char)(0xC0 | (cp >> 6));
            enc[1] = (unsigned char)(0x80 | (cp & 0x3F));
            ne = 2;
        } else {
            enc[0] = (unsigned char)(0xE0 | (cp >> 12));
            enc[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            enc[2] = (unsigned char)(0x80 | (cp & 0x3F));
            ne = 3;
        }
        if (len + (size_t)ne + 1 > cap) {
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                return inas_error_set(j->err, INAS_ERR_NO_MEMORY, "out of memory");
            }
            b = nb;
        }
        memcpy(b + len, enc, (size_t)ne);
        len += (size_t)ne;
    }
    b[len] = '\0';
    *out = b;
    return INAS_OK;
}

/* A non-negative integer. */
static inas_status juint(json *j, uint64_t *out) {
    int c = jpeek(j);
    if (c < '0' || c > '9') return jfail(j, "expected a non-negative integer");
    uint64_t v = 0;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
        uint64_t d = (uint64_t)(j->s[j->i] - '0');
        if (v > (UINT64_MAX - d) / 10) return jfail(j, "integer too large");
        v = v * 10 + d;
        j->i++;
    }
    if (j->i < j->n && (j->s[j->i] == '.' || j->s[j->i] == 'e' || j->s[j->i] == 'E'))
        return jfail(j, "expected an integer, not a fraction");
    *out = v;
    return INAS_OK;
}

/* Skips any JSON value (used for unknown keys). */
static inas_status jskip(json *j, int depth) {
    if (depth > 32) return jfail(j, "nesting too deep");
    int c = jpeek(j);
    if (c == '"') {
        char *s;
        inas_status st = jstring(j, &s);
        free(s);
        return st;
    }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->i++;
        if (jpeek(j) == close) {
            j->i++;
            return INAS_OK;
        }
        for (;;) {
            if (c == '{') {
                char *k;
                inas_status st = jstring(j, &k);
                free(k);
                if (st != INAS_OK || (st = jexpect(j, ':')) != INAS_OK) return st;
            }
            inas_status st = jskip(j, depth + 1);
            if (st != INAS_OK) return st;
            int d = jpeek(j);
            j->i++;
            if (d == close) return INAS_OK;
            if (d != ',') return jfail(j, "expected ',' or a closing bracket");
        }
    }
    /* number, true, false, null */
    size_t start = j->i;
    while (j->i < j->n && strchr("+-0123456789.eEtruefalsn", j->s[j->i])) j->i++;
    if (j->i == start) return jfail(j, "unexpected character");
    return INAS_OK;
}

/* ---- reader ------------------------------------------------------------------------- */

typedef struct st_entry {
    inas_st_tensor t;
    uint64_t begin, end;
} st_entry;

struct inas_st_file {
    char *bytes;
    size_t size;
    st_entry *tensors;
    size_t count, cap;
    char **meta_keys, **meta_vals;
    size_t nmeta;
};

void inas_st_close(inas_st_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->count; i++) free((char *)f->tensors[i].t.name);
    for (size_t i = 0; i < f->nmeta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->tensors);
    free(f->bytes);
    free(f);
}

static inas_status parse_tensor(json *j, st_entry *e) {
    inas_status st = jexpect(j, '{');
    int have_dtype = 0, have_shape = 0, have_off = 0;
    if (st != INAS_OK) return st;
    if (jpeek(j) == '}') return jfail(j, "empty tensor entry");
    for (;;) {
        char *key;
        if ((st = jstring(j, &key)) != INAS_OK) return st;
        if ((st = jexpect(j, ':')) != INAS_OK) {
            free(key);
            return st;
        }
        if (strcmp(key, "dtype") == 0) {
            char *v;
            free(key);
            if ((st = jstring(j, &v)) != INAS_OK) return st;
            int found = -1;
            for (int d = 0; d < INAS_DTYPE_COUNT; d++)
                if (strcmp(v, dtypes[d].name) == 0) found = d;
            if (found < 0) {
                char m[96];
                snprintf(m, sizeof m, "unsupported dtype \"%.40s\"", v);
                free(v);
                return jfail(j, m);
            }
            free(v);
            e->t.dtype = (inas_dtype)found;
            have_dtype = 1;
        } else if (strcmp(key, "shape") == 0) {
            free(key);
            if ((st = jexpect(j, '[')) != INAS_OK) return st;
            e->t.ndim = 0;
            if (jpeek(j) == ']') j->i++;
            else
                for (;;) {
                    uint64_t v;
                    if ((st = juint(j, &v)) != INAS_OK) return st;
                    if (e->t.ndim == INAS_ST_MAX_DIMS) return jfail(j, "too many dimensions");
                    if (v > ((uint64_t)1 << 40)) return jfail(j, "dimension too large");
                    e->t.shape[e->t.ndim++] = (int64_t)v;
                    int c = jpeek(j);
                    j->i++;
                    if (c == ']') break;
                    if (c != ',') return jfail(j, "expected ',' or ']' in shape");
                }
            have_shape = 1;
        } else if (strcmp(key, "data_offsets") == 0) {
            free(key);
            if ((st = jexpect(j, '[')) != INAS_OK || (st = juint(j, &e->begin)) != INAS_OK ||
                (st = jexpect(j, ',')) != INAS_OK || (st = juint(j, &e->end)) != INAS_OK ||
                (st = jexpect(j, ']')) != INAS_OK)
                return st;
            have_off = 1;
        } else {
            free(key);
            if ((st = jskip(j, 1)) != INAS_OK) return st;
        }
        int c = jpeek(j);
        j->i++;
        if (c == '}') break;
        if (c != ',') return jfail(j, "expected ',' or '}' in tensor entry");
    }
    if (!have_dtype || !have_shape || !have_off) return jfail(j, "tensor entry lacks dtype, shape or data_offsets");
    return INAS_OK;
}

static int cmp_begin(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

static uint32_t parse_hex32(const char *s, int *ok) {
    uint32_t v = 0;
    int n = 0;
    for (; *s; s++, n++) {
        int h = hexval(*s);
        if (h < 0 || n >= 8) {
            *ok = 0;
            return 0;
        }
        v = v * 16 + (uint32_t)h;
    }
    *ok = n > 0;
    return v;
}

static inas_status check_crcs(inas_st_file *f, const char *path, inas_error *err) {
    const char *list = inas_st_meta(f, CRC_KEY);
    if (!list) return INAS_OK; /* not written by inas: nothing to check */
    char *dup = strdup(list);
    if (!dup) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    size_t checked = 0;
    inas_status st = INAS_OK;
    char *save = NULL;
    for (char *item = strtok_r(dup, ";", &save); item && st == INAS_OK; item = strtok_r(NULL, ";", &save)) {
        char *colon = strrchr(item, ':');
        int ok = 0;
        uint32_t want = colon ? (*colon = '\0', parse_hex32(colon + 1, &ok)) : 0;
        const inas_st_tensor *t = ok ? inas_st_find(f, item) : NULL;
        if (!t) {
            st = inas_error_set(err, INAS_ERR_FORMAT, "%s: metadata %s names a tensor not in the file (\"%.60s\")", path,
                                CRC_KEY, item);
            break;
        }
        uint32_t got = inas_crc32(0, t->data, t->nbytes);
        if (got != want)
            st = inas_error_set(err, INAS_ERR_FORMAT,
                                "%s: tensor \"%s\" is corrupted (CRC32 %08x, expected %08x)", path, t->name, got, want);
        checked++;
    }
    free(dup);
    if (st == INAS_OK && checked != f->count)
        st = inas_error_set(err, INAS_ERR_FORMAT, "%s: metadata %s covers %zu of %zu tensors", path, CRC_KEY, checked,
                            f->count);
    return st;
}

inas_status inas_st_open(const char *path, inas_st_file **out, inas_error *err) {
    if (!path || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_st_open: null argument");
    *out = NULL;
    inas_st_file *f = calloc(1, sizeof *f);
    if (!f) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    inas_status st = inas_read_file(path, &f->bytes, &f->size, err);
    if (st != INAS_OK) {
        free(f);
        return st;
    }
    if (f->size < 8) {
        inas_st_close(f);
        return inas_error_set(err, INAS_ERR_FORMAT, "%s: not a safetensors file (%zu bytes, truncated?)", path,
                              f->size);
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | (unsigned char)f->bytes[i];
    if (hlen > MAX_HEADER || hlen > f->size - 8) {
        inas_st_close(f);
        return inas_error_set(err, INAS_ERR_FORMAT,
                              "%s: header length %llu does not fit in the file of %zu bytes (truncated or not "
                              "safetensors)",
                              path, (unsigned long long)hlen, f->size);
    }
    json j = {f->bytes + 8, (size_t)hlen, 0, path, err};
    size_t data_start = 8 + (size_t)hlen, data_len = f->size - data_start;
    if ((st = jexpect(&j, '{')) != INAS_OK) goto fail;
    if (jpeek(&j) == '}') j.i++;
    else
        for (;;) {
            char *key;
            if ((st = jstring(&j, &key)) != INAS_OK) goto fail;
            if ((st = jexpect(&j, ':')) != INAS_OK) {
                free(key);
                goto fail;
            }
            if (strcmp(key, "__metadata__") == 0) {
                free(key);
                if ((st = jexpect(&j, '{')) != INAS_OK) goto fail;
                if (jpeek(&j) == '}') j.i++;
                else
                    for (;;) {
                        char *k, *v;
                        if ((st = jstring(&j, &k)) != INAS_OK) goto fail;
                        if ((st = jexpect(&j, ':')) != INAS_OK || (st = jstring(&j, &v)) != INAS_OK) {
                            free(k);
                            goto fail;
                        }
                        char **nk = realloc(f->meta_keys, (f->nmeta + 1) * sizeof *nk);
                        if (nk) f->meta_keys = nk;
                        char **nv = realloc(f->meta_vals, (f->nmeta + 1) * sizeof *nv);
                        if (nv) f->meta_vals = nv;
                        if (!nk || !nv) {
                            free(k);
                            free(v);
                            st = inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
                            goto fail;
                        }
                        f->meta_keys[f->nmeta] = k;
                        f->meta_vals[f->nmeta++] = v;
                        int c = jpeek(&j);
                        j.i++;
                        if (c == '}') break;
                        if (c != ',') {
                            st = jfail(&j, "expected ',' or '}' in __metadata__");
                            goto fail;
                        }
                    }
            } else {
                if (inas_st_find(f, key)) {
                    inas_error_set(err, INAS_ERR_FORMAT, "%s: tensor \"%s\" appears twice", path, key);
                    free(key);
                    st = INAS_ERR_FORMAT;
                    goto fail;
                }
                if (f->count == f->cap) {
                    size_t cap = f->cap ? f->cap * 2 : 64;
                    st_entry *nt = realloc(f->tensors, cap * sizeof *nt);
                    if (!nt) {
                        free(key);
                        st = inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
                        goto fail;
                    }
                    f->tensors = nt;
                    f->cap = cap;
                }
                st_entry *e = &f->tensors[f->count];
                memset(e, 0, sizeof *e);
                e->t.name = key;
                f->count++;
                if ((st = parse_tensor(&j, e)) != INAS_OK) {
                    inas_error_prefix(err, "tensor \"%s\"", key);
                    goto fail;
                }
            }
            int c = jpeek(&j);
            j.i++;
            if (c == '}') break;
            if (c != ',') {
                st = jfail(&j, "expected ',' or '}'");
                goto fail;
            }
        }
    if (jpeek(&j) != -1) {
        st = jfail(&j, "trailing bytes after the header object");
        goto fail;
    }
    /* byte ranges: sizes match shapes; sorted they tile [0, data_len) */
    for (size_t i = 0; i < f->count; i++) {
        st_entry *e = &f->tensors[i];
        uint64_t n = 1;
        for (int d = 0; d < e->t.ndim; d++) {
            if (e->t.shape[d] && n > UINT64_MAX / (uint64_t)e->t.shape[d]) n = UINT64_MAX;
            else n *= (uint64_t)e->t.shape[d];
        }
        uint64_t want = n * dtypes[e->t.dtype].size;
        if (e->end < e->begin || e->end - e->begin != want) {
            st = inas_error_set(err, INAS_ERR_FORMAT,
                                "%s: tensor \"%s\": data_offsets [%llu, %llu] do not match its shape and dtype "
                                "(%llu bytes)",
                                path, e->t.name, (unsigned long long)e->begin, (unsigned long long)e->end,
                                (unsigned long long)want);
            goto fail;
        }
    }
    qsort(f->tensors, f->count, sizeof *f->tensors, cmp_begin);
    uint64_t at = 0;
    for (size_t i = 0; i < f->count; i++) {
        st_entry *e = &f->tensors[i];
        if (e->begin != at) {
            st = inas_error_set(err, INAS_ERR_FORMAT, "%s: tensor \"%s\" starts at byte %llu, expected %llu (%s)", path,
                                e->t.name, (unsigned long long)e->begin, (unsigned long long)at,
                                e->begin < at ? "overlap" : "hole");
            goto fail;
        }
        if (e->end > data_len) {
            st = inas_error_set(err, INAS_ERR_FORMAT,
                                "%s: tensor \"%s\" ends at data byte %llu but the file has %zu data bytes (truncated)",
                                path, e->t.name, (unsigned long long)e->end, data_len);
            goto fail;
        }
        e->t.nbytes = (size_t)(e->end - e->begin);
        e->t.data = f->bytes + data_start + e->begin;
        at = e->end;
    }
    if (at != data_len) {
        st = inas_error_set(err, INAS_ERR_FORMAT, "%s: %zu bytes after the last tensor", path, (size_t)(data_len - at));
        goto fail;
    }
    if ((st = check_crcs(f, path, err)) != INAS_OK) goto fail;
    *out = f;
    return INAS_OK;
fail:
    inas_st_close(f);
    return st;
}

size_t inas_st_count(const inas_st_file *f) { return f ? f->count : 0; }
const inas_st_tensor *inas_st_at(const inas_st_file *f, size_t i) {
    return f && i < f->count ? &f->tensors[i].t : NULL;
}
const inas_st_tensor *inas_st_find(const inas_st_file *f, const char *name) {
    if (!f || !name) return NULL;
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].t.name, name) == 0) return &f->tensors[i].t;
    return NULL;
}
const char *inas_st_meta(const inas_st_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (size_t i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}
size_t inas_st_meta_count(const inas_st_file *f) { return f ? f->nmeta : 0; }
void inas_st_meta_at(const inas_st_file *f, size_t i, const char **key, const char **value) {
    *key = i < f->nmeta ? f->meta_keys[i] : NULL;
    *value = i < f->nmeta ? f->meta_vals[i] : NULL;
}

/* ---- writer ------------------------------------------------------------------------- */

typedef struct wt_entry {
    char *name;
    inas_dtype dtype;
    int ndim;
    int64_t shape[INAS_ST_MAX_DIMS];
    void *data;
    size_t nbytes;
} wt_entry;

struct inas_st_writer {
    wt_entry *t;
    size_t n, cap;
    char **mk, **mv;
    size_t nmeta;
};

inas_status inas_st_writer_create(inas_st_writer **out, inas_error *err) {
    if (!out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "null output");
    *out = calloc(1, sizeof **out);
    return *out ? INAS_OK : inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
}

void inas_st_writer_destroy(inas_st_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    for (size_t i = 0; i < w->nmeta; i++) {
        free(w->mk[i]);
        free(w->mv[i]);
    }
    free(w->mk);
    free(w->mv);
    free(w->t);
    free(w);
}

inas_status inas_st_writer_add(inas_st_writer *w, const char *name, inas_dtype dtype, int ndim, const int64_t *shape,
                               const void *data, inas_error *err) {
    if (!w || !name || !*name || (ndim > 0 && !shape) || ndim < 0 || ndim > INAS_ST_MAX_DIMS ||
        (unsigned)dtype >= INAS_DTYPE_COUNT)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "safetensors writer: bad tensor \"%s\"", name ? name : "");
    if (strcmp(name, "__metadata__") == 0 || strchr(name, ';'))
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "safetensors writer: reserved name \"%s\"", name);
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return inas_error_set(err, INAS_ERR_INVALID_ARG, "safetensors writer: tensor \"%s\" added twice", name);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return inas_error_set(err, INAS_ERR_INVALID_ARG, "safetensors writer: \"%s\" has a negative dimension", name);
        count *= (size_t)shape[d];
    }
    size_t nbytes = count * dtypes[dtype].size;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        wt_entry *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
        w->t = nt;
        w->cap = cap;
    }
    wt_entry *e = &w->t[w->n];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    e->data = malloc(nbytes ? nbytes : 1);
    if (!e->name || !e->data) {
        free(e->name);
        free(e->data);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    }
    if (nbytes) memcpy(e->data, data, nbytes);
    e->dtype = dtype;
    e->ndim = ndim;
    for (int d = 0; d < ndim; d++) e->shape[d] = shape[d];
    e->nbytes = nbytes;
    w->n++;
    return INAS_OK;
}

static inas_status meta_set(inas_st_writer *w, const char *key, const char *value, inas_error *err) {
    for (size_t i = 0; i < w->nmeta; i++)
        if (strcmp(w->mk[i], key) == 0) {
            char *v = strdup(value);
            if (!v) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
            free(w->mv[i]);
            w->mv[i] = v;
            return INAS_OK;
        }
    char **nk = realloc(w->mk, (w->nmeta + 1) * sizeof *nk);
    if (nk) w->mk = nk;
    char **nv = realloc(w->mv, (w->nmeta + 1) * sizeof *nv);
    if (nv) w->mv = nv;
    if (!nk || !nv) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    w->mk[w->nmeta] = strdup(key);
    w->mv[w->nmeta] = strdup(value);
    if (!w->mk[w->nmeta] || !w->mv[w->nmeta]) {
        free(w->mk[w->nmeta]);
        free(w->mv[w->nmeta]);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    }
    w->nmeta++;
    return INAS_OK;
}

inas_status inas_st_writer_meta(inas_st_writer *w, const char *key, const char *value, inas_error *err) {
    if (!w || !key || !value) return inas_error_set(err, INAS_ERR_INVALID_ARG, "safetensors writer: null metadata");
    if (strncmp(key, CRC_KEY, strlen(CRC_KEY)) == 0)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "safetensors writer: metadata key \"%s\" is reserved", key);
    return meta_set(w, key, value, err);
}

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t len) {
    if (b->oom) return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + len + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json_string(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_put(b, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            sb_str(b, e);
        } else
            sb_put(b, (const char *)&c, 1);
    }
    sb_put(b, "\"", 1);
}

inas_status inas_st_writer_save(inas_st_writer *w, const char *path, inas_error *err) {
    if (!w || !path) return inas_error_set(err, INAS_ERR_INVALID_ARG, "safetensors writer: null argument");
    /* CRC list */
    sbuf crc = {0};
    for (size_t i = 0; i < w->n; i++) {
        char h[16];
        snprintf(h, sizeof h, ":%08x;", inas_crc32(0, w->t[i].data, w->t[i].nbytes));
        sb_str(&crc, w->t[i].name);
        sb_str(&crc, h);
    }
    if (crc.n) crc.p[--crc.n] = '\0'; /* drop the last ';' */
    inas_status st = meta_set(w, CRC_KEY, crc.p ? crc.p : "", err);
    free(crc.p);
    if (st != INAS_OK) return st;
    sbuf h = {0};
    sb_str(&h, "{\"__metadata__\":{");
    for (size_t i = 0; i < w->nmeta; i++) {
        if (i) sb_str(&h, ",");
        sb_json_string(&h, w->mk[i]);
        sb_str(&h, ":");
        sb_json_string(&h, w->mv[i]);
    }
    sb_str(&h, "}");
    uint64_t at = 0;
    for (size_t i = 0; i < w->n; i++) {
        const wt_entry *e = &w->t[i];
        char num[64];
        sb_str(&h, ",");
        sb_json_string(&h, e->name);
        sb_str(&h, ":{\"dtype\":\"");
        sb_str(&h, dtypes[e->dtype].name);
        sb_str(&h, "\",\"shape\":[");
        for (int d = 0; d < e->ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)e->shape[d]);
            sb_str(&h, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)at,
                 (unsigned long long)(at + e->nbytes));
        sb_str(&h, num);
        at += e->nbytes;
    }
    sb_str(&h, "}");
    while (h.n % 8) sb_str(&h, " "); /* align the data to 8 bytes */
    if (h.oom) {
        free(h.p);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
    inas_atomic_file *f;
    st = inas_atomic_open(path, &f, err);
    if (st == INAS_OK) st = inas_atomic_write(f, len8, 8, err);
    if (st == INAS_OK) st = inas_atomic_write(f, h.p, h.n, err);
    for (size_t i = 0; i < w->n && st == INAS_OK; i++) st = inas_atomic_write(f, w->t[i].data, w->t[i].nbytes, err);
    free(h.p);
    if (st != INAS_OK) {
        inas_atomic_abort(f);
        return st;
    }
    return inas_atomic_commit(f, err);
}
