// cusim_cudart.cpp - the simulated device's cudart stand-ins and its process state (see
// cusim_state.h): allocations tracked and poisoned with NaN bytes, every copy and memset
// checked against them, streams that run their work at once, the last and sticky errors.
#include "cusim_names.h"

#include <cuda_runtime.h>

#include <xmmintrin.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cusim_api.h"
#include "cusim_state.h"

namespace lam_cusim {

DeviceState &dev() {
    static DeviceState *d = [] {
        DeviceState *s = new DeviceState; // never destroyed: kernels may run at exit
        const char *env = getenv("LAM_CUSIM_SCHEDULE");
        if (env && !strncmp(env, "reverse", 7)) s->schedule = LAM_CUSIM_REVERSE;
        if (env && !strncmp(env, "random", 6)) {
            s->schedule = LAM_CUSIM_RANDOM;
            if (env[6] == ':') s->seed = strtoull(env + 7, nullptr, 0);
        }
        return s;
    }();
    return *d;
}

void fault(cudaError_t err, const char *fmt, ...) {
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cusim: %s\n", msg);
    d.fault = msg;
    if (err == cudaErrorLaunchFailure || d.sticky == cudaSuccess) d.sticky = err;
    d.last = err;
}

void warn(const char *fmt, ...) {
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cusim: warning: %s\n", msg);
    d.warnings++;
}

cudaError_t set_error(cudaError_t err) {
    if (err != cudaSuccess) dev().last = err;
    return err;
}

const Alloc *find_alloc(const void *p, size_t bytes, uintptr_t *base) {
    DeviceState &d = dev();
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    auto it = d.allocs.upper_bound(a);
    if (it == d.allocs.begin()) return nullptr;
    --it;
    if (a < it->first || a + bytes > it->first + it->second.bytes || a + bytes < a) return nullptr;
    if (base) *base = it->first;
    return &it->second;
}

bool is_device_ptr(const void *p) {
    return find_alloc(p, 1) != nullptr;
}

FpEnvGuard::FpEnvGuard() : saved(_mm_getcsr()) {
    _mm_setcsr(0x1f80);
}
FpEnvGuard::~FpEnvGuard() {
    _mm_setcsr(saved);
}

} // namespace lam_cusim

using namespace lam_cusim;

namespace {

// Returns the sticky error if a fault happened, else cudaSuccess. Every stand-in starts here.
cudaError_t sticky() {
    return dev().sticky;
}

cudaError_t bad(cudaError_t err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
cudaError_t bad(cudaError_t err, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cusim: %s\n", msg);
    dev().fault = msg;
    return set_error(err);
}

bool live_stream(cudaStream_t s) {
    return !s || dev().streams.count(static_cast<void *>(s));
}

const char *kind_name(cudaMemcpyKind k) {
    switch (k) {
    case cudaMemcpyHostToHost:
        return "HostToHost";
    case cudaMemcpyHostToDevice:
        return "HostToDevice";
    case cudaMemcpyDeviceToHost:
        return "DeviceToHost";
    case cudaMemcpyDeviceToDevice:
        return "DeviceToDevice";
    default:
        return "Default";
    }
}

// The range [p, p+n) lies in one allocation (dev) or in none at all (host).
cudaError_t check_side(const char *call, const char *arg, const void *p, size_t n, bool dev_side) {
    if (dev_side) {
        if (!find_alloc(p, n ? n : 1))
            return bad(cudaErrorInvalidValue,
                       "%s: %s [%p, +%zu) is not inside one device allocation", call, arg, p, n);
    } else if (is_device_ptr(p)) {
        return bad(cudaErrorInvalidValue, "%s: %s %p is device memory, the copy kind says host",
                   call, arg, p);
    }
    return cudaSuccess;
}

cudaError_t do_memcpy(const char *call, void *dst, const void *src, size_t n, cudaMemcpyKind kind,
                      cudaStream_t stream) {
    if (cudaError_t e = sticky()) return e;
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    if (!live_stream(stream))
        return bad(cudaErrorInvalidResourceHandle, "%s: stream %p is not a live stream", call,
                   static_cast<void *>(stream));
    if (!n) return cudaSuccess;
    if (!dst || !src) return bad(cudaErrorInvalidValue, "%s: NULL pointer", call);
    bool dd, sd;
    switch (kind) {
    case cudaMemcpyHostToHost:
        dd = sd = false;
        break;
    case cudaMemcpyHostToDevice:
        dd = true, sd = false;
        break;
    case cudaMemcpyDeviceToHost:
        dd = false, sd = true;
        break;
    case cudaMemcpyDeviceToDevice:
        dd = sd = true;
        break;
    case cudaMemcpyDefault:
        dd = is_device_ptr(dst), sd = is_device_ptr(src);
        break;
    default:
        return bad(cudaErrorInvalidMemcpyDirection, "%s: copy kind %d", call, (int)kind);
    }
    if (cudaError_t e = check_side(call, "dst", dst, n, dd)) return e;
    if (cudaError_t e = check_side(call, "src", src, n, sd)) return e;
    const char *a = static_cast<const char *>(src);
    char *b = static_cast<char *>(dst);
    if (a < b + n && b < a + n)
        return bad(cudaErrorInvalidValue, "%s (%s): source and destination overlap (%p, %p, %zu)",
                   call, kind_name(kind), src, dst, n);
    memcpy(dst, src, n);
    return cudaSuccess;
}

cudaError_t do_memset(const char *call, void *p, int value, size_t n, cudaStream_t stream) {
    if (cudaError_t e = sticky()) return e;
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    if (!live_stream(stream))
        return bad(cudaErrorInvalidResourceHandle, "%s: stream %p is not a live stream", call,
                   static_cast<void *>(stream));
    if (!n) return cudaSuccess;
    if (cudaError_t e = check_side(call, "devPtr", p, n, true)) return e;
    memset(p, value, n);
    return cudaSuccess;
}

} // namespace

extern "C" {

cudaError_t cudaMalloc(void **ptr, size_t size) {
    if (cudaError_t e = sticky()) return e;
    if (!ptr) return bad(cudaErrorInvalidValue, "cudaMalloc: NULL devPtr");
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    d.mallocs++;
    void *p = nullptr;
    // 256-byte aligned as cudaMalloc is; exactly size bytes, so AddressSanitizer (in the
    // sanitized build) catches a kernel that reads or writes past the end
    if (posix_memalign(&p, 256, size ? size : 1)) {
        *ptr = nullptr;
        return set_error(cudaErrorMemoryAllocation);
    }
    memset(p, 0xff, size); // NaN bytes for f32 and bf16, -1 for integers
    d.allocs[reinterpret_cast<uintptr_t>(p)] = Alloc{size};
    d.live_bytes += (int64_t)size;
    *ptr = p;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    if (!p) return cudaSuccess;
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    auto it = d.allocs.find(reinterpret_cast<uintptr_t>(p));
    if (it == d.allocs.end())
        return bad(cudaErrorInvalidValue, "cudaFree(%p): not the start of a live allocation", p);
    d.live_bytes -= (int64_t)it->second.bytes;
    d.allocs.erase(it);
    free(p);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind) {
    return do_memcpy("cudaMemcpy", dst, src, count, kind, nullptr);
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind,
                            cudaStream_t stream) {
    return do_memcpy("cudaMemcpyAsync", dst, src, count, kind, stream);
}

cudaError_t cudaMemset(void *devPtr, int value, size_t count) {
    return do_memset("cudaMemset", devPtr, value, count, nullptr);
}

cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream) {
    return do_memset("cudaMemsetAsync", devPtr, value, count, stream);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags) {
    if (cudaError_t e = sticky()) return e;
    if (!pStream) return bad(cudaErrorInvalidValue, "cudaStreamCreate: NULL pStream");
    if (flags & ~(unsigned)cudaStreamNonBlocking)
        return bad(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: flags 0x%x", flags);
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    void *s = malloc(1); // a unique handle; work on it runs at once
    if (!s) return set_error(cudaErrorMemoryAllocation);
    d.streams.insert(s);
    *pStream = static_cast<cudaStream_t>(s);
    return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t *pStream) {
    return cudaStreamCreateWithFlags(pStream, 0);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    if (!stream || !d.streams.erase(static_cast<void *>(stream)))
        return bad(cudaErrorInvalidResourceHandle, "cudaStreamDestroy(%p): not a live stream",
                   static_cast<void *>(stream));
    free(stream);
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    if (cudaError_t e = sticky()) return e;
    std::lock_guard<std::recursive_mutex> lock(dev().mu);
    if (!live_stream(stream))
        return bad(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: stream %p is not live",
                   static_cast<void *>(stream));
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
    return sticky();
}

cudaError_t cudaGetLastError(void) {
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    cudaError_t e = d.sticky != cudaSuccess ? d.sticky : d.last;
    d.last = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void) {
    DeviceState &d = dev();
    return d.sticky != cudaSuccess ? d.sticky : d.last;
}

const char *cudaGetErrorName(cudaError_t error) {
    switch (error) {
    case cudaSuccess:
        return "cudaSuccess";
    case cudaErrorInvalidValue:
        return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
        return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
        return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidMemcpyDirection:
        return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInvalidResourceHandle:
        return "cudaErrorInvalidResourceHandle";
    case cudaErrorInvalidDevice:
        return "cudaErrorInvalidDevice";
    case cudaErrorLaunchFailure:
        return "cudaErrorLaunchFailure";
    default:
        return "cudaErrorUnknown";
    }
}

const char *cudaGetErrorString(cudaError_t error) {
    switch (error) {
    case cudaSuccess:
        return "no error";
    case cudaErrorInvalidValue:
        return "invalid argument";
    case cudaErrorMemoryAllocation:
        return "out of memory";
    case cudaErrorInvalidConfiguration:
        return "invalid configuration argument";
    case cudaErrorInvalidMemcpyDirection:
        return "invalid copy direction for memcpy";
    case cudaErrorInvalidResourceHandle:
        return "invalid resource handle";
    case cudaErrorInvalidDevice:
        return "invalid device ordinal";
    case cudaErrorLaunchFailure:
        return "unspecified launch failure";
    default:
        return "unknown error";
    }
}

cudaError_t cudaGetDeviceCount(int *count) {
    if (!count) return set_error(cudaErrorInvalidValue);
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int *device) {
    if (!device) return set_error(cudaErrorInvalidValue);
    *device = 0;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
    if (cudaError_t e = sticky()) return e;
    if (device != 0)
        return bad(cudaErrorInvalidDevice, "cudaSetDevice(%d): the simulator has device 0 only",
                   device);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total) {
    if (cudaError_t e = sticky()) return e;
    if (!free_bytes || !total) return set_error(cudaErrorInvalidValue);
    *total = (size_t)80 << 30; // nominal: an 80 GiB device
    int64_t used = dev().live_bytes;
    *free_bytes = *total > (size_t)used ? *total - (size_t)used : 0;
    return cudaSuccess;
}

// ---- controls (cusim_api.h) ----

void lam_cusim_set_schedule(lam_cusim_schedule order, uint64_t seed) {
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    d.schedule = order;
    d.seed = seed;
}

const char *lam_cusim_schedule_desc(char *buf, size_t cap) {
    DeviceState &d = dev();
    if (d.schedule == LAM_CUSIM_RANDOM)
        snprintf(buf, cap, "random:%llu", (unsigned long long)d.seed);
    else
        snprintf(buf, cap, "%s", d.schedule == LAM_CUSIM_REVERSE ? "reverse" : "forward");
    return buf;
}

const char *lam_cusim_last_fault(void) {
    return dev().fault.c_str();
}

void lam_cusim_clear_error(void) {
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    d.sticky = d.last = cudaSuccess;
    d.fault.clear();
}

void lam_cusim_allocations(int64_t *count, int64_t *bytes) {
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    *count = (int64_t)d.allocs.size();
    *bytes = d.live_bytes;
}

int64_t lam_cusim_warnings(void) {
    return dev().warnings;
}

void lam_cusim_counters(int64_t *launches, int64_t *threads, int64_t *mallocs) {
    DeviceState &d = dev();
    *launches = d.launches;
    *threads = d.threads_run;
    *mallocs = d.mallocs;
}

} // extern "C"
