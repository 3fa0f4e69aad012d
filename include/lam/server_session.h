/* server_session.h - owns the sessions of POST /v1/act: for each session id the episode's
 * task, its actions so far (short-term memory), the last answer and the observation it was
 * for, when it was last used, and whether a request of it is in flight (one at a time). A
 * request names the session and sends only the new observation; the actions of the last
 * answer join the history, or the actions the client reports it executed instead. Bounded in
 * number and in history; sessions idle longer than the time to live expire. Thread-safe (one
 * mutex). It does not own the request JSON (request.h) nor HTTP (server.c). */
#ifndef LAM_SERVER_SESSION_H
#define LAM_SERVER_SESSION_H

#include "lam/actlang.h"
#include "lam/episode.h"
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t;

typedef struct {
    int max_sessions; /* live sessions at most; default 1024 */
    double ttl_s;     /* idle seconds before a session expires; default 600 */
    int max_history;  /* actions kept per session (the oldest go first); default 256 */
} lam_sessions_opts;

void lam_sessions_opts_default(lam_sessions_opts *o);

typedef struct lam_sessions lam_sessions;

lam_status lam_sessions_create(const lam_sessions_opts *o, lam_sessions **out, lam_error *err);
void lam_sessions_free(lam_sessions *s);

/* Why a session request was refused: the HTTP status it maps to. */
typedef enum {
    LAM_SES_OK = 0,
    LAM_SES_BAD = 400,      /* history with a live session, executed on a new one, ... */
    LAM_SES_UNKNOWN = 404,  /* no such session (or it expired) and no task to start one */
    LAM_SES_CONFLICT = 409, /* a request of the session is in flight, or another task */
    LAM_SES_FULL = 429,     /* max_sessions live sessions, none expired */
} lam_ses_refusal;

/* What a request needs from its session: the task and the history, both copies it owns. */
typedef struct {
    char *task;
    lam_act_list history;
} lam_session_view;

void lam_session_view_free(lam_session_view *v);

/* Begins a request on session id at time now (seconds, any monotonic clock). A new id starts a
 * session with task (required) and history (the actions before, may be NULL). A live one
 * continues: task, when given, must be its own; history must be NULL; its history becomes the
 * history so far plus executed when given (checked against the observation of the last answer
 * with lam_act_check: unknown elements, disabled ones, ...), else plus the last answer. The
 * session is then busy until lam_sessions_end. On refusal *why says the status and err the
 * problem, naming the field ("session", "task", "history", "executed"). */
lam_status lam_sessions_begin(lam_sessions *s, const char *id, const char *task,
                              const lam_act_list *history, const lam_act_list *executed, double now,
                              lam_session_view *out, lam_ses_refusal *why, lam_error *err);
/* Ends the request begun on id: answer (the actions returned, for observation obs) makes the
 * history of begin the session's own and answer its last answer; answer NULL (the request
 * failed) leaves the session as it was before begin. A new session whose first request failed
 * is removed. */
lam_status lam_sessions_end(lam_sessions *s, const char *id, const lam_act_list *answer,
                            const lam_observation *obs, double now, lam_error *err);
/* The session as JSON {"session", "task", "history", "last_answer", "idle_s", "expires_in_s",
 * "busy"} (new reference), or NULL when there is no such live session. */
struct json_t *lam_sessions_get(lam_sessions *s, const char *id, double now);
/* Removes a session that is not busy: 1 removed, 0 no such session, -1 busy. */
int lam_sessions_delete(lam_sessions *s, const char *id);
/* Live sessions (expired ones are removed first). */
int lam_sessions_count(lam_sessions *s, double now);

#ifdef __cplusplus
}
#endif

#endif
