/*
 * import-int.h: the reader record shared by import-csv.c (input, CSV) and
 * import-json.c (JSON Lines). Not for other modules.
 */
#ifndef JS_IMPORT_INT_H
#define JS_IMPORT_INT_H
#include <zlib.h>

#include "import.h"
#include "util.h"

/* A record larger than this is refused (a runaway quote, a hostile file). */
#define READER_MAX_RECORD	(4u << 20)

struct reader {
	char		*name;
	enum reader_fmt	 fmt;
	gzFile		 gz;		/* NULL when reading memory */
	const char	*mem;
	size_t		 memlen, mempos;
	char		*buf;		/* input window */
	size_t		 cap, len, pos;	/* bytes held, next byte */
	size_t		 rstart;	/* current record's first byte in buf */
	int		 eof;
	int64_t		 line;		/* lines consumed */
	int64_t		 rec_line;	/* line of the current record */
	size_t		 raw_end;	/* end of the current record in buf */
	/* fields of the current record, NUL-separated in fbuf */
	struct buf	 fbuf;
	size_t		*foff;		/* offset in fbuf, SIZE_MAX = missing */
	const char	**fptr;
	size_t		 nf, capf, width;
	/* column names */
	char		**cols;
	size_t		 ncols;
	struct smap	*colmap;	/* name -> index */
	/* CSV settings */
	char		 delim[16];
	size_t		 dlen;
	int		 ws;		/* delimiter = runs of blanks */
	int		 fast;		/* a one-byte delimiter (never a quote
					 * or line end): csv_fast_record() */
	int		 header;
};

/* Ensure at least n unread bytes are in the window unless at EOF;
 * returns the number available (< n only at EOF), -1 on I/O error. */
long	reader_refill(struct reader *, size_t n, struct err *);

/* Make n bytes from pos available (the window's bytes from pos, fewer
 * only at the end of the input), keeping the current record. */
static inline long
reader_fill(struct reader *r, size_t n, struct err *e)
{
	if (r->len - r->pos >= n)
		return (long)(r->len - r->pos);
	return reader_refill(r, n, e);
}
/* Add a column name; returns its index. */
size_t	reader_addcol(struct reader *, const char *, size_t);
/* Set field i (growing the record) to s/len; s NULL = missing. */
void	reader_setfield(struct reader *, size_t i, const char *, size_t);
/* Start an empty record of n fields (all missing). */
void	reader_clear(struct reader *, size_t n);
/* Finish a record: field pointers. */
void	reader_done(struct reader *);
/* JSON Lines: parse buf[rstart, raw_end) into fields. */
int	json_record(struct reader *, struct err *);

#endif
