/* loader.h - owns the training data loader: the samples of one split of a dataset store,
 * an order per epoch (a counter-based shuffle of the seed and the epoch), and their packing
 * into rows of T positions (several samples per row, first fit over a window of the order,
 * each sample its own attention segment), as an endless stream of rows numbered 0, 1, 2...
 * across epochs. Row g is a pure function of (dataset, split, T, seed, g), so a run resumed
 * at row g reads what the uninterrupted run read, and ranks take disjoint rows of the same
 * stream. It does not own the store (h5store.h) nor batches and ranks (trainer.h). */
#ifndef LAM_LOADER_H
#define LAM_LOADER_H

#include <stdint.h>

#include "lam/h5store.h"
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int T;         /* positions per row; a sample of n tokens takes n-1 (inputs and targets) */
    uint64_t seed; /* order of each epoch */
    int shuffle;   /* 0: store order every epoch (evaluation) */
    int window;    /* samples packed together by first fit (>= 1; default 512) */
    int64_t max_in_memory; /* tokens of the split read once into memory when at most this many
                              (default 1<<28); above, each sample is read from the file */
    float prompt_weight;   /* the mask's value on the samples' other positions (the prompt:
                              an auxiliary language-model loss); default 0 */
} lam_loader_opts;

void lam_loader_opts_default(lam_loader_opts *o);

typedef struct {
    int64_t n_samples;   /* of the split */
    int64_t n_used;      /* that fit a row */
    int64_t n_too_long;  /* longer than T+1 tokens: never used (reported, not silent) */
    int64_t tokens;      /* positions of the used samples in one epoch (sum of n-1) */
    int64_t loss_tokens; /* masked target positions in one epoch (-1: not counted, the split
                            is read from the file as it goes) */
    int64_t rows_epoch0; /* rows the first epoch packs into */
} lam_loader_stats;

typedef struct lam_loader lam_loader;

/* The samples of `split` ("train", "valid", ...; NULL: every sample). The reader must outlive
 * the loader. A split with no usable sample is an error naming the split and the counts. */
lam_status lam_loader_open(lam_h5_reader *r, const char *split, const lam_loader_opts *o,
                           lam_loader **out, lam_error *err);
void lam_loader_close(lam_loader *l);
void lam_loader_get_stats(const lam_loader *l, lam_loader_stats *s);

/* Rows [g, g+n) of the stream into (n,T) arrays: tokens, targets (the next token), mask (1.0
 * on the target positions of the samples' loss masks, 0 elsewhere and on padding), seg (the
 * first position of each position's sample; padding is a segment of its own). *n_tokens and
 * *n_loss (may be NULL) count the non-padding positions and the masked ones. */
lam_status lam_loader_rows(lam_loader *l, int64_t g, int n, int32_t *tokens, int32_t *targets,
                           float *mask, int32_t *seg, int64_t *n_tokens, int64_t *n_loss,
                           lam_error *err);

/* Rows of epoch e (its packing) and the first row of epoch e in the stream. */
lam_status lam_loader_epoch_rows(lam_loader *l, int64_t e, int64_t *rows, int64_t *first,
                                 lam_error *err);
/* The epoch row g belongs to. */
lam_status lam_loader_epoch_of(lam_loader *l, int64_t g, int64_t *epoch, lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
