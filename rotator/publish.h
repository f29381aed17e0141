/*
 * dns.publish rfc2136 (docs/design.md §13): rotate makes the primary
 * serve what every keys.yaml of the work tree says, by TSIG-signed
 * dynamic updates (common/dns_update.h).
 */
#ifndef DK_PUBLISH_H
#define DK_PUBLISH_H

#include "common/config.h"

/*
 * Nothing in other modes.  Every domain with keys is reconciled; a
 * failing domain is logged and the others go on; -1 at the end if any
 * failed (the caller then changes nothing: no key activates unless its
 * record is out).  DK_EUSAGE for a TSIG key file that is refused.
 */
int	dk_publish_run(const struct dk_config *cfg, const char *repo);

#endif
