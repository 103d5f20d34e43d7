/* internal.h - the inas_ctx structure and helpers shared by src/ files (not
 * installed). OpenCL calls go through CL() and are checked with CL_CHECK. */
#ifndef INAS_RUNTIME_INTERNAL_H
#define INAS_RUNTIME_INTERNAL_H

#include "inas/runtime.h"
#include "inas/tensor.h"
#include "runtime/cl_api.h"

typedef struct inas_kernel_entry {
    char *name;
    cl_kernel kernel;
    struct inas_kernel_entry *next;
} inas_kernel_entry;

struct inas_program {
    uint64_t hash;      /* of the expanded source and options */
    size_t source_len;
    char *label;        /* file name or caller's name */
    char *options;
    int from_file;      /* built from the embedded file named `label` */
    cl_program program;
    inas_kernel_entry *kernels;
    struct inas_program *next;
};

typedef struct inas_pool_block {
    cl_mem mem;
    size_t bytes;
    struct inas_pool_block *next;
} inas_pool_block;

typedef struct inas_prof_event {
    cl_event event;
    char label[64];
} inas_prof_event;

struct inas_ctx {
    inas_device_info device;
    cl_context context;
    cl_command_queue queue;
    inas_error err;

    inas_log_level log_level;
    inas_log_fn log_fn;
    void *log_user;

    inas_program *programs;
    inas_cache_stats cache;
    char *cache_dir; /* INAS_CACHE_DIR, NULL when off */

    inas_pool_block *free_blocks; /* released blocks, any size */
    inas_pool_stats pool;

    int half_math; /* F16 inference ops use half arithmetic (INAS_PRECISION_FP16); see ops/op_util.h */

    int profiling;
    inas_prof_event *prof;
    size_t prof_n, prof_cap;
};

/* Records an OpenCL failure on ctx: "what: CL_NAME" and returns INAS_ERR_OPENCL
 * (INAS_ERR_NO_MEMORY for allocation failures). */
inas_status inas_cl_fail(inas_ctx *ctx, cl_int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define CL_CHECK(ctx, call, ...)                                          \
    do {                                                                  \
        cl_int cl_rc_ = (call);                                           \
        if (cl_rc_ != CL_SUCCESS) return inas_cl_fail((ctx), cl_rc_, __VA_ARGS__); \
    } while (0)

/* Sets ctx->half_math (F16 inference ops then compute in half); turning it
 * on fails with INAS_ERR_UNSUPPORTED on a device without cl_khr_fp16.
 * Returns the previous setting through *prev when prev is not NULL. */
inas_status inas_ctx_set_half_math(inas_ctx *ctx, int on, int *prev);

/* Sets an error on the context and returns its code. */
inas_status inas_ctx_fail(inas_ctx *ctx, inas_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* FNV-1a 64-bit hash, chainable through `h` (start with INAS_FNV_INIT). */
#define INAS_FNV_INIT 0xcbf29ce484222325ULL
uint64_t inas_fnv1a(uint64_t h, const void *data, size_t len);

/* Releases every pooled buffer (context destruction). */
void inas_pool_release_all(inas_ctx *ctx);
/* Releases cached programs and kernels. */
void inas_program_cache_release(inas_ctx *ctx);

#endif
