// matmul.cu - matrix products through cuBLASLt: the backend's row-major matmul op and the
// column-major strided-batched helper the attention products share. Descriptors live on the
// stack (the *Init calls), so a product allocates nothing. fp32 mode computes in fp32
// (CUBLAS_COMPUTE_32F); bf16 mode lets cuBLASLt round the fp32 operands to bf16 and use the
// tensor cores with fp32 accumulation (CUBLAS_COMPUTE_32F_FAST_16BF).
#include <stdio.h>

#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

// Largest power of two dividing p, at most 256: the alignment cuBLASLt may assume.
static uint32_t align_of(const void *p) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    uint32_t al = 256;
    while (al > 4 && a % al) al /= 2;
    return al;
}

lam_status lt_matmul(lam_backend *be, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                     float alpha, const float *a, int64_t lda, int64_t stride_a, const float *b,
                     int64_t ldb, int64_t stride_b, float beta, float *d, int64_t ldd,
                     int64_t stride_d, int64_t batch, lam_error *err) {
    Ctx *c = ctx(be);
    cublasLtMatmulDescOpaque_t op_desc;
    cublasLtMatrixLayoutOpaque_t la, lb, ld;
    cublasLtMatmulPreferenceOpaque_t pref;
    cublasComputeType_t compute = c->bf16 ? CUBLAS_COMPUTE_32F_FAST_16BF : CUBLAS_COMPUTE_32F;
    LT(cublasLtMatmulDescInit(&op_desc, compute, CUDA_R_32F));
    cublasOperation_t ta = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t tb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    LT(cublasLtMatmulDescSetAttribute(&op_desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    LT(cublasLtMatmulDescSetAttribute(&op_desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    // stored shapes (column-major): A is m x k (k x m when transposed), B k x n (n x k)
    LT(cublasLtMatrixLayoutInit(&la, CUDA_R_32F, trans_a ? k : m, trans_a ? m : k, lda));
    LT(cublasLtMatrixLayoutInit(&lb, CUDA_R_32F, trans_b ? n : k, trans_b ? k : n, ldb));
    LT(cublasLtMatrixLayoutInit(&ld, CUDA_R_32F, m, n, ldd));
    if (batch > 1) {
        int32_t cnt = (int32_t)batch;
        struct {
            cublasLtMatrixLayoutOpaque_t *l;
            int64_t stride;
        } ls[3] = {{&la, stride_a}, {&lb, stride_b}, {&ld, stride_d}};
        for (auto &x : ls) {
            LT(cublasLtMatrixLayoutSetAttribute(x.l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &cnt,
                                                sizeof cnt));
            LT(cublasLtMatrixLayoutSetAttribute(x.l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                &x.stride, sizeof x.stride));
        }
    }
    LT(cublasLtMatmulPreferenceInit(&pref));
    uint64_t ws = kWorkspaceBytes;
    LT(cublasLtMatmulPreferenceSetAttribute(&pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                            sizeof ws));
    // the operands are views into arenas: tell the heuristic their real alignment
    uint32_t al_a = align_of(a), al_b = align_of(b), al_d = align_of(d);
    LT(cublasLtMatmulPreferenceSetAttribute(&pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                            &al_a, sizeof al_a));
    LT(cublasLtMatmulPreferenceSetAttribute(&pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                            &al_b, sizeof al_b));
    LT(cublasLtMatmulPreferenceSetAttribute(&pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                            &al_d, sizeof al_d));
    LT(cublasLtMatmulPreferenceSetAttribute(&pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                            &al_d, sizeof al_d));
    cublasLtMatmulHeuristicResult_t heur;
    int found = 0;
    LT(cublasLtMatmulAlgoGetHeuristic(c->lt, &op_desc, &la, &lb, &ld, &ld, &pref, 1, &heur,
                                      &found));
    if (!found)
        return lam_error_set(err, LAM_ERR_BACKEND,
                             "matmul: cuBLASLt has no algorithm for m=%lld n=%lld k=%lld batch "
                             "%lld (alignments %u %u %u)",
                             (long long)m, (long long)n, (long long)k, (long long)batch, al_a, al_b,
                             al_d);
    LT(cublasLtMatmul(c->lt, &op_desc, &alpha, a, &la, b, &lb, &beta, d, &ld, d, &ld, &heur.algo,
                      c->workspace, kWorkspaceBytes, c->stream));
    return LAM_OK;
}

lam_status op_matmul(lam_backend *be, lam_tensor *c, const lam_tensor *a, const lam_tensor *b,
                     int trans_a, int trans_b, float alpha, float beta, lam_error *err) {
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
    // row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the operands swap
    return lt_matmul(be, trans_b, trans_a, N, M, K, alpha, static_cast<const float *>(b->data),
                     b->shape[o + 1], K * N, static_cast<const float *>(a->data), a->shape[o + 1],
                     M * K, beta, static_cast<float *>(c->data), N, M * N, batch, err);
}

} // namespace LAM_CUDA_NS
