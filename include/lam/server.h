/* server.h - owns `lam serve`'s HTTP server (docs/http-api.md): libmicrohttpd's threads
 * receive requests, check the API key, read bodies up to a size limit, parse and validate them
 * (request.h, server_chat.h, server_session.h) and answer errors at once; a valid request
 * becomes a job in a bounded queue and its connection is suspended. One decode loop thread owns
 * the agent (agent.h): between decode steps it moves queued jobs into the batch (continuous
 * batching), steps every sequence of the batch by one token, and resumes the connection of each
 * job that ends (or, streaming, that has more to send); the resumed HTTP thread writes the
 * answer. Metrics (server_metrics.h) are updated on the way. Stopping is graceful: no new
 * connection is accepted, the batch finishes, the answers go out. It does not own the command
 * line (serve_cli.c), the model (agent.h) nor the formats (request.h, server_chat.h). */
#ifndef LAM_SERVER_H
#define LAM_SERVER_H

#include <stddef.h>

#include "lam/agent.h"
#include "lam/log.h"
#include "lam/server_session.h"
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *host;       /* address to bind (numeric IPv4 or IPv6); default "127.0.0.1" */
    int port;               /* default 8080; 0: a free port (lam_server_port says which) */
    const char *api_key;    /* NULL: none; else `Authorization: Bearer KEY` on all but /health */
    const char *model_id;   /* the model's name in /v1/models and answers; default "lam" */
    int http_threads;       /* libmicrohttpd threads; default 2 */
    int max_queue;          /* requests waiting for a place in the batch (then 503); 256 */
    size_t max_body;        /* bytes of a request body (then 413); default 1 MiB */
    int max_connections;    /* open connections at most; default 1024 */
    int timeout_s;          /* seconds a connection may stay idle; default 30 */
    double queue_timeout_s; /* seconds a request may wait in the queue (then 503); default 60 */
    double drain_s;         /* at stop, seconds queued requests may still wait; default 30 */
    int model_threads;      /* the CPU threads the agent was loaded with (0: all cores): the
                               decode loop's OpenMP and OpenBLAS threads follow it */
    lam_sessions_opts sessions;
    lam_logger log;
} lam_server_opts;

void lam_server_opts_default(lam_server_opts *o);

typedef struct lam_server lam_server;

/* Binds, starts the HTTP threads and the decode loop. The agent is the server's until
 * lam_server_stop returns (only the decode loop touches it). */
lam_status lam_server_start(lam_agent *agent, const lam_server_opts *o, lam_server **out,
                            lam_error *err);
/* The port bound. */
int lam_server_port(const lam_server *s);
/* Requests received and not yet answered. */
int lam_server_in_flight(lam_server *s);
/* Stops gracefully and frees the server: new connections are refused, requests arriving on
 * open ones get 503, the queue and the batch are answered (queued requests that cannot start
 * within drain_s get 503), every answer is sent, then the threads end. */
void lam_server_stop(lam_server *s);

#ifdef __cplusplus
}
#endif

#endif
