/*
 * segment-filter.c: the filter language of `segment DB filter NAME EXPR`
 * compiled to an SQL condition over customers c. The grammar:
 *
 *	expr   := and ("or" and)*
 *	and    := unary ("and" unary)*
 *	unary  := "not" unary | "(" expr ")" | cmp
 *	cmp    := term OP term		OP: < <= > >= = == != <>
 *	term   := FIELD | attr.NAME | count(TYPE [, AGE]) | NUMBER | AGE
 *		| 'string' | "string"
 *
 * AGE is a number with a unit (s, h, d, w, y: 90d). A time field
 * (last_seen, first_seen) compared with an age compares how long ago it
 * was ("last_seen < 90d": seen in the last 90 days); with a string it
 * compares with that date. Ages count back from the reference time (the
 * store's last event). Every literal becomes a bound parameter; field
 * names only select fixed SQL fragments from the table below, so nothing
 * the user types reaches the SQL text. Errors name the column.
 */
#include "config.h"
#include "segment.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tparse.h"
#include "util.h"

/* Kinds of value an expression term has. */
enum vtype { V_NUM, V_TIME, V_AGE, V_TEXT, V_BOOL };

/* The fields: a fixed SQL fragment each ("?R" stands for the reference). */
static const struct field {
	const char	*name;
	enum vtype	 type;
	const char	*sql;
	const char	*help;
} fields[] = {
	{ "spend", V_NUM, "c.spend", "sum of amounts" },
	{ "events", V_NUM, "c.n_events", "number of events" },
	{ "purchases", V_NUM, "c.n_purchases", "purchase events" },
	{ "items", V_NUM, "c.n_items", "distinct items" },
	{ "recency", V_NUM, "((?R - c.last_ts) / 86400.0)",
	    "days since the last event" },
	{ "tenure", V_NUM, "((?R - c.first_ts) / 86400.0)",
	    "days since the first event" },
	{ "last_seen", V_TIME, "c.last_ts", "time of the last event" },
	{ "first_seen", V_TIME, "c.first_ts", "time of the first event" },
	{ "churn", V_NUM, "(SELECT s.churn FROM scores s WHERE s.customer_id "
	    "= c.id ORDER BY s.model_id DESC LIMIT 1)",
	    "churn risk from the newest model's scores" },
	{ "r", V_NUM, "(SELECT x.r FROM customer_rfm x WHERE x.customer_id = "
	    "c.id)", "RFM recency score 1-5" },
	{ "f", V_NUM, "(SELECT x.f FROM customer_rfm x WHERE x.customer_id = "
	    "c.id)", "RFM frequency score 1-5" },
	{ "m", V_NUM, "(SELECT x.m FROM customer_rfm x WHERE x.customer_id = "
	    "c.id)", "RFM monetary score 1-5" },
	{ "rfm", V_TEXT, "(SELECT x.segment FROM customer_rfm x WHERE "
	    "x.customer_id = c.id)", "RFM segment name" },
	{ "id", V_TEXT, "c.ext_id", "the customer's id" },
};
#define N_FIELDS	(sizeof(fields) / sizeof(fields[0]))

struct parser {
	const char		*s;		/* the expression */
	size_t			 pos;
	int64_t			 ref;
	struct buf		 sql;
	struct filter_param	*p;
	size_t			 n, cap;
	struct err		*e;
	int			 col;		/* of the error, 1-based */
	int			 depth;
};

/* An error at byte offset at of the text. */
static int
perr(struct parser *ps, size_t at, const char *fmt, const char *arg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, arg);
	ps->col = (int)at + 1;
	return err_set(ps->e, ERR_PARSE, "column %d: %s", ps->col, msg);
}

static void
skip_ws(struct parser *ps)
{
	while (isspace((unsigned char)ps->s[ps->pos]))
		ps->pos++;
}

/* Is the next word w (a keyword, not a prefix of a longer name)? */
static int
peek_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	skip_ws(ps);
	return strncasecmp(ps->s + ps->pos, w, n) == 0 &&
	    !isalnum((unsigned char)ps->s[ps->pos + n]) &&
	    ps->s[ps->pos + n] != '_' && ps->s[ps->pos + n] != '.';
}

/* Bind a parameter: "?" in the SQL. */
static void
bind(struct parser *ps, int kind, int64_t i, double d, const char *s,
    size_t len)
{
	struct filter_param *x;

	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 8;
		ps->p = xreallocarray(ps->p, ps->cap, sizeof(*ps->p));
	}
	x = &ps->p[ps->n++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->i = i;
	x->d = d;
	if (s != NULL)
		x->s = xstrndup(s, len);
	buf_adds(&ps->sql, "?");
}

/* Append a fixed fragment, binding the reference time for each ?R. */
static void
fragment(struct parser *ps, const char *sql)
{
	const char *q;

	while ((q = strstr(sql, "?R")) != NULL) {
		buf_add(&ps->sql, sql, (size_t)(q - sql));
		bind(ps, FILTER_INT, ps->ref, 0, NULL, 0);
		sql = q + 2;
	}
	buf_adds(&ps->sql, sql);
}

/* An identifier [A-Za-z_][A-Za-z0-9_]*; its length, 0 if none. */
static size_t
ident(const char *s)
{
	size_t n = 0;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

/* A quoted string at pos; its contents (quotes doubled inside) in out. */
static int
string_lit(struct parser *ps, struct buf *out)
{
	char q = ps->s[ps->pos];
	size_t start = ps->pos++;

	for (;;) {
		char c = ps->s[ps->pos];

		if (c == '\0')
			return perr(ps, start, "%s", "string not closed");
		ps->pos++;
		if (c == q) {
			if (ps->s[ps->pos] != q)
				return 0;
			ps->pos++;
		}
		buf_addc(out, c);
	}
}

/* Seconds per age unit, 0 if c is not one. */
static int64_t
age_unit(char c)
{
	switch (c) {
	case 's': return 1;
	case 'h': return 3600;
	case 'd': return 86400;
	case 'w': return 7 * 86400;
	case 'y': return 365 * 86400;
	}
	return 0;
}

/*
 * A term. Literals are kept aside (pending) rather than emitted, because
 * a comparison of a time field with an age or a date changes the SQL.
 */
struct term {
	enum vtype	 type;
	size_t		 at;		/* column of the term */
	const char	*sql;		/* a field: its fragment */
	char		 path[80];	/* attr.NAME: the JSON path */
	int		 count;		/* count(TYPE[, AGE]) */
	char		 typename[128];
	int64_t		 count_age;	/* 0: all time */
	int		 literal;
	double		 num;
	int64_t		 age;		/* seconds */
	struct buf	 text;
};

static int
parse_term(struct parser *ps, struct term *t)
{
	const char *p;
	size_t n, i;
	char *end;
	int rc;

	skip_ws(ps);
	memset(t, 0, sizeof(*t));
	buf_init(&t->text);
	t->at = ps->pos;
	p = ps->s + ps->pos;
	if (*p == '\'' || *p == '"') {
		t->literal = 1;
		t->type = V_TEXT;
		return string_lit(ps, &t->text);
	}
	if (isdigit((unsigned char)*p) || ((*p == '-' || *p == '.') &&
	    isdigit((unsigned char)p[1]))) {
		errno = 0;
		t->num = strtod(p, &end);
		if (errno != 0 || !isfinite(t->num))
			return perr(ps, t->at, "%s", "number out of range");
		ps->pos += (size_t)(end - p);
		t->literal = 1;
		t->type = V_NUM;
		if (age_unit(ps->s[ps->pos]) && !isalnum((unsigned char)
		    ps->s[ps->pos + 1])) {
			double sec = t->num * (double)age_unit(ps->s[ps->pos]);

			if (t->num < 0 || sec > 1e15)
				return perr(ps, t->at, "%s", "an age must be "
				    "0 or more (and less than 30 million "
				    "years)");
			t->age = (int64_t)llround(sec);
			t->type = V_AGE;
			ps->pos++;
		} else if (isalpha((unsigned char)ps->s[ps->pos]))
			return perr(ps, ps->pos, "%s", "unknown unit after the "
			    "number (ages: s, h, d, w, y, as in 90d)");
		return 0;
	}
	if ((n = ident(p)) == 0)
		return perr(ps, t->at, "%s", *p == '\0' ? "expected a field, "
		    "a number or a string at the end" : "expected a field, a "
		    "number or a string");
	if (n == 5 && strncasecmp(p, "count", 5) == 0) {
		ps->pos += 5;
		skip_ws(ps);
		if (ps->s[ps->pos] != '(')
			return perr(ps, ps->pos, "%s", "expected ( after "
			    "count");
		ps->pos++;
		skip_ws(ps);
		if (ps->s[ps->pos] == '\'' || ps->s[ps->pos] == '"') {
			struct buf b;

			buf_init(&b);
			if (string_lit(ps, &b) < 0) {
				buf_release(&b);
				return -1;
			}
			snprintf(t->typename, sizeof(t->typename), "%s",
			    b.data);
			buf_release(&b);
		} else if ((n = ident(ps->s + ps->pos)) > 0 &&
		    n < sizeof(t->typename)) {
			memcpy(t->typename, ps->s + ps->pos, n);
			t->typename[n] = '\0';
			ps->pos += n;
		} else
			return perr(ps, ps->pos, "%s", "expected an event type "
			    "in count(TYPE[, AGE])");
		skip_ws(ps);
		if (ps->s[ps->pos] == ',') {
			struct term a;

			ps->pos++;
			/* count(T, count(T, ...: a term in a term */
			if (++ps->depth > 64)
				return perr(ps, ps->pos, "%s", "nested too "
				    "deeply");
			rc = parse_term(ps, &a);
			ps->depth--;
			buf_release(&a.text);
			if (rc < 0)
				return -1;
			if (a.type != V_AGE)
				return perr(ps, a.at, "%s", "expected an age "
				    "such as 30d as count's second argument");
			t->count_age = a.age;
			skip_ws(ps);
		}
		if (ps->s[ps->pos] != ')')
			return perr(ps, ps->pos, "%s", "expected ) to close "
			    "count(");
		ps->pos++;
		t->count = 1;
		t->type = V_NUM;
		return 0;
	}
	if (n == 4 && strncmp(p, "attr", 4) == 0 && p[4] == '.') {
		size_t m = ident(p + 5);

		if (m == 0 || m + 3 > sizeof(t->path))
			return perr(ps, t->at + 5, "%s", "expected an attribute "
			    "name after attr.");
		snprintf(t->path, sizeof(t->path), "$.%.*s", (int)m, p + 5);
		ps->pos += 5 + m;
		t->type = V_TEXT;
		return 0;
	}
	for (i = 0; i < N_FIELDS; i++)
		if (strlen(fields[i].name) == n &&
		    strncasecmp(fields[i].name, p, n) == 0) {
			t->sql = fields[i].sql;
			t->type = fields[i].type;
			ps->pos += n;
			return 0;
		}
	{
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(n < 40 ? n : 40), p);
		return perr(ps, t->at, "unknown field '%s' (fields: spend, "
		    "events, purchases, items, recency, tenure, last_seen, "
		    "first_seen, churn, r, f, m, rfm, id, attr.NAME, "
		    "count(TYPE, AGE))", name);
	}
}

/* Emit a term's value as SQL. */
static void
emit_term(struct parser *ps, const struct term *t)
{
	if (t->count) {
		buf_adds(&ps->sql, "(SELECT count(*) FROM events e WHERE "
		    "e.customer_id = c.id AND e.type_id = (SELECT id FROM "
		    "event_types WHERE name = ");
		bind(ps, FILTER_TEXT, 0, 0, t->typename, strlen(t->typename));
		buf_adds(&ps->sql, ")");
		if (t->count_age > 0) {
			buf_adds(&ps->sql, " AND e.ts > ");
			bind(ps, FILTER_INT, ps->ref - t->count_age, 0, NULL, 0);
		}
		buf_adds(&ps->sql, ")");
	} else if (t->path[0] != '\0') {
		buf_adds(&ps->sql, "json_extract(c.attrs, ");
		bind(ps, FILTER_TEXT, 0, 0, t->path, strlen(t->path));
		buf_adds(&ps->sql, ")");
	} else if (t->sql != NULL)
		fragment(ps, t->sql);
	else if (t->type == V_TEXT)	/* '' is text, not SQL NULL */
		bind(ps, FILTER_TEXT, 0, 0, t->text.data ? t->text.data : "",
		    t->text.len);
	else if (t->type == V_AGE)
		bind(ps, FILTER_INT, t->age, 0, NULL, 0);
	else if (t->num == floor(t->num) && fabs(t->num) < 9e15)
		bind(ps, FILTER_INT, (int64_t)t->num, 0, NULL, 0);
	else
		bind(ps, FILTER_REAL, 0, t->num, NULL, 0);
}

/* The comparison operator at pos, or NULL. */
static const char *
parse_op(struct parser *ps)
{
	static const char *const ops[][2] = {
		{ "<=", "<=" }, { ">=", ">=" }, { "!=", "!=" }, { "<>", "!=" },
		{ "==", "=" }, { "<", "<" }, { ">", ">" }, { "=", "=" }
	};
	size_t i;

	skip_ws(ps);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(ps->s + ps->pos, ops[i][0], strlen(ops[i][0])) ==
		    0) {
			ps->pos += strlen(ops[i][0]);
			return ops[i][1];
		}
	return NULL;
}

/* The mirror of an operator: a < b is b > a. */
static const char *
op_flip(const char *op)
{
	if (strcmp(op, "<") == 0)
		return ">";
	if (strcmp(op, ">") == 0)
		return "<";
	if (strcmp(op, "<=") == 0)
		return ">=";
	if (strcmp(op, ">=") == 0)
		return "<=";
	return op;
}

static int	parse_or(struct parser *);

/* A comparison; its operands checked for type. */
static int
parse_cmp(struct parser *ps)
{
	struct term a, b;
	const char *op;
	size_t opat;
	int64_t when;
	int rc = -1;

	if (parse_term(ps, &a) < 0) {
		buf_release(&a.text);
		return -1;
	}
	skip_ws(ps);
	opat = ps->pos;
	if ((op = parse_op(ps)) == NULL) {
		buf_release(&a.text);
		return perr(ps, opat, "%s", ps->s[opat] == '\0' ? "expected a "
		    "comparison (< <= > >= = !=) at the end" : "expected a "
		    "comparison (< <= > >= = !=)");
	}
	if (parse_term(ps, &b) < 0)
		goto out;
	if (a.literal && b.literal) {
		perr(ps, a.at, "%s", "compare a field with a value, not two "
		    "values");
		goto out;
	}
	/* put the field (or count) first */
	if (a.literal) {
		struct term t = a;

		a = b;
		b = t;
		op = op_flip(op);
	}
	if (a.type == V_TIME && b.type == V_AGE) {
		/* how long ago: (ref - field) op age */
		buf_adds(&ps->sql, "(");
		bind(ps, FILTER_INT, ps->ref, 0, NULL, 0);
		buf_adds(&ps->sql, " - ");
		fragment(ps, a.sql);
		buf_printf(&ps->sql, ") %s ", op);
		emit_term(ps, &b);
		rc = 0;
	} else if (a.type == V_TIME && b.type == V_TEXT && b.literal) {
		struct tparse tp;
		struct err e2;

		tparse_init(&tp, NULL);
		if (tparse_parse(&tp, b.text.data, b.text.len, &when, &e2) < 0) {
			perr(ps, b.at, "%s", "expected a date such as "
			    "'2024-06-01' or an age such as 90d");
			goto out;
		}
		fragment(ps, a.sql);
		buf_printf(&ps->sql, " %s ", op);
		bind(ps, FILTER_INT, when, 0, NULL, 0);
		rc = 0;
	} else if (a.type == V_NUM && (b.type == V_NUM || b.type == V_AGE) &&
	    !(b.type == V_AGE && a.count)) {
		emit_term(ps, &a);
		buf_printf(&ps->sql, " %s ", op);
		if (b.type == V_AGE && b.literal) {
			/* a number of days compared with an age */
			bind(ps, FILTER_REAL, 0, (double)b.age / 86400.0, NULL,
			    0);
		} else
			emit_term(ps, &b);
		rc = 0;
	} else if (a.type == V_TEXT && b.type == V_TEXT) {
		if (strcmp(op, "=") != 0 && strcmp(op, "!=") != 0) {
			perr(ps, opat, "%s", "text compares only with = or !=");
			goto out;
		}
		emit_term(ps, &a);
		buf_printf(&ps->sql, " %s ", op);
		emit_term(ps, &b);
		rc = 0;
	} else
		perr(ps, b.at, "%s", a.type == V_TIME ? "a time compares with "
		    "an age (90d) or a date ('2024-06-01')" : a.type == V_TEXT ?
		    "text compares with a quoted string" : "expected a number "
		    "here");
out:
	buf_release(&a.text);
	buf_release(&b.text);
	return rc;
}

/* unary := "not" unary | "(" expr ")" | cmp */
static int
parse_unary(struct parser *ps)
{
	if (++ps->depth > 64)
		return perr(ps, ps->pos, "%s", "nested too deeply");
	skip_ws(ps);
	if (peek_word(ps, "not")) {
		ps->pos += 3;
		buf_adds(&ps->sql, "NOT ");
		if (parse_unary(ps) < 0)
			return -1;
	} else if (ps->s[ps->pos] == '(') {
		size_t open = ps->pos++;

		buf_adds(&ps->sql, "(");
		if (parse_or(ps) < 0)
			return -1;
		skip_ws(ps);
		if (ps->s[ps->pos] != ')')
			return perr(ps, open, "%s", "this ( is not closed");
		ps->pos++;
		buf_adds(&ps->sql, ")");
	} else {
		buf_adds(&ps->sql, "(");
		if (parse_cmp(ps) < 0)
			return -1;
		buf_adds(&ps->sql, ")");
	}
	ps->depth--;
	return 0;
}

static int
parse_and(struct parser *ps)
{
	if (parse_unary(ps) < 0)
		return -1;
	while (peek_word(ps, "and")) {
		ps->pos += 3;
		buf_adds(&ps->sql, " AND ");
		if (parse_unary(ps) < 0)
			return -1;
	}
	return 0;
}

static int
parse_or(struct parser *ps)
{
	if (parse_and(ps) < 0)
		return -1;
	while (peek_word(ps, "or")) {
		ps->pos += 2;
		buf_adds(&ps->sql, " OR ");
		if (parse_and(ps) < 0)
			return -1;
	}
	return 0;
}

/* Compile (see segment.h). */
int
filter_compile(const char *expr, int64_t ref, struct filter *f, int *col,
    struct err *e)
{
	struct parser ps;
	size_t i;

	memset(f, 0, sizeof(*f));
	memset(&ps, 0, sizeof(ps));
	ps.s = expr;
	ps.ref = ref;
	ps.e = e;
	buf_init(&ps.sql);
	if (col != NULL)
		*col = 0;
	if (parse_or(&ps) == 0) {
		skip_ws(&ps);
		if (expr[ps.pos] != '\0')
			perr(&ps, ps.pos, "%s", "expected and, or, or the end "
			    "of the expression");
		else {
			f->sql = xstrdup(ps.sql.data);
			f->p = ps.p;
			f->n = ps.n;
			buf_release(&ps.sql);
			return 0;
		}
	}
	if (col != NULL)
		*col = ps.col;
	for (i = 0; i < ps.n; i++)
		free(ps.p[i].s);
	free(ps.p);
	buf_release(&ps.sql);
	return -1;
}

void
filter_release(struct filter *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->p[i].s);
	free(f->p);
	free(f->sql);
	memset(f, 0, sizeof(*f));
}
