/*
 * The guard around the store step.  LMDB trusts its pages: with random
 * bytes over part of data.mdb it follows a page number past the end of the
 * file (SIGBUS) or a pointer out of the map (SIGSEGV), fails one of its
 * assertions (abort), loops, or copies with a bogus length over the heap.
 * No check short of reading every page at each delivery rules that out,
 * and a child process per message cost more than the rest of the delivery
 * together (see tests/bench/README.md).  So the step runs here, and a
 * fault, a timeout or a sanitizer's report re-runs the program from the
 * start on a copy of the message kept in a memfd; the new process is told
 * which fault it was and passes the message on untagged.  This process
 * parses and writes out the memfd through a read-only map, so a stray write
 * of LMDB's cannot change the message either: it faults instead.  Everything the handler does is
 * async-signal-safe: the heap may be what broke.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include "lda.h"

#define FAULT_VAR	"PATCHDIGEST_LDA_FAULT"

extern char **environ;

static const int guarded[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGALRM };
#define NGUARDED	(sizeof(guarded) / sizeof(guarded[0]))

static struct sigaction saved[NGUARDED];
static size_t nsaved;
static char altstack[65536];
static volatile sig_atomic_t phase;
static int msg_fd = -1;
static void *view = MAP_FAILED;
static size_t view_len;
static char **rerun_argv, **rerun_envp;
/* FAULT_VAR=SS P: filled in by the handler */
static char fault_env[] = FAULT_VAR "=00 -";

static void __attribute__((noreturn))
rerun(int sig)
{
	char *p = fault_env + sizeof(FAULT_VAR);
	sigset_t none;

	alarm(0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	p[0] = (char)('0' + sig / 10 % 10);
	p[1] = (char)('0' + sig % 10);
	p[3] = phase != 0 ? (char)phase : '-';
	if (lseek(msg_fd, 0, SEEK_SET) == 0 && dup2(msg_fd, STDIN_FILENO) == 0) {
		close_range(STDERR_FILENO + 1, ~0U, 0);
		execve("/proc/self/exe", rerun_argv, rerun_envp);
	}
	/* the message is on stdin no more: the MTA or procmail keeps it */
	_exit(EX_TEMPFAIL);
}

static void
on_fault(int sig)
{
	rerun(sig);
}

#if defined(__SANITIZE_ADDRESS__)
/* A sanitizer reports, then exits without a signal: signal 0. */
static void
on_sanitizer_death(void)
{
	rerun(0);
}
#endif

/* The environment of the re-run: ours, with FAULT_VAR set. */
static char **
rerun_env(void)
{
	size_t n = 0, i, j = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], FAULT_VAR "=", sizeof(FAULT_VAR)) != 0)
			env[j++] = environ[i];
	env[j] = fault_env;
	return env;
}

static int
keep_message(const char *buf, size_t len)
{
	ssize_t w;

	if ((msg_fd = memfd_create("patchdigest-lda", MFD_CLOEXEC)) < 0)
		return -1;
	while (len > 0) {
		w = write(msg_fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int
guard_begin(const char *buf, size_t len, char **argv, const char **copy)
{
	struct sigaction sa;
	stack_t ss;
	int e;

	phase = 0;
	rerun_argv = argv;
	if (keep_message(buf, len) != 0 || (rerun_envp = rerun_env()) == NULL)
		goto fail;
	*copy = buf;
	if (len > 0) {
		view = mmap(NULL, len, PROT_READ, MAP_SHARED, msg_fd, 0);
		if (view == MAP_FAILED)
			goto fail;
		view_len = len;
		*copy = view;
	}
	/* a stack overflow in the parser must still reach the handler */
	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = altstack;
	ss.ss_size = sizeof(altstack);
	if (sigaltstack(&ss, NULL) != 0)
		goto fail;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	for (nsaved = 0; nsaved < NGUARDED; nsaved++)
		if (sigaction(guarded[nsaved], &sa, &saved[nsaved]) != 0)
			goto fail;
#if defined(__SANITIZE_ADDRESS__)
	__sanitizer_set_death_callback(on_sanitizer_death);
#endif
	alarm(GUARD_TIMEOUT);
	return 0;
fail:
	e = errno;
	/* the message is written out from the caller's buffer, not the map */
	*copy = buf;
	guard_end();
	guard_release();
	errno = e;
	return -1;
}

void
guard_phase(int p)
{
	phase = p;
}

void
guard_end(void)
{
	stack_t ss;

	alarm(0);
#if defined(__SANITIZE_ADDRESS__)
	__sanitizer_set_death_callback(NULL);
#endif
	while (nsaved > 0) {
		nsaved--;
		sigaction(guarded[nsaved], &saved[nsaved], NULL);
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	if (msg_fd >= 0)
		close(msg_fd);
	msg_fd = -1;
	free(rerun_envp);
	rerun_envp = NULL;
}

void
guard_release(void)
{
	if (view != MAP_FAILED)
		munmap(view, view_len);
	view = MAP_FAILED;
}

int
guard_fault(int *sig, int *ph)
{
	const char *v = getenv(FAULT_VAR);

	if (v == NULL || strlen(v) != 4 || v[2] != ' ')
		return 0;
	*sig = (v[0] - '0') * 10 + (v[1] - '0');
	*ph = v[3] == '-' ? 0 : v[3];
	unsetenv(FAULT_VAR);
	return 1;
}
