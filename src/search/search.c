/* search.c - LGS evolutionary search (iNAS Algorithm 1), the uniform-sampling
 * and random-search baselines, the evaluation cache, and coverage. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inas/search.h"

struct inas_search {
    inas_space space;
    inas_search_config cfg;
    inas_latency_fn lat;
    void *lat_user;
    inas_quality_fn qual;
    void *qual_user;
    double lat_min, lat_max;
    inas_rng rng;

    inas_candidate *c; /* evaluated candidates, in order */
    size_t n, cap;
    size_t evals;      /* quality-function calls */

    inas_candidate *pre; /* preloaded evaluations (resume) */
    size_t npre;

    /* open-addressing hash set over c[] (indices + 1; 0 = empty) */
    size_t *table;
    size_t tcap;
};

void inas_search_config_defaults(inas_search_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->population = 1000;
    cfg->groups = 10;
    cfg->parents = 100;
    cfg->iterations = 20;
    cfg->p_crossover = 0.2;
    cfg->p_mutation = 0.2;
    cfg->max_rejects = 50;
}

inas_status inas_search_create(const inas_space *space, const inas_search_config *cfg, inas_latency_fn lat,
                               void *lat_user, inas_quality_fn qual, void *qual_user, inas_search **out,
                               inas_error *err) {
    if (!space || !cfg || !lat || !qual || !out)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_search_create: null argument");
    if (cfg->population < 1 || cfg->groups < 1 || cfg->parents < 2 || cfg->iterations < 0 || cfg->max_rejects < 1 ||
        cfg->p_crossover < 0 || cfg->p_crossover > 1 || cfg->p_mutation < 0 || cfg->p_mutation > 1)
        return inas_error_set(err, INAS_ERR_INVALID_ARG,
                              "search: population >= 1, groups >= 1, parents >= 2, iterations >= 0, probabilities in [0, 1]");
    inas_search *s = calloc(1, sizeof *s);
    if (!s) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    s->space = *space;
    s->cfg = *cfg;
    s->lat = lat;
    s->lat_user = lat_user;
    s->qual = qual;
    s->qual_user = qual_user;
    inas_rng_seed(&s->rng, cfg->seed);
    inas_arch a;
    inas_arch_sample_min(space, &a);
    s->lat_min = lat(lat_user, &a);
    inas_arch_sample_max(space, &a);
    s->lat_max = lat(lat_user, &a);
    if (!(s->lat_max > s->lat_min)) {
        double lo = s->lat_min, hi = s->lat_max;
        free(s);
        return inas_error_set(err, INAS_ERR_INVALID_ARG,
                              "search: the largest architecture (%.4g ms) is not slower than the smallest (%.4g ms)", hi,
                              lo);
    }
    *out = s;
    return INAS_OK;
}

void inas_search_destroy(inas_search *s) {
    if (!s) return;
    free(s->c);
    free(s->pre);
    free(s->table);
    free(s);
}

void inas_search_range(const inas_search *s, double *lo, double *hi) {
    *lo = s->lat_min;
    *hi = s->lat_max;
}

int inas_search_group_of(const inas_search *s, double latency) {
    double w = (s->lat_max - s->lat_min) / s->cfg.groups;
    int g = (int)floor((latency - s->lat_min) / w);
    return g < 0 ? 0 : g >= s->cfg.groups ? s->cfg.groups - 1 : g;
}

/* ---- the evaluation cache ----------------------------------------------------------- */

static long find(const inas_search *s, const inas_arch *a, uint64_t h) {
    if (!s->tcap) return -1;
    for (size_t i = h & (s->tcap - 1);; i = (i + 1) & (s->tcap - 1)) {
        size_t v = s->table[i];
        if (!v) return -1;
        if (inas_arch_equal(&s->c[v - 1].arch, a)) return (long)(v - 1);
    }
}

static int insert(inas_search *s, size_t idx) {
    if ((s->n + 1) * 2 > s->tcap) {
        size_t nc = s->tcap ? s->tcap * 2 : 1024;
        size_t *nt = calloc(nc, sizeof *nt);
        if (!nt) return -1;
        for (size_t j = 0; j < s->n; j++) {
            if (j == idx) continue;
            size_t i = inas_arch_hash(&s->c[j].arch) & (nc - 1);
            while (nt[i]) i = (i + 1) & (nc - 1);
            nt[i] = j + 1;
        }
        free(s->table);
        s->table = nt;
        s->tcap = nc;
    }
    size_t i = inas_arch_hash(&s->c[idx].arch) & (s->tcap - 1);
    while (s->table[i]) i = (i + 1) & (s->tcap - 1);
    s->table[i] = idx + 1;
    return 0;
}

inas_status inas_search_preload(inas_search *s, const inas_candidate *c, size_t n, inas_error *err) {
    inas_candidate *np = realloc(s->pre, (s->npre + n) * sizeof *np);
    if (!np && n) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    s->pre = np;
    memcpy(s->pre + s->npre, c, n * sizeof *c);
    s->npre += n;
    return INAS_OK;
}

/* Evaluates a (or finds it); *idx gets its candidate index; *fresh 1 when new. */
static inas_status evaluate(inas_search *s, const inas_arch *a0, int iteration, size_t *idx, int *fresh,
                            inas_error *err) {
    inas_arch a = *a0;
    inas_arch_canonicalize(&a);
    uint64_t h = inas_arch_hash(&a);
    long f = find(s, &a, h);
    *fresh = 0;
    if (f >= 0) {
        *idx = (size_t)f;
        return INAS_OK;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        inas_candidate *nc = realloc(s->c, cap * sizeof *nc);
        if (!nc) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
        s->c = nc;
        s->cap = cap;
    }
    inas_candidate *c = &s->c[s->n];
    memset(c, 0, sizeof *c);
    c->arch = a;
    c->latency = s->lat(s->lat_user, &a);
    c->group = inas_search_group_of(s, c->latency);
    c->iteration = iteration;
    int known = 0;
    for (size_t i = 0; i < s->npre && !known; i++)
        if (inas_arch_equal(&s->pre[i].arch, &a)) {
            c->q = s->pre[i].q;
            known = 1;
        }
    if (!known) {
        inas_status st = s->qual(s->qual_user, &a, &c->q, err);
        if (st != INAS_OK) return st;
        s->evals++;
    }
    if (insert(s, s->n) != 0) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    *idx = s->n++;
    *fresh = 1;
    return INAS_OK;
}

/* ---- latency-group sampling ---------------------------------------------------------- */

int inas_search_sample_in(const inas_search *s, double lo, double hi, inas_rng *rng, inas_arch *out) {
    const inas_space *sp = &s->space;
    int units = inas_arch_num_units(sp);
    inas_arch best;
    double best_dist = INFINITY;
    for (int attempt = 0; attempt < 8; attempt++) {
        inas_arch a, amax;
        inas_arch_sample_min(sp, &a);   /* units not chosen yet stay at their minimum ... */
        inas_arch_sample_max(sp, &amax);/* ... or at their maximum, for the upper bound */
        for (int u = 0; u < units; u++) {
            inas_arch pick = a, pick_max = amax;
            double pick_dist = INFINITY;
            for (int t = 0; t < s->cfg.max_rejects; t++) {
                inas_arch cand = a, cmax = amax;
                inas_arch_sample_unit(sp, u, INAS_SAMPLE_RANDOM, rng, &cand);
                inas_arch_copy_unit(sp, u, &cand, &cmax);
                double lmin = s->lat(s->lat_user, &cand), lmax = s->lat(s->lat_user, &cmax);
                /* distance between the reachable interval and the group */
                double d = lmin > hi ? lmin - hi : lmax < lo ? lo - lmax : 0;
                if (d < pick_dist) {
                    pick = cand;
                    pick_max = cmax;
                    pick_dist = d;
                }
                if (d == 0) break;
            }
            /* after max_rejects failures, the unit's smallest or largest choice
             * (whichever is closer), else the closest random one: the group is
             * widened for this unit so that every group is reached */
            for (int m = 0; m < 2 && pick_dist > 0; m++) {
                inas_arch cand = a, cmax = amax;
                inas_arch_sample_unit(sp, u, m == 0 ? INAS_SAMPLE_MIN : INAS_SAMPLE_MAX, NULL, &cand);
                inas_arch_copy_unit(sp, u, &cand, &cmax);
                double lmin = s->lat(s->lat_user, &cand), lmax = s->lat(s->lat_user, &cmax);
                double d = lmin > hi ? lmin - hi : lmax < lo ? lo - lmax : 0;
                if (d < pick_dist) {
                    pick = cand;
                    pick_max = cmax;
                    pick_dist = d;
                }
            }
            a = pick;
            amax = pick_max;
        }
        double l = s->lat(s->lat_user, &a);
        double d = l < lo ? lo - l : l > hi ? l - hi : 0;
        if (d == 0) {
            *out = a;
            return 1;
        }
        if (d < best_dist) {
            best = a;
            best_dist = d;
        }
    }
    *out = best;
    return 0;
}

/* ---- the search ----------------------------------------------------------------------- */

static void sort_fronts(inas_search *s) {
    double *l = malloc(s->n * sizeof *l), *q = malloc(s->n * sizeof *q);
    int *r = malloc(s->n * sizeof *r);
    if (l && q && r) {
        for (size_t i = 0; i < s->n; i++) {
            l[i] = s->c[i].latency;
            q[i] = s->c[i].q.max_f;
        }
        inas_pareto_rank(l, q, s->n, r);
        for (size_t i = 0; i < s->n; i++) s->c[i].front = r[i];
    }
    free(l);
    free(q);
    free(r);
}

typedef struct sel_key {
    int front;
    double q;
    size_t idx;
} sel_key;

static int cmp_select(const void *pa, const void *pb) {
    const sel_key *a = pa, *b = pb;
    if (a->front != b->front) return a->front - b->front;
    if (a->q != b->q) return a->q > b->q ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* k parents from successive fronts with a quota of k/G per latency group. */
static size_t select_parents(inas_search *s, size_t *par, size_t k) {
    sel_key *keys = malloc(s->n * sizeof *keys);
    size_t *order = malloc(s->n * sizeof *order);
    unsigned char *taken = calloc(s->n, 1);
    size_t np = 0;
    if (!keys || !order || !taken) {
        free(keys);
        free(order);
        free(taken);
        return 0;
    }
    for (size_t i = 0; i < s->n; i++) keys[i] = (sel_key){s->c[i].front, s->c[i].q.max_f, i};
    qsort(keys, s->n, sizeof *keys, cmp_select);
    for (size_t i = 0; i < s->n; i++) order[i] = keys[i].idx;
    free(keys);
    size_t quota = k / (size_t)s->cfg.groups;
    if (quota < 1) quota = 1;
    for (int g = 0; g < s->cfg.groups && np < k; g++) {
        size_t got = 0;
        for (size_t j = 0; j < s->n && got < quota && np < k; j++)
            if (s->c[order[j]].group == g) {
                par[np++] = order[j];
                taken[order[j]] = 1;
                got++;
            }
    }
    for (size_t j = 0; j < s->n && np < k; j++) /* groups short of candidates: fill by rank */
        if (!taken[order[j]]) {
            par[np++] = order[j];
            taken[order[j]] = 1;
        }
    free(order);
    free(taken);
    return np;
}

inas_status inas_search_run(inas_search *s, void (*progress)(void *, size_t, int), void *user, inas_error *err) {
    const inas_space *sp = &s->space;
    const inas_search_config *cfg = &s->cfg;
    inas_status st = INAS_OK;
    size_t idx;
    int fresh;
    if (cfg->strategy == INAS_STRATEGY_RANDOM) {
        size_t budget = (size_t)cfg->population + (size_t)cfg->iterations * (size_t)cfg->parents;
        size_t tries = 0;
        while (s->n < budget && tries++ < budget * 20 && st == INAS_OK) {
            inas_arch a;
            inas_arch_sample_random(sp, &s->rng, &a);
            st = evaluate(s, &a, 0, &idx, &fresh, err);
            if (st == INAS_OK && fresh && progress) progress(user, s->n, 0);
        }
        sort_fronts(s);
        return st;
    }
    /* initial population */
    int G = cfg->groups, per = cfg->population / G > 0 ? cfg->population / G : 1;
    double w = (s->lat_max - s->lat_min) / G;
    for (int g = 0; g < G && st == INAS_OK; g++)
        for (int i = 0, tries = 0; i < per && tries < per * 20 && st == INAS_OK; tries++) {
            inas_arch a;
            if (cfg->sampler == INAS_SAMPLER_LGS) inas_search_sample_in(s, s->lat_min + g * w, s->lat_min + (g + 1) * w, &s->rng, &a);
            else inas_arch_sample_random(sp, &s->rng, &a);
            st = evaluate(s, &a, 0, &idx, &fresh, err);
            if (st == INAS_OK && fresh) {
                i++;
                if (progress) progress(user, s->n, 0);
            }
        }
    size_t k = (size_t)cfg->parents;
    size_t *par = malloc(k * sizeof *par);
    if (!par) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    for (int it = 1; it <= cfg->iterations && st == INAS_OK; it++) {
        sort_fronts(s);
        size_t np = select_parents(s, par, k);
        if (np < 2) break;
        /* shuffle, then pair up: crossover, mutation, evaluation of new children */
        for (size_t i = np; i > 1; i--) {
            size_t j = (size_t)inas_rng_below(&s->rng, i), t = par[i - 1];
            par[i - 1] = par[j];
            par[j] = t;
        }
        size_t made = 0, tries = 0;
        while (made < k && tries < 8 * k && st == INAS_OK) {
            size_t a = par[(2 * tries) % np], b = par[(2 * tries + 1) % np];
            tries++;
            inas_arch c1, c2;
            inas_arch_crossover(sp, &s->c[a].arch, &s->c[b].arch, cfg->p_crossover, &s->rng, &c1, &c2);
            inas_arch_mutate(sp, &c1, cfg->p_mutation, &s->rng, &c1);
            inas_arch_mutate(sp, &c2, cfg->p_mutation, &s->rng, &c2);
            const inas_arch *kids[2] = {&c1, &c2};
            for (int j = 0; j < 2 && made < k && st == INAS_OK; j++) {
                st = evaluate(s, kids[j], it, &idx, &fresh, err);
                if (st == INAS_OK && fresh) {
                    made++;
                    if (progress) progress(user, s->n, it);
                }
            }
        }
    }
    free(par);
    sort_fronts(s);
    return st;
}

const inas_candidate *inas_search_candidates(const inas_search *s, size_t *n) {
    *n = s->n;
    return s->c;
}

size_t inas_search_evaluations(const inas_search *s) { return s->evals; }

static int cmp_lat(const void *a, const void *b) {
    const inas_candidate *x = *(const inas_candidate *const *)a, *y = *(const inas_candidate *const *)b;
    return (x->latency > y->latency) - (x->latency < y->latency);
}

size_t inas_search_front(const inas_search *s, const inas_candidate **front, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i].front == 0) {
            if (n < cap) front[n] = &s->c[i];
            n++;
        }
    qsort(front, n < cap ? n : cap, sizeof *front, cmp_lat);
    return n;
}

const inas_candidate *inas_search_best_under(const inas_search *s, double budget) {
    const inas_candidate *best = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i].latency <= budget && (!best || s->c[i].q.max_f > best->q.max_f)) best = &s->c[i];
    return best;
}

double inas_latency_coverage(const double *lat, size_t n, double lo, double hi, int bins, int *hist) {
    int local[1024];
    int *h = hist ? hist : (bins <= 1024 ? local : NULL);
    if (!h || bins < 1 || !(hi > lo)) return 0;
    memset(h, 0, (size_t)bins * sizeof *h);
    for (size_t i = 0; i < n; i++) {
        int b = (int)floor((lat[i] - lo) / (hi - lo) * bins);
        if (b < 0 || b > bins) continue;
        if (b == bins) b = bins - 1; /* the largest architecture itself */
        h[b]++;
    }
    int covered = 0;
    for (int b = 0; b < bins; b++) covered += h[b] > 0;
    return (double)covered / bins;
}
