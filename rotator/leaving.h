/*
 * Domains that leave (rule 8 of rotator/policy.h): keys.yaml says
 * "leaving", and dkimrot.yaml no longer lists them.  rotate plans them
 * with the defaults until their keys are gone; status shows them.
 */
#ifndef DK_LEAVING_H
#define DK_LEAVING_H

#include <stddef.h>

#include "common/config.h"
#include "common/strlist.h"

struct dk_leaving {
	struct dk_domain_conf	*v;	/* name, and the defaults' policy */
	size_t			 n;
};

/*
 * The domains with a key directory whose keys.yaml says leaving and
 * that cfg does not list, sorted.  A keys.yaml that does not load, or a
 * keys/ that cannot be listed, is left out here: planning the domains
 * reports it.  unconfigured (may be NULL) gets the other key directories
 * cfg does not list (and a keys/ that cannot be listed is warned of).
 * -1 only when out of memory.
 */
int	dk_leaving_load(const char *repo, const struct dk_config *cfg,
	    struct dk_leaving *out, struct dk_strlist *unconfigured);
/* Appends a leaving domain with cfg's defaults (name copied); -1. */
int	dk_leaving_add(struct dk_leaving *, const struct dk_config *cfg,
	    const char *name);
/* The entry of domain, or NULL. */
const struct dk_domain_conf *
	dk_leaving_find(const struct dk_leaving *, const char *domain);
void	dk_leaving_dispose(struct dk_leaving *);

#endif
