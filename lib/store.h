/*
 * store.h: all of crisiscast's state, in SQLite (state_dir/state.db).
 *
 * Contract: WAL, synchronous=FULL (a committed decision or delivery record
 * survives a power cut), foreign keys on, every write inside BEGIN IMMEDIATE.
 * Schema changes are numbered migrations applied in order at open; a
 * database newer than this program is refused. The audit table is
 * append-only: triggers abort any UPDATE or DELETE on it.
 *
 * Functions return 0 on success and -1 on a database error, with the
 * message in s->err (store_error()). Rows handed out are owned by the caller
 * and freed with the matching *_free().
 */
#ifndef CRISISCAST_STORE_H
#define CRISISCAST_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "crypto.h"

#define STORE_SCHEMA_VERSION 5

struct store;

int store_open(const char *dir, struct store **sp, char *err, size_t errsz);
void store_close(struct store *s);
const char *store_error(const struct store *s);
/* Whether the last failure was a full disk (SQLITE_FULL, ENOSPC). */
bool store_disk_full(const struct store *s);
sqlite3 *store_db(struct store *s);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Nesting is a bug (returns -1). */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* One audit row. Must be called inside a transaction. */
int store_audit(struct store *s, time_t at, const char *actor,
    const char *action, int64_t alert, const char *member,
    const char *channel, const char *detail);

/* Alert states (SPEC §5). */
#define ALERT_PENDING	"pending_approval"
#define ALERT_APPROVED	"approved"
#define ALERT_SENDING	"sending"
#define ALERT_COMPLETE	"complete"
#define ALERT_REJECTED	"rejected"
#define ALERT_EXPIRED	"expired"
#define ALERT_CANCELLED	"cancelled"

struct alert_row {
	int64_t id;
	char *tag;		/* without brackets */
	char *body;		/* starts with 【tag】 */
	char *audience;
	char *sender;		/* member id */
	bool drill;
	char *vars;		/* JSON object of --set k=v */
	char *warnings;		/* JSON array of rule warnings at draft */
	char *state;
	time_t created_at;
	time_t decided_at;	/* 0 until decided */
	char *decided_by;	/* member id, or NULL */
	char *decided_how;	/* "console" or "link" */
	char *decision_client;	/* peer description */
	char *reason;		/* reject/cancel reason */
	int64_t cancels;	/* for a 取消 notice: the alert it cancels */
	int step;		/* approval chain: the last approver asked */
	time_t approval_expires_at;	/* no decision by then: expired; 0 none */
};
void alert_row_free(struct alert_row *a);

/* Delivery states; they only move forward, except sending -> pending on a
 * restart or a transient failure. */
#define DLV_PENDING	"pending"
#define DLV_SENDING	"sending"
#define DLV_SENT	"sent"
#define DLV_FAILED	"failed"
#define DLV_SUSPENDED	"suspended"
#define DLV_CANCELLED	"cancelled"

struct delivery_row {
	int64_t id;
	int64_t alert_id;
	char *kind;		/* "alert" (to a recipient), "approval", or
				   "notice" (a text of its own, in body) */
	char *member;
	char *name, *title, *shelter;	/* snapshot at creation */
	int position;		/* send order within the alert */
	char *channel;
	char *address;
	char *state;
	int attempts;
	char *provider_id;
	char *error;
	time_t sent_at, read_at, confirmed_at, next_at;
	char *response;
	uint8_t salt[SALT_BYTES];	/* the link token is derived from it */
	char *body;		/* a notice's text; NULL for the others */
	int round;		/* 0 the first sending, k the k-th re-notify */
	time_t created_at;
	time_t failing_since;	/* when its first transient failure was
				   recorded; 0 when none */
};
void delivery_row_free(struct delivery_row *d);
void delivery_rows_free(struct delivery_row *v, size_t n);

/* A recipient (or approver) to be written in one go. */
struct new_delivery {
	const char *member, *name, *title, *shelter;
	const char *channel, *address;
	int position;
	const char *state;	/* NULL: pending; or suspended, failed */
	const char *error;	/* why, for a row created failed */
	const char *body;	/* a notice's own text; NULL otherwise */
	int round;		/* re-notify round (0 the first sending) */
};

/* Inserts an alert in state `state` (with step and approval_expires_at);
 * sets a->id. */
int store_alert_insert(struct store *s, struct alert_row *a);
/* 0 and *a filled; 1 when there is no such alert; -1 on error. */
int store_alert_get(struct store *s, int64_t id, struct alert_row *a);
/*
 * Moves an alert from one of the states in `from` (NULL-terminated) to
 * `to`, recording decided_* when by != NULL. Deliveries still waiting
 * that the new state will never send are closed with it (state
 * 'cancelled', error naming the state): approval requests once the alert
 * is decided, and its alert rows too once it is complete, rejected,
 * expired or cancelled; notices are left to go. Returns 0, 1 when the
 * alert is not in any `from` state (nothing changed), -1 on error.
 */
int store_alert_transition(struct store *s, int64_t id,
    const char *const from[], const char *to, time_t at, const char *by,
    const char *how, const char *client, const char *reason);
/*
 * Moves a pending alert's approval chain from step `from` to `from + 1`.
 * Returns 0, 1 when the alert is no longer pending or its step is not
 * `from` (someone decided, or the step was taken already), -1 on error.
 */
int store_alert_step_advance(struct store *s, int64_t id, int from);
/* Alerts, newest first, optionally only in `state` and created >= since. */
int store_alert_list(struct store *s, const char *state, time_t since,
    struct alert_row **v, size_t *n);

/*
 * Inserts deliveries of `kind` for an alert, each with a fresh salt and a
 * token row holding SHA-256 of token_derive(key, kind, salt), expiring at
 * `expires`. Rows that already exist for (alert, kind, member, channel) are
 * left alone. Must be inside a transaction.
 */
int store_deliveries_create(struct store *s, const uint8_t key[TOKEN_KEY_BYTES],
    int64_t alert, const char *kind, const struct new_delivery *v, size_t n,
    time_t now, time_t expires);
/* Deliveries of an alert of `kind` (NULL: both), by position. */
int store_deliveries_of(struct store *s, int64_t alert, const char *kind,
    struct delivery_row **v, size_t *n);
/* Pending deliveries due at `now` (next_at <= now) of alerts that may send:
 * approval requests of pending alerts, alert deliveries of approved or
 * sending alerts, and notices whatever their alert's state. Ordered by
 * alert, then notices and approval requests before alert messages, then
 * position. At most max rows, on `channel` only (NULL: every channel).
 * With a channel, the cost is that of the rows returned (and of pending
 * rows not yet due before them), not of the backlog: the fan-out calls it
 * on every report. */
int store_deliveries_due(struct store *s, time_t now, const char *channel,
    size_t max, struct delivery_row **v, size_t *n);
/* The channels that have pending deliveries (due or not), by name: *n
 * strings in *v (NULL when none); the caller frees each and the array. */
int store_pending_channels(struct store *s, char ***v, size_t *n);
/* The earliest next_at of a pending delivery in the future, or 0. */
time_t store_next_due(struct store *s);
/* pending -> sending, attempts + 1. 0 claimed, 1 not pending any more. */
int store_delivery_claim(struct store *s, int64_t id);
/* sending -> sent. */
int store_delivery_sent(struct store *s, int64_t id, time_t at,
    const char *provider_id);
/* sending -> pending again at retry_at (transient failure); -> cancelled
 * instead when the alert no longer sends (see store_alert_transition).
 * failing_since is recorded unless the row has one already (the time of
 * its first failure, kept across its retries). 0 done, 1 not sending any
 * more. */
int store_delivery_retry(struct store *s, int64_t id, time_t retry_at,
    time_t failing_since, const char *error);
/* sending -> failed (permanent). */
int store_delivery_failed(struct store *s, int64_t id, const char *error);
/*
 * The delivery on `channel` whose provider id is provider_id: 0 with *id
 * and *status (its provider_status, NULL when none yet; caller frees), 1
 * when there is none, -1 on error.
 */
int store_delivery_by_provider(struct store *s, const char *channel,
    const char *provider_id, int64_t *id, char **status);
/* provider_status = status, provider_status_at = at, only while it still
 * is `old` (NULL: none): 0 set, 1 changed meanwhile. In a transaction;
 * the caller decides what order statuses may move in. */
int store_delivery_provider_status(struct store *s, int64_t id,
    const char *old, const char *status, time_t at);
/* sent -> failed: the provider accepted the message, then reported it
 * undeliverable. 0, or 1 when the row is not `sent`. */
int store_delivery_undelivered(struct store *s, int64_t id,
    const char *error);
/* Every sending row back to pending (at start: they were in flight). */
int store_deliveries_requeue(struct store *s, int *count);
/* Pending deliveries of an alert -> `to` (cancelled). Returns count in *n. */
int store_deliveries_stop(struct store *s, int64_t alert, const char *kind,
    const char *to, int *n);
/* Revokes every live token of an alert of `kind` (NULL: all kinds). */
int store_tokens_revoke_alert(struct store *s, int64_t alert,
    const char *kind, time_t at);

/* A link token's row, found by SHA-256 of the token's text. */
struct token_row {
	uint8_t hash[SHA256_BYTES];
	char *kind;		/* "alert", "approval" or "notice" */
	int64_t alert_id;
	int64_t delivery_id;
	char *member;
	time_t created_at, expires_at;
	time_t used_at, revoked_at;	/* 0 when not */
};
void token_row_free(struct token_row *t);
/* 0 and *t filled; 1 when no token has this hash; -1 on error. The caller
 * decides whether the row is live (kind, expiry, used, revoked). */
int store_token_lookup(struct store *s, const uint8_t hash[SHA256_BYTES],
    struct token_row *t);
/* Marks a token used at `at`: 0 marked, 1 already used or no such token.
 * Must be inside a transaction. */
int store_token_use(struct store *s, const uint8_t hash[SHA256_BYTES],
    time_t at);
/* One delivery by id: 0 and *d filled; 1 when there is none; -1 on error. */
int store_delivery_get(struct store *s, int64_t id, struct delivery_row *d);
/* read_at = at on every alert row of the delivery's (alert, member), when
 * none of them was read yet: 0 marked, 1 already. In a transaction. */
int store_delivery_read(struct store *s, int64_t id, time_t at);
/* confirmed_at = at with response and how (read_at too when not set) on
 * every row of the delivery's (alert, kind, member), when none of them was
 * confirmed yet (a person confirms once, through any of their links, and
 * every round's row shows it): 0 marked, 1 already. In a transaction. */
int store_delivery_confirm(struct store *s, int64_t id, time_t at,
    const char *response, const char *how);
/* The state of a delivery's link at `now`: "live", "used", "revoked",
 * "expired", or "none" (no token). A static string; NULL on error. */
const char *store_token_state(struct store *s, int64_t delivery, time_t now);

/* Suspension of a member (lost or stolen device). */
int store_suspend(struct store *s, const char *member, const char *reason,
    const char *by, time_t at, int *stopped);
/* 0 resumed, 1 was not suspended. */
int store_resume(struct store *s, const char *member);
/* true when suspended (reason copied to *reason if non-NULL). */
bool store_is_suspended(struct store *s, const char *member, char **reason);
/* 1 when some recipient of the alert may still confirm: their latest
 * alert row (highest round, then id) is not suspended, no alert row of
 * theirs is confirmed, and they are not suspended now; 0 if nobody; -1
 * on error. */
int	store_alert_has_open(struct store *s, int64_t alert);

struct audit_row {
	int64_t id;
	time_t at;
	char *actor, *action, *member, *channel, *detail;
	int64_t alert;
};
void audit_rows_free(struct audit_row *v, size_t n);
/* Audit rows in id order; since/until 0 = open; member/alert NULL/0 =
 * any. A page: only rows with id > after, at most limit of them (0: no
 * limit); *more is set when rows past the page remain. 0 or -1. */
struct audit_query {
	time_t since, until;
	const char *member;
	int64_t alert;
	int64_t after;
	size_t limit;
};
int store_audit_query(struct store *s, const struct audit_query *q,
    struct audit_row **v, size_t *n, bool *more);

#endif
