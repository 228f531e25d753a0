/*
 * cmd-model.c: journeyscope model ACTION DB ... -- the models kept in the
 * store (table models: the safetensors file and its metrics): init a
 * random one over the store's vocabularies, import and export files,
 * list them, show one.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "explain.h"
#include "nn.h"
#include "store.h"
#include "tokens.h"
#include "train.h"
#include "util.h"

static const struct opt model_opts[] = {
	{ "dim", 0, "D", "init: d_model (default 64)" },
	{ "layers", 0, "L", "init: blocks (default 2)" },
	{ "heads", 0, "H", "init: attention heads, dividing D (default 2)" },
	{ "max-len", 0, "N", "init: longest window in events (default 200)" },
	{ "horizon", 0, "DAYS", "init: churn horizon in days (default 30)" },
	{ "seed", 0, "S", "init: random seed (default 1)" },
	{ "name", 0, "NAME", "init, import: the model's name (default: m1, "
	    "m2, ...; import: the file's name)" },
	{ "model", 'm', "NAME", "export: which model (default: the newest)" },
	{ "json", 'j', NULL, "list, info: print JSON" },
	{ NULL, 0, NULL, NULL }
};

/* Which options each action takes (a space-separated list). */
static const struct {
	const char	*name;
	const char	*args;
	int		 nargs;		/* after DB; -1: 0 or 1 */
	const char	*opts;
} model_actions[] = {
	{ "init", "DB", 0, " dim layers heads max-len horizon seed name " },
	{ "import", "DB FILE", 1, " name " },
	{ "export", "DB FILE", 1, " model " },
	{ "list", "DB", 0, " json " },
	{ "info", "DB [NAME]", -1, " json " },
};
#define N_ACTIONS	(int)(sizeof(model_actions) / sizeof(model_actions[0]))

/* Write len bytes to path, replaced atomically (beside, then rename). */
static int
write_atomic(const char *path, const void *data, size_t len, struct err *e)
{
	char tmp[4096];
	FILE *fp;
	int ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return err_set(e, ERR_USAGE, "%s: path too long", path);
	/* messages name the user's path, not the temporary one */
	if ((fp = fopen(tmp, "wb")) == NULL)
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	ok = fwrite(data, 1, len, fp) == len;
	ok = fflush(fp) == 0 && ok;
	ok = fsync(fileno(fp)) == 0 && ok;
	if (fclose(fp) != 0 || !ok || rename(tmp, path) != 0) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The whole file at path (malloc'd), refusing more than max bytes. */
static void *
read_all(const char *path, size_t max, size_t *len, struct err *e)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (fp == NULL) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (n == cap) {
			if (cap >= max) {
				err_set(e, ERR_LIMIT, "%s: larger than %zu MiB",
				    path, max >> 20);
				free(buf);
				fclose(fp);
				return NULL;
			}
			cap = cap ? cap * 2 : 1 << 16;
			buf = xrealloc(buf, cap);
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	if (ferror(fp)) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	*len = n;
	return buf;
}

/* model init: a randomly initialised model over the store's vocabularies. */
static int
model_init(struct store *s, struct optval *ov, struct err *e)
{
	struct nn_config c;
	struct nn_model *m;
	struct nn_rng rng;
	struct vocab *v;
	int64_t d, l, h, ml, hz, seed, id;
	char extra[128], *cfg, *name = NULL;
	void *img;
	size_t len;

	if (opt_int(ov, "dim", 64, 1, NN_MAX_C, &d, e) < 0 ||
	    opt_int(ov, "layers", 2, 1, NN_MAX_L, &l, e) < 0 ||
	    opt_int(ov, "heads", 2, 1, NN_MAX_C, &h, e) < 0 ||
	    opt_int(ov, "max-len", 200, 1, NN_MAX_LEN, &ml, e) < 0 ||
	    opt_int(ov, "horizon", 30, 1, 36500, &hz, e) < 0 ||
	    opt_int(ov, "seed", 1, 0, INT64_MAX, &seed, e) < 0)
		return -2;
	if (d % h != 0) {
		err_set(e, ERR_USAGE, "--heads %" PRId64 " does not divide "
		    "--dim %" PRId64, h, d);
		return -2;
	}
	if ((v = train_store_vocab(s, e)) == NULL)
		return -1;
	if (vocab_n_types(v) <= 2) {
		vocab_free(v);
		return err_set(e, ERR_USAGE, "%s: the store has no events to "
		    "build a vocabulary from", store_path(s));
	}
	memset(&c, 0, sizeof(c));
	c.C = (int)d;
	c.L = (int)l;
	c.H = (int)h;
	c.max_len = (int)ml;
	c.churn_horizon_days = (int)hz;
	c.n_types = vocab_n_types(v);
	c.n_items = vocab_n_items(v);
	if ((m = nn_model_new(&c, v, e)) == NULL)
		return -1;
	nn_rng_seed(&rng, (uint64_t)seed);
	nn_model_init_random(m, &rng);
	snprintf(extra, sizeof(extra), "{\"seed\":%" PRId64 ",\"trained\":"
	    "false}", seed);
	m->extra = xstrdup(extra);
	if (nn_model_write_mem(m, extra, &img, &len, e) < 0) {
		nn_model_free(m);
		return -1;
	}
	cfg = nn_config_json(m);
	id = store_model_add(s, opt_str(ov, "name", NULL), (int64_t)time(NULL),
	    cfg, NULL, img, len, &name, e);
	if (id > 0)
		printf("model %s: d_model %d, %d layers, %d heads, max_len %d, "
		    "%d types, %d items, %zu parameters, random (seed %" PRId64
		    ")\n", name, c.C, c.L, c.H, c.max_len, c.n_types, c.n_items,
		    m->n_params, seed);
	free(name);
	free(cfg);
	free(img);
	nn_model_free(m);
	return id > 0 ? 0 : -1;
}

/* The file's name without directories and a .safetensors ending. */
static void
file_stem(const char *path, char *out, size_t len)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strlen(b);
	if (n > 12 && strcmp(b + n - 12, ".safetensors") == 0)
		n -= 12;
	snprintf(out, len, "%.*s", (int)n, b);
}

/* model import: a safetensors file, checked, kept byte for byte. */
static int
model_import(struct store *s, const char *path, struct optval *ov,
    struct err *e)
{
	const char *name = opt_str(ov, "name", NULL);
	struct nn_model *m;
	char stem[256], *cfg;
	size_t len;
	void *img;
	int64_t id;

	if ((img = read_all(path, (size_t)1 << 34, &len, e)) == NULL)
		return -1;
	if ((m = nn_model_read_mem(img, len, path, e)) == NULL) {
		free(img);
		return -1;
	}
	if (name == NULL) {
		file_stem(path, stem, sizeof(stem));
		name = stem;
	}
	cfg = nn_config_json(m);
	id = store_model_add(s, name, (int64_t)time(NULL), cfg, NULL, img, len,
	    NULL, e);
	if (id > 0)
		printf("model %s: imported from %s (%zu bytes, %zu parameters)"
		    "\n", name, path, len, m->n_params);
	free(cfg);
	free(img);
	nn_model_free(m);
	return id > 0 ? 0 : -1;
}

/* model export: the stored file, byte for byte. */
static int
model_export(struct store *s, const char *path, struct optval *ov,
    struct err *e)
{
	const char *name = opt_str(ov, "model", NULL);
	struct store_model mr;
	void *img = NULL;
	size_t len = 0;
	int rc;

	if ((rc = store_model_get(s, name, &mr, &img, &len, e)) < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "%s: %s%s%s", store_path(s),
		    name ? "no model called '" : "no model in the store",
		    name ? name : "", name ? "'" : "");
	rc = write_atomic(path, img, len, e);
	if (rc == 0)
		printf("model %s: %zu bytes written to %s\n", mr.name, len,
		    path);
	free(img);
	store_model_release(&mr);
	return rc;
}

/* An integer member of a JSON text, or def (for the list's columns). */
static long long
json_num(const char *json, const char *key, long long def)
{
	const char *p;
	char pat[64];

	if (json == NULL)
		return def;
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(json, pat)) == NULL)
		return def;
	return strtoll(p + strlen(pat), NULL, 10);
}

/* model list. */
static int
model_list(struct store *s, int json, struct err *e)
{
	struct store_model *ms;
	size_t n, i;
	char t[32];

	if (store_models_list(s, &ms, &n, e) < 0)
		return -1;
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			struct buf b;

			buf_init(&b);
			buf_add_json_str(&b, ms[i].name, strlen(ms[i].name));
			printf("%s\n {\"name\":%s,\"created\":\"%s\","
			    "\"bytes\":%" PRId64 ",\"config\":%s,\"metrics\":"
			    "%s}", i ? "," : "", b.data, cmd_time(ms[i].created,
			    t, sizeof(t)), ms[i].bytes, ms[i].config ?
			    ms[i].config : "null", ms[i].metrics ?
			    ms[i].metrics : "null");
			buf_release(&b);
		}
		printf("%s]\n", n ? "\n" : "");
	} else {
		printf("%-16s %-20s %5s %6s %5s %7s %10s %10s\n", "name",
		    "created", "d", "layers", "heads", "max_len", "params",
		    "bytes");
		for (i = 0; i < n; i++)
			printf("%-16s %-20s %5lld %6lld %5lld %7lld %10lld %10"
			    PRId64 "\n", ms[i].name, cmd_time(ms[i].created, t,
			    sizeof(t)), json_num(ms[i].config, "d_model", 0),
			    json_num(ms[i].config, "n_layers", 0),
			    json_num(ms[i].config, "n_heads", 0),
			    json_num(ms[i].config, "max_len", 0),
			    json_num(ms[i].config, "n_params", 0), ms[i].bytes);
		if (n == 0)
			printf("(no models: journeyscope model init DB, or "
			    "train DB)\n");
	}
	store_models_free(ms, n);
	return 0;
}

/* model info: the config, the vocabularies' heads and the metrics. */
static int
model_info(struct store *s, const char *name, int json, struct err *e)
{
	struct store_model mr;
	struct nn_model *m;
	char t[32];
	int i, k;

	if ((m = explain_load_model(s, name, &mr, e)) == NULL)
		return -1;
	if (json) {
		char *cfg = nn_config_json(m);
		struct buf b;

		buf_init(&b);
		buf_add_json_str(&b, mr.name, strlen(mr.name));
		printf("{\"name\":%s,\"created\":\"%s\",\"bytes\":%" PRId64
		    ",\"config\":%s,\"metrics\":%s}\n", b.data,
		    cmd_time(mr.created, t, sizeof(t)), mr.bytes, cfg,
		    mr.metrics ? mr.metrics : "null");
		buf_release(&b);
		free(cfg);
	} else {
		const struct nn_config *c = &m->cfg;

		printf("model      %s\ncreated    %s\nfile       %" PRId64
		    " bytes, %zu parameters\n", mr.name, cmd_time(mr.created,
		    t, sizeof(t)), mr.bytes, m->n_params);
		printf("network    d_model %d, %d layers, %d heads, max_len "
		    "%d\n", c->C, c->L, c->H, c->max_len);
		if (m->extra != NULL && strstr(m->extra, "\"tasks\":[") &&
		    !strstr(m->extra, "\"churn\""))
			printf("churn      not trained (its head is untrained: "
			    "ignore its churn figures)\n");
		else
			printf("churn      horizon %d days\n",
			    c->churn_horizon_days);
		printf("types      %d:", c->n_types - 2);
		for (i = 2; i < c->n_types; i++)
			printf(" %s", vocab_type(m->vocab, i));
		printf("\nitems      %d:", c->n_items - 2);
		for (i = 2, k = 0; i < c->n_items && k < 8; i++, k++)
			printf(" %s", vocab_item(m->vocab, i));
		printf("%s\n", c->n_items - 2 > 8 ? " ..." : "");
		if (m->extra != NULL)
			printf("settings   %s\n", m->extra);
		printf("metrics    %s\n", mr.metrics ? mr.metrics :
		    "none (not trained or not evaluated)");
	}
	store_model_release(&mr);
	nn_model_free(m);
	return 0;
}

/* journeyscope model ACTION DB ... */
static int
model_run(int argc, char **argv, struct optval *ov)
{
	struct store *s;
	struct err e;
	int a, i, rc, json = opt_isset(ov, "json");
	char pat[40];

	err_clear(&e);
	for (a = 0; a < N_ACTIONS; a++)
		if (strcmp(argv[0], model_actions[a].name) == 0)
			break;
	if (a == N_ACTIONS) {
		cmd_error("model: unknown action '%s' (init, import, export, "
		    "list or info)", argv[0]);
		cmd_usage(&cmd_model, 1);
		return 2;
	}
	for (i = 0; model_opts[i].name != NULL; i++) {
		snprintf(pat, sizeof(pat), " %s ", model_opts[i].name);
		if (ov->set[i] && strstr(model_actions[a].opts, pat) == NULL) {
			cmd_error("model %s: --%s does not apply",
			    model_actions[a].name, model_opts[i].name);
			return 2;
		}
	}
	if (argc < 2 || (model_actions[a].nargs >= 0 &&
	    argc != 2 + model_actions[a].nargs) ||
	    (model_actions[a].nargs < 0 && argc > 3)) {
		cmd_error("model %s: expected %s", model_actions[a].name,
		    model_actions[a].args);
		return 2;
	}
	s = cmd_store_open(argv[1], a == 0 || a == 1 ? 0 : STORE_READONLY, &e);
	if (s == NULL) {
		cmd_error("%s", e.msg);
		return 1;
	}
	switch (a) {
	case 0:
		rc = model_init(s, ov, &e);
		break;
	case 1:
		rc = model_import(s, argv[2], ov, &e);
		break;
	case 2:
		rc = model_export(s, argv[2], ov, &e);
		break;
	case 3:
		rc = model_list(s, json, &e);
		break;
	default:
		rc = model_info(s, argc > 2 ? argv[2] : NULL, json, &e);
		break;
	}
	store_close(s);
	if (rc < 0) {
		cmd_error("%s", e.msg);
		return rc == -2 ? 2 : 1;	/* -2: a bad option */
	}
	return 0;
}

const struct cmd cmd_model = {
	"model", "ACTION DB [ARGS]", "models in the store: init DB, import DB "
	    "FILE, export DB FILE, list DB, info DB [NAME]", model_opts,
	model_run, 2, 3
};
