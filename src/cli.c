/* cli.c - table-driven flag parsing for the command-line tools (cli.h). */
#include "lam/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int lam_cli_usage_error(const char *prog, const char *usage, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", usage);
    return LAM_CLI_USAGE;
}

lam_flag *lam_cli_flag(lam_flag *flags, int n_flags, const char *name) {
    for (int i = 0; i < n_flags; i++)
        if (!strcmp(flags[i].name, name)) return &flags[i];
    return NULL;
}

/* Stores value v of flag f; 0 when v is not a valid value. */
static int store(lam_flag *f, const char *v) {
    char *end;
    errno = 0;
    switch (f->kind) {
    case LAM_FLAG_STR:
        *(const char **)f->dst = v;
        return 1;
    case LAM_FLAG_INT:
    case LAM_FLAG_I64: {
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || errno || (double)x < f->lo || (double)x > f->hi) return 0;
        if (f->kind == LAM_FLAG_INT)
            *(int *)f->dst = (int)x;
        else
            *(int64_t *)f->dst = (int64_t)x;
        return 1;
    }
    case LAM_FLAG_FLOAT: {
        double x = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(x) || x < f->lo || x > f->hi) return 0;
        *(float *)f->dst = (float)x;
        return 1;
    }
    case LAM_FLAG_BOOL:
        return 0;
    }
    return 0;
}

static const char *kind_words(const lam_flag *f) {
    switch (f->kind) {
    case LAM_FLAG_INT:
    case LAM_FLAG_I64:
        return "an integer";
    case LAM_FLAG_FLOAT:
        return "a number";
    default:
        return "a value";
    }
}

int lam_cli_parse(int argc, char **argv, lam_flag *flags, int n_flags, const char *prog,
                  const char *usage, const char **positional, int *n_pos, int max_pos) {
    if (n_pos) *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return LAM_CLI_HELP;
        }
        if (a[0] != '-' || !a[1]) {
            if (!n_pos || *n_pos >= max_pos)
                return lam_cli_usage_error(prog, usage, "unexpected argument '%s'", a);
            positional[(*n_pos)++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        lam_flag *f = NULL;
        for (int k = 0; k < n_flags && !f; k++)
            if (strlen(flags[k].name) == nl && !strncmp(flags[k].name, a, nl)) f = &flags[k];
        if (!f) return lam_cli_usage_error(prog, usage, "unknown flag '%.*s'", (int)nl, a);
        if (f->kind == LAM_FLAG_BOOL) {
            if (eq) return lam_cli_usage_error(prog, usage, "flag '%s' takes no value", f->name);
            *(int *)f->dst = 1;
            f->given = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) return lam_cli_usage_error(prog, usage, "flag '%s' needs a value", f->name);
        if (!store(f, v)) {
            if (f->kind == LAM_FLAG_STR)
                return lam_cli_usage_error(prog, usage, "bad value '%s' for %s", v, f->name);
            return lam_cli_usage_error(prog, usage, "%s '%s' is not %s in [%g, %g]", f->name, v,
                                       kind_words(f), f->lo, f->hi);
        }
        f->given = 1;
    }
    return LAM_CLI_OK;
}
