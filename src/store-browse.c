/*
 * store-browse.c: the explorer's questions to the store. Pages of
 * customers with their latest score and RFM segment, in any of seven
 * orders, restricted to churned customers, a segment's members or a
 * compiled filter, by keyset (strictly after or before a row, never
 * OFFSET); counts, positions and searches over the same orders;
 * segments with their size, revenue and churn-risk histogram. The SQL
 * is put together from fixed fragments only: every value is bound, and
 * the statements are kept prepared in a small cache keyed by their text.
 */
#include "config.h"
#include "store-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "segment.h"
#include "util.h"

/* Prepared statements kept per browser. */
#define BROWSE_CACHE	32

/* Parameter numbers; a filter's own parameters follow from FILTER_P0. */
#define P_MODEL		1
#define P_KEY		2
#define P_TIE		3
#define P_BEFORE	4
#define P_SEGMENT	5
#define P_LIMIT		6
#define P_ID		7
#define P_ATTR1		8
#define P_ATTR2		9
#define P_PATH		10
#define P_VALUE		11
#define FILTER_P0	100

struct browse_stmt {
	char		*sql;
	sqlite3_stmt	*st;
};

struct store_browser {
	struct store		*s;
	struct browse_stmt	 cache[BROWSE_CACHE];
	int			 next;		/* slot replaced next */
	sqlite3_stmt		*stats;		/* one segment's figures */
};

/* What each order sorts on: key and tie columns, tables, base condition. */
static const struct {
	const char	*key;
	const char	*tie;
	int		 type;		/* SQLITE_INTEGER, _FLOAT or _TEXT */
	const char	*from;
	const char	*where;
} orders[BROWSE_NKEYS] = {
	[BROWSE_ID] = { "c.ext_id", "c.id", SQLITE_TEXT, "customers c",
	    NULL },
	[BROWSE_EVENTS] = { "c.n_events", "c.id", SQLITE_INTEGER,
	    "customers c", NULL },
	[BROWSE_FIRST] = { "c.first_ts", "c.id", SQLITE_INTEGER,
	    "customers c", NULL },
	[BROWSE_LAST] = { "c.last_ts", "c.id", SQLITE_INTEGER, "customers c",
	    NULL },
	[BROWSE_SPEND] = { "c.spend", "c.id", SQLITE_FLOAT, "customers c",
	    NULL },
	/* only customers with an RFM segment: the membership is the order */
	[BROWSE_SEGMENT] = { "g.name", "sm.customer_id", SQLITE_TEXT,
	    "segments g JOIN segment_members sm ON sm.segment_id = g.id "
	    "JOIN customers c ON c.id = sm.customer_id", "g.kind = 'rfm'" },
	/* only scored customers: the scores index is the order */
	[BROWSE_CHURN] = { "sc.churn", "sc.customer_id", SQLITE_FLOAT,
	    "scores sc JOIN customers c ON c.id = sc.customer_id",
	    "sc.model_id = ?1 AND sc.churn IS NOT NULL" },
};

#define ROW_COLS "c.id, c.ext_id, c.n_events, coalesce(c.first_ts, 0), " \
	"coalesce(c.last_ts, 0), c.n_purchases, c.n_items, c.spend"
#define CHURN_COL "(SELECT x.churn FROM scores x WHERE x.model_id = ?1 " \
	"AND x.customer_id = c.id)"
#define SEGMENT_COL "(SELECT y.name FROM segment_members z JOIN segments y " \
	"ON y.id = z.segment_id WHERE z.customer_id = c.id AND " \
	"y.kind = 'rfm' ORDER BY y.id LIMIT 1)"

/* A browser over s. */
struct store_browser *
store_browser_new(struct store *s, struct err *e)
{
	struct store_browser *b = xcalloc(1, sizeof(*b));

	b->s = s;
	b->stats = store_prepare(s, "SELECT CASE WHEN x.churn IS NULL THEN -1 "
	    "ELSE min(9, max(0, CAST(x.churn * 10 AS INTEGER))) END AS bin, "
	    "count(*), coalesce(sum(c.spend), 0), coalesce(sum(x.churn), 0) "
	    "FROM segment_members sm JOIN customers c ON c.id = "
	    "sm.customer_id LEFT JOIN scores x ON x.model_id = ?1 AND "
	    "x.customer_id = sm.customer_id WHERE sm.segment_id = ?2 "
	    "GROUP BY bin", e);
	if (b->stats == NULL) {
		store_browser_free(b);
		return NULL;
	}
	return b;
}

/* Free; accepts NULL. */
void
store_browser_free(struct store_browser *b)
{
	int i;

	if (b == NULL)
		return;
	for (i = 0; i < BROWSE_CACHE; i++) {
		sqlite3_finalize(b->cache[i].st);
		free(b->cache[i].sql);
	}
	sqlite3_finalize(b->stats);
	free(b);
}

/* The statement for sql, from the cache or prepared now. */
static sqlite3_stmt *
cached(struct store_browser *b, const char *sql, struct err *e)
{
	struct browse_stmt *c;
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < BROWSE_CACHE; i++)
		if (b->cache[i].sql != NULL && strcmp(b->cache[i].sql,
		    sql) == 0) {
			sqlite3_reset(b->cache[i].st);
			sqlite3_clear_bindings(b->cache[i].st);
			return b->cache[i].st;
		}
	if ((st = store_prepare(b->s, sql, e)) == NULL)
		return NULL;
	c = &b->cache[b->next];
	b->next = (b->next + 1) % BROWSE_CACHE;
	sqlite3_finalize(c->st);
	free(c->sql);
	c->sql = xstrdup(sql);
	c->st = st;
	return st;
}

/* The filter's SQL with its ? renumbered from FILTER_P0. */
static void
add_filter(struct buf *q, const struct filter *f)
{
	const char *p;
	int k = FILTER_P0;

	buf_adds(q, " AND (");
	for (p = f->sql; *p; p++) {
		if (*p == '?')
			buf_printf(q, "?%d", k++);
		else
			buf_addc(q, *p);
	}
	buf_adds(q, ")");
}

/*
 * The conditions every question shares: the order's base, churned,
 * segment, filter, and a search needle (find: 0 none, 1 id or attribute
 * value prefix, 2 key=value).
 */
static void
add_where(struct buf *q, const struct browse_query *bq, int find)
{
	const char *base = orders[bq->key].where;

	buf_printf(q, " WHERE %s", base != NULL ? base : "1");
	if (bq->before > 0)
		buf_adds(q, " AND c.last_ts < ?4");
	if (bq->segment_id > 0)
		buf_adds(q, " AND EXISTS (SELECT 1 FROM segment_members m5 "
		    "WHERE m5.segment_id = ?5 AND m5.customer_id = c.id)");
	if (bq->filter != NULL)
		add_filter(q, bq->filter);
	if (find == 1)
		buf_adds(q, " AND (c.ext_id LIKE ?7 ESCAPE '\\' OR c.attrs "
		    "LIKE ?8 ESCAPE '\\' OR c.attrs LIKE ?9 ESCAPE '\\')");
	else if (find == 2)
		buf_adds(q, " AND json_extract(c.attrs, ?10) LIKE ?11 "
		    "ESCAPE '\\'");
}

/* Bind the parameters the conditions use. */
static void
bind_where(sqlite3_stmt *st, const struct browse_query *bq)
{
	size_t i;

	sqlite3_bind_int64(st, P_MODEL, bq->model_id);
	if (bq->before > 0)
		sqlite3_bind_int64(st, P_BEFORE, bq->before);
	if (bq->segment_id > 0)
		sqlite3_bind_int64(st, P_SEGMENT, bq->segment_id);
	if (bq->filter == NULL)
		return;
	for (i = 0; i < bq->filter->n; i++) {
		const struct filter_param *p = &bq->filter->p[i];
		int k = FILTER_P0 + (int)i;

		if (p->kind == FILTER_INT)
			sqlite3_bind_int64(st, k, p->i);
		else if (p->kind == FILTER_REAL)
			sqlite3_bind_double(st, k, p->d);
		else
			sqlite3_bind_text(st, k, p->s, -1, SQLITE_TRANSIENT);
	}
}

/* Bind row's key value of the order and its tie. */
static void
bind_key(sqlite3_stmt *st, const struct browse_query *bq,
    const struct browse_row *r)
{
	switch (bq->key) {
	case BROWSE_ID:
		sqlite3_bind_text(st, P_KEY, r->c.ext_id, -1, SQLITE_TRANSIENT);
		break;
	case BROWSE_EVENTS:
		sqlite3_bind_int64(st, P_KEY, r->c.n_events);
		break;
	case BROWSE_FIRST:
		sqlite3_bind_int64(st, P_KEY, r->c.first_ts);
		break;
	case BROWSE_LAST:
		sqlite3_bind_int64(st, P_KEY, r->c.last_ts);
		break;
	case BROWSE_SPEND:
		sqlite3_bind_double(st, P_KEY, r->c.spend);
		break;
	case BROWSE_SEGMENT:
		sqlite3_bind_text(st, P_KEY, r->segment, -1, SQLITE_TRANSIENT);
		break;
	case BROWSE_CHURN:
		sqlite3_bind_double(st, P_KEY, r->churn);
		break;
	default:
		break;
	}
	sqlite3_bind_int64(st, P_TIE, r->c.id);
}

/* One result row. */
static void
read_row(sqlite3_stmt *st, struct browse_row *r)
{
	const unsigned char *t = sqlite3_column_text(st, 1);

	memset(r, 0, sizeof(*r));
	r->c.id = sqlite3_column_int64(st, 0);
	snprintf(r->c.ext_id, sizeof(r->c.ext_id), "%s", t ? (const char *)t :
	    "");
	r->c.n_events = sqlite3_column_int64(st, 2);
	r->c.first_ts = sqlite3_column_int64(st, 3);
	r->c.last_ts = sqlite3_column_int64(st, 4);
	r->c.n_purchases = sqlite3_column_int64(st, 5);
	r->c.n_items = sqlite3_column_int64(st, 6);
	r->c.spend = sqlite3_column_double(st, 7);
	r->churn = sqlite3_column_type(st, 8) == SQLITE_NULL ? NAN :
	    sqlite3_column_double(st, 8);
	t = sqlite3_column_text(st, 9);
	snprintf(r->segment, sizeof(r->segment), "%s", t ? (const char *)t :
	    "");
}

/* The SELECT of rows for the order. */
static void
add_select(struct buf *q, const struct browse_query *bq)
{
	buf_printf(q, "SELECT " ROW_COLS ", %s, %s FROM %s",
	    bq->key == BROWSE_CHURN ? "sc.churn" : CHURN_COL,
	    bq->key == BROWSE_SEGMENT ? "g.name" : SEGMENT_COL,
	    orders[bq->key].from);
}

/*
 * Rows in the order (desc ^ backwards), strictly after (or from, incl)
 * row `from`; the needle kinds as in add_where. Returns rows filled.
 */
static int
page_query(struct store_browser *b, const struct browse_query *bq,
    const struct browse_row *from, int dir, int incl, int find,
    const char *needle, struct browse_row *out, int n, struct err *e)
{
	int desc = bq->desc ^ (dir < 0), got = 0, rc;
	const char *key = orders[bq->key].key, *tie = orders[bq->key].tie;
	sqlite3_stmt *st;
	struct buf q;
	char pat[3][300];

	buf_init(&q);
	add_select(&q, bq);
	add_where(&q, bq, find);
	if (from != NULL)
		buf_printf(&q, " AND (%s, %s) %s%s (?2, ?3)", key, tie,
		    desc ? "<" : ">", incl ? "=" : "");
	buf_printf(&q, " ORDER BY %s %s, %s %s LIMIT ?6", key,
	    desc ? "DESC" : "ASC", tie, desc ? "DESC" : "ASC");
	st = cached(b, q.data, e);
	buf_release(&q);
	if (st == NULL)
		return -1;
	bind_where(st, bq);
	if (from != NULL)
		bind_key(st, bq, from);
	sqlite3_bind_int(st, P_LIMIT, n);
	if (find > 0) {
		const char *eq = strchr(needle, '=');
		char esc[256];
		size_t i, k = 0;
		const char *v = find == 2 ? eq + 1 : needle;

		/* LIKE's wildcards in the needle are literal */
		for (i = 0; v[i] != '\0' && k + 2 < sizeof(esc); i++) {
			if (v[i] == '%' || v[i] == '_' || v[i] == '\\')
				esc[k++] = '\\';
			esc[k++] = v[i];
		}
		esc[k] = '\0';
		if (find == 1) {
			snprintf(pat[0], sizeof(pat[0]), "%s%%", esc);
			/* a string value begins after ':"' in the attributes */
			snprintf(pat[1], sizeof(pat[1]), "%%:\"%s%%", esc);
			snprintf(pat[2], sizeof(pat[2]), "%%: \"%s%%", esc);
			sqlite3_bind_text(st, P_ID, pat[0], -1,
			    SQLITE_TRANSIENT);
			sqlite3_bind_text(st, P_ATTR1, pat[1], -1,
			    SQLITE_TRANSIENT);
			sqlite3_bind_text(st, P_ATTR2, pat[2], -1,
			    SQLITE_TRANSIENT);
		} else {
			char key_path[300];
			size_t kn = (size_t)(eq - needle);

			while (kn > 0 && needle[kn - 1] == ' ')
				kn--;
			snprintf(key_path, sizeof(key_path), "$.\"%.*s\"",
			    (int)kn, needle);
			sqlite3_bind_text(st, P_PATH, key_path, -1,
			    SQLITE_TRANSIENT);
			while (*v == ' ')
				v++;
			snprintf(pat[0], sizeof(pat[0]), "%s", esc + (v -
			    (eq + 1)));
			sqlite3_bind_text(st, P_VALUE, pat[0], -1,
			    SQLITE_TRANSIENT);
		}
	}
	while (got < n && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_row(st, &out[got++]);
	if (got < n && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return store_dberr(b->s, e, "listing customers");
	}
	sqlite3_reset(st);
	return got;
}

/* A page of rows (see store.h). */
int
store_browse_page(struct store_browser *b, const struct browse_query *bq,
    const struct browse_row *from, int dir, int incl, struct browse_row *out,
    int n, struct err *e)
{
	return page_query(b, bq, from, dir, incl, 0, NULL, out, n, e);
}

/* The next match. */
int
store_browse_find(struct store_browser *b, const struct browse_query *bq,
    const struct browse_row *from, int dir, const char *needle,
    struct browse_row *out, struct err *e)
{
	int find = strchr(needle, '=') != NULL && needle[0] != '=' ? 2 : 1;

	return page_query(b, bq, from, dir, 0, find, needle, out, 1, e);
}

/* count(*) of the rows, all or before row. */
static int64_t
count_query(struct store_browser *b, const struct browse_query *bq,
    const struct browse_row *row, struct err *e)
{
	const char *key = orders[bq->key].key, *tie = orders[bq->key].tie;
	sqlite3_stmt *st;
	struct buf q;
	int64_t n = 0;
	int rc;

	buf_init(&q);
	buf_printf(&q, "SELECT count(*) FROM %s", orders[bq->key].from);
	add_where(&q, bq, 0);
	if (row != NULL)
		buf_printf(&q, " AND (%s, %s) %s (?2, ?3)", key, tie,
		    bq->desc ? ">" : "<");
	st = cached(b, q.data, e);
	buf_release(&q);
	if (st == NULL)
		return -1;
	bind_where(st, bq);
	if (row != NULL)
		bind_key(st, bq, row);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_dberr(b->s, e, "counting customers");
	return n;
}

/* How many rows the query has. */
int64_t
store_browse_count(struct store_browser *b, const struct browse_query *bq,
    struct err *e)
{
	return count_query(b, bq, NULL, e);
}

/* The position of row in the query's order. */
int64_t
store_browse_rank(struct store_browser *b, const struct browse_query *bq,
    const struct browse_row *row, struct err *e)
{
	return count_query(b, bq, row, e);
}

/* One customer's row and attributes. */
int
store_browse_customer(struct store_browser *b, int64_t model_id,
    const char *ext, struct browse_row *r, char **attrs, struct err *e)
{
	sqlite3_stmt *st = cached(b, "SELECT " ROW_COLS ", " CHURN_COL ", "
	    SEGMENT_COL ", c.attrs FROM customers c WHERE c.ext_id = ?2", e);
	int rc;

	if (attrs != NULL)
		*attrs = NULL;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, P_MODEL, model_id);
	sqlite3_bind_text(st, P_KEY, ext, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, r);
		if (attrs != NULL && sqlite3_column_text(st, 10) != NULL)
			*attrs = xstrdup((const char *)sqlite3_column_text(st,
			    10));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(b->s, e, "reading a customer");
	return rc == SQLITE_ROW;
}

/* The names of the segments a customer belongs to, ", "-separated. */
int
store_browse_memberships(struct store_browser *b, int64_t customer_id,
    char *out, size_t len, struct err *e)
{
	sqlite3_stmt *st = cached(b, "SELECT g.name FROM segment_members sm "
	    "JOIN segments g ON g.id = sm.segment_id WHERE sm.customer_id = ?1 "
	    "ORDER BY g.kind = 'rfm' DESC, g.kind, g.name", e);
	size_t used = 0;
	int rc;

	out[0] = '\0';
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, customer_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
			    used ? ", " : "", t ? t : "");
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_dberr(b->s, e, "reading a customer's segments");
	return 0;
}

/* Every segment, by kind and name, without figures. */
int
store_browse_segments(struct store *s, struct browse_segment **out,
    size_t *n, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT id, name, kind, "
	    "coalesce(created, 0), definition FROM segments "
	    "ORDER BY kind, name", e);
	struct browse_segment *v = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct browse_segment *g;
		const unsigned char *t;

		v = xreallocarray(v, cnt + 1, sizeof(*v));
		g = &v[cnt++];
		memset(g, 0, sizeof(*g));
		g->id = sqlite3_column_int64(st, 0);
		t = sqlite3_column_text(st, 1);
		snprintf(g->name, sizeof(g->name), "%s", t ? (const char *)t :
		    "");
		t = sqlite3_column_text(st, 2);
		snprintf(g->kind, sizeof(g->kind), "%s", t ? (const char *)t :
		    "");
		g->created = sqlite3_column_int64(st, 3);
		t = sqlite3_column_text(st, 4);
		snprintf(g->definition, sizeof(g->definition), "%s", t ?
		    (const char *)t : "");
		g->size = -1;		/* not counted yet */
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_dberr(s, e, "listing segments");
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* One segment's size, revenue and churn-risk histogram. */
int
store_browse_segment_stats(struct store_browser *b, int64_t model_id,
    struct browse_segment *g, struct err *e)
{
	sqlite3_stmt *st = b->stats;
	int rc;

	g->size = g->scored = 0;
	g->spend = g->churn_sum = 0;
	memset(g->hist, 0, sizeof(g->hist));
	sqlite3_bind_int64(st, 1, model_id);
	sqlite3_bind_int64(st, 2, g->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int bin = sqlite3_column_int(st, 0);
		int64_t k = sqlite3_column_int64(st, 1);

		g->size += k;
		g->spend += sqlite3_column_double(st, 2);
		if (bin >= 0 && bin < 10) {
			g->hist[bin] += k;
			g->scored += k;
			g->churn_sum += sqlite3_column_double(st, 3);
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_dberr(b->s, e, "reading a segment's figures");
	return 0;
}

/* Store-wide figures: revenue; the model's scores. */
int
store_browse_totals(struct store_browser *b, int64_t model_id,
    struct browse_totals *t, struct err *e)
{
	sqlite3_stmt *st = cached(b, "SELECT (SELECT coalesce(sum(spend), 0) "
	    "FROM customers), count(*), coalesce(max(at), 0), avg(churn), "
	    "coalesce(sum(churn >= 0.5), 0) FROM scores WHERE model_id = ?1",
	    e);
	int rc;

	memset(t, 0, sizeof(*t));
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, model_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		t->spend = sqlite3_column_double(st, 0);
		t->scored = sqlite3_column_int64(st, 1);
		t->score_at = sqlite3_column_int64(st, 2);
		t->mean_churn = sqlite3_column_type(st, 3) == SQLITE_NULL ?
		    NAN : sqlite3_column_double(st, 3);
		t->high_risk = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_dberr(b->s, e, "reading the store's totals");
	return 0;
}
