/* The patchdigest command: shared state of the subcommands. */
#ifndef PATCHDIGEST_CLI_H
#define PATCHDIGEST_CLI_H

#include "patchdigest/conf.h"
#include "patchdigest/store.h"

struct cli {
	const char *conf_path;	/* -c, NULL = default if it exists */
	const char *db;		/* -D, overrides Database */
	struct pd_conf *conf;	/* loaded before the subcommand runs */
};

/*
 * Subcommands: argv[0] is the subcommand name; getopt starts afresh.
 * Each accepts -c CONFIG and -D DIR too (cli_common_opt).
 * Return the exit status.
 */
int cmd_parse(struct cli *c, int argc, char **argv);
int cmd_classify(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_ranges(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);
int cmd_digest(struct cli *c, int argc, char **argv);
int cmd_send(struct cli *c, int argc, char **argv);

/* Handle -c/-D inside a subcommand's getopt loop: 1 if it was one of them. */
int cli_common_opt(struct cli *c, int ch, const char *arg);
/* (Re)load the configuration after option parsing; prints the error. */
int cli_load_conf(struct cli *c);
/*
 * Open the store of -D or Database; prints a one-line error on failure.
 * flags are pd_store_open's: PD_STORE_CHECK for the commands that write to
 * the store and for stats, where an admin looks when something is wrong;
 * not for the quick reads (show, ranges, digest), which would pay a read
 * of the whole map: they are guarded by cli_guard_reads instead.
 */
int cli_open_store(struct cli *c, unsigned flags, pd_store **st);
/*
 * From here on, a fault (or a sanitizer's report) re-runs the program to
 * check the store of dir: cli_fault_report then says whether it is
 * corrupt (exit 1) or not (exit 70).  Until cli_guard_end.
 */
void cli_guard_reads(const char *dir);
void cli_guard_end(void);
/* In a re-run of cli_guard_reads: the exit status; else -1. */
int cli_fault_report(int argc, char **argv);
/* Print "patchdigest: " and the message to stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
