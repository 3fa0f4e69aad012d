/* fuzz_h5store.c - libFuzzer target for the dataset reader (h5store.h): any bytes, opened as a
 * dataset from memory by lam_h5_open_image, must give either an error status with a message or
 * a reader whose every table keeps the layout's invariants (step offsets span the steps,
 * sources and splits in range, split counts add up, every sample inside the token array and
 * naming a step of its episode) and whose every sample reads with ids in range and a 0/1 mask,
 * or fails to read with a message. Never a crash, a leak or undefined behaviour. Findings inside
 * libhdf5 itself are sorted by tests/fuzz/triage.py against tests/fuzz/h5store.known. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "lam/h5store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP (1 << 16) /* tokens a sample buffer holds; longer samples must be refused */

static int32_t ids[CAP];
static uint8_t mask[CAP];

static void check_str(const char *s) {
    if (!s) abort();
    (void)strlen(s); /* NUL-terminated, inside memory the reader owns (ASan) */
}

static void check_reader(lam_h5_reader *r) {
    lam_h5_counts c;
    lam_h5_params p;
    lam_h5_get_counts(r, &c);
    lam_h5_get_params(r, &p);
    if (c.n_episodes < 0 || c.n_steps < 0 || c.n_samples < 0 || c.n_tokens < 0 || c.n_sources < 0 ||
        c.n_splits < 0 || c.schema_version != LAM_H5_SCHEMA_VERSION)
        abort();
    size_t jlen;
    const char *json = lam_h5_tokenizer_json(r, &jlen);
    if (!json || jlen == 0 || json[jlen] != 0 || strlen(json) != jlen) abort();
    for (int32_t i = 0; i < c.n_sources; i++) {
        const char *name, *sha;
        lam_h5_get_source(r, i, &name, &sha);
        check_str(name), check_str(sha);
    }
    int64_t sum_e = 0, sum_s = 0;
    for (int32_t i = 0; i < c.n_splits; i++) {
        const char *name;
        int64_t ne, ns;
        lam_h5_get_split(r, i, &name, &ne, &ns);
        check_str(name);
        if (ne < 0 || ns < 0) abort();
        sum_e += ne, sum_s += ns;
    }
    if (sum_e != c.n_episodes || sum_s != c.n_samples) abort();
    int64_t step = 0;
    for (int64_t e = 0; e < c.n_episodes; e++) {
        lam_h5_episode ep;
        lam_h5_get_episode(r, e, &ep);
        check_str(ep.id), check_str(ep.task), check_str(ep.app), check_str(ep.domain);
        check_str(ep.template_id), check_str(ep.split);
        if (ep.n_steps < 0 || ep.source < 0 || ep.source >= c.n_sources) abort();
        if (lam_h5_episode_first_step(r, e) != step) abort();
        step += ep.n_steps;
        if (step > c.n_steps) abort();
    }
    if (step != c.n_steps) abort();
    for (int64_t s = 0; s < c.n_steps; s++) check_str(lam_h5_step_action(r, s));
    for (int64_t i = 0; i < c.n_samples; i++) {
        lam_h5_sample_info info;
        lam_h5_get_sample_info(r, i, &info);
        if (info.offset < 0 || info.length <= 0 || info.offset > c.n_tokens - info.length ||
            info.episode < 0 || info.episode >= c.n_episodes)
            abort();
        lam_h5_episode ep;
        lam_h5_get_episode(r, info.episode, &ep);
        if (info.step < 0 || info.step >= ep.n_steps) abort();
        lam_error err = {0};
        size_t n = (size_t)info.length;
        if (n > CAP) { /* refused, not overrun */
            if (lam_h5_read_sample(r, i, ids, mask, CAP, &err) != LAM_ERR_INVALID) abort();
            continue;
        }
        memset(ids, 0xa5, n * sizeof *ids), memset(mask, 0xa5, n);
        if (lam_h5_read_sample(r, i, ids, mask, n - 1, &err) != LAM_ERR_INVALID) abort();
        lam_status st = lam_h5_read_sample(r, i, ids, mask, n, &err);
        if (st != LAM_OK) { /* a damaged chunk, an id or mask value out of range */
            if (err.msg[0] == 0 || (st != LAM_ERR_INVALID && st != LAM_ERR_IO)) abort();
            continue;
        }
        for (size_t k = 0; k < n; k++)
            if (ids[k] < 0 || ids[k] >= (1 << 24) || mask[k] > 1) abort();
    }
    lam_error err = {0};
    if (lam_h5_read_sample(r, -1, ids, mask, CAP, &err) != LAM_ERR_INVALID ||
        lam_h5_read_sample(r, c.n_samples, ids, mask, CAP, &err) != LAM_ERR_INVALID)
        abort();
}

static int verbose = -1; /* LAM_FUZZ_VERBOSE set: print why an input is refused */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lam_h5_reader *r = (lam_h5_reader *)&r; /* poisoned: must come back NULL on failure */
    lam_error err = {0};
    if (verbose < 0) {
        verbose = getenv("LAM_FUZZ_VERBOSE") != NULL;
        /* LAM_FUZZ_NO_FREELISTS (set by triage.py when it replays a finding): no HDF5 free
         * lists, a block goes back to malloc when freed, so that a leak report names where the
         * block was allocated and not where HDF5 recycled it, and a use after free is seen.
         * Fuzzing keeps them: without, libhdf5 runs 8 times slower. */
        if (getenv("LAM_FUZZ_NO_FREELISTS")) H5set_free_list_limits(0, 0, 0, 0, 0, 0);
    }
    lam_status st = lam_h5_open_image(data, size, "fuzz.h5", &r, &err);
    if (st != LAM_OK) {
        if (verbose) fprintf(stderr, "refused: %s\n", err.msg);
        if (r || err.msg[0] == 0 || err.code != st) abort();
        /* the reader's own allocations are bounded by the input's size (at most 1032 bytes a
         * byte): running out of memory on a fuzz input is a bug (HDF5's failures are LAM_ERR_IO) */
        if (st == LAM_ERR_NOMEM) abort();
        return 0;
    }
    if (!r) abort();
    check_reader(r);
    lam_h5_close(r);
    return 0;
}
