/*
 * patchdigest send [--due] [--force]: retry unsent digests, then close the
 * open range and mail its digest (see pd_send).  Quiet on success, so that
 * cron mails nothing; errors go to stderr with a non-zero exit.
 * send --skip ID gives up an unsent digest that cannot go.
 */
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
	fprintf(stderr, "usage: patchdigest send [-c config] [-D dir] [--due] [--force]\n"
	    "       patchdigest send [-c config] [-D dir] --skip id\n");
	return EX_USAGE;
}

/* The digest of range id is given up, never sent; closes st. */
static int
skip_digest(pd_store *st, const char *id)
{
	struct pd_range r;
	int rc;

	if ((rc = pd_store_range(st, id, &r)) == 0)
		rc = pd_store_skip_digest(st, r.no);
	pd_store_close(st);
	if (rc == PD_ENOTFOUND)
		cli_err("send --skip %s: no unsent digest", id);
	else if (rc != 0)
		cli_err("send --skip %s: %s", id, pd_strerror(rc));
	return rc != 0;
}

int
cmd_send(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "due",	no_argument,	NULL, 'd' },
		{ "force",	no_argument,	NULL, 'f' },
		{ "skip",	required_argument,	NULL, 's' },
		{ NULL,		0,		NULL, 0 },
	};
	const char *skip = NULL;
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
		case 's':
			skip = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc || (skip != NULL && flags != 0))
		return usage();
	if (cli_load_conf(c) != 0)
		return 1;
	/* A fresh install's store directory: nothing can be due, cron stays quiet. */
	if ((flags & PD_SEND_DUE) && pd_store_unstarted(c->conf->database))
		return 0;
	if (cli_open_store(c, PD_STORE_CHECK, &st) != 0)
		return 1;
	if (skip != NULL)
		return skip_digest(st, skip);
	rc = pd_send(st, c->conf, flags, time(NULL), &res);
	pd_store_close(st);
	if (rc != 0) {
		/* After a sendmail failure the digest stays stored for the next send. */
		cli_err("send: %s", res.errbuf[0] ? res.errbuf : pd_strerror(rc));
		return 1;
	}
	return 0;
}
