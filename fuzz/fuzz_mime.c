/*
 * fuzz_mime: mime_message with every text field from the input
 * (NUL-separated parts, fields.h), and mime_header alone.
 *
 * Contract (mime.h): every line of a message ends in CRLF; no line exceeds
 * MIME_LINE_MAX characters unless it carries an address (or the
 * Message-ID) that is itself too long to fit.
 */
#include "fields.h"

#include <stdbool.h>

#include "mime.h"
#include "util.h"

/* An over-long line is allowed only when it holds an address or the
 * Message-ID whole (an addr-spec cannot be folded). */
static void
check_lines(const char *msg, const char *const unfoldable[], size_t n)
{
	const char *p = msg;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len;
		bool ok;

		if (nl == NULL || nl == p || nl[-1] != '\r')
			abort();	/* a bare LF or an unterminated line */
		len = (size_t)(nl - 1 - p);
		ok = len <= MIME_LINE_MAX;
		for (size_t i = 0; !ok && i < n; i++) {
			const char *u = unfoldable[i];
			size_t ul = strlen(u);
			for (const char *q = p; !ok && q + ul <= nl; q++)
				ok = ul > 0 && memcmp(q, u, ul) == 0 &&
				    len <= ul + 20;
		}
		if (!ok)
			abort();
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[7];
	char *s = fuzz_fields(data, size, f, 7);
	struct mime_msg m = {
		.date = (time_t)size * 86399,
		.from_name = size & 1 ? f[0] : NULL, .from_addr = f[1],
		.to_name = size & 2 ? f[2] : NULL, .to_addr = f[3],
		.subject = f[4], .message_id = f[5], .body = f[6],
	};
	const char *unfoldable[3] = { f[1], f[3], f[5] };
	char *msg;
	struct buf b = {0};

	/* addresses and the Message-ID are checked before they get here
	 * (roster.c valid_email, the daemon's own ids): no control bytes */
	for (int i = 1; i < 6; i += 2)
		for (const char *p = f[i]; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				free(s);
				return 0;
			}
	msg = mime_message(&m);

	check_lines(msg, unfoldable, 3);
	free(msg);
	mime_header(&b, "Subject", f[4], size & 4 ? f[1] : NULL);
	buf_free(&b);
	free(s);
	return 0;
}
