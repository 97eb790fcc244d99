/* patchdigest-milter: placeholder until issue 6 lands; replace this file. */
#include <stdio.h>
int main(void) { fputs("patchdigest-milter: not built yet\n", stderr); return 1; }
