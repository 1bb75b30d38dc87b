/*
 * rules.h: the site's rules directory (SPEC §3.3): tags.yaml (what may be
 * sent and how), hours.yaml (office hours and closed days), pii.yaml
 * (patterns that refuse a draft) and style.yaml (warnings).
 *
 * Contract: rules_load() reads all four and reports every error; on any
 * error nothing is kept. Pure: never logs.
 */
#ifndef CRISISCAST_RULES_H
#define CRISISCAST_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "hours.h"
#include "pii.h"
#include "style.h"
#include "util.h"

enum tag_priority { PRIO_LOW, PRIO_NORMAL, PRIO_HIGH, PRIO_URGENT };

struct tag {
	char *name;		/* 避難所開設要請 */
	char *label;		/* 【避難所開設要請】 */
	char *audience;		/* default AUDIENCE, or NULL (must be given) */
	bool approval;		/* mayor approval required (default true) */
	enum tag_priority priority;
	long ack_deadline;	/* seconds; 0 = the config's */
	char **responses;	/* choices a confirmation may carry */
	size_t nresponses;
	char *template;		/* template name in templates_dir */
	char *first;		/* group id whose members are reached first */
	/* Where audience and first were written in tags.yaml (0 if not), for
	 * the checks against the rosters that only the site can make. */
	int audience_line, audience_col, first_line, first_col;
	bool cancel;		/* this is the 取消 tag */
	/* Shelter readiness (避難所開設要請): a targeted shelter is ready when
	 * at least min_ready of its staff confirmed with one of responses
	 * (each one of the tag's). min_ready 0: no rule for this tag. */
	struct {
		long min_ready;
		char **responses;
		size_t nresponses;
	} readiness;
	struct {
		char *category, *urgency, *severity, *certainty;
	} cap;
};

struct rules {
	struct tag *tags;
	size_t ntags;
	struct hours hours;
	struct pii_set pii;
	struct style style;
};

int rules_load(const char *dir, struct rules *r, struct diags *d);
void rules_free(struct rules *r);
/* By name, with or without 【】; NULL when unknown. */
const struct tag *rules_tag(const struct rules *r, const char *name);
const char *tag_priority_name(enum tag_priority p);

#endif
