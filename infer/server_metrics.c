/* server_metrics.c - the serving metrics and their Prometheus text (server_metrics.h). */
#define _POSIX_C_SOURCE 200809L
#include "lam/server_metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_STATUS 600 /* HTTP status codes are counted by value, 100..599 */

/* Cumulative histograms: le[i] upper bounds, then +Inf. */
typedef struct {
    const double *le;
    int n;
    uint64_t count[24]; /* per bucket (not cumulative); count[n] is +Inf */
    double sum;
} histo;

static const double latency_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                    0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0};
static const double step_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1.0};
static const double batch_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
#define NLE(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct lam_metrics {
    pthread_mutex_t mu;
    uint64_t requests[LAM_EP_COUNT][N_STATUS];
    histo latency[LAM_EP_COUNT];
    histo queue_wait, first_token, step_time, step_batch;
    uint64_t prompt_tokens, completion_tokens, decoded, steps, step_tokens;
    int queue_depth, batch, sessions, in_flight, queue_cap, batch_cap;
};

static const char *const ep_names[LAM_EP_COUNT] = {
    "act", "chat_completions", "models", "tools", "sessions", "health", "metrics", "other"};

const char *lam_endpoint_name(lam_endpoint ep) {
    return (unsigned)ep < LAM_EP_COUNT ? ep_names[ep] : "other";
}

static void histo_init(histo *h, const double *le, int n) {
    memset(h, 0, sizeof *h);
    h->le = le, h->n = n;
}

static void histo_add(histo *h, double v) {
    int i = 0;
    while (i < h->n && v > h->le[i]) i++;
    h->count[i]++;
    h->sum += v;
}

lam_status lam_metrics_create(lam_metrics **out, lam_error *err) {
    *out = NULL;
    lam_metrics *m = calloc(1, sizeof *m);
    if (!m) return lam_error_set(err, LAM_ERR_NOMEM, "metrics: out of memory");
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return lam_error_set(err, LAM_ERR_BACKEND, "metrics: pthread_mutex_init failed");
    }
    for (int e = 0; e < LAM_EP_COUNT; e++) histo_init(&m->latency[e], latency_le, NLE(latency_le));
    histo_init(&m->queue_wait, latency_le, NLE(latency_le));
    histo_init(&m->first_token, latency_le, NLE(latency_le));
    histo_init(&m->step_time, step_le, NLE(step_le));
    histo_init(&m->step_batch, batch_le, NLE(batch_le));
    *out = m;
    return LAM_OK;
}

void lam_metrics_free(lam_metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void lam_metrics_request(lam_metrics *m, lam_endpoint ep, int status, double seconds) {
    if ((unsigned)ep >= LAM_EP_COUNT) ep = LAM_EP_OTHER;
    if (status < 100 || status >= N_STATUS) status = 500;
    pthread_mutex_lock(&m->mu);
    m->requests[ep][status]++;
    histo_add(&m->latency[ep], seconds);
    pthread_mutex_unlock(&m->mu);
}

void lam_metrics_decoded(lam_metrics *m, int prompt_tokens, int completion_tokens, double queue_s,
                         double first_token_s) {
    pthread_mutex_lock(&m->mu);
    m->prompt_tokens += (uint64_t)(prompt_tokens > 0 ? prompt_tokens : 0);
    m->completion_tokens += (uint64_t)(completion_tokens > 0 ? completion_tokens : 0);
    m->decoded++;
    histo_add(&m->queue_wait, queue_s);
    histo_add(&m->first_token, first_token_s);
    pthread_mutex_unlock(&m->mu);
}

void lam_metrics_step(lam_metrics *m, int batch, double seconds) {
    pthread_mutex_lock(&m->mu);
    m->steps++;
    m->step_tokens += (uint64_t)batch;
    histo_add(&m->step_time, seconds);
    histo_add(&m->step_batch, batch);
    pthread_mutex_unlock(&m->mu);
}

void lam_metrics_gauges(lam_metrics *m, int queue_depth, int batch, int sessions, int in_flight) {
    pthread_mutex_lock(&m->mu);
    if (queue_depth >= 0) m->queue_depth = queue_depth;
    if (batch >= 0) m->batch = batch;
    if (sessions >= 0) m->sessions = sessions;
    if (in_flight >= 0) m->in_flight = in_flight;
    pthread_mutex_unlock(&m->mu);
}

void lam_metrics_capacity(lam_metrics *m, int queue, int batch) {
    pthread_mutex_lock(&m->mu);
    m->queue_cap = queue, m->batch_cap = batch;
    pthread_mutex_unlock(&m->mu);
}

/* A growing text buffer; ok drops to 0 when an allocation fails. */
typedef struct {
    char *s;
    size_t len, cap;
    int ok;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *b, const char *fmt, ...) {
    if (!b->ok) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->ok = 0;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = 2 * b->cap + (size_t)n + 1;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->ok = 0;
            return;
        }
        b->s = s, b->cap = cap;
    }
}

/* One histogram's series; labels is "" or `endpoint="act"` (no braces). */
static void put_histo(sbuf *b, const char *name, const char *labels, const histo *h) {
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (int i = 0; i <= h->n; i++) {
        cum += h->count[i];
        if (i < h->n)
            put(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, h->le[i],
                (unsigned long long)cum);
        else
            put(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
    }
    if (labels[0]) {
        put(b, "%s_sum{%s} %.9g\n", name, labels, h->sum);
        put(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
    } else {
        put(b, "%s_sum %.9g\n", name, h->sum);
        put(b, "%s_count %llu\n", name, (unsigned long long)cum);
    }
}

lam_status lam_metrics_render(lam_metrics *m, char **text, size_t *len, lam_error *err) {
    *text = NULL;
    *len = 0;
    sbuf b = {malloc(8192), 0, 8192, 1};
    if (!b.s) return lam_error_set(err, LAM_ERR_NOMEM, "metrics: out of memory");
    b.s[0] = 0;
    pthread_mutex_lock(&m->mu);
    put(&b, "# HELP lam_requests_total HTTP requests answered, by endpoint and status code.\n"
            "# TYPE lam_requests_total counter\n");
    for (int e = 0; e < LAM_EP_COUNT; e++)
        for (int s = 100; s < N_STATUS; s++)
            if (m->requests[e][s])
                put(&b, "lam_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n", ep_names[e], s,
                    (unsigned long long)m->requests[e][s]);
    put(&b, "# HELP lam_request_duration_seconds Time from a request's arrival to the end of its "
            "answer, by endpoint.\n"
            "# TYPE lam_request_duration_seconds histogram\n");
    for (int e = 0; e < LAM_EP_COUNT; e++) {
        char labels[64];
        snprintf(labels, sizeof labels, "endpoint=\"%s\"", ep_names[e]);
        put_histo(&b, "lam_request_duration_seconds", labels, &m->latency[e]);
    }
    put(&b,
        "# HELP lam_prompt_tokens_total Prompt tokens prefilled.\n"
        "# TYPE lam_prompt_tokens_total counter\n"
        "lam_prompt_tokens_total %llu\n"
        "# HELP lam_completion_tokens_total Answer tokens decoded.\n"
        "# TYPE lam_completion_tokens_total counter\n"
        "lam_completion_tokens_total %llu\n"
        "# HELP lam_decoded_requests_total Requests that went through the model.\n"
        "# TYPE lam_decoded_requests_total counter\n"
        "lam_decoded_requests_total %llu\n"
        "# HELP lam_decode_steps_total Decode steps of the batch.\n"
        "# TYPE lam_decode_steps_total counter\n"
        "lam_decode_steps_total %llu\n"
        "# HELP lam_decode_step_sequences_total Sequences advanced by decode steps (sum of batch "
        "sizes).\n"
        "# TYPE lam_decode_step_sequences_total counter\n"
        "lam_decode_step_sequences_total %llu\n",
        (unsigned long long)m->prompt_tokens, (unsigned long long)m->completion_tokens,
        (unsigned long long)m->decoded, (unsigned long long)m->steps,
        (unsigned long long)m->step_tokens);
    put(&b,
        "# HELP lam_queue_depth Requests waiting for a place in the batch.\n"
        "# TYPE lam_queue_depth gauge\n"
        "lam_queue_depth %d\n"
        "# HELP lam_queue_capacity Requests the queue holds before answering 503.\n"
        "# TYPE lam_queue_capacity gauge\n"
        "lam_queue_capacity %d\n"
        "# HELP lam_batch_size Sequences being decoded now.\n"
        "# TYPE lam_batch_size gauge\n"
        "lam_batch_size %d\n"
        "# HELP lam_batch_capacity Sequences decoded together at most.\n"
        "# TYPE lam_batch_capacity gauge\n"
        "lam_batch_capacity %d\n"
        "# HELP lam_sessions Live sessions.\n"
        "# TYPE lam_sessions gauge\n"
        "lam_sessions %d\n"
        "# HELP lam_requests_in_flight Requests received and not yet answered.\n"
        "# TYPE lam_requests_in_flight gauge\n"
        "lam_requests_in_flight %d\n",
        m->queue_depth, m->queue_cap, m->batch, m->batch_cap, m->sessions, m->in_flight);
    put(&b, "# HELP lam_queue_wait_seconds Time a decoded request waited before its prefill.\n"
            "# TYPE lam_queue_wait_seconds histogram\n");
    put_histo(&b, "lam_queue_wait_seconds", "", &m->queue_wait);
    put(&b, "# HELP lam_time_to_first_token_seconds Time from a decoded request's arrival in "
            "the queue to its first answer token.\n"
            "# TYPE lam_time_to_first_token_seconds histogram\n");
    put_histo(&b, "lam_time_to_first_token_seconds", "", &m->first_token);
    put(&b, "# HELP lam_decode_step_seconds Time of one decode step of the batch.\n"
            "# TYPE lam_decode_step_seconds histogram\n");
    put_histo(&b, "lam_decode_step_seconds", "", &m->step_time);
    put(&b, "# HELP lam_decode_batch_size Sequences advanced by each decode step.\n"
            "# TYPE lam_decode_batch_size histogram\n");
    put_histo(&b, "lam_decode_batch_size", "", &m->step_batch);
    pthread_mutex_unlock(&m->mu);
    if (!b.ok) {
        free(b.s);
        return lam_error_set(err, LAM_ERR_NOMEM, "metrics: out of memory");
    }
    *text = b.s;
    *len = b.len;
    return LAM_OK;
}
