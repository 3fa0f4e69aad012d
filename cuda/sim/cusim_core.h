/* cusim_core.h - owns the simulated device's execution model: a grid runs block after block on
 * the calling OS thread; each block's threads are user-level fibers (cusim_core.cpp, with a
 * hand-written x86-64 context switch) that run until they reach a synchronization point
 * (__syncthreads, __syncwarp, a shuffle or vote, an atomic) and are then resumed in the
 * schedule order (forward, reverse, or a seeded random permutation per round). Barriers,
 * shuffles and votes follow the PTX rules (barrier.sync.aligned, shfl.sync, vote.sync,
 * bar.warp.sync); broken rules (divergent barriers, a shuffle that reads an exited lane or a
 * lane outside its membermask, deadlocks) are faults reported with file and line.
 *
 * The cudart, cuBLASLt and NCCL stand-ins are in cusim_cudart.cpp, cusim_cublaslt.cpp and
 * cusim_nccl.cpp; what kernels see (threadIdx, __shfl_sync, atomics) is in cusim.h. C++ only. */
#ifndef LAM_CUSIM_CORE_H
#define LAM_CUSIM_CORE_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include <driver_types.h>
#include <vector_types.h>

namespace lam_cusim {

enum State { RUNNABLE = 0, WAIT_BAR = 1, WAIT_WARP = 2, EXITED = 3 };
enum Op {
    OP_SYNCWARP = 1,
    OP_SHFL_IDX,
    OP_SHFL_UP,
    OP_SHFL_DOWN,
    OP_SHFL_XOR,
    OP_BALLOT,
    OP_ALL,
    OP_ANY
};

/* One simulated CUDA thread. The first members are what the built-in variables read. */
struct Thread {
    uint3 tid;           /* threadIdx */
    unsigned linear;     /* x + y*bx + z*bx*by */
    unsigned lane, warp; /* linear % 32, linear / 32 */
    int state;
    void *sp;                 /* saved stack pointer while switched out */
    const char *file;         /* where it waits (or last synchronized) */
    int line;                 /* ... */
    int op;                   /* warp op it waits in */
    unsigned mask;            /* its membermask */
    unsigned long long value; /* its operand (shuffles: the value's bytes) */
    int b, width;             /* shuffle lane/offset/mask and width */
    unsigned long long result;
    void *fake_stack; /* AddressSanitizer's fake stack while switched out */
};

/* The block being run and its launch. */
struct Block {
    uint3 bid;
    dim3 bdim, gdim;
    unsigned char *dyn_smem;
    size_t dyn_bytes;
};

/* __thread, not thread_local: direct TLS access from every translation unit, without the
 * C++ TLS wrapper functions (which the sanitized build resolved to NULL across objects). */
extern __thread Thread *t_self;
extern __thread Block *t_block;

inline Thread *self() {
    return t_self;
}
inline Block *block() {
    return t_block;
}

/* Synchronization points (the calling fiber yields; a broken rule becomes a fault). */
void syncthreads(const char *file, int line);
unsigned long long warp_op(const char *file, int line, int op, unsigned mask,
                           unsigned long long value, int b, int width);
/* A scheduling point without synchronization (atomics, fences). */
void yield_point();
/* Dynamic shared memory of the running block (NaN-poisoned at block start). */
unsigned char *dyn_smem();

template <class T>
T shfl(const char *file, int line, int op, unsigned mask, T v, int b, int width = 32) {
    static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8,
                  "shuffles move values of at most 8 bytes");
    unsigned long long raw = 0;
    std::memcpy(&raw, &v, sizeof v);
    raw = warp_op(file, line, op, mask, raw, b, width);
    T out;
    std::memcpy(&out, &raw, sizeof out);
    return out;
}

/* Runs thunk(arg) as the body of every thread of every block. */
void launch_impl(const char *kernel, const char *file, int line, dim3 grid, dim3 block, size_t smem,
                 cudaStream_t stream, void (*thunk)(void *), void *arg);

template <class F> void invoke_thunk(void *f) {
    (*static_cast<F *>(f))();
}

/* The launch macro's target: the arguments are converted to the kernel's parameter types
 * once, as a launch copies them; each thread gets its own copies. */
template <class... P, class... A>
void launch(const char *kernel, const char *file, int line, void (*fn)(P...), dim3 grid, dim3 block,
            size_t smem, cudaStream_t stream, A &&...args) {
    static_assert(sizeof...(P) == sizeof...(A), "kernel launched with the wrong argument count");
    std::tuple<typename std::decay<P>::type...> params(std::forward<A>(args)...);
    auto body = [&params, fn]() { std::apply(fn, params); };
    launch_impl(kernel, file, line, grid, block, smem, stream, &invoke_thunk<decltype(body)>,
                &body);
}

} // namespace lam_cusim

#endif
