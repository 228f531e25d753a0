/*
 * t-explain.c: one inference report (explain.c) over a small store and a
 * random model (C = 16, L = 2, H = 2, max_len = 8). The window is the
 * customer's latest max_len events oldest first in (ts, id) order, cut
 * by --at; a dropped event leaves the history before the window is cut
 * (an older event comes in, positions and gaps are recomputed); the
 * errors (unknown customer, a stranger's or a later event dropped, no
 * event left); occlusion and the faithfulness figures against separate
 * --drop runs; attention sums; the heads against z from the report; the
 * JSON of MODEL.md, key by key, byte-identical between equal runs; and
 * explain_load_model. The expected windows come from the test's own list
 * of events, never from the store.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "explain.h"
#include "nn.h"
#include "store.h"
#include "tokens.h"
#include "tap.h"

#define T0	1717200000LL		/* 2024-06-01T00:00:00Z */
#define DAY	86400LL
#define MAXLEN	8
#define TOL	1e-6

/* One event of the fixture; id is filled by the import. */
struct rec {
	const char	*cust;
	int64_t		 ts;
	const char	*type;
	const char	*item;
	double		 amount;	/* NAN: missing */
	const char	*text;
	int64_t		 id;
};

/*
 * Insertion order is not time order: A's events come in shuffled, with
 * equal timestamps (the smaller id first), one of them on the border of
 * the window. Items seen fewer than TOK_ITEM_MIN times (R once) map to
 * <unk>.
 */
static struct rec recs[] = {
	{ "A", T0 + 3600, "view", "I1", NAN, NULL, 0 },		/* a1 */
	{ "B", T0 + 10, "open", NULL, NAN, NULL, 0 },
	{ "A", T0, "open", NULL, NAN, "first \"visit\"\nline two", 0 },
	{ "A", T0 + 3600, "buy", "I1", 19.99, NULL, 0 },	/* tie a1 */
	{ "C", T0 + 50, "ticket", NULL, NAN, "help", 0 },
	{ "A", T0 + DAY, "view", "I2", NAN, NULL, 0 },		/* a4 */
	{ "D", T0 + 100, "view", "I4", NAN, NULL, 0 },
	{ "A", T0 + DAY, "ticket", NULL, NAN, "caf\xc3\xa9 \\ tab\t", 0 },
	{ "B", T0 + 20, "view", "I2", 0.0, NULL, 0 },
	{ "A", T0 + 2 * DAY, "view", "I3", NAN, NULL, 0 },
	{ "A", T0 + 2 * DAY, "cart", "I3", NAN, NULL, 0 },
	{ "D", T0 + 90, "open", NULL, NAN, NULL, 0 },
	{ "A", T0 + 100000, "view", "R", -5.0, NULL, 0 },
	{ "A", T0 + 300000, "buy", "I2", 100000.0, NULL, 0 },
	{ "A", T0 + 300000, "view", "I1", 0.0, NULL, 0 },
	{ "D", T0 + 5000, "buy", "I4", 42.5, "thanks", 0 },
	{ "A", T0 + 250000, "open", NULL, NAN, NULL, 0 },
	{ "B", T0 + 7 * DAY, "ticket", NULL, NAN, "still waiting", 0 },
	{ "A", T0 + 35 * DAY, "ticket", NULL, NAN, "late ticket", 0 },
	{ "D", T0 + 9 * DAY, "view", "I3", NAN, NULL, 0 },
	{ "D", T0 + 9 * DAY + 1, "cart", "I2", 3.0, NULL, 0 },
	/* second import, after the vocabularies were made */
	{ "E", T0 + 10, "view", "I1", NAN, NULL, 0 },
	{ "E", T0 + 20, "late", "NEW", 7.0, NULL, 0 },
	{ "E", T0 + 30, "late", "NEW", NAN, NULL, 0 },
	{ "E", T0 + 1000000, "open", NULL, NAN, NULL, 0 },
};
#define NRECS		(sizeof(recs) / sizeof(recs[0]))
#define NFIRST		21	/* records of the first import */

static char dir[256];
static struct nn_model *model;

/* dir/name (static). */
static const char *
path(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* The id of the k-th event of customer cust in insertion order. */
static int64_t
rid(const char *cust, int k)
{
	size_t i;

	for (i = 0; i < NRECS; i++)
		if (strcmp(recs[i].cust, cust) == 0 && k-- == 0)
			return recs[i].id;
	return -1;
}

/* Import recs[from..to) in one transaction; 0 or -1. */
static int
import(struct store *s, size_t from, size_t to)
{
	struct ingest_info info;
	struct ingest_event x;
	struct ingest *g;
	struct err e;
	size_t i;

	memset(&info, 0, sizeof(info));
	info.source = "t-explain";
	err_clear(&e);
	if ((g = store_ingest_begin(s, &info, &e)) == NULL) {
		diag("store_ingest_begin: %s", e.msg);
		return -1;
	}
	for (i = from; i < to; i++) {
		memset(&x, 0, sizeof(x));
		x.customer = recs[i].cust;
		x.ts = recs[i].ts;
		x.type = recs[i].type;
		x.item = recs[i].item;
		x.price = NAN;
		x.amount = recs[i].amount;
		x.quantity = NAN;
		x.text = recs[i].text;
		if ((recs[i].id = store_ingest_event(g, &x, &e)) < 0) {
			diag("store_ingest_event: %s", e.msg);
			store_ingest_abort(g);
			return -1;
		}
	}
	if (store_ingest_commit(g, 0, &e) < 0) {
		diag("store_ingest_commit: %s", e.msg);
		return -1;
	}
	return 0;
}

/* The store's vocabularies, as model init makes them. */
static struct vocab *
store_vocab(struct store *s)
{
	char **types = NULL, **items = NULL;
	size_t nt = 0, ni = 0, i;
	struct vocab *v = NULL;
	struct err e;

	err_clear(&e);
	if (store_type_names(s, &types, &nt, &e) == 0 &&
	    store_item_ids(s, TOK_ITEM_MIN, TOK_ITEM_MAX, &items, &ni,
	    &e) == 0)
		v = vocab_new((const char *const *)types, nt,
		    (const char *const *)items, ni);
	else
		diag("vocabulary: %s", e.msg);
	for (i = 0; i < nt; i++)
		free(types[i]);
	for (i = 0; i < ni; i++)
		free(items[i]);
	free(types);
	free(items);
	return v;
}

/*
 * A random model; the matrices scaled up (std 0.2) so that attention,
 * heads and occlusion effects are far from uniform and zero.
 */
static struct nn_model *
make_model(struct vocab *v)
{
	struct nn_config c;
	struct nn_model *m;
	struct nn_tensor t;
	struct nn_rng rng;
	struct err e;
	size_t i, j;

	memset(&c, 0, sizeof(c));
	c.C = 16;
	c.L = 2;
	c.H = 2;
	c.max_len = MAXLEN;
	c.n_types = vocab_n_types(v);
	c.n_items = vocab_n_items(v);
	c.churn_horizon_days = 30;
	err_clear(&e);
	if ((m = nn_model_new(&c, v, &e)) == NULL) {
		diag("nn_model_new: %s", e.msg);
		return NULL;
	}
	nn_rng_seed(&rng, 12345);
	nn_model_init_random(m, &rng);
	for (i = 0; i < nn_tensor_count(&c); i++) {
		nn_tensor_get(m, i, &t);
		if (t.ndim == 2)
			for (j = 0; j < t.n; j++)
				t.data[j] *= 10.0f;
	}
	m->p.churn_b[0] = 0.3f;
	return m;
}

/* (ts, id) order of records. */
static int
by_ts_id(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a,
	    *y = *(const struct rec *const *)b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * The expected window of cust as of at without the ids in drop, from
 * the test's own records: hist (the remaining history, oldest first,
 * *nh events) and idx (the window's indices into hist). Returns n.
 */
static size_t
expect(const char *cust, int64_t at, const int64_t *drop, size_t nd,
    struct store_hevent *hist, size_t *nh, size_t *idx)
{
	const struct rec *p[NRECS];
	size_t i, j, k = 0, n;

	for (i = 0; i < NRECS; i++) {
		if (strcmp(recs[i].cust, cust) != 0 || recs[i].ts > at)
			continue;
		for (j = 0; j < nd; j++)
			if (drop[j] == recs[i].id)
				break;
		if (j == nd)
			p[k++] = &recs[i];
	}
	qsort(p, k, sizeof(p[0]), by_ts_id);
	for (i = 0; i < k; i++) {
		hist[i].id = p[i]->id;
		hist[i].ts = p[i]->ts;
		hist[i].type = p[i]->type;
		hist[i].item = p[i]->item;
		hist[i].amount = p[i]->amount;
		hist[i].text = p[i]->text;
	}
	*nh = k;
	n = k < MAXLEN ? k : MAXLEN;
	for (i = 0; i < n; i++)
		idx[i] = k - n + i;
	return n;
}

/* MODEL.md's gap token, by floating point (not the code's way). */
static int
my_gap(int64_t dt)
{
	int g;

	if (dt < 0)
		dt = 0;
	g = 1 + (int)floor(log2(1.0 + (double)dt));
	return g < 31 ? g : 31;
}

/* MODEL.md's amount token. */
static int
my_amount(double a)
{
	int g;

	if (isnan(a) || a == 0)
		return 0;
	g = 1 + (int)floor(log2(1.0 + fabs(a)));
	return g < 15 ? g : 15;
}

/* Equal optional strings. */
static int
same_str(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* Equal amounts (NAN equals NAN). */
static int
same_amount(double a, double b)
{
	return isnan(a) ? isnan(b) : a == b;
}

/*
 * Is r's window the expected one: the same events (ids and fields) in
 * the same order, n and n_history? One check.
 */
static int
window_ok(const struct explain_report *r, const char *cust, int64_t at,
    const int64_t *drop, size_t nd, size_t want_hist, const char *what)
{
	struct store_hevent hist[NRECS];
	size_t idx[MAXLEN], nh, n, i;
	int pass;

	n = expect(cust, at, drop, nd, hist, &nh, idx);
	pass = r->n == n && r->n_history == want_hist;
	if (!pass)
		diag("n %zu (want %zu), n_history %zu (want %zu)", r->n, n,
		    r->n_history, want_hist);
	for (i = 0; pass && i < n; i++) {
		const struct store_hevent *g = &r->ev[i], *w = &hist[idx[i]];

		pass = g->id == w->id && g->ts == w->ts &&
		    strcmp(g->type, w->type) == 0 &&
		    same_str(g->item, w->item) && same_str(g->text, w->text) &&
		    same_amount(g->amount, w->amount);
		if (!pass)
			diag("event %zu: id %lld, want %lld", i,
			    (long long)g->id, (long long)w->id);
	}
	return ok(pass, "%s: window of %zu events, oldest first in (ts, id) "
	    "order", what, n);
}

/*
 * Are r's tokens those of the expected window, both by MODEL.md's
 * formulas and by tokens_window over the history without the drops?
 */
static int
tokens_ok(const struct explain_report *r, const char *cust, int64_t at,
    const int64_t *drop, size_t nd, const char *what)
{
	struct store_hevent hist[NRECS];
	struct tok want[MAXLEN];
	size_t idx[MAXLEN], nh, n, i;
	const struct vocab *v = model->vocab;
	int pass;

	n = expect(cust, at, drop, nd, hist, &nh, idx);
	pass = r->n == n;
	if (pass)
		tokens_window(v, hist, idx, n, want);
	for (i = 0; pass && i < n; i++) {
		const struct store_hevent *w = &hist[idx[i]];
		const struct tok *t = &r->tok[i];

		pass = memcmp(t, &want[i], sizeof(*t)) == 0 &&
		    t->type == vocab_type_index(v, w->type) &&
		    t->item == vocab_item_index(v, w->item) &&
		    t->gap == (i == 0 ? 0 : my_gap(w->ts - hist[idx[i - 1]].ts))
		    && t->amount == my_amount(w->amount) && t->pos == (int)i;
		if (!pass)
			diag("token %zu: type %d item %d gap %d amount %d pos "
			    "%d; tokens_window: %d %d %d %d %d", i, t->type,
			    t->item, t->gap, t->amount, t->pos, want[i].type,
			    want[i].item, want[i].gap, want[i].amount,
			    want[i].pos);
	}
	return ok(pass, "%s: tokens (positions and gaps within the window)",
	    what);
}

/* Run; on failure diag and return the error code (0 on success). */
static int
run(struct explain *x, const char *cust, const struct explain_opts *o,
    struct explain_report *r, struct err *e)
{
	err_clear(e);
	if (explain_run(x, cust, o, r, e) < 0)
		return e->code == ERR_OK ? -1 : (int)e->code;
	return 0;
}

/* Churn of cust as of at with the drops, through a plain run; NAN on error. */
static double
churn_without(struct explain *y, const char *cust, int64_t at,
    const int64_t *drop, size_t nd)
{
	struct explain_opts o;
	struct explain_report r;
	struct err e;

	explain_opts_init(&o);
	o.at = at;
	o.drop = drop;
	o.n_drop = nd;
	if (run(y, cust, &o, &r, &e) != 0) {
		diag("explain_run %s: %s", cust, e.msg);
		return NAN;
	}
	return r.churn;
}

/* Do the attention arrays each sum to 1 and is mean the heads' mean? */
static void
attention_ok(const struct explain_report *r, const char *what)
{
	const int L = model->cfg.L, H = model->cfg.H;
	double s, worst = 0, dm = 0;
	size_t j;
	int l, h, inrange = 1;

	for (l = 0; l < L; l++)
		for (h = 0; h < H; h++) {
			const float *p = r->per_head + ((size_t)l * H + h) *
			    r->n;

			for (s = 0, j = 0; j < r->n; j++) {
				s += p[j];
				if (!(p[j] >= 0 && p[j] <= 1))
					inrange = 0;
			}
			if (fabs(s - 1) > worst)
				worst = fabs(s - 1);
		}
	ok(worst <= 1e-5 && inrange, "%s: every per_head row is in [0, 1] "
	    "and sums to 1 (worst %.2g)", what, worst);
	for (s = 0, j = 0; j < r->n; j++) {
		double m = 0;

		for (h = 0; h < H; h++)
			m += r->per_head[((size_t)(L - 1) * H + h) * r->n + j];
		m /= H;
		if (fabs(m - r->mean[j]) > dm)
			dm = fabs(m - r->mean[j]);
		s += r->mean[j];
	}
	ok(fabs(s - 1) <= 1e-5 && dm <= 1e-6, "%s: last_layer_mean is the "
	    "mean of the last layer's heads and sums to 1", what);
	for (s = 0, j = 0; j < r->n; j++) {
		s += r->rollout[j];
		if (!(r->rollout[j] >= 0))
			inrange = 0;
	}
	is_near(inrange ? s : -1, 1, 1e-5, "%s: rollout sums to 1", what);
}

/* Do the heads follow from z (r->hidden) and the model's weights? */
static void
heads_ok(const struct explain_report *r, int top_types, int top_items,
    const char *what)
{
	const int C = model->cfg.C, NT = model->cfg.n_types,
	    NI = model->cfg.n_items;
	const struct nn_params *p = &model->p;
	double logit = p->churn_b[0], mx = -1e30, sum = 0, worst = 0;
	double *lt = calloc((size_t)NT, sizeof(double));
	double *sc = calloc((size_t)NI, sizeof(double));
	int i, j, k, pass, *top = calloc((size_t)NI, sizeof(int)), ntop = 0;

	for (i = 0; i < C; i++)
		logit += (double)r->hidden[i] * p->churn_w[i];
	is_near(r->churn, 1 / (1 + exp(-logit)), 1e-5, "%s: churn is "
	    "sigmoid(z . w_churn + b_churn)", what);

	for (j = 0; j < NT; j++) {
		lt[j] = p->type_b[j];
		for (i = 0; i < C; i++)
			lt[j] += (double)r->hidden[i] * p->type_w[j * C + i];
		if (lt[j] > mx)
			mx = lt[j];
	}
	for (j = 0; j < NT; j++)
		sum += exp(lt[j] - mx);
	for (j = 0; j < NT; j++) {
		double d = fabs(exp(lt[j] - mx) / sum - r->type_prob[j]);

		if (d > worst)
			worst = d;
	}
	ok(worst <= 1e-5, "%s: type_prob is softmax(z W_type^T + b) (worst "
	    "%.2g)", what, worst);

	/* next types: top of type_prob[2..], descending */
	pass = r->n_next_types == (NT - 2 < top_types ? NT - 2 : top_types);
	for (k = 0; pass && k < r->n_next_types; k++) {
		const struct explain_rank *e = &r->next_types[k];

		pass = e->index >= 2 && e->index < NT &&
		    e->value == r->type_prob[e->index] &&
		    (k == 0 || e->value <= r->next_types[k - 1].value);
		for (i = 0; pass && i < k; i++)
			pass = r->next_types[i].index != e->index;
	}
	/* nothing left out beats the last one listed */
	for (j = 2; pass && j < NT; j++) {
		for (k = 0; k < r->n_next_types; k++)
			if (r->next_types[k].index == j)
				break;
		if (k == r->n_next_types && r->n_next_types > 0)
			pass = r->type_prob[j] <=
			    r->next_types[r->n_next_types - 1].value;
	}
	ok(pass, "%s: next_types are the top %d of types 2.., descending",
	    what, r->n_next_types);

	/* next items: the top-k of z . E_item[j] over j >= 2 */
	for (j = 0; j < NI; j++) {
		sc[j] = 0;
		for (i = 0; i < C; i++)
			sc[j] += (double)r->hidden[i] * p->emb_item[j * C + i];
	}
	for (j = 2; j < NI; j++) {
		/* insertion into a descending list, ties: lower index first */
		for (k = ntop; k > 0 && sc[j] > sc[top[k - 1]]; k--)
			top[k] = top[k - 1];
		top[k] = j;
		ntop++;
	}
	if (ntop > top_items)
		ntop = top_items;
	pass = r->n_next_items == ntop;
	if (!pass)
		diag("%d next items, want %d", r->n_next_items, ntop);
	for (k = 0; pass && k < ntop; k++) {
		pass = r->next_items[k].index == top[k] &&
		    fabs(r->next_items[k].value - sc[top[k]]) <= 1e-4;
		if (!pass)
			diag("rank %d: item %d (%g), want %d (%g)", k,
			    r->next_items[k].index, r->next_items[k].value,
			    top[k], sc[top[k]]);
	}
	ok(pass, "%s: next_items are the top %d of z . E_item[j], j >= 2",
	    what, ntop);
	free(lt);
	free(sc);
	free(top);
}

/* Window positions of the 3 largest rollout values (ties: lower first). */
static void
top3_rollout(const struct explain_report *r, size_t out[3])
{
	size_t i, k, m;

	for (k = 0; k < 3; k++) {
		m = SIZE_MAX;
		for (i = 0; i < r->n; i++) {
			if ((k > 0 && i == out[0]) || (k > 1 && i == out[1]))
				continue;
			if (m == SIZE_MAX || r->rollout[i] > r->rollout[m])
				m = i;
		}
		out[k] = m;
	}
}

/* Is the object's set of member names exactly names[0..n)? */
static int
keys_are(const cJSON *o, const char *const *names, int n, const char *what)
{
	const cJSON *c;
	int cnt = 0, i;

	if (!cJSON_IsObject(o)) {
		diag("%s: not an object", what);
		return 0;
	}
	for (c = o->child; c != NULL; c = c->next) {
		for (i = 0; i < n; i++)
			if (strcmp(c->string, names[i]) == 0)
				break;
		if (i == n) {
			diag("%s: unexpected key '%s'", what, c->string);
			return 0;
		}
		cnt++;
	}
	for (i = 0; i < n; i++)
		if (!cJSON_HasObjectItem(o, names[i])) {
			diag("%s: no key '%s'", what, names[i]);
			return 0;
		}
	if (cnt != n)
		diag("%s: %d keys, want %d (a duplicate?)", what, cnt, n);
	return cnt == n;
}

/* Is a an array of n numbers equal (as floats) to v? */
static int
floats_are(const cJSON *a, const float *v, size_t n, const char *what)
{
	size_t i;

	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n) {
		diag("%s: not an array of %zu", what, n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const cJSON *x = cJSON_GetArrayItem(a, (int)i);

		if (isnan(v[i]) ? !cJSON_IsNull(x) : !cJSON_IsNumber(x) ||
		    (float)x->valuedouble != v[i]) {
			diag("%s[%zu]: %g, want %.9g", what, i, cJSON_IsNumber(x)
			    ? x->valuedouble : NAN, v[i]);
			return 0;
		}
	}
	return 1;
}

/* A number member equal to v. */
static int
num_is(const cJSON *o, const char *key, double v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(x) || x->valuedouble != v) {
		diag("%s: %g, want %g", key, cJSON_IsNumber(x) ?
		    x->valuedouble : NAN, v);
		return 0;
	}
	return 1;
}

/* A string member equal to s, or null when s is NULL. */
static int
str_is(const cJSON *o, const char *key, const char *s)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	if (s == NULL ? !cJSON_IsNull(x) : !cJSON_IsString(x) ||
	    strcmp(x->valuestring, s) != 0) {
		diag("%s: %s, want %s", key, cJSON_IsString(x) ?
		    x->valuestring : "(not a string)", s ? s : "null");
		return 0;
	}
	return 1;
}

/* The JSON of r, checked member by member against r (several checks). */
static void
json_ok(const struct explain_report *r, const char *txt, const char *what)
{
	static const char *const top_keys[] = { "customer", "model", "events",
	    "dropped", "prediction", "attention", "occlusion",
	    "faithfulness" };
	static const char *const ev_keys[] = { "event_id", "ts", "type",
	    "item", "amount", "text", "tokens" };
	static const char *const tok_keys[] = { "type", "item", "gap",
	    "amount", "pos" };
	static const char *const pred_keys[] = { "churn_probability",
	    "next_type", "next_items" };
	static const char *const att_keys[] = { "last_layer_mean", "rollout",
	    "per_head" };
	static const char *const faith_keys[] = { "top3", "random3",
	    "last3" };
	const struct nn_config *c = &model->cfg;
	cJSON *root = cJSON_Parse(txt);
	const cJSON *o, *a, *x, *t;
	size_t i;
	int pass, l, h;

	if (!ok(root != NULL, "%s: the JSON parses", what)) {
		/* keep the plan: the checks below count as failed */
		for (i = 0; i < 8; i++)
			ok(0, "%s: (no JSON)", what);
		return;
	}
	ok(keys_are(root, top_keys, r->has_occlusion ? 8 : 6, "top level") &&
	    str_is(root, "customer", r->customer), "%s: exactly MODEL.md's "
	    "top-level keys, customer %s", what, r->customer);

	o = cJSON_GetObjectItemCaseSensitive(root, "model");
	ok(cJSON_IsObject(o) && num_is(o, "d_model", c->C) &&
	    num_is(o, "n_layers", c->L) && num_is(o, "n_heads", c->H) &&
	    num_is(o, "max_len", c->max_len) &&
	    num_is(o, "n_types", c->n_types) &&
	    num_is(o, "n_items", c->n_items) &&
	    num_is(o, "churn_horizon_days", c->churn_horizon_days) &&
	    str_is(o, "name", "tiny"), "%s: model holds the config and the "
	    "name", what);

	a = cJSON_GetObjectItemCaseSensitive(root, "events");
	pass = cJSON_IsArray(a) && (size_t)cJSON_GetArraySize(a) == r->n;
	for (i = 0; pass && i < r->n; i++) {
		const struct store_hevent *ev = &r->ev[i];
		const struct tok *tk = &r->tok[i];
		char ts[40];
		struct tm tm;
		time_t tt = (time_t)ev->ts;

		gmtime_r(&tt, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		x = cJSON_GetArrayItem(a, (int)i);
		t = cJSON_GetObjectItemCaseSensitive(x, "tokens");
		pass = keys_are(x, ev_keys, 7, "event") &&
		    num_is(x, "event_id", (double)ev->id) &&
		    str_is(x, "ts", ts) && str_is(x, "type", ev->type) &&
		    str_is(x, "item", ev->item) && str_is(x, "text", ev->text) &&
		    (isnan(ev->amount) ? cJSON_IsNull(cJSON_GetObjectItem(x,
		    "amount")) : num_is(x, "amount", ev->amount)) &&
		    keys_are(t, tok_keys, 5, "tokens") &&
		    num_is(t, "type", tk->type) && num_is(t, "item", tk->item) &&
		    num_is(t, "gap", tk->gap) &&
		    num_is(t, "amount", tk->amount) && num_is(t, "pos", tk->pos);
		if (!pass)
			diag("events[%zu]", i);
	}
	ok(pass, "%s: %zu events with event_id, ts, type, item, amount, text "
	    "(null when missing) and tokens", what, r->n);

	a = cJSON_GetObjectItemCaseSensitive(root, "dropped");
	pass = cJSON_IsArray(a) && (size_t)cJSON_GetArraySize(a) ==
	    r->n_dropped;
	for (i = 0; pass && i < r->n_dropped; i++) {
		x = cJSON_GetArrayItem(a, (int)i);
		pass = cJSON_IsNumber(x) && x->valuedouble ==
		    (double)r->dropped[i];
	}
	ok(pass, "%s: dropped lists the %zu ids", what, r->n_dropped);

	o = cJSON_GetObjectItemCaseSensitive(root, "prediction");
	pass = keys_are(o, pred_keys, 3, "prediction");
	x = cJSON_GetObjectItemCaseSensitive(o, "churn_probability");
	pass = pass && cJSON_IsNumber(x) && (float)x->valuedouble == r->churn;
	a = cJSON_GetObjectItemCaseSensitive(o, "next_type");
	pass = pass && cJSON_IsArray(a) && cJSON_GetArraySize(a) ==
	    r->n_next_types;
	for (l = 0; pass && l < r->n_next_types; l++) {
		static const char *const k2[] = { "type", "p" };

		x = cJSON_GetArrayItem(a, l);
		pass = keys_are(x, k2, 2, "next_type") && str_is(x, "type",
		    vocab_type(model->vocab, r->next_types[l].index)) &&
		    (float)cJSON_GetObjectItem(x, "p")->valuedouble ==
		    r->next_types[l].value;
	}
	a = cJSON_GetObjectItemCaseSensitive(o, "next_items");
	pass = pass && cJSON_IsArray(a) && cJSON_GetArraySize(a) ==
	    r->n_next_items;
	for (l = 0; pass && l < r->n_next_items; l++) {
		static const char *const k2[] = { "item", "score" };

		x = cJSON_GetArrayItem(a, l);
		pass = keys_are(x, k2, 2, "next_items") && str_is(x, "item",
		    vocab_item(model->vocab, r->next_items[l].index)) &&
		    (float)cJSON_GetObjectItem(x, "score")->valuedouble ==
		    r->next_items[l].value;
	}
	ok(pass, "%s: prediction: churn_probability, next_type {type, p}, "
	    "next_items {item, score}", what);

	o = cJSON_GetObjectItemCaseSensitive(root, "attention");
	pass = keys_are(o, att_keys, 3, "attention") &&
	    floats_are(cJSON_GetObjectItem(o, "last_layer_mean"), r->mean,
	    r->n, "last_layer_mean") &&
	    floats_are(cJSON_GetObjectItem(o, "rollout"), r->rollout, r->n,
	    "rollout");
	a = cJSON_GetObjectItemCaseSensitive(o, "per_head");
	pass = pass && cJSON_IsArray(a) && cJSON_GetArraySize(a) == c->L;
	for (l = 0; pass && l < c->L; l++) {
		x = cJSON_GetArrayItem(a, l);
		pass = cJSON_IsArray(x) && cJSON_GetArraySize(x) == c->H;
		for (h = 0; pass && h < c->H; h++)
			pass = floats_are(cJSON_GetArrayItem(x, h), r->per_head +
			    ((size_t)l * c->H + h) * r->n, r->n, "per_head");
	}
	ok(pass, "%s: attention: last_layer_mean and rollout of %zu, per_head "
	    "%d x %d x %zu", what, r->n, c->L, c->H, r->n);

	if (r->has_occlusion) {
		pass = floats_are(cJSON_GetObjectItem(root, "occlusion"),
		    r->occlusion, r->n, "occlusion");
		o = cJSON_GetObjectItemCaseSensitive(root, "faithfulness");
		if (r->has_faithfulness)
			pass = pass && keys_are(o, faith_keys, 3,
			    "faithfulness") &&
			    (float)cJSON_GetObjectItem(o, "top3")->valuedouble
			    == (float)r->faith_top3 &&
			    (float)cJSON_GetObjectItem(o, "random3")->valuedouble
			    == (float)r->faith_random3 &&
			    (float)cJSON_GetObjectItem(o, "last3")->valuedouble
			    == (float)r->faith_last3;
		else
			pass = pass && cJSON_IsNull(o);
		ok(pass, "%s: occlusion of %zu and faithfulness (%s)", what,
		    r->n, r->has_faithfulness ? "top3, random3, last3" :
		    "null: too short");
	} else
		ok(!cJSON_HasObjectItem(root, "occlusion") &&
		    !cJSON_HasObjectItem(root, "faithfulness"), "%s: no "
		    "occlusion, no faithfulness without --occlusion", what);
	/* the compact form says the same */
	{
		char *p = explain_json(r, model, "tiny", 0);
		cJSON *b = p ? cJSON_Parse(p) : NULL;

		ok(b != NULL && cJSON_Compare(root, b, 1) && strchr(p, '\n') ==
		    NULL, "%s: compact JSON: one line, the same document",
		    what);
		cJSON_Delete(b);
		free(p);
	}
	cJSON_Delete(root);
}

/* The same occlusion report: window, churn, effects, faithfulness. */
static int
same_occlusion(const struct explain_report *a, const struct explain_report *b)
{
	size_t i;

	if (a->n != b->n || a->churn != b->churn ||
	    a->has_occlusion != b->has_occlusion ||
	    a->has_faithfulness != b->has_faithfulness) {
		diag("n %zu/%zu, churn %.9g/%.9g, faithfulness %d/%d", a->n,
		    b->n, a->churn, b->churn, a->has_faithfulness,
		    b->has_faithfulness);
		return 0;
	}
	for (i = 0; i < a->n; i++)
		if (a->ev[i].id != b->ev[i].id ||
		    a->occlusion[i] != b->occlusion[i])
			return 0;
	if (a->has_faithfulness && (a->faith_top3 != b->faith_top3 ||
	    a->faith_last3 != b->faith_last3 ||
	    a->faith_random3 != b->faith_random3)) {
		diag("faithfulness %g %g %g / %g %g %g", a->faith_top3,
		    a->faith_random3, a->faith_last3, b->faith_top3,
		    b->faith_random3, b->faith_last3);
		return 0;
	}
	return 1;
}

/* A fresh copy of the JSON of a run (caller frees); NULL on error. */
static char *
json_of(struct explain *x, const char *cust, const struct explain_opts *o)
{
	struct explain_report r;
	struct err e;

	if (run(x, cust, o, &r, &e) != 0) {
		diag("explain_run %s: %s", cust, e.msg);
		return NULL;
	}
	return explain_json(&r, model, "tiny", 1);
}

/* Keep the largest difference; NAN counts as infinitely wrong. */
static void
worsen(double *w, double d)
{
	if (isnan(d))
		*w = INFINITY;
	else if (d > *w)
		*w = d;
}

/* Equal strings, both there. */
static int
same_text(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Build the store and the model, then the checks, in the order above. */
int
main(void)
{
	const char *tmpd = getenv("TMPDIR");
	struct explain_report r, r2;
	struct explain_opts o;
	struct explain *x = NULL, *y = NULL;
	struct store_model row;
	struct nn_model *lm;
	struct store *s;
	struct vocab *v;
	struct err e;
	int64_t drop[8], id_a[12];
	float occl[MAXLEN];
	int64_t wid[MAXLEN];
	size_t n, i, j, k, t3[3];
	double base, worst, lo, hi, r3, t3v;
	char *j1, *j2, *j3;
	void *img;
	size_t len;
	int rc, rc2, pass;

	plan(118);
	snprintf(dir, sizeof(dir), "%s/t-explain.XXXXXX",
	    tmpd && *tmpd ? tmpd : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp %s\n", dir);
		return 1;
	}
	err_clear(&e);
	if ((s = store_open(path("x.db"), STORE_CREATE, &e)) == NULL) {
		printf("Bail out! store_open: %s\n", e.msg);
		return 1;
	}
	if (import(s, 0, NFIRST) < 0 || (v = store_vocab(s)) == NULL ||
	    import(s, NFIRST, NRECS) < 0 || (model = make_model(v)) == NULL) {
		printf("Bail out! could not build the fixture\n");
		return 1;
	}
	for (k = 0; k < 12; k++)
		id_a[k] = rid("A", (int)k);
	if ((x = explain_new(s, model, &e)) == NULL ||
	    (y = explain_new(s, model, &e)) == NULL) {
		printf("Bail out! explain_new: %s\n", e.msg);
		return 1;
	}

	/* ---- the window ---- */
	explain_opts_init(&o);
	rc = run(x, "A", &o, &r, &e);
	is_int(rc, 0, "explain A (12 events, max_len 8)");
	window_ok(&r, "A", INT64_MAX, NULL, 0, 12, "A");
	tokens_ok(&r, "A", INT64_MAX, NULL, 0, "A");
	/* the window starts at the later of two events at T0 + DAY */
	ok(r.n == MAXLEN && r.ev[0].id == id_a[4] && r.ev[0].ts == T0 + DAY &&
	    r.ev[1].ts == T0 + 100000, "A: of two events at the same time on "
	    "the window's edge, the one with the larger id is in");
	ok(r.n == MAXLEN && r.ev[6].id == id_a[9] && r.ev[7].id == id_a[11] &&
	    r.ev[5].id == id_a[8] && r.tok[6].gap == 1 && r.tok[5].amount == 15
	    && r.tok[6].amount == 0 && r.tok[1].item == (TOK_ITEM_MIN > 1 ?
	    TOK_UNK : vocab_item_index(model->vocab, "R")),
	    "A: equal times keep id order (gap 1); amounts 1e5 -> 15, 0 -> 0; "
	    "an item seen once is <unk> only when TOK_ITEM_MIN > 1");
	ok(r.customer != NULL && strcmp(r.customer, "A") == 0 &&
	    r.at == INT64_MAX && r.n_dropped == 0 && !r.has_occlusion,
	    "A: customer, at, no drops, no occlusion");
	attention_ok(&r, "A");
	heads_ok(&r, EXPLAIN_TOP_TYPES, EXPLAIN_TOP_ITEMS, "A");
	base = r.churn;
	j1 = explain_json(&r, model, "tiny", 1);
	json_ok(&r, j1, "A");

	/* determinism and no state carried between runs */
	j2 = json_of(x, "A", &o);
	ok(same_text(j1, j2), "A again on the same handle: byte-identical "
	    "JSON");
	free(j2);
	free(json_of(x, "D", &o));
	j2 = json_of(x, "A", &o);
	ok(same_text(j1, j2), "A after D on the same handle: byte-identical "
	    "JSON");
	free(j2);
	j2 = json_of(y, "A", &o);
	ok(same_text(j1, j2), "A on another handle: byte-identical JSON");
	free(j2);

	/* ---- --at ---- */
	explain_opts_init(&o);
	o.at = T0 + 2 * DAY;
	rc = run(x, "A", &o, &r, &e);
	is_int(rc, 0, "A --at T0+2d");
	window_ok(&r, "A", o.at, NULL, 0, 8, "A --at T0+2d (inclusive)");
	tokens_ok(&r, "A", o.at, NULL, 0, "A --at T0+2d");
	ok(r.n == 8 && r.ev[6].id == id_a[5] && r.ev[7].id == id_a[6] &&
	    r.ev[0].id == id_a[1] &&
	    r.at == o.at, "A --at: the two events at the cut-off are both in, "
	    "the oldest event is back in the window");
	o.at = T0 + 2 * DAY - 1;
	rc = run(x, "A", &o, &r, &e);
	ok(rc == 0 && r.n == 6 && r.n_history == 6, "A --at one second "
	    "earlier: 6 events");
	window_ok(&r, "A", o.at, NULL, 0, 6, "A --at T0+2d-1");
	o.at = T0 - 1;
	rc = run(x, "A", &o, &r, &e);
	is_int(rc, ERR_USAGE, "A --at before every event: ERR_USAGE");
	drop[0] = id_a[11];
	o.at = T0 + 2 * DAY;
	o.drop = drop;
	o.n_drop = 1;
	rc = run(x, "A", &o, &r, &e);
	is_int(rc, ERR_NOTFOUND, "A --at with --drop of a later event: "
	    "ERR_NOTFOUND");

	/* ---- --drop ---- */
	explain_opts_init(&o);
	drop[0] = id_a[8];		/* in the window */
	o.drop = drop;
	o.n_drop = 1;
	rc = run(x, "A", &o, &r, &e);
	is_int(rc, 0, "A --drop (an event in the window)");
	window_ok(&r, "A", INT64_MAX, drop, 1, 12, "A --drop");
	tokens_ok(&r, "A", INT64_MAX, drop, 1, "A --drop");
	ok(r.n == MAXLEN && r.ev[0].id == id_a[3] && r.n_dropped == 1 &&
	    r.dropped[0] == id_a[8], "A --drop: the older event at T0+1d "
	    "comes in; dropped lists the id");
	ok(r.churn != base, "A --drop: another churn (%.6f, was %.6f)",
	    r.churn, base);
	json_ok(&r, (j2 = explain_json(&r, model, "tiny", 1)), "A --drop");
	free(j2);
	drop[0] = id_a[2];		/* older than the window */
	rc = run(x, "A", &o, &r, &e);
	ok(rc == 0 && r.churn == base && r.n == MAXLEN &&
	    r.ev[0].id == id_a[4], "A --drop of an event outside the window: "
	    "the same window and churn");
	drop[0] = id_a[11];		/* the last */
	drop[1] = id_a[0];
	o.n_drop = 2;
	rc = run(x, "A", &o, &r, &e);
	is_int(rc, 0, "A --drop of two events");
	window_ok(&r, "A", INT64_MAX, drop, 2, 12, "A --drop x2");
	tokens_ok(&r, "A", INT64_MAX, drop, 2, "A --drop x2");
	o.n_drop = 1;
	drop[0] = rid("B", 0);
	rc = run(x, "A", &o, &r, &e);
	is_int(rc, ERR_NOTFOUND, "--drop of another customer's event: "
	    "ERR_NOTFOUND");
	ok(strstr(e.msg, "A") != NULL, "... the message names the customer: "
	    "%s", e.msg);
	drop[0] = 999999;
	rc = run(x, "A", &o, &r, &e);
	is_int(rc, ERR_NOTFOUND, "--drop of an id that does not exist: "
	    "ERR_NOTFOUND");
	explain_opts_init(&o);
	rc = run(x, "nobody", &o, &r, &e);
	is_int(rc, ERR_NOTFOUND, "an unknown customer: ERR_NOTFOUND");
	ok(strstr(e.msg, "nobody") != NULL, "... the message names it: %s",
	    e.msg);
	drop[0] = rid("C", 0);
	o.drop = drop;
	o.n_drop = 1;
	rc = run(x, "C", &o, &r, &e);
	is_int(rc, ERR_USAGE, "dropping C's only event: ERR_USAGE");
	drop[0] = rid("B", 2);
	drop[1] = rid("B", 0);
	drop[2] = rid("B", 1);
	o.n_drop = 3;
	rc = run(x, "B", &o, &r, &e);
	is_int(rc, ERR_USAGE, "dropping all of B's events: ERR_USAGE");
	/* errors leave the handle as good as new */
	explain_opts_init(&o);
	j2 = json_of(x, "A", &o);
	ok(same_text(j1, j2), "after the errors, A gives the same JSON");
	free(j2);

	/* ---- unknown type and item, a one-event window ---- */
	rc = run(x, "E", &o, &r, &e);
	ok(rc == 0 && r.n == 4 && r.tok[1].type == TOK_UNK &&
	    r.tok[1].item == TOK_UNK && r.tok[0].item != TOK_UNK &&
	    strcmp(r.ev[1].type, "late") == 0, "E: a type and an item the "
	    "vocabulary has not seen are <unk>");
	window_ok(&r, "E", INT64_MAX, NULL, 0, 4, "E");
	rc = run(x, "C", &o, &r, &e);
	ok(rc == 0 && r.n == 1 && r.tok[0].gap == 0 && r.tok[0].pos == 0 &&
	    fabs(r.rollout[0] - 1) < 1e-6 && fabs(r.mean[0] - 1) < 1e-6,
	    "C: one event, gap 0, all attention on it");
	heads_ok(&r, EXPLAIN_TOP_TYPES, EXPLAIN_TOP_ITEMS, "C");
	o.top_items = 3;
	o.top_types = 3;
	rc = run(x, "D", &o, &r, &e);
	is_int(rc, 0, "D (5 events) with 3 next types and 3 next items");
	heads_ok(&r, 3, 3, "D");
	window_ok(&r, "D", INT64_MAX, NULL, 0, 5, "D");
	tokens_ok(&r, "D", INT64_MAX, NULL, 0, "D");

	/* ---- occlusion against --drop runs ---- */
	explain_opts_init(&o);
	o.occlusion = 1;
	rc = run(x, "A", &o, &r, &e);
	ok(rc == 0 && r.has_occlusion && r.has_faithfulness && r.n == MAXLEN,
	    "A --occlusion: occlusion and faithfulness");
	ok(r.churn == base, "A --occlusion: the same churn as without");
	j2 = explain_json(&r, model, "tiny", 1);
	json_ok(&r, j2, "A --occlusion");
	n = r.n;
	for (i = 0; i < n; i++) {
		occl[i] = r.occlusion[i];
		wid[i] = r.ev[i].id;
	}
	worst = 0;
	pass = 1;
	for (i = 0; i < n; i++) {
		double c = churn_without(y, "A", INT64_MAX, &wid[i], 1);

		worsen(&worst, fabs(c - (base + occl[i])));
		if (isnan(c))
			pass = 0;
	}
	ok(pass && worst <= TOL, "A: churn with --drop X = churn + "
	    "occlusion[X] for all %zu events (worst %.2g)", n, worst);
	pass = 0;
	for (i = 0; i < n; i++)
		if (fabs(occl[i]) > 1e-4)
			pass++;
	ok(pass >= (int)n / 2, "A: the occlusion effects are not all zero "
	    "(%d of %zu above 1e-4)", pass, n);
	top3_rollout(&r, t3);
	for (k = 0; k < 3; k++)
		drop[k] = wid[t3[k]];
	is_near(r.faith_top3, churn_without(y, "A", INT64_MAX, drop, 3) - base,
	    TOL, "A: faithfulness.top3 = churn without the 3 most attended "
	    "(rollout) events - churn");
	for (k = 0; k < 3; k++)
		drop[k] = wid[n - 3 + k];
	is_near(r.faith_last3, churn_without(y, "A", INT64_MAX, drop, 3) -
	    base, TOL, "A: faithfulness.last3 = churn without the last 3 "
	    "events - churn");
	/* random3 is a mean over sets of 3: within all sets' range */
	lo = INFINITY;
	hi = -INFINITY;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			for (k = j + 1; k < n; k++) {
				double c;

				drop[0] = wid[i];
				drop[1] = wid[j];
				drop[2] = wid[k];
				c = churn_without(y, "A", INT64_MAX, drop, 3) -
				    base;
				if (c < lo)
					lo = c;
				if (c > hi)
					hi = c;
			}
	r3 = r.faith_random3;
	t3v = r.faith_top3;
	ok(isfinite(r3) && r3 >= lo - TOL && r3 <= hi + TOL, "A: "
	    "faithfulness.random3 %.6f lies within [%.6f, %.6f], the range "
	    "over every set of 3", r3, lo, hi);
	j3 = json_of(x, "A", &o);
	ok(same_text(j2, j3), "A --occlusion twice: byte-identical JSON");
	free(j3);
	o.seed = 2;
	rc = run(x, "A", &o, &r, &e);
	ok(rc == 0 && isfinite(r.faith_random3) && r.faith_random3 != r3 &&
	    r.faith_random3 >= lo - TOL && r.faith_random3 <= hi + TOL &&
	    r.faith_top3 == t3v && occl[0] == r.occlusion[0],
	    "A --occlusion, another seed: another random3 (%.6f), still in "
	    "range; occlusion unchanged", r.faith_random3);
	o.seed = EXPLAIN_SEED;
	rc = run(x, "A", &o, &r, &e);
	ok(rc == 0 && r.faith_random3 == r3, "A --occlusion, the first seed "
	    "again: the same random3");
	free(j2);

	/* occlusion on top of a drop: both masks together */
	drop[3] = id_a[9];
	o.drop = &drop[3];
	o.n_drop = 1;
	rc = run(x, "A", &o, &r, &e);
	is_int(rc, 0, "A --drop --occlusion");
	window_ok(&r, "A", INT64_MAX, &drop[3], 1, 12, "A --drop --occlusion");
	n = r.n;
	base = r.churn;
	for (i = 0; i < n; i++) {
		occl[i] = r.occlusion[i];
		wid[i] = r.ev[i].id;
	}
	worst = 0;
	for (i = 0; i < n; i++) {
		int64_t two[2];
		double c;

		two[0] = drop[3];
		two[1] = wid[i];
		c = churn_without(y, "A", INT64_MAX, two, 2);
		worsen(&worst, fabs(c - (base + occl[i])));
	}
	ok(worst <= TOL, "A --drop X --occlusion: occlusion[j] = churn without "
	    "X and j - churn without X (worst %.2g)", worst);
	{
		int64_t four[4];

		four[0] = drop[3];
		for (k = 0; k < 3; k++)
			four[1 + k] = wid[n - 3 + k];
		is_near(r.faith_last3, churn_without(y, "A", INT64_MAX, four,
		    4) - base, TOL, "A --drop --occlusion: last3 keeps the "
		    "drop");
	}

	/* a window shorter than max_len, with --at */
	explain_opts_init(&o);
	o.occlusion = 1;
	o.at = T0 + 9 * DAY;
	rc = run(x, "D", &o, &r, &e);
	ok(rc == 0 && r.n == 4 && r.has_faithfulness, "D --at --occlusion: 4 "
	    "events, faithfulness");
	n = r.n;
	base = r.churn;
	for (i = 0; i < n; i++) {
		occl[i] = r.occlusion[i];
		wid[i] = r.ev[i].id;
	}
	worst = 0;
	for (i = 0; i < n; i++) {
		double c = churn_without(y, "D", o.at, &wid[i], 1);

		worsen(&worst, fabs(c - (base + occl[i])));
	}
	ok(worst <= TOL, "D --at: churn with --drop X = churn + occlusion[X] "
	    "(worst %.2g)", worst);
	top3_rollout(&r, t3);
	for (k = 0; k < 3; k++)
		drop[k] = wid[t3[k]];
	is_near(r.faith_top3, churn_without(y, "D", o.at, drop, 3) - base, TOL,
	    "D --at: faithfulness.top3");
	/* B has 3 events: no set of 3 leaves anything */
	explain_opts_init(&o);
	o.occlusion = 1;
	rc = run(x, "B", &o, &r, &e);
	ok(rc == 0 && r.n == 3 && r.has_occlusion && !r.has_faithfulness,
	    "B (3 events) --occlusion: occlusion, no faithfulness");
	j2 = explain_json(&r, model, "tiny", 1);
	json_ok(&r, j2, "B --occlusion");
	free(j2);
	ok(r.n == 3 && r.ev[1].amount == 0 && r.tok[1].amount == 0,
	    "B: an amount of 0 is kept (not missing) and gives token 0");

	/* an id repeated in --drop leaves out one event, nothing more */
	explain_opts_init(&o);
	o.occlusion = 1;
	drop[0] = drop[1] = rid("D", 2);
	o.drop = drop;
	o.n_drop = 1;
	rc = run(y, "D", &o, &r, &e);
	o.n_drop = 2;
	rc2 = run(x, "D", &o, &r2, &e);
	ok(rc == 0 && (rc2 == ERR_USAGE || (rc2 == 0 &&
	    same_occlusion(&r, &r2))), "D (5 events) --drop X,X --occlusion: "
	    "the report of --drop X (or a usage error)");
	o.at = T0 + 9 * DAY;		/* 4 events */
	for (k = 0; k < 5; k++)
		drop[k] = rid("D", 1);
	o.n_drop = 1;
	rc = run(y, "D", &o, &r, &e);
	o.n_drop = 5;
	rc2 = run(x, "D", &o, &r2, &e);
	ok(rc == 0 && !r.has_faithfulness && (rc2 == ERR_USAGE || (rc2 == 0 &&
	    same_occlusion(&r, &r2))), "D --at (4 events) --drop X,X,X,X,X "
	    "--occlusion: the report of --drop X, no faithfulness (or a usage "
	    "error)");
	if (rc2 == 0 && r2.has_faithfulness)
		diag("faithfulness of a 3-event window: top3 %g random3 %g "
		    "last3 %g", r2.faith_top3, r2.faith_random3,
		    r2.faith_last3);

	/* ---- the model from the store ---- */
	lm = explain_load_model(s, NULL, NULL, &e);
	ok(lm == NULL && e.code == ERR_NOTFOUND, "explain_load_model on a "
	    "store without models: ERR_NOTFOUND");
	nn_model_free(lm);
	img = NULL;
	err_clear(&e);
	rc = nn_model_write_mem(model, NULL, &img, &len, &e);
	if (rc == 0) {
		char *cfg = nn_config_json(model);

		rc = store_model_add(s, "tiny", 1700000000, cfg, NULL, img,
		    len, NULL, &e) > 0 ? 0 : -1;
		free(cfg);
	}
	free(img);
	ok(rc == 0, "the model stored as 'tiny'%s%s", rc ? ": " : "",
	    rc ? e.msg : "");
	err_clear(&e);
	lm = explain_load_model(s, "no-such-model", NULL, &e);
	ok(lm == NULL && e.code == ERR_NOTFOUND && strstr(e.msg,
	    "no-such-model") != NULL, "explain_load_model with a missing "
	    "name: ERR_NOTFOUND naming it (%s)", e.msg);
	nn_model_free(lm);
	memset(&row, 0, sizeof(row));
	err_clear(&e);
	lm = explain_load_model(s, "tiny", &row, &e);
	ok(lm != NULL && row.name != NULL && strcmp(row.name, "tiny") == 0,
	    "explain_load_model by name, with its row");
	store_model_release(&row);
	if (lm != NULL) {
		struct explain *z = explain_new(s, lm, &e);

		explain_opts_init(&o);
		j2 = NULL;
		if (z != NULL && run(z, "A", &o, &r2, &e) == 0)
			j2 = explain_json(&r2, lm, "tiny", 1);
		ok(same_text(j1, j2), "the stored model explains A to the "
		    "same JSON");
		free(j2);
		explain_free(z);
		nn_model_free(lm);
	} else
		ok(0, "the stored model explains A to the same JSON");
	lm = explain_load_model(s, NULL, NULL, &e);
	ok(lm != NULL, "explain_load_model(NULL): the newest");
	nn_model_free(lm);

	free(j1);
	explain_free(x);
	explain_free(y);
	nn_model_free(model);
	store_close(s);
	unlink(path("x.db"));
	unlink(path("x.db-journal"));
	unlink(path("x.db-wal"));
	unlink(path("x.db-shm"));
	rmdir(dir);
	return exit_status();
}
