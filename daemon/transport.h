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
	const char *provider_id;	/* for SEND_ACCEPTED, may be NULL */
	const char *error;		/* for failures */
};

typedef void (*send_done)(void *arg, const struct send_report *r);

struct outmsg {
	const char *key;		/* idempotency key, unique per delivery */
	int64_t delivery_id;
	int64_t alert_id;
	const char *kind;		/* "alert" or "approval" */
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
};

extern const struct transport transport_file;

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

#endif
