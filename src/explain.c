/*
 * explain.c: one inference report (MODEL.md "explain --json"). Reads a
 * customer's history, cuts the window as of a time with the requested
 * events left out, runs the model once for the prediction and the
 * attention, and for --occlusion once more per event and per masked set,
 * in batches. A masked event is removed from the history before the
 * window is cut, so every variant is the window of a customer who never
 * had that event. Owns its buffers; never prints.
 */
#include "config.h"
#include "explain.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nn.h"
#include "store.h"
#include "tparse.h"
#include "util.h"

/* Windows per forward pass of the occlusion variants. */
#define EXPLAIN_BATCH	16

struct explain {
	struct store		*s;
	const struct nn_model	*m;
	struct store_hreader	*hr;
	struct store_history	 h;
	struct nn_acts		*a;
	char			 ext[128];
	unsigned char		*mask;		/* (h.n) 1: left out */
	size_t			 mask_cap;
	size_t			 n_masked;	/* distinct events dropped */
	size_t			 n_win;		/* the last report's window */
	size_t			*idx;		/* (max_len) the window */
	size_t			*vidx;		/* (max_len) a variant's window */
	struct tok		*tok;		/* (EXPLAIN_BATCH, max_len) */
	struct tok		*win;		/* (max_len) the window's tokens */
	struct store_hevent	*wev;		/* (max_len) the window's events */
	int64_t			*dropped;
	size_t			 dropped_cap;
	float			*type_prob;	/* (n_types) */
	struct explain_rank	*types;		/* (n_types) */
	struct explain_rank	*items;		/* (n_items) */
	int			*rank;		/* (max(n_types, n_items)) */
	float			*per_head;	/* (L, H, max_len) */
	float			*mean, *rollout, *occl;	/* (max_len) */
	float			*hidden;	/* (C) */
	size_t			*sets;		/* occlusion and faithfulness */
	float			*vchurn;
};

/* Defaults. */
void
explain_opts_init(struct explain_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->at = INT64_MAX;
	o->top_types = EXPLAIN_TOP_TYPES;
	o->top_items = EXPLAIN_TOP_ITEMS;
	o->random_sets = EXPLAIN_RANDOM_SETS;
	o->seed = EXPLAIN_SEED;
}

/* A model from the store, checked by the file reader. */
struct nn_model *
explain_load_model(struct store *s, const char *name, struct store_model *row,
    struct err *e)
{
	struct store_model mr;
	struct nn_model *m;
	void *file = NULL;
	size_t len = 0;
	int rc;

	memset(&mr, 0, sizeof(mr));
	if ((rc = store_model_get(s, name, &mr, &file, &len, e)) < 0)
		return NULL;
	if (rc == 0) {
		if (name != NULL)
			err_set(e, ERR_NOTFOUND, "%s: no model called '%s' "
			    "(journeyscope model list)", store_path(s), name);
		else
			err_set(e, ERR_NOTFOUND, "%s: no model yet "
			    "(journeyscope train, or model init)",
			    store_path(s));
		return NULL;
	}
	m = nn_model_read_mem(file, len, mr.name, e);
	free(file);
	if (m == NULL || row == NULL)
		store_model_release(&mr);
	else
		*row = mr;
	return m;
}

/* A handle over store s and model m. */
struct explain *
explain_new(struct store *s, const struct nn_model *m, struct err *e)
{
	const struct nn_config *c = &m->cfg;
	const size_t T = (size_t)c->max_len;
	size_t nr = (size_t)(c->n_types > c->n_items ? c->n_types :
	    c->n_items);
	struct explain *x = xcalloc(1, sizeof(*x));

	x->s = s;
	x->m = m;
	store_history_init(&x->h);
	if ((x->hr = store_hreader_new(s, STORE_HIST_TEXT | STORE_HIST_ATTRS, e)) == NULL ||
	    (x->a = nn_acts_new(c, EXPLAIN_BATCH, c->max_len, NN_ITEMS,
	    e)) == NULL) {
		explain_free(x);
		return NULL;
	}
	x->idx = xcalloc(T, sizeof(*x->idx));
	x->vidx = xcalloc(T, sizeof(*x->vidx));
	x->tok = xcalloc(EXPLAIN_BATCH * T, sizeof(*x->tok));
	x->win = xcalloc(T, sizeof(*x->win));
	x->wev = xcalloc(T, sizeof(*x->wev));
	x->type_prob = xcalloc((size_t)c->n_types, sizeof(float));
	x->types = xcalloc((size_t)c->n_types, sizeof(*x->types));
	x->items = xcalloc((size_t)c->n_items, sizeof(*x->items));
	x->rank = xcalloc(nr, sizeof(int));
	x->per_head = xcalloc((size_t)c->L * c->H * T, sizeof(float));
	x->mean = xcalloc(T, sizeof(float));
	x->rollout = xcalloc(T, sizeof(float));
	x->occl = xcalloc(T, sizeof(float));
	x->hidden = xcalloc((size_t)c->C, sizeof(float));
	return x;
}

/* Free; accepts NULL. */
void
explain_free(struct explain *x)
{
	if (x == NULL)
		return;
	store_hreader_free(x->hr);
	store_history_release(&x->h);
	nn_acts_free(x->a);
	free(x->mask);
	free(x->idx);
	free(x->vidx);
	free(x->tok);
	free(x->win);
	free(x->wev);
	free(x->dropped);
	free(x->type_prob);
	free(x->types);
	free(x->items);
	free(x->rank);
	free(x->per_head);
	free(x->mean);
	free(x->rollout);
	free(x->occl);
	free(x->hidden);
	free(x->sets);
	free(x->vchurn);
	free(x);
}

/*
 * Churn probability (and, when probs is not NULL, the next-type
 * distribution, NT each) of n_sets variants of the history: variant k
 * leaves out, on top of the base mask, history indices
 * sets[off[k] .. off[k + 1]). A variant with nothing left gets NAN.
 */
static void
variants(struct explain *x, const size_t *sets, const size_t *off,
    size_t n_sets, float *out, float *probs)
{
	const int T = x->m->cfg.max_len, NT = x->m->cfg.n_types;
	int len[EXPLAIN_BATCH], slot[EXPLAIN_BATCH];
	size_t k0, k, j;
	int b, t, i;

	for (k0 = 0; k0 < n_sets; k0 += EXPLAIN_BATCH) {
		b = 0;
		t = 1;
		for (k = k0; k < n_sets && k < k0 + EXPLAIN_BATCH; k++) {
			size_t n;

			for (j = off[k]; j < off[k + 1]; j++)
				x->mask[sets[j]]++;
			n = tokens_select(x->h.n, x->mask, (size_t)T, x->vidx);
			if (n > 0)
				tokens_window(x->m->vocab, x->h.ev, x->vidx, n,
				    x->tok + (size_t)b * T);
			for (j = off[k]; j < off[k + 1]; j++)
				x->mask[sets[j]]--;
			out[k] = NAN;
			if (probs != NULL)
				for (i = 0; i < NT; i++)
					probs[k * NT + i] = NAN;
			if (n == 0)
				continue;
			len[b] = (int)n;
			slot[b++] = (int)(k - k0);
			if ((int)n > t)
				t = (int)n;
		}
		if (b == 0)
			continue;
		/* repack from stride T to stride t, in order (t <= T) */
		for (i = 1; i < b; i++)
			memmove(x->tok + (size_t)i * t, x->tok + (size_t)i * T,
			    sizeof(*x->tok) * (size_t)len[i]);
		nn_forward(x->m, x->a, x->tok, len, b, t, NN_LAST, 0);
		for (i = 0; i < b; i++) {
			out[k0 + (size_t)slot[i]] = x->a->churn[i];
			if (probs != NULL)
				memcpy(probs + (k0 + (size_t)slot[i]) * NT,
				    x->a->type_prob + (size_t)i * NT,
				    sizeof(float) * NT);
		}
	}
}

/* Fixed-size sets: offsets 0, size, 2 size, ... */
static void
churn_variants(struct explain *x, const size_t *sets, size_t set_size,
    size_t n_sets, float *out)
{
	size_t *off = xcalloc(n_sets + 1, sizeof(size_t)), k;

	for (k = 0; k <= n_sets; k++)
		off[k] = k * set_size;
	variants(x, sets, off, n_sets, out, NULL);
	free(off);
}

/* Variants of the last report by window positions (see explain.h). */
int
explain_drop_window(struct explain *x, const int *pos, const size_t *off,
    size_t n_sets, float *churn, float *type_prob, struct err *e)
{
	size_t *h = xcalloc(off[n_sets] + 1, sizeof(size_t)), j;

	for (j = 0; j < off[n_sets]; j++) {
		if (pos[j] < 0 || (size_t)pos[j] >= x->n_win) {
			free(h);
			return err_set(e, ERR_USAGE, "explain_drop_window: "
			    "position %d outside the window of %zu", pos[j],
			    x->n_win);
		}
		h[j] = x->idx[pos[j]];
	}
	variants(x, h, off, n_sets, churn, type_prob);
	free(h);
	return 0;
}

/* Ranked entries of v[from..n): the k largest, largest first. */
static int
rank_top(const float *v, int n, int from, int k, int *tmp,
    struct explain_rank *out)
{
	int got = nn_topk(v, n, from, k, tmp), i;

	for (i = 0; i < got; i++) {
		out[i].index = tmp[i];
		out[i].value = v[tmp[i]];
	}
	return got;
}

/* Mark the requested drops in the mask; ERR_NOTFOUND for a stranger. */
static int
mark_drops(struct explain *x, const struct explain_opts *o, struct err *e)
{
	size_t i, j;

	if (x->h.n + 1 > x->mask_cap) {
		free(x->mask);
		x->mask_cap = x->h.n + 1;
		x->mask = xmalloc(x->mask_cap);
	}
	memset(x->mask, 0, x->h.n);
	x->n_masked = 0;
	if (o->n_drop > x->dropped_cap) {
		free(x->dropped);
		x->dropped_cap = o->n_drop;
		x->dropped = xcalloc(o->n_drop, sizeof(*x->dropped));
	}
	for (i = 0; i < o->n_drop; i++) {
		/* histories are in (ts, id) order, not id order: scan */
		for (j = 0; j < x->h.n; j++)
			if (x->h.ev[j].id == o->drop[i])
				break;
		if (j == x->h.n)
			return err_set(e, ERR_NOTFOUND, "--drop: event %lld is "
			    "not one of customer %s's events%s",
			    (long long)o->drop[i], x->ext, o->at == INT64_MAX ?
			    "" : " at or before --at");
		x->n_masked += !x->mask[j];	/* an id given twice counts once */
		x->mask[j] = 1;
		x->dropped[i] = o->drop[i];
	}
	return 0;
}

/*
 * --occlusion: every window event masked alone, then the faithfulness
 * sets: the 3 most attended (rollout), the last 3, and random sets of 3
 * drawn from the window with a seeded generator.
 */
static void
occlude(struct explain *x, const struct explain_opts *o, size_t n,
    float base, struct explain_report *r)
{
	const size_t nsets = n + 2 + (size_t)o->random_sets;
	size_t k, j, *set;
	struct nn_rng rng;
	int top[3];
	double sum = 0;
	int cnt = 0;

	free(x->sets);
	free(x->vchurn);
	x->sets = xcalloc(n + 3 * (nsets - n), sizeof(size_t));
	x->vchurn = xcalloc(nsets, sizeof(float));
	for (j = 0; j < n; j++)
		x->sets[j] = x->idx[j];
	churn_variants(x, x->sets, 1, n, x->vchurn);
	for (j = 0; j < n; j++)
		x->occl[j] = isnan(x->vchurn[j]) ? NAN : x->vchurn[j] - base;
	r->has_occlusion = 1;
	r->occlusion = x->occl;
	r->has_faithfulness = 0;
	/* sets of 3 need 3 events in the window and one left over */
	if (n < 3 || x->h.n - x->n_masked <= 3)
		return;
	set = x->sets;
	nn_topk(x->rollout, (int)n, 0, 3, top);
	for (j = 0; j < 3; j++) {
		set[j] = x->idx[top[j]];
		set[3 + j] = x->idx[n - 3 + j];
	}
	nn_rng_seed(&rng, o->seed ^ (uint64_t)r->customer_id *
	    0x9e3779b97f4a7c15ULL);
	for (k = 0; k < (size_t)o->random_sets; k++) {
		size_t *s3 = set + 6 + 3 * k, a, c;

		/* three distinct window positions */
		for (j = 0; j < 3; j++) {
			do {
				a = (size_t)(nn_rng_u64(&rng) % n);
				for (c = 0; c < j; c++)
					if (s3[c] == x->idx[a])
						break;
			} while (c < j);
			s3[j] = x->idx[a];
		}
	}
	churn_variants(x, set, 3, 2 + (size_t)o->random_sets, x->vchurn);
	r->faith_top3 = x->vchurn[0] - base;
	r->faith_last3 = x->vchurn[1] - base;
	for (k = 0; k < (size_t)o->random_sets; k++)
		if (!isnan(x->vchurn[2 + k])) {
			sum += x->vchurn[2 + k] - base;
			cnt++;
		}
	r->faith_random3 = cnt > 0 ? sum / cnt : NAN;
	r->has_faithfulness = 1;
}

/* Explain one customer (see explain.h). */
int
explain_run(struct explain *x, const char *ext, const struct explain_opts *o,
    struct explain_report *r, struct err *e)
{
	struct customer cu;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = store_customer_get(x->s, ext, &cu, e)) < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no customer %s in the store",
		    ext);
	return explain_customer(x, &cu, o, r, e);
}

/* The same for a customer already looked up (its id and external id). */
int
explain_customer(struct explain *x, const struct customer *cu,
    const struct explain_opts *o, struct explain_report *r, struct err *e)
{
	const struct nn_config *c = &x->m->cfg;
	size_t n, j;
	int len;

	memset(r, 0, sizeof(*r));
	snprintf(x->ext, sizeof(x->ext), "%s", cu->ext_id);
	if (store_history_read(x->hr, cu->id, o->at, 0, &x->h, e) < 0)
		return -1;
	if (mark_drops(x, o, e) < 0)
		return -1;
	n = tokens_select(x->h.n, x->mask, (size_t)c->max_len, x->idx);
	if (n == 0)
		return err_set(e, ERR_USAGE, "customer %s has no events%s to "
		    "score", x->ext, o->n_drop > 0 ? " left" : o->at ==
		    INT64_MAX ? "" : " at or before --at");
	tokens_window(x->m->vocab, x->h.ev, x->idx, n, x->win);
	x->n_win = n;
	for (j = 0; j < n; j++)
		x->wev[j] = x->h.ev[x->idx[j]];
	len = (int)n;
	nn_forward(x->m, x->a, x->win, &len, 1, len, NN_LAST, NN_ITEMS);

	r->customer_id = cu->id;
	r->customer = x->ext;
	r->at = o->at;
	r->n_history = x->h.n;
	r->n = n;
	r->ev = x->wev;
	r->tok = x->win;
	r->dropped = x->dropped;
	r->n_dropped = o->n_drop;
	r->churn = x->a->churn[0];
	memcpy(x->type_prob, x->a->type_prob, sizeof(float) * c->n_types);
	r->type_prob = x->type_prob;
	r->n_next_types = rank_top(x->type_prob, c->n_types, TOK_UNK + 1,
	    o->top_types, x->rank, x->types);
	r->next_types = x->types;
	r->n_next_items = rank_top(x->a->item_score, c->n_items, TOK_UNK + 1,
	    o->top_items, x->rank, x->items);
	r->next_items = x->items;
	nn_attention_per_head(x->m, x->a, 0, x->per_head);
	nn_attention_mean(x->m, x->a, 0, x->mean);
	nn_attention_rollout(x->m, x->a, 0, x->rollout);
	memcpy(x->hidden, x->a->z, sizeof(float) * c->C);
	r->per_head = x->per_head;
	r->mean = x->mean;
	r->rollout = x->rollout;
	r->hidden = x->hidden;
	if (o->occlusion)
		occlude(x, o, n, r->churn, r);
	return 0;
}

/* ---- JSON ---- */

/* A float as the shortest decimal that reads back as the same float. */
static cJSON *
num(double v)
{
	char s[32];
	float f = (float)v;
	int prec = 6;

	if (!isfinite(v))
		return cJSON_CreateNull();
	do
		snprintf(s, sizeof(s), "%.*g", prec, (double)f);
	while (strtof(s, NULL) != f && ++prec <= 9);
	return cJSON_CreateNumber(strtod(s, NULL));
}

/* An array of n floats. */
static cJSON *
num_array(const float *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, num(v[i]));
	return a;
}

/* A string or null. */
static cJSON *
str_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* One event of the window. */
static cJSON *
event_json(const struct store_hevent *ev, const struct tok *t)
{
	cJSON *o = cJSON_CreateObject(), *tk;
	char ts[40];

	cJSON_AddNumberToObject(o, "event_id", (double)ev->id);
	cJSON_AddStringToObject(o, "ts", tparse_format(ev->ts, ts,
	    sizeof(ts)));
	cJSON_AddStringToObject(o, "type", ev->type);
	cJSON_AddItemToObject(o, "item", str_or_null(ev->item));
	cJSON_AddItemToObject(o, "amount", isnan(ev->amount) ?
	    cJSON_CreateNull() : cJSON_CreateNumber(ev->amount));
	cJSON_AddItemToObject(o, "text", str_or_null(ev->text));
	tk = cJSON_AddObjectToObject(o, "tokens");
	cJSON_AddNumberToObject(tk, "type", t->type);
	cJSON_AddNumberToObject(tk, "item", t->item);
	cJSON_AddNumberToObject(tk, "gap", t->gap);
	cJSON_AddNumberToObject(tk, "amount", t->amount);
	cJSON_AddNumberToObject(tk, "pos", t->pos);
	return o;
}

/* The report as MODEL.md's JSON. */
char *
explain_json(const struct explain_report *r, const struct nn_model *m,
    const char *model_name, int pretty)
{
	const int L = m->cfg.L, H = m->cfg.H;
	cJSON *root = cJSON_CreateObject(), *o, *a, *b, *c;
	char *cfg = nn_config_json(m), *txt, *out;
	size_t i;
	int l, h;

	cJSON_AddStringToObject(root, "customer", r->customer);
	o = cfg != NULL ? cJSON_Parse(cfg) : NULL;
	free(cfg);
	if (o == NULL)
		o = cJSON_CreateObject();
	if (model_name != NULL)
		cJSON_AddStringToObject(o, "name", model_name);
	cJSON_AddItemToObject(root, "model", o);
	a = cJSON_AddArrayToObject(root, "events");
	for (i = 0; i < r->n; i++)
		cJSON_AddItemToArray(a, event_json(&r->ev[i], &r->tok[i]));
	a = cJSON_AddArrayToObject(root, "dropped");
	for (i = 0; i < r->n_dropped; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)
		    r->dropped[i]));

	o = cJSON_AddObjectToObject(root, "prediction");
	cJSON_AddItemToObject(o, "churn_probability", num(r->churn));
	a = cJSON_AddArrayToObject(o, "next_type");
	for (l = 0; l < r->n_next_types; l++) {
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "type", vocab_type(m->vocab,
		    r->next_types[l].index));
		cJSON_AddItemToObject(b, "p", num(r->next_types[l].value));
		cJSON_AddItemToArray(a, b);
	}
	a = cJSON_AddArrayToObject(o, "next_items");
	for (l = 0; l < r->n_next_items; l++) {
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "item", vocab_item(m->vocab,
		    r->next_items[l].index));
		cJSON_AddItemToObject(b, "score", num(r->next_items[l].value));
		cJSON_AddItemToArray(a, b);
	}

	o = cJSON_AddObjectToObject(root, "attention");
	cJSON_AddItemToObject(o, "last_layer_mean", num_array(r->mean, r->n));
	cJSON_AddItemToObject(o, "rollout", num_array(r->rollout, r->n));
	a = cJSON_AddArrayToObject(o, "per_head");
	for (l = 0; l < L; l++) {
		b = cJSON_CreateArray();
		for (h = 0; h < H; h++)
			cJSON_AddItemToArray(b, num_array(r->per_head +
			    ((size_t)l * H + h) * r->n, r->n));
		cJSON_AddItemToArray(a, b);
	}
	if (r->has_occlusion) {
		cJSON_AddItemToObject(root, "occlusion",
		    num_array(r->occlusion, r->n));
		if (r->has_faithfulness) {
			c = cJSON_AddObjectToObject(root, "faithfulness");
			cJSON_AddItemToObject(c, "top3", num(r->faith_top3));
			cJSON_AddItemToObject(c, "random3",
			    num(r->faith_random3));
			cJSON_AddItemToObject(c, "last3", num(r->faith_last3));
		} else
			cJSON_AddNullToObject(root, "faithfulness");
	}
	txt = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (txt == NULL)
		return NULL;
	out = xstrdup(txt);
	cJSON_free(txt);
	return out;
}

/* ---- every customer, in batches ---- */

/* Customers read from the store at a time. */
#define BATCH_CHUNK	1024

struct explain_batch {
	struct store		*s;
	const struct nn_model	*m;
	int64_t			 at, after, done, total;
	struct nn_acts		*a;
	struct store_hreader	*hr;
	struct store_history	 h;
	struct customer		*cust;		/* (BATCH_CHUNK) */
	struct tok		*stage;		/* (BATCH_CHUNK, max_len) */
	int			*len;		/* 0: no events */
	int			*order;		/* by length */
	struct tok		*tok;		/* (B, max_len) */
	int			*blen;
	float			*churn;		/* (BATCH_CHUNK) */
	float			*prob;		/* (BATCH_CHUNK, NT) */
	float			*hid;		/* (BATCH_CHUNK, C) */
	size_t			*idx;
	int			 B, finished;
};

/* A batch scorer over every customer (see explain.h). */
struct explain_batch *
explain_batch_new(struct store *s, const struct nn_model *m, int64_t at,
    int B, struct err *e)
{
	const struct nn_config *c = &m->cfg;
	struct explain_batch *x = xcalloc(1, sizeof(*x));
	struct store_info info;

	x->s = s;
	x->m = m;
	x->at = at;
	x->B = B;
	store_history_init(&x->h);
	if (store_info_get(s, &info, e) < 0) {
		free(x);
		return NULL;
	}
	x->total = info.customers;
	store_info_release(&info);
	if ((x->hr = store_hreader_new(s, 0, e)) == NULL ||
	    (x->a = nn_acts_new(c, B, c->max_len, 0, e)) == NULL) {
		explain_batch_free(x);
		return NULL;
	}
	x->cust = xcalloc(BATCH_CHUNK, sizeof(*x->cust));
	x->stage = xcalloc((size_t)BATCH_CHUNK * c->max_len, sizeof(*x->stage));
	x->len = xcalloc(BATCH_CHUNK, sizeof(int));
	x->order = xcalloc(BATCH_CHUNK, sizeof(int));
	x->tok = xcalloc((size_t)B * c->max_len, sizeof(*x->tok));
	x->blen = xcalloc((size_t)B, sizeof(int));
	x->churn = xcalloc(BATCH_CHUNK, sizeof(float));
	x->prob = xcalloc((size_t)BATCH_CHUNK * c->n_types, sizeof(float));
	x->hid = xcalloc((size_t)BATCH_CHUNK * c->C, sizeof(float));
	x->idx = xcalloc((size_t)c->max_len, sizeof(size_t));
	return x;
}

void
explain_batch_free(struct explain_batch *x)
{
	if (x == NULL)
		return;
	nn_acts_free(x->a);
	store_hreader_free(x->hr);
	store_history_release(&x->h);
	free(x->cust);
	free(x->stage);
	free(x->len);
	free(x->order);
	free(x->tok);
	free(x->blen);
	free(x->churn);
	free(x->prob);
	free(x->hid);
	free(x->idx);
	free(x);
}

int64_t
explain_batch_done(const struct explain_batch *x)
{
	return x->done;
}

int64_t
explain_batch_total(const struct explain_batch *x)
{
	return x->total;
}

/* Longest first: ties by position, so the order is deterministic. */
static const int *sort_len;
static int
by_len(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	if (sort_len[x] != sort_len[y])
		return sort_len[y] - sort_len[x];
	return x - y;
}

/* The next chunk of customers: windows, batches by length, callbacks. */
int
explain_batch_step(struct explain_batch *x, explain_batch_fn fn, void *ctx,
    struct err *e)
{
	const struct nn_config *c = &x->m->cfg;
	const int T = c->max_len, NT = c->n_types, C = c->C;
	struct explain_scored sc;
	int n, i, k, b, t, j, best;

	if (x->finished)
		return 0;
	if ((n = store_customers_by_id(x->s, x->after, x->cust, BATCH_CHUNK,
	    e)) < 0)
		return -1;
	if (n == 0) {
		x->finished = 1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		size_t w;

		if (store_history_read(x->hr, x->cust[i].id, x->at, (size_t)T,
		    &x->h, e) < 0)
			return -1;
		w = tokens_select(x->h.n, NULL, (size_t)T, x->idx);
		tokens_window(x->m->vocab, x->h.ev, x->idx, w,
		    x->stage + (size_t)i * T);
		x->len[i] = (int)w;
		x->order[i] = i;
	}
	sort_len = x->len;
	qsort(x->order, (size_t)n, sizeof(int), by_len);
	for (k = 0; k < n; k += b) {
		for (b = 0; b < x->B && k + b < n &&
		    x->len[x->order[k + b]] > 0; b++)
			;
		if (b == 0)
			break;		/* the rest have no events */
		t = x->len[x->order[k]];
		for (j = 0; j < b; j++) {
			int ci = x->order[k + j];

			memcpy(x->tok + (size_t)j * t, x->stage + (size_t)ci * T,
			    sizeof(struct tok) * (size_t)x->len[ci]);
			x->blen[j] = x->len[ci];
		}
		nn_forward(x->m, x->a, x->tok, x->blen, b, t, NN_LAST, 0);
		for (j = 0; j < b; j++) {
			int ci = x->order[k + j];

			x->churn[ci] = x->a->churn[j];
			memcpy(x->prob + (size_t)ci * NT, x->a->type_prob +
			    (size_t)j * NT, sizeof(float) * NT);
			memcpy(x->hid + (size_t)ci * C, x->a->z + (size_t)j * C,
			    sizeof(float) * C);
		}
	}
	/* in id order */
	for (i = 0; i < n; i++) {
		if (x->len[i] == 0)
			continue;
		memset(&sc, 0, sizeof(sc));
		sc.customer = &x->cust[i];
		sc.n = x->len[i];
		sc.tok = x->stage + (size_t)i * T;
		sc.churn = x->churn[i];
		sc.type_prob = x->prob + (size_t)i * NT;
		sc.hidden = x->hid + (size_t)i * C;
		for (best = TOK_UNK + 1, j = best + 1; j < NT; j++)
			if (sc.type_prob[j] > sc.type_prob[best])
				best = j;
		sc.next_type = best < NT ? best : TOK_UNK;
		if (fn(ctx, &sc, e) < 0)
			return -1;
	}
	x->done += n;
	x->after = x->cust[n - 1].id;
	return 1;
}

/* ---- reading stored JSON (the model card) ---- */

/* A value at a dotted path ("churn.roc_auc", "tasks.0"; see explain.h). */
int
explain_json_get(const char *json, const char *path, double *num, char *str,
    size_t len)
{
	cJSON *root, *v;
	const char *p = path;
	char part[64];
	int rc = 0;

	if (json == NULL || (root = cJSON_Parse(json)) == NULL)
		return json == NULL ? 0 : -1;
	v = root;
	while (v != NULL && *p != '\0') {
		size_t n = strcspn(p, ".");
		char *end;
		long k;

		snprintf(part, sizeof(part), "%.*s", (int)n, p);
		p += n + (p[n] == '.');
		if (cJSON_IsArray(v)) {
			k = strtol(part, &end, 10);
			v = *end == '\0' && k >= 0 ? cJSON_GetArrayItem(v,
			    (int)k) : NULL;
		} else
			v = cJSON_GetObjectItemCaseSensitive(v, part);
	}
	if (v == NULL || cJSON_IsNull(v))
		rc = 0;
	else if (cJSON_IsNumber(v)) {
		if (num != NULL)
			*num = v->valuedouble;
		rc = 1;
	} else if (cJSON_IsBool(v)) {
		if (num != NULL)
			*num = cJSON_IsTrue(v) ? 1 : 0;
		rc = 1;
	} else if (cJSON_IsString(v)) {
		if (str != NULL && len > 0)
			snprintf(str, len, "%s", v->valuestring);
		rc = 2;
	} else
		rc = 3;		/* an object or array */
	cJSON_Delete(root);
	return rc;
}
