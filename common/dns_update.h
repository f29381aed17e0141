/*
 * RFC 2136 dynamic updates signed with TSIG (RFC 8945), sent to one
 * primary over TCP, for dns.publish rfc2136 (docs/design.md §13).  The
 * other half of the ldns adapter (common/dns.h): ldns is used from
 * common/dns.c and this file only.
 */
#ifndef DK_DNS_UPDATE_H
#define DK_DNS_UPDATE_H

#include <stddef.h>

/* A TSIG key: "ALGORITHM:NAME:SECRET", as dig -y and nsupdate -y take. */
struct dk_dns_tsig {
	char	alg[64];	/* "hmac-sha256." */
	char	name[256];	/* "dkimrot-key." */
	char	secret[512];	/* base64 */
};

/*
 * Reads the key from path: absolute, a regular file (no link), owned by
 * us or root, mode 0600 or stricter, one line.  Wipe the result with
 * dk_dns_tsig_wipe().
 */
int	dk_dns_tsig_load(const char *path, struct dk_dns_tsig *out);
void	dk_dns_tsig_wipe(struct dk_dns_tsig *);

/*
 * The zone that holds name at server: the owner of the SOA in the answer
 * or the authority section of a SOA query (dk_dns_soa(), no recursion
 * asked).  DK_ETEMP when the server does not answer or fails (SERVFAIL),
 * -1 when it refuses or holds no SOA for the name.
 */
int	dk_dns_zone_of(const char *server, const char *name, int timeout_ms,
	    char *zone, size_t zonelen);

/*
 * One name whose TXT records become exactly values (none: the name's
 * TXT records are deleted).  Each value is split into character-strings
 * of at most 255 bytes (RFC 1035 3.3.14).
 */
struct dk_dns_change {
	const char		*name;		/* absolute, no final dot */
	const char *const	*values;
	size_t			 nvalues;
	unsigned		 ttl;
};

/*
 * One update message to zone at server: for every change, delete the
 * TXT RRset at its name (RFC 2136 2.5.2), then add its values (2.5.1).
 * The server applies all or none (RFC 2136 3.4.2).  Any rcode but
 * NOERROR, or a reply not signed by the key, fails with "cannot update
 * zone 'Z' at name server S: RCODE".
 */
int	dk_dns_update(const char *server, const char *zone,
	    const struct dk_dns_tsig *key, const struct dk_dns_change *changes,
	    size_t nchanges, int timeout_ms);

#endif
