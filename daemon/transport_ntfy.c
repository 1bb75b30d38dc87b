/*
 * transport_ntfy.c: push through an ntfy server, one JSON publish per
 * delivery (POST to the server root; the recipient's contact is the topic).
 *
 * The notification carries the title, the long text, a priority 1-5 from
 * the tag, tags, a click link to the recipient page, and actions: an `http`
 * action that confirms in one tap (POST "response=<choice>" to the page;
 * one per response choice, at most two, or one 確認しました when the tag has
 * none) and a `view` action 開く. ntfy has no idempotency key: a publish in
 * flight at a crash may show twice. Bearer token from token_file, if set.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "http_client.h"

#define NTFY_MAX_HTTP_ACTIONS	2	/* + view = ntfy's limit of 3 */

static const char *const ntfy_keys[] = { TRANSPORT_COMMON_KEYS, "url",
	"token_file", NULL };

struct ntfy_inst {
	struct event_base *base;
	char *url;			/* server root, no trailing slash */
	char *auth;			/* "Bearer …", or NULL */
	long timeout_ms;
};

struct ntfy_req {
	send_done done;
	void *arg;
	char error[200];
};

static void
ntfy_check(const struct transport_conf *tc, const struct config *c,
    struct diags *d)
{
	const char *s;
	char err[256], *tok;

	if (!ymap_check(tc->node, "an ntfy transport", ntfy_keys, d))
		return;
	transport_check_common(tc, d);
	transport_check_url(tc, "url", true, d, &s);
	if (yget_str(tc->node, "token_file", false, d, &s)) {
		if ((tok = transport_secret(tc, c, "token_file", err,
		    sizeof(err))) == NULL)
			ydiag(d, ymap_get(tc->node, "token_file"), "%s", err);
		else if (strpbrk(tok, " \t\r\n") != NULL)
			ydiag(d, ymap_get(tc->node, "token_file"), "the token "
			    "must be one line without spaces");
		free(tok);
	}
}

static void *
ntfy_init(struct event_base *base, const struct transport_conf *tc,
    const struct config *c, char *err, size_t errsz)
{
	struct ntfy_inst *ni = xcalloc(1, sizeof(*ni));
	const char *url, *s;
	size_t len;

	ni->base = base;
	yget_str(tc->node, "url", true, NULL, &url);
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	ni->url = xstrndup(url, len);
	ni->timeout_ms = transport_timeout_ms(tc, HTTP_DEFAULT_TIMEOUT_MS);
	if (yget_str(tc->node, "token_file", false, NULL, &s)) {
		char *tok = transport_secret(tc, c, "token_file", err, errsz);
		if (tok == NULL) {
			free(ni->url);
			free(ni);
			return NULL;
		}
		ni->auth = xasprintf("Bearer %s", tok);
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	return ni;
}

/* ntfy's 1 (min) .. 5 (max, urgent). */
static int
ntfy_priority(enum tag_priority p)
{
	switch (p) {
	case PRIO_LOW: return 2;
	case PRIO_NORMAL: return 3;
	case PRIO_HIGH: return 4;
	case PRIO_URGENT: return 5;
	}
	return 4;
}

/* "response=<choice>" form-encoded. Caller frees. */
static char *
form_response(const char *choice)
{
	struct buf b = {0};

	buf_adds(&b, "response=");
	for (const unsigned char *p = (const unsigned char *)choice; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf_addc(&b, (char)*p);
		else
			buf_printf(&b, "%%%02X", *p);
	}
	return buf_take(&b);
}

static void
add_confirm(cJSON *actions, const char *label, const char *choice,
    const char *link)
{
	cJSON *a = cJSON_CreateObject(), *h;
	char *body = form_response(choice);

	cJSON_AddStringToObject(a, "action", "http");
	cJSON_AddStringToObject(a, "label", label);
	cJSON_AddStringToObject(a, "url", link);
	cJSON_AddStringToObject(a, "method", "POST");
	h = cJSON_AddObjectToObject(a, "headers");
	cJSON_AddStringToObject(h, "Content-Type",
	    "application/x-www-form-urlencoded");
	cJSON_AddStringToObject(a, "body", body);
	cJSON_AddBoolToObject(a, "clear", true);
	cJSON_AddItemToArray(actions, a);
	free(body);
}

/* The JSON publish of one delivery. Caller frees. */
static char *
ntfy_body(const struct outmsg *m)
{
	cJSON *o = cJSON_CreateObject(), *tags, *actions;
	bool link = m->link != NULL && m->link[0] != '\0';
	char *s;

	cJSON_AddStringToObject(o, "topic", m->address);
	cJSON_AddStringToObject(o, "title", m->subject ? m->subject : "");
	cJSON_AddStringToObject(o, "message", m->text_long ? m->text_long : "");
	cJSON_AddNumberToObject(o, "priority", ntfy_priority(m->priority));
	tags = cJSON_AddArrayToObject(o, "tags");
	cJSON_AddItemToArray(tags, cJSON_CreateString(
	    m->priority >= PRIO_HIGH ? "rotating_light" : "information_source"));
	if (m->drill)
		cJSON_AddItemToArray(tags, cJSON_CreateString("訓練"));
	if (link) {
		cJSON_AddStringToObject(o, "click", m->link);
		actions = cJSON_AddArrayToObject(o, "actions");
		if (strcmp(m->kind, "alert") != 0 || m->nresponses == 0)
			add_confirm(actions, "確認しました", "", m->link);
		for (size_t i = 0; strcmp(m->kind, "alert") == 0 &&
		    i < m->nresponses && i < NTFY_MAX_HTTP_ACTIONS; i++)
			add_confirm(actions, m->responses[i], m->responses[i],
			    m->link);
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "action", "view");
		cJSON_AddStringToObject(v, "label", "開く");
		cJSON_AddStringToObject(v, "url", m->link);
		cJSON_AddItemToArray(actions, v);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void
ntfy_reply(void *arg, const struct http_response *resp)
{
	struct ntfy_req *nr = arg;
	struct send_report r;
	char err[256], idbuf[64];

	transport_http_outcome(resp, &r, err, sizeof(err));
	if (r.outcome == SEND_ACCEPTED) {
		cJSON *o = cJSON_ParseWithLength(resp->body, resp->body_len);
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
		if (cJSON_IsString(id) && strlen(id->valuestring) < 60) {
			snprintf(idbuf, sizeof(idbuf), "%s", id->valuestring);
			r.provider_id = idbuf;
		} else {
			/* ntfy always answers the message with its id. */
			r.outcome = SEND_PERMANENT;
			snprintf(err, sizeof(err), "HTTP %ld but no message id "
			    "in the reply (not an ntfy server?)", resp->status);
			r.error = err;
		}
		cJSON_Delete(o);
	}
	nr->done(nr->arg, &r);
	free(nr);
}

static void
ntfy_fail_later(evutil_socket_t fd, short what, void *arg)
{
	struct ntfy_req *nr = arg;
	struct send_report r = { .outcome = SEND_TRANSIENT,
	    .error = nr->error };

	(void)fd;
	(void)what;
	nr->done(nr->arg, &r);
	free(nr);
}

static void
ntfy_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct ntfy_inst *ni = inst;
	struct ntfy_req *nr = xcalloc(1, sizeof(*nr));
	char *body = ntfy_body(m);
	struct http_header h[2] = {
		{ "Content-Type", "application/json; charset=utf-8" },
		{ "Authorization", ni->auth },
	};
	const struct http_request req = {
		.method = "POST", .url = ni->url, .headers = h,
		.nheaders = ni->auth ? 2 : 1, .body = body,
		.body_len = strlen(body), .timeout_ms = ni->timeout_ms,
	};

	nr->done = done;
	nr->arg = arg;
	if (http_request(&req, ntfy_reply, nr) < 0) {
		snprintf(nr->error, sizeof(nr->error), "cannot start the "
		    "request to %s", ni->url);
		if (event_base_once(ni->base, -1, EV_TIMEOUT, ntfy_fail_later,
		    nr, NULL) < 0)
			fatalx("event_base_once failed");
	}
	free(body);
}

static void
ntfy_free(void *inst)
{
	struct ntfy_inst *ni = inst;

	if (ni->auth != NULL) {
		explicit_bzero(ni->auth, strlen(ni->auth));
		free(ni->auth);
	}
	free(ni->url);
	free(ni);
}

const struct transport transport_ntfy = {
	.name = "ntfy",
	.check = ntfy_check,
	.init = ntfy_init,
	.send = ntfy_send,
	.free = ntfy_free,
	.max_inflight = 32,
};
