/* inas/arch.h - architectures of the integral search space: one sub-network.
 *
 * An inas_arch is a plain value (no heap memory, copy freely) holding every
 * choice: the input resolution, the stem width, per stage its depth and per
 * layer its width and SMSU kernel subset, per head level the transport inputs
 * and kernels and the decoder's extra deeper inputs and kernels. Layers at or
 * beyond a stage's depth do not matter: inas_arch_canonicalize zeroes them and
 * inas_arch_equal / inas_arch_hash ignore them.
 *
 * Indices are 0-based in the API (stage 0 is DESIGN's "stage 1"); the YAML and
 * compact forms number stages 1..7 as the design table does, and levels 0..L-1.
 *
 * YAML form (a `# compact` comment line is written on top and ignored on read):
 *
 *   resolution: 320
 *   stem: 40
 *   stages:
 *     - depth: 2                      # optional; must equal the number of layers
 *       layers:
 *         - {width: 24, kernels: [3]}
 *         - {width: 24, kernels: [3]}
 *     - ...                           # one entry per stage
 *   transport:                        # one entry per level i
 *     - {levels: [0, 1, 2, 3, 4], kernels: [3, 5, 7, 9]}   # fused levels, must contain i
 *   decoder:                          # one entry per level i
 *     - {extra: [2, 3, 4], kernels: [3, 5, 7, 9]}          # levels > i+1 fused besides i, i+1
 *
 * `levels` and `extra` are a list of levels or an integer bit mask. A document
 * whose root is a string is read as the compact form.
 *
 * Compact one-line form (inas_arch_format_compact / inas_arch_parse_compact):
 *
 *   compact := "r" RES " s" STEM { " | " stage } { " | " tport } { " | " dec }
 *   stage   := N ":" layer { " " layer }         N = 1..7 in order; depth = #layers
 *   layer   := WIDTH "k" klist                   e.g. 40k3,5,9
 *   klist   := K { "," K }                       increasing kernel sizes
 *   tport   := "t" I ":" J { "+" J } " k" klist  fused levels J (contain I), increasing
 *   dec     := "d" I ":" [ "+" J { "+" J } " " ] "k" klist   extra levels J > I+1
 *
 *   r320 s40 | 1:24k3 24k3 | 2:32k3 32k3 32k3 | ... | t0:0+1+2+3+4 k3,5,7,9 | ...
 *   | d0:+2+3+4 k3,5,7,9 | ... | d4:k3,5,7,9
 *
 * Every stage, transport level and decoder level appears once, in order. The
 * printed form is canonical (print -> parse -> print is the identity); parsing
 * tolerates extra blanks around "|". */
#ifndef INAS_ARCH_H
#define INAS_ARCH_H

#include <stdint.h>
#include <stdio.h>

#include "inas/space.h"
#include "inas/util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct inas_arch_layer {
    int width;         /* output channels */
    inas_kset kernels; /* SMSU kernel subset (non-empty subset of the stage's set) */
} inas_arch_layer;

typedef struct inas_arch_stage {
    int depth;
    inas_arch_layer layers[INAS_MAX_DEPTH]; /* layers[0..depth-1] are used */
} inas_arch_stage;

typedef struct inas_arch {
    int resolution; /* input size (square) */
    int stem_width;
    inas_arch_stage stages[INAS_SPACE_STAGES];
    int num_levels;
    uint32_t transport_levels[INAS_MAX_LEVELS]; /* bit j: level j fused into transport i (bit i set) */
    inas_kset transport_kernels[INAS_MAX_LEVELS];
    uint32_t decoder_extra[INAS_MAX_LEVELS];    /* bit j (j > i+1): deeper level j fused into decoder i */
    inas_kset decoder_kernels[INAS_MAX_LEVELS];
} inas_arch;

/* ---- validity, identity ---------------------------------------------------------------------- */

/* Checks the architecture against the space; the message names the part,
 * e.g. "stage 3 layer 2: width 42 is not one of 40..48 step 4". */
inas_status inas_arch_validate(const inas_arch *arch, const inas_space *space, inas_error *err);
/* Zeroes the layers beyond each stage's depth (and unused levels). */
void inas_arch_canonicalize(inas_arch *arch);
/* Equality of the choices that matter (layers beyond depth ignored). */
int inas_arch_equal(const inas_arch *a, const inas_arch *b);
/* 64-bit hash consistent with inas_arch_equal (FNV-1a over the canonical choices). */
uint64_t inas_arch_hash(const inas_arch *arch);

/* ---- channels and strides, for building the network ---------------------------------------------- */

/* Input channels of layer `layer` of stage `stage` (the previous layer's width,
 * the previous stage's last width, or the stem width). */
int inas_arch_layer_in(const inas_arch *arch, int stage, int layer);
/* Output channels of a layer (its width). */
int inas_arch_layer_out(const inas_arch *arch, int stage, int layer);
/* Expanded (hidden) channels of a layer: expand ratio * input channels. */
int inas_arch_layer_mid(const inas_arch *arch, const inas_space *space, int stage, int layer);
/* Output width of a stage (its last layer's width). */
int inas_arch_stage_width(const inas_arch *arch, int stage);
/* Width of head level i (the last layer width of its stage). */
int inas_arch_level_width(const inas_arch *arch, const inas_space *space, int level);
/* All levels fused by decoder level i: i, i+1 (i < L-1) and the extras. */
uint32_t inas_arch_decoder_levels(const inas_arch *arch, int level);

/* ---- text forms -------------------------------------------------------------------------------------- */

/* The compact line into buf (NUL-terminated, truncated if too small; 4096 is
 * always enough for the default space). Returns the length it needs (without
 * the NUL), like snprintf. */
size_t inas_arch_format_compact(const inas_arch *arch, char *buf, size_t len);
/* Parses the compact line (structure only: validate against a space after). */
inas_status inas_arch_parse_compact(const char *text, inas_arch *arch, inas_error *err);
/* Writes the YAML form; every line is prefixed by `indent` spaces (to embed it
 * under a key of another document). `comment` adds the "# compact" line. */
void inas_arch_write_yaml(const inas_arch *arch, FILE *f, int indent, int comment);
/* Parses a YAML document (mapping form, or a string in compact form). `name`
 * prefixes error messages ("NAME:LINE:COL: stages[2].layers[0].width: ...").
 * Structure only: validate against a space after. */
inas_status inas_arch_parse_yaml(const char *text, size_t len, const char *name, inas_arch *arch,
                                 inas_error *err);
/* Reads a file (YAML or compact), parses it and, when space is not NULL,
 * validates against it (the message is prefixed by the path). */
inas_status inas_arch_load(const char *path, const inas_space *space, inas_arch *arch, inas_error *err);
/* Writes the YAML form to path atomically. */
inas_status inas_arch_save(const char *path, const inas_arch *arch, inas_error *err);

/* ---- sampling ---------------------------------------------------------------------------------------------
 *
 * Every sampler writes a valid, canonical architecture at the space's eval
 * resolution. Uniform means each choice uniform on its own: depth uniform in
 * [min, max], each width uniform among its step values, each kernel subset
 * uniform among the 2^K - 1 non-empty subsets, each link subset uniform. */

typedef enum inas_sample_mode {
    INAS_SAMPLE_MAX,    /* max widths and depths, all kernels, all connections */
    INAS_SAMPLE_MIN,    /* min widths and depths, the single smallest kernel, mandatory links only */
    INAS_SAMPLE_RANDOM  /* uniform (needs an rng) */
} inas_sample_mode;

void inas_arch_sample_max(const inas_space *space, inas_arch *arch);
void inas_arch_sample_min(const inas_space *space, inas_arch *arch);
void inas_arch_sample_random(const inas_space *space, inas_rng *rng, inas_arch *arch);

/* Units: the independent parts of an architecture, for layer-wise (LGS
 * rejection) sampling and crossover. Unit 0 is the stem, units 1..7 the stages,
 * units 8..8+L-1 the head levels (transport i and decoder i together). */
int inas_arch_num_units(const inas_space *space);
/* "stem", "stage 3", "level 0" into buf; returns buf. */
char *inas_arch_unit_name(const inas_space *space, int unit, char *buf, size_t len);
/* Sets one unit of arch (the rest is kept) by mode; rng only for RANDOM. arch
 * must have its resolution and num_levels set (any sampler does that). */
void inas_arch_sample_unit(const inas_space *space, int unit, inas_sample_mode mode, inas_rng *rng,
                           inas_arch *arch);
/* Sets one stage (0-based) given the rest, same as the unit 1+stage. */
void inas_arch_sample_stage(const inas_space *space, int stage, inas_sample_mode mode, inas_rng *rng,
                            inas_arch *arch);
/* Copies one unit from src into dst. */
void inas_arch_copy_unit(const inas_space *space, int unit, const inas_arch *src, inas_arch *dst);

/* Crossover: child_a starts as a, child_b as b; each unit is swapped between
 * them with probability p_c. Either child may be NULL. Valid parents give
 * valid children; p_c = 0 gives the parents back. */
void inas_arch_crossover(const inas_space *space, const inas_arch *a, const inas_arch *b, double p_c,
                         inas_rng *rng, inas_arch *child_a, inas_arch *child_b);
/* Mutation: each choice (stem width; per stage the depth; per layer the width
 * and the kernel subset; per level the transport link subset and kernels and
 * the decoder extras and kernels) is re-sampled uniformly with probability p_m.
 * Layers added by a deeper depth are sampled uniformly. out may equal parent. */
void inas_arch_mutate(const inas_space *space, const inas_arch *parent, double p_m, inas_rng *rng,
                      inas_arch *out);

#ifdef __cplusplus
}
#endif

#endif
