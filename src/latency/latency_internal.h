/* latency_internal.h - helpers shared by src/latency (probe and validation);
 * not installed. */
#ifndef INAS_LATENCY_INTERNAL_H
#define INAS_LATENCY_INTERNAL_H

#include "inas/lut.h"

/* Times fn (which enqueues device work; NULL: nothing) followed by a queue
 * finish with the protocol's warm-up, runs and statistic; *spread is the
 * median absolute deviation of the timed runs. */
inas_status inas_lut_time_fn(inas_ctx *ctx, inas_status (*fn)(void *), void *user, const inas_target_probe *pr,
                             double *ms, double *spread);
/* Creates the parent directory of path when missing (one level). */
void lat_make_parent(const char *path);

#endif
