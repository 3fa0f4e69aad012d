/* comm.h - owns the communication between ranks (processes, one per device):
 *  - lam_comm, the process group: rank, size, the node-local rank (device selection), and the
 *    host collectives that carry control data (sums of counts and losses, broadcasts,
 *    gathers of checkpoint state) and the CPU backend's gradient traffic. With LAM_MPI it
 *    rides on MPI when the process was started by mpirun or srun; otherwise it is one rank.
 *  - lam_dcomm, the device communicator: reduce-scatter, all-gather and all-reduce of float
 *    buffers that live where a backend keeps them. A backend may provide its own (the CUDA
 *    backend's NCCL one, through lam_backend.dcomm_create); for host memory it is the MPI
 *    collectives of lam_comm.
 * Does not own what is communicated (the trainer's ZeRO-1 step is in train/). */
#ifndef LAM_COMM_H
#define LAM_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int rank, size;
    int local_rank, local_size; /* among the ranks of this machine */
    int use_mpi;                /* MPI was initialized by lam_comm_init */
} lam_comm;

/* argc/argv may be NULL. */
lam_status lam_comm_init(lam_comm *c, int *argc, char ***argv, lam_error *err);
void lam_comm_finalize(lam_comm *c);
/* A single-rank group (no MPI), for tests and tools. */
void lam_comm_single(lam_comm *c);
/* "MPI (Open MPI v4.1.4 ...)" or "single process"; into buf. */
const char *lam_comm_describe(char *buf, int cap);

/* ---- host collectives (every rank calls each, in the same order) ---- */

/* x (n) summed over ranks, in place. */
lam_status lam_comm_allreduce_sum(lam_comm *c, float *x, int64_t n, lam_error *err);
lam_status lam_comm_allreduce_sum_f64(lam_comm *c, double *x, int64_t n, lam_error *err);
/* x (n) = maximum over ranks, in place. */
lam_status lam_comm_allreduce_max_i64(lam_comm *c, int64_t *x, int64_t n, lam_error *err);
/* buf (bytes) from root to every rank. */
lam_status lam_comm_bcast(lam_comm *c, void *buf, size_t bytes, int root, lam_error *err);
/* recv (size * count) on every rank: block r is rank r's send (count). send may be
 * recv + rank * count (in place). */
lam_status lam_comm_all_gather(lam_comm *c, float *recv, const float *send, int64_t count,
                               lam_error *err);
/* buf (size * count), in place: afterwards block `rank` (buf + rank*count) holds the sum over
 * ranks of their block `rank`; the other blocks are undefined. */
lam_status lam_comm_reduce_scatter_sum(lam_comm *c, float *buf, int64_t count, lam_error *err);
/* recv (size * count) on root only (NULL elsewhere): block r is rank r's send (count). */
lam_status lam_comm_gather(lam_comm *c, float *recv, const float *send, int64_t count, int root,
                           lam_error *err);
/* send (size * count) on root only (NULL elsewhere); every rank receives its block. */
lam_status lam_comm_scatter(lam_comm *c, float *recv, const float *send, int64_t count, int root,
                            lam_error *err);
lam_status lam_comm_barrier(lam_comm *c, lam_error *err);
/* Ends every rank's job with a non-zero exit (use when one rank fails and the others would
 * wait forever in a collective). Returns only in a single-rank group. */
void lam_comm_abort(lam_comm *c, int code);

/* ---- device communicator ---- */

typedef struct lam_dcomm lam_dcomm;
struct lam_dcomm {
    const char *name; /* "mpi-host", "nccl" */
    lam_comm *comm;
    void *ctx;
    /* buf (size * count) in the backend's memory, in place: block `rank` becomes the sum over
     * ranks of their block `rank`; the other blocks are undefined afterwards. */
    lam_status (*reduce_scatter_sum)(lam_dcomm *d, float *buf, int64_t count, lam_error *err);
    /* buf (size * count), in place: every rank's block `rank` is copied to all ranks. */
    lam_status (*all_gather)(lam_dcomm *d, float *buf, int64_t count, lam_error *err);
    /* x (n) summed over ranks, in place. */
    lam_status (*allreduce_sum)(lam_dcomm *d, float *x, int64_t n, lam_error *err);
    void (*destroy)(lam_dcomm *d);
};

/* The host-memory device communicator over lam_comm (the CPU backend's). */
lam_status lam_dcomm_create_host(lam_comm *c, lam_dcomm **out, lam_error *err);
void lam_dcomm_destroy(lam_dcomm *d);

#ifdef __cplusplus
}
#endif

#endif
