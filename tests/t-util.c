/*
 * t-util.c: the growable buffer, JSON string escaping, the stable byte
 * hash, the string and int maps (including growth past their first
 * table) and the int set; err_set/err_prefix.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "util.h"
#include "tap.h"

/* The JSON literal of s (n bytes), as a static string. */
static const char *
json(const char *s, size_t n)
{
	static char out[256];
	struct buf b;

	buf_init(&b);
	buf_add_json_str(&b, s, n);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_release(&b);
	return out;
}

static void
test_buf(void)
{
	struct buf b;
	char big[1000];
	size_t i;
	int okay = 1;

	buf_init(&b);
	ok(b.data == NULL && b.len == 0, "buf_init: empty, no storage");
	buf_adds(&b, "abc");
	buf_addc(&b, 'd');
	buf_add(&b, "efgh", 2);
	is_str(b.data, "abcdef", "adds, addc, add append");
	is_int((int64_t)b.len, 6, "length counts the bytes");
	buf_printf(&b, "-%d-%s", 42, "x");
	is_str(b.data, "abcdef-42-x", "buf_printf appends");
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	buf_reset(&b);
	ok(b.len == 0 && b.data != NULL && b.data[0] == '\0',
	    "reset empties and keeps storage");
	for (i = 0; i < 50; i++)
		buf_add(&b, big, sizeof(big));
	is_int((int64_t)b.len, 50000, "grows past its first allocation");
	for (i = 0; i < b.len; i++)
		okay &= b.data[i] == (char)('a' + (i % 1000) % 26);
	ok(okay && b.data[b.len] == '\0', "grown contents intact and "
	    "NUL-terminated");
	buf_reset(&b);
	buf_printf(&b, "%0500d", 7);
	ok(b.len == 500 && b.data[499] == '7' && b.data[500] == '\0',
	    "buf_printf longer than the buffer");
	buf_add(&b, "\0z", 2);
	is_int((int64_t)b.len, 502, "binary bytes (a NUL) appended as is");
	buf_release(&b);
	ok(b.data == NULL && b.len == 0 && b.cap == 0, "release frees");
}

static void
test_json(void)
{
	is_str(json("plain", 5), "\"plain\"", "json: plain text quoted");
	is_str(json("", 0), "\"\"", "json: empty string");
	is_str(json("a\"b\\c", 5), "\"a\\\"b\\\\c\"",
	    "json: quote and backslash escaped");
	is_str(json("\n\r\t", 3), "\"\\n\\r\\t\"", "json: \\n \\r \\t");
	is_str(json("\x01\x1f\b\f", 4), "\"\\u0001\\u001f\\u0008\\u000c\"",
	    "json: other control bytes as \\u00XX");
	is_str(json("a\0b", 3), "\"a\\u0000b\"",
	    "json: an embedded NUL is escaped, not an end");
	is_str(json("\xc2\xa3 caf\xc3\xa9 \x7f/", 11),
	    "\"\xc2\xa3 caf\xc3\xa9 \x7f/\"",
	    "json: UTF-8, DEL and slash pass through");
	is_str(json("abcdef", 3), "\"abc\"", "json: only n bytes");
}

static void
test_hash(void)
{
	char a[64], *u;
	uint64_t h1, h2;

	/* Fixed values: content hashes are stored in imports and must not
	 * change between builds or machines. */
	is_int((int64_t)hash_bytes("", 0, 1), (int64_t)0x9ca066f1a4ab2eeaULL,
	    "hash of nothing, seed 1");
	is_int((int64_t)hash_bytes("journeyscope", 12, 0),
	    (int64_t)0x06f771ede17634fbULL, "hash of 'journeyscope'");
	is_int((int64_t)hash_bytes("0123456789abcdef", 16, 0x1234567),
	    (int64_t)0x37e7c4ba7acce613ULL, "hash of two words, a seed");
	is_int((int64_t)hash_bytes("The quick brown fox jumps", 25, 42),
	    (int64_t)0x509a244410e9dc81ULL, "hash of 25 bytes, seed 42");
	{
		/* every tail length: the values of the memcpy-tail version */
		static const uint64_t pinned[18] = {
		    0x3e278dca88014e2aULL,
		    0x07f980e96aa0d13bULL,
		    0xdf1897184a0f4d76ULL,
		    0x100579db6f412183ULL,
		    0x90f9ce49ac48a17bULL,
		    0x9e323497b6221527ULL,
		    0x924c537f0af485deULL,
		    0xa2c957a83ca8e372ULL,
		    0x897f8b87295b901dULL,
		    0x40267b02a668cef5ULL,
		    0xd3935f0672565c2fULL,
		    0x41615865210283f7ULL,
		    0x971ed898b3125565ULL,
		    0x1a88e3140cec0840ULL,
		    0xe7f33ede42fd1585ULL,
		    0x9928ef3c737260c3ULL,
		    0x995f6430dae1b9cdULL,
		    0x59b8bc6ee5f1885cULL,
		};
		int n, same = 1;

		for (n = 0; n <= 17; n++)
			same &= hash_bytes("abcdefghijklmnopqrstu", (size_t)n,
			    7) == pinned[n];
		ok(same, "hashes of 0..17 bytes (every tail length) unchanged");
	}

	ok(hash_bytes("abc", 3, 0) != hash_bytes("abc", 3, 1),
	    "the seed changes the hash");
	ok(hash_bytes("abc", 3, 0) != hash_bytes("abc\0", 4, 0),
	    "a trailing NUL changes the hash");
	ok(hash_bytes("", 0, 0) != hash_bytes("\0", 1, 0),
	    "empty and one NUL byte differ");
	ok(hash_bytes("abcdefgh", 8, 0) != hash_bytes("abcdefgi", 8, 0),
	    "one bit in a full word changes the hash");
	memset(a, 0, sizeof(a));
	u = a + 3;		/* unaligned copy of the same bytes */
	memcpy(u, "The quick brown fox jumps", 25);
	h1 = hash_bytes(u, 25, 42);
	h2 = hash_bytes("The quick brown fox jumps", 25, 42);
	ok(h1 == h2, "alignment does not matter");
	/* chaining over pieces, as file_hash does */
	h1 = hash_bytes("world", 5, hash_bytes("hello", 5, 7));
	h2 = hash_bytes("world", 5, hash_bytes("hello", 5, 7));
	ok(h1 == h2 && h1 != hash_bytes("helloworld", 10, 7),
	    "chained hashes repeat and depend on the split");
}

static void
test_smap(void)
{
	struct smap *m = smap_new();
	char key[128], longk[200];
	int64_t *v;
	int isnew = -1, i, okay = 1;

	ok(smap_get(m, "a", 1) == NULL, "smap: missing key gives NULL");
	v = smap_put(m, "a", 1, 5, &isnew);
	ok(v != NULL && *v == 5 && isnew == 1, "smap: put a new key");
	v = smap_put(m, "a", 1, 9, &isnew);
	ok(*v == 5 && isnew == 0, "smap: put an existing key keeps its value");
	*v = 11;
	v = smap_get(m, "a", 1);
	ok(v != NULL && *v == 11, "smap: value slot is writable");
	smap_put(m, "ab", 2, 2, NULL);
	smap_put(m, "", 0, 3, NULL);
	smap_put(m, "a\0b", 3, 4, NULL);
	ok(*smap_get(m, "ab", 2) == 2 && *smap_get(m, "", 0) == 3 &&
	    *smap_get(m, "a\0b", 3) == 4 && *smap_get(m, "a", 1) == 11,
	    "smap: prefixes, empty key and embedded NUL are distinct keys");
	ok(smap_get(m, "abc", 2) != NULL && smap_get(m, "abc", 3) == NULL,
	    "smap: only len bytes of the key count");
	/* keys at and around the inline limit, then far past it */
	memset(longk, 'k', sizeof(longk));
	for (i = 30; i < 200; i++)
		smap_put(m, longk, (size_t)i, 1000 + i, NULL);
	for (i = 30; i < 200; i++) {
		v = smap_get(m, longk, (size_t)i);
		okay &= v != NULL && *v == 1000 + i;
	}
	ok(okay, "smap: keys of 30..199 bytes (inline and on the heap)");
	is_int((int64_t)smap_count(m), 4 + 170, "smap: count");
	/* keys of 4..29 bytes, compared a word or two at a time: each
	 * found, with a twin of the same length one byte apart */
	okay = 1;
	for (i = 4; i < 30; i++) {
		char k1[32], k2[32];

		memset(k1, 'q', sizeof(k1));
		memcpy(k2, k1, sizeof(k2));
		k2[i / 2] = 'r';
		smap_put(m, k1, (size_t)i, 2000 + i, NULL);
		smap_put(m, k2, (size_t)i, 3000 + i, NULL);
		okay &= *smap_get(m, k1, (size_t)i) == 2000 + i &&
		    *smap_get(m, k2, (size_t)i) == 3000 + i;
	}
	ok(okay, "smap: keys of 4..29 bytes and twins one byte apart");
	is_int((int64_t)smap_count(m), 4 + 170 + 52, "smap: count again");
	/* growth: many keys, all found afterwards with their values */
	for (i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "customer-%d", i);

		v = smap_put(m, key, (size_t)n, i, &isnew);
		okay &= isnew == 1 && *v == i;
	}
	ok(okay, "smap: 20000 new keys inserted");
	is_int((int64_t)smap_count(m), 4 + 170 + 52 + 20000, "smap: count after "
	    "growth");
	for (i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "customer-%d", i);

		v = smap_get(m, key, (size_t)n);
		okay &= v != NULL && *v == i;
	}
	for (i = 30; i < 200; i++) {
		v = smap_get(m, longk, (size_t)i);
		okay &= v != NULL && *v == 1000 + i;
	}
	ok(okay && *smap_get(m, "a", 1) == 11 && smap_get(m, "customer-20000",
	    14) == NULL, "smap: every key keeps its value through rehashing");
	smap_free(m);
	smap_free(NULL);
}

struct slot3 {
	int64_t	 a, b;
	char	 c[5];
};

static void
test_imap(void)
{
	struct imap *m = imap_new(sizeof(struct slot3));
	struct slot3 *s;
	int isnew = -1, okay = 1, zero = 1;
	int64_t k, i, sum = 0, want = 0;
	size_t pos = 0, seen = 0;

	ok(imap_get(m, 7) == NULL, "imap: missing key gives NULL");
	s = imap_put(m, 7, &isnew);
	ok(s != NULL && isnew == 1 && s->a == 0 && s->b == 0 && s->c[4] == 0,
	    "imap: new slot is zeroed");
	s->a = 70;
	strcpy(s->c, "abcd");
	s = imap_put(m, 7, &isnew);
	ok(isnew == 0 && s->a == 70 && strcmp(s->c, "abcd") == 0,
	    "imap: existing slot returned with its contents");
	s = imap_put(m, 0, NULL);
	s->a = 1;
	s = imap_put(m, -5, NULL);
	s->a = 2;
	s = imap_put(m, INT64_MIN, NULL);
	s->a = 3;
	ok(((struct slot3 *)imap_get(m, 0))->a == 1 &&
	    ((struct slot3 *)imap_get(m, -5))->a == 2 &&
	    ((struct slot3 *)imap_get(m, INT64_MIN))->a == 3,
	    "imap: keys 0, negative and INT64_MIN");
	for (i = 1000; i < 31000; i++) {
		s = imap_put(m, i * 977, &isnew);
		zero &= s->a == 0 && s->b == 0;
		okay &= isnew == 1;
		s->a = i;
		s->b = -i;
	}
	ok(okay && zero, "imap: 30000 new zeroed slots");
	is_int((int64_t)imap_count(m), 30004, "imap: count after growth");
	for (i = 1000; i < 31000; i++) {
		s = imap_get(m, i * 977);
		okay &= s != NULL && s->a == i && s->b == -i;
	}
	ok(okay && ((struct slot3 *)imap_get(m, 7))->a == 70 &&
	    strcmp(((struct slot3 *)imap_get(m, 7))->c, "abcd") == 0,
	    "imap: every slot keeps its contents through rehashing");
	while ((s = imap_next(m, &pos, &k)) != NULL) {
		seen++;
		sum += k == INT64_MIN ? 0 : k;
		okay &= imap_get(m, k) == s;
	}
	for (i = 1000; i < 31000; i++)
		want += i * 977;
	want += 7 + 0 - 5;
	ok(okay && seen == 30004 && sum == want,
	    "imap_next visits every key once with its slot");
	imap_free(m);
	imap_free(NULL);
}

static void
test_iset(void)
{
	struct iset *s = iset_new();
	uint64_t i;
	int okay = 1;

	ok(iset_add(s, 42) == 1 && iset_add(s, 42) == 0,
	    "iset: new key 1, repeated key 0");
	for (i = 1; i <= 5000; i++)
		okay &= iset_add(s, i << 32 | (i * 7)) == 1;
	for (i = 1; i <= 5000; i++)
		okay &= iset_add(s, i << 32 | (i * 7)) == 0;
	ok(okay, "iset: 5000 keys added once, then known (after growth)");
	ok(iset_add(s, UINT64_MAX) == 1 && iset_add(s, UINT64_MAX) == 0,
	    "iset: the largest key");
	is_int((int64_t)iset_count(s), 5002, "iset: count");
	iset_free(s);
	iset_free(NULL);
}

static void
test_err(void)
{
	struct err e;
	char big[600];

	err_clear(&e);
	ok(e.code == ERR_OK && e.msg[0] == '\0', "err_clear");
	is_int(err_set(&e, ERR_PARSE, "%s:%d: bad", "f.csv", 3), -1,
	    "err_set returns -1");
	ok(e.code == ERR_PARSE, "err_set sets the code");
	err_prefix(&e, "import %s", "x.db");
	is_str(e.msg, "import x.db: f.csv:3: bad", "err_prefix adds context");
	is_int(err_set(NULL, ERR_IO, "nothing"), -1, "err_set accepts NULL");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&e, ERR_IO, "%s", big);
	err_prefix(&e, "ctx");
	ok(strlen(e.msg) == sizeof(e.msg) - 1 &&
	    strncmp(e.msg, "ctx: ", 5) == 0, "long messages are cut, not "
	    "overrun");
	is_str(err_name(ERR_DB), "database error", "err_name");
}

int
main(void)
{
	plan(61);
	test_buf();
	test_json();
	test_hash();
	test_smap();
	test_imap();
	test_iset();
	test_err();
	return exit_status();
}
