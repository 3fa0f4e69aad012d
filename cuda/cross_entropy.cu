// cross_entropy.cu - fused softmax cross-entropy with a loss mask, one block per row: the
// row's max and sum of exponentials, its loss, and (when asked) its gradient written in place of
// the logits (llm.c's fused classifier).
#include <math.h>

#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

constexpr int kCeThreads = 256;

// losses (N) = mask ? log(sum exp(x - max)) + max - x[target] : 0;
// d (N,V) (may be x, or NULL) = grad_scale * mask * (softmax - onehot(target))
__global__ void cross_entropy_kernel(float *losses, float *d, const float *x, const int32_t *tgt,
                                     const float *mask, int64_t N, int64_t V, float gs) {
    __shared__ float sh[32];
    for (int64_t i = blockIdx.x; i < N; i += gridDim.x) {
        const float *xi = x + i * V;
        float *di = d ? d + i * V : nullptr;
        float m = mask[i];
        if (m == 0.0f) { // the row's target is not read
            if (threadIdx.x == 0) losses[i] = 0.0f;
            if (di)
                for (int64_t j = threadIdx.x; j < V; j += blockDim.x) di[j] = 0.0f;
            continue;
        }
        int32_t t = tgt[i];
        float xt = xi[t];
        float mx = -INFINITY;
        for (int64_t j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, xi[j]);
        mx = block_max(mx, sh);
        float sum = 0.0f;
        for (int64_t j = threadIdx.x; j < V; j += blockDim.x) sum += expf(xi[j] - mx);
        sum = block_sum(sum, sh); // every read of x precedes its barriers
        if (threadIdx.x == 0) losses[i] = logf(sum) + mx - xt;
        if (di) {
            float s = gs * m / sum;
            for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
                float v = expf(xi[j] - mx) * s;
                di[j] = j == t ? v - gs * m : v;
            }
        }
    }
}

lam_status op_cross_entropy(lam_backend *be, lam_tensor *losses, lam_tensor *dlogits,
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
    const int32_t *pt = static_cast<const int32_t *>(targets->data);
    const float *pm = static_cast<const float *>(mask->data);
    int bad = -1;
    LAM_TRY(check_ids(be, pt, N, 0, (int32_t)V, pm, &bad, err));
    if (bad >= 0) {
        int32_t t = 0;
        LAM_TRY(read_i32(be, pt + bad, &t, err));
        return lam_error_set(err, LAM_ERR_INVALID,
                             "cross_entropy: target %d at row %d is outside [0,%lld)", t, bad,
                             (long long)V);
    }
    unsigned grid = (unsigned)(N < 65535 ? N : 65535);
    LAM_LAUNCH(cross_entropy_kernel, grid, kCeThreads, 0, ctx(be)->stream,
               static_cast<float *>(losses->data),
               dlogits ? static_cast<float *>(dlogits->data) : nullptr,
               static_cast<const float *>(logits->data), pt, pm, N, V, grad_scale);
    KCHECK("cross_entropy_kernel");
    return LAM_OK;
}

} // namespace LAM_CUDA_NS
