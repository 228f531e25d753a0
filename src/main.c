/*
 * main.c: argv -> subcommand. Parses each command's options from its
 * table (options.h), prints usage and version, and runs the command.
 */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "nn.h"

static void
main_usage(FILE *fp)
{
	const struct cmd *const *c;

	fprintf(fp, "usage: journeyscope [--help] [--version] COMMAND [ARGS]\n"
	    "       journeyscope [EXPLORE-OPTIONS] DB | --demo\n"
	    "\nA customer-journey explorer over a local SQLite event store.\n"
	    "'journeyscope DB' opens the terminal explorer on a store; "
	    "'journeyscope --demo'\nbuilds a demo store once (a minute) and "
	    "opens it.\n\nCommands:\n");
	for (c = cmd_table; *c != NULL; c++)
		fprintf(fp, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fprintf(fp, "\n'journeyscope COMMAND --help' describes a command; "
	    "man journeyscope has the rest.\n");
}

/* Parse the command's options with getopt_long; operands are left in argv. */
static int
parse_opts(const struct cmd *c, int *argcp, char ***argvp, struct optval *ov)
{
	struct option lo[OPT_MAX + 3];
	char shorts[OPT_MAX * 2 + 4], *sp = shorts;
	int n = 0, ch, i, argc = *argcp;
	char **argv = *argvp;

	memset(ov, 0, sizeof(*ov));
	ov->opts = c->opts;
	*sp++ = ':';
	for (i = 0; c->opts != NULL && c->opts[i].name != NULL; i++, n++) {
		if (i >= OPT_MAX)
			fatal("command %s has too many options", c->name);
		lo[n].name = c->opts[i].name;
		lo[n].has_arg = c->opts[i].arg ? required_argument : no_argument;
		lo[n].flag = NULL;
		lo[n].val = 1000 + i;
		if (c->opts[i].short_name) {
			*sp++ = c->opts[i].short_name;
			if (c->opts[i].arg)
				*sp++ = ':';
		}
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	*sp++ = 'h';
	*sp = '\0';
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (ch == 'h') {
			cmd_usage(c, 0);
			exit(0);
		}
		if (ch == 'V') {
			printf("journeyscope %s %s\n", c->name, PACKAGE_VERSION);
			exit(0);
		}
		if (ch == '?' || ch == ':') {
			if (ch == ':')
				cmd_error("%s: option %s needs an argument",
				    c->name, argv[optind - 1]);
			else if (optopt)
				cmd_error("%s: unknown option -%c", c->name,
				    optopt);
			else
				cmd_error("%s: unknown option %s", c->name,
				    argv[optind - 1]);
			cmd_usage(c, 1);
			return -1;
		}
		if (ch < 1000) {
			for (i = 0; c->opts[i].name != NULL; i++)
				if (c->opts[i].short_name == ch)
					break;
		} else
			i = ch - 1000;
		ov->set[i]++;
		ov->val[i] = optarg;
	}
	*argcp = argc - optind;
	*argvp = argv + optind;
	return 0;
}

/*
 * Not a command but the explorer's: an option (journeyscope --demo), or
 * a store: a path with a slash or a dot in it, or a file that exists.
 */
static int
is_store_arg(const char *a)
{
	return a[0] == '-' || strchr(a, '/') != NULL ||
	    strchr(a, '.') != NULL || access(a, F_OK) == 0;
}

int
main(int argc, char **argv)
{
	static const struct cmd *const explore = &cmd_explore;
	const struct cmd *const *c;
	struct optval ov;

	setlocale(LC_ALL, "");
	/* numbers in files, JSON and SQL are written 1.5 in any locale */
	setlocale(LC_NUMERIC, "C");
	nn_blas_idle();
	if (argc < 2) {
		main_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		main_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("journeyscope %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (c = cmd_table; *c != NULL; c++)
		if (strcmp((*c)->name, argv[1]) == 0)
			break;
	if (*c == NULL && !is_store_arg(argv[1])) {
		cmd_error("unknown command '%s' (and no store of that name)",
		    argv[1]);
		main_usage(stderr);
		return 2;
	}
	if (*c == NULL)
		c = &explore;	/* journeyscope [OPTIONS] DB: the explorer */
	else {
		argc--;
		argv++;
	}
	if (parse_opts(*c, &argc, &argv, &ov) < 0)
		return 2;
	if (argc < (*c)->min_args ||
	    ((*c)->max_args >= 0 && argc > (*c)->max_args)) {
		cmd_error("%s: expected %s", (*c)->name, (*c)->args);
		cmd_usage(*c, 1);
		return 2;
	}
	return (*c)->run(argc, argv, &ov);
}
