/*
 * draft.c: the rules a draft goes through, and message rendering.
 * Pure: decides nothing by itself, stores nothing, never logs.
 */
#include "draft.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define MAX_PII_HITS 32

static void
add(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = s;
}

static const char *
lookup_var(void *ctx, const char *name)
{
	const struct msg_vars *v = ctx;
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

	if (t == NULL)
		return NULL;
	if (copy.organization == NULL)
		copy.organization = s->cfg.organization;
	return tmpl_render(t, lookup_var, &copy, TMPL_TEXT);
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

static void
check_sms(const struct site *s, const struct tag *t, const struct draft_in *in,
    const char *body, const struct member *sender, struct draft_out *out)
{
	struct msg_vars v = {0};
	char *link = msg_longest_link(s, "r");
	char *text;
	size_t units, limit;

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
	text = msg_render(s, t->template, TMPL_SMS, &v);
	if (text != NULL && sms_segments(text, strlen(text), &units,
	    &limit) > 1)
		add(&out->refusals, &out->nrefusals, xasprintf(
		    "SMSの文面が1通（%zu文字）に収まりません（%zu文字）。"
		    "テンプレート %s.sms.txt を短くしてください", limit, units,
		    t->template));
	free(text);
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
