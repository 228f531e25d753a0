/*
 * tap.h: a tiny TAP producer for the C tests. plan(n) first (or
 * done_testing() last), then ok/is_int/is_str/is_near; exit_status()
 * is non-zero when a check failed.
 */
#ifndef JS_TAP_H
#define JS_TAP_H
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned;

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

static inline void
tap_vreport(int pass, const char *fmt, va_list ap)
{
	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	vprintf(fmt, ap);
	putchar('\n');
	if (!pass)
		tap_failed++;
	fflush(stdout);
}

static inline int __attribute__((format(printf, 2, 3)))
ok(int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	return pass;
}

static inline void __attribute__((format(printf, 1, 2)))
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline int __attribute__((format(printf, 3, 4)))
is_int(int64_t got, int64_t want, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		diag("got %lld, want %lld", (long long)got, (long long)want);
	return got == want;
}

static inline int __attribute__((format(printf, 3, 4)))
is_str(const char *got, const char *want, const char *fmt, ...)
{
	int pass = got != NULL && want != NULL ? strcmp(got, want) == 0 :
	    got == want;
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("got '%s', want '%s'", got ? got : "(null)",
		    want ? want : "(null)");
	return pass;
}

static inline int __attribute__((format(printf, 4, 5)))
is_near(double got, double want, double tol, const char *fmt, ...)
{
	int pass = fabs(got - want) <= tol;
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("got %.9g, want %.9g (tolerance %g)", got, want, tol);
	return pass;
}

/* n checks that cannot run here, passed as TAP skips. */
static inline void
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
	fflush(stdout);
}

static inline void
done_testing(void)
{
	if (!tap_planned)
		printf("1..%d\n", tap_n);
}

static inline int
exit_status(void)
{
	done_testing();
	return tap_failed || (tap_planned && tap_planned != tap_n) ? 1 : 0;
}

#endif
