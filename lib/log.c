/*
 * log.c: stderr logging with syslog priorities for journald.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int log_debug_on;
static int log_journal;

void
log_init(int debug)
{
	log_debug_on = debug;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

static void
vlog(int prio, const char *tag, const char *fmt, va_list ap, const char *suffix)
{
	struct buf b = {0};

	if (log_journal)
		buf_printf(&b, "<%d>", prio);
	else
		buf_printf(&b, "crisiscastd: %s", tag);
	buf_vprintf(&b, fmt, ap);
	if (suffix != NULL)
		buf_printf(&b, ": %s", suffix);
	buf_addc(&b, '\n');
	fputs(b.data, stderr);
	fflush(stderr);
	buf_free(&b);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(4, "warning: ", fmt, ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(4, "warning: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(6, "", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	vlog(7, "debug: ", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(2, "fatal: ", fmt, ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(2, "fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
