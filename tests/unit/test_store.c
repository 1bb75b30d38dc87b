/*
 * test_store.c: lib/store.c against a real SQLite database in a fresh
 * mkdtemp directory: pragmas, migrations, alerts, deliveries and their
 * tokens, suspensions and the append-only audit table.
 *
 * Must never: leave files behind (every test removes its directory), or
 * depend on the clock (all times are fixed numbers). Tokens are checked by
 * recomputing them from each row's salt, not by trusting the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#include "util.h"

#define T0 1795197600		/* 2026-11-21T03:00:00+09:00 */

static const uint8_t key[TOKEN_KEY_BYTES] = {
	0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
	0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
};

struct fx {
	char dir[32];
	struct store *s;
};

/* Removes a directory of plain files (the database and its WAL). */
static void
rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		assert_int_equal(unlink(p), 0);
		free(p);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (store_open(f->dir, &f->s, err, sizeof(err)) != 0) {
		print_message("store_open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	rm_dir(f->dir);
	free(f);
	return 0;
}

/* One integer from a query, e.g. a PRAGMA or a COUNT. */
static long long
query_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *
query_text(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	char *v;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* Inserts an alert in state; returns its id. */
static int64_t
new_alert(struct store *s, const char *state, const char *tag)
{
	struct alert_row a = {
		.tag = (char *)tag,
		.body = (char *)"【避難所開設要請】第一小学校を開設してください",
		.audience = (char *)"shelter:hs01,hs03",
		.sender = (char *)"soumu_bucho",
		.state = (char *)state,
		.created_at = T0,
	};

	assert_int_equal(store_alert_insert(s, &a), 0);
	assert_true(a.id > 0);
	return a.id;
}

static const struct new_delivery people[] = {
	{ "hs01-1", "石田 一", "主事", "hs01", "sms", "+819000001001", 0,
	    NULL, NULL, NULL, 0 },
	{ "hs01-2", "石田 二", "主事", "hs01", "sms", "+819000001002", 1,
	    NULL, NULL, NULL, 0 },
	{ "hs03-1", "石田 三", "主事", "hs03", "email", "a@town.example", 2,
	    NULL, NULL, NULL, 0 },
};
static const struct new_delivery approvers[] = {
	{ "mayor", "安平 一郎", "町長", NULL, "lineworks",
	    "mayor@town.example", 0, NULL, NULL, NULL, 0 },
	{ "deputy_mayor", "北川 誠司", "副町長", NULL, "lineworks",
	    "deputy_mayor@town.example", 1, NULL, NULL, NULL, 0 },
};

static void
create(struct store *s, int64_t alert, const char *kind,
    const struct new_delivery *v, size_t n)
{
	assert_int_equal(store_begin(s), 0);
	if (store_deliveries_create(s, key, alert, kind, v, n, T0,
	    T0 + 1800) != 0)
		fail_msg("deliveries_create: %s", store_error(s));
	assert_int_equal(store_commit(s), 0);
}

static void
test_open_pragmas(void **state)
{
	struct fx *f = *state;
	char *mode;

	mode = query_text(f->s, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(query_int(f->s, "PRAGMA synchronous"), 2);
	assert_int_equal(query_int(f->s, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(f->s, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM sqlite_master"
	    " WHERE type = 'table' AND name IN ('alerts', 'deliveries',"
	    " 'tokens', 'suspensions', 'audit')"), 5);
	/* The database file is where it was asked to be. */
	char *p = xasprintf("%s/state.db", f->dir);
	assert_int_equal(access(p, R_OK | W_OK), 0);
	free(p);

	/* Nested transactions are a bug, and say so. */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_begin(f->s), -1);
	assert_non_null(strstr(store_error(f->s), "nested"));
	store_rollback(f->s);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_commit(f->s), 0);
}

static void
test_reopen(void **state)
{
	struct fx *f = *state;
	struct alert_row a;
	char err[256];
	int64_t id = new_alert(f->s, ALERT_PENDING, "避難所開設要請");
	long long objects = query_int(f->s, "SELECT COUNT(*) FROM "
	    "sqlite_master");

	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
	assert_int_equal(store_alert_get(f->s, id, &a), 0);
	assert_string_equal(a.tag, "避難所開設要請");
	alert_row_free(&a);
	assert_int_equal(query_int(f->s, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM sqlite_master"),
	    objects);
	/* PRAGMAs are set again on every open. */
	assert_int_equal(query_int(f->s, "PRAGMA synchronous"), 2);
	assert_int_equal(query_int(f->s, "PRAGMA foreign_keys"), 1);
}

static void
test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct store *s2 = (struct store *)1;
	char err[512] = "";

	assert_int_equal(sqlite3_exec(store_db(f->s), "PRAGMA user_version = 99",
	    NULL, NULL, NULL), SQLITE_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->dir, &s2, err, sizeof(err)), -1);
	assert_ptr_equal(s2, (struct store *)1);
	assert_non_null(strstr(err, "state.db"));
	assert_non_null(strstr(err, "version 99 is newer"));
	/* Put it back so teardown can open nothing and remove files. */
	sqlite3 *db;
	char *p = xasprintf("%s/state.db", f->dir);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = " \
	    STRINGIFY(STORE_SCHEMA_VERSION), NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	free(p);
	assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
}

static void
test_garbage_database(void **state)
{
	char dir[] = "/tmp/test_store-XXXXXX";
	struct store *s = NULL;
	char err[512] = "", *p;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	p = xasprintf("%s/state.db", dir);
	assert_non_null(fp = fopen(p, "w"));
	for (int i = 0; i < 4096; i++)
		fputc((i * 7919) & 0xff, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(store_open(dir, &s, err, sizeof(err)), -1);
	assert_null(s);
	assert_true(startswith(err, p));
	free(p);
	rm_dir(dir);

	/* A state directory that cannot be made. */
	assert_int_equal(store_open("/proc/no/such/dir", &s, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/proc/no/such/dir"));
}

static void
test_alerts(void **state)
{
	struct fx *f = *state;
	struct alert_row a, *v;
	size_t n;
	static const char *const from_pending[] = { ALERT_PENDING, NULL };
	static const char *const from_live[] = { ALERT_APPROVED, ALERT_SENDING,
		NULL };
	int64_t id, id2;

	struct alert_row in = {
		.tag = (char *)"訓練", .body = (char *)"【訓練】本文",
		.audience = (char *)"crisis", .sender = (char *)"kiki_shitsucho",
		.drill = true, .vars = (char *)"{\"k\":\"v\"}",
		.warnings = (char *)"[\"w\"]", .state = (char *)ALERT_PENDING,
		.created_at = T0,
	};
	assert_int_equal(store_alert_insert(f->s, &in), 0);
	id = in.id;
	assert_int_equal(store_alert_get(f->s, id, &a), 0);
	assert_int_equal(a.id, id);
	assert_string_equal(a.tag, "訓練");
	assert_string_equal(a.body, "【訓練】本文");
	assert_string_equal(a.audience, "crisis");
	assert_string_equal(a.sender, "kiki_shitsucho");
	assert_true(a.drill);
	assert_string_equal(a.vars, "{\"k\":\"v\"}");
	assert_string_equal(a.warnings, "[\"w\"]");
	assert_string_equal(a.state, ALERT_PENDING);
	assert_int_equal(a.created_at, T0);
	assert_int_equal(a.decided_at, 0);
	assert_null(a.decided_by);
	assert_null(a.reason);
	assert_int_equal(a.cancels, 0);
	alert_row_free(&a);
	assert_int_equal(store_alert_get(f->s, id + 100, &a), 1);

	/* Defaults for vars and warnings; a state the schema refuses. */
	id2 = new_alert(f->s, ALERT_APPROVED, "参集指示");
	assert_int_equal(store_alert_get(f->s, id2, &a), 0);
	assert_string_equal(a.vars, "{}");
	assert_string_equal(a.warnings, "[]");
	assert_false(a.drill);
	alert_row_free(&a);
	in.state = (char *)"bogus";
	assert_int_equal(store_alert_insert(f->s, &in), -1);
	assert_true(store_error(f->s)[0] != '\0');
	in.state = (char *)ALERT_PENDING;
	in.cancels = 9999;	/* no such alert: a foreign key */
	assert_int_equal(store_alert_insert(f->s, &in), -1);
	in.cancels = id;
	assert_int_equal(store_alert_insert(f->s, &in), 0);
	assert_int_equal(store_alert_get(f->s, in.id, &a), 0);
	assert_int_equal(a.cancels, id);
	alert_row_free(&a);

	/* A transition from a wrong state changes nothing. */
	assert_int_equal(store_alert_transition(f->s, id, from_live,
	    ALERT_COMPLETE, T0 + 5, "mayor", "console", "pid 1", "no"), 1);
	assert_int_equal(store_alert_get(f->s, id, &a), 0);
	assert_string_equal(a.state, ALERT_PENDING);
	assert_null(a.decided_by);
	assert_null(a.reason);
	assert_int_equal(a.decided_at, 0);
	alert_row_free(&a);
	/* No such alert. */
	assert_int_equal(store_alert_transition(f->s, id + 100, from_pending,
	    ALERT_APPROVED, T0, NULL, NULL, NULL, NULL), 1);
	/* The right state moves, recording the decision. */
	assert_int_equal(store_alert_transition(f->s, id, from_pending,
	    ALERT_APPROVED, T0 + 60, "mayor", "link", "203.0.113.9", NULL), 0);
	assert_int_equal(store_alert_get(f->s, id, &a), 0);
	assert_string_equal(a.state, ALERT_APPROVED);
	assert_int_equal(a.decided_at, T0 + 60);
	assert_string_equal(a.decided_by, "mayor");
	assert_string_equal(a.decided_how, "link");
	assert_string_equal(a.decision_client, "203.0.113.9");
	alert_row_free(&a);
	/* Twice: the second finds it approved already. */
	assert_int_equal(store_alert_transition(f->s, id, from_pending,
	    ALERT_REJECTED, T0 + 61, "deputy_mayor", "console", "x", "late"),
	    1);
	/* Without by, decided_* stay; reason is recorded. */
	assert_int_equal(store_alert_transition(f->s, id, from_live,
	    ALERT_CANCELLED, T0 + 120, NULL, NULL, NULL, "誤報"), 0);
	assert_int_equal(store_alert_get(f->s, id, &a), 0);
	assert_string_equal(a.state, ALERT_CANCELLED);
	assert_string_equal(a.decided_by, "mayor");
	assert_int_equal(a.decided_at, T0 + 60);
	assert_string_equal(a.reason, "誤報");
	alert_row_free(&a);

	/* Lists: newest first, filtered by state and time. */
	assert_int_equal(store_alert_list(f->s, NULL, 0, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_true(v[0].id > v[1].id && v[1].id > v[2].id);
	for (size_t i = 0; i < n; i++)
		alert_row_free(&v[i]);
	free(v);
	assert_int_equal(store_alert_list(f->s, ALERT_APPROVED, 0, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, id2);
	alert_row_free(&v[0]);
	free(v);
	assert_int_equal(store_alert_list(f->s, NULL, T0 + 1, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
}

/* Checks every token row of alert: SHA-256 of the token derived from its
 * delivery's salt, for the right kind, member and expiry. Returns count. */
static size_t
check_tokens(struct store *s, int64_t alert)
{
	sqlite3_stmt *st;
	size_t n = 0;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), "SELECT t.hash,"
	    " t.kind, d.salt, t.member, d.member, t.expires_at, t.created_at,"
	    " d.kind FROM tokens t JOIN deliveries d ON d.id = t.delivery_id"
	    " WHERE t.alert_id = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, alert);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char token[TOKEN_CHARS + 1];
		uint8_t want[SHA256_BYTES];
		const char *kind = (const char *)sqlite3_column_text(st, 1);

		assert_int_equal(sqlite3_column_bytes(st, 0), SHA256_BYTES);
		assert_int_equal(sqlite3_column_bytes(st, 2), SALT_BYTES);
		token_derive(key, kind, sqlite3_column_blob(st, 2), token);
		crypto_sha256(token, strlen(token), want);
		assert_memory_equal(sqlite3_column_blob(st, 0), want,
		    SHA256_BYTES);
		assert_string_equal(sqlite3_column_text(st, 3),
		    sqlite3_column_text(st, 4));
		assert_string_equal(kind, sqlite3_column_text(st, 7));
		assert_int_equal(sqlite3_column_int64(st, 5), T0 + 1800);
		assert_int_equal(sqlite3_column_int64(st, 6), T0);
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

static void
test_deliveries_create(void **state)
{
	struct fx *f = *state;
	struct delivery_row *v;
	size_t n;
	int64_t a = new_alert(f->s, ALERT_PENDING, "避難所開設要請");

	create(f->s, a, "approval", approvers, nitems(approvers));
	create(f->s, a, "alert", people, nitems(people));
	assert_int_equal(check_tokens(f->s, a), 5);
	/* Nothing in the database is a token: no column holds a
	 * well-formed 22-character token text. */
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM deliveries"
	    " WHERE length(address) = 22 OR length(provider_id) = 22"), 0);
	/* Salts differ. */
	assert_int_equal(query_int(f->s, "SELECT COUNT(DISTINCT salt) FROM"
	    " deliveries"), 5);

	assert_int_equal(store_deliveries_of(f->s, a, NULL, &v, &n), 0);
	assert_int_equal(n, 5);
	/* approval (kind DESC) before alert, then by position. */
	assert_string_equal(v[0].kind, "approval");
	assert_string_equal(v[0].member, "mayor");
	assert_string_equal(v[1].member, "deputy_mayor");
	assert_string_equal(v[2].kind, "alert");
	assert_string_equal(v[2].member, "hs01-1");
	assert_string_equal(v[2].name, "石田 一");
	assert_string_equal(v[2].title, "主事");
	assert_string_equal(v[2].shelter, "hs01");
	assert_string_equal(v[2].channel, "sms");
	assert_string_equal(v[2].address, "+819000001001");
	assert_string_equal(v[2].state, DLV_PENDING);
	assert_int_equal(v[2].attempts, 0);
	assert_int_equal(v[2].next_at, 0);
	assert_int_equal(v[4].position, 2);
	assert_null(v[0].shelter);
	delivery_rows_free(v, n);
	assert_int_equal(store_deliveries_of(f->s, a, "alert", &v, &n), 0);
	assert_int_equal(n, 3);
	delivery_rows_free(v, n);

	/* The same (alert, kind, member, channel) again is left alone: no
	 * new rows, no new tokens, the old salt kept. */
	uint8_t salt[SALT_BYTES];
	assert_int_equal(store_deliveries_of(f->s, a, "alert", &v, &n), 0);
	memcpy(salt, v[0].salt, SALT_BYTES);
	delivery_rows_free(v, n);
	create(f->s, a, "alert", people, nitems(people));
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM deliveries"), 5);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens"), 5);
	assert_int_equal(store_deliveries_of(f->s, a, "alert", &v, &n), 0);
	assert_memory_equal(v[0].salt, salt, SALT_BYTES);
	delivery_rows_free(v, n);
	/* Another channel for the same member is a new row. */
	struct new_delivery other = people[0];
	other.channel = "email";
	other.address = "x@town.example";
	create(f->s, a, "alert", &other, 1);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM deliveries"), 6);
	assert_int_equal(check_tokens(f->s, a), 6);
	/* A row created failed, with its reason. */
	struct new_delivery dead = people[1];
	dead.channel = "ntfy";
	dead.address = "cc-x";
	dead.state = DLV_FAILED;
	dead.error = "no address";
	create(f->s, a, "alert", &dead, 1);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM deliveries"
	    " WHERE state = 'failed' AND error = 'no address'"), 1);

	/* An alert that does not exist is refused (foreign key). */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_deliveries_create(f->s, key, a + 100, "alert",
	    people, 1, T0, T0 + 1800), -1);
	store_rollback(f->s);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM deliveries"), 7);
}

/*
 * Only a duplicate (alert, kind, member, channel) may be skipped quietly.
 * A row the schema refuses (unknown kind or state, a missing name, title
 * or address) is an error: a recipient must never vanish without a trace.
 */
static void
test_deliveries_create_bad_rows(void **state)
{
	struct fx *f = *state;
	int64_t a = new_alert(f->s, ALERT_APPROVED, "x");
	struct new_delivery bad[3];

	for (size_t i = 0; i < nitems(bad); i++) {
		bad[i] = people[0];
		if (i == 0)
			bad[i].address = NULL;
		else if (i == 1)
			bad[i].title = NULL;
		else
			bad[i].state = "bogus";
		assert_int_equal(store_begin(f->s), 0);
		if (store_deliveries_create(f->s, key, a, "alert", &bad[i], 1,
		    T0, T0 + 1800) != -1)
			fail_msg("bad row %zu was dropped silently", i);
		store_rollback(f->s);
	}
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_deliveries_create(f->s, key, a, "sms", people,
	    1, T0, T0 + 1800), -1);
	store_rollback(f->s);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM deliveries"), 0);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens"), 0);
}

/* The due rows (on channel; NULL: all), as "alert/kind/member" joined by
 * spaces. */
static char *
due(struct store *s, time_t now, const char *channel, size_t max)
{
	struct delivery_row *v;
	size_t n;
	struct buf b = {0};

	assert_int_equal(store_deliveries_due(s, now, channel, max, &v, &n),
	    0);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i].state, DLV_PENDING);
		buf_printf(&b, "%s%lld/%s/%s", i ? " " : "",
		    (long long)v[i].alert_id, v[i].kind, v[i].member);
	}
	delivery_rows_free(v, n);
	return buf_take(&b);
}

static void
expect_due_on(struct store *s, time_t now, const char *channel, size_t max,
    const char *want)
{
	char *got = due(s, now, channel, max);

	if (strcmp(got, want) != 0)
		fail_msg("due on %s: \"%s\", want \"%s\"",
		    channel ? channel : "any channel", got, want);
	free(got);
}

static void
expect_due(struct store *s, time_t now, size_t max, const char *want)
{
	expect_due_on(s, now, NULL, max, want);
}

/* store_pending_channels, joined by spaces. */
static void
expect_channels(struct store *s, const char *want)
{
	char **v, *got;
	size_t n;
	struct buf b = {0};

	assert_int_equal(store_pending_channels(s, &v, &n), 0);
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "%s%s", i ? " " : "", v[i]);
		free(v[i]);
	}
	free(v);
	got = buf_take(&b);
	if (strcmp(got, want) != 0)
		fail_msg("pending channels: \"%s\", want \"%s\"", got, want);
	free(got);
}

static int64_t
delivery_id(struct store *s, int64_t alert, const char *kind,
    const char *member)
{
	struct delivery_row *v;
	size_t n;
	int64_t id = -1;

	assert_int_equal(store_deliveries_of(s, alert, kind, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].member, member) == 0)
			id = v[i].id;
	delivery_rows_free(v, n);
	assert_true(id > 0);
	return id;
}

static void
expect_state(struct store *s, int64_t id, const char *state)
{
	char sql[128], *got;

	snprintf(sql, sizeof(sql), "SELECT state FROM deliveries WHERE id = "
	    "%lld", (long long)id);
	got = query_text(s, sql);
	assert_string_equal(got, state);
	free(got);
}

static void
test_deliveries_due(void **state)
{
	struct fx *f = *state;
	int64_t pend, appr, send, done;
	char want[512];

	pend = new_alert(f->s, ALERT_PENDING, "a");
	appr = new_alert(f->s, ALERT_APPROVED, "b");
	send = new_alert(f->s, ALERT_SENDING, "c");
	done = new_alert(f->s, ALERT_COMPLETE, "d");
	/* Every alert gets both kinds; only some may go. */
	create(f->s, pend, "approval", approvers, 1);
	create(f->s, pend, "alert", people, 1);
	create(f->s, appr, "approval", approvers, 1);
	create(f->s, appr, "alert", people, 2);
	create(f->s, send, "alert", people + 2, 1);
	create(f->s, done, "approval", approvers, 1);
	create(f->s, done, "alert", people, 1);

	snprintf(want, sizeof(want), "%lld/approval/mayor %lld/alert/hs01-1 "
	    "%lld/alert/hs01-2 %lld/alert/hs03-1", (long long)pend,
	    (long long)appr, (long long)appr, (long long)send);
	expect_due(f->s, T0, 100, want);
	snprintf(want, sizeof(want), "%lld/approval/mayor %lld/alert/hs01-1",
	    (long long)pend, (long long)appr);
	expect_due(f->s, T0, 2, want);

	/* A retry later is not due until then. */
	int64_t id = delivery_id(f->s, appr, "alert", "hs01-1");
	assert_int_equal(store_delivery_claim(f->s, id), 0);
	assert_int_equal(store_delivery_retry(f->s, id, T0 + 300, T0, "busy"),
	    0);
	snprintf(want, sizeof(want), "%lld/approval/mayor %lld/alert/hs01-2 "
	    "%lld/alert/hs03-1", (long long)pend, (long long)appr,
	    (long long)send);
	expect_due(f->s, T0 + 299, 100, want);
	assert_int_equal(store_next_due(f->s), T0 + 300);
	snprintf(want, sizeof(want), "%lld/approval/mayor %lld/alert/hs01-1 "
	    "%lld/alert/hs01-2 %lld/alert/hs03-1", (long long)pend,
	    (long long)appr, (long long)appr, (long long)send);
	expect_due(f->s, T0 + 300, 100, want);

	/* Claimed rows are not due. */
	id = delivery_id(f->s, pend, "approval", "mayor");
	assert_int_equal(store_delivery_claim(f->s, id), 0);
	snprintf(want, sizeof(want), "%lld/alert/hs01-1 %lld/alert/hs01-2 "
	    "%lld/alert/hs03-1", (long long)appr, (long long)appr,
	    (long long)send);
	expect_due(f->s, T0 + 300, 100, want);
}

/* Rows an alert will never send are closed when it leaves the sending
 * states, or when a retry of theirs comes back after it did: nothing is
 * left pending for ever, and nothing of it makes the fan-out wake. */
static void
test_unsendable_closed(void **state)
{
	struct fx *f = *state;
	static const char *const live[] = { ALERT_APPROVED, ALERT_SENDING,
	    NULL };
	static const char *const pending[] = { ALERT_PENDING, NULL };
	int64_t a, b, waiting, flying, appr;

	a = new_alert(f->s, ALERT_PENDING, "a");
	create(f->s, a, "approval", approvers, 1);
	create(f->s, a, "alert", people, 3);
	appr = delivery_id(f->s, a, "approval", "mayor");
	/* Approved: the approval request still waiting is closed, the alert
	 * rows stay. */
	assert_int_equal(store_alert_transition(f->s, a, pending,
	    ALERT_APPROVED, T0, "mayor", "console", NULL, NULL), 0);
	expect_state(f->s, appr, "cancelled");
	expect_state(f->s, delivery_id(f->s, a, "alert", "hs01-1"),
	    "pending");
	/* One waits for a retry, one is in flight when the alert completes. */
	waiting = delivery_id(f->s, a, "alert", "hs01-1");
	flying = delivery_id(f->s, a, "alert", "hs01-2");
	assert_int_equal(store_delivery_claim(f->s, waiting), 0);
	assert_int_equal(store_delivery_retry(f->s, waiting, T0 + 60, T0, "503"),
	    0);
	assert_int_equal(store_delivery_claim(f->s, flying), 0);
	assert_int_equal(store_next_due(f->s), T0 + 60);
	assert_int_equal(store_alert_transition(f->s, a, live, ALERT_COMPLETE,
	    T0 + 10, NULL, NULL, NULL, NULL), 0);
	expect_state(f->s, waiting, "cancelled");
	expect_state(f->s, delivery_id(f->s, a, "alert", "hs03-1"),
	    "cancelled");
	expect_state(f->s, flying, "sending");
	/* The one in flight fails for now: closed, not pending again. */
	assert_int_equal(store_delivery_retry(f->s, flying, T0 + 70, T0,
	    "503"), 0);
	expect_state(f->s, flying, "cancelled");
	assert_int_equal(query_int(f->s, "SELECT count(*) FROM deliveries"
	    " WHERE state = 'pending'"), 0);
	assert_int_equal(store_next_due(f->s), 0);

	/* A transition that does not happen closes nothing. */
	b = new_alert(f->s, ALERT_SENDING, "b");
	create(f->s, b, "alert", people, 1);
	assert_int_equal(store_alert_transition(f->s, b, pending,
	    ALERT_REJECTED, T0, "mayor", "console", NULL, "x"), 1);
	expect_state(f->s, delivery_id(f->s, b, "alert", "hs01-1"), "pending");
	/* A pending row of a live alert still retries as before. */
	assert_int_equal(store_delivery_claim(f->s,
	    delivery_id(f->s, b, "alert", "hs01-1")), 0);
	assert_int_equal(store_delivery_retry(f->s,
	    delivery_id(f->s, b, "alert", "hs01-1"), T0 + 5, T0, "busy"), 0);
	expect_state(f->s, delivery_id(f->s, b, "alert", "hs01-1"), "pending");
	assert_int_equal(store_next_due(f->s), T0 + 5);
}

/* The fan-out's reads: one channel's due rows in send order, from the
 * deliveries_queue index, and the channels that have pending rows. */
static void
test_deliveries_due_channel(void **state)
{
	struct fx *f = *state;
	int64_t pend, a1, a2, id;
	char want[512];
	/* Created last first: the order is by position, not by id. */
	const struct new_delivery rev[] = { people[1], people[0] };
	const struct new_delivery note = { "hs01-2", "石田 二", "主事", "hs01",
	    "sms", "+819000001002", 0, NULL, NULL, "取消のお知らせ", 0 };

	expect_channels(f->s, "");
	expect_due_on(f->s, T0, "sms", 10, "");
	pend = new_alert(f->s, ALERT_PENDING, "a");
	a1 = new_alert(f->s, ALERT_SENDING, "b");
	a2 = new_alert(f->s, ALERT_APPROVED, "c");
	create(f->s, a2, "alert", people, nitems(people));
	create(f->s, a1, "alert", rev, nitems(rev));
	create(f->s, a1, "notice", &note, 1);
	create(f->s, pend, "approval", approvers, nitems(approvers));
	create(f->s, pend, "alert", people, 1);	/* not before approval */

	expect_channels(f->s, "email lineworks sms");
	/* By alert; within one, notices, approvals, then alert messages;
	 * then by position. */
	snprintf(want, sizeof(want), "%lld/notice/hs01-2 %lld/alert/hs01-1 "
	    "%lld/alert/hs01-2 %lld/alert/hs01-1 %lld/alert/hs01-2",
	    (long long)a1, (long long)a1, (long long)a1, (long long)a2,
	    (long long)a2);
	expect_due_on(f->s, T0, "sms", 10, want);
	snprintf(want, sizeof(want), "%lld/notice/hs01-2 %lld/alert/hs01-1",
	    (long long)a1, (long long)a1);
	expect_due_on(f->s, T0, "sms", 2, want);
	snprintf(want, sizeof(want), "%lld/approval/mayor "
	    "%lld/approval/deputy_mayor", (long long)pend, (long long)pend);
	expect_due_on(f->s, T0, "lineworks", 10, want);
	snprintf(want, sizeof(want), "%lld/alert/hs03-1", (long long)a2);
	expect_due_on(f->s, T0, "email", 10, want);
	expect_due_on(f->s, T0, "fax", 10, "");

	/* Claimed rows leave the queue; a retry comes back when due. */
	id = delivery_id(f->s, a1, "alert", "hs01-1");
	assert_int_equal(store_delivery_claim(f->s, id), 0);
	snprintf(want, sizeof(want), "%lld/notice/hs01-2 %lld/alert/hs01-2",
	    (long long)a1, (long long)a1);
	expect_due_on(f->s, T0, "sms", 2, want);
	assert_int_equal(store_delivery_retry(f->s, id, T0 + 60, T0, "busy"), 0);
	expect_due_on(f->s, T0 + 59, "sms", 2, want);
	snprintf(want, sizeof(want), "%lld/notice/hs01-2 %lld/alert/hs01-1",
	    (long long)a1, (long long)a1);
	expect_due_on(f->s, T0 + 60, "sms", 2, want);

	/* A channel whose rows all left the queue is no longer listed. */
	id = delivery_id(f->s, a2, "alert", "hs03-1");
	assert_int_equal(store_delivery_claim(f->s, id), 0);
	expect_channels(f->s, "lineworks sms");
	assert_int_equal(store_delivery_sent(f->s, id, T0, NULL), 0);
	expect_channels(f->s, "lineworks sms");
}

/*
 * Migrations 3 and 4 on a version 2 database: the fan-out's queue index,
 * and deliveries and tokens rebuilt with their CHECKs as OR chains (no
 * temporary b-tree per write), every row and rule kept.
 */
static void
test_migrate_fanout(void **state)
{
	struct fx *f = *state;
	char err[256];
	int64_t a = new_alert(f->s, ALERT_APPROVED, "x"), id;
	char want[128];
	const char *bad[] = {
		"UPDATE deliveries SET state = 'bogus'",
		"UPDATE deliveries SET kind = 'bogus'",
		"UPDATE tokens SET kind = 'bogus'",
	};

	create(f->s, a, "alert", people, nitems(people));
	id = delivery_id(f->s, a, "alert", "hs01-1");
	assert_int_equal(store_delivery_claim(f->s, id), 0);
	assert_int_equal(store_delivery_sent(f->s, id, T0 + 5, "SM1"), 0);
	assert_int_equal(sqlite3_exec(store_db(f->s), "DROP INDEX "
	    "deliveries_queue; PRAGMA user_version = 2", NULL, NULL, NULL),
	    SQLITE_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
	assert_int_equal(query_int(f->s, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM sqlite_master"
	    " WHERE type = 'index' AND name = 'deliveries_queue'"), 1);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM sqlite_master"
	    " WHERE name IN ('deliveries', 'tokens') AND sql LIKE '% IN (%'"),
	    0);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM sqlite_master"
	    " WHERE type = 'index' AND tbl_name IN ('deliveries', 'tokens')"
	    " AND name NOT LIKE 'sqlite_autoindex_%'"), 7);
	/* Every row, its state, its token. */
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM deliveries"), 3);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens t"
	    " JOIN deliveries d ON d.id = t.delivery_id"), 3);
	expect_state(f->s, id, DLV_SENT);
	snprintf(want, sizeof(want), "%lld/alert/hs01-2", (long long)a);
	expect_due_on(f->s, T0, "sms", 10, want);
	/* The rules hold as before. */
	for (size_t i = 0; i < nitems(bad); i++)
		assert_int_not_equal(sqlite3_exec(store_db(f->s), bad[i], NULL,
		    NULL, NULL), SQLITE_OK);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM"
	    " pragma_foreign_key_check"), 0);
}

/*
 * Migration 5 on a version 4 database: deliveries.failing_since added,
 * every row kept, NULL (read as 0) on the rows that had it not.
 */
static void
test_migrate_failing_since(void **state)
{
	struct fx *f = *state;
	char err[256];
	int64_t a = new_alert(f->s, ALERT_APPROVED, "x"), id;
	struct delivery_row *v;
	size_t n;

	create(f->s, a, "alert", people, nitems(people));
	id = delivery_id(f->s, a, "alert", "hs01-1");
	assert_int_equal(store_delivery_claim(f->s, id), 0);
	assert_int_equal(store_delivery_retry(f->s, id, T0 + 9, T0, "503"), 0);
	assert_int_equal(sqlite3_exec(store_db(f->s), "ALTER TABLE deliveries"
	    " DROP COLUMN failing_since; PRAGMA user_version = 4", NULL, NULL,
	    NULL), SQLITE_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
	assert_int_equal(query_int(f->s, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(store_deliveries_of(f->s, a, "alert", &v, &n), 0);
	assert_int_equal(n, nitems(people));
	assert_int_equal(v[0].id, id);
	assert_string_equal(v[0].state, DLV_PENDING);
	assert_string_equal(v[0].error, "503");
	assert_int_equal(v[0].next_at, T0 + 9);
	assert_int_equal(v[0].failing_since, 0);
	delivery_rows_free(v, n);
	/* The next failure records it. */
	assert_int_equal(store_delivery_claim(f->s, id), 0);
	assert_int_equal(store_delivery_retry(f->s, id, T0 + 20, T0 + 9,
	    "503"), 0);
	assert_int_equal(query_int(f->s, "SELECT failing_since FROM deliveries"
	    " WHERE failing_since IS NOT NULL"), T0 + 9);
}

static void
test_delivery_states(void **state)
{
	struct fx *f = *state;
	struct delivery_row *v;
	size_t n;
	int64_t a = new_alert(f->s, ALERT_APPROVED, "x"), d1, d2, d3;
	int count = -1;

	create(f->s, a, "alert", people, nitems(people));
	d1 = delivery_id(f->s, a, "alert", "hs01-1");
	d2 = delivery_id(f->s, a, "alert", "hs01-2");
	d3 = delivery_id(f->s, a, "alert", "hs03-1");

	/* Only pending rows are claimed; claiming counts attempts. */
	assert_int_equal(store_delivery_sent(f->s, d1, T0, "p"), 1);
	assert_int_equal(store_delivery_failed(f->s, d1, "x"), 1);
	assert_int_equal(store_delivery_retry(f->s, d1, T0, T0, "x"), 1);
	expect_state(f->s, d1, DLV_PENDING);
	assert_int_equal(store_delivery_claim(f->s, d1), 0);
	expect_state(f->s, d1, DLV_SENDING);
	assert_int_equal(store_delivery_claim(f->s, d1), 1);
	assert_int_equal(store_delivery_sent(f->s, d1, T0 + 5, "SM123"), 0);
	expect_state(f->s, d1, DLV_SENT);
	/* Sent is final. */
	assert_int_equal(store_delivery_sent(f->s, d1, T0 + 6, "SM999"), 1);
	assert_int_equal(store_delivery_retry(f->s, d1, T0, T0, "x"), 1);
	assert_int_equal(store_delivery_failed(f->s, d1, "x"), 1);
	assert_int_equal(store_delivery_claim(f->s, d1), 1);
	expect_state(f->s, d1, DLV_SENT);

	/* Retry twice, then failed; the first failure's start is kept. */
	assert_int_equal(store_delivery_claim(f->s, d2), 0);
	assert_int_equal(store_delivery_retry(f->s, d2, T0 + 30, T0, "503"), 0);
	expect_state(f->s, d2, DLV_PENDING);
	assert_int_equal(store_delivery_claim(f->s, d2), 0);
	assert_int_equal(store_delivery_retry(f->s, d2, T0 + 60, T0 + 30,
	    "timeout"), 0);
	assert_int_equal(store_delivery_claim(f->s, d2), 0);
	assert_int_equal(store_delivery_failed(f->s, d2, "invalid number"), 0);
	expect_state(f->s, d2, DLV_FAILED);
	assert_int_equal(store_delivery_claim(f->s, d2), 1);
	assert_int_equal(store_delivery_sent(f->s, d2, T0, "late"), 1);
	assert_int_equal(store_delivery_failed(f->s, d2, "again"), 1);

	assert_int_equal(store_deliveries_of(f->s, a, "alert", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].attempts, 1);
	assert_int_equal(v[0].sent_at, T0 + 5);
	assert_string_equal(v[0].provider_id, "SM123");
	assert_null(v[0].error);
	assert_int_equal(v[0].failing_since, 0);
	assert_int_equal(v[1].attempts, 3);
	assert_string_equal(v[1].error, "invalid number");
	assert_int_equal(v[1].next_at, T0 + 60);
	assert_int_equal(v[1].sent_at, 0);
	assert_int_equal(v[1].failing_since, T0);
	delivery_rows_free(v, n);

	/* In flight at a restart: back to pending. */
	assert_int_equal(store_delivery_claim(f->s, d3), 0);
	assert_int_equal(store_deliveries_requeue(f->s, &count), 0);
	assert_int_equal(count, 1);
	expect_state(f->s, d3, DLV_PENDING);
	expect_state(f->s, d1, DLV_SENT);
	expect_state(f->s, d2, DLV_FAILED);
	assert_int_equal(store_deliveries_requeue(f->s, &count), 0);
	assert_int_equal(count, 0);

	/* Stop: pending and sending rows of the alert are cancelled. */
	assert_int_equal(store_deliveries_stop(f->s, a, "alert",
	    DLV_CANCELLED, &count), 0);
	assert_int_equal(count, 1);
	expect_state(f->s, d3, DLV_CANCELLED);
	expect_state(f->s, d1, DLV_SENT);
	assert_int_equal(store_delivery_claim(f->s, d3), 1);
	assert_int_equal(store_deliveries_stop(f->s, a, NULL, DLV_CANCELLED,
	    &count), 0);
	assert_int_equal(count, 0);

	/* Unknown ids. */
	assert_int_equal(store_delivery_claim(f->s, 99999), 1);
	assert_int_equal(store_delivery_sent(f->s, 99999, T0, NULL), 1);
}

static void
test_tokens_revoke(void **state)
{
	struct fx *f = *state;
	int64_t a = new_alert(f->s, ALERT_PENDING, "x");

	create(f->s, a, "approval", approvers, nitems(approvers));
	create(f->s, a, "alert", people, nitems(people));
	assert_int_equal(store_tokens_revoke_alert(f->s, a, "approval", T0 + 9),
	    0);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens WHERE"
	    " revoked_at = 1795197609"), 2);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens WHERE"
	    " revoked_at IS NULL"), 3);
	/* Already revoked ones keep their time. */
	assert_int_equal(store_tokens_revoke_alert(f->s, a, NULL, T0 + 20), 0);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens WHERE"
	    " revoked_at = 1795197609"), 2);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens WHERE"
	    " revoked_at = 1795197620"), 3);
}

/* The approval chain's columns: step, deadline, notices, link states. */
static void
test_approval_chain(void **state)
{
	struct fx *f = *state;
	static const char *const pending[] = { ALERT_PENDING, NULL };
	struct alert_row a = {
		.tag = (char *)"x", .body = (char *)"【x】本文",
		.audience = (char *)"crisis", .sender = (char *)"soumu_bucho",
		.state = (char *)ALERT_PENDING, .created_at = T0,
		.approval_expires_at = T0 + 1800,
	}, got;
	struct new_delivery notice = { "soumu_bucho", "佐伯 浩之", "総務部長",
	    NULL, "lineworks", "soumu_bucho@town.example", 0, NULL, NULL,
	    "【期限切れ】連絡 1", 0 };
	struct delivery_row *v;
	size_t n;
	char want[256];
	int64_t d;

	assert_int_equal(store_alert_insert(f->s, &a), 0);
	assert_int_equal(store_alert_get(f->s, a.id, &got), 0);
	assert_int_equal(got.step, 0);
	assert_int_equal(got.approval_expires_at, T0 + 1800);
	alert_row_free(&got);

	/* The step moves once from the expected value, never twice. */
	assert_int_equal(store_alert_step_advance(f->s, a.id, 0), 0);
	assert_int_equal(store_alert_step_advance(f->s, a.id, 0), 1);
	assert_int_equal(store_alert_step_advance(f->s, a.id, 2), 1);
	assert_int_equal(store_alert_get(f->s, a.id, &got), 0);
	assert_int_equal(got.step, 1);
	alert_row_free(&got);
	assert_int_equal(store_alert_step_advance(f->s, 99999, 0), 1);

	/* Link states: live, expired by time, used, revoked; none. */
	create(f->s, a.id, "approval", approvers, nitems(approvers));
	d = delivery_id(f->s, a.id, "approval", "mayor");
	assert_string_equal(store_token_state(f->s, d, T0), "live");
	assert_string_equal(store_token_state(f->s, d, T0 + 1800), "expired");
	assert_int_equal(sqlite3_exec(store_db(f->s), "UPDATE tokens SET"
	    " used_at = 1 WHERE member = 'deputy_mayor'", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_string_equal(store_token_state(f->s,
	    delivery_id(f->s, a.id, "approval", "deputy_mayor"), T0), "used");
	assert_int_equal(store_tokens_revoke_alert(f->s, a.id, "approval", T0),
	    0);
	assert_string_equal(store_token_state(f->s, d, T0), "revoked");
	assert_string_equal(store_token_state(f->s, 99999, T0), "none");

	/* Once decided, no step is taken; a notice is due whatever the
	 * alert's state, and carries its own text. */
	assert_int_equal(store_alert_transition(f->s, a.id, pending,
	    ALERT_EXPIRED, T0, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(store_alert_step_advance(f->s, a.id, 1), 1);
	create(f->s, a.id, "notice", &notice, 1);
	snprintf(want, sizeof(want), "%lld/notice/soumu_bucho",
	    (long long)a.id);
	expect_due(f->s, T0, 100, want);
	assert_int_equal(store_deliveries_of(f->s, a.id, "notice", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].body, "【期限切れ】連絡 1");
	delivery_rows_free(v, n);
	assert_int_equal(store_deliveries_of(f->s, a.id, "approval", &v, &n),
	    0);
	assert_int_equal(n, 2);
	assert_null(v[0].body);
	delivery_rows_free(v, n);
}

static void
test_suspend(void **state)
{
	struct fx *f = *state;
	int64_t a = new_alert(f->s, ALERT_APPROVED, "x");
	int64_t b = new_alert(f->s, ALERT_APPROVED, "y");
	int stopped = -1;
	char *reason = NULL, want[256];

	create(f->s, a, "alert", people, nitems(people));
	create(f->s, b, "alert", people, 1);
	int64_t sent = delivery_id(f->s, a, "alert", "hs01-1");
	assert_int_equal(store_delivery_claim(f->s, sent), 0);
	assert_int_equal(store_delivery_sent(f->s, sent, T0, "p"), 0);

	assert_false(store_is_suspended(f->s, "hs01-1", NULL));
	assert_int_equal(store_resume(f->s, "hs01-1"), 1);
	assert_int_equal(store_suspend(f->s, "hs01-1", "端末紛失",
	    "somu_kacho", T0 + 30, &stopped), 0);
	/* The pending row of alert b; the sent row of alert a stays. */
	assert_int_equal(stopped, 1);
	assert_true(store_is_suspended(f->s, "hs01-1", &reason));
	assert_string_equal(reason, "端末紛失");
	free(reason);
	expect_state(f->s, sent, DLV_SENT);
	expect_state(f->s, delivery_id(f->s, b, "alert", "hs01-1"),
	    DLV_SUSPENDED);
	expect_state(f->s, delivery_id(f->s, a, "alert", "hs01-2"),
	    DLV_PENDING);
	/* Every token of the member is revoked, nobody else's. */
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens WHERE"
	    " member = 'hs01-1' AND revoked_at = 1795197630"), 2);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens WHERE"
	    " member != 'hs01-1' AND revoked_at IS NOT NULL"), 0);
	/* Not due any more. */
	snprintf(want, sizeof(want), "%lld/alert/hs01-2 %lld/alert/hs03-1",
	    (long long)a, (long long)a);
	expect_due(f->s, T0 + 100, 100, want);

	/* Suspending again updates the reason. */
	assert_int_equal(store_suspend(f->s, "hs01-1", "盗難", "kiki_shitsucho",
	    T0 + 40, &stopped), 0);
	assert_int_equal(stopped, 0);
	assert_true(store_is_suspended(f->s, "hs01-1", &reason));
	assert_string_equal(reason, "盗難");
	free(reason);

	assert_int_equal(store_resume(f->s, "hs01-1"), 0);
	assert_false(store_is_suspended(f->s, "hs01-1", NULL));
	assert_int_equal(store_resume(f->s, "hs01-1"), 1);
	/* Resuming does not bring back stopped rows or tokens. */
	expect_state(f->s, delivery_id(f->s, b, "alert", "hs01-1"),
	    DLV_SUSPENDED);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM tokens WHERE"
	    " member = 'hs01-1' AND revoked_at IS NULL"), 0);
}


/* store_audit_query without paging. */
static int
audit_query(struct store *s, time_t since, time_t until, const char *member,
    int64_t alert, struct audit_row **v, size_t *n)
{
	struct audit_query q = { .since = since, .until = until,
	    .member = member, .alert = alert };
	bool more = true;
	int rc = store_audit_query(s, &q, v, n, &more);

	assert_false(more);
	return rc;
}

static void
test_audit(void **state)
{
	struct fx *f = *state;
	struct audit_row *v;
	size_t n;
	int64_t a = new_alert(f->s, ALERT_PENDING, "x");
	char *msg = NULL;

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_audit(f->s, T0, "soumu_bucho", "draft", a, NULL,
	    NULL, "{}"), 0);
	assert_int_equal(store_audit(f->s, T0 + 10, "mayor", "approve", a,
	    NULL, "lineworks", NULL), 0);
	assert_int_equal(store_audit(f->s, T0 + 20, "daemon", "sent", a,
	    "hs01-1", "sms", "SM1"), 0);
	assert_int_equal(store_audit(f->s, T0 + 30, "kiki_shitsucho",
	    "suspend", 0, "hs01-1", NULL, "端末紛失"), 0);
	assert_int_equal(store_commit(f->s), 0);

	/* Append-only: UPDATE and DELETE are refused by the database. */
	assert_int_equal(sqlite3_exec(store_db(f->s), "UPDATE audit SET actor ="
	    " 'x'", NULL, NULL, &msg), SQLITE_CONSTRAINT_TRIGGER);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_equal(sqlite3_exec(store_db(f->s), "DELETE FROM audit WHERE"
	    " id = 1", NULL, NULL, &msg), SQLITE_CONSTRAINT_TRIGGER);
	sqlite3_free(msg);
	assert_true(sqlite3_exec(store_db(f->s), "DELETE FROM audit", NULL,
	    NULL, NULL) != SQLITE_OK);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM audit"), 4);
	assert_int_equal(query_int(f->s, "SELECT COUNT(*) FROM audit WHERE"
	    " actor = 'x'"), 0);

	assert_int_equal(audit_query(f->s, 0, 0, NULL, 0, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].at, T0);
	assert_string_equal(v[0].actor, "soumu_bucho");
	assert_string_equal(v[0].action, "draft");
	assert_int_equal(v[0].alert, a);
	assert_null(v[0].member);
	assert_string_equal(v[2].member, "hs01-1");
	assert_string_equal(v[2].channel, "sms");
	assert_string_equal(v[2].detail, "SM1");
	assert_int_equal(v[3].alert, 0);
	assert_string_equal(v[3].detail, "端末紛失");
	assert_true(v[0].id < v[1].id && v[1].id < v[2].id);
	audit_rows_free(v, n);
	/* since is inclusive, until exclusive. */
	assert_int_equal(audit_query(f->s, T0 + 10, T0 + 30, NULL, 0, &v,
	    &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].action, "approve");
	assert_string_equal(v[1].action, "sent");
	audit_rows_free(v, n);
	/* A member matches as the subject or as the actor. */
	assert_int_equal(audit_query(f->s, 0, 0, "hs01-1", 0, &v, &n), 0);
	assert_int_equal(n, 2);
	audit_rows_free(v, n);
	assert_int_equal(audit_query(f->s, 0, 0, "mayor", 0, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].action, "approve");
	audit_rows_free(v, n);
	assert_int_equal(audit_query(f->s, 0, 0, NULL, a, &v, &n), 0);
	assert_int_equal(n, 3);
	audit_rows_free(v, n);
	assert_int_equal(audit_query(f->s, 0, 0, "hs01-1", a, &v, &n), 0);
	assert_int_equal(n, 1);
	audit_rows_free(v, n);
	assert_int_equal(audit_query(f->s, 0, 0, "nobody", 0, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(audit_query(f->s, T0 + 31, 0, NULL, 0, &v, &n),
	    0);
	assert_int_equal(n, 0);

	/* Pages: rows after an id, at most limit, and whether more remain. */
	{
		struct audit_query q = { .limit = 3 };
		int64_t last;
		bool more = false;
		assert_int_equal(store_audit_query(f->s, &q, &v, &n, &more), 0);
		assert_int_equal(n, 3);
		assert_true(more);
		assert_string_equal(v[0].action, "draft");
		last = v[2].id;
		audit_rows_free(v, n);
		q.after = last;
		assert_int_equal(store_audit_query(f->s, &q, &v, &n, &more), 0);
		assert_int_equal(n, 1);
		assert_false(more);
		assert_true(v[0].id > last);
		assert_string_equal(v[0].detail, "端末紛失");
		audit_rows_free(v, n);
		/* A page that ends exactly at the last row has no more. */
		q = (struct audit_query){ .limit = 4 };
		assert_int_equal(store_audit_query(f->s, &q, &v, &n, &more), 0);
		assert_int_equal(n, 4);
		assert_false(more);
		audit_rows_free(v, n);
		/* Paging within a filter. */
		q = (struct audit_query){ .alert = a, .limit = 2 };
		assert_int_equal(store_audit_query(f->s, &q, &v, &n, &more), 0);
		assert_int_equal(n, 2);
		assert_true(more);
		q.after = v[1].id;
		audit_rows_free(v, n);
		assert_int_equal(store_audit_query(f->s, &q, &v, &n, &more), 0);
		assert_int_equal(n, 1);
		assert_false(more);
		audit_rows_free(v, n);
	}
}

/* Provider status (Twilio callbacks): found by sid on its channel, set
 * only while it still holds the value read (compare-and-set), and a sent
 * row can be failed by the provider's report; nothing else can. */
static void
test_provider_status(void **state)
{
	struct fx *f = *state;
	int64_t alert = new_alert(f->s, ALERT_APPROVED, "避難所開設要請"), id;
	int64_t d1 = 0;
	struct delivery_row *v;
	size_t n;
	char *st = (char *)"x";

	create(f->s, alert, "alert", people, 2);
	assert_int_equal(store_deliveries_of(f->s, alert, "alert", &v, &n), 0);
	d1 = v[0].id;
	delivery_rows_free(v, n);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_delivery_claim(f->s, d1), 0);
	/* Not sent yet: the provider cannot fail it. */
	assert_int_equal(store_delivery_undelivered(f->s, d1, "x"), 1);
	assert_int_equal(store_delivery_sent(f->s, d1, T0, "SM1"), 0);
	assert_int_equal(store_delivery_by_provider(f->s, "sms", "SM1", &id,
	    &st), 0);
	assert_int_equal(id, d1);
	assert_null(st);
	assert_int_equal(store_delivery_by_provider(f->s, "email", "SM1", &id,
	    &st), 1);
	assert_int_equal(store_delivery_by_provider(f->s, "sms", "SM2", &id,
	    &st), 1);
	assert_int_equal(store_delivery_provider_status(f->s, d1, NULL,
	    "delivered", T0 + 5), 0);
	/* A second writer that read the old value loses. */
	assert_int_equal(store_delivery_provider_status(f->s, d1, NULL, "sent",
	    T0 + 6), 1);
	assert_int_equal(store_delivery_provider_status(f->s, d1, "queued",
	    "sent", T0 + 6), 1);
	assert_int_equal(store_delivery_by_provider(f->s, "sms", "SM1", &id,
	    &st), 0);
	assert_string_equal(st, "delivered");
	free(st);
	assert_int_equal(query_int(f->s, "SELECT provider_status_at FROM"
	    " deliveries WHERE provider_id = 'SM1'"), T0 + 5);
	assert_int_equal(store_delivery_undelivered(f->s, d1, "Twilio failed"),
	    0);
	assert_int_equal(store_delivery_undelivered(f->s, d1, "again"), 1);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_deliveries_of(f->s, alert, "alert", &v, &n), 0);
	assert_string_equal(v[0].state, DLV_FAILED);
	assert_string_equal(v[0].error, "Twilio failed");
	assert_string_equal(v[1].state, DLV_PENDING);
	delivery_rows_free(v, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_pragmas, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
		    setup, teardown),
		cmocka_unit_test(test_garbage_database),
		cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliveries_create, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deliveries_create_bad_rows,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsendable_closed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliveries_due, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deliveries_due_channel,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_fanout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migrate_failing_since,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery_states, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tokens_revoke, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_approval_chain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_suspend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provider_status, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
