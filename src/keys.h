/*
 * keys.h: the explorer's actions and the keys bound to them. One
 * X-macro lists every action with its help text; the key tables (the
 * global one and one per screen) say which key means which action, and
 * the help screen, the man page's key list (explore --keys) and the
 * headless key-script reader all follow them. Key codes are opaque
 * numbers made here: screens compare actions, never keys.
 */
#ifndef JS_KEYS_H
#define JS_KEYS_H
#include <stddef.h>
#include <stdio.h>

struct err;

/*
 * Actions: name, help. A NULL help marks an internal action that no
 * key is bound to (the input loop sends it).
 */
#define ACTIONS(X) \
	X(NONE, NULL) \
	X(UP, "move up") \
	X(DOWN, "move down") \
	X(LEFT, "scroll left") \
	X(RIGHT, "scroll right") \
	X(PGUP, "page up") \
	X(PGDN, "page down") \
	X(TOP, "go to the first row") \
	X(BOTTOM, "go to the last row") \
	X(ENTER, "open the row under the cursor") \
	X(BACK, "back to the previous screen (cancels running work first)") \
	X(QUIT, "quit") \
	X(SEARCH, "search") \
	X(NEXT, "next match") \
	X(PREV, "previous match") \
	X(SORT, "sort by the next column") \
	X(ORDER, "reverse the order") \
	X(HELP, "this help") \
	X(PANE, "next pane") \
	X(REDRAW, "redraw the screen") \
	X(SEGMENTS, "the segments") \
	X(MODEL, "the model card") \
	X(CHURNED, "only churned customers (toggle)") \
	X(FILTER, "filter by an expression (empty: no filter)") \
	X(METHOD, "next attention method") \
	X(MASK, "mask or restore the event under the cursor (what-if)") \
	X(UNMASK, "restore every masked event") \
	X(RERUN, "re-run inference") \
	X(TEXT, "the event's full text") \
	X(SCORE, "score every customer with the model") \
	X(TRAIN, "train a new model on the store") \
	X(RESIZE, NULL) \
	X(UNLOAD, NULL) \
	X(RELOAD, NULL)

enum action {
#define ACT_ENUM(name, help) ACT_##name,
	ACTIONS(ACT_ENUM)
#undef ACT_ENUM
	ACT_N
};

/* One binding; help NULL means the action's own help text. */
struct keybind {
	int		 key;
	enum action	 act;
	const char	*help;
};

/* A table of bindings, ended by a {0} entry. */
struct keymap {
	const char		*name;		/* for the help screen */
	const struct keybind	*b;
};

/* The global keys, then one table per screen (looked up first). */
extern const struct keymap keys_global, keys_customers, keys_segments,
    keys_journey, keys_model, keys_help;

/* Key codes that are not characters (characters are their code point). */
#define KEYS_FN		0x1000000	/* + a curses KEY_* code */
#define KEYS_CTRL(c)	((c) & 0x1f)

/* The action key means in map (NULL: none), ACT_NONE when unbound. */
enum action	 keys_lookup(const struct keymap *, int key);
/* The action's lower-case name ("pgdn") and help text (NULL: internal). */
const char	*keys_action_name(enum action);
const char	*keys_action_help(enum action);
/* A key's name as the help screen and the scripts write it ("^L"). */
const char	*keys_name(int key, char *buf, size_t len);
/* The key called name (a name above or one character): 0, or -1. */
int		 keys_from_name(const char *name, int *key);
/* Every key of map bound to act, as "Up k", into buf. */
char		*keys_for(const struct keymap *, enum action, char *buf,
		    size_t len);
/*
 * Every table in man(7) form (man = 1) or as plain text: the man page's
 * key list is this output.
 */
void		 keys_print(FILE *, int man);

/* ---- the key reader of the input loop (tui.c) ---- */

/*
 * The next key from the terminal, waiting at most timeout_ms (-1:
 * forever): a key code, 0 when none came, KEYS_FN + KEY_RESIZE on a
 * resize. Mouse events come back as KEYS_FN + KEY_MOUSE; keys_mouse()
 * then tells where.
 */
int		 keys_read(int timeout_ms);
/* The last mouse event: 1 and its cell and kind, 0 if none. */
enum { KEYS_CLICK, KEYS_DOUBLE, KEYS_WHEEL_UP, KEYS_WHEEL_DOWN };
int		 keys_mouse(int *y, int *x, int *kind);
/* Report wheel and clicks as keys (on) or not. */
void		 keys_mouse_enable(int on);

/* ---- headless key scripts ---- */

/* One step of a script. */
enum keys_step_kind {
	STEP_KEY,		/* press key */
	STEP_RESIZE,		/* the terminal becomes cols x rows */
	STEP_DUMP,		/* dump the screen here, headed by label */
	STEP_STEPS,	/* run at most n idle steps before the next key */
	STEP_MOUSE		/* a mouse event of kind at (y, x) */
};
struct keys_step {
	enum keys_step_kind	 kind;
	int			 key;
	int			 cols, rows;
	int			 n;
	int			 y, x, mouse;
	char			 label[64];
	int			 line;		/* in the script */
};

/*
 * Read a key script (see the man page, HEADLESS MODE): one step per
 * line; '#' starts a comment line. Errors name the line (ERR_PARSE).
 */
struct keyscript;
struct keyscript *keys_script_open(const char *path, struct err *);
/* The same from a string (for the tests). */
struct keyscript *keys_script_parse(const char *text, const char *what,
		    struct err *);
void		 keys_script_free(struct keyscript *);
/* The next step into *st: 1, or 0 at the end. */
int		 keys_script_next(struct keyscript *, struct keys_step *st);

#endif
