/*
 * transport_twilio.c: SMS through Twilio's Messages API, and its delivery
 * status callback (POST /callback/twilio).
 *
 * One form POST per delivery to {api_base}/2010-04-01/Accounts/{sid}/
 * Messages.json with HTTP Basic auth: To (the member's sms contact, E.164),
 * From, Body (the SMS form, meant to fit one UCS-2 segment: a longer text
 * is sent and logged), StatusCallback ({public_url}/callback/twilio) and
 * ValidityPeriod for messages worthless after a deadline (1..36000 s).
 * 2xx is accepted with the message sid as provider id; no reply, 429 and
 * 5xx are transient; other statuses are permanent with Twilio's code.
 *
 * The callback is verified (X-Twilio-Signature: base64 HMAC-SHA1 of the
 * StatusCallback URL followed by the sorted form fields, keyed by the auth
 * token) before anything else, and moves the delivery's provider status
 * forward only (queued < sending < sent < delivered; delivered,
 * undelivered and failed are final): a late `sent` never overwrites
 * `delivered`. undelivered or failed moves the recipient to their next
 * channel, like a permanent failure. Never logs the token or the text.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>

#include "callback.h"
#include "daemon.h"
#include "http_client.h"
#include "mime.h"
#include "template.h"

#define TW_API_BASE		"https://api.twilio.com"
#define TW_ROUTE		"/callback/twilio"
#define TW_VALIDITY_MAX		36000
#define TW_CALLBACK_MAX		(16 * 1024)

static const char *const tw_keys[] = { TRANSPORT_COMMON_KEYS, "account_sid",
	"auth_token_file", "from", "api_base", NULL };

struct tw_inst {
	struct event_base *base;
	char *channel;
	char *account_sid;
	char *auth_token;
	char *from;
	char *url;			/* the Messages.json resource */
	char *callback_url;		/* as given to Twilio, signed by it */
	long timeout_ms;
};

struct tw_req {
	struct tw_inst *ti;
	send_done done;
	void *arg;
};

/* "+" and 7 to 15 digits, no leading zero (E.164). */
static bool
e164(const char *s)
{
	size_t n = 0;

	if (s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	for (s++; *s; s++, n++)
		if (*s < '0' || *s > '9')
			return false;
	return n >= 7 && n <= 15;
}

static bool
sid_ok(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, 2) != 0 || strlen(s) != 34)
		return false;
	for (s += 2; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F')))
			return false;
	return true;
}

static void
tw_check(const struct transport_conf *tc, const struct config *c,
    struct diags *d)
{
	const char *s;

	if (!ymap_check(tc->node, "a twilio transport", tw_keys, d))
		return;
	transport_check_common(tc, d);
	if (yget_str(tc->node, "account_sid", true, d, &s) && !sid_ok(s, "AC"))
		ydiag(d, ymap_get(tc->node, "account_sid"), "\"account_sid\" "
		    "must be AC and 32 hex digits");
	if (yget_str(tc->node, "from", true, d, &s) && !e164(s))
		ydiag(d, ymap_get(tc->node, "from"), "\"from\" must be a phone "
		    "number in E.164 form, such as +815012345678");
	if (ymap_get(tc->node, "api_base") != NULL)
		transport_check_url(tc, "api_base", false, d, &s);
	transport_secret_free(transport_check_secret(tc, c, "auth_token_file",
	    true, d));
}

/* ------------------------------------------------------------------ */
/* Sending */

static void
tw_done(void *arg, const struct http_response *resp)
{
	struct tw_req *r = arg;
	struct send_report rep;
	char err[320], sid[64] = "";
	cJSON *o = cJSON_ParseWithLength(resp->body, resp->body_len);

	transport_http_outcome(resp, &rep, err, sizeof(err));
	if (rep.outcome == SEND_ACCEPTED) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "sid");
		if (cJSON_IsString(s) && strlen(s->valuestring) < sizeof(sid))
			snprintf(sid, sizeof(sid), "%s", s->valuestring);
		if (sid[0] == '\0') {
			/* Accepted, but no sid: status callbacks cannot be
			 * matched. Still sent; say so. */
			log_warnx("twilio %s: a reply without a message sid",
			    r->ti->channel);
		} else
			rep.provider_id = sid;
	} else if (resp->status >= 400) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "message");
		if (cJSON_IsNumber(code))
			snprintf(err, sizeof(err), "HTTP %ld: Twilio %.0f: %.200s",
			    resp->status, code->valuedouble,
			    cJSON_IsString(msg) ? msg->valuestring : "");
	}
	cJSON_Delete(o);
	r->done(r->arg, &rep);
	free(r);
}

static void
tw_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct tw_inst *ti = inst;
	struct tw_req *r;
	struct buf form = {0};
	char *userpwd;
	size_t units = 0, limit = 0;
	int segs;

	if (!e164(m->address)) {
		const struct send_report rep = { .outcome = SEND_PERMANENT,
		    .error = "the sms contact is not an E.164 number" };
		transport_report_later(ti->base, done, arg, &rep);
		return;
	}
	segs = sms_segments(m->text_sms, strlen(m->text_sms), &units, &limit);
	if (segs > 1)
		log_warnx("twilio %s: delivery %lld: the text takes %d segments "
		    "(%zu units, one holds %zu)", ti->channel,
		    (long long)m->delivery_id, segs, units, limit);
	form_add(&form, "To", m->address);
	form_add(&form, "From", ti->from);
	form_add(&form, "Body", m->text_sms);
	form_add(&form, "StatusCallback", ti->callback_url);
	if (m->valid_secs > 0) {
		char v[24];
		snprintf(v, sizeof(v), "%ld", m->valid_secs > TW_VALIDITY_MAX ?
		    (long)TW_VALIDITY_MAX : m->valid_secs);
		form_add(&form, "ValidityPeriod", v);
	}
	userpwd = xasprintf("%s:%s", ti->account_sid, ti->auth_token);
	const struct http_header h[] = {
		{ "Content-Type", "application/x-www-form-urlencoded" },
		{ "Accept", "application/json" },
	};
	const struct http_request req = {
		.method = "POST", .url = ti->url, .headers = h,
		.nheaders = nitems(h), .body = form.data, .body_len = form.len,
		.userpwd = userpwd, .timeout_ms = ti->timeout_ms,
	};
	r = xcalloc(1, sizeof(*r));
	r->ti = ti;
	r->done = done;
	r->arg = arg;
	if (http_request(&req, tw_done, r) < 0) {
		const struct send_report rep = { .outcome = SEND_TRANSIENT,
		    .error = "cannot start the request" };
		free(r);
		transport_report_later(ti->base, done, arg, &rep);
	}
	transport_secret_free(userpwd);
	buf_free(&form);
}

/* ------------------------------------------------------------------ */
/* The status callback */

/* Order of Twilio's message statuses; 0: unknown. Final ones are >= 4. */
static int
status_rank(const char *s)
{
	static const struct { const char *name; int rank; } v[] = {
		{ "accepted", 1 }, { "scheduled", 1 }, { "queued", 1 },
		{ "sending", 2 }, { "sent", 3 }, { "delivered", 4 },
		{ "undelivered", 5 }, { "failed", 5 }, { "canceled", 5 },
	};

	if (s == NULL)
		return 0;
	for (size_t i = 0; i < nitems(v); i++)
		if (strcmp(s, v[i].name) == 0)
			return v[i].rank;
	return -1;
}

/* Records a verified status for sid. */
static void
apply_status(struct tw_inst *ti, const char *sid, const char *status,
    const char *errcode)
{
	struct store *st = cd->store;
	struct delivery_row d = {0};
	int64_t id = 0;
	char *old = NULL, detail[160];
	const char *next = NULL;
	int rn = status_rank(status), ro, rc;
	bool failed = rn == 5, have = false;
	time_t now = daemon_now();

	if (rn < 0) {
		log_info("twilio callback: status \"%.20s\" ignored", status);
		return;
	}
	if (store_begin(st) < 0)
		goto dberr;
	rc = store_delivery_by_provider(st, ti->channel, sid, &id, &old);
	if (rc < 0)
		goto dberr;
	if (rc == 1) {
		store_rollback(st);
		log_info("twilio callback: no delivery has sid %s", sid);
		return;
	}
	ro = status_rank(old);
	if (ro >= 4 || rn <= ro) {
		store_rollback(st);
		log_info("twilio callback: delivery %lld stays %s (not %s)",
		    (long long)id, old ? old : "-", status);
		free(old);
		return;
	}
	if (store_delivery_provider_status(st, id, old, status, now) < 0)
		goto dberr;
	snprintf(detail, sizeof(detail), "%s %s%s%s", sid, status,
	    errcode ? " error " : "", errcode ? errcode : "");
	if ((rc = store_delivery_get(st, id, &d)) < 0)
		goto dberr;
	have = rc == 0;
	if (have && store_audit(st, now, "twilio", "provider_status",
	    d.alert_id, d.member, d.channel, detail) < 0)
		goto dberr;
	if (failed && have) {
		char why[96];
		snprintf(why, sizeof(why), "Twilio %s%s%s", status,
		    errcode ? " " : "", errcode ? errcode : "");
		rc = store_delivery_undelivered(st, id, why);
		if (rc < 0)
			goto dberr;
		/* Reached already by the page: no need for the next channel. */
		if (rc == 0 && d.confirmed_at == 0 && d.read_at == 0) {
			if (store_audit(st, now, "crisiscastd",
			    "delivery_failed", d.alert_id, d.member, d.channel,
			    why) < 0 || fanout_reroute(&d, now, &next) < 0)
				goto dberr;
		}
	}
	if (store_commit(st) < 0)
		goto dberr;
	log_info("twilio callback: delivery %lld %s -> %s%s%s", (long long)id,
	    old ? old : "-", status, next ? ", next channel " : "",
	    next ? next : "");
	if (next != NULL)
		fanout_kick();
	free(old);
	delivery_row_free(&d);
	return;
dberr:
	log_warnx("twilio callback: cannot record: %s", store_error(st));
	store_rollback(st);
	free(old);
	if (have)
		delivery_row_free(&d);
}

static void
tw_callback(struct evhttp_request *req, void *arg)
{
	struct tw_inst *ti = arg;
	const char *sig = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "X-Twilio-Signature");
	size_t len;
	struct tw_status st;
	enum cb_verdict v;
	char *body;

	if ((body = transport_callback_body(req, ti, TW_CALLBACK_MAX,
	    &len)) == NULL)
		return;
	v = tw_status_parse(ti->auth_token, ti->callback_url, ti->account_sid,
	    sig, body, len, &st);
	free(body);
	if (v == CB_FORBIDDEN) {
		log_warnx("twilio callback: bad signature, refused");
		transport_callback_reply(req, 403, "Forbidden");
		return;
	}
	if (v != CB_OK) {
		transport_callback_reply(req, HTTP_BADREQUEST, "Bad Request");
		return;
	}
	apply_status(ti, st.sid, st.status, st.errcode);
	tw_status_free(&st);
	transport_callback_reply(req, HTTP_OK, "OK");
}

/* ------------------------------------------------------------------ */

static void
tw_free(void *inst)
{
	struct tw_inst *ti = inst;

	free(ti->channel);
	free(ti->account_sid);
	transport_secret_free(ti->auth_token);
	free(ti->from);
	free(ti->url);
	free(ti->callback_url);
	free(ti);
}

static void *
tw_init(struct event_base *base, const struct transport_conf *tc,
    const struct config *c, char *err, size_t errsz)
{
	struct tw_inst *ti = xcalloc(1, sizeof(*ti));
	const char *sid, *from, *api = TW_API_BASE;
	size_t n;

	yget_str(tc->node, "account_sid", true, NULL, &sid);
	yget_str(tc->node, "from", true, NULL, &from);
	yget_str(tc->node, "api_base", false, NULL, &api);
	n = strlen(api);
	while (n > 0 && api[n - 1] == '/')
		n--;
	ti->base = base;
	ti->channel = xstrdup(tc->channel);
	ti->account_sid = xstrdup(sid);
	ti->from = xstrdup(from);
	ti->url = xasprintf("%.*s/2010-04-01/Accounts/%s/Messages.json",
	    (int)n, api, sid);
	ti->callback_url = xasprintf("%s%s", c->public_url, TW_ROUTE);
	ti->timeout_ms = transport_timeout_ms(tc, HTTP_DEFAULT_TIMEOUT_MS);
	if ((ti->auth_token = transport_secret(tc, c, "auth_token_file", err,
	    errsz)) == NULL) {
		tw_free(ti);
		return NULL;
	}
	httpd_route(TW_ROUTE, tw_callback, ti);
	return ti;
}

const struct transport transport_twilio = {
	.name = "twilio",
	.check = tw_check,
	.init = tw_init,
	.send = tw_send,
	.free = tw_free,
	.max_inflight = 8,
};
