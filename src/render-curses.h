/*
 * render-curses.h: the one way into curses. Only render.c, tui.c and
 * keys.c include it; screens speak to render.h and keys.h instead.
 * Wide-character curses (ncursesw) is asked for explicitly, so that
 * UTF-8 glyphs and text are drawn as characters, not bytes.
 */
#ifndef JS_RENDER_CURSES_H
#define JS_RENDER_CURSES_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR	1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED	1
#endif
#include <curses.h>

#endif
