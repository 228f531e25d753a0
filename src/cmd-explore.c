/*
 * cmd-explore.c: journeyscope [explore] [DB] -- the terminal explorer
 * (tui.c and the screen-*.c files) on a store, and --demo: the sample
 * store of 2,000 customers with a trained model and its scores, built
 * once into the user's cache directory (XDG) with progress on stderr,
 * then reused. Opens the store, finds the model, hands both to tui_run.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "explain.h"
#include "keys.h"
#include "nn.h"
#include "sample.h"
#include "screen.h"
#include "segment.h"
#include "store.h"
#include "train.h"
#include "util.h"

/*
 * The demo: what it holds and how it is made. DEMO_TAG is stored in
 * meta "demo"; a cached store with another tag is built again.
 */
#define DEMO_CUSTOMERS	2000
#define DEMO_SEED	42
/*
 * The demo's model: train's defaults but for 14 epochs of 32 windows a
 * step. On 2 idle cores, 2,000 customers (90,000 events) train in about
 * 16 s; the whole demo (sample 0.5 s, training, evaluation 2 s, scoring
 * 1 s) takes under half a minute. Measured with tests/bench/accuracy.sh
 * demo, held out, with AdamW's epsilon of 3e-4: 14 epochs of 32 give
 * HR@10 0.709, next-type accuracy 0.694 and churn ROC AUC 0.714 in
 * 16.4 s; 7 of 32 0.659, 0.706 and 0.690 in 8.3 s (the larger epsilon
 * learns more slowly at first). With 1e-8: 7 of 32 0.680, 0.706, 0.700;
 * 6 epochs of 128 (before churn cut-offs shared windows) 0.627, 0.702 and
 * 0.720 in 27.3 s.
 */
#define DEMO_EPOCHS	14
#define DEMO_BATCH	32
#define DEMO_TAG	"4: sample 2000 seed 42, 14 epochs of 32, RFM, scored"

static const struct opt explore_opt_table[] = {
	{ "demo", 0, NULL, "build (once) and open the demo store: 2,000 "
	    "sample customers, a trained model and its scores, in "
	    "$XDG_CACHE_HOME/journeyscope/demo.db unless DB is given" },
	{ "model", 'm', "NAME", "the model (default: the newest)" },
	{ "readonly", 'r', NULL, "open the store read-only (no scoring or "
	    "training from the explorer)" },
	{ "ascii", 0, NULL, "ASCII glyphs even in a UTF-8 locale" },
	{ "no-color", 0, NULL, "no colour (as with NO_COLOR set): monochrome "
	    "attributes" },
	{ "mouse", 0, NULL, "the wheel scrolls, a click selects, a double "
	    "click opens" },
	{ "headless", 0, "SCRIPT", "no terminal: read keys from SCRIPT and "
	    "write the screen as text at its end (see HEADLESS MODE)" },
	{ "size", 0, "COLSxROWS", "headless: the terminal size (default "
	    "80x24)" },
	{ "dump", 0, "FILE", "headless: write the screen dumps to FILE "
	    "(default: standard output)" },
	{ "dump-attrs", 0, NULL, "headless: add each cell's attributes to "
	    "the dumps" },
	{ "timing", 0, NULL, "milliseconds per key (its action and the frame "
	    "it draws) and to the first screen, on standard error" },
	{ "keys", 0, "FORMAT", "print every key binding (text or man) and "
	    "exit" },
	{ NULL, 0, NULL, NULL }
};

static volatile sig_atomic_t demo_stop;

/* SIGINT, SIGTERM, SIGHUP while the demo is built: stop, remove it. */
static void
demo_on_signal(int sig)
{
	(void)sig;
	demo_stop = 1;
}

struct demo_ui {
	struct ingest	*g;
	int		 tty;
	int64_t		 events;
	double		 t0;
	int		 last_epoch;
};

/* Sink: one event into the store. */
static int64_t
demo_event(void *ctx, const struct ingest_event *ev, struct err *e)
{
	struct demo_ui *ui = ctx;
	int64_t id;

	if (demo_stop)
		return err_set(e, ERR_INTR, "interrupted");
	if ((id = store_ingest_event(ui->g, ev, e)) > 0)
		ui->events++;
	return id;
}

/* Sink: one ground-truth row. */
static int
demo_truth(void *ctx, const char *rule, const char *customer,
    const char *outcome, int fired, const int64_t *ids, size_t n,
    struct err *e)
{
	struct demo_ui *ui = ctx;

	return store_ingest_truth(ui->g, rule, customer, outcome, fired, ids,
	    n, e);
}

/* Sink: one catalog item. */
static int
demo_item(void *ctx, const char *item, const char *name,
    const char *category, double price, struct err *e)
{
	struct demo_ui *ui = ctx;

	return store_ingest_item(ui->g, item, name, category, price, e);
}

/* Sampling progress (a terminal only). */
static void
demo_sample_progress(void *ctx, int64_t done, int64_t total)
{
	struct demo_ui *ui = ctx;

	if (ui->tty && (done % 100 == 0 || done == total))
		fprintf(stderr, "\rdemo: 1/4 sampling customers %" PRId64 "/%"
		    PRId64 "\033[K", done, total);
}

/* Training progress: a line per epoch, a live line on a terminal. */
static int
demo_train_progress(void *ctx, const struct train_progress *p)
{
	struct demo_ui *ui = ctx;

	if (strcmp(p->phase, "training") == 0 && ui->tty)
		fprintf(stderr, "\rdemo: 2/4 training epoch %d/%d step %" PRId64
		    "/%" PRId64 "  loss churn %.3f  ETA %.0f s\033[K", p->epoch,
		    p->epochs, p->step, p->steps, p->loss_churn, p->eta);
	else if (strcmp(p->phase, "validated") == 0 &&
	    p->epoch != ui->last_epoch) {
		ui->last_epoch = p->epoch;
		fprintf(stderr, "%sdemo: 2/4 epoch %d/%d validation %.4f (best "
		    "%.4f), %.0f s\n", ui->tty ? "\r\033[K" : "", p->epoch,
		    p->epochs, p->val, p->best_val, tui_now() - ui->t0);
	} else if (ui->tty && (strcmp(p->phase, "reading") == 0 ||
	    strcmp(p->phase, "evaluating") == 0))
		fprintf(stderr, "\rdemo: 2/4 %s customers %" PRId64 "/%" PRId64
		    "\033[K", p->phase, p->done, p->total);
	return demo_stop;
}

/* What scoring the demo needs. */
struct demo_score {
	struct store_scorer	*w;
	const struct nn_model	*m;
	int64_t			 model_id, at;
};

/* One scored customer into the store (stops on a signal). */
static int
demo_score_one(void *ctx, const struct explain_scored *sc, struct err *e)
{
	struct demo_score *d = ctx;

	if (demo_stop)
		return err_set(e, ERR_INTR, "interrupted");
	return store_score_put(d->w, d->model_id, sc->customer->id, d->at,
	    sc->churn, vocab_type(d->m->vocab, sc->next_type), e);
}

/* Score every customer with the newest model, in one transaction. */
static int
demo_score(struct store *s, struct err *e)
{
	struct demo_score d;
	struct store_model row;
	struct explain_batch *xb = NULL;
	struct nn_model *m;
	int rc;

	memset(&d, 0, sizeof(d));
	memset(&row, 0, sizeof(row));
	if ((m = explain_load_model(s, NULL, &row, e)) == NULL)
		return -1;
	d.m = m;
	d.model_id = row.id;
	if (store_last_ts(s, &d.at, e) < 0 || store_begin(s, e) < 0) {
		nn_model_free(m);
		store_model_release(&row);
		return -1;
	}
	if ((xb = explain_batch_new(s, m, INT64_MAX, 64, e)) == NULL ||
	    (d.w = store_scorer_new(s, e)) == NULL)
		rc = -1;
	else
		while ((rc = explain_batch_step(xb, demo_score_one, &d, e)) > 0)
			;
	store_scorer_free(d.w);
	if (rc == 0)
		rc = store_commit(s, e);
	else
		store_rollback(s);
	explain_batch_free(xb);
	nn_model_free(m);
	store_model_release(&row);
	return rc;
}

/* Remove a store file and its journal files. */
static void
remove_store(const char *path)
{
	char p[4096];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-journal", path);
	unlink(p);
}

/*
 * Remove what builds killed without a chance to clean up left beside
 * path: PATH.partial-PID files of processes that no longer exist.
 */
static void
remove_stale(const char *path)
{
	char dir[4096], pre[4200], p[8300];
	const char *slash = strrchr(path, '/');
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
	    slash ? path : ".");
	snprintf(pre, sizeof(pre), "%s.partial-", slash ? slash + 1 : path);
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		char *end;
		long pid;

		if (strncmp(d->d_name, pre, strlen(pre)) != 0)
			continue;
		pid = strtol(d->d_name + strlen(pre), &end, 10);
		if (pid <= 0 || *end != '\0')
			continue;	/* not a build's */
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;	/* its builder still runs */
		snprintf(p, sizeof(p), "%s/%s", dir, d->d_name);
		remove_store(p);
	}
	closedir(dp);
}

/*
 * Build the demo store at path: beside it first, renamed into place when
 * complete, so an interrupted build leaves nothing half made.
 */
static int
demo_build(const char *path, struct err *e)
{
	struct sample_opts so;
	struct train_opts to;
	struct train_result res;
	struct ingest_info info;
	struct demo_ui ui;
	struct sample_sink k = { NULL, demo_event, demo_truth, demo_item,
	    demo_sample_progress };
	struct sigaction sa, old[3], old_pipe;
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	struct store *s = NULL;
	char tmp[4200], src[160];
	int rc = -1, i;

	memset(&ui, 0, sizeof(ui));
	memset(&res, 0, sizeof(res));
	ui.tty = isatty(2);
	ui.t0 = tui_now();
	k.ctx = &ui;
	snprintf(tmp, sizeof(tmp), "%s.partial-%ld", path, (long)getpid());
	remove_stale(path);
	remove_store(tmp);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = demo_on_signal;
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	/* a closed stderr (| head) must not kill the build half done */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old_pipe);
	fprintf(stderr, "demo: building %s once (%d customers, a model, its "
	    "scores; under a minute on 2 cores)\n", path, DEMO_CUSTOMERS);

	/* 1: the sample, as `journeyscope sample` adds it */
	sample_opts_init(&so);
	so.customers = DEMO_CUSTOMERS;
	so.seed = DEMO_SEED;
	snprintf(src, sizeof(src), "sample:seed=%d,customers=%d,start="
	    "2024-01-01,days=%d", DEMO_SEED, DEMO_CUSTOMERS, so.days);
	memset(&info, 0, sizeof(info));
	info.source = src;
	info.hash = hash_bytes(src, strlen(src), 0x73616d706c65ULL +
	    SAMPLE_VERSION);
	if ((s = cmd_store_open(tmp, STORE_CREATE, e)) == NULL ||
	    (ui.g = store_ingest_begin(s, &info, e)) == NULL)
		goto out;
	if (sample_generate(&so, &k, e) < 0) {
		store_ingest_abort(ui.g);
		goto out;
	}
	store_ingest_count(ui.g, ui.events, 0, 0);
	if (store_ingest_commit(ui.g, tui_now() - ui.t0, e) < 0)
		goto out;
	fprintf(stderr, "%sdemo: 1/4 sampled %d customers, %" PRId64 " events "
	    "in %.1f s\n", ui.tty ? "\r\033[K" : "", DEMO_CUSTOMERS, ui.events,
	    tui_now() - ui.t0);

	/* 2: the default model, fewer epochs, smaller steps */
	train_opts_init(&to);
	to.epochs = DEMO_EPOCHS;
	to.batch = DEMO_BATCH;
	to.name = "demo";
	if (train_run(s, &to, demo_train_progress, &ui, &res, e) < 0)
		goto out;
	if (demo_stop) {
		err_set(e, ERR_INTR, "interrupted");
		goto out;
	}
	fprintf(stderr, "%sdemo: 2/4 trained model %s: %d epochs in %.0f s\n",
	    ui.tty ? "\r\033[K" : "", res.name, res.epochs_run, res.seconds);

	/* 3: RFM segments, for the segments screen */
	{
		struct rfm_map map;
		int64_t n;

		if (rfm_map_parse(rfm_default_json(), "the standard map", &map,
		    e) < 0)
			goto out;
		n = segment_build_rfm(s, &map, 0, e);
		rfm_map_release(&map);
		if (n < 0)
			goto out;
		fprintf(stderr, "demo: 3/4 RFM segments for %lld customers\n",
		    (long long)n);
	}

	/* 4: every customer's churn risk, for the customers table */
	if (demo_score(s, e) < 0)
		goto out;
	fprintf(stderr, "demo: 4/4 scored %d customers; ready in %.0f s\n",
	    DEMO_CUSTOMERS, tui_now() - ui.t0);
	if (store_meta_set(s, "demo", DEMO_TAG, e) < 0)
		goto out;
	store_close(s);
	s = NULL;
	if (rename(tmp, path) < 0) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (ui.tty)
		fputs("\r\033[K", stderr);
	train_result_release(&res);
	store_close(s);
	if (rc < 0)
		remove_store(tmp);
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	if (rc < 0 && demo_stop)
		err_set(e, ERR_INTR, "demo: interrupted; nothing kept");
	return rc;
}

/* $XDG_CACHE_HOME/journeyscope/demo.db (made as needed) into buf. */
static int
demo_path(char *buf, size_t len, struct err *e)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char dir[4096];

	if (xdg != NULL && xdg[0] == '/')
		snprintf(dir, sizeof(dir), "%s", xdg);
	else if (home != NULL && home[0] != '\0')
		snprintf(dir, sizeof(dir), "%s/.cache", home);
	else
		return err_set(e, ERR_USAGE, "--demo: neither XDG_CACHE_HOME "
		    "nor HOME is set: give a DB to build the demo in");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/journeyscope");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
	snprintf(buf, len, "%s/demo.db", dir);
	return 0;
}

/* 1: path holds a finished demo, 0: no such file, -1: something else. */
static int
demo_ready(const char *path, int *stale)
{
	struct store *s;
	struct err e;
	char *tag;

	*stale = 0;
	if (access(path, F_OK) < 0)
		return 0;
	err_clear(&e);
	if ((s = cmd_store_open(path, STORE_READONLY, &e)) == NULL) {
		*stale = 1;		/* an older schema, or broken */
		return -1;
	}
	tag = store_meta_get(s, "demo", &e);
	store_close(s);
	if (tag == NULL)
		return -1;
	*stale = strcmp(tag, DEMO_TAG) != 0;
	free(tag);
	return *stale ? -1 : 1;
}

/* The explorer on path. */
static int
explore_open(const char *path, struct optval *ov, double t0)
{
	struct tui_opts to;
	struct store_info info;
	struct app a;
	struct err e;
	const char *size = opt_str(ov, "size", "80x24"), *nc;
	int rc = 1, cols, rows, n = 0, flags = 0;

	err_clear(&e);
	memset(&to, 0, sizeof(to));
	memset(&a, 0, sizeof(a));
	if (sscanf(size, "%dx%d%n", &cols, &rows, &n) != 2 ||
	    (size_t)n != strlen(size) || cols < 1 || rows < 1 || cols > 1000 ||
	    rows > 1000) {
		cmd_error("explore: --size %s: expected COLSxROWS, e.g. 80x24",
		    size);
		return 2;
	}
	if (!opt_isset(ov, "headless") && (opt_isset(ov, "size") ||
	    opt_isset(ov, "dump") || opt_isset(ov, "dump-attrs"))) {
		cmd_error("explore: --size, --dump and --dump-attrs are for "
		    "--headless");
		return 2;
	}
	nc = getenv("NO_COLOR");
	to.ascii = opt_isset(ov, "ascii");
	to.mono = opt_isset(ov, "no-color") || (nc != NULL && nc[0] != '\0');
	to.mouse = opt_isset(ov, "mouse");
	to.timing = opt_isset(ov, "timing");
	to.headless = opt_str(ov, "headless", NULL);
	to.cols = cols;
	to.rows = rows;
	to.dump = opt_str(ov, "dump", NULL);
	to.dump_attrs = opt_isset(ov, "dump-attrs");
	to.t_start = t0;

	/* writable unless asked or not allowed: scoring and training write */
	a.readonly = opt_isset(ov, "readonly") || (access(path, F_OK) == 0 &&
	    access(path, W_OK) < 0);
	if (a.readonly)
		flags |= STORE_READONLY;
	a.path = path;
	if ((a.s = cmd_store_open(path, flags, &e)) == NULL)
		goto out;
	if (store_info_get(a.s, &info, &e) < 0)
		goto out;
	a.n_customers = info.customers;
	a.n_events = info.events;
	a.last_ts = info.last_ts;
	store_info_release(&info);
	switch (store_model_get(a.s, opt_str(ov, "model", NULL), &a.mrow, NULL,
	    NULL, &e)) {
	case -1:
		goto out;
	case 0:
		if (opt_isset(ov, "model")) {
			err_set(&e, ERR_NOTFOUND, "%s: no model called '%s' "
			    "(journeyscope model list)", path, opt_str(ov,
			    "model", NULL));
			goto out;
		}
		break;
	default:
		a.has_model = 1;
	}
	if ((a.br = store_browser_new(a.s, &e)) == NULL ||
	    (a.hr = store_hreader_new(a.s, STORE_HIST_TEXT, &e)) == NULL)
		goto out;
	rc = tui_run(&a, &to, &e);
	if (rc > 128)
		cmd_error("interrupted (signal %d)", rc - 128);
	if (rc < 0)
		rc = 1;
	else
		err_clear(&e);
out:
	if (rc == 1 && e.msg[0] != '\0')
		cmd_error("%s", e.msg);
	explain_free(a.x);
	nn_model_free(a.m);
	store_model_release(&a.mrow);
	store_hreader_free(a.hr);
	store_browser_free(a.br);
	store_close(a.s);
	return rc;
}

/* journeyscope explore [DB] */
static int
explore_run(int argc, char **argv, struct optval *ov)
{
	double t0 = tui_now();
	const char *keys = opt_str(ov, "keys", NULL);
	char path[4096];
	struct err e;
	int ready, stale;

	err_clear(&e);
	if (keys != NULL) {
		if (strcmp(keys, "man") != 0 && strcmp(keys, "text") != 0) {
			cmd_error("explore: --keys takes text or man");
			return 2;
		}
		keys_print(stdout, strcmp(keys, "man") == 0);
		return 0;
	}
	if (!opt_isset(ov, "demo")) {
		if (argc < 1) {
			cmd_error("explore: expected DB (or --demo)");
			cmd_usage(&cmd_explore, 1);
			return 2;
		}
		return explore_open(argv[0], ov, t0);
	}
	if (argc > 0)
		snprintf(path, sizeof(path), "%s", argv[0]);
	else if (demo_path(path, sizeof(path), &e) < 0) {
		cmd_error("%s", e.msg);
		return 1;
	}
	ready = demo_ready(path, &stale);
	if (ready < 0 && !(argc == 0 && stale)) {
		cmd_error("--demo: %s exists and is not a demo store; give "
		    "another path (or open it without --demo)", path);
		return 1;
	}
	if (ready <= 0) {
		if (stale)
			remove_store(path);
		if (demo_build(path, &e) < 0) {
			cmd_error("%s", e.msg);
			return e.code == ERR_INTR ? 130 : 1;
		}
		t0 = tui_now();
	}
	return explore_open(path, ov, t0);
}

const struct cmd cmd_explore = {
	"explore", "[DB]", "the terminal explorer: customers, segments and "
	    "journeys with attention heat bars (also: journeyscope DB, "
	    "journeyscope --demo)", explore_opt_table, explore_run, 0, 1
};
