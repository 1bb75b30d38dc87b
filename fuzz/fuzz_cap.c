/*
 * fuzz_cap: cap_host, cap_sender, cap_identifier and cap_build with every
 * text field taken from the input (NUL-separated parts, fields.h).
 *
 * Contract: cap_build returns a document or NULL with a reason; a document
 * holds no character XML 1.0 forbids and is valid UTF-8.
 */
#include "fields.h"

#include "cap.h"
#include "util.h"

static bool
xml_chars_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return false;
	return utf8_valid(s, strlen(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[14];
	char *s = fuzz_fields(data, size, f, 14), err[256];
	char *host = cap_host(f[0]);
	char *sender = cap_sender(host);
	char *ident = cap_identifier(host, (int64_t)size * 7919 - 3);
	const char *addrs[2] = { f[1], f[2] };
	struct cap_ref ref = { f[3], f[4], 1735657200 };
	struct cap_msg m = {
		.identifier = size & 1 ? f[5] : ident,
		.sender = size & 2 ? f[6] : sender,
		.sent = 1735657200 + (time_t)size,
		.exercise = size & 4,
		.cancels = size & 8 ? &ref : NULL,
		.note = size & 16 ? f[7] : NULL,
		.addresses = addrs,
		.naddresses = 2,
		.category = size & 32 ? f[8] : "Safety",
		.urgency = "Immediate", .severity = "Severe",
		.certainty = size & 64 ? f[9] : "Observed",
		.response_type = size & 128 ? f[10] : NULL,
		.event = f[11],
		.sender_name = f[12],
		.body = f[13],
		.web = size & 256 ? f[0] : NULL,
	};
	char *doc = cap_build(&m, err, sizeof(err));

	if (doc != NULL && !xml_chars_ok(doc))
		abort();
	free(doc);
	free(ident);
	free(sender);
	free(host);
	free(s);
	return 0;
}
