/* test_serve.c - the parts of `lam serve` that need no HTTP, one behaviour per mode (ctest
 * serve.<mode>); the server itself is tested through the real binary (test_serve.sh):
 *   chat            the chat-completions request: task, observation and history read from the
 *                   messages in each of their forms, tools and tool_choice as action types,
 *                   sampling fields; and one bad request per rule, each refused with a message
 *                   that starts with the path of the field at fault
 *   request         the /v1/act fields of sessions (a session instead of the task, executed
 *                   only with one, the session id's characters) and the field an error message
 *                   names (what the server returns as the error's param)
 *   stream_actions  the actions complete in a partial answer (what a stream may send): for
 *                   every prefix of random canonical answers (values with quotes, backslashes,
 *                   " ; " and "<end>" inside; half of them with element labels, a third with
 *                   values after a space), exactly the actions whose separator or <end> is in
 *                   the prefix, as printed separately (the values without that space)
 *                   (lam_act_print and lam_act_print_labelled are the reference); and
 *                   random bytes never give more than what re-prints to the same prefix
 *   sessions        the session store: start, continue with the last answer or the executed
 *                   actions (checked against the last observation), conflicts, expiry, the cap
 *                   on sessions and on history, a failed first request leaving no session
 *   metrics         counters and histograms as the exposition text says them
 *   types CKPT      answers restricted to random sets of action types (what tools offer) on
 *                   simulator observations, sampled at temperature 1.5 with a trained model:
 *                   every action is of an allowed type, every answer valid for its observation
 *                   (lam_act_check), and a set no action can use on an observation is refused
 * The seed is printed (LAM_TEST_SEED changes it). */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/actlang.h"
#include "lam/agent.h"
#include "lam/backend.h"
#include "lam/rng.h"
#include "lam/server_chat.h"
#include "lam/server_metrics.h"
#include "lam/server_session.h"
#include "lam/sim.h"

static int failures;
static lam_error err;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            if (++failures > 30) exit(1);                                                          \
        }                                                                                          \
    } while (0)
#define OK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != LAM_OK) {                                                                    \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, err.msg);         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static uint64_t test_seed(void) {
    const char *s = getenv("LAM_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : 20261202;
    printf("seed %llu (LAM_TEST_SEED)\n", (unsigned long long)seed);
    return seed;
}

/* ---- chat ---- */

static const char *OBS = "{\"url\":\"https://a.example/\",\"elements\":[{\"id\":\"e1\",\"role\":"
                         "\"textbox\",\"name\":\"City\",\"value\":\"\"},{\"id\":\"e2\",\"role\":"
                         "\"button\",\"name\":\"Go\"},{\"id\":\"e3\",\"role\":\"combobox\","
                         "\"name\":\"Size\",\"options\":[\"S\",\"M\"]}]}";

/* A body: messages (a JSON array text) and more fields. */
static char *body(const char *messages, const char *more) {
    size_t n = strlen(messages) + strlen(more) + 64;
    char *b = malloc(n);
    snprintf(b, n, "{\"model\":\"m\",\"messages\":%s%s%s}", messages, more[0] ? "," : "", more);
    return b;
}

/* A user message whose content is the JSON text of json (escaped into a string). */
static char *user_json(const char *json) {
    json_t *s = json_string(json);
    char *q = json_dumps(s, JSON_ENCODE_ANY);
    json_decref(s);
    size_t n = strlen(q) + 64;
    char *m = malloc(n);
    snprintf(m, n, "{\"role\":\"user\",\"content\":%s}", q);
    free(q);
    return m;
}

static void expect_chat_error(const char *b, const char *path, const char *text) {
    lam_chat_req c;
    lam_status st = lam_chat_parse(b, strlen(b), &c, &err);
    size_t pl = strlen(path);
    int ok = st == LAM_ERR_INVALID && !strncmp(err.msg, path, pl) && err.msg[pl] == ':' &&
             strstr(err.msg, text);
    printf("chat: %-58.58s -> %s\n", b + 22, st == LAM_OK ? "(accepted)" : err.msg);
    CHECK(ok, "expected \"%s: ...%s...\"", path, text);
    if (st == LAM_OK) lam_chat_req_free(&c);
}

static void test_chat(void) {
    char *uo = user_json(OBS), msgs[8192], more[1024];
    /* system, task, observation: the common form */
    snprintf(msgs, sizeof msgs,
             "[{\"role\":\"system\",\"content\":\"You act on web pages.\"},{\"role\":\"user\","
             "\"content\":\"Find Paris\"},%s]",
             uo);
    char *b = body(msgs, "\"temperature\":0.7,\"top_p\":0.9,\"seed\":5");
    lam_chat_req c;
    OK(lam_chat_parse(b, strlen(b), &c, &err));
    CHECK(!strcmp(c.r.req.task, "Find Paris") && c.r.obs.n_elements == 3 &&
              c.r.req.n_history == 0 && !strcmp(c.model, "m") && !c.stream && c.r.req.types == 0 &&
              fabsf(c.r.req.sampling.temperature - 0.7f) < 1e-6f && c.r.req.sampling.seed == 5 &&
              c.r.req.max_actions == 0,
          "common form");
    lam_chat_req_free(&c), free(b);
    /* history from tool calls, content as text parts, tools and parallel_tool_calls */
    snprintf(msgs, sizeof msgs,
             "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Find \"},{\"type\":"
             "\"text\",\"text\":\"Paris\"}]},%s,{\"role\":\"assistant\",\"content\":null,"
             "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"type\","
             "\"arguments\":\"{\\\"element\\\":\\\"e1\\\",\\\"value\\\":\\\"Paris\\\",\\\"role\\\":"
             "\\\"textbox\\\",\\\"name\\\":\\\"City\\\"}\"}},{\"id\":\"c2\",\"type\":\"function\","
             "\"function\":{\"name\":\"click\",\"arguments\":\"{\\\"element\\\":\\\"e2\\\"}\"}}]},"
             "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"ok\"},%s]",
             uo, uo);
    snprintf(more, sizeof more,
             "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"click\"}},{\"type\":"
             "\"function\",\"function\":{\"name\":\"select\",\"parameters\":{}}}],"
             "\"parallel_tool_calls\":false,\"stream\":true,\"stream_options\":{\"include_usage\":"
             "true}");
    b = body(msgs, more);
    OK(lam_chat_parse(b, strlen(b), &c, &err));
    CHECK(!strcmp(c.r.req.task, "Find Paris") && c.r.req.n_history == 2 &&
              c.r.req.history[0].type == LAM_ACT_TYPE &&
              !strcmp(c.r.req.history[0].value, "Paris") &&
              c.r.req.history[1].type == LAM_ACT_CLICK && !c.r.req.history[1].value &&
              c.r.req.types == (1u << LAM_ACT_CLICK | 1u << LAM_ACT_SELECT) &&
              c.r.req.max_actions == 1 && c.stream && c.include_usage,
          "history form: task \"%s\", %d actions, types %x", c.r.req.task, c.r.req.n_history,
          c.r.req.types);
    lam_chat_req_free(&c), free(b);
    /* one user message holding {"task", "observation"}; tool_choice names one type */
    snprintf(more, sizeof more, "{\"task\":\"Pick M\",\"observation\":%s}", OBS);
    char *one = user_json(more);
    snprintf(msgs, sizeof msgs, "[%s]", one);
    b = body(msgs, "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"select\"}}");
    OK(lam_chat_parse(b, strlen(b), &c, &err));
    CHECK(!strcmp(c.r.req.task, "Pick M") && c.r.obs.n_elements == 3 &&
              c.r.req.types == 1u << LAM_ACT_SELECT,
          "single message form");
    lam_chat_req_free(&c), free(b);
    /* errors, each naming its field */
    expect_chat_error("{\"model\":\"m\",\"messages\":[", "request", "line 1, column");
    expect_chat_error("{\"model\":\"m\",\"messages\":3}", "messages", "non-empty array");
    expect_chat_error("{\"model\":\"m\",\"colour\":1,\"messages\":[]}", "colour", "unknown field");
    b = body("[{\"role\":\"system\",\"content\":\"x\"}]", "");
    expect_chat_error(b, "messages", "no user message"), free(b);
    b = body("[{\"role\":\"robot\",\"content\":\"x\"}]", "");
    expect_chat_error(b, "messages[0].role", "must be"), free(b);
    b = body(
        "[{\"role\":\"user\",\"content\":\"task\"},{\"role\":\"user\",\"content\":\"no JSON\"}]",
        "");
    expect_chat_error(b, "messages[1].content", "observation as a JSON object"), free(b);
    b = body("[{\"role\":\"user\",\"content\":\"just a task\"}]", "");
    expect_chat_error(b, "messages[0].content", "observation"), free(b);
    snprintf(msgs, sizeof msgs, "[{\"role\":\"user\",\"content\":\"t\"},%s]", uo);
    b = body(msgs, "\"n\":2");
    expect_chat_error(b, "n", "whole number in [1, 1]"), free(b);
    b = body(msgs, "\"temperature\":3");
    expect_chat_error(b, "temperature", "[0, 2]"), free(b);
    b = body(msgs, "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"fly\"}}]");
    expect_chat_error(b, "tools[0].function.name", "not an action type"), free(b);
    b = body(msgs, "\"tool_choice\":\"none\"");
    expect_chat_error(b, "tool_choice", "not supported"), free(b);
    b = body(msgs, "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"click\"}}],"
                   "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"type\"}}");
    expect_chat_error(b, "tool_choice.function.name", "not one of the tools"), free(b);
    b = body(msgs, "\"stream_options\":{\"include_usage\":true}");
    expect_chat_error(b, "stream_options", "only with stream"), free(b);
    b = body(msgs, "\"logprobs\":true");
    expect_chat_error(b, "logprobs", "not supported"), free(b);
    snprintf(msgs, sizeof msgs,
             "[{\"role\":\"user\",\"content\":\"t\"},{\"role\":\"assistant\",\"tool_calls\":[{"
             "\"type\":\"function\",\"function\":{\"name\":\"click\",\"arguments\":\"{}\"}}]},%s]",
             uo);
    b = body(msgs, "");
    expect_chat_error(b, "messages[1].tool_calls[0].function.arguments", "element"), free(b);
    snprintf(msgs, sizeof msgs,
             "[{\"role\":\"user\",\"content\":\"t\"},{\"role\":\"assistant\",\"tool_calls\":[{"
             "\"type\":\"function\",\"function\":{\"name\":\"click\",\"arguments\":\"{\\\"x\\\":"
             "1\"}}]},%s]",
             uo);
    b = body(msgs, "");
    expect_chat_error(b, "messages[1].tool_calls[0].function.arguments", "JSON object"), free(b);
    char bad_obs[512];
    snprintf(bad_obs, sizeof bad_obs,
             "{\"url\":\"u\",\"elements\":[{\"id\":\"e1\",\"role\":\"button\",\"name\":\"n\","
             "\"parent\":\"e404\"}]}");
    char *ub = user_json(bad_obs);
    snprintf(msgs, sizeof msgs, "[{\"role\":\"user\",\"content\":\"t\"},%s]", ub);
    b = body(msgs, "");
    expect_chat_error(b, "messages[1].content.elements[0].parent", "not an element"), free(b);
    free(ub), free(uo), free(one);
    /* the tools: one per action type, in the schema's order */
    json_t *tools = lam_chat_tools();
    CHECK(json_array_size(tools) == LAM_ACT_COUNT, "%zu tools", json_array_size(tools));
    for (int t = 0; t < LAM_ACT_COUNT; t++) {
        json_t *fn = json_object_get(json_array_get(tools, (size_t)t), "function");
        const char *name = json_string_value(json_object_get(fn, "name"));
        CHECK(name && !strcmp(name, lam_action_name((lam_action_type)t)), "tool %d", t);
    }
    json_decref(tools);
}

/* ---- request ---- */

static void expect_req(const char *json, const char *want_error) {
    lam_request r;
    lam_status st = lam_request_from_text(json, strlen(json), &r, &err);
    printf("request: %-62.62s -> %s\n", json, st == LAM_OK ? "(accepted)" : err.msg);
    if (want_error)
        CHECK(st == LAM_ERR_INVALID && !strncmp(err.msg, want_error, strlen(want_error)),
              "expected \"%s...\"", want_error);
    else
        CHECK(st == LAM_OK, "refused");
    if (st == LAM_OK) lam_request_free(&r);
}

static void test_request(void) {
    char b[2048];
    snprintf(b, sizeof b, "{\"session\":\"ep-1:a_b.c\",\"observation\":%s}", OBS);
    lam_request r;
    OK(lam_request_from_text(b, strlen(b), &r, &err));
    CHECK(!r.task && !strcmp(r.session, "ep-1:a_b.c") && !r.has_executed, "session, no task");
    lam_request_free(&r);
    snprintf(b, sizeof b,
             "{\"session\":\"s\",\"observation\":%s,\"executed\":\"type e1 \\\"x\\\" ; click "
             "e2\"}",
             OBS);
    OK(lam_request_from_text(b, strlen(b), &r, &err));
    CHECK(r.has_executed && r.executed.n == 2 && r.executed.items[1].type == LAM_ACT_CLICK,
          "executed as text");
    lam_request_free(&r);
    snprintf(b, sizeof b, "{\"session\":\"s\",\"observation\":%s,\"executed\":[]}", OBS);
    OK(lam_request_from_text(b, strlen(b), &r, &err));
    CHECK(r.has_executed && r.executed.n == 0, "executed empty");
    lam_request_free(&r);
    snprintf(b, sizeof b, "{\"observation\":%s}", OBS);
    expect_req(b, "task: missing");
    snprintf(b, sizeof b, "{\"session\":\"a b\",\"task\":\"t\",\"observation\":%s}", OBS);
    expect_req(b, "session: must be 1 to 128 characters");
    snprintf(b, sizeof b, "{\"session\":7,\"task\":\"t\",\"observation\":%s}", OBS);
    expect_req(b, "session: must be a string");
    snprintf(b, sizeof b, "{\"task\":\"t\",\"observation\":%s,\"executed\":[]}", OBS);
    expect_req(b, "executed: only with a session");
    snprintf(b, sizeof b,
             "{\"session\":\"s\",\"observation\":%s,\"executed\":[{\"type\":\"click\"}]}", OBS);
    expect_req(b, "executed[0].element: missing");
    snprintf(b, sizeof b, "{\"task\":\"t\",\"observation\":%s,\"a b\":1}", OBS);
    expect_req(b, "[\"a b\"]: unknown field");
    snprintf(b, sizeof b, "{\"task\":\"t\",\"observation\":%s,\"model\":3}", OBS);
    expect_req(b, "model: must be a string");
    /* the field of an error message */
    struct {
        const char *msg, *field;
    } f[] = {{"observation.elements[2].role: unknown role", "observation.elements[2].role"},
             {"history[1][\"a: b\"]: unknown field", "history[1][\"a: b\"]"},
             {"request: invalid JSON at line 1", NULL},
             {"the prompt is 900 tokens; at most 800 fit", NULL},
             {"options: max_actions, top_k and seed must be whole numbers", "options"},
             {"no colon here", NULL}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char buf[128];
        const char *got = lam_request_error_field(f[i].msg, buf, sizeof buf);
        CHECK(f[i].field ? got && !strcmp(got, f[i].field) : !got, "\"%s\" gave %s", f[i].msg,
              got ? got : "NULL");
    }
    char kp[128];
    lam_request_key_path(kp, sizeof kp, "options", "top_k");
    CHECK(!strcmp(kp, "options.top_k"), "%s", kp);
    lam_request_key_path(kp, sizeof kp, "", "a \"b\"");
    CHECK(!strcmp(kp, "[\"a \\\"b\\\"\"]"), "%s", kp);
}

/* ---- stream_actions ---- */

static char *rand_value(uint64_t seed, uint64_t k) {
    static const char *bits[] = {"a", "\"", "\\", " ; ", "<end>", " ", "é", "\n", "x y", ";"};
    char *v = malloc(64);
    v[0] = 0;
    int n = (int)(lam_rng_uniform(seed, 7, k) * 6);
    for (int i = 0; i < n; i++) strcat(v, bits[(int)(lam_rng_uniform(seed, 8, k * 8 + i) * 10)]);
    return v;
}

static void test_stream_actions(void) {
    uint64_t seed = test_seed();
    lam_act_list got;
    lam_act_list_init(&got);
    long prefixes = 0;
    for (int k = 0; k < 400; k++) {
        int n = 1 + (int)(lam_rng_uniform(seed, 1, k) * 5);
        lam_action a[5];
        char *vals[5] = {0};
        size_t ends[5]; /* where action i's text ends in the whole text */
        char text[4096];
        size_t len = 0;
        for (int i = 0; i < n; i++) {
            int t = (int)(lam_rng_uniform(seed, 2, (uint64_t)(k * 8 + i)) * 5);
            vals[i] = rand_value(seed, (uint64_t)(k * 8 + i));
            lam_action x = {LAM_ACT_CLICK, "e1", NULL};
            if (t == 1) x = (lam_action){LAM_ACT_TYPE, "e12", vals[i]};
            if (t == 2) x = (lam_action){LAM_ACT_SELECT, "size", vals[i]};
            if (t == 3) x = (lam_action){LAM_ACT_SCROLL, NULL, "down"};
            if (t == 4) x = (lam_action){LAM_ACT_PRESS, NULL, vals[i][0] ? vals[i] : "Enter"};
            if (i == n - 1 && lam_rng_uniform(seed, 3, k) < 0.3f)
                x = (lam_action){LAM_ACT_DONE, NULL, vals[i]};
            a[i] = x;
            size_t l1;
            if (i) memcpy(text + len, LAM_ACT_SEP, 3), len += 3;
            /* every other answer labelled, as a target_names model writes it */
            static const char *const names[] = {"Search", "say \"hi\" ; x", "a\\b", "", NULL};
            const char *nm = names[(k + i) % 5];
            /* and every third with values after a space, as a value_space model writes them */
            unsigned f = LAM_ACT_NO_END | (k % 3 == 2 ? LAM_ACT_LEAD_SPACE : 0);
            if (k % 2)
                OK(lam_act_print_labelled(&a[i], &nm, 1, f, text + len, sizeof text - len, &l1,
                                          &err));
            else
                OK(lam_act_print(&a[i], 1, f, text + len, sizeof text - len, &l1, &err));
            len += l1;
            ends[i] = len;
        }
        memcpy(text + len, " <end>", 7);
        len += 6;
        for (size_t p = 0; p <= len; p++, prefixes++) {
            int want = 0;
            for (int i = 0; i < n; i++) want += ends[i] + (i < n - 1 ? 3 : 6) <= p;
            int have = lam_chat_complete_actions(text, p, k % 3 == 2, &got);
            int same = have == want;
            for (int i = 0; same && i < have; i++)
                same = got.items[i].type == a[i].type &&
                       !strcmp(got.items[i].element ? got.items[i].element : "",
                               a[i].element ? a[i].element : "") &&
                       !strcmp(got.items[i].value ? got.items[i].value : "",
                               a[i].value ? a[i].value : "");
            CHECK(same, "answer %d, prefix %zu of \"%s\": %d actions, want %d", k, p, text, have,
                  want);
        }
        for (int i = 0; i < n; i++) free(vals[i]);
    }
    /* random bytes: what is returned re-prints to a prefix of the input */
    long taken = 0;
    for (int k = 0; k < 20000; k++) {
        /* random pieces of answers, spliced */
        static const char *piece[] = {"click e1", " ; ", "type e1 \"",  "x", "\\\"", "\"",
                                      " <end>",   ";",   "scroll down", " ", "done", "e2"};
        char buf[256];
        int n = 0, m = (int)(lam_rng_uniform(seed, 4, k) * 12);
        for (int i = 0; i < m; i++) {
            const char *p = piece[(int)(lam_rng_uniform(seed, 5, (uint64_t)k * 64 + i) * 12)];
            memcpy(buf + n, p, strlen(p));
            n += (int)strlen(p);
        }
        int have = lam_chat_complete_actions(buf, (size_t)n, 0, &got);
        if (have > 0) {
            char re[256];
            size_t rl;
            OK(lam_act_print(got.items, got.n, LAM_ACT_NO_END, re, sizeof re, &rl, &err));
            CHECK(rl <= (size_t)n && !memcmp(re, buf, rl), "\"%.*s\" gave \"%s\"", n, buf, re);
            taken++;
        }
    }
    lam_act_list_free(&got);
    printf("stream_actions: %ld prefixes of 400 answers as printed (half of them labelled, a third "
           "with values after a space); %ld of "
           "20000 random texts "
           "gave actions, each a prefix\n",
           prefixes, taken);
}

/* ---- sessions ---- */

static void obs_of(lam_observation *o) {
    json_t *j = json_loads(OBS, 0, NULL);
    OK(lam_observation_from_json(j, "obs", o, NULL));
    json_decref(j);
}

static void test_sessions(void) {
    lam_sessions_opts so;
    lam_sessions_opts_default(&so);
    so.max_sessions = 2, so.ttl_s = 10, so.max_history = 3;
    lam_sessions *s;
    OK(lam_sessions_create(&so, &s, &err));
    lam_observation obs;
    obs_of(&obs);
    lam_session_view v;
    lam_ses_refusal why;
    lam_act_list ans, ex;
    lam_act_list_init(&ans), lam_act_list_init(&ex);
    OK(lam_act_list_push(&ans, LAM_ACT_TYPE, "e1", "Paris", &err));
    OK(lam_act_list_push(&ans, LAM_ACT_CLICK, "e2", NULL, &err));
    /* unknown without a task */
    CHECK(lam_sessions_begin(s, "a", NULL, NULL, NULL, 0, &v, &why, &err) != LAM_OK &&
              why == LAM_SES_UNKNOWN && !strncmp(err.msg, "session:", 8),
          "%s", err.msg);
    /* start, with a history before */
    lam_act_list h0;
    lam_act_list_init(&h0);
    OK(lam_act_list_push(&h0, LAM_ACT_SCROLL, NULL, "down", &err));
    OK(lam_sessions_begin(s, "a", "task A", &h0, NULL, 0, &v, &why, &err));
    CHECK(!strcmp(v.task, "task A") && v.history.n == 1, "start");
    lam_session_view_free(&v);
    /* busy while in flight */
    CHECK(lam_sessions_begin(s, "a", NULL, NULL, NULL, 1, &v, &why, &err) != LAM_OK &&
              why == LAM_SES_CONFLICT,
          "busy: %s", err.msg);
    OK(lam_sessions_end(s, "a", &ans, &obs, 1, &err));
    /* continue: the last answer joins the history (capped at 3: the oldest goes) */
    OK(lam_sessions_begin(s, "a", NULL, NULL, NULL, 2, &v, &why, &err));
    CHECK(v.history.n == 3 && v.history.items[0].type == LAM_ACT_SCROLL &&
              v.history.items[2].type == LAM_ACT_CLICK,
          "continue: %d actions", v.history.n);
    lam_session_view_free(&v);
    OK(lam_sessions_end(s, "a", &ans, &obs, 3, &err));
    /* executed replaces the last answer; checked against its observation */
    OK(lam_act_list_push(&ex, LAM_ACT_SELECT, "e3", "L", &err));
    CHECK(lam_sessions_begin(s, "a", NULL, NULL, &ex, 4, &v, &why, &err) != LAM_OK &&
              why == LAM_SES_BAD && strstr(err.msg, "executed:") && strstr(err.msg, "option"),
          "executed option: %s", err.msg);
    lam_act_list_clear(&ex);
    OK(lam_act_list_push(&ex, LAM_ACT_CLICK, "e404", NULL, &err));
    CHECK(lam_sessions_begin(s, "a", NULL, NULL, &ex, 4, &v, &why, &err) != LAM_OK &&
              why == LAM_SES_BAD && strstr(err.msg, "e404"),
          "executed unknown element: %s", err.msg);
    lam_act_list_clear(&ex);
    OK(lam_act_list_push(&ex, LAM_ACT_SELECT, "e3", "M", &err));
    OK(lam_sessions_begin(s, "a", "task A", NULL, &ex, 4, &v, &why, &err));
    CHECK(v.history.n == 3 && v.history.items[2].type == LAM_ACT_SELECT &&
              v.history.items[1].type == LAM_ACT_CLICK,
          "executed joins");
    lam_session_view_free(&v);
    /* a failed request leaves the session as it was */
    OK(lam_sessions_end(s, "a", NULL, &obs, 5, &err));
    OK(lam_sessions_begin(s, "a", NULL, NULL, NULL, 6, &v, &why, &err));
    CHECK(v.history.n == 3 && v.history.items[2].type == LAM_ACT_CLICK, "failure kept nothing");
    lam_session_view_free(&v);
    OK(lam_sessions_end(s, "a", &ans, &obs, 6, &err));
    /* another task, history with a live session, executed on a new one */
    CHECK(lam_sessions_begin(s, "a", "task B", NULL, NULL, 7, &v, &why, &err) != LAM_OK &&
              why == LAM_SES_CONFLICT && !strncmp(err.msg, "task:", 5),
          "%s", err.msg);
    CHECK(lam_sessions_begin(s, "a", NULL, &h0, NULL, 7, &v, &why, &err) != LAM_OK &&
              why == LAM_SES_BAD && !strncmp(err.msg, "history:", 8),
          "%s", err.msg);
    CHECK(lam_sessions_begin(s, "b", "t", NULL, &ex, 7, &v, &why, &err) != LAM_OK &&
              why == LAM_SES_BAD && !strncmp(err.msg, "executed:", 9),
          "%s", err.msg);
    /* a failed first request leaves no session */
    OK(lam_sessions_begin(s, "b", "task B", NULL, NULL, 7, &v, &why, &err));
    lam_session_view_free(&v);
    OK(lam_sessions_end(s, "b", NULL, &obs, 7, &err));
    CHECK(lam_sessions_count(s, 7) == 1, "failed first request");
    /* the cap: 2 live sessions */
    OK(lam_sessions_begin(s, "b", "task B", NULL, NULL, 8, &v, &why, &err));
    lam_session_view_free(&v);
    OK(lam_sessions_end(s, "b", &ans, &obs, 8, &err));
    CHECK(lam_sessions_begin(s, "c", "task C", NULL, NULL, 9, &v, &why, &err) != LAM_OK &&
              why == LAM_SES_FULL,
          "full: %s", err.msg);
    /* expiry: "a" was last used at 6, "b" at 8; at 16.5 "a" is gone */
    CHECK(lam_sessions_count(s, 16.5) == 1, "expiry");
    json_t *g = lam_sessions_get(s, "b", 16.5);
    CHECK(g && json_array_size(json_object_get(g, "last_answer")) == 2 &&
              !strcmp(json_string_value(json_object_get(g, "task")), "task B"),
          "get");
    json_decref(g);
    CHECK(lam_sessions_get(s, "a", 16.5) == NULL, "expired get");
    OK(lam_sessions_begin(s, "c", "task C", NULL, NULL, 17, &v, &why, &err));
    lam_session_view_free(&v);
    CHECK(lam_sessions_delete(s, "c") == -1 && lam_sessions_delete(s, "b") == 1 &&
              lam_sessions_delete(s, "b") == 0,
          "delete");
    lam_act_list_free(&ans), lam_act_list_free(&ex), lam_act_list_free(&h0);
    lam_observation_free(&obs);
    lam_sessions_free(s);
    printf("sessions: start, continue, executed, failures, conflicts, cap, expiry, delete\n");
}

/* ---- metrics ---- */

static double value_of(const char *text, const char *series) {
    const char *p = text;
    size_t n = strlen(series);
    while ((p = strstr(p, series))) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ') return atof(p + n + 1);
        p += n;
    }
    return NAN;
}

static void test_metrics(void) {
    lam_metrics *m;
    OK(lam_metrics_create(&m, &err));
    lam_metrics_request(m, LAM_EP_ACT, 200, 0.003);
    lam_metrics_request(m, LAM_EP_ACT, 200, 0.2);
    lam_metrics_request(m, LAM_EP_ACT, 400, 0.0001);
    lam_metrics_request(m, LAM_EP_CHAT, 503, 70);
    lam_metrics_decoded(m, 100, 7, 0.01, 0.02);
    lam_metrics_decoded(m, 50, 3, 0.0, 0.5);
    lam_metrics_step(m, 3, 0.002);
    lam_metrics_step(m, 16, 0.004);
    lam_metrics_gauges(m, 5, 3, 2, 9);
    lam_metrics_capacity(m, 256, 16);
    char *t;
    size_t len;
    OK(lam_metrics_render(m, &t, &len, &err));
    struct {
        const char *series;
        double want;
    } cases[] = {
        {"lam_requests_total{endpoint=\"act\",code=\"200\"}", 2},
        {"lam_requests_total{endpoint=\"act\",code=\"400\"}", 1},
        {"lam_requests_total{endpoint=\"chat_completions\",code=\"503\"}", 1},
        {"lam_request_duration_seconds_bucket{endpoint=\"act\",le=\"0.001\"}", 1},
        {"lam_request_duration_seconds_bucket{endpoint=\"act\",le=\"0.005\"}", 2},
        {"lam_request_duration_seconds_bucket{endpoint=\"act\",le=\"+Inf\"}", 3},
        {"lam_request_duration_seconds_bucket{endpoint=\"chat_completions\",le=\"60\"}", 0},
        {"lam_request_duration_seconds_bucket{endpoint=\"chat_completions\",le=\"+Inf\"}", 1},
        {"lam_request_duration_seconds_count{endpoint=\"act\"}", 3},
        {"lam_request_duration_seconds_sum{endpoint=\"act\"}", 0.2031},
        {"lam_prompt_tokens_total", 150},
        {"lam_completion_tokens_total", 10},
        {"lam_decode_steps_total", 2},
        {"lam_decode_step_sequences_total", 19},
        {"lam_decode_batch_size_bucket{le=\"4\"}", 1},
        {"lam_decode_batch_size_bucket{le=\"16\"}", 2},
        {"lam_queue_depth", 5},
        {"lam_batch_size", 3},
        {"lam_sessions", 2},
        {"lam_requests_in_flight", 9},
        {"lam_queue_capacity", 256},
        {"lam_time_to_first_token_seconds_bucket{le=\"0.025\"}", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = value_of(t, cases[i].series);
        CHECK(fabs(v - cases[i].want) < 1e-9, "%s is %g, want %g", cases[i].series, v,
              cases[i].want);
    }
    CHECK(t[len - 1] == '\n' && strlen(t) == len, "the text ends with a newline");
    free(t);
    lam_metrics_free(m);
    printf("metrics: %zu series as expected\n", sizeof cases / sizeof cases[0]);
}

/* ---- types ---- */

static void test_types(const char *ckpt) {
    uint64_t seed = test_seed();
    lam_agent_opts ao;
    lam_agent_opts_default(&ao);
    ao.threads = 1, ao.max_seqs = 16;
    lam_agent *a;
    OK(lam_agent_load(ckpt, &ao, &a, &err));
    enum { N = 96 };
    lam_sim_env *envs[N];
    lam_observation obs[N];
    lam_act_req req[N];
    lam_act_res res[N];
    for (int i = 0; i < N; i++) {
        OK(lam_sim_create(&envs[i], &err));
        OK(lam_sim_reset(envs[i], i % lam_sim_n_apps(), -1, seed + (uint64_t)i, &err));
        lam_sim_observe(envs[i], &obs[i]);
        lam_act_req_init(&req[i]);
        req[i].task = lam_sim_task(envs[i]);
        req[i].obs = &obs[i];
        req[i].max_actions = 4;
        req[i].sampling.temperature = 1.5f;
        req[i].sampling.seed = seed;
        req[i].stream = (uint64_t)i;
        /* a random non-empty set; every 8th only "select" (impossible on an observation without
         * a combobox: then refused) */
        unsigned t = 0;
        while (!t) t = (unsigned)(lam_rng_uniform(seed, 9, (uint64_t)i) * (1u << LAM_ACT_COUNT));
        if (i % 8 == 0) t = 1u << LAM_ACT_SELECT;
        req[i].types = t;
    }
    OK(lam_agent_run(a, req, res, N, &err));
    int answered = 0, refused = 0, actions = 0, too_long = 0;
    for (int i = 0; i < N; i++) {
        if (res[i].status != LAM_OK && strstr(res[i].error, "the prompt is")) {
            too_long++; /* the tiny model's 1024 positions */
            continue;
        }
        if (res[i].status != LAM_OK) {
            /* refused only when no element of the observation takes an allowed action */
            int possible = 0;
            for (int e = 0; e < obs[i].n_elements; e++)
                for (int t = 0; t < LAM_ACT_COUNT; t++)
                    if ((req[i].types >> t & 1) &&
                        (lam_action_element_rule((lam_action_type)t) != 1 ||
                         (!obs[i].elements[e].disabled &&
                          lam_role_allows(obs[i].elements[e].role, (lam_action_type)t) &&
                          (t != LAM_ACT_SELECT || obs[i].elements[e].n_options > 0))))
                        possible = 1;
            CHECK(!possible && strstr(res[i].error, "no action of the allowed types"),
                  "request %d (types %x) refused: %s", i, req[i].types, res[i].error);
            refused++;
            continue;
        }
        answered++;
        lam_act_list l;
        lam_act_list_init(&l);
        lam_error e = {0};
        lam_status st = lam_act_parse(res[i].text, strlen(res[i].text), &l, NULL, &e);
        if (st == LAM_OK) st = lam_act_check(l.items, l.n, &obs[i], &e);
        CHECK(st == LAM_OK, "answer \"%s\": %s", res[i].text, e.msg);
        for (int k = 0; k < l.n; k++, actions++)
            CHECK(req[i].types >> l.items[k].type & 1, "answer \"%s\" uses %s (types %x)",
                  res[i].text, lam_action_name(l.items[k].type), req[i].types);
        lam_act_list_free(&l);
        lam_act_res_free(&res[i]);
    }
    for (int i = 0; i < N; i++) lam_sim_free(envs[i]);
    lam_agent_free(a);
    printf("types: %d answers (%d actions) all of allowed types, %d requests refused (no allowed "
           "action possible), %d prompts too long for the model\n",
           answered, actions, refused, too_long);
    CHECK(answered >= N / 2, "only %d answered", answered);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "chat"))
        test_chat();
    else if (!strcmp(mode, "request"))
        test_request();
    else if (!strcmp(mode, "stream_actions"))
        test_stream_actions();
    else if (!strcmp(mode, "sessions"))
        test_sessions();
    else if (!strcmp(mode, "metrics"))
        test_metrics();
    else if (!strcmp(mode, "types") && argc > 2) {
        lam_backends_init();
        test_types(argv[2]);
    } else {
        fprintf(stderr,
                "usage: test_serve chat|request|stream_actions|sessions|metrics|types CKPT\n");
        return 2;
    }
    printf("%s: %s\n", mode, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
