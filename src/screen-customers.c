/*
 * screen-customers.c: the customers table (id, events, first and last
 * seen, spend, RFM segment, churn risk with a bar), every customer or a
 * segment's members. Holds one visible page and moves by keyset
 * (store_browse_page), so 100,000 customers scroll as fast as 100; the
 * position and the count come from idle steps. Sorts by any column (s,
 * left/right, o), searches (/ n N), filters with the segment filter
 * language (f) and keeps only churned customers (c).
 */
#include "config.h"
#include "screen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "render.h"
#include "segment.h"
#include "util.h"

/* The columns, in table order; each sorts by its key. */
static const struct column {
	const char	*title;
	const char	*sort_name;	/* "sorted by ..." */
	enum browse_key	 key;
	int		 w;		/* width at 80 columns */
	int		 wmax;		/* width it may grow to */
	int		 right;		/* right-aligned */
	int		 desc;		/* the natural direction */
	int		 drop;		/* dropped first when narrow: higher */
} columns[] = {
	{ "customer", "id", BROWSE_ID, 10, 28, 0, 0, 0 },
	{ "events", "events", BROWSE_EVENTS, 7, 8, 1, 1, 1 },
	{ "first seen", "first seen", BROWSE_FIRST, 10, 10, 0, 1, 3 },
	{ "last seen", "last seen", BROWSE_LAST, 10, 10, 0, 1, 0 },
	{ "spend", "spend", BROWSE_SPEND, 9, 12, 1, 1, 0 },
	{ "segment", "RFM segment", BROWSE_SEGMENT, 12, 22, 0, 0, 2 },
	{ "churn risk", "churn risk", BROWSE_CHURN, 12, 24, 0, 1, 0 },
};
#define N_COLS	(int)(sizeof(columns) / sizeof(columns[0]))

struct cust {
	struct browse_query	 q;
	struct filter		 filter;
	int			 has_filter;
	char			 filter_text[256];
	int			 churned;
	char			 segment_name[64];
	struct browse_row	*rows;	/* the visible page; [0] on top */
	int			 n, cap;
	int			 page;		/* rows the table shows */
	int64_t			 pos;		/* of rows[0]; -1 unknown */
	int64_t			 total;		/* -1 unknown */
	int			 need_count, need_rank;
	char			 search[128];
	int			 width[N_COLS];	/* 0: not shown */
};

/* The table's height for the current screen. */
static int
page_rows(struct app *a)
{
	int rows, cols;

	render_size(a->r, &rows, &cols);
	return rows - 4 > 1 ? rows - 4 : 1;
}

/* Room for at least n rows. */
static void
reserve(struct cust *c, int n)
{
	if (n > c->cap) {
		c->cap = n;
		c->rows = xreallocarray(c->rows, (size_t)n, sizeof(*c->rows));
	}
}

/*
 * Fill the page around anchor: anchor (when in the set) on screen row
 * at, the rows before it above, after it below; anchor NULL: from the
 * first row (dir > 0) or ending at the last (dir < 0). 0 or -1 and e.
 */
static int
place(struct screen *s, const struct browse_row *anchor, int at, int dir,
    struct err *e)
{
	struct app *a = s->app;
	struct cust *c = s->priv;
	struct browse_row *before, *after;
	int nb = 0, na = 0, i, page = c->page;

	if (anchor != NULL && ((c->q.key == BROWSE_CHURN &&
	    isnan(anchor->churn)) || (c->q.key == BROWSE_SEGMENT &&
	    anchor->segment[0] == '\0')))
		anchor = NULL;		/* not in this order's set */
	before = xcalloc((size_t)page, sizeof(*before));
	after = xcalloc((size_t)page, sizeof(*after));
	if (anchor == NULL && dir < 0) {
		if ((nb = store_browse_page(a->br, &c->q, NULL, -1, 0, before,
		    page, e)) < 0)
			goto fail;
	} else {
		if (at > page - 1)
			at = page - 1;
		if (anchor != NULL && at > 0 && (nb = store_browse_page(a->br,
		    &c->q, anchor, -1, 0, before, at, e)) < 0)
			goto fail;
		if ((na = store_browse_page(a->br, &c->q, anchor, 1, 1, after,
		    page - nb, e)) < 0)
			goto fail;
		/* near the end: more rows above to fill the page */
		if (anchor != NULL && nb + na < page && nb == at) {
			int more;
			struct browse_row *from = nb > 0 ? &before[nb - 1] :
			    (struct browse_row *)anchor;

			if ((more = store_browse_page(a->br, &c->q, from, -1,
			    0, before + nb, page - nb - na, e)) < 0)
				goto fail;
			nb += more;
		}
	}
	reserve(c, page);
	c->n = 0;
	for (i = nb - 1; i >= 0; i--)
		c->rows[c->n++] = before[i];
	for (i = 0; i < na; i++)
		c->rows[c->n++] = after[i];
	s->list.n = c->n;
	s->list.top = 0;
	if (anchor == NULL)
		s->list.cur = dir < 0 ? c->n - 1 : 0;
	else
		s->list.cur = nb < c->n ? nb : c->n - 1;
	if (s->list.cur < 0)
		s->list.cur = 0;
	if (anchor == NULL && dir > 0)
		c->pos = 0;
	else if (anchor == NULL && c->total >= 0)
		c->pos = c->total - c->n;
	else {
		c->pos = -1;
		c->need_rank = 1;
	}
	free(before);
	free(after);
	return 0;
fail:
	free(before);
	free(after);
	return -1;
}

/* Re-place around the row under the cursor (a new order or page size). */
static void
replace_here(struct screen *s)
{
	struct cust *c = s->priv;
	struct browse_row anchor;
	struct err e;
	int at = s->list.cur;

	err_clear(&e);
	if (c->n > 0) {
		anchor = c->rows[s->list.cur];
		if (place(s, &anchor, at, 1, &e) < 0)
			tui_note(s->app, 1, "%s", e.msg);
		else if (c->n == 0 && place(s, NULL, 0, 1, &e) < 0)
			tui_note(s->app, 1, "%s", e.msg);
	} else if (place(s, NULL, 0, 1, &e) < 0)
		tui_note(s->app, 1, "%s", e.msg);
}

/*
 * The order or the set changed: count again and start at the top of the
 * new order (the first rows are what a new order is asked for); keep
 * the customer under the cursor when only the figures changed (keep).
 */
static void
requery(struct screen *s, int keep)
{
	struct cust *c = s->priv;
	struct err e;

	c->total = -1;
	c->need_count = 1;
	err_clear(&e);
	if (keep)
		replace_here(s);
	else if (place(s, NULL, 0, 1, &e) < 0)
		tui_note(s->app, 1, "%s", e.msg);
}

/*
 * Which columns fit and how wide they are: the id as wide as the longest
 * on the page (within its bounds), then what is left to the segment and
 * the churn bar, then the rest.
 */
static void
layout(struct cust *c, struct render *r, int cols)
{
	static const enum browse_key share[] = {
		BROWSE_SEGMENT, BROWSE_CHURN, BROWSE_ID, BROWSE_SPEND,
		BROWSE_EVENTS
	};
	int used = 2, i, k, extra, drop, idw = 0;
	size_t j;

	for (i = 0; i < c->n; i++) {
		int w = render_width(r, c->rows[i].c.ext_id);

		if (w > idw)
			idw = w;
	}
	for (i = 0; i < N_COLS; i++) {
		c->width[i] = columns[i].w;
		used += columns[i].w + 1;
	}
	/* drop the least needed columns until the rest fits */
	for (drop = 3; drop > 0 && used > cols; drop--)
		for (i = 0; i < N_COLS; i++)
			if (columns[i].drop == drop && c->width[i] > 0) {
				used -= c->width[i] + 1;
				c->width[i] = 0;
			}
	extra = cols - used;
	for (j = 0; j < sizeof(share) / sizeof(share[0]) && extra > 0; j++) {
		for (i = 0; i < N_COLS; i++)
			if (columns[i].key == share[j])
				break;
		if (c->width[i] == 0)
			continue;
		k = columns[i].wmax - columns[i].w;
		if (share[j] == BROWSE_ID)
			k = idw - columns[i].w > 0 ? idw - columns[i].w : 0;
		if (k > columns[i].wmax - columns[i].w)
			k = columns[i].wmax - columns[i].w;
		if (k > extra)
			k = extra;
		c->width[i] += k;
		extra -= k;
	}
}

/* The summary line: order, restrictions. */
static void
draw_summary(struct screen *s, struct render *r, int cols)
{
	struct app *a = s->app;
	struct cust *c = s->priv;
	char line[768], d[32];
	size_t used;
	int i;

	for (i = 0; i < N_COLS; i++)
		if (columns[i].key == c->q.key)
			break;
	used = (size_t)snprintf(line, sizeof(line), " sorted by %s %s",
	    columns[i].sort_name, render_glyph(r, c->q.desc ? GL_DOWN :
	    GL_UP));
	if (c->q.segment_id > 0)
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    "%ssegment %s", render_glyph(r, GL_SEP), c->segment_name);
	if (c->churned)
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    "%schurned only: no event in the %d days before %s",
		    render_glyph(r, GL_SEP), a->horizon_days,
		    render_fmt_date(a->last_ts, 0, d, sizeof(d)));
	if (c->has_filter && used < sizeof(line))
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    "%sfilter: %s", render_glyph(r, GL_SEP), c->filter_text);
	if (c->q.key == BROWSE_CHURN && used < sizeof(line))
		snprintf(line + used, sizeof(line) - used, "%sscored customers "
		    "only", render_glyph(r, GL_SEP));
	else if (c->q.key == BROWSE_SEGMENT && used < sizeof(line))
		snprintf(line + used, sizeof(line) - used, "%scustomers with "
		    "an RFM segment only", render_glyph(r, GL_SEP));
	render_textw(r, 1, 0, cols, ROLE_NORMAL, line, 0);
}

/* One cell of a row. */
static int
draw_cell(struct render *r, int y, int x, int ci, int w,
    const struct browse_row *row, enum role role)
{
	char b[64];

	switch (columns[ci].key) {
	case BROWSE_ID:
		return render_textw(r, y, x, w, role, row->c.ext_id, 0);
	case BROWSE_EVENTS:
		return render_textw(r, y, x, w, role, render_fmt_int(
		    row->c.n_events, b, sizeof(b)), 1);
	case BROWSE_FIRST:
		return render_textw(r, y, x, w, role, render_fmt_date(
		    row->c.first_ts, 0, b, sizeof(b)), 0);
	case BROWSE_LAST:
		return render_textw(r, y, x, w, role, render_fmt_date(
		    row->c.last_ts, 0, b, sizeof(b)), 0);
	case BROWSE_SPEND:
		snprintf(b, sizeof(b), "%.2f", row->c.spend);
		return render_textw(r, y, x, w, role, b, 1);
	case BROWSE_SEGMENT:
		return render_textw(r, y, x, w, role, row->segment[0] ?
		    row->segment : "-", 0);
	case BROWSE_CHURN:
		if (isnan(row->churn))
			return render_textw(r, y, x, w, role, "-", 0);
		snprintf(b, sizeof(b), "%.2f ", row->churn);
		render_textw(r, y, x, 5, role, b, 0);
		render_heat(r, y, x + 5, w - 5, row->churn, 1.0, 0);
		return x + w;
	default:
		return x + w;
	}
}

/* The table. */
static void
cust_draw(struct screen *s, struct render *r)
{
	struct app *a = s->app;
	struct cust *c = s->priv;
	char n1[32], n2[32], n3[32];
	int rows, cols, i, x, y;

	render_size(r, &rows, &cols);
	layout(c, r, cols);
	draw_summary(s, r, cols);
	x = 2;
	render_fill(r, 2, 0, cols, ROLE_HEADER);
	for (i = 0; i < N_COLS; i++) {
		char t[48];

		if (c->width[i] == 0)
			continue;
		snprintf(t, sizeof(t), "%s%s", columns[i].title,
		    columns[i].key == c->q.key ? render_glyph(r, c->q.desc ?
		    GL_DOWN : GL_UP) : "");
		x = render_textw(r, 2, x, c->width[i], ROLE_HEADER, t,
		    columns[i].right) + 1;
	}
	s->list.y0 = 3;
	s->list.page = c->page;
	s->list.n = c->n;
	if (c->n == 0) {
		render_text(r, 4, 2, ROLE_NOTE, c->has_filter || c->churned ||
		    c->q.key == BROWSE_CHURN || c->q.key == BROWSE_SEGMENT ||
		    c->q.segment_id > 0 ? "no customers match" :
		    "the store has no customers yet (journeyscope import)");
		if (c->q.key == BROWSE_CHURN && !c->has_filter && !c->churned)
			render_text(r, 5, 2, ROLE_DIM, a->has_model ?
			    "no scores for this model yet: M, then r scores "
			    "every customer" :
			    "no model: M, then t trains one");
		if (c->q.key == BROWSE_SEGMENT && !c->has_filter)
			render_text(r, 5, 2, ROLE_DIM, "no RFM segments yet "
			    "(journeyscope segment DB rfm)");
	}
	for (i = 0; i < c->n && i < c->page; i++) {
		const struct browse_row *row = &c->rows[i];
		int sel = i == s->list.cur, j;
		enum role role = sel ? ROLE_SELECTED : ROLE_NORMAL;

		y = 3 + i;
		render_fill(r, y, 0, cols, role);
		if (sel)
			render_text(r, y, 0, role, render_glyph(r, GL_CURSOR));
		x = 2;
		for (j = 0; j < N_COLS; j++)
			if (c->width[j] > 0)
				x = draw_cell(r, y, x, j, c->width[j], row,
				    role) + 1;
	}
	if (c->n == 0)
		snprintf(s->info, sizeof(s->info), "0 rows ");
	else if (c->pos >= 0 && c->total >= 0)
		snprintf(s->info, sizeof(s->info), "rows %s-%s of %s ",
		    render_fmt_int(c->pos + 1, n1, sizeof(n1)),
		    render_fmt_int(c->pos + c->n, n2, sizeof(n2)),
		    render_fmt_int(c->total, n3, sizeof(n3)));
	else
		snprintf(s->info, sizeof(s->info), "rows %s of %s ",
		    c->pos >= 0 ? render_fmt_int(c->pos + 1, n1, sizeof(n1)) :
		    "?", c->total >= 0 ? render_fmt_int(c->total, n3,
		    sizeof(n3)) : "...");
}

/* Move the cursor one row, fetching a row past the page's edge. */
static int
step(struct screen *s, int dir)
{
	struct cust *c = s->priv;
	struct browse_row row;
	struct err e;
	int got;

	err_clear(&e);
	if (c->n == 0)
		return TUI_HANDLED;
	if (dir > 0 && s->list.cur < c->n - 1) {
		s->list.cur++;
		return TUI_HANDLED | TUI_REDRAW;
	}
	if (dir < 0 && s->list.cur > 0) {
		s->list.cur--;
		return TUI_HANDLED | TUI_REDRAW;
	}
	got = store_browse_page(s->app->br, &c->q, dir > 0 ?
	    &c->rows[c->n - 1] : &c->rows[0], dir, 0, &row, 1, &e);
	if (got < 0) {
		tui_note(s->app, 1, "%s", e.msg);
		return TUI_HANDLED;
	}
	if (got == 0)
		return TUI_HANDLED;
	if (c->n < c->page) {
		/* a short page (the set grew): add, do not scroll */
		reserve(c, c->n + 1);
		if (dir > 0) {
			c->rows[c->n++] = row;
			s->list.cur = c->n - 1;
		} else {
			memmove(c->rows + 1, c->rows, sizeof(*c->rows) *
			    (size_t)c->n++);
			c->rows[0] = row;
			if (c->pos > 0)
				c->pos--;
		}
	} else if (dir > 0) {
		memmove(c->rows, c->rows + 1, sizeof(*c->rows) *
		    (size_t)(c->n - 1));
		c->rows[c->n - 1] = row;
		if (c->pos >= 0)
			c->pos++;
	} else {
		memmove(c->rows + 1, c->rows, sizeof(*c->rows) *
		    (size_t)(c->n - 1));
		c->rows[0] = row;
		if (c->pos > 0)
			c->pos--;
	}
	s->list.n = c->n;
	return TUI_HANDLED | TUI_REDRAW;
}

/* A page down (dir > 0) or up, the cursor staying on its screen row. */
static int
page(struct screen *s, int dir)
{
	struct cust *c = s->priv;
	struct browse_row *more;
	struct err e;
	int got, keep;

	err_clear(&e);
	if (c->n == 0)
		return TUI_HANDLED;
	more = xcalloc((size_t)c->page, sizeof(*more));
	got = store_browse_page(s->app->br, &c->q, dir > 0 ?
	    &c->rows[c->n - 1] : &c->rows[0], dir, 0, more, c->page, &e);
	if (got < 0) {
		tui_note(s->app, 1, "%s", e.msg);
		free(more);
		return TUI_HANDLED;
	}
	if (got == 0) {
		s->list.cur = dir > 0 ? c->n - 1 : 0;
		free(more);
		return TUI_HANDLED | TUI_REDRAW;
	}
	reserve(c, c->page);
	keep = c->n - got > 0 ? c->n - got : 0;
	if (dir > 0) {
		int i;

		memmove(c->rows, c->rows + (c->n - keep), sizeof(*c->rows) *
		    (size_t)keep);
		for (i = 0; i < got && keep + i < c->page; i++)
			c->rows[keep + i] = more[i];
		if (c->pos >= 0)
			c->pos += c->n - keep;
		c->n = keep + i;
		if (got < c->page)
			s->list.cur = c->n - 1;
	} else {
		int i;

		memmove(c->rows + got, c->rows, sizeof(*c->rows) *
		    (size_t)keep);
		for (i = 0; i < got; i++)
			c->rows[got - 1 - i] = more[i];
		if (c->pos >= 0)
			c->pos = c->pos - got >= 0 ? c->pos - got : -1;
		c->n = got + keep;
		if (got < c->page)
			s->list.cur = 0;
	}
	free(more);
	s->list.n = c->n;
	if (s->list.cur >= c->n)
		s->list.cur = c->n - 1;
	return TUI_HANDLED | TUI_REDRAW;
}

/* Search from the cursor's row in direction dir, wrapping once. */
static void
search(struct screen *s, int dir)
{
	struct cust *c = s->priv;
	struct browse_row found;
	struct err e;
	int rc, wrapped = 0;

	err_clear(&e);
	if (c->search[0] == '\0') {
		tui_note(s->app, 0, "no search yet: / searches");
		return;
	}
	rc = store_browse_find(s->app->br, &c->q, c->n > 0 ?
	    &c->rows[s->list.cur] : NULL, dir, c->search, &found, &e);
	if (rc == 0 && c->n > 0) {
		wrapped = 1;
		rc = store_browse_find(s->app->br, &c->q, NULL, dir, c->search,
		    &found, &e);
	}
	if (rc < 0) {
		tui_note(s->app, 1, "%s", e.msg);
		return;
	}
	if (rc == 0) {
		tui_note(s->app, 0, "no customer matches '%s'", c->search);
		return;
	}
	if (place(s, &found, s->list.cur, 1, &e) < 0) {
		tui_note(s->app, 1, "%s", e.msg);
		return;
	}
	if (wrapped)
		tui_note(s->app, 0, "search wrapped to the %s", dir > 0 ?
		    "top" : "bottom");
}

/* The prompt's answer: search. */
static void
search_done(struct screen *s, const char *text)
{
	struct cust *c = s->priv;

	if (text[0] == '\0')
		return;
	snprintf(c->search, sizeof(c->search), "%s", text);
	search(s, 1);
}

/* The prompt's answer: a filter expression ("" removes it). */
static void
filter_done(struct screen *s, const char *text)
{
	struct cust *c = s->priv;
	struct filter f;
	struct err e;
	int col = 0;

	err_clear(&e);
	if (text[0] == '\0') {
		if (!c->has_filter)
			return;
		filter_release(&c->filter);
		c->has_filter = 0;
		c->filter_text[0] = '\0';
		c->q.filter = NULL;
		requery(s, 0);
		tui_note(s->app, 0, "filter removed");
		return;
	}
	if (filter_compile(text, s->app->last_ts, &f, &col, &e) < 0) {
		tui_note(s->app, 1, "filter: %s", e.msg);
		return;
	}
	if (c->has_filter)
		filter_release(&c->filter);
	c->filter = f;
	c->has_filter = 1;
	snprintf(c->filter_text, sizeof(c->filter_text), "%s", text);
	c->q.filter = &c->filter;
	requery(s, 0);
}

/* Sort by the column at index i. */
static void
sort_by(struct screen *s, int i)
{
	struct cust *c = s->priv;

	c->q.key = columns[i].key;
	c->q.desc = columns[i].desc;
	requery(s, 0);
}

/* The index of the sorted column. */
static int
sorted_column(const struct cust *c)
{
	int i;

	for (i = 0; i < N_COLS; i++)
		if (columns[i].key == c->q.key)
			return i;
	return 0;
}

/* Actions. */
static int
cust_action(struct screen *s, enum action act)
{
	struct app *a = s->app;
	struct cust *c = s->priv;
	struct err e;

	err_clear(&e);
	switch (act) {
	case ACT_UP:
		return step(s, -1);
	case ACT_DOWN:
		return step(s, 1);
	case ACT_PGDN:
		return page(s, 1);
	case ACT_PGUP:
		return page(s, -1);
	case ACT_TOP:
		if (place(s, NULL, 0, 1, &e) < 0)
			tui_note(a, 1, "%s", e.msg);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_BOTTOM:
		if (place(s, NULL, 0, -1, &e) < 0)
			tui_note(a, 1, "%s", e.msg);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_ENTER:
		if (c->n == 0)
			return TUI_HANDLED;
		if (tui_push(a, &screen_journey, c->rows[s->list.cur].c.ext_id,
		    &e) < 0)
			tui_note(a, 1, "%s", e.msg);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_SORT:
	case ACT_RIGHT:
		sort_by(s, (sorted_column(c) + 1) % N_COLS);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_LEFT:
		sort_by(s, (sorted_column(c) + N_COLS - 1) % N_COLS);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_ORDER:
		c->q.desc = !c->q.desc;
		requery(s, 0);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_CHURNED:
		c->churned = !c->churned;
		c->q.before = c->churned ? a->last_ts -
		    (int64_t)a->horizon_days * 86400 : 0;
		requery(s, 0);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_FILTER:
		tui_prompt(a, s, "filter (e.g. spend > 100 and recency < 30; "
		    "empty: none): ", c->filter_text, filter_done);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_SEARCH:
		tui_prompt(a, s, "search id or attribute (key=value): ", "",
		    search_done);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_NEXT:
		search(s, 1);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_PREV:
		search(s, -1);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_RESIZE:
		c->page = page_rows(a);
		replace_here(s);
		return TUI_REDRAW;
	case ACT_RELOAD:
		c->q.model_id = a->has_model ? a->mrow.id : 0;
		if (c->churned)
			c->q.before = a->last_ts - (int64_t)a->horizon_days *
			    86400;
		requery(s, 1);
		return TUI_REDRAW;
	default:
		return 0;
	}
}

/* Idle: the count, then the position. */
static int
cust_idle(struct screen *s)
{
	struct cust *c = s->priv;
	struct err e;

	err_clear(&e);
	if (c->need_count) {
		c->need_count = 0;
		if ((c->total = store_browse_count(s->app->br, &c->q, &e)) < 0)
			tui_note(s->app, 1, "%s", e.msg);
		if (c->total >= 0 && c->pos < 0 && !c->need_rank && c->n > 0)
			c->need_rank = 1;
		return TUI_IDLE_MORE;
	}
	if (c->need_rank) {
		c->need_rank = 0;
		if (c->n > 0 && (c->pos = store_browse_rank(s->app->br, &c->q,
		    &c->rows[0], &e)) < 0) {
			tui_note(s->app, 1, "%s", e.msg);
			c->pos = -1;
		}
		return TUI_IDLE_DONE;
	}
	return TUI_IDLE_DONE;
}

/* Open: every customer, or a segment's members (arg: the segment id). */
static int
cust_open(struct screen *s, struct app *a, struct err *e)
{
	struct cust *c = xcalloc(1, sizeof(*c));

	s->priv = c;
	c->q.key = BROWSE_LAST;
	c->q.desc = 1;
	c->q.model_id = a->has_model ? a->mrow.id : 0;
	c->page = page_rows(a);
	c->total = -1;
	c->pos = -1;
	if (s->arg[0] != '\0') {
		struct browse_segment *g = NULL;
		size_t n = 0, i;

		c->q.segment_id = strtoll(s->arg, NULL, 10);
		if (store_browse_segments(a->s, &g, &n, e) < 0) {
			free(c);
			return -1;
		}
		for (i = 0; i < n; i++)
			if (g[i].id == c->q.segment_id)
				snprintf(c->segment_name,
				    sizeof(c->segment_name), "%s", g[i].name);
		free(g);
		snprintf(s->crumb, sizeof(s->crumb), "%s", c->segment_name);
		c->need_count = 1;
	} else
		c->total = a->n_customers;
	if (place(s, NULL, 0, 1, e) < 0) {
		free(c->rows);
		free(c);
		return -1;
	}
	return 0;
}

/* Close. */
static void
cust_close(struct screen *s)
{
	struct cust *c = s->priv;

	if (c->has_filter)
		filter_release(&c->filter);
	free(c->rows);
	free(c);
}

const struct screen_ops screen_customers = {
	"customers", &keys_customers, cust_open, cust_close, cust_draw,
	cust_action, cust_idle
};
