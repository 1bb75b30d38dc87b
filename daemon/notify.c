/*
 * notify.c: the service manager notification protocol of sd_notify(3),
 * spoken directly: each state change is one datagram to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or '@' and an abstract name). The
 * protocol is a stable interface of systemd; speaking it here spares a
 * network-facing daemon libsystemd and the six libraries it loads
 * (liblzma, liblz4, libzstd, libgcrypt, libgpg-error, libcap), 0.8 MB of
 * resident memory, for three calls (OpenSSH did the same in 2024).
 *
 * Contract: never blocks (MSG_DONTWAIT: a manager too busy to take a
 * datagram misses it, and a keep-alive is sent again at the next tick);
 * never changes the environment; without $NOTIFY_SOCKET does nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

/* Fills *sa from $NOTIFY_SOCKET; its length in *len. 1 done, 0 when the
 * variable is unset or empty, -1 (logged once) when it cannot be used. */
static int
notify_addr(struct sockaddr_un *sa, socklen_t *len)
{
	static bool warned;
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;

	if (e == NULL || *e == '\0')
		return 0;
	n = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || n < 2 ||
	    n >= sizeof(sa->sun_path)) {
		if (!warned)
			log_warnx("NOTIFY_SOCKET \"%.64s\" is not an absolute "
			    "path or an abstract name ('@...') that fits a "
			    "socket address; not notifying", e);
		warned = true;
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, e, n);
	if (e[0] == '@')
		sa->sun_path[0] = '\0';		/* abstract: no NUL at the end */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (e[0] == '/'));
	return 1;
}

int
notify(const char *fmt, ...)
{
	struct sockaddr_un sa;
	socklen_t salen;
	char msg[512];
	va_list ap;
	int fd, rc, n;

	if ((rc = notify_addr(&sa, &salen)) <= 0)
		return rc;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg)) {
		log_warnx("notify: message too long, not sent");
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		log_warn("notify: socket");
		return -1;
	}
	rc = 1;
	if (sendto(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sa, salen) != (ssize_t)n) {
		log_warn("notify: %s", getenv("NOTIFY_SOCKET"));
		rc = -1;
	}
	close(fd);
	return rc;
}

uint64_t
notify_watchdog_usec(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;
	uint64_t v;

	if (us == NULL || *us < '0' || *us > '9')
		return 0;
	errno = 0;
	v = strtoull(us, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0) {
		log_warnx("WATCHDOG_USEC \"%.32s\" is not a positive number of "
		    "microseconds; no watchdog", us);
		return 0;
	}
	if (pid != NULL) {
		unsigned long p;
		errno = 0;
		p = strtoul(pid, &end, 10);
		/* Meant for another process (one that exec'd us, say). */
		if (errno != 0 || *end != '\0' || p != (unsigned long)getpid())
			return 0;
	}
	return v;
}
