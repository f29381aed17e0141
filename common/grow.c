/* Growable arrays (common/grow.h). */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/grow.h"

int
dk_grow(void *arrayp, size_t *cap, size_t n, size_t size, size_t first)
{
	void *old, *p;
	size_t want;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : first;
	memcpy(&old, arrayp, sizeof(old));
	if (want < *cap || (p = reallocarray(old, want, size)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	memcpy(arrayp, &p, sizeof(p));
	*cap = want;
	return 0;
}
