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

static void
ntfy_check(const struct transport_conf *tc, const struct config *c,
    struct diags *d)
{
	const char *s;
	char *tok;

	if (!ymap_check(tc->node, "an ntfy transport", ntfy_keys, d))
		return;
	transport_check_common(tc, d);
	transport_check_url(tc, "url", true, d, &s);
	tok = transport_check_secret(tc, c, "token_file", false, d);
	if (tok != NULL && strpbrk(tok, " \t\r\n") != NULL)
		ydiag(d, ymap_get(tc->node, "token_file"), "the token must be "
		    "one line without spaces");
	transport_secret_free(tok);
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
		transport_secret_free(tok);
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

/* The provider id: the reply's JSON "id", which ntfy always sends. */
static void
ntfy_accepted(const struct http_response *resp, struct send_report *r,
    char *id, size_t idsz, char *err, size_t errsz)
{
	cJSON *o = cJSON_ParseWithLength(resp->body, resp->body_len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");

	if (cJSON_IsString(v) && strlen(v->valuestring) < 60) {
		snprintf(id, idsz, "%s", v->valuestring);
		r->provider_id = id;
	} else {
		r->outcome = SEND_PERMANENT;
		snprintf(err, errsz, "HTTP %ld but no message id in the reply "
		    "(not an ntfy server?)", resp->status);
		r->error = err;
	}
	cJSON_Delete(o);
}

static void
ntfy_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct ntfy_inst *ni = inst;
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

	transport_http_send(ni->base, &req, ntfy_accepted, done, arg);
	free(body);
}

static void
ntfy_free(void *inst)
{
	struct ntfy_inst *ni = inst;

	transport_secret_free(ni->auth);
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
