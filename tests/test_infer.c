/* test_infer.c - the inference engine and the sampler:
 *   engine_parity     prefill (in chunks) and decode steps give the logits of the whole-sequence
 *                     forward of the model (lam_model_forward, itself checked against PyTorch)
 *                     at every position, for prompts of several lengths; relative 2e-5
 *   batch_invariance  sequences of different lengths decoded greedily alone and together
 *                     (joining and leaving the batch between steps) give the same tokens, and
 *                     logits within 1e-5
 *   sampler           greedy picks the first largest logit; -inf never drawn; draws are a pure
 *                     function of (seed, stream, step); 200k draws at a temperature with top-k
 *                     and top-p match the probabilities computed here in double (total
 *                     variation < 0.01)
 *   engine_errors     bad prompts, tokens, slots and full engines get errors naming them */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/engine.h"
#include "lam/model.h"
#include "lam/rng.h"
#include "lam/sampler.h"

static int failures;
static lam_error err;
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__, #cond);         \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
#define OK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != LAM_OK) {                                                                    \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, err.msg);         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static lam_config test_config(void) {
    lam_config c;
    lam_config_preset("tiny", &c, NULL);
    c.vocab_size = 301, c.dim = 72, c.n_layers = 2, c.n_heads = 6, c.n_kv_heads = 2;
    c.ffn_dim = 100, c.max_seq_len = 160;
    c.init_std = 0.1f; /* larger weights: logits that differ across positions */
    return c;
}

/* A model with random weights and its flat parameters (host). */
static float *random_model(lam_backend *be, const lam_config *c, lam_model *m) {
    OK(lam_model_create(m, c, be, &err));
    OK(lam_model_init_weights(m, 77, &err));
    float *p = malloc(m->n_params * 4);
    OK(lam_model_read_flat(m, 0, p, &err));
    return p;
}

static int32_t argmax(const float *x, int n) {
    int32_t b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

static double rel_err(const float *a, const float *b, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= num)) num = d;
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return num / (den > 0 ? den : 1);
}

static void test_engine_parity(void) {
    lam_config c = test_config();
    lam_backend *be;
    OK(lam_backend_create("cpu", 2, &be, &err));
    lam_model m;
    float *params = random_model(be, &c, &m);
    int V = c.vocab_size, lens[4] = {1, 7, 30, 95}, decode = 12;
    lam_engine_opts eo;
    lam_engine_opts_default(&eo);
    eo.max_seqs = 4, eo.prefill_chunk = 13; /* prompts cross several chunks */
    lam_engine *e;
    OK(lam_engine_create(be, &c, params, &eo, &e, &err));
    OK(lam_model_plan(&m, 1, c.max_seq_len, &err));
    float *lg = malloc((size_t)V * 4), *full = malloc((size_t)c.max_seq_len * V * 4);
    int32_t *seq = malloc((size_t)c.max_seq_len * 4);
    double worst = 0;
    for (int k = 0; k < 4; k++) {
        int n = lens[k], slot;
        for (int i = 0; i < n; i++) seq[i] = (int32_t)(lam_rng_uniform(k, 5, i) * V) % V;
        OK(lam_engine_start(e, seq, n, &slot, lg, &err));
        for (int t = 0; t <= decode; t++) {
            /* reference: the whole sequence so far through the training forward */
            OK(lam_model_forward(&m, seq, NULL, NULL, 1, n + t, NULL, &err));
            OK(lam_model_logits(&m, full, &err));
            double r = rel_err(lg, full + (size_t)(n + t - 1) * V, V);
            if (r > worst) worst = r;
            if (t == decode) break;
            seq[n + t] = argmax(lg, V);
            OK(lam_engine_step(e, &slot, &seq[n + t], 1, lg, &err));
        }
        EXPECT(lam_engine_len(e, slot) == n + decode);
        lam_engine_finish(e, slot);
    }
    printf("engine_parity: prompts of 1, 7, 30, 95 tokens (chunks of 13) and %d decode steps: "
           "worst relative error of the logits %.2e\n",
           decode, worst);
    EXPECT(worst < 2e-5);
    free(lg), free(full), free(seq), free(params);
    lam_engine_free(e);
    lam_model_destroy(&m);
    lam_backend_destroy(be);
}

static void test_batch_invariance(void) {
    lam_config c = test_config();
    lam_backend *be;
    OK(lam_backend_create("cpu", 2, &be, &err));
    lam_model m;
    float *params = random_model(be, &c, &m);
    lam_model_destroy(&m);
    int V = c.vocab_size, ns = 5, steps = 20;
    int plen[5] = {3, 40, 11, 64, 1}, join[5] = {0, 0, 4, 7, 12}; /* step at which each joins */
    lam_engine_opts eo;
    lam_engine_opts_default(&eo);
    eo.max_seqs = 5, eo.prefill_chunk = 16;
    lam_engine *e;
    OK(lam_engine_create(be, &c, params, &eo, &e, &err));
    int32_t alone[5][32], together[5][32], prompt[64];
    float *lg = malloc((size_t)5 * V * 4), *la = malloc((size_t)5 * steps * V * 4);
    float *lt = malloc((size_t)5 * steps * V * 4);
    /* alone */
    for (int s = 0; s < ns; s++) {
        for (int i = 0; i < plen[s]; i++) prompt[i] = (int32_t)(lam_rng_uniform(s, 9, i) * V) % V;
        int slot;
        OK(lam_engine_start(e, prompt, plen[s], &slot, lg, &err));
        for (int t = 0; t < steps; t++) {
            alone[s][t] = argmax(lg, V);
            memcpy(la + ((size_t)s * steps + t) * V, lg, (size_t)V * 4);
            if (t + 1 < steps) OK(lam_engine_step(e, &slot, &alone[s][t], 1, lg, &err));
        }
        lam_engine_finish(e, slot);
    }
    /* together: sequence s joins at step join[s] and leaves after its `steps` tokens */
    int slot_of[5], done[5] = {0}, count[5] = {0};
    for (int clock = 0;; clock++) {
        int slots[5], idx[5], n = 0;
        int32_t toks[5];
        for (int s = 0; s < ns; s++) {
            if (join[s] == clock) {
                for (int i = 0; i < plen[s]; i++)
                    prompt[i] = (int32_t)(lam_rng_uniform(s, 9, i) * V) % V;
                OK(lam_engine_start(e, prompt, plen[s], &slot_of[s], lg, &err));
                together[s][0] = argmax(lg, V);
                memcpy(lt + (size_t)s * steps * V, lg, (size_t)V * 4);
                count[s] = 1;
            } else if (join[s] < clock && !done[s]) {
                slots[n] = slot_of[s], toks[n] = together[s][count[s] - 1], idx[n++] = s;
            }
        }
        if (n) OK(lam_engine_step(e, slots, toks, n, lg, &err));
        for (int i = 0; i < n; i++) {
            int s = idx[i];
            together[s][count[s]] = argmax(lg + (size_t)i * V, V);
            memcpy(lt + ((size_t)s * steps + count[s]) * V, lg + (size_t)i * V, (size_t)V * 4);
            if (++count[s] == steps) done[s] = 1, lam_engine_finish(e, slot_of[s]);
        }
        int all = 1;
        for (int s = 0; s < ns; s++) all &= done[s];
        if (all) break;
    }
    int same = 1;
    double worst = 0;
    for (int s = 0; s < ns; s++)
        for (int t = 0; t < steps; t++) {
            same &= alone[s][t] == together[s][t];
            double r =
                rel_err(lt + ((size_t)s * steps + t) * V, la + ((size_t)s * steps + t) * V, V);
            if (r > worst) worst = r;
        }
    printf("batch_invariance: 5 sequences x %d greedy tokens, alone vs in a batch of 1-5 "
           "(joining, leaving): tokens %s, worst logit difference %.2e\n",
           steps, same ? "identical" : "DIFFER", worst);
    EXPECT(same && worst < 1e-5);
    free(lg), free(la), free(lt), free(params);
    lam_engine_free(e);
    lam_backend_destroy(be);
}

static void test_sampler(void) {
    int V = 50;
    float lg[50];
    for (int i = 0; i < V; i++) lg[i] = lam_rng_normal(1, 2, i) * 2.0f;
    lg[7] = -INFINITY, lg[8] = -INFINITY;
    lam_sample_scratch sc;
    OK(lam_sample_scratch_init(&sc, V, &err));
    lam_sampling s;
    lam_sampling_default(&s);
    int32_t tok;
    OK(lam_sample(lg, V, &s, 0, 0, &sc, &tok, &err));
    int32_t want = 0;
    for (int i = 1; i < V; i++)
        if (lg[i] > lg[want]) want = i;
    EXPECT(tok == want);
    /* the distribution at temperature 0.8 with top-k 10 and top-p 0.9, computed in double */
    s.temperature = 0.8f, s.top_k = 10, s.top_p = 0.9f, s.seed = 42;
    int order[50];
    for (int i = 0; i < V; i++) order[i] = i;
    for (int i = 0; i < V; i++) /* selection sort by logit, descending */
        for (int j = i + 1; j < V; j++)
            if (lg[order[j]] > lg[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    double p[50] = {0}, z = 0;
    for (int k = 0; k < 10; k++) z += exp((lg[order[k]] - lg[order[0]]) / 0.8);
    double acc = 0;
    int keep = 10;
    for (int k = 0; k < 10; k++) {
        acc += exp((lg[order[k]] - lg[order[0]]) / 0.8) / z;
        if (acc >= 0.9) {
            keep = k + 1;
            break;
        }
    }
    z = 0;
    for (int k = 0; k < keep; k++) z += exp((lg[order[k]] - lg[order[0]]) / 0.8);
    for (int k = 0; k < keep; k++) p[order[k]] = exp((lg[order[k]] - lg[order[0]]) / 0.8) / z;
    int n = 200000, *hist = calloc((size_t)V, sizeof *hist);
    for (int d = 0; d < n; d++) {
        OK(lam_sample(lg, V, &s, 3, (uint64_t)d, &sc, &tok, &err));
        hist[tok]++;
    }
    double tv = 0;
    int outside = 0;
    for (int i = 0; i < V; i++) {
        tv += fabs(hist[i] / (double)n - p[i]);
        outside += p[i] == 0 && hist[i] > 0;
    }
    tv *= 0.5;
    printf("sampler: %d draws (T=0.8, top-k 10, top-p 0.9 keeps %d): total variation %.4f, "
           "%d draws outside the support\n",
           n, keep, tv, outside);
    EXPECT(tv < 0.01 && outside == 0);
    /* determinism: the same (seed, stream, step) gives the same token; -inf never chosen */
    int32_t a, b;
    OK(lam_sample(lg, V, &s, 5, 17, &sc, &a, &err));
    OK(lam_sample(lg, V, &s, 5, 17, &sc, &b, &err));
    EXPECT(a == b);
    s.top_k = 0, s.top_p = 1.0f, s.temperature = 50.0f;
    int bad = 0;
    for (int d = 0; d < 20000; d++) {
        OK(lam_sample(lg, V, &s, 1, (uint64_t)d, &sc, &tok, &err));
        bad += tok == 7 || tok == 8;
    }
    EXPECT(bad == 0);
    for (int i = 0; i < V; i++) lg[i] = -INFINITY;
    EXPECT(lam_sample(lg, V, &s, 0, 0, &sc, &tok, &err) == LAM_ERR_INVALID);
    lam_sampling badp = s;
    badp.top_p = 0.0f;
    EXPECT(lam_sampling_check(&badp, &err) == LAM_ERR_INVALID);
    badp = s, badp.temperature = -1.0f;
    EXPECT(lam_sampling_check(&badp, &err) == LAM_ERR_INVALID);
    free(hist);
    lam_sample_scratch_free(&sc);
}

static void expect_err(lam_status s, lam_status want, const char *text) {
    int good = s == want && strstr(err.msg, text);
    printf("engine_errors: %s\n", s == LAM_OK ? "(no error)" : err.msg);
    EXPECT(good);
}

static void test_engine_errors(void) {
    lam_config c = test_config();
    lam_backend *be;
    OK(lam_backend_create("cpu", 1, &be, &err));
    lam_model m;
    float *params = random_model(be, &c, &m);
    lam_model_destroy(&m);
    lam_engine_opts eo;
    lam_engine_opts_default(&eo);
    eo.max_seqs = 2, eo.max_len = 20;
    lam_engine *e;
    OK(lam_engine_create(be, &c, params, &eo, &e, &err));
    int32_t p[40] = {0};
    float *lg = malloc((size_t)2 * c.vocab_size * 4);
    int s0, s1, s2;
    expect_err(lam_engine_start(e, p, 20, &s0, lg, &err), LAM_ERR_INVALID, "prompt of 20 tokens");
    expect_err(lam_engine_start(e, p, 0, &s0, lg, &err), LAM_ERR_INVALID, "prompt of 0");
    p[3] = 301;
    expect_err(lam_engine_start(e, p, 5, &s0, lg, &err), LAM_ERR_INVALID, "301 at position 3");
    p[3] = 0;
    OK(lam_engine_start(e, p, 18, &s0, lg, &err));
    OK(lam_engine_start(e, p, 2, &s1, lg, &err));
    expect_err(lam_engine_start(e, p, 2, &s2, lg, &err), LAM_ERR_NOMEM, "slots are taken");
    int32_t t2[2] = {1, 2};
    int both[2] = {s0, s0};
    expect_err(lam_engine_step(e, both, t2, 2, lg, &err), LAM_ERR_INVALID, "twice");
    OK(lam_engine_step(e, &s0, t2, 1, lg, &err));
    OK(lam_engine_step(e, &s0, t2, 1, lg, &err));
    expect_err(lam_engine_step(e, &s0, t2, 1, lg, &err), LAM_ERR_INVALID, "is full");
    lam_engine_finish(e, s1);
    expect_err(lam_engine_step(e, &s1, t2, 1, lg, &err), LAM_ERR_INVALID, "not started");
    OK(lam_engine_start(e, p, 2, &s1, lg, &err));
    int32_t big = 5000;
    expect_err(lam_engine_step(e, &s1, &big, 1, lg, &err), LAM_ERR_INVALID, "5000");
    eo.max_len = 500;
    lam_engine *e2 = NULL;
    expect_err(lam_engine_create(be, &c, params, &eo, &e2, &err), LAM_ERR_INVALID, "max_len");
    free(lg), free(params);
    lam_engine_free(e);
    lam_backend_destroy(be);
}

int main(int argc, char **argv) {
    lam_backends_init();
    const char *which = argc > 1 ? argv[1] : "all";
    int all = !strcmp(which, "all");
    if (all || !strcmp(which, "engine_parity")) test_engine_parity();
    if (all || !strcmp(which, "batch_invariance")) test_batch_invariance();
    if (all || !strcmp(which, "sampler")) test_sampler();
    if (all || !strcmp(which, "engine_errors")) test_engine_errors();
    printf("%s: %s\n", which, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
