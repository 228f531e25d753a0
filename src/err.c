/*
 * err.c: the code-plus-message error record every module fills, and fatal()
 * for broken invariants. Prints only in fatal().
 */
#include "config.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void (*cleanup)(void);

static const char *const names[] = {
#define ERR_TEXT(name, text) text,
	ERR_CODES(ERR_TEXT)
#undef ERR_TEXT
};

/* The fixed text of a code. */
const char *
err_name(enum err_code c)
{
	if ((unsigned)c >= sizeof(names) / sizeof(names[0]))
		return "unknown error";
	return names[c];
}

/* Fill e with a code and message; returns -1 so callers can return it. */
int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Prepend context to the message. */
void
err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[sizeof(e->msg)], old[sizeof(e->msg)];
	va_list ap;
	size_t n;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	n = strlen(pre);
	if (n > sizeof(e->msg) - 3)
		n = sizeof(e->msg) - 3;
	memcpy(e->msg, pre, n);
	memcpy(e->msg + n, ": ", 2);
	snprintf(e->msg + n + 2, sizeof(e->msg) - n - 2, "%.*s",
	    (int)(sizeof(e->msg) - n - 3), old);
}

/* Reset to success. */
void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_OK;
	e->msg[0] = '\0';
}

/* Register the cleanup run before a fatal message. */
void
fatal_hook(void (*fn)(void))
{
	cleanup = fn;
}

/* Broken invariant or failed small allocation: clean up, say why, abort. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	if (cleanup != NULL) {
		void (*fn)(void) = cleanup;
		cleanup = NULL;
		fn();
	}
	fputs("journeyscope: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
