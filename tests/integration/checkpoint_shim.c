/*
 * checkpoint_shim.c: preloaded into crisiscastd by 18-checkpoint to make
 * the checkpoint thread fail the two ways it can. CC_SHIM=thread:
 * pthread_create() fails with EAGAIN (no more tasks). CC_SHIM=open:
 * sqlite3_open_v2() fails with SQLITE_CANTOPEN on any thread but the
 * process's first. Anything else passes through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
mode(const char *m)
{
	const char *v = getenv("CC_SHIM");

	return v != NULL && strcmp(v, m) == 0;
}

int
pthread_create(pthread_t *t, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg)
{
	int (*next)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
	    void *);

	if (mode("thread"))
		return EAGAIN;
	*(void **)&next = dlsym(RTLD_NEXT, "pthread_create");
	return next(t, attr, fn, arg);
}

int
sqlite3_open_v2(const char *path, sqlite3 **db, int flags, const char *vfs)
{
	int (*next)(const char *, sqlite3 **, int, const char *);

	if (mode("open") && gettid() != getpid()) {
		*db = NULL;
		return SQLITE_CANTOPEN;
	}
	*(void **)&next = dlsym(RTLD_NEXT, "sqlite3_open_v2");
	return next(path, db, flags, vfs);
}
