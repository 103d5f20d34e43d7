/* cl_api.c - OpenCL entry-point table (linked or dlopen'ed) and error names. */
#include "runtime/cl_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef INAS_DLOPEN_OPENCL
#include <dlfcn.h>
#include <pthread.h>

static inas_cl_api g_api;       /* process-wide, like the loader it replaces */
static inas_status g_load_status = INAS_ERR_INTERNAL;
static char g_load_message[INAS_ERROR_MESSAGE_MAX];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void load_once(void) {
    const char *forced = getenv("INAS_OPENCL_LIBRARY");
    const char *candidates[] = {
        forced,
        "libOpenCL.so",
        "libOpenCL.so.1",
        "/system/vendor/lib64/libOpenCL.so",
        "/vendor/lib64/libOpenCL.so",
        "/system/lib64/libOpenCL.so",
        "/system/vendor/lib64/egl/libGLES_mali.so",
        "/vendor/lib64/egl/libGLES_mali.so",
    };
    void *h = NULL;
    const char *which = NULL;
    char tried[2048] = "";
    /* an explicit INAS_OPENCL_LIBRARY is the only candidate */
    size_t ncand = (forced && *forced) ? 1 : sizeof candidates / sizeof *candidates;
    for (size_t i = 0; i < ncand; i++) {
        if (!candidates[i] || !*candidates[i]) continue;
        h = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (h) {
            which = candidates[i];
            break;
        }
        size_t n = strlen(tried);
        snprintf(tried + n, sizeof tried - n, "%s%s (%s)", n ? ", " : "", candidates[i], dlerror());
    }
    if (!h) {
        snprintf(g_load_message, sizeof g_load_message,
                 "could not dlopen an OpenCL library; tried %s. Set INAS_OPENCL_LIBRARY to its path", tried);
        g_load_status = INAS_ERR_NOT_FOUND;
        return;
    }
#define INAS_CL_SYM(name)                                                                    \
    *(void **)(&g_api.name) = dlsym(h, #name);                                               \
    if (!g_api.name) {                                                                       \
        snprintf(g_load_message, sizeof g_load_message, "%s lacks the OpenCL function %s", which, \
                 #name);                                                                     \
        g_load_status = INAS_ERR_UNSUPPORTED;                                                \
        return;                                                                              \
    }
    INAS_CL_FUNCTIONS(INAS_CL_SYM)
#undef INAS_CL_SYM
    g_api.library = which;
    g_load_status = INAS_OK;
}

inas_status inas_cl_load(inas_error *err) {
    pthread_once(&g_once, load_once);
    if (g_load_status != INAS_OK) return inas_error_set(err, g_load_status, "%s", g_load_message);
    return INAS_OK;
}

const inas_cl_api *inas_cl(void) { return &g_api; }

#else /* linked against the ICD loader */

static const inas_cl_api g_api = {
#define INAS_CL_INIT(name) .name = name,
    INAS_CL_FUNCTIONS(INAS_CL_INIT)
#undef INAS_CL_INIT
    .library = "linked libOpenCL",
};

inas_status inas_cl_load(inas_error *err) {
    (void)err;
    return INAS_OK;
}

const inas_cl_api *inas_cl(void) { return &g_api; }
#endif

const char *inas_cl_error_name(cl_int code) {
    switch (code) {
#define E(c) \
    case c: return #c;
        E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
        E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
        E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
        E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
        E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
        E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
        E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) E(CL_INVALID_VALUE)
        E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT)
        E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_HOST_PTR)
        E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) E(CL_INVALID_IMAGE_SIZE)
        E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM)
        E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION)
        E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
        E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE)
        E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST)
        E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
        E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
        E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
        E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    }
    static _Thread_local char buf[32];
    snprintf(buf, sizeof buf, "CL_ERROR(%d)", (int)code);
    return buf;
}
