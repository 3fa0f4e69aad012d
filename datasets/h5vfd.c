/* h5vfd.c - the dataset reader's HDF5 file driver (h5vfd.h): read-only, over a file (pread) or
 * an image in memory, checking each global heap collection HDF5 reads before HDF5 parses it.
 * libhdf5 1.10.8 decodes a collection's objects trusting their sizes: an object of size 0 makes
 * it loop forever (H5HG__cache_heap_deserialize), one larger than the collection makes
 * H5HG_read copy past both the collection and the buffer it copies into. The writer (HDF5
 * itself, through h5store.c) never makes either, so the check refuses what it never writes. */
#define _POSIX_C_SOURCE 200809L
#include "h5vfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the check ----------------------------------------------------------------------------- */

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Layout (HDF5 file format spec, "Global Heap"; 8-byte lengths): "GCOL", version 1, 3 reserved,
 * collection size (8); then objects: index (2), references (2), reserved (4), size (8), data
 * padded to 8 bytes; index 0 is the free space, whose size counts its own header; fewer than 16
 * bytes at the end are free space without a header. HDF5 never makes a collection smaller than
 * 4096 bytes, nor one with a gap in its indexes (we never delete), nor objects out of it. */
const char *lam_h5vfd_check_gheap(const unsigned char *b, size_t n) {
    if (n < 16 || memcmp(b, "GCOL\1", 5) != 0) return NULL; /* HDF5 ignores the reserved bytes */
    uint64_t size = le(b + 8, 8);
    if (size < 4096) return "global heap collection smaller than 4096 bytes";
    if (size > n) return "global heap collection runs past the end of the file";
    uint64_t seen[65536 / 64] = {0}; /* the indexes met, one bit each */
    unsigned max_idx = 0;
    uint64_t p = 16;
    while (p < size && size - p >= 16) {
        unsigned idx = (unsigned)le(b + p, 2);
        uint64_t obj = le(b + p + 8, 8), need;
        if (idx > 0) {
            if (obj > size - p - 16) return "global heap object larger than its collection";
            need = 16 + ((obj + 7) & ~(uint64_t)7);
            if (seen[idx / 64] >> idx % 64 & 1) return "global heap object index used twice";
            seen[idx / 64] |= (uint64_t)1 << idx % 64;
            if (idx > max_idx) max_idx = idx;
        } else {
            need = obj; /* the free space, header included */
            if (need < 16) return "global heap free space smaller than its header";
        }
        if (need > size - p) return "global heap object larger than its collection";
        p += need;
    }
    for (unsigned i = 1; i <= max_idx; i++)
        if (!(seen[i / 64] >> i % 64 & 1))
            return "global heap collection with a gap in its object indexes";
    return NULL;
}

/* ---- the driver ---------------------------------------------------------------------------- */

typedef struct {
    const void *img; /* NULL: the named file */
    size_t len;
} vfd_info;

typedef struct {
    H5FD_t pub; /* first: HDF5 sees this */
    int fd;
    const unsigned char *img;
    dev_t dev;
    ino_t ino;
    haddr_t eof, eoa;
} vfd_file;

static hid_t vfd_id = -1;

static herr_t fail(const char *func, H5E_major_t maj, H5E_minor_t min, const char *msg) {
    H5Epush2(H5E_DEFAULT, __FILE__, func, __LINE__, H5E_ERR_CLS, maj, min, "%s", msg);
    return -1;
}

static H5FD_t *vfd_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
    (void)maxaddr;
    if (flags & (H5F_ACC_RDWR | H5F_ACC_TRUNC | H5F_ACC_CREAT)) {
        fail(__func__, H5E_VFL, H5E_CANTOPENFILE, "lamkit's dataset driver only reads");
        return NULL;
    }
    const vfd_info *info = H5Pget_driver_info(fapl);
    vfd_file *f = calloc(1, sizeof *f);
    if (!info || !f) {
        free(f);
        fail(__func__, H5E_VFL, H5E_CANTALLOC, "no driver information or out of memory");
        return NULL;
    }
    f->fd = -1;
    if (info->img) {
        f->img = info->img, f->eof = info->len;
        return &f->pub;
    }
    struct stat st;
    if ((f->fd = open(name, O_RDONLY)) < 0 || fstat(f->fd, &st) != 0) {
        fail(__func__, H5E_FILE, H5E_CANTOPENFILE, strerror(errno));
        if (f->fd >= 0) close(f->fd);
        free(f);
        return NULL;
    }
    f->dev = st.st_dev, f->ino = st.st_ino, f->eof = (haddr_t)st.st_size;
    return &f->pub;
}

static herr_t vfd_close(H5FD_t *file) {
    vfd_file *f = (vfd_file *)file;
    int bad = f->fd >= 0 && close(f->fd) != 0;
    free(f);
    return bad ? fail(__func__, H5E_IO, H5E_CLOSEERROR, "close failed") : 0;
}

static int vfd_cmp(const H5FD_t *a, const H5FD_t *b) {
    const vfd_file *x = (const vfd_file *)a, *y = (const vfd_file *)b;
    if ((x->img != NULL) != (y->img != NULL)) return x->img ? -1 : 1;
    if (x->img) return x->img < y->img ? -1 : x->img > y->img;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static herr_t vfd_query(const H5FD_t *file, unsigned long *flags) {
    (void)file;
    *flags = 0; /* no metadata accumulation: each structure arrives in a read of its own */
    return 0;
}

static haddr_t vfd_get_eoa(const H5FD_t *file, H5FD_mem_t type) {
    (void)type;
    return ((const vfd_file *)file)->eoa;
}

static herr_t vfd_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr) {
    (void)type;
    ((vfd_file *)file)->eoa = addr;
    return 0;
}

static haddr_t vfd_get_eof(const H5FD_t *file, H5FD_mem_t type) {
    (void)type;
    return ((const vfd_file *)file)->eof;
}

/* n bytes at addr, inside the file: 0, or -1 when they cannot be read. */
static int read_at(const vfd_file *f, haddr_t addr, size_t n, void *buf) {
    if (f->img) {
        memcpy(buf, f->img + addr, n);
        return 0;
    }
    for (size_t done = 0; done < n;) {
        ssize_t k = pread(f->fd, (char *)buf + done, n - done, (off_t)(addr + done));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        done += (size_t)k;
    }
    return 0;
}

/* Bytes past the end of the file read as zeros, as with HDF5's own drivers. */
static herr_t vfd_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
                       void *buf) {
    (void)type, (void)dxpl;
    vfd_file *f = (vfd_file *)file;
    if (addr == HADDR_UNDEF || addr > f->eoa || size > f->eoa - addr)
        return fail(__func__, H5E_IO, H5E_OVERFLOW, "read past the end of the file's space");
    size_t have = addr >= f->eof ? 0 : f->eof - addr < size ? (size_t)(f->eof - addr) : size;
    if (read_at(f, addr, have, buf)) have = 0; /* the file shrank under us: zeros */
    memset((char *)buf + have, 0, size - have);
    if (have < 16 || memcmp(buf, "GCOL\1", 5) != 0) return 0;
    /* A global heap collection. HDF5 reads its first 4096 bytes, then the rest of a larger one
     * into the same buffer: check the whole collection now, before HDF5 allocates it. */
    uint64_t whole = le((const unsigned char *)buf + 8, 8);
    const char *bad = NULL;
    if (whole <= have || whole > f->eof - addr) {
        bad = lam_h5vfd_check_gheap(buf, have);
    } else {
        unsigned char *all = malloc((size_t)whole);
        if (!all) return fail(__func__, H5E_HEAP, H5E_CANTALLOC, "out of memory");
        bad = read_at(f, addr, (size_t)whole, all) ? "global heap collection unreadable"
                                                   : lam_h5vfd_check_gheap(all, (size_t)whole);
        free(all);
    }
    return bad ? fail(__func__, H5E_HEAP, H5E_BADVALUE, bad) : 0;
}

static herr_t vfd_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
                        const void *buf) {
    (void)file, (void)type, (void)dxpl, (void)addr, (void)size, (void)buf;
    return fail(__func__, H5E_VFL, H5E_WRITEERROR, "lamkit's dataset driver only reads");
}

static const H5FD_class_t vfd_class = {
    .name = "lamkit-dataset",
    .maxaddr = (haddr_t)INT64_MAX,
    .fc_degree = H5F_CLOSE_WEAK,
    .fapl_size = sizeof(vfd_info),
    .open = vfd_open,
    .close = vfd_close,
    .cmp = vfd_cmp,
    .query = vfd_query,
    .get_eoa = vfd_get_eoa,
    .set_eoa = vfd_set_eoa,
    .get_eof = vfd_get_eof,
    .read = vfd_read,
    .write = vfd_write,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

hid_t lam_h5vfd_fapl(const void *img, size_t len) {
    if (vfd_id < 0 || H5Iis_valid(vfd_id) <= 0) /* H5close drops registered drivers */
        if ((vfd_id = H5FDregister(&vfd_class)) < 0) return -1;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    vfd_info info = {img, len};
    if (H5Pset_driver(fapl, vfd_id, &info) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}
