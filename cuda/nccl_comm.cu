// nccl_comm.cu - the CUDA backend's device communicator (lam_dcomm, comm.h) over NCCL: the
// ncclUniqueId made by rank 0 and broadcast over the host communicator (MPI), one NCCL
// communicator per backend, the collectives in place on the backend's stream. On the
// simulated device the same code runs against the NCCL stand-in (cuda/sim/cusim_nccl.cpp).
#include <stdlib.h>
#include <string.h>

#include "cuda_common.cuh"

#if defined(LAM_CUSIM) || defined(LAM_HAVE_NCCL)
#ifndef LAM_CUSIM
#include <nccl.h>
#endif

namespace LAM_CUDA_NS {

namespace {

struct NcclComm {
    lam_dcomm d; // first: the lam_dcomm the trainer holds
    lam_backend *be;
    ncclComm_t comm;
};

lam_status nccl_fail(ncclResult_t r, const char *call, const char *file, int line, lam_error *err) {
    const char *base = strrchr(file, '/');
#ifdef LAM_CUSIM
    const char *detail = lam_cusim_last_fault();
#else
    const char *detail = "";
#endif
    return lam_error_set(err, LAM_ERR_BACKEND, "%s failed at %s:%d: %s%s%s", call,
                         base ? base + 1 : file, line, ncclGetErrorString(r), *detail ? ": " : "",
                         detail);
}

#define NC(call)                                                                                   \
    do {                                                                                           \
        ncclResult_t nc_r_ = (call);                                                               \
        if (nc_r_ != ncclSuccess) return nccl_fail(nc_r_, #call, __FILE__, __LINE__, err);         \
    } while (0)

NcclComm *self(lam_dcomm *d) {
    return reinterpret_cast<NcclComm *>(d);
}

// buf (size * count): block `rank` becomes the sum over ranks of their block `rank`
lam_status reduce_scatter_sum(lam_dcomm *d, float *buf, int64_t count, lam_error *err) {
    NcclComm *n = self(d);
    NC(ncclReduceScatter(buf, buf + (int64_t)d->comm->rank * count, (size_t)count, ncclFloat,
                         ncclSum, n->comm, ctx(n->be)->stream));
    return LAM_OK;
}

// buf (size * count): every rank's block `rank` copied to all ranks
lam_status all_gather(lam_dcomm *d, float *buf, int64_t count, lam_error *err) {
    NcclComm *n = self(d);
    NC(ncclAllGather(buf + (int64_t)d->comm->rank * count, buf, (size_t)count, ncclFloat, n->comm,
                     ctx(n->be)->stream));
    return LAM_OK;
}

// x (n) summed over ranks, in place
lam_status allreduce_sum(lam_dcomm *d, float *x, int64_t n_el, lam_error *err) {
    NcclComm *n = self(d);
    NC(ncclAllReduce(x, x, (size_t)n_el, ncclFloat, ncclSum, n->comm, ctx(n->be)->stream));
    return LAM_OK;
}

void destroy(lam_dcomm *d) {
    NcclComm *n = self(d);
    if (n->comm) ncclCommDestroy(n->comm);
    free(n);
}

} // namespace

lam_status dcomm_create(lam_backend *be, lam_comm *c, lam_dcomm **out, lam_error *err) {
    *out = nullptr;
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    if (c->rank == 0) NC(ncclGetUniqueId(&id));
    LAM_TRY(lam_comm_bcast(c, &id, sizeof id, 0, err));
    NcclComm *n = static_cast<NcclComm *>(calloc(1, sizeof *n));
    if (!n) return lam_error_set(err, LAM_ERR_NOMEM, "nccl communicator: out of host memory");
    n->be = be;
    ncclResult_t r = ncclCommInitRank(&n->comm, c->size, id, c->rank);
    if (r != ncclSuccess) {
        free(n);
        return nccl_fail(r, "ncclCommInitRank(&comm, size, id, rank)", __FILE__, __LINE__, err);
    }
    n->d.name = "nccl";
    n->d.comm = c;
    n->d.ctx = n;
    n->d.reduce_scatter_sum = reduce_scatter_sum;
    n->d.all_gather = all_gather;
    n->d.allreduce_sum = allreduce_sum;
    n->d.destroy = destroy;
    *out = &n->d;
    return LAM_OK;
}

} // namespace LAM_CUDA_NS

#else

namespace LAM_CUDA_NS {

lam_status dcomm_create(lam_backend *be, lam_comm *c, lam_dcomm **out, lam_error *err) {
    *out = nullptr;
    return lam_error_set(err, LAM_ERR_UNSUPPORTED,
                         "%s backend: built without NCCL, so it has no device communicator for "
                         "%d ranks",
                         be->name, c->size);
}

} // namespace LAM_CUDA_NS

#endif
