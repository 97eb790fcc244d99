/*
 * patchdigest classify [-c config] [-D dir] [--json] file ...
 * Kind, series, subsystem, project of each message and the rule that
 * decided, for debugging a rules file or a MAINTAINERS setup.
 *
 * The classifier is the one the milter, the LDA and import build from the
 * same configuration (SubsystemRules, Maintainers, MaintainersFiles), so
 * that this shows what they record.  Without SubsystemRules that is the
 * built-in generic rule (the title's first "token:"); the shipped
 * patchdigest.conf names the installed subsystems.rules.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "json.h"
#include "patchdigest/classify.h"
#include "patchdigest/error.h"
#include "patchdigest/ingest.h"
#include "patchdigest/msg.h"

static int
usage(void)
{
	fprintf(stderr, "usage: patchdigest classify [-c config] [-D dir] [--json] file ...\n");
	return EX_USAGE;
}

static int
slurp(const char *path, char **buf, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *b = NULL, *nb;
	size_t n = 0, cap = 0, r;
	int e = 0;

	if (fp == NULL)
		return -1;
	do {
		if (cap - n < 65536) {
			if ((nb = realloc(b, cap + 65536 + 1)) == NULL) {
				e = ENOMEM;
				break;
			}
			b = nb;
			cap += 65536;
		}
		r = fread(b + n, 1, cap - n, fp);
		n += r;
	} while (r > 0);
	if (e == 0 && ferror(fp))
		e = errno ? errno : EIO;
	fclose(fp);
	if (e != 0) {
		free(b);
		errno = e;
		return -1;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static void
print_one(const char *file, int json, const pd_msg *m, const char *series,
    const struct pd_class *cls)
{
	int first = 1;

	if (!json) {
		printf("%s\n\tkind: %s\n\tseries: %s\n\tsubsystem: %s\n\tproject: %s\n"
		    "\treason: %s\n", file, pd_kind_name(pd_msg_kind(m)), series,
		    cls->subsystem, cls->project, cls->reason);
		return;
	}
	putchar('{');
	json_kv(stdout, &first, "file", file);
	json_kv(stdout, &first, "kind", pd_kind_name(pd_msg_kind(m)));
	json_kv(stdout, &first, "series", series);
	json_kv(stdout, &first, "subsystem", cls->subsystem);
	json_kv(stdout, &first, "project", cls->project);
	json_kv(stdout, &first, "reason", cls->reason);
	puts("}");
}

static void
print_error(const char *file, int json, const char *err)
{
	int first = 1;

	if (!json) {
		cli_err("%s: %s", file, err);
		return;
	}
	putchar('{');
	json_kv(stdout, &first, "file", file);
	json_kv(stdout, &first, "error", err);
	puts("}");
}

static int
classify_file(const pd_classifier *cl, const char *file, int json)
{
	struct pd_class cls;
	char *buf = NULL, series[256];
	size_t len;
	pd_msg *m;
	int rc;

	if (slurp(file, &buf, &len) != 0) {
		print_error(file, json, strerror(errno));
		return -1;
	}
	rc = pd_msg_parse(buf, len, NULL, &m);
	free(buf);
	if (rc != 0) {
		print_error(file, json, pd_strerror(rc));
		return -1;
	}
	pd_classify(cl, m, &cls);
	pd_series_guess(m, series, sizeof(series));
	print_one(file, json, m, series, &cls);
	pd_msg_free(m);
	return 0;
}

int
cmd_classify(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	pd_classifier *cl;
	char err[512];
	int ch, json = 0, failed = 0;

	while ((ch = getopt_long(argc, argv, "c:D:V", longopts, NULL)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (!cli_common_opt(c, ch, optarg))
			return usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage();
	if (cli_load_conf(c) != 0)
		return 1;
	if (pd_classifier_new(c->conf->subsystem_rules, c->conf->maintainers, c->conf->maintainers_files,
	    &cl, err, sizeof(err)) != 0) {
		cli_err("%s", err);
		return 1;
	}
	for (int i = 0; i < argc; i++)
		if (classify_file(cl, argv[i], json) != 0)
			failed = 1;
	pd_classifier_free(cl);
	return failed;
}
