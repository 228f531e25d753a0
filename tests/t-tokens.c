/*
 * t-tokens.c: MODEL.md "Inputs". The gap and amount tokens at and
 * around every power of two, clamping, negative and missing values;
 * the vocabularies (reserved entries, lookups, the checks of complete
 * lists as a model file holds them); window selection with a mask and
 * a length cut; tokenising a window, where a masked event is exactly an
 * event the customer never had (gaps and positions recomputed).
 * Histories are built by hand: nothing here opens a store.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "tokens.h"
#include "tap.h"

#define NOIDX	((size_t)-1)	/* sentinel: a slot select must not touch */

/* The expected gap token of 2^k - 1 + d seconds, d in {-1, 0, 1}, k >= 1. */
static int
gap_want(int k, int d)
{
	/* 1 + floor(log2(2^k + d)): k + 1 for d >= 0, k for d = -1 */
	int g = d < 0 ? k : k + 1;

	return g < 31 ? g : 31;
}

/* Gap tokens: exact values, every power of two, clamping. */
static void
test_gap(void)
{
	static const struct {
		int64_t	 dt;
		int	 want;
	} cases[] = {
		{ 0, 1 }, { 1, 2 }, { 2, 2 }, { 3, 3 }, { 4, 3 }, { 6, 3 },
		{ 7, 4 }, { 8, 4 }, { 59, 6 }, { 60, 6 }, { 3600, 12 },
		{ 86400, 17 }, { 1000000, 20 }, { 31536000, 25 },
		{ ((int64_t)1 << 30) - 2, 30 }, { ((int64_t)1 << 30) - 1, 31 },
		{ (int64_t)1 << 40, 31 }, { INT64_MAX - 1, 31 },
		{ INT64_MAX, 31 },
	};
	size_t i;
	int k, d, bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(tokens_gap(cases[i].dt), cases[i].want,
		    "gap of %" PRId64 " s is %d", cases[i].dt, cases[i].want);
	/* around every power of two that fits: dt = 2^k - 1 + d */
	for (k = 1; k < 63 && !bad; k++)
		for (d = -1; d <= 1; d++) {
			int64_t dt = ((int64_t)1 << k) - 1 + d;

			if (tokens_gap(dt) != gap_want(k, d)) {
				diag("gap(%" PRId64 ") = %d, want %d", dt,
				    tokens_gap(dt), gap_want(k, d));
				bad = 1;
				break;
			}
		}
	ok(!bad, "gap is min(31, 1 + floor(log2(1 + dt))) around each "
	    "power of two up to 2^62");
	/* negative dt clamps to 0: 1 + log2(1) = 1, not the first-event 0 */
	is_int(tokens_gap(-1), 1, "negative dt (-1 s) clamps to 0: token 1");
	is_int(tokens_gap(-86400), 1, "negative dt (-1 day): token 1");
	is_int(tokens_gap(INT64_MIN), 1, "INT64_MIN clamps to 0: token 1");
}

/* Amount tokens: missing, zero, signs, clamping, exactness. */
static void
test_amount(void)
{
	static const struct {
		double	 a;
		int	 want;
		const char *what;
	} cases[] = {
		{ 0.0, 0, "0" }, { -0.0, 0, "-0" }, { 1e-300, 1, "1e-300" },
		{ 0.5, 1, "0.5" }, { 0.999, 1, "0.999" }, { 1, 2, "1" },
		{ 2.99, 2, "2.99" }, { 3, 3, "3" }, { 6.999, 3, "6.999" },
		{ 7, 4, "7" }, { 19.99, 5, "19.99" }, { 100, 7, "100" },
		{ 16382, 14, "16382" }, { 16382.5, 14, "16382.5" },
		{ 16383, 15, "16383" }, { 65535.5, 15, "65535.5" },
		{ 65536, 15, "65536" }, { 1e9, 15, "1e9" },
		{ 1e308, 15, "1e308" },
		{ -0.5, 1, "-0.5" }, { -1, 2, "-1" }, { -3, 3, "-3" },
		{ -19.99, 5, "-19.99" }, { -1e9, 15, "-1e9" },
	};
	size_t i;
	int k, bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(tokens_amount(cases[i].a), cases[i].want,
		    "amount %s is %d", cases[i].what, cases[i].want);
	is_int(tokens_amount(NAN), 0, "missing amount (NAN) is 0");
	is_int(tokens_amount(-NAN), 0, "missing amount (-NAN) is 0");
	is_int(tokens_amount(INFINITY), 15, "+infinity clamps to 15");
	is_int(tokens_amount(-INFINITY), 15, "-infinity clamps to 15");
	/*
	 * exact at each power of two: 1 + a = 2^k gives k + 1, the double
	 * just below gives k (log2() in double would round that up). From
	 * k = 2: for k = 1, 1 + nextafter(1, 0) already rounds to 2.
	 */
	for (k = 2; k <= 20 && !bad; k++) {
		double a = ldexp(1.0, k) - 1, below = nextafter(a, 0);
		int w = k + 1 < 15 ? k + 1 : 15, wb = k < 15 ? k : 15;

		if (tokens_amount(a) != w || tokens_amount(below) != wb ||
		    tokens_amount(-a) != w || tokens_amount(-below) != wb) {
			diag("k %d: amount(%.17g) = %d want %d, amount(%.17g) "
			    "= %d want %d", k, a, tokens_amount(a), w, below,
			    tokens_amount(below), wb);
			bad = 1;
		}
	}
	ok(!bad, "amount is exact at and just below 2^k - 1, k = 2..20, "
	    "either sign");
}

/* Vocabularies: reserved entries, lookups, checks of full lists. */
static void
test_vocab(void)
{
	static const char *const types[] = { "view", "purchase",
	    "support_ticket" };
	static const char *const items[] = { "85123A", "22423" };
	static const char *const ftypes[] = { "<pad>", "<unk>", "view",
	    "purchase" };
	static const char *const fitems[] = { "<none>", "<unk>", "A1" };
	static const char *const duptypes[] = { "<pad>", "<unk>", "view",
	    "click", "view" };
	static const char *const dupitems[] = { "<none>", "<unk>", "A1",
	    "A1" };
	static const char *const badtype0[] = { "<unk>", "<pad>", "view" };
	static const char *const badtype1[] = { "<pad>", "<none>", "view" };
	static const char *const baditem0[] = { "<pad>", "<unk>", "A1" };
	static const char *const baditem1[] = { "<none>", "unk", "A1" };
	struct vocab *v;
	struct err e;

	v = vocab_new(types, 3, items, 2);
	ok(v != NULL, "vocab_new");
	is_int(vocab_n_types(v), 5, "types: 3 given + 2 reserved");
	is_int(vocab_n_items(v), 4, "items: 2 given + 2 reserved");
	is_str(vocab_type(v, 0), "<pad>", "type 0 is <pad>");
	is_str(vocab_type(v, 1), "<unk>", "type 1 is <unk>");
	is_str(vocab_item(v, 0), "<none>", "item 0 is <none>");
	is_str(vocab_item(v, 1), "<unk>", "item 1 is <unk>");
	is_str(vocab_type(v, 2), "view", "given types start at index 2");
	is_str(vocab_type(v, 4), "support_ticket", "last type at index 4");
	is_str(vocab_item(v, 2), "85123A", "given items start at index 2");
	is_str(vocab_item(v, 3), "22423", "last item at index 3");
	is_int(vocab_type_index(v, "view"), 2, "index of view");
	is_int(vocab_type_index(v, "purchase"), 3, "index of purchase");
	is_int(vocab_type_index(v, "support_ticket"), 4,
	    "index of support_ticket");
	is_int(vocab_type_index(v, "refund"), TOK_UNK, "unknown type -> 1");
	is_int(vocab_type_index(v, "View"), TOK_UNK,
	    "type lookup is case-sensitive");
	is_int(vocab_type_index(v, ""), TOK_UNK, "empty type name -> 1");
	ok(vocab_type_index(v, "<pad>") != TOK_PAD,
	    "an event type named <pad> never becomes padding");
	is_int(vocab_item_index(v, "85123A"), 2, "index of item 85123A");
	is_int(vocab_item_index(v, "22423"), 3, "index of item 22423");
	is_int(vocab_item_index(v, "99999"), TOK_UNK, "unknown item -> 1");
	is_int(vocab_item_index(v, "85123a"), TOK_UNK,
	    "item lookup is case-sensitive");
	is_int(vocab_item_index(v, NULL), TOK_PAD, "no item (NULL) -> 0");
	vocab_free(v);
	vocab_free(NULL);

	v = vocab_new(NULL, 0, NULL, 0);
	ok(v != NULL && vocab_n_types(v) == 2 && vocab_n_items(v) == 2 &&
	    vocab_type_index(v, "view") == TOK_UNK &&
	    vocab_item_index(v, "x") == TOK_UNK &&
	    vocab_item_index(v, NULL) == TOK_PAD,
	    "empty vocabulary: only the reserved entries");
	vocab_free(v);

	err_clear(&e);
	v = vocab_new_full(ftypes, 4, fitems, 3, &e);
	ok(v != NULL, "vocab_new_full of complete lists: %s",
	    v ? "ok" : e.msg);
	is_int(v ? vocab_n_types(v) : -1, 4, "full: 4 types, reserved "
	    "included");
	is_int(v ? vocab_n_items(v) : -1, 3, "full: 3 items, reserved "
	    "included");
	ok(v != NULL && strcmp(vocab_type(v, 0), "<pad>") == 0 &&
	    strcmp(vocab_type(v, 1), "<unk>") == 0 &&
	    strcmp(vocab_type(v, 3), "purchase") == 0 &&
	    strcmp(vocab_item(v, 0), "<none>") == 0 &&
	    strcmp(vocab_item(v, 2), "A1") == 0, "full: names in index order");
	ok(v != NULL && vocab_type_index(v, "view") == 2 &&
	    vocab_type_index(v, "purchase") == 3 &&
	    vocab_type_index(v, "click") == TOK_UNK &&
	    vocab_item_index(v, "A1") == 2 &&
	    vocab_item_index(v, "B2") == TOK_UNK &&
	    vocab_item_index(v, NULL) == TOK_PAD,
	    "full: lookups, unknown and no item");
	vocab_free(v);

	err_clear(&e);
	v = vocab_new_full(duptypes, 5, fitems, 3, &e);
	ok(v == NULL && e.code == ERR_MODEL && strstr(e.msg, "'view'") &&
	    strstr(e.msg, "twice") && strstr(e.msg, "type"),
	    "a repeated type name is rejected: %s", e.msg);
	vocab_free(v);
	err_clear(&e);
	v = vocab_new_full(ftypes, 4, dupitems, 4, &e);
	ok(v == NULL && e.code == ERR_MODEL && strstr(e.msg, "'A1'") &&
	    strstr(e.msg, "twice") && strstr(e.msg, "item"),
	    "a repeated item id is rejected: %s", e.msg);
	vocab_free(v);
	err_clear(&e);
	v = vocab_new_full(badtype0, 3, fitems, 3, &e);
	ok(v == NULL && e.code == ERR_MODEL && strstr(e.msg, "<pad>") &&
	    strstr(e.msg, "type 0"),
	    "type 0 not <pad> is rejected: %s", e.msg);
	vocab_free(v);
	err_clear(&e);
	v = vocab_new_full(badtype1, 3, fitems, 3, &e);
	ok(v == NULL && e.code == ERR_MODEL && strstr(e.msg, "<unk>") &&
	    strstr(e.msg, "type 1"),
	    "type 1 not <unk> is rejected: %s", e.msg);
	vocab_free(v);
	err_clear(&e);
	v = vocab_new_full(ftypes, 4, baditem0, 3, &e);
	ok(v == NULL && e.code == ERR_MODEL && strstr(e.msg, "<none>") &&
	    strstr(e.msg, "item 0"),
	    "item 0 not <none> is rejected: %s", e.msg);
	vocab_free(v);
	err_clear(&e);
	v = vocab_new_full(ftypes, 4, baditem1, 3, &e);
	ok(v == NULL && e.code == ERR_MODEL && strstr(e.msg, "'unk'") &&
	    strstr(e.msg, "item 1"),
	    "item 1 not <unk> is rejected: %s", e.msg);
	vocab_free(v);
	err_clear(&e);
	v = vocab_new_full(ftypes, 1, fitems, 3, &e);
	ok(v == NULL && e.code == ERR_MODEL && strstr(e.msg, "type") &&
	    strstr(e.msg, "reserved"),
	    "a type list shorter than the reserved entries: %s", e.msg);
	vocab_free(v);
	err_clear(&e);
	v = vocab_new_full(ftypes, 4, fitems, 0, &e);
	ok(v == NULL && e.code == ERR_MODEL && strstr(e.msg, "item") &&
	    strstr(e.msg, "reserved"),
	    "an empty item list: %s", e.msg);
	vocab_free(v);
}

/* idx[0..n) equals want[0..n) and idx[n..cap) was left alone. */
static int
idx_is(const size_t *idx, size_t cap, size_t n, const size_t *want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (idx[i] != want[i])
			return 0;
	for (; i < cap; i++)
		if (idx[i] != NOIDX)
			return 0;
	return 1;
}

/* Fill idx with the sentinel, then select. */
static size_t
sel(size_t n, const unsigned char *mask, size_t max_len, size_t *idx,
    size_t cap)
{
	size_t i;

	for (i = 0; i < cap; i++)
		idx[i] = NOIDX;
	return tokens_select(n, mask, max_len, idx);
}

/* Window selection: the mask first, then the latest max_len. */
static void
test_select(void)
{
	static const size_t all[] = { 0, 1, 2, 3, 4 }, last3[] = { 2, 3, 4 },
	    unmasked[] = { 0, 2, 3 }, last2[] = { 2, 3 },
	    slid[] = { 1, 2, 3 }, one[] = { 4 };
	static const unsigned char mask[] = { 0, 1, 0, 0, 1 },
	    lastmask[] = { 0, 0, 0, 0, 1 }, allmask[] = { 1, 1, 1, 1, 1 },
	    nomask[] = { 0, 0, 0, 0, 0 };
	size_t idx[8], n;

	n = sel(5, NULL, 8, idx, 8);
	ok(n == 5 && idx_is(idx, 8, n, all), "no mask, room for all: the "
	    "whole history, oldest first");
	n = sel(5, nomask, 5, idx, 8);
	ok(n == 5 && idx_is(idx, 8, n, all), "a mask of zeros, max_len = n: "
	    "the whole history");
	n = sel(5, NULL, 3, idx, 8);
	ok(n == 3 && idx_is(idx, 8, n, last3), "max_len 3 keeps the latest "
	    "3, oldest first, and writes no further");
	n = sel(5, NULL, 1, idx, 8);
	ok(n == 1 && idx_is(idx, 8, n, one), "max_len 1 keeps the latest");
	n = sel(5, mask, 8, idx, 8);
	ok(n == 3 && idx_is(idx, 8, n, unmasked), "masked events are left "
	    "out");
	n = sel(5, mask, 2, idx, 8);
	ok(n == 2 && idx_is(idx, 8, n, last2), "mask and max_len: the latest "
	    "2 unmasked");
	n = sel(5, lastmask, 3, idx, 8);
	ok(n == 3 && idx_is(idx, 8, n, slid), "masking the latest event "
	    "before the cut lets an older one into the window");
	n = sel(5, allmask, 8, idx, 8);
	ok(n == 0 && idx_is(idx, 8, 0, NULL), "all masked: an empty window");
	n = sel(0, NULL, 8, idx, 8);
	ok(n == 0 && idx_is(idx, 8, 0, NULL), "empty history: empty window");
	n = sel(5, NULL, 0, idx, 8);
	ok(n == 0 && idx_is(idx, 8, 0, NULL), "max_len 0: empty window");
}

/* One event of a hand-made history. */
static struct store_hevent
hev(int64_t id, int64_t ts, const char *type, const char *item, double amt)
{
	struct store_hevent x;

	memset(&x, 0, sizeof(x));
	x.id = id;
	x.ts = ts;
	x.type = type;
	x.item = item;
	x.amount = amt;
	x.text = NULL;
	return x;
}

/* out[0..n) equals want[0..n) field by field; diag the first difference. */
static int
toks_are(const struct tok *out, const struct tok *want, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (out[k].type != want[k].type ||
		    out[k].item != want[k].item ||
		    out[k].gap != want[k].gap ||
		    out[k].amount != want[k].amount ||
		    out[k].pos != want[k].pos) {
			diag("event %zu: got (%d %d %d %d %d), want "
			    "(%d %d %d %d %d)", k, out[k].type, out[k].item,
			    out[k].gap, out[k].amount, out[k].pos,
			    want[k].type, want[k].item, want[k].gap,
			    want[k].amount, want[k].pos);
			return 0;
		}
	return 1;
}

/* Tokenising windows, masked, cut and whole. */
static void
test_window(void)
{
	static const char *const types[] = { "view", "purchase",
	    "support_ticket" };
	static const char *const items[] = { "A1", "B2" };
	/* (type, item, gap, amount, pos) */
	static const struct tok full[] = {
		{ 2, 2, 0, 0, 0 },	/* first: gap 0, amount missing */
		{ 3, 3, 1, 5, 1 },	/* same second: gap(0) = 1; 19.99 */
		{ 4, 0, 7, 0, 2 },	/* 100 s: 1 + 6; no item, amount 0 */
		{ 1, 1, 3, 3, 3 },	/* 3 s: 1 + 1; unknown; -3 */
		{ 2, 2, 20, 15, 4 },	/* 10^6 s: 1 + 19; 1e9 clamps */
	};
	/* event 2 masked: event 3's gap is from event 1 (103 s) */
	static const struct tok masked[] = {
		{ 2, 2, 0, 0, 0 }, { 3, 3, 1, 5, 1 }, { 1, 1, 7, 3, 2 },
		{ 2, 2, 20, 15, 3 },
	};
	/* event 0 masked: event 1 is now the first, gap 0 */
	static const struct tok nofirst[] = {
		{ 3, 3, 0, 5, 0 }, { 4, 0, 7, 0, 1 }, { 1, 1, 3, 3, 2 },
		{ 2, 2, 20, 15, 3 },
	};
	/* the latest 2: positions from 0, the first gap 0 */
	static const struct tok cut[] = {
		{ 1, 1, 0, 3, 0 }, { 2, 2, 20, 15, 1 },
	};
	struct store_hevent ev[5], never[4];
	unsigned char mask[5];
	struct tok out[5], out2[5];
	size_t idx[5], idx2[5], n, n2;
	struct vocab *v = vocab_new(types, 3, items, 2);

	ev[0] = hev(11, 1000, "view", "A1", NAN);
	ev[1] = hev(12, 1000, "purchase", "B2", 19.99);
	ev[2] = hev(13, 1100, "support_ticket", NULL, 0);
	ev[3] = hev(14, 1103, "refund", "ZZ", -3);
	ev[4] = hev(15, 1103 + 1000000, "view", "A1", 1e9);

	n = tokens_select(5, NULL, 5, idx);
	memset(out, 0x55, sizeof(out));
	tokens_window(v, ev, idx, n, out);
	ok(n == 5 && toks_are(out, full, 5), "the whole history: types, "
	    "items, gaps, amounts, positions");

	memset(mask, 0, sizeof(mask));
	mask[2] = 1;
	n = tokens_select(5, mask, 5, idx);
	memset(out, 0x55, sizeof(out));
	tokens_window(v, ev, idx, n, out);
	ok(n == 4 && toks_are(out, masked, 4), "masking an event: the next "
	    "event's gap spans it (3 s -> 103 s: token 3 -> 7) and positions "
	    "close up");

	/* the same as a customer who never had event 2 */
	never[0] = ev[0];
	never[1] = ev[1];
	never[2] = ev[3];
	never[3] = ev[4];
	n2 = tokens_select(4, NULL, 5, idx2);
	memset(out2, 0x55, sizeof(out2));
	tokens_window(v, never, idx2, n2, out2);
	ok(n2 == n && toks_are(out, out2, n), "a masked window is exactly "
	    "the window of a customer who never had the event");

	memset(mask, 0, sizeof(mask));
	mask[0] = 1;
	n = tokens_select(5, mask, 5, idx);
	memset(out, 0x55, sizeof(out));
	tokens_window(v, ev, idx, n, out);
	ok(n == 4 && toks_are(out, nofirst, 4), "masking the first event: "
	    "the next one becomes first, gap 0 (not gap(0) = 1)");

	n = tokens_select(5, NULL, 2, idx);
	memset(out, 0x55, sizeof(out));
	tokens_window(v, ev, idx, n, out);
	ok(n == 2 && toks_are(out, cut, 2), "a max_len cut: gaps within the "
	    "window, positions from 0");

	/* a window of one event: gap 0 and position 0 whatever it is */
	idx[0] = 4;
	memset(out, 0x55, sizeof(out));
	tokens_window(v, ev, idx, 1, out);
	ok(out[0].gap == 0 && out[0].pos == 0 && out[0].type == 2 &&
	    out[0].item == 2 && out[0].amount == 15,
	    "a window of one event: gap 0, position 0");
	vocab_free(v);
}

/* Run every group; TAP on stdout, non-zero exit on failure. */
int
main(void)
{
	plan(105);
	test_gap();
	test_amount();
	test_vocab();
	test_select();
	test_window();
	return exit_status();
}
