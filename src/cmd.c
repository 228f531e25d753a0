/*
 * cmd.c: the table of subcommands and what they share: error printing,
 * usage text generated from option tables, time formatting.
 */
#include "config.h"
#include "cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "store.h"
#include "tparse.h"

const struct cmd *const cmd_table[] = {
	&cmd_import, &cmd_info, &cmd_customers, &cmd_sample, &cmd_model,
	&cmd_explain, &cmd_score, &cmd_train, &cmd_eval, &cmd_segment, &cmd_bgnbd,
	&cmd_triggers, &cmd_explore, &cmd_migrate, &cmd_segments, NULL
};

/* "journeyscope: msg" on stderr. */
void
cmd_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("journeyscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Usage of one command, from its option table. */
void
cmd_usage(const struct cmd *c, int to_stderr)
{
	FILE *fp = to_stderr ? stderr : stdout;
	char left[64];
	int i;

	fprintf(fp, "usage: journeyscope %s [OPTIONS] %s\n\n%s\n\nOptions:\n",
	    c->name, c->args, c->summary);
	for (i = 0; c->opts != NULL && c->opts[i].name != NULL; i++) {
		const struct opt *o = &c->opts[i];

		snprintf(left, sizeof(left), "%s%c%s--%s%s%s",
		    o->short_name ? "-" : "", o->short_name ? o->short_name : ' ',
		    o->short_name ? "," : " ", o->name, o->arg ? " " : "",
		    o->arg ? o->arg : "");
		fprintf(fp, "  %-26s %s\n", o->short_name ? left : left + 1,
		    o->help);
	}
	fprintf(fp, "  %-26s %s\n  %-26s %s\n", "   --help", "show this help",
	    "   --version", "show the version");
}

/* ISO 8601 UTC, e.g. 2024-03-02T14:11:00Z. */
char *
cmd_time(int64_t ts, char *buf, size_t len)
{
	return tparse_format(ts, buf, len);
}

/*
 * store_open for the commands: a store migrated on the way says so on
 * stderr (opening never migrates silently).
 */
struct store *
cmd_store_open(const char *path, int flags, struct err *e)
{
	struct store *s = store_open(path, flags, e);
	int v;

	if (s == NULL) {
		if (e->code == ERR_DB && strstr(e->msg, "needs migrating")) {
			char msg[sizeof(e->msg)];

			snprintf(msg, sizeof(msg), "%s", e->msg);
			err_set(e, ERR_DB, "%.400s (journeyscope migrate %.60s "
			    "does it; keep a copy first)", msg, path);
		}
		return NULL;
	}
	v = store_migrated_from(s);
	if (v > 0 && v < STORE_VERSION)
		fprintf(stderr, "journeyscope: %s: migrated the store from "
		    "schema version %d to %d\n", path, v, STORE_VERSION);
	return s;
}
