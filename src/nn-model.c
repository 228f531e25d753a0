/*
 * nn-model.c: the model (MODEL.md "Network" and "Heads"): its sizes, the
 * one allocation holding every parameter and the table that names them
 * for the model file, random initialisation, activations sized from
 * (B, T), the forward pass as a straight list of kernel calls, and the
 * attention read-outs (per head, last-layer mean, rollout).
 */
#include "config.h"
#include "nn.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "util.h"

/* Symbolic tensor dimensions. */
enum dim { D_NONE, D_ONE, D_C, D_3C, D_4C, D_NT, D_NI, D_GAP, D_AMT, D_LEN };

/* One parameter field: where it is, what the file calls it, its shape. */
static const struct pdesc {
	size_t		 off;		/* offsetof(struct nn_params, ...) */
	const char	*name;		/* per layer: after "blocks.{l}." */
	int		 per_layer;
	enum dim	 rows, cols;	/* cols D_NONE: one dimension */
} pdesc[NN_NPARAMS] = {
	{ offsetof(struct nn_params, emb_type), "emb.type", 0, D_NT, D_C },
	{ offsetof(struct nn_params, emb_item), "emb.item", 0, D_NI, D_C },
	{ offsetof(struct nn_params, emb_gap), "emb.gap", 0, D_GAP, D_C },
	{ offsetof(struct nn_params, emb_amount), "emb.amount", 0, D_AMT,
	    D_C },
	{ offsetof(struct nn_params, emb_pos), "emb.pos", 0, D_LEN, D_C },
	{ offsetof(struct nn_params, ln1_w), "ln1.weight", 1, D_C, D_NONE },
	{ offsetof(struct nn_params, ln1_b), "ln1.bias", 1, D_C, D_NONE },
	{ offsetof(struct nn_params, qkv_w), "attn.qkv.weight", 1, D_3C, D_C },
	{ offsetof(struct nn_params, qkv_b), "attn.qkv.bias", 1, D_3C,
	    D_NONE },
	{ offsetof(struct nn_params, proj_w), "attn.proj.weight", 1, D_C,
	    D_C },
	{ offsetof(struct nn_params, proj_b), "attn.proj.bias", 1, D_C,
	    D_NONE },
	{ offsetof(struct nn_params, ln2_w), "ln2.weight", 1, D_C, D_NONE },
	{ offsetof(struct nn_params, ln2_b), "ln2.bias", 1, D_C, D_NONE },
	{ offsetof(struct nn_params, fc_w), "mlp.fc.weight", 1, D_4C, D_C },
	{ offsetof(struct nn_params, fc_b), "mlp.fc.bias", 1, D_4C, D_NONE },
	{ offsetof(struct nn_params, mproj_w), "mlp.proj.weight", 1, D_C,
	    D_4C },
	{ offsetof(struct nn_params, mproj_b), "mlp.proj.bias", 1, D_C,
	    D_NONE },
	{ offsetof(struct nn_params, lnf_w), "ln_f.weight", 0, D_C, D_NONE },
	{ offsetof(struct nn_params, lnf_b), "ln_f.bias", 0, D_C, D_NONE },
	{ offsetof(struct nn_params, type_w), "head.type.weight", 0, D_NT,
	    D_C },
	{ offsetof(struct nn_params, type_b), "head.type.bias", 0, D_NT,
	    D_NONE },
	{ offsetof(struct nn_params, churn_w), "head.churn.weight", 0, D_ONE,
	    D_C },
	{ offsetof(struct nn_params, churn_b), "head.churn.bias", 0, D_ONE,
	    D_NONE },
};

#define FIRST_LAYER	5	/* pdesc index of ln1.weight */
#define N_LAYER		12	/* per-layer tensors */

static void	drop_apply(const struct nn_acts *, float *, float *, int, int,
		    int, int);

static int64_t
dim_size(const struct nn_config *cfg, enum dim d)
{
	switch (d) {
	case D_NONE:
	case D_ONE:
		return 1;
	case D_C:
		return cfg->C;
	case D_3C:
		return 3 * (int64_t)cfg->C;
	case D_4C:
		return 4 * (int64_t)cfg->C;
	case D_NT:
		return cfg->n_types;
	case D_NI:
		return cfg->n_items;
	case D_GAP:
		return TOK_NGAP;
	case D_AMT:
		return TOK_NAMOUNT;
	case D_LEN:
		return cfg->max_len;
	}
	return 0;
}

static float **
param_field(struct nn_params *p, size_t i)
{
	return (float **)(void *)((char *)p + pdesc[i].off);
}

/* The sizes are usable. */
int
nn_config_check(const struct nn_config *c, struct err *e)
{
	if (c->C < 1 || c->C > NN_MAX_C)
		return err_set(e, ERR_MODEL, "config: d_model %d is outside "
		    "1..%d", c->C, NN_MAX_C);
	if (c->L < 1 || c->L > NN_MAX_L)
		return err_set(e, ERR_MODEL, "config: n_layers %d is outside "
		    "1..%d", c->L, NN_MAX_L);
	if (c->H < 1 || c->H > c->C || c->C % c->H != 0)
		return err_set(e, ERR_MODEL, "config: n_heads %d does not "
		    "divide d_model %d", c->H, c->C);
	if (c->max_len < 1 || c->max_len > NN_MAX_LEN)
		return err_set(e, ERR_MODEL, "config: max_len %d is outside "
		    "1..%d", c->max_len, NN_MAX_LEN);
	if (c->n_types < 2 || c->n_types > NN_MAX_VOCAB)
		return err_set(e, ERR_MODEL, "config: n_types %d is outside "
		    "2..%d", c->n_types, NN_MAX_VOCAB);
	if (c->n_items < 2 || c->n_items > NN_MAX_VOCAB)
		return err_set(e, ERR_MODEL, "config: n_items %d is outside "
		    "2..%d", c->n_items, NN_MAX_VOCAB);
	if (c->churn_horizon_days < 1 || c->churn_horizon_days > 36500)
		return err_set(e, ERR_MODEL, "config: churn_horizon_days %d "
		    "is outside 1..36500", c->churn_horizon_days);
	return 0;
}

/* Floats per parameter field (all layers). */
void
nn_param_sizes(const struct nn_config *cfg, size_t sizes[NN_NPARAMS])
{
	size_t i;

	for (i = 0; i < NN_NPARAMS; i++)
		sizes[i] = (size_t)(dim_size(cfg, pdesc[i].rows) *
		    dim_size(cfg, pdesc[i].cols)) *
		    (pdesc[i].per_layer ? (size_t)cfg->L : 1);
}

/* A zeroed model over vocab (owned from now on). */
struct nn_model *
nn_model_new(const struct nn_config *cfg, struct vocab *vocab, struct err *e)
{
	size_t sizes[NN_NPARAMS], n = 0, i;
	struct nn_model *m;
	float *mem;

	if (nn_config_check(cfg, e) < 0) {
		vocab_free(vocab);
		return NULL;
	}
	if (vocab != NULL && (vocab_n_types(vocab) != cfg->n_types ||
	    vocab_n_items(vocab) != cfg->n_items)) {
		err_set(e, ERR_MODEL, "config: %d types and %d items, but the "
		    "vocabularies have %d and %d", cfg->n_types, cfg->n_items,
		    vocab_n_types(vocab), vocab_n_items(vocab));
		vocab_free(vocab);
		return NULL;
	}
	nn_param_sizes(cfg, sizes);
	for (i = 0; i < NN_NPARAMS; i++)
		n += sizes[i];
	if (n > NN_MAX_PARAMS) {
		err_set(e, ERR_LIMIT, "a model of %zu parameters (%.1f GiB) is "
		    "more than the limit of %d million", n, (double)n *
		    sizeof(float) / (1 << 30), (int)(NN_MAX_PARAMS / 1000000));
		vocab_free(vocab);
		return NULL;
	}
	if ((mem = calloc(n, sizeof(float))) == NULL) {
		err_set(e, ERR_NOMEM, "model parameters: %zu bytes",
		    n * sizeof(float));
		vocab_free(vocab);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->cfg = *cfg;
	m->vocab = vocab;
	m->mem = mem;
	m->n_params = n;
	for (i = 0; i < NN_NPARAMS; i++) {
		*param_field(&m->p, i) = mem;
		mem += sizes[i];
	}
	return m;
}

/* Free the parameters and the vocabularies; accepts NULL. */
void
nn_model_free(struct nn_model *m)
{
	if (m == NULL)
		return;
	vocab_free(m->vocab);
	free(m->mem);
	free(m->extra);
	free(m);
}

/* Threads OpenBLAS may use inside one call. */
void
nn_blas_threads(int n)
{
	openblas_set_num_threads(n);
}

/*
 * OpenBLAS (the pthreads build) starts its worker threads when it loads,
 * and each spins on sched_yield for about 2^28 cycles before it sleeps:
 * a tenth of a second of a core taken from whatever the program does
 * first (measured here: 5% of an import's CPU time, on 2 cores). Its
 * thread shutdown, the one its fork handler uses, stops them at once;
 * the next call that wants threads starts them again. A BLAS without
 * that function is left alone.
 */
extern int	blas_thread_shutdown_(void) __attribute__((weak));

void
nn_blas_idle(void)
{
	if (blas_thread_shutdown_ != NULL)
		blas_thread_shutdown_();
}

/* splitmix64. */
void
nn_rng_seed(struct nn_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t
nn_rng_u64(struct nn_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 bits. */
double
nn_rng_uniform(struct nn_rng *r)
{
	return (double)(nn_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal by Box-Muller (one of the pair). */
double
nn_rng_normal(struct nn_rng *r)
{
	double u1 = nn_rng_uniform(r), u2 = nn_rng_uniform(r);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* GPT-2 style initialisation. */
void
nn_model_init_random(struct nn_model *m, struct nn_rng *r)
{
	size_t sizes[NN_NPARAMS], i, j;
	double resid = 0.02 / sqrt(2.0 * m->cfg.L);

	nn_param_sizes(&m->cfg, sizes);
	for (i = 0; i < NN_NPARAMS; i++) {
		float *p = *param_field(&m->p, i);
		const char *nm = pdesc[i].name;
		size_t nl = strlen(nm);

		if (nl >= 5 && strcmp(nm + nl - 5, ".bias") == 0)
			memset(p, 0, sizes[i] * sizeof(float));
		else if (strncmp(nm, "ln", 2) == 0)
			for (j = 0; j < sizes[i]; j++)
				p[j] = 1.0f;
		else
			for (j = 0; j < sizes[i]; j++)
				p[j] = (float)(nn_rng_normal(r) *
				    (p == m->p.proj_w || p == m->p.mproj_w ?
				    resid : 0.02));
	}
}

/* 5 embeddings, 12 per layer, 6 for the final norm and heads. */
size_t
nn_tensor_count(const struct nn_config *cfg)
{
	return FIRST_LAYER + (size_t)N_LAYER * cfg->L +
	    (NN_NPARAMS - FIRST_LAYER - N_LAYER);
}

/* Tensor i of the file. */
void
nn_tensor_get(const struct nn_model *m, size_t i, struct nn_tensor *t)
{
	const struct nn_config *cfg = &m->cfg;
	size_t k = i, layer = 0, per;
	const struct pdesc *d;
	float *base;

	assert(i < nn_tensor_count(cfg));
	if (i >= FIRST_LAYER && i < FIRST_LAYER + (size_t)N_LAYER * cfg->L) {
		layer = (i - FIRST_LAYER) / N_LAYER;
		k = FIRST_LAYER + (i - FIRST_LAYER) % N_LAYER;
	} else if (i >= FIRST_LAYER)
		k = i - (size_t)N_LAYER * (cfg->L - 1);
	d = &pdesc[k];
	if (d->per_layer)
		snprintf(t->name, sizeof(t->name), "blocks.%zu.%s", layer,
		    d->name);
	else
		snprintf(t->name, sizeof(t->name), "%s", d->name);
	t->ndim = d->cols == D_NONE ? 1 : 2;
	t->shape[0] = dim_size(cfg, d->rows);
	t->shape[1] = t->ndim == 2 ? dim_size(cfg, d->cols) : 1;
	per = (size_t)(t->shape[0] * t->shape[1]);
	base = *param_field((struct nn_params *)(uintptr_t)&m->p, k);
	t->data = base + layer * per;
	t->n = per;
}

/* Activations for (B, T); one block of floats. */
struct nn_acts *
nn_acts_new(const struct nn_config *cfg, int B, int T, int flags,
    struct err *e)
{
	const size_t C = (size_t)cfg->C, L = (size_t)cfg->L,
	    H = (size_t)cfg->H, NT = (size_t)cfg->n_types,
	    NI = (size_t)cfg->n_items, BT = (size_t)B * T;
	size_t tmp = BT * C, n = 0;
	struct nn_acts *a;
	float *p;
	struct {
		float	**f;
		size_t	  n;
	} f[64];
	int nf = 0, i;

	assert(B >= 1 && T >= 1);
	a = xcalloc(1, sizeof(*a));
#define F(field, size) do { f[nf].f = &a->field; f[nf].n = (size); \
	n += f[nf++].n; } while (0)
	if (tmp < (size_t)B * 4 * C)
		tmp = (size_t)B * 4 * C;
	if (tmp < (size_t)B * NT)
		tmp = (size_t)B * NT;
	F(x0, BT * C);
	F(ln1, L * BT * C);
	F(ln1_mean, L * BT);
	F(ln1_rstd, L * BT);
	F(qkv, L * BT * 3 * C);
	F(att, L * B * H * T * T);
	F(atty, L * BT * C);
	F(res1, L * BT * C);
	F(ln2, L * BT * C);
	F(ln2_mean, L * BT);
	F(ln2_rstd, L * BT);
	F(fch, L * BT * 4 * C);
	F(fch_gelu, L * BT * 4 * C);
	F(res2, L * BT * C);
	F(lnf, BT * C);
	F(lnf_mean, BT);
	F(lnf_rstd, BT);
	F(type_logits, BT * NT);
	F(lx, B * C);
	F(la, B * C);
	F(lq, B * C);
	F(lqk, B * H * C);
	F(latt, B * H * T);
	F(labar, B * H * C);
	F(laty, B * C);
	F(lres1, B * C);
	F(lln2, B * C);
	F(lln2_mean, B);
	F(lln2_rstd, B);
	F(lfch, B * 4 * C);
	F(lfch_gelu, B * 4 * C);
	F(zin, B * C);
	F(z, B * C);
	F(z_mean, B);
	F(z_rstd, B);
	F(type_prob, B * NT);
	F(churn_logit, B);
	F(churn, B);
	if (flags & NN_ITEMS)
		F(item_score, B * NI);
	if (flags & NN_TRAIN) {
		F(drop0, BT * C);
		F(drop1, L * BT * C);
		F(drop2, L * BT * C);
		F(dx, BT * C);
		F(dres1, BT * C);
		F(dtmp, BT * C);
		F(datty, BT * C);
		F(dqkv, BT * 3 * C);
		F(dfch, BT * 4 * C);
		F(dfchg, BT * 4 * C);
		F(datt, (size_t)T * T);
	}
	F(tmp, tmp);
#undef F
	if (n > NN_MAX_ACTS / sizeof(float)) {
		err_set(e, ERR_LIMIT, "activations for %d windows of %d events "
		    "would take %.1f GiB, more than the %d GiB limit (a smaller "
		    "max_len or batch)", B, T, (double)n * sizeof(float) /
		    (1 << 30), (int)(NN_MAX_ACTS >> 30));
		free(a);
		return NULL;
	}
	if ((a->mem = calloc(n, sizeof(float))) == NULL) {
		err_set(e, ERR_NOMEM, "activations for %d windows of %d "
		    "events: %zu bytes", B, T, n * sizeof(float));
		free(a);
		return NULL;
	}
	for (p = a->mem, i = 0; i < nf; i++) {
		*f[i].f = p;
		p += f[i].n;
	}
	a->len = xcalloc((size_t)B, sizeof(int));
	a->B = B;
	a->T = T;
	a->flags = flags;
	a->n_floats = n;
	return a;
}

/* Dropout probability p for the next NN_FULL passes, masks from seed. */
void
nn_acts_dropout(struct nn_acts *a, float p, uint64_t seed, int window0)
{
	a->dropout = p;
	a->drop_seed = seed;
	a->window0 = window0;
}

/* Free; accepts NULL. */
void
nn_acts_free(struct nn_acts *a)
{
	if (a == NULL)
		return;
	free(a->mem);
	free(a->len);
	free(a);
}

/* The forward pass (see nn.h). */
void
nn_forward(const struct nn_model *m, struct nn_acts *a, const struct tok *tok,
    const int *len, int b, int t, enum nn_mode mode, int flags)
{
	const struct nn_params *p = &m->p;
	const int C = m->cfg.C, L = m->cfg.L, H = m->cfg.H,
	    NT = m->cfg.n_types, NI = m->cfg.n_items, BT = b * t;
	const float *x;
	int l, i, nfull, drop;

	assert(b >= 1 && b <= a->B && t >= 1 && t <= a->T &&
	    t <= m->cfg.max_len);
	assert(!(flags & NN_ITEMS) || a->item_score != NULL);
	for (i = 0; i < b; i++) {
		int k;

		assert(len[i] >= 1 && len[i] <= t);
		for (k = 0; k < len[i]; k++) {
			const struct tok *x1 = &tok[(size_t)i * t + k];

			assert(x1->type >= 0 && x1->type < NT);
			assert(x1->item >= 0 && x1->item < NI);
			assert(x1->gap >= 0 && x1->gap < TOK_NGAP);
			assert(x1->amount >= 0 && x1->amount < TOK_NAMOUNT);
			assert(x1->pos >= 0 && x1->pos < m->cfg.max_len);
			(void)x1;
		}
	}
	a->b = b;
	a->t = t;
	a->mode = mode;
	memcpy(a->len, len, sizeof(int) * (size_t)b);
	/* dropout: training only, when asked for (nn_acts_dropout) */
	drop = mode == NN_FULL && a->dropout > 0 && a->drop0 != NULL;

	/* each window's real rows; padding rows are zero, never read */
	for (i = 0; i < b; i++) {
		float *xi = a->x0 + (size_t)i * t * C;

		nn_embed_forward(xi, tok + (size_t)i * t, p->emb_type,
		    p->emb_item, p->emb_gap, p->emb_amount, p->emb_pos, len[i],
		    C);
		memset(xi + (size_t)len[i] * C, 0, sizeof(float) *
		    (size_t)(t - len[i]) * C);
	}
	if (drop)
		drop_apply(a, a->x0, a->drop0, 0, b, t, C);
	x = a->x0;
	nfull = mode == NN_FULL ? L : L - 1;
	for (l = 0; l < nfull; l++) {
		const size_t lc = (size_t)l * BT * C, lr = (size_t)l * BT;
		float *ln1 = a->ln1 + lc, *qkv = a->qkv + 3 * lc,
		    *att = a->att + (size_t)l * b * H * t * t,
		    *atty = a->atty + lc, *res1 = a->res1 + lc,
		    *ln2 = a->ln2 + lc, *fch = a->fch + 4 * lc,
		    *fchg = a->fch_gelu + 4 * lc, *res2 = a->res2 + lc;

		nn_layernorm_forward(ln1, a->ln1_mean + lr, a->ln1_rstd + lr,
		    x, p->ln1_w + l * C, p->ln1_b + l * C, BT, C);
		nn_matmul_forward(qkv, ln1, p->qkv_w + (size_t)l * 3 * C * C,
		    p->qkv_b + l * 3 * C, BT, C, 3 * C);
		nn_attention_forward(atty, att, qkv, len, b, t, C, H);
		nn_matmul_forward(a->tmp, atty, p->proj_w + (size_t)l * C * C,
		    p->proj_b + l * C, BT, C, C);
		if (drop)
			drop_apply(a, a->tmp, a->drop1 + lc, 1 + 2 * l, b, t, C);
		nn_residual_forward(res1, x, a->tmp, BT * C);
		nn_layernorm_forward(ln2, a->ln2_mean + lr, a->ln2_rstd + lr,
		    res1, p->ln2_w + l * C, p->ln2_b + l * C, BT, C);
		nn_matmul_forward(fch, ln2, p->fc_w + (size_t)l * 4 * C * C,
		    p->fc_b + l * 4 * C, BT, C, 4 * C);
		nn_gelu_forward(fchg, fch, BT * 4 * C);
		nn_matmul_forward(a->tmp, fchg, p->mproj_w +
		    (size_t)l * 4 * C * C, p->mproj_b + l * C, BT, 4 * C, C);
		if (drop)
			drop_apply(a, a->tmp, a->drop2 + lc, 2 + 2 * l, b, t, C);
		nn_residual_forward(res2, res1, a->tmp, BT * C);
		x = res2;
	}
	if (mode == NN_FULL) {
		nn_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, x,
		    p->lnf_w, p->lnf_b, BT, C);
		nn_matmul_forward(a->type_logits, a->lnf, p->type_w, p->type_b,
		    BT, C, NT);
		nn_gather_last(a->zin, x, len, b, t, C);
	} else {
		/* the last layer for the last position only */
		const size_t lc = (size_t)l * BT * C, lr = (size_t)l * BT;
		const float *wqkv = p->qkv_w + (size_t)l * 3 * C * C,
		    *bqkv = p->qkv_b + l * 3 * C;
		float *ln1 = a->ln1 + lc;

		nn_layernorm_forward(ln1, a->ln1_mean + lr, a->ln1_rstd + lr,
		    x, p->ln1_w + l * C, p->ln1_b + l * C, BT, C);
		nn_gather_last(a->lx, x, len, b, t, C);
		nn_gather_last(a->la, ln1, len, b, t, C);
		nn_matmul_forward(a->lq, a->la, wqkv, bqkv, b, C, C);
		nn_attention_last_forward(a->laty, a->latt, a->lqk, a->labar,
		    a->lq, ln1, wqkv, bqkv, len, b, t, C, H);
		nn_matmul_forward(a->tmp, a->laty, p->proj_w + (size_t)l * C * C,
		    p->proj_b + l * C, b, C, C);
		nn_residual_forward(a->lres1, a->lx, a->tmp, b * C);
		nn_layernorm_forward(a->lln2, a->lln2_mean, a->lln2_rstd,
		    a->lres1, p->ln2_w + l * C, p->ln2_b + l * C, b, C);
		nn_matmul_forward(a->lfch, a->lln2, p->fc_w +
		    (size_t)l * 4 * C * C, p->fc_b + l * 4 * C, b, C, 4 * C);
		nn_gelu_forward(a->lfch_gelu, a->lfch, b * 4 * C);
		nn_matmul_forward(a->tmp, a->lfch_gelu, p->mproj_w +
		    (size_t)l * 4 * C * C, p->mproj_b + l * C, b, 4 * C, C);
		nn_residual_forward(a->zin, a->lres1, a->tmp, b * C);
	}
	/* heads at the last position */
	nn_layernorm_forward(a->z, a->z_mean, a->z_rstd, a->zin, p->lnf_w,
	    p->lnf_b, b, C);
	nn_matmul_forward(a->tmp, a->z, p->type_w, p->type_b, b, C, NT);
	nn_softmax_forward(a->type_prob, a->tmp, b, NT);
	nn_churn_forward(a->churn, a->churn_logit, a->z, p->churn_w,
	    p->churn_b, b, C);
	if (flags & NN_ITEMS)
		nn_matmul_forward(a->item_score, a->z, p->emb_item, NULL, b, C,
		    NI);
}

/* ---- training: dropout, gradients, the backward pass, AdamW ---- */

/* The stream of dropout draws for one site of one window. */
static void
drop_rng(struct nn_rng *r, uint64_t seed, int site, int window)
{
	uint64_t s = seed ^ ((uint64_t)(site + 1) * 0xd1b54a32d192ed03ULL) ^
	    ((uint64_t)(window + 1) * 0x9e3779b97f4a7c15ULL);

	nn_rng_seed(r, s);
	(void)nn_rng_u64(r);
}

/*
 * Dropout of x (b windows of t rows of C), in place, masks saved: each
 * window's real rows draw from their own stream, so a window's masks do
 * not depend on how a batch is split; padding rows are zeroed.
 */
static void
drop_apply(const struct nn_acts *a, float *x, float *mask, int site, int b,
    int t, int C)
{
	struct nn_rng r;
	int i;

	for (i = 0; i < b; i++) {
		float *xi = x + (size_t)i * t * C, *mi = mask + (size_t)i * t * C;
		int n = a->len[i];

		drop_rng(&r, a->drop_seed, site, a->window0 + i);
		nn_dropout_forward(xi, mi, xi, a->dropout, n * C, &r);
		memset(mi + (size_t)n * C, 0, sizeof(float) * (size_t)(t - n) * C);
		memset(xi + (size_t)n * C, 0, sizeof(float) * (size_t)(t - n) * C);
	}
}

/* Gradients shaped like the parameters, zeroed. */
struct nn_grads *
nn_grads_new(const struct nn_model *m, struct err *e)
{
	size_t sizes[NN_NPARAMS], i;
	struct nn_grads *g;
	float *p;

	nn_param_sizes(&m->cfg, sizes);
	if ((p = calloc(m->n_params, sizeof(float))) == NULL) {
		err_set(e, ERR_NOMEM, "gradients: %zu bytes",
		    m->n_params * sizeof(float));
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));
	g->mem = p;
	g->n = m->n_params;
	for (i = 0; i < NN_NPARAMS; i++) {
		*param_field(&g->p, i) = p;
		p += sizes[i];
	}
	return g;
}

/* Free; accepts NULL. */
void
nn_grads_free(struct nn_grads *g)
{
	if (g == NULL)
		return;
	free(g->mem);
	free(g);
}

/* Zero before each backward (backward adds). */
void
nn_zero_grad(struct nn_grads *g)
{
	memset(g->mem, 0, sizeof(float) * g->n);
}

/*
 * The backward pass of the last nn_forward(NN_FULL) from dlnf (b, t, C),
 * the loss's gradient with respect to the final LayerNorm's output
 * (zero on padding rows). Adds into g. Uses the activations' backward
 * buffers (acts made with NN_TRAIN).
 */
void
nn_backward(const struct nn_model *m, struct nn_grads *gr, struct nn_acts *a,
    const struct tok *tok, const float *dlnf)
{
	const struct nn_params *p = &m->p;
	struct nn_params *g = &gr->p;
	const int C = m->cfg.C, L = m->cfg.L, H = m->cfg.H, b = a->b,
	    t = a->t, BT = b * t;
	const int drop = a->dropout > 0;
	float *dx = a->dx, *dres1 = a->dres1, *dtmp = a->dtmp;
	int l;

	assert(a->mode == NN_FULL && a->dx != NULL);
	memset(dx, 0, sizeof(float) * (size_t)BT * C);
	nn_layernorm_backward(dx, g->lnf_w, g->lnf_b, dlnf, a->res2 +
	    (size_t)(L - 1) * BT * C, p->lnf_w, a->lnf_mean, a->lnf_rstd, BT,
	    C);
	for (l = L - 1; l >= 0; l--) {
		const size_t lc = (size_t)l * BT * C, lr = (size_t)l * BT;
		const float *x = l == 0 ? a->x0 : a->res2 + lc - (size_t)BT * C;

		/* x_out = res1 + drop(mlp(ln2(res1))): dx is d x_out */
		memcpy(dres1, dx, sizeof(float) * (size_t)BT * C);
		if (drop)
			nn_mul_forward(dtmp, dx, a->drop2 + lc, BT * C);
		else
			memcpy(dtmp, dx, sizeof(float) * (size_t)BT * C);
		memset(a->dfch, 0, sizeof(float) * (size_t)BT * 4 * C);
		nn_matmul_backward(a->dfch, g->mproj_w + (size_t)l * 4 * C * C,
		    g->mproj_b + l * C, dtmp, a->fch_gelu + 4 * lc,
		    p->mproj_w + (size_t)l * 4 * C * C, BT, 4 * C, C);
		memset(a->dfchg, 0, sizeof(float) * (size_t)BT * 4 * C);
		nn_gelu_backward(a->dfchg, a->dfch, a->fch + 4 * lc, BT * 4 * C);
		memset(dtmp, 0, sizeof(float) * (size_t)BT * C);
		nn_matmul_backward(dtmp, g->fc_w + (size_t)l * 4 * C * C,
		    g->fc_b + l * 4 * C, a->dfchg, a->ln2 + lc,
		    p->fc_w + (size_t)l * 4 * C * C, BT, C, 4 * C);
		nn_layernorm_backward(dres1, g->ln2_w + l * C, g->ln2_b + l * C,
		    dtmp, a->res1 + lc, p->ln2_w + l * C, a->ln2_mean + lr,
		    a->ln2_rstd + lr, BT, C);
		/* res1 = x + drop(proj(attn(ln1(x)))): dres1 is d res1 */
		memcpy(dx, dres1, sizeof(float) * (size_t)BT * C);
		if (drop)
			nn_mul_forward(dtmp, dres1, a->drop1 + lc, BT * C);
		else
			memcpy(dtmp, dres1, sizeof(float) * (size_t)BT * C);
		memset(a->datty, 0, sizeof(float) * (size_t)BT * C);
		nn_matmul_backward(a->datty, g->proj_w + (size_t)l * C * C,
		    g->proj_b + l * C, dtmp, a->atty + lc,
		    p->proj_w + (size_t)l * C * C, BT, C, C);
		memset(a->dqkv, 0, sizeof(float) * (size_t)BT * 3 * C);
		nn_attention_backward(a->dqkv, a->datt, a->datty, a->qkv + 3 * lc,
		    a->att + (size_t)l * b * H * t * t, a->len, b, t, C, H);
		memset(dtmp, 0, sizeof(float) * (size_t)BT * C);
		nn_matmul_backward(dtmp, g->qkv_w + (size_t)l * 3 * C * C,
		    g->qkv_b + l * 3 * C, a->dqkv, a->ln1 + lc,
		    p->qkv_w + (size_t)l * 3 * C * C, BT, C, 3 * C);
		nn_layernorm_backward(dx, g->ln1_w + l * C, g->ln1_b + l * C,
		    dtmp, x, p->ln1_w + l * C, a->ln1_mean + lr,
		    a->ln1_rstd + lr, BT, C);
	}
	if (drop)
		nn_mul_forward(dx, dx, a->drop0, BT * C);
	nn_embed_backward(g->emb_type, g->emb_item, g->emb_gap, g->emb_amount,
	    g->emb_pos, dx, tok, a->len, b, t, C);
}

/* Sum of squares of the gradients (for clipping), in double. */
double
nn_grads_norm2(const struct nn_grads *g)
{
	return nn_sumsq(g->mem, g->n);
}

/* g += h, element-wise (the threads' gradients, in a fixed order). */
void
nn_grads_add(struct nn_grads *g, const struct nn_grads *h)
{
	nn_residual_forward(g->mem, g->mem, h->mem, (int)g->n);
}

/*
 * One AdamW step over every parameter: m, v are the moments (shaped
 * like the parameters), step counts from 1, gscale multiplies the
 * gradients first (clipping). Decoupled weight decay applies to the
 * matrices of the linear layers only, not to embeddings, biases or
 * LayerNorm weights.
 */
void
nn_adamw_step(struct nn_model *m, const struct nn_grads *g, struct nn_grads *mo,
    struct nn_grads *ve, const struct nn_adamw *o, int step, float gscale)
{
	nn_adamw_range(m, g, mo, ve, o, step, gscale, 0, m->n_params);
}

/*
 * The same on the parameters [lo, hi) of the one block (threads take a
 * range each): each tensor that overlaps it, with its own decay.
 */
void
nn_adamw_range(struct nn_model *m, const struct nn_grads *g,
    struct nn_grads *mo, struct nn_grads *ve, const struct nn_adamw *o,
    int step, float gscale, size_t lo, size_t hi)
{
	size_t sizes[NN_NPARAMS], i, off = 0;
	const float b1 = o->beta1, b2 = o->beta2;
	const float c1 = 1.0f / (1.0f - powf(b1, (float)step)),
	    c2 = 1.0f / (1.0f - powf(b2, (float)step));

	nn_param_sizes(&m->cfg, sizes);
	for (i = 0; i < NN_NPARAMS; off += sizes[i], i++) {
		const char *nm = pdesc[i].name;
		int decay = pdesc[i].cols != D_NONE && strncmp(nm, "emb.", 4) &&
		    strcmp(nm, "head.churn.weight") != 0;
		float wd = decay ? o->lr * o->weight_decay : 0;
		size_t a = off > lo ? off : lo, b = off + sizes[i] < hi ?
		    off + sizes[i] : hi;

		if (a >= b)
			continue;
		nn_adamw_update(m->mem + a, g->mem + a, mo->mem + a, ve->mem + a,
		    b - a, o->lr, b1, b2, c1, c2, o->eps, wd, gscale);
	}
}

/* Row (query len-1) of head h in layer l for window i. */
static const float *
att_last_row(const struct nn_model *m, const struct nn_acts *a, int l,
    int i, int h)
{
	const int H = m->cfg.H, n = a->len[i];

	if (a->mode == NN_LAST && l == m->cfg.L - 1)
		return a->latt + ((size_t)i * H + h) * a->t;
	return a->att + ((((size_t)l * a->b + i) * H + h) * a->t + n - 1) *
	    a->t;
}

/* per_head[l][h][j] = att_{l,h}[n-1, j]. */
void
nn_attention_per_head(const struct nn_model *m, const struct nn_acts *a,
    int i, float *out)
{
	const int L = m->cfg.L, H = m->cfg.H, n = a->len[i];
	int l, h;

	assert(i >= 0 && i < a->b);
	for (l = 0; l < L; l++)
		for (h = 0; h < H; h++)
			memcpy(out + ((size_t)l * H + h) * n,
			    att_last_row(m, a, l, i, h), sizeof(float) * n);
}

/* The last layer's attention of the last query, mean over heads. */
void
nn_attention_mean(const struct nn_model *m, const struct nn_acts *a, int i,
    float *out)
{
	const int L = m->cfg.L, H = m->cfg.H, n = a->len[i];
	int h, j;

	assert(i >= 0 && i < a->b);
	memset(out, 0, sizeof(float) * n);
	for (h = 0; h < H; h++) {
		const float *r = att_last_row(m, a, L - 1, i, h);

		for (j = 0; j < n; j++)
			out[j] += r[j];
	}
	for (j = 0; j < n; j++)
		out[j] /= (float)H;
}

/*
 * Rollout (Abnar and Zuidema): row n-1 of A'_{L-1} ... A'_0 with
 * A'_l = 0.5 mean_h att_l + 0.5 I, as a row vector times each matrix
 * from the top layer down: r <- 0.5 r A_l + 0.5 r.
 */
void
nn_attention_rollout(const struct nn_model *m, struct nn_acts *a, int i,
    float *out)
{
	const int L = m->cfg.L, H = m->cfg.H, n = a->len[i], t = a->t;
	float *r = out, *nx = a->tmp;
	int l, h, j;

	nn_attention_mean(m, a, i, r);
	for (j = 0; j < n; j++)
		r[j] *= 0.5f;
	r[n - 1] += 0.5f;
	for (l = L - 2; l >= 0; l--) {
		for (j = 0; j < n; j++)
			nx[j] = 0.5f * r[j];
		/* nx += (0.5 / H) sum_h A_{l,h}^T r */
		for (h = 0; h < H; h++)
			cblas_sgemv(CblasRowMajor, CblasTrans, n, n,
			    0.5f / (float)H, a->att + (((size_t)l * a->b + i) *
			    H + h) * t * t, t, r, 1, 1.0f, nx, 1);
		memcpy(r, nx, sizeof(float) * n);
	}
}

/* The k largest of x[from..n), largest first. */
int
nn_topk(const float *x, int n, int from, int k, int *idx)
{
	int got = 0, i, j;

	if (k <= 0)
		return 0;
	for (i = from; i < n; i++) {
		if (got == k && !(x[i] > x[idx[k - 1]]))
			continue;
		j = got < k ? got++ : k - 1;
		while (j > 0 && x[i] > x[idx[j - 1]]) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	return got;
}
