/*
 * site.h: everything a site writes, loaded together: crisiscast.yaml, the
 * rosters, the rules and the templates, cross-checked (approvers exist and
 * have the approver role, tags' templates exist, default audiences resolve).
 *
 * Contract: site_load() is all or nothing; on error every problem is in d
 * and nothing is kept. site_reload() loads the whole site again from the
 * running config's file, for SIGHUP and `crisisctl reload`; the daemon
 * then swaps in only its rosters, rules and templates, and only on success.
 */
#ifndef CRISISCAST_SITE_H
#define CRISISCAST_SITE_H

#include "config.h"
#include "roster.h"
#include "rules.h"
#include "template.h"

struct site {
	struct config cfg;
	struct roster roster;
	struct rules rules;
	struct tmpl_set *tmpl;
};

int site_load(const char *config_path, struct site *s, struct diags *d);
/* Loads rosters, rules and templates into out using cur's config (copied
 * by loading the same file again, so out is independent of cur). */
int site_reload(const struct site *cur, struct site *out, struct diags *d);
void site_free(struct site *s);
/* "94 accounts: crisis 38, shelter 56; channels: lineworks 94, ..." plus
 * warnings (LINE WORKS plan limit) as extra lines. */
void site_summary(const struct site *s, struct buf *out);

#endif
