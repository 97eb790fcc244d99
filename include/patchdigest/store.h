/*
 * The LMDB store (SPEC.md section 3): messages, arrival order, series,
 * ranges, rolling counters, digests.  The schema is documented at the top of
 * lib/store.c.
 *
 * Strings in the structs handed to callbacks point into the store's memory
 * map and are valid only during the callback.  Structs filled by *_get
 * functions own their strings: release them with the matching *_clear.
 *
 * Threads: one pd_store may be shared by several threads (the milter's).
 * Every call may run concurrently with any other, except pd_store_close
 * (no other call may be running or follow).  Writers wait for each other
 * (LMDB has one writer per environment, across processes); readers never
 * wait for writers.  A batch (pd_store_begin .. commit/abort) belongs to
 * the thread that began it: that thread's puts and reads go through it;
 * other threads' puts wait until it ends, so keep batches short when the
 * store is shared.  Callbacks must not write to the store they are called
 * from: inside pd_store_close_range's render that fails with PD_EINVAL,
 * inside a read's callback it could wait for itself when the map grows.
 */
#ifndef PATCHDIGEST_STORE_H
#define PATCHDIGEST_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "patchdigest/msg.h"
#include "patchdigest/classify.h"

typedef struct pd_store pd_store;

#define PD_STORE_RDONLY	0x01	/* open read-only */
#define PD_STORE_CREATE	0x02	/* create the directory if missing */
#define PD_STORE_NOSYNC	0x04	/* no fsync per commit (import batches sync at the end) */
#define PD_STORE_CHECK	0x08	/* first read every page (pd_store_check) */

int pd_store_open(const char *dir, unsigned flags, size_t map_size, size_t map_max,
    pd_store **out);
void pd_store_close(pd_store *st);	/* NULL is fine */
/*
 * 1 when dir is a directory no store was created in yet (the LDA and the
 * milter create it with the first message), else 0.
 */
int pd_store_unstarted(const char *dir);

/*
 * Read every page of the store at dir as a reader would (every key and
 * value of every database, LMDB's free list included, and a lookup of
 * each of our keys, which reads the branch pages' keys) in a child process.
 * LMDB checks its meta pages but no other: a damaged one makes whoever
 * reads it fault, abort on an assertion or copy a bogus length over its
 * heap, which a daemon holding the store must not learn on a message.
 * Costs a read of the whole map (about 20 ms for 10,000 messages).
 * Returns 0 (readable, or not openable at all: pd_store_open says why),
 * PD_ECORRUPT, or PD_ESTORE when no child could be started.
 */
int pd_store_check(const char *dir);

/*
 * Batching (import): between begin and commit every put shares one write
 * transaction.  Without begin, each put is its own durable transaction.
 */
int pd_store_begin(pd_store *st);
int pd_store_commit(pd_store *st);
void pd_store_abort(pd_store *st);

struct pd_put_result {
	int duplicate;		/* Message-ID already stored: nothing counted */
	uint64_t seq;		/* arrival number (of the first copy if duplicate) */
	char short_id[10];
	char series[256];	/* series id (a Message-ID), "" for non-patches */
	int version, cx, cn;
};

/* Ingest one parsed message: record, sequence, series, counters; one txn. */
int pd_store_put(pd_store *st, const pd_msg *m, const struct pd_class *cls,
    struct pd_put_result *res);
/*
 * The series id pd_store_put would give from the threading headers alone,
 * for a message that is not recorded (dry runs, a store that failed).
 */
void pd_series_guess(const pd_msg *m, char *out, size_t outlen);

/* One stored message. */
struct pd_rec {
	uint64_t seq;
	int64_t date;		/* Date: header, epoch seconds, 0 unknown */
	int64_t arrived;	/* when stored */
	int kind;		/* enum pd_kind */
	int version, cx, cn;	/* cx/cn = -1 when no counter */
	unsigned flags;
	unsigned reviewed, acked, tested;	/* trailers from replies to it */
	const char *msgid, *short_id, *subject, *title, *author, *from, *domain;
	const char *series, *subsystem, *project, *excerpt, *in_reply_to;
	const char *tags;	/* tree tags joined by ' ' */
	const char *list_ids;	/* every List-Id seen, joined by ' ' */
};

/* Look a message up by Message-ID (with or without <>) or short id. */
int pd_store_get_msg(pd_store *st, const char *id,
    int (*fn)(const struct pd_rec *r, void *arg), void *arg);

struct pd_range {
	uint64_t no;		/* 1, 2, ... */
	char from[10], to[10];	/* short ids; from = "000000000" for the first */
	uint64_t first_seq, last_seq;	/* last_seq < first_seq when empty */
	int64_t opened, closed;	/* closed = 0 when open */
	int open;
	uint64_t messages, patch_messages;
};

/* id: NULL or "" = the open range, a number, or the "to" short id. */
int pd_store_range(pd_store *st, const char *id, struct pd_range *out);
int pd_store_foreach_range(pd_store *st,
    int (*fn)(const struct pd_range *r, void *arg), void *arg);
/* Messages of a range in arrival order (all kinds). */
int pd_store_foreach_msg(pd_store *st, const struct pd_range *r,
    int (*fn)(const struct pd_rec *rec, void *arg), void *arg);

enum pd_counter {
	PD_COUNT_AUTHOR = 0, PD_COUNT_DOMAIN, PD_COUNT_SUBSYSTEM, PD_COUNT_PROJECT,
	PD_COUNT_SERIES, PD_COUNT_MAX
};
const char *pd_counter_name(enum pd_counter c);	/* "authors", "domains", ... */
/* Every (name, count) of one counter of a range, in name byte order. */
int pd_store_foreach_count(pd_store *st, const struct pd_range *r, enum pd_counter c,
    int (*fn)(const char *name, uint64_t count, void *arg), void *arg);

struct pd_series_sub {		/* a subsystem of a series' patch messages */
	char *name;
	unsigned n;		/* messages */
	unsigned patches;	/* of n, those not cover letters */
	int part;		/* the lowest part number, INT_MAX for none */
};

struct pd_series {
	char *id;		/* Message-ID of the cover letter or patch 1 */
	char *subject;		/* cover letter's, else first patch seen */
	char *title;
	char *author;		/* display string */
	char *subsystem, *project;
	int version, total;	/* total = N (0 for a single patch) */
	unsigned received;	/* distinct parts 1..N received (cover not included) */
	int has_cover;
	unsigned reviewed, acked, tested;	/* replies' trailers */
	char *supersedes;	/* series id of an earlier version, or NULL */
	int supersedes_version;	/* below version, or 0 */
	uint64_t first_seq;	/* arrival of its first message */
	struct pd_series_sub *subs;	/* as classified when posted; */
	size_t nsubs;		/* none in records older than that */
};
int pd_store_series_get(pd_store *st, const char *id, struct pd_series *out);
void pd_series_clear(struct pd_series *s);

/* Digests: closing a range is one transaction with storing its digest. */
struct pd_digest_rec {
	uint64_t range_no;
	char from[10], to[10];
	char *text, *html;	/* as rendered at closing time */
	char *msgid;		/* Message-ID of the digest mail */
	int64_t created;
	int64_t sent_at;	/* 0: not sent yet; < 0: given up at -sent_at */
};
void pd_digest_rec_clear(struct pd_digest_rec *d);

/*
 * In one write transaction: check the open range holds a patch message
 * (unless force), call render(st, range, &text, &html, arg) -- the store's read
 * functions see the transaction during the call --, store the digest with
 * a new Message-ID at domain (DigestFrom's; NULL or "": the host's name if
 * it has a dot, else patchdigest.invalid), close the range and open the
 * next.  Returns PD_EEMPTY when there was nothing to close.  *closed is
 * filled on success.
 */
typedef int (*pd_render_fn)(pd_store *st, const struct pd_range *r, char **text,
    char **html, void *arg);
int pd_store_close_range(pd_store *st, int force, const char *domain,
    pd_render_fn render, void *arg, struct pd_range *closed);
/* Oldest unsent digest; PD_ENOTFOUND when none. */
int pd_store_unsent_digest(pd_store *st, struct pd_digest_rec *out);
int pd_store_digest_get(pd_store *st, uint64_t range_no, struct pd_digest_rec *out);
/*
 * The stored text (html = 0) or HTML of a range's digest, handed to fn where
 * it lies in the store, inside a read transaction: a digest can be
 * megabytes, and copying it out costs more than printing it.  Returns fn's
 * result, or PD_ENOTFOUND when the range has no digest (or no HTML).
 */
typedef int (*pd_digest_view_fn)(const char *p, size_t len, void *arg);
int pd_store_digest_view(pd_store *st, uint64_t range_no, int html,
    pd_digest_view_fn fn, void *arg);
int pd_store_mark_sent(pd_store *st, uint64_t range_no, const char *msgid);
/*
 * Give up an unsent digest (send --skip), so that the ones after it can go;
 * PD_ENOTFOUND when range_no has no unsent digest.
 */
int pd_store_skip_digest(pd_store *st, uint64_t range_no);

/* Patch messages stored since the open range began (for "every N"). */
int pd_store_open_count(pd_store *st, uint64_t *patch_messages);

#endif
