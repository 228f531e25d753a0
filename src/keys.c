/*
 * keys.c: the key tables and key names of the explorer, the terminal
 * key reader (curses' wide-character input, mouse events) and the
 * headless key-script reader. The tables here are the only place that
 * says which key does what: the help screen, --keys (the man page's
 * list) and the input loop read them. Prints only in keys_print.
 */
#include "config.h"
#include "keys.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "err.h"
#include "render-curses.h"
#include "util.h"

#define FN(k)	(KEYS_FN + (k))
#define ESC	27

static const char *const action_names[] = {
#define ACT_NAME(name, help) #name,
	ACTIONS(ACT_NAME)
#undef ACT_NAME
};

static const char *const action_helps[] = {
#define ACT_HELP(name, help) help,
	ACTIONS(ACT_HELP)
#undef ACT_HELP
};

/* ---- the tables ---- */

static const struct keybind global_binds[] = {
	{ FN(KEY_UP), ACT_UP, NULL }, { 'k', ACT_UP, NULL },
	{ FN(KEY_DOWN), ACT_DOWN, NULL }, { 'j', ACT_DOWN, NULL },
	{ FN(KEY_LEFT), ACT_LEFT, NULL }, { 'h', ACT_LEFT, NULL },
	{ FN(KEY_RIGHT), ACT_RIGHT, NULL }, { 'l', ACT_RIGHT, NULL },
	{ FN(KEY_PPAGE), ACT_PGUP, NULL }, { KEYS_CTRL('b'), ACT_PGUP, NULL },
	{ FN(KEY_NPAGE), ACT_PGDN, NULL }, { KEYS_CTRL('f'), ACT_PGDN, NULL },
	{ ' ', ACT_PGDN, NULL },
	{ 'g', ACT_TOP, NULL }, { FN(KEY_HOME), ACT_TOP, NULL },
	{ 'G', ACT_BOTTOM, NULL }, { FN(KEY_END), ACT_BOTTOM, NULL },
	{ '\n', ACT_ENTER, NULL }, { '\r', ACT_ENTER, NULL },
	{ FN(KEY_ENTER), ACT_ENTER, NULL },
	{ 'q', ACT_BACK, NULL }, { ESC, ACT_BACK, NULL },
	{ 'Q', ACT_QUIT, NULL },
	{ '/', ACT_SEARCH, NULL }, { 'n', ACT_NEXT, NULL },
	{ 'N', ACT_PREV, NULL },
	{ 's', ACT_SORT, NULL }, { 'o', ACT_ORDER, NULL },
	{ '?', ACT_HELP, NULL }, { FN(KEY_F(1)), ACT_HELP, NULL },
	{ '\t', ACT_PANE, NULL },
	{ KEYS_CTRL('l'), ACT_REDRAW, NULL },
	{ 'S', ACT_SEGMENTS, NULL }, { 'M', ACT_MODEL, NULL },
	{ 0, ACT_NONE, NULL }
};

static const struct keybind customers_binds[] = {
	{ '\n', ACT_ENTER, "open the customer's journey" },
	{ '\r', ACT_ENTER, NULL }, { FN(KEY_ENTER), ACT_ENTER, NULL },
	{ '/', ACT_SEARCH, "search by id prefix, attribute value or "
	    "key=value" },
	{ 's', ACT_SORT, "sort by the next column (id, events, first seen, "
	    "last seen, spend, segment, churn risk)" },
	{ 'o', ACT_ORDER, "ascending or descending" },
	{ FN(KEY_LEFT), ACT_LEFT, "sort by the column to the left" },
	{ 'h', ACT_LEFT, NULL },
	{ FN(KEY_RIGHT), ACT_RIGHT, "sort by the column to the right" },
	{ 'l', ACT_RIGHT, NULL },
	{ 'c', ACT_CHURNED, "only churned customers: no event within the "
	    "model's horizon before the store's last event (toggle)" },
	{ 'f', ACT_FILTER, NULL },
	{ 0, ACT_NONE, NULL }
};

static const struct keybind segments_binds[] = {
	{ '\n', ACT_ENTER, "list the segment's customers" },
	{ '\r', ACT_ENTER, NULL }, { FN(KEY_ENTER), ACT_ENTER, NULL },
	{ 0, ACT_NONE, NULL }
};

static const struct keybind journey_binds[] = {
	{ 'm', ACT_METHOD, "next heat method: rollout, last-layer mean, each "
	    "head, occlusion effect" },
	{ 'x', ACT_MASK, NULL },
	{ 'X', ACT_UNMASK, NULL },
	{ 'r', ACT_RERUN, "re-read the events and re-run inference" },
	{ 't', ACT_TEXT, "show or hide the event's full text" },
	{ '\n', ACT_TEXT, NULL }, { '\r', ACT_TEXT, NULL },
	{ FN(KEY_ENTER), ACT_TEXT, NULL },
	{ 'o', ACT_ORDER, "oldest or newest first" },
	{ '\t', ACT_PANE, "between the timeline and the full text" },
	{ FN(KEY_LEFT), ACT_LEFT, "scroll the text column left" },
	{ 'h', ACT_LEFT, NULL },
	{ FN(KEY_RIGHT), ACT_RIGHT, "scroll the text column right" },
	{ 'l', ACT_RIGHT, NULL },
	{ 0, ACT_NONE, NULL }
};

static const struct keybind model_binds[] = {
	{ '\n', ACT_ENTER, "use the model under the cursor" },
	{ '\r', ACT_ENTER, NULL }, { FN(KEY_ENTER), ACT_ENTER, NULL },
	{ 'r', ACT_SCORE, NULL },
	{ 't', ACT_TRAIN, "train a new model on the store (the default "
	    "settings of journeyscope train)" },
	{ 0, ACT_NONE, NULL }
};

static const struct keybind help_binds[] = {
	{ 0, ACT_NONE, NULL }
};

const struct keymap keys_global = { "everywhere", global_binds };
const struct keymap keys_customers = { "customers", customers_binds };
const struct keymap keys_segments = { "segments", segments_binds };
const struct keymap keys_journey = { "journey", journey_binds };
const struct keymap keys_model = { "model card", model_binds };
const struct keymap keys_help = { "help", help_binds };

/* ---- names ---- */

static const struct {
	const char	*name;
	int		 key;
} key_names[] = {
	{ "Enter", '\n' }, { "Enter", '\r' }, { "Enter", FN(KEY_ENTER) },
	{ "Esc", ESC }, { "Tab", '\t' }, { "BTab", FN(KEY_BTAB) },
	{ "Space", ' ' }, { "Backspace", FN(KEY_BACKSPACE) },
	{ "Backspace", 127 }, { "Backspace", 8 },
	{ "Up", FN(KEY_UP) }, { "Down", FN(KEY_DOWN) },
	{ "Left", FN(KEY_LEFT) }, { "Right", FN(KEY_RIGHT) },
	{ "PgUp", FN(KEY_PPAGE) }, { "PgDn", FN(KEY_NPAGE) },
	{ "Home", FN(KEY_HOME) }, { "End", FN(KEY_END) },
	{ "Del", FN(KEY_DC) }, { "Insert", FN(KEY_IC) },
};
#define N_KEY_NAMES	(sizeof(key_names) / sizeof(key_names[0]))

/* The action of key in map. */
enum action
keys_lookup(const struct keymap *m, int key)
{
	const struct keybind *b;

	if (m == NULL)
		return ACT_NONE;
	for (b = m->b; b->key != 0; b++)
		if (b->key == key)
			return b->act;
	return ACT_NONE;
}

/* "pgdn". */
const char *
keys_action_name(enum action a)
{
	static char buf[ACT_N][16];
	size_t i;

	if ((unsigned)a >= ACT_N)
		return "?";
	if (buf[a][0] == '\0') {
		for (i = 0; action_names[a][i] != '\0' && i < 15; i++)
			buf[a][i] = (char)tolower(
			    (unsigned char)action_names[a][i]);
		buf[a][i] = '\0';
	}
	return buf[a];
}

/* The action's help. */
const char *
keys_action_help(enum action a)
{
	return (unsigned)a < ACT_N ? action_helps[a] : NULL;
}

/* A key's name. */
const char *
keys_name(int key, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < N_KEY_NAMES; i++)
		if (key_names[i].key == key) {
			snprintf(buf, len, "%s", key_names[i].name);
			return buf;
		}
	if (key >= FN(KEY_F(1)) && key <= FN(KEY_F(12)))
		snprintf(buf, len, "F%d", key - FN(KEY_F(0)));
	else if (key > 0 && key < 32)
		snprintf(buf, len, "^%c", key + '@');
	else if (key >= KEYS_FN)
		snprintf(buf, len, "key%d", key - KEYS_FN);
	else if (key < 128)
		snprintf(buf, len, "%c", key);
	else {
		mbstate_t ps;
		char mb[MB_LEN_MAX + 1];
		size_t n;

		memset(&ps, 0, sizeof(ps));
		n = wcrtomb(mb, (wchar_t)key, &ps);
		if (n == (size_t)-1)
			snprintf(buf, len, "U+%04X", key);
		else
			snprintf(buf, len, "%.*s", (int)n, mb);
	}
	return buf;
}

/* The key called name. */
int
keys_from_name(const char *name, int *key)
{
	size_t i, n = strlen(name);

	for (i = 0; i < N_KEY_NAMES; i++)
		if (strcasecmp(key_names[i].name, name) == 0) {
			*key = key_names[i].key;
			return 0;
		}
	if ((name[0] == 'F' || name[0] == 'f') && n >= 2 && n <= 3 &&
	    isdigit((unsigned char)name[1]) &&
	    (n == 2 || isdigit((unsigned char)name[2]))) {
		int f = atoi(name + 1);

		if (f >= 1 && f <= 12) {
			*key = FN(KEY_F(f));
			return 0;
		}
		return -1;
	}
	if (n == 2 && name[0] == '^' && isalpha((unsigned char)name[1])) {
		*key = KEYS_CTRL(name[1]);
		return 0;
	}
	if (n == 1 && (unsigned char)name[0] >= 0x20 &&
	    (unsigned char)name[0] < 0x7f) {
		*key = (unsigned char)name[0];
		return 0;
	}
	if (n > 1 && (unsigned char)name[0] >= 0x80) {
		/* one UTF-8 character */
		mbstate_t ps;
		wchar_t wc;
		size_t k;

		memset(&ps, 0, sizeof(ps));
		k = mbrtowc(&wc, name, n, &ps);
		if (k == n) {
			*key = (int)wc;
			return 0;
		}
	}
	return -1;
}

/* The keys of map bound to act: "Up k". */
char *
keys_for(const struct keymap *m, enum action act, char *buf, size_t len)
{
	const struct keybind *b;
	char nm[32];
	size_t used = 0;

	buf[0] = '\0';
	for (b = m->b; b->key != 0; b++) {
		const char *s;
		char pat[40];

		if (b->act != act)
			continue;
		s = keys_name(b->key, nm, sizeof(nm));
		/* Enter has three codes: name it once */
		snprintf(pat, sizeof(pat), " %s ", s);
		{
			char have[256];

			snprintf(have, sizeof(have), " %s ", buf);
			if (strstr(have, pat) != NULL)
				continue;
		}
		used += (size_t)snprintf(buf + used, used < len ? len - used :
		    0, "%s%s", used > 0 ? " " : "", s);
		if (used >= len)
			break;
	}
	return buf;
}

/* The help text of a binding: its own or its action's. */
static const char *
bind_help(const struct keymap *m, enum action act)
{
	const struct keybind *b;

	for (b = m->b; b->key != 0; b++)
		if (b->act == act && b->help != NULL)
			return b->help;
	return keys_action_help(act);
}

/* man(7) escapes: backslashes and a leading dot or quote. */
static void
man_put(FILE *fp, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", fp);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", fp);
		else if (*s == '-')
			fputs("\\-", fp);
		else
			fputc(*s, fp);
	}
}

/* Every table, in order, each action once with all its keys. */
void
keys_print(FILE *fp, int man)
{
	static const struct keymap *const maps[] = {
		&keys_global, &keys_customers, &keys_segments, &keys_journey,
		&keys_model
	};
	size_t i;
	int a;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const struct keymap *m = maps[i];

		if (man)
			fprintf(fp, ".SS %c%s\n", toupper((unsigned char)
			    m->name[0]), m->name + 1);
		else
			fprintf(fp, "%s%s:\n", i ? "\n" : "", m->name);
		for (a = 0; a < ACT_N; a++) {
			char keys[128];

			keys_for(m, (enum action)a, keys, sizeof(keys));
			if (keys[0] == '\0' || keys_action_help(a) == NULL)
				continue;
			if (man) {
				char *k, *save = NULL;
				int first = 1;

				/* the tag on one line: bold keys, commas */
				fputs(".TP\n.BR", fp);
				for (k = strtok_r(keys, " ", &save); k != NULL;
				    k = strtok_r(NULL, " ", &save)) {
					fputs(first ? " \"" : " \", \" \"", fp);
					man_put(fp, k);
					fputc('"', fp);
					first = 0;
				}
				fputc('\n', fp);
				man_put(fp, bind_help(m, (enum action)a));
				fputc('\n', fp);
			} else
				fprintf(fp, "  %-22s %s\n", keys, bind_help(m,
				    (enum action)a));
		}
	}
}

/* ---- the terminal ---- */

static MEVENT last_mouse;
static int have_mouse;

/* The next key or 0. */
int
keys_read(int timeout_ms)
{
	wint_t wc;
	int rc;

	timeout(timeout_ms);
	rc = get_wch(&wc);
	if (rc == ERR)
		return 0;
	if (rc == KEY_CODE_YES) {
		if (wc == KEY_MOUSE) {
			have_mouse = getmouse(&last_mouse) == OK;
			if (!have_mouse)
				return 0;
		}
		return FN((int)wc);
	}
	return (int)wc;
}

/* Where the last mouse event was. */
int
keys_mouse(int *y, int *x, int *kind)
{
	if (!have_mouse)
		return 0;
	*y = last_mouse.y;
	*x = last_mouse.x;
	if (last_mouse.bstate & BUTTON4_PRESSED)
		*kind = KEYS_WHEEL_UP;
#ifdef BUTTON5_PRESSED
	else if (last_mouse.bstate & BUTTON5_PRESSED)
		*kind = KEYS_WHEEL_DOWN;
#endif
	else if (last_mouse.bstate & BUTTON1_DOUBLE_CLICKED)
		*kind = KEYS_DOUBLE;
	else if (last_mouse.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED |
	    BUTTON1_RELEASED))
		*kind = KEYS_CLICK;
	else
		return 0;
	have_mouse = 0;
	return 1;
}

/* Mouse on or off. */
void
keys_mouse_enable(int on)
{
	mmask_t m = 0;

	if (on) {
		m = BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
		m |= BUTTON5_PRESSED;
#endif
		mouseinterval(200);
	}
	mousemask(m, NULL);
}

/* ---- scripts ---- */

struct keyscript {
	struct keys_step	*st;
	size_t			 n, cap, pos;
};

/* Append one step. */
static struct keys_step *
script_add(struct keyscript *ks, enum keys_step_kind kind, int line)
{
	struct keys_step *s;

	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 64;
		ks->st = xreallocarray(ks->st, ks->cap, sizeof(*ks->st));
	}
	s = &ks->st[ks->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->line = line;
	return s;
}

/* One line of a script. */
static int
script_line(struct keyscript *ks, char *l, int line, const char *what,
    struct err *e)
{
	struct keys_step *s;
	int key, a, b, n;
	char word[32], rest[256];

	if (sscanf(l, "resize %dx%d%n", &a, &b, &n) == 2 && l[n] == '\0') {
		if (a < 1 || b < 1 || a > 1000 || b > 1000)
			return err_set(e, ERR_PARSE, "%s: line %d: resize "
			    "%dx%d: columns and rows are 1..1000", what, line,
			    a, b);
		s = script_add(ks, STEP_RESIZE, line);
		s->cols = a;
		s->rows = b;
		return 0;
	}
	if (strncmp(l, "dump", 4) == 0 && (l[4] == '\0' || l[4] == ' ')) {
		s = script_add(ks, STEP_DUMP, line);
		snprintf(s->label, sizeof(s->label), "%.63s", l[4] ? l + 5 :
		    "");
		return 0;
	}
	if (sscanf(l, "steps %d%n", &a, &n) == 1 && l[n] == '\0' && a >= 0) {
		s = script_add(ks, STEP_STEPS, line);
		s->n = a;
		return 0;
	}
	if (strncmp(l, "type ", 5) == 0) {
		const char *p = l + 5;
		mbstate_t ps;
		wchar_t wc;
		size_t k;

		memset(&ps, 0, sizeof(ps));
		while (*p != '\0') {
			k = mbrtowc(&wc, p, strlen(p), &ps);
			if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
				wc = (unsigned char)*p;
				k = 1;
				memset(&ps, 0, sizeof(ps));
			}
			s = script_add(ks, STEP_KEY, line);
			s->key = (int)wc;
			p += k;
		}
		return 0;
	}
	if (sscanf(l, "repeat %d %31s%n", &a, word, &n) == 2 &&
	    l[n] == '\0') {
		if (a < 0 || a > 1000000 || keys_from_name(word, &key) < 0)
			return err_set(e, ERR_PARSE, "%s: line %d: repeat N "
			    "KEY: expected a count and a key name", what,
			    line);
		while (a-- > 0) {
			s = script_add(ks, STEP_KEY, line);
			s->key = key;
		}
		return 0;
	}
	if (sscanf(l, "%31s %d %d%n", word, &a, &b, &n) == 3 &&
	    l[n] == '\0') {
		static const char *const kinds[] = {
			"click", "double", "wheel-up", "wheel-down"
		};
		int i;

		for (i = 0; i < 4; i++)
			if (strcmp(word, kinds[i]) == 0)
				break;
		if (i < 4) {
			s = script_add(ks, STEP_MOUSE, line);
			s->mouse = i;
			s->x = a;
			s->y = b;
			return 0;
		}
	}
	if (keys_from_name(l, &key) == 0) {
		s = script_add(ks, STEP_KEY, line);
		s->key = key;
		return 0;
	}
	snprintf(rest, sizeof(rest), "%s", l);
	return err_set(e, ERR_PARSE, "%s: line %d: '%s' is not a key or a "
	    "step (keys: one character, Enter Esc Tab Space Backspace Up "
	    "Down Left Right PgUp PgDn Home End F1..F12 ^A..^Z; steps: type "
	    "TEXT, repeat N KEY, resize COLSxROWS, dump [LABEL], steps N, "
	    "click X Y, wheel-up X Y)", what, line, rest);
}

/* Parse a whole script. */
struct keyscript *
keys_script_parse(const char *text, const char *what, struct err *e)
{
	struct keyscript *ks = xcalloc(1, sizeof(*ks));
	const char *p = text, *q;
	char l[512];
	int line = 0;
	size_t n;

	while (*p != '\0') {
		q = strchr(p, '\n');
		n = q != NULL ? (size_t)(q - p) : strlen(p);
		line++;
		if (n >= sizeof(l)) {
			err_set(e, ERR_PARSE, "%s: line %d: longer than %zu "
			    "bytes", what, line, sizeof(l) - 1);
			keys_script_free(ks);
			return NULL;
		}
		memcpy(l, p, n);
		l[n] = '\0';
		p += n + (q != NULL);
		while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' ' ||
		    l[n - 1] == '\t') && !(n == 1 && l[0] == ' '))
			l[--n] = '\0';
		if (n == 0 || (l[0] == '#' && (l[1] == '\0' || l[1] == ' ')))
			continue;
		if (script_line(ks, l, line, what, e) < 0) {
			keys_script_free(ks);
			return NULL;
		}
	}
	return ks;
}

/* Read a script file. */
struct keyscript *
keys_script_open(const char *path, struct err *e)
{
	struct keyscript *ks;
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(fp)) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		fclose(fp);
		buf_release(&b);
		return NULL;
	}
	fclose(fp);
	ks = keys_script_parse(b.data ? b.data : "", path, e);
	buf_release(&b);
	return ks;
}

/* Free; accepts NULL. */
void
keys_script_free(struct keyscript *ks)
{
	if (ks == NULL)
		return;
	free(ks->st);
	free(ks);
}

/* The next step. */
int
keys_script_next(struct keyscript *ks, struct keys_step *st)
{
	if (ks->pos >= ks->n)
		return 0;
	*st = ks->st[ks->pos++];
	return 1;
}
