/*
 * t-keys.c: the pure parts of the explorer. Key names both ways, the key
 * tables (every bound action has help, no key bound twice in a table),
 * key scripts (every step kind, errors naming the line), the glyphs of
 * bars and signed heat bars in UTF-8 and ASCII, and number formatting.
 */
#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keys.h"
#include "render.h"
#include "tap.h"

/* Every table, for the checks over all of them. */
static const struct keymap *const maps[] = {
	&keys_global, &keys_customers, &keys_segments, &keys_journey,
	&keys_model, &keys_help
};
#define N_MAPS	(int)(sizeof(maps) / sizeof(maps[0]))

/* The steps of a script as one line: "K65 R60x20 D:x S3 M1@5,2". */
static void
script_str(const char *text, char *out, size_t len, struct err *e)
{
	struct keyscript *ks = keys_script_parse(text, "test", e);
	struct keys_step st;
	size_t used = 0;

	out[0] = '\0';
	if (ks == NULL) {
		snprintf(out, len, "error");
		return;
	}
	while (keys_script_next(ks, &st) && used < len) {
		switch (st.kind) {
		case STEP_KEY:
			used += (size_t)snprintf(out + used, len - used, "K%d ",
			    st.key);
			break;
		case STEP_RESIZE:
			used += (size_t)snprintf(out + used, len - used,
			    "R%dx%d ", st.cols, st.rows);
			break;
		case STEP_DUMP:
			used += (size_t)snprintf(out + used, len - used,
			    "D:%s ", st.label);
			break;
		case STEP_STEPS:
			used += (size_t)snprintf(out + used, len - used, "S%d ",
			    st.n);
			break;
		case STEP_MOUSE:
			used += (size_t)snprintf(out + used, len - used,
			    "M%d@%d,%d ", st.mouse, st.x, st.y);
			break;
		}
	}
	keys_script_free(ks);
}

/* The checks. */
int
main(void)
{
	char buf[512], want[512], nm[32];
	struct err e;
	int key, i, a, dup, nohelp, neg;

	setlocale(LC_ALL, "C");
	plan(32);

	/* names */
	ok(keys_from_name("Enter", &key) == 0 && key == '\n', "Enter is a "
	    "newline");
	ok(keys_from_name("^L", &key) == 0 && key == 12, "^L is 12");
	ok(keys_from_name("q", &key) == 0 && key == 'q', "a character is "
	    "itself");
	ok(keys_from_name("F1", &key) == 0 && keys_from_name("F13",
	    &key) < 0, "F1 exists, F13 does not");
	ok(keys_from_name("pgdn", &key) == 0 && strcmp(keys_name(key, nm,
	    sizeof(nm)), "PgDn") == 0, "names are case-blind, written "
	    "canonically");
	ok(keys_from_name("Bogus", &key) < 0 && keys_from_name("qq",
	    &key) < 0, "unknown names and two characters are refused");
	is_str(keys_name(KEYS_CTRL('b'), nm, sizeof(nm)), "^B", "^B's name");
	is_str(keys_name(' ', nm, sizeof(nm)), "Space", "Space's name");

	/* the tables */
	dup = nohelp = 0;
	for (i = 0; i < N_MAPS; i++) {
		const struct keybind *b, *c;

		for (b = maps[i]->b; b->key != 0; b++) {
			if (keys_action_help(b->act) == NULL)
				nohelp++;
			for (c = b + 1; c->key != 0; c++)
				if (c->key == b->key)
					dup++;
		}
	}
	is_int(dup, 0, "no key is bound twice in a table");
	is_int(nohelp, 0, "every bound action has a help text");
	is_int(keys_lookup(&keys_global, 'Q'), ACT_QUIT, "Q quits");
	is_int(keys_lookup(&keys_journey, 'm'), ACT_METHOD, "m: the method");
	is_int(keys_lookup(&keys_journey, 'x'), ACT_MASK, "x: what-if");
	is_int(keys_lookup(&keys_customers, 'x'), ACT_NONE, "x: nothing on "
	    "the customers screen");
	is_str(keys_for(&keys_global, ACT_UP, buf, sizeof(buf)), "Up k",
	    "up: Up and k");
	is_str(keys_for(&keys_global, ACT_HELP, buf, sizeof(buf)), "? F1",
	    "help: ? and F1");
	is_str(keys_for(&keys_global, ACT_ENTER, buf, sizeof(buf)), "Enter",
	    "Enter, its three codes named once");
	for (a = 0, i = 0; a < ACT_N; a++)
		i += strcmp(keys_action_name((enum action)a), "") == 0;
	is_int(i, 0, "every action has a name");
	is_str(keys_action_name(ACT_PGDN), "pgdn", "action names are lower "
	    "case");

	/* scripts */
	err_clear(&e);
	script_str("# a comment\n\nEnter\nj\nresize 60x20\ndump two words\n"
	    "steps 3\ntype ab\nrepeat 2 Down\nclick 5 2\n^L\n", buf,
	    sizeof(buf), &e);
	snprintf(want, sizeof(want), "K10 K106 R60x20 D:two words S3 K97 K98 "
	    "K%d K%d M0@5,2 K12 ", KEYS_FN + 0402, KEYS_FN + 0402);
	is_str(buf, want, "a script: keys, resize, dump, steps, type, repeat, "
	    "click, ^L");
	err_clear(&e);
	script_str("j\nk\nwhat\n", buf, sizeof(buf), &e);
	ok(strcmp(buf, "error") == 0 && e.code == ERR_PARSE &&
	    strstr(e.msg, "line 3: 'what'") != NULL, "a bad step names its "
	    "line (%s)", e.msg);
	err_clear(&e);
	script_str("resize 0x20\n", buf, sizeof(buf), &e);
	ok(strcmp(buf, "error") == 0 && strstr(e.msg, "line 1") != NULL,
	    "resize 0x20 is refused");
	err_clear(&e);
	script_str("#\n# x\n", buf, sizeof(buf), &e);
	is_str(buf, "", "comments only: no steps");

	/* bars */
	render_bar_string(1, 4, 0.5, buf);
	is_str(buf, "\u2588\u2588  ", "half of 4 cells: two full blocks");
	render_bar_string(1, 4, 0.5625, buf);
	is_str(buf, "\u2588\u2588\u258e ", "18 of 32 eighths: a quarter "
	    "block after");
	render_bar_string(0, 4, 0.53125, buf);
	is_str(buf, "##. ", "ASCII: '#' cells, a '.' for a small part");
	render_bar_string(0, 3, 0.0, buf);
	is_str(buf, "   ", "zero: blanks");
	render_heat_string(1, 7, 1.0, 1.0, buf, &neg);
	is_str(buf, "   \u2502\u2588\u2588\u2588", "signed +max: the right "
	    "half full");
	render_heat_string(1, 7, -0.5, 1.0, buf, &neg);
	ok(strcmp(buf, " \u258c\u2588\u2502   ") == 0 && neg == 1,
	    "signed -half: a block by the rule, the part cell beyond it to "
	    "be drawn reversed");
	render_heat_string(0, 7, -1.0, 1.0, buf, &neg);
	is_str(buf, "<<<|   ", "ASCII signed: '<' to the left");

	/* numbers */
	is_str(render_fmt_int(1234567, nm, sizeof(nm)), "1,234,567",
	    "thousands separators");
	is_str(render_fmt_int(-1000, nm, sizeof(nm)), "-1,000", "negative");
	return exit_status();
}
