/*
 * Delivery into a Maildir (maildir(5)): a unique name written in tmp/,
 * every write checked, fsync, rename into new/, fsync new/ so the rename
 * itself survives a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lda.h"
#include "patchdigest/log.h"

static int
mkdir_ok(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	log_warn("mkdir %s", path);
	return -1;
}

static char *
path_join(const char *dir, const char *sub, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s%s%s", dir, sub, name[0] ? "/" : "", name) < 0)
		return NULL;
	return p;
}

/* The host part of a Maildir name: '/' and ':' escaped as maildir(5) says. */
static void
maildir_host(char *out, size_t outlen)
{
	char host[256], *o = out;
	const char *h;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (h = host; *h != '\0' && (size_t)(o - out) + 5 < outlen; h++) {
		if (*h == '/' || *h == ':')
			o += snprintf(o, 5, "\\%03o", (unsigned char)*h);
		else
			*o++ = *h;
	}
	*o = '\0';
}

int
maildir_open(struct maildir *md, const char *dir, int create)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char host[1100], name[1200];
	struct timeval tv;
	unsigned n;
	int r;

	md->fd = -1;
	md->dir = md->tmp = md->new = NULL;
	if (create) {
		if (mkdir_ok(dir) != 0)
			return -1;
		for (size_t i = 0; i < 3; i++) {
			char *p = path_join(dir, subs[i], "");

			if (p == NULL || mkdir_ok(p) != 0) {
				free(p);
				return -1;
			}
			free(p);
		}
	}
	if ((md->dir = path_join(dir, "new", "")) == NULL)
		goto nomem;
	maildir_host(host, sizeof(host));
	/* n makes the name unique should the clock step back within a pid */
	for (n = 0; n < 100; n++) {
		gettimeofday(&tv, NULL);
		r = snprintf(name, sizeof(name), "%lld.M%ldP%ld_%u.%s",
		    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(), n, host);
		if (r < 0 || (size_t)r >= sizeof(name)) {
			errno = ENAMETOOLONG;
			log_warn("maildir %s", dir);
			return -1;
		}
		free(md->tmp);
		free(md->new);
		md->tmp = path_join(dir, "tmp", name);
		md->new = path_join(dir, "new", name);
		if (md->tmp == NULL || md->new == NULL)
			goto nomem;
		md->fd = open(md->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (md->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	log_warn("maildir: %s", md->tmp);
	return -1;
nomem:
	log_warn("maildir %s", dir);
	return -1;
}

int
maildir_commit(struct maildir *md)
{
	int dfd, fd = md->fd;

	md->fd = -1;
	if (fsync(fd) != 0) {
		log_warn("fsync %s", md->tmp);
		close(fd);
		goto fail;
	}
	if (close(fd) != 0) {
		log_warn("close %s", md->tmp);
		goto fail;
	}
	if (rename(md->tmp, md->new) != 0) {
		log_warn("rename %s to %s", md->tmp, md->new);
		goto fail;
	}
	if ((dfd = open(md->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_warn("open %s", md->dir);
		return -1;	/* delivered but maybe not durable: retry is a dup */
	}
	if (fsync(dfd) != 0) {
		log_warn("fsync %s", md->dir);
		close(dfd);
		return -1;
	}
	close(dfd);
	free(md->tmp);
	md->tmp = NULL;
	return 0;
fail:
	unlink(md->tmp);
	free(md->tmp);
	md->tmp = NULL;
	return -1;
}

void
maildir_abort(struct maildir *md)
{
	if (md->fd >= 0)
		close(md->fd);
	md->fd = -1;
	if (md->tmp != NULL)
		unlink(md->tmp);
	free(md->tmp);
	free(md->new);
	free(md->dir);
	md->tmp = md->new = md->dir = NULL;
}
