/*
 * fanout.c: sends every delivery that is due (approval requests and alert
 * messages) through its channel's transport, and records each outcome.
 *
 * The database is the queue: a tick claims due rows (pending -> sending) in
 * one transaction, hands each to its transport, and the transport's report
 * moves the row on (sent, pending again later, or failed and rerouted to the
 * member's next channel). Rows left `sending` by a crash are requeued at
 * start (they may be repeated: they were in flight; the file transport's
 * keys make even that a no-op). This file never blocks and never sends a
 * delivery whose alert may not send.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define TICK_BATCH		256
#define MAX_ATTEMPTS		8
#define BACKOFF_BASE_SECS	2
#define BACKOFF_MAX_SECS	300

struct job {
	int64_t delivery_id;
	int64_t alert_id;
	char *member;
	char *channel;
	char *kind;
	int attempts;
	struct transport_inst *ti;
	/* The transport's report, kept until the batch is recorded. */
	enum send_outcome outcome;
	long retry_after;
	char *provider_id, *error;
	struct job *next;
};

static struct event *tick_ev;
/* Reports waiting to be recorded: all in one transaction per loop turn. */
static struct event *flush_ev;
static struct job *done_head, **done_tail = &done_head;

static void
job_free(struct job *j)
{
	free(j->member);
	free(j->channel);
	free(j->kind);
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
	bool past = false;

	if (m == NULL)
		return NULL;
	for (size_t i = 0; i < c->delivery.nchannels; i++) {
		if (!past) {
			past = strcmp(c->delivery.channels[i], from) == 0;
			continue;
		}
		for (size_t k = 0; k < m->ncontacts; k++)
			if (strcmp(m->contacts[k].channel,
			    c->delivery.channels[i]) == 0)
				return &m->contacts[k];
	}
	return NULL;
}

/*
 * Records one report inside the caller's transaction. Returns 0 (1 when
 * the row had moved on already), -1 on a database error.
 */
static int
record_outcome(struct job *j, const struct send_report *r)
{
	struct store *st = cd->store;
	time_t now = daemon_now();
	const char *err = r->error ? r->error : "unknown error";
	int rc = 0;

	switch (r->outcome) {
	case SEND_ACCEPTED:
		rc = store_delivery_sent(st, j->delivery_id, now, r->provider_id);
		if (rc == 0)
			rc = store_audit(st, now, "crisiscastd",
			    strcmp(j->kind, "approval") == 0 ? "approval_sent" :
			    strcmp(j->kind, "notice") == 0 ? "notice_sent" :
			    "delivery_sent", j->alert_id,
			    j->member, j->channel, r->provider_id);
		break;
	case SEND_TRANSIENT:
		if (j->attempts < MAX_ATTEMPTS) {
			long wait = r->retry_after > 0 ? r->retry_after :
			    backoff(j->attempts);
			rc = store_delivery_retry(st, j->delivery_id, now + wait,
			    err);
			if (rc == 0)
				rc = store_audit(st, now, "crisiscastd",
				    "delivery_retry", j->alert_id, j->member,
				    j->channel, err);
			break;
		}
		/* out of attempts: permanent */
		__attribute__((fallthrough));
	case SEND_PERMANENT: {
		const struct contact *next = strcmp(j->kind, "alert") == 0 ?
		    next_channel(j->member, j->channel) : NULL;
		rc = store_delivery_failed(st, j->delivery_id, err);
		if (rc == 0)
			rc = store_audit(st, now, "crisiscastd",
			    "delivery_failed", j->alert_id, j->member,
			    j->channel, err);
		if (rc == 0 && next != NULL) {
			struct new_delivery nd = {
				.member = j->member, .channel = next->channel,
				.address = next->address,
			};
			struct delivery_row *rows;
			size_t n;
			/* Same snapshot as the failed row, next channel. */
			rc = store_deliveries_of(st, j->alert_id, "alert", &rows,
			    &n);
			for (size_t i = 0; rc == 0 && i < n; i++) {
				if (rows[i].id != j->delivery_id)
					continue;
				nd.name = rows[i].name;
				nd.title = rows[i].title;
				nd.shelter = rows[i].shelter;
				nd.position = rows[i].position;
				nd.round = rows[i].round;
				rc = store_deliveries_create(st, cd->token_key,
				    j->alert_id, "alert", &nd, 1, now,
				    now + 7 * 86400);
			}
			if (rc == 0)
				rc = store_audit(st, now, "crisiscastd",
				    "delivery_rerouted", j->alert_id, j->member,
				    next->channel, j->channel);
			delivery_rows_free(rows, rc == 0 ? n : 0);
		}
		break;
	}
	}
	if (rc < 0)
		return -1;
	if (rc == 1)
		log_warnx("delivery %lld moved on while in flight",
		    (long long)j->delivery_id);
	log_debug("delivery %lld to %s via %s: %s", (long long)j->delivery_id,
	    j->member, j->channel, r->outcome == SEND_ACCEPTED ? "accepted" :
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

/*
 * Records every waiting report, in one transaction (one fsync for the
 * lot); if that fails, each in its own. A report that cannot be recorded
 * leaves its row `sending`, requeued at the next start.
 */
static void
flush(evutil_socket_t fd, short what, void *arg)
{
	struct store *st = cd->store;
	struct job *list = done_head, *j, *nj;
	struct send_report r;
	bool ok = true;

	(void)fd;
	(void)what;
	(void)arg;
	done_head = NULL;
	done_tail = &done_head;
	if (list == NULL)
		return;
	if (store_begin(st) < 0)
		ok = false;
	for (j = list; ok && j != NULL; j = j->next) {
		job_report(j, &r);
		if (record_outcome(j, &r) < 0)
			ok = false;
	}
	if (ok && store_commit(st) < 0)
		ok = false;
	if (!ok) {
		store_rollback(st);
		for (j = list; j != NULL; j = j->next) {
			job_report(j, &r);
			if (store_begin(st) < 0 || record_outcome(j, &r) < 0 ||
			    store_commit(st) < 0) {
				log_warnx("delivery %lld: cannot record the "
				    "outcome: %s", (long long)j->delivery_id,
				    store_error(st));
				store_rollback(st);
			}
		}
	}
	for (j = list; j != NULL; j = nj) {
		nj = j->next;
		board_notify(j->alert_id);
		job_free(j);
	}
	fanout_kick();
}

/*
 * A transport's report: frees the slot and honours a pause at once, and
 * queues the report for flush() at the end of this loop turn.
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
	if (flush_ev != NULL)
		event_active(flush_ev, EV_TIMEOUT, 0);
	else
		flush(-1, 0, NULL);
}

/* a: the delivery's alert, or NULL when it cannot be read. */
static void
start_job(struct job *j, const struct delivery_row *d,
    const struct alert_row *ap)
{
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

/*
 * Whether ti may take one more request now: below its concurrency, not
 * paused by its provider, and a token in its bucket (taken). If not, and
 * only time will change that, *wake is lowered to the seconds until then.
 */
static bool
may_send(struct transport_inst *ti, double now, double *wake)
{
	if (ti->inflight >= ti->max_inflight)
		return false;		/* a report will kick */
	if (now < ti->paused_until) {
		if (ti->paused_until - now < *wake)
			*wake = ti->paused_until - now;
		return false;
	}
	if (ti->rate > 0) {
		ti->tokens += (now - ti->refilled_at) * ti->rate;
		if (ti->tokens > ti->burst)
			ti->tokens = ti->burst;
		ti->refilled_at = now;
		if (ti->tokens < 1) {
			double w = (1 - ti->tokens) / ti->rate;
			if (w < *wake)
				*wake = w;
			return false;
		}
		ti->tokens -= 1;
	}
	return true;
}

/* Claims what is due and has room in its transport, then sends it. */
static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct store *st = cd->store;
	struct delivery_row *rows = NULL;
	size_t n = 0, nj = 0;
	struct job **jobs = NULL;
	struct delivery_row **jrows = NULL;
	time_t now = daemon_now(), next;
	double mono = mono_now(), wake = 1e9;
	bool room = false;

	(void)fd;
	(void)what;
	(void)arg;
	if (cd->stopping)
		return;
	/* Every transport full: nothing to claim until a report kicks. */
	for (size_t i = 0; i < cd->ntransports; i++)
		if (cd->transports[i].inflight < cd->transports[i].max_inflight)
			room = true;
	if (!room)
		return;
	if (store_begin(st) < 0) {
		log_warnx("fan-out: %s", store_error(st));
		goto retry;
	}
	if (store_deliveries_due(st, now, TICK_BATCH, &rows, &n) < 0)
		goto fail;
	jobs = xcalloc(n + 1, sizeof(*jobs));
	jrows = xcalloc(n + 1, sizeof(*jrows));
	for (size_t i = 0; i < n; i++) {
		struct transport_inst *ti = transport_for(rows[i].channel);
		int rc;
		if (ti == NULL) {
			/* A channel removed from the config: cannot send. */
			if (store_delivery_claim(st, rows[i].id) < 0 ||
			    store_delivery_failed(st, rows[i].id,
			    "channel not configured") < 0)
				goto fail;
			continue;
		}
		if (!may_send(ti, mono, &wake))
			continue;
		if ((rc = store_delivery_claim(st, rows[i].id)) < 0)
			goto fail;
		if (rc == 1) {
			if (ti->rate > 0)
				ti->tokens += 1;
			continue;
		}
		ti->inflight++;	/* reserved; the report frees it */
		if (strcmp(rows[i].kind, "alert") == 0) {
			static const char *const from[] = { ALERT_APPROVED,
			    NULL };
			rc = store_alert_transition(st, rows[i].alert_id, from,
			    ALERT_SENDING, now, NULL, NULL, NULL, NULL);
			if (rc < 0 || (rc == 0 && store_audit(st, now,
			    "crisiscastd", "sending", rows[i].alert_id, NULL,
			    NULL, NULL) < 0))
				goto fail;
		}
		struct job *j = xcalloc(1, sizeof(*j));
		j->delivery_id = rows[i].id;
		j->alert_id = rows[i].alert_id;
		j->member = xstrdup(rows[i].member);
		j->channel = xstrdup(rows[i].channel);
		j->kind = xstrdup(rows[i].kind);
		j->attempts = rows[i].attempts + 1;
		j->ti = ti;
		jrows[nj] = &rows[i];
		jobs[nj++] = j;
	}
	if (store_commit(st) < 0)
		goto fail;
	/* The rows come grouped by alert: read each alert once. */
	struct alert_row a = {0};
	int64_t a_id = 0;
	int a_rc = 1;
	for (size_t i = 0; i < nj; i++) {
		if (jrows[i]->alert_id != a_id) {
			alert_row_free(&a);
			a_id = jrows[i]->alert_id;
			a_rc = store_alert_get(st, a_id, &a);
		}
		start_job(jobs[i], jrows[i], a_rc == 0 ? &a : NULL);
	}
	alert_row_free(&a);
	free(jobs);
	free(jrows);
	delivery_rows_free(rows, n);
	/* Wake again for the next retry that falls due, or when a paused
	 * or rate-limited channel may send again. */
	next = store_next_due(st);
	if (next > 0 && (double)(next > now ? next - now : 1) < wake)
		wake = (double)(next > now ? next - now : 1);
	if (wake < 1e9) {
		wake += 0.001;
		struct timeval tv = { (time_t)wake,
		    (suseconds_t)((wake - (double)(time_t)wake) * 1e6) };
		evtimer_add(tick_ev, &tv);
	}
	return;
fail:
	log_warnx("fan-out: %s", store_error(st));
	store_rollback(st);
	for (size_t i = 0; i < nj; i++) {
		jobs[i]->ti->inflight--;
		job_free(jobs[i]);
	}
	free(jobs);
	free(jrows);
	delivery_rows_free(rows, n);
retry:
	{
		struct timeval tv = { 5, 0 };
		evtimer_add(tick_ev, &tv);
	}
}

void
fanout_kick(void)
{
	if (tick_ev != NULL && !cd->stopping)
		event_active(tick_ev, EV_TIMEOUT, 0);
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
	tick_ev = evtimer_new(cd->base, tick, NULL);
	flush_ev = evtimer_new(cd->base, flush, NULL);
	fanout_kick();
	return 0;
}

void
fanout_shutdown(void)
{
	if (tick_ev != NULL)
		event_free(tick_ev);
	tick_ev = NULL;
	if (flush_ev != NULL)
		event_free(flush_ev);
	flush_ev = NULL;
	flush(-1, 0, NULL);	/* what reported but is not recorded yet */
}

int
fanout_reroute(const struct delivery_row *d, time_t now, const char **next)
{
	const struct contact *c;
	struct new_delivery nd;

	*next = NULL;
	if (strcmp(d->kind, "alert") != 0 ||
	    (c = next_channel(d->member, d->channel)) == NULL)
		return 0;
	nd = (struct new_delivery){
		.member = d->member, .name = d->name, .title = d->title,
		.shelter = d->shelter, .position = d->position,
		.channel = c->channel, .address = c->address,
		.round = d->round,
	};
	if (store_deliveries_create(cd->store, cd->token_key, d->alert_id,
	    "alert", &nd, 1, now, now + 7 * 86400) < 0 ||
	    store_audit(cd->store, now, "crisiscastd", "delivery_rerouted",
	    d->alert_id, d->member, c->channel, d->channel) < 0)
		return -1;
	*next = c->channel;
	return 0;
}
