/*
 * bgnbd.h: the BG/NBD model of repeat purchases (Fader, Hardie and Lee,
 * 2005), fitted by maximum likelihood: while alive a customer buys at
 * rate lambda ~ Gamma(r, alpha); after each purchase it drops out with
 * probability p ~ Beta(a, b). From a customer's (x, t_x, T) -- repeat
 * purchases, time of the last one and age, both from the first purchase,
 * in weeks -- it gives P(alive) and P(no purchase in the next tau weeks),
 * the classical churn figures shown beside the transformer's. Never
 * prints.
 */
#ifndef JS_BGNBD_H
#define JS_BGNBD_H
#include <stddef.h>
#include <stdint.h>

struct err;
struct store;

struct bgnbd_params {
	double		 r, alpha, a, b;
};

/* One customer's purchase summary (weeks). */
struct bgnbd_obs {
	double		 x, t_x, T;
};

/* Log-likelihood of one customer (FHL 2005, eq. 6). */
double		 bgnbd_ll1(const struct bgnbd_params *, const struct bgnbd_obs *);
/* Sum over n customers. */
double		 bgnbd_ll(const struct bgnbd_params *, const struct bgnbd_obs *,
		    size_t n);
/*
 * Maximum-likelihood fit by Nelder-Mead on the logs of the parameters,
 * restarted until it stops improving. Returns 0, or -1 and e when there
 * are too few customers or repeat buyers to fit.
 */
int		 bgnbd_fit(const struct bgnbd_obs *, size_t n,
		    struct bgnbd_params *out, double *ll, struct err *);
/* P(alive at T | x, t_x, T). */
double		 bgnbd_p_alive(const struct bgnbd_params *,
		    const struct bgnbd_obs *);
/* P(no purchase in (T, T + tau] | x, t_x, T), tau in weeks. */
double		 bgnbd_p_no_purchase(const struct bgnbd_params *,
		    const struct bgnbd_obs *, double tau);
/* Expected purchases in (T, T + tau] (FHL eq. 10). */
double		 bgnbd_expected(const struct bgnbd_params *,
		    const struct bgnbd_obs *, double tau);

/* What bgnbd_store did. */
struct bgnbd_result {
	struct bgnbd_params p;
	double		 ll;
	int64_t		 customers;	/* with a purchase, fitted on */
	int64_t		 repeat;	/* with x > 0 */
	int64_t		 at;
};
/*
 * Summaries of every customer's purchases (events of purchase types,
 * one transaction a day, at or before at: 0 the store's last event),
 * fit, and store P(alive) and P(no purchase in horizon_days) in table
 * customer_bgnbd (one transaction), the parameters in meta "bgnbd".
 */
int		 bgnbd_store(struct store *, int64_t at, int horizon_days,
		    struct bgnbd_result *, struct err *);

#endif
