/*
 * patchdigest-milter internals: the modules of the milter daemon.
 *
 *   milter.c    options, daemon start-up, signals, shutdown
 *   listen.c    the listening socket (stale socket check, mode, TCP_NODELAY)
 *   state.c     shared state: configuration generations, the store, ingest
 *   message.c   one message as the MTA hands it over (headers, capped body)
 *   callbacks.c the libmilter callbacks
 *   testfile.c  -t FILE: one message file through the same path, no MTA
 *   sched.c     the optional digest schedule thread
 *   hosts.c     InternalHosts address matching
 */
#ifndef PATCHDIGEST_MILTER_H
#define PATCHDIGEST_MILTER_H

#include <stddef.h>
#include <sys/socket.h>

#include <glib.h>

#include "patchdigest/conf.h"
#include "patchdigest/ingest.h"
#include "patchdigest/tags.h"

/* --- hosts.c */
struct pdm_hosts;
/* Parse "addr" and "addr/len" entries; errbuf names the bad one. */
int pdm_hosts_new(char *const *list, struct pdm_hosts **out, char *errbuf, size_t errlen);
void pdm_hosts_free(struct pdm_hosts *h);
/* 1 if sa (AF_INET or AF_INET6, v4-mapped too) is in the list. */
int pdm_hosts_match(const struct pdm_hosts *h, const struct sockaddr *sa);

/* --- state.c */

/*
 * One configuration generation: what a connection uses from its start to
 * its end, so that a reload only affects new connections.
 */
struct pdm_cfg {
	struct pd_conf *conf;
	pd_classifier *cl;
	struct pdm_hosts *internal;
	int refs;
};

/* Load a configuration (path NULL: defaults) with its classifier and hosts. */
int pdm_cfg_load(const char *path, const char *dbdir, struct pdm_cfg **out,
    char *errbuf, size_t errlen);
void pdm_cfg_put(struct pdm_cfg *c);	/* drop one reference */

/* The daemon's state: current configuration, the store (opened once). */
int pdm_state_init(struct pdm_cfg *cfg, const char *dbdir);
void pdm_state_shutdown(void);
struct pdm_cfg *pdm_state_cfg(void);	/* a new reference to the current one */
void pdm_state_reload(const char *path);	/* logs the outcome */
void pdm_state_open_store(void);	/* at start-up; failures are retried later */

/*
 * Messages in progress, for a clean SIGTERM.  begin fails (-1) once drain
 * has run.  drain waits until none is in progress (or seconds pass), then
 * refuses new ones; 0 when it got idle in time.
 */
int pdm_state_busy_begin(void);
void pdm_state_busy_end(void);
int pdm_state_drain(int seconds);

/*
 * Parse, classify and (count != 0) record one message; fill tags.
 * Returns 0 (tags set), PD_EPARSE (not a message: pass on unchanged, nothing
 * counted) or another pd_err (our fault: OnError decides).
 */
int pdm_ingest(struct pdm_cfg *cfg, const char *raw, size_t len, int count,
    struct pd_ingest *res, struct pd_tags *tags);

/* The digest schedule's view of the store, under the same lock. */
int pdm_state_send_due(const struct pd_conf *conf, int *sent, char *errbuf,
    size_t errlen);

/* --- message.c */
struct pdm_oldtag {
	char name[64];
	int index;		/* 1-based among headers of that name */
};

struct pdm_msg {
	char *buf;		/* header lines, CRLF, the blank line, body */
	size_t len, cap;
	size_t max;		/* MaxMessageSize */
	size_t total;		/* bytes received, buffered or not */
	int truncated;
	int frozen;		/* refused by the budget: holds no more */
	int in_body;		/* the blank line is in buf */
	int failed;		/* out of memory: pass the message on unchanged */
	struct pdm_oldtag *old;	/* X-Patch-* headers the message carried */
	size_t nold, capold;
	GHashTable *names;	/* lower-case X-Patch-* name -> count */
};

void pdm_msg_init(struct pdm_msg *m, size_t max);
void pdm_msg_reset(struct pdm_msg *m);	/* frees everything; ready for the next */
int pdm_msg_header(struct pdm_msg *m, const char *name, const char *value);
int pdm_msg_body(struct pdm_msg *m, const unsigned char *p, size_t n);
/* Ends the header block if no body came; returns buf and len. */
int pdm_msg_finish(struct pdm_msg *m);

/* --- callbacks.c */
struct smfiDesc;
extern struct smfiDesc pdm_filter;

/* --- listen.c */
/*
 * Remove a stale unix socket, open spec (checked: pd_conf_socket_check)
 * with UMask; returns 0 or -1 (logged).
 */
int pdm_listen_open(const char *spec, unsigned umask_bits, const char *user);
void pdm_listen_close(void);	/* after smfi_main returned */
int pdm_listen_inet(void);	/* 1 if the socket opened is inet or inet6 */

/* --- testfile.c */
int pdm_testfile(struct pdm_cfg *cfg, const char *path);

/* --- milter.c */
int pdm_stdout_done(void);	/* 0, or EX_IOERR logged: stdout closed or failed */

/* --- sched.c */
int pdm_sched_start(void);
void pdm_sched_poke(void);	/* a patch message was counted */
void pdm_sched_stop(void);

#endif
