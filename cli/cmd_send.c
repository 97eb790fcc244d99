/*
 * patchdigest send [--due] [--force]: retry unsent digests, then close the
 * open range and mail its digest (see pd_send).  Quiet on success, so that
 * cron mails nothing; errors go to stderr with a non-zero exit.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "patchdigest/error.h"
#include "patchdigest/send.h"

static int
usage(void)
{
	fprintf(stderr, "usage: patchdigest send [-c config] [-D dir] [--due] [--force]\n");
	return EX_USAGE;
}

/*
 * A store directory nothing was recorded in yet (a fresh install: the LDA
 * and the milter create the store with the first message) has nothing due;
 * a missing directory is still an error (a wrong Database).
 */
static int
not_started(const char *dir)
{
	char path[4096];
	struct stat sb;
	int n;

	n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    stat(path, &sb) != 0 && errno == ENOENT;
}

int
cmd_send(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "due",	no_argument,	NULL, 'd' },
		{ "force",	no_argument,	NULL, 'f' },
		{ NULL,		0,		NULL, 0 },
	};
	struct pd_send_result res;
	pd_store *st = NULL;
	unsigned flags = 0;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:D:V", longopts, NULL)) != -1) {
		if (cli_common_opt(c, ch, optarg))
			continue;
		switch (ch) {
		case 'd':
			flags |= PD_SEND_DUE;
			break;
		case 'f':
			flags |= PD_SEND_FORCE;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (cli_load_conf(c) != 0)
		return 1;
	if ((flags & PD_SEND_DUE) && not_started(c->conf->database))
		return 0;
	if (cli_open_store(c, PD_STORE_CHECK, &st) != 0)
		return 1;
	rc = pd_send(st, c->conf, flags, time(NULL), &res);
	pd_store_close(st);
	if (rc != 0) {
		/* After a sendmail failure the digest stays stored for the next send. */
		cli_err("send: %s", res.errbuf[0] ? res.errbuf : pd_strerror(rc));
		return 1;
	}
	return 0;
}
