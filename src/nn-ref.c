/*
 * nn-ref.c: plain-loop versions of the kernels in nn-layers.c, written
 * straight from MODEL.md for the tests to compare against: no BLAS, no
 * vectors, libm's expf and tanhf, the textbook order of operations.
 * Slow on purpose; nothing but the tests calls them.
 */
#include "config.h"
#include "nn.h"

#include <math.h>
#include <string.h>

/* Sum of the five embedding rows. */
void
nn_ref_embed_forward(float *out, const struct tok *tok, const float *type,
    const float *item, const float *gap, const float *amount,
    const float *pos, int BT, int C)
{
	int i, c;

	for (i = 0; i < BT; i++)
		for (c = 0; c < C; c++)
			out[i * C + c] = type[tok[i].type * C + c] +
			    item[tok[i].item * C + c] +
			    gap[tok[i].gap * C + c] +
			    amount[tok[i].amount * C + c] +
			    pos[tok[i].pos * C + c];
}

/* (x - mean) / sqrt(var + eps) * w + b, biased variance. */
void
nn_ref_layernorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *w, const float *b, int N, int C)
{
	int i, c;

	for (i = 0; i < N; i++) {
		const float *x = inp + i * C;
		float m = 0, v = 0, s;

		for (c = 0; c < C; c++)
			m += x[c];
		m /= C;
		for (c = 0; c < C; c++)
			v += (x[c] - m) * (x[c] - m);
		v /= C;
		s = 1.0f / sqrtf(v + NN_LN_EPS);
		for (c = 0; c < C; c++)
			out[i * C + c] = (x[c] - m) * s * w[c] + b[c];
		if (mean != NULL)
			mean[i] = m;
		if (rstd != NULL)
			rstd[i] = s;
	}
}

/* y = x W^T + b. */
void
nn_ref_matmul_forward(float *out, const float *inp, const float *w,
    const float *bias, int N, int C, int OC)
{
	int i, o, c;

	for (i = 0; i < N; i++)
		for (o = 0; o < OC; o++) {
			float s = bias != NULL ? bias[o] : 0;

			for (c = 0; c < C; c++)
				s += inp[i * C + c] * w[o * C + c];
			out[i * OC + o] = s;
		}
}

/* Causal softmax attention, query by query. */
void
nn_ref_attention_forward(float *out, float *att, const float *qkv,
    const int *len, int B, int T, int C, int H)
{
	int dh = C / H, b, h, k, j, i;
	float scale = 1.0f / sqrtf((float)dh);

	memset(out, 0, sizeof(float) * B * T * C);
	memset(att, 0, sizeof(float) * B * H * T * T);
	for (b = 0; b < B; b++)
		for (h = 0; h < H; h++)
			for (k = 0; k < len[b]; k++) {
				const float *q = qkv + (b * T + k) * 3 * C +
				    h * dh;
				float *a = att + ((b * H + h) * T + k) * T;
				float m = -INFINITY, s = 0;

				for (j = 0; j <= k; j++) {
					const float *kk = qkv + (b * T + j) *
					    3 * C + C + h * dh;
					float d = 0;

					for (i = 0; i < dh; i++)
						d += q[i] * kk[i];
					a[j] = d * scale;
					if (a[j] > m)
						m = a[j];
				}
				for (j = 0; j <= k; j++) {
					a[j] = expf(a[j] - m);
					s += a[j];
				}
				for (j = 0; j <= k; j++)
					a[j] /= s;
				for (i = 0; i < dh; i++) {
					float y = 0;

					for (j = 0; j <= k; j++)
						y += a[j] * qkv[(b * T + j) *
						    3 * C + 2 * C + h * dh + i];
					out[(b * T + k) * C + h * dh + i] = y;
				}
			}
}

/*
 * The last query of each window, unfolded: keys and values computed
 * from a and the weights, then the same attention as above.
 */
void
nn_ref_attention_last_forward(float *out, float *att, const float *q,
    const float *a, const float *w, const float *bias, const int *len,
    int B, int T, int C, int H)
{
	int dh = C / H, b, h, j, i, c;
	float scale = 1.0f / sqrtf((float)dh);

	memset(att, 0, sizeof(float) * B * H * T);
	for (b = 0; b < B; b++)
		for (h = 0; h < H; h++) {
			float *at = att + (b * H + h) * T, m = -INFINITY,
			    s = 0;
			const float *qh = q + b * C + h * dh;

			for (j = 0; j < len[b]; j++) {
				const float *aj = a + (b * T + j) * C;
				float d = 0;

				for (i = 0; i < dh; i++) {
					float k = bias[C + h * dh + i];

					for (c = 0; c < C; c++)
						k += w[(C + h * dh + i) * C + c]
						    * aj[c];
					d += qh[i] * k;
				}
				at[j] = d * scale;
				if (at[j] > m)
					m = at[j];
			}
			for (j = 0; j < len[b]; j++) {
				at[j] = expf(at[j] - m);
				s += at[j];
			}
			for (j = 0; j < len[b]; j++)
				at[j] /= s;
			for (i = 0; i < dh; i++) {
				float y = 0;

				for (j = 0; j < len[b]; j++) {
					const float *aj = a + (b * T + j) * C;
					float v = bias[2 * C + h * dh + i];

					for (c = 0; c < C; c++)
						v += w[(2 * C + h * dh + i) *
						    C + c] * aj[c];
					y += at[j] * v;
				}
				out[b * C + h * dh + i] = y;
			}
		}
}

/* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void
nn_ref_gelu_forward(float *out, const float *inp, int N)
{
	int i;

	for (i = 0; i < N; i++) {
		float x = inp[i];

		out[i] = 0.5f * x * (1.0f + tanhf(0.7978845608028654f *
		    (x + 0.044715f * x * x * x)));
	}
}

/* Row-wise softmax. */
void
nn_ref_softmax_forward(float *probs, const float *logits, int N, int V)
{
	int i, j;

	for (i = 0; i < N; i++) {
		float m = -INFINITY, s = 0;

		for (j = 0; j < V; j++)
			if (logits[i * V + j] > m)
				m = logits[i * V + j];
		for (j = 0; j < V; j++) {
			probs[i * V + j] = expf(logits[i * V + j] - m);
			s += probs[i * V + j];
		}
		for (j = 0; j < V; j++)
			probs[i * V + j] /= s;
	}
}

/* sigmoid(z . w + b). */
void
nn_ref_churn_forward(float *prob, float *logit, const float *z,
    const float *w, const float *b, int B, int C)
{
	int i, c;

	for (i = 0; i < B; i++) {
		float s = b[0];

		for (c = 0; c < C; c++)
			s += z[i * C + c] * w[c];
		logit[i] = s;
		prob[i] = 1.0f / (1.0f + expf(-s));
	}
}
