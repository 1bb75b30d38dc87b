/*
 * log.h: the daemon's logging, to stderr for journald (with <N> priority
 * prefixes when JOURNAL_STREAM is set). English; no secrets, no message
 * bodies at info level. lib/ code never calls these: only daemon/ does.
 * fatal/fatalx are for start-up failures and broken invariants only.
 */
#ifndef CRISISCAST_LOG_H
#define CRISISCAST_LOG_H

#include "util.h"

void log_init(int debug);
void log_warn(const char *fmt, ...) PRINTFLIKE(1, 2);	/* appends strerror(errno) */
void log_warnx(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_info(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_debug(const char *fmt, ...) PRINTFLIKE(1, 2);
_Noreturn void fatal(const char *fmt, ...) PRINTFLIKE(1, 2);
_Noreturn void fatalx(const char *fmt, ...) PRINTFLIKE(1, 2);

#endif
