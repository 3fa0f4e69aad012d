/* test_episode.c - the recording schema (episode.h): parse -> write -> parse round trips
 * (against jansson's own parse of the original line as the reference), one hand-written bad
 * line per rule with its exact path and message, every problem of a multi-problem line, the
 * in-memory checker, deep copy, the JSONL reader (CRLF, empty lines, a final line without
 * newline, lines over the cap, constant memory), and the role/action tables against the
 * tables of docs/formats.md. Usage: test_episode NAME [ARGS]; `validate ...` runs
 * lam_data_validate_main (for data_cli_test.sh). */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lam/data_cli.h"
#include "lam/episode.h"
#include "lam/prompt.h"
#include "lam/rng.h"

static int failures;
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__, #cond);         \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                    */

static int str_eq(const char *a, const char *b) {
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int obs_equal(const lam_observation *a, const lam_observation *b) {
    if (!str_eq(a->url, b->url) || !str_eq(a->title, b->title) || a->n_elements != b->n_elements)
        return 0;
    for (int j = 0; j < a->n_elements; j++) {
        const lam_element *x = &a->elements[j], *y = &b->elements[j];
        if (!str_eq(x->id, y->id) || x->role != y->role || !str_eq(x->name, y->name) ||
            !str_eq(x->value, y->value) || x->n_options != y->n_options ||
            x->checked != y->checked || x->disabled != y->disabled || !str_eq(x->parent, y->parent))
            return 0;
        for (int k = 0; k < x->n_options; k++)
            if (!str_eq(x->options[k], y->options[k])) return 0;
    }
    return 1;
}

static int episode_equal(const lam_episode *a, const lam_episode *b) {
    if (!str_eq(a->id, b->id) || !str_eq(a->task, b->task) || !str_eq(a->app, b->app) ||
        !str_eq(a->domain, b->domain) || !str_eq(a->template_id, b->template_id) ||
        !str_eq(a->split, b->split) || a->n_steps != b->n_steps)
        return 0;
    for (int i = 0; i < a->n_steps; i++) {
        const lam_step *x = &a->steps[i], *y = &b->steps[i];
        if (!obs_equal(&x->obs, &y->obs) || x->action.type != y->action.type ||
            !str_eq(x->action.element, y->action.element) ||
            !str_eq(x->action.value, y->action.value))
            return 0;
    }
    return 1;
}

/* lam_episode_write into a malloc'ed string (with its newline). */
static char *write_to_string(const lam_episode *ep, lam_status *st, lam_error *err) {
    FILE *f = tmpfile();
    *st = LAM_ERR_IO;
    if (!f) return NULL;
    *st = lam_episode_write(f, ep, err);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    return s;
}

static void print_problems(const char *line, const lam_problems *p) {
    fprintf(stderr, "  line: %.300s\n", line);
    for (int k = 0; k < p->n && k < p->cap; k++)
        fprintf(stderr, "  got %s: %s\n", p->items[k].path, p->items[k].msg);
}

/* The line has exactly one problem, at path, with message msg (a prefix when msg ends in *). */
static void expect_one(int src_line, const char *line, const char *path, const char *msg) {
    lam_problem items[16];
    lam_problems p;
    lam_problems_init(&p, items, 16);
    lam_episode ep;
    memset(&ep, 0xAB, sizeof ep); /* poisoned: parse must zero it on failure */
    lam_status st = lam_episode_parse(line, strlen(line), &ep, &p);
    size_t ml = strlen(msg);
    int prefix = ml > 0 && msg[ml - 1] == '*';
    int ok = st == LAM_ERR_INVALID && p.n == 1 && !strcmp(items[0].path, path) &&
             (prefix ? !strncmp(items[0].msg, msg, ml - 1) : !strcmp(items[0].msg, msg)) &&
             ep.steps == NULL && ep.id == NULL;
    if (!ok) {
        fprintf(stderr, "%s:%d: expected exactly one problem %s: %s (status %d, %d problems)\n",
                __FILE__, src_line, path, msg, (int)st, p.n);
        print_problems(line, &p);
        failures++;
    }
}
#define EXPECT_ONE(line, path, msg) expect_one(__LINE__, line, path, msg)

/* One episode line from pieces: extra top-level fields, the elements, the action object. */
static const char *mk(char *buf, size_t cap, const char *top, const char *els, const char *act) {
    snprintf(buf, cap,
             "{\"id\":\"t1\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\"%s,\"steps\":[{"
             "\"observation\":{\"url\":\"https://a.example/\",\"elements\":[%s]},\"action\":%s}]}",
             top, els, act);
    return buf;
}

#define BTN   "{\"id\":\"e1\",\"role\":\"button\",\"name\":\"OK\"}"
#define TXT   "{\"id\":\"t\",\"role\":\"textbox\",\"name\":\"To\"}"
#define CMB   "{\"id\":\"c\",\"role\":\"combobox\",\"name\":\"Size\",\"options\":[\"S\",\"M\"]}"
#define CLICK "{\"type\":\"click\",\"element\":\"e1\"}"

/* ---------------------------------------------------------------------------------------- */
/* data.roundtrip: every episode of a sample file, parse -> write -> parse                    */

static void strip_meta(json_t *v) {
    if (json_is_object(v)) {
        json_object_del(v, "meta");
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m) strip_meta(m);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) strip_meta(m);
    }
}

static void test_roundtrip(const char *path) {
    lam_jsonl_reader r;
    lam_error err = {0};
    if (lam_jsonl_open(&r, path, &err) != LAM_OK) {
        fprintf(stderr, "%s\n", err.msg);
        failures++;
        return;
    }
    const char *line;
    size_t len;
    int n = 0;
    while (lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && line) {
        lam_problem items[8];
        lam_problems p;
        lam_problems_init(&p, items, 8);
        lam_episode a, b;
        lam_status st = lam_episode_parse(line, len, &a, &p);
        if (st != LAM_OK) print_problems(line, &p);
        EXPECT(st == LAM_OK && p.n == 0);
        if (st != LAM_OK) continue;
        EXPECT(lam_episode_check(&a, &p) == 0);
        lam_status wst;
        char *w = write_to_string(&a, &wst, &err);
        EXPECT(wst == LAM_OK && w && w[strlen(w) - 1] == '\n' && !strchr(w, '\n')[1]);
        EXPECT(lam_episode_parse(w, strlen(w) - 1, &b, &p) == LAM_OK);
        EXPECT(episode_equal(&a, &b));
        char *w2 = write_to_string(&b, &wst, &err);
        EXPECT(w2 && !strcmp(w, w2)); /* a fixed point */
        /* Reference: jansson's reading of the original line, meta removed, equals ours. */
        json_t *orig = json_loadb(line, len, 0, NULL), *ours = json_loads(w, 0, NULL);
        strip_meta(orig);
        EXPECT(orig && ours && json_equal(orig, ours));
        json_decref(orig);
        json_decref(ours);
        free(w);
        free(w2);
        lam_episode_free(&a);
        lam_episode_free(&b);
        n++;
    }
    EXPECT(n >= 3);
    lam_jsonl_close(&r);
    printf("roundtrip: %d episodes of %s\n", n, path);
}

/* data.roundtrip_random: random valid episodes (strings with escapes, control bytes and
 * multi-byte UTF-8) built in memory, checked, written, parsed back equal. */
static char *rand_str(uint64_t seed, uint64_t *ctr, int min_len) {
    static const char *const pieces[] = {"a",  "Z",  "0",    " ",    "\"",   "\\", "/",
                                         "\n", "\t", "\x01", "\x1f", "\x7f", "é",  "€",
                                         "😀",  "e1", "{",    "}",    "[",    ","};
    uint32_t r[4];
    lam_philox(seed, 7, (*ctr)++, r);
    int n = min_len + (int)(r[0] % 12);
    char *s = malloc((size_t)n * 4 + 1);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        lam_philox(seed, 8, (*ctr)++, r);
        const char *pc = pieces[r[0] % (sizeof pieces / sizeof *pieces)];
        memcpy(s + len, pc, strlen(pc));
        len += strlen(pc);
    }
    s[len] = 0;
    return s;
}

static void random_episode(uint64_t seed, uint64_t k, lam_episode *ep) {
    uint64_t ctr = k << 32;
    uint32_t r[4];
    memset(ep, 0, sizeof *ep);
    ep->id = rand_str(seed, &ctr, 1);
    ep->task = rand_str(seed, &ctr, 1);
    ep->app = rand_str(seed, &ctr, 1);
    ep->domain = rand_str(seed, &ctr, 1);
    lam_philox(seed, 1, k, r);
    if (r[0] & 1) ep->template_id = rand_str(seed, &ctr, 0);
    if (r[0] & 2) ep->split = rand_str(seed, &ctr, 0);
    ep->n_steps = 1 + (int)(r[1] % 4);
    ep->steps = calloc((size_t)ep->n_steps, sizeof *ep->steps);
    for (int i = 0; i < ep->n_steps; i++) {
        lam_step *s = &ep->steps[i];
        lam_philox(seed, 2, ctr++, r);
        s->obs.url = rand_str(seed, &ctr, 1);
        if (r[0] & 1) s->obs.title = rand_str(seed, &ctr, 0);
        s->obs.n_elements = (int)(r[1] % 6);
        s->obs.elements =
            s->obs.n_elements ? calloc((size_t)s->obs.n_elements, sizeof(lam_element)) : NULL;
        for (int j = 0; j < s->obs.n_elements; j++) {
            lam_element *e = &s->obs.elements[j];
            lam_philox(seed, 3, ctr++, r);
            char id[16];
            snprintf(id, sizeof id, "e%d", j);
            e->id = strdup(id);
            e->role = (lam_role)(r[0] % LAM_ROLE_COUNT);
            e->name = rand_str(seed, &ctr, 0);
            if (r[1] & 1) e->value = rand_str(seed, &ctr, 0);
            e->checked = e->role == LAM_ROLE_CHECKBOX || e->role == LAM_ROLE_RADIO ||
                                 e->role == LAM_ROLE_SWITCH
                             ? (int)(r[1] >> 1 & 1)
                             : -1;
            e->disabled = (r[1] >> 2 & 7) == 0;
            if (e->role == LAM_ROLE_COMBOBOX) {
                e->n_options = 1 + (int)(r[2] % 3);
                e->options = calloc((size_t)e->n_options, sizeof(char *));
                for (int o = 0; o < e->n_options; o++) e->options[o] = rand_str(seed, &ctr, 0);
            }
            if (j > 0 && (r[3] & 1)) { /* parents point backwards: no cycles */
                snprintf(id, sizeof id, "e%d", (int)(r[3] >> 1) % j);
                e->parent = strdup(id);
            }
        }
        /* an action the observation allows */
        lam_philox(seed, 4, ctr++, r);
        lam_action *a = &s->action;
        int picked = 0;
        for (int tries = 0; tries < 8 && !picked && s->obs.n_elements; tries++) {
            lam_philox(seed, 5, ctr++, r);
            const lam_element *e = &s->obs.elements[r[0] % (uint32_t)s->obs.n_elements];
            lam_action_type t = (lam_action_type)(r[1] % LAM_ACT_COUNT);
            if (e->disabled || !lam_role_allows(e->role, t)) continue;
            a->type = t;
            a->element = strdup(e->id);
            if (t == LAM_ACT_TYPE) a->value = rand_str(seed, &ctr, 0);
            if (t == LAM_ACT_PRESS) a->value = strdup("Enter");
            if (t == LAM_ACT_SCROLL) a->value = strdup(r[2] & 1 ? "up" : "down");
            if (t == LAM_ACT_SELECT) a->value = strdup(e->options[r[2] % (uint32_t)e->n_options]);
            picked = 1;
        }
        if (!picked) {
            int last = i == ep->n_steps - 1;
            switch (r[0] % (last ? 5 : 4)) {
            case 0:
                a->type = LAM_ACT_BACK;
                break;
            case 1:
                a->type = LAM_ACT_GOTO, a->value = rand_str(seed, &ctr, 1);
                break;
            case 2:
                a->type = LAM_ACT_SCROLL, a->value = strdup("down");
                break;
            case 3:
                a->type = LAM_ACT_PRESS, a->value = strdup("Tab");
                break;
            default:
                a->type = LAM_ACT_DONE;
                if (r[1] & 1) a->value = rand_str(seed, &ctr, 0);
            }
        }
    }
}

static void test_roundtrip_random(void) {
    uint64_t seed = 20240611;
    printf("roundtrip_random: seed %llu\n", (unsigned long long)seed);
    for (uint64_t k = 0; k < 300; k++) {
        lam_episode a, b;
        random_episode(seed, k, &a);
        lam_problem items[4];
        lam_problems p;
        lam_problems_init(&p, items, 4);
        int np = lam_episode_check(&a, &p);
        if (np) print_problems("(random episode)", &p);
        EXPECT(np == 0);
        lam_status st;
        lam_error err = {0};
        char *w = write_to_string(&a, &st, &err);
        EXPECT(st == LAM_OK);
        lam_problems_init(&p, items, 4);
        st = lam_episode_parse(w, strlen(w) - 1, &b, &p);
        if (st != LAM_OK) print_problems(w, &p);
        EXPECT(st == LAM_OK);
        if (st == LAM_OK) {
            EXPECT(episode_equal(&a, &b));
            lam_episode_free(&b);
        }
        free(w);
        lam_episode_free(&a);
        if (failures) {
            fprintf(stderr, "roundtrip_random: failed at episode %llu (seed %llu)\n",
                    (unsigned long long)k, (unsigned long long)seed);
            return;
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* data.rules: each rule broken once                                                          */

static void test_rules(void) {
    char b[2048];
    /* the base line is valid */
    lam_problems none;
    lam_problems_init(&none, NULL, 0);
    mk(b, sizeof b, "", BTN, CLICK);
    EXPECT(lam_episode_parse(b, strlen(b), NULL, &none) == LAM_OK);
    EXPECT(none.n == 0);

    /* the line as a whole */
    EXPECT_ONE("", "(line)", "empty line (expected one episode: a JSON object)");
    EXPECT_ONE("  \t ", "(line)", "empty line (expected one episode: a JSON object)");
    EXPECT_ONE("{\"id\":\"x\",", "(line)", "invalid JSON at column 10: *");
    EXPECT_ONE("{\"id\":\"x\",\"id\":\"y\"}", "(line)", "invalid JSON at column *");
    EXPECT_ONE("[1,2]", "(line)", "must be a JSON object (got an array)");
    EXPECT_ONE("\"x\"", "(line)", "must be a JSON object (got a string)");
    EXPECT_ONE("{\"id\":\"a\\u0000b\"}", "(line)", "invalid JSON at column *");
    EXPECT_ONE("{\"id\":\"\xff\"}", "(line)", "invalid JSON at *");

    /* the episode's fields */
    EXPECT_ONE(
        "{\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{\"observation\":{\"url\":"
        "\"u\",\"elements\":[]},\"action\":{\"type\":\"back\"}}]}",
        "id", "missing (required)");
    EXPECT_ONE(
        "{\"id\":7,\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{\"observation\":"
        "{\"url\":\"u\",\"elements\":[]},\"action\":{\"type\":\"back\"}}]}",
        "id", "must be a string (got a number)");
    EXPECT_ONE("{\"id\":\"i\",\"task\":null,\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
               "\"observation\":{\"url\":\"u\",\"elements\":[]},\"action\":{\"type\":\"back\"}}]}",
               "task", "must not be null (required)");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
               "\"observation\":{\"url\":\"u\",\"elements\":[]},\"action\":{\"type\":\"back\"}}]}",
               "task", "must not be empty");
    EXPECT_ONE(mk(b, sizeof b, ",\"colour\":\"red\"", BTN, CLICK), "colour",
               "unknown field (extra data belongs in \"meta\")");
    EXPECT_ONE(mk(b, sizeof b, ",\"a b\\n\":1", BTN, CLICK), "[\"a b\\x0a\"]",
               "unknown field (extra data belongs in \"meta\")");
    EXPECT_ONE(mk(b, sizeof b, ",\"meta\":\"x\"", BTN, CLICK), "meta",
               "must be an object (got a string)");
    EXPECT_ONE(mk(b, sizeof b, ",\"split\":3", BTN, CLICK), "split",
               "must be a string (got a number)");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[]}", "steps",
               "must not be empty (an episode has at least one step)");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\"}", "steps",
               "missing (required)");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":{}}", "steps",
               "must be an array (got an object)");

    /* corrections: a step's target (the action to learn) beside the action taken */
    {
        const char *els = BTN "," TXT;
        mk(b, sizeof b, "", els,
           CLICK ",\"target\":{\"type\":\"type\",\"element\":\"t\",\"value\":\"Bo\"}");
        lam_episode ep;
        lam_problems_init(&none, NULL, 0);
        EXPECT(lam_episode_parse(b, strlen(b), &ep, &none) == LAM_OK && none.n == 0);
        if (none.n == 0) {
            EXPECT(ep.steps[0].has_target && ep.steps[0].target.type == LAM_ACT_TYPE &&
                   !strcmp(ep.steps[0].target.element, "t") &&
                   !strcmp(ep.steps[0].target.value, "Bo") &&
                   ep.steps[0].action.type == LAM_ACT_CLICK);
            /* written and read back the same; the prompt's target is the correction */
            char *w = NULL;
            size_t wn = 0;
            FILE *f = open_memstream(&w, &wn);
            EXPECT(lam_episode_write(f, &ep, NULL) == LAM_OK);
            fclose(f);
            EXPECT(strstr(w, "\"target\":{\"type\":\"type\",\"element\":\"t\",\"value\":\"Bo\"}") !=
                   NULL);
            lam_episode back;
            EXPECT(lam_episode_parse(w, wn, &back, NULL) == LAM_OK && back.steps[0].has_target &&
                   !strcmp(back.steps[0].target.value, "Bo"));
            lam_action scratch[1];
            lam_prompt_input in = lam_prompt_step_input(&back, 0, scratch, NULL);
            EXPECT(in.target->type == LAM_ACT_TYPE && !strcmp(in.target->element, "t"));
            lam_episode_free(&back);
            free(w);
            lam_episode_free(&ep);
        }
        EXPECT_ONE(
            mk(b, sizeof b, "", els, CLICK ",\"target\":{\"type\":\"click\",\"element\":\"zz\"}"),
            "steps[0].target.element", "\"zz\" is not in the observation");
        EXPECT_ONE(mk(b, sizeof b, "", els, CLICK ",\"target\":{\"type\":\"jump\"}"),
                   "steps[0].target.type", "unknown action type \"jump\" *");
        EXPECT_ONE(mk(b, sizeof b, "", els, CLICK ",\"target\":3"), "steps[0].target",
                   "must be an object (got a number)");
        EXPECT_ONE(mk(b, sizeof b, "", els,
                      CLICK ",\"target\":{\"type\":\"type\",\"element\":\"e1\",\"value\":\"x\"}"),
                   "steps[0].target.element", "\"e1\" (button) does not allow type *");
        /* `done` as the target of a step that is not the last: stopping was right there */
        const char *two =
            "{\"id\":\"t2\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
            "\"observation\":{\"url\":\"u\",\"elements\":[" BTN "]},\"action\":" CLICK
            ",\"target\":{\"type\":\"done\"}},{\"observation\":{\"url\":\"u\",\"elements\":[]},"
            "\"action\":{\"type\":\"done\"}}]}";
        lam_problems_init(&none, NULL, 0);
        EXPECT(lam_episode_parse(two, strlen(two), NULL, &none) == LAM_OK && none.n == 0);
    }

    /* steps and observations */
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[3]}",
               "steps[0]", "must be an object (got a number)");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{\"action\":"
               "{\"type\":\"click\",\"element\":\"e1\"}}]}",
               "steps[0].observation", "missing (required)");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
               "\"observation\":{\"url\":\"u\",\"elements\":[]},\"reward\":1,\"action\":{\"type\":"
               "\"back\"}}]}",
               "steps[0].reward", "unknown field (extra data belongs in \"meta\")");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
               "\"observation\":{\"elements\":[]},\"action\":{\"type\":\"back\"}}]}",
               "steps[0].observation.url", "missing (required)");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
               "\"observation\":{\"url\":\"\",\"elements\":[]},\"action\":{\"type\":\"back\"}}]}",
               "steps[0].observation.url", "must not be empty");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
               "\"observation\":{\"url\":\"u\"},\"action\":{\"type\":\"click\",\"element\":\"e1\"}}"
               "]}",
               "steps[0].observation.elements", "missing (required)");

    /* elements */
    EXPECT_ONE(mk(b, sizeof b, "", "\"e1\"", CLICK), "steps[0].observation.elements[0]",
               "must be an object (got a string)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN "," BTN, CLICK), "steps[0].observation.elements[1].id",
               "duplicate id \"e1\" (also elements[0])");
    EXPECT_ONE(mk(b, sizeof b, "", BTN ",{\"id\":\"\",\"role\":\"text\",\"name\":\"\"}", CLICK),
               "steps[0].observation.elements[1].id", "must not be empty");
    EXPECT_ONE(mk(b, sizeof b, "", "{\"role\":\"button\",\"name\":\"OK\"}", CLICK),
               "steps[0].observation.elements[0].id", "missing (required)");
    EXPECT_ONE(mk(b, sizeof b, "", "{\"id\":\"e1\",\"role\":\"widget\",\"name\":\"OK\"}", CLICK),
               "steps[0].observation.elements[0].role",
               "unknown role \"widget\" (known: button, link, textbox, searchbox, checkbox, radio, "
               "switch, combobox, option, listitem, list, heading, tab, menuitem, dialog, text, "
               "img)");
    EXPECT_ONE(mk(b, sizeof b, "", "{\"id\":\"e1\",\"name\":\"OK\"}", CLICK),
               "steps[0].observation.elements[0].role", "missing (required)");
    EXPECT_ONE(mk(b, sizeof b, "", "{\"id\":\"e1\",\"role\":\"button\"}", CLICK),
               "steps[0].observation.elements[0].name", "missing (required)");
    EXPECT_ONE(mk(b, sizeof b, "",
                  "{\"id\":\"e1\",\"role\":\"button\",\"name\":\"OK\",\"colour\":1}", CLICK),
               "steps[0].observation.elements[0].colour",
               "unknown field (extra data belongs in \"meta\")");
    EXPECT_ONE(
        mk(b, sizeof b, "", "{\"id\":\"e1\",\"role\":\"checkbox\",\"name\":\"Gift\"}", CLICK),
        "steps[0].observation.elements[0].checked", "missing (required for role checkbox)");
    EXPECT_ONE(mk(b, sizeof b, "",
                  "{\"id\":\"e1\",\"role\":\"button\",\"name\":\"OK\",\"checked\":true}", CLICK),
               "steps[0].observation.elements[0].checked",
               "only checkbox, radio and switch elements have checked (role is button)");
    EXPECT_ONE(mk(b, sizeof b, "",
                  "{\"id\":\"e1\",\"role\":\"switch\",\"name\":\"On\",\"checked\":\"yes\"}", CLICK),
               "steps[0].observation.elements[0].checked", "must be true or false (got a string)");
    EXPECT_ONE(mk(b, sizeof b, "",
                  "{\"id\":\"e1\",\"role\":\"button\",\"name\":\"OK\",\"disabled\":0}", CLICK),
               "steps[0].observation.elements[0].disabled", "must be true or false (got a number)");
    EXPECT_ONE(mk(b, sizeof b, "",
                  "{\"id\":\"e1\",\"role\":\"link\",\"name\":\"OK\",\"options\":[\"a\"]}", CLICK),
               "steps[0].observation.elements[0].options",
               "only combobox elements have options (role is link)");
    EXPECT_ONE(
        mk(b, sizeof b, "", BTN ",{\"id\":\"c\",\"role\":\"combobox\",\"name\":\"S\"}", CLICK),
        "steps[0].observation.elements[1].options", "a combobox needs a non-empty list of options");
    EXPECT_ONE(mk(b, sizeof b, "",
                  BTN ",{\"id\":\"c\",\"role\":\"combobox\",\"name\":\"S\",\"options\":[]}", CLICK),
               "steps[0].observation.elements[1].options",
               "a combobox needs a non-empty list of options");
    EXPECT_ONE(mk(b, sizeof b, "",
                  "{\"id\":\"c\",\"role\":\"combobox\",\"name\":\"S\",\"options\":[\"a\",2]}",
                  "{\"type\":\"select\",\"element\":\"c\",\"value\":\"zz\"}"),
               "steps[0].observation.elements[0].options[1]", "must be a string (got a number)");
    EXPECT_ONE(mk(b, sizeof b, "",
                  "{\"id\":\"c\",\"role\":\"combobox\",\"name\":\"S\",\"options\":\"a\"}",
                  "{\"type\":\"select\",\"element\":\"c\",\"value\":\"zz\"}"),
               "steps[0].observation.elements[0].options", "must be an array (got a string)");
    EXPECT_ONE(mk(b, sizeof b, "",
                  BTN ",{\"id\":\"x\",\"role\":\"text\",\"name\":\"\",\"parent\":\"zz\"}", CLICK),
               "steps[0].observation.elements[1].parent",
               "\"zz\" is not an element of this observation");
    EXPECT_ONE(mk(b, sizeof b, "",
                  BTN ",{\"id\":\"x\",\"role\":\"text\",\"name\":\"\",\"parent\":\"x\"}", CLICK),
               "steps[0].observation.elements[1].parent", "an element cannot be its own parent");
    EXPECT_ONE(mk(b, sizeof b, "",
                  "{\"id\":\"e1\",\"role\":\"list\",\"name\":\"L\",\"parent\":\"e2\"},"
                  "{\"id\":\"e2\",\"role\":\"dialog\",\"name\":\"D\",\"parent\":\"e3\"},"
                  "{\"id\":\"e3\",\"role\":\"dialog\",\"name\":\"D\",\"parent\":\"e1\"}",
                  "{\"type\":\"hover\",\"element\":\"e1\"}"),
               "steps[0].observation.elements[2].parent",
               "\"e1\" leads back to \"e3\": the parents form a cycle");

    /* actions */
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
               "\"observation\":{\"url\":\"u\",\"elements\":[]}}]}",
               "steps[0].action", "missing (required)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "[]"), "steps[0].action",
               "must be an object (got an array)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"element\":\"e1\"}"), "steps[0].action.type",
               "missing (required)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"jump\",\"element\":\"e1\"}"),
               "steps[0].action.type",
               "unknown action type \"jump\" (known: click, type, select, hover, press, scroll, "
               "goto, back, done)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"click\",\"element\":\"e1\",\"why\":\"x\"}"),
               "steps[0].action.why", "unknown field (extra data belongs in \"meta\")");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"click\",\"element\":\"e9\"}"),
               "steps[0].action.element", "\"e9\" is not in the observation");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"click\",\"element\":\"e\\n\\\"9\"}"),
               "steps[0].action.element", "\"e\\x0a\\\"9\" is not in the observation");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"click\",\"element\":1}"),
               "steps[0].action.element", "must be a string (got a number)");
    EXPECT_ONE(mk(b, sizeof b, "",
                  "{\"id\":\"e1\",\"role\":\"button\",\"name\":\"OK\",\"disabled\":true}", CLICK),
               "steps[0].action.element", "\"e1\" is disabled");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"type\",\"element\":\"e1\",\"value\":\"x\"}"),
               "steps[0].action.element",
               "\"e1\" (button) does not allow type (it allows click, hover)");
    EXPECT_ONE(
        mk(b, sizeof b, "", BTN, "{\"type\":\"press\",\"element\":\"e1\",\"value\":\"Enter\"}"),
        "steps[0].action.element", "\"e1\" (button) does not allow press (it allows click, hover)");
    EXPECT_ONE(
        mk(b, sizeof b, "", BTN, "{\"type\":\"scroll\",\"element\":\"e1\",\"value\":\"up\"}"),
        "steps[0].action.element",
        "\"e1\" (button) does not allow scroll (it allows click, hover)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"click\"}"), "steps[0].action.element",
               "missing (click needs an element)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"hover\",\"element\":null}"),
               "steps[0].action.element", "missing (hover needs an element)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"goto\",\"element\":\"e1\",\"value\":\"u\"}"),
               "steps[0].action.element", "goto takes no element");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"done\",\"element\":\"e1\"}"),
               "steps[0].action.element", "done takes no element");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"click\",\"element\":\"e1\",\"value\":\"x\"}"),
               "steps[0].action.value", "click takes no value");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"back\",\"value\":\"x\"}"),
               "steps[0].action.value", "back takes no value");
    EXPECT_ONE(mk(b, sizeof b, "", TXT, "{\"type\":\"type\",\"element\":\"t\"}"),
               "steps[0].action.value", "missing (type needs a value)");
    EXPECT_ONE(mk(b, sizeof b, "", TXT, "{\"type\":\"type\",\"element\":\"t\",\"value\":[]}"),
               "steps[0].action.value", "must be a string (got an array)");
    EXPECT_ONE(mk(b, sizeof b, "", CMB, "{\"type\":\"select\",\"element\":\"c\",\"value\":\"XL\"}"),
               "steps[0].action.value", "\"XL\" is not an option of \"c\" (options: \"S\", \"M\")");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"scroll\",\"value\":\"left\"}"),
               "steps[0].action.value", "must be \"up\" or \"down\" (got \"left\")");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"press\",\"value\":\"\"}"),
               "steps[0].action.value", "must not be empty (press needs a key name)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"goto\",\"value\":\"\"}"),
               "steps[0].action.value", "must not be empty (goto needs a URL)");
    EXPECT_ONE(mk(b, sizeof b, "", BTN, "{\"type\":\"goto\"}"), "steps[0].action.value",
               "missing (goto needs a value)");
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
               "\"observation\":{\"url\":\"u\",\"elements\":[]},\"action\":{\"type\":\"done\"}},{"
               "\"observation\":{\"url\":\"u\",\"elements\":[]},\"action\":{\"type\":\"back\"}}]}",
               "steps[0].action.type", "done may only be the last step's action");
    /* an action's element must be in its own step's observation, not an earlier one */
    EXPECT_ONE("{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":[{"
               "\"observation\":{\"url\":\"u\",\"elements\":[" BTN "]},\"action\":" CLICK "},{"
               "\"observation\":{\"url\":\"u\",\"elements\":[]},\"action\":" CLICK "}]}",
               "steps[1].action.element", "\"e1\" is not in the observation");
    /* long strings are cut in messages */
    EXPECT_ONE(mk(b, sizeof b, "", BTN,
                  "{\"type\":\"click\",\"element\":\"0123456789012345678901234567890123456789"
                  "0123456789\"}"),
               "steps[0].action.element",
               "\"012345678901234567890123456789012345678901234567...\" is not in the observation");

    /* allowed: meta everywhere, nulls for optional fields, done with an answer, press and
     * scroll without element, type with an empty value */
    const char *ok[] = {
        "{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"template\":null,\"meta\":{"
        "\"k\":[1]},\"steps\":[{\"meta\":{},\"observation\":{\"meta\":{},\"url\":\"u\",\"title\":"
        "null,\"elements\":[{\"id\":\"t\",\"role\":\"textbox\",\"name\":\"\",\"meta\":{\"x\":1},"
        "\"value\":null,\"parent\":null,\"disabled\":false}]},\"action\":{\"type\":\"type\","
        "\"element\":\"t\",\"value\":\"\",\"meta\":{}}},{\"observation\":{\"url\":\"u\","
        "\"elements\":[]},\"action\":{\"type\":\"press\",\"value\":\"Enter\"}},{\"observation\":{"
        "\"url\":\"u\",\"elements\":[]},\"action\":{\"type\":\"scroll\",\"value\":\"down\"}},{"
        "\"observation\":{\"url\":\"u\",\"elements\":[]},\"action\":{\"type\":\"done\",\"value\":"
        "\"42\",\"element\":null}}]}",
    };
    for (size_t k = 0; k < sizeof ok / sizeof *ok; k++) {
        lam_problem items[8];
        lam_problems p;
        lam_problems_init(&p, items, 8);
        lam_episode ep;
        lam_status st = lam_episode_parse(ok[k], strlen(ok[k]), &ep, &p);
        if (st != LAM_OK) print_problems(ok[k], &p);
        EXPECT(st == LAM_OK);
        if (st == LAM_OK) {
            EXPECT(ep.template_id == NULL && ep.steps[0].obs.title == NULL);
            EXPECT(ep.steps[0].action.value && !ep.steps[0].action.value[0]);
            EXPECT(!strcmp(ep.steps[3].action.value, "42"));
            lam_episode_free(&ep);
        }
    }
}

/* data.multi_problem: every problem of a line, in order, with the exact count past the cap */
static void test_multi_problem(void) {
    const char *line =
        "{\"id\":\"bad-4\",\"task\":\"\",\"app\":\"mail\",\"domain\":\"email\",\"steps\":[{"
        "\"observation\":{\"url\":\"https://mail.example/\",\"elements\":[{\"id\":\"h\",\"role\":"
        "\"heading\",\"name\":\"Inbox\"},{\"id\":\"x\",\"role\":\"widget\",\"name\":\"?\","
        "\"parent\":\"nope\"}]},\"action\":{\"type\":\"done\"}},{\"observation\":{\"url\":"
        "\"https://mail.example/\",\"elements\":[{\"id\":\"h\",\"role\":\"heading\",\"name\":"
        "\"Inbox\"}]},\"action\":{\"type\":\"click\",\"element\":\"h\",\"value\":\"now\"}}]}";
    static const char *const want[][2] = {
        {"task", "must not be empty"},
        {"steps[0].observation.elements[1].role", "unknown role \"widget\" *"},
        {"steps[0].observation.elements[1].parent",
         "\"nope\" is not an element of this observation"},
        {"steps[0].action.type", "done may only be the last step's action"},
        {"steps[1].action.element", "\"h\" (heading) does not allow click (it allows hover)"},
        {"steps[1].action.value", "click takes no value"},
    };
    int n_want = (int)(sizeof want / sizeof *want);
    lam_problem items[16];
    lam_problems p;
    lam_problems_init(&p, items, 16);
    EXPECT(lam_episode_parse(line, strlen(line), NULL, &p) == LAM_ERR_INVALID);
    EXPECT(p.n == n_want);
    for (int k = 0; k < n_want && k < p.n; k++) {
        size_t ml = strlen(want[k][1]);
        int prefix = want[k][1][ml - 1] == '*';
        int ok = !strcmp(items[k].path, want[k][0]) &&
                 (prefix ? !strncmp(items[k].msg, want[k][1], ml - 1)
                         : !strcmp(items[k].msg, want[k][1]));
        if (!ok)
            fprintf(stderr, "problem %d: got %s: %s, want %s: %s\n", k, items[k].path, items[k].msg,
                    want[k][0], want[k][1]);
        EXPECT(ok);
    }
    /* a cap of 2 keeps 2 texts but the exact count */
    lam_problems_init(&p, items, 2);
    memset(items, 0, sizeof items);
    EXPECT(lam_episode_parse(line, strlen(line), NULL, &p) == LAM_ERR_INVALID);
    EXPECT(p.n == n_want && p.cap == 2 && !strcmp(items[1].path, want[1][0]) &&
           items[2].path[0] == 0);
    /* no storage at all: counts only */
    lam_problems_init(&p, NULL, 0);
    EXPECT(lam_episode_parse(line, strlen(line), NULL, &p) == LAM_ERR_INVALID && p.n == n_want);
    EXPECT(lam_episode_parse(line, strlen(line), NULL, NULL) == LAM_ERR_INVALID);
    /* many problems: 300 bad elements, all counted */
    size_t cap = 64 * 300 + 512, len = 0;
    char *big = malloc(cap);
    len += (size_t)snprintf(big + len, cap - len,
                            "{\"id\":\"i\",\"task\":\"x\",\"app\":\"a\",\"domain\":\"d\",\"steps\":"
                            "[{\"observation\":{\"url\":\"u\",\"elements\":[");
    for (int j = 0; j < 300; j++)
        len +=
            (size_t)snprintf(big + len, cap - len, "%s{\"id\":\"d\",\"role\":\"x\"}", j ? "," : "");
    snprintf(big + len, cap - len, "]},\"action\":{\"type\":\"back\"}}]}");
    lam_problems_init(&p, items, 16);
    EXPECT(lam_episode_parse(big, strlen(big), NULL, &p) == LAM_ERR_INVALID);
    EXPECT(p.n == 300 * 3 - 1); /* unknown role and missing name for each, 299 duplicates */
    free(big);
}

/* ---------------------------------------------------------------------------------------- */
/* data.check_memory: lam_episode_check, lam_episode_write's refusal, copy and find           */

static lam_episode sample_episode(void) {
    lam_episode ep;
    memset(&ep, 0, sizeof ep);
    ep.id = strdup("sim-1");
    ep.task = strdup("Check the box");
    ep.app = strdup("forms");
    ep.domain = strdup("misc");
    ep.n_steps = 1;
    ep.steps = calloc(1, sizeof *ep.steps);
    lam_observation *o = &ep.steps[0].obs;
    o->url = strdup("sim://forms/1");
    o->n_elements = 3;
    o->elements = calloc(3, sizeof *o->elements);
    const char *ids[] = {"d", "c", "s"};
    const lam_role roles[] = {LAM_ROLE_DIALOG, LAM_ROLE_CHECKBOX, LAM_ROLE_COMBOBOX};
    for (int j = 0; j < 3; j++) {
        o->elements[j].id = strdup(ids[j]);
        o->elements[j].role = roles[j];
        o->elements[j].name = strdup("n");
        o->elements[j].checked = -1;
    }
    o->elements[1].checked = 0;
    o->elements[1].parent = strdup("d");
    o->elements[2].n_options = 2;
    o->elements[2].options = calloc(2, sizeof(char *));
    o->elements[2].options[0] = strdup("a");
    o->elements[2].options[1] = strdup("b");
    ep.steps[0].action.type = LAM_ACT_CLICK;
    ep.steps[0].action.element = strdup("c");
    return ep;
}

static void expect_check(int src_line, const lam_episode *ep, const char *path, const char *msg) {
    lam_problem items[8];
    lam_problems p;
    lam_problems_init(&p, items, 8);
    int n = lam_episode_check(ep, &p);
    if (!(n == 1 && !strcmp(items[0].path, path) && !strcmp(items[0].msg, msg))) {
        fprintf(stderr, "%s:%d: expected one problem %s: %s, got %d\n", __FILE__, src_line, path,
                msg, n);
        print_problems("(in memory)", &p);
        failures++;
    }
    lam_error err = {0};
    lam_status st;
    char *w = write_to_string(ep, &st, &err);
    EXPECT(st == LAM_ERR_INVALID && strstr(err.msg, path) && w && w[0] == 0);
    free(w);
}
#define EXPECT_CHECK(ep, path, msg) expect_check(__LINE__, ep, path, msg)

static void test_check_memory(void) {
    lam_episode ep = sample_episode();
    EXPECT(lam_episode_check(&ep, NULL) == 0);
    EXPECT(lam_episode_check(NULL, NULL) == 1);
    lam_element *el = ep.steps[0].obs.elements;
    lam_action *a = &ep.steps[0].action;

    el[0].role = (lam_role)99;
    EXPECT_CHECK(&ep, "steps[0].observation.elements[0].role", "role out of range (99)");
    el[0].role = LAM_ROLE_DIALOG;
    el[1].checked = 2;
    EXPECT_CHECK(&ep, "steps[0].observation.elements[1].checked", "must be 0 or 1 (got 2)");
    el[1].checked = -1;
    EXPECT_CHECK(&ep, "steps[0].observation.elements[1].checked",
                 "missing (required for role checkbox)");
    el[1].checked = 1;
    el[0].checked = 0;
    EXPECT_CHECK(&ep, "steps[0].observation.elements[0].checked",
                 "only checkbox, radio and switch elements have checked (role is dialog)");
    el[0].checked = -1;
    char *name = el[0].name;
    el[0].name = NULL;
    EXPECT_CHECK(&ep, "steps[0].observation.elements[0].name", "missing (required)");
    el[0].name = name;
    char *task = ep.task;
    ep.task = "bad \xc3\x28 utf8";
    EXPECT_CHECK(&ep, "task", "is not valid UTF-8");
    ep.task = "\xed\xa0\x80"; /* a UTF-16 surrogate */
    EXPECT_CHECK(&ep, "task", "is not valid UTF-8");
    ep.task = task;
    el[2].n_options = -3;
    EXPECT_CHECK(&ep, "steps[0].observation.elements[2].options", "invalid count -3");
    el[2].n_options = 2;
    el[0].disabled = 5;
    EXPECT_CHECK(&ep, "steps[0].observation.elements[0].disabled", "must be 0 or 1 (got 5)");
    el[0].disabled = 0;
    a->type = (lam_action_type)42;
    EXPECT_CHECK(&ep, "steps[0].action.type", "type out of range (42)");
    a->type = LAM_ACT_SELECT;
    a->value = "a";
    EXPECT_CHECK(&ep, "steps[0].action.element",
                 "\"c\" (checkbox) does not allow select (it allows click, hover)");
    a->type = LAM_ACT_CLICK;
    a->value = NULL;
    ep.steps[0].obs.n_elements = -1;
    EXPECT_CHECK(&ep, "steps[0].observation.elements", "invalid count -1");
    ep.steps[0].obs.n_elements = 3;
    EXPECT(lam_episode_check(&ep, NULL) == 0);

    /* write -> parse gives it back */
    lam_status st;
    lam_error err = {0};
    char *w = write_to_string(&ep, &st, &err);
    EXPECT(st == LAM_OK);
    EXPECT(!strcmp(w,
                   "{\"id\":\"sim-1\",\"task\":\"Check the box\",\"app\":\"forms\",\"domain\":"
                   "\"misc\",\"steps\":[{\"observation\":{\"url\":\"sim://forms/1\",\"elements\":"
                   "[{\"id\":\"d\",\"role\":\"dialog\",\"name\":\"n\"},{\"id\":\"c\",\"role\":"
                   "\"checkbox\",\"name\":\"n\",\"checked\":true,\"parent\":\"d\"},{\"id\":\"s\","
                   "\"role\":\"combobox\",\"name\":\"n\",\"options\":[\"a\",\"b\"]}]},"
                   "\"action\":{\"type\":\"click\",\"element\":\"c\"}}]}\n"));
    lam_episode back;
    EXPECT(lam_episode_parse(w, strlen(w), &back, NULL) == LAM_OK);
    EXPECT(episode_equal(&ep, &back));
    free(w);

    /* deep copy survives the original */
    lam_observation copy;
    EXPECT(lam_observation_copy(&copy, &back.steps[0].obs, &err) == LAM_OK);
    lam_episode_free(&back);
    EXPECT(back.steps == NULL && back.id == NULL);
    EXPECT(obs_equal(&copy, &ep.steps[0].obs));
    const lam_element *f = lam_observation_find(&copy, "s");
    EXPECT(f && f->role == LAM_ROLE_COMBOBOX && f->n_options == 2 && !strcmp(f->options[1], "b"));
    EXPECT(lam_observation_find(&copy, "zz") == NULL);
    EXPECT(lam_observation_find(&copy, NULL) == NULL);
    lam_observation_free(&copy);
    EXPECT(copy.elements == NULL && copy.n_elements == 0);
    lam_observation_free(&copy); /* twice is harmless */
    lam_episode_free(&ep);
    lam_episode_free(&ep);
}

/* ---------------------------------------------------------------------------------------- */
/* data.reader: CRLF, empty lines, NUL bytes, final line without newline, over-long lines,    */
/* constant memory                                                                            */

static char *temp_file(const char *tag, const char *data, size_t n) {
    char *path = malloc(256);
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, 256, "%s/lam_test_episode_%s_%ld.jsonl", dir, tag, (long)getpid());
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    return path;
}

static void test_reader(void) {
    static const char data[] = "{\"a\":1}\r\n\n   \nab\0cd\n\r\n{\"last\":true}";
    char *path = temp_file("lines", data, sizeof data - 1);
    lam_jsonl_reader r;
    lam_error err = {0};
    EXPECT(lam_jsonl_open(&r, path, &err) == LAM_OK);
    const char *line;
    size_t len;
    struct {
        const char *text;
        size_t len;
    } want[] = {{"{\"a\":1}", 7}, {"", 0}, {"   ", 3},
                {"ab\0cd", 5},    {"", 0}, {"{\"last\":true}", 13}};
    for (int k = 0; k < 6; k++) {
        EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK);
        EXPECT(line && len == want[k].len && !memcmp(line, want[k].text, len) && line[len] == 0);
        EXPECT(r.line_no == k + 1);
    }
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && line == NULL);
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && line == NULL);
    lam_jsonl_close(&r);
    /* the empty lines are problems, never skipped */
    lam_problem items[2];
    lam_problems p;
    lam_problems_init(&p, items, 2);
    EXPECT(lam_episode_parse("", 0, NULL, &p) == LAM_ERR_INVALID && p.n == 1);
    EXPECT(lam_episode_parse("ab\0cd", 5, NULL, &p) == LAM_ERR_INVALID && p.n == 2);
    EXPECT(!strncmp(items[1].msg, "invalid JSON", 12));
    remove(path);
    free(path);

    /* an empty file has no lines; a file of one newline has one empty line */
    path = temp_file("empty", "", 0);
    EXPECT(lam_jsonl_open(&r, path, &err) == LAM_OK);
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && line == NULL && r.line_no == 0);
    lam_jsonl_close(&r);
    remove(path);
    free(path);
    path = temp_file("nl", "\n", 1);
    EXPECT(lam_jsonl_open(&r, path, &err) == LAM_OK);
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && line && len == 0);
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && line == NULL);
    lam_jsonl_close(&r);
    remove(path);
    free(path);

    EXPECT(lam_jsonl_open(&r, "/nonexistent/x.jsonl", &err) == LAM_ERR_IO);
    EXPECT(strstr(err.msg, "/nonexistent/x.jsonl: cannot open") != NULL);
}

static void test_long_line(void) {
    /* cap 100: 100 bytes fit, with CRLF too; 101 and 10000 do not, and the reader goes on */
    size_t cap = 20000, n = 0;
    char *data = malloc(cap);
    memset(data + n, 'a', 100), n += 100, data[n++] = '\n';
    memset(data + n, 'b', 100), n += 100, data[n++] = '\r', data[n++] = '\n';
    memset(data + n, 'c', 101), n += 101, data[n++] = '\n';
    memset(data + n, 'd', 10000), n += 10000, data[n++] = '\n';
    memcpy(data + n, "ok\n", 3), n += 3;
    memset(data + n, 'e', 150), n += 150; /* over the cap, no newline */
    char *path = temp_file("long", data, n);
    lam_jsonl_reader r;
    lam_error err = {0};
    EXPECT(lam_jsonl_open(&r, path, &err) == LAM_OK);
    r.max_line = 100;
    const char *line;
    size_t len;
    char want[512];
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && len == 100 && line[0] == 'a');
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && len == 100 && line[0] == 'b');
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_ERR_INVALID && line == NULL);
    snprintf(want, sizeof want, "%s:3: line is longer than 100 bytes (the limit); skipped", path);
    EXPECT(!strcmp(err.msg, want));
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_ERR_INVALID && r.line_no == 4);
    snprintf(want, sizeof want, "%s:4: line is longer", path);
    EXPECT(!strncmp(err.msg, want, strlen(want)));
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && line && !strcmp(line, "ok"));
    EXPECT(r.line_no == 5);
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_ERR_INVALID && r.line_no == 6);
    EXPECT(lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && line == NULL);
    EXPECT(r.cap <= 102); /* the buffer never grew past the cap */
    lam_jsonl_close(&r);
    remove(path);
    free(path);
    free(data);
}

/* Many episodes, streamed: the buffer stays the size of the longest line. */
static void test_streaming(const char *good) {
    FILE *g = fopen(good, "rb");
    if (!g) {
        fprintf(stderr, "cannot open %s\n", good);
        failures++;
        return;
    }
    static char sample[1 << 16];
    size_t n = fread(sample, 1, sizeof sample - 1, g);
    fclose(g);
    sample[n] = 0;
    char *nl = strchr(sample, '\n');
    size_t first = nl ? (size_t)(nl - sample) : n;
    const int copies = 4000;
    char *path = malloc(256);
    snprintf(path, 256, "%s/lam_test_episode_stream_%ld.jsonl",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    FILE *f = fopen(path, "wb");
    for (int k = 0; k < copies; k++) {
        fwrite(sample, 1, first, f);
        fputc('\n', f);
    }
    fclose(f);
    lam_jsonl_reader r;
    lam_error err = {0};
    EXPECT(lam_jsonl_open(&r, path, &err) == LAM_OK);
    const char *line;
    size_t len;
    int valid = 0;
    while (lam_jsonl_next(&r, &line, &len, &err) == LAM_OK && line)
        valid += lam_episode_parse(line, len, NULL, NULL) == LAM_OK;
    EXPECT(valid == copies && r.line_no == copies);
    EXPECT(r.cap <= 2 * (first + 2) && r.cap >= first + 1);
    printf("streaming: %d episodes of %zu bytes, reader buffer %zu bytes\n", valid, first, r.cap);
    lam_jsonl_close(&r);
    remove(path);
    free(path);
}

/* ---------------------------------------------------------------------------------------- */
/* data.tables: lam_role_allows and the element/value rules against docs/formats.md          */

static void test_tables(const char *doc) {
    for (int a = 0; a < LAM_ACT_COUNT; a++)
        EXPECT(lam_action_parse(lam_action_name((lam_action_type)a)) == a);
    for (int r = 0; r < LAM_ROLE_COUNT; r++)
        EXPECT(lam_role_parse(lam_role_name((lam_role)r)) == r);
    EXPECT(lam_action_parse("Click") == -1 && lam_action_parse(NULL) == -1);
    EXPECT(lam_role_parse("widget") == -1);
    EXPECT(!lam_role_allows(LAM_ROLE_COUNT, LAM_ACT_CLICK) &&
           !lam_role_allows(LAM_ROLE_BUTTON, LAM_ACT_COUNT));

    FILE *f = fopen(doc, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", doc);
        failures++;
        return;
    }
    char line[1024];
    int cols[8], n_cols = 0, roles_seen = 0, actions_seen = 0;
    int in_roles = 0, in_actions = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "| role | click", 14)) { /* the roles table's header */
            in_roles = 1;
            n_cols = 0;
            char *save, *tok = strtok_r(line + 1, "|\n", &save);
            for (tok = strtok_r(NULL, "|\n", &save); tok && n_cols < 8;
                 tok = strtok_r(NULL, "|\n", &save)) {
                char name[32];
                if (sscanf(tok, " %31s", name) == 1) cols[n_cols++] = lam_action_parse(name);
            }
            continue;
        }
        if (!strncmp(line, "| type | element | value |", 26)) { /* the action types table */
            in_actions = 1;
            continue;
        }
        if (line[0] != '|') {
            in_roles = in_actions = 0;
            continue;
        }
        char first[64];
        if (sscanf(line, "| %63s", first) != 1) continue;
        if (in_roles && lam_role_parse(first) >= 0) {
            lam_role r = (lam_role)lam_role_parse(first);
            char *save, *tok = strtok_r(line + 1, "|\n", &save);
            int allowed = 0;
            for (int c = 0; c < n_cols; c++) {
                tok = strtok_r(NULL, "|\n", &save);
                char cell[16] = "";
                if (tok) sscanf(tok, " %15s", cell);
                int yes = !strcmp(cell, "yes");
                EXPECT(yes || !strcmp(cell, "no"));
                if (yes != lam_role_allows(r, (lam_action_type)cols[c]))
                    fprintf(stderr, "docs say %s %s %s, lam_role_allows says %d\n", first,
                            yes ? "allows" : "does not allow", lam_action_name(cols[c]),
                            lam_role_allows(r, (lam_action_type)cols[c]));
                EXPECT(yes == lam_role_allows(r, (lam_action_type)cols[c]));
                allowed |= yes << cols[c];
            }
            /* no other action is allowed on any role */
            for (int a = 0; a < LAM_ACT_COUNT; a++)
                if (!(allowed >> a & 1)) EXPECT(!lam_role_allows(r, (lam_action_type)a));
            roles_seen++;
        } else if (in_actions && first[0] == '`') { /* | `click` | needs | takes no | */
            char name[32];
            if (sscanf(first, "`%31[a-z]`", name) != 1 || lam_action_parse(name) < 0) continue;
            lam_action_type a = (lam_action_type)lam_action_parse(name);
            char *save;
            strtok_r(line + 1, "|\n", &save);
            char *el = strtok_r(NULL, "|\n", &save), *val = strtok_r(NULL, "|\n", &save);
            if (!el || !val) continue;
            while (*el == ' ') el++;
            while (*val == ' ') val++;
            int er = !strncmp(el, "needs", 5) ? 1 : !strncmp(el, "takes no", 8) ? 0 : -1;
            int vr = !strncmp(val, "needs", 5) ? 1 : !strncmp(val, "takes no", 8) ? 0 : -1;
            EXPECT(!strncmp(el, "may take", 8) || er != -1);
            EXPECT(!strncmp(val, "may take", 8) || vr != -1);
            EXPECT(er == lam_action_element_rule(a));
            EXPECT(vr == lam_action_value_rule(a));
            actions_seen++;
        }
    }
    fclose(f);
    EXPECT(roles_seen == LAM_ROLE_COUNT);
    EXPECT(actions_seen == LAM_ACT_COUNT);
    printf("tables: %d roles and %d actions agree with %s\n", roles_seen, actions_seen, doc);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_episode NAME [ARGS]\n");
        return 2;
    }
    const char *t = argv[1];
    if (!strcmp(t, "validate")) return lam_data_validate_main(argc - 2, argv + 2);
    if (!strcmp(t, "roundtrip") && argc > 2)
        test_roundtrip(argv[2]);
    else if (!strcmp(t, "roundtrip_random"))
        test_roundtrip_random();
    else if (!strcmp(t, "rules"))
        test_rules();
    else if (!strcmp(t, "multi_problem"))
        test_multi_problem();
    else if (!strcmp(t, "check_memory"))
        test_check_memory();
    else if (!strcmp(t, "reader"))
        test_reader();
    else if (!strcmp(t, "long_line"))
        test_long_line();
    else if (!strcmp(t, "streaming") && argc > 2)
        test_streaming(argv[2]);
    else if (!strcmp(t, "tables") && argc > 2)
        test_tables(argv[2]);
    else {
        fprintf(stderr, "unknown test '%s'\n", t);
        return 2;
    }
    if (failures) fprintf(stderr, "%s: %d failures\n", t, failures);
    return failures ? 1 : 0;
}
