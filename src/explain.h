/*
 * explain.h: one inference report for one customer (MODEL.md "explain
 * --json"): the window as of a time, with events left out on request
 * (what-if), the prediction, the attention arrays, and optionally the
 * occlusion effect of every event with the faithfulness figure. The
 * report can be written as MODEL.md's JSON. Reads the store, runs the
 * engine; never prints.
 */
#ifndef JS_EXPLAIN_H
#define JS_EXPLAIN_H
#include <stddef.h>
#include <stdint.h>

#include "tokens.h"

struct err;
struct store;
struct store_hevent;
struct nn_model;
struct customer;

/* Defaults of explain_opts (explain_opts_init). */
#define EXPLAIN_TOP_TYPES	5
#define EXPLAIN_TOP_ITEMS	10
#define EXPLAIN_RANDOM_SETS	20	/* random sets of 3 (faithfulness) */
#define EXPLAIN_SEED		1

struct explain_opts {
	int64_t		 at;		/* events at or before (UTC seconds) */
	const int64_t	*drop;		/* event ids left out (borrowed) */
	size_t		 n_drop;
	int		 occlusion;	/* add the per-event effects */
	int		 top_types;	/* next types listed */
	int		 top_items;	/* next items listed */
	int		 random_sets;	/* for faithfulness.random3 */
	uint64_t	 seed;		/* for the random sets */
};

/* One ranked entry of a head: a vocabulary index and its value. */
struct explain_rank {
	int		 index;
	float		 value;		/* probability or score */
};

/*
 * The report; every array belongs to the explain handle and stays valid
 * until the next explain_run or explain_free. n is the window length;
 * ev and tok are the window, oldest first, and every array indexed by
 * event is indexed like them.
 */
struct explain_report {
	int64_t			 customer_id;
	const char		*customer;	/* external id */
	int64_t			 at;
	size_t			 n_history;	/* events at or before at */
	size_t			 n;		/* window length */
	const struct store_hevent *ev;		/* (n) */
	const struct tok	*tok;		/* (n) */
	const int64_t		*dropped;	/* ids left out, as asked */
	size_t			 n_dropped;
	float			 churn;		/* probability */
	const float		*type_prob;	/* (n_types) */
	const struct explain_rank *next_types;	/* most likely first */
	int			 n_next_types;
	const struct explain_rank *next_items;	/* best first */
	int			 n_next_items;
	const float		*per_head;	/* (L, H, n) */
	const float		*mean;		/* (n) last layer, over heads */
	const float		*rollout;	/* (n) */
	const float		*hidden;	/* (C) final state, last event */
	int			 has_occlusion;
	const float		*occlusion;	/* (n) churn masked - churn */
	int			 has_faithfulness; /* 0: window too short */
	double			 faith_top3, faith_random3, faith_last3;
};

struct explain;
struct store_model;

/*
 * The model called name in the store (NULL: the newest), read and
 * checked; row (may be NULL) gets its row, which the caller releases
 * (store_model_release). NULL and e on error: ERR_NOTFOUND when the
 * store has no such model.
 */
struct nn_model	*explain_load_model(struct store *, const char *name,
		    struct store_model *row, struct err *);

/* Fill o with the defaults above (at: every event). */
void		 explain_opts_init(struct explain_opts *);
/*
 * A handle explaining with model m (borrowed; must outlive the handle)
 * over store s (borrowed). NULL and e on error.
 */
struct explain	*explain_new(struct store *, const struct nn_model *,
		    struct err *);
void		 explain_free(struct explain *);
/*
 * Explain the customer with external id ext. Returns 0 and fills r, or
 * -1 and e: ERR_NOTFOUND for an unknown customer or a dropped id that is
 * not one of its events at or before o->at, ERR_USAGE when no event is
 * left to score.
 */
int		 explain_run(struct explain *, const char *ext,
		    const struct explain_opts *, struct explain_report *r,
		    struct err *);
/* explain_run for a customer row (store_customers_by_id and friends). */
int		 explain_customer(struct explain *, const struct customer *,
		    const struct explain_opts *, struct explain_report *r,
		    struct err *);

/*
 * What-if variants of the last report, cheaply (the history is not read
 * again): variant k leaves out, on top of the report's dropped events,
 * the events at window positions pos[off[k] .. off[k + 1]). churn gets
 * each variant's churn probability, type_prob (may be NULL) its next-type
 * distribution (n_types each); NAN when nothing is left. Returns 0, or
 * -1 and e for a position outside the window.
 */
int		 explain_drop_window(struct explain *, const int *pos,
		    const size_t *off, size_t n_sets, float *churn,
		    float *type_prob, struct err *);

/* ---- every customer, in batches ---- */

/* One scored customer, borrowed for the callback's duration. */
struct explain_scored {
	const struct customer	*customer;
	int			 n;		/* window length */
	const struct tok	*tok;		/* (n) the window */
	float			 churn;
	const float		*type_prob;	/* (n_types) */
	int			 next_type;	/* most likely, index >= 2 */
	const float		*hidden;	/* (C) final state, last event */
};
typedef int	(*explain_batch_fn)(void *ctx, const struct explain_scored *,
		    struct err *);
struct explain_batch;
/*
 * Score every customer with events at or before at, a chunk per step,
 * windows grouped by length into forward passes of B. NULL and e on
 * error.
 */
struct explain_batch *explain_batch_new(struct store *,
		    const struct nn_model *, int64_t at, int B, struct err *);
void		 explain_batch_free(struct explain_batch *);
/*
 * The next chunk (about a thousand customers, in id order): fn for each
 * with events (its return -1 stops with its error). Returns 1 when there
 * may be more, 0 at the end, -1 on error.
 */
int		 explain_batch_step(struct explain_batch *, explain_batch_fn,
		    void *ctx, struct err *);
/* Customers visited so far, and in the store. */
int64_t		 explain_batch_done(const struct explain_batch *);
int64_t		 explain_batch_total(const struct explain_batch *);

/*
 * The report as MODEL.md's JSON (pretty when pretty), with the model's
 * name in "model". malloc'd, the caller's; NULL only if out of memory.
 */
char		*explain_json(const struct explain_report *,
		    const struct nn_model *, const char *model_name,
		    int pretty);

/*
 * A value of a JSON text (a model's stored config or metrics) at a
 * dotted path: object members by name, array items by index
 * ("churn.calibration.3.observed", "tasks.0"). Returns 1 and *num for a
 * number (true/false as 1/0), 2 and the string copied into str (len
 * bytes, cut), 3 for an object or array, 0 when absent or null (or json
 * is NULL), -1 when the text does not parse. num and str may be NULL.
 */
int		 explain_json_get(const char *json, const char *path,
		    double *num, char *str, size_t len);

#endif
