/* request.c - the JSON of action requests and answers (request.h). */
#define _POSIX_C_SOURCE 200809L
#include "lam/request.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

const char *lam_request_error_field(const char *msg, char *buf, size_t cap) {
    size_t i = 0;
    for (; msg[i]; i++) {
        if (msg[i] == '"') { /* a quoted key: ["a b"] */
            for (i++; msg[i] && msg[i] != '"'; i++)
                if (msg[i] == '\\' && msg[i + 1]) i++;
            if (!msg[i]) return NULL;
        } else if (msg[i] == ':' && msg[i + 1] == ' ') {
            break;
        } else if (msg[i] == ' ') {
            return NULL;
        }
    }
    if (!msg[i] || i == 0 || i >= cap || (i == 7 && !memcmp(msg, "request", 7))) return NULL;
    memcpy(buf, msg, i);
    buf[i] = 0;
    return buf;
}

void lam_request_key_path(char *dst, size_t cap, const char *base, const char *key) {
    size_t n = strlen(key);
    int plain = n > 0 && n <= 48;
    for (size_t i = 0; plain && i < n; i++)
        plain = (key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
                (key[i] >= '0' && key[i] <= '9') || key[i] == '_';
    if (plain) {
        snprintf(dst, cap, "%s%s%s", base, *base ? "." : "", key);
        return;
    }
    char cut[41];
    snprintf(cut, sizeof cut, "%s", key);
    for (size_t i = strlen(cut); i > 0 && ((unsigned char)cut[i - 1] & 0xC0) == 0x80;)
        cut[--i] = 0; /* no half a UTF-8 character at the cut */
    if (strlen(cut) && ((unsigned char)cut[strlen(cut) - 1] & 0xC0) == 0xC0)
        cut[strlen(cut) - 1] = 0;
    json_t *q = json_string(cut);
    char *t = q ? json_dumps(q, JSON_ENCODE_ANY) : NULL;
    snprintf(dst, cap, "%s[%s]", base, t ? t : "\"?\"");
    free(t);
    json_decref(q);
}

void lam_request_free(lam_request *r) {
    free(r->task);
    free(r->session);
    lam_observation_free(&r->obs);
    lam_act_list_free(&r->history);
    lam_act_list_free(&r->executed);
    memset(r, 0, sizeof *r);
}

/* The actions of field `name` (history, executed): an array of action objects or action text
 * ("type e1 \"x\" ; click e2", with or without <end>); null or absent leaves out empty. */
static lam_status parse_actions(const json_t *h, const char *name, lam_act_list *out,
                                lam_error *err) {
    if (!h || json_is_null(h)) return LAM_OK;
    lam_status st = LAM_OK;
    if (json_is_string(h)) {
        const char *t = json_string_value(h);
        size_t n = json_string_length(h);
        if (!n) return LAM_OK;
        size_t off = 0;
        char *buf = malloc(n + 8);
        if (!buf) return lam_error_set(err, LAM_ERR_NOMEM, "request: out of memory");
        memcpy(buf, t, n);
        size_t m = n;
        while (m && (buf[m - 1] == ' ' || buf[m - 1] == '\n')) m--;
        if (m < 5 || memcmp(buf + m - 5, "<end>", 5)) memcpy(buf + m, " <end>", 6), m += 6;
        lam_error pe = {0};
        st = lam_act_parse(buf, m, out, &off, &pe);
        free(buf);
        if (st != LAM_OK) lam_error_set(err, st, "%s: %s", name, pe.msg);
        return st;
    }
    if (json_is_array(h)) {
        lam_error pe = {0};
        if (json_array_size(h) && (st = lam_act_from_json(h, out, &pe)) != LAM_OK) {
            int arr = !strncmp(pe.msg, "actions[", 8); /* "actions[i].field: ..." */
            lam_error_set(err, st, "%s%s%s", name, arr ? "" : ": ", arr ? pe.msg + 7 : pe.msg);
        }
        return st;
    }
    return lam_error_set(err, LAM_ERR_INVALID,
                         "%s: must be an array of actions or action text (got %s)", name, jtype(h));
}

static int session_id_ok(const char *s, size_t n) {
    if (n == 0 || n > LAM_REQ_MAX_SESSION_ID) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

/* options.NAME as a number in [lo, hi] into *v when present. */
static lam_status opt_num(const json_t *opts, const char *name, double lo, double hi, double *v,
                          lam_error *err) {
    json_t *x = json_object_get(opts, name);
    if (!x || json_is_null(x)) return LAM_OK;
    if (!json_is_number(x) || !(json_number_value(x) >= lo) || !(json_number_value(x) <= hi))
        return lam_error_set(err, LAM_ERR_INVALID, "options.%s: must be a number in [%g, %g]%s%s",
                             name, lo, hi, json_is_number(x) ? "" : " (got ",
                             json_is_number(x) ? "" : jtype(x));
    *v = json_number_value(x);
    return LAM_OK;
}

static lam_status parse_options(const json_t *opts, lam_act_req *q, lam_error *err) {
    if (!opts || json_is_null(opts)) return LAM_OK;
    if (!json_is_object(opts))
        return lam_error_set(err, LAM_ERR_INVALID, "options: must be an object (got %s)",
                             jtype(opts));
    static const char *known[] = {"max_actions", "temperature", "top_k", "top_p",
                                  "seed",        "copy",        NULL};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)opts, key, v) {
        int ok = 0;
        for (int k = 0; known[k] && !ok; k++) ok = !strcmp(key, known[k]);
        char path[128];
        lam_request_key_path(path, sizeof path, "options", key);
        if (!ok)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "%s: unknown option (known: max_actions, temperature, top_k, "
                                 "top_p, seed, copy)",
                                 path);
    }
    double ma = q->max_actions, t = q->sampling.temperature, tk = q->sampling.top_k;
    double tp = q->sampling.top_p, seed = (double)q->sampling.seed;
    LAM_TRY(opt_num(opts, "max_actions", 1, LAM_REQ_MAX_ACTIONS, &ma, err));
    LAM_TRY(opt_num(opts, "temperature", 0, 100, &t, err));
    LAM_TRY(opt_num(opts, "top_k", 0, 1 << 24, &tk, err));
    LAM_TRY(opt_num(opts, "top_p", 1e-9, 1, &tp, err));
    LAM_TRY(opt_num(opts, "seed", 0, 9007199254740992.0, &seed, err));
    if (ma != floor(ma) || tk != floor(tk) || seed != floor(seed))
        return lam_error_set(err, LAM_ERR_INVALID,
                             "options: max_actions, top_k and seed must be whole numbers");
    json_t *cp = json_object_get(opts, "copy");
    if (cp && !json_is_null(cp)) {
        if (json_is_string(cp) && !strcmp(json_string_value(cp), "page"))
            q->copy = 2;
        else if (json_is_boolean(cp))
            q->copy = json_is_true(cp);
        else
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "options.copy: must be true, false or \"page\" (got %s)",
                                 json_is_string(cp) ? json_string_value(cp) : jtype(cp));
    }
    q->max_actions = (int)ma;
    q->sampling.temperature = (float)t;
    q->sampling.top_k = (int)tk;
    q->sampling.top_p = (float)tp;
    q->sampling.seed = (uint64_t)seed;
    q->stream = (uint64_t)seed;
    return LAM_OK;
}

lam_status lam_request_from_json(const json_t *j, lam_request *r, lam_error *err) {
    memset(r, 0, sizeof *r);
    lam_act_list_init(&r->history);
    lam_act_list_init(&r->executed);
    lam_act_req_init(&r->req);
    if (!j || !json_is_object(j))
        return lam_error_set(err, LAM_ERR_INVALID, "request: must be a JSON object (got %s)",
                             j ? jtype(j) : "nothing");
    static const char *known[] = {"task",    "observation", "history", "options",
                                  "session", "executed",    "model",   NULL};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        int ok = 0;
        for (int k = 0; known[k] && !ok; k++) ok = !strcmp(key, known[k]);
        char path[128];
        lam_request_key_path(path, sizeof path, "", key);
        if (!ok)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "%s: unknown field (known: task, observation, history, options, "
                                 "session, executed, model)",
                                 path);
    }
    json_t *ses = json_object_get(j, "session");
    if (ses && json_is_null(ses)) ses = NULL;
    if (ses && !json_is_string(ses))
        return lam_error_set(err, LAM_ERR_INVALID, "session: must be a string (got %s)",
                             jtype(ses));
    if (ses && !session_id_ok(json_string_value(ses), json_string_length(ses)))
        return lam_error_set(err, LAM_ERR_INVALID,
                             "session: must be 1 to %d characters of A-Z a-z 0-9 . _ : -",
                             LAM_REQ_MAX_SESSION_ID);
    json_t *model = json_object_get(j, "model");
    if (model && !json_is_null(model) && !json_is_string(model))
        return lam_error_set(err, LAM_ERR_INVALID, "model: must be a string (got %s)",
                             jtype(model));
    json_t *task = json_object_get(j, "task");
    if (task && json_is_null(task)) task = NULL;
    if (!task && !ses)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "task: missing (required unless a session that has one is named)");
    if (task && (!json_is_string(task) || !json_string_length(task)))
        return lam_error_set(err, LAM_ERR_INVALID, "task: must be a non-empty string (got %s)",
                             json_is_string(task) ? "\"\"" : jtype(task));
    lam_status st = LAM_OK;
    if (task && !(r->task = strdup(json_string_value(task))))
        return lam_error_set(err, LAM_ERR_NOMEM, "request: out of memory");
    if (ses && !(r->session = strdup(json_string_value(ses)))) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "request: out of memory");
        goto fail;
    }
    json_t *obs = json_object_get(j, "observation");
    if (!obs) {
        st = lam_error_set(err, LAM_ERR_INVALID, "observation: missing (required)");
        goto fail;
    }
    lam_problem items[1];
    lam_problems probs;
    lam_problems_init(&probs, items, 1);
    if ((st = lam_observation_from_json(obs, "observation", &r->obs, &probs)) != LAM_OK) {
        lam_error_set(err, st, "%s: %s%s", probs.n ? items[0].path : "observation",
                      probs.n ? items[0].msg : "invalid",
                      probs.n > 1 ? " (and more problems)" : "");
        goto fail;
    }
    if ((st = parse_actions(json_object_get(j, "history"), "history", &r->history, err)) != LAM_OK)
        goto fail;
    json_t *ex = json_object_get(j, "executed");
    if (ex && !json_is_null(ex)) {
        if (!ses) {
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "executed: only with a session (the actions done since the "
                               "session's last answer)");
            goto fail;
        }
        if ((st = parse_actions(ex, "executed", &r->executed, err)) != LAM_OK) goto fail;
        r->has_executed = 1;
    }
    if ((st = parse_options(json_object_get(j, "options"), &r->req, err)) != LAM_OK) goto fail;
    r->req.task = r->task;
    r->req.obs = &r->obs;
    r->req.history = r->history.items;
    r->req.n_history = r->history.n;
    return LAM_OK;
fail:
    lam_request_free(r);
    return st;
}

lam_status lam_request_from_text(const char *text, size_t len, lam_request *r, lam_error *err) {
    memset(r, 0, sizeof *r);
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "request: invalid JSON at line %d, column %d (byte %d): %s", je.line,
                             je.column, je.position, je.text);
    lam_status st = lam_request_from_json(j, r, err);
    json_decref(j);
    return st;
}

lam_status lam_response_to_json(const lam_act_res *res, const lam_observation *obs, json_t **out,
                                lam_error *err) {
    *out = NULL;
    json_t *acts = NULL;
    if (res->status != LAM_OK) return lam_error_set(err, res->status, "%s", res->error);
    LAM_TRY(lam_act_to_json(res->actions.items, res->actions.n, obs, &acts, err));
    json_t *j =
        json_pack("{s:o, s:s, s:{s:i, s:i, s:i}, s:{s:f, s:f, s:f}, s:{s:i, s:i}}", "actions", acts,
                  "text", res->text ? res->text : "", "usage", "prompt_tokens", res->prompt_tokens,
                  "completion_tokens", res->output_tokens, "total_tokens",
                  res->prompt_tokens + res->output_tokens, "timing", "queue_ms", res->queue_ms,
                  "prefill_ms", res->prefill_ms, "decode_ms", res->decode_ms, "observation",
                  "elements", res->elements_total, "elements_shown", res->elements_shown);
    if (!j) return lam_error_set(err, LAM_ERR_NOMEM, "response: out of memory");
    *out = j;
    return LAM_OK;
}
