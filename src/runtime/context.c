/* context.c - device enumeration and selection, the inas context, logging. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

const char *inas_device_type_name(inas_device_type t) {
    switch (t) {
    case INAS_DEVICE_CPU: return "cpu";
    case INAS_DEVICE_GPU: return "gpu";
    case INAS_DEVICE_ACCELERATOR: return "accelerator";
    default: return "other";
    }
}

static void dev_str(cl_device_id d, cl_device_info what, char *buf, size_t len) {
    buf[0] = '\0';
    if (CL(clGetDeviceInfo)(d, what, len, buf, NULL) != CL_SUCCESS) buf[0] = '\0';
    buf[len - 1] = '\0';
}

static void fill_info(inas_device_info *info, cl_platform_id p, cl_device_id d) {
    memset(info, 0, sizeof *info);
    info->cl_platform = p;
    info->cl_device = d;
    if (CL(clGetPlatformInfo)(p, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL) != CL_SUCCESS)
        info->platform[0] = '\0';
    info->platform[sizeof info->platform - 1] = '\0';
    dev_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    dev_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    dev_str(d, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
    dev_str(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
    dev_str(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c, sizeof info->opencl_c);
    cl_device_type type = 0;
    CL(clGetDeviceInfo)(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    info->type = (type & CL_DEVICE_TYPE_GPU)           ? INAS_DEVICE_GPU
                 : (type & CL_DEVICE_TYPE_CPU)         ? INAS_DEVICE_CPU
                 : (type & CL_DEVICE_TYPE_ACCELERATOR) ? INAS_DEVICE_ACCELERATOR
                                                       : INAS_DEVICE_OTHER;
    cl_uint u = 0;
    if (CL(clGetDeviceInfo)(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof u, &u, NULL) == CL_SUCCESS) info->compute_units = u;
    u = 0;
    if (CL(clGetDeviceInfo)(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof u, &u, NULL) == CL_SUCCESS) info->clock_mhz = u;
    cl_ulong ul = 0;
    if (CL(clGetDeviceInfo)(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS) info->global_mem = ul;
    ul = 0;
    if (CL(clGetDeviceInfo)(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS) info->local_mem = ul;
    ul = 0;
    if (CL(clGetDeviceInfo)(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS) info->max_alloc = ul;
    size_t sz = 0;
    if (CL(clGetDeviceInfo)(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof sz, &sz, NULL) == CL_SUCCESS) info->max_work_group = sz;
    size_t ext_len = 0;
    if (CL(clGetDeviceInfo)(d, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len) == CL_SUCCESS && ext_len > 0) {
        char *ext = malloc(ext_len + 1);
        if (ext && CL(clGetDeviceInfo)(d, CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) == CL_SUCCESS) {
            ext[ext_len] = '\0';
            info->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
            info->fp64 = strstr(ext, "cl_khr_fp64") != NULL;
        }
        free(ext);
    }
}

inas_status inas_devices_list(inas_device_info **out, size_t *count, inas_error *err) {
    if (!out || !count) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_devices_list: null output");
    *out = NULL;
    *count = 0;
    inas_status st = inas_cl_load(err);
    if (st != INAS_OK) return st;
    cl_uint np = 0;
    cl_int rc = CL(clGetPlatformIDs)(0, NULL, &np);
    if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (rc == CL_SUCCESS && np == 0))
        return inas_error_set(err, INAS_ERR_NOT_FOUND,
                              "no OpenCL platform found: install an OpenCL driver (on Debian for the CPU: "
                              "apt-get install pocl-opencl-icd)");
    if (rc != CL_SUCCESS)
        return inas_error_set(err, INAS_ERR_OPENCL, "clGetPlatformIDs: %s", inas_cl_error_name(rc));
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    rc = CL(clGetPlatformIDs)(np, plats, NULL);
    if (rc != CL_SUCCESS) {
        free(plats);
        return inas_error_set(err, INAS_ERR_OPENCL, "clGetPlatformIDs: %s", inas_cl_error_name(rc));
    }
    inas_device_info *list = NULL;
    size_t n = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        rc = CL(clGetDeviceIDs)(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (rc != CL_SUCCESS || nd == 0) continue; /* a platform without devices */
        cl_device_id *devs = calloc(nd, sizeof *devs);
        inas_device_info *grown = realloc(list, (n + nd) * sizeof *list);
        if (!devs || !grown) {
            free(devs);
            free(grown ? grown : list);
            free(plats);
            return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
        }
        list = grown;
        if (CL(clGetDeviceIDs)(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL) == CL_SUCCESS) {
            for (cl_uint d = 0; d < nd; d++) {
                fill_info(&list[n], plats[p], devs[d]);
                list[n].index = (int)n;
                list[n].platform_index = (int)p;
                n++;
            }
        }
        free(devs);
    }
    free(plats);
    if (n == 0) {
        free(list);
        return inas_error_set(err, INAS_ERR_NOT_FOUND, "OpenCL platforms found, but no devices in them");
    }
    *out = list;
    *count = n;
    return INAS_OK;
}

static int contains_ci(const char *hay, const char *needle) {
    size_t nl = strlen(needle);
    if (nl == 0) return 1;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == nl) return 1;
    }
    return 0;
}

static int eq_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

static int parse_type(const char *s, inas_device_type *t) {
    if (eq_ci(s, "cpu")) *t = INAS_DEVICE_CPU;
    else if (eq_ci(s, "gpu")) *t = INAS_DEVICE_GPU;
    else if (eq_ci(s, "accelerator") || eq_ci(s, "acc")) *t = INAS_DEVICE_ACCELERATOR;
    else return 0;
    return 1;
}

static int parse_index(const char *s, int *v) {
    if (!*s) return 0;
    char *end;
    long x = strtol(s, &end, 10);
    if (*end || x < 0 || x > 1000000) return 0;
    *v = (int)x;
    return 1;
}

typedef struct selector {
    char platform[128], device[128], any[128];
    int has_type;
    inas_device_type type;
    int index;
} selector;

static inas_status parse_selector(const char *text, selector *sel, inas_error *err) {
    memset(sel, 0, sizeof *sel);
    sel->index = -1;
    char buf[512];
    if (strlen(text) >= sizeof buf) return inas_error_set(err, INAS_ERR_INVALID_ARG, "device selector too long");
    strcpy(buf, text);
    char *save = NULL;
    for (char *term = strtok_r(buf, ",", &save); term; term = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*term)) term++;
        size_t tl = strlen(term);
        while (tl && isspace((unsigned char)term[tl - 1])) term[--tl] = '\0';
        if (!*term) continue;
        char *eq = strchr(term, '=');
        if (eq) {
            *eq = '\0';
            const char *key = term, *val = eq + 1;
            if (eq_ci(key, "platform")) snprintf(sel->platform, sizeof sel->platform, "%s", val);
            else if (eq_ci(key, "device") || eq_ci(key, "name")) snprintf(sel->device, sizeof sel->device, "%s", val);
            else if (eq_ci(key, "type")) {
                if (!parse_type(val, &sel->type))
                    return inas_error_set(err, INAS_ERR_INVALID_ARG,
                                          "device selector '%s': type must be cpu, gpu or accelerator, not '%s'",
                                          text, val);
                sel->has_type = 1;
            } else if (eq_ci(key, "index")) {
                if (!parse_index(val, &sel->index))
                    return inas_error_set(err, INAS_ERR_INVALID_ARG,
                                          "device selector '%s': index must be a non-negative integer, not '%s'",
                                          text, val);
            } else
                return inas_error_set(err, INAS_ERR_INVALID_ARG,
                                      "device selector '%s': unknown key '%s' (use platform, device, type, index)",
                                      text, key);
            continue;
        }
        char *colon = strrchr(term, ':');
        if (colon && parse_index(colon + 1, &sel->index)) *colon = '\0';
        if (!*term) continue;
        if (parse_type(term, &sel->type)) sel->has_type = 1;
        else if (parse_index(term, &sel->index)) { /* bare index */
        } else
            snprintf(sel->any, sizeof sel->any, "%s", term);
    }
    return INAS_OK;
}

static int matches(const selector *s, const inas_device_info *d) {
    if (s->platform[0] && !contains_ci(d->platform, s->platform)) return 0;
    if (s->device[0] && !contains_ci(d->name, s->device)) return 0;
    if (s->any[0] && !contains_ci(d->platform, s->any) && !contains_ci(d->name, s->any)) return 0;
    if (s->has_type && d->type != s->type) return 0;
    return 1;
}

static void list_devices_into(char *buf, size_t len, const inas_device_info *list, size_t n) {
    size_t used = strlen(buf);
    for (size_t i = 0; i < n && used + 1 < len; i++) {
        int w = snprintf(buf + used, len - used, "\n  [%d] %s: %s (%s)", list[i].index, list[i].platform, list[i].name,
                         inas_device_type_name(list[i].type));
        if (w < 0) break;
        used += (size_t)w;
        if (used >= len) used = len - 1;
    }
}

inas_status inas_device_select(const char *selector_text, inas_device_info *out, inas_error *err) {
    if (!out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_device_select: null output");
    inas_device_info *list = NULL;
    size_t n = 0;
    inas_status st = inas_devices_list(&list, &n, err);
    if (st != INAS_OK) return st;
    const inas_device_info *pick = NULL;
    if (!selector_text || !*selector_text) {
        for (size_t i = 0; i < n && !pick; i++)
            if (list[i].type == INAS_DEVICE_GPU) pick = &list[i];
        if (!pick) pick = &list[0];
    } else {
        selector sel;
        st = parse_selector(selector_text, &sel, err);
        if (st != INAS_OK) {
            free(list);
            return st;
        }
        int seen = 0, want = sel.index < 0 ? 0 : sel.index;
        for (size_t i = 0; i < n && !pick; i++)
            if (matches(&sel, &list[i]) && seen++ == want) pick = &list[i];
        if (!pick) {
            char msg[INAS_ERROR_MESSAGE_MAX];
            snprintf(msg, sizeof msg, "no OpenCL device matches '%s'; the devices are:", selector_text);
            list_devices_into(msg, sizeof msg, list, n);
            free(list);
            return inas_error_set(err, INAS_ERR_NOT_FOUND, "%s", msg);
        }
    }
    *out = *pick;
    free(list);
    return INAS_OK;
}

/* ---- context ---------------------------------------------------------------------- */

int inas_log_level_parse(const char *s) {
    if (!s) return -1;
    if (eq_ci(s, "error")) return INAS_LOG_ERROR;
    if (eq_ci(s, "warn") || eq_ci(s, "warning")) return INAS_LOG_WARN;
    if (eq_ci(s, "info")) return INAS_LOG_INFO;
    if (eq_ci(s, "debug")) return INAS_LOG_DEBUG;
    return -1;
}

inas_status inas_ctx_create(inas_ctx **out, const char *selector_text, inas_error *err) {
    if (!out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_ctx_create: null output");
    *out = NULL;
    if (!selector_text) selector_text = getenv("INAS_DEVICE");
    inas_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    int lvl = inas_log_level_parse(getenv("INAS_LOG"));
    ctx->log_level = lvl < 0 ? INAS_LOG_WARN : (inas_log_level)lvl;
    inas_status st = inas_device_select(selector_text, &ctx->device, err);
    if (st != INAS_OK) {
        free(ctx);
        return st;
    }
    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->device.cl_platform, 0};
    ctx->context = CL(clCreateContext)(props, 1, &ctx->device.cl_device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        inas_error_set(err, INAS_ERR_OPENCL, "clCreateContext on '%s': %s", ctx->device.name, inas_cl_error_name(rc));
        free(ctx);
        return INAS_ERR_OPENCL;
    }
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    ctx->queue = CL(clCreateCommandQueue)(ctx->context, ctx->device.cl_device, CL_QUEUE_PROFILING_ENABLE, &rc);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    if (rc != CL_SUCCESS) {
        inas_error_set(err, INAS_ERR_OPENCL, "clCreateCommandQueue on '%s': %s", ctx->device.name,
                       inas_cl_error_name(rc));
        CL(clReleaseContext)(ctx->context);
        free(ctx);
        return INAS_ERR_OPENCL;
    }
    const char *cache = getenv("INAS_CACHE_DIR");
    if (cache && *cache) ctx->cache_dir = strdup(cache);
    inas_log(ctx, INAS_LOG_INFO, "context on [%d] %s: %s", ctx->device.index, ctx->device.platform, ctx->device.name);
    *out = ctx;
    return INAS_OK;
}

void inas_ctx_destroy(inas_ctx *ctx) {
    if (!ctx) return;
    if (ctx->queue) CL(clFinish)(ctx->queue);
    for (size_t i = 0; i < ctx->prof_n; i++) CL(clReleaseEvent)(ctx->prof[i].event);
    free(ctx->prof);
    inas_pool_release_all(ctx);
    inas_program_cache_release(ctx);
    if (ctx->queue) CL(clReleaseCommandQueue)(ctx->queue);
    if (ctx->context) CL(clReleaseContext)(ctx->context);
    free(ctx->cache_dir);
    free(ctx);
}

const char *inas_ctx_last_error(const inas_ctx *ctx) { return ctx ? ctx->err.message : "null context"; }
inas_status inas_ctx_last_status(const inas_ctx *ctx) { return ctx ? ctx->err.code : INAS_ERR_INVALID_ARG; }
inas_error *inas_ctx_error(inas_ctx *ctx) { return ctx ? &ctx->err : NULL; }
const inas_device_info *inas_ctx_device(const inas_ctx *ctx) { return &ctx->device; }
cl_context inas_ctx_cl_context(const inas_ctx *ctx) { return ctx->context; }
cl_command_queue inas_ctx_queue(const inas_ctx *ctx) { return ctx->queue; }

inas_status inas_ctx_finish(inas_ctx *ctx) {
    CL_CHECK(ctx, CL(clFinish)(ctx->queue), "clFinish");
    return INAS_OK;
}

inas_status inas_ctx_set_half_math(inas_ctx *ctx, int on, int *prev) {
    if (!ctx) return INAS_ERR_INVALID_ARG;
    if (prev) *prev = ctx->half_math;
    if (on) {
        inas_status st = inas_precision_check(ctx, INAS_PRECISION_FP16);
        if (st != INAS_OK) return st;
    }
    ctx->half_math = on != 0;
    return INAS_OK;
}

inas_status inas_ctx_fail(inas_ctx *ctx, inas_status code, const char *fmt, ...) {
    if (!ctx) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err.message, sizeof ctx->err.message, fmt, ap);
    va_end(ap);
    ctx->err.code = code;
    inas_log(ctx, INAS_LOG_DEBUG, "error: %s", ctx->err.message);
    return code;
}

inas_status inas_cl_fail(inas_ctx *ctx, cl_int rc, const char *fmt, ...) {
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    inas_status code = (rc == CL_MEM_OBJECT_ALLOCATION_FAILURE || rc == CL_OUT_OF_HOST_MEMORY)
                           ? INAS_ERR_NO_MEMORY
                           : INAS_ERR_OPENCL;
    return inas_ctx_fail(ctx, code, "%s: %s", what, inas_cl_error_name(rc));
}

void inas_ctx_set_logger(inas_ctx *ctx, inas_log_level level, inas_log_fn fn, void *user) {
    if (!ctx) return;
    ctx->log_level = level;
    ctx->log_fn = fn;
    ctx->log_user = user;
}

void inas_log(inas_ctx *ctx, inas_log_level level, const char *fmt, ...) {
    inas_log_level max = ctx ? ctx->log_level : INAS_LOG_WARN;
    if (level > max) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ctx && ctx->log_fn) {
        ctx->log_fn(ctx->log_user, level, msg);
        return;
    }
    static const char *names[] = {"error", "warn", "info", "debug"};
    fprintf(stderr, "inas: %s: %s\n", names[level], msg);
}

uint64_t inas_fnv1a(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
