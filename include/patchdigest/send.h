/* Sending digests exactly once (SPEC.md section 5, "The mail"). */
#ifndef PATCHDIGEST_SEND_H
#define PATCHDIGEST_SEND_H

#include <time.h>
#include "patchdigest/conf.h"
#include "patchdigest/store.h"

#define PD_SEND_FORCE	0x01	/* close and send even an empty range */
#define PD_SEND_DUE	0x02	/* only when the schedule says so */
#define PD_SEND_NOCLOSE	0x04	/* only retry unsent digests */

struct pd_send_result {
	int sent;		/* digests handed to sendmail successfully */
	int closed;		/* 1 if this call closed a range */
	char subject[256];	/* of the last digest sent */
	char errbuf[256];	/* why sending failed, "" if it did not */
};

/* 1 if a digest is due at now (last closing time and counts from the store). */
int pd_send_due(pd_store *st, const struct pd_conf *conf, time_t now);
/*
 * Retry unsent digests, then (unless NOCLOSE, or DUE and not due) close the
 * open range, render, store and send it.  Never through a shell.
 */
int pd_send(pd_store *st, const struct pd_conf *conf, unsigned flags, time_t now,
    struct pd_send_result *res);
/* The MIME message of a stored digest (GMime), as bytes with LF line ends. */
int pd_send_build(const struct pd_conf *conf, const struct pd_digest_rec *d,
    char **out, size_t *outlen);

#endif
