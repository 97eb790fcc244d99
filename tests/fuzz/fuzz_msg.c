/*
 * Fuzz target: the message parser (pd_msg_parse, raw bytes in, every
 * accessor read), then the same bytes through the ingest dry run and the
 * X-Patch-* tagging, whose output must never carry a header we did not
 * write.
 */
#include <string.h>
#include <strings.h>

#include "patchdigest/error.h"
#include "patchdigest/ingest.h"
#include "patchdigest/msg.h"
#include "patchdigest/tags.h"
#include "fuzz.h"

static void
msg_read_all(const pd_msg *m)
{
	char sid[10];
	int x, n;
	enum pd_kind k;

	k = pd_msg_kind(m);
	PD_FUZZ_CHECK(k >= PD_KIND_OTHER && k <= PD_KIND_PATCH);
	PD_FUZZ_CHECK(pd_msg_is_patch(m) == (k == PD_KIND_COVER || k == PD_KIND_PATCH));
	pd_fuzz_touch(pd_kind_name(k));
	pd_fuzz_touch(pd_msg_subject(m));
	pd_fuzz_touch(pd_msg_title(m));
	(void)pd_msg_version(m);
	x = pd_msg_counter(m, &n);
	PD_FUZZ_CHECK((x < 0) == (n < 0));
	(void)pd_msg_flags(m);
	for (size_t i = 0; i < pd_msg_ntags(m); i++)
		pd_fuzz_touch(pd_msg_tag(m, i));
	pd_fuzz_touch(pd_msg_author(m));
	pd_fuzz_touch(pd_msg_author_name(m));
	pd_fuzz_touch(pd_msg_author_email(m));
	pd_fuzz_touch(pd_msg_domain(m));
	pd_fuzz_touch(pd_msg_from(m));
	/* Every message has a key, real or synthetic. */
	PD_FUZZ_CHECK(pd_fuzz_touch(pd_msg_id(m)) > 0);
	(void)pd_msg_id_synthetic(m);
	pd_short_id(pd_msg_id(m), sid);
	PD_FUZZ_CHECK(strlen(sid) == 9);
	pd_fuzz_touch(pd_msg_in_reply_to(m));
	for (size_t i = 0; i < pd_msg_nrefs(m); i++)
		pd_fuzz_touch(pd_msg_ref(m, i));
	pd_fuzz_touch(pd_msg_list_id(m));
	pd_fuzz_touch(pd_msg_date_str(m));
	(void)pd_msg_date(m);
	pd_fuzz_touch(pd_msg_excerpt(m));
	for (size_t i = 0; i < pd_msg_nfiles(m); i++)
		pd_fuzz_touch(pd_msg_file(m, i));
	for (size_t i = 0; i < pd_msg_ntrailers(m); i++) {
		pd_fuzz_touch(pd_msg_trailer_name(m, i));
		pd_fuzz_touch(pd_msg_trailer_value(m, i));
	}
	pd_fuzz_touch(pd_msg_change_id(m));
	pd_fuzz_touch(pd_msg_pull_url(m));
	pd_fuzz_touch(pd_msg_pull_base(m));
	pd_fuzz_touch(pd_msg_pull_tip(m));
}

/* A tag value: printable ASCII, folded only with LF + blank, never CR/NUL. */
static void
check_tag_value(const char *v)
{
	for (const char *p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n')
			PD_FUZZ_CHECK(p[1] == '\t' || p[1] == ' ');
		else
			PD_FUZZ_CHECK(c == '\t' || (c >= 0x20 && c < 0x7f));
	}
}

struct membuf {
	char *p;
	size_t len, cap;
};

static int
mem_write(const void *buf, size_t n, void *arg)
{
	struct membuf *b = arg;
	char *np;

	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;

		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, n);
	b->len += n;
	return 0;
}

/* X-Patch-* header lines in the header block of a rewritten message. */
static size_t
count_ours(const char *s, size_t len)
{
	size_t off = 0, end, n = 0;
	const char *nl;

	if (len >= 5 && memcmp(s, "From ", 5) == 0) {
		nl = memchr(s, '\n', len);
		off = nl == NULL ? len : (size_t)(nl - s) + 1;
	}
	while (off < len) {
		nl = memchr(s + off, '\n', len - off);
		end = nl == NULL ? len : (size_t)(nl - s) + 1;
		if ((end - off == 1 && s[off] == '\n') ||
		    (end - off == 2 && s[off] == '\r' && s[off + 1] == '\n'))
			break;
		if (end - off >= 8 && strncasecmp(s + off, "X-Patch-", 8) == 0)
			n++;
		off = end;
	}
	return n;
}

static void
tag_check(const uint8_t *data, size_t size)
{
	struct pd_ingest in;
	struct pd_tags t;
	struct membuf out = { NULL, 0, 0 };
	size_t want = 0;

	memset(&in, 0, sizeof(in));
	if (pd_ingest(NULL, NULL, (const char *)data, size, NULL, &in) != 0 || !in.parsed)
		return;
	PD_FUZZ_CHECK(memchr(in.msgid, '\0', sizeof(in.msgid)) != NULL);
	if (pd_tags_build(&in, &t) != 0)
		return;
	for (int i = 0; i < PD_NTAGS; i++) {
		PD_FUZZ_CHECK(memchr(t.value[i], '\0', sizeof(t.value[i])) != NULL);
		check_tag_value(t.value[i]);
		if (t.value[i][0] != '\0')
			want++;
	}
	if (pd_tags_rewrite((const char *)data, size, &t, mem_write, &out) == 0)
		PD_FUZZ_CHECK(count_ours(out.p, out.len) == want);
	free(out.p);
}

int
pd_fuzz_msg(const uint8_t *data, size_t size)
{
	static int init;
	pd_msg *m = NULL;
	int rc;

	if (!init) {
		pd_msg_init();
		init = 1;
	}
	rc = pd_msg_parse((const char *)data, size, NULL, &m);
	if (rc == 0) {
		PD_FUZZ_CHECK(m != NULL);
		msg_read_all(m);
	} else {
		PD_FUZZ_CHECK(rc < 0 && m == NULL);
	}
	pd_msg_free(m);
	tag_check(data, size);
	return 0;
}

PD_FUZZ_ENTRY(pd_fuzz_msg)
