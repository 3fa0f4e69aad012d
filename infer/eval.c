/* eval.c - offline and closed-loop evaluation of an action model, its JSON and HTML report
 * (eval.h). Requests are decoded in batches through the agent (continuous batching inside). */
#define _POSIX_C_SOURCE 200809L
#include "lam/eval.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lam/progress.h"
#include "lam/rng.h"
#include "lam/rollout.h"
#include "lam/sim.h"
#include "lam/timer.h"

#define BATCH 256 /* requests handed to the agent at once */

void lam_eval_opts_default(lam_eval_opts *o) {
    memset(o, 0, sizeof *o);
    o->data = "out/sim.jsonl";
    o->episodes = 200;
    o->closed_loop = 100;
    o->step_limit = 30;
    o->offline = 1;
    o->seed = 7;
    o->worst = 3;
}

/* ---- step metrics ------------------------------------------------------------------------ */

/* "OP value" split on whitespace into at most cap tokens (pointers into buf). */
static int op_tokens(const lam_action *a, char *buf, size_t cap, char **tok, int max) {
    snprintf(buf, cap, "%s%s%s", lam_action_name(a->type), a->value ? " " : "",
             a->value ? a->value : "");
    int n = 0;
    for (char *p = strtok(buf, " \t\n\r"); p && n < max; p = strtok(NULL, " \t\n\r")) tok[n++] = p;
    return n;
}

void lam_eval_score_step(const lam_action *pred, const lam_action *target, lam_step_score *s) {
    memset(s, 0, sizeof *s);
    if (!pred) return;
    const char *pe = pred->element, *te = target->element;
    s->element_ok = (!pe && !te) || (pe && te && !strcmp(pe, te));
    char b1[1024], b2[1024], *t1[128], *t2[128];
    int n1 = op_tokens(pred, b1, sizeof b1, t1, 128),
        n2 = op_tokens(target, b2, sizeof b2, t2, 128);
    /* token F1 with multiset matching */
    int used[128] = {0}, common = 0;
    for (int i = 0; i < n1; i++)
        for (int j = 0; j < n2; j++)
            if (!used[j] && !strcmp(t1[i], t2[j])) {
                used[j] = 1, common++;
                break;
            }
    if (common) {
        double p = (double)common / n1, r = (double)common / n2;
        s->op_f1 = 2 * p * r / (p + r);
    }
    s->op_exact = pred->type == target->type &&
                  ((!pred->value && !target->value) ||
                   (pred->value && target->value && !strcmp(pred->value, target->value)));
    s->step_ok = s->element_ok && s->op_exact;
}

/* ---- the recordings -------------------------------------------------------------------- */

typedef struct {
    lam_episode *ep;
    int n;
} episodes;

static void episodes_free(episodes *E) {
    for (int i = 0; i < E->n; i++) lam_episode_free(&E->ep[i]);
    free(E->ep);
}

static lam_status episodes_load(const char *path, episodes *E, lam_error *err) {
    memset(E, 0, sizeof *E);
    lam_jsonl_reader r;
    LAM_TRY(lam_jsonl_open(&r, path, err));
    int cap = 0;
    lam_status st = LAM_OK;
    for (;;) {
        const char *line;
        size_t len;
        if ((st = lam_jsonl_next(&r, &line, &len, err)) != LAM_OK || !line) break;
        if (E->n == cap) {
            cap = cap ? 2 * cap : 256;
            lam_episode *p = realloc(E->ep, (size_t)cap * sizeof *p);
            if (!p) {
                st = lam_error_set(err, LAM_ERR_NOMEM, "eval: out of memory");
                break;
            }
            E->ep = p;
        }
        lam_problem items[1];
        lam_problems probs;
        lam_problems_init(&probs, items, 1);
        if (lam_episode_parse(line, len, &E->ep[E->n], &probs) != LAM_OK) {
            st = lam_error_set(err, LAM_ERR_INVALID, "%s:%lld: %s: %s (run lam data validate)",
                               path, (long long)r.line_no, probs.n ? items[0].path : "",
                               probs.n ? items[0].msg : "invalid episode");
            break;
        }
        E->n++;
    }
    lam_jsonl_close(&r);
    if (st != LAM_OK) episodes_free(E);
    return st;
}

static const char *split_of(const lam_episode *e) {
    return e->split && e->split[0] ? e->split : "train";
}

/* K demonstrations for episode e: other episodes of its app, the nearest before it in the
 * file first (wrapping around), training episodes preferred. */
static int pick_examples(const episodes *E, int e, int K, const lam_episode **out) {
    int n = 0;
    for (int pass = 0; pass < 2 && n < K; pass++)
        for (int d = 1; d < E->n && n < K; d++) {
            int j = ((e - d) % E->n + E->n) % E->n;
            const lam_episode *x = &E->ep[j];
            if (strcmp(x->app, E->ep[e].app) || x->n_steps == 0) continue;
            int train = !strcmp(split_of(x), "train");
            if ((pass == 0) != train) continue;
            out[n++] = x;
        }
    return n;
}

/* ---- aggregates ---------------------------------------------------------------------- */

typedef struct {
    char name[96];
    int episodes, steps, success;
    double elem, f1, sr; /* sums of per-episode means */
} agg;

typedef struct {
    agg *a;
    int n, cap;
} aggs;

static agg *agg_get(aggs *A, const char *name) {
    for (int i = 0; i < A->n; i++)
        if (!strcmp(A->a[i].name, name)) return &A->a[i];
    if (A->n == A->cap) {
        int cap = A->cap ? 2 * A->cap : 16;
        agg *p = realloc(A->a, (size_t)cap * sizeof *p);
        if (!p) return NULL;
        A->a = p, A->cap = cap;
    }
    agg *g = &A->a[A->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    return g;
}

static void agg_add(agg *g, int steps, double elem, double f1, double sr, int success) {
    if (!g) return;
    g->episodes++, g->steps += steps, g->success += success;
    g->elem += elem, g->f1 += f1, g->sr += sr;
}

static json_t *agg_json(const agg *g) {
    double n = g->episodes ? g->episodes : 1;
    return json_pack("{s:i, s:i, s:f, s:f, s:f, s:f}", "episodes", g->episodes, "steps", g->steps,
                     "element_accuracy", g->elem / n, "operation_f1", g->f1 / n, "step_success",
                     g->sr / n, "episode_success", g->success / n);
}

/* ---- offline --------------------------------------------------------------------------- */

typedef struct { /* one evaluated episode, for the report */
    int index;   /* into the recordings */
    const char *split;
    double elem, f1, sr;
    int success;
    char **pred; /* per step: the predicted text (or the error), malloc'd */
    lam_step_score *score;
    lam_action *acts; /* the recorded actions (shallow copies): the history of each step */
    const lam_observation **obs; /* the observations they were taken in */
} ep_result;

static void ep_results_free(ep_result *r, int n, const episodes *E) {
    for (int i = 0; i < n; i++) {
        if (r[i].pred)
            for (int s = 0; s < E->ep[r[i].index].n_steps; s++) free(r[i].pred[s]);
        free(r[i].pred), free(r[i].score), free(r[i].acts), free(r[i].obs);
    }
    free(r);
}

typedef struct {
    lam_act_req req;
    const lam_episode *ex[16];
    int ep, step; /* into the recordings */
    int slot;     /* the ep_result it belongs to */
} step_job;

static lam_status run_jobs(lam_agent *agent, step_job *jobs, lam_act_req *reqs, lam_act_res *res,
                           int n, const episodes *E, ep_result *out, lam_progress *bar,
                           int64_t *done, lam_error *err) {
    for (int i = 0; i < n; i++) reqs[i] = jobs[i].req;
    LAM_TRY(lam_agent_run(agent, reqs, res, n, err));
    for (int i = 0; i < n; i++) {
        step_job *j = &jobs[i];
        const lam_step *st = &E->ep[j->ep].steps[j->step];
        const lam_action *target = st->has_target ? &st->target : &st->action;
        const lam_action *pred =
            res[i].status == LAM_OK && res[i].actions.n > 0 ? &res[i].actions.items[0] : NULL;
        ep_result *r = &out[j->slot];
        lam_eval_score_step(pred, target, &r->score[j->step]);
        r->pred[j->step] =
            strdup(res[i].status == LAM_OK ? (res[i].text ? res[i].text : "") : res[i].error);
        lam_act_res_free(&res[i]);
    }
    *done += n;
    if (bar) lam_progress_update(bar, *done, NULL);
    return LAM_OK;
}

static lam_status offline_split(lam_agent *agent, const lam_eval_opts *o, const episodes *E,
                                const char *split, ep_result **out, int *n_out, lam_error *err) {
    int ne = 0, nsteps = 0;
    for (int i = 0; i < E->n; i++)
        if (!strcmp(split_of(&E->ep[i]), split) && (o->episodes <= 0 || ne < o->episodes))
            ne++, nsteps += E->ep[i].n_steps;
    *out = calloc((size_t)(ne ? ne : 1), sizeof **out);
    step_job *jobs = calloc(BATCH, sizeof *jobs);
    lam_act_req *reqs = calloc(BATCH, sizeof *reqs);
    lam_act_res *res = calloc(BATCH, sizeof *res);
    lam_status st = LAM_OK;
    if (!*out || !jobs || !reqs || !res) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "eval: out of memory");
        goto done;
    }
    lam_progress bar;
    char label[64];
    snprintf(label, sizeof label, "offline %s", split);
    if (o->progress) lam_progress_init(&bar, o->progress, label, nsteps);
    int64_t steps_done = 0;
    int k = 0, nj = 0;
    for (int i = 0; i < E->n && k < ne && st == LAM_OK; i++) {
        const lam_episode *ep = &E->ep[i];
        if (strcmp(split_of(ep), split)) continue;
        ep_result *r = &(*out)[k++];
        r->index = i, r->split = split;
        r->pred = calloc((size_t)ep->n_steps, sizeof *r->pred);
        r->score = calloc((size_t)ep->n_steps, sizeof *r->score);
        r->acts = calloc((size_t)ep->n_steps, sizeof *r->acts);
        r->obs = calloc((size_t)ep->n_steps, sizeof *r->obs);
        if (!r->pred || !r->score || !r->acts || !r->obs) {
            st = lam_error_set(err, LAM_ERR_NOMEM, "eval: out of memory");
            break;
        }
        for (int s = 0; s < ep->n_steps; s++)
            r->acts[s] = ep->steps[s].action, r->obs[s] = &ep->steps[s].obs;
        const lam_episode *ex[16];
        int nex = pick_examples(E, i, o->shots < 16 ? o->shots : 16, ex);
        for (int s = 0; s < ep->n_steps && st == LAM_OK; s++) {
            step_job *j = &jobs[nj++];
            lam_act_req_init(&j->req);
            j->ep = i, j->step = s, j->slot = k - 1;
            memcpy(j->ex, ex, sizeof ex);
            j->req.task = ep->task;
            j->req.obs = &ep->steps[s].obs;
            j->req.history = r->acts; /* the recorded actions before step s */
            j->req.n_history = s;
            j->req.history_obs = r->obs;
            j->req.examples = j->ex;
            j->req.n_examples = nex;
            j->req.stream = (uint64_t)i << 20 | (uint64_t)s;
            if (nj == BATCH) {
                st = run_jobs(agent, jobs, reqs, res, nj, E, *out, o->progress ? &bar : NULL,
                              &steps_done, err);
                nj = 0;
            }
        }
    }
    if (st == LAM_OK && nj)
        st = run_jobs(agent, jobs, reqs, res, nj, E, *out, o->progress ? &bar : NULL, &steps_done,
                      err);
    if (o->progress) lam_progress_finish(&bar, NULL);
    *n_out = k;
    /* per-episode means */
    for (int e = 0; e < k && st == LAM_OK; e++) {
        ep_result *r = &(*out)[e];
        int n = E->ep[r->index].n_steps, ok = 1;
        for (int s = 0; s < n; s++) {
            r->elem += r->score[s].element_ok;
            r->f1 += r->score[s].op_f1;
            r->sr += r->score[s].step_ok;
            ok &= r->score[s].step_ok;
        }
        if (n) r->elem /= n, r->f1 /= n, r->sr /= n;
        r->success = ok && n > 0;
    }
done:
    free(jobs), free(reqs), free(res);
    return st;
}

/* ---- closed loop --------------------------------------------------------------------------- */

typedef struct {
    char name[64];
    int episodes, success, steps_success, invalid, steps;
} loop_agg;

/* The (app, template) pairs the split's recorded episodes use. */
static int split_pairs(const episodes *E, const char *split, int *app, int *tmpl, int cap) {
    int n = 0;
    for (int i = 0; i < E->n && n < cap; i++) {
        const lam_episode *e = &E->ep[i];
        if (strcmp(split_of(e), split) || !e->template_id) continue;
        int a = lam_sim_app_find(e->app);
        int t = a >= 0 ? lam_sim_template_find(a, e->template_id) : -1;
        if (t < 0) continue; /* not a simulator episode */
        int seen = 0;
        for (int k = 0; k < n && !seen; k++) seen = app[k] == a && tmpl[k] == t;
        if (!seen) app[n] = a, tmpl[n] = t, n++;
    }
    return n;
}

static lam_status closed_loop_split(lam_agent *agent, const lam_eval_opts *o, const episodes *E,
                                    const char *split, int split_index, loop_agg *out,
                                    json_t *per_app, lam_error *err) {
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", split);
    int apps[512], tmpls[512];
    int np = split_pairs(E, split, apps, tmpls, 512);
    if (np == 0) return LAM_OK;
    int N = o->closed_loop;
    lam_rollout_task *tasks = calloc((size_t)N, sizeof *tasks);
    lam_rollout_result *res = calloc((size_t)N, sizeof *res);
    const lam_episode **ex = calloc((size_t)N * 16, sizeof *ex);
    lam_status st = LAM_OK;
    if (!tasks || !res || !ex) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "eval: out of memory");
        goto done;
    }
    for (int i = 0; i < N; i++) { /* fresh tasks of the split's templates */
        uint32_t r[4];
        lam_philox(o->seed, 0xc105ed00u + (uint64_t)split_index, (uint64_t)i, r);
        int k = (int)(r[0] % (uint32_t)np);
        tasks[i].app = apps[k], tasks[i].tmpl = tmpls[k];
        tasks[i].seed = (uint64_t)r[2] << 32 | r[3];
        if (o->shots > 0) { /* demonstrations: recorded episodes of the app */
            const lam_episode **x = ex + (size_t)i * 16;
            int m = 0;
            for (int e = 0; e < E->n && m < o->shots && m < 16; e++)
                if (!strcmp(E->ep[e].app, lam_sim_app_name(apps[k]))) x[m++] = &E->ep[e];
            tasks[i].examples = x, tasks[i].n_examples = m;
        }
    }
    lam_rollout_opts ro;
    lam_rollout_opts_default(&ro);
    char label[64];
    snprintf(label, sizeof label, "closed loop %s", split);
    ro.step_limit = o->step_limit;
    ro.stream = (uint64_t)split_index << 40;
    ro.progress = o->progress;
    ro.label = label;
    lam_rollout_rec rec;
    memset(&rec, 0, sizeof rec);
    if (o->trace) {
        if ((st = lam_rollout_rec_init(&rec, N, err)) != LAM_OK) goto done;
        char prefix[96];
        snprintf(prefix, sizeof prefix, "eval-%s", split);
        lam_rollout_rec_reset(&rec, prefix, split);
        lam_rollout_rec_attach(&rec, &ro);
    }
    st = lam_rollouts(agent, tasks, N, &ro, res, err);
    int written = 0;
    if (st == LAM_OK && o->trace) st = lam_rollout_rec_write(&rec, o->trace, res, &written, err);
    lam_rollout_rec_free(&rec);
    if (st != LAM_OK) goto done;
    for (int i = 0; i < N; i++) {
        out->episodes++;
        out->success += res[i].success;
        out->steps += res[i].steps;
        out->invalid += res[i].invalid;
        if (res[i].success) out->steps_success += res[i].steps;
        const char *an = lam_sim_app_name(tasks[i].app);
        json_t *pa = json_object_get(per_app, an);
        if (!pa)
            json_object_set_new(per_app, an,
                                pa = json_pack("{s:i, s:i}", "episodes", 0, "success", 0));
        json_object_set_new(pa, "episodes",
                            json_integer(json_integer_value(json_object_get(pa, "episodes")) + 1));
        json_object_set_new(
            pa, "success",
            json_integer(json_integer_value(json_object_get(pa, "success")) + res[i].success));
    }
done:
    free(tasks), free(res), free(ex);
    return st;
}

/* ---- the HTML report ---------------------------------------------------------------------- */

static void html_esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void html_bar(FILE *f, double v) {
    fprintf(f, "<td class=n>%.1f%%<div class=bar><div style=\"width:%.1f%%\"></div></div></td>",
            100 * v, 100 * v);
}

static void html_table(FILE *f, const char *title, json_t *tab) {
    fprintf(f,
            "<h3>%s</h3><table><tr><th>%s</th><th>episodes</th><th>steps</th><th>element "
            "accuracy</th><th>operation F1</th><th>step success</th><th>episode "
            "success</th></tr>\n",
            title,
            strstr(title, "app")      ? "app"
            : strstr(title, "domain") ? "domain"
                                      : "split");
    const char *k;
    json_t *v;
    json_object_foreach(tab, k, v) {
        fprintf(f, "<tr><td>");
        html_esc(f, k);
        fprintf(f, "</td><td class=n>%d</td><td class=n>%d</td>",
                (int)json_integer_value(json_object_get(v, "episodes")),
                (int)json_integer_value(json_object_get(v, "steps")));
        html_bar(f, json_real_value(json_object_get(v, "element_accuracy")));
        html_bar(f, json_real_value(json_object_get(v, "operation_f1")));
        html_bar(f, json_real_value(json_object_get(v, "step_success")));
        html_bar(f, json_real_value(json_object_get(v, "episode_success")));
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void html_action(FILE *f, const lam_action *a) {
    fprintf(f, "%s", lam_action_name(a->type));
    if (a->element) fprintf(f, " %s", a->element);
    if (a->value) {
        fputs(" \"", f);
        html_esc(f, a->value);
        fputc('"', f);
    }
}

static void html_worst(FILE *f, const episodes *E, const ep_result *r) {
    const lam_episode *ep = &E->ep[r->index];
    fprintf(f, "<div class=ep><h4>");
    html_esc(f, ep->id);
    fprintf(f, " &middot; %s &middot; ", r->split);
    html_esc(f, ep->template_id ? ep->template_id : ep->app);
    fprintf(f, " &middot; step success %.0f%%</h4><p class=task>", 100 * r->sr);
    html_esc(f, ep->task);
    fprintf(f, "</p><table><tr><th>#</th><th>page</th><th>recorded</th><th>predicted</th><th>"
               "element</th><th>op F1</th></tr>\n");
    for (int s = 0; s < ep->n_steps; s++) {
        const lam_step *st = &ep->steps[s];
        const lam_element *te = lam_observation_find(&st->obs, st->action.element);
        fprintf(f, "<tr class=%s><td class=n>%d</td><td>", r->score[s].step_ok ? "ok" : "bad", s);
        html_esc(f, st->obs.title ? st->obs.title : st->obs.url);
        fprintf(f, "</td><td><code>");
        html_action(f, &st->action);
        fprintf(f, "</code>");
        if (te) {
            fprintf(f, "<br><small>%s \"", lam_role_name(te->role));
            html_esc(f, te->name);
            fprintf(f, "\"</small>");
        }
        fprintf(f, "</td><td><code>");
        html_esc(f, r->pred[s] ? r->pred[s] : "");
        fprintf(f, "</code></td><td>%s</td><td class=n>%.2f</td></tr>\n",
                r->score[s].element_ok ? "&#10003;" : "&#10007;", r->score[s].op_f1);
    }
    fprintf(f, "</table></div>\n");
}

static int by_sr(const void *a, const void *b) {
    const ep_result *x = *(const ep_result *const *)a, *y = *(const ep_result *const *)b;
    if (x->sr != y->sr) return x->sr < y->sr ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static char *html_report(json_t *rep, const episodes *E, ep_result **all, int n_all, int worst) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "<!doctype html><html><head><meta charset=utf-8><title>lamkit evaluation</title>"
               "<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}"
               "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:3px 8px;"
               "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}td.n{text-align:"
               "right;white-space:nowrap}.bar{background:#eee;width:110px;height:6px}.bar div{"
               "background:#3a7;height:6px}tr.bad td{background:#fff3f3}code{font-size:13px}"
               ".ep{border:1px solid #ccc;padding:0 1em;margin:1em 0}.task{font-style:italic}"
               "</style></head><body><h1>lamkit evaluation</h1>\n<p>checkpoint <code>");
    html_esc(f, json_string_value(json_object_get(rep, "checkpoint")));
    fprintf(f, "</code>, recordings <code>");
    html_esc(f, json_string_value(json_object_get(rep, "data")));
    fprintf(f, "</code>, %d-shot</p>\n", (int)json_integer_value(json_object_get(rep, "shots")));
    json_t *off = json_object_get(rep, "offline");
    if (off) {
        fprintf(f, "<h2>Offline (recorded history, Mind2Web metrics, macro over episodes)</h2>");
        html_table(f, "by split", json_object_get(off, "splits"));
        html_table(f, "by app", json_object_get(off, "apps"));
        html_table(f, "by domain", json_object_get(off, "domains"));
    }
    json_t *cl = json_object_get(rep, "closed_loop");
    if (cl) {
        fprintf(f, "<h2>Closed loop in the simulator</h2><table><tr><th>split</th><th>episodes"
                   "</th><th>task success</th><th>steps (successes)</th><th>invalid actions"
                   "</th></tr>\n");
        const char *k;
        json_t *v;
        json_t *sp = json_object_get(cl, "splits");
        json_object_foreach(sp, k, v) {
            fprintf(f, "<tr><td>");
            html_esc(f, k);
            fprintf(f, "</td><td class=n>%d</td>",
                    (int)json_integer_value(json_object_get(v, "episodes")));
            html_bar(f, json_real_value(json_object_get(v, "success_rate")));
            fprintf(f, "<td class=n>%.1f</td><td class=n>%d</td></tr>\n",
                    json_real_value(json_object_get(v, "mean_steps_success")),
                    (int)json_integer_value(json_object_get(v, "invalid_actions")));
        }
        fprintf(f, "</table><h3>by app</h3><table><tr><th>app</th><th>episodes</th><th>task "
                   "success</th></tr>\n");
        json_object_foreach(json_object_get(cl, "apps"), k, v) {
            int ne = (int)json_integer_value(json_object_get(v, "episodes"));
            int ns = (int)json_integer_value(json_object_get(v, "success"));
            fprintf(f, "<tr><td>");
            html_esc(f, k);
            fprintf(f, "</td><td class=n>%d</td>", ne);
            html_bar(f, ne ? (double)ns / ne : 0);
            fprintf(f, "</tr>\n");
        }
        fprintf(f, "</table>\n");
    }
    if (n_all > 0 && worst > 0) {
        const ep_result **sorted = malloc((size_t)n_all * sizeof *sorted);
        if (sorted) {
            for (int i = 0; i < n_all; i++) sorted[i] = all[i];
            qsort(sorted, (size_t)n_all, sizeof *sorted, by_sr);
            fprintf(f, "<h2>The worst episodes, step by step</h2>\n");
            for (int i = 0; i < n_all && i < worst; i++) html_worst(f, E, sorted[i]);
            free(sorted);
        }
    }
    fprintf(f, "</body></html>\n");
    fclose(f);
    return buf;
}

/* ---- the run ------------------------------------------------------------------------------- */

/* The splits to evaluate: the given list, or every test_* split of the recordings. */
static int split_list(const lam_eval_opts *o, const episodes *E, char names[][64], int cap) {
    int n = 0;
    if (o->splits && o->splits[0]) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", o->splits);
        for (char *p = strtok(buf, ","); p && n < cap; p = strtok(NULL, ","))
            snprintf(names[n++], 64, "%s", p);
        return n;
    }
    for (int i = 0; i < E->n && n < cap; i++) {
        const char *s = split_of(&E->ep[i]);
        if (strncmp(s, "test_", 5)) continue;
        int seen = 0;
        for (int k = 0; k < n && !seen; k++) seen = !strcmp(names[k], s);
        if (!seen) snprintf(names[n++], 64, "%s", s);
    }
    return n;
}

lam_status lam_eval_run(lam_agent *agent, const lam_eval_opts *o, const char *checkpoint,
                        json_t **report, char **html, lam_error *err) {
    *report = NULL;
    if (html) *html = NULL;
    if (o->shots < 0 || o->shots > 16 || o->episodes < 0 || o->closed_loop < 0 || o->step_limit < 1)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "eval: shots %d (0..16), episodes %d, closed-loop %d, step limit %d",
                             o->shots, o->episodes, o->closed_loop, o->step_limit);
    episodes E;
    LAM_TRY(episodes_load(o->data, &E, err));
    char names[32][64];
    int ns = split_list(o, &E, names, 32);
    lam_status st = LAM_OK;
    if (ns == 0)
        st = lam_error_set(err, LAM_ERR_INVALID,
                           "eval: %s has no test_* split (name one with --splits)", o->data);
    for (int k = 0; k < ns && st == LAM_OK; k++) {
        int have = 0;
        for (int i = 0; i < E.n && !have; i++) have = !strcmp(split_of(&E.ep[i]), names[k]);
        if (!have)
            st = lam_error_set(err, LAM_ERR_INVALID, "eval: %s has no episode of split '%s'",
                               o->data, names[k]);
    }
    json_t *rep = json_pack("{s:s, s:s, s:i, s:i}", "checkpoint", checkpoint, "data", o->data,
                            "shots", o->shots, "step_limit", o->step_limit);
    ep_result *res[32] = {0};
    int nres[32] = {0};
    double t0 = lam_now_s();
    if (st == LAM_OK && o->offline) {
        aggs sp = {0}, ap = {0}, dm = {0};
        for (int k = 0; k < ns && st == LAM_OK; k++) {
            st = offline_split(agent, o, &E, names[k], &res[k], &nres[k], err);
            for (int i = 0; i < nres[k] && st == LAM_OK; i++) {
                ep_result *r = &res[k][i];
                const lam_episode *ep = &E.ep[r->index];
                agg_add(agg_get(&sp, names[k]), ep->n_steps, r->elem, r->f1, r->sr, r->success);
                agg_add(agg_get(&ap, ep->app), ep->n_steps, r->elem, r->f1, r->sr, r->success);
                agg_add(agg_get(&dm, ep->domain), ep->n_steps, r->elem, r->f1, r->sr, r->success);
            }
        }
        json_t *off = json_object(), *t[3] = {json_object(), json_object(), json_object()};
        aggs *A[3] = {&sp, &ap, &dm};
        for (int g = 0; g < 3; g++)
            for (int i = 0; i < A[g]->n; i++)
                json_object_set_new(t[g], A[g]->a[i].name, agg_json(&A[g]->a[i]));
        json_object_set_new(off, "splits", t[0]);
        json_object_set_new(off, "apps", t[1]);
        json_object_set_new(off, "domains", t[2]);
        json_object_set_new(rep, "offline", off);
        free(sp.a), free(ap.a), free(dm.a);
    }
    if (st == LAM_OK && o->closed_loop > 0) {
        json_t *cl = json_object(), *sps = json_object(), *apps = json_object();
        for (int k = 0; k < ns && st == LAM_OK; k++) {
            loop_agg g;
            st = closed_loop_split(agent, o, &E, names[k], k, &g, apps, err);
            if (st != LAM_OK || g.episodes == 0) continue;
            json_object_set_new(sps, names[k],
                                json_pack("{s:i, s:i, s:f, s:f, s:f, s:i}", "episodes", g.episodes,
                                          "success", g.success, "success_rate",
                                          (double)g.success / g.episodes, "mean_steps",
                                          (double)g.steps / g.episodes, "mean_steps_success",
                                          g.success ? (double)g.steps_success / g.success : 0.0,
                                          "invalid_actions", g.invalid));
        }
        json_object_set_new(cl, "splits", sps);
        json_object_set_new(cl, "apps", apps);
        json_object_set_new(rep, "closed_loop", cl);
    }
    json_object_set_new(rep, "seconds", json_real(lam_now_s() - t0));
    if (st == LAM_OK && html) {
        int total = 0;
        for (int k = 0; k < ns; k++) total += nres[k];
        ep_result **all = malloc((size_t)(total ? total : 1) * sizeof *all);
        if (all) {
            int m = 0;
            for (int k = 0; k < ns; k++)
                for (int i = 0; i < nres[k]; i++) all[m++] = &res[k][i];
            *html = html_report(rep, &E, all, m, o->worst);
            free(all);
        }
        if (!*html) st = lam_error_set(err, LAM_ERR_NOMEM, "eval: out of memory for the report");
    }
    for (int k = 0; k < ns; k++)
        if (res[k]) ep_results_free(res[k], nres[k], &E);
    episodes_free(&E);
    if (st != LAM_OK) {
        json_decref(rep);
        return st;
    }
    *report = rep;
    return LAM_OK;
}
