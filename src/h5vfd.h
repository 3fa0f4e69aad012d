/* h5vfd.h - owns the HDF5 file driver of lamkit's readers (private to the library: the
 * dataset store, datasets/h5store.c, and checkpoints, src/checkpoint.c): it
 * reads a file read-only with pread, or an image in memory without copying it, and checks what
 * libhdf5 1.10 parses without bounds before handing it over: a global heap collection (where
 * variable-length strings live) whose objects overrun it or never end is refused with a message
 * on HDF5's error stack, so that H5Fopen / H5Dread / H5Aread fail instead of looping forever or
 * reading and writing out of bounds. What it does not check, and why: docs/dataset-store.md. */
#ifndef LAM_SRC_H5VFD_H
#define LAM_SRC_H5VFD_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

/* A file access property list using the driver: over the file HDF5 opens by name (img NULL) or
 * over img[0..len) (then the name is only a label; img must outlive the file). -1 on failure
 * (HDF5's error stack says why). */
hid_t lam_h5vfd_fapl(const void *img, size_t len);

/* The check itself, on n bytes read from the file: NULL when they are fine or no global heap
 * collection, else what is wrong (a static string). */
const char *lam_h5vfd_check_gheap(const unsigned char *b, size_t n);

/* The file's superblock says what the checks assume: 8-byte addresses and lengths, no user
 * block. NULL, or what is wrong. */
const char *lam_h5vfd_check_layout(hid_t file);

/* The chunks of the 1-D dataset ds (entries of esize bytes in the file) holding entries
 * from..to-1 lie inside the file and give exactly their entries: an unfiltered (or only
 * shuffled) one is that size, a deflated one is read and inflated here to that size. libhdf5
 * 1.10 allocates what the chunk index says, and copies a whole chunk out of what the inflate
 * gave however short. memo (NULL: none) remembers the chunks found sound, so that reading a
 * dataset piece by piece inflates each chunk once more, not once a piece. NULL, or what is
 * wrong. */
typedef struct lam_h5vfd_memo lam_h5vfd_memo;
lam_h5vfd_memo *lam_h5vfd_memo_new(void);
void lam_h5vfd_memo_free(lam_h5vfd_memo *m);
const char *lam_h5vfd_check_chunks(hid_t file, hid_t ds, uint64_t from, uint64_t to, size_t esize,
                                   lam_h5vfd_memo *memo);

/* Every variable-length string reference of the 1-D column ds (n strings) points to an object
 * of a sound global heap collection that holds exactly as many bytes as the reference says:
 * libhdf5 1.10 follows a reference without checking its object index, and copies the whole
 * object into a buffer sized from the length. The column must be what the writer makes
 * (contiguous, or chunked with deflate or no filter; all of it written). file: opened with
 * lam_h5vfd_fapl. NULL when all is well, else what is wrong (a static string). */
const char *lam_h5vfd_check_vlen_column(hid_t file, hid_t ds, uint64_t n);
/* The messages of the (version 1) object header at addr (a dataset's when `dataset`), before
 * libhdf5 decodes them (it copies names and data without bounds): each keeps inside itself, and is
 * of a kind a lamkit file holds (no new-style groups, dense attributes, external files or shared
 * messages; numbers and strings only; deflate and shuffle only). The references of the
 * variable-length string attribute called `name` (NULL: none) are checked as above; a dataset has
 * one dataspace, datatype and layout. */
const char *lam_h5vfd_check_header(hid_t file, haddr_t addr, const char *name, int dataset);

#endif
