/*
 * approval.c: the approval chain's timers (SPEC §5 step 2). One timer per
 * pending alert, armed for the next thing due: the next approver in
 * approval.approvers is asked too after each step_timeout (the earlier
 * links stay live), and after link_ttl without a decision the alert is
 * expired, every approval link dies and the sender gets a notice.
 *
 * Timers live in memory only; the database holds the chain (alerts.step,
 * alerts.approval_expires_at), so approval_init rebuilds them at start and
 * acts at once on what fell due while the daemon was down. Every action is
 * one transaction that re-checks the alert's state and step, so a timer
 * that fires late, twice, or after a decision does nothing. This file never
 * decides for anyone and never sends: fan-out sends what it makes due.
 */
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "daemon.h"

#define RETRY_SECS	5	/* after a database error */

static void run_alert(int64_t id);

static struct alert_timers timers = { .fire = run_alert };


static const char *
tag_label(const char *tag, char *buf, size_t bufsz)
{
	const struct tag *t = rules_tag(&cd->site.rules, tag);

	if (t != NULL)
		return t->label;
	snprintf(buf, bufsz, "【%s】", tag);
	return buf;
}

/*
 * Asks approver a->step + 1 too, if the step is still a->step. Returns 0
 * done, 1 nothing to do (decided, or the step was taken before a restart),
 * -1 database error (rolled back).
 */
static int
escalate(const struct alert_row *a, time_t now)
{
	const struct config *c = &cd->site.cfg;
	size_t next = (size_t)a->step + 1;
	const struct member *m = roster_find(&cd->site.roster,
	    c->approval.approvers[next]);
	int rc;

	if (store_begin(cd->store) < 0)
		return -1;
	if ((rc = store_alert_step_advance(cd->store, a->id, a->step)) != 0) {
		store_rollback(cd->store);
		return rc;
	}
	if (store_audit(cd->store, now, "crisiscastd", "approval_escalated",
	    a->id, c->approval.approvers[next], NULL,
	    m ? m->title : NULL) < 0 ||
	    request_approval(a, next, now) < 0 ||
	    store_commit(cd->store) < 0) {
		store_rollback(cd->store);
		return -1;
	}
	log_info("alert %lld: no decision within %lds, asking %s too",
	    (long long)a->id, c->approval.step_timeout,
	    c->approval.approvers[next]);
	return 0;
}

/*
 * The sender's notice: one delivery of kind notice on their first delivery
 * channel, its text in the row. Inside the caller's transaction.
 */
static int
notify_sender(const struct alert_row *a, time_t expires, time_t now)
{
	const struct config *c = &cd->site.cfg;
	const struct member *m = roster_find(&cd->site.roster, a->sender);
	const struct contact *ct = NULL;
	char lbuf[128];
	char *body;
	int rc;

	for (size_t i = 0; m != NULL && ct == NULL &&
	    i < c->delivery.nchannels; i++)
		for (size_t k = 0; ct == NULL && k < m->ncontacts; k++)
			if (strcmp(m->contacts[k].channel,
			    c->delivery.channels[i]) == 0)
				ct = &m->contacts[k];
	if (ct == NULL) {
		log_warnx("alert %lld: sender %s cannot be told it expired",
		    (long long)a->id, a->sender);
		return store_audit(cd->store, now, "crisiscastd",
		    "notice_unreachable", a->id, a->sender, NULL,
		    "no contact on delivery.channels");
	}
	body = chain_expired_notice(a->id, tag_label(a->tag, lbuf,
	    sizeof(lbuf)), a->drill, (long)(expires - a->created_at));
	struct new_delivery nd = {
		.member = m->id, .name = m->name, .title = m->title,
		.channel = ct->channel, .address = ct->address,
		.body = body,
		.state = store_is_suspended(cd->store, m->id, NULL) ?
		    DLV_SUSPENDED : NULL,
	};
	/* The notice has no page: its token is dead from the start. */
	rc = store_deliveries_create(cd->store, cd->token_key, a->id, "notice",
	    &nd, 1, now, now);
	free(body);
	return rc;
}

/*
 * Expires the alert if it is still pending: links revoked, unsent requests
 * cancelled, the sender told. 0 done, 1 decided already, -1 error.
 */
static int
expire(const struct alert_row *a, time_t expires, time_t now)
{
	static const char *const from[] = { ALERT_PENDING, NULL };
	char ttl[32], detail[64];
	int rc, stopped = 0;

	format_duration((long)(expires - a->created_at), ttl, sizeof(ttl));
	snprintf(detail, sizeof(detail), "no decision within %s", ttl);
	if (store_begin(cd->store) < 0)
		return -1;
	rc = store_alert_transition(cd->store, a->id, from, ALERT_EXPIRED, now,
	    NULL, NULL, NULL, NULL);
	if (rc != 0) {
		store_rollback(cd->store);
		return rc;
	}
	if (store_tokens_revoke_alert(cd->store, a->id, "approval", now) < 0 ||
	    store_deliveries_stop(cd->store, a->id, "approval", DLV_CANCELLED,
	    &stopped) < 0 ||
	    store_audit(cd->store, now, "crisiscastd", "expired", a->id, NULL,
	    NULL, detail) < 0 ||
	    notify_sender(a, expires, now) < 0 ||
	    store_commit(cd->store) < 0) {
		store_rollback(cd->store);
		return -1;
	}
	log_info("alert %lld expired: %s; %d unsent approval requests "
	    "cancelled", (long long)a->id, detail, stopped);
	return 0;
}

/*
 * Does whatever of the alert's chain is due now, step by step, then arms
 * its timer for the next thing due, or drops it once the alert is no
 * longer pending.
 */
static void
run_alert(int64_t id)
{
	const struct config *c = &cd->site.cfg;
	bool acted = false;

	/* Each pass acts once; the chain is finite, so is this loop. */
	for (size_t pass = 0; pass <= c->approval.napprovers + 1; pass++) {
		struct alert_row a;
		struct chain_clock clk;
		time_t now = daemon_now(), when;
		int rc = store_alert_get(cd->store, id, &a);

		if (rc != 0 || strcmp(a.state, ALERT_PENDING) != 0) {
			if (rc < 0) {
				log_warnx("approval chain of alert %lld: %s",
				    (long long)id, store_error(cd->store));
				alert_timer_arm(&timers, id, now + RETRY_SECS);
			} else
				alert_timer_disarm(&timers, id);
			if (rc == 0)
				alert_row_free(&a);
			break;
		}
		clk = (struct chain_clock){
			.created_at = a.created_at,
			.expires_at = a.approval_expires_at > 0 ?
			    a.approval_expires_at :
			    a.created_at + c->approval.link_ttl,
			.step = a.step,
			.napprovers = c->approval.napprovers,
			.step_timeout = c->approval.step_timeout,
		};
		switch (chain_due(&clk, now, &when)) {
		case CHAIN_WAIT:
			alert_timer_arm(&timers, id, when);
			alert_row_free(&a);
			goto out;
		case CHAIN_ESCALATE:
			rc = escalate(&a, now);
			break;
		case CHAIN_EXPIRE:
			rc = expire(&a, clk.expires_at, now);
			break;
		}
		alert_row_free(&a);
		if (rc < 0) {
			log_warnx("approval chain of alert %lld: %s; again in "
			    "%ds", (long long)id, store_error(cd->store),
			    RETRY_SECS);
			alert_timer_arm(&timers, id, now + RETRY_SECS);
			break;
		}
		acted |= rc == 0;
	}
out:
	if (acted)
		fanout_kick();
}

int
approval_init(void)
{
	struct alert_row *v;
	size_t n;

	if (store_alert_list(cd->store, ALERT_PENDING, 0, &v, &n) < 0) {
		log_warnx("approval chain: %s", store_error(cd->store));
		return -1;
	}
	/* Oldest first: the list comes newest first. */
	for (size_t i = n; i-- > 0;)
		run_alert(v[i].id);
	for (size_t i = 0; i < n; i++)
		alert_row_free(&v[i]);
	free(v);
	if (n > 0)
		log_info("approval chain: %zu alerts pending approval", n);
	return 0;
}

void
approval_alert_drafted(int64_t alert)
{
	run_alert(alert);
	board_notify(alert);
}

void
approval_alert_decided(int64_t alert)
{
	alert_timer_disarm(&timers, alert);
	board_notify(alert);
}

void
approval_shutdown(void)
{
	alert_timers_clear(&timers);
}
