/* program.c - embedded kernel sources, #include expansion, the per-context
 * program cache keyed by (expanded source, options), the optional on-disk
 * binary cache (INAS_CACHE_DIR), kernel lookup and launch. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inas/util.h"
#include "runtime/internal.h"

struct inas_cl_source {
    const char *name;
    const char *text;
    size_t len;
};
extern const struct inas_cl_source inas_cl_sources[]; /* generated from the cl directory */
extern const size_t inas_cl_source_count;

const char *const *inas_cl_files(void) {
    static const char *names[256];
    size_t n = inas_cl_source_count < 255 ? inas_cl_source_count : 255;
    for (size_t i = 0; i < n; i++) names[i] = inas_cl_sources[i].name;
    names[n] = NULL;
    return names;
}

const char *inas_cl_file_text(const char *name) {
    for (size_t i = 0; i < inas_cl_source_count; i++)
        if (strcmp(inas_cl_sources[i].name, name) == 0) return inas_cl_sources[i].text;
    return NULL;
}

/* ---- source expansion --------------------------------------------------------------- */

typedef struct strbuf {
    char *p;
    size_t n, cap;
} strbuf;

static int sb_append(strbuf *b, const char *s, size_t len) {
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + len + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
    return 0;
}

/* Text of an include target: INAS_CL_DIR first (development override), then
 * the embedded copy. *owned is set when the caller must free the result. */
static const char *find_source(const char *name, char **owned) {
    *owned = NULL;
    const char *dir = getenv("INAS_CL_DIR");
    if (dir && *dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t len;
        char *text = NULL;
        if (inas_read_file(path, &text, &len, NULL) == INAS_OK) {
            *owned = text;
            return text;
        }
    }
    return inas_cl_file_text(name);
}

#define MAX_INCLUDES 32
typedef struct expand_state {
    const char *seen[MAX_INCLUDES];
    int nseen;
} expand_state;

static inas_status expand(inas_ctx *ctx, const char *label, const char *src, strbuf *out, expand_state *st,
                          int depth) {
    if (depth > 16) return inas_ctx_fail(ctx, INAS_ERR_BUILD, "%s: #include nesting deeper than 16", label);
    const char *line = src;
    int lineno = 1;
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line + 1) : strlen(line);
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        int handled = 0;
        if (*p == '#') {
            const char *q = p + 1;
            while (*q == ' ' || *q == '\t') q++;
            if (strncmp(q, "include", 7) == 0) {
                q += 7;
                while (*q == ' ' || *q == '\t') q++;
                if (*q == '"') {
                    const char *e = strchr(q + 1, '"');
                    if (!e || (eol && e > eol))
                        return inas_ctx_fail(ctx, INAS_ERR_BUILD, "%s:%d: malformed #include", label, lineno);
                    char name[256];
                    size_t nl = (size_t)(e - q - 1);
                    if (nl >= sizeof name) nl = sizeof name - 1;
                    memcpy(name, q + 1, nl);
                    name[nl] = '\0';
                    int already = 0;
                    for (int i = 0; i < st->nseen; i++)
                        if (strcmp(st->seen[i], name) == 0) already = 1;
                    if (!already) {
                        char *owned;
                        const char *text = find_source(name, &owned);
                        if (!text)
                            return inas_ctx_fail(ctx, INAS_ERR_BUILD, "%s:%d: #include \"%s\": no such kernel file",
                                                 label, lineno, name);
                        if (st->nseen == MAX_INCLUDES) {
                            free(owned);
                            return inas_ctx_fail(ctx, INAS_ERR_BUILD, "%s: too many #include files", label);
                        }
                        st->seen[st->nseen++] = strdup(name); /* each file is included once */
                        char marker[320];
                        snprintf(marker, sizeof marker, "/* begin %s */\n", name);
                        sb_append(out, marker, strlen(marker));
                        inas_status s = expand(ctx, name, text, out, st, depth + 1);
                        free(owned);
                        if (s != INAS_OK) return s;
                        snprintf(marker, sizeof marker, "/* end %s */\n", name);
                        if (sb_append(out, marker, strlen(marker)) != 0)
                            return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory");
                    }
                    handled = 1;
                }
            }
        }
        if (!handled && sb_append(out, line, len) != 0) return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory");
        if (!eol) break;
        line = eol + 1;
        lineno++;
    }
    return INAS_OK;
}

/* ---- building --------------------------------------------------------------------- */

static char *build_log(inas_ctx *ctx, cl_program prog) {
    size_t len = 0;
    if (CL(clGetProgramBuildInfo)(prog, ctx->device.cl_device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) != CL_SUCCESS)
        return strdup("(no build log)");
    char *log = malloc(len + 1);
    if (!log) return NULL;
    if (CL(clGetProgramBuildInfo)(prog, ctx->device.cl_device, CL_PROGRAM_BUILD_LOG, len, log, NULL) != CL_SUCCESS)
        log[0] = '\0';
    log[len] = '\0';
    return log;
}

static void binary_path(inas_ctx *ctx, uint64_t hash, char *buf, size_t len) {
    uint64_t h = inas_fnv1a(hash, ctx->device.name, strlen(ctx->device.name));
    h = inas_fnv1a(h, ctx->device.driver, strlen(ctx->device.driver));
    h = inas_fnv1a(h, ctx->device.platform, strlen(ctx->device.platform));
    snprintf(buf, len, "%s/%016llx.clbin", ctx->cache_dir, (unsigned long long)h);
}

static cl_program try_binary(inas_ctx *ctx, uint64_t hash, const char *options) {
    char path[4096];
    binary_path(ctx, hash, path, sizeof path);
    char *data = NULL;
    size_t len = 0;
    if (inas_read_file(path, &data, &len, NULL) != INAS_OK) return NULL;
    const unsigned char *bin = (const unsigned char *)data;
    cl_int status = 0, rc = 0;
    cl_program p =
        CL(clCreateProgramWithBinary)(ctx->context, 1, &ctx->device.cl_device, &len, &bin, &status, &rc);
    free(data);
    if (rc != CL_SUCCESS || status != CL_SUCCESS) {
        if (p) CL(clReleaseProgram)(p);
        return NULL;
    }
    if (CL(clBuildProgram)(p, 1, &ctx->device.cl_device, options, NULL, NULL) != CL_SUCCESS) {
        CL(clReleaseProgram)(p);
        return NULL;
    }
    ctx->cache.binary_loads++;
    return p;
}

static void save_binary(inas_ctx *ctx, uint64_t hash, cl_program p) {
    size_t size = 0;
    if (CL(clGetProgramInfo)(p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS || size == 0) return;
    unsigned char *bin = malloc(size);
    if (!bin) return;
    if (CL(clGetProgramInfo)(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS) {
        mkdir(ctx->cache_dir, 0755);
        char path[4096];
        binary_path(ctx, hash, path, sizeof path);
        inas_error e;
        if (inas_write_file_atomic(path, bin, size, &e) == INAS_OK) ctx->cache.binary_saves++;
        else inas_log(ctx, INAS_LOG_WARN, "binary cache: %s", e.message);
    }
    free(bin);
}

static inas_status build(inas_ctx *ctx, const char *label, const char *raw, const char *options,
                         inas_program **out) {
    if (!ctx || !raw || !out) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "program build: null argument");
    if (!options) options = "";
    strbuf src = {0};
    expand_state st = {.nseen = 0};
    inas_status s = expand(ctx, label, raw, &src, &st, 0);
    for (int i = 0; i < st.nseen; i++) free((void *)st.seen[i]);
    if (s != INAS_OK) {
        free(src.p);
        return s;
    }
    if (!src.p) sb_append(&src, "", 0);
    uint64_t h = inas_fnv1a(INAS_FNV_INIT, src.p, src.n);
    h = inas_fnv1a(h, "\x01", 1);
    h = inas_fnv1a(h, options, strlen(options));
    for (inas_program *p = ctx->programs; p; p = p->next) {
        if (p->hash == h && p->source_len == src.n && strcmp(p->options, options) == 0) {
            ctx->cache.hits++;
            free(src.p);
            *out = p;
            return INAS_OK;
        }
    }
    double t0 = inas_wall_ms();
    cl_program prog = ctx->cache_dir ? try_binary(ctx, h, options) : NULL;
    if (!prog) {
        cl_int rc;
        const char *text = src.p;
        prog = CL(clCreateProgramWithSource)(ctx->context, 1, &text, &src.n, &rc);
        if (rc != CL_SUCCESS) {
            free(src.p);
            return inas_cl_fail(ctx, rc, "clCreateProgramWithSource(%s)", label);
        }
        rc = CL(clBuildProgram)(prog, 1, &ctx->device.cl_device, options, NULL, NULL);
        ctx->cache.builds++;
        if (rc != CL_SUCCESS) {
            char *log = build_log(ctx, prog);
            CL(clReleaseProgram)(prog);
            free(src.p);
            inas_status r = inas_ctx_fail(ctx, INAS_ERR_BUILD,
                                          "building kernel program %s (options \"%s\") on %s failed: %s\nbuild log:\n%s",
                                          label, options, ctx->device.name, inas_cl_error_name(rc),
                                          log ? log : "(unavailable)");
            free(log);
            return r;
        }
        if (ctx->cache_dir) save_binary(ctx, h, prog);
    }
    ctx->cache.build_ms += inas_wall_ms() - t0;
    free(src.p);
    inas_program *p = calloc(1, sizeof *p);
    if (!p || !(p->label = strdup(label)) || !(p->options = strdup(options))) {
        if (p) {
            free(p->label);
            free(p);
        }
        CL(clReleaseProgram)(prog);
        return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory");
    }
    p->hash = h;
    p->source_len = src.n;
    p->program = prog;
    p->next = ctx->programs;
    ctx->programs = p;
    ctx->cache.programs++;
    *out = p;
    return INAS_OK;
}

inas_status inas_program_get(inas_ctx *ctx, const char *file, const char *options, inas_program **out) {
    if (!ctx || !file || !out) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_program_get: null argument");
    if (!options) options = "";
    /* fast path: the same embedded file with the same options was built before */
    for (inas_program *p = ctx->programs; p; p = p->next)
        if (p->from_file && strcmp(p->label, file) == 0 && strcmp(p->options, options) == 0) {
            ctx->cache.hits++;
            *out = p;
            return INAS_OK;
        }
    char *owned;
    const char *text = find_source(file, &owned);
    if (!text) return inas_ctx_fail(ctx, INAS_ERR_NOT_FOUND, "no kernel file named '%s' in cl/", file);
    inas_status s = build(ctx, file, text, options, out);
    free(owned);
    if (s == INAS_OK) (*out)->from_file = 1;
    return s;
}

inas_status inas_program_from_source(inas_ctx *ctx, const char *name, const char *source, const char *options,
                                     inas_program **out) {
    return build(ctx, name ? name : "(source)", source, options, out);
}

inas_status inas_kernel_get(inas_ctx *ctx, inas_program *prog, const char *kernel, cl_kernel *out) {
    if (!ctx || !prog || !kernel || !out) return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_kernel_get: null argument");
    for (inas_kernel_entry *e = prog->kernels; e; e = e->next)
        if (strcmp(e->name, kernel) == 0) {
            *out = e->kernel;
            return INAS_OK;
        }
    cl_int rc;
    cl_kernel k = CL(clCreateKernel)(prog->program, kernel, &rc);
    if (rc != CL_SUCCESS) return inas_cl_fail(ctx, rc, "clCreateKernel(%s) in %s", kernel, prog->label);
    inas_kernel_entry *e = calloc(1, sizeof *e);
    if (!e || !(e->name = strdup(kernel))) {
        free(e);
        CL(clReleaseKernel)(k);
        return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory");
    }
    e->kernel = k;
    e->next = prog->kernels;
    prog->kernels = e;
    *out = k;
    return INAS_OK;
}

void inas_program_cache_stats(const inas_ctx *ctx, inas_cache_stats *out) {
    if (ctx && out) *out = ctx->cache;
}

void inas_program_cache_release(inas_ctx *ctx) {
    inas_program *p = ctx->programs;
    while (p) {
        inas_program *next = p->next;
        inas_kernel_entry *e = p->kernels;
        while (e) {
            inas_kernel_entry *en = e->next;
            CL(clReleaseKernel)(e->kernel);
            free(e->name);
            free(e);
            e = en;
        }
        CL(clReleaseProgram)(p->program);
        free(p->label);
        free(p->options);
        free(p);
        p = next;
    }
    ctx->programs = NULL;
}

/* ---- launching ---------------------------------------------------------------------- */

static void kernel_name(cl_kernel k, char *buf, size_t len) {
    if (CL(clGetKernelInfo)(k, CL_KERNEL_FUNCTION_NAME, len, buf, NULL) != CL_SUCCESS) snprintf(buf, len, "kernel");
    buf[len - 1] = '\0';
}

inas_status inas_kernel_arg(inas_ctx *ctx, cl_kernel k, unsigned index, size_t size, const void *value) {
    cl_int rc = CL(clSetKernelArg)(k, index, size, value);
    if (rc != CL_SUCCESS) {
        char name[128];
        kernel_name(k, name, sizeof name);
        return inas_cl_fail(ctx, rc, "clSetKernelArg(%s, arg %u, %zu bytes)", name, index, size);
    }
    return INAS_OK;
}

inas_status inas_kernel_run(inas_ctx *ctx, cl_kernel k, unsigned dims, const size_t *global, const size_t *local,
                            const char *label) {
    if (!ctx || !k || !global || dims < 1 || dims > 3)
        return inas_ctx_fail(ctx, INAS_ERR_INVALID_ARG, "inas_kernel_run: bad arguments");
    for (unsigned d = 0; d < dims; d++)
        if (global[d] == 0) return INAS_OK; /* nothing to do */
    cl_event ev = NULL;
    cl_int rc = CL(clEnqueueNDRangeKernel)(ctx->queue, k, dims, NULL, global, local, 0, NULL,
                                          ctx->profiling ? &ev : NULL);
    if (rc != CL_SUCCESS) {
        char name[128];
        kernel_name(k, name, sizeof name);
        return inas_cl_fail(ctx, rc, "clEnqueueNDRangeKernel(%s, global %zu x %zu x %zu)", name, global[0],
                            dims > 1 ? global[1] : 1, dims > 2 ? global[2] : 1);
    }
    if (ev) {
        if (ctx->prof_n == ctx->prof_cap) {
            size_t cap = ctx->prof_cap ? ctx->prof_cap * 2 : 256;
            inas_prof_event *np = realloc(ctx->prof, cap * sizeof *np);
            if (!np) {
                CL(clReleaseEvent)(ev);
                return inas_ctx_fail(ctx, INAS_ERR_NO_MEMORY, "out of memory");
            }
            ctx->prof = np;
            ctx->prof_cap = cap;
        }
        inas_prof_event *pe = &ctx->prof[ctx->prof_n++];
        pe->event = ev;
        if (label) snprintf(pe->label, sizeof pe->label, "%s", label);
        else kernel_name(k, pe->label, sizeof pe->label);
    }
    return INAS_OK;
}
