/* inas/runtime.h - OpenCL devices, the inas context, programs and kernels,
 * logging and timing.
 *
 * A context (inas_ctx) is one OpenCL device with its cl_context, an in-order
 * command queue with profiling on, a program cache keyed by (source, options),
 * a device-buffer pool and the last error message. A context is used by one
 * thread at a time; make one per thread for parallel work. */
#ifndef INAS_RUNTIME_H
#define INAS_RUNTIME_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "inas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- devices ------------------------------------------------------------------- */

typedef enum inas_device_type {
    INAS_DEVICE_OTHER = 0,
    INAS_DEVICE_CPU,
    INAS_DEVICE_GPU,
    INAS_DEVICE_ACCELERATOR
} inas_device_type;

/* "cpu", "gpu", "accelerator" or "other". */
const char *inas_device_type_name(inas_device_type t);

typedef struct inas_device_info {
    int index;          /* position in the list of all devices (all platforms) */
    int platform_index; /* which platform, in clGetPlatformIDs order */
    char platform[256]; /* platform name */
    char name[256];     /* device name */
    char vendor[256];
    char driver[128];   /* driver version */
    char version[128];  /* device OpenCL version */
    char opencl_c[128]; /* OpenCL C version */
    inas_device_type type;
    unsigned compute_units;
    unsigned clock_mhz;
    uint64_t global_mem;  /* bytes */
    uint64_t local_mem;   /* bytes */
    uint64_t max_alloc;   /* bytes */
    size_t max_work_group;
    int fp16;             /* cl_khr_fp16 */
    int fp64;             /* cl_khr_fp64 */
    cl_platform_id cl_platform;
    cl_device_id cl_device;
} inas_device_info;

/* Lists every device of every platform. *out is malloc'd: free with free(). */
inas_status inas_devices_list(inas_device_info **out, size_t *count, inas_error *err);

/* Selects one device. The selector is a comma-separated list of terms, all of
 * which must hold (case-insensitive):
 *   platform=TEXT   platform name contains TEXT
 *   device=TEXT     device name contains TEXT
 *   type=cpu|gpu|accelerator
 *   index=N         the N-th (0-based) of the devices matching the other terms
 *   cpu | gpu | accelerator      short for type=...
 *   N               short for index=N
 *   TEXT            platform or device name contains TEXT
 *   TEXT:N          TEXT, then index=N
 * NULL or "" means: the first GPU, else the first device. A selector that
 * matches nothing fails with INAS_ERR_NOT_FOUND and a message listing the
 * devices; a malformed one with INAS_ERR_INVALID_ARG. */
inas_status inas_device_select(const char *selector, inas_device_info *out, inas_error *err);

/* ---- context ------------------------------------------------------------------- */

typedef struct inas_ctx inas_ctx;

/* Creates a context on the device chosen by `selector`; when selector is NULL
 * the environment variable INAS_DEVICE is used, then the default device. */
inas_status inas_ctx_create(inas_ctx **out, const char *selector, inas_error *err);
void inas_ctx_destroy(inas_ctx *ctx);

/* The message and status of the last failed call on this context. */
const char *inas_ctx_last_error(const inas_ctx *ctx);
inas_status inas_ctx_last_status(const inas_ctx *ctx);
/* The context's error record (for passing to functions that take inas_error *). */
inas_error *inas_ctx_error(inas_ctx *ctx);

const inas_device_info *inas_ctx_device(const inas_ctx *ctx);
cl_context inas_ctx_cl_context(const inas_ctx *ctx);
cl_command_queue inas_ctx_queue(const inas_ctx *ctx);

/* Waits for all queued work (clFinish). */
inas_status inas_ctx_finish(inas_ctx *ctx);

/* ---- logging ------------------------------------------------------------------- */

typedef enum inas_log_level {
    INAS_LOG_ERROR = 0,
    INAS_LOG_WARN,
    INAS_LOG_INFO,
    INAS_LOG_DEBUG
} inas_log_level;

typedef void (*inas_log_fn)(void *user, inas_log_level level, const char *message);

/* Messages at `level` or more severe go to fn (NULL: stderr as "inas: LEVEL: msg").
 * The initial level comes from env INAS_LOG (error|warn|info|debug), default warn. */
void inas_ctx_set_logger(inas_ctx *ctx, inas_log_level level, inas_log_fn fn, void *user);
void inas_log(inas_ctx *ctx, inas_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Parses "error", "warn", "info", "debug"; returns -1 for anything else. */
int inas_log_level_parse(const char *s);

/* ---- programs and kernels ---------------------------------------------------------- */

/* Names of the kernel files embedded in the library (from cl/), NULL-terminated. */
const char *const *inas_cl_files(void);
/* Text of an embedded kernel file, NULL if there is none of that name. */
const char *inas_cl_file_text(const char *name);

typedef struct inas_program inas_program; /* owned by the context's cache */

/* Builds (or finds in the cache) the embedded file `file` (e.g. "elementwise.cl")
 * with build `options` (e.g. "-DK=3 -DSTRIDE=2"). `#include "x.cl"` lines are
 * resolved against the embedded files (or, when env INAS_CL_DIR is set, against
 * .cl files in that directory first). A build failure returns INAS_ERR_BUILD
 * with the compiler's build log in the message. */
inas_status inas_program_get(inas_ctx *ctx, const char *file, const char *options, inas_program **out);
/* The same for source text given by the caller; `name` labels messages. */
inas_status inas_program_from_source(inas_ctx *ctx, const char *name, const char *source,
                                     const char *options, inas_program **out);
/* A kernel of a cached program (borrowed: valid until the context is destroyed). */
inas_status inas_kernel_get(inas_ctx *ctx, inas_program *prog, const char *kernel, cl_kernel *out);

typedef struct inas_cache_stats {
    unsigned programs;      /* programs in the in-process cache */
    unsigned builds;        /* clBuildProgram calls from source */
    unsigned hits;          /* requests served from the in-process cache */
    unsigned binary_loads;  /* programs loaded from INAS_CACHE_DIR */
    unsigned binary_saves;  /* programs written to INAS_CACHE_DIR */
    double build_ms;        /* wall time spent building */
} inas_cache_stats;
void inas_program_cache_stats(const inas_ctx *ctx, inas_cache_stats *out);

/* Sets kernel argument `index` (checked; message names the kernel and index). */
inas_status inas_kernel_arg(inas_ctx *ctx, cl_kernel k, unsigned index, size_t size, const void *value);
/* Enqueues k over `dims` dimensions. `local` may be NULL. Global sizes are
 * used as given (callers round them up). With profiling on (inas_profile_begin)
 * the launch is recorded under `label` (NULL: the kernel's name). */
inas_status inas_kernel_run(inas_ctx *ctx, cl_kernel k, unsigned dims, const size_t *global,
                            const size_t *local, const char *label);

/* ---- timing -------------------------------------------------------------------- */

/* Monotonic wall clock in milliseconds. */
double inas_wall_ms(void);

/* Starts recording a profiling event for every inas_kernel_run on ctx. */
inas_status inas_profile_begin(inas_ctx *ctx);
typedef struct inas_profile_record {
    char label[64];
    double ms;     /* device time, from the event's START to END */
    unsigned count;/* launches summed into this record */
} inas_profile_record;
/* Waits for the queue, stops recording and returns the per-label device time
 * (launches with the same label are summed) in first-launch order. *out is
 * malloc'd; free with free(). */
inas_status inas_profile_end(inas_ctx *ctx, inas_profile_record **out, size_t *count);

typedef struct inas_timing {
    double median_ms, min_ms, max_ms, mean_ms;
    int runs;
} inas_timing;
/* Runs fn `warmup` times, then `runs` times, timing each call by wall clock
 * (fn must finish its device work before returning) and summarises. */
inas_status inas_time_runs(int (*fn)(void *user), void *user, int warmup, int runs, inas_timing *out);

#ifdef __cplusplus
}
#endif

#endif
