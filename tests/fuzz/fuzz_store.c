/*
 * Fuzz target: the store's series assembly and trailer credit, the code
 * that arbitrary threading headers, orders and trailers reach.  The input
 * is an mbox; its messages go, in order, into a fresh store, then all of
 * them once more.  Invariants: no count wraps below zero; a series counts
 * at least its stored patches' trailers (its cover's come on top); storing
 * a message again changes no count.
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "patchdigest/classify.h"
#include "patchdigest/error.h"
#include "patchdigest/mbox.h"
#include "patchdigest/msg.h"
#include "patchdigest/store.h"
#include "fuzz.h"

#define FUZZ_STORE_MSGS	64	/* messages of one input stored */
#define FUZZ_COUNT_MAX	100000	/* above: a count that went below zero */

struct fz {
	pd_store *st;
	size_t n;
	unsigned long long sum;		/* of every count, as a fingerprint */
	const char *series;		/* the series whose patches are summed */
	unsigned part[3];
};

static int
put_one(const char *buf, size_t len, void *arg)
{
	struct fz *z = arg;
	struct pd_put_result res;
	struct pd_class cls;
	pd_msg *m;

	if (z->n++ >= FUZZ_STORE_MSGS)
		return 1;
	if (pd_msg_parse(buf, len, NULL, &m) != 0)
		return 0;
	pd_classify(NULL, m, &cls);
	/* A full map or an over-long key is a clean error, not a crash. */
	(void)pd_store_put(z->st, m, &cls, &res);
	pd_msg_free(m);
	return 0;
}

static int
sum_part(const struct pd_rec *r, void *arg)
{
	struct fz *z = arg;

	if (r->kind == PD_KIND_PATCH && strcmp(r->series, z->series) == 0) {
		z->part[0] += r->reviewed;
		z->part[1] += r->acked;
		z->part[2] += r->tested;
	}
	return 0;
}

static int
check_rec(const struct pd_rec *r, void *arg)
{
	struct fz *z = arg, parts = *z;
	struct pd_range rg;
	struct pd_series s;

	PD_FUZZ_CHECK(r->reviewed < FUZZ_COUNT_MAX && r->acked < FUZZ_COUNT_MAX &&
	    r->tested < FUZZ_COUNT_MAX);
	z->sum += r->reviewed + r->acked + r->tested;
	if (*r->series == '\0' || pd_store_series_get(z->st, r->series, &s) != 0)
		return 0;
	PD_FUZZ_CHECK(s.reviewed < FUZZ_COUNT_MAX && s.acked < FUZZ_COUNT_MAX &&
	    s.tested < FUZZ_COUNT_MAX);
	z->sum += s.reviewed + s.acked + s.tested;
	parts.series = r->series;
	memset(parts.part, 0, sizeof(parts.part));
	if (pd_store_range(z->st, NULL, &rg) == 0 &&
	    pd_store_foreach_msg(z->st, &rg, sum_part, &parts) == 0)
		PD_FUZZ_CHECK(s.reviewed >= parts.part[0] && s.acked >= parts.part[1] &&
		    s.tested >= parts.part[2]);
	pd_series_clear(&s);
	return 0;
}

/* The sum of every message's and its series' counts (0 if unreadable). */
static unsigned long long
check_counts(struct fz *z)
{
	struct pd_range rg;

	z->sum = 0;
	if (pd_store_range(z->st, NULL, &rg) == 0)
		(void)pd_store_foreach_msg(z->st, &rg, check_rec, z);
	return z->sum;
}

int
pd_fuzz_store(const uint8_t *data, size_t size)
{
	static int init;
	char dir[PATH_MAX], path[PATH_MAX + 16];
	const char *tmp = getenv("TMPDIR");
	struct fz z = { 0 };
	unsigned long long first;

	if (!init) {
		pd_msg_init();
		init = 1;
	}
	if (snprintf(dir, sizeof(dir), "%s/pd-fuzz-store.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp") >= (int)sizeof(dir) ||
	    mkdtemp(dir) == NULL)
		return 0;
	if (pd_store_open(dir, PD_STORE_CREATE | PD_STORE_NOSYNC, 1 << 20, 64 << 20,
	    &z.st) == 0) {
		(void)pd_mbox_split((const char *)data, size, put_one, &z);
		first = check_counts(&z);
		z.n = 0;
		(void)pd_mbox_split((const char *)data, size, put_one, &z);
		PD_FUZZ_CHECK(check_counts(&z) == first);
		pd_store_close(z.st);
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

PD_FUZZ_ENTRY(pd_fuzz_store)
