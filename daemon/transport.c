/*
 * transport.c: the registry of transports and the running instances, one
 * per configured channel. Unknown types and bad settings fail at config
 * load (crisiscastd -n), never at send time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

static const struct transport *const transports[] = {
	&transport_file,
};

const struct transport *
transport_lookup(const char *type)
{
	for (size_t i = 0; i < nitems(transports); i++)
		if (strcmp(transports[i]->name, type) == 0)
			return transports[i];
	return NULL;
}

#define SECRET_MAX 16384

char *
transport_secret(const struct transport_conf *tc, const struct config *c,
    const char *key, char *err, size_t errsz)
{
	const char *name = NULL, *creds = getenv("CREDENTIALS_DIRECTORY");
	char *path = NULL, *s;
	size_t len;

	if (!yget_str(tc->node, key, false, NULL, &name)) {
		snprintf(err, errsz, "transport %s: missing %s", tc->channel, key);
		return NULL;
	}
	if (name[0] != '/' && creds != NULL) {
		path = xasprintf("%s/%s", creds, name);
		if (access(path, R_OK) < 0) {
			free(path);
			path = NULL;
		}
	}
	if (path == NULL)
		path = config_path(c, name);
	s = read_file(path, SECRET_MAX, &len);
	if (s == NULL) {
		snprintf(err, errsz, "transport %s: %s %s: %s", tc->channel, key,
		    path, errno == EFBIG ? "too large" : strerror(errno));
		free(path);
		return NULL;
	}
	free(path);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (len == 0 || strlen(s) != len) {
		snprintf(err, errsz, "transport %s: %s is empty or binary",
		    tc->channel, key);
		free(s);
		return NULL;
	}
	return s;
}

int
transports_check(const struct config *c, struct diags *d)
{
	size_t errs = diag_errors(d);

	for (size_t i = 0; i < c->ntransports; i++) {
		const struct transport_conf *tc = &c->transports[i];
		const struct transport *t = transport_lookup(tc->type);
		if (t == NULL) {
			struct buf b = {0};
			for (size_t j = 0; j < nitems(transports); j++)
				buf_printf(&b, "%s%s", j ? ", " : "",
				    transports[j]->name);
			ydiag(d, ymap_get(tc->node, "type"), "unknown transport "
			    "type \"%s\" (known: %s)", tc->type, b.data);
			buf_free(&b);
			continue;
		}
		t->check(tc, c, d);
	}
	return diag_errors(d) == errs ? 0 : -1;
}

int
transports_start(const struct config *c, char *err, size_t errsz)
{
	cd->transports = xcalloc(c->ntransports, sizeof(*cd->transports));
	for (size_t i = 0; i < c->ntransports; i++) {
		const struct transport_conf *tc = &c->transports[i];
		struct transport_inst *ti = &cd->transports[i];
		ti->vt = transport_lookup(tc->type);
		ti->channel = xstrdup(tc->channel);
		ti->inst = ti->vt->init(cd->base, tc, c, err, errsz);
		cd->ntransports++;
		if (ti->inst == NULL)
			return -1;
	}
	return 0;
}

void
transports_stop(void)
{
	for (size_t i = 0; i < cd->ntransports; i++) {
		struct transport_inst *ti = &cd->transports[i];
		if (ti->inst != NULL)
			ti->vt->free(ti->inst);
		free(ti->channel);
	}
	free(cd->transports);
	cd->transports = NULL;
	cd->ntransports = 0;
}

struct transport_inst *
transport_for(const char *channel)
{
	for (size_t i = 0; i < cd->ntransports; i++)
		if (strcmp(cd->transports[i].channel, channel) == 0)
			return &cd->transports[i];
	return NULL;
}
