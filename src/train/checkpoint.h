/* checkpoint.h - internal helpers shared by the trainer and the checkpoint
 * API: writing a supernet (optionally with Adam moments) plus metadata, and
 * reading a checkpoint's space. */
#ifndef INAS_TRAIN_CHECKPOINT_H
#define INAS_TRAIN_CHECKPOINT_H

#include "inas/safetensors.h"
#include "inas/train.h"
#include "nn/supernet_internal.h"

/* Writes net's parameters (and moments when with_optimizer) and the metadata
 * pairs plus inas.format_version, inas.space and inas.adam_step. */
inas_status ckpt_write(inas_supernet *net, const char *path, int with_optimizer, const char *const *keys,
                       const char *const *values, size_t n, inas_error *err);
/* Opens a checkpoint, checks its format version and parses its space. */
inas_status ckpt_open(const char *path, inas_st_file **f, inas_space *space, inas_error *err);
/* A numeric metadata value; INAS_ERR_FORMAT naming the key when absent or malformed. */
inas_status ckpt_meta_long(const inas_st_file *f, const char *path, const char *key, long *out, inas_error *err);

#endif
