/*
 * main.c: crisiscastd's start and stop. Parses argv, checks the site
 * (-n, -nv), opens the state, starts the control socket, the transports and
 * the fan-out, tells systemd it is ready, and runs the loop. Signals come
 * through the loop: SIGHUP reloads rosters, rules and templates (all or
 * nothing), SIGTERM and SIGINT stop after in-flight sends report.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <sqlite3.h>

#include "daemon.h"
#include "http_client.h"

#define DEFAULT_CONFIG	"/etc/crisiscast/crisiscast.yaml"
#define STOP_GRACE_SECS	10
#define TRIM_SECS	60

struct crisiscastd *cd;

static struct event *stop_check_ev;
static struct event *watchdog_ev;
static struct event *trim_ev;
static sqlite3_int64 trim_changes = -1;	/* total_changes at the last trim */
static time_t stop_deadline;

time_t
daemon_now(void)
{
	return time(NULL);
}

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: crisiscastd [-dnv] [-f config]\n");
	exit(2);
}

/* Checks the whole site: config, transports, rosters, rules, templates. */
static int
load_site(const char *path, struct site *s, struct diags *d)
{
	if (site_load(path, s, d) < 0)
		return -1;
	if (transports_check(&s->cfg, d) < 0) {
		site_free(s);
		return -1;
	}
	return 0;
}

static void
print_diags(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->msgs[i]);
}

/*
 * The key that link tokens are derived from: state_dir/token.key, 32 random
 * bytes made on first start, readable by the daemon only. It lives beside
 * the database, not in it.
 */
static void
load_token_key(const char *dir)
{
	char *path = xasprintf("%s/token.key", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 && errno == ENOENT) {
		uint8_t key[TOKEN_KEY_BYTES];
		char *tmp = xasprintf("%s.new", path);
		if (crypto_random(key, sizeof(key)) < 0)
			fatalx("CSPRNG failed");
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, key, sizeof(key)) != sizeof(key) ||
		    fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0)
			fatal("%s", path);
		free(tmp);
		log_info("created %s", path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		fatal("%s", path);
	n = read(fd, cd->token_key, sizeof(cd->token_key));
	if (n != (ssize_t)sizeof(cd->token_key))
		fatalx("%s: must hold exactly %d bytes", path, TOKEN_KEY_BYTES);
	close(fd);
	free(path);
}

/*
 * One daemon per state directory: an exclusive lock on state_dir/lock,
 * held (the fd stays open) for the daemon's life, taken before the
 * database is opened or migrated.
 */
static void
lock_state(const char *dir)
{
	char *path = xasprintf("%s/lock", dir);
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		fatal("%s", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		fatal("%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		fatalx("%s: another crisiscastd uses this state directory",
		    dir);
	free(path);
}

int
daemon_reload(struct buf *report)
{
	struct site fresh;
	struct diags d = {0};

	if (load_site(cd->site.cfg.path, &fresh, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			buf_printf(report, "%s\n", d.msgs[i]);
		log_warnx("reload failed, keeping the running rosters, rules "
		    "and templates (%zu errors)", diag_errors(&d));
		for (size_t i = 0; i < d.n; i++)
			log_warnx("%s", d.msgs[i]);
		diag_free(&d);
		return -1;
	}
	/* Swap rosters, rules and templates; the running config (sockets,
	 * state, transports) needs a restart to change. */
	roster_free(&cd->site.roster);
	rules_free(&cd->site.rules);
	tmpl_set_free(cd->site.tmpl);
	cd->site.roster = fresh.roster;
	cd->site.rules = fresh.rules;
	cd->site.tmpl = fresh.tmpl;
	memset(&fresh.roster, 0, sizeof(fresh.roster));
	memset(&fresh.rules, 0, sizeof(fresh.rules));
	fresh.tmpl = NULL;
	site_free(&fresh);
	site_summary(&cd->site, report);
	log_info("reloaded: %s", report->data);
	diag_free(&d);
	fanout_kick();
	return 0;
}

int
thread_start(pthread_t *t, void *(*fn)(void *), const char *name)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		(void)pthread_setname_np(*t, name);
	return rc;
}

uint64_t
monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
on_sighup(evutil_socket_t sig, short what, void *arg)
{
	struct buf report = {0};

	(void)sig;
	(void)what;
	(void)arg;
	/* MONOTONIC_USEC lets systemd tell this reload from an older one
	 * (required with Type=notify-reload, harmless with Type=notify). */
	notify("RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    monotonic_usec());
	audit_now("signal", daemon_reload(&report) == 0 ? "reloaded" :
	    "reload_failed", 0, NULL, NULL, "SIGHUP");
	buf_free(&report);
	notify("READY=1");
}

/*
 * The systemd watchdog: WATCHDOG=1 at half of WatchdogSec, but only when
 * the loop turns (this timer fires) and the database answers a cheap
 * query. A database that stops answering leaves the keep-alive out, so
 * systemd kills and restarts the daemon (Restart=on-failure).
 */
static void
watchdog_tick(evutil_socket_t fd, short what, void *arg)
{
	static time_t last_warn;
	sqlite3_stmt *st = NULL;
	int rc;

	(void)fd;
	(void)what;
	(void)arg;
	rc = sqlite3_prepare_v2(store_db(cd->store),
	    "SELECT count(*) FROM sqlite_master", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		if (time(NULL) - last_warn >= 60) {
			log_warnx("watchdog: the database does not answer "
			    "(%s); no keep-alive to systemd",
			    sqlite3_errstr(rc));
			last_warn = time(NULL);
		}
		return;
	}
	notify("WATCHDOG=1");
}

static void
watchdog_start(void)
{
	uint64_t usec = notify_watchdog_usec();
	struct timeval tv;

	if (usec == 0)
		return;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000u);
	tv.tv_usec = (suseconds_t)(usec % 1000000u);
	watchdog_ev = event_new(cd->base, -1, EV_PERSIST, watchdog_tick, NULL);
	if (watchdog_ev == NULL || event_add(watchdog_ev, &tv) < 0)
		fatalx("cannot start the watchdog timer");
	log_info("watchdog: keep-alive every %llu ms",
	    (unsigned long long)(usec / 1000u));
}

/*
 * Once a minute, gives back memory the daemon holds but does not use: the
 * free pages glibc's malloc keeps and, when nothing was written since the
 * last tick, SQLite's page cache (a page is read again from the kernel's
 * cache when it is needed; emptying it in the middle of a burst would only
 * churn the heap). A crisis comes in bursts; without this the resident
 * size stays at the peak of the last burst through the quiet weeks after.
 * Costs well under a millisecond (see bench/soak.sh).
 */
static void
trim_tick(evutil_socket_t fd, short what, void *arg)
{
	sqlite3 *db = store_db(cd->store);
	sqlite3_int64 changes = sqlite3_total_changes64(db);
	uint64_t t0 = monotonic_usec();
	bool quiet = changes == trim_changes;

	(void)fd;
	(void)what;
	(void)arg;
	trim_changes = changes;
	if (quiet)
		sqlite3_db_release_memory(db);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	log_debug("memory trimmed in %" PRIu64 " us%s",
	    monotonic_usec() - t0, quiet ? ", SQLite's cache too" : "");
}

static void
trim_start(void)
{
	struct timeval tv = { TRIM_SECS, 0 };

	trim_ev = event_new(cd->base, -1, EV_PERSIST, trim_tick, NULL);
	if (trim_ev == NULL || event_add(trim_ev, &tv) < 0)
		fatalx("cannot start the memory trim timer");
	/* What loading the site and opening the state took and let go
	 * (start-up's writes count as quiet). */
	trim_changes = sqlite3_total_changes64(store_db(cd->store));
	trim_tick(-1, 0, NULL);
}

static bool
all_idle(void)
{
	for (size_t i = 0; i < cd->ntransports; i++)
		if (cd->transports[i].inflight > 0)
			return false;
	return true;
}

static void
stop_check(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { 0, 100000 };

	(void)fd;
	(void)what;
	(void)arg;
	if (all_idle() || time(NULL) >= stop_deadline) {
		if (!all_idle())
			log_warnx("stopping with sends in flight; they are "
			    "requeued at the next start");
		event_base_loopbreak(cd->base);
		return;
	}
	evtimer_add(stop_check_ev, &tv);
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	if (cd->stopping)
		return;
	log_info("signal %d: stopping", (int)sig);
	notify("STOPPING=1");
	cd->stopping = true;
	control_close();
	stop_deadline = time(NULL) + STOP_GRACE_SECS;
	stop_check_ev = evtimer_new(cd->base, stop_check, NULL);
	stop_check(-1, 0, NULL);
}

int
main(int argc, char *argv[])
{
	const char *config = DEFAULT_CONFIG;
	bool check = false, verbose = false, debug = false;
	struct diags d = {0};
	struct event *ev_hup, *ev_term, *ev_int;
	char err[512];
	int ch;

	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd': debug = true; break;
		case 'f': config = optarg; break;
		case 'n': check = true; break;
		case 'v': verbose = true; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(debug);
	signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
	/*
	 * A fixed mmap threshold. glibc otherwise raises it to the size of each
	 * large block freed (a 512 KiB audit page, a big outbox line), after
	 * which blocks that size come from the heap and leave holes it cannot
	 * give back: a daemon that runs for months must not grow that way.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif

	cd = xcalloc(1, sizeof(*cd));
	if (load_site(config, &cd->site, &d) < 0) {
		print_diags(&d);
		fprintf(stderr, "%s: %zu error%s\n", config, diag_errors(&d),
		    diag_errors(&d) == 1 ? "" : "s");
		diag_free(&d);
		return 1;
	}
	print_diags(&d);	/* warnings */
	diag_free(&d);
	if (check) {
		struct buf out = {0};
		if (verbose)
			config_print(&cd->site.cfg, &out);
		buf_adds(&out, "configuration OK\n");
		site_summary(&cd->site, &out);
		fputs(out.data, stdout);
		buf_free(&out);
		site_free(&cd->site);
		free(cd);
		return 0;
	}

	cd->uid = getuid();
	lock_state(cd->site.cfg.state_dir);
	if (store_open(cd->site.cfg.state_dir, &cd->store, err,
	    sizeof(err)) < 0)
		fatalx("state: %s", err);
	checkpoint_init(store_db(cd->store));
	walsync_init(store_db(cd->store));
	load_token_key(cd->site.cfg.state_dir);
	if ((cd->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	/* Signal events before READY=1, so a reload is never missed. */
	ev_hup = evsignal_new(cd->base, SIGHUP, on_sighup, NULL);
	ev_term = evsignal_new(cd->base, SIGTERM, on_stop, NULL);
	ev_int = evsignal_new(cd->base, SIGINT, on_stop, NULL);
	if (ev_hup == NULL || ev_term == NULL || ev_int == NULL ||
	    evsignal_add(ev_hup, NULL) < 0 || evsignal_add(ev_term, NULL) < 0 ||
	    evsignal_add(ev_int, NULL) < 0)
		fatalx("cannot watch signals");
	if (control_listen(cd->site.cfg.control_socket) < 0)
		fatalx("control socket %s: cannot listen",
		    cd->site.cfg.control_socket);
	if (http_client_init(cd->base) < 0)
		fatalx("http client: cannot start");
	if (transports_start(&cd->site.cfg, err, sizeof(err)) < 0)
		fatalx("transport: %s", err);
	if (httpd_start(&cd->site.cfg) < 0)
		fatalx("http: cannot start on the listen addresses");
	if (board_init(&cd->site.cfg, err, sizeof(err)) < 0)
		fatalx("%s", err);
	metrics_init();
	if (fanout_init() < 0)
		fatalx("fan-out: cannot start");
	if (approval_init() < 0)
		fatalx("approval chain: cannot start");
	if (followup_init() < 0)
		fatalx("follow-up: cannot start");
	audit_now("crisiscastd", "started", 0, NULL, NULL, NULL);
	{
		struct buf sum = {0};
		site_summary(&cd->site, &sum);
		while (sum.len > 0 && sum.data[sum.len - 1] == '\n')
			sum.data[--sum.len] = '\0';
		log_info("ready: %s", sum.data);
		notify("READY=1\nSTATUS=%zu accounts",
		    cd->site.roster.nmembers);
		buf_free(&sum);
	}
	watchdog_start();
	trim_start();

	event_base_dispatch(cd->base);

	audit_now("crisiscastd", "stopped", 0, NULL, NULL, NULL);
	board_shutdown();
	ack_shutdown();
	walsync_shutdown();
	httpd_stop();
	approval_shutdown();
	followup_shutdown();
	fanout_shutdown();
	control_close();
	whois_shutdown();
	/* Aborts what is still in flight: the reports go to live transports. */
	http_client_shutdown();
	transports_stop();
	checkpoint_shutdown();
	if (stop_check_ev != NULL)
		event_free(stop_check_ev);
	if (watchdog_ev != NULL)
		event_free(watchdog_ev);
	event_free(trim_ev);
	event_free(ev_hup);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(cd->base);
	store_close(cd->store);
	site_free(&cd->site);
	free(cd);
	log_info("stopped");
	return 0;
}
