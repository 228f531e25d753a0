/*
 * train-eval.c: how good a model is, by MODEL.md's protocols, with the
 * baselines an analyst would try first beside it. Churn at the cut-off T
 * (ROC AUC, PR AUC, log loss, calibration by deciles) against recency
 * alone and a logistic regression on recency, frequency and tenure
 * fitted at T - horizon; next item by the SASRec protocol (the last event
 * ranked against 100 items the customer never touched, HR@10, NDCG@10)
 * and by full ranking, against popularity; next type by top-1 accuracy
 * against the most frequent successor of the current type.
 */
#include "config.h"
#include "train-int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nn.h"
#include "store.h"
#include "util.h"

#define N_NEG		100	/* sampled negatives (SASRec) */
#define LR_FEATURES	4	/* intercept, recency, log frequency, tenure */

/* ---- metrics ---- */

struct scored {
	float	 s;
	int8_t	 y;
};

static int
cmp_scored(const void *a, const void *b)
{
	float x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;

	return (x < y) - (x > y);	/* descending */
}

/* Pairs sorted by descending score; NULL when n is 0. */
static struct scored *
sorted_pairs(const float *score, const int8_t *label, size_t n)
{
	struct scored *v = n ? xcalloc(n, sizeof(*v)) : NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		v[i].s = score[i];
		v[i].y = label[i];
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_scored);
	return v;
}

/* ROC AUC by ranks, ties counted half. */
double
metric_auc(const float *score, const int8_t *label, size_t n)
{
	struct scored *v = sorted_pairs(score, label, n);
	double pos = 0, neg = 0, area = 0;
	size_t i = 0, j, k;

	while (i < n) {
		double tp = 0, tn = 0;

		for (j = i; j < n && v[j].s == v[i].s; j++)
			if (v[j].y)
				tp++;
			else
				tn++;
		/* negatives of this tie group against positives above it */
		area += tn * pos + 0.5 * tn * tp;
		pos += tp;
		neg += tn;
		i = j;
		(void)k;
	}
	free(v);
	if (pos == 0 || neg == 0)
		return NAN;
	return area / (pos * neg);
}

/* Average precision over the ranking (ties in score order). */
double
metric_ap(const float *score, const int8_t *label, size_t n)
{
	struct scored *v = sorted_pairs(score, label, n);
	double tp = 0, ap = 0, pos = 0;
	size_t i;

	for (i = 0; i < n; i++)
		pos += v[i].y != 0;
	for (i = 0; i < n; i++)
		if (v[i].y) {
			tp++;
			ap += tp / (double)(i + 1);
		}
	free(v);
	return pos > 0 ? ap / pos : NAN;
}

double
metric_logloss(const float *p, const int8_t *label, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double q = p[i] < 1e-7f ? 1e-7 : p[i] > 1 - 1e-7f ? 1 - 1e-7 :
		    p[i];

		s -= label[i] ? log(q) : log(1 - q);
	}
	return n ? s / (double)n : NAN;
}

/* A number for JSON: null when not finite. */
static void
jnum(struct buf *b, double v)
{
	if (isfinite(v))
		buf_printf(b, "%.6g", v);
	else
		buf_adds(b, "null");
}

/* ---- next item and next type ---- */

/* Is item y among the sorted touched items? */
static int
touched_has(const int32_t *t, size_t n, int32_t y)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t[mid] == y)
			return 1;
		if (t[mid] < y)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/*
 * The 100 negatives of window k: uniform over the universe's items the
 * customer never touched (SASRec draws with replacement), from a
 * generator seeded by (seed, k), so every scorer ranks the same sets.
 * neg gets raw indices. Returns 0 when the customer touched (nearly)
 * every item.
 */
static int
draw_negatives(const struct tset *set, const struct tsample *x,
    const struct universe *u, uint64_t seed, size_t k, int *neg)
{
	const int32_t *t = set->items + x->touched;
	struct nn_rng r;
	int i, tries;

	if ((size_t)u->n <= x->n_touched + 10)
		return 0;
	nn_rng_seed(&r, seed ^ ((uint64_t)(k + 1) * 0x9e3779b97f4a7c15ULL));
	for (i = 0; i < N_NEG; i++) {
		tries = 0;
		do
			neg[i] = (int)(nn_rng_u64(&r) % (uint64_t)u->n);
		while (touched_has(t, x->n_touched, neg[i]) && ++tries < 1000);
	}
	return 1;
}

/* Rank of cs[0] among cs[1..n]: strictly better ones, ties half. */
static int
rank_of(const float *cs, int n)
{
	int i, gt = 0, eq = 0;

	for (i = 1; i <= n; i++) {
		gt += cs[i] > cs[0];
		eq += cs[i] == cs[0];
	}
	return gt + eq / 2;
}

/* The model's score of a vocabulary index from the final state z. */
static float
item_dot(const struct nn_model *m, const float *z, int it)
{
	const int C = m->cfg.C;
	const float *ev = m->p.emb_item + (size_t)it * C;
	float d = 0;
	int c;

	for (c = 0; c < C; c++)
		d += z[c] * ev[c];
	return d;
}

/* Rank of the target (raw y) among every other item of the universe. */
static int
rank_full_raw(const float *score_of_raw, int y, const struct universe *u)
{
	int r, gt = 0, eq = 0;

	for (r = 0; r < u->n; r++)
		if (r != y) {
			gt += score_of_raw[r] > score_of_raw[y];
			eq += score_of_raw[r] == score_of_raw[y];
		}
	return gt + eq / 2;
}

/* HR@10 and NDCG@10 of one rank into the sums. */
static void
rank_add(int rank, double *hr, double *ndcg)
{
	if (rank < 10) {
		*hr += 1;
		*ndcg += 1.0 / log2((double)rank + 2);
	}
}

/* Model metrics of TS_NEXT windows (train-int.h). */
void
train_rank_metrics(const struct nn_model *m, struct nn_acts *a,
    struct tbatch *tb, const struct tset *set, const struct universe *u,
    const uint32_t *idx, size_t n, uint64_t seed, int full,
    struct rank_metrics *out)
{
	const int NT = m->cfg.n_types, NI = m->cfg.n_items;
	float cs[N_NEG + 1], *sr = full ? xcalloc((size_t)u->n + 1,
	    sizeof(float)) : NULL;
	int neg[N_NEG], b, j, t, best, i;
	size_t k;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < n; k += (size_t)b) {
		b = n - k < (size_t)a->B ? (int)(n - k) : a->B;
		if (b > tb->cap_b)
			b = tb->cap_b;
		tbatch_fill(tb, set, idx + k, b);
		/* every item's score only for the full ranking */
		nn_forward(m, a, tb->tok, tb->len, b, tb->t, NN_LAST,
		    full ? NN_ITEMS : 0);
		for (j = 0; j < b; j++) {
			const struct tsample *x = tb->src[j];
			const float *tp = a->type_prob + (size_t)j * NT,
			    *z = a->z + (size_t)j * m->cfg.C,
			    *s = full ? a->item_score + (size_t)j * NI : NULL;

			if (x->next_type > TOK_UNK) {
				for (best = TOK_UNK + 1, t = best + 1; t < NT;
				    t++)
					if (tp[t] > tp[best])
						best = t;
				out->type_acc += best == x->next_type;
				out->n_type++;
			}
			if (x->next_item == TOK_PAD)
				continue;
			if (x->next_item == TOK_UNK)
				out->n_unknown++;
			/* outside the universe (validation: too rare): a miss */
			if (x->next_raw < 0) {
				out->n_item++;
				continue;
			}
			if (!draw_negatives(set, x, u, seed, idx[k + j], neg))
				continue;
			cs[0] = s ? s[u->vocab[x->next_raw]] : item_dot(m, z,
			    u->vocab[x->next_raw]);
			for (i = 0; i < N_NEG; i++)
				cs[i + 1] = s ? s[u->vocab[neg[i]]] :
				    item_dot(m, z, u->vocab[neg[i]]);
			rank_add(rank_of(cs, N_NEG), &out->hr10, &out->ndcg10);
			if (full) {
				for (i = 0; i < u->n; i++)
					sr[i] = s[u->vocab[i]];
				rank_add(rank_full_raw(sr, x->next_raw, u),
				    &out->full_hr10, &out->full_ndcg10);
			}
			out->n_item++;
		}
	}
	free(sr);
	if (out->n_type) {
		out->type_acc /= (double)out->n_type;
	} else
		out->type_acc = NAN;
	if (out->n_item) {
		out->hr10 /= (double)out->n_item;
		out->ndcg10 /= (double)out->n_item;
		out->full_hr10 /= (double)out->n_item;
		out->full_ndcg10 /= (double)out->n_item;
	} else
		out->hr10 = out->ndcg10 = out->full_hr10 = out->full_ndcg10 =
		    NAN;
}

/* ---- logistic regression on recency, frequency, tenure ---- */

/* Solve A x = b (k x k, partial pivoting); 0, or -1 if singular. */
static int
solve(double *A, double *b, int k)
{
	int i, j, r, p;

	for (i = 0; i < k; i++) {
		p = i;
		for (r = i + 1; r < k; r++)
			if (fabs(A[r * k + i]) > fabs(A[p * k + i]))
				p = r;
		if (fabs(A[p * k + i]) < 1e-12)
			return -1;
		for (j = 0; j < k; j++) {
			double t = A[i * k + j];

			A[i * k + j] = A[p * k + j];
			A[p * k + j] = t;
		}
		{
			double t = b[i];

			b[i] = b[p];
			b[p] = t;
		}
		for (r = i + 1; r < k; r++) {
			double f = A[r * k + i] / A[i * k + i];

			for (j = i; j < k; j++)
				A[r * k + j] -= f * A[i * k + j];
			b[r] -= f * b[i];
		}
	}
	for (i = k - 1; i >= 0; i--) {
		for (j = i + 1; j < k; j++)
			b[i] -= A[i * k + j] * b[j];
		b[i] /= A[i * k + i];
	}
	return 0;
}

/*
 * Fit w by Newton's method (IRLS) with a tiny ridge on x (n, k) rows,
 * labels y; returns 0 or -1 when it cannot.
 */
static int
logreg_fit(const double *x, const int8_t *y, size_t n, int k, double *w)
{
	double H[LR_FEATURES * LR_FEATURES], g[LR_FEATURES];
	int it, i, j;
	size_t r;

	memset(w, 0, sizeof(double) * k);
	for (it = 0; it < 30; it++) {
		memset(H, 0, sizeof(H));
		memset(g, 0, sizeof(g));
		for (r = 0; r < n; r++) {
			const double *xr = x + r * k;
			double z = 0, p, s;

			for (i = 0; i < k; i++)
				z += w[i] * xr[i];
			p = 1 / (1 + exp(-z));
			s = p * (1 - p);
			for (i = 0; i < k; i++) {
				g[i] += (p - y[r]) * xr[i];
				for (j = 0; j < k; j++)
					H[i * k + j] += s * xr[i] * xr[j];
			}
		}
		for (i = 0; i < k; i++) {
			H[i * k + i] += 1e-6 * (double)n;
			g[i] += 1e-6 * (double)n * w[i];
		}
		if (solve(H, g, k) < 0)
			return -1;
		for (i = 0; i < k; i++)
			w[i] -= g[i];
	}
	return 0;
}

/* ---- the walk ---- */

struct edata {
	const struct nn_model	*m;
	unsigned		 tasks;
	int64_t			 T, T1, H;
	struct tset		 test;		/* TS_NEXT and TS_CHURN */
	double			*fx, *tx;	/* features at T1 (fit), at T */
	int8_t			*fy, *ty;
	size_t			 nf, nt, fcap, tcap;
	struct universe		 u;		/* every item of the store */
	int64_t			*pop;		/* (u.n) training popularity */
	int64_t			*bigram;	/* (NT, NT) type -> next type */
	int32_t			*items;
	size_t			 icap;
	int64_t			 customers, total;
	train_progress_fn	 fn;
	void			*ctx;
	int			 stopped;
	struct buf		*txt;		/* the readable report */
};

/* Recency, log frequency and tenure (days) of h as of cut. */
static void
rft(const struct store_history *h, size_t upto, int64_t cut, double *f)
{
	f[0] = 1;
	f[1] = (double)(cut - h->ev[upto - 1].ts) / 86400.0;
	f[2] = log1p((double)upto);
	f[3] = (double)(cut - h->ev[0].ts) / 86400.0;
}

/* Append a feature row and label. */
static void
frow(double **x, int8_t **y, size_t *n, size_t *cap, const double *f,
    int label)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*x = xreallocarray(*x, *cap, LR_FEATURES * sizeof(double));
		*y = xreallocarray(*y, *cap, sizeof(int8_t));
	}
	memcpy(*x + *n * LR_FEATURES, f, LR_FEATURES * sizeof(double));
	(*y)[(*n)++] = (int8_t)label;
}

/* Walk callback: one customer's test windows and baseline data. */
static int
edata_customer(void *ctx, int64_t cust, const struct store_history *h,
    struct err *e)
{
	struct edata *d = ctx;
	const struct vocab *v = d->m->vocab;
	const int NT = d->m->cfg.n_types, ml = d->m->cfg.max_len;
	const size_t N = h->n;
	double f[LR_FEATURES];
	size_t k, u;

	(void)e;
	if ((d->tasks & (TRAIN_TYPE | TRAIN_ITEM)) && N >= 3) {
		size_t nt = hist_items(&d->u, v, h, N, &d->items, &d->icap);

		tset_add_next(&d->test, v, &d->u, h, N - 1, ml, d->items, nt,
		    cust);
		/* baselines learn from the training part h[0..N-2) */
		for (k = 0; k + 2 < N; k++) {
			int32_t r = universe_raw(&d->u, v, h->ev[k].item);

			if (r >= 0)
				d->pop[r]++;
			if (k + 3 < N)
				d->bigram[(size_t)vocab_type_index(v,
				    h->ev[k].type) * NT + vocab_type_index(v,
				    h->ev[k + 1].type)]++;
		}
	}
	if (d->tasks & TRAIN_CHURN) {
		if ((u = hist_upto(h, d->T)) > 0) {
			tset_add_churn(&d->test, v, h, d->T, ml,
			    hist_churned(h, d->T, d->H), cust);
			rft(h, u, d->T, f);
			frow(&d->tx, &d->ty, &d->nt, &d->tcap, f,
			    hist_churned(h, d->T, d->H));
		}
		if ((u = hist_upto(h, d->T1)) > 0) {
			rft(h, u, d->T1, f);
			frow(&d->fx, &d->fy, &d->nf, &d->fcap, f,
			    hist_churned(h, d->T1, d->H));
		}
	}
	d->customers++;
	if (d->fn != NULL && d->customers % 256 == 0) {
		struct train_progress p;

		memset(&p, 0, sizeof(p));
		p.phase = "evaluating";
		p.done = d->customers;
		p.total = d->total;
		if (d->fn(d->ctx, &p) != 0) {
			d->stopped = 1;
			return 1;
		}
	}
	return 0;
}

/* Churn: the model, recency and the logistic regression, as JSON. */
static void
eval_churn(struct edata *d, struct nn_acts *a, struct tbatch *tb,
    struct buf *j)
{
	uint32_t *idx = xcalloc(d->test.n + 1, sizeof(uint32_t));
	size_t n = 0, i, g;
	float *p, *rec, *lr;
	int8_t *y;
	struct scored *v;
	double w[LR_FEATURES], mu[LR_FEATURES] = { 0 }, sd[LR_FEATURES] = { 0 },
	    auc, auc_rec, auc_lr;
	int c, fitted;

	for (i = 0; i < d->test.n; i++)
		if (d->test.s[i].kind == TS_CHURN)
			idx[n++] = (uint32_t)i;
	p = xcalloc(n + 1, sizeof(float));
	rec = xcalloc(n + 1, sizeof(float));
	lr = xcalloc(n + 1, sizeof(float));
	y = xcalloc(n + 1, sizeof(int8_t));
	train_score(d->m, a, tb, &d->test, idx, n, p, NULL, NULL);
	for (i = 0; i < n; i++)
		y[i] = d->test.s[idx[i]].label;
	/* the same customers, in the same walk order, as d->tx */
	for (i = 0; i < n; i++)
		rec[i] = (float)d->tx[i * LR_FEATURES + 1];
	/* standardise with the fitting rows' moments, then fit */
	for (c = 1; c < LR_FEATURES; c++) {
		for (i = 0; i < d->nf; i++)
			mu[c] += d->fx[i * LR_FEATURES + c];
		mu[c] /= d->nf ? (double)d->nf : 1;
		for (i = 0; i < d->nf; i++)
			sd[c] += pow(d->fx[i * LR_FEATURES + c] - mu[c], 2);
		sd[c] = d->nf > 1 ? sqrt(sd[c] / (double)(d->nf - 1)) : 1;
		if (sd[c] < 1e-9)
			sd[c] = 1;
		for (i = 0; i < d->nf; i++)
			d->fx[i * LR_FEATURES + c] = (d->fx[i * LR_FEATURES + c] -
			    mu[c]) / sd[c];
		for (i = 0; i < d->nt; i++)
			d->tx[i * LR_FEATURES + c] = (d->tx[i * LR_FEATURES + c] -
			    mu[c]) / sd[c];
	}
	fitted = d->nf > 0 && logreg_fit(d->fx, d->fy, d->nf, LR_FEATURES,
	    w) == 0;
	for (i = 0; i < n; i++) {
		double z = 0;

		for (c = 0; c < LR_FEATURES; c++)
			z += w[c] * d->tx[i * LR_FEATURES + c];
		lr[i] = fitted ? (float)(1 / (1 + exp(-z))) : 0.5f;
	}
	auc = metric_auc(p, y, n);
	auc_rec = metric_auc(rec, y, n);
	auc_lr = fitted ? metric_auc(lr, y, n) : NAN;
	buf_adds(j, "\"churn\":{\"customers\":");
	buf_printf(j, "%zu,\"churned\":", n);
	for (i = 0, g = 0; i < n; i++)
		g += y[i] != 0;
	buf_printf(j, "%zu,\"roc_auc\":", g);
	jnum(j, auc);
	buf_adds(j, ",\"pr_auc\":");
	jnum(j, metric_ap(p, y, n));
	buf_adds(j, ",\"log_loss\":");
	jnum(j, metric_logloss(p, y, n));
	buf_adds(j, ",\"calibration\":[");
	v = sorted_pairs(p, y, n);
	for (g = 0; g < 10 && n >= 10; g++) {
		size_t lo = n * (9 - g) / 10, hi = n * (10 - g) / 10;
		double sp = 0, sy = 0;

		for (i = lo; i < hi; i++) {
			sp += v[i].s;
			sy += v[i].y != 0;
		}
		buf_printf(j, "%s{\"decile\":%zu,\"n\":%zu,\"predicted\":",
		    g ? "," : "", g + 1, hi - lo);
		jnum(j, hi > lo ? sp / (double)(hi - lo) : NAN);
		buf_adds(j, ",\"observed\":");
		jnum(j, hi > lo ? sy / (double)(hi - lo) : NAN);
		buf_adds(j, "}");
	}
	free(v);
	buf_adds(j, "],\"baselines\":{\"recency\":{\"roc_auc\":");
	jnum(j, auc_rec);
	buf_adds(j, ",\"pr_auc\":");
	jnum(j, metric_ap(rec, y, n));
	buf_adds(j, "},\"logistic_rft\":{\"roc_auc\":");
	jnum(j, auc_lr);
	buf_adds(j, ",\"pr_auc\":");
	jnum(j, fitted ? metric_ap(lr, y, n) : NAN);
	buf_adds(j, ",\"log_loss\":");
	jnum(j, fitted ? metric_logloss(lr, y, n) : NAN);
	buf_printf(j, ",\"fitted_on\":%zu}},\"beats_baselines\":%s}", d->nf,
	    isfinite(auc) && auc > auc_rec && (!isfinite(auc_lr) ||
	    auc > auc_lr) ? "true" : "false");
	for (i = 0, g = 0; i < n; i++)
		g += y[i] != 0;
	buf_printf(d->txt, "churn: %zu customers at the cut-off, %zu churned "
	    "(no event in the %d days after it)\n", n, g, (int)(d->H / 86400));
	buf_printf(d->txt, "  %-22s ROC AUC %.3f  PR AUC %.3f  log loss "
	    "%.3f\n", "model", auc, metric_ap(p, y, n),
	    metric_logloss(p, y, n));
	buf_printf(d->txt, "  %-22s ROC AUC %.3f  PR AUC %.3f\n",
	    "recency alone", auc_rec, metric_ap(rec, y, n));
	buf_printf(d->txt, "  %-22s ROC AUC %.3f  PR AUC %.3f  log loss "
	    "%.3f\n", "logistic (R, F, tenure)", auc_lr, fitted ?
	    metric_ap(lr, y, n) : NAN, fitted ? metric_logloss(lr, y, n) : NAN);
	buf_printf(d->txt, "  %s\n", isfinite(auc) && auc > auc_rec &&
	    (!isfinite(auc_lr) || auc > auc_lr) ? "the model beats both "
	    "baselines on ROC AUC" : "the model does NOT beat the baselines "
	    "on ROC AUC: prefer them for churn on this data");
	free(idx);
	free(p);
	free(rec);
	free(lr);
	free(y);
}

/* Next item and next type: the model and the baselines, as JSON. */
static void
eval_next(struct edata *d, struct nn_acts *a, struct tbatch *tb,
    unsigned tasks, struct buf *j)
{
	const int NT = d->m->cfg.n_types;
	uint32_t *idx = xcalloc(d->test.n + 1, sizeof(uint32_t));
	float *pop = xcalloc((size_t)d->u.n + 1, sizeof(float)), cs[N_NEG + 1];
	int *succ = xcalloc((size_t)NT, sizeof(int)), neg[N_NEG], t, u, q;
	struct rank_metrics rm;
	double phr = 0, pnd = 0, pfh = 0, pfn = 0, bacc = 0;
	int64_t pn = 0, bn = 0, glob[2] = { 0, TOK_UNK + 1 };
	size_t n = 0, i;

	for (i = 0; i < d->test.n; i++)
		if (d->test.s[i].kind == TS_NEXT)
			idx[n++] = (uint32_t)i;
	train_rank_metrics(d->m, a, tb, &d->test, &d->u, idx, n, 0x74657374, 1,
	    &rm);
	for (t = 0; t < d->u.n; t++)
		pop[t] = (float)d->pop[t];
	/* the most frequent successor of each type, else overall */
	for (t = 0; t < NT; t++) {
		int64_t col = 0;

		for (u = 0; u < NT; u++)
			col += d->bigram[(size_t)u * NT + t];
		if (t > TOK_UNK && col > glob[0]) {
			glob[0] = col;
			glob[1] = t;
		}
	}
	for (t = 0; t < NT; t++) {
		int64_t bestc = 0;

		succ[t] = (int)glob[1];
		for (u = TOK_UNK + 1; u < NT; u++)
			if (d->bigram[(size_t)t * NT + u] > bestc) {
				bestc = d->bigram[(size_t)t * NT + u];
				succ[t] = u;
			}
	}
	for (i = 0; i < n; i++) {
		const struct tsample *x = &d->test.s[idx[i]];
		int cur = d->test.tok[x->off + x->n - 1].type;

		if (x->next_type > TOK_UNK) {
			bacc += succ[cur] == x->next_type;
			bn++;
		}
		if (x->next_item == TOK_PAD)
			continue;
		if (x->next_raw < 0) {
			pn++;		/* a miss, as for the model */
			continue;
		}
		if (!draw_negatives(&d->test, x, &d->u, 0x74657374, idx[i],
		    neg))
			continue;
		cs[0] = pop[x->next_raw];
		for (q = 0; q < N_NEG; q++)
			cs[q + 1] = pop[neg[q]];
		rank_add(rank_of(cs, N_NEG), &phr, &pnd);
		rank_add(rank_full_raw(pop, x->next_raw, &d->u), &pfh, &pfn);
		pn++;
	}
	if (tasks & TRAIN_ITEM) {
		buf_printf(j, "\"next_item\":{\"protocol\":\"SASRec: the last "
		    "event's item ranked against %d items of the store the "
		    "customer never touched, sampled uniformly (fixed seed); "
		    "items too rare for the vocabulary score as its unknown "
		    "item\",\"customers\":%"
		    PRId64 ",\"unknown_targets\":%" PRId64 ",\"hr10\":", N_NEG,
		    rm.n_item, rm.n_unknown);
		jnum(j, rm.hr10);
		buf_adds(j, ",\"ndcg10\":");
		jnum(j, rm.ndcg10);
		buf_adds(j, ",\"full_ranking\":{\"hr10\":");
		jnum(j, rm.full_hr10);
		buf_adds(j, ",\"ndcg10\":");
		jnum(j, rm.full_ndcg10);
		buf_adds(j, "},\"baselines\":{\"popularity\":{\"hr10\":");
		jnum(j, pn ? phr / pn : NAN);
		buf_adds(j, ",\"ndcg10\":");
		jnum(j, pn ? pnd / pn : NAN);
		buf_adds(j, ",\"full_hr10\":");
		jnum(j, pn ? pfh / pn : NAN);
		buf_adds(j, ",\"full_ndcg10\":");
		jnum(j, pn ? pfn / pn : NAN);
		buf_printf(j, "}},\"beats_baselines\":%s}", rm.n_item &&
		    pn && rm.ndcg10 > pnd / pn ? "true" : "false");
		buf_printf(d->txt, "next item: %" PRId64 " customers, the last "
		    "event's item against %d never-touched items (SASRec "
		    "protocol; %" PRId64 " targets too rare for the vocabulary "
		    "are scored as the unknown item)\n", rm.n_item, N_NEG,
		    rm.n_unknown);
		buf_printf(d->txt, "  %-22s HR@10 %.4f  NDCG@10 %.4f  (full "
		    "ranking HR@10 %.4f  NDCG@10 %.4f)\n", "model", rm.hr10,
		    rm.ndcg10, rm.full_hr10, rm.full_ndcg10);
		buf_printf(d->txt, "  %-22s HR@10 %.4f  NDCG@10 %.4f  (full "
		    "ranking HR@10 %.4f  NDCG@10 %.4f)\n", "popularity",
		    pn ? phr / pn : NAN, pn ? pnd / pn : NAN, pn ? pfh / pn :
		    NAN, pn ? pfn / pn : NAN);
	}
	if (tasks & TRAIN_TYPE) {
		buf_printf(j, "%s\"next_type\":{\"customers\":%" PRId64
		    ",\"accuracy\":", tasks & TRAIN_ITEM ? "," : "", rm.n_type);
		jnum(j, rm.type_acc);
		buf_adds(j, ",\"baselines\":{\"most_frequent_successor\":"
		    "{\"accuracy\":");
		jnum(j, bn ? bacc / bn : NAN);
		buf_printf(j, "}},\"beats_baselines\":%s}", rm.n_type && bn &&
		    rm.type_acc > bacc / bn ? "true" : "false");
		buf_printf(d->txt, "next type: %" PRId64 " customers\n  %-22s "
		    "accuracy %.4f\n  %-22s accuracy %.4f\n", rm.n_type,
		    "model", rm.type_acc, "most frequent successor", bn ?
		    bacc / bn : NAN);
	}
	free(idx);
	free(pop);
	free(succ);
}

/* Evaluate (train.h). */
int
train_eval(struct store *s, const struct nn_model *m, int64_t cutoff,
    int horizon_days, unsigned tasks, int threads, train_progress_fn fn,
    void *ctx, char **json, char **text, struct err *e)
{
	const int NT = m->cfg.n_types;
	struct store_info info;
	struct edata d = { 0 };
	struct nn_acts *a = NULL;
	struct tbatch tb;
	struct buf j, txt;
	int64_t last;
	int rc = -1;

	(void)threads;
	*json = NULL;
	if (text != NULL)
		*text = NULL;
	buf_init(&txt);
	d.txt = &txt;
	memset(&tb, 0, sizeof(tb));
	memset(&info, 0, sizeof(info));
	buf_init(&j);
	if (store_info_get(s, &info, e) < 0)
		return -1;
	if (tasks == 0)
		tasks = TRAIN_ALL_TASKS;
	if (info.sequence_time)
		tasks &= ~TRAIN_CHURN;
	d.m = m;
	d.tasks = tasks;
	d.H = (int64_t)(horizon_days > 0 ? horizon_days :
	    m->cfg.churn_horizon_days) * 86400;
	d.T = cutoff ? cutoff : info.last_ts - d.H;
	d.T1 = d.T - d.H;
	d.total = info.customers;
	d.fn = fn;
	d.ctx = ctx;
	tset_init(&d.test);
	if (universe_store(&d.u, s, m->vocab, e) < 0)
		goto out;
	d.pop = xcalloc((size_t)d.u.n + 1, sizeof(int64_t));
	d.bigram = xcalloc((size_t)NT * NT, sizeof(int64_t));
	if (train_walk(s, 0, edata_customer, &d, &last, e) < 0)
		goto out;
	if (d.stopped) {
		err_set(e, ERR_INTR, "evaluation interrupted");
		goto out;
	}
	if ((a = nn_acts_new(&m->cfg, 64, m->cfg.max_len, NN_ITEMS, e)) ==
	    NULL)
		goto out;
	tbatch_init(&tb, 64, m->cfg.max_len);
	buf_printf(&j, "{\"held_out\":true,\"cutoff\":%lld,\"horizon_days\":%d,",
	    (long long)d.T, (int)(d.H / 86400));
	if (tasks & TRAIN_CHURN) {
		eval_churn(&d, a, &tb, &j);
		if (tasks & (TRAIN_TYPE | TRAIN_ITEM))
			buf_addc(&j, ',');
	}
	if (tasks & (TRAIN_TYPE | TRAIN_ITEM))
		eval_next(&d, a, &tb, tasks, &j);
	buf_addc(&j, '}');
	*json = xstrdup(j.data);
	if (text != NULL)
		*text = xstrdup(txt.data);
	rc = 0;
out:
	nn_acts_free(a);
	if (tb.tok != NULL)
		tbatch_release(&tb);
	tset_release(&d.test);
	free(d.fx);
	free(d.tx);
	free(d.fy);
	free(d.ty);
	free(d.pop);
	universe_release(&d.u);
	free(d.bigram);
	free(d.items);
	buf_release(&j);
	buf_release(&txt);
	store_info_release(&info);
	return rc;
}
