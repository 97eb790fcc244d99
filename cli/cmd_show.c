/* patchdigest show ID|MESSAGE-ID: one stored record and its tags. */
#include <unistd.h>
#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "patchdigest/error.h"
#include "patchdigest/msg.h"

static int
print_rec(const struct pd_rec *r, void *arg)
{
	(void)arg;
	printf("Message-ID: <%s>\n", r->msgid);
	printf("Short-ID: %s\n", r->short_id);
	printf("Seq: %llu\n", (unsigned long long)r->seq);
	printf("Subject: %s\n", r->subject);
	printf("Title: %s\n", r->title);
	printf("From: %s\n", r->from);
	printf("Author: %s\n", r->author);
	printf("Domain: %s\n", r->domain);
	printf("Date: %lld\n", (long long)r->date);
	printf("Arrived: %lld\n", (long long)r->arrived);
	if (*r->in_reply_to)
		printf("In-Reply-To: <%s>\n", r->in_reply_to);
	printf("List-Id: %s\n", r->list_ids);
	printf("X-Patch-Kind: %s\n", pd_kind_name(r->kind));
	if (*r->series) {
		printf("X-Patch-Series: <%s> v%d", r->series, r->version);
		if (r->cx >= 0)
			printf(" %d/%d", r->cx, r->cn);
		printf("\n");
	}
	if (*r->subsystem)
		printf("X-Patch-Subsystem: %s\n", r->subsystem);
	if (*r->project)
		printf("X-Patch-Project: %s\n", r->project);
	if (*r->tags)
		printf("Tags: %s\n", r->tags);
	printf("Trailers: Reviewed-by %u, Acked-by %u, Tested-by %u\n",
	    r->reviewed, r->acked, r->tested);
	if (*r->excerpt)
		printf("\n%s\n", r->excerpt);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: patchdigest show [-c config] [-D dir] id|message-id\n");
	return EX_USAGE;
}

int
cmd_show(struct cli *c, int argc, char **argv)
{
	pd_store *st;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:D:V")) != -1) {
		if (cli_common_opt(c, ch, optarg))
			continue;
		return usage();
	}
	if (optind + 1 != argc)
		return usage();
	if (cli_load_conf(c) != 0 || cli_open_store(c, PD_STORE_RDONLY, &st) != 0)
		return 1;
	rc = pd_store_get_msg(st, argv[optind], print_rec, NULL);
	pd_store_close(st);
	if (rc != 0) {
		cli_err("%s: %s", argv[optind], pd_strerror(rc));
		return 1;
	}
	return 0;
}
