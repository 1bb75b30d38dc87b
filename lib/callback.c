/*
 * callback.c: parse and verify provider callbacks (see callback.h).
 * Must never log, exit or keep state: the transports decide what a verdict
 * means and what to log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "callback.h"
#include "util.h"

void
lw_postback_make(const uint8_t key[SHA256_BYTES], int64_t delivery,
    size_t choice, char *out, size_t outsz)
{
	char msg[64], mac_b64[2 * LW_MAC_BYTES + 1];
	uint8_t mac[SHA256_BYTES];

	snprintf(msg, sizeof(msg), "%lld:%zu", (long long)delivery, choice);
	crypto_hmac_sha256(key, SHA256_BYTES, msg, strlen(msg), mac);
	b64url_encode(mac, LW_MAC_BYTES, mac_b64);
	snprintf(out, outsz, "ack:%s:%s", msg, mac_b64);
}

int
lw_postback_parse(const uint8_t key[SHA256_BYTES], const char *s,
    size_t max_choice, int64_t *delivery, size_t *choice)
{
	long long id;
	unsigned long ch;
	int used = 0;
	char want[128];

	if (strlen(s) > LW_POSTBACK_MAX || sscanf(s, "ack:%lld:%lu:%n", &id,
	    &ch, &used) != 2 || used == 0 || id <= 0 || ch >= max_choice)
		return -1;
	lw_postback_make(key, id, ch, want, sizeof(want));
	if (strlen(s) != strlen(want) || !crypto_equal(s, want, strlen(want)))
		return -1;
	*delivery = id;
	*choice = ch;
	return 0;
}

enum cb_verdict
lw_event_parse(const char *bot_secret, const char *bot_id, const char *sig,
    const char *bot, const char *body, size_t len, struct lw_event *ev)
{
	uint8_t mac[SHA256_BYTES];
	char want[2 * SHA256_BYTES];
	cJSON *o;

	memset(ev, 0, sizeof(*ev));
	crypto_hmac_sha256(bot_secret, strlen(bot_secret), body, len, mac);
	b64_encode(mac, sizeof(mac), want);
	if (sig == NULL || bot == NULL || strlen(sig) != strlen(want) ||
	    !crypto_equal(sig, want, strlen(want)) || strcmp(bot, bot_id) != 0)
		return CB_FORBIDDEN;
	o = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return CB_BAD;
	}

	const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(src, "userId");
	const cJSON *pb = NULL;
	if (cJSON_IsString(type) && strcmp(type->valuestring, "message") == 0)
		pb = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(o, "content"), "postback");
	else if (cJSON_IsString(type) &&
	    strcmp(type->valuestring, "postback") == 0)
		pb = cJSON_GetObjectItemCaseSensitive(o, "data");
	snprintf(ev->type, sizeof(ev->type), "%s",
	    cJSON_IsString(type) && strlen(type->valuestring) < 32 ?
	    type->valuestring : "an unknown");
	if (cJSON_IsString(pb) && cJSON_IsString(user) &&
	    strlen(user->valuestring) <= LW_USER_MAX) {
		ev->user = xstrdup(user->valuestring);
		ev->postback = xstrdup(pb->valuestring);
	}
	cJSON_Delete(o);
	return CB_OK;
}

void
lw_event_free(struct lw_event *ev)
{
	free(ev->user);
	free(ev->postback);
	memset(ev, 0, sizeof(*ev));
}

int
lw_user_parse(const char *body, size_t len, char **user, char *err,
    size_t errsz)
{
	const cJSON *id, *email;
	const char *why = NULL;
	cJSON *o = NULL;
	char *copy;

	*user = NULL;
	if (len > LW_USER_REPLY_MAX) {
		snprintf(err, errsz, "reply over %d bytes", LW_USER_REPLY_MAX);
		return -1;
	}
	copy = xmalloc(len + 1);
	memcpy(copy, body, len);
	copy[len] = '\0';
	if (strlen(copy) != len)
		why = "a NUL byte in the reply";
	else if ((o = cJSON_ParseWithOpts(copy, NULL, true)) == NULL)
		why = "not JSON";
	else if (!cJSON_IsObject(o))
		why = "not a JSON object";
	free(copy);
	if (why == NULL) {
		id = cJSON_GetObjectItemCaseSensitive(o, "userId");
		email = cJSON_GetObjectItemCaseSensitive(o, "email");
		if (id == NULL)
			why = "no userId";
		else if (!cJSON_IsString(id))
			why = "userId is not a string";
		else if (id->valuestring[0] == '\0' ||
		    strlen(id->valuestring) > LW_USER_MAX)
			why = "userId is empty or too long";
		else if (email != NULL && !cJSON_IsString(email))
			why = "email is not a string";
		else {
			for (const unsigned char *p =
			    (const unsigned char *)id->valuestring; *p; p++)
				if (*p < 0x20 || *p == 0x7f)
					why = "a control character in userId";
		}
	}
	if (why == NULL)
		*user = xstrdup(id->valuestring);
	else
		snprintf(err, errsz, "%s", why);
	cJSON_Delete(o);
	return why == NULL ? 0 : -1;
}

enum cb_verdict
tw_status_parse(const char *auth_token, const char *url,
    const char *account_sid, const char *sig, const char *body, size_t len,
    struct tw_status *st)
{
	struct evkeyvalq q;
	struct evkeyval *kv;
	struct crypto_param params[TW_CALLBACK_FIELDS];
	char want[TWILIO_SIG_CHARS + 1], *copy;
	const char *sid = NULL, *status = NULL, *acct = NULL, *errc = NULL;
	enum cb_verdict v = CB_OK;
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	copy = xmalloc(len + 1);
	memcpy(copy, body, len);
	copy[len] = '\0';
	TAILQ_INIT(&q);
	if (strlen(copy) != len || evhttp_parse_query_str(copy, &q) < 0) {
		free(copy);
		evhttp_clear_headers(&q);
		return CB_BAD;
	}
	free(copy);
	TAILQ_FOREACH(kv, &q, next) {
		if (n == nitems(params))
			break;
		params[n++] = (struct crypto_param){ kv->key, kv->value };
		if (strcmp(kv->key, "MessageSid") == 0)
			sid = kv->value;
		else if (strcmp(kv->key, "MessageStatus") == 0)
			status = kv->value;
		else if (strcmp(kv->key, "AccountSid") == 0)
			acct = kv->value;
		else if (strcmp(kv->key, "ErrorCode") == 0 && kv->value[0])
			errc = kv->value;
	}
	twilio_signature(auth_token, url, params, n, want);
	if (kv != NULL || sig == NULL || strlen(sig) != TWILIO_SIG_CHARS ||
	    !crypto_equal(sig, want, TWILIO_SIG_CHARS))
		v = CB_FORBIDDEN;
	else if (sid == NULL || status == NULL || strlen(sid) > 64 ||
	    strlen(status) > 32 || (errc != NULL && strlen(errc) > 16) ||
	    (acct != NULL && strcmp(acct, account_sid) != 0))
		v = CB_BAD;
	else {
		st->sid = xstrdup(sid);
		st->status = xstrdup(status);
		st->errcode = errc != NULL ? xstrdup(errc) : NULL;
	}
	evhttp_clear_headers(&q);
	return v;
}

void
tw_status_free(struct tw_status *st)
{
	free(st->sid);
	free(st->status);
	free(st->errcode);
	memset(st, 0, sizeof(*st));
}
