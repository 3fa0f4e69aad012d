/* test_train.c - the trainer's parts that need no run:
 *   loader DATA.h5       packing: every sample of the split lands exactly once per epoch, in
 *                        one row, whole, with its tokens, next-token targets, loss mask and
 *                        segment start as the store holds them (read back independently with
 *                        lam_h5_read_sample); rows never overflow T; padding carries no loss;
 *                        a row is the same whether read in order or alone (resume); the order
 *                        depends on the seed and the epoch and not otherwise
 *   lr                   the schedule against its closed form in double precision
 *   checkpoint DIR       write/read round trip (bitwise), atomic replacement, and clear
 *                        errors for missing, truncated, random, foreign (a dataset store) and
 *                        edited files, each naming the file and the problem */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "lam/checkpoint.h"
#include "lam/h5store.h"
#include "lam/loader.h"
#include "lam/rng.h"
#include "lam/trainer.h"

static int failures;
static lam_error err;
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__, #cond);         \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
#define OK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != LAM_OK) {                                                                    \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, err.msg);         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* ---- loader ---------------------------------------------------------------------------- */

typedef struct {
    int32_t *tok, *tgt, *seg;
    float *mask;
} rows_buf;

static rows_buf rows_new(int n, int T) {
    size_t k = (size_t)n * T;
    rows_buf b = {malloc(k * 4), malloc(k * 4), malloc(k * 4), malloc(k * 4)};
    return b;
}
static void rows_free(rows_buf *b) {
    free(b->tok), free(b->tgt), free(b->seg), free(b->mask);
}

/* Checks one epoch's rows [first, first+rows) against the store: returns per-sample counts.
 * pw: the loader's prompt_weight (the mask's value on positions that are no target). */
static void check_epoch(lam_loader *l, lam_h5_reader *r, int64_t first, int64_t rows, int T,
                        int *seen, int64_t n_samples, float pw) {
    rows_buf b = rows_new(1, T);
    int32_t *ids = malloc(4 * 8192);
    uint8_t *msk = malloc(8192);
    /* a sample is recognized by its tokens: index the store's samples by their first 4 ids */
    for (int64_t g = first; g < first + rows; g++) {
        int64_t ntok = 0, nloss = 0;
        OK(lam_loader_rows(l, g, 1, b.tok, b.tgt, b.mask, b.seg, &ntok, &nloss, &err));
        int pos = 0;
        int64_t loss_here = 0;
        while (pos < ntok) {
            EXPECT(b.seg[pos] == pos); /* a segment starts here */
            int end = pos;
            while (end < T && b.seg[end] == pos) end++;
            int len = end - pos; /* positions = tokens - 1 */
            /* find the store sample with these tokens */
            int64_t found = -1;
            for (int64_t i = 0; i < n_samples && found < 0; i++) {
                lam_h5_sample_info si;
                lam_h5_get_sample_info(r, i, &si);
                if (si.length != len + 1) continue;
                OK(lam_h5_read_sample(r, i, ids, msk, 8192, &err));
                int same = 1;
                for (int t = 0; t < len && same; t++)
                    same = ids[t] == b.tok[pos + t] && ids[t + 1] == b.tgt[pos + t] &&
                           (msk[t + 1] ? 1.0f : pw) == b.mask[pos + t];
                if (same && !seen[i])
                    found = i;
                else if (same && found < 0)
                    found = -2 - i; /* a duplicate of a seen sample */
            }
            EXPECT(found >= 0);
            if (found >= 0) seen[found]++;
            for (int t = 0; t < len && found >= 0; t++) loss_here += msk[t + 1] != 0;
            pos = end;
        }
        EXPECT(pos == ntok && ntok <= T);
        EXPECT(loss_here == nloss);
        for (int t = (int)ntok; t < T; t++) /* padding: one segment, no loss */
            EXPECT(b.mask[t] == 0.0f && b.seg[t] == (int32_t)ntok);
    }
    free(ids), free(msk);
    rows_free(&b);
}

static void test_loader(const char *path) {
    lam_h5_reader *r;
    OK(lam_h5_open(path, &r, &err));
    lam_h5_counts c;
    lam_h5_get_counts(r, &c);
    int T = 700;
    lam_loader_opts o;
    lam_loader_opts_default(&o);
    o.T = T;
    o.seed = 5;
    o.window = 37; /* several windows */
    lam_loader *l;
    OK(lam_loader_open(r, "train", &o, &l, &err));
    lam_loader_stats st;
    lam_loader_get_stats(l, &st);
    printf("loader: %lld train samples, %lld used, %lld too long, %lld rows of %d in epoch 0 "
           "(%.1f%% filled)\n",
           (long long)st.n_samples, (long long)st.n_used, (long long)st.n_too_long,
           (long long)st.rows_epoch0, T, 100.0 * st.tokens / ((double)st.rows_epoch0 * T));
    EXPECT(st.n_used + st.n_too_long == st.n_samples && st.n_used > 0);
    /* the expected set: the train split's samples that fit */
    int *want = calloc((size_t)c.n_samples, sizeof *want);
    for (int64_t i = 0; i < c.n_samples; i++) {
        lam_h5_sample_info si;
        lam_h5_get_sample_info(r, i, &si);
        lam_h5_episode ep;
        lam_h5_get_episode(r, si.episode, &ep);
        want[i] = !strcmp(ep.split, "train") && si.length - 1 <= T;
    }
    for (int e = 0; e < 2; e++) {
        int64_t rows, first;
        OK(lam_loader_epoch_rows(l, e, &rows, &first, &err));
        int *seen = calloc((size_t)c.n_samples, sizeof *seen);
        check_epoch(l, r, first, rows, T, seen, c.n_samples, 0.0f);
        int64_t missing = 0, extra = 0;
        for (int64_t i = 0; i < c.n_samples; i++) {
            missing += want[i] && seen[i] != 1;
            extra += !want[i] && seen[i];
        }
        printf("loader: epoch %d: rows [%lld, %lld): %lld samples missing or repeated, %lld "
               "outside the split\n",
               e, (long long)first, (long long)(first + rows), (long long)missing,
               (long long)extra);
        EXPECT(missing == 0 && extra == 0);
        free(seen);
    }
    /* with a prompt weight: the same rows, the prompt's positions at that weight */
    {
        lam_loader_opts op = o;
        op.prompt_weight = 0.25f;
        lam_loader *lp;
        OK(lam_loader_open(r, "train", &op, &lp, &err));
        int64_t rows, first;
        OK(lam_loader_epoch_rows(lp, 0, &rows, &first, &err));
        int *seen = calloc((size_t)c.n_samples, sizeof *seen);
        check_epoch(lp, r, first, rows, T, seen, c.n_samples, 0.25f);
        int64_t missing = 0;
        for (int64_t i = 0; i < c.n_samples; i++) missing += want[i] && seen[i] != 1;
        printf("loader: prompt weight 0.25: epoch 0 the same samples (%lld missing), targets 1, "
               "prompt 0.25, padding 0\n",
               (long long)missing);
        EXPECT(missing == 0);
        free(seen);
        lam_loader_close(lp);
    }
    /* a row read alone (a resumed run) equals the row read in sequence; another seed gives
     * another order, the same seed the same */
    int64_t rows0, first0, rows1, first1;
    OK(lam_loader_epoch_rows(l, 1, &rows1, &first1, &err));
    OK(lam_loader_epoch_rows(l, 0, &rows0, &first0, &err));
    rows_buf a = rows_new(4, T), b = rows_new(4, T), d = rows_new(4, T);
    int64_t g = first1 + 2;
    OK(lam_loader_rows(l, g, 4, a.tok, a.tgt, a.mask, a.seg, NULL, NULL, &err));
    lam_loader *l2, *l3;
    OK(lam_loader_open(r, "train", &o, &l2, &err));
    OK(lam_loader_rows(l2, g, 4, b.tok, b.tgt, b.mask, b.seg, NULL, NULL, &err));
    size_t bytes = (size_t)4 * T * 4;
    EXPECT(!memcmp(a.tok, b.tok, bytes) && !memcmp(a.tgt, b.tgt, bytes) &&
           !memcmp(a.mask, b.mask, bytes) && !memcmp(a.seg, b.seg, bytes));
    o.seed = 6;
    OK(lam_loader_open(r, "train", &o, &l3, &err));
    OK(lam_loader_rows(l3, g, 4, d.tok, d.tgt, d.mask, d.seg, NULL, NULL, &err));
    EXPECT(memcmp(a.tok, d.tok, bytes) != 0);
    /* epochs differ in order */
    OK(lam_loader_rows(l, first0, 4, b.tok, b.tgt, b.mask, b.seg, NULL, NULL, &err));
    OK(lam_loader_rows(l, first1, 4, d.tok, d.tgt, d.mask, d.seg, NULL, NULL, &err));
    EXPECT(memcmp(b.tok, d.tok, bytes) != 0);
    /* without shuffling, epochs repeat */
    o.shuffle = 0;
    lam_loader *l4;
    OK(lam_loader_open(r, "train", &o, &l4, &err));
    int64_t r4, f4;
    OK(lam_loader_epoch_rows(l4, 1, &r4, &f4, &err));
    OK(lam_loader_rows(l4, 0, 2, b.tok, b.tgt, b.mask, b.seg, NULL, NULL, &err));
    OK(lam_loader_rows(l4, f4, 2, d.tok, d.tgt, d.mask, d.seg, NULL, NULL, &err));
    EXPECT(!memcmp(b.tok, d.tok, (size_t)2 * T * 4));
    /* errors: a split nobody has, rows too short for any sample */
    lam_loader *bad = NULL;
    EXPECT(lam_loader_open(r, "nosuch", &o, &bad, &err) == LAM_ERR_INVALID && !bad);
    EXPECT(strstr(err.msg, "nosuch") != NULL);
    o.T = 8;
    EXPECT(lam_loader_open(r, "train", &o, &bad, &err) == LAM_ERR_INVALID && !bad);
    printf("loader: errors: %s\n", err.msg);
    rows_free(&a), rows_free(&b), rows_free(&d);
    lam_loader_close(l), lam_loader_close(l2), lam_loader_close(l3), lam_loader_close(l4);
    free(want);
    lam_h5_close(r);
}

/* ---- learning-rate schedule --------------------------------------------------------- */

static void test_lr(void) {
    lam_train_opts o;
    lam_train_opts_default(&o);
    o.lr = 1e-3f, o.min_lr = 1e-4f, o.warmup = 10, o.steps = 110;
    double worst = 0.0;
    for (int64_t s = 1; s <= 120; s++) {
        double want;
        if (s <= 10)
            want = 1e-3 * s / 10.0;
        else {
            double p = fmin(1.0, (s - 10) / 100.0);
            want = 1e-4 + 0.5 * (1e-3 - 1e-4) * (1.0 + cos(acos(-1.0) * p));
        }
        double got = lam_train_lr(&o, s), e = fabs(got - want) / want;
        if (e > worst) worst = e;
    }
    printf("lr: warmup and cosine over 120 steps, worst relative error %.2e\n", worst);
    EXPECT(worst < 1e-6);
    EXPECT(fabsf(lam_train_lr(&o, 60) - 5.5e-4f) < 1e-9f); /* halfway down */
    o.warmup = 0;
    EXPECT(lam_train_lr(&o, 1) < 1e-3f && lam_train_lr(&o, 1) > 0.99e-3f);
    /* a checkpoint's options: the prompt loss it recorded; none recorded: trained without one */
    lam_train_opts p;
    lam_train_opts_default(&p);
    EXPECT(p.prompt_loss == 0.25f);
    OK(lam_train_opts_from_json("{\"steps\": 7, \"prompt_loss\": 0.5}", "t", &p, &err));
    EXPECT(p.steps == 7 && p.prompt_loss == 0.5f);
    OK(lam_train_opts_from_json("{\"steps\": 8}", "t", &p, &err));
    EXPECT(p.steps == 8 && p.prompt_loss == 0.0f);
    EXPECT(lam_train_opts_from_json("{\"prompt_loss\": \"x\"}", "t", &p, &err) == LAM_ERR_INVALID);
    printf("lr: a checkpoint's prompt loss is kept; one without it trained without (%s)\n",
           err.msg);
}

/* ---- checkpoints ----------------------------------------------------------------------- */

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) exit(1);
    fclose(f);
}

static void *read_bytes(const char *path, size_t *n) {
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(*n ? *n : 1);
    if (fread(p, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return p;
}

/* The checkpoint at src with HDF5 object `what` edited by `edit`, written to dst. */
static void edited(const char *src, const char *dst, int edit) {
    size_t n;
    void *p = read_bytes(src, &n);
    write_bytes(dst, p, n);
    free(p);
    hid_t f = H5Fopen(dst, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) exit(1);
    hsize_t one = 1, five = 5;
    hid_t sp;
    switch (edit) {
    case 0: /* no params */
        H5Ldelete(f, "params", H5P_DEFAULT);
        break;
    case 1: /* params of another length */ {
        float v5[5] = {1, 2, 3, 4, 5};
        H5Ldelete(f, "params", H5P_DEFAULT);
        sp = H5Screate_simple(1, &five, NULL);
        hid_t d =
            H5Dcreate2(f, "params", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v5);
        H5Dclose(d), H5Sclose(sp);
        break;
    }
    case 7: /* params declared but never written: no storage */
        H5Ldelete(f, "params", H5P_DEFAULT);
        sp = H5Screate_simple(1, &five, NULL);
        H5Dclose(
            H5Dcreate2(f, "params", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        H5Sclose(sp);
        break;
    case 2: /* params as doubles */ {
        H5Ldelete(f, "params", H5P_DEFAULT);
        sp = H5Screate_simple(1, &one, NULL);
        H5Dclose(
            H5Dcreate2(f, "params", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        H5Sclose(sp);
        break;
    }
    case 3: /* a config that is not JSON */ {
        H5Ldelete(f, "config", H5P_DEFAULT);
        const char *s = "{\"dim\": 12,";
        hsize_t k = strlen(s);
        sp = H5Screate_simple(1, &k, NULL);
        hid_t d = H5Dcreate2(f, "config", H5T_STD_U8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, s);
        H5Dclose(d), H5Sclose(sp);
        break;
    }
    case 4: /* version 99 */ {
        int32_t v = 99;
        hid_t a = H5Aopen(f, "version", H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_INT32, &v);
        H5Aclose(a);
        break;
    }
    case 5: /* adam_v without adam_m */
        H5Ldelete(f, "adam_m", H5P_DEFAULT);
        break;
    case 6: /* no format attribute */
        H5Adelete(f, "format");
        break;
    case 8: /* params as big-endian floats: the right class and size, another layout (libhdf5
             * would convert it with a soft conversion that trusts the layout's fields) */
    {
        hid_t d = H5Dopen2(f, "params", H5P_DEFAULT), s = H5Dget_space(d);
        hssize_t P = H5Sget_simple_extent_npoints(s);
        float *v = calloc((size_t)P, sizeof *v);
        H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        H5Dclose(d);
        H5Ldelete(f, "params", H5P_DEFAULT);
        d = H5Dcreate2(f, "params", H5T_IEEE_F32BE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        H5Dclose(d), H5Sclose(s), free(v);
        break;
    }
    case 9: /* version 1 as a 16-bit integer */ {
        int32_t v = 1;
        H5Adelete(f, "version");
        sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(f, "version", H5T_STD_I16LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_INT32, &v);
        H5Aclose(a), H5Sclose(sp);
        break;
    }
    }
    H5Fclose(f);
}

static void expect_fail(const char *path, const char *want) {
    lam_ckpt c;
    lam_status s = lam_ckpt_read(path, 1, &c, &err);
    int good = s != LAM_OK && strstr(err.msg, want) != NULL && c.params == NULL;
    printf("checkpoint: %-28s -> %s\n", strrchr(path, '/') + 1, s == LAM_OK ? "(read!)" : err.msg);
    EXPECT(good);
    if (s == LAM_OK) lam_ckpt_free(&c);
}

static void test_checkpoint(const char *dir, const char *dataset) {
    lam_config cfg;
    lam_config_preset("tiny", &cfg, NULL);
    cfg.vocab_size = 300, cfg.dim = 24, cfg.n_heads = 2, cfg.n_kv_heads = 1, cfg.ffn_dim = 40;
    int64_t P = lam_config_n_params(&cfg);
    float *p = malloc(P * 4), *m = malloc(P * 4), *v = malloc(P * 4);
    lam_rng_fill_normal(p, P, 1, 0, 0, 1);
    lam_rng_fill_normal(m, P, 1, 1, 0, 1e-3f);
    lam_rng_fill_uniform(v, P, 1, 2, 0, 1e-6f);
    p[3] = -0.0f, p[4] = 1e-40f; /* a negative zero and a denormal survive */
    lam_ckpt c = {.cfg = cfg,
                  .tokenizer_json = "{\"model\":{}}",
                  .train_json = "{\"step\":7}",
                  .n_params = P,
                  .params = p,
                  .adam_m = m,
                  .adam_v = v};
    char path[1024], bad[1024];
    snprintf(path, sizeof path, "%s/ck.h5", dir);
    OK(lam_ckpt_write(path, &c, &err));
    lam_ckpt r;
    OK(lam_ckpt_read(path, 1, &r, &err));
    EXPECT(r.n_params == P && !memcmp(r.params, p, P * 4) && !memcmp(r.adam_m, m, P * 4) &&
           !memcmp(r.adam_v, v, P * 4));
    EXPECT(!strcmp(r.tokenizer_json, c.tokenizer_json) && !strcmp(r.train_json, c.train_json));
    EXPECT(!memcmp(&r.cfg, &cfg, sizeof cfg));
    lam_ckpt_free(&r);
    OK(lam_ckpt_read(path, 0, &r, &err)); /* weights only */
    EXPECT(r.params && !r.adam_m && !r.adam_v);
    lam_ckpt_free(&r);
    /* the same from a file image */
    size_t n;
    unsigned char *img = read_bytes(path, &n);
    OK(lam_ckpt_read_image(img, n, "image", 1, &r, &err));
    EXPECT(!memcmp(r.params, p, P * 4));
    lam_ckpt_free(&r);
    printf("checkpoint: %lld parameters round trip bitwise (file and image), %zu bytes\n",
           (long long)P, n);
    /* a failing write leaves the old file untouched and no temporary behind */
    c.n_params = P + 1;
    EXPECT(lam_ckpt_write(path, &c, &err) == LAM_ERR_INVALID);
    c.n_params = P;
    char nodir[1100];
    snprintf(nodir, sizeof nodir, "%s/missing/ck.h5", dir);
    EXPECT(lam_ckpt_write(nodir, &c, &err) == LAM_ERR_IO);
    OK(lam_ckpt_read(path, 1, &r, &err));
    lam_ckpt_free(&r);

    /* damaged and foreign files */
    snprintf(bad, sizeof bad, "%s/missing.h5", dir);
    expect_fail(bad, "cannot read");
    size_t cuts[3] = {0, 100, n / 2};
    for (int k = 0; k < 3; k++) {
        snprintf(bad, sizeof bad, "%s/truncated-%zu.h5", dir, cuts[k]);
        write_bytes(bad, img, cuts[k]);
        expect_fail(bad, "truncated");
    }
    unsigned char *rnd = malloc(4096);
    for (int i = 0; i < 4096; i++) rnd[i] = (unsigned char)(lam_rng_uniform(3, 0, i) * 256);
    snprintf(bad, sizeof bad, "%s/random.h5", dir);
    write_bytes(bad, rnd, 4096);
    expect_fail(bad, "not an HDF5 file");
    expect_fail(dataset, "not a lamkit checkpoint");
    const char *edits[] = {"no dataset 'params'",
                           "has 5 values",
                           "must be 1-D little-endian IEEE float32 (found rank 1 of 8-byte floats)",
                           "config",
                           "version 99",
                           "'adam_v' without 'adam_m'",
                           "not a lamkit checkpoint",
                           "not stored as a checkpoint stores it",
                           "4-byte floats in another bit layout or byte order",
                           "attribute 'version' is not a scalar little-endian int32"};
    for (int e = 0; e < 10; e++) {
        snprintf(bad, sizeof bad, "%s/edit-%d.h5", dir, e);
        edited(path, bad, e);
        expect_fail(bad, edits[e]);
    }
    /* image errors */
    EXPECT(lam_ckpt_read_image(rnd, 4096, "rnd", 1, &r, &err) == LAM_ERR_INVALID);
    EXPECT(lam_ckpt_read_image(img, 40, "short", 1, &r, &err) != LAM_OK);
    EXPECT(lam_ckpt_read_image(img, n / 2, "half", 1, &r, &err) != LAM_OK);
    printf("checkpoint: image of half the file -> %s\n", err.msg);
    free(rnd), free(img), free(p), free(m), free(v);
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    if (!strcmp(which, "loader") && argc > 2)
        test_loader(argv[2]);
    else if (!strcmp(which, "lr"))
        test_lr();
    else if (!strcmp(which, "checkpoint") && argc > 3)
        test_checkpoint(argv[2], argv[3]);
    else {
        fprintf(stderr, "usage: test_train loader DATA.h5 | lr | checkpoint DIR DATA.h5\n");
        return 2;
    }
    printf("%s: %s\n", which, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
