/* request.h - owns the JSON of an action request and of its answer, shared by `lam act` and
 * the HTTP server's POST /v1/act (docs/http-api.md):
 *   {"task": "...", "observation": {"url", "title", "elements": [...]},
 *    "history": [{"type","element","value"}, ...] | "type e1 \"x\" ; click e2",
 *    "options": {"max_actions", "temperature", "top_k", "top_p", "seed"},
 *    "session": "id", "executed": [...] | "...", "model": "..."}
 * parsed into a lam_act_req with every problem named by its field path, and the answer
 *   {"actions": [{"type","element","value","role","name"}, ...], "text": "click e3 <end>",
 *    "usage": {"prompt_tokens", "completion_tokens"}, "timing": {...}}.
 * It does not own decoding (agent.h) nor HTTP. */
#ifndef LAM_REQUEST_H
#define LAM_REQUEST_H

#include <stddef.h>

#include "lam/agent.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t;

/* A parsed request and the memory its lam_act_req points into. */
typedef struct {
    lam_act_req req;
    char *task; /* NULL only when a session is named (the server's session holds the task) */
    lam_observation obs;
    lam_act_list history;
    char *session;         /* the session id, or NULL */
    lam_act_list executed; /* with a session: the actions done since its last answer */
    int has_executed;      /* executed was given (it may be empty) */
} lam_request;

#define LAM_REQ_MAX_SESSION_ID 128 /* bytes of a session id: A-Z a-z 0-9 . _ : - */

#define LAM_REQ_MAX_ACTIONS 64 /* options.max_actions above this is refused */

/* Parses the request object j. On failure err names the field ("observation.elements[2].role:
 * unknown role \"buton\"", "options.temperature: must be a number in [0, 100]"): the message
 * starts with the field's path and ": " ("request: " when it is the whole body); the request is
 * left empty. history may be absent (none, or kept by a server-side session); task may be
 * absent when session is given (the session has it); executed (the same two forms as history)
 * is taken only with a session. The actions' forms are checked (lam_act_check_form), not their
 * elements: those belong to earlier observations. */
lam_status lam_request_from_json(const struct json_t *j, lam_request *r, lam_error *err);
/* The field an error message of these parsers names: the path before its first ": "
 * (`observation.elements[2].role`, `messages[1]["odd key"]`) copied into buf, or NULL when the
 * message is about the request as a whole ("request: ...") or names no path. */
const char *lam_request_error_field(const char *msg, char *buf, size_t cap);
/* base.key, or base["key"] (quoted as JSON, cut at 40 bytes) when key is not a plain word of
 * letters, digits and _ (up to 48 bytes); key alone when base is empty. For error messages. */
void lam_request_key_path(char *dst, size_t cap, const char *base, const char *key);
/* The same from text (jansson's errors give line and column: "request:1:17: ..."). */
lam_status lam_request_from_text(const char *text, size_t len, lam_request *r, lam_error *err);
void lam_request_free(lam_request *r);

/* The answer of res for the request's observation as a JSON object (new reference). */
lam_status lam_response_to_json(const lam_act_res *res, const lam_observation *obs,
                                struct json_t **out, lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
