/*
 * import.c: the import driver and the mapping language.
 *
 * A mapping is a comma-separated list of TARGET=SOURCE. TARGET is one of
 * customer, time, type, item, item_name, category, price, amount,
 * quantity, text, channel, order (kept as an event attribute), attr,
 * attr.NAME, cattr, cattr.NAME (event and customer attributes) or ignore.
 * SOURCE is a column name (or #N, the N-th column), alternatives
 * separated by '|' (the first present wins), 'text' in single quotes for
 * a constant, A*B for the product of two columns; a leading '?' marks it
 * optional. A bare name that is no column is taken as a constant for
 * type and channel. Columns not mapped are kept as event attributes.
 *
 * One import_files() call is one store transaction over all its files.
 */
#include "config.h"
#include "import.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "store.h"
#include "tparse.h"
#include "util.h"

enum target {
	M_CUSTOMER, M_TIME, M_TYPE, M_ITEM, M_ITEM_NAME, M_CATEGORY, M_PRICE,
	M_AMOUNT, M_QUANTITY, M_TEXT, M_CHANNEL, M_ORDER, M_NTARGETS,
	M_ATTR = M_NTARGETS, M_CATTR, M_IGNORE
};

static const char *const target_names[] = {
	"customer", "time", "type", "item", "item_name", "category", "price",
	"amount", "quantity", "text", "channel", "order", "attr", "cattr",
	"ignore"
};

struct source {
	char		*spec;		/* as written, without '?' */
	int		 optional;
	char		*constant;	/* 'text' */
	int		 col, col2;	/* resolved columns, -1 none */
};

struct attr_map {
	char		*name;		/* attribute name (NULL: column's) */
	struct source	 src;
	int		 customer;	/* cattr */
};

struct mapping {
	struct source	 t[M_NTARGETS];
	int		 has[M_NTARGETS];
	struct attr_map	*attrs;
	size_t		 nattrs;
	char		**ignore;
	size_t		 nignore;
	unsigned char	*used;		/* per column: mapped */
	size_t		 nused;
};

static void
mapping_release(struct mapping *m)
{
	size_t i;

	for (i = 0; i < M_NTARGETS; i++) {
		free(m->t[i].spec);
		free(m->t[i].constant);
	}
	for (i = 0; i < m->nattrs; i++) {
		free(m->attrs[i].name);
		free(m->attrs[i].src.spec);
		free(m->attrs[i].src.constant);
	}
	for (i = 0; i < m->nignore; i++)
		free(m->ignore[i]);
	free(m->attrs);
	free(m->ignore);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

static void
source_set(struct source *s, const char *v, size_t n)
{
	free(s->spec);
	free(s->constant);
	memset(s, 0, sizeof(*s));
	s->col = s->col2 = -1;
	if (n > 0 && v[0] == '?') {
		s->optional = 1;
		v++;
		n--;
	}
	if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'')
		s->constant = xstrndup(v + 1, n - 2);
	s->spec = xstrndup(v, n);
}

/* Parse a --map spec into m (later entries override earlier ones). */
static int
mapping_parse(struct mapping *m, const char *spec, struct err *e)
{
	const char *p = spec;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ','), *eq;
		size_t n = end ? (size_t)(end - p) : strlen(p), tn, i;
		const char *name = NULL;

		eq = memchr(p, '=', n);
		if (eq == NULL || eq == p)
			return err_set(e, ERR_USAGE, "--map: '%.*s' is not "
			    "TARGET=COLUMN", (int)n, p);
		tn = (size_t)(eq - p);
		if (tn > 5 && strncmp(p, "attr.", 5) == 0)
			name = p + 5, tn = 4;
		else if (tn > 6 && strncmp(p, "cattr.", 6) == 0)
			name = p + 6, tn = 5;
		for (i = 0; i <= M_IGNORE; i++)
			if (strlen(target_names[i]) == tn &&
			    strncmp(target_names[i], p, tn) == 0)
				break;
		if (i > M_IGNORE)
			return err_set(e, ERR_USAGE, "--map: unknown target "
			    "'%.*s' (known: customer time type item item_name "
			    "category price amount quantity text channel order "
			    "attr cattr ignore)", (int)tn, p);
		if (i < M_NTARGETS) {
			source_set(&m->t[i], eq + 1,
			    (size_t)(p + n - eq - 1));
			m->has[i] = 1;
		} else if (i == M_IGNORE) {
			m->ignore = xreallocarray(m->ignore, m->nignore + 1,
			    sizeof(*m->ignore));
			m->ignore[m->nignore++] = xstrndup(eq + 1,
			    (size_t)(p + n - eq - 1));
		} else {
			struct attr_map *a;

			m->attrs = xreallocarray(m->attrs, m->nattrs + 1,
			    sizeof(*m->attrs));
			a = &m->attrs[m->nattrs++];
			memset(a, 0, sizeof(*a));
			a->customer = i == M_CATTR;
			a->name = name ? xstrndup(name, (size_t)(eq - name)) :
			    NULL;
			source_set(&a->src, eq + 1, (size_t)(p + n - eq - 1));
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/*
 * Column of one alternative: exact name, then without case, or #N; -1 if
 * none. With add, a JSON Lines reader registers a name it has not seen
 * (a key that later records may have).
 */
static int
find_col(struct reader *r, const char *name, size_t n, int add)
{
	char tmp[256];
	size_t i;

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, name, n);
	tmp[n] = '\0';
	for (i = 0; i < reader_ncolumns(r); i++)
		if (strcmp(reader_colname(r, i), tmp) == 0)
			return (int)i;
	for (i = 0; i < reader_ncolumns(r); i++)
		if (strcasecmp(reader_colname(r, i), tmp) == 0)
			return (int)i;
	return add || tmp[0] == '#' ? reader_column(r, tmp) : -1;
}

/* Resolve a source's columns; 1 resolved, 0 not present. */
static int
source_resolve(struct reader *r, struct source *s)
{
	const char *p = s->spec, *star;

	if (s->constant != NULL)
		return 1;
	star = strchr(p, '*');
	if (star != NULL) {
		s->col = find_col(r, p, (size_t)(star - p), 1);
		s->col2 = find_col(r, star + 1, strlen(star + 1), 1);
		return s->col >= 0 && s->col2 >= 0;
	}
	while (*p != '\0') {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if ((s->col = find_col(r, p, n, 0)) >= 0)
			return 1;
		p += n + (bar ? 1 : 0);
	}
	/* none present: JSON Lines may have the first one later */
	s->col = find_col(r, s->spec, strcspn(s->spec, "|"), 1);
	return s->col >= 0;
}

static void
mark_used(struct mapping *m, int col)
{
	if (col < 0)
		return;
	if ((size_t)col >= m->nused) {
		m->used = xrealloc(m->used, (size_t)col + 1);
		memset(m->used + m->nused, 0, (size_t)col + 1 - m->nused);
		m->nused = (size_t)col + 1;
	}
	m->used[col] = 1;
}

static void
colnames(struct reader *r, char *out, size_t len)
{
	size_t i, k = 0;

	out[0] = '\0';
	for (i = 0; i < reader_ncolumns(r) && k + 4 < len; i++)
		k += (size_t)snprintf(out + k, len - k, "%s%s", i ? ", " : "",
		    reader_colname(r, i));
}

/* Resolve every target against the reader's columns. */
static int
mapping_resolve(struct mapping *m, struct reader *r, int sequence,
    struct err *e)
{
	char cols[300];
	size_t i;

	free(m->used);
	m->used = NULL;
	m->nused = 0;
	for (i = 0; i < M_NTARGETS; i++) {
		struct source *s = &m->t[i];

		if (!m->has[i])
			continue;
		s->col = s->col2 = -1;
		if (source_resolve(r, s)) {
			mark_used(m, s->col);
			mark_used(m, s->col2);
			continue;
		}
		if (s->optional)
			continue;
		if ((i == M_TYPE || i == M_CHANNEL) && !strchr(s->spec, '|') &&
		    !strchr(s->spec, '*')) {
			s->constant = xstrdup(s->spec);
			continue;
		}
		colnames(r, cols, sizeof(cols));
		return err_set(e, ERR_USAGE, "%s: no column '%s' for %s "
		    "(columns: %s)", reader_name(r), s->spec, target_names[i],
		    cols);
	}
	for (i = 0; i < m->nattrs; i++) {
		struct attr_map *a = &m->attrs[i];

		a->src.col = a->src.col2 = -1;
		if (source_resolve(r, &a->src)) {
			mark_used(m, a->src.col);
		} else if (!a->src.optional) {
			colnames(r, cols, sizeof(cols));
			return err_set(e, ERR_USAGE, "%s: no column '%s' for "
			    "an attribute (columns: %s)", reader_name(r),
			    a->src.spec, cols);
		}
	}
	for (i = 0; i < m->nignore; i++)
		mark_used(m, find_col(r, m->ignore[i], strlen(m->ignore[i]),
		    1));
	if (m->t[M_CUSTOMER].col < 0 && m->t[M_CUSTOMER].constant == NULL) {
		colnames(r, cols, sizeof(cols));
		return err_set(e, ERR_USAGE, "%s: which column is the "
		    "customer? give --map customer=COLUMN (columns: %s)",
		    reader_name(r), cols);
	}
	if (!sequence && m->t[M_TIME].col < 0 &&
	    m->t[M_TIME].constant == NULL) {
		colnames(r, cols, sizeof(cols));
		return err_set(e, ERR_USAGE, "%s: which column is the time? "
		    "give --map time=COLUMN (columns: %s)", reader_name(r),
		    cols);
	}
	if (m->t[M_TYPE].col < 0 && m->t[M_TYPE].constant == NULL) {
		colnames(r, cols, sizeof(cols));
		return err_set(e, ERR_USAGE, "%s: which column is the event "
		    "type? give --map type=COLUMN or type='purchase' "
		    "(columns: %s)", reader_name(r), cols);
	}
	return 0;
}

/* ---- per-row conversion ---- */

/* Valid UTF-8 (no overlongs, no surrogates)? */
int
import_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c;
		size_t k;
		uint64_t w;

		/* ASCII eight bytes at a time */
		while (end - p >= 8 && (memcpy(&w, p, 8),
		    (w & 0x8080808080808080ULL) == 0))
			p += 8;
		if (p == end)
			break;
		if ((c = *p) < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return 0;
		if ((size_t)(end - p) <= k)
			return 0;
		if (k >= 2 && ((c == 0xe0 && p[1] < 0xa0) ||
		    (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
		    (c == 0xf4 && p[1] > 0x8f)))
			return 0;
		for (size_t j = 1; j <= k; j++)
			if ((p[j] & 0xc0) != 0x80)
				return 0;
		p += k + 1;
	}
	return 1;
}

struct rowctx {
	struct buf	 scratch[8];	/* Latin-1 conversions, attrs */
	int		 nscratch;
};

/* s as UTF-8: itself when valid, else read as Latin-1 into scratch. */
static const char *
utf8(struct rowctx *rc, const char *s)
{
	const unsigned char *p;
	struct buf *b;

	if (s == NULL)
		return NULL;
	for (p = (const unsigned char *)s; *p != 0 && *p < 0x80; p++)
		;
	if (*p == 0)				/* ASCII */
		return s;
	/* the ASCII prefix is valid: check from the first other byte */
	if (import_utf8_valid((const char *)p, strlen((const char *)p)) ||
	    rc->nscratch >= 6)
		return s;
	b = &rc->scratch[rc->nscratch++];
	buf_reset(b);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x80)
			buf_addc(b, (char)c);
		else {
			buf_addc(b, (char)(0xc0 | (c >> 6)));
			buf_addc(b, (char)(0x80 | (c & 0x3f)));
		}
	}
	return b->data;
}

/*
 * The plain decimal [-]DIGITS[.DIGITS], at most 15 digits in all: the
 * digits as an integer (exact below 2^53) divided by a power of ten
 * (exact up to 10^22) is one correctly rounded operation, so the result
 * is strtod's. 0 done, 1 anything else.
 */
static int
parse_plain_decimal(const char *s, double *out)
{
	static const double p10[16] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6,
	    1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	const char *p = s + (*s == '-');
	int64_t m = 0;
	int nd = 0, nf = -1;

	for (; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			m = m * 10 + (*p - '0');
			if (++nd > 15)
				return 1;
			if (nf >= 0)
				nf++;
		} else if (*p == '.' && nf < 0)
			nf = 0;
		else
			return 1;
	}
	/* a digit on each side of a point: "5." and ".5" go to strtod */
	if (nd == 0 || nf == 0 || (nf > 0 && nd == nf))
		return 1;
	*out = (double)m / p10[nf > 0 ? nf : 0];
	if (*s == '-')
		*out = -*out;
	return 0;
}

/* A number from a field: blanks, a currency sign and thousands commas
 * are allowed; 0 ok, -1 not a number. */
int
import_parse_num(const char *s, double *out)
{
	char tmp[64], *end;
	size_t k = 0;

	if (parse_plain_decimal(s, out) == 0)
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '+')
		tmp[k++] = *s++;
	if (*s == '$')
		s++;
	else if (strncmp(s, "\xc2\xa3", 2) == 0)		/* £ */
		s += 2;
	else if (strncmp(s, "\xe2\x82\xac", 3) == 0)	/* € */
		s += 3;
	for (; *s && k + 1 < sizeof(tmp); s++)
		if (*s != ',' || s[1] == '\0')
			tmp[k++] = *s;
	tmp[k] = '\0';
	while (k > 0 && (tmp[k - 1] == ' ' || tmp[k - 1] == '\t'))
		tmp[--k] = '\0';
	if (k == 0)
		return -1;
	errno = 0;
	*out = strtod(tmp, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(*out))
		return -1;
	return 0;
}

static const char *
src_val(struct reader *r, const struct source *s)
{
	if (s->spec == NULL)		/* target not mapped */
		return NULL;
	if (s->constant != NULL)
		return s->constant;
	return s->col >= 0 ? reader_field(r, (size_t)s->col) : NULL;
}

static int
num_target(struct reader *r, const struct mapping *m, int t, double *out,
    struct err *e)
{
	const struct source *s = &m->t[t];
	const char *v = src_val(r, s);
	double b;

	*out = NAN;
	if (!m->has[t] || v == NULL)
		return 0;
	if (import_parse_num(v, out) < 0)
		return err_set(e, ERR_PARSE, "%s '%.40s' is not a number",
		    target_names[t], v);
	if (s->col2 >= 0) {
		const char *v2 = reader_field(r, (size_t)s->col2);

		if (v2 == NULL) {
			*out = NAN;
			return 0;
		}
		if (import_parse_num(v2, &b) < 0)
			return err_set(e, ERR_PARSE, "%s factor '%.40s' is "
			    "not a number", target_names[t], v2);
		*out *= b;
	}
	return 0;
}

static void
attr_add(struct buf *b, const char *name, const char *val)
{
	buf_addc(b, b->len == 0 ? '{' : ',');
	buf_add_json_str(b, name, strlen(name));
	buf_addc(b, ':');
	buf_add_json_str(b, val, strlen(val));
}

/* Column col's name, else spec: a #N past the header has no name. */
static const char *
col_name(struct reader *r, int col, const char *spec)
{
	const char *n = col >= 0 ? reader_colname(r, (size_t)col) : NULL;

	return n != NULL ? n : spec;
}

struct import_run {
	struct store		*s;
	struct ingest		*g;
	const struct import_opts *o;
	struct import_stats	*st;
	struct tparse		 tp;
	struct mapping		 m;
	struct rowctx		 rc;
	int			 flags;
	int64_t			 seq;	/* sequence time: rows so far */
	int			 resolved;	/* mapping resolved for this file */
	int64_t			 done0, total;
};

/*
 * One record -> one event in *evp, whose strings point into the reader
 * and ir's scratch buffers until the next record. Returns 1 an event,
 * 0 skipped (not an error), -1 rejected (e says why).
 */
static int
convert_row(struct import_run *ir, struct reader *r, struct ingest_event *evp,
    struct err *e)
{
	struct mapping *m = &ir->m;
	struct ingest_event ev;
	struct buf *attrs = &ir->rc.scratch[6], *cattrs = &ir->rc.scratch[7];
	const char *tv, *order;
	size_t i;

	ir->rc.nscratch = 0;
	memset(&ev, 0, sizeof(ev));
	ev.line = reader_line(r);
	ev.customer = src_val(r, &m->t[M_CUSTOMER]);
	if (ev.customer == NULL) {
		if (ir->flags & PRESET_SKIP_NO_CUSTOMER)
			return 0;
		return err_set(e, ERR_PARSE, "no customer id");
	}
	ev.customer = utf8(&ir->rc, ev.customer);
	if (ir->flags & PRESET_SEQUENCE)
		ev.ts = ++ir->seq;
	else {
		tv = src_val(r, &m->t[M_TIME]);
		if (tv == NULL)
			return err_set(e, ERR_PARSE, "no time");
		if (tparse_parse(&ir->tp, tv, strlen(tv), &ev.ts, e) < 0)
			return -1;
	}
	ev.type = utf8(&ir->rc, src_val(r, &m->t[M_TYPE]));
	if (ev.type == NULL)
		return err_set(e, ERR_PARSE, "no event type");
	ev.item = utf8(&ir->rc, src_val(r, &m->t[M_ITEM]));
	ev.item_name = utf8(&ir->rc, src_val(r, &m->t[M_ITEM_NAME]));
	ev.category = utf8(&ir->rc, src_val(r, &m->t[M_CATEGORY]));
	ev.text = utf8(&ir->rc, src_val(r, &m->t[M_TEXT]));
	ev.channel = utf8(&ir->rc, src_val(r, &m->t[M_CHANNEL]));
	if (num_target(r, m, M_PRICE, &ev.price, e) < 0 ||
	    num_target(r, m, M_AMOUNT, &ev.amount, e) < 0 ||
	    num_target(r, m, M_QUANTITY, &ev.quantity, e) < 0)
		return -1;
	if (isnan(ev.amount) && !isnan(ev.price) && !isnan(ev.quantity))
		ev.amount = ev.price * ev.quantity;
	order = src_val(r, &m->t[M_ORDER]);
	if ((ir->flags & PRESET_RETAIL) && order != NULL) {
		if (order[0] == 'C' || order[0] == 'c') {
			ev.type = "cancellation";
			if (!isnan(ev.amount))
				ev.amount = -fabs(ev.amount);
		} else if (!isnan(ev.quantity) && ev.quantity < 0)
			ev.type = "adjustment";
	}
	/* attributes: the order id, mapped attrs, then unmapped columns */
	buf_reset(attrs);
	buf_reset(cattrs);
	if (order != NULL && m->t[M_ORDER].col >= 0)
		attr_add(attrs, col_name(r, m->t[M_ORDER].col,
		    m->t[M_ORDER].spec), utf8(&ir->rc, order));
	for (i = 0; i < m->nattrs; i++) {
		const struct attr_map *a = &m->attrs[i];
		const char *v = src_val(r, &a->src), *name = a->name;

		if (v == NULL)
			continue;
		if (name == NULL)
			name = col_name(r, a->src.col, a->src.spec);
		attr_add(a->customer ? cattrs : attrs, name,
		    utf8(&ir->rc, v));
	}
	for (i = 0; i < reader_nfields(r); i++) {
		const char *v = reader_field(r, i), *name;

		if (v == NULL || (i < m->nused && m->used[i]))
			continue;
		name = reader_colname(r, i);
		if (name == NULL)
			continue;
		attr_add(attrs, name, utf8(&ir->rc, v));
	}
	if (attrs->len > 0) {
		buf_addc(attrs, '}');
		ev.attrs = attrs->data;
	}
	if (cattrs->len > 0) {
		buf_addc(cattrs, '}');
		ev.cust_attrs = cattrs->data;
	}
	*evp = ev;
	return 1;
}

/* The delimiter of a movielens-style file: "::", tab, else blanks. */
static const char *
sniff_delim(const char *path)
{
	char line[512];
	gzFile gz = gzopen(path, "rb");
	const char *d = "ws";
	int n;

	if (gz == NULL)
		return d;
	n = gzread(gz, line, sizeof(line) - 1);
	gzclose(gz);
	if (n <= 0)
		return d;
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (strstr(line, "::"))
		d = "::";
	else if (strchr(line, '\t'))
		d = "\t";
	else if (strchr(line, '|'))
		d = "|";
	return d;
}

static const char *
base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static int
is_jsonl(const char *path)
{
	const char *b = base_name(path);
	size_t n = strlen(b);

	if (n > 3 && strcmp(b + n - 3, ".gz") == 0)
		n -= 3;
	return (n > 6 && strncmp(b + n - 6, ".jsonl", 6) == 0) ||
	    (n > 7 && strncmp(b + n - 7, ".ndjson", 7) == 0) ||
	    (n > 5 && strncmp(b + n - 5, ".json", 5) == 0);
}

static const char *const ml_genres[] = {
	"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy",
	"Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror",
	"Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"
};

/*
 * An item catalog: MovieLens u.item (id|title|date|video|url|19 genre
 * flags) or movies.dat (id::title::genres), else a CSV with a header
 * naming item, item_name/name/title, category, price.
 */
static int
import_items(struct import_run *ir, const char *path, struct err *e)
{
	const char *b = base_name(path);
	int uitem = strcmp(b, "u.item") == 0, mdat = strcmp(b, "movies.dat") == 0;
	struct reader_opts ro = { FMT_CSV, uitem ? "|" : mdat ? "::" : ",",
	    !(uitem || mdat) };
	struct reader *r = reader_open(path, &ro, e);
	int ci = 0, cn = 1, cc = 2, cp = -1, rc;
	struct buf cat;

	if (r == NULL)
		return -1;
	buf_init(&cat);
	while ((rc = reader_next(r, e)) != 0) {
		const char *id, *name, *category = NULL;
		double price = NAN;

		if (rc == -2)
			goto fail;
		if (rc < 0) {
			ir->st->rejected++;
			continue;
		}
		if (!uitem && !mdat && ci == 0 && cn == 1 && cc == 2) {
			ci = find_col(r, "item", 4, 0);
			if (ci < 0)
				ci = find_col(r, "item_id", 7, 0);
			cn = find_col(r, "item_name", 9, 0);
			if (cn < 0)
				cn = find_col(r, "name", 4, 0);
			if (cn < 0)
				cn = find_col(r, "title", 5, 0);
			cc = find_col(r, "category", 8, 0);
			cp = find_col(r, "price", 5, 0);
			if (ci < 0) {
				err_set(e, ERR_USAGE, "%s: an item catalog "
				    "needs a column named item or item_id",
				    path);
				goto fail;
			}
		}
		ir->st->rows++;
		id = reader_field(r, (size_t)ci);
		name = cn >= 0 ? reader_field(r, (size_t)cn) : NULL;
		if (uitem) {
			size_t g;

			buf_reset(&cat);
			for (g = 0; g < 19; g++) {
				const char *f = reader_field(r, 5 + g);

				if (f != NULL && f[0] == '1') {
					if (cat.len)
						buf_addc(&cat, '|');
					buf_adds(&cat, ml_genres[g]);
				}
			}
			category = cat.len ? cat.data : NULL;
		} else if (cc >= 0)
			category = reader_field(r, (size_t)cc);
		if (cp >= 0 && reader_field(r, (size_t)cp) != NULL &&
		    import_parse_num(reader_field(r, (size_t)cp), &price) < 0)
			price = NAN;
		if (id == NULL) {
			ir->st->rejected++;
			continue;
		}
		ir->rc.nscratch = 0;
		if (store_ingest_item(ir->g, id, utf8(&ir->rc, name),
		    utf8(&ir->rc, category), price, e) < 0)
			goto fail;
	}
	buf_release(&cat);
	reader_close(r);
	return 0;
fail:
	buf_release(&cat);
	reader_close(r);
	return -1;
}

/*
 * Reading, converting and resolving rows (ids, aggregates:
 * store_ingest_resolve) runs in a thread of its own, a batch ahead of the
 * thread writing them (store_ingest_write): two batches alternate between
 * the threads. Strings of a batch live in its arena, addressed by offset
 * until the batch is read in full, then by pointer.
 */
#define BATCH_ROWS	4096
#define BATCH_BYTES	(4u << 20)

struct prow {
	struct ingest_event ev;		/* strings: arena offset + 1, 0 NULL */
	int		 status;	/* 1 event, 0 skipped, -1 rejected by
					 * the reader, -2 refused by the store */
	size_t		 msg, raw, rawlen;	/* rejected: offsets (-2: msg
						 * in msgs, no raw) */
};

struct batch {
	struct prow	*rows;
	size_t		 n;
	struct ingest_row *ok;		/* (BATCH_ROWS) the resolved rows */
	size_t		 nok;
	struct buf	 arena;
	struct buf	 msgs;		/* messages of refused rows */
	int		 end;		/* 1 last batch, -1 error in e */
	struct err	 e;
	int64_t		 pos;		/* bytes of the file read */
};

struct pipeline {
	struct import_run *ir;
	struct reader	*r;
	const char	*path;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct batch	 b[2];
	int		 full[2];
	int		 abort;		/* the writer gave up: stop reading */
};

/*
 * Ids and aggregates of a batch's events, in file order; an event the
 * store refuses (such as bad attributes) becomes a rejected row. -1 with
 * b->e on a database error.
 */
static int
resolve_batch(struct pipeline *pl, struct batch *b)
{
	struct prow *pr;
	struct err re;
	size_t i;

	for (i = 0; i < b->n; i++) {
		/* the lookups are cache misses: start them a few rows ahead */
		if (i + 16 < b->n && b->rows[i + 16].status == 1)
			store_ingest_prefetch(pl->ir->g, &b->rows[i + 16].ev, 0);
		if (i + 8 < b->n && b->rows[i + 8].status == 1)
			store_ingest_prefetch(pl->ir->g, &b->rows[i + 8].ev, 1);
		pr = &b->rows[i];
		if (pr->status != 1)
			continue;
		err_clear(&re);
		if (store_ingest_resolve(pl->ir->g, &pr->ev, &b->ok[b->nok],
		    &re) >= 0) {
			b->nok++;
			continue;
		}
		err_prefix(&re, "%s:%lld", pl->path, (long long)pr->ev.line);
		if (re.code == ERR_DB) {
			b->e = re;
			b->n = i;	/* the rows before it are still written */
			return -1;
		}
		pr->status = -2;
		pr->msg = b->msgs.len;
		buf_add(&b->msgs, re.msg, strlen(re.msg) + 1);
	}
	return 0;
}

/* Read rows into b until it is full or the file ends; 0, or -1 on end. */
static int
fill_batch(struct pipeline *pl, struct batch *b)
{
	struct import_run *ir = pl->ir;
	struct reader *r = pl->r;
	struct ingest_event ev;
	struct err re;
	struct prow *pr;
	size_t i, rawlen;
	const char *raw;
	int rc;

	b->n = 0;
	b->nok = 0;
	b->end = 0;
	buf_reset(&b->arena);
	buf_reset(&b->msgs);
	while (b->n < BATCH_ROWS && b->arena.len < BATCH_BYTES) {
		if (ir->o->stop != NULL && *ir->o->stop)
			break;
		err_clear(&re);
		rc = reader_next(r, &re);
		if (rc == 0) {
			b->end = 1;
			break;
		}
		if (rc == -2) {
			b->e = re;
			b->end = -1;
			break;
		}
		if (rc == 1 && !ir->resolved) {
			if (mapping_resolve(&ir->m, r, ir->flags &
			    PRESET_SEQUENCE, &b->e) < 0) {
				b->end = -1;
				break;
			}
			ir->resolved = 1;
		}
		pr = &b->rows[b->n++];
		memset(pr, 0, sizeof(*pr));
		/* the reader's messages name file and line already */
		if (rc == 1 && (rc = convert_row(ir, r, &ev, &re)) < 0)
			err_prefix(&re, "%s:%lld", pl->path,
			    (long long)reader_line(r));
		pr->status = rc;
		pr->ev.line = reader_line(r);
		if (rc < 0) {
			raw = reader_raw(r, &rawlen);
			pr->msg = b->arena.len;
			buf_add(&b->arena, re.msg, strlen(re.msg) + 1);
			pr->raw = b->arena.len;
			pr->rawlen = rawlen;
			buf_add(&b->arena, raw, rawlen);
			continue;
		}
		if (rc == 0)
			continue;
		pr->ev = ev;
		pr->ev.customer = buf_ref_str(&b->arena, ev.customer);
		pr->ev.type = buf_ref_str(&b->arena, ev.type);
		pr->ev.item = buf_ref_str(&b->arena, ev.item);
		pr->ev.item_name = buf_ref_str(&b->arena, ev.item_name);
		pr->ev.category = buf_ref_str(&b->arena, ev.category);
		pr->ev.channel = buf_ref_str(&b->arena, ev.channel);
		pr->ev.text = buf_ref_str(&b->arena, ev.text);
		pr->ev.attrs = buf_ref_str(&b->arena, ev.attrs);
		pr->ev.cust_attrs = buf_ref_str(&b->arena, ev.cust_attrs);
	}
	b->pos = reader_pos(r);
	for (i = 0; i < b->n; i++) {	/* offsets -> pointers */
		struct ingest_event *e = &b->rows[i].ev;

		if (b->rows[i].status != 1)
			continue;
		buf_ref_fix(&b->arena, &e->customer);
		buf_ref_fix(&b->arena, &e->type);
		buf_ref_fix(&b->arena, &e->item);
		buf_ref_fix(&b->arena, &e->item_name);
		buf_ref_fix(&b->arena, &e->category);
		buf_ref_fix(&b->arena, &e->channel);
		buf_ref_fix(&b->arena, &e->text);
		buf_ref_fix(&b->arena, &e->attrs);
		buf_ref_fix(&b->arena, &e->cust_attrs);
	}
	if (resolve_batch(pl, b) < 0)
		b->end = -1;
	if (b->end == 0 && ir->o->stop != NULL && *ir->o->stop)
		b->end = 1;
	return b->end != 0 ? -1 : 0;
}

/* The reading thread: fill the free batch, hand it over, repeat. */
static void *
reader_thread(void *arg)
{
	struct pipeline *pl = arg;
	int k = 0, last;

	do {
		pthread_mutex_lock(&pl->mu);
		while (pl->full[k] && !pl->abort)
			pthread_cond_wait(&pl->cv, &pl->mu);
		if (pl->abort) {
			pthread_mutex_unlock(&pl->mu);
			break;
		}
		pthread_mutex_unlock(&pl->mu);
		last = fill_batch(pl, &pl->b[k]) < 0;
		pthread_mutex_lock(&pl->mu);
		pl->full[k] = 1;
		pthread_cond_broadcast(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
		k ^= 1;
	} while (!last);
	return NULL;
}

/* Write one batch's rows; 0, 1 after the last batch, -1 on error. */
static int
write_batch(struct import_run *ir, const char *path, struct batch *b,
    struct err *e)
{
	const struct import_opts *o = ir->o;
	const char *msg, *raw;
	size_t i, rawlen;

	for (i = 0; i < b->n; i++) {
		struct prow *pr = &b->rows[i];

		ir->st->rows++;
		if (pr->status == 1) {
			ir->st->events++;
			continue;
		} else if (pr->status == 0) {
			ir->st->skipped++;
			continue;
		} else if (pr->status == -2) {
			msg = b->msgs.data + pr->msg;
			raw = "";
			rawlen = 0;
		} else {
			msg = b->arena.data + pr->msg;
			raw = b->arena.data + pr->raw;
			rawlen = pr->rawlen;
		}
		ir->st->rejected++;
		if (o->strict) {
			err_set(e, ERR_PARSE, "--strict: %s", msg);
			return -1;
		}
		if (o->reject != NULL)
			o->reject(o->ctx, path, pr->ev.line, msg, raw, rawlen);
	}
	if (store_ingest_write(ir->g, b->ok, b->nok, e) < 0)
		return -1;
	if (o->progress != NULL)
		o->progress(o->ctx, ir->done0 + b->pos, ir->total,
		    ir->st->rows);
	if (b->end < 0) {
		*e = b->e;
		return -1;
	}
	if (o->stop != NULL && *o->stop)
		return err_set(e, ERR_INTR, "%s: interrupted; the store is "
		    "unchanged", path);
	return b->end ? 1 : 0;
}

/* One events file through the current mapping. */
static int
import_one(struct import_run *ir, const char *path, struct err *e)
{
	const struct import_opts *o = ir->o;
	const struct preset *p = o->preset;
	struct reader_opts ro;
	struct pipeline pl;
	pthread_t th;
	int k = 0, rc = 0, i;

	memset(&ro, 0, sizeof(ro));
	ro.fmt = is_jsonl(path) ? FMT_JSONL : FMT_CSV;
	ro.delim = o->delim ? o->delim : p ? p->delim : NULL;
	if (ro.delim != NULL && strcmp(ro.delim, "auto") == 0)
		ro.delim = sniff_delim(path);
	ro.header = o->header >= 0 ? o->header : p ? p->header : 1;
	mapping_release(&ir->m);
	if (mapping_parse(&ir->m, p ? p->map : import_presets[0].map, e) < 0 ||
	    mapping_parse(&ir->m, o->map, e) < 0)
		return -1;
	memset(&pl, 0, sizeof(pl));
	if ((pl.r = reader_open(path, &ro, e)) == NULL)
		return -1;
	pl.ir = ir;
	pl.path = path;
	ir->seq = 0;
	ir->resolved = 0;
	for (i = 0; i < 2; i++) {
		pl.b[i].rows = xcalloc(BATCH_ROWS, sizeof(*pl.b[i].rows));
		pl.b[i].ok = xcalloc(BATCH_ROWS, sizeof(*pl.b[i].ok));
		buf_init(&pl.b[i].arena);
		buf_init(&pl.b[i].msgs);
	}
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.cv, NULL);
	if (pthread_create(&th, NULL, reader_thread, &pl) != 0) {
		rc = err_set(e, ERR_NOMEM, "cannot start a reading thread");
		goto out;
	}
	while (rc == 0) {
		pthread_mutex_lock(&pl.mu);
		while (!pl.full[k])
			pthread_cond_wait(&pl.cv, &pl.mu);
		pthread_mutex_unlock(&pl.mu);
		rc = write_batch(ir, path, &pl.b[k], e);
		pthread_mutex_lock(&pl.mu);
		pl.full[k] = 0;
		if (rc != 0)
			pl.abort = 1;
		pthread_cond_broadcast(&pl.cv);
		pthread_mutex_unlock(&pl.mu);
		k ^= 1;
	}
	pthread_join(th, NULL);
	rc = rc < 0 ? -1 : 0;
out:
	pthread_mutex_destroy(&pl.mu);
	pthread_cond_destroy(&pl.cv);
	for (i = 0; i < 2; i++) {
		free(pl.b[i].rows);
		free(pl.b[i].ok);
		buf_release(&pl.b[i].arena);
		buf_release(&pl.b[i].msgs);
	}
	reader_close(pl.r);
	return rc;
}

/* Hash and size of a file's bytes (for "already imported"). */
static int
file_hash(const char *path, uint64_t *h, int64_t *size, struct err *e)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	uint64_t acc = 0x1234567;
	ssize_t n;

	*size = 0;
	if (fd < 0)
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		acc = hash_bytes(buf, (size_t)n, acc);
		*size += n;
	}
	close(fd);
	if (n < 0)
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	*h = acc;
	return 0;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
is_catalog(const struct import_opts *o, const char *path)
{
	const char *b = base_name(path);

	if (o->items != NULL && strcmp(o->items, path) == 0)
		return 1;
	return o->preset != NULL && (o->preset->flags & PRESET_MOVIELENS) &&
	    (strcmp(b, "u.item") == 0 || strcmp(b, "movies.dat") == 0);
}

/* Import files in one transaction. */
int
import_files(struct store *s, char *const *files, int n,
    const struct import_opts *o, struct import_stats *st, struct err *e)
{
	struct import_run ir;
	struct ingest_info info;
	uint64_t *hashes;
	int64_t *sizes;
	char **all, *earlier;
	int i, j, nall = 0, rc = -1;
	double t0 = now_seconds(), t1;

	memset(st, 0, sizeof(*st));
	memset(&ir, 0, sizeof(ir));
	for (i = 0; i < 8; i++)
		buf_init(&ir.rc.scratch[i]);
	ir.s = s;
	ir.o = o;
	ir.st = st;
	ir.flags = o->preset ? o->preset->flags : 0;
	tparse_init(&ir.tp, o->time_format);
	/* catalogs first: items get their names before events use them */
	all = xcalloc((size_t)n + 1, sizeof(*all));
	if (o->items != NULL)
		all[nall++] = (char *)o->items;
	for (i = 0; i < n; i++)
		if (is_catalog(o, files[i]) && (o->items == NULL ||
		    strcmp(o->items, files[i]) != 0))
			all[nall++] = files[i];
	for (i = 0; i < n; i++)
		if (!is_catalog(o, files[i]))
			all[nall++] = files[i];
	hashes = xcalloc((size_t)nall, sizeof(*hashes));
	sizes = xcalloc((size_t)nall, sizeof(*sizes));
	for (i = 0; i < nall; i++) {
		if (file_hash(all[i], &hashes[i], &sizes[i], e) < 0)
			goto out;
		ir.total += sizes[i];
	}
	for (i = 0; i < nall; i++) {
		int64_t found = 0;

		earlier = NULL;
		for (j = 0; j < i; j++)
			if (all[j] != NULL && hashes[j] == hashes[i])
				found = 1, earlier = xstrdup(all[j]);
		if (!found && (found = store_import_find(s, hashes[i],
		    &earlier, e)) < 0)
			goto out;
		if (found && !o->force) {
			if (o->skipfile != NULL)
				o->skipfile(o->ctx, all[i], earlier);
			st->files_skipped++;
			ir.total -= sizes[i];
			all[i] = NULL;
		}
		free(earlier);
	}
	for (i = 0; i < nall; i++) {
		double ts = now_seconds();

		if (all[i] == NULL)
			continue;
		memset(&info, 0, sizeof(info));
		info.source = all[i];
		info.hash = hashes[i];
		info.bytes = sizes[i];
		info.preset = o->preset ? o->preset->name : NULL;
		info.map = o->map;
		info.sequence_time = (ir.flags & PRESET_SEQUENCE) != 0;
		if (ir.g == NULL)
			ir.g = store_ingest_begin(s, &info, e);
		else if (store_ingest_source(ir.g, &info, e) < 0)
			goto out;
		if (ir.g == NULL)
			goto out;
		store_ingest_count(ir.g, 0, 0, 0);
		{
			int64_t r0 = st->rows, s0 = st->skipped,
			    j0 = st->rejected;

			if ((is_catalog(o, all[i]) ?
			    import_items(&ir, all[i], e) :
			    import_one(&ir, all[i], e)) < 0)
				goto out;
			store_ingest_count(ir.g, st->rows - r0,
			    st->skipped - s0, st->rejected - j0);
		}
		store_ingest_seconds(ir.g, now_seconds() - ts);
		st->files++;
		ir.done0 += sizes[i];
	}
	if (ir.g != NULL) {
		if (o->stop != NULL && *o->stop) {
			err_set(e, ERR_INTR, "interrupted; the store is "
			    "unchanged");
			goto out;
		}
		t1 = now_seconds();
		(void)t1;
		rc = store_ingest_commit(ir.g, -1, e);
		ir.g = NULL;
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	store_ingest_abort(ir.g);
	if (rc < 0)
		st->events = 0;
	mapping_release(&ir.m);
	for (i = 0; i < 8; i++)
		buf_release(&ir.rc.scratch[i]);
	free(all);
	free(hashes);
	free(sizes);
	st->seconds = now_seconds() - t0;
	return rc;
}
