/*
 * bgnbd.c: BG/NBD (Fader, Hardie and Lee, "Counting Your Customers the
 * Easy Way", Marketing Science 2005). The likelihood of eq. (6) in logs,
 * a Nelder-Mead maximiser over the logs of (r, alpha, a, b), P(alive)
 * (eq. 11), P(no purchase in a horizon) and the expected purchases
 * (eq. 10, with the Gauss hypergeometric series), and the per-customer
 * figures of a store.
 */
#include "config.h"
#include "bgnbd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "util.h"

/* log(exp(a) + exp(b)) without overflow. */
static double
logaddexp(double a, double b)
{
	double m = a > b ? a : b;

	if (m == -INFINITY)
		return m;
	return m + log(exp(a - m) + exp(b - m));
}

/*
 * ln L = ln G(r+x) - ln G(r) + r ln alpha
 *      + ln G(a+b) + ln G(b+x) - ln G(b) - ln G(a+b+x)
 *      + ln[ (alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x) ]
 */
double
bgnbd_ll1(const struct bgnbd_params *p, const struct bgnbd_obs *o)
{
	const double r = p->r, al = p->alpha, a = p->a, b = p->b, x = o->x;
	double a1, a2, a3, a4;

	a1 = lgamma(r + x) - lgamma(r) + r * log(al);
	a2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
	a3 = -(r + x) * log(al + o->T);
	a4 = x > 0 ? log(a) - log(b + x - 1) - (r + x) * log(al + o->t_x) :
	    -INFINITY;
	return a1 + a2 + logaddexp(a3, a4);
}

double
bgnbd_ll(const struct bgnbd_params *p, const struct bgnbd_obs *o, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += bgnbd_ll1(p, &o[i]);
	return s;
}

/* The objective: mean negative log-likelihood at exp(th). */
static double
objective(const double *th, const struct bgnbd_obs *o, size_t n)
{
	struct bgnbd_params p;
	double v;
	int i;

	for (i = 0; i < 4; i++)
		if (!(fabs(th[i]) < 30))
			return INFINITY;
	p.r = exp(th[0]);
	p.alpha = exp(th[1]);
	p.a = exp(th[2]);
	p.b = exp(th[3]);
	v = -bgnbd_ll(&p, o, n) / (double)n;
	return isfinite(v) ? v : INFINITY;
}

/*
 * Nelder-Mead (reflection 1, expansion 2, contraction 0.5, shrink 0.5)
 * from th with initial step `step`; th gets the best point. Returns its
 * objective.
 */
static double
nelder_mead(double *th, double step, const struct bgnbd_obs *o, size_t n)
{
	enum { D = 4 };
	double x[D + 1][D], f[D + 1], c[D], xr[D], xe[D], xc[D], fr, fe, fc;
	int i, j, it, lo, hi, nh;

	for (i = 0; i <= D; i++) {
		memcpy(x[i], th, sizeof(x[i]));
		if (i > 0)
			x[i][i - 1] += step;
		f[i] = objective(x[i], o, n);
	}
	for (it = 0; it < 20000; it++) {
		lo = hi = 0;
		for (i = 1; i <= D; i++) {
			if (f[i] < f[lo])
				lo = i;
			if (f[i] > f[hi])
				hi = i;
		}
		nh = lo == 0 ? 1 : 0;
		for (i = 0; i <= D; i++)
			if (i != hi && f[i] > f[nh])
				nh = i;
		if (fabs(f[hi] - f[lo]) < 1e-15 * (fabs(f[lo]) + 1e-300) ||
		    fabs(f[hi] - f[lo]) < 1e-16)
			break;
		for (j = 0; j < D; j++) {
			c[j] = 0;
			for (i = 0; i <= D; i++)
				if (i != hi)
					c[j] += x[i][j] / D;
		}
		for (j = 0; j < D; j++)
			xr[j] = c[j] + (c[j] - x[hi][j]);
		fr = objective(xr, o, n);
		if (fr < f[lo]) {
			for (j = 0; j < D; j++)
				xe[j] = c[j] + 2 * (c[j] - x[hi][j]);
			fe = objective(xe, o, n);
			if (fe < fr) {
				memcpy(x[hi], xe, sizeof(xe));
				f[hi] = fe;
			} else {
				memcpy(x[hi], xr, sizeof(xr));
				f[hi] = fr;
			}
			continue;
		}
		if (fr < f[nh]) {
			memcpy(x[hi], xr, sizeof(xr));
			f[hi] = fr;
			continue;
		}
		/* contract, outside or inside */
		for (j = 0; j < D; j++)
			xc[j] = fr < f[hi] ? c[j] + 0.5 * (xr[j] - c[j]) :
			    c[j] + 0.5 * (x[hi][j] - c[j]);
		fc = objective(xc, o, n);
		if (fc < (fr < f[hi] ? fr : f[hi])) {
			memcpy(x[hi], xc, sizeof(xc));
			f[hi] = fc;
			continue;
		}
		for (i = 0; i <= D; i++)
			if (i != lo) {
				for (j = 0; j < D; j++)
					x[i][j] = x[lo][j] + 0.5 * (x[i][j] -
					    x[lo][j]);
				f[i] = objective(x[i], o, n);
			}
	}
	lo = 0;
	for (i = 1; i <= D; i++)
		if (f[i] < f[lo])
			lo = i;
	memcpy(th, x[lo], sizeof(x[lo]));
	return f[lo];
}

/* Fit (see bgnbd.h). */
int
bgnbd_fit(const struct bgnbd_obs *o, size_t n, struct bgnbd_params *out,
    double *ll, struct err *e)
{
	double th[4] = { 0, 0, 0, 0 }, f = INFINITY, f1, step = 1.0;
	size_t i, rep = 0;
	int k;

	for (i = 0; i < n; i++)
		rep += o[i].x > 0;
	if (n < 10 || rep < 3)
		return err_set(e, ERR_USAGE, "BG/NBD: %zu customers with a "
		    "purchase, %zu of them repeat buyers: too few to fit", n,
		    rep);
	/* restarts from the best point until it no longer improves */
	for (k = 0; k < 50; k++) {
		f1 = nelder_mead(th, step, o, n);
		if (f - f1 < 1e-13 && k > 2)
			break;
		f = f1;
		step = k < 3 ? 0.5 : 0.1;
	}
	f = f1;
	if (!isfinite(f))
		return err_set(e, ERR_USAGE, "BG/NBD: the likelihood could not "
		    "be maximised");
	out->r = exp(th[0]);
	out->alpha = exp(th[1]);
	out->a = exp(th[2]);
	out->b = exp(th[3]);
	if (ll != NULL)
		*ll = -f * (double)n;
	return 0;
}

/* P(alive) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)). */
double
bgnbd_p_alive(const struct bgnbd_params *p, const struct bgnbd_obs *o)
{
	double lz;

	if (o->x <= 0)
		return 1.0;
	lz = log(p->a) - log(p->b + o->x - 1) + (p->r + o->x) *
	    (log(p->alpha + o->T) - log(p->alpha + o->t_x));
	return lz > 700 ? 0.0 : 1.0 / (1.0 + exp(lz));
}

/*
 * Alive at T, dropout comes only right after a purchase, so no purchase
 * in tau means Poisson silence: E[exp(-lambda tau)] over the posterior
 * Gamma(r+x, alpha+T). Dead customers buy nothing.
 */
double
bgnbd_p_no_purchase(const struct bgnbd_params *p, const struct bgnbd_obs *o,
    double tau)
{
	double pa = bgnbd_p_alive(p, o);

	return 1 - pa + pa * pow((p->alpha + o->T) / (p->alpha + o->T + tau),
	    p->r + o->x);
}

/* The Gauss hypergeometric 2F1(a, b; c; z), |z| < 1, by its series. */
static double
hyp2f1(double a, double b, double c, double z)
{
	double term = 1, sum = 1;
	int k;

	for (k = 0; k < 100000; k++) {
		term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
		sum += term;
		if (fabs(term) < 1e-15 * fabs(sum))
			break;
	}
	return sum;
}

/* FHL eq. (10). */
double
bgnbd_expected(const struct bgnbd_params *p, const struct bgnbd_obs *o,
    double t)
{
	const double r = p->r, al = p->alpha, a = p->a, b = p->b, x = o->x;
	double num, den;

	if (a == 1)
		return NAN;	/* the formula's pole (the series diverges) */
	num = (a + b + x - 1) / (a - 1) * (1 - pow((al + o->T) /
	    (al + o->T + t), r + x) * hyp2f1(r + x, b + x, a + b + x - 1,
	    t / (al + o->T + t)));
	den = 1 + (x > 0 ? a / (b + x - 1) * pow((al + o->T) / (al + o->t_x),
	    r + x) : 0);
	return num / den;
}

/* ---- a store ---- */

struct summ {
	struct bgnbd_obs	*o;
	int64_t			*cust;
	size_t			 n, cap;
	int64_t			 cur, first_day, last_day, days;
	int64_t			 at_day;
};

/* Close the current customer's summary. */
static void
summ_flush(struct summ *s)
{
	if (s->cur == 0)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->o = xreallocarray(s->o, s->cap, sizeof(*s->o));
		s->cust = xreallocarray(s->cust, s->cap, sizeof(*s->cust));
	}
	s->o[s->n].x = (double)(s->days - 1);
	s->o[s->n].t_x = (double)(s->last_day - s->first_day) / 7.0;
	s->o[s->n].T = (double)(s->at_day - s->first_day) / 7.0;
	s->cust[s->n++] = s->cur;
}

/* One purchase: transactions are counted once a day. */
static int
summ_add(void *ctx, int64_t cust, int64_t ts)
{
	struct summ *s = ctx;
	int64_t day = ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);

	if (cust != s->cur) {
		summ_flush(s);
		s->cur = cust;
		s->first_day = s->last_day = day;
		s->days = 1;
	} else if (day != s->last_day) {
		s->last_day = day;
		s->days++;
	}
	return 0;
}

int
bgnbd_store(struct store *st, int64_t at, int horizon_days,
    struct bgnbd_result *res, struct err *e)
{
	struct store_seg_writer *w = NULL;
	struct store_info info;
	struct summ s;
	size_t i;
	char meta[256];
	int rc = -1, began = 0;

	memset(&s, 0, sizeof(s));
	memset(res, 0, sizeof(*res));
	if (store_info_get(st, &info, e) < 0)
		return -1;
	if (at == 0)
		at = info.last_ts;
	store_info_release(&info);
	s.at_day = at >= 0 ? at / 86400 : -((-at + 86399) / 86400);
	if (store_purchases_walk(st, at, summ_add, &s, e) < 0)
		goto out;
	summ_flush(&s);
	if (bgnbd_fit(s.o, s.n, &res->p, &res->ll, e) < 0)
		goto out;
	res->customers = (int64_t)s.n;
	res->at = at;
	for (i = 0; i < s.n; i++)
		res->repeat += s.o[i].x > 0;
	if (store_begin(st, e) < 0)
		goto out;
	began = 1;
	if ((w = store_seg_writer_new(st, e)) == NULL)
		goto out;
	for (i = 0; i < s.n; i++) {
		struct store_bgnbd_row row;

		row.customer_id = s.cust[i];
		row.at = at;
		row.x = (int64_t)s.o[i].x;
		row.t_x = s.o[i].t_x;
		row.T = s.o[i].T;
		row.p_alive = bgnbd_p_alive(&res->p, &s.o[i]);
		row.p_no_purchase = bgnbd_p_no_purchase(&res->p, &s.o[i],
		    horizon_days / 7.0);
		if (store_seg_bgnbd(w, &row, e) < 0)
			goto out;
	}
	snprintf(meta, sizeof(meta), "{\"r\":%.10g,\"alpha\":%.10g,\"a\":%.10g,"
	    "\"b\":%.10g,\"ll\":%.10g,\"customers\":%zu,\"at\":%lld,"
	    "\"horizon_days\":%d}", res->p.r, res->p.alpha, res->p.a,
	    res->p.b, res->ll, s.n, (long long)at, horizon_days);
	if (store_meta_set(st, "bgnbd", meta, e) < 0)
		goto out;
	store_seg_writer_free(w);
	w = NULL;
	if (store_commit(st, e) < 0)
		goto out;
	began = 0;
	rc = 0;
out:
	store_seg_writer_free(w);
	if (began)
		store_rollback(st);
	free(s.o);
	free(s.cust);
	return rc;
}
