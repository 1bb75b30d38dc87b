/*
 * pii.c: loads rules/pii.yaml into compiled PCRE2 patterns and finds, in a
 * draft, the spans that would identify a person.
 *
 * Must never: log or exit; report a text as clean when it could not be
 * scanned (invalid UTF-8, PCRE2 errors give PII_SCAN_ERROR); hand text to
 * PCRE2 with PCRE2_NO_UTF_CHECK before utf8_valid() said yes.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "pii.h"

#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PII_DESC_SPAN_MAX 64	/* bytes of matched text quoted */

static const char *const top_keys[] = { "patterns", "allow", NULL };
static const char *const rule_keys[] = { "id", "label", "pattern", NULL };

/*
 * Decodes the code point at s[*i] (valid UTF-8, *i < len) and advances *i.
 */
static uint32_t
utf8_next(const char *s, size_t len, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t n = 0;
	uint32_t cp;

	if (p[0] < 0x80) {
		(*i)++;
		return p[0];
	} else if ((p[0] & 0xe0) == 0xc0) {
		n = 1; cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 2; cp = p[0] & 0x0f;
	} else {
		n = 3; cp = p[0] & 0x07;
	}
	for (size_t k = 1; k <= n && *i + k < len; k++)
		cp = (cp << 6) | (p[k] & 0x3f);
	*i += n + 1;
	return cp;
}

/* Appends code point cp to b as UTF-8. */
static void
utf8_put(struct buf *b, uint32_t cp)
{
	char o[4];

	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 3);
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 4);
	}
}

/*
 * The comparison key for the allow list, from valid UTF-8 s[0..len):
 * full-width ASCII (U+FF01-FF5E) folded to ASCII, ASCII lower-cased,
 * spaces, hyphen and dash variants and parentheses dropped. So
 * "０２５６（３４）５５１１" and "0256-34-5511" give the same key.
 * Returns a new string.
 */
static char *
allow_key(const char *s, size_t len)
{
	struct buf b = {0};
	size_t i = 0;

	while (i < len) {
		uint32_t cp = utf8_next(s, len, &i);

		if (cp >= 0xff01 && cp <= 0xff5e)
			cp -= 0xfee0;
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
		    cp == '-' || cp == '(' || cp == ')' || cp == 0x3000 ||
		    (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 ||
		    cp == 0x30fc || cp == 0xff70)
			continue;
		utf8_put(&b, cp);
	}
	return buf_take(&b);
}

/* true when the hit text[start..end) equals an allowed entry. */
static bool
allowed(const struct pii_set *s, const char *text, size_t start, size_t end)
{
	bool found = false;

	if (s->nallow == 0)
		return false;
	char *k = allow_key(text + start, end - start);
	for (size_t i = 0; i < s->nallow && !found; i++)
		found = strcmp(k, s->allow[i]) == 0;
	free(k);
	return found;
}

/* Ids are short machine names: [a-z0-9_-], starting with a letter. */
static bool
valid_id(const char *id)
{
	if (*id < 'a' || *id > 'z' || strlen(id) > 32)
		return false;
	for (; *id != '\0'; id++)
		if (!((*id >= 'a' && *id <= 'z') ||
		    (*id >= '0' && *id <= '9') || *id == '_' || *id == '-'))
			return false;
	return true;
}

/*
 * Compiles pattern (node pn, for positions) for rule id. Returns the code
 * or NULL after adding an error at pn.
 */
static pcre2_code *
compile_rule(const char *id, const char *pattern, const struct ynode *pn,
    struct diags *d)
{
	pcre2_code *code;
	pcre2_match_data *md;
	int err, rc;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[256];

	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP, &err, &off, NULL);
	if (code == NULL) {
		if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "unknown error");
		ydiag(d, pn, "invalid pattern for \"%s\": %s at offset %zu",
		    id, (char *)msg, (size_t)off);
		return NULL;
	}
	/* No JIT: the unit's MemoryDenyWriteExecute=yes refuses it anyway,
	 * and a draft is scanned in well under a millisecond without it. */

	/* A pattern that matches nothing at all would refuse every draft. */
	md = pcre2_match_data_create_from_pattern(code, NULL);
	if (md == NULL)
		abort();
	rc = pcre2_match(code, (PCRE2_SPTR)"", 0, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	if (rc >= 0) {
		ydiag(d, pn, "pattern for \"%s\" matches empty text, so it "
		    "would refuse every draft", id);
		pcre2_code_free(code);
		return NULL;
	}
	return code;
}

/*
 * Reads one item of "patterns" into r (zeroed). Returns false after
 * adding errors; r may then hold parts, which the caller frees.
 */
static bool
load_rule(const struct ynode *item, size_t idx, struct pii_rule *r,
    struct diags *d)
{
	const char *id = NULL, *label = NULL, *pattern = NULL;
	bool ok = true;
	char what[64];

	snprintf(what, sizeof(what), "pattern %zu", idx + 1);
	if (!ymap_check(item, what, rule_keys, d))
		ok = false;
	if (item->type != Y_MAP)
		return false;
	if (!yget_str(item, "id", true, d, &id))
		ok = false;
	else if (!valid_id(id)) {
		ydiag(d, ymap_get(item, "id"), "id \"%s\" must be a short "
		    "name of a-z, 0-9, _ and -, starting with a letter", id);
		ok = false;
	}
	if (!yget_str(item, "label", true, d, &label))
		ok = false;
	else if (label[0] == '\0') {
		ydiag(d, ymap_get(item, "label"), "\"label\" is empty");
		ok = false;
	}
	if (!yget_str(item, "pattern", true, d, &pattern))
		ok = false;
	if (!ok)
		return false;
	r->id = xstrdup(id);
	r->label = xstrdup(label);
	r->pattern = xstrdup(pattern);
	r->code = compile_rule(id, pattern, ymap_get(item, "pattern"), d);
	return r->code != NULL;
}

int
pii_load_node(const struct ynode *root, struct pii_set *s, struct diags *d)
{
	const struct ynode *pats;
	size_t before = diag_errors(d);
	char **allow = NULL;
	size_t nallow = 0;

	memset(s, 0, sizeof(*s));
	if (!ymap_check(root, "pii rules", top_keys, d) &&
	    (root == NULL || root->type != Y_MAP))
		return -1;

	pats = ymap_get(root, "patterns");
	if (pats == NULL)
		ydiag(d, root, "missing \"patterns\"");
	else if (pats->type != Y_SEQ)
		ydiag(d, pats, "\"patterns\" must be a list of patterns "
		    "(id, label, pattern)");
	else {
		if (pats->n == 0)
			ywarn(d, pats, "\"patterns\" is empty: no draft will "
			    "ever be refused for personal information");
		s->rules = xcalloc(pats->n, sizeof(*s->rules));
		for (size_t i = 0; i < pats->n; i++) {
			struct pii_rule *r = &s->rules[s->n++];

			if (!load_rule(pats->items[i], i, r, d))
				continue;
			for (size_t j = 0; j + 1 < s->n; j++) {
				if (s->rules[j].id != NULL &&
				    strcmp(s->rules[j].id, r->id) == 0) {
					ydiag(d, ymap_get(pats->items[i],
					    "id"), "duplicate id \"%s\"",
					    r->id);
					break;
				}
			}
		}
	}

	if (yget_strlist(root, "allow", false, d, &allow, &nallow)) {
		s->allow = xcalloc(nallow + 1, sizeof(char *));
		for (size_t i = 0; i < nallow; i++) {
			s->allow[i] = allow_key(allow[i], strlen(allow[i]));
			if (s->allow[i][0] == '\0')
				ydiag(d, ymap_get(root, "allow"),
				    "\"allow\" item %zu is empty", i + 1);
		}
		s->nallow = nallow;
		strlist_free(allow, nallow);
	}

	if (diag_errors(d) != before) {
		pii_free(s);
		return -1;
	}
	return 0;
}

int
pii_load(const char *path, struct pii_set *s, struct diags *d)
{
	struct ynode *root;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((root = yaml_load(path, d)) == NULL)
		return -1;
	rc = pii_load_node(root, s, d);
	ynode_free(root);
	return rc;
}

void
pii_free(struct pii_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->rules[i].id);
		free(s->rules[i].label);
		free(s->rules[i].pattern);
		pcre2_code_free(s->rules[i].code);
	}
	free(s->rules);
	strlist_free(s->allow, s->nallow);
	memset(s, 0, sizeof(*s));
}

/*
 * Finds every non-overlapping, non-empty, not allowed match of r in valid
 * UTF-8 text, storing into hits[*found] while *found < max and counting
 * all in *found. Returns -1 on a PCRE2 failure.
 */
static int
scan_rule(const struct pii_set *s, const struct pii_rule *r,
    const char *text, size_t len, struct pii_hit *hits, size_t max,
    size_t *found)
{
	pcre2_match_data *md;
	size_t off = 0, cpos = 0, cbytes = 0;	/* code points before cbytes */
	int rc = 0;

	md = pcre2_match_data_create_from_pattern(r->code, NULL);
	if (md == NULL)
		abort();
	while (off <= len) {
		PCRE2_SIZE *ov;
		size_t start, end;

		rc = pcre2_match(r->code, (PCRE2_SPTR)text, len, off,
		    PCRE2_NO_UTF_CHECK, md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH) {
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		rc = 0;
		ov = pcre2_get_ovector_pointer(md);
		start = ov[0];
		end = ov[1];
		if (end <= start || start < off) {
			/* Empty (or \K-reversed) match: step one character. */
			off = end > off ? end : off;
			if (off >= len)
				break;
			utf8_next(text, len, &off);
			continue;
		}
		off = end;
		if (allowed(s, text, start, end))
			continue;
		if (*found < max) {
			cpos += utf8_count(text + cbytes, start - cbytes);
			cbytes = start;
			hits[*found] = (struct pii_hit){
				.rule = r,
				.start = start,
				.end = end,
				.cstart = cpos,
				.clen = utf8_count(text + start, end - start),
			};
		}
		(*found)++;
	}
	pcre2_match_data_free(md);
	return rc < 0 ? -1 : 0;
}

size_t
pii_scan(const struct pii_set *s, const char *text, size_t len,
    struct pii_hit *hits, size_t max)
{
	size_t found = 0;

	if (text == NULL)
		return len == 0 ? 0 : PII_SCAN_ERROR;
	if (!utf8_valid(text, len))
		return PII_SCAN_ERROR;
	for (size_t i = 0; i < s->n; i++)
		if (scan_rule(s, &s->rules[i], text, len, hits, max,
		    &found) == -1)
			return PII_SCAN_ERROR;
	return found;
}

/*
 * Copies src into out (outsz > 0), cutting at a UTF-8 character boundary
 * so the result stays valid, and NUL-terminates.
 */
static void
copy_cut(char *out, size_t outsz, const char *src, size_t n)
{
	if (n >= outsz) {
		n = outsz - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, src, n);
	out[n] = '\0';
}

void
pii_describe(const struct pii_hit *h, const char *text, char *out,
    size_t outsz)
{
	struct buf b = {0};
	size_t n, i;

	if (out == NULL || outsz == 0)
		return;
	if (h == NULL || h->rule == NULL || text == NULL || h->end < h->start) {
		static const char none[] = "個人を特定できる情報";

		copy_cut(out, outsz, none, sizeof(none) - 1);
		return;
	}
	buf_printf(&b, "個人を特定できる情報（%s [%s]）: 「", h->rule->label,
	    h->rule->id);
	n = h->end - h->start;
	if (n > PII_DESC_SPAN_MAX) {
		n = PII_DESC_SPAN_MAX;
		while (n > 0 &&
		    ((unsigned char)text[h->start + n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[h->start + i];

		buf_addc(&b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	if (n < h->end - h->start)
		buf_adds(&b, "…");
	buf_printf(&b, "」（%zu文字目から%zu文字）", h->cstart + 1, h->clen);
	copy_cut(out, outsz, b.data, b.len);
	buf_free(&b);
}
