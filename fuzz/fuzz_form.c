/*
 * fuzz_form: arbitrary bytes as an HTTP form body (form_parse, form_get),
 * and as link tokens and base64url (token_wellformed, b64url_decode, with
 * a round trip through b64url_encode), as the approval and recipient pages
 * take them from forms and URLs.
 *
 * Contract: form_parse fills every field with a name of [A-Za-z0-9_.-]+
 * and a valid UTF-8 value, or returns -1 and leaves nothing to free;
 * b64url_decode writes at most outsz bytes.
 */
#include "fuzz.h"

#include "crypto.h"
#include "form.h"
#include "util.h"

static void
b64(const uint8_t *data, size_t size)
{
	uint8_t out[64];
	char back[4 * (sizeof(out) + 2) / 3 + 1];
	size_t n = 0;
	char *s = fuzz_cstr(data, size);

	(void)token_wellformed(s, size);
	for (size_t outsz = 0; outsz <= sizeof(out); outsz += 16) {
		uint8_t *o = malloc(outsz ? outsz : 1);
		if (o == NULL)
			abort();
		if (b64url_decode(s, size, o, outsz, &n) == 0) {
			if (n > outsz)
				abort();
			if (n <= sizeof(out)) {
				size_t bl = b64url_encode(o, n, back);
				/* decoding is exact: the text comes back */
				if (bl != size || memcmp(back, s, size) != 0)
					abort();
			}
		}
		free(o);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f;
	char err[256];
	char *body = malloc(size ? size : 1);	/* not NUL-terminated */

	if (body == NULL)
		abort();
	memcpy(body, data, size);
	if (form_parse(body, size, &f, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < f.n; i++) {
			const char *v = f.v[i].value;
			if (!utf8_valid(v, strlen(v)) ||
			    form_get(&f, f.v[i].name) == NULL)
				abort();
			b64((const uint8_t *)v, strlen(v));
		}
		form_free(&f);
	}
	free(body);
	b64(data, size);
	return 0;
}
