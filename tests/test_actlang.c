/* test_actlang.c - the action language (actlang.h). One behaviour per mode, run as ctest
 * actlang.<mode>:
 *   roundtrip_random  thousands of random action lists (values with quotes, backslashes,
 *                     newlines, ";", "<end>", UTF-8 and stray bytes): parse(print(a)) == a,
 *                     print(parse(s)) == s, the same text with loose spacing parses to a,
 *                     every proper prefix fails exactly at its end (seeded, the seed printed)
 *   roundtrip_sim     every action of 1000 simulator episodes: round trips, valid against
 *                     its observation, JSON round trip with the element's role and name
 *   parse_errors      malformed texts: the exact byte offset and what was expected
 *   check             validation against an observation: each rule and its message
 *   json              the JSON mapping: exact text, round trips, errors naming the field
 *   print_errors      unprintable actions and small buffers
 *   labels            element labels (`click "Search" 7`): the label rule's exact lengths,
 *                     the exact labelled text, and for thousands of random lists with random
 *                     names: the labelled text parses to the same actions, every proper prefix
 *                     fails exactly at its end, each label is the name's longest allowed
 *                     prefix (checked by a rule written here, not the library's)
 * The independent reference for the round trips is the action structs themselves (compared
 * field by field) and, for the loose-spacing texts, a second writer in this file. */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/actlang.h"
#include "lam/episode.h"
#include "lam/rng.h"
#include "lam/synth.h"

static int failures = 0;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static uint64_t test_seed(void) {
    const char *s = getenv("LAM_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : 20250101;
    printf("seed %llu (LAM_TEST_SEED to change)\n", (unsigned long long)seed);
    return seed;
}

static int str_eq(const char *a, const char *b) {
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int actions_eq(const lam_action *a, int na, const lam_action *b, int nb) {
    if (na != nb) return 0;
    for (int i = 0; i < na; i++)
        if (a[i].type != b[i].type || !str_eq(a[i].element, b[i].element) ||
            !str_eq(a[i].value, b[i].value))
            return 0;
    return 1;
}

/* ---- random actions ---- */

typedef struct {
    uint64_t seed, idx;
} rng;

static uint32_t next(rng *r) {
    uint32_t o[4];
    lam_philox(r->seed, 7, r->idx++, o);
    return o[0];
}

static void rand_id(rng *r, char *buf) {
    static const char cs[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "_-.:#/@+$=~!?,*&%'()";
    int n = 1 + (int)(next(r) % 8);
    if (next(r) % 2) { /* like the simulator's: e1234 */
        snprintf(buf, 16, "e%u", next(r) % 10000);
        return;
    }
    for (int i = 0; i < n; i++) buf[i] = cs[next(r) % (sizeof cs - 1)];
    buf[n] = 0;
}

static void rand_value(rng *r, char *buf, int nonempty) {
    static const char *const pieces[] = {
        "a",    "Paris",     " ",       "\"",   "\\",   "\n", "\\n", ";",
        " ; ",  "<end>",     "<|act|>", "é",    "日本", "😀",  "\t",  "\r",
        "\x80", "\xff",      "''",      "\"\"", "\\\"", "up", "e12", "click",
        "x y",  "{\"a\":1}", "\x01",    "~",    "<",    ">",  "|"};
    size_t n = 0;
    int k = (int)(next(r) % 6);
    if (nonempty && k == 0) k = 1;
    for (int i = 0; i < k; i++) {
        const char *p = pieces[next(r) % (sizeof pieces / sizeof *pieces)];
        size_t m = strlen(p);
        memcpy(buf + n, p, m);
        n += m;
    }
    buf[n] = 0;
}

typedef struct {
    lam_action a[8];
    char ids[8][16];
    char vals[8][128];
    int n;
} rand_list;

static void rand_actions(rng *r, rand_list *l) {
    l->n = 1 + (int)(next(r) % 6);
    for (int i = 0; i < l->n; i++) {
        lam_action *a = &l->a[i];
        a->type = (lam_action_type)(next(r) % LAM_ACT_COUNT);
        a->element = a->value = NULL;
        rand_id(r, l->ids[i]);
        int er = lam_action_element_rule(a->type), vr = lam_action_value_rule(a->type);
        if (er == 1 || (er == -1 && next(r) % 2)) a->element = l->ids[i];
        if (vr == 1 || (vr == -1 && next(r) % 2)) {
            if (a->type == LAM_ACT_SCROLL)
                strcpy(l->vals[i], next(r) % 2 ? "up" : "down");
            else
                rand_value(r, l->vals[i], a->type == LAM_ACT_PRESS || a->type == LAM_ACT_GOTO);
            a->value = l->vals[i];
        }
    }
}

/* A second writer: the same actions with random whitespace wherever the grammar allows it. */
static size_t loose_print(rng *r, const lam_action *a, int n, char *buf) {
    static const char *const sp[] = {" ", "  ", "\t", "\n", " \r\n ", "   \t"};
    static const char *const osp[] = {"", " ", "\n", "\t  "};
#define SP  sp[next(r) % 6]
#define OSP osp[next(r) % 4]
    size_t k = 0;
    k += (size_t)sprintf(buf + k, "%s", OSP);
    for (int i = 0; i < n; i++) {
        if (i) k += (size_t)sprintf(buf + k, "%s;%s", OSP, OSP);
        k += (size_t)sprintf(buf + k, "%s", lam_action_name(a[i].type));
        const char *el = a[i].element, *v = a[i].value;
        if (a[i].type == LAM_ACT_SCROLL) {
            k += (size_t)sprintf(buf + k, "%s%s", SP, v);
            if (el) k += (size_t)sprintf(buf + k, "%s%s", SP, el);
            continue;
        }
        if (el) k += (size_t)sprintf(buf + k, "%s%s", SP, el);
        if (v) {
            k += (size_t)sprintf(buf + k, "%s\"", el ? SP : OSP);
            for (const char *c = v; *c; c++) {
                if (*c == '"' || *c == '\\')
                    buf[k++] = '\\', buf[k++] = *c;
                else if (*c == '\n')
                    buf[k++] = '\\', buf[k++] = 'n';
                else
                    buf[k++] = *c;
            }
            buf[k++] = '"';
        }
    }
    k += (size_t)sprintf(buf + k, "%s<end>%s", OSP, OSP);
#undef SP
#undef OSP
    return k;
}

static int roundtrip_random(void) {
    uint64_t seed = test_seed();
    rng r = {seed, 0};
    lam_act_list l, l2;
    lam_act_list_init(&l);
    lam_act_list_init(&l2);
    char text[8192], text2[8192], loose[16384];
    int n_lists = 5000, n_actions = 0, n_not_utf8 = 0;
    for (int it = 0; it < n_lists && failures < 10; it++) {
        rand_list rl;
        rand_actions(&r, &rl);
        n_actions += rl.n;
        size_t len, len2;
        lam_error err = {0};
        memset(text, 0x5a, sizeof text); /* poisoned */
        CHECK(lam_act_print(rl.a, rl.n, 0, text, sizeof text, &len, &err) == LAM_OK, "%s", err.msg);
        CHECK(strlen(text) == len, "length %zu vs %zu", strlen(text), len);
        size_t off = 999;
        CHECK(lam_act_parse(text, len, &l, &off, &err) == LAM_OK, "list %d: %s\n  text: %s", it,
              err.msg, text);
        CHECK(actions_eq(rl.a, rl.n, l.items, l.n), "list %d: parse(print(a)) != a: %s", it, text);
        CHECK(lam_act_print(l.items, l.n, 0, text2, sizeof text2, &len2, &err) == LAM_OK, "%s",
              err.msg);
        CHECK(len == len2 && !memcmp(text, text2, len), "print(parse(s)) != s: %s", text);
        /* every proper prefix ends too early: it fails exactly at its end */
        for (size_t k = 0; it % 10 == 0 && k < len; k++) {
            CHECK(lam_act_parse(text, k, &l2, &off, NULL) == LAM_ERR_INVALID && off == k,
                  "prefix %zu of %s: offset %zu", k, text, off);
        }
        size_t ll = loose_print(&r, rl.a, rl.n, loose);
        CHECK(lam_act_parse(loose, ll, &l2, &off, &err) == LAM_OK, "loose text %d: %s\n%.*s", it,
              err.msg, (int)ll, loose);
        CHECK(actions_eq(rl.a, rl.n, l2.items, l2.n), "loose text %d parses to other actions", it);
        /* the JSON mapping round-trips too */
        char *js = NULL;
        if (lam_act_to_json_text(rl.a, rl.n, NULL, &js, &err) != LAM_OK) {
            CHECK(strstr(err.msg, "not valid UTF-8") &&
                      (strstr(text, "\x80") || strstr(text, "\xff")),
                  "%s", err.msg);
            n_not_utf8++;
            continue;
        }
        CHECK(js && lam_act_from_json_text(js, strlen(js), &l2, &err) == LAM_OK, "%s", err.msg);
        CHECK(actions_eq(rl.a, rl.n, l2.items, l2.n), "JSON round trip: %s", js);
        free(js);
    }
    printf("%d random lists (%d actions): print/parse round trips exact; JSON round trips exact "
           "(%d lists with invalid UTF-8 refused by the JSON mapping, as documented)\n",
           n_lists, n_actions, n_not_utf8);
    lam_act_list_free(&l);
    lam_act_list_free(&l2);
    return failures;
}

/* ---- simulator episodes ---- */

typedef struct {
    lam_act_list l;
    int64_t actions;
    char text[65536];
} sim_ctx;

static lam_status sim_sink(const lam_episode *ep, void *user, lam_error *err) {
    sim_ctx *c = user;
    for (int s = 0; s < ep->n_steps; s++) {
        const lam_action *a = &ep->steps[s].action;
        const lam_observation *obs = &ep->steps[s].obs;
        size_t len, off;
        lam_error e = {0};
        c->actions++;
        CHECK(lam_act_print(a, 1, 0, c->text, sizeof c->text, &len, &e) == LAM_OK, "%s: %s", ep->id,
              e.msg);
        CHECK(lam_act_parse(c->text, len, &c->l, &off, &e) == LAM_OK, "%s: %s", ep->id, e.msg);
        CHECK(actions_eq(a, 1, c->l.items, c->l.n), "%s step %d: %s", ep->id, s, c->text);
        CHECK(lam_act_check(c->l.items, c->l.n, obs, &e) == LAM_OK, "%s step %d: %s", ep->id, s,
              e.msg);
        char *js = NULL;
        CHECK(lam_act_to_json_text(a, 1, obs, &js, &e) == LAM_OK, "%s", e.msg);
        json_t *j = js ? json_loads(js, 0, NULL) : NULL;
        json_t *o = json_array_get(j, 0);
        const lam_element *el = a->element ? lam_observation_find(obs, a->element) : NULL;
        if (el) {
            CHECK(!strcmp(json_string_value(json_object_get(o, "role")), lam_role_name(el->role)),
                  "role echo %s", js);
            CHECK(!strcmp(json_string_value(json_object_get(o, "name")), el->name), "name echo %s",
                  js);
        } else {
            CHECK(!json_object_get(o, "role") && !json_object_get(o, "name"), "no echo: %s", js);
        }
        CHECK(lam_act_from_json(j, &c->l, &e) == LAM_OK, "%s", e.msg);
        CHECK(actions_eq(a, 1, c->l.items, c->l.n), "JSON round trip %s", js);
        json_decref(j);
        free(js);
    }
    /* the whole episode as one text */
    if (ep->n_steps <= 64) {
        lam_action all[64];
        for (int s = 0; s < ep->n_steps; s++) all[s] = ep->steps[s].action;
        size_t len, off;
        lam_error e = {0};
        CHECK(lam_act_print(all, ep->n_steps, 0, c->text, sizeof c->text, &len, &e) == LAM_OK, "%s",
              e.msg);
        CHECK(lam_act_parse(c->text, len, &c->l, &off, &e) == LAM_OK, "%s", e.msg);
        CHECK(actions_eq(all, ep->n_steps, c->l.items, c->l.n), "%s: episode text", ep->id);
    }
    (void)err;
    return failures < 10 ? LAM_OK : lam_error_set(err, LAM_ERR_INVALID, "too many failures");
}

static int roundtrip_sim(void) {
    lam_synth_opts o;
    lam_synth_opts_default(&o);
    o.n_episodes = 1000;
    o.seed = test_seed();
    sim_ctx *c = calloc(1, sizeof *c);
    lam_error err = {0};
    lam_synth_stats st;
    CHECK(lam_synth_run(&o, sim_sink, c, &st, &err) == LAM_OK, "%s", err.msg);
    printf("%lld episodes, %lld actions: round trips, validation and JSON exact\n",
           (long long)st.episodes, (long long)c->actions);
    lam_act_list_free(&c->l);
    free(c);
    return failures;
}

/* ---- parse errors ---- */

static int parse_errors(void) {
    static const struct {
        const char *text;
        size_t offset;
        const char *msg;
    } cases[] = {
        {"", 0, "expected an action type"},
        {"   ", 3,
         "expected an action type (click, type, select, hover, press, scroll, goto, "
         "back, done) (got end of text)"},
        {"jump e1 <end>", 0, "expected an action type"},
        {"clicke1 <end>", 0, "(got \"clicke1\")"},
        {"cli", 3, "(got end of text)"},
        {"click <end>", 6, "expected an element id after \"click\" (got '<')"},
        {"click e1", 8, "expected \" ; \" and another action, or \"<end>\" (got end of text)"},
        {"click e1 <en", 12, "expected \"<end>\" (got end of text)"},
        {"click e1 <eNd>", 9, "expected \" ; \" and another action, or \"<end>\" (got '<')"},
        {"click e1 <end> x", 15, "expected nothing after \"<end>\" (got 'x')"},
        {"click e1 ;; click e2 <end>", 10, "expected an action type"},
        {"click e1 ; <end>", 11, "expected an action type"},
        {"type e1 Paris <end>", 8, "expected the value of \"type\", a quoted value (got 'P')"},
        {"type e1 \"Par", 12, "expected '\"' to close the value opened at offset 8"},
        {"type e1 \"a\\tb\" <end>", 10,
         "unknown escape: expected \\\", \\\\ or \\n after '\\' "
         "(got 't')"},
        {"type e1 \"a\\", 11, "expected an escape"},
        {"type e1 \"a\nb\" <end>", 10, "a newline inside a quoted value must be written \\n"},
        {"type \"Paris\" <end>", 13,
         "expected an element id after the label (a quoted name before an id) (got '<')"},
        {"click \"Search\"", 14,
         "expected an element id after the label (a quoted name "
         "before an id) (got end of text)"},
        {"click \"Sea", 10, "expected '\"' to close the value opened at offset 6"},
        {"click \"a\\q\" 7 <end>", 8, "unknown escape"},
        {"scroll down \"Feed\" <end>", 19, "expected an element id after the label"},
        {"press \"\"", 8, "expected an element id after the label (got end of text)"},
        {"press \"Query\" 3 <end>", 16, "expected a key name after \"press\", a quoted value"},
        {"select e1 <end>", 10, "expected the value of \"select\", a quoted value (got '<')"},
        {"hover", 5, "expected an element id after \"hover\" (got end of text)"},
        {"scroll left <end>", 7, "expected up or down after \"scroll\" (got 'l')"},
        {"scroll do", 9, "expected up or down after \"scroll\" (got end of text)"},
        {"scroll up e1 \"x\" <end>", 13, "expected \" ; \" and another action"},
        {"press \"\" <end>", 6, "expected a key name after \"press\", not empty"},
        {"press e3 <end>", 9, "expected a key name after \"press\", a quoted value (got '<')"},
        {"press <end>", 6, "expected a quoted key name or an element id after \"press\" (got '<')"},
        {"goto \"\" <end>", 5, "expected a URL after \"goto\", not empty"},
        {"goto e1 <end>", 5, "expected a URL after \"goto\", a quoted value (got 'e')"},
        {"back e1 <end>", 5, "expected \" ; \" and another action, or \"<end>\" (got 'e')"},
        {"done \"a\" \"b\" <end>", 9, "(got '\"')"},
        {"done <end> <end>", 11, "expected nothing after \"<end>\" (got '<')"},
        {"click e\xc3\xa9 <end>", 7, "(got byte 0xc3)"},
        {"type e1 \"a\0b\" <end>", 10, "a NUL byte cannot be part of a value"},
    };
    lam_act_list l;
    lam_act_list_init(&l);
    int n = (int)(sizeof cases / sizeof *cases);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(cases[i].text);
        if (strstr(cases[i].msg, "NUL")) len = 19;
        size_t off = 12345;
        lam_error err = {0};
        lam_status st = lam_act_parse(cases[i].text, len, &l, &off, &err);
        char want[64];
        snprintf(want, sizeof want, "offset %zu: ", cases[i].offset);
        CHECK(st == LAM_ERR_INVALID, "case %d \"%s\" parsed", i, cases[i].text);
        CHECK(off == cases[i].offset, "case %d \"%s\": offset %zu, expected %zu (%s)", i,
              cases[i].text, off, cases[i].offset, err.msg);
        CHECK(strstr(err.msg, want) && strstr(err.msg, cases[i].msg),
              "case %d \"%s\": message \"%s\" lacks \"%s%s\"", i, cases[i].text, err.msg, want,
              cases[i].msg);
    }
    /* the actions before the problem are kept */
    lam_error err = {0};
    CHECK(lam_act_parse("click e1 ; type e2 \"x\" ; jump", 30, &l, NULL, &err) == LAM_ERR_INVALID &&
              l.n == 2,
          "kept %d", l.n);
    /* whitespace is free; the printer gives the canonical text */
    const char *loose = "\n type\te12   \"Paris\";click e3\r\n<end>\n";
    CHECK(lam_act_parse(loose, strlen(loose), &l, NULL, &err) == LAM_OK, "%s", err.msg);
    char buf[128];
    size_t len;
    CHECK(lam_act_print(l.items, l.n, 0, buf, sizeof buf, &len, &err) == LAM_OK &&
              !strcmp(buf, "type e12 \"Paris\" ; click e3 <end>"),
          "canonical: %s", buf);
    printf("%d malformed texts: offsets and messages as expected\n", n);
    lam_act_list_free(&l);
    return failures;
}

/* ---- validation against an observation ---- */

static lam_observation small_obs(lam_element *el, char **opts) {
    memset(el, 0, 5 * sizeof *el);
    opts[0] = "S", opts[1] = "M";
    el[0] = (lam_element){"e1", LAM_ROLE_TEXTBOX, "Destination", "", NULL, 0, -1, 0, NULL};
    el[1] = (lam_element){"e2", LAM_ROLE_BUTTON, "Search", NULL, NULL, 0, -1, 1, NULL};
    el[2] = (lam_element){"e3", LAM_ROLE_COMBOBOX, "Size", "S", opts, 2, -1, 0, NULL};
    el[3] = (lam_element){"e4", LAM_ROLE_HEADING, "Find", NULL, NULL, 0, -1, 0, NULL};
    el[4] = (lam_element){"e5", LAM_ROLE_LIST, "Results", NULL, NULL, 0, -1, 0, NULL};
    return (lam_observation){"https://x.example/", "X", el, 5};
}

static int check(void) {
    lam_element el[5];
    char *opts[2];
    lam_observation obs = small_obs(el, opts);
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"type e1 \"Paris\" ; select e3 \"M\" ; scroll down e5 ; press e1 \"Enter\" ; done <end>",
         NULL},
        {"click e1 ; type e9 \"x\" <end>",
         "action 1 (type e9): element \"e9\" is not in the observation"},
        {"click e2 <end>", "action 0 (click e2): element \"e2\" (button \"Search\") is disabled"},
        {"type e4 \"x\" <end>",
         "action 0 (type e4): element \"e4\" is a heading, which does not allow type (it allows "
         "hover)"},
        {"select e3 \"XL\" <end>",
         "action 0 (select e3): value \"XL\" is not an option of \"e3\" (options: \"S\", \"M\")"},
        {"scroll up e1 <end>", "is a textbox, which does not allow scroll"},
        {"press e3 \"Enter\" <end>", "is a combobox, which does not allow press"},
    };
    lam_act_list l;
    lam_act_list_init(&l);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lam_error err = {0};
        CHECK(lam_act_parse(cases[i].text, strlen(cases[i].text), &l, NULL, &err) == LAM_OK, "%s",
              err.msg);
        lam_status st = lam_act_check(l.items, l.n, &obs, &err);
        if (!cases[i].msg)
            CHECK(st == LAM_OK, "%s: %s", cases[i].text, err.msg);
        else
            CHECK(st == LAM_ERR_INVALID && strstr(err.msg, cases[i].msg), "%s: got \"%s\"",
                  cases[i].text, err.msg);
    }
    /* form rules without an observation */
    lam_action bad[] = {{LAM_ACT_CLICK, NULL, NULL},      {LAM_ACT_GOTO, "e1", "https://a"},
                        {LAM_ACT_BACK, NULL, "x"},        {LAM_ACT_SCROLL, NULL, "left"},
                        {LAM_ACT_PRESS, NULL, ""},        {LAM_ACT_CLICK, "a b", NULL},
                        {(lam_action_type)42, NULL, NULL}};
    const char *msgs[] = {"element: missing (click needs an element)",
                          "element: goto takes no element",
                          "value: back takes no value",
                          "value: must be \"up\" or \"down\" (got \"left\")",
                          "value: must not be empty (press needs a key name)",
                          "element: \"a b\" cannot be written in the action language",
                          "type: unknown action type (42)"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lam_error err = {0};
        CHECK(lam_act_check_form(&bad[i], &err) == LAM_ERR_INVALID && strstr(err.msg, msgs[i]),
              "form %zu: got \"%s\"", i, err.msg);
    }
    printf("validation: each rule gives its message\n");
    lam_act_list_free(&l);
    return failures;
}

/* ---- JSON ---- */

static int json(void) {
    lam_element el[5];
    char *opts[2];
    lam_observation obs = small_obs(el, opts);
    lam_act_list l;
    lam_act_list_init(&l);
    lam_error err = {0};
    const char *t = "type e1 \"Paris\" ; scroll down ; done \"a \\\"b\\\"\" <end>";
    CHECK(lam_act_parse(t, strlen(t), &l, NULL, &err) == LAM_OK, "%s", err.msg);
    char *js = NULL;
    CHECK(lam_act_to_json_text(l.items, l.n, &obs, &js, &err) == LAM_OK, "%s", err.msg);
    const char *want = "[{\"type\":\"type\",\"element\":\"e1\",\"value\":\"Paris\",\"role\":"
                       "\"textbox\",\"name\":\"Destination\"},{\"type\":\"scroll\",\"value\":"
                       "\"down\"},{\"type\":\"done\",\"value\":\"a \\\"b\\\"\"}]";
    CHECK(js && !strcmp(js, want), "got %s\nwant %s", js, want);
    lam_act_list back;
    lam_act_list_init(&back);
    CHECK(lam_act_from_json_text(js, strlen(js), &back, &err) == LAM_OK, "%s", err.msg);
    CHECK(actions_eq(l.items, l.n, back.items, back.n), "round trip");
    free(js);
    /* one object; null for absent */
    const char *one = "{\"type\":\"press\",\"element\":null,\"value\":\"Enter\",\"meta\":{}}";
    CHECK(lam_act_from_json_text(one, strlen(one), &back, &err) == LAM_OK && back.n == 1 &&
              back.items[0].type == LAM_ACT_PRESS && !back.items[0].element &&
              !strcmp(back.items[0].value, "Enter"),
          "%s", err.msg);
    static const struct {
        const char *js, *msg;
    } bad[] = {
        {"{\"type\":\"click\"}", "element: missing (click needs an element)"},
        {"[{\"type\":\"click\",\"element\":\"e1\"},{\"type\":\"type\",\"element\":\"e1\","
         "\"value\":3}]",
         "actions[1].value: must be a string (got a number)"},
        {"{\"type\":\"jump\"}", "type: unknown action type \"jump\""},
        {"{\"element\":\"e1\"}", "type: missing (required)"},
        {"{\"type\":\"click\",\"element\":\"e1\",\"valeu\":\"x\"}",
         "\"valeu\": unknown field (an action has type, element, value)"},
        {"[]", "actions: must not be empty"},
        {"\"click\"", "actions: must be an action object or an array of them (got a string)"},
        {"[1]", "actions[0]: must be an object (got a number)"},
        {"{\"type\":\"scroll\",\"value\":\"left\"}", "value: must be \"up\" or \"down\""},
        {"{\"type\":\"click\",\"element\":\"e 1\"}",
         "element: \"e 1\" cannot be written in the action language"},
        {"{\"type\":\"click\",\"element\":\"e1\",\"role\":5}", "role: must be a string"},
        {"[{\"type\":\"click\",\"element\":\"e1\"}", "invalid JSON at line 1 column"},
        {"{\"type\":\"done\",\"value\":\"a\\u0000b\"}", "value: must not contain a NUL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lam_status st = lam_act_from_json_text(bad[i].js, strlen(bad[i].js), &back, &err);
        CHECK(st == LAM_ERR_INVALID && strstr(err.msg, bad[i].msg), "%s: got \"%s\"", bad[i].js,
              err.msg);
    }
    printf("JSON: exact text, round trips, %zu errors naming the field\n",
           sizeof bad / sizeof *bad);
    lam_act_list_free(&l);
    lam_act_list_free(&back);
    return failures;
}

static int print_errors(void) {
    lam_action a[2] = {{LAM_ACT_TYPE, "e1", "Paris"}, {LAM_ACT_CLICK, "e3", NULL}};
    char buf[64];
    size_t len;
    lam_error err = {0};
    CHECK(lam_act_print(a, 2, 0, NULL, 0, &len, &err) == LAM_ERR_NOMEM && len == 32, "measure: %zu",
          len);
    CHECK(lam_act_print(a, 2, 0, buf, 32, &len, &err) == LAM_ERR_NOMEM, "no room for NUL");
    CHECK(lam_act_print(a, 2, 0, buf, 33, &len, &err) == LAM_OK &&
              !strcmp(buf, "type e1 \"Paris\" ; click e3 <end>"),
          "%s", buf);
    CHECK(lam_act_print(a, 2, LAM_ACT_NO_END, buf, sizeof buf, &len, &err) == LAM_OK &&
              !strcmp(buf, "type e1 \"Paris\" ; click e3"),
          "%s", buf);
    CHECK(lam_act_print(a, 0, 0, buf, sizeof buf, &len, &err) == LAM_ERR_INVALID, "empty list");
    a[1].value = "x";
    CHECK(lam_act_print(a, 2, 0, buf, sizeof buf, &len, &err) == LAM_ERR_INVALID &&
              strstr(err.msg, "action 1 (click): value: click takes no value"),
          "%s", err.msg);
    printf("printer: measuring, small buffers and bad actions\n");
    return failures;
}

/* LAM_ACT_LEAD_SPACE: the values of type and done get one space after the opening quote, no
 * other part of any action does; the parse holds the space, and the text is canonical. */
static int lead_space(void) {
    static const lam_action a[] = {
        {LAM_ACT_TYPE, "e1", "Oslo"},       {LAM_ACT_TYPE, "e2", ""},
        {LAM_ACT_TYPE, "e3", "say \"hi\""}, {LAM_ACT_SELECT, "e4", "M"},
        {LAM_ACT_PRESS, "e5", "Enter"},     {LAM_ACT_PRESS, NULL, "Tab"},
        {LAM_ACT_GOTO, NULL, "https://x"},  {LAM_ACT_SCROLL, "e6", "down"},
        {LAM_ACT_CLICK, "e7", NULL},        {LAM_ACT_DONE, NULL, "$182"},
    };
    int n = (int)(sizeof a / sizeof *a);
    static const char *const want =
        "type e1 \" Oslo\" ; type e2 \" \" ; type e3 \" say \\\"hi\\\"\" ; select e4 \"M\" ; "
        "press e5 \"Enter\" ; press \"Tab\" ; goto \"https://x\" ; scroll down e6 ; click e7 ; "
        "done \" $182\" <end>";
    char buf[512];
    size_t len;
    lam_error err = {0};
    CHECK(lam_act_print(a, n, LAM_ACT_LEAD_SPACE, buf, sizeof buf, &len, &err) == LAM_OK &&
              !strcmp(buf, want),
          "got %s", buf);
    lam_act_list l = {0};
    CHECK(lam_act_parse(buf, len, &l, NULL, &err) == LAM_OK && l.n == n, "%s", err.msg);
    for (int i = 0; i < l.n && i < n; i++) {
        int spaced = a[i].type == LAM_ACT_TYPE || a[i].type == LAM_ACT_DONE;
        char v[64];
        snprintf(v, sizeof v, "%s%s", spaced ? " " : "", a[i].value ? a[i].value : "");
        CHECK(a[i].value ? l.items[i].value && !strcmp(l.items[i].value, v) : !l.items[i].value,
              "action %d: \"%s\"", i, l.items[i].value ? l.items[i].value : "(null)");
    }
    char back[512];
    CHECK(lam_act_print(l.items, l.n, 0, back, sizeof back, &len, &err) == LAM_OK &&
              !strcmp(back, want),
          "not canonical: %s", back); /* the spaced text is the plain print of its parse */
    const char *const names[] = {"City", NULL, NULL,   "Size", "Query",
                                 NULL,   NULL, "Feed", "Go",   NULL};
    CHECK(lam_act_print_labelled(a, names, 2, LAM_ACT_LEAD_SPACE | LAM_ACT_NO_END, buf, sizeof buf,
                                 &len, &err) == LAM_OK &&
              !strcmp(buf, "type \"City\" e1 \" Oslo\" ; type \"\" e2 \" \""),
          "labelled: %s", buf);
    printf("lead space: only type and done values, the parse holds it, canonical\n");
    lam_act_list_free(&l);
    return failures;
}

/* ---- element labels ---- */

/* The label rule, written again: the longest prefix of name of at most LAM_ACT_LABEL_MAX bytes
 * that holds no "<|" and does not end inside a UTF-8 character. */
static size_t ref_label_len(const char *name) {
    size_t n = name ? strlen(name) : 0, best = 0;
    for (size_t k = 1; k <= n && k <= LAM_ACT_LABEL_MAX; k++) {
        int ok = k == n || ((unsigned char)name[k] & 0xc0) != 0x80;
        for (size_t i = 0; i < k && ok; i++) ok = !(name[i] == '<' && name[i + 1] == '|');
        if (ok) best = k;
    }
    return best;
}

static int labels(void) {
    static const struct {
        const char *name;
        size_t len;
    } lens[] = {
        {NULL, 0},
        {"", 0},
        {"Search", 6},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9", 31}, /* 31 + a 2-byte character */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9", 32},  /* 30 + 2 */
        {"ab<|cd", 2},
        {"a<b|", 4},
        {"<|x", 0},
        {"x<", 2},
    };
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        CHECK(lam_act_label_len(lens[i].name) == lens[i].len,
              "label of \"%s\": %zu bytes, want %zu", lens[i].name ? lens[i].name : "(null)",
              lam_act_label_len(lens[i].name), lens[i].len);
        CHECK(ref_label_len(lens[i].name) == lens[i].len, "reference rule on \"%s\": %zu",
              lens[i].name ? lens[i].name : "(null)", ref_label_len(lens[i].name));
    }
    lam_error err = {0};
    lam_act_list l;
    lam_act_list_init(&l);
    /* the exact text */
    lam_action a[5] = {{LAM_ACT_CLICK, "7", NULL},
                       {LAM_ACT_TYPE, "2", "Oslo"},
                       {LAM_ACT_SCROLL, "4", "down"},
                       {LAM_ACT_PRESS, "3", "Enter"},
                       {LAM_ACT_DONE, NULL, NULL}};
    const char *names[5] = {"Search", "Ci\"ty\\\n", NULL, "Query<|act|>", "ignored"};
    const char *want =
        "click \"Search\" 7 ; type \"Ci\\\"ty\\\\\\n\" 2 \"Oslo\" ; scroll down \"\" 4 ; "
        "press \"Query\" 3 \"Enter\" ; done <end>";
    char text[8192];
    size_t len = 0, off = 0;
    CHECK(lam_act_print_labelled(a, names, 5, 0, text, sizeof text, &len, &err) == LAM_OK, "%s",
          err.msg);
    CHECK(len == strlen(want) && !strcmp(text, want), "labelled text\n  got  %s\n  want %s", text,
          want);
    CHECK(lam_act_parse(text, len, &l, &off, &err) == LAM_OK && actions_eq(a, 5, l.items, l.n),
          "parse of %s: %s", text, err.msg);
    CHECK(lam_act_print_labelled(a, NULL, 5, 0, text, sizeof text, &len, &err) == LAM_ERR_INVALID,
          "no labels");
    /* random lists, random names */
    uint64_t seed = test_seed();
    rng r = {seed, 0};
    int n_lists = 3000, n_cut = 0;
    lam_act_list l2;
    lam_act_list_init(&l2);
    for (int it = 0; it < n_lists && failures < 10; it++) {
        rand_list rl;
        rand_actions(&r, &rl);
        char nm[8][256];
        const char *np[8];
        for (int i = 0; i < rl.n; i++) {
            nm[i][0] = 0;
            int parts = (int)(next(&r) % 12);
            for (int k = 0; k < parts; k++) { /* values' pieces: quotes, "<|", UTF-8, ... */
                char piece[128];
                rand_value(&r, piece, 1);
                if (strlen(nm[i]) + strlen(piece) < sizeof nm[i]) strcat(nm[i], piece);
            }
            np[i] = next(&r) % 8 ? nm[i] : NULL;
            n_cut += np[i] && lam_act_label_len(np[i]) < strlen(np[i]);
            CHECK(lam_act_label_len(np[i]) == ref_label_len(np[i]),
                  "label of \"%s\": %zu, want %zu", nm[i], lam_act_label_len(np[i]),
                  ref_label_len(np[i]));
        }
        CHECK(lam_act_print_labelled(rl.a, np, rl.n, 0, text, sizeof text, &len, &err) == LAM_OK,
              "%s", err.msg);
        CHECK(lam_act_parse(text, len, &l, &off, &err) == LAM_OK, "list %d: %s\n  text: %s", it,
              err.msg, text);
        CHECK(actions_eq(rl.a, rl.n, l.items, l.n),
              "list %d: labelled text parses to other "
              "actions: %s",
              it, text);
        for (size_t k = 0; it % 5 == 0 && k < len; k++)
            CHECK(lam_act_parse(text, k, &l2, &off, NULL) == LAM_ERR_INVALID && off == k,
                  "prefix %zu of %s: offset %zu", k, text, off);
    }
    printf("labels: %zu exact lengths; the exact text; %d random lists with random names (%d "
           "labels cut) parse to their actions, every proper prefix fails at its end\n",
           sizeof lens / sizeof *lens, n_lists, n_cut);
    lam_act_list_free(&l);
    lam_act_list_free(&l2);
    return failures;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_actlang MODE\n");
        return 2;
    }
    const char *m = argv[1];
    int r = !strcmp(m, "roundtrip_random") ? roundtrip_random()
            : !strcmp(m, "roundtrip_sim")  ? roundtrip_sim()
            : !strcmp(m, "parse_errors")   ? parse_errors()
            : !strcmp(m, "check")          ? check()
            : !strcmp(m, "json")           ? json()
            : !strcmp(m, "print_errors")   ? print_errors()
            : !strcmp(m, "labels")         ? labels()
            : !strcmp(m, "lead_space")     ? lead_space()
                                           : -1;
    if (r < 0) {
        fprintf(stderr, "unknown mode %s\n", m);
        return 2;
    }
    if (failures) fprintf(stderr, "%d checks failed\n", failures);
    return failures ? 1 : 0;
}
