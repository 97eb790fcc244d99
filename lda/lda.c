/* patchdigest-lda: placeholder until issue 5 lands; replace this file. */
#include <stdio.h>
int main(void) { fputs("patchdigest-lda: not built yet\n", stderr); return 75; }
