/*
 * screen-help.c: the help screen, generated from the key tables of
 * keys.c: the keys of the screen it was opened from first, then the
 * keys that work everywhere, then the other screens' keys, and a legend
 * of the glyphs and bars. Nothing here names a key by hand.
 */
#include "config.h"
#include "screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "util.h"

struct help_line {
	char		 keys[96];
	char		 text[192];
	int		 heading;
};

struct help {
	struct help_line	*l;
	int			 n, cap;
};

/* Append one line. */
static void
add(struct help *h, const char *keys, const char *text, int heading)
{
	struct help_line *l;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->l = xreallocarray(h->l, (size_t)h->cap, sizeof(*h->l));
	}
	l = &h->l[h->n++];
	snprintf(l->keys, sizeof(l->keys), "%s", keys);
	snprintf(l->text, sizeof(l->text), "%s", text);
	l->heading = heading;
}

/* The help text of act in map: the binding's own, else the action's. */
static const char *
help_of(const struct keymap *m, enum action act)
{
	const struct keybind *b;

	for (b = m->b; b->key != 0; b++)
		if (b->act == act && b->help != NULL)
			return b->help;
	return keys_action_help(act);
}

/* A table's lines under a heading. */
static void
add_map(struct help *h, const struct keymap *m, const char *heading)
{
	char keys[96];
	int a, any = 0;

	for (a = 0; a < ACT_N; a++) {
		if (keys_action_help((enum action)a) == NULL)
			continue;
		keys_for(m, (enum action)a, keys, sizeof(keys));
		if (keys[0] == '\0')
			continue;
		if (!any)
			add(h, "", heading, 1);
		any = 1;
		add(h, keys, help_of(m, (enum action)a), 0);
	}
	if (any)
		add(h, "", "", 0);
}

/* Open: the lines, the opener's keys first (arg: its screen's name). */
static int
help_open(struct screen *s, struct app *a, struct err *e)
{
	static const struct keymap *const maps[] = {
		&keys_customers, &keys_segments, &keys_journey, &keys_model
	};
	struct help *h = xcalloc(1, sizeof(*h));
	const struct keymap *own = NULL;
	char title[96];
	size_t i;

	(void)e;
	s->priv = h;
	/* the opener's table: its screen name is the argument */
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (strcmp(maps[i]->name, s->arg) == 0)
			own = maps[i];
	if (own != NULL) {
		snprintf(title, sizeof(title), "on the %s screen (before the "
		    "keys below)", own->name);
		add_map(h, own, title);
	}
	add_map(h, &keys_global, "everywhere");
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (maps[i] != own) {
			snprintf(title, sizeof(title), "on the %s screen",
			    maps[i]->name);
			add_map(h, maps[i], title);
		}
	add(h, "", "what the screens show", 1);
	add(h, render_glyph(a->r, GL_CURSOR), "the row under the cursor (also "
	    "in reverse video or colour)", 0);
	add(h, render_utf8(a->r) ? "\u2588\u258c" : "#:", "heat bar: the "
	    "event's weight, scaled to the window's largest; the figure is "
	    "beside it", 0);
	add(h, render_utf8(a->r) ? "\u2588\u2502 \u2502\u2588" : "<| |>",
	    "occlusion effect: left of the rule lowers churn risk, right "
	    "raises it", 0);
	add(h, "masked", "an event left out for a what-if (x restores it)", 0);
	add(h, render_glyph(a->r, GL_CHECK), "a figure beats its baseline "
	    "(the words say it too)", 0);
	add(h, "", "", 0);
	add(h, "", "colour is never the only sign: NO_COLOR or --no-color "
	    "gives monochrome, --ascii ASCII glyphs", 0);
	s->list.n = h->n;
	return 0;
}

/* The lines. */
static void
help_draw(struct screen *s, struct render *r)
{
	struct help *h = s->priv;
	int rows, cols, i, y, kw = 22;

	render_size(r, &rows, &cols);
	s->list.y0 = 1;
	s->list.page = rows - 2;
	/* the list scrolls by its top: keep the cursor on the top line */
	s->list.n = h->n;
	if (s->list.cur < s->list.top)
		s->list.top = s->list.cur;
	if (s->list.cur > s->list.top)
		s->list.top = s->list.cur;
	if (s->list.top > h->n - s->list.page)
		s->list.top = h->n - s->list.page > 0 ? h->n - s->list.page : 0;
	s->list.cur = s->list.top;
	for (i = s->list.top, y = 1; i < h->n && y < rows - 1; i++, y++) {
		const struct help_line *l = &h->l[i];

		if (l->heading) {
			render_textw(r, y, 1, cols - 2, ROLE_HEADER, l->text,
			    0);
			continue;
		}
		render_textw(r, y, 2, kw, ROLE_KEY, l->keys, 0);
		render_textw(r, y, 3 + kw, cols - 4 - kw, ROLE_NORMAL, l->text,
		    0);
	}
	snprintf(s->info, sizeof(s->info), "lines %d-%d of %d (q back) ",
	    s->list.top + 1, s->list.top + s->list.page < h->n ? s->list.top +
	    s->list.page : h->n, h->n);
}

/* Actions: the generic list scrolls; nothing else is special. */
static int
help_action(struct screen *s, enum action act)
{
	(void)s;
	if (act == ACT_HELP)
		return TUI_HANDLED;
	return 0;
}

/* Close. */
static void
help_close(struct screen *s)
{
	struct help *h = s->priv;

	free(h->l);
	free(h);
}

const struct screen_ops screen_help = {
	"help", &keys_help, help_open, help_close, help_draw, help_action,
	NULL
};
