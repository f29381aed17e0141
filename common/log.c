#include <stdarg.h>
#include <stdio.h>

#include "common/log.h"

static int level = DK_LOG_NORMAL;

void
dk_log_set_level(enum dk_loglevel l)
{
	level = l;
}

int
dk_log_level(void)
{
	return level;
}

static void
vlog(const char *tag, const char *fmt, va_list ap)
{
	/* One write per line so that concurrent runs do not interleave. */
	char line[2048];
	int n;

	n = snprintf(line, sizeof(line), "dkimrot: %s", tag);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

void
dk_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
dk_log_warn(const char *fmt, ...)
{
	va_list ap;

	if (level < DK_LOG_NORMAL)
		return;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void
dk_log_info(const char *fmt, ...)
{
	va_list ap;

	if (level < DK_LOG_NORMAL)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
dk_log_debug(const char *fmt, ...)
{
	va_list ap;

	if (level < DK_LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}
