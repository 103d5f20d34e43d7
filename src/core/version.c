/* version.c - library version and build description. */
#include "inas/inas.h"

#ifndef INAS_VERSION_STRING
#define INAS_VERSION_STRING "0.0.0"
#endif

const char *inas_version(void) { return INAS_VERSION_STRING; }

const char *inas_build_info(void) {
    return
#ifdef INAS_DLOPEN_OPENCL
        "dlopen at run time (INAS_OPENCL_LIBRARY or libOpenCL.so)"
#else
        "linked against the OpenCL ICD loader"
#endif
#ifdef INAS_USE_CLBLAST
        ", CLBlast enabled"
#else
        ", CLBlast disabled"
#endif
        ;
}
