/*
 * Fuzz target: the control file of a .deb (packaging/deb.c), as the apt
 * index reads every NAME_N_all.deb in a repository, planted ones too.
 * Input: the bytes of a .deb.  Whatever is accepted is one NUL-free
 * text; nothing is read past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packaging/deb.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *out = NULL;

	if (dk_deb_control_mem(data, len, &out) == 0) {
		if (out == NULL || out[0] == '\0')
			abort();
		free(out);
	} else if (out != NULL) {
		abort();
	}
	return 0;
}
