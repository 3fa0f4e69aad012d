/* cuda_common.cuh - owns what the CUDA backend's .cu files share: the backend context, the
 * checks that turn every CUDA, cuBLASLt and NCCL failure into a lam_status naming the call
 * and its place, launch shapes, block reductions, and the declarations of each family's ops.
 *
 * The same sources build twice: by nvcc for the GPU (namespace lam_cuda_dev) and by the host
 * C++ compiler for the simulated device (LAM_CUSIM, cuda/sim/cusim.h in front; namespace
 * lam_cuda_sim). The only spellings that differ from plain CUDA are LAM_LAUNCH (for <<<>>>)
 * and LAM_DYN_SHARED (for extern __shared__), defined here for nvcc and in cusim.h for the
 * simulator. */
#ifndef LAM_CUDA_COMMON_CUH
#define LAM_CUDA_COMMON_CUH

#ifndef LAM_CUSIM
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#define LAM_LAUNCH(kernel, grid, block, smem, stream, ...)                                         \
    kernel<<<grid, block, smem, stream>>>(__VA_ARGS__)
#define LAM_DYN_SHARED(T, name)                                                                    \
    extern __shared__ __align__(16) unsigned char lam_dyn_smem_[];                                 \
    T *name = reinterpret_cast<T *>(lam_dyn_smem_)
#define LAM_CUDA_NS          lam_cuda_dev
#define LAM_CUDA_ENTRY(name) lam_cuda_##name
#else
#include "cusim_api.h"
#define LAM_CUDA_NS          lam_cuda_sim
#define LAM_CUDA_ENTRY(name) lam_cusim_##name
#endif

#include <stdint.h>

#include "lam/backend.h"
#include "lam/comm.h"

namespace LAM_CUDA_NS {

constexpr size_t kWorkspaceBytes = (size_t)32 << 20; /* cuBLASLt workspace (Hopper: 32 MiB) */
constexpr int kMaxPartials = 1024;                   /* sum_squares blocks */
constexpr int kThreads = 256;                        /* elementwise block size */
constexpr int kMaxBlocks = 1024;                     /* grid-stride loops use at most this */

struct Ctx {
    int bf16;            /* 1: matmul and attention products in bf16, fp32 accumulate */
    int device;          /* the CUDA device this backend uses */
    cudaStream_t stream; /* all work of the backend */
    cublasLtHandle_t lt;
    void *arena;      /* the backend's own memory, one cudaMalloc: the parts below */
    void *workspace;  /* (kWorkspaceBytes) cuBLASLt */
    double *partials; /* (kMaxPartials) sum_squares */
    int *flags;       /* (4) input checks: first bad position found by a kernel */
    int *host_flags;  /* (4) their host copy */
    char name[32];
};

inline Ctx *ctx(lam_backend *be) {
    return static_cast<Ctx *>(be->ctx);
}

/* "call failed at file:line: cudaErrorX (text)" as LAM_ERR_BACKEND (the simulator's fault
 * report appended when there is one). */
lam_status cuda_fail(cudaError_t e, const char *call, const char *file, int line, lam_error *err);
lam_status lt_fail(cublasStatus_t s, const char *call, const char *file, int line, lam_error *err);

#define CU(call)                                                                                   \
    do {                                                                                           \
        cudaError_t cu_e_ = (call);                                                                \
        if (cu_e_ != cudaSuccess) return cuda_fail(cu_e_, #call, __FILE__, __LINE__, err);         \
    } while (0)
#define LT(call)                                                                                   \
    do {                                                                                           \
        cublasStatus_t lt_s_ = (call);                                                             \
        if (lt_s_ != CUBLAS_STATUS_SUCCESS) return lt_fail(lt_s_, #call, __FILE__, __LINE__, err); \
    } while (0)
/* After a launch: the launch's own error (bad configuration) or an earlier fault. */
#define KCHECK(kernel)                                                                             \
    do {                                                                                           \
        cudaError_t cu_e_ = cudaGetLastError();                                                    \
        if (cu_e_ != cudaSuccess)                                                                  \
            return cuda_fail(cu_e_, "launch of " kernel, __FILE__, __LINE__, err);                 \
    } while (0)

/* Blocks for n items at `threads` a block, at most kMaxBlocks (kernels loop over the rest). */
inline unsigned blocks_for(int64_t n, int threads) {
    int64_t b = (n + threads - 1) / threads;
    return (unsigned)(b < 1 ? 1 : b > kMaxBlocks ? kMaxBlocks : b);
}

/* ---- shape checks shared by the ops (messages as the CPU backend's) ---- */
#define CHECK(op, arg, t, dt) LAM_TRY(lam_check_tensor(op, arg, t, dt, LAM_DEV_CUDA, 0, err))
inline int64_t last_dim(const lam_tensor *t) {
    return t->shape[t->ndim - 1];
}
inline int64_t n_rows(const lam_tensor *t) {
    return lam_tensor_numel(t) / last_dim(t);
}
lam_status shapes_err4(lam_error *err, const char *op, const char *why, const lam_tensor *a,
                       const lam_tensor *b, const lam_tensor *c, const lam_tensor *d);
inline lam_status shapes_err(lam_error *err, const char *op, const char *why, const lam_tensor *a,
                             const lam_tensor *b, const lam_tensor *c) {
    return shapes_err4(err, op, why, a, b, c, nullptr);
}

/* Runs a check kernel's result back: the first bad position it recorded in flags[0] (or -1),
 * synchronizing the stream. Set flags[0] with flags_reset first. */
lam_status flags_reset(lam_backend *be, lam_error *err);
lam_status flags_read(lam_backend *be, int *first_bad, lam_error *err);
/* flags[0] = min over i < n of the positions where v[i] is outside [lo, hi) (i32 ids). */
lam_status check_ids(lam_backend *be, const int32_t *v, int64_t n, int32_t lo, int32_t hi,
                     const float *mask, int *first_bad, lam_error *err);
/* One i32 from device memory. */
lam_status read_i32(lam_backend *be, const int32_t *p, int32_t *out, lam_error *err);

/* Column-major D = alpha * op(A) op(B) + beta * D through cuBLASLt, batched with strides
 * (in elements; 0 for one matrix), all f32 in memory; compute in bf16 with fp32 accumulation
 * when the backend is in bf16 mode. */
lam_status lt_matmul(lam_backend *be, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                     float alpha, const float *a, int64_t lda, int64_t stride_a, const float *b,
                     int64_t ldb, int64_t stride_b, float beta, float *d, int64_t ldd,
                     int64_t stride_d, int64_t batch, lam_error *err);

/* ---- ops, one family per .cu ---- */
/* elementwise.cu */
lam_status op_fill(lam_backend *be, lam_tensor *x, float value, lam_error *err);
lam_status op_copy(lam_backend *be, lam_tensor *dst, const lam_tensor *src, lam_error *err);
lam_status op_cast(lam_backend *be, lam_tensor *dst, const lam_tensor *src, lam_error *err);
lam_status op_scale(lam_backend *be, lam_tensor *x, float s, lam_error *err);
lam_status op_add(lam_backend *be, lam_tensor *out, const lam_tensor *a, const lam_tensor *b,
                  lam_error *err);
lam_status op_swiglu_fwd(lam_backend *be, lam_tensor *h, const lam_tensor *gu, lam_error *err);
lam_status op_swiglu_bwd(lam_backend *be, lam_tensor *dgu, const lam_tensor *dh,
                         const lam_tensor *gu, lam_error *err);
/* embedding.cu */
lam_status op_embedding_fwd(lam_backend *be, lam_tensor *out, const lam_tensor *tokens,
                            const lam_tensor *table, lam_error *err);
lam_status op_embedding_bwd(lam_backend *be, lam_tensor *dtable, const lam_tensor *tokens,
                            const lam_tensor *dout, lam_error *err);
/* rmsnorm.cu */
lam_status op_rmsnorm_fwd(lam_backend *be, lam_tensor *out, lam_tensor *rstd, const lam_tensor *x,
                          const lam_tensor *w, float eps, lam_error *err);
lam_status op_rmsnorm_bwd(lam_backend *be, lam_tensor *dx, lam_tensor *dw, const lam_tensor *dout,
                          const lam_tensor *x, const lam_tensor *w, const lam_tensor *rstd,
                          lam_error *err);
/* matmul.cu */
lam_status op_matmul(lam_backend *be, lam_tensor *c, const lam_tensor *a, const lam_tensor *b,
                     int trans_a, int trans_b, float alpha, float beta, lam_error *err);
/* rope.cu */
lam_status op_rope(lam_backend *be, lam_tensor *x, int n_heads, int head_dim, int pos0, float theta,
                   int inverse, lam_error *err);
/* attention.cu */
lam_status op_attention_fwd(lam_backend *be, lam_tensor *out, lam_tensor *probs,
                            const lam_tensor *qkv, const lam_tensor *seg, int n_heads,
                            int n_kv_heads, lam_error *err);
lam_status op_attention_bwd(lam_backend *be, lam_tensor *dqkv, const lam_tensor *dout,
                            const lam_tensor *qkv, const lam_tensor *seg, lam_tensor *probs,
                            lam_tensor *scratch, int n_heads, int n_kv_heads, lam_error *err);
lam_status op_attention_decode(lam_backend *be, lam_tensor *out, const lam_tensor *q,
                               const lam_tensor *k_cache, const lam_tensor *v_cache,
                               const lam_tensor *lens, int n_heads, int n_kv_heads, lam_error *err);
/* cross_entropy.cu */
lam_status op_cross_entropy(lam_backend *be, lam_tensor *losses, lam_tensor *dlogits,
                            const lam_tensor *logits, const lam_tensor *targets,
                            const lam_tensor *mask, float grad_scale, lam_error *err);
/* optimizer.cu */
lam_status op_sum_squares(lam_backend *be, lam_tensor *out, const lam_tensor *x, lam_error *err);
lam_status op_adamw(lam_backend *be, lam_tensor *params, const lam_tensor *grads, lam_tensor *m,
                    lam_tensor *v, const lam_param_segment *segments, int n_segments,
                    const lam_adamw_hp *hp, lam_error *err);
/* nccl_comm.cu */
lam_status dcomm_create(lam_backend *be, lam_comm *c, lam_dcomm **out, lam_error *err);

/* ---- block reductions (every thread gets the result; fixed order, so deterministic) ---- */

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double warp_sum(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* blockDim.x a multiple of 32; sh has 32 slots; all threads of the block must call it. */
template <class T> __device__ __forceinline__ T block_sum(T v, T *sh) {
    v = warp_sum(v);
    unsigned lane = threadIdx.x % 32, w = threadIdx.x / 32, nw = blockDim.x / 32;
    __syncthreads(); /* sh may still be read by a previous reduction */
    if (lane == 0) sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : T(0);
    return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float *sh) {
    v = warp_max(v);
    unsigned lane = threadIdx.x % 32, w = threadIdx.x / 32, nw = blockDim.x / 32;
    __syncthreads();
    if (lane == 0) sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : -INFINITY;
    return warp_max(v);
}

} // namespace LAM_CUDA_NS

#endif
