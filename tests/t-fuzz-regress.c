/*
 * t-fuzz-regress.c: every input the fuzzers found a crash, a leak or a
 * sanitizer error with (tests/fuzz/regress/NAME/) and every seed
 * (tests/fuzz/corpus/NAME/), replayed through the harnesses' own entry
 * points, which are compiled in here. An input passes when its harness
 * returns: an error from the code under test is fine, a crash is not.
 * Run it under valgrind (make check-valgrind) or a sanitizer build to
 * see memory errors too.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#define LLVMFuzzerTestOneInput	fuzz_csv
#include "fuzz/fuzz-csv.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_jsonl
#include "fuzz/fuzz-jsonl.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_preset
#include "fuzz/fuzz-preset.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_tparse
#include "fuzz/fuzz-tparse.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_model
#include "fuzz/fuzz-model.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_filter
#include "fuzz/fuzz-filter.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_keys
#include "fuzz/fuzz-keys.c"
#undef LLVMFuzzerTestOneInput

static const struct harness {
	const char	*name;
	int		(*fn)(const uint8_t *, size_t);
} harnesses[] = {
	{ "csv", fuzz_csv }, { "jsonl", fuzz_jsonl }, { "preset", fuzz_preset },
	{ "tparse", fuzz_tparse }, { "model", fuzz_model },
	{ "filter", fuzz_filter }, { "keys", fuzz_keys }
};
#define N_HARNESSES	(sizeof(harnesses) / sizeof(harnesses[0]))

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A whole file, malloc'd (at least one byte); NULL if unreadable. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	uint8_t *p = NULL;
	size_t cap = 0, n = 0, got;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			p = realloc(p, cap);
			if (p == NULL) {
				fclose(fp);
				return NULL;
			}
		}
		got = fread(p + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	fclose(fp);
	*len = n;
	return p;
}

/* Every file of dir through h, in name order; the number replayed. */
static int
replay_dir(const struct harness *h, const char *dir, const char *what)
{
	struct dirent *d;
	char **names = NULL, path[4096];
	size_t n = 0, i, len;
	uint8_t *data;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(d->d_name);
	}
	closedir(dp);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((data = slurp(path, &len)) == NULL) {
			ok(0, "%s %s/%s: readable", h->name, what, names[i]);
			continue;
		}
		ok(h->fn(data, len) == 0, "%s %s/%s returns", h->name, what,
		    names[i]);
		free(data);
		free(names[i]);
	}
	free(names);
	return (int)n;
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char dir[4096];
	size_t i;
	int n;

	if (top == NULL || *top == '\0')
		top = ".";
	for (i = 0; i < N_HARNESSES; i++) {
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/regress/%s", top,
		    harnesses[i].name);
		n = replay_dir(&harnesses[i], dir, "regress");
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top,
		    harnesses[i].name);
		if (replay_dir(&harnesses[i], dir, "corpus") + n == 0)
			ok(0, "%s: no inputs in %s", harnesses[i].name, dir);
	}
	return exit_status();
}
