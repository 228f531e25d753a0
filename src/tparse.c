/*
 * tparse.c: timestamp parsing for the importers. Hand-written for the
 * common forms (an import parses millions), strptime only on request.
 */
#include "config.h"
#include "tparse.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"

/* Set up a parser. */
void
tparse_init(struct tparse *tp, const char *fmt)
{
	memset(tp, 0, sizeof(*tp));
	tp->fmt = fmt;
	tp->last_len = (size_t)-1;
}

/* ISO 8601 UTC; the number itself when gmtime cannot take it. */
char *
tparse_format(int64_t ts, char *buf, size_t len)
{
	time_t t = (time_t)ts;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)ts);
	return buf;
}

/* Days from 1970-01-01 (Howard Hinnant's days_from_civil). */
int64_t
tparse_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int64_t y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Read exactly n digits at *p. */
static int
digits(const char **p, const char *end, int n, int *out)
{
	int v = 0, i;

	if (end - *p < n)
		return -1;
	for (i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Read 1 to max digits. */
static int
digits_var(const char **p, const char *end, int max, int *out)
{
	int v = 0, n = 0;

	while (*p < end && n < max && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (n == 0)
		return -1;
	*out = v;
	return 0;
}

static int
check_ymdhms(int64_t y, int mo, int d, int h, int mi, int s)
{
	if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 24 || mi > 59 || s > 60 ||
	    (h == 24 && (mi || s)))
		return -1;
	return 0;
}

/* [T or space]HH:MM[:SS[.frac]][Z|+HH[:MM]|-HHMM] after a date. */
static int
parse_clock(const char *p, const char *end, int *h, int *mi, int *s,
    int *off)
{
	int oh = 0, om = 0, sign;

	*h = *mi = *s = *off = 0;
	if (p == end)
		return 0;
	if (*p != 'T' && *p != ' ' && *p != 't')
		return -1;
	p++;
	if (digits_var(&p, end, 2, h) < 0)
		return -1;
	if (p == end || *p != ':')
		return -1;
	p++;
	if (digits(&p, end, 2, mi) < 0)
		return -1;
	if (p < end && *p == ':') {
		p++;
		if (digits(&p, end, 2, s) < 0)
			return -1;
		if (p < end && (*p == '.' || *p == ',')) {
			p++;
			if (p == end || *p < '0' || *p > '9')
				return -1;
			while (p < end && *p >= '0' && *p <= '9')
				p++;
		}
	}
	if (p < end && *p == ' ')
		p++;
	if (p == end)
		return 0;
	if ((*p == 'Z' || *p == 'z') && p + 1 == end)
		return 0;
	if (end - p >= 3 && end - p <= 4 && strncmp(p, "UTC", 3) == 0 &&
	    (p + 3 == end))
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, end, 2, &oh) < 0)
		return -1;
	if (p < end && *p == ':')
		p++;
	if (p < end && digits(&p, end, 2, &om) < 0)
		return -1;
	if (p != end || oh > 23 || om > 59)
		return -1;
	*off = sign * (oh * 3600 + om * 60);
	return 0;
}

/*
 * YYYY-MM-DD[T ]HH:MM:SS[Z], the most common layout, read by position:
 * 0 done, 1 not this layout (or not a valid time: parse_auto decides).
 */
static int
parse_iso_fixed(const char *s, size_t len, int64_t *out)
{
#define DIG(i)	((unsigned)(unsigned char)s[i] - '0')
#define NUM2(i)	((int)(DIG(i) * 10 + DIG((i) + 1)))
	int y, mo, d, h, mi, sec;

	if (len != 19 && !(len == 20 && (s[19] == 'Z' || s[19] == 'z')))
		return 1;
	if (s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return 1;
#define BAD(i)	(DIG(i) > 9)
	if (BAD(0) | BAD(1) | BAD(2) | BAD(3) | BAD(5) | BAD(6) | BAD(8) |
	    BAD(9) | BAD(11) | BAD(12) | BAD(14) | BAD(15) | BAD(17) |
	    BAD(18))
		return 1;
#undef BAD
	y = NUM2(0) * 100 + NUM2(2);
	mo = NUM2(5);
	d = NUM2(8);
	h = NUM2(11);
	mi = NUM2(14);
	sec = NUM2(17);
#undef NUM2
#undef DIG
	if (check_ymdhms(y, mo, d, h, mi, sec) < 0)
		return 1;
	*out = tparse_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

static int
parse_auto(const char *s, size_t len, int64_t *out)
{
	const char *p = s, *end = s + len;
	int y = 0, mo = 0, d = 0, h, mi, sec, off, a = 0, b = 0;
	size_t i, ndig = 0;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		ndig++;
	if (ndig == len || (ndig > 0 && ndig < len && s[ndig] == '.' &&
	    ndig >= 9)) {
		int64_t v = 0;

		if (ndig > 18)		/* past int64_t */
			return -1;
		for (i = 0; i < ndig; i++)
			v = v * 10 + (s[i] - '0');
		if (ndig == len && len == 8) {
			y = (int)(v / 10000);
			mo = (int)(v / 100 % 100);
			d = (int)(v % 100);
			if (y >= 1900 && y <= 2200 &&
			    check_ymdhms(y, mo, d, 0, 0, 0) == 0) {
				*out = tparse_days(y, mo, d) * 86400;
				return 0;
			}
		}
		if (ndig <= 11)
			*out = v;		/* Unix seconds */
		else if (ndig <= 14)
			*out = v / 1000;	/* milliseconds */
		else
			*out = v / 1000000;	/* microseconds */
		if (ndig < len)			/* decimal fraction */
			for (i = ndig + 1; i < len; i++)
				if (s[i] < '0' || s[i] > '9')
					return -1;
		return 0;
	}
	if (ndig == 4 && len >= 8 && (s[4] == '-' || s[4] == '/')) {
		char sep = s[4];

		digits(&p, end, 4, &y);
		p++;
		if (digits_var(&p, end, 2, &mo) < 0 || p == end || *p != sep)
			return -1;
		p++;
		if (digits_var(&p, end, 2, &d) < 0)
			return -1;
	} else if (ndig >= 1 && ndig <= 2 && s[ndig] == '/') {
		/* M/D/YYYY (US, as in UCI Online Retail); D/M when M > 12 */
		digits_var(&p, end, 2, &a);
		p++;
		if (digits_var(&p, end, 2, &b) < 0 || p == end || *p != '/')
			return -1;
		p++;
		if (digits(&p, end, 4, &y) < 0)
			return -1;
		if (a > 12 && b <= 12) {
			mo = b;
			d = a;
		} else {
			mo = a;
			d = b;
		}
	} else
		return -1;
	if (parse_clock(p, end, &h, &mi, &sec, &off) < 0 ||
	    check_ymdhms(y, mo, d, h, mi, sec) < 0)
		return -1;
	*out = tparse_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
}

static int
parse_fmt(const char *fmt, const char *s, size_t len, int64_t *out)
{
	char tmp[256];
	struct tm tm;
	const char *end;

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = 1;
	end = strptime(tmp, fmt, &tm);
	if (end == NULL || *end != '\0')
		return -1;
	if (check_ymdhms((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec) < 0)
		return -1;
	*out = tparse_days((int64_t)tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday) * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 +
	    tm.tm_sec - tm.tm_gmtoff;
	return 0;
}

/* Parse one timestamp. */
int
tparse_parse(struct tparse *tp, const char *s, size_t len, int64_t *out,
    struct err *e)
{
	int rc;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == tp->last_len && memcmp(s, tp->last, len) == 0) {
		*out = tp->last_val;
		return 0;
	}
	if (len == 0)
		return err_set(e, ERR_PARSE, "empty timestamp");
	rc = tp->fmt ? parse_fmt(tp->fmt, s, len, out) :
	    parse_iso_fixed(s, len, out) == 0 ? 0 : parse_auto(s, len, out);
	if (rc < 0) {
		if (tp->fmt)
			return err_set(e, ERR_PARSE, "timestamp '%.*s' does "
			    "not match --time-format '%s'", (int)(len > 40 ?
			    40 : len), s, tp->fmt);
		return err_set(e, ERR_PARSE, "unrecognised timestamp '%.*s' "
		    "(give --time-format)", (int)(len > 40 ? 40 : len), s);
	}
	if (len < sizeof(tp->last)) {
		memcpy(tp->last, s, len);
		tp->last_len = len;
		tp->last_val = *out;
	}
	return 0;
}
