/*
 * mime.h: the wire encodings of outgoing messages, pure and unit-tested:
 * an Internet message (RFC 5322) in UTF-8 with RFC 2047 encoded-word
 * headers and a base64 body, and form and path percent-encoding for HTTP
 * APIs. (SMS segments: template.h.)
 *
 * Never logs, never fails on input: every function accepts any NUL-
 * terminated string (invalid UTF-8 is carried as bytes, split on byte
 * boundaries) and appends to a caller's struct buf.
 */
#ifndef CRISISCAST_MIME_H
#define CRISISCAST_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util.h"

#define MIME_LINE_MAX	76	/* characters per line, CRLF not counted */

/*
 * Appends the header field "name: value CRLF". value is written as it is
 * when it is printable ASCII and fits on the line; otherwise as a sequence
 * of RFC 2047 encoded-words =?UTF-8?B?...?= each holding whole UTF-8
 * characters, folded with CRLF SP so that no line exceeds MIME_LINE_MAX.
 * addr, when not NULL, follows as " <addr>" (a mailbox: value is then its
 * display name), on its own continuation line if it does not fit.
 */
void mime_header(struct buf *out, const char *name, const char *value,
    const char *addr);

/* Appends base64 (standard, padded) of n bytes in lines of MIME_LINE_MAX
 * characters, each ended by CRLF. */
void mime_base64_lines(struct buf *out, const void *p, size_t n);

/* RFC 5322 date-time in Japan time: "Thu, 21 Nov 2024 03:04:05 +0900". */
void mime_date(time_t t, char *out, size_t outsz);

struct mime_msg {
	time_t date;
	const char *from_name, *from_addr;	/* name may be NULL */
	const char *to_name, *to_addr;		/* name may be NULL */
	const char *subject;
	const char *message_id;		/* without the angle brackets */
	const char *body;		/* UTF-8 text, LF or CRLF line ends */
};

/*
 * A complete message: Date, From, To, Subject, Message-ID, MIME-Version,
 * Content-Type text/plain; charset=UTF-8, Content-Transfer-Encoding base64,
 * and the body with its line ends as CRLF, base64 in lines of 76. Every
 * line ends in CRLF and none exceeds MIME_LINE_MAX characters. Returns a
 * new string.
 */
char *mime_message(const struct mime_msg *m);

/* Appends "name=value" application/x-www-form-urlencoded, with a leading
 * '&' when out is not empty. */
void form_add(struct buf *out, const char *name, const char *value);
/* Appends s percent-encoded for a URL path segment (all but A-Z a-z 0-9
 * - . _ ~). */
void url_path_escape(struct buf *out, const char *s);

#endif
