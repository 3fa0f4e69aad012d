/* fuzz_checkpoint.c - libFuzzer target for the checkpoint reader (checkpoint.h): any bytes,
 * read as a checkpoint from memory by lam_ckpt_read_image, must give either an error status
 * with a message and nothing allocated, or a checkpoint whose config validates, whose parameter
 * count is the config's, whose texts are NUL-terminated and whose moments come in pairs. Never a
 * crash, a leak or undefined behaviour. Findings inside libhdf5 itself are sorted by
 * tests/fuzz/triage.py against tests/fuzz/checkpoint.known. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lam/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lam_error err = {0};
    lam_ckpt c;
    for (int opt = 0; opt < 2; opt++) {
        lam_status st = lam_ckpt_read_image(data, size, "fuzz.h5", opt, &c, &err);
        if (st != LAM_OK) {
            /* a failure says why and leaves nothing behind; an input this small never needs
             * more memory than there is */
            if (!err.msg[0] || c.params || c.tokenizer_json || st == LAM_ERR_NOMEM) abort();
            continue;
        }
        if (lam_config_validate(&c.cfg, NULL) != LAM_OK) abort();
        if (c.n_params != lam_config_n_params(&c.cfg) || !c.params) abort();
        if (!c.tokenizer_json || !c.train_json) abort();
        (void)strlen(c.tokenizer_json), (void)strlen(c.train_json);
        if ((c.adam_m == NULL) != (c.adam_v == NULL) || (!opt && c.adam_m)) abort();
        volatile float sink = c.params[c.n_params - 1]; /* inside its allocation (ASan) */
        if (c.adam_m) sink += c.adam_m[c.n_params - 1] + c.adam_v[c.n_params - 1];
        (void)sink;
        lam_ckpt_free(&c);
    }
    return 0;
}
