/* serve_cli.c - `lam serve`: a checkpoint behind the HTTP server (server.h, docs/http-api.md)
 * until SIGINT or SIGTERM, which stop it gracefully (infer_cli.h). The signals are blocked in
 * every thread and taken by sigwait() here, so no handler and no flag is needed. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/agent.h"
#include "lam/cli.h"
#include "lam/infer_cli.h"
#include "lam/server.h"

static const char *usage =
    "usage: lam serve CHECKPOINT [flags]\n"
    "\n"
    "Serves a trained model over HTTP (docs/http-api.md) until SIGINT or SIGTERM:\n"
    "  POST /v1/act               task + observation (+ history, or a session) -> actions\n"
    "  POST /v1/chat/completions  OpenAI's format: the actions as tool calls (stream: true for\n"
    "                             server-sent events)\n"
    "  GET  /v1/models, /v1/tools, /v1/sessions/ID, /health, /metrics (Prometheus text)\n"
    "One decode loop batches the requests of every client (continuous batching); the\n"
    "connections waiting on it are suspended, not parked on threads. The port is printed on\n"
    "stderr once bound: \"lam serve: listening on http://HOST:PORT\".\n"
    "\n"
    "flags:\n"
    "  --host ADDR           address to bind (numeric IPv4 or IPv6)          [127.0.0.1]\n"
    "  --port N              port; 0: any free port                          [8080]\n"
    "  --api-key KEY         require Authorization: Bearer KEY (not on /health)\n"
    "  --api-key-file FILE   the same, the key being the file's first line\n"
    "  --model-name NAME     the model's id in /v1/models and answers  [checkpoint's name]\n"
    "  --batch N             requests decoded together                       [16]\n"
    "  --max-len N           positions per request (prompt + answer); 0: the model's [0]\n"
    "  --max-queue N         requests waiting for the batch before 503       [256]\n"
    "  --max-body BYTES      request body size before 413                    [1048576]\n"
    "  --timeout S           seconds a connection may stay idle              [30]\n"
    "  --queue-timeout S     seconds a request may wait in the queue (503)   [60]\n"
    "  --max-sessions N      live sessions at most (429 beyond)              [1024]\n"
    "  --session-ttl S       idle seconds before a session expires           [600]\n"
    "  --http-threads N      HTTP threads                                    [2]\n"
    "  --threads N           CPU threads of the model (0: all cores)         [0]\n"
    "  --device NAME         backend                                         [cpu]\n"
    "  --free-values         typed values and answers need not come from the task or the\n"
    "                        page (by default what is typed is copied from the task, or is a\n"
    "                        date it names; an answer from the task or the page; a /v1/act\n"
    "                        request may say options.copy)\n"
    "  --type-from-page      what is typed may also be copied from the page\n"
    "  -h, --help            show this help\n";

/* The first line of path, without surrounding whitespace, malloc'd; NULL when unreadable or
 * empty. */
static char *read_key(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char line[4096];
    char *k = fgets(line, sizeof line, f) ? line : NULL;
    fclose(f);
    if (!k) return NULL;
    while (*k == ' ' || *k == '\t') k++;
    size_t n = strcspn(k, "\r\n");
    while (n && (k[n - 1] == ' ' || k[n - 1] == '\t')) n--;
    k[n] = 0;
    return n ? strdup(k) : NULL;
}

int lam_serve_main(int argc, char **argv) {
    lam_server_opts so;
    lam_server_opts_default(&so);
    const char *host = so.host, *api_key = NULL, *key_file = NULL, *model_name = NULL;
    const char *device = "cpu";
    int port = so.port, batch = 16, max_len = 0, max_queue = so.max_queue, timeout = so.timeout_s;
    int max_sessions = so.sessions.max_sessions, http_threads = so.http_threads, threads = 0;
    int free_values = 0, type_from_page = 0;
    int64_t max_body = (int64_t)so.max_body;
    float queue_timeout = (float)so.queue_timeout_s, ttl = (float)so.sessions.ttl_s;
    lam_flag flags[] = {
        {"--host", LAM_FLAG_STR, &host, 0, 0, 0},
        {"--port", LAM_FLAG_INT, &port, 0, 65535, 0},
        {"--api-key", LAM_FLAG_STR, &api_key, 0, 0, 0},
        {"--api-key-file", LAM_FLAG_STR, &key_file, 0, 0, 0},
        {"--model-name", LAM_FLAG_STR, &model_name, 0, 0, 0},
        {"--batch", LAM_FLAG_INT, &batch, 1, 1024, 0},
        {"--max-len", LAM_FLAG_INT, &max_len, 0, 1 << 20, 0},
        {"--max-queue", LAM_FLAG_INT, &max_queue, 1, 1 << 20, 0},
        {"--max-body", LAM_FLAG_I64, &max_body, 64, 1 << 30, 0},
        {"--timeout", LAM_FLAG_INT, &timeout, 1, 86400, 0},
        {"--queue-timeout", LAM_FLAG_FLOAT, &queue_timeout, 0.001, 86400, 0},
        {"--max-sessions", LAM_FLAG_INT, &max_sessions, 1, 1 << 20, 0},
        {"--session-ttl", LAM_FLAG_FLOAT, &ttl, 0.001, 1e7, 0},
        {"--http-threads", LAM_FLAG_INT, &http_threads, 1, 64, 0},
        {"--threads", LAM_FLAG_INT, &threads, 0, 4096, 0},
        {"--device", LAM_FLAG_STR, &device, 0, 0, 0},
        {"--free-values", LAM_FLAG_BOOL, &free_values, 0, 0, 0},
        {"--type-from-page", LAM_FLAG_BOOL, &type_from_page, 0, 0, 0},
    };
    int nf = (int)(sizeof flags / sizeof flags[0]);
    const char *pos[1];
    int npos = 0;
    int pr = lam_cli_parse(argc, argv, flags, nf, "lam serve", usage, pos, &npos, 1);
    if (pr == LAM_CLI_HELP) return 0;
    if (pr != LAM_CLI_OK) return 2;
    if (npos < 1) return lam_cli_usage_error("lam serve", usage, "a checkpoint is required");
    if (api_key && key_file)
        return lam_cli_usage_error("lam serve", usage,
                                   "give --api-key or --api-key-file, not both");
    if (api_key && !api_key[0])
        return lam_cli_usage_error("lam serve", usage, "--api-key is empty");
    char *key = NULL;
    if (key_file && !(key = read_key(key_file))) {
        fprintf(stderr, "lam serve: %s: cannot read an API key (its first line, not empty)\n",
                key_file);
        return 1;
    }
    /* the model's name: the checkpoint's file name without .h5 */
    char name[256];
    if (model_name) {
        snprintf(name, sizeof name, "%s", model_name);
    } else {
        const char *b = strrchr(pos[0], '/');
        snprintf(name, sizeof name, "%s", b ? b + 1 : pos[0]);
        size_t n = strlen(name);
        if (n > 3 && !strcmp(name + n - 3, ".h5")) name[n - 3] = 0;
    }
    /* SIGINT and SIGTERM are taken by sigwait below: blocked in this thread and so in every
     * thread started from it (the decode loop, libmicrohttpd's, OpenMP's) */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that went away is an error status, not a signal */

    lam_error err = {0};
    lam_agent_opts ao;
    lam_agent_opts_default(&ao);
    ao.backend = device, ao.threads = threads, ao.max_seqs = batch, ao.max_len = max_len;
    ao.copy = free_values ? 0 : type_from_page ? 2 : 1;
    lam_agent *agent = NULL;
    if (lam_agent_load(pos[0], &ao, &agent, &err) != LAM_OK) {
        fprintf(stderr, "lam serve: %s\n", err.msg);
        free(key);
        return 1;
    }
    so.host = host, so.port = port, so.api_key = key ? key : api_key, so.model_id = name;
    so.http_threads = http_threads, so.max_queue = max_queue, so.max_body = (size_t)max_body;
    so.timeout_s = timeout, so.queue_timeout_s = queue_timeout, so.model_threads = threads;
    so.sessions.max_sessions = max_sessions, so.sessions.ttl_s = ttl;
    lam_server *srv = NULL;
    if (lam_server_start(agent, &so, &srv, &err) != LAM_OK) {
        fprintf(stderr, "lam serve: %s\n", err.msg);
        lam_agent_free(agent);
        free(key);
        return 1;
    }
    const lam_config *cfg = lam_agent_config(agent);
    fprintf(stderr,
            "lam serve: listening on http://%s%s%s:%d (model %s: %d layers, dim %d, vocab %d; "
            "batch %d; %s)\n",
            strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", lam_server_port(srv),
            name, cfg->n_layers, cfg->dim, cfg->vocab_size, batch,
            so.api_key ? "API key required" : "no API key");
    if (lam_agent_prompt_opts(agent)->history_elements == LAM_HISTORY_NAMES)
        fprintf(stderr,
                "lam serve: warning: %s was trained with history names (--history-elements names); "
                "a request's history names only the elements still on its page "
                "(docs/formats.md, \"How a history line names its element\")\n",
                name);
    fflush(stderr);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    fprintf(stderr, "lam serve: %s: stopping (%d requests in flight are answered first)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", lam_server_in_flight(srv));
    lam_server_stop(srv);
    lam_agent_free(agent);
    free(key);
    fprintf(stderr, "lam serve: stopped\n");
    return 0;
}
