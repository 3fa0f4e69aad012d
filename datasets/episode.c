/* episode.c - the recording schema (episode.h): role and action tables, the rules of
 * docs/formats.md applied to an episode in memory (lam_episode_check) and to one JSON line
 * (lam_episode_parse, jansson), lam_episode_write, deep copy and free, and the streaming
 * JSONL line reader. */
#define _POSIX_C_SOURCE 200809L

#include "lam/episode.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Tables                                                                                     */

static const char *const action_names[LAM_ACT_COUNT] = {
    "click", "type", "select", "hover", "press", "scroll", "goto", "back", "done"};

static const char *const role_names[LAM_ROLE_COUNT] = {
    "button", "link",     "textbox", "searchbox", "checkbox", "radio",
    "switch", "combobox", "option",  "listitem",  "list",     "heading",
    "tab",    "menuitem", "dialog",  "text",      "img"};

#define A(x) (1u << LAM_ACT_##x)
/* Roles and actions: the same table as docs/formats.md, "Roles and actions". */
static const unsigned role_actions[LAM_ROLE_COUNT] = {
    [LAM_ROLE_BUTTON] = A(CLICK) | A(HOVER),
    [LAM_ROLE_LINK] = A(CLICK) | A(HOVER),
    [LAM_ROLE_TEXTBOX] = A(CLICK) | A(TYPE) | A(PRESS) | A(HOVER),
    [LAM_ROLE_SEARCHBOX] = A(CLICK) | A(TYPE) | A(PRESS) | A(HOVER),
    [LAM_ROLE_CHECKBOX] = A(CLICK) | A(HOVER),
    [LAM_ROLE_RADIO] = A(CLICK) | A(HOVER),
    [LAM_ROLE_SWITCH] = A(CLICK) | A(HOVER),
    [LAM_ROLE_COMBOBOX] = A(SELECT) | A(CLICK) | A(HOVER),
    [LAM_ROLE_OPTION] = A(CLICK) | A(HOVER),
    [LAM_ROLE_LISTITEM] = A(CLICK) | A(HOVER),
    [LAM_ROLE_LIST] = A(SCROLL) | A(HOVER),
    [LAM_ROLE_HEADING] = A(HOVER),
    [LAM_ROLE_TAB] = A(CLICK) | A(HOVER),
    [LAM_ROLE_MENUITEM] = A(CLICK) | A(HOVER),
    [LAM_ROLE_DIALOG] = A(SCROLL) | A(HOVER),
    [LAM_ROLE_TEXT] = A(HOVER),
    [LAM_ROLE_IMG] = A(CLICK) | A(HOVER),
};
#undef A

/* Element and value rules: 1 needed, 0 none, -1 optional (episode.h). */
static const signed char action_element_rule[LAM_ACT_COUNT] = {
    [LAM_ACT_CLICK] = 1, [LAM_ACT_TYPE] = 1,   [LAM_ACT_SELECT] = 1,
    [LAM_ACT_HOVER] = 1, [LAM_ACT_PRESS] = -1, [LAM_ACT_SCROLL] = -1,
    [LAM_ACT_GOTO] = 0,  [LAM_ACT_BACK] = 0,   [LAM_ACT_DONE] = 0};
static const signed char action_value_rule[LAM_ACT_COUNT] = {
    [LAM_ACT_CLICK] = 0, [LAM_ACT_TYPE] = 1,  [LAM_ACT_SELECT] = 1,
    [LAM_ACT_HOVER] = 0, [LAM_ACT_PRESS] = 1, [LAM_ACT_SCROLL] = 1,
    [LAM_ACT_GOTO] = 1,  [LAM_ACT_BACK] = 0,  [LAM_ACT_DONE] = -1};

static int action_ok(lam_action_type t) {
    return (unsigned)t < LAM_ACT_COUNT;
}
static int role_ok(lam_role r) {
    return (unsigned)r < LAM_ROLE_COUNT;
}

const char *lam_action_name(lam_action_type t) {
    return action_ok(t) ? action_names[t] : "?";
}
const char *lam_role_name(lam_role r) {
    return role_ok(r) ? role_names[r] : "?";
}

int lam_action_parse(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < LAM_ACT_COUNT; i++)
        if (!strcmp(name, action_names[i])) return i;
    return -1;
}

int lam_role_parse(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < LAM_ROLE_COUNT; i++)
        if (!strcmp(name, role_names[i])) return i;
    return -1;
}

int lam_role_allows(lam_role r, lam_action_type a) {
    return role_ok(r) && action_ok(a) && (role_actions[r] >> a & 1u);
}

int lam_action_element_rule(lam_action_type a) {
    return action_ok(a) ? action_element_rule[a] : 0;
}
int lam_action_value_rule(lam_action_type a) {
    return action_ok(a) ? action_value_rule[a] : 0;
}

static int role_checkable(lam_role r) {
    return r == LAM_ROLE_CHECKBOX || r == LAM_ROLE_RADIO || r == LAM_ROLE_SWITCH;
}

/* "click, hover": the actions role r allows, in table order. */
static void allowed_list(lam_role r, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (int a = 0; a < LAM_ACT_COUNT; a++) {
        if (!lam_role_allows(r, (lam_action_type)a)) continue;
        int w = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", action_names[a]);
        if (w < 0 || (size_t)w >= cap - n) break;
        n += (size_t)w;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Problems                                                                                   */

void lam_problems_init(lam_problems *p, lam_problem *storage, int cap) {
    p->items = storage;
    p->n = 0;
    p->cap = storage ? cap : 0;
}

void lam_problems_add(lam_problems *p, const char *path, const char *fmt, ...) {
    if (!p) return;
    if (p->n < p->cap) {
        lam_problem *it = &p->items[p->n];
        snprintf(it->path, sizeof it->path, "%s", path ? path : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(it->msg, sizeof it->msg, fmt, ap);
        va_end(ap);
    }
    if (p->n < INT32_MAX) p->n++;
}

/* Writes s into dst as a double-quoted string for a message: quotes, backslashes and
 * control bytes escaped, cut after max_bytes of input with "..." so that messages stay one
 * short line whatever the input holds. */
static const char *quote(char *dst, size_t cap, const char *s, size_t max_bytes) {
    size_t n = 0;
    if (cap < 8) {
        if (cap) dst[0] = 0;
        return dst;
    }
    dst[n++] = '"';
    size_t i = 0;
    for (; s[i] && i < max_bytes; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        int w;
        if (c == '"' || c == '\\')
            w = snprintf(esc, sizeof esc, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            w = snprintf(esc, sizeof esc, "\\x%02x", c);
        else
            esc[0] = (char)c, esc[1] = 0, w = 1;
        if (n + (size_t)w + 5 > cap) break;
        memcpy(dst + n, esc, (size_t)w);
        n += (size_t)w;
    }
    if (s[i]) {
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n++] = '"';
    dst[n] = 0;
    return dst;
}

#define Q(buf, s) quote(buf, sizeof buf, s, 48)

/* ---------------------------------------------------------------------------------------- */
/* Free, copy, find                                                                           */

static void element_free(lam_element *e) {
    free(e->id);
    free(e->name);
    free(e->value);
    if (e->options)
        for (int k = 0; k < e->n_options; k++) free(e->options[k]);
    free(e->options);
    free(e->parent);
    memset(e, 0, sizeof *e);
}

void lam_observation_free(lam_observation *obs) {
    if (!obs) return;
    free(obs->url);
    free(obs->title);
    if (obs->elements)
        for (int j = 0; j < obs->n_elements; j++) element_free(&obs->elements[j]);
    free(obs->elements);
    memset(obs, 0, sizeof *obs);
}

void lam_episode_free(lam_episode *ep) {
    if (!ep) return;
    free(ep->id);
    free(ep->task);
    free(ep->app);
    free(ep->domain);
    free(ep->template_id);
    free(ep->split);
    if (ep->steps) {
        for (int i = 0; i < ep->n_steps; i++) {
            lam_observation_free(&ep->steps[i].obs);
            free(ep->steps[i].action.element);
            free(ep->steps[i].action.value);
            free(ep->steps[i].target.element);
            free(ep->steps[i].target.value);
        }
    }
    free(ep->steps);
    memset(ep, 0, sizeof *ep);
}

static char *dup_str(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Copies a possibly-NULL string; returns 0 when the allocation failed. */
static int copy_str(char **dst, const char *src) {
    *dst = dup_str(src);
    return !src || *dst;
}

lam_status lam_observation_copy(lam_observation *dst, const lam_observation *src, lam_error *err) {
    memset(dst, 0, sizeof *dst);
    if (src->n_elements < 0 || (src->n_elements > 0 && !src->elements))
        return lam_error_set(err, LAM_ERR_INVALID, "lam_observation_copy: %d elements at %p",
                             src->n_elements, (const void *)src->elements);
    int ok = copy_str(&dst->url, src->url) && copy_str(&dst->title, src->title);
    if (ok && src->n_elements > 0) {
        dst->elements = calloc((size_t)src->n_elements, sizeof *dst->elements);
        ok = dst->elements != NULL;
        if (ok) dst->n_elements = src->n_elements;
    }
    for (int j = 0; ok && j < dst->n_elements; j++) {
        const lam_element *s = &src->elements[j];
        lam_element *d = &dst->elements[j];
        d->role = s->role;
        d->checked = s->checked;
        d->disabled = s->disabled;
        ok = copy_str(&d->id, s->id) && copy_str(&d->name, s->name) &&
             copy_str(&d->value, s->value) && copy_str(&d->parent, s->parent);
        if (ok && s->n_options > 0 && s->options) {
            d->options = calloc((size_t)s->n_options, sizeof *d->options);
            ok = d->options != NULL;
            if (ok) d->n_options = s->n_options;
            for (int k = 0; ok && k < s->n_options; k++)
                ok = copy_str(&d->options[k], s->options[k]);
        }
    }
    if (!ok) {
        lam_observation_free(dst);
        return lam_error_set(err, LAM_ERR_NOMEM, "lam_observation_copy: out of memory");
    }
    return LAM_OK;
}

int lam_action_equal(const lam_action *a, const lam_action *b) {
    if (a->type != b->type) return 0;
    if ((a->element == NULL) != (b->element == NULL) || (a->value == NULL) != (b->value == NULL))
        return 0;
    return (!a->element || !strcmp(a->element, b->element)) &&
           (!a->value || !strcmp(a->value, b->value));
}

const lam_element *lam_observation_find(const lam_observation *obs, const char *id) {
    if (!obs || !id || !obs->elements) return NULL;
    for (int j = 0; j < obs->n_elements; j++)
        if (obs->elements[j].id && !strcmp(obs->elements[j].id, id)) return &obs->elements[j];
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Id index: open addressing over element indices, so checks stay linear in the elements.     */

typedef struct {
    int *slot; /* element index + 1; 0 empty */
    size_t mask;
} id_index;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Builds the index; dup[j] receives the index of an earlier element with the same id, or -1.
 * Returns 0 when out of memory. */
static int id_index_build(id_index *ix, const lam_observation *obs, int *dup) {
    size_t want = 16;
    while (want < (size_t)obs->n_elements * 2) want *= 2;
    ix->slot = calloc(want, sizeof *ix->slot);
    if (!ix->slot) return 0;
    ix->mask = want - 1;
    for (int j = 0; j < obs->n_elements; j++) {
        dup[j] = -1;
        const char *id = obs->elements[j].id;
        if (!id) continue;
        size_t h = (size_t)hash_str(id) & ix->mask;
        for (;; h = (h + 1) & ix->mask) {
            int s = ix->slot[h];
            if (!s) {
                ix->slot[h] = j + 1;
                break;
            }
            if (!strcmp(obs->elements[s - 1].id, id)) {
                dup[j] = s - 1;
                break;
            }
        }
    }
    return 1;
}

static int id_index_find(const id_index *ix, const lam_observation *obs, const char *id) {
    for (size_t h = (size_t)hash_str(id) & ix->mask;; h = (h + 1) & ix->mask) {
        int s = ix->slot[h];
        if (!s) return -1;
        if (!strcmp(obs->elements[s - 1].id, id)) return s - 1;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Rules                                                                                      */

/* What the parser already reported, so that the shared rules do not pile consequences of one
 * problem on top of it. NULL marks (lam_episode_check) mean: report everything. In the
 * parser's episodes an out-of-range role or action type, checked == -2 and n_options == -1
 * stand for a field that was missing or ill-typed and already reported. */
typedef struct {
    unsigned char obs_bad;        /* observation missing or not an object */
    unsigned char ids_incomplete; /* some element has no usable id, or elements is ill-typed */
    unsigned char element_bad;    /* action.element present but not a string */
    unsigned char value_bad;      /* action.value present but not a string */
    unsigned char t_element_bad;  /* the same for target */
    unsigned char t_value_bad;
} step_mark;

typedef struct {
    int steps_bad; /* steps missing or not an array */
    step_mark *steps;
} parse_marks;

static int utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int n;
        unsigned cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        for (int k = 1; k <= n; k++) {
            if ((p[k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (p[k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

typedef struct {
    lam_problems *p;
    int parsed; /* the episode comes from the parser: NULL strings were reported there */
} checker;

/* A string field: required ones must be present (and non-empty when nonempty is set),
 * in-memory strings must be valid UTF-8 (the parser's always are). */
static void check_str(checker *c, const char *path, const char *s, int required, int nonempty) {
    if (!s) {
        if (required && !c->parsed) lam_problems_add(c->p, path, "missing (required)");
        return;
    }
    if (nonempty && !*s) lam_problems_add(c->p, path, "must not be empty");
    if (!c->parsed && !utf8_valid(s)) lam_problems_add(c->p, path, "is not valid UTF-8");
}

/* The rules on one observation; fills ix (caller frees ix->slot) for the action's rules.
 * Returns 0 when out of memory. */
static int check_observation(checker *c, const char *base, const lam_observation *obs,
                             const step_mark *m, id_index *ix) {
    char path[192], q1[80], q2[80];
    ix->slot = NULL;
    snprintf(path, sizeof path, "%s.url", base);
    check_str(c, path, obs->url, 1, 1);
    snprintf(path, sizeof path, "%s.title", base);
    check_str(c, path, obs->title, 0, 0);
    if (obs->n_elements < 0 || (obs->n_elements > 0 && !obs->elements)) {
        snprintf(path, sizeof path, "%s.elements", base);
        lam_problems_add(c->p, path, "invalid count %d", obs->n_elements);
        return 1;
    }
    int n = obs->n_elements;
    int *dup = malloc(sizeof(int) * (size_t)(n ? 2 * n : 1));
    if (!dup || !id_index_build(ix, obs, dup)) {
        free(dup);
        return 0;
    }
    int *par = dup + n; /* parent index, -1 none */
    for (int j = 0; j < n; j++) {
        const lam_element *e = &obs->elements[j];
        char ebase[128];
        snprintf(ebase, sizeof ebase, "%s.elements[%d]", base, j);
        par[j] = -1;
        snprintf(path, sizeof path, "%s.id", ebase);
        check_str(c, path, e->id, 1, 1);
        if (e->id && dup[j] >= 0)
            lam_problems_add(c->p, path, "duplicate id %s (also elements[%d])", Q(q1, e->id),
                             dup[j]);
        snprintf(path, sizeof path, "%s.name", ebase);
        check_str(c, path, e->name, 1, 0);
        snprintf(path, sizeof path, "%s.value", ebase);
        check_str(c, path, e->value, 0, 0);
        int role_known = role_ok(e->role);
        if (!role_known && !c->parsed) {
            snprintf(path, sizeof path, "%s.role", ebase);
            lam_problems_add(c->p, path, "role out of range (%d)", (int)e->role);
        }
        /* options: combobox only, non-empty there */
        snprintf(path, sizeof path, "%s.options", ebase);
        if (e->n_options < 0 || (e->n_options > 0 && !e->options)) {
            if (!c->parsed) lam_problems_add(c->p, path, "invalid count %d", e->n_options);
        } else if (role_known) {
            if (e->role == LAM_ROLE_COMBOBOX && e->n_options == 0)
                lam_problems_add(c->p, path, "a combobox needs a non-empty list of options");
            if (e->role != LAM_ROLE_COMBOBOX && e->n_options > 0)
                lam_problems_add(c->p, path, "only combobox elements have options (role is %s)",
                                 role_names[e->role]);
        }
        if (e->n_options > 0 && e->options && !c->parsed) {
            for (int k = 0; k < e->n_options; k++) {
                char opath[256];
                snprintf(opath, sizeof opath, "%s[%d]", path, k);
                check_str(c, opath, e->options[k], 1, 0);
            }
        }
        /* checked: checkbox, radio and switch only, required there */
        snprintf(path, sizeof path, "%s.checked", ebase);
        if (role_known && e->checked != -2) {
            if (role_checkable(e->role)) {
                if (e->checked == -1)
                    lam_problems_add(c->p, path, "missing (required for role %s)",
                                     role_names[e->role]);
                else if (e->checked != 0 && e->checked != 1)
                    lam_problems_add(c->p, path, "must be 0 or 1 (got %d)", e->checked);
            } else if (e->checked != -1) {
                lam_problems_add(c->p, path,
                                 "only checkbox, radio and switch elements have checked (role "
                                 "is %s)",
                                 role_names[e->role]);
            }
        } else if (!c->parsed && e->checked != -1 && e->checked != 0 && e->checked != 1) {
            lam_problems_add(c->p, path, "must be -1, 0 or 1 (got %d)", e->checked);
        }
        if (!c->parsed && e->disabled != 0 && e->disabled != 1) {
            snprintf(path, sizeof path, "%s.disabled", ebase);
            lam_problems_add(c->p, path, "must be 0 or 1 (got %d)", e->disabled);
        }
        if (e->parent) {
            snprintf(path, sizeof path, "%s.parent", ebase);
            check_str(c, path, e->parent, 0, 0);
            if (e->id && !strcmp(e->parent, e->id)) {
                lam_problems_add(c->p, path, "an element cannot be its own parent");
            } else {
                int k = id_index_find(ix, obs, e->parent);
                if (k < 0 && !(m && m->ids_incomplete))
                    lam_problems_add(c->p, path, "%s is not an element of this observation",
                                     Q(q1, e->parent));
                par[j] = k;
            }
        }
    }
    /* Parent chains must end at the top: walk each chain once (0 new, 1 on the walk, 2 done). */
    unsigned char *state = calloc((size_t)(n ? n : 1), 1);
    if (!state) {
        free(dup);
        free(ix->slot);
        ix->slot = NULL;
        return 0;
    }
    for (int j = 0; j < n; j++) {
        int k = j;
        while (k >= 0 && state[k] == 0) state[k] = 1, k = par[k];
        if (k >= 0 && state[k] == 1) { /* the walk from j closed a cycle at k */
            int last = k;
            while (par[last] != k) last = par[last];
            snprintf(path, sizeof path, "%s.elements[%d].parent", base, last);
            lam_problems_add(c->p, path, "%s leads back to %s: the parents form a cycle",
                             Q(q1, obs->elements[last].parent), Q(q2, obs->elements[last].id));
        }
        for (k = j; k >= 0 && state[k] == 1; k = par[k]) state[k] = 2;
    }
    free(state);
    free(dup);
    return 1;
}

static void check_action(checker *c, const char *base, const lam_action *a,
                         const lam_observation *obs, const id_index *ix, const step_mark *m,
                         int last_step) {
    char path[192], q1[80], q2[80];
    if (!action_ok(a->type)) {
        if (!c->parsed) {
            snprintf(path, sizeof path, "%s.type", base);
            lam_problems_add(c->p, path, "type out of range (%d)", (int)a->type);
        }
        return;
    }
    const char *an = action_names[a->type];
    if (a->type == LAM_ACT_DONE && !last_step) {
        snprintf(path, sizeof path, "%s.type", base);
        lam_problems_add(c->p, path, "done may only be the last step's action");
    }
    int erule = action_element_rule[a->type], vrule = action_value_rule[a->type];
    const lam_element *el = NULL;
    snprintf(path, sizeof path, "%s.element", base);
    if (a->element) {
        check_str(c, path, a->element, 0, 0);
        if (erule == 0) {
            lam_problems_add(c->p, path, "%s takes no element", an);
        } else if (ix && ix->slot && obs) {
            int k = id_index_find(ix, obs, a->element);
            if (k >= 0) {
                el = &obs->elements[k];
            } else if (!(m && (m->ids_incomplete || m->obs_bad))) {
                lam_problems_add(c->p, path, "%s is not in the observation", Q(q1, a->element));
            }
        }
        if (el && el->disabled) lam_problems_add(c->p, path, "%s is disabled", Q(q1, a->element));
        if (el && role_ok(el->role) && !lam_role_allows(el->role, a->type)) {
            char allowed[96];
            allowed_list(el->role, allowed, sizeof allowed);
            lam_problems_add(c->p, path, "%s (%s) does not allow %s (it allows %s)",
                             Q(q1, a->element), role_names[el->role], an, allowed);
        }
    } else if (erule == 1 && !(m && m->element_bad)) {
        lam_problems_add(c->p, path, "missing (%s needs an element)", an);
    }
    snprintf(path, sizeof path, "%s.value", base);
    if (a->value) {
        check_str(c, path, a->value, 0, 0);
        if (vrule == 0) {
            lam_problems_add(c->p, path, "%s takes no value", an);
        } else if (a->type == LAM_ACT_SCROLL) {
            if (strcmp(a->value, "up") && strcmp(a->value, "down"))
                lam_problems_add(c->p, path, "must be \"up\" or \"down\" (got %s)",
                                 Q(q1, a->value));
        } else if (a->type == LAM_ACT_PRESS || a->type == LAM_ACT_GOTO) {
            if (!*a->value)
                lam_problems_add(c->p, path, "must not be empty (%s needs %s)", an,
                                 a->type == LAM_ACT_PRESS ? "a key name" : "a URL");
        } else if (a->type == LAM_ACT_SELECT && el && el->role == LAM_ROLE_COMBOBOX &&
                   el->n_options > 0 && el->options) {
            int found = 0;
            for (int k = 0; k < el->n_options && !found; k++)
                found = el->options[k] && !strcmp(el->options[k], a->value);
            if (!found) {
                char opts[160];
                size_t n = 0;
                opts[0] = 0;
                for (int k = 0; k < el->n_options && el->options[k]; k++) {
                    char qo[40];
                    quote(qo, sizeof qo, el->options[k], 24);
                    int w = snprintf(opts + n, sizeof opts - n, "%s%s", k ? ", " : "", qo);
                    if (w < 0 || (size_t)w >= sizeof opts - n || n + (size_t)w > 120) {
                        snprintf(opts + n, sizeof opts - n, ", ...");
                        break;
                    }
                    n += (size_t)w;
                }
                lam_problems_add(c->p, path, "%s is not an option of %s (options: %s)",
                                 Q(q1, a->value), Q(q2, a->element), opts);
            }
        }
    } else if (vrule == 1 && !(m && m->value_bad)) {
        lam_problems_add(c->p, path, "missing (%s needs a value)", an);
    }
}

/* Returns 0 when out of memory (problems found so far stay). */
/* The episode's own fields and the step count; returns 1 when there are steps to check. */
static int check_header(checker *c, const lam_episode *ep, const parse_marks *marks) {
    check_str(c, "id", ep->id, 1, 1);
    check_str(c, "task", ep->task, 1, 1);
    check_str(c, "app", ep->app, 1, 1);
    check_str(c, "domain", ep->domain, 1, 1);
    check_str(c, "template", ep->template_id, 0, 0);
    check_str(c, "split", ep->split, 0, 0);
    if (ep->n_steps < 0 || (ep->n_steps > 0 && !ep->steps)) {
        lam_problems_add(c->p, "steps", "invalid count %d", ep->n_steps);
        return 0;
    }
    if (ep->n_steps == 0 && !(marks && marks->steps_bad))
        lam_problems_add(c->p, "steps", "must not be empty (an episode has at least one step)");
    return ep->n_steps > 0;
}

/* Step i; returns 0 when out of memory. */
static int check_step(checker *c, const lam_episode *ep, int i, const step_mark *m) {
    const lam_step *s = &ep->steps[i];
    char obase[64], abase[64];
    snprintf(obase, sizeof obase, "steps[%d].observation", i);
    snprintf(abase, sizeof abase, "steps[%d].action", i);
    id_index ix = {NULL, 0};
    if (!(m && m->obs_bad) && !check_observation(c, obase, &s->obs, m, &ix)) return 0;
    check_action(c, abase, &s->action, &s->obs, &ix, m, i == ep->n_steps - 1);
    if (s->has_target) { /* a correction may say `done` anywhere: stopping was right there */
        char tbase[64];
        snprintf(tbase, sizeof tbase, "steps[%d].target", i);
        step_mark tm = {0};
        if (m) tm = *m, tm.element_bad = m->t_element_bad, tm.value_bad = m->t_value_bad;
        check_action(c, tbase, &s->target, &s->obs, &ix, m ? &tm : NULL, 1);
    }
    free(ix.slot);
    return 1;
}

/* Returns 0 when out of memory (problems found so far stay). */
static int check_episode(const lam_episode *ep, lam_problems *p) {
    checker c = {p, 0};
    if (!check_header(&c, ep, NULL)) return 1;
    for (int i = 0; i < ep->n_steps; i++)
        if (!check_step(&c, ep, i, NULL)) return 0;
    return 1;
}

int lam_episode_check(const lam_episode *ep, lam_problems *probs) {
    int before = probs ? probs->n : 0;
    lam_problems local;
    if (!probs) {
        lam_problems_init(&local, NULL, 0);
        probs = &local;
    }
    if (!ep) {
        lam_problems_add(probs, "", "no episode (NULL)");
        return probs->n - before;
    }
    if (!check_episode(ep, probs)) lam_problems_add(probs, "", "out of memory");
    return probs->n - before;
}

/* ---------------------------------------------------------------------------------------- */
/* Writing: compact JSON, keys in schema order, built in memory and written with one fwrite. */

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void sb_lit(sbuf *b, const char *s) {
    sb_put(b, s, strlen(s));
}

static void sb_json_str(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        sb_put(b, run, (size_t)(s - run));
        char esc[8];
        switch (ch) {
        case '"':
            memcpy(esc, "\\\"", 3);
            break;
        case '\\':
            memcpy(esc, "\\\\", 3);
            break;
        case '\n':
            memcpy(esc, "\\n", 3);
            break;
        case '\r':
            memcpy(esc, "\\r", 3);
            break;
        case '\t':
            memcpy(esc, "\\t", 3);
            break;
        case '\b':
            memcpy(esc, "\\b", 3);
            break;
        case '\f':
            memcpy(esc, "\\f", 3);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", ch);
        }
        sb_lit(b, esc);
        run = s + 1;
    }
    sb_put(b, run, (size_t)(s - run));
    sb_put(b, "\"", 1);
}

/* ,"key":"value" (the leading comma unless first) */
static void sb_field(sbuf *b, const char *key, const char *val, int first) {
    if (!first) sb_put(b, ",", 1);
    sb_json_str(b, key);
    sb_put(b, ":", 1);
    sb_json_str(b, val);
}

static void write_element(sbuf *b, const lam_element *e) {
    sb_put(b, "{", 1);
    sb_field(b, "id", e->id, 1);
    sb_field(b, "role", role_names[e->role], 0);
    sb_field(b, "name", e->name, 0);
    if (e->value) sb_field(b, "value", e->value, 0);
    if (e->role == LAM_ROLE_COMBOBOX || e->n_options > 0) {
        sb_lit(b, ",\"options\":[");
        for (int k = 0; k < e->n_options; k++) {
            if (k) sb_put(b, ",", 1);
            sb_json_str(b, e->options[k]);
        }
        sb_put(b, "]", 1);
    }
    if (e->checked >= 0) sb_lit(b, e->checked ? ",\"checked\":true" : ",\"checked\":false");
    if (e->disabled) sb_lit(b, ",\"disabled\":true");
    if (e->parent) sb_field(b, "parent", e->parent, 0);
    sb_put(b, "}", 1);
}

static void write_episode(sbuf *b, const lam_episode *ep, const char *meta) {
    sb_put(b, "{", 1);
    sb_field(b, "id", ep->id, 1);
    sb_field(b, "task", ep->task, 0);
    sb_field(b, "app", ep->app, 0);
    sb_field(b, "domain", ep->domain, 0);
    if (ep->template_id) sb_field(b, "template", ep->template_id, 0);
    if (ep->split) sb_field(b, "split", ep->split, 0);
    sb_lit(b, ",\"steps\":[");
    for (int i = 0; i < ep->n_steps; i++) {
        const lam_step *s = &ep->steps[i];
        if (i) sb_put(b, ",", 1);
        sb_lit(b, "{\"observation\":{");
        sb_field(b, "url", s->obs.url, 1);
        if (s->obs.title) sb_field(b, "title", s->obs.title, 0);
        sb_lit(b, ",\"elements\":[");
        for (int j = 0; j < s->obs.n_elements; j++) {
            if (j) sb_put(b, ",", 1);
            write_element(b, &s->obs.elements[j]);
        }
        sb_lit(b, "]},\"action\":{");
        sb_field(b, "type", action_names[s->action.type], 1);
        if (s->action.element) sb_field(b, "element", s->action.element, 0);
        if (s->action.value) sb_field(b, "value", s->action.value, 0);
        if (s->has_target) {
            sb_lit(b, "},\"target\":{");
            sb_field(b, "type", action_names[s->target.type], 1);
            if (s->target.element) sb_field(b, "element", s->target.element, 0);
            if (s->target.value) sb_field(b, "value", s->target.value, 0);
        }
        sb_lit(b, "}}");
    }
    sb_lit(b, "]");
    if (meta) {
        sb_lit(b, ",\"meta\":");
        sb_put(b, meta, strlen(meta));
    }
    sb_lit(b, "}\n");
}

lam_status lam_episode_write(FILE *f, const lam_episode *ep, lam_error *err) {
    return lam_episode_write_meta(f, ep, NULL, err);
}

lam_status lam_episode_write_meta(FILE *f, const lam_episode *ep, const char *meta,
                                  lam_error *err) {
    lam_problem first[1];
    lam_problems probs;
    lam_problems_init(&probs, first, 1);
    if (lam_episode_check(ep, &probs) > 0) {
        const char *id = ep && ep->id ? ep->id : "?";
        char q[80];
        return lam_error_set(err, LAM_ERR_INVALID,
                             "lam_episode_write: episode %s breaks the schema: %s%s%s (%d "
                             "problem%s; lam_episode_check lists them)",
                             Q(q, id), first[0].path, first[0].path[0] ? ": " : "", first[0].msg,
                             probs.n, probs.n == 1 ? "" : "s");
    }
    sbuf b = {0};
    write_episode(&b, ep, meta);
    if (b.oom) {
        free(b.p);
        return lam_error_set(err, LAM_ERR_NOMEM, "lam_episode_write: out of memory");
    }
    size_t w = fwrite(b.p, 1, b.n, f);
    free(b.p);
    if (w != b.n || ferror(f))
        return lam_error_set(err, LAM_ERR_IO, "lam_episode_write: write failed: %s",
                             strerror(errno));
    return LAM_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Parsing one JSON line                                                                      */

typedef struct {
    lam_problems *p;
    int oom;
} parser;

static const char *jtype(const json_t *v) {
    switch (json_typeof(v)) {
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
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return "null";
    }
}

static int simple_key(const char *k) {
    size_t n = 0;
    for (; k[n]; n++) {
        char ch = k[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return n > 0 && n <= 48;
}

/* base.key, or base["odd key"] for keys that are not plain words; key alone at the top. */
static void key_path(char *dst, size_t cap, const char *base, const char *key) {
    if (simple_key(key)) {
        snprintf(dst, cap, "%s%s%s", base, *base ? "." : "", key);
    } else {
        char q[80];
        snprintf(dst, cap, "%s[%s]", base, quote(q, sizeof q, key, 40));
    }
}

/* Reports every key of obj that is not in allowed (a NULL-terminated list) nor "meta", and a
 * "meta" that is not an object. */
static void check_keys(parser *ps, const json_t *obj, const char *base,
                       const char *const *allowed) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        char path[192];
        key_path(path, sizeof path, base, key);
        if (!strcmp(key, "meta")) {
            if (!json_is_object(v))
                lam_problems_add(ps->p, path, "must be an object (got %s)", jtype(v));
            continue;
        }
        int known = 0;
        for (int k = 0; allowed[k] && !known; k++) known = !strcmp(key, allowed[k]);
        if (!known) lam_problems_add(ps->p, path, "unknown field (extra data belongs in \"meta\")");
    }
}

/* Returns the member key of obj, or NULL when absent or null, reporting a missing required
 * member. */
static json_t *member(parser *ps, const json_t *obj, const char *base, const char *key,
                      int required) {
    json_t *v = json_object_get(obj, key);
    if (v && !json_is_null(v)) return v;
    if (required) {
        char path[192];
        key_path(path, sizeof path, base, key);
        if (v)
            lam_problems_add(ps->p, path, "must not be null (required)");
        else
            lam_problems_add(ps->p, path, "missing (required)");
    }
    return NULL;
}

/* A string member: 1 read into *out, 0 absent (reported when required), -1 ill-typed
 * (reported). */
static int get_str(parser *ps, const json_t *obj, const char *base, const char *key, int required,
                   char **out) {
    *out = NULL;
    json_t *v = member(ps, obj, base, key, required);
    if (!v) return 0;
    if (!json_is_string(v)) {
        char path[192];
        key_path(path, sizeof path, base, key);
        lam_problems_add(ps->p, path, "must be a string (got %s)", jtype(v));
        return -1;
    }
    *out = dup_str(json_string_value(v));
    if (!*out) ps->oom = 1;
    return 1;
}

/* A boolean member: 1/0 read, -1 absent, -2 ill-typed (reported). */
static int get_bool(parser *ps, const json_t *obj, const char *base, const char *key) {
    json_t *v = member(ps, obj, base, key, 0);
    if (!v) return -1;
    if (!json_is_boolean(v)) {
        char path[192];
        key_path(path, sizeof path, base, key);
        lam_problems_add(ps->p, path, "must be true or false (got %s)", jtype(v));
        return -2;
    }
    return json_is_true(v);
}

/* An array member with at most INT32_MAX items; NULL when absent or ill-typed (reported). */
static json_t *get_array(parser *ps, const json_t *obj, const char *base, const char *key,
                         int required) {
    json_t *v = member(ps, obj, base, key, required);
    if (!v) return NULL;
    char path[192];
    key_path(path, sizeof path, base, key);
    if (!json_is_array(v)) {
        lam_problems_add(ps->p, path, "must be an array (got %s)", jtype(v));
        return NULL;
    }
    if (json_array_size(v) > INT32_MAX) {
        lam_problems_add(ps->p, path, "too many items (%zu)", json_array_size(v));
        return NULL;
    }
    return v;
}

static const char *const episode_keys[] = {"id",       "task",  "app",   "domain",
                                           "template", "split", "steps", NULL};
static const char *const step_keys[] = {"observation", "action", "target", NULL};
static const char *const observation_keys[] = {"url", "title", "elements", NULL};
static const char *const element_keys[] = {"id",      "role",     "name",   "value", "options",
                                           "checked", "disabled", "parent", NULL};
static const char *const action_keys[] = {"type", "element", "value", NULL};

static void known_list(const char *const *names, int n, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < n; k++) {
        int w = snprintf(buf + len, cap - len, "%s%s", k ? ", " : "", names[k]);
        if (w < 0 || (size_t)w >= cap - len) break;
        len += (size_t)w;
    }
}

static void parse_element(parser *ps, const json_t *v, const char *base, lam_element *e,
                          step_mark *m) {
    e->role = LAM_ROLE_COUNT; /* unknown until read */
    e->checked = -1;
    if (!json_is_object(v)) {
        lam_problems_add(ps->p, base, "must be an object (got %s)", jtype(v));
        m->ids_incomplete = 1;
        return;
    }
    check_keys(ps, v, base, element_keys);
    if (get_str(ps, v, base, "id", 1, &e->id) != 1) m->ids_incomplete = 1;
    char *role = NULL;
    if (get_str(ps, v, base, "role", 1, &role) == 1) {
        int r = lam_role_parse(role);
        if (r >= 0) {
            e->role = (lam_role)r;
        } else {
            char path[192], q[80], known[200];
            snprintf(path, sizeof path, "%s.role", base);
            known_list(role_names, LAM_ROLE_COUNT, known, sizeof known);
            lam_problems_add(ps->p, path, "unknown role %s (known: %s)", Q(q, role), known);
        }
    }
    free(role);
    get_str(ps, v, base, "name", 1, &e->name);
    get_str(ps, v, base, "value", 0, &e->value);
    json_t *opts = get_array(ps, v, base, "options", 0);
    if (json_object_get(v, "options") && !json_is_null(json_object_get(v, "options")) && !opts)
        e->n_options = -1; /* ill-typed, reported */
    if (opts && json_array_size(opts) > 0) {
        size_t n = json_array_size(opts);
        e->options = calloc(n, sizeof *e->options);
        if (!e->options) {
            ps->oom = 1;
            return;
        }
        e->n_options = (int)n;
        int bad = 0;
        for (size_t k = 0; k < n; k++) {
            json_t *o = json_array_get(opts, k);
            if (!json_is_string(o)) {
                char path[192];
                snprintf(path, sizeof path, "%s.options[%zu]", base, k);
                lam_problems_add(ps->p, path, "must be a string (got %s)", jtype(o));
                bad = 1;
                continue;
            }
            e->options[k] = dup_str(json_string_value(o));
            if (!e->options[k]) ps->oom = 1;
        }
        if (bad) { /* keep none: the rules on options skip an ill-typed list */
            for (size_t k = 0; k < n; k++) free(e->options[k]);
            free(e->options);
            e->options = NULL;
            e->n_options = -1;
        }
    }
    e->checked = get_bool(ps, v, base, "checked");
    int dis = get_bool(ps, v, base, "disabled");
    e->disabled = dis == 1;
    get_str(ps, v, base, "parent", 0, &e->parent);
}

static void parse_observation(parser *ps, const json_t *v, const char *base, lam_observation *o,
                              step_mark *m) {
    check_keys(ps, v, base, observation_keys);
    get_str(ps, v, base, "url", 1, &o->url);
    get_str(ps, v, base, "title", 0, &o->title);
    json_t *els = get_array(ps, v, base, "elements", 1);
    if (!els) {
        m->ids_incomplete = 1;
        return;
    }
    size_t n = json_array_size(els);
    if (n == 0) return;
    o->elements = calloc(n, sizeof *o->elements);
    if (!o->elements) {
        ps->oom = 1;
        return;
    }
    o->n_elements = (int)n;
    for (size_t j = 0; j < n; j++) {
        o->elements[j].role = LAM_ROLE_COUNT;
        o->elements[j].checked = -1;
    }
    for (size_t j = 0; j < n && !ps->oom; j++) {
        char ebase[128];
        snprintf(ebase, sizeof ebase, "%s.elements[%zu]", base, j);
        parse_element(ps, json_array_get(els, j), ebase, &o->elements[j], m);
    }
}

static void parse_action(parser *ps, const json_t *v, const char *base, lam_action *a,
                         unsigned char *element_bad, unsigned char *value_bad) {
    a->type = LAM_ACT_COUNT; /* unknown until read */
    check_keys(ps, v, base, action_keys);
    char *type = NULL;
    if (get_str(ps, v, base, "type", 1, &type) == 1) {
        int t = lam_action_parse(type);
        if (t >= 0) {
            a->type = (lam_action_type)t;
        } else {
            char path[192], q[80], known[200];
            snprintf(path, sizeof path, "%s.type", base);
            known_list(action_names, LAM_ACT_COUNT, known, sizeof known);
            lam_problems_add(ps->p, path, "unknown action type %s (known: %s)", Q(q, type), known);
        }
    }
    free(type);
    if (get_str(ps, v, base, "element", 0, &a->element) < 0) *element_bad = 1;
    if (get_str(ps, v, base, "value", 0, &a->value) < 0) *value_bad = 1;
}

static void parse_episode(parser *ps, const json_t *root, lam_episode *ep, parse_marks *marks) {
    check_keys(ps, root, "", episode_keys);
    get_str(ps, root, "", "id", 1, &ep->id);
    get_str(ps, root, "", "task", 1, &ep->task);
    get_str(ps, root, "", "app", 1, &ep->app);
    get_str(ps, root, "", "domain", 1, &ep->domain);
    get_str(ps, root, "", "template", 0, &ep->template_id);
    get_str(ps, root, "", "split", 0, &ep->split);
    json_t *steps = get_array(ps, root, "", "steps", 1);
    size_t n = steps ? json_array_size(steps) : 0;
    if (!steps) marks->steps_bad = 1;
    if (n > 0) {
        ep->steps = calloc(n, sizeof *ep->steps);
        marks->steps = calloc(n, sizeof *marks->steps);
        if (!ep->steps || !marks->steps) {
            ps->oom = 1;
            return;
        }
        ep->n_steps = (int)n;
    }
    checker c = {ps->p, 1};
    if (!check_header(&c, ep, marks)) return;
    for (size_t i = 0; i < n; i++) ep->steps[i].action.type = LAM_ACT_COUNT;
    for (size_t i = 0; i < n && !ps->oom; i++) {
        char base[64], obase[80], abase[80];
        json_t *s = json_array_get(steps, i);
        lam_step *st = &ep->steps[i];
        step_mark *m = &marks->steps[i];
        snprintf(base, sizeof base, "steps[%zu]", i);
        if (!json_is_object(s)) {
            lam_problems_add(ps->p, base, "must be an object (got %s)", jtype(s));
            m->obs_bad = 1;
            if (!check_step(&c, ep, (int)i, m)) ps->oom = 1;
            continue;
        }
        check_keys(ps, s, base, step_keys);
        snprintf(obase, sizeof obase, "%s.observation", base);
        snprintf(abase, sizeof abase, "%s.action", base);
        json_t *o = member(ps, s, base, "observation", 1);
        if (o && !json_is_object(o)) {
            lam_problems_add(ps->p, obase, "must be an object (got %s)", jtype(o));
            o = NULL;
        }
        if (o)
            parse_observation(ps, o, obase, &st->obs, m);
        else
            m->obs_bad = 1;
        json_t *a = member(ps, s, base, "action", 1);
        if (a && !json_is_object(a)) {
            lam_problems_add(ps->p, abase, "must be an object (got %s)", jtype(a));
            a = NULL;
        }
        if (a) parse_action(ps, a, abase, &st->action, &m->element_bad, &m->value_bad);
        json_t *t = json_object_get(s, "target");
        if (t && !json_is_null(t)) {
            char tbase[80];
            snprintf(tbase, sizeof tbase, "%s.target", base);
            if (!json_is_object(t)) {
                lam_problems_add(ps->p, tbase, "must be an object (got %s)", jtype(t));
            } else {
                st->has_target = 1;
                parse_action(ps, t, tbase, &st->target, &m->t_element_bad, &m->t_value_bad);
            }
        }
        if (!ps->oom && !check_step(&c, ep, (int)i, m)) ps->oom = 1;
    }
}

/* jansson's message with control bytes made visible, so a problem stays one line. */
static void clean_text(char *dst, size_t cap, const char *src) {
    size_t n = 0;
    for (; *src && n + 5 < cap; src++) {
        unsigned char ch = (unsigned char)*src;
        if (ch < 0x20 || ch == 0x7f)
            n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", ch);
        else
            dst[n++] = (char)ch;
    }
    dst[n] = 0;
}

lam_status lam_episode_parse(const char *line, size_t len, lam_episode *out, lam_problems *probs) {
    lam_problems local;
    if (!probs) {
        lam_problems_init(&local, NULL, 0);
        probs = &local;
    }
    int before = probs->n;
    if (out) memset(out, 0, sizeof *out);
    size_t k = 0;
    while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n'))
        k++;
    if (k == len) {
        lam_problems_add(probs, "(line)", "empty line (expected one episode: a JSON object)");
        return LAM_ERR_INVALID;
    }
    json_error_t jerr;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        char text[JSON_ERROR_TEXT_LENGTH + 64];
        clean_text(text, sizeof text, jerr.text);
        if (jerr.column > 0)
            lam_problems_add(probs, "(line)", "invalid JSON at column %d: %s", jerr.column, text);
        else
            lam_problems_add(probs, "(line)", "invalid JSON at byte %d: %s", jerr.position, text);
        return LAM_ERR_INVALID;
    }
    if (!json_is_object(root)) {
        lam_problems_add(probs, "(line)", "must be a JSON object (got %s)", jtype(root));
        json_decref(root);
        return LAM_ERR_INVALID;
    }
    parser ps = {probs, 0};
    lam_episode ep;
    memset(&ep, 0, sizeof ep);
    parse_marks marks = {0, NULL};
    parse_episode(&ps, root, &ep, &marks);
    json_decref(root);
    free(marks.steps);
    if (ps.oom) {
        lam_problems_add(probs, "(line)", "out of memory");
        lam_episode_free(&ep);
        return LAM_ERR_NOMEM;
    }
    if (probs->n != before) {
        lam_episode_free(&ep);
        return LAM_ERR_INVALID;
    }
    if (out)
        *out = ep;
    else
        lam_episode_free(&ep);
    return LAM_OK;
}

lam_status lam_observation_from_json(const struct json_t *v, const char *base, lam_observation *out,
                                     lam_problems *probs) {
    lam_problems local;
    if (!probs) {
        lam_problems_init(&local, NULL, 0);
        probs = &local;
    }
    memset(out, 0, sizeof *out);
    if (!v || !json_is_object(v)) {
        lam_problems_add(probs, base, "must be an object (got %s)", v ? jtype(v) : "nothing");
        return LAM_ERR_INVALID;
    }
    int before = probs->n;
    parser ps = {probs, 0};
    step_mark m;
    memset(&m, 0, sizeof m);
    parse_observation(&ps, v, base, out, &m);
    if (!ps.oom && probs->n == before) {
        checker c = {probs, 1};
        id_index ix;
        if (!check_observation(&c, base, out, &m, &ix)) ps.oom = 1;
        free(ix.slot);
    }
    if (ps.oom) {
        lam_problems_add(probs, base, "out of memory");
        lam_observation_free(out);
        return LAM_ERR_NOMEM;
    }
    if (probs->n != before) {
        lam_observation_free(out);
        return LAM_ERR_INVALID;
    }
    return LAM_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Streaming JSONL reader                                                                     */

#define JSONL_DEFAULT_MAX_LINE ((size_t)64 << 20)

lam_status lam_jsonl_open(lam_jsonl_reader *r, const char *path, lam_error *err) {
    memset(r, 0, sizeof *r);
    r->path = path;
    r->max_line = JSONL_DEFAULT_MAX_LINE;
    if (!strcmp(path, "-")) {
        r->f = stdin;
        r->path = "<stdin>";
    } else {
        r->f = fopen(path, "rb");
        if (!r->f)
            return lam_error_set(err, LAM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    return LAM_OK;
}

/* Grows the buffer to hold need bytes: doubling, but never past the cap plus slack. */
static int grow(lam_jsonl_reader *r, size_t need, size_t max) {
    if (need <= r->cap) return 1;
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < need) cap *= 2;
    if (cap > max + 2) cap = max + 2 > need ? max + 2 : need;
    char *b = realloc(r->buf, cap);
    if (!b) return 0;
    r->buf = b;
    r->cap = cap;
    return 1;
}

lam_status lam_jsonl_next(lam_jsonl_reader *r, const char **line, size_t *len, lam_error *err) {
    *line = NULL;
    *len = 0;
    if (!r->f) return lam_error_set(err, LAM_ERR_INVALID, "lam_jsonl_next: reader not open");
    size_t max = r->max_line ? r->max_line : JSONL_DEFAULT_MAX_LINE;
    if (max > SIZE_MAX / 4) max = SIZE_MAX / 4;
    size_t n = 0;
    int ch = getc_unlocked(r->f);
    if (ch == EOF) {
        if (ferror(r->f))
            return lam_error_set(err, LAM_ERR_IO, "%s:%lld: read failed: %s", r->path,
                                 (long long)r->line_no + 1, strerror(errno));
        return LAM_OK; /* end of file */
    }
    r->line_no++;
    if (!grow(r, 1, max)) goto nomem;
    for (; ch != EOF && ch != '\n'; ch = getc_unlocked(r->f)) {
        if (n > max) break; /* over the cap (one byte of slack for the CR of a CRLF) */
        if (n + 2 > r->cap && !grow(r, n + 2, max)) goto nomem;
        r->buf[n++] = (char)ch;
    }
    while (ch != EOF && ch != '\n') ch = getc_unlocked(r->f); /* skip the rest of a long line */
    if (ferror(r->f))
        return lam_error_set(err, LAM_ERR_IO, "%s:%lld: read failed: %s", r->path,
                             (long long)r->line_no, strerror(errno));
    if (n > 0 && r->buf[n - 1] == '\r') n--; /* CRLF */
    if (n > max)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "%s:%lld: line is longer than %zu bytes (the limit); skipped", r->path,
                             (long long)r->line_no, max);
    r->buf[n] = 0;
    *line = r->buf;
    *len = n;
    return LAM_OK;
nomem:
    return lam_error_set(err, LAM_ERR_NOMEM, "%s:%lld: out of memory reading a line", r->path,
                         (long long)r->line_no);
}

void lam_jsonl_close(lam_jsonl_reader *r) {
    if (r->f && r->f != stdin) fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}
