/*
 * test_config.c: lib/config.c against tests/data/config: every field and
 * default of a good configuration, one bad file per kind of mistake (each
 * error cites file:line:column), and config_print.
 *
 * Must never: derive an expected value with the code under test. Every
 * line:column below was counted in the fixture files. Runs from the top
 * of the source tree.
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

#include "config.h"
#include "testutil.h"

#define DIR	"tests/data/config/"


/* Loads a bad file: -1, an emptied config, exactly nerrors errors, want. */
static void
expect_bad(const char *path, const char *want, size_t nerrors)
{
	struct config c;
	struct diags d = {0};

	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(config_load(path, &c, &d), -1);
	assert_null(c.root);
	assert_null(c.organization);
	assert_int_equal(c.ntransports, 0);
	expect_diag(&d, want);
	if (diag_errors(&d) != nerrors) {
		for (size_t i = 0; i < d.n; i++)
			print_message("have: %s\n", d.msgs[i]);
		fail_msg("%zu errors, want %zu", diag_errors(&d), nerrors);
	}
	diag_free(&d);
}

static void
test_good(void **state)
{
	struct config c;
	struct diags d = {0};
	const struct transport_conf *t;

	(void)state;
	assert_int_equal(config_load(DIR "good.yaml", &c, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(c.path, DIR "good.yaml");
	assert_string_equal(c.dir, "tests/data/config");
	assert_non_null(c.root);
	assert_string_equal(c.organization, "安平町役場");
	/* Trailing slashes go. */
	assert_string_equal(c.public_url, "https://alert.town.example/cc");
	assert_int_equal(c.nlisten, 2);
	assert_string_equal(c.listen[0].address, "127.0.0.1:8080");
	assert_null(c.listen[0].tls_cert);
	assert_null(c.listen[0].tls_key);
	assert_string_equal(c.listen[1].address, "[::1]:8443");
	assert_string_equal(c.listen[1].tls_cert,
	    "tests/data/config/tls/cert.pem");
	assert_string_equal(c.listen[1].tls_key, "/etc/ssl/private/key.pem");
	assert_string_equal(c.control_socket,
	    "tests/data/config/run/control.sock");
	assert_string_equal(c.state_dir, "/var/lib/crisiscast-test");
	assert_int_equal(c.nrosters, 2);
	assert_string_equal(c.rosters[0],
	    "tests/data/config/rosters/crisis.yaml");
	assert_string_equal(c.rosters[1], "/srv/rosters/shelters.yaml");
	assert_string_equal(c.rules_dir, "tests/data/config/../rules");
	assert_string_equal(c.templates_dir, "/usr/share/crisiscast/templates");

	assert_int_equal(c.approval.napprovers, 2);
	assert_string_equal(c.approval.approvers[0], "mayor");
	assert_string_equal(c.approval.approvers[1], "deputy_mayor");
	assert_int_equal(c.approval.step_timeout, 300);
	assert_int_equal(c.approval.link_ttl, 5400);
	assert_int_equal(c.approval.nchannels, 2);
	assert_string_equal(c.approval.channels[0], "lineworks");
	assert_string_equal(c.approval.channels[1], "sms");

	assert_int_equal(c.delivery.nchannels, 4);
	assert_string_equal(c.delivery.channels[0], "lineworks");
	assert_string_equal(c.delivery.channels[3], "ntfy");
	assert_int_equal(c.delivery.ack_deadline, 900);
	assert_int_equal(c.delivery.renotify_max, 5);
	assert_int_equal(c.delivery.failover_after, 90);
	assert_int_equal(c.audit_retention_days, 3650);
	assert_int_equal(c.max_accounts, 300);

	assert_int_equal(c.ntransports, 4);
	assert_string_equal(c.transports[0].channel, "lineworks");
	assert_string_equal(c.transports[3].channel, "ntfy");
	for (size_t i = 0; i < c.ntransports; i++)
		assert_string_equal(c.transports[i].type, "file");
	assert_non_null(t = config_transport(&c, "email"));
	assert_ptr_equal(t, &c.transports[2]);
	assert_int_equal(t->node->type, Y_MAP);
	assert_string_equal(ymap_get(t->node, "path")->str,
	    "outbox/email #1.jsonl");
	assert_int_equal(t->node->line, 32);	/* settings keep positions */
	assert_null(config_transport(&c, "fax"));
	assert_null(config_transport(&c, ""));

	char *p = config_path(&c, "x/y");
	assert_string_equal(p, "tests/data/config/x/y");
	free(p);
	p = config_path(&c, "/abs");
	assert_string_equal(p, "/abs");
	free(p);

	config_free(&c);
	assert_null(c.root);
	assert_int_equal(c.ntransports, 0);
	config_free(&c);	/* twice is harmless */
	diag_free(&d);
}

static void
test_defaults(void **state)
{
	struct config c;
	struct diags d = {0};

	(void)state;
	assert_int_equal(config_load(DIR "minimal.yaml", &c, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(c.public_url, "http://127.0.0.1:8080");
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(c.listen[0].address, "127.0.0.1:8080");
	assert_null(c.listen[0].tls_cert);
	assert_string_equal(c.control_socket, "/run/crisiscast/control.sock");
	assert_string_equal(c.state_dir, "/var/lib/crisiscast");
	/* A lone value is a one-item list. */
	assert_int_equal(c.nrosters, 1);
	assert_string_equal(c.rosters[0], "tests/data/config/crisis.yaml");
	assert_int_equal(c.approval.napprovers, 1);
	assert_string_equal(c.approval.approvers[0], "mayor");
	assert_string_equal(c.rules_dir, "tests/data/config/rules");
	assert_string_equal(c.templates_dir, "tests/data/config/templates");
	assert_int_equal(c.approval.step_timeout, 10 * 60);
	assert_int_equal(c.approval.link_ttl, 30 * 60);
	assert_int_equal(c.delivery.ack_deadline, 10 * 60);
	assert_int_equal(c.delivery.renotify_max, 3);
	assert_int_equal(c.delivery.failover_after, 60);
	assert_int_equal(c.audit_retention_days, 5 * 365);
	assert_int_equal(c.max_accounts, 100);
	config_free(&c);
}

static void
test_bad_files(void **state)
{
	(void)state;
	expect_bad(DIR "unknown_key.yaml", DIR "unknown_key.yaml:12:1: unknown "
	    "key \"colour\" in the configuration", 1);
	expect_bad(DIR "no_organization.yaml", DIR "no_organization.yaml:2:1: "
	    "missing \"organization\"", 1);
	expect_bad(DIR "bad_url.yaml", DIR "bad_url.yaml:3:13: public_url must "
	    "be an http:// or https:// URL with a host and no query, not "
	    "\"ftp://town.example/alerts\"", 1);
	expect_bad(DIR "bad_listen.yaml", DIR "bad_listen.yaml:14:14: listen "
	    "address \"localhost\" must be host:port", 1);
	expect_bad(DIR "bad_duration.yaml", DIR "bad_duration.yaml:7:17: "
	    "\"step_timeout\" must be a duration such as 90s, 10m or 1h, not "
	    "\"10 minutes\"", 1);
	expect_bad(DIR "approval_channel.yaml", DIR "approval_channel.yaml:7:19: "
	    "channel \"fax\" is not a transport under \"transports\"", 1);
	expect_bad(DIR "dup_channel.yaml", DIR "dup_channel.yaml:9:26: channel "
	    "\"sms\" is listed twice", 1);
	expect_bad(DIR "renotify.yaml", DIR "renotify.yaml:9:17: "
	    "\"renotify_max\" must be a whole number from 0 to 10, not \"11\"",
	    1);
	expect_bad(DIR "link_ttl.yaml", DIR "link_ttl.yaml:6:3: link_ttl (300s) "
	    "is shorter than step_timeout (600s): the next approver would never "
	    "be asked", 1);

	struct config c;
	struct diags d = {0};
	assert_int_equal(config_load(DIR "broken.yaml", &c, &d), -1);
	assert_int_equal(d.n, 1);
	assert_true(startswith(d.msgs[0], DIR "broken.yaml:8:9: YAML syntax "
	    "error: "));
	diag_free(&d);
	assert_int_equal(config_load(DIR "no-such.yaml", &c, &d), -1);
	expect_diag(&d, DIR "no-such.yaml: cannot read: No such file or "
	    "directory");
	diag_free(&d);
}

/* Writes text to a fresh file under /tmp; the caller unlinks and frees. */
static char *
tmp_config(const char *text)
{
	char *path = xstrdup("/tmp/test_config-XXXXXX.yaml");
	int fd = mkstemps(path, 5);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}


/* Loads minimal.yaml's keys with `extra` appended (a later key of the same
 * name is a duplicate, so extra only adds keys). Expects every needle. */
static void
expect_text_bad(const char *text, const char *const needles[], size_t n)
{
	struct config c;
	struct diags d = {0};
	char *path = tmp_config(text);

	assert_int_equal(config_load(path, &c, &d), -1);
	for (size_t i = 0; i < n; i++)
		if (!diags_have(&d, needles[i])) {
			for (size_t j = 0; j < d.n; j++)
				print_message("have: %s\n", d.msgs[j]);
			fail_msg("missing: %s", needles[i]);
		}
	/* Every error names the file and a position. */
	for (size_t i = 0; i < d.n; i++) {
		assert_true(startswith(d.msgs[i], path));
		assert_true(d.msgs[i][strlen(path)] == ':');
	}
	diag_free(&d);
	unlink(path);
	free(path);
}

#define HEAD "organization: 町\npublic_url: https://a.example\n" \
	"rosters: r.yaml\n"
#define APPR "approval: {approvers: mayor, channels: [sms]}\n"
#define DELI "delivery: {channels: [sms]}\n"
#define TRAN "transports: {sms: {type: file}}\n"

static void
test_bad_inline(void **state)
{
	(void)state;
	{
		static const char *const w[] = { ":1:1: missing \"transports\"" };
		expect_text_bad(HEAD APPR DELI, w, 1);
	}
	{
		static const char *const w[] = {
			":1:1: missing \"public_url\"",
			":1:1: missing \"rosters\"",
			":1:1: missing \"approval\"",
			":1:1: missing \"delivery\"",
		};
		expect_text_bad("organization: 町\n" TRAN, w, nitems(w));
	}
	{
		static const char *const w[] = {
			":8:3: channel name \"SMS\" must be lowercase",
			":9:6: transport \"x\" must be a map",
			":10:6: missing \"type\"",
		};
		expect_text_bad(HEAD APPR DELI "transports:\n  sms: {type: file}\n"
		    "  SMS: {type: file}\n  x: file\n  y: {path: p}\n", w,
		    nitems(w));
	}
	{
		static const char *const w[] = {
			"\"listen\" must be a list",
		};
		expect_text_bad(HEAD APPR DELI TRAN "listen: 127.0.0.1:80\n", w,
		    1);
	}
	{
		static const char *const w[] = {
			":8:5: tls_cert and tls_key go together",
			":9:14: listen address \"1.2.3.4:0\" must be host:port",
			":10:14: listen address \"1.2.3.4:65536\" must be",
			":11:14: listen address \":80\" must be",
			":12:14: listen address \"a b:80\" must be",
			":13:14: listen address \"[]:80\" must be",
			":14:14: listen address \"1.2.3.4:http\" must be",
			":15:5: unknown key \"port\" in a listen entry",
		};
		expect_text_bad(HEAD APPR DELI TRAN "listen:\n"
		    "  - {address: \"1.2.3.4:80\", tls_cert: c.pem}\n"
		    "  - address: \"1.2.3.4:0\"\n"
		    "  - address: \"1.2.3.4:65536\"\n"
		    "  - address: \":80\"\n"
		    "  - address: \"a b:80\"\n"
		    "  - address: \"[]:80\"\n"
		    "  - address: \"1.2.3.4:http\"\n"
		    "  - port: 80\n", w, nitems(w));
	}
	{
		static const char *const w[] = {
			":2:13: public_url must be",
		};
		expect_text_bad("organization: 町\npublic_url: "
		    "https://a.example/?q=1\nrosters: r\n" APPR DELI TRAN, w, 1);
		expect_text_bad("organization: 町\npublic_url: https://\n"
		    "rosters: r\n" APPR DELI TRAN, w, 1);
		expect_text_bad("organization: 町\npublic_url: "
		    "\"https://a.example/a b\"\nrosters: r\n" APPR DELI TRAN,
		    w, 1);
		expect_text_bad("organization: 町\npublic_url: "
		    "https://a.example/#x\nrosters: r\n" APPR DELI TRAN, w, 1);
	}
	{
		static const char *const w[] = {
			":3:10: \"rosters\" needs at least one file",
			":4:23: \"approvers\" needs at least one member id",
			":4:37: \"channels\" needs at least one channel",
			":5:22: channel \"fax\" is not a transport",
		};
		expect_text_bad("organization: 町\npublic_url: https://a.example\n"
		    "rosters: []\napproval: {approvers: [], channels: []}\n"
		    "delivery: {channels: fax}\n" TRAN, w, nitems(w));
	}
	{
		static const char *const w[] = {
			":4:11: approval must be a map, not a list",
			":5:11: delivery must be a map, not a value",
			":6:8: audit must be a map",
		};
		expect_text_bad(HEAD "approval: [mayor]\ndelivery: sms\n"
		    "audit: 5\n" TRAN, w, nitems(w));
	}
	{
		static const char *const w[] = {
			":4:25: \"retention_days\" must be a whole number from 1 to",
			":5:25: \"lineworks_max_accounts\" must be a whole number",
			":6:12: unknown key \"colour\" in approval",
			":7:43: \"ack_deadline\" must be a duration",
			":7:63: \"failover_after\" must be a duration such as "
			    "90s, 10m or 1h, not \"soon\"",
		};
		expect_text_bad(HEAD "audit: {retention_days: 0}\n"
		    "lineworks_max_accounts: 0\n"
		    "approval: {colour: red, approvers: mayor, channels: [sms]}\n"
		    "delivery: {channels: [sms], ack_deadline: 0s, "
		    "failover_after: soon}\n" TRAN, w, nitems(w));
	}
	{
		static const char *const w[] = {
			":5:45: \"failover_after\" must be a duration",
		};
		expect_text_bad(HEAD APPR "delivery: {channels: [sms], "
		    "failover_after: -5s}\n" TRAN, w, nitems(w));
	}
	{
		static const char *const w[] = {
			"the configuration must be a map, not a list",
		};
		expect_text_bad("- a\n- b\n", w, 1);
	}
	{
		static const char *const w[] = { "missing \"organization\"" };
		expect_text_bad("", w, 1);
	}
	{
		static const char *const w[] = {
			":5:1: duplicate key \"organization\"",
		};
		expect_text_bad(HEAD APPR "organization: again\n" DELI TRAN, w,
		    1);
	}
}

/* board: token_file and loopback_trusted (default true); false needs a
 * token; -nv prints the section only when it is set. */
static void
test_board(void **state)
{
	struct config c;
	struct diags d = {0};
	struct buf out = {0};
	char *path = tmp_config(HEAD APPR DELI TRAN);

	(void)state;
	assert_int_equal(config_load(path, &c, &d), 0);
	assert_true(c.board.loopback_trusted);
	assert_null(c.board.token_file);
	config_print(&c, &out);
	assert_null(strstr(out.data, "board"));
	buf_free(&out);
	config_free(&c);
	unlink(path);
	free(path);

	path = tmp_config(HEAD APPR DELI TRAN
	    "board: {token_file: b.token, loopback_trusted: false}\n");
	assert_int_equal(config_load(path, &c, &d), 0);
	assert_false(c.board.loopback_trusted);
	assert_string_equal(c.board.token_file, "b.token");
	config_print(&c, &out);
	assert_non_null(strstr(out.data, "board:\n  token_file: b.token\n"
	    "  loopback_trusted: false\n"));
	buf_free(&out);
	config_free(&c);
	unlink(path);
	free(path);
	diag_free(&d);
	{
		static const char *const w[] = {
			"loopback_trusted: false needs a token_file" };
		expect_text_bad(HEAD APPR DELI TRAN
		    "board: {loopback_trusted: false}\n", w, 1);
	}
	{
		static const char *const w[] = { "token" };
		expect_text_bad(HEAD APPR DELI TRAN
		    "board: {tokenfile: x}\n", w, 1);
	}
}

static void
test_print(void **state)
{
	struct config c;
	struct diags d = {0};
	struct buf a = {0}, b = {0};

	(void)state;
	assert_int_equal(config_load(DIR "good.yaml", &c, &d), 0);
	config_print(&c, &a);
	config_print(&c, &b);
	assert_int_equal(a.len, b.len);
	assert_string_equal(a.data, b.data);
	/* Normalized durations and resolved paths. */
	assert_non_null(strstr(a.data, "\n  step_timeout: 5m\n"));
	assert_non_null(strstr(a.data, "\n  link_ttl: 1h30m\n"));
	assert_non_null(strstr(a.data, "\n  ack_deadline: 15m\n"));
	assert_non_null(strstr(a.data, "\n  renotify_max: 5\n"));
	assert_non_null(strstr(a.data, "\n  failover_after: 1m30s\n"));
	assert_non_null(strstr(a.data, "\n  retention_days: 3650\n"));
	assert_non_null(strstr(a.data, "\nlineworks_max_accounts: 300\n"));
	assert_non_null(strstr(a.data, "organization: 安平町役場\n"));
	assert_non_null(strstr(a.data, "\npublic_url: "
	    "\"https://alert.town.example/cc\"\n"));
	assert_non_null(strstr(a.data, "\nrosters: [tests/data/config/rosters/"
	    "crisis.yaml, /srv/rosters/shelters.yaml]\n"));
	assert_non_null(strstr(a.data, "\n  - address: \"[::1]:8443\"\n"
	    "    tls_cert: tests/data/config/tls/cert.pem\n"
	    "    tls_key: /etc/ssl/private/key.pem\n"));
	assert_non_null(strstr(a.data, "\ntransports:\n  lineworks: {type: "
	    "file, path: outbox/lineworks.jsonl}\n"));
	assert_non_null(strstr(a.data, "\n  email: {type: file, path: "
	    "\"outbox/email #1.jsonl\"}\n"));
	/* Sections in a fixed order. */
	const char *order[] = { "organization:", "public_url:", "listen:",
		"control_socket:", "state_dir:", "rosters:", "rules_dir:",
		"templates_dir:", "approval:", "delivery:", "audit:",
		"lineworks_max_accounts:", "transports:" };
	const char *prev = a.data;
	for (size_t i = 0; i < nitems(order); i++) {
		const char *at = strstr(a.data, order[i]);
		assert_non_null(at);
		assert_true(at >= prev);
		prev = at;
	}
	buf_free(&a);
	buf_free(&b);
	config_free(&c);
}

/*
 * Golden file: what `crisiscastd -nv` prints for good.yaml, reviewed by
 * hand. After an intended change of the format, regenerate it with
 *   CRISISCAST_UPDATE_GOLDEN=1 build/tests/test_config
 * and review the diff before committing.
 */
#define GOLDEN	DIR "good.nv"

static void
test_print_golden(void **state)
{
	struct config c;
	struct diags d = {0};
	struct buf out = {0};
	char *want;
	size_t len;

	(void)state;
	assert_int_equal(config_load(DIR "good.yaml", &c, &d), 0);
	config_print(&c, &out);
	config_free(&c);
	if (getenv("CRISISCAST_UPDATE_GOLDEN") != NULL) {
		FILE *f = fopen(GOLDEN, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
		assert_int_equal(fclose(f), 0);
		print_message("wrote %s\n", GOLDEN);
	}
	want = read_file(GOLDEN, 1 << 20, &len);
	if (want == NULL)
		fail_msg("%s: missing (CRISISCAST_UPDATE_GOLDEN=1 writes it)",
		    GOLDEN);
	if (strcmp(want, out.data) != 0) {
		print_message("--- %s\n%s--- printed\n%s", GOLDEN, want,
		    out.data);
		fail_msg("config_print differs from %s", GOLDEN);
	}
	free(want);
	buf_free(&out);
}

/* What -nv prints loads back to the same configuration. Paths are
 * absolute here so the printed file may live anywhere. */
static void
test_print_reload(void **state)
{
	char dir[] = "/tmp/test_config-XXXXXX";
	struct config c;
	struct diags d = {0};
	struct buf text = {0}, a = {0}, b = {0};
	char *p1, *p2;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	buf_printf(&text, "organization: \"町 #1: 'x'\"\n"
	    "public_url: http://[2001:db8::1]:8080/cc\n"
	    "listen: [{address: \"[::]:443\", tls_cert: %s/c, tls_key: %s/k}]\n"
	    "control_socket: %s/s\nstate_dir: %s/st\nrosters: [%s/r]\n"
	    "rules_dir: %s/ru\ntemplates_dir: %s/t\n"
	    "approval: {approvers: [\"yes\", \"true\"], channels: [a-1, b_2]}\n"
	    "delivery: {channels: [b_2], ack_deadline: 3600}\n"
	    "transports:\n  a-1: {type: file, list: [1, \"-x\", {k: v}]}\n"
	    "  b_2: {type: webhook, url: \"https://h.example/x?y=1\", "
	    "note: \"tab\\there\"}\n", dir, dir, dir, dir, dir, dir, dir);
	p1 = xasprintf("%s/one.yaml", dir);
	p2 = xasprintf("%s/two.yaml", dir);
	assert_non_null(f = fopen(p1, "w"));
	fputs(text.data, f);
	fclose(f);
	if (config_load(p1, &c, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			print_message("have: %s\n", d.msgs[i]);
		fail();
	}
	config_print(&c, &a);
	config_free(&c);
	assert_non_null(f = fopen(p2, "w"));
	fputs(a.data, f);
	fclose(f);
	if (config_load(p2, &c, &d) != 0) {
		print_message("%s", a.data);
		for (size_t i = 0; i < d.n; i++)
			print_message("have: %s\n", d.msgs[i]);
		fail();
	}
	assert_string_equal(c.organization, "町 #1: 'x'");
	assert_string_equal(c.approval.approvers[0], "yes");
	assert_string_equal(ymap_get(config_transport(&c, "b_2")->node,
	    "note")->str, "tab\there");
	config_print(&c, &b);
	assert_string_equal(a.data, b.data);
	config_free(&c);
	diag_free(&d);
	buf_free(&text);
	buf_free(&a);
	buf_free(&b);
	unlink(p1);
	unlink(p2);
	free(p1);
	free(p2);
	assert_int_equal(rmdir(dir), 0);
}

/* Mutations of good.yaml (fixed seed) never crash: either a config and
 * no errors, or -1, an emptied config and at least one error. */
static void
test_garbage(void **state)
{
	static const char alphabet[] = ":-[]{},#&*!|>'\"%@ \n\tax0\xe3\x81\x82\xff";
	uint64_t seed = 20261121;
	size_t len;
	char *good = read_file(DIR "good.yaml", 1 << 16, &len);
	char *path = tmp_config("");

	(void)state;
	assert_non_null(good);
	for (int i = 0; i < 400; i++) {
		char *text = xstrndup(good, len);
		struct config c;
		struct diags d = {0};
		FILE *f;

		for (int k = 0; k < 4; k++) {
			seed = seed * 6364136223846793005ULL + 1;
			size_t at = (seed >> 33) % len;
			seed = seed * 6364136223846793005ULL + 1;
			text[at] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
		}
		assert_non_null(f = fopen(path, "w"));
		fwrite(text, 1, len, f);
		assert_int_equal(fclose(f), 0);
		if (config_load(path, &c, &d) == 0) {
			assert_int_equal(diag_errors(&d), 0);
			struct buf b = {0};
			config_print(&c, &b);
			assert_true(b.len > 0);
			buf_free(&b);
			config_free(&c);
		} else {
			assert_true(diag_errors(&d) >= 1);
			assert_null(c.root);
		}
		diag_free(&d);
		free(text);
	}
	unlink(path);
	free(path);
	free(good);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_bad_inline),
		cmocka_unit_test(test_board),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_print_golden),
		cmocka_unit_test(test_print_reload),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
