/* eval.h - owns the evaluation of an action model (agent.h):
 *  - offline, on recorded episodes with their recorded history, with Mind2Web's definitions:
 *    element accuracy (the predicted element is the recorded one), operation F1 (token F1 of
 *    "OP value"), step success (both exact), episode success (every step succeeds), each
 *    macro-averaged over episodes; per split (held-out task templates, apps, domains: Mind2Web's
 *    cross-task, cross-website and cross-domain), and per app and per domain;
 *  - closed loop in the simulator (sim.h): the model acts, the simulator executes and judges
 *    the final state: task success rate, steps taken, invalid actions, with a step limit, on
 *    fresh tasks of the templates each split holds;
 *  - zero-shot or few-shot (K demonstrations of the same app in the prompt);
 *  - the report as JSON and as one self-contained HTML page (tables, per-app bars, the worst
 *    episodes step by step).
 * It does not own decoding (agent.h), the simulator (sim.h) nor the recording schema. */
#ifndef LAM_EVAL_H
#define LAM_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "lam/agent.h"
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *data;   /* recordings (JSONL): the offline episodes and the few-shot pool */
    const char *splits; /* comma-separated splits to evaluate; NULL: every test_* split */
    int episodes;       /* offline episodes per split (0: all) */
    int shots;          /* demonstrations of the same app per prompt */
    int closed_loop;    /* simulator episodes per split (0: none) */
    int step_limit;     /* closed-loop steps per episode (invalid ones count) */
    int offline;        /* run the offline evaluation */
    uint64_t seed;      /* closed-loop tasks */
    int worst;          /* episodes shown step by step in the HTML report */
    FILE *progress;     /* progress bars; NULL: none */
    FILE *trace;        /* closed-loop episodes as recordings (lam_rollout_rec_write: the model's
                           actions, the expert's where they differ as targets, the result as
                           meta), split by split; NULL: none */
} lam_eval_opts;

void lam_eval_opts_default(lam_eval_opts *o);

/* Runs the evaluation with agent; *report receives the JSON report (a new reference, jansson)
 * and *html (may be NULL) the HTML page (malloc'd). */
struct json_t;
lam_status lam_eval_run(lam_agent *agent, const lam_eval_opts *o, const char *checkpoint,
                        struct json_t **report, char **html, lam_error *err);

/* The step metrics of Mind2Web for a predicted action against the recorded one (pred may be
 * NULL: no answer). Exposed for tests. */
typedef struct {
    int element_ok; /* the same element (or both without one) */
    double op_f1;   /* token F1 of "OP value" */
    int op_exact;
    int step_ok; /* element_ok && op_exact */
} lam_step_score;
void lam_eval_score_step(const lam_action *pred, const lam_action *target, lam_step_score *s);

#ifdef __cplusplus
}
#endif

#endif
