/*
 * t-nn-layers.c: the engine's forward pass. Each kernel of nn-layers.c
 * against its plain-loop twin in nn-ref.c on seeded random inputs, at
 * sizes that leave vector tails (C = 13, 37, 39) and at T below, at and
 * above the attention block (64 rows), padded batches with a different
 * length per window; the attention's own invariants and the folded
 * last-query attention against the full one. Then a small random model
 * with non-trivial biases and LayerNorm weights: NN_FULL against
 * NN_LAST, a padded batch against each window alone, both against a
 * reference forward pass written here from the nn-ref.c kernels, the
 * attention read-outs (sums, rollout as a product of matrices, L = 1),
 * and nn_topk. Errors are |got - want| / max(1, |want|), printed.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "nn.h"
#include "tokens.h"
#include "util.h"
#include "tap.h"

#define TOL	1e-5		/* kernels and whole model, mixed error */

static struct nn_rng rng;

/* n floats, N(0, sd^2) plus mu. */
static float *
randn(size_t n, double mu, double sd)
{
	float *x = xmalloc((n ? n : 1) * sizeof(float));
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = (float)(mu + sd * nn_rng_normal(&rng));
	return x;
}

/* n floats of quiet NaN, to see that a kernel writes every output. */
static float *
nans(size_t n)
{
	float *x = xmalloc((n ? n : 1) * sizeof(float));
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = NAN;
	return x;
}

/* Largest |a - b| / max(1, |b|); NaN anywhere counts as infinite. */
static double
maxerr(const float *a, const float *b, size_t n)
{
	double m = 0, d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (isnan(a[i]) || isnan(b[i]))
			return INFINITY;
		d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
		if (d > m)
			m = d;
	}
	return m;
}

/* An integer in [0, n). */
static int
randint(int n)
{
	return (int)(nn_rng_u64(&rng) % (uint64_t)n);
}

/* Embedding sums against the twin. */
static void
test_embed(void)
{
	static const int Cs[] = { 13, 24, 37 };
	const int NT = 6, NI = 9, ML = 7, BT = 23;
	struct tok tok[23];
	size_t i;
	int k;

	for (i = 0; i < sizeof(Cs) / sizeof(Cs[0]); i++) {
		int C = Cs[i];
		float *ty = randn((size_t)NT * C, 0, 1),
		    *it = randn((size_t)NI * C, 0, 1),
		    *ga = randn((size_t)TOK_NGAP * C, 0, 1),
		    *am = randn((size_t)TOK_NAMOUNT * C, 0, 1),
		    *po = randn((size_t)ML * C, 0, 1),
		    *o = nans((size_t)BT * C), *r = nans((size_t)BT * C);
		double err;

		for (k = 0; k < BT; k++) {
			tok[k].type = randint(NT);
			tok[k].item = randint(NI);
			tok[k].gap = k == 0 ? 0 : randint(TOK_NGAP);
			tok[k].amount = randint(TOK_NAMOUNT);
			tok[k].pos = k % ML;
		}
		tok[1].gap = TOK_NGAP - 1;
		tok[2].amount = TOK_NAMOUNT - 1;
		nn_embed_forward(o, tok, ty, it, ga, am, po, BT, C);
		nn_ref_embed_forward(r, tok, ty, it, ga, am, po, BT, C);
		err = maxerr(o, r, (size_t)BT * C);
		ok(err <= 1e-6, "embed, C %d: max error %.3g", C, err);
		free(ty), free(it), free(ga), free(am), free(po);
		free(o), free(r);
	}
}

/* LayerNorm against the twin, saved mean and rstd included. */
static void
test_layernorm(void)
{
	static const int Cs[] = { 1, 13, 24, 37, 64 };
	const int N = 9;
	size_t i;

	for (i = 0; i < sizeof(Cs) / sizeof(Cs[0]); i++) {
		int C = Cs[i];
		size_t n = (size_t)N * C;
		float *x = randn(n, 3, 2), *w = randn((size_t)C, 1, 0.5),
		    *b = randn((size_t)C, 0, 0.5), *o = nans(n),
		    *r = nans(n), *o2 = nans(n), mk[9], sk[9], mr[9], sr[9];
		double eo, em, es;
		int c, k;

		/* one row far from 0, one constant row */
		for (c = 0; c < C; c++) {
			x[C + c] = 100.0f + 10.0f * x[C + c];
			x[2 * C + c] = -7.0f;
		}
		nn_layernorm_forward(o, mk, sk, x, w, b, N, C);
		nn_ref_layernorm_forward(r, mr, sr, x, w, b, N, C);
		nn_layernorm_forward(o2, NULL, NULL, x, w, b, N, C);
		eo = maxerr(o, r, n);
		em = maxerr(mk, mr, (size_t)N);
		/* rstd of the constant row is 1/sqrt(eps): relative error */
		es = 0;
		for (k = 0; k < N; k++)
			es = fmax(es, fabs((double)sk[k] - sr[k]) / sr[k]);
		ok(eo <= TOL && em <= TOL && es <= TOL, "layernorm, C %d: max "
		    "error %.3g (mean %.3g, rstd %.3g)", C, eo, em, es);
		ok(memcmp(o, o2, n * sizeof(float)) == 0, "layernorm, C %d: "
		    "NULL mean and rstd give the same output", C);
		free(x), free(w), free(b), free(o), free(r), free(o2);
	}
}

/* Linear layers against the twin, with and without bias. */
static void
test_matmul(void)
{
	static const int sz[][3] = { { 1, 13, 5 }, { 7, 24, 39 },
	    { 33, 37, 16 }, { 64, 20, 80 }, { 3, 80, 20 } };
	size_t i;

	for (i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
		int N = sz[i][0], C = sz[i][1], OC = sz[i][2];
		size_t no = (size_t)N * OC;
		float *x = randn((size_t)N * C, 0, 1),
		    *w = randn((size_t)OC * C, 0, 0.5),
		    *b = randn((size_t)OC, 0, 1), *o = nans(no),
		    *r = nans(no), *o0 = nans(no), *r0 = nans(no);
		double eb, e0;

		nn_matmul_forward(o, x, w, b, N, C, OC);
		nn_ref_matmul_forward(r, x, w, b, N, C, OC);
		nn_matmul_forward(o0, x, w, NULL, N, C, OC);
		nn_ref_matmul_forward(r0, x, w, NULL, N, C, OC);
		eb = maxerr(o, r, no);
		e0 = maxerr(o0, r0, no);
		ok(eb <= TOL, "matmul (%d, %d) -> %d with bias: max error "
		    "%.3g", N, C, OC, eb);
		ok(e0 <= TOL, "matmul (%d, %d) -> %d without bias (output "
		    "not read): max error %.3g", N, C, OC, e0);
		free(x), free(w), free(b), free(o), free(r), free(o0);
		free(r0);
	}
}

/* Attention test shapes: T, C, H, then B window lengths. */
static const struct attcase {
	int	 T, C, H, B;
	int	 len[4];
} attcases[] = {
	{ 5, 24, 3, 3, { 5, 1, 3 } },
	{ 64, 13, 1, 3, { 64, 63, 1 } },
	{ 70, 39, 3, 4, { 70, 65, 64, 2 } },
	{ 150, 16, 4, 4, { 150, 129, 128, 1 } },
};
#define N_ATTCASES	(sizeof(attcases) / sizeof(attcases[0]))

/*
 * The invariants of att (B, H, T, T) and out (B, T, C): finite; rows
 * k < len sum to 1 with zeros above the diagonal; rows k >= len and
 * out rows k >= len are zero. Largest |sum - 1| in *dsum.
 */
static int
att_invariants(const float *att, const float *out, const int *len, int B,
    int T, int C, int H, double *dsum)
{
	int b, h, k, j, good = 1;

	*dsum = 0;
	for (b = 0; b < B; b++) {
		for (h = 0; h < H; h++)
			for (k = 0; k < T; k++) {
				const float *row = att + (((size_t)b * H + h) *
				    T + k) * T;
				double s = 0;

				for (j = 0; j < T; j++) {
					if (!isfinite(row[j]) || row[j] < 0)
						good = 0;
					if ((j > k || k >= len[b]) &&
					    row[j] != 0)
						good = 0;
					s += row[j];
				}
				if (k < len[b])
					*dsum = fmax(*dsum, fabs(s - 1));
			}
		for (k = 0; k < T; k++)
			for (j = 0; j < C; j++) {
				float v = out[((size_t)b * T + k) * C + j];

				if (!isfinite(v) || (k >= len[b] && v != 0))
					good = 0;
			}
	}
	return good && *dsum <= TOL;
}

/* Causal attention against the twin, and its invariants. */
static void
test_attention(void)
{
	size_t i;

	for (i = 0; i < N_ATTCASES; i++) {
		const struct attcase *c = &attcases[i];
		int B = c->B, T = c->T, C = c->C, H = c->H;
		size_t nq = (size_t)B * T * 3 * C, no = (size_t)B * T * C,
		    na = (size_t)B * H * T * T;
		float *qkv = randn(nq, 0, 1.5), *o = nans(no), *r = nans(no),
		    *a = nans(na), *ar = nans(na);
		double eo, ea, ds;
		int good;

		nn_attention_forward(o, a, qkv, c->len, B, T, C, H);
		nn_ref_attention_forward(r, ar, qkv, c->len, B, T, C, H);
		eo = maxerr(o, r, no);
		ea = maxerr(a, ar, na);
		ok(eo <= TOL, "attention T %d C %d H %d, lens %d..%d: output "
		    "max error %.3g", T, C, H, c->len[0], c->len[B - 1], eo);
		ok(ea <= TOL, "attention T %d C %d H %d: weights max error "
		    "%.3g", T, C, H, ea);
		good = att_invariants(a, o, c->len, B, T, C, H, &ds);
		ok(good, "attention T %d C %d H %d: rows sum to 1 (max "
		    "|sum - 1| %.3g), zero above the diagonal and beyond len",
		    T, C, H,
		    ds);
		free(qkv), free(o), free(r), free(a), free(ar);
	}
}

/* The folded last-query attention: twin, full row, invariants. */
static void
test_attention_last(void)
{
	size_t i;

	for (i = 0; i < N_ATTCASES; i++) {
		const struct attcase *c = &attcases[i];
		int B = c->B, T = c->T, C = c->C, H = c->H, dh = C / H;
		size_t BT = (size_t)B * T;
		float *a = randn(BT * C, 0, 1),
		    *w = randn((size_t)3 * C * C, 0, 0.2),
		    *bias = randn((size_t)3 * C, 0, 0.5),
		    *qkv = nans(BT * 3 * C), *q = nans((size_t)B * C),
		    *fo = nans(BT * C), *fa = nans((size_t)B * H * T * T),
		    *o = nans((size_t)B * C), *at = nans((size_t)B * H * T),
		    *qk = nans((size_t)B * H * C),
		    *ab = nans((size_t)B * H * C),
		    *ro = nans((size_t)B * C), *ra = nans((size_t)B * H * T),
		    *lo = nans((size_t)B * C), *la = nans((size_t)B * H * T);
		double eo, ea, fe, fa_e, ds = 0, eqk = 0, eab = 0;
		int b, h, j, k, good = 1;

		/* qkv = a . Wqkv^T + b; the query of each window's last row */
		nn_matmul_forward(qkv, a, w, bias, (int)BT, C, 3 * C);
		for (b = 0; b < B; b++)
			memcpy(q + (size_t)b * C, qkv + ((size_t)b * T +
			    c->len[b] - 1) * 3 * C, sizeof(float) * C);
		nn_attention_last_forward(o, at, qk, ab, q, a, w, bias, c->len,
		    B, T, C, H);
		nn_ref_attention_last_forward(ro, ra, q, a, w, bias, c->len, B,
		    T, C, H);
		eo = maxerr(o, ro, (size_t)B * C);
		ea = maxerr(at, ra, (size_t)B * H * T);
		ok(eo <= TOL && ea <= TOL, "last-query attention T %d C %d "
		    "H %d against its twin: max error %.3g (weights %.3g)", T,
		    C, H, eo, ea);

		/* the same as the last row of the full attention */
		nn_attention_forward(fo, fa, qkv, c->len, B, T, C, H);
		for (b = 0; b < B; b++) {
			int n = c->len[b];

			memcpy(lo + (size_t)b * C, fo + ((size_t)b * T + n -
			    1) * C, sizeof(float) * C);
			for (h = 0; h < H; h++)
				memcpy(la + ((size_t)b * H + h) * T, fa +
				    ((((size_t)b * H + h) * T) + n - 1) * T,
				    sizeof(float) * T);
		}
		fe = maxerr(o, lo, (size_t)B * C);
		fa_e = maxerr(at, la, (size_t)B * H * T);
		ok(fe <= TOL && fa_e <= TOL, "last-query attention T %d C %d "
		    "H %d equals the last row of the full attention on qkv = "
		    "a Wqkv^T + b: max error %.3g (weights %.3g)", T, C, H,
		    fe, fa_e);

		/* weights: a distribution over the window, zero beyond */
		for (b = 0; b < B; b++)
			for (h = 0; h < H; h++) {
				const float *r = at + ((size_t)b * H + h) * T;
				double s = 0;

				for (j = 0; j < T; j++) {
					if (!isfinite(r[j]) || r[j] < 0 ||
					    (j >= c->len[b] && r[j] != 0))
						good = 0;
					s += r[j];
				}
				ds = fmax(ds, fabs(s - 1));
			}
		ok(good && ds <= TOL, "last-query attention T %d C %d H %d: "
		    "weights sum to 1 (max |sum - 1| %.3g), zero beyond len",
		    T, C, H, ds);

		/* saved values: qk = Wk_h^T q_h, abar = sum_j att_j a_j */
		for (b = 0; b < B; b++)
			for (h = 0; h < H; h++)
				for (k = 0; k < C; k++) {
					double sq = 0, sa = 0, want;
					size_t bh = (size_t)b * H + h;

					for (j = 0; j < dh; j++)
						sq += (double)w[((size_t)C +
						    h * dh + j) * C + k] *
						    q[(size_t)b * C + h * dh +
						    j];
					for (j = 0; j < c->len[b]; j++)
						sa += (double)at[bh * T + j] *
						    a[((size_t)b * T + j) * C +
						    k];
					want = qk[bh * C + k];
					eqk = fmax(eqk, fabs(want - sq) /
					    fmax(1, fabs(sq)));
					want = ab[bh * C + k];
					eab = fmax(eab, fabs(want - sa) /
					    fmax(1, fabs(sa)));
				}
		ok(eqk <= TOL && eab <= TOL, "last-query attention T %d C %d "
		    "H %d: saved qk (error %.3g) and abar (error %.3g)", T, C,
		    H, eqk, eab);
		free(a), free(w), free(bias), free(qkv), free(q), free(fo);
		free(fa), free(o), free(at), free(qk), free(ab), free(ro);
		free(ra), free(lo), free(la);
	}
}

/* GELU (sigmoid form) against the tanh form. */
static void
test_gelu(void)
{
	const int N = 1003;
	float *x = xmalloc(N * sizeof(float)), *o = nans(N), *r = nans(N);
	double err;
	int i;

	for (i = 0; i < N; i++)
		x[i] = (float)(-12 + 24 * nn_rng_uniform(&rng));
	x[0] = 0;
	x[1] = -30;
	x[2] = 30;
	x[3] = -1e4f;
	x[4] = 1e4f;
	x[N - 1] = -3;		/* tails too */
	x[N - 2] = 100;
	nn_gelu_forward(o, x, N);
	nn_ref_gelu_forward(r, x, N);
	err = maxerr(o, r, N);
	ok(err <= TOL, "gelu, %d values in [-12, 12] and beyond: max error "
	    "%.3g", N, err);
	ok(o[0] == 0 && fabs(o[1]) < 1e-20 && o[2] == 30 && o[4] == 1e4f,
	    "gelu(0) = 0, gelu(-30) = 0, gelu(30) = 30, gelu(1e4) = 1e4");
	free(x), free(o), free(r);
}

/* Residual sums, exactly. */
static void
test_residual(void)
{
	const int N = 37;
	float *a = randn(N, 0, 1), *b = randn(N, 0, 1), *o = nans(N);
	int i, good = 1;

	nn_residual_forward(o, a, b, N);
	for (i = 0; i < N; i++)
		good &= o[i] == a[i] + b[i];
	ok(good, "residual of %d: exact sums", N);
	free(a), free(b), free(o);
}

/* Row softmax against the twin, in place and to relative precision. */
static void
test_softmax(void)
{
	static const int Vs[] = { 1, 5, 8, 13, 37, 1000 };
	const int N = 4;
	size_t i;

	for (i = 0; i < sizeof(Vs) / sizeof(Vs[0]); i++) {
		int V = Vs[i], k, j;
		size_t n = (size_t)N * V;
		float *x = randn(n, 0, 5), *o = nans(n), *r = nans(n),
		    *ip = xmalloc(n * sizeof(float));
		double err, ds = 0;

		for (j = 0; j < V; j++) {
			x[V + j] += 1000;	/* a far offset */
			x[2 * V + j] = -3;	/* a flat row */
		}
		memcpy(ip, x, n * sizeof(float));
		nn_softmax_forward(o, x, N, V);
		nn_ref_softmax_forward(r, x, N, V);
		nn_softmax_forward(ip, ip, N, V);
		err = maxerr(o, r, n);
		for (k = 0; k < N; k++) {
			double s = 0;

			for (j = 0; j < V; j++)
				s += o[(size_t)k * V + j];
			ds = fmax(ds, fabs(s - 1));
		}
		ok(err <= TOL && ds <= TOL, "softmax, V %d: max error %.3g, "
		    "rows sum to 1 (%.3g)", V, err, ds);
		ok(memcmp(o, ip, n * sizeof(float)) == 0, "softmax, V %d: in "
		    "place gives the same", V);
		free(x), free(o), free(r), free(ip);
	}
	/*
	 * small probabilities to relative precision: exp8 is good to a few
	 * ulp over the whole reduced range, not just in absolute terms
	 */
	{
		enum { V = 11, NR = 64 };
		float x[NR * V], o[NR * V], r[NR * V];
		double rel = 0;
		int k;

		for (k = 0; k < NR * V; k++)
			x[k] = (float)(-30 * nn_rng_uniform(&rng));
		nn_softmax_forward(o, x, NR, V);
		nn_ref_softmax_forward(r, x, NR, V);
		for (k = 0; k < NR * V; k++)
			rel = fmax(rel, fabs((double)o[k] - r[k]) / r[k]);
		ok(rel <= 1e-6, "softmax of logits in [-30, 0]: relative error "
		    "%.3g, small probabilities included", rel);
	}
}

/*
 * One row of the softmax cross entropy (the next-item loss) against
 * double precision: the loss and scale (p - onehot(y)) from
 * nn_softmax_xent_row (shifted by the target's logit) and from
 * nn_softmax_xent_row_max (by the max), on rows with vector tails, the
 * target the top item or far down, a far offset; a row with an item
 * more than 64 above the target is refused (NAN), and _max takes it.
 */
static double
xent_want(const float *x, int n, int y, float scale, double *g)
{
	double m = -INFINITY, s = 0;
	int j;

	for (j = 0; j < n; j++)
		m = fmax(m, x[j]);
	for (j = 0; j < n; j++)
		s += exp((double)x[j] - m);
	for (j = 0; j < n; j++)
		g[j] = scale * (exp((double)x[j] - m) / s - (j == y));
	return m + log(s) - x[y];
}

static void
test_xent_row(void)
{
	static const int Ns[] = { 1, 7, 8, 9, 37, 1000, 23714 };
	double lerr = 0, gerr = 0, lerr2 = 0, gerr2 = 0, *g, want;
	float *x, *a, *b, la, lb;
	int i, k, y, n, j, refused = 0, far_ok;
	const float scale = 0.25f;

	for (i = 0; i < (int)(sizeof(Ns) / sizeof(Ns[0])); i++)
		for (k = 0; k < 4; k++) {
			n = Ns[i];
			x = randn((size_t)n, k == 3 ? 500 : 0, 4);
			y = k == 1 ? 0 : randint(n);
			if (k == 1)	/* the target the top item */
				x[0] = 30;
			if (k == 2 && n > 1)	/* the target far down */
				x[y] = -40;
			a = xmalloc((size_t)n * sizeof(float));
			b = xmalloc((size_t)n * sizeof(float));
			g = xmalloc((size_t)n * sizeof(double));
			memcpy(a, x, (size_t)n * sizeof(float));
			memcpy(b, x, (size_t)n * sizeof(float));
			want = xent_want(x, n, y, scale, g);
			la = nn_softmax_xent_row(a, n, y, scale);
			lb = nn_softmax_xent_row_max(b, n, y, scale);
			refused += isnan(la);
			lerr = fmax(lerr, fabs(la - want) / fmax(1, want));
			lerr2 = fmax(lerr2, fabs(lb - want) / fmax(1, want));
			for (j = 0; j < n; j++) {
				gerr = fmax(gerr, fabs(a[j] - g[j]));
				gerr2 = fmax(gerr2, fabs(b[j] - g[j]));
			}
			free(x), free(a), free(b), free(g);
		}
	/* float sums of 23,714 terms: a few 1e-6 relative */
	ok(refused == 0 && lerr <= 1e-5 && gerr <= 1e-5 * scale, "softmax "
	    "cross entropy shifted by the target: loss error %.3g, gradient "
	    "%.3g (scale %.2f), over 28 rows of 1..23714", lerr, gerr, scale);
	ok(lerr2 <= 1e-5 && gerr2 <= 1e-5 * scale, "shifted by the max: loss "
	    "error %.3g, gradient %.3g", lerr2, gerr2);

	/* an item 65 above the target: refused; 63 above: taken */
	{
		float r[19], r2[19];
		double gw[19], w1, w2;

		for (j = 0; j < 19; j++)
			r[j] = (float)(j % 5);
		r[3] = 0;
		r[17] = 65;	/* in the scalar tail */
		memcpy(r2, r, sizeof(r));
		la = nn_softmax_xent_row(r2, 19, 3, 1);
		w1 = xent_want(r, 19, 3, 1, gw);
		lb = nn_softmax_xent_row_max(r, 19, 3, 1);
		far_ok = isnan(la) && fabs(lb - w1) <= 1e-6 * w1;
		for (j = 0; j < 19; j++)
			r[j] = (float)(j % 5);
		r[3] = 0;
		r[5] = 63;	/* in the vector part this time */
		w2 = xent_want(r, 19, 3, 1, gw);
		la = nn_softmax_xent_row(r, 19, 3, 1);
		ok(far_ok && fabs(la - w2) <= 1e-6 * w2, "an item 65 above the "
		    "target: NAN, and _max gives %.6f (want %.6f); 63 above: "
		    "%.6f (want %.6f)", lb, w1, la, w2);
	}
}

/* The churn head against the twin. */
static void
test_churn(void)
{
	static const int Cs[] = { 13, 24, 37 };
	const int B = 5;
	size_t i;

	for (i = 0; i < sizeof(Cs) / sizeof(Cs[0]); i++) {
		int C = Cs[i];
		float *z = randn((size_t)B * C, 0, 1), *w = randn(C, 0, 0.5),
		    bb = 0.3f, p[5], l[5], rp[5], rl[5];
		double ep, el;

		nn_churn_forward(p, l, z, w, &bb, B, C);
		nn_ref_churn_forward(rp, rl, z, w, &bb, B, C);
		ep = maxerr(p, rp, B);
		el = maxerr(l, rl, B);
		ok(ep <= TOL && el <= TOL, "churn head, C %d: max error %.3g "
		    "(logit %.3g)", C, ep, el);
		free(z), free(w);
	}
}

/* Gathering the last position of each window. */
static void
test_gather(void)
{
	const int B = 3, T = 7, C = 13, len[3] = { 7, 1, 4 };
	float *x = randn((size_t)B * T * C, 0, 1), *o = nans((size_t)B * C);
	int b, good = 1;

	nn_gather_last(o, x, len, B, T, C);
	for (b = 0; b < B; b++)
		good &= memcmp(o + (size_t)b * C, x + ((size_t)b * T + len[b] -
		    1) * C, sizeof(float) * C) == 0;
	ok(good, "gather_last: the row at len - 1 of each window");
	free(x), free(o);
}

/* ---- whole model ---- */

/* A model with random parameters that all matter. */
static struct nn_model *
model_new(int C, int L, int H, int max_len, int nt, int ni)
{
	static char names[64][16];
	const char *types[32], *items[32];
	struct nn_config cfg;
	struct nn_model *m;
	struct err e;
	size_t sizes[NN_NPARAMS], i, j;
	float **f;
	int k;

	for (k = 0; k < 32; k++) {
		snprintf(names[k], sizeof(names[k]), "type-%d", k);
		snprintf(names[32 + k], sizeof(names[32 + k]), "item-%d", k);
		types[k] = names[k];
		items[k] = names[32 + k];
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.C = C;
	cfg.L = L;
	cfg.H = H;
	cfg.max_len = max_len;
	cfg.n_types = nt;
	cfg.n_items = ni;
	cfg.churn_horizon_days = 30;
	err_clear(&e);
	m = nn_model_new(&cfg, vocab_new(types, (size_t)nt - 2, items,
	    (size_t)ni - 2), &e);
	if (m == NULL) {
		diag("nn_model_new: %s", e.msg);
		return NULL;
	}
	nn_model_init_random(m, &rng);
	/*
	 * init gives zero biases, unit LayerNorm weights and nearly uniform
	 * attention: perturb them all so that each takes part
	 */
	nn_param_sizes(&cfg, sizes);
	f = (float **)(void *)&m->p;
	for (i = 0; i < NN_NPARAMS; i++) {
		float *p = f[i];

		for (j = 0; j < sizes[i]; j++) {
			if (p == m->p.ln1_w || p == m->p.ln2_w ||
			    p == m->p.lnf_w)
				p[j] = (float)(1 + 0.3 * nn_rng_normal(&rng));
			else if (p == m->p.qkv_w)
				p[j] = (float)(0.3 * nn_rng_normal(&rng));
			else if (p == m->p.emb_type || p == m->p.emb_item ||
			    p == m->p.emb_gap || p == m->p.emb_amount ||
			    p == m->p.emb_pos || p == m->p.churn_w ||
			    p == m->p.type_w)
				p[j] = (float)(0.5 * nn_rng_normal(&rng));
			else if (sizes[i] == (size_t)L * C ||
			    sizes[i] == (size_t)L * 3 * C ||
			    sizes[i] == (size_t)L * 4 * C ||
			    p == m->p.lnf_b || p == m->p.type_b ||
			    p == m->p.churn_b)
				p[j] = (float)(0.2 * nn_rng_normal(&rng));
		}
	}
	return m;
}

/* Random valid tokens for b windows of len[i] padded to t (pad: 0s). */
static struct tok *
tokens_new(const struct nn_model *m, const int *len, int b, int t)
{
	struct tok *tok = xcalloc((size_t)b * t, sizeof(*tok));
	int i, k;

	for (i = 0; i < b; i++)
		for (k = 0; k < len[i]; k++) {
			struct tok *x = &tok[(size_t)i * t + k];

			x->type = 1 + randint(m->cfg.n_types - 1);
			x->item = randint(m->cfg.n_items);
			x->gap = k == 0 ? 0 : 1 + randint(TOK_NGAP - 1);
			x->amount = randint(TOK_NAMOUNT);
			x->pos = k;
		}
	return tok;
}

/* What one window gives: outputs and the read-outs at the last query. */
struct outs {
	int	 n;
	float	 churn;
	float	*type_prob;	/* (NT) */
	float	*item;		/* (NI) */
	float	*per_head;	/* (L, H, n) */
	float	*mean;		/* (n) */
	float	*rollout;	/* (n) */
	float	*att;		/* (L, H, n, n): reference pass only */
};

/* Room for the outputs of one window of n events (NaN-filled). */
static void
outs_init(struct outs *o, const struct nn_model *m, int n)
{
	const struct nn_config *c = &m->cfg;

	memset(o, 0, sizeof(*o));
	o->n = n;
	o->type_prob = nans((size_t)c->n_types);
	o->item = nans((size_t)c->n_items);
	o->per_head = nans((size_t)c->L * c->H * n);
	o->mean = nans((size_t)n);
	o->rollout = nans((size_t)n);
}

/* Free what outs_init and ref_forward allocated. */
static void
outs_release(struct outs *o)
{
	free(o->type_prob);
	free(o->item);
	free(o->per_head);
	free(o->mean);
	free(o->rollout);
	free(o->att);
}

/* Window i of the last forward into o. */
static void
outs_get(struct outs *o, const struct nn_model *m, struct nn_acts *a, int i)
{
	const struct nn_config *c = &m->cfg;

	outs_init(o, m, a->len[i]);
	o->churn = a->churn[i];
	memcpy(o->type_prob, a->type_prob + (size_t)i * c->n_types,
	    sizeof(float) * c->n_types);
	memcpy(o->item, a->item_score + (size_t)i * c->n_items,
	    sizeof(float) * c->n_items);
	nn_attention_per_head(m, a, i, o->per_head);
	nn_attention_mean(m, a, i, o->mean);
	nn_attention_rollout(m, a, i, o->rollout);
}

/* Largest error of each part of got against want (same n). */
static double
outs_err(const struct outs *got, const struct outs *want,
    const struct nn_model *m, double part[6])
{
	const struct nn_config *c = &m->cfg;
	double worst = 0;
	int k;

	if (got->n != want->n)
		return INFINITY;
	part[0] = maxerr(&got->churn, &want->churn, 1);
	part[1] = maxerr(got->type_prob, want->type_prob,
	    (size_t)c->n_types);
	part[2] = maxerr(got->item, want->item, (size_t)c->n_items);
	part[3] = maxerr(got->per_head, want->per_head,
	    (size_t)c->L * c->H * got->n);
	part[4] = maxerr(got->mean, want->mean, (size_t)got->n);
	part[5] = maxerr(got->rollout, want->rollout, (size_t)got->n);
	for (k = 0; k < 6; k++)
		worst = fmax(worst, part[k]);
	return worst;
}

/* LayerNorm, matmul (+ bias) by the reference kernels into fresh memory. */
static float *
ref_ln(const float *x, const float *w, const float *b, int N, int C)
{
	float *o = nans((size_t)N * C);

	nn_ref_layernorm_forward(o, NULL, NULL, x, w, b, N, C);
	return o;
}

/* out(N, OC) = x(N, C) . w(OC, C)^T + b by the twin, fresh memory. */
static float *
ref_mm(const float *x, const float *w, const float *b, int N, int C, int OC)
{
	float *o = nans((size_t)N * OC);

	nn_ref_matmul_forward(o, x, w, b, N, C, OC);
	return o;
}

/*
 * The model on one window of n tokens straight from MODEL.md with the
 * nn-ref.c kernels: outputs, per-head rows and every attention matrix.
 * mean and rollout are left to the caller.
 */
static void
ref_forward(const struct nn_model *m, const struct tok *tok, int n,
    struct outs *o)
{
	const struct nn_params *p = &m->p;
	const int C = m->cfg.C, L = m->cfg.L, H = m->cfg.H,
	    NT = m->cfg.n_types, NI = m->cfg.n_items;
	float *x = nans((size_t)n * C), *y = nans((size_t)n * C), *t1, *t2,
	    *t3, *z, *lg, logit;
	int l, h, k;

	outs_init(o, m, n);
	o->att = nans((size_t)L * H * n * n);
	nn_ref_embed_forward(x, tok, p->emb_type, p->emb_item, p->emb_gap,
	    p->emb_amount, p->emb_pos, n, C);
	for (l = 0; l < L; l++) {
		float *att = o->att + (size_t)l * H * n * n;

		t1 = ref_ln(x, p->ln1_w + l * C, p->ln1_b + l * C, n, C);
		t2 = ref_mm(t1, p->qkv_w + (size_t)l * 3 * C * C,
		    p->qkv_b + l * 3 * C, n, C, 3 * C);
		nn_ref_attention_forward(y, att, t2, &n, 1, n, C, H);
		free(t1), free(t2);
		t1 = ref_mm(y, p->proj_w + (size_t)l * C * C, p->proj_b + l * C,
		    n, C, C);
		for (k = 0; k < n * C; k++)
			x[k] += t1[k];
		free(t1);
		t1 = ref_ln(x, p->ln2_w + l * C, p->ln2_b + l * C, n, C);
		t2 = ref_mm(t1, p->fc_w + (size_t)l * 4 * C * C,
		    p->fc_b + l * 4 * C, n, C, 4 * C);
		t3 = nans((size_t)n * 4 * C);
		nn_ref_gelu_forward(t3, t2, n * 4 * C);
		free(t1), free(t2);
		t1 = ref_mm(t3, p->mproj_w + (size_t)l * 4 * C * C,
		    p->mproj_b + l * C, n, 4 * C, C);
		for (k = 0; k < n * C; k++)
			x[k] += t1[k];
		free(t1), free(t3);
		for (h = 0; h < H; h++)
			memcpy(o->per_head + ((size_t)l * H + h) * n,
			    att + ((size_t)h * n + n - 1) * n,
			    sizeof(float) * n);
	}
	z = ref_ln(x + (size_t)(n - 1) * C, p->lnf_w, p->lnf_b, 1, C);
	lg = ref_mm(z, p->type_w, p->type_b, 1, C, NT);
	nn_ref_softmax_forward(o->type_prob, lg, 1, NT);
	nn_ref_churn_forward(&o->churn, &logit, z, p->churn_w, p->churn_b, 1,
	    C);
	nn_ref_matmul_forward(o->item, z, p->emb_item, NULL, 1, C, NI);
	free(lg), free(z), free(x), free(y);
}

/*
 * Rollout by full matrix products in double: R = A'_{L-1} ... A'_0 with
 * A'_l = 0.5 mean_h att_l + 0.5 I; row n-1 of R into out.
 */
static void
rollout_direct(const struct nn_model *m, const float *att, int n, double *out)
{
	const int L = m->cfg.L, H = m->cfg.H;
	double *R = xcalloc((size_t)n * n, sizeof(double)),
	    *A = xcalloc((size_t)n * n, sizeof(double)),
	    *P = xcalloc((size_t)n * n, sizeof(double));
	int l, h, i, j, k;

	for (i = 0; i < n; i++)
		R[i * n + i] = 1;
	for (l = 0; l < L; l++) {
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++) {
				double s = 0;

				for (h = 0; h < H; h++)
					s += att[(((size_t)l * H + h) * n +
					    i) * n + j];
				A[i * n + j] = 0.5 * s / H + (i == j ? 0.5 : 0);
			}
		/* R <- A'_l R */
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++) {
				double s = 0;

				for (k = 0; k < n; k++)
					s += A[i * n + k] * R[k * n + j];
				P[i * n + j] = s;
			}
		memcpy(R, P, sizeof(double) * n * n);
	}
	for (j = 0; j < n; j++)
		out[j] = R[(size_t)(n - 1) * n + j];
	free(R), free(A), free(P);
}

/* Sum of x[0..n) minus 1, in absolute value. */
static double
sum_err(const float *x, int n)
{
	double s = 0;
	int j;

	for (j = 0; j < n; j++)
		s += x[j];
	return fabs(s - 1);
}

static const char *const mode_name[] = { "NN_FULL", "NN_LAST" };

/* Whole model: modes, padding, the reference pass, read-outs. */
static void
test_model(void)
{
	enum { B = 4, T = 80 };
	const int len[B] = { 80, 70, 1, 33 };
	struct nn_model *m = model_new(20, 3, 4, T, 7, 13);
	struct nn_acts *a, *a1;
	struct outs full[B], last[B], alone, ref;
	struct tok *tok, *tok2;
	struct err e;
	double part[6], worst, ds;
	double *rd;
	int i, l, h, md, good;

	if (m == NULL) {
		ok(0, "a model for the whole-model checks");
		return;
	}
	err_clear(&e);
	a = nn_acts_new(&m->cfg, B, T, NN_ITEMS, &e);
	a1 = nn_acts_new(&m->cfg, 1, T, NN_ITEMS, &e);
	ok(a != NULL && a1 != NULL, "activations for (%d, %d) and (1, %d)",
	    B, T, T);
	if (a == NULL || a1 == NULL) {
		nn_model_free(m);
		return;
	}
	tok = tokens_new(m, len, B, T);

	nn_forward(m, a, tok, len, B, T, NN_FULL, NN_ITEMS);
	for (i = 0; i < B; i++)
		outs_get(&full[i], m, a, i);
	/* NN_FULL: the type logits at the last position give type_prob */
	{
		float *pr = nans((size_t)m->cfg.n_types);

		worst = 0;
		for (i = 0; i < B; i++) {
			nn_ref_softmax_forward(pr, a->type_logits +
			    ((size_t)i * T + len[i] - 1) * m->cfg.n_types, 1,
			    m->cfg.n_types);
			worst = fmax(worst, maxerr(pr, full[i].type_prob,
			    (size_t)m->cfg.n_types));
		}
		ok(worst <= TOL, "NN_FULL: softmax of type_logits at the last "
		    "position is type_prob (max error %.3g)", worst);
		free(pr);
	}
	nn_forward(m, a, tok, len, B, T, NN_LAST, NN_ITEMS);
	for (i = 0; i < B; i++)
		outs_get(&last[i], m, a, i);

	/* NN_LAST gives what NN_FULL gives */
	{
		double wp[6] = { 0 };
		static const char *const what[6] = { "churn probability",
		    "type_prob", "item_score", "per-head attention",
		    "last-layer mean attention", "rollout" };
		int k;

		for (i = 0; i < B; i++) {
			outs_err(&last[i], &full[i], m, part);
			for (k = 0; k < 6; k++)
				wp[k] = fmax(wp[k], part[k]);
		}
		for (k = 0; k < 6; k++)
			ok(wp[k] <= TOL, "NN_LAST and NN_FULL: the same %s "
			    "(windows of %d, %d, %d, %d; max error %.3g)",
			    what[k], len[0], len[1], len[2], len[3], wp[k]);
	}

	/* against the reference pass, and each window alone */
	rd = xcalloc(T, sizeof(double));
	for (i = 0; i < B; i++) {
		int n = len[i], j;

		ref_forward(m, tok + (size_t)i * T, n, &ref);
		rollout_direct(m, ref.att, n, rd);
		for (j = 0; j < n; j++) {
			double s = 0;

			for (h = 0; h < m->cfg.H; h++)
				s += ref.per_head[((size_t)(m->cfg.L - 1) *
				    m->cfg.H + h) * n + j];
			ref.mean[j] = (float)(s / m->cfg.H);
			ref.rollout[j] = (float)rd[j];
		}
		worst = outs_err(&full[i], &ref, m, part);
		ok(worst <= TOL, "window of %d against the reference forward "
		    "pass: churn %.3g, type %.3g, items %.3g, per-head %.3g, "
		    "mean %.3g", n, part[0], part[1], part[2], part[3],
		    part[4]);
		ok(part[5] <= TOL, "window of %d: rollout is row n-1 of "
		    "A'2 A'1 A'0 from the reference attention (max error "
		    "%.3g)", n, part[5]);
		outs_release(&ref);

		tok2 = tokens_new(m, &n, 1, n);
		memcpy(tok2, tok + (size_t)i * T, sizeof(*tok2) * n);
		for (md = NN_FULL; md <= NN_LAST; md++) {
			nn_forward(m, a1, tok2, &n, 1, n, md, NN_ITEMS);
			outs_get(&alone, m, a1, 0);
			worst = outs_err(&alone, &full[i], m, part);
			ok(worst <= TOL, "window of %d alone (b 1, t %d, %s) "
			    "gives what it gives in the padded batch: max "
			    "error %.3g", n, n, mode_name[md], worst);
			outs_release(&alone);
		}
		free(tok2);
	}
	free(rd);

	/* every read-out is a distribution over the window */
	ds = 0;
	good = 1;
	for (i = 0; i < B; i++) {
		for (md = 0; md < 2; md++) {
			struct outs *o = md ? &last[i] : &full[i];

			for (l = 0; l < m->cfg.L; l++)
				for (h = 0; h < m->cfg.H; h++)
					ds = fmax(ds, sum_err(o->per_head +
					    ((size_t)l * m->cfg.H + h) * o->n,
					    o->n));
			ds = fmax(ds, sum_err(o->mean, o->n));
			ds = fmax(ds, sum_err(o->rollout, o->n));
			for (l = 0; l < o->n; l++)
				good &= o->rollout[l] >= 0 && o->mean[l] >= 0;
		}
	}
	ok(good && ds <= TOL, "per_head, mean and rollout each sum to 1 over "
	    "the window, both modes (max |sum - 1| %.3g)", ds);
	ok(len[2] == 1 && full[2].rollout[0] == 1.0f &&
	    full[2].mean[0] == 1.0f && last[2].per_head[0] == 1.0f,
	    "a window of one event: all attention on it");

	/* padding is ignored: other (valid) padding tokens, same outputs */
	tok2 = tokens_new(m, (const int[]){ T, T, T, T }, B, T);
	for (i = 0; i < B; i++)
		memcpy(tok2 + (size_t)i * T, tok + (size_t)i * T,
		    sizeof(*tok2) * len[i]);
	worst = 0;
	for (md = NN_FULL; md <= NN_LAST; md++) {
		nn_forward(m, a, tok2, len, B, T, md, NN_ITEMS);
		for (i = 0; i < B; i++) {
			outs_get(&alone, m, a, i);
			worst = fmax(worst, outs_err(&alone, &full[i], m,
			    part));
			outs_release(&alone);
		}
	}
	ok(worst <= TOL, "other tokens in the padding change nothing (max "
	    "error %.3g)", worst);
	free(tok2);

	for (i = 0; i < B; i++) {
		outs_release(&full[i]);
		outs_release(&last[i]);
	}
	free(tok);
	nn_acts_free(a);
	nn_acts_free(a1);
	nn_model_free(m);
}

/*
 * nn.h: "the rest is ignored". Padding holding out-of-range values (as
 * an uninitialised batch would) must neither crash nor change a thing.
 * Run in a child, so that a crash is a failed check.
 */
static void
test_padding_garbage(void)
{
	enum { B = 2, T = 9 };
	const int len[B] = { 9, 3 };
	struct nn_model *m = model_new(16, 2, 2, T, 5, 6);
	struct nn_acts *a;
	struct tok *tok;
	float want[B], got[B];
	struct err e;
	pid_t pid;
	int st = 0, i, pfd[2];

	err_clear(&e);
	a = m ? nn_acts_new(&m->cfg, B, T, 0, &e) : NULL;
	if (a == NULL || pipe(pfd) != 0) {
		ok(0, "padding with out-of-range tokens: set-up");
		nn_acts_free(a);
		nn_model_free(m);
		return;
	}
	tok = tokens_new(m, len, B, T);
	nn_forward(m, a, tok, len, B, T, NN_LAST, 0);
	memcpy(want, a->churn, sizeof(want));
	for (i = len[1]; i < T; i++) {
		tok[T + i].type = INT32_MAX;
		tok[T + i].item = -1000000;
		tok[T + i].gap = 1 << 30;
		tok[T + i].amount = -1;
		tok[T + i].pos = INT32_MIN;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		int wrote;

		nn_forward(m, a, tok, len, B, T, NN_FULL, 0);
		wrote = write(pfd[1], a->churn, sizeof(got)) == sizeof(got);
		/* the child frees too: valgrind checks its leaks as well */
		free(tok);
		nn_acts_free(a);
		nn_model_free(m);
		_exit(wrote ? 0 : 2);
	}
	close(pfd[1]);
	memset(got, 0, sizeof(got));
	if (pid < 0 || read(pfd[0], got, sizeof(got)) != sizeof(got))
		memset(got, 0xff, sizeof(got));		/* NaN */
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		st = -1;
	close(pfd[0]);
	ok(st == 0 && maxerr(got, want, B) <= TOL, "padding holding "
	    "out-of-range tokens is ignored (child %s)", st == 0 ? "ran" :
	    WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "failed");
	free(tok);
	nn_acts_free(a);
	nn_model_free(m);
}

/* A model with one layer: rollout = 0.5 mean + 0.5 onehot(last). */
static void
test_one_layer(void)
{
	enum { B = 3, T = 12 };
	const int len[B] = { 12, 5, 1 };
	struct nn_model *m = model_new(12, 1, 3, T, 6, 5);
	struct nn_acts *a;
	struct outs o[2][B];
	struct tok *tok;
	struct err e;
	double err = 0, part[6], fl = 0;
	int i, j, md;

	err_clear(&e);
	a = m ? nn_acts_new(&m->cfg, B, T, NN_ITEMS, &e) : NULL;
	if (a == NULL) {
		ok(0, "one layer: set-up"), ok(0, "one layer: modes");
		nn_model_free(m);
		return;
	}
	tok = tokens_new(m, len, B, T);
	for (md = NN_FULL; md <= NN_LAST; md++) {
		nn_forward(m, a, tok, len, B, T, md, NN_ITEMS);
		for (i = 0; i < B; i++) {
			outs_get(&o[md][i], m, a, i);
			for (j = 0; j < len[i]; j++)
				err = fmax(err, fabs(o[md][i].rollout[j] -
				    (0.5 * o[md][i].mean[j] +
				    (j == len[i] - 1 ? 0.5 : 0))));
		}
	}
	for (i = 0; i < B; i++)
		fl = fmax(fl, outs_err(&o[NN_LAST][i], &o[NN_FULL][i], m,
		    part));
	ok(err <= 1e-6, "one layer: rollout = 0.5 mean + 0.5 onehot(last), "
	    "both modes (max error %.3g)", err);
	ok(fl <= TOL, "one layer: NN_LAST (only the folded layer) and NN_FULL "
	    "agree (max error %.3g)", fl);
	for (md = 0; md < 2; md++)
		for (i = 0; i < B; i++)
			outs_release(&o[md][i]);
	free(tok);
	nn_acts_free(a);
	nn_model_free(m);
}

/* idx[0..n) equals want[0..n). */
static int
ints_are(const int *idx, const int *want, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (idx[i] != want[i])
			return 0;
	return 1;
}

/* nn_topk: ties, k beyond n, offsets, negatives. */
static void
test_topk(void)
{
	static const float x[] = { 1, 5, 3, 5, 2, 5, 0, -INFINITY };
	static const int top3[] = { 1, 3, 5 }, all[] = { 1, 3, 5, 2, 4, 0, 6,
	    7 }, from2[] = { 3, 5, 2 }, from6[] = { 6, 7 }, neg[] = { 3, 0,
	    2 };
	static const float y[] = { -2, -7, -3, -1.5f, -9 };
	int idx[16], n;

	memset(idx, 0xff, sizeof(idx));
	n = nn_topk(x, 8, 0, 3, idx);
	ok(n == 3 && ints_are(idx, top3, 3) && idx[3] == -1, "topk 3: "
	    "three tied largest, lower index first, no more written");
	n = nn_topk(x, 8, 0, 1, idx);
	ok(n == 1 && idx[0] == 1, "topk 1: the first of the tied largest");
	n = nn_topk(x, 8, 0, 12, idx);
	ok(n == 8 && ints_are(idx, all, 8), "topk with k > n: all n, sorted, "
	    "-infinity last");
	n = nn_topk(x, 8, 2, 3, idx);
	ok(n == 3 && ints_are(idx, from2, 3), "topk from offset 2 (reserved "
	    "entries skipped)");
	n = nn_topk(x, 8, 6, 5, idx);
	ok(n == 2 && ints_are(idx, from6, 2), "topk from 6 with k 5: the 2 "
	    "left");
	n = nn_topk(y, 5, 0, 3, idx);
	ok(n == 3 && ints_are(idx, neg, 3), "topk of negative values");
	ok(nn_topk(x, 8, 0, 0, idx) == 0 && nn_topk(x, 8, 8, 3, idx) == 0,
	    "topk: k 0 or from = n gives nothing");
}

/* Run every group; TAP on stdout, non-zero exit on failure. */
int
main(void)
{
	plan(111);
	nn_rng_seed(&rng, 20240302);
	test_embed();
	test_layernorm();
	test_matmul();
	test_attention();
	test_attention_last();
	test_gelu();
	test_residual();
	test_softmax();
	test_xent_row();
	test_churn();
	test_gather();
	test_model();
	test_one_layer();
	test_padding_garbage();
	test_topk();
	return exit_status();
}
