/* grammar.h - owns constrained action decoding: the byte-level automaton of the canonical action
 * language for one observation (docs/formats.md, "Prompt and action language"), the token masks
 * it gives over a byte-level BPE vocabulary (a trie over the vocabulary's byte strings walked
 * jointly with the automaton, plus masks precomputed per value state), and the accept/done
 * bookkeeping of one decoding sequence. Whatever token sequence the masks allow ends, at
 * `<end>`, in a text that lam_act_parse reads, that lam_act_check accepts against the
 * observation and that is canonical (lam_act_print of the parse gives it back byte for byte).
 * It does not own the action language itself (actlang.h), the tokenizer (tokenizer.h), the
 * model, sampling or the KV cache (the inference engine). docs/decoding.md describes the
 * states, the mask algorithm and its caches.
 *
 * Use, per decoding sequence:
 *
 *     lam_grammar *g;   lam_grammar_create(tok, &g, &err);     once per tokenizer, shared
 *     lam_gram_seq *s;  lam_gram_seq_new(g, &s, &err);         once per slot of the engine
 *     lam_gram_seq_begin(s, &obs, NULL, &err);                 per request (or step)
 *     while (!lam_gram_done(s)) {
 *         ... logits (vocab_size floats) from the model ...
 *         lam_gram_apply(s, logits, vocab_size, &err);         -INFINITY where not allowed
 *         int32_t t = sample(logits);
 *         lam_gram_accept(s, t, &err);                          then feed t to the model
 *     }
 *     text = lam_gram_text(s, &len);                            "click e3 <end>"
 *
 * The prompt ends right after `<|act|>`; the first token of the answer is the first token of
 * the action text (no leading space), and decoding stops when lam_gram_done says the text
 * ended with `<end>` (the model's `<|end|>` is never sampled: added tokens are never allowed).
 *
 * What the automaton allows (the canonical subset of the action language):
 *   - actions separated by " ; ", then " <end>"; single spaces, no leading or trailing space;
 *   - at most max_actions actions; `done` is always the last one;
 *   - an action type only when the observation has an element it can act on (click, hover,
 *     type and select need one; press, scroll, goto, back and done never do);
 *   - element ids of the observation that can be written (lam_act_id_ok), of an element that is
 *     not disabled and whose role allows the action (lam_role_allows); where ids repeat, the
 *     first element with the id decides (as lam_observation_find);
 *   - `select ID "OPTION"` with one of that element's options exactly, quoted and escaped;
 *   - free values (type, press, goto, done) of at most max_value_bytes bytes (after unescaping),
 *     valid UTF-8 (so they map to JSON), escapes \" \\ \n only; press and goto not empty;
 *   - with opts.copy, the values of those types copied from the task or (opts.copy_page) the
 *     observation (whole chunks: a range of the sorted chunk-start suffixes narrowed byte by
 *     byte), or the ISO form of a date they mention (dates.h);
 *   - `scroll up|down [ID]`, `press ["KEY"|ID "KEY"]` as lam_act_print writes them;
 *   - with opts.labels, every ID written `"LABEL" ID` (lam_act_print_labelled), press without
 *     an element.
 *
 * Threads: a lam_grammar is immutable after create and may be shared by any number of threads;
 * a lam_gram_seq belongs to one thread at a time. Memory: create and seq_new allocate; begin
 * grows the sequence's buffers when an observation needs more than any before it (a sequence
 * reused for many observations stops allocating); mask, apply, accept and the queries never
 * allocate. */
#ifndef LAM_GRAMMAR_H
#define LAM_GRAMMAR_H

#include <stddef.h>
#include <stdint.h>

#include "lam/episode.h"
#include "lam/status.h"
#include "lam/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The vocabulary side: each id's bytes (model tokens only; added and special tokens, holes and
 * ids with no bytes are never allowed), the byte trie over them, and the masks of the value
 * states decided ahead of time. Built once per tokenizer; the tokenizer must outlive it. */
typedef struct lam_grammar lam_grammar;

lam_status lam_grammar_create(const lam_tok *tok, lam_grammar **out, lam_error *err);
void lam_grammar_free(lam_grammar *g);

/* V: the ids a mask covers (lam_tok_n_ids of the tokenizer); a mask is (V + 31) / 32 words. */
int32_t lam_grammar_n_ids(const lam_grammar *g);
size_t lam_grammar_mask_words(const lam_grammar *g);

/* Upper limits of the options. begin sizes the text buffer for the longest text they allow
 * (about max_actions * (2 * max_value_bytes + the longest id and option)), so at these limits
 * a sequence holds at most about 34 MB of text; the defaults need about 5 KB. */
#define LAM_GRAM_MAX_ACTIONS     256
#define LAM_GRAM_MAX_VALUE_BYTES 65536
#define LAM_GRAM_MAX_DATES       64 /* ISO dates of the prompt's date mentions kept (copy) */

typedef struct {
    int max_actions;       /* 1..LAM_GRAM_MAX_ACTIONS; default 8 */
    int max_value_bytes;   /* 0..LAM_GRAM_MAX_VALUE_BYTES bytes of a free value; default 256. At
                              the limit only the closing quote is allowed; a UTF-8 character is
                              never started when it would not fit. With 0, press and goto (which
                              need a value) are not allowed. Select options are not limited. */
    unsigned types;        /* bit t set: action type t (lam_action_type) may be used; 0: every
                              type. Types that are not set are never allowed, so an answer may
                              have no action at all to start with: begin then fails. */
    unsigned copy;         /* bit t set: the free value of action type t is copied. After
                              unescaping it is a piece of copy_text (the task) or of an element's
                              name, value or options that starts at a chunk start and ends at a
                              chunk end (docs/decoding.md, "Copied values": pieces between
                              spaces less closing punctuation, also split at - and /, and after
                              an opening bracket or quote, $ or #), or for type a piece of the
                              ISO form (2025-03-14) of a date the task or an element writes
                              ("March 14", dates.h), the year from the mention or else each year
                              the sources write; when a mention has no year and none is written,
                              any ISO date of the years 1900-2099 (months 01-12, days 01-31; only
                              with max_value_bytes >= 10); or empty. 0: free values (the
                              default); LAM_GRAM_COPY_VALUES: type and done. Bits of types without
                              a free value are ignored. Invalid UTF-8 in a source is never copied
                              (it splits the source). */
    const char *copy_text; /* NUL-terminated; NULL: none. Read by begin only (not kept). */
    unsigned copy_page;    /* bit t set: a copied value of type t may come from the page (an
                              element's name, value or options, and for type the dates they
                              mention), not only from copy_text. Default: every type. */
    unsigned lead_space;   /* bit t set: a copied value of type t may begin with one space before
                              the copy (`type 2 " Oslo"`), the model-facing form of a value the
                              task writes after a space (lam_prompt_opts.value_space; the reader
                              takes the space off: lam_prompt_unspace). The space is not part of
                              the copy nor counted in max_value_bytes; a copy must follow it.
                              Bits of types that are not copied are ignored. Default 0. */
    int labels;            /* 1: each element id is preceded by its label, the element's name
                              quoted (`click "Search" 7`; actlang.h, lam_act_print_labelled), for
                              a model trained on labelled targets; press then takes no element
                              (`press "Query" 3 "Enter"` would begin as `press "Enter"` does).
                              Default 0. */
} lam_gram_opts;

/* The types whose values come from the task or the page: what is typed and the answer (also the
 * types whose values lam_prompt_opts.value_space writes with a lead space). */
#define LAM_GRAM_COPY_VALUES ((1u << LAM_ACT_TYPE) | (1u << LAM_ACT_DONE))

void lam_gram_opts_default(lam_gram_opts *o);

/* One sequence's state against one observation. */
typedef struct lam_gram_seq lam_gram_seq;

lam_status lam_gram_seq_new(const lam_grammar *g, lam_gram_seq **out, lam_error *err);
void lam_gram_seq_free(lam_gram_seq *s);

/* (Re)starts s on obs with options o (NULL: defaults): the text is empty, the next token is the
 * first of an action. obs must stay valid and unchanged until the next begin or free (its ids
 * and options are looked at while decoding). The observation-specific tries (ids per action
 * type, the options of each element) are built here. LAM_ERR_INVALID for bad options or a NULL
 * obs (an observation with no elements is fine: then only press, scroll, goto, back and done). */
lam_status lam_gram_seq_begin(lam_gram_seq *s, const lam_observation *obs, const lam_gram_opts *o,
                              lam_error *err);

/* The allowed next tokens: bits[i / 32] bit (i % 32) is 1 when token i may come next, for i in
 * [0, V); the bits of the last word past V are 0. bits holds lam_grammar_mask_words(g) words.
 * Before `<end>` at least one token is always allowed (the automaton has no dead ends); once the
 * text is done the mask is all zeros. */
lam_status lam_gram_mask(lam_gram_seq *s, uint32_t *bits, lam_error *err);

/* The same mask computed the slow way: every token of the vocabulary run through the automaton
 * byte by byte. The reference for tests and the peer of the benchmark; not for decoding. */
lam_status lam_gram_mask_naive(lam_gram_seq *s, uint32_t *bits, lam_error *err);

/* Sets logits[i] = -INFINITY for every token i in [0, n) that is not allowed, including every
 * i >= V: a model whose vocab_size is padded past V (to a multiple of 64) passes its row length
 * n and the padding is masked too; with n < V the ids >= n are simply not there. Leaves allowed
 * logits unchanged. LAM_ERR_INVALID once the text is done (nothing may be sampled) or when no
 * allowed token lies below n. */
lam_status lam_gram_apply(lam_gram_seq *s, float *logits, int32_t n, lam_error *err);

/* 1 when token may come next (the same answer as its mask bit), without computing a mask: for
 * an engine that samples first and masks only when the sample is refused. */
int lam_gram_allows(const lam_gram_seq *s, int32_t token);

/* Appends token to the text. LAM_ERR_INVALID, naming the token, its bytes, the end of the text
 * so far and what was expected there, when it is not allowed; the state is then unchanged. */
lam_status lam_gram_accept(lam_gram_seq *s, int32_t token, lam_error *err);

/* 1 when the text ended with `<end>`: stop decoding. */
int lam_gram_done(const lam_gram_seq *s);

/* The bytes accepted so far (NUL-terminated; *len may be NULL). Valid until the next accept,
 * begin or free. Once done, lam_act_parse(text, len) gives the actions. */
const char *lam_gram_text(const lam_gram_seq *s, size_t *len);

/* What the automaton expects next, in words ("an element id that allows type", "more of the
 * value of \"type\" ... or its closing '\"'"), written into buf (cap bytes) for messages and
 * logs; returns buf. */
const char *lam_gram_expecting(const lam_gram_seq *s, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
