/*
 * transport.h: the interface every transport implements, one const vtable
 * per file (transport_<name>.c).
 *
 * Contract for send(): it must not block and must not call done() before it
 * returns; it calls done() exactly once, later, from the event loop, with
 * the outcome: accepted (with the provider's id), transient (retry after N
 * seconds) or permanent. The message and its strings are valid only during
 * send(): copy what you keep.
 */
#ifndef CRISISCAST_TRANSPORT_H
#define CRISISCAST_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "rules.h"

enum send_outcome { SEND_ACCEPTED, SEND_TRANSIENT, SEND_PERMANENT };

struct send_report {
	enum send_outcome outcome;
	long retry_after;		/* seconds, for SEND_TRANSIENT; 0 = backoff */
	/* Seconds during which the provider takes no request at all on this
	 * channel (429 Retry-After, LINE WORKS rateLimit-reset); the
	 * dispatcher sends nothing through the channel before then. Any
	 * outcome may carry it; 0 = no pause. */
	long pause_secs;
	const char *provider_id;	/* for SEND_ACCEPTED, may be NULL */
	const char *error;		/* for failures */
};

typedef void (*send_done)(void *arg, const struct send_report *r);

/*
 * Calls done(arg, <a copy of r>) on the loop's next turn, never from inside
 * this call: for a send() that knows its outcome before any request is
 * under way (a bad address, a request that could not be started, a file
 * write) and so must not report yet. r and the strings it points to are
 * copied now; the caller may free or reuse them as soon as this returns.
 * In the copy, error is cut to TRANSPORT_ERROR_MAX - 1 bytes, provider_id
 * is kept whole, and a NULL stays NULL. done() gets arg untouched (what arg
 * owns is done()'s to free, as with any report); the copy it is given is
 * valid only during the call and is freed when done() returns. If the
 * loop is freed before its next turn, done() is never called. If the event
 * cannot be scheduled the daemon stops (fatalx): a delivery whose report
 * never came would stay in flight for good.
 */
#define TRANSPORT_ERROR_MAX	200
void	transport_report_later(struct event_base *base, send_done done,
	    void *arg, const struct send_report *r);

struct outmsg {
	const char *key;		/* idempotency key, unique per delivery */
	int64_t delivery_id;
	int64_t alert_id;
	const char *kind;		/* "alert", "approval" or "notice" (a
					   note to one person: link is "") */
	const char *member, *name;
	const char *channel, *address;
	const char *tag;		/* label, 【…】 */
	enum tag_priority priority;
	bool drill;
	const char *text_long;		/* rendered long form */
	const char *text_sms;		/* rendered sms form */
	const char *subject;		/* e-mail subject, push title */
	const char *link;		/* the recipient (or approval) page */
	/* The choices a confirmation may carry (tag responses); a POST of
	 * "response=<choice>" to link confirms. Empty for approvals. */
	const char *const *responses;
	size_t nresponses;
	long valid_secs;		/* how long the message is worth sending
					   (SMS ValidityPeriod); 0: no limit */
};

struct transport {
	const char *name;		/* the config's `type` */
	/* Checks the settings at config load: every problem into d. */
	void (*check)(const struct transport_conf *tc, const struct config *c,
	    struct diags *d);
	/* Creates an instance for one channel; NULL + err on failure. */
	void *(*init)(struct event_base *base, const struct transport_conf *tc,
	    const struct config *c, char *err, size_t errsz);
	void (*send)(void *inst, const struct outmsg *m, send_done done,
	    void *arg);
	void (*free)(void *inst);
	int max_inflight;		/* concurrency per channel */
};

struct transport_inst {
	const struct transport *vt;
	void *inst;
	char *channel;
	int inflight;
	/* Dispatcher state (fanout.c): concurrency cap (`concurrency` or
	 * vt->max_inflight), token bucket (`rate_per_second`/`_minute`; rate 0
	 * = unlimited) and a pause until a provider's reset, in
	 * CLOCK_MONOTONIC seconds. */
	int max_inflight;
	double rate;			/* tokens per second, 0: no limit */
	double burst, tokens, refilled_at;
	double paused_until;
	unsigned long pauses;		/* provider pauses so far (metrics) */
};

extern const struct transport transport_file;
extern const struct transport transport_webhook;
extern const struct transport transport_ntfy;
extern const struct transport transport_exec;
extern const struct transport transport_lineworks;
extern const struct transport transport_twilio;
extern const struct transport transport_smtp;

const struct transport *transport_lookup(const char *type);

/*
 * A secret named by the setting `key` (e.g. "auth_token_file"): the file's
 * contents with trailing newlines cut. A relative name is looked for in
 * $CREDENTIALS_DIRECTORY (systemd LoadCredential) first, then next to the
 * config. Returns a new string, or NULL with err filled. Secrets are never
 * written in the config itself.
 */
char *transport_secret(const struct transport_conf *tc, const struct config *c,
    const char *key, char *err, size_t errsz);
/* Wipes and frees a secret, or anything holding one; NULL is fine. */
void	transport_secret_free(char *s);
/*
 * For check(): the secret named by `key`, read as transport_secret() does,
 * for the caller's own checks of it (the caller frees it); NULL when the
 * setting is absent (an error in d when required) or cannot be read (the
 * error in d, at the setting).
 */
char *transport_check_secret(const struct transport_conf *tc,
    const struct config *c, const char *key, bool required, struct diags *d);

/*
 * Settings every transport accepts (the dispatcher's): put
 * TRANSPORT_COMMON_KEYS in a transport's allowed keys and call
 * transport_check_common() from its check(). `concurrency` overrides
 * max_inflight; `rate_per_second` or `rate_per_minute` (not both) is a
 * token-bucket limit; `timeout` (a duration) is the per-request timeout.
 */
#define TRANSPORT_COMMON_KEYS "type", "concurrency", "rate_per_second", \
	"rate_per_minute", "timeout"
void	transport_check_common(const struct transport_conf *tc,
	    struct diags *d);
/* The `timeout` setting in milliseconds, or def. */
long	transport_timeout_ms(const struct transport_conf *tc, long def);
/* Checks a required http(s) URL setting; true when good (*out set). */
bool	transport_check_url(const struct transport_conf *tc, const char *key,
	    bool required, struct diags *d, const char **out);

/*
 * The usual reading of an HTTP reply into r (for transports over
 * http_client.h): 2xx accepted; no reply, 408, 425, 429 and 5xx transient,
 * honouring Retry-After (seconds or an HTTP date; on 429 and 503 it also
 * pauses the channel); other statuses permanent. err (errsz bytes) holds
 * the readable error r->error points to: "HTTP 400: <start of body>".
 */
struct http_request;
struct http_response;
void	transport_http_outcome(const struct http_response *resp,
	    struct send_report *r, char *err, size_t errsz);
/*
 * One request per delivery, for transports whose reply needs no more than
 * transport_http_outcome() and a look at an accepted body: starts req
 * (copied, as http_request() does) and reports to done(arg) exactly once,
 * from the loop. On a 2xx reply, accepted (unless NULL) may set
 * r->provider_id, pointing into id (idsz bytes), or turn r into a failure
 * with r->error pointing into err (errsz bytes). A request that cannot be
 * started is reported transient, "cannot start the request to <url>",
 * through transport_report_later().
 */
typedef void (*transport_accepted)(const struct http_response *resp,
    struct send_report *r, char *id, size_t idsz, char *err, size_t errsz);
void	transport_http_send(struct event_base *base,
	    const struct http_request *req, transport_accepted accepted,
	    send_done done, void *arg);
/*
 * The message as one JSON object (webhook body, exec stdin): key, alert,
 * kind, member, name, address, tag, priority, drill, subject, text, link,
 * responses. Caller frees.
 */
char	*outmsg_json(const struct outmsg *m);
/* Seconds from a Retry-After value (delta or HTTP date), or -1. */
long	transport_retry_after(const char *v);

/*
 * Provider callback routes (httpd_route). transport_callback_body() is a
 * route's first step: when inst is NULL (the channel is gone), the method
 * is not POST or the body is over max bytes, it answers (404, 405, 413)
 * and returns NULL; otherwise it returns a copy of the body, NUL-terminated
 * (it may hold other NULs: *len counts them), for the caller to verify and
 * free. transport_callback_reply() answers with a one-line text/plain body.
 */
struct evhttp_request;
char	*transport_callback_body(struct evhttp_request *req, const void *inst,
	    size_t max, size_t *len);
void	transport_callback_reply(struct evhttp_request *req, int code,
	    const char *reason);

#endif
