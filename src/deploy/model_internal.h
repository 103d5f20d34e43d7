/* model_internal.h - the exported model's structure shared by src/deploy
 * (model directory I/O, export, inference engine); not installed. */
#ifndef INAS_DEPLOY_MODEL_INTERNAL_H
#define INAS_DEPLOY_MODEL_INTERNAL_H

#include "inas/lut.h"
#include "inas/model.h"

typedef struct model_weight {
    char name[128];
    int ndim;
    int shape[4];   /* ndim leading entries used */
    size_t numel;
    float *host;
    inas_tensor dev;
    inas_tensor dev16; /* half copy for the fp16 precisions (made by the first half plan that uses it) */
} model_weight;

typedef struct model_plan model_plan;

struct inas_model {
    inas_ctx *ctx;
    inas_space space;
    inas_arch arch;
    model_weight *w;
    size_t nw, capw;
    char source[2048]; /* the weights file (or "export") named in errors */
    int unmerged;
    inas_precision precision; /* of the inference kernels (inas_model_set_precision) */
    model_plan *plan;
    /* inas_model_predict_rgb's workspace at the model's resolution, made on
     * its first call and kept: the normalised input and the map (host), and
     * the device input and output */
    float *pred_chw, *pred_map;
    inas_tensor pred_x, pred_y;
    /* A one-block network for latency probing (src/latency/probe.c): the plan
     * holds only that block, its inputs are plan buffers, and missing weights
     * are synthesised (values do not matter for timing). */
    int has_block;
    inas_block_key block;
};

/* A new empty model on ctx for arch in space (NULL on out of memory). */
inas_model *model_new(inas_ctx *ctx, const inas_space *space, const inas_arch *arch);
/* Adds a weight (host copy + device upload); returns its index or -1 (message
 * on the context). A weight with the same name is an error. */
int model_add_weight(inas_model *m, const char *name, int ndim, const int *shape, const float *host);
int model_find_weight(const inas_model *m, const char *name);
/* A model that runs one block of `space` (engine.c builds it with the same
 * code as the full network); NULL on out of memory. */
inas_model *model_block_new(inas_ctx *ctx, const inas_space *space, const inas_block_key *key);
/* Runs the block once at batch N (planned on first use); no queue finish. */
inas_status model_block_run(inas_model *m, int N);
/* Drops the cached plan (engine.c). */
void model_plan_free(inas_model *m);

#endif
