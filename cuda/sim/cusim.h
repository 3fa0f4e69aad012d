/* cusim.h - owns what CUDA source sees when the host C++ compiler builds it for the simulated
 * device: NVIDIA's own headers in host mode (cuda_runtime.h, cuda_bf16.h with its
 * round-to-nearest-even conversions, cublasLt.h, nccl.h) with the API entry points renamed to
 * the stand-ins (cusim_names.h); the built-in variables (threadIdx, blockIdx, blockDim,
 * gridDim, warpSize); __shared__ as per-block storage; __syncthreads, __syncwarp, the
 * __shfl*_sync family and the votes as fiber synchronization points (cusim_core.h);
 * atomics; the few device intrinsics the backend uses; and the two spellings that differ from
 * plain CUDA source, LAM_LAUNCH (for <<<>>>) and LAM_DYN_SHARED (for extern __shared__),
 * which cuda/cuda_common.cuh defines for nvcc.
 *
 * Static __shared__ variables are thread_local statics: one copy per OS thread, and the
 * simulator runs one block at a time per OS thread, so each block sees its own. They are not
 * poisoned between blocks (dynamic shared memory is). */
#ifndef LAM_CUSIM_H
#define LAM_CUSIM_H

#define LAM_CUSIM 1

#include "cusim_names.h"

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <cmath>
#include <cstring>

#include "cusim_core.h"

#undef __shared__
#define __shared__ static thread_local
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif

#define threadIdx (lam_cusim::t_self->tid)
#define blockIdx  (lam_cusim::t_block->bid)
#define blockDim  (lam_cusim::t_block->bdim)
#define gridDim   (lam_cusim::t_block->gdim)
#define warpSize  32

#define LAM_LAUNCH(kernel, grid, block, smem, stream, ...)                                         \
    lam_cusim::launch(#kernel, __FILE__, __LINE__, kernel, grid, block, smem, stream, ##__VA_ARGS__)
#define LAM_DYN_SHARED(T, name) T *name = reinterpret_cast<T *>(lam_cusim::dyn_smem())

#define __syncthreads() lam_cusim::syncthreads(__FILE__, __LINE__)
#define __syncwarp(...) lam_cusim::syncwarp(__FILE__, __LINE__, ##__VA_ARGS__)
#define __shfl_sync(mask, v, ...)                                                                  \
    lam_cusim::shfl(__FILE__, __LINE__, lam_cusim::OP_SHFL_IDX, mask, v, __VA_ARGS__)
#define __shfl_up_sync(mask, v, ...)                                                               \
    lam_cusim::shfl(__FILE__, __LINE__, lam_cusim::OP_SHFL_UP, mask, v, __VA_ARGS__)
#define __shfl_down_sync(mask, v, ...)                                                             \
    lam_cusim::shfl(__FILE__, __LINE__, lam_cusim::OP_SHFL_DOWN, mask, v, __VA_ARGS__)
#define __shfl_xor_sync(mask, v, ...)                                                              \
    lam_cusim::shfl(__FILE__, __LINE__, lam_cusim::OP_SHFL_XOR, mask, v, __VA_ARGS__)
#define __ballot_sync(mask, pred)                                                                  \
    ((unsigned)lam_cusim::warp_op(__FILE__, __LINE__, lam_cusim::OP_BALLOT, mask, (pred) != 0, 0,  \
                                  32))
#define __all_sync(mask, pred)                                                                     \
    ((int)lam_cusim::warp_op(__FILE__, __LINE__, lam_cusim::OP_ALL, mask, (pred) != 0, 0, 32))
#define __any_sync(mask, pred)                                                                     \
    ((int)lam_cusim::warp_op(__FILE__, __LINE__, lam_cusim::OP_ANY, mask, (pred) != 0, 0, 32))
#define __threadfence() lam_cusim::yield_point()

namespace lam_cusim {
inline void syncwarp(const char *file, int line, unsigned mask = 0xffffffffu) {
    warp_op(file, line, OP_SYNCWARP, mask, 0, 0, 32);
}
/* An atomic read-modify-write: a scheduling point, then the update (fibers are cooperative,
 * so nothing interleaves with it). */
template <class T, class F> inline T atomic_rmw(T *p, F f) {
    yield_point();
    T old = *p;
    *p = f(old);
    return old;
}
} // namespace lam_cusim

inline int atomicAdd(int *p, int v) {
    return lam_cusim::atomic_rmw(p, [v](int o) { return (int)((unsigned)o + (unsigned)v); });
}
inline unsigned atomicAdd(unsigned *p, unsigned v) {
    return lam_cusim::atomic_rmw(p, [v](unsigned o) { return o + v; });
}
inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v) {
    return lam_cusim::atomic_rmw(p, [v](unsigned long long o) { return o + v; });
}
inline float atomicAdd(float *p, float v) {
    return lam_cusim::atomic_rmw(p, [v](float o) { return o + v; });
}
inline double atomicAdd(double *p, double v) {
    return lam_cusim::atomic_rmw(p, [v](double o) { return o + v; });
}
inline int atomicMin(int *p, int v) {
    return lam_cusim::atomic_rmw(p, [v](int o) { return o < v ? o : v; });
}
inline int atomicMax(int *p, int v) {
    return lam_cusim::atomic_rmw(p, [v](int o) { return o > v ? o : v; });
}
inline unsigned atomicMax(unsigned *p, unsigned v) {
    return lam_cusim::atomic_rmw(p, [v](unsigned o) { return o > v ? o : v; });
}
inline int atomicCAS(int *p, int cmp, int v) {
    return lam_cusim::atomic_rmw(p, [cmp, v](int o) { return o == cmp ? v : o; });
}
inline unsigned long long atomicCAS(unsigned long long *p, unsigned long long cmp,
                                    unsigned long long v) {
    return lam_cusim::atomic_rmw(p, [cmp, v](unsigned long long o) { return o == cmp ? v : o; });
}
inline int atomicExch(int *p, int v) {
    return lam_cusim::atomic_rmw(p, [v](int) { return v; });
}

/* Device intrinsics, with the host's libm underneath (results may differ from the GPU's in
 * the last bits: CUDA's expf, logf, powf, sinf and cosf are within 1 to 2 ulp, glibc's within
 * 1). */
inline float rsqrtf(float x) {
    return 1.0f / sqrtf(x);
}
inline float __expf(float x) {
    return expf(x);
}
inline float __logf(float x) {
    return logf(x);
}
inline float __fdividef(float a, float b) {
    return a / b;
}
inline int __popc(unsigned x) {
    return __builtin_popcount(x);
}
inline int __ffs(int x) {
    return __builtin_ffs(x);
}
inline unsigned __float_as_uint(float x) {
    unsigned u;
    std::memcpy(&u, &x, 4);
    return u;
}
inline float __uint_as_float(unsigned u) {
    float x;
    std::memcpy(&x, &u, 4);
    return x;
}
template <class T> inline T __ldg(const T *p) {
    return *p;
}

/* sin(pi x), cos(pi x) (CUDA's double sincospi; the reduction mod 2 is exact) */
inline void sincospi(double x, double *s, double *c) {
    double r = std::remainder(x, 2.0);
    *s = std::sin(3.14159265358979323846 * r);
    *c = std::cos(3.14159265358979323846 * r);
}

#endif
