/*
 * noop-milter: the baseline milter of `make bench`.  Accepts every message
 * and adds one header at end of message, the least work any tagging milter
 * does, so that the milter protocol's own cost can be told apart from
 * patchdigest's.
 *
 *   noop-milter [-Nr] -p SOCKET	(unix:/path or inet:port@127.0.0.1)
 *
 * -N sets TCP_NODELAY on the listening socket (Linux copies it to every
 * accepted connection), to show what Nagle's algorithm costs on inet.
 *
 * Without -r the milter has no header or body callback, so libmilter asks
 * the MTA not to send the message at all.  -r receives the headers and the
 * body (and discards them), asking for no replies to them as
 * patchdigest-milter does: the floor of any milter that reads the message.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static sfsistat
noop_eom(SMFICTX *ctx)
{
	smfi_addheader(ctx, "X-Bench-Noop", "yes");
	return SMFIS_ACCEPT;
}

static sfsistat
noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long skip = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_NORCPT | SMFIP_NOEOH | SMFIP_NOCONNECT | SMFIP_NOMAIL;
	const unsigned long noreply = SMFIP_NR_HDR | SMFIP_NR_BODY;

	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = (f1 & skip) | (f1 & noreply);
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
noop_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_NOREPLY;
}

static sfsistat
noop_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return SMFIS_NOREPLY;
}

static struct smfiDesc desc = {
	.xxfi_name = "noop-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_eom = noop_eom,
};

/* libmilter keeps its listening descriptor to itself: find it. */
static int
set_nodelay(void)
{
	int found = 0;

	for (int fd = 3; fd < 1024; fd++) {
		int v = 0, on = 1;
		socklen_t l = sizeof(v);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) != 0 || !v)
			continue;
		l = sizeof(v);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) != 0 ||
		    (v != AF_INET && v != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0) {
			perror("noop-milter: TCP_NODELAY");
			return -1;
		}
		found++;
	}
	return found ? 0 : -1;
}

int
main(int argc, char **argv)
{
	char *sock = NULL;
	int ch, nodelay = 0;

	while ((ch = getopt(argc, argv, "Np:r")) != -1) {
		switch (ch) {
		case 'N':
			nodelay = 1;
			break;
		case 'r':
			desc.xxfi_negotiate = noop_negotiate;
			desc.xxfi_header = noop_header;
			desc.xxfi_body = noop_body;
			break;
		case 'p':
			sock = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (sock == NULL || optind != argc)
		goto usage;
	if (strncmp(sock, "unix:", 5) == 0)
		unlink(sock + 5);
	if (smfi_setconn(sock) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "noop-milter: cannot listen on %s\n", sock);
		return 1;
	}
	if (nodelay && set_nodelay() != 0) {
		fprintf(stderr, "noop-milter: no inet listener for -N\n");
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	fprintf(stderr, "usage: noop-milter [-Nr] -p socket\n");
	return 64;
}
