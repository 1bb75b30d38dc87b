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

static void
webhook_check(const struct transport_conf *tc, const struct config *c,
    struct diags *d)
{
	const char *s;

	if (!ymap_check(tc->node, "a webhook transport", webhook_keys, d))
		return;
	transport_check_common(tc, d);
	transport_check_url(tc, "url", true, d, &s);
	transport_secret_free(transport_check_secret(tc, c, "secret_file",
	    true, d));
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

/* The provider id: the reply's JSON "id", a string or a number, if any. */
static void
webhook_accepted(const struct http_response *resp, struct send_report *r,
    char *id, size_t idsz, char *err, size_t errsz)
{
	cJSON *o = cJSON_ParseWithLength(resp->body, resp->body_len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");

	(void)err;
	(void)errsz;
	if (cJSON_IsString(v) && strlen(v->valuestring) < 60) {
		snprintf(id, idsz, "%s", v->valuestring);
		r->provider_id = id;
	} else if (cJSON_IsNumber(v)) {
		snprintf(id, idsz, "%.0f", v->valuedouble);
		r->provider_id = id;
	}
	cJSON_Delete(o);
}

static void
webhook_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct webhook_inst *wi = inst;
	char *body = outmsg_json(m);
	size_t len = strlen(body);
	uint8_t mac[SHA256_BYTES];
	char sig[7 + 2 * SHA256_BYTES + 1];

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
	transport_http_send(wi->base, &req, webhook_accepted, done, arg);
	free(body);
}

static void
webhook_free(void *inst)
{
	struct webhook_inst *wi = inst;

	transport_secret_free(wi->secret);
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
