/* test_backend_parity.c - every op of a device backend against the CPU backend, in the manner
 * of ggml's test-backend-ops: the same random inputs go to both, the outputs are compared with
 * a tolerance per dtype and op; then a whole training step of a small model.
 *
 *   test_backend_parity BACKEND ops|step
 *
 * BACKEND is a registered device backend (cuda, cuda-fp32, cuda-sim, cuda-sim-fp32). A backend
 * that cannot be created because there is no device exits 77 (ctest SKIP). On the simulated
 * device every run is repeated under the forward, reverse and a seeded random fiber schedule,
 * and the device's outputs must be bitwise identical across the three (a missing barrier or a
 * race shows up as a difference even where it stays within tolerance); the simulator must
 * also have printed no warning (cuda/sim/cusim_api.h).
 *
 * Tolerances. U = 2^-24 (fp32 unit roundoff), u = 2^-8 (bf16's). Outputs that are one
 * correctly rounded operation per element, or the same operations in the same order on both
 * backends (fill, copy, cast, scale, add, the embedding gather and its row-ordered
 * scatter-add), must be bitwise equal. Reductions and products: |dev - cpu| <= 1e-5 max|cpu|
 * (two fp32 implementations each within a few U sqrt(n) of exact). In bf16 mode the backend
 * rounds the operands of its matrix products to bf16, so:
 *   - matmul is compared with the CPU product of the operands rounded to bf16 first: the
 *     products are then exact in fp32 on both sides and only the fp32 sums differ (1e-5);
 *   - attention gets bf16-representable q, k, v and dout, so the only roundings left are the
 *     device's own rounding of P (forward: out) and of P and dS (backward); each element may
 *     then differ by u times the sum of the magnitudes of the terms that were rounded,
 *     e.g. u sum_j P_ij |v_jd| for out, plus the fp32 slack of 1e-5 max|cpu|.
 * NaN or infinity where the CPU is finite never passes. Inputs come from the counter-based RNG
 * with a printed seed (LAM_TEST_SEED overrides); device outputs are poisoned with NaN before
 * each call. Exit 0 pass, 1 fail, 2 usage, 77 no device. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lam/backend.h"
#include "lam/config.h"
#include "lam/model.h"
#include "lam/rng.h"
#ifdef LAM_HAVE_CUDA_SIM
#include "cusim_api.h"
#endif

#define U  (1.0 / 16777216.0) /* 2^-24 */
#define UB (1.0 / 256.0)      /* 2^-8, bf16 unit roundoff */

static lam_backend *g_cpu, *g_dev;
static lam_error g_err;
static int g_fail, g_checks, g_bf16, g_sim;
static uint64_t g_seed = 20251202, g_stream, g_ictr;
static double g_worst;
static char g_worst_where[256];

/* device outputs of this run, hashed in order (FNV-1a), for the cross-schedule comparison */
static uint64_t g_hash[4096];
static int g_nhash;

static void die(const char *what) {
    fprintf(stderr, "fatal: %s: %s\n", what, g_err.msg);
    exit(1);
}

static void randn(float *x, int64_t n, float mean, float std) {
    lam_rng_fill_normal(x, n, g_seed, g_stream++, mean, std);
}
static int64_t rand_int(int64_t lo, int64_t hi) {
    uint32_t r[4];
    lam_philox(g_seed, 0x9a717e57ULL, g_ictr++, r);
    return lo + (int64_t)((((uint64_t)r[0] << 32) | r[1]) % (uint64_t)(hi - lo + 1));
}
static float bf16_round(float x) {
    return lam_bf16_to_f32(lam_f32_to_bf16(x));
}

/* ---- tensors on both backends with a host mirror ----------------------------------- */

typedef struct {
    lam_tensor c, d; /* on the CPU backend, on the device */
    void *h;         /* host mirror (inputs: what the device got) */
    size_t bytes;
} pair;

#define MAX_PAIRS 256
static pair g_pairs[MAX_PAIRS];
static int g_npairs;
static void *g_tmp[1024];
static int g_ntmp;

static void *tmp(size_t bytes) {
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p || g_ntmp == 1024) die("host memory");
    return g_tmp[g_ntmp++] = p;
}
static float *tmpf(int64_t n) {
    return tmp((size_t)n * sizeof(float));
}

static pair *pnew(lam_dtype dt, int nd, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    if (g_npairs == MAX_PAIRS) die("too many tensors");
    pair *p = &g_pairs[g_npairs++];
    int64_t s[4] = {d0, d1, d2, d3};
    memset(p, 0, sizeof *p);
    p->c.dtype = p->d.dtype = dt;
    p->c.ndim = p->d.ndim = nd;
    for (int i = 0; i < nd; i++) p->c.shape[i] = p->d.shape[i] = s[i];
    p->c.device = LAM_DEV_CPU;
    p->d.device = g_dev->device;
    p->bytes = lam_tensor_bytes(&p->c);
    p->h = tmp(p->bytes);
    if (g_cpu->alloc(g_cpu, p->bytes, &p->c.data, &g_err) ||
        g_dev->alloc(g_dev, p->bytes, &p->d.data, &g_err))
        die("alloc");
    return p;
}
#define P1(dt, a)          pnew(dt, 1, a, 1, 1, 1)
#define P2(dt, a, b)       pnew(dt, 2, a, b, 1, 1)
#define P3(dt, a, b, c)    pnew(dt, 3, a, b, c, 1)
#define P4(dt, a, b, c, d) pnew(dt, 4, a, b, c, d)

static int64_t NE(pair *p) {
    return lam_tensor_numel(&p->c);
}
static float *F(pair *p) {
    return p->h;
}
static int32_t *I(pair *p) {
    return p->h;
}

/* host mirror to both (or cpu_data, when given, to the CPU only) */
static void up2(pair *p, const void *cpu_data) {
    if (g_dev->upload(g_dev, p->d.data, p->h, p->bytes, &g_err) ||
        g_cpu->upload(g_cpu, p->c.data, cpu_data ? cpu_data : p->h, p->bytes, &g_err))
        die("upload");
}
static void up(pair *p) {
    up2(p, NULL);
}
static pair *rnd(pair *p, float mean, float std) {
    randn(F(p), NE(p), mean, std);
    up(p);
    return p;
}
/* bf16-representable values (attention inputs in bf16 mode, see the header) */
static pair *rnd_exact(pair *p, float mean, float std) {
    randn(F(p), NE(p), mean, std);
    if (g_bf16)
        for (int64_t i = 0; i < NE(p); i++) F(p)[i] = bf16_round(F(p)[i]);
    up(p);
    return p;
}
static pair *poison(pair *p) {
    memset(p->h, 0xff, p->bytes); /* NaN for f32 and bf16 */
    up(p);
    return p;
}
static void *get(pair *p, int dev) {
    void *h = tmp(p->bytes);
    lam_backend *be = dev ? g_dev : g_cpu;
    if (be->synchronize(be, &g_err) ||
        be->download(be, h, dev ? p->d.data : p->c.data, p->bytes, &g_err))
        die("download");
    if (dev) { /* FNV-1a of the device's bytes */
        uint64_t x = 1469598103934665603ULL;
        for (size_t i = 0; i < p->bytes; i++) x = (x ^ ((unsigned char *)h)[i]) * 1099511628211ULL;
        if (g_nhash < 4096) g_hash[g_nhash++] = x;
    }
    return h;
}

static void release(void) {
    for (int i = 0; i < g_npairs; i++) {
        g_cpu->free(g_cpu, g_pairs[i].c.data);
        g_dev->free(g_dev, g_pairs[i].d.data);
    }
    g_npairs = 0;
    for (int i = 0; i < g_ntmp; i++) free(g_tmp[i]);
    g_ntmp = 0;
}

/* ---- calls and comparisons --------------------------------------------------------- */

static int call_ok(lam_status s, const char *be, const char *op, const char *shp) {
    if (s == LAM_OK) return 1;
    fprintf(stderr, "FAIL %s [%s] on %s: %s: %s\n", op, shp, be, lam_status_name(s), g_err.msg);
    g_fail++;
    return 0;
}
/* runs `call` on the CPU (be = g_cpu, args .c) and the device (be = g_dev, args .d) */
#define BOTH(op, shp, call)                                                                        \
    do {                                                                                           \
        lam_backend *be = g_cpu;                                                                   \
        int D_ = 0;                                                                                \
        call_ok(call, "cpu", op, shp);                                                             \
        be = g_dev;                                                                                \
        D_ = 1;                                                                                    \
        call_ok(call, g_dev->name, op, shp);                                                       \
        (void)D_;                                                                                  \
    } while (0)
#define T(p) (D_ ? &(p)->d : &(p)->c)

static void record(const char *op, const char *what, const char *shp, double ratio,
                   const char *detail) {
    g_checks++;
    if (ratio > g_worst || g_checks == 1) {
        g_worst = ratio;
        snprintf(g_worst_where, sizeof g_worst_where, "%s %s [%s]%s", op, what, shp, detail);
    }
    if (ratio > 1.0) {
        g_fail++;
        fprintf(stderr, "FAIL %s %s [%s]%s\n", op, what, shp, detail);
    }
}

/* Bitwise equality (NaN equals NaN of any payload when nan_any). */
static void cmp_bits(const char *op, const char *what, const char *shp, pair *p, int nan_any) {
    const unsigned char *c = get(p, 0), *d = get(p, 1);
    size_t es = lam_dtype_size(p->c.dtype);
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < NE(p); i++) {
        const unsigned char *x = c + i * es, *y = d + i * es;
        int same = !memcmp(x, y, es);
        if (!same && nan_any) {
            int nx =
                es == 4 ? isnan(*(const float *)x) : ((*(const uint16_t *)x & 0x7fff) > 0x7f80);
            int ny =
                es == 4 ? isnan(*(const float *)y) : ((*(const uint16_t *)y & 0x7fff) > 0x7f80);
            same = nx && ny;
        }
        if (!same && first < 0) first = i;
        bad += !same;
    }
    char det[96];
    snprintf(det, sizeof det, ": %lld of %lld elements differ (first %lld)", (long long)bad,
             (long long)NE(p), (long long)first);
    record(op, what, shp, bad ? INFINITY : 0.0, bad ? det : "");
}

/* |dev - cpu| <= rel * max|cpu| + extra[i] (extra may be NULL), over n floats at stride 1 of
 * cpu and dev arrays. */
static void cmp_arrays(const char *op, const char *what, const char *shp, const float *c,
                       const float *d, int64_t n, double rel, const double *extra) {
    double mx = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(c[i]) > mx) mx = fabs(c[i]);
    double worst = 0;
    int64_t wi = 0;
    for (int64_t i = 0; i < n; i++) {
        double tol = rel * mx + (extra ? extra[i] : 0.0);
        double e = fabs((double)d[i] - (double)c[i]);
        double r = e == 0 ? 0 : tol > 0 ? e / tol : INFINITY;
        if (!isfinite(d[i]) && isfinite(c[i])) r = INFINITY;
        if (isnan(r)) r = INFINITY;
        if (r > worst) worst = r, wi = i;
    }
    char det[160];
    snprintf(det, sizeof det, ": err/tol %.3g at %lld (cpu %.9g, %s %.9g)", worst, (long long)wi,
             n ? c[wi] : 0.0, g_dev->name, n ? d[wi] : 0.0);
    record(op, what, shp, worst, det);
}
static void cmp(const char *op, const char *what, const char *shp, pair *p, double rel,
                const double *extra) {
    cmp_arrays(op, what, shp, get(p, 0), get(p, 1), NE(p), rel, extra);
}

/* ==== ops ============================================================================== */

static void t_fill_copy_cast(void) {
    const char *s = "fill/copy/cast";
    pair *f = poison(P2(LAM_F32, 5, 67)), *b = poison(P1(LAM_BF16, 131));
    pair *i = poison(P3(LAM_I32, 3, 1, 37));
    BOTH("fill", s, be->fill(be, T(f), -1.75f, &g_err));
    BOTH("fill", s, be->fill(be, T(b), 3.14159f, &g_err));
    BOTH("fill", s, be->fill(be, T(i), -3.0f, &g_err));
    cmp_bits("fill", "f32", s, f, 0);
    cmp_bits("fill", "bf16", s, b, 0);
    cmp_bits("fill", "i32", s, i, 0);
    lam_dtype dts[3] = {LAM_F32, LAM_BF16, LAM_I32};
    for (int k = 0; k < 3; k++) {
        pair *src = P3(dts[k], 3, 5, 7), *dst = poison(P1(dts[k], 105));
        for (size_t j = 0; j < src->bytes; j++)
            ((unsigned char *)src->h)[j] = (unsigned char)rand_int(0, 255);
        up(src);
        BOTH("copy", s, be->copy(be, T(dst), T(src), &g_err));
        cmp_bits("copy", lam_dtype_name(dts[k]), s, dst, 0);
    }
    /* f32 -> bf16: ties, near ties, specials, random bits; bf16 -> f32: all patterns */
    int64_t n = 20011;
    pair *cf = P1(LAM_F32, n), *cb = poison(P1(LAM_BF16, n));
    uint32_t *bits = cf->h;
    static const uint32_t sp[] = {0,           0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                                  0x7f800001u, 0x7f7fffffu, 0x00000001u, 0x3f808000u, 0x3f818000u};
    for (int64_t j = 0; j < n; j++) {
        uint32_t r = (uint32_t)rand_int(0, 0xffffffffLL);
        if (j % 3 == 0) r = (r & 0xffff0000u) | 0x8000u;
        if (j % 3 == 1) r = (r & 0xffff0000u) | (0x7ffeu + (r & 3u));
        bits[j] = j < 10 ? sp[j] : r;
    }
    up(cf);
    BOTH("cast", s, be->cast(be, T(cb), T(cf), &g_err));
    cmp_bits("cast", "f32->bf16", s, cb, 1);
    pair *ab = P1(LAM_BF16, 65536), *af = poison(P1(LAM_F32, 65536));
    for (int j = 0; j < 65536; j++) ((uint16_t *)ab->h)[j] = (uint16_t)j;
    up(ab);
    BOTH("cast", s, be->cast(be, T(af), T(ab), &g_err));
    cmp_bits("cast", "bf16->f32", s, af, 1);
    release();
}

static void t_scale_add(void) {
    const char *s = "f32[7,143]";
    pair *x = rnd(P2(LAM_F32, 7, 143), 0, 1);
    BOTH("scale", s, be->scale(be, T(x), -0.37f, &g_err));
    cmp_bits("scale", "x", s, x, 0);
    for (int alias = 0; alias < 3; alias++) {
        pair *a = rnd(P1(LAM_F32, 1001), 0, 1), *b = rnd(P3(LAM_F32, 1, 7, 143), 0, 2);
        pair *o = alias == 1 ? a : alias == 2 ? b : poison(P2(LAM_F32, 1001, 1));
        BOTH("add", s, be->add(be, T(o), T(a), T(b), &g_err));
        cmp_bits("add", alias ? "aliased" : "out", s, o, 0);
    }
    release();
}

static void t_embedding(int64_t B, int64_t Tn, int64_t D, int64_t V) {
    char s[64];
    snprintf(s, sizeof s, "B=%lld T=%lld D=%lld V=%lld", (long long)B, (long long)Tn, (long long)D,
             (long long)V);
    int64_t N = B * Tn;
    pair *tok = P2(LAM_I32, B, Tn);
    for (int64_t i = 0; i < N; i++) I(tok)[i] = (int32_t)rand_int(0, V - 1);
    up(tok);
    pair *tab = rnd(P2(LAM_F32, V, D), 0, 1), *out = poison(P3(LAM_F32, B, Tn, D));
    BOTH("embedding_fwd", s, be->embedding_fwd(be, T(out), T(tok), T(tab), &g_err));
    cmp_bits("embedding_fwd", "out", s, out, 0);
    pair *dt = rnd(P2(LAM_F32, V, D), 0, 1), *g = rnd(P3(LAM_F32, B, Tn, D), 0, 1);
    BOTH("embedding_bwd", s, be->embedding_bwd(be, T(dt), T(tok), T(g), &g_err));
    cmp_bits("embedding_bwd", "dtable (row-ordered sums)", s, dt, 0);
    release();
}

static void t_rmsnorm(int64_t N, int64_t D, float xs) {
    char s[64];
    snprintf(s, sizeof s, "N=%lld D=%lld x*%g", (long long)N, (long long)D, xs);
    pair *x = rnd(P2(LAM_F32, N, D), 0, xs), *w = rnd(P1(LAM_F32, D), 1, 0.5f);
    pair *o = poison(P2(LAM_F32, N, D)), *r = poison(P1(LAM_F32, N));
    BOTH("rmsnorm_fwd", s, be->rmsnorm_fwd(be, T(o), T(r), T(x), T(w), 1e-5f, &g_err));
    cmp("rmsnorm_fwd", "out", s, o, 1e-5, NULL);
    cmp("rmsnorm_fwd", "rstd", s, r, 1e-5, NULL);
    pair *g = rnd(P2(LAM_F32, N, D), 0, 1), *dx = rnd(P2(LAM_F32, N, D), 0, 1);
    pair *dw = rnd(P1(LAM_F32, D), 0, 1);
    BOTH("rmsnorm_bwd", s, be->rmsnorm_bwd(be, T(dx), T(dw), T(g), T(x), T(w), T(r), &g_err));
    cmp("rmsnorm_bwd", "dx (+= prefill)", s, dx, 1e-5, NULL);
    cmp("rmsnorm_bwd", "dw (+= prefill)", s, dw, 1e-5, NULL);
    release();
}

static void t_matmul(int64_t batch, int64_t M, int64_t N, int64_t K, int ta, int tb, float alpha,
                     float beta) {
    char s[96];
    snprintf(s, sizeof s, "batch=%lld M=%lld N=%lld K=%lld ta=%d tb=%d a=%g b=%g", (long long)batch,
             (long long)M, (long long)N, (long long)K, ta, tb, alpha, beta);
    int nd = batch ? 3 : 2;
    int64_t nb = batch ? batch : 1;
    int64_t a0 = ta ? K : M, a1 = ta ? M : K, b0 = tb ? N : K, b1 = tb ? K : N;
    pair *a = nd == 3 ? P3(LAM_F32, batch, a0, a1) : P2(LAM_F32, a0, a1);
    pair *b = nd == 3 ? P3(LAM_F32, batch, b0, b1) : P2(LAM_F32, b0, b1);
    pair *c = nd == 3 ? P3(LAM_F32, batch, M, N) : P2(LAM_F32, M, N);
    randn(F(a), NE(a), 0, 1);
    randn(F(b), NE(b), 0, 1);
    /* bf16 mode: the CPU multiplies the operands rounded to bf16 (see the header) */
    float *ra = tmpf(NE(a)), *rb = tmpf(NE(b));
    for (int64_t i = 0; i < NE(a); i++) ra[i] = g_bf16 ? bf16_round(F(a)[i]) : F(a)[i];
    for (int64_t i = 0; i < NE(b); i++) rb[i] = g_bf16 ? bf16_round(F(b)[i]) : F(b)[i];
    up2(a, ra);
    up2(b, rb);
    if (beta != 0.0f)
        rnd(c, 0, 1);
    else
        poison(c); /* C is not read when beta is 0 */
    BOTH("matmul", s, be->matmul(be, T(c), T(a), T(b), ta, tb, alpha, beta, &g_err));
    (void)nb;
    cmp("matmul", "c", s, c, 1e-5, NULL);
    release();
}

static void t_rope(int64_t B, int64_t Tn, int nh, int hd, int extra, int pos0, float theta,
                   int inv) {
    char s[96];
    snprintf(s, sizeof s, "B=%lld T=%lld heads=%d hd=%d pos0=%d theta=%g inverse=%d", (long long)B,
             (long long)Tn, nh, hd, pos0, theta, inv);
    int64_t C = (int64_t)nh * hd + extra, n = B * Tn * C;
    pair *x = rnd(P3(LAM_F32, B, Tn, C), 0, 1);
    float *x0 = tmpf(n);
    memcpy(x0, F(x), (size_t)n * 4);
    BOTH("rope", s, be->rope(be, T(x), nh, hd, pos0, theta, inv, &g_err));
    /* each backend computes the angle in fp32 (within pos (ln theta + 4) U of exact, as
     * tests/test_backend_ops.c derives); two of them differ by at most twice that bound */
    double *ex = tmp((size_t)n * sizeof(double));
    for (int64_t bt = 0; bt < B * Tn; bt++) {
        double bound = ((double)(pos0 + bt % Tn) * (log(theta) + 4.0) + 6.0) * U;
        for (int64_t col = 0; col < (int64_t)nh * hd; col++) {
            int64_t i = bt * C + col, w = col % hd, pr = w < hd / 2 ? i + hd / 2 : i - hd / 2;
            ex[i] = 2.0 * (fabs(x0[i]) + fabs(x0[pr])) * bound;
        }
    }
    cmp("rope", "x", s, x, 0.0, ex);
    release();
}

/* seg (B,T): every row packs samples of random lengths (seg = start of each token's sample) */
static pair *make_seg(int64_t B, int64_t Tn) {
    pair *sg = P2(LAM_I32, B, Tn);
    for (int64_t b = 0; b < B; b++) {
        int32_t start = 0;
        for (int64_t t = 0; t < Tn; t++) {
            if (t > 0 && rand_int(0, 6) == 0) start = (int32_t)t;
            I(sg)[b * Tn + t] = start;
        }
    }
    up(sg);
    return sg;
}

static void t_attention(int64_t B, int64_t Tn, int H, int KV, int hd, int segs) {
    char s[96];
    snprintf(s, sizeof s, "B=%lld T=%lld H=%d KV=%d hd=%d%s", (long long)B, (long long)Tn, H, KV,
             hd, segs ? " packed" : "");
    int64_t C3 = (int64_t)(H + 2 * KV) * hd, HD = (int64_t)H * hd, group = H / KV;
    pair *qkv = rnd_exact(P3(LAM_F32, B, Tn, C3), 0, 1);
    pair *sg = segs ? make_seg(B, Tn) : NULL;
    pair *out = poison(P3(LAM_F32, B, Tn, HD)), *pr = poison(P4(LAM_F32, B, H, Tn, Tn));
    BOTH("attention_fwd", s,
         be->attention_fwd(be, T(out), T(pr), T(qkv), sg ? T(sg) : NULL, H, KV, &g_err));
    float *P = get(pr, 0), *q = F(qkv);
    double *ex = NULL;
    if (g_bf16) { /* u sum_j P_ij |v_jd| */
        ex = tmp((size_t)(B * Tn * HD) * sizeof(double));
        for (int64_t b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
                for (int64_t i = 0; i < Tn; i++)
                    for (int d = 0; d < hd; d++) {
                        double acc = 0;
                        for (int64_t j = 0; j < Tn; j++)
                            acc += P[((b * H + h) * Tn + i) * Tn + j] *
                                   fabs(q[(b * Tn + j) * C3 + (H + KV + h / group) * hd + d]);
                        ex[(b * Tn + i) * HD + h * hd + d] = UB * acc;
                    }
    }
    cmp("attention_fwd", "out", s, out, 1e-5, ex);
    cmp_arrays("attention_fwd", "probs", s, P, get(pr, 1), NE(pr), 1e-5, NULL);

    pair *dout = rnd_exact(P3(LAM_F32, B, Tn, HD), 0, 1);
    pair *dq = poison(P3(LAM_F32, B, Tn, C3)), *scr = poison(P4(LAM_F32, B, H, Tn, Tn));
    BOTH("attention_bwd", s,
         be->attention_bwd(be, T(dq), T(dout), T(qkv), sg ? T(sg) : NULL, T(pr), T(scr), H, KV,
                           &g_err));
    float *gc = get(dq, 0), *gd = get(dq, 1);
    float *dS = get(pr, 0), *go = F(dout);
    double *bx = tmp((size_t)(B * Tn * C3) * sizeof(double));
    if (g_bf16) {
        double sc = 1.0 / sqrt((double)hd);
        for (int64_t b = 0; b < B; b++)
            for (int h = 0; h < H; h++) {
                int g = h / (int)group;
                for (int64_t i = 0; i < Tn; i++)
                    for (int64_t j = 0; j < Tn; j++) {
                        double p = P[((b * H + h) * Tn + i) * Tn + j];
                        double ds = fabs(dS[((b * H + h) * Tn + i) * Tn + j]);
                        for (int d = 0; d < hd; d++) {
                            /* dq_i += u scale |dS_ij| |k_j|; dk_j += u scale |dS_ij| |q_i|;
                             * dv_j += u P_ij |dO_i| */
                            bx[(b * Tn + i) * C3 + h * hd + d] +=
                                UB * sc * ds * fabs(q[(b * Tn + j) * C3 + (H + g) * hd + d]);
                            bx[(b * Tn + j) * C3 + (H + g) * hd + d] +=
                                UB * sc * ds * fabs(q[(b * Tn + i) * C3 + h * hd + d]);
                            bx[(b * Tn + j) * C3 + (H + KV + g) * hd + d] +=
                                UB * p * fabs(go[(b * Tn + i) * HD + h * hd + d]);
                        }
                    }
            }
    }
    /* dq, dk, dv separately: their scales differ */
    static const char *part[3] = {"dq", "dk", "dv"};
    int64_t c0[3] = {0, HD, HD + (int64_t)KV * hd}, w[3] = {HD, (int64_t)KV * hd, (int64_t)KV * hd};
    for (int p = 0; p < 3; p++) {
        float *xc = tmpf(B * Tn * w[p]), *xd = tmpf(B * Tn * w[p]);
        double *xe = tmp((size_t)(B * Tn * w[p]) * sizeof(double));
        for (int64_t r = 0; r < B * Tn; r++)
            for (int64_t j = 0; j < w[p]; j++) {
                xc[r * w[p] + j] = gc[r * C3 + c0[p] + j];
                xd[r * w[p] + j] = gd[r * C3 + c0[p] + j];
                xe[r * w[p] + j] = bx[r * C3 + c0[p] + j];
            }
        cmp_arrays("attention_bwd", part[p], s, xc, xd, B * Tn * w[p], 1e-5, xe);
    }
    release();
}

/* Tq new queries per sequence (0: the 2-D single-query form) against a KV cache */
static void t_decode(int64_t B, int64_t Tq, int64_t S, int H, int KV, int hd) {
    char s[96];
    snprintf(s, sizeof s, "B=%lld Tq=%lld S=%lld H=%d KV=%d hd=%d", (long long)B, (long long)Tq,
             (long long)S, H, KV, hd);
    int64_t KVD = (int64_t)KV * hd, HD = (int64_t)H * hd, T1 = Tq ? Tq : 1;
    pair *q = rnd(Tq ? P3(LAM_F32, B, Tq, HD) : P2(LAM_F32, B, HD), 0, 1);
    pair *k = rnd(P3(LAM_F32, B, S, KVD), 0, 1), *v = rnd(P3(LAM_F32, B, S, KVD), 0, 1);
    pair *lens = P1(LAM_I32, B);
    for (int64_t b = 0; b < B; b++) I(lens)[b] = (int32_t)(b == 0 ? S : rand_int(T1, S));
    up(lens);
    pair *out = poison(Tq ? P3(LAM_F32, B, Tq, HD) : P2(LAM_F32, B, HD));
    BOTH("attention_decode", s,
         be->attention_decode(be, T(out), T(q), T(k), T(v), T(lens), H, KV, &g_err));
    cmp("attention_decode", "out", s, out, 1e-5, NULL);
    release();
}

static void t_swiglu(int64_t N, int64_t Fd) {
    char s[64];
    snprintf(s, sizeof s, "N=%lld F=%lld", (long long)N, (long long)Fd);
    pair *gu = rnd(P2(LAM_F32, N, 2 * Fd), 0, 2), *h = poison(P2(LAM_F32, N, Fd));
    BOTH("swiglu_fwd", s, be->swiglu_fwd(be, T(h), T(gu), &g_err));
    cmp("swiglu_fwd", "h", s, h, 1e-5, NULL);
    pair *dh = rnd(P2(LAM_F32, N, Fd), 0, 1), *dgu = poison(P2(LAM_F32, N, 2 * Fd));
    BOTH("swiglu_bwd", s, be->swiglu_bwd(be, T(dgu), T(dh), T(gu), &g_err));
    cmp("swiglu_bwd", "dgu", s, dgu, 1e-5, NULL);
    release();
}

static void t_cross_entropy(int64_t N, int64_t V, float offset, float gs, int dmode) {
    char s[96];
    snprintf(s, sizeof s, "N=%lld V=%lld offset=%g grad_scale=%g dlogits=%d", (long long)N,
             (long long)V, offset, gs, dmode);
    pair *lg = rnd(P2(LAM_F32, N, V), offset, 2), *tg = P1(LAM_I32, N), *mk = P1(LAM_F32, N);
    static const float mv[5] = {1, 1, 0, 0.5f, 2};
    for (int64_t i = 0; i < N; i++) {
        F(mk)[i] = mv[rand_int(0, 4)];
        I(tg)[i] = F(mk)[i] == 0.0f ? (int32_t)V + 3 : (int32_t)rand_int(0, V - 1);
    }
    up(tg);
    up(mk);
    pair *ls = poison(P1(LAM_F32, N));
    pair *dl = dmode == 2 ? lg : dmode == 1 ? poison(P2(LAM_F32, N, V)) : NULL;
    BOTH("cross_entropy", s,
         be->cross_entropy(be, T(ls), dl ? T(dl) : NULL, T(lg), T(tg), T(mk), gs, &g_err));
    cmp("cross_entropy", "losses", s, ls, 1e-5, NULL);
    if (dl) cmp("cross_entropy", "dlogits", s, dl, 1e-5, NULL);
    release();
}

static void t_sum_squares(int64_t n) {
    char s[32];
    snprintf(s, sizeof s, "n=%lld", (long long)n);
    pair *x = rnd(P1(LAM_F32, n), 0, 1), *o = poison(P1(LAM_F32, 1));
    BOTH("sum_squares", s, be->sum_squares(be, T(o), T(x), &g_err));
    /* each is the double sum rounded once: within 2 U of exact, so 4 U of each other */
    cmp("sum_squares", "out", s, o, 4 * U, NULL);
    release();
}

static void t_adamw(void) {
    const int64_t P = 4099;
    const lam_param_segment seg[4] = {{0, 1500, 1}, {1500, 0, 1}, {1600, 2000, 0}, {3700, 399, 1}};
    pair *p = rnd(P1(LAM_F32, P), 0, 1), *g = P1(LAM_F32, P);
    pair *m = rnd(P1(LAM_F32, P), 0, 0.1f), *v = P1(LAM_F32, P);
    randn(F(v), P, 0, 0.1f);
    for (int64_t i = 0; i < P; i++) F(v)[i] *= F(v)[i];
    up(v);
    static const int64_t steps[3] = {1, 2, 1000};
    for (int k = 0; k < 3; k++) {
        lam_adamw_hp hp = {.lr = 0.01f,
                           .beta1 = 0.9f,
                           .beta2 = 0.95f,
                           .eps = 1e-8f,
                           .weight_decay = 0.1f,
                           .step = steps[k],
                           .grad_scale = 0.5f};
        char s[32];
        snprintf(s, sizeof s, "P=%lld step=%lld", (long long)P, (long long)hp.step);
        rnd(g, 0, 1);
        /* both start from the CPU's state (so the comparison is of one step) */
        memcpy(F(p), get(p, 0), p->bytes);
        memcpy(F(m), get(m, 0), m->bytes);
        memcpy(F(v), get(v, 0), v->bytes);
        up(p), up(m), up(v);
        float *p0 = tmpf(P), *m0 = tmpf(P);
        memcpy(p0, F(p), (size_t)P * 4);
        memcpy(m0, F(m), (size_t)P * 4);
        BOTH("adamw", s, be->adamw(be, T(p), T(g), T(m), T(v), seg, 4, &hp, &g_err));
        /* per element, as tests/test_backend_ops.c bounds one implementation (m within 6 U of
         * b1|m| + (1-b1)|g|, v within 8 U, p within 24 U of |p| + lr/bc1 bound(m)/denom),
         * doubled for two */
        float *vc = get(v, 0);
        double bc1 = 1 - pow(hp.beta1, (double)hp.step), bc2 = 1 - pow(hp.beta2, (double)hp.step);
        double *em = tmp((size_t)P * 8), *ev = tmp((size_t)P * 8), *ep = tmp((size_t)P * 8);
        for (int64_t i = 0; i < P; i++) {
            double sm = hp.beta1 * fabs(m0[i]) + (1 - hp.beta1) * fabs(F(g)[i] * hp.grad_scale);
            double denom = sqrt(vc[i]) / sqrt(bc2) + hp.eps;
            em[i] = 12 * U * sm;
            ev[i] = 16 * U * fabs(vc[i]);
            ep[i] = 48 * U * (fabs(p0[i]) + hp.lr / bc1 * sm / denom);
        }
        cmp("adamw", "m", s, m, 0.0, em);
        cmp("adamw", "v", s, v, 0.0, ev);
        cmp("adamw", "params", s, p, 0.0, ep);
    }
    release();
}

static void run_ops(void) {
    t_fill_copy_cast();
    t_scale_add();
    t_embedding(3, 37, 83, 259);
    t_embedding(1, 5, 130, 7);
    t_rmsnorm(111, 83, 1.0f);
    t_rmsnorm(7, 300, 30.0f);
    static const int64_t mm[][4] = {
        {0, 37, 83, 29}, {3, 19, 5, 67}, {0, 1, 130, 71}, {2, 65, 33, 1}};
    static const float ab[][2] = {{1, 0}, {-0.7f, 0.5f}};
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 4; t++)
            for (int k = 0; k < 2; k++)
                t_matmul(mm[i][0], mm[i][1], mm[i][2], mm[i][3], t & 1, t >> 1, ab[k][0], ab[k][1]);
    t_rope(3, 37, 8, 10, 20, 0, 10000.0f, 0);
    t_rope(2, 29, 3, 16, 0, 77, 500000.0f, 1);
    t_attention(3, 37, 6, 2, 10, 0);
    t_attention(2, 45, 3, 1, 16, 1);
    t_attention(1, 70, 4, 4, 8, 1);
    t_decode(3, 0, 67, 6, 2, 10);
    t_decode(2, 0, 41, 4, 1, 72);
    t_decode(2, 13, 59, 6, 3, 10); /* a chunk of queries (prefill) */
    t_swiglu(111, 71);
    t_cross_entropy(37, 259, 0, 1.0f / 37, 1);
    t_cross_entropy(29, 1001, -20, 0.5f, 2);
    t_cross_entropy(13, 83, 3, 1, 0);
    t_sum_squares(37);
    t_sum_squares(100003);
    t_adamw();
}

/* ==== step: one training step of a small model on both backends ======================= */

static double rel_l2(const float *a, const float *b, int64_t n) {
    double d = 0, nb = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = (double)a[i] - b[i];
        d += x * x;
        nb += (double)b[i] * b[i];
    }
    return isnan(d) ? INFINITY : nb > 0 ? sqrt(d / nb) : sqrt(d);
}

typedef struct {
    float loss, norm;
    float *grads, *params, *logits;
    int64_t P, nlog;
} step_out;

static void model_step(lam_backend *be, const lam_config *cfg, int B, int Tn, const int32_t *tok,
                       const int32_t *tgt, const float *mask, const int32_t *seg, step_out *o) {
    lam_model m;
    if (lam_model_create(&m, cfg, be, &g_err) || lam_model_init_weights(&m, 77, &g_err) ||
        lam_model_plan(&m, B, Tn, &g_err))
        die("model");
    lam_batch bt = {.tokens = tok, .targets = tgt, .mask = mask, .seg = seg, .B = B, .T = Tn};
#ifdef LAM_HAVE_CUDA_SIM
    int64_t l0, t0, m0, l1, t1, m1;
    lam_cusim_counters(&l0, &t0, &m0);
#endif
    if (lam_model_zero_grad(&m, &g_err) || lam_model_forward_batch(&m, &bt, &o->loss, &g_err) ||
        lam_model_backward(&m, &g_err) || lam_model_grad_norm(&m, &o->norm, &g_err))
        die("step");
#ifdef LAM_HAVE_CUDA_SIM
    lam_cusim_counters(&l1, &t1, &m1);
    if (be == g_dev && g_sim) { /* no device allocation inside a training step */
        char det[96];
        snprintf(det, sizeof det, ": %lld cudaMalloc calls in forward+backward (%lld launches)",
                 (long long)(m1 - m0), (long long)(l1 - l0));
        record("step", "device allocations", "", m1 != m0 ? INFINITY : 0.0, det);
        printf("  step: %lld kernel launches, %lld simulated threads, %lld cudaMalloc calls\n",
               (long long)(l1 - l0), (long long)(t1 - t0), (long long)(m1 - m0));
    }
#endif
    o->P = m.n_params;
    o->grads = tmpf(o->P);
    o->params = tmpf(o->P);
    if (lam_model_read_flat(&m, 1, o->grads, &g_err)) die("read grads");
    lam_adamw_hp hp = {.lr = 1e-3f,
                       .beta1 = 0.9f,
                       .beta2 = 0.95f,
                       .eps = 1e-4f, /* the well-conditioned regime of model.torch_parity */
                       .weight_decay = 0.1f,
                       .step = 1,
                       .grad_scale = 1.0f};
    if (lam_model_adamw(&m, &hp, &g_err) || lam_model_read_flat(&m, 0, o->params, &g_err))
        die("adamw");
    /* logits of every row after the update */
    lam_batch inf = {.tokens = tok, .B = B, .T = Tn, .seg = seg};
    if (lam_model_forward_batch(&m, &inf, NULL, &g_err)) die("forward (logits)");
    o->nlog = (int64_t)B * Tn * cfg->vocab_size;
    o->logits = tmpf(o->nlog);
    if (lam_model_logits(&m, o->logits, &g_err)) die("logits");
    lam_model_destroy(&m);
}

static void run_step(void) {
    lam_config cfg;
    if (lam_config_preset("tiny", &cfg, &g_err)) die("config");
    cfg.vocab_size = 259, cfg.dim = 48, cfg.n_layers = 2, cfg.n_heads = 6, cfg.n_kv_heads = 2;
    cfg.ffn_dim = 70, cfg.max_seq_len = 40, cfg.tie_embeddings = 0;
    const int B = 3, Tn = 29, N = B * Tn;
    int32_t *tok = tmp(N * 4), *tgt = tmp(N * 4), *seg = tmp(N * 4);
    float *mask = tmpf(N);
    for (int i = 0; i < N; i++) {
        tok[i] = (int32_t)rand_int(0, cfg.vocab_size - 1);
        tgt[i] = (int32_t)rand_int(0, cfg.vocab_size - 1);
        mask[i] = i % 5 == 2 ? 0.0f : 1.0f;
    }
    for (int b = 0; b < B; b++) { /* row 1 packs three samples */
        for (int t = 0; t < Tn; t++) seg[b * Tn + t] = b == 1 ? (t < 9 ? 0 : t < 20 ? 9 : 20) : 0;
    }
    step_out c, d;
    model_step(g_cpu, &cfg, B, Tn, tok, tgt, mask, seg, &c);
    model_step(g_dev, &cfg, B, Tn, tok, tgt, mask, seg, &d);
    /* fp32: the relative L2 tolerance of model.torch_parity (1e-5). bf16: every matrix product
     * rounds both operands (rms relative error about u / sqrt(3) each, 2.3e-3 for a product);
     * a gradient here is the end of a chain of about ten products (forward and backward
     * through two layers and the head), so its relative error is a few times that: 3e-2;
     * the loss and logits, a shorter chain: 1e-2. */
    double tol_g = g_bf16 ? 3e-2 : 1e-5, tol_l = g_bf16 ? 1e-2 : 1e-5;
    char det[160];
    double e = fabs((double)d.loss - c.loss) / fabs((double)c.loss);
    snprintf(det, sizeof det, ": cpu %.9g, %s %.9g, rel %.3g", c.loss, g_dev->name, d.loss, e);
    record("step", "loss", "", e / tol_l, det);
    e = fabs((double)d.norm - c.norm) / c.norm;
    snprintf(det, sizeof det, ": cpu %.9g, %s %.9g, rel %.3g", c.norm, g_dev->name, d.norm, e);
    record("step", "grad norm", "", e / tol_g, det);
    lam_model m;
    lam_backend *cpu = g_cpu;
    if (lam_model_create(&m, &cfg, cpu, &g_err)) die("model");
    for (int i = 0; i < LAM_N_PARAM_TENSORS; i++) {
        lam_tensor *t = lam_params_at(&m.params, i);
        int64_t off = lam_model_param_offset(&m, i), n = lam_tensor_numel(t);
        if (i == 8 && cfg.tie_embeddings) continue;
        e = rel_l2(d.grads + off, c.grads + off, n);
        snprintf(det, sizeof det, ": relative L2 error %.3g", e);
        record("step", "gradient", lam_param_name(i), e / tol_g, det);
        /* the update: the change of the parameters, relative */
        float *dc = tmpf(n), *dd = tmpf(n);
        for (int64_t k = 0; k < n; k++) {
            dc[k] = c.params[off + k];
            dd[k] = d.params[off + k];
        }
        e = rel_l2(dd, dc, n);
        snprintf(det, sizeof det, ": relative L2 error %.3g", e);
        record("step", "params after AdamW", lam_param_name(i), e / tol_g, det);
    }
    lam_model_destroy(&m);
    e = rel_l2(d.logits, c.logits, c.nlog);
    snprintf(det, sizeof det, ": relative L2 error %.3g", e);
    record("step", "logits after the step", "", e / tol_l, det);
    uint64_t x = 1469598103934665603ULL; /* the device's results for the cross-schedule check */
    const float *arrs[3] = {d.grads, d.params, d.logits};
    int64_t lens[3] = {d.P, d.P, d.nlog};
    for (int a = 0; a < 3; a++)
        for (int64_t i = 0; i < lens[a] * 4; i++)
            x = (x ^ ((const unsigned char *)arrs[a])[i]) * 1099511628211ULL;
    g_hash[g_nhash++] = x;
    printf("  step: loss cpu %.7f %s %.7f; grad norm cpu %.6f %s %.6f\n", c.loss, g_dev->name,
           d.loss, c.norm, g_dev->name, d.norm);
    release();
}

/* ==== main ============================================================================== */

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[2], "ops") && strcmp(argv[2], "step"))) {
        fprintf(stderr, "usage: %s BACKEND ops|step\n", argv[0]);
        return 2;
    }
    const char *s = getenv("LAM_TEST_SEED");
    if (s && *s) g_seed = strtoull(s, NULL, 0);
    lam_backends_init();
    lam_status st = lam_backend_create(argv[1], 2, &g_dev, &g_err);
    if (st == LAM_ERR_UNSUPPORTED) {
        printf("skipped: %s\n", g_err.msg);
        return 77;
    }
    if (st != LAM_OK) die("device backend");
    if (lam_backend_create("cpu", 2, &g_cpu, &g_err)) die("cpu backend");
    g_bf16 = !strstr(argv[1], "fp32");
    g_sim = strstr(argv[1], "sim") != NULL;
    printf("%s %s against cpu (%s mode), seed %llu (LAM_TEST_SEED overrides)\n", argv[1], argv[2],
           g_bf16 ? "bf16" : "fp32", (unsigned long long)g_seed);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int runs = g_sim ? 3 : 1;
    static uint64_t first[4096];
    int nfirst = 0;
    for (int r = 0; r < runs; r++) {
#ifdef LAM_HAVE_CUDA_SIM
        if (g_sim) {
            lam_cusim_set_schedule((lam_cusim_schedule)r, g_seed);
            char d[48];
            printf(" schedule %s\n", lam_cusim_schedule_desc(d, sizeof d));
        }
#endif
        g_stream = 1, g_ictr = 0, g_nhash = 0;
        int fails = g_fail, checks = g_checks;
        if (!strcmp(argv[2], "ops"))
            run_ops();
        else
            run_step();
        printf("  %d checks, %d failed; worst err/tol %.3g: %s\n", g_checks - checks,
               g_fail - fails, g_worst, g_worst_where);
        if (r == 0) {
            memcpy(first, g_hash, sizeof g_hash);
            nfirst = g_nhash;
        } else {
            int diff = nfirst != g_nhash;
            for (int i = 0; i < g_nhash && !diff; i++) diff = first[i] != g_hash[i];
            if (diff) {
                fprintf(stderr, "FAIL the device's outputs differ between schedule orders\n");
                g_fail++;
            }
        }
    }
#ifdef LAM_HAVE_CUDA_SIM
    if (g_sim && lam_cusim_warnings()) {
        fprintf(stderr, "FAIL the simulator printed %lld warnings\n",
                (long long)lam_cusim_warnings());
        g_fail++;
    }
#endif
    lam_backend_destroy(g_dev);
    lam_backend_destroy(g_cpu);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("%s %s: %s (%d failure%s, %d checks, %.2f s)\n", argv[1], argv[2],
           g_fail ? "FAILED" : "passed", g_fail, g_fail == 1 ? "" : "s", g_checks, sec);
    return g_fail ? 1 : 0;
}
