/*
 * crisisctl.c: the crisis office's command-line client. A table of verbs;
 * each builds one request, sends it over the control socket, and prints
 * the reply for people (Japanese labels, aligned columns) or, with --json,
 * the result object for scripts. It never opens the database.
 *
 * Exit codes: 0 done; 1 refused by a rule or by policy (every reason is
 * printed); 2 usage; 3 daemon unreachable.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "draft.h"
#include "proto.h"
#include "util.h"

#define DEFAULT_SOCKET	"/run/crisiscast/control.sock"
#define EXIT_UNREACHABLE 3
#define BODY_FILE_MAX	(DRAFT_BODY_MAX + 1)
#define REPLY_TIMEOUT	30

#ifndef CRISISCAST_VERSION
#define CRISISCAST_VERSION "0.1.0"
#endif

static const char *opt_socket;
static const char *opt_as;
static bool opt_json;

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static _Noreturn void
die_usage(const char *fmt, ...) PRINTFLIKE(1, 2);

static _Noreturn void
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("crisisctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(PROTO_USAGE);
}

/* Display width of UTF-8 text: East Asian wide characters take two. */
static size_t
text_width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned cp;
		int n;
		if (*p < 0x80) { cp = *p; n = 1; }
		else if ((*p & 0xe0) == 0xc0) { cp = *p & 0x1f; n = 2; }
		else if ((*p & 0xf0) == 0xe0) { cp = *p & 0x0f; n = 3; }
		else { cp = *p & 0x07; n = 4; }
		for (int i = 1; i < n && p[i]; i++)
			cp = cp << 6 | (p[i] & 0x3f);
		for (int i = 0; i < n && *p; i++)
			p++;
		w += (cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 &&
		    cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
		    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 &&
		    cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
		    (cp >= 0xffe0 && cp <= 0xffe6) || cp >= 0x20000)) ? 2 : 1;
	}
	return w;
}

/* A table printed with columns padded to their widest cell. */
struct table {
	size_t ncols, nrows;
	char **cells;		/* nrows * ncols */
};

static void
table_row(struct table *t, ...)
{
	va_list ap;

	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof(char *));
	va_start(ap, t);
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->nrows * t->ncols + c] = xstrdup(s ? s : "");
	}
	va_end(ap);
	t->nrows++;
}

static void
table_print(struct table *t)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t cw = text_width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			fputs(s, stdout);
			if (c + 1 < t->ncols)
				for (size_t k = text_width(s); k < w[c] + 2; k++)
					putchar(' ');
			free(t->cells[r * t->ncols + c]);
		}
		putchar('\n');
	}
	free(t->cells);
	free(w);
	t->cells = NULL;
	t->nrows = 0;
}

static int
connect_daemon(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = opt_socket;
	struct timeval tv = { REPLY_TIMEOUT, 0 };
	int fd;

	if (path == NULL)
		path = getenv("CRISISCAST_SOCKET");
	if (path == NULL)
		path = DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "crisiscast: ソケットのパスが長すぎます: %s\n",
		    path);
		exit(EXIT_UNREACHABLE);
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "crisisctl: crisiscastd に接続できません（%s: %s）"
		    "\n", path, strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/*
 * Sends one request and returns the reply (owned by the caller). Any
 * failure to talk to the daemon exits with EXIT_UNREACHABLE.
 */
static cJSON *
call(const char *cmd, cJSON *args)
{
	cJSON *req = proto_request(cmd, opt_as, args), *reply = NULL;
	struct buf out = {0}, in = {0};
	char chunk[65536], err[200];
	int fd = connect_daemon();
	size_t framelen, off = 0;

	if (proto_frame(req, &out) < 0)
		die_usage("要求が大きすぎます");
	cJSON_Delete(req);
	while (off < out.len) {
		ssize_t w = send(fd, out.data + off, out.len - off,
		    MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "crisisctl: 送信できません: %s\n",
			    strerror(errno));
			exit(EXIT_UNREACHABLE);
		}
		off += (size_t)w;
	}
	buf_free(&out);
	for (;;) {
		int rc = proto_parse((const uint8_t *)in.data, in.len,
		    &framelen, &reply, err, sizeof(err));
		if (rc == 1)
			break;
		if (rc < 0) {
			fprintf(stderr, "crisisctl: 応答が不正です: %s\n", err);
			exit(EXIT_UNREACHABLE);
		}
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "crisisctl: 応答がありません%s%s\n",
			    r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
			exit(EXIT_UNREACHABLE);
		}
		buf_add(&in, chunk, (size_t)r);
	}
	buf_free(&in);
	close(fd);
	return reply;
}

static const cJSON *
result_of(const cJSON *reply)
{
	return cJSON_GetObjectItemCaseSensitive(reply, "result");
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "2026-11-21T03:04:05+09:00" -> "11/21 03:04"; "" for null. */
static const char *
short_time(const cJSON *o, const char *key, char *out, size_t outsz)
{
	const char *s = str(o, key);
	if (strlen(s) < 16) {
		snprintf(out, outsz, "%s", "");
		return out;
	}
	snprintf(out, outsz, "%.2s/%.2s %.5s", s + 5, s + 8, s + 11);
	return out;
}

/*
 * Prints errors and warnings, or the JSON result, and turns the reply code
 * into the exit code. Returns -1 when the caller should print the result
 * for people (code 0, not --json).
 */
static int
finish(cJSON *reply)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(reply, "code");
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(reply, "errors");
	const cJSON *e;
	int rc = cJSON_IsNumber(code) ? (int)code->valuedouble : PROTO_USAGE;

	if (rc < 0 || rc > PROTO_USAGE)
		rc = PROTO_USAGE;
	if (opt_json) {
		cJSON *res = cJSON_Duplicate(result_of(reply), 1);
		if (!cJSON_IsObject(res)) {
			cJSON_Delete(res);
			res = cJSON_CreateObject();
		}
		if (cJSON_GetArraySize(errs) > 0)
			cJSON_AddItemToObject(res, "errors",
			    cJSON_Duplicate(errs, 1));
		cJSON_AddNumberToObject(res, "code", rc);
		char *s = cJSON_Print(res);
		puts(s);
		free(s);
		cJSON_Delete(res);
		return rc;
	}
	if (rc != PROTO_OK) {
		fprintf(stderr, rc == PROTO_REFUSED ?
		    "crisisctl: 受け付けられませんでした:\n" : "crisisctl: "
		    "使い方の誤り:\n");
		cJSON_ArrayForEach(e, errs)
			if (cJSON_IsString(e))
				fprintf(stderr, "  - %s\n", e->valuestring);
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(
		    result_of(reply), "warnings");
		cJSON_ArrayForEach(e, w)
			if (cJSON_IsString(e))
				fprintf(stderr, "  注意: %s\n", e->valuestring);
		return rc;
	}
	return -1;
}

static void
print_warnings(const cJSON *res)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "warnings"))
		if (cJSON_IsString(e))
			printf("注意: %s\n", e->valuestring);
}

static const char *
state_label(const char *s)
{
	static const struct { const char *s, *ja; } m[] = {
		{ "pending_approval", "承認待ち" }, { "approved", "承認済み" },
		{ "sending", "送信中" }, { "complete", "完了" },
		{ "rejected", "却下" }, { "expired", "期限切れ" },
		{ "cancelled", "取消" }, { "pending", "送信待ち" },
		{ "sent", "送信済み" }, { "failed", "失敗" },
		{ "suspended", "停止中" },
	};
	for (size_t i = 0; i < nitems(m); i++)
		if (strcmp(m[i].s, s) == 0)
			return m[i].ja;
	return s;
}

/* An approval link's state (alert_describe's "link") in Japanese. */
static const char *
link_label(const char *s)
{
	static const struct { const char *s, *ja; } m[] = {
		{ "live", "有効" }, { "used", "使用済み" },
		{ "revoked", "無効（決定済み・期限切れ）" },
		{ "expired", "期限切れ" }, { "none", "なし" },
	};
	for (size_t i = 0; i < nitems(m); i++)
		if (strcmp(m[i].s, s) == 0)
			return m[i].ja;
	return s;
}

static char *
read_body_file(const char *path)
{
	struct buf b = {0};
	char chunk[4096];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t n;

	if (f == NULL)
		die_usage("%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_add(&b, chunk, n);
		if (b.len > BODY_FILE_MAX)
			die_usage("%s: 本文が長すぎます（%d バイトまで）", path,
			    DRAFT_BODY_MAX);
	}
	if (f != stdin)
		fclose(f);
	if (memchr(b.data ? b.data : "", '\0', b.len) != NULL)
		die_usage("%s: 本文に NUL 文字があります", path);
	return buf_take(&b);
}

static int64_t
parse_id(const char *s)
{
	long v;
	if (s == NULL || parse_long(s, 1, 0x7fffffffL, &v) < 0)
		die_usage("連絡の番号 ID は 1 以上の整数です: %s", s ? s : "");
	return v;
}

enum { O_TAG = 256, O_TO, O_BODY, O_BODY_FILE, O_DRILL, O_REASON, O_STATE,
    O_SINCE, O_UNTIL, O_MEMBER, O_ALERT, O_FORMAT, O_AT, O_WATCH, O_BOM,
    O_UNCONFIRMED, O_SET };

static const struct option long_opts[] = {
	{ "tag", required_argument, NULL, O_TAG },
	{ "to", required_argument, NULL, O_TO },
	{ "body", required_argument, NULL, O_BODY },
	{ "body-file", required_argument, NULL, O_BODY_FILE },
	{ "drill", no_argument, NULL, O_DRILL },
	{ "reason", required_argument, NULL, O_REASON },
	{ "state", required_argument, NULL, O_STATE },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "member", required_argument, NULL, O_MEMBER },
	{ "alert", required_argument, NULL, O_ALERT },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "at", required_argument, NULL, O_AT },
	{ "watch", no_argument, NULL, O_WATCH },
	{ "bom", no_argument, NULL, O_BOM },
	{ "unconfirmed", no_argument, NULL, O_UNCONFIRMED },
	{ "set", required_argument, NULL, O_SET },
	{ NULL, 0, NULL, 0 },
};

/* Options of one verb: those it allows, collected into args. */
struct opts {
	cJSON *args;
	char *body;
	const char *format;
	bool watch, bom;
	struct draft_vars vars;	/* --set, checked as the daemon will */
};

/*
 * One --set KEY=VALUE into o->vars: split at the first '=', then the
 * daemon's own checks (key syntax, a repeated key, the count, the value),
 * so a mistyped --set is a usage error here and never reaches it.
 */
static void
add_set(struct opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char err[512], *key;

	if (eq == NULL || eq == arg)
		die_usage("--set は 名前=値 の形で指定してください（例: --set "
		    "place=第一小学校体育館）: %s", arg);
	key = xstrndup(arg, (size_t)(eq - arg));
	if (draft_vars_add(&o->vars, key, eq + 1, err, sizeof(err)) < 0)
		die_usage("%s", err);
	free(key);
}

static void
parse_opts(int argc, char **argv, const char *allowed, struct opts *o)
{
	int ch;

	o->args = cJSON_CreateObject();
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		const char *name = NULL;
		for (size_t i = 0; long_opts[i].name; i++)
			if (long_opts[i].val == ch)
				name = long_opts[i].name;
		if (ch == '?' || name == NULL)
			die_usage("%s: 不明なオプション %s", argv[0],
			    argv[optind - 1]);
		char tok[32];
		snprintf(tok, sizeof(tok), " %s ", name);
		if (strstr(allowed, tok) == NULL)
			die_usage("%s では --%s は使えません", argv[0], name);
		switch (ch) {
		case O_DRILL:
			cJSON_AddBoolToObject(o->args, "drill", true);
			break;
		case O_WATCH:
			o->watch = true;
			break;
		case O_UNCONFIRMED:
			cJSON_AddBoolToObject(o->args, "unconfirmed", true);
			break;
		case O_BOM:
			o->bom = true;
			break;
		case O_BODY_FILE:
			o->body = read_body_file(optarg);
			cJSON_AddStringToObject(o->args, "body", o->body);
			break;
		case O_FORMAT:
			o->format = optarg;
			break;
		case O_ALERT:
			cJSON_AddNumberToObject(o->args, "alert",
			    (double)parse_id(optarg));
			break;
		case O_SET:
			add_set(o, optarg);
			break;
		default:
			if (cJSON_GetObjectItem(o->args, name) != NULL)
				die_usage("--%s が二度指定されています", name);
			cJSON_AddStringToObject(o->args, name, optarg);
		}
	}
	if (o->vars.n > 0) {
		cJSON *v = cJSON_AddObjectToObject(o->args, "vars");
		for (size_t i = 0; i < o->vars.n; i++)
			cJSON_AddStringToObject(v, o->vars.v[i].key,
			    o->vars.v[i].value);
	}
}

static void
opts_done(struct opts *o)
{
	free(o->body);
	draft_vars_free(&o->vars);
}

static int
v_draft(int argc, char **argv)
{
	struct opts o = {0};
	const cJSON *v;
	cJSON *reply;
	int rc;

	parse_opts(argc, argv, " tag to body body-file drill set ", &o);
	if (optind != argc)
		die_usage("draft: 余分な引数 %s", argv[optind]);
	if (!cJSON_GetObjectItem(o.args, "tag") ||
	    !cJSON_GetObjectItem(o.args, "body"))
		die_usage("draft には --tag と --body（または --body-file）が必要"
		    "です");
	reply = call("draft", o.args);
	if ((rc = finish(reply)) < 0) {
		const cJSON *r = result_of(reply);
		printf("連絡 %.0f を下書きしました（%s%s）。宛先 %.0f 名。\n",
		    num(r, "id"), cJSON_IsTrue(cJSON_GetObjectItem(r, "drill")) ?
		    "訓練・" : "", state_label(str(r, "state")),
		    num(r, "recipients"));
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(r, "vars"))
			if (cJSON_IsString(v))
				printf("差し込み値 %s: %s\n", v->string,
				    v->valuestring);
		if (*str(r, "approver"))
			printf("承認依頼を %s に送りました。\n", str(r, "approver"));
		print_warnings(r);
		rc = 0;
	}
	cJSON_Delete(reply);
	opts_done(&o);
	return rc;
}

static void
print_alert_header(const cJSON *r)
{
	const cJSON *s = cJSON_GetObjectItem(r, "sender");
	char t1[32];

	printf("連絡 %.0f  【%s】%s  状態: %s\n", num(r, "id"), str(r, "tag"),
	    cJSON_IsTrue(cJSON_GetObjectItem(r, "drill")) ? "  【訓練】" : "",
	    state_label(str(r, "state")));
	printf("発信者: %s（%s）  作成: %s  宛先: %s\n", str(s, "name"),
	    str(s, "title"), short_time(r, "created_at", t1, sizeof(t1)),
	    str(r, "audience"));
	if (*str(r, "decided_by"))
		printf("決定: %s（%s）%s\n", str(r, "decided_by_name"),
		    strcmp(str(r, "decided_how"), "link") == 0 ? "リンク" :
		    "コンソール", short_time(r, "decided_at", t1, sizeof(t1)));
	if (*str(r, "reason"))
		printf("理由: %s\n", str(r, "reason"));
}

static void
print_counts(const cJSON *r)
{
	const cJSON *c = cJSON_GetObjectItem(r, "counts");
	const cJSON *m = cJSON_GetObjectItem(r, "milestones");
	char t[32];

	printf("宛先 %.0f  送信済み %.0f  送信待ち %.0f  失敗 %.0f  停止中 %.0f  "
	    "既読 %.0f  確認 %.0f\n", num(c, "recipients"), num(c, "sent"),
	    num(c, "pending") + num(c, "sending"), num(c, "failed"),
	    num(c, "suspended"), num(c, "read"), num(c, "confirmed"));
	printf("確認率の到達時刻: 25%% %s  50%% %s  75%% %s  100%% %s\n",
	    *short_time(m, "25", t, sizeof(t)) ? t : "-",
	    *short_time(m, "50", t, sizeof(t)) ? t : "-",
	    *short_time(m, "75", t, sizeof(t)) ? t : "-",
	    *short_time(m, "100", t, sizeof(t)) ? t : "-");
}

/* Re-notify rounds and, for a shelter tag, each shelter's readiness. */
static void
print_followup(const cJSON *r)
{
	const cJSON *sh;
	bool readiness = cJSON_IsTrue(cJSON_GetObjectItem(r, "readiness"));

	printf("再通知: %.0f / %.0f 回  未確認: %d 名\n", num(r, "round"),
	    num(r, "renotify_max"),
	    cJSON_GetArraySize(cJSON_GetObjectItem(r, "unconfirmed")));
	if (!readiness)
		return;
	cJSON_ArrayForEach(sh, cJSON_GetObjectItem(r, "shelters"))
		printf("避難所 %s %s: %s（参集可 %.0f / %.0f 名、必要 %.0f 名）\n",
		    str(sh, "id"), str(sh, "name"),
		    cJSON_IsTrue(cJSON_GetObjectItem(sh, "ready")) ?
		    "開設可能" : "未充足", num(sh, "ready_count"),
		    num(sh, "staff"), num(sh, "min_ready"));
}

static void
print_recipients(const cJSON *r)
{
	struct table t = { .ncols = 8 };
	const cJSON *d;
	char t1[32], t2[32];

	table_row(&t, "氏名", "役職", "避難所", "経路", "状態", "既読", "確認",
	    "応答");
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(r, "recipients"))
		table_row(&t, str(d, "name"), str(d, "title"),
		    str(d, "shelter"), str(d, "channel"),
		    state_label(str(d, "state")),
		    short_time(d, "read_at", t1, sizeof(t1)),
		    short_time(d, "confirmed_at", t2, sizeof(t2)),
		    str(d, "response"));
	table_print(&t);
	/* Why a delivery failed or is still being retried. */
	bool head = false;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(r, "recipients")) {
		if (strcmp(str(d, "state"), "sent") == 0 ||
		    str(d, "error")[0] == '\0')
			continue;
		if (!head)
			printf("\n未達の理由:\n");
		head = true;
		printf("  %s（%s） %s %s: %s\n", str(d, "name"),
		    str(d, "title"), str(d, "channel"),
		    state_label(str(d, "state")), str(d, "error"));
	}
}

static int
v_show(int argc, char **argv)
{
	cJSON *args, *reply;
	const cJSON *r, *e;
	int rc;

	if (argc != 2)
		die_usage("使い方: show ID");
	args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "id", (double)parse_id(argv[1]));
	reply = call("show", args);
	if ((rc = finish(reply)) < 0) {
		r = result_of(reply);
		print_alert_header(r);
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "vars"))
			if (cJSON_IsString(e))
				printf("差し込み値 %s: %s\n", e->string,
				    e->valuestring);
		printf("\n--- 本文（LINE WORKS・メール・プッシュ） ---\n%s\n",
		    str(cJSON_GetObjectItem(r, "messages"), "long"));
		printf("\n--- SMS ---\n%s\n\n",
		    str(cJSON_GetObjectItem(r, "messages"), "sms"));
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "warnings"))
			printf("注意: %s\n", e->valuestring);
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "approvals"))
			printf("承認依頼: %s（%s） %s %s リンク%s\n", str(e, "name"),
			    str(e, "title"), str(e, "channel"),
			    state_label(str(e, "state")),
			    link_label(str(e, "link")));
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "notices"))
			printf("お知らせ: %s（%s） %s %s\n%s\n", str(e, "name"),
			    str(e, "title"), str(e, "channel"),
			    state_label(str(e, "state")), str(e, "text"));
		print_counts(r);
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

static int
v_status(int argc, char **argv)
{
	struct opts o = {0};
	cJSON *reply;
	int64_t id;
	int rc;

	parse_opts(argc, argv, " watch unconfirmed ", &o);
	if (optind + 1 != argc)
		die_usage("使い方: status ID [--watch] [--unconfirmed]");
	id = parse_id(argv[optind]);
	bool unconfirmed = cJSON_IsTrue(cJSON_GetObjectItem(o.args,
	    "unconfirmed"));
	cJSON_Delete(o.args);
	for (;;) {
		cJSON *args = cJSON_CreateObject();
		cJSON_AddNumberToObject(args, "id", (double)id);
		if (unconfirmed)
			cJSON_AddBoolToObject(args, "unconfirmed", true);
		reply = call("status", args);
		if ((rc = finish(reply)) < 0 && unconfirmed) {
			/* The call list, as the notice says it, for printing. */
			if (o.watch)
				fputs("\033[H\033[2J", stdout);
			fputs(str(result_of(reply), "call_list"), stdout);
			rc = 0;
		} else if (rc < 0) {
			const cJSON *r = result_of(reply);
			if (o.watch)
				fputs("\033[H\033[2J", stdout);
			print_alert_header(r);
			print_counts(r);
			print_followup(r);
			putchar('\n');
			print_recipients(r);
			rc = 0;
		}
		cJSON_Delete(reply);
		if (!o.watch || rc != 0)
			break;
		fflush(stdout);
		sleep(2);
	}
	return rc;
}

static int
v_list(int argc, char **argv)
{
	struct opts o = {0};
	cJSON *reply;
	int rc;

	parse_opts(argc, argv, " state since ", &o);
	if (optind != argc)
		die_usage("使い方: list [--state S] [--since T]");
	reply = call("list", o.args);
	if ((rc = finish(reply)) < 0) {
		struct table t = { .ncols = 6 };
		const cJSON *a;
		char id[24], tag[200], at[32];
		table_row(&t, "番号", "状態", "タグ", "発信者", "宛先", "作成");
		cJSON_ArrayForEach(a, cJSON_GetObjectItem(result_of(reply),
		    "alerts")) {
			snprintf(id, sizeof(id), "%.0f", num(a, "id"));
			snprintf(tag, sizeof(tag), "【%s】%s", str(a, "tag"),
			    cJSON_IsTrue(cJSON_GetObjectItem(a, "drill")) ?
			    "訓練" : "");
			table_row(&t, id, state_label(str(a, "state")), tag,
			    str(a, "sender_name"), str(a, "audience"),
			    short_time(a, "created_at", at, sizeof(at)));
		}
		table_print(&t);
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

/* approve ID; reject ID --reason R; cancel ID --reason R */
static int
decide(int argc, char **argv, const char *cmd, bool need_reason)
{
	struct opts o = {0};
	cJSON *reply;
	int rc;

	parse_opts(argc, argv, need_reason ? " reason " : " ", &o);
	if (optind + 1 != argc)
		die_usage("使い方: %s ID%s", cmd, need_reason ?
		    " --reason 理由" : "");
	if (need_reason && !cJSON_GetObjectItem(o.args, "reason"))
		die_usage("%s には --reason が必要です", cmd);
	cJSON_AddNumberToObject(o.args, "id", (double)parse_id(argv[optind]));
	reply = call(cmd, o.args);
	if ((rc = finish(reply)) < 0) {
		const cJSON *r = result_of(reply);
		if (strcmp(cmd, "approve") == 0)
			printf("連絡 %.0f を承認しました。%.0f 名に送信します。\n",
			    num(r, "id"), num(r, "deliveries"));
		else if (strcmp(cmd, "reject") == 0)
			printf("連絡 %.0f を却下しました。\n", num(r, "id"));
		else if (strcmp(cmd, "renotify") == 0)
			printf("連絡 %.0f の再通知（%.0f 回目）を未確認の %.0f 名に"
			    "送ります。\n", num(r, "id"), num(r, "round"),
			    num(r, "count"));
		else {
			printf("連絡 %.0f を取り消しました（未送信 %.0f 件を停止）。"
			    "\n", num(r, "id"), num(r, "stopped"));
			if (num(r, "notice") > 0)
				printf("【取消】の連絡 %.0f（%s）を受信済みの %.0f "
				    "名に送ります。\n", num(r, "notice"),
				    state_label(str(r, "notice_state")),
				    num(r, "reached"));
		}
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

static int
v_approve(int argc, char **argv)
{
	return decide(argc, argv, "approve", false);
}

static int
v_reject(int argc, char **argv)
{
	return decide(argc, argv, "reject", true);
}

static int
v_cancel(int argc, char **argv)
{
	return decide(argc, argv, "cancel", true);
}

static int
v_renotify(int argc, char **argv)
{
	return decide(argc, argv, "renotify", false);
}

static int
v_suspend(int argc, char **argv)
{
	struct opts o = {0};
	cJSON *reply;
	int rc;
	bool resume = strcmp(argv[0], "resume") == 0;

	parse_opts(argc, argv, resume ? " " : " reason ", &o);
	if (optind + 1 != argc)
		die_usage("使い方: %s", resume ? "resume MEMBER" :
		    "suspend MEMBER --reason 理由");
	if (!resume && !cJSON_GetObjectItem(o.args, "reason"))
		die_usage("suspend には --reason が必要です");
	cJSON_AddStringToObject(o.args, "member", argv[optind]);
	reply = call(argv[0], o.args);
	if ((rc = finish(reply)) < 0) {
		const cJSON *r = result_of(reply);
		if (resume)
			printf("%s（%s）への送信を再開します（新しい連絡から）。\n",
			    str(r, "name"), str(r, "member"));
		else
			printf("%s（%s）への送信を停止しました。未送信 %.0f 件を停止"
			    "し、リンクを無効にしました。\n", str(r, "name"),
			    str(r, "member"), num(r, "stopped"));
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

static int
v_roster(int argc, char **argv)
{
	cJSON *args = cJSON_CreateObject(), *reply;
	const char *sub = argc > 1 ? argv[1] : "check";
	int rc;

	if (strcmp(sub, "check") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "show") != 0)
		die_usage("使い方: roster [check | list | show MEMBER]");
	if ((strcmp(sub, "show") == 0) != (argc == 3) || argc > 3)
		die_usage("使い方: roster [check | list | show MEMBER]");
	cJSON_AddStringToObject(args, "sub", sub);
	if (argc == 3)
		cJSON_AddStringToObject(args, "member", argv[2]);
	reply = call("roster", args);
	if ((rc = finish(reply)) < 0) {
		const cJSON *r = result_of(reply), *m, *e;
		if (strcmp(sub, "check") == 0)
			fputs(str(r, "summary"), stdout);
		else if (strcmp(sub, "list") == 0) {
			struct table t = { .ncols = 6 };
			table_row(&t, "ID", "氏名", "役職", "避難所", "経路", "状態");
			cJSON_ArrayForEach(m, cJSON_GetObjectItem(r, "members")) {
				struct buf ch = {0};
				cJSON_ArrayForEach(e, cJSON_GetObjectItem(m,
				    "channels"))
					buf_printf(&ch, "%s%s", ch.len ? "," : "",
					    e->valuestring);
				table_row(&t, str(m, "id"), str(m, "name"),
				    str(m, "title"), str(m, "shelter"), ch.data,
				    cJSON_IsTrue(cJSON_GetObjectItem(m,
				    "suspended")) ? "停止中" : "");
				buf_free(&ch);
			}
			table_print(&t);
		} else {
			m = cJSON_GetObjectItem(r, "member");
			printf("ID: %s\n氏名: %s\n役職: %s\n", str(m, "id"),
			    str(m, "name"), str(m, "title"));
			if (*str(m, "shelter"))
				printf("避難所: %s\n", str(m, "shelter"));
			if (*str(m, "phone"))
				printf("電話: %s\n", str(m, "phone"));
			cJSON_ArrayForEach(e, cJSON_GetObjectItem(m, "contacts"))
				printf("連絡先 %s: %s\n", e->string,
				    e->valuestring);
			if (cJSON_IsTrue(cJSON_GetObjectItem(m, "suspended")))
				printf("停止中: %s\n", str(m,
				    "suspended_reason"));
		}
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

static int
v_rules(int argc, char **argv)
{
	struct opts o = {0};
	cJSON *reply;
	int rc;

	if (argc < 2 || strcmp(argv[1], "check") != 0)
		die_usage("使い方: rules check --tag TAG --body TEXT "
		    "[--set k=v]… [--at TIME]");
	parse_opts(argc - 1, argv + 1, " tag body body-file at to drill set ",
	    &o);
	if (optind != argc - 1)
		die_usage("rules check: 余分な引数");
	if (!cJSON_GetObjectItem(o.args, "tag") ||
	    !cJSON_GetObjectItem(o.args, "body"))
		die_usage("rules check には --tag と --body が必要です");
	reply = call("rules-check", o.args);
	if ((rc = finish(reply)) < 0) {
		const cJSON *r = result_of(reply);
		printf("規則に合っています。宛先 %.0f 名。\n", num(r,
		    "recipients"));
		print_warnings(r);
		rc = 0;
	}
	cJSON_Delete(reply);
	opts_done(&o);
	return rc;
}

static int
v_calendar(int argc, char **argv)
{
	cJSON *args = cJSON_CreateObject(), *reply;
	int rc;

	if (argc > 2)
		die_usage("使い方: calendar [YEAR]");
	if (argc == 2) {
		long y;
		if (parse_long(argv[1], 1, 9999, &y) < 0)
			die_usage("年は数字で指定してください: %s", argv[1]);
		cJSON_AddNumberToObject(args, "year", (double)y);
	}
	reply = call("calendar", args);
	if (opt_json) {
		/* A list, as SPEC §4 says. */
		const cJSON *code = cJSON_GetObjectItem(reply, "code");
		if (cJSON_IsNumber(code) && code->valuedouble == 0) {
			char *s = cJSON_Print(cJSON_GetObjectItem(
			    result_of(reply), "days"));
			puts(s);
			free(s);
			cJSON_Delete(reply);
			return 0;
		}
	}
	if ((rc = finish(reply)) < 0) {
		const cJSON *d;
		cJSON_ArrayForEach(d, cJSON_GetObjectItem(result_of(reply),
		    "days"))
			printf("%s %s\n", str(d, "date"), str(d, "name"));
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

/* One CSV field, RFC 4180: quoted when it holds , " CR or LF. */
static void
csv_field(const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else
		fputs(s, stdout);
	fputs(last ? "\r\n" : ",", stdout);
}

/*
 * The audit command in pages (the daemon sends a year of rows a page at a
 * time, each page naming the id after which the next begins): every page's
 * rows gathered into the first reply, as if it had come in one. Stops at
 * the first reply that is not a success, and returns that one. Takes args.
 */
static cJSON *
audit_all(cJSON *args)
{
	cJSON *first = call("audit", cJSON_Duplicate(args, true)), *page;
	cJSON *rows, *next;

	for (;;) {
		const cJSON *code = cJSON_GetObjectItem(first, "code");
		cJSON *res = cJSON_GetObjectItem(first, "result");
		if (!cJSON_IsNumber(code) || code->valuedouble != 0 ||
		    !cJSON_IsObject(res))
			break;
		next = cJSON_DetachItemFromObject(res, "next");
		if (next == NULL)
			break;
		if (!cJSON_IsNumber(next)) {
			cJSON_Delete(next);
			break;
		}
		cJSON *a = cJSON_Duplicate(args, true);
		cJSON_DeleteItemFromObject(a, "after");
		cJSON_AddNumberToObject(a, "after", next->valuedouble);
		cJSON_Delete(next);
		page = call("audit", a);
		code = cJSON_GetObjectItem(page, "code");
		if (!cJSON_IsNumber(code) || code->valuedouble != 0) {
			cJSON_Delete(first);
			cJSON_Delete(args);
			return page;
		}
		rows = cJSON_GetObjectItem(res, "rows");
		cJSON *more = cJSON_GetObjectItem(cJSON_GetObjectItem(page,
		    "result"), "rows");
		if (!cJSON_IsArray(rows) || !cJSON_IsArray(more) ||
		    cJSON_GetArraySize(more) == 0) {
			cJSON_Delete(page);
			break;
		}
		while (cJSON_GetArraySize(more) > 0)
			cJSON_AddItemToArray(rows,
			    cJSON_DetachItemFromArray(more, 0));
		/* The page's "next", if any, moves to the gathered reply. */
		next = cJSON_DetachItemFromObject(cJSON_GetObjectItem(page,
		    "result"), "next");
		if (next != NULL)
			cJSON_AddItemToObject(res, "next", next);
		cJSON_Delete(page);
	}
	cJSON_Delete(args);
	return first;
}

static int
v_audit(int argc, char **argv)
{
	struct opts o = {0};
	cJSON *reply;
	int rc;

	parse_opts(argc, argv, " since until member alert format bom ", &o);
	if (optind != argc)
		die_usage("使い方: audit [--since T] [--until T] [--member M] "
		    "[--alert ID] [--format csv|json] [--bom]");
	if (o.format != NULL && strcmp(o.format, "csv") != 0 &&
	    strcmp(o.format, "json") != 0)
		die_usage("--format は csv か json です");
	reply = audit_all(o.args);
	/* --format json: the rows as a list; --json: the result object. */
	if (o.format != NULL && strcmp(o.format, "json") == 0 && !opt_json &&
	    cJSON_IsNumber(cJSON_GetObjectItem(reply, "code")) &&
	    cJSON_GetObjectItem(reply, "code")->valuedouble == 0) {
		char *s = cJSON_Print(cJSON_GetObjectItem(result_of(reply),
		    "rows"));
		puts(s);
		free(s);
		cJSON_Delete(reply);
		return 0;
	}
	if ((rc = finish(reply)) < 0) {
		const cJSON *a;
		const cJSON *rows = cJSON_GetObjectItem(result_of(reply), "rows");
		if (o.format != NULL) {
			if (o.bom)
				fputs("\xef\xbb\xbf", stdout);
			fputs("id,time,actor,action,alert,member,channel,detail"
			    "\r\n", stdout);
		}
		struct table t = { .ncols = 7 };
		if (o.format == NULL)
			table_row(&t, "時刻", "実行者", "操作", "連絡", "職員",
			    "経路", "詳細");
		cJSON_ArrayForEach(a, rows) {
			char id[24], alert[24];
			snprintf(id, sizeof(id), "%.0f", num(a, "id"));
			if (cJSON_IsNumber(cJSON_GetObjectItem(a, "alert")))
				snprintf(alert, sizeof(alert), "%.0f",
				    num(a, "alert"));
			else
				alert[0] = '\0';
			if (o.format != NULL) {
				csv_field(id, false);
				csv_field(str(a, "at"), false);
				csv_field(str(a, "actor"), false);
				csv_field(str(a, "action"), false);
				csv_field(alert, false);
				csv_field(str(a, "member"), false);
				csv_field(str(a, "channel"), false);
				csv_field(str(a, "detail"), true);
			} else
				table_row(&t, str(a, "at"), str(a, "actor"),
				    str(a, "action"), alert, str(a, "member"),
				    str(a, "channel"), str(a, "detail"));
		}
		if (o.format == NULL)
			table_print(&t);
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

/* cap ID: the CAP 1.2 document on stdout as it is (--json: the object). */
static int
v_cap(int argc, char **argv)
{
	cJSON *args, *reply;
	int rc;

	if (argc != 2)
		die_usage("使い方: cap ID");
	args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "id", (double)parse_id(argv[1]));
	reply = call("cap", args);
	if ((rc = finish(reply)) < 0) {
		fputs(str(result_of(reply), "xml"), stdout);
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

static int
v_reload(int argc, char **argv)
{
	cJSON *reply;
	int rc;

	(void)argv;
	if (argc != 1)
		die_usage("使い方: reload");
	reply = call("reload", NULL);
	if ((rc = finish(reply)) < 0) {
		printf("再読み込みしました: %s", str(result_of(reply),
		    "summary"));
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

static int
v_ping(int argc, char **argv)
{
	cJSON *reply;
	int rc;

	(void)argv;
	if (argc != 1)
		die_usage("使い方: ping");
	reply = call("ping", NULL);
	if ((rc = finish(reply)) < 0) {
		puts("pong");
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

static int
v_version(int argc, char **argv)
{
	cJSON *reply;
	int rc;

	(void)argv;
	if (argc != 1)
		die_usage("使い方: version");
	reply = call("version", NULL);
	if ((rc = finish(reply)) < 0) {
		const cJSON *r = result_of(reply);
		printf("crisisctl %s\ncrisiscastd %s（制御プロトコル %.0f、"
		    "データベース %.0f）\n", CRISISCAST_VERSION,
		    str(r, "version"), num(r, "protocol"), num(r, "schema"));
		rc = 0;
	}
	cJSON_Delete(reply);
	return rc;
}

static const struct verb verbs[] = {
	{ "draft", v_draft, "draft --tag TAG [--to AUDIENCE] "
	    "[--body TEXT | --body-file F] [--set k=v]… [--drill]" },
	{ "show", v_show, "show ID" },
	{ "list", v_list, "list [--state S] [--since T]" },
	{ "status", v_status, "status ID [--watch] [--unconfirmed]" },
	{ "cap", v_cap, "cap ID" },
	{ "approve", v_approve, "approve ID" },
	{ "reject", v_reject, "reject ID --reason R" },
	{ "cancel", v_cancel, "cancel ID --reason R" },
	{ "renotify", v_renotify, "renotify ID" },
	{ "suspend", v_suspend, "suspend MEMBER --reason R" },
	{ "resume", v_suspend, "resume MEMBER" },
	{ "roster", v_roster, "roster [check | list | show MEMBER]" },
	{ "rules", v_rules, "rules check --tag TAG --body TEXT [--set k=v]… "
	    "[--at TIME]" },
	{ "calendar", v_calendar, "calendar [YEAR]" },
	{ "audit", v_audit, "audit [--since T] [--until T] [--member M] "
	    "[--alert ID] [--format csv|json] [--bom]" },
	{ "reload", v_reload, "reload" },
	{ "ping", v_ping, "ping" },
	{ "version", v_version, "version" },
};

/* The verbs; on stdout and exit 0 when asked for, else stderr and 2. */
static _Noreturn void
help(int code)
{
	FILE *f = code == 0 ? stdout : stderr;

	fprintf(f, "使い方: crisisctl [-s SOCKET] [--json] [--as MEMBER] "
	    "COMMAND …\n");
	for (size_t i = 0; i < nitems(verbs); i++)
		fprintf(f, "  %s\n", verbs[i].usage);
	exit(code);
}

int
main(int argc, char *argv[])
{
	int i = 1;

	/* Global options come before the command. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			opt_json = true;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			opt_socket = argv[++i];
		else if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
			opt_as = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			help(0);
		else
			die_usage("不明なオプション %s", argv[i]);
	}
	if (i >= argc)
		help(PROTO_USAGE);
	for (size_t v = 0; v < nitems(verbs); v++)
		if (strcmp(verbs[v].name, argv[i]) == 0)
			return verbs[v].fn(argc - i, argv + i);
	die_usage("不明なコマンド %s（crisisctl --help で一覧）", argv[i]);
}
