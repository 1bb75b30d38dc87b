/*
 * callback.h: the pure parse-and-verify step of the provider callbacks
 * (LINE WORKS bot events and postbacks, and the Directory reply that ties
 * a login e-mail to the userId a callback carries; Twilio status
 * callbacks), split
 * out of daemon/transport_lineworks.c and daemon/transport_twilio.c so it
 * can be unit-tested and fuzzed without a loop or a database.
 *
 * Contract: nothing here logs, touches the store or keeps state; every
 * input is untrusted and is checked for size and shape; a verdict is one of
 * CB_OK, CB_BAD (400) or CB_FORBIDDEN (403). Uses libevent's
 * evhttp_parse_query_str (pure) for Twilio's form body, as before.
 */
#ifndef CRISISCAST_CALLBACK_H
#define CRISISCAST_CALLBACK_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

enum cb_verdict {
	CB_OK = 0,
	CB_BAD = -1,		/* malformed: 400 Bad Request */
	CB_FORBIDDEN = -2,	/* signature, bot or too many fields: 403 */
};

/* ---- LINE WORKS ---- */

#define LW_MAC_BYTES		12	/* postback mac, bytes before base64url */
#define LW_POSTBACK_MAX		100	/* longest postback accepted, bytes */
#define LW_USER_MAX		200	/* longest userId acted upon, bytes */

/*
 * Writes the postback "ack:<delivery>:<choice>:<mac>" into out (outsz >= 64
 * always suffices), mac = b64url(HMAC-SHA256(key, "<delivery>:<choice>"))
 * cut to LW_MAC_BYTES bytes.
 */
void lw_postback_make(const uint8_t key[SHA256_BYTES], int64_t delivery,
    size_t choice, char *out, size_t outsz);
/*
 * Parses and verifies s (NUL-terminated) as made by lw_postback_make with
 * key: 0 with *delivery > 0 and *choice < max_choice, or -1 (not ours,
 * forged, or out of range).
 */
int lw_postback_parse(const uint8_t key[SHA256_BYTES], const char *s,
    size_t max_choice, int64_t *delivery, size_t *choice);

/* A verified bot event. Strings are owned; free with lw_event_free(). */
struct lw_event {
	char type[32];	/* the event type, or "an unknown" (for logs) */
	char *user;	/* source.userId (<= LW_USER_MAX bytes), or NULL */
	char *postback;	/* the postback data, or NULL */
};
/*
 * Verifies and decodes a callback: body[0..len) (need not be
 * NUL-terminated) must carry sig == base64(HMAC-SHA256(bot_secret, body))
 * and bot == bot_id (either header may be NULL: CB_FORBIDDEN), and be a
 * JSON object (else CB_BAD). On CB_OK ev is filled; ev->user and
 * ev->postback are both set only for a "message" event with a
 * content.postback or a "postback" event with data, from a userId of at
 * most LW_USER_MAX bytes; otherwise the event is to be ignored. On any
 * other verdict ev is left empty.
 */
enum cb_verdict lw_event_parse(const char *bot_secret, const char *bot_id,
    const char *sig, const char *bot, const char *body, size_t len,
    struct lw_event *ev);
void lw_event_free(struct lw_event *ev);

#define LW_USER_REPLY_MAX	(64 * 1024)	/* longest Directory reply */
/*
 * Decodes the Directory API's answer to GET /users/{userId} (a
 * UserResponse), body[0..len) (need not be NUL-terminated; the caller has
 * checked the status): it must be exactly one JSON object, at most
 * LW_USER_REPLY_MAX bytes with no NUL, whose userId is a string of 1 to
 * LW_USER_MAX bytes without control characters, and whose email, when
 * given, is a string. Returns 0 with *user a copy of userId (free() it),
 * or -1 with *user NULL and the reason in err (errsz bytes; a short
 * phrase such as "not JSON" or "userId is not a string", for a log line).
 * Nothing else of the reply is used.
 */
int lw_user_parse(const char *body, size_t len, char **user, char *err,
    size_t errsz);

/* ---- Twilio ---- */

#define TW_CALLBACK_FIELDS	64	/* more fields: CB_FORBIDDEN */

/* A verified status callback. Strings are owned; tw_status_free(). */
struct tw_status {
	char *sid;	/* MessageSid, <= 64 bytes */
	char *status;	/* MessageStatus, <= 32 bytes */
	char *errcode;	/* ErrorCode when not empty (<= 16 bytes), or NULL */
};
/*
 * Verifies and decodes a status callback body[0..len) (need not be
 * NUL-terminated): CB_BAD when it holds a NUL or is not a form;
 * CB_FORBIDDEN when it has more than TW_CALLBACK_FIELDS fields or sig
 * (may be NULL) is not Twilio's signature of url and the fields with
 * auth_token; CB_BAD when MessageSid or MessageStatus is missing or too
 * long, ErrorCode is too long, or AccountSid is given and is not
 * account_sid. On CB_OK st is filled, else left empty.
 */
enum cb_verdict tw_status_parse(const char *auth_token, const char *url,
    const char *account_sid, const char *sig, const char *body, size_t len,
    struct tw_status *st);
void tw_status_free(struct tw_status *st);

#endif
