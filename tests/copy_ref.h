/* copy_ref.h - the tests' own reference for copied values (grammar.h, lam_gram_opts.copy),
 * written from the rule, not from infer/grammar.c nor infer/dates.c: a value is empty, or it
 * occurs in one source (the task, an element's name, value or options; each split where its UTF-8
 * is invalid) as a run of whole chunks (below), or (typed, not an answer) it is the ISO
 * form of a date a source mentions (dates.h; found here with POSIX regular expressions), the year
 * the mention's or else one a source writes, or, when a mention has no year and no source writes
 * one, any ISO date (YYYY-MM-DD, years 1900 to 2099, months 01 to 12, days 01 to 31). Bytes are
 * spaces (' ', '\t', '\n', '\r') or not; a copy starts and ends at a non-space byte, starts at the
 * piece's start, after a space or after an opening, joining or sign byte, and ends at the piece's
 * end, before a space, a joining byte, or closing punctuation up to a space or the end
 * (ref_chunk_start, ref_chunk_end). Header-only (static), for test_grammar.c, test_agent.c and
 * fuzz_grammar.c. */
#ifndef LAM_TEST_COPY_REF_H
#define LAM_TEST_COPY_REF_H

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/episode.h"

static int ref_class(unsigned char c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return 0;
    if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 2;
    return 1;
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

/* Chunks: a copy starts where the piece starts, after a space, or after one of ( " ' [ { < - /
 * $ # (opening, joining, a sign); it ends where the piece ends, before a space, before - or /, or
 * before a run of closing punctuation . , ; : ! ? ) " ' ] } > that ends the piece or a space
 * follows. */
static int ref_chunk_start(const unsigned char *p, size_t i) {
    return i == 0 || ref_class(p[i - 1]) == 0 || memchr("(\"'[{<-/$#", p[i - 1], 10) != NULL;
}

static int ref_chunk_end(const unsigned char *p, size_t n, size_t j) {
    if (j == n || ref_class(p[j]) == 0 || p[j] == '-' || p[j] == '/') return 1;
    size_t k = j;
    while (k < n && memchr(".,;:!?)\"']}>", p[k], 12)) k++;
    return k > j && (k == n || ref_class(p[k]) == 0);
}

static int ref_in_piece(const char *v, size_t vl, const unsigned char *p, size_t n) {
    for (size_t i = 0; vl && i + vl <= n; i++)
        if (!memcmp(p + i, v, vl) && ref_class(p[i]) != 0 && ref_chunk_start(p, i) &&
            ref_class(p[i + vl - 1]) != 0 && ref_chunk_end(p, n, i + vl))
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

static int ref_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#define REF_MONTHS                                                                                 \
    "(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|"          \
    "oct(ober)?|nov(ember)?|dec(ember)?)"

/* The date mentions of dates.h, by regular expressions tried at every word start: the month
 * first (groups 1, month; 11, day: REF_MONTHS has 9 groups inside) or the day first (1, day; 4,
 * month), then a year (", YYYY" or " YYYY"). A month's '.' belongs to it unless a letter or
 * digit follows. */
typedef struct {
    regex_t md, dm, year;
    int ok;
} ref_date_res;

static int ref_date_res_init(ref_date_res *r) {
    int f = REG_EXTENDED | REG_ICASE;
    r->ok = !regcomp(&r->md, "^" REF_MONTHS "\\.? ([0-9]{1,2})(st|nd|rd|th)?", f) &&
            !regcomp(&r->dm, "^([0-9]{1,2})(st|nd|rd|th)? (of )?" REF_MONTHS "\\.?", f) &&
            !regcomp(&r->year, "^(, | )((19|20)[0-9][0-9])", f);
    return r->ok;
}

static void ref_date_res_free(ref_date_res *r) {
    regfree(&r->md);
    regfree(&r->dm);
    regfree(&r->year);
}

static int ref_month_of(const char *p) {
    static const char *const m3[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
    for (int k = 0; k < 12; k++) {
        int same = 1;
        for (int i = 0; i < 3; i++)
            if ((p[i] | 0x20) != m3[k][i]) same = 0;
        if (same) return k + 1;
    }
    return 0;
}

static int ref_day_ok(int y, int m, int d) {
    static const int len[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d >= 1 && d <= len[m - 1] && !(m == 2 && d == 29 && y && !leap);
}

/* A mention at text + i: its length and *y, *m, *d, or 0. */
static int ref_mention_at(const ref_date_res *r, const char *p, int *y, int *m, int *d) {
    regmatch_t g[16];
    int n;
    if (!regexec(&r->md, p, 16, g, 0)) {
        *m = ref_month_of(p + g[1].rm_so);
        *d = atoi(p + g[11].rm_so);
        n = (int)g[0].rm_eo;
        if (g[11].rm_eo - g[11].rm_so == 2 && p[g[11].rm_eo] >= '0' && p[g[11].rm_eo] <= '9')
            return 0; /* a third digit */
    } else if (!regexec(&r->dm, p, 16, g, 0)) {
        *d = atoi(p + g[1].rm_so);
        *m = ref_month_of(p + g[4].rm_so);
        n = (int)g[0].rm_eo;
        if (p[g[1].rm_eo] >= '0' && p[g[1].rm_eo] <= '9') return 0;
        if (p[n - 1] == '.' && ref_alnum(p[n])) n--; /* "5 Mar.x": the '.' is not the month's */
    } else {
        return 0;
    }
    if (ref_alnum(p[n])) return 0; /* "Aug 5x", "5 Augusta" */
    *y = 0;
    if (!regexec(&r->year, p + n, 16, g, 0) && !ref_alnum(p[n + g[0].rm_eo])) {
        *y = atoi(p + n + g[2].rm_so);
        n += (int)g[0].rm_eo;
    }
    return ref_day_ok(*y, *m, *d) ? n : 0;
}

/* What the sources of (task, o) allow as a typed ISO date v: 1 or 0. */
typedef struct {
    int y[8], ny, m[64][3], nm;
} ref_dates;

static void ref_dates_scan(const ref_date_res *r, const char *x, ref_dates *a) {
    if (!x) return;
    int years = 0, mentions = 0; /* the first 8 years and 64 mentions of each source */
    for (size_t i = 0; x[i]; i++) {
        if ((i > 0 && ref_alnum(x[i - 1])) || !ref_alnum(x[i])) continue;
        int y, m, d, n = ref_mention_at(r, x + i, &y, &m, &d);
        if (!n) continue;
        int seen = 0;
        for (int k = 0; k < a->nm; k++)
            seen |= a->m[k][0] == y && a->m[k][1] == m && a->m[k][2] == d;
        if (mentions++ < 64 && !seen && a->nm < 64) {
            a->m[a->nm][0] = y, a->m[a->nm][1] = m, a->m[a->nm][2] = d;
            a->nm++;
        }
        i += (size_t)n - 1;
    }
    for (size_t i = 0; x[i]; i++) {
        if (i > 0 && ref_alnum(x[i - 1])) continue;
        int y = 0, k = 0;
        while (k < 4 && x[i + k] >= '0' && x[i + k] <= '9') y = y * 10 + x[i + k++] - '0';
        if (k < 4 || y < 1900 || y > 2099 || ref_alnum(x[i + 4])) continue;
        int seen = 0;
        for (int k = 0; k < a->ny; k++) seen |= a->y[k] == y;
        if (years++ < 8 && !seen && a->ny < 8) a->y[a->ny++] = y;
        i += 3;
    }
}

/* page: the page's mentions count too (its years always do) */
static int ref_date_allowed(const char *v, const char *task, const lam_observation *o, int page) {
    ref_date_res r;
    if (!ref_date_res_init(&r)) {
        fprintf(stderr, "copy_ref.h: the date expressions do not compile\n");
        abort();
    }
    ref_dates a = {.ny = 0, .nm = 0};
    ref_dates_scan(&r, task, &a);
    for (int j = 0; j < o->n_elements; j++) {
        const lam_element *e = &o->elements[j];
        const char *x[2] = {e->name, e->value};
        for (int k = 0; k < 2 + (e->options ? e->n_options : 0); k++) {
            int nm = a.nm;
            ref_dates_scan(&r, k < 2 ? x[k] : e->options[k - 2], &a);
            if (!page) a.nm = nm; /* its years only */
        }
    }
    ref_date_res_free(&r);
    int vy, vm, vd, any = 0, kept = 0; /* the candidates in order, the first 64 kept */
    sscanf(v, "%4d-%2d-%2d", &vy, &vm, &vd);
    char seen[64][11];
    for (int k = 0; k < a.nm; k++) {
        any |= !a.m[k][0] && !a.ny;
        for (int j = 0; j < (a.m[k][0] ? 1 : a.ny); j++) {
            int y = a.m[k][0] ? a.m[k][0] : a.y[j];
            if (!ref_day_ok(y, a.m[k][1], a.m[k][2])) continue;
            char iso[11];
            snprintf(iso, sizeof iso, "%04u-%02u-%02u", (unsigned)y % 10000u,
                     (unsigned)a.m[k][1] % 100u, (unsigned)a.m[k][2] % 100u);
            int dup = 0;
            for (int i = 0; i < kept; i++) dup |= !strcmp(seen[i], iso);
            if (dup || kept == 64) continue;
            memcpy(seen[kept++], iso, sizeof iso);
            if (!strcmp(iso, v)) return 1;
        }
    }
    return any;
}

/* page: bit t set when a value of type t may come from the page (lam_gram_opts.copy_page) */
static int ref_copyable(lam_action_type t, const char *v, const char *task,
                        const lam_observation *o, unsigned page) {
    if (!v[0] || ref_in_source(v, task)) return 1;
    int from_page = (page >> t) & 1;
    for (int j = 0; from_page && j < o->n_elements; j++) {
        const lam_element *e = &o->elements[j];
        if (ref_in_source(v, e->name) || ref_in_source(v, e->value)) return 1;
        for (int k = 0; e->options && k < e->n_options; k++)
            if (ref_in_source(v, e->options[k])) return 1;
    }
    return t == LAM_ACT_TYPE && ref_date(v) && ref_date_allowed(v, task, o, from_page);
}

#endif
