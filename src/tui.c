/*
 * tui.c: the explorer's only input loop. Owns the curses session (a
 * terminal, or a null terminal of a fixed size for headless runs), the
 * screen stack, the title and status lines (breadcrumb, notes, the input
 * prompt), resizes, idle steps of long work between keys, and the way
 * out: the terminal is restored on quitting, on errors, on SIGINT,
 * SIGTERM and SIGHUP, on fatal() and on crash signals. Screens never see
 * curses or keys: they get actions (keys.h) and draw through render.h.
 */
#include "config.h"
#include "screen.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "err.h"
#include "explain.h"
#include "nn.h"
#include "render.h"
#include "render-curses.h"
#include "util.h"

#define TUI_DEPTH	16	/* screens on the stack at most */
#define TUI_MIN_COLS	50	/* below this a message asks for more room */
#define TUI_MIN_ROWS	12
#define TUI_POLL_MS	250	/* wait for a key at most (signals, threads) */

struct tui {
	struct app		*a;
	const struct tui_opts	*o;
	struct screen		*stack[TUI_DEPTH];
	int			 depth;
	int			 dirty;
	int			 quit;
	int			 idle_check;	/* screens may have idle work */
	int			 model_tried;	/* the lazy load ran */
	int			 drawn;		/* frames drawn */
	/* headless */
	SCREEN			*term;
	FILE			*tout, *tin;
	struct keyscript	*ks;
	FILE			*dump;
	int			 n_dumps;
	int			 budget; /* idle rounds before the next key */
	struct buf		 timing; /* interactive: printed at exit */
	/* the status line */
	char			 note[256];
	int			 note_err;
	/* the prompt */
	int			 prompting;
	char			 plabel[64];
	char			 ptext[256];
	struct screen		*pscreen;
	void			(*pdone)(struct screen *, const char *);
};

static volatile sig_atomic_t tui_sig;	/* the signal that came, or 0 */
static int tui_active;			/* curses is running */
static SCREEN *tui_term;		/* headless: the null terminal */

/* Seconds on a monotonic clock. */
double
tui_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Give the terminal back; safe to call twice. */
static void
tui_restore(void)
{
	if (!tui_active)
		return;
	tui_active = 0;
	curs_set(1);
	endwin();
	if (tui_term != NULL) {
		delscreen(tui_term);
		tui_term = NULL;
	}
}

/* SIGINT, SIGTERM, SIGHUP: leave at the next turn of the loop; a second
 * one leaves at once (best effort: endwin is not async-signal-safe). */
static void
on_quit_signal(int sig)
{
	if (tui_sig != 0) {
		tui_restore();
		_exit(128 + sig);
	}
	tui_sig = sig;
}

/* A crash: restore the terminal, then die of the same signal. */
static void
on_crash_signal(int sig)
{
	tui_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Install the handlers (before curses, which then keeps its hands off). */
static void
signals_install(void)
{
	static const int quit_sigs[] = { SIGINT, SIGTERM, SIGHUP };
	static const int crash_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
		SIGABRT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_quit_signal;	/* no SA_RESTART: wake the wait */
	for (i = 0; i < sizeof(quit_sigs) / sizeof(quit_sigs[0]); i++)
		sigaction(quit_sigs[i], &sa, NULL);
	sa.sa_handler = on_crash_signal;
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(crash_sigs) / sizeof(crash_sigs[0]); i++)
		sigaction(crash_sigs[i], &sa, NULL);
	fatal_hook(tui_restore);
	atexit(tui_restore);
}

/* Default handlers again (the explorer has left). */
static void
signals_restore(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS,
		SIGFPE, SIGILL, SIGABRT };
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	fatal_hook(NULL);
}

/* The tui of an app (every app has one while tui_run runs). */
static struct tui *
tui_of(struct app *a)
{
	return a->tui;
}

/* The top screen. */
static struct screen *
top(struct tui *t)
{
	return t->depth > 0 ? t->stack[t->depth - 1] : NULL;
}

/* A note in the status line. */
void
tui_note(struct app *a, int is_error, const char *fmt, ...)
{
	struct tui *t = tui_of(a);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->note, sizeof(t->note), fmt, ap);
	va_end(ap);
	t->note_err = is_error;
	t->dirty = 1;
}

/* Start the prompt. */
void
tui_prompt(struct app *a, struct screen *s, const char *label,
    const char *init, void (*done)(struct screen *, const char *))
{
	struct tui *t = tui_of(a);

	t->prompting = 1;
	snprintf(t->plabel, sizeof(t->plabel), "%s", label);
	snprintf(t->ptext, sizeof(t->ptext), "%s", init != NULL ? init : "");
	t->pscreen = s;
	t->pdone = done;
	t->dirty = 1;
}

/* The list's cursor in range, its page in view. */
void
tui_list_clamp(struct screen_list *l)
{
	if (l->page < 1)
		l->page = 1;
	if (l->cur >= l->n)
		l->cur = l->n - 1;
	if (l->cur < 0)
		l->cur = 0;
	if (l->top > l->cur)
		l->top = l->cur;
	if (l->cur >= l->top + l->page)
		l->top = l->cur - l->page + 1;
	if (l->top > l->n - l->page)
		l->top = l->n - l->page;
	if (l->top < 0)
		l->top = 0;
}

/* The horizon of the current model's config (30 days without one). */
static void
model_horizon(struct app *a)
{
	double v;

	a->horizon_days = 30;
	if (a->has_model && explain_json_get(a->mrow.config,
	    "churn_horizon_days", &v, NULL, 0) == 1 && v >= 1 && v < 36600)
		a->horizon_days = (int)v;
}

/* The current model, loaded on first use. */
struct nn_model *
tui_model(struct app *a)
{
	struct err e;

	if (a->m != NULL)
		return a->m;
	if (!a->has_model) {
		snprintf(a->model_note, sizeof(a->model_note), "no model in "
		    "this store: train one (M, then t; or journeyscope train "
		    "%s)", a->path);
		return NULL;
	}
	if (tui_of(a) != NULL && tui_of(a)->model_tried)
		return NULL;
	if (tui_of(a) != NULL)
		tui_of(a)->model_tried = 1;
	err_clear(&e);
	if ((a->m = explain_load_model(a->s, a->mrow.name, NULL, &e)) ==
	    NULL || (a->x = explain_new(a->s, a->m, &e)) == NULL) {
		nn_model_free(a->m);
		a->m = NULL;
		snprintf(a->model_note, sizeof(a->model_note), "model %s does "
		    "not load: %s", a->mrow.name, e.msg);
		return NULL;
	}
	a->model_note[0] = '\0';
	return a->m;
}

/* Every screen hears of it (a new model, a resize). */
static void
broadcast(struct tui *t, enum action act)
{
	int i;

	for (i = 0; i < t->depth; i++)
		if (t->stack[i]->ops->action != NULL)
			t->stack[i]->ops->action(t->stack[i], act);
	t->dirty = 1;
	t->idle_check = 1;
}

/* Every screen re-reads. */
void
tui_reload(struct app *a)
{
	if (tui_of(a) != NULL)
		broadcast(tui_of(a), ACT_RELOAD);
}

/* Make another model current. */
int
tui_use_model(struct app *a, const char *name, struct err *e)
{
	struct store_model row;
	int rc;

	memset(&row, 0, sizeof(row));
	if ((rc = store_model_get(a->s, name, &row, NULL, NULL, e)) < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no model called '%s'",
		    name ? name : "(newest)");
	/* screens stop using the old model (their threads end) first */
	if (tui_of(a) != NULL)
		broadcast(tui_of(a), ACT_UNLOAD);
	explain_free(a->x);
	nn_model_free(a->m);
	a->x = NULL;
	a->m = NULL;
	store_model_release(&a->mrow);
	a->mrow = row;
	a->has_model = 1;
	a->model_note[0] = '\0';
	model_horizon(a);
	if (tui_of(a) != NULL) {
		tui_of(a)->model_tried = 0;
		broadcast(tui_of(a), ACT_RELOAD);
	}
	return 0;
}

/* Open a screen on top. */
int
tui_push(struct app *a, const struct screen_ops *ops, const char *arg,
    struct err *e)
{
	struct tui *t = tui_of(a);
	struct screen *s;

	if (t->depth == TUI_DEPTH)
		return err_set(e, ERR_LIMIT, "%d screens deep: go back first",
		    TUI_DEPTH);
	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->app = a;
	s->n_panes = 1;
	snprintf(s->arg, sizeof(s->arg), "%s", arg != NULL ? arg : "");
	snprintf(s->crumb, sizeof(s->crumb), "%s", ops->name);
	if (ops->open != NULL && ops->open(s, a, e) < 0) {
		free(s);
		return -1;
	}
	t->stack[t->depth++] = s;
	t->dirty = 1;
	t->idle_check = 1;
	return 0;
}

/* Close the top screen. */
static void
pop(struct tui *t)
{
	struct screen *s = top(t);

	if (s == NULL)
		return;
	if (t->prompting && t->pscreen == s)
		t->prompting = 0;
	if (s->ops->close != NULL)
		s->ops->close(s);
	free(s);
	t->depth--;
	t->dirty = 1;
	t->idle_check = 1;
	if (t->depth == 0)
		t->quit = 1;
}

/* ---- drawing ---- */

/* The title bar: program, store, model, what the screen shows. */
static void
draw_title(struct tui *t, int cols)
{
	struct app *a = t->a;
	struct render *r = a->r;
	char n1[32], n2[32], left[512], right[128];
	const char *base = strrchr(a->path, '/');

	render_fill(r, 0, 0, cols, ROLE_TITLE);
	snprintf(left, sizeof(left), " journeyscope%s%s%s%s customers%s%s "
	    "events", render_glyph(r, GL_SEP), base ? base + 1 : a->path,
	    render_glyph(r, GL_SEP), render_fmt_int(a->n_customers, n1,
	    sizeof(n1)), render_glyph(r, GL_SEP), render_fmt_int(a->n_events,
	    n2, sizeof(n2)));
	snprintf(right, sizeof(right), "%s%s%s ", a->has_model ? "model " :
	    "no model", a->has_model ? a->mrow.name : "", a->readonly ?
	    " (read-only store)" : "");
	render_textw(r, 0, 0, cols - render_width(r, right), ROLE_TITLE, left,
	    0);
	render_textw(r, 0, cols - render_width(r, right),
	    render_width(r, right), ROLE_TITLE, right, 0);
}

/* The status line: breadcrumb, then the note, the prompt or the info. */
static void
draw_status(struct tui *t, int rows, int cols)
{
	struct app *a = t->a;
	struct render *r = a->r;
	struct screen *s = top(t);
	char crumb[512];
	size_t used = 0;
	int i, x, w;

	render_fill(r, rows - 1, 0, cols, ROLE_STATUS);
	crumb[0] = '\0';
	for (i = 0; i < t->depth; i++)
		used += (size_t)snprintf(crumb + used, used < sizeof(crumb) ?
		    sizeof(crumb) - used : 0, "%s%s", i ? render_glyph(r,
		    GL_CRUMB) : " ", t->stack[i]->crumb);
	if (t->prompting) {
		x = render_text(r, rows - 1, 0, ROLE_PROMPT, " ");
		x = render_text(r, rows - 1, x, ROLE_PROMPT, t->plabel);
		x = render_text(r, rows - 1, x, ROLE_PROMPT, t->ptext);
		render_cursor(r, rows - 1, x < cols ? x : cols - 1);
		return;
	}
	render_cursor(r, -1, 0);
	/* the crumb keeps at least a third; the right side the rest */
	w = render_width(r, crumb) + 1;
	if (t->note[0] != '\0' || (s != NULL && s->info[0] != '\0')) {
		const char *msg = t->note[0] != '\0' ? t->note : s->info;
		int mw = render_width(r, msg) + 2;

		/* the message wins; the crumb keeps a few cells */
		if (w + mw > cols)
			w = cols - mw > 12 ? cols - mw : 12;
		render_textw(r, rows - 1, 0, w, ROLE_CRUMB, crumb, 0);
		if (cols - w - 1 > 0)
			render_textw(r, rows - 1, w + 1, cols - w - 1,
			    t->note[0] != '\0' ? (t->note_err ? ROLE_ERROR :
			    ROLE_NOTE) : ROLE_STATUS, msg, 1);
		return;
	}
	render_textw(r, rows - 1, 0, w < cols ? w : cols, ROLE_CRUMB, crumb, 0);
}

/* One frame. */
static void
draw(struct tui *t)
{
	struct render *r = t->a->r;
	struct screen *s = top(t);
	int rows, cols;

	render_clear(r);
	render_size(r, &rows, &cols);
	if (rows < TUI_MIN_ROWS || cols < TUI_MIN_COLS) {
		char m1[64], m2[64];
		int y = rows / 2 - 1;

		snprintf(m1, sizeof(m1), "terminal too small: %dx%d", cols,
		    rows);
		snprintf(m2, sizeof(m2), "journeyscope needs %dx%d",
		    TUI_MIN_COLS, TUI_MIN_ROWS);
		render_textw(r, y < 0 ? 0 : y, 0, cols, ROLE_ERROR, m1, 0);
		if (y + 1 < rows)
			render_textw(r, y + 1, 0, cols, ROLE_NORMAL, m2, 0);
		if (y + 2 < rows)
			render_textw(r, y + 2, 0, cols, ROLE_DIM,
			    "(Q quits)", 0);
		render_cursor(r, -1, 0);
	} else {
		draw_title(t, cols);
		if (s != NULL && s->ops->draw != NULL)
			s->ops->draw(s, r);
		draw_status(t, rows, cols);
	}
	wnoutrefresh(stdscr);
	doupdate();
	t->dirty = 0;
	t->drawn++;
}

/* ---- input ---- */

/* A key while the prompt is open. */
static void
prompt_key(struct tui *t, int key)
{
	size_t n = strlen(t->ptext);

	t->dirty = 1;
	if (key == 27) {
		t->prompting = 0;
		return;
	}
	if (key == '\n' || key == '\r' || key == KEYS_FN + KEY_ENTER) {
		char text[sizeof(t->ptext)];

		t->prompting = 0;
		memcpy(text, t->ptext, sizeof(text));
		if (t->pdone != NULL && t->pscreen != NULL)
			t->pdone(t->pscreen, text);
		t->idle_check = 1;
		return;
	}
	if (key == 127 || key == 8 || key == KEYS_FN + KEY_BACKSPACE) {
		while (n > 0 && (t->ptext[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0)
			n--;
		t->ptext[n] = '\0';
		return;
	}
	if (key == KEYS_CTRL('u')) {
		t->ptext[0] = '\0';
		return;
	}
	if (key >= 0x20 && key < KEYS_FN && key != 0x7f) {
		char mb[MB_LEN_MAX + 1];
		mbstate_t ps;
		size_t k;

		memset(&ps, 0, sizeof(ps));
		k = key < 0x80 ? (mb[0] = (char)key, 1) : wcrtomb(mb,
		    (wchar_t)key, &ps);
		if (k != (size_t)-1 && n + k < sizeof(t->ptext)) {
			memcpy(t->ptext + n, mb, k);
			t->ptext[n + k] = '\0';
		}
	}
}

/* The screen's size changed. */
static void
on_resize(struct tui *t)
{
	clearok(curscr, TRUE);
	broadcast(t, ACT_RESIZE);
}

/* What an action means when the screen left it alone. */
static void
generic(struct tui *t, struct screen *s, enum action act)
{
	struct screen_list *l = &s->list;
	struct err e;
	char kb[64];

	err_clear(&e);
	switch (act) {
	case ACT_UP: case ACT_DOWN: case ACT_PGUP: case ACT_PGDN:
	case ACT_TOP: case ACT_BOTTOM:
		if (l->n <= 0)
			return;
		if (act == ACT_UP)
			l->cur--;
		else if (act == ACT_DOWN)
			l->cur++;
		else if (act == ACT_PGUP) {
			l->cur -= l->page;
			l->top -= l->page;
		} else if (act == ACT_PGDN) {
			l->cur += l->page;
			l->top += l->page;
		} else if (act == ACT_TOP)
			l->cur = 0;
		else
			l->cur = l->n - 1;
		tui_list_clamp(l);
		t->dirty = 1;
		return;
	case ACT_BACK:
		pop(t);
		return;
	case ACT_QUIT:
		t->quit = 1;
		return;
	case ACT_HELP:
		if (s->ops != &screen_help && tui_push(t->a, &screen_help,
		    s->ops->name, &e) < 0)
			tui_note(t->a, 1, "%s", e.msg);
		return;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		t->dirty = 1;
		return;
	case ACT_SEGMENTS:
		if (s->ops != &screen_segments && tui_push(t->a,
		    &screen_segments, NULL, &e) < 0)
			tui_note(t->a, 1, "%s", e.msg);
		return;
	case ACT_MODEL:
		if (s->ops != &screen_model && tui_push(t->a, &screen_model,
		    NULL, &e) < 0)
			tui_note(t->a, 1, "%s", e.msg);
		return;
	case ACT_PANE:
		if (s->n_panes > 1) {
			s->pane = (s->pane + 1) % s->n_panes;
			t->dirty = 1;
		} else
			tui_note(t->a, 0, "one pane here");
		return;
	case ACT_RESIZE: case ACT_RELOAD: case ACT_UNLOAD: case ACT_NONE:
		return;
	default:
		keys_for(s->ops->keys != NULL ? s->ops->keys : &keys_global,
		    act, kb, sizeof(kb));
		if (kb[0] == '\0')
			keys_for(&keys_global, act, kb, sizeof(kb));
		tui_note(t->a, 0, "%s: not on the %s screen (? lists its keys)",
		    kb[0] ? kb : keys_action_name(act), s->ops->name);
		return;
	}
}

/* Give the top screen an action, then act on its flags. */
static void
dispatch(struct tui *t, enum action act)
{
	struct screen *s = top(t);
	int flags = 0;

	if (s == NULL)
		return;
	if (s->ops->action != NULL)
		flags = s->ops->action(s, act);
	t->idle_check = 1;
	if (flags & TUI_REDRAW)
		t->dirty = 1;
	if (flags & TUI_QUIT) {
		t->quit = 1;
		return;
	}
	if (flags & TUI_POP) {
		pop(t);
		return;
	}
	if (!(flags & TUI_HANDLED))
		generic(t, s, act);
}

/* A mouse event at (y, x). */
static void
mouse(struct tui *t, int y, int x, int kind)
{
	struct screen *s = top(t);
	struct screen_list *l;
	int i;

	(void)x;
	if (s == NULL)
		return;
	l = &s->list;
	if (kind == KEYS_WHEEL_UP || kind == KEYS_WHEEL_DOWN) {
		for (i = 0; i < 3; i++)
			dispatch(t, kind == KEYS_WHEEL_UP ? ACT_UP : ACT_DOWN);
		return;
	}
	if (l->n <= 0 || y < l->y0 || y >= l->y0 + l->page ||
	    l->top + (y - l->y0) >= l->n)
		return;
	l->cur = l->top + (y - l->y0);
	t->dirty = 1;
	if (kind == KEYS_DOUBLE)
		dispatch(t, ACT_ENTER);
}

/* One key. */
static void
handle_key(struct tui *t, int key)
{
	struct screen *s = top(t);
	enum action act;
	int y, x, kind;

	if (key == KEYS_FN + KEY_RESIZE) {
		on_resize(t);
		return;
	}
	if (key == KEYS_FN + KEY_MOUSE) {
		if (keys_mouse(&y, &x, &kind))
			mouse(t, y, x, kind);
		return;
	}
	t->note[0] = '\0';
	t->dirty = 1;
	if (t->prompting) {
		prompt_key(t, key);
		return;
	}
	if (s == NULL)
		return;
	act = keys_lookup(s->ops->keys, key);
	if (act == ACT_NONE)
		act = keys_lookup(&keys_global, key);
	if (act == ACT_NONE) {
		char kn[32];

		tui_note(t->a, 0, "%s does nothing here (? lists the keys)",
		    keys_name(key, kn, sizeof(kn)));
		return;
	}
	dispatch(t, act);
}

/*
 * One round of idle work: every screen's step, top first, and the lazy
 * model load. Returns the strongest of the screens' answers.
 */
static int
idle_round(struct tui *t)
{
	int i, rc, any = TUI_IDLE_DONE;

	if (!t->model_tried && t->a->has_model && t->a->m == NULL) {
		tui_model(t->a);
		t->dirty = 1;
		any = TUI_IDLE_MORE;
	}
	for (i = t->depth - 1; i >= 0; i--) {
		struct screen *s = t->stack[i];

		if (s->ops->idle == NULL)
			continue;
		rc = s->ops->idle(s);
		if (rc != TUI_IDLE_DONE || t->idle_check)
			t->dirty = 1;
		if (rc == TUI_IDLE_MORE || (rc == TUI_IDLE_WAIT &&
		    any == TUI_IDLE_DONE))
			any = rc;
		if (t->depth == 0)
			break;
	}
	if (any == TUI_IDLE_DONE)
		t->idle_check = 0;
	return any;
}

/* Record a timing line. */
static void
timing(struct tui *t, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!t->o->timing)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (t->o->headless != NULL) {
		fprintf(stderr, "%s\n", line);
		return;
	}
	buf_adds(&t->timing, line);
	buf_addc(&t->timing, '\n');
}

/* Write a dump, headed by a label line when there will be several. */
static int
dump(struct tui *t, const char *label, struct err *e)
{
	int rows, cols;

	/* after the last screen closed, the last frame drawn */
	if (t->dirty && t->depth > 0)
		draw(t);
	render_size(t->a->r, &rows, &cols);
	fprintf(t->dump, "==== %s (%dx%d)\n", label != NULL && *label ? label :
	    "screen", cols, rows);
	t->n_dumps++;
	return render_dump(t->a->r, t->dump, t->o->dump_attrs ?
	    RENDER_DUMP_ATTRS : 0, e);
}

/* A key with its timing: the action and the frame it leads to. */
static void
timed_key(struct tui *t, int key)
{
	double t0 = tui_now();
	char kn[32];

	handle_key(t, key);
	if (t->dirty && !t->quit)
		draw(t);
	timing(t, "key %-10s %8.3f ms", keys_name(key, kn, sizeof(kn)),
	    (tui_now() - t0) * 1000);
}

/* Run idle work until done (or the step budget is spent), timed. */
static void
headless_idle(struct tui *t)
{
	double t0 = tui_now();
	int rounds = 0, rc;

	while (t->budget != 0 && !t->quit) {
		rc = idle_round(t);
		rounds++;
		if (rc == TUI_IDLE_DONE && !t->idle_check)
			break;
		if (t->budget > 0)
			t->budget--;
		if (rc == TUI_IDLE_WAIT)
			usleep(20000);
		if (rounds > 10000000)
			break;
	}
	t->budget = -1;
	if (rounds > 0) {
		timing(t, "idle %d steps %8.3f ms", rounds,
		    (tui_now() - t0) * 1000);
		if (t->dirty && !t->quit)
			draw(t);
	}
}

/* The headless loop: the script's steps, then a last dump. */
static int
loop_headless(struct tui *t, struct err *e)
{
	struct keys_step st;

	t->budget = -1;
	while (!t->quit && !tui_sig) {
		int more;

		if (t->dirty)
			draw(t);
		/* "steps N" limits the idle work before the step after it */
		while ((more = keys_script_next(t->ks, &st)) &&
		    st.kind == STEP_STEPS)
			t->budget = st.n;
		headless_idle(t);
		if (t->quit || !more)
			break;
		switch (st.kind) {
		case STEP_KEY:
			timed_key(t, st.key);
			break;
		case STEP_RESIZE: {
			double t0 = tui_now();

			resizeterm(st.rows, st.cols);
			on_resize(t);
			draw(t);
			timing(t, "resize %dx%d %8.3f ms", st.cols, st.rows,
			    (tui_now() - t0) * 1000);
			break;
		}
		case STEP_DUMP:
			if (dump(t, st.label, e) < 0)
				return -1;
			break;
		case STEP_STEPS:
			break;
		case STEP_MOUSE:
			if (t->o->mouse) {
				mouse(t, st.y, st.x, st.mouse);
				if (t->dirty)
					draw(t);
			}
			break;
		}
	}
	if (tui_sig)
		return 128 + tui_sig;
	if (dump(t, "end", e) < 0)
		return -1;
	return 0;
}

/* The terminal loop. */
static int
loop_terminal(struct tui *t)
{
	int busy = TUI_IDLE_MORE, key;

	while (!t->quit && !tui_sig) {
		if (t->dirty)
			draw(t);
		if (t->drawn == 1 && t->o->t_start > 0) {
			timing(t, "first-screen %8.3f ms", (tui_now() -
			    t->o->t_start) * 1000);
			t->drawn++;
		}
		key = keys_read(busy == TUI_IDLE_MORE || t->idle_check ? 0 :
		    busy == TUI_IDLE_WAIT ? 100 : TUI_POLL_MS);
		if (key == 0) {
			busy = idle_round(t);
			continue;
		}
		timed_key(t, key);
		busy = TUI_IDLE_MORE;
	}
	return tui_sig ? 128 + tui_sig : 0;
}

/* Start curses on the terminal or on a null one. */
static int
start(struct tui *t, struct err *e)
{
	static const char *const terms[] = { "xterm-256color", "xterm",
		"vt100", "ansi" };
	size_t i;

	if (t->o->headless != NULL) {
		if ((t->tout = fopen("/dev/null", "w")) == NULL ||
		    (t->tin = fopen("/dev/null", "r")) == NULL)
			return err_set(e, ERR_IO, "/dev/null: %s",
			    strerror(errno));
		/* a fixed terminal type, so that dumps do not depend on TERM */
		for (i = 0; i < sizeof(terms) / sizeof(terms[0]); i++)
			if ((t->term = newterm(terms[i], t->tout, t->tin)) !=
			    NULL)
				break;
		if (t->term == NULL)
			return err_set(e, ERR_IO, "headless: no terminfo entry "
			    "for xterm-256color, xterm, vt100 or ansi");
		tui_term = t->term;
		set_term(t->term);
		resizeterm(t->o->rows, t->o->cols);
	} else {
		if (!isatty(0) || !isatty(1))
			return err_set(e, ERR_USAGE, "the explorer needs a "
			    "terminal on standard input and output (or "
			    "--headless SCRIPT)");
		if (initscr() == NULL)
			return err_set(e, ERR_IO, "cannot start the terminal "
			    "(TERM=%s)", getenv("TERM") ? getenv("TERM") :
			    "unset");
	}
	tui_active = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (t->o->mouse)
		keys_mouse_enable(1);
	return 0;
}

/* Run the explorer. */
int
tui_run(struct app *a, const struct tui_opts *o, struct err *e)
{
	struct tui t;
	int rc = -1, flags = 0;

	memset(&t, 0, sizeof(t));
	t.a = a;
	t.o = o;
	t.dump = stdout;
	buf_init(&t.timing);
	if (o->headless != NULL) {
		if ((t.ks = keys_script_open(o->headless, e)) == NULL)
			return -1;
		if (o->dump != NULL && (t.dump = fopen(o->dump, "w")) == NULL) {
			err_set(e, ERR_IO, "%s: %s", o->dump, strerror(errno));
			keys_script_free(t.ks);
			return -1;
		}
	}
	a->tui = &t;
	model_horizon(a);
	signals_install();
	if (start(&t, e) < 0)
		goto out;
	if (o->ascii)
		flags |= RENDER_ASCII;
	if (o->mono)
		flags |= RENDER_MONO;
	a->r = render_new(flags);
	if (tui_push(a, &screen_customers, NULL, e) < 0)
		goto out;
	t.dirty = 1;
	if (o->headless != NULL) {
		draw(&t);
		timing(&t, "first-screen %8.3f ms", (tui_now() - o->t_start) *
		    1000);
		rc = loop_headless(&t, e);
	} else
		rc = loop_terminal(&t);
out:
	while (t.depth > 0)
		pop(&t);
	tui_restore();
	signals_restore();
	render_free(a->r);
	a->r = NULL;
	if (t.tout != NULL)
		fclose(t.tout);
	if (t.tin != NULL)
		fclose(t.tin);
	if (t.dump != NULL && t.dump != stdout)
		fclose(t.dump);
	keys_script_free(t.ks);
	if (t.timing.len > 0)
		fputs(t.timing.data, stderr);
	buf_release(&t.timing);
	a->tui = NULL;
	return rc;
}
