/* bench.h - owns the in-library benchmarks behind `lam bench`: the timed training step
 * (forward + backward + grad norm + AdamW) and the BLAS sgemm rate of this machine. The
 * comparison with PyTorch lives in bench/train_step.py. */
#ifndef LAM_BENCH_H
#define LAM_BENCH_H

#include <stdio.h>
#include "lam/backend.h"
#include "lam/config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int batch, seq, steps, warmup;
    uint64_t seed;
    FILE *progress; /* progress bar stream, NULL for none */
    FILE *profile;  /* per-op time table of the timed steps, NULL for none */
} lam_bench_opts;

typedef struct {
    double tok_s;   /* tokens per second over the timed steps */
    double step_ms; /* mean milliseconds per step */
    double gflops;  /* achieved model GFLOP/s (lam_config_train_flops_per_token) */
    double first_loss, last_loss;
    int64_t n_params;
    size_t act_bytes, param_bytes;
} lam_bench_result;

lam_status lam_bench_train_step(lam_backend *be, const lam_config *cfg, const lam_bench_opts *o,
                                lam_bench_result *r, lam_error *err);
/* Best GFLOP/s of n x n x n sgemm over a few repetitions (BLAS threads as set). */
lam_status lam_bench_sgemm(int n, double *gflops, lam_error *err);
/* The kernel family OpenBLAS runs on this machine ("Haswell": AVX2, "SkylakeX" or
 * "Cooperlake": AVX-512, ...): its own choice for the CPU, or the environment's
 * OPENBLAS_CORETYPE, read when the library loads. */
const char *lam_bench_blas_core(void);

#ifdef __cplusplus
}
#endif

#endif
