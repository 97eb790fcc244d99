/*
 * Digest rendering: the tie order of the Top-15 lists against every seed
 * (real `sort | uniq -c | sort -rn` output), and the renderer against a real
 * store filled by the real parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "patchdigest/classify.h"
#include "patchdigest/digest.h"
#include "patchdigest/error.h"
#include "patchdigest/ingest.h"
#include "patchdigest/mbox.h"
#include "patchdigest/send.h"

struct line {
	long count;
	char *value;
};

static int
linecmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return pd_digest_tiecmp(x->value, y->value);
}

/* xorshift: a fixed, portable shuffle. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Shuffle a seed's section, sort it with the comparator, expect the seed's order. */
static int
check_section(const char *path, const char *heading, struct line *l, size_t n)
{
	struct line *copy = calloc(n ? n : 1, sizeof(*copy));
	uint32_t state = 2463534242u;
	int bad = 0;

	assert_non_null(copy);
	for (int round = 0; round < 20 && !bad; round++) {
		memcpy(copy, l, n * sizeof(*l));
		for (size_t i = n; i > 1; i--) {
			size_t j = rnd(&state) % i;
			struct line t = copy[i - 1];

			copy[i - 1] = copy[j];
			copy[j] = t;
		}
		qsort(copy, n, sizeof(*copy), linecmp);
		for (size_t i = 0; i < n; i++)
			if (strcmp(copy[i].value, l[i].value) != 0) {
				fprintf(stderr, "%s: %s: position %zu: got %s, seed has %s\n",
				    path, heading, i + 1, copy[i].value, l[i].value);
				bad = 1;
				break;
			}
	}
	free(copy);
	return bad;
}

/* Read the two Top-15 sections of one seed and check each. */
static int
check_seed(const char *path, size_t *nties)
{
	FILE *f = fopen(path, "r");
	char buf[1024], heading[1024] = "";
	struct line l[32];
	size_t n = 0;
	int bad = 0, in = 0;

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *nl = strchr(buf, '\n'), *v;
		long c;

		if (nl)
			*nl = '\0';
		if (strncmp(buf, "Top 15 ", 7) == 0) {
			in = 1;
			n = 0;
			snprintf(heading, sizeof(heading), "%s", buf);
			continue;
		}
		if (!in)
			continue;
		if (buf[0] == '\0') {
			if (n == 0)
				continue;	/* the blank line under the heading */
			bad |= check_section(path, heading, l, n);
			for (size_t i = 0; i < n; i++) {
				if (i > 0 && l[i].count == l[i - 1].count)
					(*nties)++;
				free(l[i].value);
			}
			in = 0;
			n = 0;
			continue;
		}
		c = strtol(buf, &v, 10);
		assert_true(c > 0 && *v == ' ');
		while (*v == ' ')
			v++;
		assert_true(n < 32);
		l[n].count = c;
		l[n].value = strdup(v);
		assert_non_null(l[n].value);
		n++;
	}
	fclose(f);
	assert_int_equal(n, 0);
	return bad;
}

static void
test_tiecmp_seeds(void **state)
{
	const char *shared = getenv("PD_SHARED");
	char dir[4096], path[4096 + 512];
	struct dirent *e;
	size_t seeds = 0, ties = 0;
	int bad = 0;
	DIR *d;

	(void)state;
	if (shared == NULL)
		skip();
	snprintf(dir, sizeof(dir), "%s/seeds", shared);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		bad |= check_seed(path, &ties);
		seeds++;
	}
	closedir(d);
	assert_int_equal(seeds, 5);
	/* The seeds hold many ties; a comparator that never decides would fail above. */
	assert_true(ties >= 20);
	assert_int_equal(bad, 0);
}

/* The SPEC's example, and the levels one by one. */
static void
test_tiecmp_rules(void **state)
{
	(void)state;
	assert_true(pd_digest_tiecmp("\"Xin Li (Intel)\" <xin@zytor.com>",
	    "Chao Gao <chao.gao@intel.com>") < 0);
	assert_true(pd_digest_tiecmp("Chao Gao <chao.gao@intel.com>",
	    "\"Xin Li (Intel)\" <xin@zytor.com>") > 0);
	/* punctuation and spaces are ignored first: "ab c" ~ "abc" < "abd" */
	assert_true(pd_digest_tiecmp("abd", "ab c") < 0);
	assert_true(pd_digest_tiecmp("a.b", "aa") < 0);
	/* then lower case before upper case (so upper first, descending) */
	assert_true(pd_digest_tiecmp("ABC", "abc") < 0);
	assert_true(pd_digest_tiecmp("Abc", "abc") < 0);
	/* then bytes */
	assert_true(pd_digest_tiecmp("abc", "ab c") < 0);
	assert_true(pd_digest_tiecmp("a.bc", "a-bc") < 0);
	/* digits before letters; the equal string ties */
	assert_true(pd_digest_tiecmp("a", "1") < 0);
	assert_int_equal(pd_digest_tiecmp("same", "same"), 0);
	/* accented letters sort with their base letter, after it */
	assert_true(pd_digest_tiecmp("Krčmář", "Krcmar") < 0);
	assert_true(pd_digest_tiecmp("Krčmář", "Krdx") > 0);
	/* broken UTF-8 does not crash and still orders by bytes */
	assert_true(pd_digest_tiecmp("ab\xff", "ab") != 0);
}

/* ---- the renderer over a real store ---- */

struct fixture {
	char dir[64];
	pd_store *st;
	pd_classifier *cl;
	struct pd_conf *conf;
};

static int
ingest_cb(const char *msg, size_t len, void *arg)
{
	struct fixture *f = arg;
	struct pd_ingest res;

	assert_int_equal(pd_ingest(f->st, f->cl, msg, len, NULL, &res), 0);
	assert_true(res.stored);
	assert_int_equal(res.store_err, 0);
	return 0;
}

static void
import(struct fixture *f, const char *name)
{
	char path[4096], *buf;
	long len;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tests/data/%s",
	    getenv("PD_SRC") ? getenv("PD_SRC") : ".", name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	assert_int_equal(pd_mbox_split(buf, (size_t)len, ingest_cb, f), 0);
	free(buf);
}

static void
setstr(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	assert_non_null(*dst);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char rules[4096], err[256];

	assert_non_null(f);
	pd_msg_init();
	snprintf(f->dir, sizeof(f->dir), "/tmp/pd-test-digest.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(pd_store_open(f->dir, PD_STORE_CREATE | PD_STORE_NOSYNC,
	    (size_t)8 << 20, (size_t)256 << 20, &f->st), 0);
	snprintf(rules, sizeof(rules), "%s/etc/subsystems.rules",
	    getenv("PD_SRC") ? getenv("PD_SRC") : ".");
	assert_int_equal(pd_classifier_new(rules, NULL, NULL, &f->cl, err, sizeof(err)), 0);
	assert_int_equal(pd_conf_new(&f->conf), 0);
	setstr(&f->conf->list_name, "Testlist");
	setstr(&f->conf->database, f->dir);
	setstr(&f->conf->archive_url, "https://archive.example/l/%s/");
	setstr(&f->conf->digest_from, "Digest <digest@example.org>");
	f->conf->digest_to = calloc(2, sizeof(char *));
	assert_non_null(f->conf->digest_to);
	f->conf->digest_to[0] = strdup("list@example.org");
	f->conf->ndigest_to = 1;
	import(f, "sample.mbox");
	import(f, "html-escape.mbox");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	pd_store_close(f->st);
	pd_classifier_free(f->cl);
	pd_conf_free(f->conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

struct expect {
	char domains[32][128];
	long dcount[32];
	size_t ndomains;
	char series[32][256];	/* series of the range, by first arrival */
	int cover_seen[32], one_seen[32];
	size_t nseries;
	uint64_t patches;
};

static int
expect_cb(const struct pd_rec *r, void *arg)
{
	struct expect *e = arg;
	size_t i;

	if (r->kind != PD_KIND_COVER && r->kind != PD_KIND_PATCH)
		return 0;
	e->patches++;
	for (i = 0; i < e->ndomains && strcmp(e->domains[i], r->domain) != 0; i++)
		;
	if (i == e->ndomains)
		snprintf(e->domains[e->ndomains++], sizeof(e->domains[0]), "%s", r->domain);
	e->dcount[i]++;
	for (i = 0; i < e->nseries && strcmp(e->series[i], r->series) != 0; i++)
		;
	if (i == e->nseries)
		snprintf(e->series[e->nseries++], sizeof(e->series[0]), "%s", r->series);
	if (r->kind == PD_KIND_COVER)
		e->cover_seen[i] = 1;
	if (r->kind == PD_KIND_PATCH && (r->cx == 1 || r->cx < 0))
		e->one_seen[i]++;
	return 0;
}

static void
test_render_text(void **state)
{
	struct fixture *f = *state;
	struct expect *e = calloc(1, sizeof(*e));
	struct pd_range r;
	char *text, *html, *p, line[1024];
	size_t blocks = 0;

	assert_non_null(e);
	assert_int_equal(pd_store_range(f->st, NULL, &r), 0);
	assert_int_equal(pd_store_foreach_msg(f->st, &r, expect_cb, e), 0);
	assert_int_equal(pd_digest_render(f->st, f->conf, &r, &text, &html), 0);

	/* Title lines: the range and the configured list name, nothing else. */
	snprintf(line, sizeof(line), "From %s to %s\nTestlist mailing list update from %s to %s\n\n",
	    r.from, r.to, r.from, r.to);
	assert_memory_equal(text, line, strlen(line));
	assert_null(strstr(text, "KVM mailing list"));

	/* Domains: one "%7d %s" line per domain with its count from the records. */
	p = strstr(text, "Top 15 contributor Email domains (Based on Email Body)\n\n");
	assert_non_null(p);
	p = strchr(p, '\n') + 2;
	for (size_t n = 0; n < e->ndomains; n++) {
		long c;
		char name[128];
		size_t i;

		assert_int_equal(sscanf(p, "%7ld %127[^\n]", &c, name), 2);
		assert_true(p[7] == ' ' && p[8] != ' ');
		for (i = 0; i < e->ndomains && strcmp(e->domains[i], name) != 0; i++)
			;
		assert_true(i < e->ndomains);
		assert_int_equal(c, e->dcount[i]);
		p = strchr(p, '\n') + 1;
	}
	assert_memory_equal(p, "\nTop 15 contributors (Based on Email Body)\n\n", 44);
	assert_non_null(strstr(text, "\n===== Patch list in this time period =====\n\n"));
	assert_non_null(strstr(text, "\n===== Patch Commit Messages ====\n\n"));

	/* Blocks: as many as covers + first patches + single patches, each well formed. */
	for (p = strstr(text, "\nNew:  "); p != NULL; p = strstr(p + 1, "\nNew:  ")) {
		char *end = strstr(p, "\n----------------------------------------------------------------------\n\n");

		assert_non_null(end);
		assert_non_null(strstr(p, "\nAuthor: "));
		assert_true(strstr(p, "\nAuthor: ") < end);
		blocks++;
	}
	{
		size_t want = 0;

		for (size_t i = 0; i < e->nseries; i++)
			want += (size_t)e->cover_seen[i] + (size_t)e->one_seen[i];
		assert_int_equal(blocks, want);
	}
	/* Inside a series the cover letter comes before patch 1. */
	p = strstr(text, "[PATCH v2 0/2] KVM: arm64: Drop the unused");
	assert_non_null(p);
	assert_non_null(strstr(p, "[PATCH v2 1/2] KVM: arm64: Drop the unused"));
	/* The patch list names each series and the supersession of v1. */
	assert_non_null(strstr(text, "supersedes v1"));
	assert_true(e->patches > 0);

	/* HTML: the hostile subject, author and excerpt are text, links are escaped. */
	assert_null(strstr(html, "<script>"));
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "<b>"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(&quot;digest&quot;)&lt;/script&gt; &amp; escape"));
	assert_non_null(strstr(html,
	    "href=\"https://archive.example/l/odd%2Fid%3Fwith%26chars%231@example.com/\""));
	assert_non_null(strstr(html, "<title>Testlist mailing list update from "));
	free(text);
	free(html);
	free(e);
}

/* Ingest msg (if any), then render the open range. */
static void
render_open(struct fixture *f, const char *msg, char **text, char **html)
{
	struct pd_range r;

	if (msg != NULL)
		ingest_cb(msg, strlen(msg), f);
	assert_int_equal(pd_store_range(f->st, NULL, &r), 0);
	assert_int_equal(pd_digest_render(f->st, f->conf, &r, text, html), 0);
}

/* An empty range: the headings alone, each followed by one blank line and
 * its (empty) list's blank line, as the seeds show the empty patch list. */
static void
test_render_empty(void **state)
{
	struct fixture *f = *state;
	struct pd_range closed, r;
	char *text, *html, want[1024];

	assert_int_equal(pd_store_close_range(f->st, 0, NULL, NULL, NULL, &closed), 0);
	assert_int_equal(pd_store_range(f->st, NULL, &r), 0);
	assert_int_equal(r.messages, 0);
	assert_int_equal(pd_digest_render(f->st, f->conf, &r, &text, &html), 0);
	snprintf(want, sizeof(want),
	    "From %s to %s\nTestlist mailing list update from %s to %s\n\n"
	    "Top 15 contributor Email domains (Based on Email Body)\n\n\n"
	    "Top 15 contributors (Based on Email Body)\n\n\n"
	    "===== Patch list in this time period =====\n\n\n"
	    "===== Patch Commit Messages ====\n\n", closed.to, closed.to, closed.to,
	    closed.to);
	assert_string_equal(text, want);
	free(text);
	free(html);
}

/* A patch without a token in its title is filed under its project's name,
 * once: "kvmtool", not "kvmtool: kvmtool". */
static void
test_render_project_heading(void **state)
{
	static const char msg[] = "From: A <a@example.org>\n"
	    "Subject: [PATCH kvmtool] Add emulation for CFI flash\n"
	    "Message-ID: <cfi@example.org>\nDate: Mon, 6 Jan 2025 10:00:00 +0000\n\n"
	    "Body.\n\nSigned-off-by: A <a@example.org>\n";
	char *text, *html;

	render_open(*state, msg, &text, &html);
	assert_non_null(strstr(text, "\nkvmtool (1 patch message, 1 series)\n"));
	assert_null(strstr(text, "kvmtool: kvmtool"));
	/* a subsystem of its own keeps the project in front */
	assert_non_null(strstr(text, "\nkvm-unit-tests: x86 (1 patch message, 1 series)\n"));
	free(text);
	free(html);
}

/*
 * The list's own project is the rules' default, not always the kernel: on
 * a list whose rules say "default qemu", QEMU's patches are filed without
 * a "qemu: " in front, and the kernel's rules file them with it.
 */
static void
test_render_own_project(void **state)
{
	static const char msg[] = "From: A <a@example.org>\n"
	    "Subject: [PATCH] quorum: Fix the vote count\n"
	    "Message-ID: <quorum@example.org>\nDate: Mon, 6 Jan 2025 10:00:00 +0000\n\n"
	    "Body.\n\nSigned-off-by: A <a@example.org>\n";
	struct fixture *f = *state;
	char rules[128], err[256], *text, *html;
	pd_classifier *kernel = f->cl;
	FILE *fp;

	snprintf(rules, sizeof(rules), "%s/qemu.rules", f->dir);
	assert_non_null(fp = fopen(rules, "w"));
	assert_true(fputs("default qemu\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(pd_classifier_new(rules, NULL, NULL, &f->cl, err, sizeof(err)), 0);
	setstr(&f->conf->subsystem_rules, rules);
	render_open(f, msg, &text, &html);
	assert_non_null(strstr(text, "\nquorum (1 patch message, 1 series)\n"));
	assert_null(strstr(text, "qemu: quorum"));
	/* the sample's kernel patches now name their project */
	assert_non_null(strstr(text, "\nlinux: KVM: x86 ("));
	free(text);
	free(html);
	pd_classifier_free(f->cl);
	f->cl = kernel;
	/* rules gone since: the built-in default, not a digest held back */
	assert_int_equal(unlink(rules), 0);
	render_open(f, NULL, &text, &html);
	assert_non_null(strstr(text, "\nqemu: quorum (1 patch message, 1 series)\n"));
	free(text);
	free(html);
	free(f->conf->subsystem_rules);
	f->conf->subsystem_rules = NULL;
	render_open(f, NULL, &text, &html);
	assert_non_null(strstr(text, "\nqemu: quorum (1 patch message, 1 series)\n"));
	assert_non_null(strstr(text, "\nKVM: x86 ("));
	free(text);
	free(html);
}

/*
 * A cover letter whose title has no "token:" is filed under its project's
 * name; its series goes under its patches' subsystem instead (netdev's
 * "[PATCH net 0/2] Add devlink health reporters" with "ice: ..." patches).
 */
static void
test_render_cover_without_token(void **state)
{
	static const char *const subj[] = {
		"[PATCH v2 net 0/2] Add devlink health reporters",
		"[PATCH v2 net 1/2] ice: add the tx reporter",
		"[PATCH v2 net 2/2] ice: add the rx reporter",
	};
	struct fixture *f = *state;
	char msg[1024], *text, *html;

	for (int i = 0; i < 3; i++) {
		snprintf(msg, sizeof(msg), "From: A <a@example.org>\nSubject: %s\n"
		    "Message-ID: <20250108.99-%d-a@example.org>\n%s"
		    "Date: Wed, 8 Jan 2025 10:00:0%d +0000\n\nBody.\n", subj[i], i,
		    i ? "In-Reply-To: <20250108.99-0-a@example.org>\n" : "", i);
		ingest_cb(msg, strlen(msg), f);
	}
	render_open(f, NULL, &text, &html);
	assert_non_null(strstr(text, "\nice (3 patch messages, 1 series)\n"));
	assert_null(strstr(text, "\nlinux ("));
	free(text);
	free(html);
}

/* A series without a cover is filed under the subsystem of most of its
 * patches, not of whichever came first; with a cover, under the cover's. */
static void
test_render_series_subsystem(void **state)
{
	static const char *const subj[] = {
		"[PATCH 1/3] KVM: Documentation: Document the registers",
		"[PATCH 2/3] KVM: arm64: Add the registers",
		"[PATCH 3/3] KVM: arm64: Use the registers",
	};
	struct fixture *f = *state;
	char msg[1024], *text, *html, *p, *q, *end;

	for (int i = 0; i < 3; i++) {
		snprintf(msg, sizeof(msg), "From: A <a@example.org>\nSubject: %s\n"
		    "Message-ID: <20250106.77-%d-a@example.org>\n%s"
		    "Date: Mon, 6 Jan 2025 10:00:0%d +0000\n\nBody.\n", subj[i], i + 1,
		    i ? "In-Reply-To: <20250106.77-1-a@example.org>\n" : "", i);
		ingest_cb(msg, strlen(msg), f);
	}
	render_open(f, NULL, &text, &html);
	assert_null(strstr(text, "\nKVM: Documentation ("));
	assert_non_null(p = strstr(text, "\nKVM: arm64 ("));
	assert_non_null(end = strstr(p + 1, "\n\n"));
	assert_non_null(q = strstr(text, "\n  [PATCH 1/3] KVM: Documentation: Document"));
	assert_true(p < q && q < end);
	free(text);
	free(html);
	/* A tie, its patch 2 first: patch 1's subsystem, whatever the order. */
	snprintf(msg, sizeof(msg), "From: B <b@example.org>\nSubject: [PATCH 2/2] "
	    "vfio/pci: Use it\nMessage-ID: <20250107.88-2-b@example.org>\n"
	    "In-Reply-To: <20250107.88-1-b@example.org>\n"
	    "Date: Tue, 7 Jan 2025 10:00:00 +0000\n\nBody.\n");
	ingest_cb(msg, strlen(msg), f);
	snprintf(msg, sizeof(msg), "From: B <b@example.org>\nSubject: [PATCH 1/2] "
	    "iommufd: Add it\nMessage-ID: <20250107.88-1-b@example.org>\n"
	    "Date: Tue, 7 Jan 2025 10:00:01 +0000\n\nBody.\n");
	render_open(f, msg, &text, &html);
	assert_null(strstr(text, "\nvfio/pci ("));
	assert_non_null(p = strstr(text, "\niommufd (2 patch messages, 1 series)\n"));
	/* sample.mbox's x86 series has a cover; its patch 3 is KVM: selftests */
	assert_non_null(p = strstr(text, "\nKVM: x86 ("));
	assert_non_null(end = strstr(p + 1, "\n\n"));
	assert_non_null(q = strstr(text, "\n  [PATCH 0/3] KVM: x86: Batch dirty-ring"));
	assert_true(p < q && q < end);
	free(text);
	free(html);
}

/* One posting: a cover with this title and diffstat, then these patches. */
static void
post_series(struct fixture *f, const char *stem, const char *cover,
    const char *const *patch, int n)
{
	char msg[2048];

	snprintf(msg, sizeof(msg), "From: S <s@example.org>\nSubject: [PATCH 0/%d] %s\n"
	    "Message-ID: <%s-0-s@example.org>\nDate: Thu, 9 Jan 2025 10:00:00 +0000\n\n"
	    "A series.\n\nS (1):\n  a\n\n"
	    " arch/powerpc/kvm/book3s.c | 2 +-\n arch/powerpc/kvm/booke.c  | 2 +-\n"
	    " virt/kvm/kvm_main.c       | 1 +\n Documentation/a.rst       | 1 +\n"
	    " 4 files changed, 4 insertions(+), 2 deletions(-)\n", n, cover, stem);
	ingest_cb(msg, strlen(msg), f);
	for (int i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "From: S <s@example.org>\nSubject: [PATCH %d/%d] "
		    "%s\nMessage-ID: <%s-%d-s@example.org>\nIn-Reply-To: <%s-0-s@example.org>\n"
		    "Date: Thu, 9 Jan 2025 10:00:0%d +0000\n\nBody.\n", i + 1, n, patch[i],
		    stem, i + 1, stem, i + 1);
		ingest_cb(msg, strlen(msg), f);
	}
}

/*
 * A cover whose title names no subsystem is filed by its diffstat's
 * majority: "KVM: PPC" for 2 of 4 files (the "KVM statistics data
 * fd-based binary interface" series of 2021, all of whose patches are
 * "KVM: stats:").  Its series goes under the subsystem most of its
 * patches share when none has the cover's; not when one has it, nor when
 * no subsystem has more than half of them, nor when the cover's title
 * names its own.
 */
static void
test_render_cover_by_files(void **state)
{
	static const char *const stats[] = { "KVM: stats: Add a", "KVM: stats: Add b",
	    "KVM: selftests: Test it" };
	static const char *const shared[] = { "KVM: stats: Add a", "KVM: stats: Add b",
	    "KVM: stats: Add c", "KVM: PPC: Use them" };
	static const char *const mixed[] = { "psci: Add a", "psci: Add b", "ptp: Add c",
	    "KVM: arm64: Use them" };
	struct fixture *f = *state;
	char *text, *html, *p, *q, *end;

	post_series(f, "20250109.1", "Statistics interface", stats, 3);
	post_series(f, "20250109.2", "Clock interface", mixed, 4);
	post_series(f, "20250109.3", "KVM: PPC: Statistics for PPC", stats, 3);
	post_series(f, "20250109.4", "Shared interface", shared, 4);
	render_open(f, NULL, &text, &html);
	assert_non_null(p = strstr(text, "\nKVM: stats ("));
	assert_non_null(end = strstr(p + 1, "\n\n"));
	assert_non_null(q = strstr(text, "\n  [PATCH 0/3] Statistics interface\n"));
	assert_true(p < q && q < end);
	assert_non_null(p = strstr(text, "\nKVM: PPC ("));
	assert_non_null(end = strstr(p + 1, "\n\n"));
	assert_non_null(q = strstr(text, "\n  [PATCH 0/4] Clock interface\n"));
	assert_true(p < q && q < end);
	assert_non_null(q = strstr(text, "\n  [PATCH 0/3] KVM: PPC: Statistics for PPC\n"));
	assert_true(p < q && q < end);
	assert_non_null(q = strstr(text, "\n  [PATCH 0/4] Shared interface\n"));
	assert_true(p < q && q < end);
	free(text);
	free(html);
}

/*
 * "supersedes vK" names an earlier version than the entry's own.  A v1
 * series, then one git send-email run that resent it and sent its v2,
 * every part of the run replying to the resent cover (the kvmarm archive,
 * 2021-10-04/05): the v2 patches join the resent v1's series, which is
 * still shown as v1, and the first posting is no earlier version of it.
 */
static void
test_render_supersedes_earlier(void **state)
{
	static const struct {
		const char *stem, *subject;
		int n, irt;
	} post[] = {
		{ "20211004090328.540941", "[PATCH 0/2] KVM: arm64: Refcount fixes", 1, 0 },
		{ "20211004090328.540941", "[PATCH 1/2] KVM: arm64: Fix the PGD refcount", 2, 1 },
		{ "20211004090328.540941", "[PATCH 2/2] KVM: arm64: Report a bad refcount", 3, 1 },
		{ "20211005090155.734578", "[PATCH 0/2] KVM: arm64: Refcount fixes", 1, 0 },
		{ "20211005090155.734578", "[PATCH 1/2] KVM: arm64: Fix the PGD refcount", 2, 1 },
		{ "20211005090155.734578", "[PATCH 2/2] KVM: arm64: Report a bad refcount", 3, 1 },
		{ "20211005090155.734578", "[PATCH v2 0/2] KVM: arm64: Refcount fixes", 4, 1 },
		{ "20211005090155.734578", "[PATCH v2 1/2] KVM: arm64: Fix the PGD refcount", 5, 1 },
		{ "20211005090155.734578", "[PATCH v2 2/2] KVM: arm64: Report a bad refcount", 6, 1 },
	};
	struct fixture *f = *state;
	char msg[1024], irt[128], *text, *html, *p, *v;
	int n = 0;

	for (size_t i = 0; i < sizeof(post) / sizeof(post[0]); i++) {
		snprintf(irt, sizeof(irt), "In-Reply-To: <%s-1-q@example.org>\n",
		    post[i].stem);
		snprintf(msg, sizeof(msg), "From: Q <q@example.org>\nSubject: %s\n"
		    "Message-ID: <%s-%d-q@example.org>\n%sDate: %s Oct 2021 "
		    "10:01:0%zu +0100\n\nBody.\n", post[i].subject, post[i].stem,
		    post[i].n, post[i].irt ? irt : "", i < 3 ? "4" : "5", i);
		ingest_cb(msg, strlen(msg), f);
	}
	render_open(f, NULL, &text, &html);
	/* the patch list only: its entries end in "; v1, ..." lines */
	assert_non_null(p = strstr(text, "===== Patch Commit Messages"));
	*p = '\0';
	for (p = text; (p = strstr(p, "KVM: arm64: Refcount fixes\n")) != NULL; p++) {
		assert_non_null(p = strstr(p, "; v"));
		v = strstr(p, ", supersedes v");
		if (v != NULL && v < strchr(p, '\n')) {
			assert_true(atoi(v + 14) < atoi(p + 3));
			n++;
		}
	}
	/* the v2 cover's entry supersedes a v1 (the resent one, the later) */
	assert_int_equal(n, 1);
	free(text);
	free(html);
}

/*
 * A series with only replies in the range is listed too (SPEC 5: "a
 * message in the range"), under its subsystem, marked "replies only", with
 * its trailer counts as they now stand: a reply to a reply to its patch 2
 * counts (the nearest patch ancestor, as credited).  A reply to mail that
 * is no patch, or to nothing stored, lists nothing; a series with a patch
 * in the range is not marked, and comes first.
 */
static void
test_render_replies_only(void **state)
{
	static const char *const reply[] = {
		"Re: [PATCH 2/3] KVM: x86: Reset", "<Z3uXk2ab@example.com>",
		"Re: dirty ring and nested guests", "<6f1e2d3c-frank@example.com>",
		"Re: [PATCH] gone", "<never-stored@example.org>",
		"Re: [PATCH] KVM: selftests: Fix the vCPU count", "<20250107074500.77-1-dana.okafor@example.org>",
		"Re: [PATCH 2/2] ice: add the rx reporter", "<20250109.5-2-s@example.org>",
	};
	static const char *const ice[] = { "ice: add the tx reporter",
	    "ice: add the rx reporter" };
	struct fixture *f = *state;
	struct pd_range closed;
	char msg[1024], *text, *html, *p, *end;

	post_series(f, "20250109.5", "Add devlink health reporters", ice, 2);
	assert_int_equal(pd_store_close_range(f->st, 1, NULL, NULL, NULL, &closed), 0);
	for (size_t i = 0; i < sizeof(reply) / sizeof(reply[0]); i += 2) {
		snprintf(msg, sizeof(msg), "From: R <r%zu@example.org>\nSubject: %s\n"
		    "Message-ID: <r%zu@example.org>\nIn-Reply-To: %s\n"
		    "Date: Fri, 10 Jan 2025 10:00:0%zu +0000\n\nLooks good.\n\n"
		    "Reviewed-by: R <r%zu@example.org>\n", i, reply[i], i, reply[i + 1],
		    i, i);
		ingest_cb(msg, strlen(msg), f);
	}
	snprintf(msg, sizeof(msg), "From: P <p@example.org>\nSubject: [PATCH] KVM: x86: "
	    "New\nMessage-ID: <new@example.org>\nDate: Fri, 10 Jan 2025 11:00:00 +0000"
	    "\n\nNew.\n");
	ingest_cb(msg, strlen(msg), f);
	snprintf(msg, sizeof(msg), "From: Q <q@example.org>\nSubject: Re: [PATCH] KVM: x86: "
	    "New\nMessage-ID: <new-r@example.org>\nIn-Reply-To: <new@example.org>\n"
	    "Date: Fri, 10 Jan 2025 11:00:01 +0000\n\nAcked-by: Q <q@example.org>\n");
	render_open(f, msg, &text, &html);
	/* after the series posted in the range */
	assert_non_null(p = strstr(text, "\nKVM: x86 (1 patch message, 2 series)\n"
	    "  [PATCH] KVM: x86: New\n      P <p@example.org>; "
	    "v1, single patch, Reviewed-by: 0, Acked-by: 1, Tested-by: 0\n"
	    "  [PATCH 0/3] KVM: x86: Batch dirty-ring resets per memslot\n"));
	assert_non_null(end = strstr(p, "\n\n"));
	assert_non_null(p = strstr(p, "Reviewed-by: 2, Acked-by: 0, Tested-by: 0; replies only\n"));
	assert_true(p < end);
	assert_non_null(strstr(text, "\nKVM: selftests (0 patch messages, 1 series)\n"
	    "  [PATCH] KVM: selftests: Fix the vCPU count in the steal-time test\n"));
	/* filed by the part answered, not by the cover's diffstat */
	assert_non_null(strstr(text, "\nice (0 patch messages, 1 series)\n"
	    "  [PATCH 0/2] Add devlink health reporters\n"));
	assert_null(strstr(text, "dirty ring and nested guests"));
	assert_null(strstr(text, "gone"));
	/* no commit message block for them */
	assert_non_null(p = strstr(text, "===== Patch Commit Messages"));
	assert_null(strstr(p, "Batch dirty-ring"));
	assert_non_null(strstr(html, "; replies only</span>"));
	free(text);
	free(html);
}

/*
 * A series with only replies goes under the heading of its posting's
 * digest, whichever of its parts they answer: a reply to the cover (a
 * title without a subsystem, its diffstat's "KVM: PPC") or to the one
 * patch of another subsystem.
 */
static void
test_render_replies_heading(void **state)
{
	static const char *const parts[] = { "iommu/smmuv3: one",
	    "iommu/smmuv3: two", "KVM: x86: three" };
	static const char *const heading = "\niommu/smmuv3 (%s, 1 series)\n"
	    "  [PATCH 0/3] Nested stage setup\n";
	struct fixture *f = *state;
	struct pd_range closed;
	char msg[1024], want[256], *text, *html;

	post_series(f, "nest", "Nested stage setup", parts, 3);
	render_open(f, NULL, &text, &html);
	snprintf(want, sizeof(want), heading, "4 patch messages");
	assert_non_null(strstr(text, want));
	free(text);
	free(html);
	assert_int_equal(pd_store_close_range(f->st, 1, NULL, NULL, NULL, &closed), 0);
	for (int i = 0; i < 4; i += 3) {
		snprintf(msg, sizeof(msg), "From: R <r@example.org>\nSubject: Re: x\n"
		    "Message-ID: <nest-r%d@example.org>\nIn-Reply-To: <nest-%d-s@example.org>\n"
		    "Date: Fri, 10 Jan 2025 10:00:0%d +0000\n\nAcked-by: R <r@example.org>\n",
		    i, i, i);
		ingest_cb(msg, strlen(msg), f);
	}
	render_open(f, NULL, &text, &html);
	snprintf(want, sizeof(want), heading, "0 patch messages");
	assert_non_null(strstr(text, want));
	free(text);
	free(html);
}

/* A patch without a From: says so, not an empty author. */
static void
test_render_no_author(void **state)
{
	static const char msg[] = "Subject: [PATCH] Fix a thing\n"
	    "Message-ID: <nofrom@example.org>\nDate: Mon, 6 Jan 2025 10:00:00 +0000\n\n"
	    "Body.\n";
	char *text, *html;

	render_open(*state, msg, &text, &html);
	assert_non_null(strstr(text, "\n  [PATCH] Fix a thing\n      (no author); v1,"));
	assert_non_null(strstr(text, "\n[PATCH] Fix a thing\nAuthor: (no author)\n"));
	assert_null(strstr(text, "Author: \n"));
	free(text);
	free(html);
}

/*
 * Links go where the archive has the message: a series whose cover letter
 * went to other lists only links its first message here, a message without
 * a Message-ID has no link, and an empty title still gives the link text.
 * Empty titles do not make one posting supersede another.
 */
static void
test_render_links(void **state)
{
	struct fixture *f = *state;
	char *text, *html;

	static const char *const msgs[] = {
		"From: G <g@lf.example>\nSubject: [PATCH 5.10 2/2] kvm: fix\n"
		"Message-ID: <stable-2@lf.example>\nIn-Reply-To: <cover000@lf.example>\n"
		"References: <cover000@lf.example>\n\n---\n a/x.c | 1 +\n",
		"From: N <n@example.org>\nSubject: [PATCH] no id\n\nBody.\n",
		"From: E <e@example.org>\nSubject: [PATCH]\nMessage-ID: <e1@example.org>\n"
		"\nBody.\n",
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		ingest_cb(msgs[i], strlen(msgs[i]), f);
	render_open(f, "From: E <e@example.org>\nSubject: [PATCH v2]\n"
	    "Message-ID: <e2@example.org>\n\nBody.\n", &text, &html);
	assert_null(strstr(html, "cover000"));
	assert_non_null(strstr(html, "<a href=\"https://archive.example/l/stable-2@lf.example/\">"
	    "[PATCH 5.10 2/2] kvm: fix</a>"));
	assert_null(strstr(html, "patchdigest.invalid"));
	assert_non_null(strstr(html, "<h3>New: no id</h3>"));
	assert_non_null(strstr(html, "\">[PATCH]</a></h3>"));
	assert_non_null(strstr(html, "\">[PATCH v2]</a></h3>"));
	assert_null(strstr(html, "></a>"));
	/* the details line under "[PATCH v2]" */
	const char *e2 = strstr(text, "\n  [PATCH v2]\n"), *eol, *sup;

	assert_non_null(e2);
	assert_non_null(eol = strchr(e2 + 14, '\n'));
	sup = strstr(e2, "supersedes");
	assert_true(sup == NULL || sup > eol);
	free(text);
	free(html);
}

/*
 * A series without a cover letter links patch 1, its id, when that is
 * stored, also from a range that has only its later parts or replies.
 */
static void
test_render_links_series_id(void **state)
{
	static const char *const before[] = {
		"Subject: [PATCH 1/2] KVM: arm64: one\nMessage-ID: <n1@ex>\n",
		"Subject: [PATCH 2/2] KVM: arm64: two\nMessage-ID: <n2@ex>\n"
		"In-Reply-To: <n1@ex>\n",
		"Subject: [PATCH 1/2] KVM: x86: alpha\nMessage-ID: <a1@ex>\n",
	};
	static const char *const now[] = {
		"Subject: Re: [PATCH 2/2] KVM: arm64: two\nMessage-ID: <r2@ex>\n"
		"In-Reply-To: <n2@ex>\n",
		"Subject: [PATCH 2/2] KVM: x86: beta\nMessage-ID: <a2@ex>\n"
		"In-Reply-To: <a1@ex>\n",
	};
	struct fixture *f = *state;
	struct pd_range closed;
	char msg[512], *text, *html;

	for (size_t i = 0; i < 3; i++) {
		snprintf(msg, sizeof(msg), "From: A <a@example.org>\n%s"
		    "Date: Mon, 6 Jan 2025 10:00:0%zu +0000\n\nBody.\n\n"
		    "Acked-by: B <b@example.org>\n", before[i], i);
		ingest_cb(msg, strlen(msg), f);
	}
	assert_int_equal(pd_store_close_range(f->st, 1, NULL, NULL, NULL, &closed), 0);
	for (size_t i = 0; i < 2; i++) {
		snprintf(msg, sizeof(msg), "From: B <b@example.org>\n%s"
		    "Date: Mon, 13 Jan 2025 10:00:0%zu +0000\n\nAcked-by: B <b@example.org>\n",
		    now[i], i);
		ingest_cb(msg, strlen(msg), f);
	}
	render_open(f, NULL, &text, &html);
	assert_non_null(strstr(html, "<a href=\"https://archive.example/l/n1@ex/\">"
	    "[PATCH 1/2] KVM: arm64: one</a>"));
	assert_non_null(strstr(html, "<a href=\"https://archive.example/l/a1@ex/\">"));
	assert_null(strstr(html, "n2@ex"));
	assert_null(strstr(html, "a2@ex"));
	free(text);
	free(html);
}

/* A pattern is never handed to printf: stray conversions stay literal. */
static void
test_render_archive_pattern(void **state)
{
	struct fixture *f = *state;
	struct pd_range r;
	char *text, *html;

	setstr(&f->conf->archive_url, "https://a.example/%n%d%%/%s?x=1&y=2");
	assert_int_equal(pd_store_range(f->st, NULL, &r), 0);
	assert_int_equal(pd_digest_render(f->st, f->conf, &r, &text, &html), 0);
	assert_non_null(strstr(html, "href=\"https://a.example/%n%d%/20250106080000.1000-1-alice@example.org?x=1&amp;y=2\""));
	/* Without ArchiveURL there are no links, and the text does not change. */
	free(f->conf->archive_url);
	f->conf->archive_url = NULL;
	{
		char *t2, *h2;

		assert_int_equal(pd_digest_render(f->st, f->conf, &r, &t2, &h2), 0);
		assert_string_equal(text, t2);
		assert_null(strstr(h2, "<a href"));
		free(t2);
		free(h2);
	}
	free(text);
	free(html);
}

/* ---- the schedule ---- */

static void
test_due(void **state)
{
	struct fixture *f = *state;
	struct pd_schedule *s = &f->conf->schedule;
	struct pd_range r;
	uint64_t n;
	struct tm tm;
	time_t later;

	assert_int_equal(pd_store_open_count(f->st, &n), 0);
	assert_true(n > 2);
	s->kind = PD_SCHED_NONE;
	assert_int_equal(pd_send_due(f->st, f->conf, time(NULL)), 0);
	s->kind = PD_SCHED_EVERY;
	s->every = n;
	assert_int_equal(pd_send_due(f->st, f->conf, time(NULL)), 1);
	s->every = n + 1;
	assert_int_equal(pd_send_due(f->st, f->conf, time(NULL)), 0);

	/* daily / weekly at two hours after the range opened */
	assert_int_equal(pd_store_range(f->st, NULL, &r), 0);
	later = (time_t)r.opened + 2 * 3600;
	assert_non_null(localtime_r(&later, &tm));
	for (int weekly = 0; weekly < 2; weekly++) {
		s->kind = weekly ? PD_SCHED_WEEKLY : PD_SCHED_DAILY;
		s->wday = tm.tm_wday;
		s->hour = tm.tm_hour;
		s->min = tm.tm_min;
		assert_int_equal(pd_send_due(f->st, f->conf, (time_t)r.opened + 3600), 0);
		assert_int_equal(pd_send_due(f->st, f->conf, (time_t)r.opened + 3 * 3600), 1);
		/* the slot a day (a week) later is due too: nothing closed since */
		assert_int_equal(pd_send_due(f->st, f->conf,
		    (time_t)r.opened + 3 * 3600 + (weekly ? 7 : 1) * 86400), 1);
		/* a range opened in the future: the clock was set back */
		assert_int_equal(pd_send_due(f->st, f->conf, (time_t)r.opened - 30 * 86400), 1);
	}
	s->kind = PD_SCHED_NONE;
}

/* ---- the mail ---- */

/* The mail as GMime reads it. */
static GMimeMessage *
mail_parse(const char *mail, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(mail, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

	assert_non_null(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

static void
test_send_build(void **state)
{
	struct fixture *f = *state;
	struct pd_digest_rec d = { 0 };
	GMimeMessage *msg;
	GMimeObject *body;
	char *out, *got, longline[2000];
	size_t len;

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	d.range_no = 7;
	memcpy(d.from, "0123456ab", 10);
	memcpy(d.to, "fedcba987", 10);
	d.created = 1736150400;
	assert_int_equal(asprintf(&d.text, "From 0123456ab to fedcba987\nÉmile Rousseau — “quotes”\n"
	    ".\nFrom the start of a line\n%s\ntrailing space \nFrom %.75s\n%.80s\n",
	    longline, longline, longline) > 0, 1);
	d.html = strdup("<!DOCTYPE html><p>h&eacute;</p>\n");
	d.msgid = strdup("digest-7@example.org");
	setstr(&f->conf->list_id, "Test digest <test.example.org>");
	assert_int_equal(pd_send_build(f->conf, &d, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	assert_null(strchr(out, '\r'));
	/* No body line starts with "From ": mbox delivery would mangle it. */
	assert_null(strstr(out, "\nFrom "));
	/* 7-bit, short lines on the wire: 76 in a quoted-printable body. */
	int header = 1;
	for (const char *l = out; *l; ) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		assert_true(n <= (header ? 998u : 76u));
		header = header && n > 0;
		for (size_t i = 0; i < n; i++)
			assert_true((unsigned char)l[i] < 0x80);
		l += n + (nl != NULL);
	}

	msg = mail_parse(out, len);
	assert_string_equal(g_mime_message_get_subject(msg),
	    "Testlist mailing list update from 0123456ab to fedcba987");
	assert_string_equal(g_mime_message_get_message_id(msg), "digest-7@example.org");
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(msg), "MIME-Version"), "1.0");
	assert_non_null(strstr(g_mime_object_get_header(GMIME_OBJECT(msg), "List-Id"),
	    "<test.example.org>"));
	assert_non_null(g_mime_message_get_date(msg));
	body = g_mime_message_get_mime_part(msg);
	assert_true(GMIME_IS_MULTIPART(body));
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 2);
	got = g_mime_text_part_get_text(GMIME_TEXT_PART(
	    g_mime_multipart_get_part(GMIME_MULTIPART(body), 0)));
	assert_string_equal(got, d.text);
	g_free(got);
	got = g_mime_text_part_get_text(GMIME_TEXT_PART(
	    g_mime_multipart_get_part(GMIME_MULTIPART(body), 1)));
	assert_string_equal(got, d.html);
	g_free(got);
	g_object_unref(msg);
	free(out);
	pd_digest_rec_clear(&d);
}

/* The header's encoded words: at most 75 characters, as GMime reads them. */
static void
assert_encoded_words(const char *hdr)
{
	for (const char *p = strstr(hdr, "=?"); p != NULL; p = strstr(p, "=?")) {
		const char *e = strstr(p + 2, "?=");

		assert_non_null(e);
		/* "=?UTF-8?Q?" then the text: its own "?=" comes after two '?' */
		e = strstr(strchr(strchr(p + 2, '?') + 1, '?') + 1, "?=");
		assert_non_null(e);
		assert_true(e + 2 - p <= 75);
		p = e + 2;
	}
}

/*
 * Header fields from configured text: a long run of non-ASCII letters is
 * cut into encoded words of at most 75 characters on lines of at most 78,
 * text that looks like an encoded word stays literal, a display name
 * with a comma is one name, and the Message-ID's domain is DigestFrom's
 * in its ASCII form.
 */
static void
test_send_headers(void **state)
{
	struct fixture *f = *state;
	struct pd_digest_rec d = { 0 };
	GMimeMessage *msg;
	InternetAddressList *from;
	InternetAddressMailbox *mb;
	char *out, *body, want[512];
	const char *name = "Список-рассылки-разработчиков-KVM =?utf-8?q?Fake?= и René";
	size_t len;

	d.range_no = 3;
	memcpy(d.from, "0123456ab", 10);
	memcpy(d.to, "fedcba987", 10);
	d.created = 1736150400;
	d.text = strdup("text\n");
	d.msgid = strdup("digest-3@example.org");
	setstr(&f->conf->list_name, name);
	setstr(&f->conf->digest_from, "\"Zola, Émile =?x?q?y?=\" <digest@exämple.org>");
	setstr(&f->conf->list_id, "Список рассылки <kvm.example.org>");
	assert_int_equal(pd_send_build(f->conf, &d, &out, &len), 0);
	assert_non_null(body = strstr(out, "\n\n"));
	*body = '\0';
	for (const char *l = out; *l; ) {
		size_t n = strcspn(l, "\n");

		assert_true(n <= 78);
		l += n + (l[n] == '\n');
	}
	assert_encoded_words(out);
	assert_null(strstr(out, "=?utf-8?q?Fake?="));
	*body = '\n';

	msg = mail_parse(out, len);
	snprintf(want, sizeof(want), "%s mailing list update from 0123456ab to fedcba987", name);
	assert_string_equal(g_mime_message_get_subject(msg), want);
	from = g_mime_message_get_from(msg);
	assert_int_equal(internet_address_list_length(from), 1);
	mb = INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(from, 0));
	assert_string_equal(internet_address_get_name(INTERNET_ADDRESS(mb)),
	    "Zola, Émile =?x?q?y?=");
	assert_string_equal(internet_address_mailbox_get_idn_addr(mb),
	    "digest@xn--exmple-cua.org");
	assert_non_null(strstr(out, " <digest@xn--exmple-cua.org>\n"));
	assert_non_null(strstr(g_mime_object_get_header(GMIME_OBJECT(msg), "List-Id"),
	    "<kvm.example.org>"));
	g_object_unref(msg);
	free(out);

	/*
	 * A name with a '.' is quoted (a phrase with one is obsolete syntax),
	 * and a long quoted name folds at its blanks.
	 */
	setstr(&f->conf->digest_from, "KVM and KVM/arm64 patch digest (weekly: "
	    "kvm@vger.kernel.org, kvmarm@lists.linux.dev) <kvm-digest@example.org>");
	setstr(&f->conf->list_id, "Foo Corp. list <kvm.example.org>");
	assert_int_equal(pd_send_build(f->conf, &d, &out, &len), 0);
	assert_non_null(strstr(out, "\nList-Id: \"Foo Corp. list\" <kvm.example.org>\n"));
	assert_non_null(body = strstr(out, "\n\n"));
	for (const char *l = out; l < body; ) {
		size_t n = strcspn(l, "\n");

		assert_true(n <= 78);
		l += n + 1;
	}
	msg = mail_parse(out, len);
	from = g_mime_message_get_from(msg);
	mb = INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(from, 0));
	assert_string_equal(internet_address_get_name(INTERNET_ADDRESS(mb)),
	    "KVM and KVM/arm64 patch digest (weekly: kvm@vger.kernel.org, "
	    "kvmarm@lists.linux.dev)");
	g_object_unref(msg);
	free(out);
	setstr(&f->conf->digest_from, "J. Random Hacker <d@example.org>");
	assert_int_equal(pd_send_build(f->conf, &d, &out, &len), 0);
	assert_non_null(strstr(out, "\nFrom: \"J. Random Hacker\" <d@example.org>\n"));
	free(out);
	pd_digest_rec_clear(&d);
}

/* A failing or missing sendmail: the digest stays stored and unsent, once. */
static void
test_send_failure(void **state)
{
	struct fixture *f = *state;
	struct pd_send_result res;
	struct pd_digest_rec d = { 0 };
	int ranges = 0;

	setstr(&f->conf->sendmail, "/bin/false");
	assert_int_equal(pd_send(f->st, f->conf, 0, time(NULL), &res), PD_ESEND);
	assert_int_equal(res.sent, 0);
	assert_int_equal(res.closed, 1);
	assert_non_null(strstr(res.errbuf, "exited 1"));
	setstr(&f->conf->sendmail, "/nonexistent/sendmail");
	assert_int_equal(pd_send(f->st, f->conf, 0, time(NULL), &res), PD_ESEND);
	assert_int_equal(res.closed, 0);
	assert_non_null(strstr(res.errbuf, "cannot run"));
	setstr(&f->conf->sendmail, "relative/sendmail");
	assert_int_equal(pd_send(f->st, f->conf, 0, time(NULL), &res), PD_ECONFIG);
	assert_int_equal(pd_store_unsent_digest(f->st, &d), 0);
	assert_int_equal(d.range_no, 1);
	assert_int_equal(d.sent_at, 0);
	assert_non_null(strstr(d.text, "Testlist mailing list update"));
	pd_digest_rec_clear(&d);
	/* NOCLOSE only retries: still one closed range */
	setstr(&f->conf->sendmail, "/bin/false");
	assert_int_equal(pd_send(f->st, f->conf, PD_SEND_NOCLOSE, time(NULL), &res), PD_ESEND);
	{
		struct pd_range r;

		assert_int_equal(pd_store_range(f->st, NULL, &r), 0);
		ranges = (int)r.no;
	}
	assert_int_equal(ranges, 2);
}

/* A scheduled sender that finds another sender at work leaves it the job. */
static void
test_send_busy(void **state)
{
	struct fixture *f = *state;
	struct pd_send_result res;
	struct pd_range r;
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/send.lock", f->dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	f->conf->schedule.kind = PD_SCHED_EVERY;
	f->conf->schedule.every = 1;
	setstr(&f->conf->sendmail, "/bin/false");
	assert_int_equal(pd_send(f->st, f->conf, PD_SEND_DUE, time(NULL), &res), 0);
	assert_int_equal(res.closed, 0);
	assert_int_equal(pd_store_range(f->st, NULL, &r), 0);
	assert_int_equal(r.no, 1);
	close(fd);
	assert_int_equal(pd_send(f->st, f->conf, PD_SEND_DUE, time(NULL), &res), PD_ESEND);
	assert_int_equal(res.closed, 1);
	f->conf->schedule.kind = PD_SCHED_NONE;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tiecmp_seeds),
		cmocka_unit_test(test_tiecmp_rules),
		cmocka_unit_test_setup_teardown(test_render_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_project_heading, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_own_project, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_cover_without_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_series_subsystem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_cover_by_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_replies_heading, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_replies_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_supersedes_earlier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_no_author, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_links_series_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_archive_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_build, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_busy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
