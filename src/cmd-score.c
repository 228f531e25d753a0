/*
 * cmd-score.c: journeyscope score DB -- the churn probability and the
 * most likely next event type of every customer, in batches
 * (explain_batch: windows sorted by length so that a batch pads little),
 * stored (table scores, one transaction: all of them or none) and
 * printed.
 */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "explain.h"
#include "nn.h"
#include "store.h"
#include "tokens.h"
#include "tparse.h"
#include "util.h"

static const struct opt score_opt_table[] = {
	{ "model", 'm', "NAME", "the model (default: the newest)" },
	{ "at", 0, "TIME", "score as of TIME (default: now, every event)" },
	{ "csv", 0, NULL, "print customer,churn,next_type as CSV" },
	{ "json", 'j', NULL, "print a JSON array" },
	{ "batch", 'b', "N", "windows per forward pass (default 64)" },
	{ "quiet", 'q', NULL, "no progress bar, no table (scores are still "
	    "stored)" },
	{ NULL, 0, NULL, NULL }
};

static volatile sig_atomic_t score_stop;

/* SIGINT, SIGTERM: stop after the chunk (nothing is stored). */
static void
score_on_signal(int sig)
{
	(void)sig;
	score_stop = 1;
}

/* A CSV field, quoted (RFC 4180) when it must be. */
static void
csv_put(const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (p = s; *p; p++) {
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	putchar('"');
}

/* The progress bar. */
static void
score_progress(int64_t done, int64_t total, double t0)
{
	struct timespec ts;
	double el, frac = total > 0 ? (double)done / (double)total : 1;
	int i, w = 30;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	el = (double)ts.tv_sec + ts.tv_nsec / 1e9 - t0;
	fputs("\r[", stderr);
	for (i = 0; i < w; i++)
		fputc(i < (int)(frac * w) ? '#' : '.', stderr);
	fprintf(stderr, "] %3.0f%% %" PRId64 "/%" PRId64 " customers %.0f/s "
	    "ETA %.0fs\033[K", frac * 100, done, total, el > 0 ? done / el :
	    0, frac > 0 ? el / frac - el : 0.0);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What the callback needs. */
struct score_out {
	const struct nn_model	*m;
	struct store_scorer	*w;
	int64_t			 model_id, at, scored;
	int			 csv, json, quiet;
	double			 sum;
};

/* One customer: stored, then printed. */
static int
score_one(void *ctx, const struct explain_scored *sc, struct err *e)
{
	struct score_out *o = ctx;
	const char *nt = vocab_type(o->m->vocab, sc->next_type),
	    *id = sc->customer->ext_id;

	if (store_score_put(o->w, o->model_id, sc->customer->id, o->at,
	    sc->churn, nt, e) < 0)
		return -1;
	o->sum += sc->churn;
	if (o->quiet)
		;
	else if (o->csv) {
		csv_put(id);
		printf(",%.6f,", sc->churn);
		csv_put(nt);
		putchar('\n');
	} else if (o->json) {
		struct buf b, c;

		buf_init(&b);
		buf_init(&c);
		buf_add_json_str(&b, id, strlen(id));
		buf_add_json_str(&c, nt, strlen(nt));
		printf("%s\n {\"customer\":%s,\"churn\":%.6f,"
		    "\"next_type\":%s}", o->scored ? "," : "", b.data,
		    sc->churn, c.data);
		buf_release(&b);
		buf_release(&c);
	} else
		printf("%-16s %7.4f  %s\n", id, sc->churn, nt);
	o->scored++;
	return 0;
}

/* journeyscope score DB */
static int
score_run(int argc, char **argv, struct optval *ov)
{
	const char *mname = opt_str(ov, "model", NULL), *ats = opt_str(ov,
	    "at", NULL);
	struct sigaction sa, old_int, old_term;
	struct explain_batch *xb = NULL;
	struct store_model mr;
	struct nn_model *m = NULL;
	struct store *s = NULL;
	struct store_info info;
	struct score_out o;
	struct tparse tp;
	struct err e;
	int64_t at = INT64_MAX, batch;
	int bar, rc = 1, r, began = 0, sig = 0;
	double t0 = mono();

	(void)argc;
	err_clear(&e);
	memset(&o, 0, sizeof(o));
	memset(&mr, 0, sizeof(mr));
	memset(&info, 0, sizeof(info));
	o.csv = opt_isset(ov, "csv");
	o.json = opt_isset(ov, "json");
	o.quiet = opt_isset(ov, "quiet");
	if (o.csv && o.json) {
		cmd_error("score: --csv or --json, not both");
		return 2;
	}
	if (opt_int(ov, "batch", 64, 1, 4096, &batch, &e) < 0) {
		cmd_error("score: %s", e.msg);
		return 2;
	}
	tparse_init(&tp, NULL);
	if (ats != NULL && tparse_parse(&tp, ats, strlen(ats), &at, &e) < 0) {
		cmd_error("score: --at %s: %s", ats, e.msg);
		return 2;
	}
	if ((s = cmd_store_open(argv[0], 0, &e)) == NULL ||
	    store_info_get(s, &info, &e) < 0 ||
	    (m = explain_load_model(s, mname, &mr, &e)) == NULL ||
	    (xb = explain_batch_new(s, m, at, (int)batch, &e)) == NULL ||
	    (o.w = store_scorer_new(s, &e)) == NULL)
		goto out;
	o.m = m;
	o.model_id = mr.id;
	/* as of --at, else of the last event: the window now */
	o.at = at != INT64_MAX ? at : info.last_ts;
	bar = !o.quiet && isatty(2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = score_on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sig = 1;
	if (store_begin(s, &e) < 0)
		goto out;
	began = 1;
	if (!o.quiet && o.csv)
		printf("customer,churn,next_type\n");
	else if (!o.quiet && o.json)
		printf("[");
	else if (!o.quiet)
		printf("%-16s %7s  %s\n", "customer", "churn", "next_type");
	while ((r = explain_batch_step(xb, score_one, &o, &e)) > 0) {
		if (score_stop) {
			err_set(&e, ERR_INTR, "interrupted: no scores stored");
			goto out;
		}
		if (bar)
			score_progress(explain_batch_done(xb),
			    explain_batch_total(xb), t0);
	}
	if (r < 0)
		goto out;
	if (!o.quiet && o.json)
		printf("%s]\n", o.scored ? "\n" : "");
	if (store_commit(s, &e) < 0)
		goto out;
	began = 0;
	rc = 0;
out:
	if (sig) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		if (bar)
			fputs("\r\033[K", stderr);
	}
	if (began)
		store_rollback(s);
	fflush(stdout);
	if (rc != 0)
		cmd_error("%s", e.msg);
	else
		fprintf(stderr, "scored %" PRId64 " customers with model %s "
		    "(%" PRId64 " without events skipped), mean churn %.3f, "
		    "in %.2f s (%.0f customers/s)\n", o.scored, mr.name,
		    explain_batch_done(xb) - o.scored, o.scored ? o.sum /
		    o.scored : 0.0, mono() - t0, o.scored / (mono() - t0 > 0 ?
		    mono() - t0 : 1));
	store_scorer_free(o.w);
	explain_batch_free(xb);
	nn_model_free(m);
	store_model_release(&mr);
	store_info_release(&info);
	store_close(s);
	return rc;
}

const struct cmd cmd_score = {
	"score", "DB", "churn probability and most likely next event type "
	    "of every customer, in batches, stored in the store",
	score_opt_table, score_run, 1, 1
};
