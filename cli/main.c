/*
 * patchdigest: the command-line front end.
 *   patchdigest [-c config] [-D dir] command [args]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "patchdigest/error.h"
#include "patchdigest/msg.h"

#define PD_VERSION	"0.1"

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
} cmds[] = {
	{ "classify",	cmd_classify },
	{ "digest",	cmd_digest },
	{ "import",	cmd_import },
	{ "parse",	cmd_parse },
	{ "ranges",	cmd_ranges },
	{ "send",	cmd_send },
	{ "show",	cmd_show },
	{ "stats",	cmd_stats },
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: patchdigest [-V] [-c config] [-D dir] command [args]\n"
	    "       patchdigest parse [-c config] [-D dir] [--json] file ...\n"
	    "       patchdigest classify [-c config] [-D dir] [--json] file ...\n"
	    "       patchdigest import [-c config] [-D dir] file|dir|- ...\n"
	    "       patchdigest ranges [-c config] [-D dir]\n"
	    "       patchdigest show [-c config] [-D dir] id|message-id\n"
	    "       patchdigest stats [-c config] [-D dir] [--range id] [--json]\n"
	    "       patchdigest digest [-c config] [-D dir] [--range id] [--html]\n"
	    "       patchdigest send [-c config] [-D dir] [--due] [--force]\n"
	    "       patchdigest send [-c config] [-D dir] --skip id\n");
	exit(EX_USAGE);
}

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("patchdigest: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * What was written reached stdout: else its error, once (the commands
 * leave it to this), and a failure status.
 */
static int
stdout_done(int rc)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc;
	cli_err("stdout: %s", strerror(errno));
	return rc ? rc : 1;
}

static void __attribute__((noreturn))
version(void)
{
	printf("patchdigest %s\n", PD_VERSION);
	exit(stdout_done(0));
}

int
cli_common_opt(struct cli *c, int ch, const char *arg)
{
	if (ch == 'c')
		c->conf_path = arg;
	else if (ch == 'D')
		c->db = arg;
	else if (ch == 'V')
		version();
	else
		return 0;
	return 1;
}

int
cli_load_conf(struct cli *c)
{
	char err[512];
	struct pd_conf *conf;
	int rc;

	if (c->conf_path == NULL)
		c->conf_path = pd_conf_default_path();
	if (c->conf_path != NULL)
		rc = pd_conf_load(c->conf_path, &conf, err, sizeof(err));
	else
		rc = pd_conf_new(&conf);
	if (rc != 0) {
		cli_err("%s", c->conf_path ? err : pd_strerror(rc));
		return -1;
	}
	if (c->db != NULL) {
		char *db = strdup(c->db);

		if (db == NULL) {
			pd_conf_free(conf);
			cli_err("%s", pd_strerror(PD_ENOMEM));
			return -1;
		}
		free(conf->database);
		conf->database = db;
	}
	pd_conf_free(c->conf);
	c->conf = conf;
	return 0;
}

int
cli_open_store(struct cli *c, unsigned flags, pd_store **st)
{
	int rc;

	if (!(flags & PD_STORE_CHECK))
		cli_guard_reads(c->conf->database);
	rc = pd_store_open(c->conf->database, flags, c->conf->map_size,
	    c->conf->map_size_max, st);
	if (rc != 0) {
		cli_err("store %s: %s", c->conf->database, pd_strerror(rc));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c = { 0 };
	int ch, rc;

	/*
	 * Inherited as ignored, SIGCHLD would make waitpid fail for our
	 * children, SIGPIPE a reader gone (-V | head) an error to report.
	 */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if ((rc = cli_fault_report(argc, argv)) >= 0)
		return rc;
	while ((ch = getopt(argc, argv, "+c:D:V")) != -1) {
		if (!cli_common_opt(&c, ch, optarg))
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		/* The configuration is read by the command, after its own -c. */
		pd_msg_init();
		/*
		 * GMime's gpgme ignores SIGPIPE: a reader gone (| head) would
		 * fail each write.  A closed pipe ends us quietly, as it does cat.
		 */
		signal(SIGPIPE, SIG_DFL);
		optind = 0;	/* glibc: reinitialise getopt for the subcommand */
		rc = cmds[i].fn(&c, argc, argv);
		cli_guard_end();
		rc = stdout_done(rc);
		pd_conf_free(c.conf);
		pd_msg_shutdown();
		return rc;
	}
	cli_err("unknown command \"%s\"", argv[0]);
	usage();
}
