/* params.h - the supernet's named parameters in flat device buffers.
 *
 * Every parameter has a PyTorch-style dotted name ("backbone.stage3.0.expand.
 * conv.weight"), a shape at the largest network's size, and a class:
 * trainable in group 0 (backbone) or group 1 (head, lr x10), or a buffer (BN
 * running statistics, not optimised). Each class lives in one flat device
 * buffer for values (and, for trainable ones, gradients and Adam moments), so
 * zeroing gradients and the Adam step are one launch per group. A parameter is
 * a view at a 64-byte aligned offset into its class's buffers. */
#ifndef INAS_NN_PARAMS_H
#define INAS_NN_PARAMS_H

#include "inas/runtime.h"
#include "inas/safetensors.h"
#include "inas/tensor.h"
#include "inas/util.h"

typedef enum inas_param_class {
    INAS_PARAM_BACKBONE = 0, /* trainable, group 0 */
    INAS_PARAM_HEAD = 1,     /* trainable, group 1 */
    INAS_PARAM_BUFFER = 2,   /* running statistics: saved, not optimised */
    INAS_PARAM_CLASSES = 3
} inas_param_class;

typedef enum inas_param_init {
    INAS_INIT_CONV,     /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default conv init */
    INAS_INIT_ZEROS,
    INAS_INIT_ONES,
    INAS_INIT_IDENTITY, /* square matrix [n, n]: identity */
    INAS_INIT_BIAS      /* like CONV with the fan_in given by shape[1] of the owner (stored in fan_in) */
} inas_param_init;

typedef struct inas_param {
    char name[128];
    int ndim;
    int shape[4];
    size_t numel;
    inas_param_class cls;
    inas_param_init init;
    int fan_in;   /* for INAS_INIT_CONV / BIAS */
    size_t offset;/* in floats, into the class buffers */
} inas_param;

typedef struct inas_params {
    inas_ctx *ctx;
    inas_param *p;
    size_t n, cap;
    size_t class_numel[INAS_PARAM_CLASSES];
    /* per class: value, grad, m, v (grad/m/v only for trainable classes) */
    inas_tensor value[INAS_PARAM_CLASSES], grad[INAS_PARAM_CLASSES], m[INAS_PARAM_CLASSES], v[INAS_PARAM_CLASSES];
    int materialized;
    long adam_step; /* Adam steps taken (bias correction) */
} inas_params;

void inas_params_init(inas_params *ps, inas_ctx *ctx);
void inas_params_free(inas_params *ps);

/* Registers a parameter (before inas_params_materialize); returns its index
 * or -1 on error (message on the context). */
int inas_params_add(inas_params *ps, const char *name, inas_param_class cls, inas_param_init init, int fan_in, int ndim,
                    const int *shape);
int inas_params_find(const inas_params *ps, const char *name);

/* Allocates the flat buffers and initialises every value from `seed`
 * (deterministic). Gradients and moments start at zero. */
inas_status inas_params_materialize(inas_params *ps, uint64_t seed);

/* Views of a parameter's value / gradient / moments at its full shape. */
inas_tensor inas_param_value(const inas_params *ps, int idx);
inas_tensor inas_param_grad(const inas_params *ps, int idx);

/* A view of the leading block [d0, d1, d2, d3] (each <= the parameter's dims)
 * of a parameter tensor t (value or grad), keeping t's strides; for a 1-D
 * parameter the first d0 elements. */
inas_tensor inas_param_block(const inas_params *ps, int idx, const inas_tensor *t, int d0, int d1, int d2, int d3);

/* Zeroes all gradients. */
inas_status inas_params_zero_grad(inas_params *ps);
/* One Adam step over both trainable groups with lr[group]. */
inas_status inas_params_adam(inas_params *ps, const double lr[2], double beta1, double beta2, double eps);

/* Host copies of one class's values (numel floats). */
inas_status inas_params_read_class(inas_params *ps, inas_param_class cls, float *host);

/* Adds every parameter (and, when with_optimizer, Adam moments as
 * "optimizer.exp_avg.NAME"/"optimizer.exp_avg_sq.NAME") to a safetensors writer. */
inas_status inas_params_to_writer(inas_params *ps, inas_st_writer *w, int with_optimizer, inas_error *err);
/* Loads values (and moments when present and with_optimizer) from a file by
 * name; every parameter must be present with its exact shape. */
inas_status inas_params_from_file(inas_params *ps, const inas_st_file *f, const char *path, int with_optimizer,
                                  inas_error *err);

#endif
