/*
 * fuzz-tparse.c: libFuzzer harness for timestamp parsing (tparse.c).
 * The first byte picks automatic parsing or one of a few strptime
 * formats; the rest is the timestamp, parsed twice (the second time
 * from the cache, which must agree) and formatted back. Never prints.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tparse.h"

static const char *const tp_formats[] = {
	NULL, "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%s",
	"%Y-%m-%dT%H:%M:%S%z", "%b %d %Y %I:%M %p", "%j %Y", "%y%m%d"
};

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tparse tp;
	struct err e;
	int64_t a, b;
	char out[64];
	int ra, rb;

	if (size < 1)
		return 0;
	tparse_init(&tp, tp_formats[data[0] & 7]);
	ra = tparse_parse(&tp, (const char *)data + 1, size - 1, &a, &e);
	rb = tparse_parse(&tp, (const char *)data + 1, size - 1, &b, &e);
	if (ra != rb || (ra == 0 && a != b))
		abort();	/* the cache disagrees with the parser */
	if (ra == 0)
		tparse_format(a, out, sizeof(out));
	return 0;
}
