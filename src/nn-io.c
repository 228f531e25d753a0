/*
 * nn-io.c: the model file (MODEL.md "File format"), a safetensors image:
 * 8 bytes of little-endian header length N, N bytes of JSON naming each
 * tensor's dtype, shape and data offsets plus __metadata__ (format,
 * version, config with the vocabularies), then the little-endian F32
 * data. The reader trusts nothing in the file: every length, offset,
 * shape and value is checked before use, and a bad file is an ERR_MODEL
 * naming what is wrong, never a crash.
 */
#include "config.h"
#include "nn.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "util.h"

/* The config members this version reads, in the order written. */
static const char *const cfg_keys[] = {
	"d_model", "n_layers", "n_heads", "max_len", "n_types", "n_items",
	"churn_horizon_days"
};
#define N_CFG_KEYS	7

static int *
cfg_field(struct nn_config *c, int i)
{
	int *f[N_CFG_KEYS] = { &c->C, &c->L, &c->H, &c->max_len, &c->n_types,
	    &c->n_items, &c->churn_horizon_days };

	return f[i];
}

static int
is_cfg_key(const char *k)
{
	int i;

	for (i = 0; i < N_CFG_KEYS; i++)
		if (strcmp(k, cfg_keys[i]) == 0)
			return 1;
	return strcmp(k, "types") == 0 || strcmp(k, "items") == 0 ||
	    strcmp(k, "n_params") == 0;
}

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static float
lef32(const unsigned char *p)
{
	uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static void
put_f32(unsigned char *p, float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	p[0] = (unsigned char)u;
	p[1] = (unsigned char)(u >> 8);
	p[2] = (unsigned char)(u >> 16);
	p[3] = (unsigned char)(u >> 24);
}

/* A JSON number that is a whole number in [lo, hi]. */
static int
json_int(const cJSON *j, double lo, double hi, int64_t *out)
{
	double v;

	if (!cJSON_IsNumber(j))
		return -1;
	v = j->valuedouble;
	if (!isfinite(v) || v != floor(v) || v < lo || v > hi)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* Strings of a JSON array into a vector (borrowed from the tree). */
static int
json_strings(const cJSON *arr, const char ***out, size_t *n)
{
	const cJSON *it;
	size_t i = 0, cnt;

	if (!cJSON_IsArray(arr))
		return -1;
	cnt = (size_t)cJSON_GetArraySize(arr);
	*out = xcalloc(cnt ? cnt : 1, sizeof(char *));
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || i >= cnt) {
			free(*out);
			*out = NULL;
			return -1;
		}
		(*out)[i++] = it->valuestring;
	}
	*n = i;
	return 0;
}

/*
 * A vocabulary list: in the config object, else a metadata string
 * holding a JSON array. *tree gets what must be deleted afterwards.
 */
static int
vocab_list(const cJSON *cfg, const cJSON *meta, const char *key,
    const char ***out, size_t *n, cJSON **tree, const char *what,
    struct err *e)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, key);

	*tree = NULL;
	if (j == NULL) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(meta, key);

		if (!cJSON_IsString(s))
			return err_set(e, ERR_MODEL, "%s: the config has no "
			    "\"%s\" vocabulary", what, key);
		if ((*tree = cJSON_Parse(s->valuestring)) == NULL)
			return err_set(e, ERR_MODEL, "%s: metadata \"%s\" is "
			    "not a JSON array", what, key);
		j = *tree;
	}
	if (json_strings(j, out, n) < 0)
		return err_set(e, ERR_MODEL, "%s: vocabulary \"%s\" is not an "
		    "array of strings", what, key);
	return 0;
}

/* One tensor entry of the header, for the offset checks. */
struct span {
	const char	*name;
	uint64_t	 begin, end;
};

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* Check dtype, shape and offsets of a tensor entry; fills *sp. */
static int
tensor_entry(const cJSON *j, const struct nn_tensor *want, struct span *sp,
    const char *what, struct err *e)
{
	const cJSON *dt, *shape, *offs, *it;
	int64_t v, b0, b1;
	int nd = 0;

	if (!cJSON_IsObject(j))
		return err_set(e, ERR_MODEL, "%s: tensor %s: not a JSON object",
		    what, sp->name);
	dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
	shape = cJSON_GetObjectItemCaseSensitive(j, "shape");
	offs = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
	if (!cJSON_IsString(dt))
		return err_set(e, ERR_MODEL, "%s: tensor %s: no dtype", what,
		    sp->name);
	if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
	    json_int(cJSON_GetArrayItem(offs, 0), 0, 9007199254740992.0,
	    &b0) < 0 ||
	    json_int(cJSON_GetArrayItem(offs, 1), 0, 9007199254740992.0,
	    &b1) < 0 || b1 < b0)
		return err_set(e, ERR_MODEL, "%s: tensor %s: data_offsets must "
		    "be [begin, end] with 0 <= begin <= end", what, sp->name);
	sp->begin = (uint64_t)b0;
	sp->end = (uint64_t)b1;
	if (want == NULL)	/* a tensor this version does not use */
		return 0;
	if (strcmp(dt->valuestring, "F32") != 0)
		return err_set(e, ERR_MODEL, "%s: tensor %s: dtype %.16s, only "
		    "F32 is supported", what, sp->name, dt->valuestring);
	if (!cJSON_IsArray(shape))
		return err_set(e, ERR_MODEL, "%s: tensor %s: no shape", what,
		    sp->name);
	cJSON_ArrayForEach(it, shape) {
		if (json_int(it, 0, 9007199254740992.0, &v) < 0 ||
		    nd >= want->ndim || v != want->shape[nd]) {
			nd = -1;
			break;
		}
		nd++;
	}
	if (nd != want->ndim) {
		char *got = cJSON_PrintUnformatted(shape);

		if (want->ndim == 1)
			err_set(e, ERR_MODEL, "%s: tensor %s: shape %.40s "
			    "disagrees with the config ([%lld])", what,
			    sp->name, got ? got : "?",
			    (long long)want->shape[0]);
		else
			err_set(e, ERR_MODEL, "%s: tensor %s: shape %.40s "
			    "disagrees with the config ([%lld, %lld])", what,
			    sp->name, got ? got : "?",
			    (long long)want->shape[0],
			    (long long)want->shape[1]);
		cJSON_free(got);
		return -1;
	}
	if (sp->end - sp->begin != (uint64_t)want->n * 4)
		return err_set(e, ERR_MODEL, "%s: tensor %s: data_offsets "
		    "[%llu, %llu] hold %llu bytes, its shape needs %zu", what,
		    sp->name, (unsigned long long)sp->begin,
		    (unsigned long long)sp->end,
		    (unsigned long long)(sp->end - sp->begin), want->n * 4);
	return 0;
}

/* data_offsets[0] of an entry already checked by tensor_entry. */
static size_t
entry_begin(const cJSON *j)
{
	const cJSON *offs = cJSON_GetObjectItemCaseSensitive(j,
	    "data_offsets");

	return (size_t)cJSON_GetArrayItem(offs, 0)->valuedouble;
}

/*
 * Config and vocabularies from __metadata__; dlen bytes of data follow
 * the header, so a config needing more is refused before allocating.
 */
static struct nn_model *
read_meta(const cJSON *root, uint64_t dlen, const char *what,
    struct err *e)
{
	const cJSON *meta, *fmt, *ver, *cs, *it;
	const char **types = NULL, **items = NULL;
	cJSON *cfgj = NULL, *tt = NULL, *ti = NULL, *extra = NULL;
	size_t nt = 0, ni = 0;
	struct nn_model *m = NULL;
	struct nn_config cfg;
	struct vocab *v;
	size_t sizes[NN_NPARAMS], need = 0;
	int64_t x;
	int i;

	meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
	if (!cJSON_IsObject(meta))
		return err_set(e, ERR_MODEL, "%s: no __metadata__ object: not "
		    "a journeyscope model", what), NULL;
	fmt = cJSON_GetObjectItemCaseSensitive(meta, "format");
	ver = cJSON_GetObjectItemCaseSensitive(meta, "version");
	cs = cJSON_GetObjectItemCaseSensitive(meta, "config");
	if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, NN_FORMAT) != 0)
		return err_set(e, ERR_MODEL, "%s: metadata format is not \"%s\"",
		    what, NN_FORMAT), NULL;
	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, NN_VERSION) != 0)
		return err_set(e, ERR_MODEL, "%s: model version %.20s; this "
		    "journeyscope reads version %s", what,
		    cJSON_IsString(ver) ? ver->valuestring : "(none)",
		    NN_VERSION), NULL;
	if (!cJSON_IsString(cs))
		return err_set(e, ERR_MODEL, "%s: metadata has no config "
		    "string", what), NULL;
	if ((cfgj = cJSON_Parse(cs->valuestring)) == NULL ||
	    !cJSON_IsObject(cfgj)) {
		err_set(e, ERR_MODEL, "%s: metadata config is not a JSON "
		    "object", what);
		goto out;
	}
	for (i = 0; i < N_CFG_KEYS; i++) {
		it = cJSON_GetObjectItemCaseSensitive(cfgj, cfg_keys[i]);
		if (it == NULL) {
			err_set(e, ERR_MODEL, "%s: config: no %s", what,
			    cfg_keys[i]);
			goto out;
		}
		if (json_int(it, -2147483647.0, 2147483647.0, &x) < 0) {
			err_set(e, ERR_MODEL, "%s: config: %s is not a whole "
			    "number", what, cfg_keys[i]);
			goto out;
		}
		*cfg_field(&cfg, i) = (int)x;
	}
	if (nn_config_check(&cfg, e) < 0) {
		err_prefix(e, "%s", what);
		goto out;
	}
	if (vocab_list(cfgj, meta, "types", &types, &nt, &tt, what, e) < 0 ||
	    vocab_list(cfgj, meta, "items", &items, &ni, &ti, what, e) < 0)
		goto out;
	if (nt != (size_t)cfg.n_types || ni != (size_t)cfg.n_items) {
		err_set(e, ERR_MODEL, "%s: config says %d types and %d items, "
		    "the vocabularies list %zu and %zu", what, cfg.n_types,
		    cfg.n_items, nt, ni);
		goto out;
	}
	nn_param_sizes(&cfg, sizes);
	for (i = 0; i < NN_NPARAMS; i++)
		need += sizes[i];
	if (need > dlen / 4) {
		err_set(e, ERR_MODEL, "%s: %llu bytes of data, fewer than the "
		    "%llu bytes of parameters the config needs", what,
		    (unsigned long long)dlen, (unsigned long long)need * 4);
		goto out;
	}
	if ((v = vocab_new_full(types, nt, items, ni, e)) == NULL) {
		err_prefix(e, "%s", what);
		goto out;
	}
	if ((m = nn_model_new(&cfg, v, e)) == NULL) {
		err_prefix(e, "%s", what);
		goto out;
	}
	/* keep the members this version does not know, for export */
	cJSON_ArrayForEach(it, cfgj) {
		if (it->string == NULL || is_cfg_key(it->string))
			continue;
		if (extra == NULL)
			extra = cJSON_CreateObject();
		cJSON_AddItemToObject(extra, it->string,
		    cJSON_Duplicate(it, 1));
	}
	if (extra != NULL) {
		char *s = cJSON_PrintUnformatted(extra);

		m->extra = xstrdup(s);
		cJSON_free(s);
		cJSON_Delete(extra);
	}
out:
	free(types);
	free(items);
	cJSON_Delete(tt);
	cJSON_Delete(ti);
	cJSON_Delete(cfgj);
	return m;
}

/* Parse and check a whole image. */
struct nn_model *
nn_model_read_mem(const void *buf, size_t len, const char *what,
    struct err *e)
{
	const unsigned char *p = buf, *data;
	uint64_t hlen, dlen, at;
	const char *perr = NULL;
	struct nn_model *m = NULL;
	struct span *sp = NULL;
	struct nn_tensor t;
	struct smap *want = NULL;
	unsigned char *seen = NULL;
	const cJSON *it;
	cJSON *root = NULL;
	size_t nt, nsp = 0, i, k;
	int64_t *slot;
	int isnew;

	if (len < 8)
		return err_set(e, ERR_MODEL, "%s: %zu bytes: too short for a "
		    "safetensors file", what, len), NULL;
	hlen = le64(p);
	if (hlen > len - 8)
		return err_set(e, ERR_MODEL, "%s: header length %llu runs past "
		    "the end of the file (%zu bytes)", what,
		    (unsigned long long)hlen, len), NULL;
	root = cJSON_ParseWithLengthOpts((const char *)p + 8, (size_t)hlen,
	    &perr, 0);
	if (root != NULL && perr != NULL)	/* only blanks may follow */
		while (perr < (const char *)p + 8 + hlen)
			if (strchr(" \t\r\n", *perr++) == NULL ||
			    perr[-1] == '\0') {
				cJSON_Delete(root);
				root = NULL;
				perr--;
				break;
			}
	if (root == NULL || !cJSON_IsObject(root)) {
		err_set(e, ERR_MODEL, "%s: the header is not a JSON object "
		    "(error near byte %lld of %llu)", what, perr != NULL ?
		    (long long)(perr - ((const char *)p + 8)) + 8 : -1LL,
		    (unsigned long long)hlen + 8);
		cJSON_Delete(root);
		return NULL;
	}
	data = p + 8 + hlen;
	dlen = len - 8 - hlen;
	if ((m = read_meta(root, dlen, what, e)) == NULL)
		goto fail;

	/* every entry: the expected ones checked, all placed */
	nt = nn_tensor_count(&m->cfg);
	want = smap_new();
	for (i = 0; i < nt; i++) {
		nn_tensor_get(m, i, &t);
		smap_put(want, t.name, strlen(t.name), (int64_t)i, &isnew);
	}
	seen = xcalloc(nt, 1);
	sp = xcalloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(*sp));
	cJSON_ArrayForEach(it, root) {
		if (it->string == NULL || strcmp(it->string, "__metadata__") == 0)
			continue;
		sp[nsp].name = it->string;
		slot = smap_get(want, it->string, strlen(it->string));
		if (slot == NULL) {
			/* e.g. blocks.2.* in a file whose n_layers was cut */
			err_set(e, ERR_MODEL, "%s: tensor %s is not one of "
			    "this model's (n_layers %d)", what, it->string,
			    m->cfg.L);
			goto fail;
		}
		{
			k = (size_t)*slot;
			if (seen[k]) {
				err_set(e, ERR_MODEL, "%s: tensor %s appears "
				    "twice", what, it->string);
				goto fail;
			}
			seen[k] = 1;
			nn_tensor_get(m, k, &t);
		}
		if (tensor_entry(it, &t, &sp[nsp], what, e) < 0)
			goto fail;
		if (sp[nsp].end > dlen) {
			err_set(e, ERR_MODEL, "%s: tensor %s: data_offsets "
			    "[%llu, %llu] run past the end of the file (%llu "
			    "bytes of data)", what, it->string,
			    (unsigned long long)sp[nsp].begin,
			    (unsigned long long)sp[nsp].end,
			    (unsigned long long)dlen);
			goto fail;
		}
		nsp++;
	}
	for (i = 0; i < nt; i++)
		if (!seen[i]) {
			nn_tensor_get(m, i, &t);
			err_set(e, ERR_MODEL, "%s: missing tensor %s", what,
			    t.name);
			goto fail;
		}
	/* the data are the tensors back to back: no overlap, no gap */
	qsort(sp, nsp, sizeof(*sp), span_cmp);
	for (at = 0, i = 0; i < nsp; i++) {
		if (sp[i].begin < at) {
			err_set(e, ERR_MODEL, "%s: tensors %s and %s overlap "
			    "(data_offsets)", what, sp[i - 1].name,
			    sp[i].name);
			goto fail;
		}
		if (sp[i].begin > at) {
			if (i == 0)
				err_set(e, ERR_MODEL, "%s: %llu unused bytes "
				    "before tensor %s (a gap in data_offsets)",
				    what, (unsigned long long)sp[i].begin,
				    sp[i].name);
			else
				err_set(e, ERR_MODEL, "%s: %llu unused bytes "
				    "between tensors %s and %s (a gap in "
				    "data_offsets)", what,
				    (unsigned long long)(sp[i].begin - at),
				    sp[i - 1].name, sp[i].name);
			goto fail;
		}
		at = sp[i].end;
	}
	if (at != dlen) {
		err_set(e, ERR_MODEL, "%s: %llu unused bytes after the last "
		    "tensor (a gap in data_offsets)", what,
		    (unsigned long long)(dlen - at));
		goto fail;
	}
	/* the values, little-endian, each finite */
	cJSON_ArrayForEach(it, root) {
		const unsigned char *src;

		if (it->string == NULL ||
		    (slot = smap_get(want, it->string,
		    strlen(it->string))) == NULL)
			continue;
		nn_tensor_get(m, (size_t)*slot, &t);
		src = data + entry_begin(it);
		for (k = 0; k < t.n; k++) {
			t.data[k] = lef32(src + 4 * k);
			if (!isfinite(t.data[k])) {
				err_set(e, ERR_MODEL, "%s: tensor %s: element "
				    "%zu is not finite (%g)", what, t.name, k,
				    (double)t.data[k]);
				goto fail;
			}
		}
	}
	free(sp);
	free(seen);
	smap_free(want);
	cJSON_Delete(root);
	return m;
fail:
	free(sp);
	free(seen);
	smap_free(want);
	cJSON_Delete(root);
	nn_model_free(m);
	return NULL;
}

/* Read a whole file, then parse it. */
struct nn_model *
nn_model_read_file(const char *path, struct err *e)
{
	struct nn_model *m;
	unsigned char *buf;
	FILE *fp;
	long sz;
	size_t got;

	if ((fp = fopen(path, "rb")) == NULL)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
		    "%s: %s", path, strerror(errno)), NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		fclose(fp);
		return NULL;
	}
	if ((buf = malloc((size_t)sz + 1)) == NULL) {
		fclose(fp);
		return err_set(e, ERR_NOMEM, "%s: %ld bytes", path, sz), NULL;
	}
	got = fread(buf, 1, (size_t)sz, fp);
	if (got != (size_t)sz || ferror(fp)) {
		err_set(e, ERR_IO, "%s: read error", path);
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	m = nn_model_read_mem(buf, got, path, e);
	free(buf);
	return m;
}

/* The config members (without vocabularies) into obj. */
static void
config_members(const struct nn_model *m, cJSON *obj)
{
	struct nn_config c = m->cfg;
	cJSON *extra, *it;
	int i;

	for (i = 0; i < N_CFG_KEYS; i++)
		cJSON_AddNumberToObject(obj, cfg_keys[i], *cfg_field(&c, i));
	if (m->extra == NULL || (extra = cJSON_Parse(m->extra)) == NULL)
		return;
	cJSON_ArrayForEach(it, extra)
		if (it->string != NULL && !is_cfg_key(it->string) &&
		    !cJSON_HasObjectItem(obj, it->string))
			cJSON_AddItemToObject(obj, it->string,
			    cJSON_Duplicate(it, 1));
	cJSON_Delete(extra);
}

/* The config as compact JSON, with n_params. */
char *
nn_config_json(const struct nn_model *m)
{
	cJSON *o = cJSON_CreateObject();
	char *s, *r;

	config_members(m, o);
	cJSON_AddNumberToObject(o, "n_params", (double)m->n_params);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		fatal("out of memory printing a model config");
	r = xstrdup(s);
	cJSON_free(s);
	return r;
}

/* The safetensors image. */
int
nn_model_write_mem(const struct nn_model *m, const char *extra, void **out,
    size_t *len, struct err *e)
{
	const struct nn_config *c = &m->cfg;
	cJSON *root, *meta, *cfg, *arr, *ent, *ex, *it;
	size_t nt = nn_tensor_count(c), i, k, hl, pad, off = 0;
	struct nn_tensor t;
	unsigned char *buf, *d;
	char *cs, *hs;
	int j;

	*out = NULL;
	*len = 0;
	root = cJSON_CreateObject();
	meta = cJSON_AddObjectToObject(root, "__metadata__");
	cJSON_AddStringToObject(meta, "format", NN_FORMAT);
	cJSON_AddStringToObject(meta, "version", NN_VERSION);
	cfg = cJSON_CreateObject();
	config_members(m, cfg);
	if (extra != NULL) {
		if ((ex = cJSON_Parse(extra)) == NULL || !cJSON_IsObject(ex)) {
			cJSON_Delete(ex);
			cJSON_Delete(cfg);
			cJSON_Delete(root);
			return err_set(e, ERR_USAGE, "model config: extra "
			    "members are not a JSON object");
		}
		cJSON_ArrayForEach(it, ex)
			if (it->string != NULL && !is_cfg_key(it->string)) {
				cJSON_DeleteItemFromObjectCaseSensitive(cfg,
				    it->string);
				cJSON_AddItemToObject(cfg, it->string,
				    cJSON_Duplicate(it, 1));
			}
		cJSON_Delete(ex);
	}
	arr = cJSON_AddArrayToObject(cfg, "types");
	for (j = 0; j < c->n_types; j++)
		cJSON_AddItemToArray(arr,
		    cJSON_CreateString(vocab_type(m->vocab, j)));
	arr = cJSON_AddArrayToObject(cfg, "items");
	for (j = 0; j < c->n_items; j++)
		cJSON_AddItemToArray(arr,
		    cJSON_CreateString(vocab_item(m->vocab, j)));
	cs = cJSON_PrintUnformatted(cfg);
	cJSON_Delete(cfg);
	if (cs == NULL)
		fatal("out of memory printing a model config");
	cJSON_AddStringToObject(meta, "config", cs);
	cJSON_free(cs);
	for (i = 0; i < nt; i++) {
		double sh[2];

		nn_tensor_get(m, i, &t);
		ent = cJSON_AddObjectToObject(root, t.name);
		cJSON_AddStringToObject(ent, "dtype", "F32");
		sh[0] = (double)t.shape[0];
		sh[1] = (double)t.shape[1];
		cJSON_AddItemToObject(ent, "shape",
		    cJSON_CreateDoubleArray(sh, t.ndim));
		sh[0] = (double)off;
		sh[1] = (double)(off + t.n * 4);
		cJSON_AddItemToObject(ent, "data_offsets",
		    cJSON_CreateDoubleArray(sh, 2));
		off += t.n * 4;
	}
	hs = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (hs == NULL)
		fatal("out of memory printing a model header");
	hl = strlen(hs);
	pad = (8 - hl % 8) % 8;		/* data aligned to 8 bytes */
	*len = 8 + hl + pad + off;
	if ((buf = malloc(*len)) == NULL) {
		cJSON_free(hs);
		err_set(e, ERR_NOMEM, "model file: %zu bytes", *len);
		*len = 0;
		return -1;
	}
	for (k = 0; k < 8; k++)
		buf[k] = (unsigned char)((uint64_t)(hl + pad) >> (8 * k));
	memcpy(buf + 8, hs, hl);
	memset(buf + 8 + hl, ' ', pad);
	cJSON_free(hs);
	d = buf + 8 + hl + pad;
	for (i = 0; i < nt; i++) {
		nn_tensor_get(m, i, &t);
		for (k = 0; k < t.n; k++, d += 4)
			put_f32(d, t.data[k]);
	}
	*out = buf;
	return 0;
}

/* Write beside the target, then rename over it. */
int
nn_model_write_file(const struct nn_model *m, const char *extra,
    const char *path, struct err *e)
{
	struct buf tmp;
	void *img;
	size_t len;
	FILE *fp;
	int ok;

	if (nn_model_write_mem(m, extra, &img, &len, e) < 0)
		return -1;
	buf_init(&tmp);
	buf_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
	if ((fp = fopen(tmp.data, "wb")) == NULL) {
		err_set(e, ERR_IO, "%s: %s", tmp.data, strerror(errno));
		free(img);
		buf_release(&tmp);
		return -1;
	}
	ok = fwrite(img, 1, len, fp) == len;
	ok = (fclose(fp) == 0) && ok;
	free(img);
	if (!ok || rename(tmp.data, path) != 0) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		unlink(tmp.data);
		buf_release(&tmp);
		return -1;
	}
	buf_release(&tmp);
	return 0;
}
