/*
 * The parser hands GMime only the header fields it reads (lib/msg.c,
 * drop_fields).  What GMime makes of the header block must not change:
 * where the block ends, lines that are not fields, continuation lines of
 * dropped fields, a leading From_ line.  Expected values by hand, from
 * GMime's rules for a header block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "patchdigest/error.h"
#include "patchdigest/msg.h"

static pd_msg *
parse(const char *s)
{
	pd_msg *m = NULL;

	assert_int_equal(pd_msg_parse(s, strlen(s), NULL, &m), 0);
	return m;
}

/* Fields after dropped ones (with their continuation lines) are read. */
static void
test_after_dropped(void **state)
{
	pd_msg *m;

	(void)state;
	m = parse("Return-Path: <r@s>\nReceived: from a\n\tby b\n"
	    " Subject: fake\nDKIM-Signature: v=1;\n From: Fake <f@f>\n"
	    "Subject: [PATCH v2 1/3] real\nTo: x@y\nCc: Z <z@z>\n"
	    "From: A U Thor <a@b.c>\nX-Mailer: m\nMessage-ID: <id1@b.c>\n"
	    "In-Reply-To: <p@b.c>\nReferences: <r0@b.c>\n <p@b.c>\n"
	    "List-Id: <kvmarm.lists.example.org>\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody\n");
	assert_string_equal(pd_msg_subject(m), "[PATCH v2 1/3] real");
	assert_int_equal(pd_msg_kind(m), PD_KIND_PATCH);
	assert_string_equal(pd_msg_author(m), "A U Thor <a@b.c>");
	assert_string_equal(pd_msg_id(m), "id1@b.c");
	assert_string_equal(pd_msg_in_reply_to(m), "p@b.c");
	assert_int_equal(pd_msg_nrefs(m), 2);
	assert_string_equal(pd_msg_ref(m, 1), "p@b.c");
	assert_string_equal(pd_msg_list_id(m), "kvmarm.lists.example.org");
	assert_int_equal(pd_msg_date(m), 1704067200);
	pd_msg_free(m);
}

/*
 * A line that is not a field inside the block is ignored by GMime, with
 * the fields after it still read.
 */
static void
test_junk_line(void **state)
{
	pd_msg *m;

	(void)state;
	m = parse("Received: x\nthis is junk\nSubject: [PATCH] s\n"
	    "X-A: 1\nFrom: A <a@b.c>\n\nbody\n");
	assert_string_equal(pd_msg_subject(m), "[PATCH] s");
	assert_string_equal(pd_msg_author(m), "A <a@b.c>");
	pd_msg_free(m);
}

/* An empty CRLF line first: no header at all, so not mail. */
static void
test_empty_first_line(void **state)
{
	static const char s[] = "\r\r\nSubject: s\r\r\nCc: c@d\r\r\n\r\nbody\r\n";
	pd_msg *m = NULL;

	(void)state;
	assert_int_equal(pd_msg_parse(s, sizeof(s) - 1, NULL, &m), PD_EPARSE);
	assert_null(m);
}

/* The header block ends at the first empty line, not later. */
static void
test_block_end(void **state)
{
	pd_msg *m;

	(void)state;
	m = parse("From: A <a@b.c>\nX-A: 1\n\nX-B: 2\nReceived: y\n"
	    "Subject: not a header\n");
	assert_string_equal(pd_msg_subject(m), "");
	assert_non_null(strstr(pd_msg_excerpt(m), "X-B: 2\nReceived: y"));
	pd_msg_free(m);
}

/* A From_ line before the fields, as in git format-patch output. */
static void
test_from_line(void **state)
{
	pd_msg *m;

	(void)state;
	m = parse("From 0123456789012345678901234567890123456789 Mon Sep 17 "
	    "00:00:00 2001\nReceived: x\nFrom: A <a@b.c>\nX-A: 1\n"
	    "Subject: [PATCH 2/4] hi\n\nbody\n");
	assert_string_equal(pd_msg_author(m), "A <a@b.c>");
	assert_int_equal(pd_msg_counter(m, NULL), 2);
	pd_msg_free(m);
}

/* MIME structure fields are kept; a look-alike in a dropped field is not. */
static void
test_mime_fields(void **state)
{
	pd_msg *m;

	(void)state;
	m = parse("From: A <a@b.c>\nX-B: 2\n Content-Transfer-Encoding: base64\n"
	    "Subject: s\n\naGVsbG8K\n");
	assert_string_equal(pd_msg_excerpt(m), "aGVsbG8K");
	pd_msg_free(m);
	m = parse("From: A <a@b.c>\nX-B: 2\nSubject: s\nX-C: 3\n"
	    "Content-Transfer-Encoding: base64\nX-D: 4\n\naGVsbG8K\n");
	assert_string_equal(pd_msg_excerpt(m), "hello");
	pd_msg_free(m);
	m = parse("From: A <a@b.c>\nX-A: 1\nSubject: [PATCH] mp\n"
	    "Content-Type: multipart/mixed;\n boundary=\"zz\"\nX-C: y\n\n"
	    "--zz\nContent-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9\n"
	    "--zz\nContent-Type: text/x-patch\n"
	    "Content-Disposition: attachment; filename=\"a.patch\"\n\n"
	    "diff --git a/foo b/foo\n--- a/foo\n+++ b/foo\n--zz--\n");
	assert_string_equal(pd_msg_excerpt(m), "caf\xc3\xa9");
	assert_int_equal(pd_msg_nfiles(m), 1);
	assert_string_equal(pd_msg_file(m, 0), "foo");
	pd_msg_free(m);
	/*
	 * Labelled Latin-1, written in windows-1252 (as mail clients read
	 * it): curly quotes and a dash, in the body and an encoded subject.
	 */
	m = parse("From: A <a@b.c>\nSubject: [PATCH] =?iso-8859-1?q?foo:_=93quoted=94?=\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "This is =93quoted=94 text =96 dash, caf=E9\n");
	assert_string_equal(pd_msg_subject(m),
	    "[PATCH] foo: \xe2\x80\x9cquoted\xe2\x80\x9d");
	assert_string_equal(pd_msg_excerpt(m), "This is \xe2\x80\x9cquoted\xe2\x80\x9d "
	    "text \xe2\x80\x93 dash, caf\xc3\xa9");
	pd_msg_free(m);
}

/* Without Message-ID, the synthetic key still covers From/Date/Subject. */
static void
test_synthetic(void **state)
{
	pd_msg *a, *b;

	(void)state;
	a = parse("Received: x\nFrom: A <a@b.c>\nSubject: s\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody\n");
	b = parse("From: A <a@b.c>\nX-Other: y\nSubject: s\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody\n");
	assert_int_equal(pd_msg_id_synthetic(a), 1);
	assert_string_equal(pd_msg_id(a), pd_msg_id(b));
	pd_msg_free(b);
	b = parse("From: A <a@b.c>\nSubject: s\n"
	    "Date: Mon, 1 Jan 2024 00:00:01 +0000\n\nbody\n");
	assert_string_not_equal(pd_msg_id(a), pd_msg_id(b));
	pd_msg_free(a);
	pd_msg_free(b);
}

/*
 * Subject, In-Reply-To, References and List-Id are read from our own pass
 * over a plain header block, from GMime otherwise: the same values.
 */
static void
test_own_fields(void **state)
{
	static const char *blocks[] = {
		"X-A: 1\nSubject: [PATCH v3 0/2]\n =?utf-8?q?J=C3=B6rg?= was\n"
		"\there\nFrom: A <a@b.c>\nSubject: second\n"
		"References: <r0@b.c>\n\t<r1@b.c> <r2@b.c>\n"
		"In-Reply-To: <r2@b.c> (comment)\nList-Id: KVM ARM\n"
		" <kvmarm.example.org>\nX-B: 2\n",
		/* The same with a line that is not a field: GMime reads ours. */
		"X-A: 1\nSubject: [PATCH v3 0/2]\n =?utf-8?q?J=C3=B6rg?= was\n"
		"\there\nFrom: A <a@b.c>\nSubject: second\n"
		"References: <r0@b.c>\n\t<r1@b.c> <r2@b.c>\n"
		"In-Reply-To: <r2@b.c> (comment)\nList-Id: KVM ARM\n"
		" <kvmarm.example.org>\nnot a field\n",
	};
	size_t i;
	pd_msg *m;
	char *s;

	(void)state;
	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		s = malloc(strlen(blocks[i]) + 16);
		assert_non_null(s);
		strcpy(s, blocks[i]);
		strcat(s, "\nbody\n");
		m = parse(s);
		assert_string_equal(pd_msg_subject(m),
		    "[PATCH v3 0/2] J\xc3\xb6rg was here");
		assert_int_equal(pd_msg_kind(m), PD_KIND_COVER);
		assert_int_equal(pd_msg_nrefs(m), 3);
		assert_string_equal(pd_msg_ref(m, 0), "r0@b.c");
		assert_string_equal(pd_msg_ref(m, 2), "r2@b.c");
		assert_string_equal(pd_msg_in_reply_to(m), "r2@b.c");
		assert_string_equal(pd_msg_list_id(m), "kvmarm.example.org");
		pd_msg_free(m);
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_after_dropped),
		cmocka_unit_test(test_junk_line),
		cmocka_unit_test(test_empty_first_line),
		cmocka_unit_test(test_block_end),
		cmocka_unit_test(test_from_line),
		cmocka_unit_test(test_mime_fields),
		cmocka_unit_test(test_synthetic),
		cmocka_unit_test(test_own_fields),
	};
	int rc;

	pd_msg_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	pd_msg_shutdown();
	return rc;
}
