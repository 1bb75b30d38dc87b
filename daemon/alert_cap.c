/*
 * alert_cap.c: one alert as CAP 1.2 XML (SPEC §4 `crisisctl cap`, §8).
 * Reads the alert, its tag and its deliveries, fills struct cap_msg and
 * lets lib/cap.c write the document. Read-only: never writes the database.
 *
 * Choices, stated once:
 *   sender      "crisiscast@HOST", HOST from public_url (cap_host()), so
 *               the same site always signs the same way.
 *   identifier  "urn:crisiscast:HOST:alert:ID": stable across restarts and
 *               unique per site, because alert ids are never reused.
 *   sent        the approval time; the draft's time while undecided, and
 *               for rejected or expired alerts (they never went out).
 *   addresses   the recipients' roster member ids, one per person (a person
 *               rerouted to another channel is still one address). Member
 *               ids, not phone numbers or e-mail addresses: a CAP document
 *               is handed to other systems, and contact details are
 *               personal data (seeds 000/002/003). Before the approval the
 *               audience decides who they will be; a 取消 notice addresses
 *               those the cancelled alert reached.
 */
#include <stdlib.h>
#include <string.h>

#include "cap.h"
#include "daemon.h"

/* When an alert went out, for <sent> and a Cancel's <references>. */
static time_t
sent_time(const struct alert_row *a)
{
	if (a->decided_at > 0 && strcmp(a->state, ALERT_REJECTED) != 0 &&
	    strcmp(a->state, ALERT_EXPIRED) != 0)
		return a->decided_at;
	return a->created_at;
}

/* Adds member to v (of *n) unless it is there already. */
static void
add_member(char ***v, size_t *n, const char *member)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], member) == 0)
			return;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(member);
}

/*
 * The recipients' member ids, in send order: of the alert's deliveries;
 * with none yet, of the cancelled alert's reached deliveries (a 取消
 * notice) or of the audience. 0, or -1 on a database error.
 */
static int
recipients(const struct alert_row *a, const struct tag *t, char ***v,
    size_t *n)
{
	struct delivery_row *rows;
	size_t nr, *idx = NULL, ni = 0;
	char err[256];

	*v = NULL;
	*n = 0;
	if (store_deliveries_of(cd->store, a->id, "alert", &rows, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++)
		add_member(v, n, rows[i].member);
	delivery_rows_free(rows, nr);
	if (*n > 0)
		return 0;
	if (a->cancels > 0) {
		if (store_deliveries_of(cd->store, a->cancels, "alert", &rows,
		    &nr) < 0)
			return -1;
		for (size_t i = 0; i < nr; i++)
			if (strcmp(rows[i].state, DLV_SENT) == 0)
				add_member(v, n, rows[i].member);
		delivery_rows_free(rows, nr);
		return 0;
	}
	if (t != NULL && draft_recipients(&cd->site, t, a->audience, &idx,
	    &ni, err, sizeof(err)) == 0)
		for (size_t i = 0; i < ni; i++)
			add_member(v, n, cd->site.roster.members[idx[i]].id);
	free(idx);
	return 0;
}

/* Contract in daemon.h. */
int
alert_cap(int64_t id, cJSON *result, struct buf *errors)
{
	struct alert_row a, old = {0};
	struct cap_ref ref = {0};
	struct cap_msg m = {0};
	struct draft_vars vars = {0};
	const char *pnames[DRAFT_VARS_MAX], *pvalues[DRAFT_VARS_MAX];
	const struct tag *t;
	char **addrs = NULL, *host, *sender, *ident, *ref_ident = NULL, *xml;
	char err[200];
	size_t naddrs = 0;
	int rc, ret = -1;

	if ((rc = store_alert_get(cd->store, id, &a)) != 0) {
		if (rc < 0)
			buf_printf(errors, "データベースを読めませんでした（%s）\n",
			    store_error(cd->store));
		else
			buf_printf(errors, "連絡 %lld はありません\n",
			    (long long)id);
		return -1;
	}
	host = cap_host(cd->site.cfg.public_url);
	sender = cap_sender(host);
	ident = cap_identifier(host, a.id);
	t = rules_tag(&cd->site.rules, a.tag);
	if (recipients(&a, t, &addrs, &naddrs) < 0) {
		buf_printf(errors, "データベースを読めませんでした（%s）\n",
		    store_error(cd->store));
		goto out;
	}
	m.identifier = ident;
	m.sender = sender;
	m.sent = sent_time(&a);
	m.exercise = a.drill;
	m.addresses = (const char *const *)addrs;
	m.naddresses = naddrs;
	/* A tag a reload removed still exports, with CAP's "unknown". */
	m.category = t ? t->cap.category : "Other";
	m.urgency = t ? t->cap.urgency : "Unknown";
	m.severity = t ? t->cap.severity : "Unknown";
	m.certainty = t ? t->cap.certainty : "Unknown";
	m.event = a.tag;
	m.sender_name = cd->site.cfg.organization;
	m.body = a.body;
	/* The values the templates showed, as <parameter>s. A stored value
	 * that no longer parses is left out, not fatal to the export. */
	if (draft_vars_parse(&vars, a.vars, err, sizeof(err)) < 0)
		log_warnx("alert %lld: CAP: stored values: %s", (long long)id,
		    err);
	for (size_t i = 0; i < vars.n; i++) {
		pnames[i] = vars.v[i].key;
		pvalues[i] = vars.v[i].value;
	}
	m.param_names = pnames;
	m.param_values = pvalues;
	m.nparams = vars.n;
	if (a.cancels > 0) {
		if (store_alert_get(cd->store, a.cancels, &old) != 0) {
			buf_printf(errors, "取り消した連絡 %lld を読めませんでした\n",
			    (long long)a.cancels);
			goto out;
		}
		ref_ident = cap_identifier(host, old.id);
		ref.sender = sender;
		ref.identifier = ref_ident;
		ref.sent = sent_time(&old);
		m.cancels = &ref;
		m.note = old.reason;
	}
	if ((xml = cap_build(&m, err, sizeof(err))) == NULL) {
		log_warnx("alert %lld: CAP: %s", (long long)id, err);
		buf_printf(errors, "連絡 %lld を CAP にできませんでした（%s）\n",
		    (long long)id, err);
		goto out;
	}
	cJSON_AddNumberToObject(result, "id", (double)a.id);
	cJSON_AddStringToObject(result, "identifier", ident);
	cJSON_AddStringToObject(result, "xml", xml);
	free(xml);
	ret = 0;
out:
	draft_vars_free(&vars);
	for (size_t i = 0; i < naddrs; i++)
		free(addrs[i]);
	free(addrs);
	free(ref_ident);
	free(ident);
	free(sender);
	free(host);
	if (old.id > 0)
		alert_row_free(&old);
	alert_row_free(&a);
	return ret;
}
