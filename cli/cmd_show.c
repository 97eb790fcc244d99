/* patchdigest show: placeholder until its issue lands; replace this file. */
#include <stdio.h>
#include "cli.h"

int
cmd_show(struct cli *c, int argc, char **argv)
{
	(void)c; (void)argc;
	cli_err("%s: not built yet", argv[0]);
	return 1;
}
