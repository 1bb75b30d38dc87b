/*
 * draft.h: what a draft must pass before it is stored (SPEC §5 step 1), and
 * the text of every message that leaves, rendered from the templates.
 *
 * Contract: draft_check() decides and stores nothing; it reports every
 * refusal (Japanese, for the person drafting) and every warning. The daemon
 * stores a draft only when out->nrefusals == 0. Pure: never logs.
 */
#ifndef CRISISCAST_DRAFT_H
#define CRISISCAST_DRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "site.h"

#define DRAFT_BODY_MAX	(16 * 1024)	/* bytes */
#define DRAFT_VARS_MAX	16

struct draft_in {
	const char *sender;	/* member id of who drafts */
	const char *tag;	/* with or without 【】 */
	const char *body;
	const char *audience;	/* NULL: the tag's default */
	bool drill;
	time_t at;		/* when it is drafted (rules check --at) */
};

struct draft_out {
	const struct tag *tag;	/* NULL when unknown */
	char *body;		/* normalized: starts with the tag label */
	char *audience;		/* the audience used */
	size_t *recipients;	/* member indexes, in send order */
	size_t nrecipients;
	char **refusals;
	size_t nrefusals;
	char **warnings;
	size_t nwarnings;
};

void draft_check(const struct site *s, const struct draft_in *in,
    struct draft_out *out);
void draft_out_free(struct draft_out *out);

/* The members an audience reaches, in send order (the tag's `first` group,
 * then roster order). 0, or -1 with a Japanese reason in err. */
int draft_recipients(const struct site *s, const struct tag *t,
    const char *audience, size_t **idx, size_t *n, char *err, size_t errsz);

/* The values a template sees; NULL fields are absent (false in sections). */
struct msg_vars {
	const char *tag;	/* label, 【…】 */
	const char *body;
	const char *link;
	bool drill;
	const char *sender_name, *sender_title;
	const char *recipient_name, *recipient_title;
	const char *approver_name;
	const char *alert_id;
	const char *alert_created;
	const char *responses;
	const char *deadline;
	const char *audience;
	const char *organization;
};

/*
 * Renders template `name` in `form` with v (text, no escaping). Returns a
 * new string, or NULL when the site has no such template.
 */
char *msg_render(const struct site *s, const char *name, enum tmpl_form form,
    const struct msg_vars *v);

/* The longest link this site can send: public_url + "/r/" + a token. */
char *msg_longest_link(const struct site *s, const char *route);

#endif
