/* cli.h - owns the flag parsing of the command-line tools: a table of flags ("--name value" or
 * "--name=value"), typed and range-checked, which remembers which flags were given, and the
 * usage error convention (one line naming the problem, then the usage, exit code 2). Each
 * command's table and usage text live in its own *_cli.c. */
#ifndef LAM_CLI_H
#define LAM_CLI_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LAM_FLAG_STR,   /* const char * */
    LAM_FLAG_INT,   /* int, within [lo, hi] */
    LAM_FLAG_I64,   /* int64_t, within [lo, hi] */
    LAM_FLAG_FLOAT, /* float, finite, within [lo, hi] */
    LAM_FLAG_BOOL,  /* int set to 1; takes no value */
} lam_flag_kind;

typedef struct {
    const char *name; /* "--steps" */
    lam_flag_kind kind;
    void *dst;
    double lo, hi;
    int given; /* set by lam_cli_parse */
} lam_flag;

#define LAM_CLI_OK    0
#define LAM_CLI_HELP  1 /* -h/--help: the usage went to stdout */
#define LAM_CLI_USAGE 2 /* bad usage: "PROG: problem" and the usage went to stderr */

/* Parses argv[0..argc) against flags; words that are not flags go to positional (at most
 * max_pos; more is a usage error). */
int lam_cli_parse(int argc, char **argv, lam_flag *flags, int n_flags, const char *prog,
                  const char *usage, const char **positional, int *n_pos, int max_pos);
/* The flag called name in the table, or NULL. */
lam_flag *lam_cli_flag(lam_flag *flags, int n_flags, const char *name);
/* Prints "PROG: message" and the usage to stderr; returns LAM_CLI_USAGE. */
int lam_cli_usage_error(const char *prog, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
