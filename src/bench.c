/* bench.c - timed training steps and the sgemm rate (see bench.h). */
#include "lam/bench.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "lam/model.h"
#include "lam/progress.h"
#include "lam/rng.h"
#include "lam/timer.h"

/* The profile as a table, slowest first: seconds per step, share of the step, calls. */
static void print_profile(FILE *f, const lam_model_profile *p, double total) {
    int order[LAM_PROFILE_MAX];
    for (int i = 0; i < p->n; i++) order[i] = i;
    for (int i = 1; i < p->n; i++)
        for (int j = i; j > 0 && p->seconds[order[j]] > p->seconds[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    double sum = 0.0;
    fprintf(f, "%-22s %10s %7s %7s\n", "op (call site)", "ms total", "share", "calls");
    for (int k = 0; k < p->n; k++) {
        int i = order[k];
        sum += p->seconds[i];
        fprintf(f, "%-22s %10.1f %6.1f%% %7lld\n", p->label[i], 1e3 * p->seconds[i],
                100.0 * p->seconds[i] / total, (long long)p->calls[i]);
    }
    fprintf(f, "%-22s %10.1f %6.1f%%\n", "(outside the ops)", 1e3 * (total - sum),
            100.0 * (total - sum) / total);
}

lam_status lam_bench_train_step(lam_backend *be, const lam_config *cfg, const lam_bench_opts *o,
                                lam_bench_result *r, lam_error *err) {
    int B = o->batch, T = o->seq;
    int64_t N = (int64_t)B * T;
    lam_model m;
    LAM_TRY(lam_model_create(&m, cfg, be, err));
    lam_status st = lam_model_init_weights(&m, o->seed, err);
    if (st == LAM_OK) st = lam_model_plan(&m, B, T, err);
    int32_t *tokens = malloc((size_t)(N + 1) * sizeof(int32_t));
    if (st == LAM_OK && !tokens) st = lam_error_set(err, LAM_ERR_NOMEM, "bench: out of memory");
    if (st != LAM_OK) goto done;
    /* random tokens; targets are the next tokens */
    for (int64_t i = 0; i <= N; i++)
        tokens[i] = (int32_t)(lam_rng_uniform(o->seed, 99, (uint64_t)i) * (float)cfg->vocab_size) %
                    cfg->vocab_size;
    lam_adamw_hp hp = {.lr = 1e-3f,
                       .beta1 = 0.9f,
                       .beta2 = 0.95f,
                       .eps = 1e-8f,
                       .weight_decay = 0.1f,
                       .step = 0,
                       .grad_scale = 1.0f};
    lam_model_profile prof;
    memset(&prof, 0, sizeof prof);
    lam_progress bar;
    int total = o->warmup + o->steps;
    if (o->progress) lam_progress_init(&bar, o->progress, "bench", total);
    double t0 = 0.0;
    for (int s = 0; s < total; s++) {
        if (s == o->warmup) {
            t0 = lam_now_s();
            if (o->profile) m.profile = &prof;
        }
        float loss, norm;
        if ((st = lam_model_zero_grad(&m, err)) != LAM_OK) break;
        if ((st = lam_model_forward(&m, tokens, tokens + 1, NULL, B, T, &loss, err)) != LAM_OK)
            break;
        if ((st = lam_model_backward(&m, err)) != LAM_OK) break;
        if ((st = lam_model_grad_norm(&m, &norm, err)) != LAM_OK) break;
        hp.step = s + 1;
        hp.grad_scale = norm > 1.0f ? 1.0f / norm : 1.0f;
        if ((st = lam_model_adamw(&m, &hp, err)) != LAM_OK) break;
        if ((st = be->synchronize(be, err)) != LAM_OK) break;
        if (s == 0) r->first_loss = loss;
        r->last_loss = loss;
        if (o->progress) {
            char extra[160];
            double el = lam_now_s() - t0;
            int timed = s + 1 - o->warmup;
            if (timed > 0)
                snprintf(extra, sizeof extra, "loss %.4f | norm %.3f | %.0f tok/s", loss, norm,
                         (double)N * timed / el);
            else
                snprintf(extra, sizeof extra, "loss %.4f | norm %.3f | warmup", loss, norm);
            lam_progress_update(&bar, s + 1, extra);
        }
    }
    if (st == LAM_OK) {
        double el = lam_now_s() - t0;
        r->tok_s = (double)N * o->steps / el;
        r->step_ms = 1e3 * el / o->steps;
        r->gflops = r->tok_s * lam_config_train_flops_per_token(cfg, T) * 1e-9;
        r->n_params = m.n_params;
        r->act_bytes = m.act_bytes;
        r->param_bytes = (size_t)m.n_params * 16;
        if (o->progress) lam_progress_finish(&bar, NULL);
        if (o->profile) print_profile(o->profile, &prof, el);
    }
done:
    free(tokens);
    lam_model_destroy(&m);
    return st;
}

lam_status lam_bench_sgemm(int n, double *gflops, lam_error *err) {
    float *a = malloc((size_t)n * n * sizeof(float) * 3);
    if (!a) return lam_error_set(err, LAM_ERR_NOMEM, "sgemm bench: out of memory");
    float *b = a + (size_t)n * n, *c = b + (size_t)n * n;
    lam_rng_fill_uniform(a, (int64_t)n * n * 2, 1, 0, -1.0f, 1.0f);
    double best = 0.0;
    for (int rep = 0; rep < 6; rep++) {
        double t0 = lam_now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double el = lam_now_s() - t0;
        double g = 2.0 * n * (double)n * n / el * 1e-9;
        if (rep > 0 && g > best) best = g; /* the first call warms caches and threads */
    }
    free(a);
    *gflops = best;
    return LAM_OK;
}

const char *lam_bench_blas_core(void) {
    const char *core = openblas_get_corename();
    return core ? core : "unknown";
}
