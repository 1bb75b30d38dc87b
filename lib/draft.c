/*
 * draft.c: the rules a draft goes through, the drafter's --set values
 * (checked, stored as JSON, read back), and message rendering.
 * Pure: decides nothing by itself, stores nothing, never logs.
 */
#include "draft.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crypto.h"

#define MAX_PII_HITS 32

static void
add(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = s;
}

/* --set values */

/* How many entries of vs to look at: a draft_vars filled by hand may say
 * more than it can hold. */
static size_t
vars_count(const struct draft_vars *vs)
{
	if (vs == NULL)
		return 0;
	return vs->n < DRAFT_VARS_MAX ? vs->n : DRAFT_VARS_MAX;
}

/*
 * key as it may be quoted back to a person: at most 40 bytes, every byte
 * that is not printable ASCII shown as '?', so an error about a bad key
 * never carries the bad bytes on.
 */
static void
key_display(const char *key, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; key != NULL && key[i] != '\0' && i < 40 && i + 1 < outsz;
	    i++)
		out[i] = key[i] > 0x20 && key[i] < 0x7f ? key[i] : '?';
	if (key != NULL && key[i] != '\0' && i + 4 < outsz) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/*
 * The next code point of valid UTF-8 at *p, advancing *p. The caller has
 * checked utf8_valid().
 */
static uint32_t
next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	int n;

	if (c < 0x80)
		n = 0;
	else if ((c & 0xe0) == 0xc0) {
		c &= 0x1f;
		n = 1;
	} else if ((c & 0xf0) == 0xe0) {
		c &= 0x0f;
		n = 2;
	} else {
		c &= 0x07;
		n = 3;
	}
	for (int i = 1; i <= n; i++)
		c = c << 6 | (s[i] & 0x3f);
	*p = s + n + 1;
	return c;
}

/* Characters a value may not hold: it is one line of a message, and
 * nothing in it may reorder or hide the text around it. */
static bool
forbidden_cp(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
	    c == 0x2029 || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069);
}

/* 0, or -1 with a Japanese reason naming key (already checked). */
static int
value_check(const char *key, const char *value, char *err, size_t errsz)
{
	const unsigned char *p;
	size_t len;
	bool blank = true;

	if (value == NULL) {
		snprintf(err, errsz, "--set %s の値がありません", key);
		return -1;
	}
	len = strlen(value);
	if (len == 0) {
		snprintf(err, errsz, "--set %s の値が空です（--set %s=値）", key,
		    key);
		return -1;
	}
	if (len > DRAFT_VAR_VALUE_MAX) {
		snprintf(err, errsz, "--set %s の値が長すぎます（%zu バイト。"
		    "%d バイトまで）", key, len, DRAFT_VAR_VALUE_MAX);
		return -1;
	}
	if (!utf8_valid(value, len)) {
		snprintf(err, errsz, "--set %s の値が UTF-8 の文字列ではあり"
		    "ません", key);
		return -1;
	}
	for (p = (const unsigned char *)value; *p != '\0';) {
		const unsigned char *at = p;
		uint32_t c = next_cp(&p);

		if (forbidden_cp(c)) {
			snprintf(err, errsz, "--set %s の値に制御文字 U+%04X "
			    "があります（%zu バイト目）。値は改行やタブのない"
			    "1行です", key, (unsigned)c,
			    (size_t)(at - (const unsigned char *)value) + 1);
			return -1;
		}
		if (c != ' ' && c != 0x3000)
			blank = false;
	}
	if (blank) {
		snprintf(err, errsz, "--set %s の値が空白だけです", key);
		return -1;
	}
	return 0;
}

int
draft_vars_add(struct draft_vars *vs, const char *key, const char *value,
    char *err, size_t errsz)
{
	char shown[48];

	if (!tmpl_var_key_ok(key)) {
		key_display(key, shown, sizeof(shown));
		snprintf(err, errsz, "--set の名前「%s」は使えません（英字・数字"
		    "・_ で %d バイトまで。例: --set place=第一小学校）", shown,
		    TMPL_VAR_KEY_MAX);
		return -1;
	}
	if (draft_vars_get(vs, key) != NULL) {
		snprintf(err, errsz, "--set %s が二度指定されています", key);
		return -1;
	}
	if (vs->n >= DRAFT_VARS_MAX) {
		snprintf(err, errsz, "--set は %d 個までです（%s で超えました）",
		    DRAFT_VARS_MAX, key);
		return -1;
	}
	if (value_check(key, value, err, errsz) < 0)
		return -1;
	vs->v[vs->n].key = xstrdup(key);
	vs->v[vs->n].value = xstrdup(value);
	vs->n++;
	return 0;
}

int
draft_vars_from_json(struct draft_vars *vs, const struct cJSON *obj,
    char *err, size_t errsz)
{
	const cJSON *m;

	memset(vs, 0, sizeof(*vs));
	if (obj == NULL)
		return 0;
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errsz, "vars は {\"名前\": \"値\"} の形の"
		    "オブジェクトです");
		return -1;
	}
	for (m = obj->child; m != NULL; m = m->next) {
		/* A bad key first: draft_vars_add words that error. */
		if (tmpl_var_key_ok(m->string) && !cJSON_IsString(m)) {
			snprintf(err, errsz, "--set %s の値が文字列ではありま"
			    "せん", m->string);
			goto bad;
		}
		if (draft_vars_add(vs, m->string, cJSON_IsString(m) ?
		    m->valuestring : NULL, err, errsz) < 0)
			goto bad;
	}
	return 0;
bad:
	draft_vars_free(vs);
	return -1;
}

int
draft_vars_parse(struct draft_vars *vs, const char *json, char *err,
    size_t errsz)
{
	cJSON *o;
	int rc;

	memset(vs, 0, sizeof(*vs));
	if (json == NULL)
		return 0;
	if ((o = cJSON_Parse(json)) == NULL) {
		snprintf(err, errsz, "vars が JSON ではありません");
		return -1;
	}
	rc = draft_vars_from_json(vs, o, err, errsz);
	cJSON_Delete(o);
	return rc;
}

char *
draft_vars_json(const struct draft_vars *vs)
{
	cJSON *o = cJSON_CreateObject();
	char *s, *out;

	/* An entry that cannot be written (a hand-made one) is left out. */
	for (size_t i = 0; i < vars_count(vs); i++)
		if (vs->v[i].key != NULL && vs->v[i].value != NULL)
			cJSON_AddItemToObject(o, vs->v[i].key,
			    cJSON_CreateString(vs->v[i].value));
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		abort();	/* out of memory: what xmalloc does */
	out = xstrdup(s);
	cJSON_free(s);
	return out;
}

const char *
draft_vars_get(const struct draft_vars *vs, const char *key)
{
	for (size_t i = 0; key != NULL && i < vars_count(vs); i++)
		if (vs->v[i].key != NULL && strcmp(vs->v[i].key, key) == 0)
			return vs->v[i].value;
	return NULL;
}

void
draft_vars_free(struct draft_vars *vs)
{
	for (size_t i = 0; i < vars_count(vs); i++) {
		free(vs->v[i].key);
		free(vs->v[i].value);
	}
	if (vs != NULL)
		memset(vs, 0, sizeof(*vs));
}

/* What a rendering looks values up in: the fields, and var.KEY in vars. */
struct render_ctx {
	const struct msg_vars *v;
	struct draft_vars vars;
};

static const char *
lookup_var(void *ctx, const char *name)
{
	const struct render_ctx *rc = ctx;
	const struct msg_vars *v = rc->v;
	static const struct { const char *name; size_t off; } map[] = {
#define V(n, f) { n, offsetof(struct msg_vars, f) }
		V("tag", tag), V("body", body), V("link", link),
		V("sender.name", sender_name), V("sender.title", sender_title),
		V("recipient.name", recipient_name),
		V("recipient.title", recipient_title),
		V("approver.name", approver_name), V("alert.id", alert_id),
		V("alert.created", alert_created), V("responses", responses),
		V("deadline", deadline), V("audience", audience),
		V("organization", organization),
#undef V
	};

	if (startswith(name, TMPL_VAR_PREFIX))
		return draft_vars_get(&rc->vars, name + strlen(TMPL_VAR_PREFIX));
	if (strcmp(name, "drill") == 0)
		return v->drill ? "1" : NULL;
	for (size_t i = 0; i < nitems(map); i++)
		if (strcmp(map[i].name, name) == 0)
			return *(const char *const *)((const char *)v +
			    map[i].off);
	return NULL;
}

char *
msg_render(const struct site *s, const char *name, enum tmpl_form form,
    const struct msg_vars *v)
{
	const struct tmpl *t = tmpl_set_get(s->tmpl, name, form);
	struct msg_vars copy = *v;
	struct render_ctx rc = { .v = &copy };
	char err[256], *text;

	if (t == NULL)
		return NULL;
	if (copy.organization == NULL)
		copy.organization = s->cfg.organization;
	/* Stored by draft_check's caller, so readable; if not, none. */
	if (draft_vars_parse(&rc.vars, v->vars, err, sizeof(err)) < 0)
		memset(&rc.vars, 0, sizeof(rc.vars));
	text = tmpl_render(t, lookup_var, &rc, TMPL_TEXT);
	draft_vars_free(&rc.vars);
	return text;
}

char *
msg_longest_link(const struct site *s, const char *route)
{
	char tok[TOKEN_CHARS + 1];

	memset(tok, 'x', TOKEN_CHARS);
	tok[TOKEN_CHARS] = '\0';
	return xasprintf("%s/%s/%s", s->cfg.public_url, route, tok);
}

/* Sorts recipients: members of the tag's `first` group, then the rest,
 * each in roster order. */
static void
order_recipients(const struct site *s, const struct tag *t, size_t *idx,
    size_t n)
{
	int g = t->first ? roster_group(&s->roster, t->first) : -1;
	size_t *tmp, k = 0;

	if (g < 0)
		return;
	tmp = xcalloc(n, sizeof(*tmp));
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			bool in = s->roster.members[idx[i]].groups & (1u << g);
			if (in == (pass == 0))
				tmp[k++] = idx[i];
		}
	memcpy(idx, tmp, n * sizeof(*idx));
	free(tmp);
}

/* true when s holds only spaces (ASCII or U+3000 ideographic). */
static bool
blank_after_tag(const char *s)
{
	for (;;) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		else if (startswith(s, "\u3000"))
			s += strlen("\u3000");
		else
			return *s == '\0';
	}
}

int
draft_recipients(const struct site *s, const struct tag *t,
    const char *audience, size_t **idx, size_t *n, char *err, size_t errsz)
{
	if (roster_audience(&s->roster, audience, idx, n, err, errsz) < 0)
		return -1;
	order_recipients(s, t, *idx, *n);
	return 0;
}

/*
 * The --set values: each well formed (draft_in may come from anywhere),
 * free of personal data, and, when the tag is known, each used by the
 * tag's templates, and every value those templates require given.
 */
static void
check_vars(const struct site *s, const struct tag *t,
    const struct draft_vars *vs, struct draft_out *out)
{
	const struct draft_var *v = vs ? vs->v : NULL;
	size_t n = vs ? vs->n : 0;
	char err[512], shown[48];

	if (n > DRAFT_VARS_MAX) {
		add(&out->refusals, &out->nrefusals, xasprintf(
		    "--set は %d 個までです", DRAFT_VARS_MAX));
		n = DRAFT_VARS_MAX;
	}
	for (size_t i = 0; i < n; i++) {
		struct pii_hit hits[MAX_PII_HITS];
		size_t nh;
		bool dup = false;

		if (!tmpl_var_key_ok(v[i].key)) {
			key_display(v[i].key, shown, sizeof(shown));
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "--set の名前「%s」は使えません（英字・数字・_ で "
			    "%d バイトまで）", shown, TMPL_VAR_KEY_MAX));
			continue;
		}
		for (size_t j = 0; j < i && !dup; j++)
			dup = tmpl_var_key_ok(v[j].key) &&
			    strcmp(v[j].key, v[i].key) == 0;
		if (dup) {
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "--set %s が二度指定されています", v[i].key));
			continue;
		}
		if (value_check(v[i].key, v[i].value, err, sizeof(err)) < 0) {
			add(&out->refusals, &out->nrefusals, xstrdup(err));
			continue;
		}
		/* A value is part of the message: the same PII rules. */
		nh = pii_scan(&s->rules.pii, v[i].value, strlen(v[i].value),
		    hits, nitems(hits));
		if (nh == PII_SCAN_ERROR) {
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "--set %s の値の個人情報の検査ができませんでした",
			    v[i].key));
			continue;
		}
		for (size_t k = 0; k < nh && k < nitems(hits); k++) {
			pii_describe(&hits[k], v[i].value, err, sizeof(err));
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "--set %s の値に%s", v[i].key, err));
		}
	}
	if (t == NULL)
		return;

	/* Which var.KEY the tag's templates use, and which they require. */
	const struct tmpl_var *tv[TMPL_NFORMS] = { NULL };
	size_t ntv[TMPL_NFORMS];
	struct buf used = {0};
	for (int f = 0; f < TMPL_NFORMS; f++) {
		const struct tmpl *tp = tmpl_set_get(s->tmpl, t->template,
		    (enum tmpl_form)f);
		ntv[f] = tp ? tmpl_vars(tp, &tv[f]) : 0;
		for (size_t k = 0; k < ntv[f]; k++) {
			bool seen = false;
			for (int g = 0; g < f && !seen; g++)
				for (size_t j = 0; j < ntv[g] && !seen; j++)
					seen = strcmp(tv[g][j].key,
					    tv[f][k].key) == 0;
			if (!seen)
				buf_printf(&used, "%s%s", used.len ? ", " : "",
				    tv[f][k].key);
		}
	}
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		if (!tmpl_var_key_ok(v[i].key))
			continue;
		for (int f = 0; f < TMPL_NFORMS && !known; f++)
			for (size_t k = 0; k < ntv[f] && !known; k++)
				known = strcmp(tv[f][k].key, v[i].key) == 0;
		if (known)
			continue;
		if (used.len > 0)
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "--set %s はタグ%sのテンプレート（%s）で使われていませ"
			    "ん（使える名前: %s）", v[i].key, t->label,
			    t->template, used.data));
		else
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "--set %s はタグ%sのテンプレート（%s）で使われていませ"
			    "ん（このタグのテンプレートは --set の値を使いません）",
			    v[i].key, t->label, t->template));
	}
	for (int f = 0; f < TMPL_NFORMS; f++)
		for (size_t k = 0; k < ntv[f]; k++) {
			bool reported = false;

			if (!tv[f][k].required ||
			    draft_vars_get(vs, tv[f][k].key) != NULL)
				continue;
			/* once, even when both forms require it */
			for (int g = 0; g < f && !reported; g++)
				for (size_t j = 0; j < ntv[g] && !reported;
				    j++)
					reported = tv[g][j].required &&
					    strcmp(tv[g][j].key,
					    tv[f][k].key) == 0;
			if (!reported)
				add(&out->refusals, &out->nrefusals, xasprintf(
				    "--set %s=値 が必要です（タグ%sのテンプレー"
				    "ト %s.%s.txt が {{" TMPL_VAR_PREFIX "%s}} "
				    "を使います）", tv[f][k].key, t->label,
				    t->template, f == TMPL_SMS ? "sms" : "long",
				    tv[f][k].key));
		}
	buf_free(&used);
}

static void
check_sms(const struct site *s, const struct tag *t, const struct draft_in *in,
    const char *body, const struct member *sender, struct draft_out *out)
{
	struct msg_vars v = {0};
	char *link = msg_longest_link(s, "r");
	char *text, *vars = draft_vars_json(in->vars);
	const struct tmpl *sms = tmpl_set_get(s->tmpl, t->template, TMPL_SMS);
	const struct tmpl_var *tv;
	size_t units, limit, ntv = sms ? tmpl_vars(sms, &tv) : 0;
	struct buf given = {0};

	v.tag = t->label;
	v.body = body;
	v.link = link;
	v.drill = in->drill;
	v.sender_name = sender ? sender->name : "";
	v.sender_title = sender ? sender->title : "";
	v.recipient_name = "　　　　　　";
	v.recipient_title = "　　　　　　";
	v.alert_id = "999999";
	v.alert_created = "12月31日 23:59";
	v.deadline = "23:59";
	v.vars = vars;
	text = msg_render(s, t->template, TMPL_SMS, &v);
	/* The values the SMS form shows: the drafter can shorten those. */
	for (size_t k = 0; k < ntv; k++)
		if (draft_vars_get(in->vars, tv[k].key) != NULL)
			buf_printf(&given, "%s%s", given.len ? ", " : "",
			    tv[k].key);
	if (text != NULL && sms_segments(text, strlen(text), &units,
	    &limit) > 1) {
		if (given.len > 0)
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "SMSの文面が1通（%zu文字）に収まりません（%zu文字）。"
			    "--set の値（%s）を短くするか、テンプレート "
			    "%s.sms.txt を短くしてください", limit, units,
			    given.data, t->template));
		else
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "SMSの文面が1通（%zu文字）に収まりません（%zu文字）。"
			    "テンプレート %s.sms.txt を短くしてください", limit,
			    units, t->template));
	}
	buf_free(&given);
	free(text);
	free(vars);
	free(link);
}

void
draft_check(const struct site *s, const struct draft_in *in,
    struct draft_out *out)
{
	const struct member *sender;
	const struct tag *t;
	char why[160], err[256];

	memset(out, 0, sizeof(*out));
	sender = in->sender ? roster_find(&s->roster, in->sender) : NULL;
	if (sender == NULL)
		add(&out->refusals, &out->nrefusals, xasprintf(
		    "発信者「%s」は名簿にありません", in->sender ? in->sender :
		    "（不明）"));
	else if (!(sender->roles & ROLE_SENDER))
		add(&out->refusals, &out->nrefusals, xasprintf(
		    "%s（%s）には発信の権限がありません（発信者は対応所管部長・"
		    "消防長・危機管理室長）", sender->name, sender->title));

	t = in->tag ? rules_tag(&s->rules, in->tag) : NULL;
	out->tag = t;
	if (t == NULL) {
		struct buf b = {0};
		for (size_t i = 0; i < s->rules.ntags; i++)
			buf_printf(&b, "%s", s->rules.tags[i].label);
		add(&out->refusals, &out->nrefusals, xasprintf(
		    "タグ「%s」は tags.yaml にありません（使えるタグ: %s）",
		    in->tag ? in->tag : "", b.data ? b.data : ""));
		buf_free(&b);
	}

	if (in->body == NULL || strspn(in->body, " \t\r\n") ==
	    strlen(in->body)) {
		add(&out->refusals, &out->nrefusals, xstrdup("本文が空です"));
		return;
	}
	size_t blen = strlen(in->body);
	if (blen > DRAFT_BODY_MAX || !utf8_valid(in->body, blen)) {
		add(&out->refusals, &out->nrefusals, xasprintf(
		    "本文が不正です（UTF-8 で %d バイト以内）", DRAFT_BODY_MAX));
		return;
	}
	/* The tag stands at the start of the text (added if missing). */
	const char *b = in->body + strspn(in->body, " \t\r\n");
	if (t != NULL && !startswith(b, t->label))
		out->body = xasprintf("%s%s", t->label, b);
	else
		out->body = xstrdup(b);
	if (t != NULL && t->cancel)
		add(&out->refusals, &out->nrefusals, xstrdup(
		    "取消は crisisctl cancel で発信してください（crisisctl "
		    "cancel 連絡番号 --reason 理由）"));
	if (t != NULL && blank_after_tag(out->body + strlen(t->label)))
		add(&out->refusals, &out->nrefusals, xstrdup(
		    "本文が空です（タグだけです）"));

	/* Another tag inside the text is a sign of a wrong --tag. */
	if (t != NULL && startswith(b, "【") && !startswith(b, t->label))
		add(&out->warnings, &out->nwarnings, xasprintf(
		    "本文の冒頭のタグが --tag %s と異なります", t->label));

	struct pii_hit hits[MAX_PII_HITS];
	size_t nh = pii_scan(&s->rules.pii, out->body, strlen(out->body),
	    hits, nitems(hits));
	if (nh == PII_SCAN_ERROR)
		add(&out->refusals, &out->nrefusals, xstrdup(
		    "個人情報の検査ができませんでした（本文を確認してください）"));
	else {
		for (size_t i = 0; i < nh && i < nitems(hits); i++) {
			char desc[512];
			pii_describe(&hits[i], out->body, desc, sizeof(desc));
			add(&out->refusals, &out->nrefusals, xstrdup(desc));
		}
	}

	check_vars(s, t, in->vars, out);

	char **sw = NULL;
	size_t nsw = 0;
	style_check(&s->rules.style, out->body, &sw, &nsw);
	for (size_t i = 0; i < nsw; i++)
		add(&out->warnings, &out->nwarnings, sw[i]);
	free(sw);

	if (!hours_closed(&s->rules.hours, in->at, why, sizeof(why))) {
		switch (s->rules.hours.policy) {
		case HOURS_REFUSE:
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "開庁時間中は発信できません（%s）", why));
			break;
		case HOURS_WARN:
			add(&out->warnings, &out->nwarnings, xasprintf(
			    "開庁時間中です（%s）。crisiscast は閉庁時の連絡用です",
			    why));
			break;
		case HOURS_ALLOW:
			break;
		}
	}

	if (t != NULL) {
		const char *aud = in->audience ? in->audience : t->audience;
		if (aud == NULL)
			add(&out->refusals, &out->nrefusals, xasprintf(
			    "タグ%sには既定の宛先がありません。--to で宛先を指定"
			    "してください", t->label));
		else if (draft_recipients(s, t, aud, &out->recipients,
		    &out->nrecipients, err, sizeof(err)) < 0)
			add(&out->refusals, &out->nrefusals, xstrdup(err));
		else
			out->audience = xstrdup(aud);
		check_sms(s, t, in, out->body, sender, out);
	}
}

void
draft_out_free(struct draft_out *out)
{
	free(out->body);
	free(out->audience);
	free(out->recipients);
	strlist_free(out->refusals, out->nrefusals);
	strlist_free(out->warnings, out->nwarnings);
	memset(out, 0, sizeof(*out));
}
