/*
 * board.c: the status board for a large screen (SPEC §6, seed 001): GET
 * /board, a Japanese page of every active alert (counts per group and per
 * shelter, time since approval, the 25/50/75/100 % confirmation times, the
 * unconfirmed names), and GET /board/events, Server-Sent Events that carry
 * the same content whenever something changes, so the page's script
 * replaces it without a reload. Without JavaScript the page refreshes
 * itself (meta refresh in <noscript>).
 *
 * Also the access rule of /board and /metrics (board_access): loopback
 * when board.loopback_trusted, otherwise (and from anywhere) the token of
 * board.token_file. This file never writes to the database, never blocks
 * (a client whose socket does not drain is dropped), and holds at most
 * BOARD_MAX_CLIENTS event streams.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "netaddr.h"

#define BOARD_MAX_CLIENTS	32
#define BOARD_MAX_ALERTS	12	/* newest first */
#define BOARD_MAX_NAMES		200	/* unconfirmed names per alert */
#define BOARD_COALESCE_MS	250	/* at most 4 events a second */
#define BOARD_KEEPALIVE_SECS	15
#define BOARD_WATCH_SECS	2	/* audit watermark check */
#define BOARD_STREAM_TIMEOUT	(BOARD_KEEPALIVE_SECS * 4)
#define BOARD_MAX_BACKLOG	(1024 * 1024)	/* unsent bytes per client */
#define BOARD_REFRESH_SECS	15	/* no-JavaScript fallback */
#define RECENT_SECS		86400	/* complete alerts shown this long */
#define TOKEN_MIN		16
#define TOKEN_MAX		256
#define COOKIE_NAME		"crisiscast_board"

struct client {
	struct evhttp_request *req;	/* NULL: free slot */
	struct evhttp_connection *conn;
};

static struct client clients[BOARD_MAX_CLIENTS];
static size_t nclients;
static char *token;			/* NULL: loopback only */
static struct event *coalesce_ev, *keepalive_ev, *watch_ev;
static int64_t audit_mark;
static unsigned long event_seq;

/* ------------------------------------------------------------------ */
/* Access. */

/* true when the request carries the board token (query, cookie or an
 * Authorization: Bearer header). Constant time in the token's bytes. */
static bool
token_matches(const char *given, size_t len)
{
	size_t want;

	if (token == NULL || given == NULL)
		return false;
	want = strlen(token);
	return len == want && crypto_equal(given, token, want);
}

static bool
request_has_token(struct evhttp_request *req, bool *from_query)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *q = u ? evhttp_uri_get_query(u) : NULL;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *auth = evhttp_find_header(in, "Authorization");
	const char *cookie = evhttp_find_header(in, "Cookie");
	bool ok = false;

	*from_query = false;
	if (token == NULL)
		return false;
	if (q != NULL && strlen(q) <= 2 * TOKEN_MAX) {
		struct evkeyvalq args = {0};	/* a TAILQ: empty when zeroed */
		const char *t;
		if (evhttp_parse_query_str(q, &args) == 0 &&
		    (t = evhttp_find_header(&args, "token")) != NULL &&
		    token_matches(t, strlen(t)))
			ok = *from_query = true;
		evhttp_clear_headers(&args);
	}
	if (!ok && auth != NULL && strncmp(auth, "Bearer ", 7) == 0)
		ok = token_matches(auth + 7, strlen(auth + 7));
	for (const char *p = cookie; !ok && p != NULL && *p != '\0'; ) {
		const char *end;
		while (*p == ' ')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if (strncmp(p, COOKIE_NAME "=", sizeof(COOKIE_NAME)) == 0) {
			const char *v = p + sizeof(COOKIE_NAME);
			ok = token_matches(v, (size_t)(end - v));
		}
		p = *end == ';' ? end + 1 : NULL;
	}
	return ok;
}

static void
forbidden(struct evhttp_request *req)
{
	static const char body[] = "<!DOCTYPE html>\n<html lang=\"ja\"><head>"
	    "<meta charset=\"utf-8\"><title>表示できません</title></head><body>"
	    "<h1>表示できません</h1><p>この画面は庁内の端末から、または"
	    "状況ボード用のトークン付きのアドレスで開いてください。</p>"
	    "</body></html>\n";
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'");
	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(b, body, sizeof(body) - 1);
	evhttp_send_reply(req, 403, "Forbidden", b);
	evbuffer_free(b);
}

/* Contract in daemon.h. */
int
board_access(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port = 0;
	bool from_query;

	if (c != NULL)
		evhttp_connection_get_peer(c, &addr, &port);
	if (cd->site.cfg.board.loopback_trusted && netaddr_is_loopback(addr))
		return 0;
	if (request_has_token(req, &from_query)) {
		if (from_query) {
			/* The page's event stream and reloads carry it. */
			char *v = xasprintf(COOKIE_NAME "=%s; Path=/board; "
			    "HttpOnly; SameSite=Strict%s", token,
			    strncmp(cd->site.cfg.public_url, "https:", 6) == 0 ?
			    "; Secure" : "");
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Set-Cookie", v);
			free(v);
		}
		return 0;
	}
	log_info("http: %s refused to %s", evhttp_request_get_uri(req),
	    addr ? addr : "-");
	forbidden(req);
	return -1;
}

/* ------------------------------------------------------------------ */
/* The content. */

static void
esc(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		case '\r': buf_adds(b, "&#13;"); break;	/* an SSE line end */
		default: buf_addc(b, *s); break;
		}
	}
}

/* "1時間2分3秒", the same as the page's script writes. */
static void
elapsed(struct buf *b, long s)
{
	if (s < 0)
		s = 0;
	if (s >= 3600)
		buf_printf(b, "%ld時間", s / 3600);
	if (s >= 60)
		buf_printf(b, "%ld分", s % 3600 / 60);
	buf_printf(b, "%ld秒", s % 60);
}

static void
clock_hms(struct buf *b, time_t t)
{
	struct tm tm;

	jst_tm(t, &tm);
	buf_printf(b, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char *
state_ja(const char *s)
{
	return strcmp(s, ALERT_PENDING) == 0 ? "承認待ち" :
	    strcmp(s, ALERT_APPROVED) == 0 ? "承認済み" :
	    strcmp(s, ALERT_SENDING) == 0 ? "送信中" :
	    strcmp(s, ALERT_COMPLETE) == 0 ? "完了" : s;
}

/* One recipient: their rows (one per channel tried) folded together. */
struct person {
	const struct delivery_row *d;	/* the first row */
	bool sent, read, confirmed, suspended, failed;
	time_t confirmed_at;
};

static int
cmp_member(const void *x, const void *y)
{
	const struct delivery_row *a = *(const struct delivery_row *const *)x;
	const struct delivery_row *b = *(const struct delivery_row *const *)y;
	int c = strcmp(a->member, b->member);

	return c != 0 ? c : (a->position > b->position) -
	    (a->position < b->position);
}

static int
cmp_position(const void *x, const void *y)
{
	const struct person *a = x, *b = y;

	return (a->d->position > b->d->position) -
	    (a->d->position < b->d->position);
}

static int
cmp_time(const void *x, const void *y)
{
	time_t a = *(const time_t *)x, b = *(const time_t *)y;

	return (a > b) - (a < b);
}

/* The recipients of the alert rows `rows`, in send order. Caller frees. */
static struct person *
people_of(const struct delivery_row *rows, size_t n, size_t *np)
{
	const struct delivery_row **v = xcalloc(n + 1, sizeof(*v));
	struct person *p = xcalloc(n + 1, sizeof(*p));
	size_t k = 0, m = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].kind, "alert") == 0)
			v[k++] = &rows[i];
	qsort(v, k, sizeof(*v), cmp_member);
	for (size_t i = 0; i < k; i++) {
		const struct delivery_row *d = v[i];
		struct person *q;
		if (m == 0 || strcmp(p[m - 1].d->member, d->member) != 0)
			p[m++].d = d;
		q = &p[m - 1];
		q->sent |= strcmp(d->state, DLV_SENT) == 0;
		q->read |= d->read_at > 0 || d->confirmed_at > 0;
		q->suspended |= strcmp(d->state, DLV_SUSPENDED) == 0;
		q->failed |= strcmp(d->state, DLV_FAILED) == 0;
		if (d->confirmed_at > 0 && (!q->confirmed ||
		    d->confirmed_at < q->confirmed_at)) {
			q->confirmed = true;
			q->confirmed_at = d->confirmed_at;
		}
	}
	/* Failed only when no other channel got through or is still due. */
	for (size_t i = 0; i < m; i++)
		if (p[i].sent)
			p[i].failed = false;
	qsort(p, m, sizeof(*p), cmp_position);
	free(v);
	*np = m;
	return p;
}

struct tally {
	size_t all, read, confirmed;
};

static void
tally_row(struct buf *b, const char *name, const struct tally *t,
    const char *extra)
{
	buf_adds(b, "<tr><th>");
	esc(b, name);
	buf_printf(b, "</th><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
	    "<td class=\"n%s\">%zu</td>", t->all, t->read,
	    t->confirmed == t->all ? " ok" : "", t->confirmed);
	if (extra != NULL)
		buf_adds(b, extra);
	buf_adds(b, "</tr>\n");
}

static void
tally_add(struct tally *t, const struct person *p)
{
	t->all++;
	t->read += p->read;
	t->confirmed += p->confirmed;
}

/* Readiness of one shelter from alert_describe's "shelters", if given:
 * an object naming the shelter (id or name) with a boolean "ready",
 * ready_count and min_ready. */
static const cJSON *
readiness(const cJSON *shelters, const struct shelter *sh)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, shelters) {
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(it,
		    "name"));
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(it,
		    "id"));
		if ((n != NULL && strcmp(n, sh->name) == 0) ||
		    (id != NULL && strcmp(id, sh->id) == 0))
			return it;
	}
	return NULL;
}

static void
render_alert(struct buf *b, const struct alert_row *a, time_t now)
{
	const struct site *s = &cd->site;
	const struct tag *t = rules_tag(&s->rules, a->tag);
	const struct member *sender = roster_find(&s->roster, a->sender);
	struct delivery_row *rows = NULL;
	struct person *p;
	size_t n = 0, np, nconf = 0, shown = 0;
	struct tally all = {0};
	time_t *conf;
	cJSON *desc = cJSON_CreateObject();
	const cJSON *shelters;
	struct buf errs = {0};
	bool approved = strcmp(a->state, ALERT_PENDING) != 0 &&
	    a->decided_at > 0;

	if (store_deliveries_of(cd->store, a->id, "alert", &rows, &n) < 0) {
		log_warnx("board: alert %lld: %s", (long long)a->id,
		    store_error(cd->store));
		n = 0;
	}
	/* Shelter readiness, when alert_describe provides it. */
	if (alert_describe(a->id, false, desc, &errs) < 0)
		log_warnx("board: alert %lld: describe failed",
		    (long long)a->id);
	buf_free(&errs);
	shelters = cJSON_GetObjectItem(desc, "shelters");
	/* "readiness": the tag asks shelters to report ready at all. */
	if (!cJSON_IsArray(shelters) ||
	    !cJSON_IsTrue(cJSON_GetObjectItem(desc, "readiness")))
		shelters = NULL;
	p = people_of(rows, n, &np);
	conf = xcalloc(np + 1, sizeof(*conf));
	for (size_t i = 0; i < np; i++) {
		tally_add(&all, &p[i]);
		if (p[i].confirmed)
			conf[nconf++] = p[i].confirmed_at;
	}
	qsort(conf, nconf, sizeof(*conf), cmp_time);

	buf_printf(b, "<section class=\"alert%s\" data-alert=\"%lld\">\n",
	    a->drill ? " is-drill" : "", (long long)a->id);
	if (a->drill)
		buf_adds(b, "<p class=\"drill\">【訓練】 これは訓練です</p>\n");
	buf_adds(b, "<div class=\"head\"><h2>");
	esc(b, t ? t->label : a->tag);
	buf_printf(b, " <span class=\"no\">No.%lld</span></h2>"
	    "<p class=\"state st-%s\">%s</p><p class=\"since\">",
	    (long long)a->id, strcmp(a->state, ALERT_PENDING) == 0 ? "pending" :
	    "live", state_ja(a->state));
	if (approved) {
		buf_printf(b, "承認から <span class=\"clock\" data-since=\"%lld\">",
		    (long long)a->decided_at);
		elapsed(b, (long)(now - a->decided_at));
	} else {
		buf_printf(b, "起案から <span class=\"clock\" data-since=\"%lld\">",
		    (long long)a->created_at);
		elapsed(b, (long)(now - a->created_at));
	}
	buf_adds(b, "</span></p><p class=\"who\">発信 ");
	esc(b, sender ? sender->title : "");
	buf_adds(b, " ");
	esc(b, sender ? sender->name : a->sender);
	buf_adds(b, "</p></div>\n");

	/* The big figures and the milestones. */
	buf_printf(b, "<div class=\"cols\"><div class=\"col\">"
	    "<p class=\"big\"><span class=\"label\">確認</span> "
	    "<span class=\"confirmed\" data-confirmed=\"%zu\">%zu</span>"
	    "<span class=\"of\"> / %zu 名</span></p>\n"
	    "<p class=\"pct\">%zu%%</p>"
	    "<p class=\"mid\">既読 <span class=\"read\">%zu</span> 名</p>\n",
	    all.confirmed, all.confirmed, all.all,
	    all.all ? all.confirmed * 100 / all.all : 0, all.read);
	{
		size_t sent = 0, pend = 0, fail = 0, susp = 0;
		for (size_t i = 0; i < np; i++) {
			sent += p[i].sent;
			susp += p[i].suspended && !p[i].sent;
			fail += p[i].failed && !p[i].suspended;
			pend += !p[i].sent && !p[i].failed && !p[i].suspended;
		}
		buf_printf(b, "<p class=\"mid\">送信済み %zu 名", sent);
		if (pend)
			buf_printf(b, "・送信待ち %zu 名", pend);
		if (fail)
			buf_printf(b, "・<span class=\"bad\">送信失敗 %zu 名"
			    "</span>", fail);
		if (susp)
			buf_printf(b, "・停止中 %zu 名", susp);
		buf_adds(b, "</p>\n");
	}
	buf_adds(b, "<table class=\"ms\"><tr><th>確認率</th><th>到達</th>"
	    "<th>時刻</th></tr>\n");
	for (int pct = 25; pct <= 100; pct += 25) {
		size_t need = (np * (size_t)pct + 99) / 100;
		buf_printf(b, "<tr><th>%d%%</th>", pct);
		if (np > 0 && need > 0 && need <= nconf && approved) {
			time_t at = conf[need - 1];
			buf_adds(b, "<td class=\"ok\">承認から ");
			elapsed(b, (long)(at - a->decided_at));
			buf_adds(b, "</td><td>");
			clock_hms(b, at);
			buf_adds(b, "</td></tr>\n");
		} else
			buf_adds(b, "<td>—</td><td></td></tr>\n");
	}
	buf_adds(b, "</table></div>\n");

	/* Per group and per shelter. */
	buf_adds(b, "<div class=\"col\"><table class=\"t\"><tr><th>班・グループ"
	    "</th><th>対象</th><th>既読</th><th>確認</th></tr>\n");
	for (size_t g = 0; g < s->roster.ngroups && g < 32; g++) {
		struct tally tg = {0};
		for (size_t i = 0; i < np; i++) {
			const struct member *m = roster_find(&s->roster,
			    p[i].d->member);
			if (m != NULL && (m->groups >> g) & 1)
				tally_add(&tg, &p[i]);
		}
		if (tg.all > 0)
			tally_row(b, s->roster.groups[g].title, &tg, NULL);
	}
	buf_adds(b, "</table>\n");
	{
		bool any = false;
		for (size_t k = 0; k < s->roster.nshelters; k++) {
			const struct shelter *sh = &s->roster.shelters[k];
			struct tally ts = {0};
			const cJSON *r;
			struct buf extra = {0};
			/* Its staff (from the roster) among the recipients. */
			for (size_t j = 0; j < sh->nstaff; j++)
				for (size_t i = 0; i < np; i++)
					if (strcmp(p[i].d->member, s->roster.members[
					    sh->staff[j]].id) == 0)
						tally_add(&ts, &p[i]);
			if (ts.all == 0)
				continue;
			if (!any)
				buf_printf(b, "<table class=\"t\"><tr><th>避難所"
				    "</th><th>対象</th><th>既読</th><th>確認"
				    "</th>%s</tr>\n", shelters ?
				    "<th>開設</th>" : "");
			any = true;
			if (shelters != NULL) {
				r = readiness(shelters, sh);
				bool ready = r != NULL &&
				    cJSON_IsTrue(cJSON_GetObjectItem(r, "ready"));
				buf_printf(&extra, "<td class=\"%s\">%s %d/%d"
				    "</td>", ready ? "ok ready" : "bad notready",
				    ready ? "開設可" : "未達", r ? (int)
				    cJSON_GetNumberValue(cJSON_GetObjectItem(r,
				    "ready_count")) : 0, r ? (int)
				    cJSON_GetNumberValue(cJSON_GetObjectItem(r,
				    "min_ready")) : 0);
			}
			tally_row(b, sh->name, &ts, extra.data);
			buf_free(&extra);
		}
		if (any)
			buf_adds(b, "</table>\n");
	}
	buf_adds(b, "</div>\n");

	/* The unconfirmed, by name. */
	buf_printf(b, "<div class=\"col\"><h3>未確認 <span class=\"unconfirmed\">"
	    "%zu</span> 名</h3>\n<ul class=\"names\">", all.all - all.confirmed);
	for (size_t i = 0; i < np && shown < BOARD_MAX_NAMES; i++) {
		if (p[i].confirmed)
			continue;
		shown++;
		buf_adds(b, "<li>");
		esc(b, p[i].d->name);
		if (p[i].d->title != NULL && *p[i].d->title != '\0') {
			buf_adds(b, "<small>");
			esc(b, p[i].d->title);
			buf_adds(b, "</small>");
		}
		if (p[i].suspended)
			buf_adds(b, "<em>停止中</em>");
		else if (p[i].failed)
			buf_adds(b, "<em>送信失敗</em>");
		else if (!p[i].sent)
			buf_adds(b, "<em>送信待ち</em>");
		else if (p[i].read)
			buf_adds(b, "<em>既読</em>");
		buf_adds(b, "</li>");
	}
	if (all.all - all.confirmed > shown)
		buf_printf(b, "<li>ほか %zu 名</li>", all.all - all.confirmed -
		    shown);
	buf_adds(b, "</ul></div></div>\n</section>\n");

	free(conf);
	free(p);
	delivery_rows_free(rows, n);
	cJSON_Delete(desc);
}

static int
cmp_alert_id(const void *x, const void *y)
{
	const struct alert_row *a = x, *b = y;

	return (a->id < b->id) - (a->id > b->id);	/* newest first */
}

/* The board's content (inside <main id="board">), as of now. */
static void
render_board(struct buf *b)
{
	static const char *const live[] = { ALERT_PENDING, ALERT_APPROVED,
	    ALERT_SENDING, ALERT_COMPLETE };
	struct alert_row *all = NULL;
	size_t nall = 0;
	time_t now = daemon_now();

	for (size_t i = 0; i < nitems(live); i++) {
		struct alert_row *v;
		size_t n;
		bool done = strcmp(live[i], ALERT_COMPLETE) == 0;
		if (store_alert_list(cd->store, live[i], done ?
		    now - RECENT_SECS : 0, &v, &n) < 0) {
			log_warnx("board: %s", store_error(cd->store));
			continue;
		}
		all = xreallocarray(all, nall + n + 1, sizeof(*all));
		for (size_t k = 0; k < n; k++)
			/* complete: decided (approved) within the window */
			if (!done || v[k].decided_at >= now - RECENT_SECS)
				all[nall++] = v[k];
			else
				alert_row_free(&v[k]);
		free(v);
	}
	qsort(all, nall, sizeof(*all), cmp_alert_id);
	buf_printf(b, "<div class=\"status\" data-now=\"%lld\">更新 ",
	    (long long)now);
	clock_hms(b, now);
	buf_printf(b, "・対応中の連絡 <span class=\"count\">%zu</span> 件</div>\n",
	    nall);
	if (nall == 0)
		buf_adds(b, "<p class=\"quiet\">対応中の連絡はありません。</p>\n");
	for (size_t i = 0; i < nall; i++) {
		if (i < BOARD_MAX_ALERTS)
			render_alert(b, &all[i], now);
		alert_row_free(&all[i]);
	}
	if (nall > BOARD_MAX_ALERTS)
		buf_printf(b, "<p class=\"quiet\">ほか %zu 件（crisisctl list で"
		    "確認できます）</p>\n", nall - BOARD_MAX_ALERTS);
	free(all);
}

/* ------------------------------------------------------------------ */
/* GET /board */

static const char board_css[] =
	"html{background:#000}"
	"body{font-family:'IPAGothic','IPAPGothic',sans-serif;font-size:24px;"
	"line-height:1.35;color:#fff;background:#000;margin:0;padding:12px 20px}"
	"header{display:flex;justify-content:space-between;align-items:baseline;"
	"border-bottom:3px solid #fff;margin-bottom:10px}"
	"header h1{font-size:1.6em;margin:0}#live{color:#9cf;margin:0}"
	".status{font-size:1em;color:#ddd;margin:0 0 8px}"
	".quiet{font-size:1.6em;color:#ccc;text-align:center;margin:2em 0}"
	".alert{border:3px solid #777;border-radius:10px;padding:8px 14px;"
	"margin:0 0 14px;background:#111}"
	".alert.is-drill{border-color:#ffd400}"
	".drill{background:#ffd400;color:#000;font-size:2em;font-weight:bold;"
	"text-align:center;margin:0 0 8px;padding:2px;border-radius:6px}"
	".head{display:flex;flex-wrap:wrap;gap:0 1.2em;align-items:baseline}"
	".head h2{font-size:1.7em;margin:0}.no{font-size:.6em;color:#ccc}"
	".head p{margin:0}.state{font-size:1.2em;font-weight:bold;padding:0 .4em;"
	"border-radius:4px}.st-pending{background:#f90;color:#000}"
	".st-live{background:#0a7d2c;color:#fff}.since{font-size:1.2em}"
	".clock{font-weight:bold;color:#ffd400}.who{color:#ccc}"
	".cols{display:grid;grid-template-columns:1.1fr 1.3fr 1.6fr;gap:18px}"
	".big{font-size:1.4em;margin:.2em 0}.big .confirmed{font-size:2.6em;"
	"font-weight:bold;color:#6f6}.of{font-size:1.2em}"
	".pct{font-size:2em;font-weight:bold;margin:0;color:#6f6}"
	".mid{margin:.2em 0}.bad{color:#ff6b6b;font-weight:bold}"
	".ok{color:#6f6;font-weight:bold}"
	"table{border-collapse:collapse;width:100%;margin:0 0 8px}"
	"th,td{text-align:left;padding:2px 8px;border-bottom:1px solid #444}"
	"th{font-weight:normal;color:#ccc}td.n{text-align:right;"
	"font-variant-numeric:tabular-nums}"
	"h3{font-size:1.2em;margin:0 0 4px}.unconfirmed{color:#ff6b6b;"
	"font-size:1.5em}"
	".names{list-style:none;margin:0;padding:0;columns:2;column-gap:16px}"
	".names li{break-inside:avoid;padding:1px 0}"
	".names small{color:#bbb;font-size:.7em;margin-left:.4em}"
	".names em{font-style:normal;font-size:.7em;color:#000;"
	"background:#ccc;border-radius:3px;padding:0 .3em;margin-left:.4em}";

/* The page's script: elapsed clocks every second, and the content of
 * each "board" event in place of #board (no reload). */
static const char board_js[] =
	"(function(){'use strict';"
	"var b=document.getElementById('board'),"
	"live=document.getElementById('live'),skew=0;"
	"function fmt(s){s=Math.max(0,Math.floor(s));"
	"var h=Math.floor(s/3600),m=Math.floor(s%3600/60),r='';"
	"if(s>=3600)r+=h+'時間';if(s>=60)r+=m+'分';return r+(s%60)+'秒';}"
	"function sync(){var n=b.querySelector('[data-now]');"
	"if(n)skew=Date.now()/1000-Number(n.getAttribute('data-now'));}"
	"function tick(){var now=Date.now()/1000-skew,"
	"v=b.querySelectorAll('[data-since]');for(var i=0;i<v.length;i++)"
	"v[i].textContent=fmt(now-Number(v[i].getAttribute('data-since')));}"
	"sync();setInterval(tick,1000);"
	"if(!window.EventSource){live.textContent='自動更新なし';return;}"
	"var es=new EventSource('/board/events'+location.search);"
	"es.addEventListener('board',function(e){b.innerHTML=e.data;sync();"
	"tick();document.documentElement.setAttribute('data-updates',"
	"String(Number(document.documentElement.getAttribute('data-updates')||"
	"0)+1));});"
	"es.onopen=function(){live.textContent='自動更新中';};"
	"es.onerror=function(){live.textContent='再接続中…';};"
	"})();";

static void
board_page(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	uint8_t raw[16];
	char nonce[32], *csp;
	struct buf b = {0};
	struct evbuffer *out;

	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_add_header(h, "Allow", "GET, HEAD");
		evhttp_send_error(req, HTTP_BADMETHOD, NULL);
		return;
	}
	if (board_access(req) < 0)
		return;
	if (crypto_random(raw, sizeof(raw)) < 0) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	nonce[b64url_encode(raw, sizeof(raw), nonce)] = '\0';
	buf_printf(&b, "<!DOCTYPE html>\n<html lang=\"ja\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><noscript><meta http-equiv=\"refresh\" "
	    "content=\"%d\"></noscript><title>状況ボード ", BOARD_REFRESH_SECS);
	esc(&b, cd->site.cfg.organization);
	buf_printf(&b, "</title><style>%s</style></head><body>\n<header><h1>"
	    "状況ボード ", board_css);
	esc(&b, cd->site.cfg.organization);
	buf_printf(&b, "</h1><p id=\"live\">%d秒ごとに更新</p></header>\n"
	    "<main id=\"board\">\n", BOARD_REFRESH_SECS);
	render_board(&b);
	buf_printf(&b, "</main>\n<script nonce=\"%s\">%s</script>\n"
	    "</body></html>\n", nonce, board_js);

	/* Only this page runs a script: its own, by nonce. */
	csp = xasprintf("default-src 'none'; style-src 'unsafe-inline'; "
	    "script-src 'nonce-%s'; connect-src 'self'; base-uri 'none'; "
	    "form-action 'none'; frame-ancestors 'none'", nonce);
	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Content-Security-Policy", csp);
	free(csp);
	if ((out = evbuffer_new()) == NULL) {
		buf_free(&b);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(out, b.data, b.len);
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* GET /board/events: the stream. */

static void
client_drop(struct client *c)
{
	c->req = NULL;
	c->conn = NULL;
	nclients--;
}

/*
 * libevent frees the connection (the browser went away, or a timeout).
 * libevent 2.1 first detaches a request whose reply was not ended and
 * leaves it to us: evhttp_send_reply_end() on a detached request frees
 * it. One still attached goes with its connection.
 */
static void
on_close(struct evhttp_connection *conn, void *arg)
{
	struct client *c = arg;
	struct evhttp_request *req = c->req;

	(void)conn;
	if (req == NULL)
		return;
	client_drop(c);
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
}

/* Sends bytes to one client, or drops it when it does not drain. */
static void
client_send(struct client *c, const char *data, size_t len)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->conn);
	struct evbuffer *b;

	if (bev != NULL &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > BOARD_MAX_BACKLOG) {
		struct evhttp_connection *conn = c->conn;
		log_warnx("board: dropping an event stream that does not drain");
		evhttp_connection_set_closecb(conn, NULL, NULL);
		client_drop(c);
		evhttp_connection_free(conn);
		return;
	}
	if ((b = evbuffer_new()) == NULL)
		return;
	evbuffer_add(b, data, len);
	evhttp_send_reply_chunk(c->req, b);
	evbuffer_free(b);
}

/* One "board" event with the current content, in SSE framing (a data:
 * line per line of the content). Caller frees. */
static void
board_event(struct buf *ev)
{
	struct buf body = {0};
	const char *p;

	render_board(&body);
	buf_printf(ev, "event: board\nid: %lu\n", ++event_seq);
	p = body.data ? body.data : "";
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		buf_adds(ev, "data: ");
		buf_add(ev, p, n);
		buf_addc(ev, '\n');
		p += n + (nl != NULL);
	}
	buf_adds(ev, "\n");
	buf_free(&body);
}

static void
board_events(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct client *c = NULL;
	struct buf ev = {0};

	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(h, "Allow", "GET");
		evhttp_send_error(req, HTTP_BADMETHOD, NULL);
		return;
	}
	if (board_access(req) < 0)
		return;
	for (size_t i = 0; i < BOARD_MAX_CLIENTS && c == NULL; i++)
		if (clients[i].req == NULL)
			c = &clients[i];
	if (c == NULL) {
		evhttp_add_header(h, "Retry-After", "30");
		evhttp_send_error(req, HTTP_SERVUNAVAIL, "Too many boards");
		return;
	}
	c->req = req;
	c->conn = evhttp_request_get_connection(req);
	nclients++;
	evhttp_connection_set_closecb(c->conn, on_close, c);
	evhttp_connection_set_timeout(c->conn, BOARD_STREAM_TIMEOUT);
	evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, HTTP_OK, "OK");
	buf_adds(&ev, "retry: 3000\n\n");
	board_event(&ev);
	client_send(c, ev.data, ev.len);
	buf_free(&ev);
}

static void
broadcast(const char *data, size_t len)
{
	for (size_t i = 0; i < BOARD_MAX_CLIENTS; i++)
		if (clients[i].req != NULL)
			client_send(&clients[i], data, len);
}

static void
on_coalesce(evutil_socket_t fd, short what, void *arg)
{
	struct buf ev = {0};

	(void)fd;
	(void)what;
	(void)arg;
	if (nclients == 0)
		return;
	board_event(&ev);
	broadcast(ev.data, ev.len);
	buf_free(&ev);
}

static void
on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	static const char ka[] = ": keep-alive\n\n";

	(void)fd;
	(void)what;
	(void)arg;
	if (nclients > 0)
		broadcast(ka, sizeof(ka) - 1);
}

/* The newest audit row's id: every change the board shows writes one. */
static int64_t
audit_watermark(void)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	if (sqlite3_prepare_v2(store_db(cd->store),
	    "SELECT coalesce(max(id), 0) FROM audit", -1, &st, NULL) != SQLITE_OK)
		return audit_mark;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* The safety net for changes made where no board_notify() is called
 * (timers, other files): one cheap query every BOARD_WATCH_SECS while a
 * board is open. */
static void
on_watch(evutil_socket_t fd, short what, void *arg)
{
	int64_t now;

	(void)fd;
	(void)what;
	(void)arg;
	if (nclients == 0)
		return;
	if ((now = audit_watermark()) != audit_mark) {
		audit_mark = now;
		board_notify(0);
	}
}

/* Contract in daemon.h. */
void
board_notify(int64_t alert)
{
	struct timeval tv = { 0, BOARD_COALESCE_MS * 1000 };

	(void)alert;	/* the whole board is sent: it is small */
	if (coalesce_ev == NULL || nclients == 0 ||
	    evtimer_pending(coalesce_ev, NULL))
		return;
	evtimer_add(coalesce_ev, &tv);
}

/* ------------------------------------------------------------------ */
/* Start and stop. */

/* The token from board.token_file: a relative name is looked for in
 * $CREDENTIALS_DIRECTORY (systemd LoadCredential) first, then next to the
 * config. 0, or -1 with err filled. */
static int
load_token(const struct config *c, char *err, size_t errsz)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	const char *name = c->board.token_file;
	char *path = NULL, *data;
	size_t len = 0;

	if (name == NULL)
		return 0;
	if (name[0] != '/' && creds != NULL && *creds != '\0') {
		path = path_join(creds, name);
		if (access(path, R_OK) < 0) {
			free(path);
			path = NULL;
		}
	}
	if (path == NULL)
		path = config_path(c, name);
	data = read_file(path, TOKEN_MAX + 64, &len);
	if (data == NULL) {
		snprintf(err, errsz, "board token_file %s: %s", path,
		    strerror(errno));
		free(path);
		return -1;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
	    data[len - 1] == ' '))
		data[--len] = '\0';
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~'))
			len = 0;
	}
	if (len < TOKEN_MIN || len > TOKEN_MAX) {
		snprintf(err, errsz, "board token_file %s: the token must be "
		    "%d to %d characters of A-Z a-z 0-9 - _ . ~", path,
		    TOKEN_MIN, TOKEN_MAX);
		free(data);
		free(path);
		return -1;
	}
	token = data;
	free(path);
	return 0;
}

int
board_init(const struct config *c, char *err, size_t errsz)
{
	struct timeval ka = { BOARD_KEEPALIVE_SECS, 0 };
	struct timeval w = { BOARD_WATCH_SECS, 0 };

	if (load_token(c, err, errsz) < 0)
		return -1;
	coalesce_ev = evtimer_new(cd->base, on_coalesce, NULL);
	keepalive_ev = event_new(cd->base, -1, EV_PERSIST, on_keepalive, NULL);
	watch_ev = event_new(cd->base, -1, EV_PERSIST, on_watch, NULL);
	if (coalesce_ev == NULL || keepalive_ev == NULL || watch_ev == NULL ||
	    evtimer_add(keepalive_ev, &ka) < 0 || evtimer_add(watch_ev, &w) < 0) {
		snprintf(err, errsz, "board: cannot create timers");
		return -1;
	}
	audit_mark = audit_watermark();
	httpd_route("/board", board_page, NULL);
	httpd_route("/board/events", board_events, NULL);
	return 0;
}

void
board_shutdown(void)
{
	for (size_t i = 0; i < BOARD_MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (c->req == NULL)
			continue;
		evhttp_connection_set_closecb(c->conn, NULL, NULL);
		evhttp_send_reply_end(c->req);
		client_drop(c);
	}
	if (coalesce_ev != NULL)
		event_free(coalesce_ev);
	if (keepalive_ev != NULL)
		event_free(keepalive_ev);
	if (watch_ev != NULL)
		event_free(watch_ev);
	coalesce_ev = keepalive_ev = watch_ev = NULL;
	free(token);
	token = NULL;
}
