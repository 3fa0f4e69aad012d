// attention.cu - causal grouped-query attention with packed-sequence segments: the products
// are cuBLASLt strided-batched matmuls (one call per query head, batched over the sequences of
// the batch), the softmax and its backward are fused row kernels that apply the causal and
// segment mask; plus the decode form (new queries against a KV cache, online softmax, one
// block per query and head).
//
// Layouts (row-major, backend.h): qkv (B,T,C3) with q heads, then k heads, then v heads;
// out (B,T,H*hd); probs and scratch (B,H,T,T). Seen column-major, the T x hd head slices of
// qkv are hd x T matrices with leading dimension C3, and a row-major T x T score matrix S is
// the column-major S^T, so each product below is written for cuBLASLt in those terms.
#include <math.h>

#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

constexpr int kRowThreads = 128;
constexpr int kMaxHeadDim = 1024;

// flags[0] = first k = b*T + t where seg breaks its rules: in [0, t], nondecreasing along t
__global__ void seg_check_kernel(const int32_t *seg, int64_t B, int64_t T, int *flags) {
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < B * T;
         k += (int64_t)gridDim.x * blockDim.x) {
        int64_t t = k % T;
        int32_t v = seg[k];
        if (v < 0 || v > t || (t > 0 && v < seg[k - 1])) atomicMin(&flags[0], (int)k);
    }
}

// P (B,H,T,T) holds the scaled scores; each row i becomes the softmax over keys [lo, i]
// (lo = seg[b,i], or 0) and zero elsewhere. One block per row.
__global__ void causal_softmax_kernel(float *P, const int32_t *seg, int64_t B, int H, int64_t T) {
    __shared__ float sh[32];
    int64_t rows = B * H * T;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        int64_t b = r / (H * T), i = r % T;
        int64_t lo = seg ? seg[b * T + i] : 0;
        float *row = P + r * T;
        float mx = -INFINITY;
        for (int64_t j = lo + threadIdx.x; j <= i; j += blockDim.x) mx = fmaxf(mx, row[j]);
        mx = block_max(mx, sh);
        float sum = 0.0f;
        for (int64_t j = lo + threadIdx.x; j <= i; j += blockDim.x) sum += expf(row[j] - mx);
        sum = block_sum(sum, sh);
        float inv = 1.0f / sum;
        for (int64_t j = threadIdx.x; j < T; j += blockDim.x)
            row[j] = j >= lo && j <= i ? expf(row[j] - mx) * inv : 0.0f;
    }
}

// P becomes dS = P * (dP - sum_j P dP) over the row's keys, zero elsewhere. One block per row.
__global__ void softmax_bwd_kernel(float *P, const float *dP, const int32_t *seg, int64_t B, int H,
                                   int64_t T) {
    __shared__ float sh[32];
    int64_t rows = B * H * T;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        int64_t b = r / (H * T), i = r % T;
        int64_t lo = seg ? seg[b * T + i] : 0;
        float *p = P + r * T;
        const float *dp = dP + r * T;
        float dot = 0.0f;
        for (int64_t j = lo + threadIdx.x; j <= i; j += blockDim.x) dot += p[j] * dp[j];
        dot = block_sum(dot, sh);
        for (int64_t j = threadIdx.x; j < T; j += blockDim.x)
            p[j] = j >= lo && j <= i ? p[j] * (dp[j] - dot) : 0.0f;
    }
}

// out (B,Tq,H*hd): block (b*Tq + t)*H + h; query t of sequence b sees cache positions
// [0, lens[b]-Tq+t] (the new keys are in the cache already). 4 warps take every 4th position
// with an online softmax; lane l holds head elements l, l+32, ... (NPL of them); the warps
// merge at the end.
template <int NPL>
__global__ void __launch_bounds__(128)
    decode_kernel(float *out, const float *q, const float *kc, const float *vc, const int32_t *lens,
                  int Tq, int H, int KV, int hd, int64_t S, float scale) {
    __shared__ float sm[4], sl[4];
    __shared__ float sacc[4][32 * NPL];
    // 32-bit index arithmetic: the grid is below 2^31 blocks (64-bit division is a call)
    unsigned bth = blockIdx.x, bt = bth / (unsigned)H, b = bt / (unsigned)Tq;
    int t = (int)(bt % (unsigned)Tq), h = (int)(bth % (unsigned)H), g = h / (H / KV);
    unsigned lane = threadIdx.x % 32, w = threadIdx.x / 32;
    int64_t KVD = (int64_t)KV * hd;
    float qv[NPL], acc[NPL];
#pragma unroll
    for (int u = 0; u < NPL; u++) {
        int d = (int)lane + 32 * u;
        qv[u] = d < hd ? q[(int64_t)bt * H * hd + (int64_t)h * hd + d] : 0.0f;
        acc[u] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    int64_t nk = (int64_t)lens[b] - Tq + t + 1;
    for (int64_t j = w; j < nk; j += 4) {
        const float *kj = kc + (b * S + j) * KVD + (int64_t)g * hd;
        const float *vj = vc + (b * S + j) * KVD + (int64_t)g * hd;
        float s = 0.0f;
#pragma unroll
        for (int u = 0; u < NPL; u++) {
            int d = (int)lane + 32 * u;
            if (d < hd) s += qv[u] * kj[d];
        }
        s = warp_sum(s) * scale;
        float mn = fmaxf(m, s), c = expf(m - mn), e = expf(s - mn);
        l = l * c + e;
#pragma unroll
        for (int u = 0; u < NPL; u++) {
            int d = (int)lane + 32 * u;
            acc[u] = acc[u] * c + (d < hd ? e * vj[d] : 0.0f);
        }
        m = mn;
    }
    if (lane == 0) sm[w] = m, sl[w] = l;
#pragma unroll
    for (int u = 0; u < NPL; u++) sacc[w][lane + 32 * u] = acc[u];
    __syncthreads();
    if (w == 0) {
        float M = fmaxf(fmaxf(sm[0], sm[1]), fmaxf(sm[2], sm[3])), L = 0.0f, f[4];
#pragma unroll
        for (int k = 0; k < 4; k++) {
            f[k] = sl[k] > 0.0f ? expf(sm[k] - M) : 0.0f;
            L += sl[k] * f[k];
        }
#pragma unroll
        for (int u = 0; u < NPL; u++) {
            int d = (int)lane + 32 * u;
            if (d >= hd) continue;
            float a = 0.0f;
#pragma unroll
            for (int k = 0; k < 4; k++) a += sacc[k][d] * f[k];
            out[(int64_t)bt * H * hd + (int64_t)h * hd + d] = a / L;
        }
    }
}

static lam_status check_attention(const char *op, const lam_tensor *qkv, const lam_tensor *o,
                                  const lam_tensor *probs, int H, int KV, lam_error *err) {
    if (qkv->ndim != 3 || H <= 0 || KV <= 0 || H % KV)
        return lam_error_set(err, LAM_ERR_SHAPE,
                             "%s: qkv must be (B,T,(H+2KV)*hd) with KV dividing H (H=%d, KV=%d)",
                             op, H, KV);
    int64_t B = qkv->shape[0], T = qkv->shape[1], C3 = qkv->shape[2];
    if (C3 % (H + 2 * KV))
        return shapes_err(err, op, "qkv width is not a multiple of H+2KV", qkv, nullptr, nullptr);
    int64_t hd = C3 / (H + 2 * KV);
    if (o->ndim != 3 || o->shape[0] != B || o->shape[1] != T || o->shape[2] != H * hd)
        return shapes_err(err, op, "out must be (B,T,H*hd)", o, qkv, nullptr);
    if (probs->ndim != 4 || probs->shape[0] != B || probs->shape[1] != H || probs->shape[2] != T ||
        probs->shape[3] != T)
        return shapes_err(err, op, "probs must be (B,H,T,T)", probs, qkv, nullptr);
    return LAM_OK;
}

// seg's shape and values: one small kernel and a synchronization
static lam_status check_seg(lam_backend *be, const char *op, const lam_tensor *seg, int64_t B,
                            int64_t T, int validate, lam_error *err) {
    if (!seg) return LAM_OK;
    CHECK(op, "seg", seg, LAM_I32);
    if (seg->ndim != 2 || seg->shape[0] != B || seg->shape[1] != T)
        return lam_error_set(err, LAM_ERR_SHAPE, "%s: seg must be (B,T) = (%lld,%lld)", op,
                             (long long)B, (long long)T);
    if (!validate) return LAM_OK;
    LAM_TRY(flags_reset(be, err));
    LAM_LAUNCH(seg_check_kernel, blocks_for(B * T, kThreads), kThreads, 0, ctx(be)->stream,
               static_cast<const int32_t *>(seg->data), B, T, ctx(be)->flags);
    KCHECK("seg_check_kernel");
    int bad = -1;
    LAM_TRY(flags_read(be, &bad, err));
    if (bad < 0) return LAM_OK;
    const int32_t *s = static_cast<const int32_t *>(seg->data);
    int32_t v = 0;
    LAM_TRY(read_i32(be, s + bad, &v, err));
    int64_t b = bad / T, t = bad % T;
    return lam_error_set(err, LAM_ERR_INVALID,
                         "%s: seg[%lld,%lld]=%d; it must be in [0,%lld] and not below "
                         "seg[%lld,%lld]",
                         op, (long long)b, (long long)t, v, (long long)t, (long long)b,
                         (long long)(t > 0 ? t - 1 : 0));
}

static unsigned row_grid(int64_t rows) {
    return (unsigned)(rows < 65535 ? rows : 65535);
}

lam_status op_attention_fwd(lam_backend *be, lam_tensor *out, lam_tensor *probs,
                            const lam_tensor *qkv, const lam_tensor *seg, int H, int KV,
                            lam_error *err) {
    CHECK("attention_fwd", "out", out, LAM_F32);
    CHECK("attention_fwd", "probs", probs, LAM_F32);
    CHECK("attention_fwd", "qkv", qkv, LAM_F32);
    LAM_TRY(check_attention("attention_fwd", qkv, out, probs, H, KV, err));
    int64_t B = qkv->shape[0], T = qkv->shape[1], C3 = qkv->shape[2];
    int64_t hd = C3 / (H + 2 * KV), HD = H * hd, group = H / KV;
    LAM_TRY(check_seg(be, "attention_fwd", seg, B, T, 1, err));
    float scale = 1.0f / sqrtf((float)hd);
    const float *pq = static_cast<const float *>(qkv->data);
    float *pp = static_cast<float *>(probs->data), *po = static_cast<float *>(out->data);
    for (int h = 0; h < H; h++) {
        int64_t g = h / group;
        // S^T (keys x queries) = K Q^T: A = K (hd x T, transposed), B = Q (hd x T)
        LAM_TRY(lt_matmul(be, 1, 0, T, T, hd, scale, pq + (H + g) * hd, C3, T * C3, pq + h * hd, C3,
                          T * C3, 0.0f, pp + h * T * T, T, H * T * T, B, err));
    }
    const int32_t *ps = seg ? static_cast<const int32_t *>(seg->data) : nullptr;
    LAM_LAUNCH(causal_softmax_kernel, row_grid(B * H * T), kRowThreads, 0, ctx(be)->stream, pp, ps,
               B, H, T);
    KCHECK("causal_softmax_kernel");
    for (int h = 0; h < H; h++) {
        int64_t g = h / group;
        // O^T (hd x queries) = V^T P^T: A = V (hd x T), B = P as stored (keys x queries)
        LAM_TRY(lt_matmul(be, 0, 0, hd, T, T, 1.0f, pq + (H + KV + g) * hd, C3, T * C3,
                          pp + h * T * T, T, H * T * T, 0.0f, po + h * hd, HD, T * HD, B, err));
    }
    return LAM_OK;
}

lam_status op_attention_bwd(lam_backend *be, lam_tensor *dqkv, const lam_tensor *dout,
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
        return shapes_err(err, "attention_bwd", "dqkv must have the shape of qkv", dqkv, qkv,
                          nullptr);
    if (lam_tensor_numel(scratch) < lam_tensor_numel(probs))
        return shapes_err(err, "attention_bwd", "scratch must be as large as probs (B,H,T,T)",
                          scratch, probs, nullptr);
    int64_t B = qkv->shape[0], T = qkv->shape[1], C3 = qkv->shape[2];
    int64_t hd = C3 / (H + 2 * KV), HD = H * hd, group = H / KV;
    LAM_TRY(check_seg(be, "attention_bwd", seg, B, T, 1, err));
    float scale = 1.0f / sqrtf((float)hd);
    const float *pq = static_cast<const float *>(qkv->data);
    const float *pdo = static_cast<const float *>(dout->data);
    float *pp = static_cast<float *>(probs->data), *ps = static_cast<float *>(scratch->data);
    float *pd = static_cast<float *>(dqkv->data);
    int64_t sq = T * C3, so = T * HD, sp = H * T * T;
    for (int h = 0; h < H; h++) {
        int64_t g = h / group;
        float beta = h % group ? 1.0f : 0.0f; // a group's dV is summed over its heads in order
        // dV^T (hd x keys) += dO^T P: A = dO (hd x T), B = P^T (P as stored, transposed)
        LAM_TRY(lt_matmul(be, 0, 1, hd, T, T, 1.0f, pdo + h * hd, HD, so, pp + h * T * T, T, sp,
                          beta, pd + (H + KV + g) * hd, C3, sq, B, err));
        // dP^T (keys x queries) = V dO^T: A = V (hd x T, transposed), B = dO (hd x T)
        LAM_TRY(lt_matmul(be, 1, 0, T, T, hd, 1.0f, pq + (H + KV + g) * hd, C3, sq, pdo + h * hd,
                          HD, so, 0.0f, ps + h * T * T, T, sp, B, err));
    }
    const int32_t *pseg = seg ? static_cast<const int32_t *>(seg->data) : nullptr;
    LAM_LAUNCH(softmax_bwd_kernel, row_grid(B * H * T), kRowThreads, 0, ctx(be)->stream, pp, ps,
               pseg, B, H, T);
    KCHECK("softmax_bwd_kernel");
    for (int h = 0; h < H; h++) {
        int64_t g = h / group;
        float beta = h % group ? 1.0f : 0.0f;
        // dQ^T (hd x queries) = scale K^T dS^T: A = K (hd x T), B = dS as stored
        LAM_TRY(lt_matmul(be, 0, 0, hd, T, T, scale, pq + (H + g) * hd, C3, sq, pp + h * T * T, T,
                          sp, 0.0f, pd + h * hd, C3, sq, B, err));
        // dK^T (hd x keys) += scale Q^T dS: A = Q (hd x T), B = dS as stored, transposed
        LAM_TRY(lt_matmul(be, 0, 1, hd, T, T, scale, pq + h * hd, C3, sq, pp + h * T * T, T, sp,
                          beta, pd + (H + g) * hd, C3, sq, B, err));
    }
    return LAM_OK;
}

lam_status op_attention_decode(lam_backend *be, lam_tensor *out, const lam_tensor *q,
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
                          q, k_cache, nullptr);
    int64_t B = q->shape[0], Tq = qd == 3 ? q->shape[1] : 1, hd = q->shape[qd - 1] / H;
    int64_t S = k_cache->shape[1];
    bool out_ok = out->ndim == qd && out->shape[0] == B && out->shape[qd - 1] == H * hd &&
                  (qd == 2 || out->shape[1] == Tq);
    if (hd > kMaxHeadDim || !out_ok || k_cache->shape[0] != B || k_cache->shape[2] != KV * hd ||
        v_cache->ndim != 3 || v_cache->shape[0] != B || v_cache->shape[1] != S ||
        v_cache->shape[2] != KV * hd || lam_tensor_numel(lens) != B)
        return shapes_err4(err, "attention_decode",
                           "expected out and q (B,[Tq,]H*hd), k_cache and v_cache (B,S,KV*hd), "
                           "lens (B)",
                           q, k_cache, v_cache, lens);
    int bad = -1;
    const int32_t *pl = static_cast<const int32_t *>(lens->data);
    LAM_TRY(check_ids(be, pl, B, (int32_t)Tq, (int32_t)(S + 1), nullptr, &bad, err));
    if (bad >= 0) {
        int32_t v = 0;
        LAM_TRY(read_i32(be, pl + bad, &v, err));
        return lam_error_set(err, LAM_ERR_INVALID,
                             "attention_decode: lens[%d]=%d outside [%lld,%lld] (Tq=%lld)", bad, v,
                             (long long)Tq, (long long)S, (long long)Tq);
    }
    float scale = 1.0f / sqrtf((float)hd);
    unsigned grid = (unsigned)(B * Tq * H);
    float *po = static_cast<float *>(out->data);
    const float *pq = static_cast<const float *>(q->data);
    const float *pk = static_cast<const float *>(k_cache->data);
    const float *pv = static_cast<const float *>(v_cache->data);
    int ihd = (int)hd, iTq = (int)Tq;
    cudaStream_t s = ctx(be)->stream;
#define DECODE(npl)                                                                                \
    LAM_LAUNCH(decode_kernel<npl>, grid, 128, 0, s, po, pq, pk, pv, pl, iTq, H, KV, ihd, S, scale)
    if (hd <= 32)
        DECODE(1);
    else if (hd <= 64)
        DECODE(2);
    else if (hd <= 128)
        DECODE(4);
    else if (hd <= 256)
        DECODE(8);
    else if (hd <= 512)
        DECODE(16);
    else
        DECODE(32);
#undef DECODE
    KCHECK("decode_kernel");
    return LAM_OK;
}

} // namespace LAM_CUDA_NS
