/*
 * store.c: opening the event store, its schema and migrations, meta,
 * transactions and the data checksum. The schema lives only here: an
 * ordered list of migrations, each taking user_version from i to i+1.
 */
#include "config.h"
#include "store-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "util.h"

/*
 * Migration 1: the first schema. Later issues append migrations (new
 * tables or columns); a migration is never edited once released.
 */
static const char schema_v1[] =
"CREATE TABLE meta ("
"  key TEXT PRIMARY KEY,"
"  value TEXT"
");"
"CREATE TABLE imports ("
"  id INTEGER PRIMARY KEY,"
"  source TEXT NOT NULL,"		/* file path or sample:... */
"  hash TEXT NOT NULL,"			/* 16 hex digits of content hash */
"  bytes INTEGER,"
"  preset TEXT,"
"  map TEXT,"
"  started INTEGER NOT NULL,"		/* UTC seconds */
"  seconds REAL,"
"  rows INTEGER NOT NULL DEFAULT 0,"
"  events INTEGER NOT NULL DEFAULT 0,"
"  skipped INTEGER NOT NULL DEFAULT 0,"
"  rejected INTEGER NOT NULL DEFAULT 0"
");"
"CREATE INDEX imports_hash ON imports(hash);"
"CREATE TABLE customers ("
"  id INTEGER PRIMARY KEY,"
"  ext_id TEXT NOT NULL UNIQUE,"
"  attrs TEXT,"				/* JSON object or NULL */
"  n_events INTEGER NOT NULL DEFAULT 0,"
"  first_ts INTEGER,"
"  last_ts INTEGER,"
"  spend REAL NOT NULL DEFAULT 0,"
"  n_purchases INTEGER NOT NULL DEFAULT 0,"
"  n_items INTEGER NOT NULL DEFAULT 0"
");"
"CREATE INDEX customers_last ON customers(last_ts);"
"CREATE INDEX customers_spend ON customers(spend);"
"CREATE INDEX customers_events ON customers(n_events);"
"CREATE TABLE event_types ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL UNIQUE,"
"  is_purchase INTEGER NOT NULL DEFAULT 0,"
"  n_events INTEGER NOT NULL DEFAULT 0"
");"
"CREATE TABLE items ("
"  id INTEGER PRIMARY KEY,"
"  ext_id TEXT NOT NULL UNIQUE,"
"  name TEXT,"
"  category TEXT,"
"  price REAL,"
"  n_events INTEGER NOT NULL DEFAULT 0"
");"
"CREATE TABLE events ("
"  id INTEGER PRIMARY KEY,"
"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
"  ts INTEGER NOT NULL,"		/* UTC seconds, or sequence number */
"  type_id INTEGER NOT NULL REFERENCES event_types(id),"
"  item_id INTEGER REFERENCES items(id),"
"  amount REAL,"
"  quantity REAL,"
"  channel TEXT,"
"  text TEXT,"
"  attrs TEXT,"				/* JSON object or NULL */
"  import_id INTEGER REFERENCES imports(id),"
"  line INTEGER"			/* line in the source file */
");"
STORE_EVENTS_INDEX ";"
"CREATE TABLE ground_truth ("
"  id INTEGER PRIMARY KEY,"
"  rule TEXT NOT NULL,"
"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
"  outcome TEXT NOT NULL,"		/* churn or purchase */
"  fired INTEGER NOT NULL,"		/* 1: the planted effect was applied */
"  import_id INTEGER REFERENCES imports(id)"
");"
"CREATE INDEX ground_truth_customer ON ground_truth(customer_id);"
"CREATE TABLE ground_truth_events ("
"  truth_id INTEGER NOT NULL REFERENCES ground_truth(id),"
"  event_id INTEGER NOT NULL REFERENCES events(id),"
"  PRIMARY KEY (truth_id, event_id)"
") WITHOUT ROWID;"
"CREATE TABLE segments ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL UNIQUE,"
"  kind TEXT NOT NULL,"			/* rfm, cluster, churn_band, filter */
"  definition TEXT,"			/* JSON or filter expression */
"  created INTEGER"
");"
"CREATE TABLE segment_members ("
"  segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,"
"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
"  PRIMARY KEY (segment_id, customer_id)"
") WITHOUT ROWID;"
"CREATE INDEX segment_members_customer ON segment_members(customer_id);"
"CREATE TABLE models ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL UNIQUE,"
"  created INTEGER NOT NULL,"
"  config TEXT,"			/* JSON */
"  metrics TEXT,"			/* JSON */
"  file BLOB NOT NULL"			/* the safetensors file */
");"
"CREATE TABLE scores ("
"  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
"  at INTEGER NOT NULL,"		/* scored as of this time */
"  churn REAL,"
"  next_type TEXT,"
"  PRIMARY KEY (model_id, customer_id)"
") WITHOUT ROWID;"
"CREATE INDEX scores_churn ON scores(model_id, churn);";

/*
 * v2: what segments and the classical churn model keep per customer:
 * RFM scores and cell (segment.c), and BG/NBD's P(alive) (bgnbd.c).
 */
static const char schema_v2[] =
"CREATE TABLE customer_rfm ("
"  customer_id INTEGER PRIMARY KEY REFERENCES customers(id),"
"  at INTEGER NOT NULL,"		/* as of (UTC seconds) */
"  recency REAL,"			/* days since the last event */
"  frequency INTEGER,"			/* purchase events */
"  monetary REAL,"			/* spend */
"  r INTEGER, f INTEGER, m INTEGER,"	/* quintile scores 1..5 */
"  segment TEXT"			/* the RFM map's name of cell (r, f) */
");"
"CREATE INDEX customer_rfm_segment ON customer_rfm(segment);"
"CREATE TABLE customer_bgnbd ("
"  customer_id INTEGER PRIMARY KEY REFERENCES customers(id),"
"  at INTEGER NOT NULL,"
"  x INTEGER,"				/* repeat purchases */
"  t_x REAL,"				/* time of the last one (weeks) */
"  T REAL,"				/* age (weeks) */
"  p_alive REAL,"
"  p_no_purchase REAL"			/* in the churn horizon */
");";

/*
 * v3: the explorer sorts customers by first seen as it does by the other
 * columns, a page at a time (store-browse.c): an index, nothing else.
 */
static const char schema_v3[] =
"CREATE INDEX IF NOT EXISTS customers_first ON customers(first_ts);";

static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
};
#define N_MIGRATIONS	(int)(sizeof(migrations) / sizeof(migrations[0]))

/* ERR_DB with SQLite's message. */
int
store_dberr(struct store *s, struct err *e, const char *what)
{
	return err_set(e, ERR_DB, "%s: %s: %s", s->path, what,
	    sqlite3_errmsg(s->db));
}

/* Prepare one statement. */
sqlite3_stmt *
store_prepare(struct store *s, const char *sql, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_dberr(s, e, "prepare");
		return NULL;
	}
	return st;
}

/* Run SQL without results. */
int
store_exec(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, ERR_DB, "%s: %s", s->path,
		    msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Step to DONE, then reset. */
int
store_step_done(struct store *s, sqlite3_stmt *st, struct err *e,
    const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_dberr(s, e, what);
	return 0;
}

static int
store_user_version(struct store *s, int *v, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "PRAGMA user_version", e);

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return store_dberr(s, e, "reading the schema version");
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Apply migrations from version v to the current one in one transaction. */
static int
store_migrate(struct store *s, int v, struct err *e)
{
	char sql[64];
	int i;

	if (store_exec(s, "BEGIN IMMEDIATE", e) < 0)
		return -1;
	for (i = v; i < N_MIGRATIONS; i++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", i + 1);
		if (store_exec(s, migrations[i], e) < 0 ||
		    store_exec(s, sql, e) < 0) {
			err_prefix(e, "migrating the schema to version %d",
			    i + 1);
			store_exec(s, "ROLLBACK", NULL);
			return -1;
		}
	}
	return store_exec(s, "COMMIT", e);
}

/* 1 when the database has no tables yet, 0 when it has, -1 on error. */
static int
store_is_empty_db(struct store *s)
{
	sqlite3_stmt *st = store_prepare(s,
	    "SELECT count(*) FROM sqlite_master", NULL);
	int n = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n < 0 ? -1 : n == 0;
}

/* 1 when the store has no events, 0 when it has, -1 on error. */
int
store_is_empty(struct store *s)
{
	sqlite3_stmt *st = store_prepare(s,
	    "SELECT EXISTS (SELECT 1 FROM events)", NULL);
	int n = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n < 0 ? -1 : n == 0;
}

/* Open (and create or migrate) the store. */
struct store *
store_open(const char *path, int flags, struct err *e)
{
	struct store *s;
	int oflags, v = 0, rc;
	char head[16];
	FILE *fp;

	/* A file that is not SQLite gets a clear message, not SQLite's. */
	if ((fp = fopen(path, "rb")) != NULL) {
		size_t n = fread(head, 1, sizeof(head), fp);

		fclose(fp);
		if (n > 0 && (n < sizeof(head) ||
		    memcmp(head, "SQLite format 3", 16) != 0)) {
			err_set(e, ERR_DB, "%s: not a journeyscope store "
			    "(not an SQLite database)", path);
			return NULL;
		}
	} else if (!(flags & STORE_CREATE) || (flags & STORE_READONLY)) {
		err_set(e, ERR_NOTFOUND, "%s: no such store", path);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->readonly = (flags & STORE_READONLY) != 0;
	/*
	 * One connection is used by one thread at a time: no per-call
	 * connection mutex (they were a sixth of an import's instructions),
	 * and no allocator statistics (another mutex per allocation).
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/*
	 * Read-only is opened for writing too when the file allows it, so
	 * that SQLite can roll back the journal of an import that was
	 * killed (a read-only connection cannot); query_only below keeps
	 * this connection from changing anything else.
	 */
	oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	    (s->readonly ? 0 : SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		err_set(e, ERR_DB, "%s: cannot open: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		store_close(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 2000);
	sqlite3_extended_result_codes(s->db, 1);
	if (s->readonly && store_exec(s, "PRAGMA query_only = ON", e) < 0) {
		store_close(s);
		return NULL;
	}
	if (store_user_version(s, &v, e) < 0) {
		err_prefix(e, "%s: not a readable store", path);
		store_close(s);
		return NULL;
	}
	s->from_version = v;
	if (v > N_MIGRATIONS) {
		err_set(e, ERR_DB, "%s: schema version %d is newer than this "
		    "journeyscope understands (%d); upgrade journeyscope", path,
		    v, N_MIGRATIONS);
		store_close(s);
		return NULL;
	}
	/* before anything writes (WAL changes the header): another
	 * program's database is left exactly as it was */
	if (v == 0 && store_is_empty_db(s) == 0) {
		err_set(e, ERR_DB, "%s: an SQLite database but not a "
		    "journeyscope store", path);
		store_close(s);
		return NULL;
	}
	if (store_exec(s, "PRAGMA foreign_keys = ON", e) < 0) {
		store_close(s);
		return NULL;
	}
	/* 256 MiB of page cache at most: an import's b-trees stay in
	 * memory until commit instead of spilling to the WAL */
	if (!s->readonly && (store_exec(s, "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = NORMAL; " STORE_CACHE_PRAGMA, e) < 0)) {
		store_close(s);
		return NULL;
	}
	if (v < N_MIGRATIONS) {
		if (s->readonly || (v > 0 && (flags & STORE_NOMIGRATE))) {
			err_set(e, ERR_DB, "%s: schema version %d needs "
			    "migrating to %d; open it writable", path, v,
			    N_MIGRATIONS);
			store_close(s);
			return NULL;
		}
		if (store_migrate(s, v, e) < 0) {
			store_close(s);
			return NULL;
		}
	}
	return s;
}

/* Close the connection; accepts NULL. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

/* Version found on open (0: the file was new). */
int
store_migrated_from(const struct store *s)
{
	return s->from_version;
}

/* The path given to store_open. */
const char *
store_path(const struct store *s)
{
	return s->path;
}

/* A copy of meta[key], or NULL (e untouched when merely absent). */
char *
store_meta_get(struct store *s, const char *key, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s,
	    "SELECT value FROM meta WHERE key = ?", e);
	char *v = NULL;
	int rc;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_dberr(s, e, "reading meta");
	sqlite3_finalize(st);
	return v;
}

/* Set meta[key] = value. */
int
store_meta_set(struct store *s, const char *key, const char *value,
    struct err *e)
{
	sqlite3_stmt *st = store_prepare(s,
	    "INSERT INTO meta(key, value) VALUES (?, ?) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = store_step_done(s, st, e, "writing meta");
	sqlite3_finalize(st);
	return rc;
}

/* BEGIN IMMEDIATE: take the write lock now, so a busy store fails early. */
int
store_begin(struct store *s, struct err *e)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		int busy = (sqlite3_errcode(s->db) & 0xff) == SQLITE_BUSY;

		if (busy)
			return err_set(e, ERR_DB, "%s: the store is locked by "
			    "another writer; try again when it has finished",
			    s->path);
		return store_dberr(s, e, "starting a transaction");
	}
	return 0;
}

/* COMMIT. */
int
store_commit(struct store *s, struct err *e)
{
	return store_exec(s, "COMMIT", e);
}

/* ROLLBACK, ignoring errors (there may be no transaction left). */
void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* What the checksum reads: every data table in key order. */
static const char *const checksum_sql[] = {
	"SELECT id, ext_id, attrs, n_events, first_ts, last_ts, spend, "
	    "n_purchases, n_items FROM customers ORDER BY id",
	"SELECT id, name, is_purchase, n_events FROM event_types ORDER BY id",
	"SELECT id, ext_id, name, category, price, n_events FROM items "
	    "ORDER BY id",
	"SELECT id, customer_id, ts, type_id, item_id, amount, quantity, "
	    "channel, text, attrs, line FROM events ORDER BY id",
	"SELECT id, rule, customer_id, outcome, fired FROM ground_truth "
	    "ORDER BY id",
	"SELECT truth_id, event_id FROM ground_truth_events "
	    "ORDER BY truth_id, event_id",
	"SELECT id, name, kind, definition FROM segments ORDER BY id",
	"SELECT segment_id, customer_id FROM segment_members "
	    "ORDER BY segment_id, customer_id",
	"SELECT id, name, config, metrics, file FROM models ORDER BY id",
	"SELECT model_id, customer_id, at, churn, next_type FROM scores "
	    "ORDER BY model_id, customer_id",
};

/* Hash of all data rows (type tag, then the value's bytes, per column). */
int
store_checksum(struct store *s, uint64_t *out, struct err *e)
{
	uint64_t h = 0x6a6f75726e6579ULL;
	size_t t;

	for (t = 0; t < sizeof(checksum_sql) / sizeof(checksum_sql[0]); t++) {
		sqlite3_stmt *st = store_prepare(s, checksum_sql[t], e);
		int rc, i, n;

		if (st == NULL)
			return -1;
		n = sqlite3_column_count(st);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (i = 0; i < n; i++) {
				int ty = sqlite3_column_type(st, i);
				unsigned char tag = (unsigned char)ty;
				int64_t iv;
				double dv;
				const void *p;

				h = hash_bytes(&tag, 1, h);
				switch (ty) {
				case SQLITE_INTEGER:
					iv = sqlite3_column_int64(st, i);
					h = hash_bytes(&iv, sizeof(iv), h);
					break;
				case SQLITE_FLOAT:
					dv = sqlite3_column_double(st, i);
					h = hash_bytes(&dv, sizeof(dv), h);
					break;
				case SQLITE_TEXT:
				case SQLITE_BLOB:
					p = ty == SQLITE_TEXT ?
					    (const void *)sqlite3_column_text(
					    st, i) : sqlite3_column_blob(st, i);
					h = hash_bytes(p, (size_t)
					    sqlite3_column_bytes(st, i), h);
					break;
				}
			}
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return store_dberr(s, e, "checksum");
		h = hash_bytes(&t, sizeof(t), h);
	}
	*out = h;
	return 0;
}
