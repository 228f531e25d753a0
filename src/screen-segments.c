/*
 * screen-segments.c: every segment of the store with its size, share of
 * revenue, mean churn risk and a churn-risk histogram (the current
 * model's scores), and what defines it. The names come at once; the
 * figures one segment per idle step, since each reads all its members.
 * Below the table, the top churn triggers of the segment under the
 * cursor (trigger.h: a few seconds of model runs per segment), computed
 * in a worker thread with its own store connection when the cursor
 * rests on a segment, kept once computed. Enter lists a segment's
 * customers (screen-customers.c).
 */
#include "config.h"
#include "screen.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "explain.h"
#include "render.h"
#include "store.h"
#include "trigger.h"
#include "util.h"

/* Triggers shown per segment. */
#define SEG_TRIGGERS	3

/* The triggers of one segment in a thread; the mutex guards done, stop. */
struct trig_job {
	pthread_t		 th;
	pthread_mutex_t		 mu;
	int			 done, stop;
	char			 path[4096];
	const struct nn_model	*m;	/* borrowed: joined before it goes */
	int64_t			 segment_id;
	size_t			 idx;		/* in the screen's list */
	int			 rc;
	struct err		 e;
	char			 text[768];
};

struct segs {
	struct browse_segment	*g;
	size_t			 n;
	size_t			 next;		/* figures computed so far */
	struct browse_totals	 tot;
	char			**trig;	/* (n) triggers' text, or NULL */
	struct trig_job		*job;
	int64_t			 grid[5][5];	/* RFM cells, [r-1][f-1] */
	int64_t			 grid_max;	/* 0: no RFM scores */
};

/* Rows of the RFM map: a title, a header, five rows of cells. */
#define GRID_ROWS	7

/* A short reading of a segment's definition. */
static void
describe(const struct browse_segment *g, char *out, size_t len)
{
	const char *def = g->definition;
	double a, b, c, d;
	char t[64];
	size_t used;
	int k;

	if (strcmp(g->kind, "rfm") == 0 && explain_json_get(def, "r.0", &a,
	    NULL, 0) == 1 && explain_json_get(def, "r.1", &b, NULL, 0) == 1 &&
	    explain_json_get(def, "f.0", &c, NULL, 0) == 1 &&
	    explain_json_get(def, "f.1", &d, NULL, 0) == 1) {
		snprintf(out, len, "recency %g-%g, frequency %g-%g", a, b, c,
		    d);
		return;
	}
	if (strcmp(g->kind, "cluster") == 0 && explain_json_get(def,
	    "over_represented.0.type", NULL, t, sizeof(t)) == 2) {
		used = (size_t)snprintf(out, len, "more");
		for (k = 0; k < 3; k++) {
			char path[64];

			snprintf(path, sizeof(path), "over_represented.%d.type",
			    k);
			if (explain_json_get(def, path, NULL, t,
			    sizeof(t)) != 2)
				break;
			snprintf(path, sizeof(path), "over_represented.%d.lift",
			    k);
			if (explain_json_get(def, path, &a, NULL, 0) != 1)
				a = 0;
			if (used < len)
				used += (size_t)snprintf(out + used, len - used,
				    "%s %s x%.1f", k ? "," : "", t, a);
		}
		return;
	}
	snprintf(out, len, "%.*s", (int)len - 1, def[0] ? def : "-");
}

/* The worker's progress: the stop flag. */
static int
trig_progress(void *ctx, int64_t done, int64_t total)
{
	struct trig_job *jb = ctx;
	int stop;

	(void)done;
	(void)total;
	pthread_mutex_lock(&jb->mu);
	stop = jb->stop;
	pthread_mutex_unlock(&jb->mu);
	return stop;
}

/* The worker: its own connection; the top triggers as one line. */
static void *
trig_main(void *arg)
{
	struct trig_job *jb = arg;
	struct trig_catalog *cat = NULL;
	struct trig_segment ts;
	struct store *st;
	size_t i, used = 0;
	int k = 0;

	memset(&ts, 0, sizeof(ts));
	err_clear(&jb->e);
	jb->rc = -1;
	if ((st = store_open(jb->path, STORE_READONLY, &jb->e)) != NULL &&
	    (cat = trig_catalog_new(jb->m)) != NULL &&
	    trig_segment(st, jb->m, cat, jb->segment_id, 0, TRIG_CHURN,
	    trig_progress, jb, &ts, &jb->e) == 0) {
		for (i = 0; i < ts.n && k < SEG_TRIGGERS; i++) {
			const struct trig_stat *t = &ts.stat[i];

			if (!t->trigger)
				continue;
			if (used < sizeof(jb->text))
				used += (size_t)snprintf(jb->text + used,
				    sizeof(jb->text) - used, "%s%s (deleting "
				    "it %+.2f, odds ratio %.1f)", k ? "; " : "",
				    trig_phrase(cat, t->b), -t->effect,
				    t->odds);
			k++;
		}
		if (k == 0)
			snprintf(jb->text, sizeof(jb->text), "no behaviour "
			    "clearly drives churn here");
		jb->rc = 0;
	}
	trig_segment_release(&ts);
	trig_catalog_free(cat);
	store_close(st);
	pthread_mutex_lock(&jb->mu);
	jb->done = 1;
	pthread_mutex_unlock(&jb->mu);
	return NULL;
}

/* Stop the worker (at its next progress report) and wait for it. */
static void
trig_reap(struct segs *g, int stop)
{
	struct trig_job *jb = g->job;

	if (jb == NULL)
		return;
	if (stop) {
		pthread_mutex_lock(&jb->mu);
		jb->stop = 1;
		pthread_mutex_unlock(&jb->mu);
	}
	pthread_join(jb->th, NULL);
	pthread_mutex_destroy(&jb->mu);
	free(jb);
	g->job = NULL;
}

/* Start the worker on segment i. */
static void
trig_start(struct screen *s, size_t i)
{
	struct segs *g = s->priv;
	struct trig_job *jb = xcalloc(1, sizeof(*jb));

	pthread_mutex_init(&jb->mu, NULL);
	snprintf(jb->path, sizeof(jb->path), "%s", s->app->path);
	jb->m = s->app->m;
	jb->segment_id = g->g[i].id;
	jb->idx = i;
	if (pthread_create(&jb->th, NULL, trig_main, jb) != 0) {
		pthread_mutex_destroy(&jb->mu);
		free(jb);
		g->trig[i] = xstrdup("(cannot start a thread)");
		return;
	}
	g->job = jb;
}

/* The triggers pane: rows y and y + 1. */
static void
draw_triggers(struct screen *s, struct render *r, int y, int cols)
{
	struct app *a = s->app;
	struct segs *g = s->priv;
	const struct browse_segment *sg = &g->g[s->list.cur];
	char b[160];
	const char *t;

	render_hline(r, y, 0, cols, ROLE_BORDER);
	snprintf(b, sizeof(b), " top churn triggers in %s ", sg->name);
	render_text(r, y, 2, ROLE_HEADER, b);
	if (a->m == NULL)
		t = a->has_model ? a->model_note : "triggers need a model: M, "
		    "then t trains one";
	else if (g->trig[s->list.cur] != NULL)
		t = g->trig[s->list.cur];
	else
		t = "computing (the model runs over the segment's customers, "
		    "a few seconds)";
	render_textw(r, y + 1, 1, cols - 2, g->trig[s->list.cur] != NULL &&
	    a->m != NULL ? ROLE_NORMAL : ROLE_DIM, t, 0);
}

/*
 * The 5x5 RFM map as a heat map of customer counts, recency down (5 at
 * the top), frequency across; the cells of the selected RFM segment are
 * marked with a glyph as well as the selected role, so that colour is not
 * the only sign.
 */
static void
draw_grid(struct screen *s, struct render *r, int y, int cols)
{
	struct segs *g = s->priv;
	const struct browse_segment *sg = &g->g[s->list.cur];
	double lo[2] = { 0, 0 }, hi[2] = { 0, 0 };
	int rr, f, x, mine, sel = strcmp(sg->kind, "rfm") == 0;
	char num[32];

	if (sel && (explain_json_get(sg->definition, "r.0", &lo[0], NULL,
	    0) != 1 || explain_json_get(sg->definition, "r.1", &hi[0], NULL,
	    0) != 1 || explain_json_get(sg->definition, "f.0", &lo[1], NULL,
	    0) != 1 || explain_json_get(sg->definition, "f.1", &hi[1], NULL,
	    0) != 1))
		sel = 0;
	render_hline(r, y, 0, cols, ROLE_BORDER);
	x = render_text(r, y, 2, ROLE_HEADER, " RFM map: customers per cell, "
	    "recency score down, frequency across");
	if (sel)
		render_printf(r, y, x, ROLE_HEADER, "; * %s ", sg->name);
	x = 8;
	render_text(r, y + 1, 2, ROLE_HEADER, "R\\F");
	for (f = 1; f <= 5; f++)
		render_printf(r, y + 1, x + (f - 1) * 16, ROLE_HEADER,
		    "%9d", f);
	for (rr = 5; rr >= 1; rr--) {
		int yy = y + 2 + (5 - rr);

		render_printf(r, yy, 2, ROLE_HEADER, "%d", rr);
		for (f = 1; f <= 5; f++) {
			int64_t c = g->grid[rr - 1][f - 1];
			int cx = x + (f - 1) * 16;

			if (cx + 15 > cols)
				break;
			mine = sel && rr >= lo[0] && rr <= hi[0] && f >= lo[1] &&
			    f <= hi[1];
			snprintf(num, sizeof(num), "%s%lld", mine ? "*" : "",
			    (long long)c);
			render_printf(r, yy, cx, mine ? ROLE_SELECTED :
			    ROLE_NORMAL, "%9s ", num);
			render_heat(r, yy, cx + 10, 5, (double)c,
			    (double)g->grid_max, 0);
		}
	}
}

/* The table. */
static void
segs_draw(struct screen *s, struct render *r)
{
	struct segs *g = s->priv;
	char b[128], n1[32];
	int rows, cols, i, y, x, wname, wdef, grid;

	render_size(r, &rows, &cols);
	/* the RFM map below the table when there is room */
	grid = g->grid_max > 0 && g->n > 0 && rows >= 24 + GRID_ROWS &&
	    cols >= 90;
	s->list.y0 = 3;
	s->list.page = rows - 4 - (g->n > 0 ? 2 : 0) - (grid ? GRID_ROWS : 0);
	s->list.n = (int)g->n;
	tui_list_clamp(&s->list);
	render_textw(r, 1, 0, cols, ROLE_NORMAL, g->n == 0 ? "" :
	    " revenue share of all spend; churn risk from the current "
	    "model's stored scores (histogram: low risk left, high right)",
	    0);
	wname = cols >= 100 ? 20 : 16;
	wdef = cols - (2 + wname + 1 + 7 + 1 + 9 + 1 + 14 + 1 + 14 + 1 + 12 +
	    1);
	render_fill(r, 2, 0, cols, ROLE_HEADER);
	x = render_textw(r, 2, 2, wname, ROLE_HEADER, "segment", 0) + 1;
	x = render_textw(r, 2, x, 7, ROLE_HEADER, "kind", 0) + 1;
	x = render_textw(r, 2, x, 9, ROLE_HEADER, "customers", 1) + 1;
	x = render_textw(r, 2, x, 14, ROLE_HEADER, "revenue share", 0) + 1;
	x = render_textw(r, 2, x, 14, ROLE_HEADER, "mean churn", 0) + 1;
	x = render_textw(r, 2, x, 12, ROLE_HEADER, "risk 0..1", 0) + 1;
	if (wdef > 4)
		render_textw(r, 2, x, wdef, ROLE_HEADER, "definition", 0);
	if (g->n == 0) {
		render_text(r, 4, 2, ROLE_NOTE,
		    "no segments in this store yet");
		render_text(r, 5, 2, ROLE_DIM, "journeyscope segment DB rfm "
		    "builds the RFM segments");
		snprintf(s->info, sizeof(s->info), "0 segments ");
		return;
	}
	for (i = s->list.top; i < (int)g->n && i < s->list.top +
	    s->list.page; i++) {
		const struct browse_segment *sg = &g->g[i];
		int sel = i == s->list.cur;
		enum role role = sel ? ROLE_SELECTED : ROLE_NORMAL;
		double hist[10];
		int k;

		y = 3 + i - s->list.top;
		render_fill(r, y, 0, cols, role);
		if (sel)
			render_text(r, y, 0, role, render_glyph(r, GL_CURSOR));
		x = render_textw(r, y, 2, wname, role, sg->name, 0) + 1;
		x = render_textw(r, y, x, 7, role, sg->kind, 0) + 1;
		if (sg->size < 0) {
			render_textw(r, y, x, 9, ROLE_DIM, "...", 1);
			continue;
		}
		x = render_textw(r, y, x, 9, role, render_fmt_int(sg->size, n1,
		    sizeof(n1)), 1) + 1;
		snprintf(b, sizeof(b), "%5.1f%% ", g->tot.spend > 0 ?
		    sg->spend / g->tot.spend * 100 : 0.0);
		render_textw(r, y, x, 7, role, b, 0);
		render_bar(r, y, x + 7, 7, g->tot.spend > 0 ? sg->spend /
		    g->tot.spend : 0, ROLE_SPARK);
		x += 15;
		if (sg->scored > 0) {
			double m = sg->churn_sum / (double)sg->scored;

			snprintf(b, sizeof(b), "%.2f ", m);
			render_textw(r, y, x, 5, role, b, 0);
			render_heat(r, y, x + 5, 9, m, 1.0, 0);
			x += 15;
			for (k = 0; k < 10; k++)
				hist[k] = (double)sg->hist[k];
			render_text(r, y, x, role, "[");
			render_spark(r, y, x + 1, hist, 10, ROLE_SPARK);
			render_text(r, y, x + 11, role, "]");
		} else {
			render_textw(r, y, x, 14, ROLE_DIM, "not scored", 0);
			x += 15;
			render_textw(r, y, x, 12, ROLE_DIM, "-", 0);
		}
		x += 13;
		if (wdef > 4) {
			describe(sg, b, sizeof(b));
			render_textw(r, y, x, wdef, sel ? role : ROLE_DIM, b,
			    0);
		}
	}
	if (grid)
		draw_grid(s, r, rows - 3 - GRID_ROWS, cols);
	draw_triggers(s, r, rows - 3, cols);
	snprintf(s->info, sizeof(s->info), "%s %d of %zu%s ", "segment",
	    s->list.cur + 1, g->n, g->next < g->n ? ", counting..." : "");
}

/* Actions. */
static int
segs_action(struct screen *s, enum action act)
{
	struct segs *g = s->priv;
	struct err e;
	char id[32];
	size_t i;

	err_clear(&e);
	switch (act) {
	case ACT_ENTER:
		if (g->n == 0)
			return TUI_HANDLED;
		snprintf(id, sizeof(id), "%lld",
		    (long long)g->g[s->list.cur].id);
		if (tui_push(s->app, &screen_customers, id, &e) < 0)
			tui_note(s->app, 1, "%s", e.msg);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_UNLOAD:
		trig_reap(g, 1);	/* its model goes */
		return 0;
	case ACT_RELOAD:
		/* a new model: other scores, other triggers */
		for (i = 0; i < g->n; i++) {
			free(g->trig[i]);
			g->trig[i] = NULL;
		}
		g->next = 0;
		if (store_browse_totals(s->app->br, s->app->has_model ?
		    s->app->mrow.id : 0, &g->tot, &e) < 0)
			tui_note(s->app, 1, "%s", e.msg);
		return TUI_REDRAW;
	default:
		return 0;
	}
}

/* Idle: one segment's figures, then the triggers' worker. */
static int
segs_idle(struct screen *s)
{
	struct segs *g = s->priv;
	struct err e;
	int done, rc = TUI_IDLE_DONE;

	err_clear(&e);
	if (g->next < g->n) {
		if (store_browse_segment_stats(s->app->br, s->app->has_model ?
		    s->app->mrow.id : 0, &g->g[g->next], &e) < 0) {
			tui_note(s->app, 1, "%s", e.msg);
			g->next = g->n;
		} else
			g->next++;
		if (g->next < g->n)
			return TUI_IDLE_MORE;
	}
	if (g->job != NULL) {
		struct trig_job *jb = g->job;

		pthread_mutex_lock(&jb->mu);
		done = jb->done;
		pthread_mutex_unlock(&jb->mu);
		if (done) {
			free(g->trig[jb->idx]);
			g->trig[jb->idx] = xstrdup(jb->rc == 0 ? jb->text :
			    jb->e.msg);
			trig_reap(g, 0);
		} else if ((size_t)s->list.cur != jb->idx &&
		    g->trig[s->list.cur] == NULL)
			trig_reap(g, 1);	/* the cursor moved on */
		else
			rc = TUI_IDLE_WAIT;
	}
	/* the segment under the cursor */
	if (g->job == NULL && g->n > 0 && s->app->m != NULL &&
	    g->trig[s->list.cur] == NULL) {
		trig_start(s, (size_t)s->list.cur);
		rc = TUI_IDLE_WAIT;
	}
	return rc;
}

/* Open: the names now, the figures later. */
static int
segs_open(struct screen *s, struct app *a, struct err *e)
{
	struct segs *g = xcalloc(1, sizeof(*g));

	if (store_browse_segments(a->s, &g->g, &g->n, e) < 0 ||
	    store_browse_totals(a->br, a->has_model ? a->mrow.id : 0, &g->tot,
	    e) < 0) {
		free(g->g);
		free(g);
		return -1;
	}
	g->trig = xcalloc(g->n + 1, sizeof(*g->trig));
	/* the RFM map's counts, if RFM was built */
	if (store_rfm_grid(a->s, g->grid, e) == 0) {
		int rr, f;

		for (rr = 0; rr < 5; rr++)
			for (f = 0; f < 5; f++)
				if (g->grid[rr][f] > g->grid_max)
					g->grid_max = g->grid[rr][f];
	} else
		err_clear(e);	/* an older store: no map */
	s->priv = g;
	s->list.n = (int)g->n;
	return 0;
}

/* Close. */
static void
segs_close(struct screen *s)
{
	struct segs *g = s->priv;
	size_t i;

	trig_reap(g, 1);
	for (i = 0; i < g->n; i++)
		free(g->trig[i]);
	free(g->trig);
	free(g->g);
	free(g);
}

const struct screen_ops screen_segments = {
	"segments", &keys_segments, segs_open, segs_close, segs_draw,
	segs_action, segs_idle
};
