/*
 * The LMDB store (SPEC.md section 3).
 *
 * Schema (version 2).  One environment, named databases:
 *
 *   meta      "version" -> u32 schema version (STORE_VERSION; a writer
 *             makes a version 1 store, one without credits, version 2)
 *             "next_seq" -> u64 next arrival number (first message is 1)
 *             "open_range" -> u64 number of the one open range
 *   messages  Message-ID + NUL -> message record (REC_*)
 *   seq       u64 big-endian arrival number -> Message-ID + NUL
 *   shortids  9-char short id -> Message-ID + NUL (DUPSORT: collisions)
 *   series    series id + NUL -> series record (SER_*)
 *   pending   Message-ID + NUL of an ancestor not seen yet or seen as a
 *             non-part (never a series' member) -> version, N, series
 *             id that its children of that version and N already use, so
 *             the id stays stable whatever arrives first; only ancestors
 *             up to the guessed root are entered (series.c,
 *             series_by_thread: a series posted inside another's thread
 *             must not capture it)
 *   loose     lower(sender address) NUL version NUL N NUL tags -> i64 date +
 *             series id: series assembly without threading (20 minutes)
 *   versions  "i" author-email NUL title, both in lower case ("t" and the
 *             title as it was, in stores written before: read, not
 *             written), or "c" change-id -> u64 version +
 *             series id: the latest version seen, for supersedes links
 *   ranges    u64 big-endian range number -> range record
 *   counters  u64 BE range number, u8 enum pd_counter, name -> u64 count
 *   digests   u64 BE range number -> digest record
 *   waiting   'r' reply's Message-ID NUL -> its credit (credit.c, struct
 *             credit) and the ancestors it waits for; 'a' ancestor NUL
 *             reply NUL -> empty: replies with trailers whose part has not
 *             arrived yet
 *   credits   part's Message-ID NUL kind letter person NUL -> u64 BE
 *             number of replies giving that trailer to the part, as the
 *             counters keep counts (credit.c, credit_person)
 *
 * Keys that are strings carry their NUL so that pointers into the map are C
 * strings.  Records (record.c) are a format byte followed by fields: integers
 * as LEB128 varints (signed ones zig-zag), strings as varint length + bytes +
 * NUL (wire.h).  Message records keep the commit message excerpt only for
 * the messages the digest shows (cover letters, patch 1/N, patches without
 * counter), capped at STORE_EXCERPT_MAX (cut_excerpt); the "from" field is
 * empty when equal to the author.
 * A series record keeps a bitmap of the parts 1..N seen and, after it, the
 * subsystems of its patch messages (absent in records written before:
 * readers take none, older readers ignore them).  Series assembly
 * (pending, loose, versions) is in series.c, trailer counts (waiting,
 * credits) in credit.c.
 *
 * Pointers into the map: inside a write txn a value from mdb_get or a
 * cursor is valid only until the txn's next put or del (pages are changed
 * in place, split, or spilled and freed), so every record decoded on the
 * write paths is decoded from a private copy (store_int.h, get_copy) or
 * read before the first write.  Read-only calls hand out map pointers for a
 * callback only.
 *
 * Concurrency: LMDB serialises writers across processes and threads (one
 * pd_store may be shared by threads: MDB_NOTLS).  Within a process a rwlock
 * guards map resizing (mdb_env_set_mapsize needs no live txn in the
 * process): every top-level txn holds it shared, resizing holds it
 * exclusive.  The store's mutable state (the batch, the write txn that
 * its thread's reads go through, and which thread that is) is guarded by a
 * mutex and withdrawn before the txn ends, i.e. before LMDB's writer lock
 * passes to another thread.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "patchdigest/error.h"
#include "patchdigest/store.h"
#include "store_int.h"

#define STORE_VERSION	2	/* 1: waiting records count, credits missing */
#define STORE_EXCERPT_MAX	(16 * 1024)
#define BATCH_OP_EST	(STORE_EXCERPT_MAX + 16 * 1024)	/* map bytes one put may dirty */
#define BATCH_TXN_PAGES	(4 * (DB_MAX + 2))	/* a fresh txn copies each tree's path */
#define DEFAULT_MAP	((size_t)64 << 20)
#define DEFAULT_MAP_MAX	((size_t)64 << 30)

static const char *const db_names[DB_MAX] = {
	"meta", "messages", "seq", "shortids", "series", "pending", "loose",
	"versions", "ranges", "counters", "digests", "waiting", "credits"
};

/* ---- errors ---- */

static int
pd_rc(int rc)
{
	if (rc == 0 || (rc < 0 && rc >= PD_EEMPTY))
		return rc;
	switch (rc) {
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
		return PD_EFULL;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_VERSION_MISMATCH:
	case MDB_PAGE_NOTFOUND:
	case MDB_PANIC:
		return PD_ECORRUPT;
	case MDB_NOTFOUND:
		return PD_ENOTFOUND;
	case MDB_KEYEXIST:
		return PD_EEXIST;
	case MDB_READERS_FULL:
	case EAGAIN:
	case EBUSY:
		return PD_EBUSY;
	case ENOENT:
		return PD_ENOSTORE;
	case EACCES:
	case EROFS:
	case EPERM:
		return PD_EROFS;
	case ENOMEM:
		return PD_ENOMEM;
	case EIO:
		return PD_EIO;
	default:
		return PD_ESTORE;
	}
}

/* ---- meta, ranges, counters ---- */

static int
meta_get_u64(pd_store *st, MDB_txn *t, const char *name, uint64_t *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc;

	if ((rc = mdb_get(t, st->db[DB_META], &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return PD_ECORRUPT;
	*out = get_be64(v.mv_data);
	return 0;
}

static int
meta_put_u64(pd_store *st, MDB_txn *t, const char *name, uint64_t val)
{
	unsigned char buf[8];
	MDB_val k = { strlen(name), (void *)name }, v = { 8, buf };

	be64(buf, val);
	return mdb_put(t, st->db[DB_META], &k, &v, 0);
}

static int
range_load(pd_store *st, MDB_txn *t, uint64_t no, struct pd_range *r)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	be64(kb, no);
	if ((rc = mdb_get(t, st->db[DB_RANGES], &k, &v)) != 0)
		return rc;
	return pd_record_range_decode(&k, &v, r);
}

static int
range_save(pd_store *st, MDB_txn *t, const struct pd_range *r)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb };
	struct wbuf b = { 0 };
	int rc;

	be64(kb, r->no);
	if ((rc = pd_record_range_encode(r, &b)) == 0)
		rc = put_buf(t, st->db[DB_RANGES], &k, &b, 0);
	free(b.p);
	return rc;
}

static int
open_range(pd_store *st, MDB_txn *t, struct pd_range *r)
{
	uint64_t no;
	int rc;

	if ((rc = meta_get_u64(st, t, "open_range", &no)) != 0)
		return rc == MDB_NOTFOUND ? PD_ECORRUPT : rc;
	/* written in one txn with the meta: a range it names is always there */
	rc = range_load(st, t, no, r);
	return rc == MDB_NOTFOUND ? PD_ECORRUPT : rc;
}

static int
counter_add(pd_store *st, MDB_txn *t, uint64_t range, enum pd_counter c,
    const char *name)
{
	size_t n = strlen(name);
	unsigned char *kb;
	MDB_val k, v;
	uint64_t count = 0;
	unsigned char cb[8];
	int rc;

	if (n == 0)
		return 0;
	if (n > 400) {	/* LMDB key limit is 511; cut at a character */
		n = 400;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	if ((kb = malloc(9 + n)) == NULL)
		return PD_ENOMEM;
	be64(kb, range);
	kb[8] = (unsigned char)c;
	memcpy(kb + 9, name, n);
	k.mv_size = 9 + n;
	k.mv_data = kb;
	rc = mdb_get(t, st->db[DB_COUNTS], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		count = get_be64(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	be64(cb, count + 1);
	v.mv_size = 8;
	v.mv_data = cb;
	rc = mdb_put(t, st->db[DB_COUNTS], &k, &v, 0);
out:
	free(kb);
	return rc;
}

/* ---- transactions ---- */

/* The calling thread's write txn (the batch or a child of it), or NULL. */
static MDB_txn *
my_wtxn(pd_store *st)
{
	MDB_txn *t = NULL;

	pthread_mutex_lock(&st->mu);
	if (st->wtxn != NULL && pthread_equal(st->owner, pthread_self()))
		t = st->wtxn;
	pthread_mutex_unlock(&st->mu);
	return t;
}

static MDB_txn *
my_batch(pd_store *st)
{
	MDB_txn *t = NULL;

	pthread_mutex_lock(&st->mu);
	if (st->batch != NULL && pthread_equal(st->owner, pthread_self()))
		t = st->batch;
	pthread_mutex_unlock(&st->mu);
	return t;
}

/*
 * Publish (or, with NULLs, withdraw) the calling thread's write txn.  It is
 * withdrawn before the txn ends: once LMDB's writer lock is released another
 * thread may publish its own.
 */
static void
set_wtxn(pd_store *st, MDB_txn *batch, MDB_txn *t)
{
	pthread_mutex_lock(&st->mu);
	st->batch = batch;
	st->wtxn = t;
	st->owner = pthread_self();
	pthread_mutex_unlock(&st->mu);
}

/* With the lock held: the map size and its room left. */
static void
map_room(pd_store *st, size_t *avail, size_t *size)
{
	MDB_envinfo info;
	MDB_stat ms;
	size_t used;

	*avail = *size = 0;
	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0)
		return;
	used = (info.me_last_pgno + 1) * ms.ms_psize;
	*avail = info.me_mapsize > used ? info.me_mapsize - used : 0;
	*size = info.me_mapsize;
}

static int
adopt_size(pd_store *st)
{
	int rc;

	pthread_rwlock_wrlock(&st->lock);
	rc = mdb_env_set_mapsize(st->env, 0);
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

/*
 * Double the map that was seen full.  Threads that hit the limit together
 * grow it once: a map already larger than seen is left alone.
 */
static int
grow(pd_store *st, size_t seen)
{
	MDB_envinfo info;
	size_t size;
	int rc;

	pthread_rwlock_wrlock(&st->lock);
	if ((rc = mdb_env_info(st->env, &info)) != 0 || info.me_mapsize > seen)
		goto out;
	if (info.me_mapsize >= st->map_max) {
		rc = PD_EFULL;
		goto out;
	}
	size = info.me_mapsize > st->map_max / 2 ? st->map_max : info.me_mapsize * 2;
	rc = mdb_env_set_mapsize(st->env, size);
out:
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

/* Begin a top-level txn, holding the lock shared; adopts a grown map. */
static int
txn_begin(pd_store *st, unsigned flags, MDB_txn **t)
{
	int rc;

	for (;;) {
		pthread_rwlock_rdlock(&st->lock);
		rc = mdb_txn_begin(st->env, NULL, flags, t);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&st->lock);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		if ((rc = adopt_size(st)) != 0)
			return rc;
	}
}

enum { END_ABORT, END_COMMIT, END_COMMIT_SYNC };

/*
 * LMDB reports a short write as EIO, and a full disk gives one: tell that
 * case apart, so that the error says what to do.
 */
static int
write_rc(pd_store *st, int rc)
{
	struct statvfs vfs;
	mdb_filehandle_t fd;

	if (rc == EIO && mdb_env_get_fd(st->env, &fd) == 0 &&
	    fstatvfs(fd, &vfs) == 0 && vfs.f_bavail == 0)
		return ENOSPC;
	return rc;
}

/*
 * End a top-level txn (END_COMMIT_SYNC: and sync a PD_STORE_NOSYNC store)
 * and release the lock; *seen is the map size it ran with, *avail the room
 * left after it.
 */
static int
txn_end(pd_store *st, MDB_txn *t, int how, size_t *seen, size_t *avail)
{
	size_t a, s;
	int rc = 0;

	if (how == END_ABORT)
		mdb_txn_abort(t);
	else
		rc = write_rc(st, mdb_txn_commit(t));
	if (rc == 0 && how == END_COMMIT_SYNC && (st->flags & PD_STORE_NOSYNC))
		rc = write_rc(st, mdb_env_sync(st->env, 1));
	map_room(st, &a, &s);
	pthread_rwlock_unlock(&st->lock);
	if (seen)
		*seen = s;
	if (avail)
		*avail = a;
	return rc;
}

/* A txn for reading: the caller's write txn when it runs one. */
static int
rd_begin(pd_store *st, MDB_txn **t)
{
	if ((*t = my_wtxn(st)) != NULL)
		return 0;
	return txn_begin(st, MDB_RDONLY, t);
}

static void
rd_end(pd_store *st, MDB_txn *t)
{
	if (t == my_wtxn(st))
		return;
	mdb_txn_abort(t);
	pthread_rwlock_unlock(&st->lock);
}

typedef int (*write_fn)(pd_store *st, MDB_txn *t, void *arg);

/*
 * Begin a batch txn with room in reserve: half of the room it begins with
 * is kept for its commit, and its estimate starts with what a fresh txn
 * may copy (every tree's path).  The commit of a batch must never lack
 * room: that would lose puts that already returned 0.  The room is
 * measured holding LMDB's writer lock, so no other thread can take it; a
 * map too small is grown (with no txn: the empty one is aborted) first.
 * At the map limit the batch begins with what there is.
 */
static int
batch_start(pd_store *st)
{
	MDB_txn *t;
	size_t avail, size;
	int rc, full = 0;

	for (;;) {
		if ((rc = txn_begin(st, 0, &t)) != 0)
			return rc;
		map_room(st, &avail, &size);
		if (full || (avail >= size / 4 &&
		    avail / 2 >= st->fresh_est + 2 * BATCH_OP_EST))
			break;
		(void)txn_end(st, t, END_ABORT, NULL, NULL);
		if ((rc = grow(st, size)) == PD_EFULL)
			full = 1;
		else if (rc != 0)
			return rc;
	}
	st->batch_avail = avail;
	st->batch_est = st->fresh_est;
	set_wtxn(st, t, t);
	return 0;
}

/* Commit the batch so far and start another one (grow_now: map full). */
static int
batch_cycle(pd_store *st, MDB_txn *batch, int grow_now)
{
	size_t seen;
	int rc;

	set_wtxn(st, NULL, NULL);
	if ((rc = txn_end(st, batch, END_COMMIT_SYNC, &seen, NULL)) != 0)
		return rc;
	if (grow_now && (rc = grow(st, seen)) != 0)
		return rc;
	return batch_start(st);
}

/* fn in a child of the caller's batch; a full map commits, grows, retries. */
static int
batch_op(pd_store *st, MDB_txn *batch, write_fn fn, void *arg)
{
	MDB_txn *t;
	int rc, cycled = 0;

	for (;;) {
		/* Once per put: at the map limit the reserve cannot be had. */
		if (!cycled && st->batch_est + BATCH_OP_EST > st->batch_avail / 2) {
			if ((rc = batch_cycle(st, batch, 0)) != 0)
				return pd_rc(rc);
			batch = my_batch(st);
			cycled = 1;
		}
		if ((rc = mdb_txn_begin(st->env, batch, 0, &t)) != 0)
			return pd_rc(rc);
		set_wtxn(st, batch, t);
		rc = fn(st, t, arg);
		set_wtxn(st, batch, batch);
		if (rc == 0)
			rc = mdb_txn_commit(t);
		else
			mdb_txn_abort(t);
		st->batch_est += BATCH_OP_EST;
		if (rc != MDB_MAP_FULL)
			return pd_rc(rc);
		if ((rc = batch_cycle(st, batch, 1)) != 0)
			return pd_rc(rc);
		batch = my_batch(st);
		cycled = 1;
	}
}

/*
 * Run fn in a write txn: a child of the caller's batch, else its own
 * durable txn.  A full map is grown and fn run again.  fn and what it calls
 * back must not write (LMDB has one writer: that would wait for itself).
 */
static int
write_op(pd_store *st, write_fn fn, void *arg)
{
	MDB_txn *t;
	size_t seen;
	int rc;

	if (st->flags & PD_STORE_RDONLY)
		return PD_EROFS;
	if ((t = my_batch(st)) != NULL)
		return batch_op(st, t, fn, arg);
	if (my_wtxn(st) != NULL)
		return PD_EINVAL;
	for (;;) {
		if ((rc = txn_begin(st, 0, &t)) != 0)
			return pd_rc(rc);
		set_wtxn(st, NULL, t);
		rc = fn(st, t, arg);
		set_wtxn(st, NULL, NULL);
		if (rc == 0)
			rc = txn_end(st, t, END_COMMIT, &seen, NULL);
		else
			(void)txn_end(st, t, END_ABORT, &seen, NULL);
		if (rc != MDB_MAP_FULL)
			return pd_rc(rc);
		if ((rc = grow(st, seen)) != 0)
			return pd_rc(rc);
	}
}

int
pd_store_begin(pd_store *st)
{
	if (st == NULL || (st->flags & PD_STORE_RDONLY) || my_wtxn(st) != NULL)
		return PD_EINVAL;
	return pd_rc(batch_start(st));
}

int
pd_store_commit(pd_store *st)
{
	MDB_txn *t;

	if (st == NULL || (t = my_batch(st)) == NULL)
		return PD_EINVAL;
	set_wtxn(st, NULL, NULL);
	return pd_rc(txn_end(st, t, END_COMMIT_SYNC, NULL, NULL));
}

void
pd_store_abort(pd_store *st)
{
	MDB_txn *t;

	if (st == NULL || (t = my_batch(st)) == NULL)
		return;
	set_wtxn(st, NULL, NULL);
	(void)txn_end(st, t, END_ABORT, NULL, NULL);
}

/* ---- open / close ---- */

static int
mkdirs(const char *dir)
{
	char *p, *s;
	int rc = 0;

	if ((s = strdup(dir)) == NULL)
		return ENOMEM;
	for (p = s + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(s, 0700) != 0 && errno != EEXIST) {
			rc = errno;
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(s);
	return rc;
}

static int
check_dir(const char *dir, unsigned flags)
{
	struct stat sb;
	char path[PATH_MAX];
	int n;

	if (stat(dir, &sb) != 0) {
		if (errno != ENOENT || !(flags & PD_STORE_CREATE) ||
		    (flags & PD_STORE_RDONLY))
			return errno;
		return mkdirs(dir);
	}
	if (!S_ISDIR(sb.st_mode))
		return ENOTDIR;
	if (flags & PD_STORE_CREATE)
		return 0;
	n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ENAMETOOLONG;
	return stat(path, &sb) == 0 ? 0 : errno;
}

int
pd_store_unstarted(const char *dir)
{
	struct stat sb;

	return dir != NULL && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    check_dir(dir, 0) == ENOENT;
}

/*
 * A data.mdb shorter than its last page (a copy cut short, a disk that
 * filled under a restore) would be a SIGBUS at the first read past its
 * end: LMDB maps the file and trusts it.
 */
static int
check_length(pd_store *st, const MDB_envinfo *info, unsigned psize)
{
	struct stat sb;
	mdb_filehandle_t fd;
	int rc;

	if ((rc = mdb_env_get_fd(st->env, &fd)) != 0)
		return rc;
	if (fstat(fd, &sb) != 0)
		return errno;
	if ((uint64_t)sb.st_size < ((uint64_t)info->me_last_pgno + 1) * psize)
		return MDB_CORRUPTED;
	return 0;
}

/* 1 if v is a schema version this program reads: 1 or STORE_VERSION. */
static int
known_version(const MDB_val *v)
{
	const unsigned char *b = v->mv_data;

	return v->mv_size == 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 &&
	    (b[3] == 1 || b[3] == STORE_VERSION);
}

static int
init_fn(pd_store *st, MDB_txn *t, void *arg)
{
	unsigned char vb[4] = { 0, 0, 0, STORE_VERSION };
	MDB_val k = { 7, "version" }, v;
	struct pd_range r;
	int rc, fresh;

	(void)arg;
	for (int i = 0; i < DB_MAX; i++) {
		unsigned f = MDB_CREATE | (i == DB_SHORT ? MDB_DUPSORT : 0);

		if ((rc = mdb_dbi_open(t, db_names[i], f, &st->db[i])) != 0)
			return rc;
	}
	rc = mdb_get(t, st->db[DB_META], &k, &v);
	if (rc == 0 && !known_version(&v))
		return PD_EVERSION;
	if (rc == 0 && memcmp(v.mv_data, vb, 4) == 0)
		return 0;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	fresh = rc == MDB_NOTFOUND;
	v.mv_size = 4;
	v.mv_data = vb;
	/* Marked as this version's: an older program no longer takes it. */
	if ((rc = mdb_put(t, st->db[DB_META], &k, &v, 0)) != 0 || !fresh)
		return rc;
	if ((rc = meta_put_u64(st, t, "next_seq", 1)) != 0 ||
	    (rc = meta_put_u64(st, t, "open_range", 1)) != 0)
		return rc;
	memset(&r, 0, sizeof(r));
	r.no = 1;
	r.open = 1;
	r.first_seq = 1;
	r.last_seq = 0;
	r.opened = time(NULL);
	strcpy(r.from, "000000000");
	strcpy(r.to, "000000000");
	return range_save(st, t, &r);
}

static int
init_rdonly(pd_store *st)
{
	MDB_txn *t;
	MDB_val k = { 7, "version" }, v;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &t)) != 0)
		return rc;
	for (int i = 0; i < DB_MAX && rc == 0; i++) {
		rc = mdb_dbi_open(t, db_names[i], i == DB_SHORT ? MDB_DUPSORT : 0, &st->db[i]);
		/* Only writers use it, and they add it to a store made before it. */
		if (rc == MDB_NOTFOUND && (i == DB_WAIT || i == DB_CREDITS)) {
			st->db[i] = 0;
			rc = 0;
		}
	}
	if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE)
		rc = PD_EVERSION;
	if (rc == 0 && (rc = mdb_get(t, st->db[DB_META], &k, &v)) == 0 &&
	    !known_version(&v))
		rc = PD_EVERSION;
	if (rc == MDB_NOTFOUND)
		rc = PD_EVERSION;
	if (rc == 0)
		rc = mdb_txn_commit(t);	/* keeps the dbi handles */
	else
		mdb_txn_abort(t);
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

/*
 * On a failed assertion (a damaged page) LMDB calls this, prints the
 * assertion and aborts.  Aborting here, as LMDB would, keeps the library
 * from printing; the front ends' guard reports the abort as a damaged
 * store.
 */
static void
lmdb_assert(MDB_env *env, const char *msg)
{
	(void)env;
	(void)msg;
	abort();
}

int
pd_store_open(const char *dir, unsigned flags, size_t map_size, size_t map_max,
    pd_store **out)
{
	pd_store *st;
	MDB_envinfo info;
	MDB_stat ms;
	size_t want;
	unsigned ef = MDB_NOTLS;
	int rc;

	*out = NULL;
	if (dir == NULL || *dir == '\0')
		return PD_EINVAL;
	if ((rc = check_dir(dir, flags)) != 0)
		return pd_rc(rc);
	if ((flags & PD_STORE_CHECK) && (rc = pd_store_check(dir)) != 0)
		return rc;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return PD_ENOMEM;
	st->flags = flags;
	/* The limit wins over the initial size: MapSizeMax 256K must fill. */
	st->map_max = map_max ? map_max : DEFAULT_MAP_MAX;
	map_size = map_size ? map_size : DEFAULT_MAP;
	if (map_size > st->map_max)
		map_size = st->map_max;
	pthread_rwlock_init(&st->lock, NULL);
	pthread_mutex_init(&st->mu, NULL);
	if ((rc = mdb_env_create(&st->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(st->env, DB_MAX)) != 0 ||
	    (rc = mdb_env_set_assert(st->env, lmdb_assert)) != 0)
		goto fail;
	if (flags & PD_STORE_RDONLY)
		ef |= MDB_RDONLY;
	if (flags & PD_STORE_NOSYNC)
		ef |= MDB_NOSYNC;
	/*
	 * Opened at the size it last had (LMDB's meta page keeps it, never
	 * below the data), then resized only if that is outside
	 * [map_size, map_max]: each resize is a remap.
	 */
	if ((rc = mdb_env_open(st->env, dir, ef, 0600)) != 0)
		goto fail;
	if ((rc = mdb_env_stat(st->env, &ms)) != 0 ||
	    (rc = mdb_env_info(st->env, &info)) != 0)
		goto fail;
	st->fresh_est = BATCH_TXN_PAGES * (size_t)ms.ms_psize;
	if ((rc = check_length(st, &info, ms.ms_psize)) != 0)
		goto fail;
	want = info.me_mapsize < map_size ? map_size : info.me_mapsize;
	if (want > st->map_max)
		want = st->map_max;
	if (want != info.me_mapsize &&
	    (rc = mdb_env_set_mapsize(st->env, want)) != 0)
		goto fail;
	if (flags & PD_STORE_RDONLY)
		rc = init_rdonly(st);
	else
		rc = write_op(st, init_fn, NULL);
	if (rc != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	pd_store_close(st);
	return pd_rc(rc);
}

void
pd_store_close(pd_store *st)
{
	if (st == NULL)
		return;
	pd_store_abort(st);
	if (st->env != NULL) {
		/* Only NOSYNC commits may be undurable: others synced already. */
		if ((st->flags & PD_STORE_NOSYNC) && !(st->flags & PD_STORE_RDONLY))
			mdb_env_sync(st->env, 1);
		mdb_env_close(st->env);
	}
	pthread_rwlock_destroy(&st->lock);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* ---- check: every page read, in a child ---- */

enum { CHECK_OK, CHECK_NOOPEN = 3, CHECK_BAD = 4 };
#define CHECK_SECONDS	120

/* Read a byte of every page v spans, so that each is mapped and looked at. */
static void
touch(const MDB_val *v)
{
	const volatile unsigned char *p = v->mv_data;

	for (size_t i = 0; i < v->mv_size; i += 4096)
		(void)p[i];
	if (v->mv_size > 0)
		(void)p[v->mv_size - 1];
}

/*
 * Read every key and value of one database.  A cursor walk follows the
 * branch pages' child pointers only, while a lookup compares their keys,
 * as every read of ours by key will: so with lookup set each key is also
 * looked up, and must find itself.
 */
static int
walk_db(MDB_txn *t, MDB_dbi dbi, int lookup)
{
	MDB_cursor *c, *look = NULL;
	MDB_val k, v, found;
	unsigned flags = 0;
	int rc;

	if (lookup && ((rc = mdb_dbi_flags(t, dbi, &flags)) != 0 ||
	    (rc = mdb_cursor_open(t, dbi, &look)) != 0))
		return rc;
	if ((rc = mdb_cursor_open(t, dbi, &c)) != 0) {
		if (look != NULL)
			mdb_cursor_close(look);
		return rc;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		touch(&k);
		touch(&v);
		found = v;
		if (look != NULL && ((rc = mdb_cursor_get(look, &k, &found,
		    (flags & MDB_DUPSORT) ? MDB_GET_BOTH : MDB_SET_KEY)) != 0 ||
		    found.mv_data != v.mv_data)) {
			rc = MDB_CORRUPTED;
			break;
		}
	}
	mdb_cursor_close(c);
	if (look != NULL)
		mdb_cursor_close(look);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The child's work: its exit status is the answer. */
static int
walk_store(const char *dir)
{
	pd_store *st;
	MDB_txn *t;
	int rc;

	if (pd_store_open(dir, PD_STORE_RDONLY, 0, 0, &st) != 0)
		return CHECK_NOOPEN;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &t)) != 0) {
		pd_store_close(st);
		return CHECK_NOOPEN;
	}
	/* 0 and 1 are LMDB's free list and its table of databases. */
	rc = walk_db(t, 0, 0);
	if (rc == 0)
		rc = walk_db(t, 1, 0);
	for (int i = 0; i < DB_MAX && rc == 0; i++)
		if (st->db[i] != 0)	/* 0: not in this store (init_rdonly) */
			rc = walk_db(t, st->db[i], 1);
	mdb_txn_abort(t);
	pd_store_close(st);
	return rc == 0 ? CHECK_OK : CHECK_BAD;
}

int
pd_store_check(const char *dir)
{
	pid_t pid;
	int status;

	if (dir == NULL || *dir == '\0')
		return PD_EINVAL;
	if ((pid = fork()) == -1)
		return PD_ESTORE;
	if (pid == 0) {
		/*
		 * A fault here is the finding (a damaged page): the child dies
		 * of it, unreported, whatever handler (a sanitizer's, the
		 * fault guard's) the process had.  A page that sends LMDB
		 * round in circles ends here too.
		 */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		alarm(CHECK_SECONDS);
		_exit(walk_store(dir));
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return PD_ESTORE;
	if (WIFEXITED(status) && (WEXITSTATUS(status) == CHECK_OK ||
	    WEXITSTATUS(status) == CHECK_NOOPEN))
		return 0;
	return PD_ECORRUPT;
}

/* ---- put ---- */

struct put_ctx {
	const pd_msg *m;
	const struct pd_class *cls;
	struct pd_put_result *res;
	char sid[512];
};

static void
copy_id(char *dst, size_t dstlen, const char *src)
{
	size_t n = strnlen(src, dstlen - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
list_has(const char *list, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = list; (p = strstr(p, id)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

static int
put_duplicate(pd_store *st, MDB_txn *t, MDB_val *k, struct put_ctx *c)
{
	struct pd_rec r;
	struct wbuf b = { 0 };
	char *ids = NULL;
	const char *lid = pd_msg_list_id(c->m);
	void *copy = NULL;
	MDB_val v;
	int rc;

	if ((rc = get_copy(t, st->db[DB_MSGS], k, &v, &copy)) != 0 ||
	    (rc = pd_record_msg_decode(k, &v, &r)) != 0)
		goto out;
	c->res->duplicate = 1;
	c->res->seq = r.seq;
	snprintf(c->res->short_id, sizeof(c->res->short_id), "%s", r.short_id);
	copy_id(c->res->series, sizeof(c->res->series), r.series);
	c->res->version = r.version;
	c->res->cx = r.cx;
	c->res->cn = r.cn;
	if (*lid == '\0' || list_has(r.list_ids, lid))
		goto out;
	if (asprintf(&ids, "%s%s%s", r.list_ids, *r.list_ids ? " " : "", lid) < 0) {
		ids = NULL;
		rc = PD_ENOMEM;
		goto out;
	}
	r.list_ids = ids;
	if ((rc = pd_record_msg_encode(&r, &b)) == 0)
		rc = put_buf(t, st->db[DB_MSGS], k, &b, 0);
out:
	free(b.p);
	free(ids);
	free(copy);
	return rc;
}

static char *
join_tags(const pd_msg *m)
{
	struct wbuf b = { 0 };

	for (size_t i = 0; i < pd_msg_ntags(m); i++) {
		if (i)
			w_raw(&b, " ", 1);
		w_raw(&b, pd_msg_tag(m, i), strlen(pd_msg_tag(m, i)));
	}
	w_raw(&b, "", 1);
	return b.err ? NULL : (char *)b.p;
}

/*
 * The excerpt a shown message keeps: one over STORE_EXCERPT_MAX is cut
 * after a whole line (within 1 KiB of the limit) and ends in a line
 * "[...]", so that a subscriber sees the text goes on.
 */
static char *
cut_excerpt(const pd_msg *m, int shown)
{
	static const char more[] = "\n[...]";
	const char *e = pd_msg_excerpt(m), *nl;
	size_t n = shown ? strlen(e) : 0;
	char *out;

	if (n <= STORE_EXCERPT_MAX)
		return strndup(e, n);
	n = STORE_EXCERPT_MAX - (sizeof(more) - 1);
	/* a line's end near the limit, else a character's (one long line) */
	if ((nl = memrchr(e, '\n', n)) != NULL && n - (size_t)(nl - e) < 1024)
		n = (size_t)(nl - e);
	else
		while (n > 0 && (e[n] & 0xc0) == 0x80)	/* UTF-8 boundary */
			n--;
	while (n > 0 && (e[n - 1] == '\n' || e[n - 1] == ' ' || e[n - 1] == '\t'))
		n--;
	if ((out = malloc(n + sizeof(more))) == NULL)
		return NULL;
	memcpy(out, e, n);
	memcpy(out + n, more, sizeof(more));
	return out;
}

static int
put_counters(pd_store *st, MDB_txn *t, uint64_t range, const pd_msg *m,
    const struct pd_class *cls, const char *sid)
{
	int rc;

	if ((rc = counter_add(st, t, range, PD_COUNT_AUTHOR, pd_msg_author(m))) ||
	    (rc = counter_add(st, t, range, PD_COUNT_DOMAIN, pd_msg_domain(m))) ||
	    (rc = counter_add(st, t, range, PD_COUNT_SERIES, sid)))
		return rc;
	if (cls == NULL)
		return 0;
	if ((rc = counter_add(st, t, range, PD_COUNT_SUBSYSTEM, cls->subsystem)))
		return rc;
	return counter_add(st, t, range, PD_COUNT_PROJECT, cls->project);
}

/* A new message's record, its strings borrowed from m. */
static void
rec_fill(struct pd_rec *r, const pd_msg *m, const struct pd_class *cls,
    uint64_t seq, const char *short_id)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->date = (int64_t)pd_msg_date(m);
	r->arrived = (int64_t)time(NULL);
	r->kind = pd_msg_kind(m);
	r->version = pd_msg_version(m);
	r->cx = pd_msg_counter(m, &r->cn);
	r->flags = pd_msg_flags(m);
	r->short_id = short_id;
	r->msgid = pd_msg_id(m);
	r->subject = pd_msg_subject(m);
	r->title = pd_msg_title(m);
	r->author = pd_msg_author(m);
	r->from = pd_msg_from(m);
	r->domain = pd_msg_domain(m);
	r->subsystem = cls ? cls->subsystem : "";
	r->project = cls ? cls->project : "";
	r->in_reply_to = pd_msg_in_reply_to(m);
	r->list_ids = pd_msg_list_id(m);
}

/* The arrival of the record r stored at key k: sequence, short id, range. */
static int
put_arrival(pd_store *st, MDB_txn *t, MDB_val *k, const struct pd_rec *r,
    struct pd_range *rg)
{
	unsigned char sb[8];
	MDB_val sk = { 8, sb };
	int rc;

	be64(sb, r->seq);
	if ((rc = mdb_put(t, st->db[DB_SEQ], &sk, k, 0)) != 0)
		return rc;
	sk.mv_size = 9;
	sk.mv_data = (void *)r->short_id;
	if ((rc = mdb_put(t, st->db[DB_SHORT], &sk, k, 0)) != 0)
		return rc;
	rg->messages++;
	rg->patch_messages += r->kind == PD_KIND_COVER || r->kind == PD_KIND_PATCH;
	rg->last_seq = r->seq;
	memcpy(rg->to, r->short_id, sizeof(rg->to));
	if ((rc = range_save(st, t, rg)) != 0)
		return rc;
	return meta_put_u64(st, t, "next_seq", r->seq + 1);
}

static int
put_fn(pd_store *st, MDB_txn *t, void *arg)
{
	struct put_ctx *c = arg;
	const pd_msg *m = c->m;
	struct pd_rec r;
	struct pd_range rg;
	struct wbuf b = { 0 };
	MDB_val k = sval(pd_msg_id(m)), v;
	char *tags = NULL, *excerpt = NULL;
	uint64_t seq;
	int patch = pd_msg_is_patch(m), rc;

	memset(c->res, 0, sizeof(*c->res));
	if (k.mv_size > 511)
		return PD_ETOOBIG;
	rc = mdb_get(t, st->db[DB_MSGS], &k, &v);
	if (rc == 0)
		return put_duplicate(st, t, &k, c);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = meta_get_u64(st, t, "next_seq", &seq)) != 0 ||
	    (rc = open_range(st, t, &rg)) != 0)
		return rc;
	pd_short_id(pd_msg_id(m), c->res->short_id);
	rec_fill(&r, m, c->cls, seq, c->res->short_id);
	c->sid[0] = '\0';
	if (patch) {
		if ((rc = pd_series_assign(st, t, m, c->sid,
		    sizeof(c->sid))) != 0 ||
		    (rc = pd_series_record(st, t, m, c->cls, c->sid, seq)) != 0)
			return rc;
	} else if ((rc = pd_credit_trailers(st, t, m)) != 0)
		return rc;
	r.series = c->sid;
	tags = join_tags(m);
	excerpt = cut_excerpt(m, patch && (r.kind == PD_KIND_COVER || r.cx <= 1));
	if (tags == NULL || excerpt == NULL) {
		rc = PD_ENOMEM;
		goto out;
	}
	r.tags = tags;
	r.excerpt = excerpt;
	if ((rc = pd_record_msg_encode(&r, &b)) != 0 ||
	    (rc = put_buf(t, st->db[DB_MSGS], &k, &b, MDB_NOOVERWRITE)) != 0 ||
	    (rc = put_arrival(st, t, &k, &r, &rg)) != 0 ||
	    (rc = pd_credit_settle(st, t, m)) != 0)
		goto out;
	if (patch && (rc = put_counters(st, t, rg.no, m, c->cls, c->sid)) != 0)
		goto out;
	c->res->seq = seq;
	copy_id(c->res->series, sizeof(c->res->series), c->sid);
	c->res->version = r.version;
	c->res->cx = r.cx;
	c->res->cn = r.cn;
out:
	free(tags);
	free(excerpt);
	free(b.p);
	return rc;
}

int
pd_store_put(pd_store *st, const pd_msg *m, const struct pd_class *cls,
    struct pd_put_result *res)
{
	struct put_ctx c = { m, cls, res, "" };
	struct pd_put_result dummy;

	if (st == NULL || m == NULL)
		return PD_EINVAL;
	c.res = res ? res : &dummy;
	return write_op(st, put_fn, &c);
}

/* ---- reading ---- */

static int
strip_id(const char *id, char *out, size_t outlen)
{
	size_t n;

	while (*id == ' ' || *id == '\t')
		id++;
	if (*id == '<')
		id++;
	n = strcspn(id, ">");
	if (n == 0)
		return PD_ENOTFOUND;
	/* stored under the id the parser derives from it */
	if (n > PD_ID_MAX)
		return pd_msg_fit_id(id, n, out, outlen);
	if (n >= outlen)
		return PD_ENOTFOUND;
	memcpy(out, id, n);
	out[n] = '\0';
	return 0;
}

static int
is_shortid(const char *s)
{
	return strlen(s) == 9 && strspn(s, "0123456789abcdef") == 9;
}

int
pd_store_get_msg(pd_store *st, const char *id,
    int (*fn)(const struct pd_rec *r, void *arg), void *arg)
{
	char key[512];
	MDB_txn *t;
	MDB_val k, v;
	struct pd_rec r;
	int rc;

	if (st == NULL || id == NULL || fn == NULL)
		return PD_EINVAL;
	if ((rc = strip_id(id, key, sizeof(key))) != 0)
		return rc;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	/* Read only: the record is handed out straight from the map. */
	k = sval(key);
	if ((rc = mdb_get(t, st->db[DB_MSGS], &k, &v)) == 0)
		rc = pd_record_msg_decode(&k, &v, &r);
	if (rc == MDB_NOTFOUND && is_shortid(key)) {
		MDB_val sk = { 9, key }, mid;

		if ((rc = mdb_get(t, st->db[DB_SHORT], &sk, &mid)) == 0) {
			k = mid;
			if ((rc = mdb_get(t, st->db[DB_MSGS], &k, &v)) == 0)
				rc = pd_record_msg_decode(&k, &v, &r);
		}
	}
	if (rc == 0)
		rc = fn(&r, arg);
	rd_end(st, t);
	return pd_rc(rc);
}

static int
range_by_id(pd_store *st, MDB_txn *t, const char *id, struct pd_range *out)
{
	MDB_cursor *cur;
	MDB_val k, v;
	char *end;
	unsigned long long no;
	int rc;

	if (id == NULL || *id == '\0')
		return open_range(st, t, out);
	if (is_shortid(id)) {
		if ((rc = mdb_cursor_open(t, st->db[DB_RANGES], &cur)) != 0)
			return rc;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if ((rc = pd_record_range_decode(&k, &v, out)) != 0)
				break;
			if (strcmp(out->to, id) == 0 && out->last_seq >= out->first_seq)
				break;
		}
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	errno = 0;
	no = strtoull(id, &end, 10);
	if (*end != '\0' || errno != 0 || no == 0)
		return MDB_NOTFOUND;
	return range_load(st, t, no, out);
}

int
pd_store_range(pd_store *st, const char *id, struct pd_range *out)
{
	MDB_txn *t;
	int rc;

	if (st == NULL || out == NULL)
		return PD_EINVAL;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	rc = range_by_id(st, t, id, out);
	rd_end(st, t);
	return pd_rc(rc);
}

int
pd_store_foreach_range(pd_store *st,
    int (*fn)(const struct pd_range *r, void *arg), void *arg)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	struct pd_range r;
	int rc;

	if (st == NULL || fn == NULL)
		return PD_EINVAL;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = mdb_cursor_open(t, st->db[DB_RANGES], &cur)) == 0) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
			if ((rc = pd_record_range_decode(&k, &v, &r)) != 0 ||
			    (rc = fn(&r, arg)) != 0)
				break;
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	rd_end(st, t);
	return pd_rc(rc);
}

int
pd_store_foreach_msg(pd_store *st, const struct pd_range *r,
    int (*fn)(const struct pd_rec *rec, void *arg), void *arg)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v, mk, mv;
	unsigned char kb[8];
	struct pd_rec rec;
	uint64_t want;
	int rc;

	if (st == NULL || r == NULL || fn == NULL)
		return PD_EINVAL;
	if (r->last_seq < r->first_seq)
		return 0;
	/* a damaged range record must not cut the digest short either */
	if (r->messages != r->last_seq - r->first_seq + 1)
		return PD_ECORRUPT;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = mdb_cursor_open(t, st->db[DB_SEQ], &cur)) == 0) {
		be64(kb, r->first_seq);
		k.mv_size = 8;
		k.mv_data = kb;
		/*
		 * Sequence numbers run without a gap, and each names a message
		 * stored in the same transaction: anything else is damage, and
		 * taking it for the end would cut the digest short.
		 */
		for (want = r->first_seq; want <= r->last_seq; want++) {
			rc = mdb_cursor_get(cur, &k, &v,
			    want == r->first_seq ? MDB_SET_RANGE : MDB_NEXT);
			if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size != 8 ||
			    get_be64(k.mv_data) != want)))
				rc = MDB_CORRUPTED;
			if (rc != 0)
				break;
			mk = v;
			if ((rc = mdb_get(t, st->db[DB_MSGS], &mk, &mv)) == MDB_NOTFOUND)
				rc = MDB_CORRUPTED;
			if (rc != 0 ||
			    (rc = pd_record_msg_decode(&mk, &mv, &rec)) != 0 ||
			    (rc = fn(&rec, arg)) != 0)
				break;
		}
		mdb_cursor_close(cur);
	}
	rd_end(st, t);
	return pd_rc(rc);
}

const char *
pd_counter_name(enum pd_counter c)
{
	static const char *const names[PD_COUNT_MAX] = {
		"authors", "domains", "subsystems", "projects", "series"
	};

	return (unsigned)c < PD_COUNT_MAX ? names[c] : "unknown";
}

int
pd_store_foreach_count(pd_store *st, const struct pd_range *r, enum pd_counter c,
    int (*fn)(const char *name, uint64_t count, void *arg), void *arg)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	unsigned char prefix[9];
	char name[512];
	int rc;

	if (st == NULL || r == NULL || fn == NULL || (unsigned)c >= PD_COUNT_MAX)
		return PD_EINVAL;
	be64(prefix, r->no);
	prefix[8] = (unsigned char)c;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = mdb_cursor_open(t, st->db[DB_COUNTS], &cur)) == 0) {
		k.mv_size = 9;
		k.mv_data = prefix;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size <= 9 || memcmp(k.mv_data, prefix, 9) != 0)
				break;
			if (v.mv_size != 8) {
				rc = PD_ECORRUPT;
				break;
			}
			snprintf(name, sizeof(name), "%.*s", (int)(k.mv_size - 9),
			    (const char *)k.mv_data + 9);
			if ((rc = fn(name, get_be64(v.mv_data), arg)) != 0)
				break;
		}
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	rd_end(st, t);
	return pd_rc(rc);
}

static int
dup_str(char **dst, const char *s)
{
	return (*dst = strdup(s ? s : "")) == NULL ? PD_ENOMEM : 0;
}

static int
copy_sub(const struct pd_series_sub *e, void *arg)
{
	struct pd_series *out = arg;
	struct pd_series_sub *p;

	if ((p = reallocarray(out->subs, out->nsubs + 1, sizeof(*p))) == NULL)
		return PD_ENOMEM;
	out->subs = p;
	p += out->nsubs;
	*p = *e;
	if ((p->name = strdup(e->name)) == NULL)
		return PD_ENOMEM;
	out->nsubs++;
	return 0;
}

int
pd_store_series_get(pd_store *st, const char *id, struct pd_series *out)
{
	char key[512];
	MDB_txn *t;
	MDB_val k, v;
	struct srec s;
	int rc;

	if (st == NULL || id == NULL || out == NULL)
		return PD_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = strip_id(id, key, sizeof(key))) != 0)
		return rc;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	k = sval(key);
	if ((rc = mdb_get(t, st->db[DB_SERIES], &k, &v)) == 0 &&
	    (rc = pd_record_series_decode(&k, &v, &s)) == 0) {
		out->version = s.version;
		out->total = s.total;
		out->received = pd_record_series_received(&s);
		out->has_cover = s.has_cover;
		out->reviewed = s.reviewed;
		out->acked = s.acked;
		out->tested = s.tested;
		out->first_seq = s.first_seq;
		if ((rc = dup_str(&out->id, s.id)) || (rc = dup_str(&out->subject, s.subject)) ||
		    (rc = dup_str(&out->title, s.title)) ||
		    (rc = dup_str(&out->author, s.author)) ||
		    (rc = dup_str(&out->subsystem, s.subsystem)) ||
		    (rc = dup_str(&out->project, s.project)))
			;
		else if ((rc = pd_record_subs_get(&s, copy_sub, out)) != 0)
			;
		else if (*s.supersedes && s.supersedes_version < (s.version > 0 ?
		    s.version : 1)) {
			/*
			 * The version is the cover's or the first part's; a
			 * part of a higher one that joined (a v2 patch under
			 * a v1 cover of one git run) may have linked a version
			 * no earlier than it.
			 */
			out->supersedes_version = s.supersedes_version;
			rc = dup_str(&out->supersedes, s.supersedes);
		}
	}
	rd_end(st, t);
	if (rc != 0)
		pd_series_clear(out);
	return pd_rc(rc);
}

void
pd_series_clear(struct pd_series *s)
{
	if (s == NULL)
		return;
	free(s->id);
	free(s->subject);
	free(s->title);
	free(s->author);
	free(s->subsystem);
	free(s->project);
	free(s->supersedes);
	for (size_t i = 0; i < s->nsubs; i++)
		free(s->subs[i].name);
	free(s->subs);
	memset(s, 0, sizeof(*s));
}

/* ---- ranges and digests ---- */

struct close_ctx {
	int force;
	const char *domain;
	pd_render_fn render;
	void *arg;
	struct pd_range closed;
};

static int
digest_msgid(uint64_t no, const char *domain, char **out)
{
	char host[256];
	uint32_t rnd[2] = { 0, 0 };

	if (domain != NULL && *domain != '\0')
		snprintf(host, sizeof(host), "%s", domain);
	else if (gethostname(host, sizeof(host)) != 0 || *host == '\0' ||
	    strchr(host, '.') == NULL)
		snprintf(host, sizeof(host), "%s", "patchdigest.invalid");
	host[sizeof(host) - 1] = '\0';
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	if (asprintf(out, "patchdigest-%llu-%lld.%08x%08x@%s", (unsigned long long)no,
	    (long long)time(NULL), rnd[0], rnd[1], host) < 0)
		return PD_ENOMEM;
	return 0;
}

static int
close_fn(pd_store *st, MDB_txn *t, void *arg)
{
	struct close_ctx *c = arg;
	struct pd_range r, next;
	struct pd_digest_rec d;
	struct wbuf b = { 0 };
	unsigned char kb[8];
	MDB_val k = { 8, kb };
	char *text = NULL, *html = NULL, *msgid = NULL;
	int rc;

	if ((rc = open_range(st, t, &r)) != 0)
		return rc;
	/* replies alone wait in the open range for the next patch */
	if (r.patch_messages == 0 && !c->force)
		return PD_EEMPTY;
	if (c->render != NULL &&
	    (rc = c->render(st, &r, &text, &html, c->arg)) != 0)
		goto out;
	if ((rc = digest_msgid(r.no, c->domain, &msgid)) != 0)
		goto out;
	r.closed = (int64_t)time(NULL);
	r.open = 0;
	memset(&d, 0, sizeof(d));
	d.range_no = r.no;
	memcpy(d.from, r.from, sizeof(d.from));
	memcpy(d.to, r.to, sizeof(d.to));
	d.text = text ? text : "";
	d.html = html;
	d.msgid = msgid;
	d.created = r.closed;
	be64(kb, r.no);
	if ((rc = pd_record_digest_encode(&d, &b)) != 0 ||
	    (rc = put_buf(t, st->db[DB_DIGESTS], &k, &b, 0)) != 0 ||
	    (rc = range_save(st, t, &r)) != 0)
		goto out;
	memset(&next, 0, sizeof(next));
	next.no = r.no + 1;
	next.open = 1;
	next.first_seq = r.last_seq + 1;
	next.last_seq = r.last_seq;
	next.opened = r.closed;
	memcpy(next.from, r.to, sizeof(next.from));
	memcpy(next.to, r.to, sizeof(next.to));
	if ((rc = range_save(st, t, &next)) != 0 ||
	    (rc = meta_put_u64(st, t, "open_range", next.no)) != 0)
		goto out;
	c->closed = r;
out:
	free(text);
	free(html);
	free(msgid);
	free(b.p);
	return rc;
}

int
pd_store_close_range(pd_store *st, int force, const char *domain,
    pd_render_fn render, void *arg, struct pd_range *closed)
{
	struct close_ctx c = { force, domain, render, arg, { 0 } };
	int rc;

	if (st == NULL)
		return PD_EINVAL;
	if ((rc = write_op(st, close_fn, &c)) == 0 && closed != NULL)
		*closed = c.closed;
	return rc;
}

static int
digest_lookup(pd_store *st, MDB_txn *t, uint64_t no, MDB_val *v)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb };

	be64(kb, no);
	return mdb_get(t, st->db[DB_DIGESTS], &k, v);
}

static int
digest_get(pd_store *st, MDB_txn *t, uint64_t no, struct pd_digest_rec *out)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	if ((rc = digest_lookup(st, t, no, &v)) != 0)
		return rc;
	be64(kb, no);
	return pd_record_digest_decode(&k, &v, out);
}

int
pd_store_digest_get(pd_store *st, uint64_t range_no, struct pd_digest_rec *out)
{
	MDB_txn *t;
	int rc;

	if (st == NULL || out == NULL)
		return PD_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	rc = digest_get(st, t, range_no, out);
	rd_end(st, t);
	return pd_rc(rc);
}

int
pd_store_digest_view(pd_store *st, uint64_t range_no, int html,
    pd_digest_view_fn fn, void *arg)
{
	struct dig_view dv;
	MDB_txn *t;
	MDB_val v;
	int rc;

	if (st == NULL || fn == NULL)
		return PD_EINVAL;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = digest_lookup(st, t, range_no, &v)) == 0 &&
	    (rc = pd_record_digest_parse(&v, &dv)) == 0) {
		if (!html)
			rc = fn(dv.text, dv.text_len, arg);
		else if (dv.html_len == 0)
			rc = PD_ENOTFOUND;
		else
			rc = fn(dv.html, dv.html_len, arg);
	}
	rd_end(st, t);
	return pd_rc(rc);
}

int
pd_store_unsent_digest(pd_store *st, struct pd_digest_rec *out)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (st == NULL || out == NULL)
		return PD_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = mdb_cursor_open(t, st->db[DB_DIGESTS], &cur)) == 0) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if ((rc = pd_record_digest_decode(&k, &v, out)) != 0)
				break;
			if (out->sent_at == 0)
				break;
			pd_digest_rec_clear(out);
		}
		mdb_cursor_close(cur);
	}
	rd_end(st, t);
	return pd_rc(rc);
}

struct sent_ctx {
	uint64_t no;
	const char *msgid;
	int skip;
};

static int
sent_fn(pd_store *st, MDB_txn *t, void *arg)
{
	struct sent_ctx *c = arg;
	struct pd_digest_rec d;
	struct wbuf b = { 0 };
	unsigned char kb[8];
	MDB_val k = { 8, kb };
	char *msgid = NULL;
	int rc;

	if ((rc = digest_get(st, t, c->no, &d)) != 0)
		return rc;
	if (c->skip && d.sent_at != 0) {
		rc = PD_ENOTFOUND;
		goto out;
	}
	d.sent_at = c->skip ? -(int64_t)time(NULL) : (int64_t)time(NULL);
	if (c->msgid != NULL && *c->msgid) {
		if ((msgid = strdup(c->msgid)) == NULL) {
			rc = PD_ENOMEM;
			goto out;
		}
		free(d.msgid);
		d.msgid = msgid;
	}
	be64(kb, c->no);
	if ((rc = pd_record_digest_encode(&d, &b)) == 0)
		rc = put_buf(t, st->db[DB_DIGESTS], &k, &b, 0);
out:
	pd_digest_rec_clear(&d);
	free(b.p);
	return rc;
}

int
pd_store_mark_sent(pd_store *st, uint64_t range_no, const char *msgid)
{
	struct sent_ctx c = { range_no, msgid, 0 };

	if (st == NULL)
		return PD_EINVAL;
	return write_op(st, sent_fn, &c);
}

int
pd_store_skip_digest(pd_store *st, uint64_t range_no)
{
	struct sent_ctx c = { range_no, NULL, 1 };

	if (st == NULL)
		return PD_EINVAL;
	return write_op(st, sent_fn, &c);
}

int
pd_store_open_count(pd_store *st, uint64_t *patch_messages)
{
	struct pd_range r;
	int rc;

	if (st == NULL || patch_messages == NULL)
		return PD_EINVAL;
	if ((rc = pd_store_range(st, NULL, &r)) != 0)
		return rc;
	*patch_messages = r.patch_messages;
	return 0;
}
