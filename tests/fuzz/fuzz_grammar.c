/* fuzz_grammar.c - libFuzzer target for constrained action decoding (grammar.h). The input
 * builds an observation (ids with unwritable bytes, repeated ids, any role or an unknown one,
 * disabled elements, options with quotes, backslashes, newlines, UTF-8, stray bytes, NULL
 * options), the limits, and a sequence of choices: take the k-th allowed token, or try any token
 * (accepted exactly when its mask bit is set). Invariants, any failure aborts: the fast mask
 * equals the naive one at every step; the mask is never empty before done; lam_gram_allows and
 * lam_gram_apply agree with the mask; every intermediate text is a prefix the parser says ended
 * too early; a finished text parses, passes lam_act_check against the observation, is
 * canonical (with lam_gram_opts.labels, as lam_act_print_labelled writes it with the names of
 * the observation: quotes, backslashes, UTF-8, stray bytes, NULL), and keeps the limits. With
 * copied values (lam_gram_opts.copy, a task made of the same pieces as the options), every copied
 * value is one the reference (copy_ref.h) finds in the task or a text of the observation between
 * word boundaries, or an ISO date; with lam_gram_opts.lead_space too, once the one space before
 * it is taken off (never a space alone, never two). The tokenizer is a small one trained once on
 * action texts (the byte tokens are all there, so every text can be spelled). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/actlang.h"
#include "lam/grammar.h"
#include "lam/tokenizer.h"
#include "../copy_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    lam_tok *tok;
    lam_grammar *g;
    lam_gram_seq *s;
    int32_t V;
    size_t words;
    uint32_t *fast, *naive;
    float *logits;
    lam_act_list l;
} world;

static world *get_world(void) {
    static world *w; /* built once per process: the fuzz driver's own state, not the library's */
    if (w) return w;
    static const char *const texts[] = {
        "click e12 <end>",
        "type e3 \"Paris\" ; click e4 <end>",
        "select c \"say \\\"hi\\\"\" <end>",
        "scroll down list1 <end>",
        "scroll up <end>",
        "press e5 \"Enter\" <end>",
        "press \"Escape\" <end>",
        "goto \"https://x.example/a\" <end>",
        "done \"42\" <end>",
        "hover up ; back <end>",
        "type e7 \"Zürich 日本 \\\\ \\n tab\t\" <end>",
        "<|act|>click e1 <end><|end|>",
        "[e1] button \"OK\"\n[e2] combobox \"Size\" options=[\"S\",\"M\"]",
    };
    enum { N = sizeof texts / sizeof *texts };
    const char *corpus[2 * N];
    for (int i = 0; i < 2 * N; i++) corpus[i] = texts[i % N];
    lam_tok_train_opts o;
    lam_tok_train_opts_default(&o);
    o.vocab_size = 400;
    lam_error err = {0};
    w = calloc(1, sizeof *w);
    if (lam_tok_train(corpus, NULL, 2 * N, &o, &w->tok, &err) != LAM_OK ||
        lam_grammar_create(w->tok, &w->g, &err) != LAM_OK ||
        lam_gram_seq_new(w->g, &w->s, &err) != LAM_OK) {
        fprintf(stderr, "fuzz_grammar: %s\n", err.msg);
        abort();
    }
    w->V = lam_tok_n_ids(w->tok);
    w->words = lam_grammar_mask_words(w->g);
    w->fast = malloc(w->words * sizeof *w->fast);
    w->naive = malloc(w->words * sizeof *w->naive);
    w->logits = malloc(((size_t)w->V + 64) * sizeof *w->logits);
    lam_act_list_init(&w->l);
    return w;
}

typedef struct {
    const uint8_t *p;
    size_t n, i;
} src;

static unsigned take(src *s) {
    return s->i < s->n ? s->p[s->i++] : 0;
}

static int bit(const uint32_t *b, int32_t t) {
    return b[t >> 5] >> (t & 31) & 1u;
}

#define MAX_EL 10

/* A broken invariant: says which, then aborts (the fuzzer keeps the input). */
#define FAIL()                                                                                     \
    do {                                                                                           \
        fprintf(stderr, "fuzz_grammar: invariant of line %d broken\n", __LINE__);                  \
        abort();                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    world *w = get_world();
    src in = {data, size, 0};
    static const char *const id_pool[] = {"e", "1",  "2", "up", "a",        "-",  "(",    "'",
                                          " ", "\"", "<", ";",  "\xc3\xa9", "e1", "down", "x"};
    static const char *const opt_pool[] = {"a",        "b",    "\"", "\\",    "\n", "\t",
                                           "\xc3\xa9", "\xff", " ",  "<end>", ";",  "S",
                                           "\\n",      "日",   "\r", ""};
    lam_element el[MAX_EL];
    char ids[MAX_EL][32], optbuf[MAX_EL][5][48], names[MAX_EL][16];
    char *opts[MAX_EL][5];
    lam_observation obs = {"https://x.example/", NULL, el, 0};
    lam_gram_opts o;
    lam_gram_opts_default(&o); /* (every type allowed) */
    o.max_actions = 1 + (int)(take(&in) % 4);
    o.max_value_bytes = (int)(take(&in) % 20);
    obs.n_elements = (int)(take(&in) % (MAX_EL + 1));
    for (int i = 0; i < obs.n_elements; i++) {
        lam_element *e = &el[i];
        memset(e, 0, sizeof *e);
        unsigned flags = take(&in), len = take(&in) % 5;
        ids[i][0] = 0;
        for (unsigned k = 0; k < len; k++) strcat(ids[i], id_pool[take(&in) % 16]);
        e->id = flags & 1 ? NULL : ids[i];
        e->role = (lam_role)(take(&in) % (LAM_ROLE_COUNT + 1));
        if (e->role == LAM_ROLE_COUNT) e->role = (lam_role)99; /* unknown */
        unsigned nm = take(&in); /* two pieces: quotes, backslashes, "<end>", UTF-8, ... */
        strcpy(names[i], opt_pool[nm % 16]);
        strcat(names[i], opt_pool[(nm >> 4) % 16]);
        e->name = nm == 255 ? NULL : names[i];
        e->checked = -1;
        e->disabled = (flags >> 1) & 1;
        if (e->role == LAM_ROLE_COMBOBOX || (flags & 4)) {
            e->n_options = (int)(take(&in) % 5);
            e->options = e->n_options ? opts[i] : NULL;
            for (int k = 0; k < e->n_options; k++) {
                unsigned ol = take(&in) % 6;
                optbuf[i][k][0] = 0;
                for (unsigned m = 0; m < ol; m++) strcat(optbuf[i][k], opt_pool[take(&in) % 16]);
                opts[i][k] = (flags >> (3 + k % 5)) & 1 ? NULL : optbuf[i][k];
            }
        }
    }
    char task[128] = "";
    unsigned cp = take(&in);
    if (cp & 1) { /* copied values: of type and done, or of the types in the next byte */
        o.copy = cp & 2 ? take(&in) | (cp & 8 ? 1u << LAM_ACT_DONE : 0) : LAM_GRAM_COPY_VALUES;
        unsigned tl = take(&in) % 8;
        for (unsigned m = 0; m < tl; m++) strcat(task, opt_pool[take(&in) % 16]);
        o.copy_text = cp & 4 ? NULL : task;
        if (cp & 16) o.copy_page = 1u << LAM_ACT_DONE; /* what is typed: the task's only */
    }
    o.labels = (cp >> 5) & 1;               /* element ids after their labels */
    o.lead_space = (cp >> 6) & 1 ? ~0u : 0; /* a space before a copied value */
    lam_error err = {0};
    if (lam_gram_seq_begin(w->s, &obs, &o, &err) != LAM_OK) FAIL();
    for (int accepted = 0; !lam_gram_done(w->s) && in.i < in.n; accepted++) {
        if (accepted > 2000) FAIL(); /* the limits bound every text */
        if (lam_gram_mask(w->s, w->fast, &err) != LAM_OK) FAIL();
        if (lam_gram_mask_naive(w->s, w->naive, &err) != LAM_OK) FAIL();
        if (memcmp(w->fast, w->naive, w->words * sizeof *w->fast)) FAIL();
        int32_t allowed = 0;
        for (int32_t t = 0; t < w->V; t++) {
            allowed += bit(w->fast, t);
            if (bit(w->fast, t) != lam_gram_allows(w->s, t)) FAIL();
        }
        if (allowed == 0) FAIL(); /* no dead ends */
        unsigned c = take(&in);
        unsigned k = take(&in) << 8 | take(&in);
        int32_t tok;
        if (c < 16) { /* any token: accepted exactly when allowed */
            tok = (int32_t)(k % (unsigned)w->V);
            lam_status st = lam_gram_accept(w->s, tok, &err);
            if ((st == LAM_OK) != bit(w->fast, tok)) FAIL();
            if (st != LAM_OK) {
                accepted--;
                continue;
            }
        } else {
            if (c < 32) { /* apply agrees with the mask, padding included */
                int32_t row = w->V + 64;
                for (int32_t t = 0; t < row; t++) w->logits[t] = 0;
                if (lam_gram_apply(w->s, w->logits, row, &err) != LAM_OK) FAIL();
                for (int32_t t = 0; t < row; t++)
                    if (isinf(w->logits[t]) == (t < w->V && bit(w->fast, t))) FAIL();
            }
            unsigned want = k % (unsigned)allowed;
            for (tok = 0; tok < w->V; tok++)
                if (bit(w->fast, tok) && want-- == 0) break;
            if (lam_gram_accept(w->s, tok, &err) != LAM_OK) FAIL();
        }
        size_t len, off = 0;
        const char *txt = lam_gram_text(w->s, &len);
        lam_status st = lam_act_parse(txt, len, &w->l, &off, NULL);
        if (lam_gram_done(w->s) ? st != LAM_OK : (st == LAM_OK || off != len)) FAIL();
    }
    if (!lam_gram_done(w->s)) return 0;
    size_t len, off = 0, clen;
    const char *txt = lam_gram_text(w->s, &len);
    if (lam_act_parse(txt, len, &w->l, &off, &err) != LAM_OK) FAIL();
    if (lam_act_check(w->l.items, w->l.n, &obs, &err) != LAM_OK) FAIL();
    char canon[4096];
    const char *lab[8];
    for (int i = 0; i < w->l.n && i < 8; i++) {
        const lam_element *e =
            w->l.items[i].element ? lam_observation_find(&obs, w->l.items[i].element) : NULL;
        lab[i] = e ? e->name : NULL;
        if (o.labels && w->l.items[i].type == LAM_ACT_PRESS && e) FAIL(); /* no press element */
    }
    if (w->l.n > 8) FAIL();
    if ((o.labels
             ? lam_act_print_labelled(w->l.items, lab, w->l.n, 0, canon, sizeof canon, &clen, &err)
             : lam_act_print(w->l.items, w->l.n, 0, canon, sizeof canon, &clen, &err)) != LAM_OK ||
        clen != len || memcmp(canon, txt, len))
        FAIL();
    if (w->l.n > o.max_actions) FAIL();
    for (int i = 0; i < w->l.n; i++) {
        const lam_action *a = &w->l.items[i];
        if (a->type == LAM_ACT_DONE && i != w->l.n - 1) FAIL();
        const char *v = a->value;
        /* a lead space: before a copy of one byte or more, not the value's */
        if (v && v[0] == ' ' && (o.copy & o.lead_space) >> a->type & 1 &&
            a->type != LAM_ACT_SELECT && a->type != LAM_ACT_SCROLL) {
            v++;
            if (!v[0] || v[0] == ' ') FAIL();
        }
        if (v && a->type != LAM_ACT_SELECT && a->type != LAM_ACT_SCROLL &&
            strlen(v) > (size_t)o.max_value_bytes)
            FAIL();
        if (v && (o.copy >> a->type & 1) && a->type != LAM_ACT_SELECT &&
            a->type != LAM_ACT_SCROLL && !ref_copyable(a->type, v, o.copy_text, &obs, o.copy_page))
            FAIL();
    }
    return 0;
}
