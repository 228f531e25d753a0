/*
 * t-sample.c: the sample data generator through an in-memory sink:
 * determinism, shape, ground truth pointing at the right events, and
 * the planted rules shifting outcomes (churn as MODEL.md defines it).
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sample.h"
#include "store.h"
#include "util.h"
#include "tap.h"

#define DAY		86400
#define HORIZON		(30 * DAY)
#define NTYPES_MAX	64

/* One event as the tests need it. */
struct tev {
	int64_t		 ts;
	int		 cust;		/* index: C000001 -> 0 */
	int		 type;		/* index in names[] */
	int		 rating;	/* review, else 0 */
	int		 unresolved;	/* support_ticket */
	int		 campaign;	/* id of the campaign name, -1 none */
	int		 has_text, has_status, money_ok;
};

struct ttruth {
	int		 rule;		/* enum sample_rule */
	int		 cust, fired, outcome_ok;
	size_t		 n;
	int64_t		 ids[8];
};

struct mem {
	uint64_t	 hash;
	uint64_t	 hash_at;	/* hash before customer snap_cust */
	int		 snap_cust;
	int		 last_cust;
	int		 order_ok;	/* per customer time order, in range */
	int64_t		 lo, hi;	/* allowed ts range */
	struct tev	*ev;		/* ev[id - 1] */
	size_t		 nev, cap;
	struct ttruth	*tr;
	size_t		 ntr, trcap;
	int64_t		 items;
	struct smap	*types, *camps, *archs;
	char		*names[NTYPES_MAX];
	int		 ntypes;
	int		 bad_truth_order;	/* truth out of place */
};

/* Index of event type name, added on first sight. */
static int
type_index(struct mem *m, const char *name)
{
	int64_t *slot;
	int isnew;

	slot = smap_put(m->types, name, strlen(name), m->ntypes, &isnew);
	if (isnew && m->ntypes < NTYPES_MAX)
		m->names[m->ntypes++] = xstrdup(name);
	return (int)*slot;
}

/* Is type the event type called name? */
static int
named(const struct mem *m, int type, const char *name)
{
	return type >= 0 && type < m->ntypes &&
	    strcmp(m->names[type], name) == 0;
}

/* Value of "key":"value" in a flat JSON object, copied into out. */
static int
attr(const char *json, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *q;

	if (json == NULL)
		return 0;
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(json, pat)) == NULL)
		return 0;
	p += strlen(pat);
	if ((q = strchr(p, '"')) == NULL || (size_t)(q - p) >= len)
		return 0;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 1;
}

/* Fold a string (or its absence) into the hash. */
static void
hash_str(uint64_t *h, const char *s)
{
	if (s == NULL)
		*h = hash_bytes("\0", 1, *h + 1);
	else
		*h = hash_bytes(s, strlen(s) + 1, *h);
}

/* Fold a number (to the cent, or its absence) into the hash. */
static void
hash_num(uint64_t *h, double v)
{
	int64_t c = isnan(v) ? INT64_MIN : (int64_t)llround(v * 100);

	*h = hash_bytes(&c, sizeof(c), *h);
}

/* Sink: hash the event and keep what the checks need. */
static int64_t
mem_event(void *ctx, const struct ingest_event *ev, struct err *e)
{
	struct mem *m = ctx;
	struct tev *t;
	char v[64];
	int cust = atoi(ev->customer + 1) - 1;

	if (cust != m->last_cust) {
		if (cust == m->snap_cust)
			m->hash_at = m->hash;
		if (cust < m->last_cust)
			m->order_ok = 0;
		m->last_cust = cust;
	}
	hash_str(&m->hash, ev->customer);
	m->hash = hash_bytes(&ev->ts, sizeof(ev->ts), m->hash);
	hash_str(&m->hash, ev->type);
	hash_str(&m->hash, ev->item);
	hash_str(&m->hash, ev->item_name);
	hash_str(&m->hash, ev->category);
	hash_num(&m->hash, ev->price);
	hash_num(&m->hash, ev->amount);
	hash_num(&m->hash, ev->quantity);
	hash_str(&m->hash, ev->channel);
	hash_str(&m->hash, ev->text);
	hash_str(&m->hash, ev->attrs);
	hash_str(&m->hash, ev->cust_attrs);
	if (m->nev == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 4096;
		m->ev = xreallocarray(m->ev, m->cap, sizeof(*m->ev));
	}
	t = &m->ev[m->nev++];
	memset(t, 0, sizeof(*t));
	t->ts = ev->ts;
	t->cust = cust;
	t->type = type_index(m, ev->type);
	t->campaign = -1;
	if (ev->ts < m->lo || ev->ts >= m->hi || ev->line != 0)
		m->order_ok = 0;
	if (m->nev > 1 && m->ev[m->nev - 2].cust == cust &&
	    m->ev[m->nev - 2].ts > ev->ts)
		m->order_ok = 0;
	if (attr(ev->attrs, "rating", v, sizeof(v)))
		t->rating = atoi(v);
	if (attr(ev->attrs, "status", v, sizeof(v))) {
		t->has_status = strcmp(v, "resolved") == 0 ||
		    strcmp(v, "unresolved") == 0;
		t->unresolved = strcmp(v, "unresolved") == 0;
	}
	if (attr(ev->attrs, "campaign", v, sizeof(v)))
		t->campaign = (int)*smap_put(m->camps, v, strlen(v),
		    (int64_t)smap_count(m->camps), NULL);
	t->has_text = ev->text != NULL && ev->text[0] != '\0';
	t->money_ok = 1;
	if (strcmp(ev->type, "purchase") == 0)
		t->money_ok = !isnan(ev->amount) && !isnan(ev->price) &&
		    !isnan(ev->quantity) && ev->amount > 0 &&
		    fabs(ev->amount - ev->price * ev->quantity) < 0.005;
	else if (strcmp(ev->type, "refund") == 0)
		t->money_ok = !isnan(ev->amount) && ev->amount < 0 &&
		    fabs(-ev->amount - ev->price * ev->quantity) < 0.005;
	if (attr(ev->cust_attrs, "archetype", v, sizeof(v)))
		smap_put(m->archs, v, strlen(v), 0, NULL);
	(void)e;
	return (int64_t)m->nev;
}

/* Sink: hash and keep a ground-truth row. */
static int
mem_truth(void *ctx, const char *rule, const char *customer,
    const char *outcome, int fired, const int64_t *ids, size_t n,
    struct err *e)
{
	struct mem *m = ctx;
	struct ttruth *t;
	int r;

	if (m->ntr == m->trcap) {
		m->trcap = m->trcap ? 2 * m->trcap : 1024;
		m->tr = xreallocarray(m->tr, m->trcap, sizeof(*m->tr));
	}
	t = &m->tr[m->ntr++];
	memset(t, 0, sizeof(*t));
	t->rule = -1;
	for (r = 0; r < SAMPLE_RULE_N; r++)
		if (strcmp(rule, sample_rule_name(r)) == 0)
			t->rule = r;
	t->cust = atoi(customer + 1) - 1;
	t->fired = fired;
	t->outcome_ok = t->rule >= 0 &&
	    strcmp(outcome, sample_rule_outcome(t->rule)) == 0;
	t->n = n < 8 ? n : 8;
	memcpy(t->ids, ids, t->n * sizeof(ids[0]));
	if (t->cust != m->last_cust)
		m->bad_truth_order = 1;
	hash_str(&m->hash, rule);
	hash_str(&m->hash, customer);
	hash_str(&m->hash, outcome);
	m->hash = hash_bytes(&fired, sizeof(fired), m->hash);
	m->hash = hash_bytes(ids, n * sizeof(ids[0]), m->hash);
	(void)e;
	return 0;
}

/* Sink: hash and count a catalog item. */
static int
mem_item(void *ctx, const char *item, const char *name, const char *category,
    double price, struct err *e)
{
	struct mem *m = ctx;

	m->items++;
	hash_str(&m->hash, item);
	hash_str(&m->hash, name);
	hash_str(&m->hash, category);
	hash_num(&m->hash, price);
	(void)e;
	return 0;
}

/* An empty in-memory sink for the options o. */
static void
mem_init(struct mem *m, const struct sample_opts *o)
{
	memset(m, 0, sizeof(*m));
	m->types = smap_new();
	m->camps = smap_new();
	m->archs = smap_new();
	m->last_cust = -1;
	m->snap_cust = 200;
	m->order_ok = 1;
	m->lo = o->start;
	m->hi = o->start + (int64_t)o->days * DAY;
}

/* Free what the sink holds. */
static void
mem_release(struct mem *m)
{
	int i;

	for (i = 0; i < m->ntypes; i++)
		free(m->names[i]);
	smap_free(m->types);
	smap_free(m->camps);
	smap_free(m->archs);
	free(m->ev);
	free(m->tr);
}

/* Generate customers with seed into a fresh sink m. */
static int
run(struct mem *m, int64_t customers, uint64_t seed, struct err *e)
{
	struct sample_opts o;
	struct sample_sink k = { NULL, mem_event, mem_truth, mem_item, NULL };

	sample_opts_init(&o);
	o.customers = customers;
	o.seed = seed;
	mem_init(m, &o);
	k.ctx = m;
	return sample_generate(&o, &k, e);
}

/* Does truth row t name events of its customer with the rule's types? */
static int
truth_ok(const struct mem *m, const struct ttruth *t)
{
	const struct tev *ev[8];
	size_t i;

	if (t->rule < 0 || !t->outcome_ok || t->n == 0)
		return 0;
	for (i = 0; i < t->n; i++) {
		if (t->ids[i] < 1 || (size_t)t->ids[i] > m->nev)
			return 0;
		ev[i] = &m->ev[t->ids[i] - 1];
		if (ev[i]->cust != t->cust)
			return 0;
		if (i > 0 && ev[i]->ts < ev[i - 1]->ts)
			return 0;
	}
	switch (t->rule) {
	case SAMPLE_TICKETS:
		for (i = 0; i < t->n; i++)
			if (!named(m, ev[i]->type, "support_ticket"))
				return 0;
		return t->n >= 2 && ev[t->n - 1]->unresolved &&
		    ev[t->n - 1]->ts - ev[0]->ts <= 14 * DAY;
	case SAMPLE_SHIPPING:
		return t->n == 4 && named(m, ev[0]->type, "shipping_view") &&
		    named(m, ev[1]->type, "cart_add") &&
		    named(m, ev[2]->type, "shipping_view") &&
		    named(m, ev[3]->type, "cart_add") &&
		    ev[1]->ts - ev[0]->ts <= 3600 &&
		    ev[3]->ts - ev[2]->ts <= 3600;
	case SAMPLE_REFUND:
		return t->n == 2 && named(m, ev[0]->type, "refund") &&
		    named(m, ev[1]->type, "review") && ev[1]->rating >= 1 &&
		    ev[1]->rating <= 2 && ev[1]->ts - ev[0]->ts <= 14 * DAY;
	case SAMPLE_CAMPAIGN:
		return t->n == 1 && named(m, ev[0]->type, "email_click") &&
		    ev[0]->campaign >= 0;
	}
	return 0;
}

/* Rule 1 by scanning: an unresolved ticket, another in the 14 days before. */
static int64_t
count_rule1(const struct mem *m)
{
	int64_t n = 0;
	size_t i, j;

	for (i = 0; i < m->nev; i++) {
		const struct tev *t = &m->ev[i];

		if (!named(m, t->type, "support_ticket") || !t->unresolved)
			continue;
		for (j = i; j-- > 0 && m->ev[j].cust == t->cust &&
		    t->ts - m->ev[j].ts <= 14 * DAY; )
			if (named(m, m->ev[j].type, "support_ticket")) {
				n++;
				break;
			}
	}
	return n;
}

struct cstat {
	int	 before, after;		/* events <= T, in (T, T + horizon] */
	int	 any;			/* any rule occurrence at all */
	int	 fired[SAMPLE_RULE_N];	/* a fired occurrence completed <= T */
	int	 occ[SAMPLE_RULE_N];	/* an occurrence completed <= T */
};

/* Churn rate over customers with events <= T that pass the filter. */
static double
churn_rate(const struct cstat *cs, int n, int rule, int want_fired,
    int *count, int *churned)
{
	int i;

	*count = *churned = 0;
	for (i = 0; i < n; i++) {
		int in;

		if (!cs[i].before)
			continue;
		if (rule < 0)
			in = !cs[i].any;
		else if (want_fired)
			in = cs[i].fired[rule];
		else
			in = cs[i].occ[rule] && !cs[i].fired[rule];
		if (!in)
			continue;
		(*count)++;
		*churned += !cs[i].after;
	}
	return *count ? (double)*churned / *count : 0;
}

/* Generate, then check shape, truth and planted effects. */
int
main(void)
{
	struct mem a, b, c, d;
	struct err e;
	struct cstat *cs;
	int64_t last = 0, T, n1 = 0;
	int ncust = 3000, i, n, k, base_n, base_c, bad = 0, typed = 1;
	int money = 1, texts = 1, fired = 0;
	size_t j;
	double base, rate;
	int64_t clicks = 0, clicks_buy = 0, opens = 0, opens_buy = 0;
	int64_t rule_rows[SAMPLE_RULE_N] = { 0 };

	plan(23);
	err_clear(&e);
	ok(run(&a, ncust, 7, &e) == 0, "generate %d customers", ncust);
	diag("%zu events, %zu truth rows, %lld items, %d types", a.nev, a.ntr,
	    (long long)a.items, a.ntypes);
	ok(run(&b, ncust, 7, &e) == 0 && a.hash == b.hash && a.nev == b.nev,
	    "same seed, same data (%016" PRIx64 ")", a.hash);
	ok(run(&c, ncust, 8, &e) == 0 && a.hash != c.hash,
	    "another seed, other data");
	ok(run(&d, 200, 7, &e) == 0 && d.hash == a.hash_at,
	    "the first 200 customers do not depend on how many follow");
	mem_release(&b);
	mem_release(&c);
	mem_release(&d);

	ok(a.ntypes >= 12, "at least 12 event types (%d)", a.ntypes);
	is_int(a.items, 500, "catalog items");
	is_int((int64_t)smap_count(a.archs), 5, "five archetypes");
	ok(a.order_ok, "each customer's events in time order, one customer "
	    "after another, inside [start, start + days)");
	ok(!a.bad_truth_order, "truth rows follow their customer's events");
	for (j = 0; j < a.nev; j++) {
		const struct tev *t = &a.ev[j];

		money &= t->money_ok;
		if (named(&a, t->type, "support_ticket"))
			texts &= t->has_text && t->has_status;
		if (named(&a, t->type, "review"))
			texts &= t->has_text && t->rating >= 1 &&
			    t->rating <= 5;
	}
	ok(money, "purchase amount = price x quantity, refunds negative");
	ok(texts, "tickets have text and status, reviews text and a rating");

	for (j = 0; j < a.ntr; j++) {
		if (!truth_ok(&a, &a.tr[j])) {
			if (bad++ < 5)
				diag("bad truth row %zu: rule %d customer %d",
				    j, a.tr[j].rule, a.tr[j].cust);
		}
		if (a.tr[j].rule >= 0) {
			rule_rows[a.tr[j].rule]++;
			fired += a.tr[j].fired;
		}
	}
	ok(bad == 0, "every truth row names events of its customer with the "
	    "rule's types and shape");
	for (k = 0; k < SAMPLE_RULE_N; k++)
		diag("%-20s %6lld occurrences", sample_rule_name(k),
		    (long long)rule_rows[k]);
	typed = rule_rows[0] > 0 && rule_rows[1] > 0 && rule_rows[2] > 0 &&
	    rule_rows[3] > 0;
	ok(typed, "every rule occurs");
	ok(fired > 0 && (size_t)fired < a.ntr, "some occurrences fire, some "
	    "not (%d of %zu)", fired, a.ntr);
	n1 = count_rule1(&a);
	is_int(rule_rows[SAMPLE_TICKETS], n1, "rule 1 ground truth lists "
	    "every occurrence found by scanning the events");

	/* churn as MODEL.md: cut-off T = last timestamp - horizon */
	for (j = 0; j < a.nev; j++)
		if (a.ev[j].ts > last)
			last = a.ev[j].ts;
	T = last - HORIZON;
	cs = xcalloc((size_t)ncust, sizeof(*cs));
	for (j = 0; j < a.nev; j++) {
		const struct tev *t = &a.ev[j];

		if (t->ts <= T)
			cs[t->cust].before = 1;
		else if (t->ts <= T + HORIZON)
			cs[t->cust].after = 1;
	}
	for (j = 0; j < a.ntr; j++) {
		const struct ttruth *t = &a.tr[j];
		int64_t done = a.ev[t->ids[t->n - 1] - 1].ts;

		if (t->rule < 0)
			continue;
		cs[t->cust].any = 1;
		if (done <= T) {
			cs[t->cust].occ[t->rule] = 1;
			if (t->fired)
				cs[t->cust].fired[t->rule] = 1;
		}
	}
	base = churn_rate(cs, ncust, -1, 0, &base_n, &base_c);
	diag("no rule occurrence: %d of %d customers churned (%.1f%%)",
	    base_c, base_n, 100 * base);
	ok(base_n >= 500 && base > 0.02 && base < 0.6, "some customers churn "
	    "for no planted reason");
	for (k = SAMPLE_TICKETS; k <= SAMPLE_REFUND; k++) {
		int cn, cc, un, uc;
		double unf;

		rate = churn_rate(cs, ncust, k, 1, &cn, &cc);
		unf = churn_rate(cs, ncust, k, 0, &un, &uc);
		diag("%-20s fired: %d of %d churned (%.1f%%); not fired: "
		    "%d of %d (%.1f%%)", sample_rule_name(k), cc, cn,
		    100 * rate, uc, un, 100 * unf);
		ok(cn >= 30 && rate > base + 0.3, "%s: churn clearly above "
		    "the rate without any rule", sample_rule_name(k));
	}

	/* rule 4: purchases within 7 days of a campaign click vs open only */
	for (j = 0; j < a.nev; j++) {
		const struct tev *t = &a.ev[j];
		int click = 0, buy = 0;
		size_t x;

		if (!named(&a, t->type, "email_open") || t->campaign < 0)
			continue;
		for (x = j + 1; x < a.nev && a.ev[x].cust == t->cust &&
		    a.ev[x].ts <= t->ts + 7 * DAY; x++) {
			if (named(&a, a.ev[x].type, "email_click") &&
			    a.ev[x].campaign == t->campaign)
				click = 1;
			if (named(&a, a.ev[x].type, "purchase"))
				buy = 1;
		}
		if (click) {
			clicks++;
			clicks_buy += buy;
		} else {
			opens++;
			opens_buy += buy;
		}
	}
	diag("campaign click: %lld of %lld bought within 7 days (%.1f%%); "
	    "open only: %lld of %lld (%.1f%%)", (long long)clicks_buy,
	    (long long)clicks, clicks ? 100.0 * clicks_buy / clicks : 0.0,
	    (long long)opens_buy, (long long)opens,
	    opens ? 100.0 * opens_buy / opens : 0.0);
	ok(clicks >= 50 && opens >= 50 && (double)clicks_buy / clicks >
	    (double)opens_buy / opens + 0.3, "campaign clicks raise the "
	    "7-day purchase rate");
	n = 0;
	for (i = 0; i < ncust; i++)
		n += cs[i].before;
	ok(n > ncust / 2, "most customers are seen before the cut-off (%d)",
	    n);

	{
		struct sample_opts o;
		struct sample_sink k0 = { NULL, mem_event, NULL, NULL, NULL };

		sample_opts_init(&o);
		o.customers = -1;
		err_clear(&e);
		ok(sample_generate(&o, &k0, &e) < 0 && e.code == ERR_USAGE,
		    "negative customer count refused: %s", e.msg);
		o.customers = 1;
		o.days = 0;
		err_clear(&e);
		ok(sample_generate(&o, &k0, &e) < 0 && e.code == ERR_USAGE,
		    "zero days refused: %s", e.msg);
	}
	free(cs);
	mem_release(&a);
	return exit_status();
}
