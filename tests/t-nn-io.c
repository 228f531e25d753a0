/*
 * t-nn-io.c: the model file (MODEL.md "File format"). A round trip in
 * memory and through a file gives the same config, vocabularies and
 * bit-identical parameters; the header has exactly MODEL.md's tensor
 * names and shapes in a layout any safetensors reader takes. Then the
 * reader rejects, with ERR_MODEL and a message naming the problem, each
 * malformed file MODEL.md lists (and a few more), each made from a valid
 * image by one edit of its header (parsed with cJSON, re-serialised) or
 * its data; truncations and byte flips must never crash it.
 */
#include "config.h"

#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "nn.h"
#include "tokens.h"
#include "util.h"
#include "tap.h"

#define WHAT	"bad.st"	/* the name the reader gets for edited images */

static char dir[256];
static struct nn_rng rng;
static struct nn_model *model;		/* the model every image comes from */
static unsigned char *valid;		/* its image */
static size_t valid_len;

/* ---- the model and MODEL.md's table ---- */

/* A small model; parameters random, with -0, subnormals and extremes. */
static struct nn_model *
model_new(void)
{
	static const char *const types[] = { "view", "purchase",
	    "support_ticket" };
	static const char *const items[] = { "85123A", "22423",
	    "a \"quoted\"\\ id \xc3\xa9" };
	struct nn_config cfg;
	struct nn_model *m;
	struct err e;
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.C = 8;
	cfg.L = 2;
	cfg.H = 2;
	cfg.max_len = 6;
	cfg.n_types = 5;
	cfg.n_items = 5;
	cfg.churn_horizon_days = 45;
	err_clear(&e);
	if ((m = nn_model_new(&cfg, vocab_new(types, 3, items, 3), &e)) ==
	    NULL) {
		diag("nn_model_new: %s", e.msg);
		return NULL;
	}
	for (i = 0; i < m->n_params; i++)
		m->mem[i] = (float)nn_rng_normal(&rng);
	m->mem[0] = -0.0f;
	m->mem[1] = 1e-45f;		/* the smallest subnormal */
	m->mem[2] = -3e-39f;
	m->mem[3] = 3.4028235e38f;	/* FLT_MAX */
	m->mem[m->n_params - 1] = -3.4028235e38f;
	return m;
}

/* One tensor as MODEL.md's table has it. */
struct want {
	char		 name[64];
	int		 ndim;
	int64_t		 shape[2];
	const float	*data;
};

/*
 * MODEL.md's table for m, written out here (not from nn_tensor_get):
 * names, shapes and where the values live. Returns the count.
 */
static size_t
want_table(const struct nn_model *m, struct want *w)
{
	const struct nn_params *p = &m->p;
	const int64_t C = m->cfg.C, NT = m->cfg.n_types, NI = m->cfg.n_items;
	size_t n = 0;
	int l;

#define W(nm, d, r, c, ptr) do { \
	snprintf(w[n].name, sizeof(w[n].name), "%s", nm); \
	w[n].ndim = (d); w[n].shape[0] = (r); w[n].shape[1] = (c); \
	w[n].data = (ptr); n++; } while (0)
#define WL(nm, d, r, c, ptr) do { \
	char b_[64]; \
	snprintf(b_, sizeof(b_), "blocks.%d.%s", l, nm); \
	W(b_, d, r, c, (ptr) + l * (r) * (c)); } while (0)
	W("emb.type", 2, NT, C, p->emb_type);
	W("emb.item", 2, NI, C, p->emb_item);
	W("emb.gap", 2, 32, C, p->emb_gap);
	W("emb.amount", 2, 16, C, p->emb_amount);
	W("emb.pos", 2, m->cfg.max_len, C, p->emb_pos);
	for (l = 0; l < m->cfg.L; l++) {
		WL("ln1.weight", 1, C, 1, p->ln1_w);
		WL("ln1.bias", 1, C, 1, p->ln1_b);
		WL("attn.qkv.weight", 2, 3 * C, C, p->qkv_w);
		WL("attn.qkv.bias", 1, 3 * C, 1, p->qkv_b);
		WL("attn.proj.weight", 2, C, C, p->proj_w);
		WL("attn.proj.bias", 1, C, 1, p->proj_b);
		WL("ln2.weight", 1, C, 1, p->ln2_w);
		WL("ln2.bias", 1, C, 1, p->ln2_b);
		WL("mlp.fc.weight", 2, 4 * C, C, p->fc_w);
		WL("mlp.fc.bias", 1, 4 * C, 1, p->fc_b);
		WL("mlp.proj.weight", 2, C, 4 * C, p->mproj_w);
		WL("mlp.proj.bias", 1, C, 1, p->mproj_b);
	}
	W("ln_f.weight", 1, C, 1, p->lnf_w);
	W("ln_f.bias", 1, C, 1, p->lnf_b);
	W("head.type.weight", 2, NT, C, p->type_w);
	W("head.type.bias", 1, NT, 1, p->type_b);
	W("head.churn.weight", 2, 1, C, p->churn_w);
	W("head.churn.bias", 1, 1, 1, p->churn_b);
#undef WL
#undef W
	return n;
}

/* Two models hold the same config, vocabularies and parameter bits. */
static int
same_model(const struct nn_model *a, const struct nn_model *b)
{
	const struct nn_config *x = &a->cfg, *y = &b->cfg;
	int i;

	if (x->C != y->C || x->L != y->L || x->H != y->H ||
	    x->max_len != y->max_len || x->n_types != y->n_types ||
	    x->n_items != y->n_items ||
	    x->churn_horizon_days != y->churn_horizon_days ||
	    a->n_params != b->n_params)
		return 0;
	if (vocab_n_types(a->vocab) != vocab_n_types(b->vocab) ||
	    vocab_n_items(a->vocab) != vocab_n_items(b->vocab))
		return 0;
	for (i = 0; i < x->n_types; i++)
		if (strcmp(vocab_type(a->vocab, i), vocab_type(b->vocab, i)))
			return 0;
	for (i = 0; i < x->n_items; i++)
		if (strcmp(vocab_item(a->vocab, i), vocab_item(b->vocab, i)))
			return 0;
	return memcmp(a->mem, b->mem, a->n_params * sizeof(float)) == 0;
}

/* ---- reading an image's parts ---- */

/* The 8-byte little-endian number at p. */
static uint64_t
get_le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Store v at p as 8 little-endian bytes. */
static void
put_le64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The header of an image as a cJSON tree, and where its data start. */
static cJSON *
hdr_parse(const unsigned char *img, size_t n, size_t *data_at)
{
	uint64_t hl;

	if (n < 8 || (hl = get_le64(img)) > n - 8)
		return NULL;
	*data_at = 8 + (size_t)hl;
	return cJSON_ParseWithLength((const char *)img + 8, (size_t)hl);
}

/* A number of a JSON array, or -1. */
static double
arr_num(const cJSON *a, int i)
{
	const cJSON *x = cJSON_GetArrayItem(a, i);

	return cJSON_IsNumber(x) ? x->valuedouble : -1;
}

/* write_mem then read_mem, with and without extra members. */
static void
test_roundtrip(void)
{
	struct nn_model *m2;
	struct err e;
	void *img2;
	size_t len2;
	char *cj;
	int rc;

	err_clear(&e);
	rc = nn_model_write_mem(model, NULL, (void **)&valid, &valid_len, &e);
	ok(rc == 0 && valid != NULL && valid_len > 8, "write_mem: %zu bytes",
	    valid_len);
	if (rc < 0)
		return;
	m2 = nn_model_read_mem(valid, valid_len, "mem", &e);
	ok(m2 != NULL, "read_mem of what write_mem wrote: %s",
	    m2 ? "ok" : e.msg);
	ok(m2 != NULL && same_model(model, m2), "round trip: the same config, "
	    "vocabularies and bit-identical parameters (-0, subnormals, "
	    "FLT_MAX)");
	ok(m2 != NULL && m2->extra == NULL, "no extra config members "
	    "written, none read");
	nn_model_free(m2);

	/* extra members: kept on reading, written again, never over ours */
	rc = nn_model_write_mem(model, "{\"epochs\":3,\"trained_on\":"
	    "\"store.db\",\"d_model\":99,\"n_params\":1}", &img2, &len2, &e);
	m2 = rc == 0 ? nn_model_read_mem(img2, len2, "mem", &e) : NULL;
	ok(m2 != NULL && same_model(model, m2) && m2->cfg.C == 8,
	    "extra config members do not replace d_model: %s",
	    m2 ? "ok" : e.msg);
	ok(m2 != NULL && m2->extra != NULL &&
	    strstr(m2->extra, "\"epochs\":3") &&
	    strstr(m2->extra, "\"trained_on\":\"store.db\"") &&
	    !strstr(m2->extra, "d_model") && !strstr(m2->extra, "n_params"),
	    "the extra members are kept: %s", m2 && m2->extra ? m2->extra :
	    "(none)");
	cj = m2 ? nn_config_json(m2) : NULL;
	ok(cj != NULL && strstr(cj, "\"d_model\":8") &&
	    strstr(cj, "\"n_layers\":2") && strstr(cj, "\"n_heads\":2") &&
	    strstr(cj, "\"max_len\":6") && strstr(cj, "\"n_types\":5") &&
	    strstr(cj, "\"n_items\":5") &&
	    strstr(cj, "\"churn_horizon_days\":45") &&
	    strstr(cj, "\"epochs\":3") && !strstr(cj, "\"types\"") &&
	    strstr(cj, "\"n_params\":") != NULL,
	    "nn_config_json: %s", cj ? cj : "(null)");
	if (m2 != NULL) {
		void *img3;
		size_t len3;

		rc = nn_model_write_mem(m2, NULL, &img3, &len3, &e);
		ok(rc == 0 && len3 == len2 && memcmp(img3, img2, len2) == 0,
		    "writing what was read gives the same bytes");
		free(img3);
	} else
		ok(0, "writing what was read gives the same bytes");
	free(cj);
	nn_model_free(m2);
	free(img2);

	err_clear(&e);
	img2 = NULL;
	rc = nn_model_write_mem(model, "[1, 2]", &img2, &len2, &e);
	ok(rc < 0 && img2 == NULL && e.code == ERR_USAGE,
	    "extra members that are not a JSON object: %s", e.msg);
}

/* The names in dir (not . and ..), counted. */
static int
dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* write_file and read_file in the test directory. */
static void
test_file(void)
{
	char path[512], bad[512];
	unsigned char buf[1 << 16];
	struct nn_model *m2;
	struct err e;
	size_t n = 0;
	FILE *fp;
	int rc;

	snprintf(path, sizeof(path), "%s/model.st", dir);
	err_clear(&e);
	rc = nn_model_write_file(model, NULL, path, &e);
	ok(rc == 0, "write_file: %s", rc == 0 ? path : e.msg);
	if ((fp = fopen(path, "rb")) != NULL) {
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
	}
	ok(n == valid_len && memcmp(buf, valid, n) == 0, "the file holds the "
	    "bytes write_mem gives (%zu)", n);
	ok(dir_entries() == 1, "no temporary file left beside it");
	m2 = nn_model_read_file(path, &e);
	ok(m2 != NULL && same_model(model, m2), "read_file: the same model: "
	    "%s", m2 ? "ok" : e.msg);
	nn_model_free(m2);
	/* replacing an existing file */
	model->mem[5] += 1.0f;
	rc = nn_model_write_file(model, NULL, path, &e);
	m2 = rc == 0 ? nn_model_read_file(path, &e) : NULL;
	ok(m2 != NULL && same_model(model, m2) && dir_entries() == 1,
	    "write_file replaces a file: %s", m2 ? "ok" : e.msg);
	model->mem[5] -= 1.0f;
	nn_model_free(m2);

	err_clear(&e);
	snprintf(bad, sizeof(bad), "%s/absent.st", dir);
	m2 = nn_model_read_file(bad, &e);
	ok(m2 == NULL && e.code == ERR_NOTFOUND && strstr(e.msg, bad),
	    "read_file of a missing file: ERR_NOTFOUND: %s", e.msg);
	err_clear(&e);
	snprintf(bad, sizeof(bad), "%s/no/such/dir/m.st", dir);
	rc = nn_model_write_file(model, NULL, bad, &e);
	ok(rc < 0 && e.code == ERR_IO, "write_file into a missing directory: "
	    "ERR_IO: %s", e.msg);
	/* a file that is a bad model: the path names it */
	snprintf(bad, sizeof(bad), "%s/short.st", dir);
	if ((fp = fopen(bad, "wb")) != NULL) {
		fwrite("\x10\0\0\0", 1, 4, fp);
		fclose(fp);
	}
	err_clear(&e);
	m2 = nn_model_read_file(bad, &e);
	ok(m2 == NULL && e.code == ERR_MODEL && strstr(e.msg, bad) &&
	    strstr(e.msg, "too short"), "read_file of a 4-byte file: %s",
	    e.msg);
	unlink(bad);
}

/* The image against MODEL.md and the safetensors layout. */
static void
test_layout(void)
{
	struct want w[64];
	size_t nw = want_table(model, w), at, i, nfound = 0, k;
	cJSON *root, *meta, *it, *cfg, *arr;
	struct {
		double	 begin, end;
	} sp[64];
	uint64_t hl = get_le64(valid);
	int good, j;

	root = hdr_parse(valid, valid_len, &at);
	ok(root != NULL && cJSON_IsObject(root) && valid[8] == '{',
	    "8-byte little-endian length %llu, then a JSON object",
	    (unsigned long long)hl);
	if (root == NULL)
		return;
	ok(at % 8 == 0, "the data start on an 8-byte boundary (byte %zu)",
	    at);
	is_int((int64_t)nn_tensor_count(&model->cfg), (int64_t)nw,
	    "nn_tensor_count is MODEL.md's 11 + 12 L");

	/* exactly MODEL.md's tensors, F32, their shapes, their values */
	good = 1;
	cJSON_ArrayForEach(it, root) {
		const cJSON *dt, *sh, *of;

		if (strcmp(it->string, "__metadata__") == 0)
			continue;
		for (i = 0; i < nw; i++)
			if (strcmp(w[i].name, it->string) == 0)
				break;
		if (i == nw) {
			diag("unexpected tensor %s", it->string);
			good = 0;
			continue;
		}
		dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
		sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
		of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
		if (!cJSON_IsString(dt) || strcmp(dt->valuestring, "F32") ||
		    !cJSON_IsArray(sh) || cJSON_GetArraySize(sh) != w[i].ndim ||
		    arr_num(sh, 0) != (double)w[i].shape[0] ||
		    (w[i].ndim == 2 && arr_num(sh, 1) !=
		    (double)w[i].shape[1]) || !cJSON_IsArray(of) ||
		    cJSON_GetArraySize(of) != 2 ||
		    cJSON_GetArraySize(it) != 3) {
			diag("tensor %s: bad dtype, shape or offsets",
			    it->string);
			good = 0;
			continue;
		}
		sp[nfound].begin = arr_num(of, 0);
		sp[nfound].end = arr_num(of, 1);
		/* the values: little-endian F32, bit for bit */
		k = (size_t)(w[i].shape[0] * w[i].shape[1]);
		if (sp[nfound].end - sp[nfound].begin != 4.0 * k ||
		    at + sp[nfound].end > valid_len) {
			diag("tensor %s: %g bytes", it->string,
			    sp[nfound].end - sp[nfound].begin);
			good = 0;
		} else
			for (j = 0; j < (int)k; j++) {
				const unsigned char *b = valid + at +
				    (size_t)sp[nfound].begin + 4 * j;
				uint32_t u = (uint32_t)b[0] |
				    (uint32_t)b[1] << 8 |
				    (uint32_t)b[2] << 16 |
				    (uint32_t)b[3] << 24, v;

				memcpy(&v, &w[i].data[j], 4);
				if (u != v) {
					diag("tensor %s element %d differs",
					    it->string, j);
					good = 0;
					break;
				}
			}
		nfound++;
	}
	ok(good && nfound == nw, "exactly MODEL.md's %zu tensors (found %zu), "
	    "F32, its shapes, the parameters' bits", nw, nfound);

	/* data_offsets: back to back from 0 to the end of the file */
	for (i = 0; i < nfound; i++)		/* sort by begin */
		for (k = i + 1; k < nfound; k++)
			if (sp[k].begin < sp[i].begin) {
				double b = sp[i].begin, e = sp[i].end;

				sp[i] = sp[k];
				sp[k].begin = b;
				sp[k].end = e;
			}
	good = nfound > 0 && sp[0].begin == 0;
	for (i = 1; i < nfound; i++)
		good &= sp[i].begin == sp[i - 1].end;
	ok(good && nfound > 0 && at + sp[nfound - 1].end == valid_len,
	    "data_offsets are contiguous from 0 to the end of the file");

	/* shapes and offsets as plain digits: readers parse them as usize */
	{
		static const char *const keys[] = { "\"shape\":[",
		    "\"data_offsets\":[" };
		const char *h = (const char *)valid + 8, *end = h + hl, *q;
		size_t cnt = 0;

		good = 1;
		for (j = 0; j < 2; j++)
			for (q = h; (q = memmem(q, (size_t)(end - q), keys[j],
			    strlen(keys[j]))) != NULL; cnt++) {
				q += strlen(keys[j]);
				while (q < end && *q != ']')
					if (strchr("0123456789,", *q++) ==
					    NULL)
						good = 0;
			}
		ok(good && cnt == 2 * nw, "shapes and data_offsets written as "
		    "plain integers (%zu arrays)", cnt);
	}

	/* __metadata__: strings only, format, version, config */
	meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
	good = cJSON_IsObject(meta);
	if (good)
		cJSON_ArrayForEach(it, meta)
			good &= cJSON_IsString(it);
	ok(good, "__metadata__ holds string values only");
	it = cJSON_GetObjectItemCaseSensitive(meta, "format");
	is_str(cJSON_IsString(it) ? it->valuestring : NULL, "journeyscope-seq",
	    "metadata format");
	it = cJSON_GetObjectItemCaseSensitive(meta, "version");
	is_str(cJSON_IsString(it) ? it->valuestring : NULL, "1",
	    "metadata version");
	it = cJSON_GetObjectItemCaseSensitive(meta, "config");
	cfg = cJSON_IsString(it) ? cJSON_Parse(it->valuestring) : NULL;
	{
		static const char *const keys[] = { "d_model", "n_layers",
		    "n_heads", "max_len", "n_types", "n_items",
		    "churn_horizon_days" };
		const int vals[] = { 8, 2, 2, 6, 5, 5, 45 };

		good = cJSON_IsObject(cfg);
		for (j = 0; good && j < 7; j++) {
			it = cJSON_GetObjectItemCaseSensitive(cfg, keys[j]);
			good = cJSON_IsNumber(it) &&
			    it->valuedouble == vals[j];
		}
		ok(good, "config: the seven sizes of MODEL.md");
	}
	arr = cJSON_GetObjectItemCaseSensitive(cfg, "types");
	good = cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 5;
	for (j = 0; good && j < 5; j++) {
		it = cJSON_GetArrayItem(arr, j);
		good = cJSON_IsString(it) && strcmp(it->valuestring,
		    vocab_type(model->vocab, j)) == 0;
	}
	ok(good, "config: the types in index order, reserved included");
	arr = cJSON_GetObjectItemCaseSensitive(cfg, "items");
	good = cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 5;
	for (j = 0; good && j < 5; j++) {
		it = cJSON_GetArrayItem(arr, j);
		good = cJSON_IsString(it) && strcmp(it->valuestring,
		    vocab_item(model->vocab, j)) == 0;
	}
	ok(good, "config: the item ids in index order (quotes, backslash, "
	    "UTF-8 intact)");
	cJSON_Delete(cfg);
	cJSON_Delete(root);
}

/* ---- one edit of a valid image ---- */

struct edit {
	cJSON		*root;
	unsigned char	*data;		/* the data section (malloc'd) */
	size_t		 dlen;
};

/* Start from the valid image. */
static void
edit_begin(struct edit *ed)
{
	size_t at;

	ed->root = hdr_parse(valid, valid_len, &at);
	if (ed->root == NULL)
		fatal("t-nn-io: the valid image does not parse");
	ed->dlen = valid_len - at;
	ed->data = xmalloc(ed->dlen + 64);
	memcpy(ed->data, valid + at, ed->dlen);
}

/* The edited image: length, the header as printed by cJSON, the data. */
static unsigned char *
edit_image(const struct edit *ed, size_t *n)
{
	char *h = cJSON_PrintUnformatted(ed->root);
	size_t hl = strlen(h);
	unsigned char *img = xmalloc(8 + hl + ed->dlen + 1);

	put_le64(img, hl);
	memcpy(img + 8, h, hl);
	memcpy(img + 8 + hl, ed->data, ed->dlen);
	cJSON_free(h);
	*n = 8 + hl + ed->dlen;
	return img;
}

/* Free an edit. */
static void
edit_end(struct edit *ed)
{
	cJSON_Delete(ed->root);
	free(ed->data);
	memset(ed, 0, sizeof(*ed));
}

/*
 * The reader refuses img with ERR_MODEL, a message naming WHAT and
 * holding s1 and s2 (when not NULL).
 */
static void
rejects(const unsigned char *img, size_t n, const char *s1, const char *s2,
    const char *desc)
{
	struct nn_model *m;
	struct err e;

	err_clear(&e);
	m = nn_model_read_mem(img, n, WHAT, &e);
	ok(m == NULL && e.code == ERR_MODEL && strstr(e.msg, WHAT) &&
	    (s1 == NULL || strstr(e.msg, s1)) &&
	    (s2 == NULL || strstr(e.msg, s2)), "rejects %s: %s", desc,
	    m ? "(accepted)" : e.msg);
	nn_model_free(m);
}

/* Finish an edit: the result must be refused. */
static void
edit_reject(struct edit *ed, const char *s1, const char *s2,
    const char *desc)
{
	unsigned char *img;
	size_t n;

	img = edit_image(ed, &n);
	rejects(img, n, s1, s2, desc);
	free(img);
	edit_end(ed);
}

/* Finish an edit: the result must load as the original model. */
static void
edit_accept(struct edit *ed, const char *desc)
{
	struct nn_model *m;
	unsigned char *img;
	struct err e;
	size_t n;

	img = edit_image(ed, &n);
	err_clear(&e);
	m = nn_model_read_mem(img, n, WHAT, &e);
	ok(m != NULL && same_model(model, m), "accepts %s: %s", desc,
	    m ? "the same model" : e.msg);
	nn_model_free(m);
	free(img);
	edit_end(ed);
}

/* Tensor entry by name. */
static cJSON *
tensor(struct edit *ed, const char *name)
{
	cJSON *t = cJSON_GetObjectItemCaseSensitive(ed->root, name);

	if (t == NULL)
		fatal("t-nn-io: no tensor %s in the valid image", name);
	return t;
}

/* Replace member key of obj with item. */
static void
replace(cJSON *obj, const char *key, cJSON *item)
{
	if (cJSON_HasObjectItem(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
}

/* Set the data_offsets of tensor entry t to [b, e]. */
static void
set_offsets(cJSON *t, double b, double e)
{
	double v[2] = { b, e };

	replace(t, "data_offsets", cJSON_CreateDoubleArray(v, 2));
}

/* data_offsets[i] of tensor entry t (-1 if not a number). */
static double
offset(cJSON *t, int i)
{
	return arr_num(cJSON_GetObjectItemCaseSensitive(t, "data_offsets"), i);
}

/* Move every tensor that begins at or after at by delta bytes. */
static void
shift_from(struct edit *ed, double at, double delta)
{
	cJSON *it;

	cJSON_ArrayForEach(it, ed->root)
		if (strcmp(it->string, "__metadata__") != 0 &&
		    offset(it, 0) >= at)
			set_offsets(it, offset(it, 0) + delta,
			    offset(it, 1) + delta);
}

/* Insert n zero bytes into the data at byte at (offsets follow). */
static void
data_insert(struct edit *ed, size_t at, size_t n)
{
	ed->data = xrealloc(ed->data, ed->dlen + n + 64);
	memmove(ed->data + at + n, ed->data + at, ed->dlen - at);
	memset(ed->data + at, 0, n);
	ed->dlen += n;
	shift_from(ed, (double)at, (double)n);
}

/* Remove a tensor: its entry and its bytes. */
static void
tensor_remove(struct edit *ed, const char *name)
{
	cJSON *t = tensor(ed, name);
	size_t b = (size_t)offset(t, 0), e = (size_t)offset(t, 1);

	cJSON_DeleteItemFromObjectCaseSensitive(ed->root, name);
	memmove(ed->data + b, ed->data + e, ed->dlen - e);
	ed->dlen -= e - b;
	shift_from(ed, (double)e, -(double)(e - b));
}

/* Append a tensor entry with n bytes of data (a second entry of an
 * existing name is added as a duplicate key). */
static void
tensor_append(struct edit *ed, const char *name, const char *dtype,
    const double *shape, int nd, size_t n)
{
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "dtype", dtype);
	cJSON_AddItemToObject(t, "shape", cJSON_CreateDoubleArray(shape, nd));
	set_offsets(t, (double)ed->dlen, (double)(ed->dlen + n));
	cJSON_AddItemToObject(ed->root, name, t);
	ed->data = xrealloc(ed->data, ed->dlen + n + 64);
	memset(ed->data + ed->dlen, 0x3f, n);
	ed->dlen += n;
}

/* The tensor whose data come last. */
static cJSON *
last_tensor(struct edit *ed)
{
	cJSON *it, *best = NULL;

	cJSON_ArrayForEach(it, ed->root)
		if (strcmp(it->string, "__metadata__") != 0 &&
		    (best == NULL || offset(it, 0) > offset(best, 0)))
			best = it;
	return best;
}

/* Overwrite element k of a tensor's data with the float bits u. */
static void
poke(struct edit *ed, const char *name, size_t k, uint32_t u)
{
	unsigned char *p = ed->data + (size_t)offset(tensor(ed, name), 0) +
	    4 * k;

	p[0] = (unsigned char)u;
	p[1] = (unsigned char)(u >> 8);
	p[2] = (unsigned char)(u >> 16);
	p[3] = (unsigned char)(u >> 24);
}

/* The __metadata__ object of an edit. */
static cJSON *
meta_of(struct edit *ed)
{
	return cJSON_GetObjectItemCaseSensitive(ed->root, "__metadata__");
}

/* The config object, parsed out of its metadata string (the caller's). */
static cJSON *
cfg_get(struct edit *ed)
{
	cJSON *s = cJSON_GetObjectItemCaseSensitive(meta_of(ed), "config");

	return cJSON_Parse(s->valuestring);
}

/* Put the config object back as the metadata string; deletes it. */
static void
cfg_put(struct edit *ed, cJSON *cfg)
{
	char *s = cJSON_PrintUnformatted(cfg);

	replace(meta_of(ed), "config", cJSON_CreateString(s));
	cJSON_free(s);
	cJSON_Delete(cfg);
}

/* Reject an image whose config has key set to the JSON text val. */
static void
bad_cfg_value(const char *key, const char *val, const char *s1,
    const char *s2)
{
	struct edit ed;
	cJSON *cfg;
	char desc[128];

	edit_begin(&ed);
	cfg = cfg_get(&ed);
	replace(cfg, key, cJSON_Parse(val));
	cfg_put(&ed, cfg);
	snprintf(desc, sizeof(desc), "config %s = %s", key, val);
	edit_reject(&ed, s1, s2, desc);
}

/* Reject an image where tensor name has its dtype changed. */
static void
bad_dtype(const char *name, const char *dtype)
{
	struct edit ed;
	char desc[128], want[64];

	edit_begin(&ed);
	replace(tensor(&ed, name), "dtype", cJSON_CreateString(dtype));
	snprintf(desc, sizeof(desc), "dtype %s for %s", dtype, name);
	snprintf(want, sizeof(want), "dtype %s", dtype);
	edit_reject(&ed, name, want, desc);
}

/* Reject an image where tensor name has shape sh[0..nd). */
static void
bad_shape(const char *name, const double *sh, int nd, const char *desc)
{
	struct edit ed;

	edit_begin(&ed);
	replace(tensor(&ed, name), "shape", cJSON_CreateDoubleArray(sh, nd));
	edit_reject(&ed, name, "shape", desc);
}

/* Malformed lengths, JSON, metadata, config and vocabularies. */
static void
test_reject_header(void)
{
	static const char *const keys[] = { "d_model", "n_layers", "n_heads",
	    "max_len", "n_types", "n_items", "churn_horizon_days" };
	unsigned char *img, small[16];
	struct edit ed;
	cJSON *cfg, *arr;
	size_t n, i;
	char *h, desc[128];

	/* the edits themselves change nothing */
	edit_begin(&ed);
	edit_accept(&ed, "the header re-serialised without a change");
	edit_begin(&ed);
	img = edit_image(&ed, &n);
	{
		/* blanks after the JSON, inside the header length: allowed */
		size_t hl = (size_t)get_le64(img);
		unsigned char *pad = xmalloc(n + 5);

		memcpy(pad, img, 8 + hl);
		memcpy(pad + 8 + hl, "  \n\t ", 5);
		memcpy(pad + 8 + hl + 5, img + 8 + hl, n - 8 - hl);
		put_le64(pad, hl + 5);
		{
			struct err e;
			struct nn_model *m;

			err_clear(&e);
			m = nn_model_read_mem(pad, n + 5, WHAT, &e);
			ok(m != NULL && same_model(model, m), "accepts blanks "
			    "padding the header: %s", m ? "ok" : e.msg);
			nn_model_free(m);
		}
		/* anything else after the JSON is not */
		memcpy(pad + 8 + hl, "  x  ", 5);
		rejects(pad, n + 5, "not a JSON object", NULL, "a header with "
		    "text after the JSON object");
		free(pad);
	}
	free(img);
	edit_end(&ed);

	/* lengths */
	rejects(valid, 0, "0 bytes", "too short", "an empty file");
	rejects(valid, 7, "7 bytes", "too short", "a 7-byte file");
	memset(small, 0, sizeof(small));
	rejects(small, 8, "not a JSON object", NULL, "a header of length 0");
	img = xmalloc(valid_len);
	memcpy(img, valid, valid_len);
	put_le64(img, valid_len - 8 + 1);
	rejects(img, valid_len, "header length", "past the end",
	    "a header length one byte past the end");
	put_le64(img, UINT64_MAX);
	rejects(img, valid_len, "header length", "past the end",
	    "a header length of 2^64 - 1");
	put_le64(img, (uint64_t)1 << 63);
	rejects(img, valid_len, "header length", "past the end",
	    "a header length of 2^63");
	free(img);

	/* JSON that does not parse */
	edit_begin(&ed);
	img = edit_image(&ed, &n);
	{
		size_t hl = (size_t)get_le64(img);

		put_le64(img, hl - 1);		/* drop the closing brace */
		memmove(img + 8 + hl - 1, img + 8 + hl, n - 8 - hl);
		rejects(img, n - 1, "not a JSON object", NULL,
		    "a header missing its closing brace");
		/* the same, the header ending the buffer */
		rejects(img, 8 + hl - 1, "not a JSON object", NULL,
		    "a truncated header at the end of the buffer");
	}
	free(img);
	img = xmalloc(valid_len);
	memcpy(img, valid, valid_len);
	img[9] = '\0';
	rejects(img, valid_len, "not a JSON object", NULL, "a NUL byte "
	    "inside the header");
	free(img);
	edit_end(&ed);
	h = "[1, 2, 3]";
	img = xmalloc(8 + strlen(h));
	put_le64(img, strlen(h));
	memcpy(img + 8, h, strlen(h));
	rejects(img, 8 + strlen(h), "not a JSON object", NULL, "a header that "
	    "is a JSON array");
	free(img);

	/* __metadata__ */
	edit_begin(&ed);
	cJSON_DeleteItemFromObjectCaseSensitive(ed.root, "__metadata__");
	edit_reject(&ed, "__metadata__", NULL, "a header without "
	    "__metadata__");
	edit_begin(&ed);
	replace(ed.root, "__metadata__", cJSON_CreateString("x"));
	edit_reject(&ed, "__metadata__", NULL, "__metadata__ a string");
	edit_begin(&ed);
	replace(meta_of(&ed), "format", cJSON_CreateString("pytorch"));
	edit_reject(&ed, "format", "journeyscope-seq", "format pytorch");
	edit_begin(&ed);
	cJSON_DeleteItemFromObjectCaseSensitive(meta_of(&ed), "format");
	edit_reject(&ed, "format", NULL, "no format");
	edit_begin(&ed);
	replace(meta_of(&ed), "version", cJSON_CreateString("2"));
	edit_reject(&ed, "version 2", "reads version 1", "version 2");
	edit_begin(&ed);
	replace(meta_of(&ed), "version", cJSON_CreateNumber(1));
	edit_reject(&ed, "version", "(none)", "version the number 1, not a "
	    "string");
	edit_begin(&ed);
	cJSON_DeleteItemFromObjectCaseSensitive(meta_of(&ed), "config");
	edit_reject(&ed, "config", NULL, "no config");
	edit_begin(&ed);
	replace(meta_of(&ed), "config", cfg_get(&ed));
	edit_reject(&ed, "config", "string", "the config an object, not a "
	    "string");
	edit_begin(&ed);
	replace(meta_of(&ed), "config", cJSON_CreateString("{\"d_model\":"));
	edit_reject(&ed, "config", "not a JSON object", "a config string "
	    "that does not parse");

	/* config keys and values */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char want[64];

		edit_begin(&ed);
		cfg = cfg_get(&ed);
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, keys[i]);
		cfg_put(&ed, cfg);
		snprintf(want, sizeof(want), "no %s", keys[i]);
		snprintf(desc, sizeof(desc), "a config without %s", keys[i]);
		edit_reject(&ed, want, NULL, desc);
	}
	bad_cfg_value("d_model", "\"8\"", "d_model", "whole number");
	bad_cfg_value("d_model", "8.5", "d_model", "whole number");
	bad_cfg_value("d_model", "1e10", "d_model", NULL);
	bad_cfg_value("d_model", "0", "d_model", "outside");
	bad_cfg_value("d_model", "4097", "d_model", "outside");
	bad_cfg_value("n_layers", "0", "n_layers", "outside");
	bad_cfg_value("n_heads", "3", "n_heads 3", "does not divide");
	bad_cfg_value("n_heads", "0", "n_heads", NULL);
	bad_cfg_value("max_len", "-1", "max_len", "outside");
	bad_cfg_value("n_types", "1", "n_types", "outside");
	bad_cfg_value("churn_horizon_days", "0", "churn_horizon_days",
	    "outside");
	bad_cfg_value("n_items", "null", "n_items", "whole number");

	/* vocabularies */
	bad_cfg_value("n_types", "6", "6 types", "vocabularies list 5");
	bad_cfg_value("n_items", "4", "4 items", "vocabularies list 5");
	edit_begin(&ed);
	cfg = cfg_get(&ed);
	cJSON_DeleteItemFromArray(cJSON_GetObjectItemCaseSensitive(cfg,
	    "items"), 4);
	cfg_put(&ed, cfg);
	edit_reject(&ed, "5 items", "list 5 and 4", "an item list one "
	    "short of n_items");
	edit_begin(&ed);
	cfg = cfg_get(&ed);
	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "types");
	cfg_put(&ed, cfg);
	edit_reject(&ed, "\"types\"", "vocabulary", "a config without types");
	bad_cfg_value("types", "[\"<pad>\", \"<unk>\", 3, \"b\", \"c\"]",
	    "\"types\"", "array of strings");
	bad_cfg_value("items", "\"85123A\"", "\"items\"", "array of strings");
	bad_cfg_value("types", "[\"<unk>\", \"<pad>\", \"a\", \"b\", \"c\"]",
	    "type 0", "<pad>");
	bad_cfg_value("items", "[\"<none>\", \"<unk>\", \"a\", \"b\", \"a\"]",
	    "'a'", "twice");
	/* the vocabularies may also be metadata strings (JSON arrays) */
	edit_begin(&ed);
	cfg = cfg_get(&ed);
	arr = cJSON_DetachItemFromObjectCaseSensitive(cfg, "types");
	h = cJSON_PrintUnformatted(arr);
	cJSON_AddStringToObject(meta_of(&ed), "types", h);
	cJSON_free(h);
	cJSON_Delete(arr);
	cfg_put(&ed, cfg);
	edit_accept(&ed, "the types as a metadata string");
	edit_begin(&ed);
	cfg = cfg_get(&ed);
	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "types");
	cfg_put(&ed, cfg);
	cJSON_AddStringToObject(meta_of(&ed), "types", "[\"<pad>\",");
	edit_reject(&ed, "\"types\"", "not a JSON array", "a types metadata "
	    "string that does not parse");
}

/* Malformed tensor entries, offsets, sets of tensors, values. */
static void
test_reject_tensors(void)
{
	static const double sq[2] = { 16, 16 }, sh31[2] = { 31, 8 },
	    sh42[2] = { 4, 2 }, sh81[2] = { 8, 1 }, sh3[3] = { 32, 8, 1 },
	    one[1] = { 2 };
	struct edit ed;
	cJSON *t, *it;
	double b, e;
	char desc[160];

	/* dtypes */
	bad_dtype("emb.gap", "F16");
	bad_dtype("blocks.1.mlp.fc.weight", "F64");
	bad_dtype("head.churn.bias", "BF16");
	bad_dtype("ln_f.weight", "f32");
	edit_begin(&ed);
	cJSON_DeleteItemFromObjectCaseSensitive(tensor(&ed, "emb.pos"),
	    "dtype");
	edit_reject(&ed, "emb.pos", "no dtype", "a tensor without dtype");

	/* shapes (the byte counts kept where they can be) */
	bad_shape("emb.gap", sq, 2, "emb.gap shaped [16, 16] (same size)");
	bad_shape("emb.gap", sh31, 2, "emb.gap shaped [31, 8]");
	bad_shape("blocks.0.ln1.weight", sh42, 2, "a 1-D tensor shaped "
	    "[4, 2] (same size)");
	bad_shape("blocks.0.ln1.weight", sh81, 2, "a 1-D tensor shaped [8, 1]");
	bad_shape("emb.gap", sh3, 3, "emb.gap with a third dimension");
	bad_shape("emb.gap", sh3, 1, "emb.gap shaped [32]");
	bad_shape("head.churn.weight", sh81 + 1, 1, "head.churn.weight shaped "
	    "[1] (1-D)");
	edit_begin(&ed);
	replace(tensor(&ed, "emb.type"), "shape", cJSON_CreateString("5x8"));
	edit_reject(&ed, "emb.type", "no shape", "a shape that is not an "
	    "array");

	/* data_offsets malformed */
	edit_begin(&ed);
	t = tensor(&ed, "emb.amount");
	set_offsets(t, offset(t, 1), offset(t, 0));
	edit_reject(&ed, "emb.amount", "data_offsets", "reversed "
	    "data_offsets");
	edit_begin(&ed);
	t = tensor(&ed, "emb.amount");
	replace(t, "data_offsets", cJSON_Parse("[-4, 508]"));
	edit_reject(&ed, "emb.amount", "data_offsets", "a negative offset");
	edit_begin(&ed);
	t = tensor(&ed, "emb.amount");
	replace(t, "data_offsets", cJSON_Parse("[0.5, 512.5]"));
	edit_reject(&ed, "emb.amount", "data_offsets", "fractional offsets");
	edit_begin(&ed);
	t = tensor(&ed, "emb.amount");
	replace(t, "data_offsets", cJSON_Parse("[0]"));
	edit_reject(&ed, "emb.amount", "data_offsets", "one offset");
	edit_begin(&ed);
	t = tensor(&ed, "emb.amount");
	set_offsets(t, offset(t, 0), offset(t, 1) - 4);
	edit_reject(&ed, "emb.amount", "its shape needs 512", "data_offsets "
	    "4 bytes short of the shape");
	edit_begin(&ed);
	replace(ed.root, "emb.amount", cJSON_CreateNumber(1));
	edit_reject(&ed, "emb.amount", "not a JSON object", "a tensor entry "
	    "that is a number");

	/* overlap, gaps, past the end */
	edit_begin(&ed);
	t = tensor(&ed, "blocks.0.attn.proj.weight");
	b = offset(t, 0);
	e = offset(t, 1);
	set_offsets(t, b - 4, e - 4);
	edit_reject(&ed, "overlap", "blocks.0.attn.proj.weight", "a tensor "
	    "moved 4 bytes back over the one before (overlap)");
	edit_begin(&ed);
	t = tensor(&ed, "blocks.0.ln1.weight");
	/* two 1-D tensors of C floats: ln1.bias on ln1.weight's bytes */
	set_offsets(tensor(&ed, "blocks.0.ln1.bias"), offset(t, 0),
	    offset(t, 1));
	edit_reject(&ed, "overlap", "blocks.0.ln1", "two tensors on the same "
	    "bytes");
	edit_begin(&ed);
	data_insert(&ed, 0, 4);
	edit_reject(&ed, "4 unused bytes before", "gap", "4 bytes before the "
	    "first tensor (a gap)");
	edit_begin(&ed);
	t = tensor(&ed, "blocks.1.ln2.bias");
	data_insert(&ed, (size_t)offset(t, 1), 8);
	edit_reject(&ed, "8 unused bytes between", "blocks.1.ln2.bias",
	    "8 bytes between two tensors (a gap)");
	edit_begin(&ed);
	t = last_tensor(&ed);
	snprintf(desc, sizeof(desc), "the last tensor (%s) moved 4 bytes "
	    "past the end", t->string);
	set_offsets(t, offset(t, 0) + 4, offset(t, 1) + 4);
	edit_reject(&ed, t->string, "past the end", desc);
	edit_begin(&ed);
	ed.dlen -= 4;
	edit_reject(&ed, "fewer than the", "the config needs", "the file cut "
	    "4 bytes short");
	edit_begin(&ed);
	ed.dlen += 4;
	memset(ed.data + ed.dlen - 4, 0, 4);
	edit_reject(&ed, "4 unused bytes after", NULL, "4 trailing bytes "
	    "after the data");

	/* missing, repeated and unknown tensors */
	edit_begin(&ed);
	cJSON_DeleteItemFromObjectCaseSensitive(ed.root,
	    "blocks.1.mlp.proj.bias");
	edit_reject(&ed, "missing tensor blocks.1.mlp.proj.bias", NULL,
	    "a missing tensor (its entry; the bytes left)");
	edit_begin(&ed);
	cJSON_DeleteItemFromObjectCaseSensitive(ed.root, "emb.type");
	edit_reject(&ed, "missing tensor emb.type", NULL, "the first tensor "
	    "missing (its entry)");
	edit_begin(&ed);
	tensor_remove(&ed, "blocks.1.mlp.proj.bias");
	edit_reject(&ed, "fewer than the", "config needs", "a missing tensor "
	    "(entry and bytes): the data too short for the config");
	edit_begin(&ed);
	tensor_append(&ed, "emb.gap", "F32", sh31, 2, 4 * 31 * 8);
	edit_reject(&ed, "emb.gap", "twice", "a tensor listed twice");
	edit_begin(&ed);
	tensor_append(&ed, "blocks.2.ln1.weight", "F32", sh81, 1, 32);
	edit_reject(&ed, "blocks.2.ln1.weight is not one of", NULL, "an "
	    "unknown tensor (a third layer's, as in a file whose n_layers was "
	    "edited down)");
	edit_begin(&ed);
	tensor_append(&ed, "optimizer.step", "I64", one, 1, 16);
	edit_reject(&ed, "optimizer.step is not one of", NULL, "an unknown "
	    "I64 tensor");
	edit_begin(&ed);
	tensor_append(&ed, "empty", "F32", one, 0, 0);
	edit_reject(&ed, "empty is not one of", NULL, "an unknown empty "
	    "tensor at the end");

	/* values */
	edit_begin(&ed);
	poke(&ed, "blocks.0.attn.proj.weight", 3, 0x7fc00000);
	edit_reject(&ed, "blocks.0.attn.proj.weight: element 3",
	    "not finite", "a NaN weight");
	edit_begin(&ed);
	poke(&ed, "emb.item", 0, 0xffc00001);
	edit_reject(&ed, "emb.item: element 0", "not finite", "a negative "
	    "NaN with payload");
	edit_begin(&ed);
	poke(&ed, "head.churn.bias", 0, 0x7f800000);
	edit_reject(&ed, "head.churn.bias: element 0", "inf", "an infinite "
	    "bias");
	edit_begin(&ed);
	poke(&ed, "emb.pos", 47, 0xff800000);
	edit_reject(&ed, "emb.pos: element 47", "-inf", "-infinity in the "
	    "last element of a tensor");
}

/* Valid config, absurd sizes: the file is far too short for them. */
static void
test_reject_huge(void)
{
	struct edit ed;
	cJSON *cfg;

	edit_begin(&ed);
	cfg = cfg_get(&ed);
	replace(cfg, "d_model", cJSON_CreateNumber(4096));
	replace(cfg, "n_layers", cJSON_CreateNumber(64));
	replace(cfg, "max_len", cJSON_CreateNumber(65536));
	cfg_put(&ed, cfg);
	edit_reject(&ed, "fewer than the 52628062232 bytes", "config needs",
	    "a config of 52 GB of parameters in a file of 13 kB (before "
	    "allocating them)");
}

/* Truncations and byte flips: refused or read, never a crash. */
static void
test_fuzz(void)
{
	struct nn_model *m;
	unsigned char *img = xmalloc(valid_len);
	struct err e;
	size_t hl = (size_t)get_le64(valid), n, i, k;
	int good = 1, loaded = 0;

	for (n = 0; n < valid_len; n += n < 8 + hl + 16 ? 1 : 41) {
		err_clear(&e);
		m = nn_model_read_mem(valid, n, WHAT, &e);
		if (m != NULL || e.code != ERR_MODEL || e.msg[0] == '\0') {
			diag("a cut at %zu bytes: %s", n, m ? "accepted" :
			    e.msg);
			good = 0;
		}
		nn_model_free(m);
	}
	ok(good, "every truncation is refused with ERR_MODEL");
	good = 1;
	for (i = 0; i < 3000; i++) {
		memcpy(img, valid, valid_len);
		/* mostly the header; the length field and data now and then */
		if (i % 10 == 0)
			k = (size_t)(nn_rng_u64(&rng) % valid_len);
		else
			k = 8 + (size_t)(nn_rng_u64(&rng) % hl);
		img[k] ^= (unsigned char)(1 + nn_rng_u64(&rng) % 255);
		err_clear(&e);
		m = nn_model_read_mem(img, valid_len, WHAT, &e);
		if (m == NULL && (e.code != ERR_MODEL || e.msg[0] == '\0')) {
			diag("flip at %zu: code %d %s", k, (int)e.code, e.msg);
			good = 0;
		}
		loaded += m != NULL;
		nn_model_free(m);
	}
	ok(good, "3000 single-byte changes: each refused with ERR_MODEL or "
	    "read (%d read)", loaded);
	free(img);
}

/* Run every group in a fresh directory; removed when all passed. */
int
main(void)
{
	plan(120);
	nn_rng_seed(&rng, 7);
	snprintf(dir, sizeof(dir), "%s/t-nn-io.XXXXXX",
	    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if ((model = model_new()) == NULL)
		return 1;
	test_roundtrip();
	if (valid == NULL)
		return exit_status();
	test_file();
	test_layout();
	test_reject_header();
	test_reject_tensors();
	test_reject_huge();
	test_fuzz();
	nn_model_free(model);
	free(valid);
	if (exit_status() == 0) {
		char cmd[300 + sizeof(dir)];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	} else
		diag("files kept in %s", dir);
	return exit_status();
}
