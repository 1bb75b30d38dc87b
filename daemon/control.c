/*
 * control.c: the control socket. Accepts crisisctl connections, decodes
 * frames (lib/proto.h), finds out who is asking (SO_PEERCRED uid -> Unix
 * login -> roster member), runs one command from the table, and replies.
 * The uid's login comes from whois.c, off the loop: while it is looked up
 * the connection reads nothing more, and after CTL_WHOIS_SECS without an
 * answer its request is refused with that reason (root and the daemon's
 * own user keep their rights without it). ping and version need no login.
 *
 * Trust boundary: a frame that is too large, not JSON, of another protocol
 * version or of the wrong shape gets an error reply, and a broken stream is
 * closed; the daemon runs on. Commands never block the loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "daemon.h"
#include "holidays.h"

#define CTL_MAX_CLIENTS	64	/* known callers: operators and roster members */
#define CTL_MAX_STRANGERS 8	/* anyone else, so they cannot crowd out the office */
#define CTL_IDLE_SECS	60
#define CTL_STRANGER_IDLE_SECS 5
#define CTL_WHOIS_SECS	10	/* a request's wait for the caller's login */
#define STR_(x)		#x
#define STR(x)		STR_(x)	/* a macro's value as a string literal */

#ifndef CRISISCAST_VERSION
#define CRISISCAST_VERSION "0.1.0"
#endif

enum access {
	ACC_ANY,	/* anyone who can connect: ping, version */
	ACC_READ,	/* root, the daemon's user, or any roster member */
	ACC_ACT,	/* acts as a roster member (checks its own roles) */
	ACC_OPERATOR,	/* root, the daemon's user, or an admin */
};

struct request {
	const cJSON *args;
	struct actor who;
	bool operator;		/* root or the daemon's own uid */
	cJSON *result;
	struct buf errors;
};

struct command {
	const char *name;
	enum access access;
	int (*fn)(struct request *r);
};

/* One connection to the control socket. */
struct client {
	struct bufferevent *bev;
	int *slot;			/* &nclients or &nstrangers */
	bool cred;			/* SO_PEERCRED answered */
	uid_t uid;
	bool operator;			/* root or the daemon's own uid */
	bool admitted;			/* its slot is settled */
	bool have_login;		/* login is the passwd answer */
	char *login;			/* NULL: no user has that uid */
	bool waiting;			/* for whois; reads are off */
	bool answered;			/* whois has called back */
	const char *whois_error;	/* why the last wait gave no login */
	struct event *wake;		/* the wait's limit, and its end */
};

static struct evconnlistener *listener;
static char *socket_path;
static int nclients;
static int nstrangers;

/* Argument helpers: NULL/0 when absent; type errors are usage errors. */
static const char *
arg_str(const struct request *r, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->args, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
arg_bool(const struct request *r, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->args, key));
}

static int
arg_id(struct request *r, int64_t *id)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->args, "id");
	long n;

	if (cJSON_IsNumber(v) && v->valuedouble >= 1 &&
	    v->valuedouble <= 9007199254740991.0 &&
	    v->valuedouble == (double)(int64_t)v->valuedouble) {
		*id = (int64_t)v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && parse_long(v->valuestring, 1, 0x7fffffffL,
	    &n) == 0) {
		*id = n;
		return 0;
	}
	buf_adds(&r->errors, "連絡の番号 ID が必要です（1 以上の整数）\n");
	return -1;
}

static int
usage(struct request *r, const char *msg)
{
	buf_printf(&r->errors, "%s\n", msg);
	return PROTO_USAGE;
}

static int
cmd_ping(struct request *r)
{
	cJSON_AddBoolToObject(r->result, "pong", true);
	return PROTO_OK;
}

static int
cmd_version(struct request *r)
{
	cJSON_AddStringToObject(r->result, "version", CRISISCAST_VERSION);
	cJSON_AddNumberToObject(r->result, "protocol", PROTO_VERSION);
	cJSON_AddNumberToObject(r->result, "schema", STORE_SCHEMA_VERSION);
	return PROTO_OK;
}

static int
to_code(int rc)
{
	return rc == 0 ? PROTO_OK : PROTO_REFUSED;
}

/*
 * The --set values of a draft: "vars", absent or an object of strings
 * (draft_vars_from_json says what else is wrong, naming the key). Fills
 * vs, which the caller frees; -1 with the reason in r->errors.
 */
static int
arg_vars(struct request *r, struct draft_vars *vs)
{
	const cJSON *v = NULL, *m;
	char err[512];

	memset(vs, 0, sizeof(*vs));
	/* cJSON would answer the first of two; a frame with two is wrong. */
	cJSON_ArrayForEach(m, r->args)
		if (m->string != NULL && strcmp(m->string, "vars") == 0) {
			if (v != NULL) {
				buf_adds(&r->errors, "vars が二度指定されて"
				    "います\n");
				return -1;
			}
			v = m;
		}
	if (draft_vars_from_json(vs, v, err, sizeof(err)) < 0) {
		buf_printf(&r->errors, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
cmd_draft(struct request *r)
{
	struct draft_vars vars;
	struct draft_in in = {
		.sender = r->who.member ? r->who.member->id : NULL,
		.tag = arg_str(r, "tag"),
		.body = arg_str(r, "body"),
		.audience = arg_str(r, "to"),
		.drill = arg_bool(r, "drill"),
		.at = daemon_now(),
		.vars = &vars,
	};
	int rc;

	if (in.tag == NULL || in.body == NULL)
		return usage(r, "draft には --tag と --body（または --body-file）"
		    "が必要です");
	if (arg_vars(r, &vars) < 0)
		return PROTO_USAGE;	/* as a missing --tag: nothing stored */
	rc = to_code(alert_draft(&r->who, &in, r->result, &r->errors));
	draft_vars_free(&vars);
	return rc;
}

static int
cmd_rules_check(struct request *r)
{
	struct draft_in in = {
		.sender = r->who.member ? r->who.member->id : NULL,
		.tag = arg_str(r, "tag"),
		.body = arg_str(r, "body"),
		.audience = arg_str(r, "to"),
		.drill = arg_bool(r, "drill"),
		.at = daemon_now(),
	};
	const char *at = arg_str(r, "at");
	struct draft_vars vars;
	struct draft_out out;
	cJSON *arr;

	if (in.tag == NULL || in.body == NULL)
		return usage(r, "rules check には --tag と --body が必要です");
	if (at != NULL && parse_time_jst(at, &in.at) < 0)
		return usage(r, "--at は 2026-11-21T03:00 の形で指定してください");
	if (arg_vars(r, &vars) < 0)
		return PROTO_USAGE;
	in.vars = &vars;
	if (in.sender == NULL && r->operator)
		in.sender = NULL;	/* root checks the text, not the sender */
	draft_check(&cd->site, &in, &out);
	draft_vars_free(&vars);
	if (in.sender == NULL && out.nrefusals > 0 &&
	    startswith(out.refusals[0], "発信者")) {
		/* Without --as there is no sender to check; drop that one. */
		free(out.refusals[0]);
		memmove(out.refusals, out.refusals + 1,
		    (out.nrefusals - 1) * sizeof(*out.refusals));
		out.nrefusals--;
	}
	cJSON_AddBoolToObject(r->result, "ok", out.nrefusals == 0);
	if (out.body != NULL)
		cJSON_AddStringToObject(r->result, "body", out.body);
	cJSON_AddNumberToObject(r->result, "recipients",
	    (double)out.nrecipients);
	arr = cJSON_AddArrayToObject(r->result, "refusals");
	for (size_t i = 0; i < out.nrefusals; i++) {
		cJSON_AddItemToArray(arr, cJSON_CreateString(out.refusals[i]));
		buf_printf(&r->errors, "%s\n", out.refusals[i]);
	}
	arr = cJSON_AddArrayToObject(r->result, "warnings");
	for (size_t i = 0; i < out.nwarnings; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(out.warnings[i]));
	draft_out_free(&out);
	return cJSON_IsTrue(cJSON_GetObjectItem(r->result, "ok")) ?
	    PROTO_OK : PROTO_REFUSED;
}

static int
cmd_show(struct request *r)
{
	int64_t id;

	if (arg_id(r, &id) < 0)
		return PROTO_USAGE;
	return to_code(alert_describe(id, true, r->result, &r->errors));
}

static int
cmd_status(struct request *r)
{
	int64_t id;

	if (arg_id(r, &id) < 0)
		return PROTO_USAGE;
	return to_code(alert_describe(id, false, r->result, &r->errors));
}

static int
cmd_cap(struct request *r)
{
	int64_t id;

	if (arg_id(r, &id) < 0)
		return PROTO_USAGE;
	return alert_cap(id, r->result, &r->errors) == 0 ? PROTO_OK :
	    PROTO_REFUSED;
}

static int
cmd_list(struct request *r)
{
	static const char *const states[] = { ALERT_PENDING, ALERT_APPROVED,
	    ALERT_SENDING, ALERT_COMPLETE, ALERT_REJECTED, ALERT_EXPIRED,
	    ALERT_CANCELLED, NULL };
	const char *state = arg_str(r, "state"), *since = arg_str(r, "since");
	time_t t = 0;
	struct alert_row *v;
	size_t n;
	bool ok = state == NULL;
	cJSON *arr;

	for (size_t i = 0; state != NULL && states[i] != NULL; i++)
		ok |= strcmp(states[i], state) == 0;
	if (!ok)
		return usage(r, "--state は pending_approval, approved, sending, "
		    "complete, rejected, expired, cancelled のいずれかです");
	if (since != NULL && parse_time_jst(since, &t) < 0)
		return usage(r, "--since は 2026-11-21 または "
		    "2026-11-21T03:00 の形で指定してください");
	if (store_alert_list(cd->store, state, t, &v, &n) < 0) {
		buf_printf(&r->errors, "データベース: %s\n",
		    store_error(cd->store));
		return PROTO_REFUSED;
	}
	arr = cJSON_AddArrayToObject(r->result, "alerts");
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		char at[40];
		const struct member *m = roster_find(&cd->site.roster,
		    v[i].sender);
		format_time_jst(v[i].created_at, at, sizeof(at));
		cJSON_AddNumberToObject(o, "id", (double)v[i].id);
		cJSON_AddStringToObject(o, "state", v[i].state);
		cJSON_AddStringToObject(o, "tag", v[i].tag);
		cJSON_AddBoolToObject(o, "drill", v[i].drill);
		cJSON_AddStringToObject(o, "sender", v[i].sender);
		cJSON_AddStringToObject(o, "sender_name", m ? m->name :
		    v[i].sender);
		cJSON_AddStringToObject(o, "audience", v[i].audience);
		cJSON_AddStringToObject(o, "created_at", at);
		cJSON_AddItemToArray(arr, o);
		alert_row_free(&v[i]);
	}
	free(v);
	return PROTO_OK;
}

static int
cmd_approve(struct request *r)
{
	int64_t id;

	if (arg_id(r, &id) < 0)
		return PROTO_USAGE;
	return to_code(alert_approve(&r->who, id, r->result, &r->errors));
}

static int
cmd_reject(struct request *r)
{
	int64_t id;

	if (arg_id(r, &id) < 0)
		return PROTO_USAGE;
	return to_code(alert_reject(&r->who, id, arg_str(r, "reason"),
	    r->result, &r->errors));
}

static int
cmd_cancel(struct request *r)
{
	int64_t id;

	if (arg_id(r, &id) < 0)
		return PROTO_USAGE;
	return to_code(alert_cancel(&r->who, id, arg_str(r, "reason"),
	    r->result, &r->errors));
}

static int
cmd_renotify(struct request *r)
{
	int64_t id;

	if (arg_id(r, &id) < 0)
		return PROTO_USAGE;
	return to_code(followup_renotify(&r->who, id, r->result, &r->errors));
}

static int
cmd_suspend(struct request *r)
{
	const char *m = arg_str(r, "member");

	if (m == NULL)
		return usage(r, "suspend には職員 ID が必要です");
	return to_code(member_suspend(&r->who, m, arg_str(r, "reason"),
	    r->result, &r->errors));
}

static int
cmd_resume(struct request *r)
{
	const char *m = arg_str(r, "member");

	if (m == NULL)
		return usage(r, "resume には職員 ID が必要です");
	return to_code(member_resume(&r->who, m, r->result, &r->errors));
}

static cJSON *
member_json(const struct roster *ro, const struct member *m, bool full)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char *reason = NULL;

	cJSON_AddStringToObject(o, "id", m->id);
	cJSON_AddStringToObject(o, "name", m->name);
	cJSON_AddStringToObject(o, "title", m->title);
	a = cJSON_AddArrayToObject(o, "groups");
	for (size_t g = 0; g < ro->ngroups; g++)
		if (m->groups & (1u << g))
			cJSON_AddItemToArray(a,
			    cJSON_CreateString(ro->groups[g].id));
	if (m->shelter != NULL)
		cJSON_AddStringToObject(o, "shelter", m->shelter);
	a = cJSON_AddArrayToObject(o, "roles");
	if (m->roles & ROLE_SENDER)
		cJSON_AddItemToArray(a, cJSON_CreateString("sender"));
	if (m->roles & ROLE_APPROVER)
		cJSON_AddItemToArray(a, cJSON_CreateString("approver"));
	if (m->roles & ROLE_ADMIN)
		cJSON_AddItemToArray(a, cJSON_CreateString("admin"));
	a = cJSON_AddArrayToObject(o, "channels");
	for (size_t k = 0; k < m->ncontacts; k++)
		cJSON_AddItemToArray(a,
		    cJSON_CreateString(m->contacts[k].channel));
	cJSON_AddBoolToObject(o, "suspended",
	    store_is_suspended(cd->store, m->id, &reason));
	if (reason != NULL)
		cJSON_AddStringToObject(o, "suspended_reason", reason);
	free(reason);
	if (full) {
		cJSON *c = cJSON_AddObjectToObject(o, "contacts");
		for (size_t k = 0; k < m->ncontacts; k++)
			cJSON_AddStringToObject(c, m->contacts[k].channel,
			    m->contacts[k].address);
		if (m->login != NULL)
			cJSON_AddStringToObject(o, "login", m->login);
		if (m->phone != NULL)
			cJSON_AddStringToObject(o, "phone", m->phone);
	}
	return o;
}

static int
cmd_roster(struct request *r)
{
	const char *sub = arg_str(r, "sub"), *id = arg_str(r, "member");
	const struct roster *ro = &cd->site.roster;

	if (sub == NULL || strcmp(sub, "check") == 0) {
		struct buf b = {0};
		site_summary(&cd->site, &b);
		cJSON_AddStringToObject(r->result, "summary", b.data);
		cJSON_AddNumberToObject(r->result, "accounts",
		    (double)ro->nmembers);
		cJSON *g = cJSON_AddObjectToObject(r->result, "groups");
		for (size_t i = 0; i < ro->ngroups; i++)
			cJSON_AddNumberToObject(g, ro->groups[i].id,
			    (double)roster_group_count(ro, i));
		buf_free(&b);
		return PROTO_OK;
	}
	if (strcmp(sub, "list") == 0) {
		cJSON *a = cJSON_AddArrayToObject(r->result, "members");
		for (size_t i = 0; i < ro->nmembers; i++)
			cJSON_AddItemToArray(a, member_json(ro,
			    &ro->members[i], false));
		return PROTO_OK;
	}
	if (strcmp(sub, "show") == 0) {
		const struct member *m = id ? roster_find(ro, id) : NULL;
		if (m == NULL) {
			buf_printf(&r->errors, "職員「%s」は名簿にありません\n",
			    id ? id : "");
			return PROTO_REFUSED;
		}
		cJSON_AddItemToObject(r->result, "member", member_json(ro, m,
		    true));
		return PROTO_OK;
	}
	return usage(r, "roster は check, list, show MEMBER のいずれかです");
}

static int
cmd_calendar(struct request *r)
{
	const cJSON *y = cJSON_GetObjectItemCaseSensitive(r->args, "year");
	struct tm tm;
	int year;
	struct closed_day *days;
	size_t n;
	cJSON *a;

	jst_tm(daemon_now(), &tm);
	year = tm.tm_year + 1900;
	if (y != NULL) {
		if (!cJSON_IsNumber(y) || y->valuedouble < 1 ||
		    y->valuedouble > 9999)
			return usage(r, "年は 1〜9999 の数字です");
		year = (int)y->valuedouble;
	}
	if (hours_calendar(&cd->site.rules.hours, year, &days, &n) < 0) {
		buf_printf(&r->errors, "%d 年は対応していません（%d〜%d 年）\n",
		    year, HOLIDAY_YEAR_MIN, HOLIDAY_YEAR_MAX);
		return PROTO_USAGE;
	}
	cJSON_AddNumberToObject(r->result, "year", year);
	a = cJSON_AddArrayToObject(r->result, "days");
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		char date[16];
		snprintf(date, sizeof(date), "%04d-%02d-%02d", year,
		    days[i].month, days[i].day);
		cJSON_AddStringToObject(o, "date", date);
		cJSON_AddStringToObject(o, "name", days[i].name);
		cJSON_AddItemToArray(a, o);
	}
	free(days);
	return PROTO_OK;
}

/*
 * Audit rows are sent in pages so that a year of rows never outgrows one
 * frame: at most AUDIT_PAGE_ROWS rows and about AUDIT_PAGE_BYTES of text
 * per reply. A reply that is not the last carries "next", the id to pass
 * as "after" for the next page; crisisctl follows it.
 */
#define AUDIT_PAGE_ROWS		2000	/* the usage message says so */
#define AUDIT_PAGE_BYTES	(PROTO_MAX_FRAME / 2)

/* A positive whole number argument, or 0 when absent; -1 when not one. */
static int64_t
arg_count(const struct request *r, const char *key, double max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->args, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > max ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return -1;
	return (int64_t)v->valuedouble;
}

static size_t
len0(const char *s)
{
	return s ? strlen(s) : 0;
}

static int
cmd_audit(struct request *r)
{
	const char *since = arg_str(r, "since"), *until = arg_str(r, "until");
	struct audit_query q = { .member = arg_str(r, "member") };
	int64_t alert = arg_count(r, "alert", 0x7fffffff);
	int64_t after = arg_count(r, "after", 9007199254740991.0);
	int64_t limit = arg_count(r, "limit", AUDIT_PAGE_ROWS);
	struct audit_row *v;
	size_t n, bytes = 0, i;
	bool more;
	cJSON *a;

	if ((since && parse_time_jst(since, &q.since) < 0) ||
	    (until && parse_time_jst(until, &q.until) < 0))
		return usage(r, "--since/--until は 2026-11-21 または "
		    "2026-11-21T03:00 の形で指定してください");
	if (alert < 0)
		return usage(r, "--alert は連絡の番号です");
	if (after < 0 || limit < 0)
		return usage(r, "after は監査記録の番号、limit は 1 から "
		    "2000 の数です");
	q.alert = alert;
	q.after = after;
	q.limit = limit > 0 ? (size_t)limit : AUDIT_PAGE_ROWS;
	if (store_audit_query(cd->store, &q, &v, &n, &more) < 0) {
		buf_printf(&r->errors, "データベース: %s\n",
		    store_error(cd->store));
		return PROTO_REFUSED;
	}
	a = cJSON_AddArrayToObject(r->result, "rows");
	for (i = 0; i < n; i++) {
		cJSON *o;
		char at[40];
		/* The first row always goes: a page is never empty. */
		bytes += 160 + len0(v[i].actor) + len0(v[i].action) +
		    2 * (len0(v[i].member) + len0(v[i].channel) +
		    len0(v[i].detail));
		if (i > 0 && bytes > AUDIT_PAGE_BYTES)
			break;
		o = cJSON_CreateObject();
		format_time_jst(v[i].at, at, sizeof(at));
		cJSON_AddNumberToObject(o, "id", (double)v[i].id);
		cJSON_AddStringToObject(o, "at", at);
		cJSON_AddStringToObject(o, "actor", v[i].actor);
		cJSON_AddStringToObject(o, "action", v[i].action);
		if (v[i].alert > 0)
			cJSON_AddNumberToObject(o, "alert", (double)v[i].alert);
		else
			cJSON_AddNullToObject(o, "alert");
		cJSON_AddStringToObject(o, "member", v[i].member ?
		    v[i].member : "");
		cJSON_AddStringToObject(o, "channel", v[i].channel ?
		    v[i].channel : "");
		cJSON_AddStringToObject(o, "detail", v[i].detail ?
		    v[i].detail : "");
		cJSON_AddItemToArray(a, o);
	}
	if (i > 0 && (i < n || more))
		cJSON_AddNumberToObject(r->result, "next", (double)v[i - 1].id);
	audit_rows_free(v, n);
	return PROTO_OK;
}

static int
cmd_reload(struct request *r)
{
	struct buf report = {0};
	int rc = daemon_reload(&report);

	cJSON_AddBoolToObject(r->result, "reloaded", rc == 0);
	if (rc < 0)
		buf_printf(&r->errors, "再読み込みできませんでした。以前の設定の"
		    "まま動作しています:\n%s", report.data);
	else
		cJSON_AddStringToObject(r->result, "summary", report.data);
	audit_now(r->who.id, rc == 0 ? "reloaded" : "reload_failed", 0, NULL,
	    NULL, NULL);
	buf_free(&report);
	return rc == 0 ? PROTO_OK : PROTO_REFUSED;
}

static const struct command commands[] = {
	{ "ping",	ACC_ANY,	cmd_ping },
	{ "version",	ACC_ANY,	cmd_version },
	{ "draft",	ACC_ACT,	cmd_draft },
	{ "show",	ACC_READ,	cmd_show },
	{ "list",	ACC_READ,	cmd_list },
	{ "status",	ACC_READ,	cmd_status },
	{ "cap",	ACC_READ,	cmd_cap },
	{ "approve",	ACC_ACT,	cmd_approve },
	{ "reject",	ACC_ACT,	cmd_reject },
	{ "cancel",	ACC_ACT,	cmd_cancel },
	{ "renotify",	ACC_ACT,	cmd_renotify },
	{ "suspend",	ACC_ACT,	cmd_suspend },
	{ "resume",	ACC_ACT,	cmd_resume },
	{ "roster",	ACC_READ,	cmd_roster },
	{ "rules-check", ACC_READ,	cmd_rules_check },
	{ "calendar",	ACC_READ,	cmd_calendar },
	{ "audit",	ACC_OPERATOR,	cmd_audit },
	{ "reload",	ACC_OPERATOR,	cmd_reload },
};

/*
 * Who is asking for command cmd: the peer's uid, its login (looked up
 * before, or known to be missing), its roster member, and --as. Without a
 * login (the lookup failed or ran out of time) only root and the daemon's
 * user go on, and not for a command that acts as themselves. Returns
 * PROTO_OK or a refusal with errors filled.
 */
static int
identify(const struct client *c, const struct command *cmd, const char *as,
    struct request *r, char *idbuf, size_t idsz)
{
	const struct member *self = NULL;

	if (!c->cred) {
		buf_adds(&r->errors, "接続元を確認できません\n");
		return PROTO_REFUSED;
	}
	r->operator = c->operator;
	if (c->have_login && c->login != NULL)
		self = roster_find_login(&cd->site.roster, c->login);
	else if (!c->have_login && (!c->operator ||
	    (cmd->access == ACC_ACT && as == NULL))) {
		buf_printf(&r->errors, "接続元の利用者（uid %u）を確認できません"
		    "（%s）%s\n", (unsigned)c->uid, c->whois_error != NULL ?
		    c->whois_error : "passwd の問い合わせに答えがありません",
		    c->operator ? "。--as で職員を指定すれば実行できます" : "");
		return PROTO_REFUSED;
	}
	snprintf(idbuf, idsz, "%s", self ? self->id : r->operator ?
	    (c->uid == 0 ? "root" : "operator") : "");
	r->who.member = self;
	r->who.id = idbuf;
	if (as != NULL) {
		const struct member *m = roster_find(&cd->site.roster, as);
		if (!r->operator && (self == NULL || !(self->roles & ROLE_ADMIN))) {
			buf_adds(&r->errors, "--as を使えるのは root と管理者"
			    "だけです\n");
			return PROTO_REFUSED;
		}
		if (m == NULL) {
			buf_printf(&r->errors, "--as の職員「%s」は名簿にありま"
			    "せん\n", as);
			return PROTO_REFUSED;
		}
		r->who.member = m;
		snprintf(idbuf, idsz, "%s", m->id);
	}
	return PROTO_OK;
}

static bool
allowed(const struct command *c, const struct request *r)
{
	switch (c->access) {
	case ACC_ANY:
		return true;
	case ACC_READ:
	case ACC_ACT:
		return r->operator || r->who.member != NULL;
	case ACC_OPERATOR:
		return r->operator || (r->who.member != NULL &&
		    (r->who.member->roles & ROLE_ADMIN));
	}
	return false;
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < nitems(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Whether running req needs the caller's login first: anything but ping
 * and version, and --as. A request handle() will refuse needs none. */
static bool
needs_login(const cJSON *req)
{
	const char *cmd = NULL, *as = NULL;
	const cJSON *args;
	const struct command *c;
	char err[256];

	if (proto_check_request(req, &cmd, &as, &args, err, sizeof(err)) < 0 ||
	    (c = find_command(cmd)) == NULL)
		return false;
	return c->access != ACC_ANY || as != NULL;
}

/* Runs one request of client cl and appends its reply frame to out. */
static void
handle(const struct client *cl, const cJSON *req, struct buf *out)
{
	struct request r = { .result = cJSON_CreateObject() };
	cJSON *reply = cJSON_CreateObject(), *errs;
	const char *cmd = NULL, *as = NULL;
	char err[256], idbuf[80];
	int code = PROTO_USAGE;
	const struct command *c;

	r.who.how = "console";
	r.who.client = "control socket";
	if (proto_check_request(req, &cmd, &as, &r.args, err,
	    sizeof(err)) < 0) {
		buf_printf(&r.errors, "%s\n", err);
		goto reply;
	}
	if ((c = find_command(cmd)) == NULL) {
		buf_printf(&r.errors, "unknown command \"%.64s\"\n", cmd);
		goto reply;
	}
	/* ping and version need no caller: no passwd lookup for them (a
	 * monitor pings often; NSS may be LDAP behind the lookup). */
	if (c->access == ACC_ANY && as == NULL) {
		r.who.id = "";
		code = c->fn(&r);
		goto reply;
	}
	if ((code = identify(cl, c, as, &r, idbuf, sizeof(idbuf))) != PROTO_OK)
		goto reply;
	if (!allowed(c, &r)) {
		buf_printf(&r.errors, "%s を実行する権限がありません（名簿の "
		    "login に登録された利用者、root、管理者のみ）\n", c->name);
		code = PROTO_REFUSED;
		goto reply;
	}
	code = c->fn(&r);
reply:
	cJSON_AddNumberToObject(reply, "v", PROTO_VERSION);
	cJSON_AddNumberToObject(reply, "code", code);
	cJSON_AddItemToObject(reply, "result", r.result);
	errs = cJSON_AddArrayToObject(reply, "errors");
	/* One error per line of r.errors. */
	for (char *line = r.errors.data, *nl; line != NULL && *line != '\0';
	    line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		cJSON_AddItemToArray(errs, cJSON_CreateString(line));
	}
	if (proto_frame(reply, out) < 0) {
		/* Too large a reply: say so instead. */
		cJSON *small = cJSON_CreateObject();
		cJSON_AddNumberToObject(small, "v", PROTO_VERSION);
		cJSON_AddNumberToObject(small, "code", PROTO_REFUSED);
		cJSON_AddItemToObject(small, "errors", cJSON_CreateStringArray(
		    (const char *[]){ "reply too large; narrow the query" }, 1));
		proto_frame(small, out);
		cJSON_Delete(small);
	}
	cJSON_Delete(reply);
	buf_free(&r.errors);
}

static void
client_close(struct client *c)
{
	if (c->waiting)
		whois_cancel(c);
	event_free(c->wake);
	bufferevent_free(c->bev);
	(*c->slot)--;
	free(c->login);
	free(c);
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		client_close(arg);
}

static void
client_drained(struct bufferevent *bev, void *arg)
{
	(void)bev;
	client_close(arg);
}

/* Replies with a protocol error and closes once it is written. */
static void
client_fail(struct client *c, const char *msg)
{
	struct buf out = {0};
	cJSON *reply = cJSON_CreateObject();

	log_warnx("control: %s", msg);
	cJSON_AddNumberToObject(reply, "v", PROTO_VERSION);
	cJSON_AddNumberToObject(reply, "code", PROTO_USAGE);
	cJSON_AddItemToObject(reply, "errors",
	    cJSON_CreateStringArray(&msg, 1));
	proto_frame(reply, &out);
	cJSON_Delete(reply);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, client_drained, client_event, c);
	bufferevent_write(c->bev, out.data, out.len);
	buf_free(&out);
}

/* Takes a login from the cache into c; false when none is at hand. */
static bool
login_cached(struct client *c)
{
	const char *login;

	if (!whois_cached(c->uid, &login))
		return false;
	free(c->login);
	c->login = login != NULL ? xstrdup(login) : NULL;
	c->have_login = true;
	return true;
}

static void
client_whois(void *arg, bool answered, const char *login)
{
	struct client *c = arg;

	c->answered = true;
	if (answered) {
		free(c->login);
		c->login = login != NULL ? xstrdup(login) : NULL;
		c->have_login = true;
	} else
		c->whois_error = "passwd の問い合わせに失敗しました";
	/* On from the loop, never inside whois. */
	event_active(c->wake, EV_TIMEOUT, 0);
}

/* Stops reading from c until whois answers about its uid, or until
 * CTL_WHOIS_SECS have passed. */
static void
client_wait(struct client *c)
{
	struct timeval limit = { CTL_WHOIS_SECS, 0 };

	bufferevent_disable(c->bev, EV_READ);
	c->waiting = true;
	c->answered = false;
	c->whois_error = NULL;
	evtimer_add(c->wake, &limit);
	whois_request(c->uid, client_whois, c);
}

/* An operator, or a uid whose login is in the roster: such callers get
 * the slots strangers cannot take. */
static bool
client_known(const struct client *c)
{
	return c->operator || (c->have_login && c->login != NULL &&
	    roster_find_login(&cd->site.roster, c->login) != NULL);
}

/* Settles c's slot and starts reading; false when c was closed (no room
 * left). A connection waiting for its login holds a stranger's slot. */
static bool
client_admit(struct client *c)
{
	bool known = client_known(c);
	int *slot = known ? &nclients : &nstrangers;
	struct timeval idle = { known ? CTL_IDLE_SECS : CTL_STRANGER_IDLE_SECS,
	    0 };

	if (c->slot != slot) {
		if (*slot >= (known ? CTL_MAX_CLIENTS : CTL_MAX_STRANGERS)) {
			client_close(c);
			return false;
		}
		(*c->slot)--;
		c->slot = slot;
		(*slot)++;
	}
	c->admitted = true;
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ);
	return true;
}

static void client_read(struct bufferevent *bev, void *arg);

/* The wait for whois is over: answered, or out of time. */
static void
client_wake(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	if (!c->waiting)
		return;
	evtimer_del(c->wake);
	c->waiting = false;
	if (!c->answered) {
		whois_cancel(c);
		c->whois_error = "passwd の問い合わせが "
		    STR(CTL_WHOIS_SECS) " 秒以内に答えません";
		log_warnx("control: the passwd lookup of uid %u did not answer "
		    "within %d s", (unsigned)c->uid, CTL_WHOIS_SECS);
	}
	if (!c->admitted && !client_admit(c))
		return;
	bufferevent_enable(c->bev, EV_READ);
	client_read(c->bev, c);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		size_t len = evbuffer_get_length(in), framelen;
		cJSON *req;
		char err[160];
		int rc;

		if (len == 0 || c->waiting)
			return;
		/* At most one whole frame is looked at. */
		if (len > PROTO_MAX_FRAME + 4)
			len = PROTO_MAX_FRAME + 4;
		rc = proto_parse(evbuffer_pullup(in, (ssize_t)len), len,
		    &framelen, &req, err, sizeof(err));
		if (rc == 0)
			return;
		if (rc < 0) {
			client_fail(c, err);
			return;
		}
		/* The frame stays in the buffer while the login is looked
		 * up, and is read again when the wait is over. */
		if (c->cred && !c->have_login && needs_login(req) &&
		    !login_cached(c) && c->whois_error == NULL) {
			cJSON_Delete(req);
			client_wait(c);
			return;
		}
		struct buf out = {0};
		handle(c, req, &out);
		c->whois_error = NULL;	/* the next request tries again */
		cJSON_Delete(req);
		evbuffer_drain(in, framelen);
		bufferevent_write(bev, out.data, out.len);
		buf_free(&out);
	}
}

/*
 * A new connection. Root and the daemon's own user are known callers at
 * once; anyone else is known when their login is a roster login. When
 * that login is not cached the connection waits for whois (holding a
 * stranger's slot) before anything is read from it.
 */
static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	bool pending;
	int *slot;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	c = xcalloc(1, sizeof(*c));
	if ((c->cred = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
	    &len) == 0)) {
		c->uid = cred.uid;
		c->operator = cred.uid == 0 || cred.uid == cd->uid;
	}
	pending = c->cred && !c->operator && !login_cached(c);
	slot = client_known(c) ? &nclients : &nstrangers;
	if (*slot >= (slot == &nclients ? CTL_MAX_CLIENTS :
	    CTL_MAX_STRANGERS) || cd->stopping) {
		free(c->login);
		free(c);
		close(fd);
		return;
	}
	c->bev = bufferevent_socket_new(cd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->wake = evtimer_new(cd->base, client_wake, c);
	if (c->bev == NULL || c->wake == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->wake != NULL)
			event_free(c->wake);
		free(c->login);
		free(c);
		return;
	}
	c->slot = slot;
	(*slot)++;
	bufferevent_setcb(c->bev, client_read, NULL, client_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, PROTO_MAX_FRAME + 4);
	if (pending)
		client_wait(c);
	else
		(void)client_admit(c);
}

int
control_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;
	mode_t old;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A socket left by a crash: remove it if nobody answers on it. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_warnx("%s: another crisiscastd is running", path);
		close(fd);
		return -1;
	}
	if (errno == ECONNREFUSED || errno == ENOENT)
		unlink(path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Anyone may connect; identity decides what they may do. */
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		log_warn("bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	listener = evconnlistener_new(cd->base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE, 16, fd);
	if (listener == NULL) {
		close(fd);
		return -1;
	}
	socket_path = xstrdup(path);
	return 0;
}

void
control_close(void)
{
	if (listener != NULL)
		evconnlistener_free(listener);
	listener = NULL;
	if (socket_path != NULL)
		unlink(socket_path);
	free(socket_path);
	socket_path = NULL;
}
