/* h5store_seeds.c - the seed corpus of fuzz_h5store (tests/fuzz/corpus/h5store/).
 *   h5store_seeds make SRC.h5 DIR   writes the seeds from a dataset lam data build made
 *   h5store_seeds check DIR         valid_* seeds open and read every sample; bad_* are refused
 * A valid seed holds the first episodes of SRC with a few of their samples, in the layout of
 * docs/dataset-store.md and with the writer's dataset properties (shuffle and deflate, no
 * timestamps), but with chunks no larger than the data and chunk B-trees of order 2: lam data
 * build's chunks of 4096..65536 entries make even a one-episode file 60 KB deflated and 1.2 MB
 * without deflate, too large for the fuzzer to mutate usefully. The bad_* seeds are the same files
 * cut short or changed, and a foreign HDF5 file. How the corpus was made: docs/dataset-store.md. */
#include <dirent.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/h5store.h"

#define H5OK(x)                                                                                    \
    do {                                                                                           \
        if ((x) < 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #x);                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int deflate; /* of the file being written */

/* A 1-D dataset of n entries, chunked and unlimited like the writer's: one chunk, but
 * several for the tokens and the mask. */
static void put(hid_t f, const char *path, hid_t type, const void *data, hsize_t n) {
    hsize_t chunk = strncmp(path, "/samples/", 9) || n < 128 ? (n ? n : 1) : 128;
    hsize_t unlim = H5S_UNLIMITED;
    hid_t sp, dcpl, ds;
    H5OK(sp = H5Screate_simple(1, &n, &unlim));
    H5OK(dcpl = H5Pcreate(H5P_DATASET_CREATE));
    H5OK(H5Pset_chunk(dcpl, 1, &chunk));
    H5OK(H5Pset_obj_track_times(dcpl, 0));
    if (H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) > 1 && deflate > 0)
        H5OK(H5Pset_shuffle(dcpl));
    if (deflate > 0) H5OK(H5Pset_deflate(dcpl, (unsigned)deflate));
    H5OK(ds = H5Dcreate2(f, path, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    if (n > 0) H5OK(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
    H5Dclose(ds), H5Pclose(dcpl), H5Sclose(sp);
}

static void put_attr(hid_t obj, const char *name, hid_t type, const void *v) {
    hid_t sp, a;
    H5OK(sp = H5Screate(H5S_SCALAR));
    H5OK(a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT));
    H5OK(H5Awrite(a, type, v));
    H5Aclose(a), H5Sclose(sp);
}

/* Writes the first n_eps episodes of r with at most per_ep samples each. */
static void make_one(lam_h5_reader *r, const char *out, int n_eps, int per_ep) {
    lam_h5_counts c;
    lam_h5_params p;
    lam_h5_get_counts(r, &c);
    lam_h5_get_params(r, &p);
    if (c.n_episodes < n_eps) exit(1);
    hid_t fcpl, f, g, str;
    H5OK(fcpl = H5Pcreate(H5P_FILE_CREATE));
    H5OK(H5Pset_istore_k(fcpl, 2));
    H5OK(f = H5Fcreate(out, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT));
    H5OK(str = H5Tcopy(H5T_C_S1));
    H5OK(H5Tset_size(str, H5T_VARIABLE));
    H5OK(H5Tset_cset(str, H5T_CSET_UTF8));
    const char *fmt = LAM_H5_FORMAT;
    int32_t ver = LAM_H5_SCHEMA_VERSION;
    put_attr(f, "format", str, &fmt);
    put_attr(f, "schema_version", H5T_NATIVE_INT32, &ver);
    static const char *const groups[] = {"/meta", "/episodes", "/steps", "/samples"};
    for (int i = 0; i < 4; i++) {
        H5OK(g = H5Gcreate2(f, groups[i], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        H5Gclose(g);
    }
    size_t jlen;
    const char *json = lam_h5_tokenizer_json(r, &jlen);
    put(f, "/meta/tokenizer_json", H5T_NATIVE_UINT8, json, jlen);
    const char *src_name[64], *src_sha[64];
    int32_t ns = c.n_sources < 64 ? c.n_sources : 64;
    for (int32_t i = 0; i < ns; i++) lam_h5_get_source(r, i, &src_name[i], &src_sha[i]);
    put(f, "/meta/source_names", str, src_name, (hsize_t)ns);
    put(f, "/meta/source_sha256", str, src_sha, (hsize_t)ns);

    /* episodes, steps, and the samples kept; splits counted over what is kept */
    const char *cols[6][16], *split_names[16], *actions[1024];
    int64_t step_offset[17] = {0}, split_eps[16] = {0}, split_smp[16] = {0}, offset[256];
    int32_t source[16], length[256], episode[256], step[256];
    int32_t *ids = malloc(sizeof *ids << 20);
    uint8_t *mask = malloc(1 << 20);
    int n_split = 0, n_act = 0, n_smp = 0;
    int64_t n_tok = 0;
    for (int e = 0; e < n_eps; e++) {
        lam_h5_episode ep;
        lam_h5_get_episode(r, e, &ep);
        const char *v[6] = {ep.id, ep.task, ep.app, ep.domain, ep.template_id, ep.split};
        for (int k = 0; k < 6; k++) cols[k][e] = v[k];
        source[e] = ep.source;
        int64_t first = lam_h5_episode_first_step(r, e);
        for (int s = 0; s < ep.n_steps && n_act < 1024; s++)
            actions[n_act++] = lam_h5_step_action(r, first + s);
        step_offset[e + 1] = n_act;
        int si = 0;
        while (si < n_split && strcmp(split_names[si], ep.split)) si++;
        if (si == n_split) split_names[n_split++] = ep.split;
        split_eps[si]++;
        int kept = 0;
        for (int64_t i = 0; i < c.n_samples && kept < per_ep; i++) {
            lam_h5_sample_info info;
            lam_h5_get_sample_info(r, i, &info);
            if (info.episode != e || n_tok + info.length > (1 << 20)) continue;
            lam_error err = {0};
            if (lam_h5_read_sample(r, i, ids + n_tok, mask + n_tok, (size_t)info.length, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                exit(1);
            }
            offset[n_smp] = n_tok, length[n_smp] = info.length;
            episode[n_smp] = e, step[n_smp] = info.step;
            n_tok += info.length, n_smp++, kept++, split_smp[si]++;
        }
    }
    static const char *const ep_paths[6] = {"/episodes/id",       "/episodes/task",
                                            "/episodes/app",      "/episodes/domain",
                                            "/episodes/template", "/episodes/split"};
    for (int k = 0; k < 6; k++) put(f, ep_paths[k], str, cols[k], (hsize_t)n_eps);
    put(f, "/episodes/step_offset", H5T_STD_I64LE, step_offset, (hsize_t)n_eps + 1);
    put(f, "/episodes/source", H5T_STD_I32LE, source, (hsize_t)n_eps);
    put(f, "/steps/action", str, actions, (hsize_t)n_act);
    put(f, "/samples/tokens", H5T_STD_I32LE, ids, (hsize_t)n_tok);
    put(f, "/samples/mask", H5T_STD_U8LE, mask, (hsize_t)n_tok);
    put(f, "/samples/offset", H5T_STD_I64LE, offset, (hsize_t)n_smp);
    put(f, "/samples/length", H5T_STD_I32LE, length, (hsize_t)n_smp);
    put(f, "/samples/episode", H5T_STD_I32LE, episode, (hsize_t)n_smp);
    put(f, "/samples/step", H5T_STD_I32LE, step, (hsize_t)n_smp);
    put(f, "/meta/split_names", str, split_names, (hsize_t)n_split);
    put(f, "/meta/split_episodes", H5T_STD_I64LE, split_eps, (hsize_t)n_split);
    put(f, "/meta/split_samples", H5T_STD_I64LE, split_smp, (hsize_t)n_split);
    H5OK(g = H5Gopen2(f, "/meta", H5P_DEFAULT));
    put_attr(g, "max_seq_len", H5T_NATIVE_INT32, &p.max_seq_len);
    put_attr(g, "history_k", H5T_NATIVE_INT32, &p.history_k);
    put_attr(g, "shots", H5T_NATIVE_INT32, &p.shots);
    put_attr(g, "obs_budget", H5T_NATIVE_INT64, &p.obs_budget);
    int32_t d = deflate;
    put_attr(g, "deflate", H5T_NATIVE_INT32, &d);
    put_attr(g, "n_dropped", H5T_NATIVE_INT64, &p.n_dropped);
    put_attr(g, "n_too_long", H5T_NATIVE_INT64, &p.n_too_long);
    H5Gclose(g), H5Tclose(str), H5Pclose(fcpl);
    H5OK(H5Fclose(f));
    free(ids), free(mask);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n > 0 ? (size_t)n : 1);
    *len = n > 0 && fread(b, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
    fclose(f);
    return b;
}

static void write_bytes(const char *path, const char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) exit(1);
}

static int cmd_make(const char *src, const char *dir) {
    lam_h5_reader *r;
    lam_error err = {0};
    if (lam_h5_open(src, &r, &err) != LAM_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    char p[4096], q[4096];
    struct {
        const char *name;
        int deflate, n_eps, per_ep;
    } v[] = {{"valid_deflate0", 0, 1, 2}, {"valid_deflate1", 1, 2, 1}, {"valid_one", 1, 1, 1}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        snprintf(p, sizeof p, "%s/%s.h5", dir, v[i].name);
        deflate = v[i].deflate;
        make_one(r, p, v[i].n_eps, v[i].per_ep);
    }
    lam_h5_close(r);
    /* cut short; a foreign file */
    size_t n;
    snprintf(p, sizeof p, "%s/valid_deflate1.h5", dir);
    char *b = slurp(p, &n);
    snprintf(q, sizeof q, "%s/bad_truncated.h5", dir);
    write_bytes(q, b, n / 2);
    free(b);
    snprintf(q, sizeof q, "%s/bad_foreign.h5", dir);
    hid_t f, sp, ds;
    hsize_t dim = 4;
    double x[4] = {1, 2, 3, 4};
    H5OK(f = H5Fcreate(q, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    H5OK(sp = H5Screate_simple(1, &dim, NULL));
    H5OK(ds = H5Dcreate2(f, "/data", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5OK(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x));
    H5Dclose(ds), H5Sclose(sp);
    H5OK(H5Fclose(f));
    return 0;
}

/* Every valid_* seed opens (from disk and from memory) and reads every sample; every bad_* one
 * is refused with a message. */
static int cmd_check(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 1;
    struct dirent *e;
    int failures = 0, n_valid = 0, n_bad = 0;
    while ((e = readdir(d))) {
        int valid = !strncmp(e->d_name, "valid_", 6), isbad = !strncmp(e->d_name, "bad_", 4);
        if (!valid && !isbad) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        size_t n;
        char *b = slurp(p, &n);
        lam_h5_reader *r[2] = {NULL, NULL};
        lam_error err[2] = {{0}, {0}};
        lam_status s0 = lam_h5_open(p, &r[0], &err[0]);
        lam_status s1 = lam_h5_open_image(b, n, e->d_name, &r[1], &err[1]);
        free(b);
        int ok = valid ? s0 == LAM_OK && s1 == LAM_OK
                       : s0 != LAM_OK && s1 != LAM_OK && err[0].msg[0] && err[1].msg[0];
        lam_h5_counts c = {0};
        for (int k = 0; k < 2 && ok && valid; k++) {
            lam_h5_get_counts(r[k], &c);
            for (int64_t i = 0; i < c.n_samples && ok; i++) {
                int32_t ids[4096];
                uint8_t mask[4096];
                ok = lam_h5_read_sample(r[k], i, ids, mask, 4096, &err[k]) == LAM_OK;
            }
        }
        printf("%-24s %6zu bytes: %s", e->d_name, n, ok ? "ok" : "WRONG");
        if (valid)
            printf(" (%lld episodes, %lld samples, %lld tokens)\n", (long long)c.n_episodes,
                   (long long)c.n_samples, (long long)c.n_tokens);
        else
            printf(" (%s / %s)\n", err[0].msg, err[1].msg);
        failures += !ok;
        n_valid += valid, n_bad += isbad;
        lam_h5_close(r[0]), lam_h5_close(r[1]);
    }
    closedir(d);
    if (n_valid == 0 || n_bad == 0) failures++;
    return failures != 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "make")) return cmd_make(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "check")) return cmd_check(argv[2]);
    fprintf(stderr, "usage: h5store_seeds make SRC.h5 DIR | check DIR\n");
    return 2;
}
