/*
 * transport.c: the registry of transports and the running instances, one
 * per configured channel, and what the transports share (secrets, reading
 * an HTTP reply, reporting from the loop, callback routes). Unknown types
 * and bad settings fail at config load (crisiscastd -n), never at send
 * time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon.h"
#include "http_client.h"

static const struct transport *const transports[] = {
	&transport_file,
	&transport_webhook,
	&transport_ntfy,
	&transport_exec,
	&transport_lineworks,
	&transport_twilio,
	&transport_smtp,
};

const struct transport *
transport_lookup(const char *type)
{
	for (size_t i = 0; i < nitems(transports); i++)
		if (strcmp(transports[i]->name, type) == 0)
			return transports[i];
	return NULL;
}

/* A report waiting for the loop's next turn; the strings follow it. */
struct report_later {
	send_done done;
	void *arg;
	struct send_report r;
	char strings[];
};

static void
report_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct report_later *l = arg;

	(void)fd;
	(void)what;
	l->done(l->arg, &l->r);
	free(l);
}

void
transport_report_later(struct event_base *base, send_done done, void *arg,
    const struct send_report *r)
{
	size_t elen = r->error ? strnlen(r->error, TRANSPORT_ERROR_MAX - 1) : 0;
	size_t plen = r->provider_id ? strlen(r->provider_id) : 0;
	struct report_later *l = xcalloc(1, sizeof(*l) + elen + plen + 2);
	char *p = l->strings;

	l->done = done;
	l->arg = arg;
	l->r = *r;
	if (r->error != NULL) {
		memcpy(p, r->error, elen);
		l->r.error = p;
		p += elen + 1;
	}
	if (r->provider_id != NULL) {
		memcpy(p, r->provider_id, plen);
		l->r.provider_id = p;
	}
	if (event_base_once(base, -1, EV_TIMEOUT, report_later_cb, l,
	    NULL) < 0)
		fatalx("event_base_once failed");
}

#define SECRET_MAX 16384

char *
transport_secret(const struct transport_conf *tc, const struct config *c,
    const char *key, char *err, size_t errsz)
{
	const char *name = NULL, *creds = getenv("CREDENTIALS_DIRECTORY");
	char *path = NULL, *s;
	size_t len;

	if (!yget_str(tc->node, key, false, NULL, &name)) {
		snprintf(err, errsz, "transport %s: missing %s", tc->channel, key);
		return NULL;
	}
	if (name[0] != '/' && creds != NULL) {
		path = xasprintf("%s/%s", creds, name);
		if (access(path, R_OK) < 0) {
			free(path);
			path = NULL;
		}
	}
	if (path == NULL)
		path = config_path(c, name);
	s = read_file(path, SECRET_MAX, &len);
	if (s == NULL) {
		snprintf(err, errsz, "transport %s: %s %s: %s", tc->channel, key,
		    path, errno == EFBIG ? "too large" : strerror(errno));
		free(path);
		return NULL;
	}
	free(path);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (len == 0 || strlen(s) != len) {
		snprintf(err, errsz, "transport %s: %s is empty or binary",
		    tc->channel, key);
		free(s);
		return NULL;
	}
	return s;
}

void
transport_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

char *
transport_check_secret(const struct transport_conf *tc,
    const struct config *c, const char *key, bool required, struct diags *d)
{
	const char *s;
	char err[256], *v;

	if (!yget_str(tc->node, key, required, d, &s))
		return NULL;
	if ((v = transport_secret(tc, c, key, err, sizeof(err))) == NULL)
		ydiag(d, ymap_get(tc->node, key), "%s", err);
	return v;
}

int
transports_check(const struct config *c, struct diags *d)
{
	size_t errs = diag_errors(d);

	for (size_t i = 0; i < c->ntransports; i++) {
		const struct transport_conf *tc = &c->transports[i];
		const struct transport *t = transport_lookup(tc->type);
		if (t == NULL) {
			struct buf b = {0};
			for (size_t j = 0; j < nitems(transports); j++)
				buf_printf(&b, "%s%s", j ? ", " : "",
				    transports[j]->name);
			ydiag(d, ymap_get(tc->node, "type"), "unknown transport "
			    "type \"%s\" (known: %s)", tc->type, b.data);
			buf_free(&b);
			continue;
		}
		t->check(tc, c, d);
	}
	return diag_errors(d) == errs ? 0 : -1;
}

/*
 * The dispatcher's limits of one channel: `concurrency` (else the
 * transport's max_inflight) and a token bucket holding one second's worth
 * of tokens (at least one), full at start.
 */
static void
transport_limits(struct transport_inst *ti, const struct transport_conf *tc)
{
	long v;

	ti->max_inflight = ti->vt->max_inflight;
	if (yget_long(tc->node, "concurrency", 1, 10000, false, NULL, &v))
		ti->max_inflight = (int)v;
	ti->rate = 0;
	if (yget_long(tc->node, "rate_per_second", 1, 100000, false, NULL, &v))
		ti->rate = (double)v;
	else if (yget_long(tc->node, "rate_per_minute", 1, 6000000, false,
	    NULL, &v))
		ti->rate = (double)v / 60.0;
	ti->burst = ti->rate > 1 ? ti->rate : 1;
	ti->tokens = ti->burst;
	ti->refilled_at = 0;
	ti->paused_until = 0;
}

int
transports_start(const struct config *c, char *err, size_t errsz)
{
	cd->transports = xcalloc(c->ntransports, sizeof(*cd->transports));
	for (size_t i = 0; i < c->ntransports; i++) {
		const struct transport_conf *tc = &c->transports[i];
		struct transport_inst *ti = &cd->transports[i];
		ti->vt = transport_lookup(tc->type);
		ti->channel = xstrdup(tc->channel);
		transport_limits(ti, tc);
		ti->inst = ti->vt->init(cd->base, tc, c, err, errsz);
		cd->ntransports++;
		if (ti->inst == NULL)
			return -1;
	}
	return 0;
}

void
transports_stop(void)
{
	for (size_t i = 0; i < cd->ntransports; i++) {
		struct transport_inst *ti = &cd->transports[i];
		if (ti->inst != NULL)
			ti->vt->free(ti->inst);
		free(ti->channel);
	}
	free(cd->transports);
	cd->transports = NULL;
	cd->ntransports = 0;
}

struct transport_inst *
transport_for(const char *channel)
{
	for (size_t i = 0; i < cd->ntransports; i++)
		if (strcmp(cd->transports[i].channel, channel) == 0)
			return &cd->transports[i];
	return NULL;
}

void
transport_check_common(const struct transport_conf *tc, struct diags *d)
{
	long v;
	bool ps, pm;

	yget_long(tc->node, "concurrency", 1, 10000, false, d, &v);
	ps = yget_long(tc->node, "rate_per_second", 1, 100000, false, d, &v);
	pm = yget_long(tc->node, "rate_per_minute", 1, 6000000, false, d, &v);
	if (ps && pm)
		ydiag(d, ymap_key(tc->node, "rate_per_minute"), "give "
		    "rate_per_second or rate_per_minute, not both");
	if (yget_duration(tc->node, "timeout", false, d, &v) && v < 1)
		ydiag(d, ymap_get(tc->node, "timeout"), "\"timeout\" must be "
		    "at least 1s");
}

long
transport_timeout_ms(const struct transport_conf *tc, long def)
{
	long v;

	if (yget_duration(tc->node, "timeout", false, NULL, &v) && v > 0)
		return v * 1000;
	return def;
}

bool
transport_check_url(const struct transport_conf *tc, const char *key,
    bool required, struct diags *d, const char **out)
{
	const char *s;

	if (!yget_str(tc->node, key, required, d, &s))
		return false;
	if (!startswith(s, "http://") && !startswith(s, "https://")) {
		ydiag(d, ymap_get(tc->node, key), "\"%s\" must be an http:// "
		    "or https:// URL, not \"%s\"", key, s);
		return false;
	}
	if (strpbrk(s, " \t\r\n") != NULL) {
		ydiag(d, ymap_get(tc->node, key), "\"%s\" must not contain "
		    "white space", key);
		return false;
	}
	*out = s;
	return true;
}

long
transport_retry_after(const char *v)
{
	long secs;
	time_t t;

	if (v == NULL)
		return -1;
	while (*v == ' ')
		v++;
	if (parse_long(v, 0, 86400, &secs) == 0)
		return secs;
	if ((t = curl_getdate(v, NULL)) < 0)
		return -1;
	t -= time(NULL);
	return t < 0 ? 0 : t > 86400 ? 86400 : (long)t;
}

/* The start of a reply body, printable ASCII only, for error texts. */
static void
body_excerpt(const struct http_response *resp, char *out, size_t outsz)
{
	size_t j = 0;

	for (size_t i = 0; i < resp->body_len && j + 1 < outsz && j < 120;
	    i++) {
		unsigned char ch = (unsigned char)resp->body[i];
		out[j++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '.';
	}
	out[j] = '\0';
}

void
transport_http_outcome(const struct http_response *resp,
    struct send_report *r, char *err, size_t errsz)
{
	long st = resp->status, ra;
	char body[128];

	memset(r, 0, sizeof(*r));
	r->error = err;
	err[0] = '\0';
	if (resp->result != CURLE_OK && (st < 200 || st > 299)) {
		r->outcome = SEND_TRANSIENT;
		snprintf(err, errsz, "%s%s",
		    resp->result == CURLE_OPERATION_TIMEDOUT ? "timeout: " :
		    "no reply: ", resp->error);
		return;
	}
	if (st >= 200 && st <= 299) {
		r->outcome = SEND_ACCEPTED;
		r->error = NULL;
		return;
	}
	body_excerpt(resp, body, sizeof(body));
	snprintf(err, errsz, "HTTP %ld%s%s", st, body[0] ? ": " : "", body);
	if (st == 408 || st == 425 || st == 429 || st >= 500) {
		r->outcome = SEND_TRANSIENT;
		ra = transport_retry_after(http_response_header(resp,
		    "Retry-After"));
		/* Without Retry-After, the reset of a RateLimit-Reset
		 * (IETF draft) or X-RateLimit-Reset header, in seconds. */
		if (ra < 0 && (st == 429 || st == 503))
			ra = transport_retry_after(http_response_header(resp,
			    "RateLimit-Reset"));
		if (ra < 0 && (st == 429 || st == 503))
			ra = transport_retry_after(http_response_header(resp,
			    "X-RateLimit-Reset"));
		if (ra >= 0) {
			r->retry_after = ra > 0 ? ra : 1;
			if (st == 429 || st == 503)
				r->pause_secs = r->retry_after;
		}
		return;
	}
	r->outcome = SEND_PERMANENT;
}

void
transport_callback_reply(struct evhttp_request *req, int code,
    const char *reason)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(b, "%s\n", reason);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

char *
transport_callback_body(struct evhttp_request *req, const void *inst,
    size_t max, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	char *body;

	*len = evbuffer_get_length(in);
	if (inst == NULL) {
		transport_callback_reply(req, HTTP_NOTFOUND, "Not Found");
		return NULL;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		transport_callback_reply(req, HTTP_BADMETHOD,
		    "Method Not Allowed");
		return NULL;
	}
	if (*len > max) {
		transport_callback_reply(req, 413, "Payload Too Large");
		return NULL;
	}
	body = xmalloc(*len + 1);
	evbuffer_copyout(in, body, *len);
	body[*len] = '\0';
	return body;
}

/* A request of transport_http_send(), from the send to its report. */
struct http_send {
	transport_accepted accepted;
	send_done done;
	void *arg;
};

static void
http_send_reply(void *arg, const struct http_response *resp)
{
	struct http_send *hs = arg;
	struct send_report r;
	char err[256], id[64];

	transport_http_outcome(resp, &r, err, sizeof(err));
	if (r.outcome == SEND_ACCEPTED && hs->accepted != NULL)
		hs->accepted(resp, &r, id, sizeof(id), err, sizeof(err));
	hs->done(hs->arg, &r);
	free(hs);
}

void
transport_http_send(struct event_base *base, const struct http_request *req,
    transport_accepted accepted, send_done done, void *arg)
{
	struct http_send *hs = xcalloc(1, sizeof(*hs));
	char err[TRANSPORT_ERROR_MAX];
	const struct send_report r = { .outcome = SEND_TRANSIENT,
	    .error = err };

	hs->accepted = accepted;
	hs->done = done;
	hs->arg = arg;
	if (http_request(req, http_send_reply, hs) == 0)
		return;
	free(hs);
	snprintf(err, sizeof(err), "cannot start the request to %s", req->url);
	transport_report_later(base, done, arg, &r);
}

char *
outmsg_json(const struct outmsg *m)
{
	cJSON *o = cJSON_CreateObject(), *resp;
	char *s;

	cJSON_AddStringToObject(o, "key", m->key);
	cJSON_AddNumberToObject(o, "alert", (double)m->alert_id);
	cJSON_AddStringToObject(o, "kind", m->kind);
	cJSON_AddStringToObject(o, "member", m->member);
	cJSON_AddStringToObject(o, "name", m->name ? m->name : "");
	cJSON_AddStringToObject(o, "address", m->address);
	cJSON_AddStringToObject(o, "tag", m->tag ? m->tag : "");
	cJSON_AddStringToObject(o, "priority",
	    tag_priority_name(m->priority));
	cJSON_AddBoolToObject(o, "drill", m->drill);
	cJSON_AddStringToObject(o, "subject", m->subject ? m->subject : "");
	cJSON_AddStringToObject(o, "text", m->text_long ? m->text_long : "");
	cJSON_AddStringToObject(o, "link", m->link ? m->link : "");
	resp = cJSON_AddArrayToObject(o, "responses");
	for (size_t i = 0; i < m->nresponses; i++)
		cJSON_AddItemToArray(resp, cJSON_CreateString(m->responses[i]));
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}
