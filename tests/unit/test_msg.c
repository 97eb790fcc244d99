/*
 * The message parser on real corpus mail (../shared/corpus): author,
 * decoding, excerpt, files, trailers, ids, pull requests; expected values
 * written by hand from reading each file.  Then CRLF input, bounds and
 * hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <glib.h>

#include "patchdigest/error.h"
#include "patchdigest/msg.h"

struct want {
	const char	*file;		/* under $PD_SHARED/corpus */
	int		 kind;		/* -1: not checked */
	const char	*author;
	const char	*domain;
	const char	*title;
	const char	*excerpt_head;	/* excerpt starts with this */
	const char	*file0;		/* first touched file, NULL: none checked */
	const char	*trailer;	/* "Name: value" that must be present */
	const char	*msgid;		/* NULL: not checked; "": synthetic */
};

#define P	PD_KIND_PATCH
#define C	PD_KIND_COVER
#define RE	PD_KIND_REPLY
#define PU	PD_KIND_PULL
#define O	PD_KIND_OTHER

static const struct want wants[] = {
	/* git t5100: in-body headers, RFC 2047, comments, odd encodings. */
	{ "git-t5100/sample.mbox.01.eml", P, "A (zzz) U Thor (Comment) <a.u.thor@example.com>", "example.com", "a commit.", "Here is a patch from A U Thor.\n\n---\n foo | 2 +-", "foo", NULL, NULL },
	{ "git-t5100/sample.mbox.02.eml", P, "A U Thor <a.u.thor@example.com>", "example.com", "another patch", "Here is a patch from A U Thor.  This addresses the", "foo", NULL, NULL },
	{ "git-t5100/sample.mbox.04.eml", P, "YOSHIFUJI Hideaki / 吉藤英明 <yoshfuji@linux-ipv6.org>", "linux-ipv6.org", "GIT: Try all addresses for given remote name", "Hello.\n\nTry all addresses", "connect.c", NULL, NULL },
	{ "git-t5100/sample.mbox.05.eml", P, "David Kågedal <davidk@lysator.liu.se>", "lysator.liu.se", "Fixed two bugs in git-cvsimport-script.", "The git-cvsimport-script had a copule of small bug", "Documentation/git-cvsimport-script.txt", NULL, "u5tacjjdpxq.fsf@lysator.liu.se" },
	{ "git-t5100/sample.mbox.08.eml", RE, "Junio C Hamano <junio@kernel.org>", "kernel.org", "another patch", ">Here is an empty patch from A U Thor.", NULL, NULL, NULL },
	{ "git-t5100/sample.mbox.10.eml", RE, "Lukas Sandström <lukass@etek.chalmers.se>", "etek.chalmers.se", "git-mailinfo: Fix getting the subject from the body", "\"Subject: \" isn't in the static array", "builtin-mailinfo.c", "Signed-off-by: Junio C Hamano <gitster@pobox.com>", NULL },
	{ "git-t5100/sample.mbox.12.eml", P, "Dmitriy Blinov <bda@mnsspb.ru>", "mnsspb.ru", "Изменён список пакетов необходимых для сборки", "textlive-* исправлены на texlive-*", "howto/build_navy.txt", "Signed-off-by: Dmitriy Blinov <bda@mnsspb.ru>", NULL },
	{ "git-t5100/sample.mbox.13.eml", P, "A U Thor <a.u.thor@example.com>", "example.com", "a patch", "", NULL, NULL, NULL },
	{ "git-t5100/sample.mbox.15.eml", O, "A U Thor <a.u.thor@example.com>", "example.com", "check bogus body header (from)", "---", "foo", NULL, NULL },
	{ "git-t5100/embed-from.in.eml", P, "Commit Author <commit@example.com>", "example.com", "patch subject", "patch body\n---\npatch", NULL, NULL, NULL },
	{ "git-t5100/info-from.in.eml", P, "bare@example.com", "example.com", "testing bare address in from header", "commit message\n---\npatch", NULL, NULL, NULL },
	{ "git-t5100/quoted-string.in.eml", P, "Author \"The Author\" Name <somebody@example.com>", "example.com", "testing quoted-pair", "---\npatch", NULL, NULL, NULL },
	{ "git-t5100/comment.in.eml", P, "A U Thor <somebody@example.com>", "example.com", "testing comments", "---\npatch", NULL, NULL, NULL },
	{ "git-t5100/nul-b64.in.eml", P, "Junio C Hamano <gitster@pobox.com>", "pobox.com", "second", "---\n file |  Bin 1357 -> 1357 bytes", "file", NULL, NULL },
	{ "git-t5100/quoted-cr.mbox.01.eml", P, "A U Thor <mail@example.com>", "example.com", "sample", "On different distro, \npytest is suffixed", "configure", NULL, "msg-id@example.com" },
	{ "git-t5100/rfc2047-samples.mbox.02.eml", O, "Olle Järnefors <ojarnef@admin.kth.se>", "admin.kth.se", "Time for ISO 10646?", "", NULL, NULL, NULL },
	{ "git-t5100/rfc2047-samples.mbox.04.eml", O, "Nathaniel Borenstein (םולש ןב ילטפנ) <nsb@thumper.bellcore.com>", "thumper.bellcore.com", "Test of new header generator", "", NULL, NULL, NULL },
	{ "git-t5100/rfc2047-samples.mbox.06.eml", O, "", "", "(a b)", "", NULL, NULL, NULL },
	{ "git-t5100/rfc2047-samples.mbox.07.eml", O, "", "", "(ab)", "", NULL, NULL, NULL },
	{ "git-t5100/sample.mboxrd.01.eml", P, "mboxrd writer <mboxrd@example.com>", "example.com", "a commit with escaped From lines", ">From the beginning, mbox should have been mboxrd", NULL, NULL, NULL },
	/* patchew: non-UTF-8, invalid charsets, nested multipart, mislabelled. */
	{ "patchew/0005-non-utf-8.mbox.eml", RE, "Emilio G. Cota <cota@braap.org>", "braap.org", "cpu-exec-common: Introduce async_safe_run_on_cpu()", "On Wed, Aug 03, 2016 at 22:02:04 +0100, Alex Bennée wrote:", NULL, NULL, NULL },
	{ "patchew/0006-multi-part-non-utf-8.mbox.eml", RE, "Stefan Hajnoczi <stefanha@gmail.com>", "gmail.com", NULL, "On Tue, Aug 02, 2016 at 10:12:16AM -0400, Colin Lo", NULL, "Reviewed-by: Stefan Hajnoczi <stefanha@redhat.com>", NULL },
	{ "patchew/0007-invalid-charset.mbox.eml", P, "Jiaxin Wu <jiaxin.wu@intel.com>", "intel.com", "Readme.MD: Clarify the feature support scope", "Cc: Palmer Thomas <thomas.palmer@hpe.com>", "Readme.MD", "Cc: Palmer Thomas <thomas.palmer@hpe.com>", NULL },
	{ "patchew/0010-invalid-byte.mbox.eml", C, "Ruiyu Ni <ruiyu.ni@intel.com>", "intel.com", NULL, "This reverts commit 95fc5a877502a6e6324300eed01362", "ShellPkg/Application/Shell/Shell.c", NULL, NULL },
	{ "patchew/0016-nested-multipart.mbox.eml", RE, "Eric Blake <eblake@redhat.com>", "redhat.com", NULL, "On 07/25/2017 10:57 AM, Jeff Cody wrote:", NULL, NULL, NULL },
	{ "patchew/0018-mime-word-recipient.mbox.eml", P, "Philippe Mathieu-Daudé <f4bug@amsat.org>", "amsat.org", "vl: only display available accelerators", NULL, "vl.c", NULL, NULL },
	{ "patchew/0035-rfc2047-from.mbox.eml", P, "AIERPATIJIANG1 [艾尔帕提江·阿布都赛买提] <AIERPATIJIANG1@kingsoft.com>", "kingsoft.com", NULL, "Ports enter a \"throttled\" state", "hw/char/virtio-serial-bus.c", NULL, NULL },
	{ "patchew/0034-rename-only-patch.mbox.eml", P, "Vladimir Sementsov-Ogievskiy <vsementsov@virtuozzo.com>", "virtuozzo.com", "iotests: rename and move 169 and 199 tests", "Rename bitmaps migration tests", "tests/qemu-iotests/tests/migrate-bitmaps-postcopy-test", NULL, NULL },
	{ "patchew/0038-octet-stream.mbox.eml", PU, "Markus Armbruster <armbru@redhat.com>", "redhat.com", "qapi: fix example of BLOCK_IMAGE_CORRUPTED event", "From: Victor Toso <victortoso@redhat.com>\n\nExample", "qapi/block-core.json", NULL, NULL },
	{ "patchew/0002-unusual-cased-tags.mbox.eml", P, "Fam Zheng <famz@redhat.com>", "redhat.com", "quorum: Only compile when supported", "This was the only exceptional module init function", "block/Makefile.objs", NULL, NULL },
	/* b4: follow-up trailers in replies (quoted patch ignored). */
	{ "b4/trailers-followup-bare-address.mbox.02.eml", RE, "Followup Reviewer1 <followup-reviewer1@example.com>", "example.com", "Simple test", "> This is a simple trailer parsing test.", NULL, "Reviewed-by: Followup Reviewer1 (corporate) <followup-reviewer1@example.com>", NULL },
	{ "b4/trailers-thread-with-cover-followup.mbox.06.eml", RE, "Follow Upper <follow.upper@example.org>", "example.org", "Minor typo changes imitation", "> Life imitatus artem.", NULL, "Closes: https://example.org/bug/1234", NULL },
	{ "b4/trailers-thread-with-cover-followup.mbox.07.eml", RE, "Cover Upper <cover.upper@example.org>", "example.org", "This is a cover for test series 1", "> Test patches for pytest.\n\nReviewed-by:", NULL, "Reviewed-by: Cover Upper <cover.upper@example.org>", NULL },
	{ "b4/shazam-git1-just-series.mbox.01.eml", C, "Konstantin Ryabitsev <konstantin@linuxfoundation.org>", "linuxfoundation.org", "This is a cover for test series 1", "Test patches for pytest.", "file1.txt", "change-id: 20221025-test1-e8520c2200a3", NULL },
	{ "b4/naked-cover-bugreport.mbox.02.eml", P, "Test Author <author@example.org>", "example.org", "widget: fix data corruption under load", "Take the lock before touching the shared", "file1", "Reported-by: Bug Reporter <reporter@example.com>", NULL },
	{ "b4/trailers-followup-name-parens.mbox.06.eml", RE, "Followup Tester2 <followup-tester2@example.com>", "example.com", "Simple test", "> This is a simple trailer parsing test.", NULL, "Tested-by: Tester2, Followup <followup-tester2@example.com>", NULL },
	/* patchwork: renames, CVS diffs, binary, no Message-ID, no Subject. */
	{ "patchwork/mail/0008-git-rename.mbox.eml", P, "Yann E. MORIN <yann.morin.1998@free.fr>", "free.fr", "package/rpi-userland: rename patches", "Rename patches to follow stand", "package/rpi-userland/rpi-userland-000-add-pkgconfig-files.patch", "Signed-off-by: \"Yann E. MORIN\" <yann.morin.1998@free.fr>", "" },
	{ "patchwork/mail/0007-cvs-format-diff.mbox.eml", P, "David Daney <david.daney@cavium.com>", "cavium.com", "Fix ld pr11138 FAILures on mips*.", "The pr11138 testcase links an executable", "bfd/elf-bfd.h", NULL, NULL },
	{ "patchwork/mail/0026-git-add-mixed-binary-text-files.mbox.eml", P, "Stephen Finucane <stephen@that.guru>", "that.guru", NULL, "Demonstrate how Git generates a patch", "pixel.bmp", NULL, NULL },
	{ "patchwork/mail/0016-no-subject.mbox.eml", O, "Yann E. MORIN <yann.morin.1998@free.fr>", "free.fr", "", "Rename patches to follow standard naming", NULL, NULL, NULL },
	{ "patchwork/mail/0014-with-unencoded-utf8-headers.mbox.eml", O, "Rafał Miłecki <zajec5@gmail.com>", "gmail.com", "MAINTAINERS: Update entry for BCM5301X ARM to include Rafał Miłecki", "Add myself as I contribute to it.", "MAINTAINERS", NULL, NULL },
	{ "patchwork/mail/0015-with-invalid-utf8-headers.mbox.eml", O, "Rafał Miłecki <zajec5@gmail.com>", "gmail.com", NULL, "Add myself as I contribute to it.", "MAINTAINERS", NULL, NULL },
	{ "patchwork/mail/0019-multipart-patch.mbox.eml", P, "Yuri Volchkov <yuri.volchkov@gmail.com>", "gmail.com", NULL, "Currently an html-protection present onl", "patchwork/parser.py", NULL, NULL },
	{ "patchwork/series/base-cover-letter.mbox.01.eml", C, "Stephen Finucane <stephenfinucane@hotmail.com>", "hotmail.com", "A sample series", "This is a sample cover letter.", "test.md", NULL, NULL },
	/* lore-kvmarm: base64 body, ISO-2022-JP, mangled diff header. */
	{ "lore-kvmarm/000037.eml", P, "Dave Martin <Dave.Martin@arm.com>", "arm.com", NULL, "This patch updates fpsimd_flush_task_state() to mirror the new", "arch/arm64/kernel/fpsimd.c", NULL, "20190503124427.190206-3-marc.zyngier@arm.com" },
	{ "lore-kvmarm/000722.eml", RE, "Zhang, Lei <zhang.lei@jp.fujitsu.com>", "jp.fujitsu.com", "KVM: arm64: Implement vq_present() as a macro", "Hi guys,\n\nI can't start up KVM guest os", "arch/arm64/kvm/guest.c", NULL, NULL },
	{ "lore-kvmarm/010953.eml", RE, "Jason Wang <jasowang@redhat.com>", "redhat.com", NULL, "在 2021/5/8 上午1:36, Marc Zyngier 写道:", NULL, NULL, NULL },
};

static char *
slurp(const char *rel, size_t *len)
{
	const char *shared = getenv("PD_SHARED");
	char path[4096];
	FILE *fp;
	char *buf;
	long n;

	assert_non_null(shared);
	assert_true(snprintf(path, sizeof(path), "%s/corpus/%s", shared, rel) <
	    (int)sizeof(path));
	if ((fp = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static pd_msg *
parse_file(const char *rel)
{
	size_t len;
	char *buf = slurp(rel, &len);
	pd_msg *m = NULL;

	assert_int_equal(pd_msg_parse(buf, len, NULL, &m), 0);
	free(buf);
	return m;
}

static int
has_trailer(const pd_msg *m, const char *want)
{
	char buf[1024];
	size_t i;

	for (i = 0; i < pd_msg_ntrailers(m); i++) {
		snprintf(buf, sizeof(buf), "%s: %s", pd_msg_trailer_name(m, i),
		    pd_msg_trailer_value(m, i));
		if (strcmp(buf, want) == 0)
			return 1;
	}
	return 0;
}

#define CHECK_STR(what, got, want) do {					\
	if (strcmp((got), (want)) != 0)					\
		fail_msg("%s: %s \"%s\", want \"%s\"", w->file, (what),	\
		    (got), (want));					\
} while (0)

static void
test_corpus(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const struct want *w = &wants[i];
		pd_msg *m = parse_file(w->file);

		if (w->kind >= 0 && (int)pd_msg_kind(m) != w->kind)
			fail_msg("%s: kind %s", w->file,
			    pd_kind_name(pd_msg_kind(m)));
		CHECK_STR("author", pd_msg_author(m), w->author);
		CHECK_STR("domain", pd_msg_domain(m), w->domain);
		if (w->title != NULL)
			CHECK_STR("title", pd_msg_title(m), w->title);
		if (w->excerpt_head != NULL &&
		    strncmp(pd_msg_excerpt(m), w->excerpt_head,
		    strlen(w->excerpt_head)) != 0)
			fail_msg("%s: excerpt \"%.80s\"", w->file,
			    pd_msg_excerpt(m));
		if (w->file0 != NULL) {
			assert_true(pd_msg_nfiles(m) > 0);
			CHECK_STR("file", pd_msg_file(m, 0), w->file0);
		}
		if (w->trailer != NULL && !has_trailer(m, w->trailer))
			fail_msg("%s: no trailer \"%s\"", w->file, w->trailer);
		if (w->msgid != NULL && *w->msgid == '\0')
			assert_int_equal(pd_msg_id_synthetic(m), 1);
		else if (w->msgid != NULL) {
			CHECK_STR("message-id", pd_msg_id(m), w->msgid);
			assert_int_equal(pd_msg_id_synthetic(m), 0);
		}
		/* Never a trailing blank line, never a CR. */
		assert_null(strchr(pd_msg_excerpt(m), '\r'));
		if (*pd_msg_excerpt(m))
			assert_int_not_equal(pd_msg_excerpt(m)[
			    strlen(pd_msg_excerpt(m)) - 1], '\n');
		pd_msg_free(m);
	}
}

/*
 * A From: rewritten by the list for DMARC, or by kernel.org's B4 Relay,
 * names the sender in X-Original-From: or Reply-To: (one mailbox).
 */
static void
test_unmunge_from(void **state)
{
	static const struct {
		const char *from, *extra, *author, *domain;
	} cases[] = {
		{ "\"Jane Dev via Qemu-devel\" <qemu-devel@nongnu.org>",
		  "Reply-To: Jane Dev <jane@example.com>\n",
		  "Jane Dev <jane@example.com>", "example.com" },
		{ "Jane Dev via B4 Relay <devnull+jane.example.com@kernel.org>",
		  "Reply-To: jane@example.com\n",
		  "Jane Dev <jane@example.com>", "example.com" },
		{ "\"Bob via Qemu-devel\" <qemu-devel@nongnu.org>",
		  "Reply-To: Other <o@example.org>\nX-Original-From: Bob Roe <bob@example.net>\n",
		  "Bob Roe <bob@example.net>", "example.net" },
		/* the list as Reply-To, two mailboxes, none: nothing to read */
		{ "\"Jane via L\" <l@lists.example.org>", "Reply-To: l@lists.example.org\n",
		  "Jane via L <l@lists.example.org>", "lists.example.org" },
		{ "\"Jane via L\" <l@lists.example.org>",
		  "Reply-To: Jane <j@example.com>, l@lists.example.org\n",
		  "Jane via L <l@lists.example.org>", "lists.example.org" },
		{ "\"Jane via L\" <l@lists.example.org>", "",
		  "Jane via L <l@lists.example.org>", "lists.example.org" },
		/* an ordinary sender with a Reply-To keeps the From: */
		{ "Ann <ann@example.org>", "Reply-To: team@example.org\n",
		  "Ann <ann@example.org>", "example.org" },
		/* Reply-To is the sender only by name, or by the relay's address */
		{ "\"'Jane Dev' via kasan-dev\" <kasan-dev@googlegroups.com>",
		  "Reply-To: Jane Dev <jane@example.com>\n",
		  "Jane Dev <jane@example.com>", "example.com" },
		{ "Tom via Phabricator <noreply@reviews.example.org>",
		  "Reply-To: kvm@vger.kernel.org\n",
		  "Tom via Phabricator <noreply@reviews.example.org>", "reviews.example.org" },
		{ "\"Jane via L\" <l@lists.example.org>", "Reply-To: L <l2@lists.example.org>\n",
		  "Jane via L <l@lists.example.org>", "lists.example.org" },
		{ "Jane via B4 Relay <devnull+jane.example.com@kernel.org>",
		  "Reply-To: joe@example.com\n",
		  "Jane via B4 Relay <devnull+jane.example.com@kernel.org>", "kernel.org" },
		{ "\"Jane via L\" <l@lists.example.org>",
		  "Reply-To: team: Jane <a@x.org>, b@y.org;\n",
		  "Jane via L <l@lists.example.org>", "lists.example.org" },
	};
	char raw[1024];
	pd_msg *m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(raw, sizeof(raw), "From: %s\n%sSubject: [PATCH 1/2] hw/alpha: x\n"
		    "Message-ID: <u%zu@ex.org>\n\nText.\n", cases[i].from, cases[i].extra, i);
		assert_int_equal(pd_msg_parse(raw, strlen(raw), NULL, &m), 0);
		assert_string_equal(pd_msg_author(m), cases[i].author);
		assert_string_equal(pd_msg_from(m), cases[i].author);
		assert_string_equal(pd_msg_domain(m), cases[i].domain);
		pd_msg_free(m);
	}
}

/*
 * Outlook does not quote the message answered: below "-----Original
 * Message-----" (or its line of underscores and From:) the trailers are
 * the patch's, not the reply's.  A patch's own text is read whole.
 */
static void
test_outlook_reply(void **state)
{
	static const char orig[] = "From: A <a@ex.org>\nSent: Monday\n"
	    "Subject: [PATCH] x\n\nCommit message.\n\n"
	    "Signed-off-by: A <a@ex.org>\nReviewed-by: B <b@ex.org>\n"
	    "Acked-by: C <c@ex.org>\n";
	char raw[2048];
	pd_msg *m;

	(void)state;
	snprintf(raw, sizeof(raw), "From: R <r@ex.org>\nSubject: RE: [PATCH] x\n"
	    "Message-ID: <o1@ex.org>\n\nLooks fine.\n\nReviewed-by: R <r@ex.org>\n\n"
	    "  -----Original Message-----\r\n%s", orig);
	assert_int_equal(pd_msg_parse(raw, strlen(raw), NULL, &m), 0);
	assert_int_equal(pd_msg_ntrailers(m), 1);
	assert_true(has_trailer(m, "Reviewed-by: R <r@ex.org>"));
	pd_msg_free(m);
	snprintf(raw, sizeof(raw), "From: R <r@ex.org>\nSubject: RE: [PATCH] x\n"
	    "Message-ID: <o2@ex.org>\n\nLooks fine.\n\n"
	    "________________________________\n%s", orig);
	assert_int_equal(pd_msg_parse(raw, strlen(raw), NULL, &m), 0);
	assert_int_equal(pd_msg_ntrailers(m), 0);
	pd_msg_free(m);
	snprintf(raw, sizeof(raw), "From: A <a@ex.org>\nSubject: [PATCH] x\n"
	    "Message-ID: <o3@ex.org>\n\nQuoting the report:\n"
	    "-----Original Message-----\nIt broke.\n\n"
	    "Reviewed-by: B <b@ex.org>\n---\n"
	    "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n");
	assert_int_equal(pd_msg_parse(raw, strlen(raw), NULL, &m), 0);
	assert_true(has_trailer(m, "Reviewed-by: B <b@ex.org>"));
	pd_msg_free(m);
}

/*
 * The footer is looked for near the end only, from a line's start: a
 * rule of underscores that the window's start cuts in two is no footer.
 */
static void
footer_window(void)
{
	static const char name[] = "\nkvm mailing list\n", rb[] = "Reviewed-by: B <b@ex.org>\n";
	GString *raw = g_string_new("From: A <a@ex.org>\nSubject: Re: x\n"
	    "Message-ID: <w@ex.org>\n\n");
	pd_msg *m;

	for (int i = 0; i < 20; i++)
		g_string_append(raw, "A line of the author's text, forty long.\n");
	g_string_append(raw, "Table heading ");
	for (int i = 0; i < 40; i++)
		g_string_append_c(raw, '_');
	g_string_append(raw, name);
	/* blank lines, so that the last 4096 bytes start at underscore 21 */
	for (size_t i = 0; i < 4096 - 20 - strlen(name) - strlen(rb); i++)
		g_string_append_c(raw, '\n');
	g_string_append(raw, rb);
	assert_int_equal(pd_msg_parse(raw->str, raw->len, NULL, &m), 0);
	assert_true(has_trailer(m, "Reviewed-by: B <b@ex.org>"));
	pd_msg_free(m);
	g_string_free(raw, TRUE);
}

/*
 * The footer Mailman appends is none of the author's: a trailer right
 * above it counts (it hid the trailer block), and no excerpt shows it.
 * Nor git's signature whose "-- " lost its blank on the way; a "--" that
 * underlines a heading, or with text after the version line, stays.  A
 * quilt diff ends the excerpt like git's.
 */
static void
test_list_footer(void **state)
{
	static const char footer[] = "_______________________________________________\n"
	    "kvmarm mailing list\nkvmarm@lists.cs.columbia.edu\n"
	    "https://lists.cs.columbia.edu/mailman/listinfo/kvmarm\n";
	static const struct {
		const char *body, *excerpt;
	} cases[] = {
		{ "Two fixes.\n\n f | 1 +\n 1 file changed\n\n--\n2.17.1\n\n%s",
		    "Two fixes.\n\n f | 1 +\n 1 file changed" },
		{ "Two fixes.\n--\n2.34.1.400.ga245620fadb-goog\n",
		    "Two fixes." },
		{ "Changes\n\nv4\n--\n\n- add two patches\n%s",
		    "Changes\n\nv4\n--\n\n- add two patches" },
		{ "Two fixes.\n--\n1.8.3.1\n\n> quoted\n",
		    "Two fixes.\n--\n1.8.3.1\n\n> quoted" },
		{ "Two fixes.\n____________________\nnot a list\n",
		    "Two fixes.\n____________________\nnot a list" },
		{ "Looks good. Remaining items\n--\n1. Rename foo_bar() in v3.\n",
		    "Looks good. Remaining items\n--\n1. Rename foo_bar() in v3." },
		{ "Traps foo.\n____________________\nSee the kvmarm mailing list\n"
		    "thread: https://lore.kernel.org/x\n\nA (1):\n  foo\n",
		    "Traps foo.\n____________________\nSee the kvmarm mailing list\n"
		    "thread: https://lore.kernel.org/x\n\nA (1):\n  foo" },
		{ "Traps foo.\n____________________\nEarlier discussion on the kvmarm "
		    "mailing list: https://lore.kernel.org/x\n",
		    "Traps foo.\n____________________\nEarlier discussion on the kvmarm "
		    "mailing list: https://lore.kernel.org/x" },
		{ "Traps foo.\n\n____________________\nkvm mailing list -- kvm@ex.org\n"
		    "To unsubscribe send an email to kvm-leave@ex.org\n", "Traps foo." },
		{ "Two fixes.\n--\n2.39.2 (Apple Git-143)\n", "Two fixes." },
		/* quilt: no diff --git line */
		{ "Fix.\n---\n f | 2 +-\n\n--- l.orig/f\n+++ l/f\n@@ -1 +1 @@\n-a\n+b\n",
		    "Fix.\n---\n f | 2 +-" },
		{ "Fix.\n--- snip ---\n+++ x\nmore\n", "Fix.\n--- snip ---\n+++ x\nmore" },
	};
	char raw[2048];
	const char *ex;
	pd_msg *m;

	(void)state;
	m = parse_file("lore-kvmarm/020890.eml");
	assert_true(has_trailer(m, "Reviewed-by: Ricardo Koller <ricarkol@google.com>"));
	ex = pd_msg_excerpt(m);
	assert_true(strlen(ex) > 60);
	assert_string_equal(ex + strlen(ex) - 49,
	    "Reviewed-by: Ricardo Koller <ricarkol@google.com>");
	pd_msg_free(m);
	footer_window();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(raw, sizeof(raw), "From: A <a@ex.org>\n"
		    "Subject: [PATCH 0/2] x\nMessage-ID: <f%zu@ex.org>\n\n", i);

		snprintf(raw + n, sizeof(raw) - (size_t)n, cases[i].body, footer);
		assert_int_equal(pd_msg_parse(raw, strlen(raw), NULL, &m), 0);
		assert_string_equal(pd_msg_excerpt(m), cases[i].excerpt);
		pd_msg_free(m);
	}
}

static void
test_pull(void **state)
{
	pd_msg *m;

	(void)state;
	m = parse_file("patchwork/mail/0002-git-pull-request-wrapped.mbox.eml");
	assert_int_equal(pd_msg_kind(m), PD_KIND_PULL);
	assert_string_equal(pd_msg_pull_url(m),
	    "git://git.kernel.org/pub/scm/linux/kernel/git/benh/powerpc.git");
	assert_string_equal(pd_msg_pull_base(m),
	    "e10117d36ef758da0690c95ecffc09d5dd7da479");
	pd_msg_free(m);
	m = parse_file("patchwork/mail/0023-git-pull-request-newline-in-url.mbox.eml");
	assert_string_equal(pd_msg_pull_url(m),
	    "https://git.kernel.org/pub/scm/linux/kernel/git/matthias.bgg/linux.git/");
	assert_string_equal(pd_msg_pull_base(m),
	    "54ecb8f7028c5eb3d740bb82b0f1d90f2df63c5c");
	assert_string_equal(pd_msg_pull_tip(m),
	    "662c9d55c5ccb37f3920ecab9720f2ebf2a6ca18");
	pd_msg_free(m);
	m = parse_file("patchwork/mail/0005-git-pull-request-ssh.mbox.eml");
	assert_string_equal(pd_msg_pull_url(m),
	    "ssh://git.kernel.org/pub/scm/linux/kernel/git/benh/powerpc.git");
	pd_msg_free(m);
}

static void
test_headers(void **state)
{
	pd_msg *m;
	char sid[10];

	(void)state;
	m = parse_file("patchew/0004-multiple-patch-reviewed.mbox.04.eml");
	assert_string_equal(pd_msg_list_id(m), "qemu-devel.nongnu.org");
	assert_string_equal(pd_msg_in_reply_to(m),
	    "1469192015-16487-1-git-send-email-berrange@redhat.com");
	assert_true(pd_msg_nrefs(m) >= 1);
	assert_string_equal(pd_msg_ref(m, 0),
	    "1469192015-16487-1-git-send-email-berrange@redhat.com");
	assert_true(pd_msg_date(m) > 1469000000 && pd_msg_date(m) < 1470000000);
	pd_msg_free(m);

	/* sha1("abc") = a9993e364706816aba3e... */
	pd_short_id("<abc>", sid);
	assert_string_equal(sid, "a9993e364");
	pd_short_id("abc", sid);
	assert_string_equal(sid, "a9993e364");
}

/* The same message with CRLF line ends parses to the same fields. */
static void
test_crlf(void **state)
{
	size_t len, i, n = 0;
	char *buf = slurp("patchew/0001-simple-patch.mbox.eml", &len);
	char *crlf = malloc(len * 2 + 1);
	pd_msg *a, *b;

	(void)state;
	assert_non_null(crlf);
	for (i = 0; i < len; i++) {
		if (buf[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = buf[i];
	}
	assert_int_equal(pd_msg_parse(buf, len, NULL, &a), 0);
	assert_int_equal(pd_msg_parse(crlf, n, NULL, &b), 0);
	assert_string_equal(pd_msg_subject(a), pd_msg_subject(b));
	assert_string_equal(pd_msg_author(a), pd_msg_author(b));
	assert_string_equal(pd_msg_id(a), pd_msg_id(b));
	assert_string_equal(pd_msg_excerpt(a), pd_msg_excerpt(b));
	assert_int_equal(pd_msg_nfiles(a), pd_msg_nfiles(b));
	assert_int_equal(pd_msg_ntrailers(a), pd_msg_ntrailers(b));
	assert_true(pd_msg_ntrailers(a) > 0);
	pd_msg_free(a);
	pd_msg_free(b);
	free(buf);
	free(crlf);
}

/* Control characters (C0 but tab and newline in the excerpt, DEL, C1) do
 * not reach what the digest prints and puts into HTML: the excerpt, the
 * subject, the author. */
static void
test_shown_controls(void **state)
{
	static const char msg[] = "From: =?UTF-8?Q?A=C2=9B31m_U?= <a@b.c>\n"
	    "Subject: [PATCH] =?UTF-8?Q?c=C2=85d=1Be?=\n"
	    "Message-ID: <c@x>\nContent-Type: text/plain; charset=utf-8\n\n"
	    "esc\x1b[31mred\x07 bell\x0c ff\x7f del \xc2\x85nel\xc2\x9fx"
	    " \xc2\xa0nbsp\n\tindented\n\n---\ndiff --git a/f b/f\n";
	pd_msg *m;

	(void)state;
	assert_int_equal(pd_msg_parse(msg, sizeof(msg) - 1, NULL, &m), 0);
	assert_string_equal(pd_msg_excerpt(m),
	    "esc [31mred  bell  ff  del  nel x \xc2\xa0nbsp\n\tindented\n\n---");
	assert_string_equal(pd_msg_subject(m), "[PATCH] c d e");
	assert_string_equal(pd_msg_title(m), "c d e");
	assert_string_equal(pd_msg_author(m), "A 31m U <a@b.c>");
	pd_msg_free(m);
}

/* max_excerpt bounds the excerpt; max_body bounds the text scanned. */
static void
test_bounds(void **state)
{
	struct pd_parse_opts o = { .max_excerpt = 100, .max_body = 0 };
	size_t len, big = 50u << 20, i;
	char *buf = slurp("patchew/0008-complex-diffstat.mbox.eml", &len);
	char *huge;
	pd_msg *m;

	(void)state;
	assert_int_equal(pd_msg_parse(buf, len, &o, &m), 0);
	assert_true(strlen(pd_msg_excerpt(m)) <= 100);
	assert_true(strlen(pd_msg_excerpt(m)) > 0);
	pd_msg_free(m);
	free(buf);

	/* 50 MB body, then 100,000 header lines. */
	huge = malloc(big + 1);
	assert_non_null(huge);
	i = (size_t)snprintf(huge, big, "From: A <a@b.c>\nSubject: [PATCH] big\n"
	    "Message-ID: <big@x>\n\n");
	memset(huge + i, 'x', big - i);
	for (; i < big; i += 80)
		huge[i] = '\n';
	assert_int_equal(pd_msg_parse(huge, big, NULL, &m), 0);
	assert_string_equal(pd_msg_title(m), "big");
	assert_true(strlen(pd_msg_excerpt(m)) <= 64 * 1024);
	pd_msg_free(m);

	i = 0;
	while (i < 100000 * 12 && i + 12 < big) {
		memcpy(huge + i, "X-Junk: abc\n", 12);
		i += 12;
	}
	i += (size_t)snprintf(huge + i, big - i, "Subject: late\n\nbody\n");
	assert_int_equal(pd_msg_parse(huge, i, NULL, &m), 0);
	assert_string_equal(pd_msg_title(m), "late");
	assert_int_equal(pd_msg_id_synthetic(m), 1);
	pd_msg_free(m);
	free(huge);
}

/* Hostile input: never a crash, always a defined result. */
static void
test_hostile(void **state)
{
	static const char nul[] = "From: a\0b <x@y>\nSubject: a\0b\n\nbo\0dy\n";
	GString *deep;
	pd_msg *m;
	int i;

	(void)state;
	assert_int_equal(pd_msg_parse("", 0, NULL, &m), PD_EPARSE);
	assert_int_equal(pd_msg_parse(nul, sizeof(nul) - 1, NULL, &m), 0);
	assert_string_equal(pd_msg_title(m), "a");
	pd_msg_free(m);
	assert_int_equal(pd_msg_parse("\n\n\n", 3, NULL, &m), PD_EPARSE);
	deep = g_string_new("Subject: deep\nMIME-Version: 1.0\n");
	for (i = 0; i < 2000; i++)
		g_string_append_printf(deep, "Content-Type: multipart/mixed; "
		    "boundary=\"b%d\"\n\n--b%d\n", i, i);
	g_string_append(deep, "Content-Type: text/plain\n\nhello\n");
	assert_int_equal(pd_msg_parse(deep->str, deep->len, NULL, &m), 0);
	assert_string_equal(pd_msg_title(m), "deep");
	pd_msg_free(m);
	g_string_free(deep, TRUE);
}

/*
 * Mail starts with a header field, after an mbox From_ line; GMime alone
 * makes a message of binary data whose first line holds a colon (a CI run
 * piped 3,000 random bytes through the LDA and got them back tagged).
 */
/*
 * Over PD_MSG_MAX the parse refuses before reading: GLib's byte arrays
 * count in 32 bits, so 4G and more used to be cut or abort.  The map is
 * never touched past its first page when the limit holds.
 */
static void
test_size_limit(void **state)
{
	static const char head[] = "Subject: [PATCH] big\nFrom: A <a@b.c>\n\nx\n";
	size_t len = PD_MSG_MAX + 1;
	char *p;
	pd_msg *m = NULL;

	(void)state;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(p != MAP_FAILED);
	memcpy(p, head, sizeof(head) - 1);
	assert_int_equal(pd_msg_parse(p, len, NULL, &m), PD_ETOOBIG);
	assert_null(m);
	assert_int_equal(pd_msg_parse(p, sizeof(head) - 1, NULL, &m), 0);
	assert_string_equal(pd_msg_title(m), "big");
	pd_msg_free(m);
	munmap(p, len);
}

static void
test_not_mail(void **state)
{
	static const struct { const char *s; size_t n; } bad[] = {
#define B(s)	{ s, sizeof(s) - 1 }
		B("\nSubject: hi\n\nbody\n"),
		B("\r\nSubject: hi\r\n\r\nbody\r\n"),
		B("Subject hi\n\nbody\n"),
		B(" Subject: hi\n\nbody\n"),
		B("From a@b Mon Jan  1 00:00:00 2024\n\nSubject: hi\n"),
		B("From a@b Mon Jan  1 00:00:00 2024"),
		B("L\xd1\x8d" "e\xd8\xcf:\x01\xfe\n\x93\x7f"),
#undef B
	};
	static const char from_[] = "From a@b Mon Jan  1 00:00:00 2024\n"
	    "Subject: [PATCH] hi\nFrom: A <a@b.c>\n\nbody\n";
	static const char bodynul[] = "Subject: hi\r\n\r\nbo\0dy\r\n";
	pd_msg *m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = NULL;
		assert_int_equal(pd_msg_parse(bad[i].s, bad[i].n, NULL, &m),
		    PD_EPARSE);
		assert_null(m);
	}
	assert_int_equal(pd_msg_parse(from_, sizeof(from_) - 1, NULL, &m), 0);
	assert_string_equal(pd_msg_title(m), "hi");
	assert_string_equal(pd_msg_author(m), "A <a@b.c>");
	pd_msg_free(m);
	assert_int_equal(pd_msg_parse(bodynul, sizeof(bodynul) - 1, NULL, &m),
	    0);
	assert_string_equal(pd_msg_subject(m), "hi");
	pd_msg_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_outlook_reply),
		cmocka_unit_test(test_unmunge_from),
		cmocka_unit_test(test_list_footer),
		cmocka_unit_test(test_pull),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_shown_controls),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_not_mail),
		cmocka_unit_test(test_size_limit),
	};
	int rc;

	pd_msg_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	pd_msg_shutdown();
	return rc;
}
