/*
 * options.h: option tables. Each command lists its options once; parsing,
 * --help text and the man page's option lists follow that table.
 */
#ifndef JS_OPTIONS_H
#define JS_OPTIONS_H
#include <stdint.h>

#define OPT_MAX	32

struct opt {
	const char	*name;		/* long name without "--"; NULL ends */
	char		 short_name;	/* 0 if none */
	const char	*arg;		/* argument name, NULL for a flag */
	const char	*help;
};

/* Parsed values, indexed like the command's option table. */
struct optval {
	int		 set[OPT_MAX];		/* times given */
	const char	*val[OPT_MAX];		/* last argument given */
	const struct opt *opts;
};

/* Index of option name in the table (must exist: programmer error). */
int		 opt_index(const struct opt *, const char *name);
/* Was option name given? */
int		 opt_isset(const struct optval *, const char *name);
/* Its argument, or def. */
const char	*opt_str(const struct optval *, const char *name,
		    const char *def);
struct err;
/*
 * Parse a whole number option into *out within [min, max]; def when absent.
 * Returns 0, or -1 with an ERR_USAGE message naming the option.
 */
int		 opt_int(const struct optval *, const char *name, int64_t def,
		    int64_t min, int64_t max, int64_t *out, struct err *);
int		 opt_double(const struct optval *, const char *name, double def,
		    double min, double max, double *out, struct err *);

#endif
