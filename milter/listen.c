/*
 * The listening socket.  libmilter opens it (smfi_opensocket); around that
 * call this module removes a stale unix socket only when nothing answers on
 * it, applies UMask to the socket's mode, and on inet sockets sets
 * TCP_NODELAY on the listener, which Linux copies to every accepted
 * connection: libmilter owns accept() and offers no hook for the connection
 * descriptors.  Without it a message stalls (~44 ms on loopback) on our
 * Nagle algorithm waiting for the MTA's delayed ACK; the MTA's own stall,
 * the other half of ~88 ms, callbacks.c avoids (the DATA step).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "patchdigest/log.h"
#include "milter.h"

#define MAXFD_SCAN	1024

static char *conn_spec;		/* libmilter keeps the pointer */
static char *sock_path;		/* our unix socket, removed at exit */
static struct stat sock_st;

int
pdm_listen_inet(void)
{
	return conn_spec != NULL && pd_conf_socket_path(conn_spec) == NULL;
}

/* Remove path if it is a socket nobody listens on. */
static int
remove_stale(const char *path)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : (log_warn("%s", path), -1);
	if (!S_ISSOCK(sb.st_mode)) {
		log_warnx("%s exists and is not a socket", path);
		return -1;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		log_warnx("%s: another process is listening on it", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		log_warn("%s", path);
		return -1;
	}
	if (unlink(path) != 0) {
		log_warn("unlink %s", path);
		return -1;
	}
	log_info("removed stale socket %s", path);
	return 0;
}

/* The socket's directory, created if missing; owned by user so that the
 * daemon can remove its socket after dropping privileges. */
static int
socket_dir(const char *path, const char *user)
{
	char *dir, *slash;
	struct passwd *pw;
	int rc = 0;

	if ((dir = strdup(path)) == NULL)
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		goto out;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0) {
		if (errno != EEXIST) {
			log_warn("mkdir %s", dir);
			rc = -1;
		}
		goto out;
	}
	if (user != NULL && (pw = getpwnam(user)) != NULL &&
	    chown(dir, pw->pw_uid, pw->pw_gid) != 0) {
		log_warn("chown %s", dir);
		rc = -1;
	}
out:
	free(dir);
	return rc;
}

static int
is_socket_fd(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

static void
nodelay_new_listener(const unsigned char *before)
{
	int on = 1, acc, found = 0;
	socklen_t len;

	for (int fd = 0; fd < MAXFD_SCAN; fd++) {
		if (before[fd] || !is_socket_fd(fd))
			continue;
		len = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0 || !acc)
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0)
			log_warn("TCP_NODELAY");
		else
			found = 1;
	}
	if (!found)
		log_warnx("TCP_NODELAY not set: each message may stall ~40 ms twice");
}

int
pdm_listen_open(const char *spec, unsigned umask_bits, const char *user)
{
	unsigned char before[MAXFD_SCAN];
	const char *path;
	struct passwd *pw;
	mode_t old;
	int rc;

	if ((path = pd_conf_socket_path(spec)) != NULL &&
	    (socket_dir(path, user) != 0 || remove_stale(path) != 0))
		return -1;
	free(conn_spec);
	if ((conn_spec = strdup(spec)) == NULL || smfi_setconn(conn_spec) != MI_SUCCESS) {
		log_warnx("smfi_setconn %s failed", spec);
		return -1;
	}
	for (int fd = 0; fd < MAXFD_SCAN; fd++)
		before[fd] = (unsigned char)is_socket_fd(fd);
	old = umask((mode_t)umask_bits);
	rc = smfi_opensocket(false);
	umask(old);
	if (rc != MI_SUCCESS) {
		log_warnx("cannot open socket %s", spec);
		return -1;
	}
	if (path == NULL) {
		nodelay_new_listener(before);
		return 0;
	}
	/* not chown: the user owns the directory and could put a link there */
	if (user != NULL && (pw = getpwnam(user)) != NULL &&
	    lchown(path, pw->pw_uid, pw->pw_gid) != 0)
		log_warn("chown %s", path);
	if (stat(path, &sock_st) == 0)
		sock_path = strdup(path);
	return 0;
}

/*
 * libmilter leaves the socket file behind when running as root; remove it
 * if it is still ours (a new instance may have replaced it).
 */
void
pdm_listen_close(void)
{
	struct stat sb;

	if (sock_path != NULL && stat(sock_path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_dev == sock_st.st_dev && sb.st_ino == sock_st.st_ino &&
	    unlink(sock_path) != 0)
		log_warn("unlink %s", sock_path);
	free(sock_path);
	sock_path = NULL;
	free(conn_spec);
	conn_spec = NULL;
}
