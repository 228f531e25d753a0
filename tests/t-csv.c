/*
 * t-csv.c: the readers over memory (reader_open_mem) and over files
 * (plain and gzip): RFC 4180 quoting, doubled quotes, line ends inside
 * quotes with the right line numbers, CRLF, header or none, tab, "::",
 * runs of blanks, empty fields as missing, bad records reported with
 * their line while reading goes on, a UTF-8 BOM, JSON Lines, and records
 * that cross the reader's window.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "import.h"
#include "util.h"
#include "tap.h"

/*
 * Every record of the reader as text: "L<line>:[f1][f2][-]" per record
 * ('-' a missing field), "L<line>:ERR" for a bad record, "IO" for an
 * I/O error, records joined by spaces. The caller frees.
 */
static char *
dump_reader(struct reader *r)
{
	struct buf b;
	struct err e;
	size_t i;
	int rc;

	buf_init(&b);
	buf_adds(&b, "");
	for (;;) {
		err_clear(&e);
		rc = reader_next(r, &e);
		if (rc == 0)
			break;
		if (b.len > 0)
			buf_addc(&b, ' ');
		if (rc == -2) {
			buf_adds(&b, "IO");
			break;
		}
		buf_printf(&b, "L%lld:", (long long)reader_line(r));
		if (rc < 0) {
			buf_adds(&b, "ERR");
			continue;
		}
		for (i = 0; i < reader_nfields(r); i++) {
			const char *f = reader_field(r, i);

			if (f == NULL)
				buf_adds(&b, "[-]");
			else
				buf_printf(&b, "[%s]", f);
		}
	}
	return b.data;		/* the caller frees */
}

/* Read text s with the given options; returns the dump (static). */
static const char *
dump(const char *s, enum reader_fmt fmt, const char *delim, int header)
{
	static char out[4096];
	struct reader_opts o = { fmt, delim, header };
	struct reader *r;
	struct err e;
	char *d;

	err_clear(&e);
	if ((r = reader_open_mem("mem", s, strlen(s), &o, &e)) == NULL)
		return "OPEN FAILED";
	d = dump_reader(r);
	snprintf(out, sizeof(out), "%s", d);
	free(d);
	reader_close(r);
	return out;
}

static const char *
csv(const char *s)
{
	return dump(s, FMT_CSV, NULL, 0);
}

/* The column names of the reader after reading everything. */
static const char *
colnames(const char *s, enum reader_fmt fmt, const char *delim, int header)
{
	static char out[1024];
	struct reader_opts o = { fmt, delim, header };
	struct reader *r;
	struct err e;
	size_t i, k = 0;

	err_clear(&e);
	if ((r = reader_open_mem("mem", s, strlen(s), &o, &e)) == NULL)
		return "OPEN FAILED";
	while (reader_next(r, &e) != 0)
		;
	out[0] = '\0';
	for (i = 0; i < reader_ncolumns(r); i++)
		k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%s",
		    i ? "," : "", reader_colname(r, i));
	reader_close(r);
	return out;
}

static void
test_quotes(void)
{
	is_str(csv("a,b,c\n1,2,3\n"), "L1:[a][b][c] L2:[1][2][3]",
	    "plain records, no header");
	is_str(csv("\"a,b\",\"c\"\"d\",e\n"), "L1:[a,b][c\"d][e]",
	    "quoted delimiter and doubled quote");
	is_str(csv("\"\"\"\",\"\",x\n"), "L1:[\"][-][x]",
	    "a field of one quote; an empty quoted field is missing");
	is_str(csv("\"x\ny\",z\nnext,1\n\"p\n\nq\",2\nlast,3\n"),
	    "L1:[x\ny][z] L3:[next][1] L4:[p\n\nq][2] L7:[last][3]",
	    "line ends inside quotes: fields keep them, lines count on");
	is_str(csv("a,b\r\nc,d\r\n"), "L1:[a][b] L2:[c][d]", "CRLF line ends");
	is_str(csv("\"x\r\ny\",z\r\nw,v\r\n"), "L1:[x\r\ny][z] L3:[w][v]",
	    "CRLF inside quotes kept; next record on line 3");
	is_str(csv("a\rb,c\n"), "L1:[a\rb][c]", "a lone CR is data");
	is_str(csv("a,,c,\n,\n"), "L1:[a][-][c][-] L2:[-][-]",
	    "empty fields are missing (NULL)");
	is_str(csv("ab\"c,d\n"), "L1:[ab\"c][d]",
	    "a quote inside an unquoted field is data");
	is_str(csv("\"ab\"c,d\n"), "L1:[abc][d]",
	    "text after a closing quote is kept");
	is_str(csv("x,y"), "L1:[x][y]", "last record without a line end");
	is_str(csv("x,"), "L1:[x][-]", "last field empty at the end of input");
	is_str(csv("\n\na,b\n\r\n\nc,d\n\n"), "L3:[a][b] L6:[c][d]",
	    "blank lines skipped, still counted");
	is_str(csv(""), "", "empty input: no records");
	is_str(csv("a,b\n\"open,c\nd,e\n"), "L1:[a][b] L2:ERR",
	    "an unclosed quote is a bad record at its line");
	is_str(csv("a|b|\"c|d\"\n"), "L1:[a|b|\"c|d\"]",
	    "the default delimiter is a comma");
	is_str(dump("a|b|\"c|d\"\n", FMT_CSV, "|", 0), "L1:[a][b][c|d]",
	    "delimiter |");
	is_str(dump("a;\"b;c\";\n", FMT_CSV, ";", 0), "L1:[a][b;c][-]",
	    "delimiter ;");
}

static void
test_unclosed(void)
{
	const char *s = "id,v\n1,ok\n2,\"never closed\n3,x\n";
	struct reader_opts o = { FMT_CSV, NULL, 1 };
	struct reader *r;
	struct err e;
	const char *raw;
	size_t len;

	err_clear(&e);
	r = reader_open_mem("bad.csv", s, strlen(s), &o, &e);
	ok(r != NULL && reader_next(r, &e) == 1, "first record read");
	err_clear(&e);
	is_int(reader_next(r, &e), -1, "unclosed quote: -1");
	ok(e.code == ERR_PARSE && strstr(e.msg, "bad.csv:3:") != NULL &&
	    strstr(e.msg, "quote") != NULL, "the message names the file, "
	    "line 3 and the quote: %s", e.msg);
	is_int(reader_line(r), 3, "reader_line of the bad record");
	raw = reader_raw(r, &len);
	ok(len == 19 && memcmp(raw, "2,\"never closed\n3,x", 19) == 0,
	    "reader_raw: the rest of the input, without its last line end");
	is_int(reader_next(r, &e), 0, "then the end of input");
	reader_close(r);
}

static void
test_header(void)
{
	const char *s = "user,time,type\nu1,2024-01-01,view\nu2,,buy,extra\n";
	struct reader_opts o = { FMT_CSV, NULL, 1 };
	struct reader *r;
	struct err e;
	size_t len;
	const char *raw;

	is_str(dump(s, FMT_CSV, NULL, 1),
	    "L2:[u1][2024-01-01][view] L3:[u2][-][buy][extra]",
	    "header line is not a record; lines still count it");
	is_str(colnames(s, FMT_CSV, NULL, 1), "user,time,type",
	    "header names the columns");
	is_str(colnames("a,b\n1,2\n3,4,5,6\n", FMT_CSV, NULL, 0), "1,2,3,4",
	    "no header: columns named 1, 2, ... as wide as the widest record");
	is_str(colnames("\xef\xbb\xbfid,name\n1,x\n", FMT_CSV, NULL, 1),
	    "id,name", "a UTF-8 BOM before the header is dropped");
	is_str(colnames("\xef\xbb\xbf\"id\",\"name\"\n1,x\n", FMT_CSV, NULL, 1),
	    "id,name", "a BOM before a quoted header is dropped");
	is_str(dump("\xef\xbb\xbf" "00001 19970101\n", FMT_CSV, "ws", 0),
	    "L1:[00001][19970101]", "a BOM before the first record (no "
	    "header) is dropped");
	is_str(dump("\xef\xbb\xbf{\"a\":1}\n", FMT_JSONL, NULL, 0), "L1:[1]",
	    "a BOM before the first JSON line is dropped");
	is_str(colnames(" a , b\t,c\n1,2,3\n", FMT_CSV, NULL, 1), "a,b,c",
	    "blanks around header names trimmed");

	err_clear(&e);
	r = reader_open_mem("m", s, strlen(s), &o, &e);
	reader_next(r, &e);
	is_int(reader_column(r, "type"), 2, "reader_column by name");
	is_int(reader_column(r, "nope"), -1, "reader_column: unknown name");
	is_int(reader_column(r, "#1"), 0, "reader_column: #1 is the first");
	is_int((int64_t)reader_width(r), 3, "reader_width");
	raw = reader_raw(r, &len);
	ok(len == 18 && memcmp(raw, "u1,2024-01-01,view", 18) == 0,
	    "reader_raw: the record without its line end");
	reader_next(r, &e);
	is_int((int64_t)reader_width(r), 4, "reader_width of a wider record");
	is_str(reader_field(r, 4), NULL, "a field past the record is NULL");
	reader_close(r);
}

static void
test_delims(void)
{
	is_str(dump("a\tb c\t\td\n", FMT_CSV, "\t", 0), "L1:[a][b c][-][d]",
	    "tab delimiter; a blank is data");
	is_str(dump("a\tb\n", FMT_CSV, "tab", 0), "L1:[a][b]",
	    "delimiter 'tab'");
	is_str(dump("a\tb\n", FMT_CSV, "\\t", 0), "L1:[a][b]",
	    "delimiter '\\t' as typed in a shell");
	is_str(dump("1::1193::5::978300760\n2::a:b::::x\n", FMT_CSV, "::", 0),
	    "L1:[1][1193][5][978300760] L2:[2][a:b][-][x]",
	    "delimiter '::'; a single ':' is data");
	is_str(dump("a::b:\n", FMT_CSV, "::", 0), "L1:[a][b:]",
	    "'::' with a colon at the end of the line");
	is_str(dump("   00001   19970101     1    11.77\r\n00002 19970112\t2 "
	    "89.00  \r\n", FMT_CSV, "ws", 0),
	    "L1:[00001][19970101][1][11.77] L2:[00002][19970112][2][89.00]",
	    "runs of blanks, leading and trailing blanks, CRLF");
	is_str(dump("1 6393\n1 13504\n\n2 7\n", FMT_CSV, "ws", 0),
	    "L1:[1][6393] L2:[1][13504] L4:[2][7]", "'user item' lines");
	is_str(dump("\"a b\"  c\n", FMT_CSV, "ws", 0), "L1:[a b][c]",
	    "quoted field with blanks under ws");
	is_str(dump("a<>b<>\"c<>d\"\n", FMT_CSV, "<>", 0), "L1:[a][b][c<>d]",
	    "any multi-character delimiter");
	is_str(dump("x", FMT_CSV, "", 0), "OPEN FAILED", "empty delimiter "
	    "refused");
	is_str(dump("x", FMT_CSV, "\"", 0), "OPEN FAILED",
	    "a quote as delimiter refused");
}

static void
test_jsonl(void)
{
	const char *s =
	    "{\"user\":\"u1\",\"n\":3,\"f\":1.5,\"b\":true,\"z\":null,"
	    "\"o\":{\"a\":[1,2]}}\n"
	    "\n"
	    "{\"n\":-4,\"user\":\"u2\",\"big\":1700000000123,\"c\":19.99,"
	    "\"b\":false,\"s\":\"caf\xc3\xa9 \\\"q\\\"\"}\r\n"
	    "[1,2]\n"
	    "{\"user\": broken\n"
	    "  \n"
	    "{}\n"
	    "{\"user\":\"u3\",\"f\":0.1,\"t\":1e300}";

	is_str(dump(s, FMT_JSONL, NULL, 0),
	    "L1:[u1][3][1.5][true][-][{\"a\":[1,2]}] "
	    "L3:[u2][-4][-][false][-][-][1700000000123][19.99]"
	    "[caf\xc3\xa9 \"q\"] "
	    "L4:ERR L5:ERR L7:[-][-][-][-][-][-][-][-][-] "
	    "L8:[u3][-][0.1][-][-][-][-][-][-][1e+300]",
	    "JSON Lines: strings, numbers, booleans, null, nested; blank "
	    "lines skipped; a non-object and bad JSON are bad records and "
	    "reading goes on; {} is a record of missing fields");
	is_str(colnames(s, FMT_JSONL, NULL, 0), "user,n,f,b,z,o,big,c,s,t",
	    "JSON keys become columns in order of appearance");
	{
		struct reader_opts o = { FMT_JSONL, NULL, 0 };
		struct reader *r;
		struct err e;
		int rc;

		err_clear(&e);
		r = reader_open_mem("x.jsonl", s, strlen(s), &o, &e);
		reader_next(r, &e);
		reader_next(r, &e);
		err_clear(&e);
		rc = reader_next(r, &e);
		ok(rc == -1 && strstr(e.msg, "x.jsonl:4:") &&
		    strstr(e.msg, "object"), "a non-object line: -1, file, "
		    "line 4: %s", e.msg);
		err_clear(&e);
		rc = reader_next(r, &e);
		ok(rc == -1 && strstr(e.msg, "x.jsonl:5:") &&
		    strstr(e.msg, "JSON"), "bad JSON: -1, line 5: %s", e.msg);
		is_int(reader_column(r, "newkey"), 9,
		    "reader_column registers a JSON key not seen yet");
		reader_close(r);
	}
}

/* Many records, so that records and delimiters cross the window. */
static void
test_big(void)
{
	struct reader_opts o = { FMT_CSV, "::", 0 };
	struct reader *r;
	struct buf b;
	struct err e;
	int64_t n = 0, sum = 0, badline = 0, i;
	char *long_field;
	int rc, okay = 1;

	buf_init(&b);
	for (i = 0; i < 150000; i++)
		buf_printf(&b, "%lld::item%lld::%s\n", (long long)i,
		    (long long)i * 7, i % 3 ? "x" : "");
	err_clear(&e);
	r = reader_open_mem("big", b.data, b.len, &o, &e);
	while ((rc = reader_next(r, &e)) == 1) {
		char want[32];
		const char *f0 = reader_field(r, 0);

		snprintf(want, sizeof(want), "item%lld", (long long)n * 7);
		if (f0 == NULL || atoll(f0) != n || reader_line(r) != n + 1 ||
		    strcmp(reader_field(r, 1), want) != 0 ||
		    (reader_field(r, 2) == NULL) != (n % 3 == 0) ||
		    reader_nfields(r) != 3) {
			if (okay)
				diag("record %lld wrong at line %lld",
				    (long long)n, (long long)reader_line(r));
			okay = 0;
		}
		sum += atoll(f0);
		n++;
	}
	ok(rc == 0 && n == 150000 && okay && sum == 149999LL * 150000 / 2,
	    "150000 '::' records across the read window, each intact");
	ok(reader_pos(r) == (int64_t)b.len, "reader_pos at the end is the "
	    "input size");
	reader_close(r);

	/* one quoted field of 1.5 MB with 3000 line ends inside */
	buf_reset(&b);
	buf_adds(&b, "head,1\n\"");
	for (i = 0; i < 3000; i++) {
		char chunk[500];

		memset(chunk, 'a' + i % 26, sizeof(chunk) - 1);
		chunk[sizeof(chunk) - 1] = '\n';
		buf_add(&b, chunk, sizeof(chunk));
	}
	buf_adds(&b, "\",2\ntail,3\n");
	o.delim = ",";
	r = reader_open_mem("long", b.data, b.len, &o, &e);
	rc = reader_next(r, &e);
	ok(rc == 1 && strcmp(reader_field(r, 0), "head") == 0, "record "
	    "before a long one");
	rc = reader_next(r, &e);
	long_field = rc == 1 ? xstrdup(reader_field(r, 0)) : NULL;
	ok(rc == 1 && strlen(long_field) == 1500000 &&
	    long_field[499] == '\n' && long_field[500] == 'b' &&
	    long_field[1499999] == '\n' &&
	    strcmp(reader_field(r, 1), "2") == 0 && reader_line(r) == 2,
	    "a 1.5 MB quoted field with 3000 line ends, from line 2");
	free(long_field);
	rc = reader_next(r, &e);
	ok(rc == 1 && strcmp(reader_field(r, 0), "tail") == 0 &&
	    reader_line(r) == 3003, "the next record is on line 3003");
	reader_close(r);

	/* a record just under the 4 MiB limit is still read */
	buf_reset(&b);
	buf_adds(&b, "a,\"");
	for (i = 0; i < 4000; i++) {
		char chunk[1000];

		memset(chunk, 'y', sizeof(chunk));
		buf_add(&b, chunk, sizeof(chunk));
	}
	buf_adds(&b, "\"\nb,c\n");
	r = reader_open_mem("large", b.data, b.len, &o, &e);
	rc = reader_next(r, &e);
	ok(rc == 1 && strlen(reader_field(r, 1)) == 4000000 &&
	    reader_next(r, &e) == 1 && strcmp(reader_field(r, 1), "c") == 0,
	    "a record of 4,000,000 bytes is read");
	reader_close(r);

	/* an unclosed quote over more than 4 MiB: an error, not a hang */
	buf_reset(&b);
	buf_adds(&b, "a,\"");
	for (i = 0; i < 5 * 1024; i++) {
		char chunk[1024];

		memset(chunk, 'z', sizeof(chunk));
		buf_add(&b, chunk, sizeof(chunk));
	}
	r = reader_open_mem("runaway", b.data, b.len, &o, &e);
	err_clear(&e);
	rc = reader_next(r, &e);
	ok(rc == -2 && e.code == ERR_LIMIT && strstr(e.msg, "runaway:1:"),
	    "a runaway quoted field stops at the record limit: %s", e.msg);
	reader_close(r);
	(void)badline;
	buf_release(&b);
}

/* The file readers: plain and gzip, detected by content. */
static void
test_files(void)
{
	const char *td = getenv("TMPDIR");
	char dir[256], plain[300], gz[300];
	const char *s = "c,t\r\n\"x,1\",2\r\ny,3\r\n";
	struct reader_opts o = { FMT_CSV, NULL, 1 };
	struct reader *r;
	struct err e;
	gzFile g;
	FILE *fp;
	char *d;

	snprintf(dir, sizeof(dir), "%s/t-csv.XXXXXX", td && *td ? td : "/tmp");
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(plain, sizeof(plain), "%s/a.csv", dir);
	snprintf(gz, sizeof(gz), "%s/a.csv.gz", dir);
	fp = fopen(plain, "wb");
	fputs(s, fp);
	fclose(fp);
	g = gzopen(gz, "wb");
	gzputs(g, s);
	gzclose(g);

	err_clear(&e);
	r = reader_open(plain, &o, &e);
	d = r ? dump_reader(r) : xstrdup("OPEN FAILED");
	is_str(d, "L2:[x,1][2] L3:[y][3]", "a plain file");
	free(d);
	reader_close(r);
	r = reader_open(gz, &o, &e);
	d = r ? dump_reader(r) : xstrdup("OPEN FAILED");
	is_str(d, "L2:[x,1][2] L3:[y][3]", "the same file gzip-compressed");
	free(d);
	reader_close(r);
	err_clear(&e);
	snprintf(plain, sizeof(plain), "%s/missing.csv", dir);
	r = reader_open(plain, &o, &e);
	ok(r == NULL && e.code == ERR_IO && strstr(e.msg, "missing.csv"),
	    "a missing file: ERR_IO naming it: %s", e.msg);
	snprintf(plain, sizeof(plain), "%s/a.csv", dir);
	unlink(plain);
	unlink(gz);
	rmdir(dir);
}

/*
 * Lines without quotes take the reader's fast path (the line split at
 * its delimiters in one go); a quote sends a line down the general path.
 * Random records written both ways, plain and with one field quoted,
 * must read the same: the same fields, missing fields and line numbers,
 * and the plain one's raw text is the line without its line end. Empty
 * fields, blanks, a carriage return inside a field (not at the end of
 * the line: unquoted, that is CRLF), CRLF and UTF-8
 * occur; 30,000 records cross the reader's window many times.
 */
static void
test_fast_path(void)
{
	static const char *const bits[] = { "a", "bc", " ", "\r", "\xc2\xa3",
	    "12", "x y", "" };
	struct reader_opts o = { FMT_CSV, ",", 0 };
	struct buf plain, quoted, line;
	struct reader *r;
	struct err e;
	uint64_t s = 12345;
	char *dp, *dq;
	int i, j, k, nf, rawok = 1, rc;
	size_t rawlen;
	const char *raw;
	char **lines;

	buf_init(&plain);
	buf_init(&quoted);
	buf_init(&line);
	lines = calloc(30000, sizeof(*lines));
	for (i = 0; i < 30000; i++) {
		int q;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		nf = 1 + (int)(s >> 60) % 6;
		q = (int)(s >> 40) % nf;
		buf_reset(&line);
		buf_adds(&line, "");
		for (j = 0; j < nf; j++) {
			struct buf f;

			buf_init(&f);
			buf_adds(&f, "");
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			for (k = 0; k < (int)(s >> 61); k++)
				buf_adds(&f, bits[(s >> (8 + 3 * k)) & 7]);
			/* a field of only blanks and CRs would be a blank
			 * line when it is the only one: keep a letter */
			if (nf == 1)
				buf_adds(&f, "z");
			/* nor end the line in a CR: unquoted, that is CRLF */
			if (j == nf - 1 && f.len > 0 && f.data[f.len - 1] == '\r')
				buf_adds(&f, "z");
			if (j > 0) {
				buf_addc(&plain, ',');
				buf_addc(&quoted, ',');
				buf_addc(&line, ',');
			}
			buf_adds(&plain, f.data);
			buf_adds(&line, f.data);
			if (j == q)
				buf_printf(&quoted, "\"%s\"", f.data);
			else
				buf_adds(&quoted, f.data);
			buf_release(&f);
		}
		lines[i] = strdup(line.data);
		buf_adds(&plain, s & 1 ? "\r\n" : "\n");
		buf_adds(&quoted, s & 1 ? "\r\n" : "\n");
	}
	err_clear(&e);
	r = reader_open_mem("plain", plain.data, plain.len, &o, &e);
	dp = dump_reader(r);
	reader_close(r);
	r = reader_open_mem("quoted", quoted.data, quoted.len, &o, &e);
	dq = dump_reader(r);
	reader_close(r);
	ok(strcmp(dp, dq) == 0, "30,000 random records: the fast path reads "
	    "what the general path reads");
	r = reader_open_mem("plain", plain.data, plain.len, &o, &e);
	for (i = 0; (rc = reader_next(r, &e)) == 1; i++) {
		raw = reader_raw(r, &rawlen);
		if (i >= 30000 || rawlen != strlen(lines[i]) ||
		    memcmp(raw, lines[i], rawlen) != 0 ||
		    reader_line(r) != i + 1) {
			if (rawok)
				diag("record %d: raw '%.*s', line %lld", i,
				    (int)rawlen, raw,
				    (long long)reader_line(r));
			rawok = 0;
		}
	}
	reader_close(r);
	ok(rawok && i == 30000 && rc == 0, "every record's raw text is its "
	    "line, and its line number is right (%d records)", i);
	for (i = 0; i < 30000; i++)
		free(lines[i]);
	free(lines);
	free(dp);
	free(dq);
	buf_release(&plain);
	buf_release(&quoted);
	buf_release(&line);
}

/*
 * Plain decimals take a fast path (integer digits over a power of ten);
 * it must give strtod's double, bit for bit, and leave everything else
 * (commas, currency, exponents, 16 digits and more, a bare point) to
 * the general path, which still reads it.
 */
static void
test_numbers(void)
{
	static const char *const other[] = { "1,234.5", "$12.50",
	    "\xc2\xa3" "3.20", "1e3", " 7 ", "5.", ".5", "-.5",
	    "1234567890123456", "0.1234567890123456", "+4", "-0" };
	static const double other_v[] = { 1234.5, 12.5, 3.2, 1000, 7, 5,
	    .5, -.5, 1234567890123456.0, 0.1234567890123456, 4, -0.0 };
	uint64_t r = 4242;
	int i, same = 1, others = 1;
	char buf[64];
	double a, b;

	for (i = 0; i < 200000; i++) {
		int nd, nf, k;
		size_t n = 0;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		nd = 1 + (int)(r >> 60) % 15;
		nf = (int)(r >> 56) % (nd + 1);
		if (r & 1)
			buf[n++] = '-';
		for (k = 0; k < nd; k++) {
			if (k == nd - nf && nf > 0) {
				if (k == 0)
					buf[n++] = '0';
				buf[n++] = '.';
			}
			buf[n++] = (char)('0' + (r >> (2 * k + 3)) % 10);
		}
		buf[n] = '\0';
		b = strtod(buf, NULL);
		if (import_parse_num(buf, &a) != 0 ||
		    memcmp(&a, &b, sizeof(a)) != 0) {
			if (same)
				diag("%s: %.17g, strtod %.17g", buf, a, b);
			same = 0;
		}
	}
	ok(same, "200,000 random plain decimals read as strtod reads them, "
	    "bit for bit");
	for (i = 0; i < (int)(sizeof(other) / sizeof(other[0])); i++)
		if (import_parse_num(other[i], &a) != 0 ||
		    memcmp(&a, &other_v[i], sizeof(a)) != 0) {
			diag("%s: %.17g", other[i], a);
			others = 0;
		}
	ok(others && import_parse_num("12a", &a) < 0 &&
	    import_parse_num("-", &a) < 0 && import_parse_num("1.2.3", &a) < 0,
	    "commas, currency, exponents, long and bare-point numbers by the "
	    "general path; '12a', '-' and '1.2.3' refused");
}

int
main(void)
{
	plan(69);
	test_quotes();
	test_unclosed();
	test_header();
	test_delims();
	test_jsonl();
	test_big();
	test_fast_path();
	test_numbers();
	test_files();
	return exit_status();
}
