/*
 * InternalHosts: client addresses whose mail is tagged but not counted (the
 * list host itself, which also submits the digests).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchdigest/error.h"
#include "milter.h"

struct pdm_hosts {
	struct pd_net *nets;
	size_t n;
};

/* a client's IPv4 address, compared as pd_conf_net_parse stores one */
static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

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
		if (pd_conf_net_parse(list[h->n], &h->nets[h->n]) != 0) {
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
