/* ref_ops.h - owns the tests' independent reference of every backend op: plain
 * double-precision loops written from the semantics in include/lam/backend.h, sharing no code
 * with src/ (no BLAS, no OpenMP, no fast exp). Forward ops, plus analytical backwards that
 * tests/test_backend_ops.c first validates against finite differences of the forwards.
 * Layouts are those of backend.h: row-major, N = B*T rows. Ops marked "+=" accumulate. */
#ifndef LAM_TESTS_REF_OPS_H
#define LAM_TESTS_REF_OPS_H

#include <stdint.h>

/* out (N,D) = table (V,D) [tok (N)]; tokens must be in range. */
void ref_embedding_fwd(double *out, const int32_t *tok, int64_t n, const double *table, int64_t d);
/* dtable (V,D) += scatter of dout (N,D) by tok. */
void ref_embedding_bwd(double *dtable, const int32_t *tok, int64_t n, const double *dout,
                       int64_t d);

/* out (N,D) = x * rstd * w; rstd (N) = 1/sqrt(mean(x^2) + eps) (rstd may be NULL). */
void ref_rmsnorm_fwd(double *out, double *rstd, const double *x, const double *w, int64_t n,
                     int64_t d, double eps);
/* dx (N,D) += d(sum dout*out)/dx; dw (D) += d(...)/dw. */
void ref_rmsnorm_bwd(double *dx, double *dw, const double *dout, const double *x, const double *w,
                     int64_t n, int64_t d, double eps);

/* For each of batch matrices: c (m,n) = alpha * op(a) op(b) + beta * c, with a stored (m,k)
 * or (k,m) when ta, b stored (k,n) or (n,k) when tb. */
void ref_matmul(double *c, const double *a, const double *b, int64_t batch, int64_t m, int64_t n,
                int64_t k, int ta, int tb, double alpha, double beta);

/* Rotary embedding in place on x (B,T,C): the first n_heads*hd columns of each row, pairs
 * (i, i+hd/2) of each head rotated by angle (pos0+t) * theta^(-2i/hd) (negated if inverse). */
void ref_rope(double *x, int64_t b, int64_t t, int64_t c, int n_heads, int hd, int pos0,
              double theta, int inverse);

/* Causal GQA attention over qkv (B,T,(H+2KV)*hd): out (B,T,H*hd); probs (B,H,T,T), zero
 * outside each row's keys (probs may be NULL). Row t of batch b attends to keys
 * [seg[b*T+t], t] (seg (B,T) may be NULL: [0, t]). */
void ref_attention_fwd(double *out, double *probs, const double *qkv, const int32_t *seg, int64_t b,
                       int64_t t, int h, int kv, int hd);
/* dqkv (B,T,(H+2KV)*hd) = gradient of sum(dout * out) with respect to qkv (written). */
void ref_attention_bwd(double *dqkv, const double *dout, const double *qkv, const int32_t *seg,
                       int64_t b, int64_t t, int h, int kv, int hd);
/* out (B,Tq,H*hd): q (B,Tq,H*hd) against k, v (B,S,KV*hd); query t of sequence i attends to
 * positions [0, lens[i]-Tq+t]. */
void ref_attention_decode(double *out, const double *q, const double *k, const double *v,
                          const int32_t *lens, int64_t b, int64_t tq, int64_t s, int h, int kv,
                          int hd);

/* h (N,F) = silu(g) * u with gu (N,2F) = [g | u]. */
void ref_swiglu_fwd(double *h, const double *gu, int64_t n, int64_t f);
/* dgu (N,2F) = gradient of sum(dh * h) with respect to gu (written). */
void ref_swiglu_bwd(double *dgu, const double *dh, const double *gu, int64_t n, int64_t f);

/* losses (N) = mask ? -log softmax(logits)[target] : 0. dlogits (N,V) (may be NULL) =
 * grad_scale * mask * (softmax - onehot(target)). Targets of rows with mask 0 are not read. */
void ref_cross_entropy(double *losses, double *dlogits, const double *logits,
                       const int32_t *targets, const double *mask, int64_t n, int64_t v,
                       double grad_scale);

double ref_sum_squares(const double *x, int64_t n);

typedef struct {
    double lr, beta1, beta2, eps, weight_decay, grad_scale;
    int64_t step;
} ref_adamw_hp;
/* One torch.optim.AdamW (single-tensor, amsgrad off) step on n elements. */
void ref_adamw(double *p, double *m, double *v, const double *g, int64_t n, int decay,
               const ref_adamw_hp *hp);

/* bf16 conversions: round to nearest, ties to even; NaN maps to a quiet NaN. Bit-level, so
 * they are exact whatever the FPU's FTZ/DAZ mode. */
uint16_t ref_f32_to_bf16(float x);
float ref_bf16_to_f32(uint16_t x);

#endif
