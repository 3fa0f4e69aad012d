// rmsnorm.cu - RMSNorm forward (a block per row) and backward: dx a block per row, dw summed
// over rows by column blocks whose warps take every 8th row and add their partials in a fixed
// order (no atomics, so the same bits every run).
#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

constexpr int kNormThreads = 128;

// out (N,D) = x * rstd * w, rstd (N) = 1 / sqrt(mean(x^2) + eps)
__global__ void rmsnorm_fwd_kernel(float *out, float *rstd, const float *x, const float *w,
                                   int64_t N, int64_t D, float eps) {
    __shared__ float sh[32];
    for (int64_t i = blockIdx.x; i < N; i += gridDim.x) {
        const float *xi = x + i * D;
        float ss = 0.0f;
        for (int64_t j = threadIdx.x; j < D; j += blockDim.x) ss += xi[j] * xi[j];
        ss = block_sum(ss, sh);
        float r = 1.0f / sqrtf(ss / (float)D + eps);
        if (threadIdx.x == 0) rstd[i] = r;
        for (int64_t j = threadIdx.x; j < D; j += blockDim.x) out[i * D + j] = xi[j] * r * w[j];
    }
}

// dx (N,D) += r * (g*w - x * (sum(g*w*x) * r^2 / D))
__global__ void rmsnorm_bwd_dx_kernel(float *dx, const float *g, const float *x, const float *w,
                                      const float *rstd, int64_t N, int64_t D) {
    __shared__ float sh[32];
    for (int64_t i = blockIdx.x; i < N; i += gridDim.x) {
        const float *xi = x + i * D, *gi = g + i * D;
        float dot = 0.0f;
        for (int64_t j = threadIdx.x; j < D; j += blockDim.x) dot += gi[j] * w[j] * xi[j];
        dot = block_sum(dot, sh);
        float r = rstd[i], c = dot * r * r / (float)D;
        for (int64_t j = threadIdx.x; j < D; j += blockDim.x)
            dx[i * D + j] += r * (gi[j] * w[j] - xi[j] * c);
    }
}

// dw (D) += sum over rows of g * x * r, in double: block b owns columns [32b, 32b+32); warp k
// of 8 adds rows k, k+8, ...; the 8 partials are added in warp order
__global__ void rmsnorm_bwd_dw_kernel(float *dw, const float *g, const float *x, const float *rstd,
                                      int64_t N, int64_t D) {
    __shared__ double part[8][32];
    unsigned lane = threadIdx.x % 32, wp = threadIdx.x / 32;
    int64_t c = blockIdx.x * 32 + lane;
    double acc = 0.0;
    if (c < D)
        for (int64_t i = wp; i < N; i += 8) acc += (double)(g[i * D + c] * x[i * D + c] * rstd[i]);
    part[wp][lane] = acc;
    __syncthreads();
    if (wp == 0 && c < D) {
        double s = 0.0;
        for (int k = 0; k < 8; k++) s += part[k][lane];
        dw[c] += (float)s;
    }
}

lam_status op_rmsnorm_fwd(lam_backend *be, lam_tensor *out, lam_tensor *rstd, const lam_tensor *x,
                          const lam_tensor *w, float eps, lam_error *err) {
    CHECK("rmsnorm_fwd", "out", out, LAM_F32);
    CHECK("rmsnorm_fwd", "rstd", rstd, LAM_F32);
    CHECK("rmsnorm_fwd", "x", x, LAM_F32);
    CHECK("rmsnorm_fwd", "w", w, LAM_F32);
    int64_t D = last_dim(x), N = n_rows(x);
    if (lam_tensor_numel(out) != N * D || last_dim(out) != D || lam_tensor_numel(rstd) != N ||
        lam_tensor_numel(w) != D)
        return shapes_err4(err, "rmsnorm_fwd", "expected x and out (N,D), rstd (N), w (D)", x, out,
                           rstd, w);
    unsigned grid = (unsigned)(N < 65535 ? N : 65535);
    LAM_LAUNCH(rmsnorm_fwd_kernel, grid, kNormThreads, 0, ctx(be)->stream,
               static_cast<float *>(out->data), static_cast<float *>(rstd->data),
               static_cast<const float *>(x->data), static_cast<const float *>(w->data), N, D, eps);
    KCHECK("rmsnorm_fwd_kernel");
    return LAM_OK;
}

lam_status op_rmsnorm_bwd(lam_backend *be, lam_tensor *dx, lam_tensor *dw, const lam_tensor *dout,
                          const lam_tensor *x, const lam_tensor *w, const lam_tensor *rstd,
                          lam_error *err) {
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
    cudaStream_t s = ctx(be)->stream;
    const float *g = static_cast<const float *>(dout->data),
                *px = static_cast<const float *>(x->data);
    const float *pr = static_cast<const float *>(rstd->data);
    // dw first: dx may alias dout (it accumulates into the residual gradient)
    LAM_LAUNCH(rmsnorm_bwd_dw_kernel, (unsigned)((D + 31) / 32), 256, 0, s,
               static_cast<float *>(dw->data), g, px, pr, N, D);
    KCHECK("rmsnorm_bwd_dw_kernel");
    unsigned grid = (unsigned)(N < 65535 ? N : 65535);
    LAM_LAUNCH(rmsnorm_bwd_dx_kernel, grid, kNormThreads, 0, s, static_cast<float *>(dx->data), g,
               px, static_cast<const float *>(w->data), pr, N, D);
    KCHECK("rmsnorm_bwd_dx_kernel");
    return LAM_OK;
}

} // namespace LAM_CUDA_NS
