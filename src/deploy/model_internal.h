/* model_internal.h - the exported model's structure shared by src/deploy
 * (model directory I/O, export, inference engine); not installed. */
#ifndef INAS_DEPLOY_MODEL_INTERNAL_H
#define INAS_DEPLOY_MODEL_INTERNAL_H

#include "inas/model.h"

typedef struct model_weight {
    char name[128];
    int ndim;
    int shape[4];   /* ndim leading entries used */
    size_t numel;
    float *host;
    inas_tensor dev;
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
    model_plan *plan;
};

/* A new empty model on ctx for arch in space (NULL on out of memory). */
inas_model *model_new(inas_ctx *ctx, const inas_space *space, const inas_arch *arch);
/* Adds a weight (host copy + device upload); returns its index or -1 (message
 * on the context). A weight with the same name is an error. */
int model_add_weight(inas_model *m, const char *name, int ndim, const int *shape, const float *host);
int model_find_weight(const inas_model *m, const char *name);
/* Drops the cached plan (engine.c). */
void model_plan_free(inas_model *m);

#endif
