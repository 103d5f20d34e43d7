/* inas/safetensors.h - reading and writing the safetensors format: an 8-byte
 * little-endian header length, a JSON header mapping tensor names to
 * {dtype, shape, data_offsets} (plus an optional "__metadata__" map of
 * strings), then the raw little-endian tensor bytes. Checkpoints and exported
 * weights use it with PyTorch-style dotted names, so they load in other tools.
 *
 * The reader validates everything before handing out data: header length,
 * JSON syntax, dtypes, shapes against byte ranges, ranges inside the file and
 * covering the data without holes or overlaps. Files written by inas carry a
 * CRC32 of every tensor in the metadata ("inas.crc32"), checked on open, so
 * corrupted bytes are detected too. Errors name the file and what is wrong. */
#ifndef INAS_SAFETENSORS_H
#define INAS_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "inas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum inas_dtype {
    INAS_DTYPE_F32 = 0,
    INAS_DTYPE_F16,
    INAS_DTYPE_BF16,
    INAS_DTYPE_F64,
    INAS_DTYPE_I64,
    INAS_DTYPE_I32,
    INAS_DTYPE_I16,
    INAS_DTYPE_I8,
    INAS_DTYPE_U8,
    INAS_DTYPE_BOOL,
    INAS_DTYPE_COUNT
} inas_dtype;

/* "F32", "F16", ... as written in the header. */
const char *inas_dtype_name(inas_dtype t);
size_t inas_dtype_size(inas_dtype t);

#define INAS_ST_MAX_DIMS 8

typedef struct inas_st_tensor {
    const char *name;
    inas_dtype dtype;
    int ndim;
    int64_t shape[INAS_ST_MAX_DIMS];
    size_t nbytes;
    const void *data; /* reader: points into the loaded file */
} inas_st_tensor;

/* ---- reading ------------------------------------------------------------------------ */

typedef struct inas_st_file inas_st_file;

inas_status inas_st_open(const char *path, inas_st_file **out, inas_error *err);
void inas_st_close(inas_st_file *f);
size_t inas_st_count(const inas_st_file *f);
/* Tensors in data-offset order. */
const inas_st_tensor *inas_st_at(const inas_st_file *f, size_t i);
const inas_st_tensor *inas_st_find(const inas_st_file *f, const char *name);
/* A metadata value, or NULL. */
const char *inas_st_meta(const inas_st_file *f, const char *key);
size_t inas_st_meta_count(const inas_st_file *f);
void inas_st_meta_at(const inas_st_file *f, size_t i, const char **key, const char **value);

/* ---- writing ------------------------------------------------------------------------ */

typedef struct inas_st_writer inas_st_writer;

inas_status inas_st_writer_create(inas_st_writer **out, inas_error *err);
void inas_st_writer_destroy(inas_st_writer *w);
/* Adds a tensor; the bytes are copied. Names must be unique and non-empty. */
inas_status inas_st_writer_add(inas_st_writer *w, const char *name, inas_dtype dtype, int ndim, const int64_t *shape,
                               const void *data, inas_error *err);
/* Adds or replaces a metadata string (keys starting "inas.crc32" are reserved). */
inas_status inas_st_writer_meta(inas_st_writer *w, const char *key, const char *value, inas_error *err);
/* Writes the file atomically (temporary file, fsync, rename). */
inas_status inas_st_writer_save(inas_st_writer *w, const char *path, inas_error *err);

#ifdef __cplusplus
}
#endif

#endif
