// cuda_backend.cu - the CUDA backend's construction, memory and shared checks (see
// cuda_backend.h and cuda_common.cuh): one stream, one cuBLASLt handle, one cudaMalloc for the
// backend's own buffers; the ops are in the family files (elementwise.cu, embedding.cu, ...).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_backend.h"
#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

lam_status cuda_fail(cudaError_t e, const char *call, const char *file, int line, lam_error *err) {
    const char *base = strrchr(file, '/');
#ifdef LAM_CUSIM
    const char *detail = lam_cusim_last_fault();
#else
    const char *detail = "";
#endif
    return lam_error_set(err, LAM_ERR_BACKEND, "%s failed at %s:%d: %s (%s)%s%s", call,
                         base ? base + 1 : file, line, cudaGetErrorName(e), cudaGetErrorString(e),
                         *detail ? ": " : "", detail);
}

lam_status lt_fail(cublasStatus_t s, const char *call, const char *file, int line, lam_error *err) {
    const char *base = strrchr(file, '/');
    return lam_error_set(err, LAM_ERR_BACKEND, "%s failed at %s:%d: %s (%s)", call,
                         base ? base + 1 : file, line, cublasLtGetStatusName(s),
                         cublasLtGetStatusString(s));
}

lam_status shapes_err4(lam_error *err, const char *op, const char *why, const lam_tensor *a,
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

// flags[0] = min over the bad positions (INT_MAX-ish when none: 0x7f7f7f7f from the memset)
__global__ void ids_check_kernel(const int32_t *v, int64_t n, int32_t lo, int32_t hi,
                                 const float *mask, int *flags) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int32_t x = v[i];
        bool used = !mask || mask[i] != 0.0f;
        if (used && (x < lo || x >= hi)) atomicMin(&flags[0], (int)i);
    }
}

lam_status flags_reset(lam_backend *be, lam_error *err) {
    CU(cudaMemsetAsync(ctx(be)->flags, 0x7f, 4 * sizeof(int), ctx(be)->stream));
    return LAM_OK;
}

lam_status flags_read(lam_backend *be, int *first_bad, lam_error *err) {
    Ctx *c = ctx(be);
    CU(cudaMemcpyAsync(c->host_flags, c->flags, sizeof(int), cudaMemcpyDeviceToHost, c->stream));
    CU(cudaStreamSynchronize(c->stream));
    *first_bad = c->host_flags[0] == 0x7f7f7f7f ? -1 : c->host_flags[0];
    return LAM_OK;
}

lam_status check_ids(lam_backend *be, const int32_t *v, int64_t n, int32_t lo, int32_t hi,
                     const float *mask, int *first_bad, lam_error *err) {
    LAM_TRY(flags_reset(be, err));
    LAM_LAUNCH(ids_check_kernel, blocks_for(n, kThreads), kThreads, 0, ctx(be)->stream, v, n, lo,
               hi, mask, ctx(be)->flags);
    KCHECK("ids_check_kernel");
    return flags_read(be, first_bad, err);
}

lam_status read_i32(lam_backend *be, const int32_t *p, int32_t *out, lam_error *err) {
    Ctx *c = ctx(be);
    CU(cudaMemcpyAsync(c->host_flags + 1, p, sizeof(int32_t), cudaMemcpyDeviceToHost, c->stream));
    CU(cudaStreamSynchronize(c->stream));
    *out = c->host_flags[1];
    return LAM_OK;
}

namespace {

lam_status be_alloc(lam_backend *be, size_t bytes, void **out, lam_error *err) {
    cudaError_t e = cudaMalloc(out, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        return lam_error_set(err, LAM_ERR_NOMEM,
                             "%s backend: cudaMalloc of %zu bytes: out of "
                             "device memory",
                             ctx(be)->name, bytes);
    }
    CU(e);
    return LAM_OK;
}

void be_free(lam_backend *be, void *p) {
    if (p) cudaFree(p);
}

lam_status be_upload(lam_backend *be, void *dst, const void *src, size_t bytes, lam_error *err) {
    if (!bytes) return LAM_OK;
    // pageable host memory: the call returns once src has been staged, so src may be reused
    CU(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx(be)->stream));
    return LAM_OK;
}

lam_status be_download(lam_backend *be, void *dst, const void *src, size_t bytes, lam_error *err) {
    if (!bytes) return LAM_OK;
    CU(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx(be)->stream));
    CU(cudaStreamSynchronize(ctx(be)->stream));
    return LAM_OK;
}

lam_status be_sync(lam_backend *be, lam_error *err) {
    CU(cudaStreamSynchronize(ctx(be)->stream));
    return LAM_OK;
}

void be_destroy(lam_backend *be) {
    Ctx *c = ctx(be);
    if (c) {
        if (c->stream) cudaStreamSynchronize(c->stream);
        if (c->lt) cublasLtDestroy(c->lt);
        if (c->arena) cudaFree(c->arena);
        if (c->stream) cudaStreamDestroy(c->stream);
        free(c->host_flags);
        free(c);
    }
    free(be);
}

// Device of this rank: LAM_CUDA_DEVICE, else the launcher's node-local rank, modulo the count.
int pick_device(int n_devices) {
    const char *vars[] = {"LAM_CUDA_DEVICE", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID",
                          "MPI_LOCALRANKID", "LOCAL_RANK"};
    for (const char *v : vars) {
        const char *s = getenv(v);
        if (s && *s) return atoi(s) % (n_devices > 0 ? n_devices : 1);
    }
    return 0;
}

lam_status create(lam_backend **out, int bf16, const char *name, lam_error *err) {
    *out = nullptr;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        cudaGetLastError();
        return lam_error_set(err, LAM_ERR_UNSUPPORTED, "%s backend: no usable CUDA device (%s)",
                             name, e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    }
    lam_backend *be = static_cast<lam_backend *>(calloc(1, sizeof *be));
    Ctx *c = static_cast<Ctx *>(calloc(1, sizeof *c));
    int *hf = static_cast<int *>(calloc(4, sizeof(int)));
    if (!be || !c || !hf) {
        free(be);
        free(c);
        free(hf);
        return lam_error_set(err, LAM_ERR_NOMEM, "%s backend: out of host memory", name);
    }
    be->ctx = c;
    c->host_flags = hf;
    c->bf16 = bf16;
    snprintf(c->name, sizeof c->name, "%s", name);
    be->name = c->name;
    be->device = LAM_DEV_CUDA;
    be->alloc = be_alloc;
    be->free = be_free;
    be->upload = be_upload;
    be->download = be_download;
    be->synchronize = be_sync;
    be->destroy = be_destroy;
    be->dcomm_create = dcomm_create;
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
    lam_status st = [&]() -> lam_status {
        c->device = pick_device(n);
        CU(cudaSetDevice(c->device));
        CU(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
        LT(cublasLtCreate(&c->lt));
        // the backend's arena: workspace | partials | flags, each 256-byte aligned
        size_t ws = kWorkspaceBytes, part = kMaxPartials * sizeof(double), fl = 256;
        CU(cudaMalloc(&c->arena, ws + part + fl));
        c->workspace = c->arena;
        c->partials = reinterpret_cast<double *>(static_cast<char *>(c->arena) + ws);
        c->flags = reinterpret_cast<int *>(static_cast<char *>(c->arena) + ws + part);
        return LAM_OK;
    }();
    if (st != LAM_OK) {
        be_destroy(be);
        return st;
    }
    *out = be;
    return LAM_OK;
}

} // namespace
} // namespace LAM_CUDA_NS

extern "C" lam_status LAM_CUDA_ENTRY(backend_create)(lam_backend **out, int n_threads,
                                                     lam_error *err) {
#ifdef LAM_CUSIM
    return LAM_CUDA_NS::create(out, 1, "cuda-sim", err);
#else
    return LAM_CUDA_NS::create(out, 1, "cuda", err);
#endif
}

extern "C" lam_status LAM_CUDA_ENTRY(fp32_backend_create)(lam_backend **out, int n_threads,
                                                          lam_error *err) {
#ifdef LAM_CUSIM
    return LAM_CUDA_NS::create(out, 0, "cuda-sim-fp32", err);
#else
    return LAM_CUDA_NS::create(out, 0, "cuda-fp32", err);
#endif
}
