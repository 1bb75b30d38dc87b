/*
 * util.h: small pure helpers shared by every file: allocation, a growable
 * byte buffer, diagnostics with file:line:column, durations and times.
 *
 * Contract: nothing here logs or exits, except the x*alloc family, which
 * abort() on out-of-memory (a broken invariant, not an input error).
 */
#ifndef CRISISCAST_UTIL_H
#define CRISISCAST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTFLIKE(f, a)
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTFLIKE(1, 2);

/* Growable NUL-terminated byte buffer. Zero-initialise, use, buf_free. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) PRINTFLIKE(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Returns the buffer's string (never NULL) and gives ownership to the caller. */
char *buf_take(struct buf *b);
void buf_free(struct buf *b);

/*
 * Diagnostics: a list of "file:line:column: message" lines. Loaders append
 * every problem they find and go on, so one check run shows all of them.
 * line/col are 1-based; 0 means unknown and is left out of the text.
 * A NULL struct diags discards (for re-reading settings already checked).
 */
struct diags {
	char **msgs;
	size_t n;
	size_t warnings;	/* how many of msgs are warnings */
};
void diag_add(struct diags *d, const char *file, int line, int col,
    const char *fmt, ...) PRINTFLIKE(5, 6);
void diag_warn(struct diags *d, const char *file, int line, int col,
    const char *fmt, ...) PRINTFLIKE(5, 6);
size_t diag_errors(const struct diags *d);
void diag_free(struct diags *d);

/*
 * Durations such as "90s", "10m", "1h30m", "2d" (and a bare number of
 * seconds). Returns 0 and stores seconds, or -1 when malformed or over a year.
 */
int parse_duration(const char *s, long *secs);
/* Formats seconds back to the canonical shortest form ("1h30m", "45s"). */
void format_duration(long secs, char *out, size_t outsz);

/* Strict decimal integer in [min, max]; -1 on anything else. */
int parse_long(const char *s, long min, long max, long *out);

/* ISO 8601 in Japan time, "2026-11-21T03:04:05+09:00". */
void format_time_jst(time_t t, char *out, size_t outsz);
/*
 * Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" (Japan time unless it ends in
 * Z or +hh:mm) into a time_t. Returns -1 when malformed.
 */
int parse_time_jst(const char *s, time_t *out);
/* Broken-down Japan time (UTC+9, no DST) for t. */
void jst_tm(time_t t, struct tm *tm);

/* true when s is valid UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8 s. */
size_t utf8_count(const char *s, size_t len);

/* true when s has the given prefix. */
bool startswith(const char *s, const char *prefix);

/* Reads a whole file of at most maxlen bytes; NUL-terminated. NULL + errno. */
char *read_file(const char *path, size_t maxlen, size_t *lenp);

/* path if absolute, else dir/path. Always a new string. */
char *path_join(const char *dir, const char *path);

#endif
