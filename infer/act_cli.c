/* act_cli.c - `lam act`: one action request from the command line (infer_cli.h). */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/agent.h"
#include "lam/cli.h"
#include "lam/infer_cli.h"
#include "lam/request.h"

static const char *usage =
    "usage: lam act CHECKPOINT [REQUEST.json|-] [flags]\n"
    "       lam act CHECKPOINT --task TEXT --observation OBS.json [--history TEXT] [flags]\n"
    "\n"
    "Answers one action request with a trained model: the task, the current observation (the\n"
    "recording schema's observation object) and the episode's previous actions go in; the\n"
    "actions to take next come out as JSON, each valid for the observation by construction\n"
    "(decoded under the action grammar). A request file is the body of POST /v1/act\n"
    "(docs/http-api.md): {\"task\", \"observation\", \"history\", \"options\"}.\n"
    "\n"
    "flags:\n"
    "  --task TEXT          the goal (instead of a request file)\n"
    "  --observation FILE   the observation JSON (with --task)\n"
    "  --history TEXT       previous actions in the action language (\"type e1 \\\"x\\\" ; click "
    "e2\")\n"
    "  --temperature X      0: greedy                                     [0]\n"
    "  --top-k N, --top-p X sampling filters                              [0, 1]\n"
    "  --seed S             sampling seed                                 [0]\n"
    "  --max-actions N      most actions in the answer                    [8]\n"
    "  --device NAME        backend                                       [cpu]\n"
    "  --threads N          CPU threads (0: all cores)                    [0]\n"
    "  --compact            one line of JSON\n"
    "  --free-values        typed values and answers need not come from the task or the\n"
    "                       page (by default what is typed is copied from the task, or is a\n"
    "                       date it names; an answer from the task or the page)\n"
    "  --type-from-page     what is typed may also be copied from the page\n"
    "  -h, --help           show this help\n";

static char *read_all(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        char *nb = realloc(b, cap *= 2);
        if (!nb) free(b);
        b = nb;
    }
    if (f != stdin) fclose(f);
    if (b) *len = n;
    return b;
}

int lam_act_main(int argc, char **argv) {
    const char *task = NULL, *obs_path = NULL, *history = NULL, *device = "cpu";
    float temperature = 0.0f, top_p = 1.0f;
    int top_k = 0, max_actions = 0, threads = 0, compact = 0, free_values = 0, type_from_page = 0;
    int64_t seed = 0;
    lam_flag flags[] = {
        {"--task", LAM_FLAG_STR, &task, 0, 0, 0},
        {"--observation", LAM_FLAG_STR, &obs_path, 0, 0, 0},
        {"--history", LAM_FLAG_STR, &history, 0, 0, 0},
        {"--temperature", LAM_FLAG_FLOAT, &temperature, 0, 100, 0},
        {"--top-k", LAM_FLAG_INT, &top_k, 0, 1 << 24, 0},
        {"--top-p", LAM_FLAG_FLOAT, &top_p, 1e-9, 1, 0},
        {"--seed", LAM_FLAG_I64, &seed, 0, 9.007199254740992e15, 0},
        {"--max-actions", LAM_FLAG_INT, &max_actions, 1, LAM_REQ_MAX_ACTIONS, 0},
        {"--device", LAM_FLAG_STR, &device, 0, 0, 0},
        {"--threads", LAM_FLAG_INT, &threads, 0, 4096, 0},
        {"--compact", LAM_FLAG_BOOL, &compact, 0, 0, 0},
        {"--free-values", LAM_FLAG_BOOL, &free_values, 0, 0, 0},
        {"--type-from-page", LAM_FLAG_BOOL, &type_from_page, 0, 0, 0},
    };
    int nf = (int)(sizeof flags / sizeof flags[0]);
    const char *pos[2];
    int npos = 0;
    int pr = lam_cli_parse(argc, argv, flags, nf, "lam act", usage, pos, &npos, 2);
    if (pr == LAM_CLI_HELP) return 0;
    if (pr != LAM_CLI_OK) return 2;
    if (npos < 1) return lam_cli_usage_error("lam act", usage, "a checkpoint is required");
    if ((npos == 2) == (task != NULL))
        return lam_cli_usage_error("lam act", usage,
                                   "give either a request file or --task with --observation");
    if (task && !obs_path)
        return lam_cli_usage_error("lam act", usage, "--task needs --observation FILE");

    lam_error err = {0};
    int rc = 1;
    json_t *req = NULL, *ans = NULL;
    lam_agent *agent = NULL;
    lam_request r;
    memset(&r, 0, sizeof r);
    lam_act_res res;
    lam_act_res_init(&res);
    char *text = NULL;
    size_t len = 0;
    const char *src = npos == 2 ? pos[1] : obs_path;
    if (!(text = read_all(src, &len))) {
        fprintf(stderr, "lam act: %s: cannot read\n", src);
        return 1;
    }
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        fprintf(stderr, "lam act: %s:%d:%d: invalid JSON: %s\n", src, je.line, je.column, je.text);
        goto out;
    }
    if (task) { /* a request made of the flags */
        req = json_pack("{s:s, s:O}", "task", task, "observation", doc);
        if (history) json_object_set_new(req, "history", json_string(history));
        json_decref(doc);
    } else {
        req = doc;
    }
    /* flags given set the options (over those of a request file) */
    json_t *opts = json_object_get(req, "options");
    if (!opts) json_object_set_new(req, "options", opts = json_object());
    if (json_is_object(opts)) {
        if (flags[3].given) json_object_set_new(opts, "temperature", json_real(temperature));
        if (flags[4].given) json_object_set_new(opts, "top_k", json_integer(top_k));
        if (flags[5].given) json_object_set_new(opts, "top_p", json_real(top_p));
        if (flags[6].given) json_object_set_new(opts, "seed", json_integer((json_int_t)seed));
        if (flags[7].given) json_object_set_new(opts, "max_actions", json_integer(max_actions));
        if (free_values)
            json_object_set_new(opts, "copy", json_false());
        else if (type_from_page)
            json_object_set_new(opts, "copy", json_string("page"));
    }
    if (lam_request_from_json(req, &r, &err) != LAM_OK) {
        fprintf(stderr, "lam act: %s: %s\n", src, err.msg);
        goto out;
    }
    if (!r.task) { /* sessions are the server's: here the task must be given */
        fprintf(stderr, "lam act: %s: task: missing (lam act keeps no sessions)\n", src);
        goto out;
    }
    lam_agent_opts ao;
    lam_agent_opts_default(&ao);
    ao.backend = device, ao.threads = threads, ao.max_seqs = 1;
    if (lam_agent_load(pos[0], &ao, &agent, &err) != LAM_OK ||
        lam_agent_run(agent, &r.req, &res, 1, &err) != LAM_OK) {
        fprintf(stderr, "lam act: %s\n", err.msg);
        goto out;
    }
    if (lam_response_to_json(&res, &r.obs, &ans, &err) != LAM_OK) {
        fprintf(stderr, "lam act: %s\n", err.msg);
        goto out;
    }
    char *s = json_dumps(ans, compact ? JSON_COMPACT : JSON_INDENT(2));
    if (s) printf("%s\n", s);
    free(s);
    rc = 0;
out:
    json_decref(req), json_decref(ans);
    free(text);
    lam_act_res_free(&res);
    lam_request_free(&r);
    lam_agent_free(agent);
    return rc;
}
