/* rollout.h - owns closed-loop episodes in the simulator: a model (agent.h) acts, the simulator
 * (sim.h) executes its answers and judges the end state; many episodes step in lockstep so
 * their requests are decoded together. A hook sees every state before the model's action is
 * executed (the DAgger loop labels them with the simulator's expert there). Used by `lam eval`
 * (closed-loop success) and `lam improve` (rollouts to correct). It does not own the metrics'
 * report (eval.h) nor datasets. */
#ifndef LAM_ROLLOUT_H
#define LAM_ROLLOUT_H

#include <stdint.h>
#include <stdio.h>

#include "lam/agent.h"
#include "lam/sim.h"
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int app, tmpl;                      /* simulator app and template indexes */
    uint64_t seed;                      /* the task's seed (lam_sim_reset) */
    const lam_episode *const *examples; /* few-shot demonstrations (may be NULL) */
    int n_examples;
} lam_rollout_task;

typedef struct {
    int success;   /* the simulator judged the end state a success */
    int steps;     /* actions executed (invalid ones included) */
    int invalid;   /* actions the simulator refused (the episode continues from the same state) */
    int no_answer; /* the model gave no answer (the episode ends) */
} lam_rollout_result;

/* Called before each action of the model is executed, with the environment in the state the
 * action will act on (its observation obs, its task) and the action. *execute is the action
 * that will be executed (the model's); the hook may point it at another (its own, valid until
 * the after call), which is executed instead and becomes the history, and the rest of the
 * model's answer is then dropped: the model is asked again in the state that action leads to.
 * Returning an error stops every rollout. */
typedef lam_status (*lam_rollout_hook)(void *user, int episode, lam_sim_env *env,
                                       const lam_observation *obs, const lam_action *action,
                                       const lam_action **execute, lam_error *err);
/* Called after that action was executed, with what the simulator made of it. */
typedef void (*lam_rollout_after)(void *user, int episode, const lam_sim_result *sr);

typedef struct {
    int step_limit;          /* actions per episode (invalid ones count) */
    uint64_t stream;         /* sampling streams of the requests derive from it */
    lam_sampling sampling;   /* greedy by default */
    lam_rollout_hook hook;   /* may be NULL */
    lam_rollout_after after; /* may be NULL */
    void *user;
    FILE *progress;    /* a progress bar; NULL: none */
    const char *label; /* the bar's label */
} lam_rollout_opts;

void lam_rollout_opts_default(lam_rollout_opts *o);

/* Runs the n tasks to their end (done, the step limit, or no answer); res (n) receives each
 * result. */
lam_status lam_rollouts(lam_agent *agent, const lam_rollout_task *tasks, int n,
                        const lam_rollout_opts *o, lam_rollout_result *res, lam_error *err);

/* Recording rollouts as recordings (docs/formats.md): each episode's states, the action executed
 * in each (what later steps' history shows) and, where the model's differs, the simulator
 * expert's action there as the step's target (DAgger's label). An action the simulator refused
 * changed nothing and is left out. With beta > 0 the expert's action is executed instead of
 * the model's with probability beta in each state (DAgger's mixture policy; drawn from seed,
 * the episode and the step); such a state keeps its target where the model's action differed.
 * Attach to the options of lam_rollouts; the episodes are then eps[0..n), ids "PREFIX-00012",
 * the split given. */
typedef struct {
    lam_episode *eps; /* (n) */
    int *cap;         /* (n) steps allocated per episode */
    int *off;         /* (n) the first step whose executed action was not the expert's; -1: none */
    int n;
    char prefix[64], split[64];
    int64_t states, corrections; /* steps recorded, of which targets (the model's errors) */
    int first_only; /* write each episode only up to the first state where the action executed
                     * left the expert's path (0: every state) */
    float beta;     /* the probability of executing the expert's action instead (0: never) */
    uint64_t seed;  /* the draws of beta */
    int64_t written_states; /* states lam_rollout_rec_write wrote last */
    lam_error *err;
} lam_rollout_rec;

lam_status lam_rollout_rec_init(lam_rollout_rec *r, int n, lam_error *err);
/* Empties the episodes (freed) and the counts; the next rollouts record with these names. */
void lam_rollout_rec_reset(lam_rollout_rec *r, const char *prefix, const char *split);
/* Sets o's hook, after and user so that lam_rollouts records into r. */
void lam_rollout_rec_attach(lam_rollout_rec *r, lam_rollout_opts *o);
/* Writes the episodes that have a step as JSONL lines to f; with res (n results of the same
 * rollouts), each with "meta": {"success", "steps", "invalid", "no_answer"}. *written: lines;
 * r->written_states: their states. With r->first_only an episode ends at the first correction
 * whose wrong action was executed (with beta 0: its first correction): the states after it,
 * off the expert's path, are not written. */
lam_status lam_rollout_rec_write(lam_rollout_rec *r, FILE *f, const lam_rollout_result *res,
                                 int *written, lam_error *err);
void lam_rollout_rec_free(lam_rollout_rec *r);

#ifdef __cplusplus
}
#endif

#endif
