/* checkpoint.h - owns the checkpoint file: one HDF5 file holding the model config (JSON), the
 * tokenizer (tokenizer.json text), the trainer's state (JSON: step, data position, seed and
 * the options of the run), the flat parameter vector and, for resuming, the AdamW moments.
 * Written atomically (temporary file beside the target, fsync, rename, folder fsync); read
 * with every dataset's name, type, rank and length checked, so a damaged, truncated or
 * foreign file gets an error naming the file and the problem. Layout: docs/checkpoints.md.
 * It does not own what the trainer keeps in its JSON (trainer.h) nor the model (model.h). */
#ifndef LAM_CHECKPOINT_H
#define LAM_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "lam/config.h"
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LAM_CKPT_FORMAT  "lamkit.checkpoint" /* root attribute "format" */
#define LAM_CKPT_VERSION 1                   /* root attribute "version" */

/* A checkpoint in host memory. Strings are NUL-terminated; everything is owned by it after a
 * read (lam_ckpt_free) and borrowed from the caller for a write. */
typedef struct {
    lam_config cfg;
    char *tokenizer_json; /* may be "" (a model trained without a tokenizer) */
    char *train_json;     /* a JSON object; "{}" when the trainer kept nothing */
    int64_t n_params;     /* P, from the config */
    float *params;        /* (P) */
    float *adam_m;        /* (P) or NULL: a weights-only checkpoint */
    float *adam_v;        /* (P) or NULL together with adam_m */
} lam_ckpt;

/* Writes c to path atomically; an existing file at path is replaced only on success. */
lam_status lam_ckpt_write(const char *path, const lam_ckpt *c, lam_error *err);
/* Reads a checkpoint; with_optimizer 0 skips the AdamW moments (adam_m, adam_v NULL). */
lam_status lam_ckpt_read(const char *path, int with_optimizer, lam_ckpt *out, lam_error *err);
/* The same from a file image in memory (len bytes); `name` stands for the file in messages. */
lam_status lam_ckpt_read_image(const void *buf, size_t len, const char *name, int with_optimizer,
                               lam_ckpt *out, lam_error *err);
void lam_ckpt_free(lam_ckpt *c);

#ifdef __cplusplus
}
#endif

#endif
