/* grammar_bench.c - the cost of a constrained-decoding token mask (grammar.h) on the default
 * vocabulary, ours (the vocabulary trie walked with the automaton, value states precomputed)
 * against the naive mask (every token of the vocabulary run through the same automaton), in the
 * same process on the same decoding states, alternating rounds.
 *
 *   grammar_bench [--episodes 2000] [--eval 300] [--sampled 300] [--rounds 5] [--seed 7]
 *                 [--tokenizer FILE]
 *
 * The vocabulary is what `lam data tokenizer train --vocab 4096` makes: 4096 ids trained on the
 * training prompts of --episodes simulator episodes (or a tokenizer.json given). The decodes are
 * on --eval other simulator episodes (another seed), two workloads:
 *   expert   every step's recorded action, canonical text, tokenized: what a trained model emits
 *            (teacher forcing); one mask per token, the first token's included
 *   sampled  --sampled decodes with random normal logits at temperature 1 under the mask
 *            (defaults: 8 actions, 256-byte values): long values, many actions, odd tokens
 * and both again with copied values as the agent decodes them (lam_gram_opts.copy and
 * copy_page: typed values from the task, answers of done from the task or the page),
 * expert_copy and sampled_copy.
 * Each mask call is timed alone (CLOCK_MONOTONIC); a round is one pass over a workload. Printed
 * per workload: one JSON line (CONVENTIONS.md) with the best round's mean microseconds per token
 * of each side (ours, peer), ratio = peer / ours (the speedup), and p50/p99 of ours and the
 * peer, every round's mean, how many masks, the cost of lam_gram_seq_begin per request and of
 * lam_gram_apply per token, and the load average before and after (the machine is shared:
 * figures taken beside other work are noisy). Every peer mask is compared with ours: they must
 * be equal bit for bit. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lam/actlang.h"
#include "lam/episode.h"
#include "lam/grammar.h"
#include "lam/prompt.h"
#include "lam/rng.h"
#include "lam/synth.h"
#include "lam/timer.h"
#include "lam/tokenizer.h"

#ifndef LAM_SOURCE_DIR
#define LAM_SOURCE_DIR "."
#endif

static void die(const char *what, const lam_error *e) {
    fprintf(stderr, "grammar_bench: %s: %s\n", what, e ? e->msg : "failed");
    exit(1);
}

typedef struct {
    lam_episode *ep;
    int n;
} episodes;

static episodes synth(int n, uint64_t seed) {
    lam_synth_opts o;
    lam_synth_opts_default(&o);
    o.n_episodes = n;
    o.seed = seed;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lam_error err = {0};
    if (!f || lam_synth_write(&o, f, NULL, &err) != LAM_OK) die("synth", &err);
    fclose(f);
    episodes e = {calloc((size_t)n, sizeof(lam_episode)), 0};
    for (char *line = buf; line && *line && e.n < n;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (lam_episode_parse(line, ll, &e.ep[e.n], NULL) != LAM_OK) die("episode parse", NULL);
        e.n++;
        line = nl ? nl + 1 : NULL;
    }
    free(buf);
    return e;
}

/* `lam data tokenizer train --vocab 4096` on the recordings: each step's prompt a document. */
static lam_tok *train_tokenizer(const episodes *e) {
    lam_prompt_opts po;
    lam_prompt_opts_default(&po);
    lam_prompt p;
    lam_prompt_init(&p);
    size_t cap = 1024, n = 0;
    char **texts = malloc(cap * sizeof *texts);
    lam_action *scratch = malloc(4096 * sizeof *scratch);
    lam_error err = {0};
    for (int i = 0; i < e->n; i++)
        for (int k = 0; k < e->ep[i].n_steps && k < 4096; k++) {
            lam_prompt_input in = lam_prompt_step_input(&e->ep[i], k, scratch, NULL);
            if (lam_prompt_build(&p, &po, &in, &err) != LAM_OK) die("prompt", &err);
            if (p.dropped) continue;
            if (n == cap) texts = realloc(texts, (cap *= 2) * sizeof *texts);
            texts[n++] = strdup(p.text);
        }
    lam_tok_train_opts o;
    lam_tok_train_opts_default(&o);
    o.vocab_size = 4096;
    lam_tok *t;
    if (lam_tok_train((const char *const *)texts, NULL, n, &o, &t, &err) != LAM_OK)
        die("tokenizer training", &err);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(scratch);
    lam_prompt_free(&p);
    return t;
}

/* One decode to replay: an observation and the tokens accepted on it. */
typedef struct {
    const lam_observation *obs;
    const char *task; /* with copied values: the task; NULL: free values */
    int32_t *ids;
    size_t n;
} decode;

static lam_gram_opts decode_opts(const char *task) {
    lam_gram_opts o;
    lam_gram_opts_default(&o);
    if (task) /* the agent's default: typed values from the task, answers from the page too */
        o.copy = LAM_GRAM_COPY_VALUES, o.copy_text = task, o.copy_page = 1u << LAM_ACT_DONE;
    return o;
}

static void begin(lam_gram_seq *s, const decode *d) {
    lam_error err = {0};
    lam_gram_opts o = decode_opts(d->task);
    if (lam_gram_seq_begin(s, d->obs, &o, &err) != LAM_OK) die("begin", &err);
}

typedef struct {
    decode *d;
    size_t n, cap, tokens;
} workload;

static void add_decode(workload *w, const lam_observation *obs, const char *task,
                       const int32_t *ids, size_t n) {
    if (w->n == w->cap) w->d = realloc(w->d, (w->cap = w->cap ? 2 * w->cap : 256) * sizeof *w->d);
    decode *d = &w->d[w->n++];
    d->obs = obs;
    d->task = task;
    d->ids = malloc(n * sizeof *ids);
    memcpy(d->ids, ids, n * sizeof *ids);
    d->n = n;
    w->tokens += n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void loadavg(double *l1) {
    *l1 = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", l1) != 1) *l1 = -1;
        fclose(f);
    }
}

static void machine_name(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *c = strchr(line, ':');
        if (!c) break;
        c++;
        while (*c == ' ') c++;
        c[strcspn(c, "\n")] = 0;
        char *sp = strchr(c, ' '); /* the family, as bench/results names machines */
        if (sp && (sp = strchr(sp + 1, ' '))) *sp = 0;
        snprintf(out, cap, "%s", c);
        break;
    }
    fclose(f);
}

static void git_commit(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    char cmd[700];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && h=$(git rev-parse --short HEAD 2>/dev/null) && "
             "{ git diff --quiet HEAD 2>/dev/null && echo $h || echo $h-dirty; }",
             LAM_SOURCE_DIR);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (fgets(out, (int)cap, p)) out[strcspn(out, "\n")] = 0;
    if (pclose(p) != 0) snprintf(out, cap, "unknown");
}

typedef struct {
    double mean, p50, p99, max;
} stats;

static stats summarize(double *t, size_t n) {
    stats s = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) s.mean += t[i];
    s.mean /= (double)(n ? n : 1);
    qsort(t, n, sizeof *t, cmp_double);
    if (n) {
        s.p50 = t[n / 2];
        s.p99 = t[(size_t)((double)(n - 1) * 0.99)];
        s.max = t[n - 1];
    }
    return s;
}

/* One pass over w timing each mask (naive: the peer); us[] gets every mask's microseconds. */
static void pass(lam_gram_seq *s, const workload *w, int naive, uint32_t *bits, uint32_t *check,
                 size_t words, double *us) {
    lam_error err = {0};
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        const decode *d = &w->d[i];
        begin(s, d);
        for (size_t j = 0; j < d->n; j++) {
            uint64_t t0 = lam_now_ns();
            lam_status st =
                naive ? lam_gram_mask_naive(s, bits, &err) : lam_gram_mask(s, bits, &err);
            uint64_t t1 = lam_now_ns();
            if (st != LAM_OK) die("mask", &err);
            us[k++] = (double)(t1 - t0) * 1e-3;
            if (naive) { /* the peer's mask must be ours */
                if (lam_gram_mask(s, check, &err) != LAM_OK) die("mask", &err);
                if (memcmp(bits, check, words * sizeof *bits)) die("fast mask != naive mask", NULL);
            }
            if (!(bits[d->ids[j] >> 5] >> (d->ids[j] & 31) & 1u)) die("token not in mask", NULL);
            if (lam_gram_accept(s, d->ids[j], &err) != LAM_OK) die("accept", &err);
        }
    }
}

static void run(const char *name, const char *config, lam_gram_seq *s, const lam_grammar *g,
                const workload *w, int rounds, int32_t V, double create_ms, const char *commit,
                const char *mach) {
    size_t words = lam_grammar_mask_words(g);
    uint32_t *bits = malloc(words * sizeof *bits), *check = malloc(words * sizeof *check);
    double *us = malloc(w->tokens * sizeof *us), *best_us = malloc(w->tokens * sizeof *us);
    double *peer_us = malloc(w->tokens * sizeof *us);
    double *om = malloc((size_t)rounds * sizeof *om), *pm = malloc((size_t)rounds * sizeof *pm);
    stats ob = {INFINITY, 0, 0, 0}, pb = {INFINITY, 0, 0, 0};
    double load0, load1;
    loadavg(&load0);
    for (int r = 0; r < rounds; r++) {
        pass(s, w, 0, bits, check, words, us);
        stats o = summarize(us, w->tokens);
        om[r] = o.mean;
        if (o.mean < ob.mean) ob = o, memcpy(best_us, us, w->tokens * sizeof *us);
        pass(s, w, 1, bits, check, words, peer_us);
        stats p = summarize(peer_us, w->tokens);
        pm[r] = p.mean;
        if (p.mean < pb.mean) pb = p;
        fprintf(stderr, "%s round %d: ours %.3f us/token (p99 %.3f), naive %.2f us/token\n", name,
                r, o.mean, o.p99, p.mean);
    }
    /* begin per request and apply (mask + -inf on the logits row) per token, ours only */
    lam_error err = {0};
    int32_t row = (V + 63) / 64 * 64;
    float *logits = calloc((size_t)row, sizeof *logits);
    double begin_us = 0, apply_us = 0;
    uint64_t tb = 0, ta = 0;
    for (size_t i = 0; i < w->n; i++) {
        uint64_t t0 = lam_now_ns();
        begin(s, &w->d[i]);
        tb += lam_now_ns() - t0;
        for (size_t j = 0; j < w->d[i].n; j++) {
            t0 = lam_now_ns();
            if (lam_gram_apply(s, logits, row, &err) != LAM_OK) die("apply", &err);
            ta += lam_now_ns() - t0;
            if (lam_gram_accept(s, w->d[i].ids[j], &err) != LAM_OK) die("accept", &err);
        }
    }
    begin_us = (double)tb * 1e-3 / (double)w->n;
    apply_us = (double)ta * 1e-3 / (double)w->tokens;
    loadavg(&load1);
    time_t now = time(NULL);
    char date[16];
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    printf("{\"bench\": \"grammar_mask\", \"config\": \"%s\", \"ours\": %.3f, \"peer\": %.3f, "
           "\"peer_name\": \"naive mask (every token through the automaton)\", \"ratio\": %.2f, "
           "\"unit\": \"us/token\", \"threads\": 1, \"commit\": \"%s\", \"machine\": \"%s\", "
           "\"workload\": \"%s\", \"ours_p50\": %.3f, \"ours_p99\": %.3f, \"ours_max\": %.2f, "
           "\"peer_p50\": %.2f, \"peer_p99\": %.2f, \"masks\": %zu, \"decodes\": %zu, "
           "\"vocab\": %d, \"create_ms\": %.1f, \"begin_us\": %.2f, \"apply_us\": %.3f, "
           "\"rounds\": %d, \"stat\": \"best round by mean\", \"ours_rounds\": [",
           config, ob.mean, pb.mean, pb.mean / ob.mean, commit, mach, name, ob.p50, ob.p99, ob.max,
           pb.p50, pb.p99, w->tokens, w->n, (int)V, create_ms, begin_us, apply_us, rounds);
    for (int r = 0; r < rounds; r++) printf("%s%.3f", r ? ", " : "", om[r]);
    printf("], \"peer_rounds\": [");
    for (int r = 0; r < rounds; r++) printf("%s%.2f", r ? ", " : "", pm[r]);
    printf("], \"loadavg\": [%.2f, %.2f], \"date\": \"%s\"}\n", load0, load1, date);
    fflush(stdout);
    free(bits), free(check), free(us), free(best_us), free(peer_us), free(om), free(pm);
    free(logits);
}

int main(int argc, char **argv) {
    int n_train = 2000, n_eval = 300, n_sampled = 300, rounds = 5;
    uint64_t seed = 7;
    const char *tok_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--episodes") && v)
            n_train = atoi(argv[++i]);
        else if (!strcmp(a, "--eval") && v)
            n_eval = atoi(argv[++i]);
        else if (!strcmp(a, "--sampled") && v)
            n_sampled = atoi(argv[++i]);
        else if (!strcmp(a, "--rounds") && v)
            rounds = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && v)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--tokenizer") && v)
            tok_path = argv[++i];
        else {
            fprintf(stderr,
                    "usage: grammar_bench [--episodes N] [--eval N] [--sampled N] [--rounds N] "
                    "[--seed S] [--tokenizer FILE]\n");
            return 2;
        }
    }
    if (n_train < 1 || n_eval < 1 || n_sampled < 0 || rounds < 1) {
        fprintf(stderr, "grammar_bench: counts must be positive\n");
        return 2;
    }
    lam_error err = {0};
    lam_tok *tok;
    char config[256];
    if (tok_path) {
        if (lam_tok_load(tok_path, &tok, &err) != LAM_OK) die("tokenizer", &err);
        const char *base = strrchr(tok_path, '/');
        snprintf(config, sizeof config, "%s, %d ids", base ? base + 1 : tok_path,
                 (int)lam_tok_n_ids(tok));
    } else {
        fprintf(stderr, "training the tokenizer on %d simulator episodes...\n", n_train);
        episodes tr = synth(n_train, seed);
        tok = train_tokenizer(&tr);
        for (int i = 0; i < tr.n; i++) lam_episode_free(&tr.ep[i]);
        free(tr.ep);
        snprintf(config, sizeof config, "bpe%d on the prompts of %d simulator episodes",
                 (int)lam_tok_n_ids(tok), n_train);
    }
    episodes ev = synth(n_eval, seed + 1000003);
    int32_t V = lam_tok_n_ids(tok);
    uint64_t t0 = lam_now_ns();
    lam_grammar *g;
    if (lam_grammar_create(tok, &g, &err) != LAM_OK) die("grammar", &err);
    double create_ms = (double)(lam_now_ns() - t0) * 1e-6;
    lam_gram_seq *s;
    if (lam_gram_seq_new(g, &s, &err) != LAM_OK) die("sequence", &err);
    /* the expert workload: every step's recorded action as the tokenizer encodes it */
    workload expert = {0}, sampled = {0}, expert_copy = {0}, sampled_copy = {0};
    lam_tok_ids ids = {0};
    char text[65536];
    for (int i = 0; i < ev.n; i++)
        for (int k = 0; k < ev.ep[i].n_steps; k++) {
            const lam_step *st = &ev.ep[i].steps[k];
            size_t len;
            if (lam_act_print(&st->action, 1, 0, text, sizeof text, &len, &err) != LAM_OK)
                die("print", &err);
            ids.n = 0;
            if (lam_tok_encode(tok, NULL, text, len, LAM_TOK_PLAIN, &ids, &err) != LAM_OK)
                die("encode", &err);
            add_decode(&expert, &st->obs, NULL, ids.ids, ids.n);
            add_decode(&expert_copy, &st->obs, ev.ep[i].task, ids.ids, ids.n);
        }
    /* the sampled workload: random normal logits at temperature 1 under the mask */
    int32_t row = (V + 63) / 64 * 64;
    float *logits = malloc((size_t)row * sizeof *logits);
    double *p = malloc((size_t)row * sizeof *p);
    int32_t *toks = malloc(((size_t)1 << 20) * sizeof *toks);
    uint64_t idx = 0;
    for (int k = 0; k < 2 * n_sampled; k++) { /* free values, then copied ones */
        const lam_episode *ep = &ev.ep[k % n_sampled % ev.n];
        const lam_observation *obs = &ep->steps[(k % n_sampled / ev.n) % ep->n_steps].obs;
        decode d0 = {obs, k < n_sampled ? NULL : ep->task, NULL, 0};
        begin(s, &d0);
        size_t n = 0;
        while (!lam_gram_done(s) && n < (1u << 20)) {
            for (int32_t i = 0; i < row; i += 2) {
                uint32_t v[4];
                lam_philox(seed, 5, idx++, v);
                double u1 = (v[0] + 1.0) / 4294967297.0, u2 = v[1] / 4294967296.0;
                logits[i] = (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
                logits[i + 1] = (float)(sqrt(-2 * log(u1)) * sin(6.283185307179586 * u2));
            }
            if (lam_gram_apply(s, logits, row, &err) != LAM_OK) die("apply", &err);
            double best = -INFINITY, z = 0;
            for (int32_t i = 0; i < row; i++)
                if (logits[i] > best) best = logits[i];
            for (int32_t i = 0; i < row; i++)
                z += p[i] = isfinite(logits[i]) ? exp(logits[i] - best) : 0;
            double u = lam_rng_uniform(seed, 6, idx++) * z;
            int32_t pick = -1;
            for (int32_t i = 0; i < row; i++) {
                if (p[i] == 0) continue;
                pick = i;
                if ((u -= p[i]) <= 0) break;
            }
            if (lam_gram_accept(s, pick, &err) != LAM_OK) die("accept", &err);
            toks[n++] = pick;
        }
        add_decode(k < n_sampled ? &sampled : &sampled_copy, obs, d0.task, toks, n);
    }
    char mach[128], commit[64];
    machine_name(mach, sizeof mach);
    git_commit(commit, sizeof commit);
    fprintf(stderr, "vocab %d ids; grammar built in %.1f ms; %zu expert masks, %zu sampled masks\n",
            (int)V, create_ms, expert.tokens, sampled.tokens);
    run("expert", config, s, g, &expert, rounds, V, create_ms, commit, mach);
    if (sampled.n) run("sampled", config, s, g, &sampled, rounds, V, create_ms, commit, mach);
    run("expert_copy", config, s, g, &expert_copy, rounds, V, create_ms, commit, mach);
    if (sampled_copy.n)
        run("sampled_copy", config, s, g, &sampled_copy, rounds, V, create_ms, commit, mach);
    workload *all[] = {&expert, &sampled, &expert_copy, &sampled_copy};
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < all[k]->n; i++) free(all[k]->d[i].ids);
        free(all[k]->d);
    }
    free(logits), free(p), free(toks);
    lam_tok_ids_free(&ids);
    lam_gram_seq_free(s);
    lam_grammar_free(g);
    lam_tok_free(tok);
    for (int i = 0; i < ev.n; i++) lam_episode_free(&ev.ep[i]);
    free(ev.ep);
    return 0;
}
