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

/* A closed range prints the digest stored at closing: exactly what was mailed. */
static int
stored_digest(pd_store *st, const struct pd_range *r, int html, char **out)
{
	struct pd_digest_rec d = { 0 };
	int rc;

	if (r->open)
		return PD_ENOTFOUND;
	if ((rc = pd_store_digest_get(st, r->no, &d)) != 0)
		return rc;
	if (html ? d.html == NULL : d.text == NULL) {
		pd_digest_rec_clear(&d);
		return PD_ENOTFOUND;
	}
	if (html) {
		*out = d.html;
		d.html = NULL;
	} else {
		*out = d.text;
		d.text = NULL;
	}
	pd_digest_rec_clear(&d);
	return 0;
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

	while ((ch = getopt_long(argc, argv, "c:D:", longopts, NULL)) != -1) {
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
	rc = stored_digest(st, &r, want_html, &out);
	if (rc == PD_ENOTFOUND) {
		rc = pd_digest_render(st, c->conf, &r, &text, want_html ? &html : NULL);
		if (want_html) {
			out = html;
			html = NULL;
		} else {
			out = text;
			text = NULL;
		}
	}
	if (rc != 0) {
		cli_err("digest: %s", pd_strerror(rc));
		goto out;
	}
	if (fputs(out, stdout) == EOF)
		cli_err("writing the digest failed");
	else
		status = 0;
	free(out);
out:
	free(text);
	free(html);
	pd_store_close(st);
	return status;
}
