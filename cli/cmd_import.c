/*
 * patchdigest import FILE|DIR|- ...: mbox/mboxrd files (plain, .gz, .xz),
 * Maildirs, directories of .eml files, single messages, stdin.  Messages
 * are committed in batches; each message's record and counters share one
 * transaction, so an interrupted import re-run counts nothing twice.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "patchdigest/classify.h"
#include "patchdigest/error.h"
#include "patchdigest/ingest.h"
#include "patchdigest/mbox.h"

#define BATCH_MSGS	1000
#define BATCH_SECS	1.0
#define PROGRESS_SECS	0.2

struct imp {
	pd_store *st;
	pd_classifier *cl;
	uint64_t nread, stored, dups, bad, errors;
	uint64_t bstored, bdups;	/* of the batch not yet committed */
	size_t batch_n;
	double batch_t, t0, last_progress;
	int tty, fatal;
	uint64_t total;		/* bytes of all inputs, when known */
	uint64_t done;		/* bytes of the inputs finished */
	uint64_t fed;		/* uncompressed bytes parsed */
	const pd_mbox *mb;	/* current mbox, for progress */
	int zfd;		/* compressed input being read by a child */
	pid_t zpid;		/* that child, until reaped */
	int zfailed;		/* it exited with an error */
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
usage(void)
{
	fprintf(stderr, "usage: patchdigest import [-c config] [-D dir] file|dir|- ...\n");
	return EX_USAGE;
}

static void
progress(struct imp *im, int final)
{
	double t = now(), el = t - im->t0, rate;
	uint64_t pos = im->done;
	char eta[32] = "";

	if (!im->tty || (!final && t - im->last_progress < PROGRESS_SECS))
		return;
	im->last_progress = t;
	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	if (im->zfd >= 0) {
		off_t o = lseek(im->zfd, 0, SEEK_CUR);

		pos += o > 0 ? (uint64_t)o : 0;
	} else if (im->mb != NULL)
		pos += pd_mbox_bytes(im->mb);
	rate = el > 0 ? (double)im->fed / el / 1e6 : 0;
	if (im->total > 0 && pos > 0 && pos <= im->total && el > 0.5) {
		double left = el * (double)(im->total - pos) / (double)pos;

		snprintf(eta, sizeof(eta), "  ETA %d:%02d", (int)left / 60, (int)left % 60);
	}
	fprintf(stderr, "\r\033[K%llu messages  %.1f MB/s%s",
	    (unsigned long long)im->nread, rate, eta);
}

/*
 * Commit the batch; its messages count as stored only once committed (a
 * failed commit stored none of them).
 */
static int
commit(struct imp *im)
{
	int rc = pd_store_commit(im->st);

	if (rc == 0) {
		im->stored += im->bstored;
		im->dups += im->bdups;
	}
	im->bstored = im->bdups = 0;
	return rc;
}

static int
batch_step(struct imp *im)
{
	int rc;

	if (++im->batch_n < BATCH_MSGS && now() - im->batch_t < BATCH_SECS)
		return 0;
	if ((rc = commit(im)) != 0 || (rc = pd_store_begin(im->st)) != 0) {
		cli_err("store: %s", pd_strerror(rc));
		im->fatal = 1;
		return -1;
	}
	im->batch_n = 0;
	im->batch_t = now();
	return 0;
}

static int
one(struct imp *im, const char *buf, size_t len, const char *where)
{
	struct pd_ingest res;
	int rc;

	im->nread++;
	im->fed += len;
	if ((rc = pd_ingest(im->st, im->cl, buf, len, NULL, &res)) == PD_EPARSE) {
		im->bad++;
	} else if (rc == PD_ETOOBIG) {
		cli_err("%s: a message of %zu bytes: %s", where, len, pd_strerror(rc));
		im->errors++;
	} else if (rc != 0) {
		cli_err("%s: %s", where, pd_strerror(rc));
		im->fatal = 1;
		return -1;
	} else if (res.store_err != 0) {
		cli_err("%s: message %s: %s", where, res.msgid, pd_strerror(res.store_err));
		im->errors++;
		switch (res.store_err) {
		case PD_ETOOBIG:
		case PD_EINVAL:
			break;
		default:
			im->fatal = 1;
			return -1;
		}
	} else if (res.duplicate)
		im->bdups++;
	else
		im->bstored++;
	progress(im, 0);
	return batch_step(im);
}

/*
 * Wait for the decompressor; note whether it failed.  Status 2 is gzip's
 * and xz's warning (trailing garbage ignored): all the data came out.
 */
static void
reap(struct imp *im)
{
	pid_t w;
	int status;

	while ((w = waitpid(im->zpid, &status, 0)) < 0 && errno == EINTR)
		;
	im->zfailed = w != im->zpid || !WIFEXITED(status) ||
	    (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 2);
	im->zpid = 0;
}

static int
read_mbox(struct imp *im, FILE *fp, const char *name)
{
	pd_mbox *mb;
	const char *buf;
	size_t len;
	int rc;

	if ((rc = pd_mbox_new(fp, &mb)) != 0) {
		cli_err("%s: %s", name, pd_strerror(rc));
		return -1;
	}
	im->mb = mb;
	while ((rc = pd_mbox_next(mb, &buf, &len)) == 1) {
		/* A decompressor that failed cut its last message short. */
		if (im->zpid > 0 && pd_mbox_eof(mb)) {
			reap(im);
			if (im->zfailed)
				break;
		}
		if (one(im, buf, len, name) != 0)
			break;
	}
	im->mb = NULL;
	pd_mbox_free(mb);
	if (rc < 0) {
		cli_err("%s: read error: %s", name, strerror(errno));
		return -1;
	}
	return im->fatal ? -1 : 0;
}

static int
read_whole(const char *path, char **out, size_t *outlen)
{
	FILE *fp;
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;
	int rc = 0;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 65536 * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				rc = -1;
				break;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp))
		rc = -1;
	fclose(fp);
	if (rc != 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static int
read_eml(struct imp *im, const char *path)
{
	char *buf;
	size_t len;
	int rc;

	if (read_whole(path, &buf, &len) != 0) {
		cli_err("%s: %s", path, strerror(errno));
		return -1;
	}
	rc = one(im, buf, len, path);
	free(buf);
	im->done += len;
	return rc;
}

static int
has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && strcmp(name + n - k, suffix) == 0;
}

static const char *
decompressor(const char *path)
{
	if (has_suffix(path, ".xz"))
		return "xz";
	if (has_suffix(path, ".gz"))
		return "gzip";
	return NULL;
}

/* The file is the child's stdin: its offset shows the progress. */
static int
read_compressed(struct imp *im, const char *path, const char *prog)
{
	int fd, p[2], rc = 0;
	pid_t pid;
	FILE *fp;
	struct stat sb;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cli_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		cli_err("pipe: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if ((pid = fork()) < 0) {
		cli_err("fork: %s", strerror(errno));
		close(fd);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(fd, 0) < 0 || dup2(p[1], 1) < 0)
			_exit(127);
		execlp(prog, prog, "-dc", (char *)NULL);
		fprintf(stderr, "patchdigest: %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	im->zpid = pid;
	im->zfailed = 0;
	if ((fp = fdopen(p[0], "r")) == NULL) {
		cli_err("%s: %s", path, strerror(errno));
		close(p[0]);
		rc = -1;
	} else {
		im->zfd = fd;
		rc = read_mbox(im, fp, path);
		im->zfd = -1;
		fclose(fp);	/* a child still writing gets SIGPIPE */
	}
	if (im->zpid > 0)
		reap(im);
	if (rc == 0 && im->zfailed) {
		cli_err("%s: corrupt input (%s -dc failed); the message it cut "
		    "off was not stored", path, prog);
		rc = -1;
	}
	if (fstat(fd, &sb) == 0)
		im->done += (uint64_t)sb.st_size;
	close(fd);
	return rc;
}

/* An mbox or one message (the reader tells them apart): a file, a pipe. */
static int
read_file(struct imp *im, const char *path)
{
	const char *prog = decompressor(path);
	FILE *fp;
	int rc;

	if (prog != NULL)
		return read_compressed(im, path, prog);
	if ((fp = fopen(path, "rb")) == NULL) {
		cli_err("%s: %s", path, strerror(errno));
		return -1;
	}
	rc = read_mbox(im, fp, path);
	if (fseeko(fp, 0, SEEK_END) == 0 && ftello(fp) > 0)
		im->done += (uint64_t)ftello(fp);
	fclose(fp);
	return rc;
}

/* In a directory that is no Maildir: messages and mailboxes by their names. */
static int
file_filter(const struct dirent *d)
{
	return d->d_name[0] != '.' && (has_suffix(d->d_name, ".eml") ||
	    has_suffix(d->d_name, ".mbox") || has_suffix(d->d_name, ".mbox.gz") ||
	    has_suffix(d->d_name, ".mbox.xz"));
}

static int
maildir_filter(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* One directory entry: a regular file is read, anything else skipped. */
static int
read_entry(struct imp *im, const char *dir, const char *name, int maildir,
    int *nfiles)
{
	struct stat sb;
	char path[4096];
	int len = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (len < 0 || (size_t)len >= sizeof(path)) {
		cli_err("%s/%s: name too long", dir, name);
		return -1;
	}
	if (stat(path, &sb) != 0) {
		cli_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode))
		return 0;
	(*nfiles)++;
	if (maildir || has_suffix(name, ".eml"))
		return read_eml(im, path);
	return read_file(im, path);
}

/* An entry to read: its directory and name. */
struct entry {
	const char *dir;
	struct dirent *d;
};

static int
entry_cmp(const void *a, const void *b)
{
	return strverscmp(((const struct entry *)a)->d->d_name,
	    ((const struct entry *)b)->d->d_name);
}

/* Add the entries of dir that filter takes to *ents. */
static int
list_dir(const char *dir, int (*filter)(const struct dirent *),
    struct entry **ents, size_t *n)
{
	struct dirent **d;
	struct entry *e;
	int nd;

	if ((nd = scandir(dir, &d, filter, NULL)) < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((e = reallocarray(*ents, *n + (size_t)nd + 1, sizeof(*e))) == NULL) {
		cli_err("%s: %s", dir, strerror(errno));
		for (int i = 0; i < nd; i++)
			free(d[i]);
		free(d);
		return -1;
	}
	*ents = e;
	for (int i = 0; i < nd; i++)
		e[(*n)++] = (struct entry){ dir, d[i] };
	free(d);
	return 0;
}

/*
 * The entries listed, in name order with numbers by value: a Maildir
 * name starts with its delivery time, so new/ and cur/ read together come
 * in arrival order.  One that cannot be read (vanished, a dangling link) is
 * an error that does not stop the others.  *nfiles counts the files read.
 */
static int
read_entries(struct imp *im, struct entry *ents, size_t n, int maildir,
    int *nfiles)
{
	int rc = 0;

	if (n > 0)
		qsort(ents, n, sizeof(*ents), entry_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!im->fatal && read_entry(im, ents[i].dir, ents[i].d->d_name,
		    maildir, nfiles) != 0)
			rc = -1;
		free(ents[i].d);
	}
	return rc;
}

static int
read_dir(struct imp *im, const char *dir)
{
	char sub[2][4096];
	struct stat sb;
	struct entry *ents = NULL;
	size_t n = 0;
	int rc = 0, maildir = 0, nfiles = 0;

	for (int i = 0; i < 2; i++) {
		int len = snprintf(sub[i], sizeof(sub[i]), "%s/%s", dir,
		    i ? "cur" : "new");

		if (len < 0 || (size_t)len >= sizeof(sub[i]))
			return -1;
		if (stat(sub[i], &sb) != 0 || !S_ISDIR(sb.st_mode))
			continue;
		maildir = 1;
		if (list_dir(sub[i], maildir_filter, &ents, &n) != 0)
			rc = -1;
	}
	if (!maildir && list_dir(dir, file_filter, &ents, &n) != 0)
		rc = -1;
	if (read_entries(im, ents, n, maildir, &nfiles) != 0)
		rc = -1;
	free(ents);
	if (rc == 0 && !maildir && nfiles == 0) {
		cli_err("%s: no Maildir, and no .eml or .mbox file", dir);
		rc = -1;
	}
	return rc;
}

static void
size_inputs(struct imp *im, int argc, char **argv)
{
	struct stat sb;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0 || stat(argv[i], &sb) != 0 ||
		    !S_ISREG(sb.st_mode)) {
			im->total = 0;	/* unknown: no ETA */
			return;
		}
		im->total += (uint64_t)sb.st_size;
	}
}

static int
make_classifier(struct cli *c, pd_classifier **cl)
{
	char err[512];
	int rc;

	*cl = NULL;
	rc = pd_classifier_new(c->conf->subsystem_rules, c->conf->maintainers,
	    c->conf->maintainers_files, cl, err, sizeof(err));
	if (rc != 0) {
		cli_err("classifier: %s", *err ? err : pd_strerror(rc));
		return -1;
	}
	return 0;
}

/* A mistyped path fails the import before a store is created or touched. */
static int
check_inputs(int argc, char **argv)
{
	struct stat sb;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			continue;
		if (stat(argv[i], &sb) != 0 || access(argv[i], R_OK) != 0) {
			cli_err("%s: %s", argv[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int
import_one(struct imp *im, const char *arg)
{
	struct stat sb;

	if (strcmp(arg, "-") == 0)
		return read_mbox(im, stdin, "stdin");
	if (stat(arg, &sb) != 0) {
		cli_err("%s: %s", arg, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode))
		return read_dir(im, arg);
	return read_file(im, arg);
}

int
cmd_import(struct cli *c, int argc, char **argv)
{
	struct imp im;
	int ch, rc, failed = 0;

	while ((ch = getopt(argc, argv, "c:D:V")) != -1) {
		if (cli_common_opt(c, ch, optarg))
			continue;
		return usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage();
	memset(&im, 0, sizeof(im));
	im.zfd = -1;
	if (check_inputs(argc, argv) != 0 || cli_load_conf(c) != 0 ||
	    make_classifier(c, &im.cl) != 0)
		return 1;
	if (cli_open_store(c, PD_STORE_CREATE | PD_STORE_NOSYNC | PD_STORE_CHECK,
	    &im.st) != 0) {
		pd_classifier_free(im.cl);
		return 1;
	}
	im.tty = isatty(STDERR_FILENO);
	im.t0 = im.batch_t = now();
	size_inputs(&im, argc, argv);
	if ((rc = pd_store_begin(im.st)) != 0) {
		cli_err("store: %s", pd_strerror(rc));
		im.fatal = 1;
	}
	for (int i = 0; i < argc && !im.fatal; i++)
		if (import_one(&im, argv[i]) != 0)
			failed = 1;
	/* After a fatal error too: what was read stays stored. */
	if ((rc = commit(&im)) != 0 && !im.fatal) {
		cli_err("store: %s", pd_strerror(rc));
		im.fatal = 1;
	}
	progress(&im, 1);
	pd_store_close(im.st);
	pd_classifier_free(im.cl);
	printf("read %llu, stored %llu, duplicates %llu, unparseable %llu",
	    (unsigned long long)im.nread, (unsigned long long)im.stored,
	    (unsigned long long)im.dups, (unsigned long long)im.bad);
	if (im.errors)
		printf(", errors %llu", (unsigned long long)im.errors);
	printf("\n");
	return failed || im.fatal ? 1 : 0;
}
