/*
 * walsync.c: syncs the state database's WAL on a thread of its own, so
 * that group-committed confirmations do not hold the loop while the disk
 * syncs.
 *
 * ack.c commits a group of confirmations with synchronous=NORMAL: the
 * commit writes its WAL frames and does not sync them. It then asks for a
 * sync here (walsync_request) and answers the group's callers only when a
 * sync that began after that commit has finished, so a 2xx still means the
 * confirmation is on disk. Meanwhile the loop reads the next requests and
 * commits the next group; one sync covers every group committed while the
 * previous one ran. A commit with synchronous=FULL (everything else the
 * daemon writes) syncs the same WAL, so nothing is less durable than
 * before: only the wait has left the loop. SQLite keeps a WAL database
 * consistent under synchronous=NORMAL whatever happens; this adds back the
 * durability of each answered confirmation.
 *
 * fdatasync() on a descriptor of our own for the -wal file makes every
 * frame written to it before the call durable: a sync covers the file,
 * whichever descriptor asks. The file stays the same while the state
 * connection is open (SQLite restarts a WAL in place); the thread checks
 * its inode before each sync all the same and opens it again if it
 * changed.
 *
 * Handing the sync to a thread costs two wake-ups. On a disk that syncs in
 * a tenth of a millisecond that is more than the sync, and on two busy
 * cores the thread can wait for a CPU for milliseconds (bench/confirm.sh:
 * p99 11 ms in one run of four against 5 ms on the loop). So the thread is
 * used only while syncs are slow: walsync_observe() is told how long each
 * FULL commit and each of the thread's syncs took, and walsync_wanted()
 * turns on at WALSYNC_ON_US (a moving average) and off below
 * WALSYNC_OFF_US. Each switch is logged.
 *
 * The thread starts on the first request. When the -wal file cannot be
 * opened or the thread cannot start, walsync_ready() says no and ack.c
 * commits with synchronous=FULL on the loop, as it did before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

#define WALSYNC_ON_US	1000	/* average commit sync: use the thread */
#define WALSYNC_OFF_US	400	/* and back to the loop below this */

/* A caller waiting for the sync of generation gen. Loop thread only. */
struct waiter {
	uint64_t gen;
	walsync_fn fn;
	void *arg;
	struct waiter *next;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	char *path;			/* the -wal file */
	int fd;				/* its descriptor, the thread's */
	int efd;			/* eventfd: the thread tells the loop */
	struct event *ev;
	bool made, failed, stopping;
	/* Generations: one a request; done is the last one synced (or
	 * failed), [fail_lo, fail_hi] those whose sync failed since the loop
	 * last looked, with fail_errno. Under mu. */
	uint64_t requested, done, fail_lo, fail_hi;
	int fail_errno;
	unsigned long syncs;
	uint64_t last_us;		/* the last sync's duration */
	struct waiter *head, **tail;	/* loop thread only */
	uint64_t avg_us;		/* loop thread only: moving average */
	bool wanted;			/* loop thread only */
} ws = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
	.fd = -1,
	.efd = -1,
	.tail = &ws.head,
};

/* The thread's sync: opens the file again if it is not the one at path. */
static int
sync_wal(void)
{
	struct stat a, b;

	if (stat(ws.path, &a) == 0 && (fstat(ws.fd, &b) < 0 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
		int fd = open(ws.path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		close(ws.fd);
		ws.fd = fd;
	}
	return fdatasync(ws.fd);
}

static void *
walsync_main(void *arg)
{
	uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&ws.mu);
	for (;;) {
		uint64_t gen, t0;
		int rc, e;

		while (ws.requested == ws.done && !ws.stopping)
			pthread_cond_wait(&ws.cv, &ws.mu);
		if (ws.requested == ws.done)	/* stopping, nothing owed */
			break;
		gen = ws.requested;
		pthread_mutex_unlock(&ws.mu);
		t0 = monotonic_usec();
		rc = sync_wal();
		e = errno;
		t0 = monotonic_usec() - t0;
		pthread_mutex_lock(&ws.mu);
		ws.last_us = t0;
		if (rc < 0) {
			if (ws.fail_hi == 0)
				ws.fail_lo = ws.done + 1;
			ws.fail_hi = gen;
			ws.fail_errno = e;
		}
		ws.done = gen;
		ws.syncs++;
		pthread_mutex_unlock(&ws.mu);
		if (write(ws.efd, &one, sizeof(one)) < 0)
			log_warn("walsync: eventfd");
		pthread_mutex_lock(&ws.mu);
	}
	pthread_mutex_unlock(&ws.mu);
	return NULL;
}

/* Calls every waiter whose sync has finished. Loop thread only. */
static void
complete(void)
{
	uint64_t done, lo, hi, us;
	int err;

	pthread_mutex_lock(&ws.mu);
	us = ws.last_us;
	done = ws.done;
	lo = ws.fail_lo;
	hi = ws.fail_hi;
	err = ws.fail_errno;
	ws.fail_lo = ws.fail_hi = 0;
	pthread_mutex_unlock(&ws.mu);
	if (hi != 0)
		log_warnx("walsync: %s: %s", ws.path, strerror(err));
	walsync_observe(us);
	while (ws.head != NULL && ws.head->gen <= done) {
		struct waiter *w = ws.head;
		if ((ws.head = w->next) == NULL)
			ws.tail = &ws.head;
		w->fn(w->arg, w->gen >= lo && w->gen <= hi ? err : 0);
		free(w);
	}
}

static void
on_synced(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)what;
	(void)arg;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("walsync: eventfd");
	complete();
}

/* Opens the file, the eventfd and the thread; false (logged) if any
 * cannot be had, and then never again. */
static bool
start(void)
{
	int rc;

	if ((ws.fd = open(ws.path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn("walsync: %s; confirmations sync on the loop",
		    ws.path);
		return false;
	}
	if ((ws.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    (ws.ev = event_new(cd->base, ws.efd, EV_READ | EV_PERSIST,
	    on_synced, NULL)) == NULL || event_add(ws.ev, NULL) < 0) {
		log_warn("walsync: eventfd; confirmations sync on the loop");
		return false;
	}
	if ((rc = thread_start(&ws.thread, walsync_main, "walsync")) != 0) {
		log_warnx("walsync: cannot start a thread: %s; confirmations "
		    "sync on the loop", strerror(rc));
		return false;
	}
	return true;
}

/* Contract in daemon.h. */
void
walsync_init(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");

	if (path == NULL || *path == '\0')
		fatalx("walsync: the state database has no file name");
	ws.path = xasprintf("%s-wal", path);
}

/* Contract in daemon.h. */
void
walsync_observe(uint64_t us)
{
	ws.avg_us = ws.avg_us == 0 ? us : (7 * ws.avg_us + us) / 8;
}

/* Contract in daemon.h. */
bool
walsync_wanted(void)
{
	bool was = ws.wanted;

	if (!ws.wanted && ws.avg_us >= WALSYNC_ON_US)
		ws.wanted = true;
	else if (ws.wanted && ws.avg_us < WALSYNC_OFF_US)
		ws.wanted = false;
	if (ws.wanted != was)
		log_info("walsync: commits sync in %.1f ms; confirmations "
		    "now sync %s", (double)ws.avg_us / 1000,
		    ws.wanted ? "on a thread" : "on the loop");
	return ws.wanted;
}

/* Contract in daemon.h. */
bool
walsync_ready(void)
{
	if (ws.path == NULL || ws.failed)
		return false;
	if (!ws.made && !(ws.made = start())) {
		ws.failed = true;
		if (ws.ev != NULL)
			event_free(ws.ev);
		ws.ev = NULL;
		if (ws.efd >= 0)
			close(ws.efd);
		if (ws.fd >= 0)
			close(ws.fd);
		ws.efd = ws.fd = -1;
	}
	return ws.made;
}

/* Contract in daemon.h. */
void
walsync_request(walsync_fn fn, void *arg)
{
	struct waiter *w = xcalloc(1, sizeof(*w));

	w->fn = fn;
	w->arg = arg;
	pthread_mutex_lock(&ws.mu);
	w->gen = ++ws.requested;
	pthread_cond_signal(&ws.cv);
	pthread_mutex_unlock(&ws.mu);
	*ws.tail = w;
	ws.tail = &w->next;
}

/* Contract in daemon.h. */
unsigned long
walsync_count(void)
{
	unsigned long n;

	pthread_mutex_lock(&ws.mu);
	n = ws.syncs;
	pthread_mutex_unlock(&ws.mu);
	return n;
}

/* Contract in daemon.h. */
void
walsync_shutdown(void)
{
	if (ws.made) {
		pthread_mutex_lock(&ws.mu);
		ws.stopping = true;
		pthread_cond_signal(&ws.cv);
		pthread_mutex_unlock(&ws.mu);
		/* The thread syncs what is owed before it ends. */
		pthread_join(ws.thread, NULL);
		complete();
		event_free(ws.ev);
		close(ws.efd);
		close(ws.fd);
	}
	free(ws.path);
	ws.path = NULL;
	ws.made = ws.failed = ws.stopping = false;
	ws.ev = NULL;
	ws.efd = ws.fd = -1;
}
