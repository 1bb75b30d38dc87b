/*
 * store.c: the SQLite schema, its migrations, and every query crisiscast
 * makes. Pure: never logs; errors go to s->err.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/*
 * Prepared statements are kept for reuse, keyed by their SQL text: the hot
 * paths (fan-out, confirmations) run the same few statements thousands of
 * times, and compiling one costs more than running it. A statement in use
 * is not handed out twice (a second user gets a fresh one, finalized at
 * its release).
 */
#define STMT_CACHE	64

struct cached_stmt {
	char *sql;
	uint32_t hash;
	sqlite3_stmt *st;
	bool busy;
};

struct store {
	sqlite3 *db;
	bool in_tx;
	bool full;	/* the last failure was SQLITE_FULL or ENOSPC */
	char err[512];
	struct cached_stmt cache[STMT_CACHE];
	size_t ncache;
};

/*
 * Migrations, applied in order; user_version is the number applied. Never
 * edit one that has shipped: add the next.
 */
static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE alerts ("
	"  id INTEGER PRIMARY KEY,"
	"  tag TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  audience TEXT NOT NULL,"
	"  sender TEXT NOT NULL,"
	"  drill INTEGER NOT NULL DEFAULT 0 CHECK (drill IN (0, 1)),"
	"  vars TEXT NOT NULL DEFAULT '{}',"
	"  warnings TEXT NOT NULL DEFAULT '[]',"
	"  state TEXT NOT NULL CHECK (state IN ('pending_approval', 'approved',"
	"    'sending', 'complete', 'rejected', 'expired', 'cancelled')),"
	"  created_at INTEGER NOT NULL,"
	"  decided_at INTEGER,"
	"  decided_by TEXT,"
	"  decided_how TEXT,"
	"  decision_client TEXT,"
	"  reason TEXT,"
	"  cancels INTEGER REFERENCES alerts(id)"
	");"
	"CREATE TABLE deliveries ("
	"  id INTEGER PRIMARY KEY,"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('alert', 'approval')),"
	"  member TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  shelter TEXT,"
	"  position INTEGER NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent',"
	"    'failed', 'suspended', 'cancelled')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  provider_id TEXT,"
	"  error TEXT,"
	"  salt BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  next_at INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER,"
	"  read_at INTEGER,"
	"  confirmed_at INTEGER,"
	"  response TEXT,"
	"  UNIQUE (alert_id, kind, member, channel)"
	");"
	"CREATE INDEX deliveries_due ON deliveries (state, next_at);"
	"CREATE INDEX deliveries_member ON deliveries (member, state);"
	"CREATE TABLE tokens ("
	"  hash BLOB PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('alert', 'approval')),"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  delivery_id INTEGER NOT NULL REFERENCES deliveries(id),"
	"  member TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER,"
	"  revoked_at INTEGER"
	");"
	"CREATE INDEX tokens_alert ON tokens (alert_id, kind);"
	"CREATE INDEX tokens_member ON tokens (member);"
	"CREATE TABLE suspensions ("
	"  member TEXT PRIMARY KEY,"
	"  reason TEXT NOT NULL,"
	"  by TEXT NOT NULL,"
	"  at INTEGER NOT NULL"
	");"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  alert_id INTEGER,"
	"  member TEXT,"
	"  channel TEXT,"
	"  detail TEXT"
	");"
	"CREATE INDEX audit_at ON audit (at);"
	"CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
	"CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",

	/* 2: notices to people (the sender of an expired alert, call lists),
	 * the provider's own delivery status, re-notify rounds, how a
	 * confirmation came, and the approval chain's step and deadline.
	 * deliveries is rebuilt to widen its kind CHECK (SQLite's 12-step
	 * procedure; foreign keys are off around it, see migrate()). */
	"CREATE TABLE deliveries_new ("
	"  id INTEGER PRIMARY KEY,"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('alert', 'approval', 'notice')),"
	"  member TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  shelter TEXT,"
	"  position INTEGER NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent',"
	"    'failed', 'suspended', 'cancelled')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  provider_id TEXT,"
	"  error TEXT,"
	"  salt BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  next_at INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER,"
	"  read_at INTEGER,"
	"  confirmed_at INTEGER,"
	"  response TEXT,"
	"  provider_status TEXT,"
	"  provider_status_at INTEGER,"
	"  round INTEGER NOT NULL DEFAULT 0,"
	"  confirmed_how TEXT,"
	"  body TEXT,"
	"  UNIQUE (alert_id, kind, member, channel, round)"
	");"
	"INSERT INTO deliveries_new (id, alert_id, kind, member, name, title,"
	"  shelter, position, channel, address, state, attempts, provider_id,"
	"  error, salt, created_at, next_at, sent_at, read_at, confirmed_at,"
	"  response)"
	"  SELECT id, alert_id, kind, member, name, title, shelter, position,"
	"  channel, address, state, attempts, provider_id, error, salt,"
	"  created_at, next_at, sent_at, read_at, confirmed_at, response"
	"  FROM deliveries;"
	"DROP TABLE deliveries;"
	"ALTER TABLE deliveries_new RENAME TO deliveries;"
	"CREATE INDEX deliveries_due ON deliveries (state, next_at);"
	"CREATE INDEX deliveries_member ON deliveries (member, state);"
	"CREATE INDEX deliveries_provider ON deliveries (provider_id);"
	"CREATE TABLE tokens_new ("
	"  hash BLOB PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('alert', 'approval', 'notice')),"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  delivery_id INTEGER NOT NULL REFERENCES deliveries(id),"
	"  member TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER,"
	"  revoked_at INTEGER"
	");"
	"INSERT INTO tokens_new SELECT * FROM tokens;"
	"DROP TABLE tokens;"
	"ALTER TABLE tokens_new RENAME TO tokens;"
	"CREATE INDEX tokens_alert ON tokens (alert_id, kind);"
	"CREATE INDEX tokens_member ON tokens (member);"
	"CREATE INDEX tokens_delivery ON tokens (delivery_id);"
	"ALTER TABLE alerts ADD COLUMN step INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE alerts ADD COLUMN approval_expires_at INTEGER;",

	/* 3: the fan-out's queue: the pending deliveries of each channel in
	 * send order, so that taking the next few reads those few rows
	 * however long the backlog (store_deliveries_due). */
	"CREATE INDEX deliveries_queue ON deliveries"
	"  (channel, alert_id, kind DESC, position, id) WHERE state = 'pending';",

	/* 4: deliveries and tokens rebuilt (the 12-step procedure, as in 2)
	 * with the same CHECKs written as OR chains: SQLite builds a
	 * temporary b-tree for a CHECK's `IN (three or more values)` at every
	 * INSERT, and at every UPDATE of its column, which doubled the cost
	 * of each delivery's state change. Same rules, same rows. */
	"CREATE TABLE deliveries_new ("
	"  id INTEGER PRIMARY KEY,"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  kind TEXT NOT NULL CHECK (kind = 'alert' OR kind = 'approval' OR"
	"    kind = 'notice'),"
	"  member TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  shelter TEXT,"
	"  position INTEGER NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state = 'pending' OR state = 'sending' OR"
	"    state = 'sent' OR state = 'failed' OR state = 'suspended' OR"
	"    state = 'cancelled'),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  provider_id TEXT,"
	"  error TEXT,"
	"  salt BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  next_at INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER,"
	"  read_at INTEGER,"
	"  confirmed_at INTEGER,"
	"  response TEXT,"
	"  provider_status TEXT,"
	"  provider_status_at INTEGER,"
	"  round INTEGER NOT NULL DEFAULT 0,"
	"  confirmed_how TEXT,"
	"  body TEXT,"
	"  UNIQUE (alert_id, kind, member, channel, round)"
	");"
	"INSERT INTO deliveries_new (id, alert_id, kind, member, name, title,"
	"  shelter, position, channel, address, state, attempts, provider_id,"
	"  error, salt, created_at, next_at, sent_at, read_at, confirmed_at,"
	"  response, provider_status, provider_status_at, round, confirmed_how,"
	"  body)"
	"  SELECT id, alert_id, kind, member, name, title, shelter, position,"
	"  channel, address, state, attempts, provider_id, error, salt,"
	"  created_at, next_at, sent_at, read_at, confirmed_at, response,"
	"  provider_status, provider_status_at, round, confirmed_how, body"
	"  FROM deliveries;"
	"DROP TABLE deliveries;"
	"ALTER TABLE deliveries_new RENAME TO deliveries;"
	"CREATE INDEX deliveries_due ON deliveries (state, next_at);"
	"CREATE INDEX deliveries_member ON deliveries (member, state);"
	"CREATE INDEX deliveries_provider ON deliveries (provider_id);"
	"CREATE INDEX deliveries_queue ON deliveries"
	"  (channel, alert_id, kind DESC, position, id) WHERE state = 'pending';"
	"CREATE TABLE tokens_new ("
	"  hash BLOB PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind = 'alert' OR kind = 'approval' OR"
	"    kind = 'notice'),"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  delivery_id INTEGER NOT NULL REFERENCES deliveries(id),"
	"  member TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER,"
	"  revoked_at INTEGER"
	");"
	"INSERT INTO tokens_new (hash, kind, alert_id, delivery_id, member,"
	"  created_at, expires_at, used_at, revoked_at)"
	"  SELECT hash, kind, alert_id, delivery_id, member, created_at,"
	"  expires_at, used_at, revoked_at FROM tokens;"
	"DROP TABLE tokens;"
	"ALTER TABLE tokens_new RENAME TO tokens;"
	"CREATE INDEX tokens_alert ON tokens (alert_id, kind);"
	"CREATE INDEX tokens_member ON tokens (member);"
	"CREATE INDEX tokens_delivery ON tokens (delivery_id);",
	/* 5: when a delivery's first transient failure was recorded (NULL:
	 * none), so that a channel failing a member for longer than
	 * delivery.failover_after moves the member to the next one */
	"ALTER TABLE deliveries ADD COLUMN failing_since INTEGER;",
};

static int
fail(struct store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what,
	    s->db ? sqlite3_errmsg(s->db) : "no database");
	s->full = s->db != NULL && (sqlite3_errcode(s->db) == SQLITE_FULL ||
	    sqlite3_system_errno(s->db) == ENOSPC);
	return -1;
}

bool
store_disk_full(const struct store *s)
{
	return s->full;
}

const char *
store_error(const struct store *s)
{
	return s->err;
}

sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

static int
exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%s", msg ? msg :
		    sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		s->full = sqlite3_errcode(s->db) == SQLITE_FULL ||
		    sqlite3_system_errno(s->db) == ENOSPC;
		return -1;
	}
	return 0;
}

static uint32_t
sql_hash(const char *sql)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *sql != '\0'; sql++)
		h = (h ^ (uint8_t)*sql) * 16777619u;
	return h;
}

/* A statement for sql, from the cache when it holds an idle one; give it
 * back with release(). */
static int
prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	uint32_t h = sql_hash(sql);
	struct cached_stmt *c;

	for (size_t i = 0; i < s->ncache; i++) {
		c = &s->cache[i];
		if (c->hash == h && !c->busy && strcmp(c->sql, sql) == 0) {
			c->busy = true;
			*st = c->st;
			return 0;
		}
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, s->ncache < STMT_CACHE ?
	    SQLITE_PREPARE_PERSISTENT : 0, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return fail(s, "prepare");
	}
	if (s->ncache < STMT_CACHE) {
		c = &s->cache[s->ncache++];
		c->sql = xstrdup(sql);
		c->hash = h;
		c->st = *st;
		c->busy = true;
	}
	return 0;
}

/* Gives back a statement from prepare(): reset for the next user (which
 * also ends its read), or finalized when it is not cached. */
static void
release(struct store *s, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < s->ncache; i++)
		if (s->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			s->cache[i].busy = false;
			return;
		}
	sqlite3_finalize(st);	/* not cached: the cache was full */
}

/* Steps a statement that returns no rows, then releases it. */
static int
run(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	release(s, st);
	if (rc != SQLITE_DONE)
		return fail(s, "write");
	return 0;
}

static int
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

/* -1 when any row breaks a foreign key (after a table rebuild). */
static int
fk_check(struct store *s)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "PRAGMA foreign_key_check", &st) < 0)
		return -1;
	rc = sqlite3_step(st);
	release(s, st);
	if (rc == SQLITE_ROW) {
		snprintf(s->err, sizeof(s->err), "foreign key check failed");
		return -1;
	}
	return rc == SQLITE_DONE ? 0 : fail(s, "foreign_key_check");
}

static int
migrate(struct store *s)
{
	sqlite3_stmt *st;
	int version;

	if (prepare(s, "PRAGMA user_version", &st) < 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		release(s, st);
		return fail(s, "user_version");
	}
	version = sqlite3_column_int(st, 0);
	release(s, st);
	if (version > (int)nitems(migrations)) {
		snprintf(s->err, sizeof(s->err), "database schema version %d is "
		    "newer than this program's %zu", version, nitems(migrations));
		return -1;
	}
	/* Tables are rebuilt with foreign keys off (they cannot be changed
	 * inside a transaction), and checked before the commit. */
	if (version < (int)nitems(migrations) &&
	    exec(s, "PRAGMA foreign_keys = OFF") < 0)
		return -1;
	for (int v = version; v < (int)nitems(migrations); v++) {
		char pragma[64];
		if (store_begin(s) < 0)
			return -1;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (exec(s, migrations[v]) < 0 || exec(s, pragma) < 0 ||
		    fk_check(s) < 0) {
			char saved[sizeof(s->err) - 32];
			memcpy(saved, s->err, sizeof(saved) - 1);
			saved[sizeof(saved) - 1] = '\0';
			store_rollback(s);
			snprintf(s->err, sizeof(s->err), "migration %d: %s", v + 1,
			    saved);
			return -1;
		}
		if (store_commit(s) < 0)
			return -1;
	}
	return exec(s, "PRAGMA foreign_keys = ON");
}

/*
 * Process-wide SQLite settings, made before SQLite initialises (the first
 * open). No bulk page-cache block: SQLite otherwise allocates room for 20
 * pages (about 87 KB) for each connection up front and holds that block
 * until the connection closes, so the idle trim's
 * sqlite3_db_release_memory() can never give it back; pages then come one
 * malloc() each. After SQLite has initialised (a second store in one
 * process, as in the tests) sqlite3_config() refuses with SQLITE_MISUSE
 * and the first setting stays, which is the same one.
 */
static void
configure_sqlite(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	(void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

int
store_open(const char *dir, struct store **sp, char *err, size_t errsz)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char *path;

	configure_sqlite();

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		free(s);
		return -1;
	}
	path = xasprintf("%s/state.db", dir);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, s->db ?
		    sqlite3_errmsg(s->db) : "cannot open");
		free(path);
		store_close(s);
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	sqlite3_extended_result_codes(s->db, 1);
	if (exec(s, "PRAGMA journal_mode = WAL") < 0 ||
	    exec(s, "PRAGMA synchronous = FULL") < 0 ||
	    exec(s, "PRAGMA foreign_keys = ON") < 0 ||
	    exec(s, "PRAGMA trusted_schema = OFF") < 0 ||
	    migrate(s) < 0) {
		snprintf(err, errsz, "%s: %s", path, s->err);
		free(path);
		store_close(s);
		return -1;
	}
	free(path);
	*sp = s;
	return 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ncache; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	sqlite3_close(s->db);
	free(s);
}

int
store_begin(struct store *s)
{
	if (s->in_tx) {
		snprintf(s->err, sizeof(s->err), "nested transaction");
		return -1;
	}
	if (exec(s, "BEGIN IMMEDIATE") < 0)
		return -1;
	s->in_tx = true;
	return 0;
}

int
store_commit(struct store *s)
{
	if (exec(s, "COMMIT") < 0) {
		char saved[sizeof(s->err)];
		memcpy(saved, s->err, sizeof(saved));
		store_rollback(s);
		memcpy(s->err, saved, sizeof(saved));
		return -1;
	}
	s->in_tx = false;
	return 0;
}

void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = false;
}

int
store_audit(struct store *s, time_t at, const char *actor, const char *action,
    int64_t alert, const char *member, const char *channel, const char *detail)
{
	sqlite3_stmt *st;

	if (prepare(s, "INSERT INTO audit (at, actor, action, alert_id, member,"
	    " channel, detail) VALUES (?, ?, ?, ?, ?, ?, ?)", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, at);
	bind_text(st, 2, actor);
	bind_text(st, 3, action);
	if (alert > 0)
		sqlite3_bind_int64(st, 4, alert);
	bind_text(st, 5, member);
	bind_text(st, 6, channel);
	bind_text(st, 7, detail);
	return run(s, st);
}

void
alert_row_free(struct alert_row *a)
{
	free(a->tag);
	free(a->body);
	free(a->audience);
	free(a->sender);
	free(a->vars);
	free(a->warnings);
	free(a->state);
	free(a->decided_by);
	free(a->decided_how);
	free(a->decision_client);
	free(a->reason);
	memset(a, 0, sizeof(*a));
}

int
store_alert_insert(struct store *s, struct alert_row *a)
{
	sqlite3_stmt *st;

	if (prepare(s, "INSERT INTO alerts (tag, body, audience, sender, drill,"
	    " vars, warnings, state, created_at, cancels, step,"
	    " approval_expires_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st) < 0)
		return -1;
	bind_text(st, 1, a->tag);
	bind_text(st, 2, a->body);
	bind_text(st, 3, a->audience);
	bind_text(st, 4, a->sender);
	sqlite3_bind_int(st, 5, a->drill);
	bind_text(st, 6, a->vars ? a->vars : "{}");
	bind_text(st, 7, a->warnings ? a->warnings : "[]");
	bind_text(st, 8, a->state);
	sqlite3_bind_int64(st, 9, a->created_at);
	if (a->cancels > 0)
		sqlite3_bind_int64(st, 10, a->cancels);
	sqlite3_bind_int(st, 11, a->step);
	if (a->approval_expires_at > 0)
		sqlite3_bind_int64(st, 12, a->approval_expires_at);
	if (run(s, st) < 0)
		return -1;
	a->id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

#define ALERT_COLS "id, tag, body, audience, sender, drill, vars, warnings," \
	" state, created_at, decided_at, decided_by, decided_how," \
	" decision_client, reason, cancels, step, approval_expires_at"

static void
alert_from_row(sqlite3_stmt *st, struct alert_row *a)
{
	a->id = sqlite3_column_int64(st, 0);
	a->tag = col_text(st, 1);
	a->body = col_text(st, 2);
	a->audience = col_text(st, 3);
	a->sender = col_text(st, 4);
	a->drill = sqlite3_column_int(st, 5) != 0;
	a->vars = col_text(st, 6);
	a->warnings = col_text(st, 7);
	a->state = col_text(st, 8);
	a->created_at = sqlite3_column_int64(st, 9);
	a->decided_at = sqlite3_column_int64(st, 10);
	a->decided_by = col_text(st, 11);
	a->decided_how = col_text(st, 12);
	a->decision_client = col_text(st, 13);
	a->reason = col_text(st, 14);
	a->cancels = sqlite3_column_int64(st, 15);
	a->step = sqlite3_column_int(st, 16);
	a->approval_expires_at = sqlite3_column_int64(st, 17);
}

int
store_alert_get(struct store *s, int64_t id, struct alert_row *a)
{
	sqlite3_stmt *st;
	int rc;

	memset(a, 0, sizeof(*a));
	if (prepare(s, "SELECT " ALERT_COLS " FROM alerts WHERE id = ?", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		alert_from_row(st, a);
	release(s, st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return fail(s, "read alert");
}

/* The deliveries of alert `id` that an alert in state `to` never sends,
 * closed (contract at store_alert_transition). */
static int
close_unsendable(struct store *s, int64_t id, const char *to)
{
	bool live = strcmp(to, "approved") == 0 || strcmp(to, "sending") == 0;
	sqlite3_stmt *st;
	char *why;
	int rc;

	if (strcmp(to, "pending_approval") == 0)
		return 0;
	if (prepare(s, "UPDATE deliveries SET state = 'cancelled', error = ?2"
	    " WHERE alert_id = ?1 AND state = 'pending' AND (kind = 'approval'"
	    " OR (?3 = 0 AND kind = 'alert'))", &st) < 0)
		return -1;
	why = xasprintf("not sent: the alert is %s", to);
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, why);
	sqlite3_bind_int(st, 3, live);
	rc = run(s, st);
	free(why);
	return rc < 0 ? -1 : 0;
}

int
store_alert_transition(struct store *s, int64_t id, const char *const from[],
    const char *to, time_t at, const char *by, const char *how,
    const char *client, const char *reason)
{
	struct buf sql = {0};
	sqlite3_stmt *st;
	int i = 0, rc;

	buf_adds(&sql, "UPDATE alerts SET state = ?1");
	if (by != NULL)
		buf_adds(&sql, ", decided_at = ?2, decided_by = ?3,"
		    " decided_how = ?4, decision_client = ?5");
	if (reason != NULL)
		buf_adds(&sql, ", reason = ?6");
	buf_adds(&sql, " WHERE id = ?7 AND state IN (");
	for (i = 0; from[i] != NULL; i++)
		buf_printf(&sql, "%s?%d", i ? ", " : "", 8 + i);
	buf_adds(&sql, ")");
	rc = prepare(s, sql.data, &st);
	buf_free(&sql);
	if (rc < 0)
		return -1;
	bind_text(st, 1, to);
	if (by != NULL) {
		sqlite3_bind_int64(st, 2, at);
		bind_text(st, 3, by);
		bind_text(st, 4, how);
		bind_text(st, 5, client);
	}
	if (reason != NULL)
		bind_text(st, 6, reason);
	sqlite3_bind_int64(st, 7, id);
	for (i = 0; from[i] != NULL; i++)
		bind_text(st, 8 + i, from[i]);
	if (run(s, st) < 0)
		return -1;
	if (sqlite3_changes(s->db) != 1)
		return 1;
	return close_unsendable(s, id, to);
}

int
store_alert_step_advance(struct store *s, int64_t id, int from)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE alerts SET step = ?2 + 1 WHERE id = ?1"
	    " AND step = ?2 AND state = 'pending_approval'", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, from);
	if (run(s, st) < 0)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
store_alert_list(struct store *s, const char *state, time_t since,
    struct alert_row **v, size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	*v = NULL;
	*n = 0;
	if (prepare(s, "SELECT " ALERT_COLS " FROM alerts"
	    " WHERE (?1 IS NULL OR state = ?1) AND created_at >= ?2"
	    " ORDER BY id DESC", &st) < 0)
		return -1;
	bind_text(st, 1, state);
	sqlite3_bind_int64(st, 2, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		memset(&(*v)[*n], 0, sizeof(**v));
		alert_from_row(st, &(*v)[(*n)++]);
	}
	release(s, st);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < *n; i++)
			alert_row_free(&(*v)[i]);
		free(*v);
		*v = NULL;
		*n = 0;
		return fail(s, "list alerts");
	}
	return 0;
}

void
delivery_row_free(struct delivery_row *d)
{
	free(d->kind);
	free(d->member);
	free(d->name);
	free(d->title);
	free(d->shelter);
	free(d->channel);
	free(d->address);
	free(d->state);
	free(d->provider_id);
	free(d->error);
	free(d->response);
	free(d->body);
	memset(d, 0, sizeof(*d));
}

void
delivery_rows_free(struct delivery_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		delivery_row_free(&v[i]);
	free(v);
}

int
store_deliveries_create(struct store *s, const uint8_t key[TOKEN_KEY_BYTES],
    int64_t alert, const char *kind, const struct new_delivery *v, size_t n,
    time_t now, time_t expires)
{
	sqlite3_stmt *ins = NULL, *tok = NULL;
	int rc = -1;

	if (prepare(s, "INSERT INTO deliveries (alert_id, kind,"
	    " member, name, title, shelter, position, channel, address, state,"
	    " salt, created_at, error, body, round) VALUES (?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (alert_id, kind, member, channel, round)"
	    " DO NOTHING", &ins) < 0 ||
	    prepare(s, "INSERT INTO tokens (hash, kind, alert_id, delivery_id,"
	    " member, created_at, expires_at, revoked_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	    &tok) < 0)
		goto out;
	/* Tokens are derived from the salt with the site key; the database
	 * holds the salt and the hash of the token, never the token. */
	for (size_t i = 0; i < n; i++) {
		uint8_t salt[SALT_BYTES];
		if (crypto_random(salt, sizeof(salt)) < 0) {
			snprintf(s->err, sizeof(s->err), "CSPRNG failed");
			goto out;
		}
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, alert);
		bind_text(ins, 2, kind);
		bind_text(ins, 3, v[i].member);
		bind_text(ins, 4, v[i].name);
		bind_text(ins, 5, v[i].title);
		bind_text(ins, 6, v[i].shelter);
		sqlite3_bind_int(ins, 7, v[i].position);
		bind_text(ins, 8, v[i].channel);
		bind_text(ins, 9, v[i].address);
		bind_text(ins, 10, v[i].state ? v[i].state : DLV_PENDING);
		sqlite3_bind_blob(ins, 11, salt, sizeof(salt), SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 12, now);
		bind_text(ins, 13, v[i].error);
		bind_text(ins, 14, v[i].body);
		sqlite3_bind_int(ins, 15, v[i].round);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fail(s, "insert delivery");
			goto out;
		}
		if (sqlite3_changes(s->db) == 0)
			continue;
		char token[TOKEN_CHARS + 1];
		uint8_t hash[SHA256_BYTES];
		token_derive(key, kind, salt, token);
		token_hash(token, hash);
		sqlite3_reset(tok);
		sqlite3_bind_blob(tok, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
		bind_text(tok, 2, kind);
		sqlite3_bind_int64(tok, 3, alert);
		sqlite3_bind_int64(tok, 4, sqlite3_last_insert_rowid(s->db));
		bind_text(tok, 5, v[i].member);
		sqlite3_bind_int64(tok, 6, now);
		sqlite3_bind_int64(tok, 7, expires);
		/* Nobody may use the link of a row that will not be sent. */
		if (v[i].state != NULL && strcmp(v[i].state, DLV_PENDING) != 0)
			sqlite3_bind_int64(tok, 8, now);
		else
			sqlite3_bind_null(tok, 8);
		if (sqlite3_step(tok) != SQLITE_DONE) {
			fail(s, "insert token");
			goto out;
		}
	}
	rc = 0;
out:
	release(s, ins);
	release(s, tok);
	return rc;
}

#define DLV_COLS "id, alert_id, kind, member, name, title, shelter, position," \
	" channel, address, state, attempts, provider_id, error, sent_at," \
	" read_at, confirmed_at, next_at, response, salt, body, round," \
	" created_at, failing_since"

static void
delivery_from_row(sqlite3_stmt *st, struct delivery_row *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	d->alert_id = sqlite3_column_int64(st, 1);
	d->kind = col_text(st, 2);
	d->member = col_text(st, 3);
	d->name = col_text(st, 4);
	d->title = col_text(st, 5);
	d->shelter = col_text(st, 6);
	d->position = sqlite3_column_int(st, 7);
	d->channel = col_text(st, 8);
	d->address = col_text(st, 9);
	d->state = col_text(st, 10);
	d->attempts = sqlite3_column_int(st, 11);
	d->provider_id = col_text(st, 12);
	d->error = col_text(st, 13);
	d->sent_at = sqlite3_column_int64(st, 14);
	d->read_at = sqlite3_column_int64(st, 15);
	d->confirmed_at = sqlite3_column_int64(st, 16);
	d->next_at = sqlite3_column_int64(st, 17);
	d->response = col_text(st, 18);
	if (sqlite3_column_bytes(st, 19) == SALT_BYTES)
		memcpy(d->salt, sqlite3_column_blob(st, 19), SALT_BYTES);
	d->body = col_text(st, 20);
	d->round = sqlite3_column_int(st, 21);
	d->created_at = sqlite3_column_int64(st, 22);
	d->failing_since = sqlite3_column_int64(st, 23);
}

static int
collect_deliveries(struct store *s, sqlite3_stmt *st, struct delivery_row **v,
    size_t *n)
{
	int rc;

	*v = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		delivery_from_row(st, &(*v)[(*n)++]);
	}
	release(s, st);
	if (rc != SQLITE_DONE) {
		delivery_rows_free(*v, *n);
		*v = NULL;
		*n = 0;
		return fail(s, "read deliveries");
	}
	return 0;
}

int
store_deliveries_of(struct store *s, int64_t alert, const char *kind,
    struct delivery_row **v, size_t *n)
{
	sqlite3_stmt *st;

	if (prepare(s, "SELECT " DLV_COLS " FROM deliveries WHERE alert_id = ?1"
	    " AND (?2 IS NULL OR kind = ?2) ORDER BY kind DESC, position, id",
	    &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, alert);
	bind_text(st, 2, kind);
	return collect_deliveries(s, st, v, n);
}

/* The columns of store_deliveries_due, and its test of whether the row's
 * alert may send. */
#define DUE_COLS "d.id, d.alert_id, d.kind, d.member, d.name, d.title," \
	" d.shelter, d.position, d.channel, d.address, d.state, d.attempts," \
	" d.provider_id, d.error, d.sent_at, d.read_at, d.confirmed_at," \
	" d.next_at, d.response, d.salt, d.body, d.round, d.created_at," \
	" d.failing_since"
#define DUE_MAY_SEND \
	" ((d.kind = 'approval' AND a.state = 'pending_approval') OR" \
	"  (d.kind = 'alert' AND a.state IN ('approved', 'sending')) OR" \
	"  d.kind = 'notice')"
#define DUE_ORDER " ORDER BY d.alert_id, d.kind DESC, d.position, d.id"

int
store_deliveries_due(struct store *s, time_t now, const char *channel,
    size_t max, struct delivery_row **v, size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	/* On one channel the rows come in index order (deliveries_queue):
	 * the read stops after max rows, with no sort of the backlog. */
	if (channel != NULL)
		rc = prepare(s, "SELECT " DUE_COLS " FROM deliveries d"
		    " INDEXED BY deliveries_queue JOIN alerts a ON a.id ="
		    " d.alert_id WHERE d.state = 'pending' AND d.channel = ?3"
		    " AND d.next_at <= ?1 AND" DUE_MAY_SEND DUE_ORDER
		    " LIMIT ?2", &st);
	else
		rc = prepare(s, "SELECT " DUE_COLS " FROM deliveries d"
		    " JOIN alerts a ON a.id = d.alert_id"
		    " WHERE d.state = 'pending' AND d.next_at <= ?1 AND"
		    DUE_MAY_SEND DUE_ORDER " LIMIT ?2", &st);
	if (rc < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	if (channel != NULL)
		bind_text(st, 3, channel);
	return collect_deliveries(s, st, v, n);
}

int
store_pending_channels(struct store *s, char ***v, size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	*v = NULL;
	*n = 0;
	/* One seek per channel in deliveries_queue, never a scan. */
	do {
		if (prepare(s, "SELECT channel FROM deliveries INDEXED BY"
		    " deliveries_queue WHERE state = 'pending' AND channel > ?1"
		    " ORDER BY channel LIMIT 1", &st) < 0)
			goto bad;
		bind_text(st, 1, *n > 0 ? (*v)[*n - 1] : "");
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*v = xreallocarray(*v, *n + 1, sizeof(**v));
			(*v)[(*n)++] = col_text(st, 0);
		}
		release(s, st);
	} while (rc == SQLITE_ROW);
	if (rc == SQLITE_DONE)
		return 0;
	fail(s, "pending channels");
bad:
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
	return -1;
}

time_t
store_next_due(struct store *s)
{
	sqlite3_stmt *st;
	time_t t = 0;

	if (prepare(s, "SELECT MIN(d.next_at) FROM deliveries d"
	    " JOIN alerts a ON a.id = d.alert_id"
	    " WHERE d.state = 'pending' AND d.next_at > 0 AND" DUE_MAY_SEND,
	    &st) < 0)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		t = sqlite3_column_int64(st, 0);
	release(s, st);
	return t;
}

static int
delivery_update(struct store *s, const char *sql, int64_t id, time_t t,
    const char *text)
{
	sqlite3_stmt *st;

	if (prepare(s, sql, &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, t);
	bind_text(st, 3, text);
	if (run(s, st) < 0)
		return -1;
	return sqlite3_changes(s->db) >= 1 ? 0 : 1;
}

int
store_delivery_claim(struct store *s, int64_t id)
{
	return delivery_update(s, "UPDATE deliveries SET state = 'sending',"
	    " attempts = attempts + 1 WHERE id = ?1 AND state = 'pending'"
	    " AND ?2 = ?2 AND ?3 IS ?3", id, 0, NULL);
}

int
store_delivery_sent(struct store *s, int64_t id, time_t at,
    const char *provider_id)
{
	return delivery_update(s, "UPDATE deliveries SET state = 'sent',"
	    " sent_at = ?2, provider_id = ?3, error = NULL"
	    " WHERE id = ?1 AND state = 'sending'", id, at, provider_id);
}

int
store_delivery_retry(struct store *s, int64_t id, time_t retry_at,
    time_t failing_since, const char *error)
{
	sqlite3_stmt *st;

	/* A retry the alert will never send (it was completed or cancelled
	 * while this was in flight) is closed instead of left waiting. */
	if (prepare(s, "UPDATE deliveries AS d SET state = CASE"
	    " WHEN EXISTS (SELECT 1 FROM alerts a WHERE a.id = d.alert_id AND"
	    DUE_MAY_SEND ") THEN 'pending' ELSE 'cancelled' END,"
	    " next_at = ?2, error = ?3,"
	    " failing_since = coalesce(failing_since, ?4)"
	    " WHERE id = ?1 AND state = 'sending'", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, retry_at);
	bind_text(st, 3, error);
	sqlite3_bind_int64(st, 4, failing_since);
	if (run(s, st) < 0)
		return -1;
	return sqlite3_changes(s->db) >= 1 ? 0 : 1;
}

int
store_delivery_failed(struct store *s, int64_t id, const char *error)
{
	return delivery_update(s, "UPDATE deliveries SET state = 'failed',"
	    " error = ?3 WHERE id = ?1 AND state = 'sending' AND ?2 = ?2",
	    id, 0, error);
}

int
store_delivery_by_provider(struct store *s, const char *channel,
    const char *provider_id, int64_t *id, char **status)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "SELECT id, provider_status FROM deliveries"
	    " WHERE provider_id = ?1 AND channel = ?2 ORDER BY id DESC LIMIT 1",
	    &st) < 0)
		return -1;
	bind_text(st, 1, provider_id);
	bind_text(st, 2, channel);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*status = col_text(st, 1);
		release(s, st);
		return 0;
	}
	release(s, st);
	return rc == SQLITE_DONE ? 1 : fail(s, "find delivery by provider id");
}

int
store_delivery_provider_status(struct store *s, int64_t id, const char *old,
    const char *status, time_t at)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE deliveries SET provider_status = ?3,"
	    " provider_status_at = ?2 WHERE id = ?1 AND provider_status IS ?4",
	    &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, at);
	bind_text(st, 3, status);
	bind_text(st, 4, old);
	if (run(s, st) < 0)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
store_delivery_undelivered(struct store *s, int64_t id, const char *error)
{
	return delivery_update(s, "UPDATE deliveries SET state = 'failed',"
	    " error = ?3 WHERE id = ?1 AND state = 'sent' AND ?2 = ?2",
	    id, 0, error);
}

int
store_deliveries_requeue(struct store *s, int *count)
{
	if (exec(s, "UPDATE deliveries SET state = 'pending'"
	    " WHERE state = 'sending'") < 0)
		return -1;
	*count = sqlite3_changes(s->db);
	return 0;
}

int
store_deliveries_stop(struct store *s, int64_t alert, const char *kind,
    const char *to, int *n)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE deliveries SET state = ?3 WHERE alert_id = ?1"
	    " AND (?2 IS NULL OR kind = ?2) AND state = 'pending'",
	    &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, alert);
	bind_text(st, 2, kind);
	bind_text(st, 3, to);
	if (run(s, st) < 0)
		return -1;
	*n = sqlite3_changes(s->db);
	return 0;
}

int
store_tokens_revoke_alert(struct store *s, int64_t alert, const char *kind,
    time_t at)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE tokens SET revoked_at = ?3 WHERE alert_id = ?1"
	    " AND (?2 IS NULL OR kind = ?2) AND revoked_at IS NULL", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, alert);
	bind_text(st, 2, kind);
	sqlite3_bind_int64(st, 3, at);
	return run(s, st);
}

const char *
store_token_state(struct store *s, int64_t delivery, time_t now)
{
	sqlite3_stmt *st;
	const char *state = "none";
	int rc;

	if (prepare(s, "SELECT used_at, revoked_at, expires_at FROM tokens"
	    " WHERE delivery_id = ?1 ORDER BY created_at DESC LIMIT 1",
	    &st) < 0)
		return NULL;
	sqlite3_bind_int64(st, 1, delivery);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			state = "revoked";
		else if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			state = "used";
		else if (sqlite3_column_int64(st, 2) <= now)
			state = "expired";
		else
			state = "live";
	}
	release(s, st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fail(s, "read token");
		return NULL;
	}
	return state;
}

int
store_suspend(struct store *s, const char *member, const char *reason,
    const char *by, time_t at, int *stopped)
{
	sqlite3_stmt *st;

	if (prepare(s, "INSERT INTO suspensions (member, reason, by, at)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (member) DO UPDATE SET"
	    " reason = ?2, by = ?3, at = ?4", &st) < 0)
		return -1;
	bind_text(st, 1, member);
	bind_text(st, 2, reason);
	bind_text(st, 3, by);
	sqlite3_bind_int64(st, 4, at);
	if (run(s, st) < 0)
		return -1;
	if (prepare(s, "UPDATE deliveries SET state = 'suspended'"
	    " WHERE member = ?1 AND state = 'pending'", &st) < 0)
		return -1;
	bind_text(st, 1, member);
	if (run(s, st) < 0)
		return -1;
	*stopped = sqlite3_changes(s->db);
	if (prepare(s, "UPDATE tokens SET revoked_at = ?2 WHERE member = ?1"
	    " AND revoked_at IS NULL", &st) < 0)
		return -1;
	bind_text(st, 1, member);
	sqlite3_bind_int64(st, 2, at);
	return run(s, st);
}

int
store_resume(struct store *s, const char *member)
{
	sqlite3_stmt *st;

	if (prepare(s, "DELETE FROM suspensions WHERE member = ?1", &st) < 0)
		return -1;
	bind_text(st, 1, member);
	if (run(s, st) < 0)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
store_alert_has_open(struct store *s, int64_t alert)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "SELECT 1 FROM deliveries d WHERE d.alert_id = ?1"
	    " AND d.kind = 'alert' AND d.confirmed_at IS NULL"
	    " AND d.state != 'suspended'"
	    " AND NOT EXISTS (SELECT 1 FROM deliveries y"
	    "  WHERE y.alert_id = d.alert_id AND y.kind = 'alert'"
	    "  AND y.member = d.member AND (y.confirmed_at IS NOT NULL"
	    "  OR y.round > d.round OR (y.round = d.round AND y.id > d.id)))"
	    " AND NOT EXISTS (SELECT 1 FROM suspensions x"
	    "  WHERE x.member = d.member) LIMIT 1", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, alert);
	rc = sqlite3_step(st);
	release(s, st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "read deliveries");
}

bool
store_is_suspended(struct store *s, const char *member, char **reason)
{
	sqlite3_stmt *st;
	bool found = false;

	if (prepare(s, "SELECT reason FROM suspensions WHERE member = ?1",
	    &st) < 0)
		return false;
	bind_text(st, 1, member);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = true;
		if (reason != NULL)
			*reason = col_text(st, 0);
	}
	release(s, st);
	return found;
}

void
audit_rows_free(struct audit_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].actor);
		free(v[i].action);
		free(v[i].member);
		free(v[i].channel);
		free(v[i].detail);
	}
	free(v);
}

int
store_audit_query(struct store *s, const struct audit_query *q,
    struct audit_row **v, size_t *n, bool *more)
{
	sqlite3_stmt *st;
	int rc;

	*v = NULL;
	*n = 0;
	*more = false;
	if (prepare(s, "SELECT id, at, actor, action, alert_id, member, channel,"
	    " detail FROM audit WHERE id > ?5 AND at >= ?1"
	    " AND (?2 = 0 OR at < ?2)"
	    " AND (?3 IS NULL OR member = ?3 OR actor = ?3)"
	    " AND (?4 = 0 OR alert_id = ?4) ORDER BY id LIMIT ?6", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, q->since);
	sqlite3_bind_int64(st, 2, q->until);
	bind_text(st, 3, q->member);
	sqlite3_bind_int64(st, 4, q->alert);
	sqlite3_bind_int64(st, 5, q->after);
	/* One row past the page tells whether there is more. */
	sqlite3_bind_int64(st, 6, q->limit > 0 && q->limit < INT64_MAX ?
	    (int64_t)q->limit + 1 : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (q->limit > 0 && *n == q->limit) {
			*more = true;
			continue;
		}
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		struct audit_row *r = &(*v)[(*n)++];
		r->id = sqlite3_column_int64(st, 0);
		r->at = sqlite3_column_int64(st, 1);
		r->actor = col_text(st, 2);
		r->action = col_text(st, 3);
		r->alert = sqlite3_column_int64(st, 4);
		r->member = col_text(st, 5);
		r->channel = col_text(st, 6);
		r->detail = col_text(st, 7);
	}
	release(s, st);
	if (rc != SQLITE_DONE) {
		audit_rows_free(*v, *n);
		*v = NULL;
		*n = 0;
		*more = false;
		return fail(s, "read audit");
	}
	return 0;
}

void
token_row_free(struct token_row *t)
{
	free(t->kind);
	free(t->member);
	memset(t, 0, sizeof(*t));
}

int
store_token_lookup(struct store *s, const uint8_t hash[SHA256_BYTES],
    struct token_row *t)
{
	sqlite3_stmt *st;
	int rc;

	memset(t, 0, sizeof(*t));
	if (prepare(s, "SELECT hash, kind, alert_id, delivery_id, member,"
	    " created_at, expires_at, used_at, revoked_at FROM tokens"
	    " WHERE hash = ?1", &st) < 0)
		return -1;
	sqlite3_bind_blob(st, 1, hash, SHA256_BYTES, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SHA256_BYTES) {
		memcpy(t->hash, sqlite3_column_blob(st, 0), SHA256_BYTES);
		t->kind = col_text(st, 1);
		t->alert_id = sqlite3_column_int64(st, 2);
		t->delivery_id = sqlite3_column_int64(st, 3);
		t->member = col_text(st, 4);
		t->created_at = sqlite3_column_int64(st, 5);
		t->expires_at = sqlite3_column_int64(st, 6);
		t->used_at = sqlite3_column_int64(st, 7);
		t->revoked_at = sqlite3_column_int64(st, 8);
	}
	release(s, st);
	if (rc == SQLITE_ROW)
		return t->kind != NULL ? 0 : 1;
	if (rc == SQLITE_DONE)
		return 1;
	return fail(s, "read token");
}

int
store_token_use(struct store *s, const uint8_t hash[SHA256_BYTES], time_t at)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE tokens SET used_at = ?2 WHERE hash = ?1"
	    " AND used_at IS NULL", &st) < 0)
		return -1;
	sqlite3_bind_blob(st, 1, hash, SHA256_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, at);
	if (run(s, st) < 0)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
store_delivery_get(struct store *s, int64_t id, struct delivery_row *d)
{
	struct delivery_row *v;
	sqlite3_stmt *st;
	size_t n;

	memset(d, 0, sizeof(*d));
	if (prepare(s, "SELECT " DLV_COLS " FROM deliveries WHERE id = ?1",
	    &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (collect_deliveries(s, st, &v, &n) < 0)
		return -1;
	if (n == 0) {
		free(v);
		return 1;
	}
	*d = v[0];
	free(v);
	return 0;
}

int
store_delivery_read(struct store *s, int64_t id, time_t at)
{
	return delivery_update(s, "UPDATE deliveries SET read_at = ?2"
	    " WHERE read_at IS NULL AND ?3 IS ?3 AND (alert_id, kind, member) ="
	    " (SELECT alert_id, kind, member FROM deliveries WHERE id = ?1)"
	    " AND NOT EXISTS (SELECT 1 FROM deliveries x, deliveries me"
	    " WHERE me.id = ?1 AND x.alert_id = me.alert_id AND x.kind ="
	    " me.kind AND x.member = me.member AND x.read_at IS NOT NULL)",
	    id, at, NULL);
}

int
store_delivery_confirm(struct store *s, int64_t id, time_t at,
    const char *response, const char *how)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE deliveries SET confirmed_at = ?2,"
	    " response = ?3, confirmed_how = ?4,"
	    " read_at = COALESCE(read_at, ?2)"
	    " WHERE confirmed_at IS NULL AND (alert_id, kind, member) ="
	    " (SELECT alert_id, kind, member FROM deliveries WHERE id = ?1)"
	    " AND NOT EXISTS (SELECT 1 FROM deliveries x, deliveries me"
	    " WHERE me.id = ?1 AND x.alert_id = me.alert_id AND x.kind ="
	    " me.kind AND x.member = me.member AND x.confirmed_at IS NOT NULL)",
	    &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, at);
	bind_text(st, 3, response);
	bind_text(st, 4, how);
	if (run(s, st) < 0)
		return -1;
	return sqlite3_changes(s->db) >= 1 ? 0 : 1;
}
