/* trainer.h - owns a training run: the model on a backend, the data loader, AdamW with warmup
 * and cosine decay, gradient clipping to a global norm, gradient accumulation over
 * micro-batches, data parallelism over the ranks of a lam_comm (each rank packs its own rows
 * of the global batch; gradients reduce-scattered, AdamW on each rank's shard of the
 * parameters with its shard of the moments, parameters all-gathered: ZeRO stage 1), the
 * validation loss, the JSONL log, the progress bar, and checkpoints (the last K kept,
 * written by rank 0, resumed bitwise). It does not own the command line (train_cli.c), the
 * checkpoint file (checkpoint.h) nor packing (loader.h). docs/training.md describes a run. */
#ifndef LAM_TRAINER_H
#define LAM_TRAINER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "lam/comm.h"
#include "lam/config.h"
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    /* data */
    const char *data;        /* dataset store (.h5) from lam data build */
    const char *split;       /* samples to train on ("train") */
    const char *valid_split; /* samples of the validation loss ("valid"; NULL or "": none) */
    /* model */
    lam_config cfg;      /* ignored when resuming: the checkpoint's config is the model */
    int vocab_from_data; /* set cfg.vocab_size from the dataset's tokenizer (presets) */
    const char *backend; /* "cpu", "cuda", "cuda-sim" */
    int threads;         /* CPU threads (0: all cores) */
    /* batch */
    int seq;         /* T, positions per row (several samples packed per row) */
    int batch;       /* rows per optimizer step, over all ranks */
    int micro;       /* rows per forward on one rank; batch/ranks/micro forwards are accumulated */
    int window;      /* samples packed together (loader) */
    int64_t steps;   /* optimizer steps in all (a resumed run continues to this count) */
    int64_t stop_at; /* stop after this step with a checkpoint, the schedule still that of
                        `steps` (--resume continues it); 0 (or >= steps): at `steps` */
    float time_budget; /* > 0: wall-clock seconds the run may take; `steps` is then chosen at
                          step min(warmup, 20), where the schedule does not depend on it yet,
                          from the steps' measured time and one validation's, and the run is
                          the run of that many --steps (bitwise). Needs warmup >= 3; not with
                          `resume`. 0: off */
    /* optimizer */
    float lr, min_lr; /* peak and final learning rate */
    int64_t warmup;   /* steps of linear warmup from 0 */
    float beta1, beta2, eps, weight_decay;
    float clip;        /* global gradient norm limit (0: no clipping) */
    float prompt_loss; /* weight of the prompt's positions in the training loss (a language-model
                          loss on the task, the page and the history beside the actions' loss,
                          whose weight is 1; the loss is the weighted mean); 0: actions only;
                          default 0.25. The validation loss is always the actions' alone. */
    uint64_t seed;     /* weights and data order */
    /* evaluation and output */
    int64_t eval_every;   /* steps between validation losses (0: at the end only) */
    int eval_rows;        /* rows of the validation split per evaluation (0: all) */
    const char *out_dir;  /* checkpoints and the log */
    int64_t ckpt_every;   /* steps between checkpoints (0: at the end only) */
    int keep;             /* checkpoints kept (the newest ones) */
    const char *resume;   /* checkpoint file, or a folder (its newest checkpoint), or NULL */
    const char *init;     /* start from this checkpoint's weights (fine-tuning: a fresh optimizer,
                             schedule and data order); the model is its config; or NULL */
    const char *log_path; /* JSONL log (NULL: OUT/log.jsonl) */
    FILE *progress;       /* progress bar (rank 0), NULL: none */
    FILE *info;           /* a few lines about the run (rank 0), NULL: none */
    volatile sig_atomic_t *stop; /* set from a signal handler: checkpoint, then return */
    lam_comm *comm;              /* the ranks; NULL: one */
} lam_train_opts;

void lam_train_opts_default(lam_train_opts *o);

typedef struct {
    int64_t step;    /* steps done */
    int64_t steps;   /* the run's step count (the schedule's; chosen by a time budget) */
    float loss;      /* training loss of the last step */
    float val_loss;  /* last validation loss (NaN: none) */
    double tok_s;    /* positions per second over this run's steps (padding excluded) */
    double step_ms;  /* mean time of a step in this run */
    double data_ms;  /* mean time per step spent reading and packing data */
    int interrupted; /* stopped by *stop before the last step */
    char ckpt[1024]; /* the last checkpoint written ("" if none) */
    int64_t n_params;
} lam_train_result;

lam_status lam_train(const lam_train_opts *o, lam_train_result *r, lam_error *err);

/* The learning rate of step s (1-based): linear warmup to lr, then cosine to min_lr at
 * `steps`. */
float lam_train_lr(const lam_train_opts *o, int64_t s);

/* The newest checkpoint (highest step) in folder dir into path, or LAM_ERR_IO if none. */
lam_status lam_train_latest_checkpoint(const char *dir, char *path, size_t cap, lam_error *err);

/* Fills the options a checkpoint's train JSON recorded (seq, batch, micro, schedule, seed,
 * splits, data, steps) into o, so that a resume continues the same run. */
lam_status lam_train_opts_from_json(const char *json, const char *where, lam_train_opts *o,
                                    lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
