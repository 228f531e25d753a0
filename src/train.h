/*
 * train.h: training and evaluation of the sequence model on a store.
 * train.c runs the loop (batches, threads, AdamW, early stopping) and
 * the losses; train-data.c turns customers into training, validation
 * and test windows by MODEL.md's protocols; train-eval.c computes the
 * metrics and baselines. Reports progress through a callback and never
 * prints.
 */
#ifndef JS_TRAIN_H
#define JS_TRAIN_H
#include <stddef.h>
#include <stdint.h>

struct err;
struct store;
struct nn_model;
struct vocab;

/* Tasks (bits of train_opts.tasks). */
#define TRAIN_CHURN	1
#define TRAIN_TYPE	2
#define TRAIN_ITEM	4
#define TRAIN_ALL_TASKS	7

/* --bce-negatives at most: a position's draws number 1 .. this. */
#define TRAIN_BCE_MAX	4095

/* The next-item loss (train_opts.item_loss). */
#define TRAIN_LOSS_SOFTMAX	0	/* every item, or `negatives` */
#define TRAIN_LOSS_BCE		1	/* SASRec's, bce_negatives */
#define TRAIN_LOSS_BOTH		2	/* the full softmax + the BCE */
#define TRAIN_N_LOSSES		3
/* Their names, as --item-loss and the model's settings spell them. */
extern const char *const train_item_losses[TRAIN_N_LOSSES];
/* The TRAIN_LOSS_* of a name, or -1. */
int		 train_item_loss(const char *name);

struct train_opts {
	int		 epochs;	/* at most */
	int		 batch;		/* windows per step */
	float		 lr;		/* peak learning rate */
	float		 weight_decay;
	float		 adam_eps;	/* AdamW's epsilon */
	float		 dropout;	/* < 0: train_dropout_auto */
	float		 clip;		/* gradient norm, 0: none */
	int		 warmup;	/* steps; -1: 1% of all steps */
	int		 C, L, H, max_len;
	int		 horizon_days;	/* churn */
	int64_t		 cutoff;	/* T; 0: last event - horizon */
	unsigned	 tasks;		/* 0: every task the data supports */
	int		 threads;
	uint64_t	 seed;
	int		 all;		/* no held-out data */
	int		 patience;	/* epochs without improvement */
	int		 negatives;	/* sampled items per step (next
					 * item); 0 every item */
	int		 item_loss;	/* TRAIN_LOSS_* */
	int		 bce_negatives;	/* binary cross entropy's uniform
					 * negatives a position (1 ..
					 * TRAIN_BCE_MAX; BCE, BOTH) */
	size_t		 cache_mb;	/* windows kept between epochs */
	int		 churn_cutoffs;	/* training cut-offs, a horizon apart */
	const char	*name;		/* model name, NULL: m<k> */
};

/* What the progress callback sees. */
struct train_progress {
	const char	*phase;		/* "reading", "training", "validating" */
	int		 epoch, epochs;	/* from 1 */
	int64_t		 step, steps;	/* in this epoch */
	int64_t		 done, total;	/* reading: customers */
	double		 loss_type, loss_item, loss_churn; /* running means */
	double		 tokens_per_s;
	double		 eta;		/* seconds left, estimated */
	double		 val, best_val;	/* validation score (higher better) */
	int		 best_epoch;
};
/* Called often; a non-zero return stops training (the best so far is kept). */
typedef int	(*train_progress_fn)(void *ctx, const struct train_progress *);

struct train_result {
	char		*name;		/* the stored model's name (caller's) */
	int64_t		 model_id;
	int		 epochs_run, best_epoch;
	int		 stopped;	/* by the callback */
	double		 seconds;
	double		 tokens_per_s;
	unsigned	 tasks;
	int		 sequence_time;	/* the store has no real times */
	char		*metrics;	/* JSON (caller's), as stored */
	char		*report;	/* the metrics, readable (caller's) */
};

/* Defaults (see the man page). */
void		 train_opts_init(struct train_opts *);
/*
 * The default dropout: 0.5 for sparse data (customers average fewer than
 * TRAIN_SPARSE_EVENTS events, as the SASRec paper's Amazon and Steam sets
 * with 9 to 11, where it used 0.5), else 0.2 (its MovieLens, 165).
 */
#define TRAIN_SPARSE_EVENTS	20
float		 train_dropout_auto(int64_t customers, int64_t events);
/* The store's vocabularies: types by count, items with an event. */
struct vocab	*train_store_vocab(struct store *, struct err *);
/*
 * Train a model on the store and keep the best one (by the validation
 * score; the last with all) in it, with its metrics and settings.
 * Returns 0 and fills res, or -1 and e. Interrupted by the callback
 * after at least one epoch, the best so far is still kept (res->stopped).
 */
int		 train_run(struct store *, const struct train_opts *,
		    train_progress_fn, void *ctx, struct train_result *res,
		    struct err *);
void		 train_result_release(struct train_result *);

/*
 * Evaluate model m on the store by MODEL.md's protocols (cut-off T and
 * horizon from the model's settings unless cutoff/horizon_days are given,
 * 0 for the defaults) with the baselines beside it. *json (caller's) gets
 * the metrics and *text (may be NULL) a readable report of them.
 * Returns 0 or -1 and e.
 */
int		 train_eval(struct store *, const struct nn_model *m,
		    int64_t cutoff, int horizon_days, unsigned tasks,
		    int threads, train_progress_fn, void *ctx, char **json,
		    char **text, struct err *);

#endif
