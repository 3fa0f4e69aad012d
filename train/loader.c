/* loader.c - the split's samples, their order per epoch and their packing into rows
 * (loader.h). */
#include "lam/loader.h"

#include <stdlib.h>
#include <string.h>

#include "lam/rng.h"

/* a window's sample while packing: sorted by length (longest first), ties in epoch order */
typedef struct item {
    int32_t len, pos;
    int64_t sample; /* used-sample index */
} item;

typedef struct {
    int64_t first; /* first row of the epoch in the stream */
    int64_t rows;
} epoch_span;

struct lam_loader {
    lam_h5_reader *r;
    lam_loader_opts o;
    lam_loader_stats st;
    int64_t n;        /* used samples */
    int64_t *sample;  /* (n) store index of used sample i */
    int32_t *len;     /* (n) positions it takes: tokens - 1 */
    int32_t max_tok;  /* longest used sample, tokens */
    int32_t *mem_ids; /* in memory: (sum of tokens) ids of the used samples, or NULL */
    uint8_t *mem_mask;
    int64_t *mem_off; /* (n) first token of used sample i in mem_ids */
    int32_t *ids;     /* (max_tok) scratch for a sample read from the file */
    uint8_t *msk;
    /* the packing of epoch `cur` (-1: none): row k holds used samples
     * row_samples[row_start[k] .. row_start[k+1]) */
    int64_t cur;
    int64_t n_rows;
    int64_t *row_start;   /* (n+1) */
    int64_t *row_samples; /* (n) */
    /* packing scratch */
    int64_t *order;     /* (n) the epoch's order */
    int32_t *row_fill;  /* (n) positions used per row */
    int64_t *perm;      /* (window) emission order of a window's rows */
    int32_t *rowof;     /* (window) row of each sample of a window */
    struct item *items; /* (window) */
    /* epochs whose row counts are known */
    epoch_span *epochs;
    int64_t n_epochs, cap_epochs;
};

void lam_loader_opts_default(lam_loader_opts *o) {
    memset(o, 0, sizeof *o);
    o->T = 1024;
    o->seed = 1;
    o->shuffle = 1;
    o->window = 512;
    o->max_in_memory = (int64_t)1 << 28;
}

void lam_loader_close(lam_loader *l) {
    if (!l) return;
    free(l->sample), free(l->len), free(l->mem_ids), free(l->mem_mask), free(l->mem_off);
    free(l->ids), free(l->msk), free(l->row_start), free(l->row_samples), free(l->row_fill);
    free(l->order), free(l->perm), free(l->rowof), free(l->items), free(l->epochs);
    free(l);
}

void lam_loader_get_stats(const lam_loader *l, lam_loader_stats *s) {
    *s = l->st;
}

static int in_split(const lam_h5_reader *r, int32_t episode, const char *split) {
    if (!split) return 1;
    lam_h5_episode ep;
    lam_h5_get_episode(r, episode, &ep);
    const char *s = ep.split && ep.split[0] ? ep.split : "train";
    return !strcmp(s, split);
}

static lam_status load_memory(lam_loader *l, lam_error *err) {
    int64_t total = 0;
    for (int64_t i = 0; i < l->n; i++) total += l->len[i] + 1;
    l->mem_off = malloc((size_t)l->n * sizeof *l->mem_off);
    l->mem_ids = malloc((size_t)total * sizeof *l->mem_ids);
    l->mem_mask = malloc((size_t)total);
    if (!l->mem_off || !l->mem_ids || !l->mem_mask)
        return lam_error_set(err, LAM_ERR_NOMEM, "loader: out of memory for %lld tokens",
                             (long long)total);
    int64_t at = 0, loss = 0;
    for (int64_t i = 0; i < l->n; i++) {
        int64_t n = l->len[i] + 1;
        l->mem_off[i] = at;
        LAM_TRY(lam_h5_read_sample(l->r, l->sample[i], l->mem_ids + at, l->mem_mask + at, (size_t)n,
                                   err));
        for (int64_t t = 1; t < n; t++) loss += l->mem_mask[at + t];
        at += n;
    }
    l->st.loss_tokens = loss;
    return LAM_OK;
}

lam_status lam_loader_open(lam_h5_reader *r, const char *split, const lam_loader_opts *o,
                           lam_loader **out, lam_error *err) {
    *out = NULL;
    if (o->T < 2 || o->window < 1)
        return lam_error_set(err, LAM_ERR_INVALID, "loader: T %d and window %d must be >= 2 and 1",
                             o->T, o->window);
    lam_loader *l = calloc(1, sizeof *l);
    if (!l) return lam_error_set(err, LAM_ERR_NOMEM, "loader: out of memory");
    l->r = r;
    l->o = *o;
    l->cur = -1;
    l->st.loss_tokens = -1;
    lam_h5_counts c;
    lam_h5_get_counts(r, &c);
    lam_status st = LAM_OK;
    l->sample = malloc((size_t)(c.n_samples ? c.n_samples : 1) * sizeof *l->sample);
    l->len = malloc((size_t)(c.n_samples ? c.n_samples : 1) * sizeof *l->len);
    if (!l->sample || !l->len) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "loader: out of memory");
        goto fail;
    }
    for (int64_t i = 0; i < c.n_samples; i++) {
        lam_h5_sample_info si;
        lam_h5_get_sample_info(r, i, &si);
        if (!in_split(r, si.episode, split)) continue;
        l->st.n_samples++;
        if (si.length < 2 || si.length - 1 > o->T) {
            l->st.n_too_long += si.length >= 2;
            continue;
        }
        l->sample[l->n] = i;
        l->len[l->n] = si.length - 1;
        if (si.length > l->max_tok) l->max_tok = si.length;
        l->st.tokens += si.length - 1;
        l->n++;
    }
    l->st.n_used = l->n;
    if (l->n == 0) {
        st = lam_error_set(err, LAM_ERR_INVALID,
                           "loader: split '%s' has no sample that fits rows of %d positions "
                           "(%lld samples in the split, %lld longer than %d tokens)",
                           split ? split : "(all)", o->T, (long long)l->st.n_samples,
                           (long long)l->st.n_too_long, o->T + 1);
        goto fail;
    }
    size_t n = (size_t)l->n;
    l->ids = malloc((size_t)l->max_tok * sizeof *l->ids);
    l->msk = malloc((size_t)l->max_tok);
    l->row_start = malloc((n + 1) * sizeof *l->row_start);
    l->row_samples = malloc(n * sizeof *l->row_samples);
    l->row_fill = malloc(n * sizeof *l->row_fill);
    l->order = malloc(n * sizeof *l->order);
    size_t w = (size_t)o->window;
    l->perm = malloc(w * sizeof *l->perm);
    l->rowof = malloc(w * sizeof *l->rowof);
    l->items = malloc(w * sizeof *l->items);
    if (!l->ids || !l->msk || !l->row_start || !l->row_samples || !l->row_fill || !l->order ||
        !l->perm || !l->rowof || !l->items) {
        st = lam_error_set(err, LAM_ERR_NOMEM, "loader: out of memory");
        goto fail;
    }
    if (l->st.tokens + l->n <= o->max_in_memory && (st = load_memory(l, err)) != LAM_OK) goto fail;
    int64_t rows, first;
    if ((st = lam_loader_epoch_rows(l, 0, &rows, &first, err)) != LAM_OK) goto fail;
    l->st.rows_epoch0 = rows;
    *out = l;
    return LAM_OK;
fail:
    lam_loader_close(l);
    return st;
}

/* The order of epoch e: the store order, or a Fisher-Yates shuffle drawn from (seed, e). */
static void epoch_order(lam_loader *l, int64_t e) {
    for (int64_t i = 0; i < l->n; i++) l->order[i] = i;
    if (!l->o.shuffle) return;
    for (int64_t i = l->n - 1; i > 0; i--) {
        uint32_t w[4];
        lam_philox(l->o.seed, 0x4c4f4144ull + (uint64_t)e, (uint64_t)i, w);
        uint64_t x = ((uint64_t)w[0] << 32) | w[1];
        int64_t j = (int64_t)(x % (uint64_t)(i + 1));
        int64_t t = l->order[i];
        l->order[i] = l->order[j];
        l->order[j] = t;
    }
}

static int by_len_desc(const void *a, const void *b) {
    const item *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Packs epoch e: windows of the order, each first-fit-decreasing into rows of T positions;
 * with shuffling the rows of a window are emitted in an order drawn from (seed, e). */
static void pack_epoch(lam_loader *l, int64_t e) {
    epoch_order(l, e);
    int64_t W = l->o.window, nrows = 0, ns = 0;
    l->row_start[0] = 0;
    for (int64_t w0 = 0; w0 < l->n; w0 += W) {
        int64_t k = w0 + W < l->n ? W : l->n - w0;
        item *win = l->items;
        for (int64_t i = 0; i < k; i++)
            win[i] = (item){l->len[l->order[w0 + i]], (int32_t)i, l->order[w0 + i]};
        qsort(win, (size_t)k, sizeof *win, by_len_desc);
        int32_t *fill = l->row_fill + nrows; /* the window's rows */
        int64_t nb = 0;
        for (int64_t i = 0; i < k; i++) {
            int64_t j = 0;
            while (j < nb && fill[j] + win[i].len > l->o.T) j++;
            if (j == nb) fill[nb++] = 0;
            fill[j] += win[i].len;
            l->rowof[i] = (int32_t)j;
        }
        for (int64_t q = 0; q < nb; q++) l->perm[q] = q;
        if (l->o.shuffle)
            for (int64_t q = nb - 1; q > 0; q--) {
                uint32_t w[4];
                lam_philox(l->o.seed, 0x524f5753ull + (uint64_t)e, (uint64_t)(nrows + q), w);
                int64_t j = (int64_t)((((uint64_t)w[0] << 32) | w[1]) % (uint64_t)(q + 1));
                int64_t t = l->perm[q];
                l->perm[q] = l->perm[j];
                l->perm[j] = t;
            }
        for (int64_t q = 0; q < nb; q++) {
            for (int64_t i = 0; i < k; i++)
                if (l->rowof[i] == l->perm[q]) l->row_samples[ns++] = win[i].sample;
            l->row_start[nrows + q + 1] = ns;
        }
        nrows += nb;
    }
    l->n_rows = nrows;
    l->cur = e;
}

lam_status lam_loader_epoch_rows(lam_loader *l, int64_t e, int64_t *rows, int64_t *first,
                                 lam_error *err) {
    if (e < 0) return lam_error_set(err, LAM_ERR_INVALID, "loader: epoch %lld", (long long)e);
    while (l->n_epochs <= e) {
        if (l->n_epochs == l->cap_epochs) {
            int64_t cap = l->cap_epochs ? 2 * l->cap_epochs : 16;
            epoch_span *p = realloc(l->epochs, (size_t)cap * sizeof *p);
            if (!p) return lam_error_set(err, LAM_ERR_NOMEM, "loader: out of memory");
            l->epochs = p;
            l->cap_epochs = cap;
        }
        int64_t k = l->n_epochs;
        pack_epoch(l, k);
        l->epochs[k].rows = l->n_rows;
        l->epochs[k].first = k ? l->epochs[k - 1].first + l->epochs[k - 1].rows : 0;
        l->n_epochs++;
    }
    *rows = l->epochs[e].rows;
    *first = l->epochs[e].first;
    return LAM_OK;
}

lam_status lam_loader_epoch_of(lam_loader *l, int64_t g, int64_t *epoch, lam_error *err) {
    if (g < 0) return lam_error_set(err, LAM_ERR_INVALID, "loader: row %lld", (long long)g);
    int64_t e = 0, rows = 0, first = 0;
    for (;; e++) { /* every epoch has at least one row */
        LAM_TRY(lam_loader_epoch_rows(l, e, &rows, &first, err));
        if (g < first + rows) break;
    }
    *epoch = e;
    return LAM_OK;
}

/* Used sample i's tokens and mask (len+1 of each). */
static lam_status sample_tokens(lam_loader *l, int64_t i, const int32_t **ids, const uint8_t **msk,
                                lam_error *err) {
    if (l->mem_ids) {
        *ids = l->mem_ids + l->mem_off[i];
        *msk = l->mem_mask + l->mem_off[i];
        return LAM_OK;
    }
    LAM_TRY(lam_h5_read_sample(l->r, l->sample[i], l->ids, l->msk, (size_t)l->max_tok, err));
    *ids = l->ids;
    *msk = l->msk;
    return LAM_OK;
}

lam_status lam_loader_rows(lam_loader *l, int64_t g, int n, int32_t *tokens, int32_t *targets,
                           float *mask, int32_t *seg, int64_t *n_tokens, int64_t *n_loss,
                           lam_error *err) {
    int64_t T = l->o.T, ntok = 0, nloss = 0;
    for (int k = 0; k < n; k++) {
        int64_t e = 0, rows = 0, first = 0;
        LAM_TRY(lam_loader_epoch_of(l, g + k, &e, err));
        LAM_TRY(lam_loader_epoch_rows(l, e, &rows, &first, err));
        if (l->cur != e) pack_epoch(l, e);
        int64_t row = g + k - first, pos = 0;
        int32_t *tk = tokens + k * T, *tg = targets + k * T, *sg = seg + k * T;
        float *mk = mask + k * T;
        for (int64_t q = l->row_start[row]; q < l->row_start[row + 1]; q++) {
            int64_t i = l->row_samples[q];
            const int32_t *ids;
            const uint8_t *msk;
            LAM_TRY(sample_tokens(l, i, &ids, &msk, err));
            int32_t len = l->len[i];
            for (int32_t t = 0; t < len; t++) {
                tk[pos + t] = ids[t];
                tg[pos + t] = ids[t + 1];
                mk[pos + t] = msk[t + 1] ? 1.0f : l->o.prompt_weight;
                sg[pos + t] = (int32_t)pos;
                nloss += msk[t + 1] != 0;
            }
            pos += len;
        }
        ntok += pos;
        for (int64_t t = pos; t < T; t++) { /* padding: a segment of its own, no loss */
            tk[t] = tg[t] = 0;
            mk[t] = 0.0f;
            sg[t] = (int32_t)pos;
        }
    }
    if (n_tokens) *n_tokens = ntok;
    if (n_loss) *n_loss = nloss;
    return LAM_OK;
}
