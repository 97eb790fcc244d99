/*
 * mbox splitting: the corpus originals split into the same messages as the
 * corpus's own per-message files (after mboxrd unescaping), streaming and
 * in memory; separator, quoting and line-end edge cases.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "patchdigest/error.h"
#include "patchdigest/mbox.h"

struct msgs {
	char *m[64];
	size_t len[64];
	size_t n;
};

static const char *
shared(void)
{
	const char *s = getenv("PD_SHARED");

	return s && *s ? s : "../shared";
}

static int
collect(const char *msg, size_t len, void *arg)
{
	struct msgs *ms = arg;

	assert_true(ms->n < 64);
	ms->m[ms->n] = malloc(len + 1);
	assert_non_null(ms->m[ms->n]);
	memcpy(ms->m[ms->n], msg, len);
	ms->m[ms->n][len] = '\0';
	ms->len[ms->n++] = len;
	return 0;
}

static void
msgs_free(struct msgs *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		free(ms->m[i]);
	ms->n = 0;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* The expected text: one '>' removed from lines matching ^>+From . */
static char *
unescape(const char *s, size_t len, size_t *outlen)
{
	char *out = malloc(len + 1), *o = out;
	const char *p = s, *end = s + len;

	assert_non_null(out);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		size_t q = 0;

		while (q < n && p[q] == '>')
			q++;
		if (q > 0 && n - q >= 5 && memcmp(p + q, "From ", 5) == 0) {
			p++;
			n--;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

static void
check_original(const char *dir, const char *name)
{
	char path[1024], pat[1024];
	glob_t g;
	struct msgs ms = { .n = 0 }, st = { .n = 0 };
	size_t len, n;
	char *buf;
	FILE *fp;
	pd_mbox *mb;
	const char *m;
	size_t mlen;

	snprintf(path, sizeof(path), "%s/corpus/%s/originals/%s", shared(), dir, name);
	snprintf(pat, sizeof(pat), "%s/corpus/%s/%s.[0-9][0-9].eml", shared(), dir, name);
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	buf = slurp(path, &len);
	assert_int_equal(pd_mbox_split(buf, len, collect, &ms), 0);
	if (ms.n != g.gl_pathc)
		print_error("%s: %zu messages, want %zu\n", name, ms.n, g.gl_pathc);
	assert_int_equal(ms.n, g.gl_pathc);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *eml = slurp(g.gl_pathv[i], &n);
		char *want = unescape(eml, n, &n);

		/*
		 * The per-message files differ on the newlines next to a
		 * separator (kept at the end of the file, dropped before a
		 * From_ line without a blank line): compare without them.
		 */
		while (n > 0 && want[n - 1] == '\n')
			n--;
		while (ms.len[i] > 0 && ms.m[i][ms.len[i] - 1] == '\n')
			ms.len[i]--;
		if (ms.len[i] != n || memcmp(ms.m[i], want, n) != 0)
			print_error("%s: message %zu differs\n", name, i + 1);
		assert_int_equal(ms.len[i], n);
		assert_memory_equal(ms.m[i], want, n);
		free(eml);
		free(want);
	}
	/* The streaming reader gives the same messages and counts the bytes. */
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(pd_mbox_new(fp, &mb), 0);
	int rc;
	while ((rc = pd_mbox_next(mb, &m, &mlen)) == 1)
		collect(m, mlen, &st);
	assert_int_equal(rc, 0);
	assert_int_equal(pd_mbox_bytes(mb), len);
	pd_mbox_free(mb);
	fclose(fp);
	assert_int_equal(st.n, ms.n);
	for (size_t i = 0; i < st.n; i++)
		assert_string_equal(st.m[i], ms.m[i]);
	msgs_free(&ms);
	msgs_free(&st);
	globfree(&g);
	free(buf);
}

static void
test_corpus(void **state)
{
	(void)state;
	check_original("git-t5100", "sample.mbox");
	check_original("git-t5100", "sample.mboxrd");
	check_original("git-t5100", "rfc2047-samples.mbox");
	check_original("git-t5100", "quoted-cr.mbox");
	check_original("b4", "trailers-followup-with-cover.mbox");
	check_original("b4", "trailers-thread-with-followups.mbox");
	check_original("patchwork/series", "revision-basic.mbox");
}

static void
split_str(const char *s, struct msgs *ms)
{
	ms->n = 0;
	assert_int_equal(pd_mbox_split(s, strlen(s), collect, ms), 0);
}

/* Each input and the messages it splits into (at most 2; NULL: fewer). */
static const struct {
	const char *why, *in, *out[2];
} edges[] = {
	{ "\"From \" inside a paragraph is not a separator; after a blank it is",
	  "From a@b Mon Jan 1 00:00:00 2001\nSubject: x\n\nbody\nFrom here on\n\n"
	  "From c@d Mon Jan 1 00:00:00 2001\nSubject: y\n\n>From quoted\n>>From twice\n"
	  ">Fromage\n",
	  { "Subject: x\n\nbody\nFrom here on\n",
	    "Subject: y\n\nFrom quoted\n>From twice\n>Fromage\n" } },
	{ "only the last blank line before a separator goes",
	  "From a\nA: 1\n\nb\n\n\nFrom b\nB: 2\n", { "A: 1\n\nb\n\n", "B: 2\n" } },
	{ "CRLF line ends, and a last line without newline",
	  "From a\r\nA: 1\r\n\r\nx\r\n\r\nFrom b\r\nB: 2\r\n\r\ny",
	  { "A: 1\r\n\r\nx\r\n", "B: 2\r\n\r\ny" } },
	{ "a single message without a From_ line (stdin, one .eml)",
	  "Subject: lone\n\nbody\n", { "Subject: lone\n\nbody\n", NULL } },
	{ "a single message is read whole: its \"From \" lines are text",
	  "Subject: lone\n\nFrom the point of view of the guest:\n"
	  ">From quoted\n\nFrom a@b Mon Jan 1 00:00:00 2001\n",
	  { "Subject: lone\n\nFrom the point of view of the guest:\n"
	    ">From quoted\n\nFrom a@b Mon Jan 1 00:00:00 2001\n", NULL } },
	{ "blank lines and a UTF-8 BOM before an mbox's first From_ line",
	  "\xef\xbb\xbf\n\nFrom a\nA: 1\n\nFrom b\nB: 2\n", { "A: 1\n", "B: 2\n" } },
	{ "a BOM before a single message",
	  "\xef\xbb\xbfSubject: bom\n\nx\n", { "Subject: bom\n\nx\n", NULL } },
	/*
	 * An mbox cut off at the front: its first piece is a message too,
	 * also when it starts with lines shaped like header fields (trailers)
	 * that are no message's header block.
	 */
	{ "cut in a body", "the tail of a body\n\nFrom b\nB: 2\n",
	  { "the tail of a body\n", "B: 2\n" } },
	{ "cut at trailers",
	  "Signed-off-by: A <a@b.c>\nCc: d@e.f\n---\n x | 1 +\n\nFrom b\nB: 2\n",
	  { "Signed-off-by: A <a@b.c>\nCc: d@e.f\n---\n x | 1 +\n", "B: 2\n" } },
	{ "cut at a trailer block",
	  "Reviewed-by: A <a@b.c>\n\nThanks.\n\nFrom b\nB: 2\n",
	  { "Reviewed-by: A <a@b.c>\n\nThanks.\n", "B: 2\n" } },
	{ "nothing", "", { NULL, NULL } },
	{ "blank lines only", "\n\n\n", { NULL, NULL } },
	{ "separators only", "From a\n\nFrom b\n", { NULL, NULL } },
};

static void
test_edges(void **state)
{
	struct msgs ms;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		split_str(edges[i].in, &ms);
		for (n = 0; n < 2 && edges[i].out[n] != NULL; n++)
			;
		if (ms.n != n)
			fail_msg("%s: %zu messages, want %zu", edges[i].why, ms.n, n);
		for (size_t j = 0; j < n; j++)
			if (strcmp(ms.m[j], edges[i].out[j]) != 0)
				fail_msg("%s: message %zu is \"%s\"", edges[i].why, j, ms.m[j]);
		msgs_free(&ms);
	}
	assert_int_equal(pd_mbox_split(NULL, 0, collect, &ms), PD_EINVAL);
}

static int
stop_after_one(const char *msg, size_t len, void *arg)
{
	(void)msg; (void)len;
	++*(int *)arg;
	return PD_EEMPTY;
}

static void
test_callback_stops(void **state)
{
	int calls = 0;
	const char *s = "From a\nA: 1\n\nFrom b\nB: 2\n";

	(void)state;
	assert_int_equal(pd_mbox_split(s, strlen(s), stop_after_one, &calls), PD_EEMPTY);
	assert_int_equal(calls, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_callback_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
