/*
 * InternalHosts: client addresses whose mail is tagged but not counted (the
 * list host itself, which also submits the digests).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchdigest/error.h"
#include "milter.h"

struct pdm_net {
	unsigned char addr[16];	/* IPv4 as v4-mapped IPv6 */
	int bits;		/* prefix length over the 128 bits */
};

struct pdm_hosts {
	struct pdm_net *nets;
	size_t n;
};

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int
parse_net(const char *s, struct pdm_net *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr a4;
	int max, bits;

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		memcpy(out->addr, v4mapped, 12);
		memcpy(out->addr + 12, &a4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		max = 128;
	else
		return -1;
	bits = max;
	if (slash != NULL) {
		char *end;
		long v = strtol(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || v < 0 || v > max)
			return -1;
		bits = (int)v;
	}
	out->bits = bits + (128 - max);
	return 0;
}

int
pdm_hosts_new(char *const *list, struct pdm_hosts **out, char *errbuf, size_t errlen)
{
	struct pdm_hosts *h;
	size_t n = 0;

	*out = NULL;
	while (list != NULL && list[n] != NULL)
		n++;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return PD_ENOMEM;
	if (n > 0 && (h->nets = calloc(n, sizeof(*h->nets))) == NULL) {
		free(h);
		return PD_ENOMEM;
	}
	for (h->n = 0; h->n < n; h->n++)
		if (parse_net(list[h->n], &h->nets[h->n]) != 0) {
			snprintf(errbuf, errlen, "InternalHosts: bad address \"%.64s\"",
			    list[h->n]);
			pdm_hosts_free(h);
			return PD_ECONFIG;
		}
	*out = h;
	return 0;
}

void
pdm_hosts_free(struct pdm_hosts *h)
{
	if (h == NULL)
		return;
	free(h->nets);
	free(h);
}

static int
prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

int
pdm_hosts_match(const struct pdm_hosts *h, const struct sockaddr *sa)
{
	unsigned char a[16];

	if (h == NULL || sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		memcpy(a, v4mapped, 12);
		memcpy(a + 12, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(a, &s6->sin6_addr, 16);
	} else
		return 0;
	for (size_t i = 0; i < h->n; i++)
		if (prefix_eq(a, h->nets[i].addr, h->nets[i].bits))
			return 1;
	return 0;
}
