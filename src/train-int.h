/*
 * train-int.h: what train.c, train-data.c and train-eval.c share: sets
 * of windows with their targets, built from customers' histories by
 * MODEL.md's protocols, and batches of them. Not for other modules.
 */
#ifndef JS_TRAIN_INT_H
#define JS_TRAIN_INT_H
#include <stddef.h>
#include <stdint.h>

#include "tokens.h"
#include "train.h"

struct store_history;
struct nn_model;
struct nn_acts;
struct nn_grads;
struct smap;
struct store;

/* Kinds of window. */
enum {
	TS_SEQ,		/* next type and item at every position (training) */
	TS_NEXT,	/* the next event after the last position (val, test) */
	TS_CHURN	/* the churn label at the last position */
};

/* One window; its tokens and targets live in the set's pools. */
struct tsample {
	uint32_t	 off;		/* first token in the pools */
	int32_t		 n;		/* tokens */
	uint8_t		 kind;
	int8_t		 label;		/* TS_CHURN: 1 churned, 0 not */
	int32_t		 next_type;	/* TS_NEXT: the target */
	int32_t		 next_item;	/* TS_NEXT: the target, 0 none */
	uint32_t	 touched;	/* TS_NEXT: first of its items in pool */
	uint32_t	 n_touched;	/* the customer's distinct items, sorted */
	int32_t		 next_raw;	/* TS_NEXT: the target in the universe */
	int64_t		 customer;	/* store id */
};

/*
 * The items next-item candidates are drawn from, each with its
 * vocabulary index: in evaluation every item of the store (a rare one
 * scores as the unknown item, like any input), in validation the
 * vocabulary's known items (raw index = vocabulary index - 2).
 */
struct universe {
	struct smap	*raw;		/* external id -> raw index; NULL: vocab */
	int32_t		*vocab;		/* (n) raw index -> vocabulary index */
	int32_t		 n;
};
void	universe_vocab(struct universe *, const struct vocab *);
int	universe_store(struct universe *, struct store *, const struct vocab *,
	    struct err *);
void	universe_release(struct universe *);
/* The raw index of an item, -1 for none or one outside the universe. */
int32_t	universe_raw(const struct universe *, const struct vocab *,
	    const char *item);

/*
 * Windows and their pools; owns them. tt and ti hold, per token, the
 * TS_SEQ targets (the type and item of the following event, 0: none);
 * c0 and c1, the TS_CHURN windows' labels at that position: how many
 * cut-offs whose window ends there say not churned, and churned.
 */
struct tset {
	struct tsample	*s;
	size_t		 n, cap;
	struct tok	*tok;
	int32_t		*tt, *ti;
	uint16_t	*c0, *c1;
	size_t		 len, lcap;
	int32_t		*items;		/* touched items of TS_NEXT windows */
	size_t		 ilen, icap;
	size_t		*xidx;		/* scratch: a window's event indices */
	size_t		 xcap;
};

void	tset_init(struct tset *);
void	tset_release(struct tset *);
void	tset_clear(struct tset *);
/* Bytes held by the pools. */
size_t	tset_bytes(const struct tset *);

/*
 * Append windows of history h (oldest first) for a model of vocabulary v
 * and window length max_len:
 * seq: a training sequence over h[0..end): the latest n = min(max_len,
 *   end - 1) events before h[end-1] as input, each target the event after
 *   it; nothing when end < 2.
 * next: the latest max_len events of h[0..end) as input, h[end] the
 *   target; touched (n_touched item indices, sorted) kept with it.
 * churn: the latest max_len events at or before cut, with label (also
 *   counted at its last position).
 * churns: the churn windows of n cut-offs (labels label[i]) in as few
 *   windows as give the same inputs: the model is causal and a window's
 *   tokens do not depend on what follows, so every cut-off whose window
 *   starts at h[0] (at most max_len events) is a prefix of the longest
 *   of them and is trained at its own last position in that one window;
 *   any other gets its own. label of a merged window: -1.
 * Each returns the windows added (0 when there was none).
 */
int	tset_add_seq(struct tset *, const struct vocab *,
	    const struct store_history *h, size_t end, int max_len,
	    int64_t customer);
int	tset_add_next(struct tset *, const struct vocab *,
	    const struct universe *, const struct store_history *h, size_t end,
	    int max_len, const int32_t *touched, size_t n_touched,
	    int64_t customer);
int	tset_add_churn(struct tset *, const struct vocab *,
	    const struct store_history *h, int64_t cut, int max_len,
	    int label, int64_t customer);
int	tset_add_churns(struct tset *, const struct vocab *,
	    const struct store_history *h, const int64_t *cut,
	    const int8_t *label, int n, int max_len, int64_t customer);

/* Events of h at or before ts (h is in time order). */
size_t	hist_upto(const struct store_history *h, int64_t ts);
/* Churn label at cut-off cut: 1 when no event in (cut, cut + horizon]. */
int	hist_churned(const struct store_history *h, int64_t cut,
	    int64_t horizon);
/* The distinct items of h[0..end) in the universe, sorted, into *out. */
size_t	hist_items(const struct universe *, const struct vocab *,
	    const struct store_history *h, size_t end, int32_t **out,
	    size_t *cap);

/*
 * Visit customers in id order after `after`, each with its whole history:
 * fn returns 0 to go on, 1 to stop after this customer, -1 on error
 * (e filled). *last gets the id of the last customer visited. Returns
 * 1 when the walk reached the end, 0 when fn stopped it, -1 on error.
 */
typedef int	(*walk_fn)(void *ctx, int64_t customer,
		    const struct store_history *h, struct err *e);
int	train_walk(struct store *, int64_t after, walk_fn, void *ctx,
	    int64_t *last, struct err *);

/* A batch of windows gathered from a set, padded to the longest. */
struct tbatch {
	int		 b, t, cap_b, cap_t;
	struct tok	*tok;		/* (b, t) */
	int		*len;		/* (b) */
	int32_t		*tt, *ti;	/* (b, t) per-position targets */
	uint16_t	*c0, *c1;	/* (b, t) churn labels 0 and 1 there */
	const struct tsample **src;	/* (b) */
};
void	tbatch_init(struct tbatch *, int cap_b, int cap_t);
void	tbatch_release(struct tbatch *);
/* Gather windows idx[0..n) of set (n <= cap_b). */
void	tbatch_fill(struct tbatch *, const struct tset *, const uint32_t *idx,
	    int n);

/*
 * Score windows idx[0..n) of set with m in NN_LAST mode, in batches of
 * a->B: churn probability, next type distribution (NT each) and, when
 * item_score is not NULL, the item scores (NI each) of each window,
 * written at the window's place in the outputs (each may be NULL).
 */
void	train_score(const struct nn_model *m, struct nn_acts *a,
	    struct tbatch *tb, const struct tset *set, const uint32_t *idx,
	    size_t n, float *churn, float *type_prob, float *item_score);

/*
 * The training losses of one batch (train.c): next-type cross entropy
 * at every position with a target; next item by a softmax over the true
 * item and K shared negatives through the tied item embedding; churn
 * binary cross entropy at the positions of churn windows that hold
 * labels (tbatch c0, c1). Each task is a mean over its targets in the
 * whole step (n_type, n_item, n_churn: the step may be split among
 * threads). Owns its buffers.
 */
struct tloss {
	const struct nn_model	*m;
	unsigned		 tasks;
	int			 K;
	const int		*neg;		/* (K) borrowed, per step */
	const float		*eneg;		/* (K, C) their embeddings */
	int			 full;		/* neg: the K known items in
						 * order (the full softmax) */
	int64_t			 n_type, n_item, n_churn;
	double			 type, item, churn;	/* sums, this batch */
	int64_t			 c_type, c_item, c_churn;
	float			*dlnf;		/* (B, T, C) out: d loss / d lnf */
	float			*dlogits, *z, *et, *dz, *sneg, *deneg;
	float			*row;		/* (K + 1) one softmax row */
	int			*rows;
	int			 chunk;		/* rows scored at a time */
	int			 bce;		/* > 0: binary cross entropy,
						 * bce negatives a position */
	int			 both;		/* with bce: the softmax too */
	uint64_t		 bce_seed;	/* this step's */
	int			 window0;	/* the batch's first window in
						 * the step */
};
void	tloss_init(struct tloss *, const struct nn_model *, int B, int T,
	    int K);
void	tloss_release(struct tloss *);
/*
 * Negative k of position t of window w of a step seeded seed, for the
 * binary cross entropy: uniform over the K known items (TOK_UNK + 1 ..),
 * never y; -1 when y is the only item.
 */
int	tloss_bce_negative(uint64_t seed, int w, int t, int k, int y, int K);
/* Chunks of about chunk rows to score np item targets in (train.c). */
int	tloss_chunks(int np, int chunk);
/* n windows sorted longest first into out, dealt for the workers. */
size_t	train_deal_batch(uint32_t *out, const uint32_t *sorted, size_t n);
/*
 * After nn_forward(NN_FULL) of batch tb on a: the losses (sums into l),
 * the heads' gradients added into g, and l->dlnf for nn_backward.
 */
void	tloss_batch(struct tloss *, struct nn_acts *a, struct nn_grads *g,
	    const struct tbatch *tb);

/* Ranking metrics of a set of TS_NEXT windows (train-eval.c). */
struct rank_metrics {
	double		 hr10, ndcg10;		/* 100 sampled negatives */
	double		 full_hr10, full_ndcg10;	/* every item */
	double		 type_acc;
	int64_t		 n_item, n_type;
	int64_t		 n_unknown;	/* targets not in the vocabulary */
};
/*
 * next-type accuracy and next-item metrics of windows idx[0..n) of set
 * (sampled negatives from a generator seeded with seed; full ranking
 * only when full).
 */
void	train_rank_metrics(const struct nn_model *m, struct nn_acts *a,
	    struct tbatch *tb, const struct tset *set, const struct universe *,
	    const uint32_t *idx, size_t n, uint64_t seed, int full,
	    struct rank_metrics *out);
/* ROC AUC of scores against 0/1 labels (ties count half); NAN if one class. */
double	metric_auc(const float *score, const int8_t *label, size_t n);
/* Average precision (PR AUC). */
double	metric_ap(const float *score, const int8_t *label, size_t n);
/* Mean log loss of probabilities (clamped to [1e-7, 1 - 1e-7]). */
double	metric_logloss(const float *p, const int8_t *label, size_t n);

#endif
