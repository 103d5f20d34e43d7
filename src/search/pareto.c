/* pareto.c - non-dominated sorting of (latency, quality) points: lower
 * latency and higher quality are better; successive fronts get ranks 0, 1, ...
 *
 * Two objectives allow an O(n log n + n F) sort: visit points by latency
 * (ties: higher quality first); along any front quality rises with latency,
 * so a point is dominated by front r exactly when it is dominated by the
 * last point placed on front r. Identical points share a front. */
#include <stdlib.h>

#include "inas/search.h"

typedef struct pt {
    double lat, q;
    size_t i;
} pt;

static int cmp_pt(const void *a, const void *b) {
    const pt *x = a, *y = b;
    if (x->lat != y->lat) return x->lat < y->lat ? -1 : 1;
    if (x->q != y->q) return x->q > y->q ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int dominates(double la, double qa, double lb, double qb) {
    return la <= lb && qa >= qb && (la < lb || qa > qb);
}

void inas_pareto_rank(const double *lat, const double *q, size_t n, int *rank) {
    if (n == 0) return;
    pt *p = malloc(n * sizeof *p);
    size_t *last = malloc(n * sizeof *last); /* index into p of each front's last point */
    if (!p || !last) {                         /* out of memory: everything on one front */
        for (size_t i = 0; i < n; i++) rank[i] = 0;
        free(p);
        free(last);
        return;
    }
    for (size_t i = 0; i < n; i++) p[i] = (pt){lat[i], q[i], i};
    qsort(p, n, sizeof *p, cmp_pt);
    size_t fronts = 0;
    for (size_t k = 0; k < n; k++) {
        size_t r = 0;
        while (r < fronts && dominates(p[last[r]].lat, p[last[r]].q, p[k].lat, p[k].q)) r++;
        if (r == fronts) fronts++;
        last[r] = k;
        rank[p[k].i] = (int)r;
    }
    free(p);
    free(last);
}
