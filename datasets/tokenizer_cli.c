/* tokenizer_cli.c - `lam data tokenizer train` (tokenizer_cli.h). A `.jsonl` input is read
 * as recordings: every step becomes its training prompt (prompt.h, the same text the model
 * will see), so the merges fit the prompt format and the action language; any other file is
 * plain text, one document per line. */
#define _POSIX_C_SOURCE 200809L
#include "lam/tokenizer_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/episode.h"
#include "lam/prompt.h"
#include "lam/timer.h"
#include "lam/tokenizer.h"

#define EXIT_USAGE 2

static const char *usage =
    "usage: lam data tokenizer train --out TOKENIZER.json [flags] FILE...\n"
    "\n"
    "Trains a byte-level BPE tokenizer (Hugging Face tokenizer.json) with the prompt-section\n"
    "special tokens. FILE.jsonl is read as recordings: each step's training prompt is a\n"
    "document. Other files are plain text, one document per line.\n"
    "\n"
    "flags:\n"
    "  --out FILE          the tokenizer.json to write (atomically)        [required]\n"
    "  --vocab N           vocabulary size, specials and 256 bytes included [4096]\n"
    "  --max-episodes N    recordings read per JSONL file (0: all)          [5000]\n"
    "  --min-frequency N   pairs seen fewer times are not merged            [2]\n"
    "  -h, --help          show this help\n";

typedef struct {
    char **texts;
    size_t n, cap, bytes;
} corpus;

static int corpus_add(corpus *c, const char *s, size_t n) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        char **t = realloc(c->texts, cap * sizeof *t);
        if (!t) return 0;
        c->texts = t, c->cap = cap;
    }
    char *copy = malloc(n + 1);
    if (!copy) return 0;
    memcpy(copy, s, n);
    copy[n] = 0;
    c->texts[c->n++] = copy;
    c->bytes += n;
    return 1;
}

static lam_status read_recordings(const char *path, long max_episodes, corpus *c, lam_error *err) {
    lam_jsonl_reader r;
    LAM_TRY(lam_jsonl_open(&r, path, err));
    lam_prompt_opts po;
    lam_prompt_opts_default(&po);
    lam_prompt p;
    lam_prompt_init(&p);
    lam_status st = LAM_OK;
    long episodes = 0;
    for (;;) {
        const char *line;
        size_t len;
        if ((st = lam_jsonl_next(&r, &line, &len, err)) != LAM_OK || !line) break;
        if (max_episodes > 0 && episodes >= max_episodes) break;
        lam_problem items[4];
        lam_problems probs;
        lam_problems_init(&probs, items, 4);
        lam_episode ep;
        if (lam_episode_parse(line, len, &ep, &probs) != LAM_OK) {
            st = lam_error_set(err, LAM_ERR_INVALID, "%s:%lld: %s: %s (run lam data validate)",
                               path, (long long)r.line_no, items[0].path, items[0].msg);
            break;
        }
        lam_action *scratch = calloc((size_t)ep.n_steps + 1, sizeof *scratch);
        if (!scratch) st = lam_error_set(err, LAM_ERR_NOMEM, "%s: out of memory", path);
        for (int k = 0; st == LAM_OK && k < ep.n_steps; k++) {
            lam_prompt_input in = lam_prompt_step_input(&ep, k, scratch, NULL);
            if ((st = lam_prompt_build(&p, &po, &in, err)) != LAM_OK) break;
            if (!p.dropped && !corpus_add(c, p.text, p.len))
                st = lam_error_set(err, LAM_ERR_NOMEM, "%s: out of memory", path);
        }
        free(scratch);
        lam_episode_free(&ep);
        episodes++;
        if (st != LAM_OK) break;
    }
    lam_prompt_free(&p);
    lam_jsonl_close(&r);
    return st;
}

static lam_status read_text(const char *path, corpus *c, lam_error *err) {
    lam_jsonl_reader r; /* the line reader serves plain text as well */
    LAM_TRY(lam_jsonl_open(&r, path, err));
    lam_status st;
    for (;;) {
        const char *line;
        size_t len;
        if ((st = lam_jsonl_next(&r, &line, &len, err)) != LAM_OK || !line) break;
        if (len && !corpus_add(c, line, len)) {
            st = lam_error_set(err, LAM_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
    }
    lam_jsonl_close(&r);
    return st;
}

static int usage_error(const char *msg, const char *arg) {
    fprintf(stderr, "lam data tokenizer: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, "\n\n%s", usage);
    return EXIT_USAGE;
}

static int parse_long(const char *s, long lo, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > (1L << 24)) return 0;
    *out = v;
    return 1;
}

int lam_data_tokenizer_main(int argc, char **argv) {
    if (argc < 1) return usage_error("%s", "missing the command (train)");
    if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[0], "train")) return usage_error("unknown tokenizer command '%s'", argv[0]);
    const char *out = NULL;
    long vocab = 4096, max_episodes = 5000, min_freq = 2;
    const char **files = calloc((size_t)argc, sizeof *files);
    int n_files = 0, rc = 0;
    if (!files) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long *target = NULL, lo = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            goto done;
        } else if (!strcmp(a, "--out")) {
            if (i + 1 >= argc) return free(files), usage_error("flag '%s' needs a value", a);
            out = argv[++i];
            continue;
        } else if (!strcmp(a, "--vocab")) {
            target = &vocab, lo = 300;
        } else if (!strcmp(a, "--max-episodes")) {
            target = &max_episodes;
        } else if (!strcmp(a, "--min-frequency")) {
            target = &min_freq, lo = 1;
        } else if (a[0] == '-' && a[1]) {
            free(files);
            return usage_error("unknown flag '%s'", a);
        } else {
            files[n_files++] = a;
            continue;
        }
        if (i + 1 >= argc) return free(files), usage_error("flag '%s' needs a value", a);
        if (!parse_long(argv[++i], lo, target)) {
            free(files);
            fprintf(stderr, "lam data tokenizer: %s '%s' must be an integer >= %ld\n\n%s", a,
                    argv[i], lo, usage);
            return EXIT_USAGE;
        }
    }
    if (!out) {
        free(files);
        return usage_error("%s", "--out is required");
    }
    if (!n_files) {
        free(files);
        return usage_error("%s", "no input files");
    }
    corpus c = {0};
    lam_error err = {0};
    lam_status st = LAM_OK;
    double t0 = lam_now_s();
    for (int i = 0; i < n_files && st == LAM_OK; i++) {
        size_t n = strlen(files[i]);
        int jsonl = n > 6 && !strcmp(files[i] + n - 6, ".jsonl");
        st = jsonl ? read_recordings(files[i], max_episodes, &c, &err)
                   : read_text(files[i], &c, &err);
    }
    lam_tok *t = NULL;
    if (st == LAM_OK) {
        lam_tok_train_opts o;
        lam_tok_train_opts_default(&o);
        o.vocab_size = (int32_t)vocab;
        o.min_frequency = min_freq;
        st = lam_tok_train((const char *const *)c.texts, NULL, c.n, &o, &t, &err);
    }
    if (st == LAM_OK) st = lam_tok_save(t, out, &err);
    if (st == LAM_OK)
        fprintf(stderr, "lam data tokenizer: %d ids from %zu documents (%.1f MB) in %.1f s -> %s\n",
                lam_tok_n_ids(t), c.n, (double)c.bytes / 1e6, lam_now_s() - t0, out);
    else
        fprintf(stderr, "lam data tokenizer: %s\n", err.msg), rc = 1;
    lam_tok_free(t);
    for (size_t i = 0; i < c.n; i++) free(c.texts[i]);
    free(c.texts);
done:
    free(files);
    return rc;
}
