/* train_cli.c - `lam train`: flags, the ranks (MPI when started by mpirun or srun), the
 * signals that stop a run with a checkpoint, and the summary (train_cli.h). */
#define _POSIX_C_SOURCE 200809L
#include "lam/train_cli.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lam/checkpoint.h"
#include "lam/cli.h"
#include "lam/comm.h"
#include "lam/trainer.h"

static const char *usage =
    "usage: lam train [flags]\n"
    "\n"
    "Trains an action model on a dataset store (lam data build) with AdamW, warmup and cosine\n"
    "decay, gradient clipping and accumulation; samples are packed several to a row, each in\n"
    "its own attention segment, and the loss covers only their target actions. Checkpoints\n"
    "(the last K) and a JSONL log go to --out. Under mpirun or srun each rank trains on its\n"
    "share of every batch (data parallel, the optimizer state sharded). SIGINT or SIGTERM\n"
    "writes a checkpoint and exits with 128+signal; --resume continues bitwise.\n"
    "\n"
    "data:\n"
    "  --data FILE.h5       dataset store                                 [out/sim.h5]\n"
    "  --split NAME         split to train on                             [train]\n"
    "  --valid-split NAME   split of the validation loss ('' for none)    [valid]\n"
    "model:\n"
    "  --model NAME|FILE    preset (tiny, small, base) or config JSON     [small]\n"
    "                       (a preset takes its vocab_size from the dataset's tokenizer)\n"
    "  --device NAME        backend: cpu, or cuda / cuda-sim where built  [cpu]\n"
    "  --threads N          CPU threads (0: all cores)                    [0]\n"
    "batch:\n"
    "  --seq T              positions per row (samples packed)            [1024]\n"
    "  --batch B            rows per optimizer step, all ranks together   [8]\n"
    "  --micro M            rows per forward on a rank (accumulation)     [B / ranks]\n"
    "  --window N           samples packed together (first fit)           [512]\n"
    "  --steps N            optimizer steps                               [300]\n"
    "  --stop-at N          stop after step N with a checkpoint; the schedule is still\n"
    "                       that of --steps, and --resume continues it    [--steps]\n"
    "  --time S             train for S seconds of wall time instead of --steps: the step\n"
    "                       count is chosen at the end of the warmup (step 20 at most)\n"
    "                       from the measured step and validation times; the run is the\n"
    "                       run of that many --steps                      [off]\n"
    "optimizer:\n"
    "  --lr X               peak learning rate                            [3e-3]\n"
    "  --min-lr X           final learning rate (cosine decay)            [3e-4]\n"
    "  --warmup N           steps of linear warmup                        [30]\n"
    "  --beta1 X, --beta2 X AdamW betas                                   [0.9, 0.95]\n"
    "  --eps X              AdamW epsilon                                 [1e-8]\n"
    "  --wd X               weight decay (matrices only; not norms, embeddings) [0.1]\n"
    "  --clip X             global gradient-norm limit (0: none)          [1.0]\n"
    "  --prompt-loss W      weight of the prompt's tokens in the loss beside the actions'\n"
    "                       (1): a language-model loss on task, page and history;\n"
    "                       0: the actions only                            [0.25]\n"
    "  --seed S             weights and data order                        [1]\n"
    "output:\n"
    "  --out DIR            checkpoints and log.jsonl                     [out/run]\n"
    "  --log FILE           the JSONL log elsewhere                       [OUT/log.jsonl]\n"
    "  --eval-every N       steps between validation losses (0: at the end) [100]\n"
    "  --eval-rows N        validation rows per evaluation (0: all)       [64]\n"
    "  --ckpt-every N       steps between checkpoints (0: at the end)     [100]\n"
    "  --keep K             checkpoints kept                              [3]\n"
    "  --resume PATH        continue from a checkpoint, or a folder's newest; flags not\n"
    "                       given take the checkpoint's values\n"
    "  --init PATH          start from a checkpoint's weights (fine-tuning: its model and\n"
    "                       tokenizer, a fresh optimizer and schedule)\n"
    "  --quiet              no progress bar\n"
    "  -h, --help           show this help\n";

/* The signal that asked the run to stop (0: none). A signal handler can reach nothing but
 * global state: this flag is the one exception to the library's rule of none. */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    g_stop = sig;
}

int lam_train_main(int argc, char **argv) {
    lam_train_opts o;
    lam_train_opts_default(&o);
    const char *model = "small";
    int quiet = 0, micro = 0;
    o.micro = 0; /* batch / ranks unless given (or the checkpoint's when resuming) */
    lam_flag flags[] = {
        {"--data", LAM_FLAG_STR, &o.data, 0, 0, 0},
        {"--split", LAM_FLAG_STR, &o.split, 0, 0, 0},
        {"--valid-split", LAM_FLAG_STR, &o.valid_split, 0, 0, 0},
        {"--model", LAM_FLAG_STR, &model, 0, 0, 0},
        {"--device", LAM_FLAG_STR, &o.backend, 0, 0, 0},
        {"--threads", LAM_FLAG_INT, &o.threads, 0, 4096, 0},
        {"--seq", LAM_FLAG_INT, &o.seq, 2, 1 << 20, 0},
        {"--batch", LAM_FLAG_INT, &o.batch, 1, 1 << 20, 0},
        {"--micro", LAM_FLAG_INT, &micro, 1, 1 << 20, 0},
        {"--window", LAM_FLAG_INT, &o.window, 1, 1 << 20, 0},
        {"--steps", LAM_FLAG_I64, &o.steps, 1, 1e15, 0},
        {"--stop-at", LAM_FLAG_I64, &o.stop_at, 0, 1e15, 0},
        {"--time", LAM_FLAG_FLOAT, &o.time_budget, 1, 1e9, 0},
        {"--lr", LAM_FLAG_FLOAT, &o.lr, 1e-12, 10, 0},
        {"--min-lr", LAM_FLAG_FLOAT, &o.min_lr, 0, 10, 0},
        {"--warmup", LAM_FLAG_I64, &o.warmup, 0, 1e15, 0},
        {"--beta1", LAM_FLAG_FLOAT, &o.beta1, 0, 0.999999, 0},
        {"--beta2", LAM_FLAG_FLOAT, &o.beta2, 0, 0.999999, 0},
        {"--eps", LAM_FLAG_FLOAT, &o.eps, 1e-30, 1, 0},
        {"--wd", LAM_FLAG_FLOAT, &o.weight_decay, 0, 10, 0},
        {"--clip", LAM_FLAG_FLOAT, &o.clip, 0, 1e9, 0},
        {"--prompt-loss", LAM_FLAG_FLOAT, &o.prompt_loss, 0, 1, 0},
        {"--seed", LAM_FLAG_I64, &o.seed, 0, 9.007199254740992e15, 0},
        {"--out", LAM_FLAG_STR, &o.out_dir, 0, 0, 0},
        {"--log", LAM_FLAG_STR, &o.log_path, 0, 0, 0},
        {"--eval-every", LAM_FLAG_I64, &o.eval_every, 0, 1e15, 0},
        {"--eval-rows", LAM_FLAG_INT, &o.eval_rows, 0, 1 << 30, 0},
        {"--ckpt-every", LAM_FLAG_I64, &o.ckpt_every, 0, 1e15, 0},
        {"--keep", LAM_FLAG_INT, &o.keep, 1, 1 << 20, 0},
        {"--resume", LAM_FLAG_STR, &o.resume, 0, 0, 0},
        {"--init", LAM_FLAG_STR, &o.init, 0, 0, 0},
        {"--quiet", LAM_FLAG_BOOL, &quiet, 0, 0, 0},
    };
    int nf = (int)(sizeof flags / sizeof flags[0]);
    int pr = lam_cli_parse(argc, argv, flags, nf, "lam train", usage, NULL, NULL, 0);
    if (pr == LAM_CLI_HELP) return 0;
    if (pr != LAM_CLI_OK) return 2;

    if (lam_cli_flag(flags, nf, "--time")->given &&
        (lam_cli_flag(flags, nf, "--steps")->given || lam_cli_flag(flags, nf, "--stop-at")->given ||
         o.resume)) {
        fprintf(stderr, "lam train: --time chooses the step count of a new run: give it without "
                        "--steps, --stop-at and --resume\n");
        return 2;
    }
    lam_error err = {0};
    lam_comm comm;
    if (lam_comm_init(&comm, NULL, NULL, &err) != LAM_OK) {
        fprintf(stderr, "lam train: %s\n", err.msg);
        return 1;
    }
    int rc = 1, root = comm.rank == 0;
    int is_file = 0;
    lam_ckpt ck;
    memset(&ck, 0, sizeof ck);
    char *saved[3] = {NULL, NULL, NULL}, out_dir[1024];
    if (lam_config_resolve(model, &o.cfg, &is_file, &err) != LAM_OK) goto fail;
    o.vocab_from_data = !is_file;
    if (o.resume) {
        /* the run's options from the checkpoint, under the flags given now */
        lam_train_opts given = o;
        char path[1024];
        struct stat sb;
        if (stat(o.resume, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (lam_train_latest_checkpoint(o.resume, path, sizeof path, &err) != LAM_OK) goto fail;
        } else {
            snprintf(path, sizeof path, "%s", o.resume);
        }
        if (lam_ckpt_read(path, 0, &ck, &err) != LAM_OK ||
            lam_train_opts_from_json(ck.train_json, path, &o, &err) != LAM_OK)
            goto fail;
        /* the data, splits and output folder too, unless given now */
        const char *keys[3] = {"data", "split", "valid_split"};
        const char **dst[3] = {&o.data, &o.split, &o.valid_split};
        const char *names[3] = {"--data", "--split", "--valid-split"};
        json_t *j = json_loads(ck.train_json, 0, NULL);
        for (int k = 0; k < 3; k++) {
            const char *v = json_string_value(json_object_get(j, keys[k]));
            if (v && !lam_cli_flag(flags, nf, names[k])->given) *dst[k] = saved[k] = strdup(v);
        }
        json_decref(j);
        if (!lam_cli_flag(flags, nf, "--out")->given) {
            snprintf(out_dir, sizeof out_dir, "%s", path);
            char *slash = strrchr(out_dir, '/');
            if (slash)
                *slash = 0;
            else
                snprintf(out_dir, sizeof out_dir, ".");
            o.out_dir = out_dir;
        }
        for (int i = 0; i < nf; i++) /* a flag given now wins */
            if (flags[i].given && flags[i].kind != LAM_FLAG_STR && flags[i].kind != LAM_FLAG_BOOL) {
                size_t off = (size_t)((char *)flags[i].dst - (char *)&o);
                if (off < sizeof o)
                    memcpy((char *)&o + off, (char *)&given + off,
                           flags[i].kind == LAM_FLAG_INT     ? sizeof(int)
                           : flags[i].kind == LAM_FLAG_FLOAT ? sizeof(float)
                                                             : sizeof(int64_t));
            }
        o.vocab_from_data = !lam_cli_flag(flags, nf, "--model")->given;
    }
    if (micro) o.micro = micro;
    if (!o.micro) o.micro = o.batch / comm.size > 0 ? o.batch / comm.size : 1;
    o.progress = (root && !quiet) ? stderr : NULL;
    o.info = root ? stderr : NULL;
    o.comm = &comm;
    o.stop = &g_stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    lam_train_result r;
    if (lam_train(&o, &r, &err) != LAM_OK) goto fail;
    if (root) {
        printf("lam train: step %lld of %lld, loss %.4f", (long long)r.step, (long long)r.steps,
               r.loss);
        if (!isnan(r.val_loss)) printf(", validation loss %.4f", r.val_loss);
        printf(", %.0f tokens/s (%.1f ms a step, %.2f ms of it data)\n", r.tok_s, r.step_ms,
               r.data_ms);
        if (r.ckpt[0]) printf("lam train: checkpoint %s\n", r.ckpt);
        if (r.interrupted)
            printf("lam train: stopped by %s; continue with: lam train --resume %s\n",
                   g_stop == SIGINT ? "SIGINT" : "SIGTERM", o.out_dir);
    }
    rc = r.interrupted ? 128 + (int)g_stop : 0;
    for (int k = 0; k < 3; k++) free(saved[k]);
    lam_ckpt_free(&ck);
    lam_comm_finalize(&comm);
    return rc;
fail:
    if (comm.size > 1)
        fprintf(stderr, "lam train (rank %d): %s\n", comm.rank, err.msg);
    else
        fprintf(stderr, "lam train: %s\n", err.msg);
    for (int k = 0; k < 3; k++) free(saved[k]);
    lam_ckpt_free(&ck);
    if (comm.size > 1) lam_comm_abort(&comm, 1); /* the other ranks would wait forever */
    lam_comm_finalize(&comm);
    return rc;
}
