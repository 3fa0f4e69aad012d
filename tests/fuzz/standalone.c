/* standalone.c - runs a libFuzzer target without libFuzzer (for CI with gcc): every file of
 * the corpus directories as is, then N deterministic mutations of each (byte flips, inserts,
 * deletes, splices of two inputs). Usage: fuzz_X [-n N] DIR... With LAM_FUZZ_LAST=FILE in the
 * environment each input is written to FILE before it runs: after a crash FILE holds it. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam/rng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    uint8_t *data;
    size_t size;
} input;

static int read_file(const char *path, input *in) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    in->data = malloc(n > 0 ? (size_t)n : 1);
    in->size = n > 0 && fread(in->data, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
    fclose(f);
    return 1;
}

static void run(const uint8_t *data, size_t size) {
    static const char *last;
    static int init;
    if (!init) last = getenv("LAM_FUZZ_LAST"), init = 1;
    if (last) {
        FILE *f = fopen(last, "wb");
        if (f) fwrite(data, 1, size, f), fclose(f);
    }
    LLVMFuzzerTestOneInput(data, size);
}

int main(int argc, char **argv) {
    long n_mut = 2000;
    input ins[256];
    int n_in = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "-n") && a + 1 < argc) {
            n_mut = atol(argv[++a]);
            continue;
        }
        DIR *d = opendir(argv[a]);
        if (!d) {
            fprintf(stderr, "cannot open corpus directory %s\n", argv[a]);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d)) && n_in < 256) {
            if (e->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
            if (read_file(path, &ins[n_in])) n_in++;
        }
        closedir(d);
    }
    if (n_in == 0) {
        fprintf(stderr, "no corpus inputs\n");
        return 1;
    }
    long runs = 0;
    for (int i = 0; i < n_in; i++, runs++) run(ins[i].data, ins[i].size);
    uint8_t *buf = malloc(1 << 16);
    for (long k = 0; k < n_mut; k++) {
        const input *s = &ins[k % n_in], *o = &ins[(k / n_in + k) % n_in];
        uint32_t r[4];
        lam_philox(2024, 0, (uint64_t)k, r);
        size_t n = s->size < (1 << 15) ? s->size : (1 << 15);
        memcpy(buf, s->data, n);
        int edits = 1 + r[0] % 8;
        for (int e = 0; e < edits; e++) {
            lam_philox(2024, 1 + (uint64_t)e, (uint64_t)k, r);
            size_t at = n ? r[1] % n : 0;
            switch (r[2] % 4) {
            case 0:
                if (n) buf[at] ^= (uint8_t)(1u << (r[3] % 8));
                break;
            case 1:
                if (n) buf[at] = (uint8_t)r[3];
                break;
            case 2:
                if (n) memmove(buf + at, buf + at + 1, n - at - 1), n--;
                break;
            case 3: { /* splice a piece of another input */
                size_t len = o->size ? 1 + r[3] % (o->size < 16 ? o->size : 16) : 0;
                if (n + len < (1 << 16)) {
                    memmove(buf + at + len, buf + at, n - at);
                    memcpy(buf + at, o->data + (o->size ? r[3] % o->size : 0) % (o->size - len + 1),
                           len);
                    n += len;
                }
            }
            }
        }
        run(buf, n);
        runs++;
    }
    printf("%ld inputs ran without a crash (%d corpus files, %ld mutations)\n", runs, n_in, n_mut);
    free(buf);
    for (int i = 0; i < n_in; i++) free(ins[i].data);
    return 0;
}
