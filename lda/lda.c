/*
 * patchdigest-lda: tag, record and pass on one message read on stdin.
 *   patchdigest-lda [-CfnsV] [-c config] [-D database] [-d maildir]
 *
 * The mail comes first: every fault of ours (configuration, store, parse)
 * is logged and the message passes on unchanged with exit 0; even a crash
 * of the store step, which re-runs the program on the message as read
 * (guard.c).  Only a
 * failure to read the message or to write it out is EX_TEMPFAIL, so that
 * procmail's "fw" rescue or the MTA's retry keeps it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lda.h"
#include "patchdigest/classify.h"
#include "patchdigest/conf.h"
#include "patchdigest/error.h"
#include "patchdigest/ingest.h"
#include "patchdigest/log.h"
#include "patchdigest/msg.h"
#include "patchdigest/send.h"
#include "patchdigest/store.h"
#include "patchdigest/tags.h"

#define PD_VERSION	"0.1"
#define PROGNAME	"patchdigest-lda"

struct opts {
	char **argv;		/* for the re-run after a fault */
	const char *conf_path;
	const char *db;
	const char *maildir;
	int create, foreground, dryrun, send;
};

struct input {
	char *buf;		/* as read */
	const char *msg;	/* what is parsed and written: buf or its guarded copy */
	size_t len;
	int over;		/* more than max bytes: the rest is still on stdin */
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: " PROGNAME
	    " [-CfnsV] [-c config] [-D database] [-d maildir]\n");
	exit(EX_USAGE);
}

/*
 * The configuration, or the defaults when it cannot be read (*bad set):
 * mail first.  The defaults only carry the mail on; tagging and recording
 * with them would store a wrong classification for good.
 */
static struct pd_conf *
load_conf(const struct opts *o, int *bad)
{
	struct pd_conf *conf = NULL;
	const char *path = o->conf_path;
	char err[512];
	char *db;

	*bad = 0;
	if (path == NULL)
		path = pd_conf_default_path();
	if (path != NULL && pd_conf_load(path, &conf, err, sizeof(err)) != 0) {
		log_warnx("%s; message passed on untagged", err);
		conf = NULL;
		*bad = 1;
	}
	if (conf == NULL && pd_conf_new(&conf) != 0)
		return NULL;
	if (o->db != NULL) {
		if ((db = strdup(o->db)) == NULL) {
			pd_conf_free(conf);
			return NULL;
		}
		free(conf->database);
		conf->database = db;
	}
	return conf;
}

/* Read stdin, at most max + 1 bytes (max 0: no limit). -1 on error. */
static int
read_input(size_t max, struct input *in)
{
	size_t cap = 65536, want;
	struct stat sb;
	ssize_t r;
	char *p;

	memset(in, 0, sizeof(*in));
	if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
		cap = (size_t)sb.st_size + 1;
	if (max > 0 && cap > max + 1)
		cap = max + 1;
	if ((in->buf = malloc(cap)) == NULL)
		return -1;
	for (;;) {
		if (max > 0 && in->len > max) {
			in->over = 1;
			return 0;
		}
		if (in->len == cap) {
			cap *= 2;
			if (max > 0 && cap > max + 1)
				cap = max + 1;
			if ((p = realloc(in->buf, cap)) == NULL)
				return -1;
			in->buf = p;
		}
		want = cap - in->len;
		r = read(STDIN_FILENO, in->buf + in->len, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		in->len += (size_t)r;
	}
}

/* The rest of an oversized message, straight from stdin to the sink. */
static int
copy_rest(struct sink *s)
{
	char buf[65536];
	ssize_t r;

	for (;;) {
		r = read(STDIN_FILENO, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			log_warn("read stdin");
			return -1;
		}
		if (r == 0)
			return 0;
		if (sink_write(buf, (size_t)r, s) != 0)
			return -1;
	}
}

/* procmail hands filters an mbox "From " line; the parser must not see it. */
static size_t
from_line_len(const struct input *in)
{
	const char *nl;

	if (in->len < 5 || memcmp(in->msg, "From ", 5) != 0)
		return 0;
	nl = memchr(in->msg, '\n', in->len);
	return nl == NULL ? in->len : (size_t)(nl - in->msg) + 1;
}

/*
 * An existing empty directory becomes a store; a missing one is an error
 * (a wrong Database or an unmounted disk), not a fresh store elsewhere.
 */
static unsigned
store_flags(const char *dir)
{
	struct stat sb;

	return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) ? PD_STORE_CREATE : 0;
}

/* Phases of the store step, for the log of a fault (guard_phase). */
#define STEP_OPEN	'o'
#define STEP_INGEST	'i'
#define STEP_CLOSE	'c'

/*
 * Parse, classify, record.  1 and *tags when the message is to be tagged
 * (recorded, or a dry run), 0 to pass it on unchanged.
 */
static int
process(const struct opts *o, const struct pd_conf *conf, const struct input *in,
    struct pd_tags *tags)
{
	struct pd_ingest res;
	pd_classifier *cl = NULL;
	pd_store *st = NULL;
	char err[512];
	size_t skip;
	int rc, ok = 0;

	if (!o->dryrun) {
		guard_phase(STEP_OPEN);
		rc = pd_store_open(conf->database, store_flags(conf->database),
		    conf->map_size, conf->map_size_max, &st);
		if (rc != 0) {
			log_warnx("store %s: %s; message passed on untagged",
			    conf->database, pd_strerror(rc));
			return 0;
		}
	}
	err[0] = '\0';
	rc = pd_classifier_new(conf->subsystem_rules, conf->maintainers,
	    conf->maintainers_files, &cl, err, sizeof(err));
	if (rc != 0) {
		log_warnx("classifier: %s%s%s; message passed on untagged",
		    pd_strerror(rc), err[0] ? ": " : "", err);
		goto out;
	}
	pd_msg_init();
	skip = from_line_len(in);
	guard_phase(STEP_INGEST);
	rc = pd_ingest(st, cl, in->msg + skip, in->len - skip, NULL, &res);
	if (rc != 0) {
		log_warnx("message not parsed (%s); passed on untagged", pd_strerror(rc));
		goto out;
	}
	if (res.store_err != 0) {
		log_warnx("<%s>: store %s: %s; message passed on untagged", res.msgid,
		    conf->database, pd_strerror(res.store_err));
		goto out;
	}
	if (pd_tags_build(&res, tags) != 0)
		goto out;
	ok = 1;
out:
	pd_classifier_free(cl);
	if (st != NULL)
		guard_phase(STEP_CLOSE);
	pd_store_close(st);
	return ok;
}

/*
 * process() under the guard: 1 and *tags, or 0 (untagged).  From here on
 * in->msg is the guard's copy.
 */
static int
run_step(const struct opts *o, const struct pd_conf *conf, struct input *in,
    struct pd_tags *tags)
{
	int tagged;

	if (guard_begin(in->buf, in->len, o->argv, &in->msg) != 0) {
		log_warnx("cannot guard the store step: %s; message passed on "
		    "untagged", strerror(errno));
		return 0;
	}
	tagged = process(o, conf, in, tags);
	guard_end();
	return tagged;
}

/* In the re-run after a fault of the store step: say what happened. */
static void
log_fault(const struct opts *o, const struct pd_conf *conf, int sig, int phase)
{
	char how[96];

	if (sig == SIGALRM)
		snprintf(how, sizeof(how), "took over %d s", GUARD_TIMEOUT);
	else if (sig == 0)
		snprintf(how, sizeof(how), "was stopped by a sanitizer report");
	else
		snprintf(how, sizeof(how), "died of signal %d (%s)", sig, strsignal(sig));
	if (phase == STEP_INGEST && o->dryrun)
		log_warnx("the parser %s (a bug, please report it); message passed "
		    "on untagged", how);
	else if (phase == STEP_OPEN || phase == STEP_INGEST || phase == STEP_CLOSE)
		log_warnx("store %s: the store step %s while %s: %sthe store may "
		    "be corrupt (patchdigest stats checks it); message passed on "
		    "untagged", conf != NULL ? conf->database : "?", how,
		    phase == STEP_OPEN ? "opening it" : phase == STEP_CLOSE ?
		    "closing it" : "parsing and recording the message",
		    sig == SIGALRM ? "a stopped process may hold its write lock, or " : "");
	else
		log_warnx("the store step %s; message passed on untagged", how);
}

static int
write_message(const struct input *in, size_t skip, const struct pd_tags *tags,
    struct sink *s)
{
	int rc;

	if (tags != NULL)
		rc = pd_tags_rewrite(in->msg + skip, in->len - skip, tags, sink_write, s);
	else
		rc = sink_write(in->msg + skip, in->len - skip, s);
	if (rc == 0 && in->over)
		rc = copy_rest(s);
	if (rc == 0)
		rc = sink_flush(s);
	if (rc != 0 && s->err != 0) {
		errno = s->err;
		log_warn("cannot write the message");
	}
	return rc == 0 ? 0 : -1;
}

static int
deliver(const struct opts *o, const struct input *in, const struct pd_tags *tags)
{
	struct maildir md;
	struct sink *s;
	int rc = -1;

	if ((s = malloc(sizeof(*s))) == NULL) {
		log_warn("deliver");
		return -1;
	}
	if (o->maildir == NULL) {
		sink_init(s, STDOUT_FILENO);
		rc = write_message(in, 0, tags, s);
		free(s);
		return rc;
	}
	if (maildir_open(&md, o->maildir, o->create) == 0) {
		sink_init(s, md.fd);
		/* an mbox "From " line has no place in a Maildir file */
		if (write_message(in, from_line_len(in), tags, s) == 0)
			rc = maildir_commit(&md);
	}
	maildir_abort(&md);
	free(s);
	return rc;
}

/*
 * -s: a due digest is sent by a child, so the delivery waits for a fork
 * only.  The child holds none of the descriptors procmail waits on.
 */
static void
send_due(const struct pd_conf *conf)
{
	struct pd_send_result res;
	pd_store *st = NULL;
	int fd, rc, status = 1;
	pid_t pid;

	if ((pid = fork()) < 0) {
		log_warn("fork for -s");
		return;
	}
	if (pid > 0)
		return;
	setsid();
	/* not even stderr or a descriptor procmail's caller passed down */
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	if (close_range(STDERR_FILENO + 1, ~0U, 0) != 0)
		for (fd = STDERR_FILENO + 1; fd < 1024; fd++)
			close(fd);
	/* at once: the syslog socket just closed, its number must not be reused first */
	log_init(PROGNAME, 0, 0);
	pd_msg_init();
	rc = pd_store_open(conf->database, store_flags(conf->database), conf->map_size,
	    conf->map_size_max, &st);
	if (rc != 0) {
		log_warnx("send: store %s: %s", conf->database, pd_strerror(rc));
		_exit(1);
	}
	memset(&res, 0, sizeof(res));
	rc = pd_send(st, conf, PD_SEND_DUE, time(NULL), &res);
	if (rc != 0 && rc != PD_EEMPTY)
		log_warnx("send: %s%s%s", pd_strerror(rc), res.errbuf[0] ? ": " : "",
		    res.errbuf);
	else
		status = 0;
	if (res.sent > 0)
		log_info("sent %d digest(s), last \"%s\"", res.sent, res.subject);
	pd_store_close(st);
	pd_msg_shutdown();
	_exit(status);
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct pd_conf *conf;
	struct pd_tags tags;
	struct input in;
	int ch, sig, phase, fault, badconf, tagged = 0, ex = EX_OK;

	while ((ch = getopt(argc, argv, "Cc:D:d:fnsV")) != -1) {
		switch (ch) {
		case 'C': o.create = 1; break;
		case 'c': o.conf_path = optarg; break;
		case 'D': o.db = optarg; break;
		case 'd': o.maildir = optarg; break;
		case 'f': o.foreground = 1; break;
		case 'n': o.dryrun = 1; break;
		case 's': o.send = 1; break;
		case 'V':
			printf(PROGNAME " %s\n", PD_VERSION);
			return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
		default: usage();
		}
	}
	/* -d "" would deliver into "/tmp/" and fail (75) on every retry */
	if (optind != argc || (o.create && o.maildir == NULL) ||
	    (o.maildir != NULL && *o.maildir == '\0'))
		usage();
	o.argv = argv;
	o.foreground = o.foreground || isatty(STDERR_FILENO);
	log_init(PROGNAME, o.foreground, 0);
	fault = guard_fault(&sig, &phase);
	/* a closed pipe must be a write error (EX_TEMPFAIL), not a signal */
	signal(SIGPIPE, SIG_IGN);
	/* inherited as ignored, it would make waitpid fail for sendmail (-s) */
	signal(SIGCHLD, SIG_DFL);

	conf = load_conf(&o, &badconf);
	if (fault)
		log_fault(&o, conf, sig, phase);
	if (read_input(conf != NULL ? conf->max_message_size : 0, &in) != 0) {
		log_warn("read stdin");
		ex = EX_TEMPFAIL;
		goto out;
	}
	in.msg = in.buf;
	if (conf == NULL)
		log_warnx("out of memory for the configuration; message passed on untagged");
	else if (in.over)
		log_warnx("message over MaxMessageSize (%zu bytes); passed on untagged",
		    conf->max_message_size);
	else if (!fault && !badconf)
		tagged = run_step(&o, conf, &in, &tags);
	if (deliver(&o, &in, tagged ? &tags : NULL) != 0) {
		ex = EX_TEMPFAIL;
		goto out;
	}
	if (o.send && !o.dryrun && !fault && !badconf && conf != NULL)
		send_due(conf);
out:
	guard_release();
	free(in.buf);
	pd_conf_free(conf);
	pd_msg_shutdown();
	return ex;
}
