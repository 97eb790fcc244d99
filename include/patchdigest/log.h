/*
 * Logging for the front ends (the library never prints): stderr in the
 * foreground, syslog(LOG_MAIL) otherwise; a queue id prefixes lines when set.
 * There is no fatal(): each front end picks its sysexits status, and the
 * mail ones pass the message on before they stop.
 */
#ifndef PATCHDIGEST_LOG_H
#define PATCHDIGEST_LOG_H

#include <stdarg.h>

void log_init(const char *progname, int foreground, int debug);
void log_setqid(const char *qid);	/* NULL clears; per thread */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* + strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
