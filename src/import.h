/*
 * import.h: bringing files into the store. Readers turn a file (plain or
 * gzip) into records of fields; a mapping turns records into events;
 * presets are named mappings for common public formats; the driver runs
 * one import in one store transaction. Nothing here prints: progress and
 * rejected rows go through callbacks.
 */
#ifndef JS_IMPORT_H
#define JS_IMPORT_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct store;
struct reader;

/* ---- readers ---- */

enum reader_fmt { FMT_CSV, FMT_JSONL };

struct reader_opts {
	enum reader_fmt	 fmt;
	const char	*delim;		/* CSV: "," "\t" "::" or "ws" (runs of
					 * blanks); NULL: "," */
	int		 header;	/* CSV: 1 first record names columns */
};

/* Open path (gzip or plain, detected by content). NULL and e on error. */
struct reader	*reader_open(const char *path, const struct reader_opts *,
		    struct err *);
/* Open over a memory buffer (tests, fuzzing); the buffer is borrowed. */
struct reader	*reader_open_mem(const char *name, const void *, size_t,
		    const struct reader_opts *, struct err *);
void		 reader_close(struct reader *);
/*
 * Next record: 1 read, 0 end of input, -1 a bad record (e says why; the
 * caller may go on with the next), -2 an I/O error (stop).
 */
int		 reader_next(struct reader *, struct err *);
/* Fields of the current record; a missing or empty field is NULL. */
size_t		 reader_nfields(const struct reader *);
const char	*reader_field(const struct reader *, size_t i);
/* Number of fields the current record really had (CSV). */
size_t		 reader_width(const struct reader *);
/* Column index by name (header, JSON key, or 1-based number), -1 if none.
 * JSON Lines readers register a name not seen yet. */
int		 reader_column(struct reader *, const char *name);
size_t		 reader_ncolumns(const struct reader *);
const char	*reader_colname(const struct reader *, size_t i);
/* Physical line where the current record starts (1-based). */
int64_t		 reader_line(const struct reader *);
/* The raw bytes of the current record, without its line end. */
const char	*reader_raw(const struct reader *, size_t *len);
/* Bytes of the file read so far (compressed bytes for gzip). */
int64_t		 reader_pos(const struct reader *);
const char	*reader_name(const struct reader *);

/* ---- mappings and presets ---- */

struct preset {
	const char	*name;
	const char	*summary;
	const char	*delim;		/* NULL ",", "auto": sniff :: tab ws */
	int		 header;
	const char	*map;		/* a --map spec */
	int		 flags;		/* PRESET_* */
};

enum {
	PRESET_SKIP_NO_CUSTOMER	= 1 << 0,	/* rows without customer: skip */
	PRESET_RETAIL		= 1 << 1,	/* C invoices = cancellation */
	PRESET_SEQUENCE		= 1 << 2,	/* no timestamps: line order */
	PRESET_MOVIELENS	= 1 << 3	/* u.item / movies.dat catalogs */
};

extern const struct preset import_presets[];
/* The preset of that name, or NULL. */
const struct preset *import_preset(const char *name);

/* ---- the driver ---- */

struct import_opts {
	const struct preset *preset;	/* NULL: generic, by header names */
	const char	*map;		/* --map, added over the preset's */
	const char	*delim;		/* --delimiter, overrides the preset */
	const char	*time_format;	/* --time-format (strptime) */
	const char	*items;		/* --items FILE: an item catalog */
	int		 header;	/* -1 preset's, 0 none, 1 header */
	int		 strict;	/* first bad row aborts, store unchanged */
	int		 force;		/* import a file already imported */
	volatile sig_atomic_t *stop;	/* set by a signal: roll back */
	/* Called for every rejected row: file, line, reason, raw record. */
	void		(*reject)(void *, const char *file, int64_t line,
			    const char *why, const char *raw, size_t rawlen);
	/* Called for a file skipped as already imported. */
	void		(*skipfile)(void *, const char *file,
			    const char *earlier);
	/* Progress: bytes done and total of all files, rows so far. */
	void		(*progress)(void *, int64_t done, int64_t total,
			    int64_t rows);
	void		*ctx;
};

struct import_stats {
	int64_t		 rows, events, skipped, rejected, files, files_skipped;
	double		 seconds;
};

/*
 * Import files into the store in one transaction: all of them or,
 * on error, interruption or (with strict) a bad row, none.
 * Returns 0, or -1 with e filled (the store then holds what it held).
 */
int	import_files(struct store *, char *const *files, int n,
	    const struct import_opts *, struct import_stats *, struct err *);

/* Does s (len bytes) hold valid UTF-8? */
int	import_utf8_valid(const char *, size_t);

/* A number from a field (blanks, a currency sign and thousands commas
 * allowed): 0 with *out, -1 not a number. */
int	import_parse_num(const char *, double *);

#endif
