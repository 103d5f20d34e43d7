/* gradcheck.c - see gradcheck.h. */
#include "gradcheck.h"

#include <math.h>

#include "inas/util.h"
#include "testutil.h"

void tu_fd_grad(tu_scalar_fn f, void *user, double *x, size_t n, double eps, double *grad) {
    for (size_t i = 0; i < n; i++) {
        double keep = x[i];
        x[i] = keep + eps;
        double fp = f(x, n, user);
        x[i] = keep - eps;
        double fm = f(x, n, user);
        x[i] = keep;
        grad[i] = (fp - fm) / (2 * eps);
    }
}

double tu_close_ratio(const float *got, const double *want, size_t n, double atol, double rtol, size_t *worst) {
    double r = 0;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        double tol = atol + rtol * fabs(want[i]);
        double e = fabs((double)got[i] - want[i]) / tol;
        if (!(e <= r)) { /* also catches NaN */
            r = isnan(e) ? INFINITY : e;
            w = i;
        }
    }
    if (worst) *worst = w;
    return r;
}

void tu_assert_close(const float *got, const double *want, size_t n, double atol, double rtol, const char *what) {
    size_t w = 0;
    double r = tu_close_ratio(got, want, n, atol, rtol, &w);
    cr_assert(r <= 1.0, "%s: element %zu is %.9g, expected %.9g (atol %g, rtol %g; %zu elements)", what, w,
              n ? (double)got[w] : 0.0, n ? want[w] : 0.0, atol, rtol, n);
}

void tu_rand_floats(float *v, size_t n, uint64_t seed, float lo, float hi) {
    inas_rng r;
    inas_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * inas_rng_float(&r);
}

void tu_to_double(const float *src, double *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
}
