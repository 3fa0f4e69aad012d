/* grammar.c - constrained action decoding (grammar.h): the byte automaton of the canonical action
 * language against one observation, the vocabulary trie and the token masks. docs/decoding.md
 * explains the states, the mask algorithm and the caches; this file follows it section by
 * section:
 *   1. the vocabulary: each id's bytes, the byte trie (CSR, dense child tables where wide);
 *   2. the automaton: a small state struct and step(state, byte), the only definition of what
 *      is allowed (the masks, accept and the naive reference all go through it);
 *   3. the per-observation tries (element ids with the actions each allows, quoted options) and,
 *      for copied values, the chunk-start suffixes of the texts they may be copied from, sorted;
 *   4. the masks: a joint walk of the vocabulary trie and the automaton, and for states inside
 *      a free value the masks decided at create time (XGrammar's adaptive token mask cache:
 *      the context-independent tokens are a precomputed bitset, the few context-dependent
 *      ones, those that close the quote, are run through the automaton at each step); a copied
 *      value is walked like the rest, the range of suffixes it matches pruning the trie. */
#define _POSIX_C_SOURCE 200809L

#include "lam/grammar.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/actlang.h"
#include "lam/dates.h"

/* ---------------------------------------------------------------------------------------- */
/* 1. The vocabulary                                                                          */

#define DENSE_MIN 16 /* trie nodes with this many children get a 256-entry child table */

/* Substates inside a free value: at a character boundary, after '\', or inside a UTF-8
 * character (how many continuation bytes remain and the range of the next one). */
enum { VS_B, VS_ESC, VS_C1, VS_C2, VS_C3, VS_E0, VS_ED, VS_F0, VS_F4, VS_COUNT };
/* Value bytes still owed by each substate (reserved when the character started). */
static const uint8_t vs_need[VS_COUNT] = {0, 1, 1, 2, 3, 2, 2, 3, 3};

struct lam_grammar {
    const lam_tok *tok;
    int32_t V;          /* ids covered: lam_tok_n_ids */
    size_t W;           /* mask words */
    uint32_t *tok_off;  /* (V + 1): bytes of id i are tok_bytes[tok_off[i] .. tok_off[i+1]) */
    uint8_t *tok_bytes; /* empty for ids never allowed (added, special, holes) */
    int32_t max_len;    /* longest token in bytes */
    int32_t n_nodes;    /* trie nodes; node 0 is the root (the empty string) */
    int32_t *cbeg;      /* (n_nodes + 1): children of u are edges cbeg[u] .. cbeg[u+1] */
    uint8_t *cbyte;     /* (n_nodes - 1): edge bytes, ascending within a node */
    int32_t *cnode;     /* (n_nodes - 1): edge targets */
    int32_t *ntok;      /* (n_nodes): first id whose bytes end here, -1 */
    int32_t *tnext;     /* (V): next id with the same bytes, -1 */
    int32_t *dense;     /* (n_nodes): -1, or the row of dtab holding this node's children */
    int32_t *dtab;      /* (n_dense, 256): child node by byte, -1 */
    /* Value states, per substate s (section 4). */
    uint32_t *vin;    /* (VS_COUNT, W): tokens that stay inside the value */
    int32_t *vsorted; /* (VS_COUNT, V): those ids by value bytes needed, ascending */
    int32_t n_in[VS_COUNT];
    int32_t vmax[VS_COUNT]; /* the most value bytes one inside token needs */
    int32_t *vle;           /* (VS_COUNT, neff_cap + 1): inside tokens needing <= r bytes */
    int32_t neff_cap;
    int32_t *vclose; /* (VS_COUNT, V): ids that reach the closing quote (checked per step) */
    int32_t n_close[VS_COUNT];
};

int32_t lam_grammar_n_ids(const lam_grammar *g) {
    return g ? g->V : 0;
}
size_t lam_grammar_mask_words(const lam_grammar *g) {
    return g ? g->W : 0;
}

static int32_t vchild(const lam_grammar *g, int32_t u, uint8_t b) {
    if (g->dense[u] >= 0) return g->dtab[(size_t)g->dense[u] * 256 + b];
    for (int32_t e = g->cbeg[u]; e < g->cbeg[u + 1]; e++) {
        if (g->cbyte[e] == b) return g->cnode[e];
        if (g->cbyte[e] > b) break;
    }
    return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* 2. The automaton                                                                           */

/* Grammar positions. The canonical text is
 *   action ( " ; " action )* " <end>"
 * with each action as lam_act_print writes it. */
enum {
    P_KW,      /* an action type: cand = the types still possible, sub = bytes matched */
    P_SP1,     /* the space after the type (act) */
    P_ELEMVAL, /* after "press ": an element id or the quoted value */
    P_DIR,     /* after "scroll ": up or down; sub = bytes matched, cand bit 0 up, bit 1 down */
    P_ID,      /* an element id for act: node = id trie node (0: nothing yet) */
    P_QUOTE,   /* the '"' opening the free value of act */
    P_VAL,     /* inside the free value of act: sub = VS_*, count = value bytes so far */
    P_OPT,     /* inside a quoted option: node = option trie node */
    P_AFTER,   /* an action ended: the space; flags say what may follow it */
    P_SP,      /* after that space: ';' (F_SEMI), '<', the answer's '"' (F_QUOTE), an id (F_ID) */
    P_SEMI,    /* after ';': the space before the next action */
    P_END,     /* inside "<end>": sub = bytes matched */
    P_FINAL,   /* after "<end>": nothing */
};
enum { F_SEMI = 1, F_QUOTE = 2, F_ID = 4, F_LEAD = 8 }; /* F_LEAD (P_VAL): the lead space taken */

typedef struct {
    uint8_t pos, act, sub, flags;
    uint16_t cand;
    uint8_t num, dprev; /* P_VAL of a copied value: 1 + the bytes of a date matched (0: none)
                           and the last of them */
    int32_t node;       /* id or option trie node */
    int32_t count;      /* value bytes (P_VAL) */
    int32_t nact;       /* actions before the current one */
    int32_t lo, hi;     /* P_VAL of a copied value: the sorted chunk-start suffixes whose first
                           `count` bytes are the value's (unescaped) bytes; lo == hi: none */
} gst;

/* The action type names, in lam_action_type order (checked against lam_action_name). */
static const char *const kw_name[LAM_ACT_COUNT] = {"click",  "type", "select", "hover", "press",
                                                   "scroll", "goto", "back",   "done"};
static const uint8_t kw_len[LAM_ACT_COUNT] = {5, 4, 6, 5, 5, 6, 4, 4, 4};

#define ABIT(t) ((uint16_t)(1u << (t)))

/* The per-observation tries (section 3). */
typedef struct {
    int32_t child, sibling; /* first child, next sibling; -1 */
    int32_t optroot;        /* select: the option trie of the element with this id; -1 */
    uint16_t below;         /* actions some id in this subtree allows */
    uint16_t term;          /* actions the id ending here allows */
    uint8_t byte;
    uint8_t claimed; /* an element has this id: the first one decides */
} idnode;

typedef struct {
    int32_t child, sibling;
    uint8_t byte, leaf; /* leaf: the closing quote of an option */
} optnode;

struct lam_gram_seq {
    const lam_grammar *g;
    const lam_observation *obs;
    int begun;
    int max_actions, max_value;
    uint16_t kw; /* action types allowed at the start of an action */
    gst st;
    idnode *idn;
    int32_t n_idn;
    size_t cap_idn;
    optnode *opn;
    int32_t n_opn;
    size_t cap_opn;
    char *text;
    size_t len, cap;
    uint32_t *bits; /* (W) scratch for apply */
    unsigned copy;  /* ABIT of the types whose values are copied */
    uint8_t *src;   /* (n_src) the copy sources, each followed by a 0 (section 3) */
    int32_t *nend;  /* (n_src) the first position >= x at which a copied value may end, within
                       x's source; INT32_MAX when none */
    int32_t *sa;    /* (n_sa) the positions a copied value may start at, by their suffix */
    int32_t *tmp;   /* (n_sa) scratch of the sort */
    int32_t n_src, n_sa;
    int32_t page_from;  /* src positions from here to date_from are the page's */
    unsigned copy_page; /* ABIT of the types that may copy from the page */
    unsigned lead;      /* ABIT of the copied types whose value may begin with one space before
                           the copy (lam_gram_opts.lead_space) and have something to copy */
    int32_t date_from;  /* src positions from here on are the ISO dates of the prompt's date
                           mentions (section 3): copied by `type` only */
    int date_any;       /* a mention without a year and no year written: any calendar date */
    char dates[LAM_GRAM_MAX_DATES][11]; /* (n_dates) those ISO dates, distinct */
    int n_dates;
    size_t cap_src, cap_nend, cap_sa, cap_tmp;
    int labels;     /* element ids are preceded by their label (lam_gram_opts.labels) */
    uint8_t *later; /* (n_elements) labels: an earlier element has the same id */
    char *key;      /* labels: one element's trie key, `"LABEL" ID` */
    size_t cap_later, cap_key;
};

/* Whether action t needs a non-empty value (the form rules of actlang.c). */
static int nonempty_value(int t) {
    return t == LAM_ACT_PRESS || t == LAM_ACT_GOTO;
}

static int32_t id_child(const lam_gram_seq *s, int32_t u, uint8_t b, int act) {
    for (int32_t c = s->idn[u].child; c >= 0; c = s->idn[c].sibling)
        if (s->idn[c].byte == b) return s->idn[c].below & ABIT(act) ? c : -1;
    return -1;
}

static int32_t opt_child(const lam_gram_seq *s, int32_t u, uint8_t b) {
    for (int32_t c = s->opn[u].child; c >= 0; c = s->opn[c].sibling)
        if (s->opn[c].byte == b) return c;
    return -1;
}

/* The suffixes of sa[lo, hi) (which share their first d bytes) whose byte d is b: narrows the
 * range by two binary searches. */
static void narrow(const lam_gram_seq *s, int32_t d, uint8_t b, int32_t *lo, int32_t *hi) {
    int32_t a = *lo, z = *hi;
    while (a < z) { /* first with byte >= b */
        int32_t m = a + (z - a) / 2;
        if (s->src[s->sa[m] + d] < b)
            a = m + 1;
        else
            z = m;
    }
    int32_t e = a;
    z = *hi;
    while (e < z) { /* first with byte > b */
        int32_t m = e + (z - e) / 2;
        if (s->src[s->sa[m] + d] <= b)
            e = m + 1;
        else
            z = m;
    }
    *lo = a, *hi = e;
}

/* Whether action t may copy from the source at x: the task, the page (copy_page), the dates
 * (`type` only). */
static int source_for(const lam_gram_seq *s, int32_t x, int t) {
    if (x < s->page_from) return 1;
    if (x < s->date_from) return (s->copy_page & ABIT(t)) != 0;
    return t == LAM_ACT_TYPE;
}

/* Whether a value of action t matching sa[lo, hi) at depth d can still end within max_value
 * bytes. */
static int viable(const lam_gram_seq *s, int32_t lo, int32_t hi, int32_t d, int t) {
    for (int32_t i = lo; i < hi; i++) {
        int32_t x = s->sa[i];
        if (s->nend[x + d] != INT32_MAX && s->nend[x + d] - x <= s->max_value &&
            source_for(s, x, t))
            return 1;
    }
    return 0;
}

/* The other form a copied value of `type` may take when the prompt writes a date without a year
 * and no year anywhere (date_any): an ISO date YYYY-MM-DD of the years 1900 to 2099, months 01
 * to 12, days 01 to 31. num is 1 + the bytes of it matched so far (0: the value is no date), prev
 * the last of them; a date is complete at DATE_LEN bytes. */
#define DATE_LEN 10
static int date_byte(int at, uint8_t prev, uint8_t b) {
    int d = b >= '0' && b <= '9';
    switch (at) {
    case 0:
        return b == '1' || b == '2';
    case 1:
        return b == (prev == '1' ? '9' : '0');
    case 4:
    case 7:
        return b == '-';
    case 5:
        return b == '0' || b == '1';
    case 6:
        return prev == '0' ? d && b != '0' : b >= '0' && b <= '2';
    case 8:
        return b >= '0' && b <= '3';
    case 9:
        return prev == '0' ? d && b != '0' : prev == '3' ? b == '0' || b == '1' : d;
    default:
        return d;
    }
}

/* A value starts: a copied one matching every chunk start, maybe a date (when one fits). */
static void value_start(const lam_gram_seq *s, gst *o, int t) {
    o->pos = P_VAL;
    o->sub = VS_B;
    o->flags = 0;
    o->count = 0;
    o->lo = 0, o->hi = s->n_sa;
    o->num = (s->copy & ABIT(t)) && t == LAM_ACT_TYPE && s->date_any && s->max_value >= DATE_LEN;
}

/* One unescaped byte of a copied value: 0 when the value would be neither the start of a copy
 * that can still end within the limit nor the start of a date. Free values always pass. */
static int copy_byte(const lam_gram_seq *s, const gst *q, uint8_t raw, gst *o) {
    if (!(s->copy & ABIT(q->act))) return 1;
    int32_t lo = q->lo, hi = q->hi;
    if (lo < hi) {
        narrow(s, q->count, raw, &lo, &hi);
        if (!viable(s, lo, hi, q->count + 1, q->act)) lo = hi;
    }
    int num = q->num && q->num <= DATE_LEN && date_byte(q->num - 1, q->dprev, raw) ? q->num + 1 : 0;
    if (lo >= hi && !num) return 0;
    o->lo = lo, o->hi = hi;
    o->num = (uint8_t)num;
    o->dprev = raw;
    return 1;
}

/* Whether the copied value so far may end here: empty, a date, or a copy that ends at a chunk
 * end of its source. */
static int copy_may_end(const lam_gram_seq *s, const gst *q) {
    if (q->count == 0 || q->num == DATE_LEN + 1) return 1;
    for (int32_t i = q->lo; i < q->hi; i++)
        if (s->nend[s->sa[i] + q->count] == s->sa[i] + q->count && source_for(s, s->sa[i], q->act))
            return 1;
    return 0;
}

/* The end of an action of type t: the space, then what may follow. */
static void to_after(const lam_gram_seq *s, gst *o, int t, uint8_t extra) {
    o->pos = P_AFTER;
    o->act = (uint8_t)t;
    o->flags = extra;
    if (t != LAM_ACT_DONE && o->nact + 1 < s->max_actions) o->flags |= F_SEMI; /* done is last */
}

/* What follows a complete element id of action t (the space after it consumed). */
static void after_id(const lam_gram_seq *s, gst *o, int32_t node, int t) {
    if (t == LAM_ACT_SELECT) {
        o->pos = P_OPT;
        o->node = s->idn[node].optroot;
    } else if (t == LAM_ACT_SCROLL || lam_action_value_rule((lam_action_type)t) == 0) {
        to_after(s, o, t, 0);
        o->pos = P_SP; /* the space after the id is the action's trailing space */
    } else {
        o->pos = P_QUOTE;
    }
}

/* One byte: 1 and *o the next state, or 0 when b is not allowed in state q. */
static int step(const lam_gram_seq *s, const gst *q, uint8_t b, gst *o) {
    *o = *q;
    switch (q->pos) {
    case P_KW: {
        uint16_t cand = 0;
        int full = -1;
        for (int t = 0; t < LAM_ACT_COUNT; t++) {
            if (!(q->cand & ABIT(t)) || kw_len[t] <= q->sub || (uint8_t)kw_name[t][q->sub] != b)
                continue;
            cand |= ABIT(t);
            if (kw_len[t] == q->sub + 1) full = t; /* names are prefix-free: the only one */
        }
        if (!cand) return 0;
        if (full < 0) {
            o->cand = cand;
            o->sub++;
            return 1;
        }
        o->act = (uint8_t)full;
        o->sub = 0;
        int er = lam_action_element_rule((lam_action_type)full);
        int vr = lam_action_value_rule((lam_action_type)full);
        if (full != LAM_ACT_SCROLL && er == 0 && vr != 1)
            to_after(s, o, full, vr == -1 ? F_QUOTE : 0); /* back; done [answer] */
        else
            o->pos = P_SP1;
        return 1;
    }
    case P_SP1: {
        if (b != ' ') return 0;
        int t = q->act, er = lam_action_element_rule((lam_action_type)t);
        if (t == LAM_ACT_SCROLL) {
            o->pos = P_DIR;
            o->sub = 0;
            o->cand = 3;
        } else if (er == 1) {
            o->pos = P_ID;
            o->node = 0;
        } else if (er == -1) {
            o->pos = P_ELEMVAL;
        } else {
            o->pos = P_QUOTE;
        }
        return 1;
    }
    case P_ELEMVAL:
        if (b == '"') {
            value_start(s, o, q->act);
            return 1;
        } else {
            int32_t c = id_child(s, 0, b, q->act);
            if (c < 0) return 0;
            o->pos = P_ID;
            o->node = c;
            return 1;
        }
    case P_DIR: {
        uint16_t cand = 0;
        if ((q->cand & 1) && q->sub < 2 && "up"[q->sub] == b) cand |= 1;
        if ((q->cand & 2) && q->sub < 4 && "down"[q->sub] == b) cand |= 2;
        if (!cand) return 0;
        o->sub++;
        o->cand = cand;
        if ((cand == 1 && o->sub == 2) || (cand == 2 && o->sub == 4))
            to_after(s, o, LAM_ACT_SCROLL, s->idn[0].below & ABIT(LAM_ACT_SCROLL) ? F_ID : 0);
        return 1;
    }
    case P_ID: {
        /* a complete id; a space inside a key is that of a label (`"Search" 7`): a key that
         * ends never goes on with a space */
        if (b == ' ' && q->node && (s->idn[q->node].term & ABIT(q->act))) {
            after_id(s, o, q->node, q->act);
            return 1;
        }
        int32_t c = id_child(s, q->node, b, q->act);
        if (c < 0) return 0;
        o->node = c;
        return 1;
    }
    case P_QUOTE:
        if (b != '"') return 0;
        value_start(s, o, q->act);
        return 1;
    case P_VAL: {
        int64_t room = (int64_t)s->max_value - q->count;
        uint8_t ns;
        int need;
        switch (q->sub) {
        case VS_B:
            if (b == ' ' && q->count == 0 && !(q->flags & F_LEAD) && (s->lead & ABIT(q->act))) {
                o->flags |= F_LEAD; /* the space before a copy, not part of it */
                return 1;
            }
            if (b == '"') {
                if (q->count == 0 && (nonempty_value(q->act) || (q->flags & F_LEAD)))
                    return 0; /* a lead space is followed by a copy */
                if ((s->copy & ABIT(q->act)) && !copy_may_end(s, q))
                    return 0; /* inside a chunk, half a date */
                to_after(s, o, q->act, 0);
                return 1;
            }
            if (b == '\\') {
                if (room < 1) return 0;
                if ((s->copy & ABIT(q->act)) && /* an escape only where one can be copied */
                    !copy_byte(s, q, '"', o) && !copy_byte(s, q, '\\', o) &&
                    !copy_byte(s, q, '\n', o))
                    return 0;
                *o = *q;
                o->sub = VS_ESC;
                return 1;
            }
            if (b == '\n' || b == 0) return 0; /* a newline is written \n; NUL never */
            if (b < 0x80)
                need = 1, ns = VS_B;
            else if (b < 0xc2)
                return 0; /* a continuation byte, or an overlong lead */
            else if (b < 0xe0)
                need = 2, ns = VS_C1;
            else if (b == 0xe0)
                need = 3, ns = VS_E0;
            else if (b == 0xed)
                need = 3, ns = VS_ED;
            else if (b < 0xf0)
                need = 3, ns = VS_C2;
            else if (b == 0xf0)
                need = 4, ns = VS_F0;
            else if (b < 0xf4)
                need = 4, ns = VS_C3;
            else if (b == 0xf4)
                need = 4, ns = VS_F4;
            else
                return 0;
            if (room < need) return 0; /* never start a character that would not fit */
            if (!copy_byte(s, q, b, o)) return 0;
            o->sub = ns;
            o->count++;
            return 1;
        case VS_ESC:
            if (b != '"' && b != '\\' && b != 'n') return 0;
            if (!copy_byte(s, q, b == 'n' ? '\n' : b, o)) return 0;
            o->sub = VS_B;
            o->count++;
            return 1;
        default: {
            uint8_t lo = 0x80, hi = 0xbf;
            if (q->sub == VS_E0)
                lo = 0xa0; /* no overlong 3-byte forms */
            else if (q->sub == VS_ED)
                hi = 0x9f; /* no surrogates */
            else if (q->sub == VS_F0)
                lo = 0x90; /* no overlong 4-byte forms */
            else if (q->sub == VS_F4)
                hi = 0x8f; /* nothing past U+10FFFF */
            if (b < lo || b > hi) return 0;
            if (!copy_byte(s, q, b, o)) return 0;
            static const uint8_t next_sub[VS_COUNT] = {
                [VS_C1] = VS_B,  [VS_C2] = VS_C1, [VS_C3] = VS_C2, [VS_E0] = VS_C1,
                [VS_ED] = VS_C1, [VS_F0] = VS_C2, [VS_F4] = VS_C2};
            o->sub = next_sub[q->sub];
            o->count++;
            return 1;
        }
        }
        return 0;
    }
    case P_OPT: {
        int32_t c = opt_child(s, q->node, b);
        if (c < 0) return 0;
        if (s->opn[c].leaf)
            to_after(s, o, LAM_ACT_SELECT, 0);
        else
            o->node = c;
        return 1;
    }
    case P_AFTER:
        if (b != ' ') return 0;
        o->pos = P_SP;
        return 1;
    case P_SP:
        if (b == ';' && (q->flags & F_SEMI)) {
            o->pos = P_SEMI;
            return 1;
        }
        if (b == '<') {
            o->pos = P_END;
            o->sub = 1;
            return 1;
        }
        if (b == '"' && (q->flags & F_QUOTE)) {
            value_start(s, o, q->act);
            o->flags = 0;
            return 1;
        }
        if (q->flags & F_ID) {
            int32_t c = id_child(s, 0, b, q->act);
            if (c < 0) return 0;
            o->pos = P_ID;
            o->node = c;
            o->flags = 0;
            return 1;
        }
        return 0;
    case P_SEMI:
        if (b != ' ') return 0;
        o->pos = P_KW;
        o->cand = s->kw;
        o->sub = 0;
        o->flags = 0;
        o->nact++;
        return 1;
    case P_END:
        if ((uint8_t) "<end>"[q->sub] != b) return 0;
        if (++o->sub == 5) o->pos = P_FINAL;
        return 1;
    default: /* P_FINAL */
        return 0;
    }
}

/* The bytes step() may allow in q (a superset), or -1 when most bytes may follow (values).
 * Lets the trie walk look up the few children it needs instead of trying every child. */
static int next_bytes(const lam_gram_seq *s, const gst *q, uint8_t *out) {
    int n = 0;
    switch (q->pos) {
    case P_KW:
        for (int t = 0; t < LAM_ACT_COUNT; t++) {
            if (!(q->cand & ABIT(t)) || kw_len[t] <= q->sub) continue;
            uint8_t c = (uint8_t)kw_name[t][q->sub];
            int seen = 0;
            for (int k = 0; k < n; k++) seen |= out[k] == c;
            if (!seen) out[n++] = c;
        }
        return n;
    case P_SP1:
    case P_AFTER:
    case P_SEMI:
        out[0] = ' ';
        return 1;
    case P_QUOTE:
        out[0] = '"';
        return 1;
    case P_ELEMVAL:
        out[n++] = '"';
        for (int32_t c = s->idn[0].child; c >= 0; c = s->idn[c].sibling)
            if (s->idn[c].below & ABIT(q->act)) out[n++] = s->idn[c].byte;
        return n;
    case P_DIR:
        if (q->cand & 1 && q->sub < 2) out[n++] = (uint8_t) "up"[q->sub];
        if (q->cand & 2 && q->sub < 4) out[n++] = (uint8_t) "down"[q->sub];
        return n;
    case P_ID:
        if (q->node && (s->idn[q->node].term & ABIT(q->act))) out[n++] = ' ';
        for (int32_t c = s->idn[q->node].child; c >= 0; c = s->idn[c].sibling)
            if (s->idn[c].below & ABIT(q->act)) out[n++] = s->idn[c].byte;
        return n;
    case P_OPT:
        for (int32_t c = s->opn[q->node].child; c >= 0; c = s->opn[c].sibling)
            out[n++] = s->opn[c].byte;
        return n;
    case P_SP:
        if (q->flags & F_SEMI) out[n++] = ';';
        out[n++] = '<';
        if (q->flags & F_QUOTE) out[n++] = '"';
        if (q->flags & F_ID)
            for (int32_t c = s->idn[0].child; c >= 0; c = s->idn[c].sibling)
                if (s->idn[c].below & ABIT(q->act)) out[n++] = s->idn[c].byte;
        return n;
    case P_END:
        out[0] = (uint8_t) "<end>"[q->sub];
        return 1;
    case P_VAL:
        return -1;
    default:
        return 0;
    }
}

/* Runs token t from q: 1 and *o the state after it, 0 when a byte is refused (*at: which). */
static int run_token(const lam_gram_seq *s, const gst *q, int32_t t, gst *o, size_t *at) {
    const lam_grammar *g = s->g;
    uint32_t a = g->tok_off[t], e = g->tok_off[t + 1];
    if (a == e) {
        if (at) *at = 0;
        return 0;
    }
    gst cur = *q, nx;
    for (uint32_t i = a; i < e; i++) {
        if (!step(s, &cur, g->tok_bytes[i], &nx)) {
            if (at) *at = i - a;
            return 0;
        }
        cur = nx;
    }
    if (o) *o = cur;
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Building the vocabulary side                                                               */

typedef struct { /* the trie while it is built: first child / next sibling lists */
    int32_t child, sibling, tok;
    uint8_t byte;
} bnode;

void lam_grammar_free(lam_grammar *g) {
    if (!g) return;
    free(g->tok_off);
    free(g->tok_bytes);
    free(g->cbeg);
    free(g->cbyte);
    free(g->cnode);
    free(g->ntok);
    free(g->tnext);
    free(g->dense);
    free(g->dtab);
    free(g->vin);
    free(g->vsorted);
    free(g->vle);
    free(g->vclose);
    free(g);
}

/* Which ids may appear in action text: model tokens only. */
static int token_usable(const lam_tok *tok, int32_t id, const uint8_t *is_added) {
    return !is_added[id] && !lam_tok_is_special(tok, id) && lam_tok_model_token(tok, id) != NULL;
}

static lam_status build_bytes(lam_grammar *g, lam_error *err) {
    const lam_tok *tok = g->tok;
    int32_t V = g->V;
    uint8_t *is_added = calloc((size_t)V + 1, 1);
    lam_tok_text txt = {0};
    lam_status st = LAM_OK;
    g->tok_off = malloc(((size_t)V + 1) * sizeof *g->tok_off);
    if (!is_added || !g->tok_off) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "grammar: out of memory (%d token ids)", (int)V);
        goto out;
    }
    for (size_t i = 0; i < lam_tok_n_added(tok); i++) {
        int32_t id = lam_tok_added_at(tok, i)->id;
        if (id >= 0 && id < V) is_added[id] = 1;
    }
    g->tok_off[0] = 0;
    for (int32_t id = 0; id < V; id++) {
        if (token_usable(tok, id, is_added)) {
            size_t before = txt.len;
            if ((st = lam_tok_decode(tok, &id, 1, LAM_TOK_RAW_BYTES, &txt, err)) != LAM_OK) {
                lam_error_prefix(err, "grammar: the bytes of token %d", (int)id);
                goto out;
            }
            if (txt.len - before > (size_t)INT32_MAX / 8 || txt.len > UINT32_MAX / 2) {
                st = lam_error_set(err, LAM_ERR_INVALID, "grammar: token %d is too long", (int)id);
                goto out;
            }
            if ((int32_t)(txt.len - before) > g->max_len) g->max_len = (int32_t)(txt.len - before);
        }
        g->tok_off[id + 1] = (uint32_t)txt.len;
    }
    g->tok_bytes = malloc(txt.len ? txt.len : 1);
    if (!g->tok_bytes) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "grammar: out of memory (token bytes)");
        goto out;
    }
    if (txt.len) memcpy(g->tok_bytes, txt.data, txt.len);
out:
    free(is_added);
    lam_tok_text_free(&txt);
    return st;
}

static lam_status build_trie(lam_grammar *g, lam_error *err) {
    int32_t V = g->V;
    size_t cap = (size_t)g->tok_off[V] + 1;
    bnode *b = malloc(cap * sizeof *b);
    int32_t *order = malloc(cap * sizeof *order), *newid = malloc(cap * sizeof *newid);
    g->tnext = malloc((size_t)V * sizeof *g->tnext);
    lam_status st = LAM_OK;
    if (!b || !order || !newid || !g->tnext) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "grammar: out of memory (vocabulary trie)");
        goto out;
    }
    int32_t n = 1;
    b[0] = (bnode){-1, -1, -1, 0};
    for (int32_t id = V - 1; id >= 0; id--) g->tnext[id] = -1;
    for (int32_t id = 0; id < V; id++) {
        uint32_t a = g->tok_off[id], e = g->tok_off[id + 1];
        if (a == e) continue;
        int32_t u = 0;
        for (uint32_t i = a; i < e; i++) {
            uint8_t c = g->tok_bytes[i];
            int32_t *link = &b[u].child;
            while (*link >= 0 && b[*link].byte < c) link = &b[*link].sibling;
            if (*link < 0 || b[*link].byte != c) { /* insert, keeping siblings sorted */
                b[n] = (bnode){-1, *link, -1, c};
                *link = n++;
            }
            u = *link;
        }
        if (b[u].tok < 0) {
            b[u].tok = id;
        } else { /* another id with the same bytes: chain it */
            int32_t t = b[u].tok;
            while (g->tnext[t] >= 0) t = g->tnext[t];
            g->tnext[t] = id;
        }
    }
    /* CSR in breadth-first order: the children of a node are consecutive. */
    g->n_nodes = n;
    g->cbeg = malloc(((size_t)n + 1) * sizeof *g->cbeg);
    g->cbyte = malloc((size_t)n * sizeof *g->cbyte);
    g->cnode = malloc((size_t)n * sizeof *g->cnode);
    g->ntok = malloc((size_t)n * sizeof *g->ntok);
    g->dense = malloc((size_t)n * sizeof *g->dense);
    if (!g->cbeg || !g->cbyte || !g->cnode || !g->ntok || !g->dense) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "grammar: out of memory (vocabulary trie)");
        goto out;
    }
    int32_t head = 0, tail = 0, edges = 0, n_dense = 0;
    order[tail] = 0;
    newid[0] = tail++;
    while (head < tail) {
        int32_t u = order[head], nu = head++;
        g->cbeg[nu] = edges;
        g->ntok[nu] = b[u].tok;
        int32_t kids = 0;
        for (int32_t c = b[u].child; c >= 0; c = b[c].sibling) {
            g->cbyte[edges] = b[c].byte;
            g->cnode[edges++] = tail;
            newid[c] = tail;
            order[tail++] = c;
            kids++;
        }
        g->dense[nu] = kids >= DENSE_MIN ? n_dense++ : -1;
    }
    g->cbeg[n] = edges;
    g->dtab = malloc((size_t)(n_dense ? n_dense : 1) * 256 * sizeof *g->dtab);
    if (!g->dtab) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "grammar: out of memory (vocabulary trie)");
        goto out;
    }
    for (int32_t u = 0; u < n; u++) {
        if (g->dense[u] < 0) continue;
        int32_t *row = g->dtab + (size_t)g->dense[u] * 256;
        for (int k = 0; k < 256; k++) row[k] = -1;
        for (int32_t e = g->cbeg[u]; e < g->cbeg[u + 1]; e++) row[g->cbyte[e]] = g->cnode[e];
    }
out:
    free(b);
    free(order);
    free(newid);
    return st;
}

/* The value states' masks (section 4 of docs/decoding.md). From substate s with no value bytes
 * yet and no limit, each token either stays inside the value (then it is allowed at run time
 * iff count + n_eff <= max_value, n_eff being the value bytes it adds plus those its last,
 * unfinished character still owes), reaches the closing quote (context-dependent: emptiness,
 * the limit and what follows the value; run through the automaton at each step), or is refused
 * whatever the context (a bad escape, invalid UTF-8, a raw newline). */
static lam_status build_value_cache(lam_grammar *g, lam_error *err) {
    int32_t V = g->V;
    size_t W = g->W;
    g->neff_cap = 4 * g->max_len + 4;
    g->vin = calloc(VS_COUNT * W, sizeof *g->vin);
    g->vsorted = malloc((size_t)VS_COUNT * (size_t)V * sizeof *g->vsorted);
    g->vclose = malloc((size_t)VS_COUNT * (size_t)V * sizeof *g->vclose);
    g->vle = calloc((size_t)VS_COUNT * ((size_t)g->neff_cap + 1), sizeof *g->vle);
    int32_t *neff = malloc((size_t)V * sizeof *neff);
    lam_status st = LAM_OK;
    if (!g->vin || !g->vsorted || !g->vclose || !g->vle || !neff) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "grammar: out of memory (value masks)");
        goto out;
    }
    lam_gram_seq ctx; /* no observation: the value states never look at one */
    memset(&ctx, 0, sizeof ctx);
    ctx.g = g;
    ctx.max_value = INT32_MAX / 2;
    ctx.max_actions = 1;
    for (int sub = 0; sub < VS_COUNT; sub++) {
        uint32_t *in = g->vin + (size_t)sub * W;
        int32_t *le = g->vle + (size_t)sub * ((size_t)g->neff_cap + 1);
        int32_t n_close = 0, n_in = 0, vmax = 0;
        for (int32_t t = 0; t < V; t++) {
            neff[t] = -1;
            uint32_t a = g->tok_off[t], e = g->tok_off[t + 1];
            if (a == e) continue;
            gst q = {.pos = P_VAL, .act = LAM_ACT_TYPE, .sub = (uint8_t)sub}, nx;
            int inside = 1;
            for (uint32_t i = a; i < e && inside; i++) {
                uint8_t c = g->tok_bytes[i];
                if (q.sub == VS_B && c == '"') {
                    g->vclose[(size_t)sub * V + n_close++] = t;
                    inside = 0;
                } else if (!step(&ctx, &q, c, &nx)) {
                    inside = 0;
                } else {
                    q = nx;
                }
            }
            if (!inside) continue;
            neff[t] = q.count + vs_need[q.sub];
            if (neff[t] > g->neff_cap) abort(); /* at most 4 value bytes per token byte */
            in[t >> 5] |= 1u << (t & 31);
            le[neff[t]]++;
            if (neff[t] > vmax) vmax = neff[t];
            n_in++;
        }
        /* counting sort by n_eff; le becomes the running count */
        int32_t *sorted = g->vsorted + (size_t)sub * V;
        int32_t run = 0;
        for (int32_t r = 0; r <= g->neff_cap; r++) {
            int32_t k = le[r];
            le[r] = run; /* start of bucket r for now */
            run += k;
        }
        for (int32_t t = 0; t < V; t++)
            if (neff[t] >= 0) sorted[le[neff[t]]++] = t;
        /* le[r] is now the end of bucket r: the number of tokens with n_eff <= r */
        g->n_in[sub] = n_in;
        g->n_close[sub] = n_close;
        g->vmax[sub] = vmax;
    }
out:
    free(neff);
    return st;
}

lam_status lam_grammar_create(const lam_tok *tok, lam_grammar **out, lam_error *err) {
    if (!out) return lam_error_set(err, LAM_ERR_INVALID, "lam_grammar_create: out is NULL");
    *out = NULL;
    if (!tok) return lam_error_set(err, LAM_ERR_INVALID, "lam_grammar_create: no tokenizer");
    for (int t = 0; t < LAM_ACT_COUNT; t++) /* the keyword table mirrors the schema */
        if (strcmp(kw_name[t], lam_action_name((lam_action_type)t)) ||
            strlen(kw_name[t]) != kw_len[t])
            abort();
    int32_t V = lam_tok_n_ids(tok);
    if (V <= 0 || V > LAM_TOK_MAX_ID + 1)
        return lam_error_set(err, LAM_ERR_INVALID, "lam_grammar_create: tokenizer has %d ids",
                             (int)V);
    lam_grammar *g = calloc(1, sizeof *g);
    if (!g) return lam_error_set(err, LAM_ERR_NOMEM, "grammar: out of memory");
    g->tok = tok;
    g->V = V;
    g->W = ((size_t)V + 31) / 32;
    lam_status st = build_bytes(g, err);
    if (st == LAM_OK) st = build_trie(g, err);
    if (st == LAM_OK) st = build_value_cache(g, err);
    if (st != LAM_OK) {
        lam_grammar_free(g);
        return st;
    }
    *out = g;
    return LAM_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* 3. Sequences and the per-observation tries                                                */

void lam_gram_opts_default(lam_gram_opts *o) {
    o->max_actions = 8;
    o->max_value_bytes = 256;
    o->types = 0;
    o->copy = 0;
    o->copy_text = NULL;
    o->copy_page = ~0u;
    o->lead_space = 0;
    o->labels = 0;
}

lam_status lam_gram_seq_new(const lam_grammar *g, lam_gram_seq **out, lam_error *err) {
    if (!out) return lam_error_set(err, LAM_ERR_INVALID, "lam_gram_seq_new: out is NULL");
    *out = NULL;
    if (!g) return lam_error_set(err, LAM_ERR_INVALID, "lam_gram_seq_new: no grammar");
    lam_gram_seq *s = calloc(1, sizeof *s);
    if (s) s->bits = malloc(g->W * sizeof *s->bits);
    if (!s || !s->bits) {
        if (s) free(s);
        return lam_error_set(err, LAM_ERR_NOMEM, "grammar: out of memory (sequence)");
    }
    s->g = g;
    *out = s;
    return LAM_OK;
}

void lam_gram_seq_free(lam_gram_seq *s) {
    if (!s) return;
    free(s->idn);
    free(s->opn);
    free(s->text);
    free(s->bits);
    free(s->src);
    free(s->nend);
    free(s->later);
    free(s->key);
    free(s->sa);
    free(s->tmp);
    free(s);
}

/* Makes *p hold at least need elements of elem bytes (doubling); 0 when out of memory. */
static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) return 0;
    *p = q;
    *cap = nc;
    return 1;
}

static int32_t id_insert(lam_gram_seq *s, const char *id) {
    int32_t u = 0;
    for (const uint8_t *p = (const uint8_t *)id; *p; p++) {
        int32_t *link = &s->idn[u].child;
        while (*link >= 0 && s->idn[*link].byte != *p) link = &s->idn[*link].sibling;
        if (*link < 0) {
            int32_t c = s->n_idn++;
            s->idn[c] = (idnode){-1, -1, -1, 0, 0, *p, 0};
            *link = c;
        }
        u = *link;
    }
    return u;
}

static int32_t opt_insert(lam_gram_seq *s, int32_t u, uint8_t c, int leaf) {
    int32_t *link = &s->opn[u].child;
    while (*link >= 0 && s->opn[*link].byte != c) link = &s->opn[*link].sibling;
    if (*link < 0) {
        int32_t k = s->n_opn++;
        s->opn[k] = (optnode){-1, -1, c, (uint8_t)leaf};
        *link = k;
    }
    return *link;
}

/* The length of the valid UTF-8 character at p (n bytes left), 0 when there is none. */
static int utf8_char(const uint8_t *p, size_t n) {
    uint8_t b = p[0];
    if (b < 0x80) return 1;
    int need = b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0;
    if (!need || (size_t)need > n) return 0;
    uint8_t lo = 0x80, hi = 0xbf;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
    if (p[1] < lo || p[1] > hi) return 0;
    for (int i = 2; i < need; i++)
        if (p[i] < 0x80 || p[i] > 0xbf) return 0;
    return need;
}

/* Calls f on every copy source of the page: each element's name, value and options (not the
 * url nor the title: no value comes from them; NULLs included). */
static void each_page_source(const lam_observation *obs, void (*f)(void *, const char *),
                             void *ctx) {
    for (int j = 0; j < obs->n_elements; j++) {
        const lam_element *el = &obs->elements[j];
        f(ctx, el->name);
        f(ctx, el->value);
        for (int k = 0; el->options && k < el->n_options; k++) f(ctx, el->options[k]);
    }
}

typedef struct {
    lam_gram_seq *s; /* NULL: count only */
    size_t n;        /* bytes, each source's 0 included */
} source_sink;

/* One source: its bytes counted (with its 0) or, with a seq, appended to its src, invalid UTF-8
 * replaced by 0 (a copy never spans it, and a character begun can always be finished). */
static void copy_source(void *ctx, const char *x) {
    source_sink *sink = ctx;
    lam_gram_seq *s = sink->s;
    size_t *n = &sink->n;
    if (!x) return;
    size_t len = strlen(x);
    if (s) {
        const uint8_t *p = (const uint8_t *)x;
        uint8_t *d = s->src + s->n_src;
        for (size_t i = 0; i < len;) {
            int k = utf8_char(p + i, len - i);
            if (!k) {
                d[i++] = 0;
                continue;
            }
            memcpy(d + i, p + i, (size_t)k);
            i += (size_t)k;
        }
        d[len] = 0;
        s->n_src += (int32_t)len + 1;
    }
    *n += len + 1;
}

/* Every copy source of obs and o: the task, the page, then the dates; counted (s NULL) or
 * appended to s->src (its page_from and date_from set). Returns the bytes. */
static size_t copy_sources(const lam_observation *obs, const lam_gram_opts *o, lam_gram_seq *s,
                           const lam_gram_seq *dates) {
    source_sink k = {s, 0};
    copy_source(&k, o->copy_text);
    if (s) s->page_from = s->n_src;
    each_page_source(obs, copy_source, &k);
    if (s) s->date_from = s->n_src;
    for (int i = 0; i < dates->n_dates; i++) copy_source(&k, dates->dates[i]);
    return k.n;
}

/* The date mentions and years of the sources, distinct, in order of appearance. */
#define MAX_YEARS 8
typedef struct {
    lam_date m[LAM_GRAM_MAX_DATES];
    int nm, years[MAX_YEARS], ny;
} date_scan;

/* The years a source writes (distinct, into d->years). */
static void scan_years(void *ctx, const char *x) {
    date_scan *d = ctx;
    int y[MAX_YEARS], ny = lam_years_find(x, y, MAX_YEARS);
    for (int i = 0; i < ny && i < MAX_YEARS && d->ny < MAX_YEARS; i++) {
        int seen = 0;
        for (int j = 0; j < d->ny && !seen; j++) seen = d->years[j] == y[i];
        if (!seen) d->years[d->ny++] = y[i];
    }
}

/* The date mentions (distinct, into d->m) and the years a source writes. */
static void scan_dates(void *ctx, const char *x) {
    date_scan *d = ctx;
    lam_date m[LAM_GRAM_MAX_DATES];
    int nm = lam_dates_find(x, m, LAM_GRAM_MAX_DATES);
    for (int i = 0; i < nm && i < LAM_GRAM_MAX_DATES && d->nm < LAM_GRAM_MAX_DATES; i++) {
        int seen = 0;
        for (int j = 0; j < d->nm && !seen; j++)
            seen =
                d->m[j].year == m[i].year && d->m[j].month == m[i].month && d->m[j].day == m[i].day;
        if (!seen) d->m[d->nm++] = m[i];
    }
    scan_years(ctx, x);
}

static void add_date(lam_gram_seq *s, const lam_date *d) {
    char iso[11];
    if (!lam_date_valid(d) || s->n_dates >= LAM_GRAM_MAX_DATES) return;
    lam_date_iso(d, iso);
    for (int i = 0; i < s->n_dates; i++)
        if (!strcmp(s->dates[i], iso)) return;
    memcpy(s->dates[s->n_dates++], iso, sizeof iso);
}

/* The ISO dates a `type` value may be beside the copies (dates.h): each mention of the task (and
 * of the page, when type may copy from it; else only the page's years count) with its year, or
 * with each year the sources write; a mention without a year when none is written allows any
 * calendar date (date_any). */
static void find_dates(lam_gram_seq *s, const lam_observation *obs, const lam_gram_opts *o) {
    date_scan d = {.nm = 0, .ny = 0};
    s->n_dates = s->date_any = 0;
    if (!(s->copy & ABIT(LAM_ACT_TYPE))) return;
    scan_dates(&d, o->copy_text);
    each_page_source(obs, s->copy_page & ABIT(LAM_ACT_TYPE) ? scan_dates : scan_years, &d);
    for (int i = 0; i < d.nm; i++) {
        lam_date x = d.m[i];
        if (x.year) {
            add_date(s, &x);
            continue;
        }
        if (!d.ny) s->date_any = 1;
        for (int j = 0; j < d.ny; j++) {
            x.year = d.years[j];
            add_date(s, &x);
        }
    }
}

/* A space of the sources: space, tab, newline, CR, and the 0 that ends each source. */
static int space(uint8_t c) {
    return c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Chunks: a copy starts at a non-space byte after a space (or a source's start) or after an
 * opening, joining or sign byte ( " ' [ { < - / $ #, and ends at a non-space byte before a space
 * (or a source's end), a joining byte, or a run of closing punctuation that a space or the end
 * follows. */
static int opening(uint8_t c) {
    return c && strchr("(\"'[{<-/$#", c) != NULL;
}
static int closing(uint8_t c) {
    return c && strchr(".,;:!?)\"']}>", c) != NULL;
}
static int chunk_start(const uint8_t *src, int32_t x) {
    return !space(src[x]) && (space(src[x - 1]) || opening(src[x - 1]));
}
static int chunk_end(const uint8_t *src, int32_t x) {
    if (space(src[x - 1])) return 0;
    if (space(src[x]) || src[x] == '-' || src[x] == '/') return 1;
    int32_t y = x;
    while (closing(src[y])) y++;
    return y > x && space(src[y]);
}

/* suffix order: bytes up to the source's 0, then the position */
static int suffix_cmp(const uint8_t *src, int32_t a, int32_t b) {
    int32_t k = 0;
    while (src[a + k] == src[b + k] && src[a + k]) k++;
    if (src[a + k] != src[b + k]) return src[a + k] < src[b + k] ? -1 : 1;
    return a < b ? -1 : a > b;
}

static void sort_suffixes(const uint8_t *src, int32_t *v, int32_t *tmp, int32_t n) {
    for (int32_t w = 1; w < n; w *= 2) { /* bottom-up merge sort */
        for (int32_t lo = 0; lo < n; lo += 2 * w) {
            int32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = suffix_cmp(src, v[i], v[j]) <= 0 ? v[i++] : v[j++];
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, (size_t)n * sizeof *v);
    }
}

/* The types that have a free value (the P_VAL state): type, press, goto, done. */
static unsigned free_value_types(void) {
    unsigned m = 0;
    for (int t = 0; t < LAM_ACT_COUNT; t++)
        if (lam_action_value_rule((lam_action_type)t) != 0 && t != LAM_ACT_SELECT &&
            t != LAM_ACT_SCROLL)
            m |= ABIT(t);
    return m;
}

/* Where copied values may start and end, when o copies any value: a value is a substring of
 * one source that starts at a chunk start and ends at a chunk end (chunk_start, chunk_end). */
static lam_status build_copy(lam_gram_seq *s, const lam_observation *obs, const lam_gram_opts *o,
                             lam_error *err) {
    s->copy = o->copy & free_value_types();
    s->n_src = s->n_sa = s->date_from = s->page_from = 0;
    s->n_dates = s->date_any = 0;
    s->copy_page = o->copy_page;
    s->lead = 0;
    if (!s->copy) return LAM_OK;
    find_dates(s, obs, o);
    size_t n = copy_sources(obs, o, NULL, s) + 1; /* a leading 0: every x has a byte before it */
    if (n > (size_t)INT32_MAX / 4)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_gram_seq_begin: %zu bytes of text to copy from is too much", n);
    if (!grow((void **)&s->src, &s->cap_src, n, 1) ||
        !grow((void **)&s->nend, &s->cap_nend, n, sizeof *s->nend) ||
        !grow((void **)&s->sa, &s->cap_sa, n, sizeof *s->sa) ||
        !grow((void **)&s->tmp, &s->cap_tmp, n, sizeof *s->tmp))
        return lam_error_set(err, LAM_ERR_NOMEM,
                             "lam_gram_seq_begin: out of memory (%zu bytes to copy from)", n);
    s->src[0] = 0;
    s->n_src = 1;
    copy_sources(obs, o, s, s);
    const uint8_t *src = s->src;
    int32_t N = s->n_src, next = INT32_MAX;
    for (int32_t x = N - 1; x >= 1; x--) { /* ends, right to left; none past a source's 0 */
        if (chunk_end(src, x) && (x < s->date_from || src[x] == 0))
            next = x;
        else if (src[x] == 0)
            next = INT32_MAX;
        s->nend[x] = next;
    }
    s->nend[0] = INT32_MAX;
    for (int32_t x = 1; x < N; x++)
        if (chunk_start(src, x) && (x < s->date_from || src[x - 1] == 0))
            s->sa[s->n_sa++] = x; /* a date is copied whole */
    sort_suffixes(src, s->sa, s->tmp, s->n_sa);
    for (int t = 0; t < LAM_ACT_COUNT; t++) /* a lead space only where a copy can follow it */
        if ((s->copy & o->lead_space & ABIT(t)) &&
            (viable(s, 0, s->n_sa, 1, t) || /* a copy of one byte or more fits */
             (t == LAM_ACT_TYPE && s->date_any && s->max_value >= DATE_LEN)))
            s->lead |= ABIT(t);
    return LAM_OK;
}

/* The actions element el allows as the one that owns its id (lam_act_check's rules); with labels
 * not press (its `press "LABEL" ID "KEY"` would begin as `press "KEY"` does). */
static uint16_t element_actions(const lam_element *el, int labels) {
    if (el->disabled) return 0;
    uint16_t m = 0;
    for (int t = 0; t < LAM_ACT_COUNT; t++)
        if (lam_action_element_rule((lam_action_type)t) != 0 && lam_role_allows(el->role, t) &&
            !(labels && t == LAM_ACT_PRESS))
            m |= ABIT(t);
    if (m & ABIT(LAM_ACT_SELECT)) {
        int any = 0;
        for (int k = 0; el->options && k < el->n_options && !any; k++) any = el->options[k] != NULL;
        if (!any) m &= (uint16_t)~ABIT(LAM_ACT_SELECT);
    }
    return m;
}

/* The bytes of element el's trie key: its id, or with labels `"LABEL" ID` (the label as
 * lam_act_print_labelled writes it) in s->key. */
static size_t key_len(const lam_element *el, int labels) {
    return strlen(el->id) + (labels ? lam_act_print_label(el->name, NULL, 0) + 1 : 0);
}
static const char *key_of(lam_gram_seq *s, const lam_element *el) {
    if (!s->labels) return el->id;
    size_t n = lam_act_print_label(el->name, s->key, s->cap_key);
    s->key[n] = ' ';
    strcpy(s->key + n + 1, el->id);
    return s->key;
}

lam_status lam_gram_seq_begin(lam_gram_seq *s, const lam_observation *obs, const lam_gram_opts *o,
                              lam_error *err) {
    if (!s) return lam_error_set(err, LAM_ERR_INVALID, "lam_gram_seq_begin: no sequence");
    s->begun = 0;
    if (!obs) return lam_error_set(err, LAM_ERR_INVALID, "lam_gram_seq_begin: no observation");
    if (obs->n_elements < 0 || (obs->n_elements > 0 && !obs->elements))
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_gram_seq_begin: observation has %d elements and %s",
                             obs->n_elements, obs->elements ? "an element array" : "none");
    lam_gram_opts d;
    lam_gram_opts_default(&d);
    if (!o) o = &d;
    if (o->max_actions < 1 || o->max_actions > LAM_GRAM_MAX_ACTIONS)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_gram_seq_begin: max_actions %d is outside [1, %d]",
                             o->max_actions, LAM_GRAM_MAX_ACTIONS);
    if (o->max_value_bytes < 0 || o->max_value_bytes > LAM_GRAM_MAX_VALUE_BYTES)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_gram_seq_begin: max_value_bytes %d is outside [0, %d]",
                             o->max_value_bytes, LAM_GRAM_MAX_VALUE_BYTES);
    int labels = o->labels != 0;
    /* Sizes first: trie nodes, option nodes and the longest text. */
    size_t id_nodes = 1, plain_nodes = 1, opt_nodes = 0, max_id = 0, max_q = 0;
    for (int j = 0; j < obs->n_elements; j++) {
        const lam_element *el = &obs->elements[j];
        if (!el->id || !lam_act_id_ok(el->id)) continue;
        size_t n = key_len(el, labels);
        id_nodes += n;
        plain_nodes += strlen(el->id);
        if (n > max_id) max_id = n;
        if (!(element_actions(el, labels) & ABIT(LAM_ACT_SELECT))) continue;
        opt_nodes++;
        for (int k = 0; k < el->n_options; k++) {
            if (!el->options[k]) continue;
            size_t q = 2;
            for (const char *c = el->options[k]; *c; c++)
                q += *c == '"' || *c == '\\' || *c == '\n' ? 2 : 1;
            opt_nodes += q;
            if (q > max_q) max_q = q;
        }
    }
    if (id_nodes > INT32_MAX / 2 || opt_nodes > INT32_MAX / 2)
        return lam_error_set(err, LAM_ERR_INVALID, "lam_gram_seq_begin: observation too large");
    size_t val_q = 2 * (size_t)o->max_value_bytes + 3; /* quotes, escapes, a lead space */
    size_t per_action = 16 + max_id + (max_q > val_q ? max_q : val_q);
    size_t text_cap = (size_t)o->max_actions * (per_action + 3) + 8;
    if (plain_nodes > id_nodes) id_nodes = plain_nodes; /* labels: the ids' trie comes first */
    size_t n_el = obs->n_elements > 0 ? (size_t)obs->n_elements : 1;
    if (!grow((void **)&s->idn, &s->cap_idn, id_nodes, sizeof *s->idn) ||
        !grow((void **)&s->opn, &s->cap_opn, opt_nodes ? opt_nodes : 1, sizeof *s->opn) ||
        !grow((void **)&s->text, &s->cap, text_cap, 1) ||
        (labels && (!grow((void **)&s->later, &s->cap_later, n_el, 1) ||
                    !grow((void **)&s->key, &s->cap_key, max_id + 1, 1))))
        return lam_error_set(err, LAM_ERR_NOMEM,
                             "lam_gram_seq_begin: out of memory (%zu id nodes, %zu option nodes, "
                             "%zu text bytes)",
                             id_nodes, opt_nodes, text_cap);
    s->labels = labels;
    s->n_idn = 1;
    s->idn[0] = (idnode){-1, -1, -1, 0, 0, 0, 0};
    s->n_opn = 0;
    if (labels) { /* which elements repeat an earlier one's id, from a trie of the ids alone */
        for (int j = 0; j < obs->n_elements; j++) {
            const lam_element *el = &obs->elements[j];
            if (!el->id || !lam_act_id_ok(el->id)) continue;
            int32_t u = id_insert(s, el->id);
            s->later[j] = s->idn[u].claimed;
            s->idn[u].claimed = 1;
        }
        s->n_idn = 1;
        s->idn[0] = (idnode){-1, -1, -1, 0, 0, 0, 0};
    }
    for (int j = 0; j < obs->n_elements; j++) {
        const lam_element *el = &obs->elements[j];
        if (!el->id || !lam_act_id_ok(el->id) || (labels && s->later[j])) continue;
        const char *key = key_of(s, el);
        int32_t u = id_insert(s, key);
        if (s->idn[u].claimed) continue; /* a repeated id: the first element decides */
        s->idn[u].claimed = 1;
        uint16_t m = element_actions(el, labels);
        s->idn[u].term = m;
        if (!m) continue;
        int32_t v = 0;
        s->idn[0].below |= m;
        for (const uint8_t *p = (const uint8_t *)key; *p; p++) {
            for (v = s->idn[v].child; s->idn[v].byte != *p; v = s->idn[v].sibling) {
            }
            s->idn[v].below |= m;
        }
        if (!(m & ABIT(LAM_ACT_SELECT))) continue;
        int32_t root = s->n_opn++;
        s->opn[root] = (optnode){-1, -1, 0, 0};
        s->idn[u].optroot = root;
        for (int k = 0; k < el->n_options; k++) {
            const char *op = el->options[k];
            if (!op) continue;
            int32_t w = opt_insert(s, root, '"', 0);
            for (const char *c = op; *c; c++) {
                if (*c == '"' || *c == '\\' || *c == '\n') {
                    w = opt_insert(s, w, '\\', 0);
                    w = opt_insert(s, w, *c == '\n' ? 'n' : (uint8_t)*c, 0);
                } else {
                    w = opt_insert(s, w, (uint8_t)*c, 0);
                }
            }
            opt_insert(s, w, '"', 1);
        }
    }
    s->max_value = o->max_value_bytes;
    LAM_TRY(build_copy(s, obs, o, err));
    /* a copied value that may not be empty (press, goto) needs a chunk of its sources that fits */
    s->kw = 0;
    for (int t = 0; t < LAM_ACT_COUNT; t++) {
        int er = lam_action_element_rule((lam_action_type)t);
        if (er == 1 && !(s->idn[0].below & ABIT(t))) continue; /* no element for it */
        if (nonempty_value(t) && o->max_value_bytes < 1) continue;
        if (nonempty_value(t) && (s->copy & ABIT(t)) && !viable(s, 0, s->n_sa, 1, t)) continue;
        if (o->types && !(o->types & (1u << t))) continue; /* not offered */
        s->kw |= ABIT(t);
    }
    if (!s->kw)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_gram_seq_begin: no action of the allowed types can be taken on "
                             "this observation");
    s->obs = obs;
    s->max_actions = o->max_actions;
    memset(&s->st, 0, sizeof s->st);
    s->st.pos = P_KW;
    s->st.cand = s->kw;
    s->len = 0;
    s->text[0] = 0;
    s->begun = 1;
    return LAM_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* 4. Masks                                                                                   */

static void walk(const lam_gram_seq *s, int32_t u, const gst *q, uint32_t *bits);

static void visit(const lam_gram_seq *s, int32_t c, const gst *q, uint32_t *bits) {
    const lam_grammar *g = s->g;
    for (int32_t t = g->ntok[c]; t >= 0; t = g->tnext[t]) bits[t >> 5] |= 1u << (t & 31);
    if (g->cbeg[c + 1] > g->cbeg[c]) walk(s, c, q, bits);
}

/* Every token below trie node u that q accepts: the vocabulary trie walked jointly with the
 * automaton, each subtree left as soon as the automaton refuses its byte. */
static void walk(const lam_gram_seq *s, int32_t u, const gst *q, uint32_t *bits) {
    const lam_grammar *g = s->g;
    uint8_t bytes[256];
    gst o;
    int n = next_bytes(s, q, bytes);
    if (n >= 0) {
        for (int i = 0; i < n; i++) {
            int32_t c = vchild(g, u, bytes[i]);
            if (c >= 0 && step(s, q, bytes[i], &o)) visit(s, c, &o, bits);
        }
    } else {
        for (int32_t e = g->cbeg[u]; e < g->cbeg[u + 1]; e++)
            if (step(s, q, g->cbyte[e], &o)) visit(s, g->cnode[e], &o, bits);
    }
}

/* Inside a free value: the precomputed inside-tokens with room for them, plus the
 * context-dependent ones (those reaching the closing quote) run through the automaton. */
static void mask_value(const lam_gram_seq *s, uint32_t *bits) {
    const lam_grammar *g = s->g;
    const gst *q = &s->st;
    int sub = q->sub;
    int32_t room = s->max_value - q->count, n_in = g->n_in[sub];
    const uint32_t *in = g->vin + (size_t)sub * g->W;
    const int32_t *sorted = g->vsorted + (size_t)sub * g->V;
    if (room >= g->vmax[sub]) {
        memcpy(bits, in, g->W * sizeof *bits);
    } else {
        int32_t k0 = room < 0 ? 0 : g->vle[(size_t)sub * ((size_t)g->neff_cap + 1) + room];
        if (k0 <= n_in - k0) { /* fewer fit than not: set those */
            memset(bits, 0, g->W * sizeof *bits);
            for (int32_t i = 0; i < k0; i++) bits[sorted[i] >> 5] |= 1u << (sorted[i] & 31);
        } else { /* clear those that do not fit */
            memcpy(bits, in, g->W * sizeof *bits);
            for (int32_t i = k0; i < n_in; i++) bits[sorted[i] >> 5] &= ~(1u << (sorted[i] & 31));
        }
    }
    const int32_t *close = g->vclose + (size_t)sub * g->V;
    for (int32_t i = 0; i < g->n_close[sub]; i++)
        if (run_token(s, q, close[i], NULL, NULL)) bits[close[i] >> 5] |= 1u << (close[i] & 31);
}

static lam_status check_seq(const lam_gram_seq *s, const void *p, const char *fn, lam_error *err) {
    if (!s) return lam_error_set(err, LAM_ERR_INVALID, "%s: no sequence", fn);
    if (!p) return lam_error_set(err, LAM_ERR_INVALID, "%s: output is NULL", fn);
    if (!s->begun)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "%s: the sequence has no observation (call lam_gram_seq_begin)", fn);
    return LAM_OK;
}

lam_status lam_gram_mask(lam_gram_seq *s, uint32_t *bits, lam_error *err) {
    LAM_TRY(check_seq(s, bits, "lam_gram_mask", err));
    if (s->st.pos == P_VAL && !(s->copy & ABIT(s->st.act))) {
        mask_value(s, bits);
    } else {
        memset(bits, 0, s->g->W * sizeof *bits);
        walk(s, 0, &s->st, bits);
    }
    return LAM_OK;
}

lam_status lam_gram_mask_naive(lam_gram_seq *s, uint32_t *bits, lam_error *err) {
    LAM_TRY(check_seq(s, bits, "lam_gram_mask_naive", err));
    memset(bits, 0, s->g->W * sizeof *bits);
    for (int32_t t = 0; t < s->g->V; t++)
        if (run_token(s, &s->st, t, NULL, NULL)) bits[t >> 5] |= 1u << (t & 31);
    return LAM_OK;
}

lam_status lam_gram_apply(lam_gram_seq *s, float *logits, int32_t n, lam_error *err) {
    LAM_TRY(check_seq(s, logits, "lam_gram_apply", err));
    if (n < 1) return lam_error_set(err, LAM_ERR_INVALID, "lam_gram_apply: row length %d", (int)n);
    if (s->st.pos == P_FINAL)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_gram_apply: the action text is complete (it ended with <end>); "
                             "nothing may be sampled");
    LAM_TRY(lam_gram_mask(s, s->bits, err));
    int32_t m = n < s->g->V ? n : s->g->V, any = 0;
    for (int32_t w = 0; w * 32 < m; w++) {
        uint32_t bw = s->bits[w];
        int32_t end = w * 32 + 32 < m ? w * 32 + 32 : m;
        if (!bw) {
            for (int32_t i = w * 32; i < end; i++) logits[i] = -INFINITY;
            continue;
        }
        for (int32_t i = w * 32; i < end; i++)
            if (!(bw >> (i & 31) & 1u))
                logits[i] = -INFINITY;
            else
                any = 1;
    }
    for (int32_t i = m; i < n; i++) logits[i] = -INFINITY;
    if (!any)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_gram_apply: no allowed token has an id below the row length %d "
                             "(the tokenizer has %d ids)",
                             (int)n, (int)s->g->V);
    return LAM_OK;
}

int lam_gram_allows(const lam_gram_seq *s, int32_t token) {
    if (!s || !s->begun || token < 0 || token >= s->g->V) return 0;
    return run_token(s, &s->st, token, NULL, NULL);
}

int lam_gram_done(const lam_gram_seq *s) {
    return s && s->begun && s->st.pos == P_FINAL;
}

const char *lam_gram_text(const lam_gram_seq *s, size_t *len) {
    if (len) *len = s && s->begun ? s->len : 0;
    return s && s->begun ? s->text : "";
}

/* ---------------------------------------------------------------------------------------- */
/* Messages                                                                                   */

static void describe(const lam_gram_seq *s, const gst *q, char *buf, size_t cap) {
    const char *an = q->act < LAM_ACT_COUNT ? kw_name[q->act] : "?";
    switch (q->pos) {
    case P_KW: {
        size_t n = (size_t)snprintf(buf, cap, "%s (allowed here:",
                                    q->sub ? "the rest of an action type" : "an action type");
        for (int t = 0; t < LAM_ACT_COUNT && n < cap; t++)
            if (q->cand & ABIT(t)) n += (size_t)snprintf(buf + n, cap - n, " %s", kw_name[t]);
        if (n < cap) snprintf(buf + n, cap - n, ")");
        return;
    }
    case P_SP1:
        snprintf(buf, cap, "a space after \"%s\"", an);
        return;
    case P_ELEMVAL:
        snprintf(buf, cap, "the quoted value of \"%s\" or an element id that allows it", an);
        return;
    case P_DIR:
        snprintf(buf, cap, "up or down after \"scroll\"");
        return;
    case P_ID:
        snprintf(buf, cap, "%s element %s that allows %s%s", q->node ? "more of an" : "an",
                 s->labels ? "label and id" : "id", an,
                 q->node && (s->idn[q->node].term & ABIT(q->act)) ? ", or a space after it" : "");
        return;
    case P_QUOTE:
        snprintf(buf, cap, "'\"' opening the value of \"%s\"", an);
        return;
    case P_VAL:
        if (q->sub == VS_ESC)
            snprintf(buf, cap, "an escape (\\\", \\\\ or \\n) in the value of \"%s\"", an);
        else if (q->sub != VS_B)
            snprintf(buf, cap, "a UTF-8 continuation byte in the value of \"%s\"", an);
        else if (q->count >= s->max_value)
            snprintf(buf, cap,
                     "the closing '\"' of the value of \"%s\" (it has max_value_bytes, %d)", an,
                     s->max_value);
        else if (s->copy & ABIT(q->act))
            snprintf(buf, cap,
                     "more of the value of \"%s\", copied from the task (or the page) or a "
                     "date it mentions (%d bytes at most), or its closing '\"'",
                     an, s->max_value);
        else
            snprintf(buf, cap,
                     "more of the value of \"%s\" (UTF-8, %d bytes at most) or its closing '\"'",
                     an, s->max_value);
        return;
    case P_OPT:
        snprintf(buf, cap, "one of the element's options, quoted and escaped");
        return;
    case P_AFTER:
        snprintf(buf, cap, "a space after the action");
        return;
    case P_SP:
        snprintf(buf, cap, "%s%s%s\"<end>\"", q->flags & F_SEMI ? "\";\" (another action), " : "",
                 q->flags & F_QUOTE ? "the quoted answer, " : "",
                 q->flags & F_ID ? "the id of a list or dialog to scroll, " : "");
        return;
    case P_SEMI:
        snprintf(buf, cap, "a space after \";\"");
        return;
    case P_END:
        snprintf(buf, cap, "the rest of \"<end>\"");
        return;
    default:
        snprintf(buf, cap, "nothing: the text is complete (it ended with <end>)");
        return;
    }
}

const char *lam_gram_expecting(const lam_gram_seq *s, char *buf, size_t cap) {
    if (!buf || !cap) return "";
    if (!s || !s->begun)
        snprintf(buf, cap, "nothing: the sequence has no observation");
    else
        describe(s, &s->st, buf, cap);
    return buf;
}

/* Bytes for a message: printable ASCII as is, the rest as \xNN; at most max of them, the last
 * ones (tail) or the first ones, with "..." where cut. */
static void show_bytes(const uint8_t *p, size_t n, size_t max, int tail, char *buf, size_t cap) {
    size_t k = 0, from = 0, to = n;
    if (n > max && tail) {
        from = n - max;
        k += (size_t)snprintf(buf, cap, "...");
    } else if (n > max) {
        to = max;
    }
    for (size_t i = from; i < to && k + 8 < cap; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
            buf[k++] = (char)p[i];
        else
            k += (size_t)snprintf(buf + k, cap - k, "\\x%02x", p[i]);
    }
    if (to < n && k + 4 < cap) k += (size_t)snprintf(buf + k, cap - k, "...");
    buf[k < cap ? k : cap - 1] = 0;
}

lam_status lam_gram_accept(lam_gram_seq *s, int32_t token, lam_error *err) {
    if (!s) return lam_error_set(err, LAM_ERR_INVALID, "lam_gram_accept: no sequence");
    if (!s->begun)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_gram_accept: the sequence has no observation (call "
                             "lam_gram_seq_begin)");
    const lam_grammar *g = s->g;
    if (token < 0 || token >= g->V)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_gram_accept: token %d is not an id of the tokenizer (0..%d)",
                             (int)token, (int)g->V - 1);
    gst o;
    size_t at = 0;
    if (run_token(s, &s->st, token, &o, &at)) {
        uint32_t a = g->tok_off[token], e = g->tok_off[token + 1];
        memcpy(s->text + s->len, g->tok_bytes + a, e - a); /* begin sized the text for this */
        s->len += e - a;
        s->text[s->len] = 0;
        s->st = o;
        return LAM_OK;
    }
    char what[200], tb[80], sofar[80], name[80];
    const char *tn = lam_tok_id_to_token(g->tok, token);
    snprintf(name, sizeof name, "%s", tn ? tn : "(no token)");
    show_bytes((const uint8_t *)s->text, s->len, 40, 1, sofar, sizeof sofar);
    uint32_t a = g->tok_off[token], e = g->tok_off[token + 1];
    if (a == e)
        return lam_error_set(err, LAM_ERR_INVALID, "grammar: token %d \"%.60s\" after \"%s\": %s",
                             (int)token, name, sofar,
                             tn ? "an added or special token is never part of the action text"
                                : "the id is no token");
    /* the state at the refused byte, for the message */
    gst cur = s->st, nx;
    for (size_t i = 0; i < at; i++) {
        step(s, &cur, g->tok_bytes[a + i], &nx);
        cur = nx;
    }
    describe(s, &cur, what, sizeof what);
    show_bytes(g->tok_bytes + a, e - a, 40, 0, tb, sizeof tb);
    return lam_error_set(err, LAM_ERR_INVALID,
                         "grammar: token %d \"%.60s\" (bytes \"%s\") is not allowed after \"%s\": "
                         "byte %zu of the token, expected %s",
                         (int)token, name, tb, sofar, at, what);
}
