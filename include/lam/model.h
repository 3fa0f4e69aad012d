/* model.h - owns the Llama-style decoder: the parameter layout in one flat vector, its
 * initialization, the activation plan for a batch shape, and forward/backward/AdamW written
 * once against the backend interface. Does not own training loops (train/) or decoding
 * (infer/). Shapes: see tensor.h and docs/model.md. */
#ifndef LAM_MODEL_H
#define LAM_MODEL_H

#include <stdint.h>
#include "lam/arena.h"
#include "lam/backend.h"
#include "lam/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Views into the flat parameter (or gradient) vector, in this order. */
typedef struct {
    lam_tensor tok_emb;    /* (V, D) */
    lam_tensor attn_norm;  /* (L, D) */
    lam_tensor wqkv;       /* (L, (H+2KV)*hd, D) rows: q heads, k heads, v heads */
    lam_tensor wo;         /* (L, D, H*hd) */
    lam_tensor mlp_norm;   /* (L, D) */
    lam_tensor w_gate_up;  /* (L, 2F, D) rows: gate then up */
    lam_tensor w_down;     /* (L, D, F) */
    lam_tensor final_norm; /* (D) */
    lam_tensor lm_head;    /* (V, D); the same memory as tok_emb when tied */
} lam_params;

#define LAM_N_PARAM_TENSORS 9
/* Name of parameter tensor i in the order above ("tok_emb", ...). */
const char *lam_param_name(int i);
/* Pointer to tensor i of a lam_params. */
lam_tensor *lam_params_at(lam_params *p, int i);

/* Activation memory planned for at most B x T (device pointers). */
typedef struct {
    int B, T;                  /* planned maxima */
    int32_t *tokens, *targets; /* (B,T); targets hold the M head rows' targets, compacted */
    float *mask;               /* (B,T); the M head rows' weights, compacted */
    int32_t *seg;              /* (B,T) first position of each token's sample (packed rows) */
    float *resid;              /* (L+1, B,T,D) input of each block, then of the final norm */
    float *resid_mid;          /* (L, B,T,D) after the attention residual */
    float *ln1, *rstd1;        /* (L, B,T,D), (L, B,T) */
    float *qkv;                /* (L, B,T,(H+2KV)*hd), rotary applied */
    float *probs;              /* (L, B,H,T,T) */
    float *att;                /* (L, B,T,H*hd) */
    float *ln2, *rstd2;        /* (L, B,T,D), (L, B,T) */
    float *gu;                 /* (L, B,T,2F) */
    float *h;                  /* (L, B,T,F) */
    float *lnf, *rstdf;        /* (B,T,D), (B,T) */
    int32_t *rows;             /* (M) rows of lnf that get logits, M <= B*T */
    float *lnc;                /* (M,D) those rows of lnf, gathered */
    float *logits;             /* (M,V), becomes dlogits after a forward with targets */
    float *losses;             /* (M) */
    float *scalar;             /* (4) reductions read back to the host */
    /* backward scratch, shared by the layers */
    float *dresid;      /* (B,T,D) */
    float *dln;         /* (B,T,D) */
    float *dqkv;        /* (B,T,(H+2KV)*hd) */
    float *datt;        /* (B,T,H*hd) */
    float *dgu;         /* (B,T,2F) */
    float *dh;          /* (B,T,F) */
    float *att_scratch; /* (B,H,T,T) */
} lam_acts;

/* Time spent per call site of the forward and backward, when profiling is on. */
#define LAM_PROFILE_MAX 48
typedef struct {
    int n;
    const char *label[LAM_PROFILE_MAX];
    double seconds[LAM_PROFILE_MAX];
    int64_t calls[LAM_PROFILE_MAX];
} lam_model_profile;

/* One batch for lam_model_forward_batch. Host memory. */
typedef struct {
    const int32_t *tokens;  /* (B,T) */
    const int32_t *targets; /* (B,T) or NULL: no loss (inference) */
    const float *mask;      /* (B,T) loss weights >= 0, NULL: all ones; rows with weight 0 get
                               no logits (only the loss-covered rows reach the LM head) */
    const int32_t *seg;     /* (B,T) first position of each token's sample when several samples
                               are packed in a row (attention stays inside a sample), or NULL */
    const int32_t *rows;    /* without targets: the rows (b*T+t) that get logits, or NULL: all */
    int n_rows;             /* entries of rows */
    int B, T;
    /* The loss and the gradients are of sum(mask * loss) / loss_norm; 0: the batch's own
     * sum(mask). A trainer splitting a batch over micro-batches and ranks passes the whole
     * batch's sum so the accumulated gradient is that of the whole batch's mean. */
    double loss_norm;
} lam_batch;

typedef struct {
    lam_config cfg;
    lam_backend *be;
    int64_t n_params;   /* P, elements of the flat vector */
    int64_t n_padded;   /* P rounded up to a multiple of n_shards (the padding stays 0) */
    int n_shards;       /* the optimizer state is split in this many equal shards */
    int64_t shard_len;  /* S = n_padded / n_shards: elements of m and v held here */
    void *param_mem;    /* device: params | grads (each n_padded) | m | v (each S) */
    float *params_flat; /* (n_padded) */
    float *grads_flat;  /* (n_padded) */
    float *m_flat;      /* (S) AdamW first moment of this shard */
    float *v_flat;      /* (S) AdamW second moment */
    lam_params params;  /* views into params_flat */
    lam_params grads;   /* views into grads_flat */
    lam_param_segment segments[LAM_N_PARAM_TENSORS];
    int n_segments;
    void *act_mem; /* device activation arena */
    size_t act_bytes;
    lam_acts acts;
    int cur_B, cur_T; /* shape of the last forward */
    int cur_M;        /* rows that got logits in the last forward */
    int cur_seg;      /* the last forward had packed-sequence segments */
    int have_dlogits; /* last forward ran with targets and succeeded */
    int have_logits;  /* last forward ran without targets and succeeded */
    float last_loss;  /* sum(mask * loss) / loss_norm of the last forward */
    double loss_sum;  /* sum(mask * loss) of the last forward */
    float mask_sum;   /* sum(mask) of the last forward */
    /* host workspace planned with the activations: (B*T) each */
    float *host_losses;
    int32_t *host_rows, *host_targets;
    float *host_mask;
    lam_model_profile *profile; /* caller-owned; NULL (the default) times nothing */
} lam_model;

/* Plans and allocates the parameter arena (params, grads, AdamW state) on be. */
lam_status lam_model_create(lam_model *m, const lam_config *cfg, lam_backend *be, lam_error *err);
/* The same with the AdamW state split in n_shards (ZeRO stage 1: each rank keeps the moments
 * of its shard of the flat vector only). n_shards 1 is lam_model_create. */
lam_status lam_model_create_sharded(lam_model *m, const lam_config *cfg, lam_backend *be,
                                    int n_shards, lam_error *err);
void lam_model_destroy(lam_model *m);
/* Init documented in docs/model.md: normal(0, init_std) for embeddings and matrices, with
 * the residual output projections (wo, w_down) scaled by 1/sqrt(2L); norms 1; AdamW state 0. */
lam_status lam_model_init_weights(lam_model *m, uint64_t seed, lam_error *err);
/* Plans and allocates activations for batches up to B x T (T <= max_seq_len). */
lam_status lam_model_plan(lam_model *m, int B, int T, lam_error *err);
/* Bytes the activation arena needs for B x T (no allocation). */
size_t lam_model_act_bytes(const lam_config *cfg, int B, int T);

/* Forward of a batch (see lam_batch). With targets it leaves dlogits for lam_model_backward
 * and sets *loss (may be NULL) to sum(mask * loss) / loss_norm; without, it leaves the
 * logits of the chosen rows (lam_model_logits). */
lam_status lam_model_forward_batch(lam_model *m, const lam_batch *b, float *loss, lam_error *err);
/* The common case: tokens (B,T), targets (B,T) and mask (B,T) (NULL mask = all ones), the
 * mean loss over masked positions into *loss; without targets the logits of every row. */
lam_status lam_model_forward(lam_model *m, const int32_t *tokens, const int32_t *targets,
                             const float *mask, int B, int T, float *loss, lam_error *err);
/* Accumulates d(loss)/d(params) into the gradient vector. */
lam_status lam_model_backward(lam_model *m, lam_error *err);
lam_status lam_model_zero_grad(lam_model *m, lam_error *err);
/* Copies the logits of the last forward without targets to host memory: (rows, V) where rows
 * is B*T or the batch's n_rows. */
lam_status lam_model_logits(lam_model *m, float *out, lam_error *err);
/* Global L2 norm of the gradient vector. */
lam_status lam_model_grad_norm(lam_model *m, float *norm, lam_error *err);
/* Sum of squares of the gradient elements [offset, offset+count) (a shard's part of the
 * global norm), accumulated in double by the backend. */
lam_status lam_model_grad_sumsq(lam_model *m, int64_t offset, int64_t count, double *out,
                                lam_error *err);
/* One AdamW step (weight decay only on segments marked decay: matrices, not norms or
 * embeddings). hp->grad_scale is applied to the gradients first. Unsharded models only. */
lam_status lam_model_adamw(lam_model *m, const lam_adamw_hp *hp, lam_error *err);
/* AdamW on shard `shard` of the flat vector: params and grads [shard*S, (shard+1)*S) with
 * this model's m and v. The other parameters are untouched. */
lam_status lam_model_adamw_shard(lam_model *m, int shard, const lam_adamw_hp *hp, lam_error *err);
/* Host copies of the flat vectors. which: 0 params, 1 grads (P floats each), 2 m, 3 v (S
 * floats each: P when unsharded). */
lam_status lam_model_read_flat(lam_model *m, int which, float *out, lam_error *err);
lam_status lam_model_write_flat(lam_model *m, int which, const float *in, lam_error *err);
/* Elements lam_model_read_flat copies for `which`. */
int64_t lam_model_flat_len(const lam_model *m, int which);
/* Views of the parameter tensors of cfg into the flat vector flat (memory of device dev), in
 * the layout of docs/model.md; returns P. For engines that hold weights without training
 * state. */
int64_t lam_params_layout(const lam_config *cfg, float *flat, lam_device dev, lam_params *p);
/* Offset (in elements) of parameter tensor i in the flat vector. */
int64_t lam_model_param_offset(const lam_model *m, int i);

#ifdef __cplusplus
}
#endif

#endif
