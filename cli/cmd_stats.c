/* patchdigest stats [--range ID] [--json]: the counters of one range. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "json.h"
#include "patchdigest/error.h"

struct out {
	int json, first;
	enum pd_counter c;
};

static int
print_count(const char *name, uint64_t count, void *arg)
{
	struct out *o = arg;

	if (o->json) {
		if (!o->first)
			fputc(',', stdout);
		o->first = 0;
		json_string(stdout, name);
		printf(":%llu", (unsigned long long)count);
	} else
		printf("%7llu  %s\n", (unsigned long long)count, name);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: patchdigest stats [-c config] [-D dir] [--range id] [--json]\n");
	return EX_USAGE;
}

int
cmd_stats(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "range",	required_argument,	NULL, 'r' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *range = NULL;
	struct out o = { 0, 1, 0 };
	struct pd_range r;
	pd_store *st;
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "c:D:V", longopts, NULL)) != -1) {
		if (cli_common_opt(c, ch, optarg))
			continue;
		if (ch == 'r')
			range = optarg;
		else if (ch == 'j')
			o.json = 1;
		else
			return usage();
	}
	if (optind != argc)
		return usage();
	/* stats is where an admin looks when something is wrong. */
	if (cli_load_conf(c) != 0 ||
	    cli_open_store(c, PD_STORE_RDONLY | PD_STORE_CHECK, &st) != 0)
		return 1;
	if ((rc = pd_store_range(st, range, &r)) != 0) {
		cli_err("range %s: %s", range ? range : "(open)", pd_strerror(rc));
		pd_store_close(st);
		return 1;
	}
	if (o.json)
		printf("{\"range\":{\"no\":%llu,\"from\":\"%s\",\"to\":\"%s\",\"open\":%s},"
		    "\"messages\":%llu,\"patch_messages\":%llu",
		    (unsigned long long)r.no, r.from, r.to, r.open ? "true" : "false",
		    (unsigned long long)r.messages, (unsigned long long)r.patch_messages);
	else
		printf("range %llu: from %s to %s%s\nmessages %llu, patch messages %llu\n",
		    (unsigned long long)r.no, r.from, r.to, r.open ? " (open)" : "",
		    (unsigned long long)r.messages, (unsigned long long)r.patch_messages);
	for (o.c = 0; o.c < PD_COUNT_MAX && rc == 0; o.c++) {
		if (o.json)
			printf(",\"%s\":{", pd_counter_name(o.c));
		else
			printf("\n%s:\n", pd_counter_name(o.c));
		o.first = 1;
		rc = pd_store_foreach_count(st, &r, o.c, print_count, &o);
		if (o.json)
			fputc('}', stdout);
	}
	if (o.json)
		printf("}\n");
	pd_store_close(st);
	if (rc != 0) {
		cli_err("stats: %s", pd_strerror(rc));
		return 1;
	}
	return 0;
}
