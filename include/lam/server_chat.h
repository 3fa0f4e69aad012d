/* server_chat.h - owns OpenAI's chat-completions format for action requests (POST
 * /v1/chat/completions, docs/http-api.md): the request's messages read as task, observation and
 * history (the first user message is the task; the last user or tool message holds the
 * observation as JSON; the tool calls of assistant messages are the actions taken), the
 * offered tools as the action types the answer may use, the sampling fields; the answer as a
 * chat.completion with one tool call per action, and as chat.completion.chunk events for
 * stream: true. It also finds the actions complete so far in a partial answer text (what a
 * stream can send). It does not own decoding (agent.h), the /v1/act JSON (request.h) nor HTTP
 * (server.c). */
#ifndef LAM_SERVER_CHAT_H
#define LAM_SERVER_CHAT_H

#include <stddef.h>

#include "lam/agent.h"
#include "lam/request.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t;

typedef struct {
    lam_request r;     /* task, observation, history, options as for /v1/act */
    char *model;       /* the model asked for, NULL when not given */
    int stream;        /* answer with server-sent events */
    int include_usage; /* stream_options.include_usage: a last chunk with the usage */
} lam_chat_req;

/* Parses a request body. On failure err's message starts with the field's path and ": "
 * ("messages[2].content: ...", "tools[0].function.name: ..."), or "request: " for the body as a
 * whole (invalid JSON with line, column and byte offset). */
lam_status lam_chat_parse(const char *body, size_t len, lam_chat_req *out, lam_error *err);
void lam_chat_req_free(lam_chat_req *c);

/* The tool definitions of the action types, an array of {"type": "function", "function":
 * {"name", "description", "parameters"}} in lam_action_type order (new reference): what a
 * client passes as `tools` (GET /v1/tools answers it). */
struct json_t *lam_chat_tools(void);

/* The arguments of action a as a tool call's JSON text {"element", "value", "role", "name"}
 * (absent fields left out; role and name from obs when it holds the element), malloc'd. */
lam_status lam_chat_arguments(const lam_action *a, const lam_observation *obs, char **out,
                              lam_error *err);

/* The chat.completion of a successful result (new reference in *out). id: "chatcmpl-...";
 * tool call k gets the id "call_<id's suffix>_<k>". */
lam_status lam_chat_completion(const lam_act_res *res, const lam_observation *obs, const char *id,
                               const char *model, long long created, struct json_t **out,
                               lam_error *err);

/* Stream chunks (chat.completion.chunk objects, new references): the first (role assistant),
 * one per action split as OpenAI does (the call's id, type and name with empty arguments, then
 * the arguments), the last (finish_reason "tool_calls"), and the usage chunk (choices empty). */
struct json_t *lam_chat_chunk_role(const char *id, const char *model, long long created);
lam_status lam_chat_chunk_call(const char *id, const char *model, long long created, int index,
                               const lam_action *a, const lam_observation *obs, int arguments,
                               struct json_t **out, lam_error *err);
struct json_t *lam_chat_chunk_finish(const char *id, const char *model, long long created);
struct json_t *lam_chat_chunk_usage(const char *id, const char *model, long long created,
                                    int prompt_tokens, int completion_tokens);

/* The actions complete in the canonical answer text text[0..len) decoded so far: those
 * followed by " ; " or " <end>" outside a quoted value, parsed into out (cleared first); with
 * value_space (lam_prompt_opts.value_space of the model), without the one space the model may
 * write before a value of type and done (lam_prompt_unspace), as the agent's answer has them.
 * Returns their number, or -1 when the text is not a prefix of a canonical answer (one that
 * lam_act_print or lam_act_print_labelled writes). */
int lam_chat_complete_actions(const char *text, size_t len, int value_space, lam_act_list *out);

#ifdef __cplusplus
}
#endif

#endif
