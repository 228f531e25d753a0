/*
 * render.c: the drawing layer under the screens. Owns the role table
 * (a colour pair and a monochrome attribute per role) and the glyph
 * tables (UTF-8 and ASCII); draws text, rules, boxes, bars, heat bars,
 * sparklines and gauges on the curses screen that tui.c started, and
 * dumps the screen as text for the headless tests. Never reads the
 * store, never reads keys, never prints except render_dump's file.
 */
#include "config.h"
#include "render.h"

#include <errno.h>
#include <limits.h>
#include <langinfo.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "err.h"
#include "render-curses.h"
#include "tparse.h"
#include "util.h"

struct render {
	int	 utf8;		/* UTF-8 glyphs and text */
	int	 mono;		/* monochrome attributes */
	int	 pairs;		/* colour pairs were set up */
};

/* A role's looks: colours (-1: the terminal's default) and attributes. */
struct look {
	short	 fg, bg;
	attr_t	 color_attr;	/* with colour */
	attr_t	 mono_attr;	/* without */
};

/*
 * Colour never carries meaning alone: every role that means something
 * (selection, errors, bar sides) has a monochrome attribute or comes
 * with a glyph or a word that says the same.
 */
static const struct look looks[ROLE_N] = {
	[ROLE_NORMAL]	= { -1, -1, A_NORMAL, A_NORMAL },
	[ROLE_TITLE]	= { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
	[ROLE_STATUS]	= { COLOR_BLACK, COLOR_WHITE, A_NORMAL, A_REVERSE },
	[ROLE_CRUMB]	= { COLOR_BLUE, COLOR_WHITE, A_BOLD,
			    A_REVERSE | A_BOLD },
	[ROLE_HEADER]	= { COLOR_YELLOW, -1, A_BOLD, A_BOLD | A_UNDERLINE },
	[ROLE_SELECTED]	= { COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE },
	[ROLE_DIM]	= { COLOR_BLUE, -1, A_NORMAL, A_DIM },
	[ROLE_KEY]	= { COLOR_CYAN, -1, A_BOLD, A_BOLD },
	[ROLE_ERROR]	= { COLOR_WHITE, COLOR_RED, A_BOLD,
			    A_BOLD | A_REVERSE },
	[ROLE_NOTE]	= { COLOR_YELLOW, -1, A_NORMAL, A_UNDERLINE },
	[ROLE_GOOD]	= { COLOR_GREEN, -1, A_BOLD, A_BOLD },
	[ROLE_BAD]	= { COLOR_RED, -1, A_BOLD, A_BOLD },
	[ROLE_HEAT_LOW]	= { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
	[ROLE_HEAT_MID]	= { COLOR_YELLOW, -1, A_NORMAL, A_NORMAL },
	[ROLE_HEAT_HIGH] = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[ROLE_LOWERS]	= { COLOR_GREEN, -1, A_NORMAL, A_NORMAL },
	[ROLE_RAISES]	= { COLOR_RED, -1, A_BOLD, A_BOLD },
	[ROLE_MASKED]	= { COLOR_MAGENTA, -1, A_NORMAL, A_DIM },
	[ROLE_GAUGE]	= { COLOR_BLACK, COLOR_GREEN, A_NORMAL, A_REVERSE },
	[ROLE_FOCUS]	= { COLOR_CYAN, -1, A_BOLD, A_BOLD },
	[ROLE_BORDER]	= { COLOR_BLUE, -1, A_NORMAL, A_NORMAL },
	[ROLE_SPARK]	= { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
	[ROLE_PROMPT]	= { -1, -1, A_BOLD, A_BOLD },
};

/* Glyphs: UTF-8 and ASCII; the ASCII ones are visible, never blank. */
static const char *const glyphs[GL_N][2] = {
	[GL_HLINE]	= { "\u2500", "-" },
	[GL_VLINE]	= { "\u2502", "|" },
	[GL_TL]		= { "\u250c", "+" },
	[GL_TR]		= { "\u2510", "+" },
	[GL_BL]		= { "\u2514", "+" },
	[GL_BR]		= { "\u2518", "+" },
	[GL_ELLIPSIS]	= { "\u2026", "~" },
	[GL_SEP]	= { " \u00b7 ", " | " },
	[GL_ARROW]	= { "\u2192", "->" },
	[GL_UP]		= { "\u25b2", "^" },
	[GL_DOWN]	= { "\u25bc", "v" },
	[GL_CURSOR]	= { "\u25b8", ">" },
	[GL_CHECK]	= { "\u2713", "+" },
	[GL_CROSS]	= { "\u2717", "x" },
	[GL_MINUS]	= { "\u2212", "-" },
	[GL_CRUMB]	= { " \u203a ", " > " },
};

/* Eighth blocks, left-aligned: blocks[k] fills k eighths of a cell. */
static const char *const blocks[9] = {
	" ", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a",
	"\u2589", "\u2588"
};

/* Sparkline levels 1..8 (0: an empty week, a dot so it is never blank). */
static const char *const spark_utf8[9] = {
	"\u00b7", "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586",
	"\u2587", "\u2588"
};
static const char spark_ascii[] = "_.,-~=+*#";

/* New renderer; the curses screen exists. */
struct render *
render_new(int flags)
{
	struct render *r = xcalloc(1, sizeof(*r));
	int i;

	r->utf8 = !(flags & RENDER_ASCII) &&
	    strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	r->mono = (flags & RENDER_MONO) || !has_colors();
	if (!r->mono && start_color() == OK && COLOR_PAIRS > ROLE_N) {
		use_default_colors();
		for (i = 0; i < ROLE_N; i++)
			init_pair((short)(i + 1), looks[i].fg, looks[i].bg);
		r->pairs = 1;
	} else
		r->mono = 1;
	return r;
}

/* Free; accepts NULL. */
void
render_free(struct render *r)
{
	free(r);
}

/* UTF-8 glyphs? */
int
render_utf8(const struct render *r)
{
	return r->utf8;
}

/* Monochrome? */
int
render_mono(const struct render *r)
{
	return r->mono;
}

/* Rows and columns. */
void
render_size(const struct render *r, int *rows, int *cols)
{
	(void)r;
	getmaxyx(stdscr, *rows, *cols);
}

/* Blank the screen. */
void
render_clear(struct render *r)
{
	(void)r;
	attr_set(A_NORMAL, 0, NULL);
	erase();
}

/* A glyph. */
const char *
render_glyph(const struct render *r, enum glyph g)
{
	return glyphs[g][r->utf8 ? 0 : 1];
}

/* Set role's attributes for what follows. */
static void
use_role(struct render *r, enum role role)
{
	if (r->mono)
		attr_set(looks[role].mono_attr, 0, NULL);
	else
		attr_set(looks[role].color_attr, (short)(role + 1), NULL);
}

/*
 * The next character of s into *wc with its width in cells; returns
 * the bytes it takes (0 at the end). Control characters become a blank,
 * what cannot be shown becomes '?'.
 */
static size_t
next_char(const struct render *r, const char *s, wchar_t *wc, int *w)
{
	mbstate_t ps;
	size_t n;

	if (*s == '\0')
		return 0;
	if (!r->utf8 || (unsigned char)*s < 0x80) {
		unsigned char c = (unsigned char)*s;

		n = 1;
		if (c >= 0x80) {
			/* a UTF-8 sequence in an ASCII screen: one '?' */
			while ((s[n] & 0xc0) == 0x80)
				n++;
			*wc = L'?';
		} else if (c < 0x20 || c == 0x7f)
			*wc = L' ';
		else
			*wc = (wchar_t)c;
		*w = 1;
		return n;
	}
	memset(&ps, 0, sizeof(ps));
	n = mbrtowc(wc, s, strlen(s), &ps);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*wc = L'?';
		*w = 1;
		return 1;
	}
	*w = wcwidth(*wc);
	if (*w < 0) {
		*wc = L'?';
		*w = 1;
	}
	return n;
}

/* Cells of s. */
int
render_width(const struct render *r, const char *s)
{
	wchar_t wc;
	int w, total = 0;
	size_t n;

	while ((n = next_char(r, s, &wc, &w)) > 0) {
		total += w;
		s += n;
	}
	return total;
}

/* Draw at most max cells of s; returns the cells drawn. */
static int
put_text(struct render *r, int y, int x, const char *s, int max)
{
	wchar_t buf[128];
	int used = 0, flushed = 0, w, k = 0;
	wchar_t wc;
	size_t n;

	while ((n = next_char(r, s, &wc, &w)) > 0 && used + w <= max) {
		buf[k++] = wc;
		used += w;
		s += n;
		if (k == (int)(sizeof(buf) / sizeof(buf[0]))) {
			mvaddnwstr(y, x + flushed, buf, k);
			flushed = used;
			k = 0;
		}
	}
	if (k > 0)
		mvaddnwstr(y, x + flushed, buf, k);
	return used;
}

/* Text clipped at the right edge. */
int
render_text(struct render *r, int y, int x, enum role role, const char *s)
{
	int rows, cols, wd, n;

	getmaxyx(stdscr, rows, cols);
	if (y < 0 || y >= rows || x >= cols || x < 0 || s == NULL)
		return x;
	use_role(r, role);
	wd = render_width(r, s);
	n = put_text(r, y, x, s, cols - x < wd ? cols - x : wd);
	return x + n;
}

/* Text in exactly w cells. */
int
render_textw(struct render *r, int y, int x, int w, enum role role,
    const char *s, int right)
{
	int rows, cols, wd, ew, n;

	getmaxyx(stdscr, rows, cols);
	if (w <= 0 || y < 0 || y >= rows || x >= cols)
		return x + (w > 0 ? w : 0);
	if (x + w > cols)
		w = cols - x;
	if (s == NULL)
		s = "";
	use_role(r, role);
	wd = render_width(r, s);
	if (wd <= w) {
		int pad = w - wd;

		if (right && pad > 0)
			mvhline(y, x, ' ', pad);
		n = put_text(r, y, x + (right ? pad : 0), s, wd);
		if (!right && pad > 0)
			mvhline(y, x + n, ' ', pad);
		return x + w;
	}
	ew = render_width(r, render_glyph(r, GL_ELLIPSIS));
	n = put_text(r, y, x, s, w - ew);
	put_text(r, y, x + n, render_glyph(r, GL_ELLIPSIS), ew);
	if (n + ew < w)
		mvhline(y, x + n + ew, ' ', w - n - ew);
	return x + w;
}

/* printf form. */
int
render_printf(struct render *r, int y, int x, enum role role,
    const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return render_text(r, y, x, role, buf);
}

/* Blanks. */
void
render_fill(struct render *r, int y, int x, int w, enum role role)
{
	int rows, cols;

	getmaxyx(stdscr, rows, cols);
	if (y < 0 || y >= rows || x >= cols || w <= 0)
		return;
	if (x + w > cols)
		w = cols - x;
	use_role(r, role);
	mvhline(y, x, ' ', w);
}

/* Draw glyph g n times from (y, x). */
static void
repeat_glyph(struct render *r, int y, int x, enum glyph g, int n)
{
	const char *s = render_glyph(r, g);
	int i;

	for (i = 0; i < n; i++)
		put_text(r, y, x + i, s, 1);
}

/* A rule. */
void
render_hline(struct render *r, int y, int x, int w, enum role role)
{
	int rows, cols;

	getmaxyx(stdscr, rows, cols);
	if (y < 0 || y >= rows || x >= cols || w <= 0)
		return;
	if (x + w > cols)
		w = cols - x;
	use_role(r, role);
	repeat_glyph(r, y, x, GL_HLINE, w);
}

/* A box with an optional title. */
void
render_box(struct render *r, int y, int x, int h, int w, enum role role,
    const char *title)
{
	int i;

	if (h < 2 || w < 2)
		return;
	use_role(r, role);
	put_text(r, y, x, render_glyph(r, GL_TL), 1);
	render_hline(r, y, x + 1, w - 2, role);
	use_role(r, role);
	put_text(r, y, x + w - 1, render_glyph(r, GL_TR), 1);
	for (i = 1; i < h - 1; i++) {
		put_text(r, y + i, x, render_glyph(r, GL_VLINE), 1);
		put_text(r, y + i, x + w - 1, render_glyph(r, GL_VLINE), 1);
	}
	put_text(r, y + h - 1, x, render_glyph(r, GL_BL), 1);
	render_hline(r, y + h - 1, x + 1, w - 2, role);
	use_role(r, role);
	put_text(r, y + h - 1, x + w - 1, render_glyph(r, GL_BR), 1);
	if (title != NULL && w > 6) {
		render_text(r, y, x + 2, role, " ");
		render_textw(r, y, x + 3, render_width(r, title) < w - 6 ?
		    render_width(r, title) : w - 6, role, title, 0);
		render_text(r, y, x + 3 + (render_width(r, title) < w - 6 ?
		    render_width(r, title) : w - 6), role, " ");
	}
}

/* Append s to out; returns the new end. */
static char *
cat(char *out, const char *s)
{
	size_t n = strlen(s);

	memcpy(out, s, n + 1);
	return out + n;
}

/* ASCII for a part cell of k eighths (1..7). */
static const char *
ascii_part(int k)
{
	return k < 4 ? "." : ":";
}

/* The glyphs of an unsigned bar. */
int
render_bar_string(int utf8, int w, double frac, char *out)
{
	char *p = out;
	int eighths, i, cells = 0;

	*p = '\0';
	if (w <= 0)
		return 0;
	if (!(frac > 0))
		frac = 0;
	if (frac > 1)
		frac = 1;
	eighths = (int)lround(frac * w * 8);
	for (i = 0; i < eighths / 8; i++, cells++)
		p = cat(p, utf8 ? blocks[8] : "#");
	if (eighths % 8 != 0) {
		p = cat(p, utf8 ? blocks[eighths % 8] :
		    ascii_part(eighths % 8));
		cells++;
	}
	for (; cells < w; cells++)
		p = cat(p, " ");
	return w;
}

/*
 * The glyphs of a signed bar: w cells, the centre rule at w / 2, half
 * = w / 2 cells on each side. The left side grows leftwards: its part
 * cell is the complement block, which render_heat draws reversed
 * (*neg_partial gets its cell, -1 when there is none).
 */
int
render_heat_string(int utf8, int w, double v, double max, char *out,
    int *neg_partial)
{
	int half = (w - 1) / 2, centre = w / 2, k = 0, i, full, part;
	char *p = out;

	*neg_partial = -1;
	*p = '\0';
	if (w <= 0)
		return 0;
	if (max > 0 && isfinite(v))
		k = (int)lround(fabs(v) / max * half * 8);
	if (k > half * 8)
		k = half * 8;
	full = k / 8;
	part = k % 8;
	for (i = 0; i < w; i++) {
		if (i == centre) {
			p = cat(p, utf8 ? "\u2502" : "|");
			continue;
		}
		if (v < 0 && i < centre) {
			int d = centre - 1 - i;	/* cells from the centre */

			if (d < full)
				p = cat(p, utf8 ? blocks[8] : "<");
			else if (d == full && part > 0) {
				if (utf8) {
					p = cat(p, blocks[8 - part]);
					*neg_partial = i;
				} else
					p = cat(p, ascii_part(part));
			} else
				p = cat(p, " ");
		} else if (v > 0 && i > centre) {
			int d = i - centre - 1;

			if (d < full)
				p = cat(p, utf8 ? blocks[8] : ">");
			else if (d == full && part > 0)
				p = cat(p, utf8 ? blocks[part] :
				    ascii_part(part));
			else
				p = cat(p, " ");
		} else
			p = cat(p, " ");
	}
	return w;
}

/* A bar in role. */
void
render_bar(struct render *r, int y, int x, int w, double frac,
    enum role role)
{
	char *buf;

	if (w <= 0)
		return;
	buf = xmalloc((size_t)w * 4 + 1);
	render_bar_string(r->utf8, w, frac, buf);
	render_textw(r, y, x, w, role, buf, 0);
	free(buf);
}

/* The ramp's role for a fraction of the largest. */
static enum role
heat_role(double frac)
{
	if (frac >= 2.0 / 3)
		return ROLE_HEAT_HIGH;
	if (frac >= 1.0 / 3)
		return ROLE_HEAT_MID;
	return ROLE_HEAT_LOW;
}

/* A heat bar, unsigned or signed. */
void
render_heat(struct render *r, int y, int x, int w, double v, double max,
    int is_signed)
{
	int rows, cols, negp, i;
	char *buf;
	const char *p;

	getmaxyx(stdscr, rows, cols);
	if (w <= 0 || y < 0 || y >= rows || x + w > cols)
		return;
	if (!is_signed) {
		render_bar(r, y, x, w, max > 0 && v > 0 ? v / max : 0,
		    heat_role(max > 0 ? v / max : 0));
		return;
	}
	buf = xmalloc((size_t)w * 4 + 1);
	render_heat_string(r->utf8, w, v, max, buf, &negp);
	/* cell by cell: the side gives the role, the part cell is reversed */
	for (p = buf, i = 0; i < w; i++) {
		wchar_t wc;
		int cw;
		size_t n = next_char(r, p, &wc, &cw);
		char cell[8];

		memcpy(cell, p, n);
		cell[n] = '\0';
		p += n;
		if (i == w / 2)
			use_role(r, ROLE_BORDER);
		else
			use_role(r, v < 0 ? ROLE_LOWERS : ROLE_RAISES);
		if (i == negp)
			attr_on(A_REVERSE, NULL);
		put_text(r, y, x + i, cell, 1);
	}
	free(buf);
}

/* A sparkline scaled to max. */
void
render_spark_max(struct render *r, int y, int x, const double *v, int n,
    double max, enum role role)
{
	char cell[2] = { 0, 0 };
	int i, lv, rows, cols;

	getmaxyx(stdscr, rows, cols);
	if (y < 0 || y >= rows)
		return;
	use_role(r, role);
	for (i = 0; i < n && x + i < cols; i++) {
		double f = max > 0 && v[i] > 0 ? v[i] / max : 0;

		if (f > 1)
			f = 1;
		lv = f > 0 ? 1 + (int)floor(f * 7.999) : 0;
		if (r->utf8)
			put_text(r, y, x + i, spark_utf8[lv], 1);
		else {
			cell[0] = spark_ascii[lv];
			put_text(r, y, x + i, cell, 1);
		}
	}
}

/* A sparkline scaled to its largest value. */
void
render_spark(struct render *r, int y, int x, const double *v, int n,
    enum role role)
{
	double max = 0;
	int i;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	render_spark_max(r, y, x, v, n, max, role);
}

/* A progress gauge. */
void
render_gauge(struct render *r, int y, int x, int w, double frac,
    const char *label)
{
	int fill, i;

	if (!(frac > 0))
		frac = 0;
	if (frac > 1)
		frac = 1;
	fill = (int)(frac * w + 0.5);
	render_text(r, y, x, ROLE_NORMAL, "[");
	for (i = 0; i < w; i++)
		render_text(r, y, x + 1 + i, i < fill ? ROLE_GAUGE :
		    ROLE_NORMAL, i < fill ? (r->utf8 ? blocks[8] : "#") :
		    (r->utf8 ? "\u00b7" : "."));
	render_text(r, y, x + 1 + w, ROLE_NORMAL, "]");
	render_printf(r, y, x + w + 3, ROLE_NORMAL, "%3.0f%% %s", frac * 100,
	    label != NULL ? label : "");
}

/* The terminal cursor. */
void
render_cursor(struct render *r, int y, int x)
{
	(void)r;
	if (y < 0) {
		curs_set(0);
		return;
	}
	move(y, x);
	curs_set(1);
}

/* One attribute code (render_dump). */
static char
attr_code(attr_t a, short pair)
{
	char c = '.';

	if (a & A_REVERSE)
		c = 'r';
	else if (a & A_BOLD)
		c = 'b';
	else if (a & A_UNDERLINE)
		c = 'u';
	else if (a & A_DIM)
		c = 'd';
	if (pair > 0)
		c = c == '.' ? '#' : (char)(c - 'a' + 'A');
	return c;
}

/* The screen as text (and attributes). */
int
render_dump(struct render *r, FILE *fp, int flags, struct err *e)
{
	int rows, cols, y, x, pass;
	struct buf line;

	getmaxyx(stdscr, rows, cols);
	buf_init(&line);
	for (pass = 0; pass < ((flags & RENDER_DUMP_ATTRS) ? 2 : 1); pass++) {
		if (pass == 1)
			fputs("-- attributes\n", fp);
		for (y = 0; y < rows; y++) {
			buf_reset(&line);
			for (x = 0; x < cols; x++) {
				cchar_t cc;
				wchar_t wch[CCHARW_MAX + 1];
				attr_t a;
				short pair;
				char mb[MB_LEN_MAX + 1];
				mbstate_t ps;
				size_t n;
				int cw;

				memset(wch, 0, sizeof(wch));
				if (mvin_wch(y, x, &cc) == ERR || getcchar(&cc,
				    wch, &a, &pair, NULL) == ERR) {
					buf_addc(&line, ' ');
					continue;
				}
				if (pass == 1) {
					buf_addc(&line, attr_code(a, pair));
					continue;
				}
				cw = wch[0] != 0 ? wcwidth(wch[0]) : 1;
				if (wch[0] == 0 || wch[0] < 0x20)
					buf_addc(&line, ' ');
				else if (wch[0] < 0x80)
					buf_addc(&line, (char)wch[0]);
				else if (!r->utf8)
					buf_addc(&line, '?');
				else {
					memset(&ps, 0, sizeof(ps));
					n = wcrtomb(mb, wch[0], &ps);
					if (n == (size_t)-1)
						buf_addc(&line, '?');
					else
						buf_add(&line, mb, n);
				}
				if (cw == 2)
					x++;	/* a wide char: 2 cells */
			}
			while (line.len > 0 && line.data[line.len - 1] == ' ')
				line.data[--line.len] = '\0';
			buf_addc(&line, '\n');
			if (fwrite(line.data, 1, line.len, fp) != line.len) {
				buf_release(&line);
				return err_set(e, ERR_IO, "writing the screen "
				    "dump: %s", strerror(errno));
			}
		}
	}
	buf_release(&line);
	if (fflush(fp) != 0)
		return err_set(e, ERR_IO, "writing the screen dump: %s",
		    strerror(errno));
	return 0;
}

/* ---- text for screens ---- */

/* Thousands separators. */
char *
render_fmt_int(int64_t v, char *buf, size_t len)
{
	char tmp[32], *p = tmp + sizeof(tmp) - 1;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int k = 0;

	*p = '\0';
	do {
		if (k > 0 && k % 3 == 0)
			*--p = ',';
		*--p = (char)('0' + u % 10);
		u /= 10;
		k++;
	} while (u > 0);
	if (v < 0)
		*--p = '-';
	snprintf(buf, len, "%s", p);
	return buf;
}

/* A date, with the time of day when asked. */
char *
render_fmt_date(int64_t ts, int with_time, char *buf, size_t len)
{
	char iso[40];

	tparse_format(ts, iso, sizeof(iso));	/* 2024-03-02T14:11:00Z */
	if (with_time)
		snprintf(buf, len, "%.10s %.5s", iso, iso + 11);
	else
		snprintf(buf, len, "%.10s", iso);
	return buf;
}

/* A short duration. */
char *
render_fmt_dur(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s < 86400LL * 730)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else
		snprintf(buf, len, "%lldy", (long long)(s / (86400LL * 365)));
	return buf;
}
