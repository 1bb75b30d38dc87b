/*
 * fuzz_rules_pii: the rules directory.  The first input byte picks a mode,
 * the rest is the payload:
 *   0-3  text: pii_scan + pii_describe with the shipped rules/pii.yaml and
 *        style_check with the shipped rules/style.yaml (what a draft body
 *        goes through)
 *   4    YAML: hours_from_yaml, then hours_closed and hours_calendar
 *   5    YAML: pii_load_node, then a scan of a fixed sample text
 *   6    YAML: style_load_node, then style_check of a fixed sample text
 *   7    YAML as tags.yaml, next to the shipped hours/pii/style, through
 *        rules_load
 *
 * Contract: clean returns only; pii_scan's hits are in bounds of the text.
 */
#include "fuzz.h"

#include "hours.h"
#include "pii.h"
#include "rules.h"
#include "style.h"
#include "ydoc.h"

#define RULES FUZZ_SRCDIR "/rules"

static struct pii_set pii;
static struct style sty;
static int loaded;

static const char sample[] =
    "【避難指示】大雨のため、〇〇地区に避難指示を発令しました。"
    "問合せ 0256-34-5511 担当 taro@town.example 〒955-8686\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diags d = {0};

	(void)argc;
	(void)argv;
	if (pii_load(RULES "/pii.yaml", &pii, &d) < 0 ||
	    style_load(RULES "/style.yaml", &sty, &d) < 0) {
		fprintf(stderr, "fuzz_rules_pii: cannot load %s\n", RULES);
		abort();
	}
	diag_free(&d);
	loaded = 1;
	return 0;
}

static void
scan(const struct pii_set *s, const char *text, size_t len)
{
	struct pii_hit hits[8];
	char desc[256];
	size_t n = pii_scan(s, text, len, hits, 8);

	if (n == PII_SCAN_ERROR)
		return;
	for (size_t i = 0; i < n && i < 8; i++) {
		if (hits[i].start > hits[i].end || hits[i].end > len)
			abort();
		pii_describe(&hits[i], text, desc, sizeof(desc));
	}
}

static void
check_style(const struct style *s, const char *text)
{
	char **w = NULL;
	size_t nw = 0;

	style_check(s, text, &w, &nw);
	strlist_free(w, nw);
}

static void
link_rule(const char *name)
{
	char path[512], dst[512];

	snprintf(path, sizeof(path), "%s/%s", fuzz_tmpdir(), name);
	snprintf(dst, sizeof(dst), "%s/%s", RULES, name);
	unlink(path);
	if (symlink(dst, path) < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = {0};
	struct ynode *root;
	char *text;

	if (size == 0)
		return 0;
	text = fuzz_cstr(data + 1, size - 1);
	switch (data[0] & 7) {
	case 4: {
		struct hours h = {0};
		root = yaml_load_string("hours.yaml", text, size - 1, &d);
		if (root != NULL && hours_from_yaml(root, &h, &d) == 0) {
			char why[HOURS_WHY_MAX];
			struct closed_day *cd = NULL;
			size_t n = 0;
			for (time_t t = 1735657200; t < 1735657200 + 86400 * 400;
			    t += 86400 * 7 + 3600 * 5)
				hours_closed(&h, t, why, sizeof(why));
			if (hours_calendar(&h, 2026, &cd, &n) == 0)
				free(cd);
			hours_free(&h);
		}
		ynode_free(root);
		break;
	}
	case 5: {
		struct pii_set s = {0};
		root = yaml_load_string("pii.yaml", text, size - 1, &d);
		if (root != NULL && pii_load_node(root, &s, &d) == 0) {
			scan(&s, sample, strlen(sample));
			pii_free(&s);
		}
		ynode_free(root);
		break;
	}
	case 6: {
		struct style s = {0};
		root = yaml_load_string("style.yaml", text, size - 1, &d);
		if (root != NULL && style_load_node(root, &s, &d) == 0) {
			check_style(&s, sample);
			style_free(&s);
		}
		ynode_free(root);
		break;
	}
	case 7: {
		struct rules r;
		link_rule("hours.yaml");
		link_rule("pii.yaml");
		link_rule("style.yaml");
		fuzz_write("tags.yaml", data + 1, size - 1);
		if (rules_load(fuzz_tmpdir(), &r, &d) == 0)
			rules_free(&r);
		break;
	}
	default:
		/* raw bytes: pii_scan takes a length and must refuse bad
		 * UTF-8; style_check takes a C string */
		scan(&pii, (const char *)data + 1, size - 1);
		check_style(&sty, text);
		break;
	}
	diag_free(&d);
	free(text);
	return 0;
}
