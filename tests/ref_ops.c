/* ref_ops.c - the double-precision reference ops (see ref_ops.h). Written for clarity, not
 * speed: the most direct loop for each formula. */
#include "ref_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- embedding ---------------------------------------------------------------------- */

void ref_embedding_fwd(double *out, const int32_t *tok, int64_t n, const double *table, int64_t d) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) out[i * d + j] = table[(int64_t)tok[i] * d + j];
}

void ref_embedding_bwd(double *dtable, const int32_t *tok, int64_t n, const double *dout,
                       int64_t d) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) dtable[(int64_t)tok[i] * d + j] += dout[i * d + j];
}

/* ---- RMSNorm ------------------------------------------------------------------------ */

void ref_rmsnorm_fwd(double *out, double *rstd, const double *x, const double *w, int64_t n,
                     int64_t d, double eps) {
    for (int64_t i = 0; i < n; i++) {
        const double *xi = x + i * d;
        double ms = 0.0;
        for (int64_t j = 0; j < d; j++) ms += xi[j] * xi[j];
        ms /= (double)d;
        double r = 1.0 / sqrt(ms + eps);
        if (rstd) rstd[i] = r;
        for (int64_t j = 0; j < d; j++) out[i * d + j] = xi[j] * r * w[j];
    }
}

/* y_j = x_j r w_j with r = (mean(x^2) + eps)^(-1/2), dr/dx_j = -r^3 x_j / D, so
 * dL/dx_j = r w_j g_j - (r^3 / D) x_j sum_k g_k w_k x_k and dL/dw_j = sum_rows g_j x_j r. */
void ref_rmsnorm_bwd(double *dx, double *dw, const double *dout, const double *x, const double *w,
                     int64_t n, int64_t d, double eps) {
    for (int64_t i = 0; i < n; i++) {
        const double *xi = x + i * d, *gi = dout + i * d;
        double ms = 0.0;
        for (int64_t j = 0; j < d; j++) ms += xi[j] * xi[j];
        double r = 1.0 / sqrt(ms / (double)d + eps);
        double s = 0.0;
        for (int64_t j = 0; j < d; j++) s += gi[j] * w[j] * xi[j];
        for (int64_t j = 0; j < d; j++) {
            dx[i * d + j] += r * w[j] * gi[j] - r * r * r / (double)d * xi[j] * s;
            dw[j] += gi[j] * xi[j] * r;
        }
    }
}

/* ---- matmul ------------------------------------------------------------------------- */

void ref_matmul(double *c, const double *a, const double *b, int64_t batch, int64_t m, int64_t n,
                int64_t k, int ta, int tb, double alpha, double beta) {
    for (int64_t z = 0; z < batch; z++) {
        const double *az = a + z * m * k, *bz = b + z * k * n;
        double *cz = c + z * m * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0.0;
                for (int64_t l = 0; l < k; l++) {
                    double av = ta ? az[l * m + i] : az[i * k + l];
                    double bv = tb ? bz[j * k + l] : bz[l * n + j];
                    s += av * bv;
                }
                /* beta == 0 means C is not read (it may hold garbage) */
                cz[i * n + j] = alpha * s + (beta != 0.0 ? beta * cz[i * n + j] : 0.0);
            }
    }
}

/* ---- RoPE --------------------------------------------------------------------------- */

void ref_rope(double *x, int64_t b, int64_t t, int64_t c, int n_heads, int hd, int pos0,
              double theta, int inverse) {
    int half = hd / 2;
    for (int64_t bi = 0; bi < b; bi++)
        for (int64_t ti = 0; ti < t; ti++) {
            double pos = (double)(pos0 + ti);
            double *row = x + (bi * t + ti) * c;
            for (int hh = 0; hh < n_heads; hh++) {
                double *v = row + (int64_t)hh * hd;
                for (int i = 0; i < half; i++) {
                    double ang = pos * pow(theta, -2.0 * i / (double)hd);
                    if (inverse) ang = -ang;
                    double cs = cos(ang), sn = sin(ang);
                    /* rotate_half: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin) */
                    double x1 = v[i], x2 = v[i + half];
                    v[i] = x1 * cs - x2 * sn;
                    v[i + half] = x2 * cs + x1 * sn;
                }
            }
        }
}

/* ---- attention ---------------------------------------------------------------------- */

/* First key row i of batch bi may attend to: seg[bi*t+i], or 0 without segments. */
static int64_t seg_lo(const int32_t *seg, int64_t bi, int64_t t, int64_t i) {
    return seg ? seg[bi * t + i] : 0;
}

/* Softmax of row i of head h of batch bi over keys [lo, i] into p[lo..i]. */
static void att_row(double *p, const double *qkv, int64_t bi, int64_t t, int64_t i, int64_t lo,
                    int h, int g, int nh, int kv, int hd) {
    int64_t c3 = (int64_t)(nh + 2 * kv) * hd;
    const double *q = qkv + (bi * t + i) * c3 + (int64_t)h * hd;
    double scale = 1.0 / sqrt((double)hd), mx = -INFINITY;
    for (int64_t j = lo; j <= i; j++) {
        const double *k = qkv + (bi * t + j) * c3 + (int64_t)(nh + g) * hd;
        double s = 0.0;
        for (int d = 0; d < hd; d++) s += q[d] * k[d];
        p[j] = s * scale;
        if (p[j] > mx) mx = p[j];
    }
    double sum = 0.0;
    for (int64_t j = lo; j <= i; j++) {
        p[j] = exp(p[j] - mx);
        sum += p[j];
    }
    for (int64_t j = lo; j <= i; j++) p[j] /= sum;
}

void ref_attention_fwd(double *out, double *probs, const double *qkv, const int32_t *seg, int64_t b,
                       int64_t t, int h, int kv, int hd) {
    int64_t c3 = (int64_t)(h + 2 * kv) * hd, hdim = (int64_t)h * hd;
    double *p = malloc((size_t)t * sizeof *p);
    for (int64_t bi = 0; bi < b; bi++)
        for (int hh = 0; hh < h; hh++) {
            int g = hh / (h / kv);
            for (int64_t i = 0; i < t; i++) {
                int64_t lo = seg_lo(seg, bi, t, i);
                att_row(p, qkv, bi, t, i, lo, hh, g, h, kv, hd);
                double *o = out + (bi * t + i) * hdim + (int64_t)hh * hd;
                for (int d = 0; d < hd; d++) {
                    double s = 0.0;
                    for (int64_t j = lo; j <= i; j++)
                        s += p[j] * qkv[(bi * t + j) * c3 + (int64_t)(h + kv + g) * hd + d];
                    o[d] = s;
                }
                if (probs) {
                    double *pr = probs + ((bi * h + hh) * t + i) * t;
                    for (int64_t j = 0; j < t; j++) pr[j] = (j >= lo && j <= i) ? p[j] : 0.0;
                }
            }
        }
    free(p);
}

/* o_i = sum_j P_ij v_j, P_i = softmax(scale q_i . k_j), so with dP_ij = dout_i . v_j:
 * dv_j += P_ij dout_i, dS_ij = P_ij (dP_ij - sum_l P_il dP_il), dq_i += scale dS_ij k_j,
 * dk_j += scale dS_ij q_i. */
void ref_attention_bwd(double *dqkv, const double *dout, const double *qkv, const int32_t *seg,
                       int64_t b, int64_t t, int h, int kv, int hd) {
    int64_t c3 = (int64_t)(h + 2 * kv) * hd, hdim = (int64_t)h * hd;
    double scale = 1.0 / sqrt((double)hd);
    double *p = malloc((size_t)t * sizeof *p), *dp = malloc((size_t)t * sizeof *dp);
    memset(dqkv, 0, (size_t)(b * t * c3) * sizeof *dqkv);
    for (int64_t bi = 0; bi < b; bi++)
        for (int hh = 0; hh < h; hh++) {
            int g = hh / (h / kv);
            for (int64_t i = 0; i < t; i++) {
                int64_t lo = seg_lo(seg, bi, t, i);
                att_row(p, qkv, bi, t, i, lo, hh, g, h, kv, hd);
                const double *go = dout + (bi * t + i) * hdim + (int64_t)hh * hd;
                double dot = 0.0;
                for (int64_t j = lo; j <= i; j++) {
                    const double *vj = qkv + (bi * t + j) * c3 + (int64_t)(h + kv + g) * hd;
                    double *dvj = dqkv + (bi * t + j) * c3 + (int64_t)(h + kv + g) * hd;
                    double s = 0.0;
                    for (int d = 0; d < hd; d++) {
                        s += go[d] * vj[d];
                        dvj[d] += p[j] * go[d];
                    }
                    dp[j] = s;
                    dot += p[j] * s;
                }
                const double *qi = qkv + (bi * t + i) * c3 + (int64_t)hh * hd;
                double *dqi = dqkv + (bi * t + i) * c3 + (int64_t)hh * hd;
                for (int64_t j = lo; j <= i; j++) {
                    double ds = p[j] * (dp[j] - dot) * scale;
                    const double *kj = qkv + (bi * t + j) * c3 + (int64_t)(h + g) * hd;
                    double *dkj = dqkv + (bi * t + j) * c3 + (int64_t)(h + g) * hd;
                    for (int d = 0; d < hd; d++) {
                        dqi[d] += ds * kj[d];
                        dkj[d] += ds * qi[d];
                    }
                }
            }
        }
    free(p);
    free(dp);
}

void ref_attention_decode(double *out, const double *q, const double *k, const double *v,
                          const int32_t *lens, int64_t b, int64_t tq, int64_t s, int h, int kv,
                          int hd) {
    int64_t kvd = (int64_t)kv * hd;
    double scale = 1.0 / sqrt((double)hd);
    double *p = malloc((size_t)s * sizeof *p);
    for (int64_t bi = 0; bi < b; bi++)
        for (int64_t t = 0; t < tq; t++)
            for (int hh = 0; hh < h; hh++) {
                int g = hh / (h / kv);
                int64_t nk = lens[bi] - tq + t + 1;
                const double *qv = q + ((bi * tq + t) * h + hh) * hd;
                double mx = -INFINITY, sum = 0.0;
                for (int64_t j = 0; j < nk; j++) {
                    const double *kj = k + (bi * s + j) * kvd + (int64_t)g * hd;
                    double d = 0.0;
                    for (int e = 0; e < hd; e++) d += qv[e] * kj[e];
                    p[j] = d * scale;
                    if (p[j] > mx) mx = p[j];
                }
                for (int64_t j = 0; j < nk; j++) {
                    p[j] = exp(p[j] - mx);
                    sum += p[j];
                }
                double *o = out + ((bi * tq + t) * h + hh) * hd;
                for (int e = 0; e < hd; e++) {
                    double acc = 0.0;
                    for (int64_t j = 0; j < nk; j++)
                        acc += p[j] * v[(bi * s + j) * kvd + (int64_t)g * hd + e];
                    o[e] = acc / sum;
                }
            }
    free(p);
}

/* ---- SwiGLU ------------------------------------------------------------------------- */

static double sigmoid(double x) {
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

void ref_swiglu_fwd(double *h, const double *gu, int64_t n, int64_t f) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < f; j++) {
            double g = gu[i * 2 * f + j], u = gu[i * 2 * f + f + j];
            h[i * f + j] = g * sigmoid(g) * u;
        }
}

/* d silu(g)/dg = sig(g) + g sig(g) (1 - sig(g)) */
void ref_swiglu_bwd(double *dgu, const double *dh, const double *gu, int64_t n, int64_t f) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < f; j++) {
            double g = gu[i * 2 * f + j], u = gu[i * 2 * f + f + j], d = dh[i * f + j];
            double sg = sigmoid(g);
            dgu[i * 2 * f + j] = d * u * (sg + g * sg * (1.0 - sg));
            dgu[i * 2 * f + f + j] = d * g * sg;
        }
}

/* ---- cross-entropy ------------------------------------------------------------------ */

void ref_cross_entropy(double *losses, double *dlogits, const double *logits,
                       const int32_t *targets, const double *mask, int64_t n, int64_t v,
                       double grad_scale) {
    for (int64_t i = 0; i < n; i++) {
        const double *x = logits + i * v;
        if (mask[i] == 0.0) {
            losses[i] = 0.0;
            if (dlogits)
                for (int64_t j = 0; j < v; j++) dlogits[i * v + j] = 0.0;
            continue;
        }
        double mx = -INFINITY;
        for (int64_t j = 0; j < v; j++)
            if (x[j] > mx) mx = x[j];
        double sum = 0.0;
        for (int64_t j = 0; j < v; j++) sum += exp(x[j] - mx);
        double lse = mx + log(sum);
        losses[i] = lse - x[targets[i]];
        if (dlogits)
            for (int64_t j = 0; j < v; j++)
                dlogits[i * v + j] =
                    grad_scale * mask[i] * (exp(x[j] - lse) - (j == targets[i] ? 1.0 : 0.0));
    }
}

double ref_sum_squares(const double *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += x[i] * x[i];
    return s;
}

/* ---- AdamW -------------------------------------------------------------------------- */

/* torch/optim/adamw.py, _single_tensor_adamw: param.mul_(1 - lr * wd); exp_avg.lerp_(grad,
 * 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2); denom =
 * (exp_avg_sq.sqrt() / sqrt(bc2)).add_(eps); param.addcdiv_(exp_avg, denom, -lr / bc1). */
void ref_adamw(double *p, double *m, double *v, const double *g, int64_t n, int decay,
               const ref_adamw_hp *hp) {
    double bc1 = 1.0 - pow(hp->beta1, (double)hp->step);
    double bc2 = 1.0 - pow(hp->beta2, (double)hp->step);
    for (int64_t i = 0; i < n; i++) {
        double gi = g[i] * hp->grad_scale;
        if (decay) p[i] *= 1.0 - hp->lr * hp->weight_decay;
        m[i] = hp->beta1 * m[i] + (1.0 - hp->beta1) * gi;
        v[i] = hp->beta2 * v[i] + (1.0 - hp->beta2) * gi * gi;
        double denom = sqrt(v[i]) / sqrt(bc2) + hp->eps;
        p[i] -= hp->lr / bc1 * m[i] / denom;
    }
}

/* ---- bf16 --------------------------------------------------------------------------- */

uint16_t ref_f32_to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    uint32_t exp_bits = (u >> 23) & 0xffu, man = u & 0x7fffffu;
    if (exp_bits == 0xffu && man != 0) return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
    uint32_t hi = u >> 16, lo = u & 0xffffu;
    /* above the halfway point rounds up; exactly halfway rounds to the even neighbour; a
     * carry out of the mantissa bumps the exponent, which is right (max finite -> inf) */
    if (lo > 0x8000u || (lo == 0x8000u && (hi & 1u))) hi += 1;
    return (uint16_t)hi;
}

float ref_bf16_to_f32(uint16_t x) {
    uint32_t u = (uint32_t)x << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
