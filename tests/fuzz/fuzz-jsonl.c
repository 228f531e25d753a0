/*
 * fuzz-jsonl.c: libFuzzer harness for the JSON Lines reader
 * (import-json.c over the reader core of import-csv.c): the input read
 * line by line to the end, every field and column touched, and a few
 * column names looked up (which registers them). Never prints.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "err.h"
#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader_opts ro;
	struct reader *r;
	struct err e;
	const char *raw, *f;
	size_t i, n, sum = 0;
	int rc;

	memset(&ro, 0, sizeof(ro));
	ro.fmt = FMT_JSONL;
	if ((r = reader_open_mem("fuzz.jsonl", data, size, &ro, &e)) == NULL)
		return 0;
	for (;;) {
		err_clear(&e);
		rc = reader_next(r, &e);
		if (rc == 0 || rc == -2)
			break;
		raw = reader_raw(r, &n);
		for (i = 0; i < n; i++)
			sum += (unsigned char)raw[i];
		if (rc < 0)
			continue;
		sum += (size_t)reader_column(r, "customer");
		sum += (size_t)reader_column(r, "#3");
		for (i = 0; i < reader_nfields(r); i++)
			if ((f = reader_field(r, i)) != NULL)
				sum += strlen(f);
		for (i = 0; i < reader_ncolumns(r); i++)
			sum += strlen(reader_colname(r, i));
		sum += (size_t)reader_line(r) + reader_width(r);
	}
	reader_close(r);
	return (int)(sum & 0);
}
