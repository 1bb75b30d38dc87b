/*
 * alert.c: the alert's life (SPEC §5): draft, decision, cancel, and the
 * suspension of a member. Each step is one BEGIN IMMEDIATE transaction that
 * writes the state change and its audit rows together, so a crash leaves
 * either all of a step or none of it. Nothing here sends: fan-out picks up
 * what the transaction made due.
 *
 * Refusals (return 1) carry Japanese reasons for the person at the console;
 * database trouble (return -1) is logged in English and reported briefly.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define RECIPIENT_TOKEN_TTL	(7 * 86400)

static int
refuse(struct buf *errors, const char *fmt, ...) PRINTFLIKE(2, 3);

static int
refuse(struct buf *errors, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(errors, fmt, ap);
	va_end(ap);
	buf_addc(errors, '\n');
	return 1;
}

static int
dberror(struct buf *errors)
{
	bool full = store_disk_full(cd->store);

	log_warnx("database: %s%s", store_error(cd->store), full ?
	    " (the state directory's file system is full)" : "");
	buf_printf(errors, "データベースに書き込めませんでした%s（%s）\n",
	    full ? "。状態ディレクトリのディスクの空きがありません。"
	    "空きを作れば、そのまま受け付けられます" : "",
	    store_error(cd->store));
	store_rollback(cd->store);
	return -1;
}

void
audit_now(const char *actor, const char *action, int64_t alert,
    const char *member, const char *channel, const char *detail)
{
	if (store_begin(cd->store) < 0 ||
	    store_audit(cd->store, daemon_now(), actor, action, alert, member,
	    channel, detail) < 0 || store_commit(cd->store) < 0) {
		log_warnx("audit %s: %s", action, store_error(cd->store));
		store_rollback(cd->store);
	}
}

/* The first of `channels` on which m has a contact, or NULL. */
static const struct contact *
first_contact(const struct member *m, char **channels, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < m->ncontacts; k++)
			if (strcmp(m->contacts[k].channel, channels[i]) == 0)
				return &m->contacts[k];
	return NULL;
}

/* Contract in daemon.h. */
int
request_approval(const struct alert_row *a, size_t step, time_t now)
{
	const struct config *c = &cd->site.cfg;
	const struct member *m;
	struct new_delivery nd[16];
	size_t n = 0;

	if (step >= c->approval.napprovers)
		return 0;
	m = roster_find(&cd->site.roster, c->approval.approvers[step]);
	if (m == NULL)
		return 0;
	for (size_t i = 0; i < c->approval.nchannels && n < nitems(nd); i++)
		for (size_t k = 0; k < m->ncontacts; k++)
			if (strcmp(m->contacts[k].channel,
			    c->approval.channels[i]) == 0)
				nd[n++] = (struct new_delivery){
					.member = m->id, .name = m->name,
					.title = m->title, .position = (int)step,
					.channel = m->contacts[k].channel,
					.address = m->contacts[k].address,
				};
	if (n == 0) {
		log_warnx("alert %lld: approver %s has no contact on any "
		    "approval channel", (long long)a->id, m->id);
		return store_audit(cd->store, now, "crisiscastd",
		    "approval_unreachable", a->id, m->id, NULL,
		    "no contact on approval.channels");
	}
	if (store_deliveries_create(cd->store, cd->token_key, a->id,
	    "approval", nd, n, now, a->approval_expires_at > 0 ?
	    a->approval_expires_at : now + c->approval.link_ttl) < 0)
		return -1;
	return store_audit(cd->store, now, "crisiscastd",
	    "approval_requested", a->id, m->id, NULL, m->title);
}

/*
 * The recipients of an approved alert, one delivery each (a person in two
 * groups once), on their first delivery channel. Inside a transaction.
 */
static int
create_deliveries(const struct alert_row *a, time_t now, size_t *count)
{
	const struct site *s = &cd->site;
	const struct tag *t = rules_tag(&s->rules, a->tag);
	size_t *idx = NULL, n = 0;
	struct new_delivery *nd;
	char err[256];
	int rc;

	*count = 0;
	if (a->cancels > 0) {
		/* A 取消 notice goes to everyone the cancelled alert reached. */
		struct delivery_row *rows;
		size_t nr;
		if (store_deliveries_of(cd->store, a->cancels, "alert", &rows,
		    &nr) < 0)
			return -1;
		idx = xcalloc(nr + 1, sizeof(*idx));
		for (size_t i = 0; i < nr; i++) {
			const struct member *m;
			if (strcmp(rows[i].state, DLV_SENT) != 0)
				continue;
			m = roster_find(&s->roster, rows[i].member);
			if (m == NULL)
				continue;
			bool dup = false;
			for (size_t j = 0; j < n; j++)
				dup |= idx[j] == m->order;
			if (!dup)
				idx[n++] = m->order;
		}
		delivery_rows_free(rows, nr);
	} else if (t == NULL || draft_recipients(s, t, a->audience, &idx, &n,
	    err, sizeof(err)) < 0) {
		log_warnx("alert %lld: audience \"%s\" no longer resolves",
		    (long long)a->id, a->audience);
		return store_audit(cd->store, now, "crisiscastd",
		    "audience_unresolved", a->id, NULL, NULL, a->audience);
	}
	nd = xcalloc(n + 1, sizeof(*nd));
	for (size_t i = 0; i < n; i++) {
		const struct member *m = &s->roster.members[idx[i]];
		const struct contact *ct = first_contact(m,
		    s->cfg.delivery.channels, s->cfg.delivery.nchannels);
		nd[i] = (struct new_delivery){
			.member = m->id, .name = m->name, .title = m->title,
			.shelter = m->shelter, .position = (int)i,
			.channel = ct ? ct->channel : "-",
			.address = ct ? ct->address : "",
		};
		if (ct == NULL) {
			nd[i].state = DLV_FAILED;
			nd[i].error = "no contact on delivery.channels";
		} else if (store_is_suspended(cd->store, m->id, NULL))
			nd[i].state = DLV_SUSPENDED;
	}
	rc = store_deliveries_create(cd->store, cd->token_key, a->id, "alert",
	    nd, n, now, now + RECIPIENT_TOKEN_TTL);
	/* Who will not be sent to is in the trail too, with why. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (nd[i].state != NULL)
			rc = store_audit(cd->store, now, "crisiscastd",
			    strcmp(nd[i].state, DLV_FAILED) == 0 ?
			    "delivery_unreachable" : "delivery_suspended", a->id,
			    nd[i].member, NULL, nd[i].error);
	*count = n;
	free(nd);
	free(idx);
	return rc;
}

/* The stored --set values (alerts.vars) as an object; {} if unreadable. */
static cJSON *
vars_object(const char *json)
{
	cJSON *o = json ? cJSON_Parse(json) : NULL;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = cJSON_CreateObject();
	}
	return o;
}

static cJSON *
strings_json(char **v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	return arr;
}

/* Approval by policy (a tag with approval: false) or by a decision. */
static int
approve_in_tx(const struct alert_row *a, time_t now, const char *by,
    const char *how, const char *client, size_t *count)
{
	static const char *const from[] = { ALERT_PENDING, NULL };
	int stopped, rc;
	char *detail;

	rc = store_alert_transition(cd->store, a->id, from, ALERT_APPROVED, now,
	    by, how, client, NULL);
	if (rc != 0)
		return rc;
	/* how, and for a link the client that decided. */
	detail = client ? xasprintf("%s %s", how, client) : xstrdup(how);
	rc = store_audit(cd->store, now, by, "approved", a->id, NULL, NULL,
	    detail);
	free(detail);
	if (rc < 0 ||
	    store_tokens_revoke_alert(cd->store, a->id, "approval", now) < 0 ||
	    store_deliveries_stop(cd->store, a->id, "approval", DLV_CANCELLED,
	    &stopped) < 0 ||
	    create_deliveries(a, now, count) < 0)
		return -1;
	return 0;
}

int
alert_draft(const struct actor *who, const struct draft_in *in,
    cJSON *result, struct buf *errors)
{
	struct draft_out out;
	struct alert_row a = {0};
	time_t now = daemon_now();
	cJSON *warns = NULL;
	char *warnings, *setvars, *detail;
	size_t count = 0;

	if (who->member == NULL)
		return refuse(errors, "下書きには発信者が必要です（--as で名簿の"
		    "発信者を指定してください）");
	draft_check(&cd->site, in, &out);
	if (out.nrefusals > 0) {
		for (size_t i = 0; i < out.nrefusals; i++)
			refuse(errors, "%s", out.refusals[i]);
		cJSON_AddItemToObject(result, "warnings",
		    strings_json(out.warnings, out.nwarnings));
		draft_out_free(&out);
		audit_now(who->id, "draft_refused", 0, NULL, NULL, in->tag);
		return 1;
	}
	warns = strings_json(out.warnings, out.nwarnings);
	warnings = cJSON_PrintUnformatted(warns);
	/* The --set values go with the alert and into its audit row. */
	setvars = draft_vars_json(in->vars);
	detail = in->vars != NULL && in->vars->n > 0 ?
	    xasprintf("%s %s", out.tag->label, setvars) :
	    xstrdup(out.tag->label);
	a.tag = out.tag->name;
	a.body = out.body;
	a.audience = out.audience;
	a.sender = who->member->id;
	a.drill = in->drill;
	a.vars = setvars;
	a.warnings = warnings;
	a.state = ALERT_PENDING;
	a.created_at = now;
	if (out.tag->approval)
		a.approval_expires_at = now + cd->site.cfg.approval.link_ttl;
	if (store_begin(cd->store) < 0 ||
	    store_alert_insert(cd->store, &a) < 0 ||
	    store_audit(cd->store, now, who->id, "draft", a.id, NULL, NULL,
	    detail) < 0)
		goto dberr;
	if (out.tag->approval) {
		if (request_approval(&a, 0, now) < 0)
			goto dberr;
	} else if (approve_in_tx(&a, now, "policy", "tag", NULL, &count) < 0)
		goto dberr;
	if (store_commit(cd->store) < 0)
		goto dberr;
	log_info("alert %lld drafted by %s: %s, %zu recipients", (long long)a.id,
	    who->id, out.tag->name, out.nrecipients);
	cJSON_AddNumberToObject(result, "id", (double)a.id);
	cJSON_AddStringToObject(result, "state", out.tag->approval ?
	    ALERT_PENDING : ALERT_APPROVED);
	cJSON_AddStringToObject(result, "tag", out.tag->name);
	cJSON_AddBoolToObject(result, "drill", in->drill);
	cJSON_AddNumberToObject(result, "recipients", (double)out.nrecipients);
	cJSON_AddItemToObject(result, "vars", vars_object(setvars));
	cJSON_AddItemToObject(result, "warnings", warns);
	if (out.tag->approval && cd->site.cfg.approval.napprovers > 0) {
		const struct member *m = roster_find(&cd->site.roster,
		    cd->site.cfg.approval.approvers[0]);
		if (m != NULL)
			cJSON_AddStringToObject(result, "approver", m->name);
	}
	if (out.tag->approval)
		approval_alert_drafted(a.id);
	else
		followup_alert_approved(a.id);
	free(warnings);
	free(setvars);
	free(detail);
	draft_out_free(&out);
	fanout_kick();
	return 0;
dberr:
	cJSON_Delete(warns);
	free(warnings);
	free(setvars);
	free(detail);
	draft_out_free(&out);
	return dberror(errors);
}

static const char *
state_ja(const char *state)
{
	static const struct { const char *s, *ja; } names[] = {
		{ ALERT_PENDING, "承認待ち" }, { ALERT_APPROVED, "承認済み" },
		{ ALERT_SENDING, "送信中" }, { ALERT_COMPLETE, "完了" },
		{ ALERT_REJECTED, "却下" }, { ALERT_EXPIRED, "期限切れ" },
		{ ALERT_CANCELLED, "取消" },
	};
	for (size_t i = 0; i < nitems(names); i++)
		if (strcmp(names[i].s, state) == 0)
			return names[i].ja;
	return state;
}

/* Loads the alert or refuses with a Japanese reason. */
static int
load_alert(int64_t id, struct alert_row *a, struct buf *errors)
{
	int rc = store_alert_get(cd->store, id, a);

	if (rc < 0)
		return dberror(errors);
	if (rc == 1)
		return refuse(errors, "連絡 %lld はありません", (long long)id);
	return 0;
}

int
alert_approve(const struct actor *who, int64_t id, cJSON *result,
    struct buf *errors)
{
	struct alert_row a;
	time_t now = daemon_now();
	size_t count = 0;
	int rc;

	if (who->member == NULL || !(who->member->roles & ROLE_APPROVER))
		return refuse(errors, "承認の権限がありません（承認者: 町長、"
		    "職務代理者の副町長）");
	if ((rc = load_alert(id, &a, errors)) != 0)
		return rc;
	if (strcmp(a.state, ALERT_PENDING) != 0) {
		rc = refuse(errors, "連絡 %lld は承認待ちではありません（状態: %s）",
		    (long long)id, state_ja(a.state));
		alert_row_free(&a);
		return rc;
	}
	if (store_begin(cd->store) < 0)
		goto dberr;
	rc = approve_in_tx(&a, now, who->id, who->how, who->client, &count);
	if (rc < 0 || store_commit(cd->store) < 0)
		goto dberr;
	if (rc == 1) {
		store_rollback(cd->store);
		alert_row_free(&a);
		return refuse(errors, "連絡 %lld はすでに決定済みです",
		    (long long)id);
	}
	log_info("alert %lld approved by %s (%s): %zu deliveries",
	    (long long)id, who->id, who->how, count);
	cJSON_AddNumberToObject(result, "id", (double)id);
	cJSON_AddStringToObject(result, "state", ALERT_APPROVED);
	cJSON_AddNumberToObject(result, "deliveries", (double)count);
	alert_row_free(&a);
	approval_alert_decided(id);
	followup_alert_approved(id);
	fanout_kick();
	return 0;
dberr:
	alert_row_free(&a);
	return dberror(errors);
}

int
alert_reject(const struct actor *who, int64_t id, const char *reason,
    cJSON *result, struct buf *errors)
{
	static const char *const from[] = { ALERT_PENDING, NULL };
	struct alert_row a;
	time_t now = daemon_now();
	int rc, stopped;

	if (who->member == NULL || !(who->member->roles & ROLE_APPROVER))
		return refuse(errors, "却下の権限がありません");
	if (reason == NULL || *reason == '\0')
		return refuse(errors, "却下の理由 --reason が必要です");
	if ((rc = load_alert(id, &a, errors)) != 0)
		return rc;
	alert_row_free(&a);
	if (store_begin(cd->store) < 0)
		return dberror(errors);
	rc = store_alert_transition(cd->store, id, from, ALERT_REJECTED, now,
	    who->id, who->how, who->client, reason);
	if (rc < 0)
		return dberror(errors);
	if (rc == 1) {
		store_rollback(cd->store);
		return refuse(errors, "連絡 %lld は承認待ちではありません",
		    (long long)id);
	}
	if (store_tokens_revoke_alert(cd->store, id, "approval", now) < 0 ||
	    store_deliveries_stop(cd->store, id, "approval", DLV_CANCELLED,
	    &stopped) < 0 ||
	    store_audit(cd->store, now, who->id, "rejected", id, NULL, NULL,
	    reason) < 0 || store_commit(cd->store) < 0)
		return dberror(errors);
	approval_alert_decided(id);
	log_info("alert %lld rejected by %s", (long long)id, who->id);
	cJSON_AddNumberToObject(result, "id", (double)id);
	cJSON_AddStringToObject(result, "state", ALERT_REJECTED);
	return 0;
}

int
alert_cancel(const struct actor *who, int64_t id, const char *reason,
    cJSON *result, struct buf *errors)
{
	static const char *const live[] = { ALERT_PENDING, ALERT_APPROVED,
	    ALERT_SENDING, ALERT_COMPLETE, NULL };
	const struct tag *ct = NULL;
	struct alert_row a, notice = {0};
	time_t now = daemon_now();
	int rc, stopped = 0;
	size_t reached = 0, count = 0;
	char *body = NULL;

	if (who->member == NULL)
		return refuse(errors, "取消には名簿の職員として操作してください"
		    "（--as）");
	if (reason == NULL || *reason == '\0')
		return refuse(errors, "取消の理由 --reason が必要です");
	if ((rc = load_alert(id, &a, errors)) != 0)
		return rc;
	if (strcmp(a.sender, who->member->id) != 0 &&
	    !(who->member->roles & (ROLE_APPROVER | ROLE_ADMIN))) {
		alert_row_free(&a);
		return refuse(errors, "取消できるのは発信者、承認者、管理者です");
	}
	for (size_t i = 0; i < cd->site.rules.ntags; i++)
		if (cd->site.rules.tags[i].cancel)
			ct = &cd->site.rules.tags[i];
	if (store_begin(cd->store) < 0)
		goto dberr;
	rc = store_alert_transition(cd->store, id, live, ALERT_CANCELLED, now,
	    NULL, NULL, NULL, reason);
	if (rc < 0)
		goto dberr;
	if (rc == 1) {
		store_rollback(cd->store);
		rc = refuse(errors, "連絡 %lld は取り消せません（状態: %s）",
		    (long long)id, state_ja(a.state));
		alert_row_free(&a);
		return rc;
	}
	if (store_tokens_revoke_alert(cd->store, id, "approval", now) < 0 ||
	    store_deliveries_stop(cd->store, id, NULL, DLV_CANCELLED,
	    &stopped) < 0)
		goto dberr;
	{
		char *detail = xasprintf("%s (stopped %d pending)", reason,
		    stopped);
		rc = store_audit(cd->store, now, who->id, "cancelled", id, NULL,
		    NULL, detail);
		free(detail);
		if (rc < 0)
			goto dberr;
	}
	/* Who was reached gets 【取消】; nobody reached, no notice. */
	{
		struct delivery_row *rows;
		size_t n;
		if (store_deliveries_of(cd->store, id, "alert", &rows, &n) < 0)
			goto dberr;
		/* per person: a re-notified member has several rows */
		for (size_t i = 0; i < n; i++) {
			bool again = false;
			for (size_t j = 0; j < i && !again; j++)
				again = strcmp(rows[j].member,
				    rows[i].member) == 0 &&
				    strcmp(rows[j].state, DLV_SENT) == 0;
			reached += !again &&
			    strcmp(rows[i].state, DLV_SENT) == 0;
		}
		delivery_rows_free(rows, n);
	}
	if (reached > 0 && ct != NULL) {
		body = xasprintf("%s%s\n（取り消す連絡: 【%s】 No.%lld）",
		    ct->label, reason, a.tag, (long long)id);
		notice.tag = ct->name;
		notice.body = body;
		notice.audience = "cancel";
		notice.sender = who->member->id;
		notice.drill = a.drill;
		notice.state = ALERT_PENDING;
		notice.created_at = now;
		notice.cancels = id;
		if (ct->approval)
			notice.approval_expires_at = now +
			    cd->site.cfg.approval.link_ttl;
		if (store_alert_insert(cd->store, &notice) < 0 ||
		    store_audit(cd->store, now, who->id, "draft",
		    notice.id, NULL, NULL, ct->label) < 0)
			goto dberr;
		if (ct->approval) {
			if (request_approval(&notice, 0, now) < 0)
				goto dberr;
		} else if (approve_in_tx(&notice, now, "policy", "tag", NULL,
		    &count) < 0)
			goto dberr;
	}
	if (store_commit(cd->store) < 0)
		goto dberr;
	approval_alert_decided(id);
	if (notice.id > 0 && ct->approval)
		approval_alert_drafted(notice.id);
	else if (notice.id > 0)
		followup_alert_approved(notice.id);
	log_info("alert %lld cancelled by %s; %zu reached, notice %lld",
	    (long long)id, who->id, reached, (long long)notice.id);
	cJSON_AddNumberToObject(result, "id", (double)id);
	cJSON_AddStringToObject(result, "state", ALERT_CANCELLED);
	cJSON_AddNumberToObject(result, "stopped", stopped);
	cJSON_AddNumberToObject(result, "reached", (double)reached);
	if (notice.id > 0) {
		cJSON_AddNumberToObject(result, "notice", (double)notice.id);
		cJSON_AddStringToObject(result, "notice_state",
		    ct->approval ? ALERT_PENDING : ALERT_APPROVED);
	}
	free(body);
	alert_row_free(&a);
	fanout_kick();
	return 0;
dberr:
	free(body);
	alert_row_free(&a);
	return dberror(errors);
}

int
member_suspend(const struct actor *who, const char *member,
    const char *reason, cJSON *result, struct buf *errors)
{
	const struct member *m;
	time_t now = daemon_now();
	int stopped = 0;

	if (who->member == NULL || !(who->member->roles & ROLE_ADMIN))
		return refuse(errors, "停止の権限がありません（管理者のみ）");
	if (reason == NULL || *reason == '\0')
		return refuse(errors, "停止の理由 --reason が必要です");
	if ((m = roster_find(&cd->site.roster, member)) == NULL)
		return refuse(errors, "職員「%s」は名簿にありません", member);
	if (store_begin(cd->store) < 0 ||
	    store_suspend(cd->store, m->id, reason, who->id, now, &stopped) < 0 ||
	    store_audit(cd->store, now, who->id, "suspended", 0, m->id, NULL,
	    reason) < 0 || store_commit(cd->store) < 0)
		return dberror(errors);
	log_info("member %s suspended by %s; %d deliveries stopped", m->id,
	    who->id, stopped);
	cJSON_AddStringToObject(result, "member", m->id);
	cJSON_AddStringToObject(result, "name", m->name);
	cJSON_AddNumberToObject(result, "stopped", stopped);
	return 0;
}

int
member_resume(const struct actor *who, const char *member, cJSON *result,
    struct buf *errors)
{
	const struct member *m;
	int rc;

	if (who->member == NULL || !(who->member->roles & ROLE_ADMIN))
		return refuse(errors, "再開の権限がありません（管理者のみ）");
	if ((m = roster_find(&cd->site.roster, member)) == NULL)
		return refuse(errors, "職員「%s」は名簿にありません", member);
	if (store_begin(cd->store) < 0 ||
	    (rc = store_resume(cd->store, m->id)) < 0)
		return dberror(errors);
	if (rc == 1) {
		store_rollback(cd->store);
		return refuse(errors, "%s（%s）は停止されていません", m->name,
		    m->id);
	}
	if (store_audit(cd->store, daemon_now(), who->id, "resumed", 0, m->id,
	    NULL, NULL) < 0 || store_commit(cd->store) < 0)
		return dberror(errors);
	cJSON_AddStringToObject(result, "member", m->id);
	cJSON_AddStringToObject(result, "name", m->name);
	return 0;
}

static void
add_time(cJSON *o, const char *key, time_t t)
{
	char tmp[40];

	if (t <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	format_time_jst(t, tmp, sizeof(tmp));
	cJSON_AddStringToObject(o, key, tmp);
}

static int
cmp_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;
	return (x > y) - (x < y);
}

int
alert_describe(int64_t id, bool rendered, cJSON *result, struct buf *errors)
{
	struct alert_row a;
	struct delivery_row *rows;
	size_t n, nrec = 0, nconf = 0;
	const struct member *sender;
	cJSON *recips, *approvals, *notices, *counts, *o;
	time_t *conf;
	int rc;
	struct { const char *state; int n; } c[] = {
		{ DLV_PENDING, 0 }, { DLV_SENDING, 0 }, { DLV_SENT, 0 },
		{ DLV_FAILED, 0 }, { DLV_SUSPENDED, 0 }, { DLV_CANCELLED, 0 },
	};
	int nread = 0;

	if ((rc = load_alert(id, &a, errors)) != 0)
		return rc;
	if (store_deliveries_of(cd->store, id, NULL, &rows, &n) < 0) {
		alert_row_free(&a);
		return dberror(errors);
	}
	sender = roster_find(&cd->site.roster, a.sender);
	cJSON_AddNumberToObject(result, "id", (double)a.id);
	cJSON_AddStringToObject(result, "state", a.state);
	cJSON_AddStringToObject(result, "state_ja", state_ja(a.state));
	cJSON_AddStringToObject(result, "tag", a.tag);
	cJSON_AddBoolToObject(result, "drill", a.drill);
	cJSON_AddStringToObject(result, "body", a.body);
	cJSON_AddItemToObject(result, "vars", vars_object(a.vars));
	cJSON_AddStringToObject(result, "audience", a.audience);
	o = cJSON_AddObjectToObject(result, "sender");
	cJSON_AddStringToObject(o, "member", a.sender);
	cJSON_AddStringToObject(o, "name", sender ? sender->name : a.sender);
	cJSON_AddStringToObject(o, "title", sender ? sender->title : "");
	add_time(result, "created_at", a.created_at);
	add_time(result, "decided_at", a.decided_at);
	/* The approval chain: the last approver asked, and the deadline. */
	cJSON_AddNumberToObject(result, "approval_step", a.step);
	add_time(result, "approval_expires_at", a.approval_expires_at);
	if (a.decided_by != NULL) {
		const struct member *d = roster_find(&cd->site.roster,
		    a.decided_by);
		cJSON_AddStringToObject(result, "decided_by", a.decided_by);
		cJSON_AddStringToObject(result, "decided_by_name",
		    d ? d->name : a.decided_by);
		cJSON_AddStringToObject(result, "decided_how",
		    a.decided_how ? a.decided_how : "");
	}
	if (a.reason != NULL)
		cJSON_AddStringToObject(result, "reason", a.reason);
	if (a.cancels > 0)
		cJSON_AddNumberToObject(result, "cancels", (double)a.cancels);
	cJSON_AddItemToObject(result, "warnings", cJSON_Parse(a.warnings ?
	    a.warnings : "[]"));

	recips = cJSON_AddArrayToObject(result, "recipients");
	approvals = cJSON_AddArrayToObject(result, "approvals");
	notices = cJSON_AddArrayToObject(result, "notices");
	conf = xcalloc(n + 1, sizeof(*conf));
	for (size_t i = 0; i < n; i++) {
		struct delivery_row *d = &rows[i];
		bool approval = strcmp(d->kind, "approval") == 0;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "member", d->member);
		cJSON_AddStringToObject(o, "name", d->name);
		cJSON_AddStringToObject(o, "title", d->title);
		if (d->shelter != NULL)
			cJSON_AddStringToObject(o, "shelter", d->shelter);
		cJSON_AddStringToObject(o, "channel", d->channel);
		cJSON_AddStringToObject(o, "state", d->state);
		cJSON_AddNumberToObject(o, "attempts", d->attempts);
		cJSON_AddNumberToObject(o, "round", d->round);
		add_time(o, "sent_at", d->sent_at);
		if (!approval) {
			add_time(o, "read_at", d->read_at);
			add_time(o, "confirmed_at", d->confirmed_at);
			if (d->response != NULL)
				cJSON_AddStringToObject(o, "response",
				    d->response);
			else
				cJSON_AddNullToObject(o, "response");
		}
		if (d->error != NULL)
			cJSON_AddStringToObject(o, "error", d->error);
		if (approval) {
			/* live until the first decision or the deadline */
			const char *ls = store_token_state(cd->store, d->id,
			    daemon_now());
			cJSON_AddStringToObject(o, "link", ls ? ls : "unknown");
		}
		if (strcmp(d->kind, "notice") == 0) {
			if (d->body != NULL)
				cJSON_AddStringToObject(o, "text", d->body);
			cJSON_AddItemToArray(notices, o);
			continue;
		}
		cJSON_AddItemToArray(approval ? approvals : recips, o);
		if (approval)
			continue;
		/* A member rerouted or re-notified has several rows; the
		 * state counts are per row, the rest per person (every row
		 * of a person carries their read and confirmation). */
		for (size_t k = 0; k < nitems(c); k++)
			if (strcmp(c[k].state, d->state) == 0)
				c[k].n++;
		bool again = false;
		for (size_t j = 0; j < i && !again; j++)
			again = strcmp(rows[j].kind, "alert") == 0 &&
			    strcmp(rows[j].member, d->member) == 0;
		if (again)
			continue;
		nrec++;
		nread += d->read_at > 0;
		if (d->confirmed_at > 0)
			conf[nconf++] = d->confirmed_at;
	}
	counts = cJSON_AddObjectToObject(result, "counts");
	cJSON_AddNumberToObject(counts, "recipients", (double)nrec);
	for (size_t k = 0; k < nitems(c); k++)
		cJSON_AddNumberToObject(counts, c[k].state, c[k].n);
	cJSON_AddNumberToObject(counts, "read", nread);
	cJSON_AddNumberToObject(counts, "confirmed", (double)nconf);
	/* When 25/50/75/100 % of the recipients had confirmed. */
	qsort(conf, nconf, sizeof(*conf), cmp_time);
	o = cJSON_AddObjectToObject(result, "milestones");
	for (int pct = 25; pct <= 100; pct += 25) {
		char key[16];
		size_t need = (nrec * (size_t)pct + 99) / 100;
		snprintf(key, sizeof(key), "%d", pct);
		add_time(o, key, nrec > 0 && need > 0 && need <= nconf ?
		    conf[need - 1] : 0);
	}
	free(conf);
	followup_describe(&a, rows, n, result);

	if (rendered) {
		/* The texts as a recipient will see them, with the link. */
		struct delivery_row sample = {0};
		char *tl, *ts, *link;
		sample.kind = "alert";
		sample.name = "（受信者）";
		sample.title = "";
		fanout_render(&sample, &a, &tl, &ts, &link);
		o = cJSON_AddObjectToObject(result, "messages");
		cJSON_AddStringToObject(o, "long", tl);
		cJSON_AddStringToObject(o, "sms", ts);
		free(tl);
		free(ts);
		free(link);
	}
	delivery_rows_free(rows, n);
	alert_row_free(&a);
	return 0;
}
