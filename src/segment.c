/*
 * segment.c: building segments. RFM quintile scores and the 5x5
 * recency x frequency map (its rules a JSON list users may edit, read
 * with cJSON: the one reason this file includes it), churn-risk bands
 * from a model's scores, k-means clusters on the model's customer
 * embeddings, and filter segments. Each build replaces the segments of
 * its kind in one transaction.
 */
#include "config.h"
#include "segment.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "explain.h"
#include "nn.h"
#include "store.h"
#include "util.h"

/* ---- RFM ---- */

/*
 * The standard map of recency (r) x frequency (f) scores, first match
 * wins: every one of the 25 cells is in exactly one segment.
 */
static const char rfm_default[] =
"[\n"
"  {\"name\": \"Champions\",           \"r\": [5, 5], \"f\": [4, 5]},\n"
"  {\"name\": \"Loyal Customers\",     \"r\": [3, 4], \"f\": [4, 5]},\n"
"  {\"name\": \"Potential Loyalists\", \"r\": [4, 5], \"f\": [2, 3]},\n"
"  {\"name\": \"New Customers\",       \"r\": [5, 5], \"f\": [1, 1]},\n"
"  {\"name\": \"Promising\",           \"r\": [4, 4], \"f\": [1, 1]},\n"
"  {\"name\": \"Need Attention\",      \"r\": [3, 3], \"f\": [3, 3]},\n"
"  {\"name\": \"About to Sleep\",      \"r\": [3, 3], \"f\": [1, 2]},\n"
"  {\"name\": \"Can't Lose Them\",     \"r\": [1, 2], \"f\": [5, 5]},\n"
"  {\"name\": \"At Risk\",             \"r\": [1, 2], \"f\": [3, 4]},\n"
"  {\"name\": \"Hibernating\",         \"r\": [1, 2], \"f\": [1, 2]}\n"
"]\n";

const char *
rfm_default_json(void)
{
	return rfm_default;
}

/* A [lo, hi] pair within 1..5 from JSON. */
static int
score_range(const cJSON *a, int *lo, int *hi)
{
	const cJSON *x, *y;

	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2)
		return -1;
	x = cJSON_GetArrayItem(a, 0);
	y = cJSON_GetArrayItem(a, 1);
	if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y) ||
	    x->valuedouble != floor(x->valuedouble) ||
	    y->valuedouble != floor(y->valuedouble))
		return -1;
	*lo = (int)x->valuedouble;
	*hi = (int)y->valuedouble;
	return *lo >= 1 && *hi <= 5 && *lo <= *hi ? 0 : -1;
}

/* Parse the map (see segment.h). */
int
rfm_map_parse(const char *json, const char *what, struct rfm_map *map,
    struct err *e)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(json, &end, 1), *it;
	char missing[128];
	size_t i = 0, k;
	int r, f, nm = 0;

	memset(map, 0, sizeof(*map));
	if (root == NULL || !cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return err_set(e, ERR_PARSE, "%s: expected a JSON array of "
		    "rules {\"name\", \"r\": [lo, hi], \"f\": [lo, hi]}", what);
	}
	map->n = (size_t)cJSON_GetArraySize(root);
	map->rule = xcalloc(map->n + 1, sizeof(*map->rule));
	cJSON_ArrayForEach(it, root) {
		struct rfm_rule *u = &map->rule[i++];
		const cJSON *nmj = cJSON_GetObjectItemCaseSensitive(it, "name");

		if (!cJSON_IsString(nmj) || nmj->valuestring[0] == '\0' ||
		    strlen(nmj->valuestring) >= sizeof(u->name)) {
			cJSON_Delete(root);
			rfm_map_release(map);
			return err_set(e, ERR_PARSE, "%s: rule %zu: \"name\" "
			    "must be a string of 1 to %zu bytes", what, i,
			    sizeof(u->name) - 1);
		}
		snprintf(u->name, sizeof(u->name), "%s", nmj->valuestring);
		if (score_range(cJSON_GetObjectItemCaseSensitive(it, "r"),
		    &u->r0, &u->r1) < 0 || score_range(
		    cJSON_GetObjectItemCaseSensitive(it, "f"), &u->f0,
		    &u->f1) < 0) {
			err_set(e, ERR_PARSE, "%s: rule %zu (%s): \"r\" and "
			    "\"f\" must be [lo, hi] with 1 <= lo <= hi <= 5",
			    what, i, u->name);
			cJSON_Delete(root);
			rfm_map_release(map);
			return -1;
		}
	}
	cJSON_Delete(root);
	/* the first rule matching a cell names it */
	missing[0] = '\0';
	for (r = 1; r <= 5; r++)
		for (f = 1; f <= 5; f++) {
			for (k = 0; k < map->n; k++) {
				const struct rfm_rule *u = &map->rule[k];

				if (r >= u->r0 && r <= u->r1 && f >= u->f0 &&
				    f <= u->f1)
					break;
			}
			if (k < map->n)
				snprintf(map->cell[r - 1][f - 1],
				    sizeof(map->cell[0][0]), "%s",
				    map->rule[k].name);
			else if (nm++ < 8) {
				size_t l = strlen(missing);

				snprintf(missing + l, sizeof(missing) - l,
				    "%s(r %d, f %d)", l ? " " : "", r, f);
			}
		}
	if (nm > 0) {
		err_set(e, ERR_PARSE, "%s: %d of the 25 cells match no rule: "
		    "%s%s", what, nm, missing, nm > 8 ? " ..." : "");
		rfm_map_release(map);
		return -1;
	}
	return 0;
}

void
rfm_map_release(struct rfm_map *map)
{
	free(map->rule);
	memset(map, 0, sizeof(*map));
}

struct qv {
	double		 v;
	size_t		 i;
};

static int
cmp_qv(const void *a, const void *b)
{
	const struct qv *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/*
 * Quintile scores by rank; a tie group shares the score of its middle
 * place, so that many equal values (customers who never bought) do not
 * all fall to the bottom and empty the quintiles above them.
 */
void
rfm_quintiles(const double *v, size_t n, int higher_better, int *score)
{
	struct qv *q = xcalloc(n + 1, sizeof(*q));
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		q[i].v = higher_better ? v[i] : -v[i];
		q[i].i = i;
	}
	qsort(q, n, sizeof(*q), cmp_qv);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && q[j].v == q[i].v; j++)
			;
		/* places i .. j-1: the middle is (i + j - 1) / 2 */
		for (k = i; k < j; k++)
			score[q[k].i] = 1 + (int)(5 * (i + j - 1) / (2 * n));
	}
	free(q);
}

/* RFM as of at (see segment.h). */
int64_t
segment_build_rfm(struct store *s, const struct rfm_map *map, int64_t at,
    struct err *e)
{
	struct store_seg_writer *w = NULL;
	struct store_info info;
	struct store_rfm_in *in = NULL;
	int64_t *id = NULL, *segid = NULL;
	double *rec = NULL, *fr = NULL, *mo = NULL;
	int *r = NULL, *f = NULL, *m = NULL;
	size_t n = 0, i, k;
	int began = 0;
	int64_t rc = -1;
	char def[64];

	memset(&info, 0, sizeof(info));
	if (store_info_get(s, &info, e) < 0)
		goto out;
	if (at == 0)
		at = info.last_ts;
	/* every customer's last event, purchases and spend as of at */
	if (store_rfm_inputs(s, at, &in, &n, e) < 0)
		goto out;
	id = xcalloc(n + 1, sizeof(*id));
	rec = xcalloc(n + 1, sizeof(*rec));
	fr = xcalloc(n + 1, sizeof(*fr));
	mo = xcalloc(n + 1, sizeof(*mo));
	for (i = 0; i < n; i++) {
		id[i] = in[i].customer_id;
		rec[i] = (double)(at - in[i].last_ts) / 86400.0;
		fr[i] = (double)in[i].purchases;
		mo[i] = in[i].spend;
	}
	r = xcalloc(n + 1, sizeof(int));
	f = xcalloc(n + 1, sizeof(int));
	m = xcalloc(n + 1, sizeof(int));
	rfm_quintiles(rec, n, 0, r);	/* recent is better */
	rfm_quintiles(fr, n, 1, f);
	rfm_quintiles(mo, n, 1, m);
	if (store_begin(s, e) < 0)
		goto out;
	began = 1;
	if (store_seg_delete_kind(s, "rfm", e) < 0 ||
	    store_rfm_clear(s, e) < 0 ||
	    (w = store_seg_writer_new(s, e)) == NULL)
		goto out;
	segid = xcalloc(map->n + 1, sizeof(*segid));
	for (k = 0; k < map->n; k++) {
		snprintf(def, sizeof(def), "{\"r\":[%d,%d],\"f\":[%d,%d]}",
		    map->rule[k].r0, map->rule[k].r1, map->rule[k].f0,
		    map->rule[k].f1);
		/* a name given by two rules is one segment */
		for (i = 0; i < k; i++)
			if (strcmp(map->rule[i].name, map->rule[k].name) == 0)
				break;
		segid[k] = i < k ? segid[i] : store_seg_create(s,
		    map->rule[k].name, "rfm", def, (int64_t)time(NULL), e);
		if (segid[k] < 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		const char *name = map->cell[r[i] - 1][f[i] - 1];
		struct store_rfm_row row;

		for (k = 0; k < map->n; k++)
			if (strcmp(map->rule[k].name, name) == 0)
				break;
		row.customer_id = id[i];
		row.at = at;
		row.recency = rec[i];
		row.frequency = (int64_t)fr[i];
		row.monetary = mo[i];
		row.r = r[i];
		row.f = f[i];
		row.m = m[i];
		row.segment = name;
		if (store_seg_rfm(w, &row, e) < 0 ||
		    store_seg_member(w, segid[k], id[i], e) < 0)
			goto out;
	}
	store_seg_writer_free(w);
	w = NULL;
	if (store_commit(s, e) < 0)
		goto out;
	began = 0;
	rc = (int64_t)n;
out:
	store_seg_writer_free(w);
	if (began)
		store_rollback(s);
	store_info_release(&info);
	free(in);
	free(segid);
	free(id);
	free(rec);
	free(fr);
	free(mo);
	free(r);
	free(f);
	free(m);
	return rc;
}

int
segment_rfm_grid(struct store *s, int64_t grid[5][5], struct err *e)
{
	return store_rfm_grid(s, grid, e);
}

/* ---- churn-risk bands ---- */

int64_t
segment_build_bands(struct store *s, int64_t model_id, const double *cuts,
    int n_cuts, struct err *e)
{
	struct store_seg_writer *w = NULL;
	int64_t *cust = NULL, segid[17], rc = -1;
	float *churn = NULL;
	size_t n = 0, i;
	int b, began = 0;
	char name[64], def[128];

	if (n_cuts < 1 || n_cuts > 16)
		return err_set(e, ERR_USAGE, "bands: 1 to 16 cuts");
	for (b = 0; b < n_cuts; b++)
		if (!(cuts[b] > 0 && cuts[b] < 1) || (b > 0 &&
		    cuts[b] <= cuts[b - 1]))
			return err_set(e, ERR_USAGE, "bands: cuts must rise "
			    "strictly within (0, 1)");
	if (store_scores_read(s, model_id, &cust, &churn, &n, e) < 0)
		return -1;
	if (n == 0) {
		err_set(e, ERR_NOTFOUND, "no scores of this model yet "
		    "(journeyscope score DB)");
		goto out;
	}
	if (store_begin(s, e) < 0)
		goto out;
	began = 1;
	if (store_seg_delete_kind(s, "band", e) < 0 ||
	    (w = store_seg_writer_new(s, e)) == NULL)
		goto out;
	for (b = 0; b <= n_cuts; b++) {
		double lo = b ? cuts[b - 1] : 0, hi = b < n_cuts ? cuts[b] : 1;

		snprintf(name, sizeof(name), "risk %.2f-%.2f", lo, hi);
		snprintf(def, sizeof(def), "{\"model_id\":%lld,\"churn\":[%g,"
		    "%g]}", (long long)model_id, lo, hi);
		if ((segid[b] = store_seg_create(s, name, "band", def,
		    (int64_t)time(NULL), e)) < 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		for (b = 0; b < n_cuts && churn[i] >= cuts[b]; b++)
			;
		if (store_seg_member(w, segid[b], cust[i], e) < 0)
			goto out;
	}
	store_seg_writer_free(w);
	w = NULL;
	if (store_commit(s, e) < 0)
		goto out;
	began = 0;
	rc = (int64_t)n;
out:
	store_seg_writer_free(w);
	if (began)
		store_rollback(s);
	free(cust);
	free(churn);
	return rc;
}

/* ---- k-means on the model's embeddings ---- */

/* k-means++ seeding, then Lloyd (see segment.h). */
int
kmeans(const float *x, size_t n, int C, int k, uint64_t seed, int max_iter,
    int *assign, float *cent)
{
	float *d = xcalloc((size_t)k * (n < 4096 ? n : 4096) + 1,
	    sizeof(float));
	double *best = xcalloc(n + 1, sizeof(double)), *sum;
	int64_t *cnt = xcalloc((size_t)k, sizeof(int64_t));
	struct nn_rng rng;
	size_t i, j, c0;
	int c, it, changed = 1;

	nn_rng_seed(&rng, seed);
	/* k-means++: the first centre uniform, then by squared distance */
	c0 = (size_t)(nn_rng_u64(&rng) % n);
	memcpy(cent, x + c0 * C, sizeof(float) * C);
	for (i = 0; i < n; i++)
		best[i] = DBL_MAX;
	for (c = 1; c < k; c++) {
		double tot = 0, u, acc = 0;

		for (i = 0; i < n; i++) {
			double dd = 0;
			int q;

			for (q = 0; q < C; q++) {
				double t = (double)x[i * C + q] -
				    cent[(size_t)(c - 1) * C + q];

				dd += t * t;
			}
			if (dd < best[i])
				best[i] = dd;
			tot += best[i];
		}
		u = nn_rng_uniform(&rng) * tot;
		for (i = 0; i + 1 < n; i++) {
			acc += best[i];
			if (acc > u)
				break;
		}
		memcpy(cent + (size_t)c * C, x + i * C, sizeof(float) * C);
	}
	for (i = 0; i < n; i++)
		assign[i] = -1;
	sum = xcalloc((size_t)k * C, sizeof(double));
	for (it = 0; it < max_iter && changed; it++) {
		changed = 0;
		/* distances in blocks of 4096 points: one sgemm each */
		for (j = 0; j < n; j += 4096) {
			size_t nb = n - j < 4096 ? n - j : 4096, a;

			nn_sqdist(d, x + j * C, cent, (int)nb, k, C);
			for (a = 0; a < nb; a++) {
				const float *row = d + a * k;
				int bc = 0;

				for (c = 1; c < k; c++)
					if (row[c] < row[bc])
						bc = c;
				if (assign[j + a] != bc) {
					assign[j + a] = bc;
					changed = 1;
				}
			}
		}
		memset(sum, 0, sizeof(double) * (size_t)k * C);
		memset(cnt, 0, sizeof(int64_t) * (size_t)k);
		for (i = 0; i < n; i++) {
			int q;

			cnt[assign[i]]++;
			for (q = 0; q < C; q++)
				sum[(size_t)assign[i] * C + q] += x[i * C + q];
		}
		for (c = 0; c < k; c++) {
			int q;

			if (cnt[c] == 0) {
				/* an empty cluster takes a random point */
				size_t p = (size_t)(nn_rng_u64(&rng) % n);

				memcpy(cent + (size_t)c * C, x + p * C,
				    sizeof(float) * C);
				changed = 1;
				continue;
			}
			for (q = 0; q < C; q++)
				cent[(size_t)c * C + q] = (float)(sum[(size_t)c *
				    C + q] / (double)cnt[c]);
		}
	}
	free(d);
	free(best);
	free(sum);
	free(cnt);
	return it;
}

/* What the embedding pass collects. */
struct embed {
	const struct nn_model	*m;
	float			*x;		/* (n, C) */
	int64_t			*id;
	int64_t			*types;		/* (n, NT) type counts */
	int8_t			*churned;
	size_t			 n, cap;
	int64_t			 cut;		/* last event - horizon */
};

static int
embed_one(void *ctx, const struct explain_scored *sc, struct err *e)
{
	struct embed *b = ctx;
	const int C = b->m->cfg.C, NT = b->m->cfg.n_types;
	int i;

	(void)e;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4096;
		b->x = xreallocarray(b->x, b->cap, sizeof(float) * C);
		b->id = xreallocarray(b->id, b->cap, sizeof(int64_t));
		b->types = xreallocarray(b->types, b->cap, sizeof(int64_t) * NT);
		b->churned = xreallocarray(b->churned, b->cap, 1);
	}
	memcpy(b->x + b->n * C, sc->hidden, sizeof(float) * C);
	b->id[b->n] = sc->customer->id;
	memset(b->types + b->n * NT, 0, sizeof(int64_t) * NT);
	for (i = 0; i < sc->n; i++)
		b->types[b->n * NT + sc->tok[i].type]++;
	b->churned[b->n] = sc->customer->last_ts <= b->cut;
	b->n++;
	return 0;
}

struct lift {
	double	 lift;
	int	 type;
};

static int
cmp_lift(const void *a, const void *b)
{
	const struct lift *x = a, *y = b;

	if (x->lift != y->lift)
		return x->lift > y->lift ? -1 : 1;
	return x->type - y->type;
}

/* Clusters (see segment.h). */
int64_t
segment_build_clusters(struct store *s, const struct nn_model *m, int k,
    uint64_t seed, segment_progress_fn fn, void *ctx, struct err *e)
{
	const int C = m->cfg.C, NT = m->cfg.n_types;
	struct explain_batch *xb;
	struct store_seg_writer *w = NULL;
	struct store_info info;
	struct embed b;
	int *assign = NULL, c, t, r, began = 0;
	float *cent = NULL;
	int64_t *tot = NULL, *ct = NULL, rc = -1, segid;
	struct lift *lf = NULL;
	struct buf def;
	size_t i;

	memset(&b, 0, sizeof(b));
	memset(&info, 0, sizeof(info));
	buf_init(&def);
	if (k < 2 || k > 100)
		return err_set(e, ERR_USAGE, "clusters: k must be 2 to 100");
	if (store_info_get(s, &info, e) < 0)
		return -1;
	b.m = m;
	b.cut = info.last_ts - (int64_t)m->cfg.churn_horizon_days * 86400;
	store_info_release(&info);
	if ((xb = explain_batch_new(s, m, INT64_MAX, 64, e)) == NULL)
		return -1;
	while ((r = explain_batch_step(xb, embed_one, &b, e)) > 0)
		if (fn != NULL && fn(ctx, "embedding", explain_batch_done(xb),
		    explain_batch_total(xb)) != 0) {
			r = err_set(e, ERR_INTR, "clusters: cancelled");
			break;
		}
	explain_batch_free(xb);
	if (r < 0)
		goto out;
	if (b.n < (size_t)k) {
		err_set(e, ERR_USAGE, "clusters: %zu customers, fewer than k = "
		    "%d", b.n, k);
		goto out;
	}
	assign = xcalloc(b.n, sizeof(int));
	cent = xcalloc((size_t)k * C, sizeof(float));
	if (fn != NULL)
		fn(ctx, "k-means", 0, 1);
	kmeans(b.x, b.n, C, k, seed, 100, assign, cent);
	/* describe: type shares against everyone's, churn rate */
	tot = xcalloc((size_t)NT, sizeof(int64_t));
	ct = xcalloc((size_t)k * NT, sizeof(int64_t));
	lf = xcalloc((size_t)NT, sizeof(*lf));
	for (i = 0; i < b.n; i++)
		for (t = 0; t < NT; t++) {
			tot[t] += b.types[i * NT + t];
			ct[(size_t)assign[i] * NT + t] += b.types[i * NT + t];
		}
	if (store_begin(s, e) < 0)
		goto out;
	began = 1;
	if (store_seg_delete_kind(s, "cluster", e) < 0 ||
	    (w = store_seg_writer_new(s, e)) == NULL)
		goto out;
	for (c = 0; c < k; c++) {
		int64_t all = 0, sub = 0, nc = 0, ch = 0;
		char name[32];
		int q, shown = 0;

		for (t = 0; t < NT; t++) {
			all += tot[t];
			sub += ct[(size_t)c * NT + t];
		}
		for (i = 0; i < b.n; i++)
			if (assign[i] == c) {
				nc++;
				ch += b.churned[i];
			}
		for (t = 0; t < NT; t++) {
			lf[t].type = t;
			lf[t].lift = t > 1 && sub > 0 && tot[t] > 0 ?
			    ((double)ct[(size_t)c * NT + t] / sub) /
			    ((double)tot[t] / all) : 0;
		}
		qsort(lf, (size_t)NT, sizeof(*lf), cmp_lift);
		buf_reset(&def);
		buf_printf(&def, "{\"k\":%d,\"seed\":%llu,\"customers\":%lld,"
		    "\"churn_rate\":%.4f,\"over_represented\":[", k,
		    (unsigned long long)seed, (long long)nc, nc ? (double)ch /
		    nc : 0.0);
		for (q = 0; q < NT && shown < 3; q++) {
			const char *tn = vocab_type(m->vocab, lf[q].type);

			if (lf[q].lift <= 1)
				break;
			buf_printf(&def, "%s{\"type\":", shown ? "," : "");
			buf_add_json_str(&def, tn, strlen(tn));
			buf_printf(&def, ",\"lift\":%.3f}", lf[q].lift);
			shown++;
		}
		buf_adds(&def, "]}");
		snprintf(name, sizeof(name), "cluster %d", c + 1);
		if ((segid = store_seg_create(s, name, "cluster", def.data,
		    (int64_t)time(NULL), e)) < 0)
			goto out;
		for (i = 0; i < b.n; i++)
			if (assign[i] == c && store_seg_member(w, segid,
			    b.id[i], e) < 0)
				goto out;
	}
	store_seg_writer_free(w);
	w = NULL;
	if (store_commit(s, e) < 0)
		goto out;
	began = 0;
	rc = (int64_t)b.n;
out:
	store_seg_writer_free(w);
	if (began)
		store_rollback(s);
	free(b.x);
	free(b.id);
	free(b.types);
	free(b.churned);
	free(assign);
	free(cent);
	free(tot);
	free(ct);
	free(lf);
	buf_release(&def);
	return rc;
}

/* ---- filters ---- */

int64_t
segment_build_filter(struct store *s, const char *name, const char *expr,
    int *col, struct err *e)
{
	struct store_info info;
	struct filter f;
	int64_t id, n;
	char kind[32];

	if (name[0] == '\0')
		return err_set(e, ERR_USAGE, "filter: the segment needs a "
		    "name");
	if (store_seg_kind(s, name, kind, sizeof(kind), e) < 0)
		return -1;
	if (kind[0] != '\0' && strcmp(kind, "filter") != 0)
		return err_set(e, ERR_USAGE, "filter: '%s' is a segment of kind "
		    "%s; give the filter another name (or segment DB drop it "
		    "first)", name, kind);
	if (store_info_get(s, &info, e) < 0)
		return -1;
	if (filter_compile(expr, info.last_ts, &f, col, e) < 0) {
		store_info_release(&info);
		return -1;
	}
	store_info_release(&info);
	if (store_begin(s, e) < 0) {
		filter_release(&f);
		return -1;
	}
	if ((id = store_seg_create(s, name, "filter", expr, (int64_t)time(NULL),
	    e)) < 0 || (n = store_seg_fill_filter(s, id, &f, e)) < 0 ||
	    store_commit(s, e) < 0) {
		store_rollback(s);
		filter_release(&f);
		return -1;
	}
	filter_release(&f);
	return n;
}
