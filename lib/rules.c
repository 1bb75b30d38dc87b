/*
 * rules.c: loads the rules directory; tags.yaml is parsed here, the other
 * files by their own modules. Pure: errors go to diags.
 */
#include "rules.h"

#include <stdlib.h>
#include <string.h>

#include "ydoc.h"

#define TAG_OPEN	"【"
#define TAG_CLOSE	"】"

static const char *const tag_keys[] = {
	"audience", "approval", "priority", "ack_deadline", "responses",
	"template", "first", "cancel", "cap", "readiness", NULL,
};
static const char *const readiness_keys[] = {
	"min_ready", "responses", NULL,
};

#define READINESS_MIN_READY	2	/* of a shelter's 4 staff */
static const char *const cap_keys[] = {
	"category", "urgency", "severity", "certainty", NULL,
};

/* CAP 1.2 enumerations (OASIS CAP-v1.2.xsd). */
static const char *const cap_categories[] = {
	"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
	"Transport", "Infra", "CBRNE", "Other", NULL,
};
static const char *const cap_urgencies[] = {
	"Immediate", "Expected", "Future", "Past", "Unknown", NULL,
};
static const char *const cap_severities[] = {
	"Extreme", "Severe", "Moderate", "Minor", "Unknown", NULL,
};
static const char *const cap_certainties[] = {
	"Observed", "Likely", "Possible", "Unlikely", "Unknown", NULL,
};
static const char *const priorities[] = {
	"low", "normal", "high", "urgent", NULL,
};

const char *
tag_priority_name(enum tag_priority p)
{
	return priorities[p];
}

static int
lookup(const char *const list[], const char *s)
{
	for (int i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

static char *
get_enum(const struct ynode *map, const char *key, const char *const list[],
    const char *dflt, struct diags *d)
{
	const char *s;

	if (!yget_str(map, key, false, d, &s))
		return xstrdup(dflt);
	if (lookup(list, s) < 0) {
		struct buf b = {0};
		for (int i = 0; list[i] != NULL; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", list[i]);
		ydiag(d, ymap_get(map, key), "\"%s\" must be one of %s, not "
		    "\"%s\"", key, b.data, s);
		buf_free(&b);
	}
	return xstrdup(s);
}

/* The tag's name may be written with or without 【】. */
static char *
bare_name(const char *s)
{
	size_t len = strlen(s), ol = strlen(TAG_OPEN), cl = strlen(TAG_CLOSE);

	if (startswith(s, TAG_OPEN) && len > ol + cl &&
	    strcmp(s + len - cl, TAG_CLOSE) == 0)
		return xstrndup(s + ol, len - ol - cl);
	return xstrdup(s);
}

static bool
tag_name_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 64 || !utf8_valid(s, len))
		return false;
	return strstr(s, TAG_OPEN) == NULL && strstr(s, TAG_CLOSE) == NULL &&
	    strpbrk(s, " \t\n\r") == NULL;
}

/*
 * readiness: {min_ready: N, responses: [...]}: min_ready 1-100 (default
 * 2), responses required, non-empty, each one of the tag's responses
 * (which must therefore be read first).
 */
static void
load_readiness(struct tag *t, const struct ynode *r, struct diags *d)
{
	if (r == NULL || !ymap_check(r, "readiness", readiness_keys, d))
		return;
	t->readiness.min_ready = READINESS_MIN_READY;
	yget_long(r, "min_ready", 1, 100, false, d, &t->readiness.min_ready);
	if (!yget_strlist(r, "responses", true, d, &t->readiness.responses,
	    &t->readiness.nresponses))
		return;
	if (t->readiness.nresponses == 0)
		ydiag(d, ymap_get(r, "responses"), "\"readiness.responses\" "
		    "must name at least one response");
	for (size_t i = 0; i < t->readiness.nresponses; i++) {
		bool known = false;
		for (size_t k = 0; k < t->nresponses; k++)
			known |= strcmp(t->responses[k],
			    t->readiness.responses[i]) == 0;
		if (!known)
			ydiag(d, ymap_get(r, "responses"), "readiness response "
			    "\"%s\" is not one of the tag's responses",
			    t->readiness.responses[i]);
	}
}

static void
load_tag(struct tag *t, const struct ynode *k, const struct ynode *v,
    struct diags *d)
{
	const char *s;
	const struct ynode *cap;

	t->name = bare_name(k->str);
	t->label = xasprintf(TAG_OPEN "%s" TAG_CLOSE, t->name);
	t->approval = true;
	t->priority = PRIO_NORMAL;
	if (!tag_name_ok(t->name))
		ydiag(d, k, "tag name \"%s\" must be 1-64 characters without "
		    "spaces or 【】 inside", k->str);
	if (!ymap_check(v, "a tag", tag_keys, d))
		return;
	if (yget_str(v, "audience", false, d, &s)) {
		const struct ynode *at = ymap_get(v, "audience");
		t->audience = xstrdup(s);
		t->audience_line = at->line;
		t->audience_col = at->col;
	}
	yget_bool(v, "approval", false, d, &t->approval);
	yget_bool(v, "cancel", false, d, &t->cancel);
	if (yget_str(v, "priority", false, d, &s)) {
		int p = lookup(priorities, s);
		if (p < 0)
			ydiag(d, ymap_get(v, "priority"), "\"priority\" must be "
			    "low, normal, high or urgent, not \"%s\"", s);
		else
			t->priority = (enum tag_priority)p;
	}
	yget_duration(v, "ack_deadline", false, d, &t->ack_deadline);
	if (yget_strlist(v, "responses", false, d, &t->responses,
	    &t->nresponses)) {
		for (size_t i = 0; i < t->nresponses; i++) {
			size_t len = strlen(t->responses[i]);
			if (len == 0 || len > 120)
				ydiag(d, ymap_get(v, "responses"), "a response "
				    "must be 1-120 bytes");
		}
	}
	if (yget_str(v, "template", true, d, &s)) {
		bool ok = strlen(s) <= 64;
		for (const char *p = s; *p && ok; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    *p == '_' || *p == '-';
		if (!ok || strcmp(s, "approval") == 0)
			ydiag(d, ymap_get(v, "template"), "template name \"%s\" "
			    "must be [a-z0-9_-] and not \"approval\"", s);
		t->template = xstrdup(s);
	}
	if (yget_str(v, "first", false, d, &s)) {
		const struct ynode *at = ymap_get(v, "first");
		t->first = xstrdup(s);
		t->first_line = at->line;
		t->first_col = at->col;
	}
	load_readiness(t, ymap_get(v, "readiness"), d);
	cap = ymap_get(v, "cap");
	if (cap != NULL && ymap_check(cap, "cap", cap_keys, d)) {
		t->cap.category = get_enum(cap, "category", cap_categories,
		    "Safety", d);
		t->cap.urgency = get_enum(cap, "urgency", cap_urgencies,
		    "Unknown", d);
		t->cap.severity = get_enum(cap, "severity", cap_severities,
		    "Unknown", d);
		t->cap.certainty = get_enum(cap, "certainty", cap_certainties,
		    "Unknown", d);
	} else {
		t->cap.category = xstrdup("Safety");
		t->cap.urgency = xstrdup("Unknown");
		t->cap.severity = xstrdup("Unknown");
		t->cap.certainty = xstrdup("Unknown");
	}
}

static void
tag_free(struct tag *t)
{
	free(t->name);
	free(t->label);
	free(t->audience);
	strlist_free(t->responses, t->nresponses);
	free(t->template);
	free(t->first);
	strlist_free(t->readiness.responses, t->readiness.nresponses);
	free(t->cap.category);
	free(t->cap.urgency);
	free(t->cap.severity);
	free(t->cap.certainty);
}

static void
load_tags(struct rules *r, const char *path, struct diags *d)
{
	static const char *const top[] = { "tags", NULL };
	struct ynode *root = yaml_load(path, d);
	const struct ynode *tags;
	size_t ncancel = 0;

	if (root == NULL)
		return;
	if (!ymap_check(root, "tags.yaml", top, d))
		goto out;
	tags = ymap_get(root, "tags");
	if (tags == NULL || tags->type != Y_MAP || tags->n == 0) {
		ydiag(d, tags ? tags : root, "\"tags\" must be a map of tag "
		    "names to their settings");
		goto out;
	}
	r->tags = xcalloc(tags->n, sizeof(*r->tags));
	for (size_t i = 0; i < tags->n; i++) {
		struct tag *t = &r->tags[r->ntags++];
		load_tag(t, tags->keys[i], tags->items[i], d);
		for (size_t j = 0; j + 1 < r->ntags; j++)
			if (strcmp(r->tags[j].name, t->name) == 0)
				ydiag(d, tags->keys[i], "tag \"%s\" is defined "
				    "twice", t->name);
		if (t->cancel)
			ncancel++;
	}
	if (ncancel != 1)
		ydiag(d, tags, "exactly one tag must have \"cancel: true\" (the "
		    "取消 notice), found %zu", ncancel);
out:
	ynode_free(root);
}

int
rules_load(const char *dir, struct rules *r, struct diags *d)
{
	size_t errs = diag_errors(d);
	char *p;

	memset(r, 0, sizeof(*r));
	p = path_join(dir, "tags.yaml");
	load_tags(r, p, d);
	free(p);
	p = path_join(dir, "hours.yaml");
	hours_load(p, &r->hours, d);
	free(p);
	p = path_join(dir, "pii.yaml");
	pii_load(p, &r->pii, d);
	free(p);
	p = path_join(dir, "style.yaml");
	style_load(p, &r->style, d);
	free(p);
	if (diag_errors(d) != errs) {
		rules_free(r);
		return -1;
	}
	return 0;
}

void
rules_free(struct rules *r)
{
	for (size_t i = 0; i < r->ntags; i++)
		tag_free(&r->tags[i]);
	free(r->tags);
	hours_free(&r->hours);
	pii_free(&r->pii);
	style_free(&r->style);
	memset(r, 0, sizeof(*r));
}

const struct tag *
rules_tag(const struct rules *r, const char *name)
{
	char *bare = bare_name(name);
	const struct tag *found = NULL;

	for (size_t i = 0; i < r->ntags && found == NULL; i++)
		if (strcmp(r->tags[i].name, bare) == 0)
			found = &r->tags[i];
	free(bare);
	return found;
}
