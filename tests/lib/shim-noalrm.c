/*
 * LD_PRELOAD shim for tests/integration/53-lda-failures.sh: sigaction()
 * refuses a handler for SIGALRM, the last signal the LDA's guard takes,
 * so that the guard fails after taking the others.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>

typedef int sigaction_fn(int, const struct sigaction *, struct sigaction *);

int
sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	sigaction_fn *next;

	if (sig == SIGALRM && act != NULL && act->sa_handler != SIG_DFL &&
	    act->sa_handler != SIG_IGN) {
		errno = EINVAL;
		return -1;
	}
	next = (sigaction_fn *)dlsym(RTLD_NEXT, "sigaction");
	return next(sig, act, old);
}
