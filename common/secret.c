#include <stdlib.h>
#include <string.h>

#include "common/secret.h"

/*
 * explicit_bzero (glibc 2.25, the BSDs) is a store the optimiser must
 * keep even when the memory is freed or dies right after: memset would
 * be dropped as a dead store.  OPENSSL_cleanse does the same, but only
 * keygen/ may call OpenSSL, and the secrets live on every floor.
 */
void
dk_secret_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void
dk_secret_free(void *p, size_t n)
{
	dk_secret_wipe(p, n);
	free(p);
}
