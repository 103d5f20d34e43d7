/* inas/target.h - device targets (DESIGN.md §5): a YAML file that names the
 * OpenCL device a latency lookup table is measured on, how that device is
 * reached (this machine, or a phone over adb), the probe protocol and where
 * the LUT lives.
 *
 * Target YAML (targets/ holds documented examples; unknown keys, wrong types
 * and missing required fields are errors "FILE:LINE:COL: FIELD: message"):
 *
 *   name: host-cpu                  # required: [A-Za-z0-9._-]+, names lut/NAME.lut
 *   description: "PoCL on this machine"          # optional
 *   opencl:                         # optional; every field optional
 *     platform: pocl                # platform name contains
 *     device: ""                    # device name contains
 *     type: cpu                     # cpu | gpu | accelerator | any (default any)
 *     index: 0                      # N-th matching device (default 0)
 *     precision: fp32               # fp32 | fp16 | fp16-storage (default fp32; inas_precision)
 *   transport: local                # local (default) | adb
 *   adb:                            # required when transport is adb, else forbidden
 *     serial: ""                    # optional: default env ANDROID_SERIAL, else adb's default device
 *     remote_dir: /data/local/tmp/inas          # required
 *     probe_binary: build-android/inas-probe    # required: host path of the cross-built probe
 *     opencl_library: /vendor/lib64/libOpenCL.so  # required: the device's OpenCL library
 *     taskset: f0                   # optional hex CPU mask for `taskset`
 *   probe:                          # required
 *     resolution: 320               # required: input size (multiple of the deepest stride)
 *     batch: 1                      # default 1
 *     warmup: 3                     # default 3
 *     runs: 10                      # default 10
 *     statistic: median             # median (default) | mean | min
 *     cooldown_ms: 0                # pause between keys (default 0)
 *   lut: lut/host-cpu.lut           # default lut/NAME.lut (relative to the working directory)
 *   space: examples/space-small.yaml  # optional narrowed space (relative paths: to the target file)
 *   search: {budget_ms: 30}         # optional search defaults
 */
#ifndef INAS_TARGET_H
#define INAS_TARGET_H

#include <stdio.h>

#include "inas/status.h"
#include "inas/tensor.h" /* inas_precision */

#ifdef __cplusplus
extern "C" {
#endif

#define INAS_TARGET_STR 512

typedef enum inas_transport { INAS_TRANSPORT_LOCAL = 0, INAS_TRANSPORT_ADB } inas_transport;
typedef enum inas_statistic { INAS_STAT_MEDIAN = 0, INAS_STAT_MEAN, INAS_STAT_MIN } inas_statistic;

typedef struct inas_target_opencl {
    char platform[128], device[128];
    char type[16];  /* "cpu", "gpu", "accelerator" or "" (any) */
    int index;
    inas_precision precision;
} inas_target_opencl;

typedef struct inas_target_adb {
    char serial[128]; /* resolved: the file's, else $ANDROID_SERIAL, else "" (adb's default) */
    char remote_dir[INAS_TARGET_STR];
    char probe_binary[INAS_TARGET_STR];
    char opencl_library[INAS_TARGET_STR];
    char taskset[32]; /* "" when not pinned */
} inas_target_adb;

typedef struct inas_target_probe {
    int resolution, batch, warmup, runs;
    inas_statistic statistic;
    int cooldown_ms;
} inas_target_probe;

/* A plain value (no heap memory). */
typedef struct inas_target {
    char path[INAS_TARGET_STR]; /* the file it was loaded from ("" when parsed from text) */
    char name[64];
    char description[INAS_TARGET_STR];
    inas_target_opencl opencl;
    inas_transport transport;
    inas_target_adb adb;
    inas_target_probe probe;
    char lut[INAS_TARGET_STR];   /* resolved LUT path */
    char space[INAS_TARGET_STR]; /* resolved space file path, "" = built-in default space */
    double search_budget_ms;     /* 0 = none */
} inas_target;

/* Parses a target document; `name` (the file path) prefixes errors and
 * resolves a relative `space` path against its directory. */
inas_status inas_target_parse(const char *text, size_t len, const char *name, inas_target *t, inas_error *err);
/* Reads and parses a target file. */
inas_status inas_target_load(const char *path, inas_target *t, inas_error *err);
/* The device selector string (runtime.h syntax) for the opencl section, e.g.
 * "platform=pocl,type=cpu,index=0"; "" selects the default device. */
void inas_target_selector(const inas_target *t, char *buf, size_t len);
/* Writes the resolved target as YAML (every field, defaults filled in). */
void inas_target_write_yaml(const inas_target *t, FILE *f);
const char *inas_statistic_name(inas_statistic s);

#ifdef __cplusplus
}
#endif

#endif
