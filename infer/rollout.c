/* rollout.c - closed-loop episodes in the simulator, in lockstep (rollout.h). Each round every
 * unfinished episode asks the model for its next actions (one batch through the agent); the
 * answer's actions are executed in order until one is refused or the episode ends; executed
 * actions become the history of the next request. The recorder writes rollouts as recordings
 * with the expert's labels (DAgger, `lam improve`; `lam eval --trace`). */
#define _POSIX_C_SOURCE 200809L
#include "lam/rollout.h"

#include <stdlib.h>
#include <string.h>

#include "lam/progress.h"
#include "lam/rng.h"

void lam_rollout_opts_default(lam_rollout_opts *o) {
    memset(o, 0, sizeof *o);
    o->step_limit = 30;
    lam_sampling_default(&o->sampling);
    o->label = "rollouts";
}

typedef struct {
    lam_sim_env *env;
    lam_act_list hist; /* the actions executed so far (owns their strings) */
    /* with a LAM_HISTORY_NAMES model: (hist.n) copies of the observations they were taken in, and
     * pointers to them for the request */
    lam_observation *hobs;
    const lam_observation **hptr;
    int hobs_cap;
    lam_observation obs;
    int done;
} ep_state;

/* Keeps a copy of the observation executed action k acts on (a view the next step invalidates). */
static lam_status keep_obs(ep_state *e, int k, const lam_observation *obs, lam_error *err) {
    if (k >= e->hobs_cap) {
        int cap = e->hobs_cap ? 2 * e->hobs_cap : 16;
        lam_observation *o = realloc(e->hobs, (size_t)cap * sizeof *o);
        if (o) e->hobs = o;
        const lam_observation **p = o ? realloc(e->hptr, (size_t)cap * sizeof *p) : NULL;
        if (!o || !p) return lam_error_set(err, LAM_ERR_NOMEM, "rollouts: out of memory");
        e->hptr = p;
        e->hobs_cap = cap;
    }
    return lam_observation_copy(&e->hobs[k], obs, err);
}

lam_status lam_rollouts(lam_agent *agent, const lam_rollout_task *tasks, int n,
                        const lam_rollout_opts *o, lam_rollout_result *res, lam_error *err) {
    if (n <= 0) return LAM_OK;
    int names = lam_agent_prompt_opts(agent)->history_elements == LAM_HISTORY_NAMES;
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
            if (names && L[i].hist.n) {
                for (int h = 0; h < L[i].hist.n; h++) L[i].hptr[h] = &L[i].hobs[h];
                q->history_obs = L[i].hptr;
            }
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
                if (o->hook &&
                    (st = o->hook(o->user, i, e->env, &e->obs, act, &act, err)) != LAM_OK)
                    break;
                int replaced = act != &r->actions.items[a];
                if (names && (st = keep_obs(e, e->hist.n, &e->obs, err)) != LAM_OK) break;
                lam_sim_result sr;
                st = lam_sim_step(e->env, act, &sr, err);
                if (names && (st != LAM_OK || !sr.valid))
                    lam_observation_free(&e->hobs[e->hist.n]); /* not in the history */
                if (st != LAM_OK) break;
                if (o->after) o->after(o->user, i, &sr);
                res[i].steps = sr.steps;
                if (!sr.valid) {
                    res[i].invalid++;
                    if (sr.done) e->done = 1; /* the step limit */
                    break;
                }
                st = lam_act_list_push(&e->hist, act->type, act->element, act->value, err);
                if (names && st != LAM_OK) lam_observation_free(&e->hobs[e->hist.n]);
                if (sr.done) e->done = 1, res[i].success = sr.success;
                if (replaced) break; /* the rest was planned for another state */
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
            if (names)
                for (int h = 0; h < L[i].hist.n; h++) lam_observation_free(&L[i].hobs[h]);
            free(L[i].hobs), free(L[i].hptr);
            lam_act_list_free(&L[i].hist);
        }
    free(L), free(reqs), free(ans), free(who);
    return st;
}

/* ---- recording ---------------------------------------------------------------------------- */

lam_status lam_rollout_rec_init(lam_rollout_rec *r, int n, lam_error *err) {
    memset(r, 0, sizeof *r);
    if (n < 1) return lam_error_set(err, LAM_ERR_INVALID, "rollout recorder: %d episodes", n);
    r->eps = calloc((size_t)n, sizeof *r->eps);
    r->cap = calloc((size_t)n, sizeof *r->cap);
    r->off = malloc((size_t)n * sizeof *r->off);
    if (!r->eps || !r->cap || !r->off) {
        lam_rollout_rec_free(r);
        return lam_error_set(err, LAM_ERR_NOMEM, "rollout recorder: out of memory");
    }
    r->n = n;
    for (int i = 0; i < n; i++) r->off[i] = -1;
    snprintf(r->prefix, sizeof r->prefix, "rollout");
    snprintf(r->split, sizeof r->split, "train");
    return LAM_OK;
}

void lam_rollout_rec_reset(lam_rollout_rec *r, const char *prefix, const char *split) {
    for (int i = 0; i < r->n; i++) {
        lam_episode_free(&r->eps[i]);
        r->cap[i] = 0;
        r->off[i] = -1;
    }
    r->states = r->corrections = 0;
    snprintf(r->prefix, sizeof r->prefix, "%s", prefix);
    snprintf(r->split, sizeof r->split, "%s", split);
}

void lam_rollout_rec_free(lam_rollout_rec *r) {
    if (r->eps)
        for (int i = 0; i < r->n; i++) lam_episode_free(&r->eps[i]);
    free(r->eps), free(r->cap), free(r->off);
    memset(r, 0, sizeof *r);
}

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

static int copy_action(lam_action *dst, const lam_action *src) {
    dst->type = src->type;
    dst->element = dup_or_null(src->element);
    dst->value = dup_or_null(src->value);
    return (!src->element || dst->element) && (!src->value || dst->value);
}

/* Whether the expert acts instead of the model in step k of episode i (probability beta). */
static int expert_acts(const lam_rollout_rec *R, int i, int k) {
    if (R->beta <= 0) return 0;
    uint32_t r4[4];
    lam_philox(R->seed, 0xbe7au, (uint64_t)i << 32 | (uint32_t)k, r4);
    return (r4[0] >> 8) * (1.0 / 16777216.0) < R->beta;
}

/* Before each of the model's actions: the state, the action and the expert's label of it; with
 * probability beta the expert's action is executed instead. */
static lam_status record_step(void *user, int i, lam_sim_env *env, const lam_observation *obs,
                              const lam_action *act, const lam_action **execute, lam_error *err) {
    lam_rollout_rec *R = user;
    lam_episode *ep = &R->eps[i];
    if (!ep->id) { /* the episode's header, at its first step */
        char id[96];
        snprintf(id, sizeof id, "%s-%05d", R->prefix, i);
        int app = lam_sim_app(env);
        ep->id = strdup(id);
        ep->task = strdup(lam_sim_task(env));
        ep->app = strdup(lam_sim_app_name(app));
        ep->domain = strdup(lam_sim_app_domain(app));
        ep->template_id = strdup(lam_sim_template_id(app, lam_sim_template(env)));
        ep->split = strdup(R->split);
        if (!ep->id || !ep->task || !ep->app || !ep->domain || !ep->template_id || !ep->split)
            return lam_error_set(err, LAM_ERR_NOMEM, "rollout recorder: out of memory");
    }
    if (ep->n_steps == R->cap[i]) {
        int cap = R->cap[i] ? 2 * R->cap[i] : 16;
        lam_step *p = realloc(ep->steps, (size_t)cap * sizeof *p);
        if (!p) return lam_error_set(err, LAM_ERR_NOMEM, "rollout recorder: out of memory");
        ep->steps = p, R->cap[i] = cap;
    }
    lam_action expert;
    LAM_TRY(lam_sim_expert(env, &expert, err));
    lam_step *s = &ep->steps[ep->n_steps];
    memset(s, 0, sizeof *s);
    LAM_TRY(lam_observation_copy(&s->obs, obs, err));
    ep->n_steps++;
    int wrong = !lam_action_equal(act, &expert);
    int expert_turn = wrong && expert_acts(R, i, ep->n_steps - 1);
    if (!copy_action(&s->action, expert_turn ? &expert : act))
        return lam_error_set(err, LAM_ERR_NOMEM, "rollout recorder: out of memory");
    if (wrong) { /* a correction */
        s->has_target = 1;
        if (!copy_action(&s->target, &expert))
            return lam_error_set(err, LAM_ERR_NOMEM, "rollout recorder: out of memory");
        if (expert_turn)
            *execute = &s->action; /* the episode stays on the expert's path */
        else if (R->off[i] < 0)
            R->off[i] = ep->n_steps - 1;
    }
    return LAM_OK;
}

/* After it: an action the simulator refused is not part of the episode (it changed nothing and
 * is not in the history of the next request). */
static void after_step(void *user, int i, const lam_sim_result *sr) {
    lam_rollout_rec *R = user;
    lam_episode *ep = &R->eps[i];
    lam_step *s = &ep->steps[ep->n_steps - 1];
    if (!sr->valid) {
        if (R->off[i] == ep->n_steps - 1) R->off[i] = -1;
        lam_observation_free(&s->obs);
        free(s->action.element), free(s->action.value);
        free(s->target.element), free(s->target.value);
        ep->n_steps--;
        return;
    }
    R->states++;
    R->corrections += s->has_target;
}

void lam_rollout_rec_attach(lam_rollout_rec *r, lam_rollout_opts *o) {
    o->hook = record_step;
    o->after = after_step;
    o->user = r;
}

lam_status lam_rollout_rec_write(lam_rollout_rec *r, FILE *f, const lam_rollout_result *res,
                                 int *written, lam_error *err) {
    *written = 0;
    r->written_states = 0;
    for (int i = 0; i < r->n; i++) {
        lam_episode cut = r->eps[i]; /* a shallow copy: only its step count may change */
        const lam_episode *ep = &cut;
        if (r->first_only && r->off[i] >= 0) cut.n_steps = r->off[i] + 1;
        if (ep->n_steps == 0) continue;
        char meta[128];
        if (res)
            snprintf(meta, sizeof meta,
                     "{\"success\":%s,\"steps\":%d,\"invalid\":%d,\"no_answer\":%s}",
                     res[i].success ? "true" : "false", res[i].steps, res[i].invalid,
                     res[i].no_answer ? "true" : "false");
        LAM_TRY(lam_episode_write_meta(f, ep, res ? meta : NULL, err));
        (*written)++;
        r->written_states += ep->n_steps;
    }
    return LAM_OK;
}
