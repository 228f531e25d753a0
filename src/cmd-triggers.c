/*
 * cmd-triggers.c: journeyscope triggers DB [CUSTOMER | --segment NAME]
 * -- the behaviours behind the model's churn (or purchase) prediction
 * for one customer, or the triggers of a segment, with the numbers and
 * a summary in sentences (trigger.h).
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "explain.h"
#include "nn.h"
#include "store.h"
#include "tparse.h"
#include "trigger.h"
#include "util.h"

static const struct opt triggers_opts[] = {
	{ "segment", 'g', "NAME", "the triggers of a segment (default, with "
	    "no CUSTOMER: every customer)" },
	{ "outcome", 0, "WHAT", "churn (default) or purchase" },
	{ "model", 'm', "NAME", "the model (default: the newest)" },
	{ "at", 0, "TIME", "one customer: the window as of TIME (default: "
	    "every event)" },
	{ "cutoff", 0, "TIME", "a segment: the cut-off (default: the last "
	    "event minus the model's horizon)" },
	{ "json", 'j', NULL, "print JSON" },
	{ "limit", 'n', "N", "behaviours listed (default 10)" },
	{ NULL, 0, NULL, NULL }
};

/* A number for JSON. */
static void
jnum(struct buf *b, double v)
{
	if (isfinite(v))
		buf_printf(b, "%.6g", v);
	else
		buf_adds(b, "null");
}

static void
jstr(struct buf *b, const char *s)
{
	buf_add_json_str(b, s, strlen(s));
}

/* One customer's report. */
static void
print_customer(const struct trig_catalog *c, const struct trig_customer *t,
    int json, int limit)
{
	struct buf b;
	size_t i;
	char d0[32], d1[32];

	buf_init(&b);
	if (json) {
		buf_adds(&b, "{\"customer\":");
		jstr(&b, t->customer);
		buf_printf(&b, ",\"outcome\":\"%s\",\"prediction\":",
		    t->outcome == TRIG_CHURN ? "churn" : "purchase");
		jnum(&b, t->prediction);
		buf_printf(&b, ",\"window\":%zu,\"behaviours\":[", t->n_window);
		for (i = 0; i < t->n; i++) {
			const struct trig_item *it = &t->item[i];

			buf_adds(&b, i ? ",{\"behaviour\":" : "{\"behaviour\":");
			jstr(&b, trig_name(c, it->b));
			buf_adds(&b, ",\"phrase\":");
			jstr(&b, trig_phrase(c, it->b));
			buf_printf(&b, ",\"events\":%d,\"first\":\"%s\","
			    "\"last\":\"%s\",\"attention\":", it->n_events,
			    tparse_format(it->first_ts, d0, sizeof(d0)),
			    tparse_format(it->last_ts, d1, sizeof(d1)));
			jnum(&b, it->attention);
			buf_adds(&b, ",\"event_share\":");
			jnum(&b, it->event_share);
			buf_adds(&b, ",\"effect\":");
			jnum(&b, it->effect);
			buf_adds(&b, "}");
		}
		buf_adds(&b, "],\"summary\":");
		jstr(&b, t->summary);
		buf_adds(&b, "}");
		printf("%s\n", b.data);
		buf_release(&b);
		return;
	}
	printf("%s\n\n%-50s %6s %9s %7s %9s\n", t->summary, "behaviour (the "
	    "model's window)", "events", "attention", "share", t->outcome ==
	    TRIG_CHURN ? "effect" : "effect");
	for (i = 0; i < t->n && (int)i < limit; i++) {
		const struct trig_item *it = &t->item[i];

		printf("%-50.50s %6d %8.1f%% %6.1f%% %+9.3f\n",
		    trig_phrase(c, it->b), it->n_events, 100 * it->attention,
		    100 * it->event_share, it->effect);
	}
	printf("\neffect: the prediction minus the prediction with the "
	    "behaviour's events deleted\n");
}

/* A segment's report. */
static void
print_segment(const struct trig_catalog *c, const struct trig_segment *g,
    const char *segname, int json, int limit)
{
	struct buf b;
	size_t i;
	char day[32];

	buf_init(&b);
	if (json) {
		buf_adds(&b, "{\"segment\":");
		if (segname != NULL)
			jstr(&b, segname);
		else
			buf_adds(&b, "null");
		buf_printf(&b, ",\"outcome\":\"%s\",\"cutoff\":\"%s\","
		    "\"horizon_days\":%lld,\"customers\":%lld,\"outcomes\":%lld,"
		    "\"behaviours\":[", g->outcome == TRIG_CHURN ? "churn" :
		    "purchase", tparse_format(g->cutoff, day, sizeof(day)),
		    (long long)(g->horizon / 86400), (long long)g->customers,
		    (long long)g->outcomes);
		for (i = 0; i < g->n; i++) {
			const struct trig_stat *t = &g->stat[i];

			buf_adds(&b, i ? ",{\"behaviour\":" : "{\"behaviour\":");
			jstr(&b, trig_name(c, t->b));
			buf_adds(&b, ",\"phrase\":");
			jstr(&b, trig_phrase(c, t->b));
			buf_printf(&b, ",\"trigger\":%s,\"with\":%lld,"
			    "\"with_outcome\":%lld,\"without\":%lld,"
			    "\"without_outcome\":%lld,\"odds_ratio\":",
			    t->trigger ? "true" : "false", (long long)t->with,
			    (long long)t->with_out, (long long)t->without,
			    (long long)t->without_out);
			jnum(&b, t->odds);
			buf_adds(&b, ",\"odds_ci95\":[");
			jnum(&b, t->odds_lo);
			buf_adds(&b, ",");
			jnum(&b, t->odds_hi);
			buf_adds(&b, "],\"attention\":");
			jnum(&b, t->attention);
			buf_adds(&b, ",\"event_share\":");
			jnum(&b, t->event_share);
			buf_adds(&b, ",\"lift\":");
			jnum(&b, t->lift);
			buf_adds(&b, ",\"effect\":");
			jnum(&b, t->effect);
			buf_adds(&b, ",\"effect_se\":");
			jnum(&b, t->effect_se);
			buf_adds(&b, "}");
		}
		buf_adds(&b, "],\"summary\":");
		jstr(&b, g->summary);
		buf_adds(&b, "}");
		printf("%s\n", b.data);
		buf_release(&b);
		return;
	}
	printf("%s\n\n%-46s %7s %6s %6s %16s %6s %8s  %s\n", g->summary,
	    "behaviour", "with", "rate", "others", "odds ratio (95%)", "lift",
	    "deletion", "");
	for (i = 0; i < g->n && (int)i < limit; i++) {
		const struct trig_stat *t = &g->stat[i];
		char ci[40];

		snprintf(ci, sizeof(ci), "%.1f (%.1f-%.1f)", t->odds,
		    t->odds_lo, t->odds_hi);
		printf("%-46.46s %7lld %5.0f%% %5.0f%% %16s %6.2f %+8.3f  %s\n",
		    trig_phrase(c, t->b), (long long)t->with, 100.0 *
		    t->with_out / t->with, t->without ? 100.0 * t->without_out /
		    t->without : 0.0, ci, t->lift, -t->effect, t->trigger ?
		    "TRIGGER" : "");
	}
	printf("\nrate: the outcome among those who show it; lift: its share "
	    "of the model's attention over its share of events; deletion: "
	    "the mean change in the prediction when it is deleted; a trigger "
	    "lowers it clearly (95%% interval below zero)\n");
}

/* Progress of a segment, on a terminal only. */
static int
trig_progress(void *ctx, int64_t done, int64_t total)
{
	(void)ctx;
	if (isatty(2) && done >= 0)
		fprintf(stderr, "\rcustomers up to #%" PRId64 " of %" PRId64
		    "\033[K", done, total);
	return 0;
}

/* journeyscope triggers DB [CUSTOMER] */
static int
triggers_run(int argc, char **argv, struct optval *ov)
{
	const char *seg = opt_str(ov, "segment", NULL), *oc = opt_str(ov,
	    "outcome", "churn"), *ats = opt_str(ov, "at", NULL),
	    *cts = opt_str(ov, "cutoff", NULL);
	struct trig_catalog *c = NULL;
	struct store_model mr;
	struct nn_model *m = NULL;
	struct store *s = NULL;
	struct tparse tp;
	struct err e;
	int64_t at = INT64_MAX, cut = 0, segid = 0, lim;
	int outcome, rc = 1, json = opt_isset(ov, "json"), f;

	err_clear(&e);
	memset(&mr, 0, sizeof(mr));
	if (strcmp(oc, "churn") == 0)
		outcome = TRIG_CHURN;
	else if (strcmp(oc, "purchase") == 0)
		outcome = TRIG_PURCHASE;
	else {
		cmd_error("triggers: --outcome takes churn or purchase");
		return 2;
	}
	if (argc == 2 && seg != NULL) {
		cmd_error("triggers: a CUSTOMER or --segment, not both");
		return 2;
	}
	tparse_init(&tp, NULL);
	if ((ats != NULL && tparse_parse(&tp, ats, strlen(ats), &at, &e) < 0) ||
	    (cts != NULL && tparse_parse(&tp, cts, strlen(cts), &cut, &e) < 0) ||
	    opt_int(ov, "limit", 10, 1, 100000, &lim, &e) < 0) {
		cmd_error("triggers: %s", e.msg);
		return 2;
	}
	if ((s = cmd_store_open(argv[0], STORE_READONLY, &e)) == NULL ||
	    (m = explain_load_model(s, opt_str(ov, "model", NULL), &mr,
	    &e)) == NULL)
		goto out;
	c = trig_catalog_new(m);
	if (argc == 2) {
		struct trig_customer t;

		if (trig_customer(s, m, c, argv[1], at, outcome, &t, &e) < 0)
			goto out;
		print_customer(c, &t, json, (int)lim);
		trig_customer_release(&t);
	} else {
		struct trig_segment g;

		if (seg != NULL) {
			if ((f = store_seg_find(s, seg, &segid, &e)) < 0)
				goto out;
			if (f == 0) {
				err_set(&e, ERR_NOTFOUND, "no segment called "
				    "'%s' (journeyscope segments DB)", seg);
				goto out;
			}
		}
		f = trig_segment(s, m, c, segid, cut, outcome, trig_progress,
		    NULL, &g, &e);
		if (isatty(2))
			fputs("\r\033[K", stderr);
		if (f < 0)
			goto out;
		print_segment(c, &g, seg, json, (int)lim);
		trig_segment_release(&g);
	}
	rc = 0;
out:
	if (rc != 0)
		cmd_error("%s", e.msg);
	trig_catalog_free(c);
	nn_model_free(m);
	store_model_release(&mr);
	store_close(s);
	return rc;
}

const struct cmd cmd_triggers = {
	"triggers", "DB [CUSTOMER]", "the behaviours behind the model's churn "
	    "or purchase prediction, for a customer or a segment, in numbers "
	    "and sentences", triggers_opts, triggers_run, 1, 2
};
