/* inas/lut.h - latency lookup tables (DESIGN.md §5): the deployable blocks of
 * a search space, their keys, the LUT file, prediction, probing on a device
 * and validation against end-to-end measurements.
 *
 * Blocks. An exported network (include/inas/model.h: BN folded, SMSUs merged,
 * so a backbone layer's cost depends on its largest kernel only) is a sum of
 * blocks, each timed separately by the probe with the inference engine's own
 * kernels. A block key's text form (one token list, no spaces inside tokens):
 *
 *   stem c3-40 k3 s2 r320-160            stem conv (in-out channels, kernel, stride, in-out size)
 *   mbconv c24-32 m144 k5 s2 r80-40      MBConv layer (in-out, hidden width, largest kernel, stride, sizes)
 *   tbranch l3-1 c88-32 r20-80           transport branch from level 3 into level 1 (conv+resize or pool+conv)
 *   tfuse n3 c32 k7 r80                  transport fusion of 3 branches (mean, SMSU, conv, SMSU, conv, add)
 *   dbranch l3-1 c88-32 r20-80           decoder branch from deeper level 3 into level 1 (conv+resize)
 *   dfuse n2 c32 k7 r80                  decoder fusion of 2 inputs (mean, SMSU, conv)
 *   output c16 r160-320                  output head (1x1 conv, sigmoid, upsampling to the input)
 *   overhead                             per-network constant: probed as one tiny kernel + queue finish;
 *                                        `inas lut validate --calibrate` replaces it by the median of
 *                                        (measured - block sum), which may be negative
 *
 * LUT file: a text file written atomically.
 *
 *   # inas latency LUT v1
 *   target: host-cpu
 *   device: pthread-skylake-avx512-AMD EPYC
 *   driver: 6.0+debian
 *   date: 2026-11-21T13:40:00Z
 *   settings: resolution=320 batch=1 warmup=2 runs=7 statistic=median
 *   space: 0123456789abcdef          (inas_lut_space_hash of the space probed)
 *   entries: 57
 *   ---
 *   KEY<TAB>MS<TAB>SPREAD_MS         (one line per key, sorted by key; MS >= 0 except the overhead)
 *   ...
 *   crc32: 1a2b3c4d                  (CRC32 of every byte of the body lines above)
 *
 * A malformed line or a CRC mismatch is an error naming the file and line. */
#ifndef INAS_LUT_H
#define INAS_LUT_H

#include <stdint.h>
#include <stdio.h>

#include "inas/arch.h"
#include "inas/runtime.h"
#include "inas/space.h"
#include "inas/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- block keys ------------------------------------------------------------------------ */

typedef enum inas_block_kind {
    INAS_BLOCK_STEM = 0,
    INAS_BLOCK_MBCONV,
    INAS_BLOCK_TBRANCH,
    INAS_BLOCK_TFUSE,
    INAS_BLOCK_DBRANCH,
    INAS_BLOCK_DFUSE,
    INAS_BLOCK_OUTPUT,
    INAS_BLOCK_OVERHEAD,
    INAS_BLOCK_KINDS
} inas_block_kind;

/* Fields a kind does not use are 0. */
typedef struct inas_block_key {
    inas_block_kind kind;
    int cin, cout, mid; /* channels in, out, hidden (mbconv) */
    int k, stride;      /* largest kernel, stride */
    int rin, rout;      /* spatial size in, out */
    int src, dst;       /* levels of a branch */
    int branches;       /* inputs of a fusion */
} inas_block_key;

#define INAS_BLOCK_KEY_MAX 96 /* buffer size that always holds a key's text */

/* The text form into buf (NUL-terminated); returns buf. */
char *inas_block_key_format(const inas_block_key *k, char *buf, size_t len);
/* Parses the text form (exactly the tokens format writes, in order). */
inas_status inas_block_key_parse(const char *text, inas_block_key *k, inas_error *err);

/* Every distinct block key of the space at input size `resolution` (not the
 * overhead), sorted by text, without repeats. *keys is malloc'd. */
inas_status inas_lut_enumerate(const inas_space *space, int resolution, inas_block_key **keys, size_t *count,
                               inas_error *err);
/* The blocks of one architecture at `resolution` (with repeats, in network
 * order, without the overhead) into keys[0..*count) (cap entries at most). */
inas_status inas_arch_blocks(const inas_arch *arch, const inas_space *space, int resolution, inas_block_key *keys,
                             int cap, int *count, inas_error *err);

/* FNV-1a 64 of the space's YAML form: identifies the space a LUT was probed on. */
uint64_t inas_lut_space_hash(const inas_space *space);

/* ---- the table ---------------------------------------------------------------------------- */

typedef struct inas_lut_entry {
    char key[INAS_BLOCK_KEY_MAX];
    double ms;     /* the statistic of the timed runs */
    double spread; /* median absolute deviation of the timed runs */
} inas_lut_entry;

typedef struct inas_lut {
    char target[64], device[256], driver[128], date[40], settings[256];
    uint64_t space_hash;
    inas_lut_entry *e; /* sorted by key */
    size_t n, cap;
} inas_lut;

void inas_lut_init(inas_lut *lut);
void inas_lut_free(inas_lut *lut);
/* Inserts or replaces an entry. */
inas_status inas_lut_set(inas_lut *lut, const char *key, double ms, double spread);
/* The entry of a key, or NULL. */
const inas_lut_entry *inas_lut_find(const inas_lut *lut, const char *key);
/* Writes the file atomically (body sorted, CRC line last). */
inas_status inas_lut_save(const inas_lut *lut, const char *path, inas_error *err);
void inas_lut_write(const inas_lut *lut, FILE *f);
/* Parses a LUT text; `name` prefixes errors ("NAME:LINE: ..."). */
inas_status inas_lut_parse(const char *text, size_t len, const char *name, inas_lut *lut, inas_error *err);
inas_status inas_lut_load(const char *path, inas_lut *lut, inas_error *err);

/* Predicted latency of arch = sum of its blocks' entries + the overhead entry
 * (0 when absent). A missing block is INAS_ERR_NOT_FOUND naming the key. */
inas_status inas_lut_predict(const inas_lut *lut, const inas_arch *arch, const inas_space *space, int resolution,
                             double *ms, inas_error *err);

/* ---- probing and validation (on a context for the target's device) ------------------------ */

typedef struct inas_probe_opts {
    int resume;          /* keep entries already in the LUT file (same space) and measure only the rest */
    int stop_after;      /* >0: stop (INAS_ERR_EXTERNAL "interrupted") after measuring this many keys */
    double save_every_ms;/* write the file at least this often while probing (0: after every key) */
    FILE *progress;      /* progress bar stream (NULL: none) */
    const char *adb;     /* adb transport: the adb program (NULL: $INAS_ADB, else "adb") */
    int chunk;           /* adb transport: keys per push/shell/pull round (0: 32) */
} inas_probe_opts;

typedef struct inas_probe_result {
    size_t keys;     /* keys of the space (+1 overhead) */
    size_t measured; /* measured in this call */
    size_t kept;     /* taken from the existing file (resume) */
} inas_probe_result;

/* Times one block on ctx with the target's protocol (batch, warm-up, runs,
 * statistic) at the given kernel precision (the target's opencl.precision):
 * *ms the statistic, *spread the median absolute deviation. */
inas_status inas_block_time(inas_ctx *ctx, const inas_space *space, const inas_block_key *key,
                            const inas_target_probe *protocol, inas_precision precision, double *ms, double *spread);

/* Probes every key of `space` at the target's resolution and writes the LUT
 * to `lut_path` (atomically, periodically while probing, and at the end). */
inas_status inas_lut_probe(inas_ctx *ctx, const inas_target *target, const inas_space *space, const char *lut_path,
                           const inas_probe_opts *opts, inas_probe_result *result);

/* The same over adb (target transport adb): pushes the target's probe
 * binary (built from src/tools/inas_probe.c) and the space to the remote
 * directory, then per chunk of keys pushes the key list, runs the probe with
 * `adb shell` (INAS_OPENCL_LIBRARY set to the target's library, pinned with
 * taskset when given) and pulls and merges its results; the LUT is saved
 * after every chunk. adb failures (no device, device lost mid-run, a failing
 * command) are INAS_ERR_EXTERNAL with adb's output; finished entries stay in
 * the file (rerun with resume). Needs no OpenCL context on the host. */
inas_status inas_lut_probe_adb(const inas_target *target, const inas_space *space, const char *lut_path,
                               const inas_probe_opts *opts, inas_probe_result *result, inas_error *err);

typedef struct inas_validate_opts {
    int samples;   /* architectures to measure (>= 3) */
    uint64_t seed; /* sampling seed */
    FILE *progress;/* progress bar stream (NULL: none) */
} inas_validate_opts;

typedef struct inas_validate_result {
    int n;
    double *predicted, *measured; /* n each (ms); predicted with the LUT as it is */
    double *calibrated;           /* n: block sum + the overhead calibrated on the other samples */
    double pearson_r, mape, within_5pct, within_10pct;  /* raw LUT; shares as fractions */
    double overhead_ms;                                 /* calibrated on all samples: median(measured - block sum) */
    double cal_pearson_r, cal_mape, cal_within_5pct, cal_within_10pct; /* leave-one-out calibrated */
} inas_validate_result;

/* Samples many architectures of the space, keeps `samples` spread evenly
 * over the LUT's predicted latency range (the smallest and largest included),
 * exports each from a randomly initialised supernet (latency does not depend
 * on the values) and times its forward end to end on ctx with the target's
 * protocol. */
inas_status inas_lut_validate(inas_ctx *ctx, const inas_target *target, const inas_space *space, const inas_lut *lut,
                              const inas_validate_opts *opts, inas_validate_result *result);
void inas_validate_result_free(inas_validate_result *r);
/* Pearson r, MAPE and the shares within 5 % / 10 % of pred against meas. */
void inas_latency_metrics(const double *pred, const double *meas, int n, double *r, double *mape, double *w5,
                          double *w10);
/* An SVG scatter plot (predicted vs measured, both raw and calibrated, with
 * the y = x line), written atomically. */
inas_status inas_validate_write_svg(const inas_validate_result *r, const char *path, const char *title,
                                    inas_error *err);

#ifdef __cplusplus
}
#endif

#endif
