/* supernet_internal.h - the supernet's structure: parameter indices of every
 * module (looked up once at creation), the parameter store and the tape.
 * Shared by src/nn and src/train; not installed. */
#ifndef INAS_NN_SUPERNET_INTERNAL_H
#define INAS_NN_SUPERNET_INTERNAL_H

#include "inas/supernet.h"
#include "nn/params.h"
#include "nn/tape.h"

typedef struct smsu_params {
    int w;                                  /* shared depthwise weight [C, 1, Kmax, Kmax] */
    int kmax;
    int m[INAS_MAX_KERNEL + 1];             /* transform of kernel k, -1 when k is not in the set */
    inas_bn_ref bn[INAS_MAX_KERNEL + 1];    /* BN of branch k */
} smsu_params;

typedef struct layer_params {
    int expand_w;          /* -1 when the stage's expand ratio is 1 */
    inas_bn_ref expand_bn;
    smsu_params smsu;
    int se_rw, se_rb, se_ew, se_eb;
    int proj_w;
    inas_bn_ref proj_bn;
    int short_w;           /* -1 when in and out can never differ */
} layer_params;

typedef struct head_params {
    int tb_w[INAS_MAX_LEVELS][INAS_MAX_LEVELS];        /* transport i, branch j != i */
    inas_bn_ref tb_bn[INAS_MAX_LEVELS][INAS_MAX_LEVELS];
    smsu_params t_smsu1[INAS_MAX_LEVELS], t_smsu2[INAS_MAX_LEVELS];
    int t_c1[INAS_MAX_LEVELS], t_c2[INAS_MAX_LEVELS];
    inas_bn_ref t_bn1[INAS_MAX_LEVELS], t_bn2[INAS_MAX_LEVELS];
    int db_w[INAS_MAX_LEVELS][INAS_MAX_LEVELS];        /* decoder i, branch j > i */
    inas_bn_ref db_bn[INAS_MAX_LEVELS][INAS_MAX_LEVELS];
    smsu_params d_smsu[INAS_MAX_LEVELS];
    int d_c[INAS_MAX_LEVELS];
    inas_bn_ref d_bn[INAS_MAX_LEVELS];
    int out_w[INAS_MAX_LEVELS];
} head_params;

struct inas_supernet {
    inas_ctx *ctx;
    inas_space space;
    inas_params ps;
    inas_tape tape;
    int stem_w;
    inas_bn_ref stem_bn;
    layer_params layers[INAS_SPACE_STAGES][INAS_MAX_DEPTH];
    head_params head;
    int out_vars[INAS_MAX_LEVELS]; /* tape vars of the last forward's outputs */
};

#endif
