/*
 * The libmilter callbacks.  Each connection owns a struct conn (smfi_setpriv)
 * holding its configuration generation and the message in progress.  The
 * filter never rejects or delays mail through its own fault: anything that
 * goes wrong on our side accepts the message unchanged, or tempfails it when
 * OnError is tempfail.  A message that is not a message (unparseable) is
 * always accepted unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "patchdigest/error.h"
#include "patchdigest/log.h"
#include "milter.h"

struct conn {
	struct pdm_cfg *cfg;
	int internal;		/* client in InternalHosts: tag, don't count */
	unsigned long noreply;	/* the SMFIP_NR_* steps negotiated */
	int leadspc;		/* SMFIP_HDR_LEADSPC: values carry their blank */
	int in_msg;		/* counted by pdm_state_busy_begin */
	int refused;		/* shutting down: answer on_error at eom */
	char qid[32];
	struct pdm_msg msg;
};

static struct conn *
conn_get(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->cfg = pdm_state_cfg()) == NULL) {	/* shutting down */
		free(c);
		return NULL;
	}
	pdm_msg_init(&c->msg, c->cfg->conf->max_message_size);
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		pdm_cfg_put(c->cfg);
		free(c);
		return NULL;
	}
	return c;
}

/* The one cleanup of a message: end of message, abort, close. */
static void
msg_done(struct conn *c)
{
	pdm_msg_reset(&c->msg);
	c->qid[0] = '\0';
	c->refused = 0;
	log_setqid(NULL);
	if (c->in_msg) {
		c->in_msg = 0;
		pdm_state_busy_end();
	}
}

static void
get_qid(SMFICTX *ctx, struct conn *c)
{
	const char *qid;

	if (c->qid[0] == '\0' && (qid = smfi_getsymval(ctx, "i")) != NULL)
		snprintf(c->qid, sizeof(c->qid), "%s", qid);
}

static sfsistat
on_error(const struct conn *c)
{
	if (c != NULL && c->cfg->conf->on_error == PD_ONERR_TEMPFAIL)
		return SMFIS_TEMPFAIL;
	return SMFIS_ACCEPT;
}

static sfsistat
xxfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_MAIL |
	    SMFIP_NR_HDR | SMFIP_NR_BODY;
	unsigned long skip = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_NORCPT | SMFIP_NOEOH;
	struct conn *c;

	(void)f2;
	(void)f3;
	if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS))
		return SMFIS_REJECT;	/* the MTA goes on without this filter */
	if ((c = conn_get(ctx)) == NULL)
		return SMFIS_REJECT;
	*pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
	/*
	 * Where the MTA offers it, no reply to the connection, MAIL, each
	 * header and each body chunk: the MTA need not wait for us until end
	 * of message, which is where every answer of ours is given (on TCP,
	 * DATA gets a reply too: below).
	 */
	c->noreply = f1 & noreply;
	/*
	 * Where offered, header values as they are, leading blank included:
	 * so that a tag whose value starts on a continuation line (a long
	 * Message-ID) has no blank at the end of its first line.
	 */
	c->leadspc = (f1 & SMFIP_HDR_LEADSPC) != 0;
	/*
	 * On TCP, one reply before the message: Postfix's smtpd flushes the
	 * envelope it sent without waiting for a reply when it hands the
	 * connection to cleanup, whose first write then waits (Nagle) for
	 * our delayed ACK of it, ~40 ms per message.  A reply to DATA is
	 * read before the hand-over and carries the ACK (make bench: 45 ms
	 * added per message -> 1.8).  A unix socket has no such wait.
	 */
	if (pdm_listen_inet())
		skip &= ~(unsigned long)SMFIP_NODATA;
	*pf1 = (f1 & skip) | c->noreply | (f1 & SMFIP_HDR_LEADSPC);
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
reply(const struct conn *c, unsigned long step)
{
	return (c->noreply & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
xxfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct conn *c = conn_get(ctx);

	(void)host;
	if (c == NULL)
		return on_error(NULL);
	c->internal = pdm_hosts_match(c->cfg->internal, sa);
	return reply(c, SMFIP_NR_CONN);
}

/* A message that arrived while shutting down: passed on per OnError. */
static sfsistat
refuse(const struct conn *c)
{
	log_setqid(c->qid[0] ? c->qid : NULL);
	log_info("shutting down: message passed on %s",
	    c->cfg->conf->on_error == PD_ONERR_TEMPFAIL ? "to tempfail" : "unchanged");
	log_setqid(NULL);
	return on_error(c);
}

static sfsistat
xxfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);

	(void)argv;
	if (c == NULL)
		return on_error(NULL);
	msg_done(c);
	get_qid(ctx, c);
	if (pdm_state_busy_begin() != 0) {
		/* After SIGTERM, once the messages in progress are done.  Without
		 * a reply to MAIL the answer waits for end of message. */
		if (c->noreply & SMFIP_NR_MAIL) {
			c->refused = 1;
			return SMFIS_NOREPLY;
		}
		return refuse(c);
	}
	c->in_msg = 1;
	return reply(c, SMFIP_NR_MAIL);
}

static sfsistat
xxfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return on_error(NULL);
	get_qid(ctx, c);
	/* one blank off, as the MTA does without SMFIP_HDR_LEADSPC */
	if (c->leadspc && *value == ' ')
		value++;
	if (!c->refused)
		(void)pdm_msg_header(&c->msg, name, value);	/* failures end at eom */
	return reply(c, SMFIP_NR_HDR);
}

static sfsistat
xxfi_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return on_error(NULL);
	if (!c->refused)
		(void)pdm_msg_body(&c->msg, p, n);
	return reply(c, SMFIP_NR_BODY);
}

/* Remove the X-Patch-* fields the message came with: last first, so that
 * the indexes stay right whether the MTA renumbers after a delete or not. */
static int
remove_old(SMFICTX *ctx, const struct pdm_msg *m)
{
	for (size_t i = m->nold; i-- > 0;)
		if (smfi_chgheader(ctx, (char *)m->old[i].name, m->old[i].index,
		    NULL) != MI_SUCCESS)
			return -1;
	return 0;
}

static int
insert_tags(SMFICTX *ctx, const struct pd_tags *t, int leadspc)
{
	char v[sizeof(t->value[0]) + 1];

	/* Inserted in reverse at index 1: they end up in order, at the top
	 * below the MTA's own Received: field. */
	for (int i = PD_NTAGS; i-- > 0;) {
		if (t->value[i][0] == '\0')
			continue;
		/* with SMFIP_HDR_LEADSPC the blank after the colon is ours */
		snprintf(v, sizeof(v), "%s%s", leadspc ? pd_tags_blank(t, i) : "",
		    t->value[i]);
		if (smfi_insheader(ctx, 1, (char *)t->name[i], v) != MI_SUCCESS)
			return -1;
	}
	return 0;
}

static void
log_result(const struct conn *c, const struct pd_ingest *in)
{
	log_info("%s kind=%s series=%s subsystem=%s%s%s%s",
	    in->msgid[0] ? in->msgid : "(no message-id)",
	    pd_kind_name((enum pd_kind)in->kind),
	    in->put.series[0] ? in->put.series : "-",
	    in->cls.subsystem[0] ? in->cls.subsystem : "-",
	    c->internal ? " internal" : "", in->duplicate ? " duplicate" : "",
	    c->msg.truncated ? " truncated" : "");
}

static sfsistat
xxfi_eom(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	struct pd_ingest *in = NULL;
	struct pd_tags *tags = NULL;
	sfsistat ret = SMFIS_ACCEPT;
	int rc;

	if (c == NULL)
		return on_error(NULL);
	get_qid(ctx, c);
	if (c->refused) {
		ret = refuse(c);
		goto out;
	}
	log_setqid(c->qid[0] ? c->qid : NULL);
	if (pdm_msg_finish(&c->msg) != 0 || (in = malloc(sizeof(*in))) == NULL ||
	    (tags = malloc(sizeof(*tags))) == NULL) {
		log_warnx("out of memory: message passed on unchanged");
		ret = on_error(c);
		goto out;
	}
	if (c->msg.truncated)
		log_info("%zu bytes, over %s: tagged from the first %zu", c->msg.total,
		    c->msg.frozen ? "what all connections may buffer" :
		    "MaxMessageSize", c->msg.len);
	rc = pdm_ingest(c->cfg, c->msg.buf, c->msg.len, !c->internal, in, tags);
	if (rc == PD_EPARSE) {
		log_info("not parseable: passed on unchanged");
		goto out;
	}
	if (rc != 0) {
		log_warnx("%s: message passed on %s", pd_strerror(rc),
		    c->cfg->conf->on_error == PD_ONERR_TEMPFAIL ? "to tempfail" : "unchanged");
		ret = on_error(c);
		goto out;
	}
	if (remove_old(ctx, &c->msg) != 0 || insert_tags(ctx, tags, c->leadspc) != 0) {
		log_warnx("the MTA refused a header change");
		ret = on_error(c);
		goto out;
	}
	log_result(c, in);
out:
	free(in);
	free(tags);
	msg_done(c);
	return ret;
}

static sfsistat
xxfi_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
xxfi_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		msg_done(c);
	return SMFIS_CONTINUE;
}

static sfsistat
xxfi_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	msg_done(c);
	pdm_cfg_put(c->cfg);
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

struct smfiDesc pdm_filter = {
	.xxfi_name = "patchdigest",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = xxfi_connect,
	.xxfi_envfrom = xxfi_envfrom,
	.xxfi_data = xxfi_data,
	.xxfi_header = xxfi_header,
	.xxfi_body = xxfi_body,
	.xxfi_eom = xxfi_eom,
	.xxfi_abort = xxfi_abort,
	.xxfi_close = xxfi_close,
	.xxfi_negotiate = xxfi_negotiate,
};
