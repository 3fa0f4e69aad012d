/* copy_ref.h - the tests' own reference for copied values (grammar.h, lam_gram_opts.copy),
 * written from the rule, not from infer/grammar.c: a value is empty, or (typed, not an answer)
 * an ISO date (YYYY-MM-DD, years 1900 to 2099, months 01 to 12, days 01 to 31), or it
 * occurs in one source (the task, an element's name, value or options; each split where its UTF-8
 * is invalid) at a word start and ending at a word end. Bytes are spaces (' ', '\t', '\n', '\r'),
 * word bytes (ASCII letters and digits, and every byte >= 0x80) or punctuation (the rest); each
 * punctuation byte is a word of its own; a word start is a non-space byte after a boundary, a word
 * end a non-space byte before one; the edges of a piece are boundaries. Header-only (static), for
 * test_grammar.c, test_agent.c and fuzz_grammar.c. */
#ifndef LAM_TEST_COPY_REF_H
#define LAM_TEST_COPY_REF_H

#include <stdio.h>
#include <string.h>

#include "lam/episode.h"

static int ref_class(unsigned char c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return 0;
    if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 2;
    return 1;
}

/* A boundary before p[i] in the piece p[0..n). */
static int ref_boundary(const unsigned char *p, size_t n, size_t i) {
    if (i == 0 || i == n) return 1;
    int a = ref_class(p[i - 1]), b = ref_class(p[i]);
    return a != b || a == 1 || b == 1;
}

/* Bytes of the well-formed UTF-8 sequence at p (RFC 3629), 0 if there is none. */
static size_t ref_utf8(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    size_t k = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
    if (!k || k > n) return 0;
    unsigned long cp = k == 1 ? c : k == 2 ? (c & 0x1f) : k == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return k;
}

static int ref_in_piece(const char *v, size_t vl, const unsigned char *p, size_t n) {
    for (size_t i = 0; i + vl <= n; i++)
        if (!memcmp(p + i, v, vl) && ref_class(p[i]) != 0 && ref_boundary(p, n, i) &&
            ref_class(p[i + vl - 1]) != 0 && ref_boundary(p, n, i + vl))
            return 1;
    return 0;
}

static int ref_in_source(const char *v, const char *src) {
    if (!src) return 0;
    const unsigned char *s = (const unsigned char *)src;
    size_t n = strlen(src), vl = strlen(v), a = 0;
    for (size_t i = 0; i <= n;) { /* pieces between invalid bytes */
        size_t k = i < n ? ref_utf8(s + i, n - i) : 0;
        if (k) {
            i += k;
            continue;
        }
        if (ref_in_piece(v, vl, s + a, i - a)) return 1;
        a = ++i;
    }
    return 0;
}

/* YYYY-MM-DD with the year in 1900..2099, the month in 1..12, the day in 1..31. */
static int ref_date(const char *v) {
    int y, m, d, n = 0;
    if (strlen(v) != 10 || v[4] != '-' || v[7] != '-') return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9')) return 0;
    if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10) return 0;
    return y >= 1900 && y <= 2099 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int ref_copyable(lam_action_type t, const char *v, const char *task,
                        const lam_observation *o) {
    if ((t == LAM_ACT_TYPE && ref_date(v)) || !v[0]) return 1;
    if (ref_in_source(v, task)) return 1;
    for (int j = 0; j < o->n_elements; j++) {
        const lam_element *e = &o->elements[j];
        if (ref_in_source(v, e->name) || ref_in_source(v, e->value)) return 1;
        for (int k = 0; e->options && k < e->n_options; k++)
            if (ref_in_source(v, e->options[k])) return 1;
    }
    return 0;
}

#endif
