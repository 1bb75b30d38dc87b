/*
 * config.c: loads and checks crisiscast.yaml. Pure: errors go to diags.
 */
#include "config.h"

#include <ctype.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_STEP_TIMEOUT	(10 * 60)
#define DEFAULT_LINK_TTL	(30 * 60)
#define DEFAULT_ACK_DEADLINE	(10 * 60)
#define DEFAULT_FAILOVER_AFTER	60
#define DEFAULT_RENOTIFY_MAX	3
#define DEFAULT_RETENTION_DAYS	(5 * 365)
#define DEFAULT_MAX_ACCOUNTS	100

static const char *const top_keys[] = {
	"organization", "public_url", "listen", "control_socket", "state_dir",
	"rosters", "rules_dir", "templates_dir", "approval", "delivery",
	"transports", "audit", "lineworks_max_accounts", "board", NULL,
};
static const char *const approval_keys[] = {
	"approvers", "step_timeout", "link_ttl", "channels", NULL,
};
static const char *const delivery_keys[] = {
	"channels", "ack_deadline", "renotify_max", "failover_after", NULL,
};
static const char *const listen_keys[] = {
	"address", "tls_cert", "tls_key", NULL,
};
static const char *const audit_keys[] = { "retention_days", NULL };
static const char *const board_keys[] = {
	"token_file", "loopback_trusted", NULL,
};

char *
config_path(const struct config *c, const char *p)
{
	return path_join(c->dir, p);
}

/* host:port with a port 1-65535; host an IPv4, [IPv6] or a name. */
static bool
address_ok(const char *a)
{
	const char *colon = strrchr(a, ':');
	long port;

	if (colon == NULL || colon == a || colon[1] < '0' || colon[1] > '9')
		return false;
	if (parse_long(colon + 1, 1, 65535, &port) < 0)
		return false;
	if (a[0] == '[')
		return colon[-1] == ']' && colon - a > 2;
	for (const char *p = a; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			return false;
	return true;
}

static bool
channel_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 32)
		return false;
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '_' && *p != '-')
			return false;
	return true;
}

static void
load_listen(struct config *c, const struct ynode *l, struct diags *d)
{
	if (l == NULL) {
		c->listen = xcalloc(1, sizeof(*c->listen));
		c->listen[0].address = xstrdup("127.0.0.1:8080");
		c->nlisten = 1;
		return;
	}
	if (l->type != Y_SEQ) {
		ydiag(d, l, "\"listen\" must be a list of {address: host:port}");
		return;
	}
	c->listen = xcalloc(l->n + 1, sizeof(*c->listen));
	for (size_t i = 0; i < l->n; i++) {
		const struct ynode *it = l->items[i];
		const char *addr, *cert = NULL, *key = NULL;
		if (!ymap_check(it, "a listen entry", listen_keys, d))
			continue;
		if (!yget_str(it, "address", true, d, &addr))
			continue;
		if (!address_ok(addr)) {
			ydiag(d, ymap_get(it, "address"),
			    "listen address \"%s\" must be host:port", addr);
			continue;
		}
		yget_str(it, "tls_cert", false, d, &cert);
		yget_str(it, "tls_key", false, d, &key);
		if ((cert == NULL) != (key == NULL)) {
			ydiag(d, it, "tls_cert and tls_key go together");
			continue;
		}
		struct listen_conf *lc = &c->listen[c->nlisten++];
		lc->address = xstrdup(addr);
		lc->tls_cert = cert ? config_path(c, cert) : NULL;
		lc->tls_key = key ? config_path(c, key) : NULL;
	}
}

static void
load_transports(struct config *c, const struct ynode *t, struct diags *d)
{
	if (t == NULL) {
		ydiag(d, c->root, "missing \"transports\"");
		return;
	}
	if (t->type != Y_MAP || t->n == 0) {
		ydiag(d, t, "\"transports\" must be a map of channel: {type: ...}");
		return;
	}
	c->transports = xcalloc(t->n, sizeof(*c->transports));
	for (size_t i = 0; i < t->n; i++) {
		const struct ynode *k = t->keys[i], *v = t->items[i];
		const char *type;
		if (!channel_name_ok(k->str)) {
			ydiag(d, k, "channel name \"%s\" must be lowercase letters, "
			    "digits, _ or -", k->str);
			continue;
		}
		if (v->type != Y_MAP) {
			ydiag(d, v, "transport \"%s\" must be a map", k->str);
			continue;
		}
		if (!yget_str(v, "type", true, d, &type))
			continue;
		struct transport_conf *tc = &c->transports[c->ntransports++];
		tc->channel = xstrdup(k->str);
		tc->type = xstrdup(type);
		tc->node = v;
	}
}

const struct transport_conf *
config_transport(const struct config *c, const char *channel)
{
	for (size_t i = 0; i < c->ntransports; i++)
		if (strcmp(c->transports[i].channel, channel) == 0)
			return &c->transports[i];
	return NULL;
}

static void
check_channels(const struct config *c, const struct ynode *map,
    const char *key, char **v, size_t n, struct diags *d)
{
	const struct ynode *node = ymap_get(map, key);

	if (n == 0)
		ydiag(d, node ? node : map, "\"%s\" needs at least one channel",
		    key);
	for (size_t i = 0; i < n; i++) {
		const struct ynode *at = node && node->type == Y_SEQ &&
		    i < node->n ? node->items[i] : node;
		if (config_transport(c, v[i]) == NULL && c->ntransports > 0)
			ydiag(d, at, "channel \"%s\" is not a transport under "
			    "\"transports\"", v[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(v[i], v[j]) == 0)
				ydiag(d, at, "channel \"%s\" is listed twice", v[i]);
	}
}

static bool
public_url_ok(const char *u)
{
	const char *host;

	if (startswith(u, "https://"))
		host = u + 8;
	else if (startswith(u, "http://"))
		host = u + 7;
	else
		return false;
	if (*host == '\0' || *host == '/')
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#' ||
		    *p == '"' || *p == '<' || *p == '>')
			return false;
	return strlen(u) <= 200;
}

int
config_load(const char *path, struct config *c, struct diags *d)
{
	size_t errs = diag_errors(d);
	const char *s;
	const struct ynode *n;

	memset(c, 0, sizeof(*c));
	c->path = xstrdup(path);
	{
		char *tmp = xstrdup(path);
		c->dir = xstrdup(dirname(tmp));
		free(tmp);
	}
	c->root = yaml_load(path, d);
	if (c->root == NULL)
		goto fail;
	if (!ymap_check(c->root, "the configuration", top_keys, d) &&
	    c->root->type != Y_MAP)
		goto fail;

	if (yget_str(c->root, "organization", true, d, &s))
		c->organization = xstrdup(s);
	if (yget_str(c->root, "public_url", true, d, &s)) {
		if (!public_url_ok(s))
			ydiag(d, ymap_get(c->root, "public_url"),
			    "public_url must be an http:// or https:// URL with a "
			    "host and no query, not \"%s\"", s);
		else {
			c->public_url = xstrdup(s);
			size_t len = strlen(c->public_url);
			while (len > 0 && c->public_url[len - 1] == '/')
				c->public_url[--len] = '\0';
		}
	}
	load_listen(c, ymap_get(c->root, "listen"), d);
	c->control_socket = xstrdup("/run/crisiscast/control.sock");
	if (yget_str(c->root, "control_socket", false, d, &s)) {
		free(c->control_socket);
		c->control_socket = config_path(c, s);
	}
	c->state_dir = xstrdup("/var/lib/crisiscast");
	if (yget_str(c->root, "state_dir", false, d, &s)) {
		free(c->state_dir);
		c->state_dir = config_path(c, s);
	}
	if (yget_strlist(c->root, "rosters", true, d, &c->rosters,
	    &c->nrosters)) {
		for (size_t i = 0; i < c->nrosters; i++) {
			char *p = config_path(c, c->rosters[i]);
			free(c->rosters[i]);
			c->rosters[i] = p;
		}
		if (c->nrosters == 0)
			ydiag(d, ymap_get(c->root, "rosters"),
			    "\"rosters\" needs at least one file");
	}
	c->rules_dir = config_path(c, yget_str(c->root, "rules_dir", false, d,
	    &s) ? s : "rules");
	c->templates_dir = config_path(c, yget_str(c->root, "templates_dir",
	    false, d, &s) ? s : "templates");

	load_transports(c, ymap_get(c->root, "transports"), d);

	c->approval.step_timeout = DEFAULT_STEP_TIMEOUT;
	c->approval.link_ttl = DEFAULT_LINK_TTL;
	n = ymap_get(c->root, "approval");
	if (n == NULL)
		ydiag(d, c->root, "missing \"approval\"");
	else if (ymap_check(n, "approval", approval_keys, d) || n->type == Y_MAP) {
		/* Unknown keys are reported; the known ones are still checked. */
		yget_strlist(n, "approvers", true, d, &c->approval.approvers,
		    &c->approval.napprovers);
		if (ymap_get(n, "approvers") != NULL && c->approval.napprovers == 0)
			ydiag(d, ymap_get(n, "approvers"),
			    "\"approvers\" needs at least one member id");
		yget_duration(n, "step_timeout", false, d,
		    &c->approval.step_timeout);
		yget_duration(n, "link_ttl", false, d, &c->approval.link_ttl);
		if (yget_strlist(n, "channels", true, d, &c->approval.channels,
		    &c->approval.nchannels))
			check_channels(c, n, "channels", c->approval.channels,
			    c->approval.nchannels, d);
		if (c->approval.link_ttl < c->approval.step_timeout)
			ydiag(d, n, "link_ttl (%lds) is shorter than step_timeout "
			    "(%lds): the next approver would never be asked",
			    c->approval.link_ttl, c->approval.step_timeout);
	}

	c->delivery.ack_deadline = DEFAULT_ACK_DEADLINE;
	c->delivery.renotify_max = DEFAULT_RENOTIFY_MAX;
	c->delivery.failover_after = DEFAULT_FAILOVER_AFTER;
	n = ymap_get(c->root, "delivery");
	if (n == NULL)
		ydiag(d, c->root, "missing \"delivery\"");
	else if (ymap_check(n, "delivery", delivery_keys, d) || n->type == Y_MAP) {
		/* Unknown keys are reported; the known ones are still checked. */
		if (yget_strlist(n, "channels", true, d, &c->delivery.channels,
		    &c->delivery.nchannels))
			check_channels(c, n, "channels", c->delivery.channels,
			    c->delivery.nchannels, d);
		yget_duration(n, "ack_deadline", false, d,
		    &c->delivery.ack_deadline);
		yget_long(n, "renotify_max", 0, 10, false, d,
		    &c->delivery.renotify_max);
		yget_duration(n, "failover_after", false, d,
		    &c->delivery.failover_after);
	}

	c->audit_retention_days = DEFAULT_RETENTION_DAYS;
	n = ymap_get(c->root, "audit");
	if (n != NULL && ymap_check(n, "audit", audit_keys, d))
		yget_long(n, "retention_days", 1, 36500, false, d,
		    &c->audit_retention_days);
	c->board.loopback_trusted = true;
	n = ymap_get(c->root, "board");
	if (n != NULL && ymap_check(n, "board", board_keys, d)) {
		if (yget_str(n, "token_file", false, d, &s)) {
			if (*s == '\0')
				ydiag(d, n, "board token_file must name a file");
			else
				c->board.token_file = xstrdup(s);
		}
		yget_bool(n, "loopback_trusted", false, d,
		    &c->board.loopback_trusted);
		if (!c->board.loopback_trusted && c->board.token_file == NULL)
			ydiag(d, n, "board: loopback_trusted: false needs a "
			    "token_file, or nobody can open /board and /metrics");
	}
	c->max_accounts = DEFAULT_MAX_ACCOUNTS;
	yget_long(c->root, "lineworks_max_accounts", 1, 1000000, false, d,
	    &c->max_accounts);

	if (diag_errors(d) == errs)
		return 0;
fail:
	config_free(c);
	return -1;
}

void
config_free(struct config *c)
{
	free(c->path);
	free(c->dir);
	free(c->organization);
	free(c->public_url);
	for (size_t i = 0; i < c->nlisten; i++) {
		free(c->listen[i].address);
		free(c->listen[i].tls_cert);
		free(c->listen[i].tls_key);
	}
	free(c->listen);
	free(c->control_socket);
	free(c->state_dir);
	strlist_free(c->rosters, c->nrosters);
	free(c->rules_dir);
	free(c->templates_dir);
	free(c->board.token_file);
	strlist_free(c->approval.approvers, c->approval.napprovers);
	strlist_free(c->approval.channels, c->approval.nchannels);
	strlist_free(c->delivery.channels, c->delivery.nchannels);
	for (size_t i = 0; i < c->ntransports; i++) {
		free(c->transports[i].channel);
		free(c->transports[i].type);
	}
	free(c->transports);
	ynode_free(c->root);
	memset(c, 0, sizeof(*c));
}

/* A YAML scalar, quoted when plain style would change its meaning. */
static void
print_scalar(struct buf *out, const char *s)
{
	bool plain = *s != '\0' && strchr("-?:,[]{}#&*!|>'\"%@` ", *s) == NULL;

	for (const char *p = s; plain && *p; p++)
		if (*p == ':' || *p == '#' || *p == '\n' || *p == '\t' ||
		    (unsigned char)*p < ' ')
			plain = false;
	if (plain && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "null") == 0 || strcmp(s, "yes") == 0 ||
	    strcmp(s, "no") == 0 || strcmp(s, "~") == 0))
		plain = false;
	if (plain) {
		buf_adds(out, s);
		return;
	}
	buf_addc(out, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(out, "\\%c", *p);
		else if (*p == '\n')
			buf_adds(out, "\\n");
		else if ((unsigned char)*p < ' ')
			buf_printf(out, "\\x%02x", (unsigned char)*p);
		else
			buf_addc(out, *p);
	}
	buf_addc(out, '"');
}

static void
print_list(struct buf *out, char **v, size_t n)
{
	buf_addc(out, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(out, ", ");
		print_scalar(out, v[i]);
	}
	buf_adds(out, "]\n");
}

static void
print_duration(struct buf *out, long secs)
{
	char tmp[32];
	format_duration(secs, tmp, sizeof(tmp));
	buf_printf(out, "%s\n", tmp);
}

/* Transport settings in key order; secrets are files, so nothing to hide. */
static void
print_node_flow(struct buf *out, const struct ynode *n)
{
	switch (n->type) {
	case Y_SCALAR:
		print_scalar(out, n->str);
		break;
	case Y_SEQ:
		buf_addc(out, '[');
		for (size_t i = 0; i < n->n; i++) {
			if (i)
				buf_adds(out, ", ");
			print_node_flow(out, n->items[i]);
		}
		buf_addc(out, ']');
		break;
	case Y_MAP:
		buf_addc(out, '{');
		for (size_t i = 0; i < n->n; i++) {
			if (i)
				buf_adds(out, ", ");
			print_scalar(out, n->keys[i]->str);
			buf_adds(out, ": ");
			print_node_flow(out, n->items[i]);
		}
		buf_addc(out, '}');
		break;
	}
}

void
config_print(const struct config *c, struct buf *out)
{
	buf_adds(out, "organization: ");
	print_scalar(out, c->organization);
	buf_adds(out, "\npublic_url: ");
	print_scalar(out, c->public_url);
	buf_adds(out, "\nlisten:\n");
	for (size_t i = 0; i < c->nlisten; i++) {
		buf_adds(out, "  - address: ");
		print_scalar(out, c->listen[i].address);
		buf_addc(out, '\n');
		if (c->listen[i].tls_cert != NULL) {
			buf_adds(out, "    tls_cert: ");
			print_scalar(out, c->listen[i].tls_cert);
			buf_adds(out, "\n    tls_key: ");
			print_scalar(out, c->listen[i].tls_key);
			buf_addc(out, '\n');
		}
	}
	buf_adds(out, "control_socket: ");
	print_scalar(out, c->control_socket);
	buf_adds(out, "\nstate_dir: ");
	print_scalar(out, c->state_dir);
	buf_adds(out, "\nrosters: ");
	print_list(out, c->rosters, c->nrosters);
	buf_adds(out, "rules_dir: ");
	print_scalar(out, c->rules_dir);
	buf_adds(out, "\ntemplates_dir: ");
	print_scalar(out, c->templates_dir);
	buf_adds(out, "\napproval:\n  approvers: ");
	print_list(out, c->approval.approvers, c->approval.napprovers);
	buf_adds(out, "  step_timeout: ");
	print_duration(out, c->approval.step_timeout);
	buf_adds(out, "  link_ttl: ");
	print_duration(out, c->approval.link_ttl);
	buf_adds(out, "  channels: ");
	print_list(out, c->approval.channels, c->approval.nchannels);
	buf_adds(out, "delivery:\n  channels: ");
	print_list(out, c->delivery.channels, c->delivery.nchannels);
	buf_adds(out, "  ack_deadline: ");
	print_duration(out, c->delivery.ack_deadline);
	buf_printf(out, "  renotify_max: %ld\n", c->delivery.renotify_max);
	buf_adds(out, "  failover_after: ");
	print_duration(out, c->delivery.failover_after);
	buf_printf(out, "audit:\n  retention_days: %ld\n",
	    c->audit_retention_days);
	buf_printf(out, "lineworks_max_accounts: %ld\n", c->max_accounts);
	/* Only when set, so a site without it prints as before. */
	if (c->board.token_file != NULL || !c->board.loopback_trusted) {
		buf_adds(out, "board:\n");
		if (c->board.token_file != NULL) {
			buf_adds(out, "  token_file: ");
			print_scalar(out, c->board.token_file);
			buf_addc(out, '\n');
		}
		buf_printf(out, "  loopback_trusted: %s\n",
		    c->board.loopback_trusted ? "true" : "false");
	}
	buf_adds(out, "transports:\n");
	for (size_t i = 0; i < c->ntransports; i++) {
		buf_adds(out, "  ");
		print_scalar(out, c->transports[i].channel);
		buf_adds(out, ": ");
		print_node_flow(out, c->transports[i].node);
		buf_addc(out, '\n');
	}
}
