/* config.h - owns the model configuration: its fields, the named presets, validation with
 * an error per bad field, and JSON (de)serialization. The parameter layout derived from it
 * is in model.h; docs/model.md documents both. */
#ifndef LAM_CONFIG_H
#define LAM_CONFIG_H

#include <stdint.h>
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int vocab_size;     /* V */
    int dim;            /* D */
    int n_layers;       /* L */
    int n_heads;        /* H; head_dim = D / H, must be even */
    int n_kv_heads;     /* KV; divides H */
    int ffn_dim;        /* F, SwiGLU hidden size */
    int max_seq_len;    /* longest T a model is planned for */
    float rope_theta;   /* RoPE base */
    float norm_eps;     /* RMSNorm epsilon */
    int tie_embeddings; /* LM head shares the token embedding */
    float init_std;     /* std of the normal init of matrices and embeddings */
} lam_config;

static inline int lam_config_head_dim(const lam_config *c) {
    return c->dim / c->n_heads;
}
/* Width of the packed q,k,v projection: (H + 2*KV) * head_dim. */
static inline int lam_config_qkv_dim(const lam_config *c) {
    return (c->n_heads + 2 * c->n_kv_heads) * lam_config_head_dim(c);
}

/* Names: "tiny", "small" (about 4M parameters), "base" (about 30M). */
lam_status lam_config_preset(const char *name, lam_config *out, lam_error *err);
const char *lam_config_preset_names(void);
lam_status lam_config_validate(const lam_config *c, lam_error *err);
/* Parses a JSON object; fields missing from it keep the values already in *out (so a file
 * can override a preset); unknown fields and bad values are errors naming the field.
 * `where` names the source in messages ("model.json"). */
lam_status lam_config_from_json(const char *text, const char *where, lam_config *out,
                                lam_error *err);
lam_status lam_config_load(const char *path, lam_config *out, lam_error *err);
/* A preset name ("small") or a config file (a path with '/' or ending in .json: fields it
 * leaves out keep the small preset's values). *is_file (may be NULL) says which it was. */
lam_status lam_config_resolve(const char *spec, lam_config *out, int *is_file, lam_error *err);
/* Writes the JSON text of c into a malloc'd string (caller frees). */
lam_status lam_config_to_json(const lam_config *c, char **out, lam_error *err);
int64_t lam_config_n_params(const lam_config *c);
/* FLOPs of one training step (forward + backward) per token at sequence length T, counting
 * matmuls and attention products (2 per multiply-add), causal attention counted in full
 * lower triangle. */
double lam_config_train_flops_per_token(const lam_config *c, int T);

#ifdef __cplusplus
}
#endif

#endif
