/*
 * nn-layers.c: the forward kernels of the sequence model, one per layer.
 * They take plain pointers and sizes (outputs, saved values, inputs,
 * weights, sizes), never allocate and never see the model struct.
 * Matrix products go to cblas_sgemm (row-major, weights (out, in));
 * element-wise work uses GCC vector extensions (8 floats), which every
 * target lowers to what it has. nn-ref.c holds the plain-loop twins.
 */
#include "config.h"
#include "nn.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

/* the vector helpers are static and inlined: no ABI to keep */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/*
 * The element-wise kernels are compiled twice where the compiler can:
 * for x86-64-v3 (AVX2, FMA) and for the baseline, the loader picking one
 * for the machine at start (GCC's target_clones). The vector helpers
 * below are inlined into each. Results agree to rounding (FMA).
 */
#if defined(HAVE_TARGET_CLONES)
#define NN_VEC	__attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NN_VEC
#endif

static inline __attribute__((always_inline)) v8f
ld8(const float *p)
{
	v8f v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline __attribute__((always_inline)) void
st8(float *p, v8f v)
{
	memcpy(p, &v, sizeof(v));
}

static inline __attribute__((always_inline)) v8f
set8(float x)
{
	return (v8f){ x, x, x, x, x, x, x, x };
}

static inline __attribute__((always_inline)) float
hsum8(v8f v)
{
	return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

/* Lane-wise select: m ? a : b (m from a vector comparison). */
static inline __attribute__((always_inline)) v8f
sel8(v8i m, v8f a, v8f b)
{
	return (v8f)((m & (v8i)a) | (~m & (v8i)b));
}

static inline __attribute__((always_inline)) v8f
max8(v8f a, v8f b)
{
	return sel8(a > b, a, b);
}

static inline __attribute__((always_inline)) float
hmax8(v8f v)
{
	float m = v[0];
	int i;

	for (i = 1; i < 8; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

/*
 * e^x for x in [-87, 88], x below clamped, within 2 ulp: Cephes' expf
 * (x = n ln2 + r, |r| <= ln2 / 2, a degree-7 polynomial, 2^n built in
 * the exponent bits). Vectorises where libm's expf cannot. Above 88 the
 * result is undefined: exp8 clamps there too, callers that bound x
 * themselves (nn_softmax_xent_row) save the test.
 */
static inline __attribute__((always_inline)) v8f
exp8_below(v8f x)
{
	const v8f magic = set8(12582912.0f);	/* 1.5 * 2^23: round */
	v8f n, r, p;
	v8i ni;

	x = max8(x, set8(-87.0f));
	n = (x * 1.44269504088896341f + magic) - magic;
	r = x - n * 0.693359375f;
	r = r - n * -2.12194440e-4f;
	p = set8(1.9875691500e-4f);
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * (r * r) + r + 1.0f;
	ni = __builtin_convertvector(n, v8i);
	return p * (v8f)((ni + 127) << 23);
}

/* e^x for x in [-87, 88] (clamped), within 2 ulp. */
static inline __attribute__((always_inline)) v8f
exp8(v8f x)
{
	return exp8_below(sel8(x > set8(88.0f), set8(88.0f), x));
}

/* Scalar e^x by the same method (tails of vector loops). */
static inline __attribute__((always_inline)) float
exp1(float x)
{
	v8f v = exp8(set8(x));

	return v[0];
}

/* Sum of the embedding rows. */
NN_VEC void
nn_embed_forward(float *out, const struct tok *tok, const float *type,
    const float *item, const float *gap, const float *amount,
    const float *pos, int BT, int C)
{
	int i, c;

	for (i = 0; i < BT; i++) {
		const float *a = type + (size_t)tok[i].type * C,
		    *b = item + (size_t)tok[i].item * C,
		    *g = gap + (size_t)tok[i].gap * C,
		    *m = amount + (size_t)tok[i].amount * C,
		    *p = pos + (size_t)tok[i].pos * C;
		float *o = out + (size_t)i * C;

		for (c = 0; c + 8 <= C; c += 8)
			st8(o + c, ld8(a + c) + ld8(b + c) + ld8(g + c) +
			    ld8(m + c) + ld8(p + c));
		for (; c < C; c++)
			o[c] = a[c] + b[c] + g[c] + m[c] + p[c];
	}
}

/* LayerNorm of each row: biased variance, eps 1e-5. */
NN_VEC void
nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
    const float *w, const float *b, int N, int C)
{
	int i, c;

	for (i = 0; i < N; i++) {
		const float *x = inp + (size_t)i * C;
		float *o = out + (size_t)i * C, m, v, s;
		v8f acc = set8(0), d;

		for (c = 0; c + 8 <= C; c += 8)
			acc += ld8(x + c);
		m = hsum8(acc);
		for (; c < C; c++)
			m += x[c];
		m /= (float)C;
		acc = set8(0);
		for (c = 0; c + 8 <= C; c += 8) {
			d = ld8(x + c) - m;
			acc += d * d;
		}
		v = hsum8(acc);
		for (; c < C; c++)
			v += (x[c] - m) * (x[c] - m);
		s = 1.0f / sqrtf(v / (float)C + NN_LN_EPS);
		for (c = 0; c + 8 <= C; c += 8)
			st8(o + c, (ld8(x + c) - m) * s * ld8(w + c) +
			    ld8(b + c));
		for (; c < C; c++)
			o[c] = (x[c] - m) * s * w[c] + b[c];
		if (mean != NULL)
			mean[i] = m;
		if (rstd != NULL)
			rstd[i] = s;
	}
}

/* out(N, OC) = inp(N, C) . w(OC, C)^T + bias. */
void
nn_matmul_forward(float *out, const float *inp, const float *w,
    const float *bias, int N, int C, int OC)
{
	int i;

	if (N == 0)
		return;
	if (bias != NULL)
		for (i = 0; i < N; i++)
			memcpy(out + (size_t)i * OC, bias, sizeof(float) * OC);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C,
	    1.0f, inp, C, w, C, bias != NULL ? 1.0f : 0.0f, out, OC);
}

/* x[j] <- exp(x[j] - max x) in place; returns the sum, *max the max. */
static inline __attribute__((always_inline)) float
exp_shifted(float *x, int n, float *max)
{
	v8f vm = set8(-INFINITY), acc = set8(0), e;
	float m, s;
	int j;

	for (j = 0; j + 8 <= n; j += 8)
		vm = max8(vm, ld8(x + j));
	m = hmax8(vm);
	for (; j < n; j++)
		m = x[j] > m ? x[j] : m;
	for (j = 0; j + 8 <= n; j += 8) {
		e = exp8(ld8(x + j) - m);
		st8(x + j, e);
		acc += e;
	}
	s = hsum8(acc);
	for (; j < n; j++) {
		x[j] = exp1(x[j] - m);
		s += x[j];
	}
	*max = m;
	return s;
}

/* Softmax of x[0..n) in place. */
static inline __attribute__((always_inline)) void
softmax_row(float *x, int n)
{
	float m, s;
	int j;

	s = 1.0f / exp_shifted(x, n, &m);
	for (j = 0; j + 8 <= n; j += 8)
		st8(x + j, ld8(x + j) * s);
	for (; j < n; j++)
		x[j] *= s;
}

/*
 * Causal attention. Per window and head, blocks of NN_ATT_BLOCK query rows
 * take scores against the keys up to the block's end (one sgemm), the
 * masked softmax of each row, then their values (one sgemm): about half
 * the work of the full square.
 */
NN_VEC void
nn_attention_forward(float *out, float *att, const float *qkv,
    const int *len, int B, int T, int C, int H)
{
	const int C3 = 3 * C, dh = C / H;
	const float scale = 1.0f / sqrtf((float)dh);
	int b, h, k, r0, r1, n;

	for (b = 0; b < B; b++) {
		const float *qb = qkv + (size_t)b * T * C3;
		float *ob = out + (size_t)b * T * C;

		n = len[b];
		assert(n >= 1 && n <= T);
		if (n < T)
			memset(ob + (size_t)n * C, 0,
			    sizeof(float) * (size_t)(T - n) * C);
		for (h = 0; h < H; h++) {
			const float *q = qb + h * dh, *kk = qb + C + h * dh,
			    *v = qb + 2 * C + h * dh;
			float *a = att + ((size_t)b * H + h) * T * T;

			for (r0 = 0; r0 < n; r0 = r1) {
				r1 = r0 + NN_ATT_BLOCK < n ? r0 + NN_ATT_BLOCK :
				    n;
				cblas_sgemm(CblasRowMajor, CblasNoTrans,
				    CblasTrans, r1 - r0, r1, dh, scale,
				    q + (size_t)r0 * C3, C3, kk, C3, 0.0f,
				    a + (size_t)r0 * T, T);
				for (k = r0; k < r1; k++) {
					float *row = a + (size_t)k * T;

					softmax_row(row, k + 1);
					memset(row + k + 1, 0,
					    sizeof(float) * (size_t)(T - k - 1));
				}
				cblas_sgemm(CblasRowMajor, CblasNoTrans,
				    CblasNoTrans, r1 - r0, dh, r1, 1.0f,
				    a + (size_t)r0 * T, T, v, C3, 0.0f,
				    ob + (size_t)r0 * C + h * dh, C);
			}
			if (n < T)
				memset(a + (size_t)n * T, 0,
				    sizeof(float) * (size_t)(T - n) * T);
		}
	}
}

/* One query per window with the key and value maps folded in. */
NN_VEC void
nn_attention_last_forward(float *out, float *att, float *qk, float *abar,
    const float *q, const float *a, const float *w, const float *bias,
    const int *len, int B, int T, int C, int H)
{
	const int dh = C / H;
	const float scale = 1.0f / sqrtf((float)dh);
	int b, h, i, n;

	for (b = 0; b < B; b++) {
		const float *ab = a + (size_t)b * T * C;

		n = len[b];
		assert(n >= 1 && n <= T);
		for (h = 0; h < H; h++) {
			const float *qh = q + (size_t)b * C + h * dh;
			float *qkh = qk + ((size_t)b * H + h) * C,
			    *atth = att + ((size_t)b * H + h) * T,
			    *abh = abar + ((size_t)b * H + h) * C,
			    *oh = out + (size_t)b * C + h * dh, c0 = 0;

			/* qk = Wk_h^T q_h: (C) */
			cblas_sgemv(CblasRowMajor, CblasTrans, dh, C, 1.0f,
			    w + (size_t)(C + h * dh) * C, C, qh, 1, 0.0f,
			    qkh, 1);
			for (i = 0; i < dh; i++)
				c0 += qh[i] * bias[C + h * dh + i];
			/* scores_j = (a_j . qk + q . bk) / sqrt(dh) */
			cblas_sgemv(CblasRowMajor, CblasNoTrans, n, C, scale,
			    ab, C, qkh, 1, 0.0f, atth, 1);
			c0 *= scale;
			for (i = 0; i < n; i++)
				atth[i] += c0;
			softmax_row(atth, n);
			if (n < T)
				memset(atth + n, 0, sizeof(float) * (size_t)(T - n));
			/* abar = sum_j att_j a_j; out_h = Wv_h abar + bv_h */
			cblas_sgemv(CblasRowMajor, CblasTrans, n, C, 1.0f, ab,
			    C, atth, 1, 0.0f, abh, 1);
			memcpy(oh, bias + 2 * C + h * dh, sizeof(float) * dh);
			cblas_sgemv(CblasRowMajor, CblasNoTrans, dh, C, 1.0f,
			    w + (size_t)(2 * C + h * dh) * C, C, abh, 1, 1.0f,
			    oh, 1);
		}
	}
}

/*
 * GELU, tanh form: 0.5 x (1 + tanh(u)) = x sigmoid(2u),
 * u = sqrt(2/pi) (x + 0.044715 x^3).
 */
NN_VEC void
nn_gelu_forward(float *out, const float *inp, int N)
{
	const float k = 0.7978845608028654f;	/* sqrt(2/pi) */
	v8f x, u;
	int i;

	for (i = 0; i + 8 <= N; i += 8) {
		x = ld8(inp + i);
		u = k * (x + 0.044715f * x * x * x);
		st8(out + i, x / (1.0f + exp8(-2.0f * u)));
	}
	for (; i < N; i++) {
		float y = inp[i], uu = k * (y + 0.044715f * y * y * y);

		out[i] = y / (1.0f + exp1(-2.0f * uu));
	}
}

/* out = a + b. */
NN_VEC void
nn_residual_forward(float *out, const float *a, const float *b, int N)
{
	int i;

	for (i = 0; i + 8 <= N; i += 8)
		st8(out + i, ld8(a + i) + ld8(b + i));
	for (; i < N; i++)
		out[i] = a[i] + b[i];
}

/* Row-wise softmax. */
NN_VEC void
nn_softmax_forward(float *probs, const float *logits, int N, int V)
{
	int i;

	for (i = 0; i < N; i++) {
		if (probs != logits)
			memcpy(probs + (size_t)i * V, logits + (size_t)i * V,
			    sizeof(float) * V);
		softmax_row(probs + (size_t)i * V, V);
	}
}

/* x (exponentials summing to s) -> scale (x / s - onehot(y)). */
static inline __attribute__((always_inline)) void
xent_grad(float *x, int n, int y, float scale, float s)
{
	const float k = scale / s;
	const v8f vk = set8(k);
	int j;

	for (j = 0; j + 8 <= n; j += 8)
		st8(x + j, ld8(x + j) * vk);
	for (; j < n; j++)
		x[j] *= k;
	x[y] -= scale;
}

/* The largest logit above the target's that nn_softmax_xent_row takes. */
#define XENT_ABOVE	64.0f

/*
 * Softmax cross entropy of one row in place: returns -log p[y] and
 * leaves x = scale (p - onehot(y)), scale times the loss's gradient.
 * Two passes over the row: e^(x - x[y]) and their sum s (at least 1,
 * from the target itself), tracking the largest x - x[y]; then the
 * scale. The loss is log s. A row that scored some item more than
 * XENT_ABOVE above its target (s could overflow) returns NAN and x is
 * undefined: the caller scores the row again and takes
 * nn_softmax_xent_row_max. The max pass this saves reads the row from
 * memory, a third of the three-pass time on 23,714 items.
 */
NN_VEC float
nn_softmax_xent_row(float *x, int n, int y, float scale)
{
	const float sy = x[y];
	const v8f vy = set8(sy);
	v8f acc = set8(0), top = set8(-INFINITY), d, e;
	float s, dm, d1;
	int j;

	for (j = 0; j + 8 <= n; j += 8) {
		d = ld8(x + j) - vy;
		top = max8(top, d);
		e = exp8_below(d);
		st8(x + j, e);
		acc += e;
	}
	s = hsum8(acc);
	dm = hmax8(top);
	for (; j < n; j++) {
		d1 = x[j] - sy;
		dm = d1 > dm ? d1 : dm;
		x[j] = exp1(d1);
		s += x[j];
	}
	if (dm > XENT_ABOVE)
		return NAN;
	xent_grad(x, n, y, scale, s);
	return logf(s);
}

/*
 * The same shifted by the row's max (three passes: max; exp and sum;
 * scale), for any finite row.
 */
NN_VEC float
nn_softmax_xent_row_max(float *x, int n, int y, float scale)
{
	const float sy = x[y];
	float m, s;

	s = exp_shifted(x, n, &m);
	xent_grad(x, n, y, scale, s);
	return m + logf(s) - sy;
}

/* The churn head: a dot product and a sigmoid. */
NN_VEC void
nn_churn_forward(float *prob, float *logit, const float *z, const float *w,
    const float *b, int B, int C)
{
	int i, c;

	for (i = 0; i < B; i++) {
		const float *x = z + (size_t)i * C;
		v8f acc = set8(0);
		float s;

		for (c = 0; c + 8 <= C; c += 8)
			acc += ld8(x + c) * ld8(w + c);
		s = hsum8(acc);
		for (; c < C; c++)
			s += x[c] * w[c];
		s += b[0];
		logit[i] = s;
		prob[i] = 1.0f / (1.0f + expf(-s));
	}
}

/* The row of each window's last position. */
void
nn_gather_last(float *out, const float *inp, const int *len, int B, int T,
    int C)
{
	int i;

	for (i = 0; i < B; i++) {
		assert(len[i] >= 1 && len[i] <= T);
		memcpy(out + (size_t)i * C,
		    inp + ((size_t)i * T + len[i] - 1) * C, sizeof(float) * C);
	}
}

/* ---- backward: gradients first, then dout, then saved values ---- */

/* Scatter each real position's gradient into its five embedding rows. */
NN_VEC void
nn_embed_backward(float *dtype, float *ditem, float *dgap, float *damount,
    float *dpos, const float *dout, const struct tok *tok, const int *len,
    int B, int T, int C)
{
	int b, k, c;

	for (b = 0; b < B; b++)
		for (k = 0; k < len[b]; k++) {
			const size_t r = (size_t)b * T + k;
			const struct tok *x = &tok[r];
			const float *d = dout + r * C;
			float *rows[5];
			int i;

			rows[0] = dtype + (size_t)x->type * C;
			rows[1] = ditem + (size_t)x->item * C;
			rows[2] = dgap + (size_t)x->gap * C;
			rows[3] = damount + (size_t)x->amount * C;
			rows[4] = dpos + (size_t)x->pos * C;
			for (i = 0; i < 5; i++) {
				float *o = rows[i];

				for (c = 0; c + 8 <= C; c += 8)
					st8(o + c, ld8(o + c) + ld8(d + c));
				for (; c < C; c++)
					o[c] += d[c];
			}
		}
}

/*
 * LayerNorm backward: with xhat = (x - mean) rstd and g = dout w,
 * dinp += rstd (g - mean(g) - xhat mean(g xhat)); dw += dout xhat;
 * db += dout.
 */
NN_VEC void
nn_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
    const float *inp, const float *w, const float *mean, const float *rstd,
    int N, int C)
{
	int i, c;

	for (i = 0; i < N; i++) {
		const float *x = inp + (size_t)i * C, *d = dout + (size_t)i * C;
		float *dx = dinp + (size_t)i * C, m = mean[i], s = rstd[i];
		float sg = 0, sgx = 0;
		v8f a1 = set8(0), a2 = set8(0), xh, g;

		for (c = 0; c + 8 <= C; c += 8) {
			xh = (ld8(x + c) - m) * s;
			g = ld8(d + c) * ld8(w + c);
			a1 += g;
			a2 += g * xh;
		}
		sg = hsum8(a1);
		sgx = hsum8(a2);
		for (; c < C; c++) {
			float xc = (x[c] - m) * s, gc = d[c] * w[c];

			sg += gc;
			sgx += gc * xc;
		}
		sg /= (float)C;
		sgx /= (float)C;
		for (c = 0; c + 8 <= C; c += 8) {
			xh = (ld8(x + c) - m) * s;
			g = ld8(d + c) * ld8(w + c);
			st8(dx + c, ld8(dx + c) + s * (g - sg - xh * sgx));
			st8(dw + c, ld8(dw + c) + ld8(d + c) * xh);
			st8(db + c, ld8(db + c) + ld8(d + c));
		}
		for (; c < C; c++) {
			float xc = (x[c] - m) * s, gc = d[c] * w[c];

			dx[c] += s * (gc - sg - xc * sgx);
			dw[c] += d[c] * xc;
			db[c] += d[c];
		}
	}
}

/*
 * dinp(N, C) += dout(N, OC) . w(OC, C); dw(OC, C) += dout^T . inp;
 * dbias(OC) += column sums of dout. dinp and dbias may be NULL.
 */
NN_VEC void
nn_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
    const float *inp, const float *w, int N, int C, int OC)
{
	int i, o;

	if (N == 0)
		return;
	if (dinp != NULL)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C,
		    OC, 1.0f, dout, OC, w, C, 1.0f, dinp, C);
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f,
	    dout, OC, inp, C, 1.0f, dw, C);
	if (dbias != NULL)
		for (i = 0; i < N; i++) {
			const float *d = dout + (size_t)i * OC;

			for (o = 0; o + 8 <= OC; o += 8)
				st8(dbias + o, ld8(dbias + o) + ld8(d + o));
			for (; o < OC; o++)
				dbias[o] += d[o];
		}
}

/*
 * Causal attention backward. Per window and head, with A the softmax
 * rows and n = len: dV += A^T dO; dA = dO V^T; dS = A (dA - rowsum(A dA));
 * dQ += scale dS K; dK += scale dS^T Q. datt is scratch of (T, T).
 * Padding rows (k >= len) of dout must be zero; they are not read.
 */
NN_VEC void
nn_attention_backward(float *dqkv, float *datt, const float *dout,
    const float *qkv, const float *att, const int *len, int B, int T, int C,
    int H)
{
	const int C3 = 3 * C, dh = C / H;
	const float scale = 1.0f / sqrtf((float)dh);
	int b, h, k, j, n;

	for (b = 0; b < B; b++) {
		const float *qb = qkv + (size_t)b * T * C3,
		    *db = dout + (size_t)b * T * C;
		float *dqb = dqkv + (size_t)b * T * C3;

		n = len[b];
		for (h = 0; h < H; h++) {
			const float *q = qb + h * dh, *kk = qb + C + h * dh,
			    *v = qb + 2 * C + h * dh, *d = db + h * dh,
			    *a = att + ((size_t)b * H + h) * T * T;
			float *dq = dqb + h * dh, *dk = dqb + C + h * dh,
			    *dv = dqb + 2 * C + h * dh;

			/* dV(n, dh) += A^T(n, n) dO(n, dh) */
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n,
			    dh, n, 1.0f, a, T, d, C, 1.0f, dv, C3);
			/* dA(n, n) = dO V^T */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n,
			    n, dh, 1.0f, d, C, v, C3, 0.0f, datt, T);
			/* dS = A (dA - sum_j A dA), causal: j <= k */
			for (k = 0; k < n; k++) {
				const float *ar = a + (size_t)k * T;
				float *dr = datt + (size_t)k * T, s = 0;

				for (j = 0; j <= k; j++)
					s += ar[j] * dr[j];
				for (j = 0; j <= k; j++)
					dr[j] = ar[j] * (dr[j] - s);
				for (j = k + 1; j < n; j++)
					dr[j] = 0;
			}
			/* dQ += scale dS K; dK += scale dS^T Q */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n,
			    dh, n, scale, datt, T, kk, C3, 1.0f, dq, C3);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n,
			    dh, n, scale, datt, T, q, C3, 1.0f, dk, C3);
		}
	}
}

/*
 * GELU backward (tanh form): with t = tanh(u), u = k (x + 0.044715 x^3),
 * d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 * 0.044715 x^2).
 */
NN_VEC void
nn_gelu_backward(float *dinp, const float *dout, const float *inp, int N)
{
	const float k = 0.7978845608028654f;
	v8f x, u, t, g;
	int i;

	for (i = 0; i + 8 <= N; i += 8) {
		x = ld8(inp + i);
		u = k * (x + 0.044715f * x * x * x);
		t = 1.0f - 2.0f / (1.0f + exp8(2.0f * u));
		g = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * k *
		    (1.0f + 0.134145f * x * x);
		st8(dinp + i, ld8(dinp + i) + ld8(dout + i) * g);
	}
	for (; i < N; i++) {
		float y = inp[i], uu = k * (y + 0.044715f * y * y * y),
		    tt = 1.0f - 2.0f / (1.0f + exp1(2.0f * uu));

		dinp[i] += dout[i] * (0.5f * (1.0f + tt) + 0.5f * y *
		    (1.0f - tt * tt) * k * (1.0f + 0.134145f * y * y));
	}
}

typedef uint32_t v8u __attribute__((vector_size(32)));

/*
 * The dropout hash of indices i0 .. i0 + 7 under key: lowbias32 of
 * key ^ index * golden ratio, a counter-based hash, so the value of an
 * index does not depend on the vector width or where the tail starts.
 */
static inline __attribute__((always_inline)) v8u
drop_hash8(uint32_t i0, uint32_t key)
{
	const v8u lane = { 0, 1, 2, 3, 4, 5, 6, 7 };
	v8u x = (lane + i0) * 0x9e3779b9u ^ key;

	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/*
 * Dropout: mask(N) = 0 with probability p, else 1 / (1 - p), from one
 * draw of rng keying drop_hash8; out = inp * mask (out may be inp).
 */
NN_VEC void
nn_dropout_forward(float *out, float *mask, const float *inp, float p, int N,
    struct nn_rng *rng)
{
	const uint32_t cut = (uint32_t)(p * 4294967296.0);
	const float keep = 1.0f / (1.0f - p);
	const uint64_t k64 = nn_rng_u64(rng);
	const uint32_t key = (uint32_t)k64 ^ (uint32_t)(k64 >> 32);
	uint32_t u[8];
	v8f m;
	int i, j;

	for (i = 0; i + 8 <= N; i += 8) {
		m = sel8((v8i)(drop_hash8((uint32_t)i, key) < cut), set8(0.0f),
		    set8(keep));
		st8(mask + i, m);
		st8(out + i, ld8(inp + i) * m);
	}
	if (i < N) {
		v8u x = drop_hash8((uint32_t)i, key);

		memcpy(u, &x, sizeof(u));
		for (j = 0; i + j < N; j++) {
			mask[i + j] = u[j] < cut ? 0.0f : keep;
			out[i + j] = inp[i + j] * mask[i + j];
		}
	}
}

/* out(N) = a * b, element-wise (dropout backward, masks). */
NN_VEC void
nn_mul_forward(float *out, const float *a, const float *b, int N)
{
	int i;

	for (i = 0; i + 8 <= N; i += 8)
		st8(out + i, ld8(a + i) * ld8(b + i));
	for (; i < N; i++)
		out[i] = a[i] * b[i];
}

/* d(N, K) = squared distances of rows of x (N, C) to rows of c (K, C). */
void
nn_sqdist(float *d, const float *x, const float *c, int N, int K, int C)
{
	int i, j, k;

	if (N == 0 || K == 0)
		return;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, K, C, -2.0f,
	    x, C, c, C, 0.0f, d, K);
	for (j = 0; j < K; j++) {
		float cn = 0;

		for (k = 0; k < C; k++)
			cn += c[(size_t)j * C + k] * c[(size_t)j * C + k];
		for (i = 0; i < N; i++)
			d[(size_t)i * K + j] += cn;
	}
	for (i = 0; i < N; i++) {
		float xn = 0, *r = d + (size_t)i * K;

		for (k = 0; k < C; k++)
			xn += x[(size_t)i * C + k] * x[(size_t)i * C + k];
		for (j = 0; j < K; j++) {
			r[j] += xn;
			if (r[j] < 0)
				r[j] = 0;	/* rounding */
		}
	}
}

/*
 * AdamW on n values: with g scaled by gscale, m and v the moments,
 * w -= lr (m c1) / (sqrt(v c2) + eps) + wd w, where c1, c2 correct the
 * moments' bias and wd is lr times the decay (0: none). The plain loop is
 * left to the vectoriser (O3 here, and -fno-math-errno so that sqrtf is
 * an instruction): vector extensions have no square root.
 */
NN_VEC __attribute__((optimize("O3"))) void
nn_adamw_update(float *w, const float *g, float *m, float *v, size_t n,
    float lr, float b1, float b2, float c1, float c2, float eps, float wd,
    float gscale)
{
	size_t j;

	for (j = 0; j < n; j++) {
		float gj = g[j] * gscale;

		m[j] = b1 * m[j] + (1 - b1) * gj;
		v[j] = b2 * v[j] + (1 - b2) * gj * gj;
		w[j] -= lr * (m[j] * c1) / (sqrtf(v[j] * c2) + eps) + wd * w[j];
	}
}

/* Sum of squares of x[0..n), in double. */
NN_VEC double
nn_sumsq(const float *x, size_t n)
{
	double s = 0;
	v8f acc;
	size_t i = 0, k;

	while (i + 8 <= n) {
		/* float partial sums of at most 4096 values, added in double */
		acc = set8(0);
		for (k = 0; k < 512 && i + 8 <= n; k++, i += 8)
			acc += ld8(x + i) * ld8(x + i);
		s += (double)hsum8(acc);
	}
	for (; i < n; i++)
		s += (double)x[i] * x[i];
	return s;
}
