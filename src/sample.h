/*
 * sample.h: the built-in sample data generator. Deterministic customer
 * journeys with planted behaviour triggers and their ground truth,
 * handed one event at a time to a sink (the store, a CSV file, a test).
 * Owns nothing between calls; never prints.
 */
#ifndef JS_SAMPLE_H
#define JS_SAMPLE_H
#include <stddef.h>
#include <stdint.h>

struct err;
struct ingest_event;

/* Bumped whenever the same options would give different data. */
#define SAMPLE_VERSION		1

/* Defaults of sample_opts (sample_opts_init). */
#define SAMPLE_CUSTOMERS	500
#define SAMPLE_SEED		1
#define SAMPLE_START		1704067200	/* 2024-01-01T00:00:00Z */
#define SAMPLE_DAYS		365

/* Days after the last event that the planted churn is measured over. */
#define SAMPLE_HORIZON_DAYS	30

struct sample_opts {
	int64_t		 customers;
	uint64_t	 seed;
	int64_t		 start;		/* UTC seconds */
	int		 days;		/* events in [start, start + days) */
};

/*
 * Where the events go. Strings passed to the callbacks are borrowed for
 * the duration of the call. A callback failing stops the generator,
 * which returns its error.
 */
struct sample_sink {
	void	*ctx;
	/* returns the new event's id (>0), or -1 with e filled */
	int64_t	(*event)(void *ctx, const struct ingest_event *ev,
		    struct err *e);
	/* one planted trigger occurrence, after all of its customer's events */
	int	(*truth)(void *ctx, const char *rule, const char *customer,
		    const char *outcome, int fired, const int64_t *event_ids,
		    size_t n, struct err *e);
	/* catalog item, may be NULL; all items come before any event */
	int	(*item)(void *ctx, const char *item, const char *name,
		    const char *category, double price, struct err *e);
	/* progress, may be NULL: customers done of total */
	void	(*progress)(void *ctx, int64_t done, int64_t total);
};

/* The planted rules, in the order of the ground-truth rule names. */
enum sample_rule {
	SAMPLE_TICKETS,		/* "tickets_unresolved" -> churn */
	SAMPLE_SHIPPING,	/* "shipping_abandon" -> churn */
	SAMPLE_REFUND,		/* "refund_bad_review" -> churn */
	SAMPLE_CAMPAIGN,	/* "campaign_click" -> purchase */
	SAMPLE_RULE_N
};

/* Fill o with the defaults above. */
void		 sample_opts_init(struct sample_opts *o);
/* Rule name and outcome ("churn" or "purchase") of a sample_rule. */
const char	*sample_rule_name(enum sample_rule);
const char	*sample_rule_outcome(enum sample_rule);

/*
 * Generate o->customers customers, one at a time: first every catalog
 * item (if sink->item), then per customer all of its events in time
 * order, then its ground-truth rows. Memory does not grow with the
 * number of customers. Returns 0, or -1 with e filled (ERR_USAGE for
 * bad options, else whatever a sink callback reported).
 */
int		 sample_generate(const struct sample_opts *o,
		    const struct sample_sink *sink, struct err *e);

#endif
