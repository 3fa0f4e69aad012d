/* eval_cli.c - `lam eval`: the evaluation of a checkpoint, its JSON and HTML report
 * (infer_cli.h). */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/agent.h"
#include "lam/atomic.h"
#include "lam/cli.h"
#include "lam/eval.h"
#include "lam/infer_cli.h"

static const char *usage =
    "usage: lam eval CHECKPOINT [flags]\n"
    "\n"
    "Evaluates an action model. Offline, on recorded episodes with their recorded history:\n"
    "element accuracy, operation F1, step success and episode success (Mind2Web's definitions,\n"
    "macro over episodes), per split, app and domain. Closed loop, in the simulator: the model\n"
    "acts, the simulator executes and judges, on fresh tasks of each split's templates: task\n"
    "success rate and steps. Zero-shot, or few-shot with --shots K demonstrations of the same\n"
    "app in each prompt. Writes a JSON report and a self-contained HTML page.\n"
    "\n"
    "flags:\n"
    "  --data FILE.jsonl    recordings: the offline episodes, the few-shot pool and the\n"
    "                       closed-loop templates of each split          [out/sim.jsonl]\n"
    "  --splits A,B         splits to evaluate                            [every test_* split]\n"
    "  --episodes N         offline episodes per split (0: all)           [200]\n"
    "  --closed-loop N      simulator episodes per split (0: none)        [100]\n"
    "  --step-limit N       closed-loop steps per episode                 [30]\n"
    "  --no-offline         closed loop only\n"
    "  --shots K            demonstrations per prompt (0..16)             [0]\n"
    "  --seed S             closed-loop tasks                             [7]\n"
    "  --out FILE.json      the JSON report                               [stdout]\n"
    "  --html FILE.html     the HTML report\n"
    "  --trace FILE.jsonl   the closed-loop episodes as recordings: the model's actions, the\n"
    "                       expert's as targets where they differ, the result as meta\n"
    "  --worst N            episodes shown step by step in the HTML       [3]\n"
    "  --max-seqs N         requests decoded together                     [16]\n"
    "  --policy P           model, or random: at each token every token the grammar allows\n"
    "                       equally likely (the model's logits ignored), the baseline  [model]\n"
    "  --device NAME        backend                                       [cpu]\n"
    "  --threads N          CPU threads (0: all cores)                    [0]\n"
    "  --quiet              no progress bars\n"
    "  --free-values        typed values and answers need not come from the task or the\n"
    "                       page (by default what is typed is copied from the task, or is a\n"
    "                       date it names; an answer from the task or the page)\n"
    "  --type-from-page     what is typed may also be copied from the page\n"
    "  -h, --help           show this help\n";

static lam_status write_text(const char *path, const char *text, lam_error *err) {
    lam_atomic_file af;
    LAM_TRY(lam_atomic_open(&af, path, err));
    if (fputs(text, af.f) == EOF) {
        lam_atomic_abort(&af);
        return lam_error_set(err, LAM_ERR_IO, "%s: write failed", path);
    }
    return lam_atomic_commit(&af, err);
}

static void summary(json_t *rep) {
    json_t *off = json_object_get(rep, "offline"), *cl = json_object_get(rep, "closed_loop");
    const char *k;
    json_t *v;
    if (off) {
        fprintf(stderr, "%-16s %8s %8s %8s %8s %8s  (offline)\n", "split", "episodes", "elem acc",
                "op F1", "step SR", "ep SR");
        json_object_foreach(json_object_get(off, "splits"), k, v)
            fprintf(stderr, "%-16s %8d %7.1f%% %7.1f%% %7.1f%% %7.1f%%\n", k,
                    (int)json_integer_value(json_object_get(v, "episodes")),
                    100 * json_real_value(json_object_get(v, "element_accuracy")),
                    100 * json_real_value(json_object_get(v, "operation_f1")),
                    100 * json_real_value(json_object_get(v, "step_success")),
                    100 * json_real_value(json_object_get(v, "episode_success")));
    }
    if (cl) {
        fprintf(stderr, "%-16s %8s %8s %8s %8s  (closed loop)\n", "split", "episodes", "success",
                "steps", "invalid");
        json_object_foreach(json_object_get(cl, "splits"), k, v)
            fprintf(stderr, "%-16s %8d %7.1f%% %8.1f %8d\n", k,
                    (int)json_integer_value(json_object_get(v, "episodes")),
                    100 * json_real_value(json_object_get(v, "success_rate")),
                    json_real_value(json_object_get(v, "mean_steps")),
                    (int)json_integer_value(json_object_get(v, "invalid_actions")));
    }
}

int lam_eval_main(int argc, char **argv) {
    lam_eval_opts o;
    lam_eval_opts_default(&o);
    const char *out = NULL, *html_path = NULL, *device = "cpu", *policy = "model", *trace = NULL;
    int no_offline = 0, quiet = 0, max_seqs = 16, threads = 0, free_values = 0, type_from_page = 0;
    int64_t seed = (int64_t)o.seed;
    lam_flag flags[] = {
        {"--data", LAM_FLAG_STR, &o.data, 0, 0, 0},
        {"--splits", LAM_FLAG_STR, &o.splits, 0, 0, 0},
        {"--episodes", LAM_FLAG_INT, &o.episodes, 0, 1 << 30, 0},
        {"--closed-loop", LAM_FLAG_INT, &o.closed_loop, 0, 1 << 20, 0},
        {"--step-limit", LAM_FLAG_INT, &o.step_limit, 1, 10000, 0},
        {"--no-offline", LAM_FLAG_BOOL, &no_offline, 0, 0, 0},
        {"--shots", LAM_FLAG_INT, &o.shots, 0, 16, 0},
        {"--seed", LAM_FLAG_I64, &seed, 0, 9.007199254740992e15, 0},
        {"--out", LAM_FLAG_STR, &out, 0, 0, 0},
        {"--html", LAM_FLAG_STR, &html_path, 0, 0, 0},
        {"--trace", LAM_FLAG_STR, &trace, 0, 0, 0},
        {"--worst", LAM_FLAG_INT, &o.worst, 0, 1000, 0},
        {"--max-seqs", LAM_FLAG_INT, &max_seqs, 1, 4096, 0},
        {"--policy", LAM_FLAG_STR, &policy, 0, 0, 0},
        {"--device", LAM_FLAG_STR, &device, 0, 0, 0},
        {"--threads", LAM_FLAG_INT, &threads, 0, 4096, 0},
        {"--quiet", LAM_FLAG_BOOL, &quiet, 0, 0, 0},
        {"--free-values", LAM_FLAG_BOOL, &free_values, 0, 0, 0},
        {"--type-from-page", LAM_FLAG_BOOL, &type_from_page, 0, 0, 0},
    };
    const char *pos[1];
    int npos = 0;
    int pr = lam_cli_parse(argc, argv, flags, (int)(sizeof flags / sizeof flags[0]), "lam eval",
                           usage, pos, &npos, 1);
    if (pr == LAM_CLI_HELP) return 0;
    if (pr != LAM_CLI_OK) return 2;
    if (npos != 1) return lam_cli_usage_error("lam eval", usage, "a checkpoint is required");
    if (strcmp(policy, "model") && strcmp(policy, "random"))
        return lam_cli_usage_error("lam eval", usage, "--policy must be model or random");
    o.offline = !no_offline;
    o.seed = (uint64_t)seed;
    o.progress = quiet ? NULL : stderr;
    if (!o.offline && o.closed_loop == 0)
        return lam_cli_usage_error("lam eval", usage,
                                   "--no-offline with --closed-loop 0 leaves nothing to do");
    lam_error err = {0};
    lam_agent_opts ao;
    lam_agent_opts_default(&ao);
    ao.backend = device, ao.threads = threads, ao.max_seqs = max_seqs;
    ao.random_policy = !strcmp(policy, "random");
    ao.copy = free_values ? 0 : type_from_page ? 2 : 1;
    lam_agent *agent = NULL;
    json_t *rep = NULL;
    char *html = NULL, *js = NULL;
    int rc = 1, tracing = 0;
    lam_atomic_file tf;
    if (trace && o.closed_loop == 0)
        return lam_cli_usage_error("lam eval", usage, "--trace needs closed-loop episodes");
    if (trace) {
        if (lam_atomic_open(&tf, trace, &err) != LAM_OK) goto fail;
        tracing = 1;
        o.trace = tf.f;
    }
    if (lam_agent_load(pos[0], &ao, &agent, &err) != LAM_OK ||
        lam_eval_run(agent, &o, pos[0], &rep, html_path ? &html : NULL, &err) != LAM_OK)
        goto fail;
    if (trace) {
        tracing = 0;
        if (lam_atomic_commit(&tf, &err) != LAM_OK) goto fail;
    }
    json_object_set_new(rep, "policy", json_string(policy));
    js = json_dumps(rep, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    if (!js) {
        lam_error_set(&err, LAM_ERR_NOMEM, "out of memory");
        goto fail;
    }
    size_t jl = strlen(js);
    js = realloc(js, jl + 2);
    js[jl] = '\n', js[jl + 1] = 0;
    if (out) {
        if (write_text(out, js, &err) != LAM_OK) goto fail;
    } else {
        fputs(js, stdout);
    }
    if (html_path && write_text(html_path, html, &err) != LAM_OK) goto fail;
    summary(rep);
    if (out) fprintf(stderr, "lam eval: report %s\n", out);
    if (html_path) fprintf(stderr, "lam eval: HTML report %s\n", html_path);
    if (trace) fprintf(stderr, "lam eval: closed-loop episodes %s\n", trace);
    rc = 0;
    goto done;
fail:
    if (tracing) lam_atomic_abort(&tf);
    fprintf(stderr, "lam eval: %s\n", err.msg);
done:
    free(js), free(html);
    json_decref(rep);
    lam_agent_free(agent);
    return rc;
}
