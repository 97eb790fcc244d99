/*
 * Hostile input through the real library (GMime parser, LMDB store,
 * renderer, tagger): forged tags, header injection through CR/LF/NUL,
 * oversized fields, 100,000 headers, a 60 MB body, deep MIME nesting,
 * broken transfer encodings and charsets, a mailbomb of one Message-ID,
 * and markup in the HTML digest.  Every input is generated here.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "patchdigest/classify.h"
#include "patchdigest/conf.h"
#include "patchdigest/digest.h"
#include "patchdigest/error.h"
#include "patchdigest/ingest.h"
#include "patchdigest/msg.h"
#include "patchdigest/send.h"
#include "patchdigest/store.h"
#include "patchdigest/tags.h"

/* RFC 5322 2.1.1: no line of a message may pass 998 octets. */
#define LINE_MAX_OCTETS	998

/* ---- helpers ---- */

static GString *
mkmsg(const char *subject, const char *from, const char *msgid, const char *body)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "From: %s\n", from);
	g_string_append(s, "To: kvm@vger.kernel.org\n");
	g_string_append_printf(s, "Subject: %s\n", subject);
	g_string_append(s, "Date: Mon, 28 Nov 2022 10:00:00 +0000\n");
	if (msgid != NULL)
		g_string_append_printf(s, "Message-ID: <%s>\n", msgid);
	g_string_append(s, "MIME-Version: 1.0\n");
	g_string_append(s, "Content-Type: text/plain; charset=utf-8\n\n");
	g_string_append(s, body != NULL ? body :
	    "Fix the thing.\n\nSigned-off-by: A <a@example.org>\n---\n"
	    " x.c | 1 +\n\ndiff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n"
	    "@@ -1 +1,2 @@\n x\n+y\n");
	return s;
}

static char *
mkstoredir(void)
{
	char tmpl[] = "/tmp/pd-hostile.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void
rmtree(char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static pd_store *
open_store(const char *dir)
{
	pd_store *st = NULL;

	assert_int_equal(pd_store_open(dir, PD_STORE_CREATE | PD_STORE_NOSYNC,
	    (size_t)16 << 20, (size_t)1 << 30, &st), 0);
	return st;
}

/* What pd_ingest does, step by step, so that each step's result is checked. */
static int
put_raw(pd_store *st, const char *raw, size_t len, struct pd_put_result *res)
{
	struct pd_class cls;
	pd_msg *m = NULL;
	int rc;

	if ((rc = pd_msg_parse(raw, len, NULL, &m)) != 0)
		return rc;
	pd_classify(NULL, m, &cls);
	memset(res, 0, sizeof(*res));
	rc = pd_store_put(st, m, &cls, res);
	pd_msg_free(m);
	return rc;
}

static struct pd_conf *
test_conf(void)
{
	struct pd_conf *c = NULL;
	const char *text = "ListName KVM\nArchiveURL https://lore.kernel.org/kvm/%s/\n"
	    "DigestFrom digest@example.org\nDigestTo list@example.org\n";

	assert_int_equal(pd_conf_parse(text, strlen(text), "hostile.conf", &c, NULL, 0), 0);
	return c;
}

static void
render_open(pd_store *st, char **text, char **html)
{
	struct pd_conf *c = test_conf();
	struct pd_range r;

	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(pd_digest_render(st, c, &r, text, html), 0);
	assert_non_null(*text);
	pd_conf_free(c);
}

struct membuf {
	GString *s;
	int calls;
};

static int
mem_write(const void *buf, size_t n, void *arg)
{
	struct membuf *b = arg;

	g_string_append_len(b->s, buf, (gssize)n);
	b->calls++;
	return 0;
}

/* Header lines of a message: the lines before the first empty one. */
static size_t
count_header_lines(const char *s, size_t len, const char *prefix)
{
	size_t off = 0, n = 0, pl = strlen(prefix);

	while (off < len) {
		const char *nl = memchr(s + off, '\n', len - off);
		size_t end = nl == NULL ? len : (size_t)(nl - s) + 1;

		if (s[off] == '\n' || (s[off] == '\r' && off + 1 < len && s[off + 1] == '\n'))
			break;
		if (end - off >= pl && strncasecmp(s + off, prefix, pl) == 0)
			n++;
		off = end;
	}
	return n;
}

static const char *
header_end(const char *s)
{
	const char *e = strstr(s, "\n\n");
	const char *ec = strstr(s, "\r\n\r\n");

	if (e == NULL || (ec != NULL && ec < e))
		return ec;
	return e;
}

/* A tag value: printable ASCII, folded only with LF + space, no CR, short lines. */
static void
assert_clean_value(const char *name, const char *v)
{
	size_t col = strlen(name) + 2;

	for (const char *p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n') {
			assert_int_equal(p[1], ' ');
			col = 0;
			continue;
		}
		assert_true(c >= 0x20 && c < 0x7f);
		assert_true(++col < LINE_MAX_OCTETS);
	}
}

static void
assert_max_line(const char *s, size_t len, size_t max)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			col = 0;
		else if (++col > max)
			fail_msg("line longer than %zu octets at offset %zu", max, i);
	}
}

static void
assert_utf8(const char *what, const char *s)
{
	if (!g_utf8_validate(s, -1, NULL))
		fail_msg("%s is not valid UTF-8", what);
}

static void
assert_msg_utf8(const pd_msg *m)
{
	assert_utf8("subject", pd_msg_subject(m));
	assert_utf8("title", pd_msg_title(m));
	assert_utf8("author", pd_msg_author(m));
	assert_utf8("from", pd_msg_from(m));
	assert_utf8("domain", pd_msg_domain(m));
	assert_utf8("id", pd_msg_id(m));
	assert_utf8("excerpt", pd_msg_excerpt(m));
	for (size_t i = 0; i < pd_msg_nfiles(m); i++)
		assert_utf8("file", pd_msg_file(m, i));
	for (size_t i = 0; i < pd_msg_ntrailers(m); i++)
		assert_utf8("trailer", pd_msg_trailer_value(m, i));
}

/* ---- forged X-Patch-* headers ---- */

static const char forged[] =
    "X-Patch-Kind: cover\n"
    "Received: from a by b; Mon, 28 Nov 2022 10:00:00 +0000\n"
    "x-patch-series: <forged@evil> v9 9/9\n"
    "From: A <a@example.org>\n"
    "X-PATCH-Subsystem: forged\n"
    "\tcontinued forged\n"
    "    more forged\n"
    "Subject: [PATCH] KVM: x86: fix\n"
    "X-Patchwork-Id: 12345\n"
    "X-Patch-Project: forged\n"
    "Message-ID: <real@example.org>\n"
    "\n"
    "X-Patch-Kind: this line is body and stays\n"
    "body\n";

static void
fill_ingest(struct pd_ingest *in, const char *subsystem, const char *series,
    const char *project)
{
	memset(in, 0, sizeof(*in));
	in->parsed = 1;
	in->kind = PD_KIND_PATCH;
	snprintf(in->cls.subsystem, sizeof(in->cls.subsystem), "%s", subsystem);
	snprintf(in->cls.project, sizeof(in->cls.project), "%s", project);
	snprintf(in->put.series, sizeof(in->put.series), "%s", series);
	in->put.version = 2;
	in->put.cx = 1;
	in->put.cn = 3;
}

static void
check_forged_removed(const char *raw, int crlf)
{
	struct pd_ingest in;
	struct pd_tags t;
	struct membuf out = { g_string_new(NULL), 0 };
	const char *body;

	fill_ingest(&in, "KVM: x86", "real@example.org", "linux");
	assert_int_equal(pd_tags_build(&in, &t), 0);
	assert_int_equal(pd_tags_rewrite(raw, strlen(raw), &t, mem_write, &out), 0);
	assert_int_equal(count_header_lines(out.s->str, out.s->len, "X-Patch-"), 4);
	assert_null(strstr(out.s->str, "forged"));
	assert_non_null(strstr(out.s->str, "X-Patch-Kind: patch"));
	assert_non_null(strstr(out.s->str, "X-Patchwork-Id: 12345"));
	assert_non_null(strstr(out.s->str, "Received: from a by b"));
	/* the body, with its look-alike line, is copied byte for byte */
	body = header_end(out.s->str);
	assert_non_null(body);
	assert_string_equal(body, header_end(raw));
	if (crlf)	/* our lines take the input's line ends */
		assert_non_null(strstr(out.s->str, "X-Patch-Kind: patch\r\n"));
	g_string_free(out.s, TRUE);

	/* No tags at all (unparseable mail): the forged ones still go. */
	out.s = g_string_new(NULL);
	assert_int_equal(pd_tags_rewrite(raw, strlen(raw), NULL, mem_write, &out), 0);
	assert_int_equal(count_header_lines(out.s->str, out.s->len, "X-Patch-"), 0);
	assert_null(strstr(out.s->str, "forged"));
	g_string_free(out.s, TRUE);
}

static void
test_forged_tags_removed(void **state)
{
	GString *crlf = g_string_new(NULL);

	(void)state;
	check_forged_removed(forged, 0);
	for (const char *p = forged; *p; p++) {
		if (*p == '\n')
			g_string_append_c(crlf, '\r');
		g_string_append_c(crlf, *p);
	}
	check_forged_removed(crlf->str, 1);
	g_string_free(crlf, TRUE);
}

/* ---- CR/LF/NUL cannot inject headers ---- */

static size_t
nonempty(const struct pd_tags *t)
{
	size_t n = 0;

	for (int k = 0; k < PD_NTAGS; k++)
		n += t->value[k][0] != '\0';
	return n;
}

static void
test_tag_values_no_injection(void **state)
{
	static const char *const evil[] = {
		"KVM: x86\r\nX-Injected: yes", "a\nBcc: victim@example.org", "a\rb\r\n\r\nbody",
		"\n\n\n", "x\x01\x02\x7f\x1b[31m", "=?UTF-8?Q?X-Injected=3A_yes?=",
		"\xc3\xa9t\xc3\xa9\r\nX-Injected: 1",
	};
	struct membuf out;
	struct pd_ingest in;
	struct pd_tags t;

	(void)state;
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		fill_ingest(&in, evil[i], evil[i], evil[i]);
		assert_int_equal(pd_tags_build(&in, &t), 0);
		for (int k = 0; k < PD_NTAGS; k++)
			assert_clean_value(t.name[k], t.value[k]);
		out.s = g_string_new(NULL);
		assert_int_equal(pd_tags_rewrite(forged, strlen(forged), &t, mem_write, &out), 0);
		assert_int_equal(count_header_lines(out.s->str, out.s->len, "X-Injected"), 0);
		assert_int_equal(count_header_lines(out.s->str, out.s->len, "Bcc"), 0);
		assert_int_equal(count_header_lines(out.s->str, out.s->len, "X-Patch-"),
		    nonempty(&t));
		/* exactly one empty line ends the header: nothing was pushed into the body */
		assert_string_equal(header_end(out.s->str), header_end(forged));
		g_string_free(out.s, TRUE);
	}
}

/* Encoded CR/LF/NUL in the mail itself, through the parser and the tagger. */
static void
test_injection_via_parser(void **state)
{
	GString *raw = mkmsg(
	    "=?UTF-8?Q?[PATCH_v2_1/3]_KVM:_x86=0D=0AX-Injected:_yes=00_more?=: fix",
	    "=?UTF-8?Q?Eve=0D=0ABcc:_victim@example.org?= <eve@example.org>",
	    "inj@example.org", NULL);
	struct membuf out = { g_string_new(NULL), 0 };
	struct pd_ingest in;
	struct pd_tags t;
	pd_msg *m = NULL;

	(void)state;
	assert_int_equal(pd_msg_parse(raw->str, raw->len, NULL, &m), 0);
	assert_null(strpbrk(pd_msg_subject(m), "\r\n"));
	assert_null(strpbrk(pd_msg_author(m), "\r\n"));
	assert_null(strpbrk(pd_msg_from(m), "\r\n"));
	pd_msg_free(m);

	assert_int_equal(pd_ingest(NULL, NULL, raw->str, raw->len, NULL, &in), 0);
	assert_true(in.parsed);
	assert_int_equal(pd_tags_build(&in, &t), 0);
	for (int k = 0; k < PD_NTAGS; k++)
		assert_clean_value(t.name[k], t.value[k]);
	assert_int_equal(pd_tags_rewrite(raw->str, raw->len, &t, mem_write, &out), 0);
	assert_int_equal(count_header_lines(out.s->str, out.s->len, "X-Injected"), 0);
	assert_int_equal(count_header_lines(out.s->str, out.s->len, "Bcc"), 0);
	g_string_free(out.s, TRUE);
	g_string_free(raw, TRUE);
}

/* The digest layout: every "New:" block is New/subject/Author, one line each. */
static void
assert_digest_layout(const char *text, int want_blocks)
{
	gchar **lines = g_strsplit(text, "\n", -1);
	int blocks = 0;

	assert_null(strchr(text, '\r'));
	for (int i = 0; lines[i] != NULL; i++) {
		assert_true(strncasecmp(lines[i], "X-Injected", 10) != 0);
		assert_true(strncasecmp(lines[i], "Bcc:", 4) != 0);
		if (strncmp(lines[i], "New:  ", 6) != 0)
			continue;
		blocks++;
		assert_non_null(lines[i + 1]);
		assert_non_null(lines[i + 2]);
		assert_true(strncmp(lines[i + 2], "Author: ", 8) == 0);
	}
	assert_int_equal(blocks, want_blocks);
	g_strfreev(lines);
}

static void
test_digest_no_injection(void **state)
{
	static const char *const subjects[] = {
		"=?UTF-8?Q?[PATCH]_KVM:_x86:_a=0D=0A=0D=0A=3D=3D=3D=3D=3D_Patch_list?=",
		"=?UTF-8?Q?[PATCH]_KVM:_arm64:_b=0AAuthor:_forged=00?=",
		"=?UTF-8?B?W1BBVENIXSB2ZmlvOiBjDQpYLUluamVjdGVkOiB5ZXM=?=",
	};
	char *dir = mkstoredir(), *text = NULL, *html = NULL;
	struct pd_put_result res;
	pd_store *st = open_store(dir);

	(void)state;
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		char id[32];
		GString *raw;

		snprintf(id, sizeof(id), "digest-inj-%zu@example.org", i);
		raw = mkmsg(subjects[i],
		    "=?UTF-8?Q?Mallory=0D=0ABcc:_x@example.org?= <m@example.org>", id,
		    "Line one\r\n.\r\n  indented\n\nSigned-off-by: M <m@example.org>\n");
		assert_int_equal(put_raw(st, raw->str, raw->len, &res), 0);
		g_string_free(raw, TRUE);
	}
	render_open(st, &text, &html);
	assert_digest_layout(text, 3);
	assert_non_null(strstr(text, "===== Patch list in this time period ====="));
	assert_non_null(html);
	free(text);
	free(html);
	pd_store_close(st);
	rmtree(dir);
}

/* ---- oversized fields ---- */

static int
rec_seen(const struct pd_rec *r, void *arg)
{
	(void)r;
	*(int *)arg = 1;
	return 0;
}

static int
stored(pd_store *st, const char *id)
{
	int seen = 0;

	assert_int_equal(pd_store_get_msg(st, id, rec_seen, &seen), 0);
	return seen;
}

static void
test_long_fields(void **state)
{
	GString *subj = g_string_new("[PATCH] KVM: x86:"), *name = g_string_new(NULL);
	GString *id = g_string_new(NULL), *raw, *from;
	char *dir = mkstoredir(), *text = NULL, *html = NULL, *mail = NULL;
	struct pd_put_result res, res2;
	struct pd_ingest in;
	struct pd_tags t;
	struct pd_range r;
	pd_store *st = open_store(dir);
	pd_msg *m = NULL;
	size_t maillen = 0;

	(void)state;
	/* 200 KB subject folded over many lines, 100 KB name, 20 KB Message-ID */
	for (int i = 0; i < 20000; i++)
		g_string_append(subj, i % 8 ? " wordwordw" : "\n wordwordw");
	for (int i = 0; i < 100000; i++)
		g_string_append_c(name, 'a' + i % 26);
	for (int i = 0; i < 20000; i++)
		g_string_append_c(id, 'a' + i % 26);
	g_string_append(id, "@example.org");
	from = g_string_new(NULL);
	g_string_printf(from, "%s <long@example.org>", name->str);
	raw = mkmsg(subj->str, from->str, id->str, NULL);

	assert_int_equal(pd_msg_parse(raw->str, raw->len, NULL, &m), 0);
	assert_true(pd_msg_is_patch(m));
	pd_msg_free(m);

	/* tags stay bounded header lines */
	assert_int_equal(pd_ingest(NULL, NULL, raw->str, raw->len, NULL, &in), 0);
	assert_int_equal(pd_tags_build(&in, &t), 0);
	for (int k = 0; k < PD_NTAGS; k++)
		assert_clean_value(t.name[k], t.value[k]);

	/* stored under a normal Message-ID, counted once */
	g_string_free(raw, TRUE);
	raw = mkmsg(subj->str, from->str, "long-fields@example.org", NULL);
	assert_int_equal(put_raw(st, raw->str, raw->len, &res), 0);
	assert_false(res.duplicate);
	assert_int_equal(put_raw(st, raw->str, raw->len, &res2), 0);
	assert_true(res2.duplicate);
	/*
	 * A Message-ID beyond LMDB's key size is stored under the id derived
	 * from it, and found again by the whole one; the store goes on working.
	 */
	g_string_free(raw, TRUE);
	raw = mkmsg("[PATCH] mm: long id", "B <b@example.org>", id->str, NULL);
	assert_int_equal(put_raw(st, raw->str, raw->len, &res2), 0);
	assert_int_equal(stored(st, id->str), 1);
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(r.patch_messages, 2);
	assert_int_equal(stored(st, "long-fields@example.org"), 1);

	/* the digest mail renders, and no line of it passes 998 octets */
	render_open(st, &text, &html);
	assert_digest_layout(text, 2);
	{
		struct pd_conf *c = test_conf();
		struct pd_digest_rec d;

		memset(&d, 0, sizeof(d));
		d.range_no = 1;
		memcpy(d.from, "000000000", 10);
		memcpy(d.to, res.short_id, 10);
		d.text = text;
		d.html = html;
		d.msgid = (char *)"digest-long@example.org";
		assert_int_equal(pd_send_build(c, &d, &mail, &maillen), 0);
		assert_max_line(mail, maillen, LINE_MAX_OCTETS);
		free(mail);
		pd_conf_free(c);
	}
	free(text);
	free(html);
	pd_store_close(st);
	rmtree(dir);
	g_string_free(raw, TRUE);
	g_string_free(from, TRUE);
	g_string_free(subj, TRUE);
	g_string_free(name, TRUE);
	g_string_free(id, TRUE);
}

/* ---- size and shape ---- */

static void
test_many_headers(void **state)
{
	GString *raw = g_string_new(NULL);
	struct membuf out = { g_string_new(NULL), 0 };
	pd_msg *m = NULL;

	(void)state;
	for (int i = 0; i < 100000; i++)
		g_string_append_printf(raw, "X-Filler-%d: value %d\n", i, i);
	g_string_append(raw, "From: A <a@example.org>\nSubject: [PATCH] mm: x\n"
	    "Message-ID: <many-headers@example.org>\n\nbody\n");
	assert_int_equal(pd_msg_parse(raw->str, raw->len, NULL, &m), 0);
	assert_string_equal(pd_msg_id(m), "many-headers@example.org");
	assert_true(pd_msg_is_patch(m));
	pd_msg_free(m);
	/* rewriting without tags hands every byte on */
	assert_int_equal(pd_tags_rewrite(raw->str, raw->len, NULL, mem_write, &out), 0);
	assert_int_equal(out.s->len, raw->len);
	assert_memory_equal(out.s->str, raw->str, raw->len);
	g_string_free(out.s, TRUE);
	g_string_free(raw, TRUE);
}

static void
test_huge_body(void **state)
{
	const size_t size = (size_t)60 << 20;
	GString *raw = mkmsg("[PATCH] KVM: x86: huge", "A <a@example.org>",
	    "huge@example.org", "Commit message.\n\nSigned-off-by: A <a@example.org>\n---\n");
	struct membuf out = { g_string_sized_new(size + 4096), 0 };
	struct pd_ingest in;
	struct pd_tags t;
	pd_msg *m = NULL;
	size_t head = raw->len;

	(void)state;
	while (raw->len < head + size)
		g_string_append(raw, "+ a line of a very long diff, over and over again\n");
	assert_int_equal(pd_msg_parse(raw->str, raw->len, NULL, &m), 0);
	assert_string_equal(pd_msg_id(m), "huge@example.org");
	/* the excerpt is bounded whatever the body */
	assert_true(strlen(pd_msg_excerpt(m)) <= 64 * 1024);
	pd_msg_free(m);
	assert_int_equal(pd_ingest(NULL, NULL, raw->str, raw->len, NULL, &in), 0);
	assert_int_equal(pd_tags_build(&in, &t), 0);
	assert_int_equal(pd_tags_rewrite(raw->str, raw->len, &t, mem_write, &out), 0);
	/* the body is passed on whole */
	assert_true(out.s->len > raw->len);
	assert_memory_equal(out.s->str + out.s->len - (raw->len - head), raw->str + head,
	    raw->len - head);
	g_string_free(out.s, TRUE);
	g_string_free(raw, TRUE);
}

static void
test_deep_mime(void **state)
{
	GString *raw = g_string_new("From: A <a@example.org>\nSubject: [PATCH] deep\n"
	    "Message-ID: <deep@example.org>\nMIME-Version: 1.0\n");
	pd_msg *m = NULL;
	int depth = 1000;

	(void)state;
	for (int i = 0; i < depth; i++)
		g_string_append_printf(raw, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n"
		    "--b%d\n", i, i);
	g_string_append(raw, "Content-Type: text/plain\n\ninnermost text\n");
	for (int i = depth - 1; i >= 0; i--)
		g_string_append_printf(raw, "--b%d--\n", i);
	assert_int_equal(pd_msg_parse(raw->str, raw->len, NULL, &m), 0);
	assert_string_equal(pd_msg_id(m), "deep@example.org");
	assert_msg_utf8(m);
	pd_msg_free(m);

	/* and wide: 100,000 sibling parts */
	g_string_assign(raw, "From: A <a@example.org>\nSubject: [PATCH] wide\n"
	    "Message-ID: <wide@example.org>\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"w\"\n\n");
	for (int i = 0; i < 100000; i++)
		g_string_append(raw, "--w\nContent-Type: application/octet-stream\n\nx\n");
	g_string_append(raw, "--w--\n");
	assert_int_equal(pd_msg_parse(raw->str, raw->len, NULL, &m), 0);
	assert_string_equal(pd_msg_id(m), "wide@example.org");
	pd_msg_free(m);
	g_string_free(raw, TRUE);
}

static void
test_bad_transfer_encodings(void **state)
{
	static const char *const bodies[] = {
		"Content-Transfer-Encoding: base64\n\n!!!!not base64 at all@@@@\n====\nQUJD\x80\xff=\n",
		"Content-Transfer-Encoding: base64\n\nQUJ\n",	/* truncated quantum */
		"Content-Transfer-Encoding: quoted-printable\n\nbad =ZZ escape =\n=4 =\r\n=C3=\n=FF=FE end=",
		"Content-Transfer-Encoding: x-uuencode\n\nbegin 644 x\nM86)C\n`\nend\n",
		"Content-Transfer-Encoding: 7bit\n\n\x80\x81\x82 eight bit in 7bit\n",
	};
	pd_msg *m = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		GString *raw = g_string_new("From: A <a@example.org>\nSubject: [PATCH] enc\n"
		    "Message-ID: <enc@example.org>\nMIME-Version: 1.0\n"
		    "Content-Type: text/plain; charset=utf-8\n");

		g_string_append(raw, bodies[i]);
		assert_int_equal(pd_msg_parse(raw->str, raw->len, NULL, &m), 0);
		assert_msg_utf8(m);
		pd_msg_free(m);
		g_string_free(raw, TRUE);
	}
}

#define NUL_SUBJECT "Subject: [PATCH] \x00n\x00u\x00l\n"

static void
test_bad_charsets(void **state)
{
	static const char *const cases[][2] = {
		{ "x-no-such-charset", "Subject: [PATCH] caf\xe9 \xff\xfe\n" },
		{ "utf-8", "Subject: [PATCH] \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 overlong \xc0\xaf\n" },
		{ "iso-2022-jp", "Subject: =?x-bogus?Q?caf=E9?= =?utf-8?B?////?=\n" },
		{ "", "Subject: =?utf-8?q?=C3?= [PATCH] split =?utf-8?q?=A9?=\n" },
		{ "utf-16", NUL_SUBJECT },
	};
	pd_msg *m = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		GString *raw = g_string_new("From: \xc9ve \xff <e@example.org>\n"
		    "Message-ID: <cs@example.org>\nMIME-Version: 1.0\n");

		/* the subject cases hold NULs: append by length */
		g_string_append_len(raw, cases[i][1],
		    i == 4 ? (gssize)sizeof(NUL_SUBJECT) - 1 : (gssize)strlen(cases[i][1]));
		g_string_append_printf(raw, "Content-Type: text/plain; charset=\"%s\"\n\n",
		    cases[i][0]);
		g_string_append(raw, "caf\xe9 \xc3\x28 \x1b$B$3$s\x1b(B \xff\xfe\xfd\n\n"
		    "Signed-off-by: \xc9ve <e@example.org>\n");
		assert_int_equal(pd_msg_parse(raw->str, raw->len, NULL, &m), 0);
		assert_msg_utf8(m);
		pd_msg_free(m);
		g_string_free(raw, TRUE);
	}
}

/* ---- a mailbomb of one Message-ID ---- */

static int
count_sum(const char *name, uint64_t count, void *arg)
{
	(void)name;
	*(uint64_t *)arg += count;
	return 0;
}

static void
test_mailbomb_same_msgid(void **state)
{
	char *dir = mkstoredir();
	pd_store *st = open_store(dir);
	struct pd_put_result res;
	struct pd_range r;
	int dups = 0;

	(void)state;
	assert_int_equal(pd_store_begin(st), 0);
	for (int i = 0; i < 2000; i++) {
		char subj[64], from[64];
		GString *raw;

		/* same Message-ID, everything else different */
		snprintf(subj, sizeof(subj), "[PATCH v%d %d/9] KVM: x86: bomb %d", i % 5 + 1,
		    i % 9 + 1, i);
		snprintf(from, sizeof(from), "Bomber %d <b%d@bomb%d.example>", i, i, i % 7);
		raw = mkmsg(subj, from, "bomb@example.org", NULL);
		assert_int_equal(put_raw(st, raw->str, raw->len, &res), 0);
		dups += res.duplicate;
		g_string_free(raw, TRUE);
	}
	assert_int_equal(pd_store_commit(st), 0);
	assert_int_equal(dups, 1999);
	assert_int_equal(pd_store_range(st, NULL, &r), 0);
	assert_int_equal(r.messages, 1);
	assert_int_equal(r.patch_messages, 1);
	for (int c = 0; c < PD_COUNT_MAX; c++) {
		uint64_t sum = 0;

		assert_int_equal(pd_store_foreach_count(st, &r, (enum pd_counter)c,
		    count_sum, &sum), 0);
		/* the one message classified to a subsystem counts there once too */
		assert_int_equal(sum, 1);
	}
	pd_store_close(st);
	rmtree(dir);
}

/* ---- markup in the HTML digest ---- */

static void
test_html_escapes_markup(void **state)
{
	char *dir = mkstoredir(), *text = NULL, *html = NULL;
	pd_store *st = open_store(dir);
	struct pd_put_result res;
	GString *raw;

	(void)state;
	raw = mkmsg("[PATCH] KVM: x86: <script>alert(1)</script> & <b>bold</b>",
	    "\"<img src=x onerror=alert(2)>\" <evil@example.org>",
	    "\"><script>alert(3)</script>@example.org",
	    "<script>alert(4)</script>\n<iframe src=//evil>\n\nSigned-off-by: E <e@example.org>\n");
	assert_int_equal(put_raw(st, raw->str, raw->len, &res), 0);
	g_string_free(raw, TRUE);
	render_open(st, &text, &html);
	assert_non_null(html);
	/* shown as text in the plain part ... */
	assert_non_null(strstr(text, "<script>alert(1)</script>"));
	/* ... and escaped in the HTML, in text and in attributes */
	assert_null(strcasestr(html, "<script"));
	assert_null(strcasestr(html, "<img"));
	assert_null(strcasestr(html, "<iframe"));
	assert_null(strcasestr(html, "<b>bold"));
	assert_null(strstr(html, "\"><"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	free(text);
	free(html);
	pd_store_close(st);
	rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_tags_removed),
		cmocka_unit_test(test_tag_values_no_injection),
		cmocka_unit_test(test_injection_via_parser),
		cmocka_unit_test(test_digest_no_injection),
		cmocka_unit_test(test_long_fields),
		cmocka_unit_test(test_many_headers),
		cmocka_unit_test(test_huge_body),
		cmocka_unit_test(test_deep_mime),
		cmocka_unit_test(test_bad_transfer_encodings),
		cmocka_unit_test(test_bad_charsets),
		cmocka_unit_test(test_mailbomb_same_msgid),
		cmocka_unit_test(test_html_escapes_markup),
	};
	int rc;

	pd_msg_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	pd_msg_shutdown();
	return rc;
}
