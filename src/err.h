/* err.h: error codes with a message, filled by callee, read by the CLI or TUI. */
#ifndef JS_ERR_H
#define JS_ERR_H

#define ERR_CODES(X) \
	X(OK, "success") X(USAGE, "usage error") X(NOMEM, "out of memory") \
	X(IO, "input/output error") X(PARSE, "malformed input") \
	X(DB, "database error") X(MODEL, "invalid model") \
	X(NOTFOUND, "not found") X(INTR, "interrupted") X(LIMIT, "limit exceeded")

enum err_code {
#define ERR_ENUM(name, text) ERR_##name,
	ERR_CODES(ERR_ENUM)
#undef ERR_ENUM
};

struct err {
	enum err_code	 code;
	char		 msg[512];	/* "what: why", no newline */
};

/* Fill e (may be NULL) with code and a formatted message; returns -1. */
int		 err_set(struct err *, enum err_code, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/* Prepend "context: " to the message already in e. */
void		 err_prefix(struct err *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* The fixed text of a code. */
const char	*err_name(enum err_code);
/* Clear e to ERR_OK. */
void		 err_clear(struct err *);

/* Print "journeyscope: msg" after running the cleanup hook, then abort. */
void		 fatal(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
/* One hook run by fatal() before it prints (restores the terminal). */
void		 fatal_hook(void (*)(void));

#endif
