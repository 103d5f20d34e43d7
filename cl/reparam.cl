/* reparam.cl - export-time reparameterisation (DESIGN.md section 3): folding
 * an eval-mode BatchNorm into the convolution before it, and merging the
 * folded branches of an SMSU into one depthwise kernel with bias. Host side in
 * src/deploy/reparam.c; plain-C reference in tests/support/ref_deploy.c. */

/* wo[co, j] = w[co, j] * s[co], bo[co] = beta[co] - mean[co] * s[co] with
 * s = gamma / sqrt(var + eps), for co < cout, j < n (n = C_in * K * K; the
 * weight rows may be strided: element (co, j) at w_off + co * w_s0 + j). */
__kernel void bn_fold(__global const float *w, ulong w_off, ulong w_s0, int n, int cout,
                      __global const float *gamma, ulong g_off, __global const float *beta, ulong b_off,
                      __global const float *mean, ulong m_off, __global const float *var, ulong v_off,
                      float eps, __global float *wo, __global float *bo) {
    size_t i = get_global_id(0);
    if (i >= (size_t)cout * (size_t)n) return;
    int co = (int)(i / (size_t)n), j = (int)(i % (size_t)n);
    float s = gamma[g_off + co] / sqrt(var[v_off + co] + eps);
    wo[i] = w[w_off + (size_t)co * w_s0 + (size_t)j] * s;
    if (j == 0) bo[co] = beta[b_off + co] - mean[m_off + co] * s;
}

/* W[c] += scale * pad_K(wk[c]) (wk[c] k x k, zero-padded centred to K x K),
 * B[c] += scale * bk[c], for c < C. Called once per branch with scale =
 * 1 / (number of branches) on zeroed W, B: the average of the branches. */
__kernel void smsu_merge_acc(__global const float *wk, __global const float *bk, int k, int K, int C, float scale,
                             __global float *W, __global float *B) {
    size_t i = get_global_id(0);
    int KK = K * K;
    if (i >= (size_t)C * (size_t)KK) return;
    int c = (int)(i / (size_t)KK), r = (int)(i % (size_t)KK);
    int y = r / K - (K - k) / 2, x = r % K - (K - k) / 2;
    if (y >= 0 && y < k && x >= 0 && x < k) W[i] += scale * wk[(size_t)c * k * k + y * k + x];
    if (r == 0) B[c] += scale * bk[c];
}
