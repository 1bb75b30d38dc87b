/*
 * cap.h: an alert as an OASIS Common Alerting Protocol 1.2 message
 * (urn:oasis:names:tc:emergency:cap:1.2), for `crisisctl cap ID`.
 *
 * Contract: pure. No I/O, never logs; errors go to the caller's buffer.
 * The caller fills struct cap_msg from the alert and its deliveries; every
 * text is XML-escaped here, and characters XML 1.0 does not allow (control
 * characters, U+FFFE/U+FFFF, invalid UTF-8) are dropped. The output
 * validates against the OASIS schema (tests/data/cap/CAP-v1.2.xsd).
 */
#ifndef CRISISCAST_CAP_H
#define CRISISCAST_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* An earlier message this one refers to (a Cancel's <references>). */
struct cap_ref {
	const char *sender;
	const char *identifier;
	time_t sent;
};

struct cap_msg {
	const char *identifier;	/* cap_identifier(); no space, comma, < or & */
	const char *sender;	/* cap_sender(); same restriction */
	time_t sent;		/* approval time, else the draft's */
	bool exercise;		/* a drill: <status>Exercise</status> */
	const struct cap_ref *cancels;	/* non-NULL: msgType Cancel */
	const char *note;	/* NULL or a note (the reason of a cancel) */
	const char *const *addresses;	/* recipients, scope Private */
	size_t naddresses;
	/* <info>, language ja-JP */
	const char *category, *urgency, *severity, *certainty;	/* CAP enums */
	const char *response_type;	/* NULL or a CAP responseType */
	const char *event;	/* the tag's name */
	const char *sender_name;	/* the organization */
	const char *body;	/* description; the headline is its first line */
	const char *web;	/* NULL or an absolute URI */
	/* <parameter> pairs: the drafter's --set values (valueName KEY). */
	const char *const *param_names, *const *param_values;
	size_t nparams;
};

/* Headline length: CAP asks for under 160 characters; a phone's
 * notification shows about 60 Japanese characters. */
#define CAP_HEADLINE_MAX	60

/*
 * The host of a public_url ("https://alert.example.lg.jp:8443/x" ->
 * "alert.example.lg.jp"), lower-cased, keeping only letters, digits, '.',
 * '-' and '_'; "localhost" when nothing is left. Caller frees.
 */
char *cap_host(const char *public_url);
/* "crisiscast@HOST". Caller frees. */
char *cap_sender(const char *host);
/* "urn:crisiscast:HOST:alert:ID": stable and unique per site. Caller frees. */
char *cap_identifier(const char *host, int64_t id);

/*
 * The whole document, starting <?xml version="1.0" encoding="UTF-8"?>, or
 * NULL with the reason in err: a missing field, an identifier or sender
 * with a space, comma, '<' or '&', or a value outside CAP's enumerations.
 * Addresses holding whitespace are quoted; a '"' in one is dropped.
 * Caller frees.
 */
char *cap_build(const struct cap_msg *m, char *err, size_t errsz);

#endif
