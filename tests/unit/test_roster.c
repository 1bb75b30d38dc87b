/*
 * test_roster.c: lib/roster.c against the sample rosters in etc/rosters,
 * the bad rosters in tests/data/rosters, and AUDIENCE expressions.
 *
 * Must never: derive an expected value with the code under test. The 38
 * titles are copied by hand from seed 000 Figure 2; positions in expected
 * diagnostics were counted in the fixture files. Runs from the top of the
 * source tree.
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

#include "roster.h"
#include "util.h"
#include "testutil.h"

#define CRISIS		"etc/rosters/crisis.yaml"
#define SHELTERS	"etc/rosters/shelters.yaml"
#define BAD		"tests/data/rosters/"

static const struct channel_ref offline[] = {
	{ "lineworks", "file" },
	{ "sms", "file" },
	{ "email", "file" },
	{ "ntfy", "file" },
};

/* Seed 000, Figure 2, 【危機管理グループ】 38名, read row by row. */
static const char *const titles38[] = {
	"町長", "副町長", "教育長",
	"総務部長", "民生部長", "環境経済部長",
	"建設部長", "会計管理者", "教育次長",
	"消防長", "危機管理室長", "総務課長",
	"企画政策課長", "財政課長", "行政推進課長",
	"管財契約課長", "税務課長", "福祉支援課長",
	"子育て支援課長", "高齢介護課長", "住民課長",
	"健康推進課長", "国保年金課長", "農政課長",
	"環境課長", "道路課長", "商工観光課長",
	"下水道課長", "都市施設課長", "議会事務局長",
	"監査委員事務局長", "教育総務課長", "生涯学習課長",
	"スポーツ・文化振興課長", "消防課長", "消防署長",
	"水道事業所長", "社会福祉協議会事務局長",
};

/* Loads up to three files with the offline channels. */
static int
load(struct roster *r, struct diags *d, const char *a, const char *b,
    const char *c)
{
	char *paths[3];
	size_t n = 0;

	paths[n++] = (char *)a;
	if (b != NULL)
		paths[n++] = (char *)b;
	if (c != NULL)
		paths[n++] = (char *)c;
	return roster_load(r, paths, n, offline, nitems(offline), d);
}


/* Loads one bad file; expects failure, an empty roster and want. */
static void
expect_bad(const char *path, const char *want, size_t nerrors)
{
	struct roster r;
	struct diags d = {0};

	assert_int_equal(load(&r, &d, path, NULL, NULL), -1);
	assert_int_equal(r.nmembers, 0);
	assert_null(r.members);
	expect_diag(&d, want);
	if (nerrors != 0)
		assert_int_equal(diag_errors(&d), nerrors);
	diag_free(&d);
}

/* Writes text to a fresh file under /tmp; the caller unlinks and frees. */
static char *
tmp_roster(const char *text)
{
	char *path = xstrdup("/tmp/test_roster-XXXXXX.yaml");
	int fd = mkstemps(path, 5);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Loads inline text as a roster; returns roster_load's result. */
static int
load_text(struct roster *r, struct diags *d, const char *text,
    const struct channel_ref *ch, size_t nch)
{
	char *path = tmp_roster(text);
	char *paths[] = { path };
	int rc = roster_load(r, paths, 1, ch, nch, d);

	unlink(path);
	free(path);
	return rc;
}


static void
test_sample_counts(void **state)
{
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load(&r, &d, CRISIS, SHELTERS, NULL), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(r.nmembers, 94);
	assert_int_equal(r.ngroups, 2);
	assert_string_equal(r.groups[0].id, "crisis");
	assert_string_equal(r.groups[0].title, "危機管理グループ");
	assert_string_equal(r.groups[1].id, "shelter");
	assert_string_equal(r.groups[1].title, "避難所従事グループ");
	assert_int_equal(roster_group_count(&r, 0), 38);
	assert_int_equal(roster_group_count(&r, 1), 56);
	assert_int_equal(roster_group_count(&r, 2), 0);
	assert_int_equal(r.nshelters, 14);
	assert_int_equal(roster_channel_count(&r, "lineworks"), 94);
	assert_int_equal(roster_channel_count(&r, "sms"), 94);
	assert_int_equal(roster_channel_count(&r, "email"), 94);
	assert_int_equal(roster_channel_count(&r, "ntfy"), 94);
	assert_int_equal(roster_channel_count(&r, "hook"), 0);
	for (size_t i = 0; i < r.nmembers; i++) {
		const struct member *m = &r.members[i];
		assert_int_equal(m->order, i);
		/* No one is in both groups in the sample. */
		assert_true(m->groups == 1 || m->groups == 2);
		assert_int_equal(m->groups == 1, i < 38);
		assert_int_equal(m->ncontacts, 4);
		assert_non_null(m->phone);
		assert_true(strchr(m->name, ' ') != NULL);
		/* Unique numbers: no other member has the same one. */
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(m->phone, r.members[j].phone);
	}
	roster_free(&r);
	assert_int_equal(r.nmembers, 0);
	roster_free(&r);	/* twice is harmless */
	diag_free(&d);
}

static void
test_sample_titles(void **state)
{
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(nitems(titles38), 38);
	assert_int_equal(load(&r, &d, CRISIS, SHELTERS, NULL), 0);
	assert_string_equal(r.members[0].id, "mayor");
	for (size_t i = 0; i < 38; i++) {
		assert_string_equal(r.members[i].title, titles38[i]);
		assert_null(r.members[i].shelter);
	}
	roster_free(&r);
	diag_free(&d);
}

static void
test_sample_roles(void **state)
{
	static const char *const senders[] = {
		"総務部長", "民生部長", "環境経済部長", "建設部長", "教育次長",
		"消防長", "危機管理室長",
	};
	struct roster r;
	struct diags d = {0};
	const struct member *m;
	size_t nsend = 0, nappr = 0, nadmin = 0;

	(void)state;
	assert_int_equal(load(&r, &d, CRISIS, SHELTERS, NULL), 0);

	assert_non_null(m = roster_find(&r, "mayor"));
	assert_string_equal(m->title, "町長");
	assert_int_equal(m->roles, ROLE_APPROVER);
	assert_string_equal(m->login, "ichiro");
	assert_ptr_equal(roster_find_login(&r, "ichiro"), m);
	assert_non_null(m = roster_find(&r, "deputy_mayor"));
	assert_string_equal(m->title, "副町長");
	assert_int_equal(m->roles, ROLE_APPROVER);
	assert_non_null(m = roster_find(&r, "soumu_bucho"));
	assert_string_equal(m->title, "総務部長");
	assert_int_equal(m->roles, ROLE_SENDER);
	assert_non_null(m = roster_find(&r, "kiki_shitsucho"));
	assert_string_equal(m->title, "危機管理室長");
	assert_int_equal(m->roles, ROLE_SENDER | ROLE_ADMIN);

	for (size_t i = 0; i < r.nmembers; i++) {
		m = &r.members[i];
		if (m->roles & ROLE_SENDER) {
			bool listed = false;
			for (size_t j = 0; j < nitems(senders); j++)
				if (strcmp(m->title, senders[j]) == 0)
					listed = true;
			assert_true(listed);
			nsend++;
		}
		if (m->roles & ROLE_APPROVER)
			nappr++;
		if (m->roles & ROLE_ADMIN) {
			assert_true(strcmp(m->title, "危機管理室長") == 0 ||
			    strcmp(m->title, "総務課長") == 0);
			nadmin++;
		}
		/* Everyone who may act has a login, and only they. */
		assert_int_equal(m->login != NULL, m->roles != 0);
	}
	assert_int_equal(nsend, 7);
	assert_int_equal(nappr, 2);
	assert_int_equal(nadmin, 2);

	/* Contact scheme. */
	assert_non_null(m = roster_find(&r, "soumu_bucho"));
	assert_string_equal(m->contacts[0].channel, "lineworks");
	assert_string_equal(m->contacts[0].address,
	    "soumu_bucho@town.example");
	assert_string_equal(m->contacts[3].channel, "ntfy");
	assert_string_equal(m->contacts[3].address, "cc-soumu_bucho");

	assert_null(roster_find(&r, "nobody"));
	assert_null(roster_find_login(&r, "nobody"));
	roster_free(&r);
	diag_free(&d);
}

static void
test_sample_shelters(void **state)
{
	struct roster r;
	struct diags d = {0};
	const struct shelter *sh;
	char id[16];

	(void)state;
	assert_int_equal(load(&r, &d, CRISIS, SHELTERS, NULL), 0);
	for (int i = 1; i <= 14; i++) {
		bool fever = i > 10;

		snprintf(id, sizeof(id), fever ? "fv%02d" : "hs%02d",
		    fever ? i - 10 : i);
		assert_non_null(sh = roster_shelter(&r, id));
		assert_ptr_equal(sh, &r.shelters[i - 1]);
		assert_int_equal(sh->kind,
		    fever ? SHELTER_FEVER : SHELTER_DESIGNATED);
		assert_string_equal(shelter_kind_name(sh->kind),
		    fever ? "fever" : "designated");
		assert_int_equal(sh->group, 1);
		assert_int_equal(sh->nstaff, 4);
		for (size_t j = 0; j < 4; j++) {
			const struct member *m = &r.members[sh->staff[j]];
			char want[32];

			snprintf(want, sizeof(want), "%s-%zu", id, j + 1);
			assert_string_equal(m->id, want);
			assert_string_equal(m->shelter, id);
			assert_int_equal(m->groups, 2);
		}
	}
	assert_non_null(sh = roster_shelter(&r, "hs01"));
	assert_string_equal(sh->name, "第一小学校体育館");
	assert_true(strstr(roster_shelter(&r, "fv01")->name,
	    "発熱者専用避難所") != NULL);
	assert_null(roster_shelter(&r, "hs11"));
	assert_int_equal(roster_group(&r, "shelter"), 1);
	assert_int_equal(roster_group(&r, "nosuch"), -1);
	roster_free(&r);
	diag_free(&d);
}

static void
test_bad_duplicate_id(void **state)
{
	(void)state;
	expect_bad(BAD "dup_id.yaml", BAD "dup_id.yaml:9:9: duplicate member "
	    "id \"taro\" (first at " BAD "dup_id.yaml:5:9)", 1);
}

static void
test_bad_phone(void **state)
{
	(void)state;
	expect_bad(BAD "bad_phone.yaml", BAD "bad_phone.yaml:8:12: \"phone\" "
	    "must be an E.164 number such as +819012345678, not "
	    "\"090-1111-0001\"", 2);
	expect_bad(BAD "bad_phone.yaml", BAD "bad_phone.yaml:9:47: contact "
	    "\"sms\" must be an E.164 number such as +819012345678, not "
	    "\"+81 90 1111 0001\"", 2);
}

static void
test_bad_yaml(void **state)
{
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load(&r, &d, BAD "broken.yaml", NULL, NULL), -1);
	assert_true(d.n >= 1);
	assert_true(startswith(d.msgs[0], BAD "broken.yaml:8:3: YAML syntax "
	    "error"));
	diag_free(&d);
}

static void
test_bad_role(void **state)
{
	(void)state;
	expect_bad(BAD "bad_role.yaml", BAD "bad_role.yaml:8:21: unknown "
	    "role \"mayor\" (sender, approver or admin)", 1);
}

static void
test_bad_channel(void **state)
{
	(void)state;
	expect_bad(BAD "bad_channel.yaml", BAD "bad_channel.yaml:8:38: "
	    "unknown channel \"fax\" (not under transports:)", 1);
}

static void
test_bad_no_contacts(void **state)
{
	(void)state;
	expect_bad(BAD "no_contacts.yaml", BAD "no_contacts.yaml:5:5: "
	    "missing \"contacts\" (at least one channel)", 2);
	expect_bad(BAD "no_contacts.yaml", BAD "no_contacts.yaml:11:15: "
	    "\"contacts\" is empty (at least one channel)", 2);
}

static void
test_bad_kind(void **state)
{
	(void)state;
	expect_bad(BAD "bad_kind.yaml", BAD "bad_kind.yaml:7:11: unknown "
	    "shelter kind \"hospital\" (designated or fever)", 1);
}

static void
test_bad_duplicate_login(void **state)
{
	(void)state;
	expect_bad(BAD "dup_login.yaml", BAD "dup_login.yaml:13:12: login "
	    "\"taro\" is already used by member \"taro\" at " BAD
	    "dup_login.yaml:8:12", 1);
}

/* The first file's yamada lacks a title: only that error, no crash. */
static void
test_bad_conflict_missing_title(void **state)
{
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load(&r, &d, BAD "untitled_a.yaml",
	    BAD "conflict_b.yaml", NULL), -1);
	assert_int_equal(diag_errors(&d), 1);
	assert_non_null(strstr(d.msgs[0], "untitled_a.yaml:7:"));
	assert_non_null(strstr(d.msgs[0], "title"));
	assert_int_equal(r.nmembers, 0);
	diag_free(&d);
}

static void
test_bad_conflict_two_files(void **state)
{
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load(&r, &d, BAD "conflict_a.yaml",
	    BAD "conflict_b.yaml", NULL), -1);
	assert_int_equal(diag_errors(&d), 1);
	expect_diag(&d, BAD "conflict_b.yaml:9:13: member \"yamada\" differs "
	    "from the one at " BAD "conflict_a.yaml:5:9 in: contacts (one "
	    "person must have the same details in every roster file)");
	assert_int_equal(r.nmembers, 0);
	diag_free(&d);
}

static void
test_bad_duplicate_group(void **state)
{
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load(&r, &d, CRISIS, CRISIS, NULL), -1);
	assert_int_equal(diag_errors(&d), 1);
	expect_diag(&d, CRISIS ":7:8: duplicate group id \"crisis\" (first at "
	    CRISIS ":7:8)");
	diag_free(&d);
}

/* One run reports every problem, not just the first. */
static void
test_bad_every_problem(void **state)
{
	static const char *const want[] = {
		":2:8: group id \"Crisis Group\" must be",
		":3:8: \"title\" is empty",
		":6:11: \"name\" is empty",
		":8:13: unknown role \"boss\"",
		":9:12: login \"Taro Yamada\" is not a Unix login",
		":10:12: \"phone\" must be an E.164 number",
		":11:21: contact \"sms\" must be an E.164 number",
		":11:37: contact \"email\" must be an e-mail address",
		":11:61: contact \"ntfy\" must be a ntfy topic",
		":11:75: unknown channel \"fax\"",
		":12:9: member id \"-bad-id\" must be",
		":15:5: unknown key \"colour\" in member",
		":17:5: member must be a map",
	};
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load(&r, &d, BAD "many_errors.yaml", NULL, NULL), -1);
	assert_int_equal(diag_errors(&d), nitems(want));
	for (size_t i = 0; i < nitems(want); i++) {
		char needle[256];
		snprintf(needle, sizeof(needle), "many_errors.yaml%s", want[i]);
		if (!diags_have(&d, needle)) {
			for (size_t j = 0; j < d.n; j++)
				print_message("have: %s\n", d.msgs[j]);
			fail_msg("missing: %s", needle);
		}
	}
	diag_free(&d);
}

static void
test_bad_shelters(void **state)
{
	struct roster r;
	struct diags d = {0};
	const char *f = BAD "shelter_problems.yaml";
	char want[256];

	(void)state;
	assert_int_equal(load(&r, &d, f, NULL, NULL), -1);
	assert_int_equal(diag_errors(&d), 4);
	snprintf(want, sizeof(want), "%s:10:9: duplicate shelter id \"hs01\" "
	    "(first at %s:5:9)", f, f);
	expect_diag(&d, want);
	snprintf(want, sizeof(want), "%s:18:12: shelter \"hs03\" has no staff",
	    f);
	expect_diag(&d, want);
	snprintf(want, sizeof(want), "%s:19:5: missing \"name\"", f);
	expect_diag(&d, want);
	snprintf(want, sizeof(want), "%s:19:5: missing \"kind\"", f);
	expect_diag(&d, want);
	diag_free(&d);
}

static void
test_bad_files(void **state)
{
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load(&r, &d, BAD "no-such-file.yaml", NULL, NULL), -1);
	expect_diag(&d, BAD "no-such-file.yaml: cannot read: No such file or "
	    "directory");
	diag_free(&d);
	assert_int_equal(roster_load(&r, NULL, 0, offline, nitems(offline),
	    &d), -1);
	expect_diag(&d, "no roster files given");
	diag_free(&d);

	/* Neither members nor shelters; then both. */
	assert_int_equal(load_text(&r, &d, "group: g\ntitle: t\n", offline,
	    nitems(offline)), -1);
	assert_true(diags_have(&d, ":1:1: missing \"members\" or \"shelters\""));
	diag_free(&d);
	assert_int_equal(load_text(&r, &d, "group: g\ntitle: t\nmembers: []\n"
	    "shelters: []\n", offline, nitems(offline)), -1);
	assert_true(diags_have(&d, ":4:1: a roster file has either"));
	diag_free(&d);
	/* An empty group is only a warning. */
	assert_int_equal(load_text(&r, &d, "group: g\ntitle: t\nmembers: []\n",
	    offline, nitems(offline)), 0);
	assert_int_equal(d.warnings, 1);
	assert_true(diags_have(&d, ":3:10: warning: group \"g\" has no members"));
	assert_int_equal(r.ngroups, 1);
	roster_free(&r);
	diag_free(&d);
	/* A file that is a list, and an empty file. */
	assert_int_equal(load_text(&r, &d, "- a\n", offline, nitems(offline)),
	    -1);
	assert_true(diags_have(&d, "a roster file must be a map"));
	diag_free(&d);
	assert_int_equal(load_text(&r, &d, "", offline, nitems(offline)), -1);
	assert_true(diags_have(&d, "missing \"group\""));
	diag_free(&d);
}

/* Address checks follow the channel's type as well as its usual name. */
static void
test_channel_types(void **state)
{
	static const struct channel_ref live[] = {
		{ "phone2", "twilio" }, { "mail", "smtp" },
		{ "push", "ntfy" }, { "hook", "webhook" },
	};
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_text(&r, &d, "group: g\ntitle: t\nmembers:\n"
	    "  - {id: a, name: 甲 乙, title: 主事, contacts: {phone2: \"+1555\","
	    " mail: \"a@b\", push: \"a/b\", hook: \"anything goes\"}}\n",
	    live, nitems(live)), -1);
	assert_int_equal(diag_errors(&d), 3);
	assert_true(diags_have(&d, "contact \"phone2\" must be an E.164"));
	assert_true(diags_have(&d, "contact \"mail\" must be an e-mail"));
	assert_true(diags_have(&d, "contact \"push\" must be a ntfy topic"));
	diag_free(&d);

	assert_int_equal(load_text(&r, &d, "group: g\ntitle: t\nmembers:\n"
	    "  - {id: a, name: 甲 乙, title: 主事, roles: admin, contacts: "
	    "{phone2: \"+12025550123\", mail: a@b.example, push: cc-a_1, "
	    "hook: \"anything goes\"}}\n", live, nitems(live)), 0);
	assert_int_equal(r.nmembers, 1);
	assert_int_equal(r.members[0].roles, ROLE_ADMIN);
	assert_int_equal(r.members[0].ncontacts, 4);
	assert_string_equal(r.members[0].contacts[1].address, "a@b.example");
	roster_free(&r);
	diag_free(&d);

	/* No channels configured: every contact is unknown. */
	assert_int_equal(load_text(&r, &d, "group: g\ntitle: t\nmembers:\n"
	    "  - {id: a, name: 甲 乙, title: 主事, contacts: {sms: "
	    "\"+819000000001\"}}\n", NULL, 0), -1);
	assert_true(diags_have(&d, "unknown channel \"sms\""));
	diag_free(&d);
}

/* The same id in both groups with the same details is one person. */
static void
test_both_groups_merge(void **state)
{
	struct roster r;
	struct diags d = {0};
	const struct member *m;
	const struct shelter *sh;

	(void)state;
	assert_int_equal(load(&r, &d, BAD "both_crisis.yaml",
	    BAD "both_shelters.yaml", NULL), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(r.nmembers, 5);
	assert_int_equal(roster_group_count(&r, 0), 3);
	assert_int_equal(roster_group_count(&r, 1), 3);
	assert_non_null(m = roster_find(&r, "hirano"));
	assert_int_equal(m->order, 1);		/* the first file's place */
	assert_ptr_equal(m, &r.members[1]);
	assert_int_equal(m->groups, 3);
	assert_string_equal(m->shelter, "hs01");
	assert_string_equal(m->login, "keiko");
	assert_int_equal(m->roles, ROLE_SENDER);	/* joined */
	assert_string_equal(r.members[3].id, "hs01-1");
	assert_string_equal(r.members[4].id, "fv01-1");
	assert_non_null(sh = roster_shelter(&r, "hs01"));
	assert_int_equal(sh->nstaff, 2);
	assert_int_equal(sh->staff[0], 3);
	assert_int_equal(sh->staff[1], 1);
	roster_free(&r);
	diag_free(&d);
}

static void expect_audience(const struct roster *r, const char *a,
    size_t want);

/*
 * Large rosters: every lookup goes through the hash indexes, so they are
 * checked on thousands of entries, on misses, and after the roster has
 * been moved by value as the daemon's reload does.
 */
#define BIG_MEMBERS	3000
#define BIG_SHELTERS	500

/*
 * A crisis roster of n members m0000..: member i is on line 4 + i, its id
 * at column 10 and its login (u0000.., every member) at column 24. When
 * dup_id, one more line repeats m0000's id; when dup_login, one more line
 * (after that) gives a new member m1's login u0001.
 */
static char *
big_crisis(size_t n, bool dup_id, bool dup_login)
{
	struct buf b = {0};

	buf_adds(&b, "group: big\ntitle: 大きな組織\nmembers:\n");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "  - {id: m%04zu, login: u%04zu, name: 職員 %04zu, "
		    "title: 主事, contacts: {lineworks: m%04zu@t.example}}\n",
		    i, i, i, i);
	if (dup_id)
		buf_adds(&b, "  - {id: m0000, name: 別人 甲, title: 主事, "
		    "contacts: {lineworks: x@t.example}}\n");
	if (dup_login)
		buf_adds(&b, "  - {id: extra, login: u0001, name: 別人 乙, title: "
		    "主事, contacts: {lineworks: y@t.example}}\n");
	return buf_take(&b);
}

/* n shelters s000.. of two staff each, s000-a and s000-b, six lines a
 * shelter; when dup, one more repeats s000's id, on line 4 + 6n at column
 * 9. Every fifth shelter (s000, s005, ...) is a fever shelter. */
static char *
big_shelters(size_t n, bool dup)
{
	struct buf b = {0};

	buf_adds(&b, "group: shelter\ntitle: 避難所\nshelters:\n");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "  - id: s%03zu\n    name: 避難所 %03zu\n"
		    "    kind: %s\n    staff:\n"
		    "      - {id: s%03zu-a, name: 職員 甲, title: 主事, contacts: "
		    "{ntfy: s%03zu-a}}\n"
		    "      - {id: s%03zu-b, name: 職員 乙, title: 主事, contacts: "
		    "{ntfy: s%03zu-b}}\n", i, i, i % 5 == 0 ? "fever" :
		    "designated", i, i, i, i);
	if (dup)
		buf_adds(&b, "  - id: s000\n    name: 重複\n    kind: fever\n"
		    "    staff:\n      - {id: z, name: 職員 丙, title: 主事, "
		    "contacts: {ntfy: z}}\n");
	return buf_take(&b);
}

/* Loads two texts as two roster files; the caller frees the paths. */
static int
load_two(struct roster *r, struct diags *d, const char *a, const char *b,
    char *paths[2])
{
	paths[0] = tmp_roster(a);
	paths[1] = tmp_roster(b);
	return roster_load(r, paths, 2, offline, nitems(offline), d);
}

static void
drop_two(char *paths[2])
{
	for (size_t i = 0; i < 2; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
}

static void
test_big_lookups(void **state)
{
	struct roster r, moved;
	struct diags d = {0};
	char *a = big_crisis(BIG_MEMBERS, false, false);
	char *b = big_shelters(BIG_SHELTERS, false);
	char *paths[2], id[32];
	const struct member *m;
	const struct shelter *sh;
	size_t *idx, n;
	char err[256];

	(void)state;
	assert_int_equal(load_two(&r, &d, a, b, paths), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(r.nmembers, BIG_MEMBERS + 2 * BIG_SHELTERS);
	assert_int_equal(r.nshelters, BIG_SHELTERS);
	for (size_t i = 0; i < BIG_MEMBERS; i++) {
		snprintf(id, sizeof(id), "m%04zu", i);
		assert_non_null(m = roster_find(&r, id));
		assert_ptr_equal(m, &r.members[i]);
		assert_string_equal(m->id, id);
		snprintf(id, sizeof(id), "u%04zu", i);
		assert_ptr_equal(roster_find_login(&r, id), &r.members[i]);
	}
	for (size_t i = 0; i < BIG_SHELTERS; i++) {
		snprintf(id, sizeof(id), "s%03zu", i);
		assert_non_null(sh = roster_shelter(&r, id));
		assert_ptr_equal(sh, &r.shelters[i]);
		assert_int_equal(sh->nstaff, 2);
		assert_int_equal(sh->staff[0], BIG_MEMBERS + 2 * i);
		assert_int_equal(sh->staff[1], BIG_MEMBERS + 2 * i + 1);
		snprintf(id, sizeof(id), "s%03zu-b", i);
		assert_ptr_equal(roster_find(&r, id),
		    &r.members[BIG_MEMBERS + 2 * i + 1]);
		assert_string_equal(r.members[BIG_MEMBERS + 2 * i].shelter,
		    sh->id);
	}
	/* Misses: absent, empty, a prefix, another case, another kind. */
	assert_null(roster_find(&r, "m3000"));
	assert_null(roster_find(&r, ""));
	assert_null(roster_find(&r, "m000"));
	assert_null(roster_find(&r, "M0001"));
	assert_null(roster_find(&r, "u0001"));
	assert_null(roster_find_login(&r, "m0001"));
	assert_null(roster_find_login(&r, ""));
	assert_null(roster_shelter(&r, "s500"));
	assert_null(roster_shelter(&r, "m0001"));

	assert_int_equal(roster_audience(&r, "member:m2999,m0000+shelter:"
	    "s499", &idx, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], BIG_MEMBERS - 1);
	assert_int_equal(idx[2], BIG_MEMBERS + 2 * (BIG_SHELTERS - 1));
	free(idx);
	expect_audience(&r, "kind:fever", 2 * BIG_SHELTERS / 5);
	expect_audience(&r, "big+shelter", BIG_MEMBERS + 2 * BIG_SHELTERS);

	/* Moved by value, as the daemon swaps in a reloaded roster. */
	moved = r;
	memset(&r, 0, sizeof(r));
	assert_ptr_equal(roster_find(&moved, "m1234"), &moved.members[1234]);
	assert_ptr_equal(roster_find_login(&moved, "u2999"),
	    &moved.members[2999]);
	assert_ptr_equal(roster_shelter(&moved, "s250"), &moved.shelters[250]);
	assert_null(roster_find(&r, "m1234"));
	assert_null(roster_find_login(&r, "u2999"));
	assert_null(roster_shelter(&r, "s250"));
	roster_free(&moved);
	assert_null(roster_find(&moved, "m1234"));

	drop_two(paths);
	free(a);
	free(b);
	diag_free(&d);
}

/* Duplicates far from the first place are found, at the same positions. */
static void
test_big_duplicates(void **state)
{
	struct roster r;
	struct diags d = {0};
	char *a = big_crisis(BIG_MEMBERS, true, true);
	char *b = big_shelters(BIG_SHELTERS, true);
	char *paths[2], want[512];

	(void)state;
	assert_int_equal(load_two(&r, &d, a, b, paths), -1);
	assert_int_equal(diag_errors(&d), 3);
	snprintf(want, sizeof(want), "%s:%d:10: duplicate member id \"m0000\" "
	    "(first at %s:4:10)", paths[0], 4 + BIG_MEMBERS, paths[0]);
	expect_diag(&d, want);
	snprintf(want, sizeof(want), "%s:%d:24: login \"u0001\" is already used "
	    "by member \"m0001\" at %s:5:24", paths[0], 5 + BIG_MEMBERS,
	    paths[0]);
	expect_diag(&d, want);
	snprintf(want, sizeof(want), "%s:%d:9: duplicate shelter id \"s000\" "
	    "(first at %s:4:9)", paths[1], 4 + 6 * BIG_SHELTERS, paths[1]);
	expect_diag(&d, want);
	assert_int_equal(r.nmembers, 0);
	assert_null(r.priv);
	drop_two(paths);
	free(a);
	free(b);
	diag_free(&d);
}

/*
 * One login on three members, the first of them given it in the second
 * file: each later holder's error names the first member in roster
 * order that has it by then.
 */
static void
test_login_first_holder(void **state)
{
	static const char a[] =
	    "group: a\ntitle: t\nmembers:\n"
	    "  - {id: p, name: 甲 乙, title: 主事, contacts: {ntfy: p}}\n"
	    "  - {id: q, login: x, name: 甲 丙, title: 主事, contacts: "
	    "{ntfy: q}}\n";
	static const char b[] =
	    "group: b\ntitle: t\nmembers:\n"
	    "  - {id: p, login: x, name: 甲 乙, title: 主事, contacts: "
	    "{ntfy: p}}\n"
	    "  - {id: s, login: x, name: 甲 丁, title: 主事, contacts: "
	    "{ntfy: s}}\n";
	struct roster r;
	struct diags d = {0};
	char *paths[2], want[512];

	(void)state;
	assert_int_equal(load_two(&r, &d, a, b, paths), -1);
	assert_int_equal(diag_errors(&d), 2);
	snprintf(want, sizeof(want), "%s:4:20: login \"x\" is already used by "
	    "member \"q\" at %s:5:20", paths[1], paths[0]);
	expect_diag(&d, want);
	snprintf(want, sizeof(want), "%s:5:20: login \"x\" is already used by "
	    "member \"p\" at %s:4:20", paths[1], paths[1]);
	expect_diag(&d, want);
	drop_two(paths);
	diag_free(&d);
}

/* Resolves audience a; checks count n and ascending, distinct indexes. */
static void
expect_audience(const struct roster *r, const char *a, size_t want)
{
	size_t *idx, n;
	char err[256];

	if (roster_audience(r, a, &idx, &n, err, sizeof(err)) != 0)
		fail_msg("audience \"%s\": %s", a, err);
	assert_int_equal(n, want);
	for (size_t i = 1; i < n; i++)
		assert_true(idx[i - 1] < idx[i]);
	free(idx);
}

/* Expects audience a to fail with exactly want (or any message if NULL). */
static void
expect_audience_error(const struct roster *r, const char *a,
    const char *want)
{
	size_t *idx = (size_t *)1, n = 99;
	char err[256];

	assert_int_equal(roster_audience(r, a, &idx, &n, err, sizeof(err)),
	    -1);
	assert_null(idx);
	assert_int_equal(n, 0);
	assert_true(err[0] != '\0');
	assert_true(utf8_valid(err, strlen(err)));
	if (want != NULL)
		assert_string_equal(err, want);
}

static void
test_audience(void **state)
{
	struct roster r;
	struct diags d = {0};
	size_t *idx, n;
	char err[256];

	(void)state;
	assert_int_equal(load(&r, &d, CRISIS, SHELTERS, NULL), 0);
	expect_audience(&r, "crisis", 38);
	expect_audience(&r, "shelter", 56);
	expect_audience(&r, "shelter:hs01,hs03", 8);
	expect_audience(&r, "kind:fever", 16);
	expect_audience(&r, "kind:designated", 40);
	expect_audience(&r, "kind:designated,fever", 56);
	expect_audience(&r, "crisis+shelter", 94);
	expect_audience(&r, "crisis+crisis+kind:fever", 54);
	expect_audience(&r, "member:mayor,mayor", 1);
	expect_audience(&r, " crisis + shelter: hs01 , hs02 ", 46);
	expect_audience(&r, "shelter:hs01+member:mayor+shelter:hs01", 5);

	/* Roster order, whatever order the audience names them in. */
	assert_int_equal(roster_audience(&r, "shelter:hs02+member:"
	    "kiki_shitsucho,mayor", &idx, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 6);
	assert_string_equal(r.members[idx[0]].id, "mayor");
	assert_string_equal(r.members[idx[1]].id, "kiki_shitsucho");
	assert_string_equal(r.members[idx[2]].id, "hs02-1");
	assert_string_equal(r.members[idx[5]].id, "hs02-4");
	free(idx);
	roster_free(&r);
	diag_free(&d);
}

static void
test_audience_both_groups(void **state)
{
	struct roster r;
	struct diags d = {0};
	size_t *idx, n;
	char err[256];

	(void)state;
	assert_int_equal(load(&r, &d, BAD "both_crisis.yaml",
	    BAD "both_shelters.yaml", NULL), 0);
	expect_audience(&r, "crisis", 3);
	expect_audience(&r, "shelter", 3);
	expect_audience(&r, "crisis+shelter", 5);	/* hirano once */
	expect_audience(&r, "shelter:hs01+member:hirano", 2);
	assert_int_equal(roster_audience(&r, "kind:designated+crisis", &idx,
	    &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_string_equal(r.members[idx[1]].id, "hirano");
	assert_string_equal(r.members[idx[3]].id, "hs01-1");
	free(idx);
	roster_free(&r);
	diag_free(&d);
}

static void
test_audience_errors(void **state)
{
	struct roster r;
	struct diags d = {0};
	char *big, small[12];
	size_t *idx, n;

	(void)state;
	assert_int_equal(load(&r, &d, CRISIS, SHELTERS, NULL), 0);
	expect_audience_error(&r, "", "宛先が空です");
	expect_audience_error(&r, "   ", "宛先が空です");
	expect_audience_error(&r, NULL, "宛先が空です");
	expect_audience_error(&r, "+", "宛先「+」に空の項目があります"
	    "（+ の前後に指定が必要です）");
	expect_audience_error(&r, "crisis+", NULL);
	expect_audience_error(&r, "crisis++shelter", NULL);
	expect_audience_error(&r, "shelter:",
	    "宛先「shelter:」の後に名前がありません");
	expect_audience_error(&r, "member:,", "宛先「member:」に空の名前があります");
	expect_audience_error(&r, "shelter:hs01,,hs02", NULL);
	expect_audience_error(&r, "shelter:hs99",
	    "宛先の避難所「hs99」は名簿にありません");
	expect_audience_error(&r, "shelter:hs01,hs99",
	    "宛先の避難所「hs99」は名簿にありません");
	expect_audience_error(&r, "kind:xyz", "宛先の避難所の種別「xyz」は不明"
	    "です（designated または fever）");
	expect_audience_error(&r, "nosuch",
	    "宛先のグループ「nosuch」は名簿にありません");
	expect_audience_error(&r, "member:mayor,nobody",
	    "宛先の職員「nobody」は名簿にありません");
	expect_audience_error(&r, "group:crisis", "宛先の指定「group:」は使えません"
	    "（shelter:、kind:、member: のいずれかです）");
	expect_audience_error(&r, ":", NULL);
	expect_audience_error(&r, "crisis,shelter", NULL);
	expect_audience_error(&r, "shelter:hs01:hs02", NULL);
	expect_audience_error(&r, "宛先", "宛先のグループ「宛先」は名簿にありません");
	expect_audience_error(&r, "bad\nname",
	    "宛先のグループ「bad?name」は名簿にありません");
	expect_audience_error(&r, "\xff\xfe", NULL);

	/* Over the limit. */
	big = xmalloc(ROSTER_AUDIENCE_MAX + 2);
	memset(big, 'a', ROSTER_AUDIENCE_MAX + 1);
	big[ROSTER_AUDIENCE_MAX + 1] = '\0';
	expect_audience_error(&r, big, "宛先が長すぎます（4096 バイトまで）");
	/* Under the limit: the echoed name is cut, with an ellipsis. */
	big[ROSTER_AUDIENCE_MAX] = '\0';
	expect_audience_error(&r, big, "宛先のグループ「aaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…」は名簿にありません");
	/* Many valid terms up to the limit are fine. */
	for (size_t i = 0; i + 7 <= ROSTER_AUDIENCE_MAX; i += 7)
		memcpy(big + i, "crisis+", 7);
	big[ROSTER_AUDIENCE_MAX - ROSTER_AUDIENCE_MAX % 7 - 1] = '\0';
	expect_audience(&r, big, 38);
	/* A long multibyte name is cut on a character boundary. */
	big[0] = '\0';
	for (size_t i = 0; i < 300; i++)
		strcat(big, "避");
	expect_audience_error(&r, big, NULL);
	free(big);

	/* A small or absent error buffer never overflows or splits UTF-8. */
	assert_int_equal(roster_audience(&r, "shelter:hs99", &idx, &n, small,
	    sizeof(small)), -1);
	assert_string_equal(small, "宛先の");	/* 9 bytes; 避 would not fit */
	assert_int_equal(roster_audience(&r, "nosuch", &idx, &n, NULL, 0), -1);
	roster_free(&r);
	diag_free(&d);
}

/* Nobody at all is an error, and so is every audience on an empty roster. */
static void
test_audience_nobody(void **state)
{
	struct roster r;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_text(&r, &d, "group: g\ntitle: t\nmembers: []\n",
	    offline, nitems(offline)), 0);
	expect_audience_error(&r, "g", "宛先「g」に該当する職員がいません");
	expect_audience_error(&r, "kind:fever",
	    "宛先「kind:fever」に該当する職員がいません");
	expect_audience_error(&r, "shelter", NULL);
	roster_free(&r);
	diag_free(&d);
	memset(&r, 0, sizeof(r));
	expect_audience_error(&r, "crisis", NULL);
}

/* The next channel in preference order that the member can be reached on;
 * a channel they lack is skipped; nothing after the last. */
static void
test_next_contact(void **state)
{
	struct contact c[] = {
		{ "sms", "+819000000001" }, { "lineworks", "a@town.example" },
		{ "email", "a@town.example" },
	};
	struct member m = { .contacts = c, .ncontacts = 3 };
	char *order[] = { "lineworks", "ntfy", "sms", "email" };

	(void)state;
	assert_ptr_equal(member_next_contact(&m, order, 4, "lineworks"), &c[0]);
	assert_ptr_equal(member_next_contact(&m, order, 4, "ntfy"), &c[0]);
	assert_ptr_equal(member_next_contact(&m, order, 4, "sms"), &c[2]);
	assert_null(member_next_contact(&m, order, 4, "email"));
	assert_null(member_next_contact(&m, order, 4, "fax"));
	assert_null(member_next_contact(&m, order, 0, "sms"));
	assert_ptr_equal(member_contact(&m, "email"), &c[2]);
	assert_null(member_contact(&m, "ntfy"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_counts),
		cmocka_unit_test(test_sample_titles),
		cmocka_unit_test(test_sample_roles),
		cmocka_unit_test(test_sample_shelters),
		cmocka_unit_test(test_bad_duplicate_id),
		cmocka_unit_test(test_bad_phone),
		cmocka_unit_test(test_bad_yaml),
		cmocka_unit_test(test_bad_role),
		cmocka_unit_test(test_bad_channel),
		cmocka_unit_test(test_bad_no_contacts),
		cmocka_unit_test(test_bad_kind),
		cmocka_unit_test(test_bad_duplicate_login),
		cmocka_unit_test(test_bad_conflict_two_files),
		cmocka_unit_test(test_bad_conflict_missing_title),
		cmocka_unit_test(test_bad_duplicate_group),
		cmocka_unit_test(test_bad_every_problem),
		cmocka_unit_test(test_bad_shelters),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_channel_types),
		cmocka_unit_test(test_both_groups_merge),
		cmocka_unit_test(test_audience),
		cmocka_unit_test(test_audience_both_groups),
		cmocka_unit_test(test_audience_errors),
		cmocka_unit_test(test_audience_nobody),
		cmocka_unit_test(test_big_lookups),
		cmocka_unit_test(test_big_duplicates),
		cmocka_unit_test(test_login_first_holder),
		cmocka_unit_test(test_next_contact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
