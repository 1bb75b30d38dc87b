/*
 * site.c: loads a whole site and checks what crosses file boundaries.
 * Pure: errors go to diags.
 */
#include "site.h"

#include <stdlib.h>
#include <string.h>

static void
check_cross(struct site *s, struct diags *d)
{
	const struct config *c = &s->cfg;
	const struct ynode *appr = ymap_get(c->root, "approval");
	const struct ynode *list = ymap_get(appr, "approvers");
	char *tags;

	for (size_t i = 0; i < c->approval.napprovers; i++) {
		const struct ynode *at = list && list->type == Y_SEQ &&
		    i < list->n ? list->items[i] : list;
		const struct member *m = roster_find(&s->roster,
		    c->approval.approvers[i]);
		if (m == NULL)
			ydiag(d, at, "approver \"%s\" is not in the rosters",
			    c->approval.approvers[i]);
		else if (!(m->roles & ROLE_APPROVER))
			ydiag(d, at, "approver \"%s\" (%s) does not have the "
			    "approver role", m->id, m->title);
	}
	tags = path_join(c->rules_dir, "tags.yaml");
	for (size_t i = 0; i < s->rules.ntags; i++) {
		const struct tag *t = &s->rules.tags[i];
		char err[256];
		size_t *idx, n;
		if (t->audience != NULL && roster_audience(&s->roster,
		    t->audience, &idx, &n, err, sizeof(err)) < 0)
			diag_add(d, tags, t->audience_line, t->audience_col,
			    "tag %s: default audience: %s", t->name, err);
		else if (t->audience != NULL)
			free(idx);
		if (t->first != NULL && roster_group(&s->roster, t->first) < 0)
			diag_add(d, tags, t->first_line, t->first_col, "tag %s: "
			    "\"first\" names no group: %s", t->name, t->first);
	}
	free(tags);
}

static int
load_parts(struct site *s, struct diags *d)
{
	size_t errs = diag_errors(d);
	struct channel_ref *ch;
	const char **names;

	ch = xcalloc(s->cfg.ntransports + 1, sizeof(*ch));
	for (size_t i = 0; i < s->cfg.ntransports; i++) {
		ch[i].name = s->cfg.transports[i].channel;
		ch[i].type = s->cfg.transports[i].type;
	}
	roster_load(&s->roster, s->cfg.rosters, s->cfg.nrosters, ch,
	    s->cfg.ntransports, d);
	free(ch);
	if (rules_load(s->cfg.rules_dir, &s->rules, d) == 0) {
		names = xcalloc(s->rules.ntags + 1, sizeof(*names));
		for (size_t i = 0; i < s->rules.ntags; i++)
			names[i] = s->rules.tags[i].template;
		s->tmpl = tmpl_set_load(s->cfg.templates_dir, names,
		    s->rules.ntags, d);
		free(names);
	}
	if (diag_errors(d) == errs)
		check_cross(s, d);
	return diag_errors(d) == errs ? 0 : -1;
}

int
site_load(const char *config_path, struct site *s, struct diags *d)
{
	memset(s, 0, sizeof(*s));
	if (config_load(config_path, &s->cfg, d) < 0)
		return -1;
	if (load_parts(s, d) < 0) {
		site_free(s);
		return -1;
	}
	return 0;
}

int
site_reload(const struct site *cur, struct site *out, struct diags *d)
{
	return site_load(cur->cfg.path, out, d);
}

void
site_free(struct site *s)
{
	roster_free(&s->roster);
	rules_free(&s->rules);
	tmpl_set_free(s->tmpl);
	config_free(&s->cfg);
	memset(s, 0, sizeof(*s));
}

void
site_summary(const struct site *s, struct buf *out)
{
	const struct roster *r = &s->roster;

	buf_printf(out, "%zu accounts:", r->nmembers);
	for (size_t g = 0; g < r->ngroups; g++)
		buf_printf(out, "%s %s %zu", g ? "," : "", r->groups[g].id,
		    roster_group_count(r, g));
	buf_adds(out, "; channels:");
	for (size_t i = 0; i < s->cfg.ntransports; i++)
		buf_printf(out, "%s %s %zu", i ? "," : "",
		    s->cfg.transports[i].channel,
		    roster_channel_count(r, s->cfg.transports[i].channel));
	buf_addc(out, '\n');
	for (size_t i = 0; i < s->cfg.ntransports; i++) {
		const struct transport_conf *t = &s->cfg.transports[i];
		size_t n = roster_channel_count(r, t->channel);
		if (strcmp(t->type, "lineworks") == 0 &&
		    n > (size_t)s->cfg.max_accounts)
			buf_printf(out, "warning: %zu LINE WORKS accounts on "
			    "channel %s exceed the plan limit of %ld\n", n,
			    t->channel, s->cfg.max_accounts);
	}
}
