// embedding.cu - the embedding gather and its scatter-add backward. The backward is
// deterministic without atomics: blocks own (column chunk, vocabulary shard) pairs and add the
// rows of dout into dtable in row order, so each dtable element gets the same sums in the same
// order as on the CPU.
#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

constexpr int kEmbCols = 128;  // columns per block (one per thread)
constexpr int kEmbShards = 16; // vocabulary shards: rows with token % kEmbShards == shard
constexpr int kEmbChunk = 512; // tokens staged in shared memory at a time

// out (N,D) = table (V,D) [tok (N)]: block i copies row i
__global__ void embedding_fwd_kernel(float *out, const int32_t *tok, const float *table, int64_t N,
                                     int64_t D) {
    for (int64_t i = blockIdx.x; i < N; i += gridDim.x) {
        const float *src = table + (int64_t)tok[i] * D;
        for (int64_t j = threadIdx.x; j < D; j += blockDim.x) out[i * D + j] = src[j];
    }
}

// dtable (V,D) += scatter of dout (N,D): block (x, y) owns columns [x*kEmbCols, +kEmbCols) of
// the rows whose token is = y mod kEmbShards, and walks the tokens in order
__global__ void embedding_bwd_kernel(float *dtable, const int32_t *tok, const float *dout,
                                     int64_t N, int64_t D) {
    __shared__ int32_t ts[kEmbChunk];
    int64_t c = blockIdx.x * (int64_t)kEmbCols + threadIdx.x;
    int shard = blockIdx.y;
    for (int64_t i0 = 0; i0 < N; i0 += kEmbChunk) {
        int64_t n = N - i0 < kEmbChunk ? N - i0 : kEmbChunk;
        __syncthreads(); // the previous chunk is done with ts
        for (int64_t k = threadIdx.x; k < n; k += blockDim.x) ts[k] = tok[i0 + k];
        __syncthreads();
        if (c < D)
            for (int64_t k = 0; k < n; k++) {
                int32_t t = ts[k];
                if (t % kEmbShards == shard) dtable[(int64_t)t * D + c] += dout[(i0 + k) * D + c];
            }
    }
}

static lam_status check_tokens(lam_backend *be, const char *op, const lam_tensor *tokens, int64_t N,
                               int64_t V, lam_error *err) {
    int bad = -1;
    LAM_TRY(check_ids(be, static_cast<const int32_t *>(tokens->data), N, 0, (int32_t)V, nullptr,
                      &bad, err));
    if (bad < 0) return LAM_OK;
    int32_t t = 0;
    LAM_TRY(read_i32(be, static_cast<const int32_t *>(tokens->data) + bad, &t, err));
    return lam_error_set(err, LAM_ERR_INVALID,
                         "%s: token %d at position %d is outside the vocabulary [0,%lld)", op, t,
                         bad, (long long)V);
}

lam_status op_embedding_fwd(lam_backend *be, lam_tensor *out, const lam_tensor *tokens,
                            const lam_tensor *table, lam_error *err) {
    CHECK("embedding_fwd", "out", out, LAM_F32);
    CHECK("embedding_fwd", "tokens", tokens, LAM_I32);
    CHECK("embedding_fwd", "table", table, LAM_F32);
    int64_t N = lam_tensor_numel(tokens), D = last_dim(out), V = table->shape[0];
    if (table->ndim != 2 || table->shape[1] != D || n_rows(out) != N)
        return shapes_err(err, "embedding_fwd", "expected out (N,D), tokens (N), table (V,D)", out,
                          tokens, table);
    LAM_TRY(check_tokens(be, "embedding_fwd", tokens, N, V, err));
    unsigned grid = (unsigned)(N < 65535 ? N : 65535);
    LAM_LAUNCH(embedding_fwd_kernel, grid, 128, 0, ctx(be)->stream, static_cast<float *>(out->data),
               static_cast<const int32_t *>(tokens->data), static_cast<const float *>(table->data),
               N, D);
    KCHECK("embedding_fwd_kernel");
    return LAM_OK;
}

lam_status op_embedding_bwd(lam_backend *be, lam_tensor *dtable, const lam_tensor *tokens,
                            const lam_tensor *dout, lam_error *err) {
    CHECK("embedding_bwd", "dtable", dtable, LAM_F32);
    CHECK("embedding_bwd", "tokens", tokens, LAM_I32);
    CHECK("embedding_bwd", "dout", dout, LAM_F32);
    int64_t N = lam_tensor_numel(tokens), D = last_dim(dout), V = dtable->shape[0];
    if (dtable->ndim != 2 || dtable->shape[1] != D || n_rows(dout) != N)
        return shapes_err(err, "embedding_bwd", "expected dtable (V,D), tokens (N), dout (N,D)",
                          dtable, tokens, dout);
    LAM_TRY(check_tokens(be, "embedding_bwd", tokens, N, V, err));
    dim3 grid((unsigned)((D + kEmbCols - 1) / kEmbCols), kEmbShards);
    LAM_LAUNCH(embedding_bwd_kernel, grid, kEmbCols, 0, ctx(be)->stream,
               static_cast<float *>(dtable->data), static_cast<const int32_t *>(tokens->data),
               static_cast<const float *>(dout->data), N, D);
    KCHECK("embedding_bwd_kernel");
    return LAM_OK;
}

} // namespace LAM_CUDA_NS
