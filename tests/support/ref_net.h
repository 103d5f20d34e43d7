/* ref_net.h - a plain-C, double-precision reference of the whole supernet
 * forward (DESIGN.md section 3), written independently of src/nn from the
 * module semantics, on parameters copied from a device supernet. Used by
 * tests/test_supernet.c for forward equality and finite-difference checks. */
#ifndef INAS_TEST_REF_NET_H
#define INAS_TEST_REF_NET_H

#include <stddef.h>

#include "inas/supernet.h"

typedef struct ref_net ref_net;

/* Copies every parameter of the device supernet (values) into host doubles. */
ref_net *ref_net_load(inas_supernet *net);
void ref_net_free(ref_net *r);
/* Pointer to the host copy of a parameter (NULL when there is none). */
double *ref_net_param(ref_net *r, const char *name, size_t *numel);

/* Forward of arch on x [n, 3, R, R]; out receives num_levels maps of n*R*R
 * doubles (level i at out + i*n*R*R). train: BN with batch statistics, else
 * running statistics. */
void ref_net_forward(ref_net *r, const inas_arch *arch, const double *x, int n, int R, int train, double *out);

/* Random weights and statistics in every parameter of a device supernet
 * (the default init zeroes the last BN of every MBConv, which would hide most
 * of the network): running_var in [0.5, 1.5), running_mean in [-0.2, 0.2),
 * BN gamma in [0.6, 1.4), biases in [-0.2, 0.2), transforms identity +- 0.1,
 * conv weights scaled by 1.5 plus a little noise. Deterministic in seed. */
void ref_net_randomize(inas_supernet *net, uint64_t seed);

#endif
