/*
 * transport_lineworks.c: LINE WORKS API 2.0 bot messages, one per
 * recipient, and the bot's callback (POST /callback/lineworks).
 *
 * Auth: a service-account JWT (RS256, PKCS#8 key) is exchanged at auth_url
 * for an access token, cached until shortly before its expires_in (a JSON
 * string or number). Messages wait in a queue while a token is fetched; a
 * 401, or a 403 whose code is UNAUTHORIZED, drops the token, fetches a new
 * one and retries that request once. Each message is a button_template: a
 * `uri` action to the recipient's page and one `message` action per
 * response of the tag (確認しました when it has none) whose postback is
 * "ack:<delivery>:<choice>:<mac>", the mac keyed by the daemon's token key,
 * so a postback cannot be made up for someone else's delivery. 201 is
 * accepted; 429 is transient and pauses the channel until rateLimit-reset
 * (or Retry-After), and so does a reply saying rateLimit-remaining: 0; 5xx
 * and no reply are transient; any other status is permanent.
 *
 * The callback is verified (X-WORKS-Signature: base64 HMAC-SHA256 of the
 * raw body keyed by the bot secret; X-WORKS-BotId) before anything is
 * parsed, answered at once, and confirms a delivery only when the event's
 * source.userId is that delivery's recipient address. It must never log a
 * secret, a token or a message body, and never trust a byte of a callback
 * before its signature is checked.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "callback.h"
#include "daemon.h"
#include "http_client.h"
#include "mime.h"

#define LW_API_BASE		"https://www.worksapis.com/v1.0"
#define LW_AUTH_URL		"https://auth.worksmobile.com/oauth2/v2.0/token"
#define LW_SCOPE		"bot"
#define LW_JWT_SECS		3600	/* exp - iat; LINE WORKS allows 1 h */
#define LW_TOKEN_RETRY_SECS	30	/* transient token failure */
#define LW_TEXT_MAX		1000	/* button_template contentText, chars */
#define LW_LABEL_MAX		20	/* action label, chars */
#define LW_MAX_BUTTONS		10
#define LW_CALLBACK_MAX		(64 * 1024)
#define LW_RECENT_ALERTS	64	/* group posts remembered */
#define LW_ROUTE		"/callback/lineworks"

static const char *const lw_keys[] = { TRANSPORT_COMMON_KEYS, "bot_id",
	"client_id", "client_secret_file", "service_account",
	"private_key_file", "bot_secret_file", "api_base", "auth_url", "scope",
	"channel_id", NULL };

struct lw_inst;

/* One request to the message API, from send() to its report. */
struct lw_req {
	struct lw_inst *li;
	char *url;
	char *body;
	send_done done;			/* NULL for a group post (logged only) */
	void *arg;
	bool renewed;			/* token renewed for it once already */
	unsigned token_gen;		/* the token it was sent with */
	TAILQ_ENTRY(lw_req) entry;
};
TAILQ_HEAD(lw_queue, lw_req);

struct lw_inst {
	struct event_base *base;
	char *channel;
	char *bot_id, *client_id, *service_account, *client_secret;
	char *key_pem, *bot_secret;
	char *api_base, *auth_url, *scope, *channel_id;
	long timeout_ms;
	uint8_t ack_key[SHA256_BYTES];	/* postback macs */
	/* Token: valid while now < token_until (CLOCK_MONOTONIC). */
	char *token;
	double token_until;
	unsigned token_gen;
	bool fetching;
	/* Nothing is sent before paused_until (rateLimit-reset). */
	double paused_until;
	struct event *resume_ev;
	struct lw_queue waiting;	/* for a token or the end of a pause */
	int64_t posted[LW_RECENT_ALERTS];	/* alerts posted to channel_id */
	size_t nposted;
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* Settings */

static void
lw_check(const struct transport_conf *tc, const struct config *c,
    struct diags *d)
{
	static const char *const required[] = { "bot_id", "client_id",
	    "service_account" };
	static const char *const secrets[] = { "client_secret_file",
	    "private_key_file", "bot_secret_file" };
	const char *s;
	char err[256];

	if (!ymap_check(tc->node, "a lineworks transport", lw_keys, d))
		return;
	transport_check_common(tc, d);
	for (size_t i = 0; i < nitems(required); i++)
		if (yget_str(tc->node, required[i], true, d, &s) &&
		    (s[0] == '\0' || strpbrk(s, "/?#% \t\r\n") != NULL))
			ydiag(d, ymap_get(tc->node, required[i]), "\"%s\" must "
			    "not be empty or contain / ? # %% or spaces",
			    required[i]);
	if (ymap_get(tc->node, "api_base") != NULL)
		transport_check_url(tc, "api_base", false, d, &s);
	if (ymap_get(tc->node, "auth_url") != NULL)
		transport_check_url(tc, "auth_url", false, d, &s);
	yget_str(tc->node, "scope", false, d, &s);
	if (yget_str(tc->node, "channel_id", false, d, &s) &&
	    (s[0] == '\0' || strpbrk(s, "/?#% \t\r\n") != NULL))
		ydiag(d, ymap_get(tc->node, "channel_id"), "\"channel_id\" "
		    "must not be empty or contain / ? # %% or spaces");
	for (size_t i = 0; i < nitems(secrets); i++) {
		char *v = transport_check_secret(tc, c, secrets[i], true, d);
		if (v == NULL)
			continue;
		if (strcmp(secrets[i], "private_key_file") == 0) {
			/* A key that cannot sign fails now, not at 3 a.m. */
			char *jwt = jwt_sign_rs256(v, strlen(v), "{}", err,
			    sizeof(err));
			if (jwt == NULL)
				ydiag(d, ymap_get(tc->node, secrets[i]),
				    "transport %s: private_key_file: %s",
				    tc->channel, err);
			free(jwt);
		}
		transport_secret_free(v);
	}
}

/* ------------------------------------------------------------------ */
/* Postbacks */

/* Postbacks are made and verified in lib/callback.c with li->ack_key. */
static void
postback_make(const struct lw_inst *li, int64_t delivery, size_t choice,
    char *out, size_t outsz)
{
	lw_postback_make(li->ack_key, delivery, choice, out, outsz);
}

static int
postback_parse(const struct lw_inst *li, const char *s, int64_t *delivery,
    size_t *choice)
{
	return lw_postback_parse(li->ack_key, s, LW_MAX_BUTTONS, delivery,
	    choice);
}

/* ------------------------------------------------------------------ */
/* Messages */

/* Adds a string cut to at most max characters (whole UTF-8 characters). */
static void
add_cut(cJSON *o, const char *name, const char *s, size_t max)
{
	size_t i = 0, n = 0;

	while (s[i] != '\0' && n < max) {
		i++;
		while ((s[i] & 0xC0) == 0x80)
			i++;
		n++;
	}
	char *cut = xstrndup(s, i);
	cJSON_AddStringToObject(o, name, cut);
	free(cut);
}

static cJSON *
action_uri(const char *label, const char *uri)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "type", "uri");
	add_cut(a, "label", label, LW_LABEL_MAX);
	cJSON_AddStringToObject(a, "uri", uri);
	return a;
}

/* The body of a message to one recipient. */
static char *
message_body(const struct lw_inst *li, const struct outmsg *m)
{
	cJSON *o = cJSON_CreateObject(), *c, *actions;
	bool approval = strcmp(m->kind, "approval") == 0;
	bool alert = strcmp(m->kind, "alert") == 0;
	char *s;

	c = cJSON_AddObjectToObject(o, "content");
	if (m->link == NULL || m->link[0] == '\0') {
		/* A notice: text only. */
		cJSON_AddStringToObject(c, "type", "text");
		add_cut(c, "text", m->text_long, 2000);
		goto out;
	}
	cJSON_AddStringToObject(c, "type", "button_template");
	add_cut(c, "contentText", m->text_long, LW_TEXT_MAX);
	actions = cJSON_AddArrayToObject(c, "actions");
	cJSON_AddItemToArray(actions, action_uri(approval ? "承認画面を開く" :
	    "詳細を開く", m->link));
	if (alert) {
		static const char *const dflt[] = { "確認しました" };
		const char *const *resp = m->nresponses ? m->responses : dflt;
		size_t n = m->nresponses ? m->nresponses : 1;
		for (size_t i = 0; i < n && i + 1 < LW_MAX_BUTTONS; i++) {
			cJSON *a = cJSON_CreateObject();
			char pb[128];
			postback_make(li, m->delivery_id, i, pb, sizeof(pb));
			cJSON_AddStringToObject(a, "type", "message");
			add_cut(a, "label", resp[i], LW_LABEL_MAX);
			cJSON_AddStringToObject(a, "text", resp[i]);
			cJSON_AddStringToObject(a, "postback", pb);
			cJSON_AddItemToArray(actions, a);
		}
	}
out:
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* The one post per alert to the group channel: the subject and a pointer
 * to the personal message (the personal link never goes to a group). */
static char *
channel_body(const struct outmsg *m)
{
	cJSON *o = cJSON_CreateObject(), *c;
	char *text, *s;

	c = cJSON_AddObjectToObject(o, "content");
	cJSON_AddStringToObject(c, "type", "text");
	text = xasprintf("%s\n\n各自に届いた個別のメッセージを開き、"
	    "ボタンで応答してください。", m->subject ? m->subject : m->tag);
	add_cut(c, "text", text, 2000);
	free(text);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void lw_issue(struct lw_req *r);
static void token_fetch(struct lw_inst *li);

static void
req_free(struct lw_req *r)
{
	free(r->url);
	free(r->body);
	free(r);
}

/* Reports the outcome of arg, a struct lw_req (or logs it, for a group
 * post), and frees it: a send_done. */
static void
req_report(void *arg, const struct send_report *rep)
{
	struct lw_req *r = arg;

	if (r->done != NULL)
		r->done(r->arg, rep);
	else if (rep->outcome != SEND_ACCEPTED)
		log_warnx("lineworks %s: group post failed: %s", r->li->channel,
		    rep->error ? rep->error : "?");
	req_free(r);
}

/* Reports a failure of r, a request that never left, from the loop. */
static void
report_later(struct lw_req *r, enum send_outcome o, long retry_after,
    const char *error)
{
	const struct send_report rep = { .outcome = o,
	    .retry_after = retry_after, .error = error };

	transport_report_later(r->li->base, req_report, r, &rep);
}

/* Seconds until the rate limit resets, from rateLimit-reset (seconds) or
 * Retry-After; -1 when neither is usable. */
static long
reset_secs(const struct http_response *resp)
{
	const char *v = http_response_header(resp, "rateLimit-reset");
	long secs;

	if (v != NULL && parse_long(v, 0, 86400, &secs) == 0)
		return secs;
	return transport_retry_after(http_response_header(resp,
	    "Retry-After"));
}

static void
pause_until(struct lw_inst *li, long secs)
{
	double now = mono_now(), until = now + (double)secs;

	if (until > li->paused_until) {
		if (now >= li->paused_until)
			log_info("lineworks %s: rate limit, pausing %lds",
			    li->channel, secs);
		li->paused_until = until;
	}
}

/* The LINE WORKS error code of a reply body, or "". */
static void
error_code(const struct http_response *resp, char *code, size_t codesz,
    char *desc, size_t descsz)
{
	cJSON *o = cJSON_ParseWithLength(resp->body, resp->body_len);
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "code");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "description");

	snprintf(code, codesz, "%s", cJSON_IsString(c) ? c->valuestring : "");
	snprintf(desc, descsz, "%s", cJSON_IsString(d) ? d->valuestring : "");
	cJSON_Delete(o);
}

static void
msg_done(void *arg, const struct http_response *resp)
{
	struct lw_req *r = arg;
	struct lw_inst *li = r->li;
	struct send_report rep = {0};
	char err[320], code[64], desc[200];
	long st = resp->status, reset;

	error_code(resp, code, sizeof(code), desc, sizeof(desc));
	if ((st == 401 || (st == 403 && strcmp(code, "UNAUTHORIZED") == 0)) &&
	    !r->renewed && resp->result == CURLE_OK) {
		/* The token expired or was revoked: renew once, retry once.
		 * Only the first 401 of a token generation drops it. */
		r->renewed = true;
		if (r->token_gen == li->token_gen) {
			free(li->token);
			li->token = NULL;
			log_info("lineworks %s: token refused (HTTP %ld), "
			    "renewing", li->channel, st);
		}
		lw_issue(r);
		return;
	}
	transport_http_outcome(resp, &rep, err, sizeof(err));
	if (st == 429) {
		reset = reset_secs(resp);
		if (reset < 1)
			reset = 1;
		rep.outcome = SEND_TRANSIENT;
		rep.retry_after = reset;
		rep.pause_secs = reset;
		pause_until(li, reset);
	} else if (rep.outcome == SEND_ACCEPTED) {
		const char *rem = http_response_header(resp,
		    "rateLimit-remaining");
		long n;
		/* The last request of the window: wait for the reset. */
		if (rem != NULL && parse_long(rem, 0, 1000000, &n) == 0 &&
		    n == 0 && (reset = reset_secs(resp)) > 0) {
			rep.pause_secs = reset;
			pause_until(li, reset);
		}
	} else if (code[0] != '\0' && resp->status > 0)
		snprintf(err, sizeof(err), "HTTP %ld %s%s%.160s", st, code,
		    desc[0] ? ": " : "", desc);
	req_report(r, &rep);
}

/* Sends r now, or queues it behind a token fetch or a pause. */
static void
lw_issue(struct lw_req *r)
{
	struct lw_inst *li = r->li;
	double now = mono_now();

	if (li->token == NULL || now >= li->token_until || now <
	    li->paused_until) {
		TAILQ_INSERT_TAIL(&li->waiting, r, entry);
		if (now < li->paused_until) {
			struct timeval tv;
			double d = li->paused_until - now;
			tv.tv_sec = (time_t)d;
			tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
			evtimer_add(li->resume_ev, &tv);
		} else if (li->token == NULL || now >= li->token_until)
			token_fetch(li);
		return;
	}
	char auth[2048];
	snprintf(auth, sizeof(auth), "Bearer %s", li->token);
	const struct http_header h[] = {
		{ "Authorization", auth },
		{ "Content-Type", "application/json; charset=UTF-8" },
	};
	const struct http_request req = {
		.method = "POST", .url = r->url, .headers = h,
		.nheaders = nitems(h), .body = r->body,
		.body_len = strlen(r->body), .timeout_ms = li->timeout_ms,
	};
	r->token_gen = li->token_gen;
	if (http_request(&req, msg_done, r) < 0)
		report_later(r, SEND_TRANSIENT, 0, "cannot start the request");
}

/* Sends what waited, as far as the token and pause allow. */
static void
drain(struct lw_inst *li)
{
	struct lw_queue q = TAILQ_HEAD_INITIALIZER(q);
	struct lw_req *r;

	TAILQ_CONCAT(&q, &li->waiting, entry);
	while ((r = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, r, entry);
		lw_issue(r);
	}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain(arg);
}

/* Fails every waiting request (no token could be had). */
static void
fail_waiting(struct lw_inst *li, enum send_outcome o, const char *error)
{
	struct lw_req *r;

	while ((r = TAILQ_FIRST(&li->waiting)) != NULL) {
		TAILQ_REMOVE(&li->waiting, r, entry);
		report_later(r, o, o == SEND_TRANSIENT ? LW_TOKEN_RETRY_SECS : 0,
		    error);
	}
}

/* ------------------------------------------------------------------ */
/* Tokens */

static void
token_done(void *arg, const struct http_response *resp)
{
	struct lw_inst *li = arg;
	cJSON *o = NULL;
	const cJSON *tok, *exp;
	long secs = 0;
	char err[300], code[64], desc[200];

	li->fetching = false;
	if (resp->result == CURLE_ABORTED_BY_CALLBACK)
		return;		/* stopping: lw_free reports what waits */
	if (resp->result != CURLE_OK && resp->status == 0) {
		snprintf(err, sizeof(err), "LINE WORKS token: no reply: %s",
		    resp->error);
		log_warnx("lineworks %s: %s", li->channel, err);
		fail_waiting(li, SEND_TRANSIENT, err);
		return;
	}
	if (resp->status != 200) {
		error_code(resp, code, sizeof(code), desc, sizeof(desc));
		snprintf(err, sizeof(err), "LINE WORKS token: HTTP %ld %s%s%.160s",
		    resp->status, code, desc[0] ? ": " : "", desc);
		log_warnx("lineworks %s: %s", li->channel, err);
		/* Bad credentials will not mend themselves: the recipients
		 * go to their next channel at once. */
		fail_waiting(li, resp->status == 429 || resp->status >= 500 ?
		    SEND_TRANSIENT : SEND_PERMANENT, err);
		return;
	}
	o = cJSON_ParseWithLength(resp->body, resp->body_len);
	tok = cJSON_GetObjectItemCaseSensitive(o, "access_token");
	exp = cJSON_GetObjectItemCaseSensitive(o, "expires_in");
	if (cJSON_IsNumber(exp))
		secs = exp->valuedouble >= 1 && exp->valuedouble < 1e9 ?
		    (long)exp->valuedouble : 0;
	else if (cJSON_IsString(exp) && parse_long(exp->valuestring, 1,
	    999999999, &secs) < 0)
		secs = 0;
	if (!cJSON_IsString(tok) || tok->valuestring[0] == '\0' ||
	    strlen(tok->valuestring) > 1500 ||
	    strpbrk(tok->valuestring, " \r\n\t") != NULL || secs <= 0) {
		cJSON_Delete(o);
		snprintf(err, sizeof(err), "LINE WORKS token: malformed reply");
		log_warnx("lineworks %s: %s", li->channel, err);
		fail_waiting(li, SEND_TRANSIENT, err);
		return;
	}
	free(li->token);
	li->token = xstrdup(tok->valuestring);
	li->token_gen++;
	/* Renew a minute early (a quarter early for short-lived tokens). */
	li->token_until = mono_now() + (double)(secs > 240 ? secs - 60 :
	    secs - secs / 4);
	cJSON_Delete(o);
	log_info("lineworks %s: token valid for %lds", li->channel, secs);
	drain(li);
}

static void
token_fetch(struct lw_inst *li)
{
	struct buf form = {0};
	char err[256], *claims, *jwt;
	time_t now = time(NULL);

	if (li->fetching)
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "iss", li->client_id);
	cJSON_AddStringToObject(o, "sub", li->service_account);
	cJSON_AddNumberToObject(o, "iat", (double)now);
	cJSON_AddNumberToObject(o, "exp", (double)(now + LW_JWT_SECS));
	claims = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	jwt = jwt_sign_rs256(li->key_pem, strlen(li->key_pem), claims, err,
	    sizeof(err));
	free(claims);
	if (jwt == NULL) {
		log_warnx("lineworks %s: %s", li->channel, err);
		fail_waiting(li, SEND_PERMANENT, err);
		return;
	}
	form_add(&form, "assertion", jwt);
	form_add(&form, "grant_type",
	    "urn:ietf:params:oauth:grant-type:jwt-bearer");
	form_add(&form, "client_id", li->client_id);
	form_add(&form, "client_secret", li->client_secret);
	form_add(&form, "scope", li->scope);
	free(jwt);
	const struct http_header h[] = {
		{ "Content-Type", "application/x-www-form-urlencoded" },
	};
	const struct http_request req = {
		.method = "POST", .url = li->auth_url, .headers = h,
		.nheaders = nitems(h), .body = form.data, .body_len = form.len,
		.timeout_ms = li->timeout_ms,
	};
	li->fetching = true;
	if (http_request(&req, token_done, li) < 0) {
		li->fetching = false;
		fail_waiting(li, SEND_TRANSIENT, "cannot start the token request");
	}
	buf_free(&form);
}

/* ------------------------------------------------------------------ */
/* send */

static struct lw_req *
req_new(struct lw_inst *li, const char *path_fmt_arg, bool user, char *body)
{
	struct lw_req *r = xcalloc(1, sizeof(*r));
	struct buf url = {0};

	buf_printf(&url, "%s/bots/", li->api_base);
	url_path_escape(&url, li->bot_id);
	buf_adds(&url, user ? "/users/" : "/channels/");
	url_path_escape(&url, path_fmt_arg);
	buf_adds(&url, "/messages");
	r->li = li;
	r->url = buf_take(&url);
	r->body = body;
	return r;
}

static bool
posted_before(struct lw_inst *li, int64_t alert)
{
	for (size_t i = 0; i < li->nposted && i < LW_RECENT_ALERTS; i++)
		if (li->posted[i] == alert)
			return true;
	li->posted[li->nposted++ % LW_RECENT_ALERTS] = alert;
	return false;
}

static void
lw_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct lw_inst *li = inst;
	struct lw_req *r;

	if (li->channel_id != NULL && strcmp(m->kind, "alert") == 0 &&
	    !posted_before(li, m->alert_id)) {
		struct lw_req *g = req_new(li, li->channel_id, false,
		    channel_body(m));
		lw_issue(g);
	}
	r = req_new(li, m->address, true, message_body(li, m));
	r->done = done;
	r->arg = arg;
	if (m->address[0] == '\0') {
		report_later(r, SEND_PERMANENT, 0, "no LINE WORKS user id");
		return;
	}
	lw_issue(r);
}

/* ------------------------------------------------------------------ */
/* The callback */

/* Confirms the delivery a verified postback names, when userId is its
 * recipient. Everything else is logged and ignored. */
static void
handle_ack(struct lw_inst *li, const char *postback, const char *user,
    const char *peer)
{
	struct delivery_row d;
	struct alert_row a;
	int64_t id;
	size_t choice;
	const char *response = "確認しました";
	char client[256];

	if (postback_parse(li, postback, &id, &choice) < 0) {
		log_info("lineworks callback: a postback that is not ours, "
		    "ignored");
		return;
	}
	if (store_delivery_get(cd->store, id, &d) != 0) {
		log_info("lineworks callback: delivery %lld not found",
		    (long long)id);
		return;
	}
	if (strcmp(d.kind, "alert") != 0 || strcmp(d.channel, li->channel) ||
	    strcasecmp(d.address, user) != 0) {
		log_warnx("lineworks callback: delivery %lld is not %s's, "
		    "not confirmed", (long long)id, user);
		delivery_row_free(&d);
		return;
	}
	if (store_alert_get(cd->store, d.alert_id, &a) == 0) {
		const struct tag *t = rules_tag(&cd->site.rules, a.tag);
		if (t != NULL && choice < t->nresponses)
			response = t->responses[choice];
		else if (t != NULL && t->nresponses > 0)
			response = NULL;	/* a choice the tag lost */
		if (response != NULL)
			response = xstrdup(response);
		alert_row_free(&a);
	} else
		response = xstrdup(response);
	snprintf(client, sizeof(client), "lineworks user %s via %s", user,
	    peer);
	if (response == NULL)
		log_warnx("lineworks callback: delivery %lld: choice %zu is not "
		    "a response of its tag", (long long)id, choice);
	else {
		int rc = delivery_confirm(id, response, "lineworks", client);
		log_info("lineworks callback: delivery %lld %s", (long long)id,
		    rc == 0 ? "confirmed" : rc == 1 ? "already confirmed" :
		    "not recorded (database error)");
	}
	free((char *)response);
	delivery_row_free(&d);
}

static void
lw_callback(struct evhttp_request *req, void *arg)
{
	struct lw_inst *li = arg;
	struct evkeyvalq *hdrs = evhttp_request_get_input_headers(req);
	const char *sig = evhttp_find_header(hdrs, "X-WORKS-Signature");
	const char *bot = evhttp_find_header(hdrs, "X-WORKS-BotId");
	size_t len;
	char peer[80] = "?";
	char *body, *host = NULL;
	ev_uint16_t port = 0;
	struct lw_event ev;
	enum cb_verdict v;

	if ((body = transport_callback_body(req, li, LW_CALLBACK_MAX,
	    &len)) == NULL)
		return;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &host,
	    &port);
	snprintf(peer, sizeof(peer), "%s", host ? host : "?");
	v = lw_event_parse(li->bot_secret, li->bot_id, sig, bot, body, len,
	    &ev);
	free(body);
	if (v == CB_FORBIDDEN) {
		log_warnx("lineworks callback from %s: bad signature or bot id, "
		    "refused", peer);
		transport_callback_reply(req, 403, "Forbidden");
		return;
	}
	if (v != CB_OK) {
		log_warnx("lineworks callback from %s: not a JSON object", peer);
		transport_callback_reply(req, HTTP_BADREQUEST, "Bad Request");
		return;
	}
	/* Answer first: LINE WORKS wants 200 at once and never retries. */
	transport_callback_reply(req, HTTP_OK, "OK");
	if (ev.postback == NULL)
		log_info("lineworks callback: %s event ignored", ev.type);
	else
		handle_ack(li, ev.postback, ev.user, peer);
	lw_event_free(&ev);
}

/* ------------------------------------------------------------------ */
/* Life */

static void
lw_free(void *inst)
{
	struct lw_inst *li = inst;
	struct lw_req *r;

	/* Requests still waiting: report them so their rows are retried. */
	while ((r = TAILQ_FIRST(&li->waiting)) != NULL) {
		struct send_report rep = { .outcome = SEND_TRANSIENT,
		    .error = "stopped" };
		TAILQ_REMOVE(&li->waiting, r, entry);
		req_report(r, &rep);
	}
	if (li->resume_ev != NULL)
		event_free(li->resume_ev);
	free(li->channel);
	free(li->bot_id);
	free(li->client_id);
	free(li->service_account);
	transport_secret_free(li->client_secret);
	transport_secret_free(li->key_pem);
	transport_secret_free(li->bot_secret);
	free(li->api_base);
	free(li->auth_url);
	free(li->scope);
	free(li->channel_id);
	free(li->token);
	free(li);
}

static char *
str_or(const struct transport_conf *tc, const char *key, const char *dflt)
{
	const char *s = NULL;

	if (!yget_str(tc->node, key, false, NULL, &s))
		s = dflt;
	if (s == NULL)
		return NULL;
	/* No trailing slash on base URLs. */
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '/' && strcmp(key, "api_base") == 0)
		n--;
	return xstrndup(s, n);
}

static void *
lw_init(struct event_base *base, const struct transport_conf *tc,
    const struct config *c, char *err, size_t errsz)
{
	struct lw_inst *li = xcalloc(1, sizeof(*li));

	li->base = base;
	TAILQ_INIT(&li->waiting);
	li->channel = xstrdup(tc->channel);
	li->bot_id = str_or(tc, "bot_id", "");
	li->client_id = str_or(tc, "client_id", "");
	li->service_account = str_or(tc, "service_account", "");
	li->api_base = str_or(tc, "api_base", LW_API_BASE);
	li->auth_url = str_or(tc, "auth_url", LW_AUTH_URL);
	li->scope = str_or(tc, "scope", LW_SCOPE);
	li->channel_id = str_or(tc, "channel_id", NULL);
	li->timeout_ms = transport_timeout_ms(tc, HTTP_DEFAULT_TIMEOUT_MS);
	li->resume_ev = evtimer_new(base, resume_cb, li);
	if ((li->client_secret = transport_secret(tc, c, "client_secret_file",
	    err, errsz)) == NULL ||
	    (li->key_pem = transport_secret(tc, c, "private_key_file", err,
	    errsz)) == NULL ||
	    (li->bot_secret = transport_secret(tc, c, "bot_secret_file", err,
	    errsz)) == NULL) {
		lw_free(li);
		return NULL;
	}
	/* The postback key: derived, so the token key itself never meets
	 * another purpose. */
	crypto_hmac_sha256(cd->token_key, TOKEN_KEY_BYTES, "lineworks-ack",
	    13, li->ack_key);
	httpd_route(LW_ROUTE, lw_callback, li);
	return li;
}

const struct transport transport_lineworks = {
	.name = "lineworks",
	.check = lw_check,
	.init = lw_init,
	.send = lw_send,
	.free = lw_free,
	.max_inflight = 8,
};
