/* progress.c - the progress bar (see progress.h). */
#define _POSIX_C_SOURCE 200809L
#include "lam/progress.h"

#include <string.h>
#include <unistd.h>

#include "lam/timer.h"

void lam_progress_init(lam_progress *p, FILE *out, const char *label, int64_t total) {
    memset(p, 0, sizeof *p);
    p->out = out ? out : stderr;
    p->is_tty = isatty(fileno(p->out));
    p->total = total;
    p->t_start = lam_now_s();
    p->t_last = -1.0;
    p->period_s = p->is_tty ? 0.1 : 5.0;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
}

void lam_progress_init_at(lam_progress *p, FILE *out, const char *label, int64_t start,
                          int64_t total) {
    lam_progress_init(p, out, label, total);
    p->start = p->done = start;
}

static void fmt_duration(double s, char *buf, size_t cap) {
    if (s < 0 || s > 1e7) {
        snprintf(buf, cap, "--:--");
        return;
    }
    int t = (int)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, cap, "%02d:%02d", t / 60, t % 60);
}

void lam_progress_format(const lam_progress *p, double now, char *buf, size_t cap) {
    double frac = p->total > 0 ? (double)p->done / (double)p->total : 0.0;
    if (frac > 1) frac = 1;
    double elapsed = now - p->t_start;
    double eta = (p->done > p->start && p->total > 0)
                     ? elapsed * (double)(p->total - p->done) / (double)(p->done - p->start)
                     : -1.0;
    char el[16], et[16];
    fmt_duration(elapsed, el, sizeof el);
    fmt_duration(eta, et, sizeof et);
    enum { W = 24 };
    char bar[W + 1];
    int fill = (int)(frac * W + 0.5);
    for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
    bar[W] = 0;
    snprintf(buf, cap, "%s [%s] %3d%% %lld/%lld | %s%s%s<%s", p->label, bar,
             (int)(frac * 100 + 0.5), (long long)p->done, (long long)p->total, p->extra,
             p->extra[0] ? " | " : "", el, et);
}

static void draw(lam_progress *p, double now, int final) {
    char line[512];
    lam_progress_format(p, now, line, sizeof line);
    if (p->is_tty)
        fprintf(p->out, "\r\033[K%s%s", line, final ? "\n" : "");
    else
        fprintf(p->out, "%s\n", line);
    fflush(p->out);
    p->t_last = now;
}

void lam_progress_update(lam_progress *p, int64_t done, const char *extra) {
    p->done = done;
    if (extra) snprintf(p->extra, sizeof p->extra, "%s", extra);
    double now = lam_now_s();
    if (p->t_last < 0 || now - p->t_last >= p->period_s) draw(p, now, 0);
}

void lam_progress_finish(lam_progress *p, const char *extra) {
    if (extra) snprintf(p->extra, sizeof p->extra, "%s", extra);
    draw(p, lam_now_s(), 1);
}
