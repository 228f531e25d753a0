/*
 * cmd-info.c: journeyscope info DB -- what the store holds: counts, time
 * span, event types, imports; --json for programs, --checksum for tests.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "store.h"
#include "util.h"

static const struct opt info_opts[] = {
	{ "json", 'j', NULL, "print JSON" },
	{ "checksum", 0, NULL, "print a checksum of the store's data tables "
	    "(equal stores, equal sums)" },
	{ NULL, 0, NULL, NULL }
};

static void
info_json(const struct store_info *in, const char *path)
{
	struct buf b;
	char t0[32], t1[32];
	size_t i;

	buf_init(&b);
	buf_adds(&b, "{\"store\":");
	buf_add_json_str(&b, path, strlen(path));
	buf_printf(&b, ",\"schema_version\":%d,\"customers\":%" PRId64
	    ",\"events\":%" PRId64 ",\"items\":%" PRId64 ",\"event_types\":%"
	    PRId64 ",\"segments\":%" PRId64 ",\"models\":%" PRId64
	    ",\"ground_truth\":%" PRId64 ",\"time_kind\":\"%s\"",
	    in->version, in->customers, in->events, in->items, in->types,
	    in->segments, in->models, in->truths,
	    in->sequence_time ? "sequence" : "real");
	if (in->events > 0 && !in->sequence_time)
		buf_printf(&b, ",\"first\":\"%s\",\"last\":\"%s\"",
		    cmd_time(in->first_ts, t0, sizeof(t0)),
		    cmd_time(in->last_ts, t1, sizeof(t1)));
	buf_adds(&b, ",\"types\":[");
	for (i = 0; i < in->n_type_counts; i++) {
		buf_adds(&b, i ? ",{\"type\":" : "{\"type\":");
		buf_add_json_str(&b, in->type_counts[i].name,
		    strlen(in->type_counts[i].name));
		buf_printf(&b, ",\"events\":%" PRId64 "}",
		    in->type_counts[i].n);
	}
	buf_adds(&b, "],\"imports\":[");
	for (i = 0; i < in->n_imports; i++) {
		const struct store_import_row *r = &in->imports[i];

		buf_printf(&b, "%s{\"id\":%" PRId64 ",\"source\":", i ? "," : "",
		    r->id);
		buf_add_json_str(&b, r->source, strlen(r->source));
		buf_adds(&b, ",\"preset\":");
		if (r->preset)
			buf_add_json_str(&b, r->preset, strlen(r->preset));
		else
			buf_adds(&b, "null");
		buf_printf(&b, ",\"at\":\"%s\",\"seconds\":%.3f,\"rows\":%"
		    PRId64 ",\"events\":%" PRId64 ",\"skipped\":%" PRId64
		    ",\"rejected\":%" PRId64 "}", cmd_time(r->started, t0,
		    sizeof(t0)), r->seconds, r->rows, r->events, r->skipped,
		    r->rejected);
	}
	buf_adds(&b, "]}\n");
	fputs(b.data, stdout);
	buf_release(&b);
}

static void
info_text(const struct store_info *in, const char *path)
{
	char t0[32], t1[32];
	size_t i;

	printf("store        %s (schema version %d)\n", path, in->version);
	printf("customers    %" PRId64 "\n", in->customers);
	printf("events       %" PRId64 "\n", in->events);
	printf("items        %" PRId64 "\n", in->items);
	if (in->events == 0)
		printf("time span    (no events)\n");
	else if (in->sequence_time)
		printf("time span    none: events are ordered by line, "
		    "without real timestamps\n");
	else
		printf("time span    %s .. %s (%.1f days)\n",
		    cmd_time(in->first_ts, t0, sizeof(t0)),
		    cmd_time(in->last_ts, t1, sizeof(t1)),
		    (double)(in->last_ts - in->first_ts) / 86400.0);
	printf("segments     %" PRId64 "\nmodels       %" PRId64 "\n",
	    in->segments, in->models);
	if (in->truths > 0)
		printf("ground truth %" PRId64 " planted trigger occurrences\n",
		    in->truths);
	printf("\nevent types (%zu)\n", in->n_type_counts);
	for (i = 0; i < in->n_type_counts; i++)
		printf("  %-24s %12" PRId64 "  %5.1f%%\n",
		    in->type_counts[i].name, in->type_counts[i].n,
		    in->events ? 100.0 * (double)in->type_counts[i].n /
		    (double)in->events : 0.0);
	printf("\nimports (%zu)\n", in->n_imports);
	for (i = 0; i < in->n_imports; i++) {
		const struct store_import_row *r = &in->imports[i];

		printf("  #%-3" PRId64 " %s  %s%s%s\n       %" PRId64
		    " rows, %" PRId64 " events, %" PRId64 " skipped, %" PRId64
		    " rejected, %.2f s\n", r->id, cmd_time(r->started, t0,
		    sizeof(t0)), r->source, r->preset ? "  preset " : "",
		    r->preset ? r->preset : "", r->rows, r->events, r->skipped,
		    r->rejected, r->seconds);
	}
}

static int
info_run(int argc, char **argv, struct optval *ov)
{
	struct store_info in;
	struct store *s;
	struct err e;
	uint64_t sum;

	(void)argc;
	err_clear(&e);
	if ((s = cmd_store_open(argv[0], STORE_READONLY, &e)) == NULL) {
		cmd_error("%s", e.msg);
		return 1;
	}
	if (opt_isset(ov, "checksum")) {
		if (store_checksum(s, &sum, &e) < 0) {
			cmd_error("%s", e.msg);
			store_close(s);
			return 1;
		}
		printf("%016" PRIx64 "\n", sum);
		store_close(s);
		return 0;
	}
	if (store_info_get(s, &in, &e) < 0) {
		cmd_error("%s", e.msg);
		store_close(s);
		return 1;
	}
	if (opt_isset(ov, "json"))
		info_json(&in, argv[0]);
	else
		info_text(&in, argv[0]);
	store_info_release(&in);
	store_close(s);
	return 0;
}

const struct cmd cmd_info = {
	"info", "DB", "what the store holds: counts, time span, event "
	    "types, imports", info_opts, info_run, 1, 1
};

static const struct opt migrate_opts[] = {
	{ NULL, 0, NULL, NULL }
};

/* journeyscope migrate DB: bring an older store to this schema. */
static int
migrate_run(int argc, char **argv, struct optval *ov)
{
	struct store *s;
	struct err e;
	int v;

	(void)argc;
	(void)ov;
	err_clear(&e);
	/* never create: a typo must not make an empty store */
	if ((s = store_open(argv[0], 0, &e)) == NULL) {
		cmd_error("%s", e.msg);
		return 1;
	}
	v = store_migrated_from(s);
	if (v > 0 && v < STORE_VERSION)
		printf("%s: migrated from schema version %d to %d\n", argv[0], v,
		    STORE_VERSION);
	else
		printf("%s: schema version %d already, nothing to do\n",
		    argv[0], STORE_VERSION);
	store_close(s);
	return 0;
}

const struct cmd cmd_migrate = {
	"migrate", "DB", "bring a store made by an older journeyscope to this "
	    "version's schema (in one transaction)", migrate_opts, migrate_run,
	1, 1
};
