/* sample.c - sampling architectures (largest, smallest, uniform, unit by unit),
 * crossover and mutation. All randomness comes from the caller's inas_rng. */
#include <stdio.h>
#include <string.h>

#include "inas/arch.h"

static int rand_width(int mn, int mx, int step, inas_rng *r) {
    if (step < 1 || mx <= mn) return mn; /* invalid or single-valued range: never divide by zero */
    return mn + step * (int)inas_rng_below(r, (uint64_t)((mx - mn) / step + 1));
}

/* Maps the low bits of `pick` onto the members of `set` (member n gets bit n). */
static uint32_t spread(uint32_t set, uint64_t pick) {
    uint32_t out = 0;
    for (int j = 0, n = 0; j < 32; j++) {
        if (!(set & (1u << j))) continue;
        if (pick & (1ull << n)) out |= 1u << j;
        n++;
    }
    return out;
}

/* Uniform among all subsets / all non-empty subsets of set. */
static uint32_t rand_subset(uint32_t set, inas_rng *r) {
    return spread(set, inas_rng_below(r, 1ull << inas_kset_count(set)));
}
static uint32_t rand_nonempty(uint32_t set, inas_rng *r) {
    return spread(set, 1 + inas_rng_below(r, (1ull << inas_kset_count(set)) - 1));
}

static uint32_t all_levels(const inas_space *sp) { return (1u << sp->num_levels) - 1; }
static uint32_t extra_allowed(const inas_space *sp, int i) {
    return i + 2 < sp->num_levels ? all_levels(sp) & ~((1u << (i + 2)) - 1) : 0;
}

static int pick_width(int mn, int mx, int step, inas_sample_mode m, inas_rng *r) {
    return m == INAS_SAMPLE_MAX ? mx : m == INAS_SAMPLE_MIN ? mn : rand_width(mn, mx, step, r);
}

static inas_kset pick_kernels(inas_kset set, inas_sample_mode m, inas_rng *r) {
    return m == INAS_SAMPLE_MAX ? set : m == INAS_SAMPLE_MIN ? INAS_KSET(inas_kset_min(set)) : rand_nonempty(set, r);
}

static void sample_layer(const inas_space_stage *g, inas_sample_mode m, inas_rng *r, inas_arch_layer *ly) {
    ly->width = pick_width(g->width_min, g->width_max, g->width_step, m, r);
    ly->kernels = pick_kernels(g->kernels, m, r);
}

void inas_arch_sample_stage(const inas_space *sp, int s, inas_sample_mode m, inas_rng *r, inas_arch *a) {
    const inas_space_stage *g = &sp->stages[s];
    inas_arch_stage *st = &a->stages[s];
    memset(st, 0, sizeof *st);
    int span = g->depth_max > g->depth_min ? g->depth_max - g->depth_min + 1 : 1;
    st->depth = m == INAS_SAMPLE_MAX ? g->depth_max : m == INAS_SAMPLE_MIN ? g->depth_min
                                                    : g->depth_min + (int)inas_rng_below(r, (uint64_t)span);
    if (st->depth < 0) st->depth = 0;
    if (st->depth > INAS_MAX_DEPTH) st->depth = INAS_MAX_DEPTH;
    for (int l = 0; l < st->depth; l++) sample_layer(g, m, r, &st->layers[l]);
}

static void sample_level(const inas_space *sp, int i, inas_sample_mode m, inas_rng *r, inas_arch *a) {
    uint32_t self = 1u << i, others = all_levels(sp) & ~self, extra = extra_allowed(sp, i);
    a->transport_levels[i] = self | (m == INAS_SAMPLE_MAX ? others : m == INAS_SAMPLE_MIN ? 0 : rand_subset(others, r));
    a->transport_kernels[i] = pick_kernels(sp->head_kernels, m, r);
    a->decoder_extra[i] = m == INAS_SAMPLE_MAX ? extra : m == INAS_SAMPLE_MIN ? 0 : rand_subset(extra, r);
    a->decoder_kernels[i] = pick_kernels(sp->head_kernels, m, r);
}

int inas_arch_num_units(const inas_space *sp) { return 1 + INAS_SPACE_STAGES + sp->num_levels; }

char *inas_arch_unit_name(const inas_space *sp, int unit, char *buf, size_t len) {
    if (unit == 0) snprintf(buf, len, "stem");
    else if (unit <= INAS_SPACE_STAGES) snprintf(buf, len, "stage %d", unit);
    else if (unit < inas_arch_num_units(sp)) snprintf(buf, len, "level %d", unit - 1 - INAS_SPACE_STAGES);
    else snprintf(buf, len, "unit %d (none)", unit);
    return buf;
}

void inas_arch_sample_unit(const inas_space *sp, int unit, inas_sample_mode m, inas_rng *r, inas_arch *a) {
    if (unit == 0)
        a->stem_width = pick_width(sp->stem.width_min, sp->stem.width_max, sp->stem.width_step, m, r);
    else if (unit <= INAS_SPACE_STAGES)
        inas_arch_sample_stage(sp, unit - 1, m, r, a);
    else if (unit < inas_arch_num_units(sp))
        sample_level(sp, unit - 1 - INAS_SPACE_STAGES, m, r, a);
}

void inas_arch_copy_unit(const inas_space *sp, int unit, const inas_arch *src, inas_arch *dst) {
    if (unit == 0) {
        dst->stem_width = src->stem_width;
    } else if (unit <= INAS_SPACE_STAGES) {
        dst->stages[unit - 1] = src->stages[unit - 1];
    } else if (unit < inas_arch_num_units(sp)) {
        int i = unit - 1 - INAS_SPACE_STAGES;
        dst->transport_levels[i] = src->transport_levels[i];
        dst->transport_kernels[i] = src->transport_kernels[i];
        dst->decoder_extra[i] = src->decoder_extra[i];
        dst->decoder_kernels[i] = src->decoder_kernels[i];
    }
}

static void sample_all(const inas_space *sp, inas_sample_mode m, inas_rng *r, inas_arch *a) {
    memset(a, 0, sizeof *a);
    a->resolution = sp->eval_res;
    a->num_levels = sp->num_levels;
    for (int u = 0; u < inas_arch_num_units(sp); u++) inas_arch_sample_unit(sp, u, m, r, a);
}

void inas_arch_sample_max(const inas_space *sp, inas_arch *a) { sample_all(sp, INAS_SAMPLE_MAX, NULL, a); }
void inas_arch_sample_min(const inas_space *sp, inas_arch *a) { sample_all(sp, INAS_SAMPLE_MIN, NULL, a); }
void inas_arch_sample_random(const inas_space *sp, inas_rng *r, inas_arch *a) {
    sample_all(sp, INAS_SAMPLE_RANDOM, r, a);
}

void inas_arch_crossover(const inas_space *sp, const inas_arch *a, const inas_arch *b, double p_c, inas_rng *r,
                         inas_arch *child_a, inas_arch *child_b) {
    inas_arch ca = *a, cb = *b;
    for (int u = 0; u < inas_arch_num_units(sp); u++) {
        if (inas_rng_double(r) >= p_c) continue;
        inas_arch_copy_unit(sp, u, b, &ca);
        inas_arch_copy_unit(sp, u, a, &cb);
    }
    inas_arch_canonicalize(&ca);
    inas_arch_canonicalize(&cb);
    if (child_a) *child_a = ca;
    if (child_b) *child_b = cb;
}

void inas_arch_mutate(const inas_space *sp, const inas_arch *parent, double p_m, inas_rng *r, inas_arch *out) {
    inas_arch a = *parent;
#define HIT() (inas_rng_double(r) < p_m)
    if (HIT()) a.stem_width = rand_width(sp->stem.width_min, sp->stem.width_max, sp->stem.width_step, r);
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        const inas_space_stage *g = &sp->stages[s];
        inas_arch_stage *st = &a.stages[s];
        if (st->depth < 0) st->depth = 0;
        if (st->depth > INAS_MAX_DEPTH) st->depth = INAS_MAX_DEPTH;
        if (HIT()) {
            int span = g->depth_max > g->depth_min ? g->depth_max - g->depth_min + 1 : 1;
            int d = g->depth_min + (int)inas_rng_below(r, (uint64_t)span);
            if (d < 0 || d > INAS_MAX_DEPTH) d = st->depth;
            for (int l = st->depth; l < d; l++) sample_layer(g, INAS_SAMPLE_RANDOM, r, &st->layers[l]);
            st->depth = d;
        }
        for (int l = 0; l < st->depth; l++) {
            if (HIT()) st->layers[l].width = rand_width(g->width_min, g->width_max, g->width_step, r);
            if (HIT()) st->layers[l].kernels = rand_nonempty(g->kernels, r);
        }
    }
    for (int i = 0; i < sp->num_levels; i++) {
        uint32_t self = 1u << i;
        if (HIT()) a.transport_levels[i] = self | rand_subset(all_levels(sp) & ~self, r);
        if (HIT()) a.transport_kernels[i] = rand_nonempty(sp->head_kernels, r);
        if (HIT()) a.decoder_extra[i] = rand_subset(extra_allowed(sp, i), r);
        if (HIT()) a.decoder_kernels[i] = rand_nonempty(sp->head_kernels, r);
    }
#undef HIT
    inas_arch_canonicalize(&a);
    *out = a;
}
