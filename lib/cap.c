/*
 * cap.c: CAP 1.2 XML for one alert (OASIS Common Alerting Protocol
 * Version 1.2, 1 July 2010). Builds text only; the daemon decides what goes
 * in. Must never emit a character XML 1.0 forbids, an unescaped markup
 * character, or a value outside the schema's enumerations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap.h"
#include "util.h"

#define CAP_NS	"urn:oasis:names:tc:emergency:cap:1.2"

static const char *const categories[] = { "Geo", "Met", "Safety",
    "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
    "CBRNE", "Other", NULL };
static const char *const urgencies[] = { "Immediate", "Expected", "Future",
    "Past", "Unknown", NULL };
static const char *const severities[] = { "Extreme", "Severe", "Moderate",
    "Minor", "Unknown", NULL };
static const char *const certainties[] = { "Observed", "Likely",
    "Possible", "Unlikely", "Unknown", NULL };
static const char *const response_types[] = { "Shelter", "Evacuate",
    "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None",
    NULL };

/*
 * Decodes one UTF-8 sequence at s (len > 0 bytes left). Returns its length
 * and stores the code point, or returns 1 with *cp = -1 for a bad byte
 * (overlong, surrogate, truncated, out of range).
 */
static size_t
utf8_next(const unsigned char *s, size_t len, long *cp)
{
	size_t n;
	long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2; c = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3; c = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4; c = s[0] & 0x07; min = 0x10000;
	} else {
		*cp = -1;
		return 1;
	}
	if (n > len) {
		*cp = -1;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = -1;
			return 1;
		}
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		*cp = -1;
		return 1;
	}
	*cp = c;
	return n;
}

/* XML 1.0 Char production, without the C0/C1 controls other than TAB,
 * LF and CR (allowed or discouraged there, never wanted in an alert). */
static bool
xml_char(long c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c < 0x7f) ||
	    (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
	    (c >= 0x10000 && c <= 0x10ffff);
}

/*
 * Appends at most max code points (0: all) of s[0..len) as escaped
 * character data; characters XML forbids are dropped. Returns true when
 * something was left out because of max.
 */
static bool
xml_text_n(struct buf *b, const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, count = 0;

	while (i < len) {
		long c;
		size_t n = utf8_next(p + i, len - i, &c);
		if (c < 0 || !xml_char(c)) {
			i += n;
			continue;
		}
		if (max > 0 && count == max)
			return true;
		switch (c) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&apos;"); break;
		/* A literal CR would become LF when parsed. */
		case '\r': buf_adds(b, "&#13;"); break;
		default: buf_add(b, p + i, n);
		}
		count++;
		i += n;
	}
	return false;
}

static void
xml_text(struct buf *b, const char *s)
{
	xml_text_n(b, s, strlen(s), 0);
}

/* <name>text</name> on its own line at the given indent. */
static void
element(struct buf *b, int indent, const char *name, const char *text)
{
	buf_printf(b, "%*s<%s>", indent, "", name);
	xml_text(b, text);
	buf_printf(b, "</%s>\n", name);
}

static bool
one_of(const char *s, const char *const *set)
{
	for (; s != NULL && *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* CAP 3.2.1: identifier and sender have no space, comma, < or &. */
static bool
cap_token_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == ',' || *p == '<' ||
		    *p == '&')
			return false;
	return utf8_valid(s, strlen(s));
}

/* CAP's dateTime: 2026-11-21T03:04:05+09:00 (Japan time, no fraction). */
static void
cap_time(time_t t, char *out, size_t outsz)
{
	format_time_jst(t, out, outsz);
}

char *
cap_host(const char *public_url)
{
	const char *p = public_url ? public_url : "", *end, *at;
	struct buf b = {0};

	if ((at = strstr(p, "://")) != NULL)
		p = at + 3;
	end = p + strcspn(p, "/?#");
	/* user:password@host */
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			p = q + 1;
	if (*p == '[') {
		/* An IPv6 literal: keep its digits, colons become '-'. */
		for (p++; p < end && *p != ']'; p++)
			buf_addc(&b, *p == ':' ? '-' : *p);
	} else {
		for (; p < end && *p != ':'; p++) {
			char c = *p;
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '.' || c == '-' || c == '_')
				buf_addc(&b, c);
		}
	}
	if (b.len == 0)
		buf_adds(&b, "localhost");
	return buf_take(&b);
}

char *
cap_sender(const char *host)
{
	return xasprintf("crisiscast@%s", host);
}

char *
cap_identifier(const char *host, int64_t id)
{
	return xasprintf("urn:crisiscast:%s:alert:%lld", host, (long long)id);
}

/* One address: quoted when it holds whitespace; '"' dropped. */
static void
address(struct buf *b, const char *a)
{
	struct buf clean = {0};
	bool space = false;

	for (const char *p = a; *p; p++) {
		if (*p == '"')
			continue;
		space |= *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
		buf_addc(&clean, *p == '\t' || *p == '\n' || *p == '\r' ?
		    ' ' : *p);
	}
	if (clean.len > 0) {
		if (b->len > 0)
			buf_addc(b, ' ');
		if (space)
			buf_adds(b, "&quot;");
		xml_text(b, clean.data);
		if (space)
			buf_adds(b, "&quot;");
	}
	buf_free(&clean);
}

static int
fail(char *err, size_t errsz, const char *what)
{
	snprintf(err, errsz, "%s", what);
	return -1;
}

static int
check(const struct cap_msg *m, char *err, size_t errsz)
{
	if (!cap_token_ok(m->identifier))
		return fail(err, errsz, "identifier is empty or holds a space, "
		    "comma, '<' or '&'");
	if (!cap_token_ok(m->sender))
		return fail(err, errsz, "sender is empty or holds a space, "
		    "comma, '<' or '&'");
	if (m->cancels != NULL && (!cap_token_ok(m->cancels->identifier) ||
	    !cap_token_ok(m->cancels->sender)))
		return fail(err, errsz, "the cancelled message's identifier or "
		    "sender is not a CAP token");
	if (!one_of(m->category, categories))
		return fail(err, errsz, "category is not a CAP category");
	if (!one_of(m->urgency, urgencies))
		return fail(err, errsz, "urgency is not a CAP urgency");
	if (!one_of(m->severity, severities))
		return fail(err, errsz, "severity is not a CAP severity");
	if (!one_of(m->certainty, certainties))
		return fail(err, errsz, "certainty is not a CAP certainty");
	if (m->response_type != NULL &&
	    !one_of(m->response_type, response_types))
		return fail(err, errsz, "responseType is not a CAP response "
		    "type");
	if (m->event == NULL || *m->event == '\0')
		return fail(err, errsz, "event is empty");
	if (m->sent <= 0)
		return fail(err, errsz, "sent is not set");
	return 0;
}

char *
cap_build(const struct cap_msg *m, char *err, size_t errsz)
{
	struct buf b = {0}, addr = {0};
	char t[40];

	if (check(m, err, errsz) < 0)
		return NULL;
	buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_adds(&b, "<alert xmlns=\"" CAP_NS "\">\n");
	element(&b, 2, "identifier", m->identifier);
	element(&b, 2, "sender", m->sender);
	cap_time(m->sent, t, sizeof(t));
	element(&b, 2, "sent", t);
	element(&b, 2, "status", m->exercise ? "Exercise" : "Actual");
	element(&b, 2, "msgType", m->cancels ? "Cancel" : "Alert");
	element(&b, 2, "scope", "Private");
	for (size_t i = 0; i < m->naddresses; i++)
		if (m->addresses[i] != NULL)
			address(&addr, m->addresses[i]);
	if (addr.len > 0)
		buf_printf(&b, "  <addresses>%s</addresses>\n", addr.data);
	buf_free(&addr);
	if (m->note != NULL && *m->note != '\0')
		element(&b, 2, "note", m->note);
	if (m->cancels != NULL) {
		/* CAP 3.2.1: "sender,identifier,sent" of each earlier message. */
		char rt[40];
		cap_time(m->cancels->sent, rt, sizeof(rt));
		buf_adds(&b, "  <references>");
		xml_text(&b, m->cancels->sender);
		buf_addc(&b, ',');
		xml_text(&b, m->cancels->identifier);
		buf_addc(&b, ',');
		buf_adds(&b, rt);
		buf_adds(&b, "</references>\n");
	}
	buf_adds(&b, "  <info>\n");
	element(&b, 4, "language", "ja-JP");
	element(&b, 4, "category", m->category);
	element(&b, 4, "event", m->event);
	if (m->response_type != NULL)
		element(&b, 4, "responseType", m->response_type);
	element(&b, 4, "urgency", m->urgency);
	element(&b, 4, "severity", m->severity);
	element(&b, 4, "certainty", m->certainty);
	if (m->sender_name != NULL && *m->sender_name != '\0')
		element(&b, 4, "senderName", m->sender_name);
	if (m->body != NULL && *m->body != '\0') {
		/* The headline: the body's first line, shortened with …. */
		size_t len = strcspn(m->body, "\r\n");
		struct buf h = {0};
		if (xml_text_n(&h, m->body, len, CAP_HEADLINE_MAX)) {
			buf_free(&h);
			xml_text_n(&h, m->body, len, CAP_HEADLINE_MAX - 1);
			buf_adds(&h, "…");
		}
		if (h.len > 0)
			buf_printf(&b, "    <headline>%s</headline>\n", h.data);
		buf_free(&h);
		element(&b, 4, "description", m->body);
	}
	if (m->web != NULL && *m->web != '\0')
		element(&b, 4, "web", m->web);
	for (size_t i = 0; i < m->nparams; i++) {
		buf_adds(&b, "    <parameter>\n");
		element(&b, 6, "valueName", m->param_names[i]);
		element(&b, 6, "value", m->param_values[i]);
		buf_adds(&b, "    </parameter>\n");
	}
	buf_adds(&b, "  </info>\n");
	buf_adds(&b, "</alert>\n");
	return buf_take(&b);
}
