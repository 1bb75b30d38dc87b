/*
 * whois.c: the Unix login of a uid, for the control socket, looked up on a
 * thread of its own so that the loop never waits for the passwd database.
 *
 * getpwuid_r() goes through NSS, which in a town hall is often LDAP or SSSD
 * in front of a directory server on the network. When that server cannot
 * be reached a lookup takes seconds, or minutes; on the loop it would hold
 * every delivery, approval and confirmation meanwhile. Here one thread
 * does the lookups, one at a time, and tells the loop through an eventfd.
 * The loop keeps each answer for WHOIS_TTL_SECS (an unknown uid too), so a
 * member's commands in a row cost one lookup. A caller that cannot wait
 * gives up with whois_cancel(); the lookup runs on, and its answer still
 * fills the cache for the next request.
 *
 * The thread starts on the first lookup. If it cannot start, lookups are
 * made on the loop, as before this file existed (logged once).
 *
 * Loop thread only, except whois_main() and what it shares under mu.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define WHOIS_TTL_SECS	60	/* an answer is reused this long */
#define WHOIS_CACHE	64	/* answers kept, the oldest dropped first */
#define WHOIS_JOIN_SECS	2	/* shutdown's wait for a lookup under way */

/* A uid's answer: login NULL when no user has that uid. */
struct answer {
	uid_t uid;
	char *login;
	int err;			/* getpwuid_r's error, 0 if it answered */
	struct answer *next;
};

/* Someone waiting for a uid's answer. Loop thread only. */
struct waiter {
	uid_t uid;
	whois_fn fn;
	void *arg;
	struct waiter *next;
};

/* A cached answer. Loop thread only. */
struct entry {
	uid_t uid;
	char *login;
	time_t at;			/* monotonic seconds; 0: slot unused */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int efd;
	struct event *ev;
	bool made, failed, stopping;
	/* Under mu: uids for the thread, in order; its answers. */
	uid_t *queue;
	size_t nqueue, queuecap;
	struct answer *answers;
	/* Loop thread only. */
	struct waiter *waiters;
	uid_t *asked;			/* queued or being looked up */
	size_t nasked, askedcap;
	struct entry cache[WHOIS_CACHE];
} wh = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
	.efd = -1,
};

static time_t
mono_secs(void)
{
	return (time_t)(monotonic_usec() / 1000000u) + 1;
}

/*
 * The login of uid from the passwd database: *login is a malloc'd name,
 * or NULL when no user has that uid. Returns 0, or getpwuid_r's error
 * (then *login is NULL). Blocks for as long as NSS takes. ENOENT and
 * ESRCH are how some NSS modules say "no such user" (getpwuid_r(3)).
 */
static int
lookup(uid_t uid, char **login)
{
	struct passwd pw, *pwp = NULL;
	size_t len = 1024;
	char *buf = NULL;
	int rc;

	*login = NULL;
	for (;;) {
		char *nb = realloc(buf, len);
		if (nb == NULL) {
			rc = ENOMEM;
			break;
		}
		buf = nb;
		rc = getpwuid_r(uid, &pw, buf, len, &pwp);
		if (rc != ERANGE || len >= 1024 * 1024)
			break;
		len *= 4;
	}
	if (rc == ENOENT || rc == ESRCH)
		rc = 0;
	else if (rc == 0 && pwp != NULL &&
	    (*login = strdup(pw.pw_name)) == NULL)
		rc = ENOMEM;
	free(buf);
	return rc;
}

static void *
whois_main(void *arg)
{
	uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&wh.mu);
	for (;;) {
		struct answer *a;
		uid_t uid;

		while (wh.nqueue == 0 && !wh.stopping)
			pthread_cond_wait(&wh.cv, &wh.mu);
		if (wh.stopping)
			break;
		uid = wh.queue[0];
		memmove(wh.queue, wh.queue + 1, --wh.nqueue * sizeof(uid_t));
		pthread_mutex_unlock(&wh.mu);
		a = calloc(1, sizeof(*a));
		if (a != NULL) {
			a->uid = uid;
			a->err = lookup(uid, &a->login);
		}
		pthread_mutex_lock(&wh.mu);
		if (a != NULL) {
			a->next = wh.answers;
			wh.answers = a;
		}
		pthread_mutex_unlock(&wh.mu);
		/* A lost answer (calloc failed) leaves its waiters to their
		 * own time limits. */
		if (write(wh.efd, &one, sizeof(one)) < 0)
			log_warn("whois: eventfd");
		pthread_mutex_lock(&wh.mu);
	}
	pthread_mutex_unlock(&wh.mu);
	return NULL;
}

static void
cache_put(uid_t uid, const char *login)
{
	struct entry *e = &wh.cache[0];

	for (size_t i = 0; i < WHOIS_CACHE; i++) {
		if (wh.cache[i].at != 0 && wh.cache[i].uid == uid) {
			e = &wh.cache[i];
			break;
		}
		if (wh.cache[i].at < e->at)
			e = &wh.cache[i];
	}
	free(e->login);
	e->uid = uid;
	e->login = login != NULL ? xstrdup(login) : NULL;
	e->at = mono_secs();
}

/* Contract in daemon.h. */
bool
whois_cached(uid_t uid, const char **login)
{
	time_t now = mono_secs();

	for (size_t i = 0; i < WHOIS_CACHE; i++)
		if (wh.cache[i].at != 0 && wh.cache[i].uid == uid &&
		    now - wh.cache[i].at < WHOIS_TTL_SECS) {
			*login = wh.cache[i].login;
			return true;
		}
	return false;
}

static void
forget_asked(uid_t uid)
{
	for (size_t i = 0; i < wh.nasked; i++)
		if (wh.asked[i] == uid) {
			wh.asked[i] = wh.asked[--wh.nasked];
			return;
		}
}

/* Caches an answer and calls the waiters for its uid. */
static void
deliver(uid_t uid, const char *login, int err)
{
	struct waiter *mine = NULL, **wp = &wh.waiters;

	forget_asked(uid);
	if (err == 0)
		cache_put(uid, login);
	else
		log_warnx("whois: passwd lookup of uid %u: %s", (unsigned)uid,
		    strerror(err));
	/* Taken off the list first: a waiter may ask again, or cancel. */
	while (*wp != NULL) {
		struct waiter *w = *wp;
		if (w->uid == uid) {
			*wp = w->next;
			w->next = mine;
			mine = w;
		} else
			wp = &w->next;
	}
	while (mine != NULL) {
		struct waiter *w = mine;
		mine = w->next;
		w->fn(w->arg, err == 0, login);
		free(w);
	}
}

static void
on_answers(evutil_socket_t fd, short what, void *arg)
{
	struct answer *list;
	uint64_t n;

	(void)what;
	(void)arg;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("whois: eventfd");
	pthread_mutex_lock(&wh.mu);
	list = wh.answers;
	wh.answers = NULL;
	pthread_mutex_unlock(&wh.mu);
	while (list != NULL) {
		struct answer *a = list;
		list = a->next;
		deliver(a->uid, a->login, a->err);
		free(a->login);
		free(a);
	}
}

/* The eventfd and the thread; false (logged) if they cannot be had, and
 * then lookups are made on the loop. */
static bool
start(void)
{
	int rc;

	if ((wh.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    (wh.ev = event_new(cd->base, wh.efd, EV_READ | EV_PERSIST,
	    on_answers, NULL)) == NULL || event_add(wh.ev, NULL) < 0) {
		log_warn("whois: eventfd; passwd lookups on the loop");
		return false;
	}
	if ((rc = thread_start(&wh.thread, whois_main, "whois")) != 0) {
		log_warnx("whois: cannot start a thread: %s; passwd lookups "
		    "on the loop", strerror(rc));
		return false;
	}
	return true;
}

/* Contract in daemon.h. */
void
whois_request(uid_t uid, whois_fn fn, void *arg)
{
	struct waiter *w = xcalloc(1, sizeof(*w));

	w->uid = uid;
	w->fn = fn;
	w->arg = arg;
	w->next = wh.waiters;
	wh.waiters = w;
	for (size_t i = 0; i < wh.nasked; i++)
		if (wh.asked[i] == uid)
			return;		/* already on its way */
	if (wh.nasked == wh.askedcap) {
		wh.askedcap = wh.askedcap ? 2 * wh.askedcap : 8;
		wh.asked = xreallocarray(wh.asked, wh.askedcap,
		    sizeof(uid_t));
	}
	wh.asked[wh.nasked++] = uid;
	if (!wh.made && !wh.failed && !(wh.made = start())) {
		wh.failed = true;
		if (wh.ev != NULL)
			event_free(wh.ev);
		wh.ev = NULL;
		if (wh.efd >= 0)
			close(wh.efd);
		wh.efd = -1;
	}
	if (wh.failed) {
		char *login;
		int err = lookup(uid, &login);
		deliver(uid, login, err);
		free(login);
		return;
	}
	pthread_mutex_lock(&wh.mu);
	if (wh.nqueue == wh.queuecap) {
		wh.queuecap = wh.queuecap ? 2 * wh.queuecap : 8;
		wh.queue = xreallocarray(wh.queue, wh.queuecap, sizeof(uid_t));
	}
	wh.queue[wh.nqueue++] = uid;
	pthread_cond_signal(&wh.cv);
	pthread_mutex_unlock(&wh.mu);
}

/* Contract in daemon.h. */
void
whois_cancel(void *arg)
{
	struct waiter **wp = &wh.waiters;

	while (*wp != NULL) {
		struct waiter *w = *wp;
		if (w->arg == arg) {
			*wp = w->next;
			free(w);
		} else
			wp = &w->next;
	}
}

/* Contract in daemon.h. */
void
whois_shutdown(void)
{
	while (wh.waiters != NULL) {
		struct waiter *w = wh.waiters;
		wh.waiters = w->next;
		free(w);
	}
	if (wh.made) {
		struct timespec until;
		int rc;

		pthread_mutex_lock(&wh.mu);
		wh.stopping = true;
		pthread_cond_signal(&wh.cv);
		pthread_mutex_unlock(&wh.mu);
		/* A lookup stuck in NSS must not hold the stop: after a while
		 * the thread is left to end with the process. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += WHOIS_JOIN_SECS;
		if ((rc = pthread_timedjoin_np(wh.thread, NULL, &until)) != 0) {
			log_warnx("whois: a passwd lookup is still under way; "
			    "not waiting for it");
			return;
		}
		event_free(wh.ev);
		close(wh.efd);
	}
	while (wh.answers != NULL) {
		struct answer *a = wh.answers;
		wh.answers = a->next;
		free(a->login);
		free(a);
	}
	for (size_t i = 0; i < WHOIS_CACHE; i++)
		free(wh.cache[i].login);
	memset(wh.cache, 0, sizeof(wh.cache));
	free(wh.queue);
	free(wh.asked);
	wh.queue = wh.asked = NULL;
	wh.nqueue = wh.queuecap = wh.nasked = wh.askedcap = 0;
	wh.made = wh.failed = wh.stopping = false;
	wh.ev = NULL;
	wh.efd = -1;
}
