/*
 * nss_shim.c: preloaded into crisiscastd by 23-listen. It appends one line
 * to CC_NSS_LOG for each call the daemon makes to getaddrinfo() ("gai
 * NAME") or getpwuid_r() ("pwuid UID"), then passes the call through, so
 * the test can tell when the resolver or the passwd lookup is used.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>

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
	char u[32];

	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	note("pwuid", u);
	*(void **)&next = dlsym(RTLD_NEXT, "getpwuid_r");
	return next(uid, pw, buf, len, res);
}
