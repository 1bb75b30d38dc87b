/*
 * transport_file.c: appends each message as one JSON line to a file, the
 * outbox: the offline default and the drill sink.
 *
 * Every line carries the delivery's idempotency key. At start the file is
 * read once: a torn last line (a crash mid-write) is cut off, and the keys
 * already written are remembered, so a delivery that was in flight when the
 * daemon died is not written twice (see struct keyset for why the keys
 * written later need not be). A line is written with one write(); the
 * lines of one loop turn are made durable together by one fdatasync()
 * (struct batch), and only then reported accepted. It must never report a
 * message accepted that is not on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

#define RETRY_DISK_SECS		30

static const char *const file_keys[] = { "type", "path", "form", NULL };

/*
 * The keys of the lines in the outbox when the transport started: one
 * string pool and an open-addressing index of offsets into it (about 20
 * bytes a line, no allocation per key), built once and never grown.
 *
 * Keys written in this run need no entry: within a run the fan-out hands a
 * delivery to its transport again only after a transient report, and this
 * transport reports transient only when it left no line; a delivery whose
 * report the database refused stays `sending` until the next start, which
 * reads the file again. So memory stays flat however much a run writes.
 */
struct keyset {
	char *pool;		/* NUL-terminated keys, back to back */
	size_t used, size;
	uint32_t *slots;	/* 1 + offset of a key in pool; 0: empty */
	size_t cap, n;
};

/* A line written and not yet synced: whom to tell once it is. */
struct unsynced {
	send_done done;
	void *arg;
	struct unsynced *next;
	char provider_id[];
};

/*
 * The lines written since the last sync. The first send() of a loop turn
 * activates flush, which runs after the turn's other callbacks: one
 * fdatasync() then covers every line of the turn (a fan-out hands this
 * transport up to max_inflight at once), as the database's group commit
 * does for its rows. If the sync fails, the file is cut back to start and
 * every line of the batch is reported transient.
 */
struct batch {
	struct event *flush;
	off_t start;		/* the file's end before the batch's first line */
	struct unsynced *head, **tail;
	size_t n;
};

/*
 * An outbox file, shared by every file transport that writes to it (the
 * sample site sends four channels to one): one descriptor (O_APPEND, one
 * write() a line), one set of the keys it held at start, and one batch.
 */
struct outbox {
	char *path;
	dev_t dev;
	ino_t ino;
	int fd;
	unsigned refs;
	struct keyset keys;
	struct batch batch;
	struct outbox *next;
};

static struct outbox *outboxes;

struct file_inst {
	struct event_base *base;
	char *channel;
	bool sms_form;
	struct outbox *ob;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The slot holding key, or the empty slot where it would go (cap > 0). */
static size_t
keyset_slot(const struct keyset *k, const char *key)
{
	size_t i = hash_str(key) & (k->cap - 1);

	while (k->slots[i] != 0 && strcmp(k->pool + k->slots[i] - 1, key) != 0)
		i = (i + 1) & (k->cap - 1);
	return i;
}

static bool
keyset_has(const struct keyset *k, const char *key)
{
	return k->cap > 0 && k->slots[keyset_slot(k, key)] != 0;
}

/* Doubles the index (the pool is untouched: offsets stay valid). */
static void
keyset_grow(struct keyset *k)
{
	uint32_t *old = k->slots;
	size_t oldcap = k->cap;

	k->cap = oldcap ? oldcap * 2 : 256;
	k->slots = xcalloc(k->cap, sizeof(*k->slots));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i] != 0)
			k->slots[keyset_slot(k, k->pool + old[i] - 1)] = old[i];
	free(old);
}

/* Adds key; -1 when the pool would reach 4 GiB (not from a 1 GiB file). */
static int
keyset_add(struct keyset *k, const char *key)
{
	size_t len = strlen(key) + 1, i;

	if (keyset_has(k, key))
		return 0;
	if (k->used + len >= UINT32_MAX)
		return -1;
	if ((k->n + 1) * 2 > k->cap)
		keyset_grow(k);
	if (k->used + len > k->size) {
		k->size = k->size ? k->size * 2 : 4096;
		while (k->used + len > k->size)
			k->size *= 2;
		k->pool = xrealloc(k->pool, k->size);
	}
	memcpy(k->pool + k->used, key, len);
	i = keyset_slot(k, key);
	k->slots[i] = (uint32_t)(k->used + 1);
	k->used += len;
	k->n++;
	return 0;
}

/* Gives the pool's unused tail back once the scan is done. */
static void
keyset_seal(struct keyset *k)
{
	if (k->used > 0 && k->used < k->size) {
		k->pool = xrealloc(k->pool, k->used);
		k->size = k->used;
	}
}

static void
keyset_free(struct keyset *k)
{
	free(k->pool);
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
 * Reads the outbox line by line: cuts a torn last line (a crash mid-write),
 * remembers every key. Lines that are not ours (hand edits) are skipped,
 * not fatal.
 */
static int
outbox_scan(struct outbox *ob, char *err, size_t errsz)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	off_t good = 0;		/* just past the last whole line */
	int rc = 0;

	if ((fp = fopen(ob->path, "re")) == NULL) {
		snprintf(err, errsz, "%s: %s", ob->path, strerror(errno));
		return -1;
	}
	while (rc == 0 && (n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] != '\n') {
			log_warnx("outbox %s: cutting a torn last line of %zd "
			    "bytes", ob->path, n);
			if (ftruncate(ob->fd, good) < 0 || fsync(ob->fd) < 0) {
				snprintf(err, errsz, "%s: truncate: %s",
				    ob->path, strerror(errno));
				rc = -1;
			}
			break;
		}
		good += n;
		line[n - 1] = '\0';
		cJSON *o = cJSON_Parse(line);
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "key");
		if (cJSON_IsString(k) && keyset_add(&ob->keys,
		    k->valuestring) < 0) {
			snprintf(err, errsz, "%s: too many keys", ob->path);
			rc = -1;
		}
		cJSON_Delete(o);
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errsz, "%s: read: %s", ob->path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(fp);
	keyset_seal(&ob->keys);
	return rc;
}

static void
outbox_release(struct outbox *ob)
{
	if (ob == NULL || --ob->refs > 0)
		return;
	for (struct outbox **pp = &outboxes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ob) {
			*pp = ob->next;
			break;
		}
	/* Lines still unsynced (a stop that did not wait for its sends):
	 * sync them, and tell no one; the next start's scan finds them. */
	if (ob->batch.n > 0 && fdatasync(ob->fd) < 0)
		log_warn("outbox %s: sync at close", ob->path);
	while (ob->batch.head != NULL) {
		struct unsynced *u = ob->batch.head;
		ob->batch.head = u->next;
		free(u);
	}
	if (ob->batch.flush != NULL)
		event_free(ob->batch.flush);
	close(ob->fd);
	keyset_free(&ob->keys);
	free(ob->path);
	free(ob);
}

/* The end of a loop turn that wrote lines: one sync, then every report. */
static void
outbox_flush(evutil_socket_t fd, short what, void *arg)
{
	struct outbox *ob = arg;
	struct unsynced *list = ob->batch.head;
	struct send_report rep = { .outcome = SEND_ACCEPTED };
	char err[160];

	(void)fd;
	(void)what;
	if (fdatasync(ob->fd) < 0) {
		int e = errno;
		/* Leave none of the batch behind: it is all sent again. */
		if (ftruncate(ob->fd, ob->batch.start) < 0)
			log_warn("outbox %s: truncate", ob->path);
		snprintf(err, sizeof(err), "%s: %s", ob->path, strerror(e));
		rep = (struct send_report){ .outcome = SEND_TRANSIENT,
		    .retry_after = RETRY_DISK_SECS, .error = err };
	}
	/* Detach first: a report may send() again and start the next batch. */
	ob->batch.head = NULL;
	ob->batch.tail = &ob->batch.head;
	ob->batch.n = 0;
	while (list != NULL) {
		struct unsynced *u = list;
		list = u->next;
		if (rep.outcome == SEND_ACCEPTED)
			rep.provider_id = u->provider_id;
		u->done(u->arg, &rep);
		free(u);
	}
}

/* The outbox at path, opened and read the first time a transport names it
 * (by any path: the same device and inode are the same outbox). */
static struct outbox *
outbox_get(struct event_base *base, const char *path, char *err,
    size_t errsz)
{
	struct outbox *ob;
	struct stat sb;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || fstat(fd, &sb) < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (ob = outboxes; ob != NULL; ob = ob->next)
		if (ob->dev == sb.st_dev && ob->ino == sb.st_ino) {
			close(fd);
			ob->refs++;
			return ob;
		}
	ob = xcalloc(1, sizeof(*ob));
	ob->path = xstrdup(path);
	ob->dev = sb.st_dev;
	ob->ino = sb.st_ino;
	ob->fd = fd;
	ob->refs = 1;
	ob->batch.tail = &ob->batch.head;
	ob->next = outboxes;
	outboxes = ob;
	if ((ob->batch.flush = event_new(base, -1, 0, outbox_flush, ob)) ==
	    NULL) {
		snprintf(err, errsz, "%s: event_new failed", path);
		outbox_release(ob);
		return NULL;
	}
	if (outbox_scan(ob, err, errsz) < 0) {
		outbox_release(ob);
		return NULL;
	}
	log_debug("outbox %s: %zu messages already written", path, ob->keys.n);
	return ob;
}

static void *
file_init(struct event_base *base, const struct transport_conf *tc,
    const struct config *c, char *err, size_t errsz)
{
	struct file_inst *fi;
	struct outbox *ob;
	const char *path, *form = NULL;
	char *full;

	yget_str(tc->node, "path", true, NULL, &path);
	yget_str(tc->node, "form", false, NULL, &form);
	full = path_join(c->state_dir, path);
	ob = outbox_get(base, full, err, errsz);
	free(full);
	if (ob == NULL)
		return NULL;
	fi = xcalloc(1, sizeof(*fi));
	fi->base = base;
	fi->ob = ob;
	fi->channel = xstrdup(tc->channel);
	fi->sms_form = form ? strcmp(form, "sms") == 0 :
	    strcmp(tc->channel, "sms") == 0;
	return fi;
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

/* Queues the report of a line just written for the turn's sync; the first
 * line of a batch activates the flush. */
static void
batch_add(struct outbox *ob, off_t before, send_done done, void *arg,
    const char *provider_id)
{
	size_t len = strlen(provider_id) + 1;
	struct unsynced *u = xcalloc(1, sizeof(*u) + len);

	u->done = done;
	u->arg = arg;
	memcpy(u->provider_id, provider_id, len);
	if (ob->batch.n++ == 0) {
		ob->batch.start = before;
		event_active(ob->batch.flush, EV_TIMEOUT, 0);
	}
	*ob->batch.tail = u;
	ob->batch.tail = &u->next;
}

static void
file_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct file_inst *fi = inst;
	struct outbox *ob = fi->ob;
	struct send_report rep = { .outcome = SEND_ACCEPTED };
	char at[40], id[64], err[160];

	snprintf(id, sizeof(id), "file:%s", m->key);
	rep.provider_id = id;
	if (keyset_has(&ob->keys, m->key)) {
		/* Written before a crash; the database did not learn it. */
		log_info("outbox %s: %s already written, not again", fi->channel,
		    m->key);
		transport_report_later(fi->base, done, arg, &rep);
	} else {
		cJSON *o = cJSON_CreateObject();
		char *line;
		off_t before = lseek(ob->fd, 0, SEEK_END);

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
		if (write_all(ob->fd, b.data, b.len) < 0) {
			int e = errno;
			/* Leave no half line behind for the next write. */
			if (before >= 0 && ftruncate(ob->fd, before) < 0)
				log_warn("outbox %s: truncate", ob->path);
			rep.outcome = SEND_TRANSIENT;
			rep.retry_after = RETRY_DISK_SECS;
			snprintf(err, sizeof(err), "%s: %s", ob->path,
			    strerror(e));
			rep.error = err;
			rep.provider_id = NULL;
			/* Report from the loop, never from inside send(). */
			transport_report_later(fi->base, done, arg, &rep);
		} else {
			batch_add(ob, before, done, arg, id);
		}
		buf_free(&b);
	}
}

static void
file_free(void *inst)
{
	struct file_inst *fi = inst;

	outbox_release(fi->ob);
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
