/*
 * metrics.c: GET /metrics in the Prometheus text format (0.0.4), behind
 * the board's access rule (loopback or the board token).
 *
 * Gauges and counters are computed at scrape time: a few aggregate queries
 * over SQLite (the state is there and only there) plus the transports'
 * in-memory dispatcher state (in flight, provider pauses). Counters taken
 * from the audit table only grow, since the audit is append-only. This file
 * never writes, never blocks beyond those reads, and every name it prints
 * has a HELP and a TYPE line (promtool check metrics).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"

/* Histogram buckets, seconds. */
static const double latency_buckets[] = {
	1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
};
static const double approval_buckets[] = {
	30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
};

/* A label value, escaped as the text format wants. */
static void
label(struct buf *b, const char *v)
{
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *v);
	}
}

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Runs sql; calls row() for each result row. -1 on a database error. */
static int
query(const char *sql, void (*row)(sqlite3_stmt *, void *), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store_db(cd->store), sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		log_warnx("metrics: %s", sqlite3_errmsg(store_db(cd->store)));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row(st, arg);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("metrics: %s", sqlite3_errmsg(store_db(cd->store)));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static const char *const alert_states[] = {
	ALERT_PENDING, ALERT_APPROVED, ALERT_SENDING, ALERT_COMPLETE,
	ALERT_REJECTED, ALERT_EXPIRED, ALERT_CANCELLED,
};

static void
state_row(sqlite3_stmt *st, void *arg)
{
	long long *n = arg;
	const char *s = (const char *)sqlite3_column_text(st, 0);

	for (size_t i = 0; s != NULL && i < nitems(alert_states); i++)
		if (strcmp(alert_states[i], s) == 0)
			n[i] = sqlite3_column_int64(st, 1);
}

/* (channel, result, count) rows, printed as name{transport,result}. */
struct labelled {
	struct buf *b;
	const char *name;
};

static void
delivery_row(sqlite3_stmt *st, void *arg)
{
	struct labelled *l = arg;
	const char *ch = (const char *)sqlite3_column_text(st, 0);

	buf_printf(l->b, "%s{transport=\"", l->name);
	label(l->b, ch ? ch : "-");
	buf_adds(l->b, "\",result=\"");
	label(l->b, (const char *)sqlite3_column_text(st, 1));
	buf_printf(l->b, "\"} %lld\n", (long long)sqlite3_column_int64(st, 2));
}

static void
one_number(sqlite3_stmt *st, void *arg)
{
	*(long long *)arg = sqlite3_column_int64(st, 0);
}

/* Histogram of the values sql selects (one column, seconds). */
struct hist {
	const double *le;
	size_t nle;
	long long *count;	/* nle + 1: the last is +Inf */
	double sum;
};

static void
hist_row(sqlite3_stmt *st, void *arg)
{
	struct hist *h = arg;
	double v = sqlite3_column_double(st, 0);

	if (v < 0)
		v = 0;
	h->sum += v;
	for (size_t i = 0; i < h->nle; i++)
		if (v <= h->le[i])
			h->count[i]++;
	h->count[h->nle]++;
}

static void
histogram(struct buf *b, const char *name, const char *help,
    const double *le, size_t nle, const char *sql)
{
	long long count[16] = {0};
	struct hist h = { le, nle, count, 0 };

	if (nle + 1 > nitems(count) || query(sql, hist_row, &h) < 0)
		return;
	head(b, name, "histogram", help);
	for (size_t i = 0; i < nle; i++)
		buf_printf(b, "%s_bucket{le=\"%g\"} %lld\n", name, le[i],
		    count[i]);
	buf_printf(b, "%s_bucket{le=\"+Inf\"} %lld\n%s_sum %.0f\n"
	    "%s_count %lld\n", name, count[nle], name, h.sum, name,
	    count[nle]);
}

struct channel_count {
	const char *channel;
	long long n;
};

static void
queue_row(sqlite3_stmt *st, void *arg)
{
	struct channel_count *v = arg;
	const char *ch = (const char *)sqlite3_column_text(st, 0);

	for (size_t i = 0; ch != NULL && v[i].channel != NULL; i++)
		if (strcmp(v[i].channel, ch) == 0)
			v[i].n = sqlite3_column_int64(st, 1);
}

/* The whole exposition into b. */
static void
render(struct buf *b)
{
	long long states[nitems(alert_states)] = {0}, n = 0;
	struct labelled l = { b, NULL };
	struct channel_count *q;

	head(b, "crisiscast_alerts", "gauge", "Alerts by state.");
	query("SELECT state, count(*) FROM alerts GROUP BY state", state_row,
	    states);
	for (size_t i = 0; i < nitems(alert_states); i++)
		buf_printf(b, "crisiscast_alerts{state=\"%s\"} %lld\n",
		    alert_states[i], states[i]);

	/* From the audit: each send outcome is one row there. */
	head(b, "crisiscast_deliveries_total", "counter",
	    "Send outcomes (alerts, approval requests and notices) by "
	    "transport channel and result (sent, failed, retry).");
	l.name = "crisiscast_deliveries_total";
	query("SELECT channel, CASE action WHEN 'delivery_failed' THEN 'failed' "
	    "WHEN 'delivery_retry' THEN 'retry' ELSE 'sent' END AS result, "
	    "count(*) FROM audit WHERE action IN ('delivery_sent', "
	    "'approval_sent', 'notice_sent', 'delivery_failed', "
	    "'delivery_retry') GROUP BY channel, result ORDER BY channel, result",
	    delivery_row, &l);

	histogram(b, "crisiscast_delivery_latency_seconds",
	    "Seconds from an alert's approval to each of its messages sent.",
	    latency_buckets, nitems(latency_buckets),
	    "SELECT d.sent_at - a.decided_at FROM deliveries d JOIN alerts a "
	    "ON a.id = d.alert_id WHERE d.kind = 'alert' AND d.sent_at IS NOT "
	    "NULL AND a.decided_at IS NOT NULL");

	n = 0;
	head(b, "crisiscast_confirmations_total", "counter",
	    "Recipients who confirmed an alert.");
	query("SELECT count(*) FROM deliveries WHERE kind = 'alert' AND "
	    "confirmed_at IS NOT NULL", one_number, &n);
	buf_printf(b, "crisiscast_confirmations_total %lld\n", n);

	n = 0;
	head(b, "crisiscast_reads_total", "counter",
	    "Recipients who opened an alert's page.");
	query("SELECT count(*) FROM deliveries WHERE kind = 'alert' AND "
	    "read_at IS NOT NULL", one_number, &n);
	buf_printf(b, "crisiscast_reads_total %lld\n", n);

	n = 0;
	head(b, "crisiscast_renotify_rounds_total", "counter",
	    "Re-notify rounds to the unconfirmed.");
	query("SELECT count(*) FROM audit WHERE action = 'renotify_round'",
	    one_number, &n);
	buf_printf(b, "crisiscast_renotify_rounds_total %lld\n", n);

	q = xcalloc(cd->ntransports + 1, sizeof(*q));
	for (size_t i = 0; i < cd->ntransports; i++)
		q[i].channel = cd->transports[i].channel;
	query("SELECT channel, count(*) FROM deliveries WHERE state = "
	    "'pending' GROUP BY channel", queue_row, q);
	head(b, "crisiscast_transport_queue_depth", "gauge",
	    "Deliveries waiting to be sent, by transport channel.");
	for (size_t i = 0; i < cd->ntransports; i++) {
		buf_adds(b, "crisiscast_transport_queue_depth{transport=\"");
		label(b, q[i].channel);
		buf_printf(b, "\"} %lld\n", q[i].n);
	}
	free(q);
	head(b, "crisiscast_transport_inflight", "gauge",
	    "Requests in flight to the provider, by transport channel.");
	for (size_t i = 0; i < cd->ntransports; i++) {
		buf_adds(b, "crisiscast_transport_inflight{transport=\"");
		label(b, cd->transports[i].channel);
		buf_printf(b, "\"} %d\n", cd->transports[i].inflight);
	}
	head(b, "crisiscast_rate_limit_waits_total", "counter",
	    "Pauses a provider asked for (429 Retry-After, rate limit "
	    "reset) since the daemon started, by transport channel.");
	for (size_t i = 0; i < cd->ntransports; i++) {
		buf_adds(b, "crisiscast_rate_limit_waits_total{transport=\"");
		label(b, cd->transports[i].channel);
		buf_printf(b, "\"} %lu\n", cd->transports[i].pauses);
	}

	{
		unsigned long queued, groups;
		ack_counts(&queued, &groups);
		head(b, "crisiscast_page_confirmations_total", "counter",
		    "Confirmations posted on recipient pages since the daemon "
		    "started.");
		buf_printf(b, "crisiscast_page_confirmations_total %lu\n",
		    queued);
		head(b, "crisiscast_confirmation_commits_total", "counter",
		    "Transactions that recorded those confirmations; "
		    "confirmations that arrive together share one commit.");
		buf_printf(b, "crisiscast_confirmation_commits_total %lu\n",
		    groups);
	}
	{
		unsigned long thread, loop;
		checkpoint_counts(&thread, &loop);
		head(b, "crisiscast_wal_checkpoints_total", "counter",
		    "WAL checkpoints since the daemon started: on the "
		    "checkpoint thread, or on the loop when that thread "
		    "could not start.");
		buf_printf(b, "crisiscast_wal_checkpoints_total{where=\"thread\"}"
		    " %lu\n", thread);
		buf_printf(b, "crisiscast_wal_checkpoints_total{where=\"loop\"}"
		    " %lu\n", loop);
	}
	head(b, "crisiscast_wal_syncs_total", "counter",
	    "WAL syncs run by the sync thread for group-committed "
	    "confirmations; one sync covers every group committed while the "
	    "previous one ran.");
	buf_printf(b, "crisiscast_wal_syncs_total %lu\n", walsync_count());

	/* Decisions by a person (policy approvals wait for nobody). */
	histogram(b, "crisiscast_approval_wait_seconds",
	    "Seconds from an alert's draft to its approver's decision.",
	    approval_buckets, nitems(approval_buckets),
	    "SELECT decided_at - created_at FROM alerts WHERE decided_at IS "
	    "NOT NULL AND decided_by IS NOT NULL AND decided_by <> 'policy'");
}

static void
metrics(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out;
	struct buf b = {0};

	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_add_header(h, "Allow", "GET, HEAD");
		evhttp_send_error(req, HTTP_BADMETHOD, NULL);
		return;
	}
	if (board_access(req) < 0)
		return;
	render(&b);
	evhttp_add_header(h, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if ((out = evbuffer_new()) == NULL) {
		buf_free(&b);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(out, b.data ? b.data : "", b.len);
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
	buf_free(&b);
}

void
metrics_init(void)
{
	httpd_route("/metrics", metrics, NULL);
}
