/* inas/search.h - latency-group-sampling (LGS) evolutionary search over the
 * integral space (Algorithm 1 of iNAS, DESIGN.md section 6), with layer-wise
 * uniform sampling and random search as baselines.
 *
 * The search only needs two functions: the latency of an architecture
 * (normally predicted from a device's lookup table) and its quality (normally
 * max F-measure of the supernet after BN recalibration, or the cheap proxy
 * below). It splits [LAT_min, LAT_max] - the smallest and largest
 * architectures' latency - into G groups; the initial population has N/G
 * members per group, drawn unit by unit (stem, stages, head levels) by
 * rejection so that each partial architecture can still land in its group
 * (the group is widened after repeated failures so every group is reached).
 * Each iteration picks k parents from successive Pareto fronts (latency down,
 * quality up) with a quota of k/G per group, makes children by crossover
 * (whole units swapped with probability p_c) and mutation (each choice
 * re-sampled with probability p_m), evaluates them (cached by architecture)
 * and merges them into the population. */
#ifndef INAS_SEARCH_H
#define INAS_SEARCH_H

#include <stdio.h>

#include "inas/arch.h"
#include "inas/space.h"
#include "inas/util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct inas_quality {
    double max_f; /* the search's objective */
    double mae;
    double s_measure;
} inas_quality;

/* Latency in ms of an architecture (must be deterministic). */
typedef double (*inas_latency_fn)(void *user, const inas_arch *arch);
/* Quality of an architecture; a failure stops the search with that status. */
typedef inas_status (*inas_quality_fn)(void *user, const inas_arch *arch, inas_quality *out, inas_error *err);

/* The documented cheap quality proxy (tests and quick runs): a saturating
 * function of the architecture's capacity, q = 1 - exp(-C / C0) with
 * C = sum over layers of width * |kernels| * (1 + largest kernel / 9) plus the
 * head's widths times their fused levels and kernels, C0 = the smallest
 * architecture's C times 4, plus a deterministic +-0.01 term from the
 * architecture's hash (so equal-capacity architectures differ). MAE and
 * S-measure are derived from it (1 - q)/5 and (1 + q)/2. */
inas_status inas_quality_proxy(void *space, const inas_arch *arch, inas_quality *out, inas_error *err);

typedef enum inas_sampler { INAS_SAMPLER_LGS = 0, INAS_SAMPLER_UNIFORM } inas_sampler;
typedef enum inas_strategy { INAS_STRATEGY_EVOLUTION = 0, INAS_STRATEGY_RANDOM } inas_strategy;

typedef struct inas_search_config {
    int population;   /* N (1000) */
    int groups;       /* G (10) */
    int parents;      /* k (100) */
    int iterations;   /* (20) */
    double p_crossover, p_mutation; /* (0.2, 0.2) */
    inas_sampler sampler;
    inas_strategy strategy;
    int max_rejects;  /* tries per unit before a group is widened (50) */
    uint64_t seed;
} inas_search_config;

void inas_search_config_defaults(inas_search_config *cfg);

typedef struct inas_candidate {
    inas_arch arch;
    double latency;
    inas_quality q;
    int group;     /* latency group, 0..G-1 */
    int iteration; /* 0: initial population */
    int front;     /* Pareto front rank (0 = the front) after the last sort */
} inas_candidate;

typedef struct inas_search inas_search;

inas_status inas_search_create(const inas_space *space, const inas_search_config *cfg, inas_latency_fn lat,
                               void *lat_user, inas_quality_fn qual, void *qual_user, inas_search **out,
                               inas_error *err);
void inas_search_destroy(inas_search *s);

/* Evaluations already known (from a previous run's candidates file): they are
 * used instead of calling the quality function again. */
inas_status inas_search_preload(inas_search *s, const inas_candidate *c, size_t n, inas_error *err);

/* Runs the whole search. progress (may be NULL) is called after each
 * evaluation with (evaluations so far, iteration). */
inas_status inas_search_run(inas_search *s, void (*progress)(void *user, size_t evals, int iteration), void *user,
                            inas_error *err);

/* The latency range and group bounds. */
void inas_search_range(const inas_search *s, double *lat_min, double *lat_max);
int inas_search_group_of(const inas_search *s, double latency);

/* Every evaluated candidate (in evaluation order) and the Pareto front (sorted
 * by latency). Valid until the search is destroyed. */
const inas_candidate *inas_search_candidates(const inas_search *s, size_t *n);
size_t inas_search_front(const inas_search *s, const inas_candidate **front, size_t cap);
/* The best quality with latency <= budget_ms, NULL when none. */
const inas_candidate *inas_search_best_under(const inas_search *s, double budget_ms);
/* How many quality evaluations were run (cache hits excluded). */
size_t inas_search_evaluations(const inas_search *s);

/* Non-dominated sorting of n (latency, quality) points: rank[i] = front index
 * (0 = not dominated). Ties: equal points share a front. */
void inas_pareto_rank(const double *latency, const double *quality, size_t n, int *rank);

/* Samples one architecture whose latency lies in [lo, hi] by unit-wise
 * rejection (LGS); returns 1 on success (0: the closest found is returned). */
int inas_search_sample_in(const inas_search *s, double lo, double hi, inas_rng *rng, inas_arch *out);

/* ---- quality from the supernet ----------------------------------------------------- */

/* Evaluates architectures on a supernet (DESIGN.md section 6): BN
 * recalibration over `calib_batches` batches of `batch` images from `calib`,
 * then max F-measure, MAE and S-measure of output 0 on every pair of `val`
 * at `resolution` (validation images are decoded once, at creation). */
typedef struct inas_evaluator inas_evaluator;
struct inas_supernet;
struct inas_pair_list;
inas_status inas_evaluator_create(struct inas_supernet *net, const struct inas_pair_list *calib,
                                  const struct inas_pair_list *val, int resolution, int calib_batches, int batch,
                                  uint64_t seed, inas_evaluator **out, inas_error *err);
void inas_evaluator_destroy(inas_evaluator *e);
/* An inas_quality_fn: pass the evaluator as the user pointer. */
inas_status inas_evaluator_quality(void *evaluator, const inas_arch *arch, inas_quality *out, inas_error *err);

/* ---- files ------------------------------------------------------------------------- */

/* candidates.yaml / pareto.yaml: a YAML list of {arch: compact, latency_ms,
 * max_f, mae, s_measure, group, iteration}; written atomically. */
inas_status inas_candidates_write(const char *path, const inas_candidate *c, size_t n, inas_error *err);
/* Reads a candidates file (for --resume); *out is malloc'd. */
inas_status inas_candidates_read(const char *path, const inas_space *space, inas_candidate **out, size_t *n,
                                 inas_error *err);
/* An SVG scatter of latency vs max-F: every candidate grey, the front in a line. */
inas_status inas_search_write_svg(const char *path, const inas_search *s, inas_error *err);

/* Coverage: the share of [lat_min, lat_max] split into `bins` equal bins that
 * receive at least one of the samples' latencies; hist (may be NULL) gets the
 * per-bin counts. */
double inas_latency_coverage(const double *lat, size_t n, double lat_min, double lat_max, int bins, int *hist);

#ifdef __cplusplus
}
#endif

#endif
