/* patchdigest-lda: where the message goes (stdout or a Maildir). */
#ifndef PATCHDIGEST_LDA_H
#define PATCHDIGEST_LDA_H

#include <stddef.h>

/* Buffered output to one file descriptor; the first failure sticks. */
struct sink {
	int fd;
	int err;		/* errno of the first failure, 0 if none */
	size_t n;
	char buf[65536];
};

void sink_init(struct sink *s, int fd);
/* For pd_tags_rewrite: 0 or -1. */
int sink_write(const void *buf, size_t n, void *arg);
int sink_flush(struct sink *s);		/* 0 or -1 (errno in s->err) */

/* One delivery into a Maildir: tmp/ file, then fsync and rename to new/. */
struct maildir {
	int fd;			/* -1 when not open */
	char *dir;
	char *tmp, *new;	/* full paths */
};

/* Create tmp/ new/ cur/ (and the Maildir itself) when create is set. */
int maildir_open(struct maildir *md, const char *dir, int create);
/* fsync, close, rename into new/, fsync new/; unlinks tmp on failure. */
int maildir_commit(struct maildir *md);
/* Close and unlink the temporary file; fine after commit and on NULL fd. */
void maildir_abort(struct maildir *md);

/*
 * The store step runs in this process under a guard (guard.c): a crash,
 * a sanitizer's report or GUARD_TIMEOUT seconds re-run the program on the
 * message as read, with the fault in the environment.
 */
#define GUARD_TIMEOUT	120	/* seconds */
/*
 * Keep the message, catch faults: 0 and *copy, a read-only copy of buf to
 * use from then on, or -1 (the step must not run).
 */
int guard_begin(const char *buf, size_t len, char **argv, const char **copy);
/* Where the step is, for the log of the re-run. */
void guard_phase(int phase);
/* Faults are faults again; the copy stays until guard_release. */
void guard_end(void);
void guard_release(void);
/* In a re-run: 1, the signal (0: a sanitizer) and the phase of the fault. */
int guard_fault(int *sig, int *phase);

#endif
