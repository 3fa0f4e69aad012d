/* test_model.c - whole-model behaviours that need no outside reference:
 *   threads_bitwise  a training run gives bitwise the same logits and parameters with 1 and
 *                    2 threads (the CPU backend's fixed reduction orders)
 *   poisoned         activations poisoned with NaN before the forward change nothing, so no
 *                    op reads memory that the step did not write first
 *   step_no_alloc    forward, backward, grad norm and AdamW call no allocator (malloc and
 *                    friends are wrapped at link time and counted)
 *   bad_input        bad tokens, targets, masks, shapes and call orders get an error status
 *                    naming the problem, never a crash
 *   packed           samples packed in one row with segments give the loss and gradients of
 *                    the same samples each in a row of its own (padding masked out), with the
 *                    loss normalized by a given count; the reference is the unpacked batch
 *   sharded_adamw    AdamW over the shards of a model with its state split in 3 gives
 *                    bitwise the parameters of the unsharded AdamW
 * The numerical reference for the model is PyTorch (test_torch_parity.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/model.h"
#include "lam/rng.h"

/* ---- allocation counting (linked with -Wl,--wrap=malloc,...) ------------------------- */
static long g_allocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n) {
    g_allocs++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b) {
    g_allocs++;
    return __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n) {
    g_allocs++;
    return __real_realloc(p, n);
}
void *__wrap_aligned_alloc(size_t a, size_t n) {
    g_allocs++;
    return __real_aligned_alloc(a, n);
}

static int failures;
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__, #cond);         \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
#define OK(call)                                                                                   \
    do {                                                                                           \
        lam_error e_ = {0};                                                                        \
        lam_status s_ = (call);                                                                    \
        (void)e_;                                                                                  \
        if (s_ != LAM_OK) {                                                                        \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, err.msg);         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static lam_error err;

static lam_config test_config(void) {
    lam_config c;
    lam_config_preset("tiny", &c, NULL);
    c.vocab_size = 301, c.dim = 72, c.n_layers = 2, c.n_heads = 6, c.n_kv_heads = 2;
    c.ffn_dim = 100, c.max_seq_len = 80;
    return c;
}

typedef struct {
    int B, T;
    int32_t *tok, *tgt;
    float *mask;
} batch;

static batch make_batch(const lam_config *c, int B, int T, uint64_t seed) {
    batch b = {B, T, malloc(B * T * 4), malloc(B * T * 4), malloc(B * T * 4)};
    for (int i = 0; i < B * T; i++) {
        b.tok[i] = (int32_t)(lam_rng_uniform(seed, 1, i) * c->vocab_size) % c->vocab_size;
        b.tgt[i] = (int32_t)(lam_rng_uniform(seed, 2, i) * c->vocab_size) % c->vocab_size;
        b.mask[i] = lam_rng_uniform(seed, 3, i) < 0.7f ? 1.0f : 0.0f;
    }
    return b;
}

static void free_batch(batch *b) {
    free(b->tok);
    free(b->tgt);
    free(b->mask);
}

/* Trains `steps` AdamW steps with n_threads; returns params (P) and the logits of a final
 * forward (B*T*V), malloc'd. */
static void train(int n_threads, const lam_config *c, const batch *b, int steps, float **params,
                  float **logits, int64_t *P) {
    lam_backend *be;
    lam_model m;
    OK(lam_backend_create("cpu", n_threads, &be, &err));
    OK(lam_model_create(&m, c, be, &err));
    OK(lam_model_init_weights(&m, 7, &err));
    OK(lam_model_plan(&m, b->B, b->T, &err));
    for (int s = 1; s <= steps; s++) {
        float loss, norm;
        OK(lam_model_zero_grad(&m, &err));
        OK(lam_model_forward(&m, b->tok, b->tgt, b->mask, b->B, b->T, &loss, &err));
        OK(lam_model_backward(&m, &err));
        OK(lam_model_grad_norm(&m, &norm, &err));
        lam_adamw_hp hp = {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, s, norm > 1 ? 1 / norm : 1};
        OK(lam_model_adamw(&m, &hp, &err));
    }
    *P = m.n_params;
    *params = malloc(m.n_params * 4);
    *logits = malloc((size_t)b->B * b->T * c->vocab_size * 4);
    OK(lam_model_read_flat(&m, 0, *params, &err));
    OK(lam_model_forward(&m, b->tok, NULL, NULL, b->B, b->T, NULL, &err));
    OK(lam_model_logits(&m, *logits, &err));
    lam_model_destroy(&m);
    lam_backend_destroy(be);
}

static void test_threads_bitwise(void) {
    lam_config c = test_config();
    batch b = make_batch(&c, 3, 67, 11);
    float *p1, *l1, *p2, *l2;
    int64_t P;
    train(1, &c, &b, 3, &p1, &l1, &P);
    train(2, &c, &b, 3, &p2, &l2, &P);
    EXPECT(!memcmp(p1, p2, P * 4));
    EXPECT(!memcmp(l1, l2, (size_t)b.B * b.T * c.vocab_size * 4));
    printf("threads_bitwise: %lld parameters and %d logits identical for 1 and 2 threads: %s\n",
           (long long)P, b.B * b.T * c.vocab_size,
           !memcmp(p1, p2, P * 4) && !memcmp(l1, l2, (size_t)b.B * b.T * c.vocab_size * 4) ? "yes"
                                                                                           : "NO");
    free(p1), free(p2), free(l1), free(l2);
    free_batch(&b);
}

static void test_poisoned(void) {
    lam_config c = test_config();
    batch b = make_batch(&c, 2, 45, 5);
    lam_backend *be;
    lam_model m;
    OK(lam_backend_create("cpu", 2, &be, &err));
    OK(lam_model_create(&m, &c, be, &err));
    OK(lam_model_init_weights(&m, 3, &err));
    OK(lam_model_plan(&m, 3, 60, &err)); /* planned larger than the batch used */
    float *g_clean = malloc(m.n_params * 4), *g_poison = malloc(m.n_params * 4);
    float loss_clean, loss_poison;
    for (int pass = 0; pass < 2; pass++) {
        lam_tensor acts = lam_tensor_1d(m.act_mem, LAM_F32, (int64_t)(m.act_bytes / 4));
        OK(be->fill(be, &acts, pass ? NAN : 0.0f, &err));
        OK(lam_model_zero_grad(&m, &err));
        OK(lam_model_forward(&m, b.tok, b.tgt, b.mask, b.B, b.T, pass ? &loss_poison : &loss_clean,
                             &err));
        OK(lam_model_backward(&m, &err));
        OK(lam_model_read_flat(&m, 1, pass ? g_poison : g_clean, &err));
    }
    int finite = 1;
    for (int64_t i = 0; i < m.n_params; i++) finite &= isfinite(g_poison[i]) != 0;
    EXPECT(isfinite(loss_poison) && loss_poison == loss_clean);
    EXPECT(finite);
    EXPECT(!memcmp(g_clean, g_poison, m.n_params * 4));
    printf("poisoned: loss %.6f with NaN-poisoned activations, gradients %s\n", loss_poison,
           finite && !memcmp(g_clean, g_poison, m.n_params * 4) ? "identical" : "DIFFER");
    free(g_clean), free(g_poison);
    lam_model_destroy(&m);
    lam_backend_destroy(be);
    free_batch(&b);
}

static void test_step_no_alloc(void) {
    lam_config c = test_config();
    batch b = make_batch(&c, 2, 80, 9);
    lam_backend *be;
    lam_model m;
    OK(lam_backend_create("cpu", 2, &be, &err));
    OK(lam_model_create(&m, &c, be, &err));
    OK(lam_model_init_weights(&m, 3, &err));
    OK(lam_model_plan(&m, b.B, b.T, &err));
    long before = 0, after = 0;
    for (int s = 1; s <= 3; s++) {
        if (s == 2) before = g_allocs; /* step 1 may warm up the thread pool */
        float loss, norm;
        OK(lam_model_zero_grad(&m, &err));
        OK(lam_model_forward(&m, b.tok, b.tgt, b.mask, b.B, b.T, &loss, &err));
        OK(lam_model_backward(&m, &err));
        OK(lam_model_grad_norm(&m, &norm, &err));
        lam_adamw_hp hp = {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, s, 1.0f};
        OK(lam_model_adamw(&m, &hp, &err));
    }
    after = g_allocs;
    EXPECT(before > 0); /* the wrapper does see the library's allocations */
    EXPECT(after == before);
    printf("step_no_alloc: %ld allocations before the steps, %ld during steps 2-3\n", before,
           after - before);
    lam_model_destroy(&m);
    lam_backend_destroy(be);
    free_batch(&b);
}

static void expect_error(lam_status st, lam_status code, const char *needle) {
    if (st != code || !strstr(err.msg, needle)) {
        fprintf(stderr, "expected status %d with '%s', got %d: '%s'\n", code, needle, st, err.msg);
        failures++;
    } else {
        printf("bad_input: got the expected error: %s\n", err.msg);
    }
    memset(&err, 0, sizeof err);
}

static void test_bad_input(void) {
    lam_config c = test_config();
    lam_backend *be;
    lam_model m;
    OK(lam_backend_create("cpu", 2, &be, &err));
    lam_config bad = c;
    bad.n_kv_heads = 4;
    expect_error(lam_model_create(&m, &bad, be, &err), LAM_ERR_INVALID, "n_kv_heads");
    OK(lam_model_create(&m, &c, be, &err));
    OK(lam_model_init_weights(&m, 3, &err));
    batch b = make_batch(&c, 2, 10, 1);
    expect_error(lam_model_forward(&m, b.tok, NULL, NULL, 2, 10, NULL, &err), LAM_ERR_INVALID,
                 "lam_model_plan");
    expect_error(lam_model_plan(&m, 2, 81, &err), LAM_ERR_INVALID, "max_seq_len");
    OK(lam_model_plan(&m, 2, 10, &err));
    expect_error(lam_model_forward(&m, b.tok, NULL, NULL, 3, 10, NULL, &err), LAM_ERR_INVALID,
                 "does not fit");
    expect_error(lam_model_backward(&m, &err), LAM_ERR_INVALID, "forward with targets");
    b.tok[7] = c.vocab_size;
    expect_error(lam_model_forward(&m, b.tok, NULL, NULL, 2, 10, NULL, &err), LAM_ERR_INVALID,
                 "token 301 at position 7");
    b.tok[7] = -2;
    expect_error(lam_model_forward(&m, b.tok, NULL, NULL, 2, 10, NULL, &err), LAM_ERR_INVALID,
                 "token -2");
    b.tok[7] = 0;
    b.tgt[3] = 1000, b.mask[3] = 1.0f;
    expect_error(lam_model_forward(&m, b.tok, b.tgt, b.mask, 2, 10, NULL, &err), LAM_ERR_INVALID,
                 "target 1000 at row 3");
    b.mask[3] = 0.0f; /* a masked-out row's target is not read */
    float loss;
    OK(lam_model_forward(&m, b.tok, b.tgt, b.mask, 2, 10, &loss, &err));
    b.mask[4] = -1.0f;
    expect_error(lam_model_forward(&m, b.tok, b.tgt, b.mask, 2, 10, NULL, &err), LAM_ERR_INVALID,
                 "mask[4]");
    b.tgt[3] = 0;
    OK(lam_model_forward(&m, b.tok, b.tgt, NULL, 2, 10, &loss, &err));
    expect_error(lam_model_logits(&m, NULL, &err), LAM_ERR_INVALID, "without targets");
    lam_adamw_hp hp = {1e-3f, 1.5f, 0.95f, 1e-8f, 0.1f, 1, 1.0f};
    expect_error(lam_model_adamw(&m, &hp, &err), LAM_ERR_INVALID, "adamw");
    lam_model_destroy(&m);
    lam_backend_destroy(be);
    free_batch(&b);
}

/* Relative max error of a against b (normwise: max |a-b| / max |b|). */
static double max_rel(const float *a, const float *b, int64_t n) {
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= num)) num = d; /* NaN propagates */
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return den > 0 ? num / den : num;
}

static void test_packed(void) {
    lam_config c = test_config();
    lam_backend *be;
    lam_model m;
    OK(lam_backend_create("cpu", 2, &be, &err));
    OK(lam_model_create(&m, &c, be, &err));
    OK(lam_model_init_weights(&m, 11, &err));
    /* three samples of 9, 1 and 13 tokens; unpacked: 3 rows of 13 (padding masked out);
     * packed: one row of 23 with segments, plus 3 tokens of masked padding */
    int len[3] = {9, 1, 13}, Tu = 13, Tp = 26;
    batch u = make_batch(&c, 3, Tu, 5), p = make_batch(&c, 1, Tp, 6);
    int32_t seg[26];
    double msum = 0.0;
    for (int i = 0, at = 0; i < 3; i++) {
        for (int t = 0; t < Tu; t++) {
            int k = i * Tu + t;
            if (t >= len[i]) u.mask[k] = 0.0f, u.tok[k] = 0;
            msum += u.mask[k];
        }
        for (int t = 0; t < len[i]; t++, at++) {
            p.tok[at] = u.tok[i * Tu + t];
            p.tgt[at] = u.tgt[i * Tu + t];
            p.mask[at] = u.mask[i * Tu + t];
            seg[at] = at - t;
        }
        if (i == 2)
            for (; at < Tp; at++) seg[at] = 23, p.mask[at] = 0.0f;
    }
    int64_t P = m.n_params;
    float *gu = malloc(P * 4), *gp = malloc(P * 4), loss_u, loss_p;
    OK(lam_model_plan(&m, 3, Tp, &err));
    lam_batch bu = {.tokens = u.tok, .targets = u.tgt, .mask = u.mask, .B = 3, .T = Tu};
    OK(lam_model_zero_grad(&m, &err));
    OK(lam_model_forward_batch(&m, &bu, &loss_u, &err));
    OK(lam_model_backward(&m, &err));
    OK(lam_model_read_flat(&m, 1, gu, &err));
    /* the packed row normalized by twice the count: loss and gradients halve */
    lam_batch bp = {.tokens = p.tok,
                    .targets = p.tgt,
                    .mask = p.mask,
                    .seg = seg,
                    .B = 1,
                    .T = Tp,
                    .loss_norm = 2.0 * msum};
    OK(lam_model_zero_grad(&m, &err));
    OK(lam_model_forward_batch(&m, &bp, &loss_p, &err));
    OK(lam_model_backward(&m, &err));
    OK(lam_model_read_flat(&m, 1, gp, &err));
    for (int64_t i = 0; i < P; i++) gp[i] *= 2.0f;
    double eg = max_rel(gp, gu, P), el = fabs(2.0 * loss_p - loss_u) / loss_u;
    printf("packed: loss %.7f unpacked vs %.7f packed (x2), rel err %.2e; gradients rel err %.2e\n",
           loss_u, 2.0 * loss_p, el, eg);
    EXPECT(el < 1e-6 && eg < 1e-5);
    /* without the segments the packed row attends across samples: a different result */
    bp.seg = NULL;
    OK(lam_model_zero_grad(&m, &err));
    OK(lam_model_forward_batch(&m, &bp, &loss_p, &err));
    OK(lam_model_backward(&m, &err));
    OK(lam_model_read_flat(&m, 1, gp, &err));
    for (int64_t i = 0; i < P; i++) gp[i] *= 2.0f;
    printf("packed without segments: gradients rel err %.2e (must be large)\n", max_rel(gp, gu, P));
    EXPECT(max_rel(gp, gu, P) > 1e-3);
    free(gu), free(gp);
    free_batch(&u), free_batch(&p);
    lam_model_destroy(&m);
    lam_backend_destroy(be);
}

static void test_sharded_adamw(void) {
    lam_config c = test_config();
    c.tie_embeddings = 0;
    lam_backend *be;
    lam_model full, sh;
    OK(lam_backend_create("cpu", 2, &be, &err));
    OK(lam_model_create(&full, &c, be, &err));
    OK(lam_model_create_sharded(&sh, &c, be, 3, &err));
    EXPECT(sh.n_padded % 3 == 0 && sh.n_padded >= sh.n_params && sh.shard_len * 3 == sh.n_padded);
    OK(lam_model_init_weights(&full, 4, &err));
    OK(lam_model_init_weights(&sh, 4, &err));
    batch b = make_batch(&c, 2, 17, 9);
    OK(lam_model_plan(&full, 2, 17, &err));
    OK(lam_model_plan(&sh, 2, 17, &err));
    lam_adamw_hp hp = {1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 1, 0.5f};
    int64_t S = sh.shard_len;
    float *state = calloc((size_t)(6 * S), 4); /* m and v of the 3 shards */
    for (int step = 1; step <= 3; step++) {
        hp.step = step;
        lam_model *ms[2] = {&full, &sh};
        for (int k = 0; k < 2; k++) {
            OK(lam_model_zero_grad(ms[k], &err));
            OK(lam_model_forward(ms[k], b.tok, b.tgt, b.mask, 2, 17, NULL, &err));
            OK(lam_model_backward(ms[k], &err));
        }
        OK(lam_model_adamw(&full, &hp, &err));
        /* one model plays every rank: the shards' moments are swapped in and out */
        for (int r = 0; r < 3; r++) {
            OK(lam_model_write_flat(&sh, 2, state + (2 * r) * S, &err));
            OK(lam_model_write_flat(&sh, 3, state + (2 * r + 1) * S, &err));
            OK(lam_model_adamw_shard(&sh, r, &hp, &err));
            OK(lam_model_read_flat(&sh, 2, state + (2 * r) * S, &err));
            OK(lam_model_read_flat(&sh, 3, state + (2 * r + 1) * S, &err));
        }
    }
    int64_t P = full.n_params;
    float *a = malloc(P * 4), *bb = malloc(P * 4);
    OK(lam_model_read_flat(&full, 0, a, &err));
    OK(lam_model_read_flat(&sh, 0, bb, &err));
    int same = !memcmp(a, bb, P * 4);
    printf("sharded_adamw: %lld parameters after 3 steps over 3 shards: %s\n", (long long)P,
           same ? "identical" : "DIFFER");
    EXPECT(same);
    EXPECT(lam_model_adamw(&sh, &hp, &err) == LAM_ERR_INVALID);
    EXPECT(lam_model_adamw_shard(&sh, 3, &hp, &err) == LAM_ERR_INVALID);
    free(a), free(bb), free(state);
    free_batch(&b);
    lam_model_destroy(&full);
    lam_model_destroy(&sh);
    lam_backend_destroy(be);
}

int main(int argc, char **argv) {
    lam_backends_init();
    const char *which = argc > 1 ? argv[1] : "all";
    int all = !strcmp(which, "all");
    if (all || !strcmp(which, "threads_bitwise")) test_threads_bitwise();
    if (all || !strcmp(which, "poisoned")) test_poisoned();
    if (all || !strcmp(which, "step_no_alloc")) test_step_no_alloc();
    if (all || !strcmp(which, "bad_input")) test_bad_input();
    if (all || !strcmp(which, "packed")) test_packed();
    if (all || !strcmp(which, "sharded_adamw")) test_sharded_adamw();
    printf("%s: %s\n", which, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
