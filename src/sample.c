/*
 * sample.c: the built-in sample data generator. Customers are simulated
 * one at a time, day by day, from their own random stream (xoshiro256**
 * seeded from the seed and the customer's index), so the output depends
 * only on the options, never on the machine, the thread count or the
 * number of customers asked for (customer i is the same in a run of 500
 * and a run of a million). Decisions use integer arithmetic only; the
 * one floating-point value is money, cents / 100. At most one random
 * draw per expression: C leaves the order of function arguments and of
 * operands unspecified, and compilers differ in it.
 *
 * Every event goes through detectors that recognise the four planted
 * trigger patterns as they happen; each occurrence draws whether its
 * effect fires (stop the customer's activity soon, or schedule a
 * purchase) and is reported as ground truth after the customer's last
 * event. Memory is one catalog, one campaign list and one customer's
 * state. Nothing here prints.
 */
#include "config.h"
#include "sample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "util.h"

#define MINUTE		60
#define HOUR		3600
#define DAY		86400

#define N_ITEMS		500	/* catalog size */
#define QMAX		64	/* scheduled activities per customer */
#define TICKETS_KEEP	8	/* recent tickets the rule-1 detector sees */
#define REFUNDS_KEEP	4
#define PENDING_MAX	8	/* carts waiting a day for a purchase */
#define VIEWED_MAX	8	/* items remembered within a session */
#define TRUTH_IDS	8	/* event ids of one occurrence, at most */

/* Planted pattern windows (seconds) and effect probabilities (permille). */
#define TICKET_WINDOW	(14 * DAY)	/* rule 1: two tickets within */
#define SHIP_CART_GAP	HOUR		/* rule 2: shipping view -> cart add */
#define ABANDON_WAIT	DAY		/* rule 2: no purchase within */
#define ABANDON_PAIR	(30 * DAY)	/* rule 2: the two abandons within */
#define REFUND_WINDOW	(14 * DAY)	/* rule 3: refund -> bad review */
#define BUY_WINDOW	(7 * DAY)	/* rule 4: click -> purchase within */

static const int fire_permille[SAMPLE_RULE_N] = { 700, 600, 650, 700 };
static const char *const rule_names[SAMPLE_RULE_N] = {
	"tickets_unresolved", "shipping_abandon", "refund_bad_review",
	"campaign_click"
};

/* ---- random numbers ---- */

/* xoshiro256** state; seeded by splitmix64, never all zero. */
struct rng {
	uint64_t	 s[4];
};

/* splitmix64 step: the seeding generator. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seed stream number stream of seed (independent streams per index). */
static void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed, y;
	int i;

	y = splitmix64(&x) ^ (stream * 0xd1342543de82ef95ULL);
	x = y;
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

/* x rotated left by k bits. */
static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits (xoshiro256**). */
static uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n) for 0 < n < 2^32 (multiply-shift; bias < n / 2^32). */
static inline uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return ((rng_next(r) >> 32) * n) >> 32;
}

/* Uniform in [lo, hi]. */
static inline int64_t
rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)rng_below(r, (uint64_t)(hi - lo + 1));
}

/* True with probability p / 1000. */
static inline int
chance(struct rng *r, int p)
{
	return (int)rng_below(r, 1000) < p;
}

/* Index drawn from integer weights w[0..n-1] (not all zero). */
static int
rng_pick(struct rng *r, const int *w, int n)
{
	int i, total = 0, x;

	for (i = 0; i < n; i++)
		total += w[i];
	x = (int)rng_below(r, (uint64_t)total);
	for (i = 0; i < n - 1; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* ---- calendar ---- */

/* Month (0..11) of a day number since 1970-01-01 (proleptic Gregorian). */
static int
day_month(int64_t z)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return (int)(mp < 10 ? mp + 2 : mp - 10);
}

/* Year of a day number since 1970-01-01. */
static int
day_year(int64_t z)
{
	int64_t era, doe, yoe, doy, mp, y;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return (int)(mp < 10 ? y : y + 1);
}

/* Day number (since 1970-01-01) of UTC seconds, rounding down. */
static int64_t
ts_day(int64_t ts)
{
	return ts >= 0 ? ts / DAY : -((-ts + DAY - 1) / DAY);
}

/* Relative activity (permille) by weekday, Sunday first: weekends peak. */
static const int wday_factor[7] = { 1200, 900, 950, 1000, 1000, 1050, 1250 };
/* ... by month, January first: a dip in February, the year-end peak. */
static const int month_factor[12] = {
	900, 850, 950, 1000, 1000, 950, 900, 900, 1000, 1050, 1300, 1450
};
/* Session start hour weights (UTC): mornings, lunch, evening peak. */
static const int hour_weight[24] = {
	2, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 14,
	16, 15, 14, 14, 15, 17, 20, 24, 26, 22, 14, 6
};

/* ---- event types ---- */

enum etype {
	EV_PAGE_VIEW, EV_PRODUCT_VIEW, EV_SEARCH, EV_CART_ADD, EV_CART_REMOVE,
	EV_CHECKOUT_START, EV_SHIPPING_VIEW, EV_PURCHASE, EV_REFUND,
	EV_SUPPORT_TICKET, EV_REVIEW, EV_EMAIL_OPEN, EV_EMAIL_CLICK,
	EV_AD_CLICK, EV_COUPON_USE, EV_APP_OPEN, EV_N
};

static const char *const etype_names[EV_N] = {
	"page_view", "product_view", "search", "cart_add", "cart_remove",
	"checkout_start", "shipping_view", "purchase", "refund",
	"support_ticket", "review", "email_open", "email_click", "ad_click",
	"coupon_use", "app_open"
};

/* ---- the catalog ---- */

#define N_CATS	10

struct category {
	const char	*name;
	int64_t		 lo, hi;	/* price range, cents */
	int		 weight;	/* share of the catalog */
	const char	*nouns[8];
	const char	*queries[6];
};

static const struct category cats[N_CATS] = {
	{ "electronics", 1999, 49999, 14, { "Headphones", "Charger",
	    "Speaker", "Smartwatch", "Keyboard", "Monitor", "Webcam",
	    "Power Bank" }, { "headphones", "usb c charger",
	    "bluetooth speaker", "smartwatch", "keyboard", "monitor" } },
	{ "home", 499, 14999, 12, { "Lamp", "Cushion", "Blanket", "Vase",
	    "Clock", "Mirror", "Rug", "Shelf" }, { "floor lamp", "cushion",
	    "wool blanket", "wall clock", "rug", "shelf" } },
	{ "fashion", 1499, 11999, 14, { "Jacket", "Sneakers", "T-Shirt",
	    "Jeans", "Scarf", "Dress", "Hoodie", "Boots" }, { "rain jacket",
	    "sneakers", "jeans", "summer dress", "hoodie", "boots" } },
	{ "beauty", 299, 4999, 10, { "Face Cream", "Shampoo", "Lipstick",
	    "Perfume", "Serum", "Sunscreen", "Hair Oil", "Soap Set" },
	    { "face cream", "shampoo", "perfume", "serum", "sunscreen spf 50",
	    "gift set" } },
	{ "books", 499, 2999, 9, { "Cookbook", "Novel", "Travel Guide",
	    "Notebook", "Comic", "Atlas", "Biography", "Puzzle Book" },
	    { "cookbook", "crime novel", "travel guide", "notebook", "comics",
	    "biography" } },
	{ "sports", 999, 19999, 10, { "Yoga Mat", "Dumbbells",
	    "Running Shoes", "Water Bottle", "Tennis Racket", "Bike Helmet",
	    "Backpack", "Jump Rope" }, { "yoga mat", "dumbbells",
	    "running shoes", "bike helmet", "backpack", "water bottle" } },
	{ "toys", 799, 7999, 8, { "Puzzle", "Building Set", "Plush Bear",
	    "Board Game", "Toy Car", "Doll", "Kite", "Robot Kit" },
	    { "puzzle 1000", "building blocks", "board game", "plush",
	    "robot kit", "kite" } },
	{ "grocery", 149, 1999, 9, { "Coffee Beans", "Green Tea",
	    "Olive Oil", "Chocolate", "Honey", "Pasta", "Granola",
	    "Spice Set" }, { "coffee beans", "green tea", "olive oil",
	    "dark chocolate", "honey", "granola" } },
	{ "garden", 699, 9999, 7, { "Plant Pot", "Garden Hose", "Seeds Kit",
	    "Pruning Shears", "Bird Feeder", "Lantern", "Watering Can",
	    "Gloves" }, { "plant pot", "garden hose", "seeds", "bird feeder",
	    "solar lantern", "watering can" } },
	{ "pets", 299, 5999, 7, { "Dog Bed", "Cat Toy", "Leash", "Pet Food",
	    "Scratching Post", "Aquarium Filter", "Bird Cage", "Chew Bone" },
	    { "dog bed", "cat toy", "leash", "dry food", "scratching post",
	    "aquarium" } },
};

static const char *const adjectives[12] = {
	"Classic", "Compact", "Deluxe", "Eco", "Essential", "Premium", "Pro",
	"Smart", "Soft", "Ultra", "Vintage", "Mini"
};

struct item {
	char		 id[8];		/* "P0001" */
	char		 name[48];
	int		 cat;
	int64_t		 cents;		/* price */
};

/* Items by popularity: cumulative Zipf weights for sampling. */
struct pool {
	int		*idx;		/* catalog indices */
	uint32_t	*cum;		/* cumulative weights, cum[n-1] total */
	int		 n;
};

/* ---- campaigns and archetypes ---- */

struct campaign {
	int		 day;		/* days after start; sorted */
	int64_t		 send;		/* UTC seconds */
	int		 reach;		/* permille of subscribers mailed */
	int		 cat;		/* featured category */
	char		 name[40];
};

/* Campaign themes by month of sending. */
static const char *const themes[12] = {
	"new_year_clearance", "valentines", "spring_sale", "easter_deals",
	"may_days", "summer_sale", "july_deals", "back_to_school",
	"autumn_offers", "halloween", "black_friday", "christmas_gifts"
};

struct archetype {
	const char	*name;
	int		 weight;	/* share of customers, percent */
	int		 sessions;	/* per 10000 per day, before rhythm */
	int		 hazard;	/* baseline stop, per million per day */
	int		 planned;	/* permille who stop at a random day */
	int		 cart;		/* permille of visits adding to cart */
	int		 buy;		/* permille of carts bought */
	int		 abandon;	/* permille of visits: shipping view,
					 * cart, leave */
	int		 click;		/* permille of campaign opens clicked */
	int		 app;		/* permille of sessions in the app */
	int		 coupon;	/* permille of purchases with coupon */
	int		 views;		/* extra product views, permille each */
};

enum { ARCH_LOYAL, ARCH_BARGAIN, ARCH_WINDOW, ARCH_NEW, ARCH_LAPSING,
    ARCH_N };

static const struct archetype archetypes[ARCH_N] = {
	{ "loyal", 20, 440, 150, 0, 330, 650, 20, 250, 550, 80, 350 },
	{ "bargain_hunter", 20, 285, 300, 0, 300, 450, 80, 380, 300, 550,
	    400 },
	{ "window_shopper", 25, 320, 350, 0, 110, 300, 35, 150, 350, 50,
	    450 },
	{ "new", 20, 380, 800, 0, 250, 450, 35, 200, 400, 150, 350 },
	{ "lapsing", 15, 260, 500, 350, 220, 450, 35, 150, 300, 100, 300 },
};

static const char *const countries[9] = {
	"DE", "FR", "GB", "US", "NL", "ES", "IT", "PL", "SE"
};
static const int country_weight[9] = { 22, 14, 16, 18, 7, 8, 7, 4, 4 };

/* ---- texts ---- */

static const char *const ticket_open[] = {
	"", "Hi, ", "Hello, ", "Good morning, ", "Hi team, ", "Dear support, "
};
/* %s: the item's name (lower case after "the") */
static const char *const ticket_issue[] = {
	"my order with the %s has not arrived yet",
	"the %s arrived damaged",
	"I was charged twice for my last order",
	"the tracking link for my parcel does not work",
	"I would like to return the %s",
	"my discount code was not applied at checkout",
	"I cannot log in to the app",
	"the %s is not what the website described",
	"the parcel was left at the wrong address",
	"I never received the refund for the %s",
};
#define N_ISSUES	(int)(sizeof(ticket_issue) / sizeof(ticket_issue[0]))
static const char *const ticket_detail[] = {
	"", "", " It has been a week.", " I need it by Saturday.",
	" I already called once.", " The box was open.",
	" This is very frustrating.", " The app shows no update."
};
static const char *const ticket_close[] = {
	" Please help.", " Thanks.", " Can you look into it?",
	" What are my options?", "", " Kind regards."
};
static const char *const ticket_followup[] = {
	"Still no answer: ", "Second message: ", "Following up, ",
	"This is still not solved: ", "Again: "
};

static const char *const review_text[5][5] = {
	{ "Terrible %s, broke on the first day.", "Worst purchase this year.",
	  "Arrived broken and the refund took forever.", "Do not buy this.",
	  "Complete waste of money." },
	{ "Disappointed with the %s.", "Poor quality, not worth the money.",
	  "Stopped working after two weeks.",
	  "The colour is nothing like the photos.", "Cheap material." },
	{ "It's okay, nothing special.", "Average %s, does the job.",
	  "Fine, but the packaging was poor.", "Expected more for the price.",
	  "Smaller than I thought." },
	{ "Good %s for the price.", "Works well, delivery took a bit long.",
	  "Nice quality, slightly smaller than expected.",
	  "Happy with it overall.", "Solid %s." },
	{ "Excellent %s, exactly as described.", "Love the %s!",
	  "Great quality and fast delivery.", "Five stars, would buy again.",
	  "Perfect gift, everyone was happy." },
};
static const char *const review_tail[3][4] = {
	{ "", " Would not recommend.", " Customer service never answered.",
	  " Never again." },
	{ "", "", " Delivery was on time.", " Might try another brand." },
	{ "", " Customer service was helpful.", " Delivery was fast.",
	  " Recommended." },
};
static const int review_weight[5] = { 50, 70, 130, 300, 450 };
static const int review_refund_weight[5] = { 350, 300, 200, 100, 50 };

static const char *const coupon_codes[4] = {
	"SAVE10", "WELCOME5", "FREESHIP", "FLASH20"
};

/* ---- one customer ---- */

enum act_kind {
	ACT_SESSION,		/* a visit: arg = session mode */
	ACT_TICKET,		/* arg = item or -1, arg2 = issue, flag =
				 * a follow-up */
	ACT_REFUND,		/* arg = item, arg2 = quantity */
	ACT_REVIEW,		/* arg = item, flag = after a refund */
	ACT_CAMPAIGN,		/* arg = campaign: email opened */
	ACT_NEWSLETTER		/* the fortnightly newsletter opened */
};

enum { SESS_NORMAL, SESS_REVISIT, SESS_BUY, SESS_LANDING };

struct act {
	int64_t		 ts;
	uint32_t	 seq;		/* ties: first scheduled first */
	int		 kind, arg, arg2, flag;
};

struct stamp {
	int64_t		 ts, id;
};

/* Rule 2: a cart added after a shipping view, waiting a day. */
struct pending {
	struct stamp	 ship, cart;
};

struct truth {
	int		 rule, fired;
	size_t		 n;
	int64_t		 ids[TRUTH_IDS];
};

struct cust {
	struct rng	 r;
	char		 id[24];
	char		 attrs[80];	/* customer attributes JSON */
	const struct archetype *a;
	int		 arch, fav, subscribed, newsletter, signup;
	int64_t		 stop;		/* no activity starts at or after */
	int64_t		 now;		/* time of the last event */
	struct act	 q[QMAX];
	int		 nq;
	uint32_t	 seq;
	/* detectors */
	struct stamp	 tickets[TICKETS_KEEP];
	int		 ntickets;
	struct stamp	 refunds[REFUNDS_KEEP];
	int		 nrefunds;
	struct stamp	 ship;		/* last shipping view, ts 0: none */
	struct pending	 pend[PENDING_MAX];
	int		 npend;
	struct pending	 abandoned;	/* an earlier abandon, ts 0: none */
	int		 campaign;	/* of the email being generated */
	/* ground truth, reported after the last event */
	struct truth	*truth;
	size_t		 ntruth, truth_cap;
};

struct gen {
	const struct sample_opts *o;
	const struct sample_sink *sink;
	struct err	*e;
	int64_t		 end;		/* start + days */
	struct item	 items[N_ITEMS];
	struct pool	 all, bycat[N_CATS];
	struct campaign	*camps;
	int		 ncamps;
	struct cust	 c;
	struct buf	 text, attrs;
};

/* Fill o with the defaults. */
void
sample_opts_init(struct sample_opts *o)
{
	o->customers = SAMPLE_CUSTOMERS;
	o->seed = SAMPLE_SEED;
	o->start = SAMPLE_START;
	o->days = SAMPLE_DAYS;
}

/* Ground-truth name of a rule. */
const char *
sample_rule_name(enum sample_rule r)
{
	return (unsigned)r < SAMPLE_RULE_N ? rule_names[r] : "unknown";
}

/* Outcome a rule pushes toward. */
const char *
sample_rule_outcome(enum sample_rule r)
{
	return r == SAMPLE_CAMPAIGN ? "purchase" : "churn";
}

/* ---- building the catalog and the campaigns ---- */

/* Add catalog item i with popularity weight w to pool p. */
static void
pool_add(struct pool *p, int i, uint32_t w)
{
	p->idx[p->n] = i;
	p->cum[p->n] = (p->n > 0 ? p->cum[p->n - 1] : 0) + w;
	p->n++;
}

/* A catalog index from pool p by popularity. */
static int
pool_pick(const struct pool *p, struct rng *r)
{
	uint32_t x = (uint32_t)rng_below(r, p->cum[p->n - 1]);
	int lo = 0, hi = p->n - 1, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (p->cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return p->idx[lo];
}

/*
 * The catalog: N_ITEMS items with a category, a name and a price; the
 * popularity rank is a random permutation and item of rank k weighs
 * 1 / (k + 5) (Zipf-like: a few items take most of the views).
 */
static void
gen_catalog(struct gen *g)
{
	struct rng r;
	int rank[N_ITEMS], cw[N_CATS], i, j, k, t, adj, noun;
	int64_t u, span;

	rng_seed(&r, g->o->seed, UINT64_C(0xca7a106));
	for (i = 0; i < N_CATS; i++)
		cw[i] = cats[i].weight;
	for (i = 0; i < N_ITEMS; i++) {
		struct item *it = &g->items[i];
		const struct category *c;

		it->cat = rng_pick(&r, cw, N_CATS);
		c = &cats[it->cat];
		snprintf(it->id, sizeof(it->id), "P%04d", i + 1);
		adj = (int)rng_below(&r, 12);
		noun = (int)rng_below(&r, 8);
		snprintf(it->name, sizeof(it->name), "%s %s", adjectives[adj],
		    c->nouns[noun]);
		/* skewed toward the cheap end, ending in .99 */
		u = (int64_t)rng_below(&r, 1000);
		span = c->hi - c->lo;
		it->cents = (c->lo + span * u * u / 1000000) / 100 * 100 + 99;
		rank[i] = i;
	}
	for (i = N_ITEMS - 1; i > 0; i--) {
		j = (int)rng_below(&r, (uint64_t)i + 1);
		t = rank[i];
		rank[i] = rank[j];
		rank[j] = t;
	}
	/* rank[k] = the item of popularity rank k */
	g->all.idx = xcalloc(N_ITEMS, sizeof(int));
	g->all.cum = xcalloc(N_ITEMS, sizeof(uint32_t));
	for (i = 0; i < N_CATS; i++) {
		g->bycat[i].idx = xcalloc(N_ITEMS, sizeof(int));
		g->bycat[i].cum = xcalloc(N_ITEMS, sizeof(uint32_t));
	}
	for (k = 0; k < N_ITEMS; k++) {
		uint32_t w = (uint32_t)(100000000 / (k + 5));

		pool_add(&g->all, rank[k], w);
		pool_add(&g->bycat[g->items[rank[k]].cat], rank[k], w);
	}
	for (i = 0; i < N_CATS; i++)	/* every category holds an item */
		if (g->bycat[i].n == 0)
			pool_add(&g->bycat[i], rank[N_ITEMS - 1 - i], 1);
}

/*
 * Campaigns: one a month on average, each at a random day of its slot
 * and a fixed morning hour, mailed to most subscribers at once. The
 * dates depend only on the seed, start and days.
 */
static void
gen_campaigns(struct gen *g)
{
	struct rng r;
	int n = g->o->days / 30, i, j, slot, lo, hi, cw[N_CATS];
	int64_t day;

	if (n < 1)
		n = 1;
	for (i = 0; i < N_CATS; i++)
		cw[i] = cats[i].weight;
	rng_seed(&r, g->o->seed, UINT64_C(0xca3a1695));
	g->camps = xcalloc((size_t)n, sizeof(*g->camps));
	g->ncamps = n;
	for (i = 0; i < n; i++) {
		struct campaign *c = &g->camps[i];
		int dup = 1;

		slot = (int)((int64_t)g->o->days * i / n);
		lo = slot + 2;
		hi = (int)((int64_t)g->o->days * (i + 1) / n) - 3;
		if (hi < lo)
			hi = lo = slot;
		c->day = (int)rng_range(&r, lo, hi);
		c->send = g->o->start + (int64_t)c->day * DAY +
		    rng_range(&r, 8 * HOUR, 11 * HOUR);
		c->reach = (int)rng_range(&r, 600, 950);
		c->cat = rng_pick(&r, cw, N_CATS);
		day = ts_day(c->send);
		snprintf(c->name, sizeof(c->name), "%s_%d",
		    themes[day_month(day)], day_year(day));
		for (j = 0; j < i; j++)
			if (strncmp(g->camps[j].name, c->name,
			    strlen(c->name)) == 0)
				dup++;
		if (dup > 1) {
			size_t len = strlen(c->name);

			snprintf(c->name + len, sizeof(c->name) - len, "_%d",
			    dup);
		}
	}
}

/* ---- emitting events and detecting the planted patterns ---- */

/* One event being generated. */
struct gev {
	enum etype	 type;
	int		 item;		/* catalog index, -1: none */
	int		 qty;		/* 0: none */
	int64_t		 cents;		/* amount, if has_amount */
	int		 has_amount;
	const char	*channel;
	const char	*text;
	int		 rating;	/* review: 1..5 */
	int		 unresolved;	/* support_ticket */
	int		 campaign;	/* email: campaign index or -1 */
	const char	*code;		/* coupon_use */
};

/* A blank event of type t on channel ch. */
static struct gev
gev_make(enum etype t, int item, const char *ch)
{
	struct gev v;

	memset(&v, 0, sizeof(v));
	v.type = t;
	v.item = item;
	v.channel = ch;
	v.campaign = -1;
	return v;
}

/* Schedule activity kind at ts; 0 (dropped) when the queue is full. */
static int
sched(struct cust *c, int64_t ts, int kind, int arg, int arg2, int flag)
{
	struct act *a;

	if (c->nq >= QMAX)
		return 0;
	a = &c->q[c->nq++];
	a->ts = ts;
	a->seq = c->seq++;
	a->kind = kind;
	a->arg = arg;
	a->arg2 = arg2;
	a->flag = flag;
	return 1;
}

/*
 * A planted pattern occurred at time now: draw whether its effect
 * fires, apply it, and keep the ground-truth row for later.
 */
static void
occur(struct cust *c, int rule, const struct stamp *ev, size_t n,
    int64_t now)
{
	struct truth *t;
	size_t i;
	int fired = chance(&c->r, fire_permille[rule]);

	if (fired && rule == SAMPLE_CAMPAIGN)
		fired = sched(c, now + rng_range(&c->r, HOUR,
		    BUY_WINDOW - 8 * HOUR), ACT_SESSION, SESS_BUY, c->campaign,
		    0);
	else if (fired) {
		int64_t stop = now + rng_range(&c->r, 6 * HOUR, 8 * DAY);

		if (stop < c->stop)
			c->stop = stop;
	}
	if (c->ntruth == c->truth_cap) {
		c->truth_cap = c->truth_cap ? 2 * c->truth_cap : 8;
		c->truth = xreallocarray(c->truth, c->truth_cap,
		    sizeof(*c->truth));
	}
	t = &c->truth[c->ntruth++];
	t->rule = rule;
	t->fired = fired;
	t->n = n < TRUTH_IDS ? n : TRUTH_IDS;
	for (i = 0; i < t->n; i++)
		t->ids[i] = ev[n - t->n + i].id;
}

/*
 * Rule 2: carts added within an hour after a shipping view that saw no
 * purchase for a day are abandoned; the second abandon within 30 days
 * of an earlier one is an occurrence (both are used up by it).
 */
static void
resolve_carts(struct cust *c, int64_t now)
{
	struct stamp ev[4];
	int i = 0;

	while (i < c->npend) {
		struct pending *p = &c->pend[i];

		if (p->cart.ts + ABANDON_WAIT >= now) {
			i++;
			continue;
		}
		if (c->abandoned.cart.ts != 0 &&
		    p->cart.ts - c->abandoned.cart.ts <= ABANDON_PAIR) {
			ev[0] = c->abandoned.ship;
			ev[1] = c->abandoned.cart;
			ev[2] = p->ship;
			ev[3] = p->cart;
			occur(c, SAMPLE_SHIPPING, ev, 4,
			    p->cart.ts + ABANDON_WAIT);
			memset(&c->abandoned, 0, sizeof(c->abandoned));
		} else
			c->abandoned = *p;
		memmove(p, p + 1, (size_t)(c->npend - i - 1) * sizeof(*p));
		c->npend--;
	}
}

/* Feed the detectors with an emitted event. */
static void
detect(struct cust *c, const struct gev *v, struct stamp s)
{
	struct stamp ev[TICKETS_KEEP];
	int i, n;

	switch (v->type) {
	case EV_SUPPORT_TICKET:
		/* rule 1: keep tickets of the last 14 days */
		for (i = n = 0; i < c->ntickets; i++)
			if (s.ts - c->tickets[i].ts <= TICKET_WINDOW)
				c->tickets[n++] = c->tickets[i];
		if (n == TICKETS_KEEP) {
			memmove(c->tickets, c->tickets + 1,
			    (TICKETS_KEEP - 1) * sizeof(c->tickets[0]));
			n--;
		}
		c->tickets[n++] = s;
		c->ntickets = n;
		if (v->unresolved && n >= 2) {
			memcpy(ev, c->tickets, (size_t)n * sizeof(ev[0]));
			occur(c, SAMPLE_TICKETS, ev, (size_t)n, s.ts);
		}
		break;
	case EV_SHIPPING_VIEW:
		c->ship = s;
		break;
	case EV_CART_ADD:
		if (c->ship.ts != 0 && s.ts - c->ship.ts <= SHIP_CART_GAP &&
		    c->npend < PENDING_MAX) {
			c->pend[c->npend].ship = c->ship;
			c->pend[c->npend++].cart = s;
			c->ship.ts = 0;
		}
		break;
	case EV_PURCHASE:
		/* every pending cart is less than a day old (resolved) */
		c->ship.ts = 0;
		c->npend = 0;
		break;
	case EV_REFUND:
		if (c->nrefunds == REFUNDS_KEEP) {
			memmove(c->refunds, c->refunds + 1,
			    (REFUNDS_KEEP - 1) * sizeof(c->refunds[0]));
			c->nrefunds--;
		}
		c->refunds[c->nrefunds++] = s;
		break;
	case EV_REVIEW:
		/* rule 3: the latest refund of the last 14 days, used once */
		if (v->rating > 2)
			break;
		for (i = c->nrefunds - 1; i >= 0; i--)
			if (s.ts - c->refunds[i].ts <= REFUND_WINDOW)
				break;
		if (i < 0)
			break;
		ev[0] = c->refunds[i];
		ev[1] = s;
		memmove(c->refunds + i, c->refunds + i + 1,
		    (size_t)(c->nrefunds - i - 1) * sizeof(c->refunds[0]));
		c->nrefunds--;
		occur(c, SAMPLE_REFUND, ev, 2, s.ts);
		break;
	case EV_EMAIL_CLICK:
		/* rule 4: every campaign click */
		if (v->campaign >= 0) {
			c->campaign = v->campaign;
			occur(c, SAMPLE_CAMPAIGN, &s, 1, s.ts);
		}
		break;
	default:
		break;
	}
}

/*
 * Emit event v at time ts: to the sink, then to the detectors. Returns
 * its id, 0 when ts is past the end of the data (the caller stops the
 * activity), -1 on a sink error.
 */
static int64_t
emit(struct gen *g, struct cust *c, int64_t ts, const struct gev *v)
{
	struct ingest_event ev;
	const struct item *it = v->item >= 0 ? &g->items[v->item] : NULL;
	struct stamp s;

	if (ts >= g->end)
		return 0;
	if (c->npend > 0)
		resolve_carts(c, ts);
	memset(&ev, 0, sizeof(ev));
	ev.customer = c->id;
	ev.ts = ts;
	ev.type = etype_names[v->type];
	ev.price = ev.amount = ev.quantity = NAN;
	if (it != NULL) {
		ev.item = it->id;
		ev.item_name = it->name;
		ev.category = cats[it->cat].name;
		ev.price = (double)it->cents / 100.0;
	}
	if (v->has_amount)
		ev.amount = (double)v->cents / 100.0;
	if (v->qty > 0)
		ev.quantity = v->qty;
	ev.channel = v->channel;
	ev.text = v->text;
	ev.cust_attrs = c->attrs;
	buf_reset(&g->attrs);
	switch (v->type) {
	case EV_SUPPORT_TICKET:
		buf_printf(&g->attrs, "{\"status\":\"%s\"}", v->unresolved ?
		    "unresolved" : "resolved");
		break;
	case EV_REVIEW:
		buf_printf(&g->attrs, "{\"rating\":\"%d\"}", v->rating);
		break;
	case EV_EMAIL_OPEN:
	case EV_EMAIL_CLICK:
		if (v->campaign >= 0)
			buf_printf(&g->attrs, "{\"campaign\":\"%s\"}",
			    g->camps[v->campaign].name);
		else
			buf_adds(&g->attrs, "{\"newsletter\":\"fortnightly\"}");
		break;
	case EV_COUPON_USE:
		buf_printf(&g->attrs, "{\"code\":\"%s\"}", v->code);
		break;
	default:
		break;
	}
	if (g->attrs.len > 0)
		ev.attrs = g->attrs.data;
	s.ts = ts;
	if ((s.id = g->sink->event(g->sink->ctx, &ev, g->e)) < 0)
		return -1;
	if (s.id == 0)
		return err_set(g->e, ERR_USAGE, "sample sink returned event "
		    "id 0");
	c->now = ts;
	detect(c, v, s);
	return s.id;
}

/* Seconds between two clicks of a visit: mostly short, sometimes long. */
static int64_t
step(struct cust *c)
{
	if (chance(&c->r, 80))
		return rng_range(&c->r, 3 * MINUTE, 12 * MINUTE);
	return rng_range(&c->r, 8, 150);
}

/* Emit at *t, then advance *t by a click step. Returns as emit(). */
static int64_t
emit_step(struct gen *g, struct cust *c, int64_t *t, const struct gev *v)
{
	int64_t id = emit(g, c, *t, v);

	*t += step(c);
	return id;
}

/* ---- activities ---- */

/* Append template tmpl to b with its "%s" replaced by name. */
static void
fill(struct buf *b, const char *tmpl, const char *name)
{
	const char *p = strstr(tmpl, "%s");

	if (p == NULL) {
		buf_adds(b, tmpl);
		return;
	}
	buf_add(b, tmpl, (size_t)(p - tmpl));
	buf_adds(b, name);
	buf_adds(b, p + 2);
}

/* Ticket issues that need no item. */
static const int issue_no_item[] = { 2, 3, 5, 6, 8 };

/* A support ticket (from the help page), maybe followed up later. */
static int
act_ticket(struct gen *g, struct cust *c, int64_t t, int item, int issue,
    int followup)
{
	struct gev v = gev_make(EV_PAGE_VIEW, -1, "web");
	const char *name = item >= 0 ? g->items[item].name : "order";
	size_t i;
	int64_t id;

	if (issue < 0 && item >= 0)
		issue = (int)rng_below(&c->r, N_ISSUES);
	else if (issue < 0)
		issue = issue_no_item[rng_below(&c->r, 5)];
	if ((id = emit_step(g, c, &t, &v)) <= 0)
		return (int)id;
	buf_reset(&g->text);
	if (followup)
		buf_adds(&g->text, ticket_followup[rng_below(&c->r, 5)]);
	else
		buf_adds(&g->text, ticket_open[rng_below(&c->r, 6)]);
	i = g->text.len;
	fill(&g->text, ticket_issue[issue], name);
	if (i == 0 && g->text.data[0] >= 'a' && g->text.data[0] <= 'z')
		g->text.data[0] -= 'a' - 'A';
	buf_addc(&g->text, '.');
	buf_adds(&g->text, ticket_detail[rng_below(&c->r, 8)]);
	buf_adds(&g->text, ticket_close[rng_below(&c->r, 6)]);
	v = gev_make(EV_SUPPORT_TICKET, item, "web");
	v.text = g->text.data;
	v.unresolved = chance(&c->r, followup ? 500 : 380);
	if ((id = emit(g, c, t, &v)) <= 0)
		return (int)id;
	if (v.unresolved && chance(&c->r, 650))
		sched(c, t + rng_range(&c->r, DAY, 12 * DAY), ACT_TICKET, item,
		    issue, 1);
	else if (!v.unresolved && chance(&c->r, 80))
		sched(c, t + rng_range(&c->r, 2 * DAY, 20 * DAY), ACT_TICKET,
		    item, -1, 0);
	return 0;
}

/* A review of item; after a refund it is likely to be a bad one. */
static int
act_review(struct gen *g, struct cust *c, int64_t t, int item,
    int after_refund)
{
	struct gev v = gev_make(EV_REVIEW, item, "web");
	int rating, tone;

	rating = 1 + rng_pick(&c->r, after_refund ? review_refund_weight :
	    review_weight, 5);
	tone = rating <= 2 ? 0 : rating == 3 ? 1 : 2;
	buf_reset(&g->text);
	fill(&g->text, review_text[rating - 1][rng_below(&c->r, 5)],
	    g->items[item].name);
	buf_adds(&g->text, review_tail[tone][rng_below(&c->r, 4)]);
	v.text = g->text.data;
	v.rating = rating;
	return emit(g, c, t, &v) < 0 ? -1 : 0;
}

/* A refund of a purchase line, sometimes followed by a review. */
static int
act_refund(struct gen *g, struct cust *c, int64_t t, int item, int qty)
{
	struct gev v = gev_make(EV_REFUND, item, "web");
	int64_t id;

	v.qty = qty;
	v.cents = -g->items[item].cents * qty;
	v.has_amount = 1;
	if ((id = emit(g, c, t, &v)) <= 0)
		return (int)id;
	if (chance(&c->r, 600))
		sched(c, t + rng_range(&c->r, 6 * HOUR, 10 * DAY), ACT_REVIEW,
		    item, 0, 1);
	if (chance(&c->r, 150))
		sched(c, t + rng_range(&c->r, HOUR, 3 * DAY), ACT_TICKET, item,
		    9, 0);
	return 0;
}

/* Checkout of the cart: shipping view, maybe a coupon, one purchase a line. */
static int
buy(struct gen *g, struct cust *c, int64_t *t, const char *ch,
    const int *cart, int ncart)
{
	struct gev v;
	int64_t id, ts;
	int i, qty;

	v = gev_make(EV_CHECKOUT_START, -1, ch);
	if ((id = emit_step(g, c, t, &v)) <= 0)
		return (int)id;
	v = gev_make(EV_SHIPPING_VIEW, -1, ch);
	if ((id = emit_step(g, c, t, &v)) <= 0)
		return (int)id;
	if (chance(&c->r, c->a->coupon)) {
		v = gev_make(EV_COUPON_USE, -1, ch);
		v.code = coupon_codes[rng_below(&c->r, 4)];
		if ((id = emit_step(g, c, t, &v)) <= 0)
			return (int)id;
	}
	for (i = 0; i < ncart; i++) {
		static const int qw[3] = { 800, 150, 50 };

		qty = 1 + rng_pick(&c->r, qw, 3);
		v = gev_make(EV_PURCHASE, cart[i], ch);
		v.qty = qty;
		v.cents = g->items[cart[i]].cents * qty;
		v.has_amount = 1;
		if ((id = emit(g, c, *t, &v)) <= 0)
			return (int)id;
		*t += rng_range(&c->r, 1, 5);
		ts = *t;
		if (chance(&c->r, 90))
			sched(c, ts + rng_range(&c->r, 3 * DAY, 20 * DAY),
			    ACT_REFUND, cart[i], qty, 0);
		else if (chance(&c->r, 120))
			sched(c, ts + rng_range(&c->r, 2 * DAY, 14 * DAY),
			    ACT_REVIEW, cart[i], 0, 0);
		if (chance(&c->r, 90)) {
			int issue = (int)rng_below(&c->r, 2);

			sched(c, ts + rng_range(&c->r, DAY, 10 * DAY),
			    ACT_TICKET, cart[i], issue, 0);
		}
	}
	return 0;
}

/* An item for this visit: mostly the focus category, by popularity. */
static int
pick_item(struct gen *g, struct cust *c, int focus)
{
	if (chance(&c->r, 750))
		return pool_pick(&g->bycat[focus], &c->r);
	return pool_pick(&g->all, &c->r);
}

/*
 * A visit: an entry event, product views (some after a search), then
 * browse only, add to cart and leave, abandon at checkout, check the
 * shipping cost then add to cart and leave (the rule-2 shape), or buy.
 */
static int
act_session(struct gen *g, struct cust *c, int64_t t, int mode, int camp)
{
	const struct archetype *a = c->a;
	const char *ch = chance(&c->r, a->app) ? "app" : "web";
	struct gev v;
	int viewed[VIEWED_MAX], nviewed = 0, cart[3], ncart, focus, i, it;
	int64_t id;

	if (mode == SESS_LANDING || mode == SESS_BUY)
		ch = "web";
	if (strcmp(ch, "app") == 0) {
		v = gev_make(EV_APP_OPEN, -1, ch);
		if ((id = emit_step(g, c, &t, &v)) <= 0)
			return (int)id;
	} else {
		if (mode == SESS_NORMAL && chance(&c->r, 120)) {
			v = gev_make(EV_AD_CLICK, -1, "ad");
			if ((id = emit(g, c, t, &v)) <= 0)
				return (int)id;
			t += rng_range(&c->r, 2, 20);
		}
		v = gev_make(EV_PAGE_VIEW, -1, ch);
		if ((id = emit_step(g, c, &t, &v)) <= 0)
			return (int)id;
	}
	if (camp >= 0)
		focus = g->camps[camp].cat;
	else if (chance(&c->r, 650))
		focus = c->fav;
	else
		focus = g->items[pool_pick(&g->all, &c->r)].cat;
	do {
		if (chance(&c->r, 110)) {
			const char *cheap = chance(&c->r, 200) ? "cheap " : "";
			char q[64];

			snprintf(q, sizeof(q), "%s%s", cheap,
			    cats[focus].queries[rng_below(&c->r, 6)]);
			v = gev_make(EV_SEARCH, -1, ch);
			v.text = q;
			if ((id = emit_step(g, c, &t, &v)) <= 0)
				return (int)id;
		}
		it = pick_item(g, c, focus);
		v = gev_make(EV_PRODUCT_VIEW, it, ch);
		if ((id = emit_step(g, c, &t, &v)) <= 0)
			return (int)id;
		viewed[nviewed++] = it;
	} while (nviewed < VIEWED_MAX && chance(&c->r, a->views));

	it = viewed[rng_below(&c->r, (uint64_t)nviewed)];
	if (mode == SESS_BUY || (mode == SESS_REVISIT && chance(&c->r, 250))) {
		v = gev_make(EV_CART_ADD, it, ch);
		if ((id = emit_step(g, c, &t, &v)) <= 0)
			return (int)id;
		cart[0] = it;
		return buy(g, c, &t, ch, cart, 1);
	}
	if ((mode == SESS_REVISIT && chance(&c->r, 550)) ||
	    (mode != SESS_REVISIT && chance(&c->r, a->abandon))) {
		/* the shipping cost puts them off */
		v = gev_make(EV_SHIPPING_VIEW, it, ch);
		if ((id = emit_step(g, c, &t, &v)) <= 0)
			return (int)id;
		v = gev_make(EV_CART_ADD, it, ch);
		if ((id = emit_step(g, c, &t, &v)) <= 0)
			return (int)id;
		if (chance(&c->r, 350)) {
			v = gev_make(EV_CART_REMOVE, it, ch);
			if ((id = emit(g, c, t, &v)) <= 0)
				return (int)id;
		}
		if (chance(&c->r, 500))
			sched(c, t + rng_range(&c->r, 2 * DAY, 10 * DAY),
			    ACT_SESSION, SESS_REVISIT, -1, 0);
		return 0;
	}
	if (mode == SESS_REVISIT || !chance(&c->r, a->cart)) {
		if (chance(&c->r, 40))
			return act_ticket(g, c, t + step(c), -1, -1, 0);
		return 0;
	}
	ncart = 1 + chance(&c->r, 200);
	ncart += chance(&c->r, 50);
	for (i = 0; i < ncart; i++) {
		cart[i] = i == 0 ? it : viewed[rng_below(&c->r,
		    (uint64_t)nviewed)];
		v = gev_make(EV_CART_ADD, cart[i], ch);
		if ((id = emit_step(g, c, &t, &v)) <= 0)
			return (int)id;
	}
	if (ncart > 1 && chance(&c->r, 150)) {
		v = gev_make(EV_CART_REMOVE, cart[--ncart], ch);
		if ((id = emit_step(g, c, &t, &v)) <= 0)
			return (int)id;
	}
	if (chance(&c->r, a->buy))
		return buy(g, c, &t, ch, cart, ncart);
	if (chance(&c->r, 500)) {
		/* leave at checkout, after seeing the shipping cost */
		v = gev_make(EV_CHECKOUT_START, -1, ch);
		if ((id = emit_step(g, c, &t, &v)) <= 0)
			return (int)id;
		v = gev_make(EV_SHIPPING_VIEW, -1, ch);
		if ((id = emit(g, c, t, &v)) <= 0)
			return (int)id;
	} else if (chance(&c->r, 300)) {
		v = gev_make(EV_CART_REMOVE, cart[0], ch);
		if ((id = emit(g, c, t, &v)) <= 0)
			return (int)id;
	}
	return 0;
}

/* An email opened: a campaign (maybe clicked, then a visit), a newsletter. */
static int
act_email(struct gen *g, struct cust *c, int64_t t, int camp)
{
	struct gev v = gev_make(EV_EMAIL_OPEN, -1, "email");
	int64_t id;

	v.campaign = camp;
	if ((id = emit(g, c, t, &v)) <= 0)
		return (int)id;
	if (camp < 0 || !chance(&c->r, c->a->click))
		return 0;
	t += rng_range(&c->r, 20, 15 * MINUTE);
	v = gev_make(EV_EMAIL_CLICK, -1, "email");
	v.campaign = camp;
	if ((id = emit(g, c, t, &v)) <= 0)
		return (int)id;
	return act_session(g, c, t + rng_range(&c->r, 3, 40), SESS_LANDING,
	    camp);
}

/* When an email sent at send is opened: mostly within hours. */
static int64_t
open_delay(struct cust *c)
{
	int r = (int)rng_below(&c->r, 100);

	if (r < 50)
		return rng_range(&c->r, 2 * MINUTE, 3 * HOUR);
	if (r < 85)
		return rng_range(&c->r, 3 * HOUR, DAY);
	return rng_range(&c->r, DAY, 3 * DAY);
}

/* Run activity a, starting no earlier than just after the last event. */
static int
act_run(struct gen *g, struct cust *c, const struct act *a)
{
	int64_t t = a->ts;

	if (t <= c->now)
		t = c->now + rng_range(&c->r, 20, 120);
	if (t >= c->stop || t >= g->end)
		return 0;
	switch (a->kind) {
	case ACT_SESSION:
		return act_session(g, c, t, a->arg, a->arg2);
	case ACT_TICKET:
		return act_ticket(g, c, t, a->arg, a->arg2, a->flag);
	case ACT_REFUND:
		return act_refund(g, c, t, a->arg, a->arg2);
	case ACT_REVIEW:
		return act_review(g, c, t, a->arg, a->flag);
	case ACT_CAMPAIGN:
		return act_email(g, c, t, a->arg);
	case ACT_NEWSLETTER:
		return act_email(g, c, t, -1);
	}
	return 0;
}

/* Remove and return the earliest scheduled activity before limit. */
static int
next_act(struct cust *c, int64_t limit, struct act *out)
{
	int i, best = -1;

	for (i = 0; i < c->nq; i++) {
		const struct act *a = &c->q[i];

		if (a->ts >= limit)
			continue;
		if (best < 0 || a->ts < c->q[best].ts ||
		    (a->ts == c->q[best].ts && a->seq < c->q[best].seq))
			best = i;
	}
	if (best < 0)
		return 0;
	*out = c->q[best];
	c->q[best] = c->q[--c->nq];
	return 1;
}

/* Session start time on the day starting at day0. */
static int64_t
session_time(struct cust *c, int64_t day0)
{
	int64_t hour = rng_pick(&c->r, hour_weight, 24);

	return day0 + hour * HOUR + (int64_t)rng_below(&c->r, HOUR);
}

/* Set up customer index i: archetype, country, lifetime, preferences. */
static void
cust_init(struct gen *g, struct cust *c, int64_t i)
{
	int aw[ARCH_N], k, days = g->o->days;
	struct truth *keep = c->truth;
	size_t keep_cap = c->truth_cap;

	memset(c, 0, sizeof(*c));
	c->truth = keep;
	c->truth_cap = keep_cap;
	rng_seed(&c->r, g->o->seed, (uint64_t)i);
	snprintf(c->id, sizeof(c->id), "C%06lld", (long long)i + 1);
	for (k = 0; k < ARCH_N; k++)
		aw[k] = archetypes[k].weight;
	c->arch = rng_pick(&c->r, aw, ARCH_N);
	c->a = &archetypes[c->arch];
	snprintf(c->attrs, sizeof(c->attrs),
	    "{\"archetype\":\"%s\",\"country\":\"%s\"}", c->a->name,
	    countries[rng_pick(&c->r, country_weight, 9)]);
	if (c->arch == ARCH_NEW)
		c->signup = (int)rng_range(&c->r, days / 2,
		    days > 28 ? days - 14 : days - 1);
	else if (chance(&c->r, 650))
		c->signup = 0;
	else
		c->signup = (int)rng_range(&c->r, 0, days * 2 / 3);
	c->stop = INT64_MAX;
	if (c->a->planned && chance(&c->r, c->a->planned)) {
		int64_t day = rng_range(&c->r, c->signup + 20, days + 20);

		c->stop = g->o->start + day * DAY +
		    (int64_t)rng_below(&c->r, DAY);
	}
	c->fav = g->items[pool_pick(&g->all, &c->r)].cat;
	c->subscribed = chance(&c->r, 850);
	c->newsletter = (int)rng_range(&c->r, 40, 300);
	c->now = INT64_MIN;
}

/* Report the customer's ground-truth rows. */
static int
cust_truth(struct gen *g, struct cust *c)
{
	const struct sample_sink *k = g->sink;
	size_t i;

	for (i = 0; i < c->ntruth; i++) {
		const struct truth *t = &c->truth[i];

		if (k->truth != NULL && k->truth(k->ctx, rule_names[t->rule],
		    c->id, sample_rule_outcome(t->rule), t->fired, t->ids,
		    t->n, g->e) < 0)
			return -1;
	}
	return 0;
}

/* Simulate customer i day by day and emit its events, then its truth. */
static int
gen_customer(struct gen *g, int64_t i)
{
	struct cust *c = &g->c;
	const struct archetype *a;
	struct act act;
	int d, camp = 0, p, age, first;
	int64_t day0, dn;

	cust_init(g, c, i);
	a = c->a;
	/* a visit on the signup day; existing customers have one by a day */
	first = c->signup > 0 ? c->signup : (int)rng_range(&c->r, 0,
	    g->o->days > 60 ? 59 : g->o->days - 1);
	while (camp < g->ncamps && g->camps[camp].day < c->signup)
		camp++;
	for (d = c->signup; d < g->o->days; d++) {
		day0 = g->o->start + (int64_t)d * DAY;
		if (day0 >= c->stop && c->now != INT64_MIN)
			break;
		if (day0 >= c->stop)	/* a customer starts with an event */
			c->stop = INT64_MAX;
		if (c->npend > 0)
			resolve_carts(c, day0);
		if (c->now != INT64_MIN &&
		    (int)rng_below(&c->r, 1000000) < a->hazard) {
			int64_t stop = day0 + (int64_t)rng_below(&c->r, DAY);

			if (stop < c->stop)
				c->stop = stop;
		}
		dn = ts_day(day0);
		p = a->sessions * wday_factor[(dn + 4) % 7] / 1000 *
		    month_factor[day_month(dn)] / 1000;
		if (c->arch == ARCH_LAPSING) {	/* fades to a quarter */
			age = d - c->signup;
			p = (int)((int64_t)p * (4 * g->o->days - 3 * age) /
			    (4 * g->o->days));
		}
		if (d == first && (c->signup > 0 || c->now == INT64_MIN))
			sched(c, session_time(c, day0), ACT_SESSION,
			    SESS_NORMAL, -1, 0);
		else if ((int)rng_below(&c->r, 10000) < p) {
			sched(c, session_time(c, day0), ACT_SESSION,
			    SESS_NORMAL, -1, 0);
			if ((int)rng_below(&c->r, 10000) < p / 6)
				sched(c, session_time(c, day0), ACT_SESSION,
				    SESS_NORMAL, -1, 0);
		}
		if (c->subscribed && d % 14 == 1 &&
		    chance(&c->r, c->newsletter))
			sched(c, day0 + 6 * HOUR + open_delay(c),
			    ACT_NEWSLETTER, -1, 0, 0);
		for (; camp < g->ncamps && g->camps[camp].day == d; camp++)
			if (c->subscribed &&
			    chance(&c->r, g->camps[camp].reach) &&
			    chance(&c->r, 350))
				sched(c, g->camps[camp].send + open_delay(c),
				    ACT_CAMPAIGN, camp, 0, 0);
		while (next_act(c, day0 + DAY, &act))
			if (act_run(g, c, &act) < 0)
				return -1;
	}
	resolve_carts(c, g->end);
	return cust_truth(g, c);
}

/* Check the options. */
static int
opts_check(const struct sample_opts *o, struct err *e)
{
	if (o->customers < 0 || o->customers > 100000000)
		return err_set(e, ERR_USAGE, "sample: customers must be 0 .. "
		    "100000000, not %lld", (long long)o->customers);
	if (o->days < 1 || o->days > 36600)
		return err_set(e, ERR_USAGE, "sample: days must be 1 .. 36600, "
		    "not %d", o->days);
	if (o->start < 0 ||
	    o->start > INT64_C(32503680000) - (int64_t)36600 * DAY)
		return err_set(e, ERR_USAGE, "sample: start must lie between "
		    "1970 and 2900");
	return 0;
}

/* Generate the whole data set into sink. */
int
sample_generate(const struct sample_opts *o, const struct sample_sink *sink,
    struct err *e)
{
	struct gen *g;
	int64_t i;
	int rc = 0, k;

	if (opts_check(o, e) < 0)
		return -1;
	if (sink == NULL || sink->event == NULL)
		return err_set(e, ERR_USAGE, "sample: no event sink");
	g = xcalloc(1, sizeof(*g));
	g->o = o;
	g->sink = sink;
	g->e = e;
	g->end = o->start + (int64_t)o->days * DAY;
	buf_init(&g->text);
	buf_init(&g->attrs);
	gen_catalog(g);
	gen_campaigns(g);
	for (k = 0; rc == 0 && sink->item != NULL && k < N_ITEMS; k++)
		rc = sink->item(sink->ctx, g->items[k].id, g->items[k].name,
		    cats[g->items[k].cat].name,
		    (double)g->items[k].cents / 100.0, e);
	for (i = 0; rc == 0 && i < o->customers; i++) {
		rc = gen_customer(g, i);
		if (sink->progress != NULL && ((i + 1) % 1024 == 0 ||
		    i + 1 == o->customers))
			sink->progress(sink->ctx, i + 1, o->customers);
	}
	free(g->c.truth);
	free(g->all.idx);
	free(g->all.cum);
	for (k = 0; k < N_CATS; k++) {
		free(g->bycat[k].idx);
		free(g->bycat[k].cum);
	}
	free(g->camps);
	buf_release(&g->text);
	buf_release(&g->attrs);
	free(g);
	return rc;
}
