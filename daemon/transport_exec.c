/*
 * transport_exec.c: runs the site's command once per delivery, with the
 * message as one JSON object (outmsg_json) on its stdin.
 *
 * The child is watched by the loop only: its pipes are non-blocking and
 * read/written from events, and it is reaped when its pidfd becomes
 * readable (or, where pidfd_open is missing, by a 100 ms polling timer),
 * never by a blocking waitpid. After `timeout` (default 30s) its process
 * group gets SIGTERM, and SIGKILL KILL_GRACE_SECS later. Exit 0 is accepted
 * (provider id: the first line of stdout, if any), 75 (EX_TEMPFAIL) and a
 * timeout are transient, anything else is permanent. stdout and stderr are
 * kept up to OUTPUT_MAX bytes each, for the report; never logged whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

#define EXEC_DEFAULT_TIMEOUT_MS	30000L
#define KILL_GRACE_SECS		2
#define OUTPUT_MAX		4096
#define EX_TEMPFAIL_		75

extern char **environ;

static const char *const exec_keys[] = { TRANSPORT_COMMON_KEYS, "command",
	NULL };

struct proc;

struct exec_inst {
	struct event_base *base;
	char **argv;			/* NULL-terminated; argv[0] resolved */
	size_t argc;
	long timeout_ms;
	struct proc *procs;		/* running children */
};

/* One child, from spawn to report. */
struct proc {
	struct exec_inst *ei;
	pid_t pid;
	send_done done;
	void *arg;
	char *in;			/* stdin bytes */
	size_t inlen, inoff;
	int infd, outfd, errfd, pidfd;
	struct event *inev, *outev, *errev, *pidev, *timer;
	struct buf out, err;
	bool timed_out, killed;
	struct proc *prev, *next;
};

static void
exec_check(const struct transport_conf *tc, const struct config *c,
    struct diags *d)
{
	char **argv = NULL, *path;
	size_t argc = 0;

	if (!ymap_check(tc->node, "an exec transport", exec_keys, d))
		return;
	transport_check_common(tc, d);
	if (!yget_strlist(tc->node, "command", true, d, &argv, &argc))
		return;
	if (argc == 0 || argv[0][0] == '\0')
		ydiag(d, ymap_get(tc->node, "command"), "\"command\" must name "
		    "a program");
	else {
		path = config_path(c, argv[0]);
		if (access(path, X_OK) < 0)
			ydiag(d, ymap_get(tc->node, "command"), "command %s: %s",
			    path, strerror(errno));
		free(path);
	}
	strlist_free(argv, argc);
}

static void *
exec_init(struct event_base *base, const struct transport_conf *tc,
    const struct config *c, char *err, size_t errsz)
{
	struct exec_inst *ei = xcalloc(1, sizeof(*ei));
	char **argv;
	size_t argc;

	(void)err;
	(void)errsz;
	ei->base = base;
	yget_strlist(tc->node, "command", true, NULL, &argv, &argc);
	ei->argv = xcalloc(argc + 1, sizeof(char *));
	for (size_t i = 0; i < argc; i++)
		ei->argv[i] = i == 0 ? config_path(c, argv[0]) :
		    xstrdup(argv[i]);
	ei->argc = argc;
	strlist_free(argv, argc);
	ei->timeout_ms = transport_timeout_ms(tc, EXEC_DEFAULT_TIMEOUT_MS);
	return ei;
}

static void
close_ev(struct event **ev, int *fd)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
proc_free(struct proc *p)
{
	close_ev(&p->inev, &p->infd);
	close_ev(&p->outev, &p->outfd);
	close_ev(&p->errev, &p->errfd);
	close_ev(&p->pidev, &p->pidfd);
	if (p->timer != NULL)
		event_free(p->timer);
	buf_free(&p->out);
	buf_free(&p->err);
	free(p->in);
	free(p);
}

static void
proc_unlink(struct proc *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else if (p->ei->procs == p)
		p->ei->procs = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

/* Reads what is there; EOF or error closes the pipe. */
static void
drain(int *fd, struct event **ev, struct buf *b)
{
	char tmp[4096];

	while (*fd >= 0) {
		ssize_t n = read(*fd, tmp, sizeof(tmp));
		if (n > 0) {
			size_t room = b->len < OUTPUT_MAX ? OUTPUT_MAX - b->len : 0;
			buf_add(b, tmp, (size_t)n < room ? (size_t)n : room);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close_ev(ev, fd);
	}
}

static void
out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	(void)what;
	if (fd == p->outfd)
		drain(&p->outfd, &p->outev, &p->out);
	else
		drain(&p->errfd, &p->errev, &p->err);
}

static void
in_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	(void)fd;
	(void)what;
	while (p->inoff < p->inlen) {
		ssize_t n = write(p->infd, p->in + p->inoff,
		    p->inlen - p->inoff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			break;		/* EPIPE: the command does not read */
		p->inoff += (size_t)n;
	}
	close_ev(&p->inev, &p->infd);
}

/* The first line of b, printable, at most max bytes, into out. */
static void
first_line(const struct buf *b, char *out, size_t outsz)
{
	size_t j = 0;

	for (size_t i = 0; i < b->len && j + 1 < outsz; i++) {
		unsigned char ch = (unsigned char)b->data[i];
		if (ch == '\n' && j > 0)
			break;
		if (ch == '\n' || ch == '\r')
			continue;
		out[j++] = ch < 0x20 ? ' ' : (char)ch;
	}
	/* Do not cut a UTF-8 sequence. */
	while (j > 0 && ((unsigned char)out[j - 1] & 0xc0) == 0x80 &&
	    !utf8_valid(out, j))
		j--;
	if (j > 0 && !utf8_valid(out, j))
		j--;
	out[j] = '\0';
}

/* The child is gone (status from waitpid): report and forget it. */
static void
proc_finish(struct proc *p, int status)
{
	struct send_report r = {0};
	char err[300], line[160], id[64];

	drain(&p->outfd, &p->outev, &p->out);
	drain(&p->errfd, &p->errev, &p->err);
	first_line(&p->err, line, sizeof(line));
	if (p->timed_out) {
		r.outcome = SEND_TRANSIENT;
		snprintf(err, sizeof(err), "command timed out after %lds%s%s",
		    p->ei->timeout_ms / 1000, line[0] ? ": " : "", line);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		r.outcome = SEND_ACCEPTED;
		first_line(&p->out, id, sizeof(id));
		if (id[0] == '\0')
			snprintf(id, sizeof(id), "pid %ld", (long)p->pid);
		r.provider_id = id;
	} else if (WIFEXITED(status)) {
		r.outcome = WEXITSTATUS(status) == EX_TEMPFAIL_ ?
		    SEND_TRANSIENT : SEND_PERMANENT;
		snprintf(err, sizeof(err), "command exited %d%s%s",
		    WEXITSTATUS(status), line[0] ? ": " : "", line);
	} else {
		r.outcome = SEND_PERMANENT;
		snprintf(err, sizeof(err), "command killed by signal %d",
		    WTERMSIG(status));
	}
	if (r.outcome != SEND_ACCEPTED)
		r.error = err;
	proc_unlink(p);
	p->done(p->arg, &r);
	proc_free(p);
}

/* Reaps the child if it has exited; true when it did. */
static bool
try_reap(struct proc *p)
{
	int status;
	pid_t w = waitpid(p->pid, &status, WNOHANG);

	if (w == p->pid) {
		proc_finish(p, status);
		return true;
	}
	if (w < 0 && errno == ECHILD) {
		/* Someone else reaped it: we cannot know how it ended. */
		proc_finish(p, 1 << 8);
		return true;
	}
	return false;
}

static void
pid_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	(void)fd;
	(void)what;
	try_reap(p);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	struct timeval tv = { KILL_GRACE_SECS, 0 };

	(void)fd;
	(void)what;
	if (try_reap(p))
		return;
	if (!p->timed_out) {
		p->timed_out = true;
		kill(-p->pid, SIGTERM);
		log_warnx("exec %s: pid %ld timed out, SIGTERM", p->ei->argv[0],
		    (long)p->pid);
	} else if (!p->killed) {
		p->killed = true;
		kill(-p->pid, SIGKILL);
		log_warnx("exec %s: pid %ld still there, SIGKILL",
		    p->ei->argv[0], (long)p->pid);
	}
	evtimer_add(p->timer, &tv);
}

static int
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
exec_send(void *inst, const struct outmsg *m, send_done done, void *arg)
{
	struct exec_inst *ei = inst;
	struct proc *p = xcalloc(1, sizeof(*p));
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, defs;
	struct send_report rep = {0};
	char err[TRANSPORT_ERROR_MAX];
	int rc;

	p->ei = ei;
	p->done = done;
	p->arg = arg;
	p->infd = p->outfd = p->errfd = p->pidfd = -1;
	p->in = outmsg_json(m);
	p->inlen = strlen(p->in);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(er, O_CLOEXEC) < 0) {
		rc = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, er[1], 2);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&defs);
	sigaddset(&defs, SIGPIPE);	/* the daemon ignores it */
	sigaddset(&defs, SIGCHLD);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &defs);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&p->pid, ei->argv[0], &fa, &at, ei->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(in[0]);
	close(out[1]);
	close(er[1]);
	in[0] = out[1] = er[1] = -1;
	if (rc != 0)
		goto fail;
	p->infd = in[1];
	p->outfd = out[0];
	p->errfd = er[0];
	if (nonblock(p->infd) < 0 || nonblock(p->outfd) < 0 ||
	    nonblock(p->errfd) < 0)
		fatal("exec: fcntl");
	p->inev = event_new(ei->base, p->infd, EV_WRITE | EV_PERSIST, in_cb, p);
	p->outev = event_new(ei->base, p->outfd, EV_READ | EV_PERSIST, out_cb,
	    p);
	p->errev = event_new(ei->base, p->errfd, EV_READ | EV_PERSIST, out_cb,
	    p);
	p->timer = evtimer_new(ei->base, timer_cb, p);
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd >= 0)
		p->pidev = event_new(ei->base, p->pidfd, EV_READ | EV_PERSIST,
		    pid_cb, p);
	struct timeval tv = { ei->timeout_ms / 1000,
	    (ei->timeout_ms % 1000) * 1000 };
	if (p->inev == NULL || p->outev == NULL || p->errev == NULL ||
	    p->timer == NULL || event_add(p->inev, NULL) < 0 ||
	    event_add(p->outev, NULL) < 0 || event_add(p->errev, NULL) < 0 ||
	    evtimer_add(p->timer, &tv) < 0 ||
	    (p->pidev != NULL && event_add(p->pidev, NULL) < 0))
		fatalx("exec: cannot watch the child");
	if (p->pidfd < 0) {
		/* No pidfd: poll for the exit every 100 ms. */
		struct timeval poll = { 0, 100000 };
		p->pidev = event_new(ei->base, -1, EV_PERSIST, pid_cb, p);
		if (p->pidev == NULL || event_add(p->pidev, &poll) < 0)
			fatalx("exec: cannot watch the child");
	}
	p->next = ei->procs;
	if (ei->procs != NULL)
		ei->procs->prev = p;
	ei->procs = p;
	return;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	snprintf(err, sizeof(err), "cannot run %s: %s", ei->argv[0],
	    strerror(rc));
	rep.outcome = rc == ENOENT || rc == EACCES || rc == ENOEXEC ?
	    SEND_PERMANENT : SEND_TRANSIENT;
	rep.error = err;
	transport_report_later(ei->base, done, arg, &rep);
	proc_free(p);
}

/* Stops every child still running; each is reported transient. */
static void
exec_free(void *inst)
{
	struct exec_inst *ei = inst;

	while (ei->procs != NULL) {
		struct proc *p = ei->procs;
		int status;
		kill(-p->pid, SIGKILL);
		while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
			;
		p->timed_out = true;
		proc_finish(p, status);
	}
	for (size_t i = 0; i < ei->argc; i++)
		free(ei->argv[i]);
	free(ei->argv);
	free(ei);
}

const struct transport transport_exec = {
	.name = "exec",
	.check = exec_check,
	.init = exec_init,
	.send = exec_send,
	.free = exec_free,
	.max_inflight = 16,
};
