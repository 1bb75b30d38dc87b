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
 * source.userId is that delivery's recipient: the contact itself or, when
 * the contact is a login e-mail, the userId the Directory API gives for it
 * (a callback carries only the userId, never the e-mail). Such lookups
 * (GET {api_base}/users/{e-mail}, scope user.read) go through the same
 * client and token as the sends, at most LW_DIR_INFLIGHT at once, wait out
 * a 429 in a pause of their own, and share one request per address; an
 * answer is cached for LW_DIR_TTL (LW_DIR_MAX addresses, least recently
 * used dropped first). A failed lookup (no reply, an error status, a reply
 * that is not a UserResponse) confirms nothing, is logged with its reason
 * and is not cached, so the next tap asks again. A confirmation is queued
 * with delivery_confirm_later(), so a burst of taps shares commits. It
 * must never log a secret, a token or a message body, never trust a byte
 * of a callback before its signature is checked, and never confirm on a
 * userId it did not compare.
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
#include "roster.h"

#define LW_API_BASE		"https://www.worksapis.com/v1.0"
#define LW_AUTH_URL		"https://auth.worksmobile.com/oauth2/v2.0/token"
/* Messages only: an app without user.read would have its every token
 * refused if we asked for it. Sites with login e-mails as contacts must
 * add user.read (for the Directory), and -n tells them so. */
#define LW_SCOPE		"bot"
#define LW_JWT_SECS		3600	/* exp - iat; LINE WORKS allows 1 h */
#define LW_TOKEN_RETRY_SECS	30	/* transient token failure */
#define LW_TEXT_MAX		1000	/* button_template contentText, chars */
#define LW_LABEL_MAX		20	/* action label, chars */
#define LW_MAX_BUTTONS		10
#define LW_CALLBACK_MAX		(64 * 1024)
#define LW_RECENT_ALERTS	64	/* group posts remembered */
#define LW_ROUTE		"/callback/lineworks"
#define LW_DIR_MAX		4096	/* addresses cached */
#define LW_DIR_BUCKETS		1024
#define LW_DIR_TTL		3600	/* seconds an answer is trusted */
#define LW_DIR_INFLIGHT		4	/* lookups at once */
#define LW_DIR_TRIES		4	/* 429s before a lookup gives up */
#define LW_DIR_TAPS		16	/* taps waiting on one lookup */

static const char *const lw_keys[] = { TRANSPORT_COMMON_KEYS, "bot_id",
	"client_id", "client_secret_file", "service_account",
	"private_key_file", "bot_secret_file", "api_base", "auth_url", "scope",
	"channel_id", NULL };

struct lw_inst;
struct lw_dir;

/* One request to the message API, from send() to its report, or one
 * Directory lookup (dir set, body NULL: a GET) until its answer. */
struct lw_req {
	struct lw_inst *li;
	char *url;
	char *body;
	send_done done;			/* NULL for a group post (logged only) */
	void *arg;
	struct lw_dir *dir;		/* a lookup: the address it resolves */
	bool renewed;			/* token renewed for it once already */
	unsigned token_gen;		/* the token it was sent with */
	TAILQ_ENTRY(lw_req) entry;
};
TAILQ_HEAD(lw_queue, lw_req);

/* A verified tap on a postback whose contact is a login e-mail, waiting
 * for the userId of that e-mail. */
struct lw_tap {
	int64_t delivery;
	char *response;			/* the choice the postback names */
	char *user;			/* the callback's source.userId */
	char *client;			/* for the audit row */
	TAILQ_ENTRY(lw_tap) entry;
};
TAILQ_HEAD(lw_taps, lw_tap);

/* The Directory's answer for one login e-mail: the cache entry, and the
 * taps waiting while it is looked up. */
struct lw_dir {
	char *address;			/* lower case: the key */
	char *user;			/* its userId, or NULL (not yet known) */
	double until;			/* user is trusted until then */
	bool looking;			/* a lookup request exists */
	unsigned tries;			/* 429s of that lookup */
	struct lw_taps taps;
	size_t ntaps;
	struct lw_dir *next;		/* hash chain */
	TAILQ_ENTRY(lw_dir) lru;	/* most recently used first */
};
TAILQ_HEAD(lw_dir_lru, lw_dir);

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
	/* Directory lookups: the cache, lookups waiting for a slot (they
	 * wait for a token or their pause in `waiting`, like messages). */
	struct lw_dir *dir_hash[LW_DIR_BUCKETS];
	struct lw_dir_lru dir_lru;
	size_t ndir;
	int dir_inflight;
	struct lw_queue dir_queue;
	double dir_paused_until;	/* the Directory's own rate limit */
	struct event *dir_resume_ev;
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

/* Scopes that allow the message API, and GET /users/{userId}
 * (research/lineworks.md §1.7, §6). */
static const char *const msg_scopes[] = { "bot", "bot.message", NULL };
static const char *const dir_scopes[] = { "user.read", "user",
	"directory", "directory.read", NULL };

/* Whether scope (names separated by single spaces) holds one of names. */
static bool
scope_has(const char *scope, const char *const names[])
{
	while (*scope != '\0') {
		size_t n = strcspn(scope, " ");
		for (size_t i = 0; names[i] != NULL; i++)
			if (strlen(names[i]) == n &&
			    strncmp(scope, names[i], n) == 0)
				return true;
		scope += n;
		scope += strspn(scope, " ");
	}
	return false;
}

/* Scope names ([a-z0-9._-]) separated by single spaces, at least one. */
static bool
scope_valid(const char *s)
{
	bool word = false;

	for (; *s != '\0'; s++) {
		if (*s == ' ') {
			if (!word || s[1] == '\0')
				return false;
			word = false;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= '0' &&
		    *s <= '9') || *s == '.' || *s == '_' || *s == '-')
			word = true;
		else
			return false;
	}
	return word;
}

/*
 * For check(): the first of the channel's contacts in the configured
 * rosters that is a login e-mail, as "address (member)", and in *count how
 * many there are; NULL when there is none, or when the rosters do not load
 * (site_load() has reported that already). Reads the rosters again: only
 * called when the scope cannot resolve e-mails.
 */
static char *
email_contact(const struct transport_conf *tc, const struct config *c,
    size_t *count)
{
	struct channel_ref *ch = xcalloc(c->ntransports + 1, sizeof(*ch));
	struct diags rd = {0};
	struct roster r;
	char *first = NULL;

	*count = 0;
	for (size_t i = 0; i < c->ntransports; i++) {
		ch[i].name = c->transports[i].channel;
		ch[i].type = c->transports[i].type;
	}
	if (roster_load(&r, c->rosters, c->nrosters, ch, c->ntransports,
	    &rd) == 0) {
		for (size_t i = 0; i < r.nmembers; i++) {
			const struct member *m = &r.members[i];
			for (size_t j = 0; j < m->ncontacts; j++) {
				const struct contact *k = &m->contacts[j];
				if (strcmp(k->channel, tc->channel) != 0 ||
				    strchr(k->address, '@') == NULL)
					continue;
				if ((*count)++ == 0)
					first = xasprintf("%s (%s)",
					    k->address, m->id);
			}
		}
		roster_free(&r);
	}
	diag_free(&rd);
	free(ch);
	return first;
}

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
	if (yget_str(tc->node, "scope", false, d, &s)) {
		const struct ynode *n = ymap_get(tc->node, "scope");
		char *first;
		size_t count;
		if (!scope_valid(s))
			ydiag(d, n, "\"scope\" must be scope names separated "
			    "by single spaces, such as \"%s\"", LW_SCOPE);
		else if (!scope_has(s, msg_scopes))
			ydiag(d, n, "\"scope\" must include bot or bot.message "
			    "(the message API needs one of them)");
		else if (!scope_has(s, dir_scopes) &&
		    (first = email_contact(tc, c, &count)) != NULL) {
			/* Taps would be refused at 3 a.m.: say it now. */
			ydiag(d, n, "transport %s: \"scope\" lacks user.read, "
			    "but %zu %s contact%s %s login e-mail%s, e.g. %s: "
			    "a LINE WORKS callback names the user by user id "
			    "only, and matching it to an e-mail needs the "
			    "Directory API; add user.read to \"scope\" (and "
			    "to the app's scopes in the Developer Console), "
			    "or write user ids as the contacts", tc->channel,
			    count, tc->channel, count == 1 ? "" : "s",
			    count == 1 ? "is a" : "are", count == 1 ? "" : "s",
			    first);
			free(first);
		}
	}
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
static void dir_done(void *arg, const struct http_response *resp);
static void lookup_failed(struct lw_req *r, const char *why);

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

/*
 * After a 401, or a 403 whose code is UNAUTHORIZED, the token expired or
 * was revoked: renews it and issues r again, once per request (only the
 * first refusal of a token generation drops the token). True when r was
 * issued again and the reply is no longer the caller's to handle.
 */
static bool
renew_and_retry(struct lw_req *r, const struct http_response *resp,
    const char *code)
{
	struct lw_inst *li = r->li;
	long st = resp->status;

	if ((st != 401 && (st != 403 || strcmp(code, "UNAUTHORIZED") != 0)) ||
	    r->renewed || resp->result != CURLE_OK)
		return false;
	r->renewed = true;
	if (r->token_gen == li->token_gen) {
		free(li->token);
		li->token = NULL;
		log_info("lineworks %s: token refused (HTTP %ld), renewing",
		    li->channel, st);
	}
	lw_issue(r);
	return true;
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
	if (renew_and_retry(r, resp, code))
		return;
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

/* Sends r now, or queues it behind a token fetch or a pause (the
 * message API's, or the Directory's for a lookup), or, for a lookup, until
 * fewer than LW_DIR_INFLIGHT are under way. */
static void
lw_issue(struct lw_req *r)
{
	struct lw_inst *li = r->li;
	double now = mono_now();
	double paused = r->dir ? li->dir_paused_until : li->paused_until;

	if (li->token == NULL || now >= li->token_until || now < paused) {
		TAILQ_INSERT_TAIL(&li->waiting, r, entry);
		if (now < paused) {
			struct timeval tv;
			double d = paused - now;
			tv.tv_sec = (time_t)d;
			tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
			evtimer_add(r->dir ? li->dir_resume_ev : li->resume_ev,
			    &tv);
		} else
			token_fetch(li);
		return;
	}
	if (r->dir != NULL && li->dir_inflight >= LW_DIR_INFLIGHT) {
		TAILQ_INSERT_TAIL(&li->dir_queue, r, entry);
		return;
	}
	char auth[2048];
	snprintf(auth, sizeof(auth), "Bearer %s", li->token);
	const struct http_header h[] = {
		{ "Authorization", auth },
		{ "Content-Type", "application/json; charset=UTF-8" },
	};
	const struct http_request req = {
		.method = r->body ? "POST" : "GET", .url = r->url,
		.headers = h, .nheaders = r->body ? 2 : 1, .body = r->body,
		.body_len = r->body ? strlen(r->body) : 0,
		.timeout_ms = li->timeout_ms,
	};
	r->token_gen = li->token_gen;
	if (r->dir == NULL) {
		if (http_request(&req, msg_done, r) < 0)
			report_later(r, SEND_TRANSIENT, 0,
			    "cannot start the request");
	} else if (http_request(&req, dir_done, r) < 0)
		lookup_failed(r, "cannot start the request");
	else
		li->dir_inflight++;
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
		if (r->dir != NULL)
			lookup_failed(r, error);
		else
			report_later(r, o, o == SEND_TRANSIENT ?
			    LW_TOKEN_RETRY_SECS : 0, error);
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
/* The Directory: login e-mail -> userId, for the callback */

static void
tap_free(struct lw_tap *t)
{
	free(t->response);
	free(t->user);
	free(t->client);
	free(t);
}

/* Confirms t's delivery when user_id, the userId of the recipient address
 * (or address itself, when the tapper's id is the contact), is the
 * tapper's; frees t. */
static void
tap_decide(const char *address, const char *user_id, struct lw_tap *t)
{
	if (strcasecmp(user_id, t->user) == 0) {
		if (strcasecmp(address, user_id) == 0)
			log_info("lineworks callback: delivery %lld: "
			    "confirming", (long long)t->delivery);
		else
			log_info("lineworks callback: delivery %lld: %s is "
			    "%s, confirming", (long long)t->delivery, t->user,
			    address);
		delivery_confirm_later(t->delivery, t->response, "lineworks",
		    t->client, NULL, NULL);
	} else
		log_warnx("lineworks callback: delivery %lld is not %s's "
		    "(its recipient %s is LINE WORKS user %s), not confirmed",
		    (long long)t->delivery, t->user, address, user_id);
	tap_free(t);
}

/* FNV-1a of the address in lower case. */
static size_t
dir_bucket(const char *address)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)address; *p; p++)
		h = (h ^ (uint32_t)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) *
		    16777619u;
	return h % LW_DIR_BUCKETS;
}

static struct lw_dir *
dir_find(struct lw_inst *li, const char *address)
{
	struct lw_dir *e;

	for (e = li->dir_hash[dir_bucket(address)]; e != NULL; e = e->next)
		if (strcasecmp(e->address, address) == 0)
			return e;
	return NULL;
}

/* Forgets e, which no lookup holds and no tap waits on. */
static void
dir_remove(struct lw_inst *li, struct lw_dir *e)
{
	struct lw_dir **pp = &li->dir_hash[dir_bucket(e->address)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	TAILQ_REMOVE(&li->dir_lru, e, lru);
	li->ndir--;
	free(e->address);
	free(e->user);
	free(e);
}

/* A new entry for address, dropping the least recently used one that no
 * lookup holds when the cache is full; NULL when every entry is held. */
static struct lw_dir *
dir_add(struct lw_inst *li, const char *address)
{
	struct lw_dir *e;
	size_t b;

	if (li->ndir >= LW_DIR_MAX) {
		TAILQ_FOREACH_REVERSE(e, &li->dir_lru, lw_dir_lru, lru)
			if (!e->looking)
				break;
		if (e == NULL)
			return NULL;
		dir_remove(li, e);
	}
	e = xcalloc(1, sizeof(*e));
	e->address = xstrdup(address);
	for (char *p = e->address; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 32;
	TAILQ_INIT(&e->taps);
	b = dir_bucket(address);
	e->next = li->dir_hash[b];
	li->dir_hash[b] = e;
	TAILQ_INSERT_HEAD(&li->dir_lru, e, lru);
	li->ndir++;
	return e;
}

/* Starts the next lookups waiting for a slot. */
static void
dir_next(struct lw_inst *li)
{
	struct lw_req *r;

	while (li->dir_inflight < LW_DIR_INFLIGHT &&
	    (r = TAILQ_FIRST(&li->dir_queue)) != NULL) {
		TAILQ_REMOVE(&li->dir_queue, r, entry);
		lw_issue(r);
	}
}

/* The lookup r failed: its taps confirm nothing, each is logged with why,
 * and the entry is forgotten (a later tap asks again). Frees r. */
static void
lookup_failed(struct lw_req *r, const char *why)
{
	struct lw_inst *li = r->li;
	struct lw_dir *e = r->dir;
	struct lw_tap *t;

	while ((t = TAILQ_FIRST(&e->taps)) != NULL) {
		TAILQ_REMOVE(&e->taps, t, entry);
		log_warnx("lineworks callback: delivery %lld not confirmed: "
		    "looking up %s in the LINE WORKS directory failed: %s",
		    (long long)t->delivery, e->address, why);
		tap_free(t);
	}
	e->ntaps = 0;
	e->looking = false;
	dir_remove(li, e);
	req_free(r);
}

static void
dir_done(void *arg, const struct http_response *resp)
{
	struct lw_req *r = arg;
	struct lw_inst *li = r->li;
	struct lw_dir *e = r->dir;
	struct lw_tap *t;
	char why[400], code[64], desc[200], perr[64], *user;
	long st = resp->status, reset;

	li->dir_inflight--;
	if (resp->result == CURLE_ABORTED_BY_CALLBACK) {
		lookup_failed(r, "the daemon is stopping");
		return;
	}
	error_code(resp, code, sizeof(code), desc, sizeof(desc));
	if (renew_and_retry(r, resp, code)) {
		dir_next(li);
		return;
	}
	if (st == 429) {
		/* The Directory's own rate limit: no lookup before its reset;
		 * this one waits for it, LW_DIR_TRIES times at most. */
		if ((reset = reset_secs(resp)) < 1)
			reset = 1;
		if (mono_now() + (double)reset > li->dir_paused_until)
			li->dir_paused_until = mono_now() + (double)reset;
		if (++e->tries < LW_DIR_TRIES) {
			log_info("lineworks %s: directory rate limit, lookup "
			    "of %s waits %lds", li->channel, e->address, reset);
			lw_issue(r);
			dir_next(li);
			return;
		}
	}
	if (resp->result != CURLE_OK && st == 0)
		snprintf(why, sizeof(why), "no reply: %s", resp->error);
	else if (st != 200)
		snprintf(why, sizeof(why), "HTTP %ld%s%s%s%.160s%s", st,
		    code[0] ? " " : "", code, desc[0] ? ": " : "", desc,
		    st == 403 && strcmp(code, "UNAUTHORIZED") != 0 ?
		    " (does the token's scope include user.read?)" :
		    st == 429 ? " (rate limit, gave up)" : "");
	else if (resp->truncated || lw_user_parse(resp->body,
	    resp->body_len, &user, perr, sizeof(perr)) < 0)
		snprintf(why, sizeof(why), "a reply that is not a user: %s",
		    resp->truncated ? "too long" : perr);
	else {
		free(e->user);
		e->user = user;
		e->until = mono_now() + LW_DIR_TTL;
		e->looking = false;
		log_info("lineworks %s: %s is LINE WORKS user %s", li->channel,
		    e->address, user);
		while ((t = TAILQ_FIRST(&e->taps)) != NULL) {
			TAILQ_REMOVE(&e->taps, t, entry);
			tap_decide(e->address, e->user, t);
		}
		e->ntaps = 0;
		req_free(r);
		dir_next(li);
		return;
	}
	lookup_failed(r, why);
	dir_next(li);
}

/*
 * Decides t, a tap on a delivery whose contact is the login e-mail
 * address, by address's userId: at once when it is cached, else when a
 * lookup (this tap's, or one under way for the address) answers. Takes t.
 */
static void
dir_tap(struct lw_inst *li, const char *address, struct lw_tap *t)
{
	struct lw_dir *e = dir_find(li, address);
	struct lw_req *r;
	struct buf url = {0};

	if (e != NULL && e->user != NULL && mono_now() < e->until) {
		TAILQ_REMOVE(&li->dir_lru, e, lru);
		TAILQ_INSERT_HEAD(&li->dir_lru, e, lru);
		tap_decide(e->address, e->user, t);
		return;
	}
	if (e == NULL && (e = dir_add(li, address)) == NULL) {
		log_warnx("lineworks callback: delivery %lld not confirmed: "
		    "%d directory lookups are under way already",
		    (long long)t->delivery, LW_DIR_MAX);
		tap_free(t);
		return;
	}
	if (e->ntaps >= LW_DIR_TAPS) {
		log_warnx("lineworks callback: delivery %lld not confirmed: "
		    "%d taps wait for the lookup of %s already",
		    (long long)t->delivery, LW_DIR_TAPS, e->address);
		tap_free(t);
		return;
	}
	TAILQ_REMOVE(&li->dir_lru, e, lru);
	TAILQ_INSERT_HEAD(&li->dir_lru, e, lru);
	TAILQ_INSERT_TAIL(&e->taps, t, entry);
	e->ntaps++;
	if (e->looking)
		return;
	/* Stale or new: ask (lookup_failed() may free e from here on). */
	free(e->user);
	e->user = NULL;
	e->looking = true;
	e->tries = 0;
	buf_printf(&url, "%s/users/", li->api_base);
	url_path_escape(&url, e->address);
	r = xcalloc(1, sizeof(*r));
	r->li = li;
	r->url = buf_take(&url);
	r->dir = e;
	lw_issue(r);
}

/* ------------------------------------------------------------------ */
/* The callback */

/* The response a verified postback's choice names, for d (copied), or
 * NULL when the tag has lost that choice. */
static char *
tap_response(const struct delivery_row *d, size_t choice)
{
	const char *response = "確認しました";
	struct alert_row a;
	char *out;

	if (store_alert_get(cd->store, d->alert_id, &a) != 0)
		return xstrdup(response);
	const struct tag *t = rules_tag(&cd->site.rules, a.tag);
	if (t != NULL && choice < t->nresponses)
		response = t->responses[choice];
	else if (t != NULL && t->nresponses > 0)
		response = NULL;	/* a choice the tag lost */
	out = response != NULL ? xstrdup(response) : NULL;
	alert_row_free(&a);
	return out;
}

/*
 * Confirms the delivery a verified postback names when user is its
 * recipient: the contact itself, or the userId of a contact that is a
 * login e-mail (decided now or after a Directory lookup). Everything else
 * is logged and ignored.
 */
static void
handle_ack(struct lw_inst *li, const char *postback, const char *user,
    const char *peer)
{
	struct delivery_row d;
	struct lw_tap *t;
	int64_t id;
	size_t choice;
	char *response;
	bool same;

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
	same = strcasecmp(d.address, user) == 0;
	if (strcmp(d.kind, "alert") != 0 || strcmp(d.channel, li->channel) ||
	    (!same && strchr(d.address, '@') == NULL)) {
		log_warnx("lineworks callback: delivery %lld is not %s's, "
		    "not confirmed", (long long)id, user);
		delivery_row_free(&d);
		return;
	}
	if ((response = tap_response(&d, choice)) == NULL) {
		log_warnx("lineworks callback: delivery %lld: choice %zu is not "
		    "a response of its tag", (long long)id, choice);
		delivery_row_free(&d);
		return;
	}
	t = xcalloc(1, sizeof(*t));
	t->delivery = id;
	t->response = response;
	t->user = xstrdup(user);
	t->client = xasprintf("lineworks user %s via %s", user, peer);
	if (same)
		tap_decide(d.address, user, t);
	else
		dir_tap(li, d.address, t);
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

	/* Requests still waiting: report them so their rows are retried;
	 * lookups drop their taps. In-flight ones were aborted already. */
	while ((r = TAILQ_FIRST(&li->waiting)) != NULL) {
		struct send_report rep = { .outcome = SEND_TRANSIENT,
		    .error = "stopped" };
		TAILQ_REMOVE(&li->waiting, r, entry);
		if (r->dir != NULL)
			lookup_failed(r, "the daemon is stopping");
		else
			req_report(r, &rep);
	}
	while ((r = TAILQ_FIRST(&li->dir_queue)) != NULL) {
		TAILQ_REMOVE(&li->dir_queue, r, entry);
		lookup_failed(r, "the daemon is stopping");
	}
	while (!TAILQ_EMPTY(&li->dir_lru))
		dir_remove(li, TAILQ_FIRST(&li->dir_lru));
	if (li->resume_ev != NULL)
		event_free(li->resume_ev);
	if (li->dir_resume_ev != NULL)
		event_free(li->dir_resume_ev);
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
	TAILQ_INIT(&li->dir_queue);
	TAILQ_INIT(&li->dir_lru);
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
	li->dir_resume_ev = evtimer_new(base, resume_cb, li);
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
