/* progress.h - owns the progress bar: redrawn in place (\r) on a terminal, plain periodic
 * lines when the stream is not a terminal (CI logs). */
#ifndef LAM_PROGRESS_H
#define LAM_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    FILE *out;
    int is_tty;
    int64_t total;
    int64_t done;
    int64_t start; /* done when the bar started (a resumed job); the ETA counts from it */
    double t_start;
    double t_last;   /* last draw */
    double period_s; /* min seconds between draws: 0.1 on a tty, 5 otherwise */
    char label[64];
    char extra[192]; /* caller's fields: "loss 2.31 | 1234 tok/s" */
} lam_progress;

void lam_progress_init(lam_progress *p, FILE *out, const char *label, int64_t total);
/* A bar that starts with `start` of `total` already done (its rate counts from there). */
void lam_progress_init_at(lam_progress *p, FILE *out, const char *label, int64_t start,
                          int64_t total);
/* Sets the count and the caller's text; draws if the period has passed. */
void lam_progress_update(lam_progress *p, int64_t done, const char *extra);
/* Draws a final line and a newline. */
void lam_progress_finish(lam_progress *p, const char *extra);
/* Formats the bar line into buf (used by the drawer and by tests). */
void lam_progress_format(const lam_progress *p, double now, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
