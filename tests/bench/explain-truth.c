/*
 * explain-truth.c: do the model's explanations point at the planted
 * causes? For every customer of a sample store with a fired churn rule
 * (table ground_truth) whose trigger events are all in the model's window
 * (as of the customer's last event), k = the trigger's events in the
 * window; the share of them among the k events the model weighs most
 * (rollout, last-layer mean, occlusion effect, and norm-weighted
 * attention, below), against k random events of the window (the
 * expectation, k/n) and the last k events. Prints the
 * means per rule and overall. Usage: explain-truth DB [MODEL]
 */
#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "explain.h"
#include "nn.h"
#include "store.h"

#define METHODS	7	/* rollout, mean, occlusion, random, last k,
				 * and two norm-weighted read-outs */
#define MAX_HEADS	16	/* per-head shares shown too, up to this */

static const char *const method_name[METHODS] = {
	"rollout", "last-layer mean", "occlusion", "random k (k/n)", "last k",
	"norm last", "norm rollout"
};
/*
 * Norm-weighted attention (Kobayashi et al., 2020): how much source j
 * adds to query k's output in layer l, || sum_h a_h[k,j] v_h[j]
 * Wproj_h^T ||, each row normalised to 1; the last layer's row of the
 * last query, and the rollout of these matrices as MODEL.md rolls out
 * attention (0.5 N + 0.5 I). Not a MODEL.md read-out: measured here
 * beside the ones people are shown.
 */
static void
norm_attention(const struct nn_model *m, struct nn_acts *a,
    const struct tok *tok, int n, float *last, float *roll)
{
	const int C = m->cfg.C, H = m->cfg.H, L = m->cfg.L, dh = C / H;
	float *P = calloc((size_t)n * H * C, sizeof(float)),
	    *N = calloc((size_t)n * n, sizeof(float)),
	    *R = calloc((size_t)n * n, sizeof(float)),
	    *T2 = calloc((size_t)n * n, sizeof(float)), c[NN_MAX_C];
	int l, h, k, j, i, q, len = n;

	nn_forward(m, a, tok, &len, 1, n, NN_FULL, 0);
	for (k = 0; k < n; k++)
		for (j = 0; j < n; j++)
			R[k * n + j] = k == j;
	for (l = 0; l < L; l++) {
		const float *qkv = a->qkv + (size_t)l * n * 3 * C,
		    *att = a->att + (size_t)l * H * n * n,
		    *W = m->p.proj_w + (size_t)l * C * C;

		/* P[j][h] = v_h[j] Wproj[:, h's columns]^T */
		for (j = 0; j < n; j++)
			for (h = 0; h < H; h++)
				for (i = 0; i < C; i++) {
					float sum = 0;

					for (q = 0; q < dh; q++)
						sum += qkv[(size_t)j * 3 * C +
						    2 * C + h * dh + q] *
						    W[(size_t)i * C + h * dh + q];
					P[((size_t)j * H + h) * C + i] = sum;
				}
		for (k = 0; k < n; k++) {
			double tot = 0;

			for (j = 0; j <= k; j++) {
				double s2 = 0;

				for (i = 0; i < C; i++) {
					c[i] = 0;
					for (h = 0; h < H; h++)
						c[i] += att[((size_t)h * n + k) *
						    n + j] * P[((size_t)j * H + h) *
						    C + i];
					s2 += (double)c[i] * c[i];
				}
				N[k * n + j] = (float)sqrt(s2);
				tot += N[k * n + j];
			}
			for (j = 0; j < n; j++)
				N[k * n + j] = j <= k && tot > 0 ?
				    (float)(N[k * n + j] / tot) : 0;
		}
		if (l == L - 1)
			memcpy(last, N + (size_t)(n - 1) * n, sizeof(float) * n);
		/* R = (0.5 N + 0.5 I) R */
		for (k = 0; k < n; k++)
			for (j = 0; j < n; j++) {
				double sum = 0;

				for (i = 0; i < n; i++)
					sum += (0.5 * N[k * n + i] +
					    0.5 * (k == i)) * R[i * n + j];
				T2[k * n + j] = (float)sum;
			}
		memcpy(R, T2, sizeof(float) * n * n);
	}
	memcpy(roll, R + (size_t)(n - 1) * n, sizeof(float) * n);
	free(P);
	free(N);
	free(R);
	free(T2);
}

struct acc {
	double	 sum[METHODS];
	double	 head[MAX_HEADS];	/* per layer and head */
	int	 n;
};

/* The share of the window's trigger events among its top k by w. */
static double
top_share(const float *w, const unsigned char *trig, int n, int k)
{
	int *idx = calloc((size_t)k, sizeof(int)), got, i, hit = 0;

	got = nn_topk(w, n, 0, k, idx);
	for (i = 0; i < got; i++)
		hit += trig[idx[i]];
	free(idx);
	return (double)hit / k;
}

int
main(int argc, char **argv)
{
	struct acc by_rule[8], all;
	char rules[8][40];
	int nr = 0, r, mi, skipped = 0;
	struct store *s;
	struct nn_model *m;
	struct explain *x;
	struct explain_opts o;
	struct explain_report rep;
	struct nn_acts *acts;
	struct err e;
	sqlite3 *db;
	sqlite3_stmt *st, *ev;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: explain-truth DB [MODEL]\n");
		return 2;
	}
	err_clear(&e);
	memset(by_rule, 0, sizeof(by_rule));
	memset(&all, 0, sizeof(all));
	if ((s = store_open(argv[1], STORE_READONLY, &e)) == NULL ||
	    (m = explain_load_model(s, argc == 3 ? argv[2] : NULL, NULL,
	    &e)) == NULL || (x = explain_new(s, m, &e)) == NULL) {
		fprintf(stderr, "explain-truth: %s\n", e.msg);
		return 1;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		return 1;
	sqlite3_prepare_v2(db, "SELECT g.id, g.rule, c.ext_id FROM ground_truth "
	    "g JOIN customers c ON c.id = g.customer_id WHERE g.fired = 1 AND "
	    "g.outcome = 'churn' ORDER BY g.id", -1, &st, NULL);
	sqlite3_prepare_v2(db, "SELECT event_id FROM ground_truth_events WHERE "
	    "truth_id = ?1", -1, &ev, NULL);
	if ((acts = nn_acts_new(&m->cfg, 1, m->cfg.max_len, 0, &e)) == NULL) {
		fprintf(stderr, "explain-truth: %s\n", e.msg);
		return 1;
	}
	explain_opts_init(&o);
	o.occlusion = 1;
	o.random_sets = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *rule = (const char *)sqlite3_column_text(st, 1);
		unsigned char trig[4096];
		int64_t ids[64];
		int ni = 0, k = 0, i, j, in_window = 1;
		double v[METHODS];

		sqlite3_bind_int64(ev, 1, sqlite3_column_int64(st, 0));
		while (sqlite3_step(ev) == SQLITE_ROW && ni < 64)
			ids[ni++] = sqlite3_column_int64(ev, 0);
		sqlite3_reset(ev);
		if (explain_run(x, (const char *)sqlite3_column_text(st, 2), &o,
		    &rep, &e) < 0 || rep.n > sizeof(trig)) {
			err_clear(&e);
			skipped++;
			continue;
		}
		memset(trig, 0, rep.n);
		for (i = 0; i < ni; i++) {
			for (j = 0; j < (int)rep.n; j++)
				if (rep.ev[j].id == ids[i])
					break;
			if (j == (int)rep.n)
				in_window = 0;
			else if (!trig[j]) {
				trig[j] = 1;
				k++;
			}
		}
		if (!in_window || k == 0 || k >= (int)rep.n) {
			skipped++;
			continue;
		}
		v[0] = top_share(rep.rollout, trig, (int)rep.n, k);
		v[1] = top_share(rep.mean, trig, (int)rep.n, k);
		/* occlusion: masking a cause lowers churn (negative) */
		{
			float neg[4096];

			for (i = 0; i < (int)rep.n; i++)
				neg[i] = -rep.occlusion[i];
			v[2] = top_share(neg, trig, (int)rep.n, k);
		}
		v[3] = (double)k / (double)rep.n;
		for (i = (int)rep.n - k, v[4] = 0; i < (int)rep.n; i++)
			v[4] += trig[i];
		v[4] /= k;
		{
			float nl[4096], nr2[4096];

			norm_attention(m, acts, rep.tok, (int)rep.n, nl, nr2);
			v[5] = top_share(nl, trig, (int)rep.n, k);
			v[6] = top_share(nr2, trig, (int)rep.n, k);
		}
		for (r = 0; r < nr; r++)
			if (strcmp(rules[r], rule) == 0)
				break;
		for (i = 0; i < m->cfg.L * m->cfg.H && i < MAX_HEADS; i++) {
			double hv = top_share(rep.per_head + (size_t)i * rep.n,
			    trig, (int)rep.n, k);

			by_rule[r < 8 ? r : 7].head[i] += hv;
			all.head[i] += hv;
		}
		if (r == nr && nr < 8)
			snprintf(rules[nr++], sizeof(rules[0]), "%s", rule);
		for (mi = 0; mi < METHODS; mi++) {
			by_rule[r].sum[mi] += v[mi];
			all.sum[mi] += v[mi];
		}
		by_rule[r].n++;
		all.n++;
	}
	printf("share of the planted trigger's events among the k events each "
	    "method ranks first (k = the trigger's events in the window)\n\n");
	printf("%-22s %6s", "rule", "n");
	for (mi = 0; mi < METHODS; mi++)
		printf(" %16s", method_name[mi]);
	printf("\n");
	for (r = 0; r <= nr; r++) {
		const struct acc *a = r < nr ? &by_rule[r] : &all;

		printf("%-22s %6d", r < nr ? rules[r] : "all", a->n);
		for (mi = 0; mi < METHODS; mi++)
			printf(" %16.3f", a->n ? a->sum[mi] / a->n : NAN);
		printf("\n");
	}
	printf("\nper layer and head (all rules):");
	for (mi = 0; mi < m->cfg.L * m->cfg.H && mi < MAX_HEADS; mi++)
		printf(" L%dH%d %.3f", mi / m->cfg.H, mi % m->cfg.H, all.n ?
		    all.head[mi] / all.n : NAN);
	printf("\n");
	printf("\n(%d occurrences left out: trigger events outside the window "
	    "or no window)\n", skipped);
	sqlite3_finalize(st);
	sqlite3_finalize(ev);
	sqlite3_close(db);
	explain_free(x);
	nn_acts_free(acts);
	nn_model_free(m);
	store_close(s);
	return 0;
}
