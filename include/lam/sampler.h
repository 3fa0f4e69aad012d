/* sampler.h - owns the choice of the next token from a row of logits: greedy, or sampling at a
 * temperature from the top-k and top-p (nucleus) candidates, with randomness that is a pure
 * function of (seed, stream, step) (Philox), so a sequence draws the same tokens whether it is
 * decoded alone or in a batch, on any thread count. Logits of -INFINITY (tokens a grammar
 * forbids) are never chosen. It does not own the grammar (grammar.h) nor the model. */
#ifndef LAM_SAMPLER_H
#define LAM_SAMPLER_H

#include <stdint.h>

#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    float temperature; /* 0: greedy (the first of the largest logits) */
    int top_k;         /* keep the k largest (0: all) */
    float top_p;       /* keep the smallest prefix of the sorted distribution reaching p (1: all) */
    uint64_t seed;
} lam_sampling;

void lam_sampling_default(lam_sampling *s); /* greedy, top_k 0, top_p 1, seed 0 */
/* LAM_ERR_INVALID naming the field when a value is out of range. */
lam_status lam_sampling_check(const lam_sampling *s, lam_error *err);

/* Scratch for lam_sample over V logits: V (index, value) pairs. */
typedef struct {
    void *buf;
    int cap;
} lam_sample_scratch;
lam_status lam_sample_scratch_init(lam_sample_scratch *s, int V, lam_error *err);
void lam_sample_scratch_free(lam_sample_scratch *s);

/* The token drawn from logits[0..V) for draw number `step` of stream `stream` (a request id).
 * LAM_ERR_INVALID when no logit is finite (nothing can be chosen). */
lam_status lam_sample(const float *logits, int V, const lam_sampling *s, uint64_t stream,
                      uint64_t step, lam_sample_scratch *scratch, int32_t *token, lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
