/*
 * transport_webhook.c: one JSON POST per delivery to a site's URL.
 *
 * The body is signed: X-Crisiscast-Signature: sha256=<hex HMAC-SHA256 of
 * the raw body, keyed with the contents of secret_file>, and carries the
 * delivery's key as Idempotency-Key, so a receiver can drop the repeat of a
 * request that was in flight when the daemon died. 2xx is accepted (the
 * provider id is the reply's JSON "id", if any); no reply, 408, 429 and 5xx
 * are transient (Retry-After honoured); any other status is permanent.
 * It never logs the body or the secret.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "http_client.h"

static const char *const webhook_keys[] = { TRANSPORT_COMMON_KEYS, "url",
	"secret_file", NULL };

struct webhook_inst {
	struct event_base *base;
	char *url;
	char *secret;
	long timeout_ms;
};

/* One request in flight. */
struct webhook_req {
	send_done done;
	void *arg;
	char error[200];		/* for a report without a request */
};

static void
webhook_check(const struct transport_conf *tc, const struct config *c,
    struct diags *d)
{
	const char *s;
	char err[256], *secret;

	if (!ymap_check(tc->node, "a webhook transport", webhook_keys, d))
		return;
	transport_check_common(tc, d);
	transport_check_url(tc, "url", true, d, &s);
	if (!yget_str(tc->node, "secret_file", true, d, &s))
		return;
	if ((secret = transport_secret(tc, c, "secret_file", err,
	    sizeof(err))) == NULL)
		ydiag(d, ymap_get(tc->node, "secret_file"), "%s", err);
	free(secret);
}

static void *
webhook_init(struct event_base *base, const struct transport_conf *tc,
    const struct config *c, char *err, size_t errsz)
{
	struct webhook_inst *wi = xcalloc(1, sizeof(*wi));
	const char *url;

	wi->base = base;
	yget_str(tc->node, "url", true, NULL, &url);
	wi->url = xstrdup(url);
	wi->timeout_ms = transport_timeout_ms(tc, HTTP_DEFAULT_TIMEOUT_MS);
	if ((wi->secret = transport_secret(tc, c, "secret_file", err,
	    errsz)) == NULL) {
		free(wi->url);
		free(wi);
		return NULL;
	}
	return wi;
}

static void
webhook_reply(void *arg, const struct http_response *resp)
{
	struct webhook_req *wr = arg;
	struct send_report r;
	char err[256], idbuf[64];

	transport_http_outcome(resp, &r, err, sizeof(err));
	if (r.outcome == SEND_ACCEPTED) {
		cJSON *o = cJSON_ParseWithLength(resp->body, resp->body_len);
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
		if (cJSON_IsString(id) && strlen(id->valuestring) < 60)
			r.provider_id = strcpy(idbuf, id->valuestring);
		else if (cJSON_IsNumber(id)) {
			snprintf(idbuf, sizeof(idbuf), "%.0f", id->valuedouble);
			r.provider_id = idbuf;
		}
		cJSON_Delete(o);
	}
	wr->done(wr->arg, &r);
	free(wr);
}

/* Reports a failure to start the request, from the loop. */
static void
webhook_fail_later(evutil_socket_t fd, short what, void *arg)
{
	struct webhook_req *wr = arg;
	struct send_report r = { .outcome = SEND_TRANSIENT,
	    .error = wr->error };

	(void)fd;
	(void)what;
	wr->done(wr->arg, &r);
	free(wr);
}

static void
webhook_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct webhook_inst *wi = inst;
	struct webhook_req *wr = xcalloc(1, sizeof(*wr));
	char *body = outmsg_json(m);
	size_t len = strlen(body);
	uint8_t mac[SHA256_BYTES];
	char sig[7 + 2 * SHA256_BYTES + 1];

	wr->done = done;
	wr->arg = arg;
	crypto_hmac_sha256(wi->secret, strlen(wi->secret), body, len, mac);
	memcpy(sig, "sha256=", 7);
	hex_encode(mac, sizeof(mac), sig + 7);
	const struct http_header h[] = {
		{ "Content-Type", "application/json; charset=utf-8" },
		{ "X-Crisiscast-Signature", sig },
		{ "Idempotency-Key", m->key },
	};
	const struct http_request req = {
		.method = "POST", .url = wi->url, .headers = h,
		.nheaders = nitems(h), .body = body, .body_len = len,
		.timeout_ms = wi->timeout_ms,
	};
	if (http_request(&req, webhook_reply, wr) < 0) {
		snprintf(wr->error, sizeof(wr->error), "cannot start the "
		    "request to %s", wi->url);
		if (event_base_once(wi->base, -1, EV_TIMEOUT,
		    webhook_fail_later, wr, NULL) < 0)
			fatalx("event_base_once failed");
	}
	free(body);
}

static void
webhook_free(void *inst)
{
	struct webhook_inst *wi = inst;

	explicit_bzero(wi->secret, strlen(wi->secret));
	free(wi->secret);
	free(wi->url);
	free(wi);
}

const struct transport transport_webhook = {
	.name = "webhook",
	.check = webhook_check,
	.init = webhook_init,
	.send = webhook_send,
	.free = webhook_free,
	.max_inflight = 64,
};
