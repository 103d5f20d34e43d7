/* gradcheck.h - numeric checks shared by the op tests: comparing device
 * results with double-precision references, and central finite differences. */
#ifndef INAS_TEST_GRADCHECK_H
#define INAS_TEST_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

/* A scalar function of n doubles (typically sum(out(x) * weights) computed by
 * a plain-C reference in double). */
typedef double (*tu_scalar_fn)(const double *x, size_t n, void *user);

/* Central differences: grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / 2eps for
 * every i (x is restored). */
void tu_fd_grad(tu_scalar_fn f, void *user, double *x, size_t n, double eps, double *grad);

/* Largest violation of |got - want| <= atol + rtol * |want| over n values;
 * <= 1 means all close. *worst gets the index of the worst element. */
double tu_close_ratio(const float *got, const double *want, size_t n, double atol, double rtol, size_t *worst);

/* Asserts (Criterion) that got is close to want, naming `what` and the worst
 * element on failure. */
void tu_assert_close(const float *got, const double *want, size_t n, double atol, double rtol, const char *what);

/* Deterministic random arrays in [lo, hi). */
void tu_rand_floats(float *v, size_t n, uint64_t seed, float lo, float hi);
void tu_to_double(const float *src, double *dst, size_t n);

#endif
