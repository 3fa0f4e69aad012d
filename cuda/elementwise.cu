// elementwise.cu - fill, copy, cast, scale, add and SwiGLU on the device: grid-stride loops
// over elements (or over rows for SwiGLU), one element per thread per step.
#include <string.h>

#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

#define GRID_LOOP(i, n)                                                                            \
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)gridDim.x * blockDim.x)

__global__ void fill_u32_kernel(uint32_t *x, int64_t n, uint32_t v) {
    GRID_LOOP(i, n) x[i] = v;
}
__global__ void fill_u16_kernel(uint16_t *x, int64_t n, uint16_t v) {
    GRID_LOOP(i, n) x[i] = v;
}
__global__ void f32_to_bf16_kernel(__nv_bfloat16 *d, const float *s, int64_t n) {
    GRID_LOOP(i, n) d[i] = __float2bfloat16_rn(s[i]);
}
__global__ void bf16_to_f32_kernel(float *d, const __nv_bfloat16 *s, int64_t n) {
    GRID_LOOP(i, n) d[i] = __bfloat162float(s[i]);
}
__global__ void scale_kernel(float *x, int64_t n, float s) {
    GRID_LOOP(i, n) x[i] *= s;
}
__global__ void add_kernel(float *o, const float *a, const float *b, int64_t n) {
    GRID_LOOP(i, n) o[i] = a[i] + b[i];
}
// h (N,F) = silu(g) * u with gu (N,2F) = [g | u]
__global__ void swiglu_fwd_kernel(float *h, const float *gu, int64_t N, int64_t F) {
    GRID_LOOP(k, N * F) {
        int64_t i = k / F, j = k % F;
        float g = gu[i * 2 * F + j], u = gu[i * 2 * F + F + j];
        h[k] = g / (1.0f + expf(-g)) * u;
    }
}
__global__ void swiglu_bwd_kernel(float *dgu, const float *dh, const float *gu, int64_t N,
                                  int64_t F) {
    GRID_LOOP(k, N * F) {
        int64_t i = k / F, j = k % F;
        float g = gu[i * 2 * F + j], u = gu[i * 2 * F + F + j], d = dh[k];
        float sig = 1.0f / (1.0f + expf(-g));
        dgu[i * 2 * F + j] = d * u * sig * (1.0f + g * (1.0f - sig));
        dgu[i * 2 * F + F + j] = d * (g * sig);
    }
}

lam_status op_fill(lam_backend *be, lam_tensor *x, float value, lam_error *err) {
    if (!x || !x->data) return lam_error_set(err, LAM_ERR_SHAPE, "fill: tensor is missing");
    if (x->device != LAM_DEV_CUDA)
        return shapes_err(err, "fill", "tensor is on the wrong device", x, nullptr, nullptr);
    int64_t n = lam_tensor_numel(x);
    cudaStream_t s = ctx(be)->stream;
    if (x->dtype == LAM_BF16) {
        LAM_LAUNCH(fill_u16_kernel, blocks_for(n, kThreads), kThreads, 0, s,
                   static_cast<uint16_t *>(x->data), n, lam_f32_to_bf16(value));
        KCHECK("fill_u16_kernel");
        return LAM_OK;
    }
    uint32_t bits;
    if (x->dtype == LAM_F32) {
        memcpy(&bits, &value, 4);
    } else {
        int32_t v = (int32_t)value;
        memcpy(&bits, &v, 4);
    }
    LAM_LAUNCH(fill_u32_kernel, blocks_for(n, kThreads), kThreads, 0, s,
               static_cast<uint32_t *>(x->data), n, bits);
    KCHECK("fill_u32_kernel");
    return LAM_OK;
}

lam_status op_copy(lam_backend *be, lam_tensor *dst, const lam_tensor *src, lam_error *err) {
    if (!dst || !src || !dst->data || !src->data)
        return lam_error_set(err, LAM_ERR_SHAPE, "copy: tensor is missing");
    if (dst->dtype != src->dtype || lam_tensor_numel(dst) != lam_tensor_numel(src))
        return shapes_err(err, "copy", "dtype or element count differ", dst, src, nullptr);
    if (dst->device != LAM_DEV_CUDA || src->device != LAM_DEV_CUDA)
        return shapes_err(err, "copy", "a tensor is on the wrong device", dst, src, nullptr);
    size_t bytes = lam_tensor_bytes(src);
    const char *a = static_cast<const char *>(src->data);
    char *b = static_cast<char *>(dst->data);
    if (a == b || !bytes) return LAM_OK;
    if (a < b + bytes && b < a + bytes)
        return shapes_err(err, "copy", "source and destination overlap partly", dst, src, nullptr);
    CU(cudaMemcpyAsync(dst->data, src->data, bytes, cudaMemcpyDeviceToDevice, ctx(be)->stream));
    return LAM_OK;
}

lam_status op_cast(lam_backend *be, lam_tensor *dst, const lam_tensor *src, lam_error *err) {
    if (!dst || !src || !dst->data || !src->data)
        return lam_error_set(err, LAM_ERR_SHAPE, "cast: tensor is missing");
    int64_t n = lam_tensor_numel(src);
    if (lam_tensor_numel(dst) != n)
        return shapes_err(err, "cast", "element counts differ", dst, src, nullptr);
    if (dst->dtype == src->dtype) return op_copy(be, dst, src, err);
    if (dst->device != LAM_DEV_CUDA || src->device != LAM_DEV_CUDA)
        return shapes_err(err, "cast", "a tensor is on the wrong device", dst, src, nullptr);
    cudaStream_t s = ctx(be)->stream;
    if (src->dtype == LAM_F32 && dst->dtype == LAM_BF16) {
        LAM_LAUNCH(f32_to_bf16_kernel, blocks_for(n, kThreads), kThreads, 0, s,
                   static_cast<__nv_bfloat16 *>(dst->data), static_cast<const float *>(src->data),
                   n);
        KCHECK("f32_to_bf16_kernel");
    } else if (src->dtype == LAM_BF16 && dst->dtype == LAM_F32) {
        LAM_LAUNCH(bf16_to_f32_kernel, blocks_for(n, kThreads), kThreads, 0, s,
                   static_cast<float *>(dst->data), static_cast<const __nv_bfloat16 *>(src->data),
                   n);
        KCHECK("bf16_to_f32_kernel");
    } else {
        return shapes_err(err, "cast", "only f32 <-> bf16 casts exist", dst, src, nullptr);
    }
    return LAM_OK;
}

lam_status op_scale(lam_backend *be, lam_tensor *x, float s, lam_error *err) {
    CHECK("scale", "x", x, LAM_F32);
    int64_t n = lam_tensor_numel(x);
    LAM_LAUNCH(scale_kernel, blocks_for(n, kThreads), kThreads, 0, ctx(be)->stream,
               static_cast<float *>(x->data), n, s);
    KCHECK("scale_kernel");
    return LAM_OK;
}

lam_status op_add(lam_backend *be, lam_tensor *out, const lam_tensor *a, const lam_tensor *b,
                  lam_error *err) {
    CHECK("add", "out", out, LAM_F32);
    CHECK("add", "a", a, LAM_F32);
    CHECK("add", "b", b, LAM_F32);
    int64_t n = lam_tensor_numel(out);
    if (lam_tensor_numel(a) != n || lam_tensor_numel(b) != n)
        return shapes_err(err, "add", "element counts differ", out, a, b);
    LAM_LAUNCH(add_kernel, blocks_for(n, kThreads), kThreads, 0, ctx(be)->stream,
               static_cast<float *>(out->data), static_cast<const float *>(a->data),
               static_cast<const float *>(b->data), n);
    KCHECK("add_kernel");
    return LAM_OK;
}

static lam_status check_swiglu(const char *op, const lam_tensor *h, const lam_tensor *gu,
                               lam_error *err) {
    int64_t F = last_dim(h), N = n_rows(h);
    if (last_dim(gu) != 2 * F || n_rows(gu) != N)
        return shapes_err(err, op, "expected h (N,F) and gu (N,2F)", h, gu, nullptr);
    return LAM_OK;
}

lam_status op_swiglu_fwd(lam_backend *be, lam_tensor *h, const lam_tensor *gu, lam_error *err) {
    CHECK("swiglu_fwd", "h", h, LAM_F32);
    CHECK("swiglu_fwd", "gu", gu, LAM_F32);
    LAM_TRY(check_swiglu("swiglu_fwd", h, gu, err));
    int64_t F = last_dim(h), N = n_rows(h);
    LAM_LAUNCH(swiglu_fwd_kernel, blocks_for(N * F, kThreads), kThreads, 0, ctx(be)->stream,
               static_cast<float *>(h->data), static_cast<const float *>(gu->data), N, F);
    KCHECK("swiglu_fwd_kernel");
    return LAM_OK;
}

lam_status op_swiglu_bwd(lam_backend *be, lam_tensor *dgu, const lam_tensor *dh,
                         const lam_tensor *gu, lam_error *err) {
    CHECK("swiglu_bwd", "dgu", dgu, LAM_F32);
    CHECK("swiglu_bwd", "dh", dh, LAM_F32);
    CHECK("swiglu_bwd", "gu", gu, LAM_F32);
    LAM_TRY(check_swiglu("swiglu_bwd", dh, gu, err));
    if (lam_tensor_numel(dgu) != lam_tensor_numel(gu))
        return shapes_err(err, "swiglu_bwd", "dgu must have the shape of gu", dgu, gu, nullptr);
    int64_t F = last_dim(dh), N = n_rows(dh);
    LAM_LAUNCH(swiglu_bwd_kernel, blocks_for(N * F, kThreads), kThreads, 0, ctx(be)->stream,
               static_cast<float *>(dgu->data), static_cast<const float *>(dh->data),
               static_cast<const float *>(gu->data), N, F);
    KCHECK("swiglu_bwd_kernel");
    return LAM_OK;
}

} // namespace LAM_CUDA_NS
