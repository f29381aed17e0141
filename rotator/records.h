/*
 * The record cache (docs/design.md §15): the public key of each private
 * key already derived, by the blob id of the private key file (its git
 * hash-object id, a name for its exact bytes).  Deriving a public key
 * is a scalar multiplication for Ed25519 (60 us on the VM of the
 * README, 6 s of CPU at 100,000 domains, most of a render); the same
 * bytes always give the same key, so an entry is never stale, and the
 * render derives only the keys it has not seen.
 *
 * .git/dkimrot-records, in the vault (mode 0600, never committed; it
 * holds public keys and ids, no key material):
 *
 *   dkimrot-records 1
 *   BLOBID ALG PUB
 *   ...
 *   end COUNT
 *
 * sorted by BLOBID (40 lower-case hex digits), ALG rsa or ed25519, PUB
 * the base64 p= value.  A file that is not exactly that is ignored (said
 * at -v) and written again; it is derived, so losing it costs time only.
 * Whoever can write the vault can change the packages' keys anyway
 * (the build ledger, packaging/ledger.h, is there too).
 */
#ifndef DK_RECORDS_H
#define DK_RECORDS_H

#include <stddef.h>

#include "common/config.h"
#include "rotator/git.h"

#define DK_RECORDS_FILE	".git/dkimrot-records"

struct dk_record_ent {
	char		 id[DK_GIT_ID_LEN];
	enum dk_alg	 alg;
	char		*pub;
};

struct dk_records {
	struct dk_record_ent	*v;
	size_t			 n;
	size_t			 cap;
	int			 sorted;
};

/* The cache of work tree repo into rs (zeroed); never fails for want of one. */
int	dk_records_load(const char *repo, struct dk_records *rs);
/* The entry of blob id in a loaded (sorted) cache, or NULL. */
const struct dk_record_ent *dk_records_find(const struct dk_records *rs,
	    const char *id);
/* Adds an entry (pub copied). */
int	dk_records_add(struct dk_records *rs, const char *id, enum dk_alg alg,
	    const char *pub);
/* rs, sorted and without repeats, as the cache of repo (atomically). */
int	dk_records_save(const char *repo, struct dk_records *rs);
void	dk_records_dispose(struct dk_records *rs);

#endif
