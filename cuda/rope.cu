// rope.cu - rotary embedding in place, Hugging Face's rotate_half convention, one thread per
// rotated pair. The angle is computed in fp32 as the CPU backend and Hugging Face do:
// pos * (1 / theta^(2i/hd)); its sine and cosine come from sincospi in double, whose argument
// reduction is exact and needs no local memory (sinf and cosf keep a Payne-Hanek path for
// large angles that costs a stack frame).
#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

constexpr int kMaxHeadDim = 1024;

// x (B,T,C): pairs (i, i+hd/2) of the first n_heads heads of each row
__global__ void rope_kernel(float *x, int64_t B, int64_t T, int64_t C, int n_heads, int hd,
                            int pos0, float theta, float sign) {
    int half = hd / 2;
    int64_t n = B * T * n_heads * half;
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < n;
         k += (int64_t)gridDim.x * blockDim.x) {
        int i = (int)(k % half);
        int64_t r = k / half;
        int h = (int)(r % n_heads);
        int64_t bt = r / n_heads, t = bt % T;
        float inv_freq = 1.0f / powf(theta, (float)(2 * i) / (float)hd);
        float ang = (float)(pos0 + t) * inv_freq;
        double sd, cd;
        sincospi((double)ang * 0.31830988618379067154, &sd, &cd); // ang / pi
        float cs = (float)cd, sn = sign * (float)sd;
        float *v = x + bt * C + (int64_t)h * hd;
        float a = v[i], c = v[i + half];
        v[i] = a * cs - c * sn;
        v[i + half] = c * cs + a * sn;
    }
}

lam_status op_rope(lam_backend *be, lam_tensor *x, int n_heads, int head_dim, int pos0, float theta,
                   int inverse, lam_error *err) {
    CHECK("rope", "x", x, LAM_F32);
    if (x->ndim != 3 || head_dim <= 0 || head_dim % 2 || head_dim > kMaxHeadDim || n_heads <= 0 ||
        (int64_t)n_heads * head_dim > x->shape[2] || pos0 < 0 || !(theta > 0))
        return lam_error_set(err, LAM_ERR_SHAPE,
                             "rope: x must be (B,T,C) with n_heads*head_dim <= C, head_dim even "
                             "and <= %d (got %d heads of %d, C=%lld, pos0=%d, theta=%g)",
                             kMaxHeadDim, n_heads, head_dim,
                             (long long)(x->ndim == 3 ? x->shape[2] : -1), pos0, theta);
    int64_t B = x->shape[0], T = x->shape[1], C = x->shape[2];
    int64_t n = B * T * n_heads * (head_dim / 2);
    LAM_LAUNCH(rope_kernel, blocks_for(n, kThreads), kThreads, 0, ctx(be)->stream,
               static_cast<float *>(x->data), B, T, C, n_heads, head_dim, pos0, theta,
               inverse ? -1.0f : 1.0f);
    KCHECK("rope_kernel");
    return LAM_OK;
}

} // namespace LAM_CUDA_NS
