/*
 * The LMDB store with real corpus mail parsed by GMime: exactly-once
 * counting, series assembly in any arrival order, versions, trailers,
 * ranges and digests, map growth, batches, concurrent writer processes and
 * threads sharing one pd_store.
 */
#include <sys/wait.h>

#include <sys/stat.h>

#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include <lmdb.h>

#include "patchdigest/classify.h"
#include "patchdigest/error.h"
#include "patchdigest/ingest.h"
#include "patchdigest/mbox.h"
#include "patchdigest/msg.h"
#include "patchdigest/store.h"

#define MAXFILES	256

struct files {
	char *path[MAXFILES * 2];
	size_t n;
};

static char tmpdir[256];

static const char *
shared(void)
{
	const char *s = getenv("PD_SHARED");

	if (s == NULL || *s == '\0')
		s = "../shared";
	return s;
}

/* Files of a lore-kvmarm _sets list, or of a corpus prefix. */
static void
set_files(const char *set, struct files *f)
{
	char path[1024], line[256];
	FILE *fp;

	f->n = 0;
	snprintf(path, sizeof(path), "%s/corpus/lore-kvmarm/_sets/%s.txt", shared(), set);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) && f->n < MAXFILES) {
		line[strcspn(line, "\r\n")] = '\0';
		if (*line == '\0')
			continue;
		assert_true(asprintf(&f->path[f->n++], "%s/corpus/lore-kvmarm/%s",
		    shared(), line) > 0);
	}
	fclose(fp);
	assert_true(f->n > 0);
}

static void
prefix_files(const char *dir, const char *prefix, int n, struct files *f)
{
	f->n = 0;
	for (int i = 1; i <= n; i++)
		assert_true(asprintf(&f->path[f->n++], "%s/corpus/%s/%s.%02d.eml",
		    shared(), dir, prefix, i) > 0);
}

static void
files_free(struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->path[i]);
	f->n = 0;
}

static void
shuffle(struct files *f, unsigned seed)
{
	srand(seed);
	for (size_t i = f->n; i > 1; i--) {
		size_t j = (size_t)rand() % i;
		char *t = f->path[i - 1];

		f->path[i - 1] = f->path[j];
		f->path[j] = t;
	}
}

/* Close the input and the memstream written from it, and parse what it holds. */
static pd_msg *
parse_stream(FILE *fp, FILE *mem, char **buf, size_t *len)
{
	pd_msg *m = NULL;

	fclose(fp);
	assert_int_equal(fclose(mem), 0);
	assert_int_equal(pd_msg_parse(*buf, *len, NULL, &m), 0);
	free(*buf);
	return m;
}

static pd_msg *
load(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	char chunk[65536];
	size_t n;

	assert_non_null(fp);
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		assert_int_equal(fwrite(chunk, 1, n, mem), n);
	return parse_stream(fp, mem, &buf, &len);
}

/*
 * The message of path with lines put at the top of its body (in-body
 * From:), and its header From replaced by from unless NULL.
 */
static pd_msg *
load_edit(const char *path, const char *from, const char *lines)
{
	FILE *fp = fopen(path, "rb"), *mem;
	char line[4096], *buf = NULL;
	size_t len = 0;
	int body = 0;

	assert_non_null(fp);
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (!body && from != NULL && strncmp(line, "From:", 5) == 0)
			fputs(from, mem);
		else
			fputs(line, mem);
		if (!body && (*line == '\n' || strcmp(line, "\r\n") == 0)) {
			body = 1;
			fputs(lines, mem);
		}
	}
	assert_true(body);
	return parse_stream(fp, mem, &buf, &len);
}

static void
put_file(pd_store *st, const char *path, struct pd_put_result *res)
{
	struct pd_put_result tmp;
	struct pd_class cls;
	pd_msg *m = load(path);
	int rc;

	pd_classify(NULL, m, &cls);
	rc = pd_store_put(st, m, &cls, res ? res : &tmp);
	if (rc != 0)
		print_error("%s: %s\n", path, pd_strerror(rc));
	assert_int_equal(rc, 0);
	pd_msg_free(m);
}

static void
put_all(pd_store *st, const struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		put_file(st, f->path[i], NULL);
}

static char *
msgid_of(const char *path)
{
	pd_msg *m = load(path);
	char *id = strdup(pd_msg_id(m));

	pd_msg_free(m);
	return id;
}

static pd_store *
open_store(const char *sub, size_t map, size_t max)
{
	char dir[512];
	pd_store *st = NULL;
	int rc;

	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, sub);
	rc = pd_store_open(dir, PD_STORE_CREATE, map, max, &st);
	assert_int_equal(rc, 0);
	return st;
}

/* Every counter of a range as text: "authors\tname\tcount\n"... */
struct snap {
	FILE *fp;
	enum pd_counter c;
};

static int
snap_one(const char *name, uint64_t count, void *arg)
{
	struct snap *s = arg;

	fprintf(s->fp, "%s\t%s\t%llu\n", pd_counter_name(s->c), name,
	    (unsigned long long)count);
	return 0;
}

static char *
snapshot(pd_store *st, int with_series)
{
	struct pd_range r;
	struct snap s;
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	s.fp = open_memstream(&buf, &len);
	fprintf(s.fp, "messages %llu patches %llu\n", (unsigned long long)r.messages,
	    (unsigned long long)r.patch_messages);
	for (s.c = 0; s.c < PD_COUNT_MAX; s.c++)
		if (with_series || s.c != PD_COUNT_SERIES)
			assert_int_equal(pd_store_foreach_count(st, &r, s.c, snap_one, &s), 0);
	fclose(s.fp);
	return buf;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_store.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- tests ---- */

static void
test_open_errors(void **state)
{
	char dir[512];
	pd_store *st = (void *)1;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/missing", tmpdir);
	assert_int_equal(pd_store_open(dir, 0, 0, 0, &st), PD_ENOSTORE);
	assert_null(st);
	assert_int_equal(pd_store_open(dir, PD_STORE_RDONLY, 0, 0, &st), PD_ENOSTORE);
	assert_int_equal(access(dir, F_OK), -1);	/* read-only open created nothing */
	/* An empty directory is not a store unless asked to create one. */
	assert_int_equal(pd_store_open(tmpdir, PD_STORE_RDONLY, 0, 0, &st), PD_ENOSTORE);
	/* A damaged data file. */
	snprintf(dir, sizeof(dir), "%s/bad", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/bad/data.mdb", tmpdir);
	FILE *fp = fopen(dir, "w");
	assert_non_null(fp);
	for (int i = 0; i < 4096; i++)
		fputs("garbage!", fp);
	fclose(fp);
	snprintf(dir, sizeof(dir), "%s/bad", tmpdir);
	assert_int_equal(pd_store_open(dir, 0, 0, 0, &st), PD_ECORRUPT);
	/* Create, then reopen read-only: the first range is open and empty. */
	snprintf(dir, sizeof(dir), "%s/new", tmpdir);
	assert_int_equal(pd_store_open(dir, PD_STORE_CREATE, 0, 0, &st), 0);
	pd_store_close(st);
	assert_int_equal(pd_store_open(dir, PD_STORE_RDONLY, 0, 0, &st), 0);
	struct pd_range r;
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(r.no, 1);
	assert_true(r.open);
	assert_string_equal(r.from, "000000000");
	assert_true(r.last_seq < r.first_seq);
	assert_int_equal(pd_store_close_range(st, 1, NULL, NULL, NULL, NULL), PD_EROFS);
	pd_store_close(st);
	pd_store_close(NULL);
}

/* Duplicates and a second import of the same mail change no counter. */
static void
test_reimport(void **state)
{
	struct files f;
	pd_store *st;
	struct pd_put_result res;
	char *a, *b;

	(void)state;
	set_files("window_week-2022-11-28", &f);
	st = open_store("db", 0, 0);
	put_all(st, &f);
	a = snapshot(st, 1);
	assert_non_null(strstr(a, "messages 127 "));
	shuffle(&f, 7);
	for (size_t i = 0; i < f.n; i++) {
		put_file(st, f.path[i], &res);
		assert_true(res.duplicate);
	}
	b = snapshot(st, 1);
	assert_string_equal(a, b);
	free(b);
	/* Batched and reopened: still nothing counted twice. */
	pd_store_close(st);
	st = open_store("db", 0, 0);
	assert_int_equal(pd_store_begin(st), 0);
	put_all(st, &f);
	assert_int_equal(pd_store_commit(st), 0);
	b = snapshot(st, 1);
	assert_string_equal(a, b);
	free(a);
	free(b);
	pd_store_close(st);
	files_free(&f);
}

static int
list_ids_of(const struct pd_rec *r, void *arg)
{
	*(char **)arg = strdup(r->list_ids);
	return 0;
}

/* A copy from another list: not counted, its List-Id recorded. */
static void
test_cross_post(void **state)
{
	char path[1024], *buf = NULL, *hdr, *ids = NULL, *a, *b;
	size_t len = 0;
	FILE *fp, *mem;
	int c;
	pd_store *st;
	pd_msg *m;
	struct pd_class cls;
	struct pd_put_result res;

	(void)state;
	snprintf(path, sizeof(path), "%s/corpus/lore-kvmarm/009892.eml", shared());
	st = open_store("db", 0, 0);
	put_file(st, path, NULL);
	a = snapshot(st, 1);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	mem = open_memstream(&buf, &len);
	fputs("List-Id: KVM list <kvm.vger.kernel.org>\n", mem);
	while ((c = fgetc(fp)) != EOF)
		fputc(c, mem);
	fclose(fp);
	fclose(mem);
	/* The first List-Id header is the one read: drop the original. */
	hdr = strstr(buf, "\nList-Id: Where");
	assert_non_null(hdr);
	memcpy(hdr + 1, "X-Old", 5);
	assert_int_equal(pd_msg_parse(buf, len, NULL, &m), 0);
	assert_string_equal(pd_msg_list_id(m), "kvm.vger.kernel.org");
	pd_classify(NULL, m, &cls);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pd_store_put(st, m, &cls, &res), 0);
		assert_true(res.duplicate);
	}
	pd_msg_free(m);
	free(buf);
	b = snapshot(st, 1);
	assert_string_equal(a, b);
	assert_int_equal(pd_store_get_msg(st, "20210315143536.214621-1-qperret@google.com",
	    list_ids_of, &ids), 0);
	assert_string_equal(ids, "kvmarm.lists.cs.columbia.edu kvm.vger.kernel.org");
	free(ids);
	free(a);
	free(b);
	pd_store_close(st);
}

/* A count computed here from the parser's fields equals the store's. */
static void
test_counts_match_parser(void **state)
{
	struct files f;
	pd_store *st;
	uint64_t patches = 0;
	struct pd_range r;
	char *seen[MAXFILES];
	size_t nseen = 0;

	(void)state;
	set_files("window_week-2022-11-28", &f);
	st = open_store("db", 0, 0);
	put_all(st, &f);
	for (size_t i = 0; i < f.n; i++) {
		pd_msg *m = load(f.path[i]);
		int dup = 0;

		for (size_t j = 0; j < nseen; j++)
			dup |= strcmp(seen[j], pd_msg_id(m)) == 0;
		if (!dup) {
			seen[nseen++] = strdup(pd_msg_id(m));
			patches += pd_msg_is_patch(m) ? 1 : 0;
		}
		pd_msg_free(m);
	}
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(r.messages, nseen);
	assert_int_equal(r.patch_messages, patches);
	for (size_t j = 0; j < nseen; j++)
		free(seen[j]);
	pd_store_close(st);
	files_free(&f);
}

static void
check_series(pd_store *st, const char *id, int total, unsigned received, int cover)
{
	struct pd_series s;

	assert_int_equal(pd_store_series_get(st, id, &s), 0);
	assert_string_equal(s.id, id);
	assert_int_equal(s.total, total);
	assert_int_equal(s.received, received);
	assert_int_equal(s.has_cover, cover);
	pd_series_clear(&s);
}

struct series_count {
	const char *want;
	uint64_t in, other;
};

static int
count_series(const char *name, uint64_t count, void *arg)
{
	struct series_count *c = arg;

	if (strcmp(name, c->want) == 0)
		c->in += count;
	else
		c->other += count;
	return 0;
}

/* The 50-patch thread assembles into one series whatever the order. */
static void
test_shuffled_series(void **state)
{
	struct files f;
	char *cover;

	(void)state;
	set_files("thread_v2-00-50-kvm-init-rework", &f);
	cover = msgid_of(f.path[0]);
	for (unsigned seed = 1; seed <= 4; seed++) {
		char sub[32];
		pd_store *st;
		struct pd_range r;
		struct series_count c = { cover, 0, 0 };

		snprintf(sub, sizeof(sub), "s%u", seed);
		st = open_store(sub, 0, 0);
		shuffle(&f, seed);
		put_all(st, &f);
		check_series(st, cover, 50, 50, 1);
		assert_int_equal(pd_store_range(st, NULL, &r), 0);
		assert_int_equal(pd_store_foreach_count(st, &r, PD_COUNT_SERIES,
		    count_series, &c), 0);
		assert_int_equal(c.in, 51);	/* replies are not counted */
		assert_int_equal(c.other, 0);
		pd_store_close(st);
	}
	free(cover);
	files_free(&f);
}

/*
 * "[PATCH 0/2] Fixes for FWB" inside the v5 thread stays its own series,
 * in arrival order and shuffled.
 */
static void
test_series_in_series(void **state)
{
	struct files f;
	char *v5, *fwb = NULL;

	(void)state;
	set_files("thread_v5-00-36-stage2-for-host", &f);
	v5 = msgid_of(f.path[0]);
	for (size_t i = 0; i < f.n; i++) {
		pd_msg *m = load(f.path[i]);

		if (strstr(pd_msg_subject(m), "Fixes for FWB") &&
		    pd_msg_kind(m) == PD_KIND_COVER)
			fwb = strdup(pd_msg_id(m));
		pd_msg_free(m);
	}
	assert_non_null(fwb);
	for (unsigned seed = 0; seed < 6; seed++) {
		char sub[32];
		pd_store *st;
		struct pd_range r;
		struct series_count c = { v5, 0, 0 };

		snprintf(sub, sizeof(sub), "s%u", seed);
		if (seed)
			shuffle(&f, seed);
		st = open_store(sub, 0, 0);
		put_all(st, &f);
		check_series(st, v5, 36, 36, 1);
		check_series(st, fwb, 2, 2, 1);
		assert_int_equal(pd_store_range(st, NULL, &r), 0);
		assert_int_equal(pd_store_foreach_count(st, &r, PD_COUNT_SERIES,
		    count_series, &c), 0);
		assert_int_equal(c.in, 37);
		assert_int_equal(c.other, 3);
		pd_store_close(st);
	}
	free(fwb);
	free(v5);
	files_free(&f);
}

/*
 * The corpus 3-part series re-threaded: header lines Message-ID, Date,
 * In-Reply-To and References replaced, "tag" added to the subject prefix.
 */
static pd_msg *
rethread(const char *path, const char *id, const char *date, const char *irt,
    const char *refs, const char *tag)
{
	FILE *fp = fopen(path, "rb"), *mem;
	char line[4096], *buf = NULL;
	size_t len = 0;
	int body = 0, skip = 0;

	assert_non_null(fp);
	mem = open_memstream(&buf, &len);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (!body && (*line == ' ' || *line == '\t') && skip)
			continue;
		skip = 0;
		if (!body && (strncasecmp(line, "Message-ID:", 11) == 0 ||
		    strncasecmp(line, "Date:", 5) == 0 ||
		    strncasecmp(line, "In-Reply-To:", 12) == 0 ||
		    strncasecmp(line, "References:", 11) == 0)) {
			skip = 1;
			continue;
		}
		if (!body && strncmp(line, "Subject: [PATCH ", 16) == 0 && *tag) {
			char *e = strchr(line, ']');

			assert_non_null(e);
			fprintf(mem, "%.*s %s%s", (int)(e - line), line, tag, e);
			continue;
		}
		if (!body && (*line == '\n' || strcmp(line, "\r\n") == 0)) {
			body = 1;
			fprintf(mem, "Message-ID: <%s>\nDate: %s\n", id, date);
			if (*irt)
				fprintf(mem, "In-Reply-To: <%s>\nReferences: %s\n", irt, refs);
		}
		fputs(line, mem);
	}
	assert_true(body);
	return parse_stream(fp, mem, &buf, &len);
}

/*
 * A fresh store in dir holding msgs[order[0..n-1]]; with out, out[i] is
 * the series of msgs[i].
 */
static pd_store *
store_in_order(const char *dir, pd_msg **msgs, const int *order, int n,
    char out[][256])
{
	pd_store *st;

	assert_int_equal(pd_store_open(dir, PD_STORE_CREATE | PD_STORE_NOSYNC, 0, 0,
	    &st), 0);
	for (int i = 0; i < n; i++) {
		struct pd_class cls;
		struct pd_put_result res;

		pd_classify(NULL, msgs[order[i]], &cls);
		assert_int_equal(pd_store_put(st, msgs[order[i]], &cls, &res), 0);
		if (out != NULL)
			snprintf(out[order[i]], 256, "%s", res.series);
	}
	return st;
}

/* Series of each message after putting msgs[order[0..n-1]] in a fresh store. */
static void
series_after(const char *sub, pd_msg **msgs, const int *order, int n, char out[][256])
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, sub);
	pd_store_close(store_in_order(dir, msgs, order, n, out));
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
next_perm(int *p, int n)
{
	int i = n - 2, j = n - 1;

	while (i >= 0 && p[i] > p[i + 1])
		i--;
	if (i < 0)
		return 0;
	while (p[j] < p[i])
		j--;
	int t = p[i]; p[i] = p[j]; p[j] = t;
	for (i++, j = n - 1; i < j; i++, j--) {
		t = p[i]; p[i] = p[j]; p[j] = t;
	}
	return 1;
}

/*
 * patchwork's series set PREFIX.01..n put in every order: message i is in
 * the series of message named_by[i].
 */
static void
every_order(const char *prefix, int n, const int *named_by, const char *sub)
{
	struct files f;
	pd_msg *m[8];
	char got[8][256], *id[8];
	int p[8];

	assert_true(n <= 8);
	prefix_files("patchwork/series", prefix, n, &f);
	for (int i = 0; i < n; i++) {
		m[i] = load(f.path[i]);
		id[i] = msgid_of(f.path[i]);
		p[i] = i;
	}
	do {
		series_after(sub, m, p, n, got);
		for (int i = 0; i < n; i++)
			assert_string_equal(got[i], id[named_by[i]]);
	} while (next_perm(p, n));
	for (int i = 0; i < n; i++) {
		pd_msg_free(m[i]);
		free(id[i]);
	}
	files_free(&f);
}

/*
 * A series (same version and N) posted two days later in reply to patch 1
 * of another, with Message-IDs not named by git send-email: in every
 * arrival order, both covers included, each stays its own series.  And a
 * --chain-reply-to series with git send-email names assembles in any order.
 */
static void
test_series_in_reply_to_series(void **state)
{
	static const char *const d1 = "Sun, 11 Sep 2016 23:22:02 +0100";
	static const char *const d2 = "Tue, 13 Sep 2016 10:00:00 +0100";
	struct files f;
	pd_msg *m[6];
	char got[6][256];
	int p[6] = { 0, 1, 2, 3, 4, 5 }, orders = 0;

	(void)state;
	prefix_files("patchwork/series", "base-cover-letter.mbox", 3, &f);
	m[0] = rethread(f.path[0], "c1.aaa@ex.org", d1, "", "", "");
	m[1] = rethread(f.path[1], "p1.bbb@ex.org", d1, "c1.aaa@ex.org",
	    "<c1.aaa@ex.org>", "");
	m[2] = rethread(f.path[2], "p2.ccc@ex.org", d1, "c1.aaa@ex.org",
	    "<c1.aaa@ex.org>", "");
	m[3] = rethread(f.path[0], "x9.ddd@ex.org", d2, "p1.bbb@ex.org",
	    "<c1.aaa@ex.org> <p1.bbb@ex.org>", "other");
	m[4] = rethread(f.path[1], "y8.eee@ex.org", d2, "x9.ddd@ex.org",
	    "<c1.aaa@ex.org> <p1.bbb@ex.org> <x9.ddd@ex.org>", "other");
	m[5] = rethread(f.path[2], "z7.fff@ex.org", d2, "x9.ddd@ex.org",
	    "<c1.aaa@ex.org> <p1.bbb@ex.org> <x9.ddd@ex.org>", "other");
	do {
		/* Every other order: both covers first, last, or in between. */
		if (orders++ % 2)
			continue;
		series_after("nest", m, p, 6, got);
		for (int i = 0; i < 6; i++)
			assert_string_equal(got[i], i < 3 ? "c1.aaa@ex.org" : "x9.ddd@ex.org");
	} while (next_perm(p, 6));
	assert_int_equal(orders, 720);
	for (int i = 0; i < 6; i++)
		pd_msg_free(m[i]);

	/* git send-email --chain-reply-to: cover <- 1/2 <- 2/2. */
	m[0] = rethread(f.path[0], "20160911222202.8585-1-a@ex.org", d1,
	    "", "", "");
	m[1] = rethread(f.path[1], "20160911222202.8585-2-a@ex.org", d1,
	    "20160911222202.8585-1-a@ex.org",
	    "<20160911222202.8585-1-a@ex.org>", "");
	m[2] = rethread(f.path[2], "20160911222202.8585-3-a@ex.org", d1,
	    "20160911222202.8585-2-a@ex.org",
	    "<20160911222202.8585-1-a@ex.org> "
	    "<20160911222202.8585-2-a@ex.org>", "");
	for (int i = 0; i < 3; i++)
		p[i] = i;
	do {
		series_after("chain", m, p, 3, got);
		for (int i = 0; i < 3; i++)
			assert_string_equal(got[i], "20160911222202.8585-1-a@ex.org");
	} while (next_perm(p, 3));
	for (int i = 0; i < 3; i++)
		pd_msg_free(m[i]);
	files_free(&f);

	/*
	 * git send-email's old names ("...-4-git-send-email-user@host") and a
	 * part numbered past its cover's N ("[PATCH 3/2]"): one series, as
	 * patchwork has it, in every order.
	 */
	every_order("base-extra-patches.mbox", 4, (const int[]){ 0, 0, 0, 0 }, "extra");
}

/*
 * References lacking the cover that In-Reply-To names (patchwork's
 * base-deep-threaded: 2/2 replies to the cover, refers to 1/2 only), and
 * git format-patch's names ("cover.<time>.git.<addr>", "<hash>.<time>.git.
 * <addr>") with --thread=deep: one series named by the cover in every
 * order (2/2 first named it by patch 1, and the cover went its own way).
 * A format-patch patch 1 in reply to a report names its own series.
 */
static void
test_series_git_roots(void **state)
{
	static const char *const d1 = "Sun, 11 Sep 2016 23:22:02 +0100";
#define FP(h)	h ".1473632522.git.a@ex.org"
#define H40	"1111111111111111111111111111111111111111"
	static const char c[] = FP("cover"), p1[] = FP(H40),
	    p2[] = FP("2222222222222222222222222222222222222222");
	struct files f;
	pd_msg *m[3];
	char got[3][256];
	int p[3] = { 0, 1, 2 };

	(void)state;
	every_order("base-deep-threaded.mbox", 3, (const int[]){ 0, 0, 0 }, "deep");
	prefix_files("patchwork/series", "base-deep-threaded.mbox", 3, &f);
	m[0] = rethread(f.path[0], c, d1, "", "", "");
	m[1] = rethread(f.path[1], p1, d1, c, "<" FP("cover") ">", "");
	m[2] = rethread(f.path[2], p2, d1, p1,
	    "<" FP("cover") "> <" FP(H40) ">", "");
	do {
		series_after("fp", m, p, 3, got);
		for (int i = 0; i < 3; i++)
			assert_string_equal(got[i], c);
	} while (next_perm(p, 3));
	for (int i = 0; i < 3; i++)
		pd_msg_free(m[i]);

	m[0] = rethread(f.path[1], p1, d1, "report@ex.org", "<report@ex.org>", "");
	p[0] = 0;
	series_after("fp1", m, p, 1, got);
	assert_string_equal(got[0], p1);
	pd_msg_free(m[0]);
	files_free(&f);
#undef H40
#undef FP
}

/*
 * A series sent again nine minutes later, same version, its patch 1 in
 * reply to the first posting's (patchwork's bugs-nocover-noversion): two
 * series in every order.  Patch 1 replying to a stored patch joined it,
 * and unthreaded patch 1 arriving after the resend joined the resend's
 * series within the 20 minutes, which already had a patch 1.
 */
static void
test_resend_in_reply(void **state)
{
	(void)state;
	every_order("bugs-nocover-noversion.mbox", 4, (const int[]){ 0, 0, 2, 2 },
	    "resend");
}

/*
 * Two fixes sent with git send-email in reply to one bug report, two days
 * apart: in every order of arrival, the report's anywhere or never, each is
 * its own series, named by its patch 1 (they were one series under the
 * report's id).
 */
static void
test_fixes_to_report(void **state)
{
	static const char *const d1 = "Sun, 11 Sep 2016 23:22:02 +0100";
	static const char *const d2 = "Tue, 13 Sep 2016 10:00:00 +0100";
	static const char report[] =
	    "Message-ID: <000000000000abcdef@google.com>\n"
	    "From: syzbot <syzbot@ex.org>\n"
	    "Date: Sat, 10 Sep 2016 08:00:00 +0000\n"
	    "Subject: [syzbot] KASAN: use-after-free Read in kvm_io_bus\n\n"
	    "A report.\n";
	static const char *const r = "000000000000abcdef@google.com";
	static const char *const a1 = "20160911222202.8585-1-a@ex.org";
	static const char *const b1 = "20160913090000.4242-1-b@ex.org";
	struct files f;
	pd_msg *m[5];
	char got[5][256];
	int p[5] = { 0, 1, 2, 3, 4 };

	(void)state;
	prefix_files("patchwork/series", "base-cover-letter.mbox", 3, &f);
	assert_int_equal(pd_msg_parse(report, sizeof(report) - 1, NULL, &m[0]), 0);
	m[1] = rethread(f.path[1], a1, d1, r, "<000000000000abcdef@google.com>", "");
	m[2] = rethread(f.path[2], "20160911222202.8585-2-a@ex.org", d1, a1,
	    "<000000000000abcdef@google.com> <20160911222202.8585-1-a@ex.org>", "");
	m[3] = rethread(f.path[1], b1, d2, r, "<000000000000abcdef@google.com>", "");
	m[4] = rethread(f.path[2], "20160913090000.4242-2-b@ex.org", d2, b1,
	    "<000000000000abcdef@google.com> <20160913090000.4242-1-b@ex.org>", "");
	do {
		series_after("report", m, p, 5, got);
		assert_string_equal(got[1], a1);
		assert_string_equal(got[2], a1);
		assert_string_equal(got[3], b1);
		assert_string_equal(got[4], b1);
		/* the report never arrives */
		if (p[0] == 0) {
			series_after("report", m, p + 1, 4, got);
			assert_string_equal(got[2], a1);
			assert_string_equal(got[4], b1);
		}
	} while (next_perm(p, 5));
	for (int i = 0; i < 5; i++)
		pd_msg_free(m[i]);
	files_free(&f);
}

/* No cover letter: patch 1 names the series, whichever part comes first. */
static void
test_missing_cover(void **state)
{
	struct files f;
	char *first;
	struct pd_put_result res;

	(void)state;
	prefix_files("patchwork/series", "base-no-cover-letter.mbox", 2, &f);
	first = msgid_of(f.path[0]);
	for (int order = 0; order < 2; order++) {
		pd_store *st = open_store(order ? "b" : "a", 0, 0);

		put_file(st, f.path[order ? 1 : 0], &res);
		put_file(st, f.path[order ? 0 : 1], &res);
		assert_string_equal(res.series, first);
		check_series(st, first, 2, 2, 0);
		pd_store_close(st);
	}
	free(first);
	files_free(&f);
	/*
	 * Without any threading: same sender, version, N within 20 minutes, in
	 * every order; a cover after its patches joins them (their tags carry
	 * the id already), so the id is the first arrival's.
	 */
	prefix_files("patchwork/series", "base-no-references-no-cover.mbox", 3, &f);
	pd_msg *m[4];
	char got[4][256], *cover = msgid_of(f.path[0]);
	int p[3] = { 0, 1, 2 };

	for (int i = 0; i < 3; i++)
		m[i] = load(f.path[i]);
	do {
		series_after("loose", m, p, 3, got);
		assert_string_equal(got[1], got[p[0]]);
		assert_string_equal(got[2], got[p[0]]);
		assert_string_equal(got[0], got[p[0]]);
		if (p[0] == 0)
			assert_string_equal(got[0], cover);
	} while (next_perm(p, 3));
	/* The sender groups them, not the author: one part is another's. */
	for (int i = 0; i < 3; i++)
		p[i] = i;
	pd_msg_free(m[1]);
	m[1] = load_edit(f.path[1], NULL, "From: Sean Other <sean@ex.org>\n\n");
	assert_string_equal(pd_msg_author_email(m[1]), "sean@ex.org");
	/* ... by address: another part writes the sender's name otherwise */
	pd_msg_free(m[2]);
	m[2] = load_edit(f.path[2], "From: \"Bringmann, Michael\" <MWB@linux.vnet.ibm.com>\n", "");
	do {
		series_after("loose-author", m, p, 3, got);
		assert_string_equal(got[1], got[p[0]]);
		assert_string_equal(got[2], got[p[0]]);
		assert_string_equal(got[0], got[p[0]]);
	} while (next_perm(p, 3));
	/* A second cover of the same shape 5 minutes later is a new posting. */
	m[3] = rethread(f.path[0], "second.cover@ex.org", "Tue, 23 May 2017 10:20:11 -0500",
	    "", "", "");
	int q[4] = { 1, 2, 0, 3 };
	series_after("loose2", m, q, 4, got);
	assert_string_equal(got[0], got[1]);
	assert_string_equal(got[3], "second.cover@ex.org");
	for (int i = 0; i < 4; i++)
		pd_msg_free(m[i]);
	files_free(&f);
	/*
	 * Nor does a cover of the same shape after a posting without one whose
	 * parts reply to each other: a later cover cannot be that posting's.
	 */
	prefix_files("patchwork/series", "base-cover-letter.mbox", 3, &f);
	static const char *const d0 = "Sun, 11 Sep 2016 23:22:02 +0100";
	static const char *const d5 = "Sun, 11 Sep 2016 23:27:02 +0100";
	pd_msg *n[5];
	char got5[5][256];
	int o[5] = { 0, 1, 2, 3, 4 };

	n[0] = rethread(f.path[1], "a1@ex.org", d0, "", "", "");
	n[1] = rethread(f.path[2], "a2@ex.org", d0, "a1@ex.org", "<a1@ex.org>", "");
	n[2] = rethread(f.path[0], "b0@ex.org", d5, "", "", "");
	n[3] = rethread(f.path[1], "b1@ex.org", d5, "b0@ex.org", "<b0@ex.org>", "");
	n[4] = rethread(f.path[2], "b2@ex.org", d5, "b0@ex.org", "<b0@ex.org>", "");
	series_after("loose3", n, o, 5, got5);
	assert_string_equal(got5[0], "a1@ex.org");
	assert_string_equal(got5[1], "a1@ex.org");
	for (int i = 2; i < 5; i++)
		assert_string_equal(got5[i], "b0@ex.org");
	for (int i = 0; i < 5; i++)
		pd_msg_free(n[i]);
	files_free(&f);
	prefix_files("patchwork/series", "base-no-references-no-cover.mbox", 3, &f);
	pd_store *st = open_store("c", 0, 0);
	for (int i = 2; i >= 0; i--)
		put_file(st, f.path[i], &res);
	check_series(st, res.series, 2, 2, 1);
	pd_store_close(st);
	free(cover);
	files_free(&f);
}

/* The longest author counted: every name must be whole UTF-8. */
static int
longest_name(const char *name, uint64_t count, void *arg)
{
	size_t *max = arg, n = strlen(name);

	(void)count;
	assert_true(g_utf8_validate(name, -1, NULL));
	if (n > *max)
		*max = n;
	return 0;
}

/*
 * A Message-ID longer than the store's keys (legal up to 998 bytes) is
 * stored under the id derived from it, and so is every reference to it:
 * a cover letter with a 600-byte id keeps its two patches.
 */
static void
test_long_ids(void **state)
{
	struct files f;
	struct pd_put_result res[3];
	struct pd_class cls;
	char id[601], refs[604];
	pd_msg *m[3];
	pd_store *st = open_store("long", 0, 0);
	static const char *const d = "Sun, 11 Sep 2016 23:22:02 +0100";

	(void)state;
	memset(id, 'a', 588);
	strcpy(id + 588, "@example.org");
	snprintf(refs, sizeof(refs), "<%s>", id);
	prefix_files("patchwork/series", "base-cover-letter.mbox", 3, &f);
	m[0] = rethread(f.path[0], id, d, "", "", "");
	m[1] = rethread(f.path[1], "p1@ex.org", d, id, refs, "");
	m[2] = rethread(f.path[2], "p2@ex.org", d, id, refs, "");
	assert_true(strlen(pd_msg_id(m[0])) <= PD_ID_MAX);
	assert_non_null(strstr(pd_msg_id(m[0]), "@long-id.patchdigest.invalid"));
	assert_string_equal(pd_msg_in_reply_to(m[1]), pd_msg_id(m[0]));
	assert_string_equal(pd_msg_ref(m[2], 0), pd_msg_id(m[0]));
	for (int i = 0; i < 3; i++) {
		pd_classify(NULL, m[i], &cls);
		assert_int_equal(pd_store_put(st, m[i], &cls, &res[i]), 0);
		assert_string_equal(res[i].series, pd_msg_id(m[0]));
	}
	check_series(st, res[0].series, 2, 2, 1);
	for (int i = 0; i < 3; i++)
		pd_msg_free(m[i]);
	/* a counter name past the key limit is cut before a character */
	struct pd_range rg;
	size_t max = 0;
	char name[420], raw[600];

	memset(name, 'x', 399);
	strcpy(name + 399, "\xc3\xa9yyyy");
	snprintf(raw, sizeof(raw), "From: %s <x@ex.org>\nSubject: [PATCH] x\n"
	    "Message-ID: <p3@ex.org>\n\n---\n a/x.c | 1 +\n", name);
	assert_int_equal(pd_msg_parse(raw, strlen(raw), NULL, &m[0]), 0);
	pd_classify(NULL, m[0], &cls);
	assert_int_equal(pd_store_put(st, m[0], &cls, &res[0]), 0);
	pd_msg_free(m[0]);
	assert_int_equal(pd_store_range(st, NULL, &rg), 0);
	assert_int_equal(pd_store_foreach_count(st, &rg, PD_COUNT_AUTHOR,
	    longest_name, &max), 0);
	assert_int_equal(max, 399);
	/* an id of PD_ID_MAX bytes is kept as it is */
	id[PD_ID_MAX - 12] = '\0';
	strcat(id, "@example.org");
	m[0] = rethread(f.path[0], id, d, "", "", "");
	assert_string_equal(pd_msg_id(m[0]), id);
	pd_msg_free(m[0]);
	files_free(&f);
	pd_store_close(st);
}

static void
guess(const char *subject, const char *id, const char *irt, const char *refs,
    const char *want)
{
	char buf[1024], got[256];
	pd_msg *m;

	snprintf(buf, sizeof(buf), "From: A <a@ex.org>\nSubject: %s\nMessage-ID: <%s>\n"
	    "%s%s%s%s%s%s\nbody\n", subject, id, *irt ? "In-Reply-To: <" : "", irt,
	    *irt ? ">\n" : "", *refs ? "References: " : "", refs, *refs ? "\n" : "");
	assert_int_equal(pd_msg_parse(buf, strlen(buf), NULL, &m), 0);
	pd_series_guess(m, got, sizeof(got));
	if (strcmp(got, want) != 0)
		print_error("%s: guessed \"%s\", want \"%s\"\n", subject, got, want);
	assert_string_equal(got, want);
	pd_msg_free(m);
}

/*
 * Without the store (dry runs), the series from the threading headers as
 * the store reads them: patch 1 of a git send-email posting joins its
 * cover letter, patch 1 of a new version in an old thread does not.
 */
static void
test_series_guess(void **state)
{
	(void)state;
	guess("[PATCH 0/2] c", "2023-1-a@ex.org", "", "", "2023-1-a@ex.org");
	guess("[PATCH 1/2] p", "2023-2-a@ex.org", "2023-1-a@ex.org", "<2023-1-a@ex.org>",
	    "2023-1-a@ex.org");
	guess("[PATCH v2 1/2] p", "2024-2-a@ex.org", "2023-1-a@ex.org",
	    "<2023-1-a@ex.org>", "2024-2-a@ex.org");
	/* --chain-reply-to: the oldest ancestor of the same posting */
	guess("[PATCH 2/2] p", "2023-3-a@ex.org", "2023-2-a@ex.org",
	    "<2023-1-a@ex.org> <2023-2-a@ex.org>", "2023-1-a@ex.org");
	/* other Message-IDs: the parent, as the store gives while it is not stored */
	guess("[PATCH 2/2] p", "x2@ex.org", "x0@ex.org", "<x0@ex.org>", "x0@ex.org");
	guess("[PATCH 1/2] p", "x1@ex.org", "x0@ex.org", "<x0@ex.org>", "x0@ex.org");
	guess("[PATCH 2/2] p", "y2@ex.org", "", "", "y2@ex.org");
	guess("[PATCH] lone", "z@ex.org", "2023-1-a@ex.org", "", "z@ex.org");
	/* shaped like git's names but not timed: not git's (b4's tests) */
	guess("[PATCH 1/2] p", "patch-1-message@ex.org", "cover-message@ex.org",
	    "<cover-message@ex.org>", "cover-message@ex.org");
	guess("Re: [PATCH 1/2] p", "r@ex.org", "2023-2-a@ex.org", "", "");
}

/* v1 then v2: the new version supersedes the old; parts stay apart. */
static void
test_versions(void **state)
{
	struct files f;
	char *v1, *v2;
	struct pd_series s;
	pd_store *st;

	(void)state;
	prefix_files("patchwork/series", "revision-basic.mbox", 6, &f);
	v1 = msgid_of(f.path[0]);
	v2 = msgid_of(f.path[3]);
	st = open_store("db", 0, 0);
	put_all(st, &f);
	assert_int_equal(pd_store_series_get(st, v2, &s), 0);
	assert_int_equal(s.version, 2);
	assert_int_equal(s.received, 2);
	assert_non_null(s.supersedes);
	assert_string_equal(s.supersedes, v1);
	assert_int_equal(s.supersedes_version, 1);
	pd_series_clear(&s);
	assert_int_equal(pd_store_series_get(st, v1, &s), 0);
	assert_null(s.supersedes);
	assert_int_equal(s.received, 2);
	pd_series_clear(&s);
	pd_store_close(st);
	free(v1);
	free(v2);
	files_free(&f);
	/* b4's partial reroll: change-id trailer and title link versions too. */
	prefix_files("b4", "trailers-followup-partial-reroll.mbox", 6, &f);
	st = open_store("b4", 0, 0);
	put_all(st, &f);
	v2 = msgid_of(f.path[5]);
	struct pd_put_result res;
	put_file(st, f.path[5], &res);
	assert_true(res.duplicate);
	assert_int_equal(res.version, 3);
	free(v2);
	pd_store_close(st);
	files_free(&f);
}

static int
trailers_of(const struct pd_rec *r, void *arg)
{
	unsigned *out = arg;

	out[0] = r->reviewed;
	out[1] = r->acked;
	out[2] = r->tested;
	return 0;
}

/* b4's thread of a cover, two patches and two reviews, stored. */
static pd_store *
followup_store(struct files *f, char **cover, char **p2)
{
	pd_store *st;

	prefix_files("b4", "trailers-followup-with-cover.mbox", 5, f);
	*cover = msgid_of(f->path[0]);
	*p2 = msgid_of(f->path[2]);
	st = open_store("db", 0, 0);
	put_all(st, f);
	return st;
}

static void
put_raw(pd_store *st, const char *raw)
{
	pd_msg *m;
	struct pd_class cls;
	struct pd_put_result res;

	assert_int_equal(pd_msg_parse(raw, strlen(raw), NULL, &m), 0);
	pd_classify(NULL, m, &cls);
	assert_int_equal(pd_store_put(st, m, &cls, &res), 0);
	pd_msg_free(m);
}

/* put_raw of a message made from fmt, which must fit. */
static void __attribute__((format(printf, 2, 3)))
put_rawf(pd_store *st, const char *fmt, ...)
{
	char raw[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(raw));
	put_raw(st, raw);
}

/* A cover, and with p1 its patch 1 replying to it, of one posting. */
static void
post_version(pd_store *st, const char *stem, int v, const char *title,
    const char *p1)
{
	char ver[16] = "";

	if (v > 1)
		snprintf(ver, sizeof(ver), "v%d ", v);
	/* version v sent on day v */
	put_rawf(st, "From: A <a@ex.org>\nSubject: [PATCH %s0/2] %s\n"
	    "Message-ID: <%s-0@ex.org>\nDate: %d Dec 2025 10:00:00 +0000\n\nA.\n",
	    ver, title, stem, v);
	if (p1 != NULL)
		put_rawf(st, "From: A <a@ex.org>\nSubject: [PATCH %s1/2] %s\n"
		    "Message-ID: <%s-1@ex.org>\nIn-Reply-To: <%s-0@ex.org>\n"
		    "Date: %d Dec 2025 10:00:01 +0000\n\nB.\n", ver, p1, stem, stem, v);
}

static void
expect_supersedes(pd_store *st, const char *id, const char *prev, int v)
{
	struct pd_series s;

	assert_int_equal(pd_store_series_get(st, id, &s), 0);
	if (prev == NULL)
		assert_null(s.supersedes);
	else {
		assert_non_null(s.supersedes);
		assert_string_equal(s.supersedes, prev);
		assert_int_equal(s.supersedes_version, v);
	}
	pd_series_clear(&s);
}

/*
 * "supersedes" names the latest earlier version that the cover's title or
 * patch 1's names, not the first found (the kvmarm archive: a v5 whose
 * cover matched v3 and whose patch 1 matched v4).  A version posted again
 * (a cover sent alone, the send cut short, then the whole series; a
 * resend) links as its first posting did, and the next version links to
 * the later posting.
 */
static void
test_versions_latest(void **state)
{
	pd_store *st;

	(void)state;
	st = open_store("db", 0, 0);
	post_version(st, "a1", 1, "Alpha", "KVM: Prep");
	post_version(st, "a2", 2, "Beta", "KVM: Prep");
	post_version(st, "a3", 3, "Alpha", "KVM: Prep");
	expect_supersedes(st, "a2-0@ex.org", "a1-0@ex.org", 1);
	expect_supersedes(st, "a3-0@ex.org", "a2-0@ex.org", 2);

	post_version(st, "g1", 1, "Gamma", "KVM: g1");
	post_version(st, "g2a", 2, "Gamma", NULL);
	post_version(st, "g2b", 2, "Gamma", "KVM: g1 reworked");
	post_version(st, "g3", 3, "Gamma", "KVM: g1 again");
	expect_supersedes(st, "g1-0@ex.org", NULL, 0);
	expect_supersedes(st, "g2a-0@ex.org", "g1-0@ex.org", 1);
	expect_supersedes(st, "g2b-0@ex.org", "g1-0@ex.org", 1);
	expect_supersedes(st, "g3-0@ex.org", "g2b-0@ex.org", 2);
	/* a repost of v1 has nothing to take; an earlier version none to give */
	post_version(st, "g1r", 1, "Gamma", NULL);
	expect_supersedes(st, "g1r-0@ex.org", NULL, 0);
	post_version(st, "g4", 4, "Gamma", NULL);
	expect_supersedes(st, "g4-0@ex.org", "g3-0@ex.org", 3);
	pd_store_close(st);
}

/*
 * Versions arriving out of order (archives imported together): in every
 * order each links to the latest earlier one.  A v2 after v3 had no link
 * (the title's key named v3), v3 kept "supersedes v1".  But a v1 sent
 * after v2 (a prep patch posted apart, numbering anew) is not linked.
 */
static void
test_versions_any_order(void **state)
{
	static const char *const stem[3] = { "o1", "o2", "o3" };
	int p[3] = { 0, 1, 2 }, n = 0;

	(void)state;
	do {
		char sub[16];
		pd_store *st;

		snprintf(sub, sizeof(sub), "ord%d", n++);
		st = open_store(sub, 0, 0);
		for (int i = 0; i < 3; i++)
			post_version(st, stem[p[i]], p[i] + 1, "Omega", "KVM: omega");
		expect_supersedes(st, "o1-0@ex.org", NULL, 0);
		expect_supersedes(st, "o2-0@ex.org", "o1-0@ex.org", 1);
		expect_supersedes(st, "o3-0@ex.org", "o2-0@ex.org", 2);
		pd_store_close(st);
	} while (next_perm(p, 3));
	assert_int_equal(n, 6);

	pd_store *st = open_store("late", 0, 0);

	post_version(st, "l2", 2, "Lambda", NULL);
	put_rawf(st, "From: A <a@ex.org>\nSubject: [PATCH] Lambda\n"
	    "Message-ID: <l1@ex.org>\nDate: 9 Dec 2025 10:00:00 +0000\n\nA.\n");
	expect_supersedes(st, "l2-0@ex.org", NULL, 0);
	pd_store_close(st);
}

/*
 * A reply's trailers are its sender's (b4 as oracle, kvmarm archive): not
 * those of a commit message it carries (a stable-tree note, the patch
 * re-posted inline), but those below a fix-up diff, and an indented one
 * naming the sender's address (one naming another may be a quote).
 */
static void
test_reply_own_trailers(void **state)
{
	static const char diff[] = "diff --git a/f b/f\n--- a/f\n+++ b/f\n"
	    "@@ -1 +1 @@\n-a\n+b\n";
	struct files f;
	pd_store *st;
	char *cover, *p2;
	unsigned t[3];

	(void)state;
	st = followup_store(&f, &cover, &p2);
	assert_int_equal(pd_store_get_msg(st, p2, trailers_of, t), 0);
	assert_int_equal(t[0], 1);
	assert_int_equal(t[1] + t[2], 0);
	put_rawf(st, "From: G <g@ex.org>\nMessage-ID: <stable@ex.org>\n"
	    "In-Reply-To: <%s>\nSubject: Patch \"x\" has been added to the 6.1-stable "
	    "tree\n\nThis is a note to let you know.\n\nFrom: A <a@ex.org>\n"
	    "Subject: [PATCH] x\n\nCommit message.\n\nReviewed-by: B <b@ex.org>\n"
	    "Acked-by: C <c@ex.org>\nSigned-off-by: A <a@ex.org>\n---\n%s\n"
	    "Patches currently in stable-queue\n", p2, diff);
	put_rawf(st, "From: R <r@ex.org>\nMessage-ID: <fixup@ex.org>\n"
	    "In-Reply-To: <%s>\nSubject: Re: [PATCH 2/2] x\n\n> hunk\n"
	    "This on top:\n\n%s\nWith that:\n\nTested-by: R <r@ex.org>\n"
	    "Acked-by: R <r@ex.org>\n\n-- \nReviewed-by: Sig <sig@ex.org>\n", p2, diff);
	put_rawf(st, "From: I <i@ex.org>\nMessage-ID: <indent@ex.org>\n"
	    "In-Reply-To: <%s>\nSubject: RE: [PATCH 2/2] x\n\n  Acked-by: I <I@EX.org>\n\n"
	    "    From: M <m@ex.org>\n    Reviewed-by: M <m@ex.org>\n", p2);
	assert_int_equal(pd_store_get_msg(st, p2, trailers_of, t), 0);
	assert_int_equal(t[0], 1);
	assert_int_equal(t[1], 2);
	assert_int_equal(t[2], 1);
	/* below a fix-up diff: Outlook's copy of the answered mail is not the
	 * sender's, an indented trailer naming the sender is */
	put_rawf(st, "From: S <s@ex.org>\nMessage-ID: <outlook@ex.org>\n"
	    "In-Reply-To: <%s>\nSubject: RE: [PATCH 2/2] x\n\nDoes this help?\n\n%s\n"
	    "  Tested-by: S <s@ex.org>\n\n-----Original Message-----\nFrom: M <m@ex.org>\n"
	    "Sent: Monday\n\nLooks fine.\n\nReviewed-by: M <m@ex.org>\n", p2, diff);
	/* the reviewer's own block over the diff folded in is the reviewer's */
	put_rawf(st, "From: F <f@ex.org>\nMessage-ID: <folded@ex.org>\n"
	    "In-Reply-To: <%s>\nSubject: Re: [PATCH 2/2] x\n\nWith this folded in:\n\n"
	    "Reviewed-by: F <f@ex.org>\nSigned-off-by: F <f@ex.org>\n\n%s", p2, diff);
	assert_int_equal(pd_store_get_msg(st, p2, trailers_of, t), 0);
	assert_int_equal(t[0], 2);
	assert_int_equal(t[1], 2);
	assert_int_equal(t[2], 2);
	free(cover);
	free(p2);
	pd_store_close(st);
	files_free(&f);
}

/* counts of part id (patch) and of the series of cover */
static void
assert_counts(pd_store *st, const char *id, const char *cover, unsigned rv,
    unsigned ak, unsigned ts, unsigned series_rv)
{
	struct pd_series s;
	unsigned t[3];

	if (id != NULL) {
		assert_int_equal(pd_store_get_msg(st, id, trailers_of, t), 0);
		assert_int_equal(t[0], rv);
		assert_int_equal(t[1], ak);
		assert_int_equal(t[2], ts);
	}
	assert_int_equal(pd_store_series_get(st, cover, &s), 0);
	assert_int_equal(s.reviewed, series_rv);
	pd_series_clear(&s);
}

/* A reply to patch 1 of b4's thread, from who, as id; trailers in body. */
static void
put_reply(pd_store *st, const char *id, const char *who, const char *body)
{
	put_rawf(st, "From: %s\nMessage-ID: <%s>\n"
	    "In-Reply-To: <patch-1-message@example.com>\nReferences: "
	    "<cover-message@example.com> <patch-1-message@example.com>\n"
	    "Subject: Re: [PATCH v2 1/2] Simple test 1\n\n> hunk\nFine.\n\n%s",
	    who, id, body);
}

/*
 * A person counts once per part and kind, however many replies and lines
 * say it (b4 counts so): by address (the first <...>, else a word with an
 * '@'), whatever the name and case; else by the value up to a " #"
 * comment.  Also when the credit moves from the cover to the patch that
 * arrives after the replies.
 */
static void
test_person_once(void **state)
{
	static const char *const p1 = "patch-1-message@example.com";
	static const char *const cover = "cover-message@example.com";
	struct files f;
	pd_store *st;

	(void)state;
	prefix_files("b4", "trailers-followup-with-cover.mbox", 5, &f);
	st = open_store("db", 0, 0);
	put_file(st, f.path[0], NULL);
	put_reply(st, "r1@ex.org", "R <r@ex.org>", "Reviewed-by: R <r@ex.org>\n");
	put_reply(st, "r2@ex.org", "R <r@ex.org>",
	    "Reviewed-by: Rob R <R@EX.org>\nReviewed-by: R <r@ex.org>\n");
	assert_counts(st, NULL, cover, 0, 0, 0, 1);
	put_file(st, f.path[1], NULL);		/* patch 1 takes both */
	assert_counts(st, p1, cover, 1, 0, 0, 1);
	put_reply(st, "r3@ex.org", "R <r@ex.org>",
	    "Acked-by: R <r@ex.org>\nReviewed-by: R <r@ex.org>\n");
	put_reply(st, "q1@ex.org", "Q <q@ex.org>",
	    "Reviewed-by: q@ex.org\nTested-by: Q <q@ex.org>\nTested-by: Q. <q@ex.org>\n"
	    "Reviewed-by: Q <q@ex.org>\n");
	put_reply(st, "n1@ex.org", "N <n@ex.org>",
	    "Tested-by: Nobody Known\nTested-by: nobody known\nTested-by: Other One\n");
	assert_counts(st, p1, cover, 2, 1, 3, 2);
	put_reply(st, "m1@ex.org", "M <m@ex.org>",
	    "Reviewed-by: A <a@ex.org> # for <arm64>\n"
	    "Reviewed-by: B <b@ex.org> # for <arm64>\n"
	    "Tested-by: Quentin q@ex.org (rk3399)\nTested-by: Other One # again\n");
	assert_counts(st, p1, cover, 4, 1, 3, 4);
	/* the same trailer on the cover counts there once more */
	put_raw(st, "From: R <r@ex.org>\nMessage-ID: <rc@ex.org>\n"
	    "In-Reply-To: <cover-message@example.com>\nSubject: Re: [PATCH v2 0/2] "
	    "Simple cover\n\nFor the series:\n\nReviewed-by: R <r@ex.org>\n");
	assert_counts(st, p1, cover, 4, 1, 3, 5);
	pd_store_close(st);
	files_free(&f);
}

/* Reviewed-by in replies: the patch and its series; the cover's: series. */
static void
test_reply_trailers(void **state)
{
	struct files f;
	pd_store *st;
	char *cover, *p2;
	unsigned t[3];
	struct pd_series s;

	(void)state;
	st = followup_store(&f, &cover, &p2);
	assert_int_equal(pd_store_get_msg(st, p2, trailers_of, t), 0);
	assert_int_equal(t[0], 1);
	assert_int_equal(pd_store_series_get(st, cover, &s), 0);
	assert_int_equal(s.reviewed, 2);
	assert_int_equal(s.received, 2);
	pd_series_clear(&s);
	/* Duplicated replies add nothing. */
	put_all(st, &f);
	assert_int_equal(pd_store_series_get(st, cover, &s), 0);
	assert_int_equal(s.reviewed, 2);
	pd_series_clear(&s);
	/*
	 * An ack in a reply to a review of patch 2 counts for patch 2, as in
	 * patchwork and b4; the review itself, without trailers, adds nothing.
	 */
	for (int i = 0; i < 2; i++) {
		put_rawf(st, "From: R <r@ex.org>\n"
		    "Message-ID: <%s@ex.org>\nIn-Reply-To: <%s>\n"
		    "References: <%s> <%s>%s\nSubject: Re: [PATCH 2/2] x\n\n%s",
		    i ? "ack" : "review", i ? "review@ex.org" : p2, cover, p2,
		    i ? " <review@ex.org>" : "",
		    i ? "> a question\nFine then.\n\nAcked-by: R <r@ex.org>\n" :
		    "> hunk\nA question.\n");
	}
	assert_int_equal(pd_store_get_msg(st, p2, trailers_of, t), 0);
	assert_int_equal(t[0], 1);
	assert_int_equal(t[1], 1);
	assert_int_equal(pd_store_series_get(st, cover, &s), 0);
	assert_int_equal(s.reviewed, 2);
	assert_int_equal(s.acked, 1);
	pd_series_clear(&s);
	/* Lookup by short id and by <Message-ID>. */
	char sid[10], br[300];
	pd_short_id(p2, sid);
	assert_int_equal(pd_store_get_msg(st, sid, trailers_of, t), 0);
	snprintf(br, sizeof(br), "<%s>", p2);
	assert_int_equal(pd_store_get_msg(st, br, trailers_of, t), 0);
	assert_int_equal(pd_store_get_msg(st, "nope@example", trailers_of, t), PD_ENOTFOUND);
	free(cover);
	free(p2);
	pd_store_close(st);
	files_free(&f);
}

/*
 * Store msgs in order; t = the trailer counts of message id and s = those
 * of series sid afterwards.
 */
static void
trailers_after(pd_msg **msgs, const int *order, int n, const char *id,
    const char *sid, unsigned t[3], unsigned s[3])
{
	pd_store *st;
	struct pd_series ser;
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/order", tmpdir);
	st = store_in_order(dir, msgs, order, n, NULL);
	assert_int_equal(pd_store_get_msg(st, id, trailers_of, t), 0);
	assert_int_equal(pd_store_series_get(st, sid, &ser), 0);
	s[0] = ser.reviewed;
	s[1] = ser.acked;
	s[2] = ser.tested;
	pd_series_clear(&ser);
	pd_store_close(st);
	assert_int_equal(pd_store_check(dir), 0);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static pd_msg *
parse_text(const char *raw)
{
	pd_msg *m;

	assert_int_equal(pd_msg_parse(raw, strlen(raw), NULL, &m), 0);
	return m;
}

/*
 * A review under a long chain of replies to a message that never arrives
 * (sent off the list), in arrival order and reversed: each message is
 * walked once, so the patch 12 messages up is still found.
 */
static void
deep_chain(void)
{
	enum { DEPTH = 12 };
	pd_msg *m[DEPTH + 2];
	int p[DEPTH + 2];
	char raw[4096], refs[2048] = "<p@ex.org> <x@ex.org>", parent[32] = "x@ex.org";
	unsigned t[3], s[3];

	m[0] = parse_text("From: A <a@ex.org>\nMessage-ID: <p@ex.org>\n"
	    "Subject: [PATCH] kvm: a fix\n\nA fix.\n\nSigned-off-by: A <a@ex.org>\n");
	for (int i = 1; i <= DEPTH; i++) {
		snprintf(raw, sizeof(raw), "From: B <b@ex.org>\n"
		    "Message-ID: <b%d@ex.org>\nIn-Reply-To: <%s>\nReferences: %s\n"
		    "Subject: Re: [PATCH] kvm: a fix\n\nHm.\n", i, parent, refs);
		m[i] = parse_text(raw);
		snprintf(parent, sizeof(parent), "b%d@ex.org", i);
		snprintf(refs + strlen(refs), sizeof(refs) - strlen(refs), " <%s>", parent);
	}
	snprintf(raw, sizeof(raw), "From: R <r@ex.org>\nMessage-ID: <r@ex.org>\n"
	    "In-Reply-To: <b%d@ex.org>\nReferences: %s\n"
	    "Subject: Re: [PATCH] kvm: a fix\n\nReviewed-by: R <r@ex.org>\n", DEPTH, refs);
	m[DEPTH + 1] = parse_text(raw);
	for (int o = 0; o < 2; o++) {
		for (int i = 0; i < DEPTH + 2; i++)
			p[i] = o ? DEPTH + 1 - i : i;
		trailers_after(m, p, DEPTH + 2, "p@ex.org", "p@ex.org", t, s);
		assert_int_equal(t[0], 1);
		assert_int_equal(s[0], 1);
	}
	for (int i = 0; i < DEPTH + 2; i++)
		pd_msg_free(m[i]);
}

/*
 * A reply that arrives before the patch it answers (mail is not delivered
 * in order) waits for it: the patch's and the series' counts come out the
 * same in every order, also when the cover letter came first and held the
 * reply's trailers until the patch arrived.  Then a chain: an ack whose
 * References name only the review it answers, the review naming the patch.
 */
static void
test_trailers_any_order(void **state)
{
	static const char review[] = "From: R <r@ex.org>\n"
	    "Message-ID: <review@ex.org>\nIn-Reply-To: <patch-2-message@example.com>\n"
	    "References: <cover-message@example.com> <patch-2-message@example.com>\n"
	    "Subject: Re: [PATCH v2 2/2] Simple test 2\n\n> hunk\nA question.\n";
	static const char ack[] = "From: R <r@ex.org>\n"
	    "Message-ID: <ack@ex.org>\nIn-Reply-To: <review@ex.org>\n"
	    "References: <review@ex.org>\n"
	    "Subject: Re: [PATCH v2 2/2] Simple test 2\n\n"
	    "> a question\nFine then.\n\nAcked-by: R <r@ex.org>\n";
	static const char *const cover = "cover-message@example.com";
	static const char *const p2 = "patch-2-message@example.com";
	struct files f;
	pd_msg *m[5];
	int p[5] = { 0, 1, 2, 3, 4 }, orders = 0;
	unsigned t[3], s[3];

	(void)state;
	/* cover, patch 1, patch 2, a review of patch 2, one of the cover */
	prefix_files("b4", "trailers-followup-with-cover.mbox", 5, &f);
	for (int i = 0; i < 5; i++)
		m[i] = load(f.path[i]);
	do {
		trailers_after(m, p, 5, p2, cover, t, s);
		assert_int_equal(s[0], 2);
		assert_int_equal(s[1] + s[2], 0);
		assert_int_equal(t[0], 1);
		orders++;
	} while (next_perm(p, 5));
	assert_int_equal(orders, 120);
	for (int i = 0; i < 5; i++)
		pd_msg_free(m[i]);
	/* Without the cover letter, patch 2 gets the ack in each order. */
	m[0] = load(f.path[2]);
	m[1] = parse_text(review);
	m[2] = parse_text(ack);
	memcpy(p, (int[]){ 0, 1, 2 }, 3 * sizeof(int));
	do {
		trailers_after(m, p, 3, p2, cover, t, s);
		assert_int_equal(t[1], 1);
		assert_int_equal(s[1], 1);
		assert_int_equal(t[0] + t[2] + s[0] + s[2], 0);
	} while (next_perm(p, 3));
	for (int i = 0; i < 3; i++)
		pd_msg_free(m[i]);
	files_free(&f);
	deep_chain();
}

/* ---- ranges ---- */

struct render_arg {
	int calls;
	uint64_t msgs;
};

static int
count_msg(const struct pd_rec *rec, void *arg)
{
	(void)rec;
	(*(uint64_t *)arg)++;
	return 0;
}

static int
render(pd_store *st, const struct pd_range *r, char **text, char **html, void *arg)
{
	struct render_arg *ra = arg;
	struct pd_range open;

	ra->calls++;
	/* The store's reads see the closing transaction. */
	assert_int_equal(pd_store_range(st, NULL, &open), 0);
	assert_int_equal(open.no, r->no);
	ra->msgs = 0;
	assert_int_equal(pd_store_foreach_msg(st, r, count_msg, &ra->msgs), 0);
	assert_true(asprintf(text, "digest %llu from %s to %s\n",
	    (unsigned long long)r->no, r->from, r->to) > 0);
	*html = NULL;
	return 0;
}

struct view {
	char *p;
	size_t len;
	int fail;
};

static int
view_copy(const char *p, size_t len, void *arg)
{
	struct view *v = arg;

	if (v->fail)
		return PD_EIO;
	v->p = malloc(len + 1);
	assert_non_null(v->p);
	memcpy(v->p, p, len);
	v->len = len;
	return 0;
}

static void
test_ranges(void **state)
{
	struct files f;
	pd_store *st;
	struct pd_range closed, r;
	struct render_arg ra = { 0, 0 };
	struct pd_digest_rec d;
	struct pd_put_result res;
	uint64_t n;

	(void)state;
	prefix_files("patchwork/series", "revision-basic.mbox", 6, &f);
	st = open_store("db", 0, 0);
	assert_int_equal(pd_store_close_range(st, 0, NULL, render, &ra, &closed), PD_EEMPTY);
	assert_int_equal(ra.calls, 0);
	for (size_t i = 0; i < 3; i++)
		put_file(st, f.path[i], &res);
	assert_int_equal(pd_store_open_count(st, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pd_store_close_range(st, 0, NULL, render, &ra, &closed), 0);
	assert_int_equal(ra.calls, 1);
	assert_int_equal(ra.msgs, 3);
	assert_int_equal(closed.no, 1);
	assert_string_equal(closed.from, "000000000");
	assert_string_equal(closed.to, res.short_id);
	assert_false(closed.open);
	/* A second closer sees the fresh empty range. */
	assert_int_equal(pd_store_close_range(st, 0, NULL, render, &ra, NULL), PD_EEMPTY);
	for (size_t i = 3; i < 6; i++)
		put_file(st, f.path[i], NULL);
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(r.no, 2);
	assert_string_equal(r.from, closed.to);
	assert_int_equal(r.messages, 3);
	assert_int_equal(pd_store_open_count(st, &n), 0);
	assert_int_equal(n, 3);
	/* Counters are per range. */
	char *snap = snapshot(st, 0);
	assert_non_null(strstr(snap, "messages 3 patches 3"));
	free(snap);
	/* Digests: unsent until marked. */
	assert_int_equal(pd_store_unsent_digest(st, &d), 0);
	assert_int_equal(d.range_no, 1);
	assert_non_null(strstr(d.text, "digest 1 from 000000000"));
	assert_non_null(d.msgid);
	assert_true(strchr(d.msgid, '@') != NULL);
	pd_digest_rec_clear(&d);
	assert_int_equal(pd_store_mark_sent(st, 1, NULL), 0);
	assert_int_equal(pd_store_unsent_digest(st, &d), PD_ENOTFOUND);
	assert_int_equal(pd_store_digest_get(st, 1, &d), 0);
	assert_true(d.sent_at > 0);
	/* The same text in place; no HTML was rendered; no range 9. */
	struct view v = { NULL, 0, 0 };
	assert_int_equal(pd_store_digest_view(st, 1, 0, view_copy, &v), 0);
	assert_int_equal(v.len, strlen(d.text));
	assert_memory_equal(v.p, d.text, v.len);
	free(v.p);
	v.p = NULL;
	assert_int_equal(pd_store_digest_view(st, 1, 1, view_copy, &v), PD_ENOTFOUND);
	assert_int_equal(pd_store_digest_view(st, 9, 0, view_copy, &v), PD_ENOTFOUND);
	assert_null(v.p);
	v.fail = 1;	/* the callback's error is the result */
	assert_int_equal(pd_store_digest_view(st, 1, 0, view_copy, &v), PD_EIO);
	pd_digest_rec_clear(&d);
	/* Ranges by number and by "to" id. */
	assert_int_equal(pd_store_range(st, "1", &r), 0);
	assert_int_equal(r.no, 1);
	assert_int_equal(pd_store_range(st, closed.to, &r), 0);
	assert_int_equal(r.no, 1);
	assert_int_equal(pd_store_range(st, "9", &r), PD_ENOTFOUND);
	/* Forced close of the second, then the third is empty. */
	assert_int_equal(pd_store_close_range(st, 0, "lists.example.org", render, &ra,
	    &closed), 0);
	assert_int_equal(pd_store_close_range(st, 1, NULL, render, &ra, &closed), 0);
	assert_int_equal(closed.no, 3);
	assert_int_equal(ra.msgs, 0);
	/* The Message-ID's domain is the one given (DigestFrom's), else a host name. */
	assert_int_equal(pd_store_digest_get(st, 2, &d), 0);
	assert_int_equal(strncmp(d.msgid, "patchdigest-2-", 14), 0);
	assert_string_equal(strchr(d.msgid, '@'), "@lists.example.org");
	pd_digest_rec_clear(&d);
	assert_int_equal(pd_store_digest_get(st, 3, &d), 0);
	assert_non_null(strchr(strchr(d.msgid, '@'), '.'));
	assert_null(strstr(d.msgid, "lists.example.org"));
	pd_digest_rec_clear(&d);
	/* A range of replies alone is not closed but by force: they wait. */
	static const char reply[] = "From: A <a@ex.org>\nSubject: Re: [PATCH] x\n"
	    "Message-ID: <r1@ex.org>\nIn-Reply-To: <x@ex.org>\n\nok\n";
	struct pd_class cls;
	pd_msg *m;

	assert_int_equal(pd_msg_parse(reply, sizeof(reply) - 1, NULL, &m), 0);
	pd_classify(NULL, m, &cls);
	assert_int_equal(pd_store_put(st, m, &cls, &res), 0);
	pd_msg_free(m);
	assert_int_equal(pd_store_close_range(st, 0, NULL, render, &ra, &closed),
	    PD_EEMPTY);
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(r.no, 4);
	assert_int_equal(r.messages, 1);
	assert_int_equal(pd_store_close_range(st, 1, NULL, render, &ra, &closed), 0);
	assert_int_equal(closed.no, 4);
	assert_int_equal(ra.msgs, 1);
	pd_store_close(st);
	files_free(&f);
}

/* A tiny map grows by itself; past the limit, PD_EFULL and nothing torn. */
static void
test_map_growth(void **state)
{
	struct files f;
	pd_store *st;
	char *a, *b;

	(void)state;
	set_files("window_week-2022-11-28", &f);
	st = open_store("big", 0, 0);
	put_all(st, &f);
	a = snapshot(st, 1);
	pd_store_close(st);

	st = open_store("tiny", 32 * 1024, 256 << 20);
	put_all(st, &f);
	b = snapshot(st, 1);
	assert_string_equal(a, b);
	free(b);
	pd_store_close(st);
	/* Batched, from a tiny map again. */
	st = open_store("tinyb", 32 * 1024, 256 << 20);
	assert_int_equal(pd_store_begin(st), 0);
	put_all(st, &f);
	assert_int_equal(pd_store_commit(st), 0);
	b = snapshot(st, 1);
	assert_string_equal(a, b);
	free(b);
	pd_store_close(st);

	/*
	 * A limit below the initial size (MapSize default, MapSizeMax 256K)
	 * is kept: the store fills; with a larger limit the rest goes in.
	 */
	st = open_store("cap", 0, 256 * 1024);
	int crc = 0;
	size_t capped = 0;
	for (size_t i = 0; i < f.n && crc == 0; i++) {
		struct pd_put_result res;

		pd_msg *m = load(f.path[i]);
		struct pd_class cls;

		pd_classify(NULL, m, &cls);
		crc = pd_store_put(st, m, &cls, &res);
		capped += crc == 0;
		pd_msg_free(m);
	}
	assert_int_equal(crc, PD_EFULL);
	assert_true(capped > 0 && capped < f.n);
	pd_store_close(st);
	st = open_store("cap", 0, 256 * 1024);	/* reopened: still the limit */
	{
		struct pd_put_result res;
		pd_msg *m = load(f.path[capped]);
		struct pd_class cls;

		pd_classify(NULL, m, &cls);
		assert_int_equal(pd_store_put(st, m, &cls, &res), PD_EFULL);
		pd_msg_free(m);
	}
	pd_store_close(st);
	st = open_store("cap", 0, 0);
	put_all(st, &f);
	b = snapshot(st, 1);
	assert_string_equal(a, b);
	free(b);
	pd_store_close(st);
	/* A store grown large, reopened with a small limit, adopts no more. */
	st = open_store("big", 0, 256 * 1024);
	pd_store_close(st);
	free(a);

	/* The limit is reached: an error, and the range matches the records. */
	st = open_store("full", 32 * 1024, 128 * 1024);
	int rc = 0;
	size_t stored = 0;
	for (size_t i = 0; i < f.n && rc == 0; i++) {
		struct pd_class cls;
		struct pd_put_result res;
		pd_msg *m = load(f.path[i]);

		pd_classify(NULL, m, &cls);
		rc = pd_store_put(st, m, &cls, &res);
		stored += rc == 0 && !res.duplicate;
		pd_msg_free(m);
	}
	assert_int_equal(rc, PD_EFULL);
	struct pd_range r;
	uint64_t n = 0;
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(r.messages, stored);
	assert_int_equal(pd_store_foreach_msg(st, &r, count_msg, &n), 0);
	assert_int_equal(n, stored);
	pd_store_close(st);
	files_free(&f);
}

/* Several processes write the same mail at once: every message once. */
static void
test_concurrent(void **state)
{
	struct files f;
	pd_store *st;
	char *a, *b, dir[512];
	pid_t pids[4];

	(void)state;
	set_files("window_week-2022-11-28", &f);
	st = open_store("ref", 0, 0);
	put_all(st, &f);
	a = snapshot(st, 0);
	pd_store_close(st);
	snprintf(dir, sizeof(dir), "%s/conc", tmpdir);
	st = open_store("conc", 32 * 1024, 256 << 20);	/* children grow it */
	pd_store_close(st);
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			pd_store *cst;
			int ok = 1;

			shuffle(&f, (unsigned)i + 11);
			if (pd_store_open(dir, 0, 32 * 1024, 256 << 20, &cst) != 0)
				_exit(2);
			for (size_t j = 0; j < f.n && ok; j++) {
				struct pd_class cls;
				struct pd_put_result res;
				pd_msg *m = load(f.path[j]);

				pd_classify(NULL, m, &cls);
				ok = pd_store_put(cst, m, &cls, &res) == 0;
				pd_msg_free(m);
			}
			pd_store_close(cst);
			_exit(ok ? 0 : 1);
		}
	}
	for (int i = 0; i < 4; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	st = open_store("conc", 0, 0);
	b = snapshot(st, 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
	pd_store_close(st);
	files_free(&f);
}

/* ---- batches and threads ---- */

/* window_week and the two big threads, in corpus order (with duplicates). */
static void
mixed_files(struct files *f)
{
	static const char *const sets[] = { "window_week-2022-11-28",
	    "thread_v2-00-50-kvm-init-rework", "thread_v5-00-36-stage2-for-host" };
	struct files one;

	f->n = 0;
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		set_files(sets[i], &one);
		for (size_t j = 0; j < one.n; j++) {
			assert_true(f->n < MAXFILES * 2);
			f->path[f->n++] = one.path[j];
		}
		one.n = 0;
	}
}

/* Every stored field but the arrival time, as text. */
static int
dump_rec(const struct pd_rec *r, void *arg)
{
	FILE *fp = arg;

	fprintf(fp, "seq %llu date %lld kind %d v%d %d/%d flags %u r%u a%u t%u\n"
	    "id %s\nshort %s\nsubject %s\ntitle %s\nauthor %s\nfrom %s\n"
	    "domain %s\nseries %s\nsubsystem %s\nproject %s\nirt %s\ntags %s\n"
	    "lists %s\nexcerpt %zu %s\n",
	    (unsigned long long)r->seq, (long long)r->date, r->kind, r->version,
	    r->cx, r->cn, r->flags, r->reviewed, r->acked, r->tested, r->msgid,
	    r->short_id, r->subject, r->title, r->author, r->from, r->domain,
	    r->series, r->subsystem, r->project, r->in_reply_to, r->tags,
	    r->list_ids, strlen(r->excerpt), r->excerpt);
	return 0;
}

static int
dump_series_of(const struct pd_rec *r, void *arg)
{
	pd_store *st = ((void **)arg)[0];
	FILE *fp = ((void **)arg)[1];
	struct pd_series s;

	if (*r->series == '\0')
		return 0;
	assert_int_equal(pd_store_series_get(st, r->series, &s), 0);
	fprintf(fp, "series %s\nsubject %s\ntitle %s\nauthor %s\nsubsystem %s\n"
	    "project %s\nv%d total %d received %u cover %d r%u a%u t%u\n"
	    "supersedes %s v%d first %llu\n", s.id, s.subject, s.title, s.author,
	    s.subsystem, s.project, s.version, s.total, s.received, s.has_cover,
	    s.reviewed, s.acked, s.tested, s.supersedes ? s.supersedes : "-",
	    s.supersedes_version, (unsigned long long)s.first_seq);
	pd_series_clear(&s);
	return 0;
}

/* Every record (by Message-ID), every series, the counters: as text. */
static char *
dump_store(pd_store *st, const struct files *f)
{
	char *buf = NULL, *snap;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct pd_range r;
	void *arg[2] = { st, fp };

	assert_non_null(fp);
	for (size_t i = 0; i < f->n; i++) {
		char *id = msgid_of(f->path[i]);

		assert_int_equal(pd_store_get_msg(st, id, dump_rec, fp), 0);
		assert_int_equal(pd_store_get_msg(st, id, dump_series_of, arg), 0);
		free(id);
	}
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(pd_store_foreach_msg(st, &r, dump_rec, fp), 0);
	snap = snapshot(st, 1);
	fputs(snap, fp);
	free(snap);
	fclose(fp);
	return buf;
}

/*
 * One big batch (one transaction, or many as a tiny map grows) stores
 * exactly what one durable transaction per message stores: records decoded
 * inside the transaction stay intact across its later writes.  Read inside
 * the batch, and again after the commit.
 */
static void
test_batch_records(void **state)
{
	static const size_t maps[] = { 0, 32 * 1024 };
	struct files f;
	pd_store *st;
	char *want, *got;

	(void)state;
	mixed_files(&f);
	st = open_store("durable", 0, 0);
	put_all(st, &f);
	want = dump_store(st, &f);
	pd_store_close(st);
	assert_non_null(strstr(want, "Fixes for FWB"));
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		char sub[32];

		snprintf(sub, sizeof(sub), "batch%zu", i);
		st = open_store(sub, maps[i], 256 << 20);
		assert_int_equal(pd_store_begin(st), 0);
		assert_int_equal(pd_store_begin(st), PD_EINVAL);
		put_all(st, &f);
		got = dump_store(st, &f);
		assert_string_equal(got, want);
		free(got);
		assert_int_equal(pd_store_commit(st), 0);
		assert_int_equal(pd_store_commit(st), PD_EINVAL);
		pd_store_close(st);
		st = open_store(sub, 0, 0);
		got = dump_store(st, &f);
		assert_string_equal(got, want);
		free(got);
		pd_store_close(st);
	}
	free(want);
	files_free(&f);
}

struct worker {
	pd_store *st;
	pd_msg **msgs;
	struct pd_class *cls;
	size_t n;
	unsigned seed;
	int batch;		/* commit every that many puts; 0: no batch */
	uint64_t stored;	/* puts that were not duplicates */
	int err;		/* first failure, as a line number */
	char why[128];
};

static int
seen_rec(const struct pd_rec *r, void *arg)
{
	return strcmp(r->msgid, arg) == 0 ? 0 : PD_ECORRUPT;
}

#define W_CHECK(w, cond) do {						\
	if (!(cond) && !(w)->err) {					\
		(w)->err = __LINE__;					\
		snprintf((w)->why, sizeof((w)->why), "%s", #cond);	\
	}								\
} while (0)

/* Puts every message in its own order, reading back as it goes. */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	size_t *order = calloc(w->n, sizeof(*order));
	unsigned seed = w->seed;
	int rc;

	W_CHECK(w, order != NULL);
	for (size_t i = 0; order && i < w->n; i++)
		order[i] = i;
	for (size_t i = w->n; order && i > 1; i--) {
		size_t j = (size_t)rand_r(&seed) % i, t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; order && i < w->n && !w->err; i++) {
		const pd_msg *m = w->msgs[order[i]];
		struct pd_put_result res;
		struct pd_range r;

		if (w->batch && i % (size_t)w->batch == 0)
			W_CHECK(w, pd_store_begin(w->st) == 0);
		rc = pd_store_put(w->st, m, &w->cls[order[i]], &res);
		if (rc != 0 && !w->err)
			fprintf(stderr, "put: %s\n", pd_strerror(rc));
		W_CHECK(w, rc == 0);
		w->stored += rc == 0 && !res.duplicate;
		W_CHECK(w, pd_store_get_msg(w->st, pd_msg_id(m), seen_rec,
		    (void *)pd_msg_id(m)) == 0);
		W_CHECK(w, pd_store_range(w->st, NULL, &r) == 0 && r.messages >= 1);
		if (w->batch && (i % (size_t)w->batch == (size_t)w->batch - 1 ||
		    i == w->n - 1))
			W_CHECK(w, pd_store_commit(w->st) == 0);
	}
	free(order);
	return NULL;
}

/*
 * Threads share one pd_store (the milter's case): each puts every message,
 * one of them in batches, while a tiny map grows under them.  Every
 * message is counted exactly once and the counters equal one sequential
 * import's.
 */
static void
test_threads(void **state)
{
	enum { NTHREADS = 6 };
	struct files f;
	pd_store *st;
	pd_msg *msgs[MAXFILES * 2];
	struct pd_class cls[MAXFILES * 2];
	struct worker w[NTHREADS];
	pthread_t tid[NTHREADS];
	size_t n = 0;
	uint64_t stored = 0, listed = 0;
	struct pd_range r;
	char *want, *got;

	(void)state;
	mixed_files(&f);
	for (size_t i = 0; i < f.n; i++) {
		msgs[n] = load(f.path[i]);
		pd_classify(NULL, msgs[n], &cls[n]);
		n++;
	}
	st = open_store("ref", 0, 0);
	put_all(st, &f);
	want = snapshot(st, 1);
	pd_store_close(st);

	st = open_store("shared", 32 * 1024, 256 << 20);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ st, msgs, cls, n, (unsigned)i + 101,
		    i == 0 ? 16 : 0, 0, 0, "" };
		assert_int_equal(pthread_create(&tid[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		if (w[i].err)
			print_error("thread %d: line %d: %s\n", i, w[i].err, w[i].why);
		assert_int_equal(w[i].err, 0);
		stored += w[i].stored;
	}
	got = snapshot(st, 1);
	assert_string_equal(got, want);
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(stored, r.messages);
	assert_int_equal(pd_store_foreach_msg(st, &r, count_msg, &listed), 0);
	assert_int_equal(listed, r.messages);
	assert_int_equal(r.last_seq - r.first_seq + 1, r.messages);
	free(got);
	free(want);
	pd_store_close(st);
	for (size_t i = 0; i < n; i++)
		pd_msg_free(msgs[i]);
	files_free(&f);
}

static void
test_ingest(void **state)
{
	struct files f;
	pd_store *st;
	struct pd_ingest res;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp, *mem;
	int c;

	(void)state;
	prefix_files("patchwork/series", "base-cover-letter.mbox", 3, &f);
	fp = fopen(f.path[1], "rb");
	assert_non_null(fp);
	mem = open_memstream(&buf, &len);
	while ((c = fgetc(fp)) != EOF)
		fputc(c, mem);
	fclose(fp);
	fclose(mem);
	/* Dry run: the series is guessed from threading, as the store gives it. */
	assert_int_equal(pd_ingest(NULL, NULL, buf, len, NULL, &res), 0);
	assert_true(res.parsed);
	assert_false(res.stored);
	assert_int_equal(res.kind, PD_KIND_PATCH);
	assert_int_equal(res.put.cx, 1);
	assert_int_equal(res.put.cn, 2);
	char *cover = msgid_of(f.path[0]);
	assert_string_equal(res.put.series, cover);	/* 1/N replying to its cover */
	st = open_store("db", 0, 0);
	put_file(st, f.path[0], NULL);
	assert_int_equal(pd_ingest(st, NULL, buf, len, NULL, &res), 0);
	assert_true(res.stored);
	assert_false(res.duplicate);
	assert_string_equal(res.put.series, cover);
	assert_int_equal(pd_ingest(st, NULL, buf, len, NULL, &res), 0);
	assert_true(res.duplicate);
	assert_int_equal(pd_ingest(st, NULL, "", 0, NULL, &res), PD_EPARSE);
	assert_false(res.parsed);
	free(cover);
	free(buf);
	pd_store_close(st);
	files_free(&f);
}

/* ---- arrival order of an archive's messages ---- */

#define ARCH_MSGS	1000

struct arch {
	pd_msg *m[ARCH_MSGS];
	size_t n;
};

/* The first ARCH_MSGS parseable messages of the kvmarm archive. */
static void
arch_load(struct arch *a)
{
	char cmd[1024];
	const char *buf;
	size_t len;
	pd_mbox *mb;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "xz -dc '%s/corpus/archives/kvmarm-2019-2023.mbox.xz'",
	    shared());
	fp = popen(cmd, "r");
	assert_non_null(fp);
	assert_int_equal(pd_mbox_new(fp, &mb), 0);
	a->n = 0;
	while (a->n < ARCH_MSGS && pd_mbox_next(mb, &buf, &len) == 1)
		if (pd_msg_parse(buf, len, NULL, &a->m[a->n]) == 0)
			a->n++;
	pd_mbox_free(mb);
	pclose(fp);	/* xz may die of SIGPIPE: only what was read matters */
	assert_int_equal(a->n, ARCH_MSGS);
}

/* Import a->m in the order ord; sid[i] = series id of a->m[i]. */
static pd_store *
arch_import(const struct arch *a, const size_t *ord, const char *sub, char **sid)
{
	pd_store *st = open_store(sub, 0, 0);

	for (size_t i = 0; i < a->n; i++) {
		struct pd_put_result res;
		struct pd_class cls;
		const pd_msg *m = a->m[ord[i]];

		pd_classify(NULL, m, &cls);
		assert_int_equal(pd_store_put(st, m, &cls, &res), 0);
		sid[ord[i]] = strdup(res.series);
		assert_non_null(sid[ord[i]]);
	}
	return st;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct series_counts {
	uint64_t v[ARCH_MSGS];
	size_t n;
};

static int
series_count_one(const char *name, uint64_t count, void *arg)
{
	struct series_counts *c = arg;

	(void)name;
	assert_true(c->n < ARCH_MSGS);
	c->v[c->n++] = count;
	return 0;
}

/* The series counters' values, sorted: names depend on what came first. */
static void
series_counts(pd_store *st, struct series_counts *c)
{
	struct pd_range r;

	c->n = 0;
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(pd_store_foreach_count(st, &r, PD_COUNT_SERIES,
	    series_count_one, c), 0);
	qsort(c->v, c->n, sizeof(c->v[0]), cmp_u64);
}

/* Trailer counts of each message's series (0 for no series), summed in tot. */
static void
series_trailers(pd_store *st, const struct arch *a, char **sid,
    unsigned tr[][3], unsigned tot[3])
{
	struct pd_series s;

	memset(tot, 0, 3 * sizeof(tot[0]));
	for (size_t i = 0; i < a->n; i++) {
		memset(tr[i], 0, sizeof(tr[i]));
		if (*sid[i] == '\0')
			continue;
		assert_int_equal(pd_store_series_get(st, sid[i], &s), 0);
		tr[i][0] = s.reviewed;
		tr[i][1] = s.acked;
		tr[i][2] = s.tested;
		for (int j = 0; j < 3; j++)
			tot[j] += tr[i][j];
		pd_series_clear(&s);
	}
}

/*
 * Patches replying to a non-part ([GIT PULL], discussion) arriving before
 * or after it: archive order, reversed and shuffled give the same series
 * (same partition of the messages, same counters), and a series named
 * after a cover letter has that name in every order.  Reviews arriving
 * before their patches (reversed) count as in archive order.
 */
static void
test_archive_order(void **state)
{
	static struct arch a;
	size_t ord[3][ARCH_MSGS];
	char *sid[3][ARCH_MSGS];
	struct series_counts c[3];
	static unsigned tr[3][ARCH_MSGS][3];
	unsigned tot[3][3];
	const char *subs[3] = { "fwd", "rev", "shuf" };
	int nameless = 0;

	(void)state;
	arch_load(&a);
	for (size_t i = 0; i < a.n; i++) {
		ord[0][i] = i;
		ord[1][i] = a.n - 1 - i;
		ord[2][i] = i;
	}
	srand(4242);
	for (size_t i = a.n; i > 1; i--) {
		size_t j = (size_t)rand() % i, t = ord[2][i - 1];

		ord[2][i - 1] = ord[2][j];
		ord[2][j] = t;
	}
	for (int o = 0; o < 3; o++) {
		pd_store *st = arch_import(&a, ord[o], subs[o], sid[o]);

		series_counts(st, &c[o]);
		series_trailers(st, &a, sid[o], tr[o], tot[o]);
		pd_store_close(st);
	}
	print_message("trailers in archive order: %u reviewed, %u acked, %u tested\n",
	    tot[0][0], tot[0][1], tot[0][2]);
	assert_true(tot[0][0] >= 10 && tot[0][1] >= 3);
	/* Not trivially equal: there are many series, some of many parts. */
	assert_true(c[0].n >= 10);
	assert_true(c[0].v[c[0].n - 1] >= 3);
	for (int o = 1; o < 3; o++) {
		print_message("%s: %zu series, forward %zu\n", subs[o], c[o].n, c[0].n);
		assert_int_equal(c[o].n, c[0].n);
		assert_memory_equal(c[o].v, c[0].v, c[0].n * sizeof(c[0].v[0]));
		assert_memory_equal(tr[o], tr[0], a.n * sizeof(tr[0][0]));
		for (size_t i = 0; i < a.n; i++) {
			for (size_t j = 0; j < i; j++)
				assert_int_equal(strcmp(sid[0][i], sid[0][j]) == 0,
				    strcmp(sid[o][i], sid[o][j]) == 0);
			if (pd_msg_kind(a.m[i]) == PD_KIND_COVER &&
			    pd_msg_is_patch(a.m[i]))
				assert_string_equal(sid[o][i], pd_msg_id(a.m[i]));
			for (size_t j = 0; j < a.n; j++)
				if (pd_msg_kind(a.m[j]) == PD_KIND_COVER &&
				    strcmp(sid[0][i], pd_msg_id(a.m[j])) == 0)
					assert_string_equal(sid[o][i], sid[0][i]);
		}
	}
	for (size_t i = 0; i < a.n; i++) {
		nameless += *sid[0][i] == '\0';
		for (int o = 0; o < 3; o++)
			free(sid[o][i]);
		pd_msg_free(a.m[i]);
	}
	assert_true(nameless > 0 && nameless < (int)a.n);	/* replies and patches */
}

/* The store in dir as LMDB itself opens it, for damage and old layouts. */
static MDB_env *
raw_env(const char *dir, unsigned flags)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, dir, flags, 0600), 0);
	return env;
}

/*
 * The number of the leaf page holding the first key of database name: LMDB
 * keeps keys in their leaf, and a page starts with its own number.
 */
static size_t
leaf_of_first(const char *dir, const char *name, size_t *psize)
{
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_stat ms;
	uint64_t pgno;

	env = raw_env(dir, MDB_RDONLY);
	assert_int_equal(mdb_env_stat(env, &ms), 0);
	*psize = ms.ms_psize;
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &t), 0);
	assert_int_equal(mdb_dbi_open(t, name, 0, &dbi), 0);
	assert_int_equal(mdb_stat(t, dbi, &ms), 0);
	assert_int_equal(ms.ms_depth, 1);	/* the root is that leaf */
	assert_int_equal(mdb_cursor_open(t, dbi, &c), 0);
	assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0);
	memcpy(&pgno, (const char *)((uintptr_t)k.mv_data & ~(uintptr_t)(*psize - 1)),
	    sizeof(pgno));
	mdb_cursor_close(c);
	mdb_txn_abort(t);
	mdb_env_close(env);
	return (size_t)pgno;
}

/*
 * pd_store_check reads what opening the store does not: a zeroed leaf of
 * the messages database leaves pd_store_open content, the check does not.
 */
static void
test_check(void **state)
{
	char dir[512], path[600], missing[600];
	static char zero[65536];
	struct files f;
	pd_store *st;
	size_t pgno, psize;
	int fd;

	(void)state;
	assert_int_equal(pd_store_check(NULL), PD_EINVAL);
	assert_int_equal(pd_store_check(""), PD_EINVAL);
	snprintf(missing, sizeof(missing), "%s/missing", tmpdir);
	assert_int_equal(pd_store_check(missing), 0);
	/* unstarted: a directory, but no store in it yet */
	assert_int_equal(pd_store_unstarted(NULL), 0);
	assert_int_equal(pd_store_unstarted(missing), 0);
	assert_int_equal(mkdir(missing, 0700), 0);
	assert_int_equal(pd_store_unstarted(missing), 1);
	assert_int_equal(rmdir(missing), 0);

	prefix_files("b4", "shazam-git1-just-series.mbox", 1, &f);
	st = open_store("check", 0, 0);
	put_all(st, &f);
	pd_store_close(st);
	files_free(&f);
	snprintf(dir, sizeof(dir), "%s/check", tmpdir);
	assert_int_equal(pd_store_check(dir), 0);
	assert_int_equal(pd_store_unstarted(dir), 0);
	assert_int_equal(pd_store_open(dir, PD_STORE_RDONLY | PD_STORE_CHECK, 0, 0, &st), 0);
	pd_store_close(st);

	pgno = leaf_of_first(dir, "messages", &psize);
	assert_true(pgno > 1 && psize <= sizeof(zero));
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, zero, psize, (off_t)(pgno * psize)),
	    (ssize_t)psize);
	assert_int_equal(close(fd), 0);

	assert_int_equal(pd_store_open(dir, PD_STORE_RDONLY, 0, 0, &st), 0);
	pd_store_close(st);
	assert_int_equal(pd_store_check(dir), PD_ECORRUPT);
	/* PD_STORE_CHECK: the open itself says so */
	assert_int_equal(pd_store_open(dir, PD_STORE_RDONLY | PD_STORE_CHECK, 0, 0, &st),
	    PD_ECORRUPT);
	assert_null(st);
}

static int
excerpt_of(const struct pd_rec *r, void *arg)
{
	*(char **)arg = strdup(r->excerpt);
	return 0;
}

/* Store a cover letter of body text; its stored excerpt (free it). */
static char *
stored_excerpt(pd_store *st, const char *id, const char *text, pd_msg **m)
{
	char *raw, *got;
	struct pd_class cls;

	assert_true(asprintf(&raw, "From: A <a@ex.org>\nMessage-ID: <%s>\n"
	    "Subject: [PATCH 0/2] MAINTAINERS: a cover letter\n\n%s", id, text) > 0);
	*m = parse_text(raw);
	free(raw);
	pd_classify(NULL, *m, &cls);
	assert_int_equal(pd_store_put(st, *m, &cls, NULL), 0);
	assert_int_equal(pd_store_get_msg(st, id, excerpt_of, &got), 0);
	return got;
}

/*
 * A cover letter longer than the store keeps (a MAINTAINERS rework): its
 * excerpt is cut after a whole line, or inside one long line, and says
 * so; a short one is kept whole.
 */
static void
test_long_excerpt(void **state)
{
	GString *text = g_string_new(NULL);
	pd_store *st;
	pd_msg *m;
	char *got;
	size_t n;

	(void)state;
	st = open_store("long", 0, 0);
	got = stored_excerpt(st, "short@ex.org", "Two fixes.\n\nA (2):\n  x\n", &m);
	assert_string_equal(got, pd_msg_excerpt(m));
	free(got);
	pd_msg_free(m);
	for (int i = 0; i < 1200; i++)	/* 40 KB, within the parser's 64 KiB */
		g_string_append_printf(text, "Section %04d: its falls back to THE REST\n\n", i);
	got = stored_excerpt(st, "long@ex.org", text->str, &m);
	n = strlen(got);
	assert_true(n <= 16 * 1024 && n > 15 * 1024);
	assert_string_equal(got + n - 6, "\n[...]");
	/* the text up to the end of one of its lines, no blank line kept */
	assert_memory_equal(got, pd_msg_excerpt(m), n - 6);
	assert_memory_equal(got + n - 6 - 22, "falls back to THE REST", 22);
	free(got);
	pd_msg_free(m);
	g_string_assign(text, "Intro\n");
	for (int i = 0; i < 3000; i++)
		g_string_append(text, "x86/kvm ");
	got = stored_excerpt(st, "line@ex.org", text->str, &m);
	n = strlen(got);
	assert_true(n <= 16 * 1024 && n > 15 * 1024);
	assert_string_equal(got + n - 6, "\n[...]");
	assert_memory_equal(got, pd_msg_excerpt(m), n - 6);
	free(got);
	pd_msg_free(m);
	pd_store_close(st);
	g_string_free(text, TRUE);
}

/*
 * A store written before the waiting database existed: read-only opens
 * and the check do without it; the first writer adds it, and a reply
 * stored before its patch then waits for it there.
 */
static void
test_store_before_waiting(void **state)
{
	char dir[512];
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	pd_store *st;
	struct pd_range r;
	struct files f;
	unsigned tr[3];

	(void)state;
	pd_store_close(open_store("old", 0, 0));
	snprintf(dir, sizeof(dir), "%s/old", tmpdir);
	env = raw_env(dir, 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "waiting", 0, &dbi), 0);
	assert_int_equal(mdb_drop(t, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(t), 0);
	mdb_env_close(env);
	assert_int_equal(pd_store_open(dir, PD_STORE_RDONLY | PD_STORE_CHECK, 0, 0, &st), 0);
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(r.no, 1);
	pd_store_close(st);
	prefix_files("b4", "trailers-followup-with-cover.mbox", 5, &f);
	st = open_store("old", 0, 0);
	put_file(st, f.path[3], NULL);	/* the review of patch 2, first */
	put_file(st, f.path[2], NULL);
	assert_int_equal(pd_store_get_msg(st, "patch-2-message@example.com",
	    trailers_of, tr), 0);
	assert_int_equal(tr[0], 1);
	pd_store_close(st);
	assert_int_equal(pd_store_check(dir), 0);
	files_free(&f);
}

/* Put key (klen bytes) -> value into the database name. */
static void
raw_put(MDB_txn *t, const char *name, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };

	assert_int_equal(mdb_dbi_open(t, name, 0, &dbi), 0);
	assert_int_equal(mdb_put(t, dbi, &k, &v, 0), 0);
}

/* Append a varint, zig-zag for a signed value, or a string with its NUL. */
static size_t
enc(unsigned char *b, size_t n, long long v, const char *str)
{
	unsigned long long u = str ? strlen(str) : ((unsigned long long)v << 1) ^ (unsigned long long)(v >> 63);

	do {
		b[n++] = (u & 0x7f) | (u > 0x7f ? 0x80 : 0);
		u >>= 7;
	} while (u);
	if (str) {
		memcpy(b + n, str, strlen(str) + 1);
		n += strlen(str) + 1;
	}
	return n;
}

/*
 * A version 1 store's waiting record for reply (Reviewed-by, Acked-by,
 * Tested-by counts, no people), credited so far to credited, waiting for
 * ids.
 */
static void
old_wait(MDB_txn *t, const char *reply, int rv, int ak, int ts,
    const char *credited, const char *const *ids, size_t n)
{
	unsigned char rec[1024], key[512];
	size_t len = 0, klen;

	len = enc(rec, enc(rec, enc(rec, len, rv, NULL), ak, NULL), ts, NULL);
	len = enc(rec, len, 0, credited);
	for (size_t i = 0; i < n; i++) {
		len = enc(rec, len, 0, ids[i]);
		klen = (size_t)snprintf((char *)key, sizeof(key), "a%s", ids[i]) + 1;
		memcpy(key + klen, reply, strlen(reply) + 1);
		raw_put(t, "waiting", key, klen + strlen(reply) + 1, "", 0);
	}
	klen = (size_t)snprintf((char *)key, sizeof(key), "r%s", reply) + 1;
	raw_put(t, "waiting", key, klen, rec, len);
}

/* Set the store's schema version. */
static void
set_version(MDB_txn *t, unsigned char v)
{
	unsigned char b[4] = { 0, 0, 0, v };

	raw_put(t, "meta", "version", 7, b, 4);
}

/*
 * A version 1 store: no credits database, waiting records with counts
 * and no people.  A writer makes it version 2, which an older program no
 * longer takes; the counts of its waiting replies move and settle as they
 * did (one credited to the cover moves to its patch; 300 lines, as the
 * old counts had no bound, stay waiting for a nearer message and settle).
 */
static void
test_store_before_credits(void **state)
{
	static const char p1[] = "patch-1-message@example.com";
	static const char cover[] = "cover-message@example.com";
	static const char *const r1_waits[] = { p1 }, *old_waits[] = { "missing@ex.org", p1 };
	char dir[512];
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	MDB_val k = { 7, "version" }, v;
	pd_store *st;
	struct pd_range r;
	struct files f;

	(void)state;
	prefix_files("b4", "trailers-followup-with-cover.mbox", 5, &f);
	st = open_store("old", 0, 0);
	put_file(st, f.path[0], NULL);
	put_reply(st, "r1@ex.org", "R <r@ex.org>", "Reviewed-by: R <r@ex.org>\n");
	assert_counts(st, NULL, cover, 0, 0, 0, 1);
	pd_store_close(st);
	snprintf(dir, sizeof(dir), "%s/old", tmpdir);
	env = raw_env(dir, 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "credits", 0, &dbi), 0);
	assert_int_equal(mdb_drop(t, dbi, 1), 0);
	old_wait(t, "r1@ex.org", 1, 0, 0, cover, r1_waits, 1);
	old_wait(t, "old@ex.org", 300, 0, 1, "", old_waits, 2);
	set_version(t, 1);
	assert_int_equal(mdb_txn_commit(t), 0);
	mdb_env_close(env);	/* one environment per file in a process */
	assert_int_equal(pd_store_open(dir, PD_STORE_RDONLY | PD_STORE_CHECK, 0, 0, &st), 0);
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	pd_store_close(st);
	st = open_store("old", 0, 0);
	put_file(st, f.path[1], NULL);
	assert_counts(st, p1, cover, 301, 0, 1, 301);
	put_raw(st, "From: M <m@ex.org>\nMessage-ID: <missing@ex.org>\n"
	    "In-Reply-To: <patch-1-message@example.com>\n"
	    "Subject: Re: [PATCH v2 1/2] Simple test 1\n\nA question.\n");
	assert_counts(st, p1, cover, 301, 0, 1, 301);
	pd_store_close(st);
	assert_int_equal(pd_store_check(dir), 0);
	env = raw_env(dir, 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_get(t, dbi, &k, &v), 0);
	assert_int_equal(((unsigned char *)v.mv_data)[3], 2);
	set_version(t, 3);
	assert_int_equal(mdb_txn_commit(t), 0);
	mdb_env_close(env);
	assert_int_equal(pd_store_open(dir, PD_STORE_RDONLY, 0, 0, &st), PD_EVERSION);
	assert_int_equal(pd_store_open(dir, 0, 0, 0, &st), PD_EVERSION);
	files_free(&f);
}

/*
 * A new version's title matches the old one's whatever the case of its
 * letters ("[RFC PATCH] arm64: unify", "[PATCH v2] arm64: Unify": the
 * kvmarm archive), also where the store keeps the old one under the key
 * of stores written before, which kept the title as it was.
 */
static void
test_versions_case(void **state)
{
	char dir[512], oldkey[64];
	pd_store *st;
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	MDB_val k, v;

	(void)state;
	st = open_store("case", 0, 0);
	put_rawf(st, "From: A <a@ex.org>\nSubject: [RFC PATCH] arm64: unify AT\n"
	    "Message-ID: <c1@ex.org>\nDate: 9 Dec 2025 10:00:00 +0000\n\nA.\n");
	put_rawf(st, "From: A <a@ex.org>\nSubject: [PATCH v2] arm64: Unify AT\n"
	    "Message-ID: <c2@ex.org>\nDate: 10 Dec 2025 10:00:00 +0000\n\nA.\n");
	expect_supersedes(st, "c2@ex.org", "c1@ex.org", 1);
	put_rawf(st, "From: A <a@ex.org>\nSubject: [PATCH] KVM: Old Way\n"
	    "Message-ID: <o1@ex.org>\nDate: 9 Dec 2025 11:00:00 +0000\n\nA.\n");
	pd_store_close(st);

	/* v1 as an older patchdigest keyed it */
	snprintf(dir, sizeof(dir), "%s/case", tmpdir);
	env = raw_env(dir, 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "versions", 0, &dbi), 0);
	k.mv_data = (void *)"ia@ex.org\0kvm: old way";
	k.mv_size = 22;
	assert_int_equal(mdb_get(t, dbi, &k, &v), 0);
	/* as it was, with a blank run folding left */
	memcpy(oldkey, "ta@ex.org\0KVM:  Old Way", 23);
	raw_put(t, "versions", oldkey, 23, v.mv_data, v.mv_size);
	assert_int_equal(mdb_del(t, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(t), 0);
	mdb_env_close(env);

	st = open_store("case", 0, 0);
	put_rawf(st, "From: A <a@ex.org>\nSubject: [PATCH v2] KVM: old way\n"
	    "Message-ID: <o2@ex.org>\nDate: 10 Dec 2025 11:00:00 +0000\n\nA.\n");
	expect_supersedes(st, "o2@ex.org", "o1@ex.org", 1);
	pd_store_close(st);
}

/*
 * A series record keeps its parts' subsystems only when it has kept them
 * from its first message: one written before (no tail) would otherwise
 * hold the later parts' alone, and a digest of its replies would file the
 * series by them.
 */
static void
test_series_subs_old_record(void **state)
{
	char dir[512];
	struct pd_series s;
	unsigned char *copy;
	size_t tail;
	pd_store *st;
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	MDB_val k = { 10, "s1-1@ex.org" }, v;

	(void)state;
	st = open_store("subs", 0, 0);
	put_rawf(st, "From: A <a@ex.org>\nSubject: [PATCH 1/3] KVM: x86: one\n"
	    "Message-ID: <s1-1@ex.org>\nDate: 9 Dec 2025 10:00:00 +0000\n\nA.\n");
	assert_int_equal(pd_store_series_get(st, "s1-1@ex.org", &s), 0);
	assert_int_equal(s.nsubs, 1);
	/* count, the name (length, bytes, NUL), n, patches, part 1 */
	tail = 6 + strlen(s.subs[0].name);
	pd_series_clear(&s);
	pd_store_close(st);

	snprintf(dir, sizeof(dir), "%s/subs", tmpdir);
	env = raw_env(dir, 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "series", 0, &dbi), 0);
	k.mv_size = sizeof("s1-1@ex.org");
	assert_int_equal(mdb_get(t, dbi, &k, &v), 0);
	assert_true(v.mv_size > tail);
	assert_non_null(copy = malloc(v.mv_size));
	memcpy(copy, v.mv_data, v.mv_size);
	raw_put(t, "series", k.mv_data, k.mv_size, copy, v.mv_size - tail);
	free(copy);
	assert_int_equal(mdb_txn_commit(t), 0);
	mdb_env_close(env);

	st = open_store("subs", 0, 0);
	assert_int_equal(pd_store_series_get(st, "s1-1@ex.org", &s), 0);
	assert_int_equal(s.nsubs, 0);
	pd_series_clear(&s);
	for (int i = 2; i <= 3; i++)
		put_rawf(st, "From: A <a@ex.org>\nSubject: [PATCH %d/3] KVM: arm64: x\n"
		    "Message-ID: <s1-%d@ex.org>\nIn-Reply-To: <s1-1@ex.org>\n"
		    "Date: 9 Dec 2025 10:00:0%d +0000\n\nA.\n", i, i, i);
	assert_int_equal(pd_store_series_get(st, "s1-1@ex.org", &s), 0);
	assert_int_equal(s.received, 3);
	assert_int_equal(s.nsubs, 0);
	pd_series_clear(&s);
	pd_store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reimport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_post, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_match_parser, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shuffled_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_series_in_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_series_in_reply_to_series, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_series_git_roots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resend_in_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixes_to_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_cover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_ids, setup, teardown),
		cmocka_unit_test(test_series_guess),
		cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions_latest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions_any_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_trailers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_own_trailers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_person_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailers_any_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_before_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_before_credits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_excerpt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_series_subs_old_record, setup, teardown),
	};
	int rc;

	pd_msg_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	pd_msg_shutdown();
	return rc;
}
