/* wfmeasure.c - weighted F-measure (Margolin et al., beta = 1) as PySODMetrics
 * computes it: the exact Euclidean feature transform of the mask background
 * (scipy.ndimage.distance_transform_edt with return_indices: Maurer's
 * algorithm, one axis at a time, ties to the lower index), the error copied
 * from the nearest foreground pixel, a 7x7 Gaussian (sigma 5, MATLAB
 * fspecial) with zero padding, and the distance-based pixel importance. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_internal.h"

/* Pixel-importance values 2 - exp(log(0.5) / 5 * sqrt(d2)) are cached for
 * squared distances below this (filled on first use). */
#define WFM_LUT ((size_t)1 << 18)

void inas__wfm_ws_free(inas__wfm_ws *ws) {
    if (!ws) return;
    free(ws->fr);
    free(ws->fc);
    free(ws->e);
    free(ws->et);
    free(ws->tmp);
    free(ws->lr);
    free(ws->lc);
    free(ws->g);
    free(ws->lut);
    memset(ws, 0, sizeof *ws);
}

static int ws_reserve(inas__wfm_ws *ws, size_t n, size_t line) {
    if (n > ws->cap) {
        int *fr = realloc(ws->fr, n * sizeof *fr);
        if (fr) ws->fr = fr;
        int *fc = realloc(ws->fc, n * sizeof *fc);
        if (fc) ws->fc = fc;
        double *e = realloc(ws->e, n * sizeof *e);
        if (e) ws->e = e;
        double *et = realloc(ws->et, n * sizeof *et);
        if (et) ws->et = et;
        double *tmp = realloc(ws->tmp, n * sizeof *tmp);
        if (tmp) ws->tmp = tmp;
        if (!fr || !fc || !e || !et || !tmp) return 0;
        ws->cap = n;
    }
    if (line > ws->lcap) {
        int *lr = realloc(ws->lr, line * sizeof *lr);
        if (lr) ws->lr = lr;
        int *lc = realloc(ws->lc, line * sizeof *lc);
        if (lc) ws->lc = lc;
        int *g = realloc(ws->g, line * sizeof *g);
        if (g) ws->g = g;
        if (!lr || !lc || !g) return 0;
        ws->lcap = line;
    }
    if (!ws->lut) {
        ws->lut = malloc(WFM_LUT * sizeof *ws->lut);
        if (!ws->lut) return 0;
        for (size_t i = 0; i < WFM_LUT; i++) ws->lut[i] = -1.0;
    }
    return 1;
}

/* One line of the feature transform (scipy's _VoronoiFT for 2-D). Candidate
 * i of the `len` pixels has feature (sr[i], sc[i]), or sr[i] < 0 for none.
 * `d` is the axis along the line (0: a column, positions are rows; 1: a row),
 * `other` the fixed coordinate on the other axis. Writes each pixel's nearest
 * feature to (dr, dc), or copies the input when the line has no feature. */
static void voronoi_line(const int *sr, const int *sc, int len, int d, int other, int *g, int *dr,
                         int *dc) {
    const int *along = d == 0 ? sr : sc, *across = d == 0 ? sc : sr;
    int l = -1;
    for (int i = 0; i < len; i++) {
        if (sr[i] < 0) continue;
        int64_t fd = along[i], fo = across[i] - other;
        int64_t wr = fo * fo;
        while (l >= 1) {
            int i1 = g[l], i2 = g[l - 1];
            int64_t f1 = along[i1];
            int64_t a = f1 - along[i2], b = fd - f1, c = a + b;
            int64_t u = across[i2] - other, v = across[i1] - other;
            if (c * (v * v) - b * (u * u) - a * wr - a * b * c <= 0) break;
            --l;
        }
        g[++l] = i;
    }
    if (l < 0) {
        memcpy(dr, sr, sizeof(int) * (size_t)len);
        memcpy(dc, sc, sizeof(int) * (size_t)len);
        return;
    }
    int maxl = l;
    l = 0;
    for (int i = 0; i < len; i++) {
        int64_t t0 = along[g[l]] - i, t1 = across[g[l]] - other;
        int64_t d1 = t0 * t0 + t1 * t1;
        while (l < maxl) {
            int64_t u0 = along[g[l + 1]] - i, u1 = across[g[l + 1]] - other;
            int64_t d2 = u0 * u0 + u1 * u1;
            if (d1 <= d2) break;
            d1 = d2;
            ++l;
        }
        dr[i] = sr[g[l]];
        dc[i] = sc[g[l]];
    }
}

inas_status inas__wfmeasure(const double *pred, const unsigned char *gt, int w, int h,
                            inas__wfm_ws *ws, double *out, inas_error *err) {
    size_t n = (size_t)w * (size_t)h, nfg = 0;
    for (size_t i = 0; i < n; i++) nfg += gt[i] > 128;
    if (nfg == 0) {
        *out = 0.0;
        return INAS_OK;
    }
    size_t line = (size_t)(w > h ? w : h);
    if (!ws_reserve(ws, n, line))
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory for the weighted F-measure");
    int *fr = ws->fr, *fc = ws->fc, *lr = ws->lr, *lc = ws->lc, *g = ws->g;

    /* Feature transform, axis 0: along each column the nearest foreground
     * row, ties to the upper one (what the generic line pass gives when all
     * candidates share the column). Two sweeps over rows keep it
     * cache-friendly: down (nearest at or above) and up (nearest below). */
    for (int x = 0; x < w; x++) lr[x] = -1;
    for (int y = 0; y < h; y++) {
        const unsigned char *gr = gt + (size_t)y * w;
        int *o = fr + (size_t)y * w, *oc = fc + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            if (gr[x] > 128) lr[x] = y;
            o[x] = lr[x];
            oc[x] = x;
        }
    }
    for (int x = 0; x < w; x++) lr[x] = -1;
    for (int y = h - 1; y >= 0; y--) {
        const unsigned char *gr = gt + (size_t)y * w;
        int *o = fr + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            if (gr[x] > 128) lr[x] = y;
            int up = o[x], down = lr[x];
            if (down >= 0 && (up < 0 || down - y < y - up)) o[x] = down;
        }
    }
    /* Axis 1 (along each row). */
    for (int y = 0; y < h; y++) {
        memcpy(lr, fr + (size_t)y * w, sizeof(int) * (size_t)w);
        memcpy(lc, fc + (size_t)y * w, sizeof(int) * (size_t)w);
        voronoi_line(lr, lc, w, 1, y, g, fr + (size_t)y * w, fc + (size_t)y * w);
    }

    /* E = |p - gt|; Et = E at the nearest foreground pixel on background. */
    double *e = ws->e, *et = ws->et, *tmp = ws->tmp;
    for (size_t i = 0; i < n; i++) e[i] = fabs(pred[i] - (gt[i] > 128 ? 1.0 : 0.0));
    for (size_t i = 0; i < n; i++)
        et[i] = gt[i] > 128 ? e[i] : e[(size_t)fr[i] * w + fc[i]];

    /* fspecial('gaussian', 7, 5) is separable: k(x, y) = g(x) g(y). */
    double k1[7], ks = 0;
    for (int j = 0; j < 7; j++) {
        double t = j - 3;
        k1[j] = exp(-(t * t) / (2.0 * 5 * 5));
        ks += k1[j];
    }
    for (int j = 0; j < 7; j++) k1[j] /= ks;
    /* Horizontal pass into tmp, vertical pass back into et (zero padding). */
    for (int y = 0; y < h; y++) {
        const double *r = et + (size_t)y * w;
        double *o = tmp + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            double s = 0;
            if (x >= 3 && x + 3 < w) {
                for (int j = 0; j < 7; j++) s += k1[j] * r[x + j - 3];
            } else {
                for (int j = 0; j < 7; j++) {
                    int xx = x + j - 3;
                    if (xx >= 0 && xx < w) s += k1[j] * r[xx];
                }
            }
            o[x] = s;
        }
    }
    double *ea = et; /* et is no longer needed */
    for (int y = 0; y < h; y++) {
        double *o = ea + (size_t)y * w;
        for (int x = 0; x < w; x++) o[x] = 0;
        for (int j = 0; j < 7; j++) {
            int yy = y + j - 3;
            if (yy < 0 || yy >= h) continue;
            const double *r = tmp + (size_t)yy * w;
            double kj = k1[j];
            for (int x = 0; x < w; x++) o[x] += kj * r[x];
        }
    }

    const double lambda = log(0.5) / 5;
    inas__ksum ew_fg = {0, 0}, ew_bg = {0, 0};
    double *lut = ws->lut;
    for (int y = 0; y < h; y++) {
        double row_fg = 0, row_bg = 0;
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (gt[i] > 128) {
                row_fg += (ea[i] < e[i]) ? ea[i] : e[i];
            } else {
                long dy = fr[i] - y, dx = fc[i] - x;
                size_t d2 = (size_t)(dy * dy + dx * dx);
                double b;
                if (d2 < WFM_LUT) {
                    if (!(lut[d2] >= 0)) lut[d2] = 2 - exp(lambda * sqrt((double)d2));
                    b = lut[d2];
                } else {
                    b = 2 - exp(lambda * sqrt((double)d2));
                }
                row_bg += e[i] * b;
            }
        }
        inas__ksum_add(&ew_fg, row_fg);
        inas__ksum_add(&ew_bg, row_bg);
    }
    double sfg = inas__ksum_get(&ew_fg), sbg = inas__ksum_get(&ew_bg);
    double tpw = (double)nfg - sfg;
    double fpw = sbg;
    double r = 1 - sfg / (double)nfg;
    double p = tpw / (tpw + fpw + INAS_METRICS_EPS);
    *out = (1 + 1.0) * r * p / (r + 1.0 * p + INAS_METRICS_EPS);
    return INAS_OK;
}

inas_status inas_metric_wfmeasure(const double *pred, const unsigned char *gt, int width, int height,
                                  double *out, inas_error *err) {
    if (!pred || !gt || !out || width <= 0 || height <= 0)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_metric_wfmeasure: bad arguments");
    inas__wfm_ws ws = {0};
    inas_status st = inas__wfmeasure(pred, gt, width, height, &ws, out, err);
    inas__wfm_ws_free(&ws);
    return st;
}
