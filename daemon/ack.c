/*
 * ack.c: acknowledgements of alert deliveries: a recipient read their page
 * or confirmed (page button, LINE WORKS postback, ntfy action).
 *
 * One acknowledgement is a state change of the delivery plus its audit row,
 * written together. delivery_mark_read() and delivery_confirm() do that in
 * their own transaction and return when it is committed.
 * delivery_confirm_later() is for bursts (94 people pressing 確認しました
 * within a minute, or 30,000): it queues the confirmation, and once per
 * loop turn one BEGIN IMMEDIATE ... COMMIT records every confirmation queued
 * since, so the cost of the fsync is shared. On a disk whose syncs are slow
 * that commit is made with synchronous=NORMAL and its WAL synced by
 * walsync.c's thread, so the loop goes on taking requests while the disk
 * syncs; otherwise (or when that thread cannot be had) the commit is a FULL
 * one on the loop. Either way each caller hears the outcome
 * only after the sync, so a 2xx is never sent for a confirmation that is
 * not on disk. When the group transaction fails (a full disk, say), every
 * member is retried in a transaction of its own, so one bad row does not
 * take the others down with it.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

/* At most this many confirmations in one transaction; the rest wait for
 * the next loop turn. Bounds the time the loop spends in one flush. */
#define ACK_GROUP_MAX	512

struct ack {
	int64_t delivery_id;
	char *response;		/* NULL: read */
	char *how, *client;
	ack_done_fn done;
	void *arg;
	int rc;			/* as delivery_confirm() returns */
	int64_t alert;		/* once recorded: the delivery's alert */
	char *member;		/* and its recipient */
};

/* A group committed together, waiting for its sync (or told at once). */
struct ack_group {
	size_t n;
	bool each;		/* recorded one by one: the board and the
				   follow-up were told already */
	struct ack k[];
};

static struct ack *queue;
static size_t nqueue, queue_cap;
static struct event *flush_ev;
static unsigned long ngroups, nqueued;	/* since start, for /metrics */

/*
 * Records one acknowledgement inside the caller's transaction: checks that
 * the delivery is an alert delivery and the response one the tag allows,
 * then marks it and writes its audit row. Returns 0 changed, 1 already so
 * or not allowed, -1 on a database error (the transaction is then spoilt).
 */
static int
record(struct ack *k, time_t now)
{
	struct delivery_row d;
	struct alert_row a;
	const struct tag *t;
	char *detail;
	bool allowed = k->response == NULL;
	int rc;

	if ((rc = store_delivery_get(cd->store, k->delivery_id, &d)) != 0)
		return rc;
	if (strcmp(d.kind, "alert") != 0 ||
	    (rc = store_alert_get(cd->store, d.alert_id, &a)) != 0) {
		delivery_row_free(&d);
		return rc < 0 ? -1 : 1;
	}
	t = rules_tag(&cd->site.rules, a.tag);
	for (size_t i = 0; !allowed && t != NULL && i < t->nresponses; i++)
		allowed = strcmp(t->responses[i], k->response) == 0;
	/* A tag a reload removed (or one without choices) still confirms. */
	if (!allowed && (t == NULL || t->nresponses == 0))
		allowed = strcmp(k->response, "確認しました") == 0;
	rc = 1;
	if (allowed) {
		const char *client = k->client ? k->client : "-";
		detail = k->response ? xasprintf("%s (%s, %s)", k->response,
		    k->how, client) : xasprintf("%s, %s", k->how, client);
		rc = k->response ? store_delivery_confirm(cd->store,
		    k->delivery_id, now, k->response, k->how) :
		    store_delivery_read(cd->store, k->delivery_id, now);
		if (rc == 0 && store_audit(cd->store, now, d.member,
		    k->response ? "confirmed" : "read", d.alert_id, d.member,
		    d.channel, detail) < 0)
			rc = -1;
		if (rc == 0) {
			k->alert = d.alert_id;
			k->member = xstrdup(d.member);
		}
		free(detail);
	}
	alert_row_free(&a);
	delivery_row_free(&d);
	return rc;
}

/* After the COMMIT of a recorded acknowledgement. */
static void
committed(const struct ack *k)
{
	log_info("alert %lld: %s %s via %s", (long long)k->alert, k->member,
	    k->response ? "confirmed" : "read", k->how);
}

/* One acknowledgement in its own transaction; the board and the follow-up
 * hear of it once it is committed. */
static int
acknowledge(struct ack *k)
{
	int rc = -1;

	free(k->member);
	k->member = NULL;
	if (store_begin(cd->store) == 0 &&
	    (rc = record(k, daemon_now())) >= 0 && store_commit(cd->store) == 0) {
		if (rc == 0) {
			committed(k);
			board_notify(k->alert);
			if (k->response != NULL)
				followup_confirmed(k->alert);
		}
		free(k->member);
		k->member = NULL;
		return rc;
	}
	log_warnx("acknowledge delivery %lld: %s", (long long)k->delivery_id,
	    store_error(cd->store));
	store_rollback(cd->store);
	free(k->member);
	k->member = NULL;
	return -1;
}

int
delivery_mark_read(int64_t delivery_id, const char *how, const char *client)
{
	struct ack k = { .delivery_id = delivery_id, .how = (char *)how,
	    .client = (char *)client };

	return acknowledge(&k);
}

int
delivery_confirm(int64_t delivery_id, const char *response, const char *how,
    const char *client)
{
	struct ack k = { .delivery_id = delivery_id,
	    .response = (char *)(response ? response : "確認しました"),
	    .how = (char *)how, .client = (char *)client };

	return acknowledge(&k);
}

/*
 * A group is on disk (err 0), or its sync failed (an errno): tells each
 * caller, then the board and the follow-up (once per alert), and frees it.
 * A failed sync is a failure for each member that wrote (rc 0): its row
 * may not have reached the disk, so it must not be answered 2xx; the
 * caller's retry finds it confirmed. The board and the follow-up hear of
 * it all the same: the row is in the database, which they read.
 */
static void
finish(void *arg, int err)
{
	struct ack_group *g = arg;
	struct ack *k = g->k;

	for (size_t i = 0; i < g->n; i++) {
		if (k[i].rc == 0 && !g->each && err == 0)
			committed(&k[i]);
		if (k[i].done != NULL)
			k[i].done(err != 0 && k[i].rc == 0 ? -1 : k[i].rc,
			    k[i].arg);
	}
	for (size_t i = 0; !g->each && i < g->n; i++) {
		bool seen = false;
		if (k[i].rc != 0)
			continue;
		for (size_t j = 0; !seen && j < i; j++)
			seen = k[j].rc == 0 && k[j].alert == k[i].alert;
		if (!seen) {
			board_notify(k[i].alert);
			followup_confirmed(k[i].alert);
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		free(k[i].response);
		free(k[i].how);
		free(k[i].client);
		free(k[i].member);
	}
	free(g);
}

/* PRAGMA synchronous on the state connection, between transactions. */
static int
set_synchronous(const char *level)
{
	char sql[40];

	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s", level);
	return sqlite3_exec(store_db(cd->store), sql, NULL, NULL, NULL) ==
	    SQLITE_OK ? 0 : -1;
}

/*
 * Commits the queued confirmations (up to ACK_GROUP_MAX) in one
 * transaction, then has finish() tell them once the WAL is synced. Runs
 * from the loop.
 */
static void
flush(evutil_socket_t fd, short what, void *arg)
{
	size_t n = nqueue < ACK_GROUP_MAX ? nqueue : ACK_GROUP_MAX;
	struct ack_group *g = xcalloc(1, sizeof(*g) + n * sizeof(g->k[0]));
	time_t now = daemon_now();
	bool async = walsync_wanted() && walsync_ready(), ok;
	uint64_t t0;

	(void)fd;
	(void)what;
	(void)arg;
	g->n = n;
	memcpy(g->k, queue, n * sizeof(*queue));
	memmove(queue, queue + n, (nqueue - n) * sizeof(*queue));
	nqueue -= n;
	if (nqueue > 0)
		event_active(flush_ev, EV_TIMEOUT, 0);

	if (async && set_synchronous("NORMAL") < 0)
		async = false;
	ok = store_begin(cd->store) == 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = (g->k[i].rc = record(&g->k[i], now)) >= 0;
	t0 = monotonic_usec();
	if (ok && store_commit(cd->store) < 0)
		ok = false;
	if (ok && !async)	/* the FULL commit's time is mostly its sync */
		walsync_observe(monotonic_usec() - t0);
	if (!ok) {
		log_warnx("confirmations: group of %zu: %s; recording them one "
		    "by one", n, store_error(cd->store));
		store_rollback(cd->store);
	}
	if (async && set_synchronous("FULL") < 0)
		fatalx("confirmations: cannot set synchronous=FULL again: %s",
		    store_error(cd->store));
	ngroups++;
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			g->k[i].rc = acknowledge(&g->k[i]);
		g->each = true;
		finish(g, 0);
	} else if (async)
		walsync_request(finish, g);
	else
		finish(g, 0);
}

/* Contract in daemon.h. */
void
delivery_confirm_later(int64_t delivery_id, const char *response,
    const char *how, const char *client, ack_done_fn done, void *arg)
{
	if (flush_ev == NULL &&
	    (flush_ev = event_new(cd->base, -1, 0, flush, NULL)) == NULL)
		fatalx("confirmations: cannot make an event");
	if (nqueue == queue_cap) {
		queue_cap = queue_cap ? queue_cap * 2 : 64;
		queue = xreallocarray(queue, queue_cap, sizeof(*queue));
	}
	nqueued++;
	queue[nqueue++] = (struct ack){
		.delivery_id = delivery_id,
		.response = xstrdup(response ? response : "確認しました"),
		.how = xstrdup(how),
		.client = client ? xstrdup(client) : NULL,
		.done = done, .arg = arg,
	};
	/* Runs after every event already active in this loop turn, so the
	 * requests read in one turn share one commit. */
	if (nqueue == 1)
		event_active(flush_ev, EV_TIMEOUT, 0);
}

/* Contract in daemon.h. */
void
ack_counts(unsigned long *queued, unsigned long *groups)
{
	*queued = nqueued;
	*groups = ngroups;
}

/* Contract in daemon.h. */
void
ack_shutdown(void)
{
	while (nqueue > 0)
		flush(-1, 0, NULL);
	if (flush_ev != NULL)
		event_free(flush_ev);
	flush_ev = NULL;
	free(queue);
	queue = NULL;
	queue_cap = 0;
}
