/* smsu.cl - the SMSU kernel transform: branch K of a shared depthwise weight
 * uses the centre KxK crop w[c] (flattened row-major to a column vector of
 * K2 = K*K values) times its own K2 x K2 matrix M (row-major):
 *     w'[c] = M w[c],  i.e. w'[c][i] = sum_j M[i*K2 + j] * w[c][j].
 * Backward, given dW' = dL/dw':  dM[i][j] += sum_c dW'[c][i] * w[c][j]  and
 * dW[c][j] (crop) += sum_i M[i][j] * dW'[c][i].
 * Build option: -DK=kernel size. Weight windows are (offset, channel stride,
 * row stride) in floats; the host puts the crop offset into the offset. */
#define K2 ((K) * (K))

/* The kernels work on blocks of 8 channels (or 8 rows i of M) as float8
 * lanes; out-of-range lanes read 0 and are not written. */

/* wp[c][i] = sum_j M[i][j] w[c][j]. Dimension 0: block of 8 channels. */
kernel void smsu_fwd(const global float *w, int w_off, int w_sc, int w_sh, const global float *m, int m_off,
                     global float *wp, int p_off, int p_sc, int p_sh, int C) {
    const int c0 = get_global_id(0) * 8;
    if (c0 >= C) return;
    float8 wt[K2]; /* wt[j] = w[c0 .. c0+7][j] */
    for (int j = 0; j < K2; j++) {
        float t[8];
        for (int l = 0; l < 8; l++) t[l] = c0 + l < C ? w[w_off + (c0 + l) * w_sc + (j / K) * w_sh + j % K] : 0.0f;
        wt[j] = vload8(0, t);
    }
    const global float *mm = m + m_off;
    /* four rows of M at a time: independent accumulation chains */
    for (int i0 = 0; i0 < K2; i0 += 4) {
        float8 acc[4];
        const global float *mr[4];
#pragma unroll
        for (int q = 0; q < 4; q++) {
            acc[q] = (float8)(0.0f);
            mr[q] = mm + min(i0 + q, K2 - 1) * K2;
        }
        for (int j = 0; j < K2; j++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[q] = fma((float8)(mr[q][j]), wt[j], acc[q]);
#pragma unroll
        for (int q = 0; q < 4; q++) {
            const int i = i0 + q;
            if (i >= K2) continue;
            float t[8];
            vstore8(acc[q], 0, t);
            for (int l = 0; l < 8 && c0 + l < C; l++) wp[p_off + (c0 + l) * p_sc + (i / K) * p_sh + i % K] = t[l];
        }
    }
}

/* dM[i][j] += sum_c dW'[c][i] w[c][j]. Dimension 0: block of 8 rows i,
 * dimension 1: jh (row of the crop; the K columns jw are accumulated together). */
kernel void smsu_bwd_m(const global float *w, int w_off, int w_sc, int w_sh, const global float *dwp, int p_off,
                       int p_sc, int p_sh, global float *dm, int dm_off, int C) {
    const int i0 = get_global_id(0) * 8, jh = get_global_id(1);
    if (i0 >= K2 || jh >= K) return;
    int goff[8];
    for (int l = 0; l < 8; l++) {
        const int i = min(i0 + l, K2 - 1);
        goff[l] = p_off + (i / K) * p_sh + i % K;
    }
    float8 acc[K];
    for (int jw = 0; jw < K; jw++) acc[jw] = (float8)(0.0f);
    const global float *wr = w + w_off + jh * w_sh;
    for (int c = 0; c < C; c++) {
        const int co = c * p_sc;
        const float8 g = (float8)(dwp[goff[0] + co], dwp[goff[1] + co], dwp[goff[2] + co], dwp[goff[3] + co],
                                  dwp[goff[4] + co], dwp[goff[5] + co], dwp[goff[6] + co], dwp[goff[7] + co]);
        const global float *wc = wr + c * w_sc;
#pragma unroll
        for (int jw = 0; jw < K; jw++) acc[jw] = fma(g, (float8)(wc[jw]), acc[jw]);
    }
    for (int jw = 0; jw < K; jw++) {
        float t[8];
        vstore8(acc[jw], 0, t);
        for (int l = 0; l < 8 && i0 + l < K2; l++) dm[dm_off + (i0 + l) * K2 + jh * K + jw] += t[l];
    }
}

/* dW[c][j] += sum_i M[i][j] dW'[c][i]. Dimension 0: block of 8 channels. */
kernel void smsu_bwd_w(const global float *m, int m_off, const global float *dwp, int p_off, int p_sc, int p_sh,
                       global float *dw, int w_off, int w_sc, int w_sh, int C) {
    const int c0 = get_global_id(0) * 8;
    if (c0 >= C) return;
    float8 gt[K2]; /* gt[i] = dW'[c0 .. c0+7][i] */
    for (int i = 0; i < K2; i++) {
        float t[8];
        for (int l = 0; l < 8; l++) t[l] = c0 + l < C ? dwp[p_off + (c0 + l) * p_sc + (i / K) * p_sh + i % K] : 0.0f;
        gt[i] = vload8(0, t);
    }
    const global float *mm = m + m_off;
    /* four columns of M at a time: independent accumulation chains */
    for (int j0 = 0; j0 < K2; j0 += 4) {
        float8 acc[4];
        int jc[4];
#pragma unroll
        for (int q = 0; q < 4; q++) {
            acc[q] = (float8)(0.0f);
            jc[q] = min(j0 + q, K2 - 1);
        }
        for (int i = 0; i < K2; i++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[q] = fma((float8)(mm[i * K2 + jc[q]]), gt[i], acc[q]);
#pragma unroll
        for (int q = 0; q < 4; q++) {
            const int j = j0 + q;
            if (j >= K2) continue;
            float t[8];
            vstore8(acc[q], 0, t);
            for (int l = 0; l < 8 && c0 + l < C; l++) dw[w_off + (c0 + l) * w_sc + (j / K) * w_sh + j % K] += t[l];
        }
    }
}
