/* Minimal JSON output for the --json options of the subcommands. */
#ifndef PATCHDIGEST_CLI_JSON_H
#define PATCHDIGEST_CLI_JSON_H

#include <stdio.h>

/* A JSON string literal (quotes included); invalid UTF-8 becomes U+FFFD. */
void json_string(FILE *fp, const char *s);
/* "key": followed by a string value, preceded by a comma unless first. */
void json_kv(FILE *fp, int *first, const char *key, const char *value);
/* "key": written, value left to the caller. */
void json_key(FILE *fp, int *first, const char *key);

#endif
