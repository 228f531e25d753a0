/*
 * cmd-score.c: journeyscope score DB -- the churn probability and the
 * most likely next event type of every customer, in batches: customers
 * are read a chunk at a time in id order, their windows sorted by length
 * so that a batch pads little, and the scores are stored (table scores,
 * one transaction: all of them or none) and printed.
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

/* Customers read from the store at a time. */
#define SCORE_CHUNK	1024

static volatile sig_atomic_t score_stop;

static void
score_on_signal(int sig)
{
	(void)sig;
	score_stop = 1;
}

struct scorer {
	const struct nn_model	*m;
	struct nn_acts		*a;
	struct store_hreader	*hr;
	struct store_history	 h;
	struct customer		*cust;		/* (SCORE_CHUNK) */
	struct tok		*stage;		/* (SCORE_CHUNK, max_len) */
	int			*len;		/* (SCORE_CHUNK) 0: no events */
	int			*order;		/* by length */
	struct tok		*tok;		/* (batch, max_len) */
	int			*blen;
	float			*churn;		/* (SCORE_CHUNK) */
	int			*next;		/* (SCORE_CHUNK) type index */
	size_t			*idx;
	int			 B;
};

/* Longest first: ties by position, so the order is deterministic. */
static const int *sort_len;
static int
by_len(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	if (sort_len[x] != sort_len[y])
		return sort_len[y] - sort_len[x];
	return x - y;
}

/* Score n customers of the chunk: windows, batches, heads. */
static int
score_chunk(struct scorer *sc, int n, int64_t at, struct err *e)
{
	const int T = sc->m->cfg.max_len, NT = sc->m->cfg.n_types;
	int i, k, b, t, j, best;

	for (i = 0; i < n; i++) {
		size_t w;

		if (store_history_read(sc->hr, sc->cust[i].id, at, (size_t)T,
		    &sc->h, e) < 0)
			return -1;
		w = tokens_select(sc->h.n, NULL, (size_t)T, sc->idx);
		tokens_window(sc->m->vocab, sc->h.ev, sc->idx, w,
		    sc->stage + (size_t)i * T);
		sc->len[i] = (int)w;
		sc->order[i] = i;
	}
	sort_len = sc->len;
	qsort(sc->order, (size_t)n, sizeof(int), by_len);
	for (k = 0; k < n; k += b) {
		for (b = 0; b < sc->B && k + b < n &&
		    sc->len[sc->order[k + b]] > 0; b++)
			;
		if (b == 0)
			break;		/* the rest have no events */
		t = sc->len[sc->order[k]];
		for (j = 0; j < b; j++) {
			int c = sc->order[k + j];

			memcpy(sc->tok + (size_t)j * t, sc->stage +
			    (size_t)c * T, sizeof(struct tok) *
			    (size_t)sc->len[c]);
			sc->blen[j] = sc->len[c];
		}
		nn_forward(sc->m, sc->a, sc->tok, sc->blen, b, t, NN_LAST, 0);
		for (j = 0; j < b; j++) {
			int c = sc->order[k + j];
			const float *p = sc->a->type_prob + (size_t)j * NT;

			sc->churn[c] = sc->a->churn[j];
			for (best = TOK_UNK + 1, i = best + 1; i < NT; i++)
				if (p[i] > p[best])
					best = i;
			sc->next[c] = best < NT ? best : TOK_UNK;
		}
	}
	return 0;
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

/* journeyscope score DB */
static int
score_run(int argc, char **argv, struct optval *ov)
{
	const char *mname = opt_str(ov, "model", NULL), *ats = opt_str(ov,
	    "at", NULL);
	int csv = opt_isset(ov, "csv"), json = opt_isset(ov, "json"),
	    quiet = opt_isset(ov, "quiet"), bar, rc = 1, n, i, began = 0;
	struct sigaction sa, old_int, old_term;
	struct store_scorer *w = NULL;
	struct store_model mr;
	struct nn_model *m = NULL;
	struct store *s = NULL;
	struct store_info info;
	struct scorer sc;
	struct tparse tp;
	struct err e;
	int64_t at = INT64_MAX, stored_at, after = 0, done = 0, scored = 0,
	    batch;
	double t0 = mono(), sum = 0;

	(void)argc;
	err_clear(&e);
	memset(&sc, 0, sizeof(sc));
	memset(&mr, 0, sizeof(mr));
	memset(&info, 0, sizeof(info));
	if (csv && json) {
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
	if ((s = store_open(argv[0], 0, &e)) == NULL ||
	    store_info_get(s, &info, &e) < 0 ||
	    (m = explain_load_model(s, mname, &mr, &e)) == NULL)
		goto out;
	/* as of --at, else of the last event: the window now */
	stored_at = at != INT64_MAX ? at : info.last_ts;
	sc.m = m;
	sc.B = (int)batch;
	if ((sc.hr = store_hreader_new(s, 0, &e)) == NULL ||
	    (sc.a = nn_acts_new(&m->cfg, sc.B, m->cfg.max_len, 0, &e)) ==
	    NULL || (w = store_scorer_new(s, &e)) == NULL)
		goto out;
	store_history_init(&sc.h);
	sc.cust = xcalloc(SCORE_CHUNK, sizeof(*sc.cust));
	sc.stage = xcalloc((size_t)SCORE_CHUNK * m->cfg.max_len,
	    sizeof(*sc.stage));
	sc.len = xcalloc(SCORE_CHUNK, sizeof(int));
	sc.order = xcalloc(SCORE_CHUNK, sizeof(int));
	sc.tok = xcalloc((size_t)sc.B * m->cfg.max_len, sizeof(*sc.tok));
	sc.blen = xcalloc((size_t)sc.B, sizeof(int));
	sc.churn = xcalloc(SCORE_CHUNK, sizeof(float));
	sc.next = xcalloc(SCORE_CHUNK, sizeof(int));
	sc.idx = xcalloc((size_t)m->cfg.max_len, sizeof(size_t));
	bar = !quiet && isatty(2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = score_on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (store_begin(s, &e) < 0)
		goto restore;
	began = 1;
	if (!quiet && csv)
		printf("customer,churn,next_type\n");
	else if (!quiet && json)
		printf("[");
	else if (!quiet)
		printf("%-16s %7s  %s\n", "customer", "churn", "next_type");
	while ((n = store_customers_by_id(s, after, sc.cust, SCORE_CHUNK,
	    &e)) > 0) {
		if (score_stop) {
			err_set(&e, ERR_INTR, "interrupted: no scores stored");
			goto restore;
		}
		if (score_chunk(&sc, n, at, &e) < 0)
			goto restore;
		for (i = 0; i < n; i++) {
			const char *nt;

			if (sc.len[i] == 0)
				continue;
			nt = vocab_type(m->vocab, sc.next[i]);
			if (store_score_put(w, mr.id, sc.cust[i].id, stored_at,
			    sc.churn[i], nt, &e) < 0)
				goto restore;
			sum += sc.churn[i];
			if (quiet)
				;
			else if (csv) {
				csv_put(sc.cust[i].ext_id);
				printf(",%.6f,", sc.churn[i]);
				csv_put(nt);
				putchar('\n');
			} else if (json) {
				struct buf b, c;

				buf_init(&b);
				buf_init(&c);
				buf_add_json_str(&b, sc.cust[i].ext_id,
				    strlen(sc.cust[i].ext_id));
				buf_add_json_str(&c, nt, strlen(nt));
				printf("%s\n {\"customer\":%s,\"churn\":%.6f,"
				    "\"next_type\":%s}", scored ? "," : "",
				    b.data, sc.churn[i], c.data);
				buf_release(&b);
				buf_release(&c);
			} else
				printf("%-16s %7.4f  %s\n", sc.cust[i].ext_id,
				    sc.churn[i], nt);
			scored++;
		}
		done += n;
		after = sc.cust[n - 1].id;
		if (bar)
			score_progress(done, info.customers, t0);
	}
	if (n < 0)
		goto restore;
	if (!quiet && json)
		printf("%s]\n", scored ? "\n" : "");
	if (store_commit(s, &e) < 0)
		goto restore;
	began = 0;
	rc = 0;
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (bar)
		fputs("\r\033[K", stderr);
out:
	if (began)
		store_rollback(s);
	fflush(stdout);
	if (rc != 0)
		cmd_error("%s", e.msg);
	else
		fprintf(stderr, "scored %" PRId64 " customers with model %s "
		    "(%" PRId64 " without events skipped), mean churn %.3f, "
		    "in %.2f s (%.0f customers/s)\n", scored, mr.name,
		    done - scored, scored ? sum / scored : 0.0, mono() - t0,
		    scored / (mono() - t0 > 0 ? mono() - t0 : 1));
	store_scorer_free(w);
	store_hreader_free(sc.hr);
	store_history_release(&sc.h);
	nn_acts_free(sc.a);
	free(sc.cust);
	free(sc.stage);
	free(sc.len);
	free(sc.order);
	free(sc.tok);
	free(sc.blen);
	free(sc.churn);
	free(sc.next);
	free(sc.idx);
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
