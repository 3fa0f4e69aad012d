/* backend.c - the backend registry (the library's only global mutable state) and shared
 * argument checks (see backend.h). */
#include "lam/backend.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu_backend.h"
#if defined(LAM_HAVE_CUDA) || defined(LAM_HAVE_CUDA_SIM)
#include "../cuda/cuda_backend.h"
#endif

#define MAX_BACKENDS 8

static struct {
    char name[32];
    lam_backend_ctor ctor;
} g_registry[MAX_BACKENDS];
static int g_n_registered;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

lam_status lam_backend_register(const char *name, lam_backend_ctor ctor, lam_error *err) {
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < g_n_registered && i < MAX_BACKENDS; i++)
        if (!strcmp(g_registry[i].name, name)) {
            g_registry[i].ctor = ctor;
            pthread_mutex_unlock(&g_lock);
            return LAM_OK;
        }
    if (g_n_registered == MAX_BACKENDS || strlen(name) >= sizeof g_registry[0].name) {
        pthread_mutex_unlock(&g_lock);
        return lam_error_set(err, LAM_ERR_INVALID, "backend registry: cannot register '%s'", name);
    }
    snprintf(g_registry[g_n_registered].name, sizeof g_registry[0].name, "%s", name);
    g_registry[g_n_registered].ctor = ctor;
    g_n_registered++;
    pthread_mutex_unlock(&g_lock);
    return LAM_OK;
}

static void register_builtin(void) {
    lam_backend_register("cpu", lam_cpu_backend_create, NULL);
#ifdef LAM_HAVE_CUDA
    lam_backend_register("cuda", lam_cuda_backend_create, NULL);
    lam_backend_register("cuda-fp32", lam_cuda_fp32_backend_create, NULL);
#endif
#ifdef LAM_HAVE_CUDA_SIM
    lam_backend_register("cuda-sim", lam_cusim_backend_create, NULL);
    lam_backend_register("cuda-sim-fp32", lam_cusim_fp32_backend_create, NULL);
#endif
}

void lam_backends_init(void) {
    pthread_once(&g_once, register_builtin);
}

lam_status lam_backend_create(const char *name, int n_threads, lam_backend **out, lam_error *err) {
    lam_backends_init();
    lam_backend_ctor ctor = NULL;
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < g_n_registered && i < MAX_BACKENDS; i++)
        if (!strcmp(g_registry[i].name, name)) ctor = g_registry[i].ctor;
    pthread_mutex_unlock(&g_lock);
    if (!ctor) {
        char list[128];
        return lam_error_set(err, LAM_ERR_INVALID, "unknown backend '%s' (available: %s)", name,
                             lam_backend_list(list, sizeof list));
    }
    return ctor(out, n_threads, err);
}

const char *lam_backend_list(char *buf, size_t cap) {
    lam_backends_init();
    size_t n = 0;
    buf[0] = 0;
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < g_n_registered && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? "," : "", g_registry[i].name);
    pthread_mutex_unlock(&g_lock);
    return buf;
}

void lam_backend_destroy(lam_backend *be) {
    if (be && be->destroy) be->destroy(be);
}

lam_status lam_check_tensor(const char *op, const char *arg, const lam_tensor *t, lam_dtype dt,
                            lam_device dev, int ndim, lam_error *err) {
    if (!t || !t->data) return lam_error_set(err, LAM_ERR_SHAPE, "%s: %s is missing", op, arg);
    char d[64];
    if (t->dtype != dt)
        return lam_error_set(err, LAM_ERR_SHAPE, "%s: %s is %s, expected dtype %s", op, arg,
                             lam_tensor_desc(t, d, sizeof d), lam_dtype_name(dt));
    if (t->device != dev)
        return lam_error_set(err, LAM_ERR_SHAPE, "%s: %s %s is on the wrong device", op, arg,
                             lam_tensor_desc(t, d, sizeof d));
    if (ndim > 0 && t->ndim != ndim)
        return lam_error_set(err, LAM_ERR_SHAPE, "%s: %s is %s, expected %d dims", op, arg,
                             lam_tensor_desc(t, d, sizeof d), ndim);
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] <= 0)
            return lam_error_set(err, LAM_ERR_SHAPE, "%s: %s is %s, dims must be positive", op, arg,
                                 lam_tensor_desc(t, d, sizeof d));
    return LAM_OK;
}

lam_status lam_backend_dcomm(lam_backend *be, lam_comm *c, lam_dcomm **out, lam_error *err) {
    if (be->dcomm_create) return be->dcomm_create(be, c, out, err);
    if (be->device != LAM_DEV_CPU)
        return lam_error_set(err, LAM_ERR_UNSUPPORTED,
                             "backend %s keeps its memory off the host and has no communicator",
                             be->name);
    return lam_dcomm_create_host(c, out, err);
}
