/* cusim_api.h - owns the simulated device's controls for tests and tools (C linkage): the
 * schedule order of fibers and blocks, the last fault report, allocation counts, and reset.
 * The simulated device itself is described in cusim_core.h and docs/gpu.md. */
#ifndef LAM_CUSIM_API_H
#define LAM_CUSIM_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LAM_CUSIM_FORWARD = 0, /* threads 0, 1, ... each round; blocks in order */
    LAM_CUSIM_REVERSE = 1, /* the last thread first; blocks in reverse */
    LAM_CUSIM_RANDOM = 2,  /* a permutation per round drawn from the seed; blocks shuffled */
} lam_cusim_schedule;

/* Sets the schedule order for the following launches. The default comes from the environment,
 * LAM_CUSIM_SCHEDULE=forward|reverse|random[:SEED], else forward. */
void lam_cusim_set_schedule(lam_cusim_schedule order, uint64_t seed);
/* "forward", "reverse" or "random:SEED" into buf; returns buf. */
const char *lam_cusim_schedule_desc(char *buf, size_t cap);
/* The report of the last fault (divergent barrier, bad shuffle, deadlock, bad memory call),
 * "" if none since the last reset. */
const char *lam_cusim_last_fault(void);
/* Clears the sticky error and the fault report, as cudaDeviceReset does, without freeing
 * memory (tests of faults continue with the same allocations). */
void lam_cusim_clear_error(void);
/* Warnings printed so far: races the real library would not report (a matmul whose output
 * overlaps its inputs); tests of the backend expect none. */
int64_t lam_cusim_warnings(void);
/* Live allocations and their bytes. */
void lam_cusim_allocations(int64_t *count, int64_t *bytes);
/* Launches, simulated threads and cudaMalloc calls since the process started. */
void lam_cusim_counters(int64_t *launches, int64_t *threads, int64_t *mallocs);

#ifdef __cplusplus
}
#endif

#endif
