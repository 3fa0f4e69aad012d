/* sampler.c - greedy, temperature, top-k and top-p sampling (sampler.h). */
#include "lam/sampler.h"

#include <math.h>
#include <stdlib.h>

#include "lam/rng.h"

typedef struct {
    float v;
    int32_t i;
} cand;

void lam_sampling_default(lam_sampling *s) {
    s->temperature = 0.0f;
    s->top_k = 0;
    s->top_p = 1.0f;
    s->seed = 0;
}

lam_status lam_sampling_check(const lam_sampling *s, lam_error *err) {
    if (!(s->temperature >= 0.0f) || !isfinite(s->temperature) || s->temperature > 100.0f)
        return lam_error_set(err, LAM_ERR_INVALID, "temperature %g: must be in [0, 100]",
                             s->temperature);
    if (s->top_k < 0)
        return lam_error_set(err, LAM_ERR_INVALID, "top_k %d: must be >= 0", s->top_k);
    if (!(s->top_p > 0.0f) || s->top_p > 1.0f)
        return lam_error_set(err, LAM_ERR_INVALID, "top_p %g: must be in (0, 1]", s->top_p);
    return LAM_OK;
}

lam_status lam_sample_scratch_init(lam_sample_scratch *s, int V, lam_error *err) {
    s->buf = malloc((size_t)(V > 0 ? V : 1) * sizeof(cand));
    s->cap = V;
    if (!s->buf) return lam_error_set(err, LAM_ERR_NOMEM, "sampler: out of memory");
    return LAM_OK;
}

void lam_sample_scratch_free(lam_sample_scratch *s) {
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

/* larger value first; ties by the smaller index (a total order: the result is deterministic) */
static int by_value(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

lam_status lam_sample(const float *logits, int V, const lam_sampling *s, uint64_t stream,
                      uint64_t step, lam_sample_scratch *scratch, int32_t *token, lam_error *err) {
    int best = -1;
    for (int i = 0; i < V; i++)
        if (isfinite(logits[i]) && (best < 0 || logits[i] > logits[best])) best = i;
    if (best < 0)
        return lam_error_set(err, LAM_ERR_INVALID, "sampler: no token has a finite logit");
    if (s->temperature == 0.0f) {
        *token = best;
        return LAM_OK;
    }
    if (scratch->cap < V)
        return lam_error_set(err, LAM_ERR_INVALID, "sampler: scratch for %d logits, got %d",
                             scratch->cap, V);
    cand *c = scratch->buf;
    int n = 0;
    for (int i = 0; i < V; i++)
        if (isfinite(logits[i])) c[n++] = (cand){logits[i], i};
    qsort(c, (size_t)n, sizeof *c, by_value);
    if (s->top_k > 0 && s->top_k < n) n = s->top_k;
    /* softmax at the temperature over the candidates, in sorted order */
    double mx = c[0].v, sum = 0.0;
    for (int k = 0; k < n; k++) sum += exp(((double)c[k].v - mx) / s->temperature);
    if (s->top_p < 1.0f) {
        double acc = 0.0;
        int keep = n;
        for (int k = 0; k < n; k++) {
            acc += exp(((double)c[k].v - mx) / s->temperature) / sum;
            if (acc >= s->top_p) {
                keep = k + 1;
                break;
            }
        }
        n = keep;
        sum = 0.0;
        for (int k = 0; k < n; k++) sum += exp(((double)c[k].v - mx) / s->temperature);
    }
    double u = (double)lam_rng_uniform(s->seed, stream, step) * sum, acc = 0.0;
    for (int k = 0; k < n; k++) {
        acc += exp(((double)c[k].v - mx) / s->temperature);
        if (u < acc) {
            *token = c[k].i;
            return LAM_OK;
        }
    }
    *token = c[n - 1].i; /* u rounded to the very top */
    return LAM_OK;
}
