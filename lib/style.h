/*
 * style.h: style warnings for a draft (rules/style.yaml): greetings and
 * stock phrases the guidelines say to leave out (お疲れ様です …), a body
 * over the length limit, a missing 【tag】 at the start.
 *
 * Contract: pure code; never logs or exits. Style is advice: style_check
 * only ever produces warnings, and nothing here may refuse or alter a draft.
 */
#ifndef CRISISCAST_STYLE_H
#define CRISISCAST_STYLE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "ydoc.h"

/* Loaded style.yaml. Zero-initialise; style_free empties it. */
struct style {
	char **phrases;		/* "greetings": exact substrings to flag */
	size_t nphrases;
	long max_chars;		/* body limit in code points; 0: none */
	bool require_tag;	/* warn unless the text starts with 【…】 */
	char *source;		/* cited in warnings ("三条市ガイドライン"), or NULL */
};

/*
 * Loads path into s (zeroed or freed before). Returns 0, or -1 after adding
 * every error to d ("file:line:col: msg"); on -1 s is left empty.
 * Keys: greetings (list, required), max_chars (0-100000, default 0),
 * require_tag (default true), source (optional).
 */
int style_load(const char *path, struct style *s, struct diags *d);
/* Same from an already parsed tree. */
int style_load_node(const struct ynode *root, struct style *s,
    struct diags *d);
/* Frees everything s holds and zeroes it. NULL-safe, idempotent. */
void style_free(struct style *s);

/*
 * Checks the NUL-terminated text and appends Japanese warnings, one
 * malloc'd string each, to *warns / *nwarns (which may start as NULL / 0;
 * the caller frees them with strlist_free(*warns, *nwarns)). Each listed
 * phrase is reported once however often it occurs. Order: invalid UTF-8
 * (then nothing else is checked), missing tag, length, phrases in file
 * order.
 */
void style_check(const struct style *s, const char *text, char ***warns,
    size_t *nwarns);

#endif
