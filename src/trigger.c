/*
 * trigger.c: behaviours found in windows (a table of patterns over event
 * type names, plus every event type of the model's vocabulary), what the
 * model makes of them for one customer (attention share, deletion
 * effect: the prediction with the behaviour's events removed from the
 * history before the window is cut, as MODEL.md's what-if), and their
 * statistics over a segment with the plain odds ratio beside them. The
 * summaries are sentences with the numbers in them.
 */
#include "config.h"
#include "trigger.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "explain.h"
#include "nn.h"
#include "store.h"
#include "tparse.h"
#include "util.h"

#define DAY	86400

/* Kinds of pattern. */
enum pkind {
	P_ONE,		/* an event of type a (with the condition) */
	P_REPEAT,	/* count events of type a within `within`, the last
			 * with the condition */
	P_FOLLOW,	/* a, then b (with the condition) within `within` */
	P_ABANDON	/* a cart add (type b) bought nothing within a day,
			 * after a (when set) within `link`; count of them
			 * within `within` */
};

/* A condition on an event's attribute. */
enum cond { C_NONE, C_EQ, C_LE };

/* The patterns: tables over code. Ids of the planted rules match. */
static const struct pattern {
	const char	*name;
	const char	*phrase;
	enum pkind	 kind;
	const char	*a, *b;
	int		 count;
	int64_t		 within, link;
	const char	*attr;
	enum cond	 cond;
	const char	*val;
	double		 num;
} patterns[] = {
	{ "tickets_unresolved", "2 support tickets within 14 days, the later "
	    "unresolved", P_REPEAT, "support_ticket", NULL, 2, 14 * DAY, 0,
	    "status", C_EQ, "unresolved", 0 },
	{ "tickets_14d", "2 or more support tickets within 14 days", P_REPEAT,
	    "support_ticket", NULL, 2, 14 * DAY, 0, NULL, C_NONE, NULL, 0 },
	{ "unresolved_ticket", "an unresolved support ticket", P_ONE,
	    "support_ticket", NULL, 1, 0, 0, "status", C_EQ, "unresolved", 0 },
	{ "shipping_abandon", "an abandoned cart after a shipping-cost view, "
	    "twice within 30 days", P_ABANDON, "shipping_view", "cart_add", 2,
	    30 * DAY, 3600, NULL, C_NONE, NULL, 0 },
	{ "shipping_abandon_once", "an abandoned cart after a shipping-cost "
	    "view", P_ABANDON, "shipping_view", "cart_add", 1, 0, 3600, NULL,
	    C_NONE, NULL, 0 },
	{ "cart_abandon", "an abandoned cart (nothing bought within a day)",
	    P_ABANDON, NULL, "cart_add", 1, 0, 0, NULL, C_NONE, NULL, 0 },
	{ "refund_bad_review", "a refund followed by a review of 1 or 2 stars "
	    "within 14 days", P_FOLLOW, "refund", "review", 1, 14 * DAY, 0,
	    "rating", C_LE, NULL, 2 },
	{ "bad_review", "a review of 1 or 2 stars", P_ONE, "review", NULL, 1,
	    0, 0, "rating", C_LE, NULL, 2 },
	{ "campaign_click", "a click in a campaign email", P_ONE,
	    "email_click", NULL, 1, 0, 0, "campaign", C_NONE, NULL, 0 },
};
#define N_PATTERNS	(sizeof(patterns) / sizeof(patterns[0]))

struct behaviour {
	char		 name[64];
	char		 phrase[160];
	const struct pattern *p;	/* NULL: one event type */
	int		 type;		/* its vocabulary index, for types */
};

struct trig_catalog {
	const struct nn_model	*m;
	struct behaviour	*b;
	size_t			 n;
	int			*purchase;	/* (n_types) 1: a purchase type */
};

/* Is the type name in the vocabulary? */
static int
has_type(const struct nn_model *m, const char *name)
{
	return name == NULL || vocab_type_index(m->vocab, name) > TOK_UNK;
}

/* The catalog: the patterns whose types exist, then every type. */
struct trig_catalog *
trig_catalog_new(const struct nn_model *m)
{
	const int NT = m->cfg.n_types;
	struct trig_catalog *c = xcalloc(1, sizeof(*c));
	size_t i;
	int t;

	c->m = m;
	c->b = xcalloc(N_PATTERNS + (size_t)NT, sizeof(*c->b));
	c->purchase = xcalloc((size_t)NT, sizeof(int));
	for (i = 0; i < N_PATTERNS; i++) {
		const struct pattern *p = &patterns[i];

		if (!has_type(m, p->a) || !has_type(m, p->b))
			continue;
		if (p->kind == P_ABANDON) {
			/* an abandoned cart needs a purchase type */
			for (t = TOK_UNK + 1; t < NT; t++)
				if (store_is_purchase_type(vocab_type(m->vocab,
				    t)))
					break;
			if (t == NT)
				continue;
		}
		snprintf(c->b[c->n].name, sizeof(c->b[0].name), "%s", p->name);
		snprintf(c->b[c->n].phrase, sizeof(c->b[0].phrase), "%s",
		    p->phrase);
		c->b[c->n++].p = p;
	}
	for (t = TOK_UNK + 1; t < NT; t++) {
		const char *tn = vocab_type(m->vocab, t);
		struct behaviour *b = &c->b[c->n++];
		char *q;

		snprintf(b->name, sizeof(b->name), "%s", tn);
		snprintf(b->phrase, sizeof(b->phrase), "%s", tn);
		for (q = b->phrase; *q; q++)
			if (*q == '_')
				*q = ' ';
		b->type = t;
		c->purchase[t] = store_is_purchase_type(tn);
	}
	return c;
}

void
trig_catalog_free(struct trig_catalog *c)
{
	if (c == NULL)
		return;
	free(c->b);
	free(c->purchase);
	free(c);
}

size_t
trig_count(const struct trig_catalog *c)
{
	return c->n;
}

const char *
trig_name(const struct trig_catalog *c, size_t i)
{
	return c->b[i].name;
}

const char *
trig_phrase(const struct trig_catalog *c, size_t i)
{
	return c->b[i].phrase;
}

int
trig_is_pattern(const struct trig_catalog *c, size_t i)
{
	return c->b[i].p != NULL;
}

/* ---- detection ---- */

/*
 * The value of "key" in a flat JSON object, as text (a string's
 * contents or a number's digits) into out; NULL if absent.
 */
static const char *
attr_value(const char *json, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *q;
	size_t n;

	if (json == NULL)
		return NULL;
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	/* a key: after { or , and followed by : (not inside a value) */
	for (p = json; (p = strstr(p, pat)) != NULL; p += strlen(pat)) {
		const char *b = p, *a = p + strlen(pat);

		while (b > json && isspace((unsigned char)b[-1]))
			b--;
		while (isspace((unsigned char)*a))
			a++;
		if (b > json && (b[-1] == '{' || b[-1] == ',') && *a == ':') {
			p = a;
			break;
		}
	}
	if (p == NULL)
		return NULL;
	p++;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		q = strchr(++p, '"');
		if (q == NULL)
			return NULL;
	} else
		for (q = p; *q && *q != ',' && *q != '}' &&
		    !isspace((unsigned char)*q); q++)
			;
	n = (size_t)(q - p) < len - 1 ? (size_t)(q - p) : len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

/* Does event ev satisfy the pattern's condition? */
static int
cond_ok(const struct pattern *p, const struct store_hevent *ev)
{
	char v[64];

	if (p->attr == NULL)
		return 1;
	if (attr_value(ev->attrs, p->attr, v, sizeof(v)) == NULL)
		return 0;
	switch (p->cond) {
	case C_NONE:
		return v[0] != '\0';
	case C_EQ:
		return strcmp(v, p->val) == 0;
	case C_LE:
		return strtod(v, NULL) <= p->num && v[0] != '\0';
	}
	return 0;
}

static int
is_type(const struct store_hevent *ev, const char *t)
{
	return t != NULL && strcmp(ev->type, t) == 0;
}

/* Positions into a mark array, and the hit they make. */
static void
hit_add(struct trig_hits *h, size_t b, const unsigned char *mark, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += mark[i] != 0;
	if (k == 0)
		return;
	if (h->n + 2 > h->cap) {
		h->cap = h->cap ? h->cap * 2 : 32;
		h->b = xreallocarray(h->b, h->cap, sizeof(*h->b));
		h->off = xreallocarray(h->off, h->cap + 1, sizeof(*h->off));
	}
	if (h->n == 0)
		h->off[0] = 0;
	if (h->off[h->n] + k > h->pcap) {
		while (h->off[h->n] + k > h->pcap)
			h->pcap = h->pcap ? h->pcap * 2 : 256;
		h->pos = xreallocarray(h->pos, h->pcap, sizeof(*h->pos));
	}
	for (i = 0, k = h->off[h->n]; i < n; i++)
		if (mark[i])
			h->pos[k++] = (int)i;
	h->b[h->n] = b;
	h->off[++h->n] = k;
}

/* Is the cart add at i abandoned: no purchase within a day, seen by end? */
static int
abandoned(const struct trig_catalog *c, const struct store_hevent *ev,
    size_t n, size_t i, int64_t end)
{
	size_t j;

	if (ev[i].ts + DAY > end)
		return 0;		/* not known yet */
	for (j = i + 1; j < n && ev[j].ts <= ev[i].ts + DAY; j++)
		if (c->purchase[vocab_type_index(c->m->vocab, ev[j].type)])
			return 0;
	return 1;
}

/* Mark the events of pattern p in the window; 1 if any. */
static int
detect_pattern(const struct trig_catalog *c, const struct pattern *p,
    const struct store_hevent *ev, size_t n, int64_t end, unsigned char *mark)
{
	size_t i, j, k;
	int any = 0, cnt;

	memset(mark, 0, n);
	for (i = 0; i < n; i++) {
		switch (p->kind) {
		case P_ONE:
			if (is_type(&ev[i], p->a) && cond_ok(p, &ev[i]))
				mark[i] = any = 1;
			break;
		case P_REPEAT:
			if (!is_type(&ev[i], p->a) || !cond_ok(p, &ev[i]))
				break;
			for (cnt = 1, j = i; j > 0 && ev[j - 1].ts >=
			    ev[i].ts - p->within; j--)
				cnt += is_type(&ev[j - 1], p->a);
			if (cnt < p->count)
				break;
			mark[i] = any = 1;
			for (k = j; k < i; k++)
				if (is_type(&ev[k], p->a))
					mark[k] = 1;
			break;
		case P_FOLLOW:
			if (!is_type(&ev[i], p->b) || !cond_ok(p, &ev[i]))
				break;
			for (j = i; j > 0 && ev[j - 1].ts >= ev[i].ts -
			    p->within; j--)
				if (is_type(&ev[j - 1], p->a)) {
					mark[j - 1] = mark[i] = any = 1;
					break;
				}
			break;
		case P_ABANDON:
			break;
		}
	}
	if (p->kind != P_ABANDON)
		return any;
	/* abandoned carts (after the pre event), then the count rule */
	{
		unsigned char *ab = xcalloc(n + 1, 1);
		size_t pre;

		for (i = 0; i < n; i++) {
			if (!is_type(&ev[i], p->b) || !abandoned(c, ev, n, i,
			    end))
				continue;
			if (p->a == NULL) {
				ab[i] = 1;
				continue;
			}
			for (j = i; j > 0 && ev[j - 1].ts >= ev[i].ts - p->link;
			    j--)
				if (is_type(&ev[j - 1], p->a)) {
					ab[i] = 1;
					break;
				}
		}
		for (i = 0; i < n; i++) {
			if (!ab[i])
				continue;
			for (cnt = 1, j = i; j > 0 && ev[j - 1].ts >=
			    ev[i].ts - p->within; j--)
				cnt += ab[j - 1];
			if (cnt < p->count)
				continue;
			any = 1;
			for (k = j; k <= i; k++) {
				if (!ab[k])
					continue;
				mark[k] = 1;
				/* and its shipping view */
				for (pre = k; p->a && pre > 0 &&
				    ev[pre - 1].ts >= ev[k].ts - p->link; pre--)
					if (is_type(&ev[pre - 1], p->a)) {
						mark[pre - 1] = 1;
						break;
					}
			}
		}
		free(ab);
	}
	return any;
}

/* Every behaviour of the window (see trigger.h). */
size_t
trig_detect(const struct trig_catalog *c, const struct store_hevent *ev,
    size_t n, int64_t end, struct trig_hits *h)
{
	unsigned char *mark = xcalloc(n + 1, 1);
	size_t b, i;

	h->n = 0;
	for (b = 0; b < c->n; b++) {
		const struct behaviour *x = &c->b[b];

		if (x->p != NULL) {
			if (!detect_pattern(c, x->p, ev, n, end, mark))
				continue;
		} else {
			for (i = 0; i < n; i++)
				mark[i] = strcmp(ev[i].type, vocab_type(
				    c->m->vocab, x->type)) == 0;
		}
		hit_add(h, b, mark, n);
	}
	free(mark);
	return h->n;
}

void
trig_hits_release(struct trig_hits *h)
{
	free(h->b);
	free(h->off);
	free(h->pos);
	memset(h, 0, sizeof(*h));
}

/* ---- one customer ---- */

/* The outcome's prediction from churn and the next-type distribution. */
static double
outcome_of(const struct trig_catalog *c, int outcome, float churn,
    const float *tp)
{
	double s = 0;
	int t;

	if (outcome == TRIG_CHURN)
		return churn;
	for (t = TOK_UNK + 1; t < c->m->cfg.n_types; t++)
		if (c->purchase[t])
			s += tp[t];
	return s;
}

/*
 * Run the window's variants (each hit's events left out): effects into
 * eff (the prediction minus the prediction without them).
 */
static int
hit_effects(struct explain *x, const struct trig_catalog *c,
    const struct trig_hits *h, int outcome, double base, double *eff,
    struct err *e)
{
	const int NT = c->m->cfg.n_types;
	float *ch = xcalloc(h->n + 1, sizeof(float)),
	    *tp = xcalloc((h->n + 1) * (size_t)NT, sizeof(float));
	size_t k;

	if (explain_drop_window(x, h->pos, h->off, h->n, ch, outcome ==
	    TRIG_PURCHASE ? tp : NULL, e) < 0) {
		free(ch);
		free(tp);
		return -1;
	}
	for (k = 0; k < h->n; k++) {
		double w = outcome_of(c, outcome, ch[k], tp + k * NT);

		/* nothing left without it: the whole prediction is its */
		eff[k] = isnan(w) ? base : base - w;
	}
	free(ch);
	free(tp);
	return 0;
}

static int
cmp_item(const void *a, const void *b)
{
	const struct trig_item *x = a, *y = b;

	if (x->attention != y->attention)
		return x->attention > y->attention ? -1 : 1;
	return (x->b > y->b) - (x->b < y->b);
}

/* "2 May" or "2-19 May" or "28 Apr-3 May 2024" for a span of days. */
static void
day_span(int64_t a, int64_t b, char *out, size_t len)
{
	char x[32], y[32];
	time_t ta = (time_t)a, tb = (time_t)b;
	struct tm ma, mb;

	gmtime_r(&ta, &ma);
	gmtime_r(&tb, &mb);
	strftime(y, sizeof(y), "%-d %b %Y", &mb);
	if (ma.tm_year == mb.tm_year && ma.tm_yday == mb.tm_yday)
		snprintf(out, len, "%s", y);
	else {
		strftime(x, sizeof(x), ma.tm_year == mb.tm_year ?
		    (ma.tm_mon == mb.tm_mon ? "%-d" : "%-d %b") : "%-d %b %Y",
		    &ma);
		snprintf(out, len, "%s-%s", x, y);
	}
}

/* The two or three sentences of a customer's report. */
static char *
customer_summary(const struct trig_catalog *c, const struct trig_customer *t)
{
	const char *what = t->outcome == TRIG_CHURN ? "churn risk" :
	    "purchase propensity (next event a purchase)";
	const struct trig_item *best = NULL, *up = NULL, *down = NULL;
	struct buf b;
	char span[64];
	size_t i;
	char *s;

	buf_init(&b);
	for (i = 0; i < t->n; i++) {
		const struct trig_item *it = &t->item[i];

		if (best == NULL || it->effect > best->effect)
			best = it;
	}
	for (i = 0; i < t->n; i++) {
		const struct trig_item *it = &t->item[i];

		if (it == best)
			continue;
		if (it->effect > 0.005 && (up == NULL || it->effect >
		    up->effect))
			up = it;
		if (it->effect < -0.005 && (down == NULL || it->effect <
		    down->effect))
			down = it;
	}
	buf_printf(&b, "The model puts %s's %s at %.2f, from the last %zu "
	    "events.", t->customer, what, t->prediction, t->n_window);
	if (best != NULL && best->effect > 0.005) {
		day_span(best->first_ts, best->last_ts, span, sizeof(span));
		buf_printf(&b, " What raises it most is %s (%s): without %s "
		    "the %s would be %.2f; the model gives %s %.0f%% of its "
		    "attention, against %.0f%% of the events.",
		    c->b[best->b].phrase, span, best->n_events == 1 ? "it" :
		    "them", t->outcome == TRIG_CHURN ? "risk" : "propensity",
		    t->prediction - best->effect, best->n_events == 1 ?
		    "this event" : "these events", 100 * best->attention,
		    100 * best->event_share);
	} else
		buf_printf(&b, " No behaviour in the window raises it by more "
		    "than 0.005 when deleted.");
	if (up != NULL || down != NULL) {
		buf_adds(&b, " ");
		if (up != NULL)
			buf_printf(&b, "%s %s adds %+.2f", up == NULL ? "" :
			    "Also,", c->b[up->b].phrase, up->effect);
		if (up != NULL && down != NULL)
			buf_adds(&b, "; ");
		if (down != NULL)
			buf_printf(&b, "%s%s takes away %.2f", up ? "" :
			    "On the other side, ", c->b[down->b].phrase,
			    -down->effect);
		buf_adds(&b, ".");
	}
	s = xstrdup(b.data);
	buf_release(&b);
	return s;
}

/* One customer (see trigger.h). */
int
trig_customer(struct store *s, const struct nn_model *m,
    const struct trig_catalog *c, const char *ext, int64_t at, int outcome,
    struct trig_customer *t, struct err *e)
{
	struct explain *x;
	struct explain_opts o;
	struct explain_report r;
	struct trig_hits h;
	double *eff = NULL, base;
	size_t k, j;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	memset(&h, 0, sizeof(h));
	if ((x = explain_new(s, m, e)) == NULL)
		return -1;
	explain_opts_init(&o);
	o.at = at;
	if (explain_run(x, ext, &o, &r, e) < 0)
		goto out;
	base = outcome_of(c, outcome, r.churn, r.type_prob);
	trig_detect(c, r.ev, r.n, r.n ? (at != INT64_MAX ? at :
	    r.ev[r.n - 1].ts) : 0, &h);
	eff = xcalloc(h.n + 1, sizeof(double));
	if (h.n > 0 && hit_effects(x, c, &h, outcome, base, eff, e) < 0)
		goto out;
	t->customer = xstrdup(r.customer);
	t->outcome = outcome;
	t->prediction = base;
	t->n_window = r.n;
	t->item = xcalloc(h.n + 1, sizeof(*t->item));
	for (k = 0; k < h.n; k++) {
		struct trig_item *it;
		size_t q;

		/* the same events as an earlier (more specific) behaviour */
		for (q = 0; q < k; q++)
			if (h.off[q + 1] - h.off[q] == h.off[k + 1] - h.off[k] &&
			    memcmp(h.pos + h.off[q], h.pos + h.off[k],
			    sizeof(int) * (h.off[k + 1] - h.off[k])) == 0)
				break;
		if (q < k)
			continue;
		it = &t->item[t->n++];

		it->b = h.b[k];
		it->n_events = (int)(h.off[k + 1] - h.off[k]);
		it->first_ts = r.ev[h.pos[h.off[k]]].ts;
		it->last_ts = r.ev[h.pos[h.off[k + 1] - 1]].ts;
		for (j = h.off[k]; j < h.off[k + 1]; j++)
			it->attention += r.rollout[h.pos[j]];
		it->event_share = (double)it->n_events / (double)r.n;
		it->effect = eff[k];
	}
	qsort(t->item, t->n, sizeof(*t->item), cmp_item);
	t->summary = customer_summary(c, t);
	rc = 0;
out:
	free(eff);
	trig_hits_release(&h);
	explain_free(x);
	if (rc < 0)
		trig_customer_release(t);
	return rc;
}

void
trig_customer_release(struct trig_customer *t)
{
	free(t->customer);
	free(t->item);
	free(t->summary);
	memset(t, 0, sizeof(*t));
}

/* ---- a segment ---- */

struct acc {
	int64_t		 with, with_out;
	double		 att, share, eff, eff2;
};

/* Did the outcome happen in (cut, cut + hz]? */
static int
outcome_seen(const struct trig_catalog *c, const struct store_history *h,
    int64_t cut, int64_t hz, int outcome)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (h->ev[i].ts <= cut || h->ev[i].ts > cut + hz)
			continue;
		if (outcome == TRIG_CHURN)
			return 0;	/* active: not churned */
		if (store_is_purchase_type(h->ev[i].type))
			return 1;
	}
	(void)c;
	return outcome == TRIG_CHURN;
}

static int
cmp_stat(const void *a, const void *b)
{
	const struct trig_stat *x = a, *y = b;

	if (x->trigger != y->trigger)
		return y->trigger - x->trigger;
	if (x->effect != y->effect)
		return x->effect > y->effect ? -1 : 1;
	return (x->b > y->b) - (x->b < y->b);
}

/* Woolf's interval for the odds ratio of a 2 x 2 table. */
static void
odds_ratio(double a, double b, double cc, double d, double *or,
    double *lo, double *hi)
{
	double se;

	if (a == 0 || b == 0 || cc == 0 || d == 0) {
		a += 0.5;
		b += 0.5;
		cc += 0.5;
		d += 0.5;
	}
	*or = a * d / (b * cc);
	se = sqrt(1 / a + 1 / b + 1 / cc + 1 / d);
	*lo = exp(log(*or) - 1.96 * se);
	*hi = exp(log(*or) + 1.96 * se);
}

/* The segment's summary: the strongest triggers first. */
static char *
segment_summary(const struct trig_catalog *c, const struct trig_segment *g)
{
	const char *out = g->outcome == TRIG_CHURN ? "churned" : "bought";
	struct buf b;
	char day[32];
	size_t i, shown = 0;
	char *s;

	buf_init(&b);
	buf_printf(&b, "Of %lld customers active by %s, %.0f%% %s in the %lld "
	    "days after.", (long long)g->customers, tparse_format(g->cutoff,
	    day, sizeof(day)), g->customers ? 100.0 * g->outcomes /
	    g->customers : 0.0, out, (long long)(g->horizon / DAY));
	for (i = 0; i < g->n && shown < 3; i++) {
		const struct trig_stat *t = &g->stat[i];

		if (!t->trigger)
			break;
		if (shown == 0)
			buf_printf(&b, " The strongest trigger is %s: %lld "
			    "customers showed it and %.0f%% of them %s, against "
			    "%.0f%% of the others (odds ratio %.1f, 95%% CI "
			    "%.1f-%.1f); the model gives these events %.1f "
			    "times their share of its attention, and deleting "
			    "them lowers the predicted %s by %.2f on average.",
			    c->b[t->b].phrase, (long long)t->with, 100.0 *
			    t->with_out / t->with, out, t->without ? 100.0 *
			    t->without_out / t->without : 0.0, t->odds,
			    t->odds_lo, t->odds_hi, t->lift, g->outcome ==
			    TRIG_CHURN ? "churn risk" : "purchase propensity",
			    t->effect);
		else
			buf_printf(&b, "%s %s (%lld customers, odds ratio %.1f, "
			    "deletion %+.2f)", shown == 1 ? " Next:" : ";",
			    c->b[t->b].phrase, (long long)t->with, t->odds,
			    -t->effect);
		shown++;
	}
	if (shown > 1)
		buf_adds(&b, ".");
	if (shown == 0)
		buf_adds(&b, " No behaviour passes the deletion test: deleting "
		    "none of them clearly lowers the prediction.");
	s = xstrdup(b.data);
	buf_release(&b);
	return s;
}

/* A segment (see trigger.h). */
int
trig_segment(struct store *s, const struct nn_model *m,
    const struct trig_catalog *c, int64_t segment_id, int64_t cutoff,
    int outcome, trig_progress_fn fn, void *ctx, struct trig_segment *g,
    struct err *e)
{
	const int64_t hz = (int64_t)m->cfg.churn_horizon_days * DAY;
	struct customer *page = xcalloc(512, sizeof(*page));
	int64_t *ids = xcalloc(512, sizeof(int64_t)), after = 0, total;
	struct acc *acc = xcalloc(c->n, sizeof(*acc));
	struct store_hreader *hr = NULL;
	struct store_history hist;
	struct store_info info;
	struct explain *x = NULL;
	struct explain_opts o;
	struct explain_report r;
	struct trig_hits h;
	double *eff = NULL;
	size_t effcap = 0, b, k, j;
	int n, i, rc = -1, y;

	memset(g, 0, sizeof(*g));
	memset(&h, 0, sizeof(h));
	memset(&info, 0, sizeof(info));
	store_history_init(&hist);
	if (store_info_get(s, &info, e) < 0)
		goto out;
	total = info.customers;
	g->outcome = outcome;
	g->horizon = hz;
	g->cutoff = cutoff ? cutoff : info.last_ts - hz;
	if ((x = explain_new(s, m, e)) == NULL ||
	    (hr = store_hreader_new(s, 0, e)) == NULL)
		goto out;
	explain_opts_init(&o);
	o.at = g->cutoff;
	for (;;) {
		/* the next page of customers: everyone or the members */
		if (segment_id > 0) {
			n = store_seg_members(s, segment_id, after, ids, 512, e);
			for (i = 0; i < n; i++) {
				page[i].id = ids[i];
				snprintf(page[i].ext_id, sizeof(page[i].ext_id),
				    "#%lld", (long long)ids[i]);
			}
		} else
			n = store_customers_by_id(s, after, page, 512, e);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		after = page[n - 1].id;
		for (i = 0; i < n; i++) {
			double base;
			struct err e2;

			if (store_history_read(hr, page[i].id, g->cutoff + hz,
			    0, &hist, e) < 0)
				goto out;
			if (hist.n == 0 || hist.ev[0].ts > g->cutoff)
				continue;	/* not active by the cut-off */
			if (explain_customer(x, &page[i], &o, &r, &e2) < 0) {
				if (e2.code == ERR_USAGE)
					continue;
				*e = e2;
				goto out;
			}
			y = outcome_seen(c, &hist, g->cutoff, hz, outcome);
			g->customers++;
			g->outcomes += y;
			base = outcome_of(c, outcome, r.churn, r.type_prob);
			trig_detect(c, r.ev, r.n, g->cutoff, &h);
			if (h.n + 1 > effcap) {
				effcap = h.n + 1;
				eff = xreallocarray(eff, effcap, sizeof(double));
			}
			if (h.n > 0 && hit_effects(x, c, &h, outcome, base, eff,
			    e) < 0)
				goto out;
			for (k = 0; k < h.n; k++) {
				struct acc *a = &acc[h.b[k]];
				double att = 0;

				for (j = h.off[k]; j < h.off[k + 1]; j++)
					att += r.rollout[h.pos[j]];
				a->with++;
				a->with_out += y;
				a->att += att;
				a->share += (double)(h.off[k + 1] - h.off[k]) /
				    (double)r.n;
				a->eff += eff[k];
				a->eff2 += eff[k] * eff[k];
			}
		}
		if (fn != NULL && fn(ctx, segment_id > 0 ? -1 : after,
		    total) != 0) {
			err_set(e, ERR_INTR, "triggers: cancelled");
			goto out;
		}
	}
	g->stat = xcalloc(c->n + 1, sizeof(*g->stat));
	for (b = 0; b < c->n; b++) {
		const struct acc *a = &acc[b];
		struct trig_stat *t;
		double var;

		if (a->with == 0)
			continue;
		t = &g->stat[g->n++];
		t->b = b;
		t->with = a->with;
		t->with_out = a->with_out;
		t->without = g->customers - a->with;
		t->without_out = g->outcomes - a->with_out;
		odds_ratio((double)t->with_out, (double)(t->with - t->with_out),
		    (double)t->without_out, (double)(t->without -
		    t->without_out), &t->odds, &t->odds_lo, &t->odds_hi);
		t->attention = a->att / a->with;
		t->event_share = a->share / a->with;
		t->lift = t->event_share > 0 ? t->attention / t->event_share :
		    NAN;
		t->effect = a->eff / a->with;
		var = a->with > 1 ? (a->eff2 - a->eff * a->eff / a->with) /
		    (a->with - 1) : 0;
		t->effect_se = a->with > 1 && var > 0 ? sqrt(var / a->with) :
		    NAN;
		/* the deletion test: clearly above zero, on 5 or more */
		t->trigger = a->with >= 5 && t->effect >= 0.01 &&
		    t->effect - 1.96 * t->effect_se > 0;
	}
	qsort(g->stat, g->n, sizeof(*g->stat), cmp_stat);
	g->summary = segment_summary(c, g);
	rc = 0;
out:
	free(page);
	free(ids);
	free(acc);
	free(eff);
	trig_hits_release(&h);
	store_history_release(&hist);
	store_hreader_free(hr);
	explain_free(x);
	store_info_release(&info);
	if (rc < 0)
		trig_segment_release(g);
	return rc;
}

void
trig_segment_release(struct trig_segment *g)
{
	free(g->stat);
	free(g->summary);
	memset(g, 0, sizeof(*g));
}
