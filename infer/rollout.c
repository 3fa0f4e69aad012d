/* rollout.c - closed-loop episodes in the simulator, in lockstep (rollout.h). Each round every
 * unfinished episode asks the model for its next actions (one batch through the agent); the
 * answer's actions are executed in order until one is refused or the episode ends; executed
 * actions become the history of the next request. */
#include "lam/rollout.h"

#include <stdlib.h>
#include <string.h>

#include "lam/progress.h"

void lam_rollout_opts_default(lam_rollout_opts *o) {
    memset(o, 0, sizeof *o);
    o->step_limit = 30;
    lam_sampling_default(&o->sampling);
    o->label = "rollouts";
}

typedef struct {
    lam_sim_env *env;
    lam_act_list hist; /* the actions executed so far (owns their strings) */
    lam_observation obs;
    int done;
} ep_state;

lam_status lam_rollouts(lam_agent *agent, const lam_rollout_task *tasks, int n,
                        const lam_rollout_opts *o, lam_rollout_result *res, lam_error *err) {
    if (n <= 0) return LAM_OK;
    ep_state *L = calloc((size_t)n, sizeof *L);
    lam_act_req *reqs = calloc((size_t)n, sizeof *reqs);
    lam_act_res *ans = calloc((size_t)n, sizeof *ans);
    int *who = calloc((size_t)n, sizeof *who);
    lam_status st = LAM_OK;
    if (!L || !reqs || !ans || !who) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "rollouts: out of memory");
        goto done;
    }
    memset(res, 0, (size_t)n * sizeof *res);
    for (int i = 0; i < n && st == LAM_OK; i++) {
        lam_act_list_init(&L[i].hist);
        if ((st = lam_sim_create(&L[i].env, err)) != LAM_OK) break;
        lam_sim_set_step_limit(L[i].env, o->step_limit);
        st = lam_sim_reset(L[i].env, tasks[i].app, tasks[i].tmpl, tasks[i].seed, err);
    }
    lam_progress bar;
    if (o->progress && st == LAM_OK) lam_progress_init(&bar, o->progress, o->label, n);
    int finished = 0;
    while (st == LAM_OK && finished < n) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (L[i].done) continue;
            lam_sim_observe(L[i].env, &L[i].obs);
            lam_act_req *q = &reqs[m];
            lam_act_req_init(q);
            q->task = lam_sim_task(L[i].env);
            q->obs = &L[i].obs;
            q->history = L[i].hist.items;
            q->n_history = L[i].hist.n;
            q->examples = tasks[i].examples;
            q->n_examples = tasks[i].n_examples;
            q->sampling = o->sampling;
            q->stream = o->stream ^ ((uint64_t)i << 20 | (uint64_t)res[i].steps);
            who[m++] = i;
        }
        if ((st = lam_agent_run(agent, reqs, ans, m, err)) != LAM_OK) break;
        for (int k = 0; k < m; k++) {
            int i = who[k];
            ep_state *e = &L[i];
            lam_act_res *r = &ans[k];
            if (r->status != LAM_OK || r->actions.n == 0) e->done = 1, res[i].no_answer = 1;
            /* the answer's actions in order; stop at a refused one or the end */
            for (int a = 0; a < r->actions.n && !e->done && st == LAM_OK; a++) {
                const lam_action *act = &r->actions.items[a];
                if (a > 0) lam_sim_observe(e->env, &e->obs); /* the state it acts on now */
                if (o->hook && (st = o->hook(o->user, i, e->env, &e->obs, act, err)) != LAM_OK)
                    break;
                lam_sim_result sr;
                if ((st = lam_sim_step(e->env, act, &sr, err)) != LAM_OK) break;
                if (o->after) o->after(o->user, i, &sr);
                res[i].steps = sr.steps;
                if (!sr.valid) {
                    res[i].invalid++;
                    if (sr.done) e->done = 1; /* the step limit */
                    break;
                }
                st = lam_act_list_push(&e->hist, act->type, act->element, act->value, err);
                if (sr.done) e->done = 1, res[i].success = sr.success;
            }
            if (!e->done && lam_sim_done(e->env))
                e->done = 1, res[i].success = lam_sim_judge(e->env);
            if (e->done) {
                finished++;
                if (o->progress) lam_progress_update(&bar, finished, NULL);
            }
            lam_act_res_free(r);
        }
    }
    if (o->progress && st == LAM_OK) lam_progress_finish(&bar, NULL);
done:
    if (L)
        for (int i = 0; i < n; i++) {
            lam_sim_free(L[i].env);
            lam_act_list_free(&L[i].hist);
        }
    free(L), free(reqs), free(ans), free(who);
    return st;
}
