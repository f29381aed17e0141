/*
 * Validation of names that end up in file paths, zone files, RPM specs
 * and DNS queries.  Everything else in dkimrot may assume a validated
 * name holds only [a-z0-9.-] (domains) or [a-z0-9.-] (selectors).
 */
#ifndef DK_NAME_H
#define DK_NAME_H

#define DK_DOMAIN_MAX	253	/* RFC 1035 2.3.4, without the final dot */
#define DK_SELECTOR_MAX	63

/*
 * A mail domain: LDH labels of 1..63 octets (RFC 1035 2.3.1, RFC 5890
 * A-labels for IDNs: "xn--" names are LDH too; U-labels are refused),
 * at least two labels, at most 253 octets, no final dot.  Upper case is
 * lowered in place.  DK_EUSAGE with a message saying why otherwise.
 */
int	dk_name_domain(char *);
/* Like dk_name_domain() but does not modify; for const input. */
int	dk_name_domain_check(const char *);
/*
 * A DKIM selector (RFC 6376 3.1: dot-separated sub-domains): LDH labels,
 * at most 63 octets in all.  Upper case is lowered in place.
 */
int	dk_name_selector(char *);
int	dk_name_selector_check(const char *);

#endif
