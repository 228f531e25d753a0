/*
 * screen-journey.c: one customer's journey. A header card (id and
 * attributes, tenure, spend, counts by event type, segments, churn risk,
 * the likely next type and items, a sparkline of weekly activity), then
 * the timeline, one event per row (time, gap, type, item, amount, text)
 * with a heat bar of how much the model weighed it. Inference runs when
 * the journey opens and on r, as of the customer's last activity; the
 * occlusion effects and the faithfulness badge (n + 22 forward passes,
 * a tenth of a second for 100 events) follow from a worker thread with
 * its own store connection and explain handle, which the idle step
 * polls, so keys never wait for them. m cycles the heat method, x masks
 * an event and re-scores at once (what-if), t shows the full text in a
 * second pane.
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
#include "nn.h"
#include "render.h"
#include "tokens.h"
#include "util.h"

#define WEEK		(7 * 86400)
#define TOP_TYPES	5
#define TOP_ITEMS	10

/* Methods beyond the heads: their place in the cycle. */
enum { M_ROLLOUT, M_MEAN, M_HEADS };	/* then L*H heads, then occlusion */

/*
 * One occlusion run in a thread: the inputs are copied in, the results
 * out; the mutex guards done. The model is borrowed: the screen joins
 * the thread before the model can go (ACT_UNLOAD, close).
 */
struct occl_job {
	pthread_t		 th;
	pthread_mutex_t		 mu;
	int			 done;
	int			 gen;	/* the screen's run it belongs to */
	char			 path[4096];
	const struct nn_model	*m;
	char			 ext[128];
	int64_t			*ids;		/* masked events */
	size_t			 n_ids;
	/* results */
	int			 ok;
	struct err		 e;
	int			 n;
	float			*occl;
	int			 has_faith;
	double			 top3, random3, last3;
};

struct tcount {
	const char	*name;		/* borrowed from the history */
	int		 n;
};

struct jr {
	struct browse_row	 row;
	char			*attrs;
	char			 segs[256];
	struct store_history	 h;		/* every event, oldest first */
	struct tcount		*types;
	int			 n_types;
	unsigned char		*mask;		/* (h.n) 1: masked */
	int			 n_masked;
	/* the report, copied (explain's arrays change on its next run) */
	int			 have;		/* an inference ran */
	char			 why[640];	/* why not */
	int			 L, H, n;	/* n: window length */
	int			*win_of;	/* (h.n) window index, -1 */
	struct tok		*tok;		/* (n) */
	float			 churn0;	/* without masks */
	float			 churn;		/* with the masks */
	float			*rollout, *mean, *per_head, *occl;
	int			 occl_pending, has_occl;
	struct occl_job		*job;		/* running, or NULL */
	int			 gen;		/* inference runs so far */
	int			 has_faith;
	double			 top3, random3, last3;
	char			 next_type[TOP_TYPES][48];
	float			 next_p[TOP_TYPES];
	int			 n_next;
	char			 items[TOP_ITEMS][64];
	int			 n_items;
	/* the view */
	int			 method;
	int			 newest_first;
	int			 show_text;
	int			 text_scroll;	/* detail pane, lines */
	int			 hscroll;	/* text column, characters */
};

/* The history index shown on display row i. */
static int
hist_index(const struct jr *j, int i)
{
	return j->newest_first ? (int)j->h.n - 1 - i : i;
}

/* Methods in the cycle: rollout, mean, each head, occlusion. */
static int
n_methods(const struct jr *j)
{
	return j->have ? M_HEADS + j->L * j->H + 1 : 1;
}

/* Is the current method occlusion? */
static int
is_occl(const struct jr *j)
{
	return j->have && j->method == M_HEADS + j->L * j->H;
}

/* The current method's name for the column header. */
static void
method_name(const struct jr *j, char *buf, size_t len)
{
	if (!j->have)
		snprintf(buf, len, "no inference");
	else if (j->method == M_ROLLOUT)
		snprintf(buf, len, "rollout");
	else if (j->method == M_MEAN)
		snprintf(buf, len, "last-layer mean");
	else if (is_occl(j))
		snprintf(buf, len, "occlusion -risk|+risk");
	else
		snprintf(buf, len, "layer %d head %d", (j->method - M_HEADS) /
		    j->H + 1, (j->method - M_HEADS) % j->H + 1);
}

/* The current method's value for window position w (NAN if none yet). */
static double
method_value(const struct jr *j, int w)
{
	if (j->method == M_ROLLOUT)
		return j->rollout[w];
	if (j->method == M_MEAN)
		return j->mean[w];
	if (is_occl(j))
		return j->has_occl ? j->occl[w] : NAN;
	return j->per_head[(size_t)(j->method - M_HEADS) * j->n + w];
}

/* Free the copied report. */
static void
report_release(struct jr *j)
{
	free(j->win_of);
	free(j->tok);
	free(j->rollout);
	free(j->mean);
	free(j->per_head);
	free(j->occl);
	j->win_of = NULL;
	j->tok = NULL;
	j->rollout = j->mean = j->per_head = j->occl = NULL;
	j->have = 0;
	j->has_occl = j->has_faith = 0;
}

/* The masked event ids (the caller frees). */
static int64_t *
masked_ids(const struct jr *j, size_t *n)
{
	int64_t *ids = xcalloc(j->h.n + 1, sizeof(*ids));
	size_t i;

	*n = 0;
	for (i = 0; i < j->h.n; i++)
		if (j->mask[i])
			ids[(*n)++] = j->h.ev[i].id;
	return ids;
}

/* Copy what the screen shows out of a report. */
static void
report_copy(struct jr *j, const struct nn_model *m,
    const struct explain_report *r)
{
	size_t i, w = 0;
	int k;

	report_release(j);
	j->have = 1;
	j->gen++;
	j->L = m->cfg.L;
	j->H = m->cfg.H;
	j->n = (int)r->n;
	j->churn = r->churn;
	j->win_of = xcalloc(j->h.n + 1, sizeof(int));
	j->tok = xcalloc(r->n, sizeof(*j->tok));
	memcpy(j->tok, r->tok, sizeof(*j->tok) * r->n);
	j->rollout = xcalloc(r->n, sizeof(float));
	j->mean = xcalloc(r->n, sizeof(float));
	j->occl = xcalloc(r->n, sizeof(float));
	j->per_head = xcalloc((size_t)j->L * j->H * r->n, sizeof(float));
	memcpy(j->rollout, r->rollout, sizeof(float) * r->n);
	memcpy(j->mean, r->mean, sizeof(float) * r->n);
	memcpy(j->per_head, r->per_head, sizeof(float) * (size_t)j->L * j->H *
	    r->n);
	/* both lists are in (ts, id) order: walk them together */
	for (i = 0; i < j->h.n; i++) {
		if (w < r->n && j->h.ev[i].id == r->ev[w].id)
			j->win_of[i] = (int)w++;
		else
			j->win_of[i] = -1;
	}
	j->n_next = r->n_next_types < TOP_TYPES ? r->n_next_types : TOP_TYPES;
	for (k = 0; k < j->n_next; k++) {
		snprintf(j->next_type[k], sizeof(j->next_type[k]), "%s",
		    vocab_type(m->vocab, r->next_types[k].index));
		j->next_p[k] = r->next_types[k].value;
	}
	j->n_items = r->n_next_items < TOP_ITEMS ? r->n_next_items : TOP_ITEMS;
	for (k = 0; k < j->n_items; k++)
		snprintf(j->items[k], sizeof(j->items[k]), "%s",
		    vocab_item(m->vocab, r->next_items[k].index));
	if (j->method >= n_methods(j))
		j->method = 0;
}

/*
 * Run the model on the window as of the last activity with the masks;
 * with base, first without them (the churn risk to compare with).
 * 0, or -1 with the reason in the status line (nothing changed).
 */
static int
infer(struct screen *s, int base)
{
	struct app *a = s->app;
	struct jr *j = s->priv;
	struct explain_report r;
	struct explain_opts o;
	struct nn_model *m;
	struct err e;
	int64_t *ids;
	size_t n;

	err_clear(&e);
	if ((m = tui_model(a)) == NULL) {
		report_release(j);
		snprintf(j->why, sizeof(j->why), "%s", a->model_note);
		return 0;
	}
	explain_opts_init(&o);
	o.top_types = TOP_TYPES;
	o.top_items = TOP_ITEMS;
	if (base || j->n_masked == 0) {
		if (explain_run(a->x, j->row.c.ext_id, &o, &r, &e) < 0)
			goto fail;
		j->churn0 = r.churn;
		if (j->n_masked == 0) {
			report_copy(j, m, &r);
			j->occl_pending = 1;
			return 0;
		}
	}
	ids = masked_ids(j, &n);
	o.drop = ids;
	o.n_drop = n;
	if (explain_run(a->x, j->row.c.ext_id, &o, &r, &e) < 0) {
		free(ids);
		goto fail;
	}
	free(ids);
	report_copy(j, m, &r);
	j->occl_pending = 1;
	return 0;
fail:
	tui_note(a, 1, "%s", e.msg);
	return -1;
}

/* The worker: its own connection and explain handle, one run. */
static void *
occl_main(void *arg)
{
	struct occl_job *jb = arg;
	struct explain_report r;
	struct explain_opts o;
	struct explain *x = NULL;
	struct store *st;

	err_clear(&jb->e);
	if ((st = store_open(jb->path, STORE_READONLY, &jb->e)) != NULL &&
	    (x = explain_new(st, jb->m, &jb->e)) != NULL) {
		explain_opts_init(&o);
		o.occlusion = 1;
		o.drop = jb->ids;
		o.n_drop = jb->n_ids;
		if (explain_run(x, jb->ext, &o, &r, &jb->e) == 0) {
			jb->n = (int)r.n;
			jb->occl = xcalloc(r.n + 1, sizeof(float));
			memcpy(jb->occl, r.occlusion, sizeof(float) * r.n);
			jb->has_faith = r.has_faithfulness;
			jb->top3 = r.faith_top3;
			jb->random3 = r.faith_random3;
			jb->last3 = r.faith_last3;
			jb->ok = 1;
		}
	}
	explain_free(x);
	store_close(st);
	pthread_mutex_lock(&jb->mu);
	jb->done = 1;
	pthread_mutex_unlock(&jb->mu);
	return NULL;
}

/* Wait for the worker and free it; its results are dropped. */
static void
occl_reap(struct jr *j)
{
	struct occl_job *jb = j->job;

	if (jb == NULL)
		return;
	pthread_join(jb->th, NULL);
	pthread_mutex_destroy(&jb->mu);
	free(jb->ids);
	free(jb->occl);
	free(jb);
	j->job = NULL;
}

/* Start the worker on the current masks. */
static void
occl_start(struct screen *s)
{
	struct app *a = s->app;
	struct jr *j = s->priv;
	struct occl_job *jb;

	if (!j->have || a->m == NULL)
		return;
	jb = xcalloc(1, sizeof(*jb));
	pthread_mutex_init(&jb->mu, NULL);
	snprintf(jb->path, sizeof(jb->path), "%s", a->path);
	snprintf(jb->ext, sizeof(jb->ext), "%s", j->row.c.ext_id);
	jb->m = a->m;
	jb->gen = j->gen;
	jb->ids = masked_ids(j, &jb->n_ids);
	if (pthread_create(&jb->th, NULL, occl_main, jb) != 0) {
		pthread_mutex_destroy(&jb->mu);
		free(jb->ids);
		free(jb);
		tui_note(a, 1, "occlusion: cannot start a thread");
		return;
	}
	j->job = jb;
}

/* Idle: start, poll and take in the occlusion run. */
static int
jr_idle(struct screen *s)
{
	struct jr *j = s->priv;
	struct occl_job *jb = j->job;
	int done;

	if (jb == NULL) {
		if (!j->occl_pending)
			return TUI_IDLE_DONE;
		j->occl_pending = 0;
		occl_start(s);
		return j->job != NULL ? TUI_IDLE_WAIT : TUI_IDLE_DONE;
	}
	pthread_mutex_lock(&jb->mu);
	done = jb->done;
	pthread_mutex_unlock(&jb->mu);
	if (!done)
		return TUI_IDLE_WAIT;
	if (jb->gen == j->gen && j->have) {
		if (!jb->ok)
			tui_note(s->app, 1, "occlusion: %s", jb->e.msg);
		else if (jb->n == j->n) {
			memcpy(j->occl, jb->occl, sizeof(float) * (size_t)j->n);
			j->has_occl = 1;
			j->has_faith = jb->has_faith;
			j->top3 = jb->top3;
			j->random3 = jb->random3;
			j->last3 = jb->last3;
		}
	}
	occl_reap(j);
	/* masked again meanwhile: run for the new masks */
	return j->occl_pending ? TUI_IDLE_MORE : TUI_IDLE_DONE;
}

/* Counts by event type, most first. */
static int
by_count(const void *x, const void *y)
{
	const struct tcount *a = x, *b = y;

	if (a->n != b->n)
		return b->n - a->n;
	return strcmp(a->name, b->name);
}

/* Read the customer and its events; keep masks of events still there. */
static int
load(struct screen *s, struct err *e)
{
	struct app *a = s->app;
	struct jr *j = s->priv;
	unsigned char *old = j->mask;
	int64_t *old_ids = NULL;
	size_t old_n = j->h.n, i, k;
	int rc;

	if (old != NULL) {
		old_ids = xcalloc(old_n + 1, sizeof(*old_ids));
		for (i = 0; i < old_n; i++)
			old_ids[i] = old[i] ? j->h.ev[i].id : 0;
	}
	free(j->attrs);
	j->attrs = NULL;
	if ((rc = store_browse_customer(a->br, a->has_model ? a->mrow.id : 0,
	    s->arg, &j->row, &j->attrs, e)) <= 0) {
		free(old_ids);
		free(old);
		j->mask = NULL;
		if (rc == 0)
			err_set(e, ERR_NOTFOUND, "no customer %s in the store",
			    s->arg);
		return -1;
	}
	if (store_browse_memberships(a->br, j->row.c.id, j->segs,
	    sizeof(j->segs), e) < 0 ||
	    store_history_read(a->hr, j->row.c.id, INT64_MAX, 0, &j->h,
	    e) < 0) {
		free(old_ids);
		free(old);
		j->mask = NULL;
		return -1;
	}
	j->mask = xcalloc(j->h.n + 1, 1);
	j->n_masked = 0;
	for (i = 0; old_ids != NULL && i < j->h.n; i++)
		for (k = 0; k < old_n; k++)
			if (old_ids[k] != 0 && old_ids[k] == j->h.ev[i].id) {
				j->mask[i] = 1;
				j->n_masked++;
				break;
			}
	free(old_ids);
	free(old);
	/* counts by type */
	free(j->types);
	j->types = xcalloc(j->h.n + 1, sizeof(*j->types));
	j->n_types = 0;
	for (i = 0; i < j->h.n; i++) {
		int t;

		for (t = 0; t < j->n_types; t++)
			if (strcmp(j->types[t].name, j->h.ev[i].type) == 0)
				break;
		if (t == j->n_types) {
			j->types[t].name = j->h.ev[i].type;
			j->n_types++;
		}
		j->types[t].n++;
	}
	qsort(j->types, (size_t)j->n_types, sizeof(*j->types), by_count);
	s->list.n = (int)j->h.n;
	return 0;
}

/* "key value" pairs of the attributes JSON, flat: the card's first line. */
static void
attrs_line(const char *attrs, char *out, size_t len, const char *sep)
{
	const char *p = attrs;
	size_t used = 0;

	out[0] = '\0';
	if (attrs == NULL)
		return;
	/* the store keeps flat objects of strings and numbers */
	while ((p = strchr(p, '"')) != NULL && used < len) {
		const char *k = p + 1, *ke = strchr(k, '"'), *v, *ve;

		if (ke == NULL)
			break;
		v = ke + 1;
		while (*v == ' ' || *v == ':')
			v++;
		if (*v == '"') {
			v++;
			ve = strchr(v, '"');
		} else
			ve = v + strcspn(v, ",}");
		if (ve == NULL)
			break;
		used += (size_t)snprintf(out + used, len - used, "%s%.*s %.*s",
		    used ? sep : "", (int)(ke - k), k, (int)(ve - v), v);
		p = *ve == '"' ? ve + 1 : ve;
	}
}

/* Card line: who (id unless boxed), attributes, segments. */
static void
line_who(struct screen *s, struct render *r, int y, int x0, int w,
    int with_id, const char *extra)
{
	struct jr *j = s->priv;
	const char *sep = render_glyph(r, GL_SEP);
	char at[512], b[1024];
	size_t used = 0;

	attrs_line(j->attrs, at, sizeof(at), sep);
	b[0] = '\0';
	if (with_id)
		used += (size_t)snprintf(b + used, sizeof(b) - used, "%s",
		    j->row.c.ext_id);
	if (at[0] != '\0' && used < sizeof(b))
		used += (size_t)snprintf(b + used, sizeof(b) - used, "%s%s",
		    used ? sep : "", at);
	if (j->segs[0] != '\0' && used < sizeof(b))
		used += (size_t)snprintf(b + used, sizeof(b) - used,
		    "%ssegment %s", used ? sep : "", j->segs);
	if (extra != NULL && used < sizeof(b))
		used += (size_t)snprintf(b + used, sizeof(b) - used, "%s%s",
		    used ? sep : "", extra);
	render_textw(r, y, x0, w, ROLE_NORMAL, used ? b : "no attributes", 0);
}

/* Card line: tenure, events, spend. */
static void
tenure_text(struct screen *s, struct render *r, char *b, size_t len)
{
	struct jr *j = s->priv;
	const char *sep = render_glyph(r, GL_SEP);
	char d0[32], d1[32], d2[32], n1[32];

	render_fmt_dur(j->row.c.last_ts - j->row.c.first_ts, d0, sizeof(d0));
	snprintf(b, len, "tenure %s (%s .. %s)%s%s events%sspend %.2f%s%lld "
	    "purchase%s", d0, render_fmt_date(j->row.c.first_ts, 0, d1,
	    sizeof(d1)), render_fmt_date(j->row.c.last_ts, 0, d2, sizeof(d2)),
	    sep, render_fmt_int((int64_t)j->h.n, n1, sizeof(n1)), sep,
	    j->row.c.spend, sep, (long long)j->row.c.n_purchases,
	    j->row.c.n_purchases == 1 ? "" : "s");
}

/* Card line: churn risk (with the what-if) and the next types. */
static void
line_churn(struct screen *s, struct render *r, int y, int x0, int w,
    const char *prefix)
{
	struct app *a = s->app;
	struct jr *j = s->priv;
	const char *sep = render_glyph(r, GL_SEP);
	int x = x0, k, end = x0 + w;
	char b[512];
	size_t used;

	if (prefix != NULL) {
		x = render_text(r, y, x, ROLE_HEADER, prefix);
		x = render_text(r, y, x, ROLE_NORMAL, sep);
	}
	if (!j->have) {
		render_textw(r, y, x, end - x, ROLE_NOTE, j->why, 0);
		return;
	}
	x = render_text(r, y, x, ROLE_HEADER, "churn risk ");
	if (j->n_masked > 0) {
		/* what-if: the old figure, then the new one */
		/* the change of the figures as shown, so that they add up */
		double dlt = round(j->churn * 1000) / 1000 -
		    round(j->churn0 * 1000) / 1000;

		snprintf(b, sizeof(b), "%.3f %s ", j->churn0, render_glyph(r,
		    GL_ARROW));
		x = render_text(r, y, x, ROLE_NORMAL, b);
		snprintf(b, sizeof(b), "%.3f ", j->churn);
		x = render_text(r, y, x, ROLE_MASKED, b);
		render_heat(r, y, x, 8, j->churn, 1.0, 0);
		x += 9;
		snprintf(b, sizeof(b), "(%s%.3f without %d event%s)", dlt < 0 ?
		    render_glyph(r, GL_MINUS) : "+", fabs(dlt), j->n_masked,
		    j->n_masked > 1 ? "s" : "");
		x = render_textw(r, y, x, render_width(r, b) < end - x ?
		    render_width(r, b) : end - x, ROLE_MASKED, b, 0);
	} else {
		snprintf(b, sizeof(b), "%.3f ", j->churn);
		x = render_text(r, y, x, ROLE_NORMAL, b);
		render_heat(r, y, x, 8, j->churn, 1.0, 0);
		x += 9;
		snprintf(b, sizeof(b), "in %d days", a->horizon_days);
		x = render_text(r, y, x, ROLE_DIM, b);
	}
	if (j->n_next > 0 && x < end - 10) {
		used = (size_t)snprintf(b, sizeof(b), "%snext ", sep);
		for (k = 0; k < j->n_next && k < 3; k++)
			used += (size_t)snprintf(b + used, sizeof(b) - used,
			    "%s%s %.2f", k ? ", " : "", j->next_type[k],
			    j->next_p[k]);
		render_textw(r, y, x, end - x, ROLE_NORMAL, b, 0);
	}
}

/* Card line: counts by type. */
static void
line_types(struct screen *s, struct render *r, int y, int x0, int w)
{
	struct jr *j = s->priv;
	const char *sep = render_glyph(r, GL_SEP);
	char b[1024];
	size_t used;
	int k;

	used = (size_t)snprintf(b, sizeof(b), "by type ");
	for (k = 0; k < j->n_types && used < sizeof(b); k++)
		used += (size_t)snprintf(b + used, sizeof(b) - used, "%s%s %d",
		    k ? sep : "", j->types[k].name, j->types[k].n);
	render_textw(r, y, x0, w, ROLE_NORMAL, b, 0);
}

/* Card line: next items. */
static void
line_items(struct screen *s, struct render *r, int y, int x0, int w)
{
	struct jr *j = s->priv;
	char b[1024];
	size_t used;
	int k;

	if (!j->have) {
		render_textw(r, y, x0, w, ROLE_DIM, "next items: no inference",
		    0);
		return;
	}
	used = (size_t)snprintf(b, sizeof(b), "next items ");
	for (k = 0; k < j->n_items && used < sizeof(b); k++)
		used += (size_t)snprintf(b + used, sizeof(b) - used, "%s%s",
		    k ? ", " : "", j->items[k]);
	render_textw(r, y, x0, w, ROLE_NORMAL, b, 0);
}

/* Card line: the weekly sparkline and the faithfulness badge. */
static void
line_weekly(struct screen *s, struct render *r, int y, int x0, int w)
{
	struct jr *j = s->priv;
	int64_t t0 = j->h.n ? j->h.ev[0].ts : 0;
	int64_t span = j->h.n ? j->h.ev[j->h.n - 1].ts - t0 : 0;
	int weeks = (int)(span / WEEK) + 1, room = w / 3 + 2, per, i, cells,
	    x, end = x0 + w;
	double *v;
	char b[256];

	if (room < 8)
		room = 8;
	per = (weeks + room - 1) / room;
	cells = (weeks + per - 1) / per;
	v = xcalloc((size_t)cells + 1, sizeof(double));
	for (i = 0; i < (int)j->h.n; i++)
		v[(j->h.ev[i].ts - t0) / WEEK / per] += 1;
	snprintf(b, sizeof(b), per == 1 ? "weekly " : "%d-weekly ", per);
	x = render_text(r, y, x0, ROLE_HEADER, b);
	render_spark(r, y, x, v, cells, ROLE_SPARK);
	x += cells + 2;
	free(v);
	if (!j->have || x >= end)
		return;
	if (j->occl_pending || !j->has_occl)
		render_textw(r, y, x, end - x, ROLE_DIM,
		    "faithfulness: computing", 0);
	else if (!j->has_faith)
		render_textw(r, y, x, end - x, ROLE_DIM, "faithfulness: window "
		    "too short for sets of 3", 0);
	else {
		/* the badge: masking the most attended events moves the
		 * risk more than masking random ones, or not */
		int good = fabs(j->top3) > fabs(j->random3), left = end - x;
		const char *g = render_glyph(r, good ? GL_CHECK : GL_CROSS);

		snprintf(b, sizeof(b), "[%s %s: top-3 %+.3f vs random %+.3f]",
		    g, good ? "faithful" : "not faithful", j->top3, j->random3);
		if (render_width(r, b) > left)
			snprintf(b, sizeof(b), "[%s top-3 %+.3f vs random "
			    "%+.3f]", g, j->top3, j->random3);
		x = render_textw(r, y, x, render_width(r, b) < left ?
		    render_width(r, b) : left, good ? ROLE_GOOD : ROLE_BAD, b,
		    0);
		snprintf(b, sizeof(b), " last-3 %+.3f", j->last3);
		if (end - x >= render_width(r, b))
			render_text(r, y, x, ROLE_DIM, b);
	}
}

/*
 * The header card from row y: boxed with six lines on a tall screen,
 * three lines below 24 rows, one below 18. Returns the row after it.
 */
static int
draw_card(struct screen *s, struct render *r, int y, int cols, int rows)
{
	struct jr *j = s->priv;
	char b[512];

	if (rows >= 24) {
		render_box(r, y, 0, 8, cols, ROLE_BORDER, j->row.c.ext_id);
		line_who(s, r, y + 1, 2, cols - 4, 0, NULL);
		tenure_text(s, r, b, sizeof(b));
		render_textw(r, y + 2, 2, cols - 4, ROLE_NORMAL, b, 0);
		line_churn(s, r, y + 3, 2, cols - 4, NULL);
		line_types(s, r, y + 4, 2, cols - 4);
		line_items(s, r, y + 5, 2, cols - 4);
		line_weekly(s, r, y + 6, 2, cols - 4);
		return y + 8;
	}
	if (rows >= 18) {
		tenure_text(s, r, b, sizeof(b));
		line_who(s, r, y, 1, cols - 2, 1, b);
		line_churn(s, r, y + 1, 1, cols - 2, NULL);
		line_weekly(s, r, y + 2, 1, cols - 2);
		return y + 3;
	}
	line_churn(s, r, y, 1, cols - 2, j->row.c.ext_id);
	return y + 1;
}

/* The timeline's column widths. */
struct tl_cols {
	int	 time, gap, type, item, amount, text, heat, value;
	int	 full_time;
};

/* Which columns fit. */
static void
tl_layout(const struct jr *j, int cols, struct tl_cols *c)
{
	int fixed;

	memset(c, 0, sizeof(*c));
	c->full_time = cols >= 110;
	c->time = c->full_time ? 16 : 10;
	c->gap = 5;
	c->type = 14;
	c->heat = is_occl(j) ? 13 : 12;
	c->value = 7;
	if (cols >= 100) {
		c->item = 10;
		c->amount = 9;
	}
	fixed = 2 + c->time + 1 + c->gap + 1 + c->type + 1 + (c->item ?
	    c->item + 1 : 0) + (c->amount ? c->amount + 1 : 0) + 1 + c->heat +
	    1 + c->value;
	c->text = cols - fixed;
	if (c->text < 0) {
		c->type += c->text;
		c->text = 0;
	}
}

/* The text of an event from character off on one line. */
static const char *
text_from(const char *t, int off)
{
	if (t == NULL)
		return "";
	while (off-- > 0 && *t) {
		t++;
		while ((*t & 0xc0) == 0x80)
			t++;
	}
	return t;
}

/* One timeline row. */
static void
draw_event(struct screen *s, struct render *r, int y, int cols, int i,
    const struct tl_cols *c, double scale)
{
	struct jr *j = s->priv;
	int hi = hist_index(j, i), sel = i == s->list.cur, x, w;
	const struct store_hevent *ev = &j->h.ev[hi];
	enum role role = sel ? ROLE_SELECTED : j->mask[hi] ? ROLE_MASKED :
	    ROLE_NORMAL;
	char b[64];

	render_fill(r, y, 0, cols, role);
	if (sel)
		render_text(r, y, 0, role, render_glyph(r, GL_CURSOR));
	x = render_textw(r, y, 2, c->time, role, render_fmt_date(ev->ts,
	    c->full_time, b, sizeof(b)), 0) + 1;
	if (hi == 0)
		snprintf(b, sizeof(b), "-");
	else
		render_fmt_dur(ev->ts - j->h.ev[hi - 1].ts, b, sizeof(b));
	x = render_textw(r, y, x, c->gap, role, b, 1) + 1;
	x = render_textw(r, y, x, c->type, role, ev->type, 0) + 1;
	if (c->item)
		x = render_textw(r, y, x, c->item, role, ev->item ? ev->item :
		    "", 0) + 1;
	if (c->amount) {
		if (isnan(ev->amount))
			b[0] = '\0';
		else
			snprintf(b, sizeof(b), "%.2f", ev->amount);
		x = render_textw(r, y, x, c->amount, role, b, 1) + 1;
	}
	if (c->text > 0)
		x = render_textw(r, y, x, c->text, role, text_from(ev->text,
		    j->hscroll), 0);
	x++;
	w = c->heat + 1 + c->value;
	if (j->mask[hi]) {
		render_textw(r, y, x, w, ROLE_MASKED, "masked (x restores)", 0);
		return;
	}
	if (!j->have) {
		render_textw(r, y, x, w, ROLE_DIM, "", 0);
		return;
	}
	if (j->win_of[hi] < 0) {
		render_textw(r, y, x, w, ROLE_DIM, "outside the window", 0);
		return;
	}
	{
		double v = method_value(j, j->win_of[hi]);

		if (isnan(v)) {
			render_textw(r, y, x, w, ROLE_DIM, is_occl(j) &&
			    !j->has_occl ? "computing" : "-", 0);
			return;
		}
		render_heat(r, y, x, c->heat, v, scale, is_occl(j));
		snprintf(b, sizeof(b), is_occl(j) ? "%+.3f" : "%.3f", v);
		render_textw(r, y, x + c->heat + 1, c->value, role, b, 1);
	}
}

/* The detail pane: the event under the cursor, its full text wrapped. */
static void
draw_detail(struct screen *s, struct render *r, int y, int h, int cols)
{
	struct jr *j = s->priv;
	int hi = hist_index(j, s->list.cur), line = 0, wrap = cols - 4;
	const struct store_hevent *ev = &j->h.ev[hi];
	const char *t = ev->text != NULL ? ev->text : "(no text)";
	char b[512], d[32];
	struct buf seg;

	render_box(r, y, 0, h, cols, s->pane == 1 ? ROLE_FOCUS : ROLE_BORDER,
	    s->pane == 1 ? "full text (Tab: back to the timeline)" :
	    "full text (Tab: scroll it)");
	snprintf(b, sizeof(b), "event %lld%s%s UTC%s%s%s%s", (long long)ev->id,
	    render_glyph(r, GL_SEP), render_fmt_date(ev->ts, 1, d, sizeof(d)),
	    render_glyph(r, GL_SEP), ev->type, ev->item ? " item " : "",
	    ev->item ? ev->item : "");
	if (j->have && j->win_of[hi] >= 0) {
		const struct tok *k = &j->tok[j->win_of[hi]];
		size_t u = strlen(b);

		snprintf(b + u, sizeof(b) - u, "%stokens type %d item %d gap "
		    "%d amount %d pos %d", render_glyph(r, GL_SEP), k->type,
		    k->item, k->gap, k->amount, k->pos);
	}
	render_textw(r, y + 1, 2, cols - 4, ROLE_HEADER, b, 0);
	/* wrap at blanks into the rows left */
	buf_init(&seg);
	while (*t != '\0' && line < h - 3 + j->text_scroll) {
		const char *p = t, *cut = NULL;
		int wd = 0;

		while (*p != '\0' && *p != '\n') {
			int cw;
			char one[8];
			size_t n = 1;

			while ((p[n] & 0xc0) == 0x80)
				n++;
			memcpy(one, p, n);
			one[n] = '\0';
			cw = render_width(r, one);
			if (wd + cw > wrap)
				break;
			if (*p == ' ')
				cut = p;
			wd += cw;
			p += n;
		}
		if (*p != '\0' && *p != '\n' && cut != NULL)
			p = cut;
		buf_reset(&seg);
		buf_add(&seg, t, (size_t)(p - t));
		if (line >= j->text_scroll)
			render_textw(r, y + 2 + line - j->text_scroll, 2, wrap,
			    ROLE_NORMAL, seg.data ? seg.data : "", 0);
		line++;
		t = p;
		while (*t == ' ' || *t == '\n')
			t++;
		if (p == t && *t != '\0' && wd == 0)
			t++;	/* a character wider than the pane */
	}
	buf_release(&seg);
}

/* The whole screen. */
static void
jr_draw(struct screen *s, struct render *r)
{
	struct jr *j = s->priv;
	struct tl_cols c;
	char mname[64], n1[32];
	int rows, cols, y, detail_h = 0, i, w;
	double scale = 0;

	render_size(r, &rows, &cols);
	y = draw_card(s, r, 1, cols, rows);
	if (j->show_text)
		detail_h = rows - y - 2 >= 12 ? 7 : rows - y - 2 >= 8 ? 5 : 0;
	tl_layout(j, cols, &c);
	/* the column header names the method */
	method_name(j, mname, sizeof(mname));
	render_fill(r, y, 0, cols, ROLE_HEADER);
	w = render_textw(r, y, 2, c.time, ROLE_HEADER, "time", 0) + 1;
	w = render_textw(r, y, w, c.gap, ROLE_HEADER, "gap", 1) + 1;
	w = render_textw(r, y, w, c.type, ROLE_HEADER, "type", 0) + 1;
	if (c.item)
		w = render_textw(r, y, w, c.item, ROLE_HEADER, "item", 0) + 1;
	if (c.amount)
		w = render_textw(r, y, w, c.amount, ROLE_HEADER, "amount",
		    1) + 1;
	if (c.text > 0)
		w = render_textw(r, y, w, c.text, ROLE_HEADER, j->hscroll ?
		    "text (scrolled)" : "text", 0);
	render_textw(r, y, w + 1, c.heat + 1 + c.value, ROLE_HEADER, mname, 0);
	y++;
	/* scaled to the window's largest weight (signed: largest effect) */
	for (i = 0; j->have && i < j->n; i++) {
		double v = method_value(j, i);

		if (!isnan(v) && fabs(v) > scale)
			scale = fabs(v);
	}
	s->list.y0 = y;
	s->list.page = rows - 1 - y - detail_h;
	if (s->list.page < 1)
		s->list.page = 1;
	s->list.n = (int)j->h.n;
	tui_list_clamp(&s->list);
	if (j->h.n == 0)
		render_text(r, y, 2, ROLE_NOTE, "no events");
	for (i = s->list.top; i < (int)j->h.n && i < s->list.top +
	    s->list.page; i++)
		draw_event(s, r, y + i - s->list.top, cols, i, &c, scale);
	if (detail_h > 0 && j->h.n > 0)
		draw_detail(s, r, rows - 1 - detail_h, detail_h, cols);
	snprintf(s->info, sizeof(s->info), "event %d of %s%s%s%s ",
	    s->list.cur + 1, render_fmt_int((int64_t)j->h.n, n1, sizeof(n1)),
	    j->newest_first ? ", newest first" : ", oldest first",
	    j->have ? ", window " : "", "");
	if (j->have) {
		size_t u = strlen(s->info) - 1;

		snprintf(s->info + u, sizeof(s->info) - u, "%d%s ", j->n,
		    j->n_masked ? ", what-if" : "");
	}
}

/* Mask or restore the event under the cursor and re-score. */
static int
toggle_mask(struct screen *s)
{
	struct jr *j = s->priv;
	int hi, was;
	float before;

	if (j->h.n == 0)
		return TUI_HANDLED;
	if (!j->have) {
		tui_note(s->app, 0, "what-if needs a model: %s",
		    j->why[0] ? j->why : s->app->model_note);
		return TUI_HANDLED | TUI_REDRAW;
	}
	hi = hist_index(j, s->list.cur);
	was = j->mask[hi];
	before = j->churn;
	j->mask[hi] = !was;
	j->n_masked += was ? -1 : 1;
	if (infer(s, 0) < 0) {
		j->mask[hi] = (unsigned char)was;
		j->n_masked += was ? 1 : -1;
		return TUI_HANDLED | TUI_REDRAW;
	}
	tui_note(s->app, 0, "%s event %lld: churn risk %.3f %s %.3f",
	    was ? "restored" : "masked", (long long)j->h.ev[hi].id, before,
	    render_glyph(s->app->r, GL_ARROW), j->churn);
	return TUI_HANDLED | TUI_REDRAW;
}

/* Actions. */
static int
jr_action(struct screen *s, enum action act)
{
	struct jr *j = s->priv;
	struct err e;
	char name[64];
	int hi;

	err_clear(&e);
	if (s->pane == 1 && j->show_text) {
		/* the detail pane scrolls the text */
		if (act == ACT_DOWN || act == ACT_PGDN) {
			j->text_scroll += act == ACT_DOWN ? 1 : 5;
			return TUI_HANDLED | TUI_REDRAW;
		}
		if (act == ACT_UP || act == ACT_PGUP) {
			j->text_scroll -= act == ACT_UP ? 1 : 5;
			if (j->text_scroll < 0)
				j->text_scroll = 0;
			return TUI_HANDLED | TUI_REDRAW;
		}
	}
	switch (act) {
	case ACT_UP: case ACT_DOWN: case ACT_PGUP: case ACT_PGDN:
	case ACT_TOP: case ACT_BOTTOM:
		j->text_scroll = 0;
		return 0;	/* the generic list moves */
	case ACT_METHOD:
		if (!j->have) {
			tui_note(s->app, 0, "no inference: %s", j->why);
			return TUI_HANDLED | TUI_REDRAW;
		}
		j->method = (j->method + 1) % n_methods(j);
		method_name(j, name, sizeof(name));
		tui_note(s->app, 0, "heat: %s", name);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_MASK:
		return toggle_mask(s);
	case ACT_UNMASK:
		if (j->n_masked == 0)
			return TUI_HANDLED;
		memset(j->mask, 0, j->h.n);
		j->n_masked = 0;
		infer(s, 0);
		tui_note(s->app, 0, "every event restored");
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_UNLOAD:
		occl_reap(j);
		report_release(j);
		return 0;
	case ACT_RERUN:
	case ACT_RELOAD:
		if (load(s, &e) < 0) {
			tui_note(s->app, 1, "%s", e.msg);
			return TUI_HANDLED | TUI_REDRAW;
		}
		infer(s, 1);
		if (act == ACT_RERUN)
			tui_note(s->app, 0, "re-read %zu events and re-ran "
			    "inference", j->h.n);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_TEXT:
		j->show_text = !j->show_text;
		j->text_scroll = 0;
		s->n_panes = j->show_text ? 2 : 1;
		if (!j->show_text)
			s->pane = 0;
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_ORDER:
		hi = hist_index(j, s->list.cur);
		j->newest_first = !j->newest_first;
		s->list.cur = hist_index(j, hi);	/* its own inverse */
		s->list.top = s->list.cur - s->list.page / 2;
		tui_list_clamp(&s->list);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_LEFT:
		j->hscroll = j->hscroll > 8 ? j->hscroll - 8 : 0;
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_RIGHT:
		j->hscroll += 8;
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_PANE:
		if (!j->show_text) {
			tui_note(s->app, 0, "one pane: t shows the full text");
			return TUI_HANDLED | TUI_REDRAW;
		}
		return 0;
	default:
		return 0;
	}
}

/* Open on the customer (arg: external id) and run inference. */
static int
jr_open(struct screen *s, struct app *a, struct err *e)
{
	struct jr *j = xcalloc(1, sizeof(*j));

	s->priv = j;
	store_history_init(&j->h);
	if (load(s, e) < 0) {
		store_history_release(&j->h);
		free(j->types);
		free(j);
		return -1;
	}
	snprintf(s->crumb, sizeof(s->crumb), "%s", s->arg);
	/* oldest first, the cursor on the newest event */
	s->list.cur = (int)j->h.n - 1;
	s->list.top = s->list.cur;
	infer(s, 1);
	(void)a;
	return 0;
}

/* Close. */
static void
jr_close(struct screen *s)
{
	struct jr *j = s->priv;

	occl_reap(j);
	report_release(j);
	store_history_release(&j->h);
	free(j->types);
	free(j->mask);
	free(j->attrs);
	free(j);
}

const struct screen_ops screen_journey = {
	"journey", &keys_journey, jr_open, jr_close, jr_draw, jr_action,
	jr_idle
};
