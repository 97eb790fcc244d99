/*
 * The milter's own modules without libmilter: how one message is collected
 * from the MTA's pieces (message.c) and InternalHosts matching (hosts.c).
 * The sources are compiled in here: they are not part of libpatchdigest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "../../milter/message.c"
#include "../../milter/hosts.c"

static void
test_wire_form(void **state)
{
	struct pdm_msg m;
	const char *want = "Subject: a\r\n folded\r\n\tagain\r\nFrom: x@y\r\n\r\nbody\r\n";

	(void)state;
	pdm_msg_init(&m, 1024);
	assert_int_equal(pdm_msg_header(&m, "Subject", "a\r\n folded\n\tagain"), 0);
	assert_int_equal(pdm_msg_header(&m, "From", "x@y"), 0);
	assert_int_equal(pdm_msg_body(&m, (const unsigned char *)"body\r\n", 6), 0);
	assert_int_equal(pdm_msg_finish(&m), 0);
	assert_int_equal(m.len, strlen(want));
	assert_memory_equal(m.buf, want, m.len);
	assert_false(m.truncated);
	pdm_msg_reset(&m);
	assert_null(m.buf);
	assert_int_equal(m.max, 1024);
}

static void
test_header_only(void **state)
{
	struct pdm_msg m;

	(void)state;
	pdm_msg_init(&m, 1024);
	assert_int_equal(pdm_msg_header(&m, "Subject", "x"), 0);
	assert_int_equal(pdm_msg_finish(&m), 0);
	assert_int_equal(pdm_msg_finish(&m), 0);	/* idempotent */
	assert_int_equal(m.len, strlen("Subject: x\r\n\r\n"));
	assert_memory_equal(m.buf, "Subject: x\r\n\r\n", m.len);
	pdm_msg_reset(&m);
}

static void
test_old_tags(void **state)
{
	struct pdm_msg m;

	(void)state;
	pdm_msg_init(&m, 1024);
	pdm_msg_header(&m, "X-Patch-Kind", "pull");
	pdm_msg_header(&m, "Subject", "s");
	pdm_msg_header(&m, "x-patch-kind", "cover");
	pdm_msg_header(&m, "X-Patch-Subsystem", "forged");
	pdm_msg_header(&m, "X-Patchwork-Id", "1");	/* not ours: no "X-Patch-" */
	pdm_msg_header(&m, "X-Patch-Series", "forged");
	pdm_msg_header(&m, "X-Other", "v");
	assert_int_equal(m.nold, 4);
	assert_string_equal(m.old[0].name, "X-Patch-Kind");
	assert_int_equal(m.old[0].index, 1);
	assert_string_equal(m.old[1].name, "x-patch-kind");
	assert_int_equal(m.old[1].index, 2);
	assert_string_equal(m.old[2].name, "X-Patch-Subsystem");
	assert_int_equal(m.old[2].index, 1);
	assert_string_equal(m.old[3].name, "X-Patch-Series");
	assert_int_equal(m.old[3].index, 1);
	pdm_msg_reset(&m);
	assert_int_equal(m.nold, 0);
}

static void
test_cap(void **state)
{
	struct pdm_msg m;
	unsigned char chunk[1000];
	size_t sent = 0;

	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	pdm_msg_init(&m, 4096);
	pdm_msg_header(&m, "Subject", "big");
	for (int i = 0; i < 100; i++) {
		assert_int_equal(pdm_msg_body(&m, chunk, sizeof(chunk)), 0);
		sent += sizeof(chunk);
	}
	assert_int_equal(pdm_msg_finish(&m), 0);
	assert_true(m.truncated);
	assert_int_equal(m.len, 4096);
	assert_true(m.cap <= 4096 + 4);
	assert_int_equal(m.total, strlen("Subject: big\r\n\r\n") + sent);
	assert_memory_equal(m.buf, "Subject: big\r\n\r\naaa", 19);
	pdm_msg_reset(&m);
}

static void
test_cap_in_header(void **state)
{
	struct pdm_msg m;
	char value[200];

	(void)state;
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	pdm_msg_init(&m, 64);
	pdm_msg_header(&m, "Subject", value);
	pdm_msg_body(&m, (const unsigned char *)"b\r\n", 3);
	pdm_msg_finish(&m);
	assert_true(m.truncated);
	/* the cut header line is ended, then the blank line */
	assert_int_equal(m.len, 64 + 4);
	assert_memory_equal(m.buf + 64, "\r\n\r\n", 4);
	pdm_msg_reset(&m);
}

static struct pdm_hosts *
hosts(const char *a, const char *b)
{
	char *list[3] = { (char *)a, (char *)b, NULL };
	struct pdm_hosts *h = NULL;
	char err[128];

	assert_int_equal(pdm_hosts_new(list, &h, err, sizeof(err)), 0);
	return h;
}

static int
match4(const struct pdm_hosts *h, const char *addr)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &s.sin_addr), 1);
	return pdm_hosts_match(h, (struct sockaddr *)&s);
}

static int
match6(const struct pdm_hosts *h, const char *addr)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, addr, &s.sin6_addr), 1);
	return pdm_hosts_match(h, (struct sockaddr *)&s);
}

static void
test_hosts(void **state)
{
	struct pdm_hosts *h = hosts("192.0.2.0/25", "2001:db8::/32");

	(void)state;
	assert_true(match4(h, "192.0.2.1"));
	assert_true(match4(h, "192.0.2.127"));
	assert_false(match4(h, "192.0.2.128"));
	assert_false(match4(h, "198.51.100.1"));
	assert_true(match6(h, "::ffff:192.0.2.5"));	/* v4-mapped */
	assert_true(match6(h, "2001:db8:1::1"));
	assert_false(match6(h, "2001:db9::1"));
	assert_false(pdm_hosts_match(h, NULL));
	pdm_hosts_free(h);

	h = hosts("127.0.0.1", "::1");
	assert_true(match4(h, "127.0.0.1"));
	assert_false(match4(h, "127.0.0.2"));
	assert_true(match6(h, "::1"));
	pdm_hosts_free(h);
	pdm_hosts_free(NULL);
}

static void
test_hosts_bad(void **state)
{
	const char *bad[] = { "300.1.1.1", "192.0.2.0/33", "::1/129", "host.example",
	    "10.0.0.0/", "/8", "10.0.0.0/x", "10.0.0.0/+8" };
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *list[2] = { (char *)bad[i], NULL };
		struct pdm_hosts *h = NULL;

		assert_int_equal(pdm_hosts_new(list, &h, err, sizeof(err)), PD_ECONFIG);
		assert_null(h);
		assert_non_null(strstr(err, bad[i]));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_form),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_old_tags),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_cap_in_header),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_hosts_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
