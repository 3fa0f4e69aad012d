/* test_core.c - core modules: status messages, arenas, the counter-based RNG (against
 * Philox4x32-10 known-answer vectors from Random123), the progress bar, config validation and
 * JSON, tensors and bf16 rounding (against a double-precision reference). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/arena.h"
#include "lam/config.h"
#include "lam/progress.h"
#include "lam/rng.h"
#include "lam/status.h"
#include "lam/tensor.h"

static int failures;
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__, #cond);         \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void test_status(void) {
    lam_error e = {0};
    EXPECT(lam_error_set(&e, LAM_ERR_SHAPE, "op %s: %d", "x", 3) == LAM_ERR_SHAPE);
    EXPECT(!strcmp(e.msg, "op x: 3"));
    lam_error_prefix(&e, "file.json");
    EXPECT(!strcmp(e.msg, "file.json: op x: 3"));
    EXPECT(lam_error_set(NULL, LAM_ERR_IO, "ignored") == LAM_ERR_IO);
    EXPECT(!strcmp(lam_status_name(LAM_ERR_NOMEM), "out of memory"));
}

static void test_arena(void) {
    lam_arena a;
    void *p;
    lam_arena_plan(&a, "plan");
    EXPECT(lam_arena_alloc(&a, 10, &p, NULL) == LAM_OK && p == NULL);
    EXPECT(lam_arena_alloc(&a, 100, &p, NULL) == LAM_OK);
    EXPECT(a.used == 64 + 100);
    lam_error e = {0};
    EXPECT(lam_arena_init(&a, "real", 200, &e) == LAM_OK);
    void *p1, *p2, *p3;
    EXPECT(lam_arena_alloc(&a, 10, &p1, &e) == LAM_OK && ((uintptr_t)p1 % 64) == 0);
    EXPECT(lam_arena_alloc(&a, 100, &p2, &e) == LAM_OK && ((uintptr_t)p2 % 64) == 0);
    EXPECT((char *)p2 - (char *)p1 == 64);
    EXPECT(lam_arena_alloc(&a, 100, &p3, &e) == LAM_ERR_NOMEM && p3 == NULL);
    EXPECT(strstr(e.msg, "arena real") != NULL);
    lam_arena_reset(&a);
    EXPECT(lam_arena_alloc(&a, 150, &p3, &e) == LAM_OK && p3 == p1);
    lam_arena_free(&a);
}

static void test_rng(void) {
    /* Random123 kat_vectors: philox4x32 10 rounds */
    uint32_t r[4];
    lam_philox(0, 0, 0, r);
    EXPECT(r[0] == 0x6627e8d5u && r[1] == 0xe169c58du && r[2] == 0xbc57ac4cu &&
           r[3] == 0x9b00dbd8u);
    /* counter ffffffff x4, key ffffffff x2 */
    lam_philox(~0ull, ~0ull, ~0ull, r);
    EXPECT(r[0] == 0x408f276du && r[1] == 0x41c83b0eu && r[2] == 0xa20bc7c6u &&
           r[3] == 0x6d5451fdu);
    /* counter 243f6a88 85a308d3 13198a2e 03707344, key a4093822 299f31d0 */
    lam_philox(0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull, r);
    EXPECT(r[0] == 0xd16cfe09u && r[1] == 0x94fdccebu && r[2] == 0x5001e420u &&
           r[3] == 0x24126ea1u);
    /* normal fill: mean ~0, std ~1, and a pure function of the index */
    int n = 200000;
    float *x = malloc(n * sizeof(float));
    lam_rng_fill_normal(x, n, 42, 7, 0.0f, 1.0f);
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += x[i], s2 += (double)x[i] * x[i];
    double mean = s / n, var = s2 / n - mean * mean;
    EXPECT(fabs(mean) < 0.01 && fabs(var - 1.0) < 0.02);
    EXPECT(x[12345] == lam_rng_normal(42, 7, 12345));
    float u = lam_rng_uniform(1, 2, 3);
    EXPECT(u >= 0.0f && u < 1.0f);
    free(x);
}

static void test_progress(void) {
    lam_progress p;
    FILE *f = tmpfile();
    lam_progress_init(&p, f, "train", 100);
    EXPECT(!p.is_tty && p.period_s >= 1.0); /* a file gets plain periodic lines */
    lam_progress_update(&p, 50, "loss 1.23");
    char buf[512];
    lam_progress_format(&p, p.t_start + 10.0, buf, sizeof buf);
    EXPECT(strstr(buf, "train [") && strstr(buf, " 50%") && strstr(buf, "50/100") &&
           strstr(buf, "loss 1.23") && strstr(buf, "00:10<00:10"));
    lam_progress_finish(&p, NULL);
    rewind(f);
    int lines = 0;
    while (fgets(buf, sizeof buf, f)) {
        EXPECT(strchr(buf, '\r') == NULL);
        lines++;
    }
    EXPECT(lines == 2); /* first update draws, finish draws */
    fclose(f);
    /* a resumed job: 40 of 100 done at the start, 20 more in 10 s: 40 left take 20 s */
    f = tmpfile();
    lam_progress_init_at(&p, f, "train", 40, 100);
    lam_progress_update(&p, 60, NULL);
    lam_progress_format(&p, p.t_start + 10.0, buf, sizeof buf);
    EXPECT(strstr(buf, "60/100") && strstr(buf, "00:10<00:20"));
    fclose(f);
}

static void test_config(void) {
    lam_config c;
    lam_error e = {0};
    EXPECT(lam_config_preset("small", &c, &e) == LAM_OK);
    int64_t n = lam_config_n_params(&c);
    EXPECT(n > 3500000 && n < 4500000);
    EXPECT(lam_config_preset("base", &c, &e) == LAM_OK);
    n = lam_config_n_params(&c);
    EXPECT(n > 25000000 && n < 35000000);
    EXPECT(lam_config_preset("huge", &c, &e) == LAM_ERR_INVALID && strstr(e.msg, "huge"));
    lam_config_preset("small", &c, NULL);
    EXPECT(lam_config_from_json("{\"dim\": 128, \"n_heads\": 2}", "m.json", &c, &e) == LAM_OK);
    EXPECT(c.dim == 128 && c.n_heads == 2 && c.n_layers == 4);
    struct {
        const char *json, *field;
    } bad[] = {
        {"{\"dim\": 100, \"n_heads\": 3}", "n_heads"},
        {"{\"n_kv_heads\": 3}", "n_kv_heads"},
        {"{\"vocab_size\": 1}", "vocab_size"},
        {"{\"dim\": \"big\"}", "dim"},
        {"{\"norm_eps\": -1}", "norm_eps"},
        {"{\"rope_theta\": 0.5}", "rope_theta"},
        {"{\"tie_embeddings\": 1}", "tie_embeddings"},
        {"{\"n_layers\": 0}", "n_layers"},
        {"{\"dimm\": 3}", "dimm"},
        {"{\"dim\": 64,}", "m.json:1:"},
        {"[1,2]", "JSON object"},
        {"{\"ffn_dim\": 1e30}", "ffn_dim"},
        {"{\"dim\": 1.5}", "dim"},
        {"{\"init_std\": 2}", "init_std"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lam_config d;
        lam_config_preset("small", &d, NULL);
        lam_config before = d;
        lam_error be = {0};
        lam_status st = lam_config_from_json(bad[i].json, "m.json", &d, &be);
        if (st != LAM_ERR_INVALID || !strstr(be.msg, bad[i].field) ||
            memcmp(&d, &before, sizeof d)) {
            fprintf(stderr, "config case %zu (%s): status %d, message '%s'\n", i, bad[i].json, st,
                    be.msg);
            failures++;
        }
    }
    /* round trip */
    lam_config_preset("base", &c, NULL);
    c.tie_embeddings = 0;
    c.norm_eps = 1e-6f;
    char *js = NULL;
    EXPECT(lam_config_to_json(&c, &js, &e) == LAM_OK);
    lam_config d;
    lam_config_preset("tiny", &d, NULL);
    EXPECT(lam_config_from_json(js, "rt", &d, &e) == LAM_OK);
    EXPECT(!memcmp(&c, &d, sizeof c));
    free(js);
}

static double ref_bf16(float x) {
    /* nearest bf16 by exhaustive search of the two neighbours, ties to even mantissa */
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t lo = u & 0xffff0000u, hi = lo + 0x10000u;
    float flo, fhi;
    memcpy(&flo, &lo, 4);
    memcpy(&fhi, &hi, 4);
    double dlo = fabs((double)x - flo), dhi = fabs((double)x - fhi);
    if (dlo < dhi) return flo;
    if (dhi < dlo) return fhi;
    return ((lo >> 16) & 1) ? fhi : flo;
}

static void test_tensor(void) {
    float buf[24];
    lam_tensor t = lam_tensor_3d(buf, LAM_F32, 2, 3, 4);
    EXPECT(lam_tensor_numel(&t) == 24 && lam_tensor_bytes(&t) == 96);
    char d[64];
    EXPECT(!strcmp(lam_tensor_desc(&t, d, sizeof d), "f32[2,3,4]"));
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        float x = (lam_rng_uniform(5, 0, i) - 0.5f) * powf(2.0f, (float)(i % 40) - 20.0f);
        if (i % 1000 == 0) { /* exact ties */
            uint32_t u = 0x3f808000u | ((uint32_t)(i / 1000 % 2) << 16);
            memcpy(&x, &u, 4);
        }
        if ((double)lam_bf16_to_f32(lam_f32_to_bf16(x)) != ref_bf16(x)) bad++;
    }
    EXPECT(bad == 0);
    EXPECT(isnan(lam_bf16_to_f32(lam_f32_to_bf16(NAN))));
    EXPECT(isinf(lam_bf16_to_f32(lam_f32_to_bf16(INFINITY))));
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    int all = !strcmp(which, "all");
    if (all || !strcmp(which, "status")) test_status();
    if (all || !strcmp(which, "arena")) test_arena();
    if (all || !strcmp(which, "rng")) test_rng();
    if (all || !strcmp(which, "progress")) test_progress();
    if (all || !strcmp(which, "config")) test_config();
    if (all || !strcmp(which, "tensor")) test_tensor();
    printf("%s: %s\n", which, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
