/*
 * keys.yaml's document (docs/design.md §3) <-> struct dk_domain_keys:
 * rotator/store_format.c writes it and reads back what it wrote,
 * rotator/store_yaml.c reads anything else.  rotator/store.h, which
 * reads and writes the files, includes this.
 */
#ifndef DK_STORE_FORMAT_H
#define DK_STORE_FORMAT_H

#include <stddef.h>

#include "rotator/keys.h"

struct dk_buf;

/*
 * Parses and validates a keys.yaml document; filename only names it in
 * messages ("keys/example.com/keys.yaml:LINE:COL: ...").  domain, unless
 * NULL, must match the document's.  Checks: the schema (unknown fields
 * too), selectors (lower case, dk_name_selector_check), algorithms, bits
 * (RSA 1024..4096, Ed25519 256), states, RFC 3339 times (null = unset)
 * and the ones each state needs, no duplicate selector, at most one
 * active key per algorithm.  DK_EUSAGE on any of those.  A file exactly
 * as dk_store_format() writes it is read by a fast path (libyaml is too
 * slow for 10,000 domains); any other goes through the YAML tree.
 */
int	dk_store_parse(const char *buf, size_t len, const char *filename,
	    const char *domain, struct dk_domain_keys **out);
/*
 * keys.yaml's bytes for dk: a header comment, then the keys sorted by
 * creation time and selector, so the same keys give the same bytes.
 * DK_EUSAGE for a domain or key whose bytes would not name what they
 * should (an invalid or upper-case name, an unknown algorithm or state,
 * no creation time).  What only the keys together break (two active
 * keys, a time a state needs) the policy never makes; it is written,
 * and refused when read back, before any plan acts on it.
 */
int	dk_store_format(const struct dk_domain_keys *, struct dk_buf *);
/* retired.yaml's bytes: the same, its own header; every key retired. */
int	dk_store_format_retired(const struct dk_domain_keys *, struct dk_buf *);
/* The first key of dk not retired, or NULL. */
const struct dk_keyinfo *dk_store_not_retired(const struct dk_domain_keys *);

#endif
