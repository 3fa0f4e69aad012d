// cusim_core.cpp - the simulated device's fibers and their scheduler (see cusim_core.h): the
// x86-64 context switch, the per-block run loop under a schedule order, barriers, warp
// operations with the PTX rules, and the fault reports.
#include "cusim_core.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <vector_functions.h>

#include "cusim_api.h"
#include "cusim_state.h"

#if !defined(__x86_64__)
#error "cuda/sim: the fiber context switch is written for x86-64 (set LAM_CUDA_SIM=OFF)"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CUSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUSIM_ASAN 1
#endif
#endif
#ifdef CUSIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

// lam_cusim_switch(save, load): pushes the callee-saved registers, MXCSR and the x87 control
// word on the current stack, stores the stack pointer in *save, switches to load and pops the
// same from there. A new fiber's stack is laid out so that the final ret enters
// lam_cusim_fiber_start, which calls r12(r13). About 20 instructions and no system call.
extern "C" void lam_cusim_switch(void **save, void *load);
extern "C" void lam_cusim_fiber_start(void);
asm(R"(
    .text
    .globl lam_cusim_switch
    .type lam_cusim_switch, @function
    .p2align 4
lam_cusim_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size lam_cusim_switch, .-lam_cusim_switch
    .globl lam_cusim_fiber_start
    .type lam_cusim_fiber_start, @function
    .p2align 4
lam_cusim_fiber_start:
    movq %r13, %rdi
    callq *%r12
    ud2
    .size lam_cusim_fiber_start, .-lam_cusim_fiber_start
)");

namespace lam_cusim {

__thread Thread *t_self;
__thread Block *t_block;

namespace {

#ifdef CUSIM_ASAN
constexpr size_t kStack = 512 * 1024; // instrumented frames are several times larger
#else
constexpr size_t kStack = 128 * 1024;
#endif
constexpr size_t kGuard = 4096;
constexpr unsigned kMaxThreads = 1024;
constexpr size_t kMaxDynSmem = 48 * 1024; // without the opt-in attribute (not simulated)

// One stack per thread slot of a block, with a guard page below each, mapped once per OS
// thread that runs kernels; pages are committed only when touched.
struct Stacks {
    char *base = nullptr;
    char *top(unsigned i) { return base + (size_t)(i + 1) * (kStack + kGuard); }
    char *bottom(unsigned i) { return base + (size_t)i * (kStack + kGuard) + kGuard; }
    bool ensure() {
        if (base) return true;
        size_t bytes = (size_t)kMaxThreads * (kStack + kGuard);
        void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return false;
        base = static_cast<char *>(p);
        for (unsigned i = 0; i < kMaxThreads; i++)
            mprotect(base + (size_t)i * (kStack + kGuard), kGuard, PROT_NONE);
        return true;
    }
};

struct Runner {
    const char *kernel, *file;
    int line;
    void (*thunk)(void *);
    void *arg;
    Block blk;
    std::vector<Thread> th;
    unsigned n = 0;
    void *sched_sp = nullptr;
    const void *sched_bottom = nullptr; // AddressSanitizer: the scheduler's stack
    size_t sched_size = 0;
    void *sched_fake = nullptr;
    unsigned bar_waiting = 0, n_exited = 0;
    bool faulted = false;
    int schedule = 0;
    uint64_t rng = 0;
    std::vector<unsigned> order;
};

thread_local Runner *t_run;
thread_local Stacks t_stacks;

uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

const char *op_name(int op) {
    switch (op) {
    case OP_SYNCWARP:
        return "__syncwarp";
    case OP_SHFL_IDX:
        return "__shfl_sync";
    case OP_SHFL_UP:
        return "__shfl_up_sync";
    case OP_SHFL_DOWN:
        return "__shfl_down_sync";
    case OP_SHFL_XOR:
        return "__shfl_xor_sync";
    case OP_BALLOT:
        return "__ballot_sync";
    case OP_ALL:
        return "__all_sync";
    case OP_ANY:
        return "__any_sync";
    }
    return "?";
}

std::string where(const Runner *r) {
    char b[512];
    snprintf(b, sizeof b, "kernel %s (launched at %s:%d), block (%u,%u,%u)", r->kernel, r->file,
             r->line, r->blk.bid.x, r->blk.bid.y, r->blk.bid.z);
    return b;
}

// Names live on the stack, never the heap: a faulting fiber never returns, so nothing it
// holds would be freed.
struct Name {
    char s[48];
};
Name tname(const Thread *t) {
    Name n;
    snprintf(n.s, sizeof n.s, "thread (%u,%u,%u)", t->tid.x, t->tid.y, t->tid.z);
    return n;
}

void *init_stack(char *top, void (*fn)(void *), void *arg) {
    uint64_t *sp = reinterpret_cast<uint64_t *>(top) - 10;
    sp[0] = 0x1f80u | (uint64_t)0x037f << 32; // MXCSR default (no FTZ/DAZ), x87 default
    sp[1] = sp[2] = 0;                        // r15, r14
    sp[3] = reinterpret_cast<uint64_t>(arg);  // r13
    sp[4] = reinterpret_cast<uint64_t>(fn);   // r12
    sp[5] = sp[6] = 0;                        // rbx, rbp
    sp[7] = reinterpret_cast<uint64_t>(&lam_cusim_fiber_start);
    sp[8] = sp[9] = 0;
    return sp;
}

// From the running fiber back to the scheduler; does not return when the fiber has exited or
// faulted.
void to_scheduler(Thread *t, bool exiting) {
    Runner *r = t_run;
#ifdef CUSIM_ASAN
    __sanitizer_start_switch_fiber(exiting ? nullptr : &t->fake_stack, r->sched_bottom,
                                   r->sched_size);
#else
    (void)exiting;
#endif
    lam_cusim_switch(&t->sp, r->sched_sp);
#ifdef CUSIM_ASAN
    __sanitizer_finish_switch_fiber(t->fake_stack, nullptr, nullptr);
#endif
}

void run_thread(Runner *r, Thread *t) {
    t_self = t;
#ifdef CUSIM_ASAN
    __sanitizer_start_switch_fiber(&r->sched_fake, t_stacks.bottom(t->linear), kStack);
#endif
    lam_cusim_switch(&r->sched_sp, t->sp);
#ifdef CUSIM_ASAN
    __sanitizer_finish_switch_fiber(r->sched_fake, nullptr, nullptr);
#endif
    t_self = nullptr;
}

// The running fiber reports a fault and leaves for good.
[[noreturn]] void fiber_fault(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fiber_fault(const char *fmt, ...) {
    Runner *r = t_run;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fault(cudaErrorLaunchFailure, "%s: %s", where(r).c_str(), msg);
    r->faulted = true;
    Thread *t = t_self;
    to_scheduler(t, true);
    abort(); // never resumed
}

void complete_barrier(Runner *r) {
    // every thread of the block waits; .aligned barriers must be the same instruction
    const Thread *first = &r->th[0];
    char sites[1024] = "";
    size_t len = 0;
    int n_sites = 0;
    for (unsigned i = 0; i < r->n; i++) {
        const Thread *t = &r->th[i];
        if (t->file == first->file && t->line == first->line) continue;
        if (n_sites++ < 4 && len < sizeof sites)
            len += (size_t)snprintf(sites + len, sizeof sites - len, "; %s waits at %s:%d",
                                    tname(t).s, t->file, t->line);
    }
    if (n_sites)
        fiber_fault("divergent barrier: %s waits at __syncthreads %s:%d%s (%d threads elsewhere); "
                    "all threads of a block must reach the same __syncthreads",
                    tname(first).s, first->file, first->line, sites, n_sites);
    for (unsigned i = 0; i < r->n; i++) r->th[i].state = RUNNABLE;
    r->bar_waiting = 0;
}

// Tries to complete the group of warp w waiting with membermask mask.
void try_complete(Runner *r, unsigned w, unsigned mask) {
    Thread *lane[32] = {};
    int op = -1;
    const Thread *op_from = nullptr;
    for (unsigned l = 0; l < 32; l++) {
        if (!(mask >> l & 1u)) continue;
        unsigned idx = w * 32 + l;
        if (idx >= r->n) continue; // no such thread: like an exited one
        Thread *t = &r->th[idx];
        if (t->state == EXITED) continue;
        if (t->state != WAIT_WARP || t->mask != mask) return; // not arrived (yet)
        if (op < 0) {
            op = t->op;
            op_from = t;
        } else if (t->op != op) {
            fiber_fault("warp %u: lanes with membermask 0x%08x wait at different warp "
                        "operations: %s at %s:%d (%s) and %s at %s:%d (%s)",
                        w, mask, op_name(op), op_from->file, op_from->line, tname(op_from).s,
                        op_name(t->op), t->file, t->line, tname(t).s);
        }
        lane[l] = t;
    }
    if (op < 0) return;
    if (op == OP_SYNCWARP)
        for (unsigned l = 0; l < 32; l++)
            if ((mask >> l & 1u) && !lane[l])
                fiber_fault("__syncwarp(0x%08x) at %s:%d (%s) waits for lane %u of warp %u, "
                            "which %s",
                            mask, op_from->file, op_from->line, tname(op_from).s, l, w,
                            w * 32 + l < r->n ? "has exited" : "does not exist");
    unsigned long long ballot = 0;
    bool all = true, any = false;
    for (unsigned l = 0; l < 32; l++) {
        if (!lane[l]) continue;
        bool p = lane[l]->value != 0;
        ballot |= (unsigned long long)p << l;
        all = all && p;
        any = any || p;
    }
    for (unsigned l = 0; l < 32; l++) {
        Thread *t = lane[l];
        if (!t) continue;
        switch (op) {
        case OP_BALLOT:
            t->result = ballot;
            break;
        case OP_ALL:
            t->result = all;
            break;
        case OP_ANY:
            t->result = any;
            break;
        case OP_SYNCWARP:
            t->result = 0;
            break;
        default: { // shfl.sync: the PTX source-lane rule with c = ((32-width)<<8) | clamp
            int seg = 32 - t->width, bval = t->b & 31, li = (int)l;
            int cval = op == OP_SHFL_UP ? 0 : 31;
            int max_lane = (li & seg) | (cval & ~seg), min_lane = li & seg, j = li;
            bool in = false;
            if (op == OP_SHFL_UP) j = li - bval, in = j >= max_lane;
            if (op == OP_SHFL_DOWN) j = li + bval, in = j <= max_lane;
            if (op == OP_SHFL_XOR) j = li ^ bval, in = j <= max_lane;
            if (op == OP_SHFL_IDX) j = min_lane | (bval & ~seg & 31), in = j <= max_lane;
            if (!in) j = li;
            if (!(mask >> j & 1u))
                fiber_fault("%s(0x%08x) at %s:%d: %s (lane %u) reads lane %d, which is outside "
                            "the membermask",
                            op_name(op), mask, t->file, t->line, tname(t).s, l, j);
            if (!lane[j])
                fiber_fault("%s(0x%08x) at %s:%d: %s (lane %u) reads lane %d, which %s",
                            op_name(op), mask, t->file, t->line, tname(t).s, l, j,
                            w * 32 + (unsigned)j < r->n ? "has exited" : "does not exist");
            t->result = lane[j]->value;
        }
        }
    }
    for (unsigned l = 0; l < 32; l++)
        if (lane[l]) lane[l]->state = RUNNABLE;
}

void thread_exit(Runner *r, Thread *t) {
    t->state = EXITED;
    r->n_exited++;
    if (r->bar_waiting) {
        const Thread *w = nullptr;
        for (unsigned i = 0; i < r->n && !w; i++)
            if (r->th[i].state == WAIT_BAR) w = &r->th[i];
        fiber_fault("divergent barrier: %s exited while %u threads wait at __syncthreads %s:%d "
                    "(%s among them); all threads of a block must reach every __syncthreads",
                    tname(t).s, r->bar_waiting, w->file, w->line, tname(w).s);
    }
    // groups of its warp that waited for it (shuffles and votes skip exited lanes)
    for (unsigned l = 0; l < 32; l++) {
        unsigned idx = t->warp * 32 + l;
        if (idx >= r->n) break;
        Thread *o = &r->th[idx];
        if (o->state == WAIT_WARP && (o->mask >> t->lane & 1u)) try_complete(r, t->warp, o->mask);
    }
    to_scheduler(t, true);
}

void fiber_main(void *p) {
    Runner *r = t_run;
    Thread *t = static_cast<Thread *>(p);
#ifdef CUSIM_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &r->sched_bottom, &r->sched_size);
#endif
    r->thunk(r->arg);
    thread_exit(r, t);
}

void deadlock(Runner *r) {
    struct Site {
        int state, op;
        unsigned mask;
        const char *file;
        int line;
        int count;
        const Thread *first;
    };
    std::vector<Site> sites;
    for (unsigned i = 0; i < r->n; i++) {
        const Thread *t = &r->th[i];
        if (t->state == EXITED) continue;
        bool found = false;
        for (Site &s : sites)
            if (s.state == t->state && s.file == t->file && s.line == t->line &&
                (t->state != WAIT_WARP || (s.op == t->op && s.mask == t->mask))) {
                s.count++;
                found = true;
                break;
            }
        if (!found) sites.push_back({t->state, t->op, t->mask, t->file, t->line, 1, t});
    }
    std::string msg;
    for (size_t i = 0; i < sites.size() && i < 8; i++) {
        const Site &s = sites[i];
        char b[320];
        if (s.state == WAIT_BAR)
            snprintf(b, sizeof b, "%s%d thread%s wait at __syncthreads %s:%d (first %s)",
                     i ? "; " : "", s.count, s.count == 1 ? "" : "s", s.file, s.line,
                     tname(s.first).s);
        else
            snprintf(b, sizeof b, "%s%d thread%s wait at %s(0x%08x) %s:%d (first %s)",
                     i ? "; " : "", s.count, s.count == 1 ? "" : "s", op_name(s.op), s.mask, s.file,
                     s.line, tname(s.first).s);
        msg += b;
    }
    fault(cudaErrorLaunchFailure, "%s: deadlock: no thread can proceed: %s (%u exited)",
          where(r).c_str(), msg.c_str(), r->n_exited);
    r->faulted = true;
}

void make_order(Runner *r) {
    unsigned n = r->n;
    r->order.resize(n);
    for (unsigned i = 0; i < n; i++) r->order[i] = r->schedule == LAM_CUSIM_REVERSE ? n - 1 - i : i;
    if (r->schedule == LAM_CUSIM_RANDOM)
        for (unsigned i = n; i > 1; i--)
            std::swap(r->order[i - 1], r->order[splitmix(&r->rng) % i]);
}

void run_block(Runner *r) {
    r->bar_waiting = 0;
    r->n_exited = 0;
    if (r->blk.dyn_bytes) memset(r->blk.dyn_smem, 0xff, r->blk.dyn_bytes); // NaN bytes
    for (unsigned i = 0; i < r->n; i++) {
        Thread *t = &r->th[i];
        memset(t, 0, sizeof *t);
        unsigned bx = r->blk.bdim.x, by = r->blk.bdim.y;
        t->tid = make_uint3(i % bx, (i / bx) % by, i / (bx * by));
        t->linear = i;
        t->lane = i % 32;
        t->warp = i / 32;
        t->state = RUNNABLE;
#ifdef CUSIM_ASAN
        // fibers never unwind (they switch away for good), so their stack's old frames stay
        // poisoned in ASan's shadow memory until cleared here
        __asan_unpoison_memory_region(t_stacks.bottom(i), kStack);
#endif
        t->sp = init_stack(t_stacks.top(i), fiber_main, t);
    }
    t_block = &r->blk;
    for (;;) {
        make_order(r);
        bool ran = false;
        for (unsigned k = 0; k < r->n; k++) {
            Thread *t = &r->th[r->order[k]];
            if (t->state != RUNNABLE) continue;
            ran = true;
            run_thread(r, t);
            if (r->faulted) return;
        }
        if (r->n_exited == r->n) return;
        if (!ran) {
            deadlock(r);
            return;
        }
    }
}

uint64_t gcd(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

} // namespace

void syncthreads(const char *file, int line) {
    Thread *t = t_self;
    Runner *r = t_run;
    t->state = WAIT_BAR;
    t->file = file;
    t->line = line;
    if (r->n_exited) {
        const Thread *e = nullptr;
        for (unsigned i = 0; i < r->n && !e; i++)
            if (r->th[i].state == EXITED) e = &r->th[i];
        fiber_fault("divergent barrier: %s reaches __syncthreads %s:%d but %s (and %u in all) "
                    "exited without reaching it; all threads of a block must reach every "
                    "__syncthreads",
                    tname(t).s, file, line, tname(e).s, r->n_exited);
    }
    if (++r->bar_waiting == r->n) complete_barrier(r);
    to_scheduler(t, false);
}

unsigned long long warp_op(const char *file, int line, int op, unsigned mask,
                           unsigned long long value, int b, int width) {
    Thread *t = t_self;
    Runner *r = t_run;
    t->file = file;
    t->line = line;
    if (!(mask >> t->lane & 1u))
        fiber_fault("%s(0x%08x) at %s:%d: %s (lane %u) is not in its own membermask", op_name(op),
                    mask, file, line, tname(t).s, t->lane);
    if (op >= OP_SHFL_IDX && op <= OP_SHFL_XOR &&
        (width < 1 || width > 32 || (width & (width - 1))))
        fiber_fault("%s at %s:%d: width %d is not a power of 2 in [1,32]", op_name(op), file, line,
                    width);
    t->state = WAIT_WARP;
    t->op = op;
    t->mask = mask;
    t->value = value;
    t->b = b;
    t->width = width;
    try_complete(r, t->warp, mask);
    to_scheduler(t, false);
    return t->result;
}

void yield_point() {
    Thread *t = t_self;
    to_scheduler(t, false);
}

unsigned char *dyn_smem() {
    return t_block->dyn_smem;
}

void launch_impl(const char *kernel, const char *file, int line, dim3 grid, dim3 block, size_t smem,
                 cudaStream_t stream, void (*thunk)(void *), void *arg) {
    DeviceState &d = dev();
    std::lock_guard<std::recursive_mutex> lock(d.mu);
    if (d.sticky != cudaSuccess) return; // after a fault every launch fails (cudaGetLastError)
    uint64_t nthreads = (uint64_t)block.x * block.y * block.z;
    uint64_t nblocks = (uint64_t)grid.x * grid.y * grid.z;
    const char *bad = nullptr;
    if (!nthreads || nthreads > kMaxThreads || block.x > 1024 || block.y > 1024 || block.z > 64)
        bad = "block dimensions must be positive with at most 1024 threads (z <= 64)";
    else if (!nblocks || grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
        bad = "grid dimensions must be positive (x < 2^31, y and z <= 65535)";
    if (bad) {
        fprintf(stderr, "cusim: launch of %s at %s:%d with grid (%u,%u,%u), block (%u,%u,%u): %s\n",
                kernel, file, line, grid.x, grid.y, grid.z, block.x, block.y, block.z, bad);
        set_error(cudaErrorInvalidConfiguration);
        return;
    }
    if (smem > kMaxDynSmem) {
        fprintf(stderr,
                "cusim: launch of %s at %s:%d asks %zu bytes of dynamic shared memory; "
                "more than %zu needs cudaFuncSetAttribute, which the simulator does not model\n",
                kernel, file, line, smem, kMaxDynSmem);
        set_error(cudaErrorInvalidValue);
        return;
    }
    if (stream && !d.streams.count(static_cast<void *>(stream))) {
        fprintf(stderr, "cusim: launch of %s at %s:%d on stream %p, which is not a live stream\n",
                kernel, file, line, static_cast<void *>(stream));
        set_error(cudaErrorInvalidResourceHandle);
        return;
    }
    if (!t_stacks.ensure()) {
        fault(cudaErrorMemoryAllocation, "cannot map fiber stacks for kernel %s", kernel);
        return;
    }
    Runner r;
    Runner *outer = t_run;
    t_run = &r;
    r.kernel = kernel;
    r.file = file;
    r.line = line;
    r.thunk = thunk;
    r.arg = arg;
    r.n = (unsigned)nthreads;
    r.th.resize(r.n);
    r.blk.bdim = block;
    r.blk.gdim = grid;
    r.blk.dyn_bytes = smem;
    r.blk.dyn_smem = static_cast<unsigned char *>(malloc(smem ? smem : 1));
    r.schedule = d.schedule;
    r.rng = d.seed ^ (0x51ed270b27e5a3ULL * (uint64_t)(d.launches + 1));
    // block order: forward, reverse, or an affine permutation i -> (a*i + c) mod n
    uint64_t a = 1, c = 0;
    if (r.schedule == LAM_CUSIM_RANDOM && nblocks > 1) {
        do a = splitmix(&r.rng) % nblocks;
        while (!a || gcd(a, nblocks) != 1);
        c = splitmix(&r.rng) % nblocks;
    }
    for (uint64_t i = 0; i < nblocks && !r.faulted; i++) {
        uint64_t k = r.schedule == LAM_CUSIM_REVERSE ? nblocks - 1 - i
                     : r.schedule == LAM_CUSIM_RANDOM
                         ? (uint64_t)(((unsigned __int128)a * i + c) % nblocks)
                         : i;
        r.blk.bid = make_uint3((unsigned)(k % grid.x), (unsigned)(k / grid.x % grid.y),
                               (unsigned)(k / ((uint64_t)grid.x * grid.y)));
        run_block(&r);
        d.threads_run += r.n;
    }
    d.launches++;
    free(r.blk.dyn_smem);
    t_block = nullptr;
    t_run = outer;
}

} // namespace lam_cusim
