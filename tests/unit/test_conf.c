/* The configuration parser: defaults, every keyword, and errors naming file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "patchdigest/conf.h"
#include "patchdigest/error.h"

static struct pd_conf *
parse_ok(const char *text)
{
	struct pd_conf *c = NULL;
	char err[256];
	int rc = pd_conf_parse(text, strlen(text), "t.conf", &c, err, sizeof(err));

	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(c);
	return c;
}

static void
parse_err(const char *text, const char *want)
{
	struct pd_conf *c = NULL;
	char err[256];
	int rc = pd_conf_parse(text, strlen(text), "t.conf", &c, err, sizeof(err));

	assert_int_equal(rc, PD_ECONFIG);
	assert_null(c);
	if (strstr(err, want) == NULL)
		print_error("error \"%s\" lacks \"%s\"\n", err, want);
	assert_non_null(strstr(err, want));
}

static void
test_defaults(void **state)
{
	struct pd_conf *c = parse_ok("# nothing\n\n");

	(void)state;
	assert_string_equal(c->list_name, "KVM");
	assert_string_equal(c->sendmail, "/usr/sbin/sendmail");
	assert_null(c->list_id);
	assert_null(c->digest_to);
	assert_int_equal(c->schedule.kind, PD_SCHED_NONE);
	assert_int_equal(c->on_error, PD_ONERR_ACCEPT);
	assert_int_equal(c->umask, 007);
	assert_true(c->map_size_max >= c->map_size);
	pd_conf_free(c);
}

static void
test_keywords(void **state)
{
	struct pd_conf *c = parse_ok(
	    "Database /var/lib/pd   # trailing comment\n"
	    "listname  Netdev\n"
	    "ListId <netdev.vger.kernel.org>\n"
	    "DigestFrom digest@example.org\n"
	    "DigestTo a@example.org, b@example.org\n"
	    "DigestTo c@example.org\n"
	    "Sendmail /usr/lib/sendmail\n"
	    "ArchiveURL https://lore.kernel.org/kvm/%s/\n"
	    "Schedule weekly Monday 06:30\n"
	    "Maintainers /usr/src/linux/MAINTAINERS\n"
	    "SubsystemRules /etc/patchdigest/subsystems.rules\n"
	    "OnError tempfail\n"
	    "MaxMessageSize 32M\n"
	    "MapSize 1M\n"
	    "MapSizeMax 2G\n"
	    "Socket inet:8891@127.0.0.1\n"
	    "UMask 077\n"
	    "UserID patchdigest\n"
	    "PidFile /run/pd.pid\n"
	    "Syslog yes\n"
	    "InternalHosts 127.0.0.1 10.0.0.0/8\n");

	(void)state;
	assert_string_equal(c->database, "/var/lib/pd");
	assert_string_equal(c->list_name, "Netdev");
	assert_string_equal(c->list_id, "<netdev.vger.kernel.org>");
	assert_int_equal(c->ndigest_to, 3);
	assert_string_equal(c->digest_to[0], "a@example.org");
	assert_string_equal(c->digest_to[2], "c@example.org");
	assert_null(c->digest_to[3]);
	assert_int_equal(c->schedule.kind, PD_SCHED_WEEKLY);
	assert_int_equal(c->schedule.wday, 1);
	assert_int_equal(c->schedule.hour, 6);
	assert_int_equal(c->schedule.min, 30);
	assert_int_equal(c->on_error, PD_ONERR_TEMPFAIL);
	assert_int_equal(c->max_message_size, (size_t)32 << 20);
	assert_int_equal(c->map_size, (size_t)1 << 20);
	assert_int_equal(c->map_size_max, (size_t)2 << 30);
	assert_string_equal(c->socket, "inet:8891@127.0.0.1");
	assert_int_equal(c->umask, 077);
	assert_int_equal(c->syslog, 1);
	assert_int_equal(c->ninternal_hosts, 2);
	assert_string_equal(c->internal_hosts[1], "10.0.0.0/8");
	pd_conf_free(c);
}

static void
test_schedules(void **state)
{
	struct pd_schedule s;

	(void)state;
	assert_int_equal(pd_schedule_parse("daily 06:00", &s), 0);
	assert_int_equal(s.kind, PD_SCHED_DAILY);
	assert_int_equal(s.hour, 6);
	assert_int_equal(pd_schedule_parse("every 500", &s), 0);
	assert_int_equal(s.kind, PD_SCHED_EVERY);
	assert_int_equal(s.every, 500);
	assert_int_equal(pd_schedule_parse("weekly sun 23:59", &s), 0);
	assert_int_equal(s.wday, 0);
	assert_int_equal(pd_schedule_parse("daily 24:00", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("weekly funday 06:00", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("every 0", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("every -3", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("every +5", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("every  5", &s), 0);
	assert_int_equal(pd_schedule_parse("hourly", &s), PD_ECONFIG);
	/* a weekday is its name or its first three letters, nothing between */
	assert_int_equal(pd_schedule_parse("weekly TUESDAY 7:05", &s), 0);
	assert_int_equal(s.wday, 2);
	assert_int_equal(s.hour, 7);
	assert_int_equal(s.min, 5);
	assert_int_equal(pd_schedule_parse("weekly monkey 06:00", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("weekly tues 06:00", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("weekly mo 06:00", &s), PD_ECONFIG);
	/* HH:MM: the minutes are two digits, nothing follows */
	assert_int_equal(pd_schedule_parse("daily 06:0", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("daily 06:000", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("daily 06:00x", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("daily 006:00", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("daily :30", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("daily +6:30", &s), PD_ECONFIG);
	assert_int_equal(pd_schedule_parse("daily 23:60", &s), PD_ECONFIG);
}

static void
test_errors(void **state)
{
	(void)state;
	parse_err("ListName KVM\nFrobnicate yes\n", "t.conf:2: unknown keyword \"Frobnicate\"");
	parse_err("Schedule sometimes\n", "t.conf:1: Schedule: bad value");
	parse_err("OnError reject\n", "t.conf:1: OnError");
	parse_err("MaxMessageSize lots\n", "t.conf:1: MaxMessageSize");
	/* 2^34 G is 2^64 bytes: it used to wrap to 0, and 2^34+1 G to 1G */
	parse_err("MaxMessageSize 17179869184G\n", "t.conf:1: MaxMessageSize");
	parse_err("MapSizeMax 17179869185G\n", "t.conf:1: MapSizeMax");
	/* the front ends add to it: SIZE_MAX wrapped their buffers to 0 */
	parse_err("MaxMessageSize 18446744073709551615\n",
	    "t.conf:1: MaxMessageSize: over 1G");
	parse_err("MaxMessageSize 1025M\n", "t.conf:1: MaxMessageSize: over 1G");
	{
		struct pd_conf *c = parse_ok("MaxMessageSize 1G\nMapSizeMax 8G\n");

		assert_int_equal(c->max_message_size, (size_t)1 << 30);
		assert_int_equal(c->map_size_max, (size_t)8 << 30);
		pd_conf_free(c);
	}
	parse_err("UMask 999\n", "t.conf:1: UMask");
	/* octal digits only: strtoul took a sign, and a blank trim() keeps */
	parse_err("UMask -0\n", "t.conf:1: UMask");
	parse_err("UMask +7\n", "t.conf:1: UMask");
	parse_err("UMask \f7\n", "t.conf:1: UMask");
	parse_err("UMask 0x7\n", "t.conf:1: UMask");
	{
		struct pd_conf *c = parse_ok("UMask 0\nUMask 0027\n");

		assert_int_equal(c->umask, 027);
		pd_conf_free(c);
	}
	parse_err("ListName\n", "t.conf:1: ListName needs a value");
	/* at its line, as any bad value, not only the file's name */
	parse_err("ListName x\nArchiveURL https://example.org/\n",
	    "t.conf:2: ArchiveURL: needs exactly one %s");
	parse_err("ArchiveURL https://example.org/%s/%s\n", "t.conf:1: ArchiveURL: needs");
	parse_err("ArchiveURL https://example.org/%d/%s\n", "t.conf:1: ArchiveURL: a '%' neither");
	parse_err("ArchiveURL https://example.org/%%s\n", "t.conf:1: ArchiveURL: needs exactly");
	{
		struct pd_conf *c = parse_ok("ArchiveURL https://example.org/a%%40b/%s/%%\n");

		assert_string_equal(c->archive_url, "https://example.org/a%%40b/%s/%%");
		pd_conf_free(c);
	}
	/* values the digest would only trip over when it is due */
	parse_err("ListName x\nSendmail sendmail\n",
	    "t.conf:2: Sendmail: not an absolute path");
	parse_err("DigestTo a@example.org -oQ/tmp/x\n",
	    "t.conf:1: DigestTo: an address may not start with '-'");
	parse_err("DigestTo a@example.org,-f\n", "t.conf:1: DigestTo: an address");
	parse_err("DigestFrom d@example.org\nSchedule daily 06:00\n",
	    "t.conf:2: Schedule needs DigestFrom and DigestTo");
	parse_err("Schedule every 5\nDigestTo a@example.org\n",
	    "t.conf:1: Schedule needs DigestFrom and DigestTo");
	parse_err("DigestTo KVM Subscribers <subs@example.org>\n",
	    "t.conf:1: DigestTo: bare addresses only");
	parse_err("DigestFrom KVM digest kvm@example.org\n",
	    "t.conf:1: DigestFrom: not an address or Name <address>");
	parse_err("DigestFrom KVM <kvm@example.org\n", "t.conf:1: DigestFrom: not an");
	parse_err("DigestFrom KVM <>\n", "t.conf:1: DigestFrom: not an");
	parse_err("DigestFrom x <y> <a@example.org>\n", "t.conf:1: DigestFrom: not an");
	parse_err("DigestFrom a;b <a@example.org>\n", "t.conf:1: DigestFrom: not an");
	/* what the envelope takes and the To: header cannot say */
	parse_err("DigestTo a@example.org;b@example.org\n", "t.conf:1: DigestTo: not an ASCII");
	parse_err("DigestTo user\n", "t.conf:1: DigestTo: not an ASCII address");
	parse_err("DigestTo a@b@example.org\n", "t.conf:1: DigestTo: not an ASCII");
	parse_err("DigestTo x@example.org \xc3\xa4@ex\xc3\xa4mple.org\n",
	    "t.conf:1: DigestTo: not an ASCII");
	parse_err("DigestTo a..b@example.org\n", "t.conf:1: DigestTo: not an ASCII");
	parse_err("DigestFrom noaddress\n", "t.conf:1: DigestFrom: not an address");
	parse_err("DigestFrom Bot <bot>\n", "t.conf:1: DigestFrom: not an address");
	parse_err("DigestFrom Bot <b\xc3\xb6t@example.org>\n", "t.conf:1: DigestFrom: not an");
	parse_err("DigestFrom Bot <bot@exa mple.org>\n", "t.conf:1: DigestFrom: not an");
	parse_err("DigestFrom Bot <bot@example.org>>\n", "t.conf:1: DigestFrom: not an");
	/* RFC 2919: <label.namespace>, ASCII, after an optional phrase */
	parse_err("ListId kvm.example.org\n", "t.conf:1: ListId: not [Name] <label");
	parse_err("ListId KVM <kvm>\n", "t.conf:1: ListId: not [Name]");
	parse_err("ListId KVM <gr\xc3\xb6\xc3\x9f" "e.example.org>\n", "t.conf:1: ListId: not");
	parse_err("ListId KVM <kvm.example.org> x\n", "t.conf:1: ListId: not");
	parse_err("ListId KVM <kvm..example.org>\n", "t.conf:1: ListId: not");
	parse_err("ListName KVM-D\xe9veloppeurs\n", "t.conf:1: ListName: not UTF-8");
	parse_err("ListId <a\x1b[31m>\n", "t.conf:1: ListId: a control character");
	{
		char big[260];

		memset(big, 'x', sizeof(big));
		memcpy(big, "ListName ", 9);
		memcpy(big + sizeof(big) - 2, "\n", 2);
		parse_err(big, "t.conf:1: ListName: longer than 200 bytes");
	}
	pd_conf_free(parse_ok("ListId <kvm.example.org>\nListId Liste D\xc3\xa9v <kvm.example.org>\n"
	    "DigestTo a.b+c@sub-1.example.org\n"));
	{
		char *name, *addr;

		assert_int_equal(pd_conf_mailbox("\"Digest, \\\"KVM\\\" =?a?q?b?=\" "
		    "<digest@ex\xc3\xa4mple.org>", &name, &addr), 0);
		assert_string_equal(name, "Digest, \"KVM\" =?a?q?b?=");
		assert_string_equal(addr, "digest@xn--exmple-cua.org");
		free(name);
		free(addr);
		assert_int_equal(pd_conf_mailbox("kvm@example.org (KVM digest)", &name, &addr), 0);
		assert_string_equal(addr, "kvm@example.org");
		free(name);
		free(addr);
		assert_int_equal(pd_conf_mailbox("kvm@example.org", &name, &addr), 0);
		assert_null(name);
		free(addr);
		assert_int_equal(pd_conf_mailbox("kvm digest", &name, &addr), PD_ECONFIG);
		assert_null(addr);
	}
	pd_conf_free(parse_ok("ListName KVM D\xc3\xa9veloppeurs\n"
	    "DigestFrom \"Digest, KVM\" <kvm@example.org>\n"
	    "DigestFrom kvm@example.org (KVM digest)\n"
	    "DigestFrom KVM digest <kvm@example.org>\n"));
	{
		struct pd_conf *c = parse_ok("ListName KVM\tdigest\n");

		assert_string_equal(c->list_name, "KVM digest");
		pd_conf_free(c);
	}
	pd_conf_free(parse_ok("DigestTo a-b@example.org\nDigestFrom d@example.org\n"
	    "Schedule none\n"));
	pd_conf_free(parse_ok("Schedule every 5\nDigestTo a@example.org\n"
	    "DigestFrom d@example.org\n"));
	{
		static const char nul[] = "ListName a\0b\n";
		struct pd_conf *c = NULL;
		char err[256];

		assert_int_equal(pd_conf_parse(nul, sizeof(nul) - 1, "t.conf", &c, err,
		    sizeof(err)), PD_ECONFIG);
		assert_non_null(strstr(err, "t.conf:1: NUL byte"));
	}
}

/*
 * Socket, as every program reads it: libmilter took a port over 65535
 * modulo 65536, and "8891x" as 8891.
 */
static void
test_socket(void **state)
{
	static const char *const good[] = { "unix:/run/pd.sock", "local:rel.sock",
	    "/run/pd.sock", "inet:8891@127.0.0.1", "INET:1", "inet6:65535@::1",
	    "inet:milter@localhost", "inet:8891", "inet:smtp-alt", "inet:pop3@::1" };
	static const char *const bad[] = { "", "unix:", "tcp:8891@127.0.0.1",
	    "inet:99999@127.0.0.1", "inet:65536", "inet:0@127.0.0.1", "inet:8891x",
	    "inet:-1", "inet:+25", "inet:3pop", "inet:smtp_alt", "inet:", "inet:@127.0.0.1",
	    "inet:8891@", "inet6:000080" };
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(pd_conf_socket_check(good[i], &why), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (pd_conf_socket_check(bad[i], &why) != PD_ECONFIG || why == NULL)
			fail_msg("\"%s\" accepted", bad[i]);
	}
	assert_string_equal(pd_conf_socket_path("local:/x"), "/x");
	assert_string_equal(pd_conf_socket_path("/x"), "/x");
	assert_null(pd_conf_socket_path("inet:25"));
	parse_err("ListName x\nSocket inet:99999@127.0.0.1\n",
	    "t.conf:2: Socket: the port is not 1-65535");
	parse_err("Socket tcp:25\n", "t.conf:1: Socket: not unix:/path");
}

/*
 * InternalHosts, as every program reads it: the milter alone refused
 * 300.1.1.1, and at no line.
 */
static void
test_internal_hosts(void **state)
{
	static const char *const bad[] = { "300.1.1.1", "192.0.2.0/33", "::1/129",
	    "host.example", "10.0.0.0/", "/8", "10.0.0.0/x", "10.0.0.0/+8", "10.0.0.0/-0",
	    "10.0.0.0/8/8", "::ffff:255.255.255.255:1:2:3:4:5:6:7:8/128" };
	struct pd_net n;

	(void)state;
	assert_int_equal(pd_conf_net_parse("192.0.2.1", &n), 0);
	assert_int_equal(n.bits, 128);
	assert_int_equal(n.addr[10], 0xff);
	assert_int_equal(n.addr[15], 1);
	assert_int_equal(pd_conf_net_parse("10.0.0.0/8", &n), 0);
	assert_int_equal(n.bits, 96 + 8);
	assert_int_equal(pd_conf_net_parse("2001:db8::/32", &n), 0);
	assert_int_equal(n.bits, 32);
	assert_int_equal(n.addr[1], 0x01);
	assert_int_equal(pd_conf_net_parse("::/0", &n), 0);
	assert_int_equal(n.bits, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pd_conf_net_parse(bad[i], &n) != PD_ECONFIG)
			fail_msg("\"%s\" accepted", bad[i]);
	parse_err("ListName x\nInternalHosts 127.0.0.1, 300.1.1.1\n",
	    "t.conf:2: InternalHosts: not an IPv4 or IPv6 address");
	parse_err("InternalHosts ::1 10.0.0.0/+8\n", "t.conf:1: InternalHosts: not an");
	{
		struct pd_conf *c = parse_ok("InternalHosts ,127.0.0.1,,::1/128 \t\n"
		    "InternalHosts 192.0.2.0/24\n");

		assert_int_equal(c->ninternal_hosts, 3);
		assert_string_equal(c->internal_hosts[1], "::1/128");
		assert_string_equal(c->internal_hosts[2], "192.0.2.0/24");
		pd_conf_free(c);
	}
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/pdconfXXXXXX", err[256];
	struct pd_conf *c = NULL;
	const char text[] = "ListName Test\nDigestTo x@example.org\n";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	assert_int_equal(close(fd), 0);
	assert_int_equal(pd_conf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c->list_name, "Test");
	assert_string_equal(c->path, path);
	pd_conf_free(c);
	unlink(path);
	assert_int_equal(pd_conf_load(path, &c, err, sizeof(err)), PD_EIO);
	assert_non_null(strstr(err, "No such file"));
	pd_conf_free(NULL);
}

/*
 * A FIFO, or over 1M: refused at once.  A FIFO without a writer hung the
 * LDA (mail waiting), /dev/zero grew it without bound; /dev/null is none.
 */
static void
test_load_not_regular(void **state)
{
	char dir[] = "/tmp/pdconfXXXXXX", path[64], err[256];
	struct pd_conf *c = NULL;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pd_conf_load(path, &c, err, sizeof(err)), PD_EIO);
	assert_non_null(strstr(err, "fifo: not a regular file"));
	unlink(path);
	assert_int_equal(pd_conf_load("/dev/zero", &c, err, sizeof(err)), PD_ECONFIG);
	assert_non_null(strstr(err, "/dev/zero: longer than 1M"));
	assert_null(c);
	/* -c /dev/null: no configuration, the defaults */
	assert_int_equal(pd_conf_load("/dev/null", &c, err, sizeof(err)), 0);
	assert_string_equal(c->list_name, "KVM");
	pd_conf_free(c);
	c = NULL;
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_non_null(fp = fopen(path, "w"));
	for (int i = 0; i < 40000; i++)
		fputs("# a comment line to make the file long enough\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(pd_conf_load(path, &c, err, sizeof(err)), PD_ECONFIG);
	assert_non_null(strstr(err, "big: longer than 1M"));
	assert_null(c);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_schedules),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_socket),
		cmocka_unit_test(test_internal_hosts),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_not_regular),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
