/*
 * Fuzz target: dkimrot.yaml.  Whatever the input, dk_config_parse()
 * either fails with a message or gives a config whose domains can all
 * be looked up again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_config *cfg;
	size_t i;

	if (dk_config_parse((const char *)data, size, "fuzz.yaml", &cfg) !=
	    0) {
		if (cfg != NULL || dk_error_last()[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < cfg->ndomains; i++)
		if (dk_config_domain(cfg, cfg->domains[i].name) !=
		    &cfg->domains[i])
			abort();
	dk_config_free(cfg);
	return 0;
}
