/*
 * trigger.h: behaviour triggers. A behaviour is something a customer did
 * that can be found in a window of events: an event type, or a pattern
 * ("2 support tickets within 14 days, the later unresolved", "an
 * abandoned cart after a shipping-cost view"). For one customer: the
 * behaviours the model weighed, with their share of its attention and
 * the change in its prediction when their events are deleted, and a
 * summary in plain words. For a segment: per behaviour, its attention
 * lift, the odds ratio of the outcome for customers who show it (with a
 * 95% interval) and the mean deletion effect; a behaviour is called a
 * trigger only when that effect is clearly above zero. Never prints.
 */
#ifndef JS_TRIGGER_H
#define JS_TRIGGER_H
#include <stddef.h>
#include <stdint.h>

struct err;
struct store;
struct nn_model;
struct store_hevent;

enum trig_outcome { TRIG_CHURN, TRIG_PURCHASE };

/* The behaviours a model's vocabulary allows (opaque). */
struct trig_catalog;
struct trig_catalog *trig_catalog_new(const struct nn_model *);
void		 trig_catalog_free(struct trig_catalog *);
size_t		 trig_count(const struct trig_catalog *);
/* A behaviour's id ("support_ticket", "tickets_unresolved") and phrase. */
const char	*trig_name(const struct trig_catalog *, size_t);
const char	*trig_phrase(const struct trig_catalog *, size_t);
/* 1 for a pattern, 0 for a single event type. */
int		 trig_is_pattern(const struct trig_catalog *, size_t);

/* Behaviours found in a window: hit k is behaviour b[k], positions
 * pos[off[k] .. off[k + 1]) of the window. */
struct trig_hits {
	size_t		*b;
	size_t		*off;
	int		*pos;
	size_t		 n, cap, pcap;
};
void		 trig_hits_release(struct trig_hits *);
/*
 * Find every behaviour in ev[0..n) (a window, oldest first) seen as of
 * time `end` (a cart is abandoned only once a day has passed without a
 * purchase before end). Replaces h's contents; returns the hit count.
 */
size_t		 trig_detect(const struct trig_catalog *,
		    const struct store_hevent *ev, size_t n, int64_t end,
		    struct trig_hits *h);

/* One behaviour in one customer's window. */
struct trig_item {
	size_t		 b;		/* behaviour */
	int		 n_events;
	int64_t		 first_ts, last_ts;
	double		 attention;	/* share of the rollout, 0..1 */
	double		 event_share;	/* its events / the window's */
	double		 effect;	/* prediction minus without it */
};
struct trig_customer {
	char		*customer;
	int		 outcome;
	double		 prediction;	/* churn risk, or P(next: purchase) */
	size_t		 n_window;
	struct trig_item *item;		/* by attention, largest first */
	size_t		 n;
	char		*summary;	/* two or three sentences */
};
/*
 * The behaviours behind model m's prediction for customer ext as of at
 * (INT64_MAX: every event). Returns 0, or -1 and e.
 */
int		 trig_customer(struct store *, const struct nn_model *,
		    const struct trig_catalog *, const char *ext, int64_t at,
		    int outcome, struct trig_customer *, struct err *);
void		 trig_customer_release(struct trig_customer *);

/* One behaviour over a segment. */
struct trig_stat {
	size_t		 b;
	int64_t		 with, with_out;	/* customers showing it, of
						 * them with the outcome */
	int64_t		 without, without_out;
	double		 odds, odds_lo, odds_hi;	/* 95%, Woolf */
	double		 attention, event_share, lift;	/* means over "with" */
	double		 effect, effect_se;	/* deletion test */
	int		 trigger;		/* the effect survives it */
};
struct trig_segment {
	int		 outcome;
	int64_t		 cutoff, horizon;	/* UTC seconds; seconds */
	int64_t		 customers, outcomes;
	struct trig_stat *stat;			/* triggers first, by effect */
	size_t		 n;
	char		*summary;
};
/* Progress; a non-zero return cancels. */
typedef int	(*trig_progress_fn)(void *ctx, int64_t done, int64_t total);
/*
 * Every behaviour over the customers of segment_id (0: everyone) with an
 * event at or before the cut-off (0: the store's last event minus the
 * model's horizon), the outcome read from the horizon after it. Returns
 * 0, or -1 and e (ERR_INTR when cancelled).
 */
int		 trig_segment(struct store *, const struct nn_model *,
		    const struct trig_catalog *, int64_t segment_id,
		    int64_t cutoff, int outcome, trig_progress_fn, void *ctx,
		    struct trig_segment *, struct err *);
void		 trig_segment_release(struct trig_segment *);

#endif
