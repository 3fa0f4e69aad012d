/* h5vfd.c - the readers' HDF5 file driver and the checks it makes possible (h5vfd.h):
 * a read-only driver over a file (pread) or an image in memory that checks each global heap
 * collection as libhdf5 reads it, and reads the file's own structures for the checks h5store.c
 * makes before libhdf5 decodes them: string references, object header messages, chunk index
 * entries, the superblock's sizes. libhdf5 1.10.8 trusts the sizes and indexes written in these
 * (it loops, reads and writes out of bounds, allocates gigabytes); each check refuses only what
 * lamkit's writers never make. Why each one: docs/dataset-store.md, "Damaged files". */
#define _POSIX_C_SOURCE 200809L
#include "h5vfd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

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

static herr_t vfd_get_handle(H5FD_t *file, hid_t fapl, void **handle) {
    (void)fapl;
    *handle = file; /* for the checks below: they read through the same file */
    return 0;
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
    .get_handle = vfd_get_handle,
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

/* ---- variable-length string references ---------------------------------------------------- */

/* A reference (HDF5 file format spec, "Global Heap ID" after a 4-byte length): length (4),
 * collection address (8), object index (4). libhdf5 1.10.8 follows one with a non-zero address
 * without checking it: H5HG_read reads heap->obj[index] past the collection's table for an index
 * it never saw, and copies the whole object into a buffer sized from the length (rounded up to
 * 4096), after allocating and clearing that length. A reference passes when its collection is
 * sound and holds the object with exactly that many bytes, as HDF5 writes strings. */

typedef struct {
    uint64_t addr;  /* of the collection, 0: none */
    uint64_t *size; /* bytes + 1 of each of its objects by index, 0 for none */
    size_t n;       /* entries of size */
} collection;

typedef struct {
    vfd_file *f;
    collection c[4]; /* the last collections met, used round robin */
    unsigned next;
} ref_check;

/* The driver's file under an HDF5 file opened with lam_h5vfd_fapl, or NULL. */
static vfd_file *file_of(hid_t file) {
    void *h = NULL;
    hid_t fapl = H5Fget_access_plist(file);
    if (fapl < 0) return NULL;
    int ours = H5Pget_driver(fapl) == vfd_id && H5Fget_vfd_handle(file, fapl, &h) >= 0;
    H5Pclose(fapl);
    return ours ? h : NULL;
}

const char *lam_h5vfd_check_layout(hid_t file) {
    hid_t fcpl = H5Fget_create_plist(file);
    size_t sa = 0, ss = 0;
    hsize_t ub = 1;
    int ok = fcpl >= 0 && H5Pget_sizes(fcpl, &sa, &ss) >= 0 && H5Pget_userblock(fcpl, &ub) >= 0;
    if (fcpl >= 0) H5Pclose(fcpl);
    if (!ok) return "H5Fget_create_plist failed";
    if (sa != 8 || ss != 8 || ub != 0)
        return "addresses or lengths not of 8 bytes, or a user block (lamkit writes neither)";
    return NULL;
}

static const char *load_collection(ref_check *rc, uint64_t addr, collection **out) {
    vfd_file *f = rc->f;
    unsigned char head[16];
    if (addr > f->eof || f->eof - addr < 16 || read_at(f, addr, 16, head))
        return "string reference to a global heap collection past the end of the file";
    if (memcmp(head, "GCOL\1", 5) != 0)
        return "string reference to something that is no global heap collection";
    uint64_t size = le(head + 8, 8);
    if (size > f->eof - addr) return "global heap collection runs past the end of the file";
    unsigned char *b = malloc(size ? (size_t)size : 1);
    if (!b) return "out of memory";
    const char *bad = read_at(f, addr, (size_t)size, b) ? "global heap collection unreadable"
                                                        : lam_h5vfd_check_gheap(b, (size_t)size);
    collection *c = &rc->c[rc->next];
    if (!bad) { /* sound (no index twice, no gap): record the objects' sizes */
        size_t n = (size_t)((size - 16) / 16 + 1); /* more than its largest index */
        uint64_t *t = realloc(c->size, n * sizeof *t);
        if (!t)
            bad = "out of memory";
        else
            c->size = t, c->n = n, c->addr = addr, rc->next = (rc->next + 1) % 4, *out = c;
        if (t) memset(t, 0, n * sizeof *t);
        for (uint64_t p = 16; t && size - p >= 16;) {
            unsigned idx = (unsigned)le(b + p, 2);
            uint64_t obj = le(b + p + 8, 8);
            if (idx > 0 && idx < n) t[idx] = obj + 1;
            p += idx > 0 ? 16 + ((obj + 7) & ~(uint64_t)7) : obj;
        }
    }
    free(b);
    return bad;
}

static const char *check_ref(ref_check *rc, const unsigned char *ref) {
    uint64_t len = le(ref, 4), addr = le(ref + 4, 8), idx = le(ref + 12, 4);
    if (addr == 0) return NULL; /* a null string: HDF5 reads nothing */
    collection *c = NULL;
    for (int k = 0; k < 4 && !c; k++)
        if (rc->c[k].addr == addr) c = &rc->c[k];
    if (!c) {
        const char *bad = load_collection(rc, addr, &c);
        if (bad) return bad;
    }
    if (idx == 0 || idx >= c->n || c->size[idx] == 0)
        return "string reference to an object its global heap collection does not hold";
    if (c->size[idx] - 1 != len) return "string reference whose length is not its object's";
    return NULL;
}

static void ref_check_free(ref_check *rc) {
    if (!rc) return;
    for (int k = 0; k < 4; k++) free(rc->c[k].size);
    free(rc);
}

static ref_check *ref_check_new(hid_t file) {
    ref_check *rc = calloc(1, sizeof *rc);
    if (rc && !(rc->f = file_of(file))) free(rc), rc = NULL;
    return rc;
}

/* Whether the deflate stream in[0..n) ends and gives exactly `want` bytes, as libhdf5's deflate
 * filter would inflate it (it then copies a whole chunk out of what it got, however short). */
static const char *inflates_to(const unsigned char *in, size_t n, size_t want) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return "inflateInit failed";
    unsigned char out[16384];
    size_t total = 0;
    int st;
    z.next_in = (Bytef *)(uintptr_t)in, z.avail_in = n > UINT_MAX ? UINT_MAX : (uInt)n;
    do {
        z.next_out = out, z.avail_out = sizeof out;
        st = inflate(&z, Z_NO_FLUSH);
        total += sizeof out - z.avail_out;
    } while (st == Z_OK && total <= want);
    inflateEnd(&z);
    if (st != Z_STREAM_END && total <= want) return "a chunk that does not inflate";
    return total == want ? NULL : "a chunk that inflates to another size than its entries'";
}

struct lam_h5vfd_memo {
    unsigned char *ok; /* one byte a chunk: checked and sound */
    size_t n;
};

lam_h5vfd_memo *lam_h5vfd_memo_new(void) {
    return calloc(1, sizeof(lam_h5vfd_memo));
}

void lam_h5vfd_memo_free(lam_h5vfd_memo *m) {
    if (m) free(m->ok), free(m);
}

const char *lam_h5vfd_check_chunks(hid_t file, hid_t ds, uint64_t from, uint64_t to, size_t esize,
                                   lam_h5vfd_memo *memo) {
    vfd_file *f = file_of(file);
    hid_t dcpl = H5Dget_create_plist(ds);
    hsize_t cdim = 0;
    const char *bad = NULL;
    unsigned char *raw = NULL;
    int deflate_at = -1, nf = -1;
    if (!f || dcpl < 0) {
        bad = "not opened through lamkit's dataset driver";
    } else if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        nf = H5Pget_nfilters(dcpl);
        if (nf < 0 || nf > 2 || H5Pget_chunk(dcpl, 1, &cdim) != 1 || cdim == 0 || cdim > 65536)
            bad = "chunks of more than 65536 entries or more than 2 filters (lamkit writes fewer)";
        for (int i = 0; i < nf && !bad; i++) {
            unsigned flags;
            size_t ncd = 0;
            H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, NULL, 0, NULL, NULL);
            if (id == H5Z_FILTER_DEFLATE)
                deflate_at = i;
            else if (id != H5Z_FILTER_SHUFFLE)
                bad = "a filter other than deflate and shuffle";
        }
    }
    for (hsize_t off = cdim ? from / cdim * cdim : to; off < to && !bad; off += cdim) {
        size_t k = (size_t)(off / cdim);
        if (memo && k < memo->n && memo->ok[k]) continue;
        /* Two lookups that walk the index differently must agree (in a damaged index they do
         * not, and a read may then find a third entry); the bytes are read here, not with
         * H5Dread_chunk, which writes as many as its own lookup says. */
        hsize_t size = 0, size2 = 0;
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        if (H5Dget_chunk_storage_size(ds, &off, &size2) < 0 ||
            H5Dget_chunk_info_by_coord(ds, &off, &mask, &addr, &size) < 0) {
            bad = "the chunk index does not answer for a chunk";
        } else if (addr == HADDR_UNDEF ? size2 != 0 : size2 != size) {
            bad = "the chunk index disagrees with itself";
        } else if (addr == HADDR_UNDEF) {
            continue; /* never written: libhdf5 fills it with the fill value */
        } else if (addr > f->eof || size > f->eof - addr) {
            bad = "a chunk runs past the end of the file";
        } else if (deflate_at < 0 || (mask >> deflate_at & 1)) { /* shuffle keeps the size */
            if (size != cdim * esize) bad = "an uninflated chunk of another size than its entries'";
        } else {
            unsigned char *b = realloc(raw, size ? (size_t)size : 1);
            if (!b) {
                bad = "out of memory";
                break;
            }
            raw = b;
            bad = read_at(f, addr, (size_t)size, raw)
                      ? "a chunk unreadable"
                      : inflates_to(raw, (size_t)size, cdim * esize);
        }
        if (!bad && memo) {
            if (k >= memo->n) {
                size_t n = k + 1 > 2 * memo->n ? k + 1 : 2 * memo->n;
                unsigned char *ok = realloc(memo->ok, n);
                if (!ok) continue; /* only a memo: check it again next time */
                memset(ok + memo->n, 0, n - memo->n);
                memo->ok = ok, memo->n = n;
            }
            memo->ok[k] = 1;
        }
    }
    free(raw);
    if (dcpl >= 0) H5Pclose(dcpl);
    return bad;
}

/* The references of a 1-D column: where a contiguous one lies in the file; for a chunked one as
 * they are after its filters: its chunks copied raw (checked by lam_h5vfd_check_chunks, read by the
 * driver) into a dataset of 16-byte opaque entries with the same chunking and filters
 * in a scratch file in memory, and read back from there, so that HDF5 inflates them but no
 * string is followed. */
static const char *column_refs(hid_t file, const vfd_file *f, hid_t ds, uint64_t n,
                               unsigned char *refs) {
    const char *bad = NULL;
    hid_t dcpl = -1, fapl = -1, scratch = -1, sdcpl = -1, ot = -1, sp = -1, sds = -1;
    unsigned char *buf = NULL;
    hsize_t cdim, dim = n;
    char name[64];
#define CK(x, msg)                                                                                 \
    if ((x) < 0) {                                                                                 \
        bad = msg;                                                                                 \
        goto done;                                                                                 \
    }
    CK(dcpl = H5Dget_create_plist(ds), "H5Dget_create_plist failed");
    H5D_layout_t layout = H5Pget_layout(dcpl);
    if (layout == H5D_CONTIGUOUS) { /* the split names: raw where the dataset says */
        haddr_t at = H5Dget_offset(ds);
        if (H5Pget_nfilters(dcpl) != 0 || at == HADDR_UNDEF || at > f->eof ||
            f->eof - at < 16 * n || read_at(f, at, (size_t)n * 16, refs))
            bad = "contiguous string column never written, filtered or past the end of the file";
        goto done;
    }
    if (layout != H5D_CHUNKED) {
        bad = "string column neither chunked nor contiguous (lamkit writes no other)";
        goto done;
    }
    CK(H5Pget_chunk(dcpl, 1, &cdim), "H5Pget_chunk failed");
    if (cdim == 0 || cdim > 65536) {
        bad = "string column with chunks of more than 65536 entries (lamkit writes fewer)";
        goto done;
    }
    int nf = H5Pget_nfilters(dcpl), deflate = 0;
    for (int i = 0; i < nf; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, 0, NULL, NULL);
        if (id != H5Z_FILTER_DEFLATE || deflate) {
            bad = "string column with a filter other than deflate (lamkit writes no other)";
            goto done;
        }
        deflate = 1;
    }
    CK(fapl = H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate failed");
    CK(H5Pset_fapl_core(fapl, 1 << 16, 0), "H5Pset_fapl_core failed");
    snprintf(name, sizeof name, "lam-h5-scratch-%p", (void *)&name); /* in memory only */
    CK(scratch = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "H5Fcreate (scratch) failed");
    CK(sdcpl = H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate failed");
    CK(H5Pset_chunk(sdcpl, 1, &cdim), "H5Pset_chunk failed");
    if (deflate) CK(H5Pset_deflate(sdcpl, 1), "H5Pset_deflate failed");
    CK(ot = H5Tcreate(H5T_OPAQUE, 16), "H5Tcreate failed");
    hsize_t unlim = H5S_UNLIMITED; /* chunks may be larger than the data */
    CK(sp = H5Screate_simple(1, &dim, &unlim), "H5Screate_simple failed");
    CK(sds = H5Dcreate2(scratch, "refs", ot, sp, H5P_DEFAULT, sdcpl, H5P_DEFAULT),
       "H5Dcreate2 (scratch) failed");
    if ((bad = lam_h5vfd_check_chunks(file, ds, 0, n, 16, NULL))) goto done;
    for (hsize_t off = 0; off < n; off += cdim) {
        hsize_t nb = 0;
        unsigned mask = 0;
        haddr_t at = HADDR_UNDEF;
        CK(H5Dget_chunk_info_by_coord(ds, &off, &mask, &at, &nb),
           "H5Dget_chunk_info_by_coord failed");
        if (at == HADDR_UNDEF) { /* its entries would be the fill value, itself a reference */
            bad = "string column with a chunk never written (lamkit writes them all)";
            goto done;
        }
        unsigned char *b = realloc(buf, nb ? (size_t)nb : 1);
        if (!b) {
            bad = "out of memory";
            goto done;
        }
        buf = b;
        /* where lam_h5vfd_check_chunks found it sound: read here, not with H5Dread_chunk */
        if (read_at(f, at, (size_t)nb, buf)) {
            bad = "a chunk unreadable";
            goto done;
        }
        CK(H5Dwrite_chunk(sds, H5P_DEFAULT, mask, &off, (size_t)nb, buf),
           "H5Dwrite_chunk (scratch) failed");
    }
    if (n > 0)
        CK(H5Dread(sds, ot, H5S_ALL, H5S_ALL, H5P_DEFAULT, refs), "a chunk does not inflate");
#undef CK
done:
    free(buf);
    if (sds >= 0 && H5Dclose(sds) < 0 && !bad) bad = "H5Dclose (scratch) failed";
    if (sp >= 0) H5Sclose(sp);
    if (ot >= 0) H5Tclose(ot);
    if (sdcpl >= 0) H5Pclose(sdcpl);
    if (scratch >= 0 && H5Fclose(scratch) < 0 && !bad) bad = "H5Fclose (scratch) failed";
    if (fapl >= 0) H5Pclose(fapl);
    if (dcpl >= 0) H5Pclose(dcpl);
    return bad;
}

const char *lam_h5vfd_check_vlen_column(hid_t file, hid_t ds, uint64_t n) {
    ref_check *c = ref_check_new(file);
    if (!c) return "not opened through lamkit's dataset driver, or out of memory";
    const char *bad = NULL;
    unsigned char *refs = n > 0 && n <= c->f->eof ? malloc((size_t)n * 16) : NULL;
    if (n > c->f->eof) /* no column of this file holds more strings than bytes */
        bad = "more strings than the file has bytes";
    else if (n > 0 && !refs)
        bad = "out of memory";
    else if (n > 0)
        bad = column_refs(file, c->f, ds, n, refs);
    for (uint64_t i = 0; i < n && !bad; i++) bad = check_ref(c, refs + 16 * i);
    free(refs), ref_check_free(c);
    return bad;
}

/* ---- object headers: their messages, before libhdf5 decodes them ------------------------ */

/* Messages of a version 1 object header (spec "Version 1 Object Headers"): a 16-byte prefix at
 * the object's address (version 1, reserved, message count (2), references (4), size of the
 * first chunk (4), padding (4)), then the chunk's messages, each type (2), size (2), flags (1),
 * reserved (3) and its data; a continuation message (0x10: address (8), length (8)) names the
 * next chunk. libhdf5 1.10.8 decodes message data trusting the sizes and names written inside
 * it (strdup of a name that is not ended, memcpy of as many bytes as a size field says), so
 * each message a lamkit file holds is checked to keep inside itself, and messages it never
 * holds (new-style groups, dense attributes, external files, shared messages, compound, enum
 * and other datatypes, other filters than deflate and shuffle) are refused. */

/* A dataspace message (0x01) of n bytes: version 1 (8-byte head: version, rank, flags, 5
 * reserved) or 2 (4-byte head: version, rank, flags, type), then the dimensions (8 each) and
 * the maximum dimensions when flags bit 0 says so (no permutations, which lamkit never writes). */
static const char *check_dataspace(const unsigned char *m, uint64_t n) {
    if (n < 4 || (m[0] != 1 && m[0] != 2) || m[1] > 32) return "dataspace of an unknown kind";
    uint64_t dims = (uint64_t)m[1] * 8 * (m[2] & 1 ? 2 : 1) + (m[0] == 1 ? 8 : 4);
    if ((m[0] == 1 && (m[2] & 2)) || dims > n) return "dataspace larger than its message";
    return NULL;
}

/* An attribute message (0x0C), versions 1 to 3: version, flags, name size (2), datatype size
 * (2), dataspace size (2), [encoding (1) in version 3], the name, datatype and dataspace (each
 * padded to 8 bytes in version 1), then the data. */
static const char *check_attr(ref_check *c, const unsigned char *m, uint64_t n, const char *name) {
    if (n < 8) return "attribute message too short";
    unsigned ver = m[0], flags = m[1];
    uint64_t nn = le(m + 2, 2), dt = le(m + 4, 2), dsz = le(m + 6, 2), p = ver == 3 ? 9 : 8;
    if (ver < 1 || ver > 3) return "attribute message of an unknown version";
#define PAD(x) (ver == 1 ? ((x) + 7) & ~(uint64_t)7 : (x))
    if (p > n || PAD(nn) + PAD(dt) + PAD(dsz) > n - p)
        return "attribute message larger than itself";
    const unsigned char *t = m + p + PAD(nn), *sp = t + PAD(dt), *data = sp + PAD(dsz);
    uint64_t left = n - p - PAD(nn) - PAD(dt) - PAD(dsz);
#undef PAD
    if (nn == 0 || memchr(m + p, 0, (size_t)nn) != m + p + nn - 1)
        return "attribute name not ended where its size says";
    if (ver >= 2 && (flags & 3))
        return "shared datatype or dataspace in an attribute (lamkit writes none)";
    /* the datatype: class and version (1), bit fields (3), size (4); integers, strings and
     * variable-length strings only */
    if (dt < 8) return "attribute datatype too short";
    unsigned cls = t[0] & 0x0f;
    uint64_t esize = le(t + 4, 4);
    if (cls != 0 && cls != 3 && cls != 9)
        return "attribute of a datatype lamkit never writes (not an integer or a string)";
    /* a variable-length string is a 16-byte reference in the file, and libhdf5 copies 16 bytes
     * an element whatever the size field says (it allocates what it says) */
    if (cls == 9 && esize != 16) return "variable-length attribute of a size other than 16";
    const char *bad = check_dataspace(sp, dsz);
    if (bad) return bad;
    uint64_t hdr = sp[0] == 1 ? 8 : 4, count = sp[0] == 2 && sp[3] == 2 ? 0 : 1; /* 2: null */
    for (unsigned k = 0; k < sp[1] && count; k++) {
        uint64_t d = le(sp + hdr + 8 * k, 8);
        if (d > left || (count *= d) > left) return "attribute data larger than its message";
    }
    if (esize == 0 || count > left / esize) return "attribute data larger than its message";
    if (cls != 9 || !name || nn != strlen(name) + 1 || memcmp(m + p, name, nn) != 0) return NULL;
    for (uint64_t i = 0; i < count && !bad; i++) bad = check_ref(c, data + 16 * i);
    return bad;
}

/* A filter pipeline message (0x0B). Version 1: version, count, 6 reserved, then each filter:
 * id (2), name size (2), flags (2), value count (2), the name padded to 8, the values (4 each)
 * and 4 bytes of padding after an odd count. Version 2: version, count, then each: id (2),
 * [name size (2) for ids from 256], flags (2), value count (2), [the name], the values. */
static const char *check_pipeline(const unsigned char *m, uint64_t n) {
    if (n < 2 || (m[0] != 1 && m[0] != 2)) return "filter pipeline of an unknown version";
    unsigned ver = m[0], count = m[1];
    uint64_t p = ver == 1 ? 8 : 2;
    for (unsigned i = 0; i < count; i++) {
        if (n - p < 6 || p > n) return "filter pipeline larger than its message";
        unsigned id = (unsigned)le(m + p, 2);
        if (id != 1 && id != 2)
            return "a filter other than deflate and shuffle (lamkit writes none)";
        uint64_t nl = ver == 1 ? le(m + p + 2, 2) : 0, nv;
        p += ver == 1 ? 4 : 2;
        if (n - p < 4) return "filter pipeline larger than its message";
        nv = le(m + p + 2, 2), p += 4;
        if (ver == 1) nl = (nl + 7) & ~(uint64_t)7;
        if (nl > n - p) return "filter name larger than its message";
        if (nl && !memchr(m + p, 0, (size_t)nl)) return "filter name not ended";
        p += nl;
        uint64_t vals = 4 * nv + (ver == 1 && nv % 2 ? 4 : 0);
        if (vals > n - p) return "filter values larger than their message";
        p += vals;
    }
    return NULL;
}

/* What a dataset's messages say of its entries: the datatype's size and the fill value's (-1:
 * none), which libhdf5 copies an entry at a time out of a buffer of the fill value's size. */
typedef struct {
    int64_t type_size, fill_size;
} entry_sizes;

static const char *check_message(ref_check *c, unsigned type, unsigned mflags,
                                 const unsigned char *m, uint64_t n, const char *name,
                                 entry_sizes *es) {
    if (mflags & 2) return "a shared message (lamkit writes none)";
    switch (type) {
    case 0x01:
        return check_dataspace(m, n);
    case 0x03: { /* datatype: class and version, bit fields, size */
        unsigned cls = n >= 8 ? m[0] & 0x0f : 99;
        if (cls != 0 && cls != 1 && cls != 3 && cls != 9)
            return "a datatype lamkit never writes (not a number or a string)";
        uint64_t size = le(m + 4, 4);
        es->type_size = (int64_t)size;
        if (cls == 9 && size != 16) return "variable-length type of a size other than 16";
        /* libhdf5 leaks the layout it read when a dataset's chunk (entries x this size) passes
         * 4 GB */
        if (cls < 2 && size != 1 && size != 2 && size != 4 && size != 8)
            return "a number of a size other than 1, 2, 4 or 8 bytes";
        if (cls == 3 && (size == 0 || size > 65536)) return "a string type of an absurd size";
        return NULL;
    }
    case 0x04: /* old fill value: size (4), the value */
        if (n < 4 || le(m, 4) > n - 4) return "fill value larger than its message";
        es->fill_size = (int64_t)le(m, 4);
        return NULL;
    case 0x05: { /* fill value: version 1-2 (4 bytes, then size and value when defined or
                  * version 1), version 3 (flags; size and value when bit 5) */
        if (n < 2 || m[0] < 1 || m[0] > 3) return "fill value of an unknown version";
        int has = m[0] == 3 ? (m[1] >> 5) & 1 : n >= 4 && (m[0] == 1 || m[3]);
        uint64_t at = m[0] == 3 ? 2 : 4;
        if (has && (n < at + 4 || le(m + at, 4) > n - at - 4))
            return "fill value larger than its message";
        if (has) es->fill_size = (int64_t)le(m + at, 4);
        return NULL;
    }
    case 0x08: { /* layout, version 3: class; compact size (2) and data, contiguous address and
                  * size, chunked rank (1), address, dims (4 each) */
        if (n < 2 || m[0] != 3) return "data layout of a version lamkit never writes";
        if (m[1] == 0 && (n < 4 || le(m + 2, 2) > n - 4))
            return "compact data larger than its message";
        if (m[1] == 1 && n < 18) return "data layout larger than its message";
        if (m[1] == 2) { /* 1-D: rank 2 (the entry size is the last dimension) */
            if (n < 19 || m[2] != 2) return "chunks of a rank lamkit never writes";
            uint64_t d = le(m + 11, 4), e = le(m + 15, 4);
            if (d < 1 || d > 65536 || e < 1 || e > 16) /* libhdf5 leaks what it read on these */
                return "chunks of more than 65536 entries or 16 bytes an entry";
        }
        if (m[1] > 2) return "data layout of a class lamkit never writes";
        return NULL;
    }
    case 0x0B:
        return check_pipeline(m, n);
    case 0x0C:
        return check_attr(c, m, n, name);
    case 0x0D: /* comment: a string */
        return memchr(m, 0, (size_t)n) ? NULL : "comment not ended";
    case 0x02: /* link info, link, group info: new-style groups */
    case 0x06:
    case 0x0A:
        return "a new-style group (lamkit writes groups with symbol tables)";
    case 0x07:
        return "external data files (lamkit writes none)";
    case 0x15:
        return "attributes stored densely (lamkit writes them in the object header)";
    default:
        return NULL;
    }
}

const char *lam_h5vfd_check_header(hid_t file, haddr_t addr, const char *name, int dataset) {
    ref_check *c = ref_check_new(file);
    if (!c) return "not opened through lamkit's dataset driver, or out of memory";
    vfd_file *f = c->f;
    const char *bad = NULL;
    unsigned char pre[16], *chunk = NULL;
    uint64_t at[32], len[32];
    int n_chunks = 0, seen[3] = {0, 0, 0}; /* dataspace, datatype, layout */
    entry_sizes es = {-1, -1};
    if (addr == HADDR_UNDEF || addr > f->eof || f->eof - addr < 16 || read_at(f, addr, 16, pre)) {
        bad = "object header past the end of the file";
    } else if (pre[0] != 1) {
        bad = "object header of version 2 (lamkit writes version 1)";
    } else {
        at[0] = addr + 16, len[0] = le(pre + 8, 4), n_chunks = 1;
    }
    for (int k = 0; k < n_chunks && !bad; k++) {
        if (at[k] > f->eof || len[k] > f->eof - at[k]) {
            bad = "object header chunk past the end of the file";
            break;
        }
        unsigned char *b = realloc(chunk, len[k] ? (size_t)len[k] : 1);
        if (!b) {
            bad = "out of memory";
            break;
        }
        chunk = b;
        if (read_at(f, at[k], (size_t)len[k], b)) {
            bad = "object header unreadable";
            break;
        }
        for (uint64_t p = 0; len[k] - p >= 8 && !bad;) {
            unsigned type = (unsigned)le(chunk + p, 2);
            uint64_t size = le(chunk + p + 2, 2);
            if (size > len[k] - p - 8) {
                bad = "object header message larger than its chunk";
                break;
            }
            const unsigned char *m = chunk + p + 8;
            if (type == 0x10 && size != 16) {
                bad = "object header continuation message of another size than 16";
            } else if (type == 0x10) {
                if (n_chunks == 32)
                    bad = "object header of more than 32 chunks";
                else
                    at[n_chunks] = le(m, 8), len[n_chunks++] = le(m + 8, 8);
            } else {
                bad = check_message(c, type, chunk[p + 4], m, size, name, &es);
                seen[0] += type == 0x01, seen[1] += type == 0x03, seen[2] += type == 0x08;
            }
            p += 8 + size;
        }
    }
    /* libhdf5 leaks the filter pipeline it read when a dataset then lacks its layout */
    if (!bad && dataset && (seen[0] != 1 || seen[1] != 1 || seen[2] != 1))
        bad = "a dataset without exactly one dataspace, datatype and layout";
    if (!bad && dataset && es.fill_size > 0 && es.fill_size != es.type_size)
        bad = "a fill value of another size than the dataset's entries";
    free(chunk), ref_check_free(c);
    return bad;
}
