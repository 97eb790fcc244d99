/*
 * The quick reads (show, ranges, digest) do not check every page of the
 * store first: on a large store that costs more than the read itself.
 * LMDB trusts its pages, so a damaged one can crash it.  A fault in these
 * commands therefore re-runs the program (a fork per read cost a third of
 * a quick read on a virtual machine) to check the store and say it is
 * corrupt, as the other commands do, instead of leaving the user a
 * segfault.  The handler only does what is async-signal-safe.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include "cli.h"
#include "patchdigest/error.h"
#include "patchdigest/store.h"

#define FAULT_VAR	"PATCHDIGEST_FAULT"

extern char **environ;

static char progname[] = "patchdigest";
static char *rerun_argv[3];
static char **rerun_envp;
/* FAULT_VAR=SS: filled in by the handler */
static char fault_env[] = FAULT_VAR "=00";

static void __attribute__((noreturn))
rerun(int sig)
{
	static const char msg[] =
	    "patchdigest: reading the store faulted: `patchdigest stats` checks it\n";
	char *p = fault_env + sizeof(FAULT_VAR);
	sigset_t none;

	/* the mask survives execve: the faulting signal must not */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	p[0] = (char)('0' + sig / 10 % 10);
	p[1] = (char)('0' + sig % 10);
	execve("/proc/self/exe", rerun_argv, rerun_envp);
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(EX_SOFTWARE);
}

#if defined(__SANITIZE_ADDRESS__)
/* A sanitizer reports, then exits without a signal: signal 0. */
static void
on_sanitizer_death(void)
{
	rerun(0);
}
#else
static const int faults[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
static char altstack[65536];

static void
on_fault(int sig)
{
	rerun(sig);
}

static void
catch_faults(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_handler = on_fault,
	    .sa_flags = SA_ONSTACK | SA_RESETHAND };

	if (sigaltstack(&ss, NULL) != 0)
		return;		/* unguarded: the read itself is the same */
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (sigaction(faults[i], &sa, NULL) != 0)
			return;
}
#endif

void
cli_guard_reads(const char *dir)
{
	size_t n = 0;

	while (environ[n] != NULL)
		n++;
	if ((rerun_envp = calloc(n + 2, sizeof(*rerun_envp))) == NULL)
		return;		/* unguarded: the read itself is the same */
	memcpy(rerun_envp, environ, n * sizeof(*rerun_envp));
	rerun_envp[n] = fault_env;
	rerun_argv[0] = progname;
	rerun_argv[1] = (char *)dir;
#if defined(__SANITIZE_ADDRESS__)
	__sanitizer_set_death_callback(on_sanitizer_death);
#else
	catch_faults();
#endif
}

int
cli_fault_report(int argc, char **argv)
{
	const char *var = getenv(FAULT_VAR);
	int sig, rc;

	if (var == NULL)
		return -1;
	sig = atoi(var);
	if (unsetenv(FAULT_VAR) != 0 || argc != 2)
		return EX_SOFTWARE;
	if ((rc = pd_store_check(argv[1])) != 0) {
		cli_err("store %s: %s", argv[1], pd_strerror(rc));
		return 1;
	}
	cli_err("reading store %s: %s (the store checks sound)", argv[1],
	    sig != 0 ? strsignal(sig) : "a sanitizer's report");
	return EX_SOFTWARE;
}
