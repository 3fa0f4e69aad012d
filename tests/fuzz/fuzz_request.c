/* fuzz_request.c - libFuzzer target for the request parsers of `lam serve`: the first byte
 * chooses the parser, the rest is its input:
 *   '0' (mod 4) a POST /v1/act body (lam_request_from_text, request.h)
 *   '1'         a POST /v1/chat/completions body (lam_chat_parse, server_chat.h)
 *   '2'         a partial answer text (lam_chat_complete_actions, what a stream sends)
 *   '3'         a /v1/act body through a session (lam_sessions_begin and _end, twice)
 * Each must either fail with LAM_ERR_INVALID (or NOMEM) and a message "PLACE: problem", or give a
 * request whose parts hold the rules: a task (unless a session is named), an observation that
 * passes the schema (lam_episode_check on it), history and executed actions of valid form
 * (lam_act_check_form), options in range; the actions complete in a text re-print (lam_act_print)
 * to a prefix of it, its element labels (`click "Search" 7`) left out. Never a crash, a leak or
 * undefined behaviour (ASan, UBSan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/actlang.h"
#include "lam/request.h"
#include "lam/server_chat.h"
#include "lam/server_session.h"

/* text[0..n) without its element labels: a quoted string followed by one space and an id byte
 * (a value is followed by " ;", " <end>" or nothing), with that space. Returns the length. */
static size_t strip_labels(const char *text, size_t n, char *out) {
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        if (text[i] != '"') {
            out[m++] = text[i++];
            continue;
        }
        size_t j = i + 1;
        while (j < n && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
        size_t end = j + 1; /* past the closing quote */
        if (end + 1 < n && text[end] == ' ' && lam_act_id_ok((char[]){text[end + 1], 0})) {
            i = end + 1; /* a label: dropped with its space */
            continue;
        }
        for (size_t k = i; k < end && k < n; k++) out[m++] = text[k];
        i = end;
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An error message names its place: "PATH: message", or "request: ..." for the whole body;
 * the field lam_request_error_field finds (none for a path with an odd key the action module
 * writes unescaped) is the message's beginning. */
static void check_error(lam_status st, const lam_error *e) {
    if (st != LAM_ERR_INVALID && st != LAM_ERR_NOMEM) abort();
    char field[LAM_ERROR_MSG_MAX];
    const char *f = lam_request_error_field(e->msg, field, sizeof field);
    if (!strstr(e->msg, ": ") || (f && strncmp(e->msg, f, strlen(f))) ||
        (f && strncmp(e->msg + strlen(f), ": ", 2)))
        abort();
}

static void check_actions(const lam_action *a, int n) {
    for (int i = 0; i < n; i++) {
        lam_error e = {0};
        if (lam_act_check_form(&a[i], &e) != LAM_OK) abort();
    }
}

static void check_request(const lam_request *r) {
    if (!r->task && !r->session) abort();
    if (r->req.task != r->task || r->req.obs != &r->obs) abort();
    lam_episode ep;
    memset(&ep, 0, sizeof ep);
    lam_step step;
    memset(&step, 0, sizeof step);
    step.obs = r->obs;
    step.action.type = LAM_ACT_BACK;
    ep.id = "fuzz", ep.task = "fuzz", ep.app = "fuzz", ep.domain = "fuzz";
    ep.steps = &step, ep.n_steps = 1;
    if (lam_episode_check(&ep, NULL) != 0) abort(); /* the observation passes the schema */
    check_actions(r->req.history, r->req.n_history);
    check_actions(r->executed.items, r->executed.n);
    const lam_act_req *q = &r->req;
    if (q->max_actions < 0 || q->max_actions > LAM_REQ_MAX_ACTIONS) abort();
    if (!(q->sampling.temperature >= 0) || !(q->sampling.top_p > 0 && q->sampling.top_p <= 1))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int which = data[0] % 4;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    lam_error e = {0};
    if (which == 0 || which == 3) {
        lam_request r;
        lam_status st = lam_request_from_text(text, n, &r, &e);
        if (st != LAM_OK) {
            check_error(st, &e);
            return 0;
        }
        check_request(&r);
        if (which == 3 && r.session) {
            lam_sessions_opts so;
            lam_sessions_opts_default(&so);
            so.max_sessions = 2, so.max_history = 4;
            lam_sessions *s;
            if (lam_sessions_create(&so, &s, &e) != LAM_OK) abort();
            for (int k = 0; k < 2; k++) {
                lam_session_view v;
                lam_ses_refusal why;
                st = lam_sessions_begin(s, r.session, r.task, r.history.n ? &r.history : NULL,
                                        r.has_executed ? &r.executed : NULL, (double)k, &v, &why,
                                        &e);
                if (st != LAM_OK) {
                    check_error(st, &e);
                    continue;
                }
                if (!v.task || v.history.n > so.max_history) abort();
                check_actions(v.history.items, v.history.n);
                lam_session_view_free(&v);
                if (lam_sessions_end(s, r.session, &r.history, &r.obs, (double)k, &e) != LAM_OK)
                    abort();
            }
            lam_sessions_free(s);
        }
        lam_request_free(&r);
    } else if (which == 1) {
        lam_chat_req c;
        lam_status st = lam_chat_parse(text, n, &c, &e);
        if (st != LAM_OK) {
            check_error(st, &e);
            return 0;
        }
        if (!c.r.task || !c.r.task[0]) abort();
        check_request(&c.r);
        if (c.r.req.types >> LAM_ACT_COUNT) abort();
        lam_chat_req_free(&c);
    } else {
        lam_act_list l;
        lam_act_list_init(&l);
        int k = lam_chat_complete_actions(text, n, 0, &l);
        if (k > 0) {
            size_t len = 0, sl;
            char *buf = malloc(2 * n + 64), *plain = malloc(n + 1);
            if (!buf || !plain) abort();
            sl = strip_labels(text, n, plain);
            if (k != l.n ||
                lam_act_print(l.items, l.n, LAM_ACT_NO_END, buf, 2 * n + 64, &len, &e) != LAM_OK ||
                len > sl || memcmp(buf, plain, len))
                abort();
            free(buf), free(plain);
        }
        lam_act_list_free(&l);
    }
    return 0;
}
