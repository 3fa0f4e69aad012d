/* model.c - the Llama-style decoder written once against the backend interface (model.h).
 * Parameter layout and init: docs/model.md. */
#include "lam/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lam/rng.h"
#include "lam/timer.h"

/* Runs one backend call; with profiling on, synchronizes and adds its time under `label`. */
#define OP(label, call)                                                                            \
    do {                                                                                           \
        double t0_ = m->profile ? lam_now_s() : 0.0;                                               \
        LAM_TRY(call);                                                                             \
        if (m->profile) LAM_TRY(profile_add(m, label, t0_, err));                                  \
    } while (0)

static lam_status profile_add(lam_model *m, const char *label, double t0, lam_error *err) {
    LAM_TRY(m->be->synchronize(m->be, err));
    lam_model_profile *p = m->profile;
    int i = 0;
    while (i < p->n && strcmp(p->label[i], label)) i++;
    if (i == p->n) {
        if (p->n == LAM_PROFILE_MAX) return LAM_OK;
        p->label[p->n++] = label;
        p->seconds[i] = 0.0, p->calls[i] = 0;
    }
    p->seconds[i] += lam_now_s() - t0;
    p->calls[i]++;
    return LAM_OK;
}

static const char *param_names[LAM_N_PARAM_TENSORS] = {"tok_emb", "attn_norm",  "wqkv",
                                                       "wo",      "mlp_norm",   "w_gate_up",
                                                       "w_down",  "final_norm", "lm_head"};

const char *lam_param_name(int i) {
    return (i >= 0 && i < LAM_N_PARAM_TENSORS) ? param_names[i] : "?";
}

lam_tensor *lam_params_at(lam_params *p, int i) {
    lam_tensor *all[LAM_N_PARAM_TENSORS] = {&p->tok_emb, &p->attn_norm,  &p->wqkv,
                                            &p->wo,      &p->mlp_norm,   &p->w_gate_up,
                                            &p->w_down,  &p->final_norm, &p->lm_head};
    return (i >= 0 && i < LAM_N_PARAM_TENSORS) ? all[i] : NULL;
}

/* Shapes of the parameter tensors; lm_head has 0 rows of its own when tied. */
static void param_shapes(const lam_config *c, int64_t shapes[LAM_N_PARAM_TENSORS][4], int nd[]) {
    int64_t V = c->vocab_size, D = c->dim, L = c->n_layers, F = c->ffn_dim;
    int64_t C3 = lam_config_qkv_dim(c), HD = (int64_t)c->n_heads * lam_config_head_dim(c);
    int64_t s[LAM_N_PARAM_TENSORS][4] = {{V, D},        {L, D},    {L, C3, D}, {L, D, HD}, {L, D},
                                         {L, 2 * F, D}, {L, D, F}, {D},        {V, D}};
    int n[LAM_N_PARAM_TENSORS] = {2, 2, 3, 3, 2, 3, 3, 1, 2};
    memcpy(shapes, s, sizeof s);
    memcpy(nd, n, sizeof n);
}

static int64_t shape_numel(const int64_t *s, int nd) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= s[i];
    return n;
}

/* Fills views into flat (device memory) in layout order; returns the element count. */
static int64_t layout(const lam_config *c, float *flat, lam_device dev, lam_params *p,
                      int64_t offsets[LAM_N_PARAM_TENSORS]) {
    int64_t shapes[LAM_N_PARAM_TENSORS][4];
    int nd[LAM_N_PARAM_TENSORS];
    param_shapes(c, shapes, nd);
    int64_t off = 0;
    for (int i = 0; i < LAM_N_PARAM_TENSORS; i++) {
        lam_tensor *t = p ? lam_params_at(p, i) : NULL;
        int tied_head = (i == 8 && c->tie_embeddings);
        int64_t at = tied_head ? 0 : off; /* a tied head is the embedding */
        if (t) {
            memset(t, 0, sizeof *t);
            t->data = flat ? flat + at : NULL;
            t->dtype = LAM_F32;
            t->device = dev;
            t->ndim = nd[i];
            memcpy(t->shape, shapes[i], sizeof shapes[i]);
        }
        if (offsets) offsets[i] = at;
        if (!tied_head) off += shape_numel(shapes[i], nd[i]);
    }
    return off;
}

int64_t lam_params_layout(const lam_config *cfg, float *flat, lam_device dev, lam_params *p) {
    return layout(cfg, flat, dev, p, NULL);
}

int64_t lam_model_param_offset(const lam_model *m, int i) {
    int64_t offsets[LAM_N_PARAM_TENSORS];
    layout(&m->cfg, NULL, LAM_DEV_CPU, NULL, offsets);
    return offsets[i];
}

/* Layer l of a stacked (L, ...) parameter: a view of one fewer dim. */
static lam_tensor layer(const lam_tensor *t, int l) {
    lam_tensor v = *t;
    v.ndim = t->ndim - 1;
    int64_t per = 1;
    for (int i = 1; i < t->ndim; i++) {
        v.shape[i - 1] = t->shape[i];
        per *= t->shape[i];
    }
    v.shape[t->ndim - 1] = 0;
    v.data = (float *)t->data + per * l;
    return v;
}

static lam_tensor dev_tensor(const lam_model *m, void *data, lam_dtype dt, int nd, int64_t d0,
                             int64_t d1, int64_t d2, int64_t d3) {
    lam_tensor t = lam_tensor_4d(data, dt, d0, d1, d2, d3);
    t.ndim = nd;
    for (int i = nd; i < LAM_MAX_DIMS; i++) t.shape[i] = 0;
    t.device = m->be->device;
    return t;
}
#define T1(p, a)          dev_tensor(m, p, LAM_F32, 1, a, 0, 0, 0)
#define T2(p, a, b)       dev_tensor(m, p, LAM_F32, 2, a, b, 0, 0)
#define T3(p, a, b, c)    dev_tensor(m, p, LAM_F32, 3, a, b, c, 0)
#define T4(p, a, b, c, d) dev_tensor(m, p, LAM_F32, 4, a, b, c, d)

lam_status lam_model_create_sharded(lam_model *m, const lam_config *cfg, lam_backend *be,
                                    int n_shards, lam_error *err) {
    memset(m, 0, sizeof *m);
    LAM_TRY(lam_config_validate(cfg, err));
    if (n_shards < 1 || n_shards > 65536)
        return lam_error_set(err, LAM_ERR_INVALID, "model: %d optimizer shards; need 1..65536",
                             n_shards);
    m->cfg = *cfg;
    m->be = be;
    m->n_params = layout(cfg, NULL, be->device, NULL, NULL);
    m->n_shards = n_shards;
    m->shard_len = (m->n_params + n_shards - 1) / n_shards;
    m->n_padded = m->shard_len * n_shards;
    size_t bytes = (size_t)(2 * m->n_padded + 2 * m->shard_len) * sizeof(float);
    LAM_TRY(be->alloc(be, bytes, &m->param_mem, err));
    m->params_flat = m->param_mem;
    m->grads_flat = m->params_flat + m->n_padded;
    m->m_flat = m->grads_flat + m->n_padded;
    m->v_flat = m->m_flat + m->shard_len;
    int64_t offsets[LAM_N_PARAM_TENSORS];
    layout(cfg, m->params_flat, be->device, &m->params, offsets);
    layout(cfg, m->grads_flat, be->device, &m->grads, NULL);
    /* weight decay on matrices; not on norms or embeddings (a tied head is the embedding) */
    static const int decays[LAM_N_PARAM_TENSORS] = {0, 0, 1, 1, 0, 1, 1, 0, 1};
    for (int i = 0; i < LAM_N_PARAM_TENSORS; i++) {
        if (i == 8 && cfg->tie_embeddings) continue;
        m->segments[m->n_segments++] = (lam_param_segment){
            offsets[i], lam_tensor_numel(lam_params_at(&m->params, i)), decays[i]};
    }
    return LAM_OK;
}

lam_status lam_model_create(lam_model *m, const lam_config *cfg, lam_backend *be, lam_error *err) {
    return lam_model_create_sharded(m, cfg, be, 1, err);
}

void lam_model_destroy(lam_model *m) {
    if (!m->be) return;
    if (m->param_mem) m->be->free(m->be, m->param_mem);
    if (m->act_mem) m->be->free(m->be, m->act_mem);
    free(m->host_losses);
    memset(m, 0, sizeof *m);
}

lam_status lam_model_init_weights(lam_model *m, uint64_t seed, lam_error *err) {
    const lam_config *c = &m->cfg;
    float *host = malloc((size_t)m->n_params * sizeof(float));
    if (!host) return lam_error_set(err, LAM_ERR_NOMEM, "model init: out of memory");
    int64_t offsets[LAM_N_PARAM_TENSORS];
    layout(c, NULL, LAM_DEV_CPU, NULL, offsets);
    float resid_std = c->init_std / sqrtf(2.0f * (float)c->n_layers);
    for (int i = 0; i < LAM_N_PARAM_TENSORS; i++) {
        if (i == 8 && c->tie_embeddings) continue;
        float *p = host + offsets[i];
        int64_t n = lam_tensor_numel(lam_params_at(&m->params, i));
        if (i == 1 || i == 4 || i == 7) { /* norms */
            for (int64_t j = 0; j < n; j++) p[j] = 1.0f;
        } else {
            float std = (i == 3 || i == 6) ? resid_std : c->init_std;
            lam_rng_fill_normal(p, n, seed, (uint64_t)i, 0.0f, std);
        }
    }
    lam_tensor all = T1(m->params_flat, 2 * (m->n_padded + m->shard_len)); /* the padding too */
    lam_status st = m->be->fill(m->be, &all, 0.0f, err);
    if (st == LAM_OK) st = m->be->upload(m->be, m->params_flat, host, (size_t)m->n_params * 4, err);
    free(host);
    return st;
}

/* Carves the activation buffers for B x T from arena a (a planning arena only counts). */
static lam_status carve(lam_arena *a, const lam_config *c, int B, int T, lam_acts *x,
                        lam_error *err) {
    int64_t N = (int64_t)B * T, D = c->dim, L = c->n_layers, V = c->vocab_size, F = c->ffn_dim;
    int64_t C3 = lam_config_qkv_dim(c), HD = (int64_t)c->n_heads * lam_config_head_dim(c);
    int64_t H = c->n_heads;
    struct {
        void **p;
        int64_t n;
    } bufs[] = {
        {(void **)&x->tokens, N},
        {(void **)&x->targets, N},
        {(void **)&x->mask, N},
        {(void **)&x->seg, N},
        {(void **)&x->resid, (L + 1) * N * D},
        {(void **)&x->resid_mid, L * N * D},
        {(void **)&x->ln1, L * N * D},
        {(void **)&x->rstd1, L * N},
        {(void **)&x->qkv, L * N * C3},
        {(void **)&x->probs, L * B * H * T * T},
        {(void **)&x->att, L * N * HD},
        {(void **)&x->ln2, L * N * D},
        {(void **)&x->rstd2, L * N},
        {(void **)&x->gu, L * N * 2 * F},
        {(void **)&x->h, L * N * F},
        {(void **)&x->lnf, N * D},
        {(void **)&x->rstdf, N},
        {(void **)&x->rows, N},
        {(void **)&x->lnc, N * D},
        {(void **)&x->logits, N * V},
        {(void **)&x->losses, N},
        {(void **)&x->scalar, 4},
        {(void **)&x->dresid, N * D},
        {(void **)&x->dln, N * D},
        {(void **)&x->dqkv, N * C3},
        {(void **)&x->datt, N * HD},
        {(void **)&x->dgu, N * 2 * F},
        {(void **)&x->dh, N * F},
        {(void **)&x->att_scratch, B * H * T * T},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        LAM_TRY(lam_arena_alloc(a, (size_t)bufs[i].n * 4, bufs[i].p, err));
    x->B = B;
    x->T = T;
    return LAM_OK;
}

size_t lam_model_act_bytes(const lam_config *cfg, int B, int T) {
    lam_arena a;
    lam_acts x;
    lam_arena_plan(&a, "activations");
    carve(&a, cfg, B, T, &x, NULL);
    return a.used;
}

lam_status lam_model_plan(lam_model *m, int B, int T, lam_error *err) {
    if (B < 1 || T < 1 || T > m->cfg.max_seq_len)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "model plan: batch %d x %d; need B >= 1 and 1 <= T <= max_seq_len "
                             "(%d)",
                             B, T, m->cfg.max_seq_len);
    if (m->act_mem) m->be->free(m->be, m->act_mem);
    free(m->host_losses);
    m->act_mem = NULL;
    m->host_losses = NULL;
    m->act_bytes = lam_model_act_bytes(&m->cfg, B, T);
    LAM_TRY(m->be->alloc(m->be, m->act_bytes, &m->act_mem, err));
    /* host workspace: losses, rows, targets, mask (N each, one allocation) */
    size_t N = (size_t)B * T;
    m->host_losses = malloc(N * (2 * sizeof(float) + 2 * sizeof(int32_t)));
    if (!m->host_losses) return lam_error_set(err, LAM_ERR_NOMEM, "model plan: out of memory");
    m->host_mask = m->host_losses + N;
    m->host_rows = (int32_t *)(m->host_mask + N);
    m->host_targets = m->host_rows + N;
    lam_arena a;
    lam_arena_init_at(&a, "activations", m->act_mem, m->act_bytes);
    return carve(&a, &m->cfg, B, T, &m->acts, err);
}

/* Checks the host arrays of a batch; fills the head rows (host_rows, M of them) and, with
 * targets, their compacted targets and weights; sets *msum to sum(mask). */
static lam_status batch_rows(lam_model *m, const lam_batch *b, int *M, double *msum,
                             lam_error *err) {
    int64_t N = (int64_t)b->B * b->T;
    int n = 0;
    *msum = 0.0;
    if (b->targets) {
        for (int64_t i = 0; i < N; i++) {
            float w = b->mask ? b->mask[i] : 1.0f;
            if (!(w >= 0.0f) || !isfinite(w))
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "model forward: mask[%lld] is %g; weights must be finite and "
                                     ">= 0",
                                     (long long)i, w);
            *msum += w;
            if (w == 0.0f) continue; /* a masked-out row's target is not read */
            if (b->targets[i] < 0 || b->targets[i] >= m->cfg.vocab_size)
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "model forward: target %d at row %lld is outside [0,%d)",
                                     b->targets[i], (long long)i, m->cfg.vocab_size);
            m->host_rows[n] = (int32_t)i;
            m->host_targets[n] = b->targets[i];
            m->host_mask[n] = w;
            n++;
        }
    } else if (b->rows) {
        if (b->n_rows < 1 || b->n_rows > N)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "model forward: %d logit rows; need 1..%lld (B*T)", b->n_rows,
                                 (long long)N);
        for (int k = 0; k < b->n_rows; k++) {
            if (b->rows[k] < 0 || b->rows[k] >= N)
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "model forward: logit row %d is %d, outside [0,%lld)", k,
                                     b->rows[k], (long long)N);
            m->host_rows[n++] = b->rows[k];
        }
    } else {
        for (int64_t i = 0; i < N; i++) m->host_rows[n++] = (int32_t)i;
    }
    *M = n;
    return LAM_OK;
}

lam_status lam_model_forward_batch(lam_model *m, const lam_batch *bt, float *loss, lam_error *err) {
    const lam_config *c = &m->cfg;
    lam_backend *be = m->be;
    lam_acts *x = &m->acts;
    int B = bt->B, T = bt->T;
    if (!m->act_mem)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "model forward: plan the activations (lam_model_plan) first");
    if (B < 1 || T < 1 || B > x->B || T > x->T)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "model forward: batch %d x %d does not fit the plan %d x %d", B, T,
                             x->B, x->T);
    if (!(bt->loss_norm >= 0.0) || !isfinite(bt->loss_norm))
        return lam_error_set(err, LAM_ERR_INVALID, "model forward: loss_norm %g must be >= 0",
                             bt->loss_norm);
    int64_t N = (int64_t)B * T, D = c->dim, V = c->vocab_size, F = c->ffn_dim;
    int64_t C3 = lam_config_qkv_dim(c), HD = (int64_t)c->n_heads * lam_config_head_dim(c);
    int H = c->n_heads, KV = c->n_kv_heads, hd = lam_config_head_dim(c);
    m->cur_B = B, m->cur_T = T, m->cur_M = 0, m->have_dlogits = 0, m->have_logits = 0;
    m->cur_seg = bt->seg != NULL;
    int M = 0;
    double msum = 0.0;
    LAM_TRY(batch_rows(m, bt, &M, &msum, err));

    LAM_TRY(be->upload(be, x->tokens, bt->tokens, (size_t)N * 4, err));
    lam_tensor tok = dev_tensor(m, x->tokens, LAM_I32, 1, N, 0, 0, 0);
    lam_tensor seg = dev_tensor(m, x->seg, LAM_I32, 2, B, T, 0, 0);
    if (bt->seg) LAM_TRY(be->upload(be, x->seg, bt->seg, (size_t)N * 4, err));
    const lam_tensor *segp = bt->seg ? &seg : NULL;
    lam_tensor x0 = T2(x->resid, N, D);
    OP("embedding_fwd", be->embedding_fwd(be, &x0, &tok, &m->params.tok_emb, err));

    for (int l = 0; l < c->n_layers; l++) {
        lam_tensor resid = T2(x->resid + l * N * D, N, D);
        lam_tensor mid = T2(x->resid_mid + l * N * D, N, D);
        lam_tensor next = T2(x->resid + (l + 1) * N * D, N, D);
        lam_tensor ln1 = T2(x->ln1 + l * N * D, N, D), rstd1 = T1(x->rstd1 + l * N, N);
        lam_tensor ln2 = T2(x->ln2 + l * N * D, N, D), rstd2 = T1(x->rstd2 + l * N, N);
        lam_tensor qkv2 = T2(x->qkv + l * N * C3, N, C3), qkv3 = T3(qkv2.data, B, T, C3);
        lam_tensor probs = T4(x->probs + l * (int64_t)B * H * T * T, B, H, T, T);
        lam_tensor att2 = T2(x->att + l * N * HD, N, HD), att3 = T3(att2.data, B, T, HD);
        lam_tensor gu = T2(x->gu + l * N * 2 * F, N, 2 * F), h = T2(x->h + l * N * F, N, F);
        lam_tensor an = layer(&m->params.attn_norm, l), mn = layer(&m->params.mlp_norm, l);
        lam_tensor wqkv = layer(&m->params.wqkv, l), wo = layer(&m->params.wo, l);
        lam_tensor wgu = layer(&m->params.w_gate_up, l), wd = layer(&m->params.w_down, l);

        OP("rmsnorm_fwd", be->rmsnorm_fwd(be, &ln1, &rstd1, &resid, &an, c->norm_eps, err));
        OP("matmul_qkv_fwd", be->matmul(be, &qkv2, &ln1, &wqkv, 0, 1, 1.0f, 0.0f, err));
        OP("rope_fwd", be->rope(be, &qkv3, H + KV, hd, 0, c->rope_theta, 0, err));
        OP("attention_fwd", be->attention_fwd(be, &att3, &probs, &qkv3, segp, H, KV, err));
        OP("residual_copy", be->copy(be, &mid, &resid, err));
        OP("matmul_o_fwd", be->matmul(be, &mid, &att2, &wo, 0, 1, 1.0f, 1.0f, err));
        OP("rmsnorm_fwd", be->rmsnorm_fwd(be, &ln2, &rstd2, &mid, &mn, c->norm_eps, err));
        OP("matmul_gate_up_fwd", be->matmul(be, &gu, &ln2, &wgu, 0, 1, 1.0f, 0.0f, err));
        OP("swiglu_fwd", be->swiglu_fwd(be, &h, &gu, err));
        OP("residual_copy", be->copy(be, &next, &mid, err));
        OP("matmul_down_fwd", be->matmul(be, &next, &h, &wd, 0, 1, 1.0f, 1.0f, err));
    }
    lam_tensor xl = T2(x->resid + (int64_t)c->n_layers * N * D, N, D);
    lam_tensor lnf = T2(x->lnf, N, D), rstdf = T1(x->rstdf, N);
    OP("rmsnorm_fwd",
       be->rmsnorm_fwd(be, &lnf, &rstdf, &xl, &m->params.final_norm, c->norm_eps, err));
    m->cur_M = M;
    if (M > 0) {
        /* the LM head sees only the rows that need logits: all of them, or gathered */
        lam_tensor head_in = lnf;
        if (M < N) {
            LAM_TRY(be->upload(be, x->rows, m->host_rows, (size_t)M * 4, err));
            lam_tensor rows = dev_tensor(m, x->rows, LAM_I32, 1, M, 0, 0, 0);
            head_in = T2(x->lnc, M, D);
            OP("head_gather", be->embedding_fwd(be, &head_in, &rows, &lnf, err));
        }
        lam_tensor logits = T2(x->logits, M, V);
        OP("matmul_lm_head_fwd",
           be->matmul(be, &logits, &head_in, &m->params.lm_head, 0, 1, 1.0f, 0.0f, err));
    }
    if (!bt->targets) {
        if (loss) *loss = 0.0f;
        m->have_logits = 1;
        return LAM_OK;
    }

    /* masked cross-entropy over the head rows; dlogits written over the logits */
    double norm = bt->loss_norm > 0.0 ? bt->loss_norm : msum;
    double total = 0.0;
    if (M > 0) {
        LAM_TRY(be->upload(be, x->targets, m->host_targets, (size_t)M * 4, err));
        LAM_TRY(be->upload(be, x->mask, m->host_mask, (size_t)M * 4, err));
        lam_tensor tgt = dev_tensor(m, x->targets, LAM_I32, 1, M, 0, 0, 0);
        lam_tensor msk = T1(x->mask, M), losses = T1(x->losses, M), logits = T2(x->logits, M, V);
        float scale = norm > 0 ? (float)(1.0 / norm) : 0.0f;
        OP("cross_entropy",
           be->cross_entropy(be, &losses, &logits, &logits, &tgt, &msk, scale, err));
        LAM_TRY(be->download(be, m->host_losses, x->losses, (size_t)M * 4, err));
        for (int k = 0; k < M; k++) total += (double)m->host_losses[k] * m->host_mask[k];
    }
    m->mask_sum = (float)msum;
    m->loss_sum = total;
    m->last_loss = norm > 0 ? (float)(total / norm) : 0.0f;
    m->have_dlogits = 1;
    if (loss) *loss = m->last_loss;
    return LAM_OK;
}

lam_status lam_model_forward(lam_model *m, const int32_t *tokens, const int32_t *targets,
                             const float *mask, int B, int T, float *loss, lam_error *err) {
    lam_batch b = {.tokens = tokens, .targets = targets, .mask = mask, .B = B, .T = T};
    return lam_model_forward_batch(m, &b, loss, err);
}

lam_status lam_model_backward(lam_model *m, lam_error *err) {
    if (!m->have_dlogits)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "model backward: needs a forward with targets just before it");
    m->have_dlogits = 0; /* the backward consumes dlogits and the attention probabilities */
    const lam_config *c = &m->cfg;
    lam_backend *be = m->be;
    lam_acts *x = &m->acts;
    int B = m->cur_B, T = m->cur_T, M = m->cur_M;
    if (M == 0) return LAM_OK; /* no row carries loss: every gradient is zero */
    int64_t N = (int64_t)B * T, D = c->dim, V = c->vocab_size, F = c->ffn_dim;
    int64_t C3 = lam_config_qkv_dim(c), HD = (int64_t)c->n_heads * lam_config_head_dim(c);
    int H = c->n_heads, KV = c->n_kv_heads, hd = lam_config_head_dim(c);
    lam_params *g = &m->grads;

    lam_tensor dlogits = T2(x->logits, M, V), lnf = T2(x->lnf, N, D), rstdf = T1(x->rstdf, N);
    lam_tensor dln = T2(x->dln, N, D), dresid = T2(x->dresid, N, D);
    lam_tensor xl = T2(x->resid + (int64_t)c->n_layers * N * D, N, D);
    if (M == N) {
        OP("matmul_lm_head_dx",
           be->matmul(be, &dln, &dlogits, &m->params.lm_head, 0, 0, 1.0f, 0.0f, err));
        OP("matmul_lm_head_dw", be->matmul(be, &g->lm_head, &dlogits, &lnf, 1, 0, 1.0f, 1.0f, err));
    } else {
        /* d(gathered rows) into dresid as scratch, then scattered into the zeroed dln */
        lam_tensor lnc = T2(x->lnc, M, D), dlnc = T2(x->dresid, M, D);
        lam_tensor rows = dev_tensor(m, x->rows, LAM_I32, 1, M, 0, 0, 0);
        OP("matmul_lm_head_dx",
           be->matmul(be, &dlnc, &dlogits, &m->params.lm_head, 0, 0, 1.0f, 0.0f, err));
        OP("matmul_lm_head_dw", be->matmul(be, &g->lm_head, &dlogits, &lnc, 1, 0, 1.0f, 1.0f, err));
        LAM_TRY(be->fill(be, &dln, 0.0f, err));
        OP("head_scatter", be->embedding_bwd(be, &dln, &rows, &dlnc, err));
    }
    LAM_TRY(be->fill(be, &dresid, 0.0f, err));
    OP("rmsnorm_bwd",
       be->rmsnorm_bwd(be, &dresid, &g->final_norm, &dln, &xl, &m->params.final_norm, &rstdf, err));

    lam_tensor seg = dev_tensor(m, x->seg, LAM_I32, 2, B, T, 0, 0);
    const lam_tensor *segp = m->cur_seg ? &seg : NULL;
    lam_tensor dqkv2 = T2(x->dqkv, N, C3), dqkv3 = T3(x->dqkv, B, T, C3);
    lam_tensor datt2 = T2(x->datt, N, HD), datt3 = T3(x->datt, B, T, HD);
    lam_tensor dgu = T2(x->dgu, N, 2 * F), dh = T2(x->dh, N, F);
    lam_tensor scratch = T4(x->att_scratch, B, H, T, T);
    for (int l = c->n_layers - 1; l >= 0; l--) {
        lam_tensor resid = T2(x->resid + l * N * D, N, D);
        lam_tensor mid = T2(x->resid_mid + l * N * D, N, D);
        lam_tensor ln1 = T2(x->ln1 + l * N * D, N, D), rstd1 = T1(x->rstd1 + l * N, N);
        lam_tensor ln2 = T2(x->ln2 + l * N * D, N, D), rstd2 = T1(x->rstd2 + l * N, N);
        lam_tensor qkv2 = T2(x->qkv + l * N * C3, N, C3), qkv3 = T3(qkv2.data, B, T, C3);
        lam_tensor probs = T4(x->probs + l * (int64_t)B * H * T * T, B, H, T, T);
        lam_tensor att2 = T2(x->att + l * N * HD, N, HD);
        lam_tensor gu = T2(x->gu + l * N * 2 * F, N, 2 * F), h = T2(x->h + l * N * F, N, F);
        lam_tensor an = layer(&m->params.attn_norm, l), mn = layer(&m->params.mlp_norm, l);
        lam_tensor wqkv = layer(&m->params.wqkv, l), wo = layer(&m->params.wo, l);
        lam_tensor wgu = layer(&m->params.w_gate_up, l), wd = layer(&m->params.w_down, l);
        lam_tensor g_an = layer(&g->attn_norm, l), g_mn = layer(&g->mlp_norm, l);
        lam_tensor g_wqkv = layer(&g->wqkv, l), g_wo = layer(&g->wo, l);
        lam_tensor g_wgu = layer(&g->w_gate_up, l), g_wd = layer(&g->w_down, l);

        /* MLP: next = mid + swiglu(ln2 @ wgu^T) @ wd^T */
        OP("matmul_down_dx", be->matmul(be, &dh, &dresid, &wd, 0, 0, 1.0f, 0.0f, err));
        OP("matmul_down_dw", be->matmul(be, &g_wd, &dresid, &h, 1, 0, 1.0f, 1.0f, err));
        OP("swiglu_bwd", be->swiglu_bwd(be, &dgu, &dh, &gu, err));
        OP("matmul_gate_up_dx", be->matmul(be, &dln, &dgu, &wgu, 0, 0, 1.0f, 0.0f, err));
        OP("matmul_gate_up_dw", be->matmul(be, &g_wgu, &dgu, &ln2, 1, 0, 1.0f, 1.0f, err));
        OP("rmsnorm_bwd", be->rmsnorm_bwd(be, &dresid, &g_mn, &dln, &mid, &mn, &rstd2, err));
        /* attention: mid = resid + attention(rope(ln1 @ wqkv^T)) @ wo^T */
        OP("matmul_o_dx", be->matmul(be, &datt2, &dresid, &wo, 0, 0, 1.0f, 0.0f, err));
        OP("matmul_o_dw", be->matmul(be, &g_wo, &dresid, &att2, 1, 0, 1.0f, 1.0f, err));
        OP("attention_bwd",
           be->attention_bwd(be, &dqkv3, &datt3, &qkv3, segp, &probs, &scratch, H, KV, err));
        OP("rope_bwd", be->rope(be, &dqkv3, H + KV, hd, 0, c->rope_theta, 1, err));
        OP("matmul_qkv_dx", be->matmul(be, &dln, &dqkv2, &wqkv, 0, 0, 1.0f, 0.0f, err));
        OP("matmul_qkv_dw", be->matmul(be, &g_wqkv, &dqkv2, &ln1, 1, 0, 1.0f, 1.0f, err));
        OP("rmsnorm_bwd", be->rmsnorm_bwd(be, &dresid, &g_an, &dln, &resid, &an, &rstd1, err));
    }
    lam_tensor tok = dev_tensor(m, x->tokens, LAM_I32, 1, N, 0, 0, 0);
    OP("embedding_bwd", be->embedding_bwd(be, &g->tok_emb, &tok, &dresid, err));
    return LAM_OK;
}

lam_status lam_model_zero_grad(lam_model *m, lam_error *err) {
    lam_tensor g = T1(m->grads_flat, m->n_padded);
    return m->be->fill(m->be, &g, 0.0f, err);
}

lam_status lam_model_logits(lam_model *m, float *out, lam_error *err) {
    if (!m->have_logits)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "model logits: needs a forward without targets just before it");
    size_t n = (size_t)m->cur_M * m->cfg.vocab_size;
    return m->be->download(m->be, out, m->acts.logits, n * sizeof(float), err);
}

lam_status lam_model_grad_sumsq(lam_model *m, int64_t offset, int64_t count, double *out,
                                lam_error *err) {
    if (!m->act_mem)
        return lam_error_set(err, LAM_ERR_INVALID, "model grad norm: plan the model first");
    if (offset < 0 || count < 1 || offset + count > m->n_padded)
        return lam_error_set(
            err, LAM_ERR_INVALID, "model grad norm: range [%lld, %lld) outside the %lld gradients",
            (long long)offset, (long long)(offset + count), (long long)m->n_padded);
    lam_tensor g = T1(m->grads_flat + offset, count), s = T1(m->acts.scalar, 1);
    LAM_TRY(m->be->sum_squares(m->be, &s, &g, err));
    float ss;
    LAM_TRY(m->be->download(m->be, &ss, m->acts.scalar, sizeof ss, err));
    *out = ss;
    return LAM_OK;
}

lam_status lam_model_grad_norm(lam_model *m, float *norm, lam_error *err) {
    double ss = 0.0;
    LAM_TRY(lam_model_grad_sumsq(m, 0, m->n_params, &ss, err));
    *norm = (float)sqrt(ss);
    return LAM_OK;
}

lam_status lam_model_adamw(lam_model *m, const lam_adamw_hp *hp, lam_error *err) {
    if (m->n_shards != 1)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "model adamw: the optimizer state is split in %d shards; use "
                             "lam_model_adamw_shard",
                             m->n_shards);
    lam_tensor p = T1(m->params_flat, m->n_params), g = T1(m->grads_flat, m->n_params);
    lam_tensor mm = T1(m->m_flat, m->n_params), vv = T1(m->v_flat, m->n_params);
    return m->be->adamw(m->be, &p, &g, &mm, &vv, m->segments, m->n_segments, hp, err);
}

lam_status lam_model_adamw_shard(lam_model *m, int shard, const lam_adamw_hp *hp, lam_error *err) {
    if (shard < 0 || shard >= m->n_shards)
        return lam_error_set(err, LAM_ERR_INVALID, "model adamw: shard %d of %d", shard,
                             m->n_shards);
    int64_t S = m->shard_len, lo = (int64_t)shard * S, hi = lo + S;
    /* the segments clipped to [lo, hi) and rebased on lo */
    lam_param_segment seg[LAM_N_PARAM_TENSORS];
    int n = 0;
    for (int i = 0; i < m->n_segments; i++) {
        int64_t a = m->segments[i].offset, b = a + m->segments[i].count;
        if (a < lo) a = lo;
        if (b > hi) b = hi;
        if (a < b) seg[n++] = (lam_param_segment){a - lo, b - a, m->segments[i].decay};
    }
    if (n == 0) return LAM_OK; /* a shard of padding only */
    lam_tensor p = T1(m->params_flat + lo, S), g = T1(m->grads_flat + lo, S);
    lam_tensor mm = T1(m->m_flat, S), vv = T1(m->v_flat, S);
    return m->be->adamw(m->be, &p, &g, &mm, &vv, seg, n, hp, err);
}

int64_t lam_model_flat_len(const lam_model *m, int which) {
    return which < 2 ? m->n_params : m->shard_len;
}

static float *flat_ptr(lam_model *m, int which) {
    switch (which) {
    case 0:
        return m->params_flat;
    case 1:
        return m->grads_flat;
    case 2:
        return m->m_flat;
    case 3:
        return m->v_flat;
    }
    return NULL;
}

lam_status lam_model_read_flat(lam_model *m, int which, float *out, lam_error *err) {
    float *p = flat_ptr(m, which);
    if (!p) return lam_error_set(err, LAM_ERR_INVALID, "model read: no flat vector %d", which);
    size_t n = (size_t)lam_model_flat_len(m, which);
    return m->be->download(m->be, out, p, n * sizeof(float), err);
}

lam_status lam_model_write_flat(lam_model *m, int which, const float *in, lam_error *err) {
    float *p = flat_ptr(m, which);
    if (!p) return lam_error_set(err, LAM_ERR_INVALID, "model write: no flat vector %d", which);
    size_t n = (size_t)lam_model_flat_len(m, which);
    return m->be->upload(m->be, p, in, n * sizeof(float), err);
}
