/*
 * The one logging module of the front ends: stderr in the foreground,
 * syslog(LOG_MAIL) otherwise, each line prefixed by the message's queue id.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "patchdigest/log.h"

static const char *logname = "patchdigest";
static int logfg = 1;
static int logdebug;
static _Thread_local char qid[32];

/*
 * Again in a child that closed the descriptors it inherited: glibc would
 * go on writing to the syslog socket's old number, whatever it is now.
 */
void
log_init(const char *progname, int foreground, int debug)
{
	closelog();
	logname = progname;
	logfg = foreground;
	logdebug = debug;
	if (!foreground)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_setqid(const char *id)
{
	if (id == NULL)
		qid[0] = '\0';
	else
		snprintf(qid, sizeof(qid), "%s", id);
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *err)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);	/* truncation is fine for a log line */
	if (logfg) {
		fprintf(stderr, "%s: %s%s%s%s%s\n", logname, qid, qid[0] ? ": " : "",
		    msg, err ? ": " : "", err ? err : "");
		fflush(stderr);
	} else {
		syslog(pri, "%s%s%s%s%s", qid, qid[0] ? ": " : "", msg,
		    err ? ": " : "", err ? err : "");
	}
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, err);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!logdebug)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}
