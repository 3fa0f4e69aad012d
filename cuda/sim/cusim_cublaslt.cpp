// cusim_cublaslt.cpp - the simulated device's cuBLASLt stand-in: the calls the backend makes
// (handles, descriptors initialized in caller storage, heuristics, matmul), each checked as
// cublasLt.h documents it, and D = alpha * op(A) op(B) + beta * C computed column-major in
// fp32 with fused multiply-adds in k order.
//
// Supported: every matrix CUDA_R_32F in column order; compute CUBLAS_COMPUTE_32F, or
// CUBLAS_COMPUTE_32F_FAST_16BF (each element of A and B rounded to bf16, to nearest even, by
// cuda_bf16.h's __float2bfloat16_rn; products exact in fp32, sums in fp32); scale type
// CUDA_R_32F with host alpha and beta; epilogue CUBLASLT_EPILOGUE_DEFAULT; strided batches.
// Anything else is CUBLAS_STATUS_NOT_SUPPORTED. Checked: descriptor sizes, shapes of op(A),
// op(B), C and D, leading dimensions >= rows, equal batch counts, every matrix's extent over
// all batches inside one device allocation, D's batches not overlapping each other,
// C == D only with identical layouts (D overlapping A, B or C is a warning, counted),
// pointer alignment against what the heuristic was told
// (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*, default 256 bytes), workspace inside an allocation.
// C is not read when beta is 0.
#include "cusim_names.h"

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cusim_state.h"

using namespace lam_cusim;

namespace {

constexpr uint64_t kDescMagic = 0x6c7444657363ULL, kLayoutMagic = 0x6c744c6179ULL,
                   kPrefMagic = 0x6c7450726566ULL, kAlgoMagic = 0x6c74416c676fULL;

struct Desc {
    uint64_t magic;
    int32_t compute, scale_type, trans_a, trans_b, pointer_mode;
    uint32_t epilogue;
};
struct Layout {
    uint64_t magic;
    int32_t type, order, batch;
    uint64_t rows, cols;
    int64_t ld, stride;
};
struct Pref {
    uint64_t magic;
    uint64_t max_ws;
    uint32_t align[4]; // A, B, C, D
};
struct Algo {
    uint64_t magic;
    uint32_t align[4];
    int32_t compute;
};
struct Handle {
    uint64_t magic;
};
static_assert(sizeof(Desc) <= sizeof(cublasLtMatmulDescOpaque_t), "descriptor storage");
static_assert(sizeof(Layout) <= sizeof(cublasLtMatrixLayoutOpaque_t), "layout storage");
static_assert(sizeof(Pref) <= sizeof(cublasLtMatmulPreferenceOpaque_t), "preference storage");
static_assert(sizeof(Algo) <= sizeof(cublasLtMatmulAlgo_t), "algo storage");

cublasStatus_t lt_bad(cublasStatus_t s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
cublasStatus_t lt_bad(cublasStatus_t s, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cusim: %s\n", msg);
    dev().fault = msg;
    return s;
}

template <class T> T *as(void *p, uint64_t magic) {
    T *t = static_cast<T *>(p);
    return t && t->magic == magic ? t : nullptr;
}

// The shapes of one product, checked for consistency.
struct Shape {
    uint64_t m, n, k;
    int32_t batch;
};

cublasStatus_t check_shapes(const char *call, const Desc *d, const Layout *a, const Layout *b,
                            const Layout *c, const Layout *dd, Shape *s) {
    if (!d || !a || !b || !c || !dd)
        return lt_bad(CUBLAS_STATUS_INVALID_VALUE, "%s: a descriptor is not initialized", call);
    if (d->compute != CUBLAS_COMPUTE_32F && d->compute != CUBLAS_COMPUTE_32F_FAST_16BF)
        return lt_bad(CUBLAS_STATUS_NOT_SUPPORTED, "%s: compute type %d is not simulated", call,
                      d->compute);
    if (d->scale_type != CUDA_R_32F || d->pointer_mode != CUBLASLT_POINTER_MODE_HOST ||
        d->epilogue != CUBLASLT_EPILOGUE_DEFAULT)
        return lt_bad(CUBLAS_STATUS_NOT_SUPPORTED,
                      "%s: only f32 host scalars and the default epilogue are simulated", call);
    const Layout *ls[4] = {a, b, c, dd};
    const char *nm[4] = {"A", "B", "C", "D"};
    for (int i = 0; i < 4; i++) {
        if (ls[i]->type != CUDA_R_32F || ls[i]->order != CUBLASLT_ORDER_COL)
            return lt_bad(CUBLAS_STATUS_NOT_SUPPORTED,
                          "%s: matrix %s is not f32 in column order (not simulated)", call, nm[i]);
        if (ls[i]->ld < (int64_t)ls[i]->rows || ls[i]->ld < 1 || !ls[i]->rows || !ls[i]->cols)
            return lt_bad(CUBLAS_STATUS_INVALID_VALUE,
                          "%s: matrix %s is %llux%llu with leading dimension %lld (< rows)", call,
                          nm[i], (unsigned long long)ls[i]->rows, (unsigned long long)ls[i]->cols,
                          (long long)ls[i]->ld);
    }
    uint64_t m = d->trans_a ? a->cols : a->rows, k = d->trans_a ? a->rows : a->cols;
    uint64_t k2 = d->trans_b ? b->cols : b->rows, n = d->trans_b ? b->rows : b->cols;
    if (k != k2 || c->rows != m || c->cols != n || dd->rows != m || dd->cols != n)
        return lt_bad(CUBLAS_STATUS_INVALID_VALUE,
                      "%s: op(A) is %llux%llu, op(B) %llux%llu, C %llux%llu, D %llux%llu", call,
                      (unsigned long long)m, (unsigned long long)k, (unsigned long long)k2,
                      (unsigned long long)n, (unsigned long long)c->rows,
                      (unsigned long long)c->cols, (unsigned long long)dd->rows,
                      (unsigned long long)dd->cols);
    if (a->batch != b->batch || a->batch != c->batch || a->batch != dd->batch || a->batch < 1)
        return lt_bad(CUBLAS_STATUS_INVALID_VALUE,
                      "%s: batch counts differ (A %d, B %d, C %d, D %d)", call, a->batch, b->batch,
                      c->batch, dd->batch);
    *s = Shape{m, n, k, a->batch};
    return CUBLAS_STATUS_SUCCESS;
}

// Element range [lo, hi) a matrix touches over all its batches, in bytes from its pointer.
void extent(const Layout *l, int64_t *lo, int64_t *hi) {
    int64_t span = ((int64_t)l->cols - 1) * l->ld + (int64_t)l->rows;
    int64_t last = (int64_t)(l->batch - 1) * l->stride;
    *lo = (last < 0 ? last : 0) * 4;
    *hi = ((last > 0 ? last : 0) + span) * 4;
}

cublasStatus_t check_range(const char *call, const char *nm, const void *p, const Layout *l) {
    int64_t lo, hi;
    extent(l, &lo, &hi);
    const char *base = static_cast<const char *>(p) + lo;
    if (!p || !find_alloc(base, (size_t)(hi - lo)))
        return lt_bad(CUBLAS_STATUS_INVALID_VALUE,
                      "%s: matrix %s at %p (%llux%llu, ld %lld, batch %d, stride %lld) spans "
                      "bytes [%lld,%lld), not inside one device allocation",
                      call, nm, p, (unsigned long long)l->rows, (unsigned long long)l->cols,
                      (long long)l->ld, l->batch, (long long)l->stride, (long long)lo,
                      (long long)hi);
    return CUBLAS_STATUS_SUCCESS;
}

bool overlaps(const void *p, const Layout *lp, const void *q, const Layout *lq) {
    int64_t a0, a1, b0, b1;
    extent(lp, &a0, &a1);
    extent(lq, &b0, &b1);
    const char *x = static_cast<const char *>(p), *y = static_cast<const char *>(q);
    return x + a0 < y + b1 && y + b0 < x + a1;
}

uint32_t align_of(const void *p) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    uint32_t al = 256;
    while (al > 1 && a % al) al /= 2;
    return al;
}

} // namespace

extern "C" {

cublasStatus_t cublasLtCreate(cublasLtHandle_t *handle) {
    if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
    Handle *h = static_cast<Handle *>(malloc(sizeof(Handle)));
    if (!h) return CUBLAS_STATUS_ALLOC_FAILED;
    h->magic = kDescMagic ^ kLayoutMagic;
    *handle = reinterpret_cast<cublasLtHandle_t>(h);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
    Handle *h = reinterpret_cast<Handle *>(handle);
    if (!h || h->magic != (kDescMagic ^ kLayoutMagic)) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->magic = 0;
    free(h);
    return CUBLAS_STATUS_SUCCESS;
}

const char *cublasLtGetStatusName(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS:
        return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
        return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
        return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
        return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_NOT_SUPPORTED:
        return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_EXECUTION_FAILED:
        return "CUBLAS_STATUS_EXECUTION_FAILED";
    default:
        return "CUBLAS_STATUS_UNKNOWN";
    }
}

const char *cublasLtGetStatusString(cublasStatus_t s) {
    if (s == CUBLAS_STATUS_SUCCESS) return "success";
    const char *f = dev().fault.c_str(); // the stand-in's own account of what is wrong
    return *f ? f : "error";
}

cublasStatus_t cublasLtMatmulDescInit_internal(cublasLtMatmulDesc_t desc, size_t size,
                                               cublasComputeType_t computeType,
                                               cudaDataType_t scaleType) {
    if (!desc || size != sizeof(cublasLtMatmulDescOpaque_t)) return CUBLAS_STATUS_INVALID_VALUE;
    Desc *d = reinterpret_cast<Desc *>(desc);
    *d = Desc{kDescMagic,
              computeType,
              scaleType,
              0,
              0,
              CUBLASLT_POINTER_MODE_HOST,
              CUBLASLT_EPILOGUE_DEFAULT};
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc,
                                              cublasLtMatmulDescAttributes_t attr, const void *buf,
                                              size_t size) {
    Desc *d = as<Desc>(desc, kDescMagic);
    if (!d || !buf) return CUBLAS_STATUS_INVALID_VALUE;
    int32_t v32;
    switch (attr) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
    case CUBLASLT_MATMUL_DESC_TRANSB:
    case CUBLASLT_MATMUL_DESC_POINTER_MODE:
    case CUBLASLT_MATMUL_DESC_EPILOGUE:
        if (size != 4)
            return lt_bad(CUBLAS_STATUS_INVALID_VALUE, "attribute %d: size %zu", attr, size);
        memcpy(&v32, buf, 4);
        if (attr == CUBLASLT_MATMUL_DESC_TRANSA) d->trans_a = v32 == CUBLAS_OP_T;
        if (attr == CUBLASLT_MATMUL_DESC_TRANSB) d->trans_b = v32 == CUBLAS_OP_T;
        if ((attr == CUBLASLT_MATMUL_DESC_TRANSA || attr == CUBLASLT_MATMUL_DESC_TRANSB) &&
            v32 != CUBLAS_OP_N && v32 != CUBLAS_OP_T)
            return lt_bad(CUBLAS_STATUS_NOT_SUPPORTED, "conjugate transposes are not simulated");
        if (attr == CUBLASLT_MATMUL_DESC_POINTER_MODE) d->pointer_mode = v32;
        if (attr == CUBLASLT_MATMUL_DESC_EPILOGUE) d->epilogue = (uint32_t)v32;
        return CUBLAS_STATUS_SUCCESS;
    default:
        return lt_bad(CUBLAS_STATUS_NOT_SUPPORTED, "matmul attribute %d is not simulated", attr);
    }
}

cublasStatus_t cublasLtMatrixLayoutInit_internal(cublasLtMatrixLayout_t layout, size_t size,
                                                 cudaDataType type, uint64_t rows, uint64_t cols,
                                                 int64_t ld) {
    if (!layout || size != sizeof(cublasLtMatrixLayoutOpaque_t)) return CUBLAS_STATUS_INVALID_VALUE;
    Layout *l = reinterpret_cast<Layout *>(layout);
    *l = Layout{kLayoutMagic, type, CUBLASLT_ORDER_COL, 1, rows, cols, ld, 0};
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t layout,
                                                cublasLtMatrixLayoutAttribute_t attr,
                                                const void *buf, size_t size) {
    Layout *l = as<Layout>(layout, kLayoutMagic);
    if (!l || !buf) return CUBLAS_STATUS_INVALID_VALUE;
    if (attr == CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT && size == 4) {
        memcpy(&l->batch, buf, 4);
        return CUBLAS_STATUS_SUCCESS;
    }
    if (attr == CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET && size == 8) {
        memcpy(&l->stride, buf, 8);
        return CUBLAS_STATUS_SUCCESS;
    }
    if (attr == CUBLASLT_MATRIX_LAYOUT_ORDER && size == 4) {
        memcpy(&l->order, buf, 4);
        return CUBLAS_STATUS_SUCCESS;
    }
    return lt_bad(CUBLAS_STATUS_NOT_SUPPORTED, "layout attribute %d (size %zu) is not simulated",
                  attr, size);
}

cublasStatus_t cublasLtMatmulPreferenceInit_internal(cublasLtMatmulPreference_t pref, size_t size) {
    if (!pref || size != sizeof(cublasLtMatmulPreferenceOpaque_t))
        return CUBLAS_STATUS_INVALID_VALUE;
    Pref *p = reinterpret_cast<Pref *>(pref);
    *p = Pref{kPrefMagic, 0, {256, 256, 256, 256}}; // documented defaults
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref,
                                                    cublasLtMatmulPreferenceAttributes_t attr,
                                                    const void *buf, size_t size) {
    Pref *p = as<Pref>(pref, kPrefMagic);
    if (!p || !buf) return CUBLAS_STATUS_INVALID_VALUE;
    if (attr == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES && size == 8) {
        memcpy(&p->max_ws, buf, 8);
        return CUBLAS_STATUS_SUCCESS;
    }
    int slot = attr == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES   ? 0
               : attr == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES ? 1
               : attr == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES ? 2
               : attr == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES ? 3
                                                                    : -1;
    if (slot >= 0 && size == 4) {
        memcpy(&p->align[slot], buf, 4);
        return CUBLAS_STATUS_SUCCESS;
    }
    return lt_bad(CUBLAS_STATUS_NOT_SUPPORTED, "preference attribute %d is not simulated", attr);
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                              cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                              cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                              cublasLtMatmulPreference_t pref, int requested,
                                              cublasLtMatmulHeuristicResult_t results[],
                                              int *returned) {
    const char *call = "cublasLtMatmulAlgoGetHeuristic";
    Handle *h = reinterpret_cast<Handle *>(handle);
    if (!h || h->magic != (kDescMagic ^ kLayoutMagic)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (requested <= 0 || !results || !returned) return CUBLAS_STATUS_INVALID_VALUE;
    Pref *p = as<Pref>(pref, kPrefMagic);
    if (!p) return lt_bad(CUBLAS_STATUS_INVALID_VALUE, "%s: preference not initialized", call);
    Desc *dd = as<Desc>(desc, kDescMagic);
    Shape s;
    cublasStatus_t st =
        check_shapes(call, dd, as<Layout>(a, kLayoutMagic), as<Layout>(b, kLayoutMagic),
                     as<Layout>(c, kLayoutMagic), as<Layout>(d, kLayoutMagic), &s);
    if (st != CUBLAS_STATUS_SUCCESS) return st;
    memset(&results[0], 0, sizeof results[0]);
    Algo *al = reinterpret_cast<Algo *>(&results[0].algo);
    al->magic = kAlgoMagic;
    memcpy(al->align, p->align, sizeof al->align);
    al->compute = dd->compute;
    results[0].workspaceSize = 0; // the simulated algorithm needs none
    results[0].state = CUBLAS_STATUS_SUCCESS;
    results[0].wavesCount = 1.0f;
    *returned = 1;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                              const void *alpha_p, const void *A, cublasLtMatrixLayout_t adesc,
                              const void *B, cublasLtMatrixLayout_t bdesc, const void *beta_p,
                              const void *C, cublasLtMatrixLayout_t cdesc, void *D,
                              cublasLtMatrixLayout_t ddesc, const cublasLtMatmulAlgo_t *algo,
                              void *workspace, size_t ws_bytes, cudaStream_t stream) {
    const char *call = "cublasLtMatmul";
    DeviceState &dv = dev();
    std::lock_guard<std::recursive_mutex> lock(dv.mu);
    if (dv.sticky != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;
    Handle *h = reinterpret_cast<Handle *>(handle);
    if (!h || h->magic != (kDescMagic ^ kLayoutMagic)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (stream && !dv.streams.count(static_cast<void *>(stream)))
        return lt_bad(CUBLAS_STATUS_INVALID_VALUE, "%s: stream %p is not live", call,
                      static_cast<void *>(stream));
    Desc *d = as<Desc>(desc, kDescMagic);
    const Layout *la = as<Layout>(adesc, kLayoutMagic), *lb = as<Layout>(bdesc, kLayoutMagic);
    const Layout *lc = as<Layout>(cdesc, kLayoutMagic), *ld = as<Layout>(ddesc, kLayoutMagic);
    Shape s;
    cublasStatus_t st = check_shapes(call, d, la, lb, lc, ld, &s);
    if (st != CUBLAS_STATUS_SUCCESS) return st;
    if (!alpha_p || !beta_p)
        return lt_bad(CUBLAS_STATUS_INVALID_VALUE, "%s: NULL alpha or beta", call);
    float alpha, beta;
    memcpy(&alpha, alpha_p, 4);
    memcpy(&beta, beta_p, 4);
    if ((st = check_range(call, "A", A, la)) || (st = check_range(call, "B", B, lb)) ||
        (st = check_range(call, "D", D, ld)))
        return st;
    if (beta != 0.0f && (st = check_range(call, "C", C, lc))) return st;
    if (C == D && memcmp(lc, ld, sizeof *lc))
        return lt_bad(CUBLAS_STATUS_INVALID_VALUE, "%s: C == D with different layouts", call);
    // overlapping output and inputs race on a GPU; cuBLASLt does not report it, so the
    // simulator warns (the stand-in reads its inputs before writing, so the call still works)
    if (C != D && beta != 0.0f && overlaps(C, lc, D, ld))
        warn("%s: C %p and D %p overlap without being equal", call, C, D);
    if (overlaps(A, la, D, ld) || overlaps(B, lb, D, ld))
        warn("%s: D %p overlaps an input (A %p, B %p)", call, D, A, B);
    int64_t dspan = ((int64_t)ld->cols - 1) * ld->ld + (int64_t)ld->rows;
    if (ld->batch > 1 && (ld->stride < 0 ? -ld->stride : ld->stride) < dspan)
        return lt_bad(CUBLAS_STATUS_INVALID_VALUE,
                      "%s: D's batches overlap (stride %lld < %lld elements per matrix)", call,
                      (long long)ld->stride, (long long)dspan);
    if (algo) {
        const Algo *al = reinterpret_cast<const Algo *>(algo);
        if (al->magic != kAlgoMagic)
            return lt_bad(CUBLAS_STATUS_INVALID_VALUE, "%s: algo not from the heuristic", call);
        const void *ptr[4] = {A, B, beta != 0.0f ? C : D, D};
        const char *nm[4] = {"A", "B", "C", "D"};
        for (int i = 0; i < 4; i++)
            if (align_of(ptr[i]) < al->align[i])
                return lt_bad(CUBLAS_STATUS_INVALID_VALUE,
                              "%s: %s at %p is %u-byte aligned; the algorithm was chosen for %u "
                              "(set CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_%s_BYTES)",
                              call, nm[i], ptr[i], align_of(ptr[i]), al->align[i], nm[i]);
    }
    if (ws_bytes && !find_alloc(workspace, ws_bytes))
        return lt_bad(CUBLAS_STATUS_INVALID_VALUE,
                      "%s: workspace [%p, +%zu) is not inside one device allocation", call,
                      workspace, ws_bytes);

    FpEnvGuard fp; // the GPU keeps fp32 denormals
    bool bf = d->compute == CUBLAS_COMPUTE_32F_FAST_16BF;
    const float *pa = static_cast<const float *>(A), *pb = static_cast<const float *>(B);
    const float *pc = static_cast<const float *>(C);
    float *pd = static_cast<float *>(D);
    uint64_t m = s.m, n = s.n, k = s.k;
    std::vector<float> opa(m * k), opb(n * k); // op(A) row i and op(B) column j, contiguous in k
    auto round = [bf](float x) { return bf ? __bfloat162float(__float2bfloat16_rn(x)) : x; };
    for (int32_t bt = 0; bt < s.batch; bt++) {
        const float *a = pa + bt * la->stride, *b = pb + bt * lb->stride;
        for (uint64_t i = 0; i < m; i++)
            for (uint64_t l = 0; l < k; l++)
                opa[i * k + l] = round(d->trans_a ? a[i * la->ld + l] : a[l * la->ld + i]);
        for (uint64_t j = 0; j < n; j++)
            for (uint64_t l = 0; l < k; l++)
                opb[j * k + l] = round(d->trans_b ? b[l * lb->ld + j] : b[j * lb->ld + l]);
        float *dd = pd + bt * ld->stride;
        const float *cc = beta != 0.0f ? pc + bt * lc->stride : nullptr;
        for (uint64_t j = 0; j < n; j++)
            for (uint64_t i = 0; i < m; i++) {
                const float *x = &opa[i * k], *y = &opb[j * k];
                float acc = 0.0f;
                for (uint64_t l = 0; l < k; l++) acc = fmaf(x[l], y[l], acc);
                float v = alpha * acc;
                if (cc) v += beta * cc[j * lc->ld + i];
                dd[j * ld->ld + i] = v;
            }
    }
    return CUBLAS_STATUS_SUCCESS;
}

} // extern "C"
