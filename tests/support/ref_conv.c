/* ref_conv.c - see ref_conv.h: direct loops in double. */
#include "ref_conv.h"

#include "ref_elem.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

int ref_conv_ho(const ref_conv_shape *s) { return (s->h + 2 * s->pad - s->k) / s->stride + 1; }
int ref_conv_wo(const ref_conv_shape *s) { return (s->w + 2 * s->pad - s->k) / s->stride + 1; }

/* Calls fn for every (n, co, oy, ox, ci, ky, kx) tap that lands inside x. */
#define REF_CONV_LOOP(s, BODY)                                                                     \
    do {                                                                                           \
        const int ho_ = ref_conv_ho(s), wo_ = ref_conv_wo(s);                                      \
        for (int n = 0; n < (s)->n; n++)                                                           \
            for (int co = 0; co < (s)->co; co++)                                                   \
                for (int oy = 0; oy < ho_; oy++)                                                   \
                    for (int ox = 0; ox < wo_; ox++)                                               \
                        for (int ci = 0; ci < (s)->ci; ci++)                                       \
                            for (int ky = 0; ky < (s)->k; ky++)                                    \
                                for (int kx = 0; kx < (s)->k; kx++) {                              \
                                    const int iy = oy * (s)->stride - (s)->pad + ky;               \
                                    const int ix = ox * (s)->stride - (s)->pad + kx;               \
                                    if (iy < 0 || iy >= (s)->h || ix < 0 || ix >= (s)->w) continue; \
                                    const size_t xi = (((size_t)n * (s)->ci + ci) * (s)->h + iy) * (s)->w + ix; \
                                    const size_t wi = (((size_t)co * (s)->ci + ci) * (s)->k + ky) * (s)->k + kx; \
                                    const size_t yi = (((size_t)n * (s)->co + co) * ho_ + oy) * wo_ + ox; \
                                    BODY;                                                          \
                                }                                                                  \
    } while (0)

void ref_conv_fwd(const ref_conv_shape *s, const double *x, const double *w, const double *bias, int act, double *y) {
    const size_t ny = (size_t)s->n * s->co * ref_conv_ho(s) * ref_conv_wo(s);
    for (size_t i = 0; i < ny; i++) y[i] = 0;
    REF_CONV_LOOP(s, y[yi] += w[wi] * x[xi]);
    const size_t hw = (size_t)ref_conv_ho(s) * ref_conv_wo(s);
    for (size_t i = 0; i < ny; i++) {
        const int co = (int)((i / hw) % (size_t)s->co);
        y[i] = ref_act(act, y[i] + (bias ? bias[co] : 0));
    }
}

void ref_conv_fwd_partial_rms(const ref_conv_shape *s, const double *x, const double *w, double *r) {
    const size_t ny = (size_t)s->n * s->co * ref_conv_ho(s) * ref_conv_wo(s);
    double *sum = calloc(ny, sizeof *sum);
    for (size_t i = 0; i < ny; i++) r[i] = 0;
    REF_CONV_LOOP(s, {
        const double p = w[wi] * x[xi];
        sum[yi] += p;
        r[yi] += sum[yi] * sum[yi] + p * p;
    });
    for (size_t i = 0; i < ny; i++) r[i] = sqrt(r[i]);
    free(sum);
}

void ref_conv_bwd_data(const ref_conv_shape *s, const double *dy, const double *w, double *dx) {
    const size_t nx = (size_t)s->n * s->ci * s->h * s->w;
    for (size_t i = 0; i < nx; i++) dx[i] = 0;
    REF_CONV_LOOP(s, dx[xi] += w[wi] * dy[yi]);
}

void ref_conv_bwd_weight(const ref_conv_shape *s, const double *x, const double *dy, double *dw) {
    const size_t nw = (size_t)s->co * s->ci * s->k * s->k;
    for (size_t i = 0; i < nw; i++) dw[i] = 0;
    REF_CONV_LOOP(s, dw[wi] += x[xi] * dy[yi]);
}
