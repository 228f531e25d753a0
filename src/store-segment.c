/*
 * store-segment.c: the write side of segments (tables segments and
 * segment_members), the per-customer RFM and BG/NBD tables, and filter
 * segments: a compiled filter's condition (fixed SQL fragments, every
 * value bound) selecting members in one statement. Callers group the
 * writes of one build in a transaction (store_begin/store_commit).
 */
#include "config.h"
#include "store-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "segment.h"
#include "util.h"

struct store_seg_writer {
	struct store	*s;
	sqlite3_stmt	*member, *rfm, *bg;
};

/* Statements for adding members and per-customer rows. */
struct store_seg_writer *
store_seg_writer_new(struct store *s, struct err *e)
{
	struct store_seg_writer *w = xcalloc(1, sizeof(*w));

	w->s = s;
	if ((w->member = store_prepare(s, "INSERT OR IGNORE INTO "
	    "segment_members(segment_id, customer_id) VALUES (?1, ?2)",
	    e)) == NULL ||
	    (w->rfm = store_prepare(s, "INSERT OR REPLACE INTO customer_rfm("
	    "customer_id, at, recency, frequency, monetary, r, f, m, segment) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", e)) == NULL ||
	    (w->bg = store_prepare(s, "INSERT OR REPLACE INTO customer_bgnbd("
	    "customer_id, at, x, t_x, T, p_alive, p_no_purchase) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7)", e)) == NULL) {
		store_seg_writer_free(w);
		return NULL;
	}
	return w;
}

void
store_seg_writer_free(struct store_seg_writer *w)
{
	if (w == NULL)
		return;
	sqlite3_finalize(w->member);
	sqlite3_finalize(w->rfm);
	sqlite3_finalize(w->bg);
	free(w);
}

int
store_seg_member(struct store_seg_writer *w, int64_t seg, int64_t cust,
    struct err *e)
{
	sqlite3_bind_int64(w->member, 1, seg);
	sqlite3_bind_int64(w->member, 2, cust);
	return store_step_done(w->s, w->member, e, "adding a segment member");
}

int
store_seg_rfm(struct store_seg_writer *w, const struct store_rfm_row *r,
    struct err *e)
{
	sqlite3_stmt *st = w->rfm;

	sqlite3_bind_int64(st, 1, r->customer_id);
	sqlite3_bind_int64(st, 2, r->at);
	sqlite3_bind_double(st, 3, r->recency);
	sqlite3_bind_int64(st, 4, r->frequency);
	sqlite3_bind_double(st, 5, r->monetary);
	sqlite3_bind_int(st, 6, r->r);
	sqlite3_bind_int(st, 7, r->f);
	sqlite3_bind_int(st, 8, r->m);
	sqlite3_bind_text(st, 9, r->segment, -1, SQLITE_STATIC);
	return store_step_done(w->s, st, e, "storing RFM scores");
}

int
store_seg_bgnbd(struct store_seg_writer *w, const struct store_bgnbd_row *r,
    struct err *e)
{
	sqlite3_stmt *st = w->bg;

	sqlite3_bind_int64(st, 1, r->customer_id);
	sqlite3_bind_int64(st, 2, r->at);
	sqlite3_bind_int64(st, 3, r->x);
	sqlite3_bind_double(st, 4, r->t_x);
	sqlite3_bind_double(st, 5, r->T);
	sqlite3_bind_double(st, 6, r->p_alive);
	sqlite3_bind_double(st, 7, r->p_no_purchase);
	return store_step_done(w->s, st, e, "storing BG/NBD figures");
}

/* Delete segment rows (and members) matching one text column. */
static int
seg_delete_where(struct store *s, const char *col_sql, const char *value,
    struct err *e)
{
	static const char *const sql[2][2] = {
		{ "DELETE FROM segment_members WHERE segment_id IN (SELECT id "
		  "FROM segments WHERE kind = ?1)",
		  "DELETE FROM segments WHERE kind = ?1" },
		{ "DELETE FROM segment_members WHERE segment_id IN (SELECT id "
		  "FROM segments WHERE name = ?1)",
		  "DELETE FROM segments WHERE name = ?1" },
	};
	int which = strcmp(col_sql, "name") == 0, i, n = 0;

	for (i = 0; i < 2; i++) {
		sqlite3_stmt *st = store_prepare(s, sql[which][i], e);

		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return store_dberr(s, e, "deleting segments");
		}
		n = sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	return n;
}

/* Remove every segment of a kind; returns how many. */
int
store_seg_delete_kind(struct store *s, const char *kind, struct err *e)
{
	return seg_delete_where(s, "kind", kind, e);
}

/* Remove the segment called name: 1 removed, 0 none. */
int
store_seg_delete(struct store *s, const char *name, struct err *e)
{
	return seg_delete_where(s, "name", name, e);
}

/* A new segment (a same-named one is replaced); its id, or -1. */
int64_t
store_seg_create(struct store *s, const char *name, const char *kind,
    const char *definition, int64_t created, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (store_seg_delete(s, name, e) < 0)
		return -1;
	if ((st = store_prepare(s, "INSERT INTO segments(name, kind, "
	    "definition, created) VALUES (?1, ?2, ?3, ?4)", e)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, definition, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, created);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, e, "creating a segment");
	return sqlite3_last_insert_rowid(s->db);
}

/* Members of seg: the customers a compiled filter selects. */
int64_t
store_seg_fill_filter(struct store *s, int64_t seg, const struct filter *f,
    struct err *e)
{
	struct buf b;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	buf_init(&b);
	/* ?1 is the segment; the filter's own ? follow in order */
	buf_printf(&b, "INSERT INTO segment_members(segment_id, customer_id) "
	    "SELECT ?1, c.id FROM customers c WHERE %s", f->sql);
	st = store_prepare(s, b.data, e);
	buf_release(&b);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, seg);
	for (i = 0; i < f->n; i++) {
		const struct filter_param *p = &f->p[i];
		int k = (int)i + 2;

		if (p->kind == FILTER_INT)
			sqlite3_bind_int64(st, k, p->i);
		else if (p->kind == FILTER_REAL)
			sqlite3_bind_double(st, k, p->d);
		else
			sqlite3_bind_text(st, k, p->s, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, e, "selecting the filter's customers");
	return sqlite3_changes64(s->db);
}

/* The RFM cell counts [r-1][f-1]. */
int
store_rfm_grid(struct store *s, int64_t grid[5][5], struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT r, f, count(*) FROM "
	    "customer_rfm GROUP BY r, f", e);
	int rc;

	memset(grid, 0, sizeof(int64_t) * 25);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int r = sqlite3_column_int(st, 0), f = sqlite3_column_int(st, 1);

		if (r >= 1 && r <= 5 && f >= 1 && f <= 5)
			grid[r - 1][f - 1] = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, e, "reading the RFM grid");
	return 0;
}

/* The newest score of each customer of model_id, by customer id. */
int
store_scores_read(struct store *s, int64_t model_id, int64_t **cust,
    float **churn, size_t *n, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT customer_id, churn FROM "
	    "scores WHERE model_id = ?1 AND churn IS NOT NULL ORDER BY "
	    "customer_id", e);
	size_t cap = 0;
	int rc;

	*cust = NULL;
	*churn = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, model_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			*cust = xreallocarray(*cust, cap, sizeof(int64_t));
			*churn = xreallocarray(*churn, cap, sizeof(float));
		}
		(*cust)[*n] = sqlite3_column_int64(st, 0);
		(*churn)[(*n)++] = (float)sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*cust);
		free(*churn);
		*cust = NULL;
		*churn = NULL;
		*n = 0;
		return store_dberr(s, e, "reading scores");
	}
	return 0;
}

/* Purchase events at or before at, by customer then time. */
int
store_purchases_walk(struct store *s, int64_t at,
    int (*fn)(void *, int64_t customer_id, int64_t ts), void *ctx,
    struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT e.customer_id, e.ts FROM "
	    "events e JOIN event_types t ON t.id = e.type_id WHERE "
	    "t.is_purchase = 1 AND e.ts <= ?1 ORDER BY e.customer_id, e.ts", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, at);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(ctx, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1)) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, e, "reading purchases");
	return 0;
}

/* BG/NBD beside a model's churn scores, customer by customer. */
int
store_bgnbd_walk(struct store *s, int64_t model_id,
    int (*fn)(void *, const char *ext_id, double p_alive,
    double p_no_purchase, double churn), void *ctx, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT c.ext_id, b.p_alive, "
	    "b.p_no_purchase, sc.churn FROM customer_bgnbd b JOIN customers c "
	    "ON c.id = b.customer_id LEFT JOIN scores sc ON sc.customer_id = "
	    "b.customer_id AND sc.model_id = ?1 ORDER BY c.id", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, model_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(ctx, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_double(st, 1), sqlite3_column_double(st, 2),
		    sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 :
		    sqlite3_column_double(st, 3)) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, e, "reading BG/NBD figures");
	return 0;
}

/* The id of the segment called name. */
int
store_seg_find(struct store *s, const char *name, int64_t *id, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT id FROM segments WHERE "
	    "name = ?1", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(s, e, "looking up a segment");
	return rc == SQLITE_ROW;
}

/* A page of a segment's members by customer id (keyset). */
int
store_seg_members(struct store *s, int64_t seg, int64_t after, int64_t *ids,
    int n, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT customer_id FROM "
	    "segment_members WHERE segment_id = ?1 AND customer_id > ?2 "
	    "ORDER BY customer_id LIMIT ?3", e);
	int rc, got = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, seg);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int(st, 3, n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[got++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, e, "listing a segment's members");
	return got;
}

/* RFM inputs as of at: aggregates when at is the present, else events. */
int
store_rfm_inputs(struct store *s, int64_t at, struct store_rfm_in **out,
    size_t *n, struct err *e)
{
	sqlite3_stmt *st;
	int64_t last = 0;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_last_ts(s, &last, e) < 0)
		return -1;
	st = store_prepare(s, at >= last ?
	    "SELECT id, last_ts, n_purchases, spend FROM customers "
	    "WHERE n_events > 0 AND ?1 = ?1 ORDER BY id" :
	    "SELECT e.customer_id, max(e.ts), sum(t.is_purchase), "
	    "coalesce(sum(e.amount), 0) FROM events e JOIN event_types t ON "
	    "t.id = e.type_id WHERE e.ts <= ?1 GROUP BY e.customer_id "
	    "ORDER BY e.customer_id", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, at);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_rfm_in *x;

		if (*n == cap) {
			cap = cap ? cap * 2 : 4096;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		x = &(*out)[(*n)++];
		x->customer_id = sqlite3_column_int64(st, 0);
		x->last_ts = sqlite3_column_int64(st, 1);
		x->purchases = sqlite3_column_int64(st, 2);
		x->spend = sqlite3_column_double(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return store_dberr(s, e, "reading RFM inputs");
	}
	return 0;
}

/* Empty table customer_rfm (inside the caller's transaction). */
int
store_rfm_clear(struct store *s, struct err *e)
{
	return store_exec(s, "DELETE FROM customer_rfm", e);
}

/* The kind of the segment called name into kind ("" when none). */
int
store_seg_kind(struct store *s, const char *name, char *kind, size_t len,
    struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT kind FROM segments WHERE "
	    "name = ?1", e);
	int rc;

	kind[0] = '\0';
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(kind, len, "%s", (const char *)sqlite3_column_text(st,
		    0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(s, e, "looking up a segment");
	return 0;
}

/* Rows of one GROUP BY (name, in, out) into a growing array. */
static int
compare_rows(struct store *s, const char *sql, int64_t seg,
    struct store_cmp_row **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, sql, e);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, seg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		snprintf((*out)[*n].name, sizeof((*out)[0].name), "%s",
		    t ? (const char *)t : "-");
		(*out)[*n].in = sqlite3_column_int64(st, 1);
		(*out)[(*n)++].out = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return store_dberr(s, e, "comparing a segment");
	}
	return 0;
}

/* A segment against the rest (store.h). */
int
store_seg_compare(struct store *s, int64_t seg, int64_t model_id,
    int64_t churn_before, struct store_cmp *c, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(c, 0, sizeof(*c));
	if (compare_rows(s, "SELECT t.name, sum(m.customer_id IS NOT NULL), "
	    "sum(m.customer_id IS NULL) FROM events e JOIN event_types t ON "
	    "t.id = e.type_id LEFT JOIN segment_members m ON m.segment_id = ?1 "
	    "AND m.customer_id = e.customer_id GROUP BY t.id ORDER BY "
	    "t.n_events DESC, t.name", seg, &c->types, &c->n_types, e) < 0 ||
	    compare_rows(s, "SELECT x.segment, sum(m.customer_id IS NOT NULL), "
	    "sum(m.customer_id IS NULL) FROM customer_rfm x LEFT JOIN "
	    "segment_members m ON m.segment_id = ?1 AND m.customer_id = "
	    "x.customer_id GROUP BY x.segment ORDER BY x.segment", seg,
	    &c->rfm, &c->n_rfm, e) < 0) {
		store_cmp_release(c);
		return -1;
	}
	st = store_prepare(s, "SELECT sum(m.customer_id IS NOT NULL), "
	    "sum(m.customer_id IS NOT NULL AND c.last_ts <= ?2), "
	    "sum(m.customer_id IS NULL), "
	    "sum(m.customer_id IS NULL AND c.last_ts <= ?2), "
	    "avg(CASE WHEN m.customer_id IS NOT NULL THEN sc.churn END), "
	    "avg(CASE WHEN m.customer_id IS NULL THEN sc.churn END), "
	    "sum(CASE WHEN m.customer_id IS NOT NULL THEN c.spend END), "
	    "sum(CASE WHEN m.customer_id IS NULL THEN c.spend END) "
	    "FROM customers c LEFT JOIN segment_members m ON "
	    "m.segment_id = ?1 AND m.customer_id = c.id LEFT JOIN scores sc "
	    "ON sc.model_id = ?3 AND sc.customer_id = c.id "
	    "WHERE c.n_events > 0", e);
	if (st == NULL) {
		store_cmp_release(c);
		return -1;
	}
	sqlite3_bind_int64(st, 1, seg);
	sqlite3_bind_int64(st, 2, churn_before);
	sqlite3_bind_int64(st, 3, model_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->in = sqlite3_column_int64(st, 0);
		c->in_churned = sqlite3_column_int64(st, 1);
		c->out = sqlite3_column_int64(st, 2);
		c->out_churned = sqlite3_column_int64(st, 3);
		c->in_risk = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 :
		    sqlite3_column_double(st, 4);
		c->out_risk = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 :
		    sqlite3_column_double(st, 5);
		c->in_spend = sqlite3_column_double(st, 6);
		c->out_spend = sqlite3_column_double(st, 7);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		store_cmp_release(c);
		return store_dberr(s, e, "comparing a segment");
	}
	return 0;
}

void
store_cmp_release(struct store_cmp *c)
{
	free(c->types);
	free(c->rfm);
	memset(c, 0, sizeof(*c));
}
