/*
 * test_draft.c: lib/draft.c and lib/site.c on the sample site: the repo's
 * etc/rosters, rules/ and templates/, tied together by a configuration
 * written into a temporary directory (absolute paths computed from the
 * current directory: the tests run from the top of the source tree).
 *
 * Must never: depend on today's date (every draft carries a fixed --at),
 * or derive an expected value with the code under test. Times:
 *   1795197600  2026-11-21 (Sat) 03:00 JST   date -u -d ... +%s
 *   1794963600  2026-11-18 (Wed) 10:00 JST
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "draft.h"

#define SAT_0300	1795197600
#define WED_1000	1794963600

#define TAG_SHELTER	"避難所開設要請"

struct fx {
	char dir[32];
	char *config;
	char *tags;		/* a custom tags.yaml's rules dir, or NULL */
	char *templates;	/* a custom templates dir, or NULL: the repo's */
	char **tfiles;		/* its files' names */
	size_t ntfiles;
	struct site site;
};

/* The repo's top directory (tests run from it). */
static char *
top(void)
{
	char *cwd = getcwd(NULL, 0);
	char *p;

	assert_non_null(cwd);
	p = xstrdup(cwd);
	free(cwd);
	return p;
}

/* Writes the site's crisiscast.yaml into f->dir; approvers and rules_dir
 * may be changed for site tests. */
static void
write_config(struct fx *f, const char *approvers, const char *rules_dir)
{
	char *t = top(), *rules, *templates;
	FILE *fp;

	rules = rules_dir ? xstrdup(rules_dir) : xasprintf("%s/rules", t);
	templates = f->templates ? xstrdup(f->templates) :
	    xasprintf("%s/templates", t);
	f->config = xasprintf("%s/crisiscast.yaml", f->dir);
	assert_non_null(fp = fopen(f->config, "w"));
	fprintf(fp, "organization: 安平町\n"
	    "public_url: https://alert.town.example/\n"
	    "state_dir: state\n"
	    "rosters: [%s/etc/rosters/crisis.yaml, %s/etc/rosters/shelters.yaml]\n"
	    "rules_dir: %s\n"
	    "templates_dir: %s\n"
	    "approval:\n"
	    "  approvers: %s\n"
	    "  channels: [lineworks, sms]\n"
	    "delivery:\n"
	    "  channels: [lineworks, sms, email, ntfy]\n"
	    "transports:\n"
	    "  lineworks: {type: file}\n"
	    "  sms: {type: file}\n"
	    "  email: {type: file}\n"
	    "  ntfy: {type: file}\n", t, t, rules, templates, approvers);
	assert_int_equal(fclose(fp), 0);
	free(templates);
	free(rules);
	free(t);
}

static struct fx *
fx_new(void)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_draft-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	return f;
}

static void
fx_free(struct fx *f)
{
	site_free(&f->site);
	unlink(f->config);
	free(f->config);
	if (f->tags != NULL) {
		static const char *const files[] = { "tags.yaml", "hours.yaml",
			"pii.yaml", "style.yaml" };
		for (size_t i = 0; i < nitems(files); i++) {
			char *p = xasprintf("%s/%s", f->tags, files[i]);
			unlink(p);
			free(p);
		}
		rmdir(f->tags);
		free(f->tags);
	}
	for (size_t i = 0; i < f->ntfiles; i++) {
		char *p = xasprintf("%s/%s", f->templates, f->tfiles[i]);
		unlink(p);
		free(p);
		free(f->tfiles[i]);
	}
	free(f->tfiles);
	if (f->templates != NULL)
		rmdir(f->templates);
	free(f->templates);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
}

static int
setup(void **state)
{
	struct fx *f = fx_new();
	struct diags d = {0};

	write_config(f, "[mayor, deputy_mayor]", NULL);
	if (site_load(f->config, &f->site, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			print_message("site: %s\n", d.msgs[i]);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_free(*state);
	return 0;
}

/* A draft by soumu_bucho for 避難所開設要請 to hs01 and hs03, Saturday
 * 03:00; tests change what they need. */
static struct draft_in
good_in(void)
{
	struct draft_in in = {
		.sender = "soumu_bucho",
		.tag = TAG_SHELTER,
		.body = "第一小学校体育館と第三小学校体育館を開設します。"
		    "担当の方は参集してください。",
		.audience = "shelter:hs01,hs03",
		.drill = false,
		.at = SAT_0300,
	};
	return in;
}

/* Fails, printing the lists, unless some string in v contains needle. */
static void
expect_in(char **v, size_t n, const char *needle, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(v[i], needle) != NULL)
			return;
	for (size_t i = 0; i < n; i++)
		print_message("%s: %s\n", what, v[i]);
	fail_msg("no %s contains \"%s\"", what, needle);
}

static void
expect_refusal(const struct site *s, const struct draft_in *in,
    const char *needle)
{
	struct draft_out out;

	draft_check(s, in, &out);
	expect_in(out.refusals, out.nrefusals, needle, "refusal");
	for (size_t i = 0; i < out.nrefusals; i++)
		assert_true(utf8_valid(out.refusals[i],
		    strlen(out.refusals[i])));
	draft_out_free(&out);
}

static void
test_site(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct buf b = {0};

	assert_int_equal(s->roster.nmembers, 94);
	assert_int_equal(s->rules.ntags, 7);
	assert_non_null(s->tmpl);
	assert_string_equal(s->cfg.public_url, "https://alert.town.example");
	site_summary(s, &b);
	assert_string_equal(b.data, "94 accounts: crisis 38, shelter 56; "
	    "channels: lineworks 94, sms 94, email 94, ntfy 94\n");
	buf_free(&b);

	/* Reload gives an independent, equal site. */
	struct site again;
	struct diags d = {0};
	assert_int_equal(site_reload(s, &again, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(again.roster.nmembers, 94);
	assert_ptr_not_equal(again.roster.members, s->roster.members);
	assert_string_equal(again.cfg.path, s->cfg.path);
	site_free(&again);
	assert_null(again.roster.members);
	site_free(&again);	/* twice is harmless */
}

static void
test_site_plan_limit(void **state)
{
	struct fx *f = fx_new();
	struct diags d = {0};
	struct buf b = {0};
	FILE *fp;

	(void)state;
	write_config(f, "[mayor]", NULL);
	assert_non_null(fp = fopen(f->config, "a"));
	fputs("  lw2: {type: lineworks}\nlineworks_max_accounts: 93\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(site_load(f->config, &f->site, &d), 0);
	site_summary(&f->site, &b);
	/* lw2 has no contacts: 0 accounts, no warning for it. */
	assert_string_equal(b.data, "94 accounts: crisis 38, shelter 56; "
	    "channels: lineworks 94, sms 94, email 94, ntfy 94, lw2 0\n");
	buf_free(&b);
	site_free(&f->site);
	/* The file-typed lineworks channel is not a LINE WORKS plan. */
	unlink(f->config);
	free(f->config);
	write_config(f, "[mayor]", NULL);
	assert_non_null(fp = fopen(f->config, "r+"));
	fclose(fp);
	char *text = read_file(f->config, 1 << 16, NULL);
	char *at = strstr(text, "  lineworks: {type: file}");
	assert_non_null(at);
	assert_non_null(fp = fopen(f->config, "w"));
	fwrite(text, 1, (size_t)(at - text), fp);
	fputs("  lineworks: {type: lineworks}\n", fp);
	fputs(at + strlen("  lineworks: {type: file}\n"), fp);
	fputs("lineworks_max_accounts: 93\n", fp);
	assert_int_equal(fclose(fp), 0);
	free(text);
	assert_int_equal(site_load(f->config, &f->site, &d), 0);
	site_summary(&f->site, &b);
	assert_non_null(strstr(b.data, "\nwarning: 94 LINE WORKS accounts on "
	    "channel lineworks exceed the plan limit of 93\n"));
	buf_free(&b);
	diag_free(&d);
	fx_free(f);
}

static void
test_site_bad_approvers(void **state)
{
	struct fx *f = fx_new();
	struct diags d = {0};

	(void)state;
	write_config(f, "[mayor, nobody, soumu_bucho]", NULL);
	assert_int_equal(site_load(f->config, &f->site, &d), -1);
	assert_null(f->site.roster.members);
	assert_null(f->site.cfg.root);
	assert_int_equal(diag_errors(&d), 2);
	/* "  approvers: [mayor, nobody, soumu_bucho]" on line 8. */
	char *want = xasprintf("%s:8:22: approver \"nobody\" is not in the "
	    "rosters", f->config);
	expect_in(d.msgs, d.n, want, "diag");
	free(want);
	want = xasprintf("%s:8:30: approver \"soumu_bucho\" (総務部長) does not "
	    "have the approver role", f->config);
	expect_in(d.msgs, d.n, want, "diag");
	free(want);
	diag_free(&d);
	fx_free(f);
}

/* A rules dir holding the shipped hours, pii and style and this tags.yaml. */
static char *
custom_rules(struct fx *f, const char *tags)
{
	static const char *const others[] = { "hours.yaml", "pii.yaml",
		"style.yaml" };
	char *dir = xasprintf("%s/rules", f->dir);
	FILE *fp;

	assert_int_equal(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < nitems(others); i++) {
		char *from = xasprintf("rules/%s", others[i]);
		char *to = xasprintf("%s/%s", dir, others[i]);
		size_t len;
		char *text = read_file(from, 1 << 20, &len);
		assert_non_null(text);
		assert_non_null(fp = fopen(to, "w"));
		assert_int_equal(fwrite(text, 1, len, fp), len);
		assert_int_equal(fclose(fp), 0);
		free(text);
		free(from);
		free(to);
	}
	char *p = xasprintf("%s/tags.yaml", dir);
	assert_non_null(fp = fopen(p, "w"));
	fputs(tags, fp);
	assert_int_equal(fclose(fp), 0);
	free(p);
	f->tags = dir;
	return dir;
}

static void
test_site_bad_tags(void **state)
{
	struct fx *f = fx_new();
	struct diags d = {0};
	char *dir;

	(void)state;
	dir = custom_rules(f, "tags:\n"
	    "  訓練: {audience: \"shelter:hs99\", template: drill}\n"
	    "  参集指示: {audience: crisis, first: nosuch, template: assemble}\n"
	    "  取消: {template: cancel, cancel: true}\n");
	write_config(f, "[mayor]", dir);
	assert_int_equal(site_load(f->config, &f->site, &d), -1);
	assert_int_equal(diag_errors(&d), 2);
	/* Each where it was written: file, line and column. */
	char *want = xasprintf("%s/tags.yaml:2:18: tag 訓練: default audience: "
	    "宛先の避難所「hs99」は名簿にありません", dir);
	expect_in(d.msgs, d.n, want, "diag");
	free(want);
	want = xasprintf("%s/tags.yaml:3:35: tag 参集指示: \"first\" names "
	    "no group: nosuch", dir);
	expect_in(d.msgs, d.n, want, "diag");
	free(want);
	diag_free(&d);
	fx_free(f);

	/* A tag whose template does not exist. */
	f = fx_new();
	dir = custom_rules(f, "tags:\n"
	    "  訓練: {audience: crisis, template: nosuch}\n"
	    "  取消: {template: cancel, cancel: true}\n");
	write_config(f, "[mayor]", dir);
	assert_int_equal(site_load(f->config, &f->site, &d), -1);
	expect_in(d.msgs, d.n, "nosuch.long.txt", "diag");
	diag_free(&d);
	fx_free(f);
}

static void
test_good_draft(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_in in = good_in();
	struct draft_out out;
	char *want;

	draft_check(s, &in, &out);
	for (size_t i = 0; i < out.nrefusals; i++)
		print_message("refusal: %s\n", out.refusals[i]);
	for (size_t i = 0; i < out.nwarnings; i++)
		print_message("warning: %s\n", out.warnings[i]);
	assert_int_equal(out.nrefusals, 0);
	assert_int_equal(out.nwarnings, 0);
	assert_ptr_equal(out.tag, rules_tag(&s->rules, TAG_SHELTER));
	want = xasprintf("【避難所開設要請】%s", in.body);
	assert_string_equal(out.body, want);
	free(want);
	assert_string_equal(out.audience, "shelter:hs01,hs03");
	assert_int_equal(out.nrecipients, 8);
	static const char *const ids[] = { "hs01-1", "hs01-2", "hs01-3",
		"hs01-4", "hs03-1", "hs03-2", "hs03-3", "hs03-4" };
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(s->roster.members[out.recipients[i]].id,
		    ids[i]);
	draft_out_free(&out);
	assert_null(out.body);
	assert_int_equal(out.nrecipients, 0);

	/* Written with the label already, after blank space: kept once. */
	in.body = "  \n【避難所開設要請】第一小学校体育館を開設します。";
	in.tag = "【避難所開設要請】";
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	assert_string_equal(out.body,
	    "【避難所開設要請】第一小学校体育館を開設します。");
	draft_out_free(&out);

	/* The tag's default audience, and a drill. */
	in = good_in();
	in.tag = "参集指示";
	in.audience = NULL;
	in.drill = true;
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	assert_string_equal(out.audience, "crisis");
	assert_int_equal(out.nrecipients, 38);
	assert_string_equal(s->roster.members[out.recipients[0]].id, "mayor");
	assert_true(startswith(out.body, "【参集指示】"));
	draft_out_free(&out);
}

static void
test_refusals(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_in in = good_in();
	struct draft_out out;

	/* Who drafts. */
	in.sender = "hs01-1";
	expect_refusal(s, &in, "加藤 大輝（係長）には発信の権限がありません");
	in.sender = "mayor";
	expect_refusal(s, &in, "（町長）には発信の権限がありません");
	in.sender = "nobody";
	expect_refusal(s, &in, "発信者「nobody」は名簿にありません");
	in.sender = NULL;
	expect_refusal(s, &in, "発信者「（不明）」は名簿にありません");
	in.sender = "kiki_shitsucho";
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	draft_out_free(&out);

	/* Which tag. */
	in = good_in();
	in.tag = "地震速報";
	draft_check(s, &in, &out);
	assert_null(out.tag);
	expect_in(out.refusals, out.nrefusals, "タグ「地震速報」は tags.yaml に"
	    "ありません（使えるタグ: 【避難所開設要請】【参集指示】【気象警報】"
	    "【被害報告】【情報共有】【訓練】【取消】）", "refusal");
	/* No tag: the body is kept as written, no recipients. */
	assert_string_equal(out.body, in.body);
	assert_int_equal(out.nrecipients, 0);
	draft_out_free(&out);
	in.tag = NULL;
	expect_refusal(s, &in, "タグ「」は tags.yaml にありません");

	/* Where to. */
	in = good_in();
	in.audience = "shelter:hs99";
	draft_check(s, &in, &out);
	expect_in(out.refusals, out.nrefusals,
	    "宛先の避難所「hs99」は名簿にありません", "refusal");
	assert_int_equal(out.nrecipients, 0);
	assert_null(out.recipients);
	assert_null(out.audience);
	draft_out_free(&out);
	in.audience = "everyone";
	expect_refusal(s, &in, "宛先のグループ「everyone」は名簿にありません");
	in.audience = "";
	expect_refusal(s, &in, "宛先が空です");

	/* 取消 has no default audience and goes through crisisctl cancel. */
	in = good_in();
	in.tag = "取消";
	in.audience = NULL;
	draft_check(s, &in, &out);
	expect_in(out.refusals, out.nrefusals,
	    "取消は crisisctl cancel で発信してください", "refusal");
	expect_in(out.refusals, out.nrefusals,
	    "タグ【取消】には既定の宛先がありません", "refusal");
	draft_out_free(&out);
}

static void
test_body(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_in in = good_in();
	struct draft_out out;
	char *big;

	in.body = "";
	expect_refusal(s, &in, "本文が空です");
	in.body = " \t\r\n ";
	expect_refusal(s, &in, "本文が空です");
	in.body = NULL;
	expect_refusal(s, &in, "本文が空です");

	/* Over the limit: 20 KB. */
	big = xmalloc(20 * 1024 + 1);
	memset(big, 'a', 20 * 1024);
	big[20 * 1024] = '\0';
	in.body = big;
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 1);
	assert_string_equal(out.refusals[0],
	    "本文が不正です（UTF-8 で 16384 バイト以内）");
	assert_null(out.body);
	draft_out_free(&out);
	/* At the limit it is no longer "invalid" (style may warn). */
	big[DRAFT_BODY_MAX] = '\0';
	draft_check(s, &in, &out);
	for (size_t i = 0; i < out.nrefusals; i++)
		assert_null(strstr(out.refusals[i], "本文が不正です"));
	draft_out_free(&out);
	big[DRAFT_BODY_MAX + 1 - 1] = 'a';
	big[DRAFT_BODY_MAX + 1] = '\0';
	expect_refusal(s, &in, "本文が不正です");
	free(big);

	/* Random bytes and random text (fixed seed) never crash; a draft
	 * either is refused or has a body that starts with its tag. */
	static const char *const pieces[] = { "a", "0", "-", " ", "\n", "【",
		"】", "避", "０", "９", "＠", "@", ".", "\xff", "\xe3", "\x80",
		"090", "1234", "〒", "町", "お疲れ様です", "\t", "\xe3\x80\x80" };
	uint64_t seed = 7;
	char text[256];
	for (int i = 0; i < 300; i++) {
		size_t len = 0;
		while (len < 200) {
			seed = seed * 6364136223846793005ULL + 1;
			const char *p = pieces[(seed >> 33) % nitems(pieces)];
			memcpy(text + len, p, strlen(p));
			len += strlen(p);
			if ((seed >> 20) % 16 == 0)
				break;
		}
		text[len] = '\0';
		in.body = text;
		draft_check(s, &in, &out);
		if (out.nrefusals == 0) {
			assert_non_null(out.body);
			assert_true(startswith(out.body, "【避難所開設要請】"));
			assert_int_equal(out.nrecipients, 8);
		}
		for (size_t j = 0; j < out.nrefusals; j++)
			assert_true(utf8_valid(out.refusals[j],
			    strlen(out.refusals[j])));
		draft_out_free(&out);
	}

	/* Invalid UTF-8, overlong, surrogate, truncated. */
	static const char *const bad[] = {
		"避難所\xff", "\xc0\xaf" "etc", "a\xed\xa0\x80z", "避難\xe6\x89",
	};
	for (size_t i = 0; i < nitems(bad); i++) {
		in.body = bad[i];
		draft_check(s, &in, &out);
		assert_int_equal(out.nrefusals, 1);
		assert_string_equal(out.refusals[0],
		    "本文が不正です（UTF-8 で 16384 バイト以内）");
		draft_out_free(&out);
	}
}

/*
 * A body that is only the tag, or only blank characters other than ASCII
 * ones (U+3000 is what a Japanese keyboard types), says nothing: it must
 * be refused as empty, never sent as 【避難所開設要請】 alone.
 */
static void
test_body_blank(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_in in = good_in();
	static const char *const blank[] = {
		"【避難所開設要請】",
		"【避難所開設要請】 \n",
		"\n【避難所開設要請】\n\t",
		"\xe3\x80\x80\xe3\x80\x80",			/* U+3000 twice */
		"【避難所開設要請】\xe3\x80\x80",
	};

	for (size_t i = 0; i < nitems(blank); i++) {
		in.body = blank[i];
		expect_refusal(s, &in, "本文が空です");
	}
}

static void
test_pii(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_in in = good_in();
	struct draft_out out;

	in.body = "不明点は 090-1234-5678 まで連絡してください。";
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 1);
	expect_in(out.refusals, out.nrefusals, "「090-1234-5678」", "refusal");
	expect_in(out.refusals, out.nrefusals, "電話番号", "refusal");
	draft_out_free(&out);

	in.body = "連絡先は０９０１２３４５６７８です。";
	expect_refusal(s, &in, "「０９０１２３４５６７８」");

	/* Two numbers: two refusals. */
	in.body = "090-1234-5678 または 080-8765-4321";
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 2);
	expect_in(out.refusals, out.nrefusals, "「080-8765-4321」", "refusal");
	draft_out_free(&out);

	in.body = "taro@example.jp に返信";
	expect_refusal(s, &in, "「taro@example.jp」");

	/* Times and dates are not phone numbers. */
	in.body = "11月21日 03:00 に第一小学校を開設。2026-11-21";
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	draft_out_free(&out);
}

static void
test_warnings(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_in in = good_in();
	struct draft_out out;

	in.body = "お疲れ様です。第一小学校体育館を開設します。";
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	assert_int_equal(out.nwarnings, 1);
	expect_in(out.warnings, out.nwarnings, "お疲れ様です", "warning");
	draft_out_free(&out);

	/* A weekday at 10:00 is office hours: a warning, not a refusal. */
	in = good_in();
	in.at = WED_1000;
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	assert_int_equal(out.nwarnings, 1);
	assert_string_equal(out.warnings[0], "開庁時間中です（開庁時間中）。"
	    "crisiscast は閉庁時の連絡用です");
	draft_out_free(&out);
	/* The same weekday at 17:15 is closed. */
	in.at = WED_1000 + 7 * 3600 + 15 * 60;
	draft_check(s, &in, &out);
	assert_int_equal(out.nwarnings, 0);
	draft_out_free(&out);

	/* Another tag at the start of the text. */
	in = good_in();
	in.body = "【訓練】第一小学校体育館を開設します。";
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	expect_in(out.warnings, out.nwarnings, "本文の冒頭のタグが --tag "
	    "【避難所開設要請】 と異なります", "warning");
	assert_string_equal(out.body,
	    "【避難所開設要請】【訓練】第一小学校体育館を開設します。");
	draft_out_free(&out);
}

/* Recipients in send order: the tag's `first` group, then the rest, each
 * in roster order. */
static void
test_order(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_in in = good_in();
	struct draft_out out;
	size_t *idx, n;
	char err[256];

	in.audience = "crisis+shelter";
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	assert_int_equal(out.nrecipients, 94);
	for (size_t i = 0; i < 94; i++) {
		const struct member *m = &s->roster.members[out.recipients[i]];
		assert_int_equal(m->groups, i < 56 ? 2 : 1);
		if (i != 0 && i != 56)
			assert_true(out.recipients[i - 1] < out.recipients[i]);
	}
	assert_string_equal(s->roster.members[out.recipients[0]].id, "hs01-1");
	assert_string_equal(s->roster.members[out.recipients[56]].id, "mayor");
	draft_out_free(&out);

	/* A tag without `first`: plain roster order, crisis first. */
	assert_int_equal(draft_recipients(s, rules_tag(&s->rules, "参集指示"),
	    "shelter+crisis", &idx, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 94);
	for (size_t i = 1; i < n; i++)
		assert_true(idx[i - 1] < idx[i]);
	assert_string_equal(s->roster.members[idx[0]].id, "mayor");
	free(idx);
	/* An error leaves nothing allocated. */
	assert_int_equal(draft_recipients(s, rules_tag(&s->rules, TAG_SHELTER),
	    "nosuch", &idx, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "宛先のグループ「nosuch」は名簿にありません");
}

static void
test_render(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	char *text, *link;
	struct msg_vars v = {
		.tag = "【避難所開設要請】",
		.body = "【避難所開設要請】第一小学校体育館を開設します。",
		.link = "https://alert.town.example/a/AAAAAAAAAAAAAAAAAAAAAA",
		.sender_name = "佐伯 浩之",
		.sender_title = "総務部長",
		.approver_name = "安平 一郎",
		.alert_id = "42",
		.alert_created = "11月21日 03:00",
		.audience = "shelter:hs01,hs03",
	};

	link = msg_longest_link(s, "r");
	assert_string_equal(link,
	    "https://alert.town.example/r/xxxxxxxxxxxxxxxxxxxxxx");
	free(link);

	text = msg_render(s, TMPL_APPROVAL, TMPL_LONG, &v);
	assert_non_null(text);
	assert_non_null(strstr(text, "承認・却下はこちら: "
	    "https://alert.town.example/a/AAAAAAAAAAAAAAAAAAAAAA\n"));
	assert_non_null(strstr(text, "安平 一郎 様"));
	assert_non_null(strstr(text, "発信者: 総務部長 佐伯 浩之（安平町）"));
	assert_non_null(strstr(text, "宛先: shelter:hs01,hs03"));
	assert_non_null(strstr(text, "起案: 11月21日 03:00（42）"));
	assert_non_null(strstr(text, v.body));
	assert_null(strstr(text, "訓練"));
	assert_null(strstr(text, "{{"));
	free(text);

	v.drill = true;
	text = msg_render(s, TMPL_APPROVAL, TMPL_SMS, &v);
	assert_string_equal(text, "【訓練】承認依頼【避難所開設要請】 "
	    "https://alert.town.example/a/AAAAAAAAAAAAAAAAAAAAAA");
	free(text);
	text = msg_render(s, TMPL_APPROVAL, TMPL_LONG, &v);
	assert_true(startswith(text, "【訓練】これは訓練です。\n"));
	free(text);

	/* A delivery template; organization defaults to the config's. */
	v.drill = false;
	text = msg_render(s, "shelter_open", TMPL_SMS, &v);
	assert_string_equal(text, "【避難所開設要請】安平町より "
	    "https://alert.town.example/a/AAAAAAAAAAAAAAAAAAAAAA");
	free(text);
	v.organization = "別の町";
	text = msg_render(s, "shelter_open", TMPL_SMS, &v);
	assert_non_null(strstr(text, "別の町より"));
	free(text);

	assert_null(msg_render(s, "nosuch", TMPL_LONG, &v));
}

/* --set values */

/* vs from "k=v" strings (NULL-terminated); fails on any refusal. */
static void
set_vars(struct draft_vars *vs, const char *const kv[])
{
	char err[512];

	memset(vs, 0, sizeof(*vs));
	for (size_t i = 0; kv[i] != NULL; i++) {
		const char *eq = strchr(kv[i], '=');
		char *k = xstrndup(kv[i], (size_t)(eq - kv[i]));

		if (draft_vars_add(vs, k, eq + 1, err, sizeof(err)) < 0)
			fail_msg("draft_vars_add %s: %s", kv[i], err);
		free(k);
	}
}

/* draft_vars_add refuses key=value with a reason containing want, and
 * leaves vs as it was. */
static void
add_fails(struct draft_vars *vs, const char *key, const char *value,
    const char *want)
{
	char err[512] = "";
	size_t n = vs->n;

	assert_int_equal(draft_vars_add(vs, key, value, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("got \"%s\", want \"%s\"", err, want);
	assert_true(utf8_valid(err, strlen(err)));
	assert_int_equal(vs->n, n);
}

static void
test_vars_add(void **state)
{
	struct draft_vars vs = {0};
	char err[512], big[DRAFT_VAR_VALUE_MAX + 2];

	(void)state;
	assert_int_equal(draft_vars_add(&vs, "place", "本庁舎3階 災害対策本部室",
	    err, sizeof(err)), 0);
	assert_int_equal(draft_vars_add(&vs, "time", "22:30", err,
	    sizeof(err)), 0);
	assert_int_equal(vs.n, 2);
	assert_string_equal(draft_vars_get(&vs, "place"),
	    "本庁舎3階 災害対策本部室");
	assert_null(draft_vars_get(&vs, "Place"));
	assert_null(draft_vars_get(NULL, "place"));

	/* keys: one segment of [A-Za-z0-9_], at most 32 bytes */
	add_fails(&vs, "", "x", "--set の名前「」は使えません");
	add_fails(&vs, NULL, "x", "--set の名前「」は使えません");
	add_fails(&vs, "a.b", "x", "「a.b」は使えません（英字・数字・_ で 32 "
	    "バイトまで");
	add_fails(&vs, "場所", "x", "「??????」は使えません");
	add_fails(&vs, "a\nb", "x", "「a?b」");
	add_fails(&vs, "abcdefghijklmnopqrstuvwxyz_012345", "x",
	    "「abcdefghijklmnopqrstuvwxyz_012345」は使えません");
	/* a repeated key, never "the last wins" */
	add_fails(&vs, "place", "別の場所", "--set place が二度指定されています");
	/* values: one line of valid UTF-8, 1 to 256 bytes, not blank */
	add_fails(&vs, "v", NULL, "--set v の値がありません");
	add_fails(&vs, "v", "", "--set v の値が空です");
	add_fails(&vs, "v", "  \xe3\x80\x80 ", "--set v の値が空白だけです");
	add_fails(&vs, "v", "一行目\n二行目", "--set v の値に制御文字 U+000A "
	    "があります（10 バイト目）");
	add_fails(&vs, "v", "a\tb", "U+0009");
	add_fails(&vs, "v", "a\rb", "U+000D");
	add_fails(&vs, "v", "a\x7f", "U+007F");
	add_fails(&vs, "v", "a\xc2\x85", "U+0085");		/* NEL */
	add_fails(&vs, "v", "a\xe2\x80\xa8", "U+2028");	/* LINE SEP */
	add_fails(&vs, "v", "\xe2\x80\xae" "abc", "U+202E");	/* RLO */
	add_fails(&vs, "v", "\xe2\x81\xa6" "abc", "U+2066");	/* LRI */
	add_fails(&vs, "v", "abc\xff", "--set v の値が UTF-8 の文字列ではあ"
	    "りません");
	add_fails(&vs, "v", "\xed\xa0\x80", "UTF-8");	/* surrogate */
	add_fails(&vs, "v", "\xc0\xaf", "UTF-8");		/* overlong */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	add_fails(&vs, "v", big, "--set v の値が長すぎます（257 バイト。256 "
	    "バイトまで）");
	big[DRAFT_VAR_VALUE_MAX] = '\0';
	assert_int_equal(draft_vars_add(&vs, "v", big, err, sizeof(err)), 0);
	/* at most DRAFT_VARS_MAX */
	while (vs.n < DRAFT_VARS_MAX) {
		char k[16];
		snprintf(k, sizeof(k), "k%zu", vs.n);
		assert_int_equal(draft_vars_add(&vs, k, "x", err, sizeof(err)),
		    0);
	}
	add_fails(&vs, "one_more", "x", "--set は 16 個までです（one_more で"
	    "超えました）");

	draft_vars_free(&vs);
	assert_int_equal(vs.n, 0);
	draft_vars_free(&vs);
	draft_vars_free(NULL);
}

/* draft_vars_parse(json) fails with a reason containing want. */
static void
parse_fails(const char *json, const char *want)
{
	struct draft_vars vs;
	char err[512] = "";

	assert_int_equal(draft_vars_parse(&vs, json, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("%s: got \"%s\", want \"%s\"", json, err, want);
	assert_int_equal(vs.n, 0);
}

static void
test_vars_json(void **state)
{
	struct draft_vars vs, back;
	char err[512], *json;
	static const char *const kv[] = { "place=本庁舎 \"3階\"",
		"time=22時30分", "x=<&>\\", NULL };

	(void)state;
	set_vars(&vs, kv);
	json = draft_vars_json(&vs);
	assert_string_equal(json, "{\"place\":\"本庁舎 \\\"3階\\\"\","
	    "\"time\":\"22時30分\",\"x\":\"<&>\\\\\"}");
	/* and back, in the same order */
	assert_int_equal(draft_vars_parse(&back, json, err, sizeof(err)), 0);
	assert_int_equal(back.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(back.v[i].key, vs.v[i].key);
		assert_string_equal(back.v[i].value, vs.v[i].value);
	}
	draft_vars_free(&back);
	free(json);
	draft_vars_free(&vs);

	/* none */
	json = draft_vars_json(NULL);
	assert_string_equal(json, "{}");
	free(json);
	assert_int_equal(draft_vars_parse(&vs, NULL, err, sizeof(err)), 0);
	assert_int_equal(vs.n, 0);
	assert_int_equal(draft_vars_parse(&vs, "{}", err, sizeof(err)), 0);
	assert_int_equal(vs.n, 0);
	assert_int_equal(draft_vars_from_json(&vs, NULL, err, sizeof(err)), 0);

	/* garbage: never half a set, always a reason */
	parse_fails("", "JSON ではありません");
	parse_fails("{\"a\":", "JSON ではありません");
	parse_fails("[\"a\"]", "vars は {\"名前\": \"値\"} の形のオブジェクト");
	parse_fails("\"a=b\"", "オブジェクト");
	parse_fails("null", "オブジェクト");
	parse_fails("42", "オブジェクト");
	parse_fails("{\"a\": 1}", "--set a の値が文字列ではありません");
	parse_fails("{\"a\": null}", "--set a の値が文字列ではありません");
	parse_fails("{\"a\": true}", "--set a の値が文字列ではありません");
	parse_fails("{\"a\": {\"b\": \"c\"}}", "--set a の値が文字列では");
	parse_fails("{\"a\": [\"b\"]}", "--set a の値が文字列では");
	parse_fails("{\"ok\": \"1\", \"a\": \"1\", \"a\": \"2\"}",
	    "--set a が二度指定されています");
	parse_fails("{\"\": \"1\"}", "--set の名前「」は使えません");
	parse_fails("{\"a b\": 1}", "--set の名前「a?b」は使えません");
	parse_fails("{\"var.a\": \"1\"}", "「var.a」は使えません");
	parse_fails("{\"a\": \"\\u0007\"}", "--set a の値に制御文字 U+0007");
	parse_fails("{\"a\": \"x\\ny\"}", "U+000A");
	parse_fails("{\"a\": \"\"}", "--set a の値が空です");
	/* 17 members */
	struct buf b = {0};
	buf_adds(&b, "{");
	for (int i = 0; i <= DRAFT_VARS_MAX; i++)
		buf_printf(&b, "%s\"k%d\": \"v\"", i ? ", " : "", i);
	buf_adds(&b, "}");
	parse_fails(b.data, "--set は 16 個までです（k16 で超えました）");
	buf_free(&b);
}

/* The 参集指示 draft of the walkthrough, with values. */
static struct draft_in
assemble_in(const struct draft_vars *vs)
{
	struct draft_in in = good_in();

	in.tag = "参集指示";
	in.audience = NULL;
	in.body = "災害対策本部を設置します。参集してください。";
	in.vars = vs;
	return in;
}

static void
test_vars_draft(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_vars vs;
	struct draft_out out;
	struct draft_in in;
	static const char *const good[] = { "place=本庁舎3階 災害対策本部室",
		"time=22時30分", NULL };
	static const char *const unknown[] = { "place=本庁舎", "room=301",
		NULL };

	/* the shipped 参集指示 takes place and time, both optional */
	set_vars(&vs, good);
	in = assemble_in(&vs);
	draft_check(s, &in, &out);
	for (size_t i = 0; i < out.nrefusals; i++)
		print_message("refusal: %s\n", out.refusals[i]);
	assert_int_equal(out.nrefusals, 0);
	draft_out_free(&out);
	draft_vars_free(&vs);
	in = assemble_in(NULL);
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	draft_out_free(&out);

	/* a key no template of the tag uses, naming those it does use */
	set_vars(&vs, unknown);
	in = assemble_in(&vs);
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 1);
	assert_string_equal(out.refusals[0], "--set room はタグ【参集指示】の"
	    "テンプレート（assemble）で使われていません（使える名前: place, "
	    "time）");
	draft_out_free(&out);
	/* a tag whose templates use none */
	in.tag = "情報共有";
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 2);
	expect_in(out.refusals, out.nrefusals, "--set place はタグ【情報共有】"
	    "のテンプレート（info_share）で使われていません（このタグのテンプ"
	    "レートは --set の値を使いません）", "refusal");
	expect_in(out.refusals, out.nrefusals, "--set room はタグ【情報共有】",
	    "refusal");
	draft_out_free(&out);
	draft_vars_free(&vs);
}

static void
test_vars_pii(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_vars vs;
	struct draft_out out;
	struct draft_in in;
	static const char *const phone[] = { "place=本庁舎",
		"time=不明点は 090-1234-5678 へ", NULL };
	static const char *const fullwidth[] = {
		"place=連絡先 ０９０１２３４５６７８", NULL };
	static const char *const mail[] = { "place=taro@example.jp", NULL };

	/* a value is part of the message: the body's rules, naming the key */
	set_vars(&vs, phone);
	in = assemble_in(&vs);
	draft_check(s, &in, &out);
	assert_int_equal(out.nrefusals, 1);
	assert_string_equal(out.refusals[0], "--set time の値に個人を特定でき"
	    "る情報（電話番号 [phone]）: 「090-1234-5678」（6文字目から13文字）");
	draft_out_free(&out);
	draft_vars_free(&vs);
	set_vars(&vs, fullwidth);
	in = assemble_in(&vs);
	expect_refusal(s, &in, "--set place の値に個人を特定できる情報（電話番号"
	    " [phone]）: 「０９０１２３４５６７８」");
	draft_vars_free(&vs);
	set_vars(&vs, mail);
	in = assemble_in(&vs);
	expect_refusal(s, &in, "--set place の値に個人を特定できる情報");
	expect_refusal(s, &in, "「taro@example.jp」");
	draft_vars_free(&vs);
}

/* A garbage draft_vars filled by hand (not through draft_vars_add) is
 * refused entry by entry, never trusted and never a crash. */
static void
test_vars_garbage(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_vars vs = {0};
	struct draft_out out;
	struct draft_in in;

	vs.v[0] = (struct draft_var){ NULL, "x" };
	vs.v[1] = (struct draft_var){ "place", NULL };
	vs.v[2] = (struct draft_var){ "time", "bad\xff" };
	vs.v[3] = (struct draft_var){ "a.b", "x" };
	vs.v[4] = (struct draft_var){ "time", "22時" };
	vs.v[5] = (struct draft_var){ "time", "23時" };
	vs.v[6] = (struct draft_var){ "place", "改行\nあり" };
	vs.n = 7;
	in = assemble_in(&vs);
	draft_check(s, &in, &out);
	expect_in(out.refusals, out.nrefusals, "--set の名前「」は使えません",
	    "refusal");
	expect_in(out.refusals, out.nrefusals, "--set place の値がありません",
	    "refusal");
	expect_in(out.refusals, out.nrefusals, "--set time の値が UTF-8 の",
	    "refusal");
	expect_in(out.refusals, out.nrefusals, "--set の名前「a.b」", "refusal");
	expect_in(out.refusals, out.nrefusals, "--set time が二度指定されて",
	    "refusal");
	expect_in(out.refusals, out.nrefusals, "--set place が二度指定されて",
	    "refusal");
	for (size_t i = 0; i < out.nrefusals; i++)
		assert_true(utf8_valid(out.refusals[i],
		    strlen(out.refusals[i])));
	draft_out_free(&out);

	/* a count larger than the array */
	memset(&vs, 0, sizeof(vs));
	for (size_t i = 0; i < DRAFT_VARS_MAX; i++)
		vs.v[i] = (struct draft_var){ "place", "x" };
	vs.n = 1000;
	draft_check(s, &in, &out);
	expect_in(out.refusals, out.nrefusals, "--set は 16 個までです",
	    "refusal");
	draft_out_free(&out);
}

/* A site whose info_share templates need values: a copy of the repo's
 * templates/ with info_share.long.txt and .sms.txt replaced. */
static struct fx *
fx_templates(const char *long_text, const char *sms_text)
{
	static const char *const names[] = { "approval", "assemble",
		"cancel", "damage_report", "drill", "info_share",
		"shelter_open", "weather_warning" };
	struct fx *f = fx_new();
	struct diags d = {0};

	f->templates = xasprintf("%s/templates", f->dir);
	assert_int_equal(mkdir(f->templates, 0700), 0);
	for (size_t i = 0; i < nitems(names); i++)
		for (int sms = 0; sms < 2; sms++) {
			char *name = xasprintf("%s.%s.txt", names[i],
			    sms ? "sms" : "long");
			char *from = xasprintf("templates/%s", name);
			char *to = xasprintf("%s/%s", f->templates, name);
			size_t len;
			char *text = read_file(from, 1 << 16, &len);
			FILE *fp;

			assert_non_null(text);
			if (strcmp(names[i], "info_share") == 0) {
				free(text);
				text = xstrdup(sms ? sms_text : long_text);
				len = strlen(text);
			}
			assert_non_null(fp = fopen(to, "w"));
			assert_int_equal(fwrite(text, 1, len, fp), len);
			assert_int_equal(fclose(fp), 0);
			f->tfiles = xreallocarray(f->tfiles, f->ntfiles + 1,
			    sizeof(*f->tfiles));
			f->tfiles[f->ntfiles++] = name;
			free(text);
			free(from);
			free(to);
		}
	write_config(f, "[mayor, deputy_mayor]", NULL);
	if (site_load(f->config, &f->site, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			print_message("site: %s\n", d.msgs[i]);
		fail_msg("site_load");
	}
	diag_free(&d);
	return f;
}

static void
test_vars_required(void **state)
{
	struct fx *f;
	struct draft_vars vs;
	struct draft_out out;
	struct draft_in in = good_in();
	static const char *const both[] = { "shelter=第一小学校", "code=A1",
		NULL };
	static const char *const extra[] = { "shelter=第一小学校", "code=A1",
		"note=補足", "x=1", NULL };

	(void)state;
	f = fx_templates("{{body}}\n対象: {{var.shelter}}\n"
	    "{{#var.note}}補足: {{var.note}}{{/var.note}}\n{{link}}\n",
	    "{{tag}}{{var.code}} {{link}}\n");
	in.tag = "情報共有";
	in.audience = NULL;

	/* missing required values, each named with its template */
	draft_check(&f->site, &in, &out);
	assert_int_equal(out.nrefusals, 2);
	assert_string_equal(out.refusals[0], "--set shelter=値 が必要です（タグ"
	    "【情報共有】のテンプレート info_share.long.txt が "
	    "{{var.shelter}} を使います）");
	assert_string_equal(out.refusals[1], "--set code=値 が必要です（タグ"
	    "【情報共有】のテンプレート info_share.sms.txt が {{var.code}} "
	    "を使います）");
	draft_out_free(&out);

	set_vars(&vs, both);
	in.vars = &vs;
	draft_check(&f->site, &in, &out);
	for (size_t i = 0; i < out.nrefusals; i++)
		print_message("refusal: %s\n", out.refusals[i]);
	assert_int_equal(out.nrefusals, 0);
	draft_out_free(&out);
	draft_vars_free(&vs);

	/* the optional one is known; the list names all three */
	set_vars(&vs, extra);
	draft_check(&f->site, &in, &out);
	assert_int_equal(out.nrefusals, 1);
	assert_string_equal(out.refusals[0], "--set x はタグ【情報共有】のテン"
	    "プレート（info_share）で使われていません（使える名前: shelter, "
	    "note, code）");
	draft_out_free(&out);
	draft_vars_free(&vs);
	fx_free(f);
}

static void
test_vars_sms_length(void **state)
{
	struct fx *f;
	struct draft_vars vs;
	struct draft_out out;
	struct draft_in in = good_in();
	char err[512];

	(void)state;
	/* 【情報共有】 (6) + code + " " (1) + the longest link (51): code may
	 * take 12 units */
	f = fx_templates("{{body}}\n{{#var.code}}{{var.code}}{{/var.code}}"
	    "\n{{link}}\n", "{{tag}}{{#var.code}}{{var.code}}{{/var.code}} "
	    "{{link}}\n");
	in.tag = "情報共有";
	in.audience = NULL;
	memset(&vs, 0, sizeof(vs));
	in.vars = &vs;
	assert_int_equal(draft_vars_add(&vs, "code", "避難所一二三四五六七八九",
	    err, sizeof(err)), 0);
	draft_check(&f->site, &in, &out);
	for (size_t i = 0; i < out.nrefusals; i++)
		print_message("refusal: %s\n", out.refusals[i]);
	assert_int_equal(out.nrefusals, 0);
	draft_out_free(&out);
	draft_vars_free(&vs);

	/* one more character and the SMS form no longer fits */
	assert_int_equal(draft_vars_add(&vs, "code", "避難所一二三四五六七八九十",
	    err, sizeof(err)), 0);
	draft_check(&f->site, &in, &out);
	assert_int_equal(out.nrefusals, 1);
	assert_string_equal(out.refusals[0], "SMSの文面が1通（70文字）に収まり"
	    "ません（71文字）。--set の値（code）を短くするか、テンプレート "
	    "info_share.sms.txt を短くしてください");
	draft_out_free(&out);
	draft_vars_free(&vs);

	/* a long value in the long form only is no SMS matter */
	in.tag = "参集指示";
	assert_int_equal(draft_vars_add(&vs, "place", "本庁舎3階 災害対策本部室"
	    "（西側の階段から。エレベーターは使わないでください）", err,
	    sizeof(err)), 0);
	draft_check(&f->site, &in, &out);
	assert_int_equal(out.nrefusals, 0);
	draft_out_free(&out);
	draft_vars_free(&vs);
	fx_free(f);
}

static void
test_render_vars(void **state)
{
	struct fx *f = *state;
	const struct site *s = &f->site;
	struct draft_vars vs;
	static const char *const kv[] = { "place=本庁舎3階 <災害対策本部室>",
		"time=22時30分", NULL };
	struct msg_vars v = {
		.tag = "【参集指示】",
		.body = "【参集指示】災害対策本部を設置します。",
		.link = "https://alert.town.example/r/AAAAAAAAAAAAAAAAAAAAAA",
		.sender_name = "佐伯 浩之",
		.sender_title = "総務部長",
		.alert_id = "42",
	};
	char *text;

	set_vars(&vs, kv);
	v.vars = draft_vars_json(&vs);
	text = msg_render(s, "assemble", TMPL_LONG, &v);
	assert_true(startswith(text, "【参集指示】災害対策本部を設置します。\n"
	    "参集場所: 本庁舎3階 <災害対策本部室>\n参集時刻: 22時30分\n\n"));
	free(text);
	/* the SMS form does not show them */
	text = msg_render(s, "assemble", TMPL_SMS, &v);
	assert_string_equal(text, "【参集指示】安平町より "
	    "https://alert.town.example/r/AAAAAAAAAAAAAAAAAAAAAA");
	free(text);
	free((char *)v.vars);
	draft_vars_free(&vs);

	/* none, "{}" and an unreadable column all render without values */
	static const char *const none[] = { NULL, "{}", "not json",
		"[\"place\"]", "{\"place\": 1}", "{\"time\": \"a\\nb\"}" };
	for (size_t i = 0; i < nitems(none); i++) {
		v.vars = none[i];
		text = msg_render(s, "assemble", TMPL_LONG, &v);
		assert_true(startswith(text, "【参集指示】災害対策本部を設置し"
		    "ます。\n\n発信: "));
		assert_null(strstr(text, "参集場所"));
		assert_null(strstr(text, "参集時刻"));
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_site, setup, teardown),
		cmocka_unit_test(test_site_plan_limit),
		cmocka_unit_test(test_site_bad_approvers),
		cmocka_unit_test(test_site_bad_tags),
		cmocka_unit_test_setup_teardown(test_good_draft, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_blank, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pii, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warnings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render, setup, teardown),
		cmocka_unit_test(test_vars_add),
		cmocka_unit_test(test_vars_json),
		cmocka_unit_test_setup_teardown(test_vars_draft, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vars_pii, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars_garbage, setup,
		    teardown),
		cmocka_unit_test(test_vars_required),
		cmocka_unit_test(test_vars_sms_length),
		cmocka_unit_test_setup_teardown(test_render_vars, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
