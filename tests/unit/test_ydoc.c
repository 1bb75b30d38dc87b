/*
 * test_ydoc.c: lib/ydoc.c: the positioned YAML tree, what it refuses, and
 * the typed getters.
 *
 * Must never: derive an expected value with the code under test. Every
 * line:column below was counted by hand in the text beside it (columns
 * count characters, as libyaml does). The garbage test uses a fixed seed,
 * so a failure can be replayed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ydoc.h"
#include "testutil.h"

/* Loads text from memory as "t.yaml". */
static struct ynode *
load(const char *text, struct diags *d)
{
	return yaml_load_string("t.yaml", text, strlen(text), d);
}


/* Expects text to be refused with exactly the diagnostic want. */
static void
expect_refused(const char *text, size_t len, const char *want)
{
	struct diags d = {0};
	struct ynode *root = yaml_load_string("t.yaml", text, len, &d);

	assert_null(root);
	assert_true(diag_errors(&d) >= 1);
	expect_diag(&d, want);
	diag_free(&d);
}

/* true when any diagnostic starts with prefix. */
static bool
has_prefix(const struct diags *d, const char *prefix)
{
	for (size_t i = 0; i < d->n; i++)
		if (startswith(d->msgs[i], prefix))
			return true;
	return false;
}

static void
expect_pos(const struct ynode *n, int line, int col)
{
	assert_non_null(n);
	if (n->line != line || n->col != col)
		fail_msg("node at %d:%d, want %d:%d", n->line, n->col, line,
		    col);
}

static const char positions[] =
    "# comment\n"			/* 1 */
    "organization: 安平町\n"		/* 2 */
    "listen:\n"				/* 3 */
    "  - address: 127.0.0.1:8080\n"	/* 4 */
    "    tls: no\n"			/* 5 */
    "list: [a, \"b\", 'c']\n"		/* 6 */
    "nested:\n"				/* 7 */
    "  inner: {名前: 値, k: 1}\n"	/* 8 */
    "empty:\n"				/* 9 */
    "quoted_empty: \"\"\n";		/* 10 */

static void
test_positions(void **state)
{
	struct diags d = {0};
	struct ynode *root, *n, *m;

	(void)state;
	assert_non_null(root = load(positions, &d));
	assert_int_equal(d.n, 0);
	assert_int_equal(root->type, Y_MAP);
	assert_int_equal(root->n, 6);
	expect_pos(root, 2, 1);
	assert_string_equal(root->file, "t.yaml");

	expect_pos(ymap_key(root, "organization"), 2, 1);
	n = ymap_get(root, "organization");
	expect_pos(n, 2, 15);
	assert_int_equal(n->type, Y_SCALAR);
	assert_string_equal(n->str, "安平町");
	assert_false(n->quoted);

	n = ymap_get(root, "listen");
	assert_int_equal(n->type, Y_SEQ);
	assert_int_equal(n->n, 1);
	expect_pos(n, 4, 3);
	m = n->items[0];
	assert_int_equal(m->type, Y_MAP);
	expect_pos(m, 4, 5);
	expect_pos(ymap_key(m, "address"), 4, 5);
	expect_pos(ymap_get(m, "address"), 4, 14);
	assert_string_equal(ymap_get(m, "address")->str, "127.0.0.1:8080");
	expect_pos(ymap_key(m, "tls"), 5, 5);
	expect_pos(ymap_get(m, "tls"), 5, 10);
	assert_string_equal(m->items[1]->file, "t.yaml");

	n = ymap_get(root, "list");
	assert_int_equal(n->type, Y_SEQ);
	expect_pos(n, 6, 7);
	assert_int_equal(n->n, 3);
	expect_pos(n->items[0], 6, 8);
	expect_pos(n->items[1], 6, 11);
	expect_pos(n->items[2], 6, 16);
	assert_false(n->items[0]->quoted);
	assert_true(n->items[1]->quoted);
	assert_true(n->items[2]->quoted);
	assert_string_equal(n->items[2]->str, "c");

	n = ymap_get(ymap_get(root, "nested"), "inner");
	expect_pos(ymap_get(root, "nested"), 8, 3);
	expect_pos(n, 8, 10);
	expect_pos(ymap_key(n, "名前"), 8, 11);
	expect_pos(ymap_get(n, "名前"), 8, 15);
	expect_pos(ymap_key(n, "k"), 8, 18);
	expect_pos(ymap_get(n, "k"), 8, 21);

	/* An empty value is an empty plain scalar; "" is quoted. */
	n = ymap_get(root, "empty");
	assert_int_equal(n->type, Y_SCALAR);
	assert_string_equal(n->str, "");
	assert_false(n->quoted);
	n = ymap_get(root, "quoted_empty");
	assert_string_equal(n->str, "");
	assert_true(n->quoted);

	/* Lookups on the wrong type or a missing key. */
	assert_null(ymap_get(root, "nope"));
	assert_null(ymap_key(root, "nope"));
	assert_null(ymap_get(ymap_get(root, "list"), "a"));
	assert_null(ymap_get(NULL, "a"));
	assert_null(ymap_key(ymap_get(root, "organization"), "a"));

	/* ydiag and ywarn cite the node. */
	ydiag(&d, ymap_get(root, "organization"), "bad %d", 1);
	ywarn(&d, ymap_key(root, "list"), "odd");
	ydiag(&d, NULL, "nowhere");
	assert_string_equal(d.msgs[0], "t.yaml:2:15: bad 1");
	assert_string_equal(d.msgs[1], "t.yaml:6:1: warning: odd");
	assert_string_equal(d.msgs[2], "nowhere");
	assert_int_equal(d.warnings, 1);
	diag_free(&d);
	ynode_free(root);
	ynode_free(NULL);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/test_ydoc-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	struct diags d = {0};
	struct ynode *root;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, positions, strlen(positions)),
	    (ssize_t)strlen(positions));
	close(fd);
	assert_non_null(root = yaml_load(path, &d));
	assert_int_equal(d.n, 0);
	assert_string_equal(root->file, path);
	assert_string_equal(ymap_get(root, "organization")->file, path);
	ynode_free(root);

	/* Over the size limit. */
	assert_int_equal(truncate(path, YAML_MAX_BYTES + 1), 0);
	assert_null(yaml_load(path, &d));
	assert_int_equal(d.n, 1);
	assert_true(startswith(d.msgs[0], path));
	assert_non_null(strstr(d.msgs[0], "cannot read: file is too large"));
	diag_free(&d);
	assert_int_equal(unlink(path), 0);

	/* Missing. */
	assert_null(yaml_load(path, &d));
	assert_int_equal(d.n, 1);
	assert_true(startswith(d.msgs[0], path));
	assert_non_null(strstr(d.msgs[0], ": cannot read: No such file"));
	diag_free(&d);

	/* From memory, over the limit. */
	char *big = xcalloc(YAML_MAX_BYTES + 1, 1);
	memset(big, ' ', YAML_MAX_BYTES + 1);
	assert_null(yaml_load_string("big.yaml", big, YAML_MAX_BYTES + 1, &d));
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.msgs[0], "larger than"));
	diag_free(&d);
	free(big);
}

static void
test_empty(void **state)
{
	static const char *const empties[] = {
		"", "\n\n", "# only a comment\n", "   \n# x\n  ",
	};
	struct diags d = {0};
	struct ynode *root;

	(void)state;
	for (size_t i = 0; i < nitems(empties); i++) {
		assert_non_null(root = load(empties[i], &d));
		assert_int_equal(d.n, 0);
		assert_int_equal(root->type, Y_MAP);
		assert_int_equal(root->n, 0);
		expect_pos(root, 1, 1);
		ynode_free(root);
	}
	/* Scalars and lists are fine at the top; loaders check the type. */
	assert_non_null(root = load("- a\n- b\n", &d));
	assert_int_equal(root->type, Y_SEQ);
	assert_int_equal(root->n, 2);
	ynode_free(root);
	assert_non_null(root = load("--- just text\n...\n", &d));
	assert_int_equal(root->type, Y_SCALAR);
	assert_string_equal(root->str, "just text");
	ynode_free(root);
	assert_int_equal(d.n, 0);
}

static void
test_duplicate_keys(void **state)
{
	struct diags d = {0};

	(void)state;
	expect_refused("a: 1\nb: 2\na: 3\n", 15,
	    "t.yaml:3:1: duplicate key \"a\" (first at line 1)");
	/* Nested, in flow style, and both duplicates reported. */
	assert_null(load("top:\n  x: 1\n  y: {k: 1, k: 2}\n  x: 3\n", &d));
	assert_int_equal(diag_errors(&d), 2);
	expect_diag(&d, "t.yaml:3:13: duplicate key \"k\" (first at line 3)");
	expect_diag(&d, "t.yaml:4:3: duplicate key \"x\" (first at line 2)");
	diag_free(&d);
	/* A quoted key is the same key. */
	expect_refused("a: 1\n\"a\": 2\n", 12,
	    "t.yaml:2:1: duplicate key \"a\" (first at line 1)");
	/* The same key in different maps is fine. */
	struct ynode *root = load("a: {k: 1}\nb: {k: 2}\n", &d);
	assert_non_null(root);
	assert_int_equal(d.n, 0);
	ynode_free(root);
}

static void
test_refused(void **state)
{
	(void)state;
	expect_refused("a: &x 1\nb: *x\n", 14,
	    "t.yaml:1:4: anchors and aliases (&, *) are not allowed");
	expect_refused("a: 1\nb: *x\n", 11,
	    "t.yaml:2:4: anchors and aliases (&, *) are not allowed");
	expect_refused("base: &b {x: 1}\n", 16,
	    "t.yaml:1:7: anchors and aliases (&, *) are not allowed");
	expect_refused("- &s [1]\n", 9,
	    "t.yaml:1:3: anchors and aliases (&, *) are not allowed");
	expect_refused("a: 1\n---\nb: 2\n", 14,
	    "t.yaml:2:1: only one YAML document is allowed per file");
	expect_refused("--- a\n--- b\n", 12,
	    "t.yaml:2:1: only one YAML document is allowed per file");
	expect_refused("? [a]\n: 1\n", 10,
	    "t.yaml:1:3: a map key must be a plain value");
	expect_refused("{a: 1}: 2\n", 10,
	    "t.yaml:1:1: a map key must be a plain value");
	expect_refused("key: \"a\\u0000b\"\n", 16,
	    "t.yaml:1:6: NUL byte in a value");
	expect_refused("a: \xff\n", 5, "t.yaml: file is not valid UTF-8");
	expect_refused("a: \xc0\xae\n", 6, "t.yaml: file is not valid UTF-8");
	expect_refused("a: \xed\xa0\x80\n", 7, "t.yaml: file is not valid UTF-8");
	expect_refused("a: \xe9\x81\n", 6, "t.yaml: file is not valid UTF-8");
	/* A raw NUL byte in the text. */
	expect_refused("a: b\0c\n", 7, "t.yaml:1:5: YAML syntax error: "
	    "control characters are not allowed");
	/* A control character: its line, and its column in characters. */
	expect_refused("a: 1\nb: 避\x01\n", 14, "t.yaml:2:5: YAML syntax "
	    "error: control characters are not allowed");
}

static void
test_syntax_errors(void **state)
{
	static const struct { const char *text, *prefix; } v[] = {
		{ "a: [1, 2\n", "t.yaml:2:1: YAML syntax error: " },
		{ "a: b: c\n", "t.yaml:1:5: YAML syntax error: mapping values "
		    "are not allowed" },
		{ "a:\n  - x\n - y\n", "t.yaml:3:2: YAML syntax error: " },
		{ "\"open\n", "t.yaml:2:1: YAML syntax error: " },
		{ "a: 'x'\n\tb: 2\n", "t.yaml:2:1: YAML syntax error: " },
		{ "a: 1\n  b: 2\n", "t.yaml:2:4: YAML syntax error: " },
		{ "}\n", "t.yaml:1:1: YAML syntax error: " },
		{ "- a\nb: c\n", "t.yaml:2:1: YAML syntax error: " },
	};

	(void)state;
	for (size_t i = 0; i < nitems(v); i++) {
		struct diags d = {0};
		assert_null(load(v[i].text, &d));
		if (!has_prefix(&d, v[i].prefix)) {
			for (size_t j = 0; j < d.n; j++)
				print_message("have: %s\n", d.msgs[j]);
			fail_msg("case %zu: want %s", i, v[i].prefix);
		}
		diag_free(&d);
	}
}

static void
test_nesting(void **state)
{
	struct diags d = {0};
	struct buf b = {0};
	struct ynode *root, *n;

	(void)state;
	/* 64 levels of lists (the value inside at depth 64) are fine. */
	for (int i = 0; i < 64; i++)
		buf_addc(&b, '[');
	buf_addc(&b, 'x');
	for (int i = 0; i < 64; i++)
		buf_addc(&b, ']');
	assert_non_null(root = load(b.data, &d));
	assert_int_equal(d.n, 0);
	n = root;
	for (int i = 0; i < 64; i++) {
		assert_int_equal(n->type, Y_SEQ);
		assert_int_equal(n->n, 1);
		n = n->items[0];
	}
	assert_string_equal(n->str, "x");
	ynode_free(root);
	buf_free(&b);

	/* One more is refused, at the value that went too deep. */
	buf_free(&b);
	for (int i = 0; i < 65; i++)
		buf_addc(&b, '[');
	buf_addc(&b, 'x');
	for (int i = 0; i < 65; i++)
		buf_addc(&b, ']');
	assert_null(load(b.data, &d));
	expect_diag(&d, "t.yaml:1:66: nesting deeper than 64 levels");
	diag_free(&d);
	buf_free(&b);

	/* 100 levels are refused at the place it went too deep. */
	for (int i = 0; i < 100; i++)
		buf_addc(&b, '[');
	for (int i = 0; i < 100; i++)
		buf_addc(&b, ']');
	assert_null(load(b.data, &d));
	assert_int_equal(diag_errors(&d), 1);
	expect_diag(&d, "t.yaml:1:66: nesting deeper than 64 levels");
	diag_free(&d);
	buf_free(&b);

	/* Deep block maps too. */
	for (int i = 0; i < 100; i++) {
		for (int j = 0; j < i; j++)
			buf_addc(&b, ' ');
		buf_printf(&b, "k%d:\n", i);
	}
	assert_null(load(b.data, &d));
	assert_true(has_prefix(&d, "t.yaml:"));
	assert_non_null(strstr(d.msgs[0], "nesting deeper than 64 levels"));
	diag_free(&d);
	buf_free(&b);

	/* Very deep flow nesting does not exhaust the stack. */
	for (int i = 0; i < 100000; i++)
		buf_addc(&b, '[');
	assert_null(load(b.data, &d));
	assert_true(diag_errors(&d) >= 1);
	diag_free(&d);
	buf_free(&b);
}

static const char *const allowed[] = { "name", "count", "on", NULL };

static void
test_ymap_check(void **state)
{
	struct diags d = {0};
	struct ynode *root;

	(void)state;
	root = load("name: x\ncolour: red\ncount: 3\nsize: 9\n", &d);
	assert_non_null(root);
	assert_false(ymap_check(root, "a widget", allowed, &d));
	assert_int_equal(d.n, 2);
	assert_string_equal(d.msgs[0],
	    "t.yaml:2:1: unknown key \"colour\" in a widget");
	assert_string_equal(d.msgs[1],
	    "t.yaml:4:1: unknown key \"size\" in a widget");
	diag_free(&d);
	ynode_free(root);

	root = load("name: x\non: yes\n", &d);
	assert_true(ymap_check(root, "a widget", allowed, &d));
	assert_int_equal(d.n, 0);
	ynode_free(root);

	root = load("- name\n", &d);
	assert_false(ymap_check(root, "a widget", allowed, &d));
	assert_string_equal(d.msgs[0],
	    "t.yaml:1:1: a widget must be a map, not a list");
	diag_free(&d);
	assert_false(ymap_check(NULL, "a widget", allowed, &d));
	assert_string_equal(d.msgs[0], "a widget must be a map, not nothing");
	diag_free(&d);
	ynode_free(root);
	root = load("x: plain\n", &d);
	assert_false(ymap_check(ymap_get(root, "x"), "x", allowed, &d));
	assert_string_equal(d.msgs[0], "t.yaml:1:4: x must be a map, not a "
	    "value");
	diag_free(&d);
	ynode_free(root);
}

static const char getters[] =
    "s: hello\n"			/* 1 */
    "e:\n"				/* 2 */
    "qe: \"\"\n"			/* 3 */
    "m: {a: 1}\n"			/* 4 */
    "t: true\n"				/* 5 */
    "y: yes\n"				/* 6 */
    "f: false\n"			/* 7 */
    "n: no\n"				/* 8 */
    "b: maybe\n"			/* 9 */
    "i: 42\n"				/* 10 */
    "neg: -7\n"				/* 11 */
    "big: 99999999999999999999\n"	/* 12 */
    "x: 4x\n"				/* 13 */
    "d: 1h30m\n"			/* 14 */
    "d0: 0s\n"				/* 15 */
    "dbad: 5x\n"			/* 16 */
    "l: [a, b, c]\n"			/* 17 */
    "one: solo\n"			/* 18 */
    "ln: [a, [b]]\n"			/* 19 */
    "le: []\n";				/* 20 */

static void
test_getters(void **state)
{
	struct diags d = {0};
	struct ynode *root;
	const char *s = "untouched";
	bool b;
	long v;
	char **list;
	size_t n;

	(void)state;
	assert_non_null(root = load(getters, &d));

	assert_true(yget_str(root, "s", true, &d, &s));
	assert_string_equal(s, "hello");
	assert_true(yget_str(root, "qe", true, &d, &s));
	assert_string_equal(s, "");
	assert_int_equal(d.n, 0);
	assert_false(yget_str(root, "absent", false, &d, &s));
	assert_int_equal(d.n, 0);
	assert_false(yget_str(root, "absent", true, &d, &s));
	assert_string_equal(d.msgs[0], "t.yaml:1:1: missing \"absent\"");
	diag_free(&d);
	assert_false(yget_str(root, "e", false, &d, &s));
	assert_string_equal(d.msgs[0], "t.yaml:2:3: \"e\" is empty");
	diag_free(&d);
	assert_false(yget_str(root, "m", false, &d, &s));
	assert_string_equal(d.msgs[0], "t.yaml:4:4: \"m\" must be a value, "
	    "not a map");
	diag_free(&d);
	assert_false(yget_str(root, "l", true, &d, &s));
	assert_string_equal(d.msgs[0], "t.yaml:17:4: \"l\" must be a value, "
	    "not a list");
	diag_free(&d);

	b = false;
	assert_true(yget_bool(root, "t", true, &d, &b));
	assert_true(b);
	assert_true(yget_bool(root, "n", true, &d, &b));
	assert_false(b);
	assert_true(yget_bool(root, "y", true, &d, &b));
	assert_true(b);
	assert_true(yget_bool(root, "f", true, &d, &b));
	assert_false(b);
	assert_int_equal(d.n, 0);
	assert_false(yget_bool(root, "b", true, &d, &b));
	assert_string_equal(d.msgs[0], "t.yaml:9:4: \"b\" must be true or "
	    "false, not \"maybe\"");
	diag_free(&d);
	assert_false(yget_bool(root, "i", true, &d, &b));
	assert_int_equal(d.n, 1);
	diag_free(&d);

	assert_true(yget_long(root, "i", 0, 100, true, &d, &v));
	assert_int_equal(v, 42);
	assert_true(yget_long(root, "neg", -10, 0, true, &d, &v));
	assert_int_equal(v, -7);
	assert_int_equal(d.n, 0);
	v = 5;
	assert_false(yget_long(root, "i", 0, 10, true, &d, &v));
	assert_string_equal(d.msgs[0], "t.yaml:10:4: \"i\" must be a whole "
	    "number from 0 to 10, not \"42\"");
	assert_int_equal(v, 5);
	diag_free(&d);
	assert_false(yget_long(root, "big", 0, 100, true, &d, &v));
	assert_false(yget_long(root, "x", 0, 100, true, &d, &v));
	assert_false(yget_long(root, "s", 0, 100, true, &d, &v));
	assert_false(yget_long(root, "m", 0, 100, true, &d, &v));
	assert_int_equal(d.n, 4);
	diag_free(&d);

	assert_true(yget_duration(root, "d", true, &d, &v));
	assert_int_equal(v, 5400);
	assert_true(yget_duration(root, "i", true, &d, &v));
	assert_int_equal(v, 42);
	assert_int_equal(d.n, 0);
	assert_false(yget_duration(root, "d0", true, &d, &v));	/* zero */
	assert_string_equal(d.msgs[0], "t.yaml:15:5: \"d0\" must be a duration "
	    "such as 90s, 10m or 1h, not \"0s\"");
	diag_free(&d);
	assert_false(yget_duration(root, "dbad", true, &d, &v));
	assert_string_equal(d.msgs[0], "t.yaml:16:7: \"dbad\" must be a "
	    "duration such as 90s, 10m or 1h, not \"5x\"");
	diag_free(&d);
	assert_false(yget_duration(root, "neg", true, &d, &v));
	assert_false(yget_duration(root, "absent", false, &d, &v));
	assert_int_equal(d.n, 1);
	diag_free(&d);

	assert_true(yget_strlist(root, "l", true, &d, &list, &n));
	assert_int_equal(n, 3);
	assert_string_equal(list[0], "a");
	assert_string_equal(list[2], "c");
	assert_null(list[3]);
	strlist_free(list, n);
	assert_true(yget_strlist(root, "one", true, &d, &list, &n));
	assert_int_equal(n, 1);
	assert_string_equal(list[0], "solo");
	strlist_free(list, n);
	assert_true(yget_strlist(root, "le", true, &d, &list, &n));
	assert_int_equal(n, 0);
	strlist_free(list, n);
	assert_int_equal(d.n, 0);
	assert_false(yget_strlist(root, "ln", true, &d, &list, &n));
	assert_string_equal(d.msgs[0], "t.yaml:19:9: items of \"ln\" must be "
	    "values");
	diag_free(&d);
	assert_false(yget_strlist(root, "m", true, &d, &list, &n));
	assert_string_equal(d.msgs[0], "t.yaml:4:4: \"m\" must be a list");
	diag_free(&d);
	assert_false(yget_strlist(root, "absent", false, &d, &list, &n));
	assert_int_equal(d.n, 0);
	assert_false(yget_strlist(root, "absent", true, &d, &list, &n));
	assert_string_equal(d.msgs[0], "t.yaml:1:1: missing \"absent\"");
	diag_free(&d);
	strlist_free(NULL, 0);

	/* Getters on something that is not a map. */
	assert_false(yget_str(ymap_get(root, "l"), "a", false, &d, &s));
	assert_false(yget_str(NULL, "a", false, &d, &s));
	assert_int_equal(d.n, 0);
	ynode_free(root);
}

/* xorshift64*: a fixed sequence, the same on every machine. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Loads text and checks the contract: a tree and no errors, or NULL and
 * at least one error; every diagnostic is valid UTF-8 when the input was. */
static void
load_any(const char *text, size_t len)
{
	struct diags d = {0};
	struct ynode *root = yaml_load_string("g.yaml", text, len, &d);

	if (root != NULL)
		assert_int_equal(diag_errors(&d), 0);
	else
		assert_true(diag_errors(&d) >= 1);
	for (size_t i = 0; i < d.n; i++)
		assert_true(startswith(d.msgs[i], "g.yaml"));
	ynode_free(root);
	diag_free(&d);
}

static void
test_garbage(void **state)
{
	static const char alphabet[] = "abc: -[]{},#&*!|>'\"%@`?\n\t \\\x01"
	    "\xe3\x81\x82\xff\xc0.0123";
	uint64_t seed = 0x5eed5eedULL;
	char text[512];

	(void)state;
	/* Random bytes. */
	for (int i = 0; i < 2000; i++) {
		size_t len = rnd(&seed) % sizeof(text);
		for (size_t j = 0; j < len; j++)
			text[j] = (char)rnd(&seed);
		load_any(text, len);
	}
	/* Random YAML-ish characters: more of them reach the parser. */
	for (int i = 0; i < 4000; i++) {
		size_t len = rnd(&seed) % sizeof(text);
		for (size_t j = 0; j < len; j++)
			text[j] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
		load_any(text, len);
	}
	/* Mutations of a valid document. */
	size_t plen = strlen(positions);
	for (int i = 0; i < 3000; i++) {
		memcpy(text, positions, plen);
		for (int k = 0; k < 3; k++)
			text[rnd(&seed) % plen] =
			    alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
		load_any(text, plen - rnd(&seed) % 8);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_ymap_check),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
