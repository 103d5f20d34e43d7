/* tape.h - the autograd tape of the supernet: forward op constructors that
 * compute on the device and (when recording) remember what their backward
 * needs, and one function that runs every recorded op's backward in reverse.
 *
 * Values ("vars") are device tensors from the context's pool, owned by the
 * tape until inas_tape_reset. Gradients of vars are allocated on first use
 * and accumulated; gradients of parameters are accumulated into the
 * parameter store's gradient buffers (only the slices an architecture uses).
 * Each op's backward lives in one switch in tape.c. The tape's arrays keep
 * their capacity across resets, so a training loop in steady state does not
 * allocate host memory, and pooled device buffers are reused. */
#ifndef INAS_NN_TAPE_H
#define INAS_NN_TAPE_H

#include "nn/params.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/op_util.h"

/* How BatchNorm behaves in a forward pass. */
typedef enum inas_bn_mode {
    INAS_BN_TRAIN = 0, /* batch statistics, running stats updated with momentum */
    INAS_BN_EVAL,      /* running statistics */
    INAS_BN_RECAL      /* batch statistics, running stats = average over recal batches */
} inas_bn_mode;

typedef struct inas_bn_ref {
    int gamma, beta, mean, var; /* parameter indices */
} inas_bn_ref;

typedef struct inas_var {
    inas_tensor t;
    inas_tensor g;
    int has_g;
    int owned; /* t came from the pool for this tape */
} inas_var;

typedef struct inas_tape_node inas_tape_node;

typedef struct inas_tape {
    inas_ctx *ctx;
    inas_params *ps;
    inas_var *vars;
    size_t nvars, capv;
    inas_tape_node *nodes;
    size_t nnodes, capn;
    int recording;       /* remember ops for backward */
    inas_bn_mode bn_mode;
    int recal_batch;     /* batch index in INAS_BN_RECAL mode */
    float bn_momentum;   /* INAS_BN_TRAIN running-stat momentum (PyTorch: 0.1) */
} inas_tape;

void inas_tape_init(inas_tape *tp, inas_ctx *ctx, inas_params *ps);
/* Frees every var and node (keeps the arrays' capacity). */
void inas_tape_reset(inas_tape *tp);
void inas_tape_free(inas_tape *tp);

/* A var wrapping a caller's tensor (not owned, receives no gradient unless
 * the caller sets one). Returns the var id or -1. */
int tp_input(inas_tape *tp, const inas_tensor *t);
inas_tensor *tp_value(inas_tape *tp, int v);

/* y = conv(x, W[:cout, :cin]) (+ b[:cout]) with the weight parameter `w`
 * ([Cout_max, Cin_max, k, k]; k, stride, pad given), bias parameter b or -1. */
int tp_conv(inas_tape *tp, int x, int w, int b, int cout, int stride, int pad);
/* y = act(BN(x)) on the first C channels of the BN parameters (C = x's channels). */
int tp_bn(inas_tape *tp, int x, inas_bn_ref bn, int act);
int tp_act(inas_tape *tp, int x, inas_act act);
/* One SMSU branch: y = dwconv(x, M_k * crop_k(W)) with W the shared depthwise
 * weight parameter ([C_max, 1, Kmax, Kmax]) and M_k the branch's transform. */
int tp_smsu_dwconv(inas_tape *tp, int x, int w, int m, int k, int stride);
int tp_mean(inas_tape *tp, const int *xs, int k);
int tp_add(inas_tape *tp, int a, int b);
int tp_gap(inas_tape *tp, int x);
int tp_se_mul(inas_tape *tp, int x, int s);
int tp_maxpool(inas_tape *tp, int x, int k);
/* 2x2 stride-2 average pool in ceil mode (matches a stride-2 'same' conv). */
int tp_avgpool2(inas_tape *tp, int x);
/* Bilinear resize to h x w. */
int tp_resize(inas_tape *tp, int x, int h, int w, int align_corners);

/* Sets the gradient of var v to a copy of g (same shape). */
inas_status tp_set_grad(inas_tape *tp, int v, const inas_tensor *g);
/* Runs the backward of every recorded op in reverse order. */
inas_status inas_tape_backward(inas_tape *tp);

#endif
