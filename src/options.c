/*
 * options.c: lookups and number parsing over a command's option table.
 * The parsing of argv itself is in main.c (it prints usage errors).
 */
#include "config.h"
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* Index of name in the table; a missing name is a programmer error. */
int
opt_index(const struct opt *t, const char *name)
{
	int i;

	for (i = 0; t != NULL && t[i].name != NULL; i++)
		if (strcmp(t[i].name, name) == 0)
			return i;
	fatal("option --%s is not in the command's table", name);
}

/* Was the option given? */
int
opt_isset(const struct optval *ov, const char *name)
{
	return ov->set[opt_index(ov->opts, name)] > 0;
}

/* The option's argument or def. */
const char *
opt_str(const struct optval *ov, const char *name, const char *def)
{
	int i = opt_index(ov->opts, name);

	return ov->set[i] ? ov->val[i] : def;
}

/* A bounded whole number. */
int
opt_int(const struct optval *ov, const char *name, int64_t def, int64_t min,
    int64_t max, int64_t *out, struct err *e)
{
	const char *s = opt_str(ov, name, NULL);
	char *end;
	long long v;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return err_set(e, ERR_USAGE, "--%s: '%s' is not a whole number",
		    name, s);
	if (v < min || v > max)
		return err_set(e, ERR_USAGE, "--%s: %lld is outside %lld..%lld",
		    name, v, (long long)min, (long long)max);
	*out = v;
	return 0;
}

/* A bounded finite number. */
int
opt_double(const struct optval *ov, const char *name, double def, double min,
    double max, double *out, struct err *e)
{
	const char *s = opt_str(ov, name, NULL);
	char *end;
	double v;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
		return err_set(e, ERR_USAGE, "--%s: '%s' is not a number",
		    name, s);
	if (v < min || v > max)
		return err_set(e, ERR_USAGE, "--%s: %g is outside %g..%g",
		    name, v, min, max);
	*out = v;
	return 0;
}
