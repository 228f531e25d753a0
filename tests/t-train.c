/*
 * t-train.c: the training side of the engine. First each backward
 * kernel of nn-layers.c against central finite differences of a scalar
 * objective L = sum(R * out) (R fixed and random, L in double, the
 * kernels in float) on tiny shapes with vector tails: LayerNorm, matmul
 * (with and without dinp and bias), causal attention (several heads,
 * padded windows, T below and above the 64-row block), GELU, the
 * embedding scatter (repeated rows, padding ignored); each also with a
 * mutated gradient (a term of the formula left out, or one component 2%
 * off) that the same check must reject, so the tolerances can fail.
 * Backward kernels add into their gradients (pre-filled here). Dropout:
 * masks 0 or 1/(1-p), the share of zeros near p, one stream per seed,
 * forward and backward consistent, a window's masks independent of how
 * the batch is split (window0), and the whole backward with dropout on
 * against finite differences of the loss. Then the whole model's
 * gradients (every tensor, the tied item embedding and the heads
 * included) and the three losses of tloss_batch against a PyTorch
 * fixture (tests/reference/train_ref.py: tests/data/ref/train1.*), the
 * batch split in two as the threads do it, with and without dropout,
 * and a tiny batch that AdamW must overfit.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nn.h"
#include "store.h"
#include "tokens.h"
#include "train.h"
#include "train-int.h"
#include "util.h"
#include "tap.h"

#define FD_TOL		2e-3	/* finite differences: max|a - n| / max|n| */
#define MUT_SIZE	0.02	/* the generic mutation: a component 2% off */
#define REF_TOL		1e-4	/* gradients against PyTorch, mixed */
#define LOSS_TOL	1e-5	/* loss parts against PyTorch, absolute */
#define SPLIT_TOL	1e-6	/* halves against the whole batch, mixed */

static struct nn_rng rng;

/* n floats, N(mu, sd^2). */
static float *
randn(size_t n, double mu, double sd)
{
	float *x = xmalloc((n ? n : 1) * sizeof(float));
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = (float)(mu + sd * nn_rng_normal(&rng));
	return x;
}

/* An integer in [0, n). */
static int
randint(int n)
{
	return (int)(nn_rng_u64(&rng) % (uint64_t)n);
}

/* sum of r[i] * out[i] in double. */
static double
dotd(const float *r, const float *out, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (double)r[i] * out[i];
	return s;
}

/* ---- finite differences ---- */

/* The objective at the current inputs. */
typedef double	(*objective_fn)(void *ctx);

/*
 * Central differences of f in each x[0..n) into num; the step is the
 * one the float actually took, (x + h) - (x - h) after rounding.
 */
static void
fd_grad(float *x, size_t n, double h, objective_fn f, void *ctx,
    double *num)
{
	size_t i;

	for (i = 0; i < n; i++) {
		float x0 = x[i], xp, xm;
		double lp, lm;

		x[i] = xp = (float)(x0 + h);
		lp = f(ctx);
		x[i] = xm = (float)(x0 - h);
		lm = f(ctx);
		x[i] = x0;
		num[i] = (lp - lm) / ((double)xp - (double)xm);
	}
}

/*
 * The error of gradient a against num: max |a - n| / max |n| (the
 * gradient's scale; 1 when num is all zero); *rel gets the largest
 * elementwise |a - n| / |n| over components above a tenth of the scale.
 */
static double
fd_err(const float *a, const double *num, size_t n, double *rel)
{
	double scale = 0, m = 0, r = 0, d;
	size_t i;

	for (i = 0; i < n; i++)
		scale = fmax(scale, fabs(num[i]));
	if (scale == 0)
		scale = 1;
	for (i = 0; i < n; i++) {
		if (isnan(a[i]))
			return INFINITY;
		d = fabs((double)a[i] - num[i]);
		m = fmax(m, d);
		if (fabs(num[i]) >= 0.1 * scale)
			r = fmax(r, d / fabs(num[i]));
	}
	if (rel != NULL)
		*rel = r;
	return m / scale;
}

/* Worst finite-difference errors over the run, for the summary. */
static double worst_fd, worst_rel;

/* One test: gradient a (n) against the numeric num within FD_TOL. */
static void
check_fd(const char *what, const float *a, const double *num, size_t n)
{
	double rel = 0, e = fd_err(a, num, n, &rel);

	worst_fd = fmax(worst_fd, e);
	worst_rel = fmax(worst_rel, rel);
	ok(e <= FD_TOL, "%s: finite differences (error %.2g of the scale, "
	    "max relative %.2g)", what, e, rel);
}

/* One test: a mutated gradient must fail the same check. */
static void
check_mut(const char *what, const float *mut, const double *num, size_t n)
{
	double e = fd_err(mut, num, n, NULL);

	ok(e > FD_TOL, "%s: caught (error %.2g > %g)", what, e, FD_TOL);
}

/* One test: the generic mutation, the largest component 2% off. */
static void
check_mut_generic(const char *what, const float *a, const double *num,
    size_t n)
{
	float *m = xmalloc(n * sizeof(float));
	size_t i, big = 0;

	memcpy(m, a, n * sizeof(float));
	for (i = 1; i < n; i++)
		if (fabsf(m[i]) > fabsf(m[big]))
			big = i;
	m[big] *= (float)(1 + MUT_SIZE);
	check_mut(what, m, num, n);
	free(m);
}

/* g -= p: a gradient without what it was pre-filled with. */
static void
unfill(float *g, const float *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		g[i] -= p[i];
}

/* ---- LayerNorm ---- */

/* A LayerNorm and its objective's weights R. */
struct ln_ctx {
	int	 N, C;
	float	*inp, *w, *b, *out, *mean, *rstd, *R;
};

/* L of the LayerNorm at the current inputs. */
static double
ln_obj(void *p)
{
	struct ln_ctx *c = p;

	nn_layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b,
	    c->N, c->C);
	return dotd(c->R, c->out, (size_t)c->N * c->C);
}

/*
 * LayerNorm backward: dinp, dw, db; with the two mean terms of dinp
 * left out in turn as mutations.
 */
static void
test_layernorm(void)
{
	static const int shapes[][2] = { { 4, 13 }, { 3, 16 } };
	size_t s;

	for (s = 0; s < 2; s++) {
		struct ln_ctx c;
		const int N = shapes[s][0], C = shapes[s][1];
		const size_t n = (size_t)N * C;
		float *dinp, *dw, *db, *p1, *p2, *p3, *mut;
		double *num = xcalloc(n, sizeof(double));
		char what[80];
		int i, k;

		c.N = N;
		c.C = C;
		c.inp = randn(n, 0.3, 1.5);
		c.w = randn((size_t)C, 1, 0.3);
		c.b = randn((size_t)C, 0, 0.3);
		c.R = randn(n, 0, 1);
		c.out = xcalloc(n, sizeof(float));
		c.mean = xcalloc((size_t)N, sizeof(float));
		c.rstd = xcalloc((size_t)N, sizeof(float));
		p1 = randn(n, 0, 1);
		p2 = randn((size_t)C, 0, 1);
		p3 = randn((size_t)C, 0, 1);
		dinp = xmalloc(n * sizeof(float));
		dw = xmalloc((size_t)C * sizeof(float));
		db = xmalloc((size_t)C * sizeof(float));
		memcpy(dinp, p1, n * sizeof(float));
		memcpy(dw, p2, (size_t)C * sizeof(float));
		memcpy(db, p3, (size_t)C * sizeof(float));
		ln_obj(&c);
		nn_layernorm_backward(dinp, dw, db, c.R, c.inp, c.w, c.mean,
		    c.rstd, N, C);
		unfill(dinp, p1, n);
		unfill(dw, p2, (size_t)C);
		unfill(db, p3, (size_t)C);

		fd_grad(c.inp, n, 1e-2, ln_obj, &c, num);
		snprintf(what, sizeof(what), "layernorm %dx%d dinp", N, C);
		check_fd(what, dinp, num, n);
		mut = xmalloc(n * sizeof(float));
		/* without - mean(g), then without - xhat mean(g xhat) */
		for (k = 0; k < 2; k++) {
			for (i = 0; i < N; i++) {
				double sg = 0, sgx = 0, xh;
				int j;

				for (j = 0; j < C; j++) {
					xh = (c.inp[i * C + j] - c.mean[i]) *
					    c.rstd[i];
					sg += (double)c.R[i * C + j] * c.w[j];
					sgx += (double)c.R[i * C + j] * c.w[j] *
					    xh;
				}
				sg /= C;
				sgx /= C;
				for (j = 0; j < C; j++) {
					xh = (c.inp[i * C + j] - c.mean[i]) *
					    c.rstd[i];
					mut[i * C + j] = (float)(dinp[i * C +
					    j] + c.rstd[i] * (k == 0 ? sg :
					    xh * sgx));
				}
			}
			snprintf(what, sizeof(what), "layernorm %dx%d dinp "
			    "without the %s term", N, C, k == 0 ? "mean(g)" :
			    "xhat mean(g xhat)");
			check_mut(what, mut, num, n);
		}
		free(mut);
		fd_grad(c.w, (size_t)C, 1e-2, ln_obj, &c, num);
		snprintf(what, sizeof(what), "layernorm %dx%d dw", N, C);
		check_fd(what, dw, num, (size_t)C);
		fd_grad(c.b, (size_t)C, 1e-2, ln_obj, &c, num);
		snprintf(what, sizeof(what), "layernorm %dx%d db", N, C);
		check_fd(what, db, num, (size_t)C);
		free(c.inp), free(c.w), free(c.b), free(c.R), free(c.out);
		free(c.mean), free(c.rstd), free(p1), free(p2), free(p3);
		free(dinp), free(dw), free(db), free(num);
	}
}

/* ---- matmul ---- */

/* A matmul and R. */
struct mm_ctx {
	int	 N, C, OC;
	float	*inp, *w, *bias, *out, *R;
};

/* L of the matmul at the current inputs. */
static double
mm_obj(void *p)
{
	struct mm_ctx *c = p;

	nn_matmul_forward(c->out, c->inp, c->w, c->bias, c->N, c->C, c->OC);
	return dotd(c->R, c->out, (size_t)c->N * c->OC);
}

/* Matmul backward: dinp, dw, dbias; then dinp and dbias NULL. */
static void
test_matmul(void)
{
	struct mm_ctx c;
	const int N = 6, C = 11, OC = 9;
	const size_t ni = (size_t)N * C, nw = (size_t)OC * C;
	float *dinp, *dw, *db, *dw2, *p1, *p2, *p3;
	double *num = xcalloc(nw, sizeof(double));
	size_t i;
	int same;

	c.N = N;
	c.C = C;
	c.OC = OC;
	c.inp = randn(ni, 0, 1);
	c.w = randn(nw, 0, 0.5);
	c.bias = randn((size_t)OC, 0, 0.5);
	c.R = randn((size_t)N * OC, 0, 1);
	c.out = xcalloc((size_t)N * OC, sizeof(float));
	p1 = randn(ni, 0, 1);
	p2 = randn(nw, 0, 1);
	p3 = randn((size_t)OC, 0, 1);
	dinp = xmalloc(ni * sizeof(float));
	dw = xmalloc(nw * sizeof(float));
	db = xmalloc((size_t)OC * sizeof(float));
	memcpy(dinp, p1, ni * sizeof(float));
	memcpy(dw, p2, nw * sizeof(float));
	memcpy(db, p3, (size_t)OC * sizeof(float));
	nn_matmul_backward(dinp, dw, db, c.R, c.inp, c.w, N, C, OC);
	unfill(dinp, p1, ni);
	unfill(dw, p2, nw);
	unfill(db, p3, (size_t)OC);

	fd_grad(c.inp, ni, 1e-2, mm_obj, &c, num);
	check_fd("matmul 6x11 -> 9 dinp", dinp, num, ni);
	check_mut_generic("matmul dinp, one component 2% off", dinp, num, ni);
	fd_grad(c.w, nw, 1e-2, mm_obj, &c, num);
	check_fd("matmul dw", dw, num, nw);
	check_mut_generic("matmul dw, one component 2% off", dw, num, nw);
	fd_grad(c.bias, (size_t)OC, 1e-2, mm_obj, &c, num);
	check_fd("matmul dbias", db, num, (size_t)OC);

	/* NULL dinp and dbias: dw alone, the same; no bias in forward */
	dw2 = xcalloc(nw, sizeof(float));
	nn_matmul_backward(NULL, dw2, NULL, c.R, c.inp, c.w, N, C, OC);
	for (same = 1, i = 0; i < nw; i++)
		same &= fabsf(dw2[i] - dw[i]) <= 1e-6f * fmaxf(1, fabsf(dw[i]));
	ok(same, "matmul backward with dinp and dbias NULL: the same dw");
	free(c.bias);
	c.bias = NULL;
	fd_grad(c.w, nw, 1e-2, mm_obj, &c, num);
	check_fd("matmul without bias: dw", dw2, num, nw);
	free(c.inp), free(c.w), free(c.R), free(c.out), free(p1), free(p2);
	free(p3), free(dinp), free(dw), free(db), free(dw2), free(num);
}

/* ---- attention ---- */

/* An attention batch and R. */
struct att_ctx {
	int	 B, T, C, H;
	int	*len;
	float	*qkv, *att, *out, *R;
};

/* L of the attention at the current qkv. */
static double
att_obj(void *p)
{
	struct att_ctx *c = p;

	nn_attention_forward(c->out, c->att, c->qkv, c->len, c->B, c->T,
	    c->C, c->H);
	return dotd(c->R, c->out, (size_t)c->B * c->T * c->C);
}

/*
 * The part of dqkv that the softmax's row-sum term removes: with it
 * left out, dS = A dA instead of A (dA - rowsum(A dA)), so dQ and dK
 * grow by scale (A s) K and scale (A s)^T Q. Added to dqkv (double
 * loops).
 */
static void
att_drop_rowsum(float *dqkv, const struct att_ctx *c, const float *dout)
{
	const int C = c->C, C3 = 3 * C, dh = C / c->H, T = c->T;
	const double scale = 1 / sqrt((double)dh);
	double *s = xcalloc((size_t)T, sizeof(double));
	int b, h, k, j, x;

	for (b = 0; b < c->B; b++)
		for (h = 0; h < c->H; h++) {
			const float *qb = c->qkv + (size_t)b * T * C3,
			    *a = c->att + ((size_t)b * c->H + h) * T * T;
			float *dq = dqkv + (size_t)b * T * C3;
			const int n = c->len[b], o = h * dh;

			for (k = 0; k < n; k++) {
				s[k] = 0;
				for (j = 0; j <= k; j++) {
					double da = 0;

					for (x = 0; x < dh; x++)
						da += (double)dout[((size_t)b *
						    T + k) * C + o + x] *
						    qb[(size_t)j * C3 + 2 * C +
						    o + x];
					s[k] += a[(size_t)k * T + j] * da;
				}
			}
			for (k = 0; k < n; k++)
				for (j = 0; j <= k; j++) {
					double w = scale * s[k] *
					    a[(size_t)k * T + j];

					for (x = 0; x < dh; x++) {
						dq[(size_t)k * C3 + o + x] +=
						    (float)(w * qb[(size_t)j *
						    C3 + C + o + x]);
						dq[(size_t)j * C3 + C + o +
						    x] += (float)(w *
						    qb[(size_t)k * C3 + o + x]);
					}
				}
		}
	free(s);
}

/* Attention backward: dqkv of padded windows; mutation: no row sum. */
static void
test_attention(void)
{
	static const struct {
		int	 B, T, C, H, len[3];
	} cs[] = {
		{ 3, 7, 8, 2, { 7, 4, 1 } },
		{ 2, 5, 12, 3, { 5, 2, 0 } },
		{ 2, 70, 8, 4, { 70, 66, 0 } },	/* past 64 rows */
	};
	size_t s;

	for (s = 0; s < sizeof(cs) / sizeof(cs[0]); s++) {
		struct att_ctx c;
		const int B = cs[s].B, T = cs[s].T, C = cs[s].C;
		const size_t nq = (size_t)B * T * 3 * C, no = (size_t)B * T * C;
		float *dqkv, *p, *datt, *dout, *mut;
		double *num = xcalloc(nq, sizeof(double));
		char what[96];
		int b, k, pad_zero = 1;
		size_t i;

		c.B = B;
		c.T = T;
		c.C = C;
		c.H = cs[s].H;
		c.len = xcalloc((size_t)B, sizeof(int));
		for (b = 0; b < B; b++)
			c.len[b] = cs[s].len[b];
		c.qkv = randn(nq, 0, 1);
		c.att = xcalloc((size_t)B * c.H * T * T, sizeof(float));
		c.out = xcalloc(no, sizeof(float));
		c.R = randn(no, 0, 1);
		/* dout: R, zero on padding rows (the kernel's contract) */
		dout = xmalloc(no * sizeof(float));
		memcpy(dout, c.R, no * sizeof(float));
		for (b = 0; b < B; b++)
			for (k = c.len[b]; k < T; k++)
				memset(dout + ((size_t)b * T + k) * C, 0,
				    sizeof(float) * C);
		p = randn(nq, 0, 1);
		dqkv = xmalloc(nq * sizeof(float));
		memcpy(dqkv, p, nq * sizeof(float));
		datt = xcalloc((size_t)T * T, sizeof(float));
		att_obj(&c);
		nn_attention_backward(dqkv, datt, dout, c.qkv, c.att, c.len, B,
		    T, C, c.H);
		unfill(dqkv, p, nq);
		fd_grad(c.qkv, nq, 1e-2, att_obj, &c, num);
		snprintf(what, sizeof(what), "attention B %d T %d C %d H %d "
		    "lengths %d,%d%s%.0d: dqkv", B, T, C, c.H, c.len[0],
		    c.len[1], B > 2 ? "," : "", B > 2 ? c.len[2] : 0);
		check_fd(what, dqkv, num, nq);
		for (b = 0; b < B; b++)
			for (i = ((size_t)b * T + c.len[b]) * 3 * C;
			    i < (size_t)(b + 1) * T * 3 * C; i++)
				pad_zero &= dqkv[i] == 0 && num[i] == 0;
		ok(pad_zero, "attention T %d: nothing flows to padding rows",
		    T);
		mut = xmalloc(nq * sizeof(float));
		memcpy(mut, dqkv, nq * sizeof(float));
		att_drop_rowsum(mut, &c, dout);
		snprintf(what, sizeof(what), "attention T %d without the "
		    "softmax row-sum term", T);
		check_mut(what, mut, num, nq);
		free(mut), free(c.len), free(c.qkv), free(c.att), free(c.out);
		free(c.R), free(dout), free(p), free(dqkv), free(datt);
		free(num);
	}
}

/* ---- GELU ---- */

/* GELU inputs and R. */
struct gelu_ctx {
	int	 N;
	float	*inp, *out, *R;
};

/* L of GELU at the current inputs. */
static double
gelu_obj(void *p)
{
	struct gelu_ctx *c = p;

	nn_gelu_forward(c->out, c->inp, c->N);
	return dotd(c->R, c->out, (size_t)c->N);
}

/* GELU backward; mutation: the tanh's derivative term left out. */
static void
test_gelu(void)
{
	struct gelu_ctx c;
	const int N = 45;	/* 5 vectors of 8 and a tail */
	float *d, *p, *mut;
	double *num = xcalloc((size_t)N, sizeof(double));
	int i;

	c.N = N;
	c.inp = randn((size_t)N, 0, 2);
	c.inp[0] = -6;
	c.inp[1] = 6;
	c.inp[2] = 0;
	c.out = xcalloc((size_t)N, sizeof(float));
	c.R = randn((size_t)N, 0, 1);
	p = randn((size_t)N, 0, 1);
	d = xmalloc((size_t)N * sizeof(float));
	memcpy(d, p, (size_t)N * sizeof(float));
	nn_gelu_backward(d, c.R, c.inp, N);
	unfill(d, p, (size_t)N);
	fd_grad(c.inp, (size_t)N, 1e-3, gelu_obj, &c, num);
	check_fd("gelu 45 values", d, num, (size_t)N);
	mut = xmalloc((size_t)N * sizeof(float));
	for (i = 0; i < N; i++) {
		double x = c.inp[i], k = sqrt(2 / M_PI),
		    t = tanh(k * (x + 0.044715 * x * x * x));

		mut[i] = (float)(d[i] - c.R[i] * 0.5 * x * (1 - t * t) * k *
		    (1 + 3 * 0.044715 * x * x));
	}
	check_mut("gelu without the 0.5 x sech^2(u) u' term", mut, num,
	    (size_t)N);
	free(mut), free(c.inp), free(c.out), free(c.R), free(p), free(d);
	free(num);
}

/* ---- embeddings ---- */

#define E_NT	4
#define E_NI	5
#define E_NG	3
#define E_NA	2

/* Embedding tables, a padded batch of tokens and R. */
struct emb_ctx {
	int		 B, T, C;
	int		*len;
	struct tok	*tok;
	float		*tab[5];	/* type, item, gap, amount, pos */
	float		*out, *R;
};

/* L of the embedding sums at the current tables. */
static double
emb_obj(void *p)
{
	struct emb_ctx *c = p;
	int b;

	/* as nn_forward does: each window's real rows, padding zero */
	for (b = 0; b < c->B; b++) {
		float *o = c->out + (size_t)b * c->T * c->C;

		nn_embed_forward(o, c->tok + (size_t)b * c->T, c->tab[0],
		    c->tab[1], c->tab[2], c->tab[3], c->tab[4], c->len[b],
		    c->C);
		memset(o + (size_t)c->len[b] * c->C, 0, sizeof(float) *
		    (size_t)(c->T - c->len[b]) * c->C);
	}
	return dotd(c->R, c->out, (size_t)c->B * c->T * c->C);
}

/* Token field f (0 type .. 4 pos) of x. */
static int
tok_field(const struct tok *x, int f)
{
	const int v[5] = { x->type, x->item, x->gap, x->amount, x->pos };

	return v[f];
}

/*
 * Embedding scatter: rows used many times add up; padding tokens (here
 * the only users of type row E_NT - 1) give nothing. Mutation: each
 * row keeps the last position's gradient instead of the sum.
 */
static void
test_embed(void)
{
	struct emb_ctx c;
	const int rows[5] = { E_NT, E_NI, E_NG, E_NA, 6 };
	static const char *const nm[5] = { "type", "item", "gap", "amount",
	    "pos" };
	float *g[5], *p[5], *mut;
	double *num;
	int b, k, f, r, cc, hit2 = 0;

	c.B = 3;
	c.T = 6;
	c.C = 11;
	c.len = xcalloc(3, sizeof(int));
	c.len[0] = 6;
	c.len[1] = 2;
	c.len[2] = 4;
	c.tok = xcalloc((size_t)c.B * c.T, sizeof(struct tok));
	for (b = 0; b < c.B; b++)
		for (k = 0; k < c.T; k++) {
			struct tok *x = &c.tok[b * c.T + k];

			x->type = k < c.len[b] ? randint(E_NT - 1) : E_NT - 1;
			x->item = randint(E_NI);
			x->gap = randint(E_NG);
			x->amount = randint(E_NA);
			x->pos = k;
		}
	for (f = 0; f < 5; f++) {
		c.tab[f] = randn((size_t)rows[f] * c.C, 0, 1);
		p[f] = randn((size_t)rows[f] * c.C, 0, 1);
		g[f] = xmalloc((size_t)rows[f] * c.C * sizeof(float));
		memcpy(g[f], p[f], (size_t)rows[f] * c.C * sizeof(float));
	}
	c.out = xcalloc((size_t)c.B * c.T * c.C, sizeof(float));
	c.R = randn((size_t)c.B * c.T * c.C, 0, 1);
	nn_embed_backward(g[0], g[1], g[2], g[3], g[4], c.R, c.tok, c.len,
	    c.B, c.T, c.C);
	num = xcalloc((size_t)E_NI * c.C * 2, sizeof(double));
	mut = xcalloc((size_t)E_NI * c.C * 2, sizeof(float));
	for (f = 0; f < 5; f++) {
		const size_t n = (size_t)rows[f] * c.C;
		char what[64];
		int *cnt = xcalloc((size_t)rows[f], sizeof(int));

		unfill(g[f], p[f], n);
		fd_grad(c.tab[f], n, 1e-2, emb_obj, &c, num);
		snprintf(what, sizeof(what), "embed backward: d%s", nm[f]);
		check_fd(what, g[f], num, n);
		/* the mutation: rows overwritten, not added */
		memset(mut, 0, n * sizeof(float));
		for (b = 0; b < c.B; b++)
			for (k = 0; k < c.len[b]; k++) {
				r = tok_field(&c.tok[b * c.T + k], f);
				cnt[r]++;
				for (cc = 0; cc < c.C; cc++)
					mut[(size_t)r * c.C + cc] =
					    c.R[((size_t)b * c.T + k) * c.C +
					    cc];
			}
		for (r = 0; r < rows[f]; r++)
			hit2 += cnt[r] > 1;
		if (f == 0) {
			double z = 0;

			for (cc = 0; cc < c.C; cc++)
				z = fmax(z, fabs(g[0][(E_NT - 1) * c.C + cc]));
			ok(z == 0, "embed backward: padding tokens give "
			    "nothing (type row %d, only padding uses it)",
			    E_NT - 1);
		}
		snprintf(what, sizeof(what), "embed d%s with rows overwritten "
		    "instead of added", nm[f]);
		check_mut(what, mut, num, n);
		free(cnt);
	}
	ok(hit2 >= 5, "embed: %d rows used more than once", hit2);
	for (f = 0; f < 5; f++)
		free(c.tab[f]), free(p[f]), free(g[f]);
	free(c.len), free(c.tok), free(c.out), free(c.R), free(num);
	free(mut);
}

/* ---- dropout (the kernel) ---- */

/* Dropout inputs, its seed and R. */
struct drop_ctx {
	int	 N;
	float	 p;
	uint64_t seed;
	float	*inp, *out, *mask, *R;
};

/* L of dropout at the current inputs, the mask drawn from c->seed. */
static double
drop_obj(void *v)
{
	struct drop_ctx *c = v;
	struct nn_rng r;

	nn_rng_seed(&r, c->seed);
	nn_dropout_forward(c->out, c->mask, c->inp, c->p, c->N, &r);
	return dotd(c->R, c->out, (size_t)c->N);
}

/*
 * nn_dropout_forward: the mask's values, its share of zeros, one stream
 * per seed, in place, and the backward (dout times the mask) against
 * finite differences with the mask held by the seed.
 */
static void
test_dropout_kernel(void)
{
	static const float ps[] = { 0.1f, 0.5f, 0.9f };
	const int N = 1000000;
	float *inp = randn((size_t)N, 0, 1), *out = xmalloc(N * sizeof(float)),
	    *m1 = xmalloc(N * sizeof(float)), *m2 = xmalloc(N * sizeof(float)),
	    *o2 = xmalloc(N * sizeof(float));
	struct nn_rng r;
	struct drop_ctx c;
	double *num;
	float *d;
	size_t i, k;

	for (k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		const float p = ps[k], keep = 1.0f / (1.0f - p);
		double zeros = 0, sd = sqrt(p * (1.0 - p) / N);
		int vals = 1, prod = 1;

		nn_rng_seed(&r, 11 + k);
		nn_dropout_forward(out, m1, inp, p, N, &r);
		for (i = 0; i < (size_t)N; i++) {
			vals &= m1[i] == 0.0f || m1[i] == keep;
			prod &= out[i] == inp[i] * m1[i];
			zeros += m1[i] == 0.0f;
		}
		ok(vals && prod, "dropout p %.1f: mask 0 or 1/(1-p) = %.6g, "
		    "out = inp * mask", p, keep);
		ok(fabs(zeros / N - p) <= 5 * sd, "dropout p %.1f: %.5f of %d "
		    "masks zero (5 sd = %.1g)", p, zeros / N, N, 5 * sd);
	}
	nn_rng_seed(&r, 5);
	nn_dropout_forward(out, m1, inp, 0.3f, N, &r);
	nn_rng_seed(&r, 5);
	memcpy(o2, inp, (size_t)N * sizeof(float));
	nn_dropout_forward(o2, m2, o2, 0.3f, N, &r);
	ok(memcmp(m1, m2, (size_t)N * sizeof(float)) == 0 &&
	    memcmp(out, o2, (size_t)N * sizeof(float)) == 0,
	    "dropout: the same seed, the same mask; in place the same output");
	nn_rng_seed(&r, 6);
	nn_dropout_forward(out, m2, inp, 0.3f, N, &r);
	for (k = 0, i = 0; i < (size_t)N; i++)
		k += m1[i] != m2[i];
	ok(k > (size_t)N / 4, "dropout: another seed, another mask (%zu of "
	    "%d differ)", k, N);

	c.N = 50;
	c.p = 0.4f;
	c.seed = 99;
	c.inp = inp;
	c.out = out;
	c.mask = m1;
	c.R = randn(50, 0, 1);
	num = xcalloc(50, sizeof(double));
	d = xcalloc(50, sizeof(float));
	drop_obj(&c);
	/* the backward nn_backward uses: dx = dout * mask */
	nn_mul_forward(d, c.R, c.mask, 50);
	fd_grad(c.inp, 50, 1e-2, drop_obj, &c, num);
	check_fd("dropout backward (dout * mask)", d, num, 50);
	for (k = 0, i = 0; i < 50; i++)
		k += c.mask[i] == 0;
	ok(k > 5 && k < 45, "dropout: %zu of 50 dropped in that check", k);
	free(c.R), free(num), free(d), free(inp), free(out), free(m1);
	free(m2), free(o2);
}

/* ---- the training fixture (tests/reference/train_ref.py) ---- */

/* train1.txt: the model, the batch, the losses and gradients. */
struct tfix {
	char		 model[800];
	int		 cfg[6];	/* C L H max_len n_types n_items */
	int		 B, T, K;
	int		*len;		/* (B) */
	struct tok	*tok;		/* (B, T) */
	int32_t		*tt, *ti;	/* (B, T) */
	int8_t		*label;		/* (B) */
	int		*neg;		/* (K) */
	int64_t		 count[3];	/* n_type n_item n_churn */
	double		 loss[4];	/* type item churn total */
	int		 G;
	char		(*name)[64];	/* (G) */
	double		**grad;		/* (G) */
	int		*ngrad;		/* (G) */
};

/* Read the next word and require it to be want. */
static int
expect_word(FILE *fp, const char *want)
{
	char w[64] = "";

	if (fscanf(fp, "%63s", w) != 1 || strcmp(w, want) != 0) {
		diag("fixture: want '%s', got '%s'", want, w);
		return -1;
	}
	return 0;
}

/* Read "word n" with n == want. */
static int
expect_count(FILE *fp, const char *word, int want)
{
	int n;

	if (expect_word(fp, word) < 0 || fscanf(fp, "%d", &n) != 1 ||
	    n != want) {
		diag("fixture: %s: want %d values", word, want);
		return -1;
	}
	return 0;
}

/* Free what tfix_read allocated. */
static void
tfix_release(struct tfix *f)
{
	int i;

	for (i = 0; f->grad != NULL && i < f->G; i++)
		free(f->grad[i]);
	free(f->grad);
	free(f->ngrad);
	free(f->name);
	free(f->len);
	free(f->tok);
	free(f->tt);
	free(f->ti);
	free(f->label);
	free(f->neg);
	memset(f, 0, sizeof(*f));
}

/* Parse dir/name.txt (format: train_ref.py); -1 with a diag if bad. */
static int
tfix_read(struct tfix *f, const char *dir, const char *name)
{
	char path[600], model[256];
	FILE *fp;
	int i, k, v, n;

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "%s/%s.txt", dir, name);
	if ((fp = fopen(path, "r")) == NULL) {
		diag("%s: cannot open", path);
		return -1;
	}
	if (expect_word(fp, "journeyscope-train-ref") < 0 ||
	    expect_word(fp, "1") < 0 || expect_word(fp, "model") < 0 ||
	    fscanf(fp, "%255s", model) != 1 || expect_word(fp, "config") < 0)
		goto bad;
	snprintf(f->model, sizeof(f->model), "%s/%s", dir, model);
	for (k = 0; k < 6; k++)
		if (fscanf(fp, "%d", &f->cfg[k]) != 1)
			goto bad;
	if (expect_word(fp, "batch") < 0 ||
	    fscanf(fp, "%d %d", &f->B, &f->T) != 2 || f->B < 2 ||
	    f->B > 1000 || f->T < 1 || f->T > f->cfg[3])
		goto bad;
	n = f->B * f->T;
	f->len = xcalloc((size_t)f->B, sizeof(int));
	f->tok = xcalloc((size_t)n, sizeof(struct tok));
	f->tt = xcalloc((size_t)n, sizeof(int32_t));
	f->ti = xcalloc((size_t)n, sizeof(int32_t));
	f->label = xcalloc((size_t)f->B, sizeof(int8_t));
	if (expect_count(fp, "len", f->B) < 0)
		goto bad;
	for (i = 0; i < f->B; i++)
		if (fscanf(fp, "%d", &f->len[i]) != 1 || f->len[i] < 1 ||
		    f->len[i] > f->T)
			goto bad;
	if (expect_count(fp, "tokens", n) < 0)
		goto bad;
	for (i = 0; i < n; i++)
		if (fscanf(fp, "%d %d %d %d %d", &f->tok[i].type,
		    &f->tok[i].item, &f->tok[i].gap, &f->tok[i].amount,
		    &f->tok[i].pos) != 5)
			goto bad;
	if (expect_count(fp, "tt", n) < 0)
		goto bad;
	for (i = 0; i < n; i++)
		if (fscanf(fp, "%d", &f->tt[i]) != 1)
			goto bad;
	if (expect_count(fp, "ti", n) < 0)
		goto bad;
	for (i = 0; i < n; i++)
		if (fscanf(fp, "%d", &f->ti[i]) != 1)
			goto bad;
	if (expect_count(fp, "label", f->B) < 0)
		goto bad;
	for (i = 0; i < f->B; i++) {
		if (fscanf(fp, "%d", &v) != 1 || v < -1 || v > 1)
			goto bad;
		f->label[i] = (int8_t)v;
	}
	if (expect_word(fp, "negatives") < 0 || fscanf(fp, "%d", &f->K) != 1 ||
	    f->K < 1 || f->K > 100000)
		goto bad;
	f->neg = xcalloc((size_t)f->K, sizeof(int));
	for (i = 0; i < f->K; i++)
		if (fscanf(fp, "%d", &f->neg[i]) != 1 || f->neg[i] < 2 ||
		    f->neg[i] >= f->cfg[5])
			goto bad;
	if (expect_word(fp, "counts") < 0 ||
	    fscanf(fp, "%" SCNd64 " %" SCNd64 " %" SCNd64, &f->count[0],
	    &f->count[1], &f->count[2]) != 3 ||
	    expect_word(fp, "loss") < 0 ||
	    fscanf(fp, "%lf %lf %lf %lf", &f->loss[0], &f->loss[1],
	    &f->loss[2], &f->loss[3]) != 4 || expect_word(fp, "grads") < 0 ||
	    fscanf(fp, "%d", &f->G) != 1 || f->G < 1 || f->G > 10000)
		goto bad;
	f->name = xcalloc((size_t)f->G, sizeof(*f->name));
	f->grad = xcalloc((size_t)f->G, sizeof(double *));
	f->ngrad = xcalloc((size_t)f->G, sizeof(int));
	for (i = 0; i < f->G; i++) {
		if (fscanf(fp, "%63s %d", f->name[i], &f->ngrad[i]) != 2 ||
		    f->ngrad[i] < 1 || f->ngrad[i] > 100000000)
			goto bad;
		f->grad[i] = xcalloc((size_t)f->ngrad[i], sizeof(double));
		for (k = 0; k < f->ngrad[i]; k++)
			if (fscanf(fp, "%lf", &f->grad[i][k]) != 1)
				goto bad;
	}
	if (expect_word(fp, "end") < 0)
		goto bad;
	fclose(fp);
	return 0;
bad:
	diag("%s: malformed fixture", path);
	fclose(fp);
	tfix_release(f);
	return -1;
}

/* A random token within the model's ranges (padding filler). */
static struct tok
random_tok(const struct nn_config *c)
{
	struct tok t;

	t.type = randint(c->n_types);
	t.item = randint(c->n_items);
	t.gap = randint(TOK_NGAP);
	t.amount = randint(TOK_NAMOUNT);
	t.pos = randint(c->max_len);
	return t;
}

/*
 * Windows lo..hi-1 of the fixture as a batch padded to their longest
 * (tb made with tbatch_init here): targets 0 on padding, as
 * tbatch_fill leaves them; the padding tokens random when garbage is
 * set (they must be ignored), else zero like tbatch_fill's.
 */
static void
tfix_batch(const struct tfix *f, const struct nn_config *cfg, int lo, int hi,
    int garbage, struct tbatch *tb)
{
	int i, k, t = 1;

	for (i = lo; i < hi; i++)
		t = f->len[i] > t ? f->len[i] : t;
	tbatch_init(tb, hi - lo, f->T);
	tb->b = hi - lo;
	tb->t = t;
	for (i = lo; i < hi; i++) {
		const int j = i - lo;

		tb->len[j] = f->len[i];
		/* a churn label at the window's last position */
		if (f->label[i] >= 0)
			(f->label[i] ? tb->c1 : tb->c0)[(size_t)j * t +
			    f->len[i] - 1] = 1;
		for (k = 0; k < t; k++) {
			const size_t r = (size_t)j * t + k,
			    s = (size_t)i * f->T + k;

			if (k < f->len[i]) {
				tb->tok[r] = f->tok[s];
				tb->tt[r] = f->tt[s];
				tb->ti[r] = f->ti[s];
			} else {
				if (garbage)
					tb->tok[r] = random_tok(cfg);
				else
					memset(&tb->tok[r], 0,
					    sizeof(tb->tok[r]));
				tb->tt[r] = tb->ti[r] = 0;
			}
		}
	}
}

/* The step's counts of a batch (what train_step counts). */
static void
batch_counts(const struct tbatch *tb, int64_t cnt[3])
{
	int i, k;

	for (i = 0; i < tb->b; i++) {
		for (k = 0; k < tb->len[i]; k++) {
			cnt[0] += tb->tt[(size_t)i * tb->t + k] > 0;
			cnt[1] += tb->ti[(size_t)i * tb->t + k] > TOK_UNK;
			cnt[2] += tb->c0[(size_t)i * tb->t + k] +
			    tb->c1[(size_t)i * tb->t + k];
		}
	}
}

/* What a step needs besides the batch: negatives, counts, dropout. */
struct step {
	int		 K;
	const int	*neg;
	float		*eneg;		/* (K, C), step_run copies */
	int64_t		 count[3];
	unsigned	 tasks;
	float		 dropout;
	uint64_t	 seed;
	int		 full;		/* tloss.full */
	int		 bce;		/* tloss.bce: over every known item */
	int		 both;		/* tloss.both: with bce, the full
					 * softmax too (the model's items) */
};

/*
 * One worker's share of a step, as worker_step does it: forward
 * (NN_FULL), tloss_batch, nn_backward; g zeroed first. Returns the
 * loss of this share (each task's sum over the step's count).
 */
static double
step_run(const struct nn_model *m, struct nn_acts *a, struct nn_grads *g,
    struct tloss *l, const struct tbatch *tb, struct step *st,
    int window0, int backward)
{
	const int C = m->cfg.C;
	double total = 0;
	int k;

	for (k = 0; k < st->K; k++)
		memcpy(st->eneg + (size_t)k * C, m->p.emb_item +
		    (size_t)st->neg[k] * C, sizeof(float) * C);
	nn_zero_grad(g);
	nn_acts_dropout(a, st->dropout, st->seed, window0);
	nn_forward(m, a, tb->tok, tb->len, tb->b, tb->t, NN_FULL, 0);
	l->tasks = st->tasks;
	l->K = st->K;
	l->neg = st->neg;
	l->eneg = st->eneg;
	l->full = st->full;
	l->bce = st->bce;
	l->bce_seed = st->seed ^ 0xbce;
	l->window0 = window0;
	if (st->bce > 0)	/* as train_run: the draws range over them */
		l->K = m->cfg.n_items - TOK_UNK - 1;
	l->both = st->both;
	if (st->both) {		/* as train_run: the full softmax beside */
		l->full = 1;
		l->eneg = m->p.emb_item + (size_t)(TOK_UNK + 1) * C;
	}
	l->n_type = st->count[0];
	l->n_item = st->count[1];
	l->n_churn = st->count[2];
	tloss_batch(l, a, g, tb);
	if (backward)
		nn_backward(m, g, a, tb->tok, l->dlnf);
	if (st->count[0] > 0)
		total += l->type / (double)st->count[0];
	if (st->count[1] > 0)
		total += l->item / (double)st->count[1];
	if (st->count[2] > 0)
		total += l->churn / (double)st->count[2];
	return total;
}

/* The gradient of tensor i of the file, inside g. */
static float *
grad_of(const struct nn_model *m, const struct nn_grads *g, size_t i,
    struct nn_tensor *t)
{
	nn_tensor_get(m, i, t);
	return g->mem + (t->data - m->mem);
}

/* max |a - b| / max(1, |b|) over the whole gradient block. */
static double
grads_diff(const struct nn_grads *a, const struct nn_grads *b)
{
	double m = 0, d;
	size_t i;

	for (i = 0; i < a->n; i++) {
		d = fabs((double)a->mem[i] - b->mem[i]) /
		    fmax(1, fabs((double)b->mem[i]));
		if (!(d <= m))
			m = isnan(d) ? INFINITY : d;
	}
	return m;
}

/* The fixture's loaded pieces, shared by the tests below. */
static struct tfix fx;
static struct nn_model *fm;

/* The fixture model's known items: the full softmax's K. */
static int
full_k(void)
{
	const int n = fm->cfg.n_items - TOK_UNK - 1;

	return n > fx.K ? n : fx.K;
}

/* The step's next-item loss, for test names. */
static const char *
loss_label(const struct step *st)
{
	return st->both ? ", softmax + binary cross entropy" : st->bce ?
	    ", binary cross entropy" : "";
}

/*
 * The full softmax's loss over items 2.. of m in plain double loops, on
 * a's lnf; *n the targets, *far those with an item over 64 above them.
 */
static double
full_xent(const struct nn_model *m, const struct nn_acts *a,
    const struct tbatch *tb, int *n, int *far)
{
	const int NI = m->cfg.n_items, C = m->cfg.C;
	double want = 0, mx, se, sc, sy = 0;
	int r, j, c;

	if (n != NULL)
		*n = 0;
	if (far != NULL)
		*far = 0;
	for (r = 0; r < tb->b * tb->t; r++) {
		const float *z = a->lnf + (size_t)r * C;

		if (tb->ti[r] <= TOK_UNK)
			continue;
		for (mx = -INFINITY, se = 0, j = 2; j < NI; j++) {
			for (sc = 0, c = 0; c < C; c++)
				sc += (double)z[c] *
				    m->p.emb_item[(size_t)j * C + c];
			if (j == tb->ti[r])
				sy = sc;
			if (sc > mx) {
				se = se * exp(mx - sc) + 1;
				mx = sc;
			} else
				se += exp(sc - mx);
		}
		want += mx + log(se) - sy;
		if (n != NULL)
			(*n)++;
		if (far != NULL)
			*far += mx - sy > 64;
	}
	return want;
}

/*
 * The whole model against PyTorch: loss parts, counts and every
 * gradient tensor; the tied item embedding's two contributions.
 */
static void
test_reference(void)
{
	const struct nn_config *cfg = &fm->cfg;
	struct err e = { 0 };
	struct nn_acts *a;
	struct nn_grads *g, *gh;
	struct tloss l;
	struct tbatch tb;
	struct step st;
	int64_t cnt[3] = { 0, 0, 0 };
	double worst = 0, part, total, head_item = 0, input_item = 0, item;
	size_t i, nt = nn_tensor_count(cfg);
	int fi, k, found;
	static const char *const pn[3] = { "type", "item", "churn" };

	if ((a = nn_acts_new(cfg, fx.B, fx.T, NN_TRAIN, &e)) == NULL ||
	    (g = nn_grads_new(fm, &e)) == NULL ||
	    (gh = nn_grads_new(fm, &e)) == NULL)
		fatal("%s", e.msg);
	tfix_batch(&fx, cfg, 0, fx.B, 1, &tb);
	batch_counts(&tb, cnt);
	ok(cnt[0] == fx.count[0] && cnt[1] == fx.count[1] &&
	    cnt[2] == fx.count[2], "fixture counts: %lld type, %lld item, "
	    "%lld churn targets", (long long)cnt[0], (long long)cnt[1],
	    (long long)cnt[2]);
	memset(&st, 0, sizeof(st));
	st.K = fx.K;
	st.neg = fx.neg;
	st.eneg = xcalloc((size_t)fx.K * cfg->C, sizeof(float));
	memcpy(st.count, fx.count, sizeof(st.count));
	st.tasks = TRAIN_ALL_TASKS;
	tloss_init(&l, fm, fx.B, fx.T, fx.K);
	total = step_run(fm, a, g, &l, &tb, &st, 0, 1);
	ok(l.c_type == fx.count[0] && l.c_item == fx.count[1] &&
	    l.c_churn == fx.count[2], "tloss_batch counts its targets (%lld, "
	    "%lld, %lld)", (long long)l.c_type, (long long)l.c_item,
	    (long long)l.c_churn);
	for (k = 0; k < 3; k++) {
		part = (k == 0 ? l.type : k == 1 ? l.item : l.churn) /
		    (double)fx.count[k];
		is_near(part, fx.loss[k], LOSS_TOL, "loss %s %.7f, PyTorch "
		    "%.7f (error %.2g)", pn[k], part, fx.loss[k],
		    fabs(part - fx.loss[k]));
	}
	is_near(total, fx.loss[3], LOSS_TOL, "total loss %.7f, PyTorch %.7f",
	    total, fx.loss[3]);
	is_int((int64_t)fx.G, (int64_t)nt, "the fixture has every tensor's "
	    "gradient");
	for (fi = 0; fi < fx.G; fi++) {
		struct nn_tensor t;
		double err = 0, d, gmax = 0;
		const float *gp = NULL;

		for (found = 0, i = 0; i < nt && !found; i++) {
			gp = grad_of(fm, g, i, &t);
			found = strcmp(t.name, fx.name[fi]) == 0;
		}
		if (!found || (size_t)fx.ngrad[fi] != t.n) {
			ok(0, "gradient %s: no such tensor of %d values",
			    fx.name[fi], fx.ngrad[fi]);
			continue;
		}
		for (k = 0; k < fx.ngrad[fi]; k++) {
			d = fabs((double)gp[k] - fx.grad[fi][k]) /
			    fmax(1, fabs(fx.grad[fi][k]));
			if (!(d <= err))
				err = isnan(d) ? INFINITY : d;
			gmax = fmax(gmax, fabs(fx.grad[fi][k]));
		}
		worst = fmax(worst, err);
		ok(err <= REF_TOL, "gradient %s (%zu values, largest %.3g): "
		    "error %.2g", t.name, t.n, gmax, err);
	}
	diag("gradients against PyTorch: max error %.2g (tolerance %g, "
	    "|got - want| / max(1, |want|))", worst, REF_TOL);

	/* the tie: the head's and the input's parts of emb.item both count */
	nn_zero_grad(gh);
	st.tasks = TRAIN_ITEM;
	step_run(fm, a, gh, &l, &tb, &st, 0, 0);	/* the head alone */
	for (i = 0; i < gh->n; i++)
		if (gh->p.emb_item <= gh->mem + i &&
		    gh->mem + i < gh->p.emb_item + (size_t)cfg->n_items *
		    cfg->C) {
			head_item = fmax(head_item, fabs(gh->mem[i]));
			input_item = fmax(input_item, fabs(g->mem[i] -
			    gh->mem[i]));
		}
	ok(head_item > 100 * REF_TOL && input_item > 100 * REF_TOL,
	    "emb.item: the next-item head's part (up to %.3g) and the input's "
	    "(up to %.3g) are each far above the tolerance", head_item,
	    input_item);

	/* scored a few rows at a time: the same loss and gradients */
	st.tasks = TRAIN_ALL_TASKS;
	step_run(fm, a, g, &l, &tb, &st, 0, 1);
	item = l.item;
	l.chunk = 3;
	step_run(fm, a, gh, &l, &tb, &st, 0, 1);
	ok(fabs(l.item - item) <= 1e-5 * fmax(1, fabs(item)) &&
	    grads_diff(gh, g) <= 1e-6, "next item scored 3 rows at a time: "
	    "loss %.7f (all at once %.7f), gradients within %.2g", l.item,
	    item, grads_diff(gh, g));
	tloss_release(&l);

	/* every item as a negative: the full softmax, by plain loops */
	{
		const int NI = cfg->n_items, C = cfg->C;
		int *all = xcalloc((size_t)NI, sizeof(int)), j, n = 0;
		double want;

		for (j = 0; j < NI - 2; j++)
			all[j] = j + 2;
		free(st.eneg);
		st.K = NI - 2;
		st.neg = all;
		st.eneg = xcalloc((size_t)st.K * C, sizeof(float));
		st.tasks = TRAIN_ITEM;
		tloss_init(&l, fm, fx.B, fx.T, st.K);
		step_run(fm, a, gh, &l, &tb, &st, 0, 0);
		want = full_xent(fm, a, &tb, &n, NULL);
		ok(n == l.c_item && fabs(l.item - want) <= 1e-4 * fmax(1, want),
		    "full softmax over %d items: loss %.6f, plain loops %.6f "
		    "over %d targets", NI - 2, l.item, want, n);
		/* its own path (tloss.full), whole and in chunks of 3 rows */
		st.tasks = TRAIN_ALL_TASKS;
		step_run(fm, a, g, &l, &tb, &st, 0, 1);
		item = l.item;
		st.full = 1;
		for (j = 0; j < 2; j++) {
			l.chunk = j == 0 ? l.chunk : 3;
			step_run(fm, a, gh, &l, &tb, &st, 0, 1);
			ok(l.c_item == n && fabs(l.item - item) <= 1e-5 *
			    fmax(1, item) && grads_diff(gh, g) <= 1e-5,
			    "full softmax, its own path%s: loss %.7f (as "
			    "sampled negatives %.7f), gradients within %.2g",
			    j == 0 ? "" : ", 3 rows at a time", l.item, item,
			    grads_diff(gh, g));
		}
		/*
		 * emb.item 40 times larger: rows that score some item more
		 * than 64 above their target, which the full softmax scores
		 * again and shifts by the max (nn_softmax_xent_row_max)
		 */
		{
			const size_t ne = (size_t)NI * C;
			float *keep = xmalloc(ne * sizeof(float));
			int far = 0;

			memcpy(keep, fm->p.emb_item, ne * sizeof(float));
			for (j = 0; j < (int)ne; j++)
				fm->p.emb_item[j] *= 40;
			st.full = 0;
			step_run(fm, a, g, &l, &tb, &st, 0, 1);
			item = l.item;
			want = full_xent(fm, a, &tb, NULL, &far);
			st.full = 1;
			step_run(fm, a, gh, &l, &tb, &st, 0, 1);
			/* the sampled path's loss stops at -log 1e-30 a row,
			 * its gradients do not */
			ok(far > 0 && fabs(l.item - want) <= 1e-4 * want &&
			    grads_diff(gh, g) <= 1e-5, "emb.item x 40: %d of "
			    "%d targets with an item over 64 above them; the "
			    "full softmax's loss %.4f (plain loops %.4f), "
			    "gradients within %.2g of the sampled path's", far,
			    n, l.item, want, grads_diff(gh, g));
			memcpy(fm->p.emb_item, keep, ne * sizeof(float));
			free(keep);
		}
		st.full = 0;
		free(all);
	}
	free(st.eneg);
	tloss_release(&l);
	tbatch_release(&tb);
	nn_grads_free(g);
	nn_grads_free(gh);
	nn_acts_free(a);
}

/*
 * How a batch is shared and scored: train_deal_batch puts a batch sorted
 * longest first into bit-reversed order, so the threads' contiguous
 * halves (quarters) hold windows of near-equal total length;
 * tloss_chunks cuts a worker's item targets into chunks of equal size
 * (within a row) near the nominal chunk, never above the buffer's 1.5 chunks.
 */
static void
test_deal_and_chunks(void)
{
	uint32_t in[300], out[300], seen[300];
	int perm = 1, evens = 1, np, ci, nc, n, cr_ok = 1, last_ok = 1;
	int cut_ok = 1;
	size_t k, i;
	static const int chunks[] = { 1, 2, 3, 5, 177, 1000 };
	long len[128], h0 = 0, h1 = 0, c0 = 0, c1 = 0, q[4] = { 0 };
	long qmin, qmax;

	for (k = 1; k <= 300; k++) {
		for (i = 0; i < k; i++)
			in[i] = (uint32_t)(1000 + i);
		memset(seen, 0, sizeof(seen));
		if (train_deal_batch(out, in, k) != k)
			perm = 0;
		for (i = 0; i < k; i++) {
			if (out[i] < 1000 || out[i] >= 1000 + k ||
			    seen[out[i] - 1000]++)
				perm = 0;
			/* the first ceil(k/2) are the even ranks */
			if (((out[i] - 1000) % 2 == 0) != (i < (k + 1) / 2))
				evens = 0;
		}
	}
	ok(perm, "train_deal_batch: a permutation of every batch of 1..300");
	ok(evens, "train_deal_batch: the first half the even ranks, the "
	    "second the odd ones");

	/* lengths 50 down to 4, sorted longest first, as a batch has them */
	for (i = 0; i < 128; i++)
		len[i] = 50 - (long)(46 * i / 127) - (long)(nn_rng_u64(&rng) %
		    2) * (i > 0 && i < 127);
	for (i = 1; i < 128; i++)
		if (len[i] > len[i - 1])
			len[i] = len[i - 1];
	for (i = 0; i < 128; i++)
		in[i] = (uint32_t)i;
	train_deal_batch(out, in, 128);
	for (i = 0; i < 128; i++) {
		*(i < 64 ? &h0 : &h1) += len[out[i]];
		*(i < 64 ? &c0 : &c1) += len[i];
		q[i / 32] += len[out[i]];
	}
	for (qmin = qmax = q[0], i = 1; i < 4; i++) {
		qmin = q[i] < qmin ? q[i] : qmin;
		qmax = q[i] > qmax ? q[i] : qmax;
	}
	ok(labs(h0 - h1) <= len[0] - len[127] && qmax - qmin <= 2 *
	    (len[0] - len[127]) && c0 - c1 > 10 * labs(h0 - h1),
	    "dealt halves %ld and %ld tokens, quarters %ld..%ld (the sorted "
	    "halves %ld and %ld)", h0, h1, qmin, qmax, c0, c1);

	for (ci = 0; ci < (int)(sizeof(chunks) / sizeof(chunks[0])); ci++)
		for (np = 1; np <= 4000; np++) {
			const int c = chunks[ci];
			int lo = np, hi = 0, sum = 0, j;

			n = tloss_chunks(np, c);
			for (j = 0; j < n; j++) {
				nc = (int)((int64_t)np * (j + 1) / n) -
				    (int)((int64_t)np * j / n);
				lo = nc < lo ? nc : lo;
				hi = nc > hi ? nc : hi;
				sum += nc;
			}
			if (sum != np || lo < 1 || hi > c + c / 2 ||
			    (np <= c && n != 1))
				cr_ok = 0;
			if (hi - lo > 1)
				last_ok = 0;
			if (n != (np + c / 2) / c && !(n == 1 && np < c))
				cut_ok = 0;
		}
	ok(cr_ok, "tloss_chunks: chunks of 1..1.5 chunk rows covering every "
	    "target, one for up to a chunk of them");
	ok(last_ok && cut_ok, "tloss_chunks: np / chunk chunks (rounded), "
	    "their sizes at most 1 apart");
	n = tloss_chunks(376, 177);
	nc = 376 / n;
	ok(n == 2 && nc == 188, "376 targets, chunk 177: %d chunks of %d "
	    "(not 177, 177, 22)", n, nc);
}

/*
 * The batch split in two halves (each padded to its own longest, each
 * with the whole batch's counts, window0 the half's first window) as
 * the threads run it: the summed gradients and losses are the whole
 * batch's. With dropout 0 and 0.2.
 */
static void
test_split(void)
{
	const struct nn_config *cfg = &fm->cfg;
	static const float drops[] = { 0, 0.2f, 0.2f, 0.2f };
	/* the last two: tloss.bce, alone and with the full softmax */
	static const int bces[] = { 0, 0, 3, 3 }, boths[] = { 0, 0, 0, 1 };
	struct err e = { 0 };
	struct nn_acts *a;
	struct nn_grads *g, *g1, *g2;
	struct tloss l;
	struct tbatch tb, h1, h2;
	struct step st;
	const int mid = 2;
	size_t d;

	if ((a = nn_acts_new(cfg, fx.B, fx.T, NN_TRAIN, &e)) == NULL ||
	    (g = nn_grads_new(fm, &e)) == NULL ||
	    (g1 = nn_grads_new(fm, &e)) == NULL ||
	    (g2 = nn_grads_new(fm, &e)) == NULL)
		fatal("%s", e.msg);
	tfix_batch(&fx, cfg, 0, fx.B, 0, &tb);
	tfix_batch(&fx, cfg, 0, mid, 0, &h1);
	tfix_batch(&fx, cfg, mid, fx.B, 0, &h2);
	memset(&st, 0, sizeof(st));
	st.K = fx.K;
	st.neg = fx.neg;
	st.eneg = xcalloc((size_t)fx.K * cfg->C, sizeof(float));
	memcpy(st.count, fx.count, sizeof(st.count));
	st.tasks = TRAIN_ALL_TASKS;
	st.seed = 0x5eed;
	tloss_init(&l, fm, fx.B, fx.T, full_k());
	for (d = 0; d < sizeof(drops) / sizeof(drops[0]); d++) {
		double whole, s1, s2, err;
		double sums[3];
		int64_t c[3];

		st.dropout = drops[d];
		st.bce = bces[d];
		st.both = boths[d];
		whole = step_run(fm, a, g, &l, &tb, &st, 0, 1);
		sums[0] = l.type, sums[1] = l.item, sums[2] = l.churn;
		c[0] = l.c_type, c[1] = l.c_item, c[2] = l.c_churn;
		s1 = step_run(fm, a, g1, &l, &h1, &st, 0, 1);
		sums[0] -= l.type, sums[1] -= l.item, sums[2] -= l.churn;
		c[0] -= l.c_type, c[1] -= l.c_item, c[2] -= l.c_churn;
		s2 = step_run(fm, a, g2, &l, &h2, &st, mid, 1);
		sums[0] -= l.type, sums[1] -= l.item, sums[2] -= l.churn;
		c[0] -= l.c_type, c[1] -= l.c_item, c[2] -= l.c_churn;
		nn_grads_add(g1, g2);
		err = grads_diff(g1, g);
		ok(err <= SPLIT_TOL, "dropout %.1f%s: windows 0..%d (t %d) and "
		    "%d..%d (t %d) apart: summed gradients equal the whole "
		    "batch's (error %.2g)", drops[d], loss_label(&st), mid - 1, h1.t, mid, fx.B - 1, h2.t,
		    err);
		ok(fabs(s1 + s2 - whole) <= 1e-6 * fmax(1, whole) &&
		    fabs(sums[0]) + fabs(sums[1]) + fabs(sums[2]) <= 1e-5 &&
		    c[0] == 0 && c[1] == 0 && c[2] == 0,
		    "dropout %.1f%s: the halves' losses add up to the whole's "
		    "(%.7f + %.7f = %.7f)", drops[d], loss_label(&st), s1, s2,
		    whole);
	}
	free(st.eneg);
	tloss_release(&l);
	tbatch_release(&tb);
	tbatch_release(&h1);
	tbatch_release(&h2);
	nn_grads_free(g);
	nn_grads_free(g1);
	nn_grads_free(g2);
	nn_acts_free(a);
}

/*
 * Churn windows of several cut-offs (tset_add_churns): those that start
 * at the first event share one window, labelled at their own last
 * positions, the rest get their own; the loss and every gradient are
 * those of one window per cut-off (tset_add_churn), the model being
 * causal.
 */
static void
test_churn_merge(void)
{
	const struct nn_config *cfg = &fm->cfg;
	const int ML = cfg->max_len, N = ML + 3, NT = cfg->n_types - 2,
	    NI = cfg->n_items - 2;
	const struct vocab *v = fm->vocab;
	/* events before each cut-off: past max_len, max_len, a tie, none */
	const int ends[] = { N, ML + 1, ML, ML - 2, ML - 2, 3, 0 };
	const int nc = (int)(sizeof(ends) / sizeof(ends[0]));
	struct store_hevent *ev = xcalloc((size_t)N, sizeof(*ev));
	struct store_history h;
	struct tset s1, s2;
	struct tbatch tb1, tb2;
	struct nn_acts *a;
	struct nn_grads *g1, *g2;
	struct tloss l;
	struct step st;
	struct err e = { 0 };
	int64_t cut[7];
	int8_t lab[7];
	uint32_t idx[8];
	double l1, l2, err;
	int i, k, w1, w2, n1 = 0, n2 = 0, pos_ok, merged = -1;

	/* the model's own types and items */
	for (i = 0; i < N; i++) {
		ev[i].id = i + 1;
		ev[i].ts = 1000 * (int64_t)(i + 1) + 37 * (i % 5);
		ev[i].type = vocab_type(v, 2 + (i * 7) % NT);
		ev[i].item = i % 4 == 3 ? NULL : vocab_item(v, 2 +
		    (i * 5) % NI);
		ev[i].amount = i % 3 ? NAN : 2.5 * i;
	}
	memset(&h, 0, sizeof(h));
	h.ev = ev;
	h.n = (size_t)N;
	for (i = 0; i < nc; i++) {
		/* between event ends[i] - 1 and ends[i] */
		cut[i] = ends[i] == 0 ? 1 : ends[i] == N ? ev[N - 1].ts + 1 :
		    ev[ends[i]].ts - 1;
		lab[i] = (int8_t)(i % 2);
	}
	tset_init(&s1);
	tset_init(&s2);
	w1 = tset_add_churns(&s1, v, &h, cut, lab, nc, ML, 42);
	for (i = 0, w2 = 0; i < nc; i++)
		w2 += tset_add_churn(&s2, v, &h, cut[i], ML, lab[i], 42);
	for (i = 0; i < (int)s1.n; i++)
		if (s1.s[i].label < 0)
			merged = i;
	pos_ok = merged >= 0 && s1.s[merged].n == ML;
	for (k = 0; pos_ok && k < ML; k++) {
		const int c0 = s1.c0[s1.s[merged].off + k],
		    c1 = s1.c1[s1.s[merged].off + k];
		int want0 = 0, want1 = 0;

		for (i = 0; i < nc; i++)
			if (ends[i] >= 1 && ends[i] <= ML && ends[i] - 1 == k)
				(lab[i] ? &want1 : &want0)[0]++;
		pos_ok = c0 == want0 && c1 == want1;
	}
	for (k = 0; k < (int)s1.len; k++)
		n1 += s1.c0[k] + s1.c1[k];
	for (k = 0; k < (int)s2.len; k++)
		n2 += s2.c0[k] + s2.c1[k];
	ok(w1 == 3 && (int)s1.n == 3 && w2 == nc - 1 && n1 == nc - 1 &&
	    n2 == nc - 1 && pos_ok, "churn windows of %d cut-offs: %d windows "
	    "(%d past max_len %d, one shared by the rest) instead of %d; %d "
	    "labels each way, at their own positions", nc, w1, w1 - 1, ML,
	    w2, n1);
	if ((a = nn_acts_new(cfg, nc, ML, NN_TRAIN, &e)) == NULL ||
	    (g1 = nn_grads_new(fm, &e)) == NULL ||
	    (g2 = nn_grads_new(fm, &e)) == NULL)
		fatal("%s", e.msg);
	tbatch_init(&tb1, nc, ML);
	tbatch_init(&tb2, nc, ML);
	for (i = 0; i < nc; i++)
		idx[i] = (uint32_t)i;
	tbatch_fill(&tb1, &s1, idx, (int)s1.n);
	tbatch_fill(&tb2, &s2, idx, (int)s2.n);
	memset(&st, 0, sizeof(st));
	st.count[2] = nc - 1;
	st.tasks = TRAIN_CHURN;
	tloss_init(&l, fm, nc, ML, 1);
	l1 = step_run(fm, a, g1, &l, &tb1, &st, 0, 1);
	l2 = step_run(fm, a, g2, &l, &tb2, &st, 0, 1);
	err = grads_diff(g1, g2);
	ok(fabs(l1 - l2) <= 1e-6 * fmax(1, l2) && err <= SPLIT_TOL,
	    "churn: the shared window's loss and gradients are the separate "
	    "windows' (loss %.7f against %.7f, gradients within %.2g)", l1,
	    l2, err);
	tloss_release(&l);
	tbatch_release(&tb1);
	tbatch_release(&tb2);
	nn_grads_free(g1);
	nn_grads_free(g2);
	nn_acts_free(a);
	tset_release(&s1);
	tset_release(&s2);
	free(ev);
}

/*
 * Dropout in the model: the masks of a window are the same whether the
 * batch runs whole or split (window0 numbering); padding rows of the
 * masks are zero; another window0 gives other masks.
 */
static void
test_dropout_windows(void)
{
	const struct nn_config *cfg = &fm->cfg;
	const int C = cfg->C, L = cfg->L, mid = 2;
	struct err e = { 0 };
	struct nn_acts *a, *a1, *a2;
	struct tbatch tb, h1, h2;
	int i, l, same = 1, pad = 1, site, differ = 0;

	if ((a = nn_acts_new(cfg, fx.B, fx.T, NN_TRAIN, &e)) == NULL ||
	    (a1 = nn_acts_new(cfg, fx.B, fx.T, NN_TRAIN, &e)) == NULL ||
	    (a2 = nn_acts_new(cfg, fx.B, fx.T, NN_TRAIN, &e)) == NULL)
		fatal("%s", e.msg);
	tfix_batch(&fx, cfg, 0, fx.B, 0, &tb);
	tfix_batch(&fx, cfg, 0, mid, 0, &h1);
	tfix_batch(&fx, cfg, mid, fx.B, 0, &h2);
	nn_acts_dropout(a, 0.3f, 1234, 0);
	nn_forward(fm, a, tb.tok, tb.len, tb.b, tb.t, NN_FULL, 0);
	nn_acts_dropout(a1, 0.3f, 1234, 0);
	nn_forward(fm, a1, h1.tok, h1.len, h1.b, h1.t, NN_FULL, 0);
	nn_acts_dropout(a2, 0.3f, 1234, mid);
	nn_forward(fm, a2, h2.tok, h2.len, h2.b, h2.t, NN_FULL, 0);
	for (i = 0; i < fx.B; i++) {
		const struct nn_acts *x = i < mid ? a1 : a2;
		const struct tbatch *h = i < mid ? &h1 : &h2;
		const int j = i < mid ? i : i - mid, n = fx.len[i];

		/* site 0: drop0 (b, t, C); then drop1, drop2 (L, b, t, C) */
		for (site = 0; site < 1 + 2 * L; site++) {
			const float *mw, *mh;
			size_t k;

			l = (site - 1) / 2;
			if (site == 0) {
				mw = a->drop0 + (size_t)i * tb.t * C;
				mh = x->drop0 + (size_t)j * h->t * C;
			} else {
				const float *bw = site % 2 ? a->drop1 :
				    a->drop2, *bh = site % 2 ? x->drop1 :
				    x->drop2;

				mw = bw + ((size_t)l * tb.b * tb.t + (size_t)i *
				    tb.t) * C;
				mh = bh + ((size_t)l * h->b * h->t + (size_t)j *
				    h->t) * C;
			}
			same &= memcmp(mw, mh, sizeof(float) * (size_t)n *
			    C) == 0;
			for (k = (size_t)n * C; k < (size_t)tb.t * C; k++)
				pad &= mw[k] == 0;
		}
	}
	ok(same, "dropout masks (embeddings and %d branches) of each window: "
	    "the same whole and split (window0 0 and %d)", 2 * L, mid);
	ok(pad, "dropout masks are zero on padding rows");
	/* window 2 numbered 0 instead of 2: other masks */
	nn_acts_dropout(a2, 0.3f, 1234, 0);
	nn_forward(fm, a2, h2.tok, h2.len, h2.b, h2.t, NN_FULL, 0);
	differ = memcmp(a->drop0 + (size_t)mid * tb.t * C, a2->drop0,
	    sizeof(float) * (size_t)fx.len[mid] * C) != 0;
	ok(differ, "another window0: other masks");
	tbatch_release(&tb);
	tbatch_release(&h1);
	tbatch_release(&h2);
	nn_acts_free(a);
	nn_acts_free(a1);
	nn_acts_free(a2);
}

/*
 * The binary cross entropy's negatives (uniform over the known items,
 * never the target, the same for the same window, position and draw),
 * and its loss against plain double loops over the same draws.
 */
static void
test_bce(void)
{
	const struct nn_config *cfg = &fm->cfg;
	const int K = 10, Y = 5, NB = 3, C = cfg->C;
	int count[12] = { 0 }, bad = 0, same = 1, w, t, k, j, r, lo, hi, n = 0;
	struct err e = { 0 };
	struct nn_acts *a;
	struct nn_grads *g;
	struct tloss l;
	struct tbatch tb;
	struct step st;
	double want = 0;

	for (w = 0; w < 100; w++)
		for (t = 0; t < 50; t++)
			for (k = 1; k <= 4; k++) {
				j = tloss_bce_negative(9, w, t, k, Y, K);
				bad += j < TOK_UNK + 1 || j > TOK_UNK + K ||
				    j == Y;
				if (!bad)
					count[j]++;
				same &= j == tloss_bce_negative(9, w, t, k, Y,
				    K);
			}
	for (lo = 20000, hi = 0, j = TOK_UNK + 1; j <= TOK_UNK + K; j++)
		if (j != Y) {
			lo = count[j] < lo ? count[j] : lo;
			hi = count[j] > hi ? count[j] : hi;
		}
	/* 20,000 draws over 9 items: 2,222 each, sd 44 */
	ok(bad == 0 && same && lo > 2000 && hi < 2450 && count[Y] == 0,
	    "binary cross entropy: 20000 negatives over items 2..11, never "
	    "the target 5, the same again; each item drawn %d..%d times", lo,
	    hi);
	ok(tloss_bce_negative(9, 0, 0, 1, TOK_UNK + 1, 1) == -1 &&
	    tloss_bce_negative(9, 0, 0, 1, TOK_UNK + 1, 2) == TOK_UNK + 2,
	    "binary cross entropy: no negative beside a lone target; the "
	    "other of two items");
	ok(tloss_bce_negative(9, 0, 0, 1, Y, K) !=
	    tloss_bce_negative(9, 0, 0, 2, Y, K) ||
	    tloss_bce_negative(9, 0, 0, 2, Y, K) !=
	    tloss_bce_negative(9, 0, 0, 3, Y, K), "binary cross entropy: "
	    "a position's draws differ");

	if ((a = nn_acts_new(cfg, fx.B, fx.T, NN_TRAIN, &e)) == NULL ||
	    (g = nn_grads_new(fm, &e)) == NULL)
		fatal("%s", e.msg);
	tfix_batch(&fx, cfg, 0, fx.B, 0, &tb);
	memset(&st, 0, sizeof(st));
	st.K = fx.K;
	st.neg = fx.neg;
	st.eneg = xcalloc((size_t)fx.K * C, sizeof(float));
	memcpy(st.count, fx.count, sizeof(st.count));
	st.tasks = TRAIN_ITEM;
	st.seed = 0x5eed;
	st.bce = NB;
	tloss_init(&l, fm, fx.B, fx.T, fx.K);
	step_run(fm, a, g, &l, &tb, &st, 0, 0);
	for (r = 0; r < tb.b * tb.t; r++) {
		const float *z = a->lnf + (size_t)r * C;
		const int y = tb.ti[r];

		if (y <= TOK_UNK)
			continue;
		n++;
		for (k = 0; k <= NB; k++) {
			double s = 0;

			j = k == 0 ? y : tloss_bce_negative(l.bce_seed,
			    r / tb.t, r % tb.t, k, y, l.K);
			for (t = 0; t < C; t++)
				s += (double)z[t] * fm->p.emb_item[(size_t)j *
				    C + t];
			want += log1p(exp(k == 0 ? -s : s));
		}
	}
	ok(n > 0 && n == l.c_item && fabs(l.item - want) <= 1e-5 *
	    fmax(1, want), "binary cross entropy, %d negatives over %d "
	    "items: loss %.6f, plain loops %.6f over %d targets", NB, l.K,
	    l.item, want, n);
	free(st.eneg);
	tloss_release(&l);
	tbatch_release(&tb);
	nn_grads_free(g);
	nn_acts_free(a);
}

/*
 * --item-loss softmax+bce: the full softmax's and the binary cross
 * entropy's losses and gradients, each run alone, add up to the sum's;
 * its targets are counted once.
 */
static void
test_both(void)
{
	const struct nn_config *cfg = &fm->cfg;
	const int NI = cfg->n_items, C = cfg->C;
	int *all = xcalloc((size_t)NI, sizeof(int)), j;
	struct err e = { 0 };
	struct nn_acts *a;
	struct nn_grads *gf, *gb, *gs;
	struct tloss l;
	struct tbatch tb;
	struct step st;
	double item_f, item_b;
	int64_t c_f, c_b;

	if ((a = nn_acts_new(cfg, fx.B, fx.T, NN_TRAIN, &e)) == NULL ||
	    (gf = nn_grads_new(fm, &e)) == NULL ||
	    (gb = nn_grads_new(fm, &e)) == NULL ||
	    (gs = nn_grads_new(fm, &e)) == NULL)
		fatal("%s", e.msg);
	for (j = 0; j < NI - 2; j++)
		all[j] = j + 2;
	tfix_batch(&fx, cfg, 0, fx.B, 0, &tb);
	memset(&st, 0, sizeof(st));
	st.K = NI - 2;
	st.neg = all;
	st.eneg = xcalloc((size_t)st.K * C, sizeof(float));
	memcpy(st.count, fx.count, sizeof(st.count));
	st.tasks = TRAIN_ITEM;
	st.dropout = 0.2f;
	st.seed = 0x5eed;
	tloss_init(&l, fm, fx.B, fx.T, full_k());
	st.full = 1;		/* the full softmax alone */
	step_run(fm, a, gf, &l, &tb, &st, 0, 1);
	item_f = l.item, c_f = l.c_item;
	st.bce = 3;		/* the binary cross entropy alone */
	step_run(fm, a, gb, &l, &tb, &st, 0, 1);
	item_b = l.item, c_b = l.c_item;
	st.both = 1;		/* their sum */
	step_run(fm, a, gs, &l, &tb, &st, 0, 1);
	nn_grads_add(gf, gb);
	ok(c_f > 0 && c_f == c_b && l.c_item == c_f &&
	    fabs(l.item - (item_f + item_b)) <= 1e-5 * fmax(1, l.item) &&
	    item_f > 0 && item_b > 0 && grads_diff(gs, gf) <= 1e-6,
	    "softmax + binary cross entropy: loss %.6f = %.6f + %.6f over "
	    "%lld targets, gradients the sum's within %.2g", l.item, item_f,
	    item_b, (long long)l.c_item, grads_diff(gs, gf));
	free(st.eneg);
	free(all);
	tloss_release(&l);
	tbatch_release(&tb);
	nn_grads_free(gf);
	nn_grads_free(gb);
	nn_grads_free(gs);
	nn_acts_free(a);
}

/* The fixture batch and what its loss needs (test_model_fd). */
struct model_ctx {
	struct nn_acts	*a;
	struct nn_grads	*g;
	struct tloss	 l;
	struct tbatch	 tb;
	struct step	 st;
};

/* The fixture batch's loss (dropout masks from the step's seed). */
static double
model_obj(void *p)
{
	struct model_ctx *c = p;

	return step_run(fm, c->a, c->g, &c->l, &c->tb, &c->st, 0, 0);
}

/*
 * The whole backward with dropout on (masks held by the seed) against
 * central differences of the loss, on a few components of every tensor
 * (the rows of the tables the batch uses).
 */
static void
test_model_fd(int bce, int both)
{
	const struct nn_config *cfg = &fm->cfg;
	const int C = cfg->C, PER = 6;
	struct model_ctx c;
	struct err e = { 0 };
	struct nn_grads *g;
	size_t i, nt = nn_tensor_count(cfg);
	double worst = 0, worst_rel = 0;
	int bad = 0, k;

	memset(&c, 0, sizeof(c));
	if ((c.a = nn_acts_new(cfg, fx.B, fx.T, NN_TRAIN, &e)) == NULL ||
	    (c.g = nn_grads_new(fm, &e)) == NULL ||
	    (g = nn_grads_new(fm, &e)) == NULL)
		fatal("%s", e.msg);
	tfix_batch(&fx, cfg, 0, fx.B, 0, &c.tb);
	c.st.K = fx.K;
	c.st.neg = fx.neg;
	c.st.eneg = xcalloc((size_t)fx.K * C, sizeof(float));
	memcpy(c.st.count, fx.count, sizeof(c.st.count));
	c.st.tasks = TRAIN_ALL_TASKS;
	c.st.dropout = 0.2f;
	c.st.seed = 77;
	c.st.bce = bce;
	c.st.both = both;
	tloss_init(&c.l, fm, fx.B, fx.T, full_k());
	step_run(fm, c.a, g, &c.l, &c.tb, &c.st, 0, 1);
	for (i = 0; i < nt; i++) {
		struct nn_tensor t;
		float *gp = grad_of(fm, g, i, &t);
		double num[6], scale = 0, err = 0;

		for (k = 0; k < PER; k++) {
			size_t idx;
			int row;

			if (strncmp(t.name, "emb.", 4) == 0) {
				/* a row the batch uses: a token's, or for
				 * emb.item a target's or a negative's */
				int r = randint(fx.B), pos = randint(fx.len[r]);
				const struct tok *x = &fx.tok[r * fx.T + pos];

				row = strcmp(t.name, "emb.type") == 0 ?
				    x->type : strcmp(t.name, "emb.gap") == 0 ?
				    x->gap :
				    strcmp(t.name, "emb.amount") == 0 ?
				    x->amount : strcmp(t.name, "emb.pos") == 0 ?
				    x->pos : k % 3 == 0 ? x->item : k % 3 == 1 ?
				    fx.neg[randint(fx.K)] :
				    fx.ti[r * fx.T + pos];
				idx = (size_t)row * C + (size_t)randint(C);
			} else
				idx = (size_t)randint((int)t.n);
			fd_grad(t.data + idx, 1, 5e-3, model_obj, &c, &num[k]);
			scale = fmax(scale, fabs(num[k]));
			err = fmax(err, fabs(num[k] - gp[idx]));
			if (fabs(num[k]) > 1e-3)
				worst_rel = fmax(worst_rel, fabs(num[k] -
				    gp[idx]) / fabs(num[k]));
		}
		/* absolute, as the components of a tensor may all be small */
		if (err > 1e-3 + 1e-2 * scale) {
			bad++;
			diag("%s: error %.2g, scale %.2g", t.name, err, scale);
		}
		worst = fmax(worst, err);
	}
	ok(bad == 0, "whole backward with dropout 0.2%s against finite "
	    "differences of the loss, %d components of each of %zu tensors: "
	    "max abs error %.2g, max relative %.2g", loss_label(&c.st), PER,
	    nt, worst, worst_rel);
	free(c.st.eneg);
	tloss_release(&c.l);
	tbatch_release(&c.tb);
	nn_grads_free(c.g);
	nn_grads_free(g);
	nn_acts_free(c.a);
}

/*
 * A tiny batch overfits: a model initialised at random, the fixture's
 * batch and negatives, 300 AdamW steps at lr 1e-2, no dropout.
 */
static void
test_overfit(void)
{
	const int STEPS = 300;
	const double BAR = 0.01;
	struct nn_adamw ad = { 1e-2f, 0.9f, 0.98f, 1e-8f, 0.01f };
	struct err e = { 0 };
	struct nn_model *m;
	struct nn_acts *a;
	struct nn_grads *g, *mo, *ve;
	struct tloss l;
	struct tbatch tb;
	struct step st;
	struct nn_rng r;
	double first = 0, last = 0, part0[3] = { 0 }, part1[3] = { 0 };
	int s, k;

	if ((m = nn_model_new(&fm->cfg, NULL, &e)) == NULL ||
	    (a = nn_acts_new(&m->cfg, fx.B, fx.T, NN_TRAIN, &e)) == NULL ||
	    (g = nn_grads_new(m, &e)) == NULL ||
	    (mo = nn_grads_new(m, &e)) == NULL ||
	    (ve = nn_grads_new(m, &e)) == NULL)
		fatal("%s", e.msg);
	nn_rng_seed(&r, 3);
	nn_model_init_random(m, &r);
	tfix_batch(&fx, &m->cfg, 0, fx.B, 0, &tb);
	memset(&st, 0, sizeof(st));
	st.K = fx.K;
	st.neg = fx.neg;
	st.eneg = xcalloc((size_t)fx.K * m->cfg.C, sizeof(float));
	memcpy(st.count, fx.count, sizeof(st.count));
	st.tasks = TRAIN_ALL_TASKS;
	tloss_init(&l, m, fx.B, fx.T, fx.K);
	for (s = 1; s <= STEPS + 1; s++) {
		last = step_run(m, a, g, &l, &tb, &st, 0, s <= STEPS);
		for (k = 0; k < 3; k++)
			part1[k] = (k == 0 ? l.type : k == 1 ? l.item :
			    l.churn) / (double)fx.count[k];
		if (s == 1) {
			first = last;
			memcpy(part0, part1, sizeof(part0));
		}
		if (s <= STEPS)
			nn_adamw_step(m, g, mo, ve, &ad, s, 1.0f);
	}
	ok(isfinite(last) && last < BAR * first, "overfit: %d AdamW steps "
	    "take the loss from %.4f to %.4f (%.2f%%, bar %.0f%%)", STEPS,
	    first, last, 100 * last / first, 100 * BAR);
	diag("overfit: type %.4f -> %.4f, item %.4f -> %.4f, churn %.4f -> "
	    "%.4f", part0[0], part1[0], part0[1], part1[1], part0[2],
	    part1[2]);
	ok(part1[0] < part0[0] && part1[1] < part0[1] && part1[2] < part0[2],
	    "overfit: each of the three losses goes down");
	free(st.eneg);
	tloss_release(&l);
	tbatch_release(&tb);
	nn_grads_free(g);
	nn_grads_free(mo);
	nn_grads_free(ve);
	nn_acts_free(a);
	nn_model_free(m);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	struct err e = { 0 };
	char dir[512];

	plan(130);
	nn_rng_seed(&rng, 20240517);
	test_layernorm();
	test_matmul();
	test_attention();
	test_gelu();
	test_embed();
	test_dropout_kernel();
	diag("finite differences: worst error %.2g of the gradient's scale "
	    "(tolerance %g), worst relative %.2g", worst_fd, FD_TOL,
	    worst_rel);

	snprintf(dir, sizeof(dir), "%s/tests/data/ref", top ? top : ".");
	if (!ok(tfix_read(&fx, dir, "train1") == 0, "train1: fixture reads"))
		return exit_status();
	if (!ok((fm = nn_model_read_file(fx.model, &e)) != NULL,
	    "train1: nn_model_read_file")) {
		diag("%s", e.msg);
		return exit_status();
	}
	ok(fm->cfg.C == fx.cfg[0] && fm->cfg.L == fx.cfg[1] &&
	    fm->cfg.H == fx.cfg[2] && fm->cfg.max_len == fx.cfg[3] &&
	    fm->cfg.n_types == fx.cfg[4] && fm->cfg.n_items == fx.cfg[5],
	    "train1: config d=%d L=%d H=%d max_len=%d n_types=%d n_items=%d",
	    fm->cfg.C, fm->cfg.L, fm->cfg.H, fm->cfg.max_len,
	    fm->cfg.n_types, fm->cfg.n_items);
	test_reference();
	test_deal_and_chunks();
	test_split();
	test_churn_merge();
	test_dropout_windows();
	test_model_fd(0, 0);
	test_model_fd(3, 0);
	test_model_fd(3, 1);
	test_bce();
	test_both();
	test_overfit();
	nn_model_free(fm);
	tfix_release(&fx);
	return exit_status();
}
