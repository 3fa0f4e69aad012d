/* server.c - `lam serve`'s HTTP server (server.h).
 *
 * Threads. libmicrohttpd (internal polling, a pool of http_threads) calls handler() several
 * times per request: once with the headers (routing, API key, Content-Length are checked and
 * errors answered at once), once per chunk of body (kept up to max_body), then a final call
 * that parses the body and either answers or queues a job and suspends the connection. The
 * decode loop (loop_main) owns the agent: it takes queued jobs into the batch between steps,
 * steps, and resumes the connection of a job that is done (or, streaming, that has more to
 * send). The resumed connection calls handler() again, which writes the answer; a stream's
 * events come from sse_read(), which suspends its connection while it waits for the next
 * action.
 *
 * Locking. One mutex (s->mu) guards the queue, each job's flags (suspended, started, done,
 * refs, conn) and its partial text, and the counters. MHD_suspend_connection and
 * MHD_resume_connection are called only with s->mu held and only through a job's `suspended`
 * flag, so a connection is always suspended before it is resumed and resumed once.
 *
 * Lifetimes. A job has one reference from its connection (dropped when libmicrohttpd says the
 * request is complete), one from the decode loop (dropped when it is done) and one from a
 * stream's reader (dropped when the response is freed). A suspended connection cannot
 * complete, so the decode loop never resumes a connection that is gone. */
#define _GNU_SOURCE /* POLLRDHUP */
#include "lam/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <omp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lam/request.h"
#include "lam/server_chat.h"
#include "lam/server_metrics.h"
#include "lam/timer.h"

typedef struct job {
    struct job *next; /* in the queue */
    int refs;
    struct MHD_Connection *conn; /* NULL once the request is complete */
    int suspended;               /* the connection waits for this job */
    int started, done;           /* prefilled (first token chosen); answered */
    lam_endpoint ep;
    lam_chat_req c; /* the request (c.r for /v1/act too) */
    int session_open;
    lam_session_view view;
    lam_act_res res;
    double t_arrive, t_start, t_first;
    int http_fail; /* a failure of the server's own (503 queue timeout, shutdown; 500) */
    const char *fail_code;
    char fail_msg[LAM_ERROR_MSG_MAX];
    char id[48]; /* "chatcmpl-..." or "act-..." */
    long long created;
    char *partial; /* the answer text so far (streams) */
    size_t plen, pcap;
} job;

struct lam_server {
    lam_agent *agent;
    lam_server_opts o;
    char model_id[256];
    char host[64];
    char *api_key;
    struct sockaddr_storage addr;
    struct MHD_Daemon *d;
    int port;
    pthread_t loop;
    int loop_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *q_head, *q_tail;
    int q_len;
    int batch;     /* sequences in the batch now */
    int stopping;  /* no new requests */
    int loop_exit; /* the decode loop ends once the queue and the batch are empty */
    double drain_deadline;
    int broken; /* the agent failed: every request gets 500 */
    char broken_msg[LAM_ERROR_MSG_MAX];
    int in_flight;
    int index_ids;   /* the model names elements by position (lam_prompt_opts.index_ids) */
    int value_space; /* lam_prompt_opts.value_space: copied values follow a space to take off */
    unsigned long long next_id;
    long long started_unix;
    lam_metrics *m;
    lam_sessions *ses;
    char mhd_msg[256]; /* libmicrohttpd's last log line (for a failed start) */
};

typedef struct {
    lam_server *s;
    lam_endpoint ep;
    char method; /* 'G' (GET or HEAD), 'P' (POST), 'D' (DELETE) */
    char arg[160];
    char *body;
    size_t len, cap;
    int too_big; /* over max_body: the rest is dropped, 413 at the end */
    int status;  /* the status answered (0: none yet) */
    double t0;
    job *j;
} conn_ctx;

/* A stream's reader state. */
typedef struct {
    lam_server *s;
    job *j;
    struct MHD_Connection *conn;
    int role_sent, calls_sent, all_sent; /* calls_sent counts chunks: 2 per action */
    lam_act_list acts, tmp;
    char *buf;
    size_t blen, boff, bcap;
} sse;

void lam_server_opts_default(lam_server_opts *o) {
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8080;
    o->model_id = "lam";
    o->http_threads = 2;
    o->max_queue = 256;
    o->max_body = 1 << 20;
    o->max_connections = 1024;
    o->timeout_s = 30;
    o->queue_timeout_s = 60.0;
    o->drain_s = 30.0;
    lam_sessions_opts_default(&o->sessions);
    o->log = lam_logger_from_env();
}

int lam_server_port(const lam_server *s) {
    return s->port;
}

int lam_server_in_flight(lam_server *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->in_flight;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- jobs ---- */

static void job_free(job *j) {
    lam_chat_req_free(&j->c);
    lam_session_view_free(&j->view);
    lam_act_res_free(&j->res);
    free(j->partial);
    free(j);
}

/* Drops a reference; s->mu held. Returns the job to free (outside the lock), or NULL. */
static job *unref_locked(job *j) {
    return --j->refs == 0 ? j : NULL;
}

/* Resumes the job's connection if it waits; s->mu held. */
static void wake_locked(job *j) {
    if (j->suspended && j->conn) {
        j->suspended = 0;
        MHD_resume_connection(j->conn);
    }
}

/* The session of a job ends: with the answer when ok, else as it was. */
static void session_close(lam_server *s, job *j, int ok) {
    if (!j->session_open) return;
    j->session_open = 0;
    lam_error e = {0};
    if (lam_sessions_end(s->ses, j->c.r.session, ok ? &j->res.actions : NULL, &j->c.r.obs,
                         lam_now_s(), &e) != LAM_OK)
        lam_log(&s->o.log, LAM_LOG_WARN, "lam serve: session %s: %s", j->c.r.session, e.msg);
}

/* ---- answers ---- */

static enum MHD_Result queue(conn_ctx *c, struct MHD_Connection *conn, int status,
                             const char *ctype, char *body, size_t len, const char *h1,
                             const char *v1) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (ok == MHD_YES && h1) ok = MHD_add_response_header(r, h1, v1);
    if (ok == MHD_YES) ok = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    if (ok == MHD_YES) c->status = status;
    return ok;
}

static enum MHD_Result reply_json(conn_ctx *c, struct MHD_Connection *conn, int status, json_t *j,
                                  const char *h1, const char *v1) {
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!text) return MHD_NO;
    size_t n = strlen(text);
    char *body = realloc(text, n + 2);
    if (!body) {
        free(text);
        return MHD_NO;
    }
    body[n] = '\n', body[n + 1] = 0;
    return queue(c, conn, status, "application/json", body, n + 1, h1, v1);
}

static const char *error_type(int status) {
    switch (status) {
    case 401:
        return "authentication_error";
    case 404:
        return "not_found_error";
    case 429:
        return "rate_limit_error";
    default:
        return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

/* {"error": {"message", "type", "param", "code"}}; param NULL: taken from the message. */
static enum MHD_Result reply_error(conn_ctx *c, struct MHD_Connection *conn, int status,
                                   const char *code, const char *param, const char *msg) {
    char pb[128];
    if (!param)
        param = lam_request_error_field(msg, pb, sizeof pb);
    else if (!param[0])
        param = NULL;
    json_t *j = json_pack("{s:{s:s, s:s, s:s?, s:s?}}", "error", "message", msg, "type",
                          error_type(status), "param", param, "code", code);
    if (!j) return MHD_NO;
    const char *h = NULL, *v = NULL;
    if (status == 401) h = MHD_HTTP_HEADER_WWW_AUTHENTICATE, v = "Bearer";
    if (status == 503 || status == 429) h = MHD_HTTP_HEADER_RETRY_AFTER, v = "1";
    if (status == 405)
        h = MHD_HTTP_HEADER_ALLOW, v = c->ep == LAM_EP_SESSIONS ? "GET, DELETE"
                                       : (c->ep == LAM_EP_ACT || c->ep == LAM_EP_CHAT)
                                           ? "POST"
                                           : "GET, HEAD";
    return reply_json(c, conn, status, j, h, v);
}

__attribute__((format(printf, 5, 6))) static enum MHD_Result
reply_errorf(conn_ctx *c, struct MHD_Connection *conn, int status, const char *code,
             const char *fmt, ...) {
    char msg[LAM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return reply_error(c, conn, status, code, NULL, msg);
}

/* ---- the decode loop ---- */

/* A job leaves the loop: done, its connection woken, the loop's reference dropped. */
static void finish(lam_server *s, job *j) {
    if (!j->http_fail && j->t_start > 0)
        lam_metrics_decoded(s->m, j->res.prompt_tokens, j->res.output_tokens,
                            j->t_start - j->t_arrive, j->t_first - j->t_arrive);
    pthread_mutex_lock(&s->mu);
    j->done = 1;
    wake_locked(j);
    job *f = unref_locked(j);
    pthread_mutex_unlock(&s->mu);
    if (f) job_free(f);
}

/* A stream's text so far is published and its reader woken. */
static void publish(lam_server *s, job *j) {
    size_t len = 0;
    const char *t = lam_agent_partial(s->agent, &j->res, &len);
    pthread_mutex_lock(&s->mu);
    j->started = 1;
    if (t && len != j->plen) {
        if (len + 1 > j->pcap) {
            size_t cap = 2 * (len + 1);
            char *p = realloc(j->partial, cap);
            if (p) j->partial = p, j->pcap = cap;
        }
        if (len + 1 <= j->pcap) {
            memcpy(j->partial, t, len + 1);
            j->plen = len;
        }
    }
    wake_locked(j);
    pthread_mutex_unlock(&s->mu);
}

/* Whether the client of a job closed its connection (its end sent FIN or RST); s->mu held.
 * A suspended connection is not watched by libmicrohttpd, so the decode loop looks itself:
 * decoding for nobody would only delay the others. (A client that half-closes its side and
 * still waits for the answer counts as gone, as with nginx's client-abort detection.) A
 * connection that is not suspended (a stream being sent) is libmicrohttpd's to watch: it is
 * gone once the request completed. */
static int client_gone_locked(job *j) {
    if (!j->conn) return 1;
    if (!j->suspended) return 0;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(j->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 0;
    struct pollfd p = {ci->connect_fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Fails a queued job with a server status; s->mu held (the job leaves the queue first). */
static job *fail_queued_locked(job *j, int status, const char *code, const char *msg) {
    j->http_fail = status;
    j->fail_code = code;
    snprintf(j->fail_msg, sizeof j->fail_msg, "%s", msg);
    j->done = 1;
    wake_locked(j);
    return unref_locked(j);
}

static void *loop_main(void *arg) {
    lam_server *s = arg;
    /* OpenMP's thread count is per thread, and OpenBLAS's OpenMP build follows the calling
     * thread's: this thread runs the model with the threads it was loaded with */
    if (s->o.model_threads > 0) omp_set_num_threads(s->o.model_threads);
    int cap = lam_agent_max_seqs(s->agent), n = 0;
    job **act = calloc((size_t)cap, sizeof *act), **take = calloc((size_t)cap, sizeof *take);
    job **gone = calloc((size_t)cap, sizeof *gone);
    job *dead[64];
    int ngone = 0;
    long steps = 0;
    lam_error err = {0};
    pthread_mutex_lock(&s->mu);
    if (!act || !take || !gone) { /* then no job is taken: every one is answered 500 */
        s->broken = 1;
        snprintf(s->broken_msg, sizeof s->broken_msg, "decode loop: out of memory");
    }
    for (;;) {
        while (!s->q_head && n == 0 && !s->loop_exit) pthread_cond_wait(&s->cv, &s->mu);
        /* queued jobs that waited too long, or that cannot run */
        double now = lam_now_s();
        int nd = 0;
        for (job **pp = &s->q_head; *pp && nd < 64;) {
            job *j = *pp;
            const char *why = NULL, *code = NULL;
            int status = 503;
            char msg[LAM_ERROR_MSG_MAX];
            if (s->broken)
                status = 500, code = "model_error", why = s->broken_msg;
            else if (client_gone_locked(j))
                status = 499, code = "client_closed", why = "the client closed the connection";
            else if (now - j->t_arrive > s->o.queue_timeout_s)
                code = "queue_timeout", why = "waited longer than the queue timeout";
            else if (s->loop_exit && now > s->drain_deadline)
                code = "shutting_down", why = "the server is shutting down";
            if (!why) {
                pp = &j->next;
                continue;
            }
            snprintf(msg, sizeof msg, "%.400s%s", why,
                     status == 503 ? " before a place in the batch freed; retry later" : "");
            *pp = j->next;
            if (s->q_tail == j) s->q_tail = NULL;
            s->q_len--;
            dead[nd] = fail_queued_locked(j, status, code, msg);
            if (dead[nd]) nd++;
        }
        if (!s->q_head)
            s->q_tail = NULL;
        else if (!s->q_tail)
            for (s->q_tail = s->q_head; s->q_tail->next;) s->q_tail = s->q_tail->next;
        if (nd) {
            pthread_mutex_unlock(&s->mu);
            for (int i = 0; i < nd; i++) job_free(dead[i]);
            pthread_mutex_lock(&s->mu);
        }
        if (s->loop_exit && !s->q_head && n == 0) break;
        int nt = 0;
        while (s->q_head && n + nt < cap && !s->broken) {
            job *j = s->q_head;
            s->q_head = j->next;
            if (!s->q_head) s->q_tail = NULL;
            j->next = NULL;
            s->q_len--;
            take[nt++] = j;
        }
        s->batch = n + nt;
        lam_metrics_gauges(s->m, s->q_len, s->batch, -1, -1);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < nt; i++) {
            job *j = take[i];
            j->t_start = lam_now_s();
            lam_status st = lam_agent_submit(s->agent, &j->c.r.req, &j->res, &err);
            j->t_first = lam_now_s();
            if (st != LAM_OK) { /* the agent's own failure (backend): nothing more can run */
                pthread_mutex_lock(&s->mu);
                s->broken = 1;
                snprintf(s->broken_msg, sizeof s->broken_msg, "the model failed: %.400s", err.msg);
                pthread_mutex_unlock(&s->mu);
                j->res.done = 1;
                j->res.status = st;
                snprintf(j->res.error, sizeof j->res.error, "%s", err.msg);
            }
            if (j->res.done)
                finish(s, j);
            else {
                act[n++] = j;
                if (j->c.stream) publish(s, j);
            }
        }
        if (n > 0 && ++steps % 8 == 0) { /* requests whose clients went away stop */
            pthread_mutex_lock(&s->mu);
            int k = 0;
            for (int i = 0; i < n; i++) {
                job *j = act[i];
                if (client_gone_locked(j) && lam_agent_cancel(s->agent, &j->res, &err) == LAM_OK) {
                    j->http_fail = 499;
                    j->fail_code = "client_closed";
                    snprintf(j->fail_msg, sizeof j->fail_msg, "the client closed the connection");
                    gone[ngone++] = j;
                    continue;
                }
                act[k++] = j;
            }
            n = k;
            pthread_mutex_unlock(&s->mu);
            for (int i = 0; i < ngone; i++) finish(s, gone[i]);
            ngone = 0;
        }
        if (n > 0) {
            double t0 = lam_now_s();
            lam_status st = lam_agent_step(s->agent, &err);
            lam_metrics_step(s->m, n, lam_now_s() - t0);
            if (st != LAM_OK) {
                pthread_mutex_lock(&s->mu);
                s->broken = 1;
                snprintf(s->broken_msg, sizeof s->broken_msg, "the model failed: %.400s", err.msg);
                pthread_mutex_unlock(&s->mu);
                lam_log(&s->o.log, LAM_LOG_ERROR, "lam serve: %s", err.msg);
            }
            int k = 0;
            for (int i = 0; i < n; i++) {
                job *j = act[i];
                if (st != LAM_OK && !j->res.done) {
                    j->res.done = 1;
                    j->res.status = st;
                    snprintf(j->res.error, sizeof j->res.error, "%s", err.msg);
                }
                if (j->res.done)
                    finish(s, j);
                else {
                    if (j->c.stream) publish(s, j);
                    act[k++] = j;
                }
            }
            n = k;
        }
        pthread_mutex_lock(&s->mu);
        s->batch = n;
    }
    s->batch = 0;
    pthread_mutex_unlock(&s->mu);
    free(act), free(take), free(gone);
    return NULL;
}

/* ---- streams ---- */

/* The actions of a partial answer with the observation's ids: a model that names elements by
 * position wrote "click 3" for elements[2]. Returns 0 when a position is out of range (it
 * cannot be: the grammar offered only the shown positions). */
static int ids_of_positions(lam_act_list *l, const lam_observation *obs, lam_act_list *tmp) {
    lam_act_list_clear(tmp);
    for (int i = 0; i < l->n; i++) {
        const lam_action *x = &l->items[i];
        const char *id = NULL;
        if (x->element) {
            char *end;
            long k = strtol(x->element, &end, 10);
            if (*end || k < 1 || k > obs->n_elements) return 0;
            id = obs->elements[k - 1].id;
        }
        if (lam_act_list_push(tmp, x->type, id, x->value, NULL) != LAM_OK) return 0;
    }
    lam_act_list t = *l;
    *l = *tmp, *tmp = t;
    return 1;
}

static int sse_put(sse *st, json_t *j, const char *raw) {
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    const char *t = raw ? raw : text;
    if (!t) return 0;
    size_t n = strlen(t), need = st->blen + n + 8;
    if (need > st->bcap) {
        char *b = realloc(st->buf, 2 * need);
        if (!b) {
            free(text);
            return 0;
        }
        st->buf = b, st->bcap = 2 * need;
    }
    memcpy(st->buf + st->blen, "data: ", 6);
    memcpy(st->buf + st->blen + 6, t, n);
    memcpy(st->buf + st->blen + 6 + n, "\n\n", 2);
    st->blen += n + 8;
    free(text);
    return 1;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max) {
    sse *st = cls;
    lam_server *s = st->s;
    job *j = st->j;
    const char *model = s->model_id;
    for (;;) {
        if (st->boff < st->blen) {
            size_t n = st->blen - st->boff < max ? st->blen - st->boff : max;
            memcpy(out, st->buf + st->boff, n);
            st->boff += n;
            return (ssize_t)n;
        }
        st->blen = st->boff = 0;
        if (st->all_sent) return MHD_CONTENT_READER_END_OF_STREAM;
        if (!st->role_sent) {
            if (!sse_put(st, lam_chat_chunk_role(j->id, model, j->created), NULL))
                return MHD_CONTENT_READER_END_WITH_ERROR;
            st->role_sent = 1;
            continue;
        }
        pthread_mutex_lock(&s->mu);
        int done = j->done, have;
        if (done)
            have = j->res.status == LAM_OK ? j->res.actions.n : 0;
        else
            have = j->plen
                       ? lam_chat_complete_actions(j->partial, j->plen, s->value_space, &st->acts)
                       : 0;
        if (have > 0 && !done && s->index_ids &&
            !ids_of_positions(&st->acts, &j->c.r.obs, &st->tmp))
            have = 0;
        if (have < 0) have = 0; /* cannot happen: the grammar writes canonical text */
        if (!done && 2 * have <= st->calls_sent) {
            j->suspended = 1;
            MHD_suspend_connection(st->conn);
            pthread_mutex_unlock(&s->mu);
            return 0;
        }
        pthread_mutex_unlock(&s->mu);
        const lam_act_list *l = done ? &j->res.actions : &st->acts;
        if (2 * have > st->calls_sent) {
            int k = st->calls_sent / 2, args = st->calls_sent % 2;
            json_t *c = NULL;
            lam_error e;
            if (lam_chat_chunk_call(j->id, model, j->created, k, &l->items[k], &j->c.r.obs, args,
                                    &c, &e) != LAM_OK ||
                !sse_put(st, c, NULL))
                return MHD_CONTENT_READER_END_WITH_ERROR;
            st->calls_sent++;
            continue;
        }
        /* done: the end of the answer, or its failure */
        int ok = 1;
        if (j->http_fail || j->res.status != LAM_OK) {
            const char *msg = j->http_fail ? j->fail_msg : j->res.error;
            json_t *e = json_pack("{s:{s:s, s:s, s:n, s:s}}", "error", "message", msg, "type",
                                  "server_error", "param", "code",
                                  j->http_fail ? j->fail_code : "decoding_failed");
            ok = sse_put(st, e, NULL);
        } else {
            ok = sse_put(st, lam_chat_chunk_finish(j->id, model, j->created), NULL);
            if (ok && j->c.include_usage)
                ok = sse_put(st,
                             lam_chat_chunk_usage(j->id, model, j->created, j->res.prompt_tokens,
                                                  j->res.output_tokens),
                             NULL);
        }
        if (!ok || !sse_put(st, NULL, "[DONE]")) return MHD_CONTENT_READER_END_WITH_ERROR;
        st->all_sent = 1;
    }
}

static void sse_free(void *cls) {
    sse *st = cls;
    pthread_mutex_lock(&st->s->mu);
    job *f = unref_locked(st->j);
    pthread_mutex_unlock(&st->s->mu);
    if (f) job_free(f);
    lam_act_list_free(&st->acts);
    lam_act_list_free(&st->tmp);
    free(st->buf);
    free(st);
}

static enum MHD_Result reply_stream(conn_ctx *c, struct MHD_Connection *conn, job *j) {
    sse *st = calloc(1, sizeof *st);
    if (!st) return MHD_NO;
    st->s = c->s, st->j = j, st->conn = conn;
    lam_act_list_init(&st->acts);
    lam_act_list_init(&st->tmp);
    pthread_mutex_lock(&c->s->mu);
    j->refs++;
    pthread_mutex_unlock(&c->s->mu);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, st, sse_free);
    if (!r) {
        sse_free(st);
        return MHD_NO;
    }
    enum MHD_Result ok =
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    if (ok == MHD_YES) ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (ok == MHD_YES) ok = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    if (ok == MHD_YES) c->status = 200;
    return ok;
}

/* ---- requests ---- */

/* Constant-time comparison of the API key with the Authorization header's bearer token. */
static int key_ok(const char *key, const char *auth) {
    const char *tok = "";
    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
        tok = auth + 7;
        while (*tok == ' ') tok++;
    }
    size_t kl = strlen(key), tl = strlen(tok);
    unsigned char d = kl != tl;
    for (size_t i = 0; i < kl; i++) d |= (unsigned char)(key[i] ^ (i < tl ? tok[i] : 0));
    return d == 0;
}

/* The endpoint of a path and the methods it takes. */
static lam_endpoint route(const char *url, char *arg, size_t cap) {
    arg[0] = 0;
    if (!strcmp(url, "/v1/act")) return LAM_EP_ACT;
    if (!strcmp(url, "/v1/chat/completions")) return LAM_EP_CHAT;
    if (!strcmp(url, "/v1/models")) return LAM_EP_MODELS;
    if (!strncmp(url, "/v1/models/", 11) && url[11]) {
        snprintf(arg, cap, "%s", url + 11);
        return LAM_EP_MODELS;
    }
    if (!strcmp(url, "/v1/tools")) return LAM_EP_TOOLS;
    if (!strncmp(url, "/v1/sessions/", 13) && url[13] && strlen(url + 13) < cap) {
        snprintf(arg, cap, "%s", url + 13);
        return LAM_EP_SESSIONS;
    }
    if (!strcmp(url, "/health")) return LAM_EP_HEALTH;
    if (!strcmp(url, "/metrics")) return LAM_EP_METRICS;
    return LAM_EP_OTHER;
}

static int method_ok(lam_endpoint ep, char m) {
    switch (ep) {
    case LAM_EP_ACT:
    case LAM_EP_CHAT:
        return m == 'P';
    case LAM_EP_SESSIONS:
        return m == 'G' || m == 'D';
    default:
        return m == 'G';
    }
}

static enum MHD_Result reply_health(conn_ctx *c, struct MHD_Connection *conn) {
    lam_server *s = c->s;
    pthread_mutex_lock(&s->mu);
    int broken = s->broken, stopping = s->stopping, q = s->q_len, b = s->batch;
    int fl = s->in_flight;
    char msg[LAM_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", s->broken_msg);
    pthread_mutex_unlock(&s->mu);
    const char *status = broken ? "error" : stopping ? "stopping" : "ok";
    json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:f}", "status", status, "model",
                          s->model_id, "queue", q, "queue_capacity", s->o.max_queue, "batch", b,
                          "batch_capacity", lam_agent_max_seqs(s->agent), "in_flight", fl,
                          "uptime_s", (double)(time(NULL) - s->started_unix));
    if (j && broken && json_object_set_new(j, "error", json_string(msg))) {
        json_decref(j);
        j = NULL; /* (reply_json answers nothing: the connection closes) */
    }
    return reply_json(c, conn, broken ? 500 : stopping ? 503 : 200, j, NULL, NULL);
}

static json_t *model_json(lam_server *s) {
    const lam_config *cfg = lam_agent_config(s->agent);
    return json_pack("{s:s, s:s, s:I, s:s, s:i, s:i}", "id", s->model_id, "object", "model",
                     "created", (json_int_t)s->started_unix, "owned_by", "lamkit", "max_model_len",
                     cfg->max_seq_len, "vocab_size", cfg->vocab_size);
}

static enum MHD_Result reply_metrics(conn_ctx *c, struct MHD_Connection *conn) {
    lam_server *s = c->s;
    pthread_mutex_lock(&s->mu);
    int q = s->q_len, b = s->batch, fl = s->in_flight;
    pthread_mutex_unlock(&s->mu);
    lam_metrics_gauges(s->m, q, b, lam_sessions_count(s->ses, lam_now_s()), fl);
    char *text = NULL;
    size_t len = 0;
    lam_error e;
    if (lam_metrics_render(s->m, &text, &len, &e) != LAM_OK)
        return reply_error(c, conn, 500, "internal_error", NULL, e.msg);
    return queue(c, conn, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, NULL, NULL);
}

static enum MHD_Result reply_session(conn_ctx *c, struct MHD_Connection *conn) {
    lam_server *s = c->s;
    if (c->method == 'D') {
        int r = lam_sessions_delete(s->ses, c->arg);
        if (r < 0)
            return reply_errorf(c, conn, 409, "session_busy",
                                "session: \"%.128s\" has a request in flight; delete it after",
                                c->arg);
        if (r == 0)
            return reply_errorf(c, conn, 404, "session_not_found",
                                "session: \"%.128s\" is not a live session", c->arg);
        return reply_json(c, conn, 200, json_pack("{s:s, s:b}", "session", c->arg, "deleted", 1),
                          NULL, NULL);
    }
    json_t *j = lam_sessions_get(s->ses, c->arg, lam_now_s());
    if (!j)
        return reply_errorf(c, conn, 404, "session_not_found",
                            "session: \"%.128s\" is not a live session (unknown, ended or expired)",
                            c->arg);
    return reply_json(c, conn, 200, j, NULL, NULL);
}

/* A job's failure answered as an error. */
static enum MHD_Result reply_job_error(conn_ctx *c, struct MHD_Connection *conn, job *j) {
    if (j->http_fail) return reply_error(c, conn, j->http_fail, j->fail_code, "", j->fail_msg);
    if (j->res.status == LAM_ERR_INVALID) { /* the request's own problem (its prompt, ...) */
        int long_prompt = strstr(j->res.error, "the prompt is") != NULL;
        int long_answer = strstr(j->res.error, "did not end within") != NULL;
        const char *param = long_prompt ? (j->ep == LAM_EP_CHAT ? "messages" : "observation") : "";
        return reply_error(c, conn, 400,
                           long_prompt || long_answer ? "context_length_exceeded"
                                                      : "invalid_request",
                           param, j->res.error);
    }
    return reply_error(c, conn, 500, "model_error", "", j->res.error);
}

/* The answer of a job that is done, or of a stream that started (done 0: the decode loop may
 * still write its result, which is then not read here). */
static enum MHD_Result reply_job(conn_ctx *c, struct MHD_Connection *conn, job *j, int done) {
    lam_server *s = c->s;
    int failed = done && (j->http_fail || j->res.status != LAM_OK);
    if (j->c.stream && !failed) return reply_stream(c, conn, j);
    if (!done) return MHD_NO; /* cannot happen: only a stream answers before done */
    if (failed) {
        session_close(s, j, 0);
        return reply_job_error(c, conn, j);
    }
    json_t *out = NULL;
    lam_error e;
    lam_status st;
    if (j->ep == LAM_EP_CHAT) {
        st = lam_chat_completion(&j->res, &j->c.r.obs, j->id, s->model_id, j->created, &out, &e);
    } else {
        st = lam_response_to_json(&j->res, &j->c.r.obs, &out, &e);
        if (st == LAM_OK &&
            (json_object_set_new(out, "id", json_string(j->id)) ||
             json_object_set_new(out, "model", json_string(s->model_id)) ||
             (j->c.r.session && json_object_set_new(out, "session", json_string(j->c.r.session)))))
            st = lam_error_set(&e, LAM_ERR_NOMEM, "response: out of memory");
    }
    session_close(s, j, st == LAM_OK);
    if (st != LAM_OK) {
        json_decref(out);
        return reply_error(c, conn, 500, "internal_error", "", e.msg);
    }
    return reply_json(c, conn, 200, out, NULL, NULL);
}

/* The final call of a POST /v1/act or /v1/chat/completions: parse, validate, queue. */
static enum MHD_Result start_job(conn_ctx *c, struct MHD_Connection *conn) {
    lam_server *s = c->s;
    job *j = calloc(1, sizeof *j);
    if (!j) return reply_error(c, conn, 500, "internal_error", "", "server: out of memory");
    lam_act_res_init(&j->res);
    j->ep = c->ep;
    j->t_arrive = c->t0;
    j->created = (long long)time(NULL);
    lam_error e = {0};
    lam_status st;
    if (c->ep == LAM_EP_CHAT) {
        st = lam_chat_parse(c->body ? c->body : "", c->len, &j->c, &e);
    } else {
        memset(&j->c, 0, sizeof j->c);
        st = lam_request_from_text(c->body ? c->body : "", c->len, &j->c.r, &e);
    }
    if (st != LAM_OK) {
        job_free(j);
        return reply_error(c, conn, st == LAM_ERR_INVALID ? 400 : 500,
                           st == LAM_ERR_INVALID ? "invalid_request" : "internal_error", NULL,
                           e.msg);
    }
    if (j->c.model && strcmp(j->c.model, s->model_id)) {
        enum MHD_Result r = reply_errorf(c, conn, 404, "model_not_found",
                                         "model: \"%.128s\" is not served here (this server "
                                         "serves \"%.128s\"; GET /v1/models)",
                                         j->c.model, s->model_id);
        job_free(j);
        return r;
    }
    lam_request *r = &j->c.r;
    if (r->session) {
        lam_ses_refusal why;
        st = lam_sessions_begin(s->ses, r->session, r->task, r->history.n ? &r->history : NULL,
                                r->has_executed ? &r->executed : NULL, lam_now_s(), &j->view, &why,
                                &e);
        if (st != LAM_OK) {
            job_free(j);
            int status = why ? (int)why : 500;
            const char *code = why == LAM_SES_UNKNOWN    ? "session_not_found"
                               : why == LAM_SES_CONFLICT ? "session_conflict"
                               : why == LAM_SES_FULL     ? "too_many_sessions"
                               : why == LAM_SES_BAD      ? "invalid_request"
                                                         : "internal_error";
            return reply_error(c, conn, status, code, NULL, e.msg);
        }
        j->session_open = 1;
        r->req.task = j->view.task;
        r->req.history = j->view.history.items;
        r->req.n_history = j->view.history.n;
    }
    pthread_mutex_lock(&s->mu);
    unsigned long long id = ++s->next_id;
    snprintf(j->id, sizeof j->id, "%s-%llx%06llx", c->ep == LAM_EP_CHAT ? "chatcmpl" : "act",
             (unsigned long long)s->started_unix, id);
    if (!r->req.stream && r->req.sampling.temperature > 0 && !r->req.sampling.seed) {
        r->req.sampling.seed = (uint64_t)s->started_unix; /* no seed: a stream of its own */
        r->req.stream = id;
    }
    int broken = s->broken, stopping = s->stopping, full = s->q_len >= s->o.max_queue;
    if (broken || stopping || full) {
        char msg[LAM_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg,
                 broken     ? "%s"
                 : stopping ? "the server is shutting down%.0s"
                            : "the queue is full%.0s",
                 s->broken_msg);
        int ql = s->q_len;
        pthread_mutex_unlock(&s->mu);
        session_close(s, j, 0);
        job_free(j);
        if (broken) return reply_error(c, conn, 500, "model_error", "", msg);
        if (stopping) return reply_error(c, conn, 503, "shutting_down", "", msg);
        return reply_errorf(c, conn, 503, "queue_full",
                            "%s (%d requests wait for %d places in the batch); retry later", msg,
                            ql, lam_agent_max_seqs(s->agent));
    }
    j->refs = 2; /* the connection's and the decode loop's */
    j->conn = conn;
    j->suspended = 1;
    c->j = j;
    if (s->q_tail)
        s->q_tail->next = j;
    else
        s->q_head = j;
    s->q_tail = j;
    s->q_len++;
    MHD_suspend_connection(conn);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls) {
    lam_server *s = cls;
    conn_ctx *c = *con_cls;
    if (!c) { /* the headers: route, method, key, size */
        c = calloc(1, sizeof *c);
        if (!c) return MHD_NO;
        c->s = s;
        c->t0 = lam_now_s();
        *con_cls = c;
        pthread_mutex_lock(&s->mu);
        s->in_flight++;
        pthread_mutex_unlock(&s->mu);
        c->ep = route(url, c->arg, sizeof c->arg);
        c->method = !strcmp(method, "GET") || !strcmp(method, "HEAD") ? 'G'
                    : !strcmp(method, "POST")                         ? 'P'
                    : !strcmp(method, "DELETE")                       ? 'D'
                                                                      : '?';
        if (c->ep == LAM_EP_OTHER)
            return reply_errorf(c, conn, 404, "not_found",
                                "%.32s %.200s: no such endpoint (POST /v1/act, POST "
                                "/v1/chat/completions, GET /v1/models, GET /v1/tools, GET "
                                "/health, GET /metrics)",
                                method, url);
        if (!method_ok(c->ep, c->method))
            return reply_errorf(c, conn, 405, "method_not_allowed",
                                "%.32s %.200s: method not allowed", method, url);
        if (s->api_key && c->ep != LAM_EP_HEALTH &&
            !key_ok(s->api_key, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                            MHD_HTTP_HEADER_AUTHORIZATION)))
            return reply_error(c, conn, 401, "invalid_api_key", "",
                               "a valid API key is required: send the header Authorization: "
                               "Bearer KEY");
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > s->o.max_body)
            return reply_errorf(c, conn, 413, "body_too_large",
                                "request: the body is %.24s bytes; at most %zu are taken", cl,
                                s->o.max_body);
        return MHD_YES;
    }
    if (c->status) { /* answered early: the rest of the body is dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a piece of the body */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->too_big || c->len + n > s->o.max_body) {
            /* a body without Content-Length grew too large: libmicrohttpd takes no answer
             * before the body is read, so it is read and dropped (413 at its end), up to a
             * limit past which the connection is closed */
            free(c->body);
            c->body = NULL;
            c->cap = 0;
            c->too_big = 1;
            c->len += n;
            return c->len > 4 * s->o.max_body + (16u << 20) ? MHD_NO : MHD_YES;
        }
        if (c->len + n + 1 > c->cap) {
            size_t cap = c->cap ? c->cap : 4096;
            while (cap < c->len + n + 1) cap *= 2;
            char *b = realloc(c->body, cap);
            if (!b) return MHD_NO;
            c->body = b, c->cap = cap;
        }
        memcpy(c->body + c->len, upload_data, n);
        c->len += n;
        c->body[c->len] = 0;
        return MHD_YES;
    }
    if (c->too_big)
        return reply_errorf(c, conn, 413, "body_too_large",
                            "request: the body is over %zu bytes, the most taken", s->o.max_body);
    /* the final call, or the call after a resume */
    if (c->j) {
        job *j = c->j;
        pthread_mutex_lock(&s->mu);
        int done = j->done, ready = done || (j->c.stream && j->started);
        if (!ready) { /* woken early: wait again */
            j->suspended = 1;
            MHD_suspend_connection(conn);
        }
        pthread_mutex_unlock(&s->mu);
        return ready ? reply_job(c, conn, j, done) : MHD_YES;
    }
    switch (c->ep) {
    case LAM_EP_ACT:
    case LAM_EP_CHAT:
        return start_job(c, conn);
    case LAM_EP_HEALTH:
        return reply_health(c, conn);
    case LAM_EP_METRICS:
        return reply_metrics(c, conn);
    case LAM_EP_TOOLS:
        return reply_json(c, conn, 200,
                          json_pack("{s:s, s:o}", "object", "list", "data", lam_chat_tools()), NULL,
                          NULL);
    case LAM_EP_MODELS:
        if (c->arg[0] && strcmp(c->arg, s->model_id))
            return reply_errorf(c, conn, 404, "model_not_found",
                                "model: \"%.128s\" is not served here (this server serves "
                                "\"%.128s\")",
                                c->arg, s->model_id);
        if (c->arg[0]) return reply_json(c, conn, 200, model_json(s), NULL, NULL);
        return reply_json(c, conn, 200,
                          json_pack("{s:s, s:[o]}", "object", "list", "data", model_json(s)), NULL,
                          NULL);
    case LAM_EP_SESSIONS:
        return reply_session(c, conn);
    default:
        return MHD_NO;
    }
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    lam_server *s = cls;
    conn_ctx *c = *con_cls;
    if (!c) return;
    *con_cls = NULL;
    lam_metrics_request(s->m, c->ep, c->status ? c->status : 499, lam_now_s() - c->t0);
    job *f = NULL;
    if (c->j) {
        pthread_mutex_lock(&s->mu);
        int done = c->j->done;
        pthread_mutex_unlock(&s->mu);
        if (done) session_close(s, c->j, 0); /* a session whose answer did not go out */
        pthread_mutex_lock(&s->mu);
        c->j->conn = NULL;
        f = unref_locked(c->j);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_lock(&s->mu);
    s->in_flight--;
    pthread_mutex_unlock(&s->mu);
    if (f) job_free(f);
    free(c->body);
    free(c);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    lam_server *s = cls;
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = 0;
    pthread_mutex_lock(&s->mu);
    snprintf(s->mhd_msg, sizeof s->mhd_msg, "%s", line);
    pthread_mutex_unlock(&s->mu);
    lam_log(&s->o.log, LAM_LOG_DEBUG, "libmicrohttpd: %s", line);
}

/* ---- start and stop ---- */

static void server_free(lam_server *s) {
    lam_metrics_free(s->m);
    lam_sessions_free(s->ses);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->api_key);
    free(s);
}

lam_status lam_server_start(lam_agent *agent, const lam_server_opts *o, lam_server **out,
                            lam_error *err) {
    *out = NULL;
    if (o->port < 0 || o->port > 65535 || o->http_threads < 1 || o->max_queue < 1 ||
        o->max_body < 1 || o->max_connections < 1 || o->timeout_s < 1)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "server: bad options (port %d, http threads %d, queue %d, body %zu, "
                             "connections %d, timeout %d)",
                             o->port, o->http_threads, o->max_queue, o->max_body,
                             o->max_connections, o->timeout_s);
    lam_server *s = calloc(1, sizeof *s);
    if (!s) return lam_error_set(err, LAM_ERR_NOMEM, "server: out of memory");
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return lam_error_set(err, LAM_ERR_BACKEND, "server: pthread_mutex_init failed");
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return lam_error_set(err, LAM_ERR_BACKEND, "server: pthread_cond_init failed");
    }
    s->agent = agent;
    s->index_ids = lam_agent_prompt_opts(agent)->index_ids;
    s->value_space = lam_agent_prompt_opts(agent)->value_space;
    s->o = *o;
    s->started_unix = (long long)time(NULL);
    snprintf(s->model_id, sizeof s->model_id, "%s", o->model_id ? o->model_id : "lam");
    snprintf(s->host, sizeof s->host, "%s", o->host ? o->host : "127.0.0.1");
    s->o.model_id = s->model_id;
    s->o.host = s->host;
    s->o.api_key = NULL;
    lam_status st = LAM_OK;
    if (o->api_key && !(s->api_key = strdup(o->api_key))) {
        server_free(s);
        return lam_error_set(err, LAM_ERR_NOMEM, "server: out of memory");
    }
    if ((st = lam_metrics_create(&s->m, err)) != LAM_OK ||
        (st = lam_sessions_create(&o->sessions, &s->ses, err)) != LAM_OK) {
        server_free(s);
        return st;
    }
    lam_metrics_capacity(s->m, o->max_queue, lam_agent_max_seqs(agent));
    /* the address */
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    int gr = getaddrinfo(s->host, NULL, &hints, &ai);
    if (gr != 0 || !ai || ai->ai_addrlen > sizeof s->addr) {
        if (ai) freeaddrinfo(ai);
        server_free(s);
        return lam_error_set(err, LAM_ERR_INVALID,
                             "server: --host %s: not a numeric IPv4 or IPv6 address (%s)", o->host,
                             gr ? gai_strerror(gr) : "too long");
    }
    memcpy(&s->addr, ai->ai_addr, ai->ai_addrlen);
    int v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (v6)
        ((struct sockaddr_in6 *)&s->addr)->sin6_port = htons((uint16_t)o->port);
    else
        ((struct sockaddr_in *)&s->addr)->sin_port = htons((uint16_t)o->port);
    /* the decode loop, then the HTTP threads */
    if (pthread_create(&s->loop, NULL, loop_main, s) != 0) {
        server_free(s);
        return lam_error_set(err, LAM_ERR_BACKEND, "server: pthread_create (decode loop) failed");
    }
    s->loop_started = 1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem pool[2] = {{MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}};
    if (o->http_threads > 1)
        pool[0] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, o->http_threads, NULL};
    s->d = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&s->addr, MHD_OPTION_NOTIFY_COMPLETED, completed,
        s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)o->max_connections, MHD_OPTION_ARRAY, pool, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!s->d || !info) {
        st = lam_error_set(err, LAM_ERR_IO, "server: MHD_start_daemon on %s port %d failed: %s",
                           s->host, o->port, s->mhd_msg[0] ? s->mhd_msg : "no reason given");
        if (s->d) MHD_stop_daemon(s->d);
        pthread_mutex_lock(&s->mu);
        s->loop_exit = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->loop, NULL);
        server_free(s);
        return st;
    }
    s->port = info->port;
    *out = s;
    return LAM_OK;
}

void lam_server_stop(lam_server *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    MHD_socket ls = MHD_quiesce_daemon(s->d); /* no new connections */
    if (ls != MHD_INVALID_SOCKET) close(ls);
    pthread_mutex_lock(&s->mu);
    s->loop_exit = 1;
    s->drain_deadline = lam_now_s() + s->o.drain_s;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->loop, NULL); /* the queue and the batch answered */
    /* the answers go out: wait (a bounded time) for every request to complete */
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&s->mu);
        int fl = s->in_flight;
        pthread_mutex_unlock(&s->mu);
        if (fl == 0) break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    server_free(s);
}
