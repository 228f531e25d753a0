/*
 * cmd-sample.c: journeyscope sample DB -- generated customer journeys
 * with planted behaviour triggers and their ground truth, added to the
 * store as one import (all or nothing), or written as a CSV file that
 * the importer's clickstream preset reads. A progress bar on a terminal
 * and a summary line, both on stderr.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "sample.h"
#include "store.h"
#include "tparse.h"
#include "util.h"

static const struct opt sample_opt_table[] = {
	{ "customers", 'n', "N", "number of customers (default 500)" },
	{ "seed", 's', "S", "random seed, 0 or more (default 1); the same "
	    "options give the same data on any machine" },
	{ "start", 0, "DATE", "first day, YYYY-MM-DD in UTC (default "
	    "2024-01-01)" },
	{ "days", 'd', "D", "days of activity (default 365)" },
	{ "csv", 0, "FILE", "write the events as CSV (for --preset "
	    "clickstream) to FILE, - for standard output, instead of into "
	    "a store; no DB then" },
	{ "force", 'f', NULL, "add the sample even if the store holds it "
	    "already" },
	{ "quiet", 'q', NULL, "no progress bar" },
	{ NULL, 0, NULL, NULL }
};

/* The CSV columns, in order. */
static const char csv_header[] = "user_id,session_id,event,timestamp,"
    "item_id,item_name,category,price,amount,quantity,channel,text,rating,"
    "status,archetype,country,campaign\n";

/* A new session after this long without an event (seconds). */
#define CSV_SESSION_GAP	(30 * 60)

static volatile sig_atomic_t stop;

/* SIGINT, SIGTERM: stop at the next event (the import is rolled back). */
static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct sample_ui {
	struct ingest	*g;		/* into a store, or */
	FILE		*fp;		/* into a CSV file */
	struct buf	 line;
	int64_t		 events, truths, rows;
	int		 bar;		/* stderr is a terminal */
	double		 t0;
	char		 cust[32];	/* CSV: the current customer */
	int64_t		 last_ts;	/* CSV: its last event */
	int64_t		 session;	/* CSV: sessions so far */
};

/* Seconds on the monotonic clock. */
static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- into a store ---- */

/* Sink: one event into the store, unless interrupted. */
static int64_t
store_event(void *ctx, const struct ingest_event *ev, struct err *e)
{
	struct sample_ui *ui = ctx;
	int64_t id;

	if (stop)
		return err_set(e, ERR_INTR, "interrupted");
	if ((id = store_ingest_event(ui->g, ev, e)) > 0)
		ui->events++;
	return id;
}

/* Sink: one ground-truth row into the store. */
static int
store_truth(void *ctx, const char *rule, const char *customer,
    const char *outcome, int fired, const int64_t *ids, size_t n,
    struct err *e)
{
	struct sample_ui *ui = ctx;

	ui->truths++;
	return store_ingest_truth(ui->g, rule, customer, outcome, fired, ids,
	    n, e);
}

/* Sink: one catalog item into the store. */
static int
store_item(void *ctx, const char *item, const char *name,
    const char *category, double price, struct err *e)
{
	struct sample_ui *ui = ctx;

	return store_ingest_item(ui->g, item, name, category, price, e);
}

/* ---- into a CSV file ---- */

/* One field, quoted (RFC 4180) when it holds a comma, quote or line end. */
static void
csv_field(struct buf *b, const char *s, int last)
{
	const char *p;

	if (s != NULL && strpbrk(s, ",\"\r\n") != NULL) {
		buf_addc(b, '"');
		for (p = s; *p; p++) {
			if (*p == '"')
				buf_addc(b, '"');
			buf_addc(b, *p);
		}
		buf_addc(b, '"');
	} else if (s != NULL)
		buf_adds(b, s);
	buf_addc(b, last ? '\n' : ',');
}

/*
 * A number field, empty when missing: money with two decimals, else a
 * whole number. Formatted from integers, so a locale with a decimal
 * comma cannot change the file.
 */
static void
csv_num(struct buf *b, double v, int money)
{
	long long x;
	char s[64];

	if (isnan(v)) {
		csv_field(b, NULL, 0);
		return;
	}
	x = llround(money ? v * 100 : v);
	if (money)
		snprintf(s, sizeof(s), "%s%lld.%02lld", x < 0 ? "-" : "",
		    llabs(x) / 100, llabs(x) % 100);
	else
		snprintf(s, sizeof(s), "%lld", x);
	csv_field(b, s, 0);
}

/* The string value of "key" in a flat JSON object the generator wrote. */
static const char *
json_get(const char *json, const char *key, char *out, size_t len)
{
	char pat[48];
	const char *p, *q;

	if (json == NULL)
		return NULL;
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(json, pat)) == NULL)
		return NULL;
	p += strlen(pat);
	if ((q = strchr(p, '"')) == NULL || (size_t)(q - p) >= len)
		return NULL;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return out;
}

/* Write one event as a CSV row; its id is its line in the file. */
static int64_t
csv_event(void *ctx, const struct ingest_event *ev, struct err *e)
{
	struct sample_ui *ui = ctx;
	struct buf *b = &ui->line;
	char t[32], sess[48], v[5][64];
	int first;

	if (stop)
		return err_set(e, ERR_INTR, "interrupted");
	first = strcmp(ev->customer, ui->cust) != 0;
	if (first || ev->ts - ui->last_ts > CSV_SESSION_GAP)
		ui->session++;
	if (first)
		snprintf(ui->cust, sizeof(ui->cust), "%s", ev->customer);
	ui->last_ts = ev->ts;
	snprintf(sess, sizeof(sess), "S%" PRId64, ui->session);
	buf_reset(b);
	csv_field(b, ev->customer, 0);
	csv_field(b, sess, 0);
	csv_field(b, ev->type, 0);
	csv_field(b, cmd_time(ev->ts, t, sizeof(t)), 0);
	csv_field(b, ev->item, 0);
	csv_field(b, ev->item_name, 0);
	csv_field(b, ev->category, 0);
	csv_num(b, ev->price, 1);
	csv_num(b, ev->amount, 1);
	csv_num(b, ev->quantity, 0);
	csv_field(b, ev->channel, 0);
	csv_field(b, ev->text, 0);
	csv_field(b, json_get(ev->attrs, "rating", v[0], sizeof(v[0])), 0);
	csv_field(b, json_get(ev->attrs, "status", v[1], sizeof(v[1])), 0);
	/* customer attributes once, on the customer's first row */
	csv_field(b, first ? json_get(ev->cust_attrs, "archetype", v[2],
	    sizeof(v[2])) : NULL, 0);
	csv_field(b, first ? json_get(ev->cust_attrs, "country", v[3],
	    sizeof(v[3])) : NULL, 0);
	csv_field(b, json_get(ev->attrs, "campaign", v[4], sizeof(v[4])), 1);
	if (fwrite(b->data, 1, b->len, ui->fp) != b->len)
		return err_set(e, ERR_IO, "writing CSV: %s", strerror(errno));
	ui->events++;
	return ++ui->rows + 1;		/* line 1 is the header */
}

/* CSV files carry no ground truth: count it for the summary. */
static int
csv_truth(void *ctx, const char *rule, const char *customer,
    const char *outcome, int fired, const int64_t *ids, size_t n,
    struct err *e)
{
	struct sample_ui *ui = ctx;

	ui->truths++;
	return 0;
}

/* ---- progress and the command ---- */

/* The progress bar, on a terminal only. */
static void
ui_progress(void *ctx, int64_t done, int64_t total)
{
	struct sample_ui *ui = ctx;
	double el = now_seconds() - ui->t0, frac, rate;
	int i, w = 30, fill;

	if (!ui->bar)
		return;
	frac = total > 0 ? (double)done / (double)total : 1;
	rate = el > 0 ? (double)ui->events / el : 0;
	fill = (int)(frac * w);
	fputs("\r[", stderr);
	for (i = 0; i < w; i++)
		fputc(i < fill ? '#' : '.', stderr);
	fprintf(stderr, "] %3.0f%% %" PRId64 " customers %" PRId64 " events "
	    "%.0f events/s ETA %.0fs\033[K", frac * 100, done, ui->events,
	    rate, frac > 0 ? el / frac - el : 0.0);
}

/* YYYY-MM-DD -> UTC seconds at midnight; -1 if malformed. */
static int64_t
parse_date(const char *s)
{
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int y, m, d, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
	    (size_t)n != strlen(s) || strlen(s) != 10 || y < 1970 ||
	    m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0)))
		return -1;
	return tparse_days(y, m, d) * 86400;
}

/* Options -> generator options; 0, or -1 after printing a usage error. */
static int
sample_parse(struct optval *ov, struct sample_opts *o, char *start,
    size_t len)
{
	struct err e;
	int64_t v;
	const char *s;

	err_clear(&e);
	sample_opts_init(o);
	if (opt_int(ov, "customers", SAMPLE_CUSTOMERS, 1, 100000000,
	    &o->customers, &e) < 0 ||
	    opt_int(ov, "seed", SAMPLE_SEED, 0, INT64_MAX, &v, &e) < 0) {
		cmd_error("sample: %s", e.msg);
		return -1;
	}
	o->seed = (uint64_t)v;
	if (opt_int(ov, "days", SAMPLE_DAYS, 1, 36600, &v, &e) < 0) {
		cmd_error("sample: %s", e.msg);
		return -1;
	}
	o->days = (int)v;
	s = opt_str(ov, "start", "2024-01-01");
	if ((o->start = parse_date(s)) < 0 || o->start > INT64_C(32503680000)) {
		cmd_error("sample: --start %s: expected a date YYYY-MM-DD "
		    "from 1970 on", s);
		return -1;
	}
	snprintf(start, len, "%s", s);
	return 0;
}

/* Write the sample as CSV to path ("-": standard output). */
static int
sample_csv(const char *path, const struct sample_opts *o,
    struct sample_ui *ui, struct err *e)
{
	struct sample_sink k = { ui, csv_event, csv_truth, NULL, ui_progress };
	int rc;

	if (strcmp(path, "-") == 0)
		ui->fp = stdout;
	else if ((ui->fp = fopen(path, "w")) == NULL)
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	rc = fputs(csv_header, ui->fp) < 0 ? err_set(e, ERR_IO, "%s: %s",
	    path, strerror(errno)) : sample_generate(o, &k, e);
	if (ui->fp == stdout) {
		if (fflush(stdout) != 0 && rc == 0)
			rc = err_set(e, ERR_IO, "standard output: %s",
			    strerror(errno));
	} else if (fclose(ui->fp) != 0 && rc == 0)
		rc = err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	if (rc < 0 && ui->fp != stdout)
		unlink(path);
	return rc;
}

/*
 * Add the sample to the store at path as one import; 1 if skipped
 * because the store holds this very sample already.
 */
static int
sample_store(const char *path, const struct sample_opts *o, const char *src,
    int force, struct sample_ui *ui, struct err *e)
{
	struct sample_sink k = { ui, store_event, store_truth, store_item,
	    ui_progress };
	struct ingest_info info;
	struct store *s;
	char *prev = NULL;
	int64_t id;
	int rc;

	memset(&info, 0, sizeof(info));
	info.source = src;
	info.hash = hash_bytes(src, strlen(src), 0x73616d706c65ULL +
	    SAMPLE_VERSION);
	if ((s = cmd_store_open(path, STORE_CREATE, e)) == NULL)
		return -1;
	if (!force) {
		if ((id = store_import_find(s, info.hash, &prev, e)) < 0) {
			store_close(s);
			return -1;
		}
		if (id > 0) {
			fprintf(stderr, "journeyscope: %s: this sample is "
			    "already in the store (import #%" PRId64 ", %s); "
			    "skipped (--force adds it again)\n", path, id,
			    prev);
			free(prev);
			store_close(s);
			return 1;
		}
	}
	if ((ui->g = store_ingest_begin(s, &info, e)) == NULL) {
		store_close(s);
		return -1;
	}
	rc = sample_generate(o, &k, e);
	if (rc == 0) {
		store_ingest_count(ui->g, ui->events, 0, 0);
		rc = store_ingest_commit(ui->g, now_seconds() - ui->t0, e);
	} else
		store_ingest_abort(ui->g);
	ui->g = NULL;
	store_close(s);
	return rc;
}

/* journeyscope sample [DB]: into a store or, with --csv, a file. */
static int
sample_run(int argc, char **argv, struct optval *ov)
{
	struct sample_opts o;
	struct sample_ui ui;
	struct sigaction sa, old_int, old_term;
	struct err e;
	const char *csv = opt_str(ov, "csv", NULL);
	char start[16], src[160];
	double el;
	int rc;

	if (csv != NULL && argc > 0) {
		cmd_error("sample: --csv writes a file: give no DB");
		cmd_usage(&cmd_sample, 1);
		return 2;
	}
	if (csv == NULL && argc != 1) {
		cmd_error("sample: expected DB (or --csv FILE)");
		cmd_usage(&cmd_sample, 1);
		return 2;
	}
	if (sample_parse(ov, &o, start, sizeof(start)) < 0)
		return 2;
	snprintf(src, sizeof(src), "sample:seed=%" PRIu64 ",customers=%"
	    PRId64 ",start=%s,days=%d", o.seed, o.customers, start, o.days);
	memset(&ui, 0, sizeof(ui));
	buf_init(&ui.line);
	err_clear(&e);
	ui.bar = isatty(2) && !opt_isset(ov, "quiet");
	ui.t0 = now_seconds();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (csv != NULL)
		rc = sample_csv(csv, &o, &ui, &e);
	else
		rc = sample_store(argv[0], &o, src, opt_isset(ov, "force"),
		    &ui, &e);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (ui.bar)
		fputs("\r\033[K", stderr);
	buf_release(&ui.line);
	el = now_seconds() - ui.t0;
	if (rc < 0) {
		cmd_error("%s", e.msg);
		fprintf(stderr, "sampled nothing: %s after %" PRId64 " events "
		    "in %.2f s\n", csv ? "file removed" : "rolled back",
		    ui.events, el);
		return 1;
	}
	if (rc > 0)
		return 0;
	fprintf(stderr, "sampled %" PRId64 " customers: %" PRId64 " events, %"
	    PRId64 " ground-truth rows%s in %.2f s (%.0f events/s)\n",
	    o.customers, ui.events, ui.truths, csv ? " (not written: CSV "
	    "keeps events only)" : "", el, el > 0 ? (double)ui.events / el :
	    0.0);
	return 0;
}

const struct cmd cmd_sample = {
	"sample", "[DB]", "generate customer journeys with planted churn and "
	    "purchase triggers and their ground truth, into a store or a CSV "
	    "file",
	sample_opt_table, sample_run, 0, 1
};
