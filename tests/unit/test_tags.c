/*
 * The X-Patch-* tags: values (ASCII, encoded, folded, bounded), and the
 * byte-for-byte rewrite of a raw message (old tags out, ours in).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gmime/gmime.h>

#include "patchdigest/error.h"
#include "patchdigest/ingest.h"
#include "patchdigest/msg.h"
#include "patchdigest/tags.h"

struct sbuf {
	char *p;
	size_t len, cap;
	int fail_after;		/* > 0: the n-th write fails */
};

static int
sbuf_write(const void *buf, size_t n, void *arg)
{
	struct sbuf *b = arg;

	if (b->fail_after > 0 && --b->fail_after == 0)
		return -1;
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, buf, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void
rewrite(const char *in, size_t len, const struct pd_tags *t, struct sbuf *out)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(pd_tags_rewrite(in, len, t, sbuf_write, out), 0);
	if (out->p == NULL) {
		out->p = calloc(1, 1);
		assert_non_null(out->p);
	}
}

/* A fixed tag set, so the expected bytes can be spelled out. */
static void
fixed_tags(struct pd_tags *t)
{
	struct pd_ingest in;

	memset(&in, 0, sizeof(in));
	in.parsed = 1;
	in.kind = PD_KIND_PATCH;
	snprintf(in.cls.subsystem, sizeof(in.cls.subsystem), "KVM: arm64");
	snprintf(in.cls.project, sizeof(in.cls.project), "linux");
	snprintf(in.put.series, sizeof(in.put.series), "20221128.1-cover@example.org");
	in.put.version = 3;
	in.put.cx = 1;
	in.put.cn = 36;
	assert_int_equal(pd_tags_build(&in, t), 0);
}

#define TAGS_LF \
	"X-Patch-Kind: patch\n" \
	"X-Patch-Series: <20221128.1-cover@example.org> v3 1/36\n" \
	"X-Patch-Subsystem: KVM: arm64\n" \
	"X-Patch-Project: linux\n"
#define TAGS_CRLF \
	"X-Patch-Kind: patch\r\n" \
	"X-Patch-Series: <20221128.1-cover@example.org> v3 1/36\r\n" \
	"X-Patch-Subsystem: KVM: arm64\r\n" \
	"X-Patch-Project: linux\r\n"

static void
test_is_ours(void **state)
{
	(void)state;
	assert_true(pd_tags_is_ours("X-Patch-Kind"));
	assert_true(pd_tags_is_ours("x-patch-subsystem"));
	assert_true(pd_tags_is_ours("X-PATCH-Whatever"));
	assert_false(pd_tags_is_ours("X-Patch"));
	assert_false(pd_tags_is_ours("X-Patches"));
	assert_false(pd_tags_is_ours("Subject"));
	assert_false(pd_tags_is_ours(NULL));
}

static void
test_build_fixed(void **state)
{
	struct pd_tags t;

	(void)state;
	fixed_tags(&t);
	assert_string_equal(t.name[0], "X-Patch-Kind");
	assert_string_equal(t.value[0], "patch");
	assert_string_equal(t.name[1], "X-Patch-Series");
	assert_string_equal(t.value[1], "<20221128.1-cover@example.org> v3 1/36");
	assert_string_equal(t.name[2], "X-Patch-Subsystem");
	assert_string_equal(t.value[2], "KVM: arm64");
	assert_string_equal(t.name[3], "X-Patch-Project");
	assert_string_equal(t.value[3], "linux");
}

static void
test_build_unparsed(void **state)
{
	struct pd_ingest in;
	struct pd_tags t;

	(void)state;
	memset(&in, 0, sizeof(in));
	assert_int_equal(pd_tags_build(&in, &t), PD_EINVAL);
}

static void
test_build_no_counter_no_series(void **state)
{
	struct pd_ingest in;
	struct pd_tags t;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.parsed = 1;
	in.kind = PD_KIND_PATCH;
	snprintf(in.put.series, sizeof(in.put.series), "a@b");
	in.put.version = 1;
	in.put.cx = in.put.cn = -1;
	assert_int_equal(pd_tags_build(&in, &t), 0);
	assert_string_equal(t.value[1], "<a@b> v1");
	assert_string_equal(t.value[2], "");	/* no subsystem: no header */

	in.kind = PD_KIND_REPLY;
	in.put.series[0] = '\0';
	assert_int_equal(pd_tags_build(&in, &t), 0);
	assert_string_equal(t.value[0], "reply");
	assert_string_equal(t.value[1], "");
}

/* Every line of "Name: value" below 78 columns, no CR, only "\n " folds. */
static void
check_lines(const char *name, const char *value)
{
	char line[1024];
	const char *p;
	size_t col;

	snprintf(line, sizeof(line), "%s: %s", name, value);
	col = 0;
	for (p = line; *p != '\0'; p++) {
		assert_true((unsigned char)*p < 0x80);
		assert_true(*p != '\r');
		if (*p == '\n') {
			assert_true(p[1] == ' ');
			col = 0;
			continue;
		}
		col++;
		if (col >= 78)
			print_error("line too long in \"%s\"\n", line);
		assert_true(col < 78);
	}
}

/* Unfold (RFC 5322: drop the line breaks only) and RFC 2047-decode with
 * GMime, as a reader would. */
static char *
decode(const char *value)
{
	char *unf = g_strdup(value), *p, *dec;

	for (p = unf; (p = strchr(p, '\n')) != NULL;)
		memmove(p, p + 1, strlen(p + 1) + 1);
	dec = g_mime_utils_header_decode_text(NULL, unf);
	g_free(unf);
	return dec;
}

static void
test_build_hostile(void **state)
{
	struct pd_ingest in;
	struct pd_tags t;
	char *d;
	int i;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.parsed = 1;
	in.kind = PD_KIND_COVER;
	/* header injection attempt */
	snprintf(in.cls.subsystem, sizeof(in.cls.subsystem),
	    "KVM:\r\nBcc: victim@example.org\r\n\r\nbody");
	snprintf(in.cls.project, sizeof(in.cls.project), "qemu\t ");
	assert_int_equal(pd_tags_build(&in, &t), 0);
	assert_null(strchr(t.value[2], '\r'));
	assert_string_equal(t.value[2], "KVM: Bcc: victim@example.org body");
	assert_string_equal(t.value[3], "qemu");

	/* non-ASCII: encoded words that decode back */
	snprintf(in.cls.subsystem, sizeof(in.cls.subsystem), "KVM: r\xc3\xa9seau \xe2\x9c\x93");
	assert_int_equal(pd_tags_build(&in, &t), 0);
	check_lines(t.name[2], t.value[2]);
	assert_non_null(strstr(t.value[2], "=?UTF-8?Q?"));
	d = decode(t.value[2]);
	assert_string_equal(d, "KVM: r\xc3\xa9seau \xe2\x9c\x93");
	g_free(d);

	/* a literal encoded word in the input is encoded, not passed as one */
	snprintf(in.cls.subsystem, sizeof(in.cls.subsystem), "=?UTF-8?B?Zm9v?=");
	assert_int_equal(pd_tags_build(&in, &t), 0);
	d = decode(t.value[2]);
	assert_string_equal(d, "=?UTF-8?B?Zm9v?=");
	g_free(d);

	/* long ASCII and long non-ASCII values fold below 78 columns */
	memset(in.cls.subsystem, 0, sizeof(in.cls.subsystem));
	for (i = 0; i < 25; i++)
		strcat(in.cls.subsystem, "word ");
	assert_int_equal(pd_tags_build(&in, &t), 0);
	check_lines(t.name[2], t.value[2]);
	assert_non_null(strstr(t.value[2], "\n "));
	d = decode(t.value[2]);
	assert_int_equal(strlen(d), 25 * 5 - 1);
	assert_null(strchr(d, '\t'));
	assert_null(strstr(d, "  "));
	g_free(d);

	memset(in.cls.subsystem, 0, sizeof(in.cls.subsystem));
	for (i = 0; i < 63; i++)
		strcat(in.cls.subsystem, "\xc3\xa9");
	assert_int_equal(pd_tags_build(&in, &t), 0);
	check_lines(t.name[2], t.value[2]);
	d = decode(t.value[2]);
	assert_string_equal(d, in.cls.subsystem);
	g_free(d);

	/* a huge non-ASCII series id: bounded, still whole characters */
	memset(in.put.series, 0, sizeof(in.put.series));
	for (i = 0; i < 127; i++)
		strcat(in.put.series, "\xc3\xa9");
	in.put.cx = in.put.cn = -1;
	assert_int_equal(pd_tags_build(&in, &t), 0);
	check_lines(t.name[1], t.value[1]);
	assert_true(strlen(t.value[1]) < sizeof(t.value[1]));
	d = decode(t.value[1]);
	assert_true(g_utf8_validate(d, -1, NULL));
	assert_true(d[0] == '<');
	g_free(d);
}

/* The byte-for-byte contract: CRLF, 8-bit, trailing blanks, forged tags. */
/*
 * A Message-ID too long for the first line of X-Patch-Series starts on the
 * next (19 of the kvmarm archive's, as git send-email's old ids); one too
 * long for any line stays on the first.  The raw message then has no
 * blank at the end of the field's first line.
 */
static void
test_build_long_id(void **state)
{
	static const char id[] =
	    "1571912870-18471-1-git-send-email-shannon.zhao@linux.alibaba.com";
	static const char msg[] = "Subject: x\n\nbody\n";
	struct pd_ingest in;
	struct pd_tags t;
	struct sbuf out;
	char want[256];

	(void)state;
	memset(&in, 0, sizeof(in));
	in.parsed = 1;
	in.kind = PD_KIND_PATCH;
	snprintf(in.put.series, sizeof(in.put.series), "%s", id);
	in.put.version = 1;
	in.put.cx = 1;
	in.put.cn = 8;
	assert_int_equal(pd_tags_build(&in, &t), 0);
	check_lines(t.name[1], t.value[1]);
	snprintf(want, sizeof(want), "\n <%s> v1 1/8", id);
	assert_string_equal(t.value[1], want);
	rewrite(msg, strlen(msg), &t, &out);
	snprintf(want, sizeof(want), "\nX-Patch-Series:\n <%s> v1 1/8\n", id);
	assert_non_null(strstr(out.p, want));
	free(out.p);

	snprintf(in.put.series, sizeof(in.put.series), "%s%s", id, id + 40);
	assert_int_equal(pd_tags_build(&in, &t), 0);
	assert_true(t.value[1][0] == '<');
	assert_non_null(strstr(t.value[1], ">\n v1 1/8"));
}

static void
test_rewrite_crlf(void **state)
{
	static const char in[] =
	    "Return-Path: <a@b>\r\n"
	    "X-Patch-Subsystem: forged\r\n"
	    "Subject: [PATCH v3 01/36] KVM: arm64: caf\xe9  \r\n"
	    "X-PATCH-Series: <forged@x> v9\r\n"
	    " 9/9 continued\r\n"
	    "\tand more\r\n"
	    "From: Ren\xc3\xa9 <r@x>\t\r\n"
	    "x-patch-kind:cover\r\n"
	    "X-Patches: not ours\r\n"
	    "\r\n"
	    "body \xff\xfe with trailing space   \r\n"
	    "X-Patch-Kind: in the body stays\r\n"
	    "no final newline";
	static const char want[] =
	    TAGS_CRLF
	    "Return-Path: <a@b>\r\n"
	    "Subject: [PATCH v3 01/36] KVM: arm64: caf\xe9  \r\n"
	    "From: Ren\xc3\xa9 <r@x>\t\r\n"
	    "X-Patches: not ours\r\n"
	    "\r\n"
	    "body \xff\xfe with trailing space   \r\n"
	    "X-Patch-Kind: in the body stays\r\n"
	    "no final newline";
	struct pd_tags t;
	struct sbuf out;

	(void)state;
	fixed_tags(&t);
	rewrite(in, sizeof(in) - 1, &t, &out);
	assert_int_equal(out.len, sizeof(want) - 1);
	assert_memory_equal(out.p, want, sizeof(want) - 1);
	free(out.p);
}

static void
test_rewrite_lf_from_line(void **state)
{
	static const char in[] =
	    "From someone@example.org Mon Nov 28 10:00:00 2022\n"
	    "X-Patch-Project: forged\n"
	    "Subject: hi\n"
	    "\n"
	    "X-Patch-Project: body\n";
	static const char want[] =
	    "From someone@example.org Mon Nov 28 10:00:00 2022\n"
	    TAGS_LF
	    "Subject: hi\n"
	    "\n"
	    "X-Patch-Project: body\n";
	struct pd_tags t;
	struct sbuf out;

	(void)state;
	fixed_tags(&t);
	rewrite(in, sizeof(in) - 1, &t, &out);
	assert_string_equal(out.p, want);
	free(out.p);
}

static void
test_rewrite_odd_shapes(void **state)
{
	struct pd_tags t;
	struct sbuf out;
	static const char nosep[] = "Subject: x\nX-Patch-Kind: y\n z";

	(void)state;
	fixed_tags(&t);
	/* no header/body separator, last line unterminated */
	rewrite(nosep, sizeof(nosep) - 1, &t, &out);
	assert_string_equal(out.p, TAGS_LF "Subject: x\n");
	free(out.p);
	/* body only */
	rewrite("\nbody\n", 6, &t, &out);
	assert_string_equal(out.p, TAGS_LF "\nbody\n");
	free(out.p);
	/* empty input */
	rewrite("", 0, &t, &out);
	assert_string_equal(out.p, TAGS_LF);
	free(out.p);
	/* a lone From_ line without its newline: the tags still go below it */
	rewrite("From x", 6, &t, &out);
	assert_string_equal(out.p, "From x\n" TAGS_LF);
	free(out.p);
	/* no tags: only the removal; NUL bytes pass through */
	rewrite("A: \0b\nX-Patch-A: 1\n\nc\0d", 23, NULL, &out);
	assert_int_equal(out.len, 10);
	assert_memory_equal(out.p, "A: \0b\n\nc\0d", 10);
	free(out.p);
}

static void
test_rewrite_write_error(void **state)
{
	struct pd_tags t;
	struct sbuf out;
	int n;

	(void)state;
	fixed_tags(&t);
	for (n = 1; n < 6; n++) {
		memset(&out, 0, sizeof(out));
		out.fail_after = n;
		assert_int_equal(pd_tags_rewrite("A: b\n\nc\n", 8, &t, sbuf_write, &out),
		    PD_EIO);
		free(out.p);
	}
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
	assert_true(n >= 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/*
 * Real mail: the tags of a dry-run ingest agree with the parsed message,
 * the output parses, and removing our lines gives the input back.
 */
static void
test_corpus(void **state)
{
	const char *shared = getenv("PD_SHARED");
	char path[4096], line[256];
	FILE *set;
	int n = 0;

	(void)state;
	if (shared == NULL) {
		print_message("PD_SHARED not set\n");
		fail();
	}
	snprintf(path, sizeof(path),
	    "%s/corpus/lore-kvmarm/_sets/window_week-2022-11-28.txt", shared);
	set = fopen(path, "r");
	assert_non_null(set);
	while (fgets(line, sizeof(line), set) != NULL) {
		struct pd_ingest in;
		struct pd_tags t;
		struct sbuf out, back;
		pd_msg *m;
		char *raw;
		size_t len;

		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sizeof(path), "%s/corpus/lore-kvmarm/%s", shared, line);
		raw = slurp(path, &len);
		assert_int_equal(pd_ingest(NULL, NULL, raw, len, NULL, &in), 0);
		assert_int_equal(pd_tags_build(&in, &t), 0);
		rewrite(raw, len, &t, &out);
		for (int i = 0; i < PD_NTAGS; i++)
			if (t.value[i][0] != '\0')
				check_lines(t.name[i], t.value[i]);

		assert_int_equal(pd_msg_parse(out.p, out.len, NULL, &m), 0);
		assert_string_equal(pd_kind_name(pd_msg_kind(m)), t.value[0]);
		assert_int_equal(in.kind, pd_msg_kind(m));
		assert_string_equal(in.msgid, pd_msg_id(m));
		pd_msg_free(m);

		rewrite(out.p, out.len, NULL, &back);
		assert_int_equal(back.len, len);
		assert_memory_equal(back.p, raw, len);
		free(back.p);
		free(out.p);
		free(raw);
		n++;
	}
	fclose(set);
	assert_true(n > 100);
}

static int
setup(void **state)
{
	(void)state;
	pd_msg_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pd_msg_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_ours),
		cmocka_unit_test(test_build_fixed),
		cmocka_unit_test(test_build_unparsed),
		cmocka_unit_test(test_build_no_counter_no_series),
		cmocka_unit_test(test_build_hostile),
		cmocka_unit_test(test_build_long_id),
		cmocka_unit_test(test_rewrite_crlf),
		cmocka_unit_test(test_rewrite_lf_from_line),
		cmocka_unit_test(test_rewrite_odd_shapes),
		cmocka_unit_test(test_rewrite_write_error),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
