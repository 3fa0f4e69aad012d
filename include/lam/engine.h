/* engine.h - owns the model at inference time: its weights on a backend, a KV cache per
 * sequence slot, prefill (a prompt in chunks, each chunk's queries attending causally to the
 * cache) and batched decode steps (one new token for each of several sequences of different
 * lengths at once), written against the backend interface like the model is. Memory is planned
 * at create: weights, the caches of every slot, and activations for the largest chunk; nothing
 * is allocated per token. It does not own sampling (sampler.h), the grammar of the actions
 * (grammar.h) nor requests (actgen.h). Shapes: S = positions per slot, n = sequences in a
 * step; the rest as in docs/model.md. */
#ifndef LAM_ENGINE_H
#define LAM_ENGINE_H

#include <stdint.h>

#include "lam/backend.h"
#include "lam/config.h"
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int max_seqs;      /* sequence slots (the most sequences decoded together); default 16 */
    int max_len;       /* S, positions per slot (prompt + output); 0: the model's max_seq_len */
    int prefill_chunk; /* prompt tokens per prefill forward; default 256 */
} lam_engine_opts;

void lam_engine_opts_default(lam_engine_opts *o);

typedef struct lam_engine lam_engine;

/* The model cfg with the flat parameter vector params (host, P floats), copied to be. */
lam_status lam_engine_create(lam_backend *be, const lam_config *cfg, const float *params,
                             const lam_engine_opts *o, lam_engine **out, lam_error *err);
void lam_engine_free(lam_engine *e);
const lam_config *lam_engine_config(const lam_engine *e);
int lam_engine_max_seqs(const lam_engine *e);
int lam_engine_max_len(const lam_engine *e);
/* Device bytes of the weights, the KV caches and the activations. */
void lam_engine_bytes(const lam_engine *e, size_t *weights, size_t *cache, size_t *acts);

/* Takes a free slot for a new sequence and prefills its prompt (n >= 1 tokens); the logits
 * of the prompt's last position go to logits (V floats, host). LAM_ERR_NOMEM when every slot
 * is taken; LAM_ERR_INVALID when the prompt is longer than max_len - 1. */
lam_status lam_engine_start(lam_engine *e, const int32_t *prompt, int n, int *slot, float *logits,
                            lam_error *err);
/* One decode step: for each i < n, token tokens[i] is appended to sequence slots[i] (distinct,
 * started, not full); logits (n, V) receive the next-token logits of each. */
lam_status lam_engine_step(lam_engine *e, const int *slots, const int32_t *tokens, int n,
                           float *logits, lam_error *err);
/* Frees a slot (its cache is reused by the next start). */
void lam_engine_finish(lam_engine *e, int slot);
/* Positions held by a slot's sequence (0 when free). */
int lam_engine_len(const lam_engine *e, int slot);

#ifdef __cplusplus
}
#endif

#endif
