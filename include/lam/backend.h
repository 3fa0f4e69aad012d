/* backend.h - owns the backend interface: every operation the model needs, forward and
 * backward, as one table of function pointers, and the registry of backends (the only
 * global mutable state of the library). Implementations: src/cpu/ (lam_cpu_backend) and
 * cuda/. Ops check dtypes, devices and shapes and return LAM_ERR_SHAPE with a message that
 * names the op and the shapes; they never abort on bad arguments.
 *
 * Conventions for every op:
 *  - Outputs are fully written unless the op says it accumulates ("+=").
 *  - Row-major layouts; N = B*T rows.
 *  - Results do not depend on the number of threads (fixed reduction orders). */
#ifndef LAM_BACKEND_H
#define LAM_BACKEND_H

#include "lam/comm.h"
#include "lam/status.h"
#include "lam/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One contiguous run of the flat parameter vector and whether it gets weight decay. */
typedef struct {
    int64_t offset;
    int64_t count;
    int decay;
} lam_param_segment;

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    int64_t step;     /* 1-based step number, for bias correction */
    float grad_scale; /* gradients are multiplied by this first (clipping, averaging) */
} lam_adamw_hp;

typedef struct lam_backend lam_backend;

struct lam_backend {
    const char *name; /* "cpu", "cuda" */
    lam_device device;
    void *ctx;

    /* Memory: one call per arena; device pointers are opaque to the host. */
    lam_status (*alloc)(lam_backend *be, size_t bytes, void **out, lam_error *err);
    void (*free)(lam_backend *be, void *ptr);
    lam_status (*upload)(lam_backend *be, void *dst, const void *src, size_t bytes, lam_error *err);
    lam_status (*download)(lam_backend *be, void *dst, const void *src, size_t bytes,
                           lam_error *err);
    lam_status (*synchronize)(lam_backend *be, lam_error *err);
    void (*destroy)(lam_backend *be);
    /* The device communicator over this backend's memory for the ranks of c (NCCL for CUDA).
     * NULL for backends whose memory is the host's: lam_backend_dcomm uses MPI on the host. */
    lam_status (*dcomm_create)(lam_backend *be, lam_comm *c, lam_dcomm **out, lam_error *err);

    /* x[:] = value (f32 or bf16 or i32 with the value cast) */
    lam_status (*fill)(lam_backend *be, lam_tensor *x, float value, lam_error *err);
    /* dst = src, same dtype and element count */
    lam_status (*copy)(lam_backend *be, lam_tensor *dst, const lam_tensor *src, lam_error *err);
    /* dst = src converted (f32 <-> bf16, round to nearest even), same element count */
    lam_status (*cast)(lam_backend *be, lam_tensor *dst, const lam_tensor *src, lam_error *err);
    /* x *= s */
    lam_status (*scale)(lam_backend *be, lam_tensor *x, float s, lam_error *err);
    /* out = a + b (out may alias a or b): residual add and gradient accumulation */
    lam_status (*add)(lam_backend *be, lam_tensor *out, const lam_tensor *a, const lam_tensor *b,
                      lam_error *err);

    /* out (N,D) = table (V,D) [tokens (N) i32]; tokens outside [0,V) are an error */
    lam_status (*embedding_fwd)(lam_backend *be, lam_tensor *out, const lam_tensor *tokens,
                                const lam_tensor *table, lam_error *err);
    /* dtable (V,D) += scatter of dout (N,D) by tokens (N) */
    lam_status (*embedding_bwd)(lam_backend *be, lam_tensor *dtable, const lam_tensor *tokens,
                                const lam_tensor *dout, lam_error *err);

    /* out (N,D) = x / sqrt(mean(x^2) + eps) * w (D); rstd (N) saved for backward */
    lam_status (*rmsnorm_fwd)(lam_backend *be, lam_tensor *out, lam_tensor *rstd,
                              const lam_tensor *x, const lam_tensor *w, float eps, lam_error *err);
    /* dx (N,D) += dx_contribution; dw (D) += ... */
    lam_status (*rmsnorm_bwd)(lam_backend *be, lam_tensor *dx, lam_tensor *dw,
                              const lam_tensor *dout, const lam_tensor *x, const lam_tensor *w,
                              const lam_tensor *rstd, lam_error *err);

    /* C = alpha * op(A) @ op(B) + beta * C. 2-D: A (M,K) [or (K,M) with trans_a], B (K,N)
     * [or (N,K) with trans_b], C (M,N). 3-D: the same for each of the leading batch index. */
    lam_status (*matmul)(lam_backend *be, lam_tensor *c, const lam_tensor *a, const lam_tensor *b,
                         int trans_a, int trans_b, float alpha, float beta, lam_error *err);

    /* Rotary embedding, in place, HF Llama convention (rotate_half: pairs i and i+hd/2).
     * x (B,T,C): the first n_heads*head_dim columns of each row are rotated, head by head,
     * at position pos0 + t with frequencies theta^(-2i/hd). inverse=1 rotates by -angle
     * (the backward of the forward rotation). */
    lam_status (*rope)(lam_backend *be, lam_tensor *x, int n_heads, int head_dim, int pos0,
                       float theta, int inverse, lam_error *err);

    /* Causal grouped-query attention over a packed qkv (B,T,(H+2KV)*hd): q heads first, then
     * k heads, then v heads (rotary already applied). out (B,T,H*hd); probs (B,H,T,T) holds
     * the softmax for the backward. Scale 1/sqrt(hd).
     * Packed sequences: seg (B,T) i32, or NULL for plain causal attention: query row t of
     * batch b attends to keys [seg[b,t], t], so several samples share a row without seeing
     * each other. seg[b,t] is in [0, t] and nondecreasing along t (LAM_ERR_INVALID
     * otherwise). probs rows are zero outside their keys. */
    lam_status (*attention_fwd)(lam_backend *be, lam_tensor *out, lam_tensor *probs,
                                const lam_tensor *qkv, const lam_tensor *seg, int n_heads,
                                int n_kv_heads, lam_error *err);
    /* dqkv (B,T,(H+2KV)*hd) written; probs is overwritten (it becomes dS); scratch (B,H,T,T);
     * seg as given to the forward */
    lam_status (*attention_bwd)(lam_backend *be, lam_tensor *dqkv, const lam_tensor *dout,
                                const lam_tensor *qkv, const lam_tensor *seg, lam_tensor *probs,
                                lam_tensor *scratch, int n_heads, int n_kv_heads, lam_error *err);
    /* Decode form, queries against a KV cache: q (B,H*hd) one new query per sequence, or
     * q (B,Tq,H*hd) a chunk of Tq new queries (prefill); out has q's shape; k_cache,
     * v_cache (B,S,KV*hd); lens (B) i32 in [Tq, S]: the new keys are already in the cache
     * and query t of sequence b, at position lens[b]-Tq+t, attends to cache positions
     * [0, lens[b]-Tq+t] (causal). */
    lam_status (*attention_decode)(lam_backend *be, lam_tensor *out, const lam_tensor *q,
                                   const lam_tensor *k_cache, const lam_tensor *v_cache,
                                   const lam_tensor *lens, int n_heads, int n_kv_heads,
                                   lam_error *err);

    /* h (N,F) = silu(gu[:, :F]) * gu[:, F:], gu (N,2F) */
    lam_status (*swiglu_fwd)(lam_backend *be, lam_tensor *h, const lam_tensor *gu, lam_error *err);
    /* dgu (N,2F) written from dh (N,F) and gu */
    lam_status (*swiglu_bwd)(lam_backend *be, lam_tensor *dgu, const lam_tensor *dh,
                             const lam_tensor *gu, lam_error *err);

    /* Fused softmax cross-entropy with a loss mask. logits (N,V); targets (N) i32; mask (N)
     * f32 weights (0 excludes a row; its target is not read). losses (N) = -log softmax[target]
     * (0 where mask is 0). If dlogits (N,V) is not NULL it is written with
     * grad_scale * mask * (softmax - onehot); it may alias logits. */
    lam_status (*cross_entropy)(lam_backend *be, lam_tensor *losses, lam_tensor *dlogits,
                                const lam_tensor *logits, const lam_tensor *targets,
                                const lam_tensor *mask, float grad_scale, lam_error *err);

    /* out (1) = sum of x^2 (f32 x, any shape), accumulated in double in a fixed order */
    lam_status (*sum_squares)(lam_backend *be, lam_tensor *out, const lam_tensor *x,
                              lam_error *err);

    /* AdamW over flat f32 vectors params, grads, m, v (P); segments say which runs decay.
     * Decoupled decay: p -= lr * (wd * p) for decaying segments, then the Adam update.
     * Elements outside every segment (and their m, v) are left untouched. */
    lam_status (*adamw)(lam_backend *be, lam_tensor *params, const lam_tensor *grads, lam_tensor *m,
                        lam_tensor *v, const lam_param_segment *segments, int n_segments,
                        const lam_adamw_hp *hp, lam_error *err);
};

/* Registry. Backends register a constructor; lam_backend_create builds one by name. */
typedef lam_status (*lam_backend_ctor)(lam_backend **out, int n_threads, lam_error *err);
lam_status lam_backend_register(const char *name, lam_backend_ctor ctor, lam_error *err);
/* Registers the built-in backends (cpu, and cuda when built). Idempotent. */
void lam_backends_init(void);
lam_status lam_backend_create(const char *name, int n_threads, lam_backend **out, lam_error *err);
/* Names of the registered backends, comma separated, into buf. */
const char *lam_backend_list(char *buf, size_t cap);
void lam_backend_destroy(lam_backend *be);
/* The device communicator for be's memory over the ranks of c (be->dcomm_create, or the host
 * MPI one for host memory). */
lam_status lam_backend_dcomm(lam_backend *be, lam_comm *c, lam_dcomm **out, lam_error *err);

/* Shape-check helpers shared by implementations: each returns LAM_ERR_SHAPE naming op. */
lam_status lam_check_tensor(const char *op, const char *arg, const lam_tensor *t, lam_dtype dt,
                            lam_device dev, int ndim, lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
