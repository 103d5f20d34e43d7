/* inas/util.h - small host utilities: whole-file reads, atomic file writes,
 * CRC32, a seeded splittable random number generator and a terminal
 * progress bar. None of them needs an OpenCL context. */
#ifndef INAS_UTIL_H
#define INAS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "inas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- files ------------------------------------------------------------------------ */

/* Reads a whole file into *data (malloc'd, NUL-terminated; *len excludes the NUL). */
inas_status inas_read_file(const char *path, char **data, size_t *len, inas_error *err);

/* Atomic writer: data goes to "PATH.tmp.XXXXXX" beside PATH; commit flushes,
 * fsyncs, renames over PATH and fsyncs the directory, so PATH always holds
 * either the old or the complete new contents. abort (or a crash) leaves PATH
 * untouched. */
typedef struct inas_atomic_file inas_atomic_file;
inas_status inas_atomic_open(const char *path, inas_atomic_file **out, inas_error *err);
/* The stdio stream to write to (fprintf, fwrite, ...). */
FILE *inas_atomic_stream(inas_atomic_file *f);
inas_status inas_atomic_write(inas_atomic_file *f, const void *data, size_t len, inas_error *err);
/* Publishes the file; on failure the old file stays and the temporary is removed.
 * Frees f either way. */
inas_status inas_atomic_commit(inas_atomic_file *f, inas_error *err);
/* Discards the new contents. Frees f. */
void inas_atomic_abort(inas_atomic_file *f);
/* One-shot: writes len bytes to path atomically. */
inas_status inas_write_file_atomic(const char *path, const void *data, size_t len, inas_error *err);

/* ---- CRC32 (IEEE 802.3, as zlib and PNG) --------------------------------------------- */

/* Start with crc = 0; chain calls to checksum data in pieces. */
uint32_t inas_crc32(uint32_t crc, const void *data, size_t len);

/* ---- random numbers ------------------------------------------------------------------ */

/* xoshiro256** state, seeded through SplitMix64. A plain struct: copy it to
 * save and restore a stream (checkpoints store these four words). */
typedef struct inas_rng {
    uint64_t s[4];
} inas_rng;

void inas_rng_seed(inas_rng *r, uint64_t seed);
/* An independent child stream derived from r's current state and `stream`
 * (r itself is not advanced): same parent state and stream id, same child. */
inas_rng inas_rng_split(const inas_rng *r, uint64_t stream);
uint64_t inas_rng_u64(inas_rng *r);
/* Uniform in [0, 1) with 24 random bits (float) / 53 bits (double). */
float inas_rng_float(inas_rng *r);
double inas_rng_double(inas_rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t inas_rng_below(inas_rng *r, uint64_t n);
/* Standard normal (Box-Muller). */
double inas_rng_normal(inas_rng *r);

/* ---- progress bar ---------------------------------------------------------------------- */

/* A one-line progress bar on a stream: "label [#####.....] 40/100 12.3/s ETA 5s".
 * It draws only when the stream is a terminal (or when forced), at most ten
 * times a second, and prints nothing otherwise. */
typedef struct inas_progress {
    FILE *stream;
    char label[48];
    uint64_t total, done;
    double start_ms, last_draw_ms;
    int enabled;
} inas_progress;

void inas_progress_begin(inas_progress *p, FILE *stream, const char *label, uint64_t total);
/* force: 1 draws even when the stream is not a terminal, 0 never draws, -1 auto. */
void inas_progress_force(inas_progress *p, int force);
void inas_progress_update(inas_progress *p, uint64_t done);
void inas_progress_end(inas_progress *p);
/* Formats the bar text (without '\r') into buf, for tests and custom drawing. */
void inas_progress_format(const inas_progress *p, double now_ms, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
