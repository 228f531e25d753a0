/*
 * cmd.h: the subcommand table. Each subcommand lives in cmd-<name>.c and
 * exports one struct cmd; main.c dispatches through cmd_table.
 */
#ifndef JS_CMD_H
#define JS_CMD_H
#include <stddef.h>
#include <stdint.h>

#include "options.h"

struct cmd {
	const char		*name;
	const char		*args;		/* "DB FILE..." for usage */
	const char		*summary;	/* one line for the command list */
	const struct opt	*opts;		/* terminated by a {NULL} entry */
	/* argv[0] is the command name; options already removed when
	 * called: argc/argv hold only the operands. Returns exit status. */
	int	(*run)(int argc, char **argv, struct optval *ov);
	int			 min_args, max_args;	/* operands; -1 = any */
};

extern const struct cmd *const cmd_table[];

/* Print "journeyscope: msg" to stderr. */
void	cmd_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Print a command's usage (to stderr when err, else stdout). */
void	cmd_usage(const struct cmd *, int to_stderr);
struct err;
struct store;
/* store_open that says so on stderr when it migrated the store. */
struct store *cmd_store_open(const char *path, int flags, struct err *);
/* Format UTC seconds as 2024-03-02T14:11:00Z into buf (>= 21 bytes). */
char	*cmd_time(int64_t ts, char *buf, size_t len);

extern const struct cmd cmd_import, cmd_info, cmd_customers, cmd_sample,
    cmd_model, cmd_explain, cmd_score, cmd_train, cmd_eval, cmd_segment,
    cmd_bgnbd, cmd_triggers, cmd_explore, cmd_migrate, cmd_segments;

#endif
