/*
 * The rules every keys.yaml obeys (docs/design.md §3), which
 * rotator/store_yaml.c's parser words as FILE:LINE:COL errors and
 * rotator/store_format.c's fast reader checks too; its writer checks
 * the names (rotator/store_format.h says what it refuses).
 */
#ifndef DK_STORE_YAML_H
#define DK_STORE_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "rotator/keys.h"

/*
 * Names become file names: "A" and "a" must never be two of them, so a
 * domain or selector is lower case.
 */
bool	dk_store_lower_case(const char *);
bool	dk_store_selector_ok(const char *);
bool	dk_store_bits_ok(enum dk_alg, long bits);
/* The time a key's state cannot do without, if it lacks it, or NULL. */
const char *dk_store_missing_time(const struct dk_keyinfo *);
/*
 * No selector twice, at most one active key per algorithm: 0, or 1 (a
 * duplicate) or 2 (a second active key) with the two keys' indexes, or
 * -1 when out of memory.  O(n log n) for long histories.
 */
int	dk_store_conflict(const struct dk_domain_keys *, size_t *first,
	    size_t *second);

/* dk_store_parse(), always through the YAML tree: tests check both agree. */
int	dk_store_parse_yaml(const char *buf, size_t len, const char *filename,
	    const char *domain, struct dk_domain_keys **out);

#endif
