/*
 * fuzz-preset.c: libFuzzer harness for the presets' row mappings and
 * the row conversion of import.c. The first byte picks the preset, the
 * second the file name (CSV, JSON Lines, a MovieLens catalog), strict
 * mode, a header override, a --time-format, a --map (then the first
 * line of the rest) and a delimiter override; the rest is written to a
 * file under TMPDIR and imported whole into a new in-memory store.
 * Never prints.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "import.h"
#include "store.h"

static const char *const preset_names[] = {
	"in.csv", "in.jsonl", "u.item", "movies.dat"
};
static const char *const preset_tfmt[] = {
	NULL, "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%s"
};

/* A rejected row: read every byte the driver hands over. */
static void
preset_reject(void *ctx, const char *file, int64_t line, const char *why,
    const char *raw, size_t rawlen)
{
	size_t *sum = ctx, i;

	*sum += strlen(file) + strlen(why) + (size_t)line;
	for (i = 0; i < rawlen; i++)
		*sum += (unsigned char)raw[i];
}

static char preset_dir[128];

/* The private directory goes when the process ends. */
static void
preset_cleanup(void)
{
	if (preset_dir[0] != '\0')
		rmdir(preset_dir);
}

static void
preset_progress(void *ctx, int64_t done, int64_t total, int64_t rows)
{
	size_t *sum = ctx;

	*sum += (size_t)(done + total + rows);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_opts o;
	struct import_stats st;
	struct store *s;
	struct err e;
	char path[192], map[256], *files[1];
	const uint8_t *body;
	size_t np, n, sum = 0;
	uint8_t sel;
	FILE *fp;

	if (size < 2)
		return 0;
	if (preset_dir[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		snprintf(preset_dir, sizeof(preset_dir),
		    "%s/js-fuzz-preset-%ld", tmp != NULL ? tmp : "/tmp",
		    (long)getpid());
		(void)mkdir(preset_dir, 0700);
		atexit(preset_cleanup);
	}
	for (np = 0; import_presets[np].name != NULL; np++)
		;
	sel = data[1];
	body = data + 2;
	n = size - 2;
	map[0] = '\0';
	if (sel & 0x40) {		/* the first line is a --map */
		const uint8_t *nl = memchr(body, '\n', n);
		size_t k = nl != NULL ? (size_t)(nl - body) : n;

		snprintf(map, sizeof(map), "%.*s", (int)k, (const char *)body);
		body += k + (nl != NULL);
		n -= k + (nl != NULL);
	}
	snprintf(path, sizeof(path), "%s/%s", preset_dir,
	    preset_names[sel & 3]);
	if ((fp = fopen(path, "wb")) == NULL)
		return 0;
	if (n > 0 && fwrite(body, 1, n, fp) != n) {
		fclose(fp);
		unlink(path);
		return 0;
	}
	fclose(fp);
	memset(&o, 0, sizeof(o));
	o.preset = &import_presets[data[0] % np];
	o.header = (sel & 8) ? !o.preset->header : -1;
	o.strict = (sel & 4) != 0;
	o.force = 1;
	o.time_format = preset_tfmt[(sel >> 4) & 3];
	o.map = (sel & 0x40) ? map : NULL;
	o.delim = (sel & 0x80) ? ";" : NULL;
	o.reject = preset_reject;
	o.progress = preset_progress;
	o.ctx = &sum;
	files[0] = path;
	if ((s = store_open(":memory:", STORE_CREATE, &e)) != NULL) {
		(void)import_files(s, files, 1, &o, &st, &e);
		store_close(s);
	}
	unlink(path);
	return (int)(sum & 0);
}
