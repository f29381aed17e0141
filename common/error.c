#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

/*
 * One buffer per thread: key generation runs on worker threads and each
 * reports its own failure.
 */
static _Thread_local char lasterr[1024];

void
dk_error_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lasterr, sizeof(lasterr), fmt, ap);
	va_end(ap);
}

void
dk_error_set_errno(int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(lasterr, sizeof(lasterr), fmt, ap);
	va_end(ap);
	n = strlen(lasterr);
	if (n < sizeof(lasterr))
		snprintf(lasterr + n, sizeof(lasterr) - n, ": %s",
		    strerror(errnum));
}

void
dk_error_prefix(const char *fmt, ...)
{
	char old[sizeof(lasterr)];
	va_list ap;
	size_t n;

	memcpy(old, lasterr, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(lasterr, sizeof(lasterr), fmt, ap);
	va_end(ap);
	n = strlen(lasterr);
	if (n < sizeof(lasterr))
		snprintf(lasterr + n, sizeof(lasterr) - n, ": %s", old);
}

const char *
dk_error_last(void)
{
	return lasterr[0] ? lasterr : "unknown error";
}

void
dk_error_clear(void)
{
	lasterr[0] = '\0';
}

int
dk_error_exit(int rc)
{
	switch (rc) {
	case 0:
		return DK_EXIT_OK;
	case DK_EUSAGE:
		return DK_EXIT_USAGE;
	case DK_ELOCKED:
	case DK_ETEMP:
		return DK_EXIT_TEMP;
	case DK_ERACE:
		return DK_EXIT_AGAIN;
	default:
		return DK_EXIT_FAIL;
	}
}
