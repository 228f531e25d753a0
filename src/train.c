/*
 * train.c: the training loop. Windows come from train-data.c (MODEL.md's
 * protocols); each step takes a batch of windows of similar length,
 * splits it among threads that each run single-threaded BLAS on their
 * own activations and gradients, adds the gradients in thread order
 * (so the same seed and thread count give the same model, byte for
 * byte), clips them and takes an AdamW step. Losses: next-type cross
 * entropy at every position, next item by a softmax over every item or
 * a sampled one against shared uniform negatives, through the tied item
 * embedding, churn binary cross entropy at each cut-off's last event in
 * the churn windows. After each epoch the validation split scores the
 * model; the best is kept.
 */
#include "config.h"
#include "train.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "nn.h"
#include "store.h"
#include "train-int.h"
#include "util.h"

/* Windows sorted by length together before being cut into batches. */
#define BUCKET_BATCHES	32
/* Next-item scores at a time (loss_item): rows of K scores, at least one
 * (tloss_chunks takes up to 1.5 times as many). */
#define ITEM_CHUNK	(1 << 22)
/* Customers in the validation split of the churn task: 1 in this many. */
#define CHURN_HOLDOUT	10

/* --item-loss's names, in TRAIN_LOSS_* order. */
const char *const train_item_losses[TRAIN_N_LOSSES] = {
	"softmax", "bce", "softmax+bce"
};

int
train_item_loss(const char *name)
{
	int i;

	for (i = 0; i < TRAIN_N_LOSSES; i++)
		if (strcmp(name, train_item_losses[i]) == 0)
			return i;
	return -1;
}

/* Defaults. */
void
train_opts_init(struct train_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->epochs = 60;
	o->batch = 128;
	o->lr = 1e-3f;
	o->weight_decay = 0.01f;
	o->adam_eps = 3e-4f;
	o->dropout = -1;	/* train_dropout_auto */
	o->clip = 1.0f;
	o->warmup = -1;
	o->C = 64;
	o->L = 2;
	o->H = 2;
	o->max_len = 200;
	o->horizon_days = 30;
	o->threads = 2;
	o->seed = 1;
	o->patience = 5;
	o->negatives = 0;	/* every item */
	o->item_loss = TRAIN_LOSS_SOFTMAX;
	o->bce_negatives = 1;	/* SASRec's, when a loss has the BCE */
	o->cache_mb = 1024;
	o->churn_cutoffs = 6;
}

/* The store's vocabularies: types by count, items with events (TOK_ITEM_MIN). */
struct vocab *
train_store_vocab(struct store *s, struct err *e)
{
	char **types = NULL, **items = NULL;
	size_t nt = 0, ni = 0, i;
	struct vocab *v = NULL;

	if (store_type_names(s, &types, &nt, e) == 0 &&
	    store_item_ids(s, TOK_ITEM_MIN, TOK_ITEM_MAX, &items, &ni,
	    e) == 0)
		v = vocab_new((const char *const *)types, nt,
		    (const char *const *)items, ni);
	for (i = 0; i < nt; i++)
		free(types[i]);
	for (i = 0; i < ni; i++)
		free(items[i]);
	free(types);
	free(items);
	return v;
}

/* Loss sums of a step or an epoch. */
struct loss {
	double		 type, item, churn;
	int64_t		 n_type, n_item, n_churn;
};

/* One thread's share of a step. */
struct worker {
	struct trainer	*tr;
	pthread_t	 th;
	int		 id;
	struct nn_acts	*a;
	struct nn_grads	*g;
	struct tbatch	 tb;
	struct tloss	 l;
	const uint32_t	*idx;		/* this step's windows */
	int		 n, window0;
	double		 norm2;		/* of its range of the gradients */
};

struct trainer {
	const struct train_opts	*o;
	struct nn_model		*m;
	struct nn_grads		*mo, *ve;	/* AdamW moments */
	struct worker		*w;
	int			 nw;
	pthread_barrier_t	 start, end;
	int			 quit;
	const struct tset	*set;		/* the step's windows */
	int			*neg;		/* (K) this step's negatives */
	const float		*eneg;		/* (K, C) their embeddings: */
	float			*eneg_buf;	/* sampled, copied here; every
						 * item, the model's own */
	int			 K;
	int			 full;		/* the negatives: every item */
	int64_t			 n_type, n_item, n_churn; /* the batch's */
	struct nn_rng		 rng;
	uint64_t		 drop_seed;	/* this step's */
	struct nn_adamw		 ad;		/* this step's optimiser */
	int			 step;
	float			 gscale;	/* clipping, from the norm */
	unsigned		 tasks;
};

/* Seconds on the monotonic clock. */
static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Buffers of the losses for batches up to (B, T), K negatives. */
void
tloss_init(struct tloss *l, const struct nn_model *m, int B, int T, int K)
{
	const size_t BT = (size_t)B * T, C = (size_t)m->cfg.C;
	const size_t K1 = K > 0 ? (size_t)K : 1;	/* buffers never empty */
	size_t rows;

	memset(l, 0, sizeof(*l));
	l->m = m;
	l->K = K;
	l->dlnf = xcalloc(BT * C, sizeof(float));
	l->dlogits = xcalloc(BT * (size_t)m->cfg.n_types, sizeof(float));
	l->z = xcalloc(BT * C, sizeof(float));
	l->et = xcalloc(BT * C, sizeof(float));
	l->dz = xcalloc(BT * C, sizeof(float));
	/* loss_item's scores, a chunk of rows at a time */
	rows = K1 < ITEM_CHUNK ? ITEM_CHUNK / K1 : 1;
	l->chunk = (int)(rows < BT ? rows : BT);
	l->sneg = xcalloc((size_t)(l->chunk + l->chunk / 2) * K1,
	    sizeof(float));
	l->deneg = xcalloc(K1 * C, sizeof(float));
	l->rows = xcalloc(BT, sizeof(int));
	l->row = xcalloc(K1 + 1, sizeof(float));
}

void
tloss_release(struct tloss *l)
{
	free(l->dlnf);
	free(l->dlogits);
	free(l->z);
	free(l->et);
	free(l->dz);
	free(l->sneg);
	free(l->deneg);
	free(l->rows);
	free(l->row);
	memset(l, 0, sizeof(*l));
}

/* Next-type cross entropy at every position with a target. */
static void
loss_type(struct tloss *l, struct nn_acts *a, struct nn_grads *g,
    const struct tbatch *tb, float scale)
{
	const struct nn_model *m = l->m;
	const int NT = m->cfg.n_types, C = m->cfg.C, BT = tb->b * tb->t;
	int r, j;

	memset(l->dlogits, 0, sizeof(float) * (size_t)BT * NT);
	for (r = 0; r < BT; r++) {
		const int y = tb->tt[r];
		const float *lg = a->type_logits + (size_t)r * NT;
		float *d = l->dlogits + (size_t)r * NT, mx = lg[0], s = 0;

		if (y <= 0)
			continue;
		for (j = 1; j < NT; j++)
			if (lg[j] > mx)
				mx = lg[j];
		for (j = 0; j < NT; j++)
			s += (d[j] = expf(lg[j] - mx));
		l->type += -(lg[y] - mx - logf(s));
		l->c_type++;
		for (j = 0; j < NT; j++)
			d[j] = d[j] / s * scale;
		d[y] -= scale;
	}
	nn_matmul_backward(l->dlnf, g->p.type_w, g->p.type_b, l->dlogits,
	    a->lnf, m->p.type_w, BT, C, NT);
}

/*
 * How many chunks to score np item targets in: np / chunk rounded, at
 * least 1; chunk k of n holds rows [np k / n, np (k + 1) / n), at most 1.5
 * chunk (sneg's rows). Each chunk packs the whole embedding for its
 * sgemms again, so a last chunk of a few rows costs almost as much as a
 * full one: 376 rows as 188 + 188 rather than 177 + 177 + 22 (Video)
 * score 5% faster.
 */
int
tloss_chunks(int np, int chunk)
{
	int n = (np + chunk / 2) / chunk;

	if (n < 1)
		n = 1;
	assert((np + n - 1) / n <= chunk + chunk / 2);
	return n;
}

/*
 * The full softmax (l->full: the negatives are the K known items in
 * order, the target among them): each row's scores turn into its
 * gradient in place, and the embeddings' part goes straight into their
 * gradient's rows. dz (np, C) zeroed by the caller.
 */
static void
item_full(struct tloss *l, float *gE, const struct tbatch *tb, float scale,
    int np)
{
	const int C = l->m->cfg.C, K = l->K, n = tloss_chunks(np, l->chunk);
	float *gneg = gE + (size_t)(TOK_UNK + 1) * C;
	int j, j0, nc, k;

	for (k = 0; k < n; k++) {
		j0 = (int)((int64_t)np * k / n);
		nc = (int)((int64_t)np * (k + 1) / n) - j0;
		nn_matmul_forward(l->sneg, l->z + (size_t)j0 * C, l->eneg,
		    NULL, nc, C, K);
		for (j = j0; j < j0 + nc; j++) {
			const int y = tb->ti[l->rows[j]] - (TOK_UNK + 1);
			float *x = l->sneg + (size_t)(j - j0) * K, v;

			assert(y >= 0 && y < K);
			v = nn_softmax_xent_row(x, K, y, scale);
			if (isnan(v)) {	/* an item far above the target */
				nn_matmul_forward(x, l->z + (size_t)j * C,
				    l->eneg, NULL, 1, C, K);
				v = nn_softmax_xent_row_max(x, K, y, scale);
			}
			l->item += v;
			l->c_item++;
		}
		nn_matmul_backward(l->dz + (size_t)j0 * C, gneg, NULL,
		    l->sneg, l->z + (size_t)j0 * C, l->eneg, nc, C, K);
	}
}

/*
 * Sampled negatives: a softmax over the true item and the step's K
 * shared negatives (a negative equal to the target left out). The
 * negatives' gradient gathers in deneg, then goes to their rows of gE.
 * dz (np, C) zeroed by the caller.
 */
static void
item_sampled(struct tloss *l, float *gE, const struct tbatch *tb,
    float scale, int np)
{
	const struct nn_model *m = l->m;
	const int C = m->cfg.C, K = l->K, n = tloss_chunks(np, l->chunk);
	int j, j0, nc, c, k;

	for (j = 0; j < np; j++)
		memcpy(l->et + (size_t)j * C, m->p.emb_item +
		    (size_t)tb->ti[l->rows[j]] * C, sizeof(float) * C);
	memset(l->deneg, 0, sizeof(float) * (size_t)K * C);
	for (k = 0; k < n; k++) {
		j0 = (int)((int64_t)np * k / n);
		nc = (int)((int64_t)np * (k + 1) / n) - j0;
		/* sneg(nc, K) = Z . Eneg^T */
		nn_matmul_forward(l->sneg, l->z + (size_t)j0 * C, l->eneg,
		    NULL, nc, C, K);
		for (j = j0; j < j0 + nc; j++) {
			const int y = tb->ti[l->rows[j]];
			const float *zj = l->z + (size_t)j * C;
			const float *ej = l->et + (size_t)j * C;
			float *sn = l->sneg + (size_t)(j - j0) * K, *row = l->row;
			float *dzj = l->dz + (size_t)j * C, s0 = 0, d0;
			float *ge = gE + (size_t)y * C;

			for (c = 0; c < C; c++)
				s0 += zj[c] * ej[c];
			/* the row [true, negatives...], a negative equal to
			 * the target left out, through the vector softmax */
			row[0] = s0;
			for (c = 0; c < K; c++)
				row[c + 1] = l->neg[c] != y ? sn[c] : -INFINITY;
			nn_softmax_forward(row, row, 1, K + 1);
			l->item += -logf(row[0] > 1e-30f ? row[0] : 1e-30f);
			l->c_item++;
			d0 = (row[0] - 1.0f) * scale;
			for (c = 0; c < K; c++)
				sn[c] = l->neg[c] != y ? row[c + 1] * scale : 0;
			for (c = 0; c < C; c++) {
				dzj[c] += d0 * ej[c];
				ge[c] += d0 * zj[c];
			}
		}
		/* dZ += dS . Eneg; dEneg += dS^T . Z */
		nn_matmul_backward(l->dz + (size_t)j0 * C, l->deneg, NULL,
		    l->sneg, l->z + (size_t)j0 * C, l->eneg, nc, C, K);
	}
	for (j = 0; j < K; j++) {
		float *ge = gE + (size_t)l->neg[j] * C;
		const float *d = l->deneg + (size_t)j * C;

		for (c = 0; c < C; c++)
			ge[c] += d[c];
	}
}

/* Stream of window w's position t (as drop_rng: any split, same draws). */
int
tloss_bce_negative(uint64_t seed, int w, int t, int k, int y, int K)
{
	struct nn_rng r;
	int it;

	if (K < 2)
		return -1;
	nn_rng_seed(&r, seed ^ ((uint64_t)(w + 1) * 0x9e3779b97f4a7c15ULL) ^
	    ((uint64_t)(t * (TRAIN_BCE_MAX + 1) + k + 1) *
	    0xd1b54a32d192ed03ULL));
	do
		it = TOK_UNK + 1 + (int)(nn_rng_u64(&r) % (uint64_t)K);
	while (it == y);
	return it;
}

/* log(1 + e^x), stable. */
static float
softplus(float x)
{
	return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

/*
 * SASRec's binary cross entropy: at each position, the target's score
 * against l->bce negatives of its own, uniform over the known items
 * (tloss_bce_negative), -log sigmoid(s_y) - sum log sigmoid(-s_n). A
 * dot product a pair: no sgemm, so each position may draw other items.
 * dz (np, C) zeroed by the caller.
 */
static void
item_bce(struct tloss *l, float *gE, const struct tbatch *tb, float scale,
    int np)
{
	const int C = l->m->cfg.C;
	const float *E = l->m->p.emb_item;
	int j, k, c, it;

	for (j = 0; j < np; j++) {
		const int r = l->rows[j], y = tb->ti[r];
		const float *zj = l->z + (size_t)j * C;
		float *dzj = l->dz + (size_t)j * C;

		for (k = 0; k <= l->bce; k++) {
			const float *e;
			float *ge, s = 0, d;

			it = k == 0 ? y : tloss_bce_negative(l->bce_seed,
			    l->window0 + r / tb->t, r % tb->t, k, y, l->K);
			if (it < 0)
				break;
			e = E + (size_t)it * C;
			ge = gE + (size_t)it * C;
			for (c = 0; c < C; c++)
				s += zj[c] * e[c];
			/* d/ds: sigmoid(s) - 1 for the target, sigmoid(s) */
			l->item += softplus(k == 0 ? -s : s);
			d = (1.0f / (1.0f + expf(-s)) - (k == 0)) * scale;
			for (c = 0; c < C; c++) {
				dzj[c] += d * e[c];
				ge[c] += d * zj[c];
			}
		}
		if (!l->both)	/* else item_full counts the position */
			l->c_item++;
	}
}

/*
 * Next item, through the item embedding tied to the input's: the full
 * softmax (item_full) or sampled negatives (item_sampled), over the
 * positions with a known target item. Rows go about ITEM_CHUNK / K at a
 * time (tloss_chunks), so the scores take the same memory whatever
 * the batch.
 */
static void
loss_item(struct tloss *l, struct nn_acts *a, struct nn_grads *gr,
    const struct tbatch *tb, float scale)
{
	const int C = l->m->cfg.C, BT = tb->b * tb->t;
	int r, j, np = 0, c;

	for (r = 0; r < BT; r++)
		if (tb->ti[r] > TOK_UNK)
			l->rows[np++] = r;
	if (np == 0)
		return;
	for (j = 0; j < np; j++)
		memcpy(l->z + (size_t)j * C, a->lnf + (size_t)l->rows[j] * C,
		    sizeof(float) * C);
	memset(l->dz, 0, sizeof(float) * (size_t)np * C);
	if (l->bce > 0)
		item_bce(l, gr->p.emb_item, tb, scale, np);
	if (l->bce == 0 || l->both) {
		if (l->full)
			item_full(l, gr->p.emb_item, tb, scale, np);
		else
			item_sampled(l, gr->p.emb_item, tb, scale, np);
	}
	for (j = 0; j < np; j++) {
		float *dl = l->dlnf + (size_t)l->rows[j] * C;
		const float *d = l->dz + (size_t)j * C;

		for (c = 0; c < C; c++)
			dl[c] += d[c];
	}
}

/*
 * Churn: binary cross entropy at each position of churn windows that
 * holds labels (c0 of 0, c1 of 1: cut-offs whose window ends there).
 */
static void
loss_churn(struct tloss *l, struct nn_acts *a, struct nn_grads *gr,
    const struct tbatch *tb, float scale)
{
	const struct nn_model *m = l->m;
	const int C = m->cfg.C, BT = tb->b * tb->t;
	struct nn_params *g = &gr->p;
	int r, c;

	for (r = 0; r < BT; r++) {
		const int n0 = tb->c0[r], n1 = tb->c1[r];
		const float *z = a->lnf + (size_t)r * C;
		float *dl = l->dlnf + (size_t)r * C, lg = m->p.churn_b[0], p, d,
		    sp;

		if (n0 + n1 == 0)
			continue;
		for (c = 0; c < C; c++)
			lg += z[c] * m->p.churn_w[c];
		p = 1.0f / (1.0f + expf(-lg));
		/* -log p(y), stable: softplus(lg) - y lg, n0 + n1 times */
		sp = softplus(lg);
		l->churn += (double)(n0 + n1) * sp - (double)n1 * lg;
		l->c_churn += n0 + n1;
		d = ((float)(n0 + n1) * p - (float)n1) * scale;
		for (c = 0; c < C; c++) {
			dl[c] += d * m->p.churn_w[c];
			g->churn_w[c] += d * z[c];
		}
		g->churn_b[0] += d;
	}
}

/* The losses of a batch after its NN_FULL forward (train-int.h). */
void
tloss_batch(struct tloss *l, struct nn_acts *a, struct nn_grads *g,
    const struct tbatch *tb)
{
	memset(l->dlnf, 0, sizeof(float) * (size_t)tb->b * tb->t *
	    l->m->cfg.C);
	l->type = l->item = l->churn = 0;
	l->c_type = l->c_item = l->c_churn = 0;
	if ((l->tasks & TRAIN_TYPE) && l->n_type > 0)
		loss_type(l, a, g, tb, 1.0f / (float)l->n_type);
	if ((l->tasks & TRAIN_ITEM) && l->n_item > 0 && l->K > 0)
		loss_item(l, a, g, tb, 1.0f / (float)l->n_item);
	if ((l->tasks & TRAIN_CHURN) && l->n_churn > 0)
		loss_churn(l, a, g, tb, 1.0f / (float)l->n_churn);
}

/* Forward, losses and backward of one worker's windows. */
static void	worker_finish(struct worker *);

static void
worker_step(struct worker *w)
{
	struct trainer *tr = w->tr;
	const struct nn_model *m = tr->m;

	nn_zero_grad(w->g);
	w->l.type = w->l.item = w->l.churn = 0;
	w->l.c_type = w->l.c_item = w->l.c_churn = 0;
	if (w->n == 0)
		return;
	tbatch_fill(&w->tb, tr->set, w->idx, w->n);
	nn_acts_dropout(w->a, tr->o->dropout, tr->drop_seed, w->window0);
	nn_forward(m, w->a, w->tb.tok, w->tb.len, w->tb.b, w->tb.t, NN_FULL,
	    0);
	w->l.tasks = tr->tasks;
	w->l.neg = tr->neg;
	w->l.eneg = tr->eneg;
	w->l.full = tr->full;
	w->l.bce = tr->o->item_loss != TRAIN_LOSS_SOFTMAX ?
	    tr->o->bce_negatives : 0;
	w->l.both = tr->o->item_loss == TRAIN_LOSS_BOTH;
	w->l.bce_seed = tr->drop_seed ^ 0x6263652d6e6567ULL;
	w->l.window0 = w->window0;
	w->l.n_type = tr->n_type;
	w->l.n_item = tr->n_item;
	w->l.n_churn = tr->n_churn;
	tloss_batch(&w->l, w->a, w->g, &w->tb);
	nn_backward(m, w->g, w->a, w->tb.tok, w->l.dlnf);
}

/* This worker's share [lo, hi) of the parameters, 64-float aligned. */
static void
param_range(const struct trainer *tr, int id, size_t *lo, size_t *hi)
{
	size_t n = tr->m->n_params, per = (n / tr->nw + 63) & ~(size_t)63;

	*lo = per * id < n ? per * id : n;
	*hi = id == tr->nw - 1 || *lo + per > n ? n : *lo + per;
}

/*
 * After every worker's backward: on this worker's range of parameters,
 * add the other workers' gradients into worker 0's (in worker order),
 * the range's sum of squares; then, once worker 0 has the clipping
 * scale, AdamW on the range. Barriers between the phases.
 */
static void
worker_finish(struct worker *w)
{
	struct trainer *tr = w->tr;
	float *g0 = tr->w[0].g->mem;
	size_t lo, hi;
	int i;

	pthread_barrier_wait(&tr->end);
	param_range(tr, w->id, &lo, &hi);
	for (i = 1; i < tr->nw; i++)
		nn_residual_forward(g0 + lo, g0 + lo, tr->w[i].g->mem + lo,
		    (int)(hi - lo));
	w->norm2 = nn_sumsq(g0 + lo, hi - lo);
	pthread_barrier_wait(&tr->end);
	if (w->id == 0) {
		double norm2 = 0;

		for (i = 0; i < tr->nw; i++)
			norm2 += tr->w[i].norm2;
		tr->gscale = tr->o->clip > 0 && sqrt(norm2) > tr->o->clip ?
		    (float)(tr->o->clip / sqrt(norm2)) : 1.0f;
	}
	pthread_barrier_wait(&tr->end);
	nn_adamw_range(tr->m, tr->w[0].g, tr->mo, tr->ve, &tr->ad, tr->step,
	    tr->gscale, lo, hi);
	pthread_barrier_wait(&tr->end);
}

/* A worker thread: one slice per step until told to quit. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	nn_blas_threads(1);
	for (;;) {
		pthread_barrier_wait(&w->tr->start);
		if (w->tr->quit)
			break;
		worker_step(w);
		worker_finish(w);
	}
	return NULL;
}

/* Allocate a worker's buffers for batches up to (B, T). */
static int
worker_init(struct worker *w, struct trainer *tr, int B, int T,
    struct err *e)
{
	w->tr = tr;
	if ((w->a = nn_acts_new(&tr->m->cfg, B, T, NN_TRAIN, e)) == NULL ||
	    (w->g = nn_grads_new(tr->m, e)) == NULL)
		return -1;
	tbatch_init(&w->tb, B, T);
	tloss_init(&w->l, tr->m, B, T, tr->K);
	return 0;
}

static void
worker_release(struct worker *w)
{
	nn_acts_free(w->a);
	nn_grads_free(w->g);
	if (w->tb.tok != NULL)
		tbatch_release(&w->tb);
	tloss_release(&w->l);
}

/*
 * One optimisation step over windows idx[0..n) of set at learning rate
 * lr: the batch split among the workers by windows, in contiguous shares
 * (plan_epoch dealt the batch for that: train_deal_batch), gradients
 * summed in worker order, clipped, AdamW. Adds the losses to *sum.
 */
static void
train_step(struct trainer *tr, const struct tset *set, const uint32_t *idx,
    int n, float lr, int step, struct loss *sum)
{
	const struct nn_model *m = tr->m;
	const int NI = m->cfg.n_items, C = m->cfg.C;
	struct nn_adamw ad = { lr, 0.9f, 0.98f, tr->o->adam_eps,
	    tr->o->weight_decay };
	float gscale = 1.0f;
	double norm;
	int i, k, per;

	tr->set = set;
	tr->n_type = tr->n_item = tr->n_churn = 0;
	for (i = 0; i < n; i++) {
		const struct tsample *x = &set->s[idx[i]];

		if (x->kind == TS_CHURN)
			for (k = 0; k < x->n; k++)
				tr->n_churn += set->c0[x->off + k] +
				    set->c1[x->off + k];
		else
			for (k = 0; k < x->n; k++) {
				tr->n_type += set->tt[x->off + k] > 0;
				tr->n_item += set->ti[x->off + k] > TOK_UNK;
			}
	}
	/* the step's negatives, uniform over the known items */
	for (k = 0; !tr->full && k < tr->K; k++) {
		tr->neg[k] = NI > TOK_UNK + 1 ? TOK_UNK + 1 +
		    (int)(nn_rng_u64(&tr->rng) % (uint64_t)(NI - TOK_UNK - 1)) :
		    TOK_UNK;
		memcpy(tr->eneg_buf + (size_t)k * C, m->p.emb_item +
		    (size_t)tr->neg[k] * C, sizeof(float) * C);
	}
	tr->drop_seed = nn_rng_u64(&tr->rng);
	per = (n + tr->nw - 1) / tr->nw;
	for (i = 0; i < tr->nw; i++) {
		struct worker *w = &tr->w[i];
		int lo = i * per < n ? i * per : n, hi = lo + per < n ? lo + per : n;

		w->idx = idx + lo;
		w->n = hi - lo;
		w->window0 = lo;
	}
	tr->ad = ad;
	tr->step = step;
	if (tr->nw > 1)
		pthread_barrier_wait(&tr->start);
	worker_step(&tr->w[0]);
	if (tr->nw > 1)
		worker_finish(&tr->w[0]);
	for (i = 0; i < tr->nw; i++) {
		sum->type += tr->w[i].l.type;
		sum->item += tr->w[i].l.item;
		sum->churn += tr->w[i].l.churn;
		sum->n_type += tr->w[i].l.c_type;
		sum->n_item += tr->w[i].l.c_item;
		sum->n_churn += tr->w[i].l.c_churn;
	}
	if (tr->nw > 1)
		return;		/* worker_finish did the rest */
	norm = sqrt(nn_grads_norm2(tr->w[0].g));
	if (tr->o->clip > 0 && norm > tr->o->clip)
		gscale = (float)(tr->o->clip / norm);
	nn_adamw_step(tr->m, tr->w[0].g, tr->mo, tr->ve, &ad, step, gscale);
}

/* ---- data for training ---- */

struct tdata {
	const struct train_opts	*o;
	const struct vocab	*v;
	unsigned		 tasks;
	int64_t			 T, T1, H;	/* cut-offs, horizon (s) */
	struct tset		 train;
	struct tset		*val;		/* NULL: not building it */
	size_t			 cap_bytes;	/* of train: a chunk */
	int32_t			*items;
	size_t			 icap;
	int64_t			*cuts;		/* (churn_cutoffs) scratch */
	int8_t			*labels;
	struct universe		 u;		/* validation: the vocabulary */
	int64_t			 customers, total;
	train_progress_fn	 fn;
	void			*ctx;
	int			 stopped;
};

/* Is this customer in the churn task's validation split? */
static int
churn_holdout(uint64_t seed, int64_t customer)
{
	return hash_bytes(&customer, sizeof(customer), seed ^ 0x686f6c64) %
	    CHURN_HOLDOUT == 0;
}

/* Walk callback: one customer's training and validation windows. */
static int
tdata_customer(void *ctx, int64_t cust, const struct store_history *h,
    struct err *e)
{
	struct tdata *d = ctx;
	const struct train_opts *o = d->o;
	const size_t N = h->n;

	(void)e;
	if (d->tasks & (TRAIN_TYPE | TRAIN_ITEM)) {
		if (o->all || N < 3)
			tset_add_seq(&d->train, d->v, h, N, o->max_len, cust);
		else {
			tset_add_seq(&d->train, d->v, h, N - 2, o->max_len,
			    cust);
			if (d->val != NULL) {
				size_t nt = hist_items(&d->u, d->v, h, N - 2,
				    &d->items, &d->icap);

				tset_add_next(d->val, d->v, &d->u, h, N - 2,
				    o->max_len, d->items, nt, cust);
			}
		}
	}
	if (d->tasks & TRAIN_CHURN) {
		int64_t cut = o->all ? d->T : d->T1;
		int i, hold = !o->all && churn_holdout(o->seed, cust),
		    n = hold ? 1 : o->churn_cutoffs;

		/*
		 * Training labels at the cut-off and at earlier ones, a
		 * horizon apart: each label still ends at the latest cut-off
		 * or before, so none looks past T. Validation: the latest.
		 */
		for (i = 0; i < n; i++, cut -= d->H) {
			d->cuts[i] = cut;
			d->labels[i] = (int8_t)hist_churned(h, cut, d->H);
		}
		if (!hold)
			tset_add_churns(&d->train, d->v, h, d->cuts, d->labels,
			    n, o->max_len, cust);
		else if (d->val != NULL)
			tset_add_churn(d->val, d->v, h, d->cuts[0], o->max_len,
			    d->labels[0], cust);
	}
	d->customers++;
	if (d->fn != NULL && d->customers % 256 == 0) {
		struct train_progress p;

		memset(&p, 0, sizeof(p));
		p.phase = "reading";
		p.done = d->customers;
		p.total = d->total;
		if (d->fn(d->ctx, &p) != 0) {
			d->stopped = 1;
			return 1;
		}
	}
	return tset_bytes(&d->train) >= d->cap_bytes;
}

/* ---- validation ---- */

/* The validation score (higher is better) and its parts. */
struct val {
	double		 score, ndcg10, hr10, type_acc, auc, logloss;
};

static void
validate(struct trainer *tr, const struct tset *val,
    const struct universe *u, struct nn_acts *a, struct tbatch *tb,
    struct val *out)
{
	uint32_t *in = xcalloc(val->n + 1, sizeof(uint32_t)),
	    *ic = xcalloc(val->n + 1, sizeof(uint32_t));
	size_t nn = 0, nc = 0, i;
	struct rank_metrics rm;
	float *p;
	int8_t *y;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < val->n; i++)
		if (val->s[i].kind == TS_NEXT)
			in[nn++] = (uint32_t)i;
		else
			ic[nc++] = (uint32_t)i;
	if (nn > 0) {
		train_rank_metrics(tr->m, a, tb, val, u, in, nn, 0x76616c,
		    0, &rm);
		out->ndcg10 = rm.ndcg10;
		out->hr10 = rm.hr10;
		out->type_acc = rm.type_acc;
		/* a part with nothing to measure adds nothing */
		if ((tr->tasks & TRAIN_ITEM) && isfinite(rm.ndcg10))
			out->score += rm.ndcg10;
		if ((tr->tasks & TRAIN_TYPE) && isfinite(rm.type_acc))
			out->score += rm.type_acc;
	}
	if (nc > 0) {
		p = xcalloc(nc, sizeof(float));
		y = xcalloc(nc, sizeof(int8_t));
		train_score(tr->m, a, tb, val, ic, nc, p, NULL, NULL);
		for (i = 0; i < nc; i++)
			y[i] = val->s[ic[i]].label;
		out->auc = metric_auc(p, y, nc);
		out->logloss = metric_logloss(p, y, nc);
		if (!isnan(out->auc))
			out->score += out->auc;
		free(p);
		free(y);
	}
	free(in);
	free(ic);
}

/* ---- the loop ---- */

/* Fisher-Yates with the trainer's generator. */
static void
shuffle(uint32_t *v, size_t n, struct nn_rng *r)
{
	size_t i, j;
	uint32_t t;

	for (i = n; i > 1; i--) {
		j = (size_t)(nn_rng_u64(r) % i);
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

static const struct tset *cmp_set;
/* Longer first; ties by index (deterministic). */
static int
cmp_len(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int nx = cmp_set->s[x].n, ny = cmp_set->s[y].n;

	if (nx != ny)
		return ny - nx;
	return (x > y) - (x < y);
}

/*
 * A batch's n windows, longest first in sorted, into out in bit-reversed
 * order of their ranks: the evens, then the odds, each half the same way.
 * Workers take contiguous shares (train_step), so 2 (or 4, ...) of them
 * get windows of near-equal lengths and finish their steps together;
 * the longest first would leave the first worker 8% more tokens (Video,
 * --max-len 50). The order does not depend on the thread count. Returns n.
 */
size_t
train_deal_batch(uint32_t *out, const uint32_t *sorted, size_t n)
{
	size_t bits = 0, r, i, k = 0, b;

	while (((size_t)1 << bits) < n)
		bits++;
	for (r = 0; r < ((size_t)1 << bits); r++) {
		for (i = 0, b = 0; b < bits; b++)
			i |= ((r >> b) & 1) << (bits - 1 - b);
		if (i < n)
			out[k++] = sorted[i];
	}
	assert(k == n);
	return n;
}

/*
 * The order of one pass over a set: shuffled, then sorted by length in
 * buckets of BUCKET_BATCHES batches, the batches in shuffled order, each
 * batch's windows dealt (train_deal_batch).
 * Fills order (n) and starts (batches + 1); returns the batch count.
 */
static size_t
plan_epoch(const struct tset *set, int B, struct nn_rng *r, uint32_t *order,
    uint32_t *tmp, size_t *starts)
{
	size_t n = set->n, i, k, nb = 0, bucket = (size_t)B * BUCKET_BATCHES;
	uint32_t *perm;

	for (i = 0; i < n; i++)
		tmp[i] = (uint32_t)i;
	shuffle(tmp, n, r);
	cmp_set = set;
	for (i = 0; i < n; i += bucket)
		qsort(tmp + i, n - i < bucket ? n - i : bucket,
		    sizeof(uint32_t), cmp_len);
	nb = (n + (size_t)B - 1) / (size_t)B;
	perm = xcalloc(nb + 1, sizeof(uint32_t));
	for (i = 0; i < nb; i++)
		perm[i] = (uint32_t)i;
	shuffle(perm, nb, r);
	for (i = 0, k = 0; i < nb; i++) {
		size_t lo = (size_t)perm[i] * B, hi = lo + (size_t)B < n ?
		    lo + (size_t)B : n;

		starts[i] = k;
		k += train_deal_batch(order + k, tmp + lo, hi - lo);
	}
	starts[nb] = k;
	free(perm);
	return nb;
}

/* The learning rate at step s of total: linear warm-up, cosine to 10%. */
static float
lr_at(const struct train_opts *o, int64_t s, int64_t total, int64_t warmup)
{
	double f;

	if (s < warmup)
		return o->lr * (float)(s + 1) / (float)warmup;
	f = total > warmup ? (double)(s - warmup) / (double)(total - warmup) :
	    1;
	if (f > 1)
		f = 1;
	return (float)(o->lr * (0.1 + 0.9 * 0.5 * (1 + cos(M_PI * f))));
}

/* The settings written into the model file's config (JSON members). */
static char *
settings_json(const struct train_opts *o, unsigned tasks, int64_t T,
    int epochs_run, int best_epoch)
{
	struct buf b;
	char *s;

	buf_init(&b);
	buf_printf(&b, "{\"trained\":true,\"tasks\":[%s%s%s%s%s],"
	    "\"epochs\":%d,\"epochs_run\":%d,\"best_epoch\":%d,\"batch\":%d,"
	    "\"lr\":%g,\"weight_decay\":%g,\"adam_eps\":%g,\"dropout\":%g,"
	    "\"clip\":%g,"
	    "\"negatives\":%d,\"item_loss\":\"%s\",\"bce_negatives\":%d,"
	    "\"seed\":%llu,"
	    "\"threads\":%d,",
	    tasks & TRAIN_CHURN ? "\"churn\"" : "",
	    (tasks & TRAIN_CHURN) && (tasks & (TRAIN_TYPE | TRAIN_ITEM)) ?
	    "," : "", tasks & TRAIN_TYPE ? "\"next-type\"" : "",
	    (tasks & TRAIN_TYPE) && (tasks & TRAIN_ITEM) ? "," : "",
	    tasks & TRAIN_ITEM ? "\"next-item\"" : "", o->epochs, epochs_run,
	    best_epoch, o->batch, (double)o->lr, (double)o->weight_decay,
	    (double)o->adam_eps, (double)o->dropout, (double)o->clip,
	    o->negatives,
	    train_item_losses[o->item_loss], o->item_loss !=
	    TRAIN_LOSS_SOFTMAX ? o->bce_negatives : 0,
	    (unsigned long long)o->seed, o->threads);
	/* the churn cut-off only when there is a churn task */
	if (tasks & TRAIN_CHURN)
		buf_printf(&b, "\"cutoff\":%lld,\"churn_cutoffs\":%d,",
		    (long long)T, o->churn_cutoffs);
	buf_printf(&b, "\"all\":%s}", o->all ? "true" : "false");
	s = xstrdup(b.data);
	buf_release(&b);
	return s;
}

/* The default dropout for a store (train.h). */
float
train_dropout_auto(int64_t customers, int64_t events)
{
	return events < (int64_t)TRAIN_SPARSE_EVENTS * customers ? 0.5f : 0.2f;
}

/* Train (see train.h). */
int
train_run(struct store *s, const struct train_opts *opts,
    train_progress_fn fn, void *ctx, struct train_result *res, struct err *e)
{
	struct train_opts ro = *opts;	/* with the defaults resolved */
	const struct train_opts *o = &ro;
	struct trainer tr;
	struct tdata d;
	struct tset val;
	struct store_info info;
	struct nn_config cfg;
	struct nn_acts *va = NULL;
	struct tbatch vtb;
	struct val vs;
	struct nn_rng rng;
	struct train_progress p;
	float *best = NULL;
	uint32_t *order = NULL, *tmp = NULL;
	size_t *starts = NULL, nb, bi, cap = 0;
	int64_t last, steps_total = 0, warmup = 1, gstep = 0;
	double t0 = mono(), tok_count = 0, best_val = -INFINITY, t_steps = 0;
	int epoch, rc = -1, i, cached = 0, best_epoch = 0, epochs_run = 0,
	    since_best = 0, threads_started = 0;
	char *extra = NULL, *cfgjson = NULL;
	void *img = NULL;
	size_t len;

	memset(res, 0, sizeof(*res));
	memset(&tr, 0, sizeof(tr));
	memset(&d, 0, sizeof(d));
	memset(&info, 0, sizeof(info));
	memset(&vtb, 0, sizeof(vtb));
	tset_init(&val);
	tset_init(&d.train);
	if (store_info_get(s, &info, e) < 0)
		return -1;
	if (info.events == 0) {
		store_info_release(&info);
		return err_set(e, ERR_USAGE, "%s: the store has no events to "
		    "train on", store_path(s));
	}
	if (ro.dropout < 0)
		ro.dropout = train_dropout_auto(info.customers, info.events);
	/* tasks: churn needs real times, next item needs items */
	d.tasks = o->tasks ? o->tasks : TRAIN_ALL_TASKS;
	if (!o->tasks && info.sequence_time)
		d.tasks &= ~TRAIN_CHURN;
	if (o->tasks & TRAIN_CHURN && info.sequence_time) {
		store_info_release(&info);
		return err_set(e, ERR_USAGE, "%s: the churn task needs real "
		    "timestamps, and this store has only an event order",
		    store_path(s));
	}
	d.H = (int64_t)o->horizon_days * 86400;
	d.T = o->cutoff ? o->cutoff : info.last_ts - d.H;
	d.T1 = d.T - d.H;
	d.o = o;
	d.total = info.customers;
	d.fn = fn;
	d.ctx = ctx;
	d.cap_bytes = o->cache_mb << 20;
	d.val = o->all ? NULL : &val;
	d.cuts = xcalloc((size_t)o->churn_cutoffs, sizeof(*d.cuts));
	d.labels = xcalloc((size_t)o->churn_cutoffs, sizeof(*d.labels));
	if ((d.v = train_store_vocab(s, e)) == NULL)
		goto out;
	if (!o->tasks && vocab_n_items(d.v) <= TOK_UNK + 1)
		d.tasks &= ~TRAIN_ITEM;
	universe_vocab(&d.u, d.v);
	tr.tasks = d.tasks;
	memset(&cfg, 0, sizeof(cfg));
	cfg.C = o->C;
	cfg.L = o->L;
	cfg.H = o->H;
	cfg.max_len = o->max_len;
	cfg.churn_horizon_days = o->horizon_days;
	cfg.n_types = vocab_n_types(d.v);
	cfg.n_items = vocab_n_items(d.v);
	/* the model owns a copy of the vocabularies from here on */
	{
		struct vocab *mv = train_store_vocab(s, e);

		if (mv == NULL || (tr.m = nn_model_new(&cfg, mv, e)) == NULL)
			goto out;
	}
	nn_rng_seed(&rng, o->seed);
	nn_model_init_random(tr.m, &rng);
	nn_rng_seed(&tr.rng, o->seed ^ 0x7472616e);
	tr.o = o;
	/* 0, or as many as there are: every item, the full softmax */
	tr.K = cfg.n_items - TOK_UNK - 1;
	tr.full = o->negatives == 0 || o->negatives >= tr.K ||
	    o->item_loss != TRAIN_LOSS_SOFTMAX;	/* K: the BCE's draws' range */
	if (!tr.full)
		tr.K = o->negatives;
	tr.neg = xcalloc((size_t)tr.K, sizeof(int));
	if (tr.full) {
		/* the items in order, read where the optimiser keeps them */
		for (i = 0; i < tr.K; i++)
			tr.neg[i] = TOK_UNK + 1 + i;
		tr.eneg = tr.m->p.emb_item + (size_t)(TOK_UNK + 1) * cfg.C;
	} else
		tr.eneg = tr.eneg_buf = xcalloc((size_t)tr.K * cfg.C,
		    sizeof(float));
	if ((tr.mo = nn_grads_new(tr.m, e)) == NULL ||
	    (tr.ve = nn_grads_new(tr.m, e)) == NULL)
		goto out;
	tr.nw = o->threads;
	tr.w = xcalloc((size_t)tr.nw, sizeof(*tr.w));
	for (i = 0; i < tr.nw; i++) {
		tr.w[i].id = i;
		if (worker_init(&tr.w[i], &tr, (o->batch + tr.nw - 1) / tr.nw,
		    o->max_len, e) < 0)
			goto out;
	}
	if ((va = nn_acts_new(&cfg, 64, o->max_len, NN_ITEMS, e)) == NULL)
		goto out;
	tbatch_init(&vtb, 64, o->max_len);
	best = xcalloc(tr.m->n_params, sizeof(float));
	nn_blas_threads(1);
	if (tr.nw > 1) {
		pthread_barrier_init(&tr.start, NULL, (unsigned)tr.nw);
		pthread_barrier_init(&tr.end, NULL, (unsigned)tr.nw);
		for (i = 1; i < tr.nw; i++)
			pthread_create(&tr.w[i].th, NULL, worker_main, &tr.w[i]);
		threads_started = 1;
	}

	for (epoch = 1; epoch <= o->epochs; epoch++) {
		struct loss sum;
		int64_t after = 0;
		int walked = 0, chunks = 0;
		double te = mono(), tokens_ep = 0, t_ep = 0, ts0;

		memset(&sum, 0, sizeof(sum));
		while (!res->stopped && walked != 1) {
			if (!cached) {
				/* the next chunk of customers from the store */
				tset_clear(&d.train);
				walked = train_walk(s, after, tdata_customer,
				    &d, &last, e);
				if (walked < 0)
					goto out;
				if (d.stopped) {
					res->stopped = 1;
					break;
				}
				after = last;
				chunks++;
			} else
				walked = 1;
			if (d.train.n == 0)
				continue;
			if (d.train.n + 1 > cap) {
				free(order);
				free(tmp);
				free(starts);
				cap = d.train.n + 1;
				order = xcalloc(cap, sizeof(uint32_t));
				tmp = xcalloc(cap, sizeof(uint32_t));
				starts = xcalloc(cap + 1, sizeof(size_t));
			}
			nb = plan_epoch(&d.train, o->batch, &tr.rng, order, tmp,
			    starts);
			if (steps_total == 0) {
				/* the schedule, from the first chunk's size */
				steps_total = (int64_t)nb * o->epochs;
				warmup = o->warmup >= 0 ? o->warmup :
				    steps_total / 100;
				if (warmup < 1)
					warmup = 1;
			}
			for (bi = 0; bi < nb && !res->stopped; bi++) {
				int n = (int)(starts[bi + 1] - starts[bi]), k;

				for (k = 0; k < n; k++)
					tokens_ep += d.train.s[order[starts[bi]
					    + k]].n;
				gstep++;
				ts0 = mono();
				train_step(&tr, &d.train, order + starts[bi], n,
				    lr_at(o, gstep - 1, steps_total, warmup),
				    (int)gstep, &sum);
				t_ep += mono() - ts0;
				if (fn == NULL || (bi % 8 != 0 && bi + 1 != nb))
					continue;
				memset(&p, 0, sizeof(p));
				p.phase = "training";
				p.epoch = epoch;
				p.epochs = o->epochs;
				p.step = (int64_t)bi + 1;
				p.steps = (int64_t)nb;
				p.loss_type = sum.n_type ? sum.type /
				    sum.n_type : 0;
				p.loss_item = sum.n_item ? sum.item /
				    sum.n_item : 0;
				p.loss_churn = sum.n_churn ? sum.churn /
				    sum.n_churn : 0;
				p.tokens_per_s = t_ep > 0 ? tokens_ep / t_ep : 0;
				p.eta = (mono() - te) / (double)(bi + 1) *
				    ((double)nb * (o->epochs - epoch + 1) -
				    (double)bi - 1);
				p.best_val = best_val;
				p.best_epoch = best_epoch;
				if (fn(ctx, &p) != 0)
					res->stopped = 1;
			}
		}
		/* the whole data in one chunk: keep it for the next epochs */
		if (epoch == 1 && chunks == 1 && !res->stopped)
			cached = 1;
		d.val = NULL;		/* built once, in epoch 1 */
		tok_count += tokens_ep;
		t_steps += t_ep;
		if (res->stopped)
			break;
		epochs_run = epoch;
		/* validation: the best epoch is kept */
		if (!o->all && val.n > 0) {
			validate(&tr, &val, &d.u, va, &vtb, &vs);
			if (vs.score > best_val) {
				best_val = vs.score;
				best_epoch = epoch;
				memcpy(best, tr.m->mem, tr.m->n_params *
				    sizeof(float));
				since_best = 0;
			} else if (++since_best >= o->patience)
				break;
		} else {
			best_epoch = epoch;
			memcpy(best, tr.m->mem, tr.m->n_params * sizeof(float));
		}
		if (fn != NULL) {
			memset(&p, 0, sizeof(p));
			p.phase = "validated";
			p.epoch = epoch;
			p.epochs = o->epochs;
			p.val = o->all ? NAN : vs.score;
			p.best_val = best_val;
			p.best_epoch = best_epoch;
			p.loss_type = sum.n_type ? sum.type / sum.n_type : 0;
			p.loss_item = sum.n_item ? sum.item / sum.n_item : 0;
			p.loss_churn = sum.n_churn ? sum.churn / sum.n_churn : 0;
			p.tokens_per_s = t_ep > 0 ? tokens_ep / t_ep : 0;
			if (fn(ctx, &p) != 0) {
				res->stopped = 1;
				break;
			}
		}
	}
	if (best_epoch == 0) {
		err_set(e, ERR_INTR, "interrupted before the first epoch "
		    "ended: no model kept");
		goto out;
	}
	memcpy(tr.m->mem, best, tr.m->n_params * sizeof(float));
	extra = settings_json(o, d.tasks, d.T, epochs_run, best_epoch);
	free(tr.m->extra);
	tr.m->extra = xstrdup(extra);
	res->seconds = mono() - t0;
	/* training steps only: not reading, validating or evaluating */
	res->tokens_per_s = t_steps > 0 ? tok_count / t_steps : 0;
	res->epochs_run = epochs_run;
	res->best_epoch = best_epoch;
	res->tasks = d.tasks;
	res->sequence_time = info.sequence_time;
	/* the model card: held-out metrics by MODEL.md's protocols */
	/* after a stop the callback still says stop: evaluate without it */
	if (train_eval(s, tr.m, d.T, o->horizon_days, d.tasks, o->threads,
	    res->stopped ? NULL : fn, ctx, &res->metrics, &res->report, e) < 0)
		goto out;
	if (o->all) {
		/* say so in the metrics */
		size_t ml = strlen(res->metrics);
		char *mm = xmalloc(ml + 32);

		snprintf(mm, ml + 32, "{\"held_out\":false,%s",
		    res->metrics + 1);
		free(res->metrics);
		res->metrics = mm;
	}
	if (nn_model_write_mem(tr.m, extra, &img, &len, e) < 0)
		goto out;
	cfgjson = nn_config_json(tr.m);
	res->model_id = store_model_add(s, o->name, (int64_t)time(NULL),
	    cfgjson, res->metrics, img, len, &res->name, e);
	if (res->model_id < 0)
		goto out;
	rc = 0;
out:
	if (threads_started) {
		tr.quit = 1;
		pthread_barrier_wait(&tr.start);
		for (i = 1; i < tr.nw; i++)
			pthread_join(tr.w[i].th, NULL);
		pthread_barrier_destroy(&tr.start);
		pthread_barrier_destroy(&tr.end);
	}
	for (i = 0; tr.w != NULL && i < tr.nw; i++)
		worker_release(&tr.w[i]);
	free(tr.w);
	free(tr.neg);
	free(tr.eneg_buf);
	nn_grads_free(tr.mo);
	nn_grads_free(tr.ve);
	nn_model_free(tr.m);
	universe_release(&d.u);
	vocab_free((struct vocab *)d.v);
	tset_release(&d.train);
	tset_release(&val);
	free(d.items);
	free(d.cuts);
	free(d.labels);
	nn_acts_free(va);
	if (vtb.tok != NULL)
		tbatch_release(&vtb);
	free(best);
	free(order);
	free(tmp);
	free(starts);
	free(extra);
	free(cfgjson);
	free(img);
	store_info_release(&info);
	if (rc < 0)
		train_result_release(res);
	return rc;
}

void
train_result_release(struct train_result *r)
{
	free(r->name);
	free(r->metrics);
	free(r->report);
	r->name = NULL;
	r->metrics = NULL;
	r->report = NULL;
}
