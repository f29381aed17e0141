/*
 * The part packages of dkim-keys-private (packaging.parts N, docs/design.md
 * §7): `rpm -U` rewrites every file of the package it upgrades, changed
 * or not, so at 100,000 domains an upgrade of one package of all the keys
 * took two minutes for a day's 1% of new keys.  With parts, the key
 * directories of each domain go into dkim-keys-private-part-NN (NN below
 * N) by the domain's rotation slot, dkim-keys-private keeps the tables
 * and the signers' files and requires every part at its exact version,
 * and a part's version is the build that last changed its files: an
 * upgrade rewrites the parts that changed only.
 *
 * The slot of a domain is the day its next rotation is due on, in its
 * rotation cycle (rotator/policy.h rule 1: the first key's staggered
 * due time, then every rotate_every).  A rotation keeps the phase, so a
 * domain stays in its part from its first key on, the domains rotated
 * on one day are together, and a day's build changes about two parts
 * (the day's new keys, the keys retired after the drain) instead of
 * all of them.
 *
 * Whether a part changed: the SHA-256 of what it installs (paths, modes,
 * owners, flags, contents, a key by its source: its git blob id, see
 * rpm.h; its template and %pre) against the one
 * recorded, in the vault file .git/dkimrot-parts (0600), for the build
 * of that part the build ledger vouches for.  A missing, damaged or
 * stale record costs a rebuild of the part at the new version, never a
 * wrong package: an entry names the version it describes, and a build
 * counts only while its bytes are the ledger's.
 *
 *   dkimrot-parts 1
 *   NAME VERSION SHA256
 *   end COUNT
 *
 * Parts are RPMs only: the .deb of dkim-keys-private keeps every file.
 */
#ifndef DK_PARTS_H
#define DK_PARTS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "packaging/ledger.h"
#include "packaging/rpm.h"

#define DK_PARTS_FILE	".git/dkimrot-parts"

struct dk_builds;
struct dk_domain_keys;
struct dk_render;

struct dk_part {
	const char		*name;		/* DK_PKG_PART "NN", static */
	struct dk_rpm_file	*files;		/* into the render's */
	size_t			 nfiles;
	char			 sha256[DK_SHA256_HEX];	/* what it installs */
	size_t			 version;	/* required at this version */
	char			 vstr[24];	/* the same, as text */
	bool			 build;		/* changed: built now */
};

struct dk_parts {
	unsigned		 n;		/* packaging.parts, 0 = none */
	struct dk_part		 part[DK_PARTS_MAX];
	/* dkim-keys-private's own files (the render's with n == 0) */
	struct dk_rpm_file	*main;
	size_t			 nmain;
	bool			 owned;		/* main is a copy */
	/* Its Requires: (each part) and Obsoletes: (parts not in use) */
	struct dk_rpm_dep	 req[DK_PARTS_MAX];
	struct dk_rpm_dep	 obs[DK_PARTS_MAX];
	char			 vstr[24];	/* the build's version */
	size_t			 nobs;
	/* The names of the parts built now, for dk_builds_publish() */
	const char		*built[DK_PARTS_MAX];
	size_t			 nbuilt;
};

/*
 * The part (below n) of a domain whose policy is pol and keys dk: the
 * day in its rotate_every cycle its first track's newest published key
 * is due for a successor on, spread over the n parts.  0 for a domain
 * without a published key.
 */
unsigned dk_parts_slot(const struct dk_policy *pol,
	    const struct dk_domain_keys *dk, unsigned n);

/*
 * The private files of r split (r->privpart): p->main, and with
 * packaging.parts each part's files, a directory of dkim-keys-private
 * above one of them included (rpm lets packages share a directory of
 * the same owner and mode, and so a part installed first never makes
 * one root's 0755), and each part's SHA-256.  p is filled whole; free
 * it with dk_parts_dispose().
 */
int	dk_parts_split(const struct dk_render *r, const char *pre_user,
	    const char *pre_group, struct dk_parts *p);

/*
 * Each part's version in the build of version: the one of its newest
 * build when the ledger vouches for that build's bytes and the vault's
 * record says it installs what the part installs now, else version (and
 * then part.build).  The Obsoletes of every part not in use, when parts
 * are in use or the ledger holds a part (a site that turns parts off
 * must see the old ones go, not conflict with their files).  dir: the
 * private repository, where the builds are; the record is read from the
 * vault of lb->repo.
 */
int	dk_parts_plan(struct dk_parts *p, const struct dk_builds *lb,
	    const char *dir, size_t version);

/* Every part is built and ours (dk_parts_plan() found nothing to build). */
bool	dk_parts_built(const struct dk_parts *p);

/* The vault's record of what each part of p installs, atomically. */
int	dk_parts_save(const struct dk_parts *p, const char *repo);

void	dk_parts_dispose(struct dk_parts *p);

#endif
