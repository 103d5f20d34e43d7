/* inas/inas.h - umbrella header of the inas library: include this one.
 *
 * inas: device-aware integral neural architecture search for salient object
 * detection (iNAS, ICCV 2021) in C11 with OpenCL C kernels. Each area of the
 * API has its own header; they read as the API documentation. */
#ifndef INAS_INAS_H
#define INAS_INAS_H

#include "inas/status.h"

/* Every area of the API (each header reads as its documentation). */
#include "inas/arch.h"
#include "inas/dataset.h"
#include "inas/image.h"
#include "inas/lut.h"
#include "inas/metrics.h"
#include "inas/model.h"
#include "inas/runtime.h"
#include "inas/safetensors.h"
#include "inas/search.h"
#include "inas/space.h"
#include "inas/supernet.h"
#include "inas/target.h"
#include "inas/tensor.h"
#include "inas/train.h"
#include "inas/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Library version, "MAJOR.MINOR.PATCH". */
const char *inas_version(void);
/* How this build reaches OpenCL: "linked (ICD loader)" or "dlopen (...)", plus
 * whether CLBlast is compiled in. */
const char *inas_build_info(void);

#ifdef __cplusplus
}
#endif

#endif
