/* request.h - owns the JSON of an action request and of its answer, shared by `lam act` and
 * the HTTP server's POST /v1/act (docs/http-api.md):
 *   {"task": "...", "observation": {"url", "title", "elements": [...]},
 *    "history": [{"type","element","value"}, ...] | "type e1 \"x\" ; click e2",
 *    "options": {"max_actions", "temperature", "top_k", "top_p", "seed"}}
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
    char *task;
    lam_observation obs;
    lam_act_list history;
} lam_request;

#define LAM_REQ_MAX_ACTIONS 64 /* options.max_actions above this is refused */

/* Parses the request object j. On failure err names the field ("observation.elements[2].role:
 * unknown role \"buton\"", "options.temperature: must be a number in [0, 100]"); the request is
 * left empty. history may be absent (none, or kept by a server-side session). */
lam_status lam_request_from_json(const struct json_t *j, lam_request *r, lam_error *err);
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
