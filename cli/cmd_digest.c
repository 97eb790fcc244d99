/*
 * patchdigest digest [--range ID] [--html]: the digest of the open range as
 * it would be sent now, or of a closed range as it was stored when closed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "patchdigest/digest.h"
#include "patchdigest/error.h"

static int
usage(void)
{
	fprintf(stderr, "usage: patchdigest digest [-c config] [-D dir] [--range id] [--html]\n");
	return EX_USAGE;
}

static int
write_out(const char *p, size_t len, void *arg)
{
	(void)arg;
	return fwrite(p, 1, len, stdout) == len ? 0 : PD_EIO;
}

int
cmd_digest(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "range",	required_argument,	NULL, 'r' },
		{ "html",	no_argument,		NULL, 'H' },
		{ NULL,		0,			NULL, 0 },
	};
	const char *range = NULL;
	struct pd_range r;
	pd_store *st = NULL;
	char *text = NULL, *html = NULL, *out;
	int ch, want_html = 0, rc, status = 1;

	while ((ch = getopt_long(argc, argv, "c:D:V", longopts, NULL)) != -1) {
		if (cli_common_opt(c, ch, optarg))
			continue;
		switch (ch) {
		case 'r':
			range = optarg;
			break;
		case 'H':
			want_html = 1;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (cli_load_conf(c) != 0 || cli_open_store(c, PD_STORE_RDONLY, &st) != 0)
		return 1;
	if ((rc = pd_store_range(st, range, &r)) != 0) {
		cli_err("range %s: %s", range ? range : "(open)", pd_strerror(rc));
		goto out;
	}
	/* A closed range prints the digest stored at closing: what was mailed. */
	rc = r.open ? PD_ENOTFOUND : pd_store_digest_view(st, r.no, want_html, write_out, NULL);
	if (rc == PD_ENOTFOUND) {
		rc = pd_digest_render(st, c->conf, &r, &text, want_html ? &html : NULL);
		out = want_html ? html : text;
		if (rc == 0)
			rc = write_out(out, strlen(out), NULL);
	}
	if (rc == 0)
		status = 0;
	else if (!ferror(stdout))	/* stdout's error is main's to report */
		cli_err("digest: %s", pd_strerror(rc));
out:
	free(text);
	free(html);
	pd_store_close(st);
	return status;
}
