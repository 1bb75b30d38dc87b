/*
 * pii.h: the personal-information matcher. rules/pii.yaml lists PCRE2
 * patterns (phone numbers, My Number, e-mail addresses, postal codes with
 * addresses, birth dates); a draft in which any of them matches would
 * identify a person and is refused by the caller.
 *
 * Contract: pure code. Nothing here logs, exits or decides; it loads rules
 * (every problem reported into a struct diags) and reports where they
 * match. It must never say "clean" about text it could not scan: invalid
 * UTF-8 and matcher failures are PII_SCAN_ERROR, which callers treat as a
 * refusal.
 */
#ifndef CRISISCAST_PII_H
#define CRISISCAST_PII_H

#include <stddef.h>

#include "util.h"
#include "ydoc.h"

/* One pattern from pii.yaml. All strings are owned by the set. */
struct pii_rule {
	char *id;		/* "phone": short, [a-z0-9_-], unique */
	char *label;		/* "電話番号": shown to people */
	char *pattern;		/* the PCRE2 source, as written */
	void *code;		/* compiled pcre2_code_8, opaque */
};

/*
 * The loaded rules plus an optional allow list: spans that equal an
 * allowed entry (e.g. the office's public phone number) are not hits.
 * Zero-initialise; filled by pii_load*, emptied by pii_free.
 */
struct pii_set {
	struct pii_rule *rules;
	size_t n;
	char **allow;		/* normalised keys, see pii.yaml "allow" */
	size_t nallow;
};

/*
 * Loads path into s (which must be zeroed or freed). Returns 0, or -1
 * after adding every error found to d ("file:line:col: msg"); on -1 s is
 * left empty. A pattern PCRE2 rejects is an error at its node with PCRE2's
 * message and offset; so is one that matches the empty text.
 */
int pii_load(const char *path, struct pii_set *s, struct diags *d);
/* Same from an already parsed tree (e.g. from yaml_load_string). */
int pii_load_node(const struct ynode *root, struct pii_set *s,
    struct diags *d);
/* Frees everything s holds and zeroes it. NULL-safe, idempotent. */
void pii_free(struct pii_set *s);

/* A match: which rule, where (bytes and code points, 0-based). */
struct pii_hit {
	const struct pii_rule *rule;	/* borrowed from the set */
	size_t start, end;		/* byte offsets, [start, end) */
	size_t cstart, clen;		/* code point offset and length */
};

/* pii_scan could not scan the text; treat as "refuse the draft". */
#define PII_SCAN_ERROR ((size_t)-1)

/*
 * Runs every rule over text[0..len) (need not be NUL-terminated, may
 * contain NULs) and finds every non-overlapping match of each rule.
 * Stores the first max hits (grouped by rule in file order, ascending
 * offset within a rule) and returns how many were found, which may exceed
 * max (hits may be NULL when max is 0). 0 means no rule matched.
 * Returns PII_SCAN_ERROR (hits undefined) when text is not valid UTF-8 or
 * PCRE2 fails (e.g. its match limit): the caller must refuse, not send.
 * Thread-safe: s is only read.
 */
size_t pii_scan(const struct pii_set *s, const char *text, size_t len,
    struct pii_hit *hits, size_t max);

/*
 * Writes a one-line Japanese description of h for the drafter into out
 * (always NUL-terminated when outsz > 0, truncated at a character
 * boundary), e.g.
 *   個人を特定できる情報（電話番号 [phone]）: 「090-1234-5678」（12文字目から13文字）
 * text must be the text h came from. The matched span is quoted (control
 * characters shown as spaces, cut after 64 bytes with "…"): it IS the
 * personal information, so show it to the drafter only; never log it.
 */
void pii_describe(const struct pii_hit *h, const char *text, char *out,
    size_t outsz);

#endif
