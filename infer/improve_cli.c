/* improve_cli.c - `lam improve`: flags, the table of rounds (improve.h). */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/atomic.h"
#include "lam/cli.h"
#include "lam/improve.h"

static const char *usage =
    "usage: lam improve CHECKPOINT [flags]\n"
    "\n"
    "Improves a trained model in the simulator with DAgger: each round the model acts on tasks\n"
    "of the training templates, the simulator's expert labels the right action in every state\n"
    "it reached, those episodes (with the corrections) join the dataset, training continues\n"
    "from the model on everything so far, and the new model's closed-loop success on the\n"
    "held-out splits is measured. Prints a table of the rounds; writes OUT/table.json.\n"
    "\n"
    "flags:\n"
    "  --data FILE.jsonl    the recordings the model was trained on      [out/sim.jsonl]\n"
    "  --out DIR            rounds, datasets, checkpoints, the table      [out/improve]\n"
    "  --rounds N           rounds                                        [3]\n"
    "  --episodes N         rollouts per round                            [200]\n"
    "  --steps N            training steps per round                      [100]\n"
    "  --lr X               peak learning rate of a round                 [1e-3]\n"
    "  --warmup N           warmup steps of a round                       [10]\n"
    "  --step-limit N       actions per episode                           [30]\n"
    "  --eval-episodes N    closed-loop episodes per held-out split       [100]\n"
    "  --eval-train         also measure each model on as many fresh tasks of the training\n"
    "                       templates (the tasks the rollouts are drawn from)\n"
    "  --baseline           also train plain for rounds x steps from CHECKPOINT (equal compute)\n"
    "  --free-values        typed values and answers need not come from the task or the\n"
    "                       page (by default what is typed is copied from the task, or is a\n"
    "                       date it names; an answer from the task or the page)\n"
    "  --type-from-page     what is typed may also be copied from the page\n"
    "  --all-states         every state a rollout reached joins the data (by default a\n"
    "                       rollout ends at its first correction: the states after it,\n"
    "                       off the expert's path, cost held-out success)\n"
    "  --beta B             in each state the expert's action is executed instead of the\n"
    "                       model's with probability B (DAgger's mixture; the states stay\n"
    "                       labeled; 1: the rollouts are expert demonstrations)   [0]\n"
    "  --rollout-weight K   each round's rollouts join the aggregate K times, so training\n"
    "                       samples them K times as often against the plain data   [1]\n"
    "  --seed S             rollout tasks                                 [11]\n"
    "  --device NAME        backend                                       [cpu]\n"
    "  --threads N          CPU threads (0: all cores)                    [0]\n"
    "  --quiet              no progress\n"
    "  -h, --help           show this help\n";

static void print_table(json_t *t) {
    json_t *rows = json_object_get(t, "rows"), *row;
    size_t i;
    const char *splits[4] = {"test_template", "test_app", "test_domain", "train"};
    printf("| round | rollouts solved | states | corrected | kept | test_template | test_app | "
           "test_domain | train |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    json_array_foreach(rows, i, row) {
        json_t *r = json_object_get(row, "round");
        if (json_is_string(r))
            printf("| %s (%lld steps) | | | | |", json_string_value(r),
                   (long long)json_integer_value(json_object_get(row, "steps")));
        else if (json_integer_value(r) == 0)
            printf("| 0 (start) | | | | |");
        else
            printf("| %lld | %.1f%% | %lld | %lld | %lld |", (long long)json_integer_value(r),
                   100 * json_real_value(json_object_get(row, "rollout_success")),
                   (long long)json_integer_value(json_object_get(row, "states")),
                   (long long)json_integer_value(json_object_get(row, "corrections")),
                   (long long)json_integer_value(json_object_get(row, "kept")));
        json_t *h = json_object_get(row, "held_out");
        for (int k = 0; k < 4; k++) {
            json_t *v = json_object_get(h, splits[k]);
            if (v)
                printf(" %.1f%% |", 100 * json_real_value(v));
            else
                printf(" - |");
        }
        printf("\n");
    }
}

int lam_improve_main(int argc, char **argv) {
    lam_improve_opts o;
    lam_improve_opts_default(&o);
    int quiet = 0, all_states = 0;
    int64_t seed = (int64_t)o.seed;
    lam_flag flags[] = {
        {"--data", LAM_FLAG_STR, &o.data, 0, 0, 0},
        {"--out", LAM_FLAG_STR, &o.out, 0, 0, 0},
        {"--rounds", LAM_FLAG_INT, &o.rounds, 1, 63, 0},
        {"--episodes", LAM_FLAG_INT, &o.episodes, 1, 1 << 20, 0},
        {"--steps", LAM_FLAG_I64, &o.steps, 1, 1e12, 0},
        {"--lr", LAM_FLAG_FLOAT, &o.lr, 1e-12, 10, 0},
        {"--warmup", LAM_FLAG_I64, &o.warmup, 0, 1e12, 0},
        {"--step-limit", LAM_FLAG_INT, &o.step_limit, 1, 10000, 0},
        {"--eval-episodes", LAM_FLAG_INT, &o.eval_episodes, 0, 1 << 20, 0},
        {"--baseline", LAM_FLAG_BOOL, &o.baseline, 0, 0, 0},
        {"--eval-train", LAM_FLAG_BOOL, &o.eval_train, 0, 0, 0},
        {"--free-values", LAM_FLAG_BOOL, &o.free_values, 0, 0, 0},
        {"--type-from-page", LAM_FLAG_BOOL, &o.type_from_page, 0, 0, 0},
        {"--all-states", LAM_FLAG_BOOL, &all_states, 0, 0, 0},
        {"--beta", LAM_FLAG_FLOAT, &o.beta, 0, 1, 0},
        {"--rollout-weight", LAM_FLAG_INT, &o.rollout_weight, 1, 64, 0},
        {"--seed", LAM_FLAG_I64, &seed, 0, 9.007199254740992e15, 0},
        {"--device", LAM_FLAG_STR, &o.backend, 0, 0, 0},
        {"--threads", LAM_FLAG_INT, &o.threads, 0, 4096, 0},
        {"--quiet", LAM_FLAG_BOOL, &quiet, 0, 0, 0},
    };
    const char *pos[1];
    int npos = 0;
    int pr = lam_cli_parse(argc, argv, flags, (int)(sizeof flags / sizeof flags[0]), "lam improve",
                           usage, pos, &npos, 1);
    if (pr == LAM_CLI_HELP) return 0;
    if (pr != LAM_CLI_OK) return 2;
    if (npos != 1) return lam_cli_usage_error("lam improve", usage, "a checkpoint is required");
    o.checkpoint = pos[0];
    o.seed = (uint64_t)seed;
    o.first_only = !all_states;
    o.progress = quiet ? NULL : stderr;
    lam_error err = {0};
    json_t *t = NULL;
    if (lam_improve(&o, &t, &err) != LAM_OK) {
        fprintf(stderr, "lam improve: %s\n", err.msg);
        return 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/table.json", o.out);
    char *js = json_dumps(t, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    lam_atomic_file af;
    int rc = 0;
    if (!js || lam_atomic_open(&af, path, &err) != LAM_OK) {
        fprintf(stderr, "lam improve: %s\n", js ? err.msg : "out of memory");
        rc = 1;
    } else {
        fputs(js, af.f);
        fputc('\n', af.f);
        if (lam_atomic_commit(&af, &err) != LAM_OK) {
            fprintf(stderr, "lam improve: %s\n", err.msg);
            rc = 1;
        }
    }
    print_table(t);
    if (!rc) fprintf(stderr, "lam improve: table %s\n", path);
    free(js);
    json_decref(t);
    return rc;
}
