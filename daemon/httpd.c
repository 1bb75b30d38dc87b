/*
 * httpd.c: crisiscastd's HTTP(S) server (SPEC §6): the approval page and
 * decision (/a/TOKEN), the recipient page and confirmation (/r/TOKEN),
 * /healthz, and the routes other files add (httpd_route).
 *
 * One evhttp per `listen` address, TLS on the same port when the address
 * has tls_cert/tls_key. Every handler runs on the loop, never blocks, and
 * ends in exactly one reply. It must never: change anything on a GET or
 * HEAD (link scanners and previewers open links), tell an unknown token from
 * a used, revoked or expired one (they all get the same 404 bytes), or
 * trust a byte of the request before checking its size and shape.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "daemon.h"
#include "form.h"

#define HTTP_TIMEOUT_SECS	10
#define HTTP_MAX_HEADERS	(8 * 1024)
#define HTTP_MAX_BODY		FORM_MAX_BYTES
#define CLIENT_UA_MAX		160	/* bytes of User-Agent kept */
#define NONCE_CHARS		22
#define REASON_MAX		2000	/* bytes of a rejection reason */
#define PLACEHOLDER_TOKEN	"XXXXXXXXXXXXXXXXXXXXXX"

struct server {
	struct evhttp *http;
	SSL_CTX *ssl;		/* NULL: plain HTTP */
};

struct route {
	char *path;
	httpd_handler fn;
	void *arg;
};

static struct server *servers;
static size_t nservers;
static struct route *routes;
static size_t nroutes;

/* ------------------------------------------------------------------ */
/* Replies. Every handler ends in exactly one of these. */

static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *ctype, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	if (strncmp(ctype, "text/html", 9) == 0) {
		evhttp_add_header(h, "Content-Security-Policy",
		    "default-src 'none'; style-src 'unsafe-inline'; "
		    "form-action 'self'; base-uri 'none'; "
		    "frame-ancestors 'none'");
		evhttp_add_header(h, "X-Frame-Options", "DENY");
	}
	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(b, body, len);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void
html_esc(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *s); break;
		}
	}
}

static const char page_css[] =
	"body{font-family:sans-serif;font-size:17px;line-height:1.6;"
	"color:#111;background:#fff;margin:0 auto;padding:12px;"
	"max-width:40em}"
	"h1{font-size:1.35em;margin:.3em 0}h3{font-size:1em;margin:.8em 0 .2em}h2{font-size:1.1em;margin:1em 0 .3em;"
	"border-left:5px solid #345;padding-left:.4em}"
	".drill{background:#ffd400;color:#000;font-size:2.4em;"
	"font-weight:bold;text-align:center;border:5px solid #000;"
	"padding:.2em;margin:0 0 .4em}"
	".cancelled{background:#b00020;color:#fff;font-size:1.8em;"
	"font-weight:bold;text-align:center;padding:.3em;margin:0 0 .4em}"
	".msg{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f4f4;"
	"border:1px solid #bbb;border-radius:6px;padding:.6em;margin:.3em 0}"
	".note{background:#fff4e0;border:1px solid #e0a030;padding:.5em;"
	"border-radius:6px}"
	".done{background:#e6f4ea;border:1px solid #0a7d2c;padding:.6em;"
	"border-radius:6px;font-size:1.15em}"
	"table{border-collapse:collapse;width:100%}"
	"th,td{text-align:left;padding:.25em .4em;border-bottom:1px solid #ddd;"
	"vertical-align:top}th{white-space:nowrap;font-weight:normal;color:#444}"
	"button{display:block;width:100%;font-size:1.15em;padding:.8em;"
	"margin:.5em 0;border:0;border-radius:8px;background:#1f4e9a;"
	"color:#fff}"
	"button.approve{background:#0a7d2c}button.reject{background:#b00020}"
	"textarea{width:100%;box-sizing:border-box;font-size:1em;"
	"min-height:5em}label{display:block;margin-top:.5em}"
	"form{margin:.6em 0}";

static void
page_begin(struct buf *b, const char *title, bool drill)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"ja\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><meta name=\"robots\" content=\"noindex\">"
	    "<title>");
	if (drill)
		buf_adds(b, "【訓練】");
	html_esc(b, title);
	buf_adds(b, "</title><style>");
	buf_adds(b, page_css);
	buf_adds(b, "</style></head><body>\n");
	/* A drill says so before anything else (SPEC §6). */
	if (drill)
		buf_adds(b, "<p class=\"drill\">【訓練】</p>\n"
		    "<p class=\"note\">これは訓練です。実際の災害ではありません。"
		    "</p>\n");
}

static void
send_page(struct evhttp_request *req, int code, const char *reason,
    struct buf *b)
{
	buf_adds(b, "</body></html>\n");
	reply(req, code, reason, "text/html; charset=utf-8", b->data, b->len);
	buf_free(b);
}

/* A short page: a heading and one paragraph. */
static void
simple_page(struct evhttp_request *req, int code, const char *reason,
    const char *title, const char *text)
{
	struct buf b = {0};

	page_begin(&b, title, false);
	buf_adds(&b, "<h1>");
	html_esc(&b, title);
	buf_adds(&b, "</h1>\n<p>");
	html_esc(&b, text);
	buf_adds(&b, "</p>\n");
	send_page(req, code, reason, &b);
}

/* The one 404: unknown, used, revoked and expired tokens alike. */
static void
not_found(struct evhttp_request *req)
{
	simple_page(req, HTTP_NOTFOUND, "Not Found", "ページが見つかりません",
	    "このリンクは無効です。期限切れ、使用済み、取り消し済み、または"
	    "誤ったアドレスです。必要な場合は危機管理担当へ連絡してください。");
}

static void
method_not_allowed(struct evhttp_request *req, const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    allow);
	simple_page(req, HTTP_BADMETHOD, "Method Not Allowed",
	    "この操作はできません", "このアドレスではこの方法の要求を受け付けて"
	    "いません。");
}

static void
bad_request(struct evhttp_request *req, const char *text)
{
	simple_page(req, HTTP_BADREQUEST, "Bad Request", "要求が正しくありません",
	    text);
}

static void
server_error(struct evhttp_request *req)
{
	simple_page(req, HTTP_INTERNAL, "Internal Server Error",
	    "一時的なエラーです", "処理できませんでした。少し待ってからもう一度"
	    "開いてください。");
}

/* ------------------------------------------------------------------ */
/* Requests. */

static bool
is_get(struct evhttp_request *req)
{
	return evhttp_request_get_command(req) == EVHTTP_REQ_GET;
}

static bool
is_get_or_head(struct evhttp_request *req)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	return m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
}

/*
 * "ADDR User-Agent" for the records: the peer address and at most
 * CLIENT_UA_MAX bytes of the user agent, printable ASCII only. Caller frees.
 */
static char *
client_of(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	const char *ua = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "User-Agent");
	char *addr = NULL;
	ev_uint16_t port = 0;
	struct buf b = {0};

	if (c != NULL)
		evhttp_connection_get_peer(c, &addr, &port);
	buf_adds(&b, addr ? addr : "-");
	buf_addc(&b, ' ');
	if (ua == NULL || *ua == '\0')
		ua = "-";
	for (size_t i = 0; ua[i] != '\0' && i < CLIENT_UA_MAX; i++)
		buf_addc(&b, ua[i] >= 0x20 && ua[i] < 0x7f ? ua[i] : '?');
	return buf_take(&b);
}

/*
 * The body of a form POST, parsed into f. Returns 0, or -1 after replying
 * (400 for a wrong Content-Type or a malformed body).
 */
static int
read_form(struct evhttp_request *req, struct form *f)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	static const char want[] = "application/x-www-form-urlencoded";
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char err[128];
	const char *p;

	if (ct == NULL || strncasecmp(ct, want, sizeof(want) - 1) != 0 ||
	    (ct[sizeof(want) - 1] != '\0' && ct[sizeof(want) - 1] != ';' &&
	    ct[sizeof(want) - 1] != ' ')) {
		bad_request(req, "フォームの形式が正しくありません"
		    "（application/x-www-form-urlencoded で送ってください）。");
		return -1;
	}
	p = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	if (p == NULL || form_parse(p, len, f, err, sizeof(err)) < 0) {
		log_debug("http: bad form body: %s", p ? err : "pullup failed");
		bad_request(req, "フォームの内容を読み取れませんでした。"
		    "ページを開き直してください。");
		return -1;
	}
	return 0;
}

/* The one-time nonce of an approval page: bound to its token, so it dies
 * with the token (at the decision). */
static void
nonce_for(const char *token, char out[NONCE_CHARS + 1])
{
	char msg[64];
	uint8_t mac[SHA256_BYTES];
	int n = snprintf(msg, sizeof(msg), "nonce:%s", token);

	crypto_hmac_sha256(cd->token_key, TOKEN_KEY_BYTES, msg, (size_t)n, mac);
	b64url_encode(mac, 16, out);
	out[NONCE_CHARS] = '\0';
}

/*
 * Finds the live token `tok` of `kind` and its alert. Returns 0 (fill *t
 * and *a; the caller frees both), 1 when it is not live (unknown, wrong
 * kind, revoked, expired, or a used approval token), -1 on a database
 * error.
 */
static int
token_live(const char *tok, const char *kind, struct token_row *t,
    struct alert_row *a)
{
	uint8_t hash[SHA256_BYTES];
	size_t len = strnlen(tok, TOKEN_CHARS + 1);
	int rc;

	memset(t, 0, sizeof(*t));
	memset(a, 0, sizeof(*a));
	if (!token_wellformed(tok, len) || tok[len] != '\0')
		return 1;
	token_hash(tok, hash);
	if ((rc = store_token_lookup(cd->store, hash, t)) != 0)
		return rc;
	if (!crypto_equal(t->hash, hash, SHA256_BYTES) ||
	    strcmp(t->kind, kind) != 0 || t->revoked_at > 0 ||
	    t->expires_at <= daemon_now() ||
	    (strcmp(kind, "approval") == 0 && t->used_at > 0)) {
		token_row_free(t);
		return 1;
	}
	if ((rc = store_alert_get(cd->store, t->alert_id, a)) != 0) {
		token_row_free(t);
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Page pieces. */

static void
format_ja(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	jst_tm(t, &tm);
	snprintf(out, outsz, "%d年%d月%d日 %02d:%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static const char *
channel_ja(const char *ch)
{
	static const struct { const char *ch, *ja; } names[] = {
		{ "lineworks", "LINE WORKS" }, { "sms", "SMS" },
		{ "email", "メール" }, { "ntfy", "プッシュ通知" },
	};
	for (size_t i = 0; i < nitems(names); i++)
		if (strcmp(names[i].ch, ch) == 0)
			return names[i].ja;
	return ch;
}

/* true when the channel's transport sends the one-segment SMS form. */
static bool
channel_sms(const char *ch)
{
	const struct transport_conf *tc = config_transport(&cd->site.cfg, ch);
	const char *form = NULL;

	if (tc == NULL)
		return false;
	if (strcmp(tc->type, "twilio") == 0)
		return true;
	if (yget_str(tc->node, "form", false, NULL, &form) && form != NULL)
		return strcmp(form, "sms") == 0;
	return strcmp(ch, "sms") == 0;
}

/* s with every `from` replaced by `to` (same length expected). */
static void
replace_all(char *s, const char *from, const char *to)
{
	size_t n = strlen(from);
	char *p;

	if (n == 0 || strlen(to) != n)
		return;
	while ((p = strstr(s, from)) != NULL)
		memcpy(p, to, n);
}

static void
row(struct buf *b, const char *th, const char *td)
{
	buf_adds(b, "<tr><th>");
	html_esc(b, th);
	buf_adds(b, "</th><td>");
	html_esc(b, td);
	buf_adds(b, "</td></tr>\n");
}

/*
 * Who the alert reaches, counted per group, per shelter and per first
 * channel, and each channel's message as the recipients will see it.
 */
static void
approval_audience(struct buf *b, const struct alert_row *a,
    const struct tag *t)
{
	const struct site *s = &cd->site;
	size_t *idx = NULL, n = 0;
	char err[256], tmp[64];
	bool *in;
	size_t *perch;

	buf_adds(b, "<h2>宛先</h2>\n");
	if (a->cancels > 0) {
		struct delivery_row *rows;
		size_t nr, reached = 0;
		if (store_deliveries_of(cd->store, a->cancels, "alert", &rows,
		    &nr) == 0) {
			for (size_t i = 0; i < nr; i++)
				reached += strcmp(rows[i].state, DLV_SENT) == 0;
			delivery_rows_free(rows, nr);
		}
		buf_printf(b, "<p>取り消す連絡（No.%lld）を受け取った %zu 名</p>\n",
		    (long long)a->cancels, reached);
		return;
	}
	if (t == NULL || draft_recipients(s, t, a->audience, &idx, &n, err,
	    sizeof(err)) < 0) {
		buf_adds(b, "<p class=\"note\">宛先を名簿から解決できません: ");
		html_esc(b, t == NULL ? "タグが規則にありません" : err);
		buf_adds(b, "</p>\n");
		free(idx);
		return;
	}
	in = xcalloc(s->roster.nmembers + 1, sizeof(*in));
	perch = xcalloc(s->cfg.delivery.nchannels + 1, sizeof(*perch));
	for (size_t i = 0; i < n; i++) {
		const struct member *m = &s->roster.members[idx[i]];
		bool found = false;
		in[idx[i]] = true;
		for (size_t c = 0; !found && c < s->cfg.delivery.nchannels; c++)
			for (size_t k = 0; !found && k < m->ncontacts; k++)
				if (strcmp(m->contacts[k].channel,
				    s->cfg.delivery.channels[c]) == 0) {
					perch[c]++;
					found = true;
				}
	}
	buf_printf(b, "<p><strong>合計 %zu 名</strong>（", n);
	html_esc(b, a->audience);
	buf_adds(b, "）</p>\n<table>\n");
	for (size_t g = 0; g < s->roster.ngroups && g < 32; g++) {
		size_t c = 0;
		for (size_t i = 0; i < n; i++)
			c += (s->roster.members[idx[i]].groups >> g) & 1;
		if (c == 0)
			continue;
		snprintf(tmp, sizeof(tmp), "%zu 名", c);
		row(b, s->roster.groups[g].title, tmp);
	}
	buf_adds(b, "</table>\n");
	{
		bool any = false;
		for (size_t k = 0; k < s->roster.nshelters; k++) {
			const struct shelter *sh = &s->roster.shelters[k];
			size_t c = 0;
			for (size_t j = 0; j < sh->nstaff; j++)
				c += in[sh->staff[j]];
			if (c == 0)
				continue;
			if (!any)
				buf_adds(b, "<h2>避難所ごと</h2>\n<table>\n");
			any = true;
			snprintf(tmp, sizeof(tmp), "%zu 名", c);
			row(b, sh->name, tmp);
		}
		if (any)
			buf_adds(b, "</table>\n");
	}
	buf_adds(b, "<h2>送信方法ごと</h2>\n<table>\n");
	for (size_t c = 0; c < s->cfg.delivery.nchannels; c++) {
		if (perch[c] == 0)
			continue;
		snprintf(tmp, sizeof(tmp), "%zu 名", perch[c]);
		row(b, channel_ja(s->cfg.delivery.channels[c]), tmp);
	}
	buf_adds(b, "</table>\n");

	/* The texts, as each channel will carry them. */
	{
		struct delivery_row sample = {0};
		char *tl = NULL, *ts = NULL, *link = NULL, *ph;
		sample.kind = "alert";
		sample.name = "（受信者）";
		sample.title = "";
		fanout_render(&sample, a, &tl, &ts, &link);
		ph = xasprintf("%s/r/%s", s->cfg.public_url, PLACEHOLDER_TOKEN);
		replace_all(tl, link, ph);
		replace_all(ts, link, ph);
		buf_adds(b, "<h2>受信者に届く文面</h2>\n"
		    "<p>（リンクは受信者ごとに異なります）</p>\n");
		/* One block per form (long, SMS), naming the channels that
		 * carry it: the first choice of perch[c] people, the others
		 * when a channel fails or on re-notify. */
		for (int sms = 0; sms <= 1; sms++) {
			bool any = false;
			for (size_t c = 0; c < s->cfg.delivery.nchannels; c++) {
				const char *ch = s->cfg.delivery.channels[c];
				if (channel_sms(ch) != (sms == 1))
					continue;
				buf_adds(b, any ? "・" : "<h3>");
				any = true;
				html_esc(b, channel_ja(ch));
				if (perch[c] > 0)
					buf_printf(b, "（%zu 名）", perch[c]);
				else
					buf_adds(b, "（再送時）");
			}
			if (!any)
				continue;
			buf_adds(b, "</h3>\n<div class=\"msg\">");
			html_esc(b, sms ? ts : tl);
			buf_adds(b, "</div>\n");
		}
		free(ph);
		free(tl);
		free(ts);
		free(link);
	}
	free(perch);
	free(in);
	free(idx);
}

static void
approval_page(struct evhttp_request *req, const char *tok,
    const struct alert_row *a)
{
	const struct tag *t = rules_tag(&cd->site.rules, a->tag);
	const struct member *sender = roster_find(&cd->site.roster, a->sender);
	char when[64], nonce[NONCE_CHARS + 1];
	struct buf b = {0};
	cJSON *w;

	nonce_for(tok, nonce);
	page_begin(&b, "承認依頼", a->drill);
	buf_adds(&b, "<h1>承認依頼 ");
	html_esc(&b, t ? t->label : a->tag);
	buf_adds(&b, "</h1>\n<p>次の連絡の発信を承認してください。"
	    "承認されるまで、この連絡は送信されません。</p>\n<table>\n");
	format_ja(a->created_at, when, sizeof(when));
	row(&b, "タグ", t ? t->label : a->tag);
	{
		char *who = xasprintf("%s %s", sender ? sender->title : "",
		    sender ? sender->name : a->sender);
		row(&b, "発信者", who);
		free(who);
	}
	row(&b, "起案", when);
	{
		char no[32];
		snprintf(no, sizeof(no), "%lld", (long long)a->id);
		row(&b, "番号", no);
	}
	buf_adds(&b, "</table>\n<h2>本文</h2>\n<div class=\"msg\">");
	html_esc(&b, a->body);
	buf_adds(&b, "</div>\n");

	w = cJSON_Parse(a->warnings ? a->warnings : "[]");
	if (cJSON_IsArray(w) && cJSON_GetArraySize(w) > 0) {
		const cJSON *it;
		buf_adds(&b, "<h2>規則の警告</h2>\n<ul class=\"note\">\n");
		cJSON_ArrayForEach(it, w) {
			if (!cJSON_IsString(it))
				continue;
			buf_adds(&b, "<li>");
			html_esc(&b, it->valuestring);
			buf_adds(&b, "</li>\n");
		}
		buf_adds(&b, "</ul>\n");
	}
	cJSON_Delete(w);

	approval_audience(&b, a, t);

	buf_adds(&b, "<h2>決定</h2>\n<form method=\"post\">"
	    "<input type=\"hidden\" name=\"nonce\" value=\"");
	buf_adds(&b, nonce);
	buf_adds(&b, "\"><input type=\"hidden\" name=\"action\" value=\"approve\">"
	    "<button type=\"submit\" class=\"approve\">承認して送信する</button>"
	    "</form>\n<form method=\"post\">"
	    "<input type=\"hidden\" name=\"nonce\" value=\"");
	buf_adds(&b, nonce);
	buf_printf(&b, "\"><input type=\"hidden\" name=\"action\" value=\"reject\">"
	    "<label for=\"reason\">却下の理由（必須）</label>"
	    "<textarea id=\"reason\" name=\"reason\" required maxlength=\"%d\">"
	    "</textarea><button type=\"submit\" class=\"reject\">却下する"
	    "</button></form>\n", REASON_MAX / 3);
	send_page(req, HTTP_OK, "OK", &b);
}

/* The page after a decision. */
static void
decided_page(struct evhttp_request *req, int code, const char *reason,
    bool drill, const char *title, const char *text)
{
	struct buf b = {0};

	page_begin(&b, title, drill);
	buf_adds(&b, "<h1>");
	html_esc(&b, title);
	buf_adds(&b, "</h1>\n<p class=\"done\">");
	html_esc(&b, text);
	buf_adds(&b, "</p>\n");
	send_page(req, code, reason, &b);
}

static void
approval_decide(struct evhttp_request *req, const char *tok,
    const struct token_row *t, const struct alert_row *a)
{
	struct form f;
	const char *given, *action, *why;
	char nonce[NONCE_CHARS + 1], *client = NULL, *reason = NULL;
	struct buf errors = {0};
	cJSON *result = NULL;
	struct actor who;
	int rc;

	if (read_form(req, &f) < 0)
		return;
	nonce_for(tok, nonce);
	given = form_get(&f, "nonce");
	action = form_get(&f, "action");
	why = form_get(&f, "reason");
	if (given == NULL || strlen(given) != NONCE_CHARS ||
	    !crypto_equal(given, nonce, NONCE_CHARS)) {
		simple_page(req, 403, "Forbidden",
		    "このフォームは無効です", "承認依頼のリンクを開き直して、"
		    "そのページから操作してください。");
		goto out;
	}
	if (action == NULL || (strcmp(action, "approve") != 0 &&
	    strcmp(action, "reject") != 0)) {
		bad_request(req, "操作が指定されていません。");
		goto out;
	}
	client = client_of(req);
	who = (struct actor){
		.id = t->member,
		.member = roster_find(&cd->site.roster, t->member),
		.how = "link",
		.client = client,
	};
	result = cJSON_CreateObject();
	if (strcmp(action, "approve") == 0)
		rc = alert_approve(&who, a->id, result, &errors);
	else {
		/* The reason, trimmed of surrounding white space. */
		const char *p = why ? why : "";
		size_t n;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		n = strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
		    p[n - 1] == '\r' || p[n - 1] == '\n'))
			n--;
		if (n == 0 || n > REASON_MAX) {
			bad_request(req, n == 0 ? "却下の理由を入力してください。"
			    "前のページに戻って入力してください。" :
			    "却下の理由が長すぎます。");
			goto out;
		}
		reason = xstrndup(p, n);
		rc = alert_reject(&who, a->id, reason, result, &errors);
	}
	log_info("alert %lld: %s by link from %s: %s", (long long)a->id,
	    action, client, rc == 0 ? "done" : rc == 1 ? "refused" : "error");
	if (rc < 0) {
		server_error(req);
		goto out;
	}
	if (rc == 1) {
		struct alert_row now;
		bool pending = store_alert_get(cd->store, a->id, &now) == 0 &&
		    strcmp(now.state, ALERT_PENDING) == 0;
		if (!pending)
			decided_page(req, HTTP_OK, "OK", a->drill,
			    "すでに決定済みです", "この連絡はすでに承認または"
			    "却下されています。");
		else
			decided_page(req, 403, "Forbidden", a->drill,
			    "決定できませんでした", errors.data ? errors.data :
			    "");
		alert_row_free(&now);
		goto out;
	}
	/* The token is spent (every approval link died in the decision). */
	if (store_begin(cd->store) < 0 ||
	    store_token_use(cd->store, t->hash, daemon_now()) < 0 ||
	    store_commit(cd->store) < 0) {
		log_warnx("alert %lld: mark link used: %s", (long long)a->id,
		    store_error(cd->store));
		store_rollback(cd->store);
	}
	if (strcmp(action, "approve") == 0) {
		char *text = xasprintf("承認しました。%d名に送信します。",
		    cJSON_GetNumberValue(cJSON_GetObjectItem(result,
		    "deliveries")) > 0 ? (int)cJSON_GetNumberValue(
		    cJSON_GetObjectItem(result, "deliveries")) : 0);
		decided_page(req, HTTP_OK, "OK", a->drill, "承認しました", text);
		free(text);
	} else
		decided_page(req, HTTP_OK, "OK", a->drill, "却下しました",
		    "却下しました。この連絡は送信されません。");
out:
	cJSON_Delete(result);
	buf_free(&errors);
	free(reason);
	free(client);
	form_free(&f);
}

/* /a/TOKEN: GET/HEAD show the approval page, POST decides. */
static void
approval_route(struct evhttp_request *req, const char *tok)
{
	struct token_row t;
	struct alert_row a;
	int rc = token_live(tok, "approval", &t, &a);

	if (rc < 0) {
		server_error(req);
		return;
	}
	if (rc == 1 || strcmp(a.state, ALERT_PENDING) != 0) {
		not_found(req);
		goto out;
	}
	if (is_get_or_head(req)) {
		if (is_get(req)) {
			char *client = client_of(req);
			log_info("alert %lld: approval page opened by %s from %s",
			    (long long)a.id, t.member, client);
			audit_now(t.member, "approval_opened", a.id, t.member,
			    NULL, client);
			free(client);
		}
		approval_page(req, tok, &a);
	} else
		approval_decide(req, tok, &t, &a);
out:
	token_row_free(&t);
	alert_row_free(&a);
}

/* The choices a confirmation of this tag may carry. */
static size_t
choices(const struct tag *t, const char *const **v)
{
	static const char *const plain[] = { "確認しました" };

	if (t != NULL && t->nresponses > 0) {
		*v = (const char *const *)t->responses;
		return t->nresponses;
	}
	*v = plain;
	return 1;
}

static void
recipient_page(struct evhttp_request *req, const struct delivery_row *d,
    const struct alert_row *a)
{
	const struct tag *t = rules_tag(&cd->site.rules, a->tag);
	bool cancelled = strcmp(a->state, ALERT_CANCELLED) == 0;
	char *tl = NULL, *ts = NULL, *link = NULL, when[64];
	const char *const *v;
	size_t n = choices(t, &v);
	struct buf b = {0};

	page_begin(&b, t ? t->label : a->tag, a->drill);
	if (cancelled) {
		buf_adds(&b, "<p class=\"cancelled\">取消</p>\n<p class=\"note\">"
		    "この連絡は取り消されました。");
		if (a->reason != NULL) {
			buf_adds(&b, "理由: ");
			html_esc(&b, a->reason);
		}
		buf_adds(&b, "</p>\n");
	}
	buf_adds(&b, "<h1>");
	html_esc(&b, t ? t->label : a->tag);
	buf_adds(&b, "</h1>\n<p>");
	html_esc(&b, d->title);
	buf_adds(&b, " ");
	html_esc(&b, d->name);
	buf_adds(&b, " 様</p>\n<div class=\"msg\">");
	fanout_render(d, a, &tl, &ts, &link);
	html_esc(&b, tl);
	buf_adds(&b, "</div>\n");
	if (d->confirmed_at > 0) {
		format_ja(d->confirmed_at, when, sizeof(when));
		buf_adds(&b, "<p class=\"done\">確認済みです（回答: ");
		html_esc(&b, d->response ? d->response : "確認しました");
		buf_adds(&b, "、");
		html_esc(&b, when);
		buf_adds(&b, "）</p>\n");
	} else if (!cancelled) {
		buf_adds(&b, "<h2>回答してください</h2>\n<form method=\"post\">");
		for (size_t i = 0; i < n; i++) {
			buf_adds(&b, "<button type=\"submit\" name=\"response\" "
			    "value=\"");
			html_esc(&b, v[i]);
			buf_adds(&b, "\">");
			html_esc(&b, v[i]);
			buf_adds(&b, "</button>");
		}
		buf_adds(&b, "</form>\n");
	}
	free(tl);
	free(ts);
	free(link);
	send_page(req, HTTP_OK, "OK", &b);
}

/* A confirmation waiting for its group commit: what its reply needs. The
 * request stays valid until a reply is sent, even when the client has
 * gone (libevent then detaches it from the connection and frees it on the
 * reply). */
struct confirming {
	struct evhttp_request *req;
	int64_t delivery_id;
	bool drill;
	char *response;
};

/* ack_done_fn: the confirmation is on disk (or failed): reply. */
static void
confirm_done(int rc, void *arg)
{
	struct confirming *c = arg;
	struct evhttp_request *req = c->req;
	char *text = NULL;

	if (rc < 0)
		server_error(req);
	else if (rc == 1) {
		struct delivery_row now;
		const char *first = NULL;
		memset(&now, 0, sizeof(now));
		if (store_delivery_get(cd->store, c->delivery_id, &now) == 0)
			first = now.response;
		text = xasprintf("すでに確認済みです（最初の回答: %s）。",
		    first ? first : "確認しました");
		delivery_row_free(&now);
		decided_page(req, HTTP_OK, "OK", c->drill, "確認済みです",
		    text);
	} else {
		text = xasprintf("確認しました。回答「%s」を受け付けました。",
		    c->response);
		decided_page(req, HTTP_OK, "OK", c->drill, "確認しました",
		    text);
	}
	free(text);
	free(c->response);
	free(c);
}

/* POST /r/TOKEN: the answer is checked here, recorded with the other
 * confirmations of this loop turn, and answered once committed. */
static void
recipient_confirm(struct evhttp_request *req, const struct delivery_row *d,
    const struct alert_row *a)
{
	const struct tag *t = rules_tag(&cd->site.rules, a->tag);
	const char *const *v;
	size_t n = choices(t, &v);
	const char *response;
	bool known = false;
	char *client;
	struct confirming *c;
	struct form f;

	if (read_form(req, &f) < 0)
		return;
	response = form_get(&f, "response");
	for (size_t i = 0; response != NULL && i < n; i++)
		known |= strcmp(v[i], response) == 0;
	if (!known) {
		bad_request(req, "回答がこの連絡の選択肢にありません。"
		    "ページを開き直してください。");
		goto out;
	}
	if (strcmp(a->state, ALERT_CANCELLED) == 0) {
		decided_page(req, 409, "Conflict", a->drill, "取消",
		    "この連絡は取り消されました。回答は不要です。");
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	c->req = req;
	c->delivery_id = d->id;
	c->drill = a->drill;
	c->response = xstrdup(response);
	client = client_of(req);
	delivery_confirm_later(d->id, response, "page", client, confirm_done,
	    c);
	free(client);
out:
	form_free(&f);
}

/* /r/TOKEN: GET shows the message and records read, HEAD shows it only,
 * POST confirms. */
static void
recipient_route(struct evhttp_request *req, const char *tok)
{
	struct token_row t;
	struct alert_row a;
	struct delivery_row d;
	int rc = token_live(tok, "alert", &t, &a);

	memset(&d, 0, sizeof(d));
	if (rc == 0)
		rc = store_delivery_get(cd->store, t.delivery_id, &d);
	if (rc < 0) {
		server_error(req);
		goto out;
	}
	if (rc == 1) {
		not_found(req);
		goto out;
	}
	if (is_get_or_head(req)) {
		if (is_get(req)) {
			char *client = client_of(req);
			if (delivery_mark_read(d.id, "page", client) == 0 &&
			    d.read_at == 0)
				d.read_at = daemon_now();
			free(client);
		}
		recipient_page(req, &d, &a);
	} else
		recipient_confirm(req, &d, &a);
out:
	delivery_row_free(&d);
	token_row_free(&t);
	alert_row_free(&a);
}

static void
healthz(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (!is_get_or_head(req)) {
		method_not_allowed(req, "GET, HEAD");
		return;
	}
	reply(req, HTTP_OK, "OK", "text/plain; charset=utf-8", "ok\n", 3);
}

/* Every request: registered routes by exact path, then the token routes,
 * then the 404. */
static void
dispatch(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;

	(void)arg;
	if (!is_get_or_head(req) &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		method_not_allowed(req, "GET, HEAD, POST");
		return;
	}
	if (path == NULL) {
		not_found(req);
		return;
	}
	for (size_t i = 0; i < nroutes; i++)
		if (strcmp(routes[i].path, path) == 0) {
			routes[i].fn(req, routes[i].arg);
			return;
		}
	if (strncmp(path, "/a/", 3) == 0)
		approval_route(req, path + 3);
	else if (strncmp(path, "/r/", 3) == 0)
		recipient_route(req, path + 3);
	else
		not_found(req);
}

/* ------------------------------------------------------------------ */
/* Start and stop. */

void
httpd_route(const char *path, httpd_handler fn, void *arg)
{
	for (size_t i = 0; i < nroutes; i++)
		if (strcmp(routes[i].path, path) == 0) {
			routes[i].fn = fn;
			routes[i].arg = arg;
			return;
		}
	routes = xreallocarray(routes, nroutes + 1, sizeof(*routes));
	routes[nroutes++] = (struct route){ xstrdup(path), fn, arg };
}

static struct bufferevent *
tls_bevcb(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static SSL_CTX *
tls_context(const struct listen_conf *l)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	unsigned long e;

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, l->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, l->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		e = ERR_get_error();
		log_warnx("http %s: TLS certificate %s, key %s: %s", l->address,
		    l->tls_cert, l->tls_key, ERR_reason_error_string(e) ?
		    ERR_reason_error_string(e) : "unusable");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* "host:port" or "[v6]:port" into host (brackets removed) and port. */
static int
split_address(const char *addr, char **host, ev_uint16_t *port)
{
	const char *colon = strrchr(addr, ':');
	long p;

	if (colon == NULL || parse_long(colon + 1, 1, 65535, &p) < 0)
		return -1;
	if (addr[0] == '[' && colon > addr + 1 && colon[-1] == ']')
		*host = xstrndup(addr + 1, (size_t)(colon - addr - 2));
	else
		*host = xstrndup(addr, (size_t)(colon - addr));
	*port = (ev_uint16_t)p;
	return 0;
}

/*
 * Binds sv to addr (host and port being its parts). A numeric address
 * (IPv4, or IPv6 in brackets), as in every sample and installed config, is
 * bound as it is; only a host name goes through getaddrinfo(). libevent
 * would otherwise call getaddrinfo() four times even for 127.0.0.1, which
 * reads gai.conf and nsswitch.conf and leaves the resolver's libc pages
 * resident for the daemon's whole life (bench/idle.sh).
 */
static int
bind_address(struct server *sv, const char *addr, const char *host,
    ev_uint16_t port)
{
	struct sockaddr_storage ss;
	int len = (int)sizeof(ss);
	struct evconnlistener *lev;

	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &len) < 0)
		return evhttp_bind_socket_with_handle(sv->http, host, port) ?
		    0 : -1;
	/* The options evhttp_bind_socket() uses. */
	lev = evconnlistener_new_bind(cd->base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, (struct sockaddr *)&ss, len);
	if (lev == NULL)
		return -1;
	if (evhttp_bind_listener(sv->http, lev) == NULL) {
		evconnlistener_free(lev);
		return -1;
	}
	return 0;
}

int
httpd_start(const struct config *c)
{
	httpd_route("/healthz", healthz, NULL);
	servers = xcalloc(c->nlisten + 1, sizeof(*servers));
	for (size_t i = 0; i < c->nlisten; i++) {
		const struct listen_conf *l = &c->listen[i];
		struct server *sv = &servers[nservers];
		char *host;
		ev_uint16_t port;

		if (split_address(l->address, &host, &port) < 0) {
			log_warnx("http: bad listen address %s", l->address);
			return -1;
		}
		sv->http = evhttp_new(cd->base);
		if (sv->http == NULL) {
			free(host);
			return -1;
		}
		nservers++;
		evhttp_set_timeout(sv->http, HTTP_TIMEOUT_SECS);
		evhttp_set_max_headers_size(sv->http, HTTP_MAX_HEADERS);
		evhttp_set_max_body_size(sv->http, HTTP_MAX_BODY);
		evhttp_set_flags(sv->http, EVHTTP_SERVER_LINGERING_CLOSE);
		/* libevent answers a method outside this set with 501;
		 * dispatch() answers every one but GET, HEAD, POST with 405. */
		evhttp_set_allowed_methods(sv->http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
		    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
		    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
		evhttp_set_gencb(sv->http, dispatch, NULL);
		if (l->tls_cert != NULL && l->tls_key != NULL) {
			if ((sv->ssl = tls_context(l)) == NULL) {
				free(host);
				return -1;
			}
			evhttp_set_bevcb(sv->http, tls_bevcb, sv->ssl);
		}
		if (bind_address(sv, l->address, host, port) < 0) {
			log_warn("http: cannot listen on %s", l->address);
			free(host);
			return -1;
		}
		free(host);
		log_info("http: listening on %s%s", l->address,
		    sv->ssl ? " (TLS)" : "");
	}
	return 0;
}

void
httpd_stop(void)
{
	for (size_t i = 0; i < nservers; i++) {
		evhttp_free(servers[i].http);
		if (servers[i].ssl != NULL)
			SSL_CTX_free(servers[i].ssl);
	}
	free(servers);
	servers = NULL;
	nservers = 0;
	for (size_t i = 0; i < nroutes; i++)
		free(routes[i].path);
	free(routes);
	routes = NULL;
	nroutes = 0;
}
