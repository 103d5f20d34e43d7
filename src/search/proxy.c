/* proxy.c - the documented cheap, deterministic quality proxy used by tests,
 * benchmarks and quick runs of the search (see inas_quality_proxy). */
#include <math.h>

#include "inas/search.h"

static double capacity(const inas_space *sp, const inas_arch *a) {
    double c = 0;
    for (int s = 0; s < INAS_SPACE_STAGES; s++)
        for (int l = 0; l < a->stages[s].depth; l++) {
            inas_kset k = a->stages[s].layers[l].kernels;
            c += a->stages[s].layers[l].width * inas_kset_count(k) * (1.0 + inas_kset_max(k) / 9.0);
        }
    for (int i = 0; i < a->num_levels; i++) {
        double w = inas_arch_level_width(a, sp, i);
        int links = 0;
        for (int j = 0; j < a->num_levels; j++) links += (a->transport_levels[i] >> j) & 1;
        uint32_t d = inas_arch_decoder_levels(a, i);
        int dl = 0;
        for (int j = 0; j < a->num_levels; j++) dl += (d >> j) & 1;
        c += 0.25 * w * (links * inas_kset_count(a->transport_kernels[i]) + dl * inas_kset_count(a->decoder_kernels[i]));
    }
    return c;
}

inas_status inas_quality_proxy(void *space, const inas_arch *arch, inas_quality *out, inas_error *err) {
    const inas_space *sp = space;
    if (!sp || !arch || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "quality proxy: null argument");
    inas_arch smallest;
    inas_arch_sample_min(sp, &smallest);
    double c0 = 4.0 * capacity(sp, &smallest);
    double q = 1.0 - exp(-capacity(sp, arch) / c0);
    uint64_t h = inas_arch_hash(arch);
    q += 0.01 * ((double)(h % 2001) / 1000.0 - 1.0);
    out->max_f = q;
    out->mae = (1.0 - q) / 5.0;
    out->s_measure = (1.0 + q) / 2.0;
    return INAS_OK;
}
