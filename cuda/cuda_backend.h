/* cuda_backend.h - owns the CUDA backend's constructors (C linkage, for the registry in
 * src/backend.c). "cuda" computes matmuls and the attention products in bf16 on tensor cores
 * with fp32 accumulation (fp32 in memory: master weights, optimizer state, activations);
 * "cuda-fp32" computes everything in fp32 (for parity). The "cuda-sim" and "cuda-sim-fp32"
 * constructors build the same sources for the simulated device (cuda/sim/, docs/gpu.md).
 * The ops live in one .cu per family (cuda_common.cuh lists them). */
#ifndef LAM_CUDA_BACKEND_H
#define LAM_CUDA_BACKEND_H

#include "lam/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* LAM_ERR_UNSUPPORTED when there is no usable device. The device is LAM_CUDA_DEVICE, else the
 * launcher's node-local rank (Open MPI, Slurm), modulo the device count. */
lam_status lam_cuda_backend_create(lam_backend **out, int n_threads, lam_error *err);
lam_status lam_cuda_fp32_backend_create(lam_backend **out, int n_threads, lam_error *err);
/* The simulated device (always available where built). */
lam_status lam_cusim_backend_create(lam_backend **out, int n_threads, lam_error *err);
lam_status lam_cusim_fp32_backend_create(lam_backend **out, int n_threads, lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
