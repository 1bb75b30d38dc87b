/*
 * test_rules.c: lib/rules.c: the shipped rules directory, tag lookup, and
 * bad tags.yaml files (each written into a temporary copy of rules/ so the
 * other three files stay the shipped ones).
 *
 * Must never: derive an expected value with the code under test. The tag
 * list is copied by hand from rules/tags.yaml; every line:column was
 * counted in the text beside it. Runs from the top of the source tree.
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

#include "rules.h"

#define RULES	"rules"

static const char *const shipped[] = {
	"避難所開設要請", "参集指示", "気象警報", "被害報告", "情報共有",
	"訓練", "取消",
};

static void
test_shipped(void **state)
{
	struct rules r;
	struct diags d = {0};
	const struct tag *t;
	size_t ncancel = 0;

	(void)state;
	assert_int_equal(rules_load(RULES, &r, &d), 0);
	assert_int_equal(diag_errors(&d), 0);
	assert_int_equal(r.ntags, nitems(shipped));
	for (size_t i = 0; i < nitems(shipped); i++) {
		char label[64];
		t = &r.tags[i];
		assert_string_equal(t->name, shipped[i]);
		snprintf(label, sizeof(label), "【%s】", shipped[i]);
		assert_string_equal(t->label, label);
		assert_non_null(t->template);
		assert_true(t->nresponses >= 1);
		assert_true(t->ack_deadline > 0);
		assert_true(t->approval);	/* the default */
		if (t->cancel) {
			ncancel++;
			assert_string_equal(t->name, "取消");
		}
	}
	assert_int_equal(ncancel, 1);

	t = rules_tag(&r, "避難所開設要請");
	assert_non_null(t);
	assert_ptr_equal(t, &r.tags[0]);
	assert_string_equal(t->audience, "shelter");
	assert_int_equal(t->priority, PRIO_URGENT);
	assert_string_equal(tag_priority_name(t->priority), "urgent");
	assert_int_equal(t->ack_deadline, 600);
	assert_int_equal(t->nresponses, 3);
	assert_string_equal(t->responses[0], "参集できる");
	assert_string_equal(t->responses[2], "参集できない");
	assert_string_equal(t->template, "shelter_open");
	assert_string_equal(t->first, "shelter");
	assert_false(t->cancel);
	assert_string_equal(t->cap.category, "Safety");
	assert_string_equal(t->cap.urgency, "Immediate");
	assert_string_equal(t->cap.severity, "Severe");
	assert_string_equal(t->cap.certainty, "Likely");
	assert_int_equal(t->readiness.min_ready, 2);
	assert_int_equal(t->readiness.nresponses, 1);
	assert_string_equal(t->readiness.responses[0], "参集できる");

	t = rules_tag(&r, "気象警報");
	assert_int_equal(t->readiness.min_ready, 0);	/* no rule */
	assert_int_equal(t->priority, PRIO_HIGH);
	assert_int_equal(t->ack_deadline, 900);
	assert_string_equal(t->cap.category, "Met");
	assert_null(t->first);
	t = rules_tag(&r, "情報共有");
	assert_int_equal(t->priority, PRIO_NORMAL);
	assert_int_equal(t->ack_deadline, 1800);
	t = rules_tag(&r, "取消");
	assert_true(t->cancel);
	assert_null(t->audience);
	assert_string_equal(t->template, "cancel");

	/* The other three files came along. */
	assert_int_equal(r.hours.policy, HOURS_WARN);
	assert_int_equal(r.hours.open, 8 * 60 + 30);
	assert_int_equal(r.hours.close, 17 * 60 + 15);
	assert_true(r.pii.n >= 4);
	assert_string_equal(r.pii.rules[0].id, "phone");
	assert_int_equal(r.style.nphrases, 16);
	assert_string_equal(r.style.phrases[0], "お疲れ様です");
	assert_int_equal(r.style.max_chars, 1000);

	rules_free(&r);
	assert_int_equal(r.ntags, 0);
	assert_null(r.tags);
	rules_free(&r);		/* twice is harmless */
	diag_free(&d);
}

static void
test_lookup(void **state)
{
	struct rules r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(rules_load(RULES, &r, &d), 0);
	for (size_t i = 0; i < nitems(shipped); i++) {
		char label[64];
		snprintf(label, sizeof(label), "【%s】", shipped[i]);
		assert_ptr_equal(rules_tag(&r, shipped[i]), &r.tags[i]);
		assert_ptr_equal(rules_tag(&r, label), &r.tags[i]);
	}
	assert_null(rules_tag(&r, ""));
	assert_null(rules_tag(&r, "【】"));
	assert_null(rules_tag(&r, "【訓練"));
	assert_null(rules_tag(&r, "訓練】"));
	assert_null(rules_tag(&r, "【【訓練】】"));
	assert_null(rules_tag(&r, " 訓練"));
	assert_null(rules_tag(&r, "訓"));
	assert_null(rules_tag(&r, "訓練訓練"));
	assert_null(rules_tag(&r, "[訓練]"));
	assert_null(rules_tag(&r, "避難所開設"));
	assert_null(rules_tag(&r, "\xff\xfe"));
	assert_string_equal(tag_priority_name(PRIO_LOW), "low");
	assert_string_equal(tag_priority_name(PRIO_NORMAL), "normal");
	assert_string_equal(tag_priority_name(PRIO_HIGH), "high");
	rules_free(&r);

	/* Empty rules know no tag. */
	memset(&r, 0, sizeof(r));
	assert_null(rules_tag(&r, "訓練"));
}

/* A temporary copy of rules/ with tags.yaml replaced by text. */
struct tmp_rules {
	char dir[32];
	char *tags;
};

static void
copy_file(const char *from, const char *to)
{
	size_t len;
	char *text = read_file(from, 1 << 20, &len);
	FILE *f;

	assert_non_null(text);
	assert_non_null(f = fopen(to, "w"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(text);
}

static void
tmp_rules_make(struct tmp_rules *t, const char *tags)
{
	static const char *const others[] = {
		"hours.yaml", "pii.yaml", "style.yaml",
	};

	snprintf(t->dir, sizeof(t->dir), "/tmp/test_rules-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	for (size_t i = 0; i < nitems(others); i++) {
		char *from = xasprintf(RULES "/%s", others[i]);
		char *to = xasprintf("%s/%s", t->dir, others[i]);
		copy_file(from, to);
		free(from);
		free(to);
	}
	t->tags = xasprintf("%s/tags.yaml", t->dir);
	if (tags != NULL) {
		FILE *f = fopen(t->tags, "w");
		assert_non_null(f);
		fputs(tags, f);
		assert_int_equal(fclose(f), 0);
	}
}

static void
tmp_rules_remove(struct tmp_rules *t)
{
	static const char *const all[] = {
		"hours.yaml", "pii.yaml", "style.yaml", "tags.yaml",
	};

	for (size_t i = 0; i < nitems(all); i++) {
		char *p = xasprintf("%s/%s", t->dir, all[i]);
		unlink(p);
		free(p);
	}
	assert_int_equal(rmdir(t->dir), 0);
	free(t->tags);
}

/*
 * Loads tags text with the shipped other files. Expects failure, empty
 * rules, exactly nerrors errors, and each of want ("LINE:COL: message",
 * prefixed here with the file's path).
 */
static void
expect_bad_tags(const char *tags, size_t nerrors, const char *const want[],
    size_t nwant)
{
	struct tmp_rules t;
	struct rules r;
	struct diags d = {0};

	tmp_rules_make(&t, tags);
	assert_int_equal(rules_load(t.dir, &r, &d), -1);
	assert_int_equal(r.ntags, 0);
	assert_null(r.tags);
	assert_null(r.pii.rules);
	assert_null(r.style.phrases);
	for (size_t i = 0; i < nwant; i++) {
		char *full = xasprintf("%s:%s", t.tags, want[i]);
		bool found = false;
		for (size_t j = 0; j < d.n; j++)
			if (strcmp(d.msgs[j], full) == 0)
				found = true;
		if (!found) {
			for (size_t j = 0; j < d.n; j++)
				print_message("have: %s\n", d.msgs[j]);
			fail_msg("missing: %s", full);
		}
		free(full);
	}
	if (diag_errors(&d) != nerrors) {
		for (size_t j = 0; j < d.n; j++)
			print_message("have: %s\n", d.msgs[j]);
		fail_msg("%zu errors, want %zu", diag_errors(&d), nerrors);
	}
	diag_free(&d);
	tmp_rules_remove(&t);
}

#define CANCEL "  取消:\n    template: cancel\n    cancel: true\n"

static void
test_bad_unknown_key(void **state)
{
	static const char *const want[] = {
		"4:5: unknown key \"colour\" in a tag",
	};

	(void)state;
	expect_bad_tags("tags:\n"
	    "  訓練:\n"
	    "    template: drill\n"
	    "    colour: red\n" CANCEL, 1, want, nitems(want));
	static const char *const want2[] = {
		"1:1: unknown key \"tag\" in tags.yaml",
	};
	expect_bad_tags("tag: {}\ntags:\n  訓練: {template: drill}\n" CANCEL,
	    1, want2, nitems(want2));
}

static void
test_bad_priority(void **state)
{
	static const char *const want[] = {
		"4:15: \"priority\" must be low, normal, high or urgent, not "
		    "\"highest\"",
	};

	(void)state;
	expect_bad_tags("tags:\n"
	    "  訓練:\n"
	    "    template: drill\n"
	    "    priority: highest\n" CANCEL, 1, want, nitems(want));
}

static void
test_bad_cap(void **state)
{
	static const char *const want[] = {
		"4:21: \"category\" must be one of Geo, Met, Safety, Security, "
		    "Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other, "
		    "not \"Weather\"",
		"4:39: \"urgency\" must be one of Immediate, Expected, Future, "
		    "Past, Unknown, not \"Now\"",
		"7:21: \"severity\" must be one of Extreme, Severe, Moderate, "
		    "Minor, Unknown, not \"severe\"",
		"8:37: \"certainty\" must be one of Observed, Likely, Possible, "
		    "Unlikely, Unknown, not \"Sure\"",
		"9:26: unknown key \"scope\" in cap",
	};

	(void)state;
	expect_bad_tags("tags:\n"
	    "  訓練:\n"
	    "    template: drill\n"
	    "    cap: {category: Weather, urgency: Now}\n"
	    "  a:\n    template: a\n    cap: {severity: severe}\n"
	    "  b: {template: b, cap: {certainty: Sure}}\n"
	    "  c: {template: c, cap: {scope: Public}}\n" CANCEL, 5, want,
	    nitems(want));
	/* One tag's two bad values. */
	expect_bad_tags("tags:\n"
	    "  訓練:\n"
	    "    template: drill\n"
	    "    cap: {category: Weather, urgency: Now}\n" CANCEL, 2, want, 2);
	expect_bad_tags("tags:\n  a: {template: a}\n  b: {template: b}\n"
	    "  c: {template: c}\n"
	    "  訓練: {template: drill, cap: {severity: severe}}\n" CANCEL, 1,
	    (const char *const []){ "5:41: \"severity\" must be one of Extreme, "
	    "Severe, Moderate, Minor, Unknown, not \"severe\"" }, 1);
}

static void
test_bad_cancel(void **state)
{
	static const char *const two[] = {
		"2:3: exactly one tag must have \"cancel: true\" (the 取消 "
		    "notice), found 2",
	};
	static const char *const none[] = {
		"2:3: exactly one tag must have \"cancel: true\" (the 取消 "
		    "notice), found 0",
	};

	(void)state;
	expect_bad_tags("tags:\n"
	    "  訓練: {template: drill, cancel: true}\n" CANCEL, 1, two,
	    nitems(two));
	expect_bad_tags("tags:\n"
	    "  訓練: {template: drill}\n"
	    "  取消: {template: cancel, cancel: false}\n", 1, none,
	    nitems(none));
}

static void
test_bad_duplicate(void **state)
{
	static const char *const want[] = {
		"4:3: tag \"訓練\" is defined twice",
	};
	static const char *const yaml_dup[] = {
		"3:3: duplicate key \"訓練\" (first at line 2)",
	};

	(void)state;
	/* Written with and without 【】: the same tag. */
	expect_bad_tags("tags:\n"
	    "  訓練:\n    template: drill\n"
	    "  【訓練】:\n    template: drill\n" CANCEL, 1, want, nitems(want));
	/* The same key twice is already a YAML error. */
	expect_bad_tags("tags:\n"
	    "  訓練: {template: drill}\n"
	    "  訓練: {template: drill}\n" CANCEL, 1, yaml_dup,
	    nitems(yaml_dup));
}

static void
test_bad_other(void **state)
{
	(void)state;
	expect_bad_tags("tags:\n  訓練: {}\n" CANCEL, 1,
	    (const char *const []){ "2:7: missing \"template\"" }, 1);
	expect_bad_tags("tags:\n  訓練: {template: approval}\n" CANCEL, 1,
	    (const char *const []){ "2:18: template name \"approval\" must be "
	    "[a-z0-9_-] and not \"approval\"" }, 1);
	expect_bad_tags("tags:\n  訓練: {template: ../etc}\n" CANCEL, 1,
	    (const char *const []){ "2:18: template name \"../etc\" must be "
	    "[a-z0-9_-] and not \"approval\"" }, 1);
	expect_bad_tags("tags:\n  訓 練: {template: drill}\n" CANCEL, 1,
	    (const char *const []){ "2:3: tag name \"訓 練\" must be 1-64 "
	    "characters without spaces or 【】 inside" }, 1);
	expect_bad_tags("tags:\n  【】: {template: drill}\n" CANCEL, 1,
	    (const char *const []){ "2:3: tag name \"【】\" must be 1-64 "
	    "characters without spaces or 【】 inside" }, 1);
	expect_bad_tags("tags:\n  訓練: drill\n" CANCEL, 1,
	    (const char *const []){ "2:7: a tag must be a map, not a value" },
	    1);
	expect_bad_tags("tags:\n  訓練: {template: drill, approval: maybe}\n"
	    CANCEL, 1, (const char *const []){ "2:35: \"approval\" must be "
	    "true or false, not \"maybe\"" }, 1);
	expect_bad_tags("tags:\n  訓練: {template: drill, ack_deadline: 1h30}\n"
	    CANCEL, 1, (const char *const []){ "2:39: \"ack_deadline\" must be "
	    "a duration such as 90s, 10m or 1h, not \"1h30\"" }, 1);
	expect_bad_tags("tags:\n  訓練: {template: drill, responses: [\"\"]}\n"
	    CANCEL, 1, (const char *const []){ "2:36: a response must be "
	    "1-120 bytes" }, 1);
	expect_bad_tags("tags: [訓練]\n", 1, (const char *const []){ "1:7: "
	    "\"tags\" must be a map of tag names to their settings" }, 1);
	expect_bad_tags("tags: {}\n", 1, (const char *const []){ "1:7: "
	    "\"tags\" must be a map of tag names to their settings" }, 1);
	expect_bad_tags("", 1, (const char *const []){ "1:1: \"tags\" must be "
	    "a map of tag names to their settings" }, 1);
	expect_bad_tags("- tags\n", 1, (const char *const []){ "1:1: tags.yaml "
	    "must be a map, not a list" }, 1);
	expect_bad_tags("tags: {訓練: [\n", 1, NULL, 0);

	/* No tags.yaml at all. */
	struct tmp_rules t;
	struct rules r;
	struct diags d = {0};
	tmp_rules_make(&t, NULL);
	assert_int_equal(rules_load(t.dir, &r, &d), -1);
	assert_int_equal(diag_errors(&d), 1);
	assert_true(startswith(d.msgs[0], t.tags));
	assert_non_null(strstr(d.msgs[0], "cannot read"));
	diag_free(&d);
	tmp_rules_remove(&t);
	/* No rules directory at all: every file is reported. */
	assert_int_equal(rules_load("/nonexistent-rules", &r, &d), -1);
	assert_int_equal(diag_errors(&d), 4);
	diag_free(&d);
}

/* Every error in one run, not just the first. */
static void
test_bad_all_at_once(void **state)
{
	static const char *const want[] = {
		"3:30: \"priority\" must be low, normal, high or urgent, not "
		    "\"now\"",
		"4:6: missing \"template\"",
		"5:3: tag \"a\" is defined twice",
		"2:3: exactly one tag must have \"cancel: true\" (the 取消 "
		    "notice), found 0",
	};

	(void)state;
	expect_bad_tags("tags:\n"
	    "  a: {template: a}\n"
	    "  b: {template: b, priority: now}\n"
	    "  c: {}\n"
	    "  【a】: {template: a}\n", 4, want, nitems(want));
}

static void
test_bad_readiness(void **state)
{
	static const char *const want[] = {
		"5:28: \"min_ready\" must be a whole number from 1 to 100, "
		    "not \"0\"",
		"5:42: readiness response \"行けます\" is not one of the tag's "
		    "responses",
		"9:17: unknown key \"minimum\" in readiness",
		"12:16: missing \"responses\"",
	};

	(void)state;
	expect_bad_tags("tags:\n"
	    "  避難所開設要請:\n"
	    "    template: shelter_open\n"
	    "    responses: [参集できる, 参集できない]\n"
	    "    readiness: {min_ready: 0, responses: [参集できる, 行けます]}\n"
	    "  a:\n"
	    "    template: a\n"
	    "    responses: [はい]\n"
	    "    readiness: {minimum: 2, responses: [はい]}\n"
	    "  b:\n"
	    "    template: b\n"
	    "    readiness: {min_ready: 3}\n" CANCEL, 4, want, nitems(want));
}

/* readiness without min_ready: 2 of a shelter's staff. */
static void
test_readiness_default(void **state)
{
	struct tmp_rules t;
	struct rules r;
	struct diags d = {0};
	const struct tag *tag;

	(void)state;
	tmp_rules_make(&t, "tags:\n"
	    "  開設: {template: open, responses: [行ける, 行けない],"
	    " readiness: {responses: [行ける]}}\n"
	    "  取消: {template: cancel, cancel: yes}\n");
	assert_int_equal(rules_load(t.dir, &r, &d), 0);
	assert_non_null(tag = rules_tag(&r, "開設"));
	assert_int_equal(tag->readiness.min_ready, 2);
	assert_int_equal(tag->readiness.nresponses, 1);
	assert_string_equal(tag->readiness.responses[0], "行ける");
	assert_non_null(tag = rules_tag(&r, "取消"));
	assert_int_equal(tag->readiness.min_ready, 0);
	rules_free(&r);
	diag_free(&d);
	tmp_rules_remove(&t);
}

/* A good custom tags.yaml: defaults for everything optional. */
static void
test_custom_defaults(void **state)
{
	struct tmp_rules t;
	struct rules r;
	struct diags d = {0};
	const struct tag *tag;

	(void)state;
	tmp_rules_make(&t, "tags:\n"
	    "  【お知らせ】: {template: notice, approval: no, responses: 了解}\n"
	    "  取消: {template: cancel, cancel: yes, priority: low}\n");
	assert_int_equal(rules_load(t.dir, &r, &d), 0);
	assert_int_equal(r.ntags, 2);
	assert_non_null(tag = rules_tag(&r, "お知らせ"));
	assert_string_equal(tag->name, "お知らせ");
	assert_string_equal(tag->label, "【お知らせ】");
	assert_false(tag->approval);
	assert_int_equal(tag->priority, PRIO_NORMAL);
	assert_int_equal(tag->ack_deadline, 0);
	assert_int_equal(tag->nresponses, 1);
	assert_string_equal(tag->responses[0], "了解");
	assert_null(tag->audience);
	assert_null(tag->first);
	assert_false(tag->cancel);
	assert_string_equal(tag->cap.category, "Safety");
	assert_string_equal(tag->cap.urgency, "Unknown");
	assert_string_equal(tag->cap.severity, "Unknown");
	assert_string_equal(tag->cap.certainty, "Unknown");
	assert_non_null(tag = rules_tag(&r, "【取消】"));
	assert_true(tag->cancel);
	assert_int_equal(tag->priority, PRIO_LOW);
	rules_free(&r);
	diag_free(&d);
	tmp_rules_remove(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_bad_unknown_key),
		cmocka_unit_test(test_bad_priority),
		cmocka_unit_test(test_bad_cap),
		cmocka_unit_test(test_bad_cancel),
		cmocka_unit_test(test_bad_duplicate),
		cmocka_unit_test(test_bad_other),
		cmocka_unit_test(test_bad_all_at_once),
		cmocka_unit_test(test_custom_defaults),
		cmocka_unit_test(test_bad_readiness),
		cmocka_unit_test(test_readiness_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
