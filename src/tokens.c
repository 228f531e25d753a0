/*
 * tokens.c: vocabularies (type names and item ids <-> indices) and the
 * tokenisation of an event window (MODEL.md "Inputs"). Owns the copies of
 * the names; reads nothing but its arguments.
 */
#include "config.h"
#include "tokens.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "util.h"

struct vocab {
	char		**types;	/* n_types names, index order */
	char		**items;	/* n_items external ids */
	int		  n_types, n_items;
	struct smap	 *type_idx;	/* name -> index (2..) */
	struct smap	 *item_idx;	/* external id -> index (2..) */
};

static const char *const type_reserved[2] = { "<pad>", "<unk>" };
static const char *const item_reserved[2] = { "<none>", "<unk>" };

/* Build from complete lists; dup names are an error when e is given. */
static struct vocab *
vocab_build(const char *const *types, size_t nt, const char *const *items,
    size_t ni, int skip_reserved, struct err *e)
{
	struct vocab *v = xcalloc(1, sizeof(*v));
	size_t i, off = skip_reserved ? 0 : 2;
	int isnew;

	v->n_types = (int)(nt + off);
	v->n_items = (int)(ni + off);
	v->types = xcalloc((size_t)v->n_types, sizeof(char *));
	v->items = xcalloc((size_t)v->n_items, sizeof(char *));
	v->type_idx = smap_new();
	v->item_idx = smap_new();
	for (i = 0; i < 2; i++) {
		v->types[i] = xstrdup(type_reserved[i]);
		v->items[i] = xstrdup(item_reserved[i]);
	}
	for (i = 2; i < (size_t)v->n_types; i++) {
		const char *n = types[i - off];

		v->types[i] = xstrdup(n);
		smap_put(v->type_idx, n, strlen(n), (int64_t)i, &isnew);
		if (!isnew && e != NULL) {
			err_set(e, ERR_MODEL, "event type '%s' appears twice "
			    "in the vocabulary", n);
			vocab_free(v);
			return NULL;
		}
	}
	for (i = 2; i < (size_t)v->n_items; i++) {
		const char *n = items[i - off];

		v->items[i] = xstrdup(n);
		smap_put(v->item_idx, n, strlen(n), (int64_t)i, &isnew);
		if (!isnew && e != NULL) {
			err_set(e, ERR_MODEL, "item '%s' appears twice in the "
			    "vocabulary", n);
			vocab_free(v);
			return NULL;
		}
	}
	return v;
}

/* A vocabulary of the given types and items (reserved entries added). */
struct vocab *
vocab_new(const char *const *types, size_t nt, const char *const *items,
    size_t ni)
{
	return vocab_build(types, nt, items, ni, 0, NULL);
}

/* A vocabulary from complete lists as a model file holds them. */
struct vocab *
vocab_new_full(const char *const *types, size_t nt, const char *const *items,
    size_t ni, struct err *e)
{
	size_t i;

	if (nt < 2 || ni < 2)
		return err_set(e, ERR_MODEL, "vocabulary: %s list has %zu "
		    "entries, fewer than the 2 reserved ones",
		    nt < 2 ? "type" : "item", nt < 2 ? nt : ni), NULL;
	for (i = 0; i < 2; i++) {
		if (strcmp(types[i], type_reserved[i]) != 0)
			return err_set(e, ERR_MODEL, "vocabulary: type %zu is "
			    "'%s', want '%s'", i, types[i], type_reserved[i]),
			    NULL;
		if (strcmp(items[i], item_reserved[i]) != 0)
			return err_set(e, ERR_MODEL, "vocabulary: item %zu is "
			    "'%s', want '%s'", i, items[i], item_reserved[i]),
			    NULL;
	}
	return vocab_build(types, nt, items, ni, 1, e);
}

/* Free the names and maps; accepts NULL. */
void
vocab_free(struct vocab *v)
{
	int i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n_types; i++)
		free(v->types[i]);
	for (i = 0; i < v->n_items; i++)
		free(v->items[i]);
	free(v->types);
	free(v->items);
	smap_free(v->type_idx);
	smap_free(v->item_idx);
	free(v);
}

/* Number of types, reserved included. */
int
vocab_n_types(const struct vocab *v)
{
	return v->n_types;
}

/* Number of items, reserved included. */
int
vocab_n_items(const struct vocab *v)
{
	return v->n_items;
}

/* Type name at index i. */
const char *
vocab_type(const struct vocab *v, int i)
{
	return v->types[i];
}

/* Item external id at index i. */
const char *
vocab_item(const struct vocab *v, int i)
{
	return v->items[i];
}

/* Index of a type name, TOK_UNK when unknown. */
int
vocab_type_index(const struct vocab *v, const char *name)
{
	int64_t *p = smap_get(v->type_idx, name, strlen(name));

	return p ? (int)*p : TOK_UNK;
}

/* Index of an item, TOK_PAD (no item) for NULL, TOK_UNK when unknown. */
int
vocab_item_index(const struct vocab *v, const char *ext)
{
	int64_t *p;

	if (ext == NULL)
		return TOK_PAD;
	p = smap_get(v->item_idx, ext, strlen(ext));
	return p ? (int)*p : TOK_UNK;
}

/* min(31, 1 + floor(log2(1 + dt))), exact in integers. */
int
tokens_gap(int64_t dt)
{
	uint64_t x;
	int lg = 0;

	if (dt < 0)
		dt = 0;
	x = (uint64_t)dt + 1;
	while (x >>= 1)
		lg++;
	return lg + 1 < TOK_NGAP - 1 ? lg + 1 : TOK_NGAP - 1;
}

/* 0 when missing or 0, else min(15, 1 + floor(log2(1 + |a|))). */
int
tokens_amount(double a)
{
	int ex;

	if (isnan(a) || a == 0)
		return 0;
	a = fabs(a);
	if (isinf(a) || a >= 65536.0)
		return TOK_NAMOUNT - 1;
	/* 1 + a = m * 2^ex with m in [0.5, 1): floor(log2(1 + a)) = ex - 1 */
	(void)frexp(1.0 + a, &ex);
	return ex < TOK_NAMOUNT - 1 ? ex : TOK_NAMOUNT - 1;
}

/* The latest max_len unmasked events, oldest first. */
size_t
tokens_select(size_t n, const unsigned char *mask, size_t max_len,
    size_t *idx)
{
	size_t i = n, k = 0, j;

	while (i > 0 && k < max_len) {
		i--;
		if (mask == NULL || !mask[i])
			idx[k++] = i;
	}
	for (j = 0; j < k / 2; j++) {
		size_t t = idx[j];

		idx[j] = idx[k - 1 - j];
		idx[k - 1 - j] = t;
	}
	return k;
}

/* Tokens of the window ev[idx[0..n)]. */
void
tokens_window(const struct vocab *v, const struct store_hevent *ev,
    const size_t *idx, size_t n, struct tok *out)
{
	size_t k;

	for (k = 0; k < n; k++) {
		const struct store_hevent *x = &ev[idx[k]];

		out[k].type = vocab_type_index(v, x->type);
		out[k].item = vocab_item_index(v, x->item);
		out[k].gap = k == 0 ? 0 : tokens_gap(x->ts - ev[idx[k - 1]].ts);
		out[k].amount = tokens_amount(x->amount);
		out[k].pos = (int32_t)k;
	}
}
