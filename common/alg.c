/* Algorithm names, shared by the configuration, the key store and keygen. */
#include <string.h>

#include "common/config.h"
#include "common/error.h"

static const struct {
	const char	*name;
	char		 suffix;
} algs[DK_ALG_COUNT] = {
	[DK_ALG_RSA] = { "rsa", 'r' },
	[DK_ALG_ED25519] = { "ed25519", 'e' },
};

const char *
dk_alg_name(enum dk_alg a)
{
	return (unsigned)a < DK_ALG_COUNT ? algs[a].name : "unknown";
}

char
dk_alg_suffix(enum dk_alg a)
{
	return (unsigned)a < DK_ALG_COUNT ? algs[a].suffix : '?';
}

int
dk_alg_parse(const char *s, enum dk_alg *out)
{
	int i;

	for (i = 0; i < DK_ALG_COUNT; i++) {
		if (strcmp(s, algs[i].name) == 0) {
			*out = (enum dk_alg)i;
			return 0;
		}
	}
	dk_error_set("unknown algorithm '%s': expected rsa or ed25519", s);
	return DK_EUSAGE;
}
