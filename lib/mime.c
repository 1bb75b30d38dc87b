/*
 * mime.c: Internet message, form and SMS encodings (see mime.h). Pure:
 * no I/O, no logging; lines it writes never exceed MIME_LINE_MAX.
 */
#include "mime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define EW_OVERHEAD	12	/* "=?UTF-8?B?" and "?=" */

static bool
plain_ascii(const char *s)
{
	if (strstr(s, "=?") != NULL)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Bytes of s[start..len) that fit in base64 of at most avail characters,
 * ending on a UTF-8 character boundary (at least one character). */
static size_t
word_bytes(const unsigned char *s, size_t start, size_t len, size_t avail)
{
	size_t max = avail / 4 * 3, end;

	if (max == 0)
		max = 3;
	end = start + max;
	if (end >= len)
		return len - start;
	while (end > start && (s[end] & 0xC0) == 0x80)
		end--;
	if (end == start) {	/* invalid UTF-8: a run of continuations */
		end = start + max;
	}
	return end - start;
}

void
mime_header(struct buf *out, const char *name, const char *value,
    const char *addr)
{
	const unsigned char *v = (const unsigned char *)value;
	size_t col = strlen(name) + 2, len = strlen(value);

	buf_printf(out, "%s: ", name);
	if (plain_ascii(value) && col + len <= MIME_LINE_MAX) {
		buf_adds(out, value);
		col += len;
	} else {
		size_t pos = 0;
		bool first = true;
		while (pos < len || first) {
			if (!first || col + EW_OVERHEAD + 8 > MIME_LINE_MAX) {
				buf_adds(out, "\r\n ");
				col = 1;
			}
			size_t room = MIME_LINE_MAX - col;
			size_t n = word_bytes(v, pos, len, room - EW_OVERHEAD);
			char *b64 = xmalloc(4 * (n / 3 + 1) + 1);
			size_t blen = b64_encode(v + pos, n, b64);
			buf_printf(out, "=?UTF-8?B?%s?=", b64);
			free(b64);
			col += EW_OVERHEAD + blen;
			pos += n;
			first = false;
		}
	}
	if (addr != NULL) {
		size_t alen = strlen(addr) + 3;	/* " <" ">" */
		if (col + alen > MIME_LINE_MAX && col > 1)
			buf_adds(out, "\r\n");
		buf_printf(out, " <%s>", addr);
	}
	buf_adds(out, "\r\n");
}

void
mime_base64_lines(struct buf *out, const void *p, size_t n)
{
	const uint8_t *b = p;
	char line[MIME_LINE_MAX + 1];

	/* 57 bytes make exactly 76 characters. */
	for (size_t i = 0; i < n; i += 57) {
		size_t chunk = n - i < 57 ? n - i : 57;
		size_t len = b64_encode(b + i, chunk, line);
		buf_add(out, line, len);
		buf_adds(out, "\r\n");
	}
}

void
mime_date(time_t t, char *out, size_t outsz)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	jst_tm(t, &tm);
	snprintf(out, outsz, "%s, %d %s %04d %02d:%02d:%02d +0900",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *
mime_message(const struct mime_msg *m)
{
	struct buf out = {0}, body = {0};
	char date[64];

	mime_date(m->date, date, sizeof(date));
	mime_header(&out, "Date", date, NULL);
	if (m->from_name != NULL && m->from_name[0] != '\0')
		mime_header(&out, "From", m->from_name, m->from_addr);
	else
		buf_printf(&out, "From: <%s>\r\n", m->from_addr);
	if (m->to_name != NULL && m->to_name[0] != '\0')
		mime_header(&out, "To", m->to_name, m->to_addr);
	else
		buf_printf(&out, "To: <%s>\r\n", m->to_addr);
	mime_header(&out, "Subject", m->subject, NULL);
	buf_printf(&out, "Message-ID: <%s>\r\n", m->message_id);
	buf_adds(&out, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	/* Line ends as CRLF inside the encoded text (RFC 2046 4.1.1). */
	for (const char *p = m->body; *p; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n')
			buf_addc(&body, '\r');
		buf_addc(&body, *p);
	}
	mime_base64_lines(&out, body.data ? body.data : "", body.len);
	buf_free(&body);
	return buf_take(&out);
}

static void
pct_escape(struct buf *out, const char *s, bool form)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			buf_addc(out, (char)*p);
		else if (form && *p == ' ')
			buf_addc(out, '+');
		else {
			buf_addc(out, '%');
			buf_addc(out, hex[*p >> 4]);
			buf_addc(out, hex[*p & 15]);
		}
	}
}

void
form_add(struct buf *out, const char *name, const char *value)
{
	if (out->len > 0)
		buf_addc(out, '&');
	pct_escape(out, name, true);
	buf_addc(out, '=');
	pct_escape(out, value, true);
}

void
url_path_escape(struct buf *out, const char *s)
{
	pct_escape(out, s, false);
	if (out->data == NULL)
		buf_adds(out, "");
}
