/*
 * cmd-import.c: journeyscope import DB FILE... -- files into the store,
 * all or nothing, with a progress bar on a terminal and a summary line.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "import.h"
#include "store.h"

static const struct opt import_opts[] = {
	{ "preset", 'p', "NAME", "a known format: generic, online-retail, "
	    "retailrocket, cdnow, movielens, sasrec, clickstream" },
	{ "map", 'm', "SPEC", "TARGET=COLUMN,... (see the man page)" },
	{ "delimiter", 'd', "C", "field separator: one or more characters, "
	    "tab, or ws for runs of blanks" },
	{ "no-header", 0, NULL, "the first line is data, not column names" },
	{ "time-format", 't', "FMT", "strptime format of the time column" },
	{ "items", 0, "FILE", "an item catalog (item, name, category, price)" },
	{ "strict", 0, NULL, "abort on the first bad row; the store is "
	    "unchanged" },
	{ "rejects", 'r', "FILE", "write rejected rows to FILE" },
	{ "force", 'f', NULL, "import files even if imported before" },
	{ "quiet", 'q', NULL, "no progress bar" },
	{ NULL, 0, NULL, NULL }
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct import_ui {
	FILE		*rejects;
	int64_t		 nreject_shown;
	int		 bar;		/* stderr is a terminal */
	double		 t0;
};

static void
ui_reject(void *ctx, const char *file, int64_t line, const char *why,
    const char *raw, size_t rawlen)
{
	struct import_ui *ui = ctx;

	(void)file;
	(void)line;
	if (ui->nreject_shown++ < 10) {
		if (ui->bar)
			fputs("\r\033[K", stderr);
		fprintf(stderr, "journeyscope: rejected: %s\n", why);
	}
	if (ui->rejects != NULL) {
		fwrite(raw, 1, rawlen, ui->rejects);
		fputc('\n', ui->rejects);
	}
}

static void
ui_skipfile(void *ctx, const char *file, const char *earlier)
{
	(void)ctx;
	fprintf(stderr, "journeyscope: %s: already imported (as %s); "
	    "skipped (--force imports it again)\n", file, earlier);
}

static void
ui_progress(void *ctx, int64_t done, int64_t total, int64_t rows)
{
	struct import_ui *ui = ctx;
	struct timespec ts;
	double now, el, frac, rate;
	int i, w = 30, fill;

	if (!ui->bar)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	el = now - ui->t0;
	frac = total > 0 ? (double)done / (double)total : 0;
	if (frac > 1)
		frac = 1;
	rate = el > 0 ? (double)rows / el : 0;
	fill = (int)(frac * w);
	fputs("\r[", stderr);
	for (i = 0; i < w; i++)
		fputc(i < fill ? '#' : '.', stderr);
	fprintf(stderr, "] %3.0f%% %lld rows %.0f rows/s ETA %.0fs\033[K",
	    frac * 100, (long long)rows, rate,
	    frac > 0 ? el / frac - el : 0.0);
}

static int
import_run(int argc, char **argv, struct optval *ov)
{
	struct import_opts o;
	struct import_stats st;
	struct import_ui ui;
	struct timespec ts;
	struct sigaction sa, old_int, old_term;
	struct store *s;
	struct err e;
	const char *pname = opt_str(ov, "preset", NULL), *rej;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&ui, 0, sizeof(ui));
	err_clear(&e);
	if (pname != NULL && (o.preset = import_preset(pname)) == NULL) {
		const struct preset *p;

		cmd_error("import: unknown preset '%s'; known presets:", pname);
		for (p = import_presets; p->name; p++)
			fprintf(stderr, "  %-14s %s\n", p->name, p->summary);
		return 2;
	}
	o.map = opt_str(ov, "map", NULL);
	o.delim = opt_str(ov, "delimiter", NULL);
	o.time_format = opt_str(ov, "time-format", NULL);
	o.items = opt_str(ov, "items", NULL);
	o.header = opt_isset(ov, "no-header") ? 0 : -1;
	o.strict = opt_isset(ov, "strict");
	o.force = opt_isset(ov, "force");
	o.stop = &stop;
	o.reject = ui_reject;
	o.skipfile = ui_skipfile;
	o.progress = ui_progress;
	o.ctx = &ui;
	ui.bar = isatty(2) && !opt_isset(ov, "quiet");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ui.t0 = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if ((rej = opt_str(ov, "rejects", NULL)) != NULL &&
	    (ui.rejects = fopen(rej, "w")) == NULL) {
		cmd_error("%s: %s", rej, strerror(errno));
		return 1;
	}
	if ((s = cmd_store_open(argv[0], STORE_CREATE, &e)) == NULL) {
		cmd_error("%s", e.msg);
		if (ui.rejects)
			fclose(ui.rejects);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = import_files(s, argv + 1, argc - 1, &o, &st, &e);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (ui.bar)
		fputs("\r\033[K", stderr);
	store_close(s);
	if (ui.rejects != NULL && fclose(ui.rejects) != 0 && rc == 0) {
		cmd_error("%s: %s", rej, strerror(errno));
		rc = -1;
	}
	if (rc < 0) {
		cmd_error("%s", e.msg);
		fprintf(stderr, "imported nothing: %lld rows read, %lld "
		    "rejected, rolled back after %.2f s\n", (long long)st.rows,
		    (long long)st.rejected, st.seconds);
		return 1;
	}
	if (st.rejected > 10)
		fprintf(stderr, "journeyscope: ... %lld more rejected rows%s\n",
		    (long long)(st.rejected - 10), rej ? " (all in the "
		    "rejects file)" : "");
	fprintf(stderr, "imported %lld events from %lld rows in %lld file%s "
	    "(%lld skipped, %lld rejected, %lld file%s already imported) in "
	    "%.2f s\n", (long long)st.events, (long long)st.rows,
	    (long long)st.files, st.files == 1 ? "" : "s",
	    (long long)st.skipped, (long long)st.rejected,
	    (long long)st.files_skipped, st.files_skipped == 1 ? "" : "s",
	    st.seconds);
	return 0;
}

const struct cmd cmd_import = {
	"import", "DB FILE...", "import CSV or JSON Lines files (plain or "
	    "gzip) into the store, creating it if needed",
	import_opts, import_run, 2, -1
};
