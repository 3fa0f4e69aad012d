/* h5util.c - shared HDF5 habits (h5util.h). */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>

#include "lam/h5util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void lam_h5u_quiet_on(lam_h5u_quiet *q) {
    H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void lam_h5u_quiet_off(const lam_h5u_quiet *q) {
    H5Eset_auto2(H5E_DEFAULT, q->fn, q->data);
}

static herr_t first_desc(unsigned n, const H5E_error2_t *e, void *ctx) {
    char *buf = ctx;
    if (n == 0 && e->desc) snprintf(buf, 200, "%s", e->desc);
    return 0;
}

lam_status lam_h5u_fail(lam_error *err, const char *call, const char *where, const char *file) {
    char desc[200] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_desc, desc);
    return lam_error_set(err, LAM_ERR_IO, "%s: %s on %s failed%s%s", file, call, where,
                         desc[0] ? ": " : "", desc);
}

const char *lam_h5u_type_desc(hid_t t, hid_t want, char *buf, size_t n) {
    H5T_class_t cls = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    int layout = cls == H5Tget_class(want) && size == H5Tget_size(want) && H5Tequal(t, want) <= 0;
    snprintf(buf, n, "%zu-byte %s%s", size,
             cls == H5T_FLOAT     ? "floats"
             : cls == H5T_INTEGER ? "integers"
                                  : "elements of another class",
             layout ? " in another bit layout or byte order" : "");
    return buf;
}

void lam_h5u_close(hid_t id) {
    if (id < 0) return;
    switch (H5Iget_type(id)) {
    case H5I_FILE:
        H5Fclose(id);
        break;
    case H5I_GROUP:
        H5Gclose(id);
        break;
    case H5I_DATASET:
        H5Dclose(id);
        break;
    case H5I_DATASPACE:
        H5Sclose(id);
        break;
    case H5I_DATATYPE:
        H5Tclose(id);
        break;
    case H5I_ATTR:
        H5Aclose(id);
        break;
    case H5I_GENPROP_LST:
        H5Pclose(id);
        break;
    default:
        break;
    }
}

lam_status lam_h5u_open_image(const void *buf, size_t len, const char *name, hid_t *out,
                              lam_error *err) {
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    *out = -1;
    if (len < 64 || memcmp(buf, sig, sizeof sig) != 0)
        return lam_error_set(err, LAM_ERR_INVALID,
                             "%s: not an HDF5 file (%zu bytes, no signature at 0)", name, len);
    lam_status st = LAM_OK;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
        H5Pset_file_image(fapl, (void *)buf, len) < 0)
        st = lam_h5u_fail(err, "H5Pset_file_image", "/", name);
    else if ((*out = H5Fopen(name, H5F_ACC_RDONLY, fapl)) < 0)
        st = lam_h5u_fail(err, "H5Fopen", "/", name);
    lam_h5u_close(fapl);
    return st;
}

lam_status lam_h5u_temp_beside(const char *path, char **tmp, lam_error *err) {
    size_t n = strlen(path) + 16;
    char *t = malloc(n);
    if (!t) return lam_error_set(err, LAM_ERR_NOMEM, "%s: out of memory", path);
    snprintf(t, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(t);
    if (fd < 0) {
        lam_status s = lam_error_set(err, LAM_ERR_IO, "%s: cannot create a temporary file: %s",
                                     path, strerror(errno));
        free(t);
        return s;
    }
    close(fd);
    *tmp = t;
    return LAM_OK;
}
