/* train_cli.h - owns `lam train`, the command line of the trainer (trainer.h): its flags and
 * defaults, the ranks, the stop signals and the summary. src/main.c dispatches here. */
#ifndef LAM_TRAIN_CLI_H
#define LAM_TRAIN_CLI_H

#ifdef __cplusplus
extern "C" {
#endif

/* `lam train [flags]`: argv holds the words after "train". Returns 0 (done), 1 (the job
 * failed), 2 (bad usage) or 128+signal (stopped by SIGINT/SIGTERM after a checkpoint). */
int lam_train_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
