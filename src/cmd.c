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

#include "tparse.h"

const struct cmd *const cmd_table[] = {
	&cmd_import, &cmd_info, &cmd_customers, &cmd_sample, &cmd_model,
	&cmd_explain, &cmd_score, &cmd_train, &cmd_eval, &cmd_segment, &cmd_bgnbd,
	&cmd_triggers, &cmd_explore, NULL
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
