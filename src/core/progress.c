/* progress.c - a one-line terminal progress bar with rate and ETA (stderr by
 * convention); silent when the stream is not a terminal. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inas/runtime.h"
#include "inas/util.h"

void inas_progress_begin(inas_progress *p, FILE *stream, const char *label, uint64_t total) {
    memset(p, 0, sizeof *p);
    p->stream = stream;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->start_ms = inas_wall_ms();
    p->last_draw_ms = -1e9;
    p->enabled = stream && isatty(fileno(stream));
}

void inas_progress_force(inas_progress *p, int force) {
    if (force >= 0) p->enabled = force;
    else p->enabled = p->stream && isatty(fileno(p->stream));
}

static void fmt_duration(double s, char *buf, size_t len) {
    if (s < 0) s = 0;
    if (s < 60) snprintf(buf, len, "%.0fs", s);
    else if (s < 3600) snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, len, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

void inas_progress_format(const inas_progress *p, double now_ms, char *buf, size_t len) {
    double el = (now_ms - p->start_ms) / 1000.0;
    double rate = el > 0 ? (double)p->done / el : 0;
    char bar[32];
    int width = 24, fill = 0;
    if (p->total > 0) fill = (int)((double)p->done / (double)p->total * width + 0.5);
    if (fill > width) fill = width;
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    char eta[32] = "?";
    if (p->total > 0 && rate > 0) fmt_duration((double)(p->total - (p->done < p->total ? p->done : p->total)) / rate, eta, sizeof eta);
    if (p->total > 0)
        snprintf(buf, len, "%s [%s] %llu/%llu %.1f/s ETA %s", p->label, bar, (unsigned long long)p->done,
                 (unsigned long long)p->total, rate, eta);
    else
        snprintf(buf, len, "%s %llu %.1f/s", p->label, (unsigned long long)p->done, rate);
}

void inas_progress_update(inas_progress *p, uint64_t done) {
    p->done = done;
    if (!p->enabled) return;
    double now = inas_wall_ms();
    if (now - p->last_draw_ms < 100 && done < p->total) return;
    p->last_draw_ms = now;
    char line[256];
    inas_progress_format(p, now, line, sizeof line);
    fprintf(p->stream, "\r%s\033[K", line);
    fflush(p->stream);
}

void inas_progress_end(inas_progress *p) {
    if (!p->enabled) return;
    char line[256];
    inas_progress_format(p, inas_wall_ms(), line, sizeof line);
    fprintf(p->stream, "\r%s\033[K\n", line);
    fflush(p->stream);
}
