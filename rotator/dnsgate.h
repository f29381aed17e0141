/*
 * DNS-gated activation (docs/design.md §4, rule 2): before a pending key signs,
 * every configured name server must serve its record with the matching
 * public key.
 */
#ifndef DK_DNSGATE_H
#define DK_DNSGATE_H

#include "common/config.h"
#include "rotator/keys.h"

/*
 * Looks k up on every name server of cfg and sets k->dns: DK_DNS_OK when
 * all serve a record whose p= matches the key in repo, else
 * DK_DNS_MISSING, with *why saying which server lacks what.  DK_ETEMP
 * when a server does not answer: activation must not happen silently.
 */
int	dk_dnsgate_check(const struct dk_config *cfg, const char *repo,
	    const char *domain, struct dk_keyinfo *k, char *why,
	    size_t whylen);
struct dk_key;
/*
 * The same for a key not in the repository yet (import --opendkim):
 * *dns is DK_DNS_OK or DK_DNS_MISSING.
 */
int	dk_dnsgate_check_key(const struct dk_config *cfg, const char *domain,
	    const char *sel, const struct dk_key *key, enum dk_dns *dns,
	    char *why, size_t whylen);

#endif
