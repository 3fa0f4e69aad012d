/* h5vfd.h - owns the dataset reader's HDF5 file driver (private to datasets/h5store.c): it
 * reads a file read-only with pread, or an image in memory without copying it, and checks what
 * libhdf5 1.10 parses without bounds before handing it over: a global heap collection (where
 * variable-length strings live) whose objects overrun it or never end is refused with a message
 * on HDF5's error stack, so that H5Fopen / H5Dread / H5Aread fail instead of looping forever or
 * reading and writing out of bounds. What it does not check, and why: docs/dataset-store.md. */
#ifndef LAM_DATASETS_H5VFD_H
#define LAM_DATASETS_H5VFD_H

#include <stddef.h>

#include <hdf5.h>

/* A file access property list using the driver: over the file HDF5 opens by name (img NULL) or
 * over img[0..len) (then the name is only a label; img must outlive the file). -1 on failure
 * (HDF5's error stack says why). */
hid_t lam_h5vfd_fapl(const void *img, size_t len);

/* The check itself, on n bytes read from the file: NULL when they are fine or no global heap
 * collection, else what is wrong (a static string). */
const char *lam_h5vfd_check_gheap(const unsigned char *b, size_t n);

#endif
