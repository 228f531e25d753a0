/*
 * render.h: drawing for the explorer's screens, in roles rather than
 * colours. Each role has a colour pair and a monochrome attribute;
 * monochrome is used without colour support, with NO_COLOR set or with
 * --no-color. Glyphs come from a UTF-8 or an ASCII table (ASCII when the
 * locale is not UTF-8 or with --ascii), never blanks. Screens draw only
 * through this header; render.c is the only curses user besides tui.c
 * and keys.c. Nothing here reads the store.
 */
#ifndef JS_RENDER_H
#define JS_RENDER_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct err;
struct render;			/* opaque: render.c */

/* Roles: name, what it marks. The order is the colour pair number - 1. */
#define ROLES(X) \
	X(NORMAL, "text") \
	X(TITLE, "the title bar") \
	X(STATUS, "the status line") \
	X(CRUMB, "the breadcrumb in the status line") \
	X(HEADER, "column headers and labels") \
	X(SELECTED, "the row under the cursor") \
	X(DIM, "secondary text") \
	X(KEY, "key names") \
	X(ERROR, "errors") \
	X(NOTE, "notes and warnings") \
	X(GOOD, "a figure better than its baseline") \
	X(BAD, "a figure worse than its baseline") \
	X(HEAT_LOW, "a heat bar under a third of the largest") \
	X(HEAT_MID, "a heat bar under two thirds of the largest") \
	X(HEAT_HIGH, "a heat bar near the largest") \
	X(LOWERS, "an effect that lowers churn risk") \
	X(RAISES, "an effect that raises churn risk") \
	X(MASKED, "an event masked for a what-if") \
	X(GAUGE, "the filled part of a progress gauge") \
	X(FOCUS, "the border of the focused pane") \
	X(BORDER, "other borders and rules") \
	X(SPARK, "sparklines") \
	X(PROMPT, "the input line")

enum role {
#define ROLE_ENUM(name, text) ROLE_##name,
	ROLES(ROLE_ENUM)
#undef ROLE_ENUM
	ROLE_N
};

/* Glyphs with a UTF-8 and an ASCII form each. */
enum glyph {
	GL_HLINE, GL_VLINE, GL_TL, GL_TR, GL_BL, GL_BR,
	GL_ELLIPSIS,		/* a cut-off text */
	GL_SEP,			/* between items on one line */
	GL_ARROW,		/* old -> new */
	GL_UP, GL_DOWN,		/* sort direction */
	GL_CURSOR,		/* the row under the cursor */
	GL_CHECK, GL_CROSS,	/* yes / no */
	GL_MINUS,		/* a minus sign */
	GL_CRUMB,		/* between breadcrumb parts */
	GL_N
};

/* Flags of render_new. */
#define RENDER_ASCII	1	/* ASCII glyphs even in a UTF-8 locale */
#define RENDER_MONO	2	/* no colour: monochrome attributes */

/* Flags of render_dump. */
#define RENDER_DUMP_ATTRS 1	/* add a block of attribute codes */

/*
 * A renderer over the curses screen, which the caller (tui.c) has
 * started. Colour is used when the terminal has it and RENDER_MONO is
 * not given; UTF-8 when the locale's codeset is UTF-8 and RENDER_ASCII
 * is not given. Never fails (allocation aborts).
 */
struct render	*render_new(int flags);
void		 render_free(struct render *);
/* 1 when glyphs are UTF-8; 1 when drawing without colour. */
int		 render_utf8(const struct render *);
int		 render_mono(const struct render *);
/* The screen's size in cells. */
void		 render_size(const struct render *, int *rows, int *cols);
/* Blank the whole screen (the next frame draws on it). */
void		 render_clear(struct render *);
/* A glyph of the current table (borrowed, static). */
const char	*render_glyph(const struct render *, enum glyph);

/* Cells the UTF-8 (or, in ASCII mode, byte) string s takes. */
int		 render_width(const struct render *, const char *s);
/*
 * Draw s at (y, x) in role, clipped to the screen's right edge; line
 * ends and tabs become blanks, characters the locale cannot show become
 * '?'. Returns the column after the last cell drawn.
 */
int		 render_text(struct render *, int y, int x, enum role,
		    const char *s);
/*
 * Draw s in exactly w cells: cut with an ellipsis when longer, padded
 * with blanks when shorter (right-aligned when right is 1). Returns
 * x + w.
 */
int		 render_textw(struct render *, int y, int x, int w, enum role,
		    const char *s, int right);
/* printf into render_text; returns the column after. */
int		 render_printf(struct render *, int y, int x, enum role,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* w blanks in role (a row's background). */
void		 render_fill(struct render *, int y, int x, int w, enum role);
/* A horizontal rule of w cells. */
void		 render_hline(struct render *, int y, int x, int w, enum role);
/* A box of h rows and w columns, with a title in its top edge (may be NULL). */
void		 render_box(struct render *, int y, int x, int h, int w,
		    enum role, const char *title);

/*
 * A bar of frac (0..1) of w cells in eighth blocks (ASCII: '#' cells
 * and a ':' or '.' for the part cell), padded with blanks.
 */
void		 render_bar(struct render *, int y, int x, int w, double frac,
		    enum role);
/*
 * A heat bar of value v scaled to max (> 0) in w cells, its role from
 * the colour ramp (low, mid, high; the length alone carries the value).
 * Signed: the centre cell is a rule, negative values grow to the left
 * (lowers churn risk), positive to the right (raises it).
 */
void		 render_heat(struct render *, int y, int x, int w, double v,
		    double max, int is_signed);
/* A sparkline of n values scaled to their largest, one cell each. */
void		 render_spark(struct render *, int y, int x, const double *v,
		    int n, enum role);
/* The same scaled to max (values above it are drawn as max). */
void		 render_spark_max(struct render *, int y, int x,
		    const double *v, int n, double max, enum role);
/* A progress gauge of frac in w cells with label after it. */
void		 render_gauge(struct render *, int y, int x, int w, double frac,
		    const char *label);
/* Show the terminal cursor at (y, x), or hide it when y < 0. */
void		 render_cursor(struct render *, int y, int x);

/*
 * The visible screen as text into fp, one line per row, trailing blanks
 * cut; with RENDER_DUMP_ATTRS a second block of the same size gives each
 * cell's attribute: '.' none, 'r' reverse, 'b' bold, 'u' underline,
 * 'd' dim (the strongest of them), upper case when a colour pair is set
 * too, '#' for a colour pair alone. Returns 0 or -1 and ERR_IO.
 */
int		 render_dump(struct render *, FILE *fp, int flags,
		    struct err *);

/*
 * The glyphs of a bar (render_bar) as a string into out (room for
 * 4 * w + 1 bytes): pure, for the tests. Returns the cells used.
 */
int		 render_bar_string(int utf8, int w, double frac, char *out);
/* The same for a signed heat bar: w cells, the centre at w / 2. */
int		 render_heat_string(int utf8, int w, double v, double max,
		    char *out, int *neg_partial);

/* ---- text for screens ---- */

/* 1234567 -> "1,234,567". */
char		*render_fmt_int(int64_t, char *buf, size_t len);
/* UTC seconds -> "2024-03-02"; "2024-03-02 14:11" with the time. */
char		*render_fmt_date(int64_t ts, int with_time, char *buf,
		    size_t len);
/* Seconds -> "45s", "12m", "3h", "5d", "2y". */
char		*render_fmt_dur(int64_t s, char *buf, size_t len);

#endif
