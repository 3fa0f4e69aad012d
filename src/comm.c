/* comm.c - the process group over MPI or a single rank, its host collectives, and the
 * host-memory device communicator (comm.h). MPI counts are int: large buffers go in chunks. */
#include "lam/comm.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LAM_HAVE_MPI
#include <mpi.h>

static lam_status mpi_err(lam_error *err, const char *call, int rc) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return lam_error_set(err, LAM_ERR_BACKEND, "%s failed: %s", call, msg);
}
#define MPI_CK(call, name)                                                                         \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != MPI_SUCCESS) return mpi_err(err, name, rc_);                                    \
    } while (0)

/* Started by a launcher? Open MPI, PMIx and Slurm set these. */
static int launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") ||
           getenv("SLURM_STEP_ID");
}

#define CHUNK (1 << 30) /* elements per MPI call */
#endif

void lam_comm_single(lam_comm *c) {
    memset(c, 0, sizeof *c);
    c->size = 1;
    c->local_size = 1;
}

lam_status lam_comm_init(lam_comm *c, int *argc, char ***argv, lam_error *err) {
    lam_comm_single(c);
#ifdef LAM_HAVE_MPI
    if (launched()) {
        MPI_CK(MPI_Init(argc, argv), "MPI_Init");
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        c->use_mpi = 1;
        MPI_CK(MPI_Comm_rank(MPI_COMM_WORLD, &c->rank), "MPI_Comm_rank");
        MPI_CK(MPI_Comm_size(MPI_COMM_WORLD, &c->size), "MPI_Comm_size");
        MPI_Comm node;
        MPI_CK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL,
                                   &node),
               "MPI_Comm_split_type");
        MPI_Comm_rank(node, &c->local_rank);
        MPI_Comm_size(node, &c->local_size);
        MPI_Comm_free(&node);
    }
#else
    (void)argc, (void)argv, (void)err;
#endif
    return LAM_OK;
}

void lam_comm_finalize(lam_comm *c) {
#ifdef LAM_HAVE_MPI
    if (c->use_mpi) MPI_Finalize();
#endif
    c->use_mpi = 0;
}

const char *lam_comm_describe(char *buf, int cap) {
#ifdef LAM_HAVE_MPI
    char ver[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(ver, &len);
    char *nl = strchr(ver, ',');
    if (nl) *nl = 0;
    snprintf(buf, (size_t)cap, "MPI (%s)", ver);
#else
    snprintf(buf, (size_t)cap, "single process (built without MPI)");
#endif
    return buf;
}

/* ---- host collectives ---- */

#ifdef LAM_HAVE_MPI
static lam_status allreduce(lam_comm *c, void *x, int64_t n, MPI_Datatype dt, size_t esize,
                            MPI_Op op, lam_error *err) {
    (void)c;
    char *p = x;
    while (n > 0) {
        int chunk = n > CHUNK ? CHUNK : (int)n;
        MPI_CK(MPI_Allreduce(MPI_IN_PLACE, p, chunk, dt, op, MPI_COMM_WORLD), "MPI_Allreduce");
        p += (size_t)chunk * esize;
        n -= chunk;
    }
    return LAM_OK;
}
#endif

lam_status lam_comm_allreduce_sum(lam_comm *c, float *x, int64_t n, lam_error *err) {
    if (!c->use_mpi) return LAM_OK;
#ifdef LAM_HAVE_MPI
    return allreduce(c, x, n, MPI_FLOAT, sizeof *x, MPI_SUM, err);
#else
    return LAM_OK;
#endif
}

lam_status lam_comm_allreduce_sum_f64(lam_comm *c, double *x, int64_t n, lam_error *err) {
    if (!c->use_mpi) return LAM_OK;
#ifdef LAM_HAVE_MPI
    return allreduce(c, x, n, MPI_DOUBLE, sizeof *x, MPI_SUM, err);
#else
    return LAM_OK;
#endif
}

lam_status lam_comm_allreduce_max_i64(lam_comm *c, int64_t *x, int64_t n, lam_error *err) {
    if (!c->use_mpi) return LAM_OK;
#ifdef LAM_HAVE_MPI
    return allreduce(c, x, n, MPI_INT64_T, sizeof *x, MPI_MAX, err);
#else
    return LAM_OK;
#endif
}

lam_status lam_comm_bcast(lam_comm *c, void *buf, size_t bytes, int root, lam_error *err) {
    if (!c->use_mpi) return LAM_OK;
#ifdef LAM_HAVE_MPI
    char *p = buf;
    while (bytes > 0) {
        int chunk = bytes > (size_t)CHUNK ? CHUNK : (int)bytes;
        MPI_CK(MPI_Bcast(p, chunk, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
        p += chunk;
        bytes -= (size_t)chunk;
    }
#endif
    return LAM_OK;
}

#ifdef LAM_HAVE_MPI
/* A contiguous MPI type of count floats, so block collectives take one element per rank
 * whatever the count (counts past INT_MAX included). */
static lam_status block_type(int64_t count, MPI_Datatype *t, lam_error *err) {
    if (count <= INT_MAX) {
        MPI_CK(MPI_Type_contiguous((int)count, MPI_FLOAT, t), "MPI_Type_contiguous");
    } else {
        if (count % CHUNK)
            return lam_error_set(err, LAM_ERR_INVALID,
                                 "collective block of %lld floats: above 2^31 it must be a "
                                 "multiple of 2^30",
                                 (long long)count);
        MPI_Datatype inner;
        MPI_CK(MPI_Type_contiguous(CHUNK, MPI_FLOAT, &inner), "MPI_Type_contiguous");
        int rc = MPI_Type_contiguous((int)(count / CHUNK), inner, t);
        MPI_Type_free(&inner);
        if (rc != MPI_SUCCESS) return mpi_err(err, "MPI_Type_contiguous", rc);
    }
    MPI_CK(MPI_Type_commit(t), "MPI_Type_commit");
    return LAM_OK;
}
#endif

lam_status lam_comm_all_gather(lam_comm *c, float *recv, const float *send, int64_t count,
                               lam_error *err) {
    if (!c->use_mpi) {
        if (send != recv) memmove(recv, send, (size_t)count * sizeof *recv);
        return LAM_OK;
    }
#ifdef LAM_HAVE_MPI
    MPI_Datatype t;
    LAM_TRY(block_type(count, &t, err));
    const void *sb = send == recv + (int64_t)c->rank * count ? MPI_IN_PLACE : send;
    int rc = MPI_Allgather(sb, 1, t, recv, 1, t, MPI_COMM_WORLD);
    MPI_Type_free(&t);
    if (rc != MPI_SUCCESS) return mpi_err(err, "MPI_Allgather", rc);
#endif
    return LAM_OK;
}

lam_status lam_comm_reduce_scatter_sum(lam_comm *c, float *buf, int64_t count, lam_error *err) {
    if (!c->use_mpi) return LAM_OK;
#ifdef LAM_HAVE_MPI
    /* MPI_IN_PLACE leaves the result in block 0; move it to the rank's own block */
    if (count > INT_MAX)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "reduce-scatter of %lld floats per rank: at most 2^31-1",
                             (long long)count);
    MPI_CK(
        MPI_Reduce_scatter_block(MPI_IN_PLACE, buf, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
        "MPI_Reduce_scatter_block");
    if (c->rank != 0) memmove(buf + (int64_t)c->rank * count, buf, (size_t)count * sizeof *buf);
#endif
    return LAM_OK;
}

lam_status lam_comm_gather(lam_comm *c, float *recv, const float *send, int64_t count, int root,
                           lam_error *err) {
    if (!c->use_mpi) {
        if (send != recv) memmove(recv, send, (size_t)count * sizeof *recv);
        return LAM_OK;
    }
#ifdef LAM_HAVE_MPI
    MPI_Datatype t;
    LAM_TRY(block_type(count, &t, err));
    int rc = MPI_Gather(send, 1, t, recv, 1, t, root, MPI_COMM_WORLD);
    MPI_Type_free(&t);
    if (rc != MPI_SUCCESS) return mpi_err(err, "MPI_Gather", rc);
#endif
    return LAM_OK;
}

lam_status lam_comm_scatter(lam_comm *c, float *recv, const float *send, int64_t count, int root,
                            lam_error *err) {
    if (!c->use_mpi) {
        if (send != recv) memmove(recv, send, (size_t)count * sizeof *recv);
        return LAM_OK;
    }
#ifdef LAM_HAVE_MPI
    MPI_Datatype t;
    LAM_TRY(block_type(count, &t, err));
    int rc = MPI_Scatter(send, 1, t, recv, 1, t, root, MPI_COMM_WORLD);
    MPI_Type_free(&t);
    if (rc != MPI_SUCCESS) return mpi_err(err, "MPI_Scatter", rc);
#endif
    return LAM_OK;
}

lam_status lam_comm_barrier(lam_comm *c, lam_error *err) {
    if (!c->use_mpi) return LAM_OK;
#ifdef LAM_HAVE_MPI
    MPI_CK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
    return LAM_OK;
}

void lam_comm_abort(lam_comm *c, int code) {
#ifdef LAM_HAVE_MPI
    if (c->use_mpi) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)c, (void)code;
}

/* ---- the host-memory device communicator ---- */

static lam_status host_reduce_scatter(lam_dcomm *d, float *buf, int64_t count, lam_error *err) {
    return lam_comm_reduce_scatter_sum(d->comm, buf, count, err);
}

static lam_status host_all_gather(lam_dcomm *d, float *buf, int64_t count, lam_error *err) {
    return lam_comm_all_gather(d->comm, buf, buf + (int64_t)d->comm->rank * count, count, err);
}

static lam_status host_allreduce(lam_dcomm *d, float *x, int64_t n, lam_error *err) {
    return lam_comm_allreduce_sum(d->comm, x, n, err);
}

static void host_destroy(lam_dcomm *d) {
    free(d);
}

lam_status lam_dcomm_create_host(lam_comm *c, lam_dcomm **out, lam_error *err) {
    lam_dcomm *d = calloc(1, sizeof *d);
    if (!d) return lam_error_set(err, LAM_ERR_NOMEM, "device communicator: out of memory");
    d->name = "mpi-host";
    d->comm = c;
    d->reduce_scatter_sum = host_reduce_scatter;
    d->all_gather = host_all_gather;
    d->allreduce_sum = host_allreduce;
    d->destroy = host_destroy;
    *out = d;
    return LAM_OK;
}

void lam_dcomm_destroy(lam_dcomm *d) {
    if (d) d->destroy(d);
}
