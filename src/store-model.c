/*
 * store-model.c: what the sequence model needs from the store: one
 * customer's history oldest first up to a time, the vocabularies, model
 * files (table models) and scores (table scores). Only SQL lives here;
 * tokens.c and nn-*.c turn the rows into numbers.
 */
#include "config.h"
#include "store-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "util.h"

struct store_hreader {
	struct store	*s;
	sqlite3_stmt	*st;
	sqlite3_stmt	*next;		/* the first event after a time */
	int		 flags;
};

struct store_scorer {
	struct store	*s;
	sqlite3_stmt	*st;
};

/* An empty history. */
void
store_history_init(struct store_history *h)
{
	memset(h, 0, sizeof(*h));
}

/* Free a history's events and strings. */
void
store_history_release(struct store_history *h)
{
	free(h->ev);
	free(h->str);
	memset(h, 0, sizeof(*h));
}

/* Append a column's text to the string area; returns its offset + 1 (0: NULL). */
static size_t
hist_str(struct store_history *h, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t len, off;

	if (t == NULL)
		return 0;
	len = (size_t)sqlite3_column_bytes(st, col);
	if (h->str_len + len + 1 > h->str_cap) {
		h->str_cap = (h->str_len + len + 1) * 2;
		if (h->str_cap < 4096)
			h->str_cap = 4096;
		h->str = xrealloc(h->str, h->str_cap);
	}
	off = h->str_len;
	memcpy(h->str + off, t, len);
	h->str[off + len] = '\0';
	h->str_len += len + 1;
	return off + 1;
}

/* The statement for histories, prepared once. */
struct store_hreader *
store_hreader_new(struct store *s, int flags, struct err *e)
{
	struct store_hreader *r;
	sqlite3_stmt *st;

	/* events_customer_ts(customer_id, ts) gives (ts, rowid) order */
	/* fixed texts: the columns asked for, NULL for the others */
	{
		static const char *const sql[4] = {
			"SELECT e.id, e.ts, t.name, i.ext_id, e.amount, NULL, "
			"NULL",
			"SELECT e.id, e.ts, t.name, i.ext_id, e.amount, e.text, "
			"NULL",
			"SELECT e.id, e.ts, t.name, i.ext_id, e.amount, NULL, "
			"e.attrs",
			"SELECT e.id, e.ts, t.name, i.ext_id, e.amount, e.text, "
			"e.attrs"
		};
		char q[512];

		snprintf(q, sizeof(q), "%s FROM events e JOIN event_types t "
		    "ON t.id = e.type_id LEFT JOIN items i ON i.id = e.item_id "
		    "WHERE e.customer_id = ?1 AND e.ts <= ?2 "
		    "ORDER BY e.ts DESC, e.id DESC LIMIT ?3", sql[flags & 3]);
		st = store_prepare(s, q, e);
	}
	if (st == NULL)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->st = st;
	r->flags = flags;
	r->next = store_prepare(s, "SELECT min(ts) FROM events "
	    "WHERE customer_id = ?1 AND ts > ?2", e);
	if (r->next == NULL) {
		store_hreader_free(r);
		return NULL;
	}
	return r;
}

/* Finalize the statement; accepts NULL. */
void
store_hreader_free(struct store_hreader *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->st);
	sqlite3_finalize(r->next);
	free(r);
}

/* The time of customer_id's first event after `after`. */
int
store_history_next(struct store_hreader *r, int64_t cid, int64_t after,
    int64_t *ts, struct err *e)
{
	sqlite3_stmt *st = r->next;
	int rc, found = 0;

	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*ts = sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW)
		return store_dberr(r->s, e, "reading a customer's events");
	return found;
}

/* One customer's events at or before at, oldest first. */
int
store_history_read(struct store_hreader *r, int64_t cid, int64_t at,
    size_t limit, struct store_history *h, struct err *e)
{
	sqlite3_stmt *st = r->st;
	size_t i;
	int rc;

	h->n = 0;
	h->str_len = 0;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, at);
	/* all of them: at most STORE_HIST_MAX, one more to tell */
	sqlite3_bind_int64(st, 3, limit > 0 ? (int64_t)limit :
	    (int64_t)STORE_HIST_MAX + 1);
	/* strings are offsets + 1 until the area stops growing */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_hevent *ev;

		if (h->n == h->cap) {
			h->cap = h->cap ? h->cap * 2 : 256;
			h->ev = xreallocarray(h->ev, h->cap, sizeof(*h->ev));
		}
		ev = &h->ev[h->n++];
		ev->id = sqlite3_column_int64(st, 0);
		ev->ts = sqlite3_column_int64(st, 1);
		ev->type = (const char *)(uintptr_t)hist_str(h, st, 2);
		ev->item = (const char *)(uintptr_t)hist_str(h, st, 3);
		ev->text = (const char *)(uintptr_t)hist_str(h, st, 5);
		ev->attrs = (const char *)(uintptr_t)hist_str(h, st, 6);
		ev->amount = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN :
		    sqlite3_column_double(st, 4);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		h->n = 0;
		return store_dberr(r->s, e, "reading a customer's events");
	}
	if (limit == 0 && h->n > STORE_HIST_MAX) {
		sqlite3_stmt *q;
		char ext[128] = "";

		h->n = 0;
		/* name it as the user knows it */
		if ((q = store_prepare(r->s, "SELECT ext_id FROM customers "
		    "WHERE id = ?1", e)) != NULL) {
			sqlite3_bind_int64(q, 1, cid);
			if (sqlite3_step(q) == SQLITE_ROW &&
			    sqlite3_column_text(q, 0) != NULL)
				snprintf(ext, sizeof(ext), "%s ", (const char *)
				    sqlite3_column_text(q, 0));
		}
		sqlite3_finalize(q);
		return err_set(e, ERR_LIMIT, "%s: customer %s(#%lld) has more "
		    "than %d events, the limit of one history", r->s->path,
		    ext, (long long)cid, STORE_HIST_MAX);
	}
	/* newest first from SQL: reverse, then turn offsets into pointers */
	for (i = 0; i < h->n / 2; i++) {
		struct store_hevent t = h->ev[i];

		h->ev[i] = h->ev[h->n - 1 - i];
		h->ev[h->n - 1 - i] = t;
	}
	for (i = 0; i < h->n; i++) {
		struct store_hevent *ev = &h->ev[i];
		uintptr_t o;

		o = (uintptr_t)ev->type;
		ev->type = o ? h->str + o - 1 : "";
		o = (uintptr_t)ev->item;
		ev->item = o ? h->str + o - 1 : NULL;
		o = (uintptr_t)ev->text;
		ev->text = o ? h->str + o - 1 : NULL;
		o = (uintptr_t)ev->attrs;
		ev->attrs = o ? h->str + o - 1 : NULL;
	}
	return (int)h->n;
}

/* Rows of one text column into a string array. */
static int
text_column(struct store *s, sqlite3_stmt *st, char ***out, size_t *n,
    struct err *e, const char *what)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[cnt++] = xstrdup(t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		while (cnt > 0)
			free(v[--cnt]);
		free(v);
		*out = NULL;
		*n = 0;
		return store_dberr(s, e, what);
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* Event type names, most frequent first. */
int
store_type_names(struct store *s, char ***out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT name FROM event_types "
	    "ORDER BY n_events DESC, name", e);

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	return text_column(s, st, out, n, e, "reading event types");
}

/* Item external ids with at least min_events events, most frequent first. */
int
store_item_ids(struct store *s, int64_t min_events, size_t max, char ***out,
    size_t *n, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT ext_id FROM items "
	    "WHERE n_events >= ?1 ORDER BY n_events DESC, ext_id LIMIT ?2", e);

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, min_events);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	return text_column(s, st, out, n, e, "reading items");
}

/* max(last_ts) over customers (aggregates: no scan of events). */
int
store_last_ts(struct store *s, int64_t *out, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s,
	    "SELECT coalesce(max(last_ts), 0) FROM customers", e);
	int rc;

	*out = 0;
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_dberr(s, e, "reading the last event time");
	return 0;
}

/* A page of customers in id order (keyset on id). */
int
store_customers_by_id(struct store *s, int64_t after, struct customer *out,
    int n, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT id, ext_id, n_events, "
	    "coalesce(first_ts, 0), coalesce(last_ts, 0), n_purchases, "
	    "n_items, spend FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2",
	    e);
	int rc = SQLITE_DONE, got = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, n);
	while (got < n && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct customer *c = &out[got++];
		const unsigned char *t = sqlite3_column_text(st, 1);

		c->id = sqlite3_column_int64(st, 0);
		snprintf(c->ext_id, sizeof(c->ext_id), "%s",
		    t ? (const char *)t : "");
		c->n_events = sqlite3_column_int64(st, 2);
		c->first_ts = sqlite3_column_int64(st, 3);
		c->last_ts = sqlite3_column_int64(st, 4);
		c->n_purchases = sqlite3_column_int64(st, 5);
		c->n_items = sqlite3_column_int64(st, 6);
		c->spend = sqlite3_column_double(st, 7);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(s, e, "listing customers");
	return got;
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

#define MODEL_COLS "id, name, created, config, metrics, length(file)"

static void
model_row(sqlite3_stmt *st, struct store_model *m)
{
	m->id = sqlite3_column_int64(st, 0);
	m->name = col_dup(st, 1);
	m->created = sqlite3_column_int64(st, 2);
	m->config = col_dup(st, 3);
	m->metrics = col_dup(st, 4);
	m->bytes = sqlite3_column_int64(st, 5);
}

/* Free a model row's strings. */
void
store_model_release(struct store_model *m)
{
	if (m == NULL)
		return;
	free(m->name);
	free(m->config);
	free(m->metrics);
	memset(m, 0, sizeof(*m));
}

/* Free a list from store_models_list. */
void
store_models_free(struct store_model *m, size_t n)
{
	size_t i;

	for (i = 0; m != NULL && i < n; i++)
		store_model_release(&m[i]);
	free(m);
}

/* Every model, oldest first. */
int
store_models_list(struct store *s, struct store_model **out, size_t *n,
    struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT " MODEL_COLS
	    " FROM models ORDER BY created, id", e);
	struct store_model *v = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof(*v));
		model_row(st, &v[cnt++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_models_free(v, cnt);
		return store_dberr(s, e, "listing models");
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* One model by name (NULL: the newest), with a copy of its file. */
int
store_model_get(struct store *s, const char *name, struct store_model *m,
    void **file, size_t *len, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(m, 0, sizeof(*m));
	if (file != NULL) {
		*file = NULL;
		*len = 0;
	}
	st = store_prepare(s, name != NULL ?
	    "SELECT " MODEL_COLS ", file FROM models WHERE name = ?1" :
	    "SELECT " MODEL_COLS ", file FROM models "
	    "ORDER BY created DESC, id DESC LIMIT 1", e);
	if (st == NULL)
		return -1;
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		model_row(st, m);
		if (file != NULL) {
			const void *b = sqlite3_column_blob(st, 6);
			size_t n = (size_t)sqlite3_column_bytes(st, 6);

			if ((*file = malloc(n ? n : 1)) == NULL) {
				sqlite3_finalize(st);
				store_model_release(m);
				return err_set(e, ERR_NOMEM, "model %s: %zu "
				    "bytes", name ? name : "(newest)", n);
			}
			if (n > 0)
				memcpy(*file, b, n);
			*len = n;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(s, e, "reading a model");
	return rc == SQLITE_ROW;
}

/* 1 when a model called name exists, 0 if not, -1 on error. */
static int
model_exists(struct store *s, const char *name, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s,
	    "SELECT 1 FROM models WHERE name = ?1", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(s, e, "looking up a model");
	return rc == SQLITE_ROW;
}

/* Insert a model file. */
int64_t
store_model_add(struct store *s, const char *name, int64_t created,
    const char *config, const char *metrics, const void *file, size_t len,
    char **name_out, struct err *e)
{
	sqlite3_stmt *st;
	char auto_name[32];
	int64_t id, k;
	int rc;

	if (name_out != NULL)
		*name_out = NULL;
	if (name == NULL) {
		sqlite3_stmt *c = store_prepare(s,
		    "SELECT count(*) FROM models", e);

		if (c == NULL)
			return -1;
		k = sqlite3_step(c) == SQLITE_ROW ?
		    sqlite3_column_int64(c, 0) : 0;
		sqlite3_finalize(c);
		for (k++;; k++) {
			snprintf(auto_name, sizeof(auto_name), "m%lld",
			    (long long)k);
			if ((rc = model_exists(s, auto_name, e)) < 0)
				return -1;
			if (rc == 0)
				break;
		}
		name = auto_name;
	} else {
		if ((rc = model_exists(s, name, e)) < 0)
			return -1;
		if (rc == 1)
			return err_set(e, ERR_USAGE, "%s: a model called '%s' "
			    "exists already", s->path, name);
	}
	st = store_prepare(s, "INSERT INTO models(name, created, config, "
	    "metrics, file) VALUES (?1, ?2, ?3, ?4, ?5)", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, created);
	sqlite3_bind_text(st, 3, config, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, metrics, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 5, file, len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, e, "storing a model");
	id = sqlite3_last_insert_rowid(s->db);
	if (name_out != NULL)
		*name_out = xstrdup(name);
	return id;
}

/* Replace the metrics of model id. */
int
store_model_set_metrics(struct store *s, int64_t id, const char *metrics,
    struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "UPDATE models SET metrics = ?2 "
	    "WHERE id = ?1", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, metrics, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, e, "storing a model's metrics");
	return 0;
}

/* The INSERT for scores, prepared once. */
struct store_scorer *
store_scorer_new(struct store *s, struct err *e)
{
	struct store_scorer *w;
	sqlite3_stmt *st = store_prepare(s, "INSERT OR REPLACE INTO "
	    "scores(model_id, customer_id, at, churn, next_type) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)", e);

	if (st == NULL)
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->st = st;
	return w;
}

/* Finalize; accepts NULL. */
void
store_scorer_free(struct store_scorer *w)
{
	if (w == NULL)
		return;
	sqlite3_finalize(w->st);
	free(w);
}

/* One score row. */
int
store_score_put(struct store_scorer *w, int64_t model_id, int64_t cid,
    int64_t at, double churn, const char *next_type, struct err *e)
{
	sqlite3_stmt *st = w->st;
	int rc;

	sqlite3_bind_int64(st, 1, model_id);
	sqlite3_bind_int64(st, 2, cid);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_double(st, 4, churn);
	if (next_type != NULL)
		sqlite3_bind_text(st, 5, next_type, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_dberr(w->s, e, "storing a score");
	return 0;
}
