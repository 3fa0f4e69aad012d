/* cpu_ops.c - the CPU backend's ops: fp32, OpenMP over rows (or columns for reductions over
 * rows, so every sum has one fixed order whatever the thread count), OpenBLAS sgemm in fixed
 * blocks (and a dot-product kernel for a decode step's few rows) for the matmuls and the
 * attention products, and small tiled products for the attention over a KV cache. Semantics of
 * each op: backend.h. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "cpu/cpu_backend.h"

#define NT(be) (((lam_cpu_ctx *)(be)->ctx)->n_threads)
/* Threads for an op touching `work` elements: below PAR_MIN it runs on the calling thread,
 * since waking a team costs more than the work (decode steps are hundreds of tiny ops). The
 * results do not depend on it: no op's sums depend on the number of threads. */
#define PAR_MIN               32768
#define MATMUL_PAR_MIN        2e6 /* FLOPs below which a matmul runs on the calling thread */
#define NTW(be, work)         ((int64_t)(work) >= PAR_MIN ? NT(be) : 1)
#define CHECK(op, arg, t, dt) LAM_TRY(lam_check_tensor(op, arg, t, dt, LAM_DEV_CPU, 0, err))
#define ATT_BLOCK             64 /* query rows per block of the causal attention products */

static int64_t last_dim(const lam_tensor *t) {
    return t->shape[t->ndim - 1];
}
static int64_t n_rows(const lam_tensor *t) {
    return lam_tensor_numel(t) / last_dim(t);
}

/* Error naming the op and the shapes of up to four tensors (unused ones NULL). */
static lam_status shapes_err4(lam_error *err, const char *op, const char *why, const lam_tensor *a,
                              const lam_tensor *b, const lam_tensor *c, const lam_tensor *d) {
    const lam_tensor *ts[4] = {a, b, c, d};
    char list[256] = "", one[64];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (!ts[i]) continue;
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "",
                              lam_tensor_desc(ts[i], one, sizeof one));
        if (n >= sizeof list) break;
    }
    return lam_error_set(err, LAM_ERR_SHAPE, "%s: %s (%s)", op, why, list);
}

static lam_status shapes_err(lam_error *err, const char *op, const char *why, const lam_tensor *a,
                             const lam_tensor *b, const lam_tensor *c) {
    return shapes_err4(err, op, why, a, b, c, NULL);
}

/* exp with about 1 ulp error for x in [-87, 88], written so loops over it vectorize
 * (Cephes' expf polynomial after reduction by ln 2). */
static inline float fast_expf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x); /* NaN passes through */
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = fmaf(n, -0.693359375f, x);
    r = fmaf(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    p = fmaf(p, r * r, r) + 1.0f;
    union { /* 2^n from its exponent bits; a union (not memcpy) keeps the loop vectorizable */
        int32_t i;
        float f;
    } scale = {.i = ((int32_t)n + 127) << 23};
    return p * scale.f;
}

/* ---- fills, copies, casts, elementwise ---------------------------------------------- */

static lam_status op_fill(lam_backend *be, lam_tensor *x, float value, lam_error *err) {
    if (!x || !x->data) return lam_error_set(err, LAM_ERR_SHAPE, "fill: tensor is missing");
    int64_t n = lam_tensor_numel(x);
    if (x->dtype == LAM_F32) {
        float *p = x->data;
#pragma omp parallel for num_threads(NTW(be, n)) schedule(static)
        for (int64_t i = 0; i < n; i++) p[i] = value;
    } else if (x->dtype == LAM_BF16) {
        uint16_t v = lam_f32_to_bf16(value), *p = x->data;
        for (int64_t i = 0; i < n; i++) p[i] = v;
    } else {
        int32_t v = (int32_t)value, *p = x->data;
        for (int64_t i = 0; i < n; i++) p[i] = v;
    }
    return LAM_OK;
}

static lam_status op_copy(lam_backend *be, lam_tensor *dst, const lam_tensor *src, lam_error *err) {
    if (!dst || !src || !dst->data || !src->data)
        return lam_error_set(err, LAM_ERR_SHAPE, "copy: tensor is missing");
    if (dst->dtype != src->dtype || lam_tensor_numel(dst) != lam_tensor_numel(src))
        return shapes_err(err, "copy", "dtype or element count differ", dst, src, NULL);
    memmove(dst->data, src->data, lam_tensor_bytes(src));
    return LAM_OK;
}

static lam_status op_cast(lam_backend *be, lam_tensor *dst, const lam_tensor *src, lam_error *err) {
    if (!dst || !src || !dst->data || !src->data)
        return lam_error_set(err, LAM_ERR_SHAPE, "cast: tensor is missing");
    int64_t n = lam_tensor_numel(src);
    if (lam_tensor_numel(dst) != n)
        return shapes_err(err, "cast", "element counts differ", dst, src, NULL);
    if (dst->dtype == src->dtype) return op_copy(be, dst, src, err);
    if (src->dtype == LAM_F32 && dst->dtype == LAM_BF16) {
        const float *s = src->data;
        uint16_t *d = dst->data;
#pragma omp parallel for num_threads(NTW(be, n)) schedule(static)
        for (int64_t i = 0; i < n; i++) d[i] = lam_f32_to_bf16(s[i]);
    } else if (src->dtype == LAM_BF16 && dst->dtype == LAM_F32) {
        const uint16_t *s = src->data;
        float *d = dst->data;
#pragma omp parallel for num_threads(NTW(be, n)) schedule(static)
        for (int64_t i = 0; i < n; i++) d[i] = lam_bf16_to_f32(s[i]);
    } else {
        return shapes_err(err, "cast", "only f32 <-> bf16 casts exist", dst, src, NULL);
    }
    return LAM_OK;
}

static lam_status op_scale(lam_backend *be, lam_tensor *x, float s, lam_error *err) {
    CHECK("scale", "x", x, LAM_F32);
    float *p = x->data;
    int64_t n = lam_tensor_numel(x);
#pragma omp parallel for num_threads(NTW(be, n)) schedule(static)
    for (int64_t i = 0; i < n; i++) p[i] *= s;
    return LAM_OK;
}

static lam_status op_add(lam_backend *be, lam_tensor *out, const lam_tensor *a, const lam_tensor *b,
                         lam_error *err) {
    CHECK("add", "out", out, LAM_F32);
    CHECK("add", "a", a, LAM_F32);
    CHECK("add", "b", b, LAM_F32);
    int64_t n = lam_tensor_numel(out);
    if (lam_tensor_numel(a) != n || lam_tensor_numel(b) != n)
        return shapes_err(err, "add", "element counts differ", out, a, b);
    float *o = out->data;
    const float *pa = a->data, *pb = b->data;
#pragma omp parallel for num_threads(NTW(be, n)) schedule(static)
    for (int64_t i = 0; i < n; i++) o[i] = pa[i] + pb[i];
    return LAM_OK;
}

/* ---- embedding ---------------------------------------------------------------------- */

static lam_status check_tokens(const char *op, const lam_tensor *tokens, int64_t n, int64_t V,
                               lam_error *err) {
    const int32_t *tok = tokens->data;
    for (int64_t i = 0; i < n; i++)
        if (tok[i] < 0 || tok[i] >= V)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "%s: token %d at position %lld is outside the vocabulary [0,%lld)",
                                 op, tok[i], (long long)i, (long long)V);
    return LAM_OK;
}

static lam_status op_embedding_fwd(lam_backend *be, lam_tensor *out, const lam_tensor *tokens,
                                   const lam_tensor *table, lam_error *err) {
    CHECK("embedding_fwd", "out", out, LAM_F32);
    CHECK("embedding_fwd", "tokens", tokens, LAM_I32);
    CHECK("embedding_fwd", "table", table, LAM_F32);
    int64_t N = lam_tensor_numel(tokens), D = last_dim(out), V = table->shape[0];
    if (table->ndim != 2 || table->shape[1] != D || n_rows(out) != N)
        return shapes_err(err, "embedding_fwd", "expected out (N,D), tokens (N), table (V,D)", out,
                          tokens, table);
    LAM_TRY(check_tokens("embedding_fwd", tokens, N, V, err));
    const int32_t *tok = tokens->data;
    const float *tab = table->data;
    float *o = out->data;
#pragma omp parallel for num_threads(NTW(be, N *D)) schedule(static)
    for (int64_t i = 0; i < N; i++) memcpy(o + i * D, tab + (int64_t)tok[i] * D, D * sizeof(float));
    return LAM_OK;
}

/* Splits [0, D) into column chunks of 64; each chunk's sum runs over rows in order, so the
 * result is the same for any thread count. */
#define COL_CHUNK 64

static lam_status op_embedding_bwd(lam_backend *be, lam_tensor *dtable, const lam_tensor *tokens,
                                   const lam_tensor *dout, lam_error *err) {
    CHECK("embedding_bwd", "dtable", dtable, LAM_F32);
    CHECK("embedding_bwd", "tokens", tokens, LAM_I32);
    CHECK("embedding_bwd", "dout", dout, LAM_F32);
    int64_t N = lam_tensor_numel(tokens), D = last_dim(dout), V = dtable->shape[0];
    if (dtable->ndim != 2 || dtable->shape[1] != D || n_rows(dout) != N)
        return shapes_err(err, "embedding_bwd", "expected dtable (V,D), tokens (N), dout (N,D)",
                          dtable, tokens, dout);
    LAM_TRY(check_tokens("embedding_bwd", tokens, N, V, err));
    const int32_t *tok = tokens->data;
    const float *g = dout->data;
    float *dt = dtable->data;
    int64_t n_chunks = (D + COL_CHUNK - 1) / COL_CHUNK;
#pragma omp parallel for num_threads(NTW(be, N *D)) schedule(static)
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t c0 = c * COL_CHUNK, c1 = c0 + COL_CHUNK < D ? c0 + COL_CHUNK : D;
        for (int64_t i = 0; i < N; i++) {
            float *row = dt + (int64_t)tok[i] * D;
            const float *gi = g + i * D;
            for (int64_t j = c0; j < c1; j++) row[j] += gi[j];
        }
    }
    return LAM_OK;
}

/* ---- RMSNorm ------------------------------------------------------------------------ */

static lam_status op_rmsnorm_fwd(lam_backend *be, lam_tensor *out, lam_tensor *rstd,
                                 const lam_tensor *x, const lam_tensor *w, float eps,
                                 lam_error *err) {
    CHECK("rmsnorm_fwd", "out", out, LAM_F32);
    CHECK("rmsnorm_fwd", "rstd", rstd, LAM_F32);
    CHECK("rmsnorm_fwd", "x", x, LAM_F32);
    CHECK("rmsnorm_fwd", "w", w, LAM_F32);
    int64_t D = last_dim(x), N = n_rows(x);
    if (lam_tensor_numel(out) != N * D || last_dim(out) != D || lam_tensor_numel(rstd) != N ||
        lam_tensor_numel(w) != D)
        return shapes_err4(err, "rmsnorm_fwd", "expected x and out (N,D), rstd (N), w (D)", x, out,
                           rstd, w);
    const float *px = x->data, *pw = w->data;
    float *po = out->data, *pr = rstd->data;
#pragma omp parallel for num_threads(NTW(be, N *D)) schedule(static)
    for (int64_t i = 0; i < N; i++) {
        const float *xi = px + i * D;
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (int64_t j = 0; j < D; j++) ss += xi[j] * xi[j];
        float r = 1.0f / sqrtf(ss / (float)D + eps);
        pr[i] = r;
        float *oi = po + i * D;
#pragma omp simd
        for (int64_t j = 0; j < D; j++) oi[j] = xi[j] * r * pw[j];
    }
    return LAM_OK;
}

static lam_status op_rmsnorm_bwd(lam_backend *be, lam_tensor *dx, lam_tensor *dw,
                                 const lam_tensor *dout, const lam_tensor *x, const lam_tensor *w,
                                 const lam_tensor *rstd, lam_error *err) {
    CHECK("rmsnorm_bwd", "dx", dx, LAM_F32);
    CHECK("rmsnorm_bwd", "dw", dw, LAM_F32);
    CHECK("rmsnorm_bwd", "dout", dout, LAM_F32);
    CHECK("rmsnorm_bwd", "x", x, LAM_F32);
    CHECK("rmsnorm_bwd", "w", w, LAM_F32);
    CHECK("rmsnorm_bwd", "rstd", rstd, LAM_F32);
    int64_t D = last_dim(x), N = n_rows(x);
    if (lam_tensor_numel(dx) != N * D || lam_tensor_numel(dout) != N * D ||
        lam_tensor_numel(rstd) != N || lam_tensor_numel(w) != D || lam_tensor_numel(dw) != D)
        return shapes_err4(err, "rmsnorm_bwd", "expected dx, dout, x (N,D), rstd (N), w, dw (D)",
                           dx, dout, rstd, dw);
    const float *px = x->data, *pw = w->data, *pg = dout->data, *pr = rstd->data;
    float *pdx = dx->data, *pdw = dw->data;
    int nt = NTW(be, N * D);
#pragma omp parallel num_threads(nt)
    {
#pragma omp for schedule(static)
        for (int64_t i = 0; i < N; i++) {
            const float *xi = px + i * D, *gi = pg + i * D;
            float r = pr[i], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int64_t j = 0; j < D; j++) dot += gi[j] * pw[j] * xi[j];
            float c = dot * r * r / (float)D;
            float *di = pdx + i * D;
#pragma omp simd
            for (int64_t j = 0; j < D; j++) di[j] += r * (gi[j] * pw[j] - xi[j] * c);
        }
        int64_t n_chunks = (D + COL_CHUNK - 1) / COL_CHUNK;
#pragma omp for schedule(static)
        for (int64_t c = 0; c < n_chunks; c++) {
            int64_t c0 = c * COL_CHUNK, c1 = c0 + COL_CHUNK < D ? c0 + COL_CHUNK : D;
            double acc[COL_CHUNK] = {0};
            for (int64_t i = 0; i < N; i++) {
                const float *xi = px + i * D, *gi = pg + i * D;
                float r = pr[i];
                for (int64_t j = c0; j < c1; j++) acc[j - c0] += (double)(gi[j] * xi[j] * r);
            }
            for (int64_t j = c0; j < c1; j++) pdw[j] += (float)acc[j - c0];
        }
    }
    return LAM_OK;
}

/* ---- matmul ------------------------------------------------------------------------- */

/* The results of OpenBLAS's sgemm depend on where an element falls in its register blocking
 * (on Haswell-class kernels rows 0-3, 4-7, 8-11 and 12+ of a call are summed differently) and
 * so on how its threads split the product. Two rules keep every result independent of the
 * thread count and, for the decode steps, of the batch:
 *  - a product with few rows against a transposed right operand (a decode step's x W^T) is
 *    computed here, each element one dot product with one fixed order of its sums, whatever
 *    its row or the number of rows (a sequence decodes the same alone or in any batch);
 *  - any other product is cut into fixed blocks of rows or columns, chosen from the shape
 *    alone, and each block is one single-threaded sgemm call; the blocks go to the threads. */
#define MATMUL_ROWS_MAX 64  /* rows up to which x W^T is the dot-product kernel */
#define MATMUL_BLOCKS   8   /* most blocks a product is cut into */
#define MATMUL_BLOCK    256 /* rows or columns per block (at least 2 blocks when worth threads) */
/* 8-float vectors of a row of c in one 4-row tile of rows_nn_acc: its 4 x NN_VECS accumulators
 * stay in the 32 vector registers of AVX-512, or the 16 of AVX2 */
#if defined(__AVX512F__)
#define NN_VECS 4
#else
#define NN_VECS 2
#endif

typedef float v8f __attribute__((vector_size(32)));
#if defined(__AVX__)
#include <immintrin.h>
#endif
/* fused where the build's CPU has FMA (LAM_NATIVE), the same everywhere in one build; S_MADD is
 * the same operation on one float, for the tails of the vector loops (C11 never fuses a * b + c
 * by itself) */
#if defined(__AVX__) && defined(__FMA__)
#define V8_MADD(acc, x, y) ((v8f)_mm256_fmadd_ps((__m256)(x), (__m256)(y), (__m256)(acc)))
#define S_MADD(acc, x, y)  fmaf((x), (y), (acc))
#else
#define V8_MADD(acc, x, y) ((acc) + (x) * (y))
#define S_MADD(acc, x, y)  ((acc) + (x) * (y))
#endif

/* out[i][j] = dot(a row i, b row j) for i < MR <= 3, j < NR <= 4, each with the same order of sums:
 * eight lanes over k in steps of 8, the lanes added pairwise, then the k tail in order. */
static inline __attribute__((always_inline)) void dot_tile(const float *a, int64_t lda,
                                                           const float *b, int64_t ldb, int64_t K,
                                                           int MR, int NR, float out[3][4]) {
    v8f acc[3][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = (v8f){0};
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        v8f x[3], y[4];
        for (int i = 0; i < MR; i++) memcpy(&x[i], a + i * lda + k, sizeof x[i]);
        for (int j = 0; j < NR; j++) memcpy(&y[j], b + j * ldb + k, sizeof y[j]);
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] = V8_MADD(acc[i][j], x[i], y[j]);
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            v8f v = acc[i][j];
            float s = ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
            for (int64_t t = k; t < K; t++) s += a[i * lda + t] * b[j * ldb + t];
            out[i][j] = s;
        }
}

/* c (M, N) = alpha a (M, K) b (N, K)^T + beta c, row-major with leading dims; beta 0 never
 * reads c. Threads split the columns; no sum depends on them. */
static void matmul_rows_nt(int64_t M, int64_t N, int64_t K, float alpha, const float *a,
                           int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                           int64_t ldc, int nt) {
    int64_t nb = (N + 3) / 4;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t jb = 0; jb < nb; jb++) {
        int64_t j = jb * 4;
        int nr = N - j >= 4 ? 4 : (int)(N - j);
        float out[3][4];
        for (int64_t i = 0; i < M; i += 3) {
            int mr = M - i >= 3 ? 3 : (int)(M - i);
            const float *ai = a + i * lda, *bj = b + j * ldb;
            if (nr == 4 && mr == 3)
                dot_tile(ai, lda, bj, ldb, K, 3, 4, out);
            else if (nr == 4 && mr == 2)
                dot_tile(ai, lda, bj, ldb, K, 2, 4, out);
            else if (nr == 4)
                dot_tile(ai, lda, bj, ldb, K, 1, 4, out);
            else
                for (int ii = 0; ii < mr; ii++)
                    for (int jj = 0; jj < nr; jj++) {
                        float one[3][4];
                        dot_tile(ai + ii * lda, lda, bj + jj * ldb, ldb, K, 1, 1, one);
                        out[ii][jj] = one[0][0];
                    }
            for (int ii = 0; ii < mr; ii++)
                for (int jj = 0; jj < nr; jj++) {
                    float *cij = c + (i + ii) * ldc + j + jj;
                    *cij = beta == 0.0f ? alpha * out[ii][jj] : alpha * out[ii][jj] + beta * *cij;
                }
        }
    }
}

/* Rows i..i+MR (MR <= 4) of c (M, N) += a (M, K) b (K, N): each element of c adds its K terms
 * in order of k, whatever MR, so a row's result does not depend on the rows beside it. */
static inline __attribute__((always_inline)) void rows_nn_acc_tile(int MR, int64_t N, int64_t K,
                                                                   const float *a, int64_t lda,
                                                                   const float *b, int64_t ldb,
                                                                   float *c, int64_t ldc) {
    int64_t j = 0;
    for (; j + 8 * NN_VECS <= N; j += 8 * NN_VECS) {
        v8f acc[4][NN_VECS];
        for (int i = 0; i < MR; i++)
            for (int u = 0; u < NN_VECS; u++)
                memcpy(&acc[i][u], c + i * ldc + j + 8 * u, sizeof(v8f));
        for (int64_t k = 0; k < K; k++) {
            v8f y[NN_VECS];
            for (int u = 0; u < NN_VECS; u++) memcpy(&y[u], b + k * ldb + j + 8 * u, sizeof(v8f));
            for (int i = 0; i < MR; i++) {
                float s = a[i * lda + k];
                v8f x = {s, s, s, s, s, s, s, s};
                for (int u = 0; u < NN_VECS; u++) acc[i][u] = V8_MADD(acc[i][u], x, y[u]);
            }
        }
        for (int i = 0; i < MR; i++)
            for (int u = 0; u < NN_VECS; u++)
                memcpy(c + i * ldc + j + 8 * u, &acc[i][u], sizeof(v8f));
    }
    for (; j + 8 <= N; j += 8) {
        v8f acc[4];
        for (int i = 0; i < MR; i++) memcpy(&acc[i], c + i * ldc + j, sizeof acc[i]);
        for (int64_t k = 0; k < K; k++) {
            v8f y;
            memcpy(&y, b + k * ldb + j, sizeof y);
            for (int i = 0; i < MR; i++) {
                float s = a[i * lda + k];
                v8f x = {s, s, s, s, s, s, s, s};
                acc[i] = V8_MADD(acc[i], x, y);
            }
        }
        for (int i = 0; i < MR; i++) memcpy(c + i * ldc + j, &acc[i], sizeof acc[i]);
    }
    for (; j < N; j++)
        for (int i = 0; i < MR; i++) {
            float s = c[i * ldc + j];
            for (int64_t k = 0; k < K; k++) s = S_MADD(s, a[i * lda + k], b[k * ldb + j]);
            c[i * ldc + j] = s;
        }
}

/* dst (d, j) = src (j, d) for j < n, d < hd: dst rows of ldd floats, src rows of lds; in 8x8
 * blocks of registers where AVX has them. */
static void transpose_keys(float *dst, int64_t ldd, const float *src, int64_t lds, int64_t n,
                           int64_t hd) {
    int64_t j0 = 0;
#if defined(__AVX__)
    for (; j0 + 8 <= n; j0 += 8) {
        int64_t d0 = 0;
        for (; d0 + 8 <= hd; d0 += 8) {
            __m256 r[8], t[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (j0 + i) * lds + d0);
            for (int i = 0; i < 8; i += 2) {
                t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
                t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
            }
            for (int i = 0; i < 8; i += 4) {
                r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
                r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
                r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
                r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
            }
            for (int i = 0; i < 4; i++) {
                t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
                t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
            }
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + (d0 + i) * ldd + j0, t[i]);
        }
        for (; d0 < hd; d0++)
            for (int i = 0; i < 8; i++) dst[d0 * ldd + j0 + i] = src[(j0 + i) * lds + d0];
    }
#endif
    for (; j0 < n; j0++)
        for (int64_t d = 0; d < hd; d++) dst[d * ldd + j0] = src[j0 * lds + d];
}

/* c (M, N) += a (M, K) b (K, N), row-major with leading dims, on the calling thread. */
static void rows_nn_acc(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float *c, int64_t ldc) {
    int64_t i = 0;
    for (; i + 4 <= M; i += 4)
        rows_nn_acc_tile(4, N, K, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
    if (M - i == 3) rows_nn_acc_tile(3, N, K, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
    if (M - i == 2) rows_nn_acc_tile(2, N, K, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
    if (M - i == 1) rows_nn_acc_tile(1, N, K, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
}

/* One product of op(a) (M, K) and op(b) (K, N) into c (M, N), all row-major: lda, ldb are the
 * row lengths of a and b as stored. */
static void matmul_one(int64_t M, int64_t N, int64_t K, int ta, int tb, float alpha, const float *a,
                       int64_t lda, const float *b, int64_t ldb, float beta, float *c, int nt) {
    if (!ta && tb && M <= MATMUL_ROWS_MAX) {
        int par = nt > 1 && 2.0 * (double)M * (double)N * (double)K >= MATMUL_PAR_MIN;
        matmul_rows_nt(M, N, K, alpha, a, lda, b, ldb, beta, c, N, par ? nt : 1);
        return;
    }
    /* fixed blocks: along M (each block packs all of op(b) again) or along N (all of op(a)
     * again), whichever packs less; their number from the shape alone */
    int by_rows = N <= M;
    int64_t D = by_rows ? M : N;
    int64_t nblk = D / MATMUL_BLOCK;
    if (nblk > MATMUL_BLOCKS) nblk = MATMUL_BLOCKS;
    if (nblk < 2) nblk = D >= 64 ? 2 : 1;
    if (2.0 * (double)M * (double)N * (double)K < MATMUL_PAR_MIN) nblk = 1;
    int64_t bs = (D + nblk - 1) / nblk;
    CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    openblas_set_num_threads(1);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1 && nblk > 1)
    for (int64_t blk = 0; blk < nblk; blk++) {
        int64_t d0 = blk * bs, d1 = d0 + bs < D ? d0 + bs : D;
        if (d1 <= d0) continue;
        if (by_rows) /* rows d0..d1 of c: rows of a, or its columns when transposed */
            cblas_sgemm(CblasRowMajor, TA, TB, (int)(d1 - d0), (int)N, (int)K, alpha,
                        a + (ta ? d0 : d0 * lda), (int)lda, b, (int)ldb, beta, c + d0 * N, (int)N);
        else /* columns d0..d1 of c: columns of b, or its rows when transposed */
            cblas_sgemm(CblasRowMajor, TA, TB, (int)M, (int)(d1 - d0), (int)K, alpha, a, (int)lda,
                        b + (tb ? d0 * ldb : d0), (int)ldb, beta, c + d0, (int)N);
    }
    openblas_set_num_threads(nt);
}

static lam_status op_matmul(lam_backend *be, lam_tensor *c, const lam_tensor *a,
                            const lam_tensor *b, int trans_a, int trans_b, float alpha, float beta,
                            lam_error *err) {
    CHECK("matmul", "c", c, LAM_F32);
    CHECK("matmul", "a", a, LAM_F32);
    CHECK("matmul", "b", b, LAM_F32);
    int nd = a->ndim;
    if ((nd != 2 && nd != 3) || b->ndim != nd || c->ndim != nd ||
        (nd == 3 && (b->shape[0] != a->shape[0] || c->shape[0] != a->shape[0])))
        return shapes_err(err, "matmul", "expected 2-D operands or 3-D with one batch size", c, a,
                          b);
    int o = nd - 2;
    int64_t M = trans_a ? a->shape[o + 1] : a->shape[o];
    int64_t K = trans_a ? a->shape[o] : a->shape[o + 1];
    int64_t K2 = trans_b ? b->shape[o + 1] : b->shape[o];
    int64_t N = trans_b ? b->shape[o] : b->shape[o + 1];
    if (K != K2 || c->shape[o] != M || c->shape[o + 1] != N) {
        char why[96];
        snprintf(why, sizeof why, "op(a) is %lldx%lld, op(b) is %lldx%lld%s%s", (long long)M,
                 (long long)K, (long long)K2, (long long)N, trans_a ? ", trans_a" : "",
                 trans_b ? ", trans_b" : "");
        return shapes_err(err, "matmul", why, c, a, b);
    }
    int64_t batch = nd == 3 ? a->shape[0] : 1;
    int64_t sa = M * K, sb = K * N, sc = M * N;
    for (int64_t i = 0; i < batch; i++)
        matmul_one(M, N, K, trans_a, trans_b, alpha, (const float *)a->data + i * sa,
                   a->shape[o + 1], (const float *)b->data + i * sb, b->shape[o + 1], beta,
                   (float *)c->data + i * sc, NT(be));
    return LAM_OK;
}

/* ---- RoPE --------------------------------------------------------------------------- */

#define MAX_HEAD_DIM 1024

static lam_status op_rope(lam_backend *be, lam_tensor *x, int n_heads, int head_dim, int pos0,
                          float theta, int inverse, lam_error *err) {
    CHECK("rope", "x", x, LAM_F32);
    if (x->ndim != 3 || head_dim <= 0 || head_dim % 2 || head_dim > MAX_HEAD_DIM || n_heads <= 0 ||
        (int64_t)n_heads * head_dim > x->shape[2] || pos0 < 0 || !(theta > 0))
        return lam_error_set(err, LAM_ERR_SHAPE,
                             "rope: x must be (B,T,C) with n_heads*head_dim <= C, head_dim even "
                             "and <= %d (got %d heads of %d, C=%lld, pos0=%d, theta=%g)",
                             MAX_HEAD_DIM, n_heads, head_dim,
                             (long long)(x->ndim == 3 ? x->shape[2] : -1), pos0, theta);
    int64_t B = x->shape[0], T = x->shape[1], C = x->shape[2];
    int half = head_dim / 2;
    float sign = inverse ? -1.0f : 1.0f;
    float *px = x->data;
    /* one position at a time: its angles are computed once for all B rows and all heads */
#pragma omp parallel for num_threads(NTW(be, B *T *C)) schedule(static)
    for (int64_t t = 0; t < T; t++) {
        float cs[MAX_HEAD_DIM / 2], sn[MAX_HEAD_DIM / 2];
        float pos = (float)(pos0 + t);
        for (int i = 0; i < half; i++) {
            float inv_freq = 1.0f / powf(theta, (float)(2 * i) / (float)head_dim);
            float ang = pos * inv_freq;
            cs[i] = cosf(ang);
            sn[i] = sign * sinf(ang);
        }
        for (int64_t b = 0; b < B; b++) {
            float *row = px + (b * T + t) * C;
            for (int h = 0; h < n_heads; h++) {
                float *v = row + (int64_t)h * head_dim;
#pragma omp simd
                for (int i = 0; i < half; i++) {
                    float a = v[i], c = v[i + half];
                    v[i] = a * cs[i] - c * sn[i];
                    v[i + half] = c * cs[i] + a * sn[i];
                }
            }
        }
    }
    return LAM_OK;
}

/* ---- attention ---------------------------------------------------------------------- */

static lam_status check_attention(const char *op, const lam_tensor *qkv, const lam_tensor *o,
                                  const lam_tensor *probs, int H, int KV, lam_error *err) {
    if (qkv->ndim != 3 || H <= 0 || KV <= 0 || H % KV)
        return lam_error_set(err, LAM_ERR_SHAPE,
                             "%s: qkv must be (B,T,(H+2KV)*hd) with KV dividing H (H=%d, KV=%d)",
                             op, H, KV);
    int64_t B = qkv->shape[0], T = qkv->shape[1], C3 = qkv->shape[2];
    if (C3 % (H + 2 * KV))
        return shapes_err(err, op, "qkv width is not a multiple of H+2KV", qkv, NULL, NULL);
    int64_t hd = C3 / (H + 2 * KV);
    if (o->ndim != 3 || o->shape[0] != B || o->shape[1] != T || o->shape[2] != H * hd)
        return shapes_err(err, op, "out must be (B,T,H*hd)", o, qkv, NULL);
    if (probs->ndim != 4 || probs->shape[0] != B || probs->shape[1] != H || probs->shape[2] != T ||
        probs->shape[3] != T)
        return shapes_err(err, op, "probs must be (B,H,T,T)", probs, qkv, NULL);
    return LAM_OK;
}

/* seg (B,T) i32 or NULL: key ranges of packed sequences (backend.h); checks its values. */
static lam_status check_seg(const char *op, const lam_tensor *seg, int64_t B, int64_t T,
                            lam_error *err) {
    if (!seg) return LAM_OK;
    CHECK(op, "seg", seg, LAM_I32);
    if (seg->ndim != 2 || seg->shape[0] != B || seg->shape[1] != T)
        return lam_error_set(err, LAM_ERR_SHAPE, "%s: seg must be (B,T) = (%lld,%lld)", op,
                             (long long)B, (long long)T);
    const int32_t *s = seg->data;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            int32_t v = s[b * T + t];
            if (v < 0 || v > t || (t > 0 && v < s[b * T + t - 1]))
                return lam_error_set(err, LAM_ERR_INVALID,
                                     "%s: seg[%lld,%lld]=%d; it must be in [0,%lld] and not below "
                                     "seg[%lld,%lld]",
                                     op, (long long)b, (long long)t, v, (long long)t, (long long)b,
                                     (long long)(t > 0 ? t - 1 : 0));
        }
    return LAM_OK;
}

/* First key of row i (s: the batch's seg row, or NULL). */
static inline int64_t seg_at(const int32_t *s, int64_t i) {
    return s ? s[i] : 0;
}

/* Rows [j0, hi) are those that see some key below j1 (seg nondecreasing: a prefix). */
static inline int64_t seg_rows_below(const int32_t *s, int64_t T, int64_t j1) {
    if (!s) return T;
    int64_t lo = j1, hi = T; /* rows < j1 always qualify; find the first row with seg >= j1 */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (s[mid] >= j1)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static lam_status op_attention_fwd(lam_backend *be, lam_tensor *out, lam_tensor *probs,
                                   const lam_tensor *qkv, const lam_tensor *seg, int H, int KV,
                                   lam_error *err) {
    CHECK("attention_fwd", "out", out, LAM_F32);
    CHECK("attention_fwd", "probs", probs, LAM_F32);
    CHECK("attention_fwd", "qkv", qkv, LAM_F32);
    LAM_TRY(check_attention("attention_fwd", qkv, out, probs, H, KV, err));
    int64_t B = qkv->shape[0], T = qkv->shape[1], C3 = qkv->shape[2];
    LAM_TRY(check_seg("attention_fwd", seg, B, T, err));
    int64_t hd = C3 / (H + 2 * KV), HD = H * hd, group = H / KV;
    float scale = 1.0f / sqrtf((float)hd);
    const float *pqkv = qkv->data;
    const int32_t *pseg = seg ? seg->data : NULL;
    float *pp = probs->data, *po = out->data;
#pragma omp parallel for num_threads(NTW(be, B *H *T *T)) schedule(dynamic, 1)
    for (int64_t bh = 0; bh < B * H; bh++) {
        int64_t b = bh / H, h = bh % H, g = h / group;
        const float *q = pqkv + b * T * C3 + h * hd;
        const float *k = pqkv + b * T * C3 + (H + g) * hd;
        const float *v = pqkv + b * T * C3 + (H + KV + g) * hd;
        const int32_t *sg = pseg ? pseg + b * T : NULL;
        float *P = pp + bh * T * T;
        float *o = po + b * T * HD + h * hd;
        for (int64_t i0 = 0; i0 < T; i0 += ATT_BLOCK) {
            int64_t i1 = i0 + ATT_BLOCK < T ? i0 + ATT_BLOCK : T;
            int64_t lo = seg_at(sg, i0); /* the block's first key (seg is nondecreasing) */
            /* S[i0:i1, lo:i1] = scale * Q[i0:i1] K[lo:i1]^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(i1 - i0), (int)(i1 - lo),
                        (int)hd, scale, q + i0 * C3, (int)C3, k + lo * C3, (int)C3, 0.0f,
                        P + i0 * T + lo, (int)T);
            for (int64_t i = i0; i < i1; i++) {
                float *row = P + i * T;
                int64_t s0 = seg_at(sg, i);
                float mx = -INFINITY;
                for (int64_t j = s0; j <= i; j++) mx = row[j] > mx ? row[j] : mx;
                float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
                for (int64_t j = s0; j <= i; j++) {
                    float e = fast_expf(row[j] - mx);
                    row[j] = e;
                    sum += e;
                }
                float inv = 1.0f / sum;
#pragma omp simd
                for (int64_t j = s0; j <= i; j++) row[j] *= inv;
                for (int64_t j = 0; j < s0; j++) row[j] = 0.0f;
                for (int64_t j = i + 1; j < T; j++) row[j] = 0.0f;
            }
            /* O[i0:i1] = P[i0:i1, lo:i1] V[lo:i1] */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(i1 - i0), (int)hd,
                        (int)(i1 - lo), 1.0f, P + i0 * T + lo, (int)T, v + lo * C3, (int)C3, 0.0f,
                        o + i0 * HD, (int)HD);
        }
    }
    return LAM_OK;
}

static lam_status op_attention_bwd(lam_backend *be, lam_tensor *dqkv, const lam_tensor *dout,
                                   const lam_tensor *qkv, const lam_tensor *seg, lam_tensor *probs,
                                   lam_tensor *scratch, int H, int KV, lam_error *err) {
    CHECK("attention_bwd", "dqkv", dqkv, LAM_F32);
    CHECK("attention_bwd", "dout", dout, LAM_F32);
    CHECK("attention_bwd", "qkv", qkv, LAM_F32);
    CHECK("attention_bwd", "probs", probs, LAM_F32);
    CHECK("attention_bwd", "scratch", scratch, LAM_F32);
    LAM_TRY(check_attention("attention_bwd", qkv, dout, probs, H, KV, err));
    if (lam_tensor_numel(dqkv) != lam_tensor_numel(qkv) || dqkv->ndim != 3 ||
        dqkv->shape[2] != qkv->shape[2])
        return shapes_err(err, "attention_bwd", "dqkv must have the shape of qkv", dqkv, qkv, NULL);
    if (lam_tensor_numel(scratch) < lam_tensor_numel(probs))
        return shapes_err(err, "attention_bwd", "scratch must be as large as probs (B,H,T,T)",
                          scratch, probs, NULL);
    int64_t B = qkv->shape[0], T = qkv->shape[1], C3 = qkv->shape[2];
    LAM_TRY(check_seg("attention_bwd", seg, B, T, err));
    int64_t hd = C3 / (H + 2 * KV), HD = H * hd, group = H / KV;
    float scale = 1.0f / sqrtf((float)hd);
    const float *pqkv = qkv->data, *pdo = dout->data;
    const int32_t *pseg = seg ? seg->data : NULL;
    float *pp = probs->data, *ps = scratch->data, *pdq = dqkv->data;
    /* one task per (b, kv head): dK and dV of a group are summed over its query heads in
     * order, so no two threads write the same gradient */
#pragma omp parallel for num_threads(NTW(be, B *KV *T *T)) schedule(dynamic, 1)
    for (int64_t bg = 0; bg < B * KV; bg++) {
        int64_t b = bg / KV, g = bg % KV;
        const float *k = pqkv + b * T * C3 + (H + g) * hd;
        const float *v = pqkv + b * T * C3 + (H + KV + g) * hd;
        const int32_t *sg = pseg ? pseg + b * T : NULL;
        float *dk = pdq + b * T * C3 + (H + g) * hd;
        float *dv = pdq + b * T * C3 + (H + KV + g) * hd;
        for (int64_t t = 0; t < T; t++) {
            memset(dk + t * C3, 0, hd * sizeof(float));
            memset(dv + t * C3, 0, hd * sizeof(float));
        }
        for (int64_t h = g * group; h < (g + 1) * group; h++) {
            const float *q = pqkv + b * T * C3 + h * hd;
            const float *dO = pdo + b * T * HD + h * hd;
            float *dq = pdq + b * T * C3 + h * hd;
            float *P = pp + (b * H + h) * T * T, *dP = ps + (b * H + h) * T * T;
            for (int64_t j0 = 0; j0 < T; j0 += ATT_BLOCK) {
                int64_t j1 = j0 + ATT_BLOCK < T ? j0 + ATT_BLOCK : T;
                int64_t hi = seg_rows_below(sg, T, j1);
                /* dV[j0:j1] += P[j0:hi, j0:j1]^T dO[j0:hi] */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(j1 - j0), (int)hd,
                            (int)(hi - j0), 1.0f, P + j0 * T + j0, (int)T, dO + j0 * HD, (int)HD,
                            1.0f, dv + j0 * C3, (int)C3);
            }
            for (int64_t i0 = 0; i0 < T; i0 += ATT_BLOCK) {
                int64_t i1 = i0 + ATT_BLOCK < T ? i0 + ATT_BLOCK : T;
                int64_t lo = seg_at(sg, i0);
                /* dP[i0:i1, lo:i1] = dO[i0:i1] V[lo:i1]^T */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(i1 - i0), (int)(i1 - lo),
                            (int)hd, 1.0f, dO + i0 * HD, (int)HD, v + lo * C3, (int)C3, 0.0f,
                            dP + i0 * T + lo, (int)T);
                /* dS = P * (dP - rowsum(P * dP)) over each row's keys, written over P (zero
                 * elsewhere already) */
                for (int64_t i = i0; i < i1; i++) {
                    float *pr = P + i * T, *dpr = dP + i * T;
                    int64_t s0 = seg_at(sg, i);
                    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                    for (int64_t j = s0; j <= i; j++) dot += pr[j] * dpr[j];
#pragma omp simd
                    for (int64_t j = s0; j <= i; j++) pr[j] = pr[j] * (dpr[j] - dot);
                }
                /* dQ[i0:i1] = scale * dS[i0:i1, lo:i1] K[lo:i1] */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(i1 - i0), (int)hd,
                            (int)(i1 - lo), scale, P + i0 * T + lo, (int)T, k + lo * C3, (int)C3,
                            0.0f, dq + i0 * C3, (int)C3);
            }
            for (int64_t j0 = 0; j0 < T; j0 += ATT_BLOCK) {
                int64_t j1 = j0 + ATT_BLOCK < T ? j0 + ATT_BLOCK : T;
                int64_t hi = seg_rows_below(sg, T, j1);
                /* dK[j0:j1] += scale * dS[j0:hi, j0:j1]^T Q[j0:hi] */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(j1 - j0), (int)hd,
                            (int)(hi - j0), scale, P + j0 * T + j0, (int)T, q + j0 * C3, (int)C3,
                            1.0f, dk + j0 * C3, (int)C3);
            }
        }
    }
    return LAM_OK;
}

#define ATT_DEC_ROWS    24   /* (query, head) rows of one task of the cache attention */
#define ATT_DEC_KEYS    64   /* keys scored together, one online-softmax step */
#define ATT_DEC_SCRATCH 3072 /* floats of queries (and of accumulators) one task keeps */
#define ATT_DEC_KT      4096 /* floats of a key chunk, transposed (64 keys up to hd 64) */

static lam_status op_attention_decode(lam_backend *be, lam_tensor *out, const lam_tensor *q,
                                      const lam_tensor *k_cache, const lam_tensor *v_cache,
                                      const lam_tensor *lens, int H, int KV, lam_error *err) {
    CHECK("attention_decode", "out", out, LAM_F32);
    CHECK("attention_decode", "q", q, LAM_F32);
    CHECK("attention_decode", "k_cache", k_cache, LAM_F32);
    CHECK("attention_decode", "v_cache", v_cache, LAM_F32);
    CHECK("attention_decode", "lens", lens, LAM_I32);
    int qd = q->ndim; /* 2: (B,H*hd), one query each; 3: (B,Tq,H*hd) */
    if (H <= 0 || KV <= 0 || H % KV || (qd != 2 && qd != 3) || q->shape[qd - 1] % H ||
        k_cache->ndim != 3)
        return shapes_err(err, "attention_decode",
                          "expected q (B,H*hd) or (B,Tq,H*hd), caches (B,S,KV*hd), KV dividing H",
                          q, k_cache, NULL);
    int64_t B = q->shape[0], Tq = qd == 3 ? q->shape[1] : 1, hd = q->shape[qd - 1] / H;
    int64_t S = k_cache->shape[1];
    int out_ok = out->ndim == qd && out->shape[0] == B && out->shape[qd - 1] == H * hd &&
                 (qd == 2 || out->shape[1] == Tq);
    if (hd > MAX_HEAD_DIM || !out_ok || k_cache->shape[0] != B || k_cache->shape[2] != KV * hd ||
        v_cache->ndim != 3 || v_cache->shape[0] != B || v_cache->shape[1] != S ||
        v_cache->shape[2] != KV * hd || lam_tensor_numel(lens) != B)
        return shapes_err4(err, "attention_decode",
                           "expected out and q (B,[Tq,]H*hd), k_cache and v_cache (B,S,KV*hd), "
                           "lens (B)",
                           q, k_cache, v_cache, lens);
    const int32_t *pl = lens->data;
    for (int64_t b = 0; b < B; b++)
        if (pl[b] < Tq || pl[b] > S)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "attention_decode: lens[%lld]=%d outside [%lld,%lld] (Tq=%lld)",
                                 (long long)b, pl[b], (long long)Tq, (long long)S, (long long)Tq);
    /* A task is up to ATT_DEC_ROWS rows (query t, head h) of one sequence and one KV group,
     * which share its keys: per chunk of keys (transposed once), the scores are a small product
     * Q K^T, each row's online softmax is updated, and P V is added to the rows' accumulators.
     * Every sum runs in order (over hd, over the keys) and does not depend on the rows beside
     * it; keys past a row's causal end get probability 0 exactly. */
    int64_t group = H / KV, KVD = KV * hd, R = Tq * group;
    /* rows a task: >= 3, since hd <= MAX_HEAD_DIM */
    int64_t rb = ATT_DEC_SCRATCH / hd < ATT_DEC_ROWS ? ATT_DEC_SCRATCH / hd : ATT_DEC_ROWS;
    int64_t nrb = (R + rb - 1) / rb;
    int64_t kc = ATT_DEC_KT / hd < ATT_DEC_KEYS ? ATT_DEC_KT / hd : ATT_DEC_KEYS; /* >= 4 */
    float scale = 1.0f / sqrtf((float)hd);
    const float *pq = q->data, *pk = k_cache->data, *pv = v_cache->data;
    float *po = out->data;
#pragma omp parallel for num_threads(NTW(be, B *Tq *H *S *hd)) schedule(dynamic, 1)
    for (int64_t task = 0; task < B * KV * nrb; task++) {
        int64_t b = task / (KV * nrb), g = task / nrb % KV, r0 = task % nrb * rb;
        int64_t nr = R - r0 < rb ? R - r0 : rb;
        float qs[ATT_DEC_SCRATCH];             /* (nr, hd): the task's query rows */
        float acc[ATT_DEC_SCRATCH];            /* (nr, hd): their P V, unnormalized */
        float sc[ATT_DEC_ROWS * ATT_DEC_KEYS]; /* (nr, ATT_DEC_KEYS): scores, then P */
        float kt[ATT_DEC_KT];                  /* (hd, kc): the chunk's keys as columns */
        float mx[ATT_DEC_ROWS], sum[ATT_DEC_ROWS];
        int64_t nk[ATT_DEC_ROWS], kmax = 0;
        for (int64_t i = 0; i < nr; i++) {
            int64_t t = (r0 + i) / group, h = g * group + (r0 + i) % group;
            memcpy(qs + i * hd, pq + (b * Tq + t) * H * hd + h * hd, (size_t)hd * sizeof(float));
            memset(acc + i * hd, 0, (size_t)hd * sizeof(float));
            nk[i] = pl[b] - Tq + t + 1; /* keys [0, nk): the causal prefix */
            kmax = nk[i] > kmax ? nk[i] : kmax;
            mx[i] = -INFINITY, sum[i] = 0.0f;
        }
        const float *kb = pk + b * S * KVD + g * hd, *vb = pv + b * S * KVD + g * hd;
        for (int64_t j0 = 0; j0 < kmax; j0 += kc) {
            int64_t n = kmax - j0 < kc ? kmax - j0 : kc;
            /* the next chunk's keys and values, while this one is computed: the caches of a
             * batch's decode step are tens of megabytes, read once per step */
            for (int64_t j = j0 + kc; j < j0 + 2 * kc && j < kmax; j++)
                for (int64_t d = 0; d < hd; d += 16) {
                    __builtin_prefetch(kb + j * KVD + d, 0, 0);
                    __builtin_prefetch(vb + j * KVD + d, 0, 0);
                }
            transpose_keys(kt, kc, kb + j0 * KVD, KVD, n, hd);
            for (int64_t i = 0; i < nr; i++) memset(sc + i * ATT_DEC_KEYS, 0, (size_t)n * 4);
            rows_nn_acc(nr, n, hd, qs, hd, kt, kc, sc, ATT_DEC_KEYS);
            for (int64_t i = 0; i < nr; i++) {
                float *si = sc + i * ATT_DEC_KEYS, *ai = acc + i * hd, cmx = -INFINITY;
                int64_t valid = nk[i] - j0 < n ? nk[i] - j0 : n;
                valid = valid > 0 ? valid : 0;
                for (int64_t j = 0; j < valid; j++) {
                    si[j] *= scale;
                    cmx = si[j] > cmx ? si[j] : cmx;
                }
                if (cmx > mx[i]) { /* rescale what was accumulated under the old maximum */
                    float c = fast_expf(mx[i] - cmx);
                    sum[i] *= c;
#pragma omp simd
                    for (int64_t d = 0; d < hd; d++) ai[d] *= c;
                    mx[i] = cmx;
                }
                for (int64_t j = 0; j < valid; j++) {
                    si[j] = fast_expf(si[j] - mx[i]);
                    sum[i] += si[j];
                }
                for (int64_t j = valid; j < n; j++) si[j] = 0.0f;
            }
            rows_nn_acc(nr, hd, n, sc, ATT_DEC_KEYS, vb + j0 * KVD, KVD, acc, hd);
        }
        for (int64_t i = 0; i < nr; i++) {
            int64_t t = (r0 + i) / group, h = g * group + (r0 + i) % group;
            float *o = po + (b * Tq + t) * H * hd + h * hd, inv = 1.0f / sum[i];
            for (int64_t d = 0; d < hd; d++) o[d] = acc[i * hd + d] * inv;
        }
    }
    return LAM_OK;
}

/* ---- SwiGLU ------------------------------------------------------------------------- */

static lam_status check_swiglu(const char *op, const lam_tensor *h, const lam_tensor *gu,
                               lam_error *err) {
    int64_t F = last_dim(h), N = n_rows(h);
    if (last_dim(gu) != 2 * F || n_rows(gu) != N)
        return shapes_err(err, op, "expected h (N,F) and gu (N,2F)", h, gu, NULL);
    return LAM_OK;
}

static lam_status op_swiglu_fwd(lam_backend *be, lam_tensor *h, const lam_tensor *gu,
                                lam_error *err) {
    CHECK("swiglu_fwd", "h", h, LAM_F32);
    CHECK("swiglu_fwd", "gu", gu, LAM_F32);
    LAM_TRY(check_swiglu("swiglu_fwd", h, gu, err));
    int64_t F = last_dim(h), N = n_rows(h);
    const float *pgu = gu->data;
    float *ph = h->data;
#pragma omp parallel for num_threads(NTW(be, N *F)) schedule(static)
    for (int64_t i = 0; i < N; i++) {
        const float *g = pgu + i * 2 * F, *u = g + F;
        float *hi = ph + i * F;
#pragma omp simd
        for (int64_t j = 0; j < F; j++) hi[j] = g[j] / (1.0f + fast_expf(-g[j])) * u[j];
    }
    return LAM_OK;
}

static lam_status op_swiglu_bwd(lam_backend *be, lam_tensor *dgu, const lam_tensor *dh,
                                const lam_tensor *gu, lam_error *err) {
    CHECK("swiglu_bwd", "dgu", dgu, LAM_F32);
    CHECK("swiglu_bwd", "dh", dh, LAM_F32);
    CHECK("swiglu_bwd", "gu", gu, LAM_F32);
    LAM_TRY(check_swiglu("swiglu_bwd", dh, gu, err));
    if (lam_tensor_numel(dgu) != lam_tensor_numel(gu))
        return shapes_err(err, "swiglu_bwd", "dgu must have the shape of gu", dgu, gu, NULL);
    int64_t F = last_dim(dh), N = n_rows(dh);
    const float *pgu = gu->data, *pdh = dh->data;
    float *pd = dgu->data;
#pragma omp parallel for num_threads(NTW(be, N *F)) schedule(static)
    for (int64_t i = 0; i < N; i++) {
        const float *g = pgu + i * 2 * F, *u = g + F, *d = pdh + i * F;
        float *dg = pd + i * 2 * F, *du = dg + F;
#pragma omp simd
        for (int64_t j = 0; j < F; j++) {
            float sig = 1.0f / (1.0f + fast_expf(-g[j]));
            float silu = g[j] * sig;
            dg[j] = d[j] * u[j] * sig * (1.0f + g[j] * (1.0f - sig));
            du[j] = d[j] * silu;
        }
    }
    return LAM_OK;
}

/* ---- cross-entropy ------------------------------------------------------------------ */

static lam_status op_cross_entropy(lam_backend *be, lam_tensor *losses, lam_tensor *dlogits,
                                   const lam_tensor *logits, const lam_tensor *targets,
                                   const lam_tensor *mask, float grad_scale, lam_error *err) {
    CHECK("cross_entropy", "losses", losses, LAM_F32);
    CHECK("cross_entropy", "logits", logits, LAM_F32);
    CHECK("cross_entropy", "targets", targets, LAM_I32);
    CHECK("cross_entropy", "mask", mask, LAM_F32);
    if (dlogits) CHECK("cross_entropy", "dlogits", dlogits, LAM_F32);
    int64_t V = last_dim(logits), N = n_rows(logits);
    if (lam_tensor_numel(losses) != N || lam_tensor_numel(targets) != N ||
        lam_tensor_numel(mask) != N || (dlogits && lam_tensor_numel(dlogits) != N * V))
        return shapes_err(err, "cross_entropy",
                          "expected logits and dlogits (N,V), losses, targets and mask (N)", logits,
                          targets, mask);
    const int32_t *pt = targets->data;
    const float *pm = mask->data;
    for (int64_t i = 0; i < N; i++)
        if (pm[i] != 0.0f && (pt[i] < 0 || pt[i] >= V))
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "cross_entropy: target %d at row %lld is outside [0,%lld)", pt[i],
                                 (long long)i, (long long)V);
    const float *px = logits->data;
    float *pl = losses->data, *pd = dlogits ? dlogits->data : NULL;
#pragma omp parallel for num_threads(NTW(be, N *V)) schedule(static)
    for (int64_t i = 0; i < N; i++) {
        const float *x = px + i * V;
        float *d = pd ? pd + i * V : NULL;
        float m = pm[i];
        if (m == 0.0f) {
            pl[i] = 0.0f;
            if (d) memset(d, 0, V * sizeof(float));
            continue;
        }
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (int64_t j = 0; j < V; j++) mx = x[j] > mx ? x[j] : mx;
        float xt = x[pt[i]], sum = 0.0f;
        if (d) {
#pragma omp simd reduction(+ : sum)
            for (int64_t j = 0; j < V; j++) {
                float e = fast_expf(x[j] - mx);
                d[j] = e;
                sum += e;
            }
            float s = grad_scale * m / sum;
#pragma omp simd
            for (int64_t j = 0; j < V; j++) d[j] *= s;
            d[pt[i]] -= grad_scale * m;
        } else {
#pragma omp simd reduction(+ : sum)
            for (int64_t j = 0; j < V; j++) sum += fast_expf(x[j] - mx);
        }
        pl[i] = logf(sum) + mx - xt;
    }
    return LAM_OK;
}

/* ---- reductions and the optimizer --------------------------------------------------- */

#define SUMSQ_MAX_CHUNKS 1024

static lam_status op_sum_squares(lam_backend *be, lam_tensor *out, const lam_tensor *x,
                                 lam_error *err) {
    CHECK("sum_squares", "out", out, LAM_F32);
    CHECK("sum_squares", "x", x, LAM_F32);
    int64_t n = lam_tensor_numel(x);
    /* chunk size depends on n only, so the summation order is fixed */
    int64_t chunk = (n + SUMSQ_MAX_CHUNKS - 1) / SUMSQ_MAX_CHUNKS;
    if (chunk < 4096) chunk = 4096;
    int64_t n_chunks = (n + chunk - 1) / chunk;
    double part[SUMSQ_MAX_CHUNKS];
    const float *p = x->data;
#pragma omp parallel for num_threads(NTW(be, n)) schedule(static)
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t i0 = c * chunk, i1 = i0 + chunk < n ? i0 + chunk : n;
        double s = 0.0;
        for (int64_t i = i0; i < i1; i++) s += (double)p[i] * (double)p[i];
        part[c] = s;
    }
    double total = 0.0;
    for (int64_t c = 0; c < n_chunks; c++) total += part[c];
    *(float *)out->data = (float)total;
    return LAM_OK;
}

static lam_status op_adamw(lam_backend *be, lam_tensor *params, const lam_tensor *grads,
                           lam_tensor *m, lam_tensor *v, const lam_param_segment *seg, int n_seg,
                           const lam_adamw_hp *hp, lam_error *err) {
    CHECK("adamw", "params", params, LAM_F32);
    CHECK("adamw", "grads", grads, LAM_F32);
    CHECK("adamw", "m", m, LAM_F32);
    CHECK("adamw", "v", v, LAM_F32);
    int64_t P = lam_tensor_numel(params);
    if (lam_tensor_numel(grads) != P || lam_tensor_numel(m) != P || lam_tensor_numel(v) != P)
        return shapes_err(err, "adamw", "params, grads, m and v must have one size", params, grads,
                          m);
    if (hp->step < 1 || !(hp->lr >= 0) || !(hp->beta1 >= 0 && hp->beta1 < 1) ||
        !(hp->beta2 >= 0 && hp->beta2 < 1) || !(hp->eps > 0))
        return lam_error_set(err, LAM_ERR_INVALID,
                             "adamw: bad hyperparameters (step %lld, lr %g, betas %g %g, eps %g)",
                             (long long)hp->step, hp->lr, hp->beta1, hp->beta2, hp->eps);
    for (int s = 0; s < n_seg; s++)
        if (seg[s].offset < 0 || seg[s].count < 0 || seg[s].offset + seg[s].count > P)
            return lam_error_set(err, LAM_ERR_SHAPE,
                                 "adamw: segment %d [%lld,+%lld) is outside the %lld parameters", s,
                                 (long long)seg[s].offset, (long long)seg[s].count, (long long)P);
    /* the formula of torch.optim.AdamW (single-tensor form) */
    double bc1 = 1.0 - pow(hp->beta1, (double)hp->step);
    double bc2 = 1.0 - pow(hp->beta2, (double)hp->step);
    float step_size = (float)(hp->lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    float b1 = hp->beta1, b2 = hp->beta2, eps = hp->eps, gs = hp->grad_scale;
    float *pp = params->data, *pm = m->data, *pv = v->data;
    const float *pg = grads->data;
    for (int s = 0; s < n_seg; s++) {
        float decay = seg[s].decay ? 1.0f - hp->lr * hp->weight_decay : 1.0f;
        int64_t i0 = seg[s].offset, i1 = i0 + seg[s].count;
#pragma omp parallel for simd num_threads(NTW(be, i1 - i0)) schedule(static)
        for (int64_t i = i0; i < i1; i++) {
            float g = pg[i] * gs;
            float mi = pm[i] * b1 + g * (1.0f - b1);
            float vi = pv[i] * b2 + g * g * (1.0f - b2);
            pm[i] = mi;
            pv[i] = vi;
            float denom = sqrtf(vi) / bc2_sqrt + eps;
            pp[i] = pp[i] * decay - step_size * (mi / denom);
        }
    }
    return LAM_OK;
}

void lam_cpu_ops_install(lam_backend *be) {
    be->fill = op_fill;
    be->copy = op_copy;
    be->cast = op_cast;
    be->scale = op_scale;
    be->add = op_add;
    be->embedding_fwd = op_embedding_fwd;
    be->embedding_bwd = op_embedding_bwd;
    be->rmsnorm_fwd = op_rmsnorm_fwd;
    be->rmsnorm_bwd = op_rmsnorm_bwd;
    be->matmul = op_matmul;
    be->rope = op_rope;
    be->attention_fwd = op_attention_fwd;
    be->attention_bwd = op_attention_bwd;
    be->attention_decode = op_attention_decode;
    be->swiglu_fwd = op_swiglu_fwd;
    be->swiglu_bwd = op_swiglu_bwd;
    be->cross_entropy = op_cross_entropy;
    be->sum_squares = op_sum_squares;
    be->adamw = op_adamw;
}
