/*
 * cmd-explain.c: journeyscope explain DB CUSTOMER -- one customer's
 * window, the model's prediction and its attention, as a table with
 * heat bars or as MODEL.md's JSON; --drop re-scores without some events
 * (what-if), --occlusion adds each event's signed effect on the churn
 * probability and the faithfulness figure.
 */
#include "config.h"

#include <inttypes.h>
#include <langinfo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "explain.h"
#include "nn.h"
#include "store.h"
#include "tparse.h"
#include "util.h"

static const struct opt explain_opt_table[] = {
	{ "json", 'j', NULL, "print MODEL.md's JSON report" },
	{ "model", 'm', "NAME", "the model (default: the newest)" },
	{ "at", 0, "TIME", "the window as of TIME (ISO 8601, a date or Unix "
	    "seconds; default: now, every event)" },
	{ "drop", 0, "IDS", "leave these event ids (comma-separated) out and "
	    "re-score: what if they had not happened" },
	{ "occlusion", 'o', NULL, "add each event's effect on the churn "
	    "probability when it alone is masked, and the faithfulness "
	    "figure" },
	{ "top", 'k', "K", "next items listed (default 10)" },
	{ "ascii", 0, NULL, "bars in ASCII even in a UTF-8 locale" },
	{ NULL, 0, NULL, NULL }
};

/* Parse "12,15,17" into a malloc'd array; -1 on a malformed list. */
static int
parse_ids(const char *s, int64_t **out, size_t *n)
{
	size_t cap = 8;
	int64_t *v = xcalloc(cap, sizeof(*v));
	char *end;

	*n = 0;
	for (;;) {
		long long x = strtoll(s, &end, 10);

		if (end == s || x <= 0) {
			free(v);
			return -1;
		}
		if (*n == cap)
			v = xreallocarray(v, cap *= 2, sizeof(*v));
		v[(*n)++] = x;
		if (*end == '\0')
			break;
		if (*end != ',') {
			free(v);
			return -1;
		}
		s = end + 1;
	}
	*out = v;
	return 0;
}

/* Eighth blocks, or ASCII. */
static const char *const blocks_utf8[9] = {
	"", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a",
	"\u2589", "\u2588"
};

/* A bar of frac (0..1) of width cells into b, padded with blanks. */
static void
bar(struct buf *b, double frac, int width, int utf8)
{
	int eighths, i, cells = 0;

	if (!(frac > 0))
		frac = 0;
	if (frac > 1)
		frac = 1;
	eighths = (int)lround(frac * width * 8);
	if (utf8) {
		for (i = 0; i < eighths / 8; i++, cells++)
			buf_adds(b, blocks_utf8[8]);
		if (eighths % 8) {
			buf_adds(b, blocks_utf8[eighths % 8]);
			cells++;
		}
	} else
		for (i = 0; i < (eighths + 4) / 8; i++, cells++)
			buf_addc(b, '#');
	for (; cells < width; cells++)
		buf_addc(b, ' ');
}

/* A signed bar: left of the centre lowers churn risk, right raises it. */
static void
signed_bar(struct buf *b, double v, double scale, int half, int utf8)
{
	int k = scale > 0 && !isnan(v) ? (int)lround(fabs(v) / scale * half) :
	    0, i;

	if (k > half)
		k = half;
	for (i = 0; i < half; i++)
		buf_adds(b, v < 0 && i >= half - k ? (utf8 ? "\u2588" : "<") :
		    " ");
	buf_addc(b, '|');
	for (i = 0; i < half; i++)
		buf_adds(b, v > 0 && i < k ? (utf8 ? "\u2588" : ">") : " ");
}

/* Seconds as a short duration: 45s, 12m, 3h, 5d, 2y. */
static void
duration(int64_t s, char *out, size_t len)
{
	if (s < 60)
		snprintf(out, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, len, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(out, len, "%lldh", (long long)(s / 3600));
	else if (s < 86400LL * 730)
		snprintf(out, len, "%lldd", (long long)(s / 86400));
	else
		snprintf(out, len, "%lldy", (long long)(s / (86400LL * 365)));
}

/* At most n bytes of s on one line, cut at a UTF-8 boundary. */
static void
snippet(struct buf *b, const char *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; s[i] != '\0' && i < n; i++)
		buf_addc(b, s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' :
		    s[i]);
	while (i > 0 && (s[i] & 0xc0) == 0x80 && b->len > 0) {
		b->len--;	/* do not end inside a character */
		b->data[b->len] = '\0';
		i--;
	}
	if (s[i] != '\0')
		buf_adds(b, "...");
}

/* The plain-text report. */
static void
print_report(const struct explain_report *r, const struct nn_model *m,
    const char *model_name, double churn0, int utf8)
{
	const struct nn_config *c = &m->cfg;
	double maxw = 0, maxo = 0;
	struct buf b;
	char t[32], g[24];
	size_t i;
	int k;

	buf_init(&b);
	for (i = 0; i < r->n; i++) {
		if (r->rollout[i] > maxw)
			maxw = r->rollout[i];
		if (r->has_occlusion && fabs(r->occlusion[i]) > maxo)
			maxo = fabs(r->occlusion[i]);
	}
	printf("customer %s, model %s (d_model %d, %d layers, %d heads)\n",
	    r->customer, model_name, c->C, c->L, c->H);
	printf("window   %zu of %zu events%s%s\n", r->n, r->n_history,
	    r->at == INT64_MAX ? "" : " at or before ", r->at == INT64_MAX ?
	    "" : cmd_time(r->at, t, sizeof(t)));
	if (r->n_dropped > 0) {
		printf("what-if  without event%s", r->n_dropped > 1 ? "s" : "");
		for (i = 0; i < r->n_dropped; i++)
			printf("%s %" PRId64, i ? "," : "", r->dropped[i]);
		printf(": churn %.3f -> %.3f (%+.3f)\n", churn0, r->churn,
		    r->churn - churn0);
	}
	printf("churn    %.3f within %d days\n", r->churn,
	    c->churn_horizon_days);
	printf("next     ");
	for (k = 0; k < r->n_next_types; k++)
		printf("%s%s %.2f", k ? ", " : "", vocab_type(m->vocab,
		    r->next_types[k].index), r->next_types[k].value);
	printf("\nitems    ");
	for (k = 0; k < r->n_next_items; k++)
		printf("%s%s", k ? ", " : "", vocab_item(m->vocab,
		    r->next_items[k].index));
	printf("\n\n%4s %8s %-20s %5s %-16s %-10s %9s  %-12s %6s%s  %s\n",
	    "#", "event", "time", "gap", "type", "item", "amount",
	    "rollout", "weight", r->has_occlusion ?
	    "  occlusion (lowers | raises)  effect" : "", "text");
	for (i = 0; i < r->n; i++) {
		const struct store_hevent *ev = &r->ev[i];

		buf_reset(&b);
		bar(&b, maxw > 0 ? r->rollout[i] / maxw : 0, 12, utf8);
		buf_printf(&b, " %6.3f", r->rollout[i]);
		if (r->has_occlusion) {
			buf_adds(&b, "  ");
			signed_bar(&b, r->occlusion[i], maxo, 11, utf8);
			buf_printf(&b, " %+7.3f", r->occlusion[i]);
		}
		buf_adds(&b, "  ");
		snippet(&b, ev->text, 40);
		if (i == 0)
			snprintf(g, sizeof(g), "-");
		else
			duration(ev->ts - r->ev[i - 1].ts, g, sizeof(g));
		printf("%4zu %8" PRId64 " %-20s %5s %-16.16s %-10.10s ", i,
		    ev->id, cmd_time(ev->ts, t, sizeof(t)), g, ev->type,
		    ev->item ? ev->item : "");
		if (isnan(ev->amount))
			printf("%9s  ", "");
		else
			printf("%9.2f  ", ev->amount);
		printf("%s\n", b.data);
	}
	if (r->has_occlusion) {
		if (r->has_faithfulness)
			printf("\nfaithfulness: masking the 3 most attended "
			    "events changes churn by %+.3f; 3 random events "
			    "%+.3f on average; the last 3 %+.3f\n",
			    r->faith_top3, r->faith_random3, r->faith_last3);
		else
			printf("\nfaithfulness: the window is too short for "
			    "sets of 3\n");
	}
	buf_release(&b);
}

/* journeyscope explain DB CUSTOMER */
static int
explain_cmd(int argc, char **argv, struct optval *ov)
{
	const char *mname = opt_str(ov, "model", NULL), *at = opt_str(ov, "at",
	    NULL), *drop = opt_str(ov, "drop", NULL);
	struct explain_report r;
	struct explain_opts o;
	struct store_model mr;
	struct explain *x = NULL;
	struct nn_model *m = NULL;
	struct store *s = NULL;
	struct tparse tp;
	struct err e;
	int64_t *ids = NULL, top;
	double churn0 = NAN;
	int rc = 1, utf8;

	(void)argc;
	err_clear(&e);
	explain_opts_init(&o);
	o.occlusion = opt_isset(ov, "occlusion");
	if (opt_int(ov, "top", EXPLAIN_TOP_ITEMS, 0, 1000, &top, &e) < 0) {
		cmd_error("explain: %s", e.msg);
		return 2;
	}
	o.top_items = (int)top;
	tparse_init(&tp, NULL);
	if (at != NULL && tparse_parse(&tp, at, strlen(at), &o.at, &e) < 0) {
		cmd_error("explain: --at %s: %s", at, e.msg);
		return 2;
	}
	if (drop != NULL && parse_ids(drop, &ids, &o.n_drop) < 0) {
		cmd_error("explain: --drop %s: expected event ids separated "
		    "by commas, e.g. --drop 12,15", drop);
		return 2;
	}
	o.drop = ids;
	memset(&mr, 0, sizeof(mr));
	if ((s = cmd_store_open(argv[0], STORE_READONLY, &e)) == NULL ||
	    (m = explain_load_model(s, mname, &mr, &e)) == NULL ||
	    (x = explain_new(s, m, &e)) == NULL)
		goto out;
	if (drop != NULL && !opt_isset(ov, "json")) {
		/* the same window without the drops, for the comparison */
		struct explain_opts o0 = o;

		o0.drop = NULL;
		o0.n_drop = 0;
		o0.occlusion = 0;
		if (explain_run(x, argv[1], &o0, &r, &e) < 0)
			goto out;
		churn0 = r.churn;
	}
	if (explain_run(x, argv[1], &o, &r, &e) < 0)
		goto out;
	if (opt_isset(ov, "json")) {
		char *j = explain_json(&r, m, mr.name, 1);

		if (j == NULL) {
			err_set(&e, ERR_NOMEM, "printing the report");
			goto out;
		}
		printf("%s\n", j);
		free(j);
	} else {
		utf8 = !opt_isset(ov, "ascii") &&
		    strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
		print_report(&r, m, mr.name, churn0, utf8);
	}
	rc = 0;
out:
	if (rc != 0)
		cmd_error("%s", e.msg);
	explain_free(x);
	nn_model_free(m);
	store_model_release(&mr);
	store_close(s);
	free(ids);
	return rc;
}

const struct cmd cmd_explain = {
	"explain", "DB CUSTOMER", "one customer's window, the model's "
	    "prediction and which events it weighed (--json: MODEL.md's "
	    "report)", explain_opt_table, explain_cmd, 2, 2
};
