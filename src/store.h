/*
 * store.h: the event store, one SQLite file. Owns one connection, its
 * prepared statements and the schema (versioned by PRAGMA user_version).
 * Only store*.c include sqlite3.h; nothing here prints.
 */
#ifndef JS_STORE_H
#define JS_STORE_H
#include <stddef.h>
#include <stdint.h>

struct err;
struct store;			/* opaque: store.c */
struct ingest;			/* opaque: one import in one transaction */

/* Schema version this build writes (PRAGMA user_version). */
#define STORE_VERSION	3

enum {
	STORE_CREATE	= 1 << 0,	/* create the file if missing */
	STORE_READONLY	= 1 << 1,	/* never write (no migration either) */
	STORE_NOMIGRATE	= 1 << 2	/* refuse an older schema */
};

/*
 * Open the store at path. A new file gets the current schema; an older
 * schema is migrated in one transaction (store_migrated_from() tells from
 * which version) unless STORE_NOMIGRATE; a newer one is refused.
 * Returns NULL and fills e on error.
 */
struct store	*store_open(const char *path, int flags, struct err *e);
void		 store_close(struct store *);
/* The schema version found on open before migration (0 = new file). */
int		 store_migrated_from(const struct store *);
const char	*store_path(const struct store *);

/* Key/value settings in table meta; get returns a copy or NULL. */
char		*store_meta_get(struct store *, const char *key, struct err *);
int		 store_meta_set(struct store *, const char *key,
		    const char *value, struct err *);

/* Explicit transactions for callers that group several writes. */
int		 store_begin(struct store *, struct err *);
int		 store_commit(struct store *, struct err *);
void		 store_rollback(struct store *);

/* ---- imports ---- */

struct ingest_info {
	const char	*source;	/* file path or "sample:..." */
	uint64_t	 hash;		/* content hash of the file, 0 if none */
	int64_t		 bytes;		/* file size */
	const char	*preset;	/* NULL if none */
	const char	*map;		/* the mapping spec used, or NULL */
	int		 sequence_time;	/* 1: times are line order, not real */
};

/* One event to add; strings are NUL-terminated, NULL when missing. */
struct ingest_event {
	const char	*customer;	/* external id, required */
	int64_t		 ts;		/* UTC seconds (or sequence number) */
	const char	*type;		/* required */
	const char	*item;		/* external id or NULL */
	const char	*item_name;	/* NULL: keep what the store has */
	const char	*category;
	double		 price;		/* NAN when unknown */
	double		 amount;	/* NAN when missing */
	double		 quantity;	/* NAN when missing */
	const char	*channel;
	const char	*text;
	const char	*attrs;		/* event attributes, JSON object */
	const char	*cust_attrs;	/* customer attributes, JSON object */
	int64_t		 line;		/* source line, 0 if none */
	/* store_ingest_prefetch() keeps the hashes of customer and item
	 * here for resolving (hashed = 1); callers start with zeros */
	uint64_t	 hash_customer, hash_item;
	int		 hashed;
};

/*
 * The import with this content hash already in the store: its id and
 * source path (copy, caller frees), 0 if none, -1 on error.
 */
int64_t		 store_import_find(struct store *, uint64_t hash,
		    char **source, struct err *);

/*
 * Start an import: BEGIN IMMEDIATE and record it in table imports.
 * Everything added through the handle becomes visible at
 * store_ingest_commit() or not at all. Returns NULL and fills e on error.
 */
struct ingest	*store_ingest_begin(struct store *, const struct ingest_info *,
		    struct err *);
/*
 * Within the same transaction, finish the current source's counts and
 * start recording the next file as its own row of table imports.
 */
int		 store_ingest_source(struct ingest *, const struct ingest_info *,
		    struct err *);
/* Add one event; returns its event id, or -1 and fills e. */
int64_t		 store_ingest_event(struct ingest *, const struct ingest_event *,
		    struct err *);

/*
 * The same in two steps, for a pipeline: store_ingest_resolve() checks an
 * event, gives it its ids and counts it in the aggregates (the event's id
 * is returned; -1 and e when the store refuses it); store_ingest_write()
 * inserts resolved rows, whose strings must stay valid for the call.
 * One thread may resolve while another writes: they share the connection
 * under the handle's lock. Rows are written in the order resolved.
 */
struct ingest_row {
	int64_t		 id, customer, ts, type;
	int64_t		 item, line;		/* 0: none */
	double		 amount, quantity;	/* NAN: none */
	const char	*channel, *text, *attrs;
};
int64_t		 store_ingest_resolve(struct ingest *,
		    const struct ingest_event *, struct ingest_row *,
		    struct err *);
int		 store_ingest_write(struct ingest *, const struct ingest_row *,
		    size_t n, struct err *);
/*
 * A hint, a few events ahead of resolving them: with stage 0 the lookups
 * of ev's customer and item start loading into the CPU's caches, with
 * stage 1 (later, the lookups being cached by then) its aggregates do.
 */
void		 store_ingest_prefetch(struct ingest *,
		    struct ingest_event *, int stage);
/* Add or update an item of the catalog (name, category, price may be NULL/NAN). */
int		 store_ingest_item(struct ingest *, const char *item,
		    const char *name, const char *category, double price,
		    struct err *);
/* Record a planted trigger (sample data): rule, customer, outcome and events. */
int		 store_ingest_truth(struct ingest *, const char *rule,
		    const char *customer, const char *outcome, int fired,
		    const int64_t *event_ids, size_t n, struct err *);
/* 1 for the event type names that count as purchases. */
int		 store_is_purchase_type(const char *name);
/* Count a skipped (not an error) and a rejected row for the summary. */
void		 store_ingest_count(struct ingest *, int64_t rows,
		    int64_t skipped, int64_t rejected);
/* Seconds spent on the current source (stored with it). */
void		 store_ingest_seconds(struct ingest *, double);
/* Events added so far. */
int64_t		 store_ingest_events(const struct ingest *);
/*
 * Bring aggregates up to date, finish the imports rows (seconds < 0 keeps
 * what store_ingest_seconds set), COMMIT, free. On error everything is
 * rolled back and the handle freed as well.
 */
int		 store_ingest_commit(struct ingest *, double seconds,
		    struct err *);
/* ROLLBACK and free; accepts NULL. */
void		 store_ingest_abort(struct ingest *);

/* ---- what the store holds (journeyscope info) ---- */

struct store_count {
	char		*name;
	int64_t		 n;
};

struct store_import_row {
	int64_t		 id;
	char		*source;
	char		*preset;
	int64_t		 started;	/* UTC seconds */
	double		 seconds;
	int64_t		 rows, events, skipped, rejected;
};

struct store_info {
	int		 version;
	int64_t		 customers, events, items, types, segments, models;
	int64_t		 first_ts, last_ts;	/* 0 when no events */
	int		 sequence_time;
	struct store_count *type_counts;	/* most frequent first */
	size_t		 n_type_counts;
	struct store_import_row *imports;
	size_t		 n_imports;
	int64_t		 truths;		/* ground-truth rows */
};
int		 store_info_get(struct store *, struct store_info *, struct err *);
void		 store_info_release(struct store_info *);

/*
 * A 64-bit checksum of the store's data, table by table in key order:
 * customers, types, items, events, ground truth,
 * segments, models, scores; not the imports log or meta. Equal stores
 * give equal sums. Returns 0 or -1.
 */
int		 store_checksum(struct store *, uint64_t *out, struct err *);

/* ---- customers, listed with keyset paging ---- */

enum store_sort {
	SORT_LAST,		/* last activity */
	SORT_SPEND,
	SORT_EVENTS,
	SORT_ID			/* external id */
};

struct customer {
	int64_t		 id;
	char		 ext_id[128];
	int64_t		 n_events, first_ts, last_ts, n_purchases, n_items;
	double		 spend;
};

/*
 * One page of at most n customers sorted by key (descending unless asc),
 * strictly after *after (NULL: from the start). Never scans events and
 * never uses OFFSET. Returns the number filled, or -1.
 */
int		 store_customers_page(struct store *, enum store_sort, int asc,
		    const struct customer *after, struct customer *out,
		    int n, struct err *);
/* A customer by external id: 1 found, 0 not, -1 error. */
int		 store_customer_get(struct store *, const char *ext_id,
		    struct customer *, struct err *);

/* ---- the sequence model: histories, vocabularies, models, scores ----
 * (store-model.c) */

/* One event of a customer's history; strings belong to the history. */
struct store_hevent {
	int64_t		 id;
	int64_t		 ts;		/* UTC seconds */
	const char	*type;		/* event type name */
	const char	*item;		/* item external id, NULL when none */
	double		 amount;	/* NAN when missing */
	const char	*text;		/* NULL when none or not asked for */
	const char	*attrs;		/* JSON object; NULL likewise */
};

/* Events of one customer, oldest first by (ts, id); owns them all. */
struct store_history {
	struct store_hevent	*ev;
	size_t			 n;
	size_t			 cap;
	char			*str;	/* the events' strings, NUL-separated */
	size_t			 str_len, str_cap;
};
void		 store_history_init(struct store_history *);
void		 store_history_release(struct store_history *);

/* Reads histories with one prepared statement (opaque: store-model.c). */
struct store_hreader;
/* The most events one history holds (a whole history is read at once). */
#define STORE_HIST_MAX	2000000
#define STORE_HIST_TEXT	1	/* also read each event's text */
#define STORE_HIST_ATTRS 2	/* and its attributes */
struct store_hreader *store_hreader_new(struct store *, int flags,
		    struct err *);
void		 store_hreader_free(struct store_hreader *);
/*
 * Replace h's contents with customer_id's events at or before at: the
 * latest `limit` of them (0: all), oldest first by (ts, id). Returns the
 * number of events, or -1 and fills e.
 */
int		 store_history_read(struct store_hreader *, int64_t customer_id,
		    int64_t at, size_t limit, struct store_history *h,
		    struct err *);

/*
 * The time of the customer's first event strictly after `after` into
 * *ts: 1 found, 0 none, -1 and e on error.
 */
int		 store_history_next(struct store_hreader *, int64_t customer_id,
		    int64_t after, int64_t *ts, struct err *);

/*
 * Vocabulary sources. Event type names by event count (most first), then
 * by name; items with at least min_events events, by count then external
 * id, at most max of them. *out is an array of n strings the caller frees
 * (each, then the array); NULL and 0 on error.
 */
int		 store_type_names(struct store *, char ***out, size_t *n,
		    struct err *);
int		 store_item_ids(struct store *, int64_t min_events, size_t max,
		    char ***out, size_t *n, struct err *);

/* The latest event time in the store, 0 when there are no events. */
int		 store_last_ts(struct store *, int64_t *, struct err *);

/* Customers by id, strictly after id `after`; returns the number filled. */
int		 store_customers_by_id(struct store *, int64_t after,
		    struct customer *out, int n, struct err *);

/* A row of table models; the strings are the caller's (release). */
struct store_model {
	int64_t		 id;
	char		*name;
	int64_t		 created;	/* UTC seconds */
	char		*config;	/* JSON, or NULL */
	char		*metrics;	/* JSON, or NULL */
	int64_t		 bytes;		/* size of the model file */
};
void		 store_model_release(struct store_model *);
/* All models, oldest first; *out (n rows) freed with store_models_free. */
int		 store_models_list(struct store *, struct store_model **out,
		    size_t *n, struct err *);
void		 store_models_free(struct store_model *, size_t n);
/*
 * The model called name (NULL: the newest) and, when file is not NULL,
 * a copy of its file (*file malloc'd, the caller's). Returns 1 found,
 * 0 not (nothing to release), -1 on error.
 */
int		 store_model_get(struct store *, const char *name,
		    struct store_model *, void **file, size_t *len,
		    struct err *);
/*
 * Add a model. name NULL takes the first free of "m<k>", k counting up
 * from the number of models + 1; the name used is returned in *name_out
 * (the caller's) when name_out is not NULL. A name already taken is
 * ERR_USAGE. Returns the model id, or -1.
 */
int64_t		 store_model_add(struct store *, const char *name,
		    int64_t created, const char *config, const char *metrics,
		    const void *file, size_t len, char **name_out,
		    struct err *);

/* Replace the metrics (JSON) of the model with this id. */
int		 store_model_set_metrics(struct store *, int64_t id,
		    const char *metrics, struct err *);

/* Writes scores with one prepared statement (opaque: store-model.c). */
struct store_scorer;
struct store_scorer *store_scorer_new(struct store *, struct err *);
void		 store_scorer_free(struct store_scorer *);
/* Insert or replace the score of (model, customer); next_type may be NULL. */
int		 store_score_put(struct store_scorer *, int64_t model_id,
		    int64_t customer_id, int64_t at, double churn,
		    const char *next_type, struct err *);

/* ---- segments, RFM, BG/NBD (store-segment.c) ---- */

struct filter;

/* One customer's RFM row (table customer_rfm); segment borrowed. */
struct store_rfm_row {
	int64_t		 customer_id, at, frequency;
	double		 recency, monetary;	/* days; spend */
	int		 r, f, m;
	const char	*segment;
};
/* One customer's BG/NBD row (table customer_bgnbd). */
struct store_bgnbd_row {
	int64_t		 customer_id, at, x;
	double		 t_x, T;		/* weeks */
	double		 p_alive, p_no_purchase;
};
/* Prepared writes of members and per-customer rows (opaque). */
struct store_seg_writer;
struct store_seg_writer *store_seg_writer_new(struct store *, struct err *);
void		 store_seg_writer_free(struct store_seg_writer *);
int		 store_seg_member(struct store_seg_writer *, int64_t segment_id,
		    int64_t customer_id, struct err *);
int		 store_seg_rfm(struct store_seg_writer *,
		    const struct store_rfm_row *, struct err *);
int		 store_seg_bgnbd(struct store_seg_writer *,
		    const struct store_bgnbd_row *, struct err *);
/* Remove every segment of a kind (with members): how many, or -1. */
int		 store_seg_delete_kind(struct store *, const char *kind,
		    struct err *);
/* Remove the segment called name: 1 removed, 0 none, -1 error. */
int		 store_seg_delete(struct store *, const char *name,
		    struct err *);
/* A new segment, replacing one of the same name: its id, or -1. */
int64_t		 store_seg_create(struct store *, const char *name,
		    const char *kind, const char *definition, int64_t created,
		    struct err *);
/* Add the customers a compiled filter selects: how many, or -1. */
int64_t		 store_seg_fill_filter(struct store *, int64_t segment_id,
		    const struct filter *, struct err *);
/* The id of the segment called name: 1 found, 0 not, -1 error. */
int		 store_seg_find(struct store *, const char *name, int64_t *id,
		    struct err *);
/* Up to n member customer ids of a segment after id `after`, ascending. */
int		 store_seg_members(struct store *, int64_t segment_id,
		    int64_t after, int64_t *ids, int n, struct err *);
/* What RFM scores a customer by, as of a time. */
struct store_rfm_in {
	int64_t		 customer_id, last_ts, purchases;
	double		 spend;
};
/*
 * Every customer with an event at or before at, by id: *out (n rows,
 * malloc'd, the caller's). -1 and e on error.
 */
int		 store_rfm_inputs(struct store *, int64_t at,
		    struct store_rfm_in **out, size_t *n, struct err *);
/* Empty table customer_rfm. */
int		 store_rfm_clear(struct store *, struct err *);
/* The kind of the segment called name into kind, "" when there is none. */
int		 store_seg_kind(struct store *, const char *name, char *kind,
		    size_t len, struct err *);
/* A segment against the rest: counts per name (event type, RFM cell). */
struct store_cmp_row {
	char		 name[64];
	int64_t		 in, out;
};
struct store_cmp {
	struct store_cmp_row *types, *rfm;	/* owned */
	size_t		 n_types, n_rfm;
	int64_t		 in, out;		/* customers with events */
	int64_t		 in_churned, out_churned;	/* last event <= before */
	double		 in_risk, out_risk;	/* mean score, -1: none */
	double		 in_spend, out_spend;
};
/*
 * The event-type mix, RFM segments, churn (no event after churn_before)
 * and mean churn score (model_id) of a segment's members against every
 * other customer with events. -1 and e on error.
 */
int		 store_seg_compare(struct store *, int64_t segment_id,
		    int64_t model_id, int64_t churn_before, struct store_cmp *,
		    struct err *);
void		 store_cmp_release(struct store_cmp *);
/* Customers per RFM cell, grid[r-1][f-1]. */
int		 store_rfm_grid(struct store *, int64_t grid[5][5],
		    struct err *);
/*
 * The scores of model_id, by customer id: *cust and *churn (n each,
 * malloc'd, the caller's). -1 and e on error.
 */
int		 store_scores_read(struct store *, int64_t model_id,
		    int64_t **cust, float **churn, size_t *n, struct err *);
/*
 * Every purchase event (types with is_purchase) at or before at, by
 * customer id then time: fn(ctx, customer_id, ts); fn returning -1
 * stops the walk (and it returns -1).
 */
int		 store_purchases_walk(struct store *, int64_t at,
		    int (*fn)(void *, int64_t, int64_t), void *ctx,
		    struct err *);
/*
 * Every customer of table customer_bgnbd in id order with model_id's
 * churn score (-1 when it has none): fn(ctx, ext_id, p_alive,
 * p_no_purchase, churn); -1 from fn stops the walk.
 */
int		 store_bgnbd_walk(struct store *, int64_t model_id,
		    int (*fn)(void *, const char *, double, double, double),
		    void *ctx, struct err *);

/* ---- the explorer's pages (store-browse.c) ---- */

/* Orders of the customer pages. */
enum browse_key {
	BROWSE_ID,		/* external id */
	BROWSE_EVENTS,
	BROWSE_FIRST,		/* first seen */
	BROWSE_LAST,		/* last seen */
	BROWSE_SPEND,
	BROWSE_SEGMENT,		/* RFM segment name: members only */
	BROWSE_CHURN,		/* the model's score: scored customers only */
	BROWSE_NKEYS
};

/* One customer as the explorer lists it. */
struct browse_row {
	struct customer	 c;
	double		 churn;		/* the model's score, NAN when none */
	char		 segment[64];	/* RFM segment name, "" when none */
};

/* Which customers, in which order. */
struct browse_query {
	enum browse_key	 key;
	int		 desc;
	int64_t		 model_id;	/* scores of this model (0: none) */
	int64_t		 segment_id;	/* only its members (0: everyone) */
	int64_t		 before;	/* only a last event before this (UTC
					 * seconds; churned), 0: any */
	const struct filter *filter;	/* compiled (segment.h), or NULL */
};

/* Prepared statements for the pages (opaque: store-browse.c). */
struct store_browser;
struct store_browser *store_browser_new(struct store *, struct err *);
void		 store_browser_free(struct store_browser *);
/*
 * Up to n rows of the query after row `from` in its order (dir > 0) or
 * before it (dir < 0, nearest first), `from` itself too when incl; from
 * NULL starts at the first (dir > 0) or the last row (dir < 0). Keyset
 * on (sort key, customer id): never OFFSET. Returns the rows filled or -1.
 */
int		 store_browse_page(struct store_browser *,
		    const struct browse_query *, const struct browse_row *from,
		    int dir, int incl, struct browse_row *out, int n,
		    struct err *);
/* The number of rows of the query, or -1. */
int64_t		 store_browse_count(struct store_browser *,
		    const struct browse_query *, struct err *);
/* The number of rows before row in the query's order (its position). */
int64_t		 store_browse_rank(struct store_browser *,
		    const struct browse_query *, const struct browse_row *row,
		    struct err *);
/*
 * The first row after `from` (dir > 0) or before it (dir < 0; from NULL:
 * from the start or the end) whose id starts with needle or one of whose
 * attribute values does, case-insensitively; "key=value" matches the
 * attribute key exactly. 1 found (into out), 0 not, -1 error.
 */
int		 store_browse_find(struct store_browser *,
		    const struct browse_query *, const struct browse_row *from,
		    int dir, const char *needle, struct browse_row *out,
		    struct err *);
/*
 * The customer with external id ext, with model_id's score; *attrs (may
 * be NULL) gets a copy of its attributes (JSON) or NULL. 1, 0 (no such
 * customer) or -1.
 */
int		 store_browse_customer(struct store_browser *, int64_t model_id,
		    const char *ext, struct browse_row *, char **attrs,
		    struct err *);
/* The customer's segments' names, ", "-separated, RFM first, into out. */
int		 store_browse_memberships(struct store_browser *,
		    int64_t customer_id, char *out, size_t len, struct err *);

/* A segment and, once store_browse_segment_stats ran, its figures. */
struct browse_segment {
	int64_t		 id;
	char		 name[64];
	char		 kind[16];
	char		 definition[256];	/* JSON or an expression, cut */
	int64_t		 created;
	int64_t		 size;		/* -1 until counted */
	double		 spend;		/* of its members */
	int64_t		 scored;	/* members with a score */
	double		 churn_sum;	/* of their scores */
	int64_t		 hist[10];	/* scored members by churn decile */
};
/* Every segment by kind and name (*out the caller's, free()). */
int		 store_browse_segments(struct store *,
		    struct browse_segment **out, size_t *n, struct err *);
/* Fill g's figures with model_id's scores: one pass over its members. */
int		 store_browse_segment_stats(struct store_browser *,
		    int64_t model_id, struct browse_segment *g, struct err *);

/* Store-wide figures. */
struct browse_totals {
	double		 spend;		/* every customer's */
	int64_t		 scored;	/* customers with the model's score */
	int64_t		 score_at;	/* the latest "as of" of those */
	double		 mean_churn;	/* NAN when none */
	int64_t		 high_risk;	/* scores of 0.5 or more */
};
int		 store_browse_totals(struct store_browser *, int64_t model_id,
		    struct browse_totals *, struct err *);

#endif
