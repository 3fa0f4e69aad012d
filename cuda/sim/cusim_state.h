/* cusim_state.h - owns the simulated device's process state, shared by the fiber scheduler and
 * the stand-ins: allocations, streams, the last and sticky errors, the fault report and the
 * schedule order.
 *
 * Why global: cudart keeps an implicit current device per process (cudaMalloc and kernel
 * launches take no context argument), and the backend's sources must run unchanged on the
 * real runtime and on this one, so the stand-ins cannot be handed a context either. This is
 * the one piece of process-global mutable state outside the backend registry, and it lives
 * only in cuda/sim. A mutex guards it (one OS thread runs kernels at a time). */
#ifndef LAM_CUSIM_STATE_H
#define LAM_CUSIM_STATE_H

#include <cstdarg>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <driver_types.h>

namespace lam_cusim {

struct Alloc {
    size_t bytes;
};

struct DeviceState {
    std::recursive_mutex mu;
    std::map<uintptr_t, Alloc> allocs; /* base address -> allocation */
    int64_t live_bytes = 0;
    std::set<void *> streams;
    cudaError_t last = cudaSuccess;   /* returned and cleared by cudaGetLastError */
    cudaError_t sticky = cudaSuccess; /* a fault: every later call fails with it */
    std::string fault;
    int schedule = 0;
    uint64_t seed = 1;
    int64_t launches = 0, threads_run = 0;
    int64_t warnings = 0;
    int64_t mallocs = 0; /* cudaMalloc calls */
};

/* The device (created on first use; the schedule from LAM_CUSIM_SCHEDULE). */
DeviceState &dev();

/* Records a fault: prints "cusim: ..." to stderr, keeps it as the last fault report and makes
 * err the sticky error (cudaErrorLaunchFailure for kernel faults). */
void fault(cudaError_t err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A rule broken in a way the real library does not report (a race it would run into, such as
 * a product's output overlapping its inputs): printed as "cusim: warning: ..." and counted
 * (lam_cusim_warnings); the call still succeeds. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sets the last error (non-sticky), returns it. */
cudaError_t set_error(cudaError_t err);

/* The allocation holding [p, p+bytes), or NULL. */
const Alloc *find_alloc(const void *p, size_t bytes, uintptr_t *base = nullptr);
/* 1 if p points into any allocation. */
bool is_device_ptr(const void *p);

/* Sets the x86 MXCSR to the GPU's fp32 behaviour (round to nearest, denormals kept) for its
 * lifetime: the host threads running the simulation may have FTZ/DAZ on. */
struct FpEnvGuard {
    unsigned saved;
    FpEnvGuard();
    ~FpEnvGuard();
};

} // namespace lam_cusim

#endif
