/*
 * segment.h: customer segments. RFM scores and the 5x5 recency x
 * frequency map (segment.c), k-means clusters on the model's customer
 * embeddings, churn-risk bands from scores, filters written in a small
 * expression language (segment-filter.c) and a segment against the rest.
 * Segments are rows of table segments with their members; building one
 * replaces the segments of its kind in one transaction. Never prints.
 */
#ifndef JS_SEGMENT_H
#define JS_SEGMENT_H
#include <stddef.h>
#include <stdint.h>

struct err;
struct store;
struct nn_model;

/* ---- filters (segment-filter.c) ---- */

/* A value bound to a ? of a compiled filter. */
struct filter_param {
	int		 kind;		/* FILTER_INT, FILTER_REAL, FILTER_TEXT */
	int64_t		 i;
	double		 d;
	char		*s;		/* owned */
};
enum { FILTER_INT, FILTER_REAL, FILTER_TEXT };

/* A filter compiled to an SQL condition on customers c; owns all. */
struct filter {
	char			*sql;		/* "... ? ..." over c.* */
	struct filter_param	*p;
	size_t			 n;
};

/*
 * Compile expr (see the man page: fields, count(TYPE[, AGE]), ages like
 * 90d, comparisons, and/or/not, parentheses) into f. Ages count back
 * from ref (UTC seconds: the store's last event). Every value the user
 * wrote becomes a bound parameter; identifiers are only ever looked up
 * in a fixed table. Returns 0, or -1 and ERR_PARSE with a message
 * "column N: why" pointing into expr (e->msg) and *col set to N (1-based).
 */
int		 filter_compile(const char *expr, int64_t ref, struct filter *f,
		    int *col, struct err *);
void		 filter_release(struct filter *);

/* ---- RFM (segment.c) ---- */

/* One rule of the RFM map: the cells r in [r0, r1], f in [f0, f1]. */
struct rfm_rule {
	char		 name[48];
	int		 r0, r1, f0, f1;
};
/* The map: rules in order, the first that matches a cell names it. */
struct rfm_map {
	struct rfm_rule	*rule;
	size_t		 n;
	char		 cell[5][5][48];	/* [r-1][f-1] -> name */
};
/* The standard map (Champions ... Hibernating) as a JSON text (static). */
const char	*rfm_default_json(void);
/*
 * Parse a map from JSON (what rfm_default_json gives: an array of
 * {"name":..., "r":[lo,hi], "f":[lo,hi]}, in order). Every one of the 25
 * cells must be matched by some rule. -1 and ERR_PARSE naming the rule
 * or the uncovered cells.
 */
int		 rfm_map_parse(const char *json, const char *what,
		    struct rfm_map *, struct err *);
void		 rfm_map_release(struct rfm_map *);
/*
 * Quintile scores 1..5 of v[0..n) (higher value, higher score; with
 * higher_better 0 the reverse). Ties share a score: that of the tie
 * group's middle place. Writes score[0..n).
 */
void		 rfm_quintiles(const double *v, size_t n, int higher_better,
		    int *score);

/* Progress of long work; a non-zero return cancels it. */
typedef int	(*segment_progress_fn)(void *ctx, const char *what,
		    int64_t done, int64_t total);

/*
 * RFM as of `at` (0: the store's last event): recency from the last
 * event, frequency = purchase events, monetary = spend; scores into
 * table customer_rfm; one segment per map name (kind "rfm", the map in
 * its definition). Replaces earlier RFM segments. Returns the number of
 * customers scored, or -1.
 */
int64_t		 segment_build_rfm(struct store *, const struct rfm_map *,
		    int64_t at, struct err *);
/* Customers per RFM cell [r-1][f-1] (from customer_rfm). */
int		 segment_rfm_grid(struct store *, int64_t grid[5][5],
		    struct err *);

/*
 * Churn-risk bands from the model's latest scores: cuts ascending in
 * (0, 1) (n_cuts of them) make n_cuts + 1 segments "risk <lo-hi>" (kind
 * "band"). Returns the number of customers banded, or -1.
 */
int64_t		 segment_build_bands(struct store *, int64_t model_id,
		    const double *cuts, int n_cuts, struct err *);

/*
 * k-means on the model's customer embeddings (the final hidden state of
 * each customer's last event, window as of now), k-means++ seeding from
 * seed, Lloyd's iterations with OpenBLAS distances; k segments "cluster
 * N" (kind "cluster"), each described in its definition (its most
 * over-represented event types, its churn rate). Returns the number of
 * customers clustered, or -1.
 */
int64_t		 segment_build_clusters(struct store *, const struct nn_model *,
		    int k, uint64_t seed, segment_progress_fn, void *ctx,
		    struct err *);
/*
 * k-means on x (n, C): assign (n) cluster indices, centroids (k, C).
 * Returns the iterations run. Deterministic for a seed.
 */
int		 kmeans(const float *x, size_t n, int C, int k, uint64_t seed,
		    int max_iter, int *assign, float *centroids);

/* A filter segment (kind "filter", the expression as its definition). */
int64_t		 segment_build_filter(struct store *, const char *name,
		    const char *expr, int *col, struct err *);

#endif
