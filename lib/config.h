/*
 * config.h: crisiscast.yaml, the daemon's configuration (SPEC §3.1).
 *
 * config_load() reads and checks the file alone: keys, types, durations,
 * addresses, references between sections (approval/delivery channels must be
 * transports). Each transport's own settings are checked by its vtable in
 * the daemon, and rosters, rules and templates by their loaders; site.h ties
 * them together. Relative paths are resolved against the config's directory.
 */
#ifndef CRISISCAST_CONFIG_H
#define CRISISCAST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "ydoc.h"

struct listen_conf {
	char *address;		/* host:port as written */
	char *tls_cert;		/* resolved paths, or NULL */
	char *tls_key;
};

struct transport_conf {
	char *channel;		/* the key under transports: */
	char *type;		/* file, lineworks, twilio, smtp, ntfy, ... */
	const struct ynode *node; /* the settings map; lives as long as the config */
};

struct config {
	char *path;		/* as given */
	char *dir;		/* its directory, for relative paths */
	struct ynode *root;	/* kept for transport settings and positions */

	char *organization;
	char *public_url;	/* no trailing slash */
	struct listen_conf *listen;
	size_t nlisten;
	char *control_socket;
	char *state_dir;
	char **rosters;		/* resolved paths */
	size_t nrosters;
	char *rules_dir;
	char *templates_dir;

	struct {
		char **approvers;
		size_t napprovers;
		long step_timeout;	/* seconds */
		long link_ttl;
		char **channels;
		size_t nchannels;
	} approval;

	struct {
		char **channels;	/* preference order */
		size_t nchannels;
		long ack_deadline;
		long renotify_max;
		/* Seconds a member's channel may keep failing (transient
		 * failures: timeouts, 5xx, 429) before the member is moved to
		 * the next channel; see daemon/fanout.c. */
		long failover_after;
	} delivery;

	/* /board and /metrics (SPEC §6): allowed from loopback when
	 * loopback_trusted, and from anywhere with the token read from
	 * token_file (NULL: no token, loopback only). A site behind a reverse
	 * proxy sets loopback_trusted: false, since every request then
	 * comes from loopback. */
	struct {
		char *token_file;	/* as written; resolved by the daemon */
		bool loopback_trusted;	/* default true */
	} board;

	long audit_retention_days;
	long max_accounts;	/* LINE WORKS plan limit, for the summary */

	struct transport_conf *transports;
	size_t ntransports;
};

/* 0 and a filled config, or -1 with every error in d (c is then freed). */
int config_load(const char *path, struct config *c, struct diags *d);
void config_free(struct config *c);
const struct transport_conf *config_transport(const struct config *c,
    const char *channel);
/* Resolves a path written in the config against its directory. */
char *config_path(const struct config *c, const char *p);
/* The normalized configuration, as `crisiscastd -nv` prints it. */
void config_print(const struct config *c, struct buf *out);

#endif
