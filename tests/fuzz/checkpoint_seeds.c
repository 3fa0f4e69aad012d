/* checkpoint_seeds.c - the checkpoint reader's fuzz seeds (tests/fuzz/corpus/checkpoint):
 *   checkpoint_seeds make DIR    writes them: two valid checkpoints of a model of a few hundred
 *                                parameters (with and without AdamW moments) and a bad one (a
 *                                valid file whose params hold one value too many)
 *   checkpoint_seeds check DIR   fuzz.checkpoint_seeds: valid_* read and bad_* are refused */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/checkpoint.h"
#include "lam/rng.h"

static lam_config micro(void) {
    lam_config c;
    lam_config_preset("tiny", &c, NULL);
    c.vocab_size = 8, c.dim = 4, c.n_layers = 1, c.n_heads = 2, c.n_kv_heads = 1, c.ffn_dim = 6;
    c.max_seq_len = 16;
    return c;
}

static int make(const char *dir) {
    lam_config c = micro();
    int64_t P = lam_config_n_params(&c);
    float *p = malloc((size_t)(P + 1) * 4), *m = malloc((size_t)P * 4), *v = malloc((size_t)P * 4);
    lam_rng_fill_normal(p, P + 1, 1, 0, 0, 1);
    lam_rng_fill_normal(m, P, 1, 1, 0, 1e-3f);
    lam_rng_fill_uniform(v, P, 1, 2, 0, 1e-6f);
    lam_ckpt ck = {.cfg = c,
                   .tokenizer_json = "{\"model\":{\"type\":\"BPE\"}}",
                   .train_json = "{\"step\":3,\"next_row\":24}",
                   .n_params = P,
                   .params = p,
                   .adam_m = m,
                   .adam_v = v};
    char path[1024];
    lam_error err = {0};
    snprintf(path, sizeof path, "%s/valid_moments.h5", dir);
    if (lam_ckpt_write(path, &ck, &err) != LAM_OK) goto fail;
    ck.adam_m = ck.adam_v = NULL;
    snprintf(path, sizeof path, "%s/valid_weights.h5", dir);
    if (lam_ckpt_write(path, &ck, &err) != LAM_OK) goto fail;
    /* a bad one: params one value longer than the config's count */
    snprintf(path, sizeof path, "%s/bad_params_length.h5", dir);
    if (lam_ckpt_write(path, &ck, &err) != LAM_OK) goto fail;
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hsize_t n = (hsize_t)P + 1;
    H5Ldelete(f, "params", H5P_DEFAULT);
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(f, "params", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p);
    H5Dclose(d), H5Sclose(sp), H5Fclose(f);
    free(p), free(m), free(v);
    return 0;
fail:
    fprintf(stderr, "checkpoint_seeds: %s\n", err.msg);
    return 1;
}

static void *slurp(const char *path, size_t *n) {
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    void *b = malloc(*n ? *n : 1);
    if (b && fread(b, 1, *n, f) != *n) free(b), b = NULL;
    fclose(f);
    return b;
}

static int check(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 1;
    int bad = 0, seen = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int valid = !strncmp(e->d_name, "valid_", 6), refused = !strncmp(e->d_name, "bad_", 4);
        if (!valid && !refused) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n;
        void *img = slurp(path, &n);
        lam_ckpt c;
        lam_error err = {0};
        lam_status st = img ? lam_ckpt_read_image(img, n, e->d_name, 1, &c, &err) : LAM_ERR_IO;
        printf("%-24s %zu bytes: %s\n", e->d_name, n, st == LAM_OK ? "read" : err.msg);
        if ((st == LAM_OK) != valid) bad++;
        if (st == LAM_OK) lam_ckpt_free(&c);
        free(img);
        seen++;
    }
    closedir(d);
    printf("checkpoint seeds: %d checked, %d not what their name says\n", seen, bad);
    return bad || seen < 3;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "make")) return make(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "check")) return check(argv[2]);
    fprintf(stderr, "usage: checkpoint_seeds make|check DIR\n");
    return 2;
}
