/*
 * transport_smtp.c: e-mail through libcurl's SMTP(S), on the daemon's one
 * curl multi handle (http_client_new_easy/http_client_easy).
 *
 * One message per delivery: a MIME text/plain message in UTF-8, base64
 * body, RFC 2047 subject and display names (lib/mime.c), Message-ID
 * <crisiscast.<delivery key>@<from domain>>, the long text with the
 * recipient's link. url is smtp:// (STARTTLS: `starttls` required, try or
 * never; required by default when a password is set) or smtps:// (TLS
 * from the start). Accepted when the server took the message; an SMTP 4xx
 * or a connection problem is transient; an SMTP 5xx, a refused login or a
 * failed TLS upgrade is permanent. Never logs the password or the text.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "http_client.h"
#include "mime.h"

static const char *const smtp_keys[] = { TRANSPORT_COMMON_KEYS, "url",
	"from", "username", "password_file", "starttls", NULL };

struct smtp_inst {
	struct event_base *base;
	char *channel;
	char *url, *from, *domain;
	char *username, *password;
	long use_ssl;			/* CURLUSESSL_* */
	long timeout_ms;
};

/* One message on its way: the text libcurl reads, and the recipient list
 * it must keep until the transfer is done. */
struct smtp_req {
	struct smtp_inst *si;
	send_done done;
	void *arg;
	char *msg;
	size_t len, off;
	struct curl_slist *rcpt;
	char message_id[200];
};

/* A bare address: something@domain, printable ASCII, no <>, spaces,
 * quotes or control characters (so it cannot inject SMTP commands). */
static bool
addr_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') ||
	    strlen(s) > 254)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("<>\"(),;:\\[]", *s) != NULL)
			return false;
	return true;
}

static void
smtp_check(const struct transport_conf *tc, const struct config *c,
    struct diags *d)
{
	const char *s;

	if (!ymap_check(tc->node, "an smtp transport", smtp_keys, d))
		return;
	transport_check_common(tc, d);
	if (yget_str(tc->node, "url", true, d, &s) &&
	    ((!startswith(s, "smtp://") && !startswith(s, "smtps://")) ||
	    strpbrk(s, " \t\r\n") != NULL))
		ydiag(d, ymap_get(tc->node, "url"), "\"url\" must be an smtp:// "
		    "or smtps:// URL, not \"%s\"", s);
	if (yget_str(tc->node, "from", true, d, &s) && !addr_ok(s))
		ydiag(d, ymap_get(tc->node, "from"), "\"from\" must be a bare "
		    "address such as alert@town.example");
	yget_str(tc->node, "username", false, d, &s);
	if (yget_str(tc->node, "starttls", false, d, &s) &&
	    strcmp(s, "required") != 0 && strcmp(s, "try") != 0 &&
	    strcmp(s, "never") != 0)
		ydiag(d, ymap_get(tc->node, "starttls"), "\"starttls\" must be "
		    "required, try or never, not \"%s\"", s);
	transport_secret_free(transport_check_secret(tc, c, "password_file",
	    false, d));
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtp_req *r = arg;
	size_t n = size * nitems, left = r->len - r->off;

	if (n > left)
		n = left;
	memcpy(buf, r->msg + r->off, n);
	r->off += n;
	return n;
}

static void
req_free(struct smtp_req *r)
{
	curl_slist_free_all(r->rcpt);
	free(r->msg);
	free(r);
}

static void
smtp_done(void *arg, const struct http_response *resp)
{
	struct smtp_req *r = arg;
	struct send_report rep = { .outcome = SEND_ACCEPTED };
	char err[300];
	long code = resp->status;

	if (resp->result != CURLE_OK) {
		snprintf(err, sizeof(err), "SMTP%s%.0ld: %s",
		    code > 0 ? " " : "", code > 0 ? code : 0L,
		    resp->error[0] ? resp->error :
		    curl_easy_strerror(resp->result));
		rep.error = err;
		if (code >= 500 && code < 600)
			rep.outcome = SEND_PERMANENT;
		else if (code >= 400 && code < 500)
			rep.outcome = SEND_TRANSIENT;
		else switch (resp->result) {
		case CURLE_LOGIN_DENIED:
		case CURLE_USE_SSL_FAILED:
		case CURLE_URL_MALFORMAT:
		case CURLE_UNSUPPORTED_PROTOCOL:
			rep.outcome = SEND_PERMANENT;
			break;
		default:
			rep.outcome = SEND_TRANSIENT;
		}
	} else
		rep.provider_id = r->message_id;
	r->done(r->arg, &rep);
	req_free(r);
}

/* Reports a transfer that could not be started, from the loop. */
static void
start_failed(struct smtp_req *r)
{
	const struct send_report rep = { .outcome = SEND_TRANSIENT,
	    .error = "cannot start the SMTP transfer" };

	transport_report_later(r->si->base, r->done, r->arg, &rep);
	req_free(r);
}

static void
smtp_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct smtp_inst *si = inst;
	struct smtp_req *r;
	char from[300], to[300], key[120];
	CURL *e;

	if (!addr_ok(m->address)) {
		const struct send_report rep = { .outcome = SEND_PERMANENT,
		    .error = "the email contact is not a bare address" };
		transport_report_later(si->base, done, arg, &rep);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->si = si;
	r->done = done;
	r->arg = arg;
	/* ':' is not allowed in a Message-ID's left part. */
	snprintf(key, sizeof(key), "%s", m->key);
	for (char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			*p = '.';
	snprintf(r->message_id, sizeof(r->message_id), "crisiscast.%s@%s", key,
	    si->domain);
	struct mime_msg mm = {
		.date = time(NULL),
		.from_name = cd->site.cfg.organization,
		.from_addr = si->from,
		.to_name = m->name,
		.to_addr = m->address,
		.subject = m->subject ? m->subject : m->tag,
		.message_id = r->message_id,
		.body = m->text_long,
	};
	r->msg = mime_message(&mm);
	r->len = strlen(r->msg);
	snprintf(from, sizeof(from), "<%s>", si->from);
	snprintf(to, sizeof(to), "<%s>", m->address);
	r->rcpt = curl_slist_append(NULL, to);
	if ((e = http_client_new_easy()) == NULL || r->rcpt == NULL) {
		if (e != NULL)
			curl_easy_cleanup(e);
		start_failed(r);
		return;
	}
	curl_easy_setopt(e, CURLOPT_URL, si->url);
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, r->rcpt);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, r);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
	curl_easy_setopt(e, CURLOPT_USE_SSL, si->use_ssl);
	if (si->username != NULL)
		curl_easy_setopt(e, CURLOPT_USERNAME, si->username);
	if (si->password != NULL)
		curl_easy_setopt(e, CURLOPT_PASSWORD, si->password);
	if (http_client_easy(e, si->timeout_ms, smtp_done, r) < 0) {
		curl_easy_cleanup(e);
		start_failed(r);
	}
}

static void
smtp_free(void *inst)
{
	struct smtp_inst *si = inst;

	free(si->channel);
	free(si->url);
	free(si->from);
	free(si->domain);
	free(si->username);
	transport_secret_free(si->password);
	free(si);
}

static void *
smtp_init(struct event_base *base, const struct transport_conf *tc,
    const struct config *c, char *err, size_t errsz)
{
	struct smtp_inst *si = xcalloc(1, sizeof(*si));
	const char *url, *from, *user = NULL, *tls = NULL;

	yget_str(tc->node, "url", true, NULL, &url);
	yget_str(tc->node, "from", true, NULL, &from);
	yget_str(tc->node, "username", false, NULL, &user);
	yget_str(tc->node, "starttls", false, NULL, &tls);
	si->base = base;
	si->channel = xstrdup(tc->channel);
	si->url = xstrdup(url);
	si->from = xstrdup(from);
	si->domain = xstrdup(strchr(from, '@') + 1);
	si->timeout_ms = transport_timeout_ms(tc, 60000);
	if (ymap_get(tc->node, "password_file") != NULL &&
	    (si->password = transport_secret(tc, c, "password_file", err,
	    errsz)) == NULL) {
		smtp_free(si);
		return NULL;
	}
	if (si->password != NULL)
		si->username = xstrdup(user ? user : from);
	else if (user != NULL)
		si->username = xstrdup(user);
	if (startswith(url, "smtps://"))
		si->use_ssl = CURLUSESSL_ALL;
	else if (tls != NULL)
		si->use_ssl = strcmp(tls, "required") == 0 ? CURLUSESSL_ALL :
		    strcmp(tls, "try") == 0 ? CURLUSESSL_TRY : CURLUSESSL_NONE;
	else
		si->use_ssl = si->password ? CURLUSESSL_ALL : CURLUSESSL_TRY;
	return si;
}

const struct transport transport_smtp = {
	.name = "smtp",
	.check = smtp_check,
	.init = smtp_init,
	.send = smtp_send,
	.free = smtp_free,
	.max_inflight = 4,
};
