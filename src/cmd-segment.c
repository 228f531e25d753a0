/*
 * cmd-segment.c: journeyscope segment DB ACTION ... (build segments:
 * rfm, clusters, bands, filter, drop) and journeyscope bgnbd (the
 * classical churn model beside the transformer's).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgnbd.h"
#include "cmd.h"
#include "err.h"
#include "explain.h"
#include "nn.h"
#include "segment.h"
#include "store.h"
#include "tparse.h"
#include "util.h"

static const struct opt segment_opts[] = {
	{ "rules", 0, "FILE", "rfm: the map's rules (JSON; default: the "
	    "standard map, see --print-rules)" },
	{ "print-rules", 0, NULL, "rfm: print the standard map's rules and "
	    "exit" },
	{ "at", 0, "TIME", "rfm: as of TIME (default: the last event)" },
	{ "k", 'k', "K", "clusters: how many (default 6)" },
	{ "seed", 's', "S", "clusters: random seed (default 1)" },
	{ "model", 'm', "NAME", "clusters, bands: the model (default: the "
	    "newest)" },
	{ "cuts", 0, "LIST", "bands: churn-risk cuts (default 0.2,0.5,0.8)" },
	{ NULL, 0, NULL, NULL }
};

/* Which options each action takes. */
static const struct {
	const char	*name, *args, *opts;
	int		 nargs;		/* after DB and the action */
} seg_actions[] = {
	{ "rfm", "DB rfm", " rules print-rules at ", 0 },
	{ "clusters", "DB clusters", " k seed model ", 0 },
	{ "bands", "DB bands", " model cuts ", 0 },
	{ "filter", "DB filter NAME EXPR", " ", 2 },
	{ "drop", "DB drop NAME", " ", 1 },
};
#define N_SEG_ACTIONS	(int)(sizeof(seg_actions) / sizeof(seg_actions[0]))

/* The whole (small) file at path, NUL-terminated. */
static char *
slurp(const char *path, struct err *e)
{
	FILE *fp = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (fp == NULL) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 &&
	    b.len < (1 << 20))
		buf_add(&b, chunk, n);
	fclose(fp);
	return b.data;
}

/* A progress line for long builds, on a terminal only. */
static int
seg_progress(void *ctx, const char *what, int64_t done, int64_t total)
{
	(void)ctx;
	if (isatty(2))
		fprintf(stderr, "\r%s %" PRId64 "/%" PRId64 "\033[K", what, done,
		    total);
	return 0;
}

/* segment DB rfm */
static int
seg_rfm(struct store *s, struct optval *ov, struct err *e)
{
	const char *rules = opt_str(ov, "rules", NULL), *ats = opt_str(ov, "at",
	    NULL);
	struct rfm_map map;
	struct tparse tp;
	int64_t at = 0, n, grid[5][5];
	char *json;
	int r, f;

	tparse_init(&tp, NULL);
	if (ats != NULL && tparse_parse(&tp, ats, strlen(ats), &at, e) < 0) {
		err_prefix(e, "--at %s", ats);
		return -2;
	}
	json = rules ? slurp(rules, e) : xstrdup(rfm_default_json());
	if (json == NULL)
		return -1;
	if (rfm_map_parse(json, rules ? rules : "the standard map", &map,
	    e) < 0) {
		free(json);
		return -1;
	}
	free(json);
	n = segment_build_rfm(s, &map, at, e);
	if (n >= 0 && segment_rfm_grid(s, grid, e) == 0) {
		printf("RFM: %" PRId64 " customers scored\n\n%-6s", n,
		    "R \\ F");
		for (f = 1; f <= 5; f++)
			printf(" %8d", f);
		printf("\n");
		for (r = 5; r >= 1; r--) {
			printf("%-6d", r);
			for (f = 1; f <= 5; f++)
				printf(" %8" PRId64, grid[r - 1][f - 1]);
			printf("\n");
		}
		printf("\ncells:\n");
		for (r = 5; r >= 1; r--)
			for (f = 1; f <= 5; f++)
				printf("  r %d f %d  %-20s %" PRId64 "\n", r, f,
				    map.cell[r - 1][f - 1], grid[r - 1][f - 1]);
	}
	rfm_map_release(&map);
	return n < 0 ? -1 : 0;
}

/* The model of --model, its row id too. */
static struct nn_model *
seg_model(struct store *s, struct optval *ov, int64_t *id, struct err *e)
{
	struct store_model mr;
	struct nn_model *m;

	memset(&mr, 0, sizeof(mr));
	m = explain_load_model(s, opt_str(ov, "model", NULL), &mr, e);
	*id = mr.id;
	store_model_release(&mr);
	return m;
}

/* segment DB clusters */
static int
seg_clusters(struct store *s, struct optval *ov, struct err *e)
{
	struct nn_model *m;
	int64_t k, seed, n, id;

	if (opt_int(ov, "k", 6, 2, 100, &k, e) < 0 ||
	    opt_int(ov, "seed", 1, 0, INT64_MAX, &seed, e) < 0)
		return -2;
	if ((m = seg_model(s, ov, &id, e)) == NULL)
		return -1;
	n = segment_build_clusters(s, m, (int)k, (uint64_t)seed, seg_progress,
	    NULL, e);
	if (isatty(2))
		fputs("\r\033[K", stderr);
	nn_model_free(m);
	if (n < 0)
		return -1;
	printf("clusters: %" PRId64 " customers in %" PRId64 " clusters "
	    "(journeyscope segments DB describes them)\n", n, k);
	return 0;
}

/* segment DB bands */
static int
seg_bands(struct store *s, struct optval *ov, struct err *e)
{
	const char *cs = opt_str(ov, "cuts", "0.2,0.5,0.8");
	double cuts[16];
	int nc = 0;
	int64_t id, n;
	struct nn_model *m;
	char *end;
	const char *p = cs;

	while (*p != '\0' && nc < 16) {
		cuts[nc++] = strtod(p, &end);
		if (end == p || (*end != ',' && *end != '\0')) {
			err_set(e, ERR_USAGE, "--cuts %s: expected numbers "
			    "separated by commas", cs);
			return -2;
		}
		p = *end == ',' ? end + 1 : end;
	}
	if ((m = seg_model(s, ov, &id, e)) == NULL)
		return -1;
	nn_model_free(m);
	if ((n = segment_build_bands(s, id, cuts, nc, e)) < 0)
		return e->code == ERR_USAGE ? -2 : -1;
	printf("bands: %" PRId64 " customers in %d churn-risk bands\n", n,
	    nc + 1);
	return 0;
}

/* The expression with a caret under column col, for the error. */
static void
show_column(const char *expr, int col)
{
	int i;

	fprintf(stderr, "  %s\n  ", expr);
	for (i = 1; i < col; i++)
		fputc(expr[i - 1] == '\t' ? '\t' : ' ', stderr);
	fputs("^\n", stderr);
}

/* journeyscope segment DB ACTION ... */
static int
segment_run(int argc, char **argv, struct optval *ov)
{
	struct store *s;
	struct err e;
	char pat[40];
	int a, i, rc = 0, col = 0;
	int64_t n;

	err_clear(&e);
	if (opt_isset(ov, "print-rules")) {
		fputs(rfm_default_json(), stdout);
		return 0;
	}
	if (argc < 2) {
		cmd_error("segment: expected DB ACTION (rfm, clusters, bands, "
		    "filter or drop)");
		cmd_usage(&cmd_segment, 1);
		return 2;
	}
	for (a = 0; a < N_SEG_ACTIONS; a++)
		if (strcmp(argv[1], seg_actions[a].name) == 0)
			break;
	if (a == N_SEG_ACTIONS) {
		cmd_error("segment: unknown action '%s' (rfm, clusters, bands, "
		    "filter or drop)", argv[1]);
		return 2;
	}
	for (i = 0; segment_opts[i].name != NULL; i++) {
		snprintf(pat, sizeof(pat), " %s ", segment_opts[i].name);
		if (ov->set[i] && strstr(seg_actions[a].opts, pat) == NULL) {
			cmd_error("segment %s: --%s does not apply",
			    seg_actions[a].name, segment_opts[i].name);
			return 2;
		}
	}
	if (argc != 2 + seg_actions[a].nargs) {
		cmd_error("segment %s: expected %s", seg_actions[a].name,
		    seg_actions[a].args);
		return 2;
	}
	if ((s = cmd_store_open(argv[0], 0, &e)) == NULL) {
		cmd_error("%s", e.msg);
		return 1;
	}
	switch (a) {
	case 0:
		rc = seg_rfm(s, ov, &e);
		break;
	case 1:
		rc = seg_clusters(s, ov, &e);
		break;
	case 2:
		rc = seg_bands(s, ov, &e);
		break;
	case 3:
		if ((n = segment_build_filter(s, argv[2], argv[3], &col,
		    &e)) < 0)
			rc = -1;
		else
			printf("segment %s: %" PRId64 " customers\n", argv[2],
			    n);
		break;
	default:
		if ((n = store_seg_delete(s, argv[2], &e)) < 0)
			rc = -1;
		else if (n == 0) {
			err_set(&e, ERR_NOTFOUND, "no segment called '%s'",
			    argv[2]);
			rc = -1;
		} else
			printf("segment %s: dropped\n", argv[2]);
		break;
	}
	store_close(s);
	if (rc < 0) {
		cmd_error("segment %s: %s", seg_actions[a].name, e.msg);
		if (col > 0)
			show_column(argv[3], col);
		return rc == -2 || col > 0 ? 2 : 1;
	}
	return 0;
}

const struct cmd cmd_segment = {
	"segment", "DB ACTION [ARGS]", "build segments: rfm, clusters (k-means "
	    "on the model's embeddings), bands (churn risk), filter NAME EXPR, "
	    "drop NAME", segment_opts, segment_run, 0, 4
};

/* ---- bgnbd ---- */

static const struct opt bgnbd_opts[] = {
	{ "at", 0, "TIME", "as of TIME (default: the last event)" },
	{ "horizon", 0, "DAYS", "P(no purchase) over this many days (default: "
	    "the model's churn horizon, else 30)" },
	{ "model", 'm', "NAME", "the model whose churn scores to compare "
	    "(default: the newest)" },
	{ "summary", 0, "FILE", "fit a CSV of frequency,recency,T (weeks; "
	    "the lifetimes layout) instead of a store, and print the "
	    "parameters" },
	{ "limit", 'n', "N", "disagreements listed (default 10)" },
	{ NULL, 0, NULL, NULL }
};

/* The fit of a summary file (frequency, recency, T columns). */
static int
bgnbd_summary(const char *path)
{
	struct bgnbd_obs *o = NULL;
	struct bgnbd_params p;
	struct err e;
	size_t n = 0, cap = 0, line = 0;
	char buf[512];
	int cf = -1, cr = -1, ct = -1;
	double ll;
	FILE *fp;

	err_clear(&e);
	if ((fp = fopen(path, "r")) == NULL) {
		cmd_error("%s: %s", path, strerror(errno));
		return 1;
	}
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		char *tok, *sp = NULL;
		double v[8];
		int k = 0;

		line++;
		buf[strcspn(buf, "\r\n")] = '\0';
		if (line == 1) {
			for (tok = strtok_r(buf, ",", &sp); tok != NULL;
			    tok = strtok_r(NULL, ",", &sp), k++) {
				if (strcmp(tok, "frequency") == 0)
					cf = k;
				else if (strcmp(tok, "recency") == 0)
					cr = k;
				else if (strcmp(tok, "T") == 0)
					ct = k;
			}
			if (cf < 0 || cr < 0 || ct < 0 || k > 8) {
				cmd_error("%s:1: expected a header with "
				    "frequency, recency and T", path);
				fclose(fp);
				return 1;
			}
			continue;
		}
		for (tok = strtok_r(buf, ",", &sp); tok != NULL && k < 8;
		    tok = strtok_r(NULL, ",", &sp)) {
			char *end;

			v[k++] = strtod(tok, &end);
			if (end == tok) {
				cmd_error("%s:%zu: field %d is not a number",
				    path, line, k);
				fclose(fp);
				free(o);
				return 1;
			}
		}
		if (k <= cf || k <= cr || k <= ct)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			o = xreallocarray(o, cap, sizeof(*o));
		}
		o[n].x = v[cf];
		o[n].t_x = v[cr];
		o[n].T = v[ct];
		n++;
	}
	fclose(fp);
	if (bgnbd_fit(o, n, &p, &ll, &e) < 0) {
		cmd_error("%s: %s", path, e.msg);
		free(o);
		return 1;
	}
	printf("customers %zu\nr %.4f\nalpha %.4f\na %.4f\nb %.4f\n"
	    "log-likelihood %.4f\n", n, p.r, p.alpha, p.a, p.b, ll);
	free(o);
	return 0;
}

/* Disagreements of the two churn figures, for the listing. */
struct disagree {
	int64_t		 n, both, flagged;
	double		 sum_diff;
	int		 limit, shown;
};

/* More than this between P(no purchase) and the churn risk: a flag. */
#define DISAGREE	0.5

static int
bgnbd_row(void *ctx, const char *ext, double pa, double pn, double churn)
{
	struct disagree *d = ctx;

	d->n++;
	if (churn < 0)
		return 0;
	d->both++;
	d->sum_diff += fabs(pn - churn);
	if (fabs(pn - churn) > DISAGREE) {
		d->flagged++;
		if (d->shown++ < d->limit)
			printf("  %-16s %8.3f %14.3f %14.3f  %s\n", ext, pa, pn,
			    churn, pn > churn ? "BG/NBD sees churn" :
			    "the transformer sees churn");
	}
	return 0;
}

/* journeyscope bgnbd DB */
static int
bgnbd_run(int argc, char **argv, struct optval *ov)
{
	const char *ats = opt_str(ov, "at", NULL);
	struct bgnbd_result res;
	struct disagree d;
	struct store *s;
	struct tparse tp;
	struct err e;
	struct nn_model *m = NULL;
	struct store_model mr;
	int64_t at = 0, hz, lim;
	int rc = 1;

	err_clear(&e);
	if (opt_isset(ov, "summary")) {
		if (argc > 0) {
			cmd_error("bgnbd: --summary fits a file: give no DB");
			return 2;
		}
		return bgnbd_summary(opt_str(ov, "summary", NULL));
	}
	if (argc != 1) {
		cmd_error("bgnbd: expected DB (or --summary FILE)");
		cmd_usage(&cmd_bgnbd, 1);
		return 2;
	}
	tparse_init(&tp, NULL);
	if ((ats != NULL && tparse_parse(&tp, ats, strlen(ats), &at, &e) < 0) ||
	    opt_int(ov, "horizon", 0, 1, 36500, &hz, &e) < 0 ||
	    opt_int(ov, "limit", 10, 0, 1000000, &lim, &e) < 0) {
		cmd_error("bgnbd: %s", e.msg);
		return 2;
	}
	if ((s = cmd_store_open(argv[0], 0, &e)) == NULL) {
		cmd_error("%s", e.msg);
		return 1;
	}
	memset(&mr, 0, sizeof(mr));
	m = explain_load_model(s, opt_str(ov, "model", NULL), &mr, &e);
	if (m == NULL && opt_isset(ov, "model"))
		goto out;
	if (hz == 0)
		hz = m != NULL ? m->cfg.churn_horizon_days : 30;
	if (bgnbd_store(s, at, (int)hz, &res, &e) < 0)
		goto out;
	printf("BG/NBD on %" PRId64 " customers with a purchase (%" PRId64
	    " repeat buyers), as of %s\n  r %.4f  alpha %.4f  a %.4f  b %.4f"
	    "  (log-likelihood %.2f)\n", res.customers, res.repeat,
	    cmd_time(res.at, (char[32]){ 0 }, 32), res.p.r, res.p.alpha,
	    res.p.a, res.p.b, res.ll);
	memset(&d, 0, sizeof(d));
	d.limit = (int)lim;
	if (m == NULL) {
		printf("no model in the store: P(alive) stored, nothing to "
		    "compare with\n");
		rc = 0;
		goto out;
	}
	printf("\nP(no purchase in %" PRId64 " days) against model %s's churn "
	    "risk, disagreements over %.1f:\n  %-16s %8s %14s %14s\n", hz,
	    mr.name, DISAGREE, "customer", "P(alive)", "P(no purchase)",
	    "churn risk");
	if (store_bgnbd_walk(s, mr.id, bgnbd_row, &d, &e) < 0)
		goto out;
	if (d.both == 0)
		printf("  (no scores of model %s: journeyscope score DB)\n",
		    mr.name);
	else
		printf("%" PRId64 " of %" PRId64 " customers disagree strongly "
		    "(mean |difference| %.3f)\n", d.flagged, d.both,
		    d.sum_diff / (double)d.both);
	rc = 0;
out:
	if (rc != 0)
		cmd_error("%s", e.msg);
	nn_model_free(m);
	store_model_release(&mr);
	store_close(s);
	return rc;
}

const struct cmd cmd_bgnbd = {
	"bgnbd", "[DB]", "fit BG/NBD (Fader, Hardie and Lee) on purchase "
	    "histories; P(alive) beside the transformer's churn risk",
	bgnbd_opts, bgnbd_run, 0, 1
};

/* ---- segments: the list, and one segment against the rest ---- */

static const struct opt segments_opts[] = {
	{ "json", 'j', NULL, "print JSON" },
	{ "compare", 'c', "NAME", "one segment against every other customer: "
	    "event types, RFM segments, churn" },
	{ "model", 'm', "NAME", "whose churn scores (default: the newest)" },
	{ NULL, 0, NULL, NULL }
};

/* A share, safe for empty groups. */
static double
share(int64_t a, int64_t b)
{
	return b > 0 ? (double)a / (double)b : 0.0;
}

/* segments DB --compare NAME */
static int
segments_compare(struct store *s, const char *name, int64_t model_id,
    int64_t horizon_days, int json, struct err *e)
{
	struct store_info info;
	struct store_cmp c;
	struct buf b;
	int64_t id, ti = 0, to = 0, ri = 0, ro = 0, before;
	size_t i;
	int f;

	if ((f = store_seg_find(s, name, &id, e)) < 0)
		return -1;
	if (f == 0)
		return err_set(e, ERR_NOTFOUND, "no segment called '%s'", name);
	if (store_info_get(s, &info, e) < 0)
		return -1;
	before = info.last_ts - horizon_days * 86400;
	store_info_release(&info);
	if (store_seg_compare(s, id, model_id, before, &c, e) < 0)
		return -1;
	for (i = 0; i < c.n_types; i++) {
		ti += c.types[i].in;
		to += c.types[i].out;
	}
	for (i = 0; i < c.n_rfm; i++) {
		ri += c.rfm[i].in;
		ro += c.rfm[i].out;
	}
	buf_init(&b);
	if (json) {
		buf_adds(&b, "{\"segment\":");
		buf_add_json_str(&b, name, strlen(name));
		buf_printf(&b, ",\"customers\":[%lld,%lld],\"churn_rate\":"
		    "[%.6g,%.6g],\"mean_churn_risk\":[", (long long)c.in,
		    (long long)c.out, share(c.in_churned, c.in),
		    share(c.out_churned, c.out));
		if (c.in_risk >= 0)
			buf_printf(&b, "%.6g,%.6g", c.in_risk, c.out_risk);
		else
			buf_adds(&b, "null,null");
		buf_printf(&b, "],\"spend_per_customer\":[%.6g,%.6g],"
		    "\"event_types\":[", c.in ? c.in_spend / c.in : 0.0, c.out ?
		    c.out_spend / c.out : 0.0);
		for (i = 0; i < c.n_types; i++) {
			buf_adds(&b, i ? ",{\"type\":" : "{\"type\":");
			buf_add_json_str(&b, c.types[i].name,
			    strlen(c.types[i].name));
			buf_printf(&b, ",\"share\":[%.6g,%.6g]}",
			    share(c.types[i].in, ti), share(c.types[i].out, to));
		}
		buf_adds(&b, "],\"rfm\":[");
		for (i = 0; i < c.n_rfm; i++) {
			buf_adds(&b, i ? ",{\"segment\":" : "{\"segment\":");
			buf_add_json_str(&b, c.rfm[i].name,
			    strlen(c.rfm[i].name));
			buf_printf(&b, ",\"share\":[%.6g,%.6g]}",
			    share(c.rfm[i].in, ri), share(c.rfm[i].out, ro));
		}
		buf_adds(&b, "]}");
		printf("%s\n", b.data);
	} else {
		printf("%s against the rest: %lld customers against %lld\n\n",
		    name, (long long)c.in, (long long)c.out);
		printf("  %-28s %10s %10s\n", "", "segment", "the rest");
		printf("  %-28s %9.1f%% %9.1f%%\n", "churned: no event in horizon",
		    100 * share(c.in_churned, c.in), 100 *
		    share(c.out_churned, c.out));
		if (c.in_risk >= 0)
			printf("  %-28s %10.3f %10.3f\n", "mean churn risk",
			    c.in_risk, c.out_risk);
		printf("  %-28s %10.2f %10.2f\n", "spend per customer", c.in ?
		    c.in_spend / c.in : 0.0, c.out ? c.out_spend / c.out :
		    0.0);
		printf("\n  %-28s %10s %10s %8s\n", "event type mix", "segment",
		    "the rest", "ratio");
		for (i = 0; i < c.n_types; i++) {
			double a = share(c.types[i].in, ti), o = share(
			    c.types[i].out, to);

			printf("  %-28.28s %9.1f%% %9.1f%% %8.2f\n",
			    c.types[i].name, 100 * a, 100 * o, o > 0 ? a / o :
			    0.0);
		}
		if (c.n_rfm > 0) {
			printf("\n  %-28s %10s %10s\n", "RFM segments", "segment",
			    "the rest");
			for (i = 0; i < c.n_rfm; i++)
				printf("  %-28.28s %9.1f%% %9.1f%%\n",
				    c.rfm[i].name, 100 * share(c.rfm[i].in,
				    ri), 100 * share(c.rfm[i].out, ro));
		}
	}
	buf_release(&b);
	store_cmp_release(&c);
	return 0;
}

/* journeyscope segments DB */
static int
segments_run(int argc, char **argv, struct optval *ov)
{
	struct browse_segment *g = NULL;
	struct store_browser *br = NULL;
	struct browse_totals tot;
	struct store_model mr;
	struct nn_model *m = NULL;
	struct store *s;
	struct err e;
	int64_t hz = 30;
	size_t n = 0, i;
	int rc = 1, json = opt_isset(ov, "json"), k;
	struct buf b;

	(void)argc;
	err_clear(&e);
	memset(&mr, 0, sizeof(mr));
	buf_init(&b);
	if ((s = cmd_store_open(argv[0], STORE_READONLY, &e)) == NULL) {
		cmd_error("%s", e.msg);
		return 1;
	}
	/* scores of the model, when there is one */
	m = explain_load_model(s, opt_str(ov, "model", NULL), &mr, &e);
	if (m == NULL && opt_isset(ov, "model"))
		goto out;
	err_clear(&e);
	if (m != NULL)
		hz = m->cfg.churn_horizon_days;
	if (opt_isset(ov, "compare")) {
		rc = segments_compare(s, opt_str(ov, "compare", NULL), m ? mr.id :
		    0, hz, json, &e) < 0 ? 1 : 0;
		goto out;
	}
	if ((br = store_browser_new(s, &e)) == NULL ||
	    store_browse_segments(s, &g, &n, &e) < 0 ||
	    store_browse_totals(br, m ? mr.id : 0, &tot, &e) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (store_browse_segment_stats(br, m ? mr.id : 0, &g[i], &e) < 0)
			goto out;
	if (json) {
		buf_adds(&b, "[");
		for (i = 0; i < n; i++) {
			buf_adds(&b, i ? ",\n {\"name\":" : "\n {\"name\":");
			buf_add_json_str(&b, g[i].name, strlen(g[i].name));
			buf_adds(&b, ",\"kind\":");
			buf_add_json_str(&b, g[i].kind, strlen(g[i].kind));
			buf_printf(&b, ",\"customers\":%lld,\"revenue_share\":"
			    "%.6g,\"scored\":%lld,\"mean_churn\":",
			    (long long)g[i].size, tot.spend > 0 ? g[i].spend /
			    tot.spend : 0.0, (long long)g[i].scored);
			if (g[i].scored > 0)
				buf_printf(&b, "%.6g", g[i].churn_sum /
				    (double)g[i].scored);
			else
				buf_adds(&b, "null");
			buf_adds(&b, ",\"churn_histogram\":[");
			for (k = 0; k < 10; k++)
				buf_printf(&b, "%s%lld", k ? "," : "",
				    (long long)g[i].hist[k]);
			buf_adds(&b, "],\"definition\":");
			buf_add_json_str(&b, g[i].definition,
			    strlen(g[i].definition));
			buf_adds(&b, "}");
		}
		buf_adds(&b, n ? "\n]" : "]");
		printf("%s\n", b.data);
	} else {
		printf("%-22s %-8s %9s %8s %10s  %s\n", "segment", "kind",
		    "customers", "revenue", "mean churn", "definition");
		for (i = 0; i < n; i++) {
			char mc[16];

			if (g[i].scored > 0)
				snprintf(mc, sizeof(mc), "%.3f", g[i].churn_sum
				    / (double)g[i].scored);
			else
				snprintf(mc, sizeof(mc), "-");
			printf("%-22.22s %-8s %9lld %7.1f%% %10s  %.60s\n",
			    g[i].name, g[i].kind, (long long)g[i].size,
			    tot.spend > 0 ? 100 * g[i].spend / tot.spend : 0.0,
			    mc, g[i].definition);
		}
		if (n == 0)
			printf("(no segments: journeyscope segment DB rfm, "
			    "clusters, bands or filter)\n");
		if (m == NULL)
			printf("(no model: no churn figures)\n");
	}
	rc = 0;
out:
	if (rc != 0)
		cmd_error("%s", e.msg);
	buf_release(&b);
	free(g);
	store_browser_free(br);
	nn_model_free(m);
	store_model_release(&mr);
	store_close(s);
	return rc;
}

const struct cmd cmd_segments = {
	"segments", "DB", "the segments with their size, revenue share and "
	    "churn; --compare NAME against the rest", segments_opts,
	segments_run, 1, 1
};
