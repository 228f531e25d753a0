/*
 * fuzz-csv.c: libFuzzer harness for the CSV reader (import-csv.c). The
 * first byte picks the settings (delimiter, header, memory or file);
 * the rest is the input, read record by record to the end, every field,
 * column name and raw record touched. Never prints; frees everything.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "import.h"
#include "drain.h"

/* Any one-character, multi-character or blank-run delimiter. */
static const char *const csv_delims[] = {
	",", "\t", ";", "|", "::", "ws", "<>", "tab"
};

/* The bytes as a file, read through zlib's plain-or-gzip path. */
static void
csv_file(const uint8_t *data, size_t size, const struct reader_opts *ro)
{
	char path[64];
	struct reader *r;
	struct err e;
	FILE *fp;

	snprintf(path, sizeof(path), "/tmp/js-fuzz-csv-%ld", (long)getpid());
	if ((fp = fopen(path, "wb")) == NULL)
		return;
	if (size > 0 && fwrite(data, 1, size, fp) != size) {
		fclose(fp);
		unlink(path);
		return;
	}
	fclose(fp);
	if ((r = reader_open(path, ro, &e)) != NULL) {
		fuzz_drain(r, "1", "#2");
		reader_close(r);
	}
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader_opts ro;
	struct reader *r;
	struct err e;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	memset(&ro, 0, sizeof(ro));
	ro.fmt = FMT_CSV;
	ro.delim = csv_delims[sel & 7];
	ro.header = (sel >> 3) & 1;
	if (sel & 0x10) {
		csv_file(data + 1, size - 1, &ro);
		return 0;
	}
	if ((r = reader_open_mem("fuzz.csv", data + 1, size - 1, &ro,
	    &e)) == NULL)
		return 0;
	fuzz_drain(r, "1", "#2");
	reader_close(r);
	return 0;
}
