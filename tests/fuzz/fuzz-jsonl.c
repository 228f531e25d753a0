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
#include "drain.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader_opts ro;
	struct reader *r;
	struct err e;
	size_t sum;

	memset(&ro, 0, sizeof(ro));
	ro.fmt = FMT_JSONL;
	if ((r = reader_open_mem("fuzz.jsonl", data, size, &ro, &e)) == NULL)
		return 0;
	sum = fuzz_drain(r, "customer", "#3");
	reader_close(r);
	return (int)(sum & 0);
}
