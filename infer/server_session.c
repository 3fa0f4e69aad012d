/* server_session.c - the sessions of POST /v1/act (server_session.h): a fixed table of
 * max_sessions slots searched linearly (a lookup is a few microseconds at 1024), one mutex. */
#define _POSIX_C_SOURCE 200809L
#include "lam/server_session.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lam/request.h"

typedef struct {
    int used;
    char id[LAM_REQ_MAX_SESSION_ID + 1];
    char *task;
    lam_act_list history; /* the episode's actions before the last answer's observation */
    lam_act_list pending; /* the history a request in flight was given (begin) */
    lam_act_list last;    /* the last answer */
    lam_observation last_obs;
    int has_last, fresh, busy;
    double touched;
} session;

struct lam_sessions {
    pthread_mutex_t mu;
    lam_sessions_opts o;
    session *tab;
};

void lam_sessions_opts_default(lam_sessions_opts *o) {
    o->max_sessions = 1024;
    o->ttl_s = 600.0;
    o->max_history = 256;
}

void lam_session_view_free(lam_session_view *v) {
    free(v->task);
    lam_act_list_free(&v->history);
    memset(v, 0, sizeof *v);
}

lam_status lam_sessions_create(const lam_sessions_opts *o, lam_sessions **out, lam_error *err) {
    *out = NULL;
    if (o->max_sessions < 1 || o->max_history < 1 || !(o->ttl_s > 0))
        return lam_error_set(err, LAM_ERR_INVALID,
                             "sessions: max_sessions %d, max_history %d and ttl %g must be "
                             "positive",
                             o->max_sessions, o->max_history, o->ttl_s);
    lam_sessions *s = calloc(1, sizeof *s);
    if (s) s->tab = calloc((size_t)o->max_sessions, sizeof *s->tab);
    if (!s || !s->tab) {
        if (s) free(s);
        return lam_error_set(err, LAM_ERR_NOMEM, "sessions: out of memory (%d sessions)",
                             o->max_sessions);
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s->tab), free(s);
        return lam_error_set(err, LAM_ERR_BACKEND, "sessions: pthread_mutex_init failed");
    }
    s->o = *o;
    *out = s;
    return LAM_OK;
}

static void session_clear(session *x) {
    free(x->task);
    lam_act_list_free(&x->history);
    lam_act_list_free(&x->pending);
    lam_act_list_free(&x->last);
    lam_observation_free(&x->last_obs);
    memset(x, 0, sizeof *x);
}

void lam_sessions_free(lam_sessions *s) {
    if (!s) return;
    for (int i = 0; i < s->o.max_sessions; i++) session_clear(&s->tab[i]);
    pthread_mutex_destroy(&s->mu);
    free(s->tab);
    free(s);
}

static void reap(lam_sessions *s, double now) {
    for (int i = 0; i < s->o.max_sessions; i++) {
        session *x = &s->tab[i];
        if (x->used && !x->busy && now - x->touched > s->o.ttl_s) session_clear(x);
    }
}

static session *find(lam_sessions *s, const char *id) {
    for (int i = 0; i < s->o.max_sessions; i++)
        if (s->tab[i].used && !strcmp(s->tab[i].id, id)) return &s->tab[i];
    return NULL;
}

/* dst = a[0..na) then b[0..nb), keeping only the last max actions. */
static lam_status join(lam_act_list *dst, const lam_act_list *a, const lam_act_list *b, int max,
                       lam_error *err) {
    lam_act_list_clear(dst);
    int na = a ? a->n : 0, nb = b ? b->n : 0, skip = na + nb > max ? na + nb - max : 0;
    for (int i = skip; i < na + nb; i++) {
        const lam_action *x = i < na ? &a->items[i] : &b->items[i - na];
        LAM_TRY(lam_act_list_push(dst, x->type, x->element, x->value, err));
    }
    return LAM_OK;
}

lam_status lam_sessions_begin(lam_sessions *s, const char *id, const char *task,
                              const lam_act_list *history, const lam_act_list *executed, double now,
                              lam_session_view *out, lam_ses_refusal *why, lam_error *err) {
    memset(out, 0, sizeof *out);
    *why = LAM_SES_OK;
    if (!id || strlen(id) > LAM_REQ_MAX_SESSION_ID) {
        *why = LAM_SES_BAD;
        return lam_error_set(err, LAM_ERR_INVALID, "session: no id, or an id over %d bytes",
                             LAM_REQ_MAX_SESSION_ID);
    }
    lam_status st = LAM_OK;
    pthread_mutex_lock(&s->mu);
    reap(s, now);
    session *x = find(s, id);
    if (!x) {
        if (!task) {
            *why = LAM_SES_UNKNOWN;
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "session: \"%s\" is not a live session (unknown, ended or "
                               "expired); send the task to start it",
                               id);
            goto out;
        }
        if (executed) {
            *why = LAM_SES_BAD;
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "executed: session \"%s\" is new: there is no answer the actions "
                               "replace",
                               id);
            goto out;
        }
        for (int i = 0; i < s->o.max_sessions && !x; i++)
            if (!s->tab[i].used) x = &s->tab[i];
        if (!x) {
            *why = LAM_SES_FULL;
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "session: %d sessions are live, the most this server keeps; end "
                               "one (DELETE /v1/sessions/ID) or wait for one to expire",
                               s->o.max_sessions);
            goto out;
        }
        memset(x, 0, sizeof *x);
        x->task = strdup(task);
        if (!x->task) {
            st = lam_error_set(err, LAM_ERR_NOMEM, "sessions: out of memory");
            goto out;
        }
        x->used = 1, x->fresh = 1;
        snprintf(x->id, sizeof x->id, "%s", id);
        if ((st = join(&x->pending, history, NULL, s->o.max_history, err)) != LAM_OK) {
            session_clear(x);
            goto out;
        }
    } else {
        if (x->busy) {
            *why = LAM_SES_CONFLICT;
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "session: a request of session \"%s\" is in flight; send the next "
                               "one when it is answered",
                               id);
            goto out;
        }
        if (task && strcmp(task, x->task)) {
            *why = LAM_SES_CONFLICT;
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "task: session \"%s\" has another task (\"%.200s\"); start a new "
                               "session for a new task",
                               id, x->task);
            goto out;
        }
        if (history && history->n) {
            *why = LAM_SES_BAD;
            st = lam_error_set(err, LAM_ERR_INVALID,
                               "history: session \"%s\" keeps the history; report the actions "
                               "done instead of its last answer in \"executed\"",
                               id);
            goto out;
        }
        if (executed && executed->n && x->has_last) {
            lam_error ce = {0};
            if (lam_act_check(executed->items, executed->n, &x->last_obs, &ce) != LAM_OK) {
                *why = LAM_SES_BAD;
                st = lam_error_set(err, LAM_ERR_INVALID,
                                   "executed: %s (checked against the observation of the "
                                   "session's last answer)",
                                   ce.msg);
                goto out;
            }
        }
        if ((st = join(&x->pending, &x->history, executed ? executed : &x->last, s->o.max_history,
                       err)) != LAM_OK)
            goto out;
    }
    out->task = strdup(x->task);
    if (!out->task ||
        (st = join(&out->history, &x->pending, NULL, s->o.max_history, err)) != LAM_OK) {
        if (st == LAM_OK) st = lam_error_set(err, LAM_ERR_NOMEM, "sessions: out of memory");
        if (x->fresh) session_clear(x);
        lam_session_view_free(out);
        goto out;
    }
    x->busy = 1;
    x->touched = now;
out:
    pthread_mutex_unlock(&s->mu);
    return st;
}

lam_status lam_sessions_end(lam_sessions *s, const char *id, const lam_act_list *answer,
                            const lam_observation *obs, double now, lam_error *err) {
    lam_status st = LAM_OK;
    pthread_mutex_lock(&s->mu);
    session *x = find(s, id);
    if (!x || !x->busy) {
        st = lam_error_set(err, LAM_ERR_INVALID, "sessions: \"%s\" has no request in flight", id);
        goto out;
    }
    x->busy = 0;
    x->touched = now;
    if (!answer) {
        if (x->fresh) session_clear(x);
        goto out;
    }
    lam_act_list t = x->history; /* the history given to the request becomes the session's */
    x->history = x->pending;
    x->pending = t;
    lam_act_list_clear(&x->pending);
    lam_observation_free(&x->last_obs);
    x->has_last = 0;
    if ((st = join(&x->last, answer, NULL, s->o.max_history, err)) == LAM_OK &&
        (st = lam_observation_copy(&x->last_obs, obs, err)) == LAM_OK)
        x->has_last = 1;
    x->fresh = 0;
out:
    pthread_mutex_unlock(&s->mu);
    return st;
}

json_t *lam_sessions_get(lam_sessions *s, const char *id, double now) {
    json_t *j = NULL, *h = NULL, *l = NULL;
    pthread_mutex_lock(&s->mu);
    reap(s, now);
    session *x = find(s, id);
    if (!x) goto out;
    lam_error e;
    if (x->history.n && lam_act_to_json(x->history.items, x->history.n, NULL, &h, &e) != LAM_OK)
        goto out;
    if (!h) h = json_array();
    if (x->has_last && x->last.n &&
        lam_act_to_json(x->last.items, x->last.n, &x->last_obs, &l, &e) != LAM_OK)
        goto out;
    if (!l) l = json_array();
    double idle = now - x->touched;
    j = json_pack("{s:s, s:s, s:O, s:O, s:f, s:f, s:b}", "session", x->id, "task", x->task,
                  "history", h, "last_answer", l, "idle_s", idle, "expires_in_s", s->o.ttl_s - idle,
                  "busy", x->busy);
out:
    pthread_mutex_unlock(&s->mu);
    json_decref(h), json_decref(l);
    return j;
}

int lam_sessions_delete(lam_sessions *s, const char *id) {
    pthread_mutex_lock(&s->mu);
    session *x = find(s, id);
    int r = !x ? 0 : x->busy ? -1 : 1;
    if (r == 1) session_clear(x);
    pthread_mutex_unlock(&s->mu);
    return r;
}

int lam_sessions_count(lam_sessions *s, double now) {
    pthread_mutex_lock(&s->mu);
    reap(s, now);
    int n = 0;
    for (int i = 0; i < s->o.max_sessions; i++) n += s->tab[i].used;
    pthread_mutex_unlock(&s->mu);
    return n;
}
