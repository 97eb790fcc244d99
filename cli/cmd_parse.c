/*
 * patchdigest parse [--json] file...: the fields of each message as the
 * parser reads them; the debugging tool and the interface tests use.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "patchdigest/error.h"
#include "patchdigest/msg.h"
#include "cli.h"
#include "json.h"

static int
usage(void)
{
	fprintf(stderr, "usage: patchdigest parse [-c config] [-D dir] [--json] file ...\n");
	return EX_USAGE;
}

/* Whole file into memory; NULL and errno on failure. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *fp;
	char *buf = NULL, *nbuf;
	size_t cap = 0, n = 0, r;
	int saved;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nbuf;
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(fp))
		goto fail;
	fclose(fp);
	*len = n;
	return buf;
fail:
	saved = errno;
	free(buf);
	fclose(fp);
	errno = saved ? saved : EIO;
	return NULL;
}

static void
json_strings(FILE *fp, int *first, const char *key, const pd_msg *m,
    size_t (*count)(const pd_msg *), const char *(*get)(const pd_msg *, size_t))
{
	size_t i, n = count(m);

	json_key(fp, first, key);
	fputc('[', fp);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', fp);
		json_string(fp, get(m, i));
	}
	fputc(']', fp);
}

static void
print_json(FILE *fp, const char *file, const pd_msg *m)
{
	int first = 1, x, n;
	unsigned flags = pd_msg_flags(m);
	size_t i, nc;

	fputc('{', fp);
	json_kv(fp, &first, "file", file);
	json_kv(fp, &first, "kind", pd_kind_name(pd_msg_kind(m)));
	json_kv(fp, &first, "subject", pd_msg_subject(m));
	json_kv(fp, &first, "title", pd_msg_title(m));
	json_key(fp, &first, "version");
	fprintf(fp, "%d", pd_msg_version(m));
	json_key(fp, &first, "counter");
	if ((x = pd_msg_counter(m, &n)) >= 0)
		fprintf(fp, "[%d,%d]", x, n);
	else
		fputs("null", fp);
	json_strings(fp, &first, "tags", m, pd_msg_ntags, pd_msg_tag);
	json_key(fp, &first, "flags");
	fprintf(fp, "[%s%s%s]", flags & PD_FLAG_RFC ? "\"RFC\"" : "",
	    (flags & PD_FLAG_RFC) && (flags & PD_FLAG_RESEND) ? "," : "",
	    flags & PD_FLAG_RESEND ? "\"RESEND\"" : "");
	json_kv(fp, &first, "author", pd_msg_author(m));
	json_kv(fp, &first, "author_name", pd_msg_author_name(m));
	json_kv(fp, &first, "author_email", pd_msg_author_email(m));
	json_kv(fp, &first, "domain", pd_msg_domain(m));
	json_kv(fp, &first, "from", pd_msg_from(m));
	json_kv(fp, &first, "message_id", pd_msg_id(m));
	json_key(fp, &first, "message_id_synthetic");
	fputs(pd_msg_id_synthetic(m) ? "true" : "false", fp);
	json_kv(fp, &first, "in_reply_to", pd_msg_in_reply_to(m));
	json_strings(fp, &first, "references", m, pd_msg_nrefs, pd_msg_ref);
	json_kv(fp, &first, "list_id", pd_msg_list_id(m));
	json_kv(fp, &first, "date_str", pd_msg_date_str(m));
	json_key(fp, &first, "date");
	fprintf(fp, "%lld", (long long)pd_msg_date(m));
	json_strings(fp, &first, "files", m, pd_msg_nfiles, pd_msg_file);
	json_key(fp, &first, "trailers");
	fputc('[', fp);
	for (i = 0; i < pd_msg_ntrailers(m); i++) {
		fputs(i ? ",[" : "[", fp);
		json_string(fp, pd_msg_trailer_name(m, i));
		fputc(',', fp);
		json_string(fp, pd_msg_trailer_value(m, i));
		fputc(']', fp);
	}
	fputc(']', fp);
	/* indexes of the trailers a reply carries along (they credit nothing) */
	json_key(fp, &first, "trailers_carried");
	fputc('[', fp);
	for (i = 0, nc = 0; i < pd_msg_ntrailers(m); i++)
		if (pd_msg_trailer_carried(m, i))
			fprintf(fp, nc++ ? ",%zu" : "%zu", i);
	fputc(']', fp);
	json_kv(fp, &first, "change_id", pd_msg_change_id(m));
	json_kv(fp, &first, "pull_url", pd_msg_pull_url(m));
	json_kv(fp, &first, "pull_base", pd_msg_pull_base(m));
	json_kv(fp, &first, "pull_tip", pd_msg_pull_tip(m));
	json_kv(fp, &first, "excerpt", pd_msg_excerpt(m));
	fputs("}\n", fp);
}

static void
print_text(FILE *fp, const char *file, const pd_msg *m)
{
	int x, n;
	size_t i;

	fprintf(fp, "file: %s\nkind: %s\nsubject: %s\ntitle: %s\nversion: %d\n",
	    file, pd_kind_name(pd_msg_kind(m)), pd_msg_subject(m),
	    pd_msg_title(m), pd_msg_version(m));
	if ((x = pd_msg_counter(m, &n)) >= 0)
		fprintf(fp, "counter: %d/%d\n", x, n);
	for (i = 0; i < pd_msg_ntags(m); i++)
		fprintf(fp, "tag: %s\n", pd_msg_tag(m, i));
	if (pd_msg_flags(m) & PD_FLAG_RFC)
		fputs("flag: RFC\n", fp);
	if (pd_msg_flags(m) & PD_FLAG_RESEND)
		fputs("flag: RESEND\n", fp);
	fprintf(fp, "author: %s\ndomain: %s\nfrom: %s\nmessage-id: %s%s\n",
	    pd_msg_author(m), pd_msg_domain(m), pd_msg_from(m), pd_msg_id(m),
	    pd_msg_id_synthetic(m) ? " (synthetic)" : "");
	if (*pd_msg_in_reply_to(m))
		fprintf(fp, "in-reply-to: %s\n", pd_msg_in_reply_to(m));
	for (i = 0; i < pd_msg_nrefs(m); i++)
		fprintf(fp, "reference: %s\n", pd_msg_ref(m, i));
	if (*pd_msg_list_id(m))
		fprintf(fp, "list-id: %s\n", pd_msg_list_id(m));
	fprintf(fp, "date: %s (%lld)\n", pd_msg_date_str(m),
	    (long long)pd_msg_date(m));
	for (i = 0; i < pd_msg_nfiles(m); i++)
		fprintf(fp, "file-touched: %s\n", pd_msg_file(m, i));
	for (i = 0; i < pd_msg_ntrailers(m); i++)
		fprintf(fp, "trailer%s: %s: %s\n",
		    pd_msg_trailer_carried(m, i) ? " (carried)" : "",
		    pd_msg_trailer_name(m, i), pd_msg_trailer_value(m, i));
	if (*pd_msg_pull_url(m) || *pd_msg_pull_base(m))
		fprintf(fp, "pull: %s base %s tip %s\n", pd_msg_pull_url(m),
		    pd_msg_pull_base(m), pd_msg_pull_tip(m));
	fprintf(fp, "excerpt:\n%s\n\n", pd_msg_excerpt(m));
}

static void
print_error(FILE *fp, int json, const char *file, const char *err)
{
	int first = 1;

	if (!json) {
		cli_err("%s: %s", file, err);
		return;
	}
	fputc('{', fp);
	json_kv(fp, &first, "file", file);
	json_kv(fp, &first, "error", err);
	fputs("}\n", fp);
}

int
cmd_parse(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	pd_msg *m;
	char *buf;
	size_t len;
	int ch, i, json = 0, failed = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:D:V", longopts, NULL)) != -1) {
		if (cli_common_opt(c, ch, optarg))
			continue;
		if (ch == 'j') {
			json = 1;
			continue;
		}
		return usage();
	}
	if (optind >= argc)
		return usage();
	for (i = optind; i < argc; i++) {
		if ((buf = read_file(argv[i], &len)) == NULL) {
			print_error(stdout, json, argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		rc = pd_msg_parse(buf, len, NULL, &m);
		free(buf);
		if (rc != 0) {
			print_error(stdout, json, argv[i], pd_strerror(rc));
			failed = 1;
			continue;
		}
		if (json)
			print_json(stdout, argv[i], m);
		else
			print_text(stdout, argv[i], m);
		pd_msg_free(m);
	}
	return failed;
}
