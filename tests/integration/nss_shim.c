/*
 * nss_shim.c: preloaded into crisiscastd by 23-listen and 25-slow-passwd.
 * It appends one line to CC_NSS_LOG for each call the daemon makes to
 * getaddrinfo() ("gai NAME") or getpwuid_r() ("pwuid UID"), then passes
 * the call through, so the test can tell when the resolver or the passwd
 * lookup is used. With CC_NSS_DELAY_FILE naming a file that holds a
 * number of milliseconds, getpwuid_r() first sleeps that long (read at
 * each call): a directory server that answers slowly, or not at all.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void
note(const char *what, const char *arg)
{
	const char *path = getenv("CC_NSS_LOG");
	FILE *f;

	if (path == NULL || (f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%s %s\n", what, arg != NULL ? arg : "(null)");
	fclose(f);
}

int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	int (*next)(const char *, const char *, const struct addrinfo *,
	    struct addrinfo **);

	note("gai", node);
	*(void **)&next = dlsym(RTLD_NEXT, "getaddrinfo");
	return next(node, service, hints, res);
}

int
getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
    struct passwd **res)
{
	int (*next)(uid_t, struct passwd *, char *, size_t, struct passwd **);
	const char *delay = getenv("CC_NSS_DELAY_FILE");
	char u[32];
	FILE *f;
	long ms = 0;

	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	note("pwuid", u);
	if (delay != NULL && (f = fopen(delay, "r")) != NULL) {
		if (fscanf(f, "%ld", &ms) == 1 && ms > 0) {
			struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
			while (nanosleep(&ts, &ts) != 0)
				;
		}
		fclose(f);
	}
	*(void **)&next = dlsym(RTLD_NEXT, "getpwuid_r");
	return next(uid, pw, buf, len, res);
}
