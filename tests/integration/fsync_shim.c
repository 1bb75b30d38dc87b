/*
 * fsync_shim.c: preloaded into crisiscastd by 19-outbox-sync and
 * 22-confirm-sync. It watches fdatasync() on files whose path ends in
 * CC_SYNC_NAME (default /outbox.jsonl) and passes every other call
 * through.
 *   CC_SYNC_LOG=PATH: appends one line per watched sync to PATH.
 *   CC_SYNC_FAIL=PATH: while PATH exists, a watched sync fails with EIO
 *   (a disk error that write() did not report).
 *   CC_SYNC_THREAD=1: only syncs made off the process's first thread
 *   are logged or failed (walsync.c's thread, not the loop's SQLite
 *   commits).
 *   CC_SYNC_DELAY_US=N: every sync of the file, on any thread, first
 *   sleeps N microseconds (a slow disk).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
named(int fd)
{
	const char *name = getenv("CC_SYNC_NAME");
	char link[64], path[4096];
	ssize_t n;
	size_t len;

	if (name == NULL)
		name = "/outbox.jsonl";
	len = strlen(name);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) < 0)
		return 0;
	path[n] = '\0';
	return (size_t)n >= len && strcmp(path + n - len, name) == 0;
}

int
fdatasync(int fd)
{
	int (*next)(int);
	const char *log = getenv("CC_SYNC_LOG"), *fail = getenv("CC_SYNC_FAIL");
	const char *delay = getenv("CC_SYNC_DELAY_US");
	const char *th = getenv("CC_SYNC_THREAD");
	int ours = named(fd);

	if (ours && delay != NULL)
		usleep((useconds_t)atoi(delay));
	if (ours && th != NULL && strcmp(th, "1") == 0 && gettid() == getpid())
		ours = 0;
	if (ours && log != NULL) {
		int l = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (l >= 0) {
			(void)!write(l, "sync\n", 5);
			close(l);
		}
	}
	if (ours && fail != NULL && access(fail, F_OK) == 0) {
		errno = EIO;
		return -1;
	}
	*(void **)&next = dlsym(RTLD_NEXT, "fdatasync");
	return next(fd);
}
