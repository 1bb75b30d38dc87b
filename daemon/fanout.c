/*
 * fanout.c: sends every delivery that is due (approval requests, alert
 * messages and notices) through its channel's transport, and records each
 * outcome.
 *
 * The database is the queue, and one step, pump(), works it: it runs once
 * in every loop turn in which something happened (a transport reported,
 * another module kicked, a retry or a rate limit fell due) and, in one
 * transaction (one fsync), records every report of the turn (sent, pending
 * again later, or failed and rerouted to the member's next channel), then
 * claims (pending -> sending) as many due rows of each channel as the
 * channel has room for now; after the COMMIT it hands the claimed rows to
 * their transports. So a slot freed by a reply is filled again in the same
 * loop turn, and no request leaves before its claim is on disk. Rows left
 * `sending` by a crash are requeued at start (they may be repeated: they
 * were in flight; the file transport's keys make even that a no-op).
 * This file never blocks and never sends a delivery whose alert may not
 * send.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define SWEEP_BATCH		256	/* rows a turn of a channel with no transport,
					   or paused past failover_after */
#define MAX_ATTEMPTS		8	/* on one channel; see give_up() */
#define BACKOFF_BASE_SECS	2
#define BACKOFF_MAX_SECS	300
#define RETRY_SECS		5	/* after a database error */

/* One claimed delivery, from its claim until its report is recorded. */
struct job {
	struct delivery_row d;		/* as claimed; attempts counts this one */
	struct transport_inst *ti;	/* NULL: no transport for the channel */
	/* The transport's report, kept until pump() records it. */
	enum send_outcome outcome;
	long retry_after;
	char *provider_id, *error;
	struct job *next;
};

/* pump() runs when activated (a report, a kick) or when its timer falls
 * due (a retry's next_at, a pause's or a rate limit's end). */
static struct event *pump_ev;
/* Reports not recorded yet, in arrival order. */
static struct job *done_head, **done_tail = &done_head;

static void record_now(void);

static void
job_free(struct job *j)
{
	delivery_row_free(&j->d);
	free(j->provider_id);
	free(j->error);
	free(j);
}

/* "11月21日 03:04" in Japan time. */
static void
format_short(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	jst_tm(t, &tm);
	snprintf(out, outsz, "%d月%d日 %02d:%02d", tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min);
}

int
fanout_render(const struct delivery_row *d, const struct alert_row *a,
    char **text_long, char **text_sms, char **link)
{
	const struct site *s = &cd->site;
	const struct tag *t = rules_tag(&s->rules, a->tag);
	const struct member *sender = roster_find(&s->roster, a->sender);
	bool approval = strcmp(d->kind, "approval") == 0;
	char token[TOKEN_CHARS + 1], id[32], created[64], deadline[32];
	struct msg_vars v = {0};
	struct buf resp = {0}, aud = {0};
	const char *name;

	if (strcmp(d->kind, "notice") == 0) {
		/* A notice carries its own text and needs no page: link "". */
		const char *text = d->body ? d->body : a->body;
		*link = xstrdup("");
		*text_long = xstrdup(text);
		*text_sms = xstrdup(text);
		return 0;
	}
	token_derive(cd->token_key, d->kind, d->salt, token);
	*link = xasprintf("%s/%s/%s", s->cfg.public_url, approval ? "a" : "r",
	    token);
	snprintf(id, sizeof(id), "%lld", (long long)a->id);
	format_short(a->created_at, created, sizeof(created));
	v.tag = t ? t->label : a->tag;
	v.body = a->body;
	v.link = *link;
	v.drill = a->drill;
	v.sender_name = sender ? sender->name : a->sender;
	v.sender_title = sender ? sender->title : "";
	v.alert_id = id;
	v.alert_created = created;
	v.vars = a->vars;
	if (approval) {
		size_t *idx = NULL, n = 0;
		char err[256];
		v.approver_name = d->name;
		if (roster_audience(&s->roster, a->audience, &idx, &n, err,
		    sizeof(err)) == 0)
			buf_printf(&aud, "%zu名（%s）", n, a->audience);
		else
			buf_adds(&aud, a->audience);
		free(idx);
		v.audience = aud.data;
		name = TMPL_APPROVAL;
	} else {
		v.recipient_name = d->name;
		v.recipient_title = d->title;
		for (size_t i = 0; t != NULL && i < t->nresponses; i++)
			buf_printf(&resp, "%s%s", i ? " / " : "",
			    t->responses[i]);
		v.responses = resp.data;
		if (t != NULL && a->decided_at > 0) {
			long ack = t->ack_deadline ? t->ack_deadline :
			    s->cfg.delivery.ack_deadline;
			struct tm tm;
			jst_tm(a->decided_at + ack, &tm);
			snprintf(deadline, sizeof(deadline), "%02d:%02d",
			    tm.tm_hour, tm.tm_min);
			v.deadline = deadline;
		}
		name = t ? t->template : NULL;
	}
	*text_long = name ? msg_render(s, name, TMPL_LONG, &v) : NULL;
	*text_sms = name ? msg_render(s, name, TMPL_SMS, &v) : NULL;
	/* A tag removed by a reload still reaches people, plainly. */
	if (*text_long == NULL)
		*text_long = xasprintf("%s%s\n\n確認はこちら: %s",
		    a->drill ? "【訓練】" : "", a->body, *link);
	if (*text_sms == NULL)
		*text_sms = xasprintf("%s%s %s", a->drill ? "【訓練】" : "",
		    v.tag, *link);
	buf_free(&resp);
	buf_free(&aud);
	return 0;
}

static long
backoff(int attempts)
{
	long secs = BACKOFF_BASE_SECS;
	uint32_t r = 0;

	for (int i = 1; i < attempts && secs < BACKOFF_MAX_SECS; i++)
		secs *= 2;
	if (secs > BACKOFF_MAX_SECS)
		secs = BACKOFF_MAX_SECS;
	crypto_random(&r, sizeof(r));
	return secs / 2 + (long)(r % (uint32_t)(secs / 2 + 1));	/* jitter */
}

/*
 * The member's next channel after `from` in delivery.channels on which the
 * roster has a contact, or NULL.
 */
static const struct contact *
next_channel(const char *member, const char *from)
{
	const struct config *c = &cd->site.cfg;
	const struct member *m = roster_find(&cd->site.roster, member);

	return m == NULL ? NULL : member_next_contact(m, c->delivery.channels,
	    c->delivery.nchannels, from);
}

/* Whether d may move to its member's next channel: an alert's delivery
 * or a notice (a call list, an expired draft's word to its sender) whose
 * member has one. Approval requests go out on every approval channel at
 * once and do not move. */
static bool
movable(const struct delivery_row *d)
{
	return (strcmp(d->kind, "alert") == 0 ||
	    strcmp(d->kind, "notice") == 0) &&
	    next_channel(d->member, d->channel) != NULL;
}

/*
 * Whether a transient failure ends j's tries on its channel. A member
 * with a next channel is moved to it once the channel has failed them for
 * longer than delivery.failover_after, counted from their first failure
 * there, or would have by the retry (so a first wait of exactly that long
 * is kept: LINE WORKS' per-minute limit resets within 60 s, the default,
 * and is no reason to send an SMS): a provider down at night (5xx,
 * timeouts, a name that does not resolve, a quota's 429) must not hold
 * the member for the minutes of a full backoff when SMS or mail would
 * reach them now. On the member's last channel the tries go on. On any
 * channel they end after MAX_ATTEMPTS. Sets *wait to the seconds until
 * the retry when the tries go on (the provider's Retry-After or a rate
 * limit's reset if it gave one, else the backoff); when they end, sets
 * *why to the reason for the audit trail (the caller frees) and returns
 * true.
 */
static bool
give_up(const struct job *j, const struct send_report *r, time_t now,
    long *wait, char **why)
{
	const struct delivery_row *d = &j->d;
	const char *err = r->error ? r->error : "unknown error";
	time_t since = d->failing_since ? d->failing_since : now;
	long limit = cd->site.cfg.delivery.failover_after;

	*wait = r->retry_after > 0 ? r->retry_after : backoff(d->attempts);
	if (movable(d) && now + *wait - since > limit) {
		*why = xasprintf("%s（最初の失敗から %lld 秒、再送まで %ld 秒"
		    "待つため次の方法へ）", err, (long long)(now - since),
		    *wait);
		return true;
	}
	if (d->attempts >= MAX_ATTEMPTS) {
		*why = xasprintf("%s（%d 回試して打ち切り）", err, d->attempts);
		return true;
	}
	return false;
}

/*
 * Records one report inside the caller's transaction. Returns 0 (1 when
 * the row had moved on already), -1 on a database error.
 */
static int
record_outcome(const struct job *j, const struct send_report *r)
{
	struct store *st = cd->store;
	const struct delivery_row *d = &j->d;
	time_t now = daemon_now();
	const char *err = r->error ? r->error : "unknown error";
	const char *next = NULL;
	char *why = NULL;	/* a transient failure's reason to give up */
	long wait = 0;
	int rc = 0;

	switch (r->outcome) {
	case SEND_ACCEPTED:
		rc = store_delivery_sent(st, d->id, now, r->provider_id);
		if (rc == 0)
			rc = store_audit(st, now, "crisiscastd",
			    strcmp(d->kind, "approval") == 0 ? "approval_sent" :
			    strcmp(d->kind, "notice") == 0 ? "notice_sent" :
			    "delivery_sent", d->alert_id,
			    d->member, d->channel, r->provider_id);
		break;
	case SEND_TRANSIENT:
		if (!give_up(j, r, now, &wait, &why)) {
			rc = store_delivery_retry(st, d->id, now + wait, now,
			    err);
			if (rc == 0)
				rc = store_audit(st, now, "crisiscastd",
				    "delivery_retry", d->alert_id, d->member,
				    d->channel, err);
			break;
		}
		__attribute__((fallthrough));
	case SEND_PERMANENT:
		rc = store_delivery_failed(st, d->id, err);
		if (rc == 0)
			rc = store_audit(st, now, "crisiscastd",
			    "delivery_failed", d->alert_id, d->member,
			    d->channel, why ? why : err);
		/* The same snapshot (name, position, round), next channel. */
		if (rc == 0)
			rc = fanout_reroute(d, now, &next);
		/* What the night shift looks for in the journal. */
		if (rc == 0)
			log_warnx("delivery %lld (%s) to %s via %s failed "
			    "after %d attempt%s: %s; %s%s", (long long)d->id,
			    d->kind, d->member, d->channel, d->attempts,
			    d->attempts == 1 ? "" : "s", err,
			    next ? "moved to " : "not moved",
			    next ? next : "");
		break;
	}
	free(why);
	if (rc < 0)
		return -1;
	if (rc == 1)
		log_warnx("delivery %lld moved on while in flight",
		    (long long)d->id);
	log_debug("delivery %lld to %s via %s: %s", (long long)d->id,
	    d->member, d->channel, r->outcome == SEND_ACCEPTED ? "accepted" :
	    err);
	return rc;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
job_report(const struct job *j, struct send_report *r)
{
	memset(r, 0, sizeof(*r));
	r->outcome = j->outcome;
	r->retry_after = j->retry_after;
	r->provider_id = j->provider_id;
	r->error = j->error;
}

/* Records the reports of list inside the caller's transaction: 0, or -1
 * at the first database error. */
static int
record_all(const struct job *list)
{
	struct send_report r;

	for (const struct job *j = list; j != NULL; j = j->next) {
		job_report(j, &r);
		if (record_outcome(j, &r) < 0)
			return -1;
	}
	return 0;
}

/* Records the reports of list each in its own transaction, when they
 * could not all go in one: a report the database refuses leaves its row
 * `sending` (requeued at the next start) and holds back no other. */
static void
record_each(const struct job *list)
{
	struct store *st = cd->store;
	struct send_report r;

	for (const struct job *j = list; j != NULL; j = j->next) {
		job_report(j, &r);
		if (store_begin(st) < 0 || record_outcome(j, &r) < 0 ||
		    store_commit(st) < 0) {
			log_warnx("delivery %lld: cannot record the outcome: %s",
			    (long long)j->d.id, store_error(st));
			store_rollback(st);
		}
	}
}

/*
 * A transport's report: frees the slot and honours a pause at once, and
 * queues the report for pump(), which records it (and fills the slot
 * again) at the end of this loop turn.
 */
static void
send_done_cb(void *arg, const struct send_report *r)
{
	struct job *j = arg;
	struct transport_inst *ti = j->ti;

	ti->inflight--;
	if (r->pause_secs > 0) {
		double until = mono_now() + (double)r->pause_secs;
		ti->pauses++;
		if (until > ti->paused_until) {
			ti->paused_until = until;
			log_info("channel %s: provider asks for a pause of %lds",
			    ti->channel, r->pause_secs);
		}
	}
	j->outcome = r->outcome;
	j->retry_after = r->retry_after > 0 ? r->retry_after : r->pause_secs;
	j->provider_id = r->provider_id ? xstrdup(r->provider_id) : NULL;
	j->error = r->error ? xstrdup(r->error) : NULL;
	j->next = NULL;
	*done_tail = j;
	done_tail = &j->next;
	if (pump_ev != NULL)
		event_active(pump_ev, EV_TIMEOUT, 0);
	else
		record_now();
}

/* Hands a claimed job to its transport. a: the delivery's alert, or NULL
 * when it cannot be read. */
static void
start_job(struct job *j, const struct alert_row *ap)
{
	const struct delivery_row *d = &j->d;
	char *tl, *ts, *link, key[64];
	const struct tag *t;

	if (ap == NULL) {
		struct send_report r = { .outcome = SEND_PERMANENT,
		    .error = "alert not found" };
		send_done_cb(j, &r);
		return;
	}
	const struct alert_row a = *ap;
	t = rules_tag(&cd->site.rules, a.tag);
	fanout_render(d, &a, &tl, &ts, &link);
	char *subject = strcmp(d->kind, "notice") == 0 ?
	    xasprintf("%s連絡 %lld についてのお知らせ %s", a.drill ?
	    "【訓練】" : "", (long long)a.id, cd->site.cfg.organization) :
	    xasprintf("%s%s %s", a.drill ? "【訓練】" : "",
	    t ? t->label : a.tag, cd->site.cfg.organization);
	bool alert = strcmp(d->kind, "alert") == 0;
	long ack = t && t->ack_deadline ? t->ack_deadline :
	    cd->site.cfg.delivery.ack_deadline;
	snprintf(key, sizeof(key), "%s:%lld", d->kind, (long long)d->id);
	struct outmsg m = {
		.key = key,
		.delivery_id = d->id,
		.alert_id = d->alert_id,
		.kind = d->kind,
		.member = d->member,
		.name = d->name,
		.channel = d->channel,
		.address = d->address,
		.tag = t ? t->label : a.tag,
		.priority = t ? t->priority : PRIO_HIGH,
		.drill = a.drill,
		.text_long = tl,
		.text_sms = ts,
		.subject = subject,
		.link = link,
		.responses = alert && t ? (const char *const *)t->responses :
		    NULL,
		.nresponses = alert && t ? t->nresponses : 0,
		/* An urgent call is worthless once its deadline passed. */
		.valid_secs = t && t->priority == PRIO_URGENT ? ack : 0,
	};
	j->ti->vt->send(j->ti->inst, &m, send_done_cb, j);
	free(tl);
	free(ts);
	free(link);
	free(subject);
}

/* Hands every job of list to its transport, reading each alert once. */
static void
start_all(struct job *list)
{
	struct alert_row a = {0};
	int64_t a_id = 0;
	int a_rc = 1;
	struct job *j, *nj;

	for (j = list; j != NULL; j = nj) {
		nj = j->next;
		j->next = NULL;
		if (j->d.alert_id != a_id) {
			alert_row_free(&a);
			a_id = j->d.alert_id;
			a_rc = store_alert_get(cd->store, a_id, &a);
		}
		start_job(j, a_rc == 0 ? &a : NULL);
	}
	alert_row_free(&a);
}

/*
 * How many requests ti may start now: its free concurrency, none while
 * its provider asked for a pause, at most the whole tokens in its bucket.
 * When only time will change a 0, *wake is lowered to the seconds until
 * then (a full channel waits for a report instead).
 */
static size_t
room_for(struct transport_inst *ti, double now, double *wake)
{
	size_t room;

	if (ti->inflight >= ti->max_inflight)
		return 0;
	if (now < ti->paused_until) {
		if (ti->paused_until - now < *wake)
			*wake = ti->paused_until - now;
		return 0;
	}
	room = (size_t)(ti->max_inflight - ti->inflight);
	if (ti->rate > 0) {
		ti->tokens += (now - ti->refilled_at) * ti->rate;
		if (ti->tokens > ti->burst)
			ti->tokens = ti->burst;
		ti->refilled_at = now;
		if (ti->tokens < 1) {
			double w = (1 - ti->tokens) / ti->rate;
			if (w < *wake)
				*wake = w;
			return 0;
		}
		if ((double)room > floor(ti->tokens))
			room = (size_t)floor(ti->tokens);
	}
	return room;
}

/* Gives back the slots (and tokens) of claims that were rolled back. */
static void
unclaim(struct job *list)
{
	struct job *j, *nj;

	for (j = list; j != NULL; j = nj) {
		nj = j->next;
		j->ti->inflight--;
		if (j->ti->rate > 0)
			j->ti->tokens += 1;
		job_free(j);
	}
}

/*
 * Inside the caller's transaction: claims the due rows of every channel
 * that has room, at most its room, and appends a job for each to *tail
 * (slot and token taken). Rows of a channel with no transport (removed
 * from the config since they were made) fail at once, rerouted to the
 * member's next channel; so do, while their provider has asked for a
 * pause that ends more than delivery.failover_after from now (a 503 with a
 * long Retry-After: maintenance), the due rows that can move (movable():
 * the others wait out the pause), up to SWEEP_BATCH a turn taken in send
 * order, unmovable ones included. *again is set then, for the rows that
 * made.
 * 0, or -1 on a database error (the caller rolls back and unclaims).
 */
static int
claim_due(struct job ***tail, double *wake, bool *again)
{
	struct store *st = cd->store;
	time_t now = daemon_now();
	double mono = mono_now();
	char **chans;
	size_t nchans;
	int64_t sending = 0;	/* the alert last moved to `sending` */
	int rc = 0;

	if (store_pending_channels(st, &chans, &nchans) < 0)
		return -1;
	for (size_t c = 0; rc == 0 && c < nchans; c++) {
		struct transport_inst *ti = transport_for(chans[c]);
		size_t room = ti ? room_for(ti, mono, wake) : SWEEP_BATCH;
		char *swept = NULL;	/* why the rows move on unsent */
		struct delivery_row *rows;
		size_t n;

		if (ti == NULL)
			swept = xstrdup("channel not configured");
		else if (room == 0 && ti->paused_until - mono >
		    (double)cd->site.cfg.delivery.failover_after) {
			swept = xasprintf("the provider takes no request for "
			    "%.0f s more", ceil(ti->paused_until - mono));
			room = SWEEP_BATCH;
		}
		if (room == 0)
			continue;
		if ((rc = store_deliveries_due(st, now, chans[c], room, &rows,
		    &n)) < 0) {
			free(swept);
			break;
		}
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct job *j;
			if (swept != NULL && ti != NULL && !movable(&rows[i]))
				continue;	/* waits out the pause */
			if ((rc = store_delivery_claim(st, rows[i].id)) != 0) {
				rc = rc < 0 ? -1 : 0;	/* 1: moved on */
				continue;
			}
			j = xcalloc(1, sizeof(*j));
			j->d = rows[i];		/* moved */
			memset(&rows[i], 0, sizeof(rows[i]));
			j->d.attempts++;
			j->ti = ti;
			if (swept != NULL) {
				struct send_report r = {
				    .outcome = SEND_PERMANENT,
				    .error = swept };
				rc = record_outcome(j, &r) < 0 ? -1 : 0;
				job_free(j);
				*again = true;
				continue;
			}
			ti->inflight++;
			if (ti->rate > 0)
				ti->tokens -= 1;
			**tail = j;
			*tail = &j->next;
			if (strcmp(j->d.kind, "alert") == 0 &&
			    j->d.alert_id != sending) {
				static const char *const from[] = {
				    ALERT_APPROVED, NULL };
				sending = j->d.alert_id;
				rc = store_alert_transition(st, sending, from,
				    ALERT_SENDING, now, NULL, NULL, NULL, NULL);
				if (rc == 0)
					rc = store_audit(st, now, "crisiscastd",
					    "sending", sending, NULL, NULL,
					    NULL);
				rc = rc < 0 ? -1 : 0;	/* 1: sending already */
			}
		}
		/* Out of tokens with rows left: wake when the next one is. */
		if (rc == 0 && ti != NULL && ti->rate > 0 && n == room &&
		    ti->inflight < ti->max_inflight && ti->tokens < 1) {
			double w = (1 - ti->tokens) / ti->rate;
			if (w < *wake)
				*wake = w;
		}
		delivery_rows_free(rows, n);
		free(swept);
	}
	for (size_t c = 0; c < nchans; c++)
		free(chans[c]);
	free(chans);
	return rc;
}

/* Frees recorded reports, telling open boards. */
static void
reports_free(struct job *list)
{
	struct job *j, *nj;

	for (j = list; j != NULL; j = nj) {
		nj = j->next;
		board_notify(j->d.alert_id);
		job_free(j);
	}
}

static struct job *
reports_take(void)
{
	struct job *list = done_head;

	done_head = NULL;
	done_tail = &done_head;
	return list;
}

/* Records what reported, and claims nothing: at a stop. */
static void
record_now(void)
{
	struct store *st = cd->store;
	struct job *list = reports_take();

	if (list == NULL)
		return;
	if (store_begin(st) < 0 || record_all(list) < 0 ||
	    store_commit(st) < 0) {
		store_rollback(st);
		record_each(list);
	}
	reports_free(list);
}

/* The loop turn's step: see the top of the file. */
static void
pump(evutil_socket_t fd, short what, void *arg)
{
	struct store *st = cd->store;
	struct job *reports, *claimed = NULL, **tail = &claimed;
	double wake = 1e9;
	bool again = false;
	time_t now, next;

	(void)fd;
	(void)what;
	(void)arg;
	if (cd->stopping) {
		record_now();
		return;
	}
	reports = reports_take();
	if (store_begin(st) < 0 || record_all(reports) < 0 ||
	    claim_due(&tail, &wake, &again) < 0 || store_commit(st) < 0) {
		log_warnx("fan-out: %s", store_error(st));
		store_rollback(st);
		unclaim(claimed);
		claimed = NULL;
		record_each(reports);
		wake = RETRY_SECS;
		again = false;
	}
	reports_free(reports);
	start_all(claimed);
	if (again) {
		event_active(pump_ev, EV_TIMEOUT, 0);
		return;
	}
	/* Wake again for the next retry that falls due, or when a paused
	 * or rate-limited channel may send again. */
	now = daemon_now();
	next = store_next_due(st);
	if (next > 0 && (double)(next > now ? next - now : 1) < wake)
		wake = (double)(next > now ? next - now : 1);
	if (wake < 1e9) {
		wake += 0.001;
		struct timeval tv = { (time_t)wake,
		    (suseconds_t)((wake - (double)(time_t)wake) * 1e6) };
		evtimer_add(pump_ev, &tv);
	}
}

void
fanout_kick(void)
{
	if (pump_ev != NULL && !cd->stopping)
		event_active(pump_ev, EV_TIMEOUT, 0);
}

int
fanout_init(void)
{
	int requeued = 0;

	if (store_begin(cd->store) < 0 ||
	    store_deliveries_requeue(cd->store, &requeued) < 0 ||
	    (requeued > 0 && store_audit(cd->store, daemon_now(), "crisiscastd",
	    "requeued", 0, NULL, NULL, "in flight at the last stop") < 0) ||
	    store_commit(cd->store) < 0) {
		store_rollback(cd->store);
		log_warnx("fan-out: requeue: %s", store_error(cd->store));
		return -1;
	}
	if (requeued > 0)
		log_info("requeued %d deliveries that were in flight", requeued);
	pump_ev = evtimer_new(cd->base, pump, NULL);
	if (pump_ev == NULL)
		return -1;
	fanout_kick();
	return 0;
}

void
fanout_shutdown(void)
{
	if (pump_ev != NULL)
		event_free(pump_ev);
	pump_ev = NULL;
	record_now();	/* what reported but is not recorded yet */
}

int
fanout_reroute(const struct delivery_row *d, time_t now, const char **next)
{
	bool notice = strcmp(d->kind, "notice") == 0;
	const struct contact *c;
	struct new_delivery nd;

	*next = NULL;
	if (!movable(d))
		return 0;
	c = next_channel(d->member, d->channel);
	nd = (struct new_delivery){
		.member = d->member, .name = d->name, .title = d->title,
		.shelter = d->shelter, .position = d->position,
		.channel = c->channel, .address = c->address,
		.body = notice ? d->body : NULL,
		.round = d->round,
	};
	/* A notice has no page: its token is dead from the start. */
	if (store_deliveries_create(cd->store, cd->token_key, d->alert_id,
	    d->kind, &nd, 1, now, notice ? now : now + 7 * 86400) < 0 ||
	    store_audit(cd->store, now, "crisiscastd", "delivery_rerouted",
	    d->alert_id, d->member, c->channel, d->channel) < 0)
		return -1;
	*next = c->channel;
	return 0;
}
