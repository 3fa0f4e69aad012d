/* actlang.c - the action language (actlang.h): action lists with block string storage, the
 * form rules of one action, the printer, the parser (a hand-written recursive descent over
 * the grammar of docs/formats.md), validation against an observation, and the JSON mapping. */
#define _POSIX_C_SOURCE 200809L

#include "lam/actlang.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Lists                                                                                      */

struct lam_act_block {
    lam_act_block *next;
    size_t cap, used;
    char data[];
};

void lam_act_list_init(lam_act_list *l) {
    memset(l, 0, sizeof *l);
}

void lam_act_list_clear(lam_act_list *l) {
    l->n = 0;
    for (lam_act_block *b = l->blocks; b; b = b->next) b->used = 0;
    l->cur = l->blocks;
}

void lam_act_list_free(lam_act_list *l) {
    lam_act_block *b = l->blocks;
    while (b) {
        lam_act_block *next = b->next;
        free(b);
        b = next;
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Room for n bytes that stays put until clear. */
static char *list_space(lam_act_list *l, size_t n) {
    while (l->cur && l->cur->cap - l->cur->used < n) l->cur = l->cur->next;
    if (!l->cur) {
        size_t cap = n > 4000 ? n : 4000;
        lam_act_block *b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = NULL;
        b->cap = cap;
        b->used = 0;
        lam_act_block **tail = &l->blocks;
        while (*tail) tail = &(*tail)->next;
        *tail = b;
        l->cur = b;
    }
    char *p = l->cur->data + l->cur->used;
    l->cur->used += n;
    return p;
}

static lam_action *list_add(lam_act_list *l) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        lam_action *v = realloc(l->items, (size_t)cap * sizeof *v);
        if (!v) return NULL;
        l->items = v;
        l->cap = cap;
    }
    lam_action *a = &l->items[l->n++];
    memset(a, 0, sizeof *a);
    return a;
}

static char *list_strdup(lam_act_list *l, const char *s) {
    size_t n = strlen(s);
    char *p = list_space(l, n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

lam_status lam_act_list_push(lam_act_list *l, lam_action_type type, const char *element,
                             const char *value, lam_error *err) {
    char *e = element ? list_strdup(l, element) : NULL;
    char *v = value ? list_strdup(l, value) : NULL;
    lam_action *a = (element && !e) || (value && !v) ? NULL : list_add(l);
    if (!a) return lam_error_set(err, LAM_ERR_NOMEM, "action list: out of memory");
    a->type = type;
    a->element = e;
    a->value = v;
    return LAM_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Form                                                                                       */

static int id_byte(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c && strchr("_-.:#/@+$=~!?,*&%'()", c) != NULL;
}

int lam_act_id_ok(const char *id) {
    if (!id || !*id) return 0;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        if (!id_byte(*p)) return 0;
    return 1;
}

/* Writes s quoted for a message: cut after 40 bytes, control bytes as \xNN. */
static const char *qmsg(char *buf, size_t cap, const char *s) {
    size_t n = 0;
    buf[n++] = '"';
    for (size_t i = 0; s[i] && n + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 40) {
            n += (size_t)snprintf(buf + n, cap - n, "...");
            break;
        }
        if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", c);
        else
            buf[n++] = (char)c;
    }
    buf[n++] = '"';
    buf[n] = 0;
    return buf;
}

/* The first form problem of a: writes the field name and message; 0 when well formed. */
static int form_problem(const lam_action *a, const char **field, char *msg, size_t cap) {
    char q[64];
    if ((unsigned)a->type >= LAM_ACT_COUNT) {
        *field = "type";
        snprintf(msg, cap, "unknown action type (%d)", (int)a->type);
        return 1;
    }
    const char *an = lam_action_name(a->type);
    int er = lam_action_element_rule(a->type), vr = lam_action_value_rule(a->type);
    *field = "element";
    if (a->element && er == 0) return snprintf(msg, cap, "%s takes no element", an), 1;
    if (!a->element && er == 1) return snprintf(msg, cap, "missing (%s needs an element)", an), 1;
    if (a->element && !lam_act_id_ok(a->element))
        return snprintf(msg, cap,
                        "%s cannot be written in the action language (an element id is "
                        "one or more of A-Z a-z 0-9 _-.:#/@+$=~!?,*&%%'())",
                        qmsg(q, sizeof q, a->element)),
               1;
    *field = "value";
    if (a->value && vr == 0) return snprintf(msg, cap, "%s takes no value", an), 1;
    if (!a->value && vr == 1) return snprintf(msg, cap, "missing (%s needs a value)", an), 1;
    if (a->type == LAM_ACT_SCROLL && strcmp(a->value, "up") && strcmp(a->value, "down"))
        return snprintf(msg, cap, "must be \"up\" or \"down\" (got %s)",
                        qmsg(q, sizeof q, a->value)),
               1;
    if ((a->type == LAM_ACT_PRESS || a->type == LAM_ACT_GOTO) && !*a->value)
        return snprintf(msg, cap, "must not be empty (%s needs %s)", an,
                        a->type == LAM_ACT_PRESS ? "a key name" : "a URL"),
               1;
    return 0;
}

lam_status lam_act_check_form(const lam_action *a, lam_error *err) {
    const char *field;
    char msg[300];
    if (form_problem(a, &field, msg, sizeof msg))
        return lam_error_set(err, LAM_ERR_INVALID, "%s: %s", field, msg);
    return LAM_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Printer                                                                                    */

typedef struct {
    char *buf;
    size_t cap, len;
} out_buf;

static void put(out_buf *o, const char *s, size_t n) {
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}
static void puts_(out_buf *o, const char *s) {
    put(o, s, strlen(s));
}

static void put_quoted(out_buf *o, const char *s, int lead) {
    put(o, lead ? "\" " : "\"", lead ? 2 : 1);
    const char *run = s;
    for (; *s; s++) {
        const char *esc = *s == '"' ? "\\\"" : *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : NULL;
        if (!esc) continue;
        put(o, run, (size_t)(s - run));
        put(o, esc, 2);
        run = s + 1;
    }
    put(o, run, (size_t)(s - run));
    put(o, "\"", 1);
}

size_t lam_act_label_len(const char *name) {
    if (!name) return 0;
    size_t k = 0;
    while (name[k] && k < LAM_ACT_LABEL_MAX && !(name[k] == '<' && name[k + 1] == '|')) k++;
    if (name[k] && k == LAM_ACT_LABEL_MAX) /* cut: back to the start of a UTF-8 character */
        while (k > 0 && ((unsigned char)name[k] & 0xc0) == 0x80) k--;
    return k;
}

/* The label of an element: `"` + the first lam_act_label_len bytes of name, escaped + `"`. */
static void put_label(out_buf *o, const char *name) {
    size_t k = lam_act_label_len(name);
    char small[LAM_ACT_LABEL_MAX + 1];
    if (k) memcpy(small, name, k);
    small[k] = 0;
    put_quoted(o, small, 0);
}

size_t lam_act_print_label(const char *name, char *buf, size_t cap) {
    out_buf o = {buf, cap, 0};
    put_label(&o, name);
    if (o.len < cap) buf[o.len] = 0;
    return o.len;
}

static lam_status print_actions(const lam_action *a, const char *const *labels, int n,
                                unsigned flags, char *buf, size_t cap, size_t *len,
                                lam_error *err) {
    out_buf o = {buf, cap, 0};
    if (len) *len = 0;
    if (n < 1 || !a)
        return lam_error_set(err, LAM_ERR_INVALID, "action text: no actions (at least one)");
    for (int i = 0; i < n; i++) {
        const char *field;
        char msg[300];
        if (form_problem(&a[i], &field, msg, sizeof msg))
            return lam_error_set(err, LAM_ERR_INVALID, "action %d (%s): %s: %s", i,
                                 lam_action_name(a[i].type), field, msg);
        if (i) puts_(&o, LAM_ACT_SEP);
        puts_(&o, lam_action_name(a[i].type));
        if (a[i].type == LAM_ACT_SCROLL) puts_(&o, " "), puts_(&o, a[i].value); /* scroll DIR */
        if (a[i].element) {
            puts_(&o, " ");
            if (labels) put_label(&o, labels[i]), puts_(&o, " ");
            puts_(&o, a[i].element);
        }
        if (a[i].value && a[i].type != LAM_ACT_SCROLL) {
            int lead = (flags & LAM_ACT_LEAD_SPACE) &&
                       (a[i].type == LAM_ACT_TYPE || a[i].type == LAM_ACT_DONE);
            puts_(&o, " "), put_quoted(&o, a[i].value, lead);
        }
    }
    if (!(flags & LAM_ACT_NO_END)) puts_(&o, " " LAM_ACT_END);
    if (len) *len = o.len;
    if (o.len >= cap)
        return lam_error_set(err, LAM_ERR_NOMEM, "action text: needs %zu bytes, buffer holds %zu",
                             o.len + 1, cap);
    buf[o.len] = 0;
    return LAM_OK;
}

lam_status lam_act_print(const lam_action *a, int n, unsigned flags, char *buf, size_t cap,
                         size_t *len, lam_error *err) {
    return print_actions(a, NULL, n, flags, buf, cap, len, err);
}

lam_status lam_act_print_labelled(const lam_action *a, const char *const *labels, int n,
                                  unsigned flags, char *buf, size_t cap, size_t *len,
                                  lam_error *err) {
    if (!labels) return lam_error_set(err, LAM_ERR_INVALID, "action text: no labels");
    return print_actions(a, labels, n, flags, buf, cap, len, err);
}

/* ---------------------------------------------------------------------------------------- */
/* Parser                                                                                     */

typedef struct {
    const char *s;
    size_t n, i;
    size_t *off;
    lam_error *err;
    lam_act_list *out;
} parser;

/* What the byte at i is, for messages. */
static const char *got(const parser *p, size_t i, char *buf, size_t cap) {
    if (i >= p->n) return "end of text";
    unsigned char c = (unsigned char)p->s[i];
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else if (c == ' ')
        snprintf(buf, cap, "a space");
    else
        snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

static lam_status fail(parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static lam_status fail(parser *p, size_t at, const char *fmt, ...) {
    if (p->off) *p->off = at;
    if (p->err) {
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        lam_error_set(p->err, LAM_ERR_INVALID, "action text: offset %zu: %s", at, msg);
    }
    return LAM_ERR_INVALID;
}

static int ws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
static void skip_ws(parser *p) {
    while (p->i < p->n && ws(p->s[p->i])) p->i++;
}
/* Skips whitespace; 1 when at least one byte was skipped or the text ended. */
static int need_ws(parser *p) {
    size_t at = p->i;
    skip_ws(p);
    return p->i > at || p->i == p->n;
}

/* A run of id bytes starting at i: its length. */
static size_t word_len(const parser *p) {
    size_t k = p->i;
    while (k < p->n && id_byte((unsigned char)p->s[k])) k++;
    return k - p->i;
}

static const char *const kExpectAction =
    "an action type (click, type, select, hover, press, scroll, goto, back, done)";

static lam_status parse_id(parser *p, char **out, const char *what) {
    char g[24];
    size_t k = word_len(p);
    if (k == 0) return fail(p, p->i, "expected %s (got %s)", what, got(p, p->i, g, sizeof g));
    char *d = list_space(p->out, k + 1);
    if (!d) return lam_error_set(p->err, LAM_ERR_NOMEM, "action text: out of memory");
    memcpy(d, p->s + p->i, k);
    d[k] = 0;
    *out = d;
    p->i += k;
    return LAM_OK;
}

/* A quoted value at p->i (which is '"'). */
static lam_status parse_quoted(parser *p, char **out, int nonempty, const char *what) {
    char g[24];
    if (p->i >= p->n || p->s[p->i] != '"')
        return fail(p, p->i, "expected %s, a quoted value (got %s)", what,
                    got(p, p->i, g, sizeof g));
    size_t open = p->i++;
    /* the unescaped text is never longer than the quoted one */
    size_t k = p->i;
    while (k < p->n && p->s[k] != '"') k += p->s[k] == '\\' ? 2 : 1;
    size_t span = (k < p->n ? k : p->n) - p->i;
    char *d = list_space(p->out, span + 1);
    if (!d) return lam_error_set(p->err, LAM_ERR_NOMEM, "action text: out of memory");
    size_t m = 0;
    for (;;) {
        if (p->i >= p->n)
            return fail(p, p->n,
                        "expected '\"' to close the value opened at offset %zu (got end of text)",
                        open);
        char c = p->s[p->i];
        if (c == '"') break;
        if (c == '\n') return fail(p, p->i, "a newline inside a quoted value must be written \\n");
        if (c == 0) return fail(p, p->i, "a NUL byte cannot be part of a value");
        if (c == '\\') {
            if (p->i + 1 >= p->n)
                return fail(p, p->n,
                            "expected an escape (\\\", \\\\ or \\n) after '\\' (got end of text)");
            char e = p->s[p->i + 1];
            if (e != '"' && e != '\\' && e != 'n')
                return fail(p, p->i,
                            "unknown escape: expected \\\", \\\\ or \\n after '\\' (got %s)",
                            got(p, p->i + 1, g, sizeof g));
            d[m++] = e == 'n' ? '\n' : e;
            p->i += 2;
            continue;
        }
        d[m++] = c;
        p->i++;
    }
    if (nonempty && m == 0) return fail(p, open, "expected %s, not empty (got \"\")", what);
    d[m] = 0;
    p->i++; /* closing quote */
    *out = d;
    return LAM_OK;
}

/* An element id, after an optional label (`"Search" 7`: the element's name, which the parser
 * reads and drops). */
static lam_status parse_elem(parser *p, char **out, const char *what) {
    if (p->i < p->n && p->s[p->i] == '"') {
        char *label;
        LAM_TRY(parse_quoted(p, &label, 0, "an element's label"));
        skip_ws(p);
        return parse_id(p, out, "an element id after the label (a quoted name before an id)");
    }
    return parse_id(p, out, what);
}

static lam_status parse_action(parser *p) {
    char g[24], name[16];
    size_t at = p->i, k = word_len(p);
    int t = -1;
    if (k > 0 && k < sizeof name) {
        memcpy(name, p->s + at, k);
        name[k] = 0;
        t = lam_action_parse(name);
        if (t < 0 && at + k == p->n) /* maybe the start of a name */
            for (int j = 0; j < LAM_ACT_COUNT; j++)
                if (!strncmp(lam_action_name((lam_action_type)j), name, k))
                    return fail(p, p->n, "expected %s (got end of text)", kExpectAction);
    }
    if (t < 0) {
        if (k == 0)
            return fail(p, at, "expected %s (got %s)", kExpectAction, got(p, at, g, sizeof g));
        return fail(p, at, "expected %s (got \"%.*s\")", kExpectAction, k > 24 ? 24 : (int)k,
                    p->s + at);
    }
    p->i += k;
    lam_action *a = list_add(p->out);
    if (!a) return lam_error_set(p->err, LAM_ERR_NOMEM, "action text: out of memory");
    a->type = (lam_action_type)t;
    const char *an = lam_action_name(a->type);
    char what[64];
    switch (a->type) {
    case LAM_ACT_CLICK:
    case LAM_ACT_HOVER:
    case LAM_ACT_TYPE:
    case LAM_ACT_SELECT:
        snprintf(what, sizeof what, "an element id after \"%s\"", an);
        if (!need_ws(p))
            return fail(p, p->i, "expected a space after \"%s\" (got %s)", an,
                        got(p, p->i, g, sizeof g));
        LAM_TRY(parse_elem(p, &a->element, what));
        if (a->type == LAM_ACT_CLICK || a->type == LAM_ACT_HOVER) break;
        skip_ws(p);
        snprintf(what, sizeof what, "the value of \"%s\"", an);
        LAM_TRY(parse_quoted(p, &a->value, 0, what));
        break;
    case LAM_ACT_PRESS: {
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] != '"') {
            if (p->i == at + k)
                return fail(p, p->i, "expected a space after \"press\" (got %s)",
                            got(p, p->i, g, sizeof g));
            LAM_TRY(parse_id(p, &a->element, "a quoted key name or an element id after \"press\""));
            skip_ws(p);
            LAM_TRY(parse_quoted(p, &a->value, 1, "a key name after \"press\""));
            break;
        }
        /* "KEY", or "LABEL" ID "KEY": the quoted text is a label when an id follows it */
        size_t open = p->i;
        LAM_TRY(parse_quoted(p, &a->value, 0, "a key name after \"press\""));
        skip_ws(p);
        if (p->i < p->n && id_byte((unsigned char)p->s[p->i])) {
            LAM_TRY(parse_id(p, &a->element, "an element id"));
            skip_ws(p);
            LAM_TRY(parse_quoted(p, &a->value, 1, "a key name after \"press\""));
        } else if (!*a->value) {
            if (p->i == p->n) /* maybe the empty label of press "" ID "KEY" */
                return fail(p, p->n, "expected an element id after the label (got end of text)");
            return fail(p, open, "expected a key name after \"press\", not empty (got \"\")");
        }
        break;
    }
    case LAM_ACT_SCROLL: {
        if (!need_ws(p))
            return fail(p, p->i, "expected a space after \"scroll\" (got %s)",
                        got(p, p->i, g, sizeof g));
        size_t d = word_len(p);
        int up = d == 2 && !memcmp(p->s + p->i, "up", 2);
        int down = d == 4 && !memcmp(p->s + p->i, "down", 4);
        if (!up && !down) {
            if (p->i + d == p->n && ((d < 2 && !memcmp("up", p->s + p->i, d)) ||
                                     (d < 4 && !memcmp("down", p->s + p->i, d))))
                return fail(p, p->n, "expected up or down after \"scroll\" (got end of text)");
            return fail(p, p->i, "expected up or down after \"scroll\" (got %s)",
                        got(p, p->i, g, sizeof g));
        }
        a->value = up ? "up" : "down"; /* static: the list never frees values */
        p->i += d;
        size_t before = p->i;
        skip_ws(p);
        if (p->i < p->n && (id_byte((unsigned char)p->s[p->i]) || p->s[p->i] == '"')) {
            if (p->i == before && p->s[p->i] != '"') /* cannot happen: the direction took it */
                return fail(p, p->i, "expected a space after the direction");
            LAM_TRY(parse_elem(p, &a->element, "an element id"));
        }
        break;
    }
    case LAM_ACT_GOTO:
        skip_ws(p);
        LAM_TRY(parse_quoted(p, &a->value, 1, "a URL after \"goto\""));
        break;
    case LAM_ACT_BACK:
        break;
    case LAM_ACT_DONE:
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == '"')
            LAM_TRY(parse_quoted(p, &a->value, 0, "the answer of \"done\""));
        break;
    default:
        abort();
    }
    return LAM_OK;
}

lam_status lam_act_parse(const char *text, size_t len, lam_act_list *out, size_t *err_offset,
                         lam_error *err) {
    parser p = {text, len, 0, err_offset, err, out};
    char g[24];
    lam_act_list_clear(out);
    if (err_offset) *err_offset = 0;
    skip_ws(&p);
    for (;;) {
        LAM_TRY(parse_action(&p));
        skip_ws(&p);
        if (p.i < p.n && p.s[p.i] == ';') {
            p.i++;
            skip_ws(&p);
            continue;
        }
        size_t rest = p.n - p.i, e = sizeof LAM_ACT_END - 1;
        if (rest >= e && !memcmp(p.s + p.i, LAM_ACT_END, e)) {
            p.i += e;
            break;
        }
        if (rest < e && rest > 0 && !memcmp(p.s + p.i, LAM_ACT_END, rest))
            return fail(&p, p.n, "expected \"<end>\" (got end of text)");
        return fail(&p, p.i, "expected \" ; \" and another action, or \"<end>\" (got %s)",
                    got(&p, p.i, g, sizeof g));
    }
    skip_ws(&p);
    if (p.i < p.n)
        return fail(&p, p.i, "expected nothing after \"<end>\" (got %s)",
                    got(&p, p.i, g, sizeof g));
    return LAM_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Validation against an observation                                                          */

static void allowed_list(lam_role r, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (int a = 0; a < LAM_ACT_COUNT; a++) {
        if (!lam_role_allows(r, (lam_action_type)a)) continue;
        int w =
            snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", lam_action_name((lam_action_type)a));
        if (w < 0 || (size_t)w >= cap - n) break;
        n += (size_t)w;
    }
    if (!n) snprintf(buf, cap, "nothing");
}

lam_status lam_act_check(const lam_action *a, int n, const lam_observation *obs, lam_error *err) {
    char q1[64], q2[64];
    for (int i = 0; i < n; i++) {
        const lam_action *x = &a[i];
        const char *field;
        char msg[300];
        const char *an = lam_action_name(x->type);
        const char *el_id = x->element ? x->element : "";
        if (form_problem(x, &field, msg, sizeof msg))
            return lam_error_set(err, LAM_ERR_INVALID, "action %d (%s%s%.40s): %s: %s", i, an,
                                 *el_id ? " " : "", el_id, field, msg);
        if (!x->element) continue;
        const lam_element *el = obs ? lam_observation_find(obs, x->element) : NULL;
        if (!el)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "action %d (%s %s): element %s is not in the observation", i, an,
                                 x->element, qmsg(q1, sizeof q1, x->element));
        if (el->disabled)
            return lam_error_set(
                err, LAM_ERR_INVALID, "action %d (%s %s): element %s (%s %s) is disabled", i, an,
                x->element, qmsg(q1, sizeof q1, x->element), lam_role_name(el->role),
                qmsg(q2, sizeof q2, el->name ? el->name : ""));
        if ((unsigned)el->role >= LAM_ROLE_COUNT || !lam_role_allows(el->role, x->type)) {
            char allowed[96];
            allowed_list(el->role, allowed, sizeof allowed);
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "action %d (%s %s): element %s is a %s, which does not allow %s "
                                 "(it allows %s)",
                                 i, an, x->element, qmsg(q1, sizeof q1, x->element),
                                 lam_role_name(el->role), an, allowed);
        }
        if (x->type == LAM_ACT_SELECT) {
            int found = 0;
            for (int k = 0; k < el->n_options && !found; k++)
                found = el->options[k] && !strcmp(el->options[k], x->value);
            if (!found) {
                char opts[200];
                size_t m = 0;
                opts[0] = 0;
                for (int k = 0; k < el->n_options && el->options[k]; k++) {
                    char qo[64];
                    int w = snprintf(opts + m, sizeof opts - m, "%s%s", k ? ", " : "",
                                     qmsg(qo, 32, el->options[k]));
                    if (w < 0 || m + (size_t)w > 150) {
                        snprintf(opts + m, sizeof opts - m, ", ...");
                        break;
                    }
                    m += (size_t)w;
                }
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "action %d (select %s): value %s is not an option of %s "
                                     "(options: %s)",
                                     i, x->element, qmsg(q1, sizeof q1, x->value),
                                     qmsg(q2, sizeof q2, x->element), opts);
            }
        }
    }
    return LAM_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* JSON                                                                                       */

static lam_status json_set(json_t *o, const char *k, json_t *v, lam_error *err) {
    if (!v || json_object_set_new(o, k, v))
        return lam_error_set(err, LAM_ERR_NOMEM, "action JSON: json_object_set_new(\"%s\") failed",
                             k);
    return LAM_OK;
}

static lam_status to_json(const lam_action *a, int n, const lam_observation *obs, json_t *arr,
                          lam_error *err) {
    for (int i = 0; i < n; i++) {
        const char *field;
        char msg[300];
        if (form_problem(&a[i], &field, msg, sizeof msg))
            return lam_error_set(err, LAM_ERR_INVALID, "actions[%d].%s: %s", i, field, msg);
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o))
            return lam_error_set(err, LAM_ERR_NOMEM, "action JSON: json_array_append_new failed");
        LAM_TRY(json_set(o, "type", json_string(lam_action_name(a[i].type)), err));
        if (a[i].element)
            LAM_TRY(json_set(o, "element", json_stringn(a[i].element, strlen(a[i].element)), err));
        if (a[i].value) {
            json_t *v = json_stringn(a[i].value, strlen(a[i].value));
            if (!v) /* jansson refuses invalid UTF-8 (ids are ASCII) */
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "actions[%d].value: not valid UTF-8 (JSON strings are)", i);
            LAM_TRY(json_set(o, "value", v, err));
        }
        const lam_element *el =
            a[i].element && obs ? lam_observation_find(obs, a[i].element) : NULL;
        if (el) {
            LAM_TRY(json_set(o, "role", json_string(lam_role_name(el->role)), err));
            const char *nm = el->name ? el->name : "";
            json_t *v = json_stringn(nm, strlen(nm));
            LAM_TRY(json_set(o, "name", v ? v : json_string("?"), err));
        }
    }
    return LAM_OK;
}

lam_status lam_act_to_json(const lam_action *a, int n, const lam_observation *obs, json_t **out,
                           lam_error *err) {
    *out = NULL;
    json_t *arr = json_array();
    if (!arr) return lam_error_set(err, LAM_ERR_NOMEM, "action JSON: json_array failed");
    lam_status st = to_json(a, n, obs, arr, err);
    if (st != LAM_OK) {
        json_decref(arr);
        return st;
    }
    *out = arr;
    return LAM_OK;
}

lam_status lam_act_to_json_text(const lam_action *a, int n, const lam_observation *obs, char **out,
                                lam_error *err) {
    json_t *arr;
    *out = NULL;
    LAM_TRY(lam_act_to_json(a, n, obs, &arr, err));
    *out = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(arr);
    if (!*out) return lam_error_set(err, LAM_ERR_NOMEM, "action JSON: json_dumps failed");
    return LAM_OK;
}

static const char *json_kind(const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* One object; base is the path prefix ("actions[2]." or ""). */
static lam_status from_json_one(const json_t *o, const char *base, lam_act_list *out,
                                lam_error *err) {
    if (!json_is_object(o)) /* only array items get here */
        return lam_error_set(err, LAM_ERR_INVALID, "%.*s: must be an object (got %s)",
                             (int)strlen(base) - 1, base, json_kind(o));
    const char *key;
    json_t *v;
    const char *s[3] = {NULL, NULL, NULL}; /* type, element, value */
    static const char *const keys[3] = {"type", "element", "value"};
    json_object_foreach((json_t *)o, key, v) {
        int k = -1;
        for (int j = 0; j < 3; j++)
            if (!strcmp(key, keys[j])) k = j;
        if (k < 0 && (!strcmp(key, "role") || !strcmp(key, "name"))) {
            if (!json_is_string(v) && !json_is_null(v))
                return lam_error_set(err, LAM_ERR_INVALID, "%s%s: must be a string (got %s)", base,
                                     key, json_kind(v));
            continue;
        }
        if (k < 0 && !strcmp(key, "meta")) continue;
        if (k < 0) {
            char q[64];
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "%s%s: unknown field (an action has type, element, value)", base,
                                 qmsg(q, sizeof q, key));
        }
        if (json_is_null(v) && k > 0) continue;
        if (!json_is_string(v))
            return lam_error_set(err, LAM_ERR_INVALID, "%s%s: must be a string (got %s)", base, key,
                                 json_kind(v));
        if (strlen(json_string_value(v)) != json_string_length(v))
            return lam_error_set(err, LAM_ERR_INVALID, "%s%s: must not contain a NUL character",
                                 base, key);
        s[k] = json_string_value(v);
    }
    if (!s[0]) return lam_error_set(err, LAM_ERR_INVALID, "%stype: missing (required)", base);
    int t = lam_action_parse(s[0]);
    if (t < 0) {
        char q[64];
        return lam_error_set(err, LAM_ERR_INVALID,
                             "%stype: unknown action type %s (known: click, type, select, hover, "
                             "press, scroll, goto, back, done)",
                             base, qmsg(q, sizeof q, s[0]));
    }
    lam_action a = {(lam_action_type)t, (char *)s[1], (char *)s[2]};
    const char *field;
    char msg[300];
    if (form_problem(&a, &field, msg, sizeof msg))
        return lam_error_set(err, LAM_ERR_INVALID, "%s%s: %s", base, field, msg);
    return lam_act_list_push(out, a.type, a.element, a.value, err);
}

lam_status lam_act_from_json(const json_t *j, lam_act_list *out, lam_error *err) {
    lam_act_list_clear(out);
    if (!j) return lam_error_set(err, LAM_ERR_INVALID, "actions: missing");
    if (json_is_object(j)) return from_json_one(j, "", out, err);
    if (!json_is_array(j))
        return lam_error_set(err, LAM_ERR_INVALID,
                             "actions: must be an action object or an array of them (got %s)",
                             json_kind(j));
    if (json_array_size(j) == 0)
        return lam_error_set(err, LAM_ERR_INVALID, "actions: must not be empty");
    for (size_t i = 0; i < json_array_size(j); i++) {
        char base[40];
        snprintf(base, sizeof base, "actions[%zu].", i);
        LAM_TRY(from_json_one(json_array_get(j, i), base, out, err));
    }
    return LAM_OK;
}

lam_status lam_act_from_json_text(const char *text, size_t len, lam_act_list *out, lam_error *err) {
    json_error_t je;
    lam_act_list_clear(out);
    json_t *j =
        json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (!j)
        return lam_error_set(err, LAM_ERR_INVALID, "actions: invalid JSON at line %d column %d: %s",
                             je.line, je.column, je.text);
    lam_status st = lam_act_from_json(j, out, err);
    json_decref(j);
    return st;
}
