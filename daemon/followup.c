/*
 * followup.c: what happens after an alert went out (SPEC §5 step 5).
 * At each ack deadline (the tag's ack_deadline, else delivery.ack_deadline,
 * counted from the approval, then from each round) the recipients who have
 * not confirmed are reached again on their next channel in
 * delivery.channels after the one of their latest delivery (the same one
 * when none is left; never wrapping), as new rows of round + 1 with fresh
 * links; after delivery.renotify_max rounds the sender and the crisis
 * office head (every admin titled 危機管理室長 in the roster) get the call
 * list as a notice, and the alert is complete. An alert is complete at
 * once when everyone reachable confirmed.
 *
 * Timers live in memory only: the rounds are rows (deliveries.round), so
 * followup_init rebuilds them at start and acts at once on what fell due
 * while the daemon was down. Every action is one transaction that re-reads
 * the alert's state and its highest round, so a late, doubled or
 * restarted timer never makes a round twice. This file never re-sends to
 * a confirmed or suspended member, nor anything of a cancelled alert; it
 * never sends itself: fan-out sends the rows it makes.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "followup.h"

#define RETRY_SECS	5	/* after a database error */
#define RECIPIENT_TOKEN_TTL	(7 * 86400)
/* Who gets the call list besides the sender: admins with this title. */
#define CRISIS_HEAD_TITLE	"危機管理室長"

static void run_alert(int64_t id);

static struct alert_timers timers = { .fire = run_alert };

/* ------------------------------------------------------------------ */
/* Who is where: one entry per recipient of an alert. */

struct person {
	const struct delivery_row *latest;	/* highest round, then id */
	bool confirmed;
	bool suspended;		/* now, or their latest row was stopped so */
};

struct people {
	struct delivery_row *rows;
	size_t nrows;
	struct person *v;
	size_t n;
	int round;		/* highest round made */
	time_t round_at;	/* when that round was made (0 for round 0) */
};

static void
people_free(struct people *p)
{
	delivery_rows_free(p->rows, p->nrows);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* Groups the alert rows by member. Caller frees with people_free. */
static void
people_of(struct delivery_row *rows, size_t n, struct people *p)
{
	/* Member -> index in p->v: an open-addressed table (a power of
	 * two, at most half full), so that 30,000 rows are not 30,000^2/2
	 * comparisons. */
	size_t cap = 16, *slot;

	while (cap < 2 * n)
		cap *= 2;
	slot = xcalloc(cap, sizeof(*slot));	/* index + 1; 0 is free */
	memset(p, 0, sizeof(*p));
	p->rows = rows;
	p->nrows = n;
	p->v = xcalloc(n + 1, sizeof(*p->v));
	for (size_t i = 0; i < n; i++) {
		const struct delivery_row *d = &rows[i];
		struct person *q = NULL;
		uint32_t h = 2166136261u;	/* FNV-1a */
		size_t at;

		if (strcmp(d->kind, "alert") != 0)
			continue;
		if (d->round > p->round) {
			p->round = d->round;
			p->round_at = d->created_at;
		} else if (d->round == p->round && d->round > 0 &&
		    d->created_at < p->round_at)
			p->round_at = d->created_at;
		for (const char *c = d->member; *c != '\0'; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		for (at = h & (cap - 1); slot[at] != 0; at = (at + 1) & (cap - 1))
			if (strcmp(p->v[slot[at] - 1].latest->member,
			    d->member) == 0) {
				q = &p->v[slot[at] - 1];
				break;
			}
		if (q == NULL) {
			slot[at] = p->n + 1;
			q = &p->v[p->n++];
			q->latest = d;
		} else if (d->round > q->latest->round ||
		    (d->round == q->latest->round && d->id > q->latest->id))
			q->latest = d;
		q->confirmed |= d->confirmed_at > 0;
	}
	free(slot);
	for (size_t k = 0; k < p->n; k++)
		p->v[k].suspended = strcmp(p->v[k].latest->state,
		    DLV_SUSPENDED) == 0 ||
		    store_is_suspended(cd->store, p->v[k].latest->member, NULL);
}

static int
people_load(int64_t alert, struct people *p)
{
	struct delivery_row *rows;
	size_t n;

	if (store_deliveries_of(cd->store, alert, "alert", &rows, &n) < 0)
		return -1;
	people_of(rows, n, p);
	return 0;
}

/* Recipients who may still confirm: neither confirmed nor suspended. */
static size_t
people_open(const struct people *p)
{
	size_t n = 0;

	for (size_t k = 0; k < p->n; k++)
		n += !p->v[k].confirmed && !p->v[k].suspended;
	return n;
}

static long
ack_of(const struct alert_row *a)
{
	const struct tag *t = rules_tag(&cd->site.rules, a->tag);

	return t != NULL && t->ack_deadline > 0 ? t->ack_deadline :
	    cd->site.cfg.delivery.ack_deadline;
}

static const char *
label_of(const struct alert_row *a, char *buf, size_t bufsz)
{
	const struct tag *t = rules_tag(&cd->site.rules, a->tag);

	if (t != NULL)
		return t->label;
	snprintf(buf, bufsz, "【%s】", a->tag);
	return buf;
}

static bool
may_follow(const struct alert_row *a)
{
	return strcmp(a->state, ALERT_APPROVED) == 0 ||
	    strcmp(a->state, ALERT_SENDING) == 0;
}

/* ------------------------------------------------------------------ */
/* The call list. */

static const char *
phone_of(const struct member *m)
{
	if (m == NULL)
		return NULL;
	if (m->phone != NULL)
		return m->phone;
	for (size_t k = 0; k < m->ncontacts; k++)
		if (strcmp(m->contacts[k].channel, "sms") == 0)
			return m->contacts[k].address;
	return NULL;
}

/*
 * The unconfirmed of p (suspended ones too, marked), in send order: the
 * call list's text (caller frees) and, when list is non-NULL, one JSON
 * object each appended to it. *count is how many.
 */
static char *
call_list(const struct alert_row *a, const struct people *p, cJSON *list,
    size_t *count)
{
	struct call_entry *v = xcalloc(p->n + 1, sizeof(*v));
	char lbuf[128], *text;
	size_t n = 0;

	for (size_t k = 0; k < p->n; k++) {
		const struct delivery_row *d = p->v[k].latest;
		const struct member *m;
		const struct shelter *sh;

		if (p->v[k].confirmed)
			continue;
		m = roster_find(&cd->site.roster, d->member);
		sh = d->shelter ? roster_shelter(&cd->site.roster, d->shelter) :
		    NULL;
		v[n] = (struct call_entry){
			.name = d->name, .title = d->title,
			.shelter = sh ? sh->name : d->shelter,
			.phone = phone_of(m), .suspended = p->v[k].suspended,
		};
		if (list != NULL) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "member", d->member);
			cJSON_AddStringToObject(o, "name", d->name);
			cJSON_AddStringToObject(o, "title", d->title);
			if (d->shelter != NULL) {
				cJSON_AddStringToObject(o, "shelter", d->shelter);
				cJSON_AddStringToObject(o, "shelter_name",
				    v[n].shelter);
			}
			if (v[n].phone != NULL)
				cJSON_AddStringToObject(o, "phone", v[n].phone);
			else
				cJSON_AddNullToObject(o, "phone");
			cJSON_AddStringToObject(o, "channel", d->channel);
			cJSON_AddNumberToObject(o, "round", d->round);
			cJSON_AddBoolToObject(o, "suspended", v[n].suspended);
			cJSON_AddItemToArray(list, o);
		}
		n++;
	}
	text = followup_call_list(a->id, label_of(a, lbuf, sizeof(lbuf)),
	    a->drill, p->round, v, n);
	free(v);
	*count = n;
	return text;
}

/* ------------------------------------------------------------------ */
/* Actions, each inside the caller's transaction. */

/* The member's channel for the next round: the next one after `from` in
 * delivery.channels on which they have a contact, else `from` itself
 * (when they still have it). NULL when neither. */
static const struct contact *
round_channel(const struct member *m, const char *from)
{
	const struct config *c = &cd->site.cfg;
	const struct contact *next = member_next_contact(m,
	    c->delivery.channels, c->delivery.nchannels, from);

	return next != NULL ? next : member_contact(m, from);
}

/*
 * Round p->round + 1: a new row for every unconfirmed, unsuspended member
 * whose latest row was sent or failed (not one still on its way). *count
 * is how many, *waiting how many open members are still on their way; a
 * round with count 0 and waiting 0 reaches nobody (the caller escalates).
 */
static int
make_round(const struct alert_row *a, const struct people *p, time_t now,
    const char *actor, size_t *count, size_t *waiting)
{
	struct new_delivery *nd = xcalloc(p->n + 1, sizeof(*nd));
	char detail[64];
	size_t n = 0;
	int rc;

	*waiting = 0;
	for (size_t k = 0; k < p->n; k++) {
		const struct delivery_row *d = p->v[k].latest;
		const struct member *m;
		const struct contact *ct;

		if (p->v[k].confirmed || p->v[k].suspended)
			continue;
		if (strcmp(d->state, DLV_PENDING) == 0 ||
		    strcmp(d->state, DLV_SENDING) == 0) {
			(*waiting)++;
			continue;
		}
		if (strcmp(d->state, DLV_SENT) != 0 &&
		    strcmp(d->state, DLV_FAILED) != 0)
			continue;
		if ((m = roster_find(&cd->site.roster, d->member)) == NULL ||
		    (ct = round_channel(m, d->channel)) == NULL)
			continue;
		nd[n++] = (struct new_delivery){
			.member = d->member, .name = d->name, .title = d->title,
			.shelter = d->shelter, .position = d->position,
			.channel = ct->channel, .address = ct->address,
			.round = p->round + 1,
		};
	}
	*count = n;
	snprintf(detail, sizeof(detail), "round %d: %zu recipients",
	    p->round + 1, n);
	rc = n == 0 ? 0 : store_deliveries_create(cd->store, cd->token_key,
	    a->id, "alert", nd, n, now, now + RECIPIENT_TOKEN_TTL);
	free(nd);
	if (rc < 0 || n == 0)
		return rc;
	return store_audit(cd->store, now, actor, "renotify_round", a->id, NULL,
	    NULL, detail);
}

/* A notice with `body` to m on their first delivery channel. */
static int
notice_to(const struct alert_row *a, const struct member *m, const char *body,
    int round, time_t now)
{
	const struct config *c = &cd->site.cfg;
	const struct contact *ct = NULL;

	for (size_t i = 0; ct == NULL && i < c->delivery.nchannels; i++)
		for (size_t k = 0; ct == NULL && k < m->ncontacts; k++)
			if (strcmp(m->contacts[k].channel,
			    c->delivery.channels[i]) == 0)
				ct = &m->contacts[k];
	if (ct == NULL)
		return store_audit(cd->store, now, "crisiscastd",
		    "notice_unreachable", a->id, m->id, NULL,
		    "no contact on delivery.channels");
	struct new_delivery nd = {
		.member = m->id, .name = m->name, .title = m->title,
		.channel = ct->channel, .address = ct->address, .body = body,
		.round = round,
		.state = store_is_suspended(cd->store, m->id, NULL) ?
		    DLV_SUSPENDED : NULL,
	};
	/* The notice has no page: its token is dead from the start. */
	return store_deliveries_create(cd->store, cd->token_key, a->id,
	    "notice", &nd, 1, now, now);
}

/*
 * The alert is complete: everyone confirmed (no notice), or the rounds
 * are spent and the call list goes to the sender and the crisis office
 * head. 1 when the alert was no longer approved or sending.
 */
static int
complete(const struct alert_row *a, const struct people *p, time_t now)
{
	static const char *const from[] = { ALERT_APPROVED, ALERT_SENDING,
	    NULL };
	const struct roster *ro = &cd->site.roster;
	const struct member *sender = roster_find(ro, a->sender);
	char detail[64], *text;
	size_t n, told = 0;
	int rc;

	rc = store_alert_transition(cd->store, a->id, from, ALERT_COMPLETE, now,
	    NULL, NULL, NULL, NULL);
	if (rc != 0)
		return rc;
	text = call_list(a, p, NULL, &n);
	if (people_open(p) == 0 && n == 0) {
		free(text);
		return store_audit(cd->store, now, "crisiscastd", "complete",
		    a->id, NULL, NULL, "all confirmed");
	}
	rc = 0;
	if (sender != NULL) {
		rc = notice_to(a, sender, text, p->round, now);
		told++;
	}
	for (size_t i = 0; rc == 0 && i < ro->nmembers; i++) {
		const struct member *m = &ro->members[i];
		if (m == sender || !(m->roles & ROLE_ADMIN) ||
		    strcmp(m->title, CRISIS_HEAD_TITLE) != 0)
			continue;
		rc = notice_to(a, m, text, p->round, now);
		told++;
	}
	free(text);
	snprintf(detail, sizeof(detail), "%zu unconfirmed, call list to %zu",
	    n, told);
	if (rc < 0 || store_audit(cd->store, now, "crisiscastd", "escalated",
	    a->id, NULL, NULL, detail) < 0)
		return -1;
	log_info("alert %lld: %zu unconfirmed after %d rounds; call list to "
	    "%zu people", (long long)a->id, n, p->round, told);
	return store_audit(cd->store, now, "crisiscastd", "complete", a->id,
	    NULL, NULL, "out of attempts");
}


enum step { STEP_ROUND, STEP_ESCALATE, STEP_SETTLE };

/*
 * One step for alert `id` in its own transaction, re-checked inside it:
 * the alert must still follow up and its highest round must still be
 * `round` (else 1: someone else acted). STEP_SETTLE completes only when
 * nobody is open. A round that reaches nobody escalates instead.
 * *made: rows created (round) or 0. 0 done, 1 nothing to do, 2 not yet
 * (the only unconfirmed are still on their way: come back later), -1
 * error.
 */
static int
step(int64_t id, enum step what, int round, time_t now, const char *actor,
    size_t *made)
{
	struct alert_row a;
	struct people p;
	size_t waiting = 0;
	int rc;

	*made = 0;
	if (store_begin(cd->store) < 0)
		return -1;
	if ((rc = store_alert_get(cd->store, id, &a)) != 0) {
		store_rollback(cd->store);
		return rc;
	}
	if (!may_follow(&a) || people_load(id, &p) < 0) {
		rc = may_follow(&a) ? -1 : 1;
		store_rollback(cd->store);
		alert_row_free(&a);
		return rc;
	}
	if ((what != STEP_SETTLE && p.round != round) ||
	    (what == STEP_SETTLE && people_open(&p) > 0)) {
		rc = 1;
		goto rollback;
	}
	if (what == STEP_ROUND) {
		rc = make_round(&a, &p, now, actor, made, &waiting);
		if (rc == 0 && *made == 0)
			rc = waiting > 0 ? 2 : complete(&a, &p, now);
	} else
		rc = complete(&a, &p, now);
	if (rc != 0 || store_commit(cd->store) < 0) {
		rc = rc > 0 ? rc : -1;
		goto rollback;
	}
	people_free(&p);
	alert_row_free(&a);
	return 0;
rollback:
	store_rollback(cd->store);
	people_free(&p);
	alert_row_free(&a);
	return rc;
}

/*
 * Does whatever is due for the alert now, then arms its timer for the next
 * deadline, or drops it once the alert no longer follows up.
 */
static void
run_alert(int64_t id)
{
	const struct config *c = &cd->site.cfg;
	bool acted = false;

	for (long pass = 0; pass <= c->delivery.renotify_max + 2; pass++) {
		struct alert_row a;
		struct people p;
		struct followup_clock clk;
		time_t now = daemon_now(), when;
		enum step what;
		size_t made;
		int rc = store_alert_get(cd->store, id, &a);

		if (rc != 0 || !may_follow(&a)) {
			if (rc < 0) {
				log_warnx("follow-up of alert %lld: %s",
				    (long long)id, store_error(cd->store));
				alert_timer_arm(&timers, id, now + RETRY_SECS);
			} else
				alert_timer_disarm(&timers, id);
			if (rc == 0)
				alert_row_free(&a);
			break;
		}
		if (people_load(id, &p) < 0) {
			log_warnx("follow-up of alert %lld: %s", (long long)id,
			    store_error(cd->store));
			alert_row_free(&a);
			alert_timer_arm(&timers, id, now + RETRY_SECS);
			break;
		}
		clk = (struct followup_clock){
			.last_round_at = p.round > 0 ? p.round_at :
			    (a.decided_at > 0 ? a.decided_at : a.created_at),
			.round = p.round,
			.renotify_max = c->delivery.renotify_max,
			.ack_deadline = ack_of(&a),
		};
		if (p.n > 0 && people_open(&p) == 0)
			what = STEP_SETTLE;
		else {
			switch (followup_due(&clk, now, &when)) {
			case FOLLOWUP_WAIT:
				alert_timer_arm(&timers, id, when);
				people_free(&p);
				alert_row_free(&a);
				goto out;
			case FOLLOWUP_ROUND:
				what = STEP_ROUND;
				break;
			default:
				what = STEP_ESCALATE;
				break;
			}
		}
		rc = step(id, what, p.round, now, "crisiscastd", &made);
		if (rc == 0 && what == STEP_ROUND && made > 0)
			log_info("alert %lld: re-notify round %d to %zu "
			    "unconfirmed", (long long)id, p.round + 1, made);
		people_free(&p);
		alert_row_free(&a);
		if (rc < 0) {
			log_warnx("follow-up of alert %lld: %s; again in %ds",
			    (long long)id, store_error(cd->store), RETRY_SECS);
			alert_timer_arm(&timers, id, now + RETRY_SECS);
			break;
		}
		if (rc == 2) {
			alert_timer_arm(&timers, id, now + RETRY_SECS);
			break;
		}
		acted |= rc == 0;
	}
out:
	if (acted)
		fanout_kick();
}

/* ------------------------------------------------------------------ */
/* Entry points (daemon.h). */

int
followup_init(void)
{
	static const char *const states[] = { ALERT_APPROVED, ALERT_SENDING };
	size_t total = 0;

	for (size_t s = 0; s < nitems(states); s++) {
		struct alert_row *v;
		size_t n;
		if (store_alert_list(cd->store, states[s], 0, &v, &n) < 0) {
			log_warnx("follow-up: %s", store_error(cd->store));
			return -1;
		}
		for (size_t i = n; i-- > 0;)
			run_alert(v[i].id);
		for (size_t i = 0; i < n; i++)
			alert_row_free(&v[i]);
		free(v);
		total += n;
	}
	if (total > 0)
		log_info("follow-up: %zu alerts being delivered", total);
	return 0;
}

void
followup_alert_approved(int64_t alert)
{
	/* On the timer, not now: loading every recipient (40-60 ms at 10,000)
	 * would hold back the fan-out's first requests, and nothing is due
	 * before the first ack deadline anyway. A restart re-arms it. */
	alert_timer_arm(&timers, alert, daemon_now());
}

void
followup_confirmed(int64_t alert)
{
	size_t made;

	/* The common case, someone still open, without loading every row
	 * (step() would find the same and do nothing). */
	if (store_alert_has_open(cd->store, alert) == 1)
		return;
	if (step(alert, STEP_SETTLE, 0, daemon_now(), "crisiscastd",
	    &made) == 0) {
		log_info("alert %lld: everyone confirmed; complete",
		    (long long)alert);
		alert_timer_disarm(&timers, alert);
	}
}

int
followup_renotify(const struct actor *who, int64_t id, cJSON *result,
    struct buf *errors)
{
	const struct config *c = &cd->site.cfg;
	struct alert_row a;
	struct people p;
	size_t made = 0;
	int rc;

	if (who->member == NULL) {
		buf_adds(errors, "再通知には名簿の職員として操作してください"
		    "（--as）\n");
		return 1;
	}
	if ((rc = store_alert_get(cd->store, id, &a)) < 0)
		goto dberr;
	if (rc == 1) {
		buf_printf(errors, "連絡 %lld はありません\n", (long long)id);
		return 1;
	}
	if (strcmp(a.sender, who->member->id) != 0 &&
	    !(who->member->roles & (ROLE_APPROVER | ROLE_ADMIN))) {
		alert_row_free(&a);
		buf_adds(errors, "再通知できるのは発信者、承認者、管理者です\n");
		return 1;
	}
	if (!may_follow(&a)) {
		alert_row_free(&a);
		buf_printf(errors, "連絡 %lld は送信中ではないため再通知できません"
		    "\n", (long long)id);
		return 1;
	}
	if (people_load(id, &p) < 0) {
		alert_row_free(&a);
		goto dberr;
	}
	if (p.round >= c->delivery.renotify_max) {
		buf_printf(errors, "再通知はすでに上限の %ld 回に達しています\n",
		    c->delivery.renotify_max);
		rc = 1;
	} else if (people_open(&p) == 0) {
		buf_adds(errors, "未確認の宛先はいません\n");
		rc = 1;
	} else if ((rc = step(id, STEP_ROUND, p.round, daemon_now(), who->id,
	    &made)) < 0) {
		people_free(&p);
		alert_row_free(&a);
		goto dberr;
	} else if (rc == 1)
		buf_adds(errors, "ほかの操作と重なりました。状態を確認してください"
		    "\n");
	else if (rc == 2)
		buf_adds(errors, "未確認の宛先はまだ送信中です。送信後に再通知して"
		    "ください\n");
	if (rc == 2)
		rc = 1;
	if (rc == 0) {
		cJSON_AddNumberToObject(result, "id", (double)id);
		cJSON_AddNumberToObject(result, "round", p.round + 1);
		cJSON_AddNumberToObject(result, "count", (double)made);
		log_info("alert %lld: re-notify round %d by %s to %zu",
		    (long long)id, p.round + 1, who->id, made);
		run_alert(id);	/* the next deadline, from this round */
		fanout_kick();
	}
	people_free(&p);
	alert_row_free(&a);
	return rc;
dberr:
	log_warnx("database: %s", store_error(cd->store));
	buf_printf(errors, "データベースを読めませんでした（%s）\n",
	    store_error(cd->store));
	return -1;
}

void
followup_describe(const struct alert_row *a, const struct delivery_row *rows,
    size_t n, cJSON *result)
{
	const struct tag *t = rules_tag(&cd->site.rules, a->tag);
	const struct roster *ro = &cd->site.roster;
	struct delivery_row *copy = xcalloc(n + 1, sizeof(*copy));
	struct people p;
	cJSON *list, *shelters;
	size_t nc = 0, count;
	char *text;

	/* people_of keeps pointers into the rows it owns: a shallow copy
	 * of the alert rows, freed without their strings. */
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].kind, "alert") == 0)
			copy[nc++] = rows[i];
	people_of(copy, nc, &p);
	cJSON_AddNumberToObject(result, "round", p.round);
	cJSON_AddNumberToObject(result, "renotify_max",
	    (double)cd->site.cfg.delivery.renotify_max);
	list = cJSON_AddArrayToObject(result, "unconfirmed");
	text = call_list(a, &p, list, &count);
	cJSON_AddStringToObject(result, "call_list", text);
	free(text);

	/* Shelter readiness: every shelter with a staff member among the
	 * recipients; ready_count counts staff who confirmed with a
	 * readiness response. */
	shelters = cJSON_AddArrayToObject(result, "shelters");
	for (size_t s = 0; s < ro->nshelters; s++) {
		const struct shelter *sh = &ro->shelters[s];
		size_t targeted = 0, ready = 0, confirmed = 0;
		for (size_t k = 0; k < sh->nstaff; k++) {
			const struct member *m = &ro->members[sh->staff[k]];
			for (size_t q = 0; q < p.n; q++) {
				const struct delivery_row *d = p.v[q].latest;
				bool hit = false;
				if (strcmp(d->member, m->id) != 0)
					continue;
				targeted++;
				confirmed += p.v[q].confirmed;
				for (size_t r = 0; t != NULL && d->response &&
				    r < t->readiness.nresponses; r++)
					hit |= strcmp(d->response,
					    t->readiness.responses[r]) == 0;
				ready += hit;
			}
		}
		if (targeted == 0)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", sh->id);
		cJSON_AddStringToObject(o, "name", sh->name);
		cJSON_AddBoolToObject(o, "ready", t != NULL &&
		    t->readiness.min_ready > 0 &&
		    (long)ready >= t->readiness.min_ready);
		cJSON_AddNumberToObject(o, "ready_count", (double)ready);
		cJSON_AddNumberToObject(o, "min_ready", t != NULL ?
		    (double)t->readiness.min_ready : 0);
		cJSON_AddNumberToObject(o, "confirmed", (double)confirmed);
		cJSON_AddNumberToObject(o, "staff", (double)sh->nstaff);
		cJSON_AddItemToArray(shelters, o);
	}
	cJSON_AddBoolToObject(result, "readiness", t != NULL &&
	    t->readiness.min_ready > 0);
	free(p.v);
	free(copy);
}

void
followup_shutdown(void)
{
	alert_timers_clear(&timers);
}
