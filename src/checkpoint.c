/* checkpoint.c - the checkpoint file in HDF5 (checkpoint.h; layout in docs/checkpoints.md).
 * Every HDF5 call is checked and HDF5's own error printing is off inside each public call. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>

#include "lam/checkpoint.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lam/atomic.h"
#include "lam/h5util.h"
#include "h5vfd.h"

#define CK(expr, call, where)                                                                      \
    do {                                                                                           \
        if ((expr) < 0) {                                                                          \
            st = lam_h5u_fail(err, call, where, file);                                             \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

/* ---- writing ----------------------------------------------------------------------------- */

/* A 1-D dataset of n elements of type ftype from memory of type mtype. */
static lam_status write_1d(hid_t f, const char *name, hid_t ftype, hid_t mtype, const void *data,
                           size_t n, const char *file, lam_error *err) {
    lam_status st = LAM_OK;
    hsize_t dim = n;
    hid_t sp = -1, ds = -1;
    CK(sp = H5Screate_simple(1, &dim, NULL), "H5Screate_simple", name);
    CK(ds = H5Dcreate2(f, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "H5Dcreate2",
       name);
    if (n) CK(H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "H5Dwrite", name);
done:
    lam_h5u_close(ds), lam_h5u_close(sp);
    return st;
}

static lam_status write_root_attrs(hid_t f, const char *file, lam_error *err) {
    lam_status st = LAM_OK;
    hid_t sp = -1, t = -1, a = -1, b = -1;
    const char *fmt = LAM_CKPT_FORMAT;
    int32_t ver = LAM_CKPT_VERSION;
    CK(sp = H5Screate(H5S_SCALAR), "H5Screate", "/");
    CK(t = H5Tcopy(H5T_C_S1), "H5Tcopy", "format");
    CK(H5Tset_size(t, H5T_VARIABLE), "H5Tset_size", "format");
    CK(H5Tset_cset(t, H5T_CSET_UTF8), "H5Tset_cset", "format");
    CK(a = H5Acreate2(f, "format", t, sp, H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2", "format");
    CK(H5Awrite(a, t, &fmt), "H5Awrite", "format");
    CK(b = H5Acreate2(f, "version", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2",
       "version");
    CK(H5Awrite(b, H5T_NATIVE_INT32, &ver), "H5Awrite", "version");
done:
    lam_h5u_close(b), lam_h5u_close(a), lam_h5u_close(t), lam_h5u_close(sp);
    return st;
}

static lam_status write_text(hid_t f, const char *name, const char *s, const char *file,
                             lam_error *err) {
    return write_1d(f, name, H5T_STD_U8LE, H5T_NATIVE_UCHAR, s, strlen(s), file, err);
}

lam_status lam_ckpt_write(const char *path, const lam_ckpt *c, lam_error *err) {
    int64_t P = lam_config_n_params(&c->cfg);
    if (P != c->n_params || !c->params || (!c->adam_m) != (!c->adam_v))
        return lam_error_set(err, LAM_ERR_INVALID,
                             "%s: checkpoint to write is inconsistent (%lld parameters, config "
                             "gives %lld; moments %s)",
                             path, (long long)c->n_params, (long long)P,
                             c->adam_m && c->adam_v   ? "both"
                             : c->adam_m || c->adam_v ? "one of two"
                                                      : "none");
    char *json = NULL, *tmp = NULL;
    LAM_TRY(lam_config_to_json(&c->cfg, &json, err));
    lam_status st = lam_h5u_temp_beside(path, &tmp, err);
    if (st != LAM_OK) {
        free(json);
        return st;
    }
    const char *file = tmp;
    lam_h5u_quiet q;
    lam_h5u_quiet_on(&q);
    hid_t fcpl = -1, f = -1;
    CK(fcpl = H5Pcreate(H5P_FILE_CREATE), "H5Pcreate", "/");
    CK(H5Pset_obj_track_times(fcpl, 0), "H5Pset_obj_track_times", "/");
    CK(f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate", "/");
    if ((st = write_root_attrs(f, file, err)) != LAM_OK ||
        (st = write_text(f, "config", json, file, err)) != LAM_OK ||
        (st = write_text(f, "tokenizer", c->tokenizer_json ? c->tokenizer_json : "", file, err)) !=
            LAM_OK ||
        (st = write_text(f, "train", c->train_json ? c->train_json : "{}", file, err)) != LAM_OK ||
        (st = write_1d(f, "params", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, c->params, (size_t)P, file,
                       err)) != LAM_OK)
        goto done;
    if (c->adam_m && ((st = write_1d(f, "adam_m", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, c->adam_m,
                                     (size_t)P, file, err)) != LAM_OK ||
                      (st = write_1d(f, "adam_v", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, c->adam_v,
                                     (size_t)P, file, err)) != LAM_OK))
        goto done;
    CK(H5Fflush(f, H5F_SCOPE_GLOBAL), "H5Fflush", "/");
    hid_t ff = f;
    f = -1;
    CK(H5Fclose(ff), "H5Fclose", "/");
    st = lam_atomic_rename(tmp, path, err); /* fsync, rename, fsync the folder */
    free(tmp), tmp = NULL;
done:
    lam_h5u_close(f), lam_h5u_close(fcpl);
    lam_h5u_quiet_off(&q);
    if (tmp) unlink(tmp);
    free(tmp);
    free(json);
    return st;
}

/* ---- reading ----------------------------------------------------------------------------- */

/* Reading goes through the checking driver of h5vfd.h, and every object header is checked
 * before libhdf5 decodes its messages (libhdf5 1.10 trusts sizes and indexes written in a file:
 * docs/dataset-store.md, "Damaged files"). */
typedef struct {
    hid_t f;
    const char *file;
    uint64_t size; /* bytes of the file */
} reader;

/* The object header at path, checked (a vlen string attribute `attr` too, when not NULL). */
static lam_status check_object(const reader *R, const char *path, const char *attr,
                               lam_error *err) {
    const char *file = R->file;
    lam_status st = LAM_OK;
    H5O_info_t info;
    CK(H5Oget_info_by_name2(R->f, path, &info, H5O_INFO_BASIC, H5P_DEFAULT), "H5Oget_info_by_name",
       path);
    const char *why = lam_h5vfd_check_header(R->f, info.addr, attr, info.type == H5O_TYPE_DATASET);
    if (why)
        return lam_error_set(err, LAM_ERR_INVALID, "%s: %s: %s (damaged, or not a checkpoint)",
                             file, path, why);
    if (strcmp(path, "/") && info.type != H5O_TYPE_DATASET)
        return lam_error_set(err, LAM_ERR_INVALID, "%s: '%s' is not a dataset", file, path);
done:
    return st;
}

/* Opens dataset name and checks it is 1-D of elements of exactly the file type `ftype` the
 * writer stores (`what` names it), stored contiguous inside the file; its length into *n. A
 * missing dataset with `optional` set gives *ds = -1 and LAM_OK. The exact type matters:
 * libhdf5 converts any other integer or float layout (bit precision, offset, order) with soft
 * conversions that trust those fields (a damaged precision reads outside the buffer). */
static lam_status open_1d(const reader *R, const char *name, hid_t ftype, const char *what,
                          int optional, hid_t *ds, hsize_t *n, lam_error *err) {
    const char *file = R->file;
    lam_status st = LAM_OK;
    hid_t t = -1, sp = -1, dcpl = -1;
    *ds = -1;
    htri_t exists = H5Lexists(R->f, name, H5P_DEFAULT);
    if (exists <= 0) {
        if (optional && exists == 0) return LAM_OK;
        return lam_error_set(err, LAM_ERR_INVALID, "%s: not a lamkit checkpoint: no dataset '%s'",
                             file, name);
    }
    LAM_TRY(check_object(R, name, NULL, err));
    CK(*ds = H5Dopen2(R->f, name, H5P_DEFAULT), "H5Dopen2", name);
    CK(t = H5Dget_type(*ds), "H5Dget_type", name);
    CK(sp = H5Dget_space(*ds), "H5Dget_space", name);
    CK(dcpl = H5Dget_create_plist(*ds), "H5Dget_create_plist", name);
    int rank = H5Sget_simple_extent_ndims(sp);
    if (H5Tequal(t, ftype) <= 0 || rank != 1) {
        char found[96];
        st = lam_error_set(err, LAM_ERR_INVALID,
                           "%s: dataset '%s' must be 1-D %s (found rank %d of %s)", file, name,
                           what, rank, lam_h5u_type_desc(t, ftype, found, sizeof found));
        goto done;
    }
    CK(H5Sget_simple_extent_dims(sp, n, NULL), "H5Sget_simple_extent_dims", name);
    size_t size = H5Tget_size(ftype);
    /* contiguous, and all of it inside the file: libhdf5 reads what the layout says */
    haddr_t at = H5Dget_offset(*ds);
    hsize_t stored = H5Dget_storage_size(*ds);
    int sound = H5Pget_layout(dcpl) == H5D_CONTIGUOUS && *n <= R->size / size &&
                (*n == 0 || (at != HADDR_UNDEF && stored == *n * size && at <= R->size &&
                             stored <= R->size - at));
    if (!sound)
        st = lam_error_set(err, LAM_ERR_INVALID,
                           "%s: dataset '%s' is not stored as a checkpoint stores it (contiguous, "
                           "%llu values inside the file)",
                           file, name, (unsigned long long)*n);
done:
    lam_h5u_close(dcpl), lam_h5u_close(sp), lam_h5u_close(t);
    if (st != LAM_OK) lam_h5u_close(*ds), *ds = -1;
    return st;
}

#define MAX_TEXT ((hsize_t)1 << 30)

/* A uint8 dataset as a NUL-terminated malloc'd string (no NUL bytes inside). */
static lam_status read_text(const reader *R, const char *name, char **out, lam_error *err) {
    const char *file = R->file;
    lam_status st = LAM_OK;
    hid_t ds = -1;
    hsize_t n = 0;
    *out = NULL;
    LAM_TRY(open_1d(R, name, H5T_STD_U8LE, "bytes (uint8)", 0, &ds, &n, err));
    char *s = NULL;
    if (n > MAX_TEXT) {
        st = lam_error_set(err, LAM_ERR_INVALID, "%s: '%s' is %llu bytes; at most 1 GiB", file,
                           name, (unsigned long long)n);
        goto done;
    }
    s = malloc((size_t)n + 1);
    if (!s) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "%s: out of memory for '%s'", file, name);
        goto done;
    }
    if (n) CK(H5Dread(ds, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, s), "H5Dread", name);
    s[n] = 0;
    if (strlen(s) != (size_t)n) {
        st = lam_error_set(err, LAM_ERR_INVALID, "%s: '%s' holds a NUL byte at %zu", file, name,
                           strlen(s));
        goto done;
    }
    *out = s, s = NULL;
done:
    free(s);
    lam_h5u_close(ds);
    return st;
}

static lam_status read_floats(const reader *R, const char *name, int64_t P, int optional,
                              float **out, lam_error *err) {
    const char *file = R->file;
    lam_status st = LAM_OK;
    hid_t ds = -1;
    hsize_t n = 0;
    *out = NULL;
    LAM_TRY(open_1d(R, name, H5T_IEEE_F32LE, "little-endian IEEE float32", optional, &ds, &n, err));
    if (ds < 0) return LAM_OK; /* optional and absent */
    if ((int64_t)n != P) {
        st = lam_error_set(err, LAM_ERR_INVALID,
                           "%s: '%s' has %llu values; the checkpoint's config has %lld parameters",
                           file, name, (unsigned long long)n, (long long)P);
        goto done;
    }
    float *v = malloc((size_t)P * sizeof *v);
    if (!v) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "%s: out of memory for '%s'", file, name);
        goto done;
    }
    if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        st = lam_h5u_fail(err, "H5Dread", name, file);
        free(v);
        goto done;
    }
    *out = v;
done:
    lam_h5u_close(ds);
    return st;
}

static lam_status check_root(const reader *R, lam_error *err) {
    const char *file = R->file;
    lam_status st = LAM_OK;
    hid_t a = -1, t = -1, mt = -1, b = -1;
    char *fmt = NULL;
    const char *why = lam_h5vfd_check_layout(R->f);
    if (why)
        return lam_error_set(err, LAM_ERR_INVALID, "%s: %s (damaged, or not a checkpoint)", file,
                             why);
    LAM_TRY(check_object(R, "/", "format", err));
    if (H5Aexists(R->f, "format") <= 0 || H5Aexists(R->f, "version") <= 0)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "%s: not a lamkit checkpoint (no 'format' and 'version' attributes)",
                             file);
    CK(a = H5Aopen(R->f, "format", H5P_DEFAULT), "H5Aopen", "format");
    CK(t = H5Aget_type(a), "H5Aget_type", "format");
    if (H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) <= 0) {
        st = lam_error_set(err, LAM_ERR_INVALID, "%s: attribute 'format' is not a string", file);
        goto done;
    }
    hid_t sp = H5Aget_space(a);
    int scalar = sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SCALAR;
    lam_h5u_close(sp);
    if (!scalar) {
        st = lam_error_set(err, LAM_ERR_INVALID, "%s: attribute 'format' is not a scalar", file);
        goto done;
    }
    CK(mt = H5Tcopy(H5T_C_S1), "H5Tcopy", "format");
    CK(H5Tset_size(mt, H5T_VARIABLE), "H5Tset_size", "format");
    CK(H5Tset_cset(mt, H5Tget_cset(t)), "H5Tset_cset", "format");
    CK(H5Aread(a, mt, &fmt), "H5Aread", "format");
    if (!fmt || strcmp(fmt, LAM_CKPT_FORMAT)) {
        st = lam_error_set(err, LAM_ERR_INVALID, "%s: format is '%.40s', not '%s'", file,
                           fmt ? fmt : "", LAM_CKPT_FORMAT);
        goto done;
    }
    CK(b = H5Aopen(R->f, "version", H5P_DEFAULT), "H5Aopen", "version");
    hid_t bt = H5Aget_type(b), bs = H5Aget_space(b);
    /* exactly the writer's type: any other integer layout goes through a soft conversion that
     * trusts its precision and offset (open_1d) */
    int ok = bt >= 0 && H5Tequal(bt, H5T_STD_I32LE) > 0 && bs >= 0 &&
             H5Sget_simple_extent_type(bs) == H5S_SCALAR;
    lam_h5u_close(bt), lam_h5u_close(bs);
    int32_t ver = -1;
    if (!ok) {
        st = lam_error_set(err, LAM_ERR_INVALID,
                           "%s: attribute 'version' is not a scalar little-endian int32", file);
        goto done;
    }
    CK(H5Aread(b, H5T_NATIVE_INT32, &ver), "H5Aread", "version");
    if (ver != LAM_CKPT_VERSION)
        st = lam_error_set(err, LAM_ERR_INVALID,
                           "%s: checkpoint version %d; this build reads version %d", file, ver,
                           LAM_CKPT_VERSION);
done:
    if (fmt) H5free_memory(fmt);
    lam_h5u_close(b), lam_h5u_close(mt), lam_h5u_close(t), lam_h5u_close(a);
    return st;
}

static lam_status read_open(const reader *R, int with_opt, lam_ckpt *c, lam_error *err) {
    char *json = NULL;
    char where[300];
    LAM_TRY(check_root(R, err));
    LAM_TRY(read_text(R, "config", &json, err));
    snprintf(where, sizeof where, "%s: config", R->file);
    /* fields absent from the file keep small's values; the size checks catch a mismatch */
    lam_config_preset("small", &c->cfg, NULL);
    lam_status st = lam_config_from_json(json, where, &c->cfg, err);
    if (st == LAM_OK) st = lam_config_validate(&c->cfg, err);
    free(json);
    LAM_TRY(st);
    c->n_params = lam_config_n_params(&c->cfg);
    LAM_TRY(read_text(R, "tokenizer", &c->tokenizer_json, err));
    LAM_TRY(read_text(R, "train", &c->train_json, err));
    LAM_TRY(read_floats(R, "params", c->n_params, 0, &c->params, err));
    if (!with_opt) return LAM_OK;
    LAM_TRY(read_floats(R, "adam_m", c->n_params, 1, &c->adam_m, err));
    LAM_TRY(read_floats(R, "adam_v", c->n_params, c->adam_m == NULL, &c->adam_v, err));
    if (c->adam_v && !c->adam_m)
        return lam_error_set(err, LAM_ERR_INVALID, "%s: 'adam_v' without 'adam_m'", R->file);
    return LAM_OK;
}

/* Opens name (a path, or a label of img[0..len)) through the checking driver and reads it. */
static lam_status read_any(const char *name, const void *img, size_t len, int with_opt,
                           lam_ckpt *out, lam_error *err) {
    memset(out, 0, sizeof *out);
    lam_h5u_quiet q;
    lam_h5u_quiet_on(&q);
    lam_status st = LAM_OK;
    const char *file = name;
    hid_t fapl = -1;
    reader R = {-1, name, 0};
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (img ? len < 64 || memcmp(img, sig, sizeof sig) : H5Fis_hdf5(name) <= 0) {
        st = lam_error_set(err, LAM_ERR_INVALID, "%s: not an HDF5 file (or a damaged one)", name);
        goto done;
    }
    CK(fapl = lam_h5vfd_fapl(img, len), "H5Pset_driver", "/");
    CK(R.f = H5Fopen(name, H5F_ACC_RDONLY, fapl), "H5Fopen", "/");
    hsize_t size;
    CK(H5Fget_filesize(R.f, &size), "H5Fget_filesize", "/");
    R.size = size;
    st = read_open(&R, with_opt, out, err);
done:
    if (st != LAM_OK) lam_ckpt_free(out);
    lam_h5u_close(R.f), lam_h5u_close(fapl);
    lam_h5u_quiet_off(&q);
    return st;
}

lam_status lam_ckpt_read(const char *path, int with_optimizer, lam_ckpt *out, lam_error *err) {
    memset(out, 0, sizeof *out);
    if (access(path, R_OK) != 0)
        return lam_error_set(err, LAM_ERR_IO, "%s: cannot read the checkpoint", path);
    return read_any(path, NULL, 0, with_optimizer, out, err);
}

lam_status lam_ckpt_read_image(const void *buf, size_t len, const char *name, int with_optimizer,
                               lam_ckpt *out, lam_error *err) {
    return read_any(name, buf, len, with_optimizer, out, err);
}

void lam_ckpt_free(lam_ckpt *c) {
    free(c->tokenizer_json), free(c->train_json);
    free(c->params), free(c->adam_m), free(c->adam_v);
    memset(c, 0, sizeof *c);
}
