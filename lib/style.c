/*
 * style.c: loads rules/style.yaml and turns a draft into style warnings
 * (greetings and stock phrases, length, missing 【tag】).
 *
 * Must never: log or exit; refuse, change or block a draft (warnings
 * only); read past the NUL of the text it is given.
 */
#include "style.h"

#include <stdlib.h>
#include <string.h>

#define STYLE_MAX_CHARS_LIMIT 100000L
#define TAG_OPEN "【"
#define TAG_CLOSE "】"

static const char *const top_keys[] = {
	"greetings", "max_chars", "require_tag", "source", NULL
};

int
style_load_node(const struct ynode *root, struct style *s, struct diags *d)
{
	size_t before = diag_errors(d);
	const struct ynode *gn;
	const char *src;
	bool b;
	long l;

	memset(s, 0, sizeof(*s));
	s->require_tag = true;
	if (!ymap_check(root, "style rules", top_keys, d) &&
	    (root == NULL || root->type != Y_MAP))
		return -1;

	if (yget_strlist(root, "greetings", true, d, &s->phrases,
	    &s->nphrases)) {
		gn = ymap_get(root, "greetings");
		for (size_t i = 0; i < s->nphrases; i++) {
			const struct ynode *at = gn->type == Y_SEQ ?
			    gn->items[i] : gn;

			if (s->phrases[i][0] == '\0') {
				ydiag(d, at, "greeting %zu is empty", i + 1);
				continue;
			}
			for (size_t j = 0; j < i; j++)
				if (strcmp(s->phrases[i], s->phrases[j]) == 0)
					ywarn(d, at, "greeting \"%s\" is listed "
					    "twice", s->phrases[i]);
		}
	}
	if (yget_long(root, "max_chars", 0, STYLE_MAX_CHARS_LIMIT, false, d,
	    &l))
		s->max_chars = l;
	if (yget_bool(root, "require_tag", false, d, &b))
		s->require_tag = b;
	if (yget_str(root, "source", false, d, &src))
		s->source = xstrdup(src);

	if (diag_errors(d) != before) {
		style_free(s);
		return -1;
	}
	return 0;
}

int
style_load(const char *path, struct style *s, struct diags *d)
{
	struct ynode *root;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((root = yaml_load(path, d)) == NULL)
		return -1;
	rc = style_load_node(root, s, d);
	ynode_free(root);
	return rc;
}

void
style_free(struct style *s)
{
	if (s == NULL)
		return;
	strlist_free(s->phrases, s->nphrases);
	free(s->source);
	memset(s, 0, sizeof(*s));
}

/* Appends one warning, with the cited source when there is one. */
static void
warn(const struct style *s, char ***warns, size_t *nwarns, const char *msg)
{
	char *w;

	if (s->source != NULL)
		w = xasprintf("%s（%s）", msg, s->source);
	else
		w = xstrdup(msg);
	*warns = xreallocarray(*warns, *nwarns + 1, sizeof(**warns));
	(*warns)[(*nwarns)++] = w;
}

/*
 * true when text, after leading spaces and line breaks (ASCII or U+3000),
 * starts with 【, at least one character, then 】 on the same line.
 */
static bool
has_tag(const char *t)
{
	const char *close;

	for (;;) {
		if (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')
			t++;
		else if (startswith(t, "\u3000"))
			t += strlen("\u3000");
		else
			break;
	}
	if (!startswith(t, TAG_OPEN))
		return false;
	t += strlen(TAG_OPEN);
	if ((close = strstr(t, TAG_CLOSE)) == NULL || close == t)
		return false;
	return memchr(t, '\n', (size_t)(close - t)) == NULL;
}

void
style_check(const struct style *s, const char *text, char ***warns,
    size_t *nwarns)
{
	size_t len, chars;
	char *m;

	if (text == NULL)
		text = "";
	len = strlen(text);
	if (!utf8_valid(text, len)) {
		warn(s, warns, nwarns, "本文に文字化け（正しくないUTF-8）があります");
		return;
	}
	if (s->require_tag && !has_tag(text))
		warn(s, warns, nwarns, "先頭に【避難所開設要請】のような【】付きの"
		    "タグがありません");
	chars = utf8_count(text, len);
	if (s->max_chars > 0 && chars > (size_t)s->max_chars) {
		m = xasprintf("本文が%zu文字で、上限の%ld文字を超えています。"
		    "長文は避け、小分けにしてください", chars, s->max_chars);
		warn(s, warns, nwarns, m);
		free(m);
	}
	for (size_t i = 0; i < s->nphrases; i++) {
		if (s->phrases[i][0] == '\0' || strstr(text, s->phrases[i]) ==
		    NULL)
			continue;
		m = xasprintf("挨拶・定型句「%s」は不要です", s->phrases[i]);
		warn(s, warns, nwarns, m);
		free(m);
	}
}
