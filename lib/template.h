/*
 * template.h: message templates (a small mustache subset) and SMS length
 * arithmetic (GSM 03.38 septets, UCS-2 units, segments).
 *
 * Contract: every mistake in a template is found by tmpl_compile or
 * tmpl_set_load and reported with file:line:column; rendering a compiled
 * template never fails. Nothing here logs or exits.
 */
#ifndef CRISISCAST_TEMPLATE_H
#define CRISISCAST_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Largest template text (and template file) accepted, in bytes. */
#define TMPL_MAX_SIZE	(64 * 1024)

/*
 * crisiscast sends every SMS as exactly one segment: a Japanese text is
 * UCS-2, so it must fit SMS_UCS2_SINGLE (70) UTF-16 units, link included.
 * sms_segments() tells the caller how far over a text is; the draft is
 * refused for the SMS channel when it returns more than 1.
 */
#define SMS_GSM7_SINGLE	160	/* septets in a single GSM-7 segment */
#define SMS_GSM7_MULTI	153	/* septets per segment of a long message */
#define SMS_UCS2_SINGLE	70	/* UTF-16 units in a single UCS-2 segment */
#define SMS_UCS2_MULTI	67	/* UTF-16 units per segment of a long message */

/*
 * Syntax accepted by tmpl_compile:
 *   {{name}} {{a.b}}      the value, HTML-escaped when rendering TMPL_HTML
 *   {{{name}}}            the value, never escaped
 *   {{#name}}...{{/name}} rendered when the value is non-NULL and non-empty
 *   {{^name}}...{{/name}} rendered when the value is NULL or empty
 *   {{! comment }}        nothing (may span lines, may not hold "{{")
 * Spaces around a name are allowed ({{ name }}). A name is one or more
 * segments of [A-Za-z0-9_] joined by single dots, and must be in the
 * caller's list of known names; an entry "P.*" in that list admits every
 * name P.KEY whose KEY is one segment of at most TMPL_VAR_KEY_MAX bytes
 * (tmpl_delivery_names holds "var.*", see below). A line holding nothing
 * but one section, inverted, close or comment tag (and spaces) is removed
 * whole, newline included, as in mustache. There are no partials,
 * lambdas, lists or set-delimiter tags; {{> and {{= are errors.
 * Diagnostic columns count characters (code points), 1-based.
 */
struct tmpl;

enum tmpl_escape {
	TMPL_TEXT,		/* values verbatim: SMS, LINE WORKS, mail, JSON */
	TMPL_HTML,		/* {{ }} escapes & < > " ', {{{ }}} does not */
};

enum tmpl_form {
	TMPL_LONG,		/* LINE WORKS, e-mail, ntfy, webhook, pages */
	TMPL_SMS,		/* one 70-unit UCS-2 segment with its link */
};
#define TMPL_NFORMS	2

/*
 * Returns the value of name (one of the template's known names) for ctx, or
 * NULL when it is absent or false. The string must stay valid until the
 * lookup is called again or tmpl_render returns.
 */
typedef const char *(*tmpl_lookup)(void *ctx, const char *name);

/*
 * Compiles text (NUL-terminated, valid UTF-8, at most TMPL_MAX_SIZE bytes).
 * name is the file name used in diagnostics and is copied. known is a
 * NULL-terminated list of the names the template may use. Every error found
 * is appended to d; returns NULL when there was any, else a template the
 * caller frees with tmpl_free. text is copied; the caller keeps it.
 */
struct tmpl *tmpl_compile(const char *name, const char *text,
    const char *const known[], struct diags *d);

/*
 * Renders t, asking fn(ctx, name) for each value (a NULL value renders as
 * nothing). Returns a new string the caller frees. Never fails.
 */
char *tmpl_render(const struct tmpl *t, tmpl_lookup fn, void *ctx,
    enum tmpl_escape esc);

/* The name given to tmpl_compile. */
const char *tmpl_name(const struct tmpl *t);

/* NULL is allowed. */
void tmpl_free(struct tmpl *t);

/*
 * The names a template may use (NULL-terminated). Delivery templates are
 * rendered once per recipient; approval templates once per approver.
 *   responses  the tag's response choices joined with " / " (NULL if none)
 *   deadline   the acknowledgement deadline as Japan time (NULL if none)
 *   drill      "1" for a drill, NULL otherwise
 *   audience   the audience in words, with counts
 *   var.KEY    (delivery only, the entry "var.*") a value the drafter gives
 *              with crisisctl draft --set KEY=VALUE (NULL when not given)
 */
extern const char *const tmpl_delivery_names[];
extern const char *const tmpl_approval_names[];

/* The drafter's values: var.KEY, KEY one segment of at most 32 bytes. */
#define TMPL_VAR_PREFIX		"var."
#define TMPL_VAR_KEY_MAX	32

/* true when key is a KEY of var.KEY: 1 to TMPL_VAR_KEY_MAX bytes of
 * [A-Za-z0-9_]. key may be NULL (false). */
bool tmpl_var_key_ok(const char *key);

/*
 * A var.KEY that a template uses. It is required when {{var.KEY}} or
 * {{{var.KEY}}} stands anywhere outside a {{#var.KEY}}...{{/var.KEY}}
 * section of its own (the text would have a hole without it); a KEY used
 * only inside its own section, or only in section and inverted tags, is
 * optional.
 */
struct tmpl_var {
	const char *key;	/* KEY without "var.", owned by the template */
	bool required;
};

/*
 * The var.KEY names t uses, each once, in order of first use: stores the
 * template's own array in *vars (valid until tmpl_free(t); NULL when
 * there are none) and returns how many.
 */
size_t tmpl_vars(const struct tmpl *t, const struct tmpl_var **vars);

/* The approval template's name in a set: approval.long.txt, approval.sms.txt */
#define TMPL_APPROVAL	"approval"

/*
 * A template set read from dir: TMPL_APPROVAL, compiled against
 * tmpl_approval_names, and each of names[0..nnames) (the tags' template
 * names, duplicates allowed), compiled against tmpl_delivery_names. Each
 * template is two files, dir/<name>.long.txt and dir/<name>.sms.txt; a
 * missing or unreadable file, a file over TMPL_MAX_SIZE, a NUL byte, invalid
 * UTF-8, a template name that is not [A-Za-z0-9_-]+ or is "approval", and
 * every template error are appended to d. A file's final newline is not
 * part of its template (so an SMS does not end in one). Returns NULL when
 * there was any error, else a set the caller frees with tmpl_set_free.
 * Reads the files now and never again: a reload builds a new set.
 */
struct tmpl_set;
struct tmpl_set *tmpl_set_load(const char *dir, const char *const names[],
    size_t nnames, struct diags *d);

/* The template name in form, or NULL when the set has no such template. */
const struct tmpl *tmpl_set_get(const struct tmpl_set *s, const char *name,
    enum tmpl_form form);

/* NULL is allowed. */
void tmpl_set_free(struct tmpl_set *s);

/*
 * SMS arithmetic over len bytes of UTF-8 (no NUL needed). Invalid bytes are
 * counted as one character each outside the GSM set, so they never make a
 * text look shorter than it is.
 */

/* UTF-16 code units: 1 per BMP character, 2 outside it (𠮷, emoji). */
size_t utf16_units(const char *utf8, size_t len);

/*
 * true when every character is in the GSM 03.38 default alphabet or its
 * extension table (^ { } \ [ ~ ] | € and form feed); an extension character
 * takes two septets. The empty text is GSM-7.
 */
bool sms_gsm7(const char *utf8, size_t len);

/*
 * Number of segments the text needs: GSM-7 when sms_gsm7(), 160 septets in
 * one segment or 153 per segment when longer; otherwise UCS-2, 70 UTF-16
 * units in one or 67 per segment. A long message never splits an extension
 * character or a surrogate pair across segments. Stores the text's length
 * in those units (septets or UTF-16 units) in *units and the one-segment
 * limit (160 or 70) in *limit; either may be NULL. Returns 0 only for the
 * empty text.
 */
int sms_segments(const char *utf8, size_t len, size_t *units, size_t *limit);

#endif
