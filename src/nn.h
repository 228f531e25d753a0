/*
 * nn.h: the sequence model engine (MODEL.md): configuration, parameters
 * in one allocation, activations sized from (B, T), the forward pass
 * (nn-model.c) over per-layer kernels (nn-layers.c, with plain-loop
 * twins in nn-ref.c for the tests), attention read-outs, and the model
 * file (nn-io.c, safetensors). Nothing here prints or touches the store.
 *
 * Math names: B windows in a batch, T positions (padded), C = d_model,
 * H heads, L layers, OC output channels, NT types, NI items.
 */
#ifndef JS_NN_H
#define JS_NN_H
#include <stddef.h>
#include <stdint.h>

#include "tokens.h"

struct err;

#define NN_FORMAT	"journeyscope-seq"
#define NN_VERSION	"1"
#define NN_LN_EPS	1e-5f

/* Sizes of a model; the JSON "config" of the model file. */
struct nn_config {
	int		 C;		/* d_model */
	int		 L;		/* n_layers */
	int		 H;		/* n_heads; divides C */
	int		 max_len;	/* longest window */
	int		 n_types;	/* type vocabulary, reserved included */
	int		 n_items;	/* item vocabulary, reserved included */
	int		 churn_horizon_days;
};

/* Largest sizes accepted from a file (far above any sensible model). */
#define NN_MAX_C	4096
#define NN_MAX_L	64
#define NN_MAX_LEN	65536
#define NN_MAX_VOCAB	(1 << 24)
#define NN_MAX_PARAMS	((size_t)1 << 30)	/* floats: 4 GiB */
#define NN_MAX_ACTS	((size_t)8 << 30)	/* bytes of activations */

/*
 * The parameters, one block of floats; fields point into it, in MODEL.md
 * order. Per-layer tensors are stacked along L. The same struct will hold
 * gradients and optimizer moments.
 */
struct nn_params {
	float	*emb_type;	/* (NT, C) */
	float	*emb_item;	/* (NI, C); also the next-item head */
	float	*emb_gap;	/* (32, C) */
	float	*emb_amount;	/* (16, C) */
	float	*emb_pos;	/* (max_len, C) */
	float	*ln1_w;		/* (L, C) */
	float	*ln1_b;		/* (L, C) */
	float	*qkv_w;		/* (L, 3C, C) */
	float	*qkv_b;		/* (L, 3C) */
	float	*proj_w;	/* (L, C, C) */
	float	*proj_b;	/* (L, C) */
	float	*ln2_w;		/* (L, C) */
	float	*ln2_b;		/* (L, C) */
	float	*fc_w;		/* (L, 4C, C) */
	float	*fc_b;		/* (L, 4C) */
	float	*mproj_w;	/* (L, C, 4C) */
	float	*mproj_b;	/* (L, C) */
	float	*lnf_w;		/* (C) */
	float	*lnf_b;		/* (C) */
	float	*type_w;	/* (NT, C) */
	float	*type_b;	/* (NT) */
	float	*churn_w;	/* (1, C) */
	float	*churn_b;	/* (1) */
};
#define NN_NPARAMS	23

/* A model: sizes, vocabularies, parameters. Owns all three. */
struct nn_model {
	struct nn_config	 cfg;
	struct vocab		*vocab;
	struct nn_params	 p;
	float			*mem;		/* every parameter */
	size_t			 n_params;	/* floats in mem */
	char			*extra;		/* other members of the file's
						 * config (JSON object), or NULL */
};

/*
 * Forward modes. NN_FULL computes every position of every layer and
 * saves what a backward pass needs (training). NN_LAST is inference: the
 * outputs at each window's last position only, so the last layer works
 * on one query per window, with the key and value maps folded into it
 * (no backward exists for it).
 */
enum nn_mode { NN_FULL, NN_LAST };

/* Flags of nn_acts_new / nn_forward. */
#define NN_ITEMS	1	/* compute next-item scores (NI per window) */
#define NN_TRAIN	2	/* nn_acts_new: dropout masks, backward buffers */

/*
 * Activations of one forward pass, sized for at most (B, T); the current
 * batch is (b, t). One allocation; the fields point into it. Per-layer
 * tensors are stacked along L, each layer's slice laid out (b, t, ...).
 */
struct nn_acts {
	int	 B, T;		/* capacity */
	int	 b, t;		/* the batch of the last forward */
	int	 mode;		/* of the last forward */
	int	 flags;
	int	*len;		/* (B) window lengths of the last forward */
	float	*x0;		/* (B, T, C) sum of the embeddings */
	float	*ln1;		/* (L, B, T, C) */
	float	*ln1_mean;	/* (L, B, T) */
	float	*ln1_rstd;	/* (L, B, T) */
	float	*qkv;		/* (L, B, T, 3C) */
	float	*att;		/* (L, B, H, T, T) row k: softmax over j <= k */
	float	*atty;		/* (L, B, T, C) heads' outputs, concatenated */
	float	*res1;		/* (L, B, T, C) x after attention */
	float	*ln2;		/* (L, B, T, C) */
	float	*ln2_mean;	/* (L, B, T) */
	float	*ln2_rstd;	/* (L, B, T) */
	float	*fch;		/* (L, B, T, 4C) before GELU */
	float	*fch_gelu;	/* (L, B, T, 4C) */
	float	*res2;		/* (L, B, T, C) block outputs */
	float	*lnf;		/* (B, T, C) NN_FULL only */
	float	*lnf_mean;	/* (B, T) */
	float	*lnf_rstd;	/* (B, T) */
	float	*type_logits;	/* (B, T, NT) NN_FULL only */
	/* NN_LAST, the last layer at the last position of each window */
	float	*lx;		/* (B, C) residual stream in */
	float	*la;		/* (B, C) ln1 */
	float	*lq;		/* (B, C) query */
	float	*lqk;		/* (B, H, C) query through the key map */
	float	*latt;		/* (B, H, T) attention of the last query */
	float	*labar;		/* (B, H, C) attention-weighted mean of ln1 */
	float	*laty;		/* (B, C) heads' outputs */
	float	*lres1;		/* (B, C) */
	float	*lln2;		/* (B, C) */
	float	*lln2_mean;	/* (B) */
	float	*lln2_rstd;	/* (B) */
	float	*lfch;		/* (B, 4C) */
	float	*lfch_gelu;	/* (B, 4C) */
	/* heads at the last position (both modes) */
	float	*zin;		/* (B, C) final residual stream (block out) */
	float	*z;		/* (B, C) after ln_f */
	float	*z_mean;	/* (B) */
	float	*z_rstd;	/* (B) */
	float	*type_prob;	/* (B, NT) next type distribution */
	float	*churn_logit;	/* (B) */
	float	*churn;		/* (B) probability */
	float	*item_score;	/* (B, NI) when NN_ITEMS, else NULL */
	/* NN_TRAIN: dropout masks (0 or 1/(1-p)) and backward buffers */
	float	*drop0;		/* (B, T, C) of the embeddings */
	float	*drop1;		/* (L, B, T, C) of the attention branch */
	float	*drop2;		/* (L, B, T, C) of the feed-forward branch */
	float	*dx, *dres1, *dtmp, *datty;	/* (B, T, C) */
	float	*dqkv;		/* (B, T, 3C) */
	float	*dfch, *dfchg;	/* (B, T, 4C) */
	float	*datt;		/* (T, T) */
	float	 dropout;	/* probability, 0: none */
	uint64_t drop_seed;
	int	 window0;	/* index of window 0 in the whole batch */
	float	*tmp;		/* scratch: (B, T, C), at least (B, 4C), (B, NT) */
	float	*mem;
	size_t	 n_floats;
};

/* Gradients, or optimizer moments: a block shaped like the parameters. */
struct nn_grads {
	struct nn_params p;
	float		*mem;
	size_t		 n;
};

/* AdamW settings. */
struct nn_adamw {
	float	 lr, beta1, beta2, eps, weight_decay;
};

/* A seeded generator (splitmix64); never rand(). */
struct nn_rng {
	uint64_t	 s;
};
void		 nn_rng_seed(struct nn_rng *, uint64_t seed);
uint64_t	 nn_rng_u64(struct nn_rng *);
/* Uniform in [0, 1). */
double		 nn_rng_uniform(struct nn_rng *);
/* Standard normal (Box-Muller). */
double		 nn_rng_normal(struct nn_rng *);

/* ---- model (nn-model.c) ---- */

/* Threads OpenBLAS may use inside one call (1 when we split batches). */
void		 nn_blas_threads(int n);
/* Stop OpenBLAS's idle threads, which spin for a while after it loads
 * (they come back with the next call that wants them). */
void		 nn_blas_idle(void);

/* 0 when the sizes make a model, else -1 and ERR_MODEL naming the field. */
int		 nn_config_check(const struct nn_config *, struct err *);
/* Floats of each parameter field, in struct order. */
void		 nn_param_sizes(const struct nn_config *,
		    size_t sizes[NN_NPARAMS]);
/*
 * A model with zeroed parameters. Takes ownership of vocab (freed on
 * error too), whose sizes must match cfg. NULL and e on error (ERR_NOMEM
 * with the byte count for the parameters).
 */
struct nn_model	*nn_model_new(const struct nn_config *, struct vocab *,
		    struct err *);
void		 nn_model_free(struct nn_model *);
/*
 * Random initialisation: weights N(0, 0.02) (residual projections
 * N(0, 0.02 / sqrt(2L))), biases 0, LayerNorm weights 1.
 */
void		 nn_model_init_random(struct nn_model *, struct nn_rng *);

/* One tensor of the model file (MODEL.md "File format"). */
struct nn_tensor {
	char		 name[64];
	int		 ndim;		/* 1 or 2 */
	int64_t		 shape[2];
	float		*data;		/* into the model's parameters */
	size_t		 n;		/* floats */
};
/* Number of tensors in the file: 11 + 12 L. */
size_t		 nn_tensor_count(const struct nn_config *);
/* Tensor i (0 .. count-1) in file order. */
void		 nn_tensor_get(const struct nn_model *, size_t i,
		    struct nn_tensor *);

/* Activations for batches up to (B, T); NULL and e (ERR_NOMEM) on error. */
struct nn_acts	*nn_acts_new(const struct nn_config *, int B, int T, int flags,
		    struct err *);
void		 nn_acts_free(struct nn_acts *);
/*
 * Dropout with probability p in the following NN_FULL passes (acts made
 * with NN_TRAIN; p 0 turns it off): after the embeddings and on each
 * block's attention and feed-forward branch before the residual sum.
 * Masks come from seed, one stream per window, numbered from window0,
 * so they do not depend on how a batch is split among threads.
 */
void		 nn_acts_dropout(struct nn_acts *, float p, uint64_t seed,
		    int window0);

/* Gradients shaped like m's parameters, zeroed; NULL and e on error. */
struct nn_grads	*nn_grads_new(const struct nn_model *, struct err *);
void		 nn_grads_free(struct nn_grads *);
void		 nn_zero_grad(struct nn_grads *);
/* Sum of squares (double); g += h. */
double		 nn_grads_norm2(const struct nn_grads *);
void		 nn_grads_add(struct nn_grads *, const struct nn_grads *);
/*
 * The backward pass of the last nn_forward(NN_FULL) on acts (NN_TRAIN),
 * from dlnf (b, t, C): the loss's gradient with respect to the final
 * LayerNorm's output at every position (zero on padding rows). The
 * heads' own gradients are the caller's. Adds into g.
 */
void		 nn_backward(const struct nn_model *, struct nn_grads *,
		    struct nn_acts *, const struct tok *, const float *dlnf);
/*
 * One AdamW step: moments m and v shaped like the parameters, step from
 * 1, gradients scaled by gscale first (clipping). Weight decay only on
 * the linear layers' matrices.
 */
void		 nn_adamw_step(struct nn_model *, const struct nn_grads *g,
		    struct nn_grads *m, struct nn_grads *v,
		    const struct nn_adamw *, int step, float gscale);
/* The same on parameters [lo, hi) of the block (one range a thread). */
void		 nn_adamw_range(struct nn_model *, const struct nn_grads *g,
		    struct nn_grads *m, struct nn_grads *v,
		    const struct nn_adamw *, int step, float gscale, size_t lo,
		    size_t hi);

/*
 * The forward pass over b windows padded to t positions: tok is (b, t),
 * window i has len[i] >= 1 tokens at tok[i * t .. i * t + len[i]); the
 * rest is ignored. b <= acts->B, t <= acts->T and t <= max_len; token
 * values must be in range (asserted). NN_ITEMS in flags computes
 * item_score (acts must have been made with it).
 */
void		 nn_forward(const struct nn_model *, struct nn_acts *,
		    const struct tok *tok, const int *len, int b, int t,
		    enum nn_mode, int flags);

/*
 * Attention shown to people, for window i of the last forward, query =
 * its last position, n = len[i] values each (MODEL.md): per_head is
 * (L, H, n); mean is the last layer's mean over heads; rollout uses
 * acts->tmp as scratch.
 */
void		 nn_attention_per_head(const struct nn_model *,
		    const struct nn_acts *, int i, float *per_head);
void		 nn_attention_mean(const struct nn_model *,
		    const struct nn_acts *, int i, float *mean);
void		 nn_attention_rollout(const struct nn_model *,
		    struct nn_acts *, int i, float *rollout);

/*
 * Indices of the k largest of x[from .. n), largest first (ties: lower
 * index first) into idx; returns how many (k or fewer).
 */
int		 nn_topk(const float *x, int n, int from, int k, int *idx);

/* ---- kernels (nn-layers.c): outputs, saved values, inputs, weights ---- */

/* out(BT, C) = sum of the five embedding rows of each token. */
void	nn_embed_forward(float *out, const struct tok *tok, const float *type,
	    const float *item, const float *gap, const float *amount,
	    const float *pos, int BT, int C);
/* out(N, C) = LN(inp) * w + b; saves mean and rstd (N). */
void	nn_layernorm_forward(float *out, float *mean, float *rstd,
	    const float *inp, const float *w, const float *b, int N, int C);
/* out(N, OC) = inp(N, C) . w(OC, C)^T + bias (bias may be NULL). */
void	nn_matmul_forward(float *out, const float *inp, const float *w,
	    const float *bias, int N, int C, int OC);

/* Query rows of a causal attention block: one sgemm each. */
#define NN_ATT_BLOCK	64
/*
 * Causal self-attention over qkv (B, T, 3C): att (B, H, T, T) holds the
 * softmax rows (zero above the diagonal and for rows k >= len), out
 * (B, T, C) the heads' outputs (zero for rows k >= len).
 */
void	nn_attention_forward(float *out, float *att, const float *qkv,
	    const int *len, int B, int T, int C, int H);
/*
 * Attention of one query per window (its last position) over the keys
 * and values of a (B, T, C) (the ln1 output), with the key and value
 * maps folded in: scores_j = a_j . (Wk_h^T q_h) + q_h . bk_h, and
 * out_h = Wv_h (sum_j att_j a_j) + bv_h. q is (B, C); w, bias the
 * layer's qkv weight (3C, C) and bias (3C). Saves qk (B, H, C) and abar
 * (B, H, C); att is (B, H, T), zero beyond len. Inference only.
 */
void	nn_attention_last_forward(float *out, float *att, float *qk,
	    float *abar, const float *q, const float *a, const float *w,
	    const float *bias, const int *len, int B, int T, int C, int H);
/* out(N) = GELU(inp), the tanh form. */
void	nn_gelu_forward(float *out, const float *inp, int N);
/* out(N) = a + b. */
void	nn_residual_forward(float *out, const float *a, const float *b, int N);
/* out(N) = a * b. */
void	nn_mul_forward(float *out, const float *a, const float *b, int N);
/* out = inp * mask, mask 0 with probability p else 1/(1-p) (from rng). */
void	nn_dropout_forward(float *out, float *mask, const float *inp, float p,
	    int N, struct nn_rng *rng);

/* Backward kernels: gradients (added into), dout, saved values, sizes. */
void	nn_embed_backward(float *dtype, float *ditem, float *dgap,
	    float *damount, float *dpos, const float *dout, const struct tok *,
	    const int *len, int B, int T, int C);
void	nn_layernorm_backward(float *dinp, float *dw, float *db,
	    const float *dout, const float *inp, const float *w,
	    const float *mean, const float *rstd, int N, int C);
/* dinp and dbias may be NULL. */
void	nn_matmul_backward(float *dinp, float *dw, float *dbias,
	    const float *dout, const float *inp, const float *w, int N, int C,
	    int OC);
/* datt: scratch (T, T); dout zero on padding rows. */
void	nn_attention_backward(float *dqkv, float *datt, const float *dout,
	    const float *qkv, const float *att, const int *len, int B, int T,
	    int C, int H);
void	nn_gelu_backward(float *dinp, const float *dout, const float *inp,
	    int N);
/* probs(N, V) = softmax of each row of logits. */
void	nn_softmax_forward(float *probs, const float *logits, int N, int V);
/*
 * One row of a softmax cross entropy in place: returns -log p[y], leaves
 * x = scale (softmax(x) - onehot(y)). nn_softmax_xent_row returns NAN,
 * x undefined, when a logit exceeds x[y] by more than 64: fill x again
 * and take nn_softmax_xent_row_max, which takes any finite row.
 */
float	nn_softmax_xent_row(float *x, int n, int y, float scale);
float	nn_softmax_xent_row_max(float *x, int n, int y, float scale);
/* logit(B) = z(B, C) . w + b[0]; prob = sigmoid(logit). */
void	nn_churn_forward(float *prob, float *logit, const float *z,
	    const float *w, const float *b, int B, int C);
/* out(B, C) = inp(B, T, C) at position len[i] - 1 of each window. */
void	nn_gather_last(float *out, const float *inp, const int *len, int B,
	    int T, int C);

/* d(N, K) = squared Euclidean distances of rows of x (N, C) to c (K, C). */
void	nn_sqdist(float *d, const float *x, const float *c, int N, int K,
	    int C);

/* AdamW on n values (nn_adamw_step per tensor); wd = lr * decay. */
void	nn_adamw_update(float *w, const float *g, float *m, float *v,
	    size_t n, float lr, float b1, float b2, float c1, float c2,
	    float eps, float wd, float gscale);
/* Sum of squares, accumulated in double. */
double	nn_sumsq(const float *x, size_t n);

/* ---- plain-loop references (nn-ref.c), same arguments ---- */

void	nn_ref_embed_forward(float *, const struct tok *, const float *,
	    const float *, const float *, const float *, const float *, int,
	    int);
void	nn_ref_layernorm_forward(float *, float *, float *, const float *,
	    const float *, const float *, int, int);
void	nn_ref_matmul_forward(float *, const float *, const float *,
	    const float *, int, int, int);
void	nn_ref_attention_forward(float *, float *, const float *, const int *,
	    int, int, int, int);
void	nn_ref_attention_last_forward(float *, float *, const float *,
	    const float *, const float *, const float *, const int *, int,
	    int, int, int);
void	nn_ref_gelu_forward(float *, const float *, int);
void	nn_ref_softmax_forward(float *, const float *, int, int);
void	nn_ref_churn_forward(float *, float *, const float *, const float *,
	    const float *, int, int);

/* ---- the model file (nn-io.c) ---- */

/*
 * Read a model from a safetensors image of len bytes (borrowed); what
 * names it in messages (a path or a model name). Rejects, with ERR_MODEL
 * and a message naming the tensor or field: a header length past the
 * end, JSON that does not parse, a format or version other than
 * journeyscope-seq 1, a bad config or vocabulary, a dtype other than F32,
 * a shape that disagrees with the config, data offsets that overlap,
 * leave gaps or run past the end, a missing tensor, a non-finite weight.
 */
struct nn_model	*nn_model_read_mem(const void *, size_t len, const char *what,
		    struct err *);
/* The same from a file. */
struct nn_model	*nn_model_read_file(const char *path, struct err *);
/*
 * The model as a safetensors image (malloc'd, the caller's) with the
 * config and vocabularies in __metadata__; extra (may be NULL) is a JSON
 * object whose members are added to the config. -1 and e on error.
 */
int		 nn_model_write_mem(const struct nn_model *, const char *extra,
		    void **out, size_t *len, struct err *);
/* Write the image to path (replaced atomically: written beside, renamed). */
int		 nn_model_write_file(const struct nn_model *, const char *extra,
		    const char *path, struct err *);
/*
 * The config as a compact JSON object (d_model, n_layers, n_heads,
 * max_len, n_types, n_items, churn_horizon_days, the extra members, and
 * n_params), without the vocabularies; malloc'd, the caller's.
 */
char		*nn_config_json(const struct nn_model *);

#endif
