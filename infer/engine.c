/* engine.c - inference with a KV cache per slot (engine.h). One device allocation holds the
 * weights, the caches (per layer: k and v of every slot, (max_seqs, S, KV*hd) each) and the
 * activations of the largest chunk. A layer of a prefill chunk of T tokens at positions
 * [p0, p0+T) of slot s:
 *   ln = rmsnorm(x); q = ln Wq^T; k, v = ln Wk^T, ln Wv^T written straight into the cache
 *   rows [p0, p0+T) of slot s; rotary on q and on those cache rows; attention of the T
 *   queries against the cache (causal); x += att Wo^T; x += swiglu(rmsnorm(x) Wgu^T) Wd^T.
 * A decode step does the same for n sequences at once (one row each, batched matmuls), with
 * the rotary, the cache writes and the attention per sequence (their positions differ). */
#include "lam/engine.h"

#include <stdlib.h>
#include <string.h>

#include "lam/arena.h"
#include "lam/model.h"

struct lam_engine {
    lam_config cfg;
    lam_backend *be;
    lam_engine_opts o;
    int S;     /* positions per slot */
    int N;     /* rows of the activations: max(prefill_chunk, max_seqs) */
    void *mem; /* the one device allocation */
    size_t bytes_w, bytes_c, bytes_a;
    float *wflat;     /* (P) */
    lam_params w;     /* views into wflat */
    float **kc, **vc; /* per layer: (max_seqs, S, KVD) */
    /* activations, device: N rows */
    int32_t *tok;  /* (N) */
    int32_t *lens; /* (max_seqs) */
    float *x, *ln, *q, *k, *v, *att, *gu, *h, *rstd, *lnf, *logits;
    int *len;       /* (max_seqs) host: positions per slot, -1 when free */
    int32_t *hlens; /* (max_seqs) host staging of lens */
};

void lam_engine_opts_default(lam_engine_opts *o) {
    o->max_seqs = 16;
    o->max_len = 0;
    o->prefill_chunk = 256;
}

static lam_tensor tn(const lam_engine *e, void *p, lam_dtype dt, int nd, int64_t a, int64_t b,
                     int64_t c) {
    lam_tensor t;
    memset(&t, 0, sizeof t);
    t.data = p, t.dtype = dt, t.device = e->be->device, t.ndim = nd;
    t.shape[0] = a, t.shape[1] = b, t.shape[2] = c;
    for (int i = nd; i < LAM_MAX_DIMS; i++) t.shape[i] = 0;
    return t;
}
#define F1(p, a)       tn(e, p, LAM_F32, 1, a, 0, 0)
#define F2(p, a, b)    tn(e, p, LAM_F32, 2, a, b, 0)
#define F3(p, a, b, c) tn(e, p, LAM_F32, 3, a, b, c)
#define I1(p, a)       tn(e, p, LAM_I32, 1, a, 0, 0)

/* Carves everything from arena a (a planning arena only counts). */
static lam_status carve(lam_engine *e, lam_arena *a, int64_t P, lam_error *err) {
    const lam_config *c = &e->cfg;
    int64_t N = e->N, D = c->dim, V = c->vocab_size, F = c->ffn_dim, L = c->n_layers;
    int64_t HD = (int64_t)c->n_heads * lam_config_head_dim(c);
    int64_t KVD = (int64_t)c->n_kv_heads * lam_config_head_dim(c);
    int64_t B = e->o.max_seqs, S = e->S;
    size_t u0 = a->used;
    LAM_TRY(lam_arena_alloc(a, (size_t)P * 4, (void **)&e->wflat, err));
    size_t u1 = a->used;
    for (int64_t l = 0; l < L; l++) {
        LAM_TRY(lam_arena_alloc(a, (size_t)(B * S * KVD) * 4, (void **)&e->kc[l], err));
        LAM_TRY(lam_arena_alloc(a, (size_t)(B * S * KVD) * 4, (void **)&e->vc[l], err));
    }
    size_t u2 = a->used;
    struct {
        void **p;
        int64_t n;
    } bufs[] = {
        {(void **)&e->tok, N},       {(void **)&e->lens, B},     {(void **)&e->x, N * D},
        {(void **)&e->ln, N * D},    {(void **)&e->q, N * HD},   {(void **)&e->k, N * KVD},
        {(void **)&e->v, N * KVD},   {(void **)&e->att, N * HD}, {(void **)&e->gu, N * 2 * F},
        {(void **)&e->h, N * F},     {(void **)&e->rstd, N},     {(void **)&e->lnf, B * D},
        {(void **)&e->logits, B * V}};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        LAM_TRY(lam_arena_alloc(a, (size_t)bufs[i].n * 4, bufs[i].p, err));
    e->bytes_w = u1 - u0, e->bytes_c = u2 - u1, e->bytes_a = a->used - u2;
    return LAM_OK;
}

lam_status lam_engine_create(lam_backend *be, const lam_config *cfg, const float *params,
                             const lam_engine_opts *o, lam_engine **out, lam_error *err) {
    *out = NULL;
    LAM_TRY(lam_config_validate(cfg, err));
    int S = o->max_len > 0 ? o->max_len : cfg->max_seq_len;
    if (o->max_seqs < 1 || o->max_seqs > 4096 || o->prefill_chunk < 1 || S < 2 ||
        S > cfg->max_seq_len)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "engine: max_seqs %d, prefill_chunk %d, max_len %d (need 1..4096, "
                             ">= 1, 2..max_seq_len %d)",
                             o->max_seqs, o->prefill_chunk, S, cfg->max_seq_len);
    lam_engine *e = calloc(1, sizeof *e);
    if (!e) return lam_error_set(err, LAM_ERR_NOMEM, "engine: out of memory");
    e->cfg = *cfg, e->be = be, e->o = *o, e->S = S;
    e->N = o->prefill_chunk > o->max_seqs ? o->prefill_chunk : o->max_seqs;
    if (e->N > S) e->N = S > o->max_seqs ? S : o->max_seqs;
    lam_status st = LAM_OK;
    e->kc = calloc((size_t)cfg->n_layers, sizeof *e->kc);
    e->vc = calloc((size_t)cfg->n_layers, sizeof *e->vc);
    e->len = malloc((size_t)o->max_seqs * sizeof *e->len);
    e->hlens = malloc((size_t)o->max_seqs * sizeof *e->hlens);
    if (!e->kc || !e->vc || !e->len || !e->hlens) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "engine: out of memory");
        goto fail;
    }
    for (int i = 0; i < o->max_seqs; i++) e->len[i] = -1;
    int64_t P = lam_params_layout(cfg, NULL, be->device, NULL);
    lam_arena a;
    lam_arena_plan(&a, "engine");
    if ((st = carve(e, &a, P, err)) != LAM_OK) goto fail;
    size_t bytes = a.used;
    if ((st = be->alloc(be, bytes, &e->mem, err)) != LAM_OK) goto fail;
    lam_arena_init_at(&a, "engine", e->mem, bytes);
    if ((st = carve(e, &a, P, err)) != LAM_OK) goto fail;
    lam_params_layout(cfg, e->wflat, be->device, &e->w);
    if ((st = be->upload(be, e->wflat, params, (size_t)P * 4, err)) != LAM_OK) goto fail;
    *out = e;
    return LAM_OK;
fail:
    lam_engine_free(e);
    return st;
}

void lam_engine_free(lam_engine *e) {
    if (!e) return;
    if (e->mem) e->be->free(e->be, e->mem);
    free(e->kc), free(e->vc), free(e->len), free(e->hlens);
    free(e);
}

const lam_config *lam_engine_config(const lam_engine *e) {
    return &e->cfg;
}
int lam_engine_max_seqs(const lam_engine *e) {
    return e->o.max_seqs;
}
int lam_engine_max_len(const lam_engine *e) {
    return e->S;
}
void lam_engine_bytes(const lam_engine *e, size_t *weights, size_t *cache, size_t *acts) {
    *weights = e->bytes_w, *cache = e->bytes_c, *acts = e->bytes_a;
}
int lam_engine_len(const lam_engine *e, int slot) {
    return slot >= 0 && slot < e->o.max_seqs && e->len[slot] > 0 ? e->len[slot] : 0;
}
void lam_engine_finish(lam_engine *e, int slot) {
    if (slot >= 0 && slot < e->o.max_seqs) e->len[slot] = -1;
}

/* The weight views of layer l. */
typedef struct {
    lam_tensor an, mn, wq, wk, wv, wo, wgu, wd;
} layer_w;

static layer_w layer_views(const lam_engine *e, int l) {
    const lam_config *c = &e->cfg;
    int64_t D = c->dim, F = c->ffn_dim, hd = lam_config_head_dim(c);
    int64_t HD = (int64_t)c->n_heads * hd, KVD = (int64_t)c->n_kv_heads * hd;
    int64_t C3 = HD + 2 * KVD;
    float *qkv = (float *)e->w.wqkv.data + (int64_t)l * C3 * D;
    layer_w w = {
        .an = F1((float *)e->w.attn_norm.data + l * D, D),
        .mn = F1((float *)e->w.mlp_norm.data + l * D, D),
        .wq = F2(qkv, HD, D),
        .wk = F2(qkv + HD * D, KVD, D),
        .wv = F2(qkv + (HD + KVD) * D, KVD, D),
        .wo = F2((float *)e->w.wo.data + (int64_t)l * D * HD, D, HD),
        .wgu = F2((float *)e->w.w_gate_up.data + (int64_t)l * 2 * F * D, 2 * F, D),
        .wd = F2((float *)e->w.w_down.data + (int64_t)l * D * F, D, F),
    };
    return w;
}

/* x (n,D) += the MLP of rmsnorm(x) (rows of the activations). */
static lam_status mlp(lam_engine *e, const layer_w *w, int64_t n, lam_error *err) {
    lam_backend *be = e->be;
    int64_t D = e->cfg.dim, F = e->cfg.ffn_dim;
    lam_tensor x = F2(e->x, n, D), ln = F2(e->ln, n, D), rstd = F1(e->rstd, n);
    lam_tensor gu = F2(e->gu, n, 2 * F), h = F2(e->h, n, F);
    LAM_TRY(be->rmsnorm_fwd(be, &ln, &rstd, &x, &w->mn, e->cfg.norm_eps, err));
    LAM_TRY(be->matmul(be, &gu, &ln, &w->wgu, 0, 1, 1.0f, 0.0f, err));
    LAM_TRY(be->swiglu_fwd(be, &h, &gu, err));
    return be->matmul(be, &x, &h, &w->wd, 0, 1, 1.0f, 1.0f, err);
}

/* logits (n,V) of the rows x[rows0 .. rows0+n) through the final norm and the head. */
static lam_status head(lam_engine *e, int64_t row0, int64_t n, lam_error *err) {
    lam_backend *be = e->be;
    int64_t D = e->cfg.dim, V = e->cfg.vocab_size;
    lam_tensor x = F2(e->x + row0 * D, n, D), lnf = F2(e->lnf, n, D), rstd = F1(e->rstd, n);
    lam_tensor lg = F2(e->logits, n, V);
    LAM_TRY(be->rmsnorm_fwd(be, &lnf, &rstd, &x, &e->w.final_norm, e->cfg.norm_eps, err));
    return be->matmul(be, &lg, &lnf, &e->w.lm_head, 0, 1, 1.0f, 0.0f, err);
}

/* One prefill chunk: tokens at positions [p0, p0+T) of slot s (T <= N). */
static lam_status prefill_chunk(lam_engine *e, int s, const int32_t *tokens, int64_t p0, int64_t T,
                                lam_error *err) {
    const lam_config *c = &e->cfg;
    lam_backend *be = e->be;
    int H = c->n_heads, KV = c->n_kv_heads, hd = lam_config_head_dim(c);
    int64_t D = c->dim, HD = (int64_t)H * hd, KVD = (int64_t)KV * hd, S = e->S;
    LAM_TRY(be->upload(be, e->tok, tokens, (size_t)T * 4, err));
    int32_t n_keys = (int32_t)(p0 + T);
    LAM_TRY(be->upload(be, e->lens, &n_keys, 4, err));
    lam_tensor tok = I1(e->tok, T), lens = I1(e->lens, 1), x = F2(e->x, T, D);
    LAM_TRY(be->embedding_fwd(be, &x, &tok, &e->w.tok_emb, err));
    for (int l = 0; l < c->n_layers; l++) {
        layer_w w = layer_views(e, l);
        float *kslot = e->kc[l] + (int64_t)s * S * KVD, *vslot = e->vc[l] + (int64_t)s * S * KVD;
        lam_tensor ln = F2(e->ln, T, D), rstd = F1(e->rstd, T), q = F2(e->q, T, HD);
        lam_tensor k = F2(kslot + p0 * KVD, T, KVD), v = F2(vslot + p0 * KVD, T, KVD);
        lam_tensor q3 = F3(e->q, 1, T, HD), k3 = F3(kslot + p0 * KVD, 1, T, KVD);
        lam_tensor att3 = F3(e->att, 1, T, HD), att = F2(e->att, T, HD);
        lam_tensor kcache = F3(kslot, 1, S, KVD), vcache = F3(vslot, 1, S, KVD);
        LAM_TRY(be->rmsnorm_fwd(be, &ln, &rstd, &x, &w.an, c->norm_eps, err));
        LAM_TRY(be->matmul(be, &q, &ln, &w.wq, 0, 1, 1.0f, 0.0f, err));
        LAM_TRY(be->matmul(be, &k, &ln, &w.wk, 0, 1, 1.0f, 0.0f, err));
        LAM_TRY(be->matmul(be, &v, &ln, &w.wv, 0, 1, 1.0f, 0.0f, err));
        LAM_TRY(be->rope(be, &q3, H, hd, (int)p0, c->rope_theta, 0, err));
        LAM_TRY(be->rope(be, &k3, KV, hd, (int)p0, c->rope_theta, 0, err));
        LAM_TRY(be->attention_decode(be, &att3, &q3, &kcache, &vcache, &lens, H, KV, err));
        LAM_TRY(be->matmul(be, &x, &att, &w.wo, 0, 1, 1.0f, 1.0f, err));
        LAM_TRY(mlp(e, &w, T, err));
    }
    return LAM_OK;
}

lam_status lam_engine_start(lam_engine *e, const int32_t *prompt, int n, int *slot, float *logits,
                            lam_error *err) {
    if (n < 1 || n >= e->S)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "engine: a prompt of %d tokens; this engine holds 1..%d (max_len %d "
                             "less one for the answer)",
                             n, e->S - 1, e->S);
    int V = e->cfg.vocab_size;
    for (int i = 0; i < n; i++)
        if (prompt[i] < 0 || prompt[i] >= V)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "engine: prompt token %d at position %d is outside [0,%d)",
                                 prompt[i], i, V);
    int s = 0;
    while (s < e->o.max_seqs && e->len[s] >= 0) s++;
    if (s == e->o.max_seqs)
        return lam_error_set(err, LAM_ERR_NOMEM, "engine: all %d sequence slots are taken",
                             e->o.max_seqs);
    for (int64_t p0 = 0; p0 < n; p0 += e->N) {
        int64_t T = n - p0 < e->N ? n - p0 : e->N;
        LAM_TRY(prefill_chunk(e, s, prompt + p0, p0, T, err));
        if (p0 + T == n) LAM_TRY(head(e, T - 1, 1, err));
    }
    LAM_TRY(e->be->download(e->be, logits, e->logits, (size_t)V * 4, err));
    e->len[s] = n;
    *slot = s;
    return LAM_OK;
}

lam_status lam_engine_step(lam_engine *e, const int *slots, const int32_t *tokens, int n,
                           float *logits, lam_error *err) {
    const lam_config *c = &e->cfg;
    lam_backend *be = e->be;
    int H = c->n_heads, KV = c->n_kv_heads, hd = lam_config_head_dim(c);
    int64_t D = c->dim, HD = (int64_t)H * hd, KVD = (int64_t)KV * hd, S = e->S;
    int64_t V = c->vocab_size;
    if (n < 1 || n > e->o.max_seqs)
        return lam_error_set(err, LAM_ERR_INVALID, "engine step: %d sequences; 1..%d", n,
                             e->o.max_seqs);
    for (int i = 0; i < n; i++) {
        int s = slots[i];
        if (s < 0 || s >= e->o.max_seqs || e->len[s] < 1)
            return lam_error_set(err, LAM_ERR_INVALID, "engine step: slot %d is not started", s);
        if (e->len[s] >= S)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "engine step: slot %d is full (%d positions)", s, e->len[s]);
        if (tokens[i] < 0 || tokens[i] >= V)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "engine step: token %d of slot %d is outside [0,%lld)", tokens[i],
                                 s, (long long)V);
        for (int j = 0; j < i; j++)
            if (slots[j] == s)
                return lam_error_set(err, LAM_ERR_INVALID, "engine step: slot %d twice", s);
        e->hlens[i] = e->len[s] + 1;
    }
    LAM_TRY(be->upload(be, e->tok, tokens, (size_t)n * 4, err));
    LAM_TRY(be->upload(be, e->lens, e->hlens, (size_t)n * 4, err));
    lam_tensor tok = I1(e->tok, n), x = F2(e->x, n, D);
    LAM_TRY(be->embedding_fwd(be, &x, &tok, &e->w.tok_emb, err));
    for (int l = 0; l < c->n_layers; l++) {
        layer_w w = layer_views(e, l);
        lam_tensor ln = F2(e->ln, n, D), rstd = F1(e->rstd, n), q = F2(e->q, n, HD);
        lam_tensor k = F2(e->k, n, KVD), v = F2(e->v, n, KVD), att = F2(e->att, n, HD);
        LAM_TRY(be->rmsnorm_fwd(be, &ln, &rstd, &x, &w.an, c->norm_eps, err));
        LAM_TRY(be->matmul(be, &q, &ln, &w.wq, 0, 1, 1.0f, 0.0f, err));
        LAM_TRY(be->matmul(be, &k, &ln, &w.wk, 0, 1, 1.0f, 0.0f, err));
        LAM_TRY(be->matmul(be, &v, &ln, &w.wv, 0, 1, 1.0f, 0.0f, err));
        for (int i = 0; i < n; i++) { /* each sequence at its own position */
            int s = slots[i];
            int64_t pos = e->len[s];
            float *krow = e->kc[l] + ((int64_t)s * S + pos) * KVD;
            float *vrow = e->vc[l] + ((int64_t)s * S + pos) * KVD;
            lam_tensor qi = F3(e->q + i * HD, 1, 1, HD), ki = F3(e->k + i * KVD, 1, 1, KVD);
            lam_tensor kd = F1(krow, KVD), vd = F1(vrow, KVD);
            lam_tensor ks = F1(e->k + i * KVD, KVD), vs = F1(e->v + i * KVD, KVD);
            lam_tensor q2 = F2(e->q + i * HD, 1, HD), a2 = F2(e->att + i * HD, 1, HD);
            lam_tensor kcache = F3(e->kc[l] + (int64_t)s * S * KVD, 1, S, KVD);
            lam_tensor vcache = F3(e->vc[l] + (int64_t)s * S * KVD, 1, S, KVD);
            lam_tensor lens = I1(e->lens + i, 1);
            LAM_TRY(be->rope(be, &qi, H, hd, (int)pos, c->rope_theta, 0, err));
            LAM_TRY(be->rope(be, &ki, KV, hd, (int)pos, c->rope_theta, 0, err));
            LAM_TRY(be->copy(be, &kd, &ks, err));
            LAM_TRY(be->copy(be, &vd, &vs, err));
            LAM_TRY(be->attention_decode(be, &a2, &q2, &kcache, &vcache, &lens, H, KV, err));
        }
        LAM_TRY(be->matmul(be, &x, &att, &w.wo, 0, 1, 1.0f, 1.0f, err));
        LAM_TRY(mlp(e, &w, n, err));
    }
    LAM_TRY(head(e, 0, n, err));
    LAM_TRY(be->download(be, logits, e->logits, (size_t)(n * V) * 4, err));
    for (int i = 0; i < n; i++) e->len[slots[i]]++;
    return LAM_OK;
}
