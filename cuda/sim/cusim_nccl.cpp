// cusim_nccl.cpp - the simulated device's NCCL stand-in: the communicator and the collectives
// the backend uses (all-reduce, reduce-scatter, all-gather of float sums), across ranks that
// are processes on one machine, each with its own simulated device.
//
// ncclGetUniqueId names a POSIX shared-memory segment; ncclCommInitRank maps it (the id is
// bootstrapped over MPI as on a cluster), and every collective goes through it in chunks:
// each rank posts its call (operation, count, type, reduction, sequence number) and its data
// in its own slot, a barrier, each rank reads what it needs, a barrier. Checked as nccl.h
// documents: every rank makes the same call with the same count, type and reduction, in the
// same order (a mismatch fails on every rank with both ranks' calls named); buffers lie in
// device allocations of the right size; in place means exactly recvbuff == sendbuff
// (all-reduce), recvbuff == sendbuff + rank*recvcount (reduce-scatter), sendbuff == recvbuff +
// rank*sendcount (all-gather), and any other overlap of send and receive buffers is an error.
// Sums run in rank order, so every rank gets the same bits. Only ncclFloat with ncclSum is
// simulated. A rank that does not arrive within 120 s fails the collective (ncclRemoteError)
// instead of hanging.
#include "cusim_names.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "cusim_state.h"

using namespace lam_cusim;

namespace {

constexpr uint64_t kIdMagic = 0x6c616d6e63636c31ULL; // "lamnccl1"
constexpr int kMaxRanks = 16;
constexpr size_t kChunk = (size_t)4 << 20; // bytes per rank per round
constexpr double kTimeoutS = 120.0;

enum Kind { K_ALLREDUCE = 1, K_REDUCESCATTER, K_ALLGATHER };

struct Id { // inside ncclUniqueId
    uint64_t magic;
    char name[64];
};
static_assert(sizeof(Id) <= sizeof(ncclUniqueId), "unique id storage");

struct Post {
    int kind, dtype, redop;
    uint64_t count, seq;
};

struct Shared {
    std::atomic<int> attached;
    std::atomic<int> arrived;
    std::atomic<unsigned> generation;
    int nranks;
    Post post[kMaxRanks];
    // followed by nranks slots of kChunk bytes
};

struct Comm {
    uint64_t magic;
    int rank, nranks;
    Shared *sh;
    size_t bytes;
    unsigned char *slots;
    uint64_t seq;
    bool broken;
};

const char *kind_name(int k) {
    return k == K_ALLREDUCE       ? "ncclAllReduce"
           : k == K_REDUCESCATTER ? "ncclReduceScatter"
                                  : "ncclAllGather";
}

ncclResult_t nbad(ncclResult_t r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ncclResult_t nbad(ncclResult_t r, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cusim: %s\n", msg);
    dev().fault = msg;
    return r;
}

// Sense-reversing barrier over the shared segment; false on timeout.
bool barrier(Comm *c) {
    Shared *s = c->sh;
    unsigned gen = s->generation.load(std::memory_order_acquire);
    if (s->arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == c->nranks) {
        s->arrived.store(0, std::memory_order_relaxed);
        s->generation.fetch_add(1, std::memory_order_acq_rel);
        return true;
    }
    auto t0 = std::chrono::steady_clock::now();
    for (unsigned spins = 0; s->generation.load(std::memory_order_acquire) == gen; spins++) {
        if (spins > 64) sched_yield();
        if ((spins & 1023) == 0 &&
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >
                kTimeoutS)
            return false;
    }
    return true;
}

unsigned char *slot(Comm *c, int r) {
    return c->slots + (size_t)r * kChunk;
}

Comm *as_comm(ncclComm_t comm) {
    Comm *c = reinterpret_cast<Comm *>(comm);
    return c && c->magic == kIdMagic ? c : nullptr;
}

// The device-memory checks every collective makes.
ncclResult_t check_buf(const char *call, const char *arg, const void *p, size_t bytes) {
    if (!find_alloc(p, bytes ? bytes : 1))
        return nbad(ncclInvalidArgument,
                    "%s: %s [%p, +%zu bytes) is not inside one device "
                    "allocation",
                    call, arg, p, bytes);
    return ncclSuccess;
}

bool overlap(const void *a, size_t na, const void *b, size_t nb) {
    const char *x = static_cast<const char *>(a), *y = static_cast<const char *>(b);
    return x < y + nb && y < x + na;
}

// One collective: checks, then rounds of (post, barrier, combine, barrier).
ncclResult_t collective(int kind, const void *send, void *recv, size_t count, ncclDataType_t dt,
                        ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream) {
    const char *call = kind_name(kind);
    DeviceState &dv = dev();
    if (dv.sticky != cudaSuccess) return ncclUnhandledCudaError;
    Comm *c = as_comm(comm);
    if (!c) return nbad(ncclInvalidArgument, "%s: not a communicator", call);
    if (c->broken) return nbad(ncclInvalidUsage, "%s: the communicator failed earlier", call);
    if (stream && !dv.streams.count(static_cast<void *>(stream)))
        return nbad(ncclInvalidArgument, "%s: stream %p is not live", call,
                    static_cast<void *>(stream));
    if (dt != ncclFloat || (kind != K_ALLGATHER && op != ncclSum))
        return nbad(ncclInvalidArgument, "%s: only ncclFloat with ncclSum is simulated", call);
    int R = c->nranks, me = c->rank;
    size_t e = sizeof(float);
    size_t send_n = kind == K_REDUCESCATTER ? count * R : count;
    size_t recv_n = kind == K_ALLGATHER ? count * R : count;
    if (ncclResult_t r = check_buf(call, "sendbuff", send, send_n * e)) return r;
    if (ncclResult_t r = check_buf(call, "recvbuff", recv, recv_n * e)) return r;
    const float *sf = static_cast<const float *>(send);
    float *rf = static_cast<float *>(recv);
    bool inplace = kind == K_ALLREDUCE       ? send == recv
                   : kind == K_REDUCESCATTER ? rf == sf + (size_t)me * count
                                             : sf == rf + (size_t)me * count;
    if (!inplace && overlap(send, send_n * e, recv, recv_n * e))
        return nbad(ncclInvalidArgument,
                    "%s on rank %d: sendbuff %p and recvbuff %p overlap but are not in place "
                    "(in place is %s)",
                    call, me, send, recv,
                    kind == K_ALLREDUCE       ? "recvbuff == sendbuff"
                    : kind == K_REDUCESCATTER ? "recvbuff == sendbuff + rank*recvcount"
                                              : "sendbuff == recvbuff + rank*sendcount");
    // every rank's call must match
    Shared *s = c->sh;
    s->post[me] = Post{kind, (int)dt, (int)op, (uint64_t)count, c->seq};
    if (!barrier(c)) {
        c->broken = true;
        return nbad(ncclRemoteError, "%s on rank %d: another rank did not arrive in %.0f s", call,
                    me, kTimeoutS);
    }
    for (int r = 0; r < R; r++) {
        const Post &p = s->post[r];
        if (p.kind != kind || p.count != count || p.dtype != (int)dt || p.redop != (int)op ||
            p.seq != c->seq) {
            c->broken = true;
            barrier(c);
            return nbad(ncclInvalidUsage,
                        "collective #%llu: rank %d calls %s(count %llu, type %d, op %d) but rank "
                        "%d calls %s(count %llu, type %d, op %d) as its #%llu",
                        (unsigned long long)c->seq, me, call, (unsigned long long)count, (int)dt,
                        (int)op, r, kind_name(p.kind), (unsigned long long)p.count, p.dtype,
                        p.redop, (unsigned long long)p.seq);
        }
    }
    if (!barrier(c)) { // everyone has read the posts
        c->broken = true;
        return nbad(ncclRemoteError, "%s on rank %d: a rank did not arrive", call, me);
    }
    c->seq++;
    size_t per = kChunk / e;
    // rounds over blocks (reduce-scatter: one block per destination rank) and chunks
    int blocks = kind == K_REDUCESCATTER ? R : 1;
    for (int blk = 0; blk < blocks; blk++)
        for (size_t off = 0; off < count; off += per) {
            size_t n = count - off < per ? count - off : per;
            const float *src = kind == K_REDUCESCATTER ? sf + (size_t)blk * count + off : sf + off;
            memcpy(slot(c, me), src, n * e);
            if (!barrier(c)) {
                c->broken = true;
                return nbad(ncclRemoteError, "%s on rank %d: a rank did not arrive", call, me);
            }
            if (kind == K_ALLGATHER) {
                for (int r = 0; r < R; r++) memcpy(rf + (size_t)r * count + off, slot(c, r), n * e);
            } else if (kind == K_ALLREDUCE || blk == me) {
                float *dst = rf + off;
                for (size_t i = 0; i < n; i++) {
                    float acc = 0.0f;
                    for (int r = 0; r < R; r++) acc += reinterpret_cast<float *>(slot(c, r))[i];
                    dst[i] = acc;
                }
            }
            if (!barrier(c)) {
                c->broken = true;
                return nbad(ncclRemoteError, "%s on rank %d: a rank did not arrive", call, me);
            }
        }
    return ncclSuccess;
}

} // namespace

extern "C" {

ncclResult_t ncclGetUniqueId(ncclUniqueId *uid) {
    if (!uid) return ncclInvalidArgument;
    memset(uid, 0, sizeof *uid);
    Id id;
    id.magic = kIdMagic;
    std::random_device rd;
    snprintf(id.name, sizeof id.name, "/lam-cusim-nccl-%d-%08x%08x", (int)getpid(), rd(), rd());
    memcpy(uid, &id, sizeof id);
    return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId uid, int rank) {
    if (!comm) return ncclInvalidArgument;
    *comm = nullptr;
    Id id;
    memcpy(&id, &uid, sizeof id);
    if (id.magic != kIdMagic)
        return nbad(ncclInvalidArgument, "ncclCommInitRank: the id is not from ncclGetUniqueId");
    if (nranks < 1 || nranks > kMaxRanks || rank < 0 || rank >= nranks)
        return nbad(ncclInvalidArgument,
                    "ncclCommInitRank: rank %d of %d (the simulator has at "
                    "most %d)",
                    rank, nranks, kMaxRanks);
    size_t bytes = sizeof(Shared) + 64 + (size_t)nranks * kChunk;
    int fd = shm_open(id.name, O_RDWR | O_CREAT, 0600);
    if (fd < 0) return nbad(ncclSystemError, "ncclCommInitRank: shm_open(%s) failed", id.name);
    if (ftruncate(fd, (off_t)bytes) != 0) {
        close(fd);
        return nbad(ncclSystemError, "ncclCommInitRank: ftruncate of %s failed", id.name);
    }
    void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return nbad(ncclSystemError, "ncclCommInitRank: mmap failed");
    Comm *c = static_cast<Comm *>(calloc(1, sizeof(Comm)));
    if (!c) {
        munmap(p, bytes);
        return ncclSystemError;
    }
    *c = Comm{kIdMagic, rank,
              nranks,   static_cast<Shared *>(p),
              bytes,    static_cast<unsigned char *>(p) + ((sizeof(Shared) + 63) / 64 * 64),
              0,        false};
    // a fresh segment is zero-filled: the atomics start at 0
    c->sh->attached.fetch_add(1);
    if (!barrier(c)) {
        munmap(p, bytes);
        free(c);
        return nbad(ncclRemoteError,
                    "ncclCommInitRank: rank %d of %d: the others did not join "
                    "in %.0f s",
                    rank, nranks, kTimeoutS);
    }
    if (rank == 0) shm_unlink(id.name); // every rank has it mapped; nothing is left behind
    *comm = reinterpret_cast<ncclComm_t>(c);
    return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
    Comm *c = as_comm(comm);
    if (!c) return ncclInvalidArgument;
    munmap(c->sh, c->bytes);
    c->magic = 0;
    free(c);
    return ncclSuccess;
}

ncclResult_t ncclCommAbort(ncclComm_t comm) {
    return ncclCommDestroy(comm);
}

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *err) {
    Comm *c = as_comm(comm);
    if (!c || !err) return ncclInvalidArgument;
    *err = c->broken ? ncclRemoteError : ncclSuccess;
    return ncclSuccess;
}

const char *ncclGetErrorString(ncclResult_t r) {
    switch (r) {
    case ncclSuccess:
        return "no error";
    case ncclUnhandledCudaError:
        return "unhandled cuda error (run with NCCL_DEBUG=INFO for details)";
    case ncclSystemError:
        return "unhandled system error";
    case ncclInternalError:
        return "internal error";
    case ncclInvalidArgument:
        return "invalid argument";
    case ncclInvalidUsage:
        return "invalid usage";
    case ncclRemoteError:
        return "remote process exited or there was a network error";
    default:
        return "unknown result code";
    }
}

ncclResult_t ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count,
                           ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                           cudaStream_t stream) {
    return collective(K_ALLREDUCE, sendbuff, recvbuff, count, datatype, op, comm, stream);
}

ncclResult_t ncclReduceScatter(const void *sendbuff, void *recvbuff, size_t recvcount,
                               ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                               cudaStream_t stream) {
    return collective(K_REDUCESCATTER, sendbuff, recvbuff, recvcount, datatype, op, comm, stream);
}

ncclResult_t ncclAllGather(const void *sendbuff, void *recvbuff, size_t sendcount,
                           ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream) {
    return collective(K_ALLGATHER, sendbuff, recvbuff, sendcount, datatype, ncclSum, comm, stream);
}

ncclResult_t ncclGroupStart(void) {
    return ncclSuccess;
}
ncclResult_t ncclGroupEnd(void) {
    return ncclSuccess;
}

} // extern "C"
