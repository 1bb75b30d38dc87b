/*
 * transport_file.c: appends each message as one JSON line to a file, the
 * outbox: the offline default and the drill sink.
 *
 * Every line carries the delivery's idempotency key. At start the file is
 * read once: a torn last line (a crash mid-write) is cut off, and the keys
 * already written are remembered, so a delivery that was in flight when the
 * daemon died is not written twice. A line is written with one write() and
 * made durable with fdatasync() before the delivery is reported accepted.
 * It must never report a message accepted that is not on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

#define OUTBOX_MAX_BYTES	(1u << 30)
#define RETRY_DISK_SECS		30

static const char *const file_keys[] = { "type", "path", "form", NULL };

/* An open-addressing set of the keys already in the file. */
struct keyset {
	char **slots;
	size_t cap, n;
};

struct file_inst {
	struct event_base *base;
	char *path;
	char *channel;
	bool sms_form;
	int fd;
	struct keyset keys;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool
keyset_has(const struct keyset *k, const char *key)
{
	if (k->cap == 0)
		return false;
	for (size_t i = hash_str(key) & (k->cap - 1); k->slots[i] != NULL;
	    i = (i + 1) & (k->cap - 1))
		if (strcmp(k->slots[i], key) == 0)
			return true;
	return false;
}

static void keyset_add(struct keyset *k, const char *key);

static void
keyset_grow(struct keyset *k)
{
	struct keyset bigger = { .cap = k->cap ? k->cap * 2 : 256 };

	bigger.slots = xcalloc(bigger.cap, sizeof(char *));
	for (size_t i = 0; i < k->cap; i++)
		if (k->slots[i] != NULL) {
			keyset_add(&bigger, k->slots[i]);
			free(k->slots[i]);
		}
	free(k->slots);
	*k = bigger;
}

static void
keyset_add(struct keyset *k, const char *key)
{
	size_t i;

	if (keyset_has(k, key))
		return;
	if ((k->n + 1) * 2 > k->cap)
		keyset_grow(k);
	for (i = hash_str(key) & (k->cap - 1); k->slots[i] != NULL;
	    i = (i + 1) & (k->cap - 1))
		;
	k->slots[i] = xstrdup(key);
	k->n++;
}

static void
keyset_free(struct keyset *k)
{
	for (size_t i = 0; i < k->cap; i++)
		free(k->slots[i]);
	free(k->slots);
	memset(k, 0, sizeof(*k));
}

static void
file_check(const struct transport_conf *tc, const struct config *c,
    struct diags *d)
{
	const char *s;

	(void)c;
	if (!ymap_check(tc->node, "a file transport", file_keys, d))
		return;
	yget_str(tc->node, "path", true, d, &s);
	if (yget_str(tc->node, "form", false, d, &s) &&
	    strcmp(s, "long") != 0 && strcmp(s, "sms") != 0)
		ydiag(d, ymap_get(tc->node, "form"), "\"form\" must be long or "
		    "sms, not \"%s\"", s);
}

/*
 * Reads the outbox: cuts a torn last line, remembers every key. Lines that
 * are not ours (hand edits) are skipped, not fatal.
 */
static int
file_scan(struct file_inst *fi, char *err, size_t errsz)
{
	size_t len;
	char *text = read_file(fi->path, OUTBOX_MAX_BYTES, &len);

	if (text == NULL) {
		snprintf(err, errsz, "%s: %s", fi->path, strerror(errno));
		return -1;
	}
	if (len > 0 && text[len - 1] != '\n') {
		char *nl = memrchr(text, '\n', len);
		size_t keep = nl ? (size_t)(nl - text) + 1 : 0;
		log_warnx("outbox %s: cutting a torn last line of %zu bytes",
		    fi->path, len - keep);
		if (ftruncate(fi->fd, (off_t)keep) < 0 || fsync(fi->fd) < 0) {
			snprintf(err, errsz, "%s: truncate: %s", fi->path,
			    strerror(errno));
			free(text);
			return -1;
		}
		len = keep;
		text[len] = '\0';
	}
	for (char *line = text, *end; line < text + len; line = end + 1) {
		end = strchr(line, '\n');
		*end = '\0';
		cJSON *o = cJSON_Parse(line);
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "key");
		if (cJSON_IsString(k))
			keyset_add(&fi->keys, k->valuestring);
		cJSON_Delete(o);
	}
	free(text);
	return 0;
}

static void *
file_init(struct event_base *base, const struct transport_conf *tc,
    const struct config *c, char *err, size_t errsz)
{
	struct file_inst *fi = xcalloc(1, sizeof(*fi));
	const char *path, *form = NULL;

	yget_str(tc->node, "path", true, NULL, &path);
	yget_str(tc->node, "form", false, NULL, &form);
	fi->base = base;
	fi->path = path_join(c->state_dir, path);
	fi->channel = xstrdup(tc->channel);
	fi->sms_form = form ? strcmp(form, "sms") == 0 :
	    strcmp(tc->channel, "sms") == 0;
	fi->fd = open(fi->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fi->fd < 0) {
		snprintf(err, errsz, "%s: %s", fi->path, strerror(errno));
		goto fail;
	}
	if (file_scan(fi, err, errsz) < 0)
		goto fail;
	log_debug("file transport %s: %s, %zu messages already written",
	    fi->channel, fi->path, fi->keys.n);
	return fi;
fail:
	if (fi->fd >= 0)
		close(fi->fd);
	free(fi->path);
	free(fi->channel);
	free(fi);
	return NULL;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
file_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct file_inst *fi = inst;
	struct send_report rep = { .outcome = SEND_ACCEPTED };
	char at[40], id[64], err[160];

	snprintf(id, sizeof(id), "file:%s", m->key);
	rep.provider_id = id;
	if (keyset_has(&fi->keys, m->key)) {
		/* Written before a crash; the database did not learn it. */
		log_info("outbox %s: %s already written, not again", fi->channel,
		    m->key);
	} else {
		cJSON *o = cJSON_CreateObject();
		char *line;
		off_t before = lseek(fi->fd, 0, SEEK_END);

		format_time_jst(daemon_now(), at, sizeof(at));
		cJSON_AddStringToObject(o, "key", m->key);
		cJSON_AddStringToObject(o, "at", at);
		cJSON_AddStringToObject(o, "channel", m->channel);
		cJSON_AddStringToObject(o, "kind", m->kind);
		cJSON_AddNumberToObject(o, "alert", (double)m->alert_id);
		cJSON_AddStringToObject(o, "member", m->member);
		cJSON_AddStringToObject(o, "name", m->name);
		cJSON_AddStringToObject(o, "address", m->address);
		cJSON_AddStringToObject(o, "tag", m->tag);
		cJSON_AddBoolToObject(o, "drill", m->drill);
		cJSON_AddStringToObject(o, "form", fi->sms_form ? "sms" : "long");
		cJSON_AddStringToObject(o, "text", fi->sms_form ? m->text_sms :
		    m->text_long);
		cJSON_AddStringToObject(o, "link", m->link);
		line = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		struct buf b = {0};
		buf_adds(&b, line);
		buf_addc(&b, '\n');
		free(line);
		if (write_all(fi->fd, b.data, b.len) < 0 ||
		    fdatasync(fi->fd) < 0) {
			int e = errno;
			/* Leave no half line behind for the next write. */
			if (before >= 0 && ftruncate(fi->fd, before) < 0)
				log_warn("outbox %s: truncate", fi->path);
			rep.outcome = SEND_TRANSIENT;
			rep.retry_after = RETRY_DISK_SECS;
			snprintf(err, sizeof(err), "%s: %s", fi->path,
			    strerror(e));
			rep.error = err;
			rep.provider_id = NULL;
		} else
			keyset_add(&fi->keys, m->key);
		buf_free(&b);
	}
	/* Report from the loop, never from inside send(). */
	transport_report_later(fi->base, done, arg, &rep);
}

static void
file_free(void *inst)
{
	struct file_inst *fi = inst;

	close(fi->fd);
	keyset_free(&fi->keys);
	free(fi->path);
	free(fi->channel);
	free(fi);
}

const struct transport transport_file = {
	.name = "file",
	.check = file_check,
	.init = file_init,
	.send = file_send,
	.free = file_free,
	.max_inflight = 64,
};
