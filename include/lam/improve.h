/* improve.h - owns the supervisor loop that improves a trained model in the simulator (DAgger):
 * each round the model acts on tasks of the training templates (rollout.h), the simulator's
 * expert labels the correct action in every state the model visited (a step's `target` when
 * it differs from what the model did: docs/formats.md), the round's episodes are written as
 * recordings and added to the dataset with every earlier round's (aggregation), training
 * continues from the model on the aggregate (trainer.h, `init`), and the new model is measured
 * closed loop on the held-out splits (eval.h). Optionally the same training compute spent on
 * plain training is measured beside it. `lam improve` is its command line. It does not own
 * the rollouts, the trainer, the builder nor the evaluation. */
#ifndef LAM_IMPROVE_H
#define LAM_IMPROVE_H

#include <stdint.h>
#include <stdio.h>

#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t;

typedef struct {
    const char *checkpoint; /* the model to improve (a lam train checkpoint) */
    const char *data;       /* the recordings it was trained on (their train split is kept) */
    const char *out;        /* round folders, the aggregate datasets, the table */
    int rounds;             /* DAgger rounds */
    int episodes;           /* rollouts per round */
    int step_limit;         /* actions per rollout */
    int64_t steps;          /* training steps per round */
    float lr;               /* peak learning rate of each round (warmup, cosine to lr/10) */
    int64_t warmup;
    int eval_episodes;  /* closed-loop episodes per held-out split after each round */
    int eval_train;     /* also as many fresh tasks of the training templates: their success
                         * joins each row's "held_out" object as "train" */
    int baseline;       /* also train plain for rounds * steps from the checkpoint */
    int free_values;    /* rollouts and evaluations decode free values (lam_agent_opts.copy 0) */
    int type_from_page; /* typed values may be copied from the page too (lam_agent_opts.copy 2) */
    int first_only;     /* a rollout joins the data up to its first correction only (the default;
                         * 0: every state it reached) */
    float beta;         /* in each state of a rollout the expert's action is executed instead of the
                         * model's with this probability (DAgger's mixture policy; 0: the model acts,
                         * the default; 1: the rollouts are the expert's demonstrations) */
    int rollout_weight; /* each round's rollouts enter the aggregate this many times, so that
                         * training samples them that much more often against the plain data
                         * (1, the default: once) */
    const char *backend;
    int threads;
    uint64_t seed;
    FILE *progress; /* progress bars and lines about the rounds; NULL: none */
} lam_improve_opts;

void lam_improve_opts_default(lam_improve_opts *o);

/* Runs the loop; *table receives the results (a new JSON reference): per round its rollouts'
 * success, the corrections made, and the held-out closed-loop success of its model. */
lam_status lam_improve(const lam_improve_opts *o, struct json_t **table, lam_error *err);

/* `lam improve CHECKPOINT [flags]` (argv after "improve"): 0, 1 or 2. */
int lam_improve_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
