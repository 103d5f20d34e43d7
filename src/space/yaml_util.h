/* yaml_util.h - small helpers over libyaml's document tree for reading config
 * files with errors that name the file, line, column and field. Internal. */
#ifndef INAS_SPACE_YAML_UTIL_H
#define INAS_SPACE_YAML_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "inas/status.h"

typedef struct ydoc {
    yaml_document_t doc;
    int loaded;
    const char *name; /* file name for messages */
} ydoc;

/* Parses one YAML document; a syntax error names name:line:col. */
inas_status ydoc_load(ydoc *d, const char *text, size_t len, const char *name, inas_error *err);
void ydoc_free(ydoc *d);
/* The root node, or NULL for an empty document. */
yaml_node_t *ydoc_root(ydoc *d);
yaml_node_t *ydoc_node(ydoc *d, int id);

/* Sets err to "NAME:LINE:COL: FIELD: message" (at node n) and returns INAS_ERR_FORMAT. */
inas_status ydoc_fail(ydoc *d, const yaml_node_t *n, const char *field, inas_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Type checks with errors. */
inas_status ydoc_expect_map(ydoc *d, const yaml_node_t *n, const char *field, inas_error *err);
inas_status ydoc_expect_seq(ydoc *d, const yaml_node_t *n, const char *field, inas_error *err);
/* Every key of the mapping must be a scalar in `allowed` (NULL-terminated) and appear once. */
inas_status ydoc_check_keys(ydoc *d, const yaml_node_t *map, const char *field, const char *const *allowed,
                            inas_error *err);
/* Value of a key in a mapping, or NULL. */
yaml_node_t *ydoc_get(ydoc *d, const yaml_node_t *map, const char *key);
/* Number of items of a sequence; item i. */
int ydoc_seq_len(const yaml_node_t *seq);
yaml_node_t *ydoc_seq_at(ydoc *d, const yaml_node_t *seq, int i);
/* Scalar text (NUL-terminated copy into buf), or an error when not a scalar. */
inas_status ydoc_str(ydoc *d, const yaml_node_t *n, const char *field, char *buf, size_t len, inas_error *err);
/* An integer scalar in [lo, hi]. */
inas_status ydoc_int(ydoc *d, const yaml_node_t *n, const char *field, long lo, long hi, int *out, inas_error *err);
/* A pair [min, max] or a single integer (min = max), each in [lo, hi], min <= max. */
inas_status ydoc_range(ydoc *d, const yaml_node_t *n, const char *field, long lo, long hi, int *mn, int *mx,
                       inas_error *err);
/* A non-empty list of odd kernel sizes 1..31 without repeats, as a bit mask (bit k = size k). */
inas_status ydoc_kset(ydoc *d, const yaml_node_t *n, const char *field, uint32_t *out, inas_error *err);
/* A list of distinct integers in [0, nbits) or an integer mask < 2^nbits, as a bit mask. */
inas_status ydoc_bits(ydoc *d, const yaml_node_t *n, const char *field, int nbits, uint32_t *out, inas_error *err);

#endif
