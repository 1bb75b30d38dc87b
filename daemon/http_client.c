/*
 * http_client.c: the one libcurl multi handle of crisiscastd, driven by the
 * daemon's libevent loop in the shape of curl's hiperfifo example.
 *
 * libcurl tells us which sockets to watch (sock_cb) and when to wake it
 * (multi_timer_cb); libevent tells libcurl what happened (event_cb,
 * timer_cb). After every curl_multi_socket_action the finished transfers
 * are drained with curl_multi_info_read, removed from the multi handle and
 * only then reported through their done() callback, so no handle is ever
 * removed, and no done() ever runs, inside a libcurl callback. The timer
 * callback never calls libcurl: it only (re-)arms one libevent timer, a
 * 0 ms timeout included.
 *
 * The daemon never lets libcurl queue a transfer (no per-host or total
 * connection limit; fan-out caps concurrency per transport), so a
 * transfer's timeout runs from when it starts on the wire.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "http_client.h"

/*
 * GnuTLS initializes itself from a library constructor when it is loaded,
 * and Debian's libcurl4 loads it (through librtmp and libldap) although
 * this libcurl speaks TLS with OpenSSL and crisiscastd allows it http,
 * https and smtp(s) only. That initialization (CPU probing, its cipher
 * tables, /etc/gnutls/config) leaves about 1 MB resident for nothing.
 * Defining this symbol to return 1 is GnuTLS's public way to skip it
 * (GNUTLS_SKIP_GLOBAL_INIT in <gnutls/gnutls.h>); its constructor calls
 * it through the dynamic linker, so crisiscastd exports it (Makefile).
 * A library that does use GnuTLS still calls gnutls_global_init() itself.
 */
int _gnutls_global_init_skip(void);

int
_gnutls_global_init_skip(void)
{
	return 1;
}

#define MAX_RESP_HEADERS	64
#define MAX_HEADER_BYTES	(32u * 1024)
#define CONNECT_TIMEOUT_MS	10000L
#define USER_AGENT		"crisiscast/1"

/* One socket libcurl asked us to watch. */
struct sockinfo {
	curl_socket_t fd;
	struct event *ev;
	int what;			/* CURL_POLL_* being watched */
	struct sockinfo *prev, *next;
};

/* One transfer, from http_request()/http_client_easy() to done(). */
struct xfer {
	CURL *easy;
	http_done done;
	void *arg;
	struct curl_slist *hdrs;
	char *body;			/* request body copy */
	struct buf resp;		/* response body, capped */
	bool truncated;
	struct buf hbuf;		/* response header lines, NUL-separated */
	size_t nhdr;
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *prev, *next;
};

static struct {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct xfer *xfers;		/* in the multi handle */
	struct sockinfo *socks;
	int inflight;
	bool stopping;
} hc;

static void check_multi_info(void);

static void
xfer_unlink(struct xfer *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		hc.xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
}

static void
xfer_free(struct xfer *x)
{
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	free(x->body);
	buf_free(&x->resp);
	buf_free(&x->hbuf);
	free(x);
}

/*
 * Reports a transfer already removed from the multi handle, and frees it.
 * Runs from the loop only.
 */
static void
xfer_finish(struct xfer *x, CURLcode result)
{
	struct http_header hdrs[MAX_RESP_HEADERS];
	struct http_response r = {0};
	const char *p = x->hbuf.data;
	long status = 0;
	double secs = 0;

	for (size_t i = 0; i < x->nhdr; i++) {
		hdrs[i].name = p;
		p += strlen(p) + 1;
		hdrs[i].value = p;
		p += strlen(p) + 1;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &secs);
	r.status = status;
	r.result = result;
	r.error = result == CURLE_OK ? "" : x->errbuf[0] ? x->errbuf :
	    curl_easy_strerror(result);
	r.body = x->resp.data ? x->resp.data : "";
	r.body_len = x->resp.len;
	r.truncated = x->truncated;
	r.seconds = secs;
	r.headers = hdrs;
	r.nheaders = x->nhdr;
	hc.inflight--;
	x->done(x->arg, &r);
	xfer_free(x);
}

/* Drains finished transfers: remove them all, then report each. */
static void
check_multi_info(void)
{
	struct done_item { struct xfer *x; CURLcode rc; } *items = NULL;
	size_t n = 0, cap = 0;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(hc.multi, &left)) != NULL) {
		struct xfer *x = NULL;
		CURLcode rc;
		CURL *easy;

		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg dies with remove_handle: copy first. */
		easy = msg->easy_handle;
		rc = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(hc.multi, easy);
		if (x == NULL)
			continue;
		xfer_unlink(x);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			items = xreallocarray(items, cap, sizeof(*items));
		}
		items[n].x = x;
		items[n++].rc = rc;
	}
	for (size_t i = 0; i < n; i++)
		xfer_finish(items[i].x, items[i].rc);
	free(items);
}

static void
event_cb(evutil_socket_t fd, short kind, void *arg)
{
	int action = 0, running;

	(void)arg;
	if (kind & EV_READ)
		action |= CURL_CSELECT_IN;
	if (kind & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(hc.multi, fd, action, &running);
	check_multi_info();
}

static void
timer_cb(evutil_socket_t fd, short kind, void *arg)
{
	int running;

	(void)fd;
	(void)kind;
	(void)arg;
	curl_multi_socket_action(hc.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info();
}

/* libcurl's timer: only re-arms ours; never calls libcurl. */
static int
multi_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	(void)userp;
	if (timeout_ms < 0) {
		evtimer_del(hc.timer);
		return 0;
	}
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	evtimer_add(hc.timer, &tv);
	return 0;
}

static void
sock_remove(struct sockinfo *si)
{
	if (si->prev != NULL)
		si->prev->next = si->next;
	else
		hc.socks = si->next;
	if (si->next != NULL)
		si->next->prev = si->prev;
	event_free(si->ev);
	free(si);
}

/* libcurl's socket callback: watches, re-watches or forgets s. */
static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct sockinfo *si = socketp;
	short kind;

	(void)easy;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (si != NULL) {
			curl_multi_assign(hc.multi, s, NULL);
			sock_remove(si);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (si == NULL) {
		si = xcalloc(1, sizeof(*si));
		si->fd = s;
		si->next = hc.socks;
		if (hc.socks != NULL)
			hc.socks->prev = si;
		hc.socks = si;
		curl_multi_assign(hc.multi, s, si);
	} else {
		if (si->what == what)
			return 0;
		event_free(si->ev);
	}
	si->what = what;
	si->ev = event_new(hc.base, s, kind, event_cb, NULL);
	if (si->ev == NULL || event_add(si->ev, NULL) < 0)
		fatalx("http client: cannot watch a socket");
	return 0;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb, room = HTTP_MAX_RESPONSE - x->resp.len;

	/* Keep the first HTTP_MAX_RESPONSE bytes, read and drop the rest so
	 * the connection stays reusable. */
	if (n > room) {
		x->truncated = true;
		if (room > 0)
			buf_add(&x->resp, p, room);
	} else
		buf_add(&x->resp, p, n);
	return n;
}

static size_t
header_cb(char *p, size_t size, size_t nitems_, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nitems_, len = n;
	const char *colon;

	/* A new status line (after 1xx or a redirect) starts a new set. */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		x->hbuf.len = 0;
		x->nhdr = 0;
		return n;
	}
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	colon = memchr(p, ':', len);
	if (colon == NULL || x->nhdr >= MAX_RESP_HEADERS ||
	    x->hbuf.len + len + 2 > MAX_HEADER_BYTES)
		return n;
	const char *v = colon + 1, *end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	buf_add(&x->hbuf, p, (size_t)(colon - p));
	buf_addc(&x->hbuf, '\0');
	buf_add(&x->hbuf, v, (size_t)(end - v));
	buf_addc(&x->hbuf, '\0');
	x->nhdr++;
	return n;
}

int
http_client_init(struct event_base *base)
{
	memset(&hc, 0, sizeof(hc));
	hc.base = base;
	hc.timer = evtimer_new(base, timer_cb, NULL);
	return hc.timer != NULL ? 0 : -1;
}

/*
 * Starts libcurl and the multi handle on the first transfer rather than
 * in http_client_init(): curl_global_init() sets up OpenSSL, and with
 * curl_version_info() that is about 2.5 MB resident for good, which a
 * site whose channels never speak HTTP (file, exec) does not need.
 * Returns 0, or -1 when libcurl cannot start or the client is stopping.
 */
static int
hc_start(void)
{
	if (hc.multi != NULL)
		return 0;
	if (hc.base == NULL || hc.stopping ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	if ((hc.multi = curl_multi_init()) == NULL) {
		curl_global_cleanup();
		return -1;
	}
	if (!(curl_version_info(CURLVERSION_NOW)->features &
	    CURL_VERSION_ASYNCHDNS))
		log_warnx("libcurl resolves names synchronously; use IP "
		    "addresses or a local resolver");
	curl_multi_setopt(hc.multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(hc.multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(hc.multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	/* Keep enough idle connections for every transport's concurrency. */
	curl_multi_setopt(hc.multi, CURLMOPT_MAXCONNECTS, 1024L);
	return 0;
}

void
http_client_shutdown(void)
{
	hc.stopping = true;
	if (hc.multi == NULL) {		/* libcurl never started */
		if (hc.timer != NULL)
			event_free(hc.timer);
		hc.timer = NULL;
		return;
	}
	while (hc.xfers != NULL) {
		struct xfer *x = hc.xfers;
		xfer_unlink(x);
		curl_multi_remove_handle(hc.multi, x->easy);
		snprintf(x->errbuf, sizeof(x->errbuf), "daemon stopping");
		xfer_finish(x, CURLE_ABORTED_BY_CALLBACK);
	}
	/* The socket callback may fire during cleanup; it must not. */
	curl_multi_setopt(hc.multi, CURLMOPT_SOCKETFUNCTION, NULL);
	curl_multi_setopt(hc.multi, CURLMOPT_TIMERFUNCTION, NULL);
	curl_multi_cleanup(hc.multi);
	hc.multi = NULL;
	while (hc.socks != NULL)
		sock_remove(hc.socks);
	event_free(hc.timer);
	hc.timer = NULL;
	curl_global_cleanup();
}

/* Adds x (easy configured) to the multi handle. 0, or -1 (x untouched). */
static int
xfer_start(struct xfer *x, long timeout_ms)
{
	if (hc.stopping || hc_start() < 0)
		return -1;
	if (timeout_ms <= 0)
		timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS);
	if (curl_multi_add_handle(hc.multi, x->easy) != CURLM_OK)
		return -1;
	x->next = hc.xfers;
	if (hc.xfers != NULL)
		hc.xfers->prev = x;
	hc.xfers = x;
	hc.inflight++;
	return 0;
}

int
http_request(const struct http_request *req, http_done done, void *arg)
{
	struct xfer *x;
	CURL *e;

	if (hc_start() < 0 || req->url == NULL || req->method == NULL ||
	    (e = curl_easy_init()) == NULL)
		return -1;
	x = xcalloc(1, sizeof(*x));
	x->easy = e;
	x->done = done;
	x->arg = arg;
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* Over TLS, wait for the first connection to a host to tell (ALPN)
	 * whether it multiplexes, rather than open one per request. Plain
	 * http never multiplexes, and waiting would hold every request to a
	 * new host until the first one's reply: a round trip lost at the
	 * start of a fan-out. */
	if (strncasecmp(req->url, "https://", 8) == 0)
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	if (req->userpwd != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERPWD, req->userpwd);
	}
	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else {
		/* Body copied: req may be freed when we return. */
		x->body = xmalloc(req->body_len + 1);
		if (req->body_len > 0)
			memcpy(x->body, req->body, req->body_len);
		x->body[req->body_len] = '\0';
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	/* No "Expect: 100-continue" round trip. */
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	for (size_t i = 0; i < req->nheaders; i++) {
		char *h = xasprintf("%s: %s", req->headers[i].name,
		    req->headers[i].value);
		x->hdrs = curl_slist_append(x->hdrs, h);
		free(h);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	if (xfer_start(x, req->timeout_ms) < 0) {
		xfer_free(x);
		return -1;
	}
	return 0;
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

CURL *
http_client_new_easy(void)
{
	CURL *e = hc_start() == 0 ? curl_easy_init() : NULL;

	if (e != NULL)
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	return e;
}

int
http_client_easy(CURL *easy, long timeout_ms, http_done done, void *arg)
{
	struct xfer *x;

	if (easy == NULL)
		return -1;
	x = xcalloc(1, sizeof(*x));
	x->easy = easy;
	x->done = done;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (xfer_start(x, timeout_ms) < 0) {
		x->easy = NULL;		/* still the caller's */
		xfer_free(x);
		return -1;
	}
	return 0;
}

int
http_client_inflight(void)
{
	return hc.inflight;
}
