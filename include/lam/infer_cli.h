/* infer_cli.h - owns the command lines of inference: `lam act` (one request, act_cli.c),
 * `lam eval` (offline and closed-loop evaluation, eval_cli.c) and `lam serve` (the HTTP server,
 * serve_cli.c). src/main.c dispatches here. */
#ifndef LAM_INFER_CLI_H
#define LAM_INFER_CLI_H

#ifdef __cplusplus
extern "C" {
#endif

/* argv holds the words after the command. Return 0 (done), 1 (failed) or 2 (bad usage). */
int lam_act_main(int argc, char **argv);
int lam_eval_main(int argc, char **argv);
int lam_serve_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
