/* yaml_util.c - libyaml document helpers with file:line:col:field errors. */
#include "space/yaml_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

inas_status ydoc_load(ydoc *d, const char *text, size_t len, const char *name, inas_error *err) {
    memset(d, 0, sizeof *d);
    d->name = name ? name : "<yaml>";
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s: yaml parser", d->name);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &d->doc)) {
        inas_status st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%zu:%zu: YAML syntax error: %s%s%s", d->name,
                                        p.problem_mark.line + 1, p.problem_mark.column + 1,
                                        p.problem ? p.problem : "malformed", p.context ? " " : "",
                                        p.context ? p.context : "");
        yaml_parser_delete(&p);
        return st;
    }
    d->loaded = 1;
    yaml_parser_delete(&p);
    return INAS_OK;
}

void ydoc_free(ydoc *d) {
    if (d->loaded) yaml_document_delete(&d->doc);
    d->loaded = 0;
}

yaml_node_t *ydoc_root(ydoc *d) { return yaml_document_get_root_node(&d->doc); }
yaml_node_t *ydoc_node(ydoc *d, int id) { return yaml_document_get_node(&d->doc, id); }

inas_status ydoc_fail(ydoc *d, const yaml_node_t *n, const char *field, inas_error *err, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t line = n ? n->start_mark.line + 1 : 1, col = n ? n->start_mark.column + 1 : 1;
    return inas_error_set(err, INAS_ERR_FORMAT, "%s:%zu:%zu: %s: %s", d->name, line, col,
                          field && *field ? field : "(document)", msg);
}

static const char *kind(const yaml_node_t *n) {
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

inas_status ydoc_expect_map(ydoc *d, const yaml_node_t *n, const char *field, inas_error *err) {
    if (n->type != YAML_MAPPING_NODE) return ydoc_fail(d, n, field, err, "expected a mapping, got %s", kind(n));
    return INAS_OK;
}

inas_status ydoc_expect_seq(ydoc *d, const yaml_node_t *n, const char *field, inas_error *err) {
    if (n->type != YAML_SEQUENCE_NODE) return ydoc_fail(d, n, field, err, "expected a list, got %s", kind(n));
    return INAS_OK;
}

static const char *scalar(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

inas_status ydoc_check_keys(ydoc *d, const yaml_node_t *map, const char *field, const char *const *allowed,
                            inas_error *err) {
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ydoc_node(d, p->key);
        const char *ks = scalar(k);
        if (!ks) return ydoc_fail(d, k, field, err, "keys must be scalars");
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, ks) == 0) ok = 1;
        if (!ok) {
            char list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                if (a != allowed) strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, *a, sizeof list - strlen(list) - 1);
            }
            return ydoc_fail(d, k, field, err, "unknown key '%s' (expected one of: %s)", ks, list);
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const char *qs = scalar(ydoc_node(d, q->key));
            if (qs && strcmp(qs, ks) == 0) return ydoc_fail(d, k, field, err, "duplicate key '%s'", ks);
        }
    }
    return INAS_OK;
}

yaml_node_t *ydoc_get(ydoc *d, const yaml_node_t *map, const char *key) {
    if (map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *ks = scalar(ydoc_node(d, p->key));
        if (ks && strcmp(ks, key) == 0) return ydoc_node(d, p->value);
    }
    return NULL;
}

int ydoc_seq_len(const yaml_node_t *seq) {
    if (seq->type != YAML_SEQUENCE_NODE) return 0;
    return (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *ydoc_seq_at(ydoc *d, const yaml_node_t *seq, int i) {
    return ydoc_node(d, seq->data.sequence.items.start[i]);
}

inas_status ydoc_str(ydoc *d, const yaml_node_t *n, const char *field, char *buf, size_t len, inas_error *err) {
    const char *s = scalar(n);
    if (!s) return ydoc_fail(d, n, field, err, "expected a scalar, got %s", kind(n));
    snprintf(buf, len, "%s", s);
    return INAS_OK;
}

inas_status ydoc_int(ydoc *d, const yaml_node_t *n, const char *field, long lo, long hi, int *out, inas_error *err) {
    const char *s = scalar(n);
    if (!s) return ydoc_fail(d, n, field, err, "expected an integer, got %s", kind(n));
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno) return ydoc_fail(d, n, field, err, "expected an integer, got '%s'", s);
    if (v < lo || v > hi) return ydoc_fail(d, n, field, err, "%ld is out of range [%ld, %ld]", v, lo, hi);
    *out = (int)v;
    return INAS_OK;
}

inas_status ydoc_range(ydoc *d, const yaml_node_t *n, const char *field, long lo, long hi, int *mn, int *mx,
                       inas_error *err) {
    inas_status st;
    if (n->type == YAML_SCALAR_NODE) {
        int v;
        if ((st = ydoc_int(d, n, field, lo, hi, &v, err))) return st;
        *mn = *mx = v;
        return INAS_OK;
    }
    if (n->type != YAML_SEQUENCE_NODE || ydoc_seq_len(n) != 2)
        return ydoc_fail(d, n, field, err, "expected [min, max] or a single integer");
    int a, b;
    if ((st = ydoc_int(d, ydoc_seq_at(d, n, 0), field, lo, hi, &a, err))) return st;
    if ((st = ydoc_int(d, ydoc_seq_at(d, n, 1), field, lo, hi, &b, err))) return st;
    if (a > b) return ydoc_fail(d, n, field, err, "min %d > max %d", a, b);
    *mn = a;
    *mx = b;
    return INAS_OK;
}

inas_status ydoc_kset(ydoc *d, const yaml_node_t *n, const char *field, uint32_t *out, inas_error *err) {
    inas_status st;
    if ((st = ydoc_expect_seq(d, n, field, err))) return st;
    int len = ydoc_seq_len(n);
    if (len == 0) return ydoc_fail(d, n, field, err, "the kernel set is empty");
    uint32_t m = 0;
    for (int i = 0; i < len; i++) {
        yaml_node_t *it = ydoc_seq_at(d, n, i);
        int k;
        if ((st = ydoc_int(d, it, field, 1, 31, &k, err))) return st;
        if (k % 2 == 0) return ydoc_fail(d, it, field, err, "kernel size %d is even (must be odd)", k);
        if (m & (1u << k)) return ydoc_fail(d, it, field, err, "kernel size %d repeated", k);
        m |= 1u << k;
    }
    *out = m;
    return INAS_OK;
}

inas_status ydoc_bits(ydoc *d, const yaml_node_t *n, const char *field, int nbits, uint32_t *out, inas_error *err) {
    inas_status st;
    if (n->type == YAML_SCALAR_NODE) {
        int v;
        if ((st = ydoc_int(d, n, field, 0, (1L << nbits) - 1, &v, err))) return st;
        *out = (uint32_t)v;
        return INAS_OK;
    }
    if ((st = ydoc_expect_seq(d, n, field, err))) return st;
    uint32_t m = 0;
    for (int i = 0; i < ydoc_seq_len(n); i++) {
        yaml_node_t *it = ydoc_seq_at(d, n, i);
        int v;
        if ((st = ydoc_int(d, it, field, 0, nbits - 1, &v, err))) return st;
        if (m & (1u << v)) return ydoc_fail(d, it, field, err, "level %d repeated", v);
        m |= 1u << v;
    }
    *out = m;
    return INAS_OK;
}
