/*
 * daemon.h: the map of crisiscastd. Every function shared between daemon
 * files is declared here, under the file that defines it.
 *
 * The daemon is one libevent loop. Nothing in it blocks: transports report
 * through callbacks, timers drive the approval chain and the fan-out, and
 * all state is in SQLite (lib/store.h), so a restart rebuilds everything.
 */
#ifndef CRISISCAST_DAEMON_H
#define CRISISCAST_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "crypto.h"
#include "draft.h"
#include "log.h"
#include "proto.h"
#include "site.h"
#include "store.h"
#include "transport.h"

struct crisiscastd {
	struct event_base *base;
	struct site site;		/* swapped whole on reload */
	struct store *store;
	uint8_t token_key[TOKEN_KEY_BYTES];
	uid_t uid;			/* the daemon's own uid */
	struct transport_inst *transports;	/* one per channel */
	size_t ntransports;
	bool stopping;
};

extern struct crisiscastd *cd;

/* main.c */
int	daemon_reload(struct buf *report);
time_t	daemon_now(void);
uint64_t monotonic_usec(void);		/* CLOCK_MONOTONIC, microseconds */
/* pthread_create(t, fn) with every signal blocked in the new thread, which
 * must leave signals to the loop thread (libevent watches them), named
 * name (at most 15 bytes: ps -T, top -H and /proc/PID/task/TID/comm show
 * it); returns pthread_create's result. */
int	thread_start(pthread_t *t, void *(*fn)(void *), const char *name);

/* control.c */
int	control_listen(const char *path);
void	control_close(void);

/*
 * whois.c: the Unix login of a uid, looked up on a thread of its own (NSS
 * may be a directory server that does not answer). Loop thread only.
 * whois_cached(): true when an answer younger than a minute is at hand:
 * *login is the name, or NULL when no user has that uid; valid until the
 * next call into whois.
 * whois_request(): calls fn(arg, answered, login) from the loop once the
 * lookup of uid is done, never from inside this call unless the thread
 * cannot run (then it looks up on the loop). answered is false when the
 * lookup failed; login as for whois_cached().
 * whois_cancel(): forgets every request made with arg (its owner is going
 * away); their lookups still finish and fill the cache.
 * whois_shutdown(): forgets the waiters and ends the thread, leaving it to
 * the process's exit if a lookup is still stuck after two seconds.
 */
typedef void (*whois_fn)(void *arg, bool answered, const char *login);
bool	whois_cached(uid_t uid, const char **login);
void	whois_request(uid_t uid, whois_fn fn, void *arg);
void	whois_cancel(void *arg);
void	whois_shutdown(void);

/* alert.c: the alert's life (SPEC §5), each step one transaction */
struct actor {
	const char *id;			/* member id, or "root"/"operator" */
	const struct member *member;	/* NULL for root without --as */
	const char *how;		/* "console" or "link" */
	const char *client;		/* peer description */
};
int	alert_draft(const struct actor *who, const struct draft_in *in,
	    cJSON *result, struct buf *errors);
int	alert_approve(const struct actor *who, int64_t id, cJSON *result,
	    struct buf *errors);
int	alert_reject(const struct actor *who, int64_t id, const char *reason,
	    cJSON *result, struct buf *errors);
int	alert_cancel(const struct actor *who, int64_t id, const char *reason,
	    cJSON *result, struct buf *errors);
int	member_suspend(const struct actor *who, const char *member,
	    const char *reason, cJSON *result, struct buf *errors);
int	member_resume(const struct actor *who, const char *member,
	    cJSON *result, struct buf *errors);
/* The alert with its rendered texts and rule results (show) or its
 * recipients and counts (status). 0, or -1 when there is no such alert. */
int	alert_describe(int64_t id, bool rendered, cJSON *result,
	    struct buf *errors);

/* alert_cap.c */
/* The alert as CAP 1.2 XML: result gets id, identifier and xml. 0, or -1
 * with a Japanese reason in errors (no such alert, database trouble). */
int	alert_cap(int64_t id, cJSON *result, struct buf *errors);

/* ack.c: acknowledgements */
/*
 * A recipient opened their page (read) or confirmed (page button, LINE WORKS
 * postback, ntfy action). First time only; state only moves forward; each
 * an audit row. how: "page", "lineworks", "ntfy", ...; client: who sent
 * it (address, user agent). Return 0 changed, 1 already so (or not
 * allowed: a response that is not one of the tag's), -1 database error.
 * Each in its own transaction, committed before the call returns.
 */
int	delivery_mark_read(int64_t delivery_id, const char *how,
	    const char *client);
int	delivery_confirm(int64_t delivery_id, const char *response,
	    const char *how, const char *client);
/*
 * delivery_confirm() committed in a group: queued now, recorded in one
 * transaction with every confirmation queued in the same loop turn, and
 * done(rc, arg) is called from the loop after that COMMIT with the value
 * delivery_confirm() would have returned, never from inside this call.
 * So a reply sent from done() only acknowledges what is on disk. The
 * strings are copied; arg is the caller's until done runs.
 */
typedef void (*ack_done_fn)(int rc, void *arg);
void	delivery_confirm_later(int64_t delivery_id, const char *response,
	    const char *how, const char *client, ack_done_fn done, void *arg);
/* Since the daemon started: confirmations queued by
 * delivery_confirm_later(), and the group transactions that took them. */
void	ack_counts(unsigned long *queued, unsigned long *groups);
/* Commits what is queued and calls its done callbacks; before the HTTP
 * server stops, so their requests are still alive. */
void	ack_shutdown(void);

/* alert.c, continued */
/*
 * Approval requests to approver number `step` of approval.approvers, one
 * per approval channel they can be reached on; their links expire with the
 * alert's approval_expires_at. Inside the caller's transaction. 0 or -1.
 */
int	request_approval(const struct alert_row *a, size_t step, time_t now);
/* Audit helper for the daemon: one row, in its own transaction. */
void	audit_now(const char *actor, const char *action, int64_t alert,
	    const char *member, const char *channel, const char *detail);

/* httpd.c: the HTTP(S) server (SPEC §6) */
struct evhttp_request;
typedef void (*httpd_handler)(struct evhttp_request *req, void *arg);
int	httpd_start(const struct config *c);
void	httpd_stop(void);
/* Adds a route (exact path) before or after httpd_start; transports add
 * their callbacks (/callback/lineworks, /callback/twilio) this way. */
void	httpd_route(const char *path, httpd_handler fn, void *arg);

/*
 * board.c: the status board, GET /board and its event stream
 * /board/events (SPEC §6). board_init (after httpd_start) reads the board
 * token and adds the routes; -1 with err when the token file is unusable.
 * board_notify: something an open board shows changed (a delivery sent,
 * read or confirmed, an alert's state; alert 0: anything); cheap, never
 * blocks, coalesced to a few events a second, nothing when no board is
 * open. board_access: the rule of /board and /metrics; 0 when the request
 * may proceed, -1 after it was answered 403.
 */
int	board_init(const struct config *c, char *err, size_t errsz);
void	board_notify(int64_t alert);
int	board_access(struct evhttp_request *req);
void	board_shutdown(void);

/* metrics.c: GET /metrics, Prometheus text format, behind board_access */
void	metrics_init(void);

/* alert_timer.c: one timer per alert for a role; fire(alert) runs just
 * after the deadline given to alert_timer_arm (re-arming moves it) */
struct alert_timer;
struct alert_timers {
	void (*fire)(int64_t alert);
	struct alert_timer *list;
};
void	alert_timer_arm(struct alert_timers *set, int64_t alert, time_t when);
void	alert_timer_disarm(struct alert_timers *set, int64_t alert);
void	alert_timers_clear(struct alert_timers *set);

/*
 * approval.c: the approval chain's timers (step_timeout, link_ttl).
 * approval_init (after fanout_init) arms a timer for every pending alert in
 * the database, acting at once on what fell due while the daemon was down.
 * approval_alert_drafted: call after the commit that stored a pending
 * alert; approval_alert_decided: after the commit of any decision
 * (approve, reject, cancel), disarms its timer. Timers check the alert's
 * state and step in their own transaction, so a late or doubled call is
 * harmless.
 */
int	approval_init(void);
void	approval_alert_drafted(int64_t alert);
void	approval_alert_decided(int64_t alert);
void	approval_shutdown(void);

/*
 * followup.c: re-notify rounds at each ack deadline, the call list after
 * the last, and completion (SPEC §5 step 5). followup_init (after
 * fanout_init) arms a timer for every approved or sending alert, acting
 * at once on what fell due while the daemon was down.
 * followup_alert_approved: after the commit that approved an alert;
 * followup_confirmed: after the commit of a confirmation (completes the
 * alert when nobody is left to confirm). Each action is one transaction
 * re-checking the alert's state and highest round, so a late or doubled
 * call never makes a round twice.
 */
int	followup_init(void);
void	followup_alert_approved(int64_t alert);
void	followup_confirmed(int64_t alert);
/* crisisctl renotify: a round now (sender, approver or admin), up to
 * delivery.renotify_max. 0 (result: id, round, count), 1 refused, -1. */
int	followup_renotify(const struct actor *who, int64_t id, cJSON *result,
	    struct buf *errors);
/* For alert_describe: round, renotify_max, unconfirmed (a list),
 * call_list (its text, as the notice says it), readiness and shelters
 * ({id, name, ready, ready_count, min_ready, confirmed, staff}). rows:
 * all of the alert's deliveries, read only. */
void	followup_describe(const struct alert_row *a,
	    const struct delivery_row *rows, size_t n, cJSON *result);
void	followup_shutdown(void);

/* fanout.c: sends what is due, through the transports */
int	fanout_init(void);
void	fanout_kick(void);
void	fanout_shutdown(void);
/*
 * A delivery the provider accepted and later reported undeliverable (an
 * SMS `failed`): like a permanent failure, the member is reached on their
 * next channel (a new pending row; *next names it, NULL when none is
 * left, and for approval requests, which went out on every approval
 * channel). An alert's delivery or a notice moves; a notice keeps its
 * text. Inside the caller's transaction; call fanout_kick() after the
 * commit. 0 or -1.
 */
int	fanout_reroute(const struct delivery_row *d, time_t now,
	    const char **next);
/* Renders the message of one delivery and its link. Caller frees both. */
int	fanout_render(const struct delivery_row *d, const struct alert_row *a,
	    char **text_long, char **text_sms, char **link);

/*
 * notify.c: the sd_notify(3) protocol without libsystemd. notify() sends
 * one state message ("READY=1", "WATCHDOG=1", ...): 1 sent, 0 not under a
 * service manager ($NOTIFY_SOCKET unset), -1 not sent (logged). Never
 * blocks. notify_watchdog_usec(): $WATCHDOG_USEC when it is meant for this
 * process (WATCHDOG_PID unset or ours), else 0.
 */
int	notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t notify_watchdog_usec(void);

/*
 * checkpoint.c: WAL checkpoints on a thread of their own, not inside the
 * loop's commits. checkpoint_init() takes over the state connection's
 * automatic checkpoint; checkpoint_shutdown() waits for a checkpoint under
 * way and ends the thread (before the connection closes).
 * checkpoint_counts(): checkpoints run so far, on the thread and on the
 * loop (when the thread could not start).
 */
void	checkpoint_init(sqlite3 *db);
void	checkpoint_shutdown(void);
void	checkpoint_counts(unsigned long *thread, unsigned long *loop);

/*
 * walsync.c: syncs the state database's WAL on a thread, for commits made
 * with synchronous=NORMAL (ack.c's group commit) whose callers must not be
 * answered before their rows are on disk. Loop thread only.
 * walsync_init(): remembers the -wal file of db; nothing starts yet.
 * walsync_observe(): how long a commit's sync took (a FULL commit timed by
 * the caller; the thread's own syncs are counted by walsync.c).
 * walsync_wanted(): whether syncs are slow enough (a moving average, with
 * hysteresis) to be worth the thread; if not, commit with FULL.
 * walsync_ready(): true when syncs can be asked for (the first call starts
 * the thread); false when they cannot, and then never again: commit with
 * synchronous=FULL instead.
 * walsync_request(): after such a commit, calls fn(arg, 0) from the loop
 * once a sync that began after this call has finished, or fn(arg, errno)
 * if that sync failed; never from inside this call. Only after a true
 * walsync_ready().
 * walsync_count(): syncs run so far.
 * walsync_shutdown(): runs the syncs owed, calls their waiters and ends
 * the thread; before the HTTP server stops (waiters answer requests) and
 * before the state connection closes.
 */
typedef void (*walsync_fn)(void *arg, int err);
void	walsync_init(sqlite3 *db);
void	walsync_observe(uint64_t us);
bool	walsync_wanted(void);
bool	walsync_ready(void);
void	walsync_request(walsync_fn fn, void *arg);
unsigned long walsync_count(void);
void	walsync_shutdown(void);

/* transport.c */
int	transports_check(const struct config *c, struct diags *d);
int	transports_start(const struct config *c, char *err, size_t errsz);
void	transports_stop(void);
struct transport_inst *transport_for(const char *channel);

#endif
