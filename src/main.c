/* main.c - the `lam` binary: git-style subcommands, flag parsing, and the mapping of a
 * status to an exit code (0 success, 1 job failed, 2 bad usage). */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lam/bench.h"
#include "lam/comm.h"
#include "lam/config.h"
#include "lam/build_cli.h"
#include "lam/data_cli.h"
#include "lam/improve.h"
#include "lam/infer_cli.h"
#include "lam/mind2web.h"
#include "lam/log.h"
#include "lam/model.h"
#include "lam/synth.h"
#include "lam/tokenizer_cli.h"
#include "lam/train_cli.h"
#ifdef LAM_HAVE_CUDA
#include "../cuda/cuda_device.h"
#endif

#define EXIT_USAGE 2

static const char *main_usage =
    "usage: lam <command> [flags]\n"
    "\n"
    "commands:\n"
    "  act      answer one action request with a trained model (task + observation -> actions)\n"
    "  bench    time training steps of a model on this machine (forward, backward, AdamW)\n"
    "  data     datasets: validate recordings, synthesize episodes from the UI simulator\n"
    "  eval     evaluate a model: offline metrics and closed loop in the simulator (JSON, HTML)\n"
    "  improve  improve a trained model in the simulator with DAgger (expert corrections)\n"
    "  info     show the build, backends, threads, CUDA devices and MPI\n"
    "  serve    serve a model over HTTP: /v1/act, OpenAI chat completions, batching many clients\n"
    "  train    train an action model on a dataset store (checkpoints, resume, MPI ranks)\n"
    "  version  print the version\n"
    "\n"
    "`lam <command> --help` shows a command's flags. LAM_LOG=debug|info|warn|error sets the\n"
    "log level.\n";

static const char *bench_usage =
    "usage: lam bench [flags]\n"
    "\n"
    "Times training steps (forward, backward, gradient norm, AdamW) on random tokens and\n"
    "reports tokens/s, achieved GFLOP/s and this machine's sgemm GFLOP/s.\n"
    "\n"
    "flags:\n"
    "  --model NAME|FILE  preset (tiny, small, base) or a config JSON file   [small]\n"
    "  --batch B          sequences per step                                 [8]\n"
    "  --seq T            tokens per sequence (<= the model's max_seq_len)   [256]\n"
    "  --steps N          timed steps                                        [20]\n"
    "  --warmup N         untimed steps before them                          [2]\n"
    "  --threads N        CPU threads (0 = all cores)                        [0]\n"
    "  --backend NAME     backend                                            [cpu]\n"
    "  --seed S           seed of the weights and tokens                     [1234]\n"
    "  --json             print only one JSON line (no progress bar)\n"
    "  --no-sgemm         skip the sgemm measurement\n"
    "  --profile          print the time of each op call site (synchronizes after each)\n"
    "  -h, --help         show this help\n";

static const char *data_usage =
    "usage: lam data <command> [flags]\n"
    "\n"
    "commands:\n"
    "  validate FILE...   check recordings (JSONL) against the schema, report every problem\n"
    "  synth              write episodes solved by the UI simulator's expert (JSONL)\n"
    "  tokenizer train    train a byte-level BPE tokenizer (tokenizer.json) on recordings\n"
    "  build RECORDINGS   tokenize recordings into a dataset store (HDF5)\n"
    "  inspect FILE.h5    counts, length histograms, splits and decoded samples of a store\n"
    "  convert --from mind2web IN.json... --out OUT.jsonl\n"
    "                     convert Mind2Web's released JSON into recordings\n"
    "\n"
    "`lam data <command> --help` shows a command's flags.\n";

static const char *info_usage = "usage: lam info\n\nShows the build, backends, threads, CUDA "
                                "devices and MPI.\n";

static int usage_error(const char *usage, const char *fmt, const char *arg) {
    fprintf(stderr, "lam: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return EXIT_USAGE;
}

/* Flag parsing: "--name value" or "--name=value". Returns 1 and sets *val when argv[*i]
 * is flag `name` (advancing *i past a separate value), 0 otherwise, -1 when the value is
 * missing. */
static int flag_value(int argc, char **argv, int *i, const char *name, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != 0) return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

static int parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int is_help(const char *a) {
    return !strcmp(a, "-h") || !strcmp(a, "--help");
}

static void machine_name(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ') c++;
                c[strcspn(c, "\n")] = 0;
                snprintf(buf, cap, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

static int cmd_bench(int argc, char **argv) {
    const char *model = "small", *backend = "cpu", *v;
    long batch = 8, seq = 256, steps = 20, warmup = 2, threads = 0, seed = 1234;
    int json = 0, sgemm = 1, profile = 0;
    for (int i = 0; i < argc; i++) {
        int r;
        long *target = NULL, lo = 1, hi = 1L << 20;
        if (is_help(argv[i])) {
            fputs(bench_usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
            continue;
        } else if (!strcmp(argv[i], "--profile")) {
            profile = 1;
            continue;
        } else if (!strcmp(argv[i], "--no-sgemm")) {
            sgemm = 0;
            continue;
        } else if ((r = flag_value(argc, argv, &i, "--model", &v)) != 0) {
            if (r < 0) return usage_error(bench_usage, "flag '%s' needs a value", "--model");
            model = v;
            continue;
        } else if ((r = flag_value(argc, argv, &i, "--backend", &v)) != 0) {
            if (r < 0) return usage_error(bench_usage, "flag '%s' needs a value", "--backend");
            backend = v;
            continue;
        }
        const char *names[] = {"--batch", "--seq", "--steps", "--warmup", "--threads", "--seed"};
        long *targets[] = {&batch, &seq, &steps, &warmup, &threads, &seed};
        const char *fname = NULL;
        for (int k = 0; k < 6 && !target; k++) {
            r = flag_value(argc, argv, &i, names[k], &v);
            if (r < 0) return usage_error(bench_usage, "flag '%s' needs a value", names[k]);
            if (r > 0) target = targets[k], fname = names[k];
        }
        if (!target) return usage_error(bench_usage, "unknown flag '%s'", argv[i]);
        if (target == &warmup || target == &threads || target == &seed) lo = 0;
        if (!parse_int(v, lo, hi, target)) {
            fprintf(stderr, "lam bench: %s '%s' is not an integer in [%ld, %ld]\n\n%s", fname, v,
                    lo, hi, bench_usage);
            return EXIT_USAGE;
        }
    }
    lam_error err = {0};
    lam_config cfg;
    if (lam_config_resolve(model, &cfg, NULL, &err) != LAM_OK) {
        fprintf(stderr, "lam bench: %s\n", err.msg);
        return 1;
    }
    if (seq > cfg.max_seq_len) {
        fprintf(stderr, "lam bench: --seq %ld is longer than the model's max_seq_len %d\n", seq,
                cfg.max_seq_len);
        return 1;
    }
    lam_backend *be;
    if (lam_backend_create(backend, (int)threads, &be, &err) != LAM_OK) {
        fprintf(stderr, "lam bench: %s\n", err.msg);
        return 1;
    }
    int nt = threads > 0 ? (int)threads : omp_get_num_procs();
    lam_logger lg = lam_logger_from_env();
    if (!json)
        lam_log(&lg, LAM_LOG_INFO,
                "bench: model %s (%lld parameters, D=%d L=%d H=%d KV=%d F=%d V=%d), batch %ld x "
                "%ld, %d threads, backend %s",
                model, (long long)lam_config_n_params(&cfg), cfg.dim, cfg.n_layers, cfg.n_heads,
                cfg.n_kv_heads, cfg.ffn_dim, cfg.vocab_size, batch, seq, nt, be->name);
    lam_bench_opts o = {.batch = (int)batch,
                        .seq = (int)seq,
                        .steps = (int)steps,
                        .warmup = (int)warmup,
                        .seed = (uint64_t)seed,
                        .progress = json ? NULL : stderr,
                        .profile = profile ? stderr : NULL};
    lam_bench_result r = {0};
    lam_status st = lam_bench_train_step(be, &cfg, &o, &r, &err);
    double sg = 0.0;
    if (st == LAM_OK && sgemm) st = lam_bench_sgemm(1024, &sg, &err);
    lam_backend_destroy(be);
    if (st != LAM_OK) {
        fprintf(stderr, "lam bench: %s\n", err.msg);
        return 1;
    }
    char mach[128];
    machine_name(mach, sizeof mach);
    printf("{\"bench\":\"train_step_ours\",\"config\":\"%s\",\"ours\":%.1f,\"unit\":\"tok/s\","
           "\"threads\":%d,\"batch\":%ld,\"seq\":%ld,\"steps\":%ld,\"n_params\":%lld,"
           "\"step_ms\":%.3f,\"gflops\":%.2f,\"sgemm_gflops\":%.2f,\"pct_sgemm\":%.1f,"
           "\"first_loss\":%.5f,\"last_loss\":%.5f,\"act_mib\":%.1f,\"machine\":\"%s\","
           "\"blas_core\":\"%s\"}\n",
           model, r.tok_s, nt, batch, seq, steps, (long long)r.n_params, r.step_ms, r.gflops, sg,
           sg > 0 ? 100.0 * r.gflops / sg : 0.0, r.first_loss, r.last_loss,
           (double)r.act_bytes / (1024.0 * 1024.0), mach, lam_bench_blas_core());
    return 0;
}

static int cmd_data(int argc, char **argv) {
    if (argc < 1) {
        fputs(data_usage, stderr);
        return EXIT_USAGE;
    }
    if (is_help(argv[0])) {
        fputs(data_usage, stdout);
        return 0;
    }
    if (!strcmp(argv[0], "validate")) return lam_data_validate_main(argc - 1, argv + 1);
    if (!strcmp(argv[0], "synth")) return lam_data_synth_main(argc - 1, argv + 1);
    if (!strcmp(argv[0], "tokenizer")) return lam_data_tokenizer_main(argc - 1, argv + 1);
    if (!strcmp(argv[0], "build")) return lam_data_build_main(argc - 1, argv + 1);
    if (!strcmp(argv[0], "inspect")) return lam_data_inspect_main(argc - 1, argv + 1);
    if (!strcmp(argv[0], "convert")) return lam_data_convert_main(argc - 1, argv + 1);
    if (argv[0][0] == '-') return usage_error(data_usage, "unknown flag '%s'", argv[0]);
    return usage_error(data_usage, "unknown data command '%s'", argv[0]);
}

static int cmd_info(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(info_usage, stdout);
            return 0;
        }
        return usage_error(info_usage, "unknown flag '%s'", argv[i]);
    }
    char list[128], mach[128], comm[256];
    machine_name(mach, sizeof mach);
    printf("lam %s\n", LAM_VERSION);
    printf("machine:  %s, %d cores\n", mach, omp_get_num_procs());
    printf("backends: %s\n", lam_backend_list(list, sizeof list));
    printf("blas:     OpenBLAS, %s kernels%s\n", lam_bench_blas_core(),
           getenv("OPENBLAS_CORETYPE") ? " (OPENBLAS_CORETYPE)" : "");
#ifdef LAM_HAVE_CUDA
    int nd = 0;
    char desc[256];
    lam_error err = {0};
    if (lam_cuda_describe(&nd, desc, sizeof desc, &err) != LAM_OK)
        printf("cuda:     built; %s\n", err.msg);
    else
        printf("cuda:     built; %d device(s)%s%s\n", nd, nd ? ": " : "; ", desc);
#else
    printf("cuda:     not built (LAM_CUDA=OFF)\n");
#endif
    printf("ranks:    %s\n", lam_comm_describe(comm, sizeof comm));
    return 0;
}

int main(int argc, char **argv) {
    lam_backends_init();
    if (argc < 2) {
        fputs(main_usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (is_help(cmd) || !strcmp(cmd, "help")) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("lam %s\n", LAM_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 2, argv + 2);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "data")) return cmd_data(argc - 2, argv + 2);
    if (!strcmp(cmd, "train")) return lam_train_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "act")) return lam_act_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval")) return lam_eval_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "serve")) return lam_serve_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "improve")) return lam_improve_main(argc - 2, argv + 2);
    if (cmd[0] == '-') return usage_error(main_usage, "unknown flag '%s'", cmd);
    return usage_error(main_usage, "unknown command '%s'", cmd);
}
