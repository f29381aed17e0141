/*
 * Fuzz target: the milter reply parser of check/milter.c.  Whatever a
 * milter sends, dk_milter_decode() takes packets that lie within the
 * input or asks for more or fails with a message, and dk_milter_header()
 * gives a name and value inside the packet, both NUL-terminated there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/milter.h"
#include "common/error.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data, *end = data + size;
	struct dk_milter_packet pkt;
	const char *name, *value;
	size_t used;
	int rc;

	while ((rc = dk_milter_decode(p, (size_t)(end - p), &pkt, &used)) ==
	    0) {
		if (used < 5 || used > (size_t)(end - p) ||
		    pkt.data != p + 5 || pkt.len != used - 5)
			abort();
		if (dk_milter_header(&pkt, &name, &value) == 0) {
			if ((const unsigned char *)name < pkt.data ||
			    (const unsigned char *)value + strlen(value) >=
			    pkt.data + pkt.len || name[0] == '\0')
				abort();
		}
		p += used;
	}
	if (rc != DK_MILTER_EMORE && (rc != -1 || dk_error_last()[0] == '\0'))
		abort();
	return 0;
}
