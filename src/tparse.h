/*
 * tparse.h: timestamps of imported files -> UTC seconds. Recognises ISO
 * 8601 (with or without zone), Unix seconds or milliseconds, YYYYMMDD,
 * M/D/YYYY [H:MM[:SS]], or a strptime format given by the user.
 */
#ifndef JS_TPARSE_H
#define JS_TPARSE_H
#include <stddef.h>
#include <stdint.h>

struct err;

struct tparse {
	const char	*fmt;		/* strptime format, or NULL: automatic */
	char		 last[64];	/* cache of the last string parsed */
	size_t		 last_len;
	int64_t		 last_val;
};

/* Set up a parser; fmt may be NULL (borrowed: must outlive the parser). */
void	tparse_init(struct tparse *, const char *fmt);
/*
 * Parse s (len bytes, need not be NUL-terminated) into UTC seconds.
 * Times without a zone are taken as UTC; fractions of a second are
 * dropped (floor). Returns 0, or -1 with ERR_PARSE saying why.
 */
int	tparse_parse(struct tparse *, const char *s, size_t len, int64_t *out,
	    struct err *);
/* UTC seconds as ISO 8601, 2024-03-02T14:11:00Z, into buf (>= 21 bytes). */
char	*tparse_format(int64_t ts, char *buf, size_t len);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t	tparse_days(int64_t y, int m, int d);

#endif
