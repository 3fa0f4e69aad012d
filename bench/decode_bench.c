/* decode_bench.c - lamkit's side of bench/decode.py: the inference engine's prefill and decode
 * speed on a model with random weights, which it also writes out so the PyTorch peer runs the
 * same model.
 *
 *   decode_bench MODEL PARAMS.f32 CONFIG.json prefill|decode ARGS...
 *     write                         writes the weights (P float32) and the config, then exits
 *     prefill PROMPT REPEATS        times REPEATS prefills of PROMPT random tokens
 *     decode BATCH PROMPT STEPS     starts BATCH sequences of PROMPT tokens, times STEPS decode
 *                                   steps of all of them (greedy, no grammar: the model alone)
 *     logits PROMPT                 prints the prompt's tokens and the last position's logits
 *                                   after its prefill (the check that both sides run the same
 *                                   model)
 * Prints one JSON object: {"tok_s": ..., "seconds": ..., "tokens": ...}. Threads: OMP_NUM_THREADS.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/bench.h"
#include "lam/engine.h"
#include "lam/model.h"
#include "lam/rng.h"
#include "lam/timer.h"

static void die(const char *what, const lam_error *e) {
    fprintf(stderr, "decode_bench: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr,
                "usage: decode_bench MODEL PARAMS.f32 CONFIG.json write|prefill|decode ...\n");
        return 2;
    }
    lam_backends_init();
    lam_error err = {0};
    lam_config cfg;
    if (lam_config_resolve(argv[1], &cfg, NULL, &err) != LAM_OK) die("model", &err);
    lam_backend *be;
    if (lam_backend_create("cpu", omp_get_max_threads(), &be, &err) != LAM_OK) die("backend", &err);
    lam_model m;
    if (lam_model_create(&m, &cfg, be, &err) != LAM_OK ||
        lam_model_init_weights(&m, 1234, &err) != LAM_OK)
        die("model", &err);
    float *params = malloc((size_t)m.n_params * 4);
    if (!params || lam_model_read_flat(&m, 0, params, &err) != LAM_OK) die("weights", &err);
    const char *mode = argv[4];
    if (!strcmp(mode, "write")) {
        FILE *f = fopen(argv[2], "wb");
        char *json = NULL;
        if (!f || fwrite(params, 4, (size_t)m.n_params, f) != (size_t)m.n_params)
            die("writing the weights", NULL);
        fclose(f);
        if (lam_config_to_json(&cfg, &json, &err) != LAM_OK) die("config", &err);
        f = fopen(argv[3], "w");
        if (!f || fputs(json, f) == EOF) die("writing the config", NULL);
        fclose(f);
        free(json);
        return 0;
    }
    int V = cfg.vocab_size;
    lam_engine_opts eo;
    lam_engine_opts_default(&eo);
    int batch = !strcmp(mode, "decode") && argc > 5 ? atoi(argv[5]) : 1;
    eo.max_seqs = batch;
    eo.prefill_chunk = 512;
    lam_engine *e;
    if (lam_engine_create(be, &cfg, params, &eo, &e, &err) != LAM_OK) die("engine", &err);
    int32_t *prompt = malloc(sizeof(int32_t) * (size_t)cfg.max_seq_len);
    float *logits = malloc(sizeof(float) * (size_t)V * batch);
    for (int i = 0; i < cfg.max_seq_len; i++)
        prompt[i] = (int32_t)(lam_rng_uniform(5, 0, i) * V) % V;
    double tokens = 0, seconds = 0;
    if (!strcmp(mode, "logits") && argc > 5) {
        int slot;
        if (lam_engine_start(e, prompt, atoi(argv[5]), &slot, logits, &err) != LAM_OK)
            die("prefill", &err);
        int n = atoi(argv[5]);
        printf("{\"tokens\": [");
        for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", prompt[i]);
        printf("], \"logits\": [");
        for (int i = 0; i < V; i++) printf("%s%.8g", i ? "," : "", logits[i]);
        printf("]}\n");
        return 0;
    }
    if (!strcmp(mode, "prefill") && argc > 6) {
        int n = atoi(argv[5]), reps = atoi(argv[6]), slot;
        if (lam_engine_start(e, prompt, n, &slot, logits, &err) != LAM_OK) die("warmup", &err);
        lam_engine_finish(e, slot);
        double t0 = lam_now_s();
        for (int r = 0; r < reps; r++) {
            if (lam_engine_start(e, prompt, n, &slot, logits, &err) != LAM_OK) die("prefill", &err);
            lam_engine_finish(e, slot);
        }
        seconds = lam_now_s() - t0;
        tokens = (double)n * reps;
    } else if (!strcmp(mode, "decode") && argc > 7) {
        int n = atoi(argv[6]), steps = atoi(argv[7]);
        int *slots = malloc(sizeof(int) * (size_t)batch);
        int32_t *next = malloc(sizeof(int32_t) * (size_t)batch);
        for (int b = 0; b < batch; b++) {
            if (lam_engine_start(e, prompt, n, &slots[b], logits, &err) != LAM_OK)
                die("prefill", &err);
            next[b] = prompt[b];
        }
        if (lam_engine_step(e, slots, next, batch, logits, &err) != LAM_OK) die("warmup", &err);
        double t0 = lam_now_s();
        for (int s = 0; s < steps; s++) {
            for (int b = 0; b < batch; b++) { /* greedy */
                const float *row = logits + (size_t)b * V;
                int32_t best = 0;
                for (int i = 1; i < V; i++)
                    if (row[i] > row[best]) best = i;
                next[b] = best;
            }
            if (lam_engine_step(e, slots, next, batch, logits, &err) != LAM_OK) die("step", &err);
        }
        seconds = lam_now_s() - t0;
        tokens = (double)batch * steps;
        free(slots), free(next);
    } else {
        fprintf(stderr, "decode_bench: bad mode or arguments\n");
        return 2;
    }
    printf("{\"tok_s\": %.2f, \"seconds\": %.6f, \"tokens\": %.0f, \"blas_core\": \"%s\"}\n",
           tokens / seconds, seconds, tokens, lam_bench_blas_core());
    free(prompt), free(logits), free(params);
    lam_engine_free(e);
    lam_model_destroy(&m);
    lam_backend_destroy(be);
    return 0;
}
