/*
 * t-nn-ref.c: the whole model against the committed reference fixtures
 * in tests/data/ref, made by tests/reference/make-fixtures.py with an
 * independent PyTorch implementation of MODEL.md (float64). Each
 * fixture's model is read with nn_model_read_file; its windows run one
 * at a time (b = 1, t = n) and as one padded batch (t = the longest,
 * padding filled with random valid tokens, which must never be
 * attended), in NN_FULL and NN_LAST with NN_ITEMS; churn, the next-type
 * distribution at the last and (NN_FULL) at every position, the
 * next-item scores and the three attention arrays must all agree with
 * the reference within 1e-4 (MODEL.md). The file format is documented
 * at the top of make-fixtures.py.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nn.h"
#include "util.h"
#include "tap.h"

#define TOL	1e-4		/* MODEL.md: absolute */

enum quantity {
	Q_CHURN, Q_TYPE_LAST, Q_ITEMS, Q_TYPE_ALL, Q_PER_HEAD, Q_MEAN,
	Q_ROLLOUT, NQ
};
static const char *const qname[NQ] = {
	"churn", "type_last", "items", "type_all", "per_head", "mean",
	"rollout"
};

/* One window of a fixture and the reference's outputs for it. */
struct win {
	int		 n;
	struct tok	*tok;		/* (n) */
	double		*want[NQ];	/* nwant[q] values each */
	int		 nwant[NQ];
};

/* One fixture: the model file, its sizes and windows. Owns all. */
struct fixture {
	char		 name[16];
	char		 model[800];
	int		 cfg[6];	/* C L H max_len n_types n_items */
	int		 nw;
	struct win	*w;
};

static const char *const fixtures[] = { "m1", "m2", "m3", "m4" };
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))

/* Read the next word and require it to be want. */
static int
expect_word(FILE *fp, const char *want)
{
	char w[64];

	if (fscanf(fp, "%63s", w) != 1 || strcmp(w, want) != 0) {
		diag("fixture: want '%s', got '%s'", want, w);
		return -1;
	}
	return 0;
}

/* Release what fixture_read allocated. */
static void
fixture_release(struct fixture *f)
{
	int i, q;

	for (i = 0; i < f->nw; i++) {
		free(f->w[i].tok);
		for (q = 0; q < NQ; q++)
			free(f->w[i].want[q]);
	}
	free(f->w);
	f->w = NULL;
	f->nw = 0;
}

/* Parse dir/name.txt into f; -1 (with a diag) if it is malformed. */
static int
fixture_read(struct fixture *f, const char *dir, const char *name)
{
	char path[600], model[256];
	FILE *fp;
	int i, k, q, idx;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s.txt", dir, name);
	if ((fp = fopen(path, "r")) == NULL) {
		diag("%s: cannot open", path);
		return -1;
	}
	if (expect_word(fp, "journeyscope-ref") < 0 ||
	    expect_word(fp, "1") < 0 || expect_word(fp, "model") < 0 ||
	    fscanf(fp, "%255s", model) != 1 || expect_word(fp, "config") < 0)
		goto bad;
	snprintf(f->model, sizeof(f->model), "%s/%s", dir, model);
	for (k = 0; k < 6; k++)
		if (fscanf(fp, "%d", &f->cfg[k]) != 1)
			goto bad;
	if (expect_word(fp, "windows") < 0 || fscanf(fp, "%d", &f->nw) != 1 ||
	    f->nw < 1 || f->nw > 10000)
		goto bad;
	f->w = xcalloc((size_t)f->nw, sizeof(*f->w));
	for (i = 0; i < f->nw; i++) {
		struct win *w = &f->w[i];

		if (expect_word(fp, "window") < 0 ||
		    fscanf(fp, "%d %d", &idx, &w->n) != 2 || idx != i ||
		    w->n < 1 || w->n > f->cfg[3])
			goto bad;
		w->tok = xcalloc((size_t)w->n, sizeof(*w->tok));
		for (k = 0; k < w->n; k++)
			if (fscanf(fp, "%d %d %d %d %d", &w->tok[k].type,
			    &w->tok[k].item, &w->tok[k].gap,
			    &w->tok[k].amount, &w->tok[k].pos) != 5)
				goto bad;
		for (q = 0; q < NQ; q++) {
			if (expect_word(fp, qname[q]) < 0 ||
			    fscanf(fp, "%d", &w->nwant[q]) != 1 ||
			    w->nwant[q] < 1 || w->nwant[q] > 10000000)
				goto bad;
			w->want[q] = xcalloc((size_t)w->nwant[q],
			    sizeof(double));
			for (k = 0; k < w->nwant[q]; k++)
				if (fscanf(fp, "%lf", &w->want[q][k]) != 1)
					goto bad;
		}
	}
	if (expect_word(fp, "end") < 0)
		goto bad;
	fclose(fp);
	return 0;
bad:
	diag("%s: malformed fixture", path);
	fclose(fp);
	fixture_release(f);
	return -1;
}

/* Largest |got[k] - want[k]| over n values, float. */
static double
max_err_f(const float *got, const double *want, int n)
{
	double m = 0, d;
	int k;

	for (k = 0; k < n; k++) {
		d = fabs((double)got[k] - want[k]);
		if (!(d <= m))		/* NaN counts as infinitely wrong */
			m = isnan(d) ? INFINITY : d;
	}
	return m;
}

/* Largest |got[k] - want[k]| over n values, double. */
static double
max_err_d(const double *got, const double *want, int n)
{
	double m = 0, d;
	int k;

	for (k = 0; k < n; k++) {
		d = fabs(got[k] - want[k]);
		if (!(d <= m))
			m = isnan(d) ? INFINITY : d;
	}
	return m;
}

/*
 * Compare window i of the last forward (batch index j) with the
 * reference; err[q] keeps the maximum per quantity. Returns -1 when a
 * count in the fixture disagrees with the model's sizes.
 */
static int
check_window(const struct nn_model *m, struct nn_acts *a, int j,
    const struct win *w, enum nn_mode mode, double err[NQ], float *buf,
    double *dbuf)
{
	const int L = m->cfg.L, H = m->cfg.H, NT = m->cfg.n_types,
	    NI = m->cfg.n_items, n = w->n;
	int want_n[NQ], q, k, c;
	double e;

	want_n[Q_CHURN] = 1;
	want_n[Q_TYPE_LAST] = NT;
	want_n[Q_ITEMS] = NI;
	want_n[Q_TYPE_ALL] = n * NT;
	want_n[Q_PER_HEAD] = L * H * n;
	want_n[Q_MEAN] = n;
	want_n[Q_ROLLOUT] = n;
	for (q = 0; q < NQ; q++)
		if (w->nwant[q] != want_n[q]) {
			diag("%s: %d values in the fixture, the model makes %d",
			    qname[q], w->nwant[q], want_n[q]);
			return -1;
		}

	e = max_err_f(a->churn + j, w->want[Q_CHURN], 1);
	err[Q_CHURN] = fmax(err[Q_CHURN], e);
	e = max_err_f(a->type_prob + (size_t)j * NT, w->want[Q_TYPE_LAST], NT);
	err[Q_TYPE_LAST] = fmax(err[Q_TYPE_LAST], e);
	e = max_err_f(a->item_score + (size_t)j * NI, w->want[Q_ITEMS], NI);
	err[Q_ITEMS] = fmax(err[Q_ITEMS], e);
	if (mode == NN_FULL) {
		/* softmax of each position's logits, in double */
		for (k = 0; k < n; k++) {
			const float *lg = a->type_logits +
			    ((size_t)j * a->t + k) * NT;
			double mx = lg[0], s = 0;

			for (c = 1; c < NT; c++)
				mx = fmax(mx, lg[c]);
			for (c = 0; c < NT; c++)
				s += (dbuf[k * NT + c] = exp(lg[c] - mx));
			for (c = 0; c < NT; c++)
				dbuf[k * NT + c] /= s;
		}
		e = max_err_d(dbuf, w->want[Q_TYPE_ALL], n * NT);
		err[Q_TYPE_ALL] = fmax(err[Q_TYPE_ALL], e);
	}
	nn_attention_per_head(m, a, j, buf);
	e = max_err_f(buf, w->want[Q_PER_HEAD], L * H * n);
	err[Q_PER_HEAD] = fmax(err[Q_PER_HEAD], e);
	nn_attention_mean(m, a, j, buf);
	e = max_err_f(buf, w->want[Q_MEAN], n);
	err[Q_MEAN] = fmax(err[Q_MEAN], e);
	nn_attention_rollout(m, a, j, buf);
	e = max_err_f(buf, w->want[Q_ROLLOUT], n);
	err[Q_ROLLOUT] = fmax(err[Q_ROLLOUT], e);
	return 0;
}

/* A random token within the model's ranges (padding filler). */
static struct tok
random_tok(const struct nn_config *c, struct nn_rng *r)
{
	struct tok t;

	t.type = (int)(nn_rng_u64(r) % (uint64_t)c->n_types);
	t.item = (int)(nn_rng_u64(r) % (uint64_t)c->n_items);
	t.gap = (int)(nn_rng_u64(r) % TOK_NGAP);
	t.amount = (int)(nn_rng_u64(r) % TOK_NAMOUNT);
	t.pos = (int)(nn_rng_u64(r) % (uint64_t)c->max_len);
	return t;
}

/*
 * One run over the fixture's windows: batched or one at a time, in the
 * given mode; one test per quantity. worst[q] keeps the maximum.
 */
static void
run(const struct fixture *f, const struct nn_model *m, struct nn_acts *a,
    int batched, enum nn_mode mode, double worst[NQ])
{
	const char *how = batched ? "batch" : "b=1";
	const char *md = mode == NN_FULL ? "NN_FULL" : "NN_LAST";
	const int T = m->cfg.max_len, NT = m->cfg.n_types;
	double err[NQ] = { 0 };
	struct nn_rng rng;
	struct tok *tok;
	float *buf;
	double *dbuf;
	int *len, i, k, t = 1, q, bad = 0;

	buf = xcalloc((size_t)m->cfg.L * m->cfg.H * T + 1, sizeof(float));
	dbuf = xcalloc((size_t)T * NT, sizeof(double));
	tok = xcalloc((size_t)f->nw * T, sizeof(*tok));
	len = xcalloc((size_t)f->nw, sizeof(int));
	if (batched) {
		for (i = 0; i < f->nw; i++)
			t = f->w[i].n > t ? f->w[i].n : t;
		nn_rng_seed(&rng, 42);
		for (i = 0; i < f->nw; i++) {
			len[i] = f->w[i].n;
			for (k = 0; k < t; k++)
				tok[(size_t)i * t + k] = k < len[i] ?
				    f->w[i].tok[k] : random_tok(&m->cfg, &rng);
		}
		nn_forward(m, a, tok, len, f->nw, t, mode, NN_ITEMS);
		for (i = 0; i < f->nw && !bad; i++)
			bad = check_window(m, a, i, &f->w[i], mode, err, buf,
			    dbuf) < 0;
	} else
		for (i = 0; i < f->nw && !bad; i++) {
			nn_forward(m, a, f->w[i].tok, &f->w[i].n, 1, f->w[i].n,
			    mode, NN_ITEMS);
			bad = check_window(m, a, 0, &f->w[i], mode, err, buf,
			    dbuf) < 0;
		}
	for (q = 0; q < NQ; q++) {
		if (q == Q_TYPE_ALL && mode != NN_FULL)
			continue;
		ok(!bad && err[q] <= TOL, "%s %s %s: %s within %g (max abs "
		    "error %.3g)", f->name, how, md, qname[q], TOL, err[q]);
		worst[q] = fmax(worst[q], err[q]);
	}
	free(len);
	free(tok);
	free(dbuf);
	free(buf);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char dir[512];
	double all[NQ] = { 0 };
	size_t fi;
	int q;

	snprintf(dir, sizeof(dir), "%s/tests/data/ref", top ? top : ".");
	for (fi = 0; fi < NFIX; fi++) {
		struct fixture f;
		struct nn_model *m;
		struct nn_acts *a;
		struct err e = { 0 };
		double worst[NQ] = { 0 };
		int cfg[6], b;

		if (!ok(fixture_read(&f, dir, fixtures[fi]) == 0,
		    "%s: fixture reads", fixtures[fi]))
			continue;
		m = nn_model_read_file(f.model, &e);
		if (!ok(m != NULL, "%s: nn_model_read_file", f.name)) {
			diag("%s", e.msg);
			fixture_release(&f);
			continue;
		}
		cfg[0] = m->cfg.C;
		cfg[1] = m->cfg.L;
		cfg[2] = m->cfg.H;
		cfg[3] = m->cfg.max_len;
		cfg[4] = m->cfg.n_types;
		cfg[5] = m->cfg.n_items;
		ok(memcmp(cfg, f.cfg, sizeof(cfg)) == 0, "%s: config d=%d L=%d "
		    "H=%d max_len=%d n_types=%d n_items=%d", f.name, cfg[0],
		    cfg[1], cfg[2], cfg[3], cfg[4], cfg[5]);
		a = nn_acts_new(&m->cfg, f.nw, m->cfg.max_len, NN_ITEMS, &e);
		if (a == NULL)
			fatal("%s", e.msg);
		for (b = 0; b < 2; b++) {
			run(&f, m, a, b, NN_FULL, worst);
			run(&f, m, a, b, NN_LAST, worst);
		}
		diag("%s (%d windows): max abs error churn %.2g, type_last "
		    "%.2g, items %.2g, type_all %.2g, per_head %.2g, mean "
		    "%.2g, rollout %.2g", f.name, f.nw, worst[Q_CHURN],
		    worst[Q_TYPE_LAST], worst[Q_ITEMS], worst[Q_TYPE_ALL],
		    worst[Q_PER_HEAD], worst[Q_MEAN], worst[Q_ROLLOUT]);
		for (q = 0; q < NQ; q++)
			all[q] = fmax(all[q], worst[q]);
		nn_acts_free(a);
		nn_model_free(m);
		fixture_release(&f);
	}
	diag("all fixtures: max abs error churn %.2g, type_last %.2g, items "
	    "%.2g, type_all %.2g, per_head %.2g, mean %.2g, rollout %.2g",
	    all[Q_CHURN], all[Q_TYPE_LAST], all[Q_ITEMS], all[Q_TYPE_ALL],
	    all[Q_PER_HEAD], all[Q_MEAN], all[Q_ROLLOUT]);
	return exit_status();
}
