/* smsu.cl - the SMSU kernel transform: branch K of a shared depthwise weight
 * uses the centre KxK crop w[c] (flattened row-major to a column vector of
 * K2 = K*K values) times its own K2 x K2 matrix M (row-major):
 *     w'[c] = M w[c],  i.e. w'[c][i] = sum_j M[i*K2 + j] * w[c][j].
 * Backward, given dW' = dL/dw':  dM[i][j] += sum_c dW'[c][i] * w[c][j]  and
 * dW[c][j] (crop) += sum_i M[i][j] * dW'[c][i].
 * Build option: -DK=kernel size. Weight windows are (offset, channel stride,
 * row stride) in floats; the host puts the crop offset into the offset. */
#define K2 ((K) * (K))

/* wp[c][i] = sum_j M[i][j] w[c][j]. Dimension 0: i, dimension 1: c. */
kernel void smsu_fwd(const global float *w, int w_off, int w_sc, int w_sh, const global float *m, int m_off,
                     global float *wp, int p_off, int p_sc, int p_sh, int C) {
    const int i = get_global_id(0), c = get_global_id(1);
    if (i >= K2 || c >= C) return;
    const global float *wc = w + w_off + c * w_sc;
    const global float *mi = m + m_off + i * K2;
    float s = 0.0f;
    for (int jh = 0; jh < K; jh++)
        for (int jw = 0; jw < K; jw++) s = fma(mi[jh * K + jw], wc[jh * w_sh + jw], s);
    wp[p_off + c * p_sc + (i / K) * p_sh + i % K] = s;
}

/* dM[i][j] += sum_c dW'[c][i] w[c][j]. Dimension 0: j, dimension 1: i. */
kernel void smsu_bwd_m(const global float *w, int w_off, int w_sc, int w_sh, const global float *dwp, int p_off,
                       int p_sc, int p_sh, global float *dm, int dm_off, int C) {
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= K2 || i >= K2) return;
    const global float *wj = w + w_off + (j / K) * w_sh + j % K;
    const global float *gi = dwp + p_off + (i / K) * p_sh + i % K;
    float s = 0.0f;
    for (int c = 0; c < C; c++) s = fma(gi[c * p_sc], wj[c * w_sc], s);
    dm[dm_off + i * K2 + j] += s;
}

/* dW[c][j] += sum_i M[i][j] dW'[c][i]. Dimension 0: j, dimension 1: c. */
kernel void smsu_bwd_w(const global float *m, int m_off, const global float *dwp, int p_off, int p_sc, int p_sh,
                       global float *dw, int w_off, int w_sc, int w_sh, int C) {
    const int j = get_global_id(0), c = get_global_id(1);
    if (j >= K2 || c >= C) return;
    const global float *gc = dwp + p_off + c * p_sc;
    float s = 0.0f;
    for (int ih = 0; ih < K; ih++)
        for (int iw = 0; iw < K; iw++) s = fma(m[m_off + (ih * K + iw) * K2 + j], gc[ih * p_sh + iw], s);
    dw[w_off + c * w_sc + (j / K) * w_sh + j % K] += s;
}
