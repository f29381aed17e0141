#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fault.h"

/*
 * Only the DK_FAULT() points of a -DDK_FAULTS build call this; the
 * shipped binary links it not at all (nothing references it).
 */
void
dk_fault(const char *name)
{
	static atomic_ulong hits;
	const char *want = getenv("DKIMROT_FAULT"), *colon;
	unsigned long nth = 1;
	size_t len;
	char *end;

	if (want == NULL || want[0] == '\0')
		return;
	colon = strchr(want, ':');
	len = colon != NULL ? (size_t)(colon - want) : strlen(want);
	if (strlen(name) != len || strncmp(name, want, len) != 0)
		return;
	if (colon != NULL) {
		nth = strtoul(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || nth == 0)
			return;
	}
	/* One point name per process and variable: one counter will do. */
	if (atomic_fetch_add(&hits, 1) + 1 == nth)
		_exit(99);
}
