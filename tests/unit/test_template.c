/*
 * test_template.c: unit tests for lib/template.c: the mustache subset, its
 * load-time errors with file:line:column, HTML escaping, SMS arithmetic,
 * and the shipped templates/ (which must fit one UCS-2 SMS segment).
 *
 * Must never depend on anything but the working directory being the
 * repository root (for templates/); temporary files go under $TMPDIR and
 * are removed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "template.h"
#include "util.h"
#include "testutil.h"

struct kv {
	const char *k, *v;
};

static const char *
kv_lookup(void *ctx, const char *name)
{
	for (const struct kv *p = ctx; p->k != NULL; p++)
		if (strcmp(p->k, name) == 0)
			return p->v;
	return NULL;
}

/* Compiles text against the delivery names; fails the test on errors. */
static struct tmpl *
compile_ok(const char *text)
{
	struct diags d = {0};
	struct tmpl *t = tmpl_compile("t.txt", text, tmpl_delivery_names, &d);

	for (size_t i = 0; i < d.n; i++)
		print_error("unexpected: %s\n", d.msgs[i]);
	assert_non_null(t);
	assert_int_equal(d.n, 0);
	diag_free(&d);
	return t;
}

/* Renders text with vars; returns a new string. */
static char *
render(const char *text, const struct kv *vars, enum tmpl_escape esc)
{
	struct tmpl *t = compile_ok(text);
	char *s = tmpl_render(t, kv_lookup, (void *)vars, esc);

	tmpl_free(t);
	return s;
}

static void
assert_render(const char *text, const struct kv *vars, enum tmpl_escape esc,
    const char *want)
{
	char *s = render(text, vars, esc);

	assert_string_equal(s, want);
	free(s);
}

/*
 * Compiles text expecting failure; asserts the first diagnostic starts
 * with want and returns how many there were.
 */
static size_t
compile_err(const char *text, const char *want)
{
	struct diags d = {0};
	struct tmpl *t = tmpl_compile("t.txt", text, tmpl_delivery_names, &d);
	size_t n = d.n;

	assert_null(t);
	assert_true(d.n > 0);
	if (strncmp(d.msgs[0], want, strlen(want)) != 0)
		fail_msg("got \"%s\", want prefix \"%s\"", d.msgs[0], want);
	diag_free(&d);
	return n;
}


static const struct kv vars[] = {
	{ "organization", "さくら町" },
	{ "tag", "【情報共有】" },
	{ "body", "【情報共有】本日は異常なし" },
	{ "sender.name", "山田太郎" },
	{ "sender.title", "危機管理室長" },
	{ "link", "http://127.0.0.1:8080/r/abc" },
	{ "deadline", "" },
	{ NULL, NULL },
};

static const struct kv drill_vars[] = {
	{ "drill", "1" },
	{ "tag", "【訓練】" },
	{ NULL, NULL },
};

static void
test_variables(void **state)
{
	(void)state;
	assert_render("", vars, TMPL_TEXT, "");
	assert_render("plain text } { }}", vars, TMPL_TEXT,
	    "plain text } { }}");
	assert_render("{{organization}}より{{tag}}", vars, TMPL_TEXT,
	    "さくら町より【情報共有】");
	assert_render("[{{ organization }}][{{\torganization\t}}]", vars,
	    TMPL_TEXT, "[さくら町][さくら町]");
	/* absent values render as nothing */
	assert_render("a{{recipient.name}}b{{{alert.id}}}c", vars, TMPL_TEXT,
	    "abc");
	assert_render("{{tag}}{{tag}}", vars, TMPL_TEXT,
	    "【情報共有】【情報共有】");
}

static void
test_dotted(void **state)
{
	(void)state;
	assert_render("{{sender.title}} {{sender.name}}", vars, TMPL_TEXT,
	    "危機管理室長 山田太郎");
}

static void
test_sections(void **state)
{
	(void)state;
	const char *t = "{{#drill}}D{{/drill}}{{^drill}}N{{/drill}}";

	assert_render(t, drill_vars, TMPL_TEXT, "D");
	assert_render(t, vars, TMPL_TEXT, "N");
	/* empty string is false */
	assert_render("{{#deadline}}x{{/deadline}}{{^deadline}}y{{/deadline}}",
	    vars, TMPL_TEXT, "y");
	/* nesting, and the section's own value inside it */
	assert_render("{{#drill}}<{{#tag}}{{tag}}{{^body}}!{{/body}}{{/tag}}>"
	    "{{/drill}}", drill_vars, TMPL_TEXT, "<【訓練】!>");
	assert_render("{{#drill}}<{{#tag}}{{tag}}{{/tag}}>{{/drill}}z", vars,
	    TMPL_TEXT, "z");
}

static void
test_standalone_lines(void **state)
{
	(void)state;
	const char *t = "{{#drill}}\n【訓練】これは訓練です。\n{{/drill}}\n"
	    "{{body}}\n  {{! comment }}  \nend";

	assert_render(t, drill_vars, TMPL_TEXT,
	    "【訓練】これは訓練です。\n\nend");
	assert_render(t, vars, TMPL_TEXT,
	    "【情報共有】本日は異常なし\nend");
	/* not standalone: other text on the line stays */
	assert_render("a {{#drill}}\nb{{/drill}} c", drill_vars, TMPL_TEXT,
	    "a \nb c");
	/* a variable tag is never standalone */
	assert_render("{{recipient.name}}\nx", vars, TMPL_TEXT, "\nx");
	/* CRLF and end of text */
	assert_render("{{#drill}}\r\nD\r\n{{/drill}}", drill_vars, TMPL_TEXT,
	    "D\r\n");
}

static void
test_comments(void **state)
{
	(void)state;
	assert_render("a{{! anything but a tag: #^/ { } \" < }}b", vars,
	    TMPL_TEXT, "ab");
	/* a commented-out tag would end the comment early */
	compile_err("{{! {{tag}} }}", "t.txt:1:1: a comment cannot contain");
	assert_render("a{{!\nmulti\nline\n}}b", vars, TMPL_TEXT, "ab");
}

static void
test_html_escape(void **state)
{
	(void)state;
	static const struct kv v[] = {
		{ "body", "<a href=\"x\">&'避難</a>" },
		{ NULL, NULL },
	};

	assert_render("{{body}}|{{{body}}}", v, TMPL_HTML,
	    "&lt;a href=&quot;x&quot;&gt;&amp;&#39;避難&lt;/a&gt;|"
	    "<a href=\"x\">&'避難</a>");
	/* template text itself is never escaped */
	assert_render("<p>{{body}}</p>", v, TMPL_HTML,
	    "<p>&lt;a href=&quot;x&quot;&gt;&amp;&#39;避難&lt;/a&gt;</p>");
}

static void
test_text_no_escape(void **state)
{
	(void)state;
	static const struct kv v[] = {
		{ "body", "<b>&\"'</b>" },
		{ NULL, NULL },
	};

	assert_render("{{body}}|{{{body}}}", v, TMPL_TEXT,
	    "<b>&\"'</b>|<b>&\"'</b>");
}

static void
test_unknown_name(void **state)
{
	(void)state;
	/* the column counts characters: "  あい{{" puts the name at 7 */
	compile_err("line one\n  あい{{nope}}",
	    "t.txt:2:7: unknown name \"nope\"");
	compile_err("{{#approver.name}}x{{/approver.name}}",
	    "t.txt:1:4: unknown name \"approver.name\"");
	compile_err("{{{sender}}}", "t.txt:1:4: unknown name \"sender\"");
	/* every error is reported, not only the first */
	assert_int_equal(compile_err("{{a}}\n{{b}}\n{{c}}", "t.txt:1:3:"), 3);

	/* approval names differ from delivery names */
	struct diags d = {0};
	struct tmpl *t = tmpl_compile("a.txt", "{{approver.name}}{{audience}}",
	    tmpl_approval_names, &d);
	assert_non_null(t);
	tmpl_free(t);
	t = tmpl_compile("a.txt", "{{recipient.name}}", tmpl_approval_names,
	    &d);
	assert_null(t);
	assert_int_equal(d.n, 1);
	diag_free(&d);
}

static void
test_unclosed_section(void **state)
{
	(void)state;
	compile_err("x\n{{#drill}}abc", "t.txt:2:1: section \"drill\" is "
	    "not closed");
	assert_int_equal(compile_err("{{#drill}}{{^tag}}", "t.txt:"), 2);
	compile_err("{{/drill}}", "t.txt:1:1: {{/drill}} closes no open "
	    "section");
}

static void
test_mismatched_close(void **state)
{
	(void)state;
	compile_err("{{#drill}}{{#tag}}x{{/drill}}",
	    "t.txt:1:20: {{/drill}} does not match {{#tag}} opened at 1:11");
	compile_err("{{#drill}}x{{/tag}}{{/drill}}",
	    "t.txt:1:12: {{/tag}} does not match {{#drill}} opened at 1:1");
}

static void
test_unterminated(void **state)
{
	(void)state;
	compile_err("abc {{tag", "t.txt:1:5: unterminated tag");
	compile_err("{{tag {{body}}", "t.txt:1:1: unterminated tag");
	compile_err("{{! never closed", "t.txt:1:1: unterminated tag");
	compile_err("{{{tag}}", "t.txt:1:1: \"{{{\" must be closed by");
	compile_err("{{", "t.txt:1:1: unterminated tag");
	compile_err("{{#", "t.txt:1:1: unterminated tag");
}

static void
test_bad_names(void **state)
{
	(void)state;
	compile_err("{{}}", "t.txt:1:1: empty name");
	compile_err("{{  }}", "t.txt:1:1: empty name");
	compile_err("{{#}}", "t.txt:1:1: empty name");
	compile_err("{{a-b}}", "t.txt:1:4: bad character '-'");
	compile_err("{{tag body}}", "t.txt:1:6: bad character U+0020");
	compile_err("{{名前}}", "t.txt:1:3: bad character U+540D");
	compile_err("{{sender..name}}", "t.txt:1:9: misplaced '.'");
	compile_err("{{.tag}}", "t.txt:1:3: misplaced '.'");
	compile_err("{{tag.}}", "t.txt:1:6: misplaced '.'");
	compile_err("{{a\nb}}", "t.txt:1:4: bad character U+000A");
	compile_err("{{>partial}}", "t.txt:1:1: partials");
	compile_err("{{=<% %>=}}", "t.txt:1:1: set-delimiter");
	compile_err("{{&body}}", "t.txt:1:1: use {{{name}}}");
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	compile_err("ok\nあ\xff", "t.txt:2:2: invalid UTF-8 (byte 0xff)");
	compile_err("\xc0\xaf", "t.txt:1:1: invalid UTF-8");	/* overlong */
	compile_err("\xed\xa0\x80", "t.txt:1:1: invalid UTF-8"); /* surrogate */
	compile_err("\xe3\x81", "t.txt:1:1: invalid UTF-8");	/* truncated */
}

static void
test_size_limit(void **state)
{
	(void)state;
	char *big = xmalloc(TMPL_MAX_SIZE + 2);
	struct tmpl *t;
	char *s;

	memset(big, 'a', TMPL_MAX_SIZE + 1);
	big[TMPL_MAX_SIZE + 1] = '\0';
	compile_err(big, "t.txt: template is larger than 65536 bytes");
	big[TMPL_MAX_SIZE] = '\0';
	t = compile_ok(big);
	s = tmpl_render(t, kv_lookup, (void *)vars, TMPL_HTML);
	assert_int_equal(strlen(s), TMPL_MAX_SIZE);
	free(s);
	tmpl_free(t);
	free(big);
}

/* xorshift: a fixed sequence, so a failure reproduces. */
static uint32_t
rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
test_garbage(void **state)
{
	(void)state;
	/* bytes that make tags likely, plus any other non-NUL byte */
	static const char alpha[] = "{{{}}}#^/!.  \n tagbodydrill&>=\xe3\x81\x82";
	uint32_t x = 2463534242u;
	int compiled = 0;

	for (int iter = 0; iter < 4000; iter++) {
		size_t len = rnd(&x) % 200;
		char *text = xmalloc(len + 1);
		struct diags d = {0};
		struct tmpl *t;

		for (size_t i = 0; i < len; i++) {
			if (rnd(&x) % 8 == 0)
				text[i] = (char)(1 + rnd(&x) % 255);
			else
				text[i] = alpha[rnd(&x) % (sizeof(alpha) - 1)];
		}
		text[len] = '\0';
		t = tmpl_compile("g.txt", text, tmpl_delivery_names, &d);
		if (t != NULL) {
			char *a = tmpl_render(t, kv_lookup, (void *)drill_vars,
			    TMPL_HTML);
			char *b = tmpl_render(t, kv_lookup, (void *)vars,
			    TMPL_TEXT);

			assert_int_equal(d.n, 0);
			free(a);
			free(b);
			tmpl_free(t);
			compiled++;
		} else {
			assert_true(d.n > 0);
			assert_true(d.n <= 21);	/* capped per template */
			for (size_t i = 0; i < d.n; i++)
				assert_true(startswith(d.msgs[i], "g.txt"));
		}
		diag_free(&d);
		free(text);
	}
	/* the generator must exercise both paths */
	assert_true(compiled > 0);
	assert_true(compiled < 4000);
}

static void
test_utf16_units(void **state)
{
	(void)state;
	assert_int_equal(utf16_units("", 0), 0);
	assert_int_equal(utf16_units("hello", 5), 5);
	assert_int_equal(utf16_units("避難所", strlen("避難所")), 3);
	assert_int_equal(utf16_units("【訓練】", strlen("【訓練】")), 4);
	/* outside the BMP: a surrogate pair each */
	assert_int_equal(utf16_units("𠮷", strlen("𠮷")), 2);
	assert_int_equal(utf16_units("𠮷野家🚨", strlen("𠮷野家🚨")), 6);
	/* len, not NUL, ends the text */
	assert_int_equal(utf16_units("abc", 2), 2);
	/* invalid bytes count one each */
	assert_int_equal(utf16_units("\xff\xfe", 2), 2);
}

/* A string of n copies of the UTF-8 character c. */
static char *
repeat(const char *c, size_t n)
{
	struct buf b = {0};

	for (size_t i = 0; i < n; i++)
		buf_adds(&b, c);
	return buf_take(&b);
}

static void
assert_segments(const char *s, int want, size_t want_units,
    size_t want_limit)
{
	size_t units = 0, limit = 0;

	assert_int_equal(sms_segments(s, strlen(s), &units, &limit), want);
	assert_int_equal(units, want_units);
	assert_int_equal(limit, want_limit);
}

static void
test_sms_segments(void **state)
{
	(void)state;
	char *s;

	assert_segments("", 0, 0, 160);
	assert_int_equal(sms_segments("a", 1, NULL, NULL), 1);

	s = repeat("あ", 70);
	assert_false(sms_gsm7(s, strlen(s)));
	assert_segments(s, 1, 70, 70);
	free(s);
	s = repeat("あ", 71);
	assert_segments(s, 2, 71, 70);
	free(s);
	s = repeat("あ", 134);
	assert_segments(s, 2, 134, 70);
	free(s);
	s = repeat("あ", 135);
	assert_segments(s, 3, 135, 70);
	free(s);

	s = repeat("a", 160);
	assert_true(sms_gsm7(s, strlen(s)));
	assert_segments(s, 1, 160, 160);
	free(s);
	s = repeat("a", 161);
	assert_segments(s, 2, 161, 160);
	free(s);
	s = repeat("a", 306);
	assert_segments(s, 2, 306, 160);
	free(s);
	s = repeat("a", 307);
	assert_segments(s, 3, 307, 160);
	free(s);

	/* extension characters take two septets */
	assert_true(sms_gsm7("€[]{}\\^~|", strlen("€[]{}\\^~|")));
	s = repeat("€", 80);
	assert_segments(s, 1, 160, 160);
	free(s);
	s = repeat("[", 81);
	assert_segments(s, 2, 162, 160);
	free(s);
	/* 152 septets then '€': the escape pair is not split */
	s = repeat("a", 152);
	{
		char *t = xasprintf("%s€%s", s, "aaaaaaaaaa");

		assert_segments(t, 2, 164, 160);
		free(t);
		free(s);
		s = repeat("a", 305);
		t = xasprintf("%s€", s);
		/* 305 + 2 = 307: 153 + (152 + split €) needs a third */
		assert_segments(t, 3, 307, 160);
		free(t);
	}
	free(s);

	/* GSM basic set beyond ASCII, and characters outside it */
	assert_true(sms_gsm7("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà",
	    strlen("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà")));
	assert_false(sms_gsm7("`", 1));
	assert_false(sms_gsm7("ê", strlen("ê")));
	assert_false(sms_gsm7("a\xff", 2));
	assert_segments("Ωa€", 1, 4, 160);

	/* surrogate pairs count 2 and one is never split across segments */
	s = repeat("🚨", 35);
	assert_segments(s, 1, 70, 70);
	free(s);
	s = repeat("🚨", 36);
	assert_segments(s, 2, 72, 70);
	free(s);
	{
		char *a = repeat("あ", 66);
		char *t = xasprintf("%s🚨%s", a, "あああああ");

		/* 66 + 2 + 5 = 73 units: 66 | 🚨+5 */
		assert_segments(t, 2, 73, 70);
		free(t);
		free(a);
	}
}

static const char *const shipped[] = {
	"shelter_open", "info_share", "assemble", "weather_warning",
	"damage_report", "drill", "cancel",
};

static void
test_set_shipped(void **state)
{
	(void)state;
	struct diags d = {0};
	struct tmpl_set *s = tmpl_set_load("templates", shipped,
	    nitems(shipped), &d);

	for (size_t i = 0; i < d.n; i++)
		print_error("%s\n", d.msgs[i]);
	assert_non_null(s);
	assert_int_equal(d.n, 0);
	for (size_t i = 0; i < nitems(shipped); i++) {
		assert_non_null(tmpl_set_get(s, shipped[i], TMPL_LONG));
		assert_non_null(tmpl_set_get(s, shipped[i], TMPL_SMS));
	}
	assert_non_null(tmpl_set_get(s, TMPL_APPROVAL, TMPL_LONG));
	assert_non_null(tmpl_set_get(s, TMPL_APPROVAL, TMPL_SMS));
	assert_null(tmpl_set_get(s, "nonesuch", TMPL_LONG));
	assert_string_equal(tmpl_name(tmpl_set_get(s, "assemble", TMPL_SMS)),
	    "templates/assemble.sms.txt");

	/* long form: drill banner first, body, sender, link */
	static const struct kv v[] = {
		{ "drill", "1" },
		{ "organization", "さくら町" },
		{ "tag", "【参集指示】" },
		{ "body", "【参集指示】災害対策本部を設置します。" },
		{ "sender.name", "山田太郎" },
		{ "sender.title", "危機管理室長" },
		{ "link", "http://127.0.0.1:8080/r/AAAAAAAAAAAAAAAAAAAAAA" },
		{ "responses", "参集できる / 遅れて参集 / 参集できない" },
		{ NULL, NULL },
	};
	char *out = tmpl_render(tmpl_set_get(s, "assemble", TMPL_LONG),
	    kv_lookup, (void *)v, TMPL_TEXT);
	assert_true(startswith(out, "【訓練】これは訓練です。\n"
	    "【参集指示】災害対策本部を設置します。\n"));
	assert_non_null(strstr(out, "危機管理室長 山田太郎"));
	assert_non_null(strstr(out, "確認はこちら: http://127.0.0.1:8080/r/"));
	assert_non_null(strstr(out, "参集できる / 遅れて参集 / 参集できない"));
	assert_null(strstr(out, "{{"));
	free(out);
	/* without drill the body comes first */
	out = tmpl_render(tmpl_set_get(s, "assemble", TMPL_LONG), kv_lookup,
	    (void *)(v + 1), TMPL_TEXT);
	assert_true(startswith(out, "【参集指示】"));
	free(out);
	tmpl_set_free(s);
	diag_free(&d);
}

static void
test_shipped_sms_fits(void **state)
{
	(void)state;
	/* worst case: 10-char tag, 6-char organization, 46-char link */
	static const struct kv worst[] = {
		{ "drill", "1" },
		{ "tag", "【避難所開設要請書】" },
		{ "organization", "さくら町役場" },
		{ "link", "http://127.0.0.1:8080/r/ABCDEFGHIJKLMNOPQRSTUV" },
		{ "body", "【避難所開設要請】本文は SMS に入らない" },
		{ "sender.name", "山田太郎" },
		{ "sender.title", "危機管理室長" },
		{ "recipient.name", "鈴木花子" },
		{ "approver.name", "町長" },
		{ "audience", "危機管理グループ 38名" },
		{ "alert.id", "A-20260101-0001" },
		{ "alert.created", "2026-01-01T03:04:05+09:00" },
		{ "responses", "参集できる / 遅れて参集 / 参集できない" },
		{ "deadline", "2026-01-01T04:04:05+09:00" },
		{ NULL, NULL },
	};
	struct diags d = {0};
	struct tmpl_set *s = tmpl_set_load("templates", shipped,
	    nitems(shipped), &d);
	const char *names[nitems(shipped) + 1];

	assert_int_equal(utf16_units(worst[1].v, strlen(worst[1].v)), 10);
	assert_int_equal(utf16_units(worst[2].v, strlen(worst[2].v)), 6);
	assert_int_equal(strlen(worst[3].v), 46);
	assert_non_null(s);
	memcpy(names, shipped, sizeof(shipped));
	names[nitems(shipped)] = TMPL_APPROVAL;
	for (size_t i = 0; i < nitems(names); i++) {
		for (int drill = 0; drill < 2; drill++) {
			const struct tmpl *t = tmpl_set_get(s, names[i],
			    TMPL_SMS);
			char *out = tmpl_render(t, kv_lookup,
			    (void *)(worst + (drill ? 0 : 1)), TMPL_TEXT);
			size_t units, limit;

			if (utf16_units(out, strlen(out)) > SMS_UCS2_SINGLE)
				fail_msg("%s: %zu units: %s", tmpl_name(t),
				    utf16_units(out, strlen(out)), out);
			assert_int_equal(sms_segments(out, strlen(out),
			    &units, &limit), 1);
			assert_non_null(strstr(out, worst[3].v));
			assert_null(strchr(out, '\n'));
			assert_true(drill == (strstr(out, "【訓練】") !=
			    NULL));
			free(out);
		}
	}
	tmpl_set_free(s);
	diag_free(&d);
}

/* A temporary directory with the given files (name, content pairs). */
static char *
make_dir(const char *const files[][2], size_t n)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/test_template.XXXXXX", tmp ? tmp : "/tmp");

	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < n; i++) {
		char *p = path_join(dir, files[i][0]);
		FILE *f = fopen(p, "w");

		assert_non_null(f);
		fputs(files[i][1], f);
		assert_int_equal(fclose(f), 0);
		free(p);
	}
	return dir;
}

static void
remove_dir(char *dir, const char *const files[][2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *p = path_join(dir, files[i][0]);

		unlink(p);
		free(p);
	}
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static void
test_set_missing_file(void **state)
{
	(void)state;
	static const char *const files[][2] = {
		{ "approval.long.txt", "{{approver.name}} 様\n{{body}}\n" },
		{ "approval.sms.txt", "承認依頼 {{link}}\n" },
		{ "x.long.txt", "{{body}}\n" },
	};
	const char *names[] = { "x" };
	struct diags d = {0};
	char *dir = make_dir(files, nitems(files));
	char *want = xasprintf("%s/x.sms.txt: missing template file", dir);

	assert_null(tmpl_set_load(dir, names, 1, &d));
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msgs[0], want);
	diag_free(&d);
	free(want);

	/* a name not given is not read; the final newline is dropped */
	struct tmpl_set *s = tmpl_set_load(dir, NULL, 0, &d);
	assert_non_null(s);
	char *out = tmpl_render(tmpl_set_get(s, TMPL_APPROVAL, TMPL_SMS),
	    kv_lookup, (void *)vars, TMPL_TEXT);
	assert_string_equal(out, "承認依頼 http://127.0.0.1:8080/r/abc");
	free(out);
	tmpl_set_free(s);
	remove_dir(dir, files, nitems(files));
}

static void
test_set_errors(void **state)
{
	(void)state;
	char *big = xmalloc(TMPL_MAX_SIZE + 2);

	memset(big, 'a', TMPL_MAX_SIZE + 1);
	big[TMPL_MAX_SIZE + 1] = '\0';
	const char *const files[][2] = {
		{ "approval.long.txt", "{{recipient.name}}\n" },
		{ "approval.sms.txt", "{{#drill}}\n" },
		{ "big.long.txt", big },
		{ "big.sms.txt", "\xe3\x81" },
		{ "ok.long.txt", "{{recipient.name}}" },
		{ "ok.sms.txt", "{{link}}" },
	};
	const char *names[] = { "big", "ok", "ok", "../etc", "approval" };
	struct diags d = {0};
	char *dir = make_dir(files, nitems(files));

	assert_null(tmpl_set_load(dir, names, nitems(names), &d));
	assert_true(diags_have(&d, "approval.long.txt:1:3: unknown name "
	    "\"recipient.name\""));
	assert_true(diags_have(&d, "approval.sms.txt:1:1: section \"drill\" "
	    "is not closed"));
	assert_true(diags_have(&d, "big.long.txt: template file is larger "
	    "than 65536 bytes"));
	assert_true(diags_have(&d, "big.sms.txt:1:1: invalid UTF-8"));
	assert_true(diags_have(&d, "bad template name \"../etc\""));
	assert_true(diags_have(&d, "\"approval\" is reserved"));
	assert_int_equal(d.n, 6);	/* "ok" twice is loaded once */
	diag_free(&d);
	remove_dir(dir, files, nitems(files));
	free(big);
}

static void
test_set_nul_byte(void **state)
{
	(void)state;
	const char *const files[][2] = {
		{ "approval.long.txt", "x" },
		{ "approval.sms.txt", "x" },
	};
	struct diags d = {0};
	char *dir = make_dir(files, nitems(files));
	char *p = path_join(dir, "approval.sms.txt");
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fwrite("ab\0c", 1, 4, f);
	assert_int_equal(fclose(f), 0);
	free(p);
	assert_null(tmpl_set_load(dir, NULL, 0, &d));
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.msgs[0], "approval.sms.txt: template file "
	    "contains a NUL byte at offset 2"));
	diag_free(&d);
	remove_dir(dir, files, nitems(files));
}

/* Fails unless t uses exactly the vars "key:r key:o ..." (r required). */
static void
assert_vars(const struct tmpl *t, const char *want)
{
	const struct tmpl_var *v;
	size_t n = tmpl_vars(t, &v);
	struct buf b = {0};

	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s:%c", i ? " " : "", v[i].key,
		    v[i].required ? 'r' : 'o');
	if (strcmp(b.data ? b.data : "", want) != 0)
		fail_msg("vars: got \"%s\", want \"%s\"", b.data ? b.data : "",
		    want);
	if (n == 0)
		assert_null(v);
	buf_free(&b);
}

static void
assert_vars_of(const char *text, const char *want)
{
	struct tmpl *t = compile_ok(text);

	assert_vars(t, want);
	tmpl_free(t);
}

static void
test_var_names(void **state)
{
	(void)state;
	static const struct kv v[] = {
		{ "var.place", "本庁舎3階" },
		{ "var.time", "" },
		{ "tag", "【参集指示】" },
		{ NULL, NULL },
	};

	/* accepted in delivery templates, rendered from the lookup */
	assert_render("{{tag}}{{#var.place}}場所: {{var.place}}{{/var.place}}"
	    "{{#var.time}}時刻: {{var.time}}{{/var.time}}{{^var.time}}"
	    "（時刻未定）{{/var.time}}|{{{var.place}}}|{{var.none}}|", v,
	    TMPL_TEXT, "【参集指示】場所: 本庁舎3階（時刻未定）|本庁舎3階||");
	assert_render("{{ var.A_1 }}", v, TMPL_TEXT, "");

	/* listed once each, in order of first use; required vs optional */
	assert_vars_of("no vars {{tag}} {{#drill}}x{{/drill}}", "");
	assert_vars_of("{{#var.a}}{{var.a}}{{/var.a}}{{var.b}}"
	    "{{^var.c}}x{{/var.c}}{{{var.d}}}{{#var.e}}e{{/var.e}}",
	    "a:o b:r c:o d:r e:o");
	/* a value outside its own section makes it required, wherever */
	assert_vars_of("{{#var.a}}x{{/var.a}}{{var.a}}", "a:r");
	assert_vars_of("{{var.a}}{{#var.a}}{{var.a}}{{/var.a}}", "a:r");
	assert_vars_of("{{#var.a}}{{var.b}}{{/var.a}}", "a:o b:r");
	assert_vars_of("{{^var.a}}{{var.a}}{{/var.a}}", "a:r");
	assert_vars_of("{{#drill}}{{var.a}}{{/drill}}", "a:r");
	/* nested inside its own section, at any depth: optional */
	assert_vars_of("{{#var.a}}{{#drill}}{{{var.a}}}{{/drill}}{{/var.a}}",
	    "a:o");
	assert_vars_of("{{#var.a}}\n{{var.b}}\n{{#var.b}}{{var.a}}{{/var.b}}\n"
	    "{{/var.a}}", "a:o b:r");
	assert_vars_of("{{#var.a}}\n{{#var.b}}\n{{var.a}}{{var.b}}\n"
	    "{{/var.b}}\n{{/var.a}}", "a:o b:o");
	/* keys are case-sensitive: var.A and var.a are two */
	assert_vars_of("{{var.A}}{{#var.a}}{{/var.a}}", "A:r a:o");
	/* 32 bytes is the longest key */
	assert_vars_of("{{var.abcdefghijklmnopqrstuvwxyz_01234}}",
	    "abcdefghijklmnopqrstuvwxyz_01234:r");
}

static void
test_var_names_rejected(void **state)
{
	(void)state;
	/* other unknown names are still errors, with line and column */
	compile_err("{{var.place}}\n  あ{{nope}}", "t.txt:2:6: unknown name "
	    "\"nope\" (known: organization, tag, body, link, drill, "
	    "sender.name, sender.title, recipient.name, recipient.title, "
	    "alert.id, alert.created, responses, deadline, var.*)");
	compile_err("x {{#vars.place}}y{{/vars.place}}",
	    "t.txt:1:6: unknown name \"vars.place\"");
	compile_err("{{var}}", "t.txt:1:3: unknown name \"var\"");
	compile_err("{{#var}}x{{/var}}", "t.txt:1:4: unknown name \"var\"");
	/* a KEY is one segment of at most 32 bytes */
	compile_err("ab\n{{ var.a.b }}", "t.txt:2:4: bad name \"var.a.b\": "
	    "after \"var.\" comes one segment of letters, digits and '_', "
	    "at most 32 bytes");
	compile_err("{{{var.abcdefghijklmnopqrstuvwxyz_012345}}}",
	    "t.txt:1:4: bad name \"var.abcdefghijklmnopqrstuvwxyz_012345\"");
	/* name syntax comes first */
	compile_err("{{var.}}", "t.txt:1:6: misplaced '.'");
	compile_err("{{var.場所}}", "t.txt:1:7: bad character U+5834");
	compile_err("{{var.a-b}}", "t.txt:1:8: bad character '-'");
	/* every error is reported: bad name, unknown name, mismatched
	 * close, unclosed section */
	assert_int_equal(compile_err("{{var.ok}}{{var.a.b}}\n{{x}}\n"
	    "{{#var.c}}{{/var.d}}", "t.txt:1:13:"), 4);

	/* approval templates take no var.KEY */
	struct diags d = {0};
	struct tmpl *t = tmpl_compile("a.txt", "{{body}}\n{{var.place}}",
	    tmpl_approval_names, &d);
	assert_null(t);
	expect_diag(&d, "a.txt:2:3: unknown name \"var.place\": var.KEY values "
	    "are for delivery templates only (known: organization, tag, body, "
	    "link, drill, sender.name, sender.title, alert.id, alert.created, "
	    "audience, approver.name)");
	diag_free(&d);
}

static void
test_var_key_ok(void **state)
{
	(void)state;
	assert_true(tmpl_var_key_ok("place"));
	assert_true(tmpl_var_key_ok("A_1"));
	assert_true(tmpl_var_key_ok("_"));
	assert_true(tmpl_var_key_ok("abcdefghijklmnopqrstuvwxyz_01234"));
	assert_false(tmpl_var_key_ok("abcdefghijklmnopqrstuvwxyz_012345"));
	assert_false(tmpl_var_key_ok(NULL));
	assert_false(tmpl_var_key_ok(""));
	assert_false(tmpl_var_key_ok("a.b"));
	assert_false(tmpl_var_key_ok("a-b"));
	assert_false(tmpl_var_key_ok("a b"));
	assert_false(tmpl_var_key_ok("場所"));
	assert_false(tmpl_var_key_ok("a="));
	assert_false(tmpl_var_key_ok("a\n"));
}

/* The shipped 参集指示 long form shows place and time when given; no
 * shipped template requires a value, so a draft without --set works. */
static void
test_shipped_vars(void **state)
{
	(void)state;
	struct diags d = {0};
	struct tmpl_set *s = tmpl_set_load("templates", shipped,
	    nitems(shipped), &d);
	static const struct kv v[] = {
		{ "body", "【参集指示】災害対策本部を設置します。" },
		{ "var.place", "本庁舎3階 災害対策本部室" },
		{ "var.time", "22時30分" },
		{ NULL, NULL },
	};
	char *out;

	assert_non_null(s);
	assert_vars(tmpl_set_get(s, "assemble", TMPL_LONG), "place:o time:o");
	for (size_t i = 0; i < nitems(shipped); i++) {
		const struct tmpl_var *tv;

		assert_int_equal(tmpl_vars(tmpl_set_get(s, shipped[i],
		    TMPL_SMS), &tv), 0);
		if (strcmp(shipped[i], "assemble") != 0)
			assert_int_equal(tmpl_vars(tmpl_set_get(s,
			    shipped[i], TMPL_LONG), &tv), 0);
	}
	out = tmpl_render(tmpl_set_get(s, "assemble", TMPL_LONG), kv_lookup,
	    (void *)v, TMPL_TEXT);
	assert_true(startswith(out, "【参集指示】災害対策本部を設置します。\n"
	    "参集場所: 本庁舎3階 災害対策本部室\n参集時刻: 22時30分\n\n発信: "));
	free(out);
	/* without values the lines are gone, blank line and all */
	out = tmpl_render(tmpl_set_get(s, "assemble", TMPL_LONG), kv_lookup,
	    (void *)vars, TMPL_TEXT);
	assert_true(startswith(out, "【情報共有】本日は異常なし\n\n発信: "));
	assert_null(strstr(out, "参集"));
	free(out);
	tmpl_set_free(s);
	diag_free(&d);
}

static void
test_name_lists(void **state)
{
	(void)state;
	size_t n = 0;

	for (; tmpl_delivery_names[n] != NULL; n++)
		;
	assert_int_equal(n, 14);
	/* delivery templates admit every var.KEY; approval ones none */
	assert_string_equal(tmpl_delivery_names[13], "var.*");
	for (n = 0; tmpl_approval_names[n] != NULL; n++)
		;
	assert_int_equal(n, 11);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_dotted),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_standalone_lines),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_text_no_escape),
		cmocka_unit_test(test_unknown_name),
		cmocka_unit_test(test_unclosed_section),
		cmocka_unit_test(test_mismatched_close),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_utf16_units),
		cmocka_unit_test(test_sms_segments),
		cmocka_unit_test(test_set_shipped),
		cmocka_unit_test(test_shipped_sms_fits),
		cmocka_unit_test(test_set_missing_file),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_set_nul_byte),
		cmocka_unit_test(test_name_lists),
		cmocka_unit_test(test_var_names),
		cmocka_unit_test(test_var_names_rejected),
		cmocka_unit_test(test_var_key_ok),
		cmocka_unit_test(test_shipped_vars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
