/* cl_api.h - the OpenCL entry points inas calls, reached through one table.
 *
 * In the default build the table points at the ICD loader's functions; with
 * INAS_DLOPEN_OPENCL it is filled by dlopen/dlsym at the first context
 * creation (env INAS_OPENCL_LIBRARY names the library, else libOpenCL.so,
 * libOpenCL.so.1 and the usual Android vendor paths are tried). All library
 * code calls OpenCL as CL(clFoo)(...). */
#ifndef INAS_RUNTIME_CL_API_H
#define INAS_RUNTIME_CL_API_H

#include <CL/cl.h>

#include "inas/status.h"

#define INAS_CL_FUNCTIONS(X)       \
    X(clGetPlatformIDs)            \
    X(clGetPlatformInfo)           \
    X(clGetDeviceIDs)              \
    X(clGetDeviceInfo)             \
    X(clCreateContext)             \
    X(clReleaseContext)            \
    X(clCreateCommandQueue)        \
    X(clReleaseCommandQueue)       \
    X(clCreateBuffer)              \
    X(clReleaseMemObject)          \
    X(clCreateProgramWithSource)   \
    X(clCreateProgramWithBinary)   \
    X(clBuildProgram)              \
    X(clGetProgramInfo)            \
    X(clGetProgramBuildInfo)       \
    X(clReleaseProgram)            \
    X(clCreateKernel)              \
    X(clRetainKernel)              \
    X(clReleaseKernel)             \
    X(clSetKernelArg)              \
    X(clGetKernelInfo)             \
    X(clGetKernelWorkGroupInfo)    \
    X(clEnqueueNDRangeKernel)      \
    X(clEnqueueReadBuffer)         \
    X(clEnqueueWriteBuffer)        \
    X(clEnqueueCopyBuffer)         \
    X(clEnqueueFillBuffer)         \
    X(clEnqueueReadBufferRect)     \
    X(clEnqueueWriteBufferRect)    \
    X(clEnqueueCopyBufferRect)     \
    X(clFinish)                    \
    X(clFlush)                     \
    X(clWaitForEvents)             \
    X(clReleaseEvent)              \
    X(clGetEventProfilingInfo)

typedef struct inas_cl_api {
#define INAS_CL_FIELD(name) __typeof__(name) *name;
    INAS_CL_FUNCTIONS(INAS_CL_FIELD)
#undef INAS_CL_FIELD
    const char *library; /* what was loaded, for `inas version`/devices */
} inas_cl_api;

/* Makes sure the OpenCL entry points are available (loads the library once in
 * dlopen builds; thread-safe). Returns INAS_OK or an error naming the library. */
inas_status inas_cl_load(inas_error *err);

/* The table; valid after inas_cl_load succeeded. */
const inas_cl_api *inas_cl(void);
#define CL(fn) (inas_cl()->fn)

/* "CL_OUT_OF_RESOURCES" etc., or "CL_ERROR(-1234)" for unknown codes. */
const char *inas_cl_error_name(cl_int code);

#endif
