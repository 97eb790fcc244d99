/*
 * Sending digests exactly once (SPEC.md section 5, "The mail").
 *
 * The store closes a range and keeps its rendered digest in one write
 * transaction; here the digest becomes a MIME message (GMime) handed to
 * sendmail(1) with -i and explicit recipients, by fork/exec, never a shell.
 * A digest is marked sent only after sendmail exits 0; unsent digests are
 * retried first by the next call.  The Message-ID is the one the store keeps
 * with the digest (else one derived from the digest record), and the Date is
 * the closing time, so every retry of one digest is the same message.
 *
 * Two senders at once (cron and the milter's own schedule) are serialised by
 * an flock(2) on "send.lock" in the store directory: LMDB alone keeps a range
 * from being closed twice, the lock also keeps a digest that one sender is
 * still handing to sendmail from being retried by the other.  A sendmail
 * that hangs is killed after SENDMAIL_TIMEOUT, so the lock is never held for
 * long.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <poll.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "patchdigest/digest.h"
#include "patchdigest/error.h"
#include "patchdigest/msg.h"
#include "patchdigest/send.h"
#include "mailhdr.h"

#define LOCK_NAME	"send.lock"
/* A sendmail that neither reads nor exits in this time is killed. */
#define SENDMAIL_TIMEOUT	300	/* seconds */

static void __attribute__((format(printf, 3, 4)))
seterr(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* The schedule.                                                       */

/* The latest scheduled time at or before now (local time); -1 if none. */
static time_t
last_slot(const struct pd_schedule *s, time_t now)
{
	struct tm tm;
	time_t t;
	int back;

	if (localtime_r(&now, &tm) == NULL)
		return -1;
	back = s->kind == PD_SCHED_WEEKLY ? (tm.tm_wday - s->wday + 7) % 7 : 0;
	tm.tm_mday -= back;
	tm.tm_hour = s->hour;
	tm.tm_min = s->min;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == -1)
		return -1;
	if (t > now) {
		tm.tm_mday -= s->kind == PD_SCHED_WEEKLY ? 7 : 1;
		tm.tm_hour = s->hour;
		tm.tm_min = s->min;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return t;
}

int
pd_send_due(pd_store *st, const struct pd_conf *conf, time_t now)
{
	struct pd_range r;
	uint64_t n;
	time_t slot;

	switch (conf->schedule.kind) {
	case PD_SCHED_EVERY:
		if (pd_store_open_count(st, &n) != 0)
			return 0;
		return n >= conf->schedule.every;
	case PD_SCHED_DAILY:
	case PD_SCHED_WEEKLY:
		/* The open range was opened when the last one closed. */
		if (pd_store_range(st, NULL, &r) != 0)
			return 0;
		slot = last_slot(&conf->schedule, now);
		/*
		 * Opened later than now, the clock was set back: waiting for a
		 * slot past that time could take months, so it is due now.
		 */
		return slot != -1 && (slot > (time_t)r.opened || (time_t)r.opened > now);
	case PD_SCHED_NONE:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The MIME message.                                                   */

/* The ASCII domain of DigestFrom's address, for Message-IDs; NULL if none. */
static const char *
from_domain(const struct pd_conf *conf, char *buf, size_t len)
{
	char *name, *addr;
	const char *dom = NULL;
	int n;

	if (conf->digest_from == NULL ||
	    pd_conf_mailbox(conf->digest_from, &name, &addr) != 0)
		return NULL;
	n = snprintf(buf, len, "%s", strrchr(addr, '@') + 1);
	if (n > 0 && (size_t)n < len)
		dom = buf;
	free(name);
	free(addr);
	return dom;
}

/* The Message-ID of a digest (without <>), given when its range was closed. */
static int
digest_msgid(const struct pd_digest_rec *d, char *buf, size_t len)
{
	int n;

	if (d->msgid == NULL || *d->msgid == '\0')
		return PD_ECORRUPT;
	n = snprintf(buf, len, "%s", d->msgid);
	return n < 0 || (size_t)n >= len ? PD_EINVAL : 0;
}

/*
 * Quoted-printable, and "From " at a line start written "=46rom ": an mbox
 * delivery would otherwise turn the digest's first line into ">From X to Y".
 * Where that would make the line longer than quoted-printable's 76, the
 * "F" goes on a line of its own ("=46=" and a soft break).
 */
static GByteArray *
qp_encode(const char *text)
{
	GMimeEncoding enc;
	GByteArray *out;
	size_t len = strlen(text), n;
	char *buf;

	g_mime_encoding_init_encode(&enc, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	buf = g_malloc(g_mime_encoding_outlen(&enc, len) + 1);
	n = g_mime_encoding_flush(&enc, text, len, buf);
	out = g_byte_array_sized_new((guint)(n + n / 16 + 16));
	for (size_t i = 0; i < n; i++) {
		if ((i == 0 || buf[i - 1] == '\n') && n - i >= 5 &&
		    memcmp(buf + i, "From ", 5) == 0) {
			const char *nl = memchr(buf + i, '\n', n - i);
			size_t line = nl != NULL ? (size_t)(nl - (buf + i)) : n - i;

			if (line + 2 <= 76)
				g_byte_array_append(out, (const guint8 *)"=46", 3);
			else
				g_byte_array_append(out, (const guint8 *)"=46=\n", 5);
			continue;
		}
		g_byte_array_append(out, (const guint8 *)buf + i, 1);
	}
	g_free(buf);
	return out;
}

static GMimeTextPart *
text_part(const char *subtype, const char *text)
{
	GMimeTextPart *p = g_mime_text_part_new_with_subtype(subtype);
	GByteArray *qp = qp_encode(text);
	GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(qp);
	GMimeDataWrapper *w;

	/* The stream owns the array; the wrapper says it is encoded already. */
	w = g_mime_data_wrapper_new_with_stream(stream,
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_mime_part_set_content(GMIME_PART(p), w);
	g_mime_part_set_content_encoding(GMIME_PART(p),
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_mime_text_part_set_charset(p, "utf-8");
	g_object_unref(w);
	g_object_unref(stream);
	return p;
}

static int
subject_of(const struct pd_conf *conf, const struct pd_digest_rec *d, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s mailing list update from %s to %s",
	    conf->list_name ? conf->list_name : "", d->from, d->to);

	return n < 0 || (size_t)n >= len ? PD_EINVAL : 0;
}

/* The header fields; GMime writes the MIME part that follows them. */
static int
mail_header(const struct pd_conf *conf, const struct pd_digest_rec *d,
    const char *msgid, const char *subject, GString *h)
{
	GDateTime *date;
	char *name, *addr, *s;
	const char *lt;
	int rc;

	/* Dated when the range closed: a retried digest is the same message. */
	if ((date = g_date_time_new_from_unix_local(d->created)) == NULL)
		return PD_EINVAL;
	s = g_mime_utils_header_format_date(date);
	g_date_time_unref(date);
	g_string_append_printf(h, "Date: %s\n", s);
	g_free(s);
	if ((rc = pd_conf_mailbox(conf->digest_from, &name, &addr)) != 0)
		return rc;
	s = g_strdup_printf(name != NULL ? "<%s>" : "%s", addr);
	pd_hdr_named(h, "From", name, s);
	g_free(s);
	free(name);
	free(addr);
	pd_hdr_text(h, "Subject", subject);
	pd_hdr_list(h, "To", conf->digest_to, conf->ndigest_to);
	g_string_append_printf(h, "Message-Id: <%s>\n", msgid);
	if (conf->list_id != NULL && (lt = strrchr(conf->list_id, '<')) != NULL) {
		s = g_strndup(conf->list_id, (gsize)(lt - conf->list_id));
		pd_hdr_named(h, "List-Id", g_strstrip(s), lt);
		g_free(s);
	}
	g_string_append(h, "MIME-Version: 1.0\n");
	return 0;
}

int
pd_send_build(const struct pd_conf *conf, const struct pd_digest_rec *d,
    char **out, size_t *outlen)
{
	GMimeMultipart *alt = NULL;
	GMimeTextPart *part;
	GString *h = NULL;
	char msgid[512], subject[512], *s;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (d->text == NULL || conf->digest_from == NULL || conf->ndigest_to == 0)
		return PD_EINVAL;
	if ((rc = digest_msgid(d, msgid, sizeof(msgid))) != 0 ||
	    (rc = subject_of(conf, d, subject, sizeof(subject))) != 0)
		return rc;
	pd_msg_init();
	h = g_string_new(NULL);
	if ((rc = mail_header(conf, d, msgid, subject, h)) != 0)
		goto out;
	alt = g_mime_multipart_new_with_subtype("alternative");
	part = text_part("plain", d->text);
	g_mime_multipart_add(alt, GMIME_OBJECT(part));
	g_object_unref(part);
	if (d->html != NULL && *d->html != '\0') {
		part = text_part("html", d->html);
		g_mime_multipart_add(alt, GMIME_OBJECT(part));
		g_object_unref(part);
	}
	if ((s = g_mime_object_to_string(GMIME_OBJECT(alt), NULL)) == NULL) {
		rc = PD_ENOMEM;
		goto out;
	}
	g_string_append(h, s);
	g_free(s);
	/* The caller frees with free(): hand over a malloc'd copy. */
	if ((*out = malloc(h->len + 1)) == NULL) {
		rc = PD_ENOMEM;
	} else {
		memcpy(*out, h->str, h->len + 1);
		*outlen = h->len;
	}
out:
	if (alt != NULL)
		g_object_unref(alt);
	if (h != NULL)
		g_string_free(h, TRUE);
	pd_msg_shutdown();
	return rc;
}

/* ------------------------------------------------------------------ */
/* sendmail(1).                                                        */

/* Recipients go on the command line: one starting with '-' would be an option. */
static int
check_recipients(const struct pd_conf *conf, char *errbuf, size_t errlen)
{
	if (conf->sendmail == NULL || conf->sendmail[0] != '/') {
		seterr(errbuf, errlen, "Sendmail must be an absolute path");
		return PD_ECONFIG;
	}
	if (conf->digest_from == NULL || *conf->digest_from == '\0') {
		seterr(errbuf, errlen, "DigestFrom is not set");
		return PD_ECONFIG;
	}
	if (conf->ndigest_to == 0) {
		seterr(errbuf, errlen, "DigestTo is not set");
		return PD_ECONFIG;
	}
	for (size_t i = 0; i < conf->ndigest_to; i++) {
		const char *r = conf->digest_to[i];

		if (r[0] == '-' || r[0] == '\0' || strpbrk(r, "\r\n") != NULL) {
			seterr(errbuf, errlen, "bad DigestTo address: %s", r);
			return PD_ECONFIG;
		}
	}
	return 0;
}

static void __attribute__((noreturn))
child(const char *path, char **argv, int in, int errfd)
{
	int e;

	/* Only async-signal-safe calls between fork and exec: the milter has threads. */
	if (dup2(in, STDIN_FILENO) == -1) {
		e = errno;
		goto fail;
	}
#ifdef CLOSE_RANGE_CLOEXEC
	(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
#endif
	/* the milter ignores SIGPIPE; sendmail and postdrop must not */
	(void)signal(SIGPIPE, SIG_DFL);
	execv(path, argv);
	e = errno;
fail:
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

static int
remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/*
 * Write all of buf to a non-blocking socket before the deadline; no SIGPIPE
 * when the reader is gone.  Returns 0, or an errno value.
 */
static int
write_all(int fd, const char *buf, size_t len, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return errno;
		if (remaining_ms(deadline) == 0)
			return ETIMEDOUT;
		if (poll(&pfd, 1, remaining_ms(deadline)) == -1 && errno != EINTR)
			return errno;
	}
	return 0;
}

/* Wait for the child until the deadline, then kill it.  Returns 0 or ETIMEDOUT. */
static int
wait_child(pid_t pid, int *status, const struct timespec *deadline)
{
	const struct timespec tick = { 0, 20 * 1000 * 1000 };
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return errno;
		if (remaining_ms(deadline) == 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) == -1 && errno == EINTR)
				;
			return ETIMEDOUT;
		}
		nanosleep(&tick, NULL);
	}
}

static int
run_sendmail(const struct pd_conf *conf, const char *buf, size_t len, char *errbuf,
    size_t errlen)
{
	char **argv;
	int sv[2] = { -1, -1 }, ep[2] = { -1, -1 };
	int status, werr, werr2, rc = PD_ESEND, e = 0;
	struct timespec deadline;
	ssize_t n;
	pid_t pid;

	if ((argv = calloc(conf->ndigest_to + 3, sizeof(*argv))) == NULL)
		return PD_ENOMEM;
	argv[0] = conf->sendmail;
	argv[1] = (char *)"-i";
	for (size_t i = 0; i < conf->ndigest_to; i++)
		argv[2 + i] = conf->digest_to[i];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(ep, O_CLOEXEC) == -1) {
		seterr(errbuf, errlen, "sendmail: %s", strerror(errno));
		rc = PD_EIO;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += SENDMAIL_TIMEOUT;
	if ((pid = fork()) == -1) {
		seterr(errbuf, errlen, "fork: %s", strerror(errno));
		rc = PD_EIO;
		goto out;
	}
	if (pid == 0)
		child(conf->sendmail, argv, sv[1], ep[1]);
	close(sv[1]);
	close(ep[1]);
	sv[1] = ep[1] = -1;
	werr = write_all(sv[0], buf, len, &deadline);
	close(sv[0]);
	sv[0] = -1;
	/* The error pipe closes at exec (or carries exec's errno): no wait here. */
	while ((n = read(ep[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	if ((werr2 = wait_child(pid, &status, &deadline)) != 0) {
		seterr(errbuf, errlen, "%s: %s", conf->sendmail,
		    werr2 == ETIMEDOUT ? "timed out, killed" : strerror(werr2));
		goto out;
	}
	if (n == (ssize_t)sizeof(e))
		seterr(errbuf, errlen, "cannot run %s: %s", conf->sendmail, strerror(e));
	else if (WIFSIGNALED(status))
		seterr(errbuf, errlen, "%s killed by signal %d", conf->sendmail, WTERMSIG(status));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		seterr(errbuf, errlen, "%s exited %d", conf->sendmail, WEXITSTATUS(status));
	else if (werr != 0)
		seterr(errbuf, errlen, "writing to %s: %s", conf->sendmail, strerror(werr));
	else
		rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (sv[i] != -1)
			close(sv[i]);
		if (ep[i] != -1)
			close(ep[i]);
	}
	free(argv);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Exactly once.                                                       */

static int
deliver(pd_store *st, const struct pd_conf *conf, const struct pd_digest_rec *d,
    struct pd_send_result *res)
{
	char msgid[512], *buf = NULL;
	size_t len;
	int rc;

	if ((rc = digest_msgid(d, msgid, sizeof(msgid))) != 0 ||
	    (rc = pd_send_build(conf, d, &buf, &len)) != 0) {
		seterr(res->errbuf, sizeof(res->errbuf), "building the digest mail: %s",
		    pd_strerror(rc));
		goto out;
	}
	if ((rc = run_sendmail(conf, buf, len, res->errbuf, sizeof(res->errbuf))) != 0)
		goto out;
	if ((rc = pd_store_mark_sent(st, d->range_no, msgid)) != 0) {
		seterr(res->errbuf, sizeof(res->errbuf), "sent but not marked sent: %s",
		    pd_strerror(rc));
		goto out;
	}
	res->sent++;
	(void)subject_of(conf, d, res->subject, sizeof(res->subject));
out:
	if (rc != 0) {
		char why[sizeof(res->errbuf)];

		memcpy(why, res->errbuf, sizeof(why));
		/* the way out first: a long reason may be cut */
		seterr(res->errbuf, sizeof(res->errbuf), "digest %llu (the ones after "
		    "it wait for it; send --skip %llu gives it up): %s",
		    (unsigned long long)d->range_no, (unsigned long long)d->range_no,
		    why);
	}
	free(buf);
	return rc;
}

static int
render_cb(pd_store *st, const struct pd_range *r, char **text, char **html, void *arg)
{
	return pd_digest_render(st, arg, r, text, html);
}

/*
 * The senders' lock: an fd >= 0, PD_EBUSY when another sender holds it and
 * wait is 0, or another error.
 */
static int
lock_senders(const struct pd_conf *conf, int wait, char *errbuf, size_t errlen)
{
	char path[4096];
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", conf->database, LOCK_NAME);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		seterr(errbuf, errlen, "Database path too long");
		return PD_EINVAL;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) == -1) {
		seterr(errbuf, errlen, "%s: %s", path, strerror(errno));
		return PD_EIO;
	}
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == -1) {
		if (errno == EWOULDBLOCK) {
			close(fd);
			return PD_EBUSY;
		}
		if (errno != EINTR) {
			seterr(errbuf, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return PD_EIO;
		}
	}
	return fd;
}

int
pd_send(pd_store *st, const struct pd_conf *conf, unsigned flags, time_t now,
    struct pd_send_result *res)
{
	struct pd_digest_rec d;
	struct pd_range closed;
	char dom[256];
	int rc, lock;

	memset(res, 0, sizeof(*res));
	if ((rc = check_recipients(conf, res->errbuf, sizeof(res->errbuf))) != 0)
		return rc;
	/*
	 * A scheduled sender (cron, the milter, the LDA) that finds another
	 * one at work leaves the job to it rather than wait: the milter must
	 * not hold up mail behind a slow sendmail, and the next tick catches
	 * up.  An explicit send waits its turn.
	 */
	lock = lock_senders(conf, !(flags & PD_SEND_DUE), res->errbuf, sizeof(res->errbuf));
	if (lock == PD_EBUSY)
		return 0;
	if (lock < 0)
		return lock;
	for (;;) {
		memset(&d, 0, sizeof(d));
		if ((rc = pd_store_unsent_digest(st, &d)) == PD_ENOTFOUND)
			break;
		if (rc == 0)
			rc = deliver(st, conf, &d, res);
		pd_digest_rec_clear(&d);
		if (rc != 0)
			goto out;
	}
	rc = 0;
	if ((flags & PD_SEND_NOCLOSE) || ((flags & PD_SEND_DUE) && !pd_send_due(st, conf, now)))
		goto out;
	rc = pd_store_close_range(st, (flags & PD_SEND_FORCE) != 0,
	    from_domain(conf, dom, sizeof(dom)), render_cb, (void *)conf,
	    &closed);
	if (rc == PD_EEMPTY) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	res->closed = 1;
	memset(&d, 0, sizeof(d));
	if ((rc = pd_store_digest_get(st, closed.no, &d)) == 0)
		rc = deliver(st, conf, &d, res);
	pd_digest_rec_clear(&d);
out:
	close(lock);
	return rc;
}
