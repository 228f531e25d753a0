/*
 * drain.h: the readers' harnesses' common walk (fuzz-csv.c,
 * fuzz-jsonl.c): every record of r to the end, its raw bytes, fields,
 * column names and two lookups by name (which a JSON reader registers).
 * Returns a sum of what was read so that nothing is optimised away.
 */
#ifndef FUZZ_DRAIN_H
#define FUZZ_DRAIN_H

#include <string.h>

#include "err.h"
#include "import.h"

static size_t
fuzz_drain(struct reader *r, const char *col1, const char *col2)
{
	struct err e;
	size_t i, n, sum = 0, nrec = 0;
	const char *raw, *f;
	int rc;

	for (;;) {
		err_clear(&e);
		rc = reader_next(r, &e);
		if (rc == 0 || rc == -2)
			break;
		sum += (size_t)reader_line(r);
		raw = reader_raw(r, &n);
		for (i = 0; i < n; i++)
			sum += (unsigned char)raw[i];
		if (rc < 0)
			continue;
		nrec++;
		sum += reader_width(r);
		for (i = 0; i < reader_nfields(r); i++)
			if ((f = reader_field(r, i)) != NULL)
				sum += strlen(f);
		for (i = 0; i < reader_ncolumns(r); i++)
			sum += strlen(reader_colname(r, i));
		sum += (size_t)reader_column(r, col1);
		sum += (size_t)reader_column(r, col2);
		sum += (size_t)reader_pos(r);
	}
	return sum + nrec;
}

#endif
