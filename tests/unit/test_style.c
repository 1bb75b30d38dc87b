/*
 * test_style.c: unit tests for lib/style.c and the shipped
 * rules/style.yaml: greetings, length in characters, the 【tag】, hostile
 * text, and bad rule files reported at file:line:col. Runs from the
 * repository root.
 *
 * Must never: depend on anything outside the repository and libc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "style.h"
#include "testutil.h"

#define SHIPPED "rules/style.yaml"
#define SRC "（三条市ガイドライン）"

static struct style shipped;

static int
setup(void **state)
{
	struct diags d = {0};

	(void)state;
	if (style_load(SHIPPED, &shipped, &d) != 0 || d.n != 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	style_free(&shipped);
	return 0;
}


static int
load_str(const char *yaml, struct style *s, struct diags *d)
{
	struct ynode *root = yaml_load_string("s.yaml", yaml, strlen(yaml), d);
	int rc;

	if (root == NULL)
		return -2;
	rc = style_load_node(root, s, d);
	ynode_free(root);
	return rc;
}

/* Runs the shipped style over text; returns the warning count. */
static size_t
check(const char *text, char ***w)
{
	size_t n = 0;

	*w = NULL;
	style_check(&shipped, text, w, &n);
	return n;
}

static void
test_shipped(void **state)
{
	(void)state;
	assert_true(shipped.nphrases >= 5);
	assert_int_equal(shipped.max_chars, 1000);
	assert_true(shipped.require_tag);
	assert_string_equal(shipped.source, "三条市ガイドライン");
	assert_string_equal(shipped.phrases[0], "お疲れ様です");
}

static void
test_clean(void **state)
{
	static const char *const clean[] = {
		"【避難所開設要請】17:15に第一小学校体育館を開設してください。",
		"  【参集指示】震度5強。30分以内に参集",
		"\n\u3000【訓練】本日9時から",
		"【取消】",
	};
	char **w;

	(void)state;
	for (size_t i = 0; i < nitems(clean); i++) {
		size_t n = check(clean[i], &w);

		if (n != 0)
			fail_msg("\"%s\": %s", clean[i], w[0]);
		strlist_free(w, n);
	}
}

static void
test_greetings(void **state)
{
	char **w;
	size_t n;

	(void)state;
	n = check("【情報共有】お疲れ様です。避難所を開設しました。", &w);
	assert_int_equal(n, 1);
	assert_string_equal(w[0], "挨拶・定型句「お疲れ様です」は不要です" SRC);
	strlist_free(w, n);

	n = check("【情報共有】お疲れさまです。おつかれさまです。"
	    "お疲れさまです。お世話になっております。"
	    "よろしくお願いします。", &w);
	assert_int_equal(n, 4);	/* each phrase once */
	assert_string_equal(w[0], "挨拶・定型句「お疲れさまです」は不要です" SRC);
	assert_string_equal(w[1], "挨拶・定型句「おつかれさまです」は不要です"
	    SRC);
	assert_string_equal(w[2], "挨拶・定型句「お世話になっております」は"
	    "不要です" SRC);
	assert_string_equal(w[3], "挨拶・定型句「よろしくお願いします」は不要です"
	    SRC);
	strlist_free(w, n);

	n = check("【情報共有】了解しました", &w);
	assert_int_equal(n, 1);
	strlist_free(w, n);
}

static void
test_tag(void **state)
{
	static const char *const untagged[] = {
		"避難所を開設しました",
		"【】避難所を開設しました",
		"【避難所開設要請 避難所を開設しました",
		"【避難所開設要請\n】避難所を開設しました",
		"［避難所開設要請］避難所を開設しました",
		"本文【避難所開設要請】",
		"",
	};
	char **w;

	(void)state;
	for (size_t i = 0; i < nitems(untagged); i++) {
		size_t n = check(untagged[i], &w);

		if (n != 1)
			fail_msg("\"%s\": %zu warnings", untagged[i], n);
		assert_string_equal(w[0], "先頭に【避難所開設要請】のような【】付き"
		    "のタグがありません" SRC);
		strlist_free(w, n);
	}
}

static void
test_length(void **state)
{
	struct buf b = {0};
	char **w;
	size_t n;

	(void)state;
	buf_adds(&b, "【訓練】");	/* 4 characters */
	for (int i = 0; i < 996; i++)
		buf_adds(&b, "あ");
	n = check(b.data, &w);		/* exactly 1000 characters */
	assert_int_equal(n, 0);
	buf_adds(&b, "い");
	n = check(b.data, &w);
	assert_int_equal(n, 1);
	assert_string_equal(w[0], "本文が1001文字で、上限の1000文字を超えています。"
	    "長文は避け、小分けにしてください" SRC);
	strlist_free(w, n);
	buf_free(&b);

	/* Characters, not bytes: 999 characters (2991 bytes) are fine. */
	buf_adds(&b, "【訓練】");
	for (int i = 0; i < 995; i++)
		buf_adds(&b, "あ");
	assert_true(b.len > 1000);
	n = check(b.data, &w);
	assert_int_equal(n, 0);
	buf_free(&b);
}

static void
test_order_and_append(void **state)
{
	struct buf b = {0};
	char **w = NULL;
	size_t n = 0;

	(void)state;
	w = xcalloc(1, sizeof(char *));
	w[0] = xstrdup("earlier");
	n = 1;
	for (int i = 0; i < 1000; i++)
		buf_adds(&b, "お");
	buf_adds(&b, "お疲れ様です");
	style_check(&shipped, b.data, &w, &n);
	assert_int_equal(n, 4);
	assert_string_equal(w[0], "earlier");
	assert_non_null(strstr(w[1], "タグ"));
	assert_non_null(strstr(w[2], "1006文字"));
	assert_non_null(strstr(w[3], "お疲れ様です"));
	strlist_free(w, n);
	buf_free(&b);
}

static void
test_hostile(void **state)
{
	char **w;
	size_t n;

	(void)state;
	n = check("【訓練】\xff\xfeお疲れ様です", &w);
	assert_int_equal(n, 1);
	assert_string_equal(w[0], "本文に文字化け（正しくないUTF-8）があります"
	    SRC);
	strlist_free(w, n);
	n = check("\xe3\x80", &w);	/* half of 【 */
	assert_int_equal(n, 1);
	strlist_free(w, n);
	n = check(NULL, &w);		/* like "": no tag */
	assert_int_equal(n, 1);
	strlist_free(w, n);
}

static void
test_no_source_no_limit(void **state)
{
	struct style s = {0};
	struct diags d = {0};
	char **w = NULL;
	size_t n = 0;
	struct buf b = {0};

	(void)state;
	assert_int_equal(load_str("greetings: お疲れ様です\n"
	    "require_tag: false\n", &s, &d), 0);
	assert_int_equal(s.max_chars, 0);
	assert_null(s.source);
	for (int i = 0; i < 5000; i++)
		buf_adds(&b, "あ");
	buf_adds(&b, "お疲れ様です");
	style_check(&s, b.data, &w, &n);
	assert_int_equal(n, 1);
	assert_string_equal(w[0], "挨拶・定型句「お疲れ様です」は不要です");
	strlist_free(w, n);
	buf_free(&b);
	style_free(&s);
	style_free(&s);
	style_free(NULL);
	diag_free(&d);
}

static void
test_load_errors(void **state)
{
	struct style s = {0};
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str("greetings:\n"
	    "  - お疲れ様です\n"
	    "  - ''\n"
	    "  - お疲れ様です\n"
	    "max_chars: lots\n"
	    "require_tag: maybe\n"
	    "colour: red\n", &s, &d), -1);
	for (size_t i = 0; i < d.n; i++)
		print_message("diag: %s\n", d.msgs[i]);
	assert_true(diags_have(&d, "s.yaml:7:1: unknown key \"colour\""));
	assert_true(diags_have(&d, "s.yaml:3:5: greeting 2 is empty"));
	assert_true(diags_have(&d, "s.yaml:4:5: warning: greeting \"お疲れ様です\" "
	    "is listed twice"));
	assert_true(diags_have(&d, "s.yaml:5:12: \"max_chars\" must be a whole "
	    "number"));
	assert_true(diags_have(&d, "s.yaml:6:14: \"require_tag\" must be true "
	    "or false"));
	assert_int_equal(diag_errors(&d), 4);
	assert_null(s.phrases);
	diag_free(&d);

	assert_int_equal(load_str("greetings:\n  a: b\n", &s, &d), -1);
	assert_true(diags_have(&d, "s.yaml:2:3: \"greetings\" must be a list"));
	diag_free(&d);

	assert_int_equal(load_str("greetings: [[a]]\n", &s, &d), -1);
	assert_true(diags_have(&d, "items of \"greetings\" must be values"));
	diag_free(&d);

	assert_int_equal(load_str("max_chars: 100001\n", &s, &d), -1);
	assert_true(diags_have(&d, "missing \"greetings\""));
	assert_true(diags_have(&d, "from 0 to 100000"));
	diag_free(&d);

	assert_int_equal(load_str("- a\n", &s, &d), -1);
	assert_true(diags_have(&d, "style rules must be a map"));
	diag_free(&d);

	assert_int_equal(style_load("/nonexistent/style.yaml", &s, &d), -1);
	assert_true(diags_have(&d, "/nonexistent/style.yaml: cannot read"));
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_greetings),
		cmocka_unit_test(test_tag),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_order_and_append),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_no_source_no_limit),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
