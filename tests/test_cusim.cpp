// test_cusim.cpp - the simulated CUDA device's own semantics (cuda/sim/), one mode a ctest:
//
//   test_cusim MODE      barrier | missing_barrier | shuffle | vote | atomic | schedule |
//                        smem | faults | memory | launch | bench
//
// Each kernel here is plain CUDA source (built by the host compiler with cuda/sim/cusim.h).
// Expected results are computed on the host from the CUDA Programming Guide's descriptions
// (segments of `width` lanes for shuffles, one bit per active lane for ballots), written
// independently of the PTX lane formula the simulator implements. Modes that run kernels
// repeat them under the forward, reverse and a seeded random schedule.
#include "cusim.h"

#include <ucontext.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cusim_api.h"

static int g_fail;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            g_fail++;                                                                              \
        }                                                                                          \
    } while (0)

#define CK(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #call,                     \
                    cudaGetErrorString(e_));                                                       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static const lam_cusim_schedule kOrders[3] = {LAM_CUSIM_FORWARD, LAM_CUSIM_REVERSE,
                                              LAM_CUSIM_RANDOM};
static const char *kOrderNames[3] = {"forward", "reverse", "random"};

template <class T> static T *dalloc(size_t n) {
    void *p = nullptr;
    CK(cudaMalloc(&p, n * sizeof(T)));
    return static_cast<T *>(p);
}
template <class T> static std::vector<T> down(const T *d, size_t n) {
    std::vector<T> h(n);
    CK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}
template <class T> static void up(T *d, const std::vector<T> &h) {
    CK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
}

// ---- barrier: a block-wide tree sum in shared memory ----------------------------------

__global__ void block_sum(const int *x, int *out, int n) {
    __shared__ int s[256];
    unsigned t = threadIdx.x;
    unsigned i = blockIdx.x * blockDim.x + t;
    s[t] = i < (unsigned)n ? x[i] : 0;
    __syncthreads();
    for (unsigned h = blockDim.x / 2; h > 0; h /= 2) {
        if (t < h) s[t] += s[t + h];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}

static void mode_barrier() {
    const int n = 1000, nb = 4;
    std::vector<int> h(n);
    for (int i = 0; i < n; i++) h[i] = (i * 7919) % 1001 - 500;
    int *x = dalloc<int>(n), *o = dalloc<int>(nb);
    up(x, h);
    for (int k = 0; k < 3; k++) {
        lam_cusim_set_schedule(kOrders[k], 42);
        LAM_LAUNCH(block_sum, nb, 256, 0, nullptr, x, o, n);
        CK(cudaGetLastError());
        std::vector<int> r = down(o, nb);
        for (int b = 0; b < nb; b++) {
            int want = 0;
            for (int i = b * 256; i < (b + 1) * 256 && i < n; i++) want += h[i];
            EXPECT(r[b] == want, "%s: block %d sum %d, want %d", kOrderNames[k], b, r[b], want);
        }
    }
    CK(cudaFree(x));
    CK(cudaFree(o));
}

// ---- missing_barrier: the same kernel without its barrier gives a wrong answer under at
// least one schedule order (the point of running several) ---------------------------------

__global__ void neighbour_no_barrier(int *out, int salt) {
    __shared__ int s[64];
    unsigned t = threadIdx.x;
    s[t] = (int)t + salt;
    // __syncthreads() missing here
    out[t] = s[(t + 1) % 64];
}

__global__ void neighbour_barrier(int *out, int salt) {
    __shared__ int s[64];
    unsigned t = threadIdx.x;
    s[t] = (int)t + salt;
    __syncthreads();
    out[t] = s[(t + 1) % 64];
}

static void mode_missing_barrier() {
    int *o = dalloc<int>(64);
    int wrong_orders = 0, salt = 0;
    for (int k = 0; k < 3; k++) {
        lam_cusim_set_schedule(kOrders[k], 7);
        for (int with = 0; with < 2; with++) {
            salt += 1000; // each launch writes new values, so stale ones show
            if (with)
                LAM_LAUNCH(neighbour_barrier, 1, 64, 0, nullptr, o, salt);
            else
                LAM_LAUNCH(neighbour_no_barrier, 1, 64, 0, nullptr, o, salt);
            CK(cudaGetLastError());
            std::vector<int> r = down(o, 64);
            int bad = 0;
            for (int t = 0; t < 64; t++) bad += r[t] != (t + 1) % 64 + salt;
            if (with) EXPECT(!bad, "%s: with the barrier %d results wrong", kOrderNames[k], bad);
            if (!with && bad) wrong_orders++;
            printf("  %-8s %-18s %2d of 64 results wrong\n", kOrderNames[k],
                   with ? "with barrier" : "without barrier", bad);
        }
    }
    EXPECT(wrong_orders >= 1, "the missing barrier went unnoticed under every schedule order");
    CK(cudaFree(o));
}

// ---- shuffle: every mode and width against the Programming Guide's segment rules ----------

__global__ void shuffles(const int *in, int *out, int width, int arg) {
    unsigned t = threadIdx.x;
    int v = in[t];
    out[0 * 32 + t] = __shfl_sync(0xffffffffu, v, arg, width);
    out[1 * 32 + t] = __shfl_up_sync(0xffffffffu, v, (unsigned)arg, width);
    out[2 * 32 + t] = __shfl_down_sync(0xffffffffu, v, (unsigned)arg, width);
    out[3 * 32 + t] = __shfl_xor_sync(0xffffffffu, v, arg, width);
    double d = v * 0.5;
    double r = __shfl_xor_sync(0xffffffffu, d, 1, 32); // 8-byte values move whole
    out[4 * 32 + t] = (int)(r * 2.0);
}

static void mode_shuffle() {
    int *in = dalloc<int>(32), *out = dalloc<int>(5 * 32);
    std::vector<int> h(32);
    for (int i = 0; i < 32; i++) h[i] = 1000 + i * 13;
    up(in, h);
    const int widths[6] = {32, 16, 8, 4, 2, 1};
    const int args[5] = {0, 1, 3, 5, 17};
    int cases = 0;
    for (int k = 0; k < 3; k++) {
        lam_cusim_set_schedule(kOrders[k], 99);
        for (int w : widths)
            for (int a : args) {
                LAM_LAUNCH(shuffles, 1, 32, 0, nullptr, in, out, w, a);
                CK(cudaGetLastError());
                std::vector<int> r = down(out, 5 * 32);
                for (int l = 0; l < 32; l++) {
                    int seg = l / w * w, pos = l % w;
                    // idx: lane srcLane % width of the own segment
                    int idx = h[seg + a % w];
                    // up: lane - delta if still in the segment, else own value
                    int upv = pos - a >= 0 ? h[l - a] : h[l];
                    // down: lane + delta if still in the segment, else own value
                    int dnv = pos + a < w ? h[l + a] : h[l];
                    // xor: lane ^ mask unless that is in a later segment
                    int x = l ^ a;
                    int xov = x / w * w <= seg ? h[x] : h[l];
                    EXPECT(r[l] == idx, "%s: shfl idx w=%d src=%d lane %d: %d, want %d",
                           kOrderNames[k], w, a, l, r[l], idx);
                    EXPECT(r[32 + l] == upv, "%s: shfl up w=%d d=%d lane %d: %d, want %d",
                           kOrderNames[k], w, a, l, r[32 + l], upv);
                    EXPECT(r[64 + l] == dnv, "%s: shfl down w=%d d=%d lane %d: %d, want %d",
                           kOrderNames[k], w, a, l, r[64 + l], dnv);
                    EXPECT(r[96 + l] == xov, "%s: shfl xor w=%d m=%d lane %d: %d, want %d",
                           kOrderNames[k], w, a, l, r[96 + l], xov);
                    EXPECT(r[128 + l] == h[l ^ 1], "%s: double shfl lane %d", kOrderNames[k], l);
                    cases += 5;
                }
            }
    }
    printf("  %d shuffle results checked\n", cases);
    CK(cudaFree(in));
    CK(cudaFree(out));
}

// ---- vote: ballots, all, any on full and partial masks, with exited lanes ---------------

__global__ void votes(const int *pred, unsigned *out, unsigned mask, int exit_from) {
    unsigned t = threadIdx.x;
    if ((int)t >= exit_from) return; // these lanes exit before the vote
    if (!(mask >> (t % 32) & 1u)) return;
    int p = pred[t];
    unsigned b = __ballot_sync(mask, p);
    int a = __all_sync(mask, p), y = __any_sync(mask, p);
    __syncwarp(mask & ((exit_from >= 32) ? 0xffffffffu : ((1u << exit_from) - 1u)));
    out[t * 3 + 0] = b;
    out[t * 3 + 1] = (unsigned)a;
    out[t * 3 + 2] = (unsigned)y;
}

static void mode_vote() {
    int *pred = dalloc<int>(32);
    unsigned *out = dalloc<unsigned>(96);
    const unsigned masks[3] = {0xffffffffu, 0x0000ffffu, 0xa5a5a5a5u};
    const int exits[2] = {32, 20};
    for (int k = 0; k < 3; k++) {
        lam_cusim_set_schedule(kOrders[k], 5);
        for (int pat = 0; pat < 3; pat++) {
            std::vector<int> h(32);
            for (int i = 0; i < 32; i++) h[i] = pat == 0 ? 1 : pat == 1 ? (i % 3 == 0) : 0;
            up(pred, h);
            for (unsigned m : masks)
                for (int ex : exits) {
                    CK(cudaMemset(out, 0, 96 * sizeof(unsigned)));
                    LAM_LAUNCH(votes, 1, 32, 0, nullptr, pred, out, m, ex);
                    CK(cudaGetLastError());
                    std::vector<unsigned> r = down(out, 96);
                    unsigned want_b = 0;
                    bool all = true, any = false;
                    for (int l = 0; l < 32; l++)
                        if ((m >> l & 1u) && l < ex) { // active: in the mask and not exited
                            if (h[l]) want_b |= 1u << l;
                            all = all && h[l];
                            any = any || h[l];
                        }
                    for (int l = 0; l < 32; l++) {
                        if (!(m >> l & 1u) || l >= ex) continue;
                        EXPECT(r[l * 3] == want_b, "%s: ballot mask %08x exit %d lane %d: %08x",
                               kOrderNames[k], m, ex, l, r[l * 3]);
                        EXPECT(r[l * 3 + 1] == (unsigned)all, "%s: all", kOrderNames[k]);
                        EXPECT(r[l * 3 + 2] == (unsigned)any, "%s: any", kOrderNames[k]);
                    }
                }
        }
    }
    CK(cudaFree(pred));
    CK(cudaFree(out));
}

// ---- atomic: counters from every thread of many blocks -----------------------------------

__global__ void atomics(int *counter, float *fsum, int *mx, int *hist) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    atomicAdd(counter, 1);
    atomicAdd(fsum, 0.5f); // exact: sums of halves below 2^24
    atomicMax(mx, (int)(i * 37 % 1013));
    atomicAdd(&hist[i % 7], (int)i);
    int old = atomicCAS(&hist[7], 0, (int)i + 1);
    (void)old;
}

static void mode_atomic() {
    const int nb = 13, bs = 96, n = nb * bs;
    int *c = dalloc<int>(1), *mx = dalloc<int>(1), *hist = dalloc<int>(8);
    float *f = dalloc<float>(1);
    for (int k = 0; k < 3; k++) {
        lam_cusim_set_schedule(kOrders[k], 11);
        CK(cudaMemset(c, 0, 4));
        CK(cudaMemset(f, 0, 4));
        CK(cudaMemset(mx, 0, 4));
        CK(cudaMemset(hist, 0, 32));
        LAM_LAUNCH(atomics, nb, bs, 0, nullptr, c, f, mx, hist);
        CK(cudaGetLastError());
        int hc = down(c, 1)[0], hm = down(mx, 1)[0];
        float hf = down(f, 1)[0];
        std::vector<int> hh = down(hist, 8);
        int want_m = 0;
        std::vector<long long> want_h(7, 0);
        for (int i = 0; i < n; i++) {
            want_m = std::max(want_m, i * 37 % 1013);
            want_h[i % 7] += i;
        }
        EXPECT(hc == n, "%s: counter %d, want %d", kOrderNames[k], hc, n);
        EXPECT(hf == 0.5f * n, "%s: float sum %g, want %g", kOrderNames[k], hf, 0.5 * n);
        EXPECT(hm == want_m, "%s: max %d, want %d", kOrderNames[k], hm, want_m);
        for (int b = 0; b < 7; b++)
            EXPECT(hh[b] == want_h[b], "%s: bucket %d %d", kOrderNames[k], b, hh[b]);
        EXPECT(hh[7] >= 1 && hh[7] <= n, "%s: CAS winner %d", kOrderNames[k], hh[7]);
    }
    CK(cudaFree(c));
    CK(cudaFree(f));
    CK(cudaFree(mx));
    CK(cudaFree(hist));
}

// ---- schedule: the order threads first run and blocks start ------------------------------

__global__ void first_run(int *tick, int *thread_order, int *block_order) {
    int k = atomicAdd(&tick[0], 1);
    if (k < 64) thread_order[k] = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (threadIdx.x == 0) block_order[atomicAdd(&tick[1], 1)] = (int)blockIdx.x;
}

static void mode_schedule() {
    int *tick = dalloc<int>(2), *to = dalloc<int>(64), *bo = dalloc<int>(8);
    std::vector<std::vector<int>> seen;
    for (int k = 0; k < 3; k++) {
        lam_cusim_set_schedule(kOrders[k], 1234);
        CK(cudaMemset(tick, 0, 8));
        LAM_LAUNCH(first_run, 8, 64, 0, nullptr, tick, to, bo);
        CK(cudaGetLastError());
        std::vector<int> t = down(to, 64), b = down(bo, 8);
        printf("  %-8s blocks", kOrderNames[k]);
        for (int v : b) printf(" %d", v);
        printf("; first threads %d %d %d %d\n", t[0], t[1], t[2], t[3]);
        std::vector<int> sorted = t;
        std::sort(sorted.begin(), sorted.end());
        int b0 = b[0];
        for (int i = 0; i < 64; i++)
            EXPECT(sorted[i] == b0 * 64 + i, "%s: first block's threads not a permutation",
                   kOrderNames[k]);
        if (k == 0)
            for (int i = 0; i < 64; i++) EXPECT(t[i] == i, "forward: thread %d ran %dth", t[i], i);
        if (k == 1)
            for (int i = 0; i < 64; i++)
                EXPECT(t[i] == 7 * 64 + 63 - i, "reverse: thread %d ran %dth", t[i], i);
        seen.push_back(t);
    }
    int same_fwd = 0, same_rev = 0;
    for (int i = 0; i < 64; i++) {
        same_fwd += seen[2][i] == seen[0][i];
        same_rev += seen[2][i] == seen[1][i];
    }
    EXPECT(same_fwd < 16 && same_rev < 16, "random order too close to forward or reverse");
    CK(cudaFree(tick));
    CK(cudaFree(to));
    CK(cudaFree(bo));
}

// ---- smem: dynamic shared memory is per block and NaN-poisoned at each block's start -----

__global__ void dyn_smem(float *out, int n) {
    LAM_DYN_SHARED(float, s);
    unsigned t = threadIdx.x;
    float before = s[t];
    __syncthreads();
    s[t] = (float)(blockIdx.x * 1000 + t);
    __syncthreads();
    out[(blockIdx.x * blockDim.x + t) * 2] = before;
    out[(blockIdx.x * blockDim.x + t) * 2 + 1] = s[(t + 1) % (unsigned)n];
}

static void mode_smem() {
    const int nb = 3, bs = 40;
    float *o = dalloc<float>(nb * bs * 2);
    for (int k = 0; k < 3; k++) {
        lam_cusim_set_schedule(kOrders[k], 3);
        LAM_LAUNCH(dyn_smem, nb, bs, bs * sizeof(float), nullptr, o, bs);
        CK(cudaGetLastError());
        std::vector<float> r = down(o, nb * bs * 2);
        for (int b = 0; b < nb; b++)
            for (int t = 0; t < bs; t++) {
                float before = r[(b * bs + t) * 2], after = r[(b * bs + t) * 2 + 1];
                EXPECT(std::isnan(before), "%s: block %d thread %d saw %g before writing",
                       kOrderNames[k], b, t, before);
                EXPECT(after == (float)(b * 1000 + (t + 1) % bs), "%s: block %d thread %d: %g",
                       kOrderNames[k], b, t, after);
            }
    }
    CK(cudaFree(o));
}

// ---- faults: each broken rule is reported with its file and line -------------------------

static int g_line_a, g_line_b;

__global__ void divergent_barrier(int *out) {
    if (threadIdx.x < 16) {
        g_line_a = __LINE__ + 1;
        __syncthreads();
    } else {
        g_line_b = __LINE__ + 1;
        __syncthreads();
    }
    out[threadIdx.x] = 1;
}

__global__ void exit_then_barrier(int *out) {
    if (threadIdx.x == 5) return;
    g_line_a = __LINE__ + 1;
    __syncthreads();
    out[threadIdx.x] = 1;
}

__global__ void shfl_from_exited(int *out) {
    if (threadIdx.x >= 24) return;
    g_line_a = __LINE__ + 1;
    int v = __shfl_down_sync(0xffffffffu, (int)threadIdx.x, 4);
    out[threadIdx.x] = v;
}

__global__ void shfl_not_own_mask(int *out) {
    g_line_a = __LINE__ + 1;
    int v = __shfl_sync(0x0000ffffu, (int)threadIdx.x, 0);
    out[threadIdx.x] = v;
}

__global__ void shfl_outside_mask(int *out) {
    if (threadIdx.x >= 16) return;
    g_line_a = __LINE__ + 1;
    int v = __shfl_sync(0x0000ffffu, (int)threadIdx.x, 20);
    out[threadIdx.x] = v;
}

__global__ void deadlock_kernel(int *out) {
    // lanes 0-15 wait for the whole warp at __syncwarp, lanes 16-31 for the whole block at
    // __syncthreads: neither can complete
    if (threadIdx.x < 16) {
        g_line_a = __LINE__ + 1;
        __syncwarp(0xffffffffu);
    } else {
        g_line_b = __LINE__ + 1;
        __syncthreads();
    }
    out[threadIdx.x] = 1;
}

__global__ void warp_mismatch(int *out) {
    int v = (int)threadIdx.x;
    if (threadIdx.x % 2) {
        g_line_a = __LINE__ + 1;
        v = __shfl_xor_sync(0xffffffffu, v, 1);
    } else {
        g_line_b = __LINE__ + 1;
        v = (int)__ballot_sync(0xffffffffu, v);
    }
    out[threadIdx.x] = v;
}

__global__ void two_sites_one_mask(int *out) {
    // lanes 0-15 and lanes 16-31 shuffle at two call sites with one full mask: since sm_70
    // that is one shfl.sync group, as on the GPU, so it completes
    int v = (int)threadIdx.x;
    if (threadIdx.x < 16)
        v = __shfl_xor_sync(0xffffffffu, v, 16);
    else
        v = __shfl_xor_sync(0xffffffffu, v, 16);
    out[threadIdx.x] = v;
}

static bool report_has(const char *what, const char *needle, int line) {
    std::string rep = lam_cusim_last_fault();
    char ln[64];
    snprintf(ln, sizeof ln, "test_cusim.cpp:%d", line);
    bool ok =
        rep.find(needle) != std::string::npos && (line <= 0 || rep.find(ln) != std::string::npos);
    EXPECT(ok, "%s: report \"%s\" lacks \"%s\" or %s", what, rep.c_str(), needle, ln);
    if (ok) printf("  ok   %-22s %s\n", what, rep.c_str());
    return ok;
}

template <class K>
static void expect_fault(const char *what, K kern, int threads, const char *needle, int *line) {
    int *o = dalloc<int>(64);
    for (int k = 0; k < 3; k++) {
        lam_cusim_set_schedule(kOrders[k], 17);
        lam_cusim_clear_error();
        *line = 0;
        LAM_LAUNCH(kern, 1, threads, 0, nullptr, o);
        cudaError_t e = cudaDeviceSynchronize();
        EXPECT(e == cudaErrorLaunchFailure, "%s (%s): synchronize returned %s", what,
               kOrderNames[k], cudaGetErrorName(e));
        // a later call fails with the same sticky error
        EXPECT(cudaMemset(o, 0, 4) == cudaErrorLaunchFailure, "%s: error not sticky", what);
        report_has(what, needle, *line);
    }
    lam_cusim_clear_error();
    CK(cudaFree(o));
}

static void mode_faults() {
    expect_fault("divergent barrier", divergent_barrier, 32, "divergent barrier", &g_line_a);
    expect_fault("exit then barrier", exit_then_barrier, 32, "divergent barrier", &g_line_a);
    expect_fault("shuffle exited lane", shfl_from_exited, 32, "has exited", &g_line_a);
    expect_fault("shuffle own mask", shfl_not_own_mask, 32, "not in its own membermask", &g_line_a);
    expect_fault("shuffle outside mask", shfl_outside_mask, 32, "outside the membermask",
                 &g_line_a);
    expect_fault("deadlock", deadlock_kernel, 32, "deadlock", &g_line_b);
    expect_fault("different warp ops", warp_mismatch, 32, "different warp operations", &g_line_a);
    // the same membermask at two call sites is one group (sm_70+): no fault
    int *o = dalloc<int>(32);
    LAM_LAUNCH(two_sites_one_mask, 1, 32, 0, nullptr, o);
    EXPECT(cudaDeviceSynchronize() == cudaSuccess, "two sites, one mask: %s",
           lam_cusim_last_fault());
    std::vector<int> r = down(o, 32);
    for (int l = 0; l < 32; l++) EXPECT(r[l] == (l ^ 16), "two sites: lane %d got %d", l, r[l]);
    CK(cudaFree(o));
}

// ---- memory: allocations are poisoned and every copy is checked against them -------------

static void mode_memory() {
    int64_t n0, b0;
    lam_cusim_allocations(&n0, &b0);
    float *a = dalloc<float>(100), *b = dalloc<float>(50);
    std::vector<float> h = down(a, 100);
    int nan = 0;
    for (float v : h) nan += std::isnan(v);
    EXPECT(nan == 100, "fresh allocation: %d of 100 floats are NaN", nan);
    std::vector<float> host(200, 1.0f);
    auto expect_bad = [](const char *what, cudaError_t got, const char *needle) {
        EXPECT(got == cudaErrorInvalidValue, "%s: %s", what, cudaGetErrorName(got));
        report_has(what, needle, 0);
        cudaGetLastError();
    };
    expect_bad("copy past the end", cudaMemcpy(a + 90, host.data(), 11 * 4, cudaMemcpyHostToDevice),
               "not inside one device allocation");
    expect_bad("device-to-host from host memory",
               cudaMemcpy(host.data(), host.data() + 100, 16, cudaMemcpyDeviceToHost),
               "not inside one device allocation");
    expect_bad("host-to-device from device memory", cudaMemcpy(a, b, 16, cudaMemcpyHostToDevice),
               "is device memory");
    expect_bad("copy across two allocations",
               cudaMemcpy(b, a + 60, 50 * 4, cudaMemcpyDeviceToDevice), "not inside one device");
    expect_bad("overlapping copy", cudaMemcpy(a + 1, a, 40, cudaMemcpyDeviceToDevice), "overlap");
    expect_bad("memset past the end", cudaMemset(b + 40, 0, 11 * 4), "not inside one device");
    expect_bad("free of an inner pointer", cudaFree(a + 1), "not the start of a live allocation");
    CK(cudaMemcpy(a + 90, host.data(), 10 * 4, cudaMemcpyHostToDevice)); // the last 10 fit
    CK(cudaFree(a));
    CK(cudaFree(b));
    int64_t n1, b1;
    lam_cusim_allocations(&n1, &b1);
    EXPECT(n1 == n0 && b1 == b0, "allocations leaked: %lld -> %lld", (long long)n0, (long long)n1);
    lam_cusim_clear_error();
}

// ---- launch: bad configurations fail the launch without running it ----------------------

__global__ void nop(int *p) {
    if (p) p[0] = 1;
}

static void mode_launch() {
    LAM_LAUNCH(nop, 1, 1025, 0, nullptr, (int *)nullptr);
    EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "1025 threads accepted");
    LAM_LAUNCH(nop, 0, 32, 0, nullptr, (int *)nullptr);
    EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "empty grid accepted");
    LAM_LAUNCH(nop, dim3(1, 70000), 32, 0, nullptr, (int *)nullptr);
    EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "grid.y 70000 accepted");
    LAM_LAUNCH(nop, 1, 32, 49 * 1024, nullptr, (int *)nullptr);
    EXPECT(cudaGetLastError() == cudaErrorInvalidValue, "49 KiB dynamic shared memory");
    cudaStream_t s;
    CK(cudaStreamCreate(&s));
    CK(cudaStreamDestroy(s));
    LAM_LAUNCH(nop, 1, 32, 0, s, (int *)nullptr);
    EXPECT(cudaGetLastError() == cudaErrorInvalidResourceHandle, "destroyed stream accepted");
    EXPECT(cudaGetLastError() == cudaSuccess, "cudaGetLastError does not clear");
}

// ---- bench: our context switch against swapcontext ----------------------------------------

__global__ void ping(int *out, int rounds) {
    int v = 0;
    for (int i = 0; i < rounds; i++) v += __shfl_xor_sync(0xffffffffu, i, 1);
    out[threadIdx.x] = v;
}

static ucontext_t g_uc_main, g_uc_fiber;
static volatile long g_uc_count;
static void uc_body() {
    for (;;) {
        g_uc_count++;
        swapcontext(&g_uc_fiber, &g_uc_main);
    }
}

static void mode_bench() {
    int *o = dalloc<int>(32);
    const int rounds = 20000;
    auto t0 = std::chrono::steady_clock::now();
    LAM_LAUNCH(ping, 1, 32, 0, nullptr, o, rounds);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CK(cudaGetLastError());
    double switches = 2.0 * 32 * rounds; // into each fiber and back, per shuffle
    printf("{\"bench\": \"cusim_switch\", \"ns_per_switch\": %.1f,", s * 1e9 / switches);
    std::vector<char> stack(64 * 1024);
    getcontext(&g_uc_fiber);
    g_uc_fiber.uc_stack.ss_sp = stack.data();
    g_uc_fiber.uc_stack.ss_size = stack.size();
    g_uc_fiber.uc_link = nullptr;
    makecontext(&g_uc_fiber, uc_body, 0);
    const int n = 200000;
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; i++) swapcontext(&g_uc_main, &g_uc_fiber);
    double u = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf(" \"swapcontext_ns_per_switch\": %.1f, \"note\": \"ours includes the shuffle's "
           "bookkeeping\"}\n",
           u * 1e9 / (2.0 * n));
    CK(cudaFree(o));
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    struct {
        const char *name;
        void (*fn)();
    } modes[] = {{"barrier", mode_barrier}, {"missing_barrier", mode_missing_barrier},
                 {"shuffle", mode_shuffle}, {"vote", mode_vote},
                 {"atomic", mode_atomic},   {"schedule", mode_schedule},
                 {"smem", mode_smem},       {"faults", mode_faults},
                 {"memory", mode_memory},   {"launch", mode_launch},
                 {"bench", mode_bench}};
    for (auto &m : modes)
        if (!strcmp(mode, m.name)) {
            auto t0 = std::chrono::steady_clock::now();
            m.fn();
            double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            printf("cusim %s: %s (%d failure%s, %.2f s)\n", mode, g_fail ? "FAILED" : "passed",
                   g_fail, g_fail == 1 ? "" : "s", s);
            return g_fail ? 1 : 0;
        }
    fprintf(stderr,
            "usage: %s barrier|missing_barrier|shuffle|vote|atomic|schedule|smem|faults|"
            "memory|launch|bench\n",
            argv[0]);
    return 2;
}
