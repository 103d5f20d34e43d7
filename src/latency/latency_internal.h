/* latency_internal.h - helpers shared by src/latency (probe and validation);
 * not installed. */
#ifndef INAS_LATENCY_INTERNAL_H
#define INAS_LATENCY_INTERNAL_H

#include "inas/lut.h"

/* Times fn (which enqueues device work; NULL: nothing) with the protocol's
 * warm-up (one call + finish each), runs and statistic. A timed run is
 * `inner` calls back to back and one queue finish, divided by inner (inner
 * <= 0: chosen so that a run lasts about 2 ms, at most 64 calls); *spread is
 * the median absolute deviation of the timed runs. */
inas_status inas_lut_time_fn(inas_ctx *ctx, inas_status (*fn)(void *), void *user, const inas_target_probe *pr,
                             int inner, double *ms, double *spread);
/* Summary of n samples (sorted in place): the statistic and the median
 * absolute deviation. */
void lat_summarise(double *v, int n, inas_statistic stat, double *value, double *spread);
/* Creates the parent directory of path when missing (one level). */
void lat_make_parent(const char *path);
/* The protocol line of a LUT header ("resolution=R batch=B warmup=W runs=N
 * statistic=S", then " precision=P" unless fp32): a LUT is resumed only with
 * the same line. */
void lat_settings_text(const inas_target_probe *pr, inas_precision precision, char *buf, size_t len);
/* Starts the table a probe of target t over `space` writes to `path`: with
 * `resume` and an existing file, that file's entries (refused with
 * INAS_ERR_INVALID_ARG, naming what differs, when it was probed for another
 * space, protocol or precision), else empty; then the header's target,
 * settings, space hash and date are set. *lut must be initialised. */
inas_status lat_lut_start(const char *path, const inas_space *space, const inas_target *t, int resume, inas_lut *lut,
                          inas_error *err);

#endif
