/*
 * t-segment.c: segments, BG/NBD and behaviour detection. RFM quintiles
 * on hand-made vectors (ties share the score of their middle place);
 * the RFM map: the standard one cell by cell, the malformed ones each
 * with its message, first-match order; RFM, filter, band and cluster
 * segments built on a store of 15 customers whose every figure is
 * worked out by hand below; the filter language: the SQL and the bound
 * values of valid expressions, the column and message of invalid ones,
 * and attempts to inject SQL, which must be refused or match only what
 * the literal text would, leaving the store's tables as they were;
 * k-means on separable and on ambiguous points; the BG/NBD likelihood,
 * P(alive), P(no purchase) and the expected purchases against values
 * computed by hand (FHL 2005), a fit on simulated customers, the
 * per-customer figures of a store; trig_detect on hand-built windows,
 * pattern by pattern, with the positions of every hit. The expected
 * values come from the test's own fixture, never from the store. The
 * sqlite3 API is used only to look behind the store's back.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bgnbd.h"
#include "err.h"
#include "nn.h"
#include "segment.h"
#include "store.h"
#include "tokens.h"
#include "trigger.h"
#include "tap.h"

#define T0	1717200000LL		/* 2024-06-01T00:00:00Z */
#define DAY	86400LL
#define END	(T0 + 100 * DAY)	/* 2024-09-09T00:00:00Z, last event */
#define NC	15			/* customers of the fixture */

static char dir[256];
static char dbpath[512];

/* ---- the fixture store ---- */

/*
 * Fifteen customers. Each has a page_view on day `first` after T0 (its
 * first event) and one at END - rec days (its last event: recency = rec
 * days exactly, as END is the store's last event), np purchases of
 * spend / np each, purchase k (k = 0 .. np-1) at noon of day END - (rec +
 * 1 + 2k); with dup, purchases 0 and 1 fall on the same day (noon and
 * 2 pm) and purchase k >= 2 on day END - (rec + 1 + 2(k - 1)). Support
 * tickets at 6 am of day END - d for each d listed. Two external ids
 * are SQL in disguise: they must come back only as literal text.
 */
static const struct cust {
	const char	*ext;
	const char	*attrs;		/* customer attributes, or NULL */
	int		 first;		/* days after T0 */
	int		 rec;		/* days before END */
	int		 np;
	double		 spend;
	int		 dup;
	int		 tickets[4];	/* days before END; 0 ends the list */
} cust[NC] = {
	{ "c01", "{\"country\":\"DE\"}", 0, 0, 6, 600, 1, { 0 } },
	{ "c02", "{\"country\":\"FR\"}", 0, 1, 5, 450, 0, { 3, 10, 0 } },
	{ "c03", "{\"country\":\"DE\"}", 50, 2, 0, 0, 0, { 0 } },
	{ "c04", NULL, 60, 5, 1, 20, 0, { 0 } },
	{ "c05", NULL, 70, 5, 2, 80, 0, { 0 } },
	{ "c06", NULL, 0, 10, 4, 300, 0, { 20, 0 } },
	{ "c07", NULL, 0, 20, 0, 0, 0, { 0 } },
	{ "c08", NULL, 0, 30, 3, 150, 0, { 31, 35, 60, 0 } },
	{ "c09", NULL, 0, 40, 1, 35, 0, { 0 } },
	{ "c10", "{\"country\":\"DE\"}", 0, 50, 7, 910, 0, { 0 } },
	{ "c11", NULL, 0, 60, 0, 0, 0, { 0 } },
	{ "c12", NULL, 0, 70, 2, 60, 0, { 0 } },
	{ "Robert'); DROP TABLE events;--", NULL, 0, 80, 5, 500, 0, { 0 } },
	{ "x' OR 1=1 --", "{\"country\":\"US\"}", 0, 90, 0, 0, 0, { 0 } },
	{ "c15", NULL, 0, 95, 1, 10, 0, { 0 } },
};
static int64_t cid[NC];		/* store ids of the customers */
static int64_t n_events;	/* events the fixture added */

/* The time of purchase k of customer i. */
static int64_t
purchase_ts(int i, int k)
{
	const struct cust *c = &cust[i];
	int d = c->dup && k >= 1 ? k - 1 : k;

	return END - (c->rec + 1 + 2 * d) * DAY + (c->dup && k == 1 ? 14 :
	    12) * 3600;
}

/* One event into the import; 0 or -1. */
static int
add(struct ingest *g, int i, int64_t ts, const char *type, double amount,
    struct err *e)
{
	struct ingest_event x;

	memset(&x, 0, sizeof(x));
	x.customer = cust[i].ext;
	x.ts = ts;
	x.type = type;
	x.price = NAN;
	x.amount = amount;
	x.quantity = NAN;
	x.cust_attrs = cust[i].attrs;
	if (store_ingest_event(g, &x, e) < 0)
		return -1;
	n_events++;
	return 0;
}

/* The fixture into a new store at dbpath; the store or NULL. */
static struct store *
fixture(void)
{
	struct ingest_info info;
	struct customer cu;
	struct ingest *g;
	struct store *s;
	struct err e;
	int i, k, rc = 0;

	err_clear(&e);
	if ((s = store_open(dbpath, STORE_CREATE, &e)) == NULL) {
		diag("store_open: %s", e.msg);
		return NULL;
	}
	memset(&info, 0, sizeof(info));
	info.source = "t-segment";
	if ((g = store_ingest_begin(s, &info, &e)) == NULL) {
		diag("store_ingest_begin: %s", e.msg);
		store_close(s);
		return NULL;
	}
	for (i = 0; i < NC && rc == 0; i++) {
		const struct cust *c = &cust[i];

		rc = add(g, i, T0 + c->first * DAY, "page_view", NAN, &e);
		for (k = 0; k < c->np && rc == 0; k++)
			rc = add(g, i, purchase_ts(i, k), "purchase",
			    c->spend / c->np, &e);
		for (k = 0; c->tickets[k] != 0 && rc == 0; k++)
			rc = add(g, i, END - c->tickets[k] * DAY + 6 * 3600,
			    "support_ticket", NAN, &e);
		if (rc == 0)
			rc = add(g, i, END - c->rec * DAY, "page_view", NAN,
			    &e);
	}
	if (rc < 0 || store_ingest_commit(g, 0, &e) < 0) {
		if (rc < 0)
			store_ingest_abort(g);
		diag("import: %s", e.msg);
		store_close(s);
		return NULL;
	}
	for (i = 0; i < NC; i++) {
		if (store_customer_get(s, cust[i].ext, &cu, &e) != 1) {
			diag("customer %s not in the store", cust[i].ext);
			store_close(s);
			return NULL;
		}
		cid[i] = cu.id;
	}
	return s;
}

/* One integer from SQL (sqlite3_mprintf format, %q quotes) on dbpath. */
static int64_t __attribute__((format(printf, 1, 2)))
sql_int(const char *fmt, ...)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = INT64_MIN;
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	} else
		diag("sql_int: %s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	sqlite3_free(sql);
	return v;
}

/* One text from SQL (static copy), "(null)" or "(error)". */
static const char * __attribute__((format(printf, 1, 2)))
sql_text(const char *fmt, ...)
{
	static char out[1024];
	sqlite3 *db;
	sqlite3_stmt *st;
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	snprintf(out, sizeof(out), "(error)");
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);

			snprintf(out, sizeof(out), "%s", t ? (const char *)t :
			    "(null)");
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	sqlite3_free(sql);
	return out;
}

/*
 * The members of the segment called name as fixture numbers ("01 06"),
 * in fixture order; "(none)" for no segment, "" for an empty one.
 */
static const char *
members(struct store *s, const char *name)
{
	static char out[128];
	int64_t seg, ids[64];
	struct err e;
	int n, i, k, found;

	err_clear(&e);
	if (store_seg_find(s, name, &seg, &e) != 1)
		return "(none)";
	if ((n = store_seg_members(s, seg, 0, ids, 64, &e)) < 0)
		return "(error)";
	out[0] = '\0';
	for (i = 0; i < NC; i++) {
		for (k = 0, found = 0; k < n; k++)
			found |= ids[k] == cid[i];
		if (found)
			snprintf(out + strlen(out), sizeof(out) - strlen(out),
			    "%s%02d", out[0] ? " " : "", i + 1);
	}
	for (k = 0; k < n; k++) {
		for (i = 0; i < NC && ids[k] != cid[i]; i++)
			;
		if (i == NC)
			return "(a stranger)";
	}
	return out;
}

/* s with control characters as \t, \n, \r (static), for TAP lines. */
static const char *
printable(const char *s)
{
	static char out[512];
	size_t n = 0;

	for (; *s && n + 3 < sizeof(out); s++)
		if (*s == '\t' || *s == '\n' || *s == '\r') {
			out[n++] = '\\';
			out[n++] = *s == '\t' ? 't' : *s == '\n' ? 'n' : 'r';
		} else
			out[n++] = *s;
	out[n] = '\0';
	return out;
}

/* Table row counts, to see that nothing was dropped or added. */
struct tables {
	int64_t		 customers, events, types, master, truth;
};

static void
tables_get(struct tables *t)
{
	t->customers = sql_int("SELECT count(*) FROM customers");
	t->events = sql_int("SELECT count(*) FROM events");
	t->types = sql_int("SELECT count(*) FROM event_types");
	t->master = sql_int("SELECT count(*) FROM sqlite_master");
	t->truth = sql_int("SELECT count(*) FROM ground_truth");
}

/* Does msg contain sub? Says what it got when not. */
static int
has(const char *msg, const char *sub)
{
	if (strstr(msg, sub) != NULL)
		return 1;
	diag("message '%s' lacks '%s'", msg, sub);
	return 0;
}

/* ---- RFM quintiles ---- */

/* Scores as text ("1 1 2 ..."). */
static const char *
scores_str(const int *sc, size_t n)
{
	static char out[256];
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%d",
		    i ? " " : "", sc[i]);
	return out;
}

/*
 * A value at 0-based place p of n sorted ones scores 1 + floor(5 p / n);
 * a tie group over places i .. j-1 shares the score of its middle place
 * (i + j - 1) / 2, that is 1 + floor(5 (i + j - 1) / (2 n)).
 */
static void
test_quintiles(void)
{
	static const double v10[10] = { 4, 9, 1, 7, 3, 10, 2, 8, 6, 5 };
	static const double tie[10] = { 0, 3, 0, 1, 0, 5, 0, 2, 0, 4 };
	static const double mid[7] = { 3, 1, 3, 2, 3, 5, 4 };
	static const double same[5] = { 7, 7, 7, 7, 7 };
	/* purchases of 20 customers, shuffled */
	static const double buys[20] = { 0, 1, 0, 9, 2, 0, 1, 3, 0, 5, 0, 2,
	    1, 0, 7, 3, 0, 2, 1, 0 };
	int sc[20], cnt[6], i;

	/* distinct 1..10: places 0-1 score 1, 2-3 score 2, ... 8-9 score 5 */
	rfm_quintiles(v10, 10, 1, sc);
	is_str(scores_str(sc, 10), "2 5 1 4 2 5 1 4 3 3",
	    "quintiles of 1..10 (shuffled), higher better");
	/* the reverse: 10 and 9 take places 0-1, score 1 */
	rfm_quintiles(v10, 10, 0, sc);
	is_str(scores_str(sc, 10), "4 1 5 2 4 1 5 2 3 3",
	    "quintiles of 1..10, lower better");
	/*
	 * Five zeros take places 0-4: middle 2, 1 + floor(5*4/20) = 2 (no
	 * customer scores 1); 1 at place 5: 1 + floor(50/20) = 3; 2, 3 at
	 * places 6, 7: 1 + floor(60/20) = 4, 1 + floor(70/20) = 4; 4, 5 at
	 * 8, 9: 5.
	 */
	rfm_quintiles(tie, 10, 1, sc);
	is_str(scores_str(sc, 10), "2 4 2 3 2 5 2 4 2 5",
	    "five zeros share the middle place's score 2, higher better");
	/*
	 * Lower better: 5, 4 at places 0, 1 score 1; 3, 2 at 2, 3 score 2;
	 * 1 at 4 scores 3; the zeros at places 5-9 (middle 7): 1 +
	 * floor(5*14/20) = 4.
	 */
	rfm_quintiles(tie, 10, 0, sc);
	is_str(scores_str(sc, 10), "4 2 4 3 4 1 4 2 4 1",
	    "the zeros share score 4, lower better");
	/*
	 * n = 7: 1 at place 0 -> 1; 2 at 1 -> 1 + floor(10/14) = 1; the
	 * three 3s at places 2-4 -> 1 + floor(5*6/14) = 3; 4 at 5 -> 1 +
	 * floor(50/14) = 4; 5 at 6 -> 1 + floor(60/14) = 5.
	 */
	rfm_quintiles(mid, 7, 1, sc);
	is_str(scores_str(sc, 7), "3 1 3 1 3 5 4",
	    "a tie in the middle of 7 values");
	/* all equal: places 0-4, middle 2: 1 + floor(5*4/10) = 3 */
	rfm_quintiles(same, 5, 1, sc);
	is_str(scores_str(sc, 5), "3 3 3 3 3", "five equal values score 3");
	rfm_quintiles(same, 5, 0, sc);
	is_str(scores_str(sc, 5), "3 3 3 3 3", "and 3 the other way round");
	sc[0] = 99;
	rfm_quintiles(same, 0, 1, sc);
	is_int(sc[0], 99, "no values: nothing written");
	/*
	 * 20 purchase counts: eight 0s at places 0-7, middle 3.5: 1 +
	 * floor(5*7/40) = 1; four 1s at 8-11: 1 + floor(5*19/40) = 3; three
	 * 2s at 12-14: 1 + floor(5*26/40) = 4; two 3s at 15-16: 1 +
	 * floor(5*31/40) = 4; 5, 7, 9 at 17, 18, 19: 1 + floor(170/40) = 5,
	 * 5, 5. Per score: 8, 0, 4, 5, 3.
	 */
	rfm_quintiles(buys, 20, 1, sc);
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < 20; i++)
		cnt[sc[i] >= 1 && sc[i] <= 5 ? sc[i] : 0]++;
	ok(cnt[0] == 0 && cnt[1] == 8 && cnt[2] == 0 && cnt[3] == 4 &&
	    cnt[4] == 5 && cnt[5] == 3, "20 purchase counts: 8, 0, 4, 5, 3 "
	    "customers score 1 .. 5 (got %d %d %d %d %d, %d out of range)",
	    cnt[1], cnt[2], cnt[3], cnt[4], cnt[5], cnt[0]);
	ok(sc[3] == 5 && sc[14] == 5 && sc[9] == 5 && sc[7] == 4 &&
	    sc[1] == 3 && sc[0] == 1, "and each value its own score");
}

/* ---- the RFM map ---- */

/* The standard map written out cell by cell: [r-1][f-1]. */
static const char *const std_cell[5][5] = {
	/* r 1 */ { "Hibernating", "Hibernating", "At Risk", "At Risk",
	    "Can't Lose Them" },
	/* r 2 */ { "Hibernating", "Hibernating", "At Risk", "At Risk",
	    "Can't Lose Them" },
	/* r 3 */ { "About to Sleep", "About to Sleep", "Need Attention",
	    "Loyal Customers", "Loyal Customers" },
	/* r 4 */ { "Promising", "Potential Loyalists", "Potential Loyalists",
	    "Loyal Customers", "Loyal Customers" },
	/* r 5 */ { "New Customers", "Potential Loyalists",
	    "Potential Loyalists", "Champions", "Champions" },
};
static const char *const std_names[10] = { "Champions", "Loyal Customers",
    "Potential Loyalists", "New Customers", "Promising", "Need Attention",
    "About to Sleep", "Can't Lose Them", "At Risk", "Hibernating" };

/* A malformed map: refused, ERR_PARSE, the message has sub (2 checks). */
static void
map_bad(const char *json, const char *sub, const char *what)
{
	struct rfm_map map;
	struct err e;
	int rc;

	err_clear(&e);
	rc = rfm_map_parse(json, "rules.json", &map, &e);
	ok(rc == -1 && e.code == ERR_PARSE && map.rule == NULL && map.n == 0,
	    "map %s: refused (ERR_PARSE, nothing to release)", what);
	ok(rc == -1 && strncmp(e.msg, "rules.json: ", 12) == 0 &&
	    has(e.msg, sub), "map %s: '%s' after the file name", what, sub);
}

static void
test_map(void)
{
	struct rfm_map map;
	struct err e;
	int r, f, k, bad, matches, pass;
	size_t i;
	char json[2048], *p;

	err_clear(&e);
	if (!ok(rfm_map_parse(rfm_default_json(), "std", &map, &e) == 0,
	    "the standard map parses"))
		diag("%s", e.msg);
	is_int((int64_t)map.n, 10, "the standard map has 10 rules");
	for (i = 0, pass = map.n == 10; pass && i < 10; i++)
		pass = strcmp(map.rule[i].name, std_names[i]) == 0;
	ok(pass, "the 10 standard names, in the standard order");
	/* every cell matched by exactly one rule: no overlap, no hole */
	for (r = 1, bad = 0; r <= 5; r++)
		for (f = 1; f <= 5; f++) {
			for (i = 0, matches = 0; i < map.n; i++)
				matches += r >= map.rule[i].r0 &&
				    r <= map.rule[i].r1 &&
				    f >= map.rule[i].f0 && f <= map.rule[i].f1;
			bad += matches != 1;
		}
	is_int(bad, 0, "each of the 25 cells is in exactly one rule");
	for (r = 1, bad = 0; r <= 5; r++)
		for (f = 1; f <= 5; f++)
			if (strcmp(map.cell[r - 1][f - 1],
			    std_cell[r - 1][f - 1]) != 0) {
				diag("cell r %d f %d: '%s', want '%s'", r, f,
				    map.cell[r - 1][f - 1],
				    std_cell[r - 1][f - 1]);
				bad++;
			}
	is_int(bad, 0, "all 25 cells named as in the standard map");
	/* each name somewhere, and the counts of cells per name */
	for (k = 0, pass = 1; k < 10; k++) {
		int n = 0, want[10] = { 2, 4, 4, 1, 1, 1, 2, 2, 4, 4 };

		for (r = 0; r < 5; r++)
			for (f = 0; f < 5; f++)
				n += strcmp(map.cell[r][f], std_names[k]) == 0;
		if (n != want[k]) {
			diag("%s: %d cells, want %d", std_names[k], n, want[k]);
			pass = 0;
		}
	}
	ok(pass, "cells per segment: 2 4 4 1 1 1 2 2 4 4");
	rfm_map_release(&map);
	ok(map.rule == NULL && map.n == 0, "rfm_map_release empties the map");

	map_bad("[{\"name\": \"x\", \"r\": [1, 5], ", "expected a JSON array",
	    "cut short (not JSON)");
	map_bad("not json at all", "expected a JSON array", "not JSON");
	map_bad("{\"name\": \"x\", \"r\": [1, 5], \"f\": [1, 5]}",
	    "expected a JSON array", "an object, not an array");
	map_bad("[{\"r\": [1, 5], \"f\": [1, 5]}]",
	    "rule 1: \"name\" must be a string", "a rule without a name");
	map_bad("[{\"name\": \"\", \"r\": [1, 5], \"f\": [1, 5]}]",
	    "rule 1: \"name\" must be a string", "an empty name");
	map_bad("[{\"name\": 7, \"r\": [1, 5], \"f\": [1, 5]}]",
	    "rule 1: \"name\" must be a string", "a number for a name");
	map_bad("[{\"name\": \"0123456789012345678901234567890123456789"
	    "01234567\", \"r\": [1, 5], \"f\": [1, 5]}]", "of 1 to 47 bytes",
	    "a name of 48 bytes");
	map_bad("[{\"name\": \"a\", \"r\": [1, 5], \"f\": [1, 5]}, "
	    "{\"name\": \"b\", \"r\": [0, 5], \"f\": [1, 5]}]",
	    "rule 2 (b): \"r\" and \"f\" must be [lo, hi] with 1 <= lo <= hi "
	    "<= 5", "r from 0 in rule 2");
	map_bad("[{\"name\": \"a\", \"r\": [1, 6], \"f\": [1, 5]}]",
	    "rule 1 (a): \"r\" and \"f\" must be", "r up to 6");
	map_bad("[{\"name\": \"a\", \"r\": [1, 5], \"f\": [0, 5]}]",
	    "rule 1 (a): \"r\" and \"f\" must be", "f from 0");
	map_bad("[{\"name\": \"a\", \"r\": [4, 2], \"f\": [1, 5]}]",
	    "rule 1 (a): \"r\" and \"f\" must be", "lo > hi");
	map_bad("[{\"name\": \"a\", \"r\": [1, 5], \"f\": [5, 1]}]",
	    "rule 1 (a): \"r\" and \"f\" must be", "f lo > hi");
	map_bad("[{\"name\": \"a\", \"r\": [1.5, 5], \"f\": [1, 5]}]",
	    "rule 1 (a): \"r\" and \"f\" must be", "a fractional score");
	map_bad("[{\"name\": \"a\", \"r\": [1, 5, 5], \"f\": [1, 5]}]",
	    "rule 1 (a): \"r\" and \"f\" must be", "three numbers for r");
	map_bad("[{\"name\": \"a\", \"r\": [1, 5]}]",
	    "rule 1 (a): \"r\" and \"f\" must be", "no f");
	map_bad("[{\"name\": \"a\", \"r\": [\"1\", 5], \"f\": [1, 5]}]",
	    "rule 1 (a): \"r\" and \"f\" must be", "a string for a score");
	map_bad("[{\"name\": \"a\", \"r\": [1, 5], \"f\": [1, 4]}, "
	    "{\"name\": \"b\", \"r\": [1, 4], \"f\": [5, 5]}]",
	    "1 of the 25 cells match no rule: (r 5, f 5)", "cell r 5 f 5 "
	    "uncovered");
	map_bad("[{\"name\": \"a\", \"r\": [1, 5], \"f\": [2, 5]}]",
	    "5 of the 25 cells match no rule: (r 1, f 1) (r 2, f 1) (r 3, "
	    "f 1) (r 4, f 1) (r 5, f 1)", "column f 1 uncovered, listed");
	map_bad("[]", "25 of the 25 cells match no rule: (r 1, f 1) (r 1, "
	    "f 2) (r 1, f 3) (r 1, f 4) (r 1, f 5) (r 2, f 1) (r 2, f 2) "
	    "(r 2, f 3) ...", "no rules: the first 8 cells and ...");
	/* the standard map less its last rule: Hibernating's 4 cells */
	snprintf(json, sizeof(json), "%s", rfm_default_json());
	if ((p = strstr(json, ",\n  {\"name\": \"Hibernating\"")) != NULL)
		snprintf(p, sizeof(json) - (size_t)(p - json), "]");
	map_bad(json, "4 of the 25 cells match no rule: (r 1, f 1) (r 1, "
	    "f 2) (r 2, f 1) (r 2, f 2)", "the standard map without "
	    "Hibernating");

	/* the first rule matching a cell names it */
	ok(rfm_map_parse("[{\"name\": \"All\", \"r\": [1, 5], \"f\": [1, 5]},"
	    " {\"name\": \"Top\", \"r\": [5, 5], \"f\": [5, 5]}]", "o", &map,
	    &e) == 0 && strcmp(map.cell[4][4], "All") == 0 &&
	    strcmp(map.cell[0][0], "All") == 0, "overlap: the earlier "
	    "catch-all names even r 5 f 5");
	rfm_map_release(&map);
	ok(rfm_map_parse("[{\"name\": \"Top\", \"r\": [5, 5], \"f\": [5, 5]},"
	    " {\"name\": \"All\", \"r\": [1, 5], \"f\": [1, 5]}]", "o", &map,
	    &e) == 0 && strcmp(map.cell[4][4], "Top") == 0 &&
	    strcmp(map.cell[4][3], "All") == 0 &&
	    strcmp(map.cell[3][4], "All") == 0, "the other order: r 5 f 5 is "
	    "Top, its neighbours All");
	rfm_map_release(&map);
	ok(rfm_map_parse("[{\"name\": \"Hi\", \"r\": [3, 5], \"f\": [1, 5]},"
	    " {\"name\": \"Mid\", \"r\": [2, 4], \"f\": [1, 5]},"
	    " {\"name\": \"Lo\", \"r\": [1, 5], \"f\": [1, 5]}]", "o", &map,
	    &e) == 0 && strcmp(map.cell[3][0], "Hi") == 0 &&
	    strcmp(map.cell[1][2], "Mid") == 0 &&
	    strcmp(map.cell[0][4], "Lo") == 0 &&
	    strcmp(map.cell[2][2], "Hi") == 0, "three overlapping bands: "
	    "r 3-5 Hi, r 2 Mid, r 1 Lo");
	rfm_map_release(&map);
}

/* ---- RFM segments on the fixture ---- */

/*
 * As of END, over the 15 customers (n = 15: a place p scores 1 +
 * floor(p / 3), a tie group i .. j-1 1 + floor((i + j - 1) / 6)).
 * Recency, worst first: c15 95, c14 90, c13 80 (places 0-2: r 1); c12
 * 70, c11 60, c10 50 (r 2); c09 40, c08 30, c07 20 (r 3); c06 10 (place
 * 9: r 4); c04 and c05 tie at 5 days on places 10-11: 1 + floor(21/6)
 * = 4; c03 2, c02 1, c01 0 (r 5). Purchases: 0 for c03 c07 c11 c14
 * (places 0-3: 1 + floor(3/6) = 1); 1 for c04 c09 c15 (4-6: 1 +
 * floor(10/6) = 2); 2 for c05 c12 (7-8: 1 + floor(15/6) = 3); c08 3
 * (place 9: 4); c06 4 (10: 4); 5 for c02 c13 (11-12: 1 + floor(23/6) =
 * 4); c01 6 (13: 5); c10 7 (14: 5). Spend: 0 for the four (m 1); c15 10
 * and c04 20 (places 4, 5: m 2); c09 35, c12 60, c05 80 (m 3); c08 150,
 * c06 300, c02 450 (m 4); c13 500, c01 600, c10 910 (m 5). Cells by the
 * standard map in the comments.
 */
static const struct rfm_want {
	int		 r, f, m;
	const char	*segment;
} rfm_want[NC] = {
	{ 5, 5, 5, "Champions" },		/* c01 */
	{ 5, 4, 4, "Champions" },		/* c02 */
	{ 5, 1, 1, "New Customers" },		/* c03 */
	{ 4, 2, 2, "Potential Loyalists" },	/* c04 */
	{ 4, 3, 3, "Potential Loyalists" },	/* c05 */
	{ 4, 4, 4, "Loyal Customers" },		/* c06 */
	{ 3, 1, 1, "About to Sleep" },		/* c07 */
	{ 3, 4, 4, "Loyal Customers" },		/* c08 */
	{ 3, 2, 3, "About to Sleep" },		/* c09 */
	{ 2, 5, 5, "Can't Lose Them" },		/* c10 */
	{ 2, 1, 1, "Hibernating" },		/* c11 */
	{ 2, 3, 3, "At Risk" },			/* c12 */
	{ 1, 4, 5, "At Risk" },			/* c13 */
	{ 1, 1, 1, "Hibernating" },		/* c14 */
	{ 1, 2, 2, "Hibernating" },		/* c15 */
};
/* Members of each standard segment, from the table above. */
static const char *const rfm_members[10] = {
	"01 02", "06 08", "04 05", "03", "", "", "07 09", "10", "12 13",
	"11 14 15" };

/* The customer_rfm row of customer i as text. */
static const char *
rfm_row(int i)
{
	return sql_text("SELECT r || ' ' || f || ' ' || m || ' ' || segment "
	    "|| ' ' || recency || ' ' || frequency || ' ' || monetary || ' ' "
	    "|| at FROM customer_rfm WHERE customer_id = %lld",
	    (long long)cid[i]);
}

/* A map of 64 rules for cell r 1 f 1, then one for all (see below). */
static char *
map65(void)
{
	size_t cap = 8192, len = 0;
	char *j = malloc(cap);
	int k;

	len += (size_t)snprintf(j + len, cap - len, "[");
	for (k = 0; k < 64; k++)
		len += (size_t)snprintf(j + len, cap - len, "{\"name\": "
		    "\"N%d\", \"r\": [1, 1], \"f\": [1, 1]},", k);
	snprintf(j + len, cap - len, "{\"name\": \"Rest\", \"r\": [1, 5], "
	    "\"f\": [1, 5]}]");
	return j;
}

static void
test_rfm_store(struct store *s)
{
	struct rfm_map map;
	struct err e;
	int64_t grid[5][5], n, tot;
	int i, r, f, bad, st;
	char want[256], *j;

	err_clear(&e);
	if (rfm_map_parse(rfm_default_json(), "std", &map, &e) < 0) {
		printf("Bail out! the standard map: %s\n", e.msg);
		exit(1);
	}
	n = segment_build_rfm(s, &map, 0, &e);
	if (!is_int(n, NC, "segment_build_rfm: 15 customers scored"))
		diag("%s", e.msg);
	for (i = 0, bad = 0; i < NC; i++) {
		snprintf(want, sizeof(want), "%d %d %d %s %d.0 %d %d.0 %lld",
		    rfm_want[i].r, rfm_want[i].f, rfm_want[i].m,
		    rfm_want[i].segment, cust[i].rec, cust[i].np,
		    (int)cust[i].spend, (long long)END);
		if (strcmp(rfm_row(i), want) != 0) {
			diag("c%02d: customer_rfm '%s', want '%s'", i + 1,
			    rfm_row(i), want);
			bad++;
		}
	}
	is_int(bad, 0, "customer_rfm: r f m, segment, recency (days), "
	    "frequency, monetary and at of each customer, as worked out");
	is_int(sql_int("SELECT count(*) FROM customer_rfm"), NC,
	    "customer_rfm: one row per customer");
	is_int(sql_int("SELECT count(*) FROM segments WHERE kind = 'rfm'"), 10,
	    "10 RFM segments, Promising and Need Attention empty among them");
	for (i = 0, bad = 0; i < 10; i++)
		if (strcmp(members(s, std_names[i]), rfm_members[i]) != 0) {
			diag("%s: members '%s', want '%s'", std_names[i],
			    members(s, std_names[i]), rfm_members[i]);
			bad++;
		}
	is_int(bad, 0, "segment_members: each standard segment's customers");
	is_int(sql_int("SELECT count(*) FROM segment_members m JOIN segments "
	    "g ON g.id = m.segment_id WHERE g.kind = 'rfm'"), NC,
	    "15 RFM memberships: every customer in exactly one segment");
	is_int(sql_int("SELECT count(*) FROM segment_members m JOIN segments "
	    "g ON g.id = m.segment_id JOIN customer_rfm x ON x.customer_id = "
	    "m.customer_id WHERE g.kind = 'rfm' AND g.name != x.segment"), 0,
	    "each member's customer_rfm.segment is its segment's name");
	is_str(sql_text("SELECT definition FROM segments WHERE name = "
	    "'Champions'"), "{\"r\":[5,5],\"f\":[4,5]}",
	    "a segment's definition is its rule");
	ok(segment_rfm_grid(s, grid, &e) == 0, "segment_rfm_grid");
	for (r = 1, bad = 0, tot = 0; r <= 5; r++)
		for (f = 1; f <= 5; f++) {
			int64_t w = 0;

			for (i = 0; i < NC; i++)
				w += rfm_want[i].r == r && rfm_want[i].f == f;
			bad += grid[r - 1][f - 1] != w;
			tot += grid[r - 1][f - 1];
		}
	ok(bad == 0 && tot == NC, "the grid: one customer in each of 15 "
	    "cells, as the table says (%d cells differ, %lld in all)", bad,
	    (long long)tot);
	/* again: the same, not twice as many */
	n = segment_build_rfm(s, &map, 0, &e);
	ok(n == NC && sql_int("SELECT count(*) FROM segments WHERE kind = "
	    "'rfm'") == 10 && sql_int("SELECT count(*) FROM segment_members "
	    "m JOIN segments g ON g.id = m.segment_id WHERE g.kind = "
	    "'rfm'") == NC, "a second build replaces the first");

	/*
	 * As of END - 45 days: c04 (first seen END - 40) and c05 (END - 30)
	 * are not customers yet. c01 had then only its first page_view, at
	 * T0 = END - 100: recency 55 days, no purchase, no spend.
	 */
	n = segment_build_rfm(s, &map, END - 45 * DAY, &e);
	is_int(n, 13, "as of END - 45 days: 13 customers (c04 and c05 come "
	    "later)");
	snprintf(want, sizeof(want), "55.0 0 0.0");
	is_str(sql_text("SELECT recency || ' ' || frequency || ' ' || "
	    "monetary FROM customer_rfm WHERE customer_id = %lld",
	    (long long)cid[0]), want, "as of END - 45 days, c01: recency 55 "
	    "days, 0 purchases, 0 spent (only events by then count)");
	ok(segment_rfm_grid(s, grid, &e) == 0, "segment_rfm_grid");
	for (r = 0, tot = 0; r < 5; r++)
		for (f = 0; f < 5; f++)
			tot += grid[r][f];
	is_int(tot, 13, "the grid as of END - 45 days counts the 13 customers "
	    "scored, not rows left from the build before");
	is_int(sql_int("SELECT count(*) FROM customer_rfm WHERE at != %lld",
	    (long long)(END - 45 * DAY)), 0, "customer_rfm holds no row of an "
	    "earlier build");

	/* a name given by two rules is one segment; a filter survives */
	rfm_map_release(&map);
	if (!ok(segment_build_filter(s, "keep", "spend > 800", NULL, &e) ==
	    1, "a filter segment before the rebuild"))
		diag("%s", e.msg);
	if (!ok(rfm_map_parse("[{\"name\": \"Low\", \"r\": [1, 2], "
	    "\"f\": [1, 5]}, {\"name\": \"High\", \"r\": [3, 5], "
	    "\"f\": [2, 5]}, {\"name\": \"Low\", \"r\": [3, 5], "
	    "\"f\": [1, 1]}]", "two",
	    &map, &e) == 0 && segment_build_rfm(s, &map, 0, &e) == NC,
	    "a map naming Low twice builds"))
		diag("%s", e.msg);
	is_int(sql_int("SELECT count(*) FROM segments WHERE kind = 'rfm'"), 2,
	    "two segments: Low and High; the standard ones are gone");
	is_str(members(s, "Low"), "03 07 10 11 12 13 14 15",
	    "Low: r 1-2 and the f 1 customers c03 and c07");
	is_str(members(s, "High"), "01 02 04 05 06 08 09", "High: the rest");
	is_str(members(s, "keep"), "10", "the filter segment is still there");
	rfm_map_release(&map);

	/*
	 * 65 rules: 64 for cell r 1 f 1 (c14's), then Rest for every cell.
	 * The other 14 customers are in Rest.
	 */
	j = map65();
	err_clear(&e);
	if (!(st = ok(rfm_map_parse(j, "65", &map, &e) == 0, "a map of 65 "
	    "rules parses")))
		diag("%s", e.msg);
	if (!ok(st && segment_build_rfm(s, &map, 0, &e) == NC, "a map of 65 "
	    "rules builds"))
		diag("%s", e.msg);
	is_str(st ? members(s, "Rest") : "(no map)", "01 02 03 04 05 06 07 08 "
	    "09 10 11 12 13 15", "65 rules: Rest has all but c14");
	is_str(st ? members(s, "N0") : "(no map)", "14", "65 rules: N0, the "
	    "first rule for r 1 f 1, has c14");
	if (st)
		rfm_map_release(&map);
	free(j);

	/* back to the standard map as of END, for the filters */
	if (rfm_map_parse(rfm_default_json(), "std", &map, &e) < 0 ||
	    segment_build_rfm(s, &map, 0, &e) != NC) {
		printf("Bail out! rebuilding RFM: %s\n", e.msg);
		exit(1);
	}
	rfm_map_release(&map);
}

/* ---- filters ---- */

#define REF	1720000000LL		/* a reference time for compiling */

/* The bound values of f as text: i<int>, r<real>, t'<text>'. */
static const char *
params_str(const struct filter *f)
{
	static char out[512];
	size_t i;

	out[0] = '\0';
	for (i = 0; i < f->n; i++) {
		size_t l = strlen(out);
		const struct filter_param *p = &f->p[i];

		if (p->kind == FILTER_INT)
			snprintf(out + l, sizeof(out) - l, "%si%lld", i ? "," :
			    "", (long long)p->i);
		else if (p->kind == FILTER_REAL)
			snprintf(out + l, sizeof(out) - l, "%sr%g", i ? "," :
			    "", p->d);
		else
			snprintf(out + l, sizeof(out) - l, "%st'%s'", i ? "," :
			    "", p->s ? p->s : "(null)");
	}
	return out;
}

/* How an expression compiles: its SQL and bound values. */
static const struct compiled {
	const char	*expr, *sql, *params;
} compiled[] = {
	{ "spend > 100", "(c.spend > ?)", "i100" },
	{ "100 < spend", "(c.spend > ?)", "i100" },
	{ "-5 <= spend", "(c.spend >= ?)", "i-5" },
	{ "spend >= 99.5", "(c.spend >= ?)", "r99.5" },
	{ "churn > .5", "((SELECT s.churn FROM scores s WHERE s.customer_id "
	    "= c.id ORDER BY s.model_id DESC LIMIT 1) > ?)", "r0.5" },
	{ "recency <= 7", "(((? - c.last_ts) / 86400.0) <= ?)",
	    "i1720000000,i7" },
	{ "tenure > 1y", "(((? - c.first_ts) / 86400.0) > ?)",
	    "i1720000000,r365" },
	{ "purchases > 2w", "(c.n_purchases > ?)", "r14" },
	/* ages of a time field: how long ago */
	{ "last_seen < 90d", "((? - c.last_ts) < ?)", "i1720000000,i7776000" },
	{ "90d > last_seen", "((? - c.last_ts) < ?)", "i1720000000,i7776000" },
	{ "first_seen >= 36h", "((? - c.first_ts) >= ?)",
	    "i1720000000,i129600" },
	/* and dates */
	{ "last_seen >= '2024-06-01'", "(c.last_ts >= ?)", "i1717200000" },
	{ "count(support_ticket, 30d) >= 2", "((SELECT count(*) FROM events e "
	    "WHERE e.customer_id = c.id AND e.type_id = (SELECT id FROM "
	    "event_types WHERE name = ?) AND e.ts > ?) >= ?)",
	    "t'support_ticket',i1717408000,i2" },
	{ "count('a b') = 0", "((SELECT count(*) FROM events e WHERE "
	    "e.customer_id = c.id AND e.type_id = (SELECT id FROM event_types "
	    "WHERE name = ?)) = ?)", "t'a b',i0" },
	{ "attr.country == 'DE'", "(json_extract(c.attrs, ?) = ?)",
	    "t'$.country',t'DE'" },
	{ "rfm = \"Can't Lose Them\"", "((SELECT x.segment FROM customer_rfm "
	    "x WHERE x.customer_id = c.id) = ?)", "t'Can't Lose Them'" },
	{ "not (id <> 'x'' OR 1=1 --')", "NOT ((c.ext_id != ?))",
	    "t'x' OR 1=1 --'" },
	{ "spend > 1 and purchases > 0 or events = 3", "(c.spend > ?) AND "
	    "(c.n_purchases > ?) OR (c.n_events = ?)", "i1,i0,i3" },
	{ "SPEND > 1 AND NOT Purchases = 0", "(c.spend > ?) AND NOT "
	    "(c.n_purchases = ?)", "i1,i0" },
	{ "count('support_ticket''); DROP TABLE events; --', 30d) > 0",
	    "((SELECT count(*) FROM events e WHERE e.customer_id = c.id AND "
	    "e.type_id = (SELECT id FROM event_types WHERE name = ?) AND e.ts "
	    "> ?) > ?)", "t'support_ticket'); DROP TABLE events; --',"
	    "i1717408000,i0" },
};

/* What a bad expression gets: the column and part of the message. */
static const struct refused {
	const char	*expr;
	int		 col;
	const char	*msg;
} refused[] = {
	{ "", 1, "expected a field, a number or a string at the end" },
	{ "   ", 4, "expected a field, a number or a string at the end" },
	{ "bogus > 1", 1, "unknown field 'bogus'" },
	{ "spend >", 8, "expected a field, a number or a string at the end" },
	{ "spend", 6, "expected a comparison (< <= > >= = !=) at the end" },
	{ "spend 100", 7, "expected a comparison" },
	{ "> 100", 1, "expected a field, a number or a string" },
	{ "spend >= = 1", 10, "expected a field, a number or a string" },
	{ "spend > 90x", 11, "unknown unit after the number" },
	{ "last_seen < 90dd", 15, "unknown unit after the number" },
	{ "id = 'abc", 6, "string not closed" },
	{ "id = \"abc'", 6, "string not closed" },
	{ "id = 'it''", 6, "string not closed" },
	{ "(spend > 1", 1, "this ( is not closed" },
	{ "spend > 1 and (purchases > 1 or (events > 2)", 15,
	    "this ( is not closed" },
	{ "spend > 1)", 10, "expected and, or, or the end" },
	{ "id < 'x'", 4, "text compares only with = or !=" },
	{ "rfm >= 'At Risk'", 5, "text compares only with = or !=" },
	{ "1 = 2", 1, "compare a field with a value, not two values" },
	{ "'a' = 'a'", 1, "not two values" },
	{ "90d < 1y", 1, "not two values" },
	{ "spend > 1 xyz", 11, "expected and, or, or the end" },
	{ "spend > 100 and", 16, "at the end" },
	{ "spend = 'abc'", 9, "expected a number here" },
	{ "id = 5", 6, "text compares with a quoted string" },
	{ "last_seen > 5", 13, "a time compares with an age (90d) or a date" },
	{ "last_seen > 'soon'", 13, "expected a date such as '2024-06-01'" },
	{ "count(support_ticket, 5) > 1", 23, "expected an age such as 30d" },
	{ "count support_ticket > 1", 7, "expected ( after count" },
	{ "count(, 30d) > 1", 7, "expected an event type" },
	{ "count(support_ticket > 1", 22, "expected ) to close count(" },
	{ "count(support_ticket, 30d) > 5d", 30, "expected a number here" },
	{ "attr. = 'x'", 6, "expected an attribute name after attr." },
	{ "spend > 1e999", 9, "number out of range" },
	{ "last_seen < -5d", 13, "an age must be 0 or more" },
	/* attempts to get SQL through */
	{ "spend > 1; DROP TABLE customers", 10,
	    "expected and, or, or the end" },
	{ "attr.x') OR 1=1 --", 7, "expected a comparison" },
	{ "count(support_ticket'); DROP TABLE events; --, 30d) > 0", 21,
	    "expected ) to close count(" },
	{ "\"spend\" > 100", 1, "not two values" },
	{ "'spend' > 100", 1, "not two values" },
	{ "spend\" > 100", 6, "expected a comparison" },
	{ "sp'end > 1", 1, "unknown field 'sp'" },
	{ "`spend` > 1", 1, "expected a field, a number or a string" },
	{ "[spend] > 1", 1, "expected a field, a number or a string" },
	{ "id = 'c01' or 1 = 1", 15, "not two values" },
	{ "spend > 1 or ''=''", 14, "not two values" },
	{ "id = 'c01' -- comment", 12, "expected and, or, or the end" },
	{ "spend > 0 /* x */", 11, "expected and, or, or the end" },
	{ "spend > 0 union select 1", 11, "expected and, or, or the end" },
	{ "c.spend > 0", 1, "unknown field 'c'" },
	{ "spend > 0 and (SELECT 1) = 1", 16, "unknown field 'SELECT'" },
};

/*
 * Filter segments on the fixture store (ref END) and what they hold,
 * from the fixture's figures: spend, purchases, last seen (rec days
 * before END), first seen, tickets, countries, RFM cells, churn scores.
 */
static const struct selects {
	const char	*expr, *members;
} selects[] = {
	{ "spend > 100", "01 02 06 08 10 13" },
	{ "100 < spend", "01 02 06 08 10 13" },
	{ "spend > 1e2", "01 02 06 08 10 13" },
	{ "spend >= 150 and purchases < 5", "06 08" },
	{ "spend > 99.5 and spend <= 150", "08" },
	{ "spend > -1", "01 02 03 04 05 06 07 08 09 10 11 12 13 14 15" },
	{ "not (spend > 0)", "03 07 11 14" },
	{ "purchases = 0 or spend > 800", "03 07 10 11 14" },
	/* and binds tighter than or */
	{ "spend > 100 or purchases = 0 and spend = 0",
	    "01 02 03 06 07 08 10 11 13 14" },
	{ "(spend > 100 or purchases = 0) and recency < 30", "01 02 03 06 07" },
	{ "SPEND > 100 AND NOT Purchases >= 5", "06 08" },
	{ "not not spend > 800", "10" },
	{ "(((spend > 800)))", "10" },
	{ "spend>800", "10" },
	{ "\tspend\n>\r800 ", "10" },
	/* 2 + purchases + tickets events: c02 9, c10 9, c01 and c08 8 */
	{ "events >= 9", "02 10" },
	{ "items = 0", "01 02 03 04 05 06 07 08 09 10 11 12 13 14 15" },
	{ "purchases > 5d", "01 10" },
	/* last seen rec days before END */
	{ "last_seen < 10d", "01 02 03 04 05" },
	{ "recency <= 5", "01 02 03 04 05" },
	{ "recency > 8w", "11 12 13 14 15" },
	{ "last_seen < 2w", "01 02 03 04 05 06" },
	{ "last_seen < 48h", "01 02" },
	{ "last_seen <= 172800s", "01 02 03" },
	{ "last_seen < 1y", "01 02 03 04 05 06 07 08 09 10 11 12 13 14 15" },
	{ "last_seen > '2024-09-01'", "01 02 03 04 05" },
	/* c03, c04, c05 first seen 50, 60, 70 days after T0 */
	{ "first_seen < '2024-06-05'", "01 02 06 07 08 09 10 11 12 13 14 15" },
	{ "tenure > 95", "01 02 06 07 08 09 10 11 12 13 14 15" },
	{ "tenure < 45", "04 05" },
	/* tickets: c02 2.75 and 9.75 days ago, c06 19.75, c08 30.75 .. */
	{ "count(support_ticket, 30d) >= 2", "02" },
	{ "count(support_ticket) >= 3", "08" },
	{ "count('support_ticket', 25d) > 0", "02 06" },
	{ "count(support_ticket, 31d) > 0", "02 06 08" },
	{ "count(purchase, 7d) >= 2", "01 02" },
	{ "count(nothing) = 0",
	    "01 02 03 04 05 06 07 08 09 10 11 12 13 14 15" },
	{ "id = 'c03'", "03" },
	{ "id = \"c05\"", "05" },
	{ "id != 'c03' and spend > 500", "01 10" },
	{ "attr.country = 'DE'", "01 03 10" },
	/* customers without the attribute are neither = nor != */
	{ "attr.country != 'DE'", "02 14" },
	{ "attr.nothing = 'x'", "" },
	/* the RFM table of test_rfm_store */
	{ "rfm = 'Champions'", "01 02" },
	{ "rfm = \"Can't Lose Them\"", "10" },
	{ "r = 5 and f >= 4", "01 02" },
	{ "m >= 5", "01 10 13" },
	/* scores of test_bands */
	{ "churn >= 0.8", "11 12 13 14" },
	{ "churn < 0.2", "01 02" },
	/* SQL in disguise: literal text, bound, nothing more */
	{ "id = 'x'' OR 1=1 --'", "14" },
	{ "id = \"x' OR 1=1 --\"", "14" },
	{ "id = 'Robert''); DROP TABLE events;--'", "13" },
	{ "id = 'x'' OR ''1''=''1'", "" },
	{ "attr.country = 'DE'' OR ''1''=''1'", "" },
	{ "rfm = 'Champions'' --'", "" },
	{ "count('support_ticket''); DROP TABLE events; --', 30d) > 0", "" },
	{ "count('support_ticket', 3650d) > 0", "02 06 08" },
};

/* Nested parentheses (or nots) around spend > 1, in a static buffer. */
static const char *
nested(int depth, const char *open, const char *close)
{
	static char buf[2048];
	int i;

	buf[0] = '\0';
	for (i = 0; i < depth; i++)
		strcat(buf, open);
	strcat(buf, "spend > 1");
	for (i = 0; i < depth; i++)
		strcat(buf, close);
	return buf;
}

static void
test_filter_compile(void)
{
	struct filter f;
	struct err e;
	size_t i;
	int col, rc;

	for (i = 0; i < sizeof(compiled) / sizeof(compiled[0]); i++) {
		const struct compiled *c = &compiled[i];

		err_clear(&e);
		col = -1;
		rc = filter_compile(c->expr, REF, &f, &col, &e);
		ok(rc == 0 && col == 0 && f.sql != NULL &&
		    strcmp(f.sql, c->sql) == 0 &&
		    strcmp(params_str(&f), c->params) == 0,
		    "compile \"%s\": %s with %s", c->expr, c->sql, c->params);
		if (rc == 0 && (strcmp(f.sql, c->sql) != 0 ||
		    strcmp(params_str(&f), c->params) != 0))
			diag("got %s with %s", f.sql, params_str(&f));
		else if (rc < 0)
			diag("refused: %s", e.msg);
		/* nothing the user typed is in the SQL: no quote at all */
		ok(rc == 0 && strpbrk(f.sql, "'\";`") == NULL &&
		    strstr(f.sql, "--") == NULL && strstr(f.sql, "/*") == NULL,
		    "compile \"%s\": the SQL holds no quote, ; or comment",
		    c->expr);
		if (rc == 0)
			filter_release(&f);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const struct refused *x = &refused[i];
		char pre[32];

		err_clear(&e);
		col = -1;
		rc = filter_compile(x->expr, REF, &f, &col, &e);
		snprintf(pre, sizeof(pre), "column %d: ", x->col);
		ok(rc == -1 && e.code == ERR_PARSE && col == x->col &&
		    f.sql == NULL && f.p == NULL && f.n == 0 &&
		    strncmp(e.msg, pre, strlen(pre)) == 0 && has(e.msg, x->msg),
		    "refuse \"%s\": column %d, '%s'", x->expr, x->col, x->msg);
		if (rc == 0) {
			diag("compiled to %s with %s", f.sql, params_str(&f));
			filter_release(&f);
		} else if (col != x->col)
			diag("column %d: %s", col, e.msg);
	}
	/* 63 parentheses nest; at 64 the comparison is the 65th level */
	if (!ok(filter_compile(nested(63, "(", ")"), REF, &f, &col, &e) == 0,
	    "63 nested parentheses compile"))
		diag("%s", e.msg);
	filter_release(&f);
	rc = filter_compile(nested(100, "(", ")"), REF, &f, &col, &e);
	ok(rc == -1 && col == 65 && has(e.msg, "column 65: nested too deeply"),
	    "100 nested parentheses: 'nested too deeply' at column 65");
	rc = filter_compile(nested(100, "not ", ""), REF, &f, &col, &e);
	ok(rc == -1 && col == 256 && has(e.msg, "nested too deeply"),
	    "100 nots: 'nested too deeply' at the 65th, column 256 (got %d)",
	    col);
	rc = filter_compile(nested(5000 / 10, "(", ")"), REF, &f, NULL, &e);
	ok(rc == -1 && has(e.msg, "nested too deeply"), "500 parentheses, "
	    "no column asked for: refused, no crash");
}

/* Filters on the fixture store. */
static void
test_filter_store(struct store *s)
{
	struct tables t0, t1;
	struct err e;
	size_t i;
	int64_t n, segs;
	int col, nseg = 0, bad;
	char name[32];
	const char *got;

	tables_get(&t0);
	segs = sql_int("SELECT count(*) FROM segments");
	for (i = 0; i < sizeof(selects) / sizeof(selects[0]); i++) {
		const struct selects *x = &selects[i];
		int want = 0;

		for (got = x->members; *got; got++)
			want += *got == ' ';
		want += x->members[0] != '\0';
		snprintf(name, sizeof(name), "f%zu", i);
		err_clear(&e);
		n = segment_build_filter(s, name, x->expr, &col, &e);
		got = members(s, name);
		ok(n == want && strcmp(got, x->members) == 0, "filter \"%s\": "
		    "%s", printable(x->expr), x->members[0] ? x->members :
		    "nobody");
		if (n < 0)
			diag("refused: %s", e.msg);
		else if (strcmp(got, x->members) != 0)
			diag("got %lld: %s", (long long)n, got);
		nseg += n >= 0;
	}
	is_str(sql_text("SELECT kind || ' ' || definition FROM segments WHERE "
	    "name = 'f0'"), "filter spend > 100", "a filter segment: kind "
	    "filter, the expression as its definition");
	/* each refused expression, tried on the store too */
	for (i = 0, bad = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(name, sizeof(name), "bad%zu", i);
		col = 0;
		if (segment_build_filter(s, name, refused[i].expr, &col, &e) >=
		    0 || col != refused[i].col) {
			diag("\"%s\": column %d (%s)", refused[i].expr, col,
			    e.msg);
			bad++;
		}
	}
	is_int(bad, 0, "segment_build_filter refuses each refused expression, "
	    "with its column");
	is_int(sql_int("SELECT count(*) FROM segments WHERE name LIKE 'bad%%'"),
	    0, "and makes no segment of them");
	/* a name that is SQL too */
	n = segment_build_filter(s, "x'); DROP TABLE segments; --",
	    "spend > 800", &col, &e);
	ok(n == 1 && strcmp(members(s, "x'); DROP TABLE segments; --"),
	    "10") == 0, "a segment name of SQL is a name like any other");
	nseg++;
	tables_get(&t1);
	ok(t0.customers == t1.customers && t0.events == t1.events &&
	    t0.types == t1.types && t0.master == t1.master &&
	    t0.truth == t1.truth && t1.customers == NC &&
	    t1.events == n_events && t1.types == 3, "after all that: %lld "
	    "customers, %lld events, %lld types, %lld schema objects as "
	    "before", (long long)t1.customers, (long long)t1.events,
	    (long long)t1.types, (long long)t1.master);
	is_int(sql_int("SELECT count(*) FROM segments"), segs + nseg,
	    "one new segment per accepted filter, no other change");
	/* a filter of the same name replaces it; a refused one does not */
	ok(segment_build_filter(s, "f0", "spend > 800", &col, &e) == 1 &&
	    strcmp(members(s, "f0"), "10") == 0, "a filter replaces the "
	    "segment of its name");
	ok(segment_build_filter(s, "f0", "spend >", &col, &e) == -1 &&
	    col == 8 && strcmp(members(s, "f0"), "10") == 0,
	    "a refused filter leaves the segment of its name as it was");
	ok(segment_build_filter(s, "", "spend > 1", &col, &e) == -1 &&
	    e.code == ERR_USAGE, "a filter needs a name");
}

/* ---- churn-risk bands ---- */

/* Scores of model m1: c15 has none. */
static const double churn_of[NC] = { 0.05, 0.10, 0.20, 0.30, 0.45, 0.50,
    0.55, 0.60, 0.70, 0.79, 0.80, 0.85, 0.90, 0.95, -1 };
static int64_t model_id;

static void
test_bands(struct store *s)
{
	static const double cuts[3] = { 0.2, 0.5, 0.8 }, bad1[2] = { 0.5, 0.2 },
	    bad2[2] = { 0.2, 1.0 }, bad3[1] = { 0 }, half[1] = { 0.5 };
	double many[17];
	struct store_scorer *sc;
	struct err e;
	int64_t n, m2;
	int i, rc = 0;

	err_clear(&e);
	if ((model_id = store_model_add(s, "m1", T0, "{}", NULL, "x", 1, NULL,
	    &e)) < 0 || (sc = store_scorer_new(s, &e)) == NULL) {
		printf("Bail out! a model row: %s\n", e.msg);
		exit(1);
	}
	for (i = 0; i < NC && rc == 0; i++)
		if (churn_of[i] >= 0)
			rc = store_score_put(sc, model_id, cid[i], END,
			    churn_of[i], NULL, &e);
	store_scorer_free(sc);
	if (!ok(rc == 0, "scores for 14 customers"))
		diag("%s", e.msg);
	/* a cut belongs to the band above it */
	n = segment_build_bands(s, model_id, cuts, 3, &e);
	if (!is_int(n, 14, "bands 0.2, 0.5, 0.8: the 14 scored customers"))
		diag("%s", e.msg);
	is_str(members(s, "risk 0.00-0.20"), "01 02", "risk 0.00-0.20: "
	    "0.05 and 0.10");
	is_str(members(s, "risk 0.20-0.50"), "03 04 05", "risk 0.20-0.50: "
	    "0.20 (on the cut), 0.30, 0.45");
	is_str(members(s, "risk 0.50-0.80"), "06 07 08 09 10", "risk "
	    "0.50-0.80: 0.50 (on the cut) .. 0.79");
	is_str(members(s, "risk 0.80-1.00"), "11 12 13 14", "risk 0.80-1.00: "
	    "0.80 (on the cut) .. 0.95");
	ok(sql_int("SELECT count(*) FROM segments WHERE kind = 'band'") == 4 &&
	    sql_int("SELECT count(*) FROM segment_members m JOIN segments g "
	    "ON g.id = m.segment_id WHERE g.kind = 'band'") == 14 &&
	    sql_int("SELECT count(DISTINCT m.customer_id) FROM segment_members "
	    "m JOIN segments g ON g.id = m.segment_id WHERE g.kind = 'band'") ==
	    14, "4 band segments, each scored customer in exactly one");
	is_str(sql_text("SELECT definition FROM segments WHERE name = "
	    "'risk 0.50-0.80'"), sql_text("SELECT '{\"model_id\":%lld,"
	    "\"churn\":[0.5,0.8]}'", (long long)model_id), "a band's "
	    "definition: the model and the range");
	n = segment_build_bands(s, model_id, half, 1, &e);
	ok(n == 14 && sql_int("SELECT count(*) FROM segments WHERE kind = "
	    "'band'") == 2 && strcmp(members(s, "risk 0.00-0.50"),
	    "01 02 03 04 05") == 0 && strcmp(members(s, "risk 0.50-1.00"),
	    "06 07 08 09 10 11 12 13 14") == 0, "one cut at 0.5: two bands "
	    "replace the four");
	for (i = 0; i < 17; i++)
		many[i] = (i + 1) / 18.0;
	ok(segment_build_bands(s, model_id, bad1, 2, &e) == -1 &&
	    e.code == ERR_USAGE && has(e.msg, "rise strictly"),
	    "cuts 0.5, 0.2: refused");
	ok(segment_build_bands(s, model_id, bad2, 2, &e) == -1 &&
	    e.code == ERR_USAGE, "a cut at 1: refused");
	ok(segment_build_bands(s, model_id, bad3, 1, &e) == -1 &&
	    e.code == ERR_USAGE, "a cut at 0: refused");
	ok(segment_build_bands(s, model_id, cuts, 0, &e) == -1 &&
	    e.code == ERR_USAGE && segment_build_bands(s, model_id, many, 17,
	    &e) == -1 && e.code == ERR_USAGE, "no cut, or 17: refused");
	ok(segment_build_bands(s, model_id, many, 16, &e) == 14 &&
	    sql_int("SELECT count(*) FROM segments WHERE kind = 'band'") == 17,
	    "16 cuts: 17 bands");
	m2 = store_model_add(s, "m2", T0 + 1, "{}", NULL, "x", 1, NULL, &e);
	ok(m2 > 0 && segment_build_bands(s, m2, cuts, 3, &e) == -1 &&
	    e.code == ERR_NOTFOUND && has(e.msg, "no scores"), "a model "
	    "without scores: ERR_NOTFOUND, 'no scores'");
	ok(sql_int("SELECT count(*) FROM segments WHERE kind = 'band'") == 17,
	    "and the bands are as they were");
	/* back to four bands for the rest */
	segment_build_bands(s, model_id, cuts, 3, &e);
}

/* ---- clusters on the fixture store ---- */

/* Progress: counts the calls; cancels when *ctx says so. */
struct prog {
	int		 calls, embedding, kmeans, cancel;
};

static int
prog_fn(void *ctx, const char *what, int64_t done, int64_t total)
{
	struct prog *p = ctx;

	p->calls++;
	p->embedding += strcmp(what, "embedding") == 0 && done <= total;
	p->kmeans += strcmp(what, "k-means") == 0;
	return p->cancel;
}

/* A random model over the store's vocabularies (C = 16, L = 1). */
static struct nn_model *
store_model(struct store *s)
{
	struct nn_config c;
	struct nn_model *m;
	struct nn_rng rng;
	struct vocab *v;
	struct err e;
	char **types = NULL;
	size_t nt = 0, i;

	err_clear(&e);
	if (store_type_names(s, &types, &nt, &e) < 0)
		return NULL;
	v = vocab_new((const char *const *)types, nt, NULL, 0);
	for (i = 0; i < nt; i++)
		free(types[i]);
	free(types);
	memset(&c, 0, sizeof(c));
	c.C = 16;
	c.L = 1;
	c.H = 2;
	c.max_len = 16;
	c.n_types = vocab_n_types(v);
	c.n_items = vocab_n_items(v);
	c.churn_horizon_days = 30;
	if ((m = nn_model_new(&c, v, &e)) == NULL) {
		diag("nn_model_new: %s", e.msg);
		return NULL;
	}
	nn_rng_seed(&rng, 3);
	nn_model_init_random(m, &rng);
	return m;
}

/* Members of every cluster segment, one line ("01 05|02 ..."). */
static const char *
cluster_lines(struct store *s, int k)
{
	static char out[512];
	char name[32];
	int c;

	out[0] = '\0';
	for (c = 1; c <= k; c++) {
		snprintf(name, sizeof(name), "cluster %d", c);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    c > 1 ? "|" : "", members(s, name));
	}
	return out;
}

/*
 * A cluster's definition against its members: customers, churn rate
 * (last seen 30 days or more before END: c08 .. c15) and the event types
 * over-represented in its members' windows (every event: at most 10 a
 * customer, max_len 16), lift = share in the cluster / share overall,
 * the largest three above 1, by lift then vocabulary index.
 */
static int
cluster_ok(struct store *s, const struct nn_model *m, int c, int64_t *nsum)
{
	static const char *const tn[3] = { "purchase", "page_view",
	    "support_ticket" };
	double cnt[3] = { 0 }, all[3] = { 0 }, lift[3], sub = 0, tot = 0;
	int order[3] = { 0, 1, 2 }, i, k, t, nc = 0, ch = 0, shown, pass = 1;
	const char *mem;
	cJSON *root, *o, *x;
	char name[32];

	snprintf(name, sizeof(name), "cluster %d", c);
	mem = members(s, name);
	for (i = 0; i < NC; i++) {
		char lab[4];
		double w[3];

		snprintf(lab, sizeof(lab), "%02d", i + 1);
		w[0] = cust[i].np;
		w[1] = 2;
		for (k = 0, w[2] = 0; cust[i].tickets[k]; k++)
			w[2]++;
		for (t = 0; t < 3; t++) {
			all[t] += w[t];
			tot += w[t];
		}
		if (strstr(mem, lab) == NULL)
			continue;
		nc++;
		ch += cust[i].rec >= 30;
		for (t = 0; t < 3; t++) {
			cnt[t] += w[t];
			sub += w[t];
		}
	}
	for (t = 0; t < 3; t++) {
		if (strcmp(vocab_type(m->vocab, t + 2), tn[t]) != 0) {
			diag("vocabulary: type %d is %s", t + 2,
			    vocab_type(m->vocab, t + 2));
			return 0;
		}
		lift[t] = sub > 0 ? (cnt[t] / sub) / (all[t] / tot) : 0;
	}
	for (i = 0; i < 3; i++)
		for (k = i + 1; k < 3; k++)
			if (lift[order[k]] > lift[order[i]]) {
				t = order[i];
				order[i] = order[k];
				order[k] = t;
			}
	root = cJSON_Parse(sql_text("SELECT definition FROM segments WHERE "
	    "name = '%s'", name));
	if (root == NULL) {
		diag("%s: the definition is not JSON", name);
		return 0;
	}
	x = cJSON_GetObjectItem(root, "customers");
	pass &= cJSON_IsNumber(x) && x->valuedouble == nc;
	*nsum += cJSON_IsNumber(x) ? (int64_t)x->valuedouble : 0;
	x = cJSON_GetObjectItem(root, "k");
	pass &= cJSON_IsNumber(x) && x->valuedouble == 3;
	x = cJSON_GetObjectItem(root, "seed");
	pass &= cJSON_IsNumber(x) && x->valuedouble == 1;
	x = cJSON_GetObjectItem(root, "churn_rate");
	pass &= cJSON_IsNumber(x) && fabs(x->valuedouble - (double)ch / nc) <
	    6e-5;
	o = cJSON_GetObjectItem(root, "over_represented");
	for (i = 0, shown = 0; i < 3 && lift[order[i]] > 1; i++, shown++) {
		const cJSON *it = cJSON_GetArrayItem(o, i), *ty, *li;

		ty = cJSON_GetObjectItem(it, "type");
		li = cJSON_GetObjectItem(it, "lift");
		if (!cJSON_IsString(ty) || strcmp(ty->valuestring,
		    tn[order[i]]) != 0 || !cJSON_IsNumber(li) ||
		    fabs(li->valuedouble - lift[order[i]]) > 6e-4) {
			diag("%s: over-represented #%d: want %s %.3f", name, i,
			    tn[order[i]], lift[order[i]]);
			pass = 0;
		}
	}
	pass &= cJSON_IsArray(o) && cJSON_GetArraySize(o) == shown;
	if (!pass)
		diag("%s (%s): %s", name, mem, sql_text("SELECT definition "
		    "FROM segments WHERE name = '%s'", name));
	cJSON_Delete(root);
	return pass;
}

static void
test_clusters(struct store *s)
{
	struct nn_model *m = store_model(s);
	struct prog p;
	struct err e;
	int64_t n, nsum = 0;
	int c, pass;
	char first[512];

	if (m == NULL) {
		printf("Bail out! no model for the clusters\n");
		exit(1);
	}
	err_clear(&e);
	memset(&p, 0, sizeof(p));
	n = segment_build_clusters(s, m, 3, 1, prog_fn, &p, &e);
	if (!is_int(n, NC, "clusters: the 15 customers"))
		diag("%s", e.msg);
	ok(p.embedding >= 1 && p.kmeans == 1, "progress: embedding (%d "
	    "calls), then k-means", p.embedding);
	ok(sql_int("SELECT count(*) FROM segments WHERE kind = 'cluster'") ==
	    3 && sql_int("SELECT count(*) FROM segment_members m JOIN "
	    "segments g ON g.id = m.segment_id WHERE g.kind = 'cluster'") ==
	    NC && sql_int("SELECT count(DISTINCT m.customer_id) FROM "
	    "segment_members m JOIN segments g ON g.id = m.segment_id WHERE "
	    "g.kind = 'cluster'") == NC, "3 cluster segments, each customer "
	    "in exactly one");
	for (c = 1, pass = 1; c <= 3; c++)
		pass &= cluster_ok(s, m, c, &nsum);
	ok(pass && nsum == NC, "each cluster's definition: its customers, "
	    "churn rate and over-represented types, worked out from its "
	    "members");
	snprintf(first, sizeof(first), "%s", cluster_lines(s, 3));
	diag("clusters: %s", first);
	n = segment_build_clusters(s, m, 3, 1, NULL, NULL, &e);
	is_str(cluster_lines(s, 3), first, "the same seed: the same clusters");
	memset(&p, 0, sizeof(p));
	p.cancel = 1;
	n = segment_build_clusters(s, m, 3, 1, prog_fn, &p, &e);
	ok(n == -1 && e.code == ERR_INTR && strcmp(cluster_lines(s, 3),
	    first) == 0, "cancelled from the progress callback: ERR_INTR, the "
	    "clusters as they were");
	ok(segment_build_clusters(s, m, 1, 1, NULL, NULL, &e) == -1 &&
	    e.code == ERR_USAGE, "k = 1: refused");
	ok(segment_build_clusters(s, m, 16, 1, NULL, NULL, &e) == -1 &&
	    has(e.msg, "fewer than k"), "k = 16 on 15 customers: refused");
	nn_model_free(m);
}

/* ---- k-means ---- */

#define KB	4			/* blobs */
#define KD	8			/* dimensions */
#define KN	50			/* points per blob */

/*
 * 4 blobs of 50 points in 8 dimensions, shuffled: blob b centred on 20
 * e_b - 20 e_(b+4) (centres 40 apart), spread N(0, 0.5) per axis (a
 * blob's radius about 1.4). Labels into blob[].
 */
static void
blobs(float *x, int *blob, uint64_t seed)
{
	struct nn_rng rng;
	int i, j, d, t;

	nn_rng_seed(&rng, seed);
	for (i = 0; i < KB * KN; i++)
		blob[i] = i / KN;
	for (i = KB * KN - 1; i > 0; i--) {
		j = (int)(nn_rng_u64(&rng) % (uint64_t)(i + 1));
		t = blob[i];
		blob[i] = blob[j];
		blob[j] = t;
	}
	for (i = 0; i < KB * KN; i++)
		for (d = 0; d < KD; d++)
			x[i * KD + d] = (float)((d == blob[i] ? 20 : 0) +
			    (d == blob[i] + 4 ? -20 : 0) +
			    0.5 * nn_rng_normal(&rng));
}

/* Do the labels match the blobs up to a permutation? */
static int
same_partition(const int *assign, const int *blob, int n, int k)
{
	int map[16], used[16], i;

	for (i = 0; i < k; i++)
		map[i] = used[i] = -1;
	for (i = 0; i < n; i++) {
		if (assign[i] < 0 || assign[i] >= k)
			return 0;
		if (map[blob[i]] < 0) {
			if (used[assign[i]] >= 0)
				return 0;
			map[blob[i]] = assign[i];
			used[assign[i]] = blob[i];
		} else if (map[blob[i]] != assign[i])
			return 0;
	}
	return 1;
}

static void
test_kmeans(void)
{
	float x[KB * KN * KD], c1[KB * KD], c2[KB * KD], mean[KB * KD];
	float u[300 * 2], cu[6 * 2], cv[6 * 2], dup[120 * 3], cd[6 * 3];
	static const float line[4] = { 0, 1, 10, 11 }, six[6][3] = {
		{ 3, 0, 0 }, { 0, 3, 0 }, { 0, 0, 3 }, { -3, 0, 0 },
		{ 0, -3, 0 }, { 0, 0, -3 } };
	int blob[KB * KN], a1[KB * KN], a2[KB * KN], au[300], av[300];
	int ad[120], did[120], it1, it2, i, d, b, k, seed, pass, differ;
	float cl[2];
	int al[4];
	struct nn_rng rng;
	double err;

	blobs(x, blob, 42);
	it1 = kmeans(x, KB * KN, KD, KB, 7, 100, a1, c1);
	it2 = kmeans(x, KB * KN, KD, KB, 7, 100, a2, c2);
	ok(it1 == it2 && memcmp(a1, a2, sizeof(a1)) == 0 &&
	    memcmp(c1, c2, sizeof(c1)) == 0, "k-means twice with seed 7: the "
	    "same assignment, centroids and iterations (%d)", it1);
	ok(it1 >= 1 && it1 < 100, "it converges before max_iter (%d)", it1);
	ok(same_partition(a1, blob, KB * KN, KB), "4 separated blobs: "
	    "recovered exactly, up to the labels");
	/* the centroids are the blob means */
	memset(mean, 0, sizeof(mean));
	for (i = 0; i < KB * KN; i++)
		for (d = 0; d < KD; d++)
			mean[a1[i] * KD + d] += x[i * KD + d] / KN;
	for (i = 0, err = 0; i < KB * KD; i++)
		err = fmax(err, fabs(mean[i] - c1[i]));
	ok(err < 1e-4, "the centroids are the means of their points (%.2g)",
	    err);
	for (seed = 1, pass = 0; seed <= 20; seed++) {
		kmeans(x, KB * KN, KD, KB, (uint64_t)seed, 100, a2, c2);
		pass += same_partition(a2, blob, KB * KN, KB);
	}
	is_int(pass, 20, "k-means++ seeding: seeds 1 .. 20 all recover the "
	    "blobs");

	/* ambiguous points: uniform in the unit square, 6 clusters */
	nn_rng_seed(&rng, 5);
	for (i = 0; i < 600; i++)
		u[i] = (float)nn_rng_uniform(&rng);
	kmeans(u, 300, 2, 6, 1, 100, au, cu);
	for (seed = 2, differ = 0; seed <= 5; seed++) {
		kmeans(u, 300, 2, 6, (uint64_t)seed, 100, av, cv);
		differ += memcmp(au, av, sizeof(au)) != 0 ||
		    memcmp(cu, cv, sizeof(cu)) != 0;
	}
	ok(differ > 0, "uniform points: other seeds give other results (%d "
	    "of 4 differ from seed 1)", differ);
	kmeans(u, 300, 2, 6, 1, 100, av, cv);
	ok(memcmp(au, av, sizeof(au)) == 0 && memcmp(cu, cv, sizeof(cu)) == 0,
	    "and seed 1 again gives seed 1's");

	/*
	 * 6 distinct points, each 20 times: k-means++ weighs a point by its
	 * squared distance to the nearest centre so far, 0 for a copy of a
	 * centre, so its 6 centres (max_iter 0: the seeding alone) are the
	 * 6 distinct points.
	 */
	for (i = 0; i < 120; i++) {
		did[i] = (i * 7) % 6;
		memcpy(dup + i * 3, six[did[i]], sizeof(six[0]));
	}
	for (seed = 1, pass = 0; seed <= 20; seed++) {
		int seen[6] = { 0 }, distinct = 1;

		if (kmeans(dup, 120, 3, 6, (uint64_t)seed, 0, ad, cd) != 0)
			distinct = 0;
		for (k = 0; k < 6 && distinct; k++) {
			for (b = 0; b < 6; b++)
				if (memcmp(cd + k * 3, six[b],
				    sizeof(six[0])) == 0)
					break;
			if (b == 6 || seen[b]++)
				distinct = 0;
		}
		pass += distinct;
	}
	is_int(pass, 20, "k-means++ picks 6 distinct points of 6, seeds 1 .. "
	    "20 (max_iter 0)");
	kmeans(dup, 120, 3, 6, 3, 100, ad, cd);
	ok(same_partition(ad, did, 120, 6), "and then clusters the copies of "
	    "each point together");
	/* 0 1 10 11: two clusters, centred on 0.5 and 10.5 */
	kmeans(line, 4, 1, 2, 1, 100, al, cl);
	ok(al[0] == al[1] && al[2] == al[3] && al[0] != al[2] &&
	    fmin(cl[0], cl[1]) == 0.5f && fmax(cl[0], cl[1]) == 10.5f,
	    "0 1 10 11: {0, 1} and {10, 11}, centroids 0.5 and 10.5");
}

/* ---- BG/NBD ---- */

/*
 * FHL 2005 eq. (6): L(r, alpha, a, b | x, t_x, T) =
 *   B(a, b+x)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
 *   + [x > 0] B(a+1, b+x-1)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))
 * where the first term is "alive at T" and the second "dropped out
 * after the last purchase". Worked out by hand in the comments.
 */
static void
test_bgnbd_formulas(void)
{
	const struct bgnbd_params p1 = { 1, 1, 1, 1 }, p2 = { 2, 3, 0.5, 1.5 },
	    cd = { 0.2426, 4.4135, 0.7929, 2.4258 };
	const struct bgnbd_obs o0 = { 0, 0, 1 }, o1 = { 1, 1, 2 },
	    o2 = { 2, 4, 6 }, c1 = { 2, 30.43, 38.86 }, c0 = { 0, 0, 38.86 };
	static const struct {
		struct bgnbd_params p;
		struct bgnbd_obs o;
		double tau;
	} ids[] = {
		{ { 1, 1, 1, 1 }, { 1, 1, 2 }, 1 },
		{ { 2, 3, 0.5, 1.5 }, { 2, 4, 6 }, 3 },
		{ { 0.2426, 4.4135, 0.7929, 2.4258 }, { 2, 30.43, 38.86 },
		    4.3 },
		{ { 0.2426, 4.4135, 0.7929, 2.4258 }, { 0, 0, 38.86 }, 52 },
		{ { 0.5, 2, 2.5, 4 }, { 5, 20, 26 }, 10 },
		{ { 3, 0.5, 1.2, 0.8 }, { 12, 50, 51 }, 0.5 },
	};
	struct bgnbd_obs sum[3];
	size_t i;
	double v, w;
	int pass;

	/*
	 * r = alpha = a = b = 1, x = 0, T = 1: B(1, 1)/B(1, 1) = 1,
	 * G(1)/G(1) = 1, 1^1 / 2^1: L = 1/2.
	 */
	is_near(bgnbd_ll1(&p1, &o0), log(0.5), 1e-12, "ll1 (1, 1, 1, 1 | x 0, "
	    "T 1) = ln 1/2");
	/*
	 * The same with x = 1, t_x = 1, T = 2: B(1, 2)/B(1, 1) = 1/2,
	 * G(2)/G(1) = 1, 1 / 3^2: alive 1/18; B(2, 1)/B(1, 1) = 1/2, 1 / 2^2:
	 * dropped 1/8. L = 1/18 + 1/8 = 13/72.
	 */
	is_near(bgnbd_ll1(&p1, &o1), log(13.0 / 72), 1e-12, "ll1 (1, 1, 1, 1 | "
	    "x 1, t_x 1, T 2) = ln 13/72");
	/*
	 * r 2, alpha 3, a 0.5, b 1.5 | x 2, t_x 4, T 6: G(4)/G(2) = 6,
	 * alpha^r = 9; B(0.5, 3.5)/B(0.5, 1.5) = (5 pi/16)/(pi/2) = 5/8, so
	 * alive = 5/8 * 54 / 9^4 = 5/972; B(1.5, 2.5)/B(0.5, 1.5) =
	 * (pi/16)/(pi/2) = 1/8, dropped = 1/8 * 54 / 7^4 = 27/9604.
	 */
	is_near(bgnbd_ll1(&p2, &o2), log(5.0 / 972 + 27.0 / 9604), 1e-12,
	    "ll1 (2, 3, 0.5, 1.5 | x 2, t_x 4, T 6) = ln(5/972 + 27/9604)");
	/*
	 * The published CDNOW parameters on its customer 1 (x 2, t_x 30.43,
	 * T 38.86) and on a customer of x = 0, T = 38.86, from eq. (6) with
	 * Python's math.lgamma in double: lbeta = lgamma(u) + lgamma(v) -
	 * lgamma(u + v), the two terms exp'd and added.
	 */
	is_near(bgnbd_ll1(&cd, &c1), -9.459681082320499, 1e-10, "ll1 CDNOW "
	    "parameters, x 2, t_x 30.43, T 38.86: -9.459681082");
	is_near(bgnbd_ll1(&cd, &c0), -0.5538248473788363, 1e-10, "ll1 CDNOW "
	    "parameters, x 0, T 38.86: -0.553824847");
	sum[0] = o0;
	sum[1] = o1;
	sum[2] = o0;
	is_near(bgnbd_ll(&p1, sum, 3), 2 * log(0.5) + log(13.0 / 72), 1e-12,
	    "bgnbd_ll sums the customers");

	/* P(alive) = alive / L: 1 for x = 0, 4/13 and the rest by hand */
	is_near(bgnbd_p_alive(&p1, &o0), 1, 0, "P(alive) = 1 for x = 0");
	is_near(bgnbd_p_alive(&cd, &c0), 1, 0, "P(alive) = 1 for x = 0, "
	    "whatever T");
	is_near(bgnbd_p_alive(&p1, &o1), 4.0 / 13, 1e-12, "P(alive | x 1, "
	    "t_x 1, T 2) = (1/18) / (13/72) = 4/13");
	is_near(bgnbd_p_alive(&p2, &o2), (5.0 / 972) / (5.0 / 972 + 27.0 /
	    9604), 1e-12, "P(alive | x 2, t_x 4, T 6) = (5/972) / (5/972 + "
	    "27/9604)");
	is_near(bgnbd_p_alive(&cd, &c1), 0.726607997300156, 1e-10, "P(alive), "
	    "CDNOW customer 1: 0.7266080");
	/*
	 * P(no purchase in (T, T + tau]) = 1 - P(alive) + P(alive) ((alpha
	 * + T)/(alpha + T + tau))^(r + x): with (1, 1, 1, 1 | 1, 1, 2) and
	 * tau 1: 9/13 + 4/13 (3/4)^2 = 45/52. It is also L(x, t_x, T + tau)
	 * / L(x, t_x, T), the data with the silence added: (5/32) / (13/72)
	 * = 45/52; for x = 0: (1/3) / (1/2) = 2/3.
	 */
	is_near(bgnbd_p_no_purchase(&p1, &o1, 1), 45.0 / 52, 1e-12,
	    "P(no purchase in 1 | x 1, t_x 1, T 2) = 45/52");
	is_near(bgnbd_p_no_purchase(&p1, &o0, 1), 2.0 / 3, 1e-12,
	    "P(no purchase in 1 | x 0, T 1) = 2/3");
	is_near(bgnbd_p_no_purchase(&p1, &o1, 0), 1, 1e-15,
	    "P(no purchase in 0) = 1");
	for (i = 0, pass = 1; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct bgnbd_obs later = ids[i].o;

		later.T += ids[i].tau;
		v = bgnbd_p_no_purchase(&ids[i].p, &ids[i].o, ids[i].tau);
		w = exp(bgnbd_ll1(&ids[i].p, &later) - bgnbd_ll1(&ids[i].p,
		    &ids[i].o));
		if (!(fabs(v - w) < 1e-12)) {
			diag("case %zu: %.15g, want %.15g", i, v, w);
			pass = 0;
		}
	}
	ok(pass, "P(no purchase) = L(x, t_x, T + tau) / L(x, t_x, T) in 6 "
	    "cases");
	/*
	 * Expected purchases in (T, T + t]: alive now with probability
	 * P(alive), then lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b +
	 * x), and E[purchases | lambda, p] = (1 - exp(-lambda p t)) / p
	 * (FHL eq. 7), so E = P(alive) E_p[(1 - ((alpha + T)/(alpha + T +
	 * p t))^(r + x)) / p]: one integral over p, done with mpmath.quad
	 * (30 digits), which agrees with eq. (10) evaluated with mpmath's
	 * hyp2f1 to 20 digits. Also done here by Simpson's rule.
	 */
	{
		static const struct {
			struct bgnbd_params p;
			struct bgnbd_obs o;
			double t, want;
		} ex[] = {
			{ { 2, 3, 2, 3 }, { 2, 4, 6 }, 10,
			    1.0583586621968614835 },
			{ { 1, 1, 1.5, 1 }, { 0, 0, 2 }, 4,
			    0.77326176087232490462 },
			{ { 0.5, 2, 2.5, 4 }, { 5, 20, 26 }, 52,
			    2.0095057078137954684 },
			{ { 0.2426, 4.4135, 0.7929, 2.4258 },
			    { 2, 30.43, 38.86 }, 39, 1.2259111998992229465 },
		};
		int k, N = 20000;

		for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
			const struct bgnbd_params *p = &ex[i].p;
			const struct bgnbd_obs *o = &ex[i].o;
			double s = 0, h = 1.0 / N, lb, pa, lim, g;

			/*
			 * For a < 1, p = u^(1/a) (p^(a-1) dp = du / a) takes
			 * away the singularity at 0; for a >= 1 p = u.
			 */
			g = p->a < 1 ? 1 / p->a : 1;
			lb = lgamma(p->a) + lgamma(p->b + o->x) - lgamma(p->a +
			    p->b + o->x);
			lim = (p->r + o->x) * ex[i].t / (p->alpha + o->T);
			for (k = 0; k <= N; k++) {
				double u = k * h, q = pow(u, g), f;

				f = q == 0 ? lim : (1 - pow((p->alpha + o->T) /
				    (p->alpha + o->T + q * ex[i].t), p->r +
				    o->x)) / q;
				f *= pow(1 - q, p->b + o->x - 1) * g *
				    (g == 1 ? pow(u, p->a - 1) : 1);
				s += f * (k == 0 || k == N ? 1 : k % 2 ? 4 : 2);
			}
			pa = bgnbd_p_alive(p, o);
			s = pa * s * h / 3 / exp(lb);
			is_near(s, ex[i].want, 1e-6, "Simpson's integral for "
			    "case %zu: %.6f", i, ex[i].want);
			is_near(bgnbd_expected(p, o, ex[i].t), ex[i].want, 1e-9,
			    "E[purchases in %g | x %g, t_x %g, T %g] = %.9f",
			    ex[i].t, o->x, o->t_x, o->T, ex[i].want);
		}
		/* the figure published with the CDNOW parameters */
		is_near(bgnbd_expected(&cd, &c1, 39), 1.226, 5e-4, "CDNOW "
		    "customer 1, the next 39 weeks: 1.226 as published (a = "
		    "0.7929 < 1)");
	}
}

/* Gamma(k, 1) by Marsaglia and Tsang; k < 1 through k + 1. */
static double
rgamma(struct nn_rng *g, double k)
{
	double d, c, x, v, u;

	if (k < 1)
		return rgamma(g, k + 1) * pow(1 - nn_rng_uniform(g), 1 / k);
	d = k - 1.0 / 3;
	c = 1 / sqrt(9 * d);
	for (;;) {
		do {
			x = nn_rng_normal(g);
			v = 1 + c * x;
		} while (v <= 0);
		v = v * v * v;
		u = nn_rng_uniform(g);
		if (u < 1 - 0.0331 * x * x * x * x ||
		    log(u) < 0.5 * x * x + d * (1 - v + log(v)))
			return d * v;
	}
}

/*
 * n customers of the BG/NBD process: lambda ~ Gamma(r, rate alpha), p ~
 * Beta(a, b); purchases after exponential waits of mean 1/lambda, and
 * after each repeat purchase the customer leaves with probability p;
 * observed for T ~ U(39, 78) weeks after the first purchase. Returns
 * the repeat buyers.
 */
static int
simulate(const struct bgnbd_params *p, struct bgnbd_obs *o, int n,
    uint64_t seed)
{
	struct nn_rng g;
	int i, rep = 0;

	nn_rng_seed(&g, seed);
	for (i = 0; i < n; i++) {
		double lam = rgamma(&g, p->r) / p->alpha, x1 = rgamma(&g, p->a),
		    y1 = rgamma(&g, p->b), drop = x1 / (x1 + y1), t = 0;

		o[i].x = o[i].t_x = 0;
		o[i].T = 39 + 39 * nn_rng_uniform(&g);
		for (;;) {
			t += -log(1 - nn_rng_uniform(&g)) / lam;
			if (t > o[i].T)
				break;
			o[i].x++;
			o[i].t_x = t;
			if (nn_rng_uniform(&g) < drop)
				break;
		}
		rep += o[i].x > 0;
	}
	return rep;
}

#define NSIM	5000

static void
test_bgnbd_fit(void)
{
	const struct bgnbd_params truth = { 0.8, 4, 1.2, 3.5 };
	struct bgnbd_obs *o = calloc(NSIM, sizeof(*o));
	struct bgnbd_params p, q, q2;
	struct err e;
	double ll, ll2, *pp;
	int rep, k, s, worse;

	err_clear(&e);
	rep = simulate(&truth, o, NSIM, 1);
	diag("simulated %d customers, %d repeat buyers", NSIM, rep);
	if (!ok(bgnbd_fit(o, NSIM, &p, &ll, &e) == 0, "bgnbd_fit on 5000 "
	    "simulated customers"))
		diag("%s", e.msg);
	/* seeds 1 .. 6 of this simulation come within 12% of the truth */
	ok(fabs(p.r / truth.r - 1) < 0.2 && fabs(p.alpha / truth.alpha - 1) <
	    0.2 && fabs(p.a / truth.a - 1) < 0.2 && fabs(p.b / truth.b - 1) <
	    0.2, "it recovers r 0.8, alpha 4, a 1.2, b 3.5 within 20%%: %.4f "
	    "%.4f %.4f %.4f", p.r, p.alpha, p.a, p.b);
	is_near(ll, bgnbd_ll(&p, o, NSIM), 1e-6 * fabs(ll), "the "
	    "log-likelihood returned is that of the parameters");
	/* a maximum: 1% either way on any parameter is no better */
	for (k = 0, worse = 0; k < 4; k++)
		for (s = -1; s <= 1; s += 2) {
			q = p;
			pp = k == 0 ? &q.r : k == 1 ? &q.alpha : k == 2 ? &q.a :
			    &q.b;
			*pp *= 1 + 0.01 * s;
			worse += bgnbd_ll(&q, o, NSIM) <= ll + 1e-9;
		}
	is_int(worse, 8, "a maximum: each parameter 1%% up or down lowers the "
	    "likelihood");
	ok(bgnbd_fit(o, 1000, &q, &ll, &e) == 0 && bgnbd_fit(o, 1000, &q2,
	    &ll2, &e) == 0 && memcmp(&q, &q2, sizeof(q)) == 0 && ll == ll2,
	    "deterministic: two fits of 1000 customers agree to the bit");
	/* too little to fit */
	ok(bgnbd_fit(o, 9, &q, &ll, &e) == -1 && e.code == ERR_USAGE &&
	    has(e.msg, "9 customers with a purchase"), "9 customers: too few "
	    "to fit");
	for (k = 0; k < 50; k++) {
		o[k].x = k < 2 ? 3 : 0;
		o[k].t_x = k < 2 ? 10 : 0;
		o[k].T = 40;
	}
	ok(bgnbd_fit(o, 50, &q, &ll, &e) == -1 && e.code == ERR_USAGE &&
	    has(e.msg, "50 customers with a purchase, 2 of them repeat buyers: "
	    "too few to fit"), "50 customers, 2 repeat buyers: too few");
	ok(bgnbd_fit(o, 0, &q, &ll, &e) == -1 && e.code == ERR_USAGE,
	    "no customers: too few");
	free(o);
}

/*
 * BG/NBD on the fixture store as of END (one transaction a day): the
 * 11 customers with purchases. x = purchase days - 1; t_x and T in
 * weeks from the first purchase day to the last and to END's day. With
 * the purchase times of the fixture, np purchases on np - dup days, the
 * first on day END - (rec + 1 + 2 (np - 1 - dup)): x = np - 1 - dup,
 * t_x = 2 x / 7, T = (rec + 1 + 2 x) / 7 (c01: 6 purchases on 5 days).
 */
static void
test_bgnbd_store(struct store *s)
{
	struct bgnbd_result res;
	struct bgnbd_obs ob;
	struct err e;
	int i, nb = 0, bad = 0, rep = 0;
	char want[256], *meta;
	cJSON *root;

	err_clear(&e);
	if (!ok(bgnbd_store(s, 0, 30, &res, &e) == 0, "bgnbd_store as of "
	    "the last event"))
		diag("%s", e.msg);
	for (i = 0; i < NC; i++) {
		int x = cust[i].np - 1 - cust[i].dup;

		if (cust[i].np == 0) {
			bad += sql_int("SELECT count(*) FROM customer_bgnbd "
			    "WHERE customer_id = %lld", (long long)cid[i]) != 0;
			continue;
		}
		nb++;
		rep += x > 0;
		ob.x = x;
		ob.t_x = 2.0 * x / 7;
		ob.T = (cust[i].rec + 1 + 2.0 * x) / 7;
		snprintf(want, sizeof(want), "%d %.12f %.12f %.12f %.12f %lld",
		    x, ob.t_x, ob.T, bgnbd_p_alive(&res.p, &ob),
		    bgnbd_p_no_purchase(&res.p, &ob, 30 / 7.0), (long long)END);
		if (strcmp(sql_text("SELECT x || ' ' || printf('%%.12f %%.12f "
		    "%%.12f %%.12f', t_x, T, p_alive, p_no_purchase) || ' ' || "
		    "at FROM customer_bgnbd WHERE customer_id = %lld",
		    (long long)cid[i]), want) != 0) {
			diag("c%02d: %s, want %s", i + 1, sql_text("SELECT "
			    "x || ' ' || t_x || ' ' || T || ' ' || p_alive || "
			    "' ' || p_no_purchase FROM customer_bgnbd WHERE "
			    "customer_id = %lld", (long long)cid[i]), want);
			bad++;
		}
	}
	ok(res.customers == nb && res.repeat == rep && res.at == END,
	    "bgnbd_store: %d customers with a purchase, %d repeat buyers, "
	    "as of END (got %lld, %lld)", nb, rep, (long long)res.customers,
	    (long long)res.repeat);
	is_int(bad, 0, "customer_bgnbd: x, t_x, T, P(alive), P(no purchase in "
	    "30 days) of each customer, as worked out");
	is_int(sql_int("SELECT count(*) FROM customer_bgnbd"), nb,
	    "customer_bgnbd: a row per customer with a purchase");
	err_clear(&e);
	meta = store_meta_get(s, "bgnbd", &e);
	root = meta ? cJSON_Parse(meta) : NULL;
	ok(root != NULL && fabs(cJSON_GetObjectItem(root, "r")->valuedouble /
	    res.p.r - 1) < 1e-9 && fabs(cJSON_GetObjectItem(root, "b")->
	    valuedouble / res.p.b - 1) < 1e-9 && cJSON_GetObjectItem(root,
	    "customers")->valuedouble == nb && cJSON_GetObjectItem(root,
	    "horizon_days")->valuedouble == 30, "meta bgnbd: the parameters, "
	    "customers and horizon (%s)", meta ? meta : "none");
	cJSON_Delete(root);
	free(meta);
	/*
	 * As of END - 45 days only c10, c12, c13 and c15 had bought (x 6, 1,
	 * 4, 0): too few to fit, and the table stays as it was.
	 */
	ok(bgnbd_store(s, END - 45 * DAY, 30, &res, &e) == -1 &&
	    has(e.msg, "4 customers with a purchase, 3 of them repeat buyers"),
	    "as of END - 45 days: 4 customers, 3 repeat buyers, too few");
	is_int(sql_int("SELECT count(*) FROM customer_bgnbd WHERE at = %lld",
	    (long long)END), nb, "customer_bgnbd unchanged by the failed fit");
}

/* ---- behaviours in windows ---- */

/* One event of a hand-built window: days after T0, type, attributes. */
struct wev {
	double		 day;
	const char	*type;
	const char	*attrs;
};

static struct store_hevent win[16];

/* The window of n events (oldest first) as store events. */
static const struct store_hevent *
window(const struct wev *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&win[i], 0, sizeof(win[i]));
		win[i].id = (int64_t)i + 1;
		win[i].ts = T0 + llround(w[i].day * DAY);
		win[i].type = w[i].type;
		win[i].amount = NAN;
		win[i].attrs = w[i].attrs;
	}
	return win;
}

/* The positions of behaviour name in h ("0,2"), "-" when not found. */
static const char *
hit(const struct trig_catalog *c, const struct trig_hits *h,
    const char *name)
{
	static char out[128];
	size_t k, j;

	for (k = 0; k < h->n; k++)
		if (strcmp(trig_name(c, h->b[k]), name) == 0)
			break;
	if (k == h->n)
		return "-";
	out[0] = '\0';
	for (j = h->off[k]; j < h->off[k + 1]; j++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%d",
		    j > h->off[k] ? "," : "", h->pos[j]);
	return out;
}

/* A model (zero weights) over these types; its catalog. */
static struct nn_model *
types_model(const char *const *types, size_t n)
{
	struct vocab *v = vocab_new(types, n, NULL, 0);
	struct nn_config c;
	struct err e;
	struct nn_model *m;

	memset(&c, 0, sizeof(c));
	c.C = 8;
	c.L = 1;
	c.H = 2;
	c.max_len = 16;
	c.n_types = vocab_n_types(v);
	c.n_items = vocab_n_items(v);
	c.churn_horizon_days = 30;
	err_clear(&e);
	if ((m = nn_model_new(&c, v, &e)) == NULL)
		diag("nn_model_new: %s", e.msg);
	return m;
}

/* A case: a window, its end, and what each behaviour must give. */
struct tcase {
	const char	*what;
	struct wev	 ev[8];
	size_t		 n;
	double		 end;		/* days after T0 */
	const char	*want;		/* "name=positions ..." */
};

#define RES	"{\"status\":\"resolved\"}"
#define UNRES	"{\"status\":\"unresolved\"}"
#define HOUR	(1.0 / 24)		/* in days */
#define SEC	(1.0 / 86400)		/* in days */

static const struct tcase tcases[] = {
	/* tickets_unresolved: 2 tickets within 14 days, the later unresolved */
	{ "2 tickets 14 days apart, the later unresolved", {
	    { 0, "support_ticket", RES }, { 5, "page_view", NULL },
	    { 14, "support_ticket", UNRES } }, 3, 20,
	    "tickets_unresolved=0,2 tickets_14d=0,2 unresolved_ticket=2 "
	    "support_ticket=0,2 page_view=1" },
	{ "15 days apart", {
	    { 0, "support_ticket", RES }, { 15, "support_ticket", UNRES } }, 2,
	    20, "tickets_unresolved=- tickets_14d=- unresolved_ticket=1 "
	    "support_ticket=0,1" },
	{ "14 days and a second apart", {
	    { 0, "support_ticket", RES },
	    { 14 + SEC, "support_ticket", UNRES } },
	    2, 20, "tickets_unresolved=- tickets_14d=- unresolved_ticket=1" },
	{ "only the earlier unresolved", {
	    { 0, "support_ticket", UNRES }, { 3, "support_ticket", RES } }, 2,
	    20, "tickets_unresolved=- tickets_14d=0,1 unresolved_ticket=0" },
	{ "three tickets, the last two within 14 days", {
	    { 0, "support_ticket", RES }, { 10, "support_ticket", RES },
	    { 20, "support_ticket", UNRES } }, 3, 30,
	    "tickets_unresolved=1,2 tickets_14d=0,1,2 unresolved_ticket=2" },
	{ "attributes with spaces", {
	    { 0, "support_ticket", "{ \"status\" : \"resolved\" }" },
	    { 1, "support_ticket",
	    "{\"order\": 7, \"status\": \"unresolved\"}" }
	    }, 2, 5, "tickets_unresolved=0,1 unresolved_ticket=1" },
	{ "a value \"status\" before the key status", {
	    { 0, "support_ticket", RES },
	    { 1, "support_ticket", "{\"topic\":\"status\",\"status\":"
	    "\"unresolved\"}" } }, 2, 5,
	    "tickets_unresolved=0,1 unresolved_ticket=1" },
	{ "status unresolved_later is not unresolved", {
	    { 0, "support_ticket", RES },
	    { 1, "support_ticket", "{\"status\":\"unresolved_later\"}" } }, 2,
	    5, "tickets_unresolved=- unresolved_ticket=- tickets_14d=0,1" },
	/* shipping_abandon: twice within 30 days */
	{ "two abandoned carts after shipping views, 10 days apart", {
	    { 0, "shipping_view", NULL }, { 600 * SEC, "cart_add", NULL },
	    { 5, "page_view", NULL }, { 10, "shipping_view", NULL },
	    { 10 + 1800 * SEC, "cart_add", NULL } }, 5, 20,
	    "shipping_abandon=0,1,3,4 shipping_abandon_once=0,1,3,4 "
	    "cart_abandon=1,4 cart_add=1,4 shipping_view=0,3 page_view=2" },
	{ "a purchase a day after the second cart", {
	    { 0, "shipping_view", NULL }, { 600 * SEC, "cart_add", NULL },
	    { 5, "page_view", NULL }, { 10, "shipping_view", NULL },
	    { 10 + 1800 * SEC, "cart_add", NULL },
	    { 11 + 1800 * SEC, "purchase", NULL } }, 6, 20,
	    "shipping_abandon=- shipping_abandon_once=0,1 cart_abandon=1 "
	    "purchase=5" },
	{ "a purchase a day and a second after", {
	    { 0, "shipping_view", NULL }, { 600 * SEC, "cart_add", NULL },
	    { 5, "page_view", NULL }, { 10, "shipping_view", NULL },
	    { 10 + 1800 * SEC, "cart_add", NULL },
	    { 11 + 1801 * SEC, "purchase", NULL } }, 6, 20,
	    "shipping_abandon=0,1,3,4 cart_abandon=1,4" },
	{ "the second cart less than a day before the end", {
	    { 0, "shipping_view", NULL }, { 600 * SEC, "cart_add", NULL },
	    { 10, "shipping_view", NULL },
	    { 10 + 1800 * SEC, "cart_add", NULL } },
	    4, 11 + 1799 * SEC,
	    "shipping_abandon=- shipping_abandon_once=0,1 cart_abandon=1" },
	{ "the second cart exactly a day before the end", {
	    { 0, "shipping_view", NULL }, { 600 * SEC, "cart_add", NULL },
	    { 10, "shipping_view", NULL },
	    { 10 + 1800 * SEC, "cart_add", NULL } },
	    4, 11 + 1800 * SEC, "shipping_abandon=0,1,2,3 cart_abandon=1,3" },
	{ "abandoned carts 30 days apart", {
	    { 0, "shipping_view", NULL }, { 600 * SEC, "cart_add", NULL },
	    { 30, "shipping_view", NULL },
	    { 30 + 600 * SEC, "cart_add", NULL } },
	    4, 40, "shipping_abandon=0,1,2,3" },
	{ "30 days and a second apart", {
	    { 0, "shipping_view", NULL }, { 600 * SEC, "cart_add", NULL },
	    { 30, "shipping_view", NULL },
	    { 30 + 601 * SEC, "cart_add", NULL } },
	    4, 40, "shipping_abandon=- shipping_abandon_once=0,1,2,3" },
	{ "a shipping view an hour and a second before a cart", {
	    { 0, "shipping_view", NULL }, { HOUR + SEC, "cart_add", NULL },
	    { 5, "shipping_view", NULL }, { 5 + HOUR, "cart_add", NULL } },
	    4, 20,
	    "shipping_abandon=- shipping_abandon_once=2,3 cart_abandon=1,3" },
	/* refund_bad_review: a review of 1 or 2 within 14 days after */
	{ "a refund, then a review of 2", {
	    { 0, "refund", NULL }, { 3, "review", "{\"rating\":\"2\"}" } }, 2,
	    5, "refund_bad_review=0,1 bad_review=1 refund=0 review=1" },
	{ "a review of 3", {
	    { 0, "refund", NULL }, { 3, "review", "{\"rating\":\"3\"}" } }, 2,
	    5, "refund_bad_review=- bad_review=- review=1" },
	{ "a numeric rating of 1, 14 days after", {
	    { 0, "refund", NULL }, { 14, "review", "{\"rating\":1}" } }, 2, 20,
	    "refund_bad_review=0,1 bad_review=1" },
	{ "a review of 1 more than 14 days after", {
	    { 0, "refund", NULL },
	    { 14 + SEC, "review", "{\"rating\":1}" } }, 2,
	    20, "refund_bad_review=- bad_review=1" },
	{ "the review before the refund", {
	    { 0, "review", "{\"rating\":\"1\"}" }, { 3, "refund", NULL } }, 2,
	    5, "refund_bad_review=- bad_review=0" },
	{ "reviews without a rating", {
	    { 0, "refund", NULL }, { 1, "review", NULL },
	    { 2, "review", "{\"rating\":\"\"}" }, { 3, "review", "{}" } }, 4, 5,
	    "refund_bad_review=- bad_review=- review=1,2,3" },
	/* campaign_click and single types */
	{ "campaign email clicks", {
	    { 0, "email_click", "{\"campaign\":\"bf\"}" },
	    { 1, "email_click", NULL },
	    { 2, "email_click", "{\"campaign\":\"\"}" },
	    { 3, "email_click", "{\"campaign\":\"xmas\"}" } }, 4, 5,
	    "campaign_click=0,3 email_click=0,1,2,3 purchase=-" },
	{ "one of each type", {
	    { 0, "support_ticket", RES }, { 1, "shipping_view", NULL },
	    { 2, "cart_add", NULL }, { 2 + HOUR, "purchase", NULL },
	    { 3, "refund", NULL }, { 4, "review", "{\"rating\":\"5\"}" },
	    { 5, "email_click", NULL }, { 6, "page_view", NULL } }, 8, 10,
	    "support_ticket=0 shipping_view=1 cart_add=2 purchase=3 refund=4 "
	    "review=5 email_click=6 page_view=7 tickets_unresolved=- "
	    "tickets_14d=- unresolved_ticket=- shipping_abandon=- "
	    "shipping_abandon_once=- cart_abandon=- refund_bad_review=- "
	    "bad_review=- campaign_click=-" },
};

/* Does trig_detect give what the case wants? Diag otherwise. */
static int
tcase_ok(const struct trig_catalog *c, const struct tcase *t,
    struct trig_hits *h, size_t *nhits)
{
	char want[512], *tok, *sp = NULL, *eq;
	int pass = 1;
	size_t k, found = 0;

	*nhits = trig_detect(c, window(t->ev, t->n), t->n, T0 +
	    llround(t->end * DAY), h);
	snprintf(want, sizeof(want), "%s", t->want);
	for (tok = strtok_r(want, " ", &sp); tok; tok = strtok_r(NULL, " ",
	    &sp)) {
		eq = strchr(tok, '=');
		*eq++ = '\0';
		if (strcmp(hit(c, h, tok), eq) != 0) {
			diag("%s: %s, want %s", tok, hit(c, h, tok), eq);
			pass = 0;
		}
	}
	for (k = 0; k < h->n; k++)
		found += h->off[k + 1] > h->off[k];
	if (found != *nhits || h->n != *nhits) {
		diag("%zu hits returned, %zu listed", *nhits, h->n);
		pass = 0;
	}
	return pass;
}

static void
test_triggers(void)
{
	static const char *const types[8] = { "support_ticket",
	    "shipping_view", "cart_add", "purchase", "refund", "review",
	    "email_click", "page_view" };
	static const char *const names[17] = { "tickets_unresolved",
	    "tickets_14d", "unresolved_ticket", "shipping_abandon",
	    "shipping_abandon_once", "cart_abandon", "refund_bad_review",
	    "bad_review", "campaign_click", "support_ticket", "shipping_view",
	    "cart_add", "purchase", "refund", "review", "email_click",
	    "page_view" };
	static const char *const nobuy[5] = { "support_ticket",
	    "shipping_view", "cart_add", "refund", "review" };
	static const char *const order[4] = { "shipping_view", "cart_add",
	    "order", "page_view" };
	struct nn_model *m = types_model(types, 8), *m2, *m3;
	struct trig_catalog *c, *c2, *c3;
	struct trig_hits h;
	size_t i, n;
	int pass;

	if (m == NULL) {
		printf("Bail out! no model for the catalog\n");
		exit(1);
	}
	c = trig_catalog_new(m);
	is_int((int64_t)trig_count(c), 17, "the catalog: 9 patterns and the "
	    "8 types");
	for (i = 0, pass = trig_count(c) == 17; pass && i < 17; i++)
		pass = strcmp(trig_name(c, i), names[i]) == 0 &&
		    trig_is_pattern(c, i) == (i < 9);
	ok(pass, "the patterns first, then the types in vocabulary order");
	is_str(trig_phrase(c, 9), "support ticket", "a type's phrase: its name "
	    "with spaces");
	is_str(trig_phrase(c, 0), "2 support tickets within 14 days, the "
	    "later unresolved", "tickets_unresolved's phrase");
	memset(&h, 0, sizeof(h));
	for (i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++)
		ok(tcase_ok(c, &tcases[i], &h, &n), "trig_detect, %s: %s",
		    tcases[i].what, tcases[i].want);
	is_int((int64_t)trig_detect(c, window(tcases[0].ev, 3), 3, T0 + 20 *
	    DAY, &h), 5, "the first case: 5 behaviours found");
	is_int((int64_t)trig_detect(c, win, 0, T0, &h), 0, "an empty window: "
	    "nothing, and the hits are replaced");
	trig_hits_release(&h);
	ok(h.n == 0 && h.b == NULL && h.pos == NULL, "trig_hits_release");

	/* without a purchase type there is no abandoned cart */
	m2 = types_model(nobuy, 5);
	c2 = trig_catalog_new(m2);
	for (i = 0, pass = 1; i < trig_count(c2); i++)
		pass &= strstr(trig_name(c2, i), "abandon") == NULL;
	ok(trig_count(c2) == 10 && pass && strcmp(trig_name(c2, 3),
	    "refund_bad_review") == 0, "no purchase type: 5 patterns (no "
	    "abandon, no campaign click) and 5 types");
	/* "order" is a purchase type too: it saves the cart */
	m3 = types_model(order, 4);
	c3 = trig_catalog_new(m3);
	{
		static const struct tcase t = { "an order a day later", {
		    { 0, "shipping_view", NULL },
		    { 600 * SEC, "cart_add", NULL },
		    { 1 + 600 * SEC, "order", NULL } }, 3, 10,
		    "cart_abandon=- shipping_abandon_once=- order=2" };

		memset(&h, 0, sizeof(h));
		ok(tcase_ok(c3, &t, &h, &n), "an order a day after the cart: "
		    "not abandoned");
		trig_hits_release(&h);
	}
	trig_catalog_free(c);
	trig_catalog_free(c2);
	trig_catalog_free(c3);
	trig_catalog_free(NULL);
	nn_model_free(m);
	nn_model_free(m2);
	nn_model_free(m3);
}

int
main(void)
{
	struct store *s;
	const char *tmp = getenv("TMPDIR");

	plan(351);
	snprintf(dir, sizeof(dir), "%s/t-segment.XXXXXX", tmp && *tmp ? tmp :
	    "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp %s\n", dir);
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/seg.db", dir);
	test_quintiles();
	test_map();
	test_filter_compile();
	test_kmeans();
	test_bgnbd_formulas();
	test_bgnbd_fit();
	test_triggers();
	if ((s = fixture()) == NULL) {
		printf("Bail out! the fixture store\n");
		return 1;
	}
	test_rfm_store(s);
	test_bands(s);
	test_filter_store(s);
	test_clusters(s);
	test_bgnbd_store(s);
	store_close(s);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return exit_status();
}
