/* server_chat.c - OpenAI's chat-completions format for action requests (server_chat.h). */
#define _POSIX_C_SOURCE 200809L
#include "lam/server_chat.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *jtype(const json_t *v) {
    if (!v) return "nothing";
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
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

void lam_chat_req_free(lam_chat_req *c) {
    lam_request_free(&c->r);
    free(c->model);
    memset(c, 0, sizeof *c);
}

/* ---- the tools ---- */

typedef struct {
    const char *desc;
    const char *element; /* the element's description, NULL: takes none */
    int element_required;
    const char *value; /* the value's description, NULL: takes none */
    int value_required;
} tool_doc;

static const tool_doc tool_docs[LAM_ACT_COUNT] = {
    [LAM_ACT_CLICK] = {"Click an element.", "the id of the element", 1, NULL, 0},
    [LAM_ACT_TYPE] = {"Type text into a text field, replacing its content.",
                      "the id of a textbox, searchbox or combobox", 1,
                      "the text (empty clears the field)", 1},
    [LAM_ACT_SELECT] = {"Choose one of a combobox's options.", "the id of the combobox", 1,
                        "the option, exactly as listed", 1},
    [LAM_ACT_HOVER] = {"Move the pointer over an element.", "the id of the element", 1, NULL, 0},
    [LAM_ACT_PRESS] = {"Press a key, on an element or on the page.",
                       "the id of the element (none: the page)", 0,
                       "the key: Enter, Tab, Escape, ArrowDown, ...", 1},
    [LAM_ACT_SCROLL] = {"Scroll the page, or a scrollable list or dialog.",
                        "the id of the list or dialog (none: the page)", 0, "up or down", 1},
    [LAM_ACT_GOTO] = {"Go to a URL.", NULL, 0, "the URL", 1},
    [LAM_ACT_BACK] = {"Go back to the previous page.", NULL, 0, NULL, 0},
    [LAM_ACT_DONE] = {"The task is done; the value answers the task when it asks a question.", NULL,
                      0, "the answer", 0},
};

json_t *lam_chat_tools(void) {
    json_t *arr = json_array();
    for (int t = 0; arr && t < LAM_ACT_COUNT; t++) {
        const tool_doc *d = &tool_docs[t];
        json_t *props = json_object(), *req = json_array();
        if (!props || !req) {
            json_decref(props), json_decref(req), json_decref(arr);
            return NULL;
        }
        int bad = 0;
        if (d->element) {
            bad |= json_object_set_new(
                props, "element",
                json_pack("{s:s, s:s}", "type", "string", "description", d->element));
            if (d->element_required) bad |= json_array_append_new(req, json_string("element"));
        }
        if (d->value) {
            json_t *v = json_pack("{s:s, s:s}", "type", "string", "description", d->value);
            if (v && t == LAM_ACT_SCROLL)
                bad |= json_object_set_new(v, "enum", json_pack("[s, s]", "up", "down"));
            bad |= json_object_set_new(props, "value", v);
            if (d->value_required) bad |= json_array_append_new(req, json_string("value"));
        }
        json_t *fn =
            json_pack("{s:s, s:s, s:{s:s, s:o, s:o}}", "name", lam_action_name((lam_action_type)t),
                      "description", d->desc, "parameters", "type", "object", "properties", props,
                      "required", req);
        json_t *tool = fn ? json_pack("{s:s, s:o}", "type", "function", "function", fn) : NULL;
        if (bad || !tool || json_array_append_new(arr, tool)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* ---- the request ---- */

/* The text of a message's content: a string, or an array of {"type": "text", "text"} parts
 * joined; null gives "" (an assistant message with tool calls). *out is malloc'd. */
static lam_status content_text(const json_t *c, const char *path, char **out, lam_error *err) {
    *out = NULL;
    if (!c || json_is_null(c)) {
        *out = strdup("");
    } else if (json_is_string(c)) {
        *out = strndup(json_string_value(c), json_string_length(c));
    } else if (json_is_array(c)) {
        size_t n = 0, i;
        json_t *p;
        json_array_foreach(c, i, p) {
            json_t *ty = json_object_get(p, "type"), *tx = json_object_get(p, "text");
            if (!json_is_object(p) || !json_is_string(ty) || strcmp(json_string_value(ty), "text"))
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "%s[%zu]: only text parts ({\"type\": \"text\", \"text\": "
                                     "...}) are understood",
                                     path, i);
            if (!json_is_string(tx))
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "%s[%zu].text: must be a string (got %s)", path, i,
                                     tx ? jtype(tx) : "nothing");
            n += json_string_length(tx);
        }
        char *s = malloc(n + 1);
        if (!s) return lam_error_set(err, LAM_ERR_NOMEM, "request: out of memory");
        size_t at = 0;
        json_array_foreach(c, i, p) {
            json_t *tx = json_object_get(p, "text");
            memcpy(s + at, json_string_value(tx), json_string_length(tx));
            at += json_string_length(tx);
        }
        s[at] = 0;
        *out = s;
    } else {
        return lam_error_set(err, LAM_ERR_INVALID,
                             "%s: must be a string or an array of text parts (got %s)", path,
                             jtype(c));
    }
    return *out ? LAM_OK : lam_error_set(err, LAM_ERR_NOMEM, "request: out of memory");
}

/* One assistant tool call as an action appended to hist. */
static lam_status tool_call(const json_t *tc, const char *path, lam_act_list *hist,
                            lam_error *err) {
    if (!json_is_object(tc))
        return lam_error_set(err, LAM_ERR_INVALID, "%s: must be an object (got %s)", path,
                             jtype(tc));
    json_t *ty = json_object_get(tc, "type"), *fn = json_object_get(tc, "function");
    if (ty && !(json_is_string(ty) && !strcmp(json_string_value(ty), "function")))
        return lam_error_set(err, LAM_ERR_INVALID, "%s.type: must be \"function\"", path);
    if (!json_is_object(fn))
        return lam_error_set(err, LAM_ERR_INVALID, "%s.function: must be an object (got %s)", path,
                             fn ? jtype(fn) : "nothing");
    json_t *name = json_object_get(fn, "name"), *args = json_object_get(fn, "arguments");
    int t = json_is_string(name) ? lam_action_parse(json_string_value(name)) : -1;
    if (t < 0)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "%s.function.name: %s%.64s%s is not an action type (click, type, "
                             "select, hover, press, scroll, goto, back, done)",
                             path, json_is_string(name) ? "\"" : "",
                             json_is_string(name) ? json_string_value(name)
                                                  : (name ? jtype(name) : "nothing"),
                             json_is_string(name) ? "\"" : "");
    json_t *a = NULL;
    if (args && !json_is_null(args)) {
        if (!json_is_string(args))
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "%s.function.arguments: must be a string of JSON (got %s)", path,
                                 jtype(args));
        json_error_t je;
        a = json_loadb(json_string_value(args), json_string_length(args), JSON_REJECT_DUPLICATES,
                       &je);
        if (!a || !json_is_object(a)) {
            json_decref(a);
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "%s.function.arguments: must be a JSON object (%s at byte %d)",
                                 path, a ? "not an object" : je.text, je.position);
        }
    }
    const char *el = NULL, *val = NULL, *key;
    json_t *v;
    lam_status st = LAM_OK;
    json_object_foreach(a, key, v) {
        int str = json_is_string(v) || json_is_null(v);
        if (!strcmp(key, "element") && str)
            el = json_is_null(v) ? NULL : json_string_value(v);
        else if (!strcmp(key, "value") && str)
            val = json_is_null(v) ? NULL : json_string_value(v);
        else if ((!strcmp(key, "role") || !strcmp(key, "name")) && str)
            continue; /* the echo of the element's role and name */
        else {
            char base[128], kp[192];
            snprintf(base, sizeof base, "%s.function.arguments", path);
            lam_request_key_path(kp, sizeof kp, base, key);
            st = lam_error_set(err, LAM_ERR_INVALID, "%s: %s", kp,
                               str ? "unknown argument (known: element, value, role, name)"
                                   : "must be a string");
            break;
        }
    }
    if (st == LAM_OK) {
        lam_action act = {(lam_action_type)t, (char *)el, (char *)val};
        lam_error fe = {0};
        if (lam_act_check_form(&act, &fe) != LAM_OK)
            st = lam_error_set(err, LAM_ERR_INVALID, "%s.function.arguments: %s", path, fe.msg);
        else
            st = lam_act_list_push(hist, act.type, el, val, err);
    }
    json_decref(a);
    return st;
}

/* A number field of the body in [lo, hi] (whole when integer), into *v when present. */
static lam_status num_field(const json_t *j, const char *name, double lo, double hi, int integer,
                            double *v, lam_error *err) {
    json_t *x = json_object_get(j, name);
    if (!x || json_is_null(x)) return LAM_OK;
    double d = json_is_number(x) ? json_number_value(x) : NAN;
    if (!(d >= lo && d <= hi) || (integer && d != floor(d)))
        return lam_error_set(err, LAM_ERR_INVALID, "%s: must be %s in [%g, %g] (got %s)", name,
                             integer ? "a whole number" : "a number", lo, hi,
                             json_is_number(x) ? "a number outside" : jtype(x));
    *v = d;
    return LAM_OK;
}

static lam_status bool_field(const json_t *j, const char *name, int *v, lam_error *err) {
    json_t *x = json_object_get(j, name);
    if (!x || json_is_null(x)) return LAM_OK;
    if (!json_is_boolean(x))
        return lam_error_set(err, LAM_ERR_INVALID, "%s: must be a boolean (got %s)", name,
                             jtype(x));
    *v = json_is_true(x);
    return LAM_OK;
}

/* tools and tool_choice: the action types the answer may use (0: all). */
static lam_status parse_tools(const json_t *j, unsigned *types, lam_error *err) {
    json_t *tools = json_object_get(j, "tools"), *tc = json_object_get(j, "tool_choice");
    unsigned offered = 0;
    if (tools && !json_is_null(tools)) {
        if (!json_is_array(tools))
            return lam_error_set(err, LAM_ERR_INVALID, "tools: must be an array (got %s)",
                                 jtype(tools));
        size_t i;
        json_t *t;
        json_array_foreach(tools, i, t) {
            json_t *ty = json_object_get(t, "type"), *fn = json_object_get(t, "function");
            json_t *name = json_object_get(fn, "name");
            if (!json_is_object(t) || !json_is_string(ty) ||
                strcmp(json_string_value(ty), "function"))
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "tools[%zu]: must be {\"type\": \"function\", \"function\": "
                                     "{...}}",
                                     i);
            int a = json_is_string(name) ? lam_action_parse(json_string_value(name)) : -1;
            if (a < 0)
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "tools[%zu].function.name: %s%.64s%s is not an action type "
                                     "(click, type, select, hover, press, scroll, goto, back, "
                                     "done; GET /v1/tools lists them)",
                                     i, json_is_string(name) ? "\"" : "",
                                     json_is_string(name) ? json_string_value(name)
                                                          : (name ? jtype(name) : "nothing"),
                                     json_is_string(name) ? "\"" : "");
            offered |= 1u << a;
        }
        if (!offered)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "tools: empty; leave it out to offer every action type");
    }
    *types = offered;
    if (!tc || json_is_null(tc)) return LAM_OK;
    if (json_is_string(tc)) {
        const char *s = json_string_value(tc);
        if (!strcmp(s, "auto") || !strcmp(s, "required")) return LAM_OK;
        if (!strcmp(s, "none"))
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "tool_choice: \"none\" is not supported: the model answers only "
                                 "with actions (tool calls)");
        return lam_error_set(err, LAM_ERR_INVALID,
                             "tool_choice: must be \"auto\", \"required\" or {\"type\": "
                             "\"function\", \"function\": {\"name\": ...}}");
    }
    json_t *name = json_object_get(json_object_get(tc, "function"), "name");
    int a = json_is_string(name) ? lam_action_parse(json_string_value(name)) : -1;
    if (!json_is_object(tc) || a < 0)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "tool_choice: must be \"auto\", \"required\" or {\"type\": "
                             "\"function\", \"function\": {\"name\": ACTION TYPE}}");
    if (offered && !(offered & (1u << a)))
        return lam_error_set(err, LAM_ERR_INVALID,
                             "tool_choice.function.name: \"%s\" is not one of the tools offered",
                             json_string_value(name));
    *types = 1u << a;
    return LAM_OK;
}

static const char *const known_fields[] = {"model",
                                           "messages",
                                           "tools",
                                           "tool_choice",
                                           "parallel_tool_calls",
                                           "stream",
                                           "stream_options",
                                           "temperature",
                                           "top_p",
                                           "top_k",
                                           "seed",
                                           "n",
                                           "max_tokens",
                                           "max_completion_tokens",
                                           "user",
                                           "metadata",
                                           "store",
                                           "frequency_penalty",
                                           "logprobs",
                                           "presence_penalty",
                                           "max_actions",
                                           NULL};

/* The observation in text (a message's content): an observation object, or an object with
 * "observation" (and maybe "task", returned in *task_json). */
static lam_status observation_of(const char *text, const char *path, lam_observation *obs,
                                 json_t **task_json, lam_error *err) {
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        lam_status st = lam_error_set(
            err, LAM_ERR_INVALID,
            "%s: the last user or tool message must hold the observation as a JSON object (%s%s "
            "at line %d, column %d)",
            path, j ? "" : "invalid JSON: ", j ? "not an object" : je.text, je.line, je.column);
        json_decref(j);
        return st;
    }
    json_t *o = json_object_get(j, "observation");
    char base[96];
    if (o) {
        snprintf(base, sizeof base, "%s.observation", path);
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v) if (strcmp(key, "observation") && strcmp(key, "task")) {
            char kp[192];
            lam_request_key_path(kp, sizeof kp, path, key);
            lam_status st = lam_error_set(err, LAM_ERR_INVALID,
                                          "%s: unknown field (known: task, observation)", kp);
            json_decref(j);
            return st;
        }
    } else {
        snprintf(base, sizeof base, "%s", path);
        o = j;
    }
    lam_problem items[1];
    lam_problems probs;
    lam_problems_init(&probs, items, 1);
    lam_status st = lam_observation_from_json(o, base, obs, &probs);
    if (st != LAM_OK)
        lam_error_set(err, st, "%s: %s%s", probs.n ? items[0].path : base,
                      probs.n ? items[0].msg : "invalid",
                      probs.n > 1 ? " (and more problems)" : "");
    if (st == LAM_OK && task_json) {
        *task_json = json_object_get(j, "task");
        json_incref(*task_json);
    }
    json_decref(j);
    return st;
}

static lam_status parse_messages(const json_t *msgs, lam_request *r, lam_error *err) {
    if (!msgs) return lam_error_set(err, LAM_ERR_INVALID, "messages: missing (required)");
    if (!json_is_array(msgs) || !json_array_size(msgs))
        return lam_error_set(err, LAM_ERR_INVALID, "messages: must be a non-empty array (got %s)",
                             json_is_array(msgs) ? "an empty one" : jtype(msgs));
    long first_user = -1, last_obs = -1;
    size_t i;
    json_t *m;
    char path[64];
    lam_status st = LAM_OK;
    json_array_foreach(msgs, i, m) {
        if (!json_is_object(m))
            return lam_error_set(err, LAM_ERR_INVALID, "messages[%zu]: must be an object (got %s)",
                                 i, jtype(m));
        json_t *role = json_object_get(m, "role");
        const char *ro = json_is_string(role) ? json_string_value(role) : "";
        int user = !strcmp(ro, "user"), tool = !strcmp(ro, "tool");
        int assistant = !strcmp(ro, "assistant");
        if (!user && !tool && !assistant && strcmp(ro, "system") && strcmp(ro, "developer"))
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "messages[%zu].role: must be \"system\", \"developer\", \"user\", "
                                 "\"assistant\" or \"tool\"",
                                 i);
        if (user && first_user < 0) first_user = (long)i;
        if (user || tool) last_obs = (long)i;
        snprintf(path, sizeof path, "messages[%zu].content", i);
        json_t *c = json_object_get(m, "content");
        if (c && !json_is_null(c) && !json_is_string(c) && !json_is_array(c))
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "%s: must be a string or an array of text parts (got %s)", path,
                                 jtype(c));
        json_t *calls = json_object_get(m, "tool_calls");
        if (calls && !json_is_null(calls)) {
            if (!assistant || !json_is_array(calls))
                return lam_error_set(err, LAM_ERR_INVALID, "messages[%zu].tool_calls: %s", i,
                                     assistant ? "must be an array"
                                               : "only assistant messages "
                                                 "make tool calls");
            size_t k;
            json_t *tc;
            json_array_foreach(calls, k, tc) {
                char tp[96];
                snprintf(tp, sizeof tp, "messages[%zu].tool_calls[%zu]", i, k);
                LAM_TRY(tool_call(tc, tp, &r->history, err));
            }
        }
    }
    if (first_user < 0)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "messages: no user message (the first one holds the task)");
    char *task = NULL, *obs_text = NULL;
    snprintf(path, sizeof path, "messages[%ld].content", first_user);
    LAM_TRY(content_text(json_object_get(json_array_get(msgs, (size_t)first_user), "content"), path,
                         &task, err));
    json_t *task_json = NULL;
    if (last_obs == first_user) { /* one message: {"task", "observation"} as JSON */
        st = observation_of(task, path, &r->obs, &task_json, err);
        if (st == LAM_OK && !json_is_string(task_json))
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "%s: a single user message must hold {\"task\": \"...\", "
                               "\"observation\": {...}}; or send the task, then the observation "
                               "in a later user message",
                               path);
        if (st == LAM_OK) {
            free(task);
            task = strdup(json_string_value(task_json));
            if (!task) st = lam_error_set(err, LAM_ERR_NOMEM, "request: out of memory");
        }
    } else {
        snprintf(path, sizeof path, "messages[%ld].content", last_obs);
        st = content_text(json_object_get(json_array_get(msgs, (size_t)last_obs), "content"), path,
                          &obs_text, err);
        if (st == LAM_OK) st = observation_of(obs_text, path, &r->obs, NULL, err);
    }
    json_decref(task_json);
    free(obs_text);
    if (st == LAM_OK && !task[0])
        st = lam_error_set(err, LAM_ERR_INVALID, "messages[%ld].content: the task is empty",
                           first_user);
    if (st != LAM_OK) {
        free(task);
        return st;
    }
    r->task = task;
    return LAM_OK;
}

lam_status lam_chat_parse(const char *body, size_t len, lam_chat_req *out, lam_error *err) {
    memset(out, 0, sizeof *out);
    lam_request *r = &out->r;
    lam_act_list_init(&r->history);
    lam_act_list_init(&r->executed);
    lam_act_req_init(&r->req);
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "request: invalid JSON at line %d, column %d (byte %d): %s", je.line,
                             je.column, je.position, je.text);
    lam_status st = LAM_OK;
    const char *key;
    json_t *v;
    if (!json_is_object(j)) {
        st = lam_error_set(err, LAM_ERR_INVALID, "request: must be a JSON object (got %s)",
                           jtype(j));
        goto out;
    }
    json_object_foreach(j, key, v) {
        int ok = 0;
        for (int k = 0; known_fields[k] && !ok; k++) ok = !strcmp(key, known_fields[k]);
        if (!ok) {
            char path[128];
            lam_request_key_path(path, sizeof path, "", key);
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "%s: unknown field (docs/http-api.md lists the fields taken)", path);
            goto out;
        }
    }
    json_t *model = json_object_get(j, "model");
    if (model && !json_is_null(model)) {
        if (!json_is_string(model)) {
            st = lam_error_set(err, LAM_ERR_INVALID, "model: must be a string (got %s)",
                               jtype(model));
            goto out;
        }
        if (!(out->model = strdup(json_string_value(model)))) {
            st = lam_error_set(err, LAM_ERR_NOMEM, "request: out of memory");
            goto out;
        }
    }
    double temp = 0, top_p = 1, top_k = 0, seed = 0, n = 1, max_tok = 1, pen = 0, ma = 0;
    int parallel = 1, logprobs = 0, store = 0;
    if ((st = num_field(j, "temperature", 0, 2, 0, &temp, err)) != LAM_OK ||
        (st = num_field(j, "top_p", 1e-9, 1, 0, &top_p, err)) != LAM_OK ||
        (st = num_field(j, "top_k", 0, 1 << 24, 1, &top_k, err)) != LAM_OK ||
        (st = num_field(j, "seed", 0, 9007199254740992.0, 1, &seed, err)) != LAM_OK ||
        (st = num_field(j, "n", 1, 1, 1, &n, err)) != LAM_OK ||
        (st = num_field(j, "max_tokens", 1, 1e9, 1, &max_tok, err)) != LAM_OK ||
        (st = num_field(j, "max_completion_tokens", 1, 1e9, 1, &max_tok, err)) != LAM_OK ||
        (st = num_field(j, "frequency_penalty", 0, 0, 0, &pen, err)) != LAM_OK ||
        (st = num_field(j, "presence_penalty", 0, 0, 0, &pen, err)) != LAM_OK ||
        (st = num_field(j, "max_actions", 1, LAM_REQ_MAX_ACTIONS, 1, &ma, err)) != LAM_OK ||
        (st = bool_field(j, "parallel_tool_calls", &parallel, err)) != LAM_OK ||
        (st = bool_field(j, "stream", &out->stream, err)) != LAM_OK ||
        (st = bool_field(j, "logprobs", &logprobs, err)) != LAM_OK ||
        (st = bool_field(j, "store", &store, err)) != LAM_OK)
        goto out;
    if (logprobs) {
        st = lam_error_set(err, LAM_ERR_INVALID, "logprobs: not supported");
        goto out;
    }
    json_t *so = json_object_get(j, "stream_options");
    if (so && !json_is_null(so)) {
        json_t *iu = json_object_get(so, "include_usage");
        if (!json_is_object(so) || (iu && !json_is_boolean(iu)) || json_object_size(so) != !!iu) {
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "stream_options: must be {\"include_usage\": true|false}");
            goto out;
        }
        if (!out->stream) {
            st = lam_error_set(err, LAM_ERR_INVALID, "stream_options: only with stream: true");
            goto out;
        }
        out->include_usage = json_is_true(iu);
    }
    json_t *user = json_object_get(j, "user"), *meta = json_object_get(j, "metadata");
    if ((user && !json_is_null(user) && !json_is_string(user)) ||
        (meta && !json_is_null(meta) && !json_is_object(meta))) {
        st = lam_error_set(
            err, LAM_ERR_INVALID, "%s: must be %s",
            user && !json_is_string(user) && !json_is_null(user) ? "user" : "metadata",
            user && !json_is_string(user) && !json_is_null(user) ? "a string" : "an object");
        goto out;
    }
    if ((st = parse_tools(j, &r->req.types, err)) != LAM_OK) goto out;
    if ((st = parse_messages(json_object_get(j, "messages"), r, err)) != LAM_OK) goto out;
    r->req.sampling.temperature = (float)temp;
    r->req.sampling.top_p = (float)top_p;
    r->req.sampling.top_k = (int)top_k;
    r->req.sampling.seed = (uint64_t)seed;
    r->req.stream = (uint64_t)seed;
    r->req.max_actions = ma > 0 ? (int)ma : parallel ? 0 : 1;
    r->req.task = r->task;
    r->req.obs = &r->obs;
    r->req.history = r->history.items;
    r->req.n_history = r->history.n;
out:
    json_decref(j);
    if (st != LAM_OK) lam_chat_req_free(out);
    return st;
}

/* ---- the answer ---- */

lam_status lam_chat_arguments(const lam_action *a, const lam_observation *obs, char **out,
                              lam_error *err) {
    *out = NULL;
    json_t *arr = NULL;
    LAM_TRY(lam_act_to_json(a, 1, obs, &arr, err));
    json_t *o = json_array_get(arr, 0);
    *out =
        o && !json_object_del(o, "type") ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(arr);
    return *out ? LAM_OK : lam_error_set(err, LAM_ERR_NOMEM, "chat: out of memory");
}

/* "call_<the part of id after its last '-'>_<k>" */
static void call_id(const char *id, int k, char *buf, size_t cap) {
    const char *dash = strrchr(id, '-');
    snprintf(buf, cap, "call_%s_%d", dash ? dash + 1 : id, k);
}

static json_t *tool_call_json(const char *id, int k, const lam_action *a, const char *args) {
    char cid[96];
    call_id(id, k, cid, sizeof cid);
    return json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", cid, "type", "function", "function", "name",
                     lam_action_name(a->type), "arguments", args);
}

lam_status lam_chat_completion(const lam_act_res *res, const lam_observation *obs, const char *id,
                               const char *model, long long created, json_t **out, lam_error *err) {
    *out = NULL;
    if (res->status != LAM_OK) return lam_error_set(err, res->status, "%s", res->error);
    json_t *calls = json_array();
    if (!calls) return lam_error_set(err, LAM_ERR_NOMEM, "chat: out of memory");
    for (int k = 0; k < res->actions.n; k++) {
        char *args = NULL;
        lam_status st = lam_chat_arguments(&res->actions.items[k], obs, &args, err);
        json_t *c = st == LAM_OK ? tool_call_json(id, k, &res->actions.items[k], args) : NULL;
        free(args);
        if (st == LAM_OK && (!c || json_array_append_new(calls, c)))
            st = lam_error_set(err, LAM_ERR_NOMEM, "chat: out of memory");
        if (st != LAM_OK) {
            json_decref(calls);
            return st;
        }
    }
    json_t *j = json_pack(
        "{s:s, s:s, s:I, s:s, s:[{s:i, s:{s:s, s:n, s:o}, s:n, s:s}], s:{s:i, s:i, s:i}, s:n}",
        "id", id, "object", "chat.completion", "created", (json_int_t)created, "model", model,
        "choices", "index", 0, "message", "role", "assistant", "content", "tool_calls", calls,
        "logprobs", "finish_reason", "tool_calls", "usage", "prompt_tokens", res->prompt_tokens,
        "completion_tokens", res->output_tokens, "total_tokens",
        res->prompt_tokens + res->output_tokens, "system_fingerprint");
    if (!j) return lam_error_set(err, LAM_ERR_NOMEM, "chat: out of memory");
    *out = j;
    return LAM_OK;
}

static json_t *chunk(const char *id, const char *model, long long created, json_t *delta,
                     const char *finish) {
    if (!delta) return NULL;
    return json_pack("{s:s, s:s, s:I, s:s, s:n, s:[{s:i, s:o, s:n, s:s?}]}", "id", id, "object",
                     "chat.completion.chunk", "created", (json_int_t)created, "model", model,
                     "system_fingerprint", "choices", "index", 0, "delta", delta, "logprobs",
                     "finish_reason", finish);
}

json_t *lam_chat_chunk_role(const char *id, const char *model, long long created) {
    return chunk(id, model, created, json_pack("{s:s, s:n}", "role", "assistant", "content"), NULL);
}

lam_status lam_chat_chunk_call(const char *id, const char *model, long long created, int index,
                               const lam_action *a, const lam_observation *obs, int arguments,
                               json_t **out, lam_error *err) {
    *out = NULL;
    json_t *delta;
    if (arguments) {
        char *args = NULL;
        LAM_TRY(lam_chat_arguments(a, obs, &args, err));
        delta = json_pack("{s:[{s:i, s:{s:s}}]}", "tool_calls", "index", index, "function",
                          "arguments", args);
        free(args);
    } else {
        json_t *c = tool_call_json(id, index, a, "");
        if (c && json_object_set_new(c, "index", json_integer(index))) json_decref(c), c = NULL;
        delta = c ? json_pack("{s:[o]}", "tool_calls", c) : NULL;
    }
    *out = chunk(id, model, created, delta, NULL);
    return *out ? LAM_OK : lam_error_set(err, LAM_ERR_NOMEM, "chat: out of memory");
}

json_t *lam_chat_chunk_finish(const char *id, const char *model, long long created) {
    return chunk(id, model, created, json_object(), "tool_calls");
}

json_t *lam_chat_chunk_usage(const char *id, const char *model, long long created,
                             int prompt_tokens, int completion_tokens) {
    return json_pack("{s:s, s:s, s:I, s:s, s:n, s:[], s:{s:i, s:i, s:i}}", "id", id, "object",
                     "chat.completion.chunk", "created", (json_int_t)created, "model", model,
                     "system_fingerprint", "choices", "usage", "prompt_tokens", prompt_tokens,
                     "completion_tokens", completion_tokens, "total_tokens",
                     prompt_tokens + completion_tokens);
}

/* 1 when text[0..n) is printed[0..m) with element labels (`"Search" ` after a space, which the
 * printer of unlabelled text never writes) before some of its ids. */
static int same_but_labels(const char *printed, size_t m, const char *text, size_t n) {
    size_t i = 0, j = 0;
    while (i < m && j < n) {
        if (printed[i] == text[j]) {
            i++, j++;
            continue;
        }
        if (text[j] != '"' || printed[i] == '"' || j == 0 || text[j - 1] != ' ') return 0;
        for (j++; j < n && text[j] != '"'; j++) /* the label, then one space */
            if (text[j] == '\\') j++;
        if (j + 1 >= n || text[j + 1] != ' ') return 0;
        j += 2;
    }
    return i == m && j == n;
}

int lam_chat_complete_actions(const char *text, size_t len, int value_space, lam_act_list *out) {
    lam_act_list_clear(out);
    size_t end = 0; /* the end of the last complete action */
    int quoted = 0, done = 0;
    for (size_t i = 0; i < len && !done; i++) {
        char c = text[i];
        if (quoted) {
            if (c == '\\')
                i++; /* the escaped byte */
            else if (c == '"')
                quoted = 0;
            continue;
        }
        if (c == '"') {
            quoted = 1;
        } else if (c == ' ' && i + 2 < len && text[i + 1] == ';' && text[i + 2] == ' ') {
            end = i;
        } else if (c == ' ' && i + 5 < len && !memcmp(text + i + 1, "<end>", 5)) {
            end = i, done = 1;
        }
    }
    if (end == 0) return 0;
    /* text[0..end) followed by " <end>" is a complete answer when the prefix is canonical */
    char *buf = malloc(end + 7);
    if (!buf) return -1;
    memcpy(buf, text, end);
    memcpy(buf + end, " <end>", 6);
    lam_error e;
    lam_status st = lam_act_parse(buf, end + 6, out, NULL, &e);
    /* canonical: the actions print back to exactly text[0..end), but for element labels */
    size_t plen = 0;
    if (st == LAM_OK)
        st = lam_act_print(out->items, out->n, LAM_ACT_NO_END, buf, end + 7, &plen, &e);
    if (st == LAM_OK && !same_but_labels(buf, plen, text, end)) st = LAM_ERR_INVALID;
    free(buf);
    if (st != LAM_OK) lam_act_list_clear(out);
    if (st == LAM_OK && value_space == LAM_VALUES_SPACED) lam_prompt_unspace(out->items, out->n);
    return st == LAM_OK ? out->n : -1;
}
