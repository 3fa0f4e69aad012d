/* agent.h - owns answering action requests with a trained model: a checkpoint loaded into the
 * inference engine with its tokenizer, the prompt of each request built as the training
 * prompts were (prompt.h, with the dataset's history and observation budgets recorded in the
 * checkpoint), decoding under the action grammar of the request's observation (grammar.h), and
 * the answer as actions (actlang.h) and structured JSON. Requests are decoded together up to
 * the engine's slots, with continuous batching: a request joins between decode steps and
 * leaves when its `<end>` is out. It does not own the HTTP side (server), evaluation (eval.h)
 * nor the model's math (engine.h). */
#ifndef LAM_AGENT_H
#define LAM_AGENT_H

#include <stdint.h>

#include "lam/actlang.h"
#include "lam/config.h"
#include "lam/episode.h"
#include "lam/prompt.h"
#include "lam/sampler.h"
#include "lam/status.h"
#include "lam/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *backend; /* "cpu" */
    int threads;         /* 0: all cores */
    int max_seqs;        /* requests decoded together; default 16 */
    int max_len;         /* positions per request (prompt + answer); 0: the model's */
    int random_policy;   /* 1: the model's logits are ignored and every token the grammar allows
                          * is equally likely (sampled with the request's seed): a random
                          * valid-action policy, the baseline of evaluations */
    int copy;            /* requests' default (lam_act_req.copy): 1 (the default), what is typed
                          * is copied from the task (or is the ISO form of a date it names), the
                          * answer of done from the task or the observation; 2, what is typed
                          * may come from the observation too; 0, free values */
} lam_agent_opts;

void lam_agent_opts_default(lam_agent_opts *o);

typedef struct lam_agent lam_agent;

lam_status lam_agent_load(const char *checkpoint, const lam_agent_opts *o, lam_agent **out,
                          lam_error *err);
void lam_agent_free(lam_agent *a);
const lam_config *lam_agent_config(const lam_agent *a);
const lam_tok *lam_agent_tokenizer(const lam_agent *a);
/* The prompt options recorded by the trainer ("prompt" of a checkpoint's train JSON): defaults
 * for what it lacks, but index_ids 0 (a checkpoint from before it was trained on the ids). */
void lam_agent_prompt_opts_from(const char *train_json, lam_prompt_opts *p);
/* The prompt options the agent builds prompts with (those the model was trained with). */
const lam_prompt_opts *lam_agent_prompt_opts(const lam_agent *a);
int lam_agent_max_seqs(const lam_agent *a);

/* One request. Everything it points to must stay valid until its result is done. */
typedef struct {
    const char *task;
    const lam_observation *obs;
    const lam_action *history; /* the episode's previous actions, oldest first */
    int n_history;
    /* NULL, or (n_history) the observation each history action was taken in (entries may be
     * NULL): the element names of a LAM_HISTORY_NAMES model (prompt.h); without them the request's
     * observation is searched */
    const lam_observation *const *history_obs;
    const lam_episode *const *examples; /* few-shot demonstrations (other episodes) */
    int n_examples;
    int max_actions;       /* 0: 8 */
    unsigned types;        /* bit t: action type t may be answered (lam_gram_opts.types); 0: all */
    int copy;              /* -1 (lam_act_req_init): the agent's lam_agent_opts.copy; 1: the
                              value of type copied from the task (or the ISO form of a date it
                              names), the answer of done from the task or the observation; 2: as
                              1, type from the observation too; 0: free values */
    lam_sampling sampling; /* greedy by default */
    uint64_t stream;       /* sampling stream (a request id): the draws depend on it only */
} lam_act_req;

void lam_act_req_init(lam_act_req *r);

typedef struct {
    int done;          /* decoding finished (successfully or not) */
    lam_status status; /* LAM_OK: actions hold the answer */
    char error[LAM_ERROR_MSG_MAX];
    lam_act_list actions; /* the answer, valid for the request's observation */
    char *text;           /* the action text ("click e3 <end>"), malloc'd */
    int prompt_tokens, output_tokens;
    int elements_shown, elements_total; /* of the observation, after the prompt's cut */
    double queue_ms, prefill_ms, decode_ms;
} lam_act_res;

void lam_act_res_init(lam_act_res *r);
void lam_act_res_free(lam_act_res *r);

/* Answers n requests, decoding up to max_seqs of them at a time. A request that fails (its
 * prompt too long, ...) gets its status and error in its result; the call fails only for
 * errors of the agent itself (backend). */
lam_status lam_agent_run(lam_agent *a, const lam_act_req *reqs, lam_act_res *res, int n,
                         lam_error *err);

/* The same, step by step, for a server's decode loop: submit prefills a request and makes it
 * part of the batch (LAM_ERR_NOMEM when every slot is busy: step until one frees); step
 * advances every request in the batch by one token and finishes those that end. A result is
 * complete when res->done is set. */
lam_status lam_agent_submit(lam_agent *a, const lam_act_req *req, lam_act_res *res, lam_error *err);
lam_status lam_agent_step(lam_agent *a, lam_error *err);
int lam_agent_active(const lam_agent *a);
/* The answer text decoded so far for the request whose result is res, while it is in the batch
 * (for streaming); NULL when res is not decoding. Valid until the next step. It is the text as
 * the model writes it: with index ids (lam_agent_prompt_opts) elements are positions in the
 * request's observation, 1-based, not its ids. */
const char *lam_agent_partial(const lam_agent *a, const lam_act_res *res, size_t *len);
/* Stops decoding the request whose result is res (its client went away): the result is done,
 * failed with "cancelled", and its slot is free. LAM_ERR_INVALID when res is not decoding. */
lam_status lam_agent_cancel(lam_agent *a, lam_act_res *res, lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
