/*
 * patchdigest-milter: tags and counts list mail as the MTA receives it
 * (SPEC.md sections 4 and 6, patchdigest-milter(8)).
 *
 * Threads: libmilter runs the listener, one thread per MTA connection and a
 * signal thread of its own (which stops the filter on SIGHUP/SIGTERM/SIGINT)
 * in a thread started here; the main thread takes the signals itself.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "patchdigest/error.h"
#include "patchdigest/log.h"
#include "patchdigest/msg.h"
#include "milter.h"

#define PROGNAME	"patchdigest-milter"
#define PD_VERSION	"0.1"
#define DRAIN_SECONDS	60	/* SIGTERM: how long in-flight messages may take */
#define THREAD_STACK	(1024 * 1024)	/* see small_stacks() */

struct opts {
	const char *conf;
	const char *db;
	const char *socket;
	const char *user;
	const char *pidfile;
	const char *testfile;
	int foreground, check, debug;
};

static const int caught[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2 };
static pthread_t main_thread;
static int sig_pipe[2] = { -1, -1 };
static int ready_fd = -1;	/* to the parent waiting in background() */
static int milter_rc;
static int busy_at_exit;	/* connection threads still parsing: leave GMime be */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-dfnV] [-c config] [-D database] [-P pidfile] "
	    "[-p socket] [-t file] [-u user]\n", PROGNAME);
	exit(EX_USAGE);
}

static int
version(void)
{
	unsigned int ma, mi, pl;

	smfi_version(&ma, &mi, &pl);
	printf("%s %s (libmilter %u.%u.%u)\n", PROGNAME, PD_VERSION, ma, mi, pl);
	return pdm_stdout_done();
}

/*
 * Written as root, maybe in a directory of the user the daemon becomes: a
 * link put there must not make root write through it, so the file is made
 * anew.
 */
static int
write_pidfile(const char *path)
{
	char buf[32];
	int fd, n, rc = 0;

	if ((unlink(path) != 0 && errno != ENOENT) ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		log_warn("write %s", path);
		rc = -1;
	}
	if (close(fd) != 0) {
		log_warn("close %s", path);
		rc = -1;
	}
	return rc;
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("no such user: %s", user);
		return -1;
	}
	if (getuid() == pw->pw_uid)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		log_warn("cannot become %s", user);
		return -1;
	}
	if (setuid(0) == 0) {
		log_warnx("could regain root after becoming %s", user);
		return -1;
	}
	return 0;
}

/*
 * Into the background.  The parent exits only when the child says how its
 * start went (one byte: 0 ready, else the child's exit status), so that a
 * pid file, user or thread that fails after the fork is still the starting
 * command's failure.  The working directory is kept: relative paths mean
 * what they mean with -f, and a reload still finds a relative -c file.
 */
static int
background(void)
{
	unsigned char st;
	ssize_t n;
	pid_t pid;
	int p[2], null;

	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) == -1) {
		log_warn("background");
		return -1;
	}
	if (pid > 0) {
		/* a signal to the starting command is not the daemon's */
		for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
			signal(caught[i], SIG_DFL);
		close(p[1]);
		while ((n = read(p[0], &st, 1)) == -1 && errno == EINTR)
			;
		/* a failed daemon is gone, its socket with it, when we return */
		if (n != 1 || st != 0)
			while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
				;
		_exit(n == 1 ? st : EX_SOFTWARE);
	}
	close(p[0]);
	ready_fd = p[1];
	if (setsid() == -1 || (null = open("/dev/null", O_RDWR)) == -1) {
		log_warn("background");
		return -1;
	}
	if (dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1 ||
	    dup2(null, STDERR_FILENO) == -1) {
		log_warn("background");
		close(null);
		return -1;
	}
	if (null > STDERR_FILENO)
		close(null);
	return 0;
}

/* Tell the parent of background() how the start went; once. */
static void
started(int rc)
{
	unsigned char st = (unsigned char)rc;

	if (ready_fd == -1)
		return;
	if (write(ready_fd, &st, 1) != 1)
		log_warn("telling the starting command");
	close(ready_fd);
	ready_fd = -1;
}

static void *
milter_thread(void *arg)
{
	(void)arg;
	milter_rc = smfi_main();
	pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;

	if (write(sig_pipe[1], &c, 1) != 1) {
		/* the pipe is full of signals not read yet: this one can go */
	}
	errno = e;
}

/*
 * Our signals are taken by a handler, in whichever thread, and read from a
 * pipe by the main thread, whatever it is doing.  Blocked and waited for
 * with sigwait, one that came while it was busy (a reload, the drain) went
 * to libmilter's signal thread, which stops the filter at once.  That can
 * still happen to a second signal sent before the first one's handler ran
 * (Linux then passes over the main thread): run() exits 70 for a restart.
 */
static int
catch_signals(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC) != 0 ||
	    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
		log_warn("signal pipe");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++) {
		if (sigaction(caught[i], &sa, NULL) != 0) {
			log_warn("sigaction");
			return -1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	/* inherited as ignored, it would make waitpid fail for sendmail */
	signal(SIGCHLD, SIG_DFL);
	return 0;
}

/*
 * Let the messages in progress finish before stopping libmilter: Debian's
 * libmilter (built with its workers pool) drops open sessions on
 * smfi_stop().  Messages that start after that are refused (OnError).
 */
static void
drain(void)
{
	log_info("stopping: finishing messages in progress");
	if (pdm_state_drain(DRAIN_SECONDS) != 0) {
		log_warnx("messages still in progress after %d s", DRAIN_SECONDS);
		busy_at_exit = 1;
	}
	smfi_stop();
}

/*
 * Take signals until libmilter's thread ends; 1 if it ended because we
 * stopped it.
 */
static int
signal_loop(const char *confpath)
{
	unsigned char sig;
	ssize_t n;
	int stopping = 0;

	for (;;) {
		if ((n = read(sig_pipe[0], &sig, 1)) < 0 && errno == EINTR)
			continue;
		if (n != 1) {
			log_warn("signal pipe");
			smfi_stop();
			return 0;
		}
		switch (sig) {
		case SIGHUP:
		case SIGUSR1:
			if (!stopping)
				pdm_state_reload(confpath);
			break;
		case SIGTERM:
		case SIGINT:
			if (!stopping) {
				stopping = 1;
				drain();
			}
			break;
		case SIGUSR2:
			return stopping;
		}
	}
}

/*
 * libmilter starts a thread for each MTA connection and ends it with the
 * connection.  With glibc's 8 MB default stacks each one is a fresh mmap
 * and munmap (glibc keeps only 40 MB of stacks for reuse): about 15% of the
 * milter's CPU under load (tests/bench/README.md).  What a message needs is
 * far less: a message nested 200,000 MIME levels deep parses within a
 * 256 KB stack (our own walk stops at 16 levels), LMDB's cursors are fixed
 * arrays; tests/milter/accept.lua sends a 20,000-level message through
 * the milter, under ASan too.
 */
static void
small_stacks(void)
{
	pthread_attr_t a;

	if (pthread_attr_init(&a) != 0)
		return;
	if (pthread_attr_setstacksize(&a, THREAD_STACK) != 0 ||
	    pthread_setattr_default_np(&a) != 0)
		log_warnx("cannot set the threads' stack size; keeping the default");
	pthread_attr_destroy(&a);
}

static int
run(const struct opts *o, const char *confpath, struct pdm_cfg *cfg)
{
	const struct pd_conf *conf = cfg->conf;
	const char *sock = o->socket ? o->socket : conf->socket;
	const char *user = o->user ? o->user : conf->user_id;
	const char *pidconf = o->pidfile ? o->pidfile : conf->pid_file;
	char *pidfile = NULL;	/* a copy: a reload frees the configuration */
	pthread_t tid;
	int rc, pid_written = 0, stopped;

	if (catch_signals() != 0) {
		pdm_cfg_put(cfg);
		return EX_OSERR;
	}
	if (pdm_state_init(cfg, o->db) != 0) {
		pdm_cfg_put(cfg);
		return EX_OSERR;
	}
	if (smfi_register(pdm_filter) != MI_SUCCESS) {
		log_warnx("smfi_register failed");
		rc = EX_SOFTWARE;
		goto out;
	}
	rc = EX_UNAVAILABLE;
	if (pdm_listen_open(sock, conf->umask, user) != 0)
		goto out;
	rc = EX_OSERR;
	if (!o->foreground && background() != 0)
		goto out;
	log_init(PROGNAME, o->foreground && !conf->syslog, o->debug);
	rc = EX_CANTCREAT;
	if (pidconf != NULL && ((pidfile = strdup(pidconf)) == NULL ||
	    write_pidfile(pidfile) != 0))
		goto out;
	pid_written = pidfile != NULL;
	rc = EX_NOPERM;
	if (user != NULL && drop_privileges(user) != 0)
		goto out;
	rc = EX_OSERR;
	pdm_state_open_store();
	main_thread = pthread_self();
	small_stacks();
	if (pthread_create(&tid, NULL, milter_thread, NULL) != 0) {
		log_warnx("cannot start the milter thread");
		goto out;
	}
	if (pdm_sched_start() != 0)
		log_warnx("cannot start the digest schedule");
	log_info("listening on %s", sock);
	started(0);
	stopped = signal_loop(confpath);
	pthread_join(tid, NULL);
	pdm_listen_close();
	pdm_sched_stop();
	rc = milter_rc == MI_SUCCESS && stopped ? 0 : EX_SOFTWARE;
	if (!stopped)
		log_warnx("libmilter stopped unasked; exiting with an error for a restart");
	log_info("stopped");
out:
	pdm_listen_close();	/* a start that failed leaves no socket */
	started(rc);
	if (pid_written && unlink(pidfile) != 0 && errno != ENOENT)
		log_debug("unlink %s: %s", pidfile, strerror(errno));
	free(pidfile);
	pdm_state_shutdown();
	return rc;
}

static int stdout_closed;	/* -V, -n and -t have nowhere to print */

/* What went to stdout reached it: 0, or EX_IOERR logged. */
int
pdm_stdout_done(void)
{
	if (stdout_closed) {
		log_warnx("stdout: closed");
		return EX_IOERR;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("stdout");
		return EX_IOERR;
	}
	return 0;
}

/* fds 0-2 open, so that no pipe or socket of ours is taken for one of them */
static void
std_fds(void)
{
	int fd;

	stdout_closed = fcntl(STDOUT_FILENO, F_GETFD) == -1;
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		;
	if (fd > STDERR_FILENO)
		close(fd);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct pdm_cfg *cfg;
	const char *confpath, *why;
	char err[512] = "";
	int ch, rc;

	std_fds();
	log_init(PROGNAME, 1, 0);
	memset(&o, 0, sizeof(o));
	while ((ch = getopt(argc, argv, "c:dD:fnp:P:t:u:V")) != -1) {
		switch (ch) {
		case 'c': o.conf = optarg; break;
		case 'd': o.debug = 1; break;
		case 'D': o.db = optarg; break;
		case 'f': o.foreground = 1; break;
		case 'n': o.check = 1; break;
		case 'p': o.socket = optarg; break;
		case 'P': o.pidfile = optarg; break;
		case 't': o.testfile = optarg; break;
		case 'u': o.user = optarg; break;
		case 'V': return version();
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(PROGNAME, 1, o.debug);
	/* refused before anything starts, as a bad Socket line is */
	if (o.socket != NULL && pd_conf_socket_check(o.socket, &why) != 0) {
		log_warnx("-p %s: %s", o.socket, why);
		return EX_CONFIG;
	}
	confpath = o.conf;
	if (confpath == NULL)
		confpath = pd_conf_default_path();
	pd_msg_init();
	if (pdm_cfg_load(confpath, o.db, &cfg, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		pd_msg_shutdown();
		return EX_CONFIG;
	}
	if (o.check) {
		printf("%s: configuration OK\n", confpath ? confpath : "defaults");
		rc = pdm_stdout_done();
		pdm_cfg_put(cfg);
	} else if (o.testfile != NULL) {
		rc = pdm_testfile(cfg, o.testfile);
		pdm_cfg_put(cfg);
	} else
		rc = run(&o, confpath, cfg);
	if (!busy_at_exit)
		pd_msg_shutdown();
	return rc;
}
