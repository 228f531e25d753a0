/*
 * bench-engine.c: speed of the sequence model engine, the C half of
 * tests/bench/engine.sh (engine_torch.py is the PyTorch half; both read
 * the same model file and the same windows file). Not part of make check.
 *
 *   bench-engine make MODEL WINDOWS [N]
 *	a model of the sample data's scale (d=64, L=2, H=2, max_len=200,
 *	18 types, 500 items; nn_model_init_random, seed 1) written with
 *	nn_model_write_file, and N + 1 windows (default N = 2000, seed 2):
 *	window 0 has 200 events, windows 1..N have lengths drawn like
 *	customers' (log-normal, median 35, clipped to 1..200)
 *   bench-engine run MODEL WINDOWS [REPS] [BATCH]
 *	(1) window 0 through nn_forward(NN_LAST, NN_ITEMS) plus per_head,
 *	mean and rollout: the median of REPS (default 2000) in ms;
 *	(2) windows 1..N sorted by length (stable) and cut into batches of
 *	BATCH (default 64) padded to their longest window, packed before
 *	the clock starts; nn_forward(NN_LAST, NN_ITEMS) over all batches,
 *	the median of 7 passes, in customers per second
 *   bench-engine dump MODEL WINDOWS OUT [K]
 *	the outputs for windows 0..K-1 (default 8) in the fixture format
 *	of tests/reference/make-fixtures.py, for `ref.py compare`
 *
 * WINDOWS is text: "journeyscope-windows 1", the number of windows, then
 * per window its length n and n lines "type item gap amount pos".
 * Run with OPENBLAS_NUM_THREADS=1 (one BLAS thread) and LC_ALL=C.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "nn.h"
#include "tokens.h"
#include "util.h"

#define BENCH_C		64
#define BENCH_L		2
#define BENCH_H		2
#define BENCH_LEN	200
#define BENCH_TYPES	16	/* + 2 reserved = 18 */
#define BENCH_ITEMS	498	/* + 2 reserved = 500 */

/* The windows of a windows file. Owns the tokens. */
struct windows {
	int		 n;		/* windows */
	int		*len;		/* (n) */
	struct tok	**tok;		/* (n) of (len[i]) */
};

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* qsort order of doubles. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of x[0..n) (sorts x). */
static double
median(double *x, int n)
{
	qsort(x, (size_t)n, sizeof(*x), cmp_double);
	return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* A length drawn like a customer's: log-normal, median 35, 1..max. */
static int
draw_len(struct nn_rng *r, int max)
{
	double v = floor(exp(log(35.0) + 0.8 * nn_rng_normal(r)));

	return v < 1 ? 1 : v > max ? max : (int)v;
}

/* n tokens shaped like events: skewed types and items, gaps, amounts. */
static void
draw_window(struct nn_rng *r, struct tok *t, int n)
{
	double u;
	int k;

	for (k = 0; k < n; k++) {
		u = nn_rng_uniform(r);
		t[k].type = 2 + (int)(u * u * BENCH_TYPES);
		u = nn_rng_uniform(r);
		if (u < 0.4)
			t[k].item = TOK_PAD;
		else if (u < 0.45)
			t[k].item = TOK_UNK;
		else {
			u = nn_rng_uniform(r);
			t[k].item = 2 + (int)(u * u * u * BENCH_ITEMS);
		}
		t[k].gap = k == 0 ? 0 : 1 + (int)(nn_rng_uniform(r) * 31);
		t[k].amount = nn_rng_uniform(r) < 0.7 ? 0 :
		    1 + (int)(nn_rng_uniform(r) * 15);
		t[k].pos = k;
	}
}

/* The model and windows files of `make`. */
static int
cmd_make(const char *mpath, const char *wpath, int nwin)
{
	char names[BENCH_TYPES + BENCH_ITEMS][24];
	const char *types[BENCH_TYPES], *items[BENCH_ITEMS];
	struct nn_config cfg = { BENCH_C, BENCH_L, BENCH_H, BENCH_LEN,
	    BENCH_TYPES + 2, BENCH_ITEMS + 2, 30 };
	struct tok t[BENCH_LEN];
	struct nn_model *m;
	struct nn_rng r;
	struct err e = { 0 };
	FILE *fp;
	int i, k, n;

	for (i = 0; i < BENCH_TYPES; i++) {
		snprintf(names[i], sizeof(names[i]), "type_%02d", i);
		types[i] = names[i];
	}
	for (i = 0; i < BENCH_ITEMS; i++) {
		snprintf(names[BENCH_TYPES + i], sizeof(names[0]), "P%05d",
		    10000 + i);
		items[i] = names[BENCH_TYPES + i];
	}
	m = nn_model_new(&cfg, vocab_new(types, BENCH_TYPES, items,
	    BENCH_ITEMS), &e);
	if (m == NULL)
		fatal("%s", e.msg);
	nn_rng_seed(&r, 1);
	nn_model_init_random(m, &r);
	if (nn_model_write_file(m, "{\"note\":\"bench-engine\"}", mpath,
	    &e) < 0)
		fatal("%s", e.msg);
	nn_model_free(m);

	if ((fp = fopen(wpath, "w")) == NULL)
		fatal("%s: cannot write", wpath);
	fprintf(fp, "journeyscope-windows 1\n%d\n", nwin + 1);
	nn_rng_seed(&r, 2);
	for (i = 0; i <= nwin; i++) {
		n = i == 0 ? BENCH_LEN : draw_len(&r, BENCH_LEN);
		draw_window(&r, t, n);
		fprintf(fp, "%d\n", n);
		for (k = 0; k < n; k++)
			fprintf(fp, "%d %d %d %d %d\n", t[k].type, t[k].item,
			    t[k].gap, t[k].amount, t[k].pos);
	}
	if (fclose(fp) != 0)
		fatal("%s: write error", wpath);
	return 0;
}

/* Read a windows file; exits on a malformed one. */
static void
windows_read(struct windows *w, const char *path)
{
	char magic[64];
	FILE *fp;
	int i, k, v;

	if ((fp = fopen(path, "r")) == NULL)
		fatal("%s: cannot open", path);
	if (fscanf(fp, "%63s %d %d", magic, &v, &w->n) != 3 ||
	    strcmp(magic, "journeyscope-windows") != 0 || v != 1 || w->n < 1)
		fatal("%s: not a windows file", path);
	w->len = xcalloc((size_t)w->n, sizeof(int));
	w->tok = xcalloc((size_t)w->n, sizeof(struct tok *));
	for (i = 0; i < w->n; i++) {
		if (fscanf(fp, "%d", &w->len[i]) != 1 || w->len[i] < 1)
			fatal("%s: window %d: bad length", path, i);
		w->tok[i] = xcalloc((size_t)w->len[i], sizeof(struct tok));
		for (k = 0; k < w->len[i]; k++) {
			struct tok *t = &w->tok[i][k];

			if (fscanf(fp, "%d %d %d %d %d", &t->type, &t->item,
			    &t->gap, &t->amount, &t->pos) != 5)
				fatal("%s: window %d: bad token", path, i);
		}
	}
	fclose(fp);
}

/* Check the windows against the model's ranges (nn_forward asserts). */
static void
windows_check(const struct windows *w, const struct nn_config *c)
{
	int i, k;

	for (i = 0; i < w->n; i++) {
		if (w->len[i] > c->max_len)
			fatal("window %d: %d events, max_len %d", i, w->len[i],
			    c->max_len);
		for (k = 0; k < w->len[i]; k++) {
			const struct tok *t = &w->tok[i][k];

			if (t->type < 0 || t->type >= c->n_types ||
			    t->item < 0 || t->item >= c->n_items ||
			    t->gap < 0 || t->gap >= TOK_NGAP ||
			    t->amount < 0 || t->amount >= TOK_NAMOUNT ||
			    t->pos < 0 || t->pos >= c->max_len)
				fatal("window %d: token %d out of range", i, k);
		}
	}
}

/* Free the tokens of w. */
static void
windows_release(struct windows *w)
{
	int i;

	for (i = 0; i < w->n; i++)
		free(w->tok[i]);
	free(w->tok);
	free(w->len);
}

/* Model and windows, or exit. */
static struct nn_model *
load(const char *mpath, const char *wpath, struct windows *w)
{
	struct err e = { 0 };
	struct nn_model *m;

	if ((m = nn_model_read_file(mpath, &e)) == NULL)
		fatal("%s", e.msg);
	windows_read(w, wpath);
	windows_check(w, &m->cfg);
	return m;
}

static const int *sort_len;

/* By length, then index: a stable sort. */
static int
cmp_by_len(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	if (sort_len[x] != sort_len[y])
		return sort_len[x] < sort_len[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* One batch, packed: b windows padded with zero tokens to t. */
struct batch {
	int		 b, t;
	int		*len;
	struct tok	*tok;		/* (b, t) */
};

/*
 * The matrix-product floating-point operations (2 m n k each, the way
 * sgemm-peak.c counts them) of nn_forward(NN_LAST, NN_ITEMS) on one
 * window of n events: every layer but the last on all n rows, causal
 * attention in blocks of NN_ATT_BLOCK query rows as nn_attention_forward
 * does it, the last layer on the last row only
 * (nn_attention_last_forward), then the heads. LayerNorm, softmax, GELU
 * and the attention read-outs are left out, so the time this takes at
 * the sgemm peak is a floor.
 */
static double
window_flops(const struct nn_config *c, int n)
{
	const double C = c->C, dh = (double)c->C / c->H;
	double f = 0;
	int l, r0, r1;

	for (l = 0; l < c->L - 1; l++) {
		f += 2.0 * n * C * 3 * C;		/* qkv */
		for (r0 = 0; r0 < n; r0 = r1) {		/* QK^T, AV */
			r1 = r0 + NN_ATT_BLOCK < n ? r0 + NN_ATT_BLOCK : n;
			f += c->H * 2 * (2.0 * (r1 - r0) * r1 * dh);
		}
		f += 2.0 * n * C * C;			/* proj */
		f += 2 * (2.0 * n * C * 4 * C);		/* fc, mproj */
	}
	f += 2.0 * C * C;				/* q */
	f += c->H * (2 * 2.0 * dh * C + 2 * 2.0 * n * C); /* Wk q, a qk, ... */
	f += 2.0 * C * C + 2 * (2.0 * C * 4 * C);	/* proj, fc, mproj */
	f += 2.0 * C * (c->n_types + 1 + c->n_items);	/* heads */
	return f;
}

/* The two timings of `run`. */
static int
cmd_run(const char *mpath, const char *wpath, int reps, int bs)
{
	struct windows w;
	struct nn_model *m = load(mpath, wpath, &w);
	const int L = m->cfg.L, H = m->cfg.H, n0 = w.len[0];
	struct err e = { 0 };
	struct nn_acts *a;
	struct batch *bt;
	double *ms, t0, pass[7], secs, sink = 0;
	float *ph, *mean, *roll;
	int *order, nb, i, j, k, p, nw = w.n - 1;
	long real = 0, padded = 0;

	if (nw < 1)
		fatal("%s: no windows after the first", wpath);
	/* (1) one window, every output */
	if ((a = nn_acts_new(&m->cfg, 1, n0, NN_ITEMS, &e)) == NULL)
		fatal("%s", e.msg);
	ph = xcalloc((size_t)L * H * n0, sizeof(float));
	mean = xcalloc((size_t)n0, sizeof(float));
	roll = xcalloc((size_t)n0, sizeof(float));
	ms = xcalloc((size_t)reps, sizeof(double));
	for (i = -reps / 10 - 5; i < reps; i++) {	/* warm-up first */
		t0 = now();
		nn_forward(m, a, w.tok[0], &w.len[0], 1, n0, NN_LAST,
		    NN_ITEMS);
		nn_attention_per_head(m, a, 0, ph);
		nn_attention_mean(m, a, 0, mean);
		nn_attention_rollout(m, a, 0, roll);
		if (i >= 0)
			ms[i] = 1e3 * (now() - t0);
	}
	printf("single window: %d events, median of %d: %.4f ms "
	    "(churn %.6f, rollout[n-1] %.6f)\n", n0, reps, median(ms, reps),
	    (double)a->churn[0], (double)roll[n0 - 1]);
	printf("single_ms %.6f\n", median(ms, reps));
	printf("single_mflop %.4f\n", window_flops(&m->cfg, n0) / 1e6);
	nn_acts_free(a);

	/* (2) batches of windows sorted by length */
	order = xcalloc((size_t)nw, sizeof(int));
	for (i = 0; i < nw; i++)
		order[i] = i + 1;
	sort_len = w.len;
	qsort(order, (size_t)nw, sizeof(int), cmp_by_len);
	nb = (nw + bs - 1) / bs;
	bt = xcalloc((size_t)nb, sizeof(*bt));
	for (j = 0; j < nb; j++) {
		struct batch *b = &bt[j];

		b->b = nw - j * bs < bs ? nw - j * bs : bs;
		b->t = w.len[order[j * bs + b->b - 1]];
		b->len = xcalloc((size_t)b->b, sizeof(int));
		b->tok = xcalloc((size_t)b->b * b->t, sizeof(struct tok));
		for (i = 0; i < b->b; i++) {
			int wi = order[j * bs + i];

			b->len[i] = w.len[wi];
			memcpy(b->tok + (size_t)i * b->t, w.tok[wi],
			    sizeof(struct tok) * (size_t)w.len[wi]);
			real += w.len[wi];
		}
		padded += (long)b->b * b->t;
	}
	if ((a = nn_acts_new(&m->cfg, bs, m->cfg.max_len, NN_ITEMS, &e)) ==
	    NULL)
		fatal("%s", e.msg);
	for (p = -1; p < 7; p++) {		/* one warm-up pass */
		t0 = now();
		for (j = 0; j < nb; j++) {
			nn_forward(m, a, bt[j].tok, bt[j].len, bt[j].b,
			    bt[j].t, NN_LAST, NN_ITEMS);
			for (k = 0; k < bt[j].b; k++)
				sink += a->churn[k];
		}
		if (p >= 0)
			pass[p] = now() - t0;
	}
	secs = median(pass, 7);
	printf("batch scoring: %d windows, %d batches of %d (sorted by "
	    "length, %.1f%% of positions real), median of 7 passes: %.3f s, "
	    "%.0f customers/s (mean churn %.6f)\n", nw, nb, bs,
	    100.0 * (double)real / (double)padded, secs, nw / secs,
	    sink / (8.0 * nw));
	printf("batch_cps %.1f\n", nw / secs);
	nn_acts_free(a);
	for (j = 0; j < nb; j++) {
		free(bt[j].len);
		free(bt[j].tok);
	}
	free(bt);
	free(order);
	free(ms);
	free(ph);
	free(mean);
	free(roll);
	windows_release(&w);
	nn_model_free(m);
	return 0;
}

/* "name count", then count numbers, eight a line. */
static void
put_values(FILE *fp, const char *name, const double *v, int count)
{
	int k;

	fprintf(fp, "%s %d\n", name, count);
	for (k = 0; k < count; k++)
		fprintf(fp, "%.9g%c", v[k], k % 8 == 7 || k == count - 1 ?
		    '\n' : ' ');
}

/* The same for floats (tmp: room for count doubles). */
static void
put_floats(FILE *fp, const char *name, const float *v, int count,
    double *tmp)
{
	int k;

	for (k = 0; k < count; k++)
		tmp[k] = v[k];
	put_values(fp, name, tmp, count);
}

/* Outputs of windows 0..K-1 in the reference fixture format. */
static int
cmd_dump(const char *mpath, const char *wpath, const char *out, int K)
{
	struct windows w;
	struct nn_model *m = load(mpath, wpath, &w);
	const struct nn_config *c = &m->cfg;
	const int NT = c->n_types, NI = c->n_items, L = c->L, H = c->H;
	struct err e = { 0 };
	struct nn_acts *full, *last;
	struct tok *tok;
	const char *base = strrchr(mpath, '/');
	double *tmp;
	float *f;
	FILE *fp;
	int i, k, j, t = 1;

	if (K > w.n)
		K = w.n;
	for (i = 0; i < K; i++)
		t = w.len[i] > t ? w.len[i] : t;
	tok = xcalloc((size_t)K * t, sizeof(*tok));
	for (i = 0; i < K; i++)
		memcpy(tok + (size_t)i * t, w.tok[i],
		    sizeof(struct tok) * (size_t)w.len[i]);
	if ((full = nn_acts_new(c, K, t, NN_ITEMS, &e)) == NULL ||
	    (last = nn_acts_new(c, K, t, NN_ITEMS, &e)) == NULL)
		fatal("%s", e.msg);
	/* NN_FULL for the distribution at every position, NN_LAST (the
	 * timed path) for the rest */
	nn_forward(m, full, tok, w.len, K, t, NN_FULL, NN_ITEMS);
	nn_forward(m, last, tok, w.len, K, t, NN_LAST, NN_ITEMS);
	tmp = xcalloc((size_t)t * (NT > NI ? NT : NI) + (size_t)L * H * t,
	    sizeof(double));
	f = xcalloc((size_t)L * H * t + 1, sizeof(float));
	if ((fp = fopen(out, "w")) == NULL)
		fatal("%s: cannot write", out);
	fprintf(fp, "journeyscope-ref 1\nmodel %s\nconfig %d %d %d %d %d "
	    "%d\nwindows %d\n", base ? base + 1 : mpath, c->C, c->L, c->H,
	    c->max_len, NT, NI, K);
	for (i = 0; i < K; i++) {
		const int n = w.len[i];

		fprintf(fp, "window %d %d\n", i, n);
		for (k = 0; k < n; k++)
			fprintf(fp, "%d %d %d %d %d\n", w.tok[i][k].type,
			    w.tok[i][k].item, w.tok[i][k].gap,
			    w.tok[i][k].amount, w.tok[i][k].pos);
		put_floats(fp, "churn", last->churn + i, 1, tmp);
		put_floats(fp, "type_last", last->type_prob + (size_t)i * NT,
		    NT, tmp);
		put_floats(fp, "items", last->item_score + (size_t)i * NI, NI,
		    tmp);
		for (k = 0; k < n; k++) {
			const float *lg = full->type_logits +
			    ((size_t)i * t + k) * NT;
			double mx = lg[0], s = 0;

			for (j = 1; j < NT; j++)
				mx = fmax(mx, lg[j]);
			for (j = 0; j < NT; j++)
				s += (tmp[k * NT + j] = exp(lg[j] - mx));
			for (j = 0; j < NT; j++)
				tmp[k * NT + j] /= s;
		}
		put_values(fp, "type_all", tmp, n * NT);
		nn_attention_per_head(m, last, i, f);
		put_floats(fp, "per_head", f, L * H * n, tmp);
		nn_attention_mean(m, last, i, f);
		put_floats(fp, "mean", f, n, tmp);
		nn_attention_rollout(m, last, i, f);
		put_floats(fp, "rollout", f, n, tmp);
	}
	fprintf(fp, "end\n");
	if (fclose(fp) != 0)
		fatal("%s: write error", out);
	free(f);
	free(tmp);
	free(tok);
	nn_acts_free(full);
	nn_acts_free(last);
	windows_release(&w);
	nn_model_free(m);
	return 0;
}

/* Usage message; exits 2. */
static void
usage(void)
{
	fprintf(stderr, "usage: bench-engine make MODEL WINDOWS [N]\n"
	    "       bench-engine run MODEL WINDOWS [REPS] [BATCH]\n"
	    "       bench-engine dump MODEL WINDOWS OUT [K]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "make") == 0)
		return cmd_make(argv[2], argv[3], argc == 5 ?
		    atoi(argv[4]) : 2000);
	if (argc >= 4 && argc <= 6 && strcmp(argv[1], "run") == 0) {
		int reps = argc >= 5 ? atoi(argv[4]) : 2000,
		    bs = argc == 6 ? atoi(argv[5]) : 64;

		if (reps < 1 || bs < 1)
			usage();
		return cmd_run(argv[2], argv[3], reps, bs);
	}
	if (argc >= 5 && argc <= 6 && strcmp(argv[1], "dump") == 0)
		return cmd_dump(argv[2], argv[3], argv[4], argc == 6 ?
		    atoi(argv[5]) : 8);
	usage();
	return 2;
}
