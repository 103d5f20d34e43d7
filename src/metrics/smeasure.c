/* smeasure.c - S-measure (structure measure, alpha = 0.5) as in PySODMetrics:
 * object term from mean and sample std of the prediction on foreground and of
 * 1 - prediction on background; region term from SSIM-like scores of the four
 * blocks split at the mask centroid (mean coordinates rounded half to even,
 * plus one, as the MATLAB code's 1-based indexing); all-background and
 * all-foreground masks give 1 - mean(p) and mean(p). */
#include "metrics/metrics_internal.h"

static const double ALPHA = 0.5;

/* The object term: 2 mean / (mean^2 + 1 + std + eps) of x = p over the
 * foreground and of x = 1 - p over the background (sample std, 0 for a
 * single pixel), weighted by the class fractions. Both classes share two
 * passes (means, then squared deviations); sums run per row, then
 * compensated across rows. */
static double object_score(const double *pred, const unsigned char *gt, int w, int h, size_t nfg) {
    size_t n = (size_t)w * (size_t)h, nbg = n - nfg;
    inas__ksum sf = {0, 0}, sb = {0, 0};
    for (int y = 0; y < h; y++) {
        const double *pr = pred + (size_t)y * w;
        const unsigned char *gr = gt + (size_t)y * w;
        double rf = 0, rb = 0;
        for (int x = 0; x < w; x++) {
            if (gr[x] > 128) rf += pr[x];
            else rb += 1 - pr[x];
        }
        inas__ksum_add(&sf, rf);
        inas__ksum_add(&sb, rb);
    }
    double mf = inas__ksum_get(&sf) / (double)nfg, mb = inas__ksum_get(&sb) / (double)nbg;
    inas__ksum qf = {0, 0}, qb = {0, 0};
    for (int y = 0; y < h; y++) {
        const double *pr = pred + (size_t)y * w;
        const unsigned char *gr = gt + (size_t)y * w;
        double rf = 0, rb = 0;
        for (int x = 0; x < w; x++) {
            if (gr[x] > 128) {
                double d = pr[x] - mf;
                rf += d * d;
            } else {
                double d = (1 - pr[x]) - mb;
                rb += d * d;
            }
        }
        inas__ksum_add(&qf, rf);
        inas__ksum_add(&qb, rb);
    }
    double sdf = nfg > 1 ? sqrt(inas__ksum_get(&qf) / (double)(nfg - 1)) : 0.0;
    double sdb = nbg > 1 ? sqrt(inas__ksum_get(&qb) / (double)(nbg - 1)) : 0.0;
    double y = (double)nfg / (double)n;
    double fg = 2 * mf / (mf * mf + 1 + sdf + INAS_METRICS_EPS);
    double bg = 2 * mb / (mb * mb + 1 + sdb + INAS_METRICS_EPS);
    return fg * y + bg * (1 - y);
}

/* SSIM-like score of the block rows [y0, y1) x cols [x0, x1). */
static double block_ssim(const double *pred, const unsigned char *gt, int w, int x0, int x1, int y0,
                         int y1) {
    size_t n = (size_t)(x1 - x0) * (size_t)(y1 - y0);
    inas__ksum sp = {0, 0};
    size_t sg = 0;
    double lo = pred[(size_t)y0 * w + x0], hi = lo;
    for (int y = y0; y < y1; y++) {
        const double *pr = pred + (size_t)y * w;
        const unsigned char *gr = gt + (size_t)y * w;
        double r = 0;
        for (int x = x0; x < x1; x++) {
            r += pr[x];
            sg += gr[x] > 128;
            if (pr[x] < lo) lo = pr[x];
            if (pr[x] > hi) hi = pr[x];
        }
        inas__ksum_add(&sp, r);
    }
    /* A constant block has exactly its value as mean (and zero variance):
     * summation noise must not decide between the alpha == 0 branches. */
    double mx = lo == hi ? lo : inas__ksum_get(&sp) / (double)n, my = (double)sg / (double)n;
    inas__ksum sxx = {0, 0}, syy = {0, 0}, sxy = {0, 0};
    for (int y = y0; y < y1; y++) {
        const double *pr = pred + (size_t)y * w;
        const unsigned char *gr = gt + (size_t)y * w;
        double rxx = 0, ryy = 0, rxy = 0;
        for (int x = x0; x < x1; x++) {
            double dx = pr[x] - mx, dy = (gr[x] > 128 ? 1.0 : 0.0) - my;
            rxx += dx * dx;
            ryy += dy * dy;
            rxy += dx * dy;
        }
        inas__ksum_add(&sxx, rxx);
        inas__ksum_add(&syy, ryy);
        inas__ksum_add(&sxy, rxy);
    }
    double den = (double)(n - 1) + INAS_METRICS_EPS;
    double sigma_x = inas__ksum_get(&sxx) / den, sigma_y = inas__ksum_get(&syy) / den;
    double sigma_xy = inas__ksum_get(&sxy) / den;
    double alpha = 4 * mx * my * sigma_xy;
    double beta = (mx * mx + my * my) * (sigma_x + sigma_y);
    if (alpha != 0) return alpha / (beta + INAS_METRICS_EPS);
    if (beta == 0) return 1.0;
    return 0.0;
}

static double region(const double *pred, const unsigned char *gt, int w, int h) {
    size_t area = (size_t)w * (size_t)h, cnt = 0;
    long long sy = 0, sx = 0;
    for (int y = 0; y < h; y++) {
        const unsigned char *gr = gt + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            if (gr[x] > 128) {
                cnt++;
                sy += y;
                sx += x;
            }
        }
    }
    double cyf, cxf;
    if (cnt == 0) {
        cyf = nearbyint(h / 2.0);
        cxf = nearbyint(w / 2.0);
    } else { /* numpy round: half to even, the default rounding mode */
        cyf = nearbyint((double)sy / (double)cnt);
        cxf = nearbyint((double)sx / (double)cnt);
    }
    int cy = (int)cyf + 1, cx = (int)cxf + 1;
    if (cy > h) cy = h;
    if (cx > w) cx = w;
    double ad = (double)area;
    double w_lt = (double)((size_t)cx * cy) / ad;
    double w_rt = (double)((size_t)cy * (w - cx)) / ad;
    double w_lb = (double)((size_t)(h - cy) * cx) / ad;
    double w_rb = 1 - w_lt - w_rt - w_lb;
    /* A block is empty only when the centroid lies on the last row or column;
     * its weight is then (about) zero and it contributes nothing (numpy would
     * give NaN there). */
    double s = 0.0;
    s += w_lt * block_ssim(pred, gt, w, 0, cx, 0, cy);
    if (cx < w) s += block_ssim(pred, gt, w, cx, w, 0, cy) * w_rt;
    if (cy < h) s += block_ssim(pred, gt, w, 0, cx, cy, h) * w_lb;
    if (cx < w && cy < h) s += block_ssim(pred, gt, w, cx, w, cy, h) * w_rb;
    return s;
}

double inas_metric_smeasure(const double *pred, const unsigned char *gt, int width, int height) {
    if (!pred || !gt || width <= 0 || height <= 0) return NAN;
    size_t n = (size_t)width * (size_t)height, nfg = 0;
    for (size_t i = 0; i < n; i++) nfg += gt[i] > 128;
    if (nfg == 0 || nfg == n) {
        inas__ksum s = {0, 0};
        for (size_t i = 0; i < n; i++) inas__ksum_add(&s, pred[i]);
        double mean = inas__ksum_get(&s) / (double)n;
        return nfg == 0 ? 1 - mean : mean;
    }
    double object = object_score(pred, gt, width, height, nfg);
    double sm = object * ALPHA + region(pred, gt, width, height) * (1 - ALPHA);
    return sm > 0 ? sm : 0.0;
}
