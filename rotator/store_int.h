/*
 * The store's internals, shared by rotator/store.c (keys.yaml and the key
 * files) and rotator/store_retired.c (the archive, retired.yaml).
 */
#ifndef DK_STORE_INT_H
#define DK_STORE_INT_H

#include <stddef.h>

#include "rotator/store.h"

/* keys.yaml and retired.yaml: anyone may read them, only dkimrot writes. */
#define DK_STORE_MODE_PUBLIC	0644

/* "keys/DOMAIN/NAME" (name NULL: "keys/DOMAIN"), relative to the repo. */
int	dk_store_rel_path(char *buf, size_t size, const char *domain,
	    const char *name);
/*
 * keys/DOMAIN/NAME parsed, then checked (when it exists) by check, whose
 * failure is the load's; none: no keys, exists false.  A domain that is
 * not a valid lower-case name is refused before any path is made.
 */
int	dk_store_load_file(const char *repo, const char *domain,
	    const char *name,
	    int (*check)(const char *, const struct dk_domain_keys *),
	    struct dk_domain_keys **out);

#endif
