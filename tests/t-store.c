/*
 * t-store.c: the event store. Opening (new, again, read-only), the
 * schema version, refusing what is not a store (a text file, a newer
 * schema, another program's SQLite database) without touching it;
 * imports with exact per-customer aggregates, two imports adding up, an
 * aborted import leaving the checksum as it was, an import of more
 * customers than the in-memory window; events resolved in one thread
 * while another writes them, giving the store that adding them one by
 * one gives; keyset pages that visit every
 * customer once in each order; store_import_find. The sqlite3 API is
 * used only to craft foreign files and to look behind the store's back.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "store.h"
#include "util.h"
#include "tap.h"

static char dir[256];

/* dir/name in one of four rotating buffers. */
static const char *
path(const char *name)
{
	static char bufs[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(bufs[k], sizeof(bufs[k]), "%s/%s", dir, name);
	return bufs[k];
}

/* One integer from SQL on the file at p, or INT64_MIN on error. */
static int64_t
sql_int(const char *p, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = INT64_MIN;

	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

/* One text from SQL (static copy), or "(error)". */
static const char *
sql_text(const char *p, const char *sql)
{
	static char out[4096];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(out, sizeof(out), "(error)");
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return out;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(out, sizeof(out), "%s",
			    sqlite3_column_text(st, 0) ? (const char *)
			    sqlite3_column_text(st, 0) : "(null)");
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return out;
}

static int
sql_exec(const char *p, const char *sql)
{
	sqlite3 *db;
	int rc;

	if (sqlite3_open(p, &db) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int
file_exists(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0;
}

/* The whole file at p (static), its length in *n. */
static const char *
slurp(const char *p, size_t *n)
{
	static char buf[4096];
	FILE *fp = fopen(p, "rb");

	*n = 0;
	if (fp == NULL)
		return "";
	*n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	return buf;
}

static uint64_t
checksum(struct store *s)
{
	struct err e;
	uint64_t h = 0;

	err_clear(&e);
	if (store_checksum(s, &h, &e) < 0)
		diag("checksum: %s", e.msg);
	return h;
}

static void
test_open(void)
{
	const char *p = path("a.db"), *text = "id,name\n1,x\n";
	struct store *s;
	struct err e;
	char *v;
	size_t n;
	FILE *fp;

	err_clear(&e);
	s = store_open(p, STORE_CREATE, &e);
	ok(s != NULL, "create a new store: %s", e.msg);
	is_int(store_migrated_from(s), 0, "a new file: migrated from 0");
	is_str(store_path(s), p, "store_path");
	ok(store_meta_set(s, "k", "v1", &e) == 0 &&
	    store_meta_set(s, "k", "v2", &e) == 0, "meta set twice");
	v = store_meta_get(s, "k", &e);
	is_str(v, "v2", "meta get returns the last value");
	free(v);
	ok(store_meta_get(s, "nope", &e) == NULL, "meta get of a missing key");
	store_close(s);
	store_close(NULL);

	is_int(sql_int(p, "PRAGMA user_version"), STORE_VERSION,
	    "user_version is the schema version");
	is_str(sql_text(p, "PRAGMA journal_mode"), "wal", "WAL journal");
	is_int(sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = "
	    "'table' AND name IN ('customers', 'events', 'event_types', "
	    "'items', 'imports', 'meta', 'segments', 'segment_members', "
	    "'models', 'scores', 'ground_truth', 'ground_truth_events')"), 12,
	    "the tables of the schema");
	is_int(sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = "
	    "'index' AND name IN ('events_customer_ts', 'customers_last', "
	    "'customers_spend', 'customers_events')"), 4,
	    "indexes for a customer's events and for listing customers");

	s = store_open(p, 0, &e);
	ok(s != NULL && store_migrated_from(s) == STORE_VERSION,
	    "reopen: no migration needed");
	store_close(s);
	s = store_open(p, STORE_READONLY, &e);
	ok(s != NULL, "open read-only");
	store_close(s);

	err_clear(&e);
	s = store_open(path("missing.db"), 0, &e);
	ok(s == NULL && e.code == ERR_NOTFOUND &&
	    !file_exists(path("missing.db")), "a missing store without "
	    "STORE_CREATE: not found, not created: %s", e.msg);
	err_clear(&e);
	s = store_open(path("missing.db"), STORE_READONLY | STORE_CREATE, &e);
	ok(s == NULL && !file_exists(path("missing.db")),
	    "read-only never creates");

	/* a text file: refused, left as it was */
	p = path("events.csv");
	fp = fopen(p, "wb");
	fputs(text, fp);
	fclose(fp);
	err_clear(&e);
	s = store_open(p, STORE_CREATE, &e);
	ok(s == NULL && e.code == ERR_DB && strstr(e.msg, "events.csv") &&
	    strstr(e.msg, "not a journeyscope store"), "a CSV file is "
	    "refused: %s", e.msg);
	ok(strcmp(slurp(p, &n), text) == 0 && n == strlen(text) &&
	    !file_exists(path("events.csv-wal")) &&
	    !file_exists(path("events.csv-journal")),
	    "the refused file is untouched");
	p = path("short");
	fp = fopen(p, "wb");
	fputs("SQLite", fp);
	fclose(fp);
	err_clear(&e);
	s = store_open(p, STORE_CREATE, &e);
	ok(s == NULL && strstr(e.msg, "not an SQLite database"),
	    "a file shorter than the SQLite header is refused: %s", e.msg);

	/* a newer schema */
	p = path("newer.db");
	s = store_open(p, STORE_CREATE, &e);
	store_close(s);
	sql_exec(p, "PRAGMA user_version = 99");
	err_clear(&e);
	s = store_open(p, 0, &e);
	ok(s == NULL && e.code == ERR_DB && strstr(e.msg, "99") &&
	    strstr(e.msg, "newer"), "a newer schema is refused: %s", e.msg);
	err_clear(&e);
	s = store_open(p, STORE_READONLY, &e);
	ok(s == NULL && strstr(e.msg, "newer"), "also read-only");
	is_int(sql_int(p, "PRAGMA user_version"), 99,
	    "the newer store keeps its version");

	/* another program's SQLite database */
	p = path("other.db");
	sql_exec(p, "CREATE TABLE notes(x TEXT); INSERT INTO notes "
	    "VALUES ('keep me')");
	err_clear(&e);
	s = store_open(p, STORE_CREATE, &e);
	ok(s == NULL && e.code == ERR_DB &&
	    strstr(e.msg, "not a journeyscope store"),
	    "a foreign SQLite database is refused: %s", e.msg);
	ok(sql_int(p, "SELECT count(*) FROM sqlite_master") == 1 &&
	    sql_int(p, "PRAGMA user_version") == 0 &&
	    strcmp(sql_text(p, "SELECT x FROM notes"), "keep me") == 0,
	    "the foreign database is untouched");
	err_clear(&e);
	s = store_open(p, STORE_READONLY, &e);
	ok(s == NULL, "also read-only: %s", e.msg);
}

/* An event for add(). */
static struct ingest_event
ev(const char *cust, int64_t ts, const char *type, const char *item,
    double amount)
{
	struct ingest_event x;

	memset(&x, 0, sizeof(x));
	x.customer = cust;
	x.ts = ts;
	x.type = type;
	x.item = item;
	x.price = NAN;
	x.amount = amount;
	x.quantity = NAN;
	return x;
}

static int
add(struct ingest *g, struct ingest_event x)
{
	struct err e;

	err_clear(&e);
	if (store_ingest_event(g, &x, &e) < 0) {
		diag("store_ingest_event: %s", e.msg);
		return 0;
	}
	return 1;
}

static struct ingest *
begin(struct store *s, const char *src, uint64_t hash, int seq)
{
	struct ingest_info info;
	struct ingest *g;
	struct err e;

	memset(&info, 0, sizeof(info));
	info.source = src;
	info.hash = hash;
	info.bytes = 123;
	info.preset = "generic";
	info.sequence_time = seq;
	err_clear(&e);
	if ((g = store_ingest_begin(s, &info, &e)) == NULL)
		diag("store_ingest_begin: %s", e.msg);
	return g;
}

static int
commit(struct ingest *g)
{
	struct err e;

	err_clear(&e);
	if (store_ingest_commit(g, 0.5, &e) < 0) {
		diag("store_ingest_commit: %s", e.msg);
		return -1;
	}
	return 0;
}

/* Does customer ext have exactly these aggregates? */
static int
agg_is(struct store *s, const char *ext, int64_t n, int64_t first,
    int64_t last, double spend, int64_t purchases, int64_t items)
{
	struct customer c;
	struct err e;

	err_clear(&e);
	if (store_customer_get(s, ext, &c, &e) != 1) {
		diag("%s: not found %s", ext, e.msg);
		return 0;
	}
	if (c.n_events == n && c.first_ts == first && c.last_ts == last &&
	    fabs(c.spend - spend) < 1e-9 && c.n_purchases == purchases &&
	    c.n_items == items && strcmp(c.ext_id, ext) == 0)
		return 1;
	diag("%s: n %lld first %lld last %lld spend %g purchases %lld "
	    "items %lld", ext, (long long)c.n_events, (long long)c.first_ts,
	    (long long)c.last_ts, c.spend, (long long)c.n_purchases,
	    (long long)c.n_items);
	diag("%s: want n %lld first %lld last %lld spend %g purchases %lld "
	    "items %lld", ext, (long long)n, (long long)first,
	    (long long)last, spend, (long long)purchases, (long long)items);
	return 0;
}

static void
test_ingest(void)
{
	const char *p = path("ingest.db"), *p2 = path("twin.db");
	struct store *s, *t;
	struct ingest *g;
	struct ingest_event x;
	struct store_info in;
	struct customer c;
	struct err e;
	uint64_t sum1, sum2, twin;
	char *src = NULL;
	int okay, i;

	err_clear(&e);
	s = store_open(p, STORE_CREATE, &e);
	g = begin(s, "file-1.csv", 0x1111, 0);
	okay = g != NULL;
	okay &= add(g, ev("alice", 1000, "view", "i1", NAN));
	okay &= add(g, ev("alice", 500, "purchase", "i2", 10.5));
	okay &= add(g, ev("alice", 2000, "purchase", "i1", 4.25));
	okay &= add(g, ev("alice", 1500, "refund", NULL, -3.0));
	okay &= add(g, ev("bob", 700, "transaction", "i3", 100));
	okay &= add(g, ev("bob", 700, "order", NULL, 1));
	x = ev("carol", 50, "view", "i3", NAN);
	x.cust_attrs = "{\"country\":\"FR\"}";
	x.attrs = "{\"session\":\"s1\"}";
	x.channel = "web";
	x.text = "hello";
	x.quantity = 2;
	x.line = 7;
	okay &= add(g, x);
	x = ev("carol", 60, "view", "i3", NAN);
	x.cust_attrs = "{\"tier\":\"gold\"}";
	okay &= add(g, x);
	ok(okay, "first import: 8 events added");
	err_clear(&e);
	x = ev(NULL, 1, "view", NULL, NAN);
	ok(store_ingest_event(g, &x, &e) < 0 && e.code == ERR_PARSE,
	    "an event without a customer is refused: %s", e.msg);
	err_clear(&e);
	x = ev("zed", 1, "", NULL, NAN);
	ok(store_ingest_event(g, &x, &e) < 0 && e.code == ERR_PARSE,
	    "an event without a type is refused: %s", e.msg);
	err_clear(&e);
	x = ev("erin", 1, "view", NULL, NAN);
	x.cust_attrs = "not json";
	ok(store_ingest_event(g, &x, &e) < 0 && e.code == ERR_PARSE,
	    "customer attributes that are not JSON are refused: %s", e.msg);
	is_int(store_ingest_events(g), 8, "store_ingest_events counts "
	    "events added");
	store_ingest_count(g, 12, 1, 3);
	ok(commit(g) == 0, "commit");

	ok(agg_is(s, "alice", 4, 500, 2000, 11.75, 2, 2),
	    "alice: 4 events, 500..2000, spend 11.75 (refund counted, "
	    "missing amount not), 2 purchases, 2 items");
	ok(agg_is(s, "bob", 2, 700, 700, 101, 2, 1),
	    "bob: transaction and order count as purchases");
	ok(agg_is(s, "carol", 2, 50, 60, 0, 0, 1), "carol: no spend");
	is_int(store_customer_get(s, "zed", &c, &e), 0,
	    "a refused event's customer was not added");
	is_int(store_customer_get(s, "erin", &c, &e), 0,
	    "nor was the customer with bad attributes");
	is_str(sql_text(p, "SELECT attrs FROM customers WHERE ext_id = "
	    "'carol'"), "{\"country\":\"FR\",\"tier\":\"gold\"}",
	    "customer attributes of two events merged");
	is_str(sql_text(p, "SELECT quote(channel) || ' ' || quote(text) || "
	    "' ' || quote(attrs) || ' ' || quantity || ' ' || line || ' ' || "
	    "quote(amount) FROM events WHERE ts = 50"),
	    "'web' 'hello' '{\"session\":\"s1\"}' 2.0 7 NULL",
	    "event fields stored; a missing amount is NULL");
	is_str(sql_text(p, "SELECT rows || ' ' || events || ' ' || skipped || "
	    "' ' || rejected || ' ' || source || ' ' || hash || ' ' || preset "
	    "FROM imports"), "12 8 1 3 file-1.csv 0000000000001111 generic",
	    "the imports row");
	is_str(sql_text(p, "SELECT value FROM meta WHERE key = 'time_kind'"),
	    "real", "time kind recorded");
	is_int(sql_int(p, "SELECT count(*) FROM events e JOIN customers c ON "
	    "c.id = e.customer_id WHERE c.ext_id = 'alice'"), 4,
	    "events reference their customer");
	is_str(sql_text(p, "PRAGMA journal_mode"), "wal",
	    "WAL again after the import");
	{
		/* the first import dropped the indexes and built them again */
		static const char q[] = "SELECT group_concat(name || ': ' || "
		    "sql, '; ') FROM (SELECT name, sql FROM sqlite_master "
		    "WHERE type = 'index' AND sql IS NOT NULL ORDER BY name)";
		const char *fresh = path("fresh.db");
		char *want;
		struct store *f = store_open(fresh, STORE_CREATE, &e);

		store_close(f);
		want = strdup(sql_text(fresh, q));
		ok(strstr(want, "customers_first") != NULL &&
		    strstr(want, "events_customer_ts") != NULL &&
		    strcmp(sql_text(p, q), want) == 0, "after the first "
		    "import the indexes are the migrations' own: %s", want);
		free(want);
	}
	is_int(sql_int(p, "SELECT count(*) FROM pragma_foreign_key_check"), 0,
	    "foreign keys hold");
	ok(store_info_get(s, &in, &e) == 0 && in.customers == 3 &&
	    in.events == 8 && in.items == 3 && in.types == 5 &&
	    in.first_ts == 50 && in.last_ts == 2000 && in.n_imports == 1 &&
	    in.imports[0].events == 8 && !in.sequence_time,
	    "store_info_get: counts and span");
	ok(in.n_type_counts == 5 && strcmp(in.type_counts[0].name, "view") == 0
	    && in.type_counts[0].n == 3 &&
	    strcmp(in.type_counts[1].name, "purchase") == 0 &&
	    in.type_counts[1].n == 2, "types, most frequent first");
	store_info_release(&in);

	/* the same import into a fresh store: the same checksum */
	sum1 = checksum(s);
	t = store_open(p2, STORE_CREATE, &e);
	g = begin(t, "elsewhere.csv", 0x9999, 0);
	add(g, ev("alice", 1000, "view", "i1", NAN));
	add(g, ev("alice", 500, "purchase", "i2", 10.5));
	add(g, ev("alice", 2000, "purchase", "i1", 4.25));
	add(g, ev("alice", 1500, "refund", NULL, -3.0));
	add(g, ev("bob", 700, "transaction", "i3", 100));
	add(g, ev("bob", 700, "order", NULL, 1));
	x = ev("carol", 50, "view", "i3", NAN);
	x.cust_attrs = "{\"country\":\"FR\"}";
	x.attrs = "{\"session\":\"s1\"}";
	x.channel = "web";
	x.text = "hello";
	x.quantity = 2;
	x.line = 7;
	add(g, x);
	x = ev("carol", 60, "view", "i3", NAN);
	x.cust_attrs = "{\"tier\":\"gold\"}";
	add(g, x);
	commit(g);
	twin = checksum(t);
	ok(twin == sum1 && sum1 != 0, "equal contents, equal checksums "
	    "(%016" PRIx64 ")", sum1);
	g = begin(t, "more.csv", 0x9998, 0);
	add(g, ev("alice", 1001, "view", "i1", NAN));
	commit(g);
	ok(checksum(t) != twin, "one more event, another checksum");
	store_close(t);

	/* a second import adds up */
	g = begin(s, "file-2.csv", 0x2222, 0);
	okay = g != NULL;
	okay &= add(g, ev("alice", 3000, "purchase", "i2", 1));
	okay &= add(g, ev("alice", 100, "view", "i4", NAN));
	okay &= add(g, ev("dave", 5000, "purchase", "i4", 7));
	ok(okay && commit(g) == 0, "second import");
	ok(agg_is(s, "alice", 6, 100, 3000, 12.75, 3, 3),
	    "alice after two imports: 6 events, 100..3000, spend 12.75, "
	    "3 purchases, 3 distinct items (i2 again counts once)");
	ok(agg_is(s, "bob", 2, 700, 700, 101, 2, 1), "bob unchanged");
	ok(agg_is(s, "dave", 1, 5000, 5000, 7, 1, 1), "dave is new");
	is_int(sql_int(p, "SELECT sum(n_events) FROM event_types"), 11,
	    "event type counts add up");
	is_int(sql_int(p, "SELECT n_events FROM items WHERE ext_id = 'i4'"),
	    2, "item counts add up");
	is_int(sql_int(p, "SELECT count(*) FROM customers WHERE n_events != "
	    "(SELECT count(*) FROM events WHERE customer_id = customers.id) "
	    "OR n_items != (SELECT count(DISTINCT item_id) FROM events WHERE "
	    "customer_id = customers.id)"), 0,
	    "every customer's counts match its events");

	/* store_import_find */
	is_int(store_import_find(s, 0x2222, &src, &e), 2,
	    "store_import_find: the second import");
	is_str(src, "file-2.csv", "store_import_find: its source");
	free(src);
	src = (char *)"x";
	ok(store_import_find(s, 0x3333, &src, &e) == 0 && src == NULL,
	    "store_import_find: an unknown hash gives 0 and no source");
	is_int(store_import_find(s, 0x1111, NULL, &e), 1,
	    "store_import_find: source may be NULL");

	/* an aborted import changes nothing */
	sum2 = checksum(s);
	ok(sum2 != sum1, "the checksum follows the data");
	g = begin(s, "file-3.csv", 0x3333, 0);
	okay = g != NULL;
	for (i = 0; i < 1000; i++) {
		char name[32], item[32];

		snprintf(name, sizeof(name), "new%d", i % 50);
		snprintf(item, sizeof(item), "it%d", i % 70);
		okay &= add(g, ev(i % 2 ? name : "alice", 10000 + i,
		    i % 3 ? "view" : "purchase", item, i % 3 ? NAN : 2.0));
	}
	ok(okay, "1000 events into an import");
	store_ingest_abort(g);
	store_ingest_abort(NULL);
	is_int((int64_t)checksum(s), (int64_t)sum2,
	    "aborted: the checksum is as before");
	ok(store_import_find(s, 0x3333, NULL, &e) == 0 &&
	    sql_int(p, "SELECT count(*) FROM imports") == 2,
	    "aborted: no import recorded");
	ok(agg_is(s, "alice", 6, 100, 3000, 12.75, 3, 3),
	    "aborted: alice as before");
	is_str(sql_text(p, "PRAGMA journal_mode"), "wal",
	    "WAL again after the abort");

	/* sequence times do not mix with real ones */
	err_clear(&e);
	g = begin(s, "seq.txt", 0x4444, 1);
	ok(g == NULL && checksum(s) == sum2, "a sequence import into a store "
	    "of real times is refused, store unchanged");
	g = begin(s, "file-4.csv", 0x5555, 0);
	ok(g != NULL && add(g, ev("alice", 4000, "view", NULL, NAN)) &&
	    commit(g) == 0 && agg_is(s, "alice", 7, 100, 4000, 12.75, 3, 3),
	    "the store takes the next import after a refused one");
	store_close(s);
}

/* More customers than one in-memory window, some seen again after it. */
static void
test_window(void)
{
	const char *p = path("window.db");
	struct store *s;
	struct ingest *g;
	struct err e;
	char name[32], item[32];
	int i, okay = 1, n = 256 * 1024 + 100;

	/* 262,244 customers: minutes under memcheck (make check-valgrind) */
	if (getenv("JS_VALGRIND") != NULL) {
		skip(6, "more customers than the window: too slow under "
		    "valgrind, run by make check");
		return;
	}
	err_clear(&e);
	s = store_open(p, STORE_CREATE, &e);
	g = begin(s, "many.csv", 0x7777, 0);
	for (i = 0; i < n && okay; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		snprintf(item, sizeof(item), "i%d", i % 10);
		okay &= add(g, ev(name, 1000 + i, "purchase", item, 1));
	}
	/* the first customers again, after their aggregates were written */
	for (i = 0; i < 20 && okay; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		okay &= add(g, ev(name, 10, "view", i % 2 ? "i1" : "i9", NAN));
		okay &= add(g, ev(name, 9000000, "purchase", "new", 2.5));
	}
	ok(okay, "%d customers, 20 of them again after the window", n);
	ok(okay && commit(g) == 0, "commit");
	is_int(sql_int(p, "SELECT count(*) FROM customers"), n,
	    "every customer once");
	ok(agg_is(s, "c0", 3, 10, 9000000, 3.5, 2, 3) &&
	    agg_is(s, "c1", 3, 10, 9000000, 3.5, 2, 2) &&
	    agg_is(s, "c19", 3, 10, 9000000, 3.5, 2, 3),
	    "customers seen in two windows: aggregates of both");
	ok(agg_is(s, "c300", 1, 1300, 1300, 1, 1, 1) &&
	    agg_is(s, "c262243", 1, 263243, 263243, 1, 1, 1),
	    "customers seen once, before and after the window");
	is_int(sql_int(p, "SELECT count(*) FROM customers WHERE n_events != "
	    "(SELECT count(*) FROM events WHERE customer_id = customers.id)"),
	    0, "every customer's event count matches its events");
	store_close(s);
}

/* ---- resolving in one thread, writing in another ---- */

#define PIPE_N		20000
#define PIPE_BATCH	512

/* Event i of the pipeline test; customer attributes in buf. */
static struct ingest_event
pipe_event(int i, char *cust, char *item, char *attrs)
{
	static const char *const types[] = { "view", "purchase", "cart",
	    "refund" };
	static const char *const chans[] = { "web", "app", NULL };
	struct ingest_event x;

	snprintf(cust, 32, "p%d", (i * 7919) % 700);
	snprintf(item, 32, "j%d", (i * 31) % 90);
	x = ev(cust, 100000 + i / 3, types[i % 4], i % 5 ? item : NULL,
	    i % 4 == 1 ? (double)(i % 17) : NAN);
	x.channel = chans[i % 3];
	x.line = i + 2;
	if (i % 37 == 0) {
		snprintf(attrs, 32, "{\"k\":%d}", i % 3);
		x.cust_attrs = attrs;
	}
	if (i % 101 == 0)
		x.cust_attrs = "[1";	/* refused: not an object */
	return x;
}

struct pipe_job {
	struct ingest		*g;
	struct ingest_row	*rows;	/* (PIPE_N) */
	int			 nrows;	/* resolved so far */
	int			 refused, errors, done;
	int64_t			 last_id;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
};

static void *
pipe_resolver(void *arg)
{
	struct pipe_job *j = arg;
	char cust[32], item[32], attrs[32];
	struct ingest_event x;
	struct err e;
	int i, n = 0;
	int64_t id;

	for (i = 0; i < PIPE_N; i++) {
		x = pipe_event(i, cust, item, attrs);
		err_clear(&e);
		id = store_ingest_resolve(j->g, &x, &j->rows[n], &e);
		if (id < 0) {
			j->refused++;
			j->errors += e.code != ERR_PARSE;
		} else {
			j->errors += j->last_id != 0 && id != j->last_id + 1;
			j->last_id = id;
			n++;
		}
		if (n % PIPE_BATCH == 0 || i == PIPE_N - 1) {
			pthread_mutex_lock(&j->mu);
			j->nrows = n;
			j->done = i == PIPE_N - 1;
			pthread_cond_signal(&j->cv);
			pthread_mutex_unlock(&j->mu);
		}
	}
	return NULL;
}

static void
test_pipeline(void)
{
	const char *p = path("pipe.db"), *p2 = path("pipe-twin.db");
	char cust[32], item[32], attrs[32];
	struct store *s[2];
	struct ingest *g;
	struct pipe_job j;
	struct err e;
	pthread_t th;
	int i, k, okay = 1, written = 0, refused = 0, n;

	/* both stores hold the same customers and items first, so that
	 * resolving looks up the table as well as its own maps */
	for (k = 0; k < 2; k++) {
		err_clear(&e);
		s[k] = store_open(k ? p2 : p, STORE_CREATE, &e);
		g = begin(s[k], "first.csv", 0x5151, 0);
		for (i = 0; i < 300; i++) {
			snprintf(cust, sizeof(cust), "p%d", i * 2);
			snprintf(item, sizeof(item), "j%d", i % 40);
			okay &= add(g, ev(cust, 5000 + i, "view", item, NAN));
		}
		okay &= commit(g) == 0;
	}
	ok(okay, "two stores with the same first import");

	/* the twin: one by one */
	g = begin(s[1], "second.csv", 0x5252, 0);
	for (i = 0; i < PIPE_N; i++) {
		struct ingest_event x = pipe_event(i, cust, item, attrs);

		err_clear(&e);
		if (store_ingest_event(g, &x, &e) < 0)
			refused++;
	}
	okay = commit(g) == 0;

	/* the other: resolved by a thread, written here as batches come */
	memset(&j, 0, sizeof(j));
	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
	j.rows = xcalloc(PIPE_N, sizeof(*j.rows));
	j.g = begin(s[0], "second.csv", 0x5252, 0);
	okay &= j.g != NULL &&
	    pthread_create(&th, NULL, pipe_resolver, &j) == 0;
	for (;;) {
		int done;

		pthread_mutex_lock(&j.mu);
		while (j.nrows == written && !j.done)
			pthread_cond_wait(&j.cv, &j.mu);
		n = j.nrows;
		done = j.done;
		pthread_mutex_unlock(&j.mu);
		err_clear(&e);
		if (store_ingest_write(j.g, j.rows + written,
		    (size_t)(n - written), &e) < 0) {
			diag("store_ingest_write: %s", e.msg);
			okay = 0;
		}
		written = n;
		if (done && written == j.nrows)
			break;
	}
	pthread_join(th, NULL);
	okay &= commit(j.g) == 0;
	ok(okay, "%d events resolved in a thread, written in another",
	    PIPE_N);
	ok(j.errors == 0 && j.refused == refused && refused ==
	    (PIPE_N + 100) / 101, "%d refused the same way, ids consecutive",
	    refused);
	is_int(sql_int(p, "SELECT count(*) FROM events"),
	    300 + PIPE_N - refused, "every event written once");
	ok(checksum(s[0]) == checksum(s[1]) && checksum(s[0]) != 0,
	    "the same store as adding them one by one");
	is_int(sql_int(p, "SELECT count(*) FROM customers WHERE n_events != "
	    "(SELECT count(*) FROM events WHERE customer_id = customers.id) "
	    "OR n_items != (SELECT count(DISTINCT item_id) FROM events "
	    "WHERE customer_id = customers.id)"), 0,
	    "aggregates match the events");
	free(j.rows);
	pthread_mutex_destroy(&j.mu);
	pthread_cond_destroy(&j.cv);
	store_close(s[0]);
	store_close(s[1]);
}

static int64_t
key_int(const struct customer *c, enum store_sort k)
{
	return k == SORT_LAST ? c->last_ts : k == SORT_EVENTS ? c->n_events :
	    0;
}

/* <0, 0, >0: c before, equal, after d in ascending (key, id) order. */
static int
cmp_key(const struct customer *c, const struct customer *d, enum store_sort k)
{
	int r;

	if (k == SORT_ID)
		r = strcmp(c->ext_id, d->ext_id);
	else if (k == SORT_SPEND)
		r = (c->spend > d->spend) - (c->spend < d->spend);
	else
		r = (key_int(c, k) > key_int(d, k)) -
		    (key_int(c, k) < key_int(d, k));
	return r != 0 ? r : (c->id > d->id) - (c->id < d->id);
}

/* Walk all pages; 1 if every customer came once, in order. */
static int
walk(struct store *s, enum store_sort k, int asc, int pagesize, int total)
{
	struct customer page[16], last;
	unsigned char *seen = xcalloc((size_t)total + 2, 1);
	struct err e;
	int n, i, count = 0, okay = 1, have = 0;

	err_clear(&e);
	for (;;) {
		n = store_customers_page(s, k, asc, have ? &last : NULL, page,
		    pagesize, &e);
		if (n < 0) {
			diag("page: %s", e.msg);
			okay = 0;
			break;
		}
		for (i = 0; i < n; i++) {
			int c = have ? cmp_key(&last, &page[i], k) : 0;

			if (have && (asc ? c >= 0 : c <= 0))
				okay = 0;
			if (page[i].id < 1 || page[i].id > total ||
			    seen[page[i].id]++)
				okay = 0;
			last = page[i];
			have = 1;
			count++;
		}
		if (n < pagesize)
			break;
	}
	if (count != total)
		diag("sort %d asc %d page %d: %d of %d customers", k, asc,
		    pagesize, count, total);
	free(seen);
	return okay && count == total;
}

static void
test_paging(void)
{
	static const char *const names[] = { "last", "spend", "events", "id" };
	const char *p = path("pages.db");
	struct store *s;
	struct ingest *g;
	struct err e;
	int k, i, j, asc, okay = 1, total = 57;

	err_clear(&e);
	s = store_open(p, STORE_CREATE, &e);
	g = begin(s, "pages.csv", 0x8888, 0);
	/* 57 customers with many ties in every key, ids not in name order */
	for (i = 0; i < 57; i++) {
		char name[32];

		snprintf(name, sizeof(name), "cust-%02d", (i * 13) % 57);
		for (j = 0; j <= i % 4; j++)
			okay &= add(g, ev(name, 1000 + (i % 5) * 10 - j,
			    j == 0 && i % 3 ? "purchase" : "view", NULL,
			    j == 0 ? (i % 3) * 2.5 - 2.5 : NAN));
	}
	ok(store_ingest_truth(g, "rule", "cust-00", "churn", 1, NULL, 0,
	    &e) == 0, "ground truth for a customer with events");
	/* a customer without events could not be paged by last activity */
	err_clear(&e);
	ok(store_ingest_truth(g, "rule", "ghost", "churn", 0, NULL, 0,
	    &e) < 0 && strstr(e.msg, "ghost"), "ground truth for a customer "
	    "without events is refused: %s", e.msg);
	ok(okay && commit(g) == 0, "%d customers with tied keys", total);
	is_int(sql_int(p, "SELECT count(*) FROM customers WHERE last_ts IS "
	    "NULL OR n_events = 0"), 0, "every customer has events");
	for (k = SORT_LAST; k <= SORT_ID; k++)
		for (asc = 0; asc <= 1; asc++)
			ok(walk(s, k, asc, 5, total) && walk(s, k, asc, 1,
			    total) && walk(s, k, asc, 16, total),
			    "sort %s %s: pages of 5, 1 and 16 visit every "
			    "customer once, in order", names[k],
			    asc ? "ascending" : "descending");
	store_close(s);
}

int
main(void)
{
	plan(89);
	snprintf(dir, sizeof(dir), "%s/t-store.XXXXXX",
	    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_open();
	test_ingest();
	test_window();
	test_pipeline();
	test_paging();
	if (exit_status() == 0) {
		char cmd[300 + sizeof(dir)];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	} else
		diag("files kept in %s", dir);
	return exit_status();
}
