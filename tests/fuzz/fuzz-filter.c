/*
 * fuzz-filter.c: libFuzzer harness for the segment filter language
 * (segment-filter.c): the input as an expression, compiled against a
 * fixed reference time, then released. Never prints.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter f;
	struct err e;
	char *expr;
	size_t i;
	int col;

	if ((expr = malloc(size + 1)) == NULL)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	if (filter_compile(expr, 1700000000, &f, &col, &e) == 0) {
		if (strlen(f.sql) == 0)
			abort();
		for (i = 0; i < f.n; i++)
			if (f.p[i].kind == FILTER_TEXT && f.p[i].s == NULL)
				abort();
		filter_release(&f);
	} else if (col < 1 || (size_t)col > strlen(expr) + 1)
		abort();	/* the error column points outside the text */
	free(expr);
	return 0;
}
