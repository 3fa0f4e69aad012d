/* h5util.h - owns the small HDF5 habits every file format of lamkit shares: switching HDF5's
 * own error printing off inside a call, turning a failed call into a lam_status that names
 * the file, the call, the object and HDF5's innermost message, closing any id, describing a
 * datatype it refuses, opening a file image held in memory (for fuzzing and for files already
 * read), and creating a temporary file beside a target for an atomic write. Formats themselves live
 * in their modules (checkpoint.c; datasets/h5store.c). Include <hdf5.h> before this header. */
#ifndef LAM_H5UTIL_H
#define LAM_H5UTIL_H

#include <stddef.h>

#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* HDF5's automatic error printing, switched off between on and off. */
typedef struct {
    H5E_auto2_t fn;
    void *data;
} lam_h5u_quiet;

void lam_h5u_quiet_on(lam_h5u_quiet *q);
void lam_h5u_quiet_off(const lam_h5u_quiet *q);

/* "FILE: CALL on WHERE failed: <HDF5's innermost message>" as LAM_ERR_IO. */
lam_status lam_h5u_fail(lam_error *err, const char *call, const char *where, const char *file);

/* Closes an id of any kind; negative ids are ignored. */
void lam_h5u_close(hid_t id);

/* Opens len bytes of an HDF5 file image read-only (the core driver over a copy). Refuses
 * images shorter than a superblock or without the HDF5 signature before HDF5 sees them. */
lam_status lam_h5u_open_image(const void *buf, size_t len, const char *name, hid_t *out,
                              lam_error *err);

/* What a file's datatype t is, for a message refusing it in favour of want: "8-byte floats",
 * "4-byte integers in another bit layout or byte order" (t of want's class and size, not
 * equal to it), "16-byte elements of another class". Into buf (n bytes); returns buf. */
const char *lam_h5u_type_desc(hid_t t, hid_t want, char *buf, size_t n);

/* A new empty temporary file "PATH.tmp.XXXXXX" beside path, its name malloc'd into *tmp. */
lam_status lam_h5u_temp_beside(const char *path, char **tmp, lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
