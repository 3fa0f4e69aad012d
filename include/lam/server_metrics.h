/* server_metrics.h - owns the serving metrics of `lam serve`: counters, gauges and histograms
 * that the HTTP threads and the decode loop update concurrently (one mutex), and their
 * Prometheus text exposition (format 0.0.4, what GET /metrics answers). It does not own the
 * HTTP side nor decide what is measured (server.c); docs/http-api.md lists the metrics. */
#ifndef LAM_SERVER_METRICS_H
#define LAM_SERVER_METRICS_H

#include <stddef.h>

#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The endpoints requests are counted by. */
typedef enum {
    LAM_EP_ACT = 0,  /* POST /v1/act */
    LAM_EP_CHAT,     /* POST /v1/chat/completions */
    LAM_EP_MODELS,   /* GET /v1/models */
    LAM_EP_TOOLS,    /* GET /v1/tools */
    LAM_EP_SESSIONS, /* GET, DELETE /v1/sessions/ID */
    LAM_EP_HEALTH,   /* GET /health */
    LAM_EP_METRICS,  /* GET /metrics */
    LAM_EP_OTHER,    /* anything else (404, 405) */
    LAM_EP_COUNT
} lam_endpoint;

/* The label value of an endpoint ("act", "chat_completions", ...). */
const char *lam_endpoint_name(lam_endpoint ep);

typedef struct lam_metrics lam_metrics;

lam_status lam_metrics_create(lam_metrics **out, lam_error *err);
void lam_metrics_free(lam_metrics *m);

/* A request answered: its endpoint, HTTP status (100..599) and seconds from its first byte
 * to the end of its answer. */
void lam_metrics_request(lam_metrics *m, lam_endpoint ep, int status, double seconds);
/* Tokens of a request that was decoded: its prompt and its answer; seconds it waited in the
 * queue before its prefill; seconds to its first answer token (queue and prefill included). */
void lam_metrics_decoded(lam_metrics *m, int prompt_tokens, int completion_tokens, double queue_s,
                         double first_token_s);
/* One decode step of the batch: the sequences it advanced and its seconds. */
void lam_metrics_step(lam_metrics *m, int batch, double seconds);
/* The gauges: requests waiting in the queue, sequences in the batch, live sessions, requests
 * in flight (received, not yet answered). */
void lam_metrics_gauges(lam_metrics *m, int queue_depth, int batch, int sessions, int in_flight);
/* Capacities, set once: the queue's and the batch's. */
void lam_metrics_capacity(lam_metrics *m, int queue, int batch);

/* The exposition text, malloc'd (free with free()); *len its length. */
lam_status lam_metrics_render(lam_metrics *m, char **text, size_t *len, lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
