/*
 * Configuration: one "Keyword value" per line, '#' comments, shared by all
 * programs (SPEC.md section 6, patchdigest.conf(5)).
 */
#ifndef PATCHDIGEST_CONF_H
#define PATCHDIGEST_CONF_H

#include <stddef.h>
#include <stdint.h>

enum pd_sched_kind { PD_SCHED_NONE = 0, PD_SCHED_DAILY, PD_SCHED_WEEKLY, PD_SCHED_EVERY };

struct pd_schedule {
	enum pd_sched_kind kind;
	int wday;		/* 0 = Sunday (weekly) */
	int hour, min;		/* daily, weekly; local time */
	unsigned long every;	/* every N patch messages */
};

enum pd_on_error { PD_ONERR_ACCEPT = 0, PD_ONERR_TEMPFAIL };

struct pd_conf {
	char *path;		/* file it was read from, or NULL */
	char *database;		/* LMDB directory */
	char *list_name;	/* "KVM" by default */
	char *list_id;		/* List-Id of digests, NULL = none */
	char *digest_from;
	char **digest_to;	/* NULL-terminated */
	size_t ndigest_to;
	char *sendmail;		/* program path */
	char *archive_url;	/* printf pattern with one %s (Message-ID) */
	struct pd_schedule schedule;
	char *maintainers;	/* MAINTAINERS path */
	char *maintainers_files;	/* file list telling directories */
	char *subsystem_rules;
	size_t map_size;	/* initial LMDB map size */
	size_t map_size_max;	/* growth limit */
	enum pd_on_error on_error;
	size_t max_message_size;
	/* milter */
	char *socket;
	unsigned umask;
	char *user_id;
	char *pid_file;
	int syslog;
	char **internal_hosts;	/* NULL-terminated, each pd_conf_net_parse's */
	size_t ninternal_hosts;
};

/* A configuration with every default set. */
int pd_conf_new(struct pd_conf **out);
/*
 * The file read when no -c is given: its path, or NULL when there is none
 * (the defaults apply).  A file that exists but cannot be read is still
 * named, so that loading it fails and says why, rather than the defaults
 * being used in its place.
 */
const char *pd_conf_default_path(void);
/*
 * Read a file over the defaults.  On error, errbuf names the file, the line
 * and the problem.  Returns 0, PD_EIO or PD_ECONFIG.
 */
int pd_conf_load(const char *path, struct pd_conf **out, char *errbuf, size_t errlen);
/* Parse a buffer (for tests and the fuzzer); name is used in messages. */
int pd_conf_parse(const char *buf, size_t len, const char *name, struct pd_conf **out,
    char *errbuf, size_t errlen);
void pd_conf_free(struct pd_conf *c);
/*
 * The display name (NULL for none) and the address of a DigestFrom value,
 * "addr" or "Name <addr>", the address's domain in its ASCII form; the
 * caller frees both.  Returns 0, PD_ECONFIG or PD_ENOMEM.
 */
int pd_conf_mailbox(const char *v, char **name, char **addr);
/* Parse "daily 06:00", "weekly mon 06:00", "every 500". */
int pd_schedule_parse(const char *s, struct pd_schedule *out);
/*
 * A milter socket as libmilter takes it: unix:/path, local:/path (or a bare
 * path), inet:port[@host] or inet6:port[@host], where the port is 1-65535
 * or a service name.  Returns 0, or PD_ECONFIG with *why saying what is
 * wrong.
 */
int pd_conf_socket_check(const char *spec, const char **why);
/* The path of a unix socket spec; NULL for an inet one. */
const char *pd_conf_socket_path(const char *spec);

/* An address or network of InternalHosts. */
struct pd_net {
	unsigned char addr[16];	/* IPv4 as v4-mapped IPv6 */
	int bits;		/* prefix length over the 128 bits */
};

/* Parse "addr" or "addr/len", IPv4 or IPv6; returns 0 or PD_ECONFIG. */
int pd_conf_net_parse(const char *s, struct pd_net *out);

#endif
