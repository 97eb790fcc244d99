/* patchdigest ranges: every range, oldest first. */
#include <unistd.h>
#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "patchdigest/error.h"

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "-");
}

static int
print_range(const struct pd_range *r, void *arg)
{
	char opened[32], closed[32];

	(void)arg;
	fmt_time(r->opened, opened, sizeof(opened));
	fmt_time(r->closed, closed, sizeof(closed));
	printf("%4llu  from %s to %s  %6llu messages %6llu patches  %s .. %s%s\n",
	    (unsigned long long)r->no, r->from, r->to,
	    (unsigned long long)r->messages, (unsigned long long)r->patch_messages,
	    opened, r->open ? "" : closed, r->open ? "(open)" : "");
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: patchdigest ranges [-c config] [-D dir]\n");
	return EX_USAGE;
}

int
cmd_ranges(struct cli *c, int argc, char **argv)
{
	pd_store *st;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:D:V")) != -1) {
		if (cli_common_opt(c, ch, optarg))
			continue;
		return usage();
	}
	if (optind != argc)
		return usage();
	if (cli_load_conf(c) != 0 || cli_open_store(c, PD_STORE_RDONLY, &st) != 0)
		return 1;
	rc = pd_store_foreach_range(st, print_range, NULL);
	pd_store_close(st);
	if (rc != 0) {
		cli_err("ranges: %s", pd_strerror(rc));
		return 1;
	}
	return 0;
}
