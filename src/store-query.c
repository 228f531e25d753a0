/*
 * store-query.c: read-only questions to the store: what it holds (info)
 * and pages of customers by keyset (never OFFSET, never a scan of events).
 */
#include "config.h"
#include "store-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "util.h"

static int
query_int(struct store *s, const char *sql, int64_t *out, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, sql, e);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(s, e, sql);
	return 0;
}

static char *
col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* Counts, span, types and imports. */
int
store_info_get(struct store *s, struct store_info *in, struct err *e)
{
	sqlite3_stmt *st;
	char *tk;
	int rc;

	memset(in, 0, sizeof(*in));
	in->version = STORE_VERSION;
	if (query_int(s, "SELECT count(*) FROM customers", &in->customers,
	    e) < 0 ||
	    query_int(s, "SELECT coalesce(sum(n_events), 0) FROM event_types",
	    &in->events, e) < 0 ||
	    query_int(s, "SELECT count(*) FROM items", &in->items, e) < 0 ||
	    query_int(s, "SELECT count(*) FROM event_types", &in->types,
	    e) < 0 ||
	    query_int(s, "SELECT count(*) FROM segments", &in->segments,
	    e) < 0 ||
	    query_int(s, "SELECT count(*) FROM models", &in->models, e) < 0 ||
	    query_int(s, "SELECT count(*) FROM ground_truth", &in->truths,
	    e) < 0 ||
	    query_int(s, "SELECT coalesce(min(first_ts), 0) FROM customers",
	    &in->first_ts, e) < 0 ||
	    query_int(s, "SELECT coalesce(max(last_ts), 0) FROM customers",
	    &in->last_ts, e) < 0)
		return -1;
	tk = store_meta_get(s, "time_kind", e);
	in->sequence_time = tk != NULL && strcmp(tk, "sequence") == 0;
	free(tk);

	if ((st = store_prepare(s, "SELECT name, n_events FROM event_types "
	    "ORDER BY n_events DESC, name", e)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_count *c;

		in->type_counts = xreallocarray(in->type_counts,
		    in->n_type_counts + 1, sizeof(*in->type_counts));
		c = &in->type_counts[in->n_type_counts++];
		c->name = col_strdup(st, 0);
		c->n = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto dberr;

	if ((st = store_prepare(s, "SELECT id, source, preset, started, "
	    "seconds, rows, events, skipped, rejected FROM imports "
	    "ORDER BY id", e)) == NULL)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_import_row *r;

		in->imports = xreallocarray(in->imports, in->n_imports + 1,
		    sizeof(*in->imports));
		r = &in->imports[in->n_imports++];
		r->id = sqlite3_column_int64(st, 0);
		r->source = col_strdup(st, 1);
		r->preset = col_strdup(st, 2);
		r->started = sqlite3_column_int64(st, 3);
		r->seconds = sqlite3_column_double(st, 4);
		r->rows = sqlite3_column_int64(st, 5);
		r->events = sqlite3_column_int64(st, 6);
		r->skipped = sqlite3_column_int64(st, 7);
		r->rejected = sqlite3_column_int64(st, 8);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto dberr;
	return 0;
dberr:
	store_dberr(s, e, "reading store info");
fail:
	store_info_release(in);
	return -1;
}

/* Free what store_info_get allocated. */
void
store_info_release(struct store_info *in)
{
	size_t i;

	for (i = 0; i < in->n_type_counts; i++)
		free(in->type_counts[i].name);
	for (i = 0; i < in->n_imports; i++) {
		free(in->imports[i].source);
		free(in->imports[i].preset);
	}
	free(in->type_counts);
	free(in->imports);
	memset(in, 0, sizeof(*in));
}

#define CUST_COLS "id, ext_id, n_events, coalesce(first_ts, 0), " \
	"coalesce(last_ts, 0), n_purchases, n_items, spend"

static void
cust_row(sqlite3_stmt *st, struct customer *c)
{
	const unsigned char *t = sqlite3_column_text(st, 1);

	c->id = sqlite3_column_int64(st, 0);
	snprintf(c->ext_id, sizeof(c->ext_id), "%s", t ? (const char *)t : "");
	c->n_events = sqlite3_column_int64(st, 2);
	c->first_ts = sqlite3_column_int64(st, 3);
	c->last_ts = sqlite3_column_int64(st, 4);
	c->n_purchases = sqlite3_column_int64(st, 5);
	c->n_items = sqlite3_column_int64(st, 6);
	c->spend = sqlite3_column_double(st, 7);
}

/*
 * Keyset pages: (key, id) strictly after the last row, in index order.
 * The sort columns are never NULL: store-ingest.c inserts no customer
 * without events, so last_ts is always set.
 */
static const struct {
	const char	*col;
	int		 is_real;
} sort_cols[] = {
	[SORT_LAST]	= { "last_ts", 0 },
	[SORT_SPEND]	= { "spend", 1 },
	[SORT_EVENTS]	= { "n_events", 0 },
	[SORT_ID]	= { "ext_id", 2 },
};

/* One page of customers. */
int
store_customers_page(struct store *s, enum store_sort key, int asc,
    const struct customer *after, struct customer *out, int n, struct err *e)
{
	const char *col = sort_cols[key].col, *op = asc ? ">" : "<",
	    *dir = asc ? "ASC" : "DESC";
	sqlite3_stmt *st;
	char sql[512];
	int rc, got = 0;

	if (after == NULL)
		snprintf(sql, sizeof(sql), "SELECT " CUST_COLS " FROM customers "
		    "ORDER BY %s %s, id %s LIMIT ?1", col, dir, dir);
	else
		snprintf(sql, sizeof(sql), "SELECT " CUST_COLS " FROM customers "
		    "WHERE (%s, id) %s (?2, ?3) ORDER BY %s %s, id %s LIMIT ?1",
		    col, op, col, dir, dir);
	if ((st = store_prepare(s, sql, e)) == NULL)
		return -1;
	sqlite3_bind_int(st, 1, n);
	if (after != NULL) {
		switch (key) {
		case SORT_LAST:
			sqlite3_bind_int64(st, 2, after->last_ts);
			break;
		case SORT_SPEND:
			sqlite3_bind_double(st, 2, after->spend);
			break;
		case SORT_EVENTS:
			sqlite3_bind_int64(st, 2, after->n_events);
			break;
		case SORT_ID:
			sqlite3_bind_text(st, 2, after->ext_id, -1,
			    SQLITE_STATIC);
			break;
		}
		sqlite3_bind_int64(st, 3, after->id);
	}
	while (got < n && (rc = sqlite3_step(st)) == SQLITE_ROW)
		cust_row(st, &out[got++]);
	if (got < n && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return store_dberr(s, e, "listing customers");
	}
	sqlite3_finalize(st);
	return got;
}

/* One customer by external id. */
int
store_customer_get(struct store *s, const char *ext, struct customer *c,
    struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT " CUST_COLS
	    " FROM customers WHERE ext_id = ?1", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, ext, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		cust_row(st, c);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(s, e, "looking up a customer");
	return rc == SQLITE_ROW;
}
