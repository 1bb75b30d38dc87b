/*
 * fuzz_config_roster: arbitrary bytes as YAML through the YAML tree
 * (yaml_load_string), the configuration loader (config_load, -nv printing)
 * and the roster loader (roster_load, alone and next to the sample
 * rosters).  An input starting with '@' is instead an AUDIENCE expression
 * resolved against the sample rosters.
 *
 * Contract: every input must end in a clean return (0 or -1 with diags),
 * never a crash, leak or undefined behaviour.
 */
#include "fuzz.h"

#include "config.h"
#include "roster.h"
#include "ydoc.h"

static const struct channel_ref channels[] = {
	{ "lineworks", "lineworks" },
	{ "sms", "twilio" },
	{ "email", "smtp" },
	{ "ntfy", "ntfy" },
};
static struct roster sample;
static int sample_ok = -1;

static void
load_sample(void)
{
	char *paths[2] = { FUZZ_SRCDIR "/etc/rosters/crisis.yaml",
	    FUZZ_SRCDIR "/etc/rosters/shelters.yaml" };
	struct diags d = {0};

	sample_ok = roster_load(&sample, paths, 2, channels, 4, &d);
	diag_free(&d);
}

static void
audience(const uint8_t *data, size_t size)
{
	char *expr = fuzz_cstr(data, size), err[256];
	size_t *idx = NULL, n = 0;

	if (sample_ok == 0 && roster_audience(&sample, expr, &idx, &n, err,
	    sizeof(err)) == 0 && n == 0)
		abort();	/* contract: success means n >= 1 */
	free(idx);
	free(expr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = {0};
	struct ynode *root;
	struct config c;
	struct roster r = {0};
	const char *path;

	if (sample_ok < 0)
		load_sample();
	if (size > 0 && data[0] == '@') {
		audience(data + 1, size - 1);
		return 0;
	}
	root = yaml_load_string("fuzz.yaml", (const char *)data, size, &d);
	ynode_free(root);
	diag_free(&d);

	path = fuzz_write("crisiscast.yaml", data, size);
	if (config_load(path, &c, &d) == 0) {
		struct buf out = {0};
		config_print(&c, &out);
		buf_free(&out);
		config_free(&c);
	}
	diag_free(&d);

	{
		char *paths[2] = { (char *)path,
		    FUZZ_SRCDIR "/etc/rosters/crisis.yaml" };
		if (roster_load(&r, paths, 1, channels, 4, &d) == 0) {
			size_t *idx = NULL, n = 0;
			roster_audience(&r, "all", &idx, &n, NULL, 0);
			free(idx);
		}
		roster_free(&r);
		diag_free(&d);
		if (roster_load(&r, paths, 2, channels, 4, &d) == 0)
			roster_free(&r);
		diag_free(&d);
	}
	return 0;
}
