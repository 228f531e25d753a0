/*
 * import-csv.c: the reader core (plain or gzip input through zlib, a
 * window that always holds the whole current record) and the CSV
 * parser: RFC 4180 quotes and doubled quotes, CRLF, any one-character or
 * multi-character delimiter, or runs of blanks. Memory is bounded by the
 * largest record, whatever the file size.
 */
#include "config.h"
#include "import-int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* Bytes per read; the fuzz build makes it tiny to cross the window often. */
#ifndef READ_CHUNK
#define READ_CHUNK	(256 * 1024)
#endif

static int
reader_setup(struct reader *r, const struct reader_opts *o, struct err *e)
{
	const char *d = o->delim ? o->delim : ",";

	r->fmt = o->fmt;
	r->header = o->header;
	if (strcmp(d, "ws") == 0 || strcmp(d, " ") == 0 ||
	    strcmp(d, "whitespace") == 0 || strcmp(d, "space") == 0)
		r->ws = 1;
	else if (strcmp(d, "\\t") == 0 || strcmp(d, "tab") == 0)
		d = "\t";
	if (!r->ws) {
		r->dlen = strlen(d);
		if (r->dlen == 0 || r->dlen >= sizeof(r->delim) ||
		    strchr(d, '"') || strchr(d, '\n') || strchr(d, '\r'))
			return err_set(e, ERR_USAGE, "bad delimiter '%s'", d);
		memcpy(r->delim, d, r->dlen + 1);
		r->fast = r->dlen == 1;
	}
	r->colmap = smap_new();
	r->cap = READ_CHUNK * 2;
	r->buf = xmalloc(r->cap);
	buf_init(&r->fbuf);
	return 0;
}

/* Open a file (gzip or plain). */
struct reader *
reader_open(const char *path, const struct reader_opts *o, struct err *e)
{
	struct reader *r = xcalloc(1, sizeof(*r));

	r->name = xstrdup(path);
	if (reader_setup(r, o, e) < 0) {
		reader_close(r);
		return NULL;
	}
	if ((r->gz = gzopen(path, "rb")) == NULL) {
		err_set(e, ERR_IO, "%s: %s", path, errno ? strerror(errno) :
		    "cannot open");
		reader_close(r);
		return NULL;
	}
	gzbuffer(r->gz, READ_CHUNK);
	return r;
}

/* Open over memory. */
struct reader *
reader_open_mem(const char *name, const void *p, size_t n,
    const struct reader_opts *o, struct err *e)
{
	struct reader *r = xcalloc(1, sizeof(*r));

	r->name = xstrdup(name);
	r->mem = p;
	r->memlen = n;
	if (reader_setup(r, o, e) < 0) {
		reader_close(r);
		return NULL;
	}
	return r;
}

/* Close and free. */
void
reader_close(struct reader *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->gz != NULL)
		gzclose(r->gz);
	for (i = 0; i < r->ncols; i++)
		free(r->cols[i]);
	free(r->cols);
	smap_free(r->colmap);
	free(r->buf);
	buf_release(&r->fbuf);
	free(r->foff);
	free(r->fptr);
	free(r->name);
	free(r);
}

/* Make n bytes from pos available, keeping the current record. */
long
reader_refill(struct reader *r, size_t n, struct err *e)
{
	while (r->len - r->pos < n && !r->eof) {
		int got;
		size_t want;

		if (r->rstart > 0) {	/* slide the record to the front */
			memmove(r->buf, r->buf + r->rstart, r->len - r->rstart);
			r->len -= r->rstart;
			r->pos -= r->rstart;
			r->raw_end -= r->raw_end >= r->rstart ? r->rstart : 0;
			r->rstart = 0;
		}
		if (r->cap - r->len < READ_CHUNK) {
			if (r->len - r->rstart >= READER_MAX_RECORD)
				return err_set(e, ERR_LIMIT, "%s:%lld: record "
				    "longer than %u MiB (an unclosed quote?)",
				    r->name, (long long)r->rec_line,
				    READER_MAX_RECORD >> 20);
			r->cap *= 2;
			r->buf = xrealloc(r->buf, r->cap);
		}
		want = r->cap - r->len;
		if (want > INT32_MAX)
			want = INT32_MAX;
		if (r->gz != NULL) {
			got = gzread(r->gz, r->buf + r->len, (unsigned)want);
			if (got < 0) {
				int zerr;
				const char *m = gzerror(r->gz, &zerr);

				return err_set(e, ERR_IO, "%s: read error: %s",
				    r->name, m);
			}
		} else {
			size_t left = r->memlen - r->mempos;

			got = (int)(left < want ? left : want);
			memcpy(r->buf + r->len, r->mem + r->mempos, got);
			r->mempos += got;
		}
		if (got == 0)
			r->eof = 1;
		r->len += got;
	}
	return (long)(r->len - r->pos);
}

/* Add a column name. */
size_t
reader_addcol(struct reader *r, const char *s, size_t n)
{
	int isnew;
	int64_t *slot = smap_put(r->colmap, s, n, (int64_t)r->ncols, &isnew);

	if (!isnew)
		return (size_t)*slot;
	r->cols = xreallocarray(r->cols, r->ncols + 1, sizeof(*r->cols));
	r->cols[r->ncols] = xstrndup(s, n);
	return r->ncols++;
}

/* Start a record with n missing fields. */
void
reader_clear(struct reader *r, size_t n)
{
	size_t i;

	buf_reset(&r->fbuf);
	r->nf = 0;
	r->width = 0;
	if (n > r->capf) {
		r->capf = n + 8;
		r->foff = xreallocarray(r->foff, r->capf, sizeof(*r->foff));
		r->fptr = xreallocarray(r->fptr, r->capf, sizeof(*r->fptr));
	}
	for (i = 0; i < n; i++)
		r->foff[i] = SIZE_MAX;
	r->nf = n;
}

/* Set field i. */
void
reader_setfield(struct reader *r, size_t i, const char *s, size_t n)
{
	if (i >= r->capf) {
		size_t j, old = r->capf;

		r->capf = i + 16;
		r->foff = xreallocarray(r->foff, r->capf, sizeof(*r->foff));
		r->fptr = xreallocarray(r->fptr, r->capf, sizeof(*r->fptr));
		for (j = old; j < r->capf; j++)
			r->foff[j] = SIZE_MAX;
	}
	while (r->nf <= i)
		r->foff[r->nf++] = SIZE_MAX;
	if (s == NULL || n == 0) {
		r->foff[i] = SIZE_MAX;
		return;
	}
	r->foff[i] = r->fbuf.len;
	buf_add(&r->fbuf, s, n);
	buf_addc(&r->fbuf, '\0');
}

/* Field pointers for the finished record. */
void
reader_done(struct reader *r)
{
	size_t i;

	for (i = 0; i < r->nf; i++)
		r->fptr[i] = r->foff[i] == SIZE_MAX ? NULL :
		    r->fbuf.data + r->foff[i];
}

static inline int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Does the delimiter start at pos? (fills the window as needed) */
static inline int
at_delim(struct reader *r, struct err *e)
{
	if (r->ws)
		return is_blank(r->buf[r->pos]);
	if (r->buf[r->pos] != r->delim[0])
		return 0;
	if (r->dlen == 1)
		return 1;
	if (reader_fill(r, r->dlen, e) < (long)r->dlen)
		return 0;
	return memcmp(r->buf + r->pos, r->delim, r->dlen) == 0;
}

/* At a line end: note where the record ends, consume it, return 1. */
static int
csv_eol(struct reader *r, struct err *e)
{
	long avail;

	if (r->buf[r->pos] == '\n') {
		r->raw_end = r->pos;
		r->pos++;
		r->line++;
		return 1;
	}
	if (r->buf[r->pos] != '\r')
		return 0;
	if ((avail = reader_fill(r, 2, e)) < 0)
		return -1;
	if (avail < 2 || r->buf[r->pos + 1] != '\n')
		return 0;
	r->raw_end = r->pos;
	r->pos += 2;
	r->line++;
	return 1;
}

/* Room for twice as many fields. */
static void
reader_more_fields(struct reader *r)
{
	r->capf = r->capf ? r->capf * 2 : 16;
	r->foff = xreallocarray(r->foff, r->capf, sizeof(*r->foff));
	r->fptr = xreallocarray(r->fptr, r->capf, sizeof(*r->fptr));
}

/*
 * The common record at pos: a whole line in the window, with no quote
 * and no carriage return but one before its line feed, a one-byte
 * delimiter. The line goes into fbuf in one copy and its delimiters
 * become the NULs between fields. 1 done, 0 take the general path
 * (nothing consumed).
 */
static int
csv_fast_record(struct reader *r)
{
	char *s = r->buf + r->pos, *nl, *end, *p, *q;
	size_t n, base;

	if ((nl = memchr(s, '\n', r->len - r->pos)) == NULL)
		return 0;
	end = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
	n = (size_t)(end - s);
	if (memchr(s, '"', n) != NULL || memchr(s, '\r', n) != NULL)
		return 0;
	base = r->fbuf.len;
	buf_add(&r->fbuf, s, n);
	buf_addc(&r->fbuf, '\0');
	p = r->fbuf.data + base;
	end = p + n;
	for (;;) {
		if ((q = memchr(p, r->delim[0], (size_t)(end - p))) == NULL)
			q = end;
		if (r->nf >= r->capf)
			reader_more_fields(r);
		r->foff[r->nf++] = q == p ? SIZE_MAX :
		    (size_t)(p - r->fbuf.data);
		if (q == end)
			break;
		*q = '\0';
		p = q + 1;
	}
	r->raw_end = r->pos + n;
	r->pos = (size_t)(nl - r->buf) + 1;
	r->line++;
	r->width = r->nf;
	reader_done(r);
	return 1;
}

/*
 * Parse one CSV record into fields, copying field bytes into fbuf with
 * a NUL after each (quotes undone). Returns 1, 0 at EOF, -1 bad record
 * (after skipping to the end of it), -2 I/O error.
 */
static int
csv_record(struct reader *r, struct err *e)
{
	size_t fstart;
	long avail;
	int c;

	buf_reset(&r->fbuf);
	r->nf = 0;
	/* skip empty lines */
	for (;;) {
		if ((avail = reader_fill(r, 1, e)) < 0)
			return -2;
		if (avail == 0)
			return 0;
		r->rstart = r->pos;
		c = r->buf[r->pos];
		if (c == '\n') {
			r->pos++;
			r->line++;
			continue;
		}
		if (c == '\r') {
			if ((avail = reader_fill(r, 2, e)) < 0)
				return -2;
			if (avail >= 2 && r->buf[r->pos + 1] == '\n') {
				r->pos += 2;
				r->line++;
				continue;
			}
		}
		break;
	}
	r->rec_line = r->line + 1;
	if (r->fast && csv_fast_record(r))
		return 1;
	if (r->ws) {
		while (reader_fill(r, 1, e) > 0 && is_blank(r->buf[r->pos]))
			r->pos++;
	}
	for (;;) {		/* one field per iteration */
		fstart = r->fbuf.len;
		if ((avail = reader_fill(r, 1, e)) < 0)
			return -2;
		if (avail > 0 && r->buf[r->pos] == '"') {
			r->pos++;
			for (;;) {
				if ((avail = reader_fill(r, 2, e)) < 0)
					return -2;
				if (avail == 0) {
					err_set(e, ERR_PARSE, "%s:%lld: quoted "
					    "field not closed before the end "
					    "of the file", r->name,
					    (long long)r->rec_line);
					/* raw: without its last line end */
					r->raw_end = r->pos;
					while (r->raw_end > r->rstart &&
					    (r->buf[r->raw_end - 1] == '\n' ||
					    r->buf[r->raw_end - 1] == '\r'))
						r->raw_end--;
					return -1;
				}
				c = r->buf[r->pos++];
				if (c == '"') {
					if (avail >= 2 &&
					    r->buf[r->pos] == '"') {
						r->pos++;
						buf_addc(&r->fbuf, '"');
						continue;
					}
					break;
				}
				if (c == '\n')
					r->line++;
				buf_addc(&r->fbuf, (char)c);
			}
		}
		/* unquoted part (or text after a closing quote) */
		for (;;) {
			char *p, *end;

			if ((avail = reader_fill(r, 1, e)) < 0)
				return -2;
			if (avail == 0)
				break;
			p = r->buf + r->pos;
			end = r->buf + r->len;
			/* fast path: bytes that end nothing */
			while (p < end && *p != '\n' && *p != '\r' &&
			    *p != r->delim[0] && *p != '"' &&
			    !(r->ws && is_blank(*p)))
				p++;
			if (p > r->buf + r->pos) {
				buf_add(&r->fbuf, r->buf + r->pos,
				    (size_t)(p - (r->buf + r->pos)));
				r->pos = (size_t)(p - r->buf);
				continue;
			}
			c = *p;
			if (c == '\n' || at_delim(r, e))
				break;
			if (c == '\r') {
				if (reader_fill(r, 2, e) >= 2 &&
				    r->buf[r->pos + 1] == '\n')
					break;
			}
			buf_addc(&r->fbuf, (char)c);
			r->pos++;
		}
		/* end of field */
		if (r->nf >= r->capf)
			reader_more_fields(r);
		r->foff[r->nf++] = r->fbuf.len == fstart ? SIZE_MAX : fstart;
		buf_addc(&r->fbuf, '\0');
		if (r->ws)
			while (reader_fill(r, 1, e) > 0 &&
			    is_blank(r->buf[r->pos]))
				r->pos++;
		if (reader_fill(r, 1, e) <= 0) {	/* EOF ends the record */
			r->raw_end = r->pos;
			break;
		}
		if ((avail = csv_eol(r, e)) != 0) {
			if (avail < 0)
				return -2;
			break;
		}
		if (!r->ws)
			r->pos += r->dlen;
	}
	if (r->pos > r->len)
		r->pos = r->len;
	r->width = r->nf;
	/* Empty fields read as missing; fix offsets that point at "" */
	reader_done(r);
	return 1;
}

/* Next record of either format. */
int
reader_next(struct reader *r, struct err *e)
{
	int rc;

	/* a UTF-8 byte order mark at the start of the input is not data */
	if (r->line == 0 && r->pos == 0 && reader_fill(r, 3, e) >= 3 &&
	    memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
		r->pos = 3;
	for (;;) {
		if (r->fmt == FMT_JSONL) {
			size_t scan, off;
			char *nl;

			buf_reset(&r->fbuf);
			/* one line: find its end, growing the window */
			r->rstart = r->pos;
			scan = r->pos;
			for (;;) {
				nl = memchr(r->buf + scan, '\n', r->len - scan);
				if (nl != NULL || r->eof)
					break;
				off = r->len - r->rstart;
				r->pos = r->len;
				if (reader_fill(r, 1, e) < 0)
					return -2;
				scan = r->rstart + off;
				r->pos = r->rstart;
			}
			if (nl == NULL && r->rstart >= r->len)
				return 0;
			r->rec_line = ++r->line;
			r->raw_end = nl ? (size_t)(nl - r->buf) : r->len;
			r->pos = nl ? r->raw_end + 1 : r->len;
			if (r->raw_end > r->rstart &&
			    r->buf[r->raw_end - 1] == '\r')
				r->raw_end--;
			rc = json_record(r, e);
			if (rc == 0)
				continue;	/* blank line */
			if (rc > 0)
				reader_done(r);
			return rc;
		}
		rc = csv_record(r, e);
		if (rc != 1)
			return rc;
		if (r->header && r->ncols == 0) {
			size_t i;

			for (i = 0; i < r->nf; i++) {
				const char *f = r->fptr[i] ? r->fptr[i] : "";
				size_t n = strlen(f);

				while (n > 0 && is_blank(f[n - 1]))
					n--;
				while (n > 0 && is_blank(*f)) {
					f++;
					n--;
				}
				reader_addcol(r, f, n);
			}
			continue;
		}
		if (!r->header)
			while (r->ncols < r->nf) {
				char num[24];
				int n = snprintf(num, sizeof(num), "%zu",
				    r->ncols + 1);

				reader_addcol(r, num, (size_t)n);
			}
		return 1;
	}
}

size_t
reader_nfields(const struct reader *r)
{
	return r->nf;
}

const char *
reader_field(const struct reader *r, size_t i)
{
	return i < r->nf ? r->fptr[i] : NULL;
}

size_t
reader_width(const struct reader *r)
{
	return r->width;
}

/* Column by name, or by 1-based number ("#3" or "3" without header). */
int
reader_column(struct reader *r, const char *name)
{
	int64_t *slot = smap_get(r->colmap, name, strlen(name));
	char *end;
	long v;

	if (slot != NULL)
		return (int)*slot;
	if (name[0] == '#') {
		v = strtol(name + 1, &end, 10);
		if (*end == '\0' && v >= 1 && v <= 100000)
			return (int)(v - 1);
	}
	if (r->fmt == FMT_JSONL)
		return (int)reader_addcol(r, name, strlen(name));
	return -1;
}

size_t
reader_ncolumns(const struct reader *r)
{
	return r->ncols;
}

const char *
reader_colname(const struct reader *r, size_t i)
{
	return i < r->ncols ? r->cols[i] : NULL;
}

int64_t
reader_line(const struct reader *r)
{
	return r->rec_line;
}

const char *
reader_raw(const struct reader *r, size_t *len)
{
	*len = r->raw_end >= r->rstart ? r->raw_end - r->rstart : 0;
	return r->buf + r->rstart;
}

int64_t
reader_pos(const struct reader *r)
{
	if (r->gz != NULL)
		return (int64_t)gzoffset(r->gz);
	return (int64_t)r->mempos;
}

const char *
reader_name(const struct reader *r)
{
	return r->name;
}
