/*
 * train-data.c: customers' histories -> windows with targets, by
 * MODEL.md's protocols (train.h), and batches of windows. A window's
 * tokens are those of tokens_window: positions from 0, gaps within the
 * window. Reads the store only through store_history_read.
 */
#include "config.h"
#include "train-int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nn.h"
#include "store.h"
#include "util.h"

/* Customers read from the store at a time. */
#define WALK_PAGE	512

void
tset_init(struct tset *s)
{
	memset(s, 0, sizeof(*s));
}

void
tset_release(struct tset *s)
{
	free(s->s);
	free(s->tok);
	free(s->tt);
	free(s->ti);
	free(s->c0);
	free(s->c1);
	free(s->items);
	free(s->xidx);
	memset(s, 0, sizeof(*s));
}

/* Empty the set, keeping its memory. */
void
tset_clear(struct tset *s)
{
	s->n = 0;
	s->len = 0;
	s->ilen = 0;
}

size_t
tset_bytes(const struct tset *s)
{
	return s->cap * sizeof(*s->s) + s->lcap * (sizeof(*s->tok) +
	    2 * sizeof(int32_t) + 2 * sizeof(uint16_t)) +
	    s->icap * sizeof(int32_t);
}

/* Room for one more window of n tokens; returns it, zeroed. */
static struct tsample *
tset_new(struct tset *s, size_t n)
{
	struct tsample *x;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->s = xreallocarray(s->s, s->cap, sizeof(*s->s));
	}
	if (s->len + n > s->lcap) {
		while (s->len + n > s->lcap)
			s->lcap = s->lcap ? s->lcap * 2 : 16384;
		s->tok = xreallocarray(s->tok, s->lcap, sizeof(*s->tok));
		s->tt = xreallocarray(s->tt, s->lcap, sizeof(int32_t));
		s->ti = xreallocarray(s->ti, s->lcap, sizeof(int32_t));
		s->c0 = xreallocarray(s->c0, s->lcap, sizeof(uint16_t));
		s->c1 = xreallocarray(s->c1, s->lcap, sizeof(uint16_t));
	}
	if (s->len + n > UINT32_MAX)
		fatal("more than 2^32 tokens in one set of windows");
	x = &s->s[s->n++];
	memset(x, 0, sizeof(*x));
	x->off = (uint32_t)s->len;
	x->n = (int32_t)n;
	x->label = -1;
	memset(s->tt + s->len, 0, n * sizeof(int32_t));
	memset(s->ti + s->len, 0, n * sizeof(int32_t));
	memset(s->c0 + s->len, 0, n * sizeof(uint16_t));
	memset(s->c1 + s->len, 0, n * sizeof(uint16_t));
	s->len += n;
	return x;
}

/* Tokens of the n events before h[end] into x's pool. */
static void
window_tokens(struct tset *s, struct tsample *x, const struct vocab *v,
    const struct store_history *h, size_t end, size_t n)
{
	size_t i;

	if (n > s->xcap) {
		s->xcap = n;
		s->xidx = xreallocarray(s->xidx, n, sizeof(size_t));
	}
	for (i = 0; i < n; i++)
		s->xidx[i] = end - n + i;
	tokens_window(v, h->ev, s->xidx, n, s->tok + x->off);
}

/* A training sequence over h[0..end). */
int
tset_add_seq(struct tset *s, const struct vocab *v,
    const struct store_history *h, size_t end, int max_len, int64_t cust)
{
	struct tsample *x;
	size_t n, i, first;

	if (end < 2)
		return 0;
	n = end - 1 < (size_t)max_len ? end - 1 : (size_t)max_len;
	x = tset_new(s, n);
	x->kind = TS_SEQ;
	x->customer = cust;
	window_tokens(s, x, v, h, end - 1, n);
	first = end - 1 - n;
	for (i = 0; i < n; i++) {
		const struct store_hevent *nx = &h->ev[first + i + 1];

		s->tt[x->off + i] = vocab_type_index(v, nx->type);
		s->ti[x->off + i] = vocab_item_index(v, nx->item);
	}
	return 1;
}

/* A next-event window: h[0..end) in, h[end] the target. */
int
tset_add_next(struct tset *s, const struct vocab *v, const struct universe *u,
    const struct store_history *h, size_t end, int max_len,
    const int32_t *touched, size_t nt, int64_t cust)
{
	struct tsample *x;
	size_t n;

	if (end < 1 || end >= h->n)
		return 0;
	n = end < (size_t)max_len ? end : (size_t)max_len;
	x = tset_new(s, n);
	x->kind = TS_NEXT;
	x->customer = cust;
	window_tokens(s, x, v, h, end, n);
	x->next_type = vocab_type_index(v, h->ev[end].type);
	x->next_item = vocab_item_index(v, h->ev[end].item);
	x->next_raw = universe_raw(u, v, h->ev[end].item);
	if (s->ilen + nt > s->icap) {
		while (s->ilen + nt > s->icap)
			s->icap = s->icap ? s->icap * 2 : 4096;
		s->items = xreallocarray(s->items, s->icap, sizeof(int32_t));
	}
	memcpy(s->items + s->ilen, touched, nt * sizeof(int32_t));
	x->touched = (uint32_t)s->ilen;
	x->n_touched = (uint32_t)nt;
	s->ilen += nt;
	return 1;
}

/* One more churn label at token k of the pools. */
static void
churn_count(struct tset *s, size_t k, int label)
{
	uint16_t *c = label ? s->c1 : s->c0;

	if (c[k] == UINT16_MAX)
		fatal("more than %d churn labels at one position", UINT16_MAX);
	c[k]++;
}

/* A churn window at cut-off cut. */
int
tset_add_churn(struct tset *s, const struct vocab *v,
    const struct store_history *h, int64_t cut, int max_len, int label,
    int64_t cust)
{
	size_t end = hist_upto(h, cut), n;
	struct tsample *x;

	if (end == 0)
		return 0;
	n = end < (size_t)max_len ? end : (size_t)max_len;
	x = tset_new(s, n);
	x->kind = TS_CHURN;
	x->customer = cust;
	x->label = (int8_t)label;
	window_tokens(s, x, v, h, end, n);
	churn_count(s, x->off + n - 1, label);
	return 1;
}

/* The churn windows of n cut-offs, prefixes merged (train-int.h). */
int
tset_add_churns(struct tset *s, const struct vocab *v,
    const struct store_history *h, const int64_t *cut, const int8_t *label,
    int n, int max_len, int64_t cust)
{
	size_t end, longest = 0;
	struct tsample *x;
	int i, added = 0;

	for (i = 0; i < n; i++) {
		end = hist_upto(h, cut[i]);
		if (end > (size_t)max_len)
			added += tset_add_churn(s, v, h, cut[i], max_len,
			    label[i], cust);
		else if (end > longest)
			longest = end;
	}
	if (longest == 0)
		return added;
	x = tset_new(s, longest);
	x->kind = TS_CHURN;
	x->customer = cust;
	window_tokens(s, x, v, h, longest, longest);
	for (i = 0; i < n; i++) {
		end = hist_upto(h, cut[i]);
		if (end >= 1 && end <= (size_t)max_len)
			churn_count(s, x->off + end - 1, label[i]);
	}
	return added + 1;
}

/* Events at or before ts: binary search on the time order. */
size_t
hist_upto(const struct store_history *h, int64_t ts)
{
	size_t lo = 0, hi = h->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->ev[mid].ts <= ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* No event in (cut, cut + horizon]. */
int
hist_churned(const struct store_history *h, int64_t cut, int64_t horizon)
{
	size_t k = hist_upto(h, cut);

	return k == h->n || h->ev[k].ts > cut + horizon;
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* Distinct items of h[0..end) in the universe, sorted. */
size_t
hist_items(const struct universe *u, const struct vocab *v,
    const struct store_history *h, size_t end, int32_t **out, size_t *cap)
{
	size_t i, n = 0, k;

	if (end > *cap) {
		*cap = end;
		*out = xreallocarray(*out, *cap, sizeof(int32_t));
	}
	for (i = 0; i < end; i++) {
		int32_t r = universe_raw(u, v, h->ev[i].item);

		if (r >= 0)
			(*out)[n++] = r;
	}
	qsort(*out, n, sizeof(int32_t), cmp_i32);
	for (i = k = 0; i < n; i++)
		if (k == 0 || (*out)[k - 1] != (*out)[i])
			(*out)[k++] = (*out)[i];
	return k;
}

/* The vocabulary's known items as the universe. */
void
universe_vocab(struct universe *u, const struct vocab *v)
{
	int32_t r;

	memset(u, 0, sizeof(*u));
	u->n = vocab_n_items(v) - (TOK_UNK + 1);
	if (u->n < 0)
		u->n = 0;
	u->vocab = xcalloc((size_t)u->n + 1, sizeof(int32_t));
	for (r = 0; r < u->n; r++)
		u->vocab[r] = r + TOK_UNK + 1;
}

/* Every item of the store with an event, as the universe. */
int
universe_store(struct universe *u, struct store *s, const struct vocab *v,
    struct err *e)
{
	char **ids = NULL;
	size_t n = 0, i;
	int isnew;

	memset(u, 0, sizeof(*u));
	if (store_item_ids(s, 1, (size_t)INT32_MAX, &ids, &n, e) < 0)
		return -1;
	u->raw = smap_new();
	u->vocab = xcalloc(n + 1, sizeof(int32_t));
	for (i = 0; i < n; i++) {
		smap_put(u->raw, ids[i], strlen(ids[i]), (int64_t)i, &isnew);
		u->vocab[i] = vocab_item_index(v, ids[i]);
		free(ids[i]);
	}
	free(ids);
	u->n = (int32_t)n;
	return 0;
}

void
universe_release(struct universe *u)
{
	smap_free(u->raw);
	free(u->vocab);
	memset(u, 0, sizeof(*u));
}

/* The raw index of an item, -1 if none or outside. */
int32_t
universe_raw(const struct universe *u, const struct vocab *v,
    const char *item)
{
	int64_t *slot;
	int it;

	if (item == NULL || item[0] == '\0')
		return -1;
	if (u->raw == NULL) {
		it = vocab_item_index(v, item);
		return it > TOK_UNK ? it - (TOK_UNK + 1) : -1;
	}
	slot = smap_get(u->raw, item, strlen(item));
	return slot != NULL ? (int32_t)*slot : -1;
}

/* Visit customers with their histories (train-int.h). */
int
train_walk(struct store *s, int64_t after, walk_fn fn, void *ctx,
    int64_t *last, struct err *e)
{
	struct customer *page = xcalloc(WALK_PAGE, sizeof(*page));
	struct store_hreader *hr;
	struct store_history h;
	int n, i, rc = 1;

	*last = after;
	store_history_init(&h);
	if ((hr = store_hreader_new(s, 0, e)) == NULL) {
		free(page);
		return -1;
	}
	while (rc == 1 && (n = store_customers_by_id(s, *last, page, WALK_PAGE,
	    e)) != 0) {
		if (n < 0) {
			rc = -1;
			break;
		}
		for (i = 0; i < n; i++) {
			int r;

			if (store_history_read(hr, page[i].id, INT64_MAX, 0, &h,
			    e) < 0) {
				rc = -1;
				break;
			}
			*last = page[i].id;
			if ((r = fn(ctx, page[i].id, &h, e)) < 0) {
				rc = -1;
				break;
			}
			if (r == 1) {
				rc = 0;
				break;
			}
		}
	}
	store_hreader_free(hr);
	store_history_release(&h);
	free(page);
	return rc;
}

/* ---- batches ---- */

void
tbatch_init(struct tbatch *tb, int cap_b, int cap_t)
{
	size_t bt = (size_t)cap_b * cap_t;

	memset(tb, 0, sizeof(*tb));
	tb->cap_b = cap_b;
	tb->cap_t = cap_t;
	tb->tok = xcalloc(bt, sizeof(*tb->tok));
	tb->tt = xcalloc(bt, sizeof(int32_t));
	tb->ti = xcalloc(bt, sizeof(int32_t));
	tb->c0 = xcalloc(bt, sizeof(uint16_t));
	tb->c1 = xcalloc(bt, sizeof(uint16_t));
	tb->len = xcalloc((size_t)cap_b, sizeof(int));
	tb->src = xcalloc((size_t)cap_b, sizeof(*tb->src));
}

void
tbatch_release(struct tbatch *tb)
{
	free(tb->tok);
	free(tb->tt);
	free(tb->ti);
	free(tb->len);
	free(tb->c0);
	free(tb->c1);
	free(tb->src);
	memset(tb, 0, sizeof(*tb));
}

/* Gather windows, padded to the longest (padding: zero tokens). */
void
tbatch_fill(struct tbatch *tb, const struct tset *set, const uint32_t *idx,
    int n)
{
	int i, t = 1;

	assert(n >= 1 && n <= tb->cap_b);
	for (i = 0; i < n; i++)
		if (set->s[idx[i]].n > t)
			t = set->s[idx[i]].n;
	assert(t <= tb->cap_t);
	tb->b = n;
	tb->t = t;
	memset(tb->tok, 0, sizeof(*tb->tok) * (size_t)n * t);
	memset(tb->tt, 0, sizeof(int32_t) * (size_t)n * t);
	memset(tb->ti, 0, sizeof(int32_t) * (size_t)n * t);
	memset(tb->c0, 0, sizeof(uint16_t) * (size_t)n * t);
	memset(tb->c1, 0, sizeof(uint16_t) * (size_t)n * t);
	for (i = 0; i < n; i++) {
		const struct tsample *x = &set->s[idx[i]];
		size_t o = (size_t)i * t;

		memcpy(tb->tok + o, set->tok + x->off, sizeof(*tb->tok) *
		    (size_t)x->n);
		if (x->kind == TS_SEQ) {
			memcpy(tb->tt + o, set->tt + x->off, sizeof(int32_t) *
			    (size_t)x->n);
			memcpy(tb->ti + o, set->ti + x->off, sizeof(int32_t) *
			    (size_t)x->n);
		} else if (x->kind == TS_CHURN) {
			memcpy(tb->c0 + o, set->c0 + x->off, sizeof(uint16_t) *
			    (size_t)x->n);
			memcpy(tb->c1 + o, set->c1 + x->off, sizeof(uint16_t) *
			    (size_t)x->n);
		}
		tb->len[i] = x->n;
		tb->src[i] = x;
	}
}

/* Score windows in NN_LAST batches (train-int.h). */
void
train_score(const struct nn_model *m, struct nn_acts *a, struct tbatch *tb,
    const struct tset *set, const uint32_t *idx, size_t n, float *churn,
    float *type_prob, float *item_score)
{
	const int NT = m->cfg.n_types, NI = m->cfg.n_items;
	size_t k, j;
	int b;

	for (k = 0; k < n; k += (size_t)b) {
		b = n - k < (size_t)a->B ? (int)(n - k) : a->B;
		if (b > tb->cap_b)
			b = tb->cap_b;
		tbatch_fill(tb, set, idx + k, b);
		nn_forward(m, a, tb->tok, tb->len, b, tb->t, NN_LAST,
		    item_score != NULL ? NN_ITEMS : 0);
		for (j = 0; j < (size_t)b; j++) {
			if (churn != NULL)
				churn[k + j] = a->churn[j];
			if (type_prob != NULL)
				memcpy(type_prob + (k + j) * NT, a->type_prob +
				    j * NT, sizeof(float) * NT);
			if (item_score != NULL)
				memcpy(item_score + (k + j) * NI,
				    a->item_score + j * NI, sizeof(float) * NI);
		}
	}
}
