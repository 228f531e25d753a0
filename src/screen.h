/*
 * screen.h: the explorer's screens and what they share. A screen is an
 * ops table over a small generic struct, kept on a stack by tui.c (the
 * input loop); screen-<name>.c each define one ops table. Screens draw
 * only through render.h, read the store through store.h and run the
 * model through explain.h; they never touch curses or read keys.
 */
#ifndef JS_SCREEN_H
#define JS_SCREEN_H
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store.h"

struct err;
struct render;
struct explain;
struct nn_model;
struct screen;
struct tui;			/* opaque: tui.c */

/* Flags an action returns to the input loop. */
#define TUI_HANDLED	1	/* done; nothing generic to do */
#define TUI_REDRAW	2	/* draw again */
#define TUI_POP		4	/* close this screen */
#define TUI_QUIT	8	/* leave the explorer */

/* What every screen sees: the store, the model, the renderer. */
struct app {
	struct store		*s;
	const char		*path;
	int			 readonly;	/* no scoring or training */
	struct render		*r;
	struct store_browser	*br;		/* the customer pages */
	struct store_hreader	*hr;		/* histories with text */
	/* the current model: its row when the store has one; the file is
	 * loaded on first use (tui_model) */
	int			 has_model;
	struct store_model	 mrow;
	struct nn_model		*m;
	struct explain		*x;
	char			 model_note[640];	/* why no model */
	int			 horizon_days;	/* the model's, else 30 */
	int64_t			 last_ts;	/* the store's last event */
	int64_t			 n_customers, n_events;
	struct tui		*tui;
};

/*
 * A list the input loop can move on its own: screens that keep all
 * their rows in memory set n (and y0, the screen row of the first
 * visible one, page, the visible rows, while drawing); the generic
 * meaning of up, down, page, top, bottom and mouse clicks moves cur and
 * keeps it inside top .. top + page - 1.
 */
struct screen_list {
	int	 n, cur, top, page, y0;
};

struct screen {
	const struct screen_ops	*ops;
	struct app		*app;
	void			*priv;		/* the screen's own state */
	char			 arg[128];	/* what it was opened on */
	char			 crumb[128];	/* its part of the breadcrumb */
	char			 info[160];	/* right of the status line */
	struct screen_list	 list;
	int			 pane, n_panes;	/* focused pane, how many */
};

struct screen_ops {
	const char		*name;		/* title bar */
	const struct keymap	*keys;	/* screen bindings, may be NULL */
	int	(*open)(struct screen *, struct app *, struct err *);
	void	(*close)(struct screen *);
	/* rows 1 .. rows-2 of the screen; never blocks, reads one page */
	void	(*draw)(struct screen *, struct render *);
	int	(*action)(struct screen *, enum action); /* TUI_* flags */
	/* one step of long work: 1 while more is left, 0 when idle; NULL */
	int	(*idle)(struct screen *);
};

extern const struct screen_ops screen_customers, screen_segments,
    screen_journey, screen_model, screen_help;

/* ---- what tui.c offers the screens ---- */

/* Open a screen on arg (may be NULL) on top of the stack: 0 or -1 and e. */
int		 tui_push(struct app *, const struct screen_ops *,
		    const char *arg, struct err *);
/* A message in the status line until the next key (role: NOTE or ERROR). */
void		 tui_note(struct app *, int is_error, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/*
 * Ask for a line of text in the status line; done(screen, text) runs on
 * Enter (text "" when emptied), nothing on Esc.
 */
void		 tui_prompt(struct app *, struct screen *, const char *label,
		    const char *init,
		    void (*done)(struct screen *, const char *));
/*
 * The current model, loaded on first use; NULL when the store has none
 * or it does not load (app->model_note says why, for the screen).
 */
struct nn_model	*tui_model(struct app *);
/* Make the model called name current (NULL: the newest): 0 or -1 and e. */
int		 tui_use_model(struct app *, const char *name, struct err *);
/* Tell every screen the store changed (ACT_RELOAD): new scores, a model. */
void		 tui_reload(struct app *);
/* Seconds on a monotonic clock. */
double		 tui_now(void);

/* Keep the generic list's cursor inside it and its page in view. */
void		 tui_list_clamp(struct screen_list *);

/* Return values of a screen's idle step. */
#define TUI_IDLE_DONE	0	/* nothing left to do */
#define TUI_IDLE_MORE	1	/* call again as soon as no key waits */
#define TUI_IDLE_WAIT	2	/* waiting on a thread: call again soon */

/* ---- running the explorer (cmd-explore.c) ---- */

struct tui_opts {
	int		 ascii;		/* ASCII glyphs */
	int		 mono;		/* no colour */
	int		 mouse;		/* wheel and clicks */
	int		 timing;	/* per-key milliseconds on stderr */
	double		 t_start;	/* tui_now() when the command began */
	const char	*headless;	/* key script; NULL: the terminal */
	int		 cols, rows;	/* headless terminal size */
	const char	*dump;		/* headless dumps; NULL: stdout */
	int		 dump_attrs;	/* dumps add attribute codes */
};

/*
 * Run the explorer on app (the store and model fields filled) with the
 * customers screen first, until the user quits, the key script ends or
 * a signal comes. The terminal is restored on every way out (also by
 * fatal() and crash signals). Returns the exit status (0, or 128 + the
 * signal), or -1 and e when the terminal cannot be started.
 */
int		 tui_run(struct app *, const struct tui_opts *, struct err *);

#endif
