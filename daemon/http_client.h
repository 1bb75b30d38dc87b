/*
 * http_client.h: every outgoing request of crisiscastd goes through one
 * libcurl multi handle driven by the daemon's libevent loop (curl's
 * hiperfifo shape). Transports never block and never call libcurl's easy
 * interface synchronously.
 *
 * Contract:
 * - http_request() copies everything it needs from req; req may be freed
 *   when it returns. It returns 0 when the transfer was queued, -1 (with
 *   nothing queued and done never called) when it could not be set up.
 * - done(arg, resp) is called exactly once per queued transfer, later, from
 *   the loop, never from inside http_request() and never from inside a
 *   libcurl callback; resp and everything it points to is valid only during
 *   done().
 * - timeout_ms counts from when the transfer starts on the wire, not from
 *   when it was queued (the daemon keeps its own queues; libcurl's internal
 *   queue is never used to wait).
 * - http_client_easy() is the escape hatch for protocols that need their own
 *   libcurl options (SMTP): the caller configures an easy handle made by
 *   http_client_new_easy(), and the client owns it from then on.
 */
#ifndef CRISISCAST_HTTP_CLIENT_H
#define CRISISCAST_HTTP_CLIENT_H

#include <stddef.h>

#include <curl/curl.h>
#include <event2/event.h>

#define HTTP_DEFAULT_TIMEOUT_MS	15000
#define HTTP_MAX_RESPONSE	(1u << 20)	/* bytes of body kept */

struct http_header {
	const char *name;
	const char *value;
};

struct http_request {
	const char *method;		/* "GET", "POST", "PUT" */
	const char *url;
	const struct http_header *headers;	/* nheaders of them */
	size_t nheaders;
	const char *body;		/* may be NULL */
	size_t body_len;
	const char *userpwd;		/* HTTP Basic "user:password", or NULL */
	long timeout_ms;		/* 0: HTTP_DEFAULT_TIMEOUT_MS */
};

struct http_response {
	long status;			/* HTTP status, 0 when none was received */
	CURLcode result;		/* CURLE_OK or the transport error */
	const char *error;		/* readable text for result, or "" */
	const char *body;		/* NUL-terminated; at most HTTP_MAX_RESPONSE */
	size_t body_len;
	bool truncated;			/* the body was longer than kept */
	double seconds;			/* time on the wire */
	/* Response headers, as received; use http_response_header(). */
	const struct http_header *headers;
	size_t nheaders;
};

typedef void (*http_done)(void *arg, const struct http_response *resp);

int	http_client_init(struct event_base *base);
/* Aborts what is in flight (each done() is called with CURLE_ABORTED_BY_CALLBACK)
 * and frees the multi handle. */
void	http_client_shutdown(void);

int	http_request(const struct http_request *req, http_done done, void *arg);

/* A header's value by case-insensitive name, or NULL. */
const char *http_response_header(const struct http_response *resp,
	    const char *name);

/* For SMTP and the like: a new easy handle, to configure and hand over. */
CURL	*http_client_new_easy(void);
/* Queues a configured easy handle; same done() contract as http_request.
 * On -1 the caller still owns easy. */
int	http_client_easy(CURL *easy, long timeout_ms, http_done done,
	    void *arg);

/* Transfers in flight (for metrics and graceful stop). */
int	http_client_inflight(void);

#endif
