/*
 * roster.h: the people crisiscast reaches. Loads and checks the roster
 * files (SPEC §3.2) into one struct roster, finds members by id and by Unix
 * login, and resolves AUDIENCE expressions (SPEC §4) to members.
 *
 * Contract: pure code. Nothing here logs, exits or touches the network.
 * Load problems go to the caller's diags as "file:line:col: message" (every
 * problem, not just the first); audience problems go to the caller's error
 * buffer as one Japanese sentence meant for the crisis office.
 */
#ifndef CRISISCAST_ROSTER_H
#define CRISISCAST_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum { ROLE_SENDER = 1, ROLE_APPROVER = 2, ROLE_ADMIN = 4 };

enum shelter_kind { SHELTER_DESIGNATED, SHELTER_FEVER };

/* At most this many roster files (groups): member.groups is a bit set. */
#define ROSTER_MAX_GROUPS	32
/* Longest AUDIENCE expression roster_audience() accepts, in bytes. */
#define ROSTER_AUDIENCE_MAX	4096

struct contact {
	char *channel;		/* a configured channel name */
	char *address;		/* checked for the channel's kind, see below */
};

/*
 * One person. All strings are owned by the roster and read-only: they live
 * in its pool (a staff member's shelter is its shelter's id string), freed
 * only by roster_free(). members[i].order == i: the roster order is file
 * order, then position in the file; a person who is in two files keeps the
 * position of the first.
 */
struct member {
	char *id;		/* ^[a-z0-9][a-z0-9_-]{0,63}$, unique */
	char *name;		/* 姓 名 */
	char *title;		/* 役職 */
	char *login;		/* Unix login or NULL; unique */
	char *phone;		/* E.164 or NULL; for the call list */
	unsigned roles;		/* ROLE_* bits */
	uint32_t groups;	/* bit i set: member of r->groups[i] */
	char *shelter;		/* first shelter staffed, or NULL */
	struct contact *contacts;	/* file order, at least one */
	size_t ncontacts;
	size_t order;		/* index in r->members */
};

struct shelter {
	char *id;		/* unique across all files */
	char *name;
	enum shelter_kind kind;
	size_t group;		/* index into r->groups */
	size_t *staff;		/* indexes into r->members, file order */
	size_t nstaff;		/* at least one */
};

struct group {
	char *id;		/* unique; one per file */
	char *title;
};

/* Private to roster.c: the hash indexes by member id, login and shelter
 * id, and the pool holding every string of the roster. */
struct roster_private;

/*
 * A loaded roster. It may be moved by value, the old copy forgotten (the
 * daemon swaps a reloaded one in), never duplicated: both would share
 * every pointer.
 */
struct roster {
	struct member *members;
	size_t nmembers;
	struct shelter *shelters;
	size_t nshelters;
	struct group *groups;	/* in the order of the paths given */
	size_t ngroups;
	struct roster_private *priv;	/* NULL in an empty roster */
};

/* A configured channel: its name (the contacts key) and transport type. */
struct channel_ref {
	const char *name;
	const char *type;
};

/*
 * Loads the roster files in paths (each one group: `group`, `title`, and
 * either `members` or `shelters`) into *r, which is overwritten, not freed.
 *
 * Checks: ids, group ids and shelter ids unique (a duplicate's error is at
 * the second place and names the first); non-empty name and title; roles
 * among sender, approver, admin; logins well-formed and unique; at least
 * one contact, each keyed by one of the nchannels channels; shelter kind
 * designated or fever; at least one staff per shelter. Addresses are
 * checked by what the channel is: E.164 (^\+[1-9][0-9]{7,14}$) for `phone`
 * and for a channel named "sms" or of type "twilio"; user@domain for one
 * named "email" or of type "smtp"; a ntfy topic ([-_A-Za-z0-9]{1,64}) for
 * one named "ntfy" or of type "ntfy".
 *
 * The same id in two files is one person in both groups, allowed only when
 * name, title and contacts are identical (otherwise an error naming both
 * places); roles are joined, and phone and login, when both places give
 * one, must agree.
 *
 * Returns 0 (warnings may have been added, e.g. an empty group) or -1 when
 * any error was added to d; then *r is left empty. Free with roster_free().
 */
int roster_load(struct roster *r, char *const paths[], size_t npaths,
    const struct channel_ref *channels, size_t nchannels, struct diags *d);
/* Frees everything and leaves *r empty; safe on an empty roster. */
void roster_free(struct roster *r);

/* Lookups: a pointer into r, valid until roster_free(), or NULL. Hashed:
 * O(1) on average whatever the roster's size; NULL on an empty roster. */
const struct member *roster_find(const struct roster *r, const char *id);
const struct member *roster_find_login(const struct roster *r,
    const char *login);
const struct shelter *roster_shelter(const struct roster *r, const char *id);
/*
 * The member's contact on the first channel after `from` in `order` (the
 * delivery channels in preference order) that they have one on, or NULL
 * when none follows (or `from` is not in the order).
 */
const struct contact *member_next_contact(const struct member *m,
    char *const order[], size_t norder, const char *from);
/* The member's contact on this channel, or NULL. */
const struct contact *member_contact(const struct member *m,
    const char *channel);
/* Index of the group with this id, or -1 (at most ROSTER_MAX_GROUPS). */
int roster_group(const struct roster *r, const char *id);

/* "designated" or "fever". */
const char *shelter_kind_name(enum shelter_kind kind);

/* Summary counts: members in group g (g < r->ngroups; a person in two
 * groups counts in each), and members with a contact on channel. */
size_t roster_group_count(const struct roster *r, size_t g);
size_t roster_channel_count(const struct roster *r, const char *channel);

/*
 * Resolves an AUDIENCE: terms joined with '+', each one of
 *   GROUP                 a group id alone: every member of the group
 *   shelter:ID[,ID…]      the staff of those shelters
 *   kind:designated|fever the staff of every shelter of that kind
 *   member:ID[,ID…]       those members
 * (`shelter` alone, when no group has that id, means every shelter's
 * staff). Spaces around terms and names are ignored.
 *
 * On success returns 0, *idx (caller frees) holds *n >= 1 member indexes,
 * each once (a person in two groups counts once), ascending (roster
 * order). On failure returns -1, *idx = NULL, *n = 0, and err holds one
 * Japanese sentence naming the problem, e.g.
 * 「宛先の避難所「hs99」は名簿にありません」: an empty audience or term, an
 * unknown prefix, group, shelter, member or kind, an expression longer than
 * ROSTER_AUDIENCE_MAX, or nobody at all. err may be NULL when errsz is 0.
 */
int roster_audience(const struct roster *r, const char *audience,
    size_t **idx, size_t *n, char *err, size_t errsz);

#endif
