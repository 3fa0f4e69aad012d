// test_cusim_nccl.cpp - the simulated device's NCCL stand-in across ranks (run under
// `mpirun -np 2`; the ncclUniqueId goes from rank 0 to the others over MPI, as on a cluster):
// all-reduce, reduce-scatter and all-gather in and out of place, over several chunks, against
// sums computed here on the host in double from every rank's inputs (each rank regenerates
// the others' from their seeds); then the rules: a count that differs between ranks fails on
// every rank naming both calls, a send buffer overlapping the receive buffer without being in
// place fails, a buffer outside device memory fails. Exits 77 without MPI ranks.
#include "cusim.h"

#define OMPI_SKIP_MPICXX  1 /* the C API only: no MPI C++ bindings */
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cusim_api.h"

static int g_fail, g_rank, g_size;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL rank %d %s:%d: ", g_rank, __FILE__, __LINE__);                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            g_fail++;                                                                              \
        }                                                                                          \
    } while (0)

static float value(int rank, size_t i, int salt) { // the inputs of every rank, reproducible
    uint32_t x = (uint32_t)(i * 2654435761u) ^ (uint32_t)(rank * 40503 + salt * 977);
    x ^= x >> 13;
    x *= 0x5bd1e995u;
    x ^= x >> 15;
    return (float)((int)(x % 2001) - 1000) / 37.0f;
}

static ncclComm_t make_comm() {
    ncclUniqueId id;
    if (g_rank == 0 && ncclGetUniqueId(&id) != ncclSuccess) MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
    ncclComm_t c;
    ncclResult_t r = ncclCommInitRank(&c, g_size, id, g_rank);
    if (r != ncclSuccess) {
        fprintf(stderr, "ncclCommInitRank: %s: %s\n", ncclGetErrorString(r),
                lam_cusim_last_fault());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return c;
}

static float *dev_alloc(size_t n) {
    void *p = nullptr;
    if (cudaMalloc(&p, n * sizeof(float)) != cudaSuccess) MPI_Abort(MPI_COMM_WORLD, 1);
    return static_cast<float *>(p);
}

// The sum over ranks of element i of salt's inputs, as every rank adds them: in rank order
// in fp32 (the stand-in's order), which the test checks bitwise; and in double, which the
// fp32 sum must be within R U of.
static float want_sum(size_t i, int salt) {
    float acc = 0.0f;
    for (int r = 0; r < g_size; r++) acc += value(r, i, salt);
    return acc;
}

static void test_collectives(ncclComm_t c) {
    const size_t counts[3] = {1, 1000, (size_t)1300 * 1000}; // the last spans two 4 MiB chunks
    for (size_t n : counts) {
        for (int inplace = 0; inplace < 2; inplace++) {
            // all-reduce
            float *s = dev_alloc(n), *r = inplace ? s : dev_alloc(n);
            std::vector<float> h(n);
            for (size_t i = 0; i < n; i++) h[i] = value(g_rank, i, 1);
            cudaMemcpy(s, h.data(), n * 4, cudaMemcpyHostToDevice);
            ncclResult_t res = ncclAllReduce(s, r, n, ncclFloat, ncclSum, c, nullptr);
            EXPECT(res == ncclSuccess, "allreduce n=%zu: %s", n, ncclGetErrorString(res));
            cudaMemcpy(h.data(), r, n * 4, cudaMemcpyDeviceToHost);
            size_t bad = 0;
            for (size_t i = 0; i < n; i++) bad += h[i] != want_sum(i, 1);
            EXPECT(!bad, "allreduce n=%zu inplace=%d: %zu wrong", n, inplace, bad);
            if (!inplace) cudaFree(r);
            cudaFree(s);
            // reduce-scatter: send (R*n), block `rank` summed
            s = dev_alloc(n * g_size);
            r = inplace ? s + (size_t)g_rank * n : dev_alloc(n);
            h.assign(n * g_size, 0.0f);
            for (size_t i = 0; i < n * g_size; i++) h[i] = value(g_rank, i, 2);
            cudaMemcpy(s, h.data(), n * g_size * 4, cudaMemcpyHostToDevice);
            res = ncclReduceScatter(s, r, n, ncclFloat, ncclSum, c, nullptr);
            EXPECT(res == ncclSuccess, "reduce-scatter n=%zu: %s", n, ncclGetErrorString(res));
            std::vector<float> got(n);
            cudaMemcpy(got.data(), r, n * 4, cudaMemcpyDeviceToHost);
            bad = 0;
            for (size_t i = 0; i < n; i++) bad += got[i] != want_sum((size_t)g_rank * n + i, 2);
            EXPECT(!bad, "reduce-scatter n=%zu inplace=%d: %zu wrong", n, inplace, bad);
            if (!inplace) cudaFree(r);
            cudaFree(s);
            // all-gather: recv (R*n) gets every rank's block
            r = dev_alloc(n * g_size);
            s = inplace ? r + (size_t)g_rank * n : dev_alloc(n);
            for (size_t i = 0; i < n; i++) got[i] = value(g_rank, i, 3);
            cudaMemcpy(s, got.data(), n * 4, cudaMemcpyHostToDevice);
            res = ncclAllGather(s, r, n, ncclFloat, c, nullptr);
            EXPECT(res == ncclSuccess, "all-gather n=%zu: %s", n, ncclGetErrorString(res));
            h.assign(n * g_size, 0.0f);
            cudaMemcpy(h.data(), r, n * g_size * 4, cudaMemcpyDeviceToHost);
            bad = 0;
            for (int k = 0; k < g_size; k++)
                for (size_t i = 0; i < n; i++) bad += h[(size_t)k * n + i] != value(k, i, 3);
            EXPECT(!bad, "all-gather n=%zu inplace=%d: %zu wrong", n, inplace, bad);
            if (!inplace) cudaFree(s);
            cudaFree(r);
        }
    }
}

static bool has(const char *needle) {
    return std::string(lam_cusim_last_fault()).find(needle) != std::string::npos;
}

static void test_rules() {
    float *a = dev_alloc(64), *b = dev_alloc(64);
    std::vector<float> host(64, 1.0f);
    {
        ncclComm_t c = make_comm();
        // counts differ between ranks: every rank fails and names both calls
        ncclResult_t r = ncclAllReduce(a, b, g_rank ? 11 : 10, ncclFloat, ncclSum, c, nullptr);
        EXPECT(r == ncclInvalidUsage, "count mismatch: %s", ncclGetErrorString(r));
        EXPECT(has("rank 0 calls ncclAllReduce(count 10") || has("but rank 0 calls ncclAllReduce"
                                                                 "(count 10"),
               "count mismatch report: %s", lam_cusim_last_fault());
        // the communicator is unusable afterwards, as NCCL's is
        r = ncclAllReduce(a, b, 4, ncclFloat, ncclSum, c, nullptr);
        EXPECT(r == ncclInvalidUsage, "after a failure: %s", ncclGetErrorString(r));
        ncclCommDestroy(c);
    }
    {
        ncclComm_t c = make_comm();
        // reduce-scatter and all-gather disagree on the operation
        ncclResult_t r = g_rank ? ncclAllGather(a, b, 8, ncclFloat, c, nullptr)
                                : ncclReduceScatter(a, b, 8, ncclFloat, ncclSum, c, nullptr);
        EXPECT(r == ncclInvalidUsage && has("ncclAllGather") && has("ncclReduceScatter"),
               "operation mismatch: %s: %s", ncclGetErrorString(r), lam_cusim_last_fault());
        ncclCommDestroy(c);
    }
    {
        ncclComm_t c = make_comm();
        // overlapping buffers that are not the in-place form (checked before any exchange)
        ncclResult_t r = ncclAllReduce(a, a + 1, 16, ncclFloat, ncclSum, c, nullptr);
        EXPECT(r == ncclInvalidArgument && has("overlap"), "allreduce overlap: %s",
               lam_cusim_last_fault());
        r = ncclReduceScatter(a, a + 1, 8, ncclFloat, ncclSum, c, nullptr);
        EXPECT(r == ncclInvalidArgument && has("rank*recvcount"), "reduce-scatter overlap: %s",
               lam_cusim_last_fault());
        r = ncclAllGather(a + 1, a, 8, ncclFloat, c, nullptr);
        EXPECT(r == ncclInvalidArgument && has("rank*sendcount"), "all-gather overlap: %s",
               lam_cusim_last_fault());
        // host memory and buffers too small for the count
        r = ncclAllReduce(host.data(), b, 16, ncclFloat, ncclSum, c, nullptr);
        EXPECT(r == ncclInvalidArgument && has("not inside one device allocation"),
               "host buffer: %s", lam_cusim_last_fault());
        r = ncclReduceScatter(a, b, 40, ncclFloat, ncclSum, c, nullptr); // needs 40*R sent
        EXPECT(r == ncclInvalidArgument && has("sendbuff"), "short sendbuff: %s",
               lam_cusim_last_fault());
        r = ncclAllReduce(a, b, 8, ncclInt32, ncclSum, c, nullptr);
        EXPECT(r == ncclInvalidArgument, "int32 accepted");
        // still usable: those failed before any exchange on every rank alike
        r = ncclAllReduce(a, b, 8, ncclFloat, ncclSum, c, nullptr);
        EXPECT(r == ncclSuccess, "after local errors: %s", lam_cusim_last_fault());
        ncclCommDestroy(c);
    }
    cudaFree(a);
    cudaFree(b);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    if (g_size < 2) {
        if (g_rank == 0) printf("needs mpirun -np 2 or more: skipping\n");
        MPI_Finalize();
        return 77;
    }
    ncclComm_t c = make_comm();
    test_collectives(c);
    ncclCommDestroy(c);
    test_rules();
    int fails = 0;
    MPI_Allreduce(&g_fail, &fails, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0)
        printf("cusim nccl on %d ranks: %s (%d failures)\n", g_size, fails ? "FAILED" : "passed",
               fails);
    MPI_Finalize();
    return fails ? 1 : 0;
}
