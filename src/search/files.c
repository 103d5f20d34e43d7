/* files.c - the search's output files: candidates.yaml / pareto.yaml (one
 * flow mapping per candidate, readable back for --resume) and the latency vs
 * max-F scatter plot in SVG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/search.h"

inas_status inas_candidates_write(const char *path, const inas_candidate *c, size_t n, inas_error *err) {
    inas_atomic_file *f;
    inas_status st = inas_atomic_open(path, &f, err);
    if (st != INAS_OK) return st;
    FILE *o = inas_atomic_stream(f);
    fprintf(o, "# inas search candidates: compact architecture, predicted latency (ms), quality\n");
    if (n == 0) fprintf(o, "[]\n");
    for (size_t i = 0; i < n; i++) {
        char compact[4096];
        inas_arch_format_compact(&c[i].arch, compact, sizeof compact);
        fprintf(o,
                "- {arch: \"%s\", latency_ms: %.17g, max_f: %.17g, mae: %.17g, s_measure: %.17g, group: %d, "
                "iteration: %d}\n",
                compact, c[i].latency, c[i].q.max_f, c[i].q.mae, c[i].q.s_measure, c[i].group, c[i].iteration);
    }
    return inas_atomic_commit(f, err);
}

inas_status inas_candidates_read(const char *path, const inas_space *space, inas_candidate **out, size_t *n,
                                 inas_error *err) {
    *out = NULL;
    *n = 0;
    char *text;
    size_t len;
    inas_status st = inas_read_file(path, &text, &len, err);
    if (st != INAS_OK) return st;
    size_t cap = 0, cnt = 0;
    inas_candidate *c = NULL;
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && st == INAS_OK; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] == '#' || strcmp(line, "[]") == 0 || line[0] == '\0') continue;
        char compact[4096];
        inas_candidate x;
        memset(&x, 0, sizeof x);
        int used = 0;
        if (sscanf(line,
                   "- {arch: \"%4095[^\"]\", latency_ms: %lg, max_f: %lg, mae: %lg, s_measure: %lg, group: %d, "
                   "iteration: %d}%n",
                   compact, &x.latency, &x.q.max_f, &x.q.mae, &x.q.s_measure, &x.group, &x.iteration, &used) != 7 ||
            line[used] != '\0') {
            st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: not a candidate line", path, lineno);
            break;
        }
        inas_error e;
        if (inas_arch_parse_compact(compact, &x.arch, &e) != INAS_OK ||
            (space && inas_arch_validate(&x.arch, space, &e) != INAS_OK)) {
            st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: %s", path, lineno, e.message);
            break;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 256;
            inas_candidate *nc = realloc(c, cap * sizeof *nc);
            if (!nc) {
                st = inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
                break;
            }
            c = nc;
        }
        c[cnt++] = x;
    }
    free(text);
    if (st != INAS_OK) {
        free(c);
        return st;
    }
    *out = c;
    *n = cnt;
    return INAS_OK;
}

inas_status inas_search_write_svg(const char *path, const inas_search *s, inas_error *err) {
    size_t n;
    const inas_candidate *c = inas_search_candidates(s, &n);
    double lo, hi, qlo = 1e300, qhi = -1e300;
    inas_search_range(s, &lo, &hi);
    for (size_t i = 0; i < n; i++) {
        if (c[i].q.max_f < qlo) qlo = c[i].q.max_f;
        if (c[i].q.max_f > qhi) qhi = c[i].q.max_f;
        if (c[i].latency < lo) lo = c[i].latency;
        if (c[i].latency > hi) hi = c[i].latency;
    }
    if (!(qhi > qlo)) {
        qlo -= 0.05;
        qhi += 0.05;
    }
    const double W = 640, H = 420, L = 60, R = 20, T = 20, B = 50;
#define X(v) (L + ((v) - lo) / (hi - lo) * (W - L - R))
#define Y(v) (H - B - ((v) - qlo) / (qhi - qlo) * (H - T - B))
    inas_atomic_file *f;
    inas_status st = inas_atomic_open(path, &f, err);
    if (st != INAS_OK) return st;
    FILE *o = inas_atomic_stream(f);
    fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    fprintf(o, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
    fprintf(o, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L, T, L, H - B);
    for (int t = 0; t <= 4; t++) {
        double lv = lo + (hi - lo) * t / 4, qv = qlo + (qhi - qlo) * t / 4;
        fprintf(o, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%.3g</text>\n", X(lv), H - B + 16, lv);
        fprintf(o, "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.3f</text>\n", L - 4, Y(qv) + 4, qv);
    }
    fprintf(o, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">predicted latency (ms)</text>\n", (L + W - R) / 2, H - 10);
    fprintf(o, "<text x=\"14\" y=\"%g\" transform=\"rotate(-90 14 %g)\" text-anchor=\"middle\">max F-measure</text>\n",
            (T + H - B) / 2, (T + H - B) / 2);
    for (size_t i = 0; i < n; i++)
        fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#999\"/>\n", X(c[i].latency), Y(c[i].q.max_f));
    const inas_candidate **front = malloc((n ? n : 1) * sizeof *front);
    size_t nf = front ? inas_search_front(s, front, n) : 0;
    if (nf) {
        fprintf(o, "<polyline fill=\"none\" stroke=\"#d33\" stroke-width=\"2\" points=\"");
        for (size_t i = 0; i < nf; i++) fprintf(o, "%.1f,%.1f ", X(front[i]->latency), Y(front[i]->q.max_f));
        fprintf(o, "\"/>\n");
        for (size_t i = 0; i < nf; i++)
            fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#d33\"/>\n", X(front[i]->latency),
                    Y(front[i]->q.max_f));
    }
    free(front);
    fprintf(o, "<text x=\"%g\" y=\"%g\">%zu candidates, %zu on the front</text>\n</svg>\n", L + 10, T + 12, n, nf);
#undef X
#undef Y
    return inas_atomic_commit(f, err);
}
