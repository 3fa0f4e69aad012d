/* test_backend_ops.c - every op of a backend against an independent reference.
 *
 *   test_backend_ops MODE [BACKEND]     (BACKEND defaults to "cpu")
 *
 * Modes (each a ctest, tests/ops.cmake):
 *   forward          every op against the double-precision reference of tests/ref_ops.c on
 *                    random inputs and awkward shapes; outputs poisoned with NaN before each
 *                    call, accumulating outputs pre-filled with random values.
 *   backward_fd      every backward op against central finite differences of the double
 *                    reference forward (and the reference's analytical backwards too).
 *   threads_bitwise  every op on 1, 2 and 3 threads: outputs must be bitwise identical; on the
 *                    CPU also a cache-attention query alone against the same among others.
 *   shape_errors     bad shapes, dtypes and values: the right status, a message naming the op.
 *
 * Inputs come from the counter-based RNG with a printed seed (LAM_TEST_SEED overrides).
 * Exit 0 on pass, 1 on failure (the worst error and where are printed), 2 on bad usage.
 *
 * Tolerances: U = 2^-24 is the unit roundoff of fp32. Where a rigorous forward-error bound is
 * cheap to state (copies, elementwise arithmetic, sums of known terms, matmul, RoPE, AdamW)
 * the check is per element against that bound; elsewhere (softmax-based ops, SwiGLU, the
 * RMSNorm backward) it is the max abs error relative to max |ref| with the reason given. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lam/backend.h"
#include "lam/rng.h"
#include "lam/status.h"
#include "lam/tensor.h"
#include "ref_ops.h"

#define U (1.0 / 16777216.0) /* 2^-24, the unit roundoff of fp32 */
/* one correctly rounded fp32 operation: |err| < U |exact|; the slack covers the last bit of
 * a double reference that is not itself exact */
#define U_RN (U * (1.0 + 1.0 / 1048576.0))

static lam_backend *g_be;
static lam_error g_err;
static int g_fail;

/* ---- random inputs (Philox, one stream per fill) ---------------------------------- */

static uint64_t g_seed = 20240611;
static uint64_t g_stream = 1;
static uint64_t g_int_ctr;

static void rng_reset(void) {
    g_stream = 1;
    g_int_ctr = 0;
}

static void randn_f(float *x, int64_t n, float mean, float std) {
    lam_rng_fill_normal(x, n, g_seed, g_stream++, mean, std);
}

/* Uniform integer in [lo, hi]. */
static int64_t rand_int(int64_t lo, int64_t hi) {
    uint32_t r[4];
    lam_philox(g_seed, 0x5eed5eedULL, g_int_ctr++, r);
    uint64_t x = ((uint64_t)r[0] << 32) | r[1];
    return lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
}

static uint32_t rand_u32(void) {
    uint32_t r[4];
    lam_philox(g_seed, 0xb175b175ULL, g_int_ctr++, r);
    return r[0];
}

/* ---- buffers on the backend with a host mirror ------------------------------------- */

typedef struct {
    lam_tensor t; /* on the backend */
    void *h;      /* host mirror */
    size_t bytes;
} buf;

#define MAX_BUFS 512
#define MAX_TMP  4096
static buf g_bufs[MAX_BUFS];
static int g_nbufs;
static void *g_tmp[MAX_TMP];
static int g_ntmp;

static void die(const char *what) {
    fprintf(stderr, "fatal: %s: %s\n", what, g_err.msg);
    exit(1);
}

static void *track(void *p) {
    if (!p || g_ntmp == MAX_TMP) die("out of host memory or temp slots");
    g_tmp[g_ntmp++] = p;
    return p;
}

static double *tmpd(int64_t n) {
    return track(calloc((size_t)(n > 0 ? n : 1), sizeof(double)));
}
static float *tmpf(int64_t n) {
    return track(calloc((size_t)(n > 0 ? n : 1), sizeof(float)));
}

static buf *bnew(lam_dtype dt, int nd, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    if (g_nbufs == MAX_BUFS) die("too many buffers");
    buf *b = &g_bufs[g_nbufs++];
    int64_t s[4] = {d0, d1, d2, d3};
    memset(b, 0, sizeof *b);
    b->t.dtype = dt;
    b->t.device = g_be->device;
    b->t.ndim = nd;
    for (int i = 0; i < nd; i++) b->t.shape[i] = s[i];
    b->bytes = lam_tensor_bytes(&b->t);
    b->h = calloc(b->bytes ? b->bytes : 1, 1);
    if (!b->h || g_be->alloc(g_be, b->bytes, &b->t.data, &g_err) != LAM_OK) die("alloc");
    return b;
}
#define B1(dt, a)          bnew(dt, 1, a, 1, 1, 1)
#define B2(dt, a, b)       bnew(dt, 2, a, b, 1, 1)
#define B3(dt, a, b, c)    bnew(dt, 3, a, b, c, 1)
#define B4(dt, a, b, c, d) bnew(dt, 4, a, b, c, d)

static float *F(buf *b) {
    return b->h;
}
static int32_t *I(buf *b) {
    return b->h;
}
static int64_t NE(buf *b) {
    return lam_tensor_numel(&b->t);
}

static void up(buf *b) {
    if (g_be->upload(g_be, b->t.data, b->h, b->bytes, &g_err) != LAM_OK) die("upload");
}
static void down(buf *b) {
    if (g_be->synchronize(g_be, &g_err) != LAM_OK) die("synchronize");
    if (g_be->download(g_be, b->h, b->t.data, b->bytes, &g_err) != LAM_OK) die("download");
}

static void release_all(void) {
    for (int i = 0; i < g_nbufs; i++) {
        g_be->free(g_be, g_bufs[i].t.data);
        free(g_bufs[i].h);
    }
    g_nbufs = 0;
    for (int i = 0; i < g_ntmp; i++) free(g_tmp[i]);
    g_ntmp = 0;
}

/* Random normal contents, uploaded. */
static buf *rnd(buf *b, float mean, float std) {
    randn_f(F(b), NE(b), mean, std);
    up(b);
    return b;
}

/* Poison: NaN for floats (so an element the op forgets to write fails every check),
 * 0xdeadbeef for ints. */
static buf *poison(buf *b) {
    int64_t n = NE(b);
    if (b->t.dtype == LAM_F32)
        for (int64_t i = 0; i < n; i++) F(b)[i] = NAN;
    else if (b->t.dtype == LAM_BF16)
        for (int64_t i = 0; i < n; i++) ((uint16_t *)b->h)[i] = 0x7fc1;
    else
        for (int64_t i = 0; i < n; i++) I(b)[i] = (int32_t)0xdeadbeef;
    up(b);
    return b;
}

static double *to_d(const float *x, int64_t n) {
    double *d = tmpd(n);
    for (int64_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}
static double *abs_d(const double *x, int64_t n) {
    double *d = tmpd(n);
    for (int64_t i = 0; i < n; i++) d[i] = fabs(x[i]);
    return d;
}
static float *copy_f(const float *x, int64_t n) {
    float *d = tmpf(n);
    memcpy(d, x, (size_t)n * sizeof *d);
    return d;
}

/* Reports a failing call; returns 1 when s is LAM_OK. */
static int ok(lam_status s, const char *op, const char *shape) {
    if (s == LAM_OK) return 1;
    fprintf(stderr, "FAIL %s [%s]: returned %s: %s\n", op, shape, lam_status_name(s), g_err.msg);
    g_fail++;
    return 0;
}

/* ---- comparisons and the per-op record ---------------------------------------------- */

typedef struct {
    char op[32];
    int checks, fails;
    double worst; /* worst err/tol over the op's checks */
    char where[320];
} op_stat;

static op_stat g_stats[64];
static int g_nstats;

static op_stat *stat_for(const char *op) {
    for (int i = 0; i < g_nstats; i++)
        if (!strcmp(g_stats[i].op, op)) return &g_stats[i];
    if (g_nstats == 64) die("too many ops");
    op_stat *s = &g_stats[g_nstats++];
    memset(s, 0, sizeof *s);
    snprintf(s->op, sizeof s->op, "%s", op);
    return s;
}

/* got (gf as floats or gd as doubles) against ref, n elements. err_i = |got_i - ref_i| /
 * den_i with den_i = scale[i] (a per-element error bound) or, when scale is NULL, max |ref|
 * (max abs error relative to the largest reference value; 1 if ref is all zero). Passes when
 * every err_i <= tol; a non-finite got_i fails. */
static int check_any(const char *op, const char *what, const char *shape, const float *gf,
                     const double *gd, const double *ref, const double *scale, int64_t n,
                     double tol) {
    double mx = 0.0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(ref[i]) > mx) mx = fabs(ref[i]);
    if (mx == 0.0) mx = 1.0;
    double worst = -1.0;
    int64_t wi = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = gf ? (double)gf[i] : gd[i];
        double den = scale ? scale[i] : mx;
        double diff = fabs(g - ref[i]);
        double e = diff == 0.0 ? 0.0 : diff / (den > 0.0 ? den : DBL_MIN);
        if (!isfinite(g) || isnan(e)) e = INFINITY;
        if (e > worst) {
            worst = e;
            wi = i;
        }
    }
    if (n == 0) worst = 0.0;
    op_stat *s = stat_for(op);
    s->checks++;
    double ratio = tol > 0.0 ? worst / tol : (worst > 0.0 ? INFINITY : 0.0);
    char where[320];
    snprintf(where, sizeof where,
             "%s [%s]: err %.3g (tol %.3g) at element %lld: got %.9g, ref %.9g", what, shape, worst,
             tol, (long long)wi, n ? (gf ? (double)gf[wi] : gd[wi]) : 0.0, n ? ref[wi] : 0.0);
    if (ratio > s->worst || s->checks == 1) {
        s->worst = ratio;
        snprintf(s->where, sizeof s->where, "%s", where);
    }
    if (worst > tol) {
        s->fails++;
        g_fail++;
        fprintf(stderr, "FAIL %s %s\n", op, where);
        return 0;
    }
    return 1;
}
#define check(op, what, shape, got, ref, scale, n, tol)                                            \
    check_any(op, what, shape, got, NULL, ref, scale, n, tol)
#define check_d(op, what, shape, got, ref, scale, n, tol)                                          \
    check_any(op, what, shape, NULL, got, ref, scale, n, tol)

/* A condition that must hold exactly (bit patterns, untouched columns, zero triangles). */
static void expect(int cond, const char *op, const char *shape, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void expect(int cond, const char *op, const char *shape, const char *fmt, ...) {
    op_stat *s = stat_for(op);
    s->checks++;
    if (cond) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->fails++;
    s->worst = INFINITY;
    snprintf(s->where, sizeof s->where, "%s [%s]", msg, shape);
    fprintf(stderr, "FAIL %s [%s]: %s\n", op, shape, msg);
    g_fail++;
}

static void print_stats(const char *mode) {
    printf("%s: per-op results (worst err/tol over all checks; <= 1 passes)\n", mode);
    for (int i = 0; i < g_nstats; i++) {
        op_stat *s = &g_stats[i];
        printf("  %-4s %-17s %4d checks  worst %-9.3g %s\n", s->fails ? "FAIL" : "ok", s->op,
               s->checks, s->worst, s->where);
    }
}

/* ==== forward: every op against the double reference ================================ */

static void fwd_fill_copy_cast(void) {
    const char *shp = "fill/copy/cast";
    /* fill: exact, every element, each dtype */
    buf *f = rnd(B2(LAM_F32, 5, 67), 0, 1);
    ok(g_be->fill(g_be, &f->t, -1.75f, &g_err), "fill", "f32[5,67]");
    down(f);
    int good = 1;
    for (int64_t i = 0; i < NE(f); i++) good &= F(f)[i] == -1.75f;
    expect(good, "fill", "f32[5,67]", "f32 fill with -1.75 left another value");
    buf *fb = poison(B1(LAM_BF16, 130));
    ok(g_be->fill(g_be, &fb->t, 3.14159f, &g_err), "fill", "bf16[130]");
    down(fb);
    good = 1;
    for (int64_t i = 0; i < NE(fb); i++)
        good &= ((uint16_t *)fb->h)[i] == ref_f32_to_bf16(3.14159f);
    expect(good, "fill", "bf16[130]", "bf16 fill is not round-to-nearest-even of the value");
    buf *fi = poison(B3(LAM_I32, 1, 5, 37));
    ok(g_be->fill(g_be, &fi->t, -3.0f, &g_err), "fill", "i32[1,5,37]");
    down(fi);
    good = 1;
    for (int64_t i = 0; i < NE(fi); i++) good &= I(fi)[i] == -3;
    expect(good, "fill", "i32[1,5,37]", "i32 fill with -3 left another value");

    /* copy: bit-exact, same element count with another shape */
    lam_dtype dts[3] = {LAM_F32, LAM_BF16, LAM_I32};
    for (int k = 0; k < 3; k++) {
        buf *src = B3(dts[k], 3, 5, 7), *dst = poison(B1(dts[k], 105));
        for (size_t i = 0; i < src->bytes / 2; i++) ((uint16_t *)src->h)[i] = (uint16_t)rand_u32();
        up(src);
        ok(g_be->copy(g_be, &dst->t, &src->t, &g_err), "copy", lam_dtype_name(dts[k]));
        down(dst);
        expect(!memcmp(dst->h, src->h, src->bytes), "copy", lam_dtype_name(dts[k]),
               "copy is not bit-exact");
    }

    /* cast f32 -> bf16: specials, ties both ways, the overflow edge, denormals, random bits;
     * must be round-to-nearest-even exactly; NaN must stay NaN */
    static const uint32_t special[] = {
        0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
        0xffc00000, 0x7f800001, 0x7fbfffff, 0x7f7fffff, 0xff7fffff, 0x7f7f8000, 0x7f7e8000,
        0x00800000, 0x00000001, 0x007fffff, 0x00008000, 0x00018000, 0x3f808000, 0x3f818000,
        0x3f807fff, 0x3f808001, 0xbf808000, 0xbf818000, 0x33800000, 0x4b7fffff};
    int ns = (int)(sizeof special / sizeof special[0]);
    int64_t n = ns + 200000;
    buf *cf = B1(LAM_F32, n), *cb = poison(B1(LAM_BF16, n));
    uint32_t *bits = cf->h;
    for (int i = 0; i < ns; i++) bits[i] = special[i];
    for (int64_t i = ns; i < n; i++) {
        uint32_t r = rand_u32();
        /* a third are exact ties, a third near ties, a third anything */
        if (i % 3 == 0) r = (r & 0xffff0000u) | 0x8000u;
        if (i % 3 == 1) r = (r & 0xffff0000u) | (0x7ffeu + (r & 3u));
        bits[i] = r;
    }
    up(cf);
    ok(g_be->cast(g_be, &cb->t, &cf->t, &g_err), "cast", shp);
    down(cb);
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n; i++) {
        float x;
        memcpy(&x, &bits[i], 4);
        uint16_t got = ((uint16_t *)cb->h)[i], want = ref_f32_to_bf16(x);
        int nan_in = (bits[i] & 0x7fffffffu) > 0x7f800000u;
        int nan_out = (got & 0x7fffu) > 0x7f80u;
        if (nan_in ? !nan_out : got != want) {
            if (first < 0) first = i;
            bad++;
        }
    }
    expect(!bad, "cast", "f32->bf16", "%lld of %lld wrong, first f32 0x%08x -> 0x%04x, want 0x%04x",
           (long long)bad, (long long)n, first >= 0 ? bits[first] : 0,
           first >= 0 ? ((uint16_t *)cb->h)[first] : 0,
           first >= 0 ? ref_f32_to_bf16(((float *)cf->h)[first]) : 0);

    /* cast bf16 -> f32: all 65536 patterns, exact (NaN stays NaN) */
    buf *ab = B1(LAM_BF16, 65536), *af = poison(B1(LAM_F32, 65536));
    for (int i = 0; i < 65536; i++) ((uint16_t *)ab->h)[i] = (uint16_t)i;
    up(ab);
    ok(g_be->cast(g_be, &af->t, &ab->t, &g_err), "cast", "bf16->f32");
    down(af);
    bad = 0;
    first = -1;
    for (int i = 0; i < 65536; i++) {
        float want = ref_bf16_to_f32((uint16_t)i), got = F(af)[i];
        int same = isnan(want) ? isnan(got) : !memcmp(&want, &got, 4);
        if (!same) {
            if (first < 0) first = i;
            bad++;
        }
    }
    expect(!bad, "cast", "bf16->f32", "%lld of 65536 patterns wrong, first 0x%04x", (long long)bad,
           (unsigned)(first >= 0 ? first : 0));
    release_all();
}

/* scale and add: one correctly rounded fp32 operation per element, so |err| <= U |ref|. */
static void fwd_scale_add(void) {
    int64_t n = 1001;
    buf *x = rnd(B2(LAM_F32, 7, 143), 0, 1);
    float *x0 = copy_f(F(x), n);
    ok(g_be->scale(g_be, &x->t, -0.37f, &g_err), "scale", "f32[7,143]");
    down(x);
    double *r = tmpd(n);
    for (int64_t i = 0; i < n; i++) r[i] = (double)x0[i] * (double)-0.37f;
    check("scale", "x", "f32[7,143]", F(x), r, abs_d(r, n), n, U_RN);

    /* out separate, out aliasing a, out aliasing b, all three the same tensor */
    for (int alias = 0; alias < 4; alias++) {
        static const char *names[] = {"out separate", "out = a", "out = b", "out = a = b"};
        buf *a = rnd(B1(LAM_F32, n), 0, 1), *b = rnd(B3(LAM_F32, 1, 7, 143), 0, 2);
        float *a0 = copy_f(F(a), n), *b0 = copy_f(F(b), n);
        buf *o = alias == 1 || alias == 3 ? a : alias == 2 ? b : poison(B2(LAM_F32, 1001, 1));
        buf *bb = alias == 3 ? a : b;
        if (alias == 3) b0 = a0;
        ok(g_be->add(g_be, &o->t, &a->t, &bb->t, &g_err), "add", names[alias]);
        down(o);
        for (int64_t i = 0; i < n; i++) r[i] = (double)a0[i] + (double)b0[i];
        check("add", "out", names[alias], F(o), r, abs_d(r, n), n, U_RN);
    }
    release_all();
}

static void fwd_embedding(int64_t B, int64_t T, int64_t D, int64_t V) {
    char shp[96];
    snprintf(shp, sizeof shp, "B=%lld T=%lld D=%lld V=%lld", (long long)B, (long long)T,
             (long long)D, (long long)V);
    int64_t N = B * T;
    buf *tok = B2(LAM_I32, B, T);
    for (int64_t i = 0; i < N; i++) I(tok)[i] = (int32_t)rand_int(0, V - 1);
    I(tok)[0] = 0;
    I(tok)[N - 1] = (int32_t)(V - 1);
    up(tok);
    buf *tab = rnd(B2(LAM_F32, V, D), 0, 1);
    buf *out = poison(B3(LAM_F32, B, T, D));
    ok(g_be->embedding_fwd(g_be, &out->t, &tok->t, &tab->t, &g_err), "embedding_fwd", shp);
    down(out);
    double *ref = tmpd(N * D);
    ref_embedding_fwd(ref, I(tok), N, to_d(F(tab), V * D), D);
    check("embedding_fwd", "out", shp, F(out), ref, NULL, N * D, 0.0); /* a copy: exact */

    /* backward accumulates: dtable pre-filled. Each element is a sum of its prefill and k
     * rows of dout; any order of k fp32 additions errs by at most k U sum|terms|. */
    buf *dt = rnd(B2(LAM_F32, V, D), 0, 1), *dout = rnd(B3(LAM_F32, B, T, D), 0, 1);
    double *r = to_d(F(dt), V * D), *sc = abs_d(r, V * D);
    ok(g_be->embedding_bwd(g_be, &dt->t, &tok->t, &dout->t, &g_err), "embedding_bwd", shp);
    down(dt);
    double *g = to_d(F(dout), N * D);
    ref_embedding_bwd(r, I(tok), N, g, D);
    ref_embedding_bwd(sc, I(tok), N, abs_d(g, N * D), D);
    int64_t kmax = 0;
    int64_t *cnt = (int64_t *)tmpd(V);
    for (int64_t i = 0; i < N; i++)
        if (++cnt[I(tok)[i]] > kmax) kmax = cnt[I(tok)[i]];
    check("embedding_bwd", "dtable", shp, F(dt), r, sc, V * D, (double)(kmax + 1) * U);
    release_all();
}

static void fwd_rmsnorm(int64_t B, int64_t T, int64_t D, float xs, float eps) {
    char shp[96];
    snprintf(shp, sizeof shp, "B=%lld T=%lld D=%lld x*%g eps=%g", (long long)B, (long long)T,
             (long long)D, xs, eps);
    int64_t N = B * T;
    buf *x = rnd(B3(LAM_F32, B, T, D), 0, xs), *w = rnd(B1(LAM_F32, D), 1, 0.5f);
    buf *out = poison(B3(LAM_F32, B, T, D)), *rs = poison(B1(LAM_F32, N));
    ok(g_be->rmsnorm_fwd(g_be, &out->t, &rs->t, &x->t, &w->t, eps, &g_err), "rmsnorm_fwd", shp);
    down(out);
    down(rs);
    double *xd = to_d(F(x), N * D), *wd = to_d(F(w), D);
    double *ro = tmpd(N * D), *rr = tmpd(N);
    ref_rmsnorm_fwd(ro, rr, xd, wd, N, D, eps);
    /* sum of D squares (positive terms: relative error <= D U), /D, +eps, sqrt, 1/x: rstd
     * within (D/2 + 4) U of itself; out = x * rstd * w two roundings more */
    check("rmsnorm_fwd", "rstd", shp, F(rs), rr, abs_d(rr, N), N, (D / 2.0 + 4) * U);
    check("rmsnorm_fwd", "out", shp, F(out), ro, abs_d(ro, N * D), N * D, (D / 2.0 + 6) * U);

    /* backward accumulates into dx and dw: both pre-filled; it uses the backend's rstd.
     * Max-relative 1e-5: each dx element has a length-D dot product with cancellation
     * (typical fp32 error sqrt(D) U ~ 1e-6 of max |dx|), each dw element a length-N sum. */
    buf *dout = rnd(B3(LAM_F32, B, T, D), 0, 1);
    buf *dx = rnd(B3(LAM_F32, B, T, D), 0, 1), *dw = rnd(B1(LAM_F32, D), 0, 1);
    double *rdx = to_d(F(dx), N * D), *rdw = to_d(F(dw), D);
    ok(g_be->rmsnorm_bwd(g_be, &dx->t, &dw->t, &dout->t, &x->t, &w->t, &rs->t, &g_err),
       "rmsnorm_bwd", shp);
    down(dx);
    down(dw);
    ref_rmsnorm_bwd(rdx, rdw, to_d(F(dout), N * D), xd, wd, N, D, eps);
    check("rmsnorm_bwd", "dx (+= prefill)", shp, F(dx), rdx, NULL, N * D, 1e-5);
    check("rmsnorm_bwd", "dw (+= prefill)", shp, F(dw), rdw, NULL, D, 1e-5);
    release_all();
}

static void fwd_matmul(int64_t batch, int64_t M, int64_t N, int64_t K, int ta, int tb, float alpha,
                       float beta) {
    char shp[128];
    snprintf(shp, sizeof shp, "batch=%lld M=%lld N=%lld K=%lld ta=%d tb=%d alpha=%g beta=%g",
             (long long)batch, (long long)M, (long long)N, (long long)K, ta, tb, alpha, beta);
    int64_t nb = batch ? batch : 1;
    int nd = batch ? 3 : 2;
    int64_t a0 = ta ? K : M, a1 = ta ? M : K, b0 = tb ? N : K, b1 = tb ? K : N;
    buf *a = rnd(batch ? B3(LAM_F32, batch, a0, a1) : B2(LAM_F32, a0, a1), 0, 1);
    buf *b = rnd(batch ? B3(LAM_F32, batch, b0, b1) : B2(LAM_F32, b0, b1), 0, 1);
    buf *c = nd == 3 ? B3(LAM_F32, batch, M, N) : B2(LAM_F32, M, N);
    int64_t nc = nb * M * N;
    /* beta = 0: C must not be read (NaN poison); otherwise it is pre-filled */
    if (beta != 0.0f)
        rnd(c, 0, 1);
    else
        poison(c);
    double *rc = beta != 0.0f ? to_d(F(c), nc) : tmpd(nc);
    double *sc = abs_d(rc, nc);
    ok(g_be->matmul(g_be, &c->t, &a->t, &b->t, ta, tb, alpha, beta, &g_err), "matmul", shp);
    down(c);
    double *ad = to_d(F(a), nb * M * K), *bd = to_d(F(b), nb * K * N);
    ref_matmul(rc, ad, bd, nb, M, N, K, ta, tb, alpha, beta);
    /* bound: (K + 3) U (|alpha| sum_l |a_il b_lj| + |beta c_ij|) for any summation order */
    ref_matmul(sc, abs_d(ad, nb * M * K), abs_d(bd, nb * K * N), nb, M, N, K, ta, tb, fabs(alpha),
               fabs(beta));
    check("matmul", "c", shp, F(c), rc, sc, nc, (double)(K + 4) * U);
    release_all();
}

static void fwd_rope(int64_t B, int64_t T, int nh, int hd, int extra, int pos0, float theta,
                     int inverse) {
    char shp[128];
    snprintf(shp, sizeof shp, "B=%lld T=%lld heads=%d hd=%d C=%d pos0=%d theta=%g inverse=%d",
             (long long)B, (long long)T, nh, hd, nh * hd + extra, pos0, theta, inverse);
    int64_t C = (int64_t)nh * hd + extra, n = B * T * C;
    buf *x = rnd(B3(LAM_F32, B, T, C), 0, 1);
    float *x0 = copy_f(F(x), n);
    ok(g_be->rope(g_be, &x->t, nh, hd, pos0, theta, inverse, &g_err), "rope", shp);
    down(x);
    double *r = to_d(x0, n), *sc = tmpd(n);
    ref_rope(r, B, T, C, nh, hd, pos0, theta, inverse);
    /* An fp32 implementation computes the angle pos * theta^(-2i/hd) in fp32 (as HF does):
     * the rounded exponent costs ln(theta) U relative, powf, 1/x and the product 3 U more, so
     * the angle errs by <= pos (ln(theta) + 4) U; the rotated pair then errs by at most
     * (|x1| + |x2|) (angle error + 6 U). The error is folded into the scale, so tol is 1. */
    int64_t untouched_bad = 0;
    for (int64_t bt = 0; bt < B * T; bt++) {
        double pos = (double)(pos0 + bt % T);
        double bound = (pos * (log(theta) + 4.0) + 6.0) * U;
        for (int64_t col = 0; col < C; col++) {
            int64_t i = bt * C + col;
            if (col >= (int64_t)nh * hd) {
                untouched_bad += memcmp(&F(x)[i], &x0[i], 4) != 0;
                continue;
            }
            int64_t within = col % hd, pair = within < hd / 2 ? i + hd / 2 : i - hd / 2;
            sc[i] = (fabs(x0[i]) + fabs(x0[pair])) * bound;
        }
    }
    check("rope", "x (err in units of the fp32 angle bound)", shp, F(x), r, sc, n, 1.0);
    expect(!untouched_bad, "rope", shp, "%lld columns past n_heads*head_dim were modified",
           (long long)untouched_bad);
    release_all();
}

/* Softmax-based ops are checked max-relative at 1e-5: scores are length-hd dot products of
 * N(0,1) values scaled by 1/sqrt(hd) (|s| < ~6, fp32 error ~ sqrt(hd) U |s| ~ 1e-6), the
 * exponentials are good to a few U, and the probability-weighted sums over T <= 130 keys
 * add ~sqrt(T) U: a correct fp32 kernel stays well below 1e-5 of max |ref|. */
/* Segment starts (B,T) of packed sequences: each batch row cut at nseg-1 random distinct
 * points (some segments one token long); NULL when nseg is 0 (plain causal). */
static buf *make_seg(int64_t B, int64_t T, int nseg) {
    if (nseg <= 0) return NULL;
    buf *sg = B2(LAM_I32, B, T);
    for (int64_t b = 0; b < B; b++) {
        unsigned char *cut = (unsigned char *)tmpf(T);
        for (int k = 1; k < nseg && T > 1; k++) cut[rand_int(1, T - 1)] = 1;
        if (T > 2 && b == 0) cut[T - 1] = 1; /* a one-token segment at the end */
        int32_t start = 0;
        for (int64_t t = 0; t < T; t++) {
            if (cut[t]) start = (int32_t)t;
            I(sg)[b * T + t] = start;
        }
    }
    up(sg);
    return sg;
}

static void fwd_attention(int64_t B, int64_t T, int H, int KV, int hd, float xs, int nseg) {
    char shp[96];
    snprintf(shp, sizeof shp, "B=%lld T=%lld H=%d KV=%d hd=%d qkv*%g segs=%d", (long long)B,
             (long long)T, H, KV, hd, xs, nseg);
    /* scores scale with xs^2 and so does their fp32 error */
    double tol = 1e-5 * (xs > 1 ? xs * xs : 1.0);
    int64_t C3 = (int64_t)(H + 2 * KV) * hd, HD = (int64_t)H * hd;
    buf *qkv = rnd(B3(LAM_F32, B, T, C3), 0, xs);
    buf *out = poison(B3(LAM_F32, B, T, HD)), *pr = poison(B4(LAM_F32, B, H, T, T));
    buf *sg = make_seg(B, T, nseg);
    const lam_tensor *sgt = sg ? &sg->t : NULL;
    const int32_t *sgh = sg ? I(sg) : NULL;
    ok(g_be->attention_fwd(g_be, &out->t, &pr->t, &qkv->t, sgt, H, KV, &g_err), "attention_fwd",
       shp);
    down(out);
    down(pr);
    double *qd = to_d(F(qkv), B * T * C3);
    double *ro = tmpd(B * T * HD), *rp = tmpd(B * H * T * T);
    ref_attention_fwd(ro, rp, qd, sgh, B, T, H, KV, hd);
    check("attention_fwd", "out", shp, F(out), ro, NULL, B * T * HD, tol);
    check("attention_fwd", "probs", shp, F(pr), rp, NULL, B * H * T * T, tol);
    int64_t outside = 0;
    for (int64_t z = 0; z < B * H; z++)
        for (int64_t i = 0; i < T; i++)
            for (int64_t j = 0; j < T; j++) {
                int64_t lo = sgh ? sgh[(z / H) * T + i] : 0;
                outside += (j > i || j < lo) && F(pr)[(z * T + i) * T + j] != 0.0f;
            }
    expect(!outside, "attention_fwd", shp,
           "%lld probs outside their row's keys (above the diagonal, before the segment) are "
           "not 0",
           (long long)outside);

    /* backward against the analytical reference (validated against finite differences in
     * backward_fd); dqkv and the scratch are poisoned; probs are the backend's own */
    buf *dout = rnd(B3(LAM_F32, B, T, HD), 0, 1);
    buf *dqkv = poison(B3(LAM_F32, B, T, C3)), *scr = poison(B4(LAM_F32, B, H, T, T));
    ok(g_be->attention_bwd(g_be, &dqkv->t, &dout->t, &qkv->t, sgt, &pr->t, &scr->t, H, KV, &g_err),
       "attention_bwd", shp);
    down(dqkv);
    double *rd = tmpd(B * T * C3);
    ref_attention_bwd(rd, to_d(F(dout), B * T * HD), qd, sgh, B, T, H, KV, hd);
    /* q, k and v parts are checked separately (their scales differ) */
    static const char *part[3] = {"dq", "dk", "dv"};
    int64_t c0[3] = {0, HD, HD + (int64_t)KV * hd}, w[3] = {HD, (int64_t)KV * hd, (int64_t)KV * hd};
    for (int p = 0; p < 3; p++) {
        float *g = tmpf(B * T * w[p]);
        double *r = tmpd(B * T * w[p]);
        for (int64_t row = 0; row < B * T; row++)
            for (int64_t j = 0; j < w[p]; j++) {
                g[row * w[p] + j] = F(dqkv)[row * C3 + c0[p] + j];
                r[row * w[p] + j] = rd[row * C3 + c0[p] + j];
            }
        check("attention_bwd", part[p], shp, g, r, NULL, B * T * w[p], tol);
    }
    release_all();
}

/* Decode attention: Tq queries per sequence (0: the 2-D single-query form) against caches
 * whose positions past each sequence's length hold NaN (they must not be read). */
static void fwd_decode(int64_t B, int64_t Tq, int64_t S, int H, int KV, int hd, float xs) {
    char shp[96];
    snprintf(shp, sizeof shp, "B=%lld Tq=%lld S=%lld H=%d KV=%d hd=%d q,k*%g", (long long)B,
             (long long)Tq, (long long)S, H, KV, hd, xs);
    double tol = 1e-5 * (xs > 1 ? xs * xs : 1.0);
    int64_t KVD = (int64_t)KV * hd, HD = (int64_t)H * hd, T1 = Tq ? Tq : 1;
    buf *q = rnd(Tq ? B3(LAM_F32, B, Tq, HD) : B2(LAM_F32, B, HD), 0, xs);
    buf *k = rnd(B3(LAM_F32, B, S, KVD), 0, xs), *v = rnd(B3(LAM_F32, B, S, KVD), 0, 1);
    buf *lens = B1(LAM_I32, B);
    for (int64_t b = 0; b < B; b++) I(lens)[b] = (int32_t)rand_int(T1, S);
    I(lens)[0] = (int32_t)S;
    if (B > 1) I(lens)[B - 1] = (int32_t)T1;
    up(lens);
    for (int64_t b = 0; b < B; b++)
        for (int64_t j = I(lens)[b]; j < S; j++)
            for (int64_t e = 0; e < KVD; e++)
                F(k)[(b * S + j) * KVD + e] = F(v)[(b * S + j) * KVD + e] = NAN;
    up(k);
    up(v);
    buf *out = poison(Tq ? B3(LAM_F32, B, Tq, HD) : B2(LAM_F32, B, HD));
    ok(g_be->attention_decode(g_be, &out->t, &q->t, &k->t, &v->t, &lens->t, H, KV, &g_err),
       "attention_decode", shp);
    down(out);
    double *r = tmpd(B * T1 * HD);
    ref_attention_decode(r, to_d(F(q), B * T1 * HD), to_d(F(k), B * S * KVD),
                         to_d(F(v), B * S * KVD), I(lens), B, T1, S, H, KV, hd);
    check("attention_decode", "out", shp, F(out), r, NULL, B * T1 * HD, tol);
    release_all();
}

/* SwiGLU is elementwise: about ten fp32 roundings (exp to a few U), each relative to a term
 * no larger than the element, so max-relative 2e-6 (~30 U) holds with margin. Rows with
 * extreme gates (|g| up to 100, where exp saturates) are a separate case so that they do not
 * set the scale for the ordinary ones. */
static void fwd_swiglu(int64_t N, int64_t Fd, int extremes) {
    char shp[96];
    snprintf(shp, sizeof shp, "N=%lld F=%lld%s", (long long)N, (long long)Fd,
             extremes ? " extreme gates" : "");
    buf *gu = rnd(B2(LAM_F32, N, 2 * Fd), 0, 2);
    if (extremes) {
        static const float ex[] = {20, -20, 30, -30, 88, -88, 90, -90, 100, -100, 0, 1e-3f};
        for (int64_t i = 0; i < N; i++)
            for (int64_t j = 0; j < Fd; j++) F(gu)[i * 2 * Fd + j] = ex[(i * Fd + j) % 12];
        up(gu);
    }
    buf *h = poison(B2(LAM_F32, N, Fd));
    ok(g_be->swiglu_fwd(g_be, &h->t, &gu->t, &g_err), "swiglu_fwd", shp);
    down(h);
    double *gd = to_d(F(gu), N * 2 * Fd), *rh = tmpd(N * Fd);
    ref_swiglu_fwd(rh, gd, N, Fd);
    check("swiglu_fwd", "h", shp, F(h), rh, NULL, N * Fd, 2e-6);

    buf *dh = rnd(B2(LAM_F32, N, Fd), 0, 1), *dgu = poison(B2(LAM_F32, N, 2 * Fd));
    ok(g_be->swiglu_bwd(g_be, &dgu->t, &dh->t, &gu->t, &g_err), "swiglu_bwd", shp);
    down(dgu);
    double *rd = tmpd(N * 2 * Fd);
    ref_swiglu_bwd(rd, to_d(F(dh), N * Fd), gd, N, Fd);
    float *gg = tmpf(N * Fd), *gu_ = tmpf(N * Fd);
    double *rg = tmpd(N * Fd), *ru = tmpd(N * Fd);
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < Fd; j++) {
            gg[i * Fd + j] = F(dgu)[i * 2 * Fd + j];
            gu_[i * Fd + j] = F(dgu)[i * 2 * Fd + Fd + j];
            rg[i * Fd + j] = rd[i * 2 * Fd + j];
            ru[i * Fd + j] = rd[i * 2 * Fd + Fd + j];
        }
    check("swiglu_bwd", "dg", shp, gg, rg, NULL, N * Fd, 2e-6);
    check("swiglu_bwd", "du", shp, gu_, ru, NULL, N * Fd, 2e-6);
    release_all();
}

/* Cross-entropy: max-relative 1e-5. The log-sum-exp is a sum of V <= 1001 positive terms
 * (relative error typically sqrt(V) U ~ 2e-6, worst V U / vector width) plus the rounding of
 * the max (|offset| U); dlogits are softmax values times grad_scale * mask. */
static void fwd_cross_entropy(int64_t N, int64_t V, float lscale, float offset, float gs,
                              int dmode) {
    static const char *dm[3] = {"no dlogits", "dlogits", "dlogits aliasing logits"};
    char shp[128];
    snprintf(shp, sizeof shp, "N=%lld V=%lld logits*%g%+g grad_scale=%g %s", (long long)N,
             (long long)V, lscale, offset, gs, dm[dmode]);
    buf *lg = rnd(B2(LAM_F32, N, V), offset, lscale);
    double *ld = to_d(F(lg), N * V);
    buf *tg = B1(LAM_I32, N), *mk = B1(LAM_F32, N);
    static const float mvals[6] = {1, 1, 1, 0, 0.5f, 2};
    for (int64_t i = 0; i < N; i++) {
        F(mk)[i] = i == 0 ? 1.0f : mvals[rand_int(0, 5)];
        /* rows with mask 0 get targets outside [0,V): they must not be read */
        I(tg)[i] = F(mk)[i] == 0.0f ? (i % 2 ? -7 : (int32_t)V + 5) : (int32_t)rand_int(0, V - 1);
    }
    up(tg);
    up(mk);
    buf *ls = poison(B1(LAM_F32, N));
    buf *dl = dmode == 2 ? lg : dmode == 1 ? poison(B2(LAM_F32, N, V)) : NULL;
    ok(g_be->cross_entropy(g_be, &ls->t, dl ? &dl->t : NULL, &lg->t, &tg->t, &mk->t, gs, &g_err),
       "cross_entropy", shp);
    down(ls);
    double *rl = tmpd(N), *rd = tmpd(N * V);
    ref_cross_entropy(rl, rd, ld, I(tg), to_d(F(mk), N), N, V, gs);
    check("cross_entropy", "losses", shp, F(ls), rl, NULL, N, 1e-5);
    if (dl) {
        down(dl);
        check("cross_entropy", "dlogits", shp, F(dl), rd, NULL, N * V, 1e-5);
    }
    release_all();
}

/* Accumulated in double, then rounded once to fp32: within 2 U of the exact sum. */
static void fwd_sum_squares(int64_t n) {
    char shp[64];
    snprintf(shp, sizeof shp, "n=%lld", (long long)n);
    buf *x = rnd(B2(LAM_F32, 1, n), 0, 1), *o = poison(B1(LAM_F32, 1));
    ok(g_be->sum_squares(g_be, &o->t, &x->t, &g_err), "sum_squares", shp);
    down(o);
    double r = ref_sum_squares(to_d(F(x), n), n), s = fabs(r);
    check("sum_squares", "out", shp, F(o), &r, &s, 1, 2 * U);
    release_all();
}

/* AdamW: several steps on three segments (decay, no decay, decay), gradients with some
 * tiny runs (where eps matters); each step is checked from the backend's own previous
 * state. Bounds per element: m within 6 U of b1|m| + (1-b1)|g|; v within 8 U of v; p within
 * 24 U of |p| + lr/bc1 * (bound of m) / denom (the sqrt, divisions, eps and the final update
 * are some 20 roundings). */
static void fwd_adamw(void) {
    const int64_t P = 1031;
    const lam_param_segment seg[3] = {{0, 500, 1}, {500, 200, 0}, {700, 331, 1}};
    buf *p = rnd(B1(LAM_F32, P), 0, 1), *g = B1(LAM_F32, P);
    buf *m = B1(LAM_F32, P), *v = B1(LAM_F32, P);
    ok(g_be->fill(g_be, &m->t, 0.0f, &g_err), "fill", "adamw m");
    ok(g_be->fill(g_be, &v->t, 0.0f, &g_err), "fill", "adamw v");
    down(m);
    down(v);
    static const int64_t steps[4] = {1, 2, 3, 1000};
    for (int s = 0; s < 4; s++) {
        lam_adamw_hp hp = {.lr = 0.05f,
                           .beta1 = 0.9f,
                           .beta2 = 0.95f,
                           .eps = 1e-8f,
                           .weight_decay = 0.1f,
                           .step = steps[s],
                           .grad_scale = 0.5f};
        char shp[96];
        snprintf(shp, sizeof shp, "P=%lld step=%lld", (long long)P, (long long)hp.step);
        randn_f(F(g), P, 0, 1);
        for (int64_t i = 300; i < 400; i++) F(g)[i] *= 1e-6f; /* eps-dominated */
        for (int64_t i = 600; i < 650; i++) F(g)[i] *= 1e-6f;
        up(g);
        double *pd = to_d(F(p), P), *md = to_d(F(m), P), *vd = to_d(F(v), P);
        double *gd = to_d(F(g), P), *p_old = to_d(F(p), P), *m_old = to_d(F(m), P);
        ok(g_be->adamw(g_be, &p->t, &g->t, &m->t, &v->t, seg, 3, &hp, &g_err), "adamw", shp);
        down(p);
        down(m);
        down(v);
        ref_adamw_hp rh = {hp.lr,           hp.beta1,      hp.beta2, hp.eps,
                           hp.weight_decay, hp.grad_scale, hp.step};
        for (int k = 0; k < 3; k++) {
            int64_t o = seg[k].offset;
            ref_adamw(pd + o, md + o, vd + o, gd + o, seg[k].count, seg[k].decay, &rh);
        }
        double *sm = tmpd(P), *sp = tmpd(P);
        double bc1 = 1.0 - pow(rh.beta1, (double)rh.step),
               bc2 = 1.0 - pow(rh.beta2, (double)rh.step);
        for (int64_t i = 0; i < P; i++) {
            sm[i] = rh.beta1 * fabs(m_old[i]) + (1.0 - rh.beta1) * fabs(gd[i] * rh.grad_scale);
            double denom = sqrt(vd[i]) / sqrt(bc2) + rh.eps;
            sp[i] = fabs(p_old[i]) + rh.lr / bc1 * sm[i] / denom;
        }
        check("adamw", "m", shp, F(m), md, sm, P, 6 * U);
        check("adamw", "v", shp, F(v), vd, abs_d(vd, P), P, 8 * U);
        check("adamw", "params", shp, F(p), pd, sp, P, 24 * U);
    }
    release_all();
}

static void mode_forward(void) {
    fwd_fill_copy_cast();
    fwd_scale_add();
    static const int64_t emb[][4] = {
        {1, 1, 24, 7}, {2, 5, 40, 7}, {1, 67, 37, 1000}, {3, 130, 96, 50}};
    for (int i = 0; i < 4; i++) fwd_embedding(emb[i][0], emb[i][1], emb[i][2], emb[i][3]);
    static const int64_t rms[][3] = {
        {1, 1, 24}, {2, 5, 40}, {1, 67, 37}, {3, 130, 96}, {2, 5, 130}};
    static const float rmx[] = {1.0f, 0.01f, 30.0f, 1.0f, 3.0f};
    for (int i = 0; i < 5; i++)
        fwd_rmsnorm(rms[i][0], rms[i][1], rms[i][2], rmx[i], i % 2 ? 1e-6f : 1e-5f);
    static const int64_t mm[][4] = {{0, 1, 1, 1},     {0, 5, 7, 3},    {0, 24, 37, 40},
                                    {0, 67, 130, 5},  {3, 5, 24, 67},  {2, 37, 1, 130},
                                    {0, 130, 67, 96}, {4, 16, 16, 16}, {0, 1, 96, 130}};
    static const float ab[][2] = {{1, 0}, {0.7f, 0}, {1, 1}, {-1.3f, 0.5f}};
    for (int i = 0; i < 9; i++)
        for (int t = 0; t < 4; t++)
            for (int k = 0; k < 4; k++)
                fwd_matmul(mm[i][0], mm[i][1], mm[i][2], mm[i][3], t & 1, t >> 1, ab[k][0],
                           ab[k][1]);
    for (int inv = 0; inv < 2; inv++) {
        fwd_rope(1, 1, 1, 2, 0, 0, 10000.0f, inv);
        fwd_rope(2, 5, 3, 8, 8, 7, 10000.0f, inv);
        fwd_rope(1, 67, 4, 16, 32, 0, 500000.0f, inv);
        fwd_rope(3, 130, 6, 10, 20, 250, 10000.0f, inv);
        fwd_rope(2, 5, 2, 64, 0, 4000, 1e6f, inv);
    }
    static const int att[][5] = {{1, 1, 1, 1, 2},    {2, 5, 4, 2, 8},   {1, 67, 4, 4, 16},
                                 {2, 130, 6, 2, 10}, {1, 67, 3, 1, 24}, {1, 130, 2, 1, 64},
                                 {1, 64, 2, 2, 8},   {2, 65, 4, 1, 6},  {1, 128, 2, 1, 4}};
    for (int i = 0; i < 9; i++)
        fwd_attention(att[i][0], att[i][1], att[i][2], att[i][3], att[i][4], 1.0f, 0);
    fwd_attention(2, 67, 4, 2, 16, 3.0f, 0); /* peaked softmax: scores in the tens */
    /* packed sequences: segments inside and across the 64-row blocks */
    fwd_attention(2, 5, 4, 2, 8, 1.0f, 2);
    fwd_attention(2, 130, 6, 2, 10, 1.0f, 4);
    fwd_attention(3, 200, 4, 1, 12, 1.0f, 7);
    fwd_attention(1, 67, 3, 3, 16, 3.0f, 3);
    fwd_attention(2, 64, 2, 2, 8, 1.0f, 64); /* many one-token segments */
    static const int dec[][5] = {{1, 1, 1, 1, 2},    {3, 5, 4, 2, 8},    {2, 67, 4, 4, 16},
                                 {3, 130, 6, 2, 10}, {2, 130, 8, 1, 64}, {4, 37, 2, 2, 24},
                                 {2, 64, 4, 2, 8}};
    for (int i = 0; i < 7; i++)
        fwd_decode(dec[i][0], 0, dec[i][1], dec[i][2], dec[i][3], dec[i][4], 1.0f);
    fwd_decode(3, 0, 67, 4, 2, 16, 3.0f);
    /* chunks of queries (prefill against the cache), past the CPU kernel's 64-key chunks and
     * its blocks of 24 (query, head) rows (fewer for long heads: 12 at hd 256, 3 at 1024) */
    fwd_decode(1, 1, 5, 4, 2, 8, 1.0f);
    fwd_decode(2, 7, 67, 4, 2, 16, 1.0f);
    fwd_decode(3, 37, 300, 6, 2, 10, 1.0f);
    fwd_decode(1, 130, 130, 2, 1, 64, 3.0f);
    fwd_decode(2, 30, 90, 4, 4, 40, 1.0f);
    fwd_decode(2, 9, 70, 2, 1, 256, 1.0f);
    fwd_decode(1, 5, 66, 2, 2, 1024, 1.0f);
    static const int64_t sw[][2] = {{1, 1}, {5, 24}, {67, 37}, {130, 40}, {390, 96}};
    for (int i = 0; i < 5; i++) fwd_swiglu(sw[i][0], sw[i][1], 0);
    fwd_swiglu(5, 24, 1);
    fwd_cross_entropy(1, 7, 1, 0, 1, 1);
    fwd_cross_entropy(5, 40, 3, 0, 0.2f, 1);
    fwd_cross_entropy(67, 1000, 2, 50, 1.0f / 67, 2);
    fwd_cross_entropy(130, 1001, 1, -20, 1, 0);
    fwd_cross_entropy(130, 1001, 1, -20, 0.5f, 1);
    fwd_cross_entropy(3, 5, 10, 0, 1, 2);
    static const int64_t ss[] = {1, 37, 4096, 4097, 100003};
    for (int i = 0; i < 5; i++) fwd_sum_squares(ss[i]);
    fwd_adamw();
}

/* ==== backward_fd: backward ops against finite differences of the reference ========= */

/* Loss L = sum(r * f(inputs)) as a function of the inputs a context points at. */
typedef double (*loss_fn)(void *ctx);

static double dotd(const double *a, const double *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

#define FD_STEP  1e-6
#define FD_MAXPT 300 /* coordinates checked per input when it has more */

/* Chooses the coordinates of an n-element input to check: all, or FD_MAXPT random ones. */
static int64_t fd_pick(int64_t n, int64_t *idx) {
    if (n <= FD_MAXPT) {
        for (int64_t i = 0; i < n; i++) idx[i] = i;
        return n;
    }
    for (int64_t i = 0; i < FD_MAXPT; i++) idx[i] = rand_int(0, n - 1);
    return FD_MAXPT;
}

/* Central differences of f at x (which the context reads) over coordinates idx; the step
 * actually taken, (x+h) - (x-h) in double, is the denominator. In double with h = 1e-6 the
 * truncation error is ~h^2 |f'''| ~ 1e-12 and the rounding error ~1e-16 |L| / h ~ 1e-9. */
static void fd_grad(loss_fn f, void *ctx, double *x, const int64_t *idx, int64_t k, double *g) {
    for (int64_t j = 0; j < k; j++) {
        int64_t i = idx[j];
        double x0 = x[i], xp = x0 + FD_STEP, xm = x0 - FD_STEP;
        x[i] = xp;
        double lp = f(ctx);
        x[i] = xm;
        double lm = f(ctx);
        x[i] = x0;
        g[j] = (lp - lm) / (xp - xm);
    }
}

/* Backend fp32 gradient (and optionally the reference's analytical one) at idx against the
 * FD gradient. The backend: max-relative 1e-4 (fp32 gradients are good to ~1e-6..1e-5 of
 * their max, FD to ~1e-8, so 1e-4 leaves margin yet catches any wrong term). The analytical
 * double reference: 1e-6 (only FD error remains). */
static void fd_compare(const char *op, const char *what, const char *shp, loss_fn f, void *ctx,
                       double *x, int64_t n, const float *be_grad, const double *ref_grad) {
    int64_t *idx = (int64_t *)tmpd(n < FD_MAXPT ? n : FD_MAXPT);
    int64_t k = fd_pick(n, idx);
    double *fd = tmpd(k), *rg = tmpd(k);
    float *bg = tmpf(k);
    fd_grad(f, ctx, x, idx, k, fd);
    for (int64_t j = 0; j < k; j++) {
        bg[j] = be_grad[idx[j]];
        if (ref_grad) rg[j] = ref_grad[idx[j]];
    }
    char w[96];
    snprintf(w, sizeof w, "%s vs FD", what);
    check(op, w, shp, bg, fd, NULL, k, 1e-4);
    if (ref_grad) {
        snprintf(w, sizeof w, "%s reference analytical vs FD", what);
        check_d(op, w, shp, rg, fd, NULL, k, 1e-6);
    }
}

typedef struct {
    int64_t n, d, v, b, t, m, k, batch, c;
    int h, kv, hd, ta, tb, pos0, nh;
    double eps, theta, gs;
    const int32_t *tok;
    const double *mask;
    double *x, *y, *r, *out; /* inputs x, y; projection r; scratch out */
} fd_ctx;

static double loss_embedding(void *p) {
    fd_ctx *c = p;
    ref_embedding_fwd(c->out, c->tok, c->n, c->x, c->d);
    return dotd(c->r, c->out, c->n * c->d);
}

static void bwd_embedding(int64_t B, int64_t T, int64_t D, int64_t V) {
    char shp[96];
    snprintf(shp, sizeof shp, "B=%lld T=%lld D=%lld V=%lld", (long long)B, (long long)T,
             (long long)D, (long long)V);
    int64_t N = B * T;
    buf *tok = B2(LAM_I32, B, T);
    for (int64_t i = 0; i < N; i++) I(tok)[i] = (int32_t)rand_int(0, V - 1);
    up(tok);
    buf *tab = rnd(B2(LAM_F32, V, D), 0, 1), *r = rnd(B3(LAM_F32, B, T, D), 0, 1);
    buf *dt = B2(LAM_F32, V, D);
    ok(g_be->fill(g_be, &dt->t, 0.0f, &g_err), "fill", shp);
    ok(g_be->embedding_bwd(g_be, &dt->t, &tok->t, &r->t, &g_err), "embedding_bwd", shp);
    down(dt);
    fd_ctx c = {.n = N,
                .d = D,
                .tok = I(tok),
                .x = to_d(F(tab), V * D),
                .r = to_d(F(r), N * D),
                .out = tmpd(N * D)};
    double *rg = tmpd(V * D);
    ref_embedding_bwd(rg, I(tok), N, c.r, D);
    fd_compare("embedding_bwd", "dtable", shp, loss_embedding, &c, c.x, V * D, F(dt), rg);
    release_all();
}

static double loss_rmsnorm(void *p) {
    fd_ctx *c = p;
    ref_rmsnorm_fwd(c->out, NULL, c->x, c->y, c->n, c->d, c->eps);
    return dotd(c->r, c->out, c->n * c->d);
}

static void bwd_rmsnorm(int64_t B, int64_t T, int64_t D, float eps) {
    char shp[96];
    snprintf(shp, sizeof shp, "B=%lld T=%lld D=%lld eps=%g", (long long)B, (long long)T,
             (long long)D, eps);
    int64_t N = B * T;
    buf *x = rnd(B3(LAM_F32, B, T, D), 0, 1), *w = rnd(B1(LAM_F32, D), 1, 0.5f);
    buf *out = poison(B3(LAM_F32, B, T, D)), *rs = poison(B1(LAM_F32, N));
    buf *r = rnd(B3(LAM_F32, B, T, D), 0, 1);
    buf *dx = B3(LAM_F32, B, T, D), *dw = B1(LAM_F32, D);
    ok(g_be->rmsnorm_fwd(g_be, &out->t, &rs->t, &x->t, &w->t, eps, &g_err), "rmsnorm_fwd", shp);
    ok(g_be->fill(g_be, &dx->t, 0.0f, &g_err), "fill", shp);
    ok(g_be->fill(g_be, &dw->t, 0.0f, &g_err), "fill", shp);
    ok(g_be->rmsnorm_bwd(g_be, &dx->t, &dw->t, &r->t, &x->t, &w->t, &rs->t, &g_err), "rmsnorm_bwd",
       shp);
    down(dx);
    down(dw);
    fd_ctx c = {.n = N,
                .d = D,
                .eps = eps,
                .x = to_d(F(x), N * D),
                .y = to_d(F(w), D),
                .r = to_d(F(r), N * D),
                .out = tmpd(N * D)};
    double *rdx = tmpd(N * D), *rdw = tmpd(D);
    ref_rmsnorm_bwd(rdx, rdw, c.r, c.x, c.y, N, D, eps);
    fd_compare("rmsnorm_bwd", "dx", shp, loss_rmsnorm, &c, c.x, N * D, F(dx), rdx);
    fd_compare("rmsnorm_bwd", "dw", shp, loss_rmsnorm, &c, c.y, D, F(dw), rdw);
    release_all();
}

static double loss_matmul(void *p) {
    fd_ctx *c = p;
    ref_matmul(c->out, c->x, c->y, c->batch, c->m, c->n, c->k, c->ta, c->tb, 1.0, 0.0);
    return dotd(c->r, c->out, c->batch * c->m * c->n);
}

/* The matmul is its own backward: for C = op(A) op(B) and upstream R, with the stored
 * layouts, dA = trans_a ? op(B) R^T : R op(B)^T and dB = trans_b ? R^T op(A) : op(A)^T R,
 * each one more backend matmul (exercising the other transpose flags). */
static void bwd_matmul(int64_t batch, int64_t M, int64_t N, int64_t K, int ta, int tb) {
    char shp[96];
    snprintf(shp, sizeof shp, "batch=%lld M=%lld N=%lld K=%lld ta=%d tb=%d", (long long)batch,
             (long long)M, (long long)N, (long long)K, ta, tb);
    int64_t nb = batch ? batch : 1;
    int64_t a0 = ta ? K : M, a1 = ta ? M : K, b0 = tb ? N : K, b1 = tb ? K : N;
#define MK(d0, d1) (batch ? B3(LAM_F32, batch, d0, d1) : B2(LAM_F32, d0, d1))
    buf *a = rnd(MK(a0, a1), 0, 1), *b = rnd(MK(b0, b1), 0, 1), *r = rnd(MK(M, N), 0, 1);
    buf *da = poison(MK(a0, a1)), *db = poison(MK(b0, b1));
#undef MK
    if (ta)
        ok(g_be->matmul(g_be, &da->t, &b->t, &r->t, tb, 1, 1.0f, 0.0f, &g_err), "matmul", shp);
    else
        ok(g_be->matmul(g_be, &da->t, &r->t, &b->t, 0, !tb, 1.0f, 0.0f, &g_err), "matmul", shp);
    if (tb)
        ok(g_be->matmul(g_be, &db->t, &r->t, &a->t, 1, ta, 1.0f, 0.0f, &g_err), "matmul", shp);
    else
        ok(g_be->matmul(g_be, &db->t, &a->t, &r->t, !ta, 0, 1.0f, 0.0f, &g_err), "matmul", shp);
    down(da);
    down(db);
    fd_ctx c = {.batch = nb,
                .m = M,
                .n = N,
                .k = K,
                .ta = ta,
                .tb = tb,
                .x = to_d(F(a), nb * M * K),
                .y = to_d(F(b), nb * K * N),
                .r = to_d(F(r), nb * M * N),
                .out = tmpd(nb * M * N)};
    fd_compare("matmul", "dA", shp, loss_matmul, &c, c.x, nb * M * K, F(da), NULL);
    fd_compare("matmul", "dB", shp, loss_matmul, &c, c.y, nb * K * N, F(db), NULL);
    release_all();
}

static double loss_rope(void *p) {
    fd_ctx *c = p;
    int64_t n = c->b * c->t * c->c;
    memcpy(c->out, c->x, (size_t)n * sizeof *c->out);
    ref_rope(c->out, c->b, c->t, c->c, c->nh, c->hd, c->pos0, c->theta, 0);
    return dotd(c->r, c->out, n);
}

/* The backward of the rotation is the inverse rotation applied to the upstream gradient. */
static void bwd_rope(int64_t B, int64_t T, int nh, int hd, int extra, int pos0, float theta) {
    char shp[96];
    snprintf(shp, sizeof shp, "B=%lld T=%lld heads=%d hd=%d C=%d pos0=%d", (long long)B,
             (long long)T, nh, hd, nh * hd + extra, pos0);
    int64_t C = (int64_t)nh * hd + extra, n = B * T * C;
    buf *x = rnd(B3(LAM_F32, B, T, C), 0, 1), *g = rnd(B3(LAM_F32, B, T, C), 0, 1);
    fd_ctx c = {.b = B,
                .t = T,
                .c = C,
                .nh = nh,
                .hd = hd,
                .pos0 = pos0,
                .theta = theta,
                .x = to_d(F(x), n),
                .r = to_d(F(g), n),
                .out = tmpd(n)};
    ok(g_be->rope(g_be, &g->t, nh, hd, pos0, theta, 1, &g_err), "rope", shp);
    down(g);
    fd_compare("rope", "dx (inverse rotation)", shp, loss_rope, &c, c.x, n, F(g), NULL);
    release_all();
}

static double loss_attention(void *p) {
    fd_ctx *c = p;
    ref_attention_fwd(c->out, NULL, c->x, c->tok, c->b, c->t, c->h, c->kv, c->hd);
    return dotd(c->r, c->out, c->b * c->t * c->h * c->hd);
}

static void bwd_attention(int64_t B, int64_t T, int H, int KV, int hd, int nseg) {
    char shp[96];
    snprintf(shp, sizeof shp, "B=%lld T=%lld H=%d KV=%d hd=%d segs=%d", (long long)B, (long long)T,
             H, KV, hd, nseg);
    int64_t C3 = (int64_t)(H + 2 * KV) * hd, HD = (int64_t)H * hd;
    buf *qkv = rnd(B3(LAM_F32, B, T, C3), 0, 1), *r = rnd(B3(LAM_F32, B, T, HD), 0, 1);
    buf *out = poison(B3(LAM_F32, B, T, HD)), *pr = poison(B4(LAM_F32, B, H, T, T));
    buf *scr = poison(B4(LAM_F32, B, H, T, T)), *dq = poison(B3(LAM_F32, B, T, C3));
    buf *sg = make_seg(B, T, nseg);
    const lam_tensor *sgt = sg ? &sg->t : NULL;
    ok(g_be->attention_fwd(g_be, &out->t, &pr->t, &qkv->t, sgt, H, KV, &g_err), "attention_fwd",
       shp);
    ok(g_be->attention_bwd(g_be, &dq->t, &r->t, &qkv->t, sgt, &pr->t, &scr->t, H, KV, &g_err),
       "attention_bwd", shp);
    down(dq);
    fd_ctx c = {.tok = sg ? I(sg) : NULL,
                .b = B,
                .t = T,
                .h = H,
                .kv = KV,
                .hd = hd,
                .x = to_d(F(qkv), B * T * C3),
                .r = to_d(F(r), B * T * HD),
                .out = tmpd(B * T * HD)};
    double *rg = tmpd(B * T * C3);
    ref_attention_bwd(rg, c.r, c.x, c.tok, B, T, H, KV, hd);
    fd_compare("attention_bwd", "dqkv", shp, loss_attention, &c, c.x, B * T * C3, F(dq), rg);
    release_all();
}

static double loss_swiglu(void *p) {
    fd_ctx *c = p;
    ref_swiglu_fwd(c->out, c->x, c->n, c->d);
    return dotd(c->r, c->out, c->n * c->d);
}

static void bwd_swiglu(int64_t N, int64_t Fd) {
    char shp[64];
    snprintf(shp, sizeof shp, "N=%lld F=%lld", (long long)N, (long long)Fd);
    buf *gu = rnd(B2(LAM_F32, N, 2 * Fd), 0, 2), *r = rnd(B2(LAM_F32, N, Fd), 0, 1);
    buf *dgu = poison(B2(LAM_F32, N, 2 * Fd));
    ok(g_be->swiglu_bwd(g_be, &dgu->t, &r->t, &gu->t, &g_err), "swiglu_bwd", shp);
    down(dgu);
    fd_ctx c = {.n = N,
                .d = Fd,
                .x = to_d(F(gu), N * 2 * Fd),
                .r = to_d(F(r), N * Fd),
                .out = tmpd(N * Fd)};
    double *rg = tmpd(N * 2 * Fd);
    ref_swiglu_bwd(rg, c.r, c.x, N, Fd);
    fd_compare("swiglu_bwd", "dgu", shp, loss_swiglu, &c, c.x, N * 2 * Fd, F(dgu), rg);
    release_all();
}

/* dlogits is the gradient of sum_i grad_scale * mask_i * loss_i. */
static double loss_ce(void *p) {
    fd_ctx *c = p;
    ref_cross_entropy(c->out, NULL, c->x, c->tok, c->mask, c->n, c->v, c->gs);
    double s = 0.0;
    for (int64_t i = 0; i < c->n; i++) s += c->gs * c->mask[i] * c->out[i];
    return s;
}

static void bwd_cross_entropy(int64_t N, int64_t V, float gs) {
    char shp[64];
    snprintf(shp, sizeof shp, "N=%lld V=%lld grad_scale=%g", (long long)N, (long long)V, gs);
    buf *lg = rnd(B2(LAM_F32, N, V), 0, 2), *tg = B1(LAM_I32, N), *mk = B1(LAM_F32, N);
    static const float mvals[4] = {1, 0, 0.5f, 2};
    for (int64_t i = 0; i < N; i++) {
        F(mk)[i] = mvals[i % 4];
        I(tg)[i] = F(mk)[i] == 0.0f ? -1 : (int32_t)rand_int(0, V - 1);
    }
    up(tg);
    up(mk);
    buf *ls = poison(B1(LAM_F32, N)), *dl = poison(B2(LAM_F32, N, V));
    ok(g_be->cross_entropy(g_be, &ls->t, &dl->t, &lg->t, &tg->t, &mk->t, gs, &g_err),
       "cross_entropy", shp);
    down(dl);
    fd_ctx c = {.n = N,
                .v = V,
                .gs = gs,
                .tok = I(tg),
                .mask = to_d(F(mk), N),
                .x = to_d(F(lg), N * V),
                .out = tmpd(N)};
    double *rg = tmpd(N * V), *rl = tmpd(N);
    ref_cross_entropy(rl, rg, c.x, c.tok, c.mask, N, V, gs);
    fd_compare("cross_entropy", "dlogits", shp, loss_ce, &c, c.x, N * V, F(dl), rg);
    release_all();
}

static void mode_backward_fd(void) {
    bwd_embedding(2, 5, 6, 4);
    bwd_embedding(1, 67, 24, 7);
    bwd_rmsnorm(2, 3, 7, 1e-5f);
    bwd_rmsnorm(1, 5, 40, 1e-6f);
    for (int t = 0; t < 4; t++) {
        bwd_matmul(0, 3, 4, 5, t & 1, t >> 1);
        bwd_matmul(2, 4, 3, 6, t & 1, t >> 1);
        bwd_matmul(0, 1, 17, 9, t & 1, t >> 1);
    }
    bwd_rope(2, 3, 2, 6, 4, 5, 10000.0f);
    bwd_rope(1, 5, 3, 16, 0, 100, 500000.0f);
    bwd_attention(2, 5, 4, 2, 6, 0);
    bwd_attention(1, 67, 2, 1, 4, 0);
    bwd_attention(1, 9, 3, 3, 8, 0);
    bwd_attention(2, 9, 4, 2, 6, 3);
    bwd_attention(1, 70, 2, 1, 4, 4);
    bwd_swiglu(3, 5);
    bwd_swiglu(7, 24);
    bwd_cross_entropy(4, 7, 0.25f);
    bwd_cross_entropy(5, 40, 1.0f);
}

/* ==== threads_bitwise: the same inputs on 1, 2 and 3 threads ======================== */

typedef struct {
    char name[48];
    void *data;
    size_t bytes;
} rec;

#define MAX_REC 96
static rec g_rec[3][MAX_REC];
static int g_nrec[3];

static void record(int slot, const char *name, buf *b) {
    down(b);
    if (g_nrec[slot] == MAX_REC) die("too many records");
    rec *r = &g_rec[slot][g_nrec[slot]++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->bytes = b->bytes;
    r->data = malloc(b->bytes ? b->bytes : 1);
    if (!r->data) die("out of memory");
    memcpy(r->data, b->h, b->bytes);
}

/* Every op on shapes large enough that the work splits between threads: B=3, T=130,
 * D=200 (several 64-column chunks), V=1000, matmuls of 300x200x170, 10^6-element vectors. */
static void run_suite(int slot) {
    rng_reset();
    const char *S = "threads";
    const int64_t n = 1000003, B = 3, T = 130, N = B * T, D = 200, V = 1000, Fh = 300;
    const int H = 6, KV = 2, hd = 16;
    const int64_t C3 = (int64_t)(H + 2 * KV) * hd, HD = (int64_t)H * hd;
    lam_backend *be = g_be;

    buf *x = rnd(B1(LAM_F32, n), 0, 1), *y = rnd(B1(LAM_F32, n), 0, 1);
    buf *o = poison(B1(LAM_F32, n));
    ok(be->fill(be, &o->t, 0.25f, &g_err), "fill", S);
    record(slot, "fill", o);
    buf *xb = poison(B1(LAM_BF16, n)), *xf = poison(B1(LAM_F32, n));
    ok(be->cast(be, &xb->t, &x->t, &g_err), "cast", S);
    record(slot, "cast f32->bf16", xb);
    ok(be->cast(be, &xf->t, &xb->t, &g_err), "cast", S);
    record(slot, "cast bf16->f32", xf);
    ok(be->copy(be, &o->t, &y->t, &g_err), "copy", S);
    record(slot, "copy", o);
    ok(be->scale(be, &o->t, 1.7f, &g_err), "scale", S);
    record(slot, "scale", o);
    ok(be->add(be, &o->t, &x->t, &y->t, &g_err), "add", S);
    record(slot, "add", o);
    buf *ss = poison(B1(LAM_F32, 1));
    ok(be->sum_squares(be, &ss->t, &x->t, &g_err), "sum_squares", S);
    record(slot, "sum_squares", ss);

    buf *tok = B2(LAM_I32, B, T), *tok50 = B2(LAM_I32, B, T);
    for (int64_t i = 0; i < N; i++) {
        I(tok)[i] = (int32_t)rand_int(0, V - 1);
        I(tok50)[i] = (int32_t)rand_int(0, 49);
    }
    up(tok);
    up(tok50);
    buf *tab = rnd(B2(LAM_F32, V, D), 0, 1), *e = poison(B3(LAM_F32, B, T, D));
    ok(be->embedding_fwd(be, &e->t, &tok->t, &tab->t, &g_err), "embedding_fwd", S);
    record(slot, "embedding_fwd", e);
    buf *dtab = rnd(B2(LAM_F32, 50, D), 0, 1), *g = rnd(B3(LAM_F32, B, T, D), 0, 1);
    ok(be->embedding_bwd(be, &dtab->t, &tok50->t, &g->t, &g_err), "embedding_bwd", S);
    record(slot, "embedding_bwd", dtab);

    buf *w = rnd(B1(LAM_F32, D), 1, 0.5f), *rs = poison(B1(LAM_F32, N));
    buf *no = poison(B3(LAM_F32, B, T, D));
    ok(be->rmsnorm_fwd(be, &no->t, &rs->t, &e->t, &w->t, 1e-5f, &g_err), "rmsnorm_fwd", S);
    record(slot, "rmsnorm_fwd out", no);
    record(slot, "rmsnorm_fwd rstd", rs);
    buf *dx = rnd(B3(LAM_F32, B, T, D), 0, 1), *dw = rnd(B1(LAM_F32, D), 0, 1);
    ok(be->rmsnorm_bwd(be, &dx->t, &dw->t, &g->t, &e->t, &w->t, &rs->t, &g_err), "rmsnorm_bwd", S);
    record(slot, "rmsnorm_bwd dx", dx);
    record(slot, "rmsnorm_bwd dw", dw);

    for (int t = 0; t < 4; t++) {
        int ta = t & 1, tb = t >> 1;
        buf *a = rnd(ta ? B2(LAM_F32, 170, 300) : B2(LAM_F32, 300, 170), 0, 1);
        buf *b = rnd(tb ? B2(LAM_F32, 200, 170) : B2(LAM_F32, 170, 200), 0, 1);
        buf *c = rnd(B2(LAM_F32, 300, 200), 0, 1);
        ok(be->matmul(be, &c->t, &a->t, &b->t, ta, tb, 0.7f, t == 3 ? 0.5f : 0.0f, &g_err),
           "matmul", S);
        char nm[48];
        snprintf(nm, sizeof nm, "matmul 300x200x170 ta=%d tb=%d", ta, tb);
        record(slot, nm, c);
    }
    buf *ba = rnd(B3(LAM_F32, 3, 130, 96), 0, 1), *bb = rnd(B3(LAM_F32, 3, 64, 96), 0, 1);
    buf *bc = poison(B3(LAM_F32, 3, 130, 64));
    ok(be->matmul(be, &bc->t, &ba->t, &bb->t, 0, 1, 1.0f, 0.0f, &g_err), "matmul", S);
    record(slot, "matmul batched", bc);

    buf *qkv = rnd(B3(LAM_F32, B, T, C3), 0, 1);
    ok(be->rope(be, &qkv->t, H + KV, hd, 3, 10000.0f, 0, &g_err), "rope", S);
    record(slot, "rope", qkv);
    buf *ao = poison(B3(LAM_F32, B, T, HD)), *pr = poison(B4(LAM_F32, B, H, T, T));
    ok(be->attention_fwd(be, &ao->t, &pr->t, &qkv->t, NULL, H, KV, &g_err), "attention_fwd", S);
    record(slot, "attention_fwd out", ao);
    record(slot, "attention_fwd probs", pr);
    buf *ag = rnd(B3(LAM_F32, B, T, HD), 0, 1), *dq = poison(B3(LAM_F32, B, T, C3));
    buf *scr = poison(B4(LAM_F32, B, H, T, T));
    ok(be->attention_bwd(be, &dq->t, &ag->t, &qkv->t, NULL, &pr->t, &scr->t, H, KV, &g_err),
       "attention_bwd", S);
    record(slot, "attention_bwd dqkv", dq);
    /* packed sequences: a fixed segment layout (the random stream stays the same per run) */
    buf *sg = B2(LAM_I32, B, T);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) I(sg)[b * T + t] = (int32_t)(t - t % (37 + 11 * b));
    up(sg);
    buf *aos = poison(B3(LAM_F32, B, T, HD)), *prs = poison(B4(LAM_F32, B, H, T, T));
    ok(be->attention_fwd(be, &aos->t, &prs->t, &qkv->t, &sg->t, H, KV, &g_err), "attention_fwd", S);
    record(slot, "attention_fwd segments out", aos);
    buf *dqs = poison(B3(LAM_F32, B, T, C3));
    ok(be->attention_bwd(be, &dqs->t, &ag->t, &qkv->t, &sg->t, &prs->t, &scr->t, H, KV, &g_err),
       "attention_bwd", S);
    record(slot, "attention_bwd segments dqkv", dqs);
    ok(be->rope(be, &dq->t, H + KV, hd, 3, 10000.0f, 1, &g_err), "rope", S);
    record(slot, "rope inverse", dq);

    buf *q = rnd(B2(LAM_F32, B, HD), 0, 1), *kc = rnd(B3(LAM_F32, B, T, KV * hd), 0, 1);
    buf *vc = rnd(B3(LAM_F32, B, T, KV * hd), 0, 1), *lens = B1(LAM_I32, B);
    I(lens)[0] = (int32_t)T;
    I(lens)[1] = 77;
    I(lens)[2] = 1;
    up(lens);
    buf *dout = poison(B2(LAM_F32, B, HD));
    ok(be->attention_decode(be, &dout->t, &q->t, &kc->t, &vc->t, &lens->t, H, KV, &g_err),
       "attention_decode", S);
    record(slot, "attention_decode", dout);
    buf *qc = rnd(B3(LAM_F32, B, 40, HD), 0, 1), *doc = poison(B3(LAM_F32, B, 40, HD));
    I(lens)[2] = 40;
    up(lens);
    ok(be->attention_decode(be, &doc->t, &qc->t, &kc->t, &vc->t, &lens->t, H, KV, &g_err),
       "attention_decode", S);
    record(slot, "attention_decode 40 queries", doc);

    buf *gu = rnd(B2(LAM_F32, N, 2 * Fh), 0, 2), *h = poison(B2(LAM_F32, N, Fh));
    ok(be->swiglu_fwd(be, &h->t, &gu->t, &g_err), "swiglu_fwd", S);
    record(slot, "swiglu_fwd", h);
    buf *dh = rnd(B2(LAM_F32, N, Fh), 0, 1), *dgu = poison(B2(LAM_F32, N, 2 * Fh));
    ok(be->swiglu_bwd(be, &dgu->t, &dh->t, &gu->t, &g_err), "swiglu_bwd", S);
    record(slot, "swiglu_bwd", dgu);

    buf *lg = rnd(B2(LAM_F32, N, V), 0, 2), *tg = B1(LAM_I32, N), *mk = B1(LAM_F32, N);
    for (int64_t i = 0; i < N; i++) {
        F(mk)[i] = i % 5 == 0 ? 0.0f : 1.0f;
        I(tg)[i] = (int32_t)rand_int(0, V - 1);
    }
    up(tg);
    up(mk);
    buf *ls = poison(B1(LAM_F32, N)), *dl = poison(B2(LAM_F32, N, V));
    ok(be->cross_entropy(be, &ls->t, &dl->t, &lg->t, &tg->t, &mk->t, 1.0f / N, &g_err),
       "cross_entropy", S);
    record(slot, "cross_entropy losses", ls);
    record(slot, "cross_entropy dlogits", dl);
    ok(be->cross_entropy(be, &ls->t, NULL, &lg->t, &tg->t, &mk->t, 1.0f, &g_err), "cross_entropy",
       S);
    record(slot, "cross_entropy losses only", ls);

    buf *m = rnd(B1(LAM_F32, n), 0, 0.1f), *v = rnd(B1(LAM_F32, n), 0, 0.1f);
    for (int64_t i = 0; i < n; i++) F(v)[i] = F(v)[i] * F(v)[i];
    up(v);
    lam_param_segment seg[2] = {{0, 600000, 1}, {600000, n - 600000, 0}};
    lam_adamw_hp hp = {.lr = 1e-3f,
                       .beta1 = 0.9f,
                       .beta2 = 0.95f,
                       .eps = 1e-8f,
                       .weight_decay = 0.1f,
                       .step = 7,
                       .grad_scale = 0.3f};
    ok(be->adamw(be, &x->t, &y->t, &m->t, &v->t, seg, 2, &hp, &g_err), "adamw", S);
    record(slot, "adamw params", x);
    record(slot, "adamw m", m);
    record(slot, "adamw v", v);
    release_all();
}

/* attention_decode's rows alone: each query of a 37-query call against the cache, called again
 * alone with its own causal length, must give the same bits (a row's sums may not depend on the
 * rows it shares a task with, nor on where its keys fall in the chunks: hd 40 and lengths that
 * leave every kind of tail). Returns the number of rows that differ. */
static int decode_rows_alone(void) {
    const int64_t Tq = 37, S = 150, hd = 40;
    const int H = 4, KV = 2;
    const int64_t HD = H * hd, KVD = KV * hd;
    rng_reset();
    buf *q = rnd(B3(LAM_F32, 1, Tq, HD), 0, 2), *k = rnd(B3(LAM_F32, 1, S, KVD), 0, 2);
    buf *v = rnd(B3(LAM_F32, 1, S, KVD), 0, 1), *lens = B1(LAM_I32, 1);
    buf *out = poison(B3(LAM_F32, 1, Tq, HD));
    I(lens)[0] = (int32_t)S;
    up(lens);
    ok(g_be->attention_decode(g_be, &out->t, &q->t, &k->t, &v->t, &lens->t, H, KV, &g_err),
       "attention_decode", "rows alone");
    down(out);
    int bad = 0;
    for (int64_t t = 0; t < Tq; t++) {
        buf *q1 = B2(LAM_F32, 1, HD), *o1 = poison(B2(LAM_F32, 1, HD));
        memcpy(F(q1), F(q) + t * HD, (size_t)HD * 4);
        up(q1);
        I(lens)[0] = (int32_t)(S - Tq + t + 1);
        up(lens);
        ok(g_be->attention_decode(g_be, &o1->t, &q1->t, &k->t, &v->t, &lens->t, H, KV, &g_err),
           "attention_decode", "one row");
        down(o1);
        if (memcmp(F(o1), F(out) + t * HD, (size_t)HD * 4)) {
            fprintf(stderr,
                    "FAIL attention_decode: query %lld alone (%d keys) differs from the "
                    "same query among %lld\n",
                    (long long)t, I(lens)[0], (long long)Tq);
            bad++;
        }
    }
    if (!bad)
        printf("  ok   attention_decode: %lld queries alone = the same among %lld\n", (long long)Tq,
               (long long)Tq);
    release_all();
    return bad;
}

static int mode_threads_bitwise(const char *backend) {
    static const int threads[3] = {1, 2, 3};
    for (int s = 0; s < 3; s++) {
        /* one backend at a time: a library that keeps a global thread count (OpenMP, BLAS)
         * is then set for this one */
        if (lam_backend_create(backend, threads[s], &g_be, &g_err) != LAM_OK) die("backend");
        run_suite(s);
        lam_backend_destroy(g_be);
        g_be = NULL;
    }
    int bad = 0;
    printf("threads_bitwise: %d outputs compared, 1 thread against 2 and 3\n", g_nrec[0]);
    for (int i = 0; i < g_nrec[0]; i++) {
        int same = 1;
        for (int s = 1; s < 3; s++) {
            rec *a = &g_rec[0][i], *b = &g_rec[s][i];
            int64_t diff = 0, first = -1;
            if (g_nrec[s] != g_nrec[0] || a->bytes != b->bytes)
                die("runs recorded different outputs");
            for (size_t j = 0; j + 4 <= a->bytes; j += 4)
                if (memcmp((char *)a->data + j, (char *)b->data + j, 4)) {
                    if (first < 0) first = (int64_t)(j / 4);
                    diff++;
                }
            if (a->bytes % 4 && memcmp(a->data, b->data, a->bytes)) diff++;
            if (diff) {
                float fa = 0, fb = 0;
                if (first >= 0) {
                    memcpy(&fa, (char *)a->data + first * 4, 4);
                    memcpy(&fb, (char *)b->data + first * 4, 4);
                }
                fprintf(stderr,
                        "FAIL %s: %lld of %zu words differ between 1 and %d threads, first at "
                        "word %lld (%.9g vs %.9g)\n",
                        a->name, (long long)diff, a->bytes / 4, threads[s], (long long)first, fa,
                        fb);
                bad++;
                same = 0;
            }
        }
        if (same)
            printf("  ok   %-32s %9zu bytes identical on 1, 2, 3 threads\n", g_rec[0][i].name,
                   g_rec[0][i].bytes);
    }
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < g_nrec[s]; i++) free(g_rec[s][i].data);
    if (!strcmp(backend, "cpu")) { /* a property of the CPU kernel (docs/architecture.md) */
        if (lam_backend_create(backend, 2, &g_be, &g_err) != LAM_OK) die("backend");
        bad += decode_rows_alone();
        lam_backend_destroy(g_be);
        g_be = NULL;
    }
    return bad;
}

/* ==== shape_errors: bad arguments give the right status and name the op ============= */

#define ANY_ERR ((lam_status)-1) /* for cases the interface leaves open: any failing status */

static void *g_block; /* backing memory for every tensor of this mode, zeroed before each call */
static void *g_zeros;
#define BLOCK_BYTES (1 << 20)

static lam_tensor tz(lam_dtype dt, int nd, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    lam_tensor t;
    memset(&t, 0, sizeof t);
    int64_t s[4] = {d0, d1, d2, d3};
    t.data = g_block;
    t.dtype = dt;
    t.device = g_be->device;
    t.ndim = nd;
    for (int i = 0; i < nd; i++) t.shape[i] = s[i];
    if (lam_tensor_bytes(&t) > BLOCK_BYTES) die("shape_errors tensor too large");
    return t;
}
#define T1(dt, a)          tz(dt, 1, a, 1, 1, 1)
#define T2(dt, a, b)       tz(dt, 2, a, b, 1, 1)
#define T3(dt, a, b, c)    tz(dt, 3, a, b, c, 1)
#define T4(dt, a, b, c, d) tz(dt, 4, a, b, c, d)

static int g_ncases;

/* Runs one call (err cleared first) and checks its status and message. */
#define EXPECT_STATUS(op, want, what, call)                                                        \
    do {                                                                                           \
        memset(&g_err, 0, sizeof g_err);                                                           \
        if (g_be->upload(g_be, g_block, g_zeros, BLOCK_BYTES, &g_err) != LAM_OK) die("upload");    \
        lam_status got_ = (call);                                                                  \
        expect_status(op, want, got_, what);                                                       \
    } while (0)

static void expect_status(const char *op, lam_status want, lam_status got, const char *what) {
    g_ncases++;
    int good = want == ANY_ERR ? got != LAM_OK : got == want;
    if (got != LAM_OK) good &= strstr(g_err.msg, op) != NULL;
    char shp[160];
    snprintf(shp, sizeof shp, "%s", what);
    expect(good, op, shp, "want %s, got %s: \"%s\"",
           want == ANY_ERR ? "an error" : lam_status_name(want), lam_status_name(got), g_err.msg);
    if (good && got != LAM_OK) printf("  ok   %-16s %-44s -> %s\n", op, what, g_err.msg);
}

static void mode_shape_errors(void) {
    lam_backend *be = g_be;
    lam_error *e = &g_err;
    if (be->alloc(be, BLOCK_BYTES, &g_block, e) != LAM_OK) die("alloc");
    g_zeros = track(calloc(1, BLOCK_BYTES));
    const lam_status OK = LAM_OK, SH = LAM_ERR_SHAPE, INV = LAM_ERR_INVALID;

    /* small value buffers: bad tokens, lens, targets, a mask of ones */
    buf *tok_hi = B1(LAM_I32, 6), *tok_neg = B1(LAM_I32, 6), *lens1 = B1(LAM_I32, 2);
    buf *lens0 = B1(LAM_I32, 2), *lens_hi = B1(LAM_I32, 2), *tg_bad = B1(LAM_I32, 6);
    buf *ones = B1(LAM_F32, 6), *lens_s = B1(LAM_I32, 2);
    I(lens_s)[0] = 5, I(lens_s)[1] = 3; /* S = 5, Tq = 3 */
    up(lens_s);
    for (int i = 0; i < 6; i++) {
        I(tok_hi)[i] = i == 5 ? 10 : 1; /* V = 10 */
        I(tok_neg)[i] = i == 2 ? -1 : 1;
        I(tg_bad)[i] = i == 3 ? 7 : 0; /* V = 7 */
        F(ones)[i] = 1.0f;
    }
    I(lens1)[0] = I(lens1)[1] = 1;
    I(lens0)[0] = 1;
    I(lens0)[1] = 0;
    I(lens_hi)[0] = 6; /* S = 5 */
    I(lens_hi)[1] = 1;
    up(tok_hi);
    up(tok_neg);
    up(lens1);
    up(lens0);
    up(lens_hi);
    up(tg_bad);
    up(ones);

    lam_tensor f6 = T1(LAM_F32, 6), f7 = T1(LAM_F32, 7), i6 = T1(LAM_I32, 6);
    lam_tensor b6 = T1(LAM_BF16, 6), nodata = f6;
    nodata.data = NULL;

    EXPECT_STATUS("fill", OK, "valid", be->fill(be, &f6, 1.0f, e));
    EXPECT_STATUS("fill", SH, "tensor without data", be->fill(be, &nodata, 1.0f, e));
    EXPECT_STATUS("copy", OK, "valid", be->copy(be, &f6, &f6, e));
    EXPECT_STATUS("copy", SH, "dtype f32 <- i32", be->copy(be, &f6, &i6, e));
    EXPECT_STATUS("copy", SH, "7 <- 6 elements", be->copy(be, &f7, &f6, e));
    EXPECT_STATUS("cast", OK, "valid f32 -> bf16", be->cast(be, &b6, &f6, e));
    EXPECT_STATUS("cast", SH, "6 -> 7 elements", be->cast(be, &f7, &b6, e));
    EXPECT_STATUS("cast", SH, "i32 -> f32", be->cast(be, &f6, &i6, e));
    EXPECT_STATUS("scale", OK, "valid", be->scale(be, &f6, 2.0f, e));
    EXPECT_STATUS("scale", SH, "i32 tensor", be->scale(be, &i6, 2.0f, e));
    EXPECT_STATUS("add", OK, "valid", be->add(be, &f6, &f6, &f6, e));
    EXPECT_STATUS("add", SH, "b has 7 elements", be->add(be, &f6, &f6, &f7, e));
    EXPECT_STATUS("add", SH, "out is bf16", be->add(be, &b6, &f6, &f6, e));
    EXPECT_STATUS("add", SH, "a without data", be->add(be, &f6, &nodata, &f6, e));

    /* embedding: V=10, D=4, N=6 */
    lam_tensor eo = T2(LAM_F32, 6, 4), et = T2(LAM_F32, 10, 4);
    lam_tensor eo5 = T2(LAM_F32, 6, 5), eo7 = T2(LAM_F32, 7, 4), ef = T1(LAM_F32, 6);
    lam_tensor et1 = T1(LAM_F32, 40);
    EXPECT_STATUS("embedding_fwd", OK, "valid", be->embedding_fwd(be, &eo, &i6, &et, e));
    EXPECT_STATUS("embedding_fwd", SH, "table D=4, out D=5",
                  be->embedding_fwd(be, &eo5, &i6, &et, e));
    EXPECT_STATUS("embedding_fwd", SH, "7 out rows, 6 tokens",
                  be->embedding_fwd(be, &eo7, &i6, &et, e));
    EXPECT_STATUS("embedding_fwd", SH, "f32 tokens", be->embedding_fwd(be, &eo, &ef, &et, e));
    EXPECT_STATUS("embedding_fwd", SH, "1-D table", be->embedding_fwd(be, &eo, &i6, &et1, e));
    EXPECT_STATUS("embedding_fwd", INV, "token 10 with V=10",
                  be->embedding_fwd(be, &eo, &tok_hi->t, &et, e));
    EXPECT_STATUS("embedding_fwd", INV, "token -1",
                  be->embedding_fwd(be, &eo, &tok_neg->t, &et, e));
    EXPECT_STATUS("embedding_bwd", OK, "valid", be->embedding_bwd(be, &et, &i6, &eo, e));
    EXPECT_STATUS("embedding_bwd", SH, "dout D=5", be->embedding_bwd(be, &et, &i6, &eo5, e));
    EXPECT_STATUS("embedding_bwd", SH, "7 dout rows", be->embedding_bwd(be, &et, &i6, &eo7, e));
    EXPECT_STATUS("embedding_bwd", INV, "token 10 with V=10",
                  be->embedding_bwd(be, &et, &tok_hi->t, &eo, e));
    EXPECT_STATUS("embedding_bwd", INV, "token -1",
                  be->embedding_bwd(be, &et, &tok_neg->t, &eo, e));

    /* rmsnorm: N=6, D=4 */
    lam_tensor w4 = T1(LAM_F32, 4), w5 = T1(LAM_F32, 5), r6 = T1(LAM_F32, 6), r7 = T1(LAM_F32, 7);
    lam_tensor xi = T2(LAM_I32, 6, 4);
    EXPECT_STATUS("rmsnorm_fwd", OK, "valid", be->rmsnorm_fwd(be, &eo, &r6, &eo, &w4, 1e-5f, e));
    EXPECT_STATUS("rmsnorm_fwd", SH, "w has 5 elements",
                  be->rmsnorm_fwd(be, &eo, &r6, &eo, &w5, 1e-5f, e));
    EXPECT_STATUS("rmsnorm_fwd", SH, "rstd has 7 elements",
                  be->rmsnorm_fwd(be, &eo, &r7, &eo, &w4, 1e-5f, e));
    EXPECT_STATUS("rmsnorm_fwd", SH, "out (6,5)",
                  be->rmsnorm_fwd(be, &eo5, &r6, &eo, &w4, 1e-5f, e));
    EXPECT_STATUS("rmsnorm_fwd", SH, "out (7,4)",
                  be->rmsnorm_fwd(be, &eo7, &r6, &eo, &w4, 1e-5f, e));
    EXPECT_STATUS("rmsnorm_fwd", SH, "i32 x", be->rmsnorm_fwd(be, &eo, &r6, &xi, &w4, 1e-5f, e));
    EXPECT_STATUS("rmsnorm_bwd", OK, "valid", be->rmsnorm_bwd(be, &eo, &w4, &eo, &eo, &w4, &r6, e));
    EXPECT_STATUS("rmsnorm_bwd", SH, "dw has 5 elements",
                  be->rmsnorm_bwd(be, &eo, &w5, &eo, &eo, &w4, &r6, e));
    EXPECT_STATUS("rmsnorm_bwd", SH, "dx (7,4)",
                  be->rmsnorm_bwd(be, &eo7, &w4, &eo, &eo, &w4, &r6, e));
    EXPECT_STATUS("rmsnorm_bwd", SH, "dout (6,5)",
                  be->rmsnorm_bwd(be, &eo, &w4, &eo5, &eo, &w4, &r6, e));
    EXPECT_STATUS("rmsnorm_bwd", SH, "rstd has 7 elements",
                  be->rmsnorm_bwd(be, &eo, &w4, &eo, &eo, &w4, &r7, e));
    EXPECT_STATUS("rmsnorm_bwd", SH, "w has 5 elements",
                  be->rmsnorm_bwd(be, &eo, &w4, &eo, &eo, &w5, &r6, e));

    /* matmul: (3,4) @ (4,5) -> (3,5) */
    lam_tensor ma = T2(LAM_F32, 3, 4), mb = T2(LAM_F32, 4, 5), mc = T2(LAM_F32, 3, 5);
    lam_tensor mb6 = T2(LAM_F32, 6, 5), mc2 = T2(LAM_F32, 2, 5), mc6 = T2(LAM_F32, 3, 6);
    lam_tensor a3 = T3(LAM_F32, 2, 3, 4), b3 = T3(LAM_F32, 2, 4, 5), c3 = T3(LAM_F32, 2, 3, 5);
    lam_tensor b3x = T3(LAM_F32, 3, 4, 5), a4 = T4(LAM_F32, 1, 2, 3, 4), m1 = T1(LAM_F32, 12);
    lam_tensor mab = T2(LAM_BF16, 3, 4);
    EXPECT_STATUS("matmul", OK, "valid 2-D", be->matmul(be, &mc, &ma, &mb, 0, 0, 1, 0, e));
    EXPECT_STATUS("matmul", OK, "valid 3-D", be->matmul(be, &c3, &a3, &b3, 0, 0, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "K 4 vs 6", be->matmul(be, &mc, &ma, &mb6, 0, 0, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "C has 2 rows", be->matmul(be, &mc2, &ma, &mb, 0, 0, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "C has 6 columns", be->matmul(be, &mc6, &ma, &mb, 0, 0, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "trans_a makes op(A) 4x3",
                  be->matmul(be, &mc, &ma, &mb, 1, 0, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "trans_b makes op(B) 5x4",
                  be->matmul(be, &mc, &ma, &mb, 0, 1, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "batch 2 vs 3", be->matmul(be, &c3, &a3, &b3x, 0, 0, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "2-D A, 3-D B", be->matmul(be, &c3, &ma, &b3, 0, 0, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "4-D A", be->matmul(be, &c3, &a4, &b3, 0, 0, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "1-D A", be->matmul(be, &mc, &m1, &mb, 0, 0, 1, 0, e));
    EXPECT_STATUS("matmul", SH, "bf16 A", be->matmul(be, &mc, &mab, &mb, 0, 0, 1, 0, e));

    /* rope: x (2,3,16) */
    lam_tensor rx = T3(LAM_F32, 2, 3, 16), rx2 = T2(LAM_F32, 6, 16), rxi = T3(LAM_I32, 2, 3, 16);
    EXPECT_STATUS("rope", OK, "valid", be->rope(be, &rx, 2, 8, 0, 10000.0f, 0, e));
    EXPECT_STATUS("rope", SH, "2-D x", be->rope(be, &rx2, 2, 8, 0, 10000.0f, 0, e));
    EXPECT_STATUS("rope", SH, "odd head_dim", be->rope(be, &rx, 2, 7, 0, 10000.0f, 0, e));
    EXPECT_STATUS("rope", SH, "3 heads of 8 > C=16", be->rope(be, &rx, 3, 8, 0, 10000.0f, 0, e));
    EXPECT_STATUS("rope", SH, "0 heads", be->rope(be, &rx, 0, 8, 0, 10000.0f, 0, e));
    EXPECT_STATUS("rope", SH, "head_dim 0", be->rope(be, &rx, 2, 0, 0, 10000.0f, 0, e));
    EXPECT_STATUS("rope", SH, "i32 x", be->rope(be, &rxi, 2, 8, 0, 10000.0f, 0, e));
    EXPECT_STATUS("rope", ANY_ERR, "theta 0", be->rope(be, &rx, 2, 8, 0, 0.0f, 0, e));
    EXPECT_STATUS("rope", ANY_ERR, "pos0 -1", be->rope(be, &rx, 2, 8, -1, 10000.0f, 0, e));

    /* attention: B=2, T=3, H=4, KV=2, hd=2: qkv (2,3,16), out (2,3,8), probs (2,4,3,3) */
    lam_tensor qkv = T3(LAM_F32, 2, 3, 16), ao = T3(LAM_F32, 2, 3, 8), pr = T4(LAM_F32, 2, 4, 3, 3);
    lam_tensor qkv15 = T3(LAM_F32, 2, 3, 15), ao9 = T3(LAM_F32, 2, 3, 9),
               ao4 = T3(LAM_F32, 2, 4, 8);
    lam_tensor pr4 = T4(LAM_F32, 2, 4, 4, 4), pr3 = T3(LAM_F32, 8, 3, 3),
               qkvb = T3(LAM_BF16, 2, 3, 16);
    lam_tensor pr2 = T4(LAM_F32, 2, 2, 3, 3), dq17 = T3(LAM_F32, 2, 3, 17), scr = T1(LAM_F32, 71);
    EXPECT_STATUS("attention_fwd", OK, "valid",
                  be->attention_fwd(be, &ao, &pr, &qkv, NULL, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "KV=3 does not divide H=4",
                  be->attention_fwd(be, &ao, &pr, &qkv, NULL, 4, 3, e));
    EXPECT_STATUS("attention_fwd", SH, "qkv width 15",
                  be->attention_fwd(be, &ao, &pr, &qkv15, NULL, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "out width 9",
                  be->attention_fwd(be, &ao9, &pr, &qkv, NULL, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "out T=4",
                  be->attention_fwd(be, &ao4, &pr, &qkv, NULL, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "probs (2,4,4,4)",
                  be->attention_fwd(be, &ao, &pr4, &qkv, NULL, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "probs 3-D",
                  be->attention_fwd(be, &ao, &pr3, &qkv, NULL, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "probs H=2",
                  be->attention_fwd(be, &ao, &pr2, &qkv, NULL, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "bf16 qkv",
                  be->attention_fwd(be, &ao, &pr, &qkvb, NULL, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "0 heads",
                  be->attention_fwd(be, &ao, &pr, &qkv, NULL, 0, 2, e));
    EXPECT_STATUS("attention_bwd", OK, "valid",
                  be->attention_bwd(be, &qkv, &ao, &qkv, NULL, &pr, &pr, 4, 2, e));
    EXPECT_STATUS("attention_bwd", SH, "dqkv width 17",
                  be->attention_bwd(be, &dq17, &ao, &qkv, NULL, &pr, &pr, 4, 2, e));
    EXPECT_STATUS("attention_bwd", SH, "dout width 9",
                  be->attention_bwd(be, &qkv, &ao9, &qkv, NULL, &pr, &pr, 4, 2, e));
    EXPECT_STATUS("attention_bwd", SH, "scratch smaller than probs",
                  be->attention_bwd(be, &qkv, &ao, &qkv, NULL, &pr, &scr, 4, 2, e));
    EXPECT_STATUS("attention_bwd", SH, "probs (2,4,4,4)",
                  be->attention_bwd(be, &qkv, &ao, &qkv, NULL, &pr4, &pr4, 4, 2, e));
    EXPECT_STATUS("attention_bwd", SH, "KV=3 does not divide H=4",
                  be->attention_bwd(be, &qkv, &ao, &qkv, NULL, &pr, &pr, 4, 3, e));

    /* segments of packed sequences: seg (2,3) i32 with values in [0,t], nondecreasing */
    buf *sg_ok = B2(LAM_I32, 2, 3), *sg_hi = B2(LAM_I32, 2, 3), *sg_neg = B2(LAM_I32, 2, 3);
    buf *sg_dec = B2(LAM_I32, 2, 3);
    int32_t v_ok[6] = {0, 1, 1, 0, 0, 2}, v_hi[6] = {0, 1, 1, 0, 2, 2};
    int32_t v_neg[6] = {0, 0, 0, 0, -1, 0}, v_dec[6] = {0, 1, 0, 0, 0, 0};
    memcpy(I(sg_ok), v_ok, sizeof v_ok), memcpy(I(sg_hi), v_hi, sizeof v_hi);
    memcpy(I(sg_neg), v_neg, sizeof v_neg), memcpy(I(sg_dec), v_dec, sizeof v_dec);
    up(sg_ok), up(sg_hi), up(sg_neg), up(sg_dec);
    lam_tensor sg23f = T2(LAM_F32, 2, 3), sg32 = T2(LAM_I32, 3, 2), sg6 = T1(LAM_I32, 6);
    EXPECT_STATUS("attention_fwd", OK, "valid segments",
                  be->attention_fwd(be, &ao, &pr, &qkv, &sg_ok->t, 4, 2, e));
    EXPECT_STATUS("attention_fwd", INV, "seg[1,1]=2 past its row",
                  be->attention_fwd(be, &ao, &pr, &qkv, &sg_hi->t, 4, 2, e));
    EXPECT_STATUS("attention_fwd", INV, "seg -1",
                  be->attention_fwd(be, &ao, &pr, &qkv, &sg_neg->t, 4, 2, e));
    EXPECT_STATUS("attention_fwd", INV, "seg decreasing",
                  be->attention_fwd(be, &ao, &pr, &qkv, &sg_dec->t, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "f32 seg",
                  be->attention_fwd(be, &ao, &pr, &qkv, &sg23f, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "seg (3,2)",
                  be->attention_fwd(be, &ao, &pr, &qkv, &sg32, 4, 2, e));
    EXPECT_STATUS("attention_fwd", SH, "seg 1-D",
                  be->attention_fwd(be, &ao, &pr, &qkv, &sg6, 4, 2, e));
    EXPECT_STATUS("attention_bwd", OK, "valid segments",
                  be->attention_bwd(be, &qkv, &ao, &qkv, &sg_ok->t, &pr, &pr, 4, 2, e));
    EXPECT_STATUS("attention_bwd", INV, "seg decreasing",
                  be->attention_bwd(be, &qkv, &ao, &qkv, &sg_dec->t, &pr, &pr, 4, 2, e));
    EXPECT_STATUS("attention_bwd", SH, "seg (3,2)",
                  be->attention_bwd(be, &qkv, &ao, &qkv, &sg32, &pr, &pr, 4, 2, e));

    /* decode: B=2, H=4, KV=2, hd=2, S=5: q (2,8), caches (2,5,4), lens (2) */
    lam_tensor dqq = T2(LAM_F32, 2, 8), kc = T3(LAM_F32, 2, 5, 4), kc6 = T3(LAM_F32, 2, 6, 4);
    lam_tensor kc5 = T3(LAM_F32, 2, 5, 5), q9 = T2(LAM_F32, 2, 9), q3 = T2(LAM_F32, 3, 8);
    lam_tensor ln3 = T1(LAM_I32, 3), kc2 = T2(LAM_F32, 10, 4);
    EXPECT_STATUS("attention_decode", OK, "valid",
                  be->attention_decode(be, &dqq, &dqq, &kc, &kc, &lens1->t, 4, 2, e));
    lam_tensor q238 = T3(LAM_F32, 2, 3, 8), q248 = T3(LAM_F32, 2, 4, 8);
    EXPECT_STATUS("attention_decode", OK, "3 queries each, lens 5 and 3",
                  be->attention_decode(be, &q238, &q238, &kc, &kc, &lens_s->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", INV, "3 queries, lens 1 < Tq",
                  be->attention_decode(be, &q238, &q238, &kc, &kc, &lens1->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "out (2,4,8) for q (2,3,8)",
                  be->attention_decode(be, &q248, &q238, &kc, &kc, &lens_s->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "out 2-D for 3-D q",
                  be->attention_decode(be, &dqq, &q238, &kc, &kc, &lens_s->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "out (3,8)",
                  be->attention_decode(be, &q3, &dqq, &kc, &kc, &lens1->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "q width 9",
                  be->attention_decode(be, &dqq, &q9, &kc, &kc, &lens1->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "k_cache width 5",
                  be->attention_decode(be, &dqq, &dqq, &kc5, &kc, &lens1->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "v_cache S=6, k_cache S=5",
                  be->attention_decode(be, &dqq, &dqq, &kc, &kc6, &lens1->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "2-D k_cache",
                  be->attention_decode(be, &dqq, &dqq, &kc2, &kc, &lens1->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "lens has 3 elements",
                  be->attention_decode(be, &dqq, &dqq, &kc, &kc, &ln3, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "f32 lens",
                  be->attention_decode(be, &dqq, &dqq, &kc, &kc, &ones->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", SH, "KV=3 does not divide H=4",
                  be->attention_decode(be, &dqq, &dqq, &kc, &kc, &lens1->t, 4, 3, e));
    EXPECT_STATUS("attention_decode", ANY_ERR, "lens 0",
                  be->attention_decode(be, &dqq, &dqq, &kc, &kc, &lens0->t, 4, 2, e));
    EXPECT_STATUS("attention_decode", ANY_ERR, "lens 6 > S=5",
                  be->attention_decode(be, &dqq, &dqq, &kc, &kc, &lens_hi->t, 4, 2, e));

    /* swiglu: N=6, F=4 */
    lam_tensor sh = T2(LAM_F32, 6, 4), sgu = T2(LAM_F32, 6, 8), sgu9 = T2(LAM_F32, 6, 9);
    lam_tensor sgu7 = T2(LAM_F32, 7, 8), shi = T2(LAM_I32, 6, 4), sh7 = T2(LAM_F32, 7, 4);
    EXPECT_STATUS("swiglu_fwd", OK, "valid", be->swiglu_fwd(be, &sh, &sgu, e));
    EXPECT_STATUS("swiglu_fwd", SH, "gu width 9 for F=4", be->swiglu_fwd(be, &sh, &sgu9, e));
    EXPECT_STATUS("swiglu_fwd", SH, "gu has 7 rows", be->swiglu_fwd(be, &sh, &sgu7, e));
    EXPECT_STATUS("swiglu_fwd", SH, "i32 h", be->swiglu_fwd(be, &shi, &sgu, e));
    EXPECT_STATUS("swiglu_bwd", OK, "valid", be->swiglu_bwd(be, &sgu, &sh, &sgu, e));
    EXPECT_STATUS("swiglu_bwd", SH, "dgu width 9", be->swiglu_bwd(be, &sgu9, &sh, &sgu, e));
    EXPECT_STATUS("swiglu_bwd", SH, "dh has 7 rows", be->swiglu_bwd(be, &sgu, &sh7, &sgu, e));
    EXPECT_STATUS("swiglu_bwd", SH, "gu width 9", be->swiglu_bwd(be, &sgu, &sh, &sgu9, e));

    /* cross-entropy: N=6, V=7 */
    lam_tensor lg = T2(LAM_F32, 6, 7), lg8 = T2(LAM_F32, 6, 8), ls7 = T1(LAM_F32, 7);
    lam_tensor i7 = T1(LAM_I32, 7), mki = T1(LAM_I32, 6);
    EXPECT_STATUS("cross_entropy", OK, "valid, mask 0",
                  be->cross_entropy(be, &f6, &lg, &lg, &i6, &f6, 1.0f, e));
    EXPECT_STATUS("cross_entropy", OK, "valid, no dlogits",
                  be->cross_entropy(be, &f6, NULL, &lg, &i6, &ones->t, 1.0f, e));
    EXPECT_STATUS("cross_entropy", OK, "target 7 with V=7 on a mask-0 row",
                  be->cross_entropy(be, &f6, &lg, &lg, &tg_bad->t, &f6, 1.0f, e));
    EXPECT_STATUS("cross_entropy", INV, "target 7 with V=7 on a mask-1 row",
                  be->cross_entropy(be, &f6, &lg, &lg, &tg_bad->t, &ones->t, 1.0f, e));
    EXPECT_STATUS("cross_entropy", SH, "losses has 7 elements",
                  be->cross_entropy(be, &ls7, &lg, &lg, &i6, &f6, 1.0f, e));
    EXPECT_STATUS("cross_entropy", SH, "targets has 7 elements",
                  be->cross_entropy(be, &f6, &lg, &lg, &i7, &f6, 1.0f, e));
    EXPECT_STATUS("cross_entropy", SH, "mask has 7 elements",
                  be->cross_entropy(be, &f6, &lg, &lg, &i6, &f7, 1.0f, e));
    EXPECT_STATUS("cross_entropy", SH, "dlogits (6,8)",
                  be->cross_entropy(be, &f6, &lg8, &lg, &i6, &f6, 1.0f, e));
    EXPECT_STATUS("cross_entropy", SH, "f32 targets",
                  be->cross_entropy(be, &f6, &lg, &lg, &f6, &f6, 1.0f, e));
    EXPECT_STATUS("cross_entropy", SH, "i32 mask",
                  be->cross_entropy(be, &f6, &lg, &lg, &i6, &mki, 1.0f, e));

    lam_tensor one = T1(LAM_F32, 1), onei = T1(LAM_I32, 1);
    EXPECT_STATUS("sum_squares", OK, "valid", be->sum_squares(be, &one, &eo, e));
    EXPECT_STATUS("sum_squares", SH, "bf16 x", be->sum_squares(be, &one, &b6, e));
    EXPECT_STATUS("sum_squares", SH, "i32 out", be->sum_squares(be, &onei, &eo, e));

    lam_param_segment seg_ok[2] = {{0, 3, 1}, {3, 3, 0}}, seg_past[1] = {{4, 3, 1}};
    lam_param_segment seg_neg[1] = {{-1, 2, 1}};
    lam_adamw_hp hp = {.lr = 1e-3f,
                       .beta1 = 0.9f,
                       .beta2 = 0.95f,
                       .eps = 1e-8f,
                       .weight_decay = 0.1f,
                       .step = 1,
                       .grad_scale = 1.0f};
    lam_adamw_hp hp0 = hp, hpb = hp;
    hp0.step = 0;
    hpb.beta1 = 1.0f;
    EXPECT_STATUS("adamw", OK, "valid", be->adamw(be, &f6, &f6, &f6, &f6, seg_ok, 2, &hp, e));
    EXPECT_STATUS("adamw", SH, "grads has 7 elements",
                  be->adamw(be, &f6, &f7, &f6, &f6, seg_ok, 2, &hp, e));
    EXPECT_STATUS("adamw", SH, "m has 7 elements",
                  be->adamw(be, &f6, &f6, &f7, &f6, seg_ok, 2, &hp, e));
    EXPECT_STATUS("adamw", SH, "bf16 v", be->adamw(be, &f6, &f6, &f6, &b6, seg_ok, 2, &hp, e));
    EXPECT_STATUS("adamw", ANY_ERR, "segment [4,7) of 6",
                  be->adamw(be, &f6, &f6, &f6, &f6, seg_past, 1, &hp, e));
    EXPECT_STATUS("adamw", ANY_ERR, "segment offset -1",
                  be->adamw(be, &f6, &f6, &f6, &f6, seg_neg, 1, &hp, e));
    EXPECT_STATUS("adamw", ANY_ERR, "step 0",
                  be->adamw(be, &f6, &f6, &f6, &f6, seg_ok, 2, &hp0, e));
    EXPECT_STATUS("adamw", ANY_ERR, "beta1 1",
                  be->adamw(be, &f6, &f6, &f6, &f6, seg_ok, 2, &hpb, e));

    be->free(be, g_block);
    release_all();
}

/* ==== main =========================================================================== */

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    const char *backend = argc > 2 ? argv[2] : "cpu";
    if (strcmp(mode, "forward") && strcmp(mode, "backward_fd") && strcmp(mode, "threads_bitwise") &&
        strcmp(mode, "shape_errors")) {
        fprintf(stderr, "usage: %s forward|backward_fd|threads_bitwise|shape_errors [backend]\n",
                argv[0]);
        return 2;
    }
    const char *s = getenv("LAM_TEST_SEED");
    if (s && *s) g_seed = strtoull(s, NULL, 0);
    printf("%s on backend %s, seed %llu (LAM_TEST_SEED overrides)\n", mode, backend,
           (unsigned long long)g_seed);
    lam_backends_init();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int bad = 0;
    if (!strcmp(mode, "threads_bitwise")) {
        bad = mode_threads_bitwise(backend);
    } else {
        lam_status cs = lam_backend_create(backend, 2, &g_be, &g_err);
        if (cs == LAM_ERR_UNSUPPORTED) { /* a device backend without its device: skipped */
            printf("skipped: %s\n", g_err.msg);
            return 77;
        }
        if (cs != LAM_OK) {
            fprintf(stderr, "cannot create backend %s: %s\n", backend, g_err.msg);
            return 1;
        }
        if (!strcmp(mode, "forward")) mode_forward();
        if (!strcmp(mode, "backward_fd")) mode_backward_fd();
        if (!strcmp(mode, "shape_errors")) {
            mode_shape_errors();
            printf("shape_errors: %d calls checked\n", g_ncases);
        }
        print_stats(mode);
        lam_backend_destroy(g_be);
        bad = g_fail;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("%s: %s (%d failure%s, seed %llu, %.2f s)\n", mode, bad ? "FAILED" : "passed", bad,
           bad == 1 ? "" : "s", (unsigned long long)g_seed, sec);
    return bad ? 1 : 0;
}
