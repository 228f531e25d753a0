/*
 * screen-model.c: the model card. The model under the cursor of the
 * store's model list, read from its stored config and metrics (what
 * journeyscope train and eval wrote): architecture, training, churn
 * against its baselines with the calibration by decile, next item and
 * next type, and how many customers its scores cover. Two long jobs run
 * from here with a gauge and Esc to cancel: scoring every customer (r,
 * one transaction: all or nothing) and training a new model (t). Each
 * runs in a thread with its own store connection (a chunk of scoring
 * takes longer than a key may wait); the idle step reads its progress
 * and takes in the result. Enter makes a model current.
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
#include "train.h"
#include "util.h"

/* Windows per forward pass when scoring. */
#define SCORE_BATCH	64

enum job { JOB_NONE, JOB_SCORE, JOB_TRAIN };

/* A training run in its thread; the mutex guards progress and stop. */
struct trainer {
	pthread_t		 th;
	pthread_mutex_t		 mu;
	char			*path;
	struct train_opts	 o;
	struct train_progress	 p;
	char			 phase[32];
	int			 stop;
	int			 finished;
	int			 rc;
	struct train_result	 res;
	struct err		 e;
	double			 t0;
};

/* A scoring run in its thread; the mutex guards the counts and stop. */
struct scorer {
	pthread_t		 th;
	pthread_mutex_t		 mu;
	char			*path;
	const struct nn_model	*m;	/* borrowed: joined before it goes */
	int64_t			 model_id, at;
	int64_t			 done, total;
	int			 stop;
	int			 finished;
	int			 rc;
	struct err		 e;
	double			 t0;
	struct store_scorer	*sw;		/* the thread's */
};

struct card {
	struct store_model	*models;
	size_t			 n;
	struct browse_totals	 tot;		/* of the model shown */
	int64_t			 tot_for;	/* its id, 0: not read */
	enum job		 job;
	struct scorer		*sc;
	struct trainer		*tr;
};

/* Read the store's models again (after training). */
static int
card_reload(struct screen *s, struct err *e)
{
	struct card *c = s->priv;
	size_t i;

	store_models_free(c->models, c->n);
	c->models = NULL;
	c->n = 0;
	if (store_models_list(s->app->s, &c->models, &c->n, e) < 0)
		return -1;
	s->list.n = (int)c->n;
	/* the cursor on the current model */
	for (i = 0; i < c->n; i++)
		if (s->app->has_model && c->models[i].id == s->app->mrow.id)
			s->list.cur = (int)i;
	c->tot_for = 0;
	return 0;
}

/* A number of a JSON text, or NAN. */
static double
jnum(const char *json, const char *path)
{
	double v;

	return explain_json_get(json, path, &v, NULL, 0) == 1 ? v : NAN;
}

/* A label and a figure with a bar of it (0..1). */
static int
figure(struct render *r, int y, int x, const char *label, double v, int bar)
{
	char b[32];

	x = render_text(r, y, x, ROLE_HEADER, label);
	if (isnan(v))
		return render_text(r, y, x, ROLE_DIM, "- ");
	snprintf(b, sizeof(b), "%.3f ", v);
	x = render_text(r, y, x, ROLE_NORMAL, b);
	if (bar > 0) {
		render_bar(r, y, x, bar, v, ROLE_SPARK);
		x += bar + 1;
	}
	return x;
}

/* Beats its baseline or not: a glyph and a word, not a colour alone. */
static int
verdict(struct render *r, int y, int x, double flag)
{
	char b[64];

	if (isnan(flag))
		return x;
	snprintf(b, sizeof(b), "%s %s", render_glyph(r, flag > 0 ? GL_CHECK :
	    GL_CROSS), flag > 0 ? "beats the baselines" : "below a baseline");
	return render_text(r, y, x, flag > 0 ? ROLE_GOOD : ROLE_BAD, b);
}

/*
 * The card's loss line: how a trained model's next-item head learnt,
 * from its settings (item_loss, negatives, bce_negatives; a model from
 * before --item-loss has no item_loss: the softmax). BCE: the binary
 * cross entropy.
 */
static void
item_loss_line(const char *cf, char *b, size_t len)
{
	char name[32];
	double neg = jnum(cf, "negatives"), bn = jnum(cf, "bce_negatives");
	int loss = TRAIN_LOSS_SOFTMAX, n;

	if (explain_json_get(cf, "item_loss", NULL, name, sizeof(name)) == 2)
		loss = train_item_loss(name);
	n = snprintf(b, len, "loss       next item: ");
	if (n < 0 || (size_t)n >= len)
		return;
	b += n;
	len -= (size_t)n;
	if (loss == TRAIN_LOSS_SOFTMAX && neg > 0)
		snprintf(b, len, "softmax over %g items sampled a step", neg);
	else if (loss == TRAIN_LOSS_SOFTMAX)
		snprintf(b, len, "softmax over every item");
	else if (loss == TRAIN_LOSS_BCE)
		snprintf(b, len, "BCE (SASRec's), %g negatives a position", bn);
	else
		snprintf(b, len, "softmax over every item + BCE, %g negatives "
		    "a position", bn);
}

/* The card of model m from row y; returns the row after it. */
static int
draw_card(struct screen *s, struct render *r, const struct store_model *m,
    int y, int cols)
{
	struct app *a = s->app;
	struct card *c = s->priv;
	const char *cf = m->config, *mt = m->metrics;
	const char *sep = render_glyph(r, GL_SEP);
	char b[512], d[32], n1[32], n2[32], t1[48], t2[48], t3[48];
	double pred[10], obs[10];
	int x, k, nk = 0;

	snprintf(b, sizeof(b), "model %s%s%s%screated %s%s%s parameters%s%s KB",
	    m->name, a->has_model && a->mrow.id == m->id ? " (current)" : "",
	    sep, "", render_fmt_date(m->created, 1, d, sizeof(d)), sep,
	    render_fmt_int((int64_t)jnum(cf, "n_params"), n1, sizeof(n1)), sep,
	    render_fmt_int((m->bytes + 1023) / 1024, n2, sizeof(n2)));
	render_textw(r, y++, 1, cols - 2, ROLE_HEADER, b, 0);
	snprintf(b, sizeof(b), "shape      d_model %g, %g layers, %g heads, "
	    "max_len %g, %g types, %g items, horizon %g days",
	    jnum(cf, "d_model"), jnum(cf, "n_layers"), jnum(cf, "n_heads"),
	    jnum(cf, "max_len"), jnum(cf, "n_types"), jnum(cf, "n_items"),
	    jnum(cf, "churn_horizon_days"));
	render_textw(r, y++, 1, cols - 2, ROLE_NORMAL, b, 0);
	t1[0] = t2[0] = t3[0] = '\0';
	explain_json_get(cf, "tasks.0", NULL, t1, sizeof(t1));
	explain_json_get(cf, "tasks.1", NULL, t2, sizeof(t2));
	explain_json_get(cf, "tasks.2", NULL, t3, sizeof(t3));
	if (jnum(cf, "trained") > 0)
		snprintf(b, sizeof(b), "trained    %g of %g epochs (best "
		    "%g)%s, tasks %s%s%s%s%s, batch %g, lr %g, dropout %g, "
		    "seed %g", jnum(cf, "epochs_run"), jnum(cf, "epochs"),
		    jnum(cf, "best_epoch"), jnum(cf, "all") > 0 ?
		    " on all data" : "", t1, t2[0] ? ", " : "", t2, t3[0] ?
		    ", " : "", t3, jnum(cf, "batch"), jnum(cf, "lr"),
		    jnum(cf, "dropout"), jnum(cf, "seed"));
	else
		snprintf(b, sizeof(b), "trained    no: random weights (model "
		    "init); t trains a model");
	render_textw(r, y++, 1, cols - 2, jnum(cf, "trained") > 0 ?
	    ROLE_NORMAL : ROLE_NOTE, b, 0);
	if (jnum(cf, "trained") > 0 && (strcmp(t1, "next-item") == 0 ||
	    strcmp(t2, "next-item") == 0 || strcmp(t3, "next-item") == 0)) {
		item_loss_line(cf, b, sizeof(b));
		render_textw(r, y++, 1, cols - 2, ROLE_NORMAL, b, 0);
	}
	if (mt == NULL) {
		render_textw(r, y++, 1, cols - 2, ROLE_NOTE, "metrics    none "
		    "stored (journeyscope eval DB computes and stores them)",
		    0);
	} else {
		double cut = jnum(mt, "cutoff");

		snprintf(b, sizeof(b), "metrics    %s, cut-off %s, horizon %g "
		    "days", jnum(mt, "held_out") > 0 ? "held out" :
		    "on the training data", isnan(cut) ? "-" :
		    render_fmt_date((int64_t)cut, 0, d, sizeof(d)),
		    jnum(mt, "horizon_days"));
		render_textw(r, y++, 1, cols - 2, ROLE_DIM, b, 0);
		x = render_text(r, y, 1, ROLE_HEADER, "churn      ");
		x = figure(r, y, x, "ROC AUC ", jnum(mt, "churn.roc_auc"), 8);
		x = figure(r, y, x, "PR AUC ", jnum(mt, "churn.pr_auc"), 0);
		x = figure(r, y, x, "log loss ", jnum(mt, "churn.log_loss"), 0);
		snprintf(b, sizeof(b), "(%s customers, %s churned)",
		    render_fmt_int((int64_t)jnum(mt, "churn.customers"), n1,
		    sizeof(n1)), render_fmt_int((int64_t)jnum(mt,
		    "churn.churned"), n2, sizeof(n2)));
		render_textw(r, y++, x, cols - 1 - x, ROLE_DIM, b, 0);
		x = render_text(r, y, 1, ROLE_DIM, "  baseline ");
		x = figure(r, y, x, "recency ", jnum(mt,
		    "churn.baselines.recency.roc_auc"), 0);
		x = figure(r, y, x, "logistic ", jnum(mt,
		    "churn.baselines.logistic_rft.roc_auc"), 0);
		verdict(r, y++, x + 1, jnum(mt, "churn.beats_baselines"));
		for (k = 0; k < 10; k++) {
			char p1[64], p2[64];

			snprintf(p1, sizeof(p1),
			    "churn.calibration.%d.predicted", k);
			snprintf(p2, sizeof(p2),
			    "churn.calibration.%d.observed", k);
			pred[k] = jnum(mt, p1);
			obs[k] = jnum(mt, p2);
			if (isnan(pred[k]) || isnan(obs[k]))
				break;
			nk++;
		}
		if (nk > 0) {
			/* both on the scale 0..1, decile 1 left */
			x = render_text(r, y, 1, ROLE_DIM,
			    "  deciles  predicted ");
			render_spark_max(r, y, x, pred, nk, 1.0, ROLE_SPARK);
			x = render_text(r, y, x + nk + 1, ROLE_DIM,
			    "observed ");
			render_spark_max(r, y, x, obs, nk, 1.0, ROLE_HEAT_MID);
			x += nk;
			snprintf(b, sizeof(b), " (top decile %.2f vs %.2f)",
			    pred[nk - 1], obs[nk - 1]);
			render_textw(r, y, x, cols - 1 - x, ROLE_DIM, b, 0);
			y++;
		}
		x = render_text(r, y, 1, ROLE_HEADER, "next item  ");
		x = figure(r, y, x, "HR@10 ", jnum(mt, "next_item.hr10"), 8);
		x = figure(r, y, x, "NDCG@10 ", jnum(mt, "next_item.ndcg10"),
		    0);
		x = figure(r, y, x, "popularity ", jnum(mt,
		    "next_item.baselines.popularity.hr10"), 0);
		verdict(r, y++, x, jnum(mt, "next_item.beats_baselines"));
		x = render_text(r, y, 1, ROLE_HEADER, "next type  ");
		x = figure(r, y, x, "accuracy ", jnum(mt, "next_type.accuracy"),
		    8);
		x = figure(r, y, x, "successor ", jnum(mt,
		    "next_type.baselines.most_frequent_successor.accuracy"), 0);
		verdict(r, y++, x, jnum(mt, "next_type.beats_baselines"));
	}
	/* its scores */
	if (c->tot_for != m->id) {
		struct err e;

		err_clear(&e);
		if (store_browse_totals(a->br, m->id, &c->tot, &e) < 0)
			memset(&c->tot, 0, sizeof(c->tot));
		c->tot_for = m->id;
	}
	if (c->tot.scored > 0)
		snprintf(b, sizeof(b), "scores     %s customers as of %s%smean "
		    "%.3f%s%s at 0.5 or more", render_fmt_int(c->tot.scored, n1,
		    sizeof(n1)), render_fmt_date(c->tot.score_at, 0, d,
		    sizeof(d)), sep, c->tot.mean_churn, sep, render_fmt_int(
		    c->tot.high_risk, n2, sizeof(n2)));
	else
		snprintf(b, sizeof(b), "scores     none yet%s", a->readonly ?
		    " (read-only store: journeyscope score DB stores them)" :
		    ": r scores every customer");
	render_textw(r, y++, 1, cols - 2, ROLE_NORMAL, b, 0);
	return y;
}

/* The job's gauge on row y. */
static void
draw_job(struct screen *s, struct render *r, int y, int cols)
{
	struct card *c = s->priv;
	char b[256], n1[32], n2[32];
	double frac = 0;

	if (c->job == JOB_SCORE) {
		int64_t done, total;

		pthread_mutex_lock(&c->sc->mu);
		done = c->sc->done;
		total = c->sc->total;
		pthread_mutex_unlock(&c->sc->mu);
		frac = total > 0 ? (double)done / (double)total : 0;
		snprintf(b, sizeof(b), "scoring %s of %s customers (Esc "
		    "cancels: nothing is stored)", render_fmt_int(done, n1,
		    sizeof(n1)), render_fmt_int(total, n2, sizeof(n2)));
	} else {
		struct trainer *t = c->tr;
		struct train_progress p;
		char phase[32];

		pthread_mutex_lock(&t->mu);
		p = t->p;
		memcpy(phase, t->phase, sizeof(phase));
		pthread_mutex_unlock(&t->mu);
		if (strcmp(phase, "training") == 0 && p.epochs > 0) {
			frac = ((double)(p.epoch - 1) + (p.steps > 0 ?
			    (double)p.step / (double)p.steps : 0)) / p.epochs;
			snprintf(b, sizeof(b), "training: epoch %d/%d, loss "
			    "churn %.3f, ETA %.0f s (Esc cancels; the best "
			    "epoch so far is kept)", p.epoch, p.epochs,
			    p.loss_churn, p.eta);
		} else {
			frac = p.total > 0 ? (double)p.done /
			    (double)p.total : 0;
			snprintf(b, sizeof(b), "training: %s %s (Esc cancels)",
			    phase[0] ? phase : "starting", p.total > 0 ?
			    render_fmt_int(p.done, n1, sizeof(n1)) : "");
		}
	}
	render_fill(r, y, 0, cols, ROLE_NORMAL);
	render_gauge(r, y, 1, cols >= 100 ? 30 : 16, frac, b);
}

/* The screen. */
static void
card_draw(struct screen *s, struct render *r)
{
	struct card *c = s->priv;
	int rows, cols, y, i, bottom;
	char b[256], d[32];

	render_size(r, &rows, &cols);
	bottom = rows - 2 - (c->job != JOB_NONE);
	if (c->n == 0) {
		render_text(r, 2, 1, ROLE_NOTE, "no model in this store");
		render_text(r, 3, 1, ROLE_NORMAL, s->app->readonly ?
		    "read-only store: journeyscope train DB trains one" :
		    "t trains one with journeyscope train's defaults (or run "
		    "journeyscope train DB)");
		s->list.n = 0;
		snprintf(s->info, sizeof(s->info), "0 models ");
	} else {
		tui_list_clamp(&s->list);
		y = draw_card(s, r, &c->models[s->list.cur], 1, cols);
		y++;
		if (y < bottom) {
			render_fill(r, y, 0, cols, ROLE_HEADER);
			render_text(r, y++, 1, ROLE_HEADER, "models in this "
			    "store (Enter makes one current)");
		}
		s->list.y0 = y;
		s->list.page = bottom - y + 1 > 1 ? bottom - y + 1 : 1;
		s->list.n = (int)c->n;
		tui_list_clamp(&s->list);
		for (i = s->list.top; i < (int)c->n && y <= bottom; i++, y++) {
			const struct store_model *m = &c->models[i];
			int sel = i == s->list.cur;
			enum role role = sel ? ROLE_SELECTED : ROLE_NORMAL;

			render_fill(r, y, 0, cols, role);
			if (sel)
				render_text(r, y, 0, role, render_glyph(r,
				    GL_CURSOR));
			snprintf(b, sizeof(b), "%-12s %s  d %g  L %g  H %g  "
			    "max_len %g  churn AUC %.3f%s", m->name,
			    render_fmt_date(m->created, 1, d, sizeof(d)),
			    jnum(m->config, "d_model"), jnum(m->config,
			    "n_layers"), jnum(m->config, "n_heads"),
			    jnum(m->config, "max_len"), jnum(m->metrics,
			    "churn.roc_auc"), s->app->has_model &&
			    s->app->mrow.id == m->id ? "  (current)" : "");
			render_textw(r, y, 2, cols - 3, role, b, 0);
		}
		snprintf(s->info, sizeof(s->info), "model %d of %zu ",
		    s->list.cur + 1, c->n);
	}
	if (c->job != JOB_NONE)
		draw_job(s, r, rows - 2, cols);
}

/* ---- scoring ---- */

/* One scored customer into the store (the thread). */
static int
score_one(void *ctx, const struct explain_scored *sc, struct err *e)
{
	struct scorer *t = ctx;
	int stop;

	if (store_score_put(t->sw, t->model_id, sc->customer->id, t->at,
	    sc->churn, vocab_type(t->m->vocab, sc->next_type), e) < 0)
		return -1;
	pthread_mutex_lock(&t->mu);
	t->done++;
	stop = t->stop;
	pthread_mutex_unlock(&t->mu);
	return stop ? err_set(e, ERR_INTR, "scoring cancelled: nothing "
	    "stored") : 0;
}

/* The scoring thread: its own connection, one transaction. */
static void *
score_main(void *arg)
{
	struct scorer *t = arg;
	struct explain_batch *xb = NULL;
	struct store *s;
	int rc = -1;

	if ((s = store_open(t->path, 0, &t->e)) != NULL &&
	    store_begin(s, &t->e) == 0) {
		if ((xb = explain_batch_new(s, t->m, INT64_MAX, SCORE_BATCH,
		    &t->e)) != NULL && (t->sw = store_scorer_new(s,
		    &t->e)) != NULL) {
			pthread_mutex_lock(&t->mu);
			t->total = explain_batch_total(xb);
			pthread_mutex_unlock(&t->mu);
			while ((rc = explain_batch_step(xb, score_one, t,
			    &t->e)) > 0)
				;
		}
		store_scorer_free(t->sw);
		t->sw = NULL;
		if (rc == 0)
			rc = store_commit(s, &t->e);
		else
			store_rollback(s);
	}
	explain_batch_free(xb);
	store_close(s);
	pthread_mutex_lock(&t->mu);
	t->rc = rc;
	t->finished = 1;
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Wait for the scoring thread; its result to the status line. */
static void
score_end(struct screen *s)
{
	struct app *a = s->app;
	struct card *c = s->priv;
	struct scorer *t = c->sc;
	char n1[32];

	pthread_join(t->th, NULL);
	c->sc = NULL;
	c->job = JOB_NONE;
	if (t->rc == 0) {
		tui_note(a, 0, "scored %s customers with %s in %.1f s",
		    render_fmt_int(t->done, n1, sizeof(n1)), a->mrow.name,
		    tui_now() - t->t0);
		c->tot_for = 0;
		tui_reload(a);		/* every screen reads the new scores */
	} else
		tui_note(a, t->e.code != ERR_INTR, "%s", t->e.msg);
	pthread_mutex_destroy(&t->mu);
	free(t->path);
	free(t);
}

/* Start scoring every customer with the current model. */
static void
score_start(struct screen *s)
{
	struct app *a = s->app;
	struct card *c = s->priv;
	struct scorer *t;
	struct nn_model *m;

	if (a->readonly) {
		tui_note(a, 0, "read-only store: scores cannot be stored "
		    "(journeyscope score DB)");
		return;
	}
	if ((m = tui_model(a)) == NULL) {
		tui_note(a, 0, "%s", a->model_note);
		return;
	}
	t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	t->path = xstrdup(a->path);
	t->m = m;
	t->model_id = a->mrow.id;
	t->at = a->last_ts;		/* the window now: every event */
	t->t0 = tui_now();
	err_clear(&t->e);
	if (pthread_create(&t->th, NULL, score_main, t) != 0) {
		pthread_mutex_destroy(&t->mu);
		free(t->path);
		free(t);
		tui_note(a, 1, "cannot start the scoring thread");
		return;
	}
	c->sc = t;
	c->job = JOB_SCORE;
}

/* ---- training ---- */

/* The training thread's progress callback: copy, and the stop flag. */
static int
train_cb(void *ctx, const struct train_progress *p)
{
	struct trainer *t = ctx;
	int stop;

	pthread_mutex_lock(&t->mu);
	t->p = *p;
	snprintf(t->phase, sizeof(t->phase), "%s", p->phase);
	t->p.phase = NULL;
	stop = t->stop;
	pthread_mutex_unlock(&t->mu);
	return stop;
}

/* The training thread: its own connection, then train_run. */
static void *
train_main(void *arg)
{
	struct trainer *t = arg;
	struct store *s;
	int rc = -1;

	if ((s = store_open(t->path, 0, &t->e)) != NULL) {
		rc = train_run(s, &t->o, train_cb, t, &t->res, &t->e);
		store_close(s);
	}
	pthread_mutex_lock(&t->mu);
	t->rc = rc;
	t->finished = 1;
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Start training a model with train's defaults. */
static void
train_start(struct screen *s)
{
	struct app *a = s->app;
	struct card *c = s->priv;
	struct trainer *t;

	if (a->readonly) {
		tui_note(a, 0, "read-only store: cannot add a model "
		    "(journeyscope train DB)");
		return;
	}
	t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	t->path = xstrdup(a->path);
	train_opts_init(&t->o);
	t->t0 = tui_now();
	err_clear(&t->e);
	if (pthread_create(&t->th, NULL, train_main, t) != 0) {
		pthread_mutex_destroy(&t->mu);
		free(t->path);
		free(t);
		tui_note(a, 1, "cannot start the training thread");
		return;
	}
	c->tr = t;
	c->job = JOB_TRAIN;
}

/* Wait for the thread and free it; the result to the status line. */
static void
train_end(struct screen *s)
{
	struct app *a = s->app;
	struct card *c = s->priv;
	struct trainer *t = c->tr;
	struct err e;

	pthread_join(t->th, NULL);
	c->tr = NULL;
	c->job = JOB_NONE;
	err_clear(&e);
	if (t->rc == 0) {
		char name[64];

		snprintf(name, sizeof(name), "%s", t->res.name);
		if (card_reload(s, &e) < 0 || tui_use_model(a, name, &e) < 0)
			tui_note(a, 1, "%s", e.msg);
		else
			tui_note(a, 0, "trained %s in %.0f s (%d epochs%s); it "
			    "is current: r scores the customers", name,
			    tui_now() - t->t0, t->res.epochs_run,
			    t->res.stopped ? ", stopped early" : "");
		card_reload(s, &e);
	} else
		tui_note(a, t->e.code != ERR_INTR, "training %s: %s",
		    t->stop ? "cancelled" : "failed", t->e.msg);
	train_result_release(&t->res);
	pthread_mutex_destroy(&t->mu);
	free(t->path);
	free(t);
}

/* Ask the thread to stop (it stops at its next progress report). */
static void
train_cancel(struct card *c)
{
	pthread_mutex_lock(&c->tr->mu);
	c->tr->stop = 1;
	pthread_mutex_unlock(&c->tr->mu);
}

/* ---- the screen ---- */

/* Has the job's thread finished? */
static int
job_finished(struct card *c)
{
	pthread_mutex_t *mu = c->job == JOB_SCORE ? &c->sc->mu : &c->tr->mu;
	int fin;

	pthread_mutex_lock(mu);
	fin = c->job == JOB_SCORE ? c->sc->finished : c->tr->finished;
	pthread_mutex_unlock(mu);
	return fin;
}

/* Idle: a look at the job's thread; its result when it is done. */
static int
card_idle(struct screen *s)
{
	struct card *c = s->priv;

	if (c->job == JOB_NONE)
		return TUI_IDLE_DONE;
	if (!job_finished(c))
		return TUI_IDLE_WAIT;
	if (c->job == JOB_SCORE)
		score_end(s);
	else
		train_end(s);
	return TUI_IDLE_DONE;
}

/* Cancel whatever runs (it stops at its next customer or step). */
static void
cancel(struct screen *s)
{
	struct card *c = s->priv;

	if (c->job == JOB_SCORE) {
		pthread_mutex_lock(&c->sc->mu);
		c->sc->stop = 1;
		pthread_mutex_unlock(&c->sc->mu);
		tui_note(s->app, 0, "cancelling the scoring");
	} else if (c->job == JOB_TRAIN) {
		train_cancel(c);
		tui_note(s->app, 0, "stopping the training at its next step");
	}
}

/* Cancel and wait: the screen closes or the model goes. */
static void
stop_job(struct screen *s)
{
	struct card *c = s->priv;

	if (c->job == JOB_NONE)
		return;
	cancel(s);
	if (c->job == JOB_SCORE)
		score_end(s);
	else
		train_end(s);
}

/* Actions. */
static int
card_action(struct screen *s, enum action act)
{
	struct app *a = s->app;
	struct card *c = s->priv;
	struct err e;

	err_clear(&e);
	switch (act) {
	case ACT_BACK:
		if (c->job != JOB_NONE) {
			cancel(s);
			return TUI_HANDLED | TUI_REDRAW;
		}
		return 0;
	case ACT_SCORE:
		if (c->job != JOB_NONE)
			tui_note(a, 0, "one job at a time: Esc cancels "
			    "this one");
		else
			score_start(s);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_TRAIN:
		if (c->job != JOB_NONE)
			tui_note(a, 0, "one job at a time: Esc cancels "
			    "this one");
		else
			train_start(s);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_ENTER:
		if (c->n == 0)
			return TUI_HANDLED;
		if (c->job != JOB_NONE) {
			tui_note(a, 0, "wait for the job or cancel it (Esc)");
			return TUI_HANDLED | TUI_REDRAW;
		}
		if (tui_use_model(a, c->models[s->list.cur].name, &e) < 0)
			tui_note(a, 1, "%s", e.msg);
		else
			tui_note(a, 0, "model %s is current", a->mrow.name);
		return TUI_HANDLED | TUI_REDRAW;
	case ACT_UNLOAD:
		if (c->job == JOB_SCORE)
			stop_job(s);	/* it runs the model that goes */
		return 0;
	case ACT_RELOAD:
		c->tot_for = 0;
		return TUI_REDRAW;
	default:
		return 0;
	}
}

/* Open: the store's models, the cursor on the current one. */
static int
card_open(struct screen *s, struct app *a, struct err *e)
{
	struct card *c = xcalloc(1, sizeof(*c));

	(void)a;
	s->priv = c;
	if (card_reload(s, e) < 0) {
		free(c);
		return -1;
	}
	return 0;
}

/* Close: a running job is cancelled (training: waited for). */
static void
card_close(struct screen *s)
{
	struct card *c = s->priv;

	stop_job(s);
	store_models_free(c->models, c->n);
	free(c);
}

const struct screen_ops screen_model = {
	"model card", &keys_model, card_open, card_close, card_draw,
	card_action, card_idle
};
