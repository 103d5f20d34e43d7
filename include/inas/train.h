/* inas/train.h - training the supernet with the sandwich rule and in-place
 * distillation (DESIGN.md section 4), checkpoints, and BN recalibration.
 *
 * Each step samples the largest, the smallest and two random architectures.
 * The largest learns from the masks: BCE on output 0 + 0.4 x BCE on the other
 * outputs; the other three learn from the largest's detached output 0: MSE on
 * every output (0.4 on all but output 0). The four backward passes accumulate
 * into the same gradients, then one Adam step (betas 0.9/0.99, head learning
 * rate x10, no weight decay) with a linear warm-up and a poly decay (power
 * 0.9) of the learning rate.
 *
 * A checkpoint is a safetensors file: every parameter under its PyTorch-style
 * name, the Adam moments as "optimizer.exp_avg.NAME" / "optimizer.exp_avg_sq.
 * NAME", and metadata "inas.*" (format version, space YAML, step, Adam step,
 * the trainer's RNG and the data loader's position), written atomically.
 * Resuming from it continues the exact same run. */
#ifndef INAS_TRAIN_H
#define INAS_TRAIN_H

#include <stdio.h>

#include "inas/arch.h"
#include "inas/dataset.h"
#include "inas/space.h"
#include "inas/supernet.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INAS_CKPT_FORMAT_VERSION 1

typedef struct inas_train_config {
    const char *images, *masks; /* dataset directories (paired by stem) */
    long steps;                 /* length of the schedule (sandwich steps) */
    int batch;                  /* images per batch (default 8) */
    int sizes[16];              /* input sizes drawn per batch; nsizes 0: the space's train resolutions */
    int nsizes;
    double lr;                  /* backbone learning rate (default 2e-4) */
    double head_lr_mult;        /* head learning rate = lr x this (default 10) */
    long warmup;                /* linear warm-up steps (default: steps / 20) */
    double power;               /* poly decay power (default 0.9) */
    double beta1, beta2;        /* Adam (default 0.9, 0.99) */
    int flip;                   /* random horizontal flips (default 1) */
    uint64_t seed;              /* weights, sampling and data order */
} inas_train_config;

/* Fills the defaults above (steps 1000, seed 0). */
void inas_train_config_defaults(inas_train_config *cfg);

/* Losses of one sandwich step (weighted sums over the outputs). */
typedef struct inas_step_losses {
    long step;            /* 1-based number of the step just done */
    double lr;            /* backbone learning rate used */
    double loss[4];       /* largest, smallest, random 1, random 2 */
    int size;             /* input size of the batch */
} inas_step_losses;

typedef struct inas_trainer inas_trainer;

/* A fresh run: supernet initialised from cfg->seed over `space`. */
inas_status inas_trainer_create(inas_ctx *ctx, const inas_space *space, const inas_train_config *cfg,
                                void (*on_skip)(void *user, const char *path, const char *message), void *user,
                                inas_trainer **out, inas_error *err);
/* Continues the run saved in `checkpoint` (its space, weights, optimizer,
 * step, RNG and data position); cfg gives the dataset and may lengthen the
 * schedule (cfg->steps); other settings come from the checkpoint. */
inas_status inas_trainer_resume(inas_ctx *ctx, const char *checkpoint, const inas_train_config *cfg,
                                void (*on_skip)(void *user, const char *path, const char *message), void *user,
                                inas_trainer **out, inas_error *err);
void inas_trainer_destroy(inas_trainer *tr);

/* One sandwich step. A NaN or infinite loss fails with INAS_ERR_FORMAT and
 * leaves the weights as they were before the step's Adam update. */
inas_status inas_trainer_step(inas_trainer *tr, inas_step_losses *out, inas_error *err);
/* Steps done so far (a resumed run counts the checkpoint's steps). */
long inas_trainer_step_count(const inas_trainer *tr);
const inas_train_config *inas_trainer_config(const inas_trainer *tr);
inas_supernet *inas_trainer_supernet(inas_trainer *tr);
size_t inas_trainer_skipped(const inas_trainer *tr);
/* Writes a checkpoint atomically. */
inas_status inas_trainer_save(inas_trainer *tr, const char *path, inas_error *err);

/* ---- checkpoints without a trainer -------------------------------------------------- */

/* Loads a checkpoint's space and weights into a new supernet on ctx. */
inas_status inas_checkpoint_load(inas_ctx *ctx, const char *path, inas_supernet **out, inas_error *err);
/* Saves the supernet's weights (no optimizer state) with extra metadata
 * pairs (keys, values; n of them). */
inas_status inas_checkpoint_save(inas_supernet *net, const char *path, const char *const *keys,
                                 const char *const *values, size_t n, inas_error *err);

/* ---- BN recalibration --------------------------------------------------------------- */

/* Recalibrates the BN statistics that `arch` uses: `batches` training-mode
 * forwards at arch->resolution on batches from the loader-ordered pairs, with
 * momentum 1 averaging (DESIGN.md section 4). Only the slices arch touches
 * change. */
inas_status inas_recalibrate(inas_supernet *net, const inas_arch *arch, const inas_pair_list *pairs, int batch,
                             int batches, uint64_t seed, inas_error *err);

#ifdef __cplusplus
}
#endif

#endif
