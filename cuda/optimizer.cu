// optimizer.cu - the gradient norm's sum of squares (two passes in double over fixed chunks,
// so the order of the sum depends on the length only) and a multi-tensor AdamW: one launch
// updates every segment of the flat parameter vector, with the formula of torch.optim.AdamW
// (the CPU backend's, operation for operation).
#include <math.h>

#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

constexpr int kSumThreads = 256;
constexpr int kMaxSegs = 16; // segments per AdamW launch (more take several launches)

// partials[b] = sum of x^2 over chunk b = [b*chunk, (b+1)*chunk), in double
__global__ void sumsq_partial_kernel(double *partials, const float *x, int64_t n, int64_t chunk) {
    __shared__ double sh[32];
    int64_t i0 = blockIdx.x * chunk, i1 = i0 + chunk < n ? i0 + chunk : n;
    double s = 0.0;
    for (int64_t i = i0 + threadIdx.x; i < i1; i += blockDim.x) s += (double)x[i] * (double)x[i];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

// out = sum of partials[0..nb), one block, rounded once to f32
__global__ void sumsq_final_kernel(float *out, const double *partials, int nb) {
    __shared__ double sh[32];
    double s = 0.0;
    for (int i = threadIdx.x; i < nb; i += blockDim.x) s += partials[i];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) out[0] = (float)s;
}

lam_status op_sum_squares(lam_backend *be, lam_tensor *out, const lam_tensor *x, lam_error *err) {
    CHECK("sum_squares", "out", out, LAM_F32);
    CHECK("sum_squares", "x", x, LAM_F32);
    int64_t n = lam_tensor_numel(x);
    int64_t chunk = (n + kMaxPartials - 1) / kMaxPartials;
    if (chunk < 4096) chunk = 4096;
    int nb = (int)((n + chunk - 1) / chunk);
    Ctx *c = ctx(be);
    LAM_LAUNCH(sumsq_partial_kernel, nb, kSumThreads, 0, c->stream, c->partials,
               static_cast<const float *>(x->data), n, chunk);
    KCHECK("sumsq_partial_kernel");
    LAM_LAUNCH(sumsq_final_kernel, 1, kSumThreads, 0, c->stream, static_cast<float *>(out->data),
               static_cast<const double *>(c->partials), nb);
    KCHECK("sumsq_final_kernel");
    return LAM_OK;
}

struct AdamSegs {
    int64_t start[kMaxSegs + 1]; // prefix sums of the counts: element k of the launch is
    int64_t offset[kMaxSegs];    // in segment s when start[s] <= k < start[s+1]
    float decay[kMaxSegs];       // 1 - lr*wd, or 1
    int n;
};

struct AdamConst {
    float b1, b2, eps, gs, step_size, bc2_sqrt;
};

__global__ void adamw_kernel(float *p, const float *g, float *m, float *v, AdamSegs segs,
                             AdamConst k) {
    int64_t total = segs.start[segs.n];
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        int s = 0;
        while (e >= segs.start[s + 1]) s++;
        int64_t i = segs.offset[s] + (e - segs.start[s]);
        float gi = g[i] * k.gs;
        float mi = m[i] * k.b1 + gi * (1.0f - k.b1);
        float vi = v[i] * k.b2 + gi * gi * (1.0f - k.b2);
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / k.bc2_sqrt + k.eps;
        p[i] = p[i] * segs.decay[s] - k.step_size * (mi / denom);
    }
}

lam_status op_adamw(lam_backend *be, lam_tensor *params, const lam_tensor *grads, lam_tensor *m,
                    lam_tensor *v, const lam_param_segment *seg, int n_seg, const lam_adamw_hp *hp,
                    lam_error *err) {
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
    // bias corrections in double on the host, as the CPU backend computes them
    double bc1 = 1.0 - pow(hp->beta1, (double)hp->step);
    double bc2 = 1.0 - pow(hp->beta2, (double)hp->step);
    AdamConst k = {hp->beta1,       hp->beta2, hp->eps, hp->grad_scale, (float)(hp->lr / bc1),
                   (float)sqrt(bc2)};
    float *pp = static_cast<float *>(params->data), *pm = static_cast<float *>(m->data);
    float *pv = static_cast<float *>(v->data);
    const float *pg = static_cast<const float *>(grads->data);
    for (int s0 = 0; s0 < n_seg; s0 += kMaxSegs) {
        AdamSegs segs;
        segs.n = 0;
        segs.start[0] = 0;
        for (int s = s0; s < n_seg && s < s0 + kMaxSegs; s++) {
            segs.offset[segs.n] = seg[s].offset;
            segs.decay[segs.n] = seg[s].decay ? 1.0f - hp->lr * hp->weight_decay : 1.0f;
            segs.start[segs.n + 1] = segs.start[segs.n] + seg[s].count;
            segs.n++;
        }
        int64_t total = segs.start[segs.n];
        if (!total) continue;
        LAM_LAUNCH(adamw_kernel, blocks_for(total, kThreads), kThreads, 0, ctx(be)->stream, pp, pg,
                   pm, pv, segs, k);
        KCHECK("adamw_kernel");
    }
    return LAM_OK;
}

} // namespace LAM_CUDA_NS
