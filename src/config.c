/* config.c - presets, validation, JSON and size/FLOP counts of the model config (config.h). */
#include "lam/config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const lam_config base_defaults = {
    .vocab_size = 4096,
    .dim = 256,
    .n_layers = 4,
    .n_heads = 4,
    .n_kv_heads = 2,
    .ffn_dim = 768,
    .max_seq_len = 1024,
    .rope_theta = 10000.0f,
    .norm_eps = 1e-5f,
    .tie_embeddings = 1,
    .init_std = 0.02f,
};

lam_status lam_config_preset(const char *name, lam_config *out, lam_error *err) {
    lam_config c = base_defaults;
    if (!strcmp(name, "tiny")) {
        c.vocab_size = 2048, c.dim = 128, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2;
        c.ffn_dim = 384;
    } else if (!strcmp(name, "small")) {
        /* the defaults: about 4.2M parameters */
    } else if (!strcmp(name, "base")) {
        c.vocab_size = 8192, c.dim = 512, c.n_layers = 8, c.n_heads = 8, c.n_kv_heads = 4;
        c.ffn_dim = 1536, c.max_seq_len = 2048;
    } else {
        return lam_error_set(err, LAM_ERR_INVALID, "unknown model preset '%s' (presets: %s)", name,
                             lam_config_preset_names());
    }
    *out = c;
    return LAM_OK;
}

const char *lam_config_preset_names(void) {
    return "tiny, small, base";
}

#define BAD(field, ...)                                                                            \
    return lam_error_set(err, LAM_ERR_INVALID, "config field '" field "' " __VA_ARGS__)

lam_status lam_config_validate(const lam_config *c, lam_error *err) {
    if (c->vocab_size < 2 || c->vocab_size > (1 << 24))
        BAD("vocab_size", "is %d; it must be in [2, 16777216]", c->vocab_size);
    if (c->dim < 2 || c->dim > 65536) BAD("dim", "is %d; it must be in [2, 65536]", c->dim);
    if (c->n_layers < 1 || c->n_layers > 1024)
        BAD("n_layers", "is %d; it must be in [1, 1024]", c->n_layers);
    if (c->n_heads < 1 || c->dim % c->n_heads)
        BAD("n_heads", "is %d; it must be positive and divide dim (%d)", c->n_heads, c->dim);
    int hd = c->dim / c->n_heads;
    if (hd % 2 || hd > 1024)
        BAD("n_heads", "gives head_dim %d (dim/n_heads); it must be even and at most 1024", hd);
    if (c->n_kv_heads < 1 || c->n_heads % c->n_kv_heads)
        BAD("n_kv_heads", "is %d; it must be positive and divide n_heads (%d)", c->n_kv_heads,
            c->n_heads);
    if (c->ffn_dim < 1 || c->ffn_dim > (1 << 20))
        BAD("ffn_dim", "is %d; it must be in [1, 1048576]", c->ffn_dim);
    if (c->max_seq_len < 1 || c->max_seq_len > (1 << 20))
        BAD("max_seq_len", "is %d; it must be in [1, 1048576]", c->max_seq_len);
    if (!(c->rope_theta > 1.0f) || !isfinite(c->rope_theta))
        BAD("rope_theta", "is %g; it must be a finite number above 1", c->rope_theta);
    if (!(c->norm_eps > 0.0f) || !(c->norm_eps < 1.0f))
        BAD("norm_eps", "is %g; it must be in (0, 1)", c->norm_eps);
    if (c->tie_embeddings != 0 && c->tie_embeddings != 1)
        BAD("tie_embeddings", "is %d; it must be true or false", c->tie_embeddings);
    if (!(c->init_std > 0.0f) || !(c->init_std < 1.0f))
        BAD("init_std", "is %g; it must be in (0, 1)", c->init_std);
    return LAM_OK;
}

typedef enum { F_INT, F_FLOAT, F_BOOL } field_kind;
typedef struct {
    const char *name;
    field_kind kind;
    size_t offset;
} field_def;

#define FIELD(n, k)                                                                                \
    { #n, k, offsetof(lam_config, n) }
static const field_def fields[] = {
    FIELD(vocab_size, F_INT),      FIELD(dim, F_INT),          FIELD(n_layers, F_INT),
    FIELD(n_heads, F_INT),         FIELD(n_kv_heads, F_INT),   FIELD(ffn_dim, F_INT),
    FIELD(max_seq_len, F_INT),     FIELD(rope_theta, F_FLOAT), FIELD(norm_eps, F_FLOAT),
    FIELD(tie_embeddings, F_BOOL), FIELD(init_std, F_FLOAT),
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

lam_status lam_config_from_json(const char *text, const char *where, lam_config *out,
                                lam_error *err) {
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    if (!root)
        return lam_error_set(err, LAM_ERR_INVALID, "%s:%d:%d: %s", where, jerr.line, jerr.column,
                             jerr.text);
    lam_status st = LAM_OK;
    lam_config c = *out;
    if (!json_is_object(root)) {
        st = lam_error_set(err, LAM_ERR_INVALID, "%s: the model config must be a JSON object",
                           where);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        const field_def *f = NULL;
        for (size_t i = 0; i < N_FIELDS; i++)
            if (!strcmp(fields[i].name, key)) f = &fields[i];
        if (!f) {
            st = lam_error_set(err, LAM_ERR_INVALID, "%s: unknown config field '%s'", where, key);
            goto done;
        }
        char *dst = (char *)&c + f->offset;
        if (f->kind == F_INT) {
            if (!json_is_integer(val) || json_integer_value(val) < -(1LL << 31) ||
                json_integer_value(val) > (1LL << 31) - 1) {
                st = lam_error_set(err, LAM_ERR_INVALID, "%s: config field '%s' must be an integer",
                                   where, key);
                goto done;
            }
            *(int *)dst = (int)json_integer_value(val);
        } else if (f->kind == F_FLOAT) {
            if (!json_is_number(val)) {
                st = lam_error_set(err, LAM_ERR_INVALID, "%s: config field '%s' must be a number",
                                   where, key);
                goto done;
            }
            *(float *)dst = (float)json_number_value(val);
        } else {
            if (!json_is_boolean(val)) {
                st = lam_error_set(err, LAM_ERR_INVALID,
                                   "%s: config field '%s' must be true or false", where, key);
                goto done;
            }
            *(int *)dst = json_is_true(val);
        }
    }
    st = lam_config_validate(&c, err);
    if (st != LAM_OK) {
        lam_error_prefix(err, "%s", where);
        goto done;
    }
    *out = c;
done:
    json_decref(root);
    return st;
}

lam_status lam_config_load(const char *path, lam_config *out, lam_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return lam_error_set(err, LAM_ERR_IO, "%s: cannot open the model config", path);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (1u << 24)) {
                free(buf);
                fclose(f);
                return lam_error_set(err, LAM_ERR_INVALID, "%s: config file is over 16 MiB", path);
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return lam_error_set(err, LAM_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r < 4096) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return lam_error_set(err, LAM_ERR_IO, "%s: read error", path);
    }
    buf[n] = 0;
    if (strlen(buf) != n) {
        free(buf);
        return lam_error_set(err, LAM_ERR_INVALID, "%s: config contains a NUL byte", path);
    }
    lam_status st = lam_config_from_json(buf, path, out, err);
    free(buf);
    return st;
}

lam_status lam_config_to_json(const lam_config *c, char **out, lam_error *err) {
    json_t *o = json_object();
    if (!o) return lam_error_set(err, LAM_ERR_NOMEM, "config to JSON: out of memory");
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *src = (const char *)c + fields[i].offset;
        json_t *v = fields[i].kind == F_INT     ? json_integer(*(const int *)src)
                    : fields[i].kind == F_FLOAT ? json_real(*(const float *)src)
                                                : json_boolean(*(const int *)src);
        json_object_set_new(o, fields[i].name, v);
    }
    *out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(o);
    if (!*out) return lam_error_set(err, LAM_ERR_NOMEM, "config to JSON: out of memory");
    return LAM_OK;
}

int64_t lam_config_n_params(const lam_config *c) {
    int64_t D = c->dim, L = c->n_layers, V = c->vocab_size, F = c->ffn_dim;
    int64_t hd = lam_config_head_dim(c), H = c->n_heads;
    int64_t per_layer = D + (int64_t)lam_config_qkv_dim(c) * D + D * H * hd + D + 2 * F * D + D * F;
    return V * D + L * per_layer + D + (c->tie_embeddings ? 0 : V * D);
}

double lam_config_train_flops_per_token(const lam_config *c, int T) {
    double D = c->dim, L = c->n_layers, V = c->vocab_size, F = c->ffn_dim;
    double hd = lam_config_head_dim(c), H = c->n_heads;
    double matmul_params = L * ((double)lam_config_qkv_dim(c) * D + D * H * hd + 3 * F * D) + V * D;
    /* causal attention: QK^T and PV over (T+1)/2 keys on average, per head */
    double attn = L * 2.0 * 2.0 * H * hd * ((double)T + 1.0) / 2.0;
    return 3.0 * (2.0 * matmul_params + attn); /* forward, and backward at twice the forward */
}

lam_status lam_config_resolve(const char *spec, lam_config *out, int *is_file, lam_error *err) {
    int file = strchr(spec, '/') || strstr(spec, ".json");
    if (is_file) *is_file = file;
    if (!file) return lam_config_preset(spec, out, err);
    LAM_TRY(lam_config_preset("small", out, err)); /* fields absent from the file */
    return lam_config_load(spec, out, err);
}
