/* ref_elem.c - see ref_elem.h. */
#include "ref_elem.h"

#include <math.h>
#include <string.h>

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

double ref_act(int act, double x) {
    switch (act) {
    case 1: return x > 0 ? x : 0;
    case 2: return x < 0 ? 0 : x > 6 ? 6 : x;
    case 3: return x * sigm(x);
    case 4: return sigm(x);
    case 5: {
        double t = x + 3;
        t = t < 0 ? 0 : t > 6 ? 6 : t;
        return t / 6;
    }
    default: return x;
    }
}

double ref_act_grad(int act, double x) {
    switch (act) {
    case 1: return x > 0 ? 1 : 0;
    case 2: return x > 0 && x < 6 ? 1 : 0;
    case 3: {
        double s = sigm(x);
        return s * (1 + x * (1 - s));
    }
    case 4: return sigm(x) * (1 - sigm(x));
    case 5: return x > -3 && x < 3 ? 1.0 / 6 : 0;
    default: return 1;
    }
}

static int pool_argmax(int k, int w, const double *plane, int oh, int ow) {
    int best = (oh * k) * w + ow * k;
    for (int r = 0; r < k; r++)
        for (int q = 0; q < k; q++) {
            int at = (oh * k + r) * w + ow * k + q;
            if (plane[at] > plane[best] || isnan(plane[at])) best = at;
        }
    return best;
}

void ref_maxpool_fwd(int k, int n, int c, int h, int w, const double *x, double *y) {
    int ho = h / k, wo = w / k;
    for (int p = 0; p < n * c; p++)
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++) {
                const double *pl = x + (size_t)p * h * w;
                y[((size_t)p * ho + oh) * wo + ow] = pl[pool_argmax(k, w, pl, oh, ow)];
            }
}

void ref_maxpool_bwd(int k, int n, int c, int h, int w, const double *x, const double *dy, double *dx) {
    int ho = h / k, wo = w / k;
    memset(dx, 0, sizeof(double) * (size_t)n * c * h * w);
    for (int p = 0; p < n * c; p++)
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++) {
                const double *pl = x + (size_t)p * h * w;
                dx[(size_t)p * h * w + pool_argmax(k, w, pl, oh, ow)] += dy[((size_t)p * ho + oh) * wo + ow];
            }
}

void ref_avgpool2_fwd(int ceil_mode, int n, int c, int h, int w, const double *x, double *y) {
    int ho = ceil_mode ? (h + 1) / 2 : h / 2, wo = ceil_mode ? (w + 1) / 2 : w / 2;
    for (int p = 0; p < n * c; p++)
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++) {
                double s = 0;
                int cnt = 0;
                for (int r = 2 * oh; r < 2 * oh + 2 && r < h; r++)
                    for (int q = 2 * ow; q < 2 * ow + 2 && q < w; q++, cnt++) s += x[((size_t)p * h + r) * w + q];
                y[((size_t)p * ho + oh) * wo + ow] = s / cnt;
            }
}

void ref_avgpool2_bwd(int ceil_mode, int n, int c, int h, int w, const double *dy, double *dx) {
    int ho = ceil_mode ? (h + 1) / 2 : h / 2, wo = ceil_mode ? (w + 1) / 2 : w / 2;
    memset(dx, 0, sizeof(double) * (size_t)n * c * h * w);
    for (int p = 0; p < n * c; p++)
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++) {
                int rh = 2 * oh + 2 <= h ? 2 : 1, rw = 2 * ow + 2 <= w ? 2 : 1;
                double g = dy[((size_t)p * ho + oh) * wo + ow] / (rh * rw);
                for (int r = 2 * oh; r < 2 * oh + rh; r++)
                    for (int q = 2 * ow; q < 2 * ow + rw; q++) dx[((size_t)p * h + r) * w + q] += g;
            }
}

/* One axis of the resize: i0, i1 and the weight of i1. */
static void axis(int mode, int align, int in, int out, int o, int *i0, int *i1, double *l1) {
    if (mode == 1) { /* PyTorch nearest_idx, in float */
        int i;
        if (out == in) i = o;
        else if (out == 2 * in) i = o >> 1;
        else {
            float scale = (float)in / (float)out;
            i = (int)floorf((float)o * scale);
            if (i > in - 1) i = in - 1;
        }
        *i0 = *i1 = i;
        *l1 = 0;
        return;
    }
    if (in == out) {
        *i0 = *i1 = o;
        *l1 = 0;
        return;
    }
    double src;
    if (align) {
        double scale = out > 1 ? (double)(float)((float)(in - 1) / (float)(out - 1)) : 0.0;
        src = scale * o;
    } else {
        double scale = (double)(float)((float)in / (float)out);
        src = scale * (o + 0.5) - 0.5;
        if (src < 0) src = 0;
    }
    *i0 = (int)src;
    *i1 = *i0 + (*i0 < in - 1 ? 1 : 0);
    *l1 = src - *i0;
    if (*l1 > 1) *l1 = 1;
}

void ref_resize_fwd(int mode, int align, int n, int c, int h, int w, int ho, int wo, const double *x, double *y) {
    for (int p = 0; p < n * c; p++)
        for (int oh = 0; oh < ho; oh++) {
            int h0, h1;
            double lh;
            axis(mode, align, h, ho, oh, &h0, &h1, &lh);
            for (int ow = 0; ow < wo; ow++) {
                int w0, w1;
                double lw;
                axis(mode, align, w, wo, ow, &w0, &w1, &lw);
                const double *pl = x + (size_t)p * h * w;
                y[((size_t)p * ho + oh) * wo + ow] = (1 - lh) * ((1 - lw) * pl[h0 * w + w0] + lw * pl[h0 * w + w1]) +
                                                     lh * ((1 - lw) * pl[h1 * w + w0] + lw * pl[h1 * w + w1]);
            }
        }
}

void ref_resize_bwd(int mode, int align, int n, int c, int h, int w, int ho, int wo, const double *dy, double *dx) {
    memset(dx, 0, sizeof(double) * (size_t)n * c * h * w);
    for (int p = 0; p < n * c; p++)
        for (int oh = 0; oh < ho; oh++) {
            int h0, h1;
            double lh;
            axis(mode, align, h, ho, oh, &h0, &h1, &lh);
            for (int ow = 0; ow < wo; ow++) {
                int w0, w1;
                double lw;
                axis(mode, align, w, wo, ow, &w0, &w1, &lw);
                double g = dy[((size_t)p * ho + oh) * wo + ow];
                double *pl = dx + (size_t)p * h * w;
                pl[h0 * w + w0] += g * (1 - lh) * (1 - lw);
                pl[h0 * w + w1] += g * (1 - lh) * lw;
                pl[h1 * w + w0] += g * lh * (1 - lw);
                pl[h1 * w + w1] += g * lh * lw;
            }
        }
}
