/*
 * checkpoint.c: WAL checkpoints off the event loop.
 *
 * SQLite's automatic checkpoint runs inside the commit that takes the WAL
 * past 1,000 pages: it copies those pages into the database file and syncs
 * it, tens of milliseconds on the loop thread, paid by every confirmation
 * that waits for the next group commit (bench/confirm.sh: p99 8 to 31 ms
 * with it, 4 to 5 ms without). Here the state connection's WAL hook takes
 * its place. When a commit leaves CHECKPOINT_PAGES or more in the WAL, the
 * hook wakes one thread, which has its own connection to the same file and
 * runs a PASSIVE checkpoint: that never waits for the writer or a reader,
 * copies what no reader still needs, and once all is copied the next
 * commit starts the WAL over. Durability does not change: a commit is
 * durable when its WAL frames are synced (synchronous=FULL), and the
 * checkpoint syncs the database file before the WAL may be reused.
 *
 * The thread and its connection start on the first commit that needs
 * them, so a daemon that has written little (one idle since its start)
 * carries neither. When the thread cannot start or its connection cannot
 * open, the hook checkpoints on the loop, as SQLite itself would have.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define CHECKPOINT_PAGES	1000	/* SQLite's own default threshold */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	sqlite3 *main_db;		/* the loop's connection */
	char *path;
	bool made;			/* the thread was created */
	bool failed;			/* no thread: checkpoint on the loop */
	bool wanted;			/* a checkpoint is due */
	bool stopping;
	unsigned long runs;		/* checkpoints the thread ran */
	unsigned long loop_runs;	/* and the loop (loop thread only) */
} ck = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
};

/* A PASSIVE checkpoint of db; logs what it did at debug level. */
static void
run_checkpoint(sqlite3 *db, const char *where)
{
	int frames = 0, copied = 0, rc;
	uint64_t t0 = monotonic_usec();

	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &frames, &copied);
	if (rc == SQLITE_BUSY)	/* another connection checkpoints: later */
		log_debug("checkpoint (%s): busy", where);
	else if (rc != SQLITE_OK)
		log_warnx("checkpoint: %s", sqlite3_errmsg(db));
	else
		log_debug("checkpoint (%s): %d of %d frames in %" PRIu64 " us",
		    where, copied, frames, monotonic_usec() - t0);
}

static void *
checkpoint_main(void *arg)
{
	sqlite3 *db = NULL;

	(void)arg;
	if (sqlite3_open_v2(ck.path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK) {
		log_warnx("checkpoint: %s: %s; checkpoints run on the loop",
		    ck.path, db != NULL ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		pthread_mutex_lock(&ck.mu);
		ck.failed = true;
		pthread_mutex_unlock(&ck.mu);
		return NULL;
	}
	pthread_mutex_lock(&ck.mu);
	for (;;) {
		while (!ck.wanted && !ck.stopping)
			pthread_cond_wait(&ck.cv, &ck.mu);
		if (ck.stopping)
			break;
		ck.wanted = false;
		pthread_mutex_unlock(&ck.mu);
		run_checkpoint(db, "thread");
		pthread_mutex_lock(&ck.mu);
		ck.runs++;
	}
	pthread_mutex_unlock(&ck.mu);
	sqlite3_close(db);
	return NULL;
}

/* Creates the thread; false (logged) when it cannot. Loop thread only. */
static bool
start_thread(void)
{
	int rc = thread_start(&ck.thread, checkpoint_main, "checkpoint");

	if (rc != 0) {
		log_warnx("checkpoint: cannot start a thread: %s; checkpoints "
		    "run on the loop", strerror(rc));
		return false;
	}
	return true;
}

/*
 * The WAL hook: runs on the loop thread after every commit of the state
 * connection, with the pages now in the WAL. Must stay cheap.
 */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	bool inline_ck;

	(void)arg;
	(void)name;
	if (pages < CHECKPOINT_PAGES)
		return SQLITE_OK;
	pthread_mutex_lock(&ck.mu);
	if (!ck.made && !ck.failed) {	/* the first time: start it */
		ck.made = start_thread();
		ck.failed = !ck.made;
	}
	inline_ck = ck.failed;
	if (!inline_ck) {
		ck.wanted = true;
		pthread_cond_signal(&ck.cv);
	}
	pthread_mutex_unlock(&ck.mu);
	if (inline_ck) {
		run_checkpoint(db, "loop");
		ck.loop_runs++;
	}
	return SQLITE_OK;
}

void
checkpoint_init(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");

	if (path == NULL || *path == '\0')
		fatalx("checkpoint: the state database has no file name");
	ck.main_db = db;
	ck.path = xstrdup(path);
	/* Replaces SQLite's automatic checkpoint on this connection. */
	sqlite3_wal_hook(db, wal_hook, NULL);
}

void
checkpoint_counts(unsigned long *thread, unsigned long *loop)
{
	pthread_mutex_lock(&ck.mu);
	*thread = ck.runs;
	pthread_mutex_unlock(&ck.mu);
	*loop = ck.loop_runs;
}

void
checkpoint_shutdown(void)
{
	if (ck.main_db == NULL)
		return;
	pthread_mutex_lock(&ck.mu);
	ck.stopping = true;
	pthread_cond_signal(&ck.cv);
	pthread_mutex_unlock(&ck.mu);
	/* A checkpoint under way finishes first: at most one WAL's worth. */
	if (ck.made)
		pthread_join(ck.thread, NULL);
	sqlite3_wal_hook(ck.main_db, NULL, NULL);
	free(ck.path);
	ck.path = NULL;
	ck.main_db = NULL;
}
