/*
 * fsync_shim.c: preloaded into crisiscastd by 19-outbox-sync and
 * 22-confirm-sync. It watches fdatasync() on files whose path ends in
 * CC_SYNC_NAME (default /outbox.jsonl) and passes every other call
 * through.
 *   CC_SYNC_LOG=PATH: appends one line per watched sync to PATH.
 *   CC_SYNC_FAIL=PATH: while PATH exists, a watched sync fails with EIO
 *   (a disk error that write() did not report).
 *   CC_SYNC_THREAD=1: only syncs made off the process's first thread are
 *   watched (walsync.c's thread, not the loop's SQLite commits).
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
watched(int fd)
{
	const char *name = getenv("CC_SYNC_NAME"), *th = getenv("CC_SYNC_THREAD");
	char link[64], path[4096];
	ssize_t n;
	size_t len;

	if (name == NULL)
		name = "/outbox.jsonl";
	if (th != NULL && strcmp(th, "1") == 0 && gettid() == getpid())
		return 0;
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

	if (watched(fd)) {
		if (log != NULL) {
			int l = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			    0600);
			if (l >= 0) {
				(void)!write(l, "sync\n", 5);
				close(l);
			}
		}
		if (fail != NULL && access(fail, F_OK) == 0) {
			errno = EIO;
			return -1;
		}
	}
	*(void **)&next = dlsym(RTLD_NEXT, "fdatasync");
	return next(fd);
}
