/*
 * fuzz_template: arbitrary bytes as a message template: tmpl_compile with
 * the delivery names, then tmpl_render in both escapes with values that
 * are present, empty, absent (NULL) and full of markup, and the SMS
 * arithmetic (utf16_units, sms_gsm7, sms_segments) over the raw bytes and
 * the rendering.
 *
 * Contract: clean returns only; a rendering is NUL-terminated valid UTF-8
 * when the template and the values were.
 */
#include "fuzz.h"

#include "template.h"
#include "util.h"

static const char *
lookup(void *ctx, const char *name)
{
	unsigned sel = *(unsigned *)ctx;

	if (strcmp(name, "drill") == 0)
		return sel & 1 ? "true" : NULL;
	if (strcmp(name, "responses") == 0)
		return sel & 2 ? "確認しました / 出動可能 / 不可" : NULL;
	if (strcmp(name, "deadline") == 0)
		return sel & 4 ? "" : NULL;
	if (strcmp(name, "body") == 0)
		return "<b>大雨</b> & \"警報\" 'x' {{body}} 𠮷\n2行目";
	if (strcmp(name, "link") == 0)
		return "https://alert.example.lg.jp/r/AAAAAAAAAAAAAAAAAAAAAA";
	return name;	/* every other known name renders as itself */
}

static void
sms(const char *s, size_t len)
{
	size_t units, limit;

	(void)utf16_units(s, len);
	(void)sms_gsm7(s, len);
	(void)sms_segments(s, len, &units, &limit);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = {0};
	char *text = fuzz_cstr(data, size);
	struct tmpl *t;

	sms((const char *)data, size);
	t = tmpl_compile("fuzz.long.txt", text, tmpl_delivery_names, &d);
	if (t != NULL) {
		for (unsigned sel = 0; sel < 8; sel += 3) {
			char *out = tmpl_render(t, lookup, &sel,
			    sel ? TMPL_HTML : TMPL_TEXT);
			if (!utf8_valid(out, strlen(out)))
				abort();
			sms(out, strlen(out));
			free(out);
		}
		tmpl_free(t);
	}
	diag_free(&d);
	t = tmpl_compile("fuzz.approval.txt", text, tmpl_approval_names, &d);
	tmpl_free(t);
	diag_free(&d);
	free(text);
	return 0;
}
