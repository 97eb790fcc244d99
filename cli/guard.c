/*
 * The quick reads (show, ranges, digest) do not check every page of the
 * store first: on a large store that costs more than the read itself.
 * LMDB trusts its pages, so a damaged one can crash it.  A fault while
 * these commands run therefore re-runs the program (a fork per read cost
 * a third of a quick read on a virtual machine) to check the store and say
 * it is corrupt, as the other commands do, instead of leaving the user a
 * segfault.  The handler only does what is async-signal-safe.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
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

/* argv[0] of the re-run; argv[1] the signal, argv[2] the store */
#define RERUN_NAME	"patchdigest-fault"

extern char **environ;

static char rerun_name[] = RERUN_NAME;
static char rerun_sig[] = "00";
static char rerun_dir[PATH_MAX];
static char *rerun_argv[] = { rerun_name, rerun_sig, rerun_dir, NULL };
static sigset_t caller_mask;

static void __attribute__((noreturn))
rerun(int sig)
{
	static const char msg[] =
	    "patchdigest: reading the store faulted: `patchdigest stats` checks it\n";

	/* The mask survives execve: the caller's, without the fault. */
	sigprocmask(SIG_SETMASK, &caller_mask, NULL);
	rerun_sig[0] = (char)('0' + sig / 10 % 10);
	rerun_sig[1] = (char)('0' + sig % 10);
	execve("/proc/self/exe", rerun_argv, environ);
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
catch_faults(void (*handler)(int))
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_handler = handler,
	    .sa_flags = SA_ONSTACK | SA_RESETHAND };

	if (handler != SIG_DFL && sigaltstack(&ss, NULL) != 0)
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
	int n = snprintf(rerun_dir, sizeof(rerun_dir), "%s", dir);

	if (n < 0 || (size_t)n >= sizeof(rerun_dir) ||
	    sigprocmask(SIG_BLOCK, NULL, &caller_mask) != 0)
		return;		/* unguarded: the read itself is the same */
#if defined(__SANITIZE_ADDRESS__)
	__sanitizer_set_death_callback(on_sanitizer_death);
#else
	catch_faults(on_fault);
#endif
}

void
cli_guard_end(void)
{
#if defined(__SANITIZE_ADDRESS__)
	/* a leak found at exit is not the store's */
	__sanitizer_set_death_callback(NULL);
#else
	catch_faults(SIG_DFL);
#endif
}

int
cli_fault_report(int argc, char **argv)
{
	const char *dir;
	pd_store *st;
	int sig, rc;

	if (argc != 3 || strcmp(argv[0], RERUN_NAME) != 0)
		return -1;
	sig = atoi(argv[1]);
	dir = argv[2];
	/* the check takes a store it cannot open for sound: open it too */
	if ((rc = pd_store_check(dir)) != 0 ||
	    (rc = pd_store_open(dir, PD_STORE_RDONLY, 0, 0, &st)) != 0) {
		cli_err("reading store %s faulted: %s", dir, pd_strerror(rc));
		return 1;
	}
	pd_store_close(st);
	cli_err("reading store %s: %s (the store checks sound)", dir,
	    sig != 0 ? strsignal(sig) : "a sanitizer's report");
	return EX_SOFTWARE;
}
