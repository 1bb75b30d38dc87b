/*
 * fuzz_callbacks: the LINE WORKS and Twilio callback parsers
 * (lib/callback.c), as the daemon's routes call them.  The first byte picks
 * the provider and whether the input is signed with the right secret (so
 * the decoding behind the signature check is reached too); the rest is
 * the signature header, NUL, the bot id header, NUL, the body.  LINE WORKS
 * postbacks found in verified events are also run through
 * lw_postback_parse, and the raw body is tried as a postback and as a
 * Directory reply (lw_user_parse).
 *
 * Contract: unsigned or wrongly signed input is never CB_OK; a CB_OK
 * result holds strings within the documented limits; a Directory reply
 * gives either a userId within LW_USER_MAX or a reason, never both.
 */
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "fuzz.h"

#include "callback.h"
#include "util.h"

#define SECRET	"botsecret"
#define BOT	"bot1"
#define TOKEN	"authtoken"
#define URL	"https://alert.example.lg.jp/callback/twilio"
#define ACCOUNT	"AC0123456789abcdef0123456789abcdef"

static const uint8_t ack_key[SHA256_BYTES] = { 1, 2, 3, 4, 5 };

static void
lineworks(const char *sig, const char *bot, const char *body, size_t len,
    int sign)
{
	uint8_t mac[SHA256_BYTES];
	char want[2 * SHA256_BYTES];
	struct lw_event ev;
	enum cb_verdict v;

	if (sign) {
		crypto_hmac_sha256(SECRET, strlen(SECRET), body, len, mac);
		b64_encode(mac, sizeof(mac), want);
		sig = want;
		bot = BOT;
	}
	v = lw_event_parse(SECRET, BOT, sig, bot, body, len, &ev);
	if (v == CB_OK) {
		int64_t id;
		size_t choice;
		if ((ev.user == NULL) != (ev.postback == NULL) ||
		    (ev.user != NULL && strlen(ev.user) > LW_USER_MAX) ||
		    strlen(ev.type) >= sizeof(ev.type))
			abort();
		if (ev.postback != NULL && lw_postback_parse(ack_key,
		    ev.postback, 10, &id, &choice) == 0 &&
		    (id <= 0 || choice >= 10))
			abort();
	} else if (ev.user != NULL || ev.postback != NULL)
		abort();
	lw_event_free(&ev);
}

/* Twilio's signature of body as the daemon would see it, or "" when the
 * body is not a form (tw_status_parse refuses it before the check). */
static void
tw_sign(const char *body, size_t len, char out[TWILIO_SIG_CHARS + 1])
{
	struct evkeyvalq q;
	struct evkeyval *kv;
	struct crypto_param p[TW_CALLBACK_FIELDS];
	size_t n = 0;

	out[0] = '\0';
	TAILQ_INIT(&q);
	if (strlen(body) == len && evhttp_parse_query_str(body, &q) == 0) {
		TAILQ_FOREACH(kv, &q, next) {
			if (n == TW_CALLBACK_FIELDS)
				break;
			p[n++] = (struct crypto_param){ kv->key, kv->value };
		}
		twilio_signature(TOKEN, URL, p, n, out);
	}
	evhttp_clear_headers(&q);
}

static void
twilio(const char *sig, const char *body, size_t len, int sign)
{
	char want[TWILIO_SIG_CHARS + 1];
	struct tw_status st;

	if (sign) {
		tw_sign(body, len, want);
		sig = want;
	}
	if (tw_status_parse(TOKEN, URL, ACCOUNT, sig, body, len, &st) ==
	    CB_OK) {
		if (st.sid == NULL || st.status == NULL ||
		    strlen(st.sid) > 64 || strlen(st.status) > 32 ||
		    (st.errcode != NULL && (strlen(st.errcode) > 16 ||
		    st.errcode[0] == '\0')))
			abort();
	} else if (st.sid != NULL || st.status != NULL || st.errcode != NULL)
		abort();
	tw_status_free(&st);
}

/* The body as a Directory reply: a userId within the limits, or a
 * reason and no userId. */
static void
directory(const char *body, size_t len)
{
	char *user = NULL, err[64] = "";

	if (lw_user_parse(body, len, &user, err, sizeof(err)) == 0) {
		if (user == NULL || user[0] == '\0' ||
		    strlen(user) > LW_USER_MAX)
			abort();
		for (const char *p = user; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	} else if (user != NULL || err[0] == '\0')
		abort();
	free(user);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *body, *sig, *bot;
	size_t n, blen;

	if (size == 0)
		return 0;
	n = size - 1;
	s = fuzz_cstr(data + 1, n);
	/* sig NUL bot NUL body: the body is the rest, NULs included */
	sig = s;
	bot = memchr(s, '\0', n + 1) + 1;
	if (bot > s + n)
		bot = s + n;
	body = memchr(bot, '\0', (size_t)(s + n - bot) + 1) + 1;
	if (body > s + n)
		body = s + n;
	blen = (size_t)(s + n - body);
	body = fuzz_cstr((const uint8_t *)body, blen);	/* exact size */
	switch (data[0] & 3) {
	case 0:
	case 1:
		lineworks(sig, bot, body, blen, data[0] & 1);
		break;
	default:
		twilio(sig, body, blen, data[0] & 1);
		break;
	}
	{
		int64_t id;
		size_t choice;
		(void)lw_postback_parse(ack_key, body, 10, &id, &choice);
	}
	directory(body, blen);
	free(body);
	free(s);
	return 0;
}
