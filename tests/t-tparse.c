/*
 * t-tparse.c: timestamps -> UTC seconds. ISO 8601 with Z, offsets,
 * fractions and a space separator; dates alone; Unix seconds,
 * milliseconds and microseconds; YYYYMMDD; M/D/YYYY H:MM (D/M when the
 * first number is over 12); --time-format through strptime, %z included;
 * impossible dates refused; the one-entry cache.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "tparse.h"
#include "tap.h"

#define BAD	INT64_MIN

/* s parsed with fmt (NULL: automatic); BAD when refused. */
static int64_t
tp_fmt(const char *fmt, const char *s)
{
	struct tparse tp;
	struct err e;
	int64_t v = 0;

	tparse_init(&tp, fmt);
	err_clear(&e);
	if (tparse_parse(&tp, s, strlen(s), &v, &e) < 0) {
		if (e.code != ERR_PARSE || e.msg[0] == '\0')
			return BAD + 1;		/* refused without a reason */
		return BAD;
	}
	return v;
}

static int64_t
tp(const char *s)
{
	return tp_fmt(NULL, s);
}

static void
test_iso(void)
{
	is_int(tp("2023-03-01T12:34:56Z"), 1677674096, "ISO with Z");
	is_int(tp("2023-03-01T12:34:56"), 1677674096, "ISO without zone = UTC");
	is_int(tp("2023-03-01 12:34:56"), 1677674096, "space separator");
	is_int(tp("2023-03-01t12:34:56z"), 1677674096, "lower-case t and z");
	is_int(tp("2023-03-01T12:34:56+02:00"), 1677666896, "offset +02:00");
	is_int(tp("2023-03-01T12:34:56+0200"), 1677666896, "offset +0200");
	is_int(tp("2023-03-01T12:34:56+02"), 1677666896, "offset +02");
	is_int(tp("2023-03-01T12:34:56-05:30"), 1677693896, "offset -05:30");
	is_int(tp("2023-03-01T12:34:56.999Z"), 1677674096,
	    "fraction dropped (floor), Z after it");
	is_int(tp("2023-03-01T12:34:56,5+02:00"), 1677666896,
	    "comma fraction with an offset");
	is_int(tp("2023-03-01 12:34:56 UTC"), 1677674096, "' UTC' suffix");
	is_int(tp("2023-03-01 12:34:56 +0100"), 1677674096 - 3600,
	    "blank before the offset");
	is_int(tp("2023-03-01T12:34"), 1677674096 - 56, "no seconds");
	is_int(tp("2023-03-01T00:00:00Z"), 1677628800, "midnight");
	is_int(tp("2023-03-01T24:00:00"), 1677715200, "24:00 is the next "
	    "midnight");
	is_int(tp("2016-12-31T23:59:60Z"), 1483228800, "a leap second");
	is_int(tp("  2023-03-01T12:34:56Z\t"), 1677674096,
	    "surrounding blanks ignored");
	is_int(tp("2023-3-1 8:05"), 1677628800 + 8 * 3600 + 300,
	    "one-digit month, day and hour");
	is_int(tp("1900-01-01"), -2208988800LL, "before 1970: negative");
}

static void
test_dates(void)
{
	is_int(tp("2023-03-01"), 1677628800, "date only");
	is_int(tp("2023/03/01"), 1677628800, "date with slashes");
	is_int(tp("2024-02-29"), 1709164800, "29 February of a leap year");
	is_int(tp("2000-02-29"), tparse_days(2000, 2, 29) * 86400,
	    "29 February 2000 (divisible by 400)");
	is_int(tp("19970101"), 852076800, "YYYYMMDD");
	is_int(tp("20240229"), 1709164800, "YYYYMMDD on a leap day");
	is_int(tp("12/1/2010 8:26"), 1291191960, "M/D/YYYY H:MM (UCI Online "
	    "Retail)");
	is_int(tp("1/4/2011 10:00"), 1294135200, "M/D/YYYY: 1/4 is 4 January");
	is_int(tp("12/13/2010"), 1292198400, "M/D/YYYY without a time");
	is_int(tp("25/12/2023 00:00"), 1703462400, "D/M/YYYY when the first "
	    "number is over 12");
	is_int(tp("12/01/2010 08:26:00"), 1291191960, "MM/DD/YYYY HH:MM:SS");
}

static void
test_epoch(void)
{
	is_int(tp("1700000000"), 1700000000, "Unix seconds");
	is_int(tp("0"), 0, "Unix seconds: 0");
	is_int(tp("1433221332117"), 1433221332, "milliseconds (RetailRocket)");
	is_int(tp("1433221332999"), 1433221332, "milliseconds floor");
	is_int(tp("1433221332117123"), 1433221332, "microseconds");
	is_int(tp("1700000000.75"), 1700000000, "seconds with a fraction");
	is_int(tp("978300760"), 978300760, "nine digits (MovieLens 1M)");
}

static void
test_invalid(void)
{
	is_int(tp("2023-02-29"), BAD, "2023-02-29 refused");
	is_int(tp("1900-02-29"), BAD, "1900-02-29 refused (not a leap year)");
	is_int(tp("2023-04-31"), BAD, "2023-04-31 refused");
	is_int(tp("2023-13-01"), BAD, "month 13 refused");
	is_int(tp("2023-00-10"), BAD, "month 0 refused");
	is_int(tp("2023-01-00"), BAD, "day 0 refused");
	is_int(tp("2023-01-01T25:00"), BAD, "hour 25 refused");
	is_int(tp("2023-01-01T12:60"), BAD, "minute 60 refused");
	is_int(tp("2023-01-01T24:30"), BAD, "24:30 refused");
	is_int(tp("2/30/2023 10:00"), BAD, "M/D: 30 February refused");
	is_int(tp("13/13/2023"), BAD, "13/13 refused");
	is_int(tp("2023-01-01T12:00:00+25:00"), BAD, "offset +25 refused");
	is_int(tp("2023-01-01T12:00:00Zjunk"), BAD, "text after Z refused");
	is_int(tp("2023-01-01X12:00"), BAD, "unknown separator refused");
	is_int(tp("2023-01-01T12:00:00."), BAD, "a dot without digits refused");
	is_int(tp("yesterday"), BAD, "words refused");
	is_int(tp(""), BAD, "empty refused");
	is_int(tp("   "), BAD, "blanks refused");
	is_int(tp("12345678901234567890"), BAD, "20 digits refused");
	is_int(tp("1700000000.5x"), BAD, "junk after a decimal refused");
	is_int(tp("2023-03"), BAD, "year and month only refused");
}

static void
test_format(void)
{
	struct tparse t;
	struct err e;
	int64_t v;

	is_int(tp_fmt("%d.%m.%Y %H:%M", "01.03.2023 12:34"), 1677674096 - 56,
	    "--time-format %%d.%%m.%%Y %%H:%%M");
	is_int(tp_fmt("%Y-%m-%d %H:%M:%S %z", "2023-03-01 12:34:56 +0200"),
	    1677666896, "--time-format with %%z (+0200)");
	is_int(tp_fmt("%Y-%m-%d %H:%M:%S %z", "2023-03-01 12:34:56 -0530"),
	    1677693896, "--time-format with %%z (-0530)");
	is_int(tp_fmt("%d/%m/%Y", "01/03/2023"), 1677628800,
	    "--time-format D/M/Y where automatic would read M/D");
	is_int(tp_fmt("%Y%m%d%H%M%S", "20230301123456"), 1677674096,
	    "--time-format of packed digits");
	is_int(tp_fmt("%d.%m.%Y", "29.02.2023"), BAD,
	    "--time-format: 29 February 2023 refused");
	is_int(tp_fmt("%d.%m.%Y", "31.04.2023"), BAD,
	    "--time-format: 31 April refused");
	is_int(tp_fmt("%d.%m.%Y", "01.03.2023 junk"), BAD,
	    "--time-format: trailing text refused");
	is_int(tp_fmt("%d.%m.%Y", "2023-03-01"), BAD,
	    "--time-format: other shapes refused");
	tparse_init(&t, "%d.%m.%Y");
	err_clear(&e);
	ok(tparse_parse(&t, "x", 1, &v, &e) < 0 &&
	    strstr(e.msg, "--time-format") != NULL &&
	    strstr(e.msg, "%d.%m.%Y") != NULL,
	    "the message names the format: %s", e.msg);
	tparse_init(&t, NULL);
	err_clear(&e);
	ok(tparse_parse(&t, "soon", 4, &v, &e) < 0 &&
	    strstr(e.msg, "'soon'") != NULL, "the message quotes the value: %s",
	    e.msg);
}

static void
test_cache(void)
{
	struct tparse t;
	struct err e;
	const char *s = "2023-03-01T12:34:56Zjunk";
	int64_t v = 0, w = 0;
	int okay;

	tparse_init(&t, NULL);
	err_clear(&e);
	okay = tparse_parse(&t, s, 20, &v, &e) == 0;
	ok(okay && v == 1677674096, "only len bytes are read (no NUL needed)");
	okay = tparse_parse(&t, "2023-03-01T12:34:56Z", 20, &w, &e) == 0;
	ok(okay && w == v, "the same text again (from the cache)");
	okay = tparse_parse(&t, "2023-03-01T12:34:57Z", 20, &w, &e) == 0;
	ok(okay && w == v + 1, "text of the same length, one digit apart");
	okay = tparse_parse(&t, "2023-03-01T12:34:56Z", 20, &w, &e) == 0;
	ok(okay && w == v, "back to the first text");
	okay = tparse_parse(&t, " 2023-03-01T12:34:56Z ", 22, &w, &e) == 0;
	ok(okay && w == v, "the same text with blanks");
	ok(tparse_parse(&t, "2023-02-29", 10, &w, &e) < 0 &&
	    tparse_parse(&t, "2023-02-29", 10, &w, &e) < 0,
	    "a refused text stays refused the second time");
	okay = tparse_parse(&t, "2023-02-28", 10, &w, &e) == 0;
	ok(okay && w == 1677542400, "a good text after a refused one");
	ok(tparse_parse(&t, "", 0, &w, &e) < 0, "empty after a cached text");
}

static void
test_days(void)
{
	is_int(tparse_days(1970, 1, 1), 0, "days: 1970-01-01 is 0");
	is_int(tparse_days(1969, 12, 31), -1, "days: 1969-12-31 is -1");
	is_int(tparse_days(2000, 3, 1), 11017, "days: 2000-03-01");
	is_int(tparse_days(2024, 2, 29) + 1, tparse_days(2024, 3, 1),
	    "days: leap day then 1 March");
	is_int(tparse_days(2023, 2, 28) + 1, tparse_days(2023, 3, 1),
	    "days: no leap day in 2023");
	is_int(tparse_days(1600, 1, 1), -135140, "days: 1600-01-01");
}

/*
 * YYYY-MM-DDTHH:MM:SS[Z] is read by a fixed-layout fast path; the same
 * time with a "+00:00" offset or a fraction takes the general parser.
 * Random fields, impossible ones included (month 13, day 31 of short
 * months, February 29 of common years, hour 24, second 60), must get
 * the same answer both ways.
 */
static void
test_fixed_layout(void)
{
	uint64_t r = 99;
	int i, same = 1, fast = 0, refused = 0;
	char a[64], b[64], c[64];

	for (i = 0; i < 20000; i++) {
		int y, mo, d, h, mi, sec;
		int64_t va, vb, vc;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		y = 1896 + (int)(r >> 58) * 3;
		mo = 1 + (int)(r >> 20) % 13;
		d = 1 + (int)(r >> 28) % 31;
		h = (int)(r >> 36) % 26;
		mi = (int)(r >> 44) % 61;
		sec = (int)(r >> 50) % 62;
		snprintf(a, sizeof(a), "%04d-%02d-%02d%c%02d:%02d:%02d%s", y,
		    mo, d, i % 3 ? 'T' : ' ', h, mi, sec, i & 1 ? "Z" : "");
		snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d+00:00",
		    y, mo, d, h, mi, sec);
		snprintf(c, sizeof(c), "%04d-%02d-%02dT%02d:%02d:%02d.0", y,
		    mo, d, h, mi, sec);
		va = tp(a);
		vb = tp(b);
		vc = tp(c);
		if (va != vb || va != vc) {
			if (same)
				diag("%s: %lld, %s: %lld, %s: %lld", a,
				    (long long)va, b, (long long)vb, c,
				    (long long)vc);
			same = 0;
		}
		if (va == BAD)
			refused++;
		else
			fast++;
	}
	ok(same && fast > 1000 && refused > 1000, "20,000 fixed-layout "
	    "times: the fast path agrees with the general parser (%d read, "
	    "%d refused)", fast, refused);
}

int
main(void)
{
	plan(84);
	test_iso();
	test_dates();
	test_epoch();
	test_invalid();
	test_format();
	test_cache();
	test_days();
	test_fixed_layout();
	return exit_status();
}
